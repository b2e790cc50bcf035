#include "cl_probe_plot.h"

#include <math.h>
#include <string.h>

#define EVENT_LABEL_MAX_ROWS 3

typedef struct {
  double pad;
  ClPlotAxisStyle axis;
  double title_font, legend_font, event_font, note_font;
  double line_width, point_radius, chance_width;
} Look;

static Look
look_default (void)
{
  Look look;
  look.pad = 8.0;
  cl_plot_axis_style_init (&look.axis, 1.0);
  look.title_font = 14.0;
  look.legend_font = 11.0;
  look.event_font = 10.0;
  look.note_font = 13.0;
  look.line_width = 1.8;
  look.point_radius = 3.2;
  look.chance_width = 1.2;
  return look;
}

ClRgb
cl_probe_plot_target_color (int index)
{
  return cl_plot_series_color (index);
}

gboolean
cl_probe_plot_is_per_bit_target (const char *target, size_t size)
{
  if (target == NULL || size < 4 || strncmp (target, "bit", 3) != 0)
    return FALSE;
  size_t i = 3;
  if (i >= size || !g_ascii_isdigit (target[i]))
    return FALSE;
  while (i < size && g_ascii_isdigit (target[i]))
    i++;
  return i == size || target[i] == '\0';
}

/* One line of the figure. */
typedef struct {
  GArray *points;      /* row indices, sorted by step */
  double chance;       /* from the row with the largest step that has one */
  int64_t chance_step;
  gboolean baseline;   /* has a step-0 point */
} Target;

typedef struct {
  int n;
  Target t[CL_PROBE_PLOT_MAX_TARGETS];
} Targets;

static void
targets_clear (Targets *ts)
{
  for (int i = 0; i < ts->n; i++)
    g_array_free (ts->t[i].points, TRUE);
  ts->n = 0;
}

/* By step, then by position in the log, so equal steps keep their order. */
static int
compare_point_with_data (gconstpointer a, gconstpointer b, gpointer rows)
{
  int ia = *(const int *) a, ib = *(const int *) b;
  const ClProbeRow *r = rows;
  if (r[ia].step != r[ib].step)
    return r[ia].step < r[ib].step ? -1 : 1;
  return ia - ib;
}

/* Groups rows by target (first appearance order), leaving out the per-bit targets. */
static void
collect_targets (const ClProbeRow *rows, int n_rows, Targets *ts, ClProbePlotGeometry *g)
{
  ts->n = 0;
  for (int i = 0; i < n_rows; i++)
    {
      const ClProbeRow *row = &rows[i];
      const char *end = memchr (row->target, '\0', sizeof row->target);
      size_t len = end != NULL ? (size_t) (end - row->target) : sizeof row->target;
      if (len == 0 || cl_probe_plot_is_per_bit_target (row->target, len))
        continue;
      int k;
      for (k = 0; k < ts->n; k++)
        if (strlen (g->targets[k]) == len && memcmp (g->targets[k], row->target, len) == 0)
          break;
      if (k == ts->n)
        {
          if (ts->n >= CL_PROBE_PLOT_MAX_TARGETS)
            continue;
          memcpy (g->targets[k], row->target, len);
          g->targets[k][len] = '\0';
          ts->t[k].points = g_array_new (FALSE, FALSE, sizeof (int));
          ts->t[k].chance = NAN;
          ts->t[k].chance_step = INT64_MIN;
          ts->t[k].baseline = FALSE;
          ts->n++;
        }
      Target *t = &ts->t[k];
      g_array_append_val (t->points, i);
      if (row->step >= t->chance_step && isfinite (row->chance))
        {
          t->chance_step = row->step;
          t->chance = CLAMP (row->chance, 0.0, 1.0);
        }
      if (row->step == 0 && isfinite (row->accuracy))
        t->baseline = TRUE;
    }
  for (int k = 0; k < ts->n; k++)
    {
      GArray *p = ts->t[k].points;
      g_qsort_with_data (p->data, p->len, sizeof (int), compare_point_with_data, (gpointer) rows);
      g->chance[k] = ts->t[k].chance;
    }
  g->n_targets = ts->n;
}

static const char *
target_label (const char *target)
{
  /* the one name that needs explaining: it is not a single probe */
  return strcmp (target, "bits") == 0 ? "bits (mean over bits)" : target;
}

static int
legend_entries (const ClProbePlotGeometry *g, const Targets *ts, int n_events,
                ClPlotLegendEntry *entries)
{
  int n = 0;
  gboolean baseline = FALSE, chance = FALSE;
  for (int k = 0; k < ts->n; k++)
    {
      entries[n++] = (ClPlotLegendEntry){ target_label (g->targets[k]), cl_probe_plot_target_color (k),
                                          g->markers ? CL_PLOT_LEGEND_LINE_POINT : CL_PLOT_LEGEND_LINE,
                                          2.0 };
      baseline |= ts->t[k].baseline;
      chance |= isfinite (ts->t[k].chance);
    }
  if (baseline)
    entries[n++] = (ClPlotLegendEntry){ "step 0: untrained encoder", cl_plot_color_text (),
                                        CL_PLOT_LEGEND_HOLLOW_POINT, 1.0 };
  if (chance)
    entries[n++] = (ClPlotLegendEntry){ "chance (dashed, target's colour)", cl_plot_color_muted (),
                                        CL_PLOT_LEGEND_DASHED, 1.2 };
  if (n_events > 0)
    entries[n++] = (ClPlotLegendEntry){ "control change", cl_plot_color_marker (),
                                        CL_PLOT_LEGEND_DASHED, 1.0 };
  return n;
}

static void
layout (cairo_t *cr, double width, double height, const ClProbeRow *rows,
        const ClEvent *events, int n_events, const char *title, const Targets *ts,
        ClProbePlotGeometry *g, ClPlotEventLabels *labels)
{
  Look look = look_default ();

  ClPlotRange steps;
  cl_plot_range_init (&steps);
  cl_plot_range_add (&steps, 0.0);  /* the baseline's place is always on the axis */
  int most_points = 0;
  for (int k = 0; k < ts->n; k++)
    {
      const GArray *p = ts->t[k].points;
      most_points = MAX (most_points, (int) p->len);
      for (guint j = 0; j < p->len; j++)
        cl_plot_range_add (&steps, (double) rows[g_array_index (p, int, j)].step);
    }
  for (int i = 0; i < n_events; i++)
    cl_plot_range_add (&steps, (double) events[i].step);
  double step_lo = steps.lo, step_hi = steps.hi;
  if (step_hi - step_lo < 1.0)
    step_hi = step_lo + 100.0;  /* a lone probe at step 0: show where the next ones will come */

  cl_plot_text_setup (cr);
  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, title, look.title_font, FALSE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;

  /* markers are decided before the legend, which shows them; assume a plot nearly as wide
   * as the figure (the exact width depends on the y labels, which are fixed: 0.0 .. 1.0) */
  g->markers = most_points <= 1 || (width - 90.0) / most_points >= 4.0 * look.point_radius;
  ClPlotLegendEntry entries[CL_PROBE_PLOT_MAX_TARGETS + 3];
  int n_entries = legend_entries (g, ts, n_events, entries);
  top += cl_plot_legend_measure (cr, entries, n_entries, width - 2 * look.pad, look.legend_font);
  top += 0.5 * look.pad;

  ClPlotTicks probe_ticks;
  cl_plot_ticks_compute (&probe_ticks, 0.0, 1.0, 5, TRUE, FALSE);
  double bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &probe_ticks, "step", &look.axis);
  cairo_save (cr);
  cl_plot_font (cr, look.event_font, FALSE);
  double event_row_h = cl_plot_text_height (cr) + 0.6 * look.pad;
  cairo_restore (cr);
  double guess_h = height - top - bottom_extent - look.pad - (n_events > 0 ? event_row_h : 0.0);
  /* 0.1 steps only when there is room for eleven readable labels */
  cl_plot_ticks_compute (&g->y_ticks, 0.0, 1.0, guess_h >= 330.0 ? 10 : guess_h >= 90.0 ? 5 : 2,
                         TRUE, FALSE);

  const char *y_title = "linear-probe accuracy (held-out)";
  double left_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->y_ticks, y_title, &look.axis);
  g->plot.x = look.pad + left_extent;
  g->plot.w = MAX (width - 2.0 * look.pad - g->plot.x, 1.0);

  /* at least four: fewer lets the last tick overshoot the data by up to half the axis */
  int x_target = CLAMP ((int) (g->plot.w / 70.0), 4, 10);
  cl_plot_ticks_compute (&g->x_ticks, step_lo, step_hi, x_target, TRUE, TRUE);
  /* the last step label hangs past the plot's end: keep it inside the figure */
  double overhang = cl_plot_axis_end_overhang (cr, &g->x_ticks, &look.axis);
  if (overhang + 2.0 > 2.0 * look.pad)
    {
      g->plot.w = MAX (width - overhang - 2.0 - g->plot.x, 1.0);
      x_target = CLAMP ((int) (g->plot.w / 70.0), 4, 10);
      cl_plot_ticks_compute (&g->x_ticks, step_lo, step_hi, x_target, TRUE, TRUE);
    }
  cl_plot_scale_init (&g->x, g->x_ticks.lo, g->x_ticks.hi, g->plot.x, g->plot.x + g->plot.w);
  bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &g->x_ticks, "step", &look.axis);

  cl_plot_event_labels_layout (cr, labels, events, n_events, &g->x, look.pad, width - look.pad,
                               look.event_font, look.pad, EVENT_LABEL_MAX_ROWS);
  g->event_label_rows = labels->rows;
  g->events_labelled = labels->labelled;
  double band_h = cl_plot_event_labels_band_height (labels, labels->rows);
  g->event_band = (ClPlotRect){ g->plot.x, top, g->plot.w, band_h };
  top += band_h + (band_h > 0.0 ? 0.3 * look.pad : 0.0);

  /* room above 1.0 for the top row of points */
  g->plot.y = top + look.point_radius;
  g->plot.h = MAX (height - look.pad - bottom_extent - g->plot.y, 1.0);
  cl_plot_scale_init (&g->y, g->y_ticks.lo, g->y_ticks.hi, g->plot.y + g->plot.h, g->plot.y);
}

/* Chance lines that land on the same pixel row would hide each other (class and small
 * often share 0.1): those share the row of the group's first member with interleaved
 * dashes, one dash per target in turn. */
static void
draw_chance_lines (cairo_t *cr, const ClProbePlotGeometry *g, const Targets *ts, const Look *look)
{
  double y[CL_PROBE_PLOT_MAX_TARGETS];
  for (int k = 0; k < ts->n; k++)
    y[k] = isfinite (ts->t[k].chance) ? cl_plot_scale_map (&g->y, ts->t[k].chance) : NAN;
  for (int k = 0; k < ts->n; k++)
    {
      if (!isfinite (y[k]))
        continue;
      int group = 0, place = 0, first = -1;
      for (int j = 0; j < ts->n; j++)
        if (isfinite (y[j]) && fabs (y[j] - y[k]) < 1.0)
          {
            if (first < 0)
              first = j;
            place += j < k;
            group++;
          }
      double on = 6.0 * look->chance_width;
      double off = group > 1 ? (on + 2.0) * (group - 1) + 2.0 : 3.0 * look->chance_width;
      double dash[2] = { on, off };
      double row = cl_plot_snap (cr, y[first], FALSE, look->chance_width);
      cairo_save (cr);
      cairo_set_line_width (cr, look->chance_width);
      cairo_set_dash (cr, dash, 2, -place * (on + 2.0));
      cl_plot_set_rgb (cr, cl_probe_plot_target_color (k));
      cairo_move_to (cr, g->plot.x, row);
      cairo_line_to (cr, g->plot.x + g->plot.w, row);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
}

static void
draw_target (cairo_t *cr, const ClProbePlotGeometry *g, const ClProbeRow *rows,
             const Target *t, int index, const Look *look)
{
  ClRgb color = cl_probe_plot_target_color (index);
  const GArray *p = t->points;
  cl_plot_set_rgb (cr, color);
  ClPlotLine line;
  cl_plot_line_begin (&line, cr, look->line_width);
  for (guint j = 0; j < p->len; j++)
    {
      const ClProbeRow *row = &rows[g_array_index (p, int, j)];
      if (!isfinite (row->accuracy))
        continue;
      cl_plot_line_add (&line, cl_plot_scale_map (&g->x, (double) row->step),
                        cl_plot_scale_map (&g->y, CLAMP (row->accuracy, 0.0, 1.0)));
    }
  if (line.points > 1)
    cl_plot_line_draw (&line);
  else
    cl_plot_line_end (&line);  /* a lone point is shown by its marker below */
  cairo_new_path (cr);

  for (guint j = 0; j < p->len; j++)
    {
      const ClProbeRow *row = &rows[g_array_index (p, int, j)];
      if (!isfinite (row->accuracy))
        continue;
      gboolean baseline = row->step == 0;
      if (!g->markers && !baseline && line.points > 1)
        continue;
      double x = cl_plot_scale_map (&g->x, (double) row->step);
      double y = cl_plot_scale_map (&g->y, CLAMP (row->accuracy, 0.0, 1.0));
      cl_plot_point_draw (cr, x, y, baseline ? look->point_radius + 0.6 : look->point_radius,
                          color, baseline);
    }
}

void
cl_probe_plot_draw_full (cairo_t *cr, double width, double height,
                         const ClProbeRow *rows, int n_rows,
                         const ClEvent *events, int n_events, const char *title,
                         ClProbePlotGeometry *geometry)
{
  ClProbePlotGeometry g;
  memset (&g, 0, sizeof g);
  if (n_rows < 0 || rows == NULL)
    n_rows = 0;
  if (n_events < 0 || events == NULL)
    n_events = 0;
  if (!(width >= 1.0) || !(height >= 1.0) || !isfinite (width) || !isfinite (height))
    {
      if (geometry != NULL)
        *geometry = g;
      return;
    }

  Look look = look_default ();
  Targets ts;
  ClPlotEventLabels labels = { 0 };
  collect_targets (rows, n_rows, &ts, &g);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  layout (cr, width, height, rows, events, n_events, title, &ts, &g, &labels);

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, title, look.title_font, TRUE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  ClPlotLegendEntry entries[CL_PROBE_PLOT_MAX_TARGETS + 3];
  int n_entries = legend_entries (&g, &ts, n_events, entries);
  cl_plot_legend_draw (cr, entries, n_entries, 0.5 * width, top, width - 2 * look.pad, look.legend_font);

  cl_plot_grid_draw (cr, &g.plot, &g.x, &g.x_ticks, &g.y, &g.y_ticks, 1.0);
  cl_plot_event_labels_draw (cr, &labels, &g.plot, g.event_band.y + g.event_band.h);
  /* axes under the data: the step-0 points sit on the left spine and must stay whole */
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_LEFT, &g.y, &g.y_ticks,
                     "linear-probe accuracy (held-out)", &look.axis, NULL);
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_BOTTOM, &g.x, &g.x_ticks, "step", &look.axis, NULL);

  cairo_save (cr);
  /* room for points sitting on the frame */
  double margin = look.point_radius + 1.0;
  cairo_rectangle (cr, g.plot.x - margin, g.plot.y - margin, g.plot.w + 2 * margin, g.plot.h + 2 * margin);
  cairo_clip (cr);
  draw_chance_lines (cr, &g, &ts, &look);
  /* first target on top: it is the headline ("class") */
  for (int k = ts.n - 1; k >= 0; k--)
    draw_target (cr, &g, rows, &ts.t[k], k, &look);
  cairo_restore (cr);

  if (ts.n == 0)
    cl_plot_note_draw (cr, &g.plot, "the first probe runs at step 0", look.note_font);

  cl_plot_event_labels_clear (&labels);
  targets_clear (&ts);
  cairo_restore (cr);
  if (geometry != NULL)
    *geometry = g;
}

void
cl_probe_plot_draw (cairo_t *cr, double width, double height,
                    const ClProbeRow *rows, int n_rows,
                    const ClEvent *events, int n_events, const char *title)
{
  cl_probe_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, title, NULL);
}
