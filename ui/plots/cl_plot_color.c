#include "ui/plots/cl_plot_color.h"

#include <math.h>

/* ---------------------------------------------------------------- colours */

static ClRgb
rgb8 (int r, int g, int b)
{
  return (ClRgb){ r / 255.0, g / 255.0, b / 255.0 };
}

ClRgb
cl_plot_okabe_ito (ClPlotOkabeIto which)
{
  switch (which)
    {
    case CL_PLOT_OI_ORANGE:
      return rgb8 (0xE6, 0x9F, 0x00);
    case CL_PLOT_OI_SKY_BLUE:
      return rgb8 (0x56, 0xB4, 0xE9);
    case CL_PLOT_OI_GREEN:
      return rgb8 (0x00, 0x9E, 0x73);
    case CL_PLOT_OI_YELLOW:
      return rgb8 (0xF0, 0xE4, 0x42);
    case CL_PLOT_OI_BLUE:
      return rgb8 (0x00, 0x72, 0xB2);
    case CL_PLOT_OI_VERMILLION:
      return rgb8 (0xD5, 0x5E, 0x00);
    case CL_PLOT_OI_PURPLE:
      return rgb8 (0xCC, 0x79, 0xA7);
    case CL_PLOT_OI_BLACK:
    case CL_PLOT_OI_COUNT:
    default:
      return rgb8 (0, 0, 0);
    }
}

ClRgb
cl_plot_series_color (int i)
{
  static const ClPlotOkabeIto order[] = {
    CL_PLOT_OI_BLUE,   CL_PLOT_OI_VERMILLION, CL_PLOT_OI_GREEN, CL_PLOT_OI_PURPLE,
    CL_PLOT_OI_ORANGE, CL_PLOT_OI_SKY_BLUE,   CL_PLOT_OI_BLACK, CL_PLOT_OI_YELLOW,
  };
  if (i < 0)
    i = 0;
  return cl_plot_okabe_ito (order[i % (int) G_N_ELEMENTS (order)]);
}

ClRgb
cl_plot_color_background (void)
{
  return rgb8 (0xFF, 0xFF, 0xFF);
}
ClRgb
cl_plot_color_text (void)
{
  return rgb8 (0x22, 0x22, 0x22);
}
ClRgb
cl_plot_color_muted (void)
{
  return rgb8 (0x80, 0x80, 0x80);
}
ClRgb
cl_plot_color_axis (void)
{
  return rgb8 (0x44, 0x44, 0x44);
}
ClRgb
cl_plot_color_grid (void)
{
  return rgb8 (0xE4, 0xE4, 0xE4);
}
ClRgb
cl_plot_color_marker (void)
{
  return rgb8 (0x5A, 0x5A, 0x5A);
}

void
cl_plot_set_rgb (cairo_t *cr, ClRgb c)
{
  cairo_set_source_rgb (cr, c.r, c.g, c.b);
}

void
cl_plot_set_rgba (cairo_t *cr, ClRgb c, double alpha)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
}

ClRgb
cl_plot_mix (ClRgb a, ClRgb b, double t)
{
  t = isnan (t) ? 0.0 : CLAMP (t, 0.0, 1.0);
  return (ClRgb){ a.r + t * (b.r - a.r), a.g + t * (b.g - a.g), a.b + t * (b.b - a.b) };
}

double
cl_plot_hue (ClRgb c)
{
  double hi = MAX (c.r, MAX (c.g, c.b)), lo = MIN (c.r, MIN (c.g, c.b));
  double chroma = hi - lo;
  if (!(chroma > 1e-9))
    return NAN;
  double h;
  if (hi == c.r)
    h = fmod ((c.g - c.b) / chroma, 6.0);
  else if (hi == c.g)
    h = (c.b - c.r) / chroma + 2.0;
  else
    h = (c.r - c.g) / chroma + 4.0;
  h *= 60.0;
  return h < 0.0 ? h + 360.0 : h;
}

static ClRgb
colormap_lookup (const unsigned char table[][3], int n, double t)
{
  if (isnan (t))
    return rgb8 (0x80, 0x80, 0x80);
  t = CLAMP (t, 0.0, 1.0) * (n - 1);
  int i = (int) floor (t);
  if (i >= n - 1)
    i = n - 2;
  double f = t - i;
  return (ClRgb){
    ((1 - f) * table[i][0] + f * table[i + 1][0]) / 255.0,
    ((1 - f) * table[i][1] + f * table[i + 1][1]) / 255.0,
    ((1 - f) * table[i][2] + f * table[i + 1][2]) / 255.0,
  };
}

ClRgb
cl_plot_colormap_viridis (double t)
{
  /* matplotlib's viridis sampled at 9 evenly spaced points */
  static const unsigned char table[][3] = {
    { 0x44, 0x01, 0x54 }, { 0x48, 0x28, 0x78 }, { 0x3E, 0x4A, 0x89 }, { 0x31, 0x68, 0x8E }, { 0x26, 0x82, 0x8E },
    { 0x1F, 0x9E, 0x89 }, { 0x35, 0xB7, 0x79 }, { 0x6D, 0xCD, 0x59 }, { 0xFD, 0xE7, 0x25 },
  };
  return colormap_lookup (table, G_N_ELEMENTS (table), t);
}

ClRgb
cl_plot_colormap_diverging (double t)
{
  /* ColorBrewer RdBu (9 classes), reversed so low values are blue */
  static const unsigned char table[][3] = {
    { 0x21, 0x66, 0xAC }, { 0x43, 0x93, 0xC3 }, { 0x92, 0xC5, 0xDE }, { 0xD1, 0xE5, 0xF0 }, { 0xF7, 0xF7, 0xF7 },
    { 0xFD, 0xDB, 0xC7 }, { 0xF4, 0xA5, 0x82 }, { 0xD6, 0x60, 0x4D }, { 0xB2, 0x18, 0x2B },
  };
  return colormap_lookup (table, G_N_ELEMENTS (table), t);
}
