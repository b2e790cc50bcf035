/* The crash-safe run-folder writer (cl_run_writer.h) and hostile run folders: the write order,
 * the lock against a second writer, kill -9 at random moments, reruns into a used folder, and
 * folders holding FIFOs, devices or junk metadata. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/store/cl_run_writer.h"
#include "engine/store/cl_runs.h"
#include "tests/engine/store/runs_fixture.h"

static const char config_b[] = "[data]\nkind=randbits\nbits=4\n\n[train]\nbatch=32\nsteps=600\nseed=22\n";

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
  return text;
}

static gboolean
exists (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  return g_file_test (p, G_FILE_TEST_EXISTS);
}

/* The one run found by scanning dir. */
static ClRunInfo *
scan_one (const char *dir)
{
  GError *error = NULL;
  GPtrArray *runs = cl_runs_scan_dir (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 1);
  ClRunInfo *info = cl_run_info_copy (runs->pdata[0]);
  g_ptr_array_unref (runs);
  return info;
}

/* Open writes info.ini (running), the headers and run.ini; the folder is a running run at once;
 * a second writer is refused with one line naming the folder and the writer's pid; finish makes
 * it finished with every row. */
static void
test_writer_lifecycle (void)
{
  g_autofree char *root = tmp_dir ();
  g_autofree char *dir = g_build_filename (root, "out", NULL);
  GError *error = NULL;
  ClRunWriter *w = cl_run_writer_open (dir, config_a, "ContrastLab test run", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (w);
  g_assert_true (exists (dir, "run.ini") && exists (dir, "metrics.csv") && exists (dir, "info.ini"));
  g_autofree char *ini = read_text (dir, "run.ini");
  g_assert_true (g_str_has_prefix (ini, "# ContrastLab test run\n"));
  g_assert_true (cl_run_folder_is_locked (dir));

  ClRunInfo *info = scan_one (dir);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_RUNNING);
  g_assert_cmpint (info->seed, ==, 3);
  cl_run_info_free (info);

  /* the second writer: refused, the first one's files untouched */
  ClRunWriter *w2 = cl_run_writer_open (dir, config_b, NULL, NULL, &error);
  g_assert_null (w2);
  g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_BUSY);
  g_assert_null (strchr (error->message, '\n'));
  g_assert_true (g_str_has_prefix (error->message, dir));
  g_autofree char *pid = g_strdup_printf ("process %ld", (long) getpid ());
  g_assert_nonnull (strstr (error->message, pid));
  g_test_message ("second writer: %s", error->message);
  g_clear_error (&error);
  g_autofree char *ini_after = read_text (dir, "run.ini");
  g_assert_cmpstr (ini_after, ==, ini);

  ClSnapshot *half = synthetic (100, 9, 4, 2, config_a, 300);
  g_assert_true (cl_run_writer_append (w, half, &error));
  g_assert_no_error (error);
  ClSnapshot *all = synthetic (300, 30, 12, 5, config_a, 300);
  all->step = 300;
  g_assert_true (
      cl_run_writer_finish (w, all, CL_RUN_STATUS_FINISHED, "ContrastLab test run: 300 steps", TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (cl_run_folder_is_locked (dir));
  info = scan_one (dir);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_FINISHED);
  g_assert_cmpint (info->steps, ==, 300);
  cl_run_info_free (info);
  ClSnapshot *back = cl_run_load (dir, &error);
  g_assert_no_error (error);
  assert_synthetic_rows (back, 300, 30, 12, 5);
  cl_snapshot_unref (back);

  /* a rerun into the folder replaces the earlier run entirely, figures included */
  g_autofree char *figures = g_build_filename (dir, "figures", NULL);
  g_assert_cmpint (g_mkdir_with_parents (figures, 0755), ==, 0);
  put (figures, "loss.png", "old figure");
  w = cl_run_writer_open (dir, config_b, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (exists (figures, "loss.png"));
  back = cl_run_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->n_rows, ==, 0);
  g_assert_cmpstr (back->config_ini, ==, config_b);
  cl_snapshot_unref (back);
  /* a writer freed unfinished leaves a stopped run */
  cl_run_writer_free (w);
  info = scan_one (dir);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_STOPPED);
  g_assert_cmpint (info->seed, ==, 22);
  cl_run_info_free (info);

  cl_snapshot_unref (half);
  cl_snapshot_unref (all);
  remove_tree (root);
}

/* The child: a run of 600 rows written 20 at a time as fast as the disk allows, each rerun into
 * the same folder; it never returns. */
static void G_GNUC_NORETURN
child_write_runs (const char *dir)
{
  for (;;)
    {
      ClRunWriter *w = cl_run_writer_open (dir, config_a, "ContrastLab test run", NULL, NULL);
      if (!w)
        _exit (3);
      for (int n = 20; n <= 600; n += 20)
        {
          ClSnapshot *s = synthetic (n, n / 20 * 3, n / 20, n / 100, config_a, 600);
          cl_run_writer_append (w, s, NULL);
          cl_snapshot_unref (s);
          g_usleep (200);
        }
      ClSnapshot *s = synthetic (600, 90, 30, 6, config_a, 600);
      s->step = 600;
      cl_run_writer_finish (w, s, CL_RUN_STATUS_FINISHED, "ContrastLab test run: 600 steps", TRUE, NULL);
      cl_snapshot_unref (s);
    }
}

/* kill -9 at random moments (>= 20 trials): the folder always reads back as one run, interrupted
 * (or finished, when the kill came between two runs) with rows that are an unbroken prefix of
 * what was written, and the next writer into it works. */
static void
test_writer_kill9 (void)
{
  g_autofree char *root = tmp_dir ();
  g_autofree char *dir = g_build_filename (root, "run", NULL);
  GRand *rand = g_rand_new_with_seed (20261207);
  const int trials = 24;
  int interrupted = 0, finished = 0, stopped = 0, rows_total = 0;
  /* The folder exists before the first child starts: a kill that comes before the child's
   * first mkdir (a 3 ms wait on a busy machine) then reads as "no run yet", not a missing folder. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int t = 0; t < trials; t++)
    {
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        child_write_runs (dir);
      /* at least one setup done: wait for the child to have written its first run.ini */
      g_usleep ((gulong) g_rand_int_range (rand, 3000, 90000));
      kill (pid, SIGKILL);
      int status = 0;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));

      GError *error = NULL;
      GPtrArray *runs = cl_runs_scan_dir (dir, &error);
      g_assert_no_error (error);
      if (runs->len == 0)
        {
          /* killed inside open, between removing the earlier run.ini and writing the new one:
           * the folder holds no run.ini, so it is not a run (and nothing mixed) */
          g_assert_false (exists (dir, "run.ini"));
          g_test_message ("trial %d: killed inside open (no run yet)", t);
        }
      else
        {
          g_assert_cmpuint (runs->len, ==, 1);
          const ClRunInfo *info = runs->pdata[0];
          g_assert_cmpint (info->status, !=, CL_RUN_STATUS_RUNNING);
          g_assert_cmpint (info->status, !=, CL_RUN_STATUS_DAMAGED);
          ClSnapshot *s = cl_run_load (dir, &error);
          g_assert_no_error (error);
          g_assert_cmpint (s->n_rows, <=, 600);
          /* whole rows only: every value read back is the one written */
          assert_synthetic_rows (s, s->n_rows, s->n_probes, s->n_cluster_rows, s->n_events);
          if (info->status == CL_RUN_STATUS_FINISHED)
            {
              g_assert_cmpint (s->n_rows, ==, 600);
              finished++;
            }
          else if (info->status == CL_RUN_STATUS_INTERRUPTED)
            {
              g_assert_cmpint (info->steps, ==, s->n_rows > 0 ? s->rows[s->n_rows - 1].step : info->steps);
              interrupted++;
            }
          else
            stopped++;
          rows_total += s->n_rows;
          cl_snapshot_unref (s);
        }
      g_ptr_array_unref (runs);
    }
  /* and a rerun into the folder that was killed last works */
  GError *error = NULL;
  ClRunWriter *w = cl_run_writer_open (dir, config_b, NULL, NULL, &error);
  g_assert_no_error (error);
  ClSnapshot *s = synthetic (40, 3, 0, 0, config_b, 40);
  s->step = 40;
  g_assert_true (cl_run_writer_finish (w, s, CL_RUN_STATUS_FINISHED, "rerun", TRUE, &error));
  g_assert_no_error (error);
  ClRunInfo *info = scan_one (dir);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_FINISHED);
  cl_run_info_free (info);
  ClSnapshot *back = cl_run_load (dir, &error);
  g_assert_no_error (error);
  assert_synthetic_rows (back, 40, 3, 0, 0);
  cl_snapshot_unref (back);
  cl_snapshot_unref (s);
  g_test_message ("kill -9: %d trials: %d interrupted, %d finished, %d stopped, %d before any run.ini; "
                  "%d whole rows read back",
                  trials, interrupted, finished, stopped, trials - interrupted - finished - stopped, rows_total);
  g_assert_cmpint (interrupted, >=, trials / 2);
  g_rand_free (rand);
  remove_tree (root);
}

/* A second process cannot write into a folder in use; it gets the one-line refusal. */
static void
test_writer_lock_across_processes (void)
{
  g_autofree char *root = tmp_dir ();
  GError *error = NULL;
  ClRunWriter *w = cl_run_writer_open (root, config_a, NULL, NULL, &error);
  g_assert_no_error (error);
  pid_t pid = fork ();
  if (pid == 0)
    {
      GError *e = NULL;
      ClRunWriter *w2 = cl_run_writer_open (root, config_b, NULL, NULL, &e);
      _exit (w2 == NULL && g_error_matches (e, CL_RUNS_ERROR, CL_RUNS_ERROR_BUSY) ? 0 : 1);
    }
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  cl_run_writer_free (w);
  remove_tree (root);
}

/* ------------------------------------------------------------ hostile folders */

static void
make_run (const char *dir)
{
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  put (dir, "run.ini", config_a);
  put (dir, "metrics.csv", "step,loss\n1,3.5\n2,3.4\n");
}

/* Issue 16 item 9: a FIFO as metrics.csv blocked forever, a symlink to /dev/zero grew memory
 * without bound, a junk info.ini hid the run. Now: never blocks, never reads a non-regular
 * file, lists such runs as damaged with the reason. */
static void
test_hostile_folders (void)
{
  g_autofree char *root = tmp_dir ();
  g_autofree char *fifo_run = g_build_filename (root, "fifo", NULL);
  g_autofree char *zero_run = g_build_filename (root, "zero", NULL);
  g_autofree char *junk_run = g_build_filename (root, "junk", NULL);
  g_autofree char *ini_fifo_run = g_build_filename (root, "inififo", NULL);
  g_autofree char *big_run = g_build_filename (root, "big", NULL);
  make_run (fifo_run);
  make_run (zero_run);
  make_run (junk_run);
  make_run (ini_fifo_run);
  make_run (big_run);
  g_autofree char *fifo = g_build_filename (fifo_run, "metrics.csv", NULL);
  g_unlink (fifo);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_autofree char *zero = g_build_filename (zero_run, "metrics.csv", NULL);
  g_unlink (zero);
  g_assert_cmpint (symlink ("/dev/zero", zero), ==, 0);
  put (junk_run, "info.ini", "\x01\x02 not an ini [[[\n");
  g_autofree char *ini_fifo = g_build_filename (ini_fifo_run, "run.ini", NULL);
  g_unlink (ini_fifo);
  g_assert_cmpint (mkfifo (ini_fifo, 0644), ==, 0);
  /* a run.ini past the size cap (sparse: no disk used) */
  g_autofree char *big = g_build_filename (big_run, "run.ini", NULL);
  int fd = open (big, O_WRONLY | O_TRUNC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) 64 << 20), ==, 0);
  close (fd);

  /* a watchdog: a blocking read fails the test instead of hanging it */
  alarm (20);
  GError *error = NULL;
  GPtrArray *runs = cl_runs_scan_dir (root, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 5);
  for (guint i = 0; i < runs->len; i++)
    {
      const ClRunInfo *r = runs->pdata[i];
      g_test_message ("%s: %s (%s)", r->id, cl_run_status_name (r->status), r->problem ? r->problem : "");
      g_assert_cmpint (r->status, ==, CL_RUN_STATUS_DAMAGED);
      g_assert_nonnull (r->problem);
      g_assert_null (strchr (r->problem, '\n'));
      g_assert_true (g_str_has_prefix (r->problem, r->path));
    }
  g_ptr_array_unref (runs);

  const char *unreadable[] = { fifo_run, zero_run, ini_fifo_run, big_run };
  for (gsize i = 0; i < G_N_ELEMENTS (unreadable); i++)
    {
      ClSnapshot *s = cl_run_load (unreadable[i], &error);
      g_assert_null (s);
      g_assert_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE);
      g_assert_true (strstr (error->message, "not a regular file") || strstr (error->message, "too large"));
      g_clear_error (&error);
    }
  /* the junk info.ini does not stop the rows from loading */
  ClSnapshot *s = cl_run_load (junk_run, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_rows, ==, 2);
  cl_snapshot_unref (s);
  alarm (0);
  remove_tree (root);
}

/* The store lists a run whose info.ini is junk as damaged (it used to vanish). */
static void
test_store_lists_damaged (void)
{
  g_autofree char *root = tmp_dir ();
  GError *error = NULL;
  ClRunStore *store = cl_run_store_open (root, &error);
  ClSnapshot *s = synthetic (50, 6, 0, 0, config_a, 50);
  s->step = 50;
  g_autofree char *id = g_strdup (cl_run_store_begin (store, s, NULL, &error));
  g_assert_true (cl_run_store_finish (store, s, &error));
  cl_run_store_close (store);
  g_autofree char *run = g_build_filename (root, id, NULL);
  put (run, "info.ini", "junk\n");
  g_autofree char *index = g_build_filename (root, "index.ini", NULL);
  g_unlink (index); /* the index is rebuilt from the folders */
  store = cl_run_store_open (root, &error);
  g_assert_no_error (error);
  ClRunInfo *info = cl_run_store_lookup (store, id);
  g_assert_nonnull (info);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_DAMAGED);
  g_assert_cmpint (info->steps, ==, 50);
  g_assert_cmpint (info->seed, ==, 3);
  g_assert_nonnull (info->problem);
  ClSnapshot *back = cl_run_store_load (store, id, &error);
  g_assert_no_error (error);
  assert_synthetic_rows (back, 50, 6, 0, 0);
  cl_snapshot_unref (back);
  cl_run_info_free (info);
  cl_run_store_close (store);
  cl_snapshot_unref (s);
  remove_tree (root);
}

/* A folder the headless CLI was writing when it was killed (its own header, no info.ini, no
 * live lock) is listed as interrupted with the step of its last whole row; with its lock held,
 * as running. */
static void
test_headless_in_progress (void)
{
  g_autofree char *root = tmp_dir ();
  g_autofree char *ini =
      g_strdup_printf ("# ContrastLab 0.1.0 headless run (in progress, or stopped before its end)\n%s", config_a);
  put (root, "run.ini", ini);
  put (root, "metrics.csv", "step,seconds,loss\n1,0.1,5\n2,0.2,4.9\n3,0.");
  ClRunInfo *info = scan_one (root);
  g_assert_cmpint (info->status, ==, CL_RUN_STATUS_INTERRUPTED);
  g_assert_cmpint (info->steps, ==, 2);
  cl_run_info_free (info);
  g_autofree char *lock_path = g_build_filename (root, ".contrastlab.lock", NULL);
  int fd = open (lock_path, O_RDWR | O_CREAT, 0644);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  pid_t pid = fork ();
  if (pid == 0)
    {
      /* another process sees the lock held */
      ClRunInfo *seen = scan_one (root);
      _exit (seen->status == CL_RUN_STATUS_RUNNING ? 0 : 1);
    }
  int status = 0;
  waitpid (pid, &status, 0);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  close (fd);
  remove_tree (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/run-writer/lifecycle", test_writer_lifecycle);
  g_test_add_func ("/run-writer/lock-across-processes", test_writer_lock_across_processes);
  g_test_add_func ("/run-writer/kill9", test_writer_kill9);
  g_test_add_func ("/runs/hostile-folders", test_hostile_folders);
  g_test_add_func ("/runs/headless-in-progress", test_headless_in_progress);
  g_test_add_func ("/runs/store/lists-damaged", test_store_lists_damaged);
  return g_test_run ();
}
