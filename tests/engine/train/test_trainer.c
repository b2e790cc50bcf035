/* The trainer: determinism, live controls and their events, the thread bridge, errors. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "engine/data/cl_data.h"
#include "engine/nn/cl_layers.h"
#include "engine/train/cl_trainer.h"
#include "tests/engine/train/train_test_util.h"

static void
small_config (ClConfig *cfg)
{
  train_test_config (cfg, 32, 200, 2);
  cfg->data_bits = 3;
}

static void
run_steps (ClTrainer *t, int n, float *losses)
{
  ClSnapshot *before = cl_trainer_get_snapshot (t);
  int n0 = before->n_rows;
  cl_snapshot_unref (before);
  for (int i = 0; i < n; i++)
    {
      cl_trainer_step (t);
      cl_trainer_publish (t);
      ClSnapshot *s = cl_trainer_get_snapshot (t);
      g_assert_cmpint (s->n_rows, ==, n0 + i + 1);
      losses[i] = s->rows[n0 + i].loss;
      g_assert_true (isfinite (losses[i]));
      cl_snapshot_unref (s);
    }
}

/* Same preset + seed => the same numbers, bit for bit (same build, same thread count). */
static void
test_determinism (void)
{
  ClConfig cfg;
  small_config (&cfg);
  float a[10], b[10], c[10];
  ClTrainer *t1 = train_test_new (&cfg);
  run_steps (t1, 10, a);
  cl_trainer_free (t1);
  ClTrainer *t2 = train_test_new (&cfg);
  run_steps (t2, 10, b);
  cl_trainer_free (t2);
  for (int i = 0; i < 10; i++)
    g_assert_cmpfloat (a[i], ==, b[i]);

  cfg.train_seed = 2;
  ClTrainer *t3 = train_test_new (&cfg);
  run_steps (t3, 10, c);
  cl_trainer_free (t3);
  int same = 0;
  for (int i = 0; i < 10; i++)
    same += a[i] == c[i];
  g_assert_cmpint (same, <, 10);
}

/* Building the next batch on a helper thread changes nothing: the same losses, bit for bit, as
 * building each batch in its step, also when live changes (augmentation, bit count, temperature)
 * throw a prefetched batch away, and the same previews and code collisions. */
static void
test_prefetch_same_numbers (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.aug_jitter = 0.3;
  const char *changes[][2] = {
    { "aug.jitter", "0.8" }, { "data.bits", "5" }, { "loss.temperature", "0.3" }, { "aug.crop_min_area", "0.3" }
  };
  float losses[2][24];
  float collision[2][24];
  float preview[2][64];
  for (int run = 0; run < 2; run++)
    {
      ClTrainer *t = train_test_new (&cfg);
      cl_trainer_set_prefetch (t, run == 0);
      for (int c = 0; c < 4; c++)
        {
          run_steps (t, 6, losses[run] + 6 * c);
          ClSnapshot *s = cl_trainer_get_snapshot (t);
          for (int i = 0; i < 6; i++)
            collision[run][6 * c + i] = s->rows[6 * c + i].code_collision;
          memcpy (preview[run] + 16 * c, s->preview.pixels + 100, sizeof (float) * 16);
          g_assert_cmpint (s->preview.step, ==, 6 * c + 6);
          cl_snapshot_unref (s);
          GError *error = NULL;
          g_assert_true (cl_trainer_set (t, changes[c][0], changes[c][1], &error));
          g_assert_no_error (error);
        }
      cl_trainer_free (t);
    }
  g_assert_cmpmem (losses[0], sizeof losses[0], losses[1], sizeof losses[1]);
  g_assert_cmpmem (collision[0], sizeof collision[0], collision[1], sizeof collision[1]);
  g_assert_cmpmem (preview[0], sizeof preview[0], preview[1], sizeof preview[1]);
  /* The changes took effect: a different run from the unchanged configuration. */
  ClTrainer *t = train_test_new (&cfg);
  float plain[24];
  run_steps (t, 24, plain);
  cl_trainer_free (t);
  g_assert_cmpmem (plain, sizeof (float) * 6, losses[0], sizeof (float) * 6);
  g_assert_true (memcmp (plain + 6, losses[0] + 6, sizeof (float) * 18) != 0);
}

/* train.threads changes the speed, not the numbers: the engine's sums are cut into the same pieces
 * whatever the number of threads, and OpenBLAS runs single-threaded inside them. */
static void
test_threads_same_numbers (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_batch = 256; /* large enough for every layer to be split across threads */
  float losses[3][4];
  for (int run = 0; run < 3; run++)
    {
      cfg.train_threads = run + 1;
      ClTrainer *t = train_test_new (&cfg);
      g_assert_cmpint (cl_trainer_threads (t), ==, run + 1);
      run_steps (t, 4, losses[run]);
      cl_trainer_free (t);
    }
  g_assert_cmpmem (losses[0], sizeof losses[0], losses[1], sizeof losses[1]);
  g_assert_cmpmem (losses[0], sizeof losses[0], losses[2], sizeof losses[2]);
}

/* A few dozen steps must lower the loss: the whole step (augment, forward, loss, backward, Adam) works. */
static void
test_learns (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_batch = 64;
  cfg.data_bits = 0;
  ClTrainer *t = train_test_new (&cfg);
  float losses[60];
  run_steps (t, 60, losses);
  double first = 0, last = 0;
  for (int i = 0; i < 10; i++)
    {
      first += losses[i] / 10;
      last += losses[50 + i] / 10;
    }
  g_test_message ("mean loss steps 1-10: %.4f, steps 51-60: %.4f", first, last);
  g_assert_cmpfloat (last, <, first - 0.3);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  g_assert_cmpfloat (s->rows[59].contrastive_acc, >, s->rows[0].contrastive_acc);
  for (int i = 0; i < s->n_rows; i++)
    g_assert_cmpfloat (fabsf (s->rows[i].alignment + s->rows[i].distribution - s->rows[i].loss), <,
                       1e-4f * (1 + fabsf (s->rows[i].loss)));
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

static void
test_live_controls (void)
{
  ClConfig cfg;
  small_config (&cfg);
  ClTrainer *t = train_test_new (&cfg);
  float losses[3];
  run_steps (t, 3, losses);
  GError *error = NULL;
  g_assert_true (cl_trainer_set (t, "loss.temperature", "0.5", &error));
  g_assert_no_error (error);
  g_assert_true (cl_trainer_set (t, "aug.jitter", "0.9", &error));
  run_steps (t, 1, losses);
  cl_trainer_publish (t);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  g_assert_cmpint (s->n_rows, ==, 4);
  g_assert_cmpfloat (s->rows[s->n_rows - 1].temperature, ==, 0.5f);
  g_assert_cmpint (s->n_events, ==, 2);
  gboolean saw_t = FALSE, saw_j = FALSE;
  for (int i = 0; i < s->n_events; i++)
    {
      g_assert_cmpint (s->events[i].step, ==, 4);
      if (strcmp (s->events[i].key, "loss.temperature") == 0)
        {
          saw_t = TRUE;
          g_assert_cmpstr (s->events[i].old_value, ==, "0.1");
          g_assert_cmpstr (s->events[i].new_value, ==, "0.5");
        }
      saw_j |= strcmp (s->events[i].key, "aug.jitter") == 0;
    }
  g_assert_true (saw_t && saw_j);
  g_assert_nonnull (strstr (s->config_ini, "temperature=0.5"));
  cl_snapshot_unref (s);

  /* Restart keys are refused during a run; bad values are refused with the key named. */
  g_assert_false (cl_trainer_set (t, "model.head_layers", "3", &error));
  g_assert_error (error, CL_TRAINER_ERROR, CL_TRAINER_ERROR_NEEDS_RESTART);
  g_clear_error (&error);
  g_assert_true (cl_trainer_set (t, "model.head_layers", "2", &error)); /* unchanged: fine */
  g_assert_false (cl_trainer_set (t, "loss.temperature", "-1", &error));
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE);
  g_clear_error (&error);
  g_assert_false (cl_trainer_set (t, "no.such", "1", &error));
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_UNKNOWN_KEY);
  g_clear_error (&error);
  cl_trainer_free (t);
}

static gboolean
wait_for (ClTrainer *t, gint64 step, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    {
      ClSnapshot *s = cl_trainer_get_snapshot (t);
      gboolean ok = s->step >= step;
      cl_snapshot_unref (s);
      if (ok)
        return TRUE;
      g_usleep (2000);
    }
  return FALSE;
}

/* cl_trainer_is_probing is TRUE while the trainer thread runs its probes between steps (seen from
 * another thread, as the window sees it), and FALSE once the run is over. */
static void
test_is_probing (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_steps = 20;
  cfg.train_batch = 16;
  cfg.probe_every = 5;
  ClTrainer *t = train_test_new (&cfg);
  g_assert_false (cl_trainer_is_probing (t));
  cl_trainer_start (t, FALSE);
  int seen = 0, polls = 0;
  gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  for (;;)
    {
      ClSnapshot *s = cl_trainer_get_snapshot (t);
      gboolean finished = s->finished;
      cl_snapshot_unref (s);
      if (finished || g_get_monotonic_time () > end)
        break;
      seen += cl_trainer_is_probing (t);
      polls++;
      g_usleep (200);
    }
  cl_trainer_wait (t);
  g_test_message ("probing in %d of %d polls", seen, polls);
  g_assert_cmpint (seen, >, 0);
  g_assert_cmpint (seen, <, polls); /* and training in between */
  g_assert_false (cl_trainer_is_probing (t));
  cl_trainer_free (t);
}

/* The thread bridge: snapshots are immutable, pause stops the steps, changes arrive, the run ends. */
static void
test_thread (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_steps = 40;
  ClTrainer *t = train_test_new (&cfg);
  cl_trainer_start (t, FALSE);
  g_assert_true (wait_for (t, 5, 60));
  ClSnapshot *early = cl_trainer_get_snapshot (t);
  int early_rows = early->n_rows;
  ClMetricRow first = early->rows[0];

  cl_trainer_set_paused (t, TRUE);
  g_usleep (300000);
  ClSnapshot *p1 = cl_trainer_get_snapshot (t);
  g_usleep (300000);
  ClSnapshot *p2 = cl_trainer_get_snapshot (t);
  g_assert_cmpint (p2->step, <=, p1->step + 1); /* at most the step in flight finishes */
  g_assert_true (cl_trainer_get_paused (t));
  g_assert_true (cl_trainer_set (t, "loss.temperature", "0.2", NULL));
  cl_trainer_set_paused (t, FALSE);
  cl_trainer_wait (t);

  ClSnapshot *done = cl_trainer_get_snapshot (t);
  g_assert_true (done->finished);
  g_assert_null (done->error);
  g_assert_cmpint (done->step, ==, 40);
  g_assert_cmpint (done->n_rows, ==, 40);
  g_assert_cmpint (done->n_events, ==, 1);
  g_assert_cmpint (done->events[0].step, >, p2->step);
  g_assert_cmpfloat (done->rows[39].temperature, ==, 0.2f);
  /* An old snapshot still shows what it showed. */
  g_assert_cmpint (early->n_rows, ==, early_rows);
  g_assert_true (memcmp (&early->rows[0], &first, sizeof first) == 0);
  for (int i = 1; i < done->n_rows; i++)
    g_assert_cmpint (done->rows[i].step, ==, done->rows[i - 1].step + 1);
  cl_snapshot_unref (early);
  cl_snapshot_unref (p1);
  cl_snapshot_unref (p2);
  cl_snapshot_unref (done);
  cl_trainer_free (t);
}

/* Stopping a running trainer (as reset and quit do) returns promptly and frees everything. */
static void
test_stop_while_running (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_steps = 100000;
  ClTrainer *t = train_test_new (&cfg);
  cl_trainer_start (t, FALSE);
  g_assert_true (wait_for (t, 2, 60));
  gint64 t0 = g_get_monotonic_time ();
  cl_trainer_free (t);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 5 * G_USEC_PER_SEC);

  /* Started paused, freed without ever running. */
  ClTrainer *p = train_test_new (&cfg);
  cl_trainer_start (p, TRUE);
  cl_trainer_free (p);
}

/* The collision meter agrees with the birthday bound 1 - (1 - 2^-n)^(B-1); probes cover each bit. */
static void
test_bits_probes_and_collisions (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_batch = 128;
  cfg.data_bits = 8;
  cfg.probe_every = 5;
  ClTrainer *t = train_test_new (&cfg);
  float losses[10];
  run_steps (t, 10, losses);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  double mean = 0;
  for (int i = 0; i < s->n_rows; i++)
    mean += s->rows[i].code_collision / s->n_rows;
  double expected = 1 - pow (1 - 1.0 / 256, 127);
  g_test_message ("collision fraction %.3f, birthday bound %.3f", mean, expected);
  g_assert_cmpfloat (fabs (mean - expected), <, 0.08);

  /* Probes at steps 0, 5, 10; each has class, bits and bit0..bit7, with chance levels. */
  int at_zero = 0, bit_rows = 0;
  for (int i = 0; i < s->n_probes; i++)
    {
      const ClProbeRow *p = &s->probes[i];
      at_zero += p->step == 0;
      bit_rows += g_str_has_prefix (p->target, "bit") && strcmp (p->target, "bits") != 0;
      g_assert_cmpfloat (p->accuracy, >=, 0);
      g_assert_cmpfloat (p->accuracy, <=, 1);
      if (strcmp (p->target, "class") == 0)
        g_assert_cmpfloat (fabs (p->chance - 0.1), <, 0.02);
      else
        g_assert_cmpfloat (fabs (p->chance - 0.5), <, 0.05);
    }
  g_assert_cmpint (at_zero, ==, 10);
  g_assert_cmpint (s->n_probes, ==, 30);
  g_assert_cmpint (bit_rows, ==, 24);
  /* Constant planes carry the bits straight into the representation: even untrained, each bit is linearly readable. */
  for (int i = 0; i < s->n_probes; i++)
    if (s->probes[i].step == 0 && strcmp (s->probes[i].target, "bits") == 0)
      g_assert_cmpfloat (s->probes[i].accuracy, >, 0.75);
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

/* probe.images sets the size of both probe splits: with 300 held-out images every accuracy is a
 * count out of 300, and the probe still reads the class well above chance (the untrained encoder
 * gets about 0.7 with 5000). The default is 5000 per split. */
static void
test_probe_images (void)
{
  ClConfig cfg;
  small_config (&cfg);
  g_assert_cmpint (cfg.probe_images, ==, 5000);
  cfg.data_bits = 0;
  cfg.probe_images = 300;
  ClTrainer *t = train_test_new (&cfg);
  float losses[1];
  run_steps (t, 1, losses);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  g_assert_cmpint (s->n_probes, >=, 1);
  for (int i = 0; i < s->n_probes; i++)
    {
      const double correct = s->probes[i].accuracy * 300.0;
      g_test_message ("%s at step %d: %.4f (%.2f of 300)", s->probes[i].target, (int) s->probes[i].step,
                      s->probes[i].accuracy, correct);
      g_assert_cmpfloat (fabs (correct - round (correct)), <, 1e-3);
      if (strcmp (s->probes[i].target, "class") == 0)
        g_assert_cmpfloat (s->probes[i].accuracy, >, 0.4);
    }
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

/* lambda = 0 leaves alignment alone: nothing keeps images apart and z collapses, which the
 * collapse indicator shows; the automatic lambda keeps z spread. */
static double
final_z_std (const char *lambda, int steps)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_batch = 64;
  cfg.data_bits = 0;
  cfg.loss_kind = 1; /* decoupled */
  cfg.probe_every = 0;
  g_assert_true (cl_config_set (&cfg, "loss.lambda", lambda, NULL));
  ClTrainer *t = train_test_new (&cfg);
  float *losses = g_new (float, steps);
  run_steps (t, steps, losses);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  double z = 0;
  for (int i = steps - 10; i < steps; i++)
    z += s->rows[i].z_std / 10;
  g_test_message ("lambda %s: z_std first %.4f, last %.4f (uniform: %.4f)", lambda, s->rows[0].z_std, z, 1 / sqrt (64));
  cl_snapshot_unref (s);
  cl_trainer_free (t);
  g_free (losses);
  return z;
}

static void
test_alignment_only_collapses (void)
{
  double collapsed = final_z_std ("0", 150);
  double spread = final_z_std ("-1", 150);
  g_assert_cmpfloat (collapsed, <, 0.4 / sqrt (64));
  g_assert_cmpfloat (spread, >, 0.8 / sqrt (64));
}

/* data.bits changes live with randbits (conv1 is built for every plane; only active ones are
 * computed); other kinds, built for the bits they started with, ask for a restart. */
static void
test_live_bits (void)
{
  ClConfig cfg;
  small_config (&cfg);
  cfg.data_bits = 0;
  cfg.probe_every = 4;
  ClTrainer *t = train_test_new (&cfg);
  float losses[4];
  run_steps (t, 2, losses);
  GError *error = NULL;
  g_assert_true (cl_trainer_set (t, "data.bits", "8", &error));
  g_assert_no_error (error);
  run_steps (t, 2, losses);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  g_assert_cmpint (s->n_events, ==, 1);
  g_assert_cmpstr (s->events[0].key, ==, "data.bits");
  g_assert_cmpint (s->events[0].step, ==, 3);
  g_assert_true (isnan (s->rows[1].code_collision));
  g_assert_true (s->rows[2].code_collision >= 0 && s->rows[2].code_collision <= 1);
  /* The probe at step 4 reads the 8 bits: their mean probe is far above chance. */
  gboolean saw_bits = FALSE;
  for (int i = 0; i < s->n_probes; i++)
    if (s->probes[i].step == 4 && strcmp (s->probes[i].target, "bits") == 0)
      {
        saw_bits = TRUE;
        g_assert_cmpfloat (s->probes[i].accuracy, >, 0.75);
      }
  g_assert_true (saw_bits);
  cl_snapshot_unref (s);
  g_assert_true (cl_trainer_set (t, "data.bits", "24", &error));
  g_assert_false (cl_trainer_set (t, "data.bits", "25", &error));
  g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE);
  g_clear_error (&error);
  cl_trainer_free (t);

  small_config (&cfg);
  cfg.data_kind = 1; /* overlay */
  cfg.data_bits = 2;
  t = train_test_new (&cfg);
  g_assert_true (cl_trainer_set (t, "data.bits", "1", &error));
  g_assert_false (cl_trainer_set (t, "data.bits", "3", &error));
  g_assert_error (error, CL_TRAINER_ERROR, CL_TRAINER_ERROR_NEEDS_RESTART);
  g_assert_nonnull (strstr (error->message, "data.bits"));
  g_clear_error (&error);
  cl_trainer_free (t);
}

static void
test_missing_data (void)
{
  ClConfig cfg;
  small_config (&cfg);
  g_strlcpy (cfg.data_path, "/nonexistent/folder", sizeof cfg.data_path);
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  g_assert_null (t);
  g_assert_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "/nonexistent/folder"));
  g_clear_error (&error);
}

#ifdef __linux__
/* The nice value of one thread of this process (field 19 of /proc/self/task/TID/stat), or
 * G_MININT when it cannot be read; the thread's name (comm) goes to name. */
static int
thread_nice (const char *tid, char *name, size_t name_size)
{
  char *path = g_strdup_printf ("/proc/self/task/%s/stat", tid), *text = NULL;
  int nice = G_MININT;
  if (g_file_get_contents (path, &text, NULL, NULL))
    {
      const char *open = strchr (text, '('), *close = strrchr (text, ')');
      if (open && close && close > open)
        {
          g_strlcpy (name, open + 1, MIN (name_size, (size_t) (close - open)));
          /* After ") ": field 3 (state) ... field 19 (nice) is the 17th token. */
          char **tok = g_strsplit (close + 2, " ", 0);
          if (g_strv_length (tok) > 16)
            nice = atoi (tok[16]);
          g_strfreev (tok);
        }
    }
  g_free (text);
  g_free (path);
  return nice;
}

/* The window lowers the priority of the training threads (cl_layers_set_compute_nice): the
 * trainer thread and the threads it starts run at that niceness, the calling thread keeps its own.
 * Runs last: the niceness of a thread cannot be lowered again without privileges. Per-thread
 * niceness exists on Linux only (elsewhere the call does nothing), so the test exists there only. */
static void
test_compute_nice (void)
{
  char name[64] = "";
  char *self_tid = g_strdup_printf ("%ld", (long) syscall (SYS_gettid));
  const int before = thread_nice (self_tid, name, sizeof name);
  g_assert_cmpint (before, !=, G_MININT);
  cl_layers_set_compute_nice (before + 3);
  ClConfig cfg;
  small_config (&cfg);
  cfg.train_steps = 30;
  ClTrainer *t = train_test_new (&cfg);
  cl_trainer_start (t, FALSE);
  g_assert_true (wait_for (t, 5, 60)); /* the helper that prepares batches has started too */
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  g_assert_nonnull (dir);
  int trainer_seen = 0, lowered = 0;
  const char *tid;
  while ((tid = g_dir_read_name (dir)))
    {
      const int nice = thread_nice (tid, name, sizeof name);
      g_test_message ("thread %s '%s': nice %d", tid, name, nice);
      if (strcmp (name, "cl-trainer") == 0)
        {
          trainer_seen++;
          g_assert_cmpint (nice, ==, before + 3);
        }
      lowered += nice == before + 3;
    }
  g_dir_close (dir);
  cl_trainer_wait (t);
  cl_trainer_free (t);
  /* The batch-preparation helper, started by the trainer thread, inherits its name. */
  g_assert_cmpint (trainer_seen, >=, 1);
  g_assert_cmpint (lowered, >=, 2); /* the trainer and its helper at least (team workers started
                                     * by an earlier test keep the niceness they started with) */
  g_assert_cmpint (thread_nice (self_tid, name, sizeof name), ==, before);
  cl_layers_set_compute_nice (0);
  g_free (self_tid);
}
#endif

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer/determinism", test_determinism);
  g_test_add_func ("/trainer/is-probing", test_is_probing);
  g_test_add_func ("/trainer/prefetch-same-numbers", test_prefetch_same_numbers);
  g_test_add_func ("/trainer/threads-same-numbers", test_threads_same_numbers);
  g_test_add_func ("/trainer/learns", test_learns);
  g_test_add_func ("/trainer/live-controls", test_live_controls);
  g_test_add_func ("/trainer/thread", test_thread);
  g_test_add_func ("/trainer/stop-while-running", test_stop_while_running);
  g_test_add_func ("/trainer/bits-probes-and-collisions", test_bits_probes_and_collisions);
  g_test_add_func ("/trainer/alignment-only-collapses", test_alignment_only_collapses);
  g_test_add_func ("/trainer/live-bits", test_live_bits);
  g_test_add_func ("/trainer/missing-data", test_missing_data);
  g_test_add_func ("/trainer/probe-images", test_probe_images);
#ifdef __linux__
  g_test_add_func ("/trainer/compute-nice", test_compute_nice);
#endif
  return g_test_run ();
}
