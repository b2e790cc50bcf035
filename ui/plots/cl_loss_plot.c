#include "ui/plots/cl_loss_plot.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#define EVENT_LABEL_MAX_ROWS 3

void
cl_loss_plot_style_init (ClLossPlotStyle *style)
{
  style->title = NULL;
  style->ema = 0.9;
  style->show_raw = TRUE;
  style->font_scale = 1.0;
  style->overlays = NULL;
  style->n_overlays = 0;
  style->overlays_label = NULL;
  style->compare = NULL;
  style->label_a = NULL;
  style->view = NULL;
}

ClRgb
cl_loss_plot_series_color (ClLossSeries series)
{
  switch (series)
    {
    case CL_LOSS_SERIES_ALIGNMENT:
      return cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION);
    case CL_LOSS_SERIES_DISTRIBUTION:
      return cl_plot_okabe_ito (CL_PLOT_OI_GREEN);
    case CL_LOSS_SERIES_ACCURACY:
      return cl_plot_okabe_ito (CL_PLOT_OI_PURPLE);
    case CL_LOSS_SERIES_TOTAL:
    case CL_LOSS_SERIES_COUNT:
    default:
      return cl_plot_okabe_ito (CL_PLOT_OI_BLUE);
    }
}

static const char *const series_label[CL_LOSS_SERIES_COUNT] = {
  "total loss",
  "alignment",
  "distribution",
  "contrastive accuracy (right axis)",
};

static double
series_value (const ClMetricRow *row, ClLossSeries series)
{
  switch (series)
    {
    case CL_LOSS_SERIES_ALIGNMENT:
      return row->alignment;
    case CL_LOSS_SERIES_DISTRIBUTION:
      return row->distribution;
    case CL_LOSS_SERIES_ACCURACY:
      return row->contrastive_acc;
    case CL_LOSS_SERIES_TOTAL:
    case CL_LOSS_SERIES_COUNT:
    default:
      return row->loss;
    }
}

static double
style_ema (const ClLossPlotStyle *style)
{
  double ema = style->view != NULL && isfinite (style->view->ema) ? style->view->ema : style->ema;
  return isfinite (ema) ? CLAMP (ema, 0.0, 0.999) : 0.0;
}

static double
style_font_scale (const ClLossPlotStyle *style)
{
  double s = style->view != NULL && style->view->font_scale > 0.0 ? style->view->font_scale : style->font_scale;
  return (s > 0.0 && isfinite (s)) ? CLAMP (s, 0.25, 8.0) : 1.0;
}

/* The theme at the style's text scale. */
static ClPlotTheme
look_for (const ClLossPlotStyle *style)
{
  return cl_plot_theme (style_font_scale (style));
}

/* The other runs of a figure, cleaned of bad counts. */
typedef struct
{
  const ClLossPlotRun *overlays;
  int n_overlays;
  const ClLossPlotRun *compare;
} Others;

static gboolean
run_usable (const ClLossPlotRun *run)
{
  return run != NULL && run->rows != NULL && run->n_rows > 0;
}

static Others
others_of (const ClLossPlotStyle *style)
{
  Others o = { NULL, 0, NULL };
  if (style->overlays != NULL && style->n_overlays > 0)
    {
      o.overlays = style->overlays;
      o.n_overlays = style->n_overlays;
    }
  o.compare = style->compare;
  return o;
}

/* Colour of a faded overlay trace on the background, for its legend sample. */
static ClRgb
faded (ClRgb c)
{
  return cl_plot_mix (cl_plot_color_background (), c, CL_LOSS_PLOT_OVERLAY_ALPHA);
}

#define MAX_LEGEND (CL_LOSS_SERIES_COUNT + 5)

static gboolean series_in_view (const ClMetricRow *rows, int n_rows, ClLossSeries series, double ema,
                                const ClPlotView *view);

/* Which series of a run have something inside the view's window; returns TRUE if any does. */
static gboolean
run_in_view (const ClLossPlotRun *run, double ema, const ClPlotView *view, gboolean *series)
{
  gboolean any = FALSE;
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    {
      gboolean in = run_usable (run) && series_in_view (run->rows, run->n_rows, s, ema, view);
      series[s] |= in;
      any |= in;
    }
  return any;
}

static int
legend_entries (const ClMetricRow *rows, int n_rows, const ClEvent *events, int n_events, const ClLossPlotStyle *style,
                ClPlotRunsText *text, ClPlotLegendEntry *entries)
{
  Others o = others_of (style);
  /* a zoomed (or log) chart marks what it does not show */
  const ClPlotView *view = style->view;
  gboolean check = view != NULL && (cl_plot_view_zoomed (view) || view->log_y);
  gboolean in_view[CL_LOSS_SERIES_COUNT] = { FALSE }, a_in = TRUE, b_in = TRUE, overlays_in = TRUE, events_in = TRUE;
  if (check)
    {
      double ema = style_ema (style);
      ClLossPlotRun main_run = { rows, n_rows, NULL };
      a_in = run_in_view (&main_run, ema, view, in_view);
      b_in = run_in_view (o.compare, ema, view, in_view);
      overlays_in = FALSE;
      for (int k = 0; k < o.n_overlays; k++)
        overlays_in |= run_in_view (&o.overlays[k], ema, view, in_view);
      ClPlotWindow w = cl_plot_view_window (view);
      events_in = FALSE;
      for (int i = 0; i < n_events; i++)
        events_in |= (double) events[i].step >= w.x_lo && (double) events[i].step <= w.x_hi;
      /* before the first step nothing is out of view */
      if (n_rows == 0 && !run_usable (o.compare))
        for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
          in_view[s] = TRUE;
    }
  int n = 0;
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    entries[n++] = (ClPlotLegendEntry){ series_label[s], cl_loss_plot_series_color (s), CL_PLOT_LEGEND_LINE, 2.0,
                                        check && !in_view[s] };
  ClPlotRuns runs = {
    .n_overlays = o.n_overlays,
    .overlays_label = style->overlays_label,
    .overlay_color = faded (cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL)),
    .compare = o.compare != NULL,
    .label_a = style->label_a,
    .label_b = o.compare != NULL ? o.compare->label : NULL,
    .a_out = !a_in && n_rows > 0,
    .b_out = !b_in && run_usable (o.compare),
    .overlays_out = !overlays_in,
  };
  n += cl_plot_runs_legend (&runs, text, entries + n);
  if (n_events > 0)
    entries[n++] =
        (ClPlotLegendEntry){ "control change", cl_plot_color_marker (), CL_PLOT_LEGEND_DASHED, 1.0, !events_in };
  return n;
}

/* Steps and smoothed values of a run as drawn, into the axis ranges. */
static void
range_add_run (ClPlotRange *steps, ClPlotRange *values, ClPlotRange *positive, const ClMetricRow *rows, int n_rows,
               double ema, gboolean raw, double x_lo, double x_hi)
{
  ClPlotEma smooth[3];
  for (int s = 0; s < 3; s++)
    cl_plot_ema_init (&smooth[s], ema);
  for (int i = 0; i < n_rows; i++)
    {
      cl_plot_range_add (steps, (double) rows[i].step);
      /* under a zoom window, the values inside it decide the y axis */
      gboolean inside = (double) rows[i].step >= x_lo && (double) rows[i].step <= x_hi;
      for (int s = CL_LOSS_SERIES_TOTAL; s <= CL_LOSS_SERIES_DISTRIBUTION; s++)
        {
          double v = cl_plot_ema_push (&smooth[s], series_value (&rows[i], s));
          if (!inside)
            continue;
          cl_plot_range_add (values, v);
          if (v > 0.0)
            cl_plot_range_add (positive, v);
        }
      if (raw && inside)
        {
          cl_plot_range_add (values, rows[i].loss);
          if (rows[i].loss > 0.0f)
            cl_plot_range_add (positive, rows[i].loss);
        }
    }
}

/* Everything the drawing needs besides the data: computed once (compute_layout), then drawn. */
static void
compute_layout (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows, const ClEvent *events,
                int n_events, const ClLossPlotStyle *style, ClLossPlotLayout *g, ClPlotEventLabels *labels)
{
  ClPlotTheme look = look_for (style);
  double ema = style_ema (style);
  memset (g, 0, sizeof *g);
  /* tick counts are computed from sizes as ints: keep them finite */
  if (!(width >= 1.0) || !isfinite (width))
    width = 1.0;
  if (!(height >= 1.0) || !isfinite (height))
    height = 1.0;
  if (n_rows < 0 || rows == NULL)
    n_rows = 0;
  if (n_events < 0 || events == NULL)
    n_events = 0;

  /* data ranges: the curves as drawn (smoothed), plus the raw loss when it is shown, over
   * every run on the axes */
  Others others = others_of (style);
  const ClPlotView *view = style->view;
  double x_lo = -INFINITY, x_hi = INFINITY;
  cl_plot_view_apply_x (view, &x_lo, &x_hi);
  gboolean x_zoomed = isfinite (x_lo);
  ClPlotRange steps, values, positive;
  cl_plot_range_init (&steps);
  cl_plot_range_init (&values);
  cl_plot_range_init (&positive);
  range_add_run (&steps, &values, &positive, rows, n_rows, ema, style->show_raw && others.compare == NULL, x_lo, x_hi);
  for (int k = 0; k < others.n_overlays; k++)
    if (run_usable (&others.overlays[k]))
      range_add_run (&steps, &values, &positive, others.overlays[k].rows, others.overlays[k].n_rows, ema, FALSE, x_lo,
                     x_hi);
  if (run_usable (others.compare))
    range_add_run (&steps, &values, &positive, others.compare->rows, others.compare->n_rows, ema, FALSE, x_lo, x_hi);
  for (int i = 0; i < n_events; i++)
    cl_plot_range_add (&steps, (double) events[i].step);
  double step_lo = steps.n > 0 ? steps.lo : 0.0, step_hi = steps.n > 0 ? steps.hi : 100.0;
  if (x_zoomed)
    {
      step_lo = x_lo;
      step_hi = x_hi;
    }
  double value_lo = values.n > 0 ? values.lo : 0.0, value_hi = values.n > 0 ? values.hi : 1.0;
  g->log_y = view != NULL && view->log_y;
  if (g->log_y)
    {
      value_lo = positive.n > 0 ? positive.lo : 0.1;
      value_hi = positive.n > 0 ? positive.hi : 10.0;
    }
  double y_lo = NAN, y_hi = NAN;
  cl_plot_view_apply_y (view, &y_lo, &y_hi);
  gboolean y_zoomed = isfinite (y_lo);

  cl_plot_text_setup (cr);

  /* vertical furniture that does not depend on the axes */
  ClPlotLegendEntry entries[MAX_LEGEND];
  ClPlotRunsText legend_text;
  int n_entries = legend_entries (rows, n_rows, events, n_events, style, &legend_text, entries);
  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, style->title, look.title_font, FALSE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  double legend_h = cl_plot_legend_measure (cr, entries, n_entries, width - 2 * look.pad, look.legend_font);
  g->legend = (ClPlotRect){ 0.0, top, width, legend_h };
  top += legend_h + 0.5 * look.pad;

  cairo_save (cr);
  cl_plot_font (cr, look.small_font, FALSE);
  double event_row_h = cl_plot_text_height (cr) + 0.6 * look.pad;
  cairo_restore (cr);

  /* first guess of the plot height, to choose how many y ticks fit */
  ClPlotTicks probe;
  cl_plot_ticks_compute (&probe, 0.0, 1.0, 5, TRUE, FALSE);
  double bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &probe, "step", &look.axis);
  double guess_h = height - top - bottom_extent - look.pad - (n_events > 0 ? event_row_h : 0.0);
  int y_target = CLAMP ((int) (guess_h / (45.0 * style_font_scale (style))), 2, 8);
  if (y_zoomed)
    {
      /* a zoom window is shown as it is (in log10 units on a log axis) */
      cl_plot_ticks_compute (&g->left_ticks, y_lo, y_hi, y_target, FALSE, FALSE);
      g->left_ticks.lo = y_lo;
      g->left_ticks.hi = y_hi;
      if (g->log_y)
        {
          cl_plot_ticks_compute_log (&g->left_ticks, pow (10.0, y_lo), pow (10.0, y_hi), y_target);
          g->left_ticks.lo = y_lo;
          g->left_ticks.hi = y_hi;
          int k = 0;
          for (int i = 0; i < g->left_ticks.n; i++)
            if (g->left_ticks.v[i] >= y_lo - 1e-9 && g->left_ticks.v[i] <= y_hi + 1e-9)
              g->left_ticks.v[k++] = g->left_ticks.v[i];
          g->left_ticks.n = k;
        }
    }
  else if (g->log_y)
    cl_plot_ticks_compute_log (&g->left_ticks, value_lo, value_hi, y_target);
  else
    cl_plot_ticks_compute (&g->left_ticks, value_lo, value_hi, y_target, TRUE, FALSE);
  cl_plot_ticks_compute (&g->right_ticks, 0.0, 1.0, MIN (y_target, 5), TRUE, FALSE);

  double left_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->left_ticks,
                                            g->log_y ? "loss (nats, log scale)" : "loss (nats)", &look.axis);
  double right_extent =
      cl_plot_axis_extent (cr, CL_PLOT_SIDE_RIGHT, &g->right_ticks, "contrastive accuracy", &look.axis);
  g->plot.x = look.pad + left_extent;
  g->plot.w = MAX (width - look.pad - right_extent - g->plot.x, 1.0);

  int x_target = CLAMP ((int) (g->plot.w / (90.0 * style_font_scale (style))), 2, 10);
  cl_plot_ticks_compute (&g->x_ticks, step_lo, step_hi, x_target, !x_zoomed, !x_zoomed || step_hi - step_lo >= 4.0);
  if (x_zoomed)
    {
      g->x_ticks.lo = step_lo;
      g->x_ticks.hi = step_hi;
    }
  cl_plot_scale_init (&g->x, g->x_ticks.lo, g->x_ticks.hi, g->plot.x, g->plot.x + g->plot.w);
  bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &g->x_ticks, "step", &look.axis);

  /* event labels: greedy rows in the band above the plot */
  ClPlotEventLabels local = { 0 };
  ClPlotEventLabels *lab = labels != NULL ? labels : &local;
  cl_plot_event_labels_layout (cr, lab, events, n_events, &g->x, look.pad, width - look.pad, look.small_font, look.pad,
                               EVENT_LABEL_MAX_ROWS);
  g->event_label_rows = lab->rows;
  g->events_labelled = lab->labelled;
  double band_h = cl_plot_event_labels_band_height (lab, lab->rows);
  g->event_band = (ClPlotRect){ g->plot.x, top, g->plot.w, band_h };
  top += band_h + (band_h > 0.0 ? 0.3 * look.pad : 0.0);

  g->plot.y = top;
  g->plot.h = MAX (height - look.pad - bottom_extent - g->plot.y, 1.0);
  cl_plot_scale_init (&g->left, g->left_ticks.lo, g->left_ticks.hi, g->plot.y + g->plot.h, g->plot.y);
  cl_plot_scale_init (&g->right, g->right_ticks.lo, g->right_ticks.hi, g->plot.y + g->plot.h, g->plot.y);

  if (labels == NULL)
    cl_plot_event_labels_clear (&local);
}

void
cl_loss_plot_layout (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                     const ClEvent *events, int n_events, const ClLossPlotStyle *style, ClLossPlotLayout *layout)
{
  ClLossPlotStyle defaults;
  if (style == NULL)
    {
      cl_loss_plot_style_init (&defaults);
      style = &defaults;
    }
  cairo_save (cr);
  compute_layout (cr, width, height, rows, n_rows, events, n_events, style, layout, NULL);
  cairo_restore (cr);
}

/* A series of a run as drawn: steps and smoothed values (the accuracy clamped to its axis). */
typedef struct
{
  int n;
  double *x, *y;
} Series;

static Series
series_of (const ClMetricRow *rows, int n_rows, ClLossSeries series, double ema)
{
  Series out = { n_rows, g_new (double, MAX (n_rows, 1)), g_new (double, MAX (n_rows, 1)) };
  ClPlotEma smooth;
  cl_plot_ema_init (&smooth, ema);
  for (int i = 0; i < n_rows; i++)
    {
      double v = cl_plot_ema_push (&smooth, series_value (&rows[i], series));
      if (series == CL_LOSS_SERIES_ACCURACY && isfinite (v))
        v = CLAMP (v, 0.0, 1.0);
      out.x[i] = (double) rows[i].step;
      out.y[i] = v;
    }
  return out;
}

static void
series_free (Series *s)
{
  g_free (s->x);
  g_free (s->y);
}

/* Whether some of a series as drawn lies in the view's window: the accuracy against the x window
 * alone (its right axis is never zoomed), the others on the left axis (log10 on a log axis,
 * where values <= 0 are not drawn). */
static gboolean
series_in_view (const ClMetricRow *rows, int n_rows, ClLossSeries series, double ema, const ClPlotView *view)
{
  ClPlotWindow w = cl_plot_view_window (view);
  gboolean log_y = view->log_y && series != CL_LOSS_SERIES_ACCURACY;
  if (series == CL_LOSS_SERIES_ACCURACY)
    w.y_lo = -INFINITY, w.y_hi = INFINITY;
  Series s = series_of (rows, n_rows, series, ema);
  if (log_y)
    for (int i = 0; i < s.n; i++)
      s.y[i] = s.y[i] > 0.0 ? log10 (s.y[i]) : NAN;
  gboolean in = cl_plot_series_in_window (s.x, s.y, s.n, &w);
  series_free (&s);
  return in;
}

static ClPlotAxes
axes_for (const ClLossPlotLayout *g, ClLossSeries series)
{
  if (series == CL_LOSS_SERIES_ACCURACY)
    return (ClPlotAxes){ &g->x, &g->right, FALSE };
  return (ClPlotAxes){ &g->x, &g->left, g->log_y };
}

static void
draw_series (cairo_t *cr, const ClLossPlotLayout *g, const ClMetricRow *rows, int n_rows, ClLossSeries series,
             double ema, const ClPlotStroke *stroke)
{
  Series s = series_of (rows, n_rows, series, ema);
  ClPlotAxes axes = axes_for (g, series);
  cl_plot_chart_line (cr, &axes, s.x, s.y, s.n, stroke);
  series_free (&s);
}

/* The main run's row nearest to step (rows are in step order), or -1. */
static int
row_near (const ClMetricRow *rows, int n_rows, double step)
{
  if (n_rows <= 0 || !isfinite (step))
    return -1;
  int lo = 0, hi = n_rows - 1;
  while (lo < hi)
    {
      int mid = (lo + hi) / 2;
      if ((double) rows[mid].step < step)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo > 0 && fabs ((double) rows[lo - 1].step - step) <= fabs ((double) rows[lo].step - step))
    lo--;
  return lo;
}

/* The crosshair: every series' smoothed value at the hovered step, for A (and B). */
static void
draw_crosshair (cairo_t *cr, const ClPlotTheme *look, ClLossPlotLayout *g, const ClMetricRow *rows, int n_rows,
                const ClLossPlotStyle *style, double ema)
{
  const ClPlotView *view = style->view;
  g->hover_row = -1;
  if (view == NULL || !isfinite (view->hover_x))
    return;
  Others o = others_of (style);
  int row = row_near (rows, n_rows, view->hover_x);
  int row_b = run_usable (o.compare) ? row_near (o.compare->rows, o.compare->n_rows, view->hover_x) : -1;
  if (row < 0 && row_b < 0)
    return;
  double step = row >= 0 ? (double) rows[row].step : (double) o.compare->rows[row_b].step;
  g->hover_row = row;
  ClPlotReadout readouts[2 * CL_LOSS_SERIES_COUNT];
  char labels[2 * CL_LOSS_SERIES_COUNT][64];
  static const char *const short_label[CL_LOSS_SERIES_COUNT] = { "total loss", "alignment", "distribution",
                                                                 "contrastive acc." };
  int n = 0;
  for (int run = 0; run < 2; run++)
    {
      const ClMetricRow *r = run == 0 ? rows : (row_b >= 0 ? o.compare->rows : NULL);
      int at = run == 0 ? row : row_b, count = run == 0 ? n_rows : (row_b >= 0 ? o.compare->n_rows : 0);
      if (r == NULL || at < 0)
        continue;
      for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
        {
          Series series = series_of (r, count, s, ema);
          ClPlotAxes axes = axes_for (g, s);
          g_snprintf (labels[n], sizeof labels[n], "%s%s", o.compare != NULL ? (run == 0 ? "A " : "B ") : "",
                      short_label[s]);
          readouts[n] = (ClPlotReadout){ labels[n], cl_loss_plot_series_color (s), series.y[at],
                                         cl_plot_axes_y (&axes, series.y[at]), 3 };
          n++;
          series_free (&series);
        }
    }
  char heading[64];
  g_snprintf (heading, sizeof heading, "step %" G_GINT64_FORMAT, (gint64) step);
  cl_plot_crosshair_draw (cr, look, &g->plot, cl_plot_scale_map (&g->x, step), heading, readouts, n);
}

void
cl_loss_plot_draw_full (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                        const ClEvent *events, int n_events, const ClLossPlotStyle *style, ClLossPlotLayout *layout)
{
  ClLossPlotStyle defaults;
  if (style == NULL)
    {
      cl_loss_plot_style_init (&defaults);
      style = &defaults;
    }
  if (n_rows < 0 || rows == NULL)
    n_rows = 0;
  if (n_events < 0 || events == NULL)
    n_events = 0;
  if (!(width > 0.0) || !(height > 0.0) || !isfinite (width) || !isfinite (height))
    return;

  ClPlotTheme look = look_for (style);
  ClLossPlotLayout g;
  ClPlotEventLabels labels = { 0 };

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  compute_layout (cr, width, height, rows, n_rows, events, n_events, style, &g, &labels);

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, style->title, look.title_font, TRUE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  ClPlotLegendEntry entries[MAX_LEGEND];
  ClPlotRunsText legend_text;
  int n_entries = legend_entries (rows, n_rows, events, n_events, style, &legend_text, entries);
  cl_plot_legend_draw (cr, entries, n_entries, 0.5 * width, top, width - 2 * look.pad, look.legend_font);

  cl_plot_grid_draw (cr, &g.plot, &g.x, &g.x_ticks, &g.left, &g.left_ticks, 1.0);

  /* event markers under the data, labels in their band above the plot */
  cl_plot_event_labels_draw (cr, &labels, &g.plot, g.event_band.y + g.event_band.h);

  /* drawn back to front: the total loss is the headline, on top */
  static const ClLossSeries order[] = {
    CL_LOSS_SERIES_ACCURACY,
    CL_LOSS_SERIES_DISTRIBUTION,
    CL_LOSS_SERIES_ALIGNMENT,
    CL_LOSS_SERIES_TOTAL,
  };
  Others others = others_of (style);
  double ema = style_ema (style);
  cairo_save (cr);
  /* room for the stroke of a curve lying on the frame */
  cairo_rectangle (cr, g.plot.x, g.plot.y - look.line_width, g.plot.w, g.plot.h + 2 * look.line_width);
  cairo_clip (cr);
  /* earlier runs under everything of this one */
  for (int k = 0; k < others.n_overlays; k++)
    {
      const ClLossPlotRun *run = &others.overlays[k];
      if (!run_usable (run))
        continue;
      for (size_t s = 0; s < G_N_ELEMENTS (order); s++)
        {
          ClPlotStroke faded_stroke = cl_plot_stroke (cl_loss_plot_series_color (order[s]), look.overlay_width);
          faded_stroke.alpha = look.overlay_alpha;
          draw_series (cr, &g, run->rows, run->n_rows, order[s], ema, &faded_stroke);
        }
    }
  if (run_usable (others.compare))
    for (size_t s = 0; s < G_N_ELEMENTS (order); s++)
      {
        ClPlotStroke b = cl_plot_stroke_b (cl_loss_plot_series_color (order[s]), look.line_width);
        draw_series (cr, &g, others.compare->rows, others.compare->n_rows, order[s], ema, &b);
      }
  cairo_restore (cr);

  if (n_rows > 0)
    {
      cairo_save (cr);
      cairo_rectangle (cr, g.plot.x, g.plot.y - look.line_width, g.plot.w, g.plot.h + 2 * look.line_width);
      cairo_clip (cr);
      if (style->show_raw && ema > 0.0 && others.compare == NULL)
        {
          ClPlotStroke raw = cl_plot_stroke (cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL), look.raw_width);
          raw.alpha = 0.28;
          draw_series (cr, &g, rows, n_rows, CL_LOSS_SERIES_TOTAL, 0.0, &raw);
        }
      for (size_t s = 0; s < G_N_ELEMENTS (order); s++)
        {
          ClPlotStroke solid = cl_plot_stroke (cl_loss_plot_series_color (order[s]), look.line_width);
          draw_series (cr, &g, rows, n_rows, order[s], ema, &solid);
        }
      cairo_restore (cr);
    }

  ClRgb accuracy_color = cl_loss_plot_series_color (CL_LOSS_SERIES_ACCURACY);
  /* darker than the line so the tick labels stay readable as text */
  ClRgb accuracy_text = { accuracy_color.r * 0.75, accuracy_color.g * 0.75, accuracy_color.b * 0.75 };
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_LEFT, &g.left, &g.left_ticks,
                     g.log_y ? "loss (nats, log scale)" : "loss (nats)", &look.axis, NULL);
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_RIGHT, &g.right, &g.right_ticks, "contrastive accuracy", &look.axis,
                     &accuracy_text);
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_BOTTOM, &g.x, &g.x_ticks, "step", &look.axis, NULL);

  if (n_rows == 0 && !run_usable (others.compare))
    cl_plot_note_draw (cr, &g.plot, "waiting for the first step", look.note_font);
  draw_crosshair (cr, &look, &g, rows, n_rows, style, ema);

  cl_plot_event_labels_clear (&labels);
  cairo_restore (cr);
  if (layout != NULL)
    *layout = g;
}

void
cl_loss_plot_draw (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows, const ClEvent *events,
                   int n_events, const ClLossPlotStyle *style)
{
  cl_loss_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, style, NULL);
}

void
cl_loss_plot_draw_cb (cairo_t *cr, double width, double height, gpointer loss_plot_data)
{
  const ClLossPlotData *d = loss_plot_data;
  cl_loss_plot_draw (cr, width, height, d->rows, d->n_rows, d->events, d->n_events, d->style);
}
