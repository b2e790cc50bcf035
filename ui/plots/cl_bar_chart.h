/* Grouped bar chart for sweeps: groups along x (e.g. loss kinds), one coloured bar per series
 * within a group (e.g. model.head_layers = 0 / 1 / 3), the value printed above each bar,
 * an optional dashed reference line (e.g. chance). Pure cairo, like every renderer in ui/plots. */
#pragma once
#include <cairo.h>
#include "ui/plots/cl_plot_common.h"

typedef struct
{
  const char *title;      /* NULL for none */
  const char *y_label;    /* y axis title, e.g. "class probe accuracy" */
  const char *group_key;  /* x axis title, e.g. "loss.kind" */
  const char *series_key; /* legend prefix, e.g. "model.head_layers" */
  int n_groups;
  const char *const *group_labels; /* n_groups labels under the groups */
  int n_series;
  const char *const *series_labels; /* n_series values of series_key, e.g. "0", "1", "3" */
  const double *values;             /* n_groups * n_series, row-major [group][series]; NaN = missing
                                     * (no bar, an "n/a" mark at the baseline) */
  double y_min, y_max;              /* NaN = automatic (0..1 when every value is in [0, 1]) */
  double reference;                 /* NaN = none; else a dashed horizontal line, e.g. chance */
  const char *reference_label;      /* legend text for the reference line ("chance"); NULL: "reference" */
  const int *series_colors;         /* NULL, or n_series palette indices (cl_bar_chart_series_color) */
} ClBarChartData;

/* Draws into (0,0)-(width,height) of cr. With n_series == 1 there is no series legend. */
void cl_bar_chart_draw (cairo_t *cr, double width, double height, const ClBarChartData *data);

/* Adapter for cl_png_export_figure and other "draw(cr, w, h, data)" callers: data is a
 * const ClBarChartData *. */
void cl_bar_chart_draw_cb (cairo_t *cr, double width, double height, gpointer data);

/* Colour of series i's bars (and legend swatch). */
ClRgb cl_bar_chart_series_color (int series);

/* Where cl_bar_chart_draw put things, in the caller's user units. */
typedef struct
{
  ClPlotRect plot;
  ClPlotScale y; /* value -> y */
  ClPlotTicks y_ticks;
  double baseline;               /* value the bars grow from (0, or the axis end when 0 is off the axis) */
  double group_width;            /* plot.w / n_groups */
  double bar_width, bar_gap;     /* one bar, and the gap between bars of a group */
  int value_decimals;            /* digits of the printed values */
  gboolean value_labels_rotated; /* values printed vertically (bars too narrow) */
  gboolean group_labels_rotated;
} ClBarChartLayout;

/* The bar of (group, series) in the layout of a drawn chart: its x extent, and its y
 * extent from the baseline to the value clamped to the axis (h = 0 when the value is NaN). */
void cl_bar_chart_bar_rect (const ClBarChartLayout *layout, const ClBarChartData *data, int group, int series,
                            ClPlotRect *rect);

void cl_bar_chart_draw_full (cairo_t *cr, double width, double height, const ClBarChartData *data,
                             ClBarChartLayout *layout);
