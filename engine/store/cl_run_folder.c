/* One run folder as a whole: loading it into a snapshot, saving a snapshot as one. */
#include "engine/store/cl_runs_private.h"

#include "engine/base/cl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (cl - runs - error - quark, cl_runs_error)

/* ================================================================ whole folders */

static gboolean
load_optional (const char *dir, const char *name, const ColSpec *cols, int n_cols, size_t row_size, gpointer *rows,
               int *n, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *local = NULL;
  *rows = cl_csv_read_file (path, cols, n_cols, row_size, n, &local);
  if (local && g_error_matches (local, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING))
    {
      g_error_free (local);
      *n = 0;
      return TRUE;
    }
  if (local)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

ClSnapshot *
cl_run_load (const char *dir, GError **error)
{
  g_autofree char *ini_path = g_build_filename (dir, RUN_INI, NULL);
  char *ini = NULL;
  gsize ini_len;
  GError *local = NULL;
  if (!cl_runs_read_text (ini_path, CL_RUNS_MAX_INI_BYTES, &ini, &ini_len, &local))
    {
      if (g_error_matches (local, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING))
        g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING,
                     "%s: not a run folder (run.ini is missing; expected the output of contrastlab --headless)", dir);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      g_clear_error (&local);
      return NULL;
    }
  if (memchr (ini, '\0', ini_len) || !g_utf8_validate (ini, (gssize) ini_len, NULL))
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: not a text file", ini_path);
      g_free (ini);
      return NULL;
    }
  g_autoptr (GKeyFile) check = cl_runs_keyfile_from_text (ini, ini_path, error);
  if (!check)
    {
      g_free (ini);
      return NULL;
    }

  g_autofree char *metrics_path = g_build_filename (dir, METRICS_CSV, NULL);
  int n_rows = 0, n_probes = 0, n_clusters = 0, n_events = 0;
  GError *local_rows = NULL;
  ClMetricRow *rows = cl_runs_read_metrics (metrics_path, &n_rows, &local_rows);
  if (local_rows)
    {
      g_propagate_error (error, local_rows);
      g_free (ini);
      return NULL;
    }
  gpointer probes = NULL, clusters = NULL, events = NULL;
  if (!load_optional (dir, PROBES_CSV, cl_probe_cols, G_N_ELEMENTS (cl_probe_cols), sizeof (ClProbeRow), &probes,
                      &n_probes, error) ||
      !load_optional (dir, CLUSTERS_CSV, cl_cluster_cols, G_N_ELEMENTS (cl_cluster_cols), sizeof (ClClusterRow),
                      &clusters, &n_clusters, error) ||
      !load_optional (dir, EVENTS_CSV, cl_event_cols, G_N_ELEMENTS (cl_event_cols), sizeof (ClEvent), &events,
                      &n_events, error))
    {
      g_free (ini);
      g_free (rows);
      g_free (probes);
      g_free (clusters);
      g_free (events);
      return NULL;
    }

  /* The duration includes the final probe, which the last row's time does not. */
  ClRunInfo *info = cl_run_info_new_empty ();
  cl_run_info_from_run_ini (info, ini);
  cl_run_info_read_meta (info, dir);
  ClSnapshot *snap =
      cl_snapshot_new_from_rows (rows, n_rows, events, n_events, probes, n_probes, clusters, n_clusters, ini);
  if (isfinite (info->duration) && info->duration > snap->seconds)
    snap->seconds = info->duration;
  cl_run_info_free (info);
  return snap;
}

gboolean
cl_runs_replace_file (const char *dir, const char *name, const char *text, gboolean durable, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *local = NULL;
  if (cl_file_replace (path, text, -1, durable ? CL_FILE_REPLACE_DEFAULT : CL_FILE_REPLACE_NO_SYNC, &local))
    return TRUE;
  g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot write: %s", path, local->message);
  g_error_free (local);
  return FALSE;
}

gboolean
cl_runs_make_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot create folder: %s", dir, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
cl_run_save (const char *dir, const ClSnapshot *snap, const char *header_comment, GError **error)
{
  if (!cl_runs_make_dir (dir, error))
    return FALSE;
  g_autofree char *ini = g_strdup_printf ("%s%s%s%s", header_comment ? "# " : "", header_comment ? header_comment : "",
                                          header_comment ? "\n" : "", snap->config_ini ? snap->config_ini : "");
  g_autofree char *metrics = cl_runs_metrics_csv (snap);
  g_autofree char *probes = cl_runs_probes_csv (snap);
  g_autofree char *clusters = cl_runs_clusters_csv (snap);
  g_autofree char *events = cl_runs_events_csv (snap);
  /* run.ini last: a folder becomes a run when it has run.ini and metrics.csv */
  return cl_runs_replace_file (dir, METRICS_CSV, metrics, TRUE, error) &&
         cl_runs_replace_file (dir, PROBES_CSV, probes, TRUE, error) &&
         cl_runs_replace_file (dir, CLUSTERS_CSV, clusters, TRUE, error) &&
         cl_runs_replace_file (dir, EVENTS_CSV, events, TRUE, error) &&
         cl_runs_replace_file (dir, RUN_INI, ini, TRUE, error);
}

void
cl_runs_remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d)
    {
      const char *n;
      while ((n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, n, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            cl_runs_remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (d);
    }
  g_rmdir (path);
}
