#include "ui/plots/cl_probe_plot.h"
#include "ui/plots/cl_probe_plot_private.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#define EVENT_LABEL_MAX_ROWS 3

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

static const char *
target_label (const char *target)
{
  /* the one name that needs explaining: it is not a single probe */
  return strcmp (target, "bits") == 0 ? "bits (mean over bits)" : target;
}

#define MAX_LEGEND (CL_PROBE_PLOT_MAX_TARGETS + 10)

/* g->labels: each drawn target's name, followed by the names of the targets that share its line. */
static void
name_series (ClProbePlotLayout *g)
{
  for (int k = 0; k < g->n_targets; k++)
    g_strlcpy (g->labels[k], g->same_as[k] < 0 ? target_label (g->targets[k]) : "", sizeof g->labels[k]);
  for (int k = 0; k < g->n_targets; k++)
    if (g->same_as[k] >= 0)
      {
        g_strlcat (g->labels[g->same_as[k]], " = ", sizeof g->labels[k]);
        g_strlcat (g->labels[g->same_as[k]], target_label (g->targets[k]), sizeof g->labels[k]);
      }
}

static ClRgb
faded (ClRgb c)
{
  return cl_plot_mix (cl_plot_color_background (), c, CL_PROBE_PLOT_OVERLAY_ALPHA);
}

/* Whether some of target t of a run (its line and points, as drawn: clamped to 0..1; with std,
 * its band too) lies in the window; *baseline gets whether its step-0 point does. */
static gboolean
target_in_window (const ClProbeRow *rows, const Target *t, const double *std, const ClPlotWindow *w, gboolean *baseline)
{
  const GArray *p = t->points;
  if (p == NULL)
    return FALSE;
  double *xs = g_new (double, MAX (p->len, 1)), *ys = g_new (double, MAX (p->len, 1));
  gboolean in = FALSE;
  for (int pass = 0; pass < (std != NULL ? 3 : 1) && !in; pass++)
    {
      for (guint j = 0; j < p->len; j++)
        {
          int at = g_array_index (p, int, j);
          double v = rows[at].accuracy + (pass == 0 ? 0.0 : pass == 1 ? -std[at] : std[at]);
          xs[j] = (double) rows[at].step;
          ys[j] = isfinite (v) ? CLAMP (v, 0.0, 1.0) : NAN;
          if (pass == 0 && rows[at].step == 0 && isfinite (ys[j]) && 0.0 >= w->x_lo && 0.0 <= w->x_hi &&
              ys[j] >= w->y_lo && ys[j] <= w->y_hi)
            *baseline = TRUE;
        }
      in = cl_plot_series_in_window (xs, ys, (int) p->len, w);
    }
  g_free (xs);
  g_free (ys);
  return in;
}

/* What a zoomed chart shows of each legend entry's lines. */
typedef struct
{
  gboolean target[CL_PROBE_PLOT_MAX_TARGETS];
  gboolean a, b, overlays, baseline, chance, events, replicates;
} InView;

static void
in_view_find (const ClProbePlotLayout *g, const Runs *r, const ClEvent *events, int n_events, InView *v)
{
  memset (v, 0, sizeof *v);
  ClPlotWindow w = cl_plot_view_window (r->view);
  for (int i = 0; i < r->n; i++)
    {
      gboolean any = FALSE, baseline = FALSE;
      const double *std = i == 0 ? r->std : NULL;
      for (int k = 0; k < r->runs[i].ts.n; k++)
        {
          /* a target drawn as an earlier one's line counts for that one */
          int shown = g->same_as[k] >= 0 ? g->same_as[k] : k;
          gboolean in = target_in_window (r->runs[i].rows, &r->runs[i].ts.t[k], std, &w, &baseline);
          v->target[shown] |= in;
          any |= in;
        }
      if (i == 0)
        v->a = v->replicates = any;
      else if (i == r->compare)
        v->b = any;
      else
        v->overlays |= any;
      if (i == 0 || i == r->compare)
        v->baseline |= baseline;
    }
  for (int k = 0; k < g->n_targets; k++)
    v->chance |= g->same_as[k] < 0 && isfinite (g->chance[k]) && g->chance[k] >= w.y_lo && g->chance[k] <= w.y_hi;
  for (int i = 0; i < n_events; i++)
    v->events |= (double) events[i].step >= w.x_lo && (double) events[i].step <= w.x_hi;
}

static int
legend_entries (const ClProbePlotLayout *g, const Runs *r, const ClEvent *events, int n_events, ClPlotRunsText *text,
                ClPlotLegendEntry *entries)
{
  /* a zoomed chart marks the entries it shows nothing of */
  InView v;
  gboolean check = cl_plot_view_zoomed (r->view) && g->n_targets > 0;
  if (check)
    in_view_find (g, r, events, n_events, &v);
  int n = 0;
  gboolean baseline = FALSE, chance = FALSE;
  for (int k = 0; k < g->n_targets; k++)
    {
      if (g->same_as[k] >= 0)
        continue;
      entries[n++] = (ClPlotLegendEntry){ g->labels[k], cl_probe_plot_target_color (k),
                                          g->markers ? CL_PLOT_LEGEND_LINE_POINT : CL_PLOT_LEGEND_LINE, 2.0,
                                          check && !v.target[k] };
      chance |= isfinite (g->chance[k]);
    }
  for (int i = 0; i < r->n; i++)
    if (i == 0 || i == r->compare)
      for (int k = 0; k < r->runs[i].ts.n; k++)
        baseline |= r->runs[i].ts.t[k].baseline;
  if (baseline)
    entries[n++] = (ClPlotLegendEntry){ "step 0: untrained encoder", cl_plot_color_text (), CL_PLOT_LEGEND_HOLLOW_POINT,
                                        1.0, check && !v.baseline };
  if (chance)
    entries[n++] = (ClPlotLegendEntry){ "chance (dashed, target's colour)", cl_plot_color_muted (),
                                        CL_PLOT_LEGEND_DASHED, 1.2, check && !v.chance };
  n += cl_probe_splits_legend (g, entries + n);
  ClPlotRuns runs = {
    .n_overlays = r->n_overlays,
    .overlays_label = r->overlays_label,
    .overlay_color = faded (cl_probe_plot_target_color (0)),
    .compare = r->compare >= 0,
    .label_a = r->label_a,
    .label_b = r->label_b,
    .a_marks = "solid, round points",
    .b_marks = "dashed, square points",
    .n_replicates = r->n_replicates > 0 ? r->n_replicates + 1 : 0,
    .replicates_label = r->replicates_label,
    .replicates_color = cl_plot_mix (cl_plot_color_background (), cl_plot_color_muted (), 0.45),
    .a_out = check && !v.a,
    .b_out = check && !v.b,
    .replicates_out = check && !v.replicates,
    .overlays_out = check && !v.overlays,
  };
  n += cl_plot_runs_legend (&runs, text, entries + n);
  if (n_events > 0)
    entries[n++] = (ClPlotLegendEntry){ "control change", cl_plot_color_marker (), CL_PLOT_LEGEND_DASHED, 1.0,
                                        check && !v.events };
  return n;
}

static void
compute_layout (cairo_t *cr, double width, double height, const ClEvent *events, int n_events, const char *title,
                const Runs *r, ClProbePlotLayout *g, ClPlotEventLabels *labels)
{
  ClPlotTheme look = cl_plot_theme (r->scale);

  ClPlotRange steps;
  cl_plot_range_init (&steps);
  cl_plot_range_add (&steps, 0.0); /* the baseline's place is always on the axis */
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
    step_hi = step_lo + 100.0; /* a lone probe at step 0: show where the next ones will come */
  double x_lo = NAN, x_hi = NAN;
  cl_plot_view_apply_x (r->view, &x_lo, &x_hi);
  gboolean x_zoomed = isfinite (x_lo);
  if (x_zoomed)
    {
      step_lo = x_lo;
      step_hi = x_hi;
    }

  cl_plot_text_setup (cr);
  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, title, look.title_font, FALSE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;

  /* markers are decided before the legend, which shows them; assume a plot nearly as wide
   * as the figure (the exact width depends on the y labels, which are fixed: 0.0 .. 1.0) */
  g->markers = most_points <= 1 || (width - 90.0) / most_points >= 4.0 * look.point_radius;
  ClPlotLegendEntry entries[MAX_LEGEND];
  ClPlotRunsText legend_text;
  int n_entries = legend_entries (g, r, events, n_events, &legend_text, entries);
  double legend_h = cl_plot_legend_measure (cr, entries, n_entries, width - 2 * look.pad, look.legend_font);
  g->legend = (ClPlotRect){ 0.0, top, width, legend_h };
  top += legend_h + 0.5 * look.pad;

  ClPlotTicks probe_ticks;
  cl_plot_ticks_compute (&probe_ticks, 0.0, 1.0, 5, TRUE, FALSE);
  double bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &probe_ticks, "step", &look.axis);
  cairo_save (cr);
  cl_plot_font (cr, look.small_font, FALSE);
  double event_row_h = cl_plot_text_height (cr) + 0.6 * look.pad;
  cairo_restore (cr);
  double guess_h = height - top - bottom_extent - look.pad - (n_events > 0 ? event_row_h : 0.0);
  /* 0.1 steps only when there is room for eleven readable labels */
  int y_target = guess_h >= 330.0 ? 10 : guess_h >= 90.0 ? 5 : 2;
  double y_lo = NAN, y_hi = NAN;
  cl_plot_view_apply_y (r->view, &y_lo, &y_hi);
  g->fitted = FALSE;
  if (isfinite (y_lo))
    {
      cl_plot_ticks_compute (&g->y_ticks, y_lo, y_hi, y_target, FALSE, FALSE);
      g->y_ticks.lo = y_lo;
      g->y_ticks.hi = y_hi;
      g->fitted = TRUE;
    }
  else if (r->view != NULL && r->view->fit_y)
    {
      /* the data decide: a 0.745 -> 0.79 gain fills the axis instead of 5% of it */
      ClPlotRange acc;
      cl_plot_range_init (&acc);
      for (int i = 0; i < r->n; i++)
        {
          const Targets *ts = &r->runs[i].ts;
          for (int k = 0; k < ts->n; k++)
            {
              const GArray *p = ts->t[k].points;
              for (guint j = 0; p != NULL && j < p->len; j++)
                {
                  int at = g_array_index (p, int, j);
                  const ClProbeRow *row = &r->runs[i].rows[at];
                  if ((double) row->step < step_lo || (double) row->step > step_hi)
                    continue;
                  double v = row->accuracy, sd = i == 0 && r->std != NULL ? r->std[at] : NAN;
                  cl_plot_range_add (&acc, v);
                  if (isfinite (sd) && isfinite (v))
                    {
                      cl_plot_range_add (&acc, v - sd);
                      cl_plot_range_add (&acc, v + sd);
                    }
                }
            }
        }
      double lo = acc.n > 0 ? acc.lo : 0.0, hi = acc.n > 0 ? acc.hi : 1.0;
      double margin = MAX (0.05 * (hi - lo), 0.005);
      lo = MAX (0.0, lo - margin);
      hi = MIN (1.0, hi + margin);
      cl_plot_ticks_compute (&g->y_ticks, lo, hi, MAX (y_target, 4), TRUE, FALSE);
      g->y_ticks.lo = MAX (g->y_ticks.lo, 0.0);
      g->y_ticks.hi = MIN (g->y_ticks.hi, 1.0);
      g->fitted = TRUE;
    }
  else
    cl_plot_ticks_compute (&g->y_ticks, 0.0, 1.0, y_target, TRUE, FALSE);

  const char *y_title = "linear-probe accuracy (held-out)";
  double left_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->y_ticks, y_title, &look.axis);
  g->plot.x = look.pad + left_extent;
  g->plot.w = MAX (width - 2.0 * look.pad - g->plot.x, 1.0);

  /* at least four: fewer lets the last tick overshoot the data by up to half the axis */
  int x_target = CLAMP ((int) (g->plot.w / (70.0 * r->scale)), 4, 10);
  cl_plot_ticks_compute (&g->x_ticks, step_lo, step_hi, x_target, !x_zoomed, !x_zoomed || step_hi - step_lo >= 4.0);
  /* the last step label hangs past the plot's end: keep it inside the figure */
  double overhang = cl_plot_axis_end_overhang (cr, &g->x_ticks, &look.axis);
  if (overhang + 2.0 > 2.0 * look.pad)
    {
      g->plot.w = MAX (width - overhang - 2.0 - g->plot.x, 1.0);
      x_target = CLAMP ((int) (g->plot.w / (70.0 * r->scale)), 4, 10);
      cl_plot_ticks_compute (&g->x_ticks, step_lo, step_hi, x_target, !x_zoomed, !x_zoomed || step_hi - step_lo >= 4.0);
    }
  if (x_zoomed)
    {
      g->x_ticks.lo = step_lo;
      g->x_ticks.hi = step_hi;
    }
  cl_plot_scale_init (&g->x, g->x_ticks.lo, g->x_ticks.hi, g->plot.x, g->plot.x + g->plot.w);
  bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &g->x_ticks, "step", &look.axis);

  cl_plot_event_labels_layout (cr, labels, events, n_events, &g->x, look.pad, width - look.pad, look.small_font,
                               look.pad, EVENT_LABEL_MAX_ROWS);
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
draw_chance_lines (cairo_t *cr, const ClProbePlotLayout *g, const ClPlotTheme *look)
{
  double y[CL_PROBE_PLOT_MAX_TARGETS];
  int n = g->n_targets;
  for (int k = 0; k < n; k++)
    y[k] = g->same_as[k] < 0 && isfinite (g->chance[k]) && g->chance[k] >= g->y_ticks.lo - 1e-9 &&
                   g->chance[k] <= g->y_ticks.hi + 1e-9
               ? cl_plot_scale_map (&g->y, g->chance[k])
               : NAN;
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
      double on = 6.0 * look->reference_width;
      double off = group > 1 ? (on + 2.0) * (group - 1) + 2.0 : 3.0 * look->reference_width;
      double dash[2] = { on, off };
      double row = cl_plot_snap (cr, y[first], FALSE, look->reference_width);
      cairo_save (cr);
      cairo_set_line_width (cr, look->reference_width);
      cairo_set_dash (cr, dash, 2, -place * (on + 2.0));
      cl_plot_set_rgb (cr, cl_probe_plot_target_color (k));
      cairo_move_to (cr, g->plot.x, row);
      cairo_line_to (cr, g->plot.x + g->plot.w, row);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
}

typedef enum
{
  ROLE_MAIN,
  ROLE_B,
  ROLE_OVERLAY
} Role;

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

/* The mean +- std band of a target over the replicates, in the target's colour. */
static void
draw_band (cairo_t *cr, const ClProbePlotLayout *g, const ClProbeRow *rows, const double *std, const Target *t,
           int index, const ClPlotTheme *look)
{
  const GArray *p = t->points;
  if (p == NULL)
    return;
  double *xs = g_new (double, p->len), *lo = g_new (double, p->len), *hi = g_new (double, p->len);
  for (guint j = 0; j < p->len; j++)
    {
      int at = g_array_index (p, int, j);
      xs[j] = (double) rows[at].step;
      lo[j] = CLAMP (rows[at].accuracy - std[at], 0.0, 1.0);
      hi[j] = CLAMP (rows[at].accuracy + std[at], 0.0, 1.0);
    }
  ClPlotAxes axes = { &g->x, &g->y, FALSE };
  cl_plot_chart_band (cr, &axes, xs, lo, hi, (int) p->len, cl_probe_plot_target_color (index), look->band_alpha);
  g_free (xs);
  g_free (lo);
  g_free (hi);
}

static void
draw_target (cairo_t *cr, const ClProbePlotLayout *g, const ClProbeRow *rows, const Target *t, int index,
             const ClPlotTheme *look, Role role)
{
  ClRgb color = cl_probe_plot_target_color (index);
  const GArray *p = t->points;
  if (p == NULL)
    return;
  double width = role == ROLE_OVERLAY ? look->overlay_width : look->line_width;
  double *xs = g_new (double, p->len), *ys = g_new (double, p->len);
  for (guint j = 0; j < p->len; j++)
    {
      const ClProbeRow *row = &rows[g_array_index (p, int, j)];
      xs[j] = (double) row->step;
      ys[j] = isfinite (row->accuracy) ? CLAMP (row->accuracy, 0.0, 1.0) : NAN;
    }
  ClPlotStroke stroke = role == ROLE_B ? cl_plot_stroke_b (color, width) : cl_plot_stroke (color, width);
  if (role == ROLE_OVERLAY)
    stroke.alpha = look->overlay_alpha;
  ClPlotAxes axes = { &g->x, &g->y, FALSE };
  int points = 0;
  for (guint j = 0; j < p->len; j++)
    points += isfinite (ys[j]);
  if (points > 1)
    cl_plot_chart_line (cr, &axes, xs, ys, (int) p->len, &stroke); /* a lone point is shown by its marker below */
  g_free (xs);
  g_free (ys);
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

/* The crosshair at the probe step nearest the pointer: every target's accuracy there (the mean
 * +- std over replicates; A and B in a comparison). */
static void
draw_crosshair (cairo_t *cr, const ClPlotTheme *look, ClProbePlotLayout *g, const Runs *r)
{
  g->hover_step = NAN;
  if (r->view == NULL || !isfinite (r->view->hover_x))
    return;
  double best = NAN;
  for (int i = 0; i < r->n; i++)
    if (i == 0 || i == r->compare)
      for (int k = 0; k < r->runs[i].ts.n; k++)
        for (guint j = 0; r->runs[i].ts.t[k].points != NULL && j < r->runs[i].ts.t[k].points->len; j++)
          {
            double step = (double) r->runs[i].rows[g_array_index (r->runs[i].ts.t[k].points, int, j)].step;
            if (!isfinite (best) || fabs (step - r->view->hover_x) < fabs (best - r->view->hover_x))
              best = step;
          }
  if (!isfinite (best))
    return;
  g->hover_step = best;
  ClPlotReadout readouts[2 * CL_PROBE_PLOT_MAX_TARGETS + 4];
  char labels[2 * CL_PROBE_PLOT_MAX_TARGETS + 4][96];
  int n = 0;
  for (int i = 0; i < r->n; i++)
    {
      if (i != 0 && i != r->compare)
        continue;
      for (int k = 0; k < r->runs[i].ts.n; k++)
        {
          if (g->same_as[k] >= 0)
            continue;
          int at;
          double v = cl_probe_value_at_step (r->runs[i].rows, &r->runs[i].ts.t[k], best, &at);
          if (at < 0)
            continue;
          double sd = i == 0 && r->std != NULL ? r->std[at] : NAN;
          char sd_text[32] = "";
          if (isfinite (sd))
            {
              char number[24];
              cl_plot_format_number (sd, 3, number, sizeof number);
              g_snprintf (sd_text, sizeof sd_text, " \xC2\xB1 %s", number);
            }
          g_snprintf (labels[n], sizeof labels[n], "%s%s%s", r->compare >= 0 ? (i == 0 ? "A " : "B ") : "",
                      g->labels[k], sd_text);
          readouts[n] = (ClPlotReadout){ labels[n], cl_probe_plot_target_color (k), v,
                                         isfinite (v) ? cl_plot_scale_map (&g->y, CLAMP (v, 0.0, 1.0)) : NAN, 3 };
          n++;
        }
    }
  /* the split of the control experiments at that step */
  n += cl_probe_splits_readouts (g, r, best, labels + n, readouts + n);
  char heading[64];
  g_snprintf (heading, sizeof heading, "step %" G_GINT64_FORMAT, (gint64) best);
  cl_plot_crosshair_draw (cr, look, &g->plot, cl_plot_scale_map (&g->x, best), heading, readouts, n);
}

void
cl_probe_plot_draw_runs (cairo_t *cr, double width, double height, const ClProbeRow *rows, int n_rows,
                         const ClEvent *events, int n_events, const char *title, const ClProbePlotOthers *others,
                         ClProbePlotLayout *layout)
{
  ClProbePlotLayout g;
  memset (&g, 0, sizeof g);
  g.hover_step = NAN;
  if (n_rows < 0 || rows == NULL)
    n_rows = 0;
  if (n_events < 0 || events == NULL)
    n_events = 0;
  if (!(width >= 1.0) || !(height >= 1.0) || !isfinite (width) || !isfinite (height))
    {
      if (layout != NULL)
        *layout = g;
      return;
    }

  Runs r;
  ClPlotEventLabels labels = { 0 };
  cl_probe_runs_collect (&r, rows, n_rows, others, &g);
  name_series (&g);
  ClPlotTheme look = cl_plot_theme (r.scale);
  rows = r.runs[0].rows; /* the mean rows when there are replicates */

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  compute_layout (cr, width, height, events, n_events, title, &r, &g, &labels);

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, title, look.title_font, TRUE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  ClPlotLegendEntry entries[MAX_LEGEND];
  ClPlotRunsText legend_text;
  int n_entries = legend_entries (&g, &r, events, n_events, &legend_text, entries);
  cl_plot_legend_draw (cr, entries, n_entries, 0.5 * width, top, width - 2 * look.pad, look.legend_font);

  cl_plot_grid_draw (cr, &g.plot, &g.x, &g.x_ticks, &g.y, &g.y_ticks, 1.0);
  cl_plot_event_labels_draw (cr, &labels, &g.plot, g.event_band.y + g.event_band.h);
  /* axes under the data: the step-0 points sit on the left spine and must stay whole */
  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_LEFT, &g.y, &g.y_ticks, "linear-probe accuracy (held-out)", &look.axis,
                     NULL);
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
  cl_probe_draw_splits (cr, &g, &r);
  draw_chance_lines (cr, &g, &look);
  /* a target that repeats an earlier one is drawn as that one's line */
  if (r.compare >= 0)
    for (int k = r.runs[r.compare].ts.n - 1; k >= 0; k--)
      if (g.same_as[k] < 0)
        draw_target (cr, &g, r.runs[r.compare].rows, &r.runs[r.compare].ts.t[k], k, &look, ROLE_B);
  if (r.std != NULL)
    for (int k = r.runs[0].ts.n - 1; k >= 0; k--)
      if (g.same_as[k] < 0)
        draw_band (cr, &g, rows, r.std, &r.runs[0].ts.t[k], k, &look);
  for (int k = r.runs[0].ts.n - 1; k >= 0; k--)
    if (g.same_as[k] < 0)
      draw_target (cr, &g, rows, &r.runs[0].ts.t[k], k, &look, ROLE_MAIN);
  cairo_restore (cr);

  if (g.n_targets == 0)
    cl_plot_note_draw (cr, &g.plot, "the first probe runs at step 0", look.note_font);
  draw_crosshair (cr, &look, &g, &r);

  cl_plot_event_labels_clear (&labels);
  cl_probe_runs_clear (&r);
  cairo_restore (cr);
  if (layout != NULL)
    *layout = g;
}

void
cl_probe_plot_draw_full (cairo_t *cr, double width, double height, const ClProbeRow *rows, int n_rows,
                         const ClEvent *events, int n_events, const char *title, ClProbePlotLayout *layout)
{
  cl_probe_plot_draw_runs (cr, width, height, rows, n_rows, events, n_events, title, NULL, layout);
}

void
cl_probe_plot_draw (cairo_t *cr, double width, double height, const ClProbeRow *rows, int n_rows, const ClEvent *events,
                    int n_events, const char *title)
{
  cl_probe_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, title, NULL);
}
