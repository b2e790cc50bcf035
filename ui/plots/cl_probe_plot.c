#include "ui/plots/cl_probe_plot.h"

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
  GArray *points;      /* row indices, sorted by step; NULL when the run lacks the target */
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
    if (ts->t[i].points)
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

/* Groups one run's rows by target, leaving out the per-bit targets. Target names are shared
 * by every run of the figure (g->targets, first appearance order, the main run first), so
 * target k has the same colour in every run; ts->t[k].points stays NULL for a target this
 * run lacks. */
static void
collect_targets (const ClProbeRow *rows, int n_rows, Targets *ts, ClProbePlotGeometry *g)
{
  memset (ts, 0, sizeof *ts);
  for (int i = 0; i < n_rows; i++)
    {
      const ClProbeRow *row = &rows[i];
      const char *end = memchr (row->target, '\0', sizeof row->target);
      size_t len = end != NULL ? (size_t) (end - row->target) : sizeof row->target;
      if (len == 0 || cl_probe_plot_is_per_bit_target (row->target, len))
        continue;
      int k;
      for (k = 0; k < g->n_targets; k++)
        if (strlen (g->targets[k]) == len && memcmp (g->targets[k], row->target, len) == 0)
          break;
      if (k == g->n_targets)
        {
          if (g->n_targets >= CL_PROBE_PLOT_MAX_TARGETS)
            continue;
          memcpy (g->targets[k], row->target, len);
          g->targets[k][len] = '\0';
          g->chance[k] = NAN;
          g->n_targets++;
        }
      Target *t = &ts->t[k];
      if (t->points == NULL)
        {
          t->points = g_array_new (FALSE, FALSE, sizeof (int));
          t->chance = NAN;
          t->chance_step = INT64_MIN;
          t->baseline = FALSE;
        }
      ts->n = MAX (ts->n, k + 1);
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
      if (p == NULL)
        continue;
      g_qsort_with_data (p->data, p->len, sizeof (int), compare_point_with_data, (gpointer) rows);
      /* the main run's chance level, else the first run's that has one */
      if (!isfinite (g->chance[k]))
        g->chance[k] = ts->t[k].chance;
    }
}

/* Every run of a figure: main, then B of a comparison, then the overlays. */
typedef struct {
  const ClProbeRow *rows;
  int n_rows;
  Targets ts;
} Run;

typedef struct {
  int n;                 /* runs[0] is the main run */
  Run *runs;
  int compare;           /* index of B, -1 for none */
  int first_overlay, n_overlays;
  const char *label_a, *label_b, *overlays_label;
} Runs;

static void
runs_collect (Runs *r, const ClProbeRow *rows, int n_rows, const ClProbePlotOthers *others, ClProbePlotGeometry *g)
{
  int n_overlays = others && others->overlays && others->n_overlays > 0 ? others->n_overlays : 0;
  gboolean compare = others && others->compare;
  r->runs = g_new0 (Run, 1 + (compare ? 1 : 0) + n_overlays);
  r->n = 0;
  r->runs[r->n++] = (Run){ rows, n_rows, { 0 } };
  r->compare = -1;
  if (compare)
    {
      r->compare = r->n;
      const ClProbePlotRun *b = others->compare;
      r->runs[r->n++] = (Run){ b->rows, b->rows && b->n_rows > 0 ? b->n_rows : 0, { 0 } };
    }
  r->first_overlay = r->n;
  r->n_overlays = n_overlays;
  for (int k = 0; k < n_overlays; k++)
    {
      const ClProbePlotRun *o = &others->overlays[k];
      r->runs[r->n++] = (Run){ o->rows, o->rows && o->n_rows > 0 ? o->n_rows : 0, { 0 } };
    }
  r->label_a = others ? others->label_a : NULL;
  r->label_b = compare ? others->compare->label : NULL;
  r->overlays_label = others ? others->overlays_label : NULL;
  g->n_targets = 0;
  for (int i = 0; i < r->n; i++)
    collect_targets (r->runs[i].rows, r->runs[i].n_rows, &r->runs[i].ts, g);
}

static void
runs_clear (Runs *r)
{
  for (int i = 0; i < r->n; i++)
    targets_clear (&r->runs[i].ts);
  g_free (r->runs);
  memset (r, 0, sizeof *r);
}

static const char *
target_label (const char *target)
{
  /* the one name that needs explaining: it is not a single probe */
  return strcmp (target, "bits") == 0 ? "bits (mean over bits)" : target;
}

#define MAX_LEGEND (CL_PROBE_PLOT_MAX_TARGETS + 6)

typedef struct {
  char overlays[96];
  char a[160], b[160];
} LegendText;

static ClRgb
faded (ClRgb c)
{
  return cl_plot_mix (cl_plot_color_background (), c, CL_PROBE_PLOT_OVERLAY_ALPHA);
}

static int
legend_entries (const ClProbePlotGeometry *g, const Runs *r, int n_events, LegendText *text,
                ClPlotLegendEntry *entries)
{
  int n = 0;
  gboolean baseline = FALSE, chance = FALSE;
  for (int k = 0; k < g->n_targets; k++)
    {
      entries[n++] = (ClPlotLegendEntry){ target_label (g->targets[k]), cl_probe_plot_target_color (k),
                                          g->markers ? CL_PLOT_LEGEND_LINE_POINT : CL_PLOT_LEGEND_LINE,
                                          2.0 };
      chance |= isfinite (g->chance[k]);
    }
  for (int i = 0; i < r->n; i++)
    if (i == 0 || i == r->compare)
      for (int k = 0; k < r->runs[i].ts.n; k++)
        baseline |= r->runs[i].ts.t[k].baseline;
  if (baseline)
    entries[n++] = (ClPlotLegendEntry){ "step 0: untrained encoder", cl_plot_color_text (),
                                        CL_PLOT_LEGEND_HOLLOW_POINT, 1.0 };
  if (chance)
    entries[n++] = (ClPlotLegendEntry){ "chance (dashed, target's colour)", cl_plot_color_muted (),
                                        CL_PLOT_LEGEND_DASHED, 1.2 };
  if (r->compare >= 0)
    {
      g_snprintf (text->a, sizeof text->a, "A (solid, round points): %s", r->label_a ? r->label_a : "this run");
      g_snprintf (text->b, sizeof text->b, "B (dashed, square points): %s", r->label_b ? r->label_b : "other run");
      entries[n++] = (ClPlotLegendEntry){ text->a, cl_plot_color_text (), CL_PLOT_LEGEND_LINE, 2.0 };
      entries[n++] = (ClPlotLegendEntry){ text->b, cl_plot_color_text (), CL_PLOT_LEGEND_DASHED, 2.0 };
    }
  if (r->n_overlays > 0)
    {
      if (r->overlays_label)
        g_strlcpy (text->overlays, r->overlays_label, sizeof text->overlays);
      else
        g_snprintf (text->overlays, sizeof text->overlays, "%d earlier run%s (faded)", r->n_overlays,
                    r->n_overlays == 1 ? "" : "s");
      entries[n++] = (ClPlotLegendEntry){ text->overlays, faded (cl_probe_plot_target_color (0)),
                                          CL_PLOT_LEGEND_LINE, CL_PROBE_PLOT_OVERLAY_WIDTH };
    }
  if (n_events > 0)
    entries[n++] = (ClPlotLegendEntry){ "control change", cl_plot_color_marker (),
                                        CL_PLOT_LEGEND_DASHED, 1.0 };
  return n;
}

static void
layout (cairo_t *cr, double width, double height, const ClEvent *events, int n_events, const char *title,
        const Runs *r, ClProbePlotGeometry *g, ClPlotEventLabels *labels)
{
  Look look = look_default ();

  ClPlotRange steps;
  cl_plot_range_init (&steps);
  cl_plot_range_add (&steps, 0.0);  /* the baseline's place is always on the axis */
  int most_points = 0;
  for (int i = 0; i < r->n; i++)
    {
      const Targets *ts = &r->runs[i].ts;
      const ClProbeRow *rows = r->runs[i].rows;
      for (int k = 0; k < ts->n; k++)
        {
          const GArray *p = ts->t[k].points;
          if (p == NULL)
            continue;
          /* overlays carry no markers: they do not decide whether points fit */
          if (i < r->first_overlay)
            most_points = MAX (most_points, (int) p->len);
          for (guint j = 0; j < p->len; j++)
            cl_plot_range_add (&steps, (double) rows[g_array_index (p, int, j)].step);
        }
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
  ClPlotLegendEntry entries[MAX_LEGEND];
  LegendText legend_text;
  int n_entries = legend_entries (g, r, n_events, &legend_text, entries);
  double legend_h = cl_plot_legend_measure (cr, entries, n_entries, width - 2 * look.pad, look.legend_font);
  g->legend = (ClPlotRect){ 0.0, top, width, legend_h };
  top += legend_h + 0.5 * look.pad;

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
draw_chance_lines (cairo_t *cr, const ClProbePlotGeometry *g, const Look *look)
{
  double y[CL_PROBE_PLOT_MAX_TARGETS];
  int n = g->n_targets;
  for (int k = 0; k < n; k++)
    y[k] = isfinite (g->chance[k]) ? cl_plot_scale_map (&g->y, g->chance[k]) : NAN;
  for (int k = 0; k < n; k++)
    {
      if (!isfinite (y[k]))
        continue;
      int group = 0, place = 0, first = -1;
      for (int j = 0; j < n; j++)
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

typedef enum { ROLE_MAIN, ROLE_B, ROLE_OVERLAY } Role;

/* A square point for B, so that A and B differ in more than the dash where lines are short. */
static void
square_draw (cairo_t *cr, double x, double y, double radius, ClRgb color, gboolean hollow)
{
  double half = radius;
  cairo_save (cr);
  cairo_new_path (cr);
  cairo_rectangle (cr, x - half, y - half, 2 * half, 2 * half);
  if (hollow)
    {
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1.4);
      cl_plot_set_rgb (cr, color);
      cairo_stroke (cr);
    }
  else
    {
      cl_plot_set_rgb (cr, color);
      cairo_fill (cr);
    }
  cairo_restore (cr);
}

static void
draw_target (cairo_t *cr, const ClProbePlotGeometry *g, const ClProbeRow *rows,
             const Target *t, int index, const Look *look, Role role)
{
  ClRgb color = cl_probe_plot_target_color (index);
  const GArray *p = t->points;
  if (p == NULL)
    return;
  double width = role == ROLE_OVERLAY ? CL_PROBE_PLOT_OVERLAY_WIDTH : look->line_width;
  if (role == ROLE_OVERLAY)
    cl_plot_set_rgba (cr, color, CL_PROBE_PLOT_OVERLAY_ALPHA);
  else
    cl_plot_set_rgb (cr, color);
  ClPlotLine line;
  cl_plot_line_begin (&line, cr, width);
  for (guint j = 0; j < p->len; j++)
    {
      const ClProbeRow *row = &rows[g_array_index (p, int, j)];
      if (!isfinite (row->accuracy))
        continue;
      cl_plot_line_add (&line, cl_plot_scale_map (&g->x, (double) row->step),
                        cl_plot_scale_map (&g->y, CLAMP (row->accuracy, 0.0, 1.0)));
    }
  long points = line.points;
  if (role == ROLE_B && points > 1)
    {
      /* dashes need a stroke: the polyline of the decimated points */
      gboolean filled = cl_plot_line_end (&line);
      if (filled)
        {
          /* too dense for a polyline: a plain path through every point, dashed */
          cairo_new_path (cr);
          for (guint j = 0; j < p->len; j++)
            {
              const ClProbeRow *row = &rows[g_array_index (p, int, j)];
              if (isfinite (row->accuracy))
                cairo_line_to (cr, cl_plot_scale_map (&g->x, (double) row->step),
                               cl_plot_scale_map (&g->y, CLAMP (row->accuracy, 0.0, 1.0)));
            }
        }
      double dash[2] = { 4.0 * width, 2.5 * width };
      cairo_save (cr);
      cairo_set_dash (cr, dash, 2, 0.0);
      cairo_set_line_width (cr, width);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
  else if (points > 1)
    cl_plot_line_draw (&line);
  else
    cl_plot_line_end (&line);  /* a lone point is shown by its marker below */
  cairo_new_path (cr);
  if (role == ROLE_OVERLAY)
    return;

  for (guint j = 0; j < p->len; j++)
    {
      const ClProbeRow *row = &rows[g_array_index (p, int, j)];
      if (!isfinite (row->accuracy))
        continue;
      gboolean baseline = row->step == 0;
      if (!g->markers && !baseline && points > 1)
        continue;
      double x = cl_plot_scale_map (&g->x, (double) row->step);
      double y = cl_plot_scale_map (&g->y, CLAMP (row->accuracy, 0.0, 1.0));
      double radius = baseline ? look->point_radius + 0.6 : look->point_radius;
      if (role == ROLE_B)
        square_draw (cr, x, y, radius, color, baseline);
      else
        cl_plot_point_draw (cr, x, y, radius, color, baseline);
    }
}

void
cl_probe_plot_draw_runs (cairo_t *cr, double width, double height,
                         const ClProbeRow *rows, int n_rows,
                         const ClEvent *events, int n_events, const char *title,
                         const ClProbePlotOthers *others, ClProbePlotGeometry *geometry)
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
  Runs r;
  ClPlotEventLabels labels = { 0 };
  runs_collect (&r, rows, n_rows, others, &g);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  layout (cr, width, height, events, n_events, title, &r, &g, &labels);

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, title, look.title_font, TRUE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  ClPlotLegendEntry entries[MAX_LEGEND];
  LegendText legend_text;
  int n_entries = legend_entries (&g, &r, n_events, &legend_text, entries);
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
  /* back to front: earlier runs, chance, B, then A with the first target ("class") on top */
  for (int i = r.first_overlay; i < r.first_overlay + r.n_overlays; i++)
    for (int k = r.runs[i].ts.n - 1; k >= 0; k--)
      draw_target (cr, &g, r.runs[i].rows, &r.runs[i].ts.t[k], k, &look, ROLE_OVERLAY);
  draw_chance_lines (cr, &g, &look);
  if (r.compare >= 0)
    for (int k = r.runs[r.compare].ts.n - 1; k >= 0; k--)
      draw_target (cr, &g, r.runs[r.compare].rows, &r.runs[r.compare].ts.t[k], k, &look, ROLE_B);
  for (int k = r.runs[0].ts.n - 1; k >= 0; k--)
    draw_target (cr, &g, rows, &r.runs[0].ts.t[k], k, &look, ROLE_MAIN);
  cairo_restore (cr);

  if (g.n_targets == 0)
    cl_plot_note_draw (cr, &g.plot, "the first probe runs at step 0", look.note_font);

  cl_plot_event_labels_clear (&labels);
  runs_clear (&r);
  cairo_restore (cr);
  if (geometry != NULL)
    *geometry = g;
}

void
cl_probe_plot_draw_full (cairo_t *cr, double width, double height,
                         const ClProbeRow *rows, int n_rows,
                         const ClEvent *events, int n_events, const char *title,
                         ClProbePlotGeometry *geometry)
{
  cl_probe_plot_draw_runs (cr, width, height, rows, n_rows, events, n_events, title, NULL, geometry);
}

void
cl_probe_plot_draw (cairo_t *cr, double width, double height,
                    const ClProbeRow *rows, int n_rows,
                    const ClEvent *events, int n_events, const char *title)
{
  cl_probe_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, title, NULL);
}
