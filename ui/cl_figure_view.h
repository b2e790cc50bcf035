/* On-screen figure: a thin widget over the shared cairo renderers (ui/plots/cl_figures.h).
 *
 * The loss and probe charts are instruments: hovering shows a crosshair naming every series'
 * value at that step; the mouse wheel zooms the step axis around the pointer (and is consumed:
 * it never reaches a control behind the chart); dragging a box zooms to it; a double click
 * resets. A small toolbar in the figure's corner holds the view toggles (log y and smoothing for
 * the loss, fitted y for the probes, reset zoom). All of it lives in the view options
 * (ClFigureOptions.view), which the renderers take as an immutable input, so export draws what
 * the screen shows. Properties for binding: "log-y", "fit-y", "smoothing", "zoomed" (read-only),
 * "show-toolbar". */
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
/* The view options in force (export draws with them too): zoom, log/fitted y, smoothing; not
 * the hover crosshair, which is drawn on screen only. The pointer stays valid and current. */
const ClFigureOptions *cl_figure_view_get_options (ClFigureView *view);
/* Earlier runs drawn faded and an A/B comparison (see ClFigureOptions); the arrays, snapshots
 * and labels are not copied and must outlive the next call (pass n_overlays 0 / NULL to clear).
 * Redraws. */
void cl_figure_view_set_comparison (ClFigureView *view, const ClSnapshot *const *overlays,
                                    const char *const *overlay_labels, int n_overlays, const ClSnapshot *compare,
                                    const char *label_a, const char *label_b);
/* Other runs of the shown run's configuration (other seeds), drawn by the probe figure as
 * mean +- std; not copied (as above). n = 0 clears. Redraws. */
/* What the figure shows now, in words: its caption, the step and, for the loss and probe figures,
 * the latest values. The view keeps its accessible description to this (updated at most once a
 * second). */
char *cl_figure_view_describe (ClFigureView *view);
void cl_figure_view_set_replicates (ClFigureView *view, const ClSnapshot *const *replicates, int n);
/* Takes a new reference; redraws. NULL shows an empty figure. */
void cl_figure_view_set_snapshot (ClFigureView *view, ClSnapshot *snap);

/* The chart instruments (loss and probe figures; ignored by the others). */
void cl_figure_view_set_log_y (ClFigureView *view, gboolean log_y);
gboolean cl_figure_view_get_log_y (ClFigureView *view);
void cl_figure_view_set_fit_y (ClFigureView *view, gboolean fit_y);
gboolean cl_figure_view_get_fit_y (ClFigureView *view);
/* EMA smoothing of the loss curves in [0, 0.99] (0.9 by default). */
void cl_figure_view_set_smoothing (ClFigureView *view, double smoothing);
double cl_figure_view_get_smoothing (ClFigureView *view);
/* Zoom: the step window [lo, hi] and, NaN for none, the left-axis window (log10 units on a log
 * axis). reset_zoom returns to the whole run. */
void cl_figure_view_zoom (ClFigureView *view, double x_lo, double x_hi, double y_lo, double y_hi);
void cl_figure_view_reset_zoom (ClFigureView *view);
gboolean cl_figure_view_get_zoomed (ClFigureView *view);
/* Where the loss or probe chart's plot and scales are in the view's coordinates (the figure is
 * drawn under the toolbar's strip); FALSE for other figures. */
gboolean cl_figure_view_chart_area (ClFigureView *view, ClFigureChartArea *area);
/* The crosshair at a step (NaN: none), as hovering does. */
void cl_figure_view_set_hover_step (ClFigureView *view, double step);
double cl_figure_view_get_hover_step (ClFigureView *view);

/* Number of figure draws so far, their mean and longest duration (GUI thread). */
void cl_figure_view_draw_stats (gint64 *count, double *mean_ms, double *max_ms);
G_END_DECLS
