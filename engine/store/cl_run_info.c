/* ClRunInfo: what a list shows about one run, and its info.ini / index.ini groups. */
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

/* ==================================================================== ClRunInfo */

const char *
cl_run_status_name (ClRunStatus status)
{
  switch (status)
    {
    case CL_RUN_STATUS_RUNNING:
      return "running";
    case CL_RUN_STATUS_FINISHED:
      return "finished";
    case CL_RUN_STATUS_STOPPED:
      return "stopped";
    case CL_RUN_STATUS_INTERRUPTED:
      return "interrupted";
    case CL_RUN_STATUS_DAMAGED:
      return "damaged";
    case CL_RUN_STATUS_UNKNOWN:
    default:
      return "unknown";
    }
}

ClRunStatus
cl_run_status_from_name (const char *name)
{
  for (int s = CL_RUN_STATUS_UNKNOWN; s <= CL_RUN_STATUS_DAMAGED; s++)
    if (name && strcmp (name, cl_run_status_name ((ClRunStatus) s)) == 0)
      return (ClRunStatus) s;
  return CL_RUN_STATUS_UNKNOWN;
}

ClRunInfo *
cl_run_info_new_empty (void)
{
  ClRunInfo *info = g_new0 (ClRunInfo, 1);
  info->seed = -1;
  info->duration = NAN;
  info->steps = -1;
  info->total_steps = -1;
  info->final_targets = g_new0 (char *, 1);
  return info;
}

void
cl_run_info_free (ClRunInfo *info)
{
  if (!info)
    return;
  g_free (info->id);
  g_free (info->path);
  g_free (info->label);
  g_free (info->summary);
  g_free (info->problem);
  g_strfreev (info->final_targets);
  g_free (info->final_accuracy);
  g_free (info);
}

ClRunInfo *
cl_run_info_copy (const ClRunInfo *info)
{
  ClRunInfo *c = g_new (ClRunInfo, 1);
  *c = *info;
  c->id = g_strdup (info->id);
  c->path = g_strdup (info->path);
  c->label = g_strdup (info->label);
  c->summary = g_strdup (info->summary);
  c->problem = g_strdup (info->problem);
  c->final_targets = g_strdupv (info->final_targets);
  c->final_accuracy = g_memdup2 (info->final_accuracy, sizeof (double) * (gsize) info->n_final);
  return c;
}

double
cl_run_info_final (const ClRunInfo *info, const char *target)
{
  for (int i = 0; i < info->n_final; i++)
    if (strcmp (info->final_targets[i], target) == 0)
      return info->final_accuracy[i];
  return NAN;
}

void
cl_run_info_set_finals (ClRunInfo *info, char **targets, double *accuracy, int n)
{
  g_strfreev (info->final_targets);
  g_free (info->final_accuracy);
  info->final_targets = targets;
  info->final_accuracy = accuracy;
  info->n_final = n;
}

gboolean
cl_runs_is_per_bit_target (const char *t)
{
  if (strncmp (t, "bit", 3) != 0 || !g_ascii_isdigit (t[3]))
    return FALSE;
  for (const char *c = t + 3; *c; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return TRUE;
}

/* The last accuracy of each probe target, in order of first appearance. Returns TRUE when
 * they differ from info's. */
gboolean
cl_run_info_update_finals (ClRunInfo *info, const ClProbeRow *probes, int n_probes)
{
  GPtrArray *targets = g_ptr_array_new ();
  GArray *acc = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *at = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (int i = 0; i < n_probes; i++)
    {
      char name[sizeof probes[i].target + 1];
      memcpy (name, probes[i].target, sizeof probes[i].target);
      name[sizeof probes[i].target] = '\0';
      if (name[0] == '\0' || cl_runs_is_per_bit_target (name))
        continue;
      guint k;
      for (k = 0; k < targets->len; k++)
        if (strcmp (targets->pdata[k], name) == 0)
          break;
      double v = probes[i].accuracy;
      gint64 s = probes[i].step;
      if (k == targets->len)
        {
          g_ptr_array_add (targets, g_strdup (name));
          g_array_append_val (acc, v);
          g_array_append_val (at, s);
        }
      else if (s >= g_array_index (at, gint64, k))
        {
          g_array_index (acc, double, k) = v;
          g_array_index (at, gint64, k) = s;
        }
    }
  int n = (int) targets->len;
  gboolean changed = n != info->n_final;
  for (int k = 0; k < n && !changed; k++)
    changed = strcmp (targets->pdata[k], info->final_targets[k]) != 0 ||
              !(g_array_index (acc, double, k) == info->final_accuracy[k] ||
                (isnan (g_array_index (acc, double, k)) && isnan (info->final_accuracy[k])));
  g_array_unref (at);
  g_ptr_array_add (targets, NULL);
  if (changed)
    cl_run_info_set_finals (info, (char **) g_ptr_array_free (targets, FALSE), (double *) g_array_free (acc, FALSE), n);
  else
    {
      g_strfreev ((char **) g_ptr_array_free (targets, FALSE));
      g_array_unref (acc);
    }
  return changed;
}

/* run.ini facts: seed, train.steps, summary, and the headless header comment
 * "# ContrastLab V headless run: N steps in S s". */
void
cl_run_info_from_run_ini (ClRunInfo *info, const char *text)
{
  g_autoptr (GKeyFile) kf = cl_runs_keyfile_from_text (text, RUN_INI, NULL);
  if (kf)
    {
      g_free (info->summary);
      info->summary = cl_runs_summary_from_keyfile (kf);
      cl_kf_int (kf, "train", "seed", &info->seed);
      cl_kf_int64 (kf, "train", "steps", &info->total_steps);
    }
  /* only the comment lines at the top */
  for (const char *line = text; line && *line == '#'; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      const char *eol = strchr (line, '\n');
      g_autofree char *one = eol ? g_strndup (line, (gsize) (eol - line)) : g_strdup (line);
      const char *h = strstr (one, "headless run:");
      gint64 steps;
      char seconds[32];
      if (h && sscanf (h, "headless run: %" G_GINT64_FORMAT " steps in %31s s", &steps, seconds) == 2)
        {
          char *end;
          double d = g_ascii_strtod (seconds, &end);
          info->steps = steps;
          if (end != seconds && *end == '\0')
            info->duration = d;
          break;
        }
    }
}

/* ---- info.ini / index.ini groups ---- */

void
cl_run_info_to_keyfile (GKeyFile *kf, const char *group, const ClRunInfo *info)
{
  g_key_file_set_string (kf, group, "label", info->label ? info->label : "");
  g_key_file_set_string (kf, group, "summary", info->summary ? info->summary : "");
  g_key_file_set_integer (kf, group, "seed", info->seed);
  g_key_file_set_int64 (kf, group, "started", info->started);
  if (isfinite (info->duration))
    g_key_file_set_double (kf, group, "duration", info->duration);
  g_key_file_set_int64 (kf, group, "steps", info->steps);
  g_key_file_set_int64 (kf, group, "total_steps", info->total_steps);
  g_key_file_set_string (kf, group, "status", cl_run_status_name (info->status));
  g_key_file_set_string_list (kf, group, "final_targets", (const char *const *) info->final_targets,
                              (gsize) info->n_final);
  if (info->n_final > 0)
    g_key_file_set_double_list (kf, group, "final_accuracy", info->final_accuracy, (gsize) info->n_final);
}

/* Fills info from a group; FALSE when the group lacks the fields every stored run has. */
gboolean
cl_run_info_from_keyfile (GKeyFile *kf, const char *group, ClRunInfo *info)
{
  if (!g_key_file_has_key (kf, group, "status", NULL) || !g_key_file_has_key (kf, group, "started", NULL))
    return FALSE;
  g_free (info->label);
  info->label = g_key_file_get_string (kf, group, "label", NULL);
  char *summary = g_key_file_get_string (kf, group, "summary", NULL);
  if (summary)
    {
      g_free (info->summary);
      info->summary = summary;
    }
  cl_kf_int (kf, group, "seed", &info->seed);
  cl_kf_int64 (kf, group, "started", &info->started);
  cl_kf_double (kf, group, "duration", &info->duration);
  cl_kf_int64 (kf, group, "steps", &info->steps);
  cl_kf_int64 (kf, group, "total_steps", &info->total_steps);
  g_autofree char *status = g_key_file_get_string (kf, group, "status", NULL);
  info->status = cl_run_status_from_name (status);
  gsize nt = 0, na = 0;
  char **targets = g_key_file_get_string_list (kf, group, "final_targets", &nt, NULL);
  double *acc = g_key_file_get_double_list (kf, group, "final_accuracy", &na, NULL);
  if (targets && acc && nt == na)
    cl_run_info_set_finals (info, targets, acc, (int) nt);
  else
    {
      g_strfreev (targets);
      g_free (acc);
    }
  return TRUE;
}

gboolean
cl_run_info_read_meta (ClRunInfo *info, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, INFO_INI, NULL);
  char *text = NULL;
  if (!cl_runs_read_text (path, CL_RUNS_MAX_INI_BYTES, &text, NULL, NULL))
    return FALSE;
  g_autoptr (GKeyFile) kf = cl_runs_keyfile_from_text (text, INFO_INI, NULL);
  g_free (text);
  return kf && cl_run_info_from_keyfile (kf, "run", info);
}

/* The last whole metric row of a crashed run, read from the end of its file only. */
void
cl_run_info_repair_from_tail (ClRunInfo *info)
{
  g_autofree char *path = g_build_filename (info->path, METRICS_CSV, NULL);
  /* a FIFO or device in place of the file must neither block nor be read */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return;
  struct stat st;
  char head[4096];
  ssize_t hn = fstat (fd, &st) == 0 && S_ISREG (st.st_mode) ? pread (fd, head, sizeof head, 0) : -1;
  char *hl = hn > 0 ? memchr (head, '\n', (size_t) hn) : NULL;
  if (hl)
    {
      off_t hlen = (off_t) (hl - head) + 1;
      off_t from = MAX (hlen, st.st_size - (off_t) (64 * 1024));
      gsize window = (gsize) (st.st_size - from);
      char *buf = g_malloc ((gsize) hlen + window + 1);
      memcpy (buf, head, (size_t) hlen);
      ssize_t tn = pread (fd, buf + hlen, window, from);
      if (tn >= 0)
        {
          gsize body = (gsize) tn;
          if (from > hlen)
            {
              /* the window starts inside a line: skip to the next one */
              char *nl = memchr (buf + hlen, '\n', body);
              gsize skip = nl ? (gsize) (nl - (buf + hlen)) + 1 : body;
              memmove (buf + hlen, buf + hlen + skip, body - skip);
              body -= skip;
            }
          buf[(gsize) hlen + body] = '\0';
          GArray *rows = cl_csv_read_buffer (buf, (gsize) hlen + body, path, cl_metric_cols,
                                             G_N_ELEMENTS (cl_metric_cols), sizeof (ClMetricRow), NULL);
          if (rows && rows->len > 0)
            {
              const ClMetricRow *last = &g_array_index (rows, ClMetricRow, rows->len - 1);
              info->steps = MAX (info->steps, last->step);
              if (isfinite (last->seconds) && !(info->duration >= last->seconds))
                info->duration = last->seconds;
            }
          if (rows)
            g_array_unref (rows);
        }
      g_free (buf);
    }
  close (fd);
}

char *
cl_run_info_text (const ClRunInfo *info)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_string (kf, "run", "id", info->id ? info->id : "");
  cl_run_info_to_keyfile (kf, "run", info);
  return g_key_file_to_data (kf, NULL, NULL);
}
