/* The app's remembered state: app/cl_app_state.h says what and why not GSettings. */
#include "app/cl_app_state.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "engine/base/cl_file.h"

char *
cl_app_state_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "contrastlab", "state.ini", NULL);
}

static GKeyFile *
load (void)
{
  GKeyFile *kf = g_key_file_new ();
  g_autofree char *path = cl_app_state_path ();
  g_autofree char *text = NULL;
  gsize len = 0;
  /* A damaged or foreign file is ignored (and replaced by the next write), never fatal. */
  if (cl_file_read_regular (path, 1 << 20, &text, &len, NULL))
    g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, NULL);
  return kf;
}

char *
cl_app_state_get (const char *group, const char *key)
{
  g_autoptr (GKeyFile) kf = load ();
  return g_key_file_get_string (kf, group, key, NULL);
}

gboolean
cl_app_state_set (const char *group, const char *key, const char *value, GError **error)
{
  g_autoptr (GKeyFile) kf = load ();
  if (value)
    g_key_file_set_string (kf, group, key, value);
  else if (!g_key_file_remove_key (kf, group, key, NULL))
    return TRUE;
  g_autofree char *path = cl_app_state_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "Cannot create %s: %s", dir, g_strerror (err));
      return FALSE;
    }
  gsize len = 0;
  g_autofree char *text = g_key_file_to_data (kf, &len, NULL);
  return cl_file_replace (path, text, (gssize) len, CL_FILE_REPLACE_NO_SYNC, error);
}

char *
cl_app_state_export_folder (const char *kind)
{
  g_autofree char *key = g_strdup_printf ("last-%s-folder", kind);
  char *last = cl_app_state_get ("export", key);
  if (last && g_file_test (last, G_FILE_TEST_IS_DIR))
    return last;
  g_free (last);
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  if (pictures && g_file_test (pictures, G_FILE_TEST_IS_DIR))
    return g_strdup (pictures);
  return g_strdup (g_get_home_dir ());
}

void
cl_app_state_remember_export_folder (const char *kind, const char *folder)
{
  g_autofree char *key = g_strdup_printf ("last-%s-folder", kind);
  GError *error = NULL;
  if (!cl_app_state_set ("export", key, folder, &error))
    {
      g_message ("contrastlab: the export folder is not remembered: %s", error->message);
      g_error_free (error);
    }
}
