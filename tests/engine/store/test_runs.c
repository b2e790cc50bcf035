/* Run folders and the run store: reading headless folders, round trips, bad files,
 * scanning many folders, persistence across restarts and crashes during writes. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
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

static char *
store_root (void)
{
  /* the store follows CONTRASTLAB_DATA_DIR, so tests never touch the user's data dir */
  char *root = tmp_dir ();
  g_setenv ("CONTRASTLAB_DATA_DIR", root, TRUE);
  return root;
}

static ClRunInfo *
find_info (GPtrArray *list, const char *id)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp (((ClRunInfo *) list->pdata[i])->id, id) == 0)
      return list->pdata[i];
  return NULL;
}

static void
test_store_persistence (void)
{
  g_autofree char *root = store_root ();
  GError *error = NULL;
  ClRunStore *store = cl_run_store_open (NULL, &error);
  g_assert_no_error (error);
  g_autofree char *expected_dir = g_build_filename (root, "runs", NULL);
  g_assert_cmpstr (cl_run_store_dir (store), ==, expected_dir);
  GPtrArray *list = cl_run_store_list (store);
  g_assert_cmpuint (list->len, ==, 0);
  g_ptr_array_unref (list);

  /* run 1: recorded as it grows, then finished */
  ClSnapshot *start = synthetic (0, 0, 0, 0, config_a, 200);
  g_autofree char *id1 = g_strdup (cl_run_store_begin (store, start, NULL, &error));
  g_assert_no_error (error);
  cl_snapshot_unref (start);
  g_assert_cmpstr (cl_run_store_current (store), ==, id1);
  for (int n = 10; n <= 200; n += 10)
    {
      ClSnapshot *s = synthetic (n, (n / 10) * 3, n / 10, n / 40, config_a, 200);
      g_assert_true (cl_run_store_record (store, s, &error));
      g_assert_no_error (error);
      cl_snapshot_unref (s);
      if (n == 100)
        {
          /* the run being recorded can be read back, and cannot be deleted */
          ClSnapshot *partial = cl_run_store_load (store, id1, &error);
          g_assert_no_error (error);
          assert_synthetic_rows (partial, 100, 30, 10, 2);
          cl_snapshot_unref (partial);
          g_assert_false (cl_run_store_delete (store, id1, &error));
          g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_BUSY);
          g_clear_error (&error);
          ClRunInfo *live = cl_run_store_lookup (store, id1);
          g_assert_cmpint (live->status, ==, CL_RUN_STATUS_RUNNING);
          g_assert_cmpint (live->steps, ==, 100);
          cl_run_info_free (live);
        }
    }
  ClSnapshot *end = synthetic (200, 60, 20, 5, config_a, 200);
  g_assert_true (cl_run_store_finish (store, end, &error));
  g_assert_no_error (error);
  cl_snapshot_unref (end);
  g_assert_null (cl_run_store_current (store));

  /* run 2 (a reset) and run 3 (a reset the caller did not report: the rows start over) */
  const char *config_b = "[loss]\nkind=ntxent\ntemperature=0.5\n[train]\nseed=4\nsteps=500\n";
  ClSnapshot *s2 = synthetic (50, 6, 0, 0, config_b, 500);
  g_autofree char *id2 = g_strdup (cl_run_store_begin (store, s2, "tau 0.5", &error));
  g_assert_true (cl_run_store_record (store, s2, &error));
  cl_snapshot_unref (s2);
  ClSnapshot *s3 = synthetic (20, 3, 0, 0, config_b, 500);
  g_assert_true (cl_run_store_record (store, s3, &error));
  g_assert_no_error (error);
  g_autofree char *id3 = g_strdup (cl_run_store_current (store));
  g_assert_cmpstr (id3, !=, id2);
  cl_snapshot_unref (s3);
  /* quitting while run 3 records */
  cl_run_store_close (store);
  /* folders the user put there are neither listed nor touched, whatever their names */
  g_autofree char *foreign = g_build_filename (expected_dir, "my [notes]", NULL);
  put (foreign, "info.ini", "[run]\nstatus=finished\nstarted=1\n");
  put (foreign, "run.ini", config_a);
  put (foreign, "metrics.csv", "step\n1\n");
  g_autofree char *plain_folder = g_build_filename (expected_dir, "notes", NULL);
  put (plain_folder, "readme.txt", "mine");

  /* "restart": everything is there */
  store = cl_run_store_open (NULL, &error);
  g_assert_no_error (error);
  list = cl_run_store_list (store);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_true (g_file_test (foreign, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (plain_folder, G_FILE_TEST_IS_DIR));
  ClRunInfo *r1 = find_info (list, id1), *r2 = find_info (list, id2), *r3 = find_info (list, id3);
  g_assert_nonnull (r1);
  g_assert_nonnull (r2);
  g_assert_nonnull (r3);
  g_assert_true (list->pdata[0] == r1 && list->pdata[1] == r2 && list->pdata[2] == r3); /* oldest first */
  g_assert_cmpstr (r1->label, ==, "Run 1");
  g_assert_cmpstr (r2->label, ==, "tau 0.5");
  g_assert_cmpstr (r3->label, ==, "Run 3");
  g_assert_cmpint (r1->status, ==, CL_RUN_STATUS_FINISHED);
  g_assert_cmpint (r2->status, ==, CL_RUN_STATUS_STOPPED);
  g_assert_cmpint (r3->status, ==, CL_RUN_STATUS_STOPPED);
  g_assert_cmpint (r1->seed, ==, 3);
  g_assert_cmpint (r2->seed, ==, 4);
  g_assert_cmpint (r1->steps, ==, 200);
  g_assert_cmpint (r1->total_steps, ==, 200);
  g_assert_cmpint (r2->steps, ==, 50);
  g_assert_cmpfloat_with_epsilon (r1->duration, 200 * 0.0625 + 0.5, 1e-9);
  g_assert_cmpstr (r1->summary, ==, "randbits 8 bits · ntxent τ=0.1 · batch 64 · 1000 steps");
  g_assert_cmpint (r1->started, >, 0);
  g_assert_cmpint (r1->started, <=, g_get_real_time () / G_USEC_PER_SEC);
  /* final accuracies: the last probe of each target, per-bit targets left out */
  g_assert_cmpint (r1->n_final, ==, 2);
  g_assert_cmpfloat_with_epsilon (cl_run_info_final (r1, "class"), probe_row (57).accuracy, 1e-6);
  g_assert_cmpfloat_with_epsilon (cl_run_info_final (r1, "bits"), probe_row (58).accuracy, 1e-6);
  g_assert_true (isnan (cl_run_info_final (r1, "bit0")));
  g_ptr_array_unref (list);

  ClSnapshot *back = cl_run_store_load (store, id1, &error);
  g_assert_no_error (error);
  assert_synthetic_rows (back, 200, 60, 20, 5);
  cl_snapshot_unref (back);
  back = cl_run_store_load (store, id3, &error);
  g_assert_no_error (error);
  assert_synthetic_rows (back, 20, 3, 0, 0);
  cl_snapshot_unref (back);
  /* the folders are ordinary run folders: the scan lists them too */
  GPtrArray *scanned = cl_runs_scan_dir (cl_run_store_dir (store), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (scanned->len, ==, 4); /* the scan lists any run folder, the user's too */
  g_assert_cmpstr (((ClRunInfo *) scanned->pdata[1])->label, ==, "tau 0.5");
  g_assert_cmpstr (((ClRunInfo *) scanned->pdata[3])->id, ==, "my [notes]");
  g_ptr_array_unref (scanned);

  /* rename and delete survive a restart too; new labels keep counting */
  g_assert_true (cl_run_store_set_label (store, id1, "baseline", &error));
  g_assert_true (cl_run_store_delete (store, id2, &error));
  g_assert_no_error (error);
  g_autofree char *id2_path = g_build_filename (cl_run_store_dir (store), id2, NULL);
  g_assert_false (g_file_test (id2_path, G_FILE_TEST_EXISTS));
  g_assert_false (cl_run_store_delete (store, id2, &error));
  g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING);
  g_clear_error (&error);
  const char *id4 = cl_run_store_begin (store, NULL, NULL, &error);
  g_assert_no_error (error);
  ClRunInfo *r4 = cl_run_store_lookup (store, id4);
  g_assert_cmpstr (r4->label, ==, "Run 4");
  cl_run_info_free (r4);
  cl_run_store_close (store);

  store = cl_run_store_open (NULL, &error);
  list = cl_run_store_list (store);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (find_info (list, id1)->label, ==, "baseline");
  g_assert_null (find_info (list, id2));
  g_ptr_array_unref (list);
  cl_run_store_close (store);
  remove_tree (root);
}

/* A run recorded by another live store (another process, or a second window) is not taken
 * for a crashed one. */
static void
test_store_live_lock (void)
{
  g_autofree char *root = tmp_dir ();
  GError *error = NULL;
  ClRunStore *a = cl_run_store_open (root, &error);
  ClSnapshot *s = synthetic (30, 3, 0, 0, config_a, 100);
  g_autofree char *id = g_strdup (cl_run_store_begin (a, s, NULL, &error));
  g_assert_true (cl_run_store_record (a, s, &error));
  ClRunStore *b = cl_run_store_open (root, &error);
  g_assert_no_error (error);
  ClRunInfo *seen = cl_run_store_lookup (b, id);
  g_assert_cmpint (seen->status, ==, CL_RUN_STATUS_RUNNING);
  cl_run_info_free (seen);
  cl_run_store_close (b);
  g_assert_true (cl_run_store_finish (a, s, &error));
  cl_run_store_close (a);
  cl_snapshot_unref (s);
  remove_tree (root);
}

/* ------------------------------------------------------------ crash simulation */

/* Runs fn in a child whose files may not grow past limit bytes: the first write that would
 * is cut there and the child is killed by SIGXFSZ, in the middle of writing. */
static void
crash_child_with_limit (void (*fn) (const char *), const char *root, rlim_t limit)
{
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rlimit no_core = { 0, 0 };
      setrlimit (RLIMIT_CORE, &no_core);
      struct rlimit lim = { limit, limit };
      fn (root);
      setrlimit (RLIMIT_FSIZE, &lim);
      fn (NULL); /* the second phase, under the limit */
      _exit (0);
    }
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGXFSZ);
}

static ClRunStore *child_store;
static char *child_id;

/* Phase 1 records 40 rows; phase 2 (under the size limit) records 400 more. */
static void
child_record (const char *root)
{
  if (root)
    {
      child_store = cl_run_store_open (root, NULL);
      ClSnapshot *s = synthetic (40, 6, 4, 1, config_a, 1000);
      child_id = g_strdup (cl_run_store_begin (child_store, s, NULL, NULL));
      cl_run_store_record (child_store, s, NULL);
      cl_snapshot_unref (s);
      return;
    }
  ClSnapshot *s = synthetic (440, 6, 4, 1, config_a, 1000);
  cl_run_store_record (child_store, s, NULL);
}

static gsize
file_size (const char *dir, const char *a, const char *b)
{
  g_autofree char *p = g_build_filename (dir, a, b, NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (p, &st), ==, 0);
  return (gsize) st.st_size;
}

static int
count_entries (const char *dir, const char *prefix)
{
  int n = 0;
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    n += g_str_has_prefix (name, prefix);
  if (d)
    g_dir_close (d);
  return n;
}

static void
test_crash_mid_append (void)
{
  g_autofree char *root = tmp_dir ();
  /* the size of metrics.csv after phase 1, measured by a dry run of phase 1 */
  g_autofree char *dry = tmp_dir ();
  child_record (dry);
  gsize after_phase1 = file_size (dry, child_id, "metrics.csv");
  cl_run_store_close (child_store);
  g_clear_pointer (&child_id, g_free);
  remove_tree (dry);

  /* the append of 400 rows is cut 150 bytes in: one whole row and a partial one */
  crash_child_with_limit (child_record, root, (rlim_t) (after_phase1 + 150));
  g_autofree char *metrics = NULL;
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (root, 0, NULL);
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    if (n[0] != '.' && strcmp (n, "index.ini") != 0)
      g_ptr_array_add (ids, g_strdup (n));
  g_dir_close (d);
  g_assert_cmpuint (ids->len, ==, 1);
  const char *id = ids->pdata[0];
  g_assert_cmpuint (file_size (root, id, "metrics.csv"), ==, after_phase1 + 150);
  g_autofree char *mpath = g_build_filename (root, id, "metrics.csv", NULL);
  g_assert_true (g_file_get_contents (mpath, &metrics, NULL, NULL));
  g_assert_false (g_str_has_suffix (metrics, "\n")); /* the crash really cut a line */

  GError *error = NULL;
  ClRunStore *store = cl_run_store_open (root, &error);
  g_assert_no_error (error);
  ClRunInfo *info = cl_run_store_lookup (store, id);
  g_assert_nonnull (info);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_INTERRUPTED);
  ClSnapshot *s = cl_run_store_load (store, id, &error);
  g_assert_no_error (error);
  /* nothing before the crash is lost; the cut row is not shown */
  g_assert_cmpint (s->n_rows, >, 40);
  assert_synthetic_rows (s, s->n_rows, 6, 4, 1);
  g_assert_cmpint (info->steps, ==, s->n_rows); /* repaired from the last whole row */
  /* the duration is the larger of the last one written and the last whole row's time */
  g_assert_cmpfloat_with_epsilon (info->duration, MAX (40 * 0.0625 + 0.5, metric_row (s->n_rows).seconds), 1e-6);
  g_test_message ("crash mid-append: %d whole rows kept of 440", s->n_rows);
  cl_snapshot_unref (s);
  cl_run_info_free (info);
  cl_run_store_close (store);
  /* the repair is written down: a second open sees the same */
  store = cl_run_store_open (root, &error);
  info = cl_run_store_lookup (store, id);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_INTERRUPTED);
  cl_run_info_free (info);
  cl_run_store_close (store);
  g_ptr_array_unref (ids);
  remove_tree (root);
}

/* Phase 1 makes three finished runs with long labels; phase 2 renames one, which rewrites
 * index.ini (large, cut by the limit). */
static void
child_relabel (const char *root)
{
  if (root)
    {
      child_store = cl_run_store_open (root, NULL);
      for (int r = 0; r < 3; r++)
        {
          ClSnapshot *s = synthetic (20 + r, 3, 0, 0, config_a, 20 + r);
          char label[600];
          memset (label, 'a' + r, sizeof label - 1);
          label[sizeof label - 1] = '\0';
          cl_run_store_begin (child_store, s, label, NULL);
          cl_run_store_finish (child_store, s, NULL);
          cl_snapshot_unref (s);
        }
      GPtrArray *list = cl_run_store_list (child_store);
      child_id = g_strdup (((ClRunInfo *) list->pdata[1])->id);
      g_ptr_array_unref (list);
      return;
    }
  cl_run_store_set_label (child_store, child_id, "renamed just before the crash", NULL);
}

static void
test_crash_mid_index (void)
{
  g_autofree char *root = tmp_dir ();
  crash_child_with_limit (child_relabel, root, 1200);
  /* the killed write left its temp file beside the intact index */
  g_assert_cmpint (count_entries (root, ".index.ini."), ==, 1);
  GError *error = NULL;
  g_autofree char *index_path = g_build_filename (root, "index.ini", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (kf, index_path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);

  ClRunStore *store = cl_run_store_open (root, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_entries (root, ".index.ini."), ==, 0);
  GPtrArray *list = cl_run_store_list (store);
  g_assert_cmpuint (list->len, ==, 3);
  for (guint i = 0; i < list->len; i++)
    {
      const ClRunInfo *r = list->pdata[i];
      g_assert_cmpint (r->status, ==, CL_RUN_STATUS_FINISHED);
      g_assert_cmpint (r->steps, ==, 20 + (int) i);
      /* the rename was cut short: not applied, and nothing else changed */
      g_assert_cmpint (strlen (r->label), ==, 599);
      g_assert_cmpint (r->label[0], ==, 'a' + (int) i);
      ClSnapshot *s = cl_run_store_load (store, r->id, &error);
      g_assert_no_error (error);
      assert_synthetic_rows (s, 20 + (int) i, 3, 0, 0);
      cl_snapshot_unref (s);
    }
  g_ptr_array_unref (list);
  cl_run_store_close (store);
  remove_tree (root);
}

/* Phase 2 begins a run whose folder cannot be completed. */
static void
child_begin (const char *root)
{
  if (root)
    {
      child_store = cl_run_store_open (root, NULL);
      ClSnapshot *s = synthetic (10, 0, 0, 0, config_a, 10);
      cl_run_store_begin (child_store, s, NULL, NULL);
      cl_run_store_finish (child_store, s, NULL);
      cl_snapshot_unref (s);
      return;
    }
  ClSnapshot *s = synthetic (0, 0, 0, 0, config_a, 10);
  cl_run_store_begin (child_store, s, "never made", NULL);
}

static void
test_crash_mid_begin (void)
{
  g_autofree char *root = tmp_dir ();
  /* the CSV headers fit, run.ini (about 240 bytes with the comment) does not */
  crash_child_with_limit (child_begin, root, 200);
  g_assert_cmpint (count_entries (root, ".new-"), ==, 1);
  GError *error = NULL;
  ClRunStore *store = cl_run_store_open (root, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_entries (root, ".new-"), ==, 0);
  GPtrArray *list = cl_run_store_list (store);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((ClRunInfo *) list->pdata[0])->label, ==, "Run 1");
  g_ptr_array_unref (list);
  cl_run_store_close (store);
  remove_tree (root);
}

/* A child records runs as fast as it can and is killed at a random moment, many times over:
 * every listed run must load, with rows that are an unbroken prefix of what was recorded. */
static void
test_crash_random_kill (void)
{
  g_autofree char *root = tmp_dir ();
  GRand *rand = g_rand_new_with_seed (12345);
  int kills = 0, total_runs = 0;
  for (int round = 0; round < 12; round++)
    {
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          ClRunStore *store = cl_run_store_open (root, NULL);
          for (int r = 0;; r++)
            {
              cl_run_store_begin (store, NULL, NULL, NULL);
              for (int n = 25; n <= 500; n += 25)
                {
                  ClSnapshot *s = synthetic (n, n / 25 * 3, n / 25, n / 100, config_a, 500);
                  cl_run_store_record (store, s, NULL);
                  cl_snapshot_unref (s);
                }
              ClSnapshot *s = synthetic (500, 60, 20, 5, config_a, 500);
              cl_run_store_finish (store, s, NULL);
              cl_snapshot_unref (s);
              if (r % 3 == 2)
                {
                  GPtrArray *list = cl_run_store_list (store);
                  cl_run_store_delete (store, ((ClRunInfo *) list->pdata[0])->id, NULL);
                  g_ptr_array_unref (list);
                }
            }
        }
      g_usleep ((gulong) g_rand_int_range (rand, 2000, 60000));
      kill (pid, SIGKILL);
      int status;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      kills += WIFSIGNALED (status);

      GError *error = NULL;
      ClRunStore *store = cl_run_store_open (root, &error);
      g_assert_no_error (error);
      GPtrArray *list = cl_run_store_list (store);
      for (guint i = 0; i < list->len; i++)
        {
          const ClRunInfo *r = list->pdata[i];
          g_assert_cmpint (r->status, !=, CL_RUN_STATUS_RUNNING);
          ClSnapshot *s = cl_run_store_load (store, r->id, &error);
          g_assert_no_error (error);
          g_assert_cmpint (s->n_rows, <=, 500);
          assert_synthetic_rows (s, s->n_rows, s->n_probes, s->n_cluster_rows, s->n_events);
          if (r->status == CL_RUN_STATUS_FINISHED)
            {
              g_assert_cmpint (s->n_rows, ==, 500);
              g_assert_cmpint (s->n_probes, ==, 60);
            }
          cl_snapshot_unref (s);
        }
      total_runs = (int) list->len;
      g_ptr_array_unref (list);
      cl_run_store_close (store);
      g_assert_cmpint (count_entries (root, ".new-"), ==, 0);
      g_assert_cmpint (count_entries (root, ".trash-"), ==, 0);
      g_assert_cmpint (count_entries (root, ".index.ini."), ==, 0);
    }
  g_test_message ("random kills: %d of 12 rounds killed a writing child; %d runs listed at the end", kills, total_runs);
  g_assert_cmpint (kills, ==, 12);
  g_rand_free (rand);
  remove_tree (root);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Opening a store of 300 runs reads one index, not 300 folders' files. */
static void
test_store_many (void)
{
  g_autofree char *root = tmp_dir ();
  GError *error = NULL;
  ClRunStore *store = cl_run_store_open (root, &error);
  ClSnapshot *s = synthetic (50, 6, 0, 1, config_a, 50);
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < 300; i++)
    {
      g_assert_nonnull (cl_run_store_begin (store, s, NULL, &error));
      g_assert_true (cl_run_store_finish (store, s, &error));
    }
  double make_ms = (g_get_monotonic_time () - t0) / 1000.0;
  cl_run_store_close (store);
  /* the cost of a periodic record: appending a few rows */
  store = cl_run_store_open (root, &error);
  cl_run_store_begin (store, NULL, NULL, &error);
  double worst_ms = 0, took[200];
  for (int n = 1; n <= 200; n++)
    {
      /* 5 new rows per call, a new probe every 10 calls */
      ClSnapshot *grow = synthetic (n * 5, n / 10 * 3, 0, 0, config_a, 1000);
      gint64 r0 = g_get_monotonic_time ();
      g_assert_true (cl_run_store_record (store, grow, &error));
      took[n - 1] = (g_get_monotonic_time () - r0) / 1000.0;
      worst_ms = MAX (worst_ms, took[n - 1]);
      cl_snapshot_unref (grow);
    }
  qsort (took, 200, sizeof (double), compare_double);
  cl_run_store_close (store);
  t0 = g_get_monotonic_time ();
  store = cl_run_store_open (root, &error);
  double open_ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_assert_no_error (error);
  GPtrArray *list = cl_run_store_list (store);
  g_assert_cmpuint (list->len, ==, 301);
  g_ptr_array_unref (list);
  cl_run_store_close (store);
  g_printerr ("# store: 300 runs made (begin + finish) in %.0f ms; open with 301 runs %.1f ms; record() of 5 rows "
              "with 301 runs listed: median %.2f ms, worst %.2f ms\n",
              make_ms, open_ms, took[100], worst_ms);
  cl_snapshot_unref (s);
  remove_tree (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runs/round-trip", test_round_trip);
  g_test_add_func ("/runs/read-headless", test_read_headless);
  g_test_add_func ("/runs/bad-files", test_bad_files);
  g_test_add_func ("/runs/scan", test_scan);
  g_test_add_func ("/runs/config-diff", test_config_diff);
  g_test_add_func ("/runs/store/persistence", test_store_persistence);
  g_test_add_func ("/runs/store/live-lock", test_store_live_lock);
  g_test_add_func ("/runs/store/crash-mid-append", test_crash_mid_append);
  g_test_add_func ("/runs/store/crash-mid-index", test_crash_mid_index);
  g_test_add_func ("/runs/store/crash-mid-begin", test_crash_mid_begin);
  g_test_add_func ("/runs/store/crash-random-kill", test_crash_random_kill);
  g_test_add_func ("/runs/store/many", test_store_many);
  return g_test_run ();
}
