/* The command-line contract of sweeps, run against the real binary: --sweep, --plan / --cell /
 * --collect, parallel and killed cells, bad sweep input, folder names. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/data/cl_data.h"
#include "engine/store/cl_runs.h"
#include "engine/sweep/cl_sweep.h"

#include "engine/base/cl_params.h"
#include "ui/cl_png.h"

#include "tests/app/cli_test_util.h"

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

/* --plan, every --cell in turn, --collect: the in-process sweep's sweep.csv byte for byte; a
 * finished cell is left alone; collect before the end names the missing cells and exits 2. */
static void
test_sweep_cells (void)
{
  const char *reference = reference_sweep_csv ();
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = make_plan (dir, "cells");
  g_autofree char *err = NULL;
  for (int c = 0; c < 3; c++)
    {
      char index[8];
      g_snprintf (index, sizeof index, "%d", c);
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (run_in (out, &err, "--cell", index, NULL), ==, 0);
    }
  /* collect with cell 3 missing: partial results, one line naming it, exit 2 */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (out, &err, "--collect", NULL), ==, 2);
  g_test_message ("%s", err);
  g_assert_cmpint (count_lines (err), ==, 1);
  g_assert_nonnull (strstr (err, "1 of 4 cells unfinished: 3 (data.bits=3,train.seed=2)"));
  g_autofree char *partial = read_text (out, "sweep.csv");
  g_assert_cmpint (count_lines (partial), ==, 5);
  g_auto (GStrv) partial_lines = g_strsplit (partial, "\n", -1);
  g_assert_true (g_str_has_prefix (partial_lines[4], "3,2,,")); /* no accuracy of its own */
  g_assert_true (g_str_has_suffix (partial_lines[4], ",1"));    /* its group has one seed so far */
  g_assert_true (g_str_has_suffix (partial_lines[1], ",2"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (out, &err, "--cell", "3", "--set", "train.threads=2", NULL), ==, 0);
  /* a finished cell is left alone */
  g_autofree char *cell0 = g_build_filename (out, "runs", "data.bits=0,train.seed=1", NULL);
  g_autofree char *metrics0 = read_text (cell0, "metrics.csv");
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (out, &err, "--cell", "0", NULL), ==, 0);
  g_assert_cmpint (count_lines (err), ==, 1);
  g_assert_nonnull (strstr (err, "cell 0 (data.bits=0,train.seed=1) is finished already"));
  g_autofree char *metrics0_again = read_text (cell0, "metrics.csv");
  g_assert_cmpstr (metrics0, ==, metrics0_again);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (out, &err, "--collect", NULL), ==, 0);
  g_autofree char *csv = read_text (out, "sweep.csv");
  g_assert_cmpstr (csv, ==, reference);
  g_autofree char *png = g_build_filename (out, "figures", "sweep.png", NULL);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  /* each cell is a complete run the run list reads */
  GError *error = NULL;
  g_autoptr (GPtrArray) runs = cl_runs_scan_dir (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (runs->len, ==, 4);
}

/* GNU parallel runs the cells, two at a time: the same sweep.csv. */
static void
test_sweep_parallel (void)
{
  const char *reference = reference_sweep_csv ();
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = make_plan (dir, "parallel");
  g_autofree char *cmd =
      g_strdup_printf ("seq 0 3 | parallel --will-cite -j 2 '%s' --headless --out '%s' --cell {}", bin (), out);
  const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
  int status = 0;
  GError *error = NULL;
  g_autofree char *err = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("parallel -j 2: %.1f s; %s", (g_get_monotonic_time () - t0) / 1e6, err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (out, &err, "--collect", NULL), ==, 0);
  g_autofree char *csv = read_text (out, "sweep.csv");
  g_assert_cmpstr (csv, ==, reference);
}

/* --jobs 2: the in-process sweep runs two cells at a time, each its own --cell process (on one
 * thread each: train.threads=0 is split between the jobs), and gives the same sweep.csv. A cell
 * whose folder another job holds is refused (exit 2, named) and the others still run. */
static void
test_sweep_jobs (void)
{
  const char *reference = reference_sweep_csv ();
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "jobs", NULL);
  g_autofree char *err = NULL;
  g_assert_cmpint (run (NULL, &err, SWEEP_ARGS, "--set", "train.threads=0", "--out", out, "--jobs", "2", NULL), ==, 0);
  g_test_message ("--jobs 2: %s", err);
  g_assert_nonnull (strstr (err, "sweep of 4 runs, 2 at a time"));
  g_assert_nonnull (strstr (err, "cell 3/4 "));
  g_autofree char *csv = read_text (out, "sweep.csv");
  /* train.threads is not a swept key: the rows are the reference's */
  g_assert_cmpstr (csv, ==, reference);

  g_autofree char *busy = g_build_filename (dir, "busy", NULL);
  g_autofree char *cell2 = g_build_filename (busy, "runs", "data.bits=3,train.seed=1", NULL);
  g_assert_cmpint (g_mkdir_with_parents (cell2, 0755), ==, 0);
  g_autofree char *lock_path = g_build_filename (cell2, ".contrastlab-cell.lock", NULL);
  int fd = open (lock_path, O_RDWR | O_CREAT, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (NULL, &err, SWEEP_ARGS, "--out", busy, "--jobs", "3", NULL), ==, 2);
  g_test_message ("--jobs 3 with cell 2 held: %s", err);
  g_assert_nonnull (strstr (err, "1 of 4 sweep runs could not run"));
  g_assert_nonnull (strstr (err, "1 of 4 cells unfinished: 2 (data.bits=3,train.seed=1)"));
  close (fd);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (busy, &err, "--cell", "2", NULL), ==, 0);
  g_assert_cmpint (run_in (busy, &err, "--collect", NULL), ==, 0);
  g_autofree char *csv2 = read_text (busy, "sweep.csv");
  g_assert_cmpstr (csv2, ==, reference);
}

/* kill -9 a cell mid-run: it is left unfinished (run.ini and whole rows, no cell.ini); --cell N
 * again redoes it from the start and the sweep is still the same. */
static void
test_sweep_killed_cell (void)
{
  const char *reference = reference_sweep_csv ();
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = make_plan (dir, "killed");
  g_autofree char *cell1 = g_build_filename (out, "runs", "data.bits=0,train.seed=2", NULL);
  const char *args[] = { "--headless", "--out", out, "--cell", "1", NULL };
  GPid pid = spawn_async (args);
  g_assert_true (wait_rows (pid, cell1, 2));
  kill_and_reap (pid);
  g_autofree char *mark = g_build_filename (cell1, "cell.ini", NULL);
  g_assert_false (g_file_test (mark, G_FILE_TEST_EXISTS));
  g_autofree char *ini = g_build_filename (cell1, "run.ini", NULL);
  g_assert_true (g_file_test (ini, G_FILE_TEST_IS_REGULAR));
  assert_whole_rows (cell1, "metrics.csv");
  int killed_rows = file_lines (cell1, "metrics.csv") - 1;
  g_assert_cmpint (killed_rows, >=, 2);
  g_assert_cmpint (killed_rows, <, 60);
  g_autofree char *err = NULL;
  for (int c = 0; c < 4; c++)
    {
      char index[8];
      g_snprintf (index, sizeof index, "%d", c);
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (run_in (out, &err, "--cell", index, NULL), ==, 0);
    }
  g_assert_cmpint (file_lines (cell1, "metrics.csv"), ==, 61);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_in (out, &err, "--collect", NULL), ==, 0);
  g_autofree char *csv = read_text (out, "sweep.csv");
  g_assert_cmpstr (csv, ==, reference);
}

/* --cell out of range, a missing or corrupt plan, --collect on a folder that is not a sweep,
 * and misused flags: exit 2 with one line naming the file or index. */
static void
test_sweep_bad_input (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = make_plan (dir, "bad");
  g_autofree char *plan = g_build_filename (out, "sweep.plan", NULL);
  g_autofree char *range_msg = g_strdup_printf ("--cell 4: %s has 4 cells (0..3)", plan);
  expect_exit2 (range_msg, (const char *[]){ "--headless", "--out", out, "--cell", "4", NULL });
  expect_exit2 ("--cell '-1'", (const char *[]){ "--headless", "--out", out, "--cell", "-1", NULL });
  expect_exit2 ("--cell 'x'", (const char *[]){ "--headless", "--out", out, "--cell", "x", NULL });
  expect_exit2 ("--cell needs --out", (const char *[]){ "--headless", "--cell", "0", NULL });
  expect_exit2 ("--cell needs --headless", (const char *[]){ "--out", out, "--cell", "0", NULL });
  expect_exit2 ("only --set train.threads=N",
                (const char *[]){ "--headless", "--out", out, "--cell", "0", "--set", "loss.temperature=0.2", NULL });
  expect_exit2 ("--plan: nothing to sweep", (const char *[]){ "--headless", "--out", out, "--plan", NULL });
  expect_exit2 ("one at a time", (const char *[]){ "--headless", "--out", out, "--plan", "--collect", NULL });
  expect_exit2 ("--jobs 0: expected 1 to 64", (const char *[]){ "--headless", "--out", out, "--jobs", "0", NULL });
  expect_exit2 ("--jobs runs a whole sweep",
                (const char *[]){ "--headless", "--out", out, "--cell", "0", "--jobs", "2", NULL });
  expect_exit2 ("--jobs: nothing to sweep", (const char *[]){ "--headless", "--out", out, "--jobs", "2", NULL });

  /* a folder that is not a sweep */
  g_autofree char *empty = g_build_filename (dir, "not-a-sweep", NULL);
  g_mkdir (empty, 0755);
  g_autofree char *missing = g_build_filename (empty, "sweep.plan", NULL);
  expect_exit2 (missing, (const char *[]){ "--headless", "--out", empty, "--collect", NULL });
  expect_exit2 (missing, (const char *[]){ "--headless", "--out", empty, "--cell", "0", NULL });

  /* a corrupt plan: a cell line edited to leave runs/, and a plan cut short */
  g_autofree char *text = read_text (out, "sweep.plan");
  g_autofree char *evil = g_strdup (text);
  const char *found = strstr (evil, "\ncell\t2\t");
  g_assert_nonnull (found);
  gsize start = (gsize) (found - evil) + 1, at = start;
  for (gsize i = start; evil[i] && evil[i] != '\n'; i++)
    if (evil[i] == '\t')
      at = i;
  memcpy (evil + at + 1, "../..", 5);
  write_file (out, "sweep.plan", evil, strlen (evil));
  int cell2_line = 1;
  for (gsize i = 0; i < start; i++)
    cell2_line += evil[i] == '\n';
  g_autofree char *where = g_strdup_printf ("%s:%d: cell 2", plan, cell2_line);
  expect_exit2 (where, (const char *[]){ "--headless", "--out", out, "--cell", "2", NULL });
  expect_exit2 (where, (const char *[]){ "--headless", "--out", out, "--collect", NULL });
  write_file (out, "sweep.plan", text, strlen (text) - 10);
  expect_exit2 ("the last line has no end", (const char *[]){ "--headless", "--out", out, "--cell", "0", NULL });
  /* nothing was run */
  g_autofree char *runs = g_build_filename (out, "runs", NULL);
  g_assert_false (g_file_test (runs, G_FILE_TEST_EXISTS));
}

/* Sweep values that are paths: every run folder stays a direct child of DIR/runs. */
static void
test_sweep_folders_stay_inside (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *spec =
      g_strdup_printf ("data.path=%s,%s/../fashion-mnist", CL_FASHION_MNIST_DIR, CL_FASHION_MNIST_DIR);
  g_autofree char *err = NULL;
  int code = run (NULL, &err, "--headless", "--set", "train.batch=16", "--set", "probe.every=0", "--set",
                  "probe.images=100", "--steps", "2", "--sweep", spec, "--out", out, NULL);
  g_test_message ("%s", err);
  g_assert_cmpint (code, ==, 0);
  g_autofree char *runs = g_build_filename (out, "runs", NULL);
  g_autoptr (GDir) d = g_dir_open (runs, 0, NULL);
  g_assert_nonnull (d);
  int n = 0;
  for (const char *name; (name = g_dir_read_name (d)); n++)
    {
      g_assert_true (g_str_has_prefix (name, "data.path=%2F"));
      g_autofree char *run_dir = g_build_filename (runs, name, NULL);
      g_assert_cmpint (file_lines (run_dir, "metrics.csv"), ==, 3);
    }
  g_assert_cmpint (n, ==, 2);
  /* nothing landed next to DIR */
  g_autoptr (GDir) top = g_dir_open (dir, 0, NULL);
  int entries = 0;
  while (g_dir_read_name (top))
    entries++;
  g_assert_cmpint (entries, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/sweep", test_sweep);
  g_test_add_func ("/cli/sweep-cells", test_sweep_cells);
  g_test_add_func ("/cli/sweep-parallel", test_sweep_parallel);
  g_test_add_func ("/cli/sweep-jobs", test_sweep_jobs);
  g_test_add_func ("/cli/sweep-killed-cell", test_sweep_killed_cell);
  g_test_add_func ("/cli/sweep-bad-input", test_sweep_bad_input);
  g_test_add_func ("/cli/sweep-folders-stay-inside", test_sweep_folders_stay_inside);
  int code = g_test_run ();
  cli_remove_tmp_dirs ();
  return code;
}
