/* Run folders: round trips, reading headless folders, bad files with errors that name them,
 * scanning many folders, the config diff. The run store has its own file (test_run_store.c). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store/cl_runs.h"

#include "tests/engine/store/runs_fixture.h"

/* ------------------------------------------------------------ reading folders */

static void
test_round_trip (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *run = g_build_filename (dir, "a run", NULL);
  ClSnapshot *s = synthetic (257, 30, 24, 9, config_a, 1000);
  GError *error = NULL;
  g_assert_true (cl_run_save (run, s, "saved by test_runs", &error));
  g_assert_no_error (error);
  ClSnapshot *back = cl_run_load (run, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  assert_synthetic_rows (back, 257, 30, 24, 9);
  g_assert_true (back->finished);
  g_assert_cmpint (back->step, ==, 257);
  /* the configuration comes back verbatim after the header comment */
  g_assert_true (g_str_has_prefix (back->config_ini, "# saved by test_runs\n"));
  g_assert_cmpstr (back->config_ini + strlen ("# saved by test_runs\n"), ==, config_a);
  /* the CSV texts are the same after a second trip */
  g_autofree char *m1 = cl_runs_metrics_csv (s), *m2 = cl_runs_metrics_csv (back);
  g_assert_cmpstr (m1, ==, m2);
  g_autofree char *e1 = cl_runs_events_csv (s), *e2 = cl_runs_events_csv (back);
  g_assert_cmpstr (e1, ==, e2);
  g_assert_nonnull (strstr (e1, "\"/d, \"\"q\"\" 1\""));
  cl_snapshot_unref (back);
  cl_snapshot_unref (s);

  /* an empty run (header-only files) reads back as an empty snapshot, not an error */
  g_autofree char *empty = g_build_filename (dir, "empty", NULL);
  s = synthetic (0, 0, 0, 0, config_a, 10);
  g_assert_true (cl_run_save (empty, s, NULL, &error));
  back = cl_run_load (empty, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->n_rows, ==, 0);
  g_assert_null (back->rows);
  g_assert_cmpstr (back->config_ini, ==, config_a);
  cl_snapshot_unref (back);
  cl_snapshot_unref (s);
  remove_tree (dir);
}

/* What `contrastlab --headless --out DIR` writes (copied from a real run's files). */
static const char headless_ini[] =
    "# ContrastLab 0.1.0 headless run: 20 steps in 4.8 s\n"
    "# ContrastLab run configuration (every parameter; contrastlab --list-params explains them)\n\n"
    "[data]\nbase=fashion-mnist\npath=\nkind=randbits\npool=16\nbig_size=28\ntint=0\nbits=0\nbit_resample=0\n\n"
    "[loss]\nkind=ntxent\nlambda=-1\ntemperature=0.1\n\n"
    "[train]\nbatch=32\nlr=0.001\noptimizer=adam\nsteps=20\nseed=1\nthreads=0\nweight_decay=0.0001\n";
static const char headless_metrics[] =
    "step,seconds,loss,alignment,distribution,contrastive_acc,temperature,lr,wi_alignment,wi_uniformity,z_std,"
    "code_collision\n"
    "1,2.117382,3.90318,-4.36106,8.26424,0.109375,0.1,0.001,1.127788,-2.548547,0.1004653,\n"
    "2,2.174087,3.832836,-4.484574,8.31741,0.109375,0.1,0.00095,1.103085,-2.489019,0.09970214,\n"
    "20,3.922492,3.401128,-5.904902,9.306029,0.140625,0.1,5e-05,0.8190197,-2.218844,0.0957133,0.25\n";
static const char headless_probes[] = "step,target,accuracy,chance\n0,class,0.74640,0.10360\n"
                                      "0,bits,0.50000,0.50000\n20,class,0.72580,0.10360\n";
static const char headless_clusters[] = "step,layer,k,object_iou,instance_ari\n0,pixels,2,0.86581,0.00000\n"
                                        "20,conv3,8,1.00000,\n";

static void
test_read_headless (void)
{
  g_autofree char *dir = tmp_dir ();
  put (dir, "run.ini", headless_ini);
  put (dir, "metrics.csv", headless_metrics);
  put (dir, "probes.csv", headless_probes);
  put (dir, "clusters.csv", headless_clusters);
  put (dir, "figures/loss.png", "not read");
  GError *error = NULL;
  ClSnapshot *s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 3);
  g_assert_cmpint (s->rows[0].step, ==, 1);
  g_assert_cmpfloat (s->rows[0].loss, ==, 3.90318f);
  g_assert_true (isnan (s->rows[0].code_collision)); /* empty field */
  g_assert_cmpfloat (s->rows[2].code_collision, ==, 0.25f);
  g_assert_cmpfloat (s->rows[2].lr, ==, 5e-05f);
  g_assert_cmpint (s->n_probes, ==, 3);
  g_assert_cmpstr (s->probes[1].target, ==, "bits");
  g_assert_cmpfloat (s->probes[2].accuracy, ==, 0.72580f);
  g_assert_cmpint (s->n_cluster_rows, ==, 2);
  g_assert_true (isnan (s->cluster_rows[1].instance_ari));
  g_assert_cmpint (s->n_events, ==, 0); /* headless runs have no events.csv */
  g_assert_cmpint (s->step, ==, 20);
  /* the header's duration includes the last probe, which the last row's time does not */
  g_assert_cmpfloat_with_epsilon (s->seconds, 4.8, 1e-9);
  g_assert_true (g_str_has_prefix (s->config_ini, "# ContrastLab 0.1.0 headless run"));
  cl_snapshot_unref (s);

  /* columns found by name: reordered, an unknown one added, optional ones missing, CRLF */
  put (dir, "metrics.csv", "loss,grad_norm,step,\"seconds\"\r\n3.5,17,1,0.5\r\n3.25,16,2,1.0\r\n");
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 2);
  g_assert_cmpint (s->rows[1].step, ==, 2);
  g_assert_cmpfloat (s->rows[1].loss, ==, 3.25f);
  g_assert_cmpfloat (s->rows[1].seconds, ==, 1.0f);
  g_assert_true (isnan (s->rows[1].alignment));
  g_assert_true (isnan (s->rows[1].z_std));
  cl_snapshot_unref (s);

  /* a write cut short: the unterminated last line is dropped when it is not whole ... */
  put (dir, "metrics.csv", "step,loss,alignment\n1,3.5,-1\n2,3.4,-1.1\n3,3.");
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 2);
  cl_snapshot_unref (s);
  put (dir, "metrics.csv", "step,loss,alignment\n1,3.5,-1\n2,3.4,-1.1\n3,3.3,-");
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 2);
  cl_snapshot_unref (s);
  /* ... kept when it is (a file edited by hand without a final newline) */
  put (dir, "metrics.csv", "step,loss,alignment\n1,3.5,-1\n2,3.4,-1.1\n3,3.3,-1.2");
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 3);
  g_assert_cmpfloat (s->rows[2].alignment, ==, -1.2f);
  cl_snapshot_unref (s);
  /* zeros after the last line (a file that grew before a power loss) are ignored */
  static const char zeros[] = "step,loss\n1,3.5\n2,3.4\n\0\0\0\0\0\0";
  put_bytes (dir, "metrics.csv", zeros, sizeof zeros - 1);
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 2);
  cl_snapshot_unref (s);
  /* steps out of order are put in order (the figures need it), equal steps keep theirs */
  put (dir, "metrics.csv", "step,loss\n3,3\n1,1\n2,2\n1,1.5\n");
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 4);
  g_assert_cmpint (s->rows[0].step, ==, 1);
  g_assert_cmpfloat (s->rows[0].loss, ==, 1.0f);
  g_assert_cmpfloat (s->rows[1].loss, ==, 1.5f);
  g_assert_cmpint (s->rows[3].step, ==, 3);
  cl_snapshot_unref (s);
  /* optional files may be missing */
  put (dir, "metrics.csv", headless_metrics);
  g_autofree char *probes = g_build_filename (dir, "probes.csv", NULL);
  g_autofree char *clusters = g_build_filename (dir, "clusters.csv", NULL);
  g_unlink (probes);
  g_unlink (clusters);
  s = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 3);
  g_assert_cmpint (s->n_probes, ==, 0);
  g_assert_cmpint (s->n_cluster_rows, ==, 0);
  cl_snapshot_unref (s);
  remove_tree (dir);
}

typedef struct
{
  const char *file;    /* which file gets the bad content */
  const char *content; /* NULL: the file is removed */
  ClRunsError code;
  const char *message; /* expected message after "DIR/" */
} BadCase;

static void
test_bad_files (void)
{
  static const BadCase cases[] = {
    { "metrics.csv", "step,loss\n1,3.5\n2,abc\n3,3.3\n", CL_RUNS_ERROR_PARSE,
      "metrics.csv: line 3: column loss: expected a number, got 'abc'" },
    { "metrics.csv", "step,loss\n1,3.5\n2.5,3.4\n", CL_RUNS_ERROR_PARSE,
      "metrics.csv: line 3: column step: expected a whole number >= 0, got '2.5'" },
    { "metrics.csv", "step,loss\n-1,3.5\n", CL_RUNS_ERROR_PARSE,
      "metrics.csv: line 2: column step: expected a whole number >= 0, got '-1'" },
    { "metrics.csv", "loss,alignment\n3.5,1\n", CL_RUNS_ERROR_PARSE,
      "metrics.csv: line 1: the header has no 'step' column (expected a header with step)" },
    { "metrics.csv", "step,loss\n1,3.5\n2\n3,3.3\n", CL_RUNS_ERROR_PARSE,
      "metrics.csv: line 3: 1 fields, expected 2 as in the header" },
    { "metrics.csv", "step,loss\n1,3.5,9\n", CL_RUNS_ERROR_PARSE,
      "metrics.csv: line 2: 3 fields, expected 2 as in the header" },
    { "metrics.csv", "", CL_RUNS_ERROR_PARSE, "metrics.csv: empty (expected a header line starting with step)" },
    { "metrics.csv", "step,loss\n1,\"3.5\n2,3.4\n", CL_RUNS_ERROR_PARSE, "metrics.csv: line 2: unbalanced quotes" },
    { "metrics.csv", NULL, CL_RUNS_ERROR_MISSING, "metrics.csv: missing" },
    { "probes.csv", "step,target,accuracy\n0,class,0.5\n0,a-much-too-long-probe-target-name,0.5\n", CL_RUNS_ERROR_PARSE,
      "probes.csv: line 3: column target: 'a-much-too-long-probe-target-name' is longer than 23 characters" },
    { "probes.csv", "step,target\n0,class\n", CL_RUNS_ERROR_PARSE,
      "probes.csv: line 1: the header has no 'accuracy' column (expected a header with step,target,accuracy)" },
    { "clusters.csv", "step,layer,k,object_iou,instance_ari\n0,pixels,two,0.5,0.5\n", CL_RUNS_ERROR_PARSE,
      "clusters.csv: line 2: column k: expected a whole number >= 0, got 'two'" },
    { "events.csv", "step,key,old_value,new_value\n5,,1,2\n", CL_RUNS_ERROR_PARSE,
      "events.csv: line 2: column key: expected a name, got ''" },
    { "run.ini", "this is not a key file\n", CL_RUNS_ERROR_PARSE, "run.ini: not a valid configuration: " },
    { "run.ini", NULL, CL_RUNS_ERROR_MISSING, ": not a run folder (run.ini is missing" },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *dir = tmp_dir ();
      put (dir, "run.ini", headless_ini);
      put (dir, "metrics.csv", headless_metrics);
      put (dir, "probes.csv", headless_probes);
      g_autofree char *target = g_build_filename (dir, cases[c].file, NULL);
      if (cases[c].content)
        put (dir, cases[c].file, cases[c].content);
      else
        g_unlink (target);
      GError *error = NULL;
      ClSnapshot *s = cl_run_load (dir, &error);
      g_assert_null (s);
      g_assert_error (error, CL_RUNS_ERROR, (gint) cases[c].code);
      /* one line, naming the file (or folder) first */
      g_assert_null (strchr (error->message, '\n'));
      const char *named = strcmp (cases[c].file, "run.ini") == 0 && !cases[c].content ? dir : target;
      if (!g_str_has_prefix (error->message, named) || !strstr (error->message, cases[c].message))
        g_error ("case %zu: got '%s', expected '%s' naming %s", c, error->message, cases[c].message, named);
      g_test_message ("bad file %zu: %s", c, error->message);
      g_error_free (error);
      remove_tree (dir);
    }

  /* binary data in the middle is an error, not a truncation */
  g_autofree char *dir = tmp_dir ();
  put (dir, "run.ini", headless_ini);
  static const char binary[] = "step,loss\n1,3.5\n\0\0\0\n2,3.4\n";
  put_bytes (dir, "metrics.csv", binary, sizeof binary - 1);
  GError *error = NULL;
  g_assert_null (cl_run_load (dir, &error));
  g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "metrics.csv: line 3: binary data"));
  g_clear_error (&error);
  /* a folder that does not exist */
  g_autofree char *nowhere = g_build_filename (dir, "nowhere", NULL);
  g_assert_null (cl_run_load (nowhere, &error));
  g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING);
  g_clear_error (&error);
  remove_tree (dir);
}

/* ------------------------------------------------------------------- scanning */

static void
test_scan (void)
{
  g_autofree char *root = tmp_dir ();
  const int n_plain = 280;
  /* plain headless runs, some nested a few levels down; each with figures/ */
  for (int i = 0; i < n_plain; i++)
    {
      g_autofree char *name = g_strdup_printf ("batch%d/run%d", i % 4, i);
      g_autofree char *dir = g_build_filename (root, name, NULL);
      put (dir, "run.ini", headless_ini);
      /* never parsed by the scan: an invalid file does not matter to the list */
      put (dir, "metrics.csv", i == 7 ? "not,a\nvalid,metrics,file\n" : headless_metrics);
      put (dir, "probes.csv", headless_probes);
      put (dir, "figures/loss.png", "png");
    }
  /* a sweep of 20 points with its sweep.csv */
  g_autofree char *sweep = g_build_filename (root, "sweep", NULL);
  GString *csv = g_string_new ("loss.temperature,train.seed,class,bits\n");
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("runs/loss.temperature=0.%d,train.seed=%d", i / 2 + 1, i % 2);
      g_autofree char *dir = g_build_filename (sweep, name, NULL);
      put (dir, "run.ini", headless_ini);
      put (dir, "metrics.csv", headless_metrics);
      g_string_append_printf (csv, "0.%d,%d,0.%03d,0.5\n", i / 2 + 1, i % 2, 100 + i);
    }
  put (sweep, "sweep.csv", csv->str);
  put (sweep, "run.ini", "# sweep base configuration\n[loss]\nkind=ntxent\n");
  g_string_free (csv, TRUE);
  /* not runs: run.ini alone, a hidden folder, a run inside figures/ */
  put (root, "only-ini/run.ini", headless_ini);
  put (root, ".hidden/run.ini", headless_ini);
  put (root, ".hidden/metrics.csv", headless_metrics);

  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  GPtrArray *runs = cl_runs_scan_dir (root, &error);
  double ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_assert_no_error (error);
  g_test_message ("scanned %u run folders in %.1f ms", runs->len, ms);
  g_printerr ("# scan of %u run folders: %.1f ms\n", runs->len, ms);
  g_assert_cmpuint (runs->len, ==, n_plain + 20);
  /* the time is reported, not asserted: speed belongs to benchmarks (a loaded machine took over 1 s) */
  /* natural order: run2 before run10 within a folder */
  int at2 = -1, at10 = -1, sweep_points = 0;
  for (guint i = 0; i < runs->len; i++)
    {
      const ClRunInfo *r = runs->pdata[i];
      if (strcmp (r->id, "batch2/run2") == 0)
        at2 = (int) i;
      if (strcmp (r->id, "batch2/run10") == 0)
        at10 = (int) i;
      g_assert_cmpint (r->seed, ==, 1);
      g_assert_cmpint (r->total_steps, ==, 20);
      g_assert_cmpint (r->steps, ==, 20);
      g_assert_cmpfloat (r->duration, ==, 4.8);
      g_assert_cmpint (r->status, ==, CL_RUN_STATUS_UNKNOWN);
      g_assert_cmpstr (r->summary, ==, "randbits · ntxent τ=0.1 · batch 32 · 20 steps");
      g_assert_true (g_file_test (r->path, G_FILE_TEST_IS_DIR));
      if (g_str_has_prefix (r->id, "sweep/runs/"))
        {
          /* final accuracies from the sweep's table, matched by folder name */
          int t, seed;
          g_assert_cmpint (sscanf (r->id, "sweep/runs/loss.temperature=0.%d,train.seed=%d", &t, &seed), ==, 2);
          int point = (t - 1) * 2 + seed;
          g_assert_cmpint (r->n_final, ==, 2);
          g_assert_cmpfloat_with_epsilon (cl_run_info_final (r, "class"), (100 + point) / 1000.0, 1e-12);
          g_assert_cmpfloat (cl_run_info_final (r, "bits"), ==, 0.5);
          sweep_points++;
        }
      else
        g_assert_cmpint (r->n_final, ==, 0);
    }
  g_assert_cmpint (sweep_points, ==, 20);
  g_assert_cmpint (at2, >=, 0);
  g_assert_cmpint (at10, >, at2);
  g_ptr_array_unref (runs);

  /* a run folder given directly lists itself under its own name */
  g_autofree char *one = g_build_filename (root, "batch1", "run5", NULL);
  runs = cl_runs_scan_dir (one, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 1);
  g_assert_cmpstr (((ClRunInfo *) runs->pdata[0])->id, ==, "run5");
  g_ptr_array_unref (runs);
  /* a missing folder is an error */
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  g_assert_null (cl_runs_scan_dir (missing, &error));
  g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING);
  g_clear_error (&error);
  remove_tree (root);
}

/* ------------------------------------------------------------- config helpers */

static void
test_config_diff (void)
{
  const char *b = "[data]\nbase=fashion-mnist\nkind=randbits\nbits=8\n\n[loss]\n# a comment\nkind=ntxent\n"
                  "lambda=-1.0\ntemperature=0.5\n\n[train]\nbatch=64\nsteps=1000\nseed=3\nthreads=2\n";
  char **va = NULL, **vb = NULL;
  GError *error = NULL;
  char **keys = cl_config_ini_diff (config_a, b, &va, &vb, &error);
  g_assert_no_error (error);
  /* lambda=-1 vs -1.0 is the same value; tint only in A, threads only in B */
  g_assert_cmpuint (g_strv_length (keys), ==, 3);
  g_assert_cmpstr (keys[0], ==, "data.tint");
  g_assert_cmpstr (va[0], ==, "0");
  g_assert_cmpstr (vb[0], ==, "");
  g_assert_cmpstr (keys[1], ==, "loss.temperature");
  g_assert_cmpstr (va[1], ==, "0.1");
  g_assert_cmpstr (vb[1], ==, "0.5");
  g_assert_cmpstr (keys[2], ==, "train.threads");
  g_assert_cmpstr (va[2], ==, "");
  g_assert_cmpstr (vb[2], ==, "2");
  g_assert_null (va[3]);
  g_strfreev (keys);
  g_strfreev (va);
  g_strfreev (vb);
  keys = cl_config_ini_diff (config_a, config_a, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (keys[0]);
  g_strfreev (keys);
  g_assert_null (cl_config_ini_diff (config_a, "no [groups here", NULL, NULL, &error));
  g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "configuration B"));
  g_clear_error (&error);

  g_autofree char *summary = cl_config_ini_summary (config_a);
  g_assert_cmpstr (summary, ==, "randbits 8 bits · ntxent τ=0.1 · batch 64 · 1000 steps");
  g_autofree char *swd = cl_config_ini_summary ("[data]\nkind=overlay\n[loss]\nkind=swd-normal\ntemperature=0.1\n"
                                                "lambda=2\n");
  g_assert_cmpstr (swd, ==, "overlay · swd-normal λ=2");
}

/* ------------------------------------------------------------------ the store */

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runs/round-trip", test_round_trip);
  g_test_add_func ("/runs/read-headless", test_read_headless);
  g_test_add_func ("/runs/bad-files", test_bad_files);
  g_test_add_func ("/runs/scan", test_scan);
  g_test_add_func ("/runs/config-diff", test_config_diff);
  return g_test_run ();
}
