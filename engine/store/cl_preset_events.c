#include "engine/store/cl_preset_events.h"

#include <string.h>

#include "engine/base/cl_params.h"
#include "engine/store/cl_png_text.h"
#include "engine/store/cl_runs_private.h"

/* As cl_csv_read_file does, through the same column specs: one reader for events. */
static ClEvent *
events_from_rows (GArray *rows, int *n_events)
{
  *n_events = (int) rows->len;
  if (rows->len == 0)
    {
      g_array_unref (rows);
      return NULL;
    }
  return (ClEvent *) g_array_free (rows, FALSE);
}

static void
as_config_error (GError **error, const char *source)
{
  if (error && *error && (*error)->domain != CL_CONFIG_ERROR)
    {
      GError *e = g_error_new (CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "%s: %s", source, (*error)->message);
      g_clear_error (error);
      g_propagate_error (error, e);
    }
}

ClEvent *
cl_events_parse (const char *text, const char *source, int *n_events, GError **error)
{
  *n_events = 0;
  g_autofree char *copy = g_strdup (text);
  GArray *rows = cl_csv_read_buffer (copy, strlen (copy), source, cl_event_cols, G_N_ELEMENTS (cl_event_cols),
                                     sizeof (ClEvent), error);
  if (!rows)
    {
      as_config_error (error, source);
      return NULL;
    }
  for (guint i = 1; i < rows->len; i++)
    if (g_array_index (rows, ClEvent, i).step < g_array_index (rows, ClEvent, i - 1).step)
      {
        g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "%s: events are not in step order (row %u)",
                     source, i + 1);
        g_array_unref (rows);
        return NULL;
      }
  return events_from_rows (rows, n_events);
}

gboolean
cl_events_initial_config (ClConfig *cfg, const ClEvent *events, int n_events, GError **error)
{
  for (int i = n_events - 1; i >= 0; i--) /* backwards: the first event of a key is set last */
    if (!cl_config_set (cfg, events[i].key, events[i].old_value, error))
      {
        g_prefix_error (error, "event %d: ", i + 1);
        return FALSE;
      }
  return TRUE;
}

ClEvent *
cl_preset_read_events (const char *name_or_file, int *n_events, GError **error)
{
  *n_events = 0;
  if (!g_file_test (name_or_file, G_FILE_TEST_IS_REGULAR))
    return NULL; /* a preset NAME */
  if (g_str_has_suffix (name_or_file, ".png") || g_str_has_suffix (name_or_file, ".PNG"))
    {
      GHashTable *texts = cl_png_text_read (name_or_file, error);
      if (!texts)
        {
          as_config_error (error, name_or_file);
          return NULL;
        }
      const char *events = g_hash_table_lookup (texts, "contrastlab:events");
      g_autofree char *source = g_strdup_printf ("%s (contrastlab:events)", name_or_file);
      ClEvent *out = events ? cl_events_parse (events, source, n_events, error) : NULL;
      g_hash_table_unref (texts);
      return out;
    }
  g_autofree char *dir = g_path_get_dirname (name_or_file);
  g_autofree char *path = g_build_filename (dir, EVENTS_CSV, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  ClEvent *out = cl_runs_read_events (path, n_events, error);
  as_config_error (error, path);
  return out;
}
