#include "ui/plots/cl_plot_line.h"
#include "ui/plots/cl_plot_common.h"

#include <math.h>

/* ------------------------------------------------------------- smoothing */

void
cl_plot_ema_init (ClPlotEma *ema, double alpha)
{
  if (!(alpha >= 0.0))
    alpha = 0.0;
  if (alpha > 0.9999)
    alpha = 0.9999;
  ema->alpha = alpha;
  ema->acc = 0.0;
  ema->decay = 1.0;
}

double
cl_plot_ema_push (ClPlotEma *ema, double v)
{
  if (!isfinite (v))
    return NAN;
  ema->acc = ema->alpha * ema->acc + (1.0 - ema->alpha) * v;
  ema->decay *= ema->alpha;
  /* past this the correction is below rounding; letting decay sink into subnormal numbers
   * would make every later push dozens of times slower */
  if (ema->decay < 1e-20)
    ema->decay = 0.0;
  return ema->acc / (1.0 - ema->decay);
}

/* ---------------------------------------------------- decimated polylines */

/* Columns per point above which the envelope replaces the polyline: at 2 the polyline would
 * already carry up to 4 points per column, most of them zigzags cairo strokes slowly. */
#define ENVELOPE_POINTS_PER_COLUMN 2.0

void
cl_plot_line_begin (ClPlotLine *line, cairo_t *cr, double line_width)
{
  memset (line, 0, sizeof *line);
  line->cr = cr;
  line->line_width = line_width > 0.0 && isfinite (line_width) ? line_width : 1.0;
  double dx = 1.0, dy = 0.0;
  cairo_user_to_device_distance (cr, &dx, &dy);
  double device = hypot (dx, dy);
  line->column = device > 0.0 && isfinite (device) ? 1.0 / device : 1.0;
  double ox = 0.0, oy = 0.0;
  cairo_user_to_device (cr, &ox, &oy);
  line->offset = isfinite (ox) ? ox - floor (ox) : 0.0;
  line->columns = g_array_sized_new (FALSE, FALSE, sizeof (ClPlotColumn), 512);
}

void
cl_plot_line_add (ClPlotLine *line, double x, double y)
{
  if (!isfinite (x) || !isfinite (y))
    return;
  line->points++;
  double index = floor (x / line->column + line->offset);
  if (line->columns->len > 0)
    {
      ClPlotColumn *c = &g_array_index (line->columns, ClPlotColumn, line->columns->len - 1);
      if (c->index == index)
        {
          if (y < c->min_y)
            {
              c->min_y = y;
              c->min_x = x;
              c->min_at = c->count;
            }
          if (y > c->max_y)
            {
              c->max_y = y;
              c->max_x = x;
              c->max_at = c->count;
            }
          c->x_last = x;
          c->last_y = y;
          c->count++;
          return;
        }
    }
  ClPlotColumn c = {
    .x_first = x,
    .x_last = x,
    .first_y = y,
    .last_y = y,
    .min_x = x,
    .min_y = y,
    .max_x = x,
    .max_y = y,
    .count = 1,
    .min_at = 0,
    .max_at = 0,
    .index = index,
  };
  g_array_append_val (line->columns, c);
}

static void
line_emit (ClPlotLine *line, double x, double y)
{
  if (line->points_emitted > 0)
    cairo_line_to (line->cr, x, y);
  else
    cairo_move_to (line->cr, x, y);
  line->points_emitted++;
}

static void
line_emit_polyline (ClPlotLine *line)
{
  for (guint i = 0; i < line->columns->len; i++)
    {
      const ClPlotColumn *c = &g_array_index (line->columns, ClPlotColumn, i);
      line_emit (line, c->x_first, c->first_y);
      if (c->count == 1)
        continue;
      /* extremes in the order they happened, so the path still runs left to right */
      gboolean min_first = c->min_at <= c->max_at;
      long at[2] = { min_first ? c->min_at : c->max_at, min_first ? c->max_at : c->min_at };
      double xs[2] = { min_first ? c->min_x : c->max_x, min_first ? c->max_x : c->min_x };
      double ys[2] = { min_first ? c->min_y : c->max_y, min_first ? c->max_y : c->min_y };
      for (int k = 0; k < 2; k++)
        if (at[k] != 0 && at[k] != c->count - 1 && (k == 0 || at[1] != at[0]))
          line_emit (line, xs[k], ys[k]);
      line_emit (line, c->x_last, c->last_y);
    }
}

/* Vertical extent of column i including the segment arriving from the previous column, so
 * the envelope is as continuous as the polyline would be. */
static void
column_span (const GArray *columns, guint i, double *top, double *bottom)
{
  const ClPlotColumn *c = &g_array_index (columns, ClPlotColumn, i);
  *top = c->min_y;
  *bottom = c->max_y;
  if (i > 0)
    {
      double arriving = g_array_index (columns, ClPlotColumn, i - 1).last_y;
      *top = MIN (*top, arriving);
      *bottom = MAX (*bottom, arriving);
    }
}

/* Where column i's vertex goes on the upper (or lower) edge. A column that sticks out beyond
 * both neighbours (a spike) gets a flat top one device pixel wide instead of a single vertex,
 * or a one-step spike would be drawn as a needle of zero width and vanish. */
static void
envelope_vertex (ClPlotLine *line, guint i, gboolean upper, double first_x, double last_x)
{
  const GArray *columns = line->columns;
  const ClPlotColumn *c = &g_array_index (columns, ClPlotColumn, i);
  double half = 0.5 * line->line_width;
  double top, bottom, other_top, other_bottom;
  column_span (columns, i, &top, &bottom);
  double edge = upper ? top - half : bottom + half;
  gboolean sticks_out = TRUE;
  for (int side = -1; side <= 1; side += 2)
    {
      if ((side < 0 && i == 0) || (side > 0 && i + 1 >= columns->len))
        continue;
      column_span (columns, i + side, &other_top, &other_bottom);
      if (upper ? other_top <= top : other_bottom >= bottom)
        sticks_out = FALSE;
    }
  double left = (c->index - line->offset) * line->column;
  double right = left + line->column;
  left = CLAMP (left, first_x, last_x);
  right = CLAMP (right, first_x, last_x);
  if (sticks_out)
    {
      /* emitted left to right on the upper edge, right to left on the lower one */
      line_emit (line, upper ? left : right, edge);
      line_emit (line, upper ? right : left, edge);
    }
  else
    line_emit (line, 0.5 * (left + right), edge);
}

static void
line_emit_envelope (ClPlotLine *line)
{
  const GArray *columns = line->columns;
  double half = 0.5 * line->line_width;
  guint n = columns->len;
  double first_x = g_array_index (columns, ClPlotColumn, 0).x_first;
  double last_x = g_array_index (columns, ClPlotColumn, n - 1).x_last;
  double top, bottom;

  /* upper edge left to right (smaller y is higher on screen), lower edge back */
  column_span (columns, 0, &top, &bottom);
  line_emit (line, first_x, top - half);
  for (guint i = 0; i < n; i++)
    envelope_vertex (line, i, TRUE, first_x, last_x);
  column_span (columns, n - 1, &top, &bottom);
  line_emit (line, last_x, top - half);
  line_emit (line, last_x, bottom + half);
  for (guint i = n; i-- > 0;)
    envelope_vertex (line, i, FALSE, first_x, last_x);
  column_span (columns, 0, &top, &bottom);
  line_emit (line, first_x, bottom + half);
  cairo_close_path (line->cr);
}

gboolean
cl_plot_line_end (ClPlotLine *line)
{
  if (line->columns == NULL)
    return line->filled;
  guint n = line->columns->len;
  line->filled = n > 0 && line->points > ENVELOPE_POINTS_PER_COLUMN * n;
  if (line->filled)
    line_emit_envelope (line);
  else
    line_emit_polyline (line);
  g_array_free (line->columns, TRUE);
  line->columns = NULL;
  return line->filled;
}

void
cl_plot_line_draw (ClPlotLine *line)
{
  cairo_t *cr = line->cr;
  cairo_save (cr);
  if (cl_plot_line_end (line))
    cairo_fill (cr);
  else if (line->points_emitted == 1)
    {
      /* a single point strokes to nothing: show a dot */
      double x, y;
      cairo_get_current_point (cr, &x, &y);
      cairo_new_path (cr);
      cairo_arc (cr, x, y, 0.9 * line->line_width, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  else
    {
      cairo_set_line_width (cr, line->line_width);
      /* bevel: round joins cost cairo several times more and look the same at 2 px */
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}
