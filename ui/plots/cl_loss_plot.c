#include "ui/plots/cl_loss_plot.h"

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
}

ClRgb
cl_loss_plot_series_color (ClLossSeries series)
{
  switch (series)
    {
    case CL_LOSS_SERIES_ALIGNMENT: return cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION);
    case CL_LOSS_SERIES_DISTRIBUTION: return cl_plot_okabe_ito (CL_PLOT_OI_GREEN);
    case CL_LOSS_SERIES_ACCURACY: return cl_plot_okabe_ito (CL_PLOT_OI_PURPLE);
    case CL_LOSS_SERIES_TOTAL:
    case CL_LOSS_SERIES_COUNT:
    default: return cl_plot_okabe_ito (CL_PLOT_OI_BLUE);
    }
}

static const char *const series_label[CL_LOSS_SERIES_COUNT] = {
  "total loss", "alignment", "distribution", "contrastive accuracy (right axis)",
};

static double
series_value (const ClMetricRow *row, ClLossSeries series)
{
  switch (series)
    {
    case CL_LOSS_SERIES_ALIGNMENT: return row->alignment;
    case CL_LOSS_SERIES_DISTRIBUTION: return row->distribution;
    case CL_LOSS_SERIES_ACCURACY: return row->contrastive_acc;
    case CL_LOSS_SERIES_TOTAL:
    case CL_LOSS_SERIES_COUNT:
    default: return row->loss;
    }
}

static double
style_ema (const ClLossPlotStyle *style)
{
  double ema = style->ema;
  return isfinite (ema) ? CLAMP (ema, 0.0, 0.999) : 0.0;
}

static double
style_font_scale (const ClLossPlotStyle *style)
{
  double s = style->font_scale;
  return (s > 0.0 && isfinite (s)) ? CLAMP (s, 0.25, 8.0) : 1.0;
}

typedef struct {
  double pad;
  ClPlotAxisStyle axis;
  double title_font, legend_font, event_font, note_font;
  double series_width, raw_width;
} Look;

static Look
look_for (const ClLossPlotStyle *style)
{
  double fs = style_font_scale (style);
  Look look;
  look.pad = 8.0 * fs;
  cl_plot_axis_style_init (&look.axis, fs);
  look.title_font = 14.0 * fs;
  look.legend_font = 11.0 * fs;
  look.event_font = 10.0 * fs;
  look.note_font = 13.0 * fs;
  look.series_width = 1.8;
  look.raw_width = 1.0;
  return look;
}

/* The other runs of a figure, cleaned of bad counts. */
typedef struct {
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

#define MAX_LEGEND (CL_LOSS_SERIES_COUNT + 4)

typedef struct {
  char overlays[96];
  char a[160], b[160];
} LegendText;

static int
legend_entries (int n_events, const ClLossPlotStyle *style, LegendText *text, ClPlotLegendEntry *entries)
{
  Others o = others_of (style);
  int n = 0;
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    entries[n++] = (ClPlotLegendEntry){ series_label[s], cl_loss_plot_series_color (s),
                                        CL_PLOT_LEGEND_LINE, 2.0 };
  if (o.compare != NULL)
    {
      /* the line style, not the colour, tells A from B */
      g_snprintf (text->a, sizeof text->a, "A (solid): %s", style->label_a ? style->label_a : "this run");
      g_snprintf (text->b, sizeof text->b, "B (dashed): %s", o.compare->label ? o.compare->label : "other run");
      entries[n++] = (ClPlotLegendEntry){ text->a, cl_plot_color_text (), CL_PLOT_LEGEND_LINE, 2.0 };
      entries[n++] = (ClPlotLegendEntry){ text->b, cl_plot_color_text (), CL_PLOT_LEGEND_DASHED, 2.0 };
    }
  if (o.n_overlays > 0)
    {
      if (style->overlays_label)
        g_strlcpy (text->overlays, style->overlays_label, sizeof text->overlays);
      else
        g_snprintf (text->overlays, sizeof text->overlays, "%d earlier run%s (faded)", o.n_overlays,
                    o.n_overlays == 1 ? "" : "s");
      entries[n++] = (ClPlotLegendEntry){ text->overlays, faded (cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL)),
                                          CL_PLOT_LEGEND_LINE, CL_LOSS_PLOT_OVERLAY_WIDTH };
    }
  if (n_events > 0)
    entries[n++] = (ClPlotLegendEntry){ "control change", cl_plot_color_marker (),
                                        CL_PLOT_LEGEND_DASHED, 1.0 };
  return n;
}

/* Steps and smoothed values of a run as drawn, into the axis ranges. */
static void
range_add_run (ClPlotRange *steps, ClPlotRange *values, const ClMetricRow *rows, int n_rows, double ema,
               gboolean raw)
{
  ClPlotEma smooth[3];
  for (int s = 0; s < 3; s++)
    cl_plot_ema_init (&smooth[s], ema);
  for (int i = 0; i < n_rows; i++)
    {
      cl_plot_range_add (steps, (double) rows[i].step);
      for (int s = CL_LOSS_SERIES_TOTAL; s <= CL_LOSS_SERIES_DISTRIBUTION; s++)
        cl_plot_range_add (values, cl_plot_ema_push (&smooth[s], series_value (&rows[i], s)));
      if (raw)
        cl_plot_range_add (values, rows[i].loss);
    }
}

/* Everything the drawing needs besides the data: computed once, used by layout and draw. */
static void
layout (cairo_t *cr, double width, double height,
        const ClMetricRow *rows, int n_rows, const ClEvent *events, int n_events,
        const ClLossPlotStyle *style, ClLossPlotGeometry *g, ClPlotEventLabels *labels)
{
  Look look = look_for (style);
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
  ClPlotRange steps, values;
  cl_plot_range_init (&steps);
  cl_plot_range_init (&values);
  range_add_run (&steps, &values, rows, n_rows, ema, style->show_raw && others.compare == NULL);
  for (int k = 0; k < others.n_overlays; k++)
    if (run_usable (&others.overlays[k]))
      range_add_run (&steps, &values, others.overlays[k].rows, others.overlays[k].n_rows, ema, FALSE);
  if (run_usable (others.compare))
    range_add_run (&steps, &values, others.compare->rows, others.compare->n_rows, ema, FALSE);
  for (int i = 0; i < n_events; i++)
    cl_plot_range_add (&steps, (double) events[i].step);
  double step_lo = steps.n > 0 ? steps.lo : 0.0, step_hi = steps.n > 0 ? steps.hi : 100.0;
  double value_lo = values.n > 0 ? values.lo : 0.0, value_hi = values.n > 0 ? values.hi : 1.0;

  cl_plot_text_setup (cr);

  /* vertical furniture that does not depend on the axes */
  ClPlotLegendEntry entries[MAX_LEGEND];
  LegendText legend_text;
  int n_entries = legend_entries (n_events, style, &legend_text, entries);
  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, style->title, look.title_font, FALSE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  double legend_h = cl_plot_legend_measure (cr, entries, n_entries, width - 2 * look.pad,
                                            look.legend_font);
  g->legend = (ClPlotRect){ 0.0, top, width, legend_h };
  top += legend_h + 0.5 * look.pad;

  cairo_save (cr);
  cl_plot_font (cr, look.event_font, FALSE);
  double event_row_h = cl_plot_text_height (cr) + 0.6 * look.pad;
  cairo_restore (cr);

  /* first guess of the plot height, to choose how many y ticks fit */
  ClPlotTicks probe;
  cl_plot_ticks_compute (&probe, 0.0, 1.0, 5, TRUE, FALSE);
  double bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &probe, "step", &look.axis);
  double guess_h = height - top - bottom_extent - look.pad - (n_events > 0 ? event_row_h : 0.0);
  int y_target = CLAMP ((int) (guess_h / (45.0 * style_font_scale (style))), 2, 8);
  cl_plot_ticks_compute (&g->left_ticks, value_lo, value_hi, y_target, TRUE, FALSE);
  cl_plot_ticks_compute (&g->right_ticks, 0.0, 1.0, MIN (y_target, 5), TRUE, FALSE);

  double left_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->left_ticks,
                                            "loss (nats)", &look.axis);
  double right_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_RIGHT, &g->right_ticks,
                                             "contrastive accuracy", &look.axis);
  g->plot.x = look.pad + left_extent;
  g->plot.w = MAX (width - look.pad - right_extent - g->plot.x, 1.0);

  int x_target = CLAMP ((int) (g->plot.w / (90.0 * style_font_scale (style))), 2, 10);
  cl_plot_ticks_compute (&g->x_ticks, step_lo, step_hi, x_target, TRUE, TRUE);
  cl_plot_scale_init (&g->x, g->x_ticks.lo, g->x_ticks.hi, g->plot.x, g->plot.x + g->plot.w);
  bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &g->x_ticks, "step", &look.axis);

  /* event labels: greedy rows in the band above the plot */
  ClPlotEventLabels local = { 0 };
  ClPlotEventLabels *lab = labels != NULL ? labels : &local;
  cl_plot_event_labels_layout (cr, lab, events, n_events, &g->x, look.pad, width - look.pad,
                               look.event_font, look.pad, EVENT_LABEL_MAX_ROWS);
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
cl_loss_plot_layout (cairo_t *cr, double width, double height,
                     const ClMetricRow *rows, int n_rows,
                     const ClEvent *events, int n_events,
                     const ClLossPlotStyle *style, ClLossPlotGeometry *geometry)
{
  ClLossPlotStyle defaults;
  if (style == NULL)
    {
      cl_loss_plot_style_init (&defaults);
      style = &defaults;
    }
  cairo_save (cr);
  layout (cr, width, height, rows, n_rows, events, n_events, style, geometry, NULL);
  cairo_restore (cr);
}

/* B of a comparison: a dashed stroke, which the decimator's filled envelope cannot carry.
 * The smoothed curve is thinned to one point per device pixel column, which it cannot tell
 * apart from the full polyline. */
static void
draw_series_dashed (cairo_t *cr, const ClLossPlotGeometry *g, const ClMetricRow *rows, int n_rows,
                    ClLossSeries series, double ema, double line_width)
{
  const ClPlotScale *y = series == CL_LOSS_SERIES_ACCURACY ? &g->right : &g->left;
  double ux = 1.0, uy = 0.0;
  cairo_user_to_device_distance (cr, &ux, &uy);
  double column = 1.0 / MAX (hypot (ux, uy), 1e-6);
  ClPlotEma smooth;
  cl_plot_ema_init (&smooth, ema);
  double last_x = -INFINITY, pending_x = NAN, pending_y = NAN;
  gboolean drawing = FALSE;
  cairo_new_path (cr);
  for (int i = 0; i < n_rows; i++)
    {
      double v = cl_plot_ema_push (&smooth, series_value (&rows[i], series));
      if (!isfinite (v))
        continue;
      if (series == CL_LOSS_SERIES_ACCURACY)
        v = CLAMP (v, 0.0, 1.0);
      double x = cl_plot_scale_map (&g->x, (double) rows[i].step), yy = cl_plot_scale_map (y, v);
      if (!drawing)
        {
          cairo_move_to (cr, x, yy);
          drawing = TRUE;
          last_x = x;
          continue;
        }
      if (x - last_x >= column)
        {
          cairo_line_to (cr, x, yy);
          last_x = x;
          pending_x = NAN;
        }
      else
        {
          pending_x = x;
          pending_y = yy;
        }
    }
  if (isfinite (pending_x))
    cairo_line_to (cr, pending_x, pending_y);
  double dash[2] = { 4.0 * line_width, 2.5 * line_width };
  cairo_save (cr);
  cairo_set_dash (cr, dash, 2, 0.0);
  cairo_set_line_width (cr, line_width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_series (cairo_t *cr, const ClLossPlotGeometry *g, const ClMetricRow *rows, int n_rows,
             ClLossSeries series, double ema, gboolean raw, double line_width)
{
  const ClPlotScale *y = series == CL_LOSS_SERIES_ACCURACY ? &g->right : &g->left;
  ClPlotEma smooth;
  cl_plot_ema_init (&smooth, raw ? 0.0 : ema);
  ClPlotLine line;
  cl_plot_line_begin (&line, cr, line_width);
  /* the scales as x -> a*x + b: this loop runs for every logged step, every frame */
  double xa = (g->x.p1 - g->x.p0) / (g->x.d1 - g->x.d0), xb = g->x.p0 - xa * g->x.d0;
  double ya = (y->p1 - y->p0) / (y->d1 - y->d0), yb = y->p0 - ya * y->d0;
  for (int i = 0; i < n_rows; i++)
    {
      double v = cl_plot_ema_push (&smooth, series_value (&rows[i], series));
      if (series == CL_LOSS_SERIES_ACCURACY && isfinite (v))
        v = CLAMP (v, 0.0, 1.0);
      cl_plot_line_add (&line, xa * (double) rows[i].step + xb, ya * v + yb);
    }
  cl_plot_line_draw (&line);
}

void
cl_loss_plot_draw_full (cairo_t *cr, double width, double height,
                        const ClMetricRow *rows, int n_rows,
                        const ClEvent *events, int n_events,
                        const ClLossPlotStyle *style, ClLossPlotGeometry *geometry)
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

  Look look = look_for (style);
  ClLossPlotGeometry g;
  ClPlotEventLabels labels = { 0 };

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  layout (cr, width, height, rows, n_rows, events, n_events, style, &g, &labels);

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, style->title, look.title_font, TRUE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  ClPlotLegendEntry entries[MAX_LEGEND];
  LegendText legend_text;
  int n_entries = legend_entries (n_events, style, &legend_text, entries);
  cl_plot_legend_draw (cr, entries, n_entries, 0.5 * width, top, width - 2 * look.pad,
                       look.legend_font);

  cl_plot_grid_draw (cr, &g.plot, &g.x, &g.x_ticks, &g.left, &g.left_ticks, 1.0);

  /* event markers under the data, labels in their band above the plot */
  cl_plot_event_labels_draw (cr, &labels, &g.plot, g.event_band.y + g.event_band.h);

  /* drawn back to front: the total loss is the headline, on top */
  static const ClLossSeries order[] = {
    CL_LOSS_SERIES_ACCURACY, CL_LOSS_SERIES_DISTRIBUTION, CL_LOSS_SERIES_ALIGNMENT,
    CL_LOSS_SERIES_TOTAL,
  };
  Others others = others_of (style);
  double ema = style_ema (style);
  cairo_save (cr);
  /* room for the stroke of a curve lying on the frame */
  cairo_rectangle (cr, g.plot.x, g.plot.y - look.series_width, g.plot.w, g.plot.h + 2 * look.series_width);
  cairo_clip (cr);
  /* earlier runs under everything of this one */
  for (int k = 0; k < others.n_overlays; k++)
    {
      const ClLossPlotRun *run = &others.overlays[k];
      if (!run_usable (run))
        continue;
      for (size_t s = 0; s < G_N_ELEMENTS (order); s++)
        {
          cl_plot_set_rgba (cr, cl_loss_plot_series_color (order[s]), CL_LOSS_PLOT_OVERLAY_ALPHA);
          draw_series (cr, &g, run->rows, run->n_rows, order[s], ema, FALSE, CL_LOSS_PLOT_OVERLAY_WIDTH);
        }
    }
  if (run_usable (others.compare))
    for (size_t s = 0; s < G_N_ELEMENTS (order); s++)
      {
        cl_plot_set_rgb (cr, cl_loss_plot_series_color (order[s]));
        draw_series_dashed (cr, &g, others.compare->rows, others.compare->n_rows, order[s], ema, look.series_width);
      }
  cairo_restore (cr);

  if (n_rows > 0)
    {
      cairo_save (cr);
      cairo_rectangle (cr, g.plot.x, g.plot.y - look.series_width,
                       g.plot.w, g.plot.h + 2 * look.series_width);
      cairo_clip (cr);
      if (style->show_raw && ema > 0.0 && others.compare == NULL)
        {
          cl_plot_set_rgba (cr, cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL), 0.28);
          draw_series (cr, &g, rows, n_rows, CL_LOSS_SERIES_TOTAL, ema, TRUE, look.raw_width);
        }
      for (size_t s = 0; s < G_N_ELEMENTS (order); s++)
        {
          cl_plot_set_rgb (cr, cl_loss_plot_series_color (order[s]));
          draw_series (cr, &g, rows, n_rows, order[s], ema, FALSE, look.series_width);
        }
      cairo_restore (cr);
    }

  ClRgb accuracy_color = cl_loss_plot_series_color (CL_LOSS_SERIES_ACCURACY);
  /* darker than the line so the tick labels stay readable as text */
  ClRgb accuracy_text = { accuracy_color.r * 0.75, accuracy_color.g * 0.75, accuracy_color.b * 0.75 };
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_LEFT, &g.left, &g.left_ticks, "loss (nats)",
                     &look.axis, NULL);
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_RIGHT, &g.right, &g.right_ticks,
                     "contrastive accuracy", &look.axis, &accuracy_text);
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_BOTTOM, &g.x, &g.x_ticks, "step", &look.axis, NULL);

  if (n_rows == 0 && !run_usable (others.compare))
    cl_plot_note_draw (cr, &g.plot, "waiting for the first step", look.note_font);

  cl_plot_event_labels_clear (&labels);
  cairo_restore (cr);
  if (geometry != NULL)
    *geometry = g;
}

void
cl_loss_plot_draw (cairo_t *cr, double width, double height,
                   const ClMetricRow *rows, int n_rows,
                   const ClEvent *events, int n_events,
                   const ClLossPlotStyle *style)
{
  cl_loss_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, style, NULL);
}

void
cl_loss_plot_draw_cb (cairo_t *cr, double width, double height, gpointer loss_plot_data)
{
  const ClLossPlotData *d = loss_plot_data;
  cl_loss_plot_draw (cr, width, height, d->rows, d->n_rows, d->events, d->n_events, d->style);
}
