/* The run store: every live run of the window, crash-safe (cl_runs.h, "the run store"). */
#include "engine/store/cl_runs_private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/file.h>

#include "cl_config.h"
#include "engine/base/cl_file.h"
#include "engine/store/cl_run_writer.h"

#define NEW_PREFIX ".new-"
#define TRASH_PREFIX ".trash-"

/* ====================================================================== the store */

struct ClRunStore
{
  char *dir;
  GPtrArray *runs;      /* ClRunInfo*, sorted by id */
  GHashTable *sections; /* id -> the run's group of index.ini as last written, so that
                         * rewriting the index costs a concatenation, not a GKeyFile of
                         * hundreds of groups */
  int next_number;      /* for "Run N" labels */
  ClRunWriter *rec;     /* the run being recorded (its info is the store's entry) */
};

static ClRunInfo *
store_find (ClRunStore *store, const char *id, guint *index)
{
  for (guint i = 0; id && i < store->runs->len; i++)
    {
      ClRunInfo *info = store->runs->pdata[i];
      if (strcmp (info->id, id) == 0)
        {
          if (index)
            *index = i;
          return info;
        }
    }
  return NULL;
}

static char *
index_section (const ClRunInfo *info)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  cl_run_info_to_keyfile (kf, info->id, info);
  return g_key_file_to_data (kf, NULL, NULL);
}

static gboolean
store_write_index (ClRunStore *store, gboolean durable, GError **error)
{
  GString *text = g_string_new ("# ContrastLab run list: one group per run folder; rebuilt from the folders' "
                                "info.ini if lost\n");
  g_string_append_printf (text, "[store]\nnext_number=%d\n", store->next_number);
  for (guint i = 0; i < store->runs->len; i++)
    {
      const ClRunInfo *info = store->runs->pdata[i];
      const char *section = g_hash_table_lookup (store->sections, info->id);
      /* the run being recorded changes between index writes */
      if (store->rec && cl_run_writer_info (store->rec) == info)
        section = NULL, g_hash_table_remove (store->sections, info->id);
      if (!section)
        {
          section = index_section (info);
          g_hash_table_insert (store->sections, g_strdup (info->id), (gpointer) section);
        }
      g_string_append_c (text, '\n');
      g_string_append (text, section);
    }
  gboolean ok = cl_runs_replace_file (store->dir, INDEX_INI, text->str, durable, error);
  g_string_free (text, TRUE);
  return ok;
}

static gboolean
write_info (const char *dir, const ClRunInfo *info, gboolean durable, GError **error)
{
  g_autofree char *text = cl_run_info_text (info);
  return cl_runs_replace_file (dir, INFO_INI, text, durable, error);
}

/* The index first: open trusts it for every run it lists as not running, and re-reads
 * info.ini for the others. So a crash between the two writes leaves either the old state of
 * both (the change is not applied) or the new index (it is). */
static gboolean
store_write_meta (ClRunStore *store, const ClRunInfo *info, gboolean durable, GError **error)
{
  g_hash_table_remove (store->sections, info->id);
  return store_write_index (store, durable, error) && write_info (info->path, info, durable, error);
}

static void
remove_stray_temps (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    if (cl_atomic_file_is_temp (n, INFO_INI) || cl_atomic_file_is_temp (n, RUN_INI) ||
        cl_atomic_file_is_temp (n, INDEX_INI))
      {
        g_autofree char *p = g_build_filename (dir, n, NULL);
        g_unlink (p);
      }
  g_dir_close (d);
}

/* A store folder whose info.ini is missing or junk while its run.ini and metrics.csv are
 * there: its rows are intact, so it is listed as damaged (with what run.ini and the rows
 * say) rather than hidden. FALSE when the folder is not a run at all. */
static gboolean
list_damaged (ClRunInfo *info, const char *dir)
{
  g_autofree char *ini_path = g_build_filename (dir, RUN_INI, NULL);
  g_autofree char *metrics_path = g_build_filename (dir, METRICS_CSV, NULL);
  if (!g_file_test (ini_path, G_FILE_TEST_EXISTS) || !g_file_test (metrics_path, G_FILE_TEST_EXISTS))
    return FALSE;
  char *text = NULL;
  GError *error = NULL;
  if (cl_runs_read_text (ini_path, CL_RUNS_MAX_INI_BYTES, &text, NULL, &error))
    {
      cl_run_info_from_run_ini (info, text);
      g_free (text);
    }
  g_autofree char *info_path = g_build_filename (dir, INFO_INI, NULL);
  info->problem = error ? g_strdup (error->message)
                        : g_strdup_printf ("%s: missing or not a run's metadata (the rows are intact)", info_path);
  g_clear_error (&error);
  GStatBuf st;
  if (g_stat (ini_path, &st) == 0)
    info->started = (gint64) st.st_mtime;
  if (!info->label || !*info->label)
    {
      g_free (info->label);
      info->label = g_strdup (info->id);
    }
  cl_run_info_repair_from_tail (info);
  info->status = CL_RUN_STATUS_DAMAGED;
  return TRUE;
}

static int
compare_info_id (gconstpointer a, gconstpointer b)
{
  const ClRunInfo *ia = *(ClRunInfo *const *) a, *ib = *(ClRunInfo *const *) b;
  return strcmp (ia->id, ib->id);
}

/* The run number in a label "Run N" or an id "TIME-N" (0 if none). */
static int
run_number (const char *label, const char *id)
{
  int n = 0, m = 0;
  if (label)
    sscanf (label, "Run %d", &n);
  const char *dash = id ? strrchr (id, '-') : NULL;
  if (dash)
    sscanf (dash + 1, "%d", &m);
  return MAX (MAX (n, m), 0);
}

/* Folder names the store lists: ids are also index.ini group names, which may not hold
 * brackets or control characters; anything else in the folder is left alone. */
static gboolean
valid_id (const char *name)
{
  if (!*name || name[0] == '.')
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      return FALSE;
  return TRUE;
}

ClRunStore *
cl_run_store_open (const char *dir, GError **error)
{
  g_autofree char *path = NULL;
  if (dir)
    path = g_strdup (dir);
  else if (g_getenv ("CONTRASTLAB_DATA_DIR") && *g_getenv ("CONTRASTLAB_DATA_DIR"))
    path = g_build_filename (g_getenv ("CONTRASTLAB_DATA_DIR"), "runs", NULL);
  else
    path = g_build_filename (g_get_user_data_dir (), "contrastlab", "runs", NULL);
  if (!cl_runs_make_dir (path, error))
    return NULL;

  ClRunStore *store = g_new0 (ClRunStore, 1);
  store->dir = g_steal_pointer (&path);
  store->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) cl_run_info_free);
  store->sections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  store->next_number = 1;

  g_autofree char *index_path = g_build_filename (store->dir, INDEX_INI, NULL);
  g_autoptr (GKeyFile) index = g_key_file_new ();
  gboolean have_index = g_key_file_load_from_file (index, index_path, G_KEY_FILE_NONE, NULL);
  if (have_index)
    {
      GError *e = NULL;
      int next = g_key_file_get_integer (index, "store", "next_number", &e);
      if (!e)
        store->next_number = MAX (next, 1);
      g_clear_error (&e);
    }
  gboolean dirty = !have_index;

  GDir *d = g_dir_open (store->dir, 0, NULL);
  if (!d)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot read folder", store->dir);
      cl_run_store_close (store);
      return NULL;
    }
  const char *n;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  while ((n = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);

  for (guint i = 0; i < names->len; i++)
    {
      n = names->pdata[i];
      g_autofree char *full = g_build_filename (store->dir, n, NULL);
      /* what a crash leaves: a run being created or deleted, a half-written index */
      if (g_str_has_prefix (n, NEW_PREFIX) || g_str_has_prefix (n, TRASH_PREFIX))
        {
          cl_runs_remove_tree (full);
          continue;
        }
      if (cl_atomic_file_is_temp (n, INDEX_INI))
        {
          g_unlink (full);
          continue;
        }
      if (!valid_id (n) || !g_file_test (full, G_FILE_TEST_IS_DIR))
        continue;
      ClRunInfo *info = cl_run_info_new_empty ();
      info->id = g_strdup (n);
      info->path = g_strdup (full);
      gboolean indexed = have_index && cl_run_info_from_keyfile (index, n, info);
      if (!indexed || info->status == CL_RUN_STATUS_RUNNING)
        {
          if (!cl_run_info_read_meta (info, full) && !list_damaged (info, full))
            {
              /* not one of ours (or never finished being made): left alone, not listed */
              cl_run_info_free (info);
              if (indexed)
                dirty = TRUE;
              continue;
            }
          dirty = TRUE;
        }
      if (info->status == CL_RUN_STATUS_RUNNING && !cl_run_folder_is_locked (full))
        {
          cl_run_info_repair_from_tail (info);
          info->status = CL_RUN_STATUS_INTERRUPTED;
          remove_stray_temps (full);
          write_info (full, info, TRUE, NULL);
          dirty = TRUE;
        }
      store->next_number = MAX (store->next_number, run_number (info->label, info->id) + 1);
      g_ptr_array_add (store->runs, info);
    }
  if (have_index)
    {
      /* entries whose folder is gone */
      gsize n_groups = 0;
      g_auto (GStrv) groups = g_key_file_get_groups (index, &n_groups);
      if (n_groups != (gsize) store->runs->len + (g_key_file_has_group (index, "store") ? 1 : 0))
        dirty = TRUE;
    }
  g_ptr_array_unref (names);
  g_ptr_array_sort (store->runs, compare_info_id);
  if (dirty && !store_write_index (store, TRUE, error))
    {
      cl_run_store_close (store);
      return NULL;
    }
  return store;
}

const char *
cl_run_store_dir (const ClRunStore *store)
{
  return store->dir;
}

GPtrArray *
cl_run_store_list (ClRunStore *store)
{
  GPtrArray *out = g_ptr_array_new_full (store->runs->len, (GDestroyNotify) cl_run_info_free);
  for (guint i = 0; i < store->runs->len; i++)
    g_ptr_array_add (out, cl_run_info_copy (store->runs->pdata[i]));
  return out;
}

ClRunInfo *
cl_run_store_lookup (ClRunStore *store, const char *id)
{
  ClRunInfo *info = store_find (store, id, NULL);
  return info ? cl_run_info_copy (info) : NULL;
}

const char *
cl_run_store_current (const ClRunStore *store)
{
  return store->rec ? cl_run_writer_info (store->rec)->id : NULL;
}

static ClRunStatus
final_status (const ClSnapshot *snap)
{
  return snap && !snap->error && snap->total_steps > 0 && snap->step >= snap->total_steps ? CL_RUN_STATUS_FINISHED
                                                                                          : CL_RUN_STATUS_STOPPED;
}

/* Ends the current run with status. durable: wait for the disk (on close, not on the GUI's
 * reset path, where an fsync can take tens of milliseconds). */
static gboolean
store_end_current (ClRunStore *store, const ClSnapshot *final, ClRunStatus status, gboolean durable, GError **error)
{
  ClRunWriter *rec = g_steal_pointer (&store->rec);
  if (!rec)
    return TRUE;
  ClRunInfo *info = cl_run_writer_info (rec);
  /* the index first (see store_write_meta), then the writer's last rows and info.ini; closing
   * the files releases the recording lock */
  info->status = status;
  g_hash_table_remove (store->sections, info->id);
  gboolean ok = store_write_index (store, durable, error);
  ok = cl_run_writer_finish (rec, final, status, NULL, durable, ok ? error : NULL) && ok;
  return ok;
}

void
cl_run_store_close (ClRunStore *store)
{
  if (!store)
    return;
  if (store->rec)
    store_end_current (store, NULL, CL_RUN_STATUS_STOPPED, TRUE, NULL);
  g_ptr_array_unref (store->runs);
  g_hash_table_unref (store->sections);
  g_free (store->dir);
  g_free (store);
}

/* TIME-NUMBER: sorts in the order runs were made, and is never reused after a delete
 * (the number only grows), so an id held by the window cannot come to mean another run. */
static char *
new_run_id (ClRunStore *store)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  for (;; store->next_number++)
    {
      char *id = g_strdup_printf ("%s-%04d", stamp, store->next_number);
      g_autofree char *p = g_build_filename (store->dir, id, NULL);
      if (!store_find (store, id, NULL) && !g_file_test (p, G_FILE_TEST_EXISTS))
        return id;
      g_free (id);
    }
}

const char *
cl_run_store_begin (ClRunStore *store, const ClSnapshot *snap, const char *label, GError **error)
{
  if (store->rec && !store_end_current (store, NULL, CL_RUN_STATUS_STOPPED, FALSE, error))
    return NULL;
  g_autofree char *id = new_run_id (store);
  g_autofree char *tmp = g_strconcat (store->dir, G_DIR_SEPARATOR_S, NEW_PREFIX, id, NULL);
  g_autofree char *final = g_build_filename (store->dir, id, NULL);

  ClRunInfo *info = cl_run_info_new_empty ();
  info->id = g_strdup (id);
  info->path = g_strdup (final);
  info->label = label ? g_strdup (label) : g_strdup_printf ("Run %d", store->next_number);
  info->summary = g_strdup ("");
  info->started = g_get_real_time () / G_USEC_PER_SEC;
  info->steps = 0;
  info->duration = 0;
  if (snap)
    info->total_steps = snap->total_steps;

  /* made complete under a hidden name, then renamed: never listed half-made */
  ClRunWriter *rec = NULL;
  if (cl_runs_make_dir (tmp, error))
    rec = cl_run_writer_open (tmp, snap ? snap->config_ini : NULL,
                              "ContrastLab " CL_VERSION " run recorded by the window", info, error);
  gboolean ok = rec != NULL;
  if (ok && g_rename (tmp, final) != 0)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot create run folder: %s", final, g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    {
      if (rec)
        cl_run_writer_free (rec);
      cl_runs_remove_tree (tmp);
      cl_run_info_free (info);
      return NULL;
    }
  cl_run_writer_moved (rec, final);

  store->next_number++;
  g_ptr_array_add (store->runs, info);
  g_ptr_array_sort (store->runs, compare_info_id);
  store->rec = rec;
  if (!store_write_index (store, FALSE, error))
    {
      /* the folder exists and is complete; it stays listed (as stopped) but is not recorded into */
      store->rec = NULL;
      cl_run_writer_finish (rec, NULL, CL_RUN_STATUS_STOPPED, NULL, FALSE, NULL);
      return NULL;
    }
  return info->id;
}

gboolean
cl_run_store_record (ClRunStore *store, const ClSnapshot *snap, GError **error)
{
  g_return_val_if_fail (snap != NULL, FALSE);
  if (store->rec && cl_run_writer_is_other_run (store->rec, snap))
    {
      if (!store_end_current (store, NULL, CL_RUN_STATUS_STOPPED, FALSE, error))
        return FALSE;
    }
  if (!store->rec && !cl_run_store_begin (store, snap, NULL, error))
    return FALSE;
  /* info.ini only: open re-reads the info of every run the index lists as running, so the
   * index (hundreds of runs) is rewritten at begin and finish, not during a run */
  return cl_run_writer_append (store->rec, snap, error);
}

gboolean
cl_run_store_finish (ClRunStore *store, const ClSnapshot *snap, GError **error)
{
  if (!store->rec)
    return TRUE;
  gboolean ok = TRUE, same = snap && !cl_run_writer_is_other_run (store->rec, snap);
  if (same)
    ok = cl_run_writer_append (store->rec, snap, error);
  ClRunStatus status = ok && same ? final_status (snap) : CL_RUN_STATUS_STOPPED;
  return store_end_current (store, NULL, status, FALSE, ok ? error : NULL) && ok;
}

gboolean
cl_run_store_set_label (ClRunStore *store, const char *id, const char *label, GError **error)
{
  ClRunInfo *info = store_find (store, id, NULL);
  if (!info)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING, "run %s: not in the run list %s", id, store->dir);
      return FALSE;
    }
  g_free (info->label);
  info->label = g_strdup (label ? label : "");
  return store_write_meta (store, info, TRUE, error);
}

gboolean
cl_run_store_delete (ClRunStore *store, const char *id, GError **error)
{
  guint index;
  ClRunInfo *info = store_find (store, id, &index);
  if (!info)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING, "run %s: not in the run list %s", id, store->dir);
      return FALSE;
    }
  if (store->rec && cl_run_writer_info (store->rec) == info)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_BUSY, "run %s (%s) is being recorded; stop it first", id,
                   info->label);
      return FALSE;
    }
  /* renamed away first, so a crash leaves either the run or a hidden folder open removes */
  g_autofree char *trash = g_strconcat (store->dir, G_DIR_SEPARATOR_S, TRASH_PREFIX, id, NULL);
  if (g_rename (info->path, trash) != 0 && errno != ENOENT)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot remove: %s", info->path, g_strerror (e));
      return FALSE;
    }
  g_hash_table_remove (store->sections, info->id);
  g_ptr_array_remove_index (store->runs, index);
  gboolean ok = store_write_index (store, TRUE, error);
  cl_runs_remove_tree (trash);
  return ok;
}

ClSnapshot *
cl_run_store_load (ClRunStore *store, const char *id, GError **error)
{
  ClRunInfo *info = store_find (store, id, NULL);
  if (!info)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING, "run %s: not in the run list %s", id, store->dir);
      return NULL;
    }
  return cl_run_load (info->path, error);
}
