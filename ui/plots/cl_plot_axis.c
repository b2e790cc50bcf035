#include "ui/plots/cl_plot_axis.h"
#include "ui/plots/cl_plot_common.h"

#include <math.h>

/* ------------------------------------------------------------------- axes */

/* Centre of the nearest device pixel (odd device widths) or the nearest device pixel edge
 * (even widths), so thin lines are crisp instead of smeared over two pixels. */
static double
snap (cairo_t *cr, double v, gboolean horizontal_coordinate, double line_width)
{
  double dx = horizontal_coordinate ? v : 0.0, dy = horizontal_coordinate ? 0.0 : v;
  cairo_user_to_device (cr, &dx, &dy);
  double ux = horizontal_coordinate ? line_width : 0.0, uy = horizontal_coordinate ? 0.0 : line_width;
  cairo_user_to_device_distance (cr, &ux, &uy);
  double device_width = fabs (horizontal_coordinate ? ux : uy);
  long pixels = lround (device_width);
  double *d = horizontal_coordinate ? &dx : &dy;
  if (pixels % 2 == 1)
    *d = floor (*d) + 0.5;
  else
    *d = round (*d);
  cairo_device_to_user (cr, &dx, &dy);
  return horizontal_coordinate ? dx : dy;
}

void
cl_plot_axis_style_init (ClPlotAxisStyle *style, double font_scale)
{
  if (!(font_scale > 0.0) || !isfinite (font_scale))
    font_scale = 1.0;
  style->tick_font = 11.0 * font_scale;
  style->title_font = 12.0 * font_scale;
  style->tick_length = 4.0 * font_scale;
  style->pad = 4.0 * font_scale;
  style->line_width = 1.0;
}

static double
max_label_width (cairo_t *cr, const ClPlotTicks *ticks)
{
  double widest = 0.0;
  for (int i = 0; i < ticks->n; i++)
    {
      char label[64];
      cl_plot_ticks_format (ticks, ticks->v[i], label, sizeof label);
      widest = MAX (widest, cl_plot_text_width (cr, label));
    }
  return widest;
}

double
cl_plot_axis_extent (cairo_t *cr, ClPlotSide side, const ClPlotTicks *ticks, const char *title,
                     const ClPlotAxisStyle *style)
{
  cairo_save (cr);
  cl_plot_font (cr, style->tick_font, FALSE);
  double labels = (side == CL_PLOT_SIDE_LEFT || side == CL_PLOT_SIDE_RIGHT) ? max_label_width (cr, ticks)
                                                                            : cl_plot_text_height (cr);
  double extent = style->tick_length + style->pad + labels;
  if (title != NULL && title[0] != '\0')
    {
      cl_plot_font (cr, style->title_font, FALSE);
      extent += style->pad + cl_plot_text_height (cr);
    }
  cairo_restore (cr);
  return extent + style->pad;
}

void
cl_plot_axis_draw (cairo_t *cr, const ClPlotRect *area, ClPlotSide side, const ClPlotScale *scale,
                   const ClPlotTicks *ticks, const char *title, const ClPlotAxisStyle *style, const ClRgb *label_color)
{
  gboolean vertical = side == CL_PLOT_SIDE_LEFT || side == CL_PLOT_SIDE_RIGHT;
  double outward = (side == CL_PLOT_SIDE_LEFT || side == CL_PLOT_SIDE_TOP) ? -1.0 : 1.0;
  double edge = side == CL_PLOT_SIDE_LEFT    ? area->x
                : side == CL_PLOT_SIDE_RIGHT ? area->x + area->w
                : side == CL_PLOT_SIDE_TOP   ? area->y
                                             : area->y + area->h;
  ClRgb text_color = label_color != NULL ? *label_color : cl_plot_color_text ();

  cairo_save (cr);
  cairo_set_line_width (cr, style->line_width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  double e = snap (cr, edge, !vertical, style->line_width);
  if (vertical)
    {
      cairo_move_to (cr, e, area->y);
      cairo_line_to (cr, e, area->y + area->h);
    }
  else
    {
      cairo_move_to (cr, area->x, e);
      cairo_line_to (cr, area->x + area->w, e);
    }
  for (int i = 0; i < ticks->n; i++)
    {
      double p = snap (cr, cl_plot_scale_map (scale, ticks->v[i]), vertical ? FALSE : TRUE, style->line_width);
      if (vertical)
        {
          cairo_move_to (cr, e, p);
          cairo_line_to (cr, e + outward * style->tick_length, p);
        }
      else
        {
          cairo_move_to (cr, p, e);
          cairo_line_to (cr, p, e + outward * style->tick_length);
        }
    }
  cairo_stroke (cr);

  cl_plot_set_rgb (cr, text_color);
  cl_plot_font (cr, style->tick_font, FALSE);
  double label_at = edge + outward * (style->tick_length + style->pad);
  double widest = max_label_width (cr, ticks);
  double label_height = cl_plot_text_height (cr);

  /* thin out labels along a horizontal axis when they would touch */
  int stride = 1;
  if (!vertical && ticks->n > 1)
    {
      double spacing = fabs (cl_plot_scale_map (scale, ticks->step) - cl_plot_scale_map (scale, 0.0));
      if (spacing > 0.0)
        stride = (int) ceil ((widest + 2.0 * style->pad) / spacing);
      stride = MAX (stride, 1);
    }
  for (int i = 0; i < ticks->n; i++)
    {
      if (stride > 1 && (long) llround (ticks->v[i] / ticks->step) % stride != 0)
        continue;
      char label[64];
      cl_plot_ticks_format (ticks, ticks->v[i], label, sizeof label);
      double p = cl_plot_scale_map (scale, ticks->v[i]);
      switch (side)
        {
        case CL_PLOT_SIDE_LEFT:
          cl_plot_text (cr, label_at, p, label, 1.0, 0.5, 0.0);
          break;
        case CL_PLOT_SIDE_RIGHT:
          cl_plot_text (cr, label_at, p, label, 0.0, 0.5, 0.0);
          break;
        case CL_PLOT_SIDE_BOTTOM:
          cl_plot_text (cr, p, label_at, label, 0.5, 0.0, 0.0);
          break;
        case CL_PLOT_SIDE_TOP:
          cl_plot_text (cr, p, label_at, label, 0.5, 1.0, 0.0);
          break;
        default:
          break;
        }
    }

  if (title != NULL && title[0] != '\0')
    {
      double beyond = label_at + outward * ((vertical ? widest : label_height) + style->pad);
      cl_plot_font (cr, style->title_font, FALSE);
      if (vertical)
        /* rotated a quarter turn counter-clockwise, the glyphs' "down" points right:
         * anchor the side facing the plot so the title grows away from the labels */
        cl_plot_text (cr, beyond, area->y + 0.5 * area->h, title, 0.5, side == CL_PLOT_SIDE_LEFT ? 1.0 : 0.0, G_PI / 2);
      else
        cl_plot_text (cr, area->x + 0.5 * area->w, beyond, title, 0.5, side == CL_PLOT_SIDE_BOTTOM ? 0.0 : 1.0, 0.0);
    }
  cairo_restore (cr);
}

double
cl_plot_axis_end_overhang (cairo_t *cr, const ClPlotTicks *ticks, const ClPlotAxisStyle *style)
{
  if (ticks->n <= 0)
    return 0.0;
  char label[64];
  cl_plot_ticks_format (ticks, ticks->v[ticks->n - 1], label, sizeof label);
  cairo_save (cr);
  cl_plot_font (cr, style->tick_font, FALSE);
  double half = 0.5 * cl_plot_text_width (cr, label);
  cairo_restore (cr);
  return half;
}

void
cl_plot_grid_draw (cairo_t *cr, const ClPlotRect *area, const ClPlotScale *x_scale, const ClPlotTicks *x_ticks,
                   const ClPlotScale *y_scale, const ClPlotTicks *y_ticks, double line_width)
{
  cairo_save (cr);
  cairo_set_line_width (cr, line_width);
  cl_plot_set_rgb (cr, cl_plot_color_grid ());
  if (x_scale != NULL && x_ticks != NULL)
    for (int i = 0; i < x_ticks->n; i++)
      {
        double x = snap (cr, cl_plot_scale_map (x_scale, x_ticks->v[i]), TRUE, line_width);
        cairo_move_to (cr, x, area->y);
        cairo_line_to (cr, x, area->y + area->h);
      }
  if (y_scale != NULL && y_ticks != NULL)
    for (int i = 0; i < y_ticks->n; i++)
      {
        double y = snap (cr, cl_plot_scale_map (y_scale, y_ticks->v[i]), FALSE, line_width);
        cairo_move_to (cr, area->x, y);
        cairo_line_to (cr, area->x + area->w, y);
      }
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
cl_plot_vmarker_draw (cairo_t *cr, const ClPlotRect *area, double x, ClRgb color, double line_width)
{
  double dash[2] = { 5.0 * line_width, 3.0 * line_width };
  cairo_save (cr);
  cairo_set_line_width (cr, line_width);
  cairo_set_dash (cr, dash, 2, 0.0);
  cl_plot_set_rgb (cr, color);
  double sx = snap (cr, x, TRUE, line_width);
  cairo_move_to (cr, sx, area->y);
  cairo_line_to (cr, sx, area->y + area->h);
  cairo_stroke (cr);
  cairo_restore (cr);
}

double
cl_plot_title_draw (cairo_t *cr, double width, double top, const char *title, double font_size, gboolean draw)
{
  if (title == NULL || title[0] == '\0')
    return 0.0;
  cairo_save (cr);
  cl_plot_font (cr, font_size, TRUE);
  double height = cl_plot_text_height (cr);
  if (draw)
    {
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, 0.5 * width, top, title, 0.5, 0.0, 0.0);
    }
  cairo_restore (cr);
  return height;
}

void
cl_plot_note_draw (cairo_t *cr, const ClPlotRect *area, const char *note, double font_size)
{
  cairo_save (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, font_size);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  cl_plot_text (cr, area->x + 0.5 * area->w, area->y + 0.5 * area->h, note, 0.5, 0.5, 0.0);
  cairo_restore (cr);
}

/* ------------------------------------------------------ points and references */

double
cl_plot_snap (cairo_t *cr, double v, gboolean vertical_line, double line_width)
{
  return snap (cr, v, vertical_line, line_width);
}

void
cl_plot_point_draw (cairo_t *cr, double x, double y, double radius, ClRgb color, gboolean hollow)
{
  if (!isfinite (x) || !isfinite (y) || !(radius > 0.0))
    return;
  cairo_save (cr);
  cairo_new_path (cr);
  if (hollow)
    {
      /* the ring is stroked on the circle, so shrink it to keep the same outer size */
      double ring = MAX (0.35 * radius, 1.0);
      cairo_arc (cr, x, y, MAX (radius - 0.5 * ring, 0.5 * ring), 0, 2 * G_PI);
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, ring);
      cl_plot_set_rgb (cr, color);
      cairo_stroke (cr);
    }
  else
    {
      cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
      cl_plot_set_rgb (cr, color);
      cairo_fill (cr);
    }
  cairo_restore (cr);
}

void
cl_plot_hmarker_draw (cairo_t *cr, const ClPlotRect *area, double y, ClRgb color, double line_width)
{
  if (!isfinite (y))
    return;
  double dash[2] = { 5.0 * line_width, 3.0 * line_width };
  cairo_save (cr);
  cairo_new_path (cr);
  cairo_set_line_width (cr, line_width);
  cairo_set_dash (cr, dash, 2, 0.0);
  cl_plot_set_rgb (cr, color);
  double sy = snap (cr, y, FALSE, line_width);
  cairo_move_to (cr, area->x, sy);
  cairo_line_to (cr, area->x + area->w, sy);
  cairo_stroke (cr);
  cairo_restore (cr);
}
