#include "ui/plots/cl_plot_theme.h"

#include <math.h>

ClPlotTheme
cl_plot_theme (double scale)
{
  if (!(scale > 0.0) || !isfinite (scale))
    scale = 1.0;
  scale = CLAMP (scale, 0.25, 8.0);
  ClPlotTheme t;
  t.scale = scale;
  t.pad = 8.0 * scale;
  t.gap = 10.0 * scale;
  cl_plot_axis_style_init (&t.axis, scale);
  t.title_font = 14.0 * scale;
  t.panel_title_font = 13.0 * scale;
  t.heading_font = 12.0 * scale;
  t.header_font = 11.5 * scale;
  t.legend_font = 11.0 * scale;
  t.label_font = 11.0 * scale;
  t.panel_legend_font = 10.5 * scale;
  t.small_font = 10.0 * scale;
  t.tiny_font = 9.5 * scale;
  t.note_font = 13.0 * scale;
  t.panel_note_font = 12.5 * scale;
  t.line_width = 1.8;
  t.raw_width = 1.0;
  t.point_radius = 3.2;
  t.sparse_line_width = 2.0;
  t.sparse_point_radius = 3.6;
  t.reference_width = 1.2;
  t.overlay_alpha = 0.3;
  t.overlay_width = 1.0;
  t.band_alpha = 0.22;
  return t;
}

double
cl_plot_theme_fit_scale (double width, double design_width)
{
  if (!(width > 0.0) || !(design_width > 0.0) || !isfinite (width) || !isfinite (design_width))
    return 1.0;
  double r = width / design_width;
  if (r >= 1.0)
    return 1.0;
  /* text shrinks more slowly than the figure: 0.6 of the width -> 0.72 of the text */
  return MAX (0.72, 1.0 - 0.7 * (1.0 - r));
}
