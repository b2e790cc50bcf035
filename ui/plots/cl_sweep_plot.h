/* The sweep figure: final probe accuracy against the first swept key, one series per
 * combination of the other keys (the paper's RandBits figure: class accuracy vs bits, one line
 * per temperature). A numeric first key gives lines over a numeric x axis; a categorical one
 * (loss.kind) gives the grouped bar chart. Points not run yet are simply absent, so a live
 * sweep fills the figure in. One drawing path for the window, PNG export and the headless CLI. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include "ui/plots/cl_plot_common.h"
#include "engine/sweep/cl_sweep.h"

typedef struct
{
  const char *title;
  const char *y_label;
  const char *x_key;      /* first swept key (x axis title) */
  const char *series_key; /* the other keys, ", "-joined; NULL with one key */
  int n_x;
  const char *const *x_labels; /* n_x value texts */
  const double *x_values;      /* n_x numeric positions, or NULL: categorical (bars) */
  int n_series;
  const char *const *series_labels; /* n_series, e.g. "0.05" or "0.05, 3" */
  const double *values;             /* [x][series], NaN = no result (yet) */
  double reference;                 /* NaN = none; else a dashed line, e.g. chance */
  const char *reference_label;
  const char *note;               /* NULL or a line under the title, e.g. "6 of 15 points" */
  int running_x, running_series;  /* the point being trained (a hollow marker), -1 = none */
  const double *series_reference; /* NULL, or n_series chance levels drawn dashed in each series' colour
                                   * (when the series are probe targets; then reference is unused) */
  gboolean x_log;                 /* numeric x on a log scale (every x_value > 0) */
  const double *errors;           /* NULL, or [x][series] standard deviations: values are means over
                                   * seeds, drawn with error bars of +- one std */
  int n_seeds;                    /* seeds per point when errors is set (the most any point has) */
  const int *series_colors;       /* NULL, or n_series palette indices: probe targets keep the colour of
                                   * their place among the targets (as in the probe figure) when an
                                   * earlier one merges with another */
} ClSweepPlotData;

/* Where the line chart put things (for tests and hit testing). */
typedef struct
{
  gboolean lines; /* FALSE: drawn as grouped bars */
  ClPlotRect plot;
  ClPlotScale x, y;
  ClPlotTicks y_ticks;
} ClSweepPlotLayout;

void cl_sweep_plot_draw (cairo_t *cr, double width, double height, const ClSweepPlotData *data);
void cl_sweep_plot_draw_full (cairo_t *cr, double width, double height, const ClSweepPlotData *data,
                              ClSweepPlotLayout *layout);
/* Adapter for cl_png_export_figure: data is a const ClSweepPlotData *. */
void cl_sweep_plot_draw_cb (cairo_t *cr, double width, double height, gpointer data);
ClRgb cl_sweep_plot_series_color (int series);
/* The colour series is drawn in: its palette index in data->series_colors, else series'. */
ClRgb cl_sweep_plot_color_of (const ClSweepPlotData *data, int series);
/* The user-unit position of (x, series)'s value in a drawn line chart; FALSE if it has none. */
gboolean cl_sweep_plot_point (const ClSweepPlotLayout *layout, const ClSweepPlotData *data, int x, int series,
                              double *px, double *py);

/* The figure data of a sweep's rows: x = the first key's values, series = the combinations of
 * the others (in grid order), values = the final accuracy of target. target NULL = automatic:
 * with one swept key, every probe target is a series (the per-bit ones left out, and a target
 * whose values equal an earlier one's at every point merged into it, e.g. "class = large"), so
 * the figure shows what wins and what is suppressed; with more keys, "class".
 * A numeric first key whose values are all positive and span a factor of 64 or more (data.pool =
 * 1, 16, 256, 4096) gets a log x axis.
 * With train.seed swept (and another key), the seeds are not an axis of the figure: x is the
 * first other key, series the rest, and each point is the mean over the seeds
 * (cl_sweep_seed_stats, the numbers of sweep.csv's <target>_mean and <target>_std columns)
 * drawn with a +- std error bar; per-seed rows are aggregated here, so a live sweep draws the
 * seeds done so far.
 * running_point >= 0 marks that point. Free with cl_sweep_plot_data_free. */
ClSweepPlotData *cl_sweep_plot_data_new (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows,
                                         const char *target, int running_point);
void cl_sweep_plot_data_free (ClSweepPlotData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClSweepPlotData, cl_sweep_plot_data_free)

/* Export size of the figure. */
#define CL_SWEEP_PLOT_WIDTH 900
#define CL_SWEEP_PLOT_HEIGHT 520

/* Writes the sweep figure of rows (target as in cl_sweep_plot_data_new) as a PNG (atomically) with the metadata chunks
 * of DESIGN.md: Software, Title, contrastlab:config (the grid's base run.ini headed by "# sweep: SPECS") and
 * contrastlab:step (the base's train.steps). */
gboolean cl_sweep_plot_export_png (const char *path, const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows,
                                   const char *target, double scale, GError **error);
