/* The pieces of a series/axis line chart that the loss, probe, geometry, sweep and
 * cluster-trend charts share:
 *  - ClPlotView: how a chart is looked at (zoom window, log or fitted y, smoothing, the hover
 *    crosshair, text scale), an immutable option the renderers take, so the screen and an
 *    export draw the same picture through one drawing path;
 *  - a y axis that may be logarithmic (ticks at 1-2-5 of each decade);
 *  - one function that draws a series as a line (solid, dashed for B of a comparison, faded for
 *    earlier runs; decimated to the device pixel columns), and one for a mean +- std band;
 *  - the hover crosshair with its readout of every series' value at that step;
 *  - the legend entries of other runs: faded earlier runs and the A/B comparison, written once.
 * Pure cairo. */
#pragma once
#include "ui/plots/cl_plot_common.h"
#include "ui/plots/cl_plot_theme.h"

/* ------------------------------------------------------------------- view */

typedef struct
{
  double x_lo, x_hi; /* zoom window on the x (step) axis; NaN: the data's extent */
  double y_lo, y_hi; /* zoom window on the (left) y axis; NaN: the chart's own range */
  gboolean log_y;    /* the loss on a log axis (values <= 0 are left out) */
  gboolean fit_y;    /* fit y to the data instead of the fixed 0..1 of an accuracy axis */
  double ema;        /* smoothing in [0, 1) (TensorBoard's slider); NaN: the chart's default */
  double hover_x;    /* x (step) of the crosshair; NaN: none */
  double font_scale; /* text scale; <= 0: 1 (cl_figures fits it to the width) */
} ClPlotView;

void cl_plot_view_init (ClPlotView *view);
/* TRUE when the x or y window is set. */
gboolean cl_plot_view_zoomed (const ClPlotView *view);
/* The chart's data range [*lo, *hi] narrowed to the view's x window (when it has one inside
 * the data range or overlapping it). */
void cl_plot_view_apply_x (const ClPlotView *view, double *lo, double *hi);
void cl_plot_view_apply_y (const ClPlotView *view, double *lo, double *hi);

/* The window a zoomed chart shows, in data units (log10 on a log axis); infinite bounds where
 * the view sets none (the axis then spans the data). */
typedef struct
{
  double x_lo, x_hi, y_lo, y_hi;
} ClPlotWindow;

/* The view's window on the x axis and on the (left) y axis. */
ClPlotWindow cl_plot_view_window (const ClPlotView *view);
/* TRUE when some of the series (xs[i], ys[i]) as a line draws it (consecutive finite points
 * joined, a lone point as a dot) lies in the window: what decides whether its legend entry is
 * in view. */
gboolean cl_plot_series_in_window (const double *xs, const double *ys, int n, const ClPlotWindow *window);

/* ------------------------------------------------------------ log y axis */

/* Ticks for a log10 axis over [lo, hi] (lo > 0): v[] holds log10 positions (the scale maps
 * log10 values), at 1, 2 and 5 times each power of ten when few decades are shown, else at the
 * powers; ticks->log10 is set so labels print the values themselves. Non-positive bounds are
 * repaired (lo from hi / 10). */
void cl_plot_ticks_compute_log (ClPlotTicks *ticks, double lo, double hi, int target_ticks);

/* ------------------------------------------------------------ the series */

typedef struct
{
  const ClPlotScale *x, *y;
  gboolean log_y; /* y values are mapped through log10 (non-positive ones skipped) */
} ClPlotAxes;

/* Where a data point lands (NaN when it cannot be drawn, e.g. <= 0 on a log axis). */
double cl_plot_axes_y (const ClPlotAxes *axes, double v);

typedef struct
{
  ClRgb color;
  double alpha; /* 1: opaque; earlier runs use the theme's overlay_alpha */
  double width;
  double dash_on, dash_off; /* 0: solid; else dashes of these lengths (B of a comparison) */
  gboolean break_gaps;      /* a NaN value breaks the line (sweeps); else it is skipped */
} ClPlotStroke;

/* A solid stroke of color and width. */
ClPlotStroke cl_plot_stroke (ClRgb color, double width);
/* The dashed stroke that marks B of an A/B comparison (4 on, 2.5 off, times the width). */
ClPlotStroke cl_plot_stroke_b (ClRgb color, double width);

/* Draws the series (xs[i], ys[i]) in data units, xs non-decreasing; non-finite values are
 * skipped (or break the line). Dense solid series are drawn as the decimator's filled envelope,
 * sparse ones as a polyline; dashed ones as the polyline (thinned to one point per device pixel
 * column when dense). A single point is drawn as a dot. Returns the number of finite points. */
int cl_plot_chart_line (cairo_t *cr, const ClPlotAxes *axes, const double *xs, const double *ys, int n,
                        const ClPlotStroke *stroke);

/* A filled band between lo[i] and hi[i] (mean - std, mean + std) at xs[i]; points where
 * either is not finite split the band. */
void cl_plot_chart_band (cairo_t *cr, const ClPlotAxes *axes, const double *xs, const double *lo, const double *hi,
                         int n, ClRgb color, double alpha);

/* ------------------------------------------------------------ crosshair */

typedef struct
{
  const char *label; /* series name */
  ClRgb color;
  double value; /* NaN: no value at that step ("-") */
  double y;     /* user y of the value's point (NaN: no dot) */
  int decimals;
} ClPlotReadout;

/* A vertical line across plot at user x, a dot at each readout's y, and a box beside the line
 * (on the side with more room) naming the step and every series' value. */
void cl_plot_crosshair_draw (cairo_t *cr, const ClPlotTheme *theme, const ClPlotRect *plot, double x,
                             const char *heading, const ClPlotReadout *readouts, int n);

/* ------------------------------------------------------------ other runs */

typedef struct
{
  int n_overlays;                /* earlier runs drawn faded */
  const char *overlays_label;    /* NULL: "N earlier runs (faded)" */
  ClRgb overlay_color;           /* the faded colour of the legend sample */
  gboolean compare;              /* an A/B comparison is drawn */
  const char *label_a, *label_b; /* NULL: "this run", "other run" */
  const char *a_marks, *b_marks; /* how A and B are told apart: "solid", "dashed, square points" */
  int n_replicates;              /* runs of the same configuration drawn as mean +- std */
  const char *replicates_label;  /* NULL: "mean ± std over N runs (band)" */
  ClRgb replicates_color;
  /* nothing of A, B, the band or the faded runs in a zoomed chart's window (legend entries
   * marked out of view) */
  gboolean a_out, b_out, replicates_out, overlays_out;
} ClPlotRuns;

typedef struct
{
  char overlays[128];
  char a[192], b[192];
  char replicates[128];
} ClPlotRunsText;

/* Appends the legend entries of the other runs (A, B, the replicates' band, the faded runs) to
 * entries (room for 4) and returns how many; their texts live in text. */
int cl_plot_runs_legend (const ClPlotRuns *runs, ClPlotRunsText *text, ClPlotLegendEntry *entries);
