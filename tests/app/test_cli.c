/* The command-line contract, run against the real binary: outputs, formats, exit codes. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/data/cl_data.h"
#include "engine/store/cl_runs.h"
#include "engine/sweep/cl_sweep.h"

#include "engine/base/cl_params.h"
#include "ui/cl_png.h"

#include "tests/app/cli_test_util.h"

static void
test_version_and_lists (void)
{
  g_autofree char *out = NULL;
  g_assert_cmpint (run (&out, NULL, "--version", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "ContrastLab "));
  g_autofree char *params = NULL;
  g_assert_cmpint (run (&params, NULL, "--list-params", NULL), ==, 0);
  int n;
  const ClParam *table = cl_params (&n);
  for (int i = 0; i < n; i++)
    g_assert_nonnull (strstr (params, table[i].key));
  g_autofree char *presets = NULL;
  g_assert_cmpint (run (&presets, NULL, "--list-presets", NULL), ==, 0);
  g_assert_nonnull (strstr (presets, "default"));
}

/* Runs `contrastlab --version --verbose` with extra environment variables (NAME=VALUE, NULL-ended);
 * returns stdout. */
static char *
version_verbose_with_env (const char *first, ...)
{
  char **envp = g_get_environ ();
  va_list ap;
  va_start (ap, first);
  for (const char *kv = first; kv; kv = va_arg (ap, const char *))
    {
      g_auto (GStrv) parts = g_strsplit (kv, "=", 2);
      envp = g_environ_setenv (envp, parts[0], parts[1], TRUE);
    }
  va_end (ap);
  const char *argv[] = { bin (), "--version", "--verbose", NULL };
  char *out = NULL;
  int status = 0;
  GError *error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_strfreev (envp);
  return out;
}

/* OpenBLAS's core: when OpenBLAS (pretends to have) detected Prescott on a CPU with AVX2 or AVX-512
 * and nobody set OPENBLAS_CORETYPE, the program re-executes itself with the right core and says so;
 * a coretype the machine set is never changed (this test does not change it either). */
static void
test_blas_core (void)
{
  g_autofree char *plain = version_verbose_with_env (NULL);
  g_assert_nonnull (strstr (plain, "still on OpenBLAS"));
  const char *machine = g_getenv ("OPENBLAS_CORETYPE");
  g_autofree char *pretend = version_verbose_with_env ("CONTRASTLAB_BLAS_PRETEND_DETECTED=Prescott", NULL);
  if (machine)
    {
      /* The machine chose: kept, whatever OpenBLAS would detect. */
      g_autofree char *kept = g_strdup_printf ("OPENBLAS_CORETYPE=%s, set by the environment: kept", machine);
      g_assert_nonnull (strstr (plain, kept));
      g_assert_nonnull (strstr (pretend, kept));
      return;
    }
  g_assert_null (strstr (plain, "set by the environment"));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  const gboolean avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  const gboolean avx512 = avx2 && __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
                          __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq");
#else
  const gboolean avx2 = FALSE, avx512 = FALSE;
#endif
  if (avx2)
    {
      g_autofree char *want = g_strdup_printf ("core %s (chosen by ContrastLab from the CPU's features: OpenBLAS "
                                               "detected Prescott; self-test passed)",
                                               avx512 ? "SkylakeX" : "Haswell");
      if (!strstr (pretend, want))
        g_error ("expected '%s' in:\n%s", want, pretend);
    }
  else /* Nothing better to choose on a CPU without AVX2: kept. */
    g_assert_nonnull (strstr (pretend, "(as OpenBLAS detected it)"));
  /* A user's own choice wins over everything, also over the pretended detection. */
  g_autofree char *user =
      version_verbose_with_env ("CONTRASTLAB_BLAS_PRETEND_DETECTED=Prescott", "OPENBLAS_CORETYPE=Haswell", NULL);
  g_assert_nonnull (strstr (user, "core Haswell (OPENBLAS_CORETYPE=Haswell, set by the environment: kept)"));
}

/* More cluster canvases than the step's input buffer holds (2 x batch): clamped, not a crash. */
static void
test_cluster_images_above_batch (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out_dir = g_build_filename (dir, "run", NULL);
  g_autofree char *err = NULL;
  int code = run (NULL, &err, "--headless", "--set", "data.kind=multi-objects", "--set", "train.batch=4", "--set",
                  "probe.cluster_images=64", "--steps", "1", "--out", out_dir, NULL);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (code, ==, 0);
  g_assert_null (strstr (err, "CRITICAL"));
  g_autofree char *csv_path = g_build_filename (out_dir, "clusters.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "step,layer,k,object_iou,instance_ari\n0,pixels,2,"));
}

static void
test_headless_run (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out_dir = g_build_filename (dir, "run", NULL);
  g_autofree char *err = NULL;
  int code = run (NULL, &err, "--headless", "--set", "train.batch=32", "--set", "loss.temperature=0.2", "--steps", "6",
                  "--out", out_dir, NULL);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (code, ==, 0);

  g_autofree char *csv_path = g_build_filename (out_dir, "metrics.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "step,seconds,loss,alignment,distribution,contrastive_acc"));
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpint (count_lines (csv), ==, 7);
  for (int i = 1; i <= 6; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_strv_length (f), >=, 6);
      g_assert_cmpint (g_ascii_strtoll (f[0], NULL, 10), ==, i);
      for (int k = 1; f[k]; k++)
        {
          char *end = NULL;
          double v = g_ascii_strtod (f[k], &end);
          g_assert_true (end && *end == '\0');
          g_assert_true (v == v);
        }
      double loss = g_ascii_strtod (f[2], NULL), al = g_ascii_strtod (f[3], NULL), di = g_ascii_strtod (f[4], NULL);
      g_assert_cmpfloat (fabs (al + di - loss), <, 1e-4 * (1 + fabs (loss)));
    }

  /* clusters.csv: 4 layers x 3 ks per probe (probes at steps 0 and 6), IoU in [0, 1], ARI <= 1. */
  g_autofree char *clusters_path = g_build_filename (out_dir, "clusters.csv", NULL);
  g_autofree char *clusters = NULL;
  g_assert_true (g_file_get_contents (clusters_path, &clusters, NULL, NULL));
  g_assert_true (g_str_has_prefix (clusters, "step,layer,k,object_iou,instance_ari\n"));
  g_assert_cmpint (count_lines (clusters), ==, 1 + 2 * 12);
  g_auto (GStrv) crow = g_strsplit (clusters, "\n", -1);
  for (int i = 1; i <= 24; i++)
    {
      g_auto (GStrv) f = g_strsplit (crow[i], ",", -1);
      g_assert_cmpint (g_strv_length (f), ==, 5);
      g_assert_true (strcmp (f[1], "pixels") == 0 || g_str_has_prefix (f[1], "conv"));
      if (*f[3])
        {
          double iou = g_ascii_strtod (f[3], NULL);
          g_assert_cmpfloat (iou, >=, 0);
          g_assert_cmpfloat (iou, <=, 1);
        }
      if (*f[4])
        g_assert_cmpfloat (g_ascii_strtod (f[4], NULL), <=, 1);
    }
  g_autofree char *clusters_png = g_build_filename (out_dir, "figures", "clusters.png", NULL);
  g_assert_true (g_file_test (clusters_png, G_FILE_TEST_IS_REGULAR));

  /* run.ini is a complete configuration that loads back. */
  g_autofree char *ini_path = g_build_filename (out_dir, "run.ini", NULL);
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  g_assert_true (cl_config_load_file (&cfg, ini_path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.train_batch, ==, 32);
  g_assert_cmpint (cfg.train_steps, ==, 6);
  g_assert_cmpfloat (cfg.loss_temperature, ==, 0.2);

  /* The figure carries its metadata. */
  g_autofree char *png = g_build_filename (out_dir, "figures", "loss.png", NULL);
  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (png, &texts, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (texts, "Software"), "ContrastLab "));
  g_assert_nonnull (g_hash_table_lookup (texts, "Title"));
  g_assert_cmpstr (g_hash_table_lookup (texts, "contrastlab:step"), ==, "6");
  const char *config = g_hash_table_lookup (texts, "contrastlab:config");
  g_assert_nonnull (config);
  g_assert_nonnull (strstr (config, "batch=32"));
  g_hash_table_unref (texts);

  /* --preset FILE.png restores the configuration of an exported figure. */
  g_autofree char *out2 = g_build_filename (dir, "again", NULL);
  g_assert_cmpint (run (NULL, NULL, "--headless", "--preset", png, "--steps", "2", "--out", out2, NULL), ==, 0);
  g_autofree char *ini2 = g_build_filename (out2, "run.ini", NULL);
  ClConfig cfg2;
  cl_config_init (&cfg2);
  g_assert_true (cl_config_load_file (&cfg2, ini2, &error));
  g_assert_cmpint (cfg2.train_batch, ==, 32);
  g_assert_cmpfloat (cfg2.loss_temperature, ==, 0.2);
  g_assert_cmpint (cfg2.train_steps, ==, 2);
}

static void
test_bad_input (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  expect_bad_input ("loss.temprature", out, "--set", "loss.temprature=0.1", NULL);
  expect_bad_input ("[0.01, 10]", out, "--set", "loss.temperature=0", NULL);
  expect_bad_input ("data.bits", out, "--set", "data.bits=many", NULL);
  expect_bad_input ("KEY=VALUE", out, "--set", "loss.temperature", NULL);
  expect_bad_input ("no-such-preset", out, "--preset", "no-such-preset", NULL);
  expect_bad_input ("data.path=/nonexistent/mnist", out, "--set", "data.path=/nonexistent/mnist", NULL);
  /* The default dataset missing: the message says how to install it. */
  g_setenv ("CONTRASTLAB_FASHION_MNIST_DIR", "/nonexistent/fashion", TRUE);
  expect_bad_input ("apt-get install dataset-fashion-mnist", out, NULL);
  g_unsetenv ("CONTRASTLAB_FASHION_MNIST_DIR");

  /* A corrupt IDX file: right magic, truncated payload. */
  g_autofree char *bad = g_build_filename (dir, "bad-idx", NULL);
  g_mkdir (bad, 0755);
  const unsigned char images[] = { 0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3 };
  const unsigned char labels[] = { 0, 0, 8, 1, 0, 0, 0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  write_file (bad, "train-images-idx3-ubyte", images, sizeof images);
  write_file (bad, "train-labels-idx1-ubyte", labels, sizeof labels);
  write_file (bad, "t10k-images-idx3-ubyte", images, sizeof images);
  write_file (bad, "t10k-labels-idx1-ubyte", labels, sizeof labels);
  g_autofree char *set_path = g_strdup_printf ("data.path=%s", bad);
  expect_bad_input ("train-images-idx3-ubyte", out, "--set", set_path, NULL);

  /* An output folder that cannot be made (a regular file stands in the way; root ignores modes). */
  g_autofree char *file = g_build_filename (dir, "a-file", NULL);
  write_file (dir, "a-file", "x", 1);
  g_autofree char *under_file = g_build_filename (file, "out", NULL);
  expect_bad_input ("--out", under_file, NULL);

  /* Bad sweeps name the key or value, and nothing runs. */
  expect_bad_input ("data.bitz", out, "--sweep", "data.bitz=0,1", NULL);
  expect_bad_input ("'99'", out, "--sweep", "data.bits=0,99", NULL);
  expect_bad_input ("twice", out, "--sweep", "data.bits=0,1", "--sweep", "data.bits=2", NULL);
  expect_bad_input ("KEY=V1,V2", out, "--sweep", "data.bits", NULL);

  /* Usage errors. */
  g_autofree char *err = NULL;
  g_assert_cmpint (run (NULL, &err, "--no-such-option", NULL), ==, 2);
  g_assert_cmpint (count_lines (err), ==, 1);
}

/* A run that diverges exits 3 with its files written up to that step; in a sweep the cell is
 * recorded (no accuracy) and the sweep goes on. */
static void
test_diverged (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *single = g_build_filename (dir, "single", NULL);
  g_autofree char *err = NULL;
#define DIVERGE                                                                                                        \
  "--set", "loss.kind=swd-normal", "--set", "loss.lambda=100", "--set", "train.optimizer=sgd", "--set",                \
      "train.batch=16", "--set", "probe.every=0", "--set", "probe.images=100", "--steps", "20"
  int code = run (NULL, &err, "--headless", DIVERGE, "--set", "train.lr=10", "--out", single, NULL);
  g_test_message ("%s", err);
  g_assert_cmpint (code, ==, 3);
  g_assert_nonnull (strstr (err, "the run diverged"));
  g_autofree char *ini = read_text (single, "run.ini");
  g_assert_nonnull (strstr (ini, "(diverged)"));
  assert_whole_rows (single, "metrics.csv");

  g_autofree char *sweep = g_build_filename (dir, "sweep", NULL);
  g_clear_pointer (&err, g_free);
  code = run (NULL, &err, "--headless", DIVERGE, "--sweep", "train.lr=10,0.001", "--out", sweep, NULL);
  g_test_message ("%s", err);
  g_assert_cmpint (code, ==, 3);
  g_autofree char *csv = read_text (sweep, "sweep.csv");
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "train.lr,class");
  g_assert_cmpstr (lines[1], ==, "10,");
  g_assert_true (g_str_has_prefix (lines[2], "0.001,0."));
  /* the diverged cell is finished: collect says so, and --cell leaves it alone */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (sweep, &err, "--collect", NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (sweep, &err, "--cell", "0", NULL), ==, 0);
  g_assert_nonnull (strstr (err, "finished already"));
#undef DIVERGE
}

/* Two runs into one folder: the second is refused with exit 2 and one line, and the first's
 * files are its own. The same for two jobs of one cell. */
static void
test_folder_lock (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "run", NULL);
  const char *first[] = {
    "--headless", "--set",         "train.batch=16", "--set", "probe.every=0", "--set", "probe.images=100",
    "--set",      "train.seed=11", "--steps",        "5000",  "--out",         out,     NULL
  };
  GPid pid = spawn_async (first);
  g_assert_true (wait_rows (pid, out, 1));
  expect_exit2 ("another run is being written into this folder (process ",
                (const char *[]){ "--headless", "--set", "train.seed=22", "--steps", "2", "--out", out, NULL });
  g_autofree char *ini = read_text (out, "run.ini");
  g_assert_nonnull (strstr (ini, "seed=11"));
  kill_and_reap (pid);

  g_autofree char *sweep = make_plan (dir, "cells");
  g_autofree char *cell = g_build_filename (sweep, "runs", "data.bits=3,train.seed=1", NULL);
  const char *job[] = { "--headless", "--out", sweep, "--cell", "2", NULL };
  pid = spawn_async (job);
  g_assert_true (wait_rows (pid, cell, 1));
  expect_exit2 ("another run is being written into this folder (process ", job);
  kill_and_reap (pid);
}

/* kill -9 a headless run at several moments: the folder keeps run.ini and whole rows, the run
 * reader loads it, and a new run into it replaces it completely. */
static void
test_killed_run (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "run", NULL);
  GRand *rand = g_rand_new_with_seed (7);
  for (int trial = 0; trial < 4; trial++)
    {
      const char *args[] = { "--headless",
                             "--set",
                             "train.batch=16",
                             "--set",
                             "probe.every=0",
                             "--set",
                             "probe.images=100",
                             "--steps",
                             "5000",
                             "--out",
                             out,
                             NULL };
      GPid pid = spawn_async (args);
      g_assert_true (wait_rows (pid, out, 1 + g_rand_int_range (rand, 0, 20)));
      g_usleep ((gulong) g_rand_int_range (rand, 0, 300000));
      kill_and_reap (pid);
      ClConfig cfg;
      cl_config_init (&cfg);
      GError *error = NULL;
      g_autofree char *ini = g_build_filename (out, "run.ini", NULL);
      g_assert_true (cl_config_load_file (&cfg, ini, &error));
      g_assert_no_error (error);
      g_assert_cmpint (cfg.train_steps, ==, 5000);
      assert_whole_rows (out, "metrics.csv");
      ClSnapshot *snap = cl_run_load (out, &error);
      g_assert_no_error (error);
      g_assert_cmpint (snap->n_rows, >=, 1);
      g_assert_cmpint (snap->rows[snap->n_rows - 1].step, ==, snap->n_rows);
      cl_snapshot_unref (snap);
    }
  g_rand_free (rand);
  g_autofree char *err = NULL;
  g_assert_cmpint (run (NULL, &err, "--headless", "--set", "train.batch=16", "--set", "probe.every=0", "--set",
                        "probe.images=100", "--steps", "3", "--out", out, NULL),
                   ==, 0);
  g_assert_cmpint (file_lines (out, "metrics.csv"), ==, 4);
  ClConfig cfg;
  cl_config_init (&cfg);
  g_autofree char *ini = g_build_filename (out, "run.ini", NULL);
  g_assert_true (cl_config_load_file (&cfg, ini, NULL));
  g_assert_cmpint (cfg.train_steps, ==, 3);
}

/* Issue 16 #6: every bad input exits 2 with one line. */
static void
test_exit_codes (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  /* presets that are not PNGs: text, empty, a real PNG cut short */
  write_file (dir, "text.png", "not a png", 9);
  write_file (dir, "empty.png", "", 0);
  g_autofree char *text_png = g_build_filename (dir, "text.png", NULL);
  g_autofree char *empty_png = g_build_filename (dir, "empty.png", NULL);
  expect_bad_input ("text.png", out, "--preset", text_png, NULL);
  expect_bad_input ("empty.png", out, "--preset", empty_png, NULL);
  g_autofree char *good = g_build_filename (dir, "good", NULL);
  g_assert_cmpint (run (NULL, NULL, "--headless", "--set", "train.batch=16", "--set", "probe.images=100", "--steps",
                        "1", "--out", good, NULL),
                   ==, 0);
  g_autofree char *figures = g_build_filename (good, "figures", NULL);
  g_autofree char *loss_path = g_build_filename (figures, "loss.png", NULL);
  gsize png_len = 0;
  g_autofree char *png_bytes = NULL;
  g_assert_true (g_file_get_contents (loss_path, &png_bytes, &png_len, NULL));
  write_file (dir, "cut.png", png_bytes, 40);
  g_autofree char *cut_png = g_build_filename (dir, "cut.png", NULL);
  expect_bad_input ("cut.png", out, "--preset", cut_png, NULL);

  /* images too small for the model */
  g_autofree char *small = g_build_filename (dir, "small", NULL);
  g_mkdir (small, 0755);
  const char *split[] = { "train", "t10k" };
  for (int s = 0; s < 2; s++)
    {
      enum
      {
        N = 64,
        SIDE = 6
      };
      guint8 images[16 + N * SIDE * SIDE], labels[8 + N];
      const guint8 ih[16] = { 0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, SIDE, 0, 0, 0, SIDE };
      const guint8 lh[8] = { 0, 0, 8, 1, 0, 0, 0, N };
      memcpy (images, ih, 16);
      memcpy (labels, lh, 8);
      for (int i = 0; i < N * SIDE * SIDE; i++)
        images[16 + i] = (guint8) (i * 37);
      for (int i = 0; i < N; i++)
        labels[8 + i] = (guint8) (i % 10);
      g_autofree char *in = g_strdup_printf ("%s-images-idx3-ubyte", split[s]);
      g_autofree char *ln = g_strdup_printf ("%s-labels-idx1-ubyte", split[s]);
      write_file (small, in, images, sizeof images);
      write_file (small, ln, labels, sizeof labels);
    }
  g_autofree char *small_set = g_strdup_printf ("data.path=%s", small);
  expect_bad_input ("too small", out, "--set", small_set, NULL);

  /* --steps 0 and --out "" */
  expect_exit2 ("--steps 0: expected a number of steps of at least 1",
                (const char *[]){ "--headless", "--steps", "0", "--out", out, NULL });
  expect_exit2 ("--out: the folder name is empty", (const char *[]){ "--headless", "--out", "", NULL });
  /* one value twice would be one folder for two rows */
  expect_bad_input ("given twice", out, "--sweep", "train.lr=0.1,0.1", NULL);
  expect_bad_input ("same value", out, "--sweep", "train.lr=0.1,0.10", NULL);
  /* control bytes in a value are not echoed raw */
  g_autofree char *esc_err = NULL;
  g_assert_cmpint (run (NULL, &esc_err, "--headless", "--set", "loss.kind=\x1b[2J", "--out", out, NULL), ==, 2);
  g_assert_cmpint (count_lines (esc_err), ==, 1);
  g_assert_nonnull (strstr (esc_err, "[2J"));
  g_assert_null (strchr (esc_err, '\x1b'));
}

/* Disk full while writing a run: exit 2 and none of the run's files left (a small tmpfs;
 * the tests run as root). */
static void
test_disk_full (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *mount_cmd = g_strdup_printf ("mount -t tmpfs -o size=160k tmpfs '%s'", dir);
  int status = 0;
  g_autofree char *merr = NULL;
  g_assert_true (g_spawn_command_line_sync (mount_cmd, NULL, &merr, &status, NULL));
  g_test_message ("mount: %s", merr);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_autofree char *out = g_build_filename (dir, "run", NULL);
  g_autofree char *err = NULL;
  int code = run (NULL, &err, "--headless", "--set", "train.batch=16", "--set", "probe.every=0", "--set",
                  "probe.images=100", "--steps", "2", "--out", out, NULL);
  g_test_message ("stderr: %s", err);
  int run_files = 0;
  const char *names[] = { "run.ini", "metrics.csv", "probes.csv", "clusters.csv" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (out, names[i], NULL);
      run_files += g_file_test (p, G_FILE_TEST_EXISTS);
    }
  g_autofree char *figures = g_build_filename (out, "figures", NULL);
  GDir *d = g_dir_open (figures, 0, NULL);
  int pngs = 0;
  for (const char *name; d && (name = g_dir_read_name (d));)
    pngs += g_str_has_suffix (name, ".png");
  if (d)
    g_dir_close (d);
  g_autofree char *umount_cmd = g_strdup_printf ("umount '%s'", dir);
  g_assert_true (g_spawn_command_line_sync (umount_cmd, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpint (code, ==, 2);
  /* the last line says what failed (progress lines may come before it) */
  g_strchomp (err);
  const char *last = strrchr (err, '\n');
  g_assert_nonnull (strstr (last ? last : err, "No space left on device"));
  g_assert_cmpint (run_files, ==, 0);
  g_assert_cmpint (pngs, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/version-and-lists", test_version_and_lists);
  g_test_add_func ("/cli/blas-core", test_blas_core);
  g_test_add_func ("/cli/headless-run", test_headless_run);
  g_test_add_func ("/cli/bad-input", test_bad_input);
  g_test_add_func ("/cli/cluster-images-above-batch", test_cluster_images_above_batch);
  g_test_add_func ("/cli/exit-codes", test_exit_codes);
  g_test_add_func ("/cli/disk-full", test_disk_full);
  g_test_add_func ("/cli/killed-run", test_killed_run);
  g_test_add_func ("/cli/folder-lock", test_folder_lock);
  g_test_add_func ("/cli/diverged", test_diverged);
  int code = g_test_run ();
  cli_remove_tmp_dirs ();
  return code;
}
