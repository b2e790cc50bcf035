/* One run folder written as the run trains, crash-safe (cl_run_writer.h). */
#include "engine/store/cl_run_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/cl_file.h"
#include "engine/store/cl_runs_private.h"

/* info.ini is rewritten on meaningful changes only; this bounds how stale its duration and
 * step count may get while nothing else changes. */
#define META_REFRESH_US (10 * G_USEC_PER_SEC)

enum
{
  F_METRICS,
  F_PROBES,
  F_CLUSTERS,
  F_EVENTS,
  N_FILES
};
static const char *const file_names[N_FILES] = { METRICS_CSV, PROBES_CSV, CLUSTERS_CSV, EVENTS_CSV };

struct ClRunWriter
{
  char *dir;
  int lock_fd;
  int fd[N_FILES];          /* O_APPEND */
  off_t committed[N_FILES]; /* bytes known whole in each file */
  int written[N_FILES];     /* rows written */
  int64_t first_step;       /* first metric row's step, -1 before any */
  char *config_ini;         /* run.ini's configuration as written */
  char *comment;            /* run.ini's first line, without "# " */
  ClRunInfo *info;
  gboolean owns_info;
  gint64 meta_written; /* monotonic time of the last info.ini write */
};

static const char *
file_header (int f)
{
  switch (f)
    {
    case F_METRICS:
      return cl_metrics_header;
    case F_PROBES:
      return cl_probes_header;
    case F_CLUSTERS:
      return cl_clusters_header;
    default:
      return cl_events_header;
    }
}

static char *
run_ini_text (const char *comment, const char *config_ini)
{
  return g_strdup_printf ("%s%s%s%s", comment ? "# " : "", comment ? comment : "", comment ? "\n" : "",
                          config_ini ? config_ini : "");
}

/* ----------------------------------------------------------------- the lock */

gboolean
cl_run_folder_is_locked (const char *dir)
{
  /* .lock is the writer's; metrics.csv is what versions before the writer locked */
  const char *names[] = { LOCK_FILE, METRICS_CSV };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
      if (fd < 0)
        continue;
      struct stat st;
      gboolean locked =
          fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && flock (fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
      close (fd); /* releases the lock if we took it */
      if (locked)
        return TRUE;
    }
  return FALSE;
}

/* Takes dir's lock; -1 with error set when another writer holds it. */
static int
take_lock (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, LOCK_FILE, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot create the run folder's lock: %s", path,
                   g_strerror (e));
      return -1;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: not a regular file", path);
      close (fd);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int e = errno;
      if (e == EWOULDBLOCK)
        {
          char pid[32] = "";
          ssize_t n = pread (fd, pid, sizeof pid - 1, 0);
          pid[n > 0 ? n : 0] = '\0';
          g_strstrip (pid);
          gboolean digits = *pid != '\0';
          for (const char *c = pid; *c; c++)
            digits &= g_ascii_isdigit (*c);
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_BUSY,
                       "%s: another run is being written into this folder (process %s); choose another folder "
                       "or wait until it ends",
                       dir, digits ? pid : "unknown");
        }
      else
        g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot lock: %s", path, g_strerror (e));
      close (fd);
      return -1;
    }
  char pid[32];
  int len = g_snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, (size_t) len, 0) != len)
    { /* the pid is for the message above only */
    }
  return fd;
}

/* ------------------------------------------------------------- open / close */

/* Removes dir/name, FALSE with error set when it exists and cannot be removed. */
static gboolean
remove_file (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot remove the earlier run's file: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* What an earlier run (or a killed write) left: its files and their temps, and its figures. */
static gboolean
remove_earlier_run (const char *dir, GError **error)
{
  if (!remove_file (dir, RUN_INI, error) || !remove_file (dir, INFO_INI, error))
    return FALSE;
  for (int f = 0; f < N_FILES; f++)
    if (!remove_file (dir, file_names[f], error))
      return FALSE;
  const char *ours[] = { RUN_INI, INFO_INI, METRICS_CSV, PROBES_CSV, CLUSTERS_CSV, EVENTS_CSV };
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d)) != NULL)
    for (gsize i = 0; i < G_N_ELEMENTS (ours); i++)
      if (cl_atomic_file_is_temp (n, ours[i]))
        {
          g_autofree char *p = g_build_filename (dir, n, NULL);
          g_unlink (p);
        }
  if (d)
    g_dir_close (d);
  g_autofree char *figures = g_build_filename (dir, "figures", NULL);
  d = g_dir_open (figures, 0, NULL);
  while (d && (n = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (n, ".png") || strstr (n, ".png."))
      {
        g_autofree char *p = g_build_filename (figures, n, NULL);
        if (!g_file_test (p, G_FILE_TEST_IS_DIR))
          g_unlink (p);
      }
  if (d)
    g_dir_close (d);
  return TRUE;
}

static gboolean
write_info (ClRunWriter *w, gboolean durable, GError **error)
{
  g_autofree char *text = cl_run_info_text (w->info);
  w->meta_written = g_get_monotonic_time ();
  return cl_runs_replace_file (w->dir, INFO_INI, text, durable, error);
}

static void
info_from_config (ClRunInfo *info, const char *config_ini)
{
  g_autoptr (GKeyFile) kf = cl_runs_keyfile_from_text (config_ini, RUN_INI, NULL);
  if (!kf)
    return;
  g_free (info->summary);
  info->summary = cl_runs_summary_from_keyfile (kf);
  cl_kf_int (kf, "train", "seed", &info->seed);
  if (info->total_steps < 0)
    cl_kf_int64 (kf, "train", "steps", &info->total_steps);
}

static void
close_files (ClRunWriter *w)
{
  for (int f = 0; f < N_FILES; f++)
    if (w->fd[f] >= 0)
      close (w->fd[f]);
  if (w->lock_fd >= 0)
    close (w->lock_fd); /* releases the lock */
}

static void
writer_free (ClRunWriter *w)
{
  close_files (w);
  if (w->owns_info)
    cl_run_info_free (w->info);
  g_free (w->config_ini);
  g_free (w->comment);
  g_free (w->dir);
  g_free (w);
}

ClRunWriter *
cl_run_writer_open (const char *dir, const char *config_ini, const char *comment, ClRunInfo *info, GError **error)
{
  if (!cl_runs_make_dir (dir, error))
    return NULL;
  int lock_fd = take_lock (dir, error);
  if (lock_fd < 0)
    return NULL;
  ClRunWriter *w = g_new0 (ClRunWriter, 1);
  w->dir = g_strdup (dir);
  w->lock_fd = lock_fd;
  for (int f = 0; f < N_FILES; f++)
    w->fd[f] = -1;
  w->first_step = -1;
  w->config_ini = g_strdup (config_ini);
  w->comment = g_strdup (comment);
  if (info)
    w->info = info;
  else
    {
      w->owns_info = TRUE;
      w->info = cl_run_info_new_empty ();
      w->info->id = g_path_get_basename (dir);
      w->info->path = g_strdup (dir);
      w->info->label = g_strdup (w->info->id);
      w->info->summary = g_strdup ("");
      w->info->started = g_get_real_time () / G_USEC_PER_SEC;
      w->info->steps = 0;
      w->info->duration = 0;
    }
  w->info->status = CL_RUN_STATUS_RUNNING;
  if (config_ini)
    info_from_config (w->info, config_ini);

  gboolean ok = remove_earlier_run (dir, error) && write_info (w, FALSE, error);
  for (int f = 0; ok && f < N_FILES; f++)
    {
      g_autofree char *p = g_build_filename (dir, file_names[f], NULL);
      w->fd[f] = open (p, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
      const char *header = file_header (f);
      gsize len = strlen (header);
      if (w->fd[f] < 0 || write (w->fd[f], header, len) != (ssize_t) len)
        {
          int e = errno ? errno : ENOSPC;
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot write: %s", p, g_strerror (e));
          ok = FALSE;
        }
      w->committed[f] = (off_t) len;
    }
  if (ok)
    {
      g_autofree char *ini = run_ini_text (comment, config_ini);
      ok = cl_runs_replace_file (dir, RUN_INI, ini, FALSE, error);
    }
  if (!ok)
    {
      writer_free (w);
      return NULL;
    }
  return w;
}

/* ------------------------------------------------------------------- rows */

/* Appends text to file f as one unit: on failure the file is cut back to its last whole row,
 * so a later append never follows a partial line. */
static gboolean
append_rows (ClRunWriter *w, int f, const GString *text, int n_new, GError **error)
{
  if (text->len == 0)
    return TRUE;
  gsize done = 0;
  while (done < text->len)
    {
      ssize_t n = write (w->fd[f], text->str + done, text->len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int e = n < 0 ? errno : ENOSPC;
          if (ftruncate (w->fd[f], w->committed[f]) != 0)
            { /* the reader drops the unterminated tail anyway */
            }
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s/%s: cannot write: %s", w->dir, file_names[f],
                       g_strerror (e));
          return FALSE;
        }
      done += (gsize) n;
    }
  w->committed[f] += (off_t) text->len;
  w->written[f] += n_new;
  return TRUE;
}

gboolean
cl_run_writer_is_other_run (const ClRunWriter *w, const ClSnapshot *snap)
{
  if (snap->n_rows < w->written[F_METRICS] || snap->n_probes < w->written[F_PROBES] ||
      snap->n_cluster_rows < w->written[F_CLUSTERS] || snap->n_events < w->written[F_EVENTS])
    return TRUE;
  return w->first_step >= 0 && snap->n_rows > 0 && snap->rows[0].step != w->first_step;
}

/* Rows and run.ini; *meta set when info.ini should be rewritten. */
static gboolean
append_snapshot (ClRunWriter *w, const ClSnapshot *snap, gboolean *meta, GError **error)
{
  GString *text = g_string_new (NULL);
  gboolean ok = TRUE;
  int have[N_FILES] = { snap->n_rows, snap->n_probes, snap->n_cluster_rows, snap->n_events };
  for (int f = 0; f < N_FILES && ok; f++)
    {
      int from = w->written[f], to = have[f];
      if (to <= from)
        continue;
      g_string_truncate (text, 0);
      switch (f)
        {
        case F_METRICS:
          cl_csv_append_metric_rows (text, snap->rows, from, to);
          break;
        case F_PROBES:
          cl_csv_append_probe_rows (text, snap->probes, from, to);
          break;
        case F_CLUSTERS:
          cl_csv_append_cluster_rows (text, snap->cluster_rows, from, to);
          break;
        default:
          cl_csv_append_event_rows (text, snap->events, from, to);
          break;
        }
      ok = append_rows (w, f, text, to - from, error);
    }
  g_string_free (text, TRUE);
  if (ok && w->first_step < 0 && snap->n_rows > 0)
    w->first_step = snap->rows[0].step;

  if (ok && snap->config_ini && g_strcmp0 (snap->config_ini, w->config_ini) != 0)
    {
      g_autofree char *ini = run_ini_text (w->comment, snap->config_ini);
      ok = cl_runs_replace_file (w->dir, RUN_INI, ini, FALSE, error);
      if (ok)
        {
          g_free (w->config_ini);
          w->config_ini = g_strdup (snap->config_ini);
          info_from_config (w->info, snap->config_ini);
          *meta = TRUE;
        }
    }
  w->info->steps = snap->step;
  if (snap->total_steps > 0)
    w->info->total_steps = snap->total_steps;
  w->info->duration = snap->seconds;
  *meta |= cl_run_info_update_finals (w->info, snap->probes, snap->n_probes);
  return ok;
}

gboolean
cl_run_writer_append (ClRunWriter *w, const ClSnapshot *snap, GError **error)
{
  g_return_val_if_fail (w != NULL && snap != NULL, FALSE);
  gboolean meta = FALSE;
  if (!append_snapshot (w, snap, &meta, error))
    return FALSE;
  if (meta || g_get_monotonic_time () - w->meta_written >= META_REFRESH_US)
    return write_info (w, FALSE, error);
  return TRUE;
}

gboolean
cl_run_writer_replace (ClRunWriter *w, const char *name, const char *text, GError **error)
{
  return cl_runs_replace_file (w->dir, name, text, TRUE, error);
}

gboolean
cl_run_writer_finish (ClRunWriter *w, const ClSnapshot *final, ClRunStatus status, const char *comment,
                      gboolean durable, GError **error)
{
  gboolean meta = FALSE, ok = TRUE;
  if (final)
    ok = append_snapshot (w, final, &meta, error);
  if (ok && comment)
    {
      g_free (w->comment);
      w->comment = g_strdup (comment);
      g_autofree char *ini = run_ini_text (w->comment, w->config_ini);
      ok = cl_runs_replace_file (w->dir, RUN_INI, ini, durable, error);
    }
  for (int f = 0; ok && durable && f < N_FILES; f++)
    if (fsync (w->fd[f]) != 0)
      {
        int e = errno;
        g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s/%s: cannot write: %s", w->dir, file_names[f],
                     g_strerror (e));
        ok = FALSE;
      }
  /* a failed finish is recorded as stopped, with what was written */
  w->info->status = ok ? status : CL_RUN_STATUS_STOPPED;
  ok = write_info (w, durable, ok ? error : NULL) && ok;
  writer_free (w);
  return ok;
}

void
cl_run_writer_free (ClRunWriter *w)
{
  if (w)
    cl_run_writer_finish (w, NULL, CL_RUN_STATUS_STOPPED, NULL, FALSE, NULL);
}

const char *
cl_run_writer_dir (const ClRunWriter *w)
{
  return w->dir;
}

ClRunInfo *
cl_run_writer_info (ClRunWriter *w)
{
  return w->info;
}

int
cl_run_writer_n_rows (const ClRunWriter *w)
{
  return w->written[F_METRICS];
}

void
cl_run_writer_moved (ClRunWriter *w, const char *dir)
{
  g_free (w->dir);
  w->dir = g_strdup (dir);
  if (w->owns_info)
    {
      g_free (w->info->path);
      w->info->path = g_strdup (dir);
    }
}
