/* The sweep runner: grid expansion and its errors, the CSV, a real (tiny) sweep with monotone
 * progress and reproducible per-point results, cancel, and a point that cannot start. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/data/cl_data.h"
#include "engine/sweep/cl_sweep.h"
#include "engine/train/cl_trainer.h"

static void
tiny_config (ClConfig *cfg)
{
  cl_config_init (cfg);
  cfg->train_batch = 16;
  cfg->train_steps = 3;
  cfg->probe_every = 0;
  cfg->probe_sim_images = 4;
  cfg->probe_cluster_images = 1;
  cfg->train_threads = 1;
}

static void
test_grid_expansion (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  const char *specs[] = { "data.bits=0,5,10", "loss.temperature= 0.05 , 0.1", NULL };
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new (&base, specs, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cl_sweep_grid_n_axes (grid), ==, 2);
  g_assert_cmpint (cl_sweep_grid_n_points (grid), ==, 6);
  g_assert_cmpstr (cl_sweep_grid_param (grid, 0)->key, ==, "data.bits");
  g_assert_cmpstr (cl_sweep_grid_param (grid, 1)->key, ==, "loss.temperature");
  g_assert_cmpint (cl_sweep_grid_n_values (grid, 0), ==, 3);
  g_assert_cmpstr (cl_sweep_grid_value (grid, 1, 0), ==, "0.05");
  g_assert_cmpstr (cl_sweep_grid_value (grid, 1, 1), ==, "0.1");

  /* The last key varies fastest. */
  const int bits[] = { 0, 0, 5, 5, 10, 10 };
  const double temps[] = { 0.05, 0.1, 0.05, 0.1, 0.05, 0.1 };
  const char *names[] = { "data.bits=0,loss.temperature=0.05", "data.bits=0,loss.temperature=0.1",
                          "data.bits=5,loss.temperature=0.05", "data.bits=5,loss.temperature=0.1",
                          "data.bits=10,loss.temperature=0.05", "data.bits=10,loss.temperature=0.1" };
  for (int p = 0; p < 6; p++)
    {
      ClConfig cfg;
      cl_sweep_grid_config (grid, p, &cfg);
      g_assert_cmpint (cfg.data_bits, ==, bits[p]);
      g_assert_cmpfloat (cfg.loss_temperature, ==, temps[p]);
      /* Everything else is the base. */
      ClConfig expect = base;
      expect.data_bits = bits[p];
      expect.loss_temperature = temps[p];
      g_assert_true (memcmp (&cfg, &expect, sizeof cfg) == 0);
      g_autofree char *name = cl_sweep_grid_point_name (grid, p);
      g_assert_cmpstr (name, ==, names[p]);
    }
  g_autofree char *desc = cl_sweep_grid_describe (grid);
  g_assert_cmpstr (desc, ==, "data.bits=0,5,10 loss.temperature= 0.05 , 0.1");

  /* Three keys: the grid enumerates like nested loops, first key outermost. */
  g_autoptr (ClSweepGrid) g3 = cl_sweep_grid_new_from_text (
      &base, "  model.head_layers=0,1,3\n train.seed=7,8\tloss.kind=ntxent,decoupled,swd-cube  ", &error);
  g_assert_no_error (error);
  g_assert_cmpint (cl_sweep_grid_n_points (g3), ==, 18);
  const int heads[] = { 0, 1, 3 };
  const int seeds[] = { 7, 8 };
  int p = 0;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < 3; c++, p++)
        {
          g_assert_cmpint (cl_sweep_grid_value_index (g3, p, 0), ==, a);
          g_assert_cmpint (cl_sweep_grid_value_index (g3, p, 1), ==, b);
          g_assert_cmpint (cl_sweep_grid_value_index (g3, p, 2), ==, c);
          ClConfig cfg;
          cl_sweep_grid_config (g3, p, &cfg);
          g_assert_cmpint (cfg.model_head_layers, ==, heads[a]);
          g_assert_cmpint (cfg.train_seed, ==, seeds[b]);
          g_assert_cmpint (cfg.loss_kind, ==, c == 2 ? 3 : c); /* ntxent, decoupled, swd-normal, swd-cube */
        }
  g_assert_cmpint (p, ==, 18);
}

static void
expect_grid_error (const char *text, int code, const char *mention1, const char *mention2)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  ClSweepGrid *grid = cl_sweep_grid_new_from_text (&base, text, &error);
  g_assert_null (grid);
  g_assert_error (error, CL_CONFIG_ERROR, code);
  g_test_message ("%s -> %s", text, error->message);
  g_assert_null (strchr (error->message, '\n'));
  g_assert_nonnull (strstr (error->message, mention1));
  if (mention2)
    g_assert_nonnull (strstr (error->message, mention2));
  g_error_free (error);
}

static void
test_grid_errors (void)
{
  expect_grid_error ("data.bits", CL_CONFIG_ERROR_BAD_VALUE, "'data.bits'", "KEY=V1,V2");
  expect_grid_error ("data.bits=", CL_CONFIG_ERROR_BAD_VALUE, "data.bits=", "KEY=V1,V2");
  expect_grid_error ("=0,5", CL_CONFIG_ERROR_BAD_VALUE, "=0,5", "KEY=V1,V2");
  expect_grid_error ("", CL_CONFIG_ERROR_BAD_VALUE, "nothing to sweep", NULL);
  expect_grid_error ("data.bitz=0,5", CL_CONFIG_ERROR_UNKNOWN_KEY, "data.bitz", "--list-params");
  expect_grid_error ("data.bits=0,many", CL_CONFIG_ERROR_BAD_VALUE, "data.bits", "many");
  expect_grid_error ("data.bits=0,25", CL_CONFIG_ERROR_BAD_VALUE, "data.bits", "25");
  expect_grid_error ("data.bits=0,,5", CL_CONFIG_ERROR_BAD_VALUE, "data.bits", "''");
  expect_grid_error ("loss.kind=ntxent,infonce", CL_CONFIG_ERROR_BAD_VALUE, "loss.kind", "infonce");
  expect_grid_error ("data.bits=0,5 loss.temperature=0.1 data.bits=10", CL_CONFIG_ERROR_BAD_VALUE, "data.bits",
                     "twice");
  /* 22^3 = 10648 points */
  GString *big = g_string_new (NULL);
  const char *keys[] = { "train.seed", "data.bits", "model.width" };
  for (int k = 0; k < 3; k++)
    {
      g_string_append_printf (big, "%s=", keys[k]);
      for (int v = 0; v < 22; v++)
        {
          if (k == 2)
            g_string_append_printf (big, "%s%.2f", v ? "," : "", 0.5 + 0.1 * v);
          else
            g_string_append_printf (big, "%s%d", v ? "," : "", v);
        }
      g_string_append_c (big, ' ');
    }
  expect_grid_error (big->str, CL_CONFIG_ERROR_BAD_VALUE, "10648", "10000");
  g_string_free (big, TRUE);
}

static void
set_row (ClSweepRow *row, int point, int n, const char *const *targets, const float *acc)
{
  memset (row, 0, sizeof *row);
  row->point = point;
  row->state = CL_SWEEP_POINT_DONE;
  row->n_targets = n;
  for (int k = 0; k < n; k++)
    {
      g_strlcpy (row->target[k], targets[k], sizeof row->target[k]);
      row->accuracy[k] = acc[k];
      row->chance[k] = 0.1f;
    }
}

static void
test_csv_shape (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,5 loss.temperature=0.05,0.2", &error);
  g_assert_no_error (error);
  ClSweepRow rows[4];
  const char *t0[] = { "class" };
  const char *t1[] = { "class", "bits", "bit0" };
  set_row (&rows[0], 0, 1, t0, (const float[]){ 0.75f });
  set_row (&rows[1], 1, 1, t0, (const float[]){ 0.5f });
  set_row (&rows[2], 2, 3, t1, (const float[]){ 0.25f, 1.0f, 0.125f });
  /* point 3 never ran */
  memset (&rows[3], 0, sizeof rows[3]);
  rows[3].point = 3;
  rows[3].state = CL_SWEEP_POINT_PENDING;
  g_autofree char *csv = cl_sweep_csv (grid, rows, 4);
  g_assert_cmpstr (csv, ==,
                   "data.bits,loss.temperature,class,bits,bit0\n"
                   "0,0.05,0.75000,,\n"
                   "0,0.2,0.50000,,\n"
                   "5,0.05,0.25000,1.00000,0.12500\n"
                   "5,0.2,,,\n");
  g_assert_cmpfloat (cl_sweep_row_accuracy (&rows[2], "bits"), ==, 1.0);
  g_assert_true (isnan (cl_sweep_row_accuracy (&rows[0], "bits")));
  g_assert_cmpfloat (cl_sweep_row_chance (&rows[2], "class"), ==, 0.1f);
}

static void
check_monotone (const ClSweepProgress *prev, const ClSweepProgress *now)
{
  g_assert_cmpint (now->points_done, >=, prev->points_done);
  g_assert_cmpint (now->steps_done, >=, prev->steps_done);
  g_assert_cmpint (now->steps_done, <=, now->steps_total);
  g_assert_cmpfloat (now->elapsed_seconds, >=, prev->elapsed_seconds);
  if (now->current_point >= 0)
    {
      g_assert_cmpint (now->current_point, ==, now->points_done);
      g_assert_cmpint (now->current_step, <=, now->current_total_steps);
      if (now->current_point == prev->current_point)
        g_assert_cmpint (now->current_step, >=, prev->current_step);
    }
  if (now->eta_seconds >= 0 && !now->finished)
    g_assert_cmpfloat (now->steps_per_second, >, 0);
}

/* Polls until finished, checking that progress never goes backward; returns the polls made. */
static int
follow (ClSweep *sweep, double timeout_s, ClSweepProgress *last)
{
  ClSweepProgress prev;
  cl_sweep_get_progress (sweep, &prev);
  int polls = 0;
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  for (;;)
    {
      ClSweepProgress now;
      cl_sweep_get_progress (sweep, &now);
      check_monotone (&prev, &now);
      prev = now;
      polls++;
      if (now.finished)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (2000);
    }
  *last = prev;
  return polls;
}

static double
final_class_accuracy (const ClConfig *cfg)
{
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (cfg, &error);
  g_assert_no_error (error);
  cl_trainer_start (t, FALSE);
  cl_trainer_wait (t);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  double acc = NAN;
  for (int i = 0; i < s->n_probes; i++)
    if (strcmp (s->probes[i].target, "class") == 0)
      acc = s->probes[i].accuracy;
  cl_snapshot_unref (s);
  cl_trainer_free (t);
  return acc;
}

static void
test_runs (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  ClSweepGrid *grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,4 loss.temperature=0.1,0.2", &error);
  g_assert_no_error (error);
  ClSweep *sweep = cl_sweep_new (grid);
  cl_sweep_set_keep_snapshots (sweep, TRUE);
  ClSweepProgress before;
  cl_sweep_get_progress (sweep, &before);
  g_assert_false (before.started);
  g_assert_cmpint (before.n_points, ==, 4);
  g_assert_cmpint (before.steps_total, ==, 12);
  g_assert_cmpfloat (before.eta_seconds, <, 0);
  cl_sweep_start (sweep);
  ClSweepProgress last;
  int polls = follow (sweep, 900, &last); /* generous: sanitizer builds on a busy machine */
  g_test_message ("%d polls, %.2f s", polls, last.elapsed_seconds);
  cl_sweep_wait (sweep);
  g_assert_true (cl_sweep_get_error (sweep, NULL));
  g_assert_false (last.cancelled);
  g_assert_false (last.failed);
  g_assert_cmpint (last.points_done, ==, 4);
  g_assert_cmpint (last.steps_done, ==, 12);
  g_assert_cmpint (last.steps_total, ==, 12);
  g_assert_cmpint (last.current_point, ==, -1);
  g_assert_cmpfloat (last.eta_seconds, ==, 0);

  int n = 0;
  g_autofree ClSweepRow *rows = cl_sweep_get_rows (sweep, &n);
  g_assert_cmpint (n, ==, 4);
  for (int p = 0; p < 4; p++)
    {
      g_assert_cmpint (rows[p].point, ==, p);
      g_assert_cmpint (rows[p].state, ==, CL_SWEEP_POINT_DONE);
      g_assert_cmpint (rows[p].steps, ==, 3);
      g_assert_cmpfloat (rows[p].seconds, >, 0);
      g_assert_cmpstr (rows[p].target[0], ==, "class");
      double acc = cl_sweep_row_accuracy (&rows[p], "class");
      g_assert_cmpfloat (acc, >, 0.2); /* 10 balanced classes: chance is ~0.1; a random conv net already beats it */
      g_assert_cmpfloat (acc, <=, 1);
      /* bit targets exist exactly when there are bits */
      gboolean has_bits = isfinite (cl_sweep_row_accuracy (&rows[p], "bits"));
      g_assert_cmpint (has_bits, ==, p >= 2);
      if (has_bits)
        g_assert_true (isfinite (cl_sweep_row_accuracy (&rows[p], "bit3")));
      g_assert_true (isnan (cl_sweep_row_accuracy (&rows[p], "bit4")));

      ClSnapshot *final = cl_sweep_take_snapshot (sweep, p);
      g_assert_nonnull (final);
      g_assert_cmpint (final->step, ==, 3);
      g_assert_true (final->finished);
      g_assert_null (cl_sweep_take_snapshot (sweep, p));
      /* The snapshot is the point's run: its configuration is the grid point's. */
      ClConfig got;
      cl_config_init (&got);
      g_assert_true (cl_config_load_data (&got, final->config_ini, "snapshot", &error));
      ClConfig want;
      cl_sweep_grid_config (grid, p, &want);
      g_assert_cmpint (got.data_bits, ==, want.data_bits);
      g_assert_cmpfloat (got.loss_temperature, ==, want.loss_temperature);
      cl_snapshot_unref (final);
    }
  /* A point's result is the run of its configuration: the same as training it alone. */
  ClConfig cfg3;
  cl_sweep_grid_config (grid, 3, &cfg3);
  g_assert_cmpfloat (final_class_accuracy (&cfg3), ==, (float) cl_sweep_row_accuracy (&rows[3], "class"));

  g_autofree char *csv = cl_sweep_csv (grid, rows, n);
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 6); /* header, 4 rows, "" after the last newline */
  g_assert_true (g_str_has_prefix (lines[0], "data.bits,loss.temperature,class,"));
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  for (int i = 1; i <= 4; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_strv_length (f), ==, g_strv_length (header));
      /* bits=0 rows have no bit targets: empty cells */
      g_assert_cmpint (*f[g_strv_length (f) - 1] == '\0', ==, i <= 2);
    }
  cl_sweep_free (sweep);
}

/* Cancel mid-sweep: the running point stops within a step or a probe, no later point starts. */
static void
test_cancel (void)
{
  ClConfig base;
  tiny_config (&base);
  base.train_steps = 100000;
  GError *error = NULL;
  ClSweepGrid *grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,2,4,6,8,10", &error);
  g_assert_no_error (error);
  ClSweep *sweep = cl_sweep_new (grid);
  cl_sweep_start (sweep);
  ClSweepProgress prev, now;
  cl_sweep_get_progress (sweep, &prev);
  gint64 deadline = g_get_monotonic_time () + 900 * G_USEC_PER_SEC;
  for (;;)
    {
      cl_sweep_get_progress (sweep, &now);
      check_monotone (&prev, &now);
      prev = now;
      if (now.current_step >= 5)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (2000);
    }
  g_assert_cmpfloat (now.eta_seconds, >, 0);
  /* A trainer snapshot of the running point is readable. */
  ClSnapshot *cur = cl_sweep_get_current_snapshot (sweep);
  g_assert_nonnull (cur);
  g_assert_cmpint (cur->total_steps, ==, 100000);
  cl_snapshot_unref (cur);

  gint64 t0 = g_get_monotonic_time ();
  cl_sweep_cancel (sweep);
  ClSweepProgress last;
  follow (sweep, 30, &last);
  double took = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("cancel took %.3f s", took);
  /* A step at batch 16 is milliseconds; the wait covers one probe in flight on a busy machine. */
  g_assert_cmpfloat (took, <, 10);
  g_assert_true (last.cancelled);
  g_assert_true (last.finished);
  g_assert_false (last.failed);
  g_assert_cmpint (last.points_done, ==, 1);
  g_assert_cmpint (last.current_point, ==, -1);
  g_assert_null (cl_sweep_get_current_snapshot (sweep));
  ClSweepRow row;
  cl_sweep_get_row (sweep, 0, &row);
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_CANCELLED);
  g_assert_cmpint (row.n_targets, ==, 0);
  g_assert_cmpint (row.steps, >=, 5);
  g_assert_cmpint (row.steps, <, 100000);
  for (int p = 1; p < 6; p++)
    {
      cl_sweep_get_row (sweep, p, &row);
      g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_PENDING);
    }
  cl_sweep_free (sweep);

  /* Freeing a running sweep cancels it. */
  grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,2", &error);
  sweep = cl_sweep_new (grid);
  cl_sweep_start (sweep);
  do
    {
      g_usleep (2000);
      cl_sweep_get_progress (sweep, &now);
    }
  while (now.current_step < 1);
  t0 = g_get_monotonic_time ();
  cl_sweep_free (sweep);
  g_assert_cmpfloat ((g_get_monotonic_time () - t0) / 1e6, <, 10);
}

/* A point whose trainer cannot be built stops the sweep with that error. */
static void
test_error_stops (void)
{
  ClConfig base;
  tiny_config (&base);
  g_strlcpy (base.data_path, "/nonexistent/contrastlab-data", sizeof base.data_path);
  GError *error = NULL;
  ClSweepGrid *grid = cl_sweep_grid_new_from_text (&base, "loss.temperature=0.1,0.2", &error);
  g_assert_no_error (error);
  ClSweep *sweep = cl_sweep_new (grid);
  cl_sweep_start (sweep);
  ClSweepProgress last;
  follow (sweep, 300, &last);
  g_assert_true (last.failed);
  g_assert_false (last.cancelled);
  g_assert_false (cl_sweep_get_error (sweep, &error));
  g_assert_error (error, CL_DATA_ERROR, error->code);
  g_assert_nonnull (strstr (error->message, "/nonexistent/contrastlab-data"));
  g_clear_error (&error);
  ClSweepRow row;
  cl_sweep_get_row (sweep, 0, &row);
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_FAILED);
  g_assert_nonnull (strstr (row.error, "/nonexistent/contrastlab-data"));
  cl_sweep_get_row (sweep, 1, &row);
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_PENDING);
  cl_sweep_free (sweep);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep/grid-expansion", test_grid_expansion);
  g_test_add_func ("/sweep/grid-errors", test_grid_errors);
  g_test_add_func ("/sweep/csv-shape", test_csv_shape);
  g_test_add_func ("/sweep/runs", test_runs);
  g_test_add_func ("/sweep/cancel", test_cancel);
  g_test_add_func ("/sweep/error-stops", test_error_stops);
  return g_test_run ();
}
