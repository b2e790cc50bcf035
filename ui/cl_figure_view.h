/* On-screen figure: a thin widget over the shared cairo renderers (ui/plots/cl_figures.h). */
#pragma once
#include <gtk/gtk.h>
#include "engine/train/cl_snapshot.h"
#include "ui/plots/cl_figures.h"

G_BEGIN_DECLS
#define CL_TYPE_FIGURE_VIEW (cl_figure_view_get_type ())
G_DECLARE_FINAL_TYPE (ClFigureView, cl_figure_view, CL, FIGURE_VIEW, GtkWidget)

GtkWidget *cl_figure_view_new (ClFigureKind kind);
ClFigureKind cl_figure_view_get_kind (ClFigureView *view);
void cl_figure_view_set_sim_order (ClFigureView *view, ClSimOrder order);
/* The view options in force (export draws with them too). */
const ClFigureOptions *cl_figure_view_get_options (ClFigureView *view);
/* Earlier runs drawn faded and an A/B comparison (see ClFigureOptions); the arrays, snapshots
 * and labels are not copied and must outlive the next call (pass n_overlays 0 / NULL to clear).
 * Redraws. */
void cl_figure_view_set_comparison (ClFigureView *view, const ClSnapshot *const *overlays,
                                    const char *const *overlay_labels, int n_overlays, const ClSnapshot *compare,
                                    const char *label_a, const char *label_b);
/* Takes a new reference; redraws. NULL shows an empty figure. */
void cl_figure_view_set_snapshot (ClFigureView *view, ClSnapshot *snap);
/* Number of figure draws so far, their mean and longest duration (GUI thread). */
void cl_figure_view_draw_stats (gint64 *count, double *mean_ms, double *max_ms);
G_END_DECLS
