/* engine/base/cl_file: the one atomic write and the bounded regular-file read. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/cl_file.h"

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static char *
listing (const char *dir)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  char *joined = g_strjoinv (",", (char **) names->pdata);
  g_ptr_array_unref (names);
  return joined;
}

static void
test_replace (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cl-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.txt", NULL);
  GError *error = NULL;
  g_assert_true (cl_file_replace (path, "one", -1, CL_FILE_REPLACE_DEFAULT, &error));
  g_assert_true (cl_file_replace (path, "two\0x", 5, CL_FILE_REPLACE_NO_SYNC, &error));
  g_assert_no_error (error);
  char *text;
  gsize len;
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_cmpmem (text, len, "two\0x", 5);
  g_free (text);
  /* exclusive: an existing target is refused and left alone */
  g_assert_false (cl_file_replace (path, "three", -1, CL_FILE_REPLACE_EXCLUSIVE, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  /* a folder or a FIFO is never replaced */
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_assert_false (cl_file_replace (sub, "x", -1, CL_FILE_REPLACE_DEFAULT, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_clear_error (&error);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_false (cl_file_replace (fifo, "x", -1, CL_FILE_REPLACE_DEFAULT, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* no temp file left by any of this */
  g_autofree char *names = listing (dir);
  g_assert_cmpstr (names, ==, "a.txt,fifo,sub");
  /* a missing folder: the error names the target */
  g_autofree char *nowhere = g_build_filename (dir, "no", "b.txt", NULL);
  g_assert_false (cl_file_replace (nowhere, "x", -1, CL_FILE_REPLACE_DEFAULT, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, nowhere));
  g_clear_error (&error);
  g_assert_true (cl_atomic_file_is_temp (".a.txt.Ab12Cd", "a.txt"));
  g_assert_true (cl_atomic_file_is_temp ("a.txt.Ab12Cd", "a.txt"));
  g_assert_false (cl_atomic_file_is_temp ("a.txt.bak", "a.txt"));
  g_unlink (path);
  g_unlink (fifo);
  g_rmdir (sub);
  g_rmdir (dir);
}

static void
test_read_regular (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cl-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.txt", NULL);
  g_assert_true (g_file_set_contents (path, "hello", -1, NULL));
  char *data = NULL;
  gsize len = 0;
  GError *error = NULL;
  g_assert_true (cl_file_read_regular (path, 5, &data, &len, &error));
  g_assert_cmpstr (data, ==, "hello");
  g_assert_cmpuint (len, ==, 5);
  g_free (data);
  g_assert_false (cl_file_read_regular (path, 4, &data, &len, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "too large"));
  g_clear_error (&error);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_autofree char *zero = g_build_filename (dir, "zero", NULL);
  g_assert_cmpint (symlink ("/dev/zero", zero), ==, 0);
  alarm (20); /* a blocking open would hang here */
  g_assert_false (cl_file_read_regular (fifo, 100, &data, &len, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);
  g_assert_false (cl_file_read_regular (zero, 100, &data, &len, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);
  g_assert_false (cl_file_read_regular (dir, 100, &data, &len, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_clear_error (&error);
  alarm (0);
  g_unlink (path);
  g_unlink (fifo);
  g_unlink (zero);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/file/replace", test_replace);
  g_test_add_func ("/file/read-regular", test_read_regular);
  return g_test_run ();
}
