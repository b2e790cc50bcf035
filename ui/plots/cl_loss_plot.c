#include "cl_loss_plot.h"

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

static int
legend_entries (int n_events, ClPlotLegendEntry *entries)
{
  int n = 0;
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    entries[n++] = (ClPlotLegendEntry){ series_label[s], cl_loss_plot_series_color (s),
                                        CL_PLOT_LEGEND_LINE, 2.0 };
  if (n_events > 0)
    entries[n++] = (ClPlotLegendEntry){ "control change", cl_plot_color_marker (),
                                        CL_PLOT_LEGEND_DASHED, 1.0 };
  return n;
}

static void
event_label_text (const ClEvent *event, char *buf, size_t size)
{
  /* the fields are fixed arrays that a writer might fill to the brim */
  g_snprintf (buf, size, "%.*s=%.*s", (int) sizeof event->key, event->key,
              (int) sizeof event->new_value, event->new_value);
}

/* Event order for labelling: by step, stable, because labels are placed left to right. */
static int
compare_event_index (gconstpointer a, gconstpointer b, gpointer events_ptr)
{
  const ClEvent *events = events_ptr;
  int ia = *(const int *) a, ib = *(const int *) b;
  if (events[ia].step != events[ib].step)
    return events[ia].step < events[ib].step ? -1 : 1;
  return ia - ib;
}

typedef char EventText[96];

typedef struct {
  int n;
  int *order;      /* event indices sorted by step */
  double *centre;  /* per sorted slot */
  double *width;
  double *left;
  int *row;
  EventText *text;
} EventLabels;

static void
event_labels_clear (EventLabels *labels)
{
  g_free (labels->order);
  g_free (labels->centre);
  g_free (labels->width);
  g_free (labels->left);
  g_free (labels->row);
  g_free (labels->text);
  memset (labels, 0, sizeof *labels);
}

/* Everything the drawing needs besides the data: computed once, used by layout and draw. */
static void
layout (cairo_t *cr, double width, double height,
        const ClMetricRow *rows, int n_rows, const ClEvent *events, int n_events,
        const ClLossPlotStyle *style, ClLossPlotGeometry *g, EventLabels *labels)
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

  /* data ranges: the curves as drawn (smoothed), plus the raw loss when it is shown */
  ClPlotRange steps, values;
  cl_plot_range_init (&steps);
  cl_plot_range_init (&values);
  ClPlotEma smooth[3];
  for (int s = 0; s < 3; s++)
    cl_plot_ema_init (&smooth[s], ema);
  for (int i = 0; i < n_rows; i++)
    {
      cl_plot_range_add (&steps, (double) rows[i].step);
      for (int s = CL_LOSS_SERIES_TOTAL; s <= CL_LOSS_SERIES_DISTRIBUTION; s++)
        cl_plot_range_add (&values, cl_plot_ema_push (&smooth[s], series_value (&rows[i], s)));
      if (style->show_raw)
        cl_plot_range_add (&values, rows[i].loss);
    }
  for (int i = 0; i < n_events; i++)
    cl_plot_range_add (&steps, (double) events[i].step);
  double step_lo = steps.n > 0 ? steps.lo : 0.0, step_hi = steps.n > 0 ? steps.hi : 100.0;
  double value_lo = values.n > 0 ? values.lo : 0.0, value_hi = values.n > 0 ? values.hi : 1.0;

  cl_plot_text_setup (cr);

  /* vertical furniture that does not depend on the axes */
  ClPlotLegendEntry entries[CL_LOSS_SERIES_COUNT + 1];
  int n_entries = legend_entries (n_events, entries);
  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, style->title, look.title_font, FALSE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  double legend_h = cl_plot_legend_measure (cr, entries, n_entries, width - 2 * look.pad,
                                            look.legend_font);
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
  EventLabels local = { 0 };
  EventLabels *lab = labels != NULL ? labels : &local;
  if (n_events > 0)
    {
      lab->n = n_events;
      lab->order = g_new (int, n_events);
      lab->centre = g_new (double, n_events);
      lab->width = g_new (double, n_events);
      lab->left = g_new (double, n_events);
      lab->row = g_new (int, n_events);
      lab->text = g_new (EventText, n_events);
      for (int i = 0; i < n_events; i++)
        lab->order[i] = i;
      g_qsort_with_data (lab->order, n_events, sizeof (int), compare_event_index, (gpointer) events);
      cairo_save (cr);
      cl_plot_font (cr, look.event_font, FALSE);
      double box_pad = 0.4 * look.pad;
      for (int k = 0; k < n_events; k++)
        {
          event_label_text (&events[lab->order[k]], lab->text[k], sizeof lab->text[k]);
          lab->centre[k] = cl_plot_scale_map (&g->x, (double) events[lab->order[k]].step);
          lab->width[k] = cl_plot_text_width (cr, lab->text[k]) + 2 * box_pad;
        }
      cairo_restore (cr);
      g->event_label_rows = cl_plot_place_labels (lab->centre, lab->width, n_events, look.pad,
                                                  width - look.pad, 0.5 * look.pad,
                                                  EVENT_LABEL_MAX_ROWS, lab->left, lab->row);
      for (int k = 0; k < n_events; k++)
        if (lab->row[k] >= 0)
          g->events_labelled++;
    }
  double band_h = g->event_label_rows * event_row_h;
  g->event_band = (ClPlotRect){ g->plot.x, top, g->plot.w, band_h };
  top += band_h + (band_h > 0.0 ? 0.3 * look.pad : 0.0);

  g->plot.y = top;
  g->plot.h = MAX (height - look.pad - bottom_extent - g->plot.y, 1.0);
  cl_plot_scale_init (&g->left, g->left_ticks.lo, g->left_ticks.hi, g->plot.y + g->plot.h, g->plot.y);
  cl_plot_scale_init (&g->right, g->right_ticks.lo, g->right_ticks.hi, g->plot.y + g->plot.h, g->plot.y);

  if (labels == NULL)
    event_labels_clear (&local);
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
  EventLabels labels = { 0 };

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
  ClPlotLegendEntry entries[CL_LOSS_SERIES_COUNT + 1];
  int n_entries = legend_entries (n_events, entries);
  cl_plot_legend_draw (cr, entries, n_entries, 0.5 * width, top, width - 2 * look.pad,
                       look.legend_font);

  cl_plot_grid_draw (cr, &g.plot, &g.x, &g.x_ticks, &g.left, &g.left_ticks, 1.0);

  /* event markers under the data, labels in their band above the plot */
  if (n_events > 0)
    {
      cairo_save (cr);
      cl_plot_font (cr, look.event_font, FALSE);
      double row_h = g.event_label_rows > 0 ? g.event_band.h / g.event_label_rows : 0.0;
      double band_bottom = g.event_band.y + g.event_band.h;
      for (int k = 0; k < labels.n; k++)
        {
          double x = labels.centre[k];
          if (x < g.plot.x - 0.5 || x > g.plot.x + g.plot.w + 0.5)
            continue;
          ClPlotRect span = g.plot;
          if (labels.row[k] >= 0)
            {
              /* the dashed line reaches up to its own label */
              double label_bottom = band_bottom - labels.row[k] * row_h - 0.15 * row_h;
              span.h += span.y - label_bottom;
              span.y = label_bottom;
            }
          cl_plot_vmarker_draw (cr, &span, x, cl_plot_color_marker (), 1.0);
        }
      for (int k = 0; k < labels.n; k++)
        {
          if (labels.row[k] < 0)
            continue;
          double y1 = band_bottom - labels.row[k] * row_h - 0.15 * row_h;
          double y0 = y1 - 0.85 * row_h;
          cairo_rectangle (cr, labels.left[k], y0, labels.width[k], y1 - y0);
          cl_plot_set_rgb (cr, cl_plot_color_background ());
          cairo_fill_preserve (cr);
          cairo_set_line_width (cr, 0.8);
          cl_plot_set_rgb (cr, cl_plot_color_marker ());
          cairo_stroke (cr);
          cl_plot_set_rgb (cr, cl_plot_color_text ());
          cl_plot_text (cr, labels.left[k] + 0.5 * labels.width[k], 0.5 * (y0 + y1),
                        labels.text[k], 0.5, 0.5, 0.0);
        }
      cairo_restore (cr);
    }

  if (n_rows > 0)
    {
      double ema = style_ema (style);
      cairo_save (cr);
      /* room for the stroke of a curve lying on the frame */
      cairo_rectangle (cr, g.plot.x, g.plot.y - look.series_width,
                       g.plot.w, g.plot.h + 2 * look.series_width);
      cairo_clip (cr);
      if (style->show_raw && ema > 0.0)
        {
          cl_plot_set_rgba (cr, cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL), 0.28);
          draw_series (cr, &g, rows, n_rows, CL_LOSS_SERIES_TOTAL, ema, TRUE, look.raw_width);
        }
      /* drawn back to front: the total loss is the headline, on top */
      static const ClLossSeries order[] = {
        CL_LOSS_SERIES_ACCURACY, CL_LOSS_SERIES_DISTRIBUTION, CL_LOSS_SERIES_ALIGNMENT,
        CL_LOSS_SERIES_TOTAL,
      };
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

  if (n_rows == 0)
    cl_plot_note_draw (cr, &g.plot, "waiting for the first step", look.note_font);

  event_labels_clear (&labels);
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
