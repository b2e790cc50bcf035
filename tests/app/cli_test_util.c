/* Helpers of the command-line tests: see cli_test_util.h. */
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

const char *
bin (void)
{
  const char *b = g_getenv ("CONTRASTLAB_BIN");
  g_assert_nonnull (b);
  return b;
}

/* Runs contrastlab with the given arguments; returns the exit status. */
int
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
  g_assert_true (
      g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e, &status, &error));
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

int
count_lines (const char *s)
{
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* Temporary folders, removed when the program ends (sweeps make many). */
GPtrArray *cli_tmp_dirs;

char *
tmp_dir (void)
{
  GError *error = NULL;
  char *d = g_dir_make_tmp ("contrastlab-cli-XXXXXX", &error);
  g_assert_no_error (error);
  if (!cli_tmp_dirs)
    cli_tmp_dirs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (cli_tmp_dirs, g_strdup (d));
  return d;
}

void
remove_tree (const char *path)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      for (const char *name; d && (name = g_dir_read_name (d));)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      if (d)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  GError *error = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

void
expect_bad_input (const char *must_mention, const char *out_dir, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  const char *fixed[] = { "--headless", "--steps", "2", "--set", "train.batch=16", "--out", out_dir };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (args, (gpointer) fixed[i]);
  va_list ap;
  va_start (ap, out_dir);
  for (const char *a; (a = va_arg (ap, const char *));)
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  expect_exit2 (must_mention, (const char *const *) args->pdata);
  /* Nothing half-written is left. */
  g_autofree char *csv = g_build_filename (out_dir, "metrics.csv", NULL);
  g_assert_false (g_file_test (csv, G_FILE_TEST_EXISTS));
  g_ptr_array_free (args, TRUE);
}

void
write_file (const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (p, data, (gssize) len, NULL));
}

/* The in-process sweep's sweep.csv (made once per test program). */
const char *
reference_sweep_csv (void)
{
  static char *csv = NULL;
  if (!csv)
    {
      g_autofree char *dir = tmp_dir ();
      g_autofree char *out = g_build_filename (dir, "in-process", NULL);
      g_autofree char *err = NULL;
      int code = run (NULL, &err, SWEEP_ARGS, "--out", out, NULL);
      g_test_message ("in-process sweep: %s", err);
      g_assert_cmpint (code, ==, 0);
      csv = read_text (out, "sweep.csv");
      g_assert_true (g_str_has_prefix (csv, "data.bits,train.seed,class,"));
      g_assert_nonnull (strstr (csv, ",class_mean,class_std,"));
      g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
      g_assert_true (g_str_has_suffix (lines[0], ",seeds"));
      g_assert_true (g_str_has_suffix (lines[1], ",2"));
      g_assert_cmpint (count_lines (csv), ==, 5);
    }
  return csv;
}

/* --plan: writes DIR/sweep.plan, prints the number of cells, trains nothing. */
char *
make_plan (const char *parent, const char *name)
{
  char *out = g_build_filename (parent, name, NULL);
  g_autofree char *stdout_text = NULL;
  g_autofree char *err = NULL;
  int code = run (&stdout_text, &err, SWEEP_ARGS, "--out", out, "--plan", NULL);
  g_test_message ("--plan: %s", err);
  g_assert_cmpint (code, ==, 0);
  g_assert_cmpstr (stdout_text, ==, "4\n");
  g_autofree char *runs = g_build_filename (out, "runs", NULL);
  g_assert_false (g_file_test (runs, G_FILE_TEST_EXISTS));
  return out;
}

int
run_in (const char *out, char **err, const char *first, ...)
{
  /* --headless --out DIR then the given arguments */
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, "--headless");
  g_ptr_array_add (argv, "--out");
  g_ptr_array_add (argv, (gpointer) out);
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  const char **a = (const char **) argv->pdata;
  int code = run (NULL, err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
  g_ptr_array_free (argv, TRUE);
  return code;
}

GPid
spawn_async (const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) bin ());
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  GPid pid = 0;
  GError *error = NULL;
  g_assert_true (g_spawn_async (NULL, (char **) argv->pdata, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  g_ptr_array_free (argv, TRUE);
  return pid;
}

/* Lines of dir/name, 0 when it does not exist yet. */
int
file_lines (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return count_lines (text);
}

/* Waits (up to 60 s) until dir/metrics.csv holds at least rows data rows; FALSE if pid ended first. */
gboolean
wait_rows (GPid pid, const char *dir, int rows)
{
  for (int i = 0; i < 6000; i++)
    {
      if (file_lines (dir, "metrics.csv") >= 1 + rows)
        return TRUE;
      int status;
      if (waitpid (pid, &status, WNOHANG) == pid)
        return FALSE;
      g_usleep (10000);
    }
  return FALSE;
}

void
kill_and_reap (GPid pid)
{
  kill (pid, SIGKILL);
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_spawn_close_pid (pid);
}

/* Every line of a CSV is whole: the file ends with a newline and each row has the header's
 * number of fields. */
void
assert_whole_rows (const char *dir, const char *name)
{
  g_autofree char *text = read_text (dir, name);
  g_assert_true (g_str_has_suffix (text, "\n"));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint fields = 0;
  for (int i = 0; lines[i] && *lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      if (i == 0)
        fields = g_strv_length (f);
      else
        g_assert_cmpuint (g_strv_length (f), ==, fields);
    }
}

/* Runs bin with args; asserts exit 2 and one line on stderr mentioning must_mention. */
void
expect_exit2 (const char *must_mention, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) bin ());
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  char *err = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                               &status, NULL));
  g_test_message ("stderr: %s", err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_cmpint (count_lines (err), ==, 1);
  g_assert_nonnull (strstr (err, must_mention));
  g_free (err);
  g_ptr_array_free (argv, TRUE);
}

void
cli_remove_tmp_dirs (void)
{
  for (guint i = 0; cli_tmp_dirs && i < cli_tmp_dirs->len; i++)
    remove_tree (cli_tmp_dirs->pdata[i]);
}
