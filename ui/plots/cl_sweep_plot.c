#include "ui/plots/cl_sweep_plot.h"
#include "ui/plots/cl_plot_chart.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#include "ui/plots/cl_bar_chart.h"
#include "cl_config.h"
#include "ui/cl_png.h"

#define MAX_LEGEND 24
#define CL_SWEEP_MAX_AXES_GUESS 16

ClRgb
cl_sweep_plot_series_color (int series)
{
  /* The same colours as the bar form, so a categorical sweep and a numeric one read alike. */
  return cl_bar_chart_series_color (series);
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
  };
  /* Accuracies live in [0, 1]; anything else gets the automatic axis. */
  for (int i = 0; i < d->n_x * d->n_series; i++)
    if (isfinite (d->values[i]) && (d->values[i] < 0 || d->values[i] > 1))
      bars.y_min = bars.y_max = NAN;
  ClBarChartGeometry bg;
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
        legend->entries[legend->n++] =
            (ClPlotLegendEntry){ legend->text[s], cl_sweep_plot_series_color (s), CL_PLOT_LEGEND_LINE_POINT, 2.0 };
      }
  if (d->series_reference)
    legend->entries[legend->n++] =
        (ClPlotLegendEntry){ "chance (dashed, target's colour)", cl_plot_color_muted (), CL_PLOT_LEGEND_DASHED, 1.2 };
  else if (isfinite (d->reference))
    legend->entries[legend->n++] =
        (ClPlotLegendEntry){ d->reference_label && *d->reference_label ? d->reference_label : "reference",
                             cl_plot_color_marker (), CL_PLOT_LEGEND_DASHED, 1.2 };
  if (d->running_x >= 0 && d->running_series >= 0)
    legend->entries[legend->n++] =
        (ClPlotLegendEntry){ "training now (shaded column)", cl_plot_color_text (), CL_PLOT_LEGEND_HOLLOW_POINT, 1.0 };
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
cl_sweep_plot_point (const ClSweepPlotGeometry *g, const ClSweepPlotData *d, int x, int s, double *px, double *py)
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
draw_error_bars (cairo_t *cr, const ClSweepPlotGeometry *g, const ClSweepPlotData *d, int s, const ClPlotTheme *look)
{
  cairo_save (cr);
  cairo_new_path (cr);
  cl_plot_set_rgb (cr, cl_sweep_plot_series_color (s));
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
draw_lines (cairo_t *cr, double width, double height, const ClSweepPlotData *d, ClSweepPlotGeometry *g)
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
                                cl_plot_mix (cl_sweep_plot_series_color (s), cl_plot_color_background (), 0.35),
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
      ClRgb color = cl_sweep_plot_series_color (s);
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
      ClRgb c = cl_sweep_plot_series_color (d->running_series);
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
cl_sweep_plot_draw_full (cairo_t *cr, double width, double height, const ClSweepPlotData *d,
                         ClSweepPlotGeometry *geometry)
{
  ClSweepPlotGeometry g;
  memset (&g, 0, sizeof g);
  if (!(width >= 1.0) || !(height >= 1.0) || !isfinite (width) || !isfinite (height))
    {
      if (geometry)
        *geometry = g;
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
  if (geometry)
    *geometry = g;
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

/* ------------------------------------------------------------ from a sweep */

/* The data and the strings it points to, freed together. */
typedef struct
{
  ClSweepPlotData data;
  char *title, *series_key, *note;
  char **x_labels;
  char **series_labels;
  double *x_values, *values, *series_reference, *errors;
} Owned;

static gboolean
is_per_bit (const char *target)
{
  return strncmp (target, "bit", 3) == 0 && g_ascii_isdigit (target[3]);
}

static gboolean
same_values (const double *a, const double *b, int n)
{
  int finite = 0;
  for (int i = 0; i < n; i++)
    {
      if (isfinite (a[i]) != isfinite (b[i]) || (isfinite (a[i]) && a[i] != b[i]))
        return FALSE;
      finite += isfinite (a[i]);
    }
  return finite > 0;
}

/* One key swept: each probe target is a series. */
static void
series_by_target (Owned *o, const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows)
{
  ClSweepPlotData *d = &o->data;
  int n_x = d->n_x;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (int r = 0; r < n_rows; r++)
    for (int k = 0; k < rows[r].n_targets; k++)
      if (!is_per_bit (rows[r].target[k]) &&
          !g_ptr_array_find_with_equal_func (names, rows[r].target[k], g_str_equal, NULL))
        g_ptr_array_add (names, (gpointer) rows[r].target[k]);
  if (names->len == 0)
    g_ptr_array_add (names, "class");
  int n_t = (int) names->len;
  double *vals = g_new (double, (gsize) n_t *n_x), *chance = g_new (double, (gsize) n_t);
  for (int t = 0; t < n_t; t++)
    {
      chance[t] = NAN;
      for (int x = 0; x < n_x; x++)
        vals[t * n_x + x] = NAN;
      for (int r = 0; r < n_rows; r++)
        if (rows[r].point >= 0 && rows[r].point < n_x)
          {
            vals[t * n_x + rows[r].point] = cl_sweep_row_accuracy (&rows[r], names->pdata[t]);
            double c = cl_sweep_row_chance (&rows[r], names->pdata[t]);
            if (isfinite (c))
              chance[t] = c;
          }
    }
  /* a target that is another under a second name (class of two-objects is large) is one line */
  int *merged_into = g_new (int, (gsize) n_t);
  int n_series = 0;
  GString **labels = g_new0 (GString *, (gsize) n_t);
  int *series_of = g_new (int, (gsize) n_t);
  for (int t = 0; t < n_t; t++)
    {
      merged_into[t] = -1;
      for (int u = 0; u < t && merged_into[t] < 0; u++)
        if (merged_into[u] < 0 && same_values (&vals[t * n_x], &vals[u * n_x], n_x))
          merged_into[t] = u;
      if (merged_into[t] < 0)
        {
          series_of[t] = n_series++;
          labels[t] = g_string_new (names->pdata[t]);
        }
      else
        g_string_append_printf (labels[merged_into[t]], " = %s", (const char *) names->pdata[t]);
    }
  d->n_series = n_series;
  o->series_labels = g_new0 (char *, (gsize) n_series + 1);
  o->values = g_new (double, (gsize) n_x *MAX (n_series, 1));
  o->series_reference = g_new (double, (gsize) MAX (n_series, 1));
  for (int t = 0; t < n_t; t++)
    if (merged_into[t] < 0)
      {
        int s = series_of[t];
        o->series_labels[s] = g_string_free (labels[t], FALSE);
        o->series_reference[s] = chance[t];
        for (int x = 0; x < n_x; x++)
          o->values[x * n_series + s] = vals[t * n_x + x];
      }
  d->series_labels = (const char *const *) o->series_labels;
  d->series_reference = o->series_reference;
  d->values = o->values;
  g_free (labels);
  g_free (series_of);
  g_free (merged_into);
  g_free (vals);
  g_free (chance);
  (void) grid;
}

/* The x axis of the figure: the values of grid axis xa as labels, and as numbers when the key is
 * numeric (a log axis when they are positive and span a factor of 64 or more: pool sizes 1, 16,
 * 256, 4096 are steps of a factor, not of a difference). */
static void
x_axis_of (Owned *o, const ClSweepGrid *grid, int xa)
{
  ClSweepPlotData *d = &o->data;
  const ClParam *xp = cl_sweep_grid_param (grid, xa);
  int n_x = cl_sweep_grid_n_values (grid, xa);
  o->x_labels = g_new0 (char *, (gsize) MAX (n_x, 0) + 1);
  for (int i = 0; i < n_x; i++)
    o->x_labels[i] = g_strdup (cl_sweep_grid_value (grid, xa, i));
  d->x_labels = (const char *const *) o->x_labels;
  if (xp->type != CL_PARAM_INT && xp->type != CL_PARAM_FLOAT)
    return;
  o->x_values = g_new (double, (gsize) MAX (n_x, 1));
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
  for (int i = 0; i < n_x; i++)
    {
      o->x_values[i] = g_ascii_strtod (o->x_labels[i], NULL);
      lo = MIN (lo, o->x_values[i]);
      hi = MAX (hi, o->x_values[i]);
    }
  d->x_values = o->x_values;
  d->x_log = lo > 0 && hi / lo >= 64;
}

static int
seed_axis_of (const ClSweepGrid *grid)
{
  for (int a = 0; a < cl_sweep_grid_n_axes (grid); a++)
    if (strcmp (cl_sweep_grid_param (grid, a)->key, "train.seed") == 0)
      return a;
  return -1;
}

/* Series index of point over the axes in rest (mixed radix, the last axis fastest). */
static int
series_index (const ClSweepGrid *grid, int point, const int *rest, int n_rest)
{
  int s = 0;
  for (int i = 0; i < n_rest; i++)
    s = s * cl_sweep_grid_n_values (grid, rest[i]) + cl_sweep_grid_value_index (grid, point, rest[i]);
  return s;
}

/* The figure of a sweep over train.seed and other keys: means over the seeds with their std. */
static void
data_over_seeds (Owned *o, const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows, const char *target,
                 int running_point, int sa)
{
  ClSweepPlotData *d = &o->data;
  int n_axes = cl_sweep_grid_n_axes (grid), n_points = cl_sweep_grid_n_points (grid);
  int other[CL_SWEEP_MAX_AXES_GUESS] = { 0 };
  int n_other = 0;
  for (int a = 0; a < n_axes && n_other < CL_SWEEP_MAX_AXES_GUESS; a++)
    if (a != sa)
      other[n_other++] = a;
  int xa = other[0];
  const int *rest = other + 1;
  int n_rest = n_other - 1;
  gboolean by_target = target == NULL && n_rest == 0;
  const ClParam *xp = cl_sweep_grid_param (grid, xa);
  int n_x = cl_sweep_grid_n_values (grid, xa);

  /* the series: probe targets (one key besides the seed) or the combinations of the rest */
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  if (by_target)
    {
      for (int r = 0; r < n_rows; r++)
        for (int k = 0; k < rows[r].n_targets; k++)
          if (!is_per_bit (rows[r].target[k]) &&
              !g_ptr_array_find_with_equal_func (names, rows[r].target[k], g_str_equal, NULL))
            g_ptr_array_add (names, (gpointer) rows[r].target[k]);
      if (names->len == 0)
        g_ptr_array_add (names, "class");
    }
  int n_series = 1;
  for (int i = 0; i < n_rest; i++)
    n_series *= cl_sweep_grid_n_values (grid, rest[i]);
  if (by_target)
    n_series = (int) names->len;
  d->n_x = n_x;
  d->n_series = n_series;
  d->x_key = xp->key;
  o->title = by_target
                 ? g_strdup ("Final probe accuracy of each target (held-out), mean over seeds")
                 : g_strdup_printf ("Final %s probe accuracy (held-out), mean over seeds", target ? target : "class");
  d->title = o->title;
  x_axis_of (o, grid, xa);
  o->series_labels = g_new0 (char *, (gsize) n_series + 1);
  if (by_target)
    for (int s = 0; s < n_series; s++)
      o->series_labels[s] = g_strdup (names->pdata[s]);
  else
    {
      if (n_rest > 0)
        {
          GString *key = g_string_new (NULL);
          for (int i = 0; i < n_rest; i++)
            g_string_append_printf (key, "%s%s", i ? ", " : "", cl_sweep_grid_param (grid, rest[i])->key);
          o->series_key = g_string_free (key, FALSE);
          d->series_key = o->series_key;
        }
      for (int s = 0; s < n_series; s++)
        {
          GString *label = g_string_new (NULL);
          int left = s;
          char **parts = g_new0 (char *, (gsize) n_rest + 1);
          for (int i = n_rest - 1; i >= 0; i--)
            {
              int nv = cl_sweep_grid_n_values (grid, rest[i]);
              parts[i] = g_strdup (cl_sweep_grid_value (grid, rest[i], left % nv));
              left /= nv;
            }
          for (int i = 0; i < n_rest; i++)
            g_string_append_printf (label, "%s%s", i ? ", " : "", parts[i]);
          g_strfreev (parts);
          o->series_labels[s] = g_string_free (label, FALSE);
        }
    }
  d->series_labels = (const char *const *) o->series_labels;
  o->values = g_new (double, (gsize) n_x *n_series);
  o->errors = g_new (double, (gsize) n_x *n_series);
  o->series_reference = by_target ? g_new (double, (gsize) n_series) : NULL;
  for (int i = 0; i < n_x * n_series; i++)
    o->values[i] = o->errors[i] = NAN;
  for (int s = 0; by_target && s < n_series; s++)
    o->series_reference[s] = NAN;
  d->reference = NAN;
  d->reference_label = "chance";
  for (int p = 0; p < n_points; p++)
    {
      if (cl_sweep_grid_value_index (grid, p, sa) != 0)
        continue; /* one point per group of seeds */
      int x = cl_sweep_grid_value_index (grid, p, xa);
      for (int s = 0; s < (by_target ? n_series : 1); s++)
        {
          const char *t = by_target ? names->pdata[s] : (target ? target : "class");
          int series = by_target ? s : series_index (grid, p, rest, n_rest);
          double mean, std;
          int n;
          cl_sweep_seed_stats (grid, rows, n_rows, p, t, &mean, &std, &n);
          o->values[(size_t) x * n_series + series] = mean;
          o->errors[(size_t) x * n_series + series] = std;
          d->n_seeds = MAX (d->n_seeds, n);
        }
    }
  for (int r = 0; r < n_rows; r++)
    for (int s = 0; s < (by_target ? n_series : 1); s++)
      {
        double c = cl_sweep_row_chance (&rows[r], by_target ? names->pdata[s] : (target ? target : "class"));
        if (!isfinite (c))
          continue;
        if (by_target)
          o->series_reference[s] = c;
        else
          d->reference = c;
      }
  d->values = o->values;
  d->errors = o->errors;
  d->series_reference = o->series_reference;
  d->running_x = d->running_series = -1;
  if (running_point >= 0 && running_point < n_points)
    {
      d->running_x = cl_sweep_grid_value_index (grid, running_point, xa);
      d->running_series = by_target ? 0 : series_index (grid, running_point, rest, n_rest);
    }
}

ClSweepPlotData *
cl_sweep_plot_data_new (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows, const char *target,
                        int running_point)
{
  Owned *o = g_new0 (Owned, 1);
  ClSweepPlotData *d = &o->data;
  int n_axes = cl_sweep_grid_n_axes (grid), n_points = cl_sweep_grid_n_points (grid);
  d->y_label = "linear-probe accuracy";
  int sa = seed_axis_of (grid);
  if (sa >= 0 && n_axes >= 2)
    {
      data_over_seeds (o, grid, rows, n_rows, target, running_point, sa);
      int done = 0;
      for (int r = 0; r < n_rows; r++)
        done += rows[r].point >= 0 && rows[r].point < n_points &&
                (rows[r].state == CL_SWEEP_POINT_DONE || rows[r].state == CL_SWEEP_POINT_FAILED);
      int seeds = cl_sweep_grid_n_values (grid, sa);
      o->note = done < n_points
                    ? g_strdup_printf ("mean \xC2\xB1 std over %d seeds; %d of %d runs", seeds, done, n_points)
                    : g_strdup_printf ("mean \xC2\xB1 std over %d seeds (error bars)", seeds);
      d->note = o->note;
      return d;
    }
  gboolean by_target = target == NULL && n_axes == 1;
  if (!target)
    target = "class";
  int n_x = cl_sweep_grid_n_values (grid, 0);
  int n_series = n_points / n_x;
  const ClParam *xp = cl_sweep_grid_param (grid, 0);

  o->title = by_target ? g_strdup ("Final probe accuracy of each target (held-out)")
                       : g_strdup_printf ("Final %s probe accuracy (held-out)", target);
  d->title = o->title;
  d->y_label = "linear-probe accuracy";
  d->x_key = xp->key;
  d->n_x = n_x;
  d->n_series = n_series;
  x_axis_of (o, grid, 0);
  d->reference = NAN;
  d->reference_label = "chance";
  d->running_x = d->running_series = -1;
  int done = 0;
  for (int r = 0; r < n_rows; r++)
    done += rows[r].point >= 0 && rows[r].point < n_points &&
            (rows[r].state == CL_SWEEP_POINT_DONE || rows[r].state == CL_SWEEP_POINT_FAILED);
  if (by_target)
    {
      series_by_target (o, grid, rows, n_rows);
      if (running_point >= 0 && running_point < n_points)
        {
          d->running_x = running_point;
          d->running_series = 0;
        }
    }
  else
    {
      if (n_axes > 1)
        {
          GString *key = g_string_new (NULL);
          for (int a = 1; a < n_axes; a++)
            g_string_append_printf (key, "%s%s", a > 1 ? ", " : "", cl_sweep_grid_param (grid, a)->key);
          o->series_key = g_string_free (key, FALSE);
          d->series_key = o->series_key;
        }
      /* Series s is the s-th combination of the other keys: points s, n_series + s, ... */
      o->series_labels = g_new0 (char *, (gsize) MAX (n_series, 0) + 1);
      for (int s = 0; s < n_series; s++)
        {
          GString *label = g_string_new (NULL);
          for (int a = 1; a < n_axes; a++)
            g_string_append_printf (label, "%s%s", a > 1 ? ", " : "",
                                    cl_sweep_grid_value (grid, a, cl_sweep_grid_value_index (grid, s, a)));
          o->series_labels[s] = g_string_free (label, FALSE);
        }
      d->series_labels = (const char *const *) o->series_labels;
      o->values = g_new (double, (gsize) MAX (n_points, 1));
      for (int p = 0; p < n_points; p++)
        o->values[p] = NAN;
      for (int r = 0; r < n_rows; r++)
        {
          const ClSweepRow *row = &rows[r];
          if (row->point < 0 || row->point >= n_points)
            continue;
          /* grid order is [x][series]: the point index is exactly the value index */
          o->values[row->point] = cl_sweep_row_accuracy (row, target);
          double chance = cl_sweep_row_chance (row, target);
          if (isfinite (chance))
            d->reference = chance;
        }
      d->values = o->values;
      if (running_point >= 0 && running_point < n_points)
        {
          d->running_x = running_point / n_series;
          d->running_series = running_point % n_series;
        }
    }
  if (done < n_points)
    {
      o->note = g_strdup_printf ("%d of %d points", done, n_points);
      d->note = o->note;
    }
  return d;
}

void
cl_sweep_plot_data_free (ClSweepPlotData *data)
{
  if (!data)
    return;
  Owned *o = (Owned *) data;
  g_free (o->title);
  g_free (o->series_key);
  g_free (o->note);
  g_strfreev (o->x_labels);
  g_strfreev (o->series_labels);
  g_free (o->x_values);
  g_free (o->values);
  g_free (o->series_reference);
  g_free (o->errors);
  g_free (o);
}

gboolean
cl_sweep_plot_export_png (const char *path, const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows,
                          const char *target, double scale, GError **error)
{
  g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (grid, rows, n_rows, target, -1);
  g_autofree char *config = cl_config_to_ini (cl_sweep_grid_base (grid));
  g_autofree char *sweep_desc = cl_sweep_grid_describe (grid);
  g_autofree char *config_with_sweep = g_strdup_printf ("# sweep: %s\n%s", sweep_desc, config);
  g_autofree char *step = g_strdup_printf ("%d", cl_sweep_grid_base (grid)->train_steps);
  const ClPngText texts[] = {
    { "Software", "ContrastLab " CL_VERSION },
    { "Title", d->title },
    { "contrastlab:config", config_with_sweep },
    { "contrastlab:step", step },
  };
  return cl_png_export_figure (path, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, scale, cl_sweep_plot_draw_cb, d, texts,
                               G_N_ELEMENTS (texts), error);
}
