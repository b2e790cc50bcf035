/* The window following a sweep that other processes are filling: done/total and running cells,
 * the figure's rows, finished cells' runs in the run list, polling that stops at the end; all
 * against cells run by the real CLI binary. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "app/cl_sweep_follow.h"
#include "app/cl_window.h"
#include "app/cl_window_private.h"
#include "tests/app/gui_test_util.h"

static void
cli (const char *out, const char *first, ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) g_getenv ("CONTRASTLAB_BIN"));
  g_ptr_array_add (argv, "--headless");
  g_ptr_array_add (argv, "--out");
  g_ptr_array_add (argv, (gpointer) out);
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  GError *error = NULL;
  g_autofree char *err = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                               &status, &error));
  g_assert_no_error (error);
  g_test_message ("%s", err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_ptr_array_free (argv, TRUE);
}

typedef struct
{
  GtkWindow *follow;
  int want;
} Wait;

static gboolean
finished_at_least (gpointer data)
{
  Wait *w = data;
  int finished, running, total;
  cl_sweep_follow_get_counts (w->follow, &finished, &running, &total);
  return finished >= w->want;
}

static void
test_follow (void)
{
  GError *error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("contrastlab-follow-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *dir = g_build_filename (tmp, "sweep", NULL);
  cli (dir, "--set", "train.batch=16", "--set", "probe.every=0", "--set", "probe.images=100", "--steps", "3", "--sweep",
       "data.bits=0,3", "--sweep", "loss.temperature=0.1,0.2", "--plan", NULL);
  cli (dir, "--cell", "0", NULL);
  cli (dir, "--cell", "1", NULL);
  /* cell 2 "running": its folder locked as the CLI locks it */
  g_autofree char *cell2 = g_build_filename (dir, "runs", "data.bits=3,loss.temperature=0.1", NULL);
  g_assert_cmpint (g_mkdir_with_parents (cell2, 0755), ==, 0);
  g_autofree char *lock_path = g_build_filename (cell2, ".contrastlab.lock", NULL);
  int lock = open (lock_path, O_RDWR | O_CREAT, 0644);
  g_assert_cmpint (lock, >=, 0);
  g_assert_cmpint (flock (lock, LOCK_EX | LOCK_NB), ==, 0);

  ClConfig cfg;
  gui_test_config (&cfg, 16, 4);
  cfg.probe_every = 0;
  ClWindow *win = gui_present_window (&cfg, -1);
  guint runs_before = cl_window_get_n_runs (win);
  g_assert_true (cl_window_open_runs_folder (win, dir, &error));
  g_assert_no_error (error);
  GtkWindow *follow = cl_sweep_follow_find (win, dir);
  g_assert_nonnull (follow);
  int finished, running, total;
  cl_sweep_follow_get_counts (follow, &finished, &running, &total);
  g_assert_cmpint (finished, ==, 2);
  g_assert_cmpint (running, ==, 1);
  g_assert_cmpint (total, ==, 4);
  g_assert_true (g_str_has_prefix (cl_sweep_follow_get_status (follow), "2 of 4 cells finished, 1 running"));
  g_assert_true (cl_sweep_follow_is_polling (follow));
  g_assert_cmpuint (cl_window_get_n_runs (win), ==, runs_before + 2);
  /* opening it again presents the same window */
  g_assert_true (cl_window_open_runs_folder (win, dir, &error));
  g_assert_true (cl_sweep_follow_find (win, dir) == follow);

  const char *hold = g_getenv ("CL_SWEEP_FOLLOW_HOLD_MS");
  if (hold)
    gui_spin_ms ((int) g_ascii_strtoll (hold, NULL, 10));

  /* The rest of the cells finish while the window is open: it notices on its own. */
  close (lock);
  cli (dir, "--cell", "2", NULL);
  Wait w = { follow, 3 };
  g_assert_true (gui_spin_until (finished_at_least, &w, 3.0 * CL_SWEEP_FOLLOW_POLL_MS / 1000));
  g_assert_cmpuint (cl_window_get_n_runs (win), ==, runs_before + 3);
  g_assert_true (g_str_has_prefix (cl_sweep_follow_get_status (follow), "3 of 4 cells finished, 0 running"));
  cli (dir, "--cell", "3", NULL);
  w.want = 4;
  g_assert_true (gui_spin_until (finished_at_least, &w, 3.0 * CL_SWEEP_FOLLOW_POLL_MS / 1000));
  g_assert_cmpstr (cl_sweep_follow_get_status (follow), ==, "All 4 cells finished");
  g_assert_false (cl_sweep_follow_is_polling (follow));
  g_assert_cmpuint (cl_window_get_n_runs (win), ==, runs_before + 4);

  /* A finished sweep opens as before: no follow window. */
  gtk_window_destroy (follow);
  gui_spin_ms (50);
  g_assert_null (cl_sweep_follow_find (win, dir));
  g_assert_false (cl_sweep_follow_is_filling (dir));
  g_assert_true (cl_window_open_runs_folder (win, dir, &error));
  g_assert_null (cl_sweep_follow_find (win, dir));
  gtk_window_destroy (GTK_WINDOW (win));
  gui_spin_ms (50);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", tmp);
  g_assert_true (g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep-follow/fills-in", test_follow);
  return g_test_run ();
}
