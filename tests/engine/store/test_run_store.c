/* The run store (the window's crash-safe run list): persistence across restarts, the live lock,
 * crashes during an append, an index write or a begin (children killed at a file-size limit or
 * at random), many runs. */
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
  g_test_add_func ("/runs/store/persistence", test_store_persistence);
  g_test_add_func ("/runs/store/live-lock", test_store_live_lock);
  g_test_add_func ("/runs/store/crash-mid-append", test_crash_mid_append);
  g_test_add_func ("/runs/store/crash-mid-index", test_crash_mid_index);
  g_test_add_func ("/runs/store/crash-mid-begin", test_crash_mid_begin);
  g_test_add_func ("/runs/store/crash-random-kill", test_crash_random_kill);
  g_test_add_func ("/runs/store/many", test_store_many);
  return g_test_run ();
}
