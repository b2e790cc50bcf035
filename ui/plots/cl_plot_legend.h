/* Legends: entries (line, swatch, dashed, point samples) laid out as centred rows that wrap.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <cairo.h>
#include "ui/plots/cl_plot_color.h"

/* ----------------------------------------------------------------- legend */

typedef enum
{
  CL_PLOT_LEGEND_LINE,        /* short line sample, for curves */
  CL_PLOT_LEGEND_SWATCH,      /* filled square, for bars and areas */
  CL_PLOT_LEGEND_DASHED,      /* dashed line sample, for markers or reference lines */
  CL_PLOT_LEGEND_LINE_POINT,  /* line with a filled point marker, for sparse measurements */
  CL_PLOT_LEGEND_HOLLOW_POINT /* a hollow point marker alone (drawn in the entry's colour) */
} ClPlotLegendKind;

typedef struct
{
  const char *label;
  ClRgb color;
  ClPlotLegendKind kind;
  double line_width; /* for line samples */
  /* Nothing of the entry is inside a zoomed chart's window: the entry stays (the legend does not
   * jump while zooming) but is drawn faint, its label followed by CL_PLOT_LEGEND_OUT_SUFFIX. */
  gboolean out_of_view;
} ClPlotLegendEntry;

#define CL_PLOT_LEGEND_OUT_SUFFIX " (not in view)"

/* The legend is laid out as centred rows that wrap within max_width. measure returns the
 * height it needs; draw puts it with its top at y, centred on centre_x, and returns the same
 * height. */
double cl_plot_legend_measure (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double max_width,
                               double font_size);
double cl_plot_legend_draw (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double centre_x, double y,
                            double max_width, double font_size);
