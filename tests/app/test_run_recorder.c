/* The run recorder without a display (no GTK in this program): a short run recorded through the
 * worker and on the calling thread lands on disk whole; queued writes of an earlier run never
 * land in the next; write failures are reported and training's rows after them still land; a
 * process that dies mid-run leaves a run the next recorder lists as interrupted with its rows. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cl_run_recorder.h"
#include "tests/engine/store/runs_fixture.h"

#define CONFIG_A "[data]\nkind=randbits\n\n[train]\nseed=1\n"
#define CONFIG_B "[data]\nkind=randbits\n\n[train]\nseed=2\n"

typedef struct
{
  int changed;
  int failed;
  char *current;
  guint n_runs;
  char *last_error;
} Seen;

static void
on_changed (ClRunRecorder *rec, GPtrArray *list, const char *current, Seen *seen)
{
  (void) rec;
  seen->changed++;
  g_free (seen->current);
  seen->current = g_strdup (current);
  seen->n_runs = list->len;
}

static void
on_failed (ClRunRecorder *rec, const GError *error, Seen *seen)
{
  (void) rec;
  seen->failed++;
  g_free (seen->last_error);
  seen->last_error = g_strdup (error->message);
}

static ClRunRecorder *
recorder_in (const char *dir, Seen *seen)
{
  GError *error = NULL;
  ClRunRecorder *rec = cl_run_recorder_new (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rec);
  memset (seen, 0, sizeof *seen);
  g_signal_connect (rec, "changed", G_CALLBACK (on_changed), seen);
  g_signal_connect (rec, "write-failed", G_CALLBACK (on_failed), seen);
  return rec;
}

/* Runs the main context until `changed` reached want (the queued writes' results). */
static void
wait_changed (Seen *seen, int want)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (seen->changed < want && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpint (seen->changed, >=, want);
}

static ClRunInfo *
only_run (ClRunRecorder *rec, guint index)
{
  GPtrArray *list = cl_run_recorder_list (rec, NULL);
  g_assert_cmpuint (index, <, list->len);
  ClRunInfo *info = cl_run_info_copy (list->pdata[index]);
  g_ptr_array_unref (list);
  return info;
}

static void
assert_folder (const char *path, int n_rows, int n_probes, int n_clusters, int n_events)
{
  GError *error = NULL;
  ClSnapshot *back = cl_run_load (path, &error);
  g_assert_no_error (error);
  assert_synthetic_rows (back, n_rows, n_probes, n_clusters, n_events);
  cl_snapshot_unref (back);
}

/* Whole rows in a run folder's CSV file (the header line not counted). */
static int
csv_rows (const char *run, const char *name)
{
  g_autofree char *path = g_build_filename (run, name, NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  int lines = 0;
  for (const char *c = text; *c; c++)
    lines += *c == '\n';
  g_assert_cmpint (lines, >=, 1);
  return lines - 1;
}

/* A short run: begun, three queued writes (growing), one now, then the end. Everything the last
 * snapshot held is on disk, the run is finished, and "changed" said so. */
static void
test_short_run (void)
{
  g_autofree char *dir = tmp_dir ();
  Seen seen;
  ClRunRecorder *rec = recorder_in (dir, &seen);
  g_assert_false (cl_run_recorder_is_recording (rec));
  g_autoptr (ClSnapshot) empty = synthetic (0, 0, 0, 0, CONFIG_A, 40);
  /* Nothing is recorded before a run begins. */
  cl_run_recorder_record (rec, empty, CL_RECORD_NOW);
  g_assert_cmpint (seen.changed, ==, 0);
  GError *error = NULL;
  g_assert_true (cl_run_recorder_begin (rec, empty, "short", &error));
  g_assert_no_error (error);
  g_assert_true (cl_run_recorder_is_recording (rec));
  g_assert_cmpint (seen.changed, ==, 1);
  g_assert_nonnull (seen.current);
  g_assert_cmpuint (seen.n_runs, ==, 1);
  g_autofree char *id = g_strdup (seen.current);

  for (int i = 1; i <= 3; i++)
    {
      g_autoptr (ClSnapshot) s = synthetic (10 * i, 3 * i, 4 * i, i, CONFIG_A, 40);
      cl_run_recorder_record (rec, s, CL_RECORD_QUEUE);
    }
  wait_changed (&seen, 4);
  g_autoptr (ClRunInfo) mid = only_run (rec, 0);
  g_assert_cmpstr (mid->id, ==, id);
  g_assert_cmpint (mid->status, ==, CL_RUN_STATUS_RUNNING);
  g_assert_cmpint (mid->steps, ==, 30);
  assert_folder (mid->path, 30, 9, 12, 3);

  g_autoptr (ClSnapshot) more = synthetic (35, 10, 12, 3, CONFIG_A, 40);
  cl_run_recorder_record (rec, more, CL_RECORD_NOW);
  g_assert_cmpint (seen.changed, ==, 5);
  assert_folder (mid->path, 35, 10, 12, 3);

  g_autoptr (ClSnapshot) last = synthetic (40, 12, 16, 4, CONFIG_A, 40);
  cl_run_recorder_record (rec, last, CL_RECORD_END);
  g_assert_false (cl_run_recorder_is_recording (rec));
  g_assert_null (seen.current);
  g_autoptr (ClRunInfo) done = only_run (rec, 0);
  g_assert_cmpint (done->status, ==, CL_RUN_STATUS_FINISHED);
  g_assert_cmpstr (done->label, ==, "short");
  g_assert_cmpint (done->steps, ==, 40);
  assert_folder (done->path, 40, 12, 16, 4);
  g_autofree char *ini = NULL;
  g_autofree char *ini_path = g_build_filename (done->path, "run.ini", NULL);
  g_assert_true (g_file_get_contents (ini_path, &ini, NULL, NULL));
  g_assert_nonnull (strstr (ini, "seed=1"));
  /* After the end nothing more is written (a late tick of a timer). */
  int changed = seen.changed;
  g_autoptr (ClSnapshot) late = synthetic (45, 12, 16, 4, CONFIG_A, 40);
  cl_run_recorder_record (rec, late, CL_RECORD_QUEUE);
  cl_run_recorder_record (rec, late, CL_RECORD_NOW);
  g_assert_cmpint (seen.changed, ==, changed);
  g_assert_cmpint (seen.failed, ==, 0);
  gint64 count, total, max;
  cl_run_recorder_get_stats (rec, &count, &total, &max);
  g_assert_cmpint (count, ==, 3); /* begin, the NOW write, the end: the queued ones cost a push */
  g_object_unref (rec);
  /* Reopened: the same run, finished, its rows whole. */
  rec = recorder_in (dir, &seen);
  g_autoptr (ClRunInfo) again = only_run (rec, 0);
  g_assert_cmpint (again->status, ==, CL_RUN_STATUS_FINISHED);
  assert_folder (again->path, 40, 12, 16, 4);
  g_object_unref (rec);
  remove_tree (dir);
}

/* Writes queued for run A (its snapshot has more rows) wait while run B begins: they are dropped,
 * not appended to B (without the check B's metrics.csv would start with A's 50 rows). */
static void
test_queued_writes_stay_with_their_run (void)
{
  g_autofree char *dir = tmp_dir ();
  Seen seen;
  ClRunRecorder *rec = recorder_in (dir, &seen);
  g_assert_true (cl_run_recorder_begin (rec, NULL, "A", NULL));
  g_autoptr (ClSnapshot) a = synthetic (50, 6, 8, 2, CONFIG_A, 1000);
  cl_run_recorder_hold_writes (rec, TRUE);
  cl_run_recorder_record (rec, a, CL_RECORD_QUEUE);
  cl_run_recorder_record (rec, a, CL_RECORD_QUEUE);
  g_assert_true (cl_run_recorder_begin (rec, NULL, "B", NULL));
  g_autofree char *b_id = g_strdup (seen.current);
  cl_run_recorder_hold_writes (rec, FALSE);
  wait_changed (&seen, 2 + 2);
  g_assert_cmpint (seen.failed, ==, 0);
  g_autoptr (ClRunInfo) run_a = only_run (rec, 0);
  g_autoptr (ClRunInfo) run_b = only_run (rec, 1);
  g_assert_cmpstr (run_b->id, ==, b_id);
  g_assert_cmpstr (run_a->label, ==, "A");
  g_assert_cmpint (run_a->status, ==, CL_RUN_STATUS_STOPPED);
  g_assert_cmpint (csv_rows (run_a->path, "metrics.csv"), ==, 0);
  /* B got nothing of A's. */
  g_assert_cmpint (csv_rows (run_b->path, "metrics.csv"), ==, 0);
  g_assert_cmpint (csv_rows (run_b->path, "probes.csv"), ==, 0);
  /* B's own rows land. */
  g_autoptr (ClSnapshot) b = synthetic (5, 0, 0, 0, CONFIG_B, 1000);
  cl_run_recorder_record (rec, b, CL_RECORD_QUEUE);
  wait_changed (&seen, 5);
  assert_folder (run_b->path, 5, 0, 0, 0);
  g_object_unref (rec);
  remove_tree (dir);
}

/* A write that fails (the run's folder vanished under it) is reported through "write-failed",
 * once per failing write, and the recorder goes on; a store that cannot be opened is refused
 * with the folder named; begin refuses when the store's folder is gone. */
static void
test_write_failures (void)
{
  g_autofree char *dir = tmp_dir ();
  Seen seen;
  ClRunRecorder *rec = recorder_in (dir, &seen);
  g_assert_true (cl_run_recorder_begin (rec, NULL, "doomed", NULL));
  g_autoptr (ClSnapshot) first = synthetic (4, 0, 0, 0, CONFIG_A, 100);
  cl_run_recorder_record (rec, first, CL_RECORD_NOW);
  g_assert_cmpint (seen.failed, ==, 0);
  g_autoptr (ClRunInfo) info = only_run (rec, 0);
  remove_tree (info->path);
  /* A new configuration (a live change) rewrites run.ini in the run's folder: it cannot. */
  g_autoptr (ClSnapshot) second = synthetic (8, 0, 0, 0, CONFIG_B, 100);
  cl_run_recorder_record (rec, second, CL_RECORD_QUEUE);
  wait_changed (&seen, 3);
  g_assert_cmpint (seen.failed, ==, 1);
  g_assert_nonnull (strstr (seen.last_error, info->id));
  g_assert_true (cl_run_recorder_is_recording (rec));
  /* The end fails the same way, is reported, and the run is over. */
  cl_run_recorder_record (rec, second, CL_RECORD_END);
  g_assert_cmpint (seen.failed, ==, 2);
  g_assert_false (cl_run_recorder_is_recording (rec));
  g_object_unref (rec);

  /* The store's folder is a file: refused, naming it. */
  g_autofree char *file = g_build_filename (dir, "a-file", NULL);
  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  GError *error = NULL;
  g_assert_null (cl_run_recorder_new (file, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "a-file"));
  g_clear_error (&error);

  /* Begin when the store's folder went away: FALSE with a reason, nothing recorded. */
  g_autofree char *gone = g_build_filename (dir, "gone", NULL);
  rec = recorder_in (gone, &seen);
  remove_tree (gone);
  g_assert_true (g_file_set_contents (gone, "now a file", -1, NULL));
  g_assert_false (cl_run_recorder_begin (rec, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (cl_run_recorder_is_recording (rec));
  g_autoptr (ClSnapshot) rows = synthetic (3, 0, 0, 0, CONFIG_A, 100);
  cl_run_recorder_record (rec, rows, CL_RECORD_NOW);
  g_assert_cmpint (seen.failed, ==, 0);
  g_object_unref (rec);
  g_unlink (gone);
  remove_tree (dir);
}

/* A process recording a run dies without closing anything: the next recorder lists that run as
 * interrupted, at the step of its last whole row, with every row written before the death. */
static void
test_crash_leaves_interrupted_run (void)
{
  const char *dir = g_getenv ("RECORDER_CRASH_DIR");
  if (g_test_subprocess ())
    {
      Seen seen;
      ClRunRecorder *rec = recorder_in (dir, &seen);
      g_assert_true (cl_run_recorder_begin (rec, NULL, "crashed", NULL));
      g_autoptr (ClSnapshot) s = synthetic (20, 4, 4, 1, CONFIG_A, 1000);
      cl_run_recorder_record (rec, s, CL_RECORD_QUEUE);
      wait_changed (&seen, 2);
      g_assert_cmpint (seen.failed, ==, 0);
      _exit (0); /* no unref, no close: as a killed process */
    }
  const char *store = dir;
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  Seen seen;
  ClRunRecorder *rec = recorder_in (store, &seen);
  g_autoptr (ClRunInfo) info = only_run (rec, 0);
  g_assert_cmpstr (info->label, ==, "crashed");
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_INTERRUPTED);
  g_assert_cmpint (info->steps, ==, 20);
  assert_folder (info->path, 20, 4, 4, 1);
  g_assert_false (cl_run_recorder_is_recording (rec));
  g_object_unref (rec);
  remove_tree (store);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* No display is needed: this program does not link GTK. */
  g_unsetenv ("DISPLAY");
  g_unsetenv ("WAYLAND_DISPLAY");
  /* The crash test's store, named before any thread exists (its subprocess inherits it). */
  g_autofree char *crash_dir = g_test_subprocess () ? NULL : tmp_dir ();
  if (crash_dir)
    g_setenv ("RECORDER_CRASH_DIR", crash_dir, TRUE);
  g_test_add_func ("/run-recorder/short-run", test_short_run);
  g_test_add_func ("/run-recorder/queued-writes-stay-with-their-run", test_queued_writes_stay_with_their_run);
  g_test_add_func ("/run-recorder/write-failures", test_write_failures);
  g_test_add_func ("/run-recorder/crash-leaves-interrupted-run", test_crash_leaves_interrupted_run);
  return g_test_run ();
}
