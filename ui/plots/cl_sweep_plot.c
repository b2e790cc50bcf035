#include "ui/plots/cl_sweep_plot.h"
#include "ui/plots/cl_plot_chart.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#include "ui/plots/cl_bar_chart.h"
#include "cl_config.h"
#include "ui/cl_png.h"

#define MAX_LEGEND 24

ClRgb
cl_sweep_plot_series_color (int series)
{
  /* The same colours as the bar form, so a categorical sweep and a numeric one read alike. */
  return cl_bar_chart_series_color (series);
}

ClRgb
cl_sweep_plot_color_of (const ClSweepPlotData *d, int series)
{
  return cl_sweep_plot_series_color (d->series_colors != NULL ? d->series_colors[series] : series);
}

static double
value_at (const ClSweepPlotData *d, int x, int s)
{
  return d->values ? d->values[(size_t) x * d->n_series + s] : NAN;
}

static gboolean
usable (const ClSweepPlotData *d)
{
  return d != NULL && d->n_x > 0 && d->n_series > 0;
}

/* One whisker: a vertical line from y0 to y1 at x with caps half_cap wide. */
static void
whisker (cairo_t *cr, double x, double y0, double y1, double half_cap)
{
  /* crisp caps: on device pixel rows */
  double w = cairo_get_line_width (cr);
  y0 = cl_plot_snap (cr, y0, FALSE, w);
  y1 = cl_plot_snap (cr, y1, FALSE, w);
  cairo_move_to (cr, x, y0);
  cairo_line_to (cr, x, y1);
  cairo_move_to (cr, x - half_cap, y0);
  cairo_line_to (cr, x + half_cap, y0);
  cairo_move_to (cr, x - half_cap, y1);
  cairo_line_to (cr, x + half_cap, y1);
}

/* Bars for a categorical first key: the grouped bar chart, drawn from the same data. */
static void
draw_bars (cairo_t *cr, double width, double height, const ClSweepPlotData *d)
{
  g_autofree char *title = NULL;
  if (d->note && d->title)
    title = g_strdup_printf ("%s (%s)", d->title, d->note);
  ClBarChartData bars = {
    .title = title ? title : d->title,
    .y_label = d->y_label,
    .group_key = d->x_key,
    .series_key = d->series_key,
    .n_groups = d->n_x,
    .group_labels = d->x_labels,
    .n_series = d->n_series,
    .series_labels = d->series_labels,
    .values = d->values,
    .y_min = 0,
    .y_max = 1,
    .reference = d->reference,
    .reference_label = d->reference_label,
    .series_colors = d->series_colors,
  };
  /* Accuracies live in [0, 1]; anything else gets the automatic axis. */
  for (int i = 0; i < d->n_x * d->n_series; i++)
    if (isfinite (d->values[i]) && (d->values[i] < 0 || d->values[i] > 1))
      bars.y_min = bars.y_max = NAN;
  ClBarChartLayout bg;
  cl_bar_chart_draw_full (cr, width, height, &bars, &bg);
  if (!d->errors)
    return;
  /* +- one std of the seeds on each bar, in the text colour */
  cairo_save (cr);
  cairo_new_path (cr);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cairo_set_line_width (cr, cl_plot_theme (1.0).reference_width);
  for (int x = 0; x < d->n_x; x++)
    for (int s = 0; s < d->n_series; s++)
      {
        double e = d->errors[(size_t) x * d->n_series + s], v = value_at (d, x, s);
        if (!isfinite (e) || !isfinite (v))
          continue;
        ClPlotRect bar;
        cl_bar_chart_bar_rect (&bg, &bars, x, s, &bar);
        double cx = bar.x + 0.5 * bar.w;
        double y0 = cl_plot_scale_map (&bg.y, CLAMP (v - e, bg.y_ticks.lo, bg.y_ticks.hi));
        double y1 = cl_plot_scale_map (&bg.y, CLAMP (v + e, bg.y_ticks.lo, bg.y_ticks.hi));
        whisker (cr, cx, y0, y1, MIN (0.25 * bar.w, 5.0));
      }
  cairo_stroke (cr);
  cairo_restore (cr);
}

typedef struct
{
  char text[MAX_LEGEND][96];
  ClPlotLegendEntry entries[MAX_LEGEND + 2];
  int n;
} Legend;

static void
legend_build (const ClSweepPlotData *d, Legend *legend)
{
  legend->n = 0;
  if (d->n_series > 1 || (d->series_key && *d->series_key))
    for (int s = 0; s < MIN (d->n_series, MAX_LEGEND); s++)
      {
        const char *label = d->series_labels && d->series_labels[s] ? d->series_labels[s] : "?";
        if (d->series_key && *d->series_key)
          g_snprintf (legend->text[s], sizeof legend->text[s], "%s = %s", d->series_key, label);
        else
          g_strlcpy (legend->text[s], label, sizeof legend->text[s]);
        legend->entries[legend->n++] = (ClPlotLegendEntry){ legend->text[s], cl_sweep_plot_color_of (d, s),
                                                            CL_PLOT_LEGEND_LINE_POINT, 2.0, FALSE };
      }
  if (d->series_reference)
    legend->entries[legend->n++] = (ClPlotLegendEntry){ "chance (dashed, target's colour)", cl_plot_color_muted (),
                                                        CL_PLOT_LEGEND_DASHED, 1.2, FALSE };
  else if (isfinite (d->reference))
    legend->entries[legend->n++] =
        (ClPlotLegendEntry){ d->reference_label && *d->reference_label ? d->reference_label : "reference",
                             cl_plot_color_marker (), CL_PLOT_LEGEND_DASHED, 1.2, FALSE };
  if (d->running_x >= 0 && d->running_series >= 0)
    legend->entries[legend->n++] = (ClPlotLegendEntry){ "training now (shaded column)", cl_plot_color_text (),
                                                        CL_PLOT_LEGEND_HOLLOW_POINT, 1.0, FALSE };
}

/* Where value v sits along the x axis' linear coordinate. */
static double
x_coord (const ClSweepPlotData *d, double v)
{
  return d->x_log ? (v > 0 ? log10 (v) : NAN) : v;
}

static void
x_range (const ClSweepPlotData *d, double *lo, double *hi)
{
  ClPlotRange r;
  cl_plot_range_init (&r);
  for (int i = 0; i < d->n_x; i++)
    cl_plot_range_add (&r, x_coord (d, d->x_values[i]));
  if (r.n == 0)
    {
      *lo = 0;
      *hi = 1;
      return;
    }
  double span = r.hi - r.lo;
  if (span <= 0)
    span = fabs (r.hi) > 0 ? fabs (r.hi) : 1;
  /* A margin so the end points do not sit on the spines. */
  *lo = r.lo - 0.05 * span;
  *hi = r.hi + 0.05 * span;
}

static void
y_axis (const ClSweepPlotData *d, int target_ticks, ClPlotTicks *ticks)
{
  ClPlotRange r;
  cl_plot_range_init (&r);
  gboolean unit = TRUE;
  for (int i = 0; i < d->n_x * d->n_series; i++)
    {
      cl_plot_range_add (&r, d->values[i]);
      if (isfinite (d->values[i]) && (d->values[i] < 0 || d->values[i] > 1))
        unit = FALSE;
    }
  if (unit || r.n == 0)
    cl_plot_ticks_compute (ticks, 0, 1, target_ticks, FALSE, FALSE);
  else
    cl_plot_ticks_compute (ticks, MIN (r.lo, 0), MAX (r.hi, 0), target_ticks, TRUE, FALSE);
}

gboolean
cl_sweep_plot_point (const ClSweepPlotLayout *g, const ClSweepPlotData *d, int x, int s, double *px, double *py)
{
  if (!g->lines || !usable (d) || x < 0 || x >= d->n_x || s < 0 || s >= d->n_series)
    return FALSE;
  double v = value_at (d, x, s);
  if (!isfinite (v) || !isfinite (x_coord (d, d->x_values[x])))
    return FALSE;
  *px = cl_plot_scale_map (&g->x, x_coord (d, d->x_values[x]));
  *py = cl_plot_scale_map (&g->y, CLAMP (v, g->y_ticks.lo, g->y_ticks.hi));
  return TRUE;
}

static int
compare_x (const void *a, const void *b, void *data)
{
  const double *xv = data;
  double va = xv[*(const int *) a], vb = xv[*(const int *) b];
  return va < vb ? -1 : va > vb ? 1 : 0;
}

/* +- one std of the seeds around each mean of series s, in its colour. */
static void
draw_error_bars (cairo_t *cr, const ClSweepPlotLayout *g, const ClSweepPlotData *d, int s, const ClPlotTheme *look)
{
  cairo_save (cr);
  cairo_new_path (cr);
  cl_plot_set_rgb (cr, cl_sweep_plot_color_of (d, s));
  cairo_set_line_width (cr, look->reference_width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  for (int x = 0; x < d->n_x; x++)
    {
      double px, py, e = d->errors[(size_t) x * d->n_series + s], v = value_at (d, x, s);
      if (!isfinite (e) || !cl_sweep_plot_point (g, d, x, s, &px, &py))
        continue;
      double y0 = cl_plot_scale_map (&g->y, CLAMP (v - e, g->y_ticks.lo, g->y_ticks.hi));
      double y1 = cl_plot_scale_map (&g->y, CLAMP (v + e, g->y_ticks.lo, g->y_ticks.hi));
      whisker (cr, px, y0, y1, look->sparse_point_radius + 1.0);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_lines (cairo_t *cr, double width, double height, const ClSweepPlotData *d, ClSweepPlotLayout *g)
{
  ClPlotTheme look = cl_plot_theme (1.0);
  Legend legend;
  legend_build (d, &legend);
  cl_plot_text_setup (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, d->title, look.title_font, TRUE);
  if (title_h > 0)
    top += title_h + 0.25 * look.pad;
  if (d->note && *d->note)
    {
      cl_plot_font (cr, look.label_font, FALSE);
      cl_plot_set_rgb (cr, cl_plot_color_muted ());
      cl_plot_text (cr, 0.5 * width, top, d->note, 0.5, 0.0, 0.0);
      top += cl_plot_text_height (cr) + 0.25 * look.pad;
    }
  top += cl_plot_legend_draw (cr, legend.entries, legend.n, 0.5 * width, top, width - 2 * look.pad, look.legend_font);
  top += look.pad;

  cl_plot_font (cr, look.axis.tick_font, FALSE);
  double tick_h = cl_plot_text_height (cr);
  cl_plot_font (cr, look.axis.title_font, FALSE);
  double title_text_h = cl_plot_text_height (cr);
  double bottom_extent = look.axis.tick_length + look.axis.pad + tick_h + look.axis.pad + title_text_h + look.pad;

  double plot_h_guess = height - top - bottom_extent;
  y_axis (d, CLAMP ((int) (plot_h_guess / 45.0), 2, 10), &g->y_ticks);
  double left_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->y_ticks, d->y_label, &look.axis);
  /* the last x label is centred on its tick: leave room for half of it */
  cl_plot_font (cr, look.axis.tick_font, FALSE);
  double last_w = d->x_labels && d->x_labels[d->n_x - 1] ? cl_plot_text_width (cr, d->x_labels[d->n_x - 1]) : 0;
  g->plot.x = look.pad + left_extent;
  g->plot.y = top;
  g->plot.w = MAX (width - g->plot.x - MAX (1.5 * look.pad, 0.5 * last_w + look.pad), 1.0);
  g->plot.h = MAX (height - top - bottom_extent, 1.0);
  double xlo, xhi;
  x_range (d, &xlo, &xhi);
  cl_plot_scale_init (&g->x, xlo, xhi, g->plot.x, g->plot.x + g->plot.w);
  cl_plot_scale_init (&g->y, g->y_ticks.lo, g->y_ticks.hi, g->plot.y + g->plot.h, g->plot.y);
  g->lines = TRUE;

  cl_plot_grid_draw (cr, &g->plot, NULL, NULL, &g->y, &g->y_ticks, 1.0);
  /* light verticals at the swept values: where the measurements are */
  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgb (cr, cl_plot_color_grid ());
  for (int i = 0; i < d->n_x; i++)
    if (isfinite (x_coord (d, d->x_values[i])))
      {
        double x = cl_plot_snap (cr, cl_plot_scale_map (&g->x, x_coord (d, d->x_values[i])), TRUE, 1.0);
        cairo_move_to (cr, x, g->plot.y);
        cairo_line_to (cr, x, g->plot.y + g->plot.h);
      }
  cairo_stroke (cr);
  cairo_restore (cr);

  if (d->series_reference)
    {
      for (int s = 0; s < d->n_series; s++)
        if (isfinite (d->series_reference[s]) && d->series_reference[s] >= g->y_ticks.lo &&
            d->series_reference[s] <= g->y_ticks.hi)
          cl_plot_hmarker_draw (cr, &g->plot, cl_plot_scale_map (&g->y, d->series_reference[s]),
                                cl_plot_mix (cl_sweep_plot_color_of (d, s), cl_plot_color_background (), 0.35),
                                look.reference_width);
    }
  else if (isfinite (d->reference) && d->reference >= g->y_ticks.lo && d->reference <= g->y_ticks.hi)
    cl_plot_hmarker_draw (cr, &g->plot, cl_plot_scale_map (&g->y, d->reference), cl_plot_color_marker (),
                          look.reference_width);

  /* series: lines through the measured points in x order, broken where a point is missing */
  int *order = g_new (int, (gsize) MAX (d->n_x, 1));
  for (int i = 0; i < d->n_x; i++)
    order[i] = i;
  g_qsort_with_data (order, d->n_x, sizeof (int), compare_x, (gpointer) d->x_values);
  int n_points = 0;
  cairo_save (cr);
  cairo_rectangle (cr, g->plot.x - look.sparse_point_radius - 1, g->plot.y - look.sparse_point_radius - 1,
                   g->plot.w + 2 * look.sparse_point_radius + 2, g->plot.h + 2 * look.sparse_point_radius + 2);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (int s = 0; s < d->n_series; s++)
    {
      ClRgb color = cl_sweep_plot_color_of (d, s);
      /* a line through the measured points in x order, broken where one is missing */
      double *xs = g_new (double, (gsize) MAX (d->n_x, 1)), *ys = g_new (double, (gsize) MAX (d->n_x, 1));
      for (int j = 0; j < d->n_x; j++)
        {
          double v = value_at (d, order[j], s);
          xs[j] = x_coord (d, d->x_values[order[j]]);
          ys[j] = isfinite (v) && isfinite (xs[j]) ? CLAMP (v, g->y_ticks.lo, g->y_ticks.hi) : NAN;
        }
      ClPlotAxes axes = { &g->x, &g->y, FALSE };
      ClPlotStroke stroke = cl_plot_stroke (color, look.sparse_line_width);
      stroke.break_gaps = TRUE;
      cl_plot_chart_line (cr, &axes, xs, ys, d->n_x, &stroke);
      g_free (xs);
      g_free (ys);
      if (d->errors)
        draw_error_bars (cr, g, d, s, &look);
      for (int j = 0; j < d->n_x; j++)
        {
          double px, py;
          if (cl_sweep_plot_point (g, d, j, s, &px, &py))
            {
              cl_plot_point_draw (cr, px, py, look.sparse_point_radius, color, FALSE);
              n_points++;
            }
        }
    }
  cairo_restore (cr);
  if (d->running_x >= 0 && d->running_x < d->n_x && d->running_series >= 0 && d->running_series < d->n_series)
    {
      /* Where the next result will appear: a pale band the plot's full height in the series'
       * colour, ringed at the top (not a point near y = 0, which would read as a zero result). */
      double px = cl_plot_scale_map (&g->x, x_coord (d, d->x_values[d->running_x]));
      ClRgb c = cl_sweep_plot_color_of (d, d->running_series);
      double half = look.sparse_point_radius + 4;
      cairo_save (cr);
      cl_plot_set_rgba (cr, c, 0.14);
      cairo_rectangle (cr, px - half, g->plot.y, 2 * half, g->plot.h);
      cairo_fill (cr);
      cairo_restore (cr);
      cl_plot_point_draw (cr, px, g->plot.y + look.sparse_point_radius + 3, look.sparse_point_radius + 1.5, c, TRUE);
    }

  cl_plot_axis_draw (cr, &g->plot, CL_PLOT_SIDE_LEFT, &g->y, &g->y_ticks, d->y_label, &look.axis, NULL);
  /* x axis: ticks at the swept values, labelled as the user wrote them */
  cairo_save (cr);
  cairo_set_line_width (cr, look.axis.line_width);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  double spine = g->plot.y + g->plot.h;
  double sy = cl_plot_snap (cr, spine, FALSE, look.axis.line_width);
  cairo_move_to (cr, g->plot.x, sy);
  cairo_line_to (cr, g->plot.x + g->plot.w, sy);
  for (int i = 0; i < d->n_x; i++)
    if (isfinite (x_coord (d, d->x_values[i])))
      {
        double x =
            cl_plot_snap (cr, cl_plot_scale_map (&g->x, x_coord (d, d->x_values[i])), TRUE, look.axis.line_width);
        cairo_move_to (cr, x, spine);
        cairo_line_to (cr, x, spine + look.axis.tick_length);
      }
  cairo_stroke (cr);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_font (cr, look.axis.tick_font, FALSE);
  double label_y = spine + look.axis.tick_length + look.axis.pad;
  double last_right = -G_MAXDOUBLE;
  for (int j = 0; j < d->n_x; j++)
    {
      int i = order[j];
      const char *label = d->x_labels && d->x_labels[i] ? d->x_labels[i] : "";
      if (!isfinite (x_coord (d, d->x_values[i])))
        continue;
      double x = cl_plot_scale_map (&g->x, x_coord (d, d->x_values[i]));
      double w = cl_plot_text_width (cr, label);
      /* crowded values: a label that would touch its left neighbour is left out */
      if (x - 0.5 * w < last_right + look.axis.pad)
        continue;
      cl_plot_text (cr, x, label_y, label, 0.5, 0.0, 0.0);
      last_right = x + 0.5 * w;
    }
  g_free (order);
  if (d->x_key)
    {
      g_autofree char *x_title = d->x_log ? g_strdup_printf ("%s (log scale)", d->x_key) : g_strdup (d->x_key);
      cl_plot_font (cr, look.axis.title_font, FALSE);
      cl_plot_text (cr, g->plot.x + 0.5 * g->plot.w, label_y + tick_h + look.axis.pad, x_title, 0.5, 0.0, 0.0);
    }
  cairo_restore (cr);

  if (n_points == 0)
    cl_plot_note_draw (cr, &g->plot, "no results yet: each point appears when its run ends", look.note_font);
}

void
cl_sweep_plot_draw_full (cairo_t *cr, double width, double height, const ClSweepPlotData *d, ClSweepPlotLayout *layout)
{
  ClSweepPlotLayout g;
  memset (&g, 0, sizeof g);
  if (!(width >= 1.0) || !(height >= 1.0) || !isfinite (width) || !isfinite (height))
    {
      if (layout)
        *layout = g;
      return;
    }
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  if (!usable (d))
    {
      cl_plot_text_setup (cr);
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_paint (cr);
      ClPlotRect all = { 0, 0, width, height };
      cl_plot_note_draw (cr, &all, "no sweep yet", cl_plot_theme (1.0).note_font);
    }
  else if (d->x_values)
    draw_lines (cr, width, height, d, &g);
  else
    draw_bars (cr, width, height, d);
  cairo_restore (cr);
  if (layout)
    *layout = g;
}

void
cl_sweep_plot_draw (cairo_t *cr, double width, double height, const ClSweepPlotData *data)
{
  cl_sweep_plot_draw_full (cr, width, height, data, NULL);
}

void
cl_sweep_plot_draw_cb (cairo_t *cr, double width, double height, gpointer data)
{
  cl_sweep_plot_draw (cr, width, height, data);
}
