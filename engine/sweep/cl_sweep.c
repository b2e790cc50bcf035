#include "engine/sweep/cl_sweep.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "engine/nn/cl_layers.h"
#include "engine/train/cl_trainer.h"

/* How often the sweep thread looks at the running trainer (progress, cancel). */
#define POLL_MS 50

/* ---------------------------------------------------------------- the grid */

typedef struct
{
  const ClParam *param;
  char **values; /* stripped, as given */
  int n_values;
} Axis;

struct ClSweepGrid
{
  ClConfig base;
  Axis *axes;
  int n_axes;
  int n_points;
  char **specs; /* as given, for describe */
};

void
cl_sweep_grid_free (ClSweepGrid *grid)
{
  if (!grid)
    return;
  for (int a = 0; a < grid->n_axes; a++)
    g_strfreev (grid->axes[a].values);
  g_free (grid->axes);
  g_strfreev (grid->specs);
  g_free (grid);
}

static gboolean
parse_spec (ClSweepGrid *grid, const char *spec, Axis *axis, GError **error)
{
  const char *eq = strchr (spec, '=');
  if (!eq || eq == spec || eq[1] == '\0')
    {
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                   "sweep '%s': expected KEY=V1,V2,..., e.g. data.bits=0,5,10", spec);
      return FALSE;
    }
  g_autofree char *key = g_strstrip (g_strndup (spec, (gsize) (eq - spec)));
  axis->param = cl_param_lookup (key);
  if (!axis->param)
    {
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_UNKNOWN_KEY,
                   "sweep '%s': unknown parameter '%s' (contrastlab --list-params lists them)", spec, key);
      return FALSE;
    }
  for (int a = 0; a < grid->n_axes; a++)
    if (grid->axes[a].param == axis->param)
      {
        g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "sweep '%s': %s is given twice", spec, key);
        return FALSE;
      }
  axis->values = g_strsplit (eq + 1, ",", -1);
  axis->n_values = (int) g_strv_length (axis->values);
  for (int v = 0; v < axis->n_values; v++)
    {
      g_strstrip (axis->values[v]);
      ClConfig check = grid->base;
      GError *local = NULL;
      if (!cl_config_set (&check, key, axis->values[v], &local))
        {
          g_set_error (error, CL_CONFIG_ERROR, local->code, "sweep '%s': %s", spec, local->message);
          g_error_free (local);
          return FALSE;
        }
      /* Two equal values ("0.1,0.1", or "0.1,0.10") would train the same run twice into one
       * folder (or two folders holding the same run): refused. */
      for (int w = 0; w < v; w++)
        {
          ClConfig other = grid->base;
          gboolean ok = cl_config_set (&other, key, axis->values[w], NULL);
          g_assert (ok);
          if (cl_config_value_equal (&check, &other, axis->param))
            {
              if (strcmp (axis->values[w], axis->values[v]) == 0)
                g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                             "sweep '%s': the value '%s' is given twice", spec, axis->values[v]);
              else
                g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                             "sweep '%s': '%s' and '%s' are the same value", spec, axis->values[w], axis->values[v]);
              return FALSE;
            }
        }
    }
  return TRUE;
}

ClSweepGrid *
cl_sweep_grid_new (const ClConfig *base, const char *const *specs, GError **error)
{
  ClSweepGrid *grid = g_new0 (ClSweepGrid, 1);
  grid->base = *base;
  int n_specs = specs ? (int) g_strv_length ((char **) specs) : 0;
  if (n_specs == 0)
    {
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                   "sweep: nothing to sweep; expected KEY=V1,V2,..., e.g. data.bits=0,5,10");
      cl_sweep_grid_free (grid);
      return NULL;
    }
  grid->specs = g_strdupv ((char **) specs);
  grid->axes = g_new0 (Axis, n_specs);
  double points = 1;
  for (int i = 0; i < n_specs; i++)
    {
      Axis axis = { 0 };
      if (!parse_spec (grid, specs[i], &axis, error))
        {
          g_strfreev (axis.values);
          cl_sweep_grid_free (grid);
          return NULL;
        }
      grid->axes[grid->n_axes++] = axis;
      points *= axis.n_values;
    }
  if (points > CL_SWEEP_MAX_POINTS)
    {
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "sweep: %.0f points; a sweep runs at most %d",
                   points, CL_SWEEP_MAX_POINTS);
      cl_sweep_grid_free (grid);
      return NULL;
    }
  grid->n_points = (int) points;
  return grid;
}

ClSweepGrid *
cl_sweep_grid_new_from_text (const ClConfig *base, const char *text, GError **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text ? text : ""));
  g_auto (GStrv) specs = *copy ? g_regex_split_simple ("\\s+", copy, 0, 0) : g_new0 (char *, 1);
  return cl_sweep_grid_new (base, (const char *const *) specs, error);
}

const ClConfig *
cl_sweep_grid_base (const ClSweepGrid *grid)
{
  return &grid->base;
}

int
cl_sweep_grid_n_axes (const ClSweepGrid *grid)
{
  return grid->n_axes;
}

int
cl_sweep_grid_n_points (const ClSweepGrid *grid)
{
  return grid->n_points;
}

const ClParam *
cl_sweep_grid_param (const ClSweepGrid *grid, int axis)
{
  g_return_val_if_fail (axis >= 0 && axis < grid->n_axes, NULL);
  return grid->axes[axis].param;
}

int
cl_sweep_grid_n_values (const ClSweepGrid *grid, int axis)
{
  g_return_val_if_fail (axis >= 0 && axis < grid->n_axes, 0);
  return grid->axes[axis].n_values;
}

const char *
cl_sweep_grid_value (const ClSweepGrid *grid, int axis, int value)
{
  g_return_val_if_fail (axis >= 0 && axis < grid->n_axes, NULL);
  g_return_val_if_fail (value >= 0 && value < grid->axes[axis].n_values, NULL);
  return grid->axes[axis].values[value];
}

int
cl_sweep_grid_value_index (const ClSweepGrid *grid, int point, int axis)
{
  g_return_val_if_fail (point >= 0 && point < grid->n_points, 0);
  g_return_val_if_fail (axis >= 0 && axis < grid->n_axes, 0);
  /* Row-major: the last axis is the fastest digit. */
  int rest = point;
  for (int a = grid->n_axes - 1; a > axis; a--)
    rest /= grid->axes[a].n_values;
  return rest % grid->axes[axis].n_values;
}

void
cl_sweep_grid_config (const ClSweepGrid *grid, int point, ClConfig *out)
{
  *out = grid->base;
  for (int a = 0; a < grid->n_axes; a++)
    {
      gboolean ok = cl_config_set (out, grid->axes[a].param->key,
                                   grid->axes[a].values[cl_sweep_grid_value_index (grid, point, a)], NULL);
      /* Every value was checked against the base when the grid was made. */
      g_assert (ok);
    }
}

char *
cl_sweep_grid_point_name (const ClSweepGrid *grid, int point)
{
  GString *name = g_string_new (NULL);
  for (int a = 0; a < grid->n_axes; a++)
    g_string_append_printf (name, "%s%s=%s", a ? "," : "", grid->axes[a].param->key,
                            grid->axes[a].values[cl_sweep_grid_value_index (grid, point, a)]);
  return g_string_free (name, FALSE);
}

char *
cl_sweep_grid_describe (const ClSweepGrid *grid)
{
  return g_strjoinv (" ", grid->specs);
}

char *
cl_sweep_preset_spec (const char *preset_path)
{
  if (!preset_path || !g_str_has_suffix (preset_path, ".ini"))
    return NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, preset_path, G_KEY_FILE_NONE, NULL))
    return NULL;
  char *spec = g_key_file_get_string (kf, "preset", "sweep", NULL);
  if (spec && !*g_strstrip (spec))
    g_clear_pointer (&spec, g_free);
  return spec;
}

/* ------------------------------------------------------------------- rows */

static int
row_target_index (const ClSweepRow *row, const char *target)
{
  for (int k = 0; k < row->n_targets; k++)
    if (strcmp (row->target[k], target) == 0)
      return k;
  return -1;
}

double
cl_sweep_row_accuracy (const ClSweepRow *row, const char *target)
{
  int k = row_target_index (row, target);
  return k >= 0 ? row->accuracy[k] : NAN;
}

double
cl_sweep_row_chance (const ClSweepRow *row, const char *target)
{
  int k = row_target_index (row, target);
  return k >= 0 ? row->chance[k] : NAN;
}

/* The last probe of each target (probes are logged in step order), in order of first appearance. */
static void
row_fill_probes (ClSweepRow *row, const ClSnapshot *s)
{
  row->n_targets = 0;
  for (int i = 0; i < s->n_probes; i++)
    {
      const ClProbeRow *p = &s->probes[i];
      /* ClProbeRow.target need not be NUL-terminated when it is full. */
      char name[sizeof row->target[0]] = "";
      memcpy (name, p->target, MIN (strnlen (p->target, sizeof p->target), sizeof name - 1));
      int k = row_target_index (row, name);
      if (k < 0)
        {
          if (row->n_targets >= CL_SWEEP_MAX_TARGETS)
            continue;
          k = row->n_targets++;
          memcpy (row->target[k], name, sizeof name);
        }
      row->accuracy[k] = p->accuracy;
      row->chance[k] = p->chance;
    }
}

static int
seed_axis (const ClSweepGrid *grid)
{
  for (int a = 0; a < grid->n_axes; a++)
    if (strcmp (grid->axes[a].param->key, "train.seed") == 0)
      return a;
  return -1;
}

static const ClSweepRow *
find_row (const ClSweepRow *rows, int n_rows, int point)
{
  if (point < n_rows && rows[point].point == point)
    return &rows[point];
  for (int r = 0; r < n_rows; r++)
    if (rows[r].point == point)
      return &rows[r];
  return NULL;
}

gboolean
cl_sweep_seed_stats (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows, int point, const char *target,
                     double *mean, double *std, int *n_seeds)
{
  *mean = *std = NAN;
  *n_seeds = 0;
  int sa = seed_axis (grid);
  if (sa < 0)
    return FALSE;
  /* The points of the group differ from point only in the seed's digit. */
  int stride = 1;
  for (int a = grid->n_axes - 1; a > sa; a--)
    stride *= grid->axes[a].n_values;
  int first = point - cl_sweep_grid_value_index (grid, point, sa) * stride;
  double sum = 0, sum2 = 0;
  int n = 0;
  for (int v = 0; v < grid->axes[sa].n_values; v++)
    {
      const ClSweepRow *row = find_row (rows, n_rows, first + v * stride);
      if (!target)
        {
          n += row && row->state == CL_SWEEP_POINT_DONE;
          continue;
        }
      double acc = row && row->state == CL_SWEEP_POINT_DONE ? cl_sweep_row_accuracy (row, target) : NAN;
      if (!isfinite (acc))
        continue;
      sum += acc;
      n++;
    }
  if (!target)
    *n_seeds = n;
  if (n == 0 || !target)
    return TRUE;
  double m = sum / n;
  for (int v = 0; v < grid->axes[sa].n_values; v++)
    {
      const ClSweepRow *row = find_row (rows, n_rows, first + v * stride);
      double acc = row && row->state == CL_SWEEP_POINT_DONE ? cl_sweep_row_accuracy (row, target) : NAN;
      if (isfinite (acc))
        sum2 += (acc - m) * (acc - m);
    }
  *mean = m;
  *std = n >= 2 ? sqrt (sum2 / (n - 1)) : NAN;
  *n_seeds = n;
  return TRUE;
}

static void
append_number (GString *csv, double v)
{
  char num[G_ASCII_DTOSTR_BUF_SIZE] = "";
  if (isfinite (v))
    g_ascii_formatd (num, sizeof num, "%.5f", v);
  g_string_append_printf (csv, ",%s", num);
}

char *
cl_sweep_csv (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows)
{
  GString *csv = g_string_new (NULL);
  for (int a = 0; a < grid->n_axes; a++)
    g_string_append_printf (csv, "%s%s", a ? "," : "", grid->axes[a].param->key);
  g_autoptr (GPtrArray) targets = g_ptr_array_new ();
  for (int r = 0; r < n_rows; r++)
    for (int k = 0; k < rows[r].n_targets; k++)
      if (!g_ptr_array_find_with_equal_func (targets, rows[r].target[k], g_str_equal, NULL))
        g_ptr_array_add (targets, (gpointer) rows[r].target[k]);
  for (guint k = 0; k < targets->len; k++)
    g_string_append_printf (csv, ",%s", (const char *) targets->pdata[k]);
  /* Seeds swept: each row also carries its group's (the other keys' combination) mean and
   * standard deviation per target and the number of seeds that finished. */
  gboolean seeds = seed_axis (grid) >= 0;
  if (seeds)
    {
      for (guint k = 0; k < targets->len; k++)
        g_string_append_printf (csv, ",%s_mean,%s_std", (const char *) targets->pdata[k],
                                (const char *) targets->pdata[k]);
      g_string_append (csv, ",seeds");
    }
  g_string_append_c (csv, '\n');
  for (int p = 0; p < grid->n_points; p++)
    {
      const ClSweepRow *row = find_row (rows, n_rows, p);
      for (int a = 0; a < grid->n_axes; a++)
        g_string_append_printf (csv, "%s%s", a ? "," : "",
                                grid->axes[a].values[cl_sweep_grid_value_index (grid, p, a)]);
      for (guint k = 0; k < targets->len; k++)
        append_number (csv, row ? cl_sweep_row_accuracy (row, targets->pdata[k]) : NAN);
      if (seeds)
        {
          double mean, std;
          int n_seeds;
          for (guint k = 0; k < targets->len; k++)
            {
              cl_sweep_seed_stats (grid, rows, n_rows, p, targets->pdata[k], &mean, &std, &n_seeds);
              append_number (csv, mean);
              append_number (csv, std);
            }
          cl_sweep_seed_stats (grid, rows, n_rows, p, NULL, &mean, &std, &n_seeds);
          g_string_append_printf (csv, ",%d", n_seeds);
        }
      g_string_append_c (csv, '\n');
    }
  return g_string_free (csv, FALSE);
}

/* ----------------------------------------------------------------- runner */

/* pthread primitives rather than GMutex: GLib's futex-based locks are invisible to
 * ThreadSanitizer, which CI runs on the thread bridges. */
struct ClSweep
{
  ClSweepGrid *grid; /* immutable while the thread runs */
  GThread *thread;
  gboolean keep_snapshots; /* set before start */
  int64_t *planned_steps;  /* per point, from the grid; immutable */

  pthread_mutex_t lock;
  pthread_cond_t cond; /* signalled on cancel */
  /* everything below is guarded by lock */
  ClSweepRow *rows;
  ClSnapshot **finals;
  ClTrainer *trainer; /* the running point's, or NULL */
  gboolean started, finished, cancel;
  int points_done;
  int current_point;
  int64_t current_step;
  int64_t steps_done_before; /* of the ended points */
  int64_t steps_total;
  gint64 t_start, t_end; /* monotonic µs */
  GError *error;
};

ClSweep *
cl_sweep_new (ClSweepGrid *grid)
{
  ClSweep *s = g_new0 (ClSweep, 1);
  s->grid = grid;
  pthread_mutex_init (&s->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&s->cond, &attr);
  pthread_condattr_destroy (&attr);
  int n = grid->n_points;
  s->rows = g_new0 (ClSweepRow, n);
  s->finals = g_new0 (ClSnapshot *, n);
  s->planned_steps = g_new0 (int64_t, n);
  for (int p = 0; p < n; p++)
    {
      ClConfig cfg;
      cl_sweep_grid_config (grid, p, &cfg);
      s->planned_steps[p] = cfg.train_steps;
      s->steps_total += cfg.train_steps;
      s->rows[p].point = p;
      s->rows[p].state = CL_SWEEP_POINT_PENDING;
    }
  s->current_point = -1;
  return s;
}

const ClSweepGrid *
cl_sweep_get_grid (const ClSweep *sweep)
{
  return sweep->grid;
}

void
cl_sweep_set_keep_snapshots (ClSweep *sweep, gboolean keep)
{
  g_return_if_fail (sweep->thread == NULL);
  sweep->keep_snapshots = keep;
}

/* Sleeps up to POLL_MS, waking early on cancel; returns whether cancel was asked. */
static gboolean
wait_poll (ClSweep *s)
{
  struct timespec until;
  clock_gettime (CLOCK_MONOTONIC, &until);
  until.tv_nsec += POLL_MS * 1000000L;
  until.tv_sec += until.tv_nsec / 1000000000L;
  until.tv_nsec %= 1000000000L;
  pthread_mutex_lock (&s->lock);
  while (!s->cancel)
    if (pthread_cond_timedwait (&s->cond, &s->lock, &until) != 0)
      break;
  gboolean c = s->cancel;
  pthread_mutex_unlock (&s->lock);
  return c;
}

/* Runs point p to its end (or to a cancel); FALSE when its trainer could not be built. */
static gboolean
run_point (ClSweep *s, int p)
{
  ClConfig cfg;
  cl_sweep_grid_config (s->grid, p, &cfg);
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  ClTrainer *trainer = cl_trainer_new (&cfg, &error);
  if (!trainer)
    {
      pthread_mutex_lock (&s->lock);
      s->rows[p].state = CL_SWEEP_POINT_FAILED;
      g_strlcpy (s->rows[p].error, error->message, sizeof s->rows[p].error);
      s->rows[p].seconds = (g_get_monotonic_time () - t0) / 1e6;
      s->error = error;
      s->points_done++;
      pthread_mutex_unlock (&s->lock);
      return FALSE;
    }
  pthread_mutex_lock (&s->lock);
  s->trainer = trainer;
  pthread_mutex_unlock (&s->lock);

  cl_trainer_start (trainer, FALSE);
  gboolean cancelled = FALSE;
  for (;;)
    {
      cancelled = wait_poll (s);
      if (cancelled)
        cl_trainer_request_stop (trainer);
      ClSnapshot *snap = cl_trainer_get_snapshot (trainer);
      gboolean finished = snap->finished;
      pthread_mutex_lock (&s->lock);
      s->current_step = MAX (s->current_step, snap->step);
      pthread_mutex_unlock (&s->lock);
      cl_snapshot_unref (snap);
      if (finished || cancelled)
        break;
    }
  /* The thread publishes once more as it ends: the final snapshot holds the last probes. */
  cl_trainer_wait (trainer);
  ClSnapshot *final = cl_trainer_get_snapshot (trainer);

  ClSweepRow row = { 0 };
  row.point = p;
  row.steps = final->step;
  row.seconds = (g_get_monotonic_time () - t0) / 1e6;
  /* A run cancelled before its end has no final probes: its step-0 baseline is not a result. */
  cancelled = cancelled && final->step < final->total_steps;
  if (cancelled)
    row.state = CL_SWEEP_POINT_CANCELLED;
  else
    {
      row_fill_probes (&row, final);
      row.state = final->error ? CL_SWEEP_POINT_FAILED : CL_SWEEP_POINT_DONE;
      if (final->error)
        g_strlcpy (row.error, final->error, sizeof row.error);
    }

  pthread_mutex_lock (&s->lock);
  s->trainer = NULL;
  s->rows[p] = row;
  s->steps_done_before += final->step;
  s->steps_total -= s->planned_steps[p] - final->step;
  s->current_step = 0;
  s->current_point = -1;
  s->points_done++;
  if (s->keep_snapshots && !cancelled)
    s->finals[p] = final;
  else
    cl_snapshot_unref (final);
  pthread_mutex_unlock (&s->lock);
  /* Readers get snapshots through cl_sweep_get_current_snapshot under the lock, so once the
   * pointer is cleared nobody can reach the trainer any more. */
  cl_trainer_free (trainer);
  return TRUE;
}

static gpointer
sweep_thread (gpointer data)
{
  ClSweep *s = data;
  cl_layers_apply_compute_nice ();
  for (int p = 0; p < s->grid->n_points; p++)
    {
      pthread_mutex_lock (&s->lock);
      gboolean stop = s->cancel;
      if (!stop)
        {
          s->current_point = p;
          s->current_step = 0;
          s->rows[p].state = CL_SWEEP_POINT_RUNNING;
        }
      pthread_mutex_unlock (&s->lock);
      if (stop || !run_point (s, p))
        break;
    }
  pthread_mutex_lock (&s->lock);
  s->current_point = -1;
  s->finished = TRUE;
  s->t_end = g_get_monotonic_time ();
  pthread_mutex_unlock (&s->lock);
  return NULL;
}

void
cl_sweep_start (ClSweep *s)
{
  g_return_if_fail (s->thread == NULL);
  pthread_mutex_lock (&s->lock);
  s->started = TRUE;
  s->t_start = g_get_monotonic_time ();
  pthread_mutex_unlock (&s->lock);
  s->thread = g_thread_new ("cl-sweep", sweep_thread, s);
}

void
cl_sweep_cancel (ClSweep *s)
{
  pthread_mutex_lock (&s->lock);
  s->cancel = TRUE;
  pthread_cond_broadcast (&s->cond);
  pthread_mutex_unlock (&s->lock);
}

void
cl_sweep_wait (ClSweep *s)
{
  if (s->thread)
    {
      g_thread_join (s->thread);
      s->thread = NULL;
    }
}

void
cl_sweep_free (ClSweep *s)
{
  if (!s)
    return;
  cl_sweep_cancel (s);
  cl_sweep_wait (s);
  for (int p = 0; p < s->grid->n_points; p++)
    if (s->finals[p])
      cl_snapshot_unref (s->finals[p]);
  g_free (s->finals);
  g_free (s->rows);
  g_free (s->planned_steps);
  if (s->error)
    g_error_free (s->error);
  cl_sweep_grid_free (s->grid);
  pthread_mutex_destroy (&s->lock);
  pthread_cond_destroy (&s->cond);
  g_free (s);
}

void
cl_sweep_get_progress (ClSweep *s, ClSweepProgress *out)
{
  memset (out, 0, sizeof *out);
  out->n_points = s->grid->n_points;
  pthread_mutex_lock (&s->lock);
  out->started = s->started;
  out->finished = s->finished;
  out->cancelled = s->cancel;
  out->failed = s->error != NULL;
  out->points_done = s->points_done;
  out->current_point = s->current_point;
  out->current_step = s->current_step;
  out->current_total_steps = s->current_point >= 0 ? s->planned_steps[s->current_point] : 0;
  out->steps_done = s->steps_done_before + s->current_step;
  out->steps_total = s->steps_total;
  gint64 now = s->finished ? s->t_end : g_get_monotonic_time ();
  out->elapsed_seconds = s->started ? (now - s->t_start) / 1e6 : 0;
  pthread_mutex_unlock (&s->lock);
  out->eta_seconds = -1;
  if (out->finished)
    out->eta_seconds = 0;
  else if (out->steps_done > 0 && out->elapsed_seconds > 0)
    {
      out->steps_per_second = (double) out->steps_done / out->elapsed_seconds;
      out->eta_seconds = (double) (out->steps_total - out->steps_done) / out->steps_per_second;
    }
}

void
cl_sweep_get_row (ClSweep *s, int point, ClSweepRow *out)
{
  g_return_if_fail (point >= 0 && point < s->grid->n_points);
  pthread_mutex_lock (&s->lock);
  *out = s->rows[point];
  pthread_mutex_unlock (&s->lock);
}

ClSweepRow *
cl_sweep_get_rows (ClSweep *s, int *n_rows)
{
  int n = s->grid->n_points;
  ClSweepRow *rows = g_new (ClSweepRow, n);
  pthread_mutex_lock (&s->lock);
  memcpy (rows, s->rows, sizeof (ClSweepRow) * n);
  pthread_mutex_unlock (&s->lock);
  if (n_rows)
    *n_rows = n;
  return rows;
}

ClSnapshot *
cl_sweep_get_current_snapshot (ClSweep *s)
{
  pthread_mutex_lock (&s->lock);
  ClSnapshot *snap = s->trainer ? cl_trainer_get_snapshot (s->trainer) : NULL;
  pthread_mutex_unlock (&s->lock);
  return snap;
}

ClSnapshot *
cl_sweep_take_snapshot (ClSweep *s, int point)
{
  g_return_val_if_fail (point >= 0 && point < s->grid->n_points, NULL);
  pthread_mutex_lock (&s->lock);
  ClSnapshot *snap = s->finals[point];
  s->finals[point] = NULL;
  pthread_mutex_unlock (&s->lock);
  return snap;
}

gboolean
cl_sweep_get_error (ClSweep *s, GError **error)
{
  pthread_mutex_lock (&s->lock);
  gboolean ok = s->error == NULL;
  if (!ok && error)
    *error = g_error_copy (s->error);
  pthread_mutex_unlock (&s->lock);
  return ok;
}
