#include "ui/plots/cl_clusters_plot_private.h"
#include "ui/plots/cl_plot_chart.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TREND_LINE_WIDTH 1.8

/* ------------------------------------------------------------- trend data */

static gboolean
layer_is (const ClClusterRow *r, const char *name)
{
  return name != NULL && strncmp (r->layer, name, sizeof r->layer) == 0;
}

static int
trend_layer_index (const Trend *tr, const ClClusterRow *r)
{
  for (int i = 0; i < tr->n_layers; i++)
    if (layer_is (r, tr->names[i]))
      return i;
  return -1;
}

static gboolean
history_usable (const ClClustersData *d)
{
  return d != NULL && d->history != NULL && d->n_history > 0;
}

void
cl_clusters_trend_collect (const ClClustersData *d, gboolean grid, Trend *tr)
{
  memset (tr, 0, sizeof *tr);
  if (!history_usable (d))
    return;
  /* the grid's rows first, in their order, if the history has them */
  if (grid && d->row_names != NULL)
    for (int r = 0; r < d->n_rows && tr->n_layers < TREND_MAX_LAYERS; r++)
      for (int i = 0; i < d->n_history; i++)
        if (layer_is (&d->history[i], d->row_names[r]))
          {
            tr->names[tr->n_layers] = d->row_names[r];
            tr->row[tr->n_layers++] = r;
            break;
          }
  int kmin = 0, kmax = 0;
  for (int i = 0; i < d->n_history; i++)
    {
      const ClClusterRow *r = &d->history[i];
      if (r->layer[0] != '\0' && trend_layer_index (tr, r) < 0 && tr->n_layers < TREND_MAX_LAYERS)
        {
          tr->names[tr->n_layers] = r->layer;
          tr->row[tr->n_layers++] = -1;
        }
      if (r->k >= 1)
        {
          kmin = kmin == 0 ? r->k : MIN (kmin, r->k);
          kmax = MAX (kmax, r->k);
        }
    }
  tr->k[0] = d->trend_iou_k > 0 ? d->trend_iou_k : kmin;
  tr->k[1] = d->trend_ari_k > 0 ? d->trend_ari_k : kmax;
  ClPlotRange steps, values[2];
  cl_plot_range_init (&steps);
  cl_plot_range_init (&values[0]);
  cl_plot_range_init (&values[1]);
  int count[2][TREND_MAX_LAYERS] = { { 0 } };
  for (int i = 0; i < d->n_history; i++)
    {
      const ClClusterRow *r = &d->history[i];
      int li = trend_layer_index (tr, r);
      if (li < 0)
        continue;
      for (int p = 0; p < 2; p++)
        {
          double v = p == 0 ? r->object_iou : r->instance_ari;
          if (r->k != tr->k[p] || !isfinite (v))
            continue;
          cl_plot_range_add (&steps, (double) r->step);
          cl_plot_range_add (&values[p], v);
          tr->n_points[p]++;
          count[p][li]++;
          tr->most_steps = MAX (tr->most_steps, count[p][li]);
        }
    }
  tr->step_lo = steps.n > 0 ? steps.lo : 0.0;
  tr->step_hi = steps.n > 0 ? steps.hi : 0.0;
  if (tr->step_hi - tr->step_lo < 1.0)
    tr->step_hi = tr->step_lo + 100.0; /* a lone probe at step 0: show where the next ones come */
  for (int p = 0; p < 2; p++)
    /* scores live in [0, 1]; ARI can dip below 0, and then the axis follows it */
    tr->value_lo[p] = values[p].n > 0 && values[p].lo < 0.0 ? floor (values[p].lo * 10.0) / 10.0 : 0.0;
}

ClRgb
cl_clusters_plot_layer_color (const char *layer, int index)
{
  static const ClPlotOkabeIto order[] = {
    CL_PLOT_OI_ORANGE,     CL_PLOT_OI_GREEN,    CL_PLOT_OI_BLUE,   CL_PLOT_OI_PURPLE,
    CL_PLOT_OI_VERMILLION, CL_PLOT_OI_SKY_BLUE, CL_PLOT_OI_YELLOW,
  };
  const int n = (int) G_N_ELEMENTS (order);
  if (layer != NULL && strcmp (layer, "pixels") == 0)
    return (ClRgb){ 0.45, 0.45, 0.45 };
  /* conv layers keep their colour whatever else the history holds: conv2 is always green */
  int depth = 0;
  if (layer != NULL && g_str_has_prefix (layer, "conv") && g_ascii_isdigit (layer[4]))
    depth = atoi (layer + 4);
  if (depth >= 1)
    return cl_plot_okabe_ito (order[(depth - 1) % n]);
  return cl_plot_okabe_ito (order[MAX (index, 0) % n]);
}

static gboolean
layer_dashed (const char *layer)
{
  return layer != NULL && strcmp (layer, "pixels") == 0;
}

static void
trend_axis_style (ClPlotAxisStyle *axis, double scale)
{
  cl_plot_axis_style_init (axis, 0.9 * cl_plot_theme (scale).scale);
}

/* One panel of the chart in r: its title on top, then the plot with its axes. */
static void
place_panel (cairo_t *mc, Layout *l, int p, ClPlotRect r)
{
  const Trend *tr = &l->trend;
  TrendPanel *tp = &l->panel[p];
  ClPlotAxisStyle axis;
  trend_axis_style (&axis, l->scale);
  tp->plot_title_font = cl_plot_theme (l->scale).label_font;
  tp->title_y = r.y;
  cairo_save (mc);
  cl_plot_font (mc, tp->plot_title_font, TRUE);
  double top = r.y + cl_plot_text_height (mc) + 6.0 + TREND_POINT_RADIUS;
  cairo_restore (mc);

  ClPlotTicks unit;
  cl_plot_ticks_compute (&unit, 0.0, 1.0, 5, TRUE, FALSE);
  double bottom_extent = cl_plot_axis_extent (mc, CL_PLOT_SIDE_BOTTOM, &unit, "step", &axis);
  double plot_h = r.y + r.h - bottom_extent - top;
  /* scores: 0.2 steps from the lowest value (0 unless ARI dips below it) to 1, coarser when short */
  double span = 1.0 - tr->value_lo[p];
  double step = plot_h >= 130.0 * span ? 0.2 : plot_h >= 50.0 * span ? 0.5 : 1.0;
  memset (&tp->y_ticks, 0, sizeof tp->y_ticks);
  tp->y_ticks.step = step;
  tp->y_ticks.lo = tr->value_lo[p];
  tp->y_ticks.hi = 1.0;
  double first = ceil (tp->y_ticks.lo / step - 1e-9);
  tp->y_ticks.n = MIN ((int) lround (1.0 / step - first) + 1, CL_PLOT_MAX_TICKS);
  for (int i = 0; i < tp->y_ticks.n; i++)
    tp->y_ticks.v[i] = (first + i) * step;
  tp->y_ticks.decimals = 1;
  double left_extent = cl_plot_axis_extent (mc, CL_PLOT_SIDE_LEFT, &tp->y_ticks, NULL, &axis);
  ClPlotRect plot = { r.x + left_extent, top, MAX (r.w - left_extent - 4.0, 1.0), MAX (plot_h, 1.0) };
  int x_target = CLAMP ((int) (plot.w / 60.0), 2, 8);
  cl_plot_ticks_compute (&tp->x_ticks, tr->step_lo, tr->step_hi, x_target, TRUE, TRUE);
  /* the last step label hangs past the plot's end: keep it inside the chart */
  double overhang = cl_plot_axis_end_overhang (mc, &tp->x_ticks, &axis);
  if (overhang > 4.0)
    {
      plot.w = MAX (r.x + r.w - overhang - plot.x, 1.0);
      x_target = CLAMP ((int) (plot.w / 60.0), 2, 8);
      cl_plot_ticks_compute (&tp->x_ticks, tr->step_lo, tr->step_hi, x_target, TRUE, TRUE);
    }
  l->g.trend_plot[p] = plot;
  l->g.trend_k[p] = tr->k[p];
  cl_plot_scale_init (&l->g.trend_x[p], tp->x_ticks.lo, tp->x_ticks.hi, plot.x, plot.x + plot.w);
  cl_plot_scale_init (&l->g.trend_y[p], tp->y_ticks.lo, tp->y_ticks.hi, plot.y + plot.h, plot.y);
}

static int
trend_legend (const Layout *l, int bold_layer, ClPlotLegendEntry *entries)
{
  const Trend *tr = &l->trend;
  for (int i = 0; i < tr->n_layers; i++)
    entries[i] = (ClPlotLegendEntry){
      .label = tr->names[i],
      .color = cl_clusters_plot_layer_color (tr->names[i], i),
      .kind = layer_dashed (tr->names[i]) ? CL_PLOT_LEGEND_DASHED : CL_PLOT_LEGEND_LINE,
      .line_width = i == bold_layer ? 3.0 : 2.0,
    };
  return tr->n_layers;
}

/* The chart in r: the layers' legend on top, then the IoU and ARI panels, stacked or side by side. */
void
cl_clusters_trend_place (cairo_t *mc, Layout *l, ClPlotRect r, gboolean side_by_side)
{
  l->g.trend_shown = TRUE;
  l->g.trend = r;
  l->legend_font = cl_plot_theme (l->scale).panel_legend_font;
  l->legend_y = r.y;
  ClPlotLegendEntry entries[TREND_MAX_LAYERS];
  int n = trend_legend (l, -1, entries);
  double top = r.y + cl_plot_legend_measure (mc, entries, n, r.w, l->legend_font) + 6.0;
  double bottom = r.y + r.h;
  if (side_by_side)
    {
      double pw = 0.5 * (r.w - TREND_GAP);
      for (int p = 0; p < 2; p++)
        place_panel (mc, l, p, (ClPlotRect){ r.x + p * (pw + TREND_GAP), top, pw, bottom - top });
    }
  else
    {
      double ph = 0.5 * (bottom - top - 0.5 * TREND_GAP);
      for (int p = 0; p < 2; p++)
        place_panel (mc, l, p, (ClPlotRect){ r.x, top + p * (ph + 0.5 * TREND_GAP), r.w, ph });
    }
}

/* ------------------------------------------------------------ trend chart */

typedef struct
{
  double step, value;
} TrendPoint;

static int
compare_points (gconstpointer a, gconstpointer b)
{
  const TrendPoint *pa = a, *pb = b;
  return (pa->step > pb->step) - (pa->step < pb->step);
}

/* The layer whose cell is enlarged, or -1. */
static int
highlighted_layer (const ClClustersData *d, const Layout *l)
{
  if (!l->g.has_grid || d->highlight < 0 || d->highlight >= d->n_rows * d->n_cols)
    return -1;
  int row = d->highlight / d->n_cols;
  for (int i = 0; i < l->trend.n_layers; i++)
    if (l->trend.row[i] == row)
      return i;
  return -1;
}

static void
draw_trend_line (cairo_t *cr, const ClClustersData *d, const Layout *l, int p, int li, int bold)
{
  const Trend *tr = &l->trend;
  const ClPlotScale *xs_scale = &l->g.trend_x[p], *ys_scale = &l->g.trend_y[p];
  GArray *pts = g_array_new (FALSE, FALSE, sizeof (TrendPoint));
  for (int i = 0; i < d->n_history; i++)
    {
      const ClClusterRow *r = &d->history[i];
      double v = p == 0 ? r->object_iou : r->instance_ari;
      if (r->k == tr->k[p] && isfinite (v) && layer_is (r, tr->names[li]))
        g_array_append_val (pts, ((TrendPoint){ (double) r->step, v }));
    }
  /* stable: the history is in step order already, and a re-measured step keeps its last value on top */
  g_array_sort (pts, compare_points);
  ClRgb color = cl_clusters_plot_layer_color (tr->names[li], li);
  double alpha = bold < 0 || bold == li ? 1.0 : 0.35;
  double lw = bold == li ? TREND_LINE_WIDTH + 1.2 : TREND_LINE_WIDTH;
  cairo_save (cr);
  cl_plot_set_rgba (cr, color, alpha);
  if (pts->len > 1)
    {
      double *xs = g_new (double, pts->len), *ys = g_new (double, pts->len);
      for (guint j = 0; j < pts->len; j++)
        {
          xs[j] = g_array_index (pts, TrendPoint, j).step;
          ys[j] = g_array_index (pts, TrendPoint, j).value;
        }
      ClPlotAxes axes = { xs_scale, ys_scale, FALSE };
      ClPlotStroke stroke = cl_plot_stroke (color, lw);
      stroke.alpha = alpha;
      if (layer_dashed (tr->names[li]))
        {
          stroke.dash_on = 5.0 * lw;
          stroke.dash_off = 3.0 * lw;
        }
      cl_plot_chart_line (cr, &axes, xs, ys, (int) pts->len, &stroke);
      g_free (xs);
      g_free (ys);
    }
  /* points where they are few enough to tell apart (a lone point always) */
  double room = l->g.trend_plot[p].w / MAX (tr->most_steps, 1);
  if (pts->len == 1 || (room >= 4.0 * TREND_POINT_RADIUS && !layer_dashed (tr->names[li])))
    for (guint j = 0; j < pts->len; j++)
      {
        const TrendPoint *q = &g_array_index (pts, TrendPoint, j);
        double x = cl_plot_scale_map (xs_scale, q->step), y = cl_plot_scale_map (ys_scale, q->value);
        if (alpha < 1.0)
          {
            cairo_new_path (cr);
            cairo_arc (cr, x, y, TREND_POINT_RADIUS, 0, 2 * G_PI);
            cairo_fill (cr);
          }
        else
          cl_plot_point_draw (cr, x, y, TREND_POINT_RADIUS, color, layer_dashed (tr->names[li]));
      }
  cairo_restore (cr);
  g_array_free (pts, TRUE);
}

void
cl_clusters_trend_draw (cairo_t *cr, const ClClustersData *d, const Layout *l)
{
  const Trend *tr = &l->trend;
  int bold = highlighted_layer (d, l);
  ClPlotLegendEntry entries[TREND_MAX_LAYERS];
  int n = trend_legend (l, bold, entries);
  cl_plot_legend_draw (cr, entries, n, l->g.trend.x + 0.5 * l->g.trend.w, l->legend_y, l->g.trend.w, l->legend_font);
  ClPlotAxisStyle axis;
  trend_axis_style (&axis, l->scale);
  for (int p = 0; p < 2; p++)
    {
      const TrendPanel *tp = &l->panel[p];
      const ClPlotRect *plot = &l->g.trend_plot[p];
      char text[96];
      g_snprintf (text, sizeof text, p == 0 ? "object IoU, k = %d" : "instance ARI, k = %d", tr->k[p]);
      cl_plot_font (cr, tp->plot_title_font, TRUE);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, plot->x + 0.5 * plot->w, tp->title_y, text, 0.5, 0.0, 0.0);
      cl_plot_grid_draw (cr, plot, &l->g.trend_x[p], &tp->x_ticks, &l->g.trend_y[p], &tp->y_ticks, 1.0);
      cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_LEFT, &l->g.trend_y[p], &tp->y_ticks, NULL, &axis, NULL);
      cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_BOTTOM, &l->g.trend_x[p], &tp->x_ticks, "step", &axis, NULL);
      if (tr->n_points[p] == 0)
        {
          g_snprintf (text, sizeof text, "no scores at k = %d", tr->k[p]);
          cl_plot_note_draw (cr, plot, text, 10.5);
          continue;
        }
      cairo_save (cr);
      double margin = TREND_POINT_RADIUS + 2.0;
      cairo_rectangle (cr, plot->x - margin, plot->y - margin, plot->w + 2 * margin, plot->h + 2 * margin);
      cairo_clip (cr);
      /* the baseline under the layers, the hovered layer on top */
      for (int li = 0; li < tr->n_layers; li++)
        if (li != bold)
          draw_trend_line (cr, d, l, p, li, bold);
      if (bold >= 0)
        draw_trend_line (cr, d, l, p, bold, bold);
      cairo_restore (cr);
    }
}

/* A short line in the layer's colour left of a row label: the key between grid and chart. */
void
cl_clusters_trend_row_swatch (cairo_t *cr, const Layout *l, int row, double label_w, double y)
{
  for (int i = 0; i < l->trend.n_layers; i++)
    if (l->trend.row[i] == row)
      {
        double x1 = l->row_label_right - label_w - 6.0, x0 = x1 - TREND_SWATCH;
        cairo_save (cr);
        cairo_set_line_width (cr, 2.5);
        if (layer_dashed (l->trend.names[i]))
          {
            double dash[2] = { 5.0, 3.0 };
            cairo_set_dash (cr, dash, 2, 0.0);
          }
        cl_plot_set_rgb (cr, cl_clusters_plot_layer_color (l->trend.names[i], i));
        cairo_move_to (cr, x0, y);
        cairo_line_to (cr, x1, y);
        cairo_stroke (cr);
        cairo_restore (cr);
        return;
      }
}
