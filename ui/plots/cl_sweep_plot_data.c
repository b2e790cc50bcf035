/* The sweep figure's data from a sweep (ui/plots/cl_sweep_plot.h): rows of sweep results
 * grouped into series by target and by the swept keys, seeds aggregated into mean +- std
 * (cl_sweep_seed_stats, the numbers of sweep.csv), and the PNG export with its metadata. The
 * drawing is in cl_sweep_plot.c. */
#include "ui/plots/cl_sweep_plot.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "ui/cl_png.h"

#define CL_SWEEP_MAX_AXES_GUESS 16

/* ------------------------------------------------------------ from a sweep */

/* The data and the strings it points to, freed together. */
typedef struct
{
  ClSweepPlotData data;
  char *title, *series_key, *note;
  char **x_labels;
  char **series_labels;
  double *x_values, *values, *series_reference, *errors;
  int *series_colors;
} Owned;

static gboolean
is_per_bit (const char *target)
{
  return strncmp (target, "bit", 3) == 0 && g_ascii_isdigit (target[3]);
}

/* The probe targets of a sweep's rows, in order of first appearance, the per-bit ones left out
 * ("class" when there are none yet). The names point into rows. */
static GPtrArray *
probe_target_names (const ClSweepRow *rows, int n_rows)
{
  GPtrArray *names = g_ptr_array_new ();
  for (int r = 0; r < n_rows; r++)
    for (int k = 0; k < rows[r].n_targets; k++)
      if (!is_per_bit (rows[r].target[k]) &&
          !g_ptr_array_find_with_equal_func (names, rows[r].target[k], g_str_equal, NULL))
        g_ptr_array_add (names, (gpointer) rows[r].target[k]);
  if (names->len == 0)
    g_ptr_array_add (names, "class");
  return names;
}

static gboolean
same_number (double a, double b)
{
  return isnan (a) ? isnan (b) : a == b;
}

/* Series a and b of values [x][series] (and of errors, when there are any) agree at every x,
 * with at least one value. */
static gboolean
same_series (const ClSweepPlotData *d, const double *values, const double *errors, int a, int b)
{
  int finite = 0;
  for (int x = 0; x < d->n_x; x++)
    {
      size_t ia = (size_t) x * d->n_series + a, ib = (size_t) x * d->n_series + b;
      if (!same_number (values[ia], values[ib]) || (errors != NULL && !same_number (errors[ia], errors[ib])))
        return FALSE;
      finite += isfinite (values[ia]);
    }
  return finite > 0;
}

/* Series that are probe targets: a target that is another under a second name (the class of
 * two-objects is large, of overlay the background) is one line, named "class = large". The
 * series keep their order; values, errors and chance levels move down over the merged ones. */
static void
merge_same_targets (Owned *o)
{
  ClSweepPlotData *d = &o->data;
  int n_x = d->n_x, n_s = d->n_series, kept = 0;
  int *into = g_new (int, (gsize) MAX (n_s, 1)); /* the kept series of series s */
  for (int s = 0; s < n_s; s++)
    {
      into[s] = -1;
      for (int u = 0; u < s && into[s] < 0; u++)
        if (into[u] == u && same_series (d, o->values, o->errors, s, u))
          into[s] = u;
      if (into[s] >= 0)
        {
          char *joined = g_strdup_printf ("%s = %s", o->series_labels[into[s]], o->series_labels[s]);
          g_free (o->series_labels[into[s]]);
          o->series_labels[into[s]] = joined;
        }
      else
        into[s] = s;
    }
  /* compact in place: a series' new place is never after its old one */
  o->series_colors = g_new (int, (gsize) MAX (n_s, 1));
  for (int s = 0; s < n_s; s++)
    {
      if (into[s] != s)
        {
          g_free (o->series_labels[s]);
          continue;
        }
      o->series_labels[kept] = o->series_labels[s];
      o->series_reference[kept] = o->series_reference[s];
      o->series_colors[kept] = s;
      kept++;
    }
  for (int s = kept; s < n_s; s++)
    o->series_labels[s] = NULL;
  for (int x = 0; x < n_x; x++)
    for (int s = 0, k = 0; s < n_s; s++)
      if (into[s] == s)
        {
          o->values[(size_t) x * kept + k] = o->values[(size_t) x * n_s + s];
          if (o->errors != NULL)
            o->errors[(size_t) x * kept + k] = o->errors[(size_t) x * n_s + s];
          k++;
        }
  d->n_series = kept;
  d->series_colors = o->series_colors;
  g_free (into);
}

/* One key swept: each probe target is a series. */
static void
series_by_target (Owned *o, const ClSweepRow *rows, int n_rows)
{
  ClSweepPlotData *d = &o->data;
  int n_x = d->n_x;
  g_autoptr (GPtrArray) names = probe_target_names (rows, n_rows);
  int n_t = (int) names->len;
  d->n_series = n_t;
  o->series_labels = g_new0 (char *, (gsize) n_t + 1);
  o->values = g_new (double, (gsize) n_x *n_t);
  o->series_reference = g_new (double, (gsize) n_t);
  for (int t = 0; t < n_t; t++)
    {
      o->series_labels[t] = g_strdup (names->pdata[t]);
      o->series_reference[t] = NAN;
      for (int x = 0; x < n_x; x++)
        o->values[(size_t) x * n_t + t] = NAN;
      for (int r = 0; r < n_rows; r++)
        if (rows[r].point >= 0 && rows[r].point < n_x)
          {
            o->values[(size_t) rows[r].point * n_t + t] = cl_sweep_row_accuracy (&rows[r], names->pdata[t]);
            double c = cl_sweep_row_chance (&rows[r], names->pdata[t]);
            if (isfinite (c))
              o->series_reference[t] = c;
          }
    }
  merge_same_targets (o);
  d->series_labels = (const char *const *) o->series_labels;
  d->series_reference = o->series_reference;
  d->values = o->values;
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
  g_autoptr (GPtrArray) names = by_target ? probe_target_names (rows, n_rows) : g_ptr_array_new ();
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
  if (by_target)
    merge_same_targets (o);
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
      series_by_target (o, rows, n_rows);
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
  g_free (o->series_colors);
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
