#pragma once
#include <gtk/gtk.h>
#include "engine/base/cl_params.h"
#include "engine/store/cl_runs.h"
#include "engine/train/cl_trainer.h"
#include "app/cl_export.h"
#include "ui/cl_param_row.h"
#include "ui/plots/cl_figures.h"

G_BEGIN_DECLS
#define CL_TYPE_WINDOW (cl_window_get_type ())
G_DECLARE_FINAL_TYPE (ClWindow, cl_window, CL, WINDOW, GtkApplicationWindow)

/* Opens a window that starts training config at once. */
ClWindow *cl_window_new (GtkApplication *app, const ClConfig *config);
/* The same for config read from preset (a NAME, an .ini or an exported PNG; NULL: the default
 * preset): runs are named after it, and the live changes it carries (a PNG's contrastlab:events,
 * a run folder's events.csv) are replayed at their steps; a problem reading them is shown in the
 * window's error bar. */
ClWindow *cl_window_new_for_preset (GtkApplication *app, const ClConfig *config, const char *preset);
void cl_window_show_figure (ClWindow *win, ClFigureKind kind);
/* Exports the shown figure, or the dashboard, of the latest snapshot; the format comes from
 * path's extension (.png, .svg, .pdf), scale applies to PNG. Synchronous. */
gboolean cl_window_export (ClWindow *win, const char *path, gboolean dashboard, double scale, ClExportFlags flags,
                           GError **error);
/* What the export dialog does with the chosen file: exports on a worker thread, then shows
 * "Exported NAME" beside the status line, or a message dialog naming the file on failure. */
void cl_window_export_async (ClWindow *win, const char *path, gboolean dashboard, double scale, ClExportFlags flags);
/* Blocks until every export started by any window has finished writing (before exit). */
void cl_window_wait_for_exports (void);
/* Writes metrics.csv, probes.csv, clusters.csv and similarity.csv of the latest snapshot
 * into folder (see cl_export_csv_folder). */
gboolean cl_window_export_csv (ClWindow *win, const char *folder, ClExportFlags flags, GError **error);
/* Loads a preset NAME, an .ini file or an exported PNG, and restarts the run with it. */
gboolean cl_window_load (ClWindow *win, const char *name_or_file, GError **error);
/* Writes the current configuration as .ini (atomically). */
gboolean cl_window_save_config (ClWindow *win, const char *path, GError **error);
/* The run list. Every run of the window (each reset and restart too) is kept in the run store
 * ($CONTRASTLAB_DATA_DIR/runs, else the user data dir): begun when it starts, written every few
 * seconds and at its end. Runs are named by key: the store id for kept runs, the folder path
 * for runs opened from a folder. */
/* Adds the runs found under dir (cl_runs_scan_dir) to the list; what `--open DIR` and
 * "Open Runs Folder…" do. */
gboolean cl_window_open_runs_folder (ClWindow *win, const char *dir, GError **error);
/* Ticks or unticks a run: ticked runs are drawn as faded traces on the loss and probe charts. */
gboolean cl_window_set_run_overlay (ClWindow *win, const char *key, gboolean on, GError **error);
/* What the A and B drop-downs pick: the figures show run key_a (NULL: the live run), compared
 * with key_b (NULL: no comparison) on shared axes. */
gboolean cl_window_compare_runs (ClWindow *win, const char *key_a, const char *key_b, GError **error);
/* Shows the Runs page of the sidebar (TRUE) or the controls (FALSE). */
void cl_window_show_runs (ClWindow *win, gboolean show);
/* Shows a message in the window's error bar. */
void cl_window_show_error (ClWindow *win, const char *message);
G_END_DECLS
