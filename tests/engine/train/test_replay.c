/* Replaying a run's live changes (events.csv, a PNG's contrastlab:events): the same configuration
 * and the same events give the same numbers, row for row. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "engine/store/cl_runs.h"
#include "engine/train/cl_trainer.h"
#include "tests/engine/train/train_test_util.h"

static void
replay_config (ClConfig *cfg)
{
  train_test_config (cfg, 16, 24, 1);
  cfg->data_bits = 3;
  cfg->probe_every = 12;
  cfg->probe_images = 200;
}

static void
steps (ClTrainer *t, int n)
{
  for (int i = 0; i < n; i++)
    g_assert_true (cl_trainer_step (t));
  cl_trainer_publish (t);
}

static ClSnapshot *
finish (ClTrainer *t)
{
  while (cl_trainer_step (t))
    ;
  cl_trainer_publish (t);
  return cl_trainer_get_snapshot (t);
}

/* metrics.csv without its wall-clock column (seconds), which no two runs share. */
static char *
metrics_without_seconds (const ClSnapshot *s)
{
  g_autofree char *csv = cl_runs_metrics_csv (s);
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  GString *out = g_string_new (NULL);
  for (int i = 0; lines[i]; i++)
    {
      g_auto (GStrv) cells = g_strsplit (lines[i], ",", -1);
      for (int c = 0; cells[c]; c++)
        if (c != 1)
          g_string_append_printf (out, "%s%s", c ? "," : "", cells[c]);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static void
test_replay_gives_same_numbers (void)
{
  ClConfig cfg;
  replay_config (&cfg);
  GError *error = NULL;

  /* The original run: a user changes tau after 8 steps, then the bits and the flip together. */
  ClTrainer *a = train_test_new (&cfg);
  steps (a, 8);
  g_assert_true (cl_trainer_set (a, "loss.temperature", "0.3", &error));
  steps (a, 5);
  g_assert_true (cl_trainer_set (a, "data.bits", "0", &error));
  g_assert_true (cl_trainer_set (a, "aug.flip", "0.9", &error));
  g_assert_no_error (error);
  ClSnapshot *sa = finish (a);
  g_assert_cmpint (sa->n_events, ==, 3);
  g_assert_cmpint (sa->events[0].step, ==, 9);
  g_assert_cmpint (sa->events[1].step, ==, 14);

  /* Through events.csv, as a run folder (or a PNG's chunk) carries them. */
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-replay-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "events.csv", NULL);
  g_autofree char *events_csv = cl_runs_events_csv (sa);
  g_assert_true (g_file_set_contents (path, events_csv, -1, &error));
  int n_events = 0;
  ClEvent *events = cl_runs_read_events (path, &n_events, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n_events, ==, 3);

  ClTrainer *b = train_test_new (&cfg);
  g_assert_true (cl_trainer_replay (b, events, n_events, &error));
  g_assert_no_error (error);
  ClSnapshot *sb = finish (b);

  g_autofree char *ma = metrics_without_seconds (sa), *mb = metrics_without_seconds (sb);
  g_assert_cmpstr (ma, ==, mb);
  g_autofree char *pa = cl_runs_probes_csv (sa), *pb = cl_runs_probes_csv (sb);
  g_assert_cmpstr (pa, ==, pb);
  g_autofree char *eb = cl_runs_events_csv (sb);
  g_assert_cmpstr (events_csv, ==, eb);
  g_assert_cmpstr (sa->config_ini, ==, sb->config_ini);

  /* Without the replay the run is another experiment: equal up to step 8, different after. */
  ClTrainer *c = train_test_new (&cfg);
  ClSnapshot *sc = finish (c);
  g_assert_cmpint (sc->n_rows, ==, sa->n_rows);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (sc->rows[i].loss, ==, sa->rows[i].loss);
  int differ = 0;
  for (int i = 8; i < sa->n_rows; i++)
    differ += sc->rows[i].loss != sa->rows[i].loss;
  g_assert_cmpint (differ, ==, sa->n_rows - 8);
  g_autofree char *mc = metrics_without_seconds (sc);
  g_assert_cmpstr (mc, !=, ma);

  cl_snapshot_unref (sa);
  cl_snapshot_unref (sb);
  cl_snapshot_unref (sc);
  cl_trainer_free (a);
  cl_trainer_free (b);
  cl_trainer_free (c);
  g_free (events);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_replay_refuses_bad_events (void)
{
  ClConfig cfg;
  replay_config (&cfg);
  ClTrainer *t = train_test_new (&cfg);
  ClEvent e[2] = { { 5, "loss.temperature", "0.1", "0.2" }, { 3, "aug.flip", "0.5", "0" } };
  GError *error = NULL;
  g_assert_false (cl_trainer_replay (t, e, 2, &error));
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "event 2 (aug.flip at step 3)"));
  g_clear_error (&error);
  ClEvent restart = { 4, "train.batch", "16", "32" };
  g_assert_false (cl_trainer_replay (t, &restart, 1, &error));
  g_assert_nonnull (strstr (error->message, "only live parameters"));
  g_clear_error (&error);
  ClEvent bad = { 4, "loss.temperature", "0.1", "hot" };
  g_assert_false (cl_trainer_replay (t, &bad, 1, &error));
  g_assert_nonnull (strstr (error->message, "event 1: "));
  g_assert_nonnull (strstr (error->message, "loss.temperature"));
  g_clear_error (&error);
  ClEvent unknown = { 4, "loss.temperatur", "0.1", "0.2" };
  g_assert_false (cl_trainer_replay (t, &unknown, 1, &error));
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_UNKNOWN_KEY);
  g_clear_error (&error);
  /* Nothing was kept: the run trains as configured. */
  ClSnapshot *s = finish (t);
  g_assert_cmpint (s->n_events, ==, 0);
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer/replay/same-numbers", test_replay_gives_same_numbers);
  g_test_add_func ("/trainer/replay/bad-events", test_replay_refuses_bad_events);
  return g_test_run ();
}
