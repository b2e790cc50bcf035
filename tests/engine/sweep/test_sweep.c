/* The sweep runner: grid expansion and its errors, the CSV, a real (tiny) sweep with monotone
 * progress and reproducible per-point results, cancel, and a point that cannot start. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "engine/data/cl_data.h"
#include "engine/sweep/cl_sweep.h"
#include "engine/train/cl_trainer.h"
#include "tests/engine/train/train_test_util.h"

static void
tiny_config (ClConfig *cfg)
{
  train_test_config (cfg, 16, 3, 1);
  cfg->probe_every = 0;
  cfg->probe_sim_images = 4;
  cfg->probe_cluster_images = 1;
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
  const char *names[] = { "data.bits=0,loss.temperature=0.05",  "data.bits=0,loss.temperature=0.1",
                          "data.bits=5,loss.temperature=0.05",  "data.bits=5,loss.temperature=0.1",
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
  /* A value given twice would be one run written twice (issue 16 #6), also when spelled apart. */
  expect_grid_error ("train.lr=0.1,0.1", CL_CONFIG_ERROR_BAD_VALUE, "'0.1'", "twice");
  expect_grid_error ("train.lr=0.1,0.10", CL_CONFIG_ERROR_BAD_VALUE, "'0.1' and '0.10'", "same value");
  expect_grid_error ("loss.kind=ntxent,decoupled,ntxent", CL_CONFIG_ERROR_BAD_VALUE, "'ntxent'", "twice");
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
  ClTrainer *t = train_test_new (cfg);
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

/* Seeds swept: every row gets its group's mean, sample std and seed count; the per-run rows stay. */
static void
test_csv_seeds (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid =
      cl_sweep_grid_new_from_text (&base, "loss.temperature=0.1,0.2 train.seed=1,2,3", &error);
  g_assert_no_error (error);
  ClSweepRow rows[6];
  const char *t[] = { "class", "bits" };
  /* temperature 0.1: class 0.5, 0.6, 0.7 (mean 0.6, std 0.1); bits 1, 1, 1 (std 0) */
  set_row (&rows[0], 0, 2, t, (const float[]){ 0.5f, 1.0f });
  set_row (&rows[1], 1, 2, t, (const float[]){ 0.625f, 1.0f });
  set_row (&rows[2], 2, 2, t, (const float[]){ 0.75f, 1.0f });
  /* temperature 0.2: seed 1 diverged (no accuracy), seed 2 done, seed 3 not run */
  set_row (&rows[3], 3, 2, t, (const float[]){ 0.25f, 0.5f });
  rows[3].state = CL_SWEEP_POINT_FAILED;
  rows[3].n_targets = 0;
  set_row (&rows[4], 4, 2, t, (const float[]){ 0.25f, 0.5f });
  memset (&rows[5], 0, sizeof rows[5]);
  rows[5].point = 5;
  g_autofree char *csv = cl_sweep_csv (grid, rows, 6);
  g_assert_cmpstr (csv, ==,
                   "loss.temperature,train.seed,class,bits,class_mean,class_std,bits_mean,bits_std,seeds\n"
                   "0.1,1,0.50000,1.00000,0.62500,0.12500,1.00000,0.00000,3\n"
                   "0.1,2,0.62500,1.00000,0.62500,0.12500,1.00000,0.00000,3\n"
                   "0.1,3,0.75000,1.00000,0.62500,0.12500,1.00000,0.00000,3\n"
                   "0.2,1,,,0.25000,,0.50000,,1\n"
                   "0.2,2,0.25000,0.50000,0.25000,,0.50000,,1\n"
                   "0.2,3,,,0.25000,,0.50000,,1\n");
  double mean, std;
  int n;
  g_assert_true (cl_sweep_seed_stats (grid, rows, 6, 1, "class", &mean, &std, &n));
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpfloat_with_epsilon (mean, 0.625, 1e-7);
  g_assert_cmpfloat_with_epsilon (std, 0.125, 1e-7);

  /* The seed as the first key: groups are strided the other way. */
  g_autoptr (ClSweepGrid) g2 = cl_sweep_grid_new_from_text (&base, "train.seed=4,5 data.bits=0,5", &error);
  g_assert_no_error (error);
  const char *tc[] = { "class" };
  set_row (&rows[0], 0, 1, tc, (const float[]){ 0.5f });
  set_row (&rows[1], 1, 1, tc, (const float[]){ 0.25f });
  set_row (&rows[2], 2, 1, tc, (const float[]){ 0.75f });
  set_row (&rows[3], 3, 1, tc, (const float[]){ 0.75f });
  g_autofree char *csv2 = cl_sweep_csv (g2, rows, 4);
  g_assert_cmpstr (csv2, ==,
                   "train.seed,data.bits,class,class_mean,class_std,seeds\n"
                   "4,0,0.50000,0.62500,0.17678,2\n"
                   "4,5,0.25000,0.50000,0.35355,2\n"
                   "5,0,0.75000,0.62500,0.17678,2\n"
                   "5,5,0.75000,0.50000,0.35355,2\n");
  /* No seed axis: no aggregate columns. */
  g_autoptr (ClSweepGrid) g3 = cl_sweep_grid_new_from_text (&base, "data.bits=0,5", &error);
  g_assert_false (cl_sweep_seed_stats (g3, rows, 2, 0, "class", &mean, &std, &n));
}

/* Folder names stay inside runs/ whatever the values, and two values never share a folder. */
static void
test_folder_names (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  GString *longv = g_string_new ("/data/");
  for (int i = 0; i < 300; i++)
    g_string_append_c (longv, (char) ('a' + i % 26));
  g_autofree char *spec =
      g_strdup_printf ("data.path=../../../../tmp/evil,..,/a/b,a%%2Fb,.hidden,x\ty,%s,%sz", longv->str, longv->str);
  const char *specs[] = { spec, NULL };
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new (&base, specs, &error);
  g_assert_no_error (error);
  int n = cl_sweep_grid_n_points (grid);
  g_assert_cmpint (n, ==, 8);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int p = 0; p < n; p++)
    {
      char *f = cl_sweep_grid_point_folder (grid, p);
      g_test_message ("%s", f);
      g_assert_null (strchr (f, '/'));
      g_assert_null (strchr (f, '\t'));
      g_assert_cmpint (f[0], !=, '.');
      g_assert_cmpint (strlen (f), <=, 200);
      g_assert_cmpint (strlen (f), >, 0);
      g_assert_false (g_hash_table_contains (seen, f));
      g_hash_table_add (seen, f);
    }
  g_autofree char *f0 = cl_sweep_grid_point_folder (grid, 0);
  g_assert_cmpstr (f0, ==, "data.path=..%2F..%2F..%2F..%2Ftmp%2Fevil");
  g_autofree char *f3 = cl_sweep_grid_point_folder (grid, 3);
  g_assert_cmpstr (f3, ==, "data.path=a%252Fb");
  g_autofree char *dir = cl_sweep_cell_dir (grid, "/out", 0);
  g_assert_cmpstr (dir, ==, "/out/runs/data.path=..%2F..%2F..%2F..%2Ftmp%2Fevil");
  /* Ordinary values keep their readable names. */
  g_autoptr (ClSweepGrid) g2 = cl_sweep_grid_new_from_text (&base, "data.bits=0,5 loss.temperature=0.05,0.1", &error);
  g_autofree char *plain = cl_sweep_grid_point_folder (g2, 3);
  g_assert_cmpstr (plain, ==, "data.bits=5,loss.temperature=0.1");
  g_string_free (longv, TRUE);
}

/* Temporary folders, removed when the program ends. */
static GPtrArray *tmp_dirs;

static char *
tmp_dir (void)
{
  GError *error = NULL;
  char *d = g_dir_make_tmp ("contrastlab-sweep-XXXXXX", &error);
  g_assert_no_error (error);
  if (!tmp_dirs)
    tmp_dirs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (tmp_dirs, g_strdup (d));
  return d;
}

/* The plan gives back the same grid: same configurations (every double exact), names, folders. */
static void
test_plan_round_trip (void)
{
  ClConfig base;
  tiny_config (&base);
  base.loss_temperature = 0.123456789012345678; /* more digits than run.ini keeps */
  base.aug_crop_min_area = 1.0 / 3.0;
  g_strlcpy (base.data_path, "/tmp/a\tb\\c\"d\xc3\xa9", sizeof base.data_path);
  GError *error = NULL;
  const char *specs[] = { "data.bits=0, 5", "train.seed=1,2,3", NULL };
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new (&base, specs, &error);
  g_assert_no_error (error);
  g_autofree char *dir = tmp_dir ();
  g_assert_true (cl_sweep_plan_write (grid, dir, &error));
  g_assert_no_error (error);
  g_autoptr (ClSweepGrid) back = cl_sweep_plan_read (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpint (cl_sweep_grid_n_points (back), ==, 6);
  for (int p = 0; p < 6; p++)
    {
      ClConfig a, b;
      cl_sweep_grid_config (grid, p, &a);
      cl_sweep_grid_config (back, p, &b);
      g_assert_true (memcmp (&a, &b, sizeof a) == 0);
      g_autofree char *na = cl_sweep_grid_point_name (grid, p);
      g_autofree char *nb = cl_sweep_grid_point_name (back, p);
      g_assert_cmpstr (na, ==, nb);
    }
  g_autofree char *db = cl_sweep_grid_describe (back);
  g_assert_cmpstr (db, ==, "data.bits=0,5 train.seed=1,2,3");
  g_autofree char *ida = cl_sweep_plan_id (grid);
  g_autofree char *idb = cl_sweep_plan_id (back);
  g_assert_cmpstr (ida, ==, idb);
  g_autofree char *text = cl_sweep_plan_text (back);
  g_assert_nonnull (strstr (text, "\ncells\t6\n"));
  g_assert_nonnull (strstr (text, "\ncell\t5\tdata.bits=5,train.seed=3\tdata.bits=5,train.seed=3\n"));
}

/* The lines joined back with line lineno (1-based) replaced. */
static char *
replace_line (char **lines, int lineno, const char *with)
{
  char *saved = lines[lineno - 1];
  lines[lineno - 1] = (char *) with;
  char *t = g_strjoinv ("\n", lines);
  lines[lineno - 1] = saved;
  return t;
}

static void
expect_plan_error (const char *text, int code, const char *mention)
{
  GError *error = NULL;
  ClSweepGrid *grid = cl_sweep_plan_parse (text, strlen (text), "DIR/sweep.plan", &error);
  g_assert_null (grid);
  g_assert_error (error, CL_SWEEP_ERROR, code);
  g_test_message ("-> %s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "DIR/sweep.plan"));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_nonnull (strstr (error->message, mention));
  g_error_free (error);
}

/* Corrupt plans are refused with the file, the line and what was expected. */
static void
test_plan_corrupt (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,5", &error);
  g_autofree char *good = cl_sweep_plan_text (grid);
  /* the good text parses */
  g_autoptr (ClSweepGrid) ok = cl_sweep_plan_parse (good, strlen (good), "DIR/sweep.plan", &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
  /* the header is line 4, the first base line 5 */
  char **lines = g_strsplit (good, "\n", -1);
  int n_lines = (int) g_strv_length (lines);
  int cells_line = 0;
  for (int i = 0; i < n_lines; i++)
    if (g_str_has_prefix (lines[i], "cells\t"))
      cells_line = i + 1;
  g_assert_cmpint (cells_line, >, 5);
  struct
  {
    int line;
    const char *with;
    const char *mention;
  } cases[] = {
    { 4, "contrastlab-sweep-plan\t2", "plan version 2" },
    { 4, "something else", "not a ContrastLab sweep plan" },
    { 5, "base\tdata.bitz\t3", "unknown parameter 'data.bitz'" },
    { 5, "base\tdata.base\tfashion-mnist\textra", "expected base<TAB>KEY<TAB>VALUE" },
    { 6, "base\tdata.base\tfashion-mnist", "data.base is given twice" },
    { 7, "frobnicate\t1", "unknown line 'frobnicate'" },
    { cells_line, "cells\t3", "3 cells, but the sweep lines above make 2" },
    { cells_line, "cells\tmany", "expected cells<TAB>N" },
    { cells_line + 1, "cell\t1\tdata.bits=5\tdata.bits=5", "cell 1 where cell 0 was expected" },
    { cells_line + 1, "cell\t0\tdata.bits=0\t..%2F..%2Fetc", "the sweep makes it 'data.bits=0' in 'data.bits=0'" },
    { cells_line + 1, "cell\t0\tdata.bits=0", "expected cell<TAB>INDEX" },
    { cells_line - 1, "sweep\tdata.bits=0,99", "'99'" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = replace_line (lines, cases[i].line, cases[i].with);
      int code = CL_SWEEP_ERROR_BAD_PLAN;
      g_autofree char *where = g_strdup_printf ("DIR/sweep.plan:%d: ", cases[i].line);
      expect_plan_error (text, code, cases[i].mention);
      expect_plan_error (text, code, where);
    }
  /* cut short: mid-line, and after a whole line */
  g_autofree char *cut = g_strndup (good, strlen (good) - 3);
  expect_plan_error (cut, CL_SWEEP_ERROR_BAD_PLAN, "the last line has no end");
  const char *last_cell = g_strrstr (good, "cell\t1");
  g_autofree char *cut2 = g_strndup (good, (gsize) (last_cell - good));
  expect_plan_error (cut2, CL_SWEEP_ERROR_BAD_PLAN, "2 cells announced, 1 listed");
  g_autofree char *cut3 = g_strndup (good, (gsize) (strstr (good, "\ncells\t") + 1 - good));
  expect_plan_error (cut3, CL_SWEEP_ERROR_BAD_PLAN, "no 'cells' line");
  expect_plan_error ("", CL_SWEEP_ERROR_BAD_PLAN, "empty");
  expect_plan_error ("# only a comment\n", CL_SWEEP_ERROR_BAD_PLAN, "empty");
  /* control bytes in the file are escaped in the message */
  expect_plan_error ("\x1b[31mred\n", CL_SWEEP_ERROR_BAD_PLAN, "\\033[31mred");
  char with_nul[] = "contrastlab-sweep-plan\t1\n\0x\n";
  ClSweepGrid *g = cl_sweep_plan_parse (with_nul, sizeof with_nul - 1, "P", &error);
  g_assert_null (g);
  g_assert_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_BAD_PLAN);
  g_assert_nonnull (strstr (error->message, "NUL"));
  g_clear_error (&error);
  g_strfreev (lines);

  /* A missing plan, and a folder in its place. */
  g_autofree char *dir = tmp_dir ();
  g_assert_null (cl_sweep_plan_read (dir, &error));
  g_assert_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_NO_PLAN);
  g_assert_nonnull (strstr (error->message, "sweep.plan"));
  g_clear_error (&error);
  g_autofree char *as_dir = g_build_filename (dir, "sweep.plan", NULL);
  g_assert_cmpint (g_mkdir (as_dir, 0755), ==, 0);
  g_assert_null (cl_sweep_plan_read (dir, &error));
  g_assert_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_BAD_PLAN);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
}

/* A cell is finished only with its cell.ini, for its own index and plan; its row comes from
 * probes.csv; a diverged cell is finished with no accuracy. */
static void
test_cell_marks (void)
{
  ClConfig base;
  tiny_config (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,5", &error);
  g_autofree char *dir = tmp_dir ();
  ClSweepRow row;
  g_assert_false (cl_sweep_cell_finished (grid, dir, 0));
  g_assert_true (cl_sweep_cell_row (grid, dir, 0, &row, &error));
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_PENDING);
  g_autofree char *c0 = cl_sweep_cell_dir (grid, dir, 0);
  g_autofree char *c1 = cl_sweep_cell_dir (grid, dir, 1);
  g_assert_cmpint (g_mkdir_with_parents (c0, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (c1, 0755), ==, 0);
  g_autofree char *probes = g_build_filename (c0, "probes.csv", NULL);
  g_assert_true (g_file_set_contents (probes,
                                      "step,target,accuracy,chance\n0,class,0.50000,0.10000\n0,bits,0.5,0.5\n"
                                      "3,class,0.75000,0.10000\n3,bits,1,0.5\n",
                                      -1, NULL));
  /* rows but no mark: unfinished (a killed job) */
  g_assert_false (cl_sweep_cell_finished (grid, dir, 0));
  g_assert_true (cl_sweep_cell_mark (grid, c0, 0, CL_SWEEP_CELL_DONE, 3, 1.5, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (cl_sweep_cell_finished (grid, dir, 0));
  g_assert_true (cl_sweep_cell_row (grid, dir, 0, &row, &error));
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_DONE);
  g_assert_cmpint (row.steps, ==, 3);
  g_assert_cmpint (row.n_targets, ==, 2);
  g_assert_cmpstr (row.target[0], ==, "class");
  g_assert_cmpfloat (cl_sweep_row_accuracy (&row, "class"), ==, 0.75f);
  g_assert_cmpfloat (cl_sweep_row_accuracy (&row, "bits"), ==, 1.0f);
  /* a mark written for another index, or by another plan, does not count */
  g_assert_true (cl_sweep_cell_mark (grid, c1, 0, CL_SWEEP_CELL_DONE, 3, 1.5, NULL, &error));
  g_assert_false (cl_sweep_cell_finished (grid, dir, 1));
  g_autoptr (ClSweepGrid) other = cl_sweep_grid_new_from_text (&base, "data.bits=0,5,10", &error);
  g_assert_false (cl_sweep_cell_finished (other, dir, 0));
  /* diverged: finished, no accuracy, the message kept */
  g_assert_true (
      cl_sweep_cell_mark (grid, c1, 1, CL_SWEEP_CELL_DIVERGED, 5, 0.5, "training diverged at step 5", &error));
  g_assert_true (cl_sweep_cell_finished (grid, dir, 1));
  g_assert_true (cl_sweep_cell_row (grid, dir, 1, &row, &error));
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_FAILED);
  g_assert_cmpint (row.n_targets, ==, 0);
  g_assert_cmpstr (row.error, ==, "training diverged at step 5");
  /* a damaged probes.csv of a finished cell is an error naming it */
  g_assert_true (
      g_file_set_contents (probes, "step,target,accuracy,chance\nx,class,zz,0.1\n3,class,0.5,0.1\n", -1, NULL));
  g_assert_false (cl_sweep_cell_row (grid, dir, 0, &row, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "probes.csv"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep/grid-expansion", test_grid_expansion);
  g_test_add_func ("/sweep/grid-errors", test_grid_errors);
  g_test_add_func ("/sweep/csv-shape", test_csv_shape);
  g_test_add_func ("/sweep/csv-seeds", test_csv_seeds);
  g_test_add_func ("/sweep/folder-names", test_folder_names);
  g_test_add_func ("/sweep/plan-round-trip", test_plan_round_trip);
  g_test_add_func ("/sweep/plan-corrupt", test_plan_corrupt);
  g_test_add_func ("/sweep/cell-marks", test_cell_marks);
  g_test_add_func ("/sweep/runs", test_runs);
  g_test_add_func ("/sweep/cancel", test_cancel);
  g_test_add_func ("/sweep/error-stops", test_error_stops);
  int code = g_test_run ();
  for (guint i = 0; tmp_dirs && i < tmp_dirs->len; i++)
    {
      const char *argv[] = { "rm", "-rf", tmp_dirs->pdata[i], NULL };
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    }
  return code;
}
