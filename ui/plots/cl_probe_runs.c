#include "ui/plots/cl_probe_plot_private.h"

#include <math.h>
#include <string.h>

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
collect_targets (const ClProbeRow *rows, int n_rows, Targets *ts, ClProbePlotLayout *g)
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

static gboolean
same_target (const ClProbeRow *a, const ClProbeRow *b)
{
  return strncmp (a->target, b->target, sizeof a->target) == 0;
}

/* The mean and sample standard deviation, over the main run and its replicates, of every
 * (step, target) of the main run that at least two runs measured; rows measured by the main
 * run alone keep their value and get std NaN. */
static int
mean_over_runs (const ClProbeRow *rows, int n_rows, const ClProbePlotRun *reps, int n_reps, ClProbeRow **mean_out,
                double **std_out)
{
  ClProbeRow *mean = g_new (ClProbeRow, MAX (n_rows, 1));
  double *std = g_new (double, MAX (n_rows, 1));
  for (int i = 0; i < n_rows; i++)
    {
      double sum = 0.0, sum2 = 0.0;
      int n = 0;
      for (int run = -1; run < n_reps; run++)
        {
          const ClProbeRow *rr = run < 0 ? rows : reps[run].rows;
          int nr = run < 0 ? n_rows : (reps[run].rows ? reps[run].n_rows : 0);
          /* the run's value at this step and target (the last one measured) */
          double v = NAN;
          if (run < 0)
            v = rows[i].accuracy;
          else
            for (int j = 0; j < nr; j++)
              if (rr[j].step == rows[i].step && same_target (&rr[j], &rows[i]))
                v = rr[j].accuracy;
          if (!isfinite (v))
            continue;
          sum += v;
          sum2 += v * v;
          n++;
        }
      mean[i] = rows[i];
      mean[i].accuracy = n > 0 ? (float) (sum / n) : NAN;
      std[i] = n > 1 ? sqrt (MAX (0.0, (sum2 - sum * sum / n) / (n - 1))) : NAN;
    }
  *mean_out = mean;
  *std_out = std;
  return n_rows;
}

static gboolean
same_number (double a, double b)
{
  return isnan (a) ? isnan (b) : a == b;
}

/* TRUE when targets a and b of a run have the same probes: the same steps, accuracies (and
 * std over replicates), exactly; or the run has neither. */
static gboolean
same_points (const Run *run, const double *std, const Target *a, const Target *b)
{
  if (a->points == NULL || b->points == NULL)
    return a->points == b->points;
  if (a->points->len != b->points->len)
    return FALSE;
  for (guint j = 0; j < a->points->len; j++)
    {
      int ia = g_array_index (a->points, int, j), ib = g_array_index (b->points, int, j);
      if (run->rows[ia].step != run->rows[ib].step || !same_number (run->rows[ia].accuracy, run->rows[ib].accuracy))
        return FALSE;
      if (std != NULL && !same_number (std[ia], std[ib]))
        return FALSE;
    }
  return TRUE;
}

/* g->same_as: a target that repeats an earlier one in the main run and in B (and has its chance
 * level) is drawn as that one's line. Earlier runs (faded) do not decide. */
static void
find_same_series (const Runs *r, ClProbePlotLayout *g)
{
  for (int k = 0; k < CL_PROBE_PLOT_MAX_TARGETS; k++)
    g->same_as[k] = -1;
  const Run *main_run = &r->runs[0];
  for (int k = 1; k < main_run->ts.n; k++)
    for (int u = 0; u < k && g->same_as[k] < 0; u++)
      {
        if (g->same_as[u] >= 0 || main_run->ts.t[k].points == NULL || main_run->ts.t[u].points == NULL ||
            !same_number (g->chance[k], g->chance[u]) ||
            !same_points (main_run, r->std, &main_run->ts.t[k], &main_run->ts.t[u]))
          continue;
        if (r->compare >= 0)
          {
            const Run *b = &r->runs[r->compare];
            const Target none = { 0 };
            const Target *bk = k < b->ts.n ? &b->ts.t[k] : &none, *bu = u < b->ts.n ? &b->ts.t[u] : &none;
            if (!same_points (b, NULL, bk, bu))
              continue;
          }
        g->same_as[k] = u;
      }
}

void
cl_probe_runs_collect (Runs *r, const ClProbeRow *rows, int n_rows, const ClProbePlotOthers *others,
                       ClProbePlotLayout *g)
{
  int n_reps = others && others->replicates && others->n_replicates > 0 ? others->n_replicates : 0;
  ClProbeRow *mean_rows = NULL;
  double *std = NULL;
  if (n_reps > 0 && n_rows > 0)
    {
      mean_over_runs (rows, n_rows, others->replicates, n_reps, &mean_rows, &std);
      rows = mean_rows;
    }
  else
    n_reps = 0;
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
  r->view = others ? others->view : NULL;
  r->scale = r->view != NULL && r->view->font_scale > 0.0 ? r->view->font_scale : 1.0;
  r->n_replicates = n_reps;
  r->replicates_label = n_reps > 0 ? others->replicates_label : NULL;
  r->mean_rows = mean_rows;
  r->std = std;
  g->replicates = n_reps > 0 ? n_reps + 1 : 0;
  g->n_targets = 0;
  for (int i = 0; i < r->n; i++)
    collect_targets (r->runs[i].rows, r->runs[i].n_rows, &r->runs[i].ts, g);
  find_same_series (r, g);
  cl_probe_find_splits (g, r);
}

void
cl_probe_runs_clear (Runs *r)
{
  for (int i = 0; i < r->n; i++)
    targets_clear (&r->runs[i].ts);
  g_free (r->runs);
  g_free (r->mean_rows);
  g_free (r->std);
  memset (r, 0, sizeof *r);
}

/* The value of target t of a run at step (the last measured), NaN if none; *at gets its row. */
double
cl_probe_value_at_step (const ClProbeRow *rows, const Target *t, double step, int *at)
{
  double v = NAN;
  *at = -1;
  for (guint j = 0; t->points != NULL && j < t->points->len; j++)
    {
      int i = g_array_index (t->points, int, j);
      if ((double) rows[i].step == step)
        {
          v = rows[i].accuracy;
          *at = i;
        }
    }
  return v;
}
