/* Finding every run folder under a folder (cl_runs_scan_dir). */
#include "engine/store/cl_runs_private.h"

#include "engine/store/cl_run_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#define SCAN_MAX_DEPTH 16

/* ======================================================================= scanning */

typedef struct
{
  char **targets;
  double *accuracy;
  int n;
} Finals;

static void
finals_free (gpointer p)
{
  Finals *f = p;
  g_strfreev (f->targets);
  g_free (f->accuracy);
  g_free (f);
}

typedef struct
{
  GPtrArray *runs;
  GHashTable *sweep_finals; /* run folder path -> Finals, from sweep.csv files */
  GHashTable *visited;      /* "dev:ino" of folders seen, against symlink loops */
} Scan;

/* sweep.csv: the swept keys (names with a dot), then one column per probe target. Each row's
 * run lives in runs/KEY=VALUE,KEY=VALUE (as the CLI names them). */
static void
read_sweep (Scan *scan, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, SWEEP_CSV, NULL);
  char *data;
  gsize len;
  if (!cl_runs_read_text (path, CL_RUNS_MAX_CSV_BYTES, &data, &len, NULL))
    return;
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  g_free (data);
  if (!lines[0])
    return;
  g_auto (GStrv) header = g_strsplit (g_strstrip (lines[0]), ",", -1);
  int n_cols = (int) g_strv_length (header), n_keys = 0;
  while (n_keys < n_cols && strchr (header[n_keys], '.'))
    n_keys++;
  for (int l = 1; lines[l]; l++)
    {
      /* a last line without its newline may be cut short: not trusted */
      if (!lines[l + 1])
        break;
      g_auto (GStrv) cells = g_strsplit (g_strstrip (lines[l]), ",", -1);
      if ((int) g_strv_length (cells) != n_cols || n_keys == 0)
        continue;
      GString *name = g_string_new (NULL);
      for (int k = 0; k < n_keys; k++)
        g_string_append_printf (name, "%s%s=%s", k ? "," : "", header[k], cells[k]);
      Finals *f = g_new0 (Finals, 1);
      GPtrArray *t = g_ptr_array_new ();
      GArray *a = g_array_new (FALSE, FALSE, sizeof (double));
      for (int c = n_keys; c < n_cols; c++)
        {
          char *end;
          double v = g_ascii_strtod (cells[c], &end);
          /* With train.seed swept, the group columns (<target>_mean, <target>_std, seeds) are
           * not this run's accuracies. */
          if (end == cells[c] || *end != '\0' || cl_runs_is_per_bit_target (header[c]) ||
              g_str_has_suffix (header[c], "_mean") || g_str_has_suffix (header[c], "_std") ||
              strcmp (header[c], "seeds") == 0)
            continue;
          g_ptr_array_add (t, g_strdup (header[c]));
          g_array_append_val (a, v);
        }
      f->n = (int) t->len;
      g_ptr_array_add (t, NULL);
      f->targets = (char **) g_ptr_array_free (t, FALSE);
      f->accuracy = (double *) g_array_free (a, FALSE);
      g_hash_table_insert (scan->sweep_finals, g_build_filename (dir, "runs", name->str, NULL), f);
      g_string_free (name, TRUE);
    }
}

static ClRunInfo *
scanned_info (Scan *scan, const char *dir, const char *rel, gboolean has_info)
{
  g_autofree char *ini_path = g_build_filename (dir, RUN_INI, NULL);
  g_autofree char *metrics_path = g_build_filename (dir, METRICS_CSV, NULL);
  ClRunInfo *info = cl_run_info_new_empty ();
  info->path = g_strdup (dir);
  info->id = g_strdup (rel);
  char *text = NULL;
  GError *error = NULL;
  gboolean in_progress = FALSE;
  if (cl_runs_read_text (ini_path, CL_RUNS_MAX_INI_BYTES, &text, NULL, &error))
    {
      cl_run_info_from_run_ini (info, text);
      /* the headless CLI's header while a run is being written (it has no info.ini) */
      in_progress = g_str_has_prefix (text, "#") && strstr (text, "headless run (in progress") != NULL &&
                    strstr (text, "headless run (in progress") < strchr (text, '\n');
      g_free (text);
    }
  GStatBuf st;
  if (g_stat (ini_path, &st) == 0)
    info->started = (gint64) st.st_mtime - (isfinite (info->duration) ? (gint64) info->duration : 0);
  if (!error && has_info && !cl_run_info_read_meta (info, dir))
    {
      g_autofree char *meta_path = g_build_filename (dir, INFO_INI, NULL);
      g_set_error (&error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: not a run's metadata (the rows may be intact)",
                   meta_path);
    }
  /* metrics.csv must be a regular file (a FIFO would block a reader, /dev/zero never end) */
  if (!error && (g_lstat (metrics_path, &st) != 0 || !(S_ISREG (st.st_mode) || S_ISLNK (st.st_mode)) ||
                 g_stat (metrics_path, &st) != 0 || !S_ISREG (st.st_mode)))
    g_set_error (&error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: not a regular file (expected a text file)",
                 metrics_path);
  if (error)
    {
      info->status = CL_RUN_STATUS_DAMAGED;
      info->problem = g_strdup (error->message);
      g_error_free (error);
    }
  else if (in_progress && info->status == CL_RUN_STATUS_UNKNOWN)
    {
      info->status = cl_run_folder_is_locked (dir) ? CL_RUN_STATUS_RUNNING : CL_RUN_STATUS_INTERRUPTED;
      if (info->status == CL_RUN_STATUS_INTERRUPTED)
        cl_run_info_repair_from_tail (info);
    }
  else if (info->status == CL_RUN_STATUS_RUNNING && !cl_run_folder_is_locked (dir))
    {
      /* its writer died (kill -9, power loss): the rows up to the last whole line are kept */
      info->status = CL_RUN_STATUS_INTERRUPTED;
      cl_run_info_repair_from_tail (info);
    }
  if (!info->label || !*info->label)
    {
      g_free (info->label);
      info->label = g_strdup (rel);
    }
  Finals *f = g_hash_table_lookup (scan->sweep_finals, dir);
  if (f && info->n_final == 0)
    cl_run_info_set_finals (info, g_strdupv (f->targets), g_memdup2 (f->accuracy, sizeof (double) * (gsize) f->n),
                            f->n);
  return info;
}

static void
scan_folder (Scan *scan, const char *dir, const char *rel, int depth)
{
  DIR *d = opendir (dir);
  if (!d)
    return;
  struct stat st;
  if (fstat (dirfd (d), &st) == 0)
    {
      char *key = g_strdup_printf ("%lu:%lu", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
      if (!g_hash_table_add (scan->visited, key))
        {
          closedir (d);
          return;
        }
    }
  gboolean has_ini = FALSE, has_metrics = FALSE, has_info = FALSE, has_sweep = FALSE;
  GPtrArray *subdirs = g_ptr_array_new_with_free_func (g_free);
  struct dirent *ent;
  while ((ent = readdir (d)) != NULL)
    {
      const char *n = ent->d_name;
      if (n[0] == '.')
        continue; /* ., .., and hidden folders (the store's half-made and deleted runs) */
      gboolean is_dir = ent->d_type == DT_DIR, is_file = ent->d_type == DT_REG;
      if (ent->d_type == DT_UNKNOWN || ent->d_type == DT_LNK)
        {
          g_autofree char *full = g_build_filename (dir, n, NULL);
          struct stat s;
          if (stat (full, &s) == 0)
            {
              is_dir = S_ISDIR (s.st_mode);
              is_file = S_ISREG (s.st_mode);
            }
        }
      /* run.ini and metrics.csv of any kind make a run (listed as damaged when they are not
       * regular files); only regular files are read */
      has_ini |= !is_dir && strcmp (n, RUN_INI) == 0;
      has_metrics |= !is_dir && strcmp (n, METRICS_CSV) == 0;
      if (is_file)
        {
          has_info |= strcmp (n, INFO_INI) == 0;
          has_sweep |= strcmp (n, SWEEP_CSV) == 0;
        }
      else if (is_dir && strcmp (n, "figures") != 0)
        g_ptr_array_add (subdirs, g_strdup (n));
    }
  closedir (d);

  if (has_ini && has_metrics)
    {
      ClRunInfo *info = scanned_info (scan, dir, rel, has_info);
      if (info)
        g_ptr_array_add (scan->runs, info);
    }
  else if (depth < SCAN_MAX_DEPTH)
    {
      if (has_sweep)
        read_sweep (scan, dir);
      for (guint i = 0; i < subdirs->len; i++)
        {
          const char *n = subdirs->pdata[i];
          g_autofree char *child = g_build_filename (dir, n, NULL);
          g_autofree char *child_rel = *rel ? g_strconcat (rel, "/", n, NULL) : g_strdup (n);
          scan_folder (scan, child, child_rel, depth + 1);
        }
    }
  g_ptr_array_unref (subdirs);
}

static int
compare_info_natural (gconstpointer a, gconstpointer b, gpointer keys)
{
  const ClRunInfo *ia = *(ClRunInfo *const *) a, *ib = *(ClRunInfo *const *) b;
  return strcmp (g_hash_table_lookup (keys, ia), g_hash_table_lookup (keys, ib));
}

static void
sort_natural (GPtrArray *runs)
{
  GHashTable *keys = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  for (guint i = 0; i < runs->len; i++)
    {
      const ClRunInfo *info = runs->pdata[i];
      g_hash_table_insert (keys, runs->pdata[i], g_utf8_collate_key_for_filename (info->id, -1));
    }
  g_qsort_with_data (runs->pdata, (gint) runs->len, sizeof (gpointer), compare_info_natural, keys);
  g_hash_table_unref (keys);
}

GPtrArray *
cl_runs_scan_dir (const char *dir, GError **error)
{
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING, "%s: no such folder", dir);
      return NULL;
    }
  DIR *probe = opendir (dir);
  if (!probe)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot read folder: %s", dir, g_strerror (e));
      return NULL;
    }
  closedir (probe);
  Scan scan = {
    .runs = g_ptr_array_new_with_free_func ((GDestroyNotify) cl_run_info_free),
    .sweep_finals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finals_free),
    .visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
  };
  /* a run folder given directly is listed under its own name */
  g_autofree char *base = g_path_get_basename (dir);
  g_autofree char *ini = g_build_filename (dir, RUN_INI, NULL);
  g_autofree char *metrics = g_build_filename (dir, METRICS_CSV, NULL);
  gboolean root_is_run = g_file_test (ini, G_FILE_TEST_EXISTS) && !g_file_test (ini, G_FILE_TEST_IS_DIR) &&
                         g_file_test (metrics, G_FILE_TEST_EXISTS) && !g_file_test (metrics, G_FILE_TEST_IS_DIR);
  scan_folder (&scan, dir, root_is_run ? base : "", 0);
  g_hash_table_unref (scan.sweep_finals);
  g_hash_table_unref (scan.visited);
  sort_natural (scan.runs);
  return scan.runs;
}
