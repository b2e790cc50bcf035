/* Figure export and configuration restore, shared by the window and the headless CLI. */
#pragma once
#include <glib.h>
#include "engine/base/cl_params.h"
#include "engine/train/cl_snapshot.h"
#include "ui/plots/cl_figures.h"

/* Writes a figure of snap to path (PNG, atomically) at the given scale, with the
 * metadata chunks of DESIGN.md (Software, Title, contrastlab:config, contrastlab:step).
 * Replaces an existing file (the headless CLI re-runs into the same folder). */
gboolean cl_export_figure_png (const char *path, ClFigureKind kind, const ClSnapshot *snap, double scale,
                               GError **error);

gboolean cl_export_figure_png_with (const char *path, ClFigureKind kind, const ClSnapshot *snap,
                                    const ClFigureOptions *options, double scale, GError **error);

/* ------------------------------------------------------------------ formats */

typedef enum
{
  CL_EXPORT_PNG,
  CL_EXPORT_SVG,
  CL_EXPORT_PDF,
  CL_N_EXPORT_FORMATS
} ClExportFormat;

typedef enum
{
  CL_EXPORT_FLAGS_NONE = 0,
  /* Replace an existing regular file. Without it an existing target is refused with
   * G_FILE_ERROR_EXIST and left untouched (the check is atomic: the finished temp file is
   * hard-linked into place, which fails if the name was taken meanwhile). */
  CL_EXPORT_OVERWRITE = 1 << 0,
} ClExportFlags;

/* The format named by the file name's extension (.png, .svg, .pdf; any case). FALSE if none. */
gboolean cl_export_format_from_path (const char *path, ClExportFormat *format);
/* "png", "svg", "pdf". */
const char *cl_export_format_extension (ClExportFormat format);

/* One figure in any format. PNG: scale times the export size in pixels, with the metadata
 * chunks above. SVG: the same metadata as <title> and <desc> (the run.ini in desc). PDF: Title,
 * Creator and Subject in the document information. scale only affects PNG. Atomic: a failure
 * leaves neither the target nor a temp file; messages name the target. */
gboolean cl_export_figure (const char *path, ClExportFormat format, ClFigureKind kind, const ClSnapshot *snap,
                           const ClFigureOptions *options, double scale, ClExportFlags flags, GError **error);

/* The dashboard: every figure on one titled page, a 2-column grid. options[k] (or options
 * itself) may be NULL for defaults. */
void cl_export_dashboard_size (int *width, int *height);
void cl_export_draw_dashboard (cairo_t *cr, double width, double height, const ClSnapshot *snap,
                               const ClFigureOptions *const *options);
gboolean cl_export_dashboard (const char *path, ClExportFormat format, const ClSnapshot *snap,
                              const ClFigureOptions *const *options, double scale, ClExportFlags flags, GError **error);

/* The live dashboard the window shows by default, and what its "Export Dashboard…" writes: the
 * figures a researcher watches at once (CL_DASHBOARD_N_PANELS of them, cl_dashboard_panels, in a
 * 2 x 2 grid under a title line), each drawn by its own renderer at its cell's size. The export
 * size gives every cell a figure's export size (900 x 560). options[k] is indexed by ClFigureKind
 * (NULL for defaults). */
#define CL_DASHBOARD_N_PANELS 4
extern const ClFigureKind cl_dashboard_panels[CL_DASHBOARD_N_PANELS];
void cl_export_panels_size (int *width, int *height);
/* The cell of panel i (0 .. CL_DASHBOARD_N_PANELS-1) in a dashboard drawn at width x height. */
void cl_export_panel_rect (double width, double height, int i, double *x, double *y, double *w, double *h);
/* The panel under (x, y), as a figure kind, or -1. */
int cl_export_panel_hit (double width, double height, double x, double y);
void cl_export_draw_panels (cairo_t *cr, double width, double height, const ClSnapshot *snap,
                            const ClFigureOptions *const *options);
gboolean cl_export_panels (const char *path, ClExportFormat format, const ClSnapshot *snap,
                           const ClFigureOptions *const *options, double scale, ClExportFlags flags, GError **error);

/* ---------------------------------------------------------------------- CSV */

/* probes.csv text of a snapshot: step,target,accuracy,chance. */
char *cl_export_probes_csv (const ClSnapshot *snap);

/* clusters.csv text: step,layer,k,object_iou,instance_ari (layer pixels = raw-pixel baseline). */
char *cl_export_clusters_csv (const ClSnapshot *snap);

/* metrics.csv text of a snapshot (C locale). */
char *cl_export_metrics_csv (const ClSnapshot *snap);

/* similarity.csv text: the latest batch-similarity matrix, one row per embedding, labelled:
 * label,image,view,class,code,<one column per label>; label is "i<image>.v<view>" (views 1, 2).
 * Only the header when no matrix has been computed yet. */
char *cl_export_similarity_csv (const ClSnapshot *snap);

/* The CSV file names written by cl_export_csv_folder, NULL-terminated. */
extern const char *const cl_export_csv_names[];

/* Writes metrics.csv, probes.csv, clusters.csv and similarity.csv into folder (which must
 * exist). All four are written to temp files first and renamed only when all succeeded, so a
 * failure leaves none of them. Without CL_EXPORT_OVERWRITE, any existing one refuses all. */
gboolean cl_export_csv_folder (const char *folder, const ClSnapshot *snap, ClExportFlags flags, GError **error);

/* Names of those files that already exist in folder (NULL-terminated; free with g_strfreev). */
char **cl_export_csv_existing (const char *folder);

/* Writes contents to path atomically (temp file beside it, fsync, rename / link). */
gboolean cl_export_write_file (const char *path, const char *contents, gssize length, ClExportFlags flags,
                               GError **error);

/* cl_config_apply_preset (a preset NAME, .ini or exported PNG) lives in the engine now. */
#include "engine/store/cl_png_text.h"
