/* Figure export and configuration restore, shared by the window and the headless CLI. */
#pragma once
#include <glib.h>
#include "engine/cl_params.h"
#include "engine/cl_snapshot.h"
#include "ui/plots/cl_figures.h"

/* Writes a figure of snap to path (PNG, atomically) at the given scale, with the
 * metadata chunks of DESIGN.md (Software, Title, contrastlab:config, contrastlab:step). */
gboolean cl_export_figure_png (const char *path, ClFigureKind kind, const ClSnapshot *snap, double scale,
                               GError **error);

gboolean cl_export_figure_png_with (const char *path, ClFigureKind kind, const ClSnapshot *snap,
                                    const ClFigureOptions *options, double scale, GError **error);

/* Applies a preset: a NAME from the presets folder, an .ini file, or a PNG exported by the app
 * (its contrastlab:config chunk). */
gboolean cl_config_apply_preset (ClConfig *cfg, const char *name_or_file, GError **error);

/* probes.csv text of a snapshot: step,target,accuracy,chance. */
char *cl_export_probes_csv (const ClSnapshot *snap);

/* clusters.csv text: step,layer,k,object_iou,instance_ari (layer pixels = raw-pixel baseline). */
char *cl_export_clusters_csv (const ClSnapshot *snap);

/* metrics.csv text of a snapshot (C locale). */
char *cl_export_metrics_csv (const ClSnapshot *snap);
