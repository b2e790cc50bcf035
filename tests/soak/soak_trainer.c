/* Soak: the trainer on its thread with a snapshot consumer like the window's (polls every 50 ms,
 * reads the rows, records into a run store every second), random live control changes every few
 * seconds, random resets (trainer freed and built again, like the window's Reset) and random
 * exports (a run folder saved, the CSV texts built). Prints RSS over time and fails when RSS after
 * the warm-up grows by more than 5 %.
 *   SOAK_SECONDS (default 1800), SOAK_SEED (default 1), SOAK_MAX_GROWTH (percent, default 5; a
 *   negative value turns the RSS check off: CI's short TSan variant, where the first minute is all
 *   warm-up, looks for data races only). */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "engine/store/cl_runs.h"
#include "engine/train/cl_trainer.h"

static long
rss_kb (void)
{
  long kb = -1;
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose (f);
  return kb;
}

static void
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, n, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

static ClTrainer *
start (const ClConfig *cfg)
{
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (cfg, &error);
  if (!t)
    g_error ("soak: %s", error->message);
  cl_trainer_start (t, FALSE);
  return t;
}

int
main (void)
{
  double seconds = g_getenv ("SOAK_SECONDS") ? g_ascii_strtod (g_getenv ("SOAK_SECONDS"), NULL) : 1800;
  guint32 seed = g_getenv ("SOAK_SEED") ? (guint32) atoi (g_getenv ("SOAK_SEED")) : 1;
  GRand *rand = g_rand_new_with_seed (seed);
  g_autofree char *root = g_dir_make_tmp ("cl-soak-XXXXXX", NULL);
  g_autofree char *store_dir = g_build_filename (root, "store", NULL);
  g_autofree char *export_dir = g_build_filename (root, "export", NULL);
  GError *error = NULL;
  ClRunStore *store = cl_run_store_open (store_dir, &error);
  g_assert_no_error (error);

  ClConfig cfg;
  cl_config_init (&cfg);
  cfg.train_batch = 64;
  cfg.train_steps = 1000000; /* never ends by itself */
  cfg.train_threads = 1;
  cfg.data_bits = 4;
  cfg.probe_every = 200;
  cfg.probe_images = 500;
  ClTrainer *t = start (&cfg);
  const char *live[][4] = {
    { "loss.temperature", "0.05", "0.1", "0.5" },
    { "train.lr", "0.0003", "0.001", "0.002" },
    { "data.bits", "0", "2", "4" },
    { "aug.jitter", "0", "0.4", "0.8" },
  };

  gint64 t0 = g_get_monotonic_time (), last_control = t0, last_record = t0, last_sample = t0;
  double warmup = MIN (120.0, seconds / 4);
  long rss_after_warmup = -1, rss_max_after = 0;
  int changes = 0, resets = 0, exports = 0, snapshots = 0;
  printf ("# soak %.0f s, seed %u (time s, RSS kB, steps, changes, resets, exports)\n", seconds, seed);
  for (;;)
    {
      g_usleep (50000);
      gint64 now = g_get_monotonic_time ();
      double elapsed = (now - t0) / 1e6;
      /* the consumer: what the window's tick does with each snapshot */
      ClSnapshot *snap = cl_trainer_get_snapshot (t);
      snapshots++;
      double sum = 0;
      for (int i = 0; i < snap->n_rows; i += 50)
        sum += snap->rows[i].loss;
      (void) sum;
      if (now - last_record >= G_USEC_PER_SEC && !cl_run_store_record (store, snap, &error))
        g_error ("soak: record: %s", error->message);
      if (now - last_record >= G_USEC_PER_SEC)
        last_record = now;
      if (now - last_control >= (gint64) g_rand_int_range (rand, 2, 6) * G_USEC_PER_SEC)
        {
          last_control = now;
          int what = g_rand_int_range (rand, 0, 20);
          if (what == 0)
            {
              /* reset: the window ends the run in the store and starts a new trainer */
              cl_run_store_finish (store, snap, NULL);
              cl_trainer_free (t);
              t = start (&cfg);
              resets++;
            }
          else if (what <= 2)
            {
              if (!cl_run_save (export_dir, snap, "soak export", &error))
                g_error ("soak: export: %s", error->message);
              g_free (cl_runs_metrics_csv (snap));
              g_free (cl_runs_probes_csv (snap));
              exports++;
            }
          else
            {
              int k = g_rand_int_range (rand, 0, G_N_ELEMENTS (live));
              const char *v = live[k][1 + g_rand_int_range (rand, 0, 3)];
              if (!cl_trainer_set (t, live[k][0], v, &error))
                g_error ("soak: set %s=%s: %s", live[k][0], v, error->message);
              changes++;
            }
        }
      gint64 steps = snap->step;
      if (snap->error)
        g_error ("soak: the run failed: %s", snap->error);
      cl_snapshot_unref (snap);
      if (now - last_sample >= 10 * G_USEC_PER_SEC || elapsed >= seconds)
        {
          last_sample = now;
          long rss = rss_kb ();
          printf ("%.0f %ld %" G_GINT64_FORMAT " %d %d %d\n", elapsed, rss, steps, changes, resets, exports);
          fflush (stdout);
          if (elapsed >= warmup && rss_after_warmup < 0)
            rss_after_warmup = rss;
          if (rss_after_warmup > 0)
            rss_max_after = MAX (rss_max_after, rss);
        }
      if (elapsed >= seconds)
        break;
    }
  ClSnapshot *snap = cl_trainer_get_snapshot (t);
  cl_run_store_finish (store, snap, NULL);
  cl_snapshot_unref (snap);
  cl_trainer_free (t);
  cl_run_store_close (store);
  remove_tree (root);
  g_rand_free (rand);
  double growth = rss_after_warmup > 0 ? 100.0 * (rss_max_after - rss_after_warmup) / rss_after_warmup : 0;
  printf ("# %d snapshots, %d live changes, %d resets, %d exports; RSS after warm-up (%.0f s) %ld kB, max %ld kB: "
          "growth %.1f%%\n",
          snapshots, changes, resets, exports, warmup, rss_after_warmup, rss_max_after, growth);
  double limit = g_getenv ("SOAK_MAX_GROWTH") ? g_ascii_strtod (g_getenv ("SOAK_MAX_GROWTH"), NULL) : 5.0;
  return limit < 0 || growth < limit ? 0 : 1;
}
