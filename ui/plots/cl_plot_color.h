/* Colours: the Okabe-Ito palette, series colours, the figure furniture colours, blending and
 * the heatmap colour maps.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <cairo.h>
#include <glib.h>

/* ---------------------------------------------------------------- colours */

typedef struct
{
  double r, g, b; /* sRGB, 0..1 */
} ClRgb;

/* The Okabe–Ito palette: distinguishable under the common colour-vision deficiencies. */
typedef enum
{
  CL_PLOT_OI_BLACK,
  CL_PLOT_OI_ORANGE,
  CL_PLOT_OI_SKY_BLUE,
  CL_PLOT_OI_GREEN,
  CL_PLOT_OI_YELLOW,
  CL_PLOT_OI_BLUE,
  CL_PLOT_OI_VERMILLION,
  CL_PLOT_OI_PURPLE,
  CL_PLOT_OI_COUNT
} ClPlotOkabeIto;

ClRgb cl_plot_okabe_ito (ClPlotOkabeIto which);

/* Colour for the i-th data series of any chart, i >= 0 (cycles after 7). The order puts
 * the colours that read well as thin lines on white first (yellow last). */
ClRgb cl_plot_series_color (int i);

/* Figure furniture, the same in every chart so exported figures look like one family. */
ClRgb cl_plot_color_background (void); /* figure and plot area fill */
ClRgb cl_plot_color_text (void);       /* titles, tick labels */
ClRgb cl_plot_color_muted (void);      /* notes such as "waiting for the first step" */
ClRgb cl_plot_color_axis (void);       /* spines and tick marks */
ClRgb cl_plot_color_grid (void);       /* gridlines */
ClRgb cl_plot_color_marker (void);     /* vertical event markers */

void cl_plot_set_rgb (cairo_t *cr, ClRgb c);

/* Linear blend in sRGB: a at t = 0, b at t = 1 (t clamped to [0, 1]). Blending with white,
 * black or any grey keeps the hue. */
ClRgb cl_plot_mix (ClRgb a, ClRgb b, double t);

/* Hue angle in degrees [0, 360) of the HSV model; NaN for greys (no hue). */
double cl_plot_hue (ClRgb c);
void cl_plot_set_rgba (cairo_t *cr, ClRgb c, double alpha);

/* Perceptually ordered colour maps for heatmaps, t in [0, 1] (clamped; NaN -> mid grey).
 * viridis: dark purple (0) -> yellow (1), for magnitudes.
 * diverging: blue (0) -> white (0.5) -> red (1), for signed values such as cosine similarity. */
ClRgb cl_plot_colormap_viridis (double t);
ClRgb cl_plot_colormap_diverging (double t);
