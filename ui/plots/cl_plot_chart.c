#include "ui/plots/cl_plot_chart.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------- view */

void
cl_plot_view_init (ClPlotView *view)
{
  view->x_lo = view->x_hi = NAN;
  view->y_lo = view->y_hi = NAN;
  view->log_y = FALSE;
  view->fit_y = FALSE;
  view->ema = NAN;
  view->hover_x = NAN;
  view->font_scale = 0.0;
}

gboolean
cl_plot_view_zoomed (const ClPlotView *view)
{
  return view != NULL && ((isfinite (view->x_lo) && isfinite (view->x_hi) && view->x_lo < view->x_hi) ||
                          (isfinite (view->y_lo) && isfinite (view->y_hi) && view->y_lo < view->y_hi));
}

static void
apply_window (double w_lo, double w_hi, double *lo, double *hi)
{
  if (!isfinite (w_lo) || !isfinite (w_hi) || !(w_lo < w_hi))
    return;
  *lo = w_lo;
  *hi = w_hi;
}

void
cl_plot_view_apply_x (const ClPlotView *view, double *lo, double *hi)
{
  if (view != NULL)
    apply_window (view->x_lo, view->x_hi, lo, hi);
}

void
cl_plot_view_apply_y (const ClPlotView *view, double *lo, double *hi)
{
  if (view != NULL)
    apply_window (view->y_lo, view->y_hi, lo, hi);
}

ClPlotWindow
cl_plot_view_window (const ClPlotView *view)
{
  ClPlotWindow w = { -INFINITY, INFINITY, -INFINITY, INFINITY };
  cl_plot_view_apply_x (view, &w.x_lo, &w.x_hi);
  cl_plot_view_apply_y (view, &w.y_lo, &w.y_hi);
  return w;
}

static gboolean
point_in_window (double x, double y, const ClPlotWindow *w)
{
  return x >= w->x_lo && x <= w->x_hi && y >= w->y_lo && y <= w->y_hi;
}

/* Liang-Barsky: does the segment (x0, y0)-(x1, y1) meet the window? */
static gboolean
segment_in_window (double x0, double y0, double x1, double y1, const ClPlotWindow *w)
{
  double t0 = 0.0, t1 = 1.0, dx = x1 - x0, dy = y1 - y0;
  double p[4] = { -dx, dx, -dy, dy };
  double q[4] = { x0 - w->x_lo, w->x_hi - x0, y0 - w->y_lo, w->y_hi - y0 };
  for (int i = 0; i < 4; i++)
    {
      if (p[i] == 0.0)
        {
          if (q[i] < 0.0)
            return FALSE;
          continue;
        }
      double t = q[i] / p[i];
      if (p[i] < 0.0)
        t0 = MAX (t0, t);
      else
        t1 = MIN (t1, t);
      if (t0 > t1)
        return FALSE;
    }
  return TRUE;
}

gboolean
cl_plot_series_in_window (const double *xs, const double *ys, int n, const ClPlotWindow *window)
{
  double px = NAN, py = NAN;
  for (int i = 0; i < n; i++)
    {
      if (!isfinite (xs[i]) || !isfinite (ys[i]))
        continue;
      if (point_in_window (xs[i], ys[i], window))
        return TRUE;
      if (isfinite (px) && segment_in_window (px, py, xs[i], ys[i], window))
        return TRUE;
      px = xs[i];
      py = ys[i];
    }
  return FALSE;
}

/* ------------------------------------------------------------ log y axis */

void
cl_plot_ticks_compute_log (ClPlotTicks *ticks, double lo, double hi, int target_ticks)
{
  memset (ticks, 0, sizeof *ticks);
  if (!(hi > 0.0) || !isfinite (hi))
    hi = 1.0;
  if (!(lo > 0.0) || !isfinite (lo) || lo >= hi)
    lo = hi / 10.0;
  double a = log10 (lo), b = log10 (hi);
  /* the axis ends at 1-2-5 values around the data */
  static const double mantissa[] = { 1.0, 2.0, 5.0 };
  /* 1e-6 decades forgive a value a rounding error past a power of ten */
  double first = floor (a + 1e-6), last = ceil (b - 1e-6);
  double decades = last - first;
  gboolean fine = decades <= MAX (target_ticks, 2) / 2.5;
  double axis_lo = first, axis_hi = last;
  if (fine)
    {
      for (int m = 2; m >= 0; m--)
        if (first + log10 (mantissa[m]) <= a + 1e-9)
          {
            axis_lo = first + log10 (mantissa[m]);
            break;
          }
      for (int m = 0; m < 3; m++)
        if (last - 1.0 + log10 (mantissa[m]) >= b - 1e-9)
          {
            axis_hi = last - 1.0 + log10 (mantissa[m]);
            break;
          }
    }
  ticks->lo = axis_lo;
  ticks->hi = axis_hi;
  ticks->log10 = TRUE;
  ticks->step = 1.0;
  int every = fine ? 1 : MAX (1, (int) ceil (decades / MAX (target_ticks, 1)));
  for (double e = first; e <= last + 1e-9 && ticks->n < CL_PLOT_MAX_TICKS; e += 1.0)
    for (int m = 0; m < (fine ? 3 : 1); m++)
      {
        double v = e + log10 (mantissa[m]);
        if (!fine && ((long) (e - first)) % every != 0)
          continue;
        if (v >= axis_lo - 1e-9 && v <= axis_hi + 1e-9 && ticks->n < CL_PLOT_MAX_TICKS)
          ticks->v[ticks->n++] = v;
      }
  ticks->decimals = 0;
}

/* ------------------------------------------------------------ the series */

double
cl_plot_axes_y (const ClPlotAxes *axes, double v)
{
  if (!isfinite (v))
    return NAN;
  if (axes->log_y)
    {
      if (!(v > 0.0))
        return NAN;
      v = log10 (v);
    }
  return cl_plot_scale_map (axes->y, v);
}

ClPlotStroke
cl_plot_stroke (ClRgb color, double width)
{
  return (ClPlotStroke){ color, 1.0, width, 0.0, 0.0, FALSE };
}

ClPlotStroke
cl_plot_stroke_b (ClRgb color, double width)
{
  return (ClPlotStroke){ color, 1.0, width, 4.0 * width, 2.5 * width, FALSE };
}

static void
set_source (cairo_t *cr, const ClPlotStroke *s)
{
  if (s->alpha >= 1.0)
    cl_plot_set_rgb (cr, s->color);
  else
    cl_plot_set_rgba (cr, s->color, s->alpha);
}

/* A dashed series: a plain path through the points, thinned to one point per device column
 * (which it cannot tell apart from the full polyline) so that dense data stay cheap. */
static int
dashed_line (cairo_t *cr, const ClPlotAxes *axes, const double *xs, const double *ys, int n, const ClPlotStroke *s)
{
  double ux = 1.0, uy = 0.0;
  cairo_user_to_device_distance (cr, &ux, &uy);
  double column = 1.0 / MAX (hypot (ux, uy), 1e-6);
  double last_x = -INFINITY, pending_x = NAN, pending_y = NAN;
  gboolean drawing = FALSE;
  int points = 0;
  cairo_new_path (cr);
  for (int i = 0; i < n; i++)
    {
      double y = cl_plot_axes_y (axes, ys[i]);
      if (!isfinite (y) || !isfinite (xs[i]))
        {
          if (s->break_gaps && drawing)
            {
              if (isfinite (pending_x))
                cairo_line_to (cr, pending_x, pending_y);
              pending_x = NAN;
              drawing = FALSE;
            }
          continue;
        }
      points++;
      double x = cl_plot_scale_map (axes->x, xs[i]);
      if (!drawing)
        {
          cairo_move_to (cr, x, y);
          drawing = TRUE;
          last_x = x;
          continue;
        }
      if (x - last_x >= column)
        {
          cairo_line_to (cr, x, y);
          last_x = x;
          pending_x = NAN;
        }
      else
        {
          pending_x = x;
          pending_y = y;
        }
    }
  if (isfinite (pending_x))
    cairo_line_to (cr, pending_x, pending_y);
  double dash[2] = { s->dash_on, s->dash_off };
  cairo_save (cr);
  set_source (cr, s);
  cairo_set_dash (cr, dash, 2, 0.0);
  cairo_set_line_width (cr, s->width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
  cairo_restore (cr);
  return points;
}

int
cl_plot_chart_line (cairo_t *cr, const ClPlotAxes *axes, const double *xs, const double *ys, int n,
                    const ClPlotStroke *s)
{
  if (n <= 0 || xs == NULL || ys == NULL)
    return 0;
  if (s->dash_on > 0.0)
    return dashed_line (cr, axes, xs, ys, n, s);
  if (s->break_gaps)
    {
      /* a few measured points: a plain polyline broken where a value is missing */
      int points = 0;
      gboolean open = FALSE;
      cairo_save (cr);
      set_source (cr, s);
      cairo_new_path (cr);
      cairo_set_line_width (cr, s->width);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      for (int i = 0; i < n; i++)
        {
          double y = cl_plot_axes_y (axes, ys[i]);
          if (!isfinite (y) || !isfinite (xs[i]))
            {
              open = FALSE;
              continue;
            }
          double x = cl_plot_scale_map (axes->x, xs[i]);
          if (open)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          open = TRUE;
          points++;
        }
      cairo_stroke (cr);
      cairo_restore (cr);
      return points;
    }
  /* the scales as x -> a*x + b: this loop runs for every logged step, every frame */
  const ClPlotScale *X = axes->x, *Y = axes->y;
  double xa = (X->p1 - X->p0) / (X->d1 - X->d0), xb = X->p0 - xa * X->d0;
  double ya = (Y->p1 - Y->p0) / (Y->d1 - Y->d0), yb = Y->p0 - ya * Y->d0;
  cairo_save (cr);
  set_source (cr, s);
  ClPlotLine line;
  cl_plot_line_begin (&line, cr, s->width);
  for (int i = 0; i < n; i++)
    {
      double v = ys[i];
      if (axes->log_y)
        v = v > 0.0 ? log10 (v) : NAN;
      cl_plot_line_add (&line, xa * xs[i] + xb, ya * v + yb);
    }
  int points = (int) line.points;
  cl_plot_line_draw (&line);
  cairo_restore (cr);
  return points;
}

void
cl_plot_chart_band (cairo_t *cr, const ClPlotAxes *axes, const double *xs, const double *lo, const double *hi, int n,
                    ClRgb color, double alpha)
{
  cairo_save (cr);
  cl_plot_set_rgba (cr, color, alpha);
  int start = 0;
  while (start < n)
    {
      /* one polygon per run of points where both edges are drawable */
      while (start < n && !(isfinite (xs[start]) && isfinite (cl_plot_axes_y (axes, lo[start])) &&
                            isfinite (cl_plot_axes_y (axes, hi[start]))))
        start++;
      int end = start;
      while (end < n && isfinite (xs[end]) && isfinite (cl_plot_axes_y (axes, lo[end])) &&
             isfinite (cl_plot_axes_y (axes, hi[end])))
        end++;
      if (end - start >= 2)
        {
          cairo_new_path (cr);
          for (int i = start; i < end; i++)
            cairo_line_to (cr, cl_plot_scale_map (axes->x, xs[i]), cl_plot_axes_y (axes, hi[i]));
          for (int i = end - 1; i >= start; i--)
            cairo_line_to (cr, cl_plot_scale_map (axes->x, xs[i]), cl_plot_axes_y (axes, lo[i]));
          cairo_close_path (cr);
          cairo_fill (cr);
        }
      else if (end - start == 1)
        {
          /* a lone measurement: an error bar */
          double x = cl_plot_scale_map (axes->x, xs[start]);
          cairo_new_path (cr);
          cairo_rectangle (cr, x - 2.0, cl_plot_axes_y (axes, hi[start]), 4.0,
                           cl_plot_axes_y (axes, lo[start]) - cl_plot_axes_y (axes, hi[start]));
          cairo_fill (cr);
        }
      start = MAX (end, start + 1);
    }
  cairo_restore (cr);
}

/* ------------------------------------------------------------ crosshair */

void
cl_plot_crosshair_draw (cairo_t *cr, const ClPlotTheme *theme, const ClPlotRect *plot, double x, const char *heading,
                        const ClPlotReadout *r, int n)
{
  if (!isfinite (x) || x < plot->x - 0.5 || x > plot->x + plot->w + 0.5)
    return;
  cairo_save (cr);
  cairo_new_path (cr);
  double sx = cl_plot_snap (cr, x, TRUE, 1.0);
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgba (cr, cl_plot_color_axis (), 0.7);
  cairo_move_to (cr, sx, plot->y);
  cairo_line_to (cr, sx, plot->y + plot->h);
  cairo_stroke (cr);
  for (int i = 0; i < n; i++)
    if (isfinite (r[i].y) && r[i].y >= plot->y - 1.0 && r[i].y <= plot->y + plot->h + 1.0)
      {
        cl_plot_point_draw (cr, x, r[i].y, theme->point_radius + 0.8, cl_plot_color_background (), FALSE);
        cl_plot_point_draw (cr, x, r[i].y, theme->point_radius, r[i].color, FALSE);
      }

  /* the readout: "step 120" then one "■ label  value" line per series */
  double font = theme->small_font;
  cl_plot_font (cr, font, FALSE);
  double line_h = cl_plot_text_height (cr) * 1.2;
  double swatch = 0.7 * cl_plot_text_height (cr);
  double label_w = 0.0, value_w = 0.0;
  typedef char Value[48];
  Value *values = g_new0 (Value, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      if (isfinite (r[i].value))
        cl_plot_format_number (r[i].value, r[i].decimals, values[i], sizeof values[i]);
      else
        g_strlcpy (values[i], "\xE2\x80\x93", sizeof values[i]);
      label_w = MAX (label_w, cl_plot_text_width (cr, r[i].label));
      value_w = MAX (value_w, cl_plot_text_width (cr, values[i]));
    }
  cl_plot_font (cr, font, TRUE);
  double heading_w = heading ? cl_plot_text_width (cr, heading) : 0.0;
  double inner = theme->pad * 0.75;
  double box_w = MAX (heading_w, swatch + inner + label_w + 2.0 * inner + value_w) + 2.0 * inner;
  double box_h = (n + (heading ? 1 : 0)) * line_h + 2.0 * inner - (line_h - cl_plot_text_height (cr));
  double gap = theme->pad;
  double bx = x + gap;
  if (bx + box_w > plot->x + plot->w && x - gap - box_w >= plot->x)
    bx = x - gap - box_w;
  bx = MAX (plot->x, MIN (bx, plot->x + plot->w - box_w));
  double by = plot->y + theme->pad;
  cairo_rectangle (cr, bx, by, box_w, box_h);
  cl_plot_set_rgba (cr, cl_plot_color_background (), 0.92);
  cairo_fill_preserve (cr);
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgb (cr, cl_plot_color_grid ());
  cairo_stroke (cr);
  double ty = by + inner;
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  if (heading)
    {
      cl_plot_text (cr, bx + inner, ty, heading, 0.0, 0.0, 0.0);
      ty += line_h;
    }
  cl_plot_font (cr, font, FALSE);
  for (int i = 0; i < n; i++)
    {
      double h = cl_plot_text_height (cr);
      cl_plot_set_rgb (cr, r[i].color);
      cairo_rectangle (cr, bx + inner, ty + 0.5 * (h - swatch), swatch, swatch);
      cairo_fill (cr);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, bx + inner + swatch + inner, ty, r[i].label, 0.0, 0.0, 0.0);
      cl_plot_text (cr, bx + box_w - inner, ty, values[i], 1.0, 0.0, 0.0);
      ty += line_h;
    }
  g_free (values);
  cairo_restore (cr);
}

/* ------------------------------------------------------------ other runs */

int
cl_plot_runs_legend (const ClPlotRuns *runs, ClPlotRunsText *text, ClPlotLegendEntry *entries)
{
  int n = 0;
  if (runs->compare)
    {
      /* the line style, not the colour, tells A from B */
      g_snprintf (text->a, sizeof text->a, "A (%s): %s", runs->a_marks ? runs->a_marks : "solid",
                  runs->label_a ? runs->label_a : "this run");
      g_snprintf (text->b, sizeof text->b, "B (%s): %s", runs->b_marks ? runs->b_marks : "dashed",
                  runs->label_b ? runs->label_b : "other run");
      entries[n++] = (ClPlotLegendEntry){ text->a, cl_plot_color_text (), CL_PLOT_LEGEND_LINE, 2.0, runs->a_out };
      entries[n++] = (ClPlotLegendEntry){ text->b, cl_plot_color_text (), CL_PLOT_LEGEND_DASHED, 2.0, runs->b_out };
    }
  if (runs->n_replicates > 0)
    {
      if (runs->replicates_label)
        g_strlcpy (text->replicates, runs->replicates_label, sizeof text->replicates);
      else
        g_snprintf (text->replicates, sizeof text->replicates, "mean \xC2\xB1 std over %d runs (band)",
                    runs->n_replicates);
      entries[n++] = (ClPlotLegendEntry){ text->replicates, runs->replicates_color, CL_PLOT_LEGEND_SWATCH, 0.0,
                                          runs->replicates_out };
    }
  if (runs->n_overlays > 0)
    {
      if (runs->overlays_label)
        g_strlcpy (text->overlays, runs->overlays_label, sizeof text->overlays);
      else
        g_snprintf (text->overlays, sizeof text->overlays, "%d earlier run%s (faded)", runs->n_overlays,
                    runs->n_overlays == 1 ? "" : "s");
      entries[n++] = (ClPlotLegendEntry){ text->overlays, runs->overlay_color, CL_PLOT_LEGEND_LINE,
                                          cl_plot_theme (1.0).overlay_width, runs->overlays_out };
    }
  return n;
}
