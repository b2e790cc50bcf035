/* The command-line contract, run against the real binary: outputs, formats, exit codes. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "engine/base/cl_params.h"
#include "ui/cl_png.h"

static const char *
bin (void)
{
  const char *b = g_getenv ("CONTRASTLAB_BIN");
  g_assert_nonnull (b);
  return b;
}

/* Runs contrastlab with the given arguments; returns the exit status. */
static int
run (char **out, char **err, const char *first, ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) bin ());
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  GError *error = NULL;
  char *o = NULL, *e = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e, &status, &error));
  g_assert_no_error (error);
  g_ptr_array_free (argv, TRUE);
  if (out)
    *out = o;
  else
    g_free (o);
  if (err)
    *err = e;
  else
    g_free (e);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return -1;
}

static int
count_lines (const char *s)
{
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

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

static char *
tmp_dir (void)
{
  GError *error = NULL;
  char *d = g_dir_make_tmp ("contrastlab-cli-XXXXXX", &error);
  g_assert_no_error (error);
  return d;
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

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  GError *error = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

/* --sweep: every combination in grid order (last key fastest), one run folder each, sweep.csv
 * with the swept keys then each probe target's final accuracy, and the figure with metadata. */
static void
test_sweep (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "sweep", NULL);
  g_autofree char *err = NULL;
  int code = run (NULL, &err, "--headless", "--set", "train.batch=16", "--set", "probe.every=0", "--steps", "2",
                  "--sweep", "data.bits=0,3", "--sweep", "loss.temperature=0.1,0.2", "--out", out, NULL);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (code, ==, 0);
  g_assert_nonnull (strstr (err, "sweep run 4/4 (data.bits=3,loss.temperature=0.2)"));

  g_autofree char *csv = read_text (out, "sweep.csv");
  g_assert_cmpint (count_lines (csv), ==, 5);
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  g_assert_cmpstr (header[0], ==, "data.bits");
  g_assert_cmpstr (header[1], ==, "loss.temperature");
  g_assert_cmpstr (header[2], ==, "class");
  int bits_col = -1;
  for (int k = 3; header[k]; k++)
    if (strcmp (header[k], "bits") == 0)
      bits_col = k;
  g_assert_cmpint (bits_col, >, 2);
  g_assert_nonnull (strstr (lines[0], ",bit2"));
  g_assert_null (strstr (lines[0], ",bit3"));
  const char *expect[] = { "0,0.1,", "0,0.2,", "3,0.1,", "3,0.2," };
  for (int i = 1; i <= 4; i++)
    {
      g_assert_true (g_str_has_prefix (lines[i], expect[i - 1]));
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_strv_length (f), ==, g_strv_length (header));
      double cls = g_ascii_strtod (f[2], NULL);
      g_assert_cmpfloat (cls, >, 0.1);
      g_assert_cmpfloat (cls, <=, 1.0);
      /* runs without bits have no bit targets */
      g_assert_cmpint (*f[bits_col] != '\0', ==, i >= 3);
    }

  /* Each run is a complete headless run of its combination. */
  g_autofree char *run_dir = g_build_filename (out, "runs", "data.bits=3,loss.temperature=0.2", NULL);
  g_autofree char *metrics = read_text (run_dir, "metrics.csv");
  g_assert_cmpint (count_lines (metrics), ==, 3);
  g_autofree char *probes = read_text (run_dir, "probes.csv");
  g_assert_nonnull (strstr (probes, ",bits,"));
  g_autofree char *views = g_build_filename (run_dir, "figures", "views.png", NULL);
  g_assert_true (g_file_test (views, G_FILE_TEST_IS_REGULAR));
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  g_autofree char *run_ini = g_build_filename (run_dir, "run.ini", NULL);
  g_assert_true (cl_config_load_file (&cfg, run_ini, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.data_bits, ==, 3);
  g_assert_cmpfloat (cfg.loss_temperature, ==, 0.2);
  g_assert_cmpint (cfg.train_batch, ==, 16);

  /* The sweep's run.ini is the base configuration and loads back. */
  g_autofree char *base_ini = g_build_filename (out, "run.ini", NULL);
  cl_config_init (&cfg);
  g_assert_true (cl_config_load_file (&cfg, base_ini, &error));
  g_assert_cmpint (cfg.train_steps, ==, 2);

  g_autofree char *png = g_build_filename (out, "figures", "sweep.png", NULL);
  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (png, &texts, &error));
  g_assert_no_error (error);
  const char *config = g_hash_table_lookup (texts, "contrastlab:config");
  g_assert_nonnull (config);
  g_assert_true (g_str_has_prefix (config, "# sweep: data.bits=0,3 loss.temperature=0.1,0.2\n"));
  g_assert_cmpstr (g_hash_table_lookup (texts, "contrastlab:step"), ==, "2");
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (texts, "Software"), "ContrastLab "));
  g_hash_table_unref (texts);

  /* A preset's [preset] sweep= runs when no --sweep is given. */
  const char *preset = "[preset]\ndescription=test\nminutes=1\nsweep=data.bits=0,2\n"
                       "[train]\nbatch=16\nsteps=2\n[probe]\nevery=0\n";
  g_autofree char *preset_path = g_build_filename (dir, "mini.ini", NULL);
  g_assert_true (g_file_set_contents (preset_path, preset, -1, NULL));
  g_autofree char *out2 = g_build_filename (dir, "preset-sweep", NULL);
  g_autofree char *err2 = NULL;
  g_assert_cmpint (run (NULL, &err2, "--headless", "--preset", preset_path, "--out", out2, NULL), ==, 0);
  g_assert_nonnull (strstr (err2, "the preset's sweep: data.bits=0,2"));
  g_autofree char *csv2 = read_text (out2, "sweep.csv");
  g_assert_true (g_str_has_prefix (csv2, "data.bits,class"));
  g_assert_cmpint (count_lines (csv2), ==, 3);
}

static void
expect_bad_input (const char *must_mention, const char *out_dir, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  g_ptr_array_add (args, (gpointer) bin ());
  g_ptr_array_add (args, "--headless");
  g_ptr_array_add (args, "--steps");
  g_ptr_array_add (args, "2");
  g_ptr_array_add (args, "--set");
  g_ptr_array_add (args, "train.batch=16");
  g_ptr_array_add (args, "--out");
  g_ptr_array_add (args, (gpointer) out_dir);
  va_list ap;
  va_start (ap, out_dir);
  for (const char *a; (a = va_arg (ap, const char *));)
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  int status = 0;
  char *err = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                               &status, NULL));
  g_test_message ("stderr: %s", err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_cmpint (count_lines (err), ==, 1);
  g_assert_nonnull (strstr (err, must_mention));
  /* Nothing half-written is left. */
  g_autofree char *csv = g_build_filename (out_dir, "metrics.csv", NULL);
  g_assert_false (g_file_test (csv, G_FILE_TEST_EXISTS));
  g_free (err);
  g_ptr_array_free (args, TRUE);
}

static void
write_file (const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (p, data, (gssize) len, NULL));
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/version-and-lists", test_version_and_lists);
  g_test_add_func ("/cli/headless-run", test_headless_run);
  g_test_add_func ("/cli/bad-input", test_bad_input);
  g_test_add_func ("/cli/sweep", test_sweep);
  g_test_add_func ("/cli/cluster-images-above-batch", test_cluster_images_above_batch);
  return g_test_run ();
}
