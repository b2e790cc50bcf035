#include "engine/store/cl_runs.h"

#include "cl_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (cl-runs-error-quark, cl_runs_error)

#define RUN_INI "run.ini"
#define METRICS_CSV "metrics.csv"
#define PROBES_CSV "probes.csv"
#define CLUSTERS_CSV "clusters.csv"
#define EVENTS_CSV "events.csv"
#define INFO_INI "info.ini"
#define INDEX_INI "index.ini"
#define SWEEP_CSV "sweep.csv"
#define NEW_PREFIX ".new-"
#define TRASH_PREFIX ".trash-"
#define SCAN_MAX_DEPTH 16
/* The recorder rewrites metadata on meaningful changes only; this bounds how stale the
 * in-file duration may get while nothing else changes. */
#define META_REFRESH_US (10 * G_USEC_PER_SEC)

static const char metrics_header[] = "step,seconds,loss,alignment,distribution,contrastive_acc,temperature,lr,"
                                     "wi_alignment,wi_uniformity,z_std,code_collision\n";
static const char probes_header[] = "step,target,accuracy,chance\n";
static const char clusters_header[] = "step,layer,k,object_iou,instance_ari\n";
static const char events_header[] = "step,key,old_value,new_value\n";

/* ================================================================ CSV reading */

typedef enum { COL_INT64, COL_INT, COL_FLOAT, COL_TEXT, COL_TEXT_CLIPPED } ColKind;

typedef struct {
  const char *name;
  ColKind kind;
  size_t offset;
  size_t size;  /* text buffers */
  gboolean required;
} ColSpec;

#define MCOL(name, kind, req) { #name, kind, offsetof (ClMetricRow, name), 0, req }
static const ColSpec metric_cols[] = {
  MCOL (step, COL_INT64, TRUE),
  MCOL (seconds, COL_FLOAT, FALSE),
  MCOL (loss, COL_FLOAT, FALSE),
  MCOL (alignment, COL_FLOAT, FALSE),
  MCOL (distribution, COL_FLOAT, FALSE),
  MCOL (contrastive_acc, COL_FLOAT, FALSE),
  MCOL (temperature, COL_FLOAT, FALSE),
  MCOL (lr, COL_FLOAT, FALSE),
  MCOL (wi_alignment, COL_FLOAT, FALSE),
  MCOL (wi_uniformity, COL_FLOAT, FALSE),
  MCOL (z_std, COL_FLOAT, FALSE),
  MCOL (code_collision, COL_FLOAT, FALSE),
};
static const ColSpec probe_cols[] = {
  { "step", COL_INT64, offsetof (ClProbeRow, step), 0, TRUE },
  { "target", COL_TEXT, offsetof (ClProbeRow, target), sizeof ((ClProbeRow *) 0)->target, TRUE },
  { "accuracy", COL_FLOAT, offsetof (ClProbeRow, accuracy), 0, TRUE },
  { "chance", COL_FLOAT, offsetof (ClProbeRow, chance), 0, FALSE },
};
static const ColSpec cluster_cols[] = {
  { "step", COL_INT64, offsetof (ClClusterRow, step), 0, TRUE },
  { "layer", COL_TEXT, offsetof (ClClusterRow, layer), sizeof ((ClClusterRow *) 0)->layer, TRUE },
  { "k", COL_INT, offsetof (ClClusterRow, k), 0, TRUE },
  { "object_iou", COL_FLOAT, offsetof (ClClusterRow, object_iou), 0, FALSE },
  { "instance_ari", COL_FLOAT, offsetof (ClClusterRow, instance_ari), 0, FALSE },
};
static const ColSpec event_cols[] = {
  { "step", COL_INT64, offsetof (ClEvent, step), 0, TRUE },
  { "key", COL_TEXT, offsetof (ClEvent, key), sizeof ((ClEvent *) 0)->key, TRUE },
  /* values are for display; a long data.path is shortened rather than refused */
  { "old_value", COL_TEXT_CLIPPED, offsetof (ClEvent, old_value), sizeof ((ClEvent *) 0)->old_value, FALSE },
  { "new_value", COL_TEXT_CLIPPED, offsetof (ClEvent, new_value), sizeof ((ClEvent *) 0)->new_value, TRUE },
};

/* Splits [s, e) into fields in place: quotes removed, each field NUL-terminated (*e must be
 * writable). FALSE on a malformed quoted field. */
static gboolean
split_fields (char *s, char *e, GPtrArray *fields)
{
  g_ptr_array_set_size (fields, 0);
  char *p = s;
  for (;;)
    {
      char *start = p, *out = p;
      if (p < e && *p == '"')
        {
          p++;
          for (;;)
            {
              if (p >= e)
                return FALSE;
              if (*p == '"')
                {
                  if (p + 1 < e && p[1] == '"')
                    {
                      *out++ = '"';
                      p += 2;
                      continue;
                    }
                  p++;
                  break;
                }
              *out++ = *p++;
            }
          while (p < e && (*p == ' ' || *p == '\t'))
            p++;
          if (p < e && *p != ',')
            return FALSE;
        }
      else
        {
          while (p < e && *p != ',')
            p++;
          out = p;
        }
      gboolean more = p < e;
      *out = '\0';
      g_ptr_array_add (fields, start);
      if (!more)
        return TRUE;
      p++;
    }
}

static char *
strip_field (char *f)
{
  return g_strstrip (f);
}

/* A short excerpt of bad input for a message. */
static char *
excerpt (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  if (g_utf8_strlen (valid, -1) > 40)
    {
      g_autofree char *cut = g_utf8_substring (valid, 0, 40);
      return g_strdup_printf ("'%s…'", cut);
    }
  return g_strdup_printf ("'%s'", valid);
}

static gboolean
parse_float_field (const char *f, float *out)
{
  if (*f == '\0')
    {
      *out = NAN;  /* the writers leave not-applicable values empty */
      return TRUE;
    }
  char *end = NULL;
  double v = g_ascii_strtod (f, &end);
  if (end == f || *end != '\0')
    return FALSE;
  *out = (float) v;
  return TRUE;
}

/* Reads one CSV text (NUL-terminated at data[len], writable) into an array of row_size-byte
 * rows following cols. The header maps names to columns; see cl_runs.h for the rules. */
static GArray *
read_csv_buffer (char *data, gsize len, const char *path, const ColSpec *cols, int n_cols, size_t row_size,
                 GError **error)
{
  /* zero bytes at the end are what a crash can leave after a file grew; anywhere else the
   * file is not text */
  char *nul = memchr (data, '\0', len);
  if (nul != NULL)
    {
      for (char *q = nul; q < data + len; q++)
        if (*q != '\0')
          {
            int line = 1;
            for (char *c = data; c < nul; c++)
              line += *c == '\n';
            g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: line %d: binary data (expected CSV text)",
                         path, line);
            return NULL;
          }
      len = (gsize) (nul - data);
    }
  gsize pos = 0;
  if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;

  GPtrArray *fields = g_ptr_array_new ();
  int map[32];  /* spec column -> file column, -1 absent */
  int header_cols = -1, line = 0;
  GArray *rows = g_array_new (FALSE, TRUE, row_size);
  gboolean ok = TRUE;
  guint8 *row = g_malloc0 (row_size);
  g_assert (n_cols <= (int) G_N_ELEMENTS (map));

  while (ok && pos < len)
    {
      char *ls = data + pos;
      char *nl = memchr (ls, '\n', len - pos);
      gboolean terminated = nl != NULL;
      char *le = terminated ? nl : data + len;
      pos = (gsize) (le - data) + 1;
      line++;
      char *e = le;
      if (e > ls && e[-1] == '\r')
        e--;
      char *first = ls;
      while (first < e && (*first == ' ' || *first == '\t'))
        first++;
      if (first == e || *first == '#')
        continue;  /* blank lines and comments */
      /* an unterminated last line may be a write cut short: it is used only if it is whole */
      gboolean tail = !terminated;

      if (!split_fields (ls, e, fields))
        {
          if (tail)
            break;
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: line %d: unbalanced quotes", path, line);
          ok = FALSE;
          break;
        }
      if (header_cols < 0)
        {
          header_cols = (int) fields->len;
          for (int c = 0; c < n_cols; c++)
            {
              map[c] = -1;
              for (int f = 0; f < header_cols && map[c] < 0; f++)
                if (strcmp (strip_field (fields->pdata[f]), cols[c].name) == 0)
                  map[c] = f;
              if (map[c] < 0 && cols[c].required)
                {
                  GString *want = g_string_new (NULL);
                  for (int k = 0; k < n_cols; k++)
                    if (cols[k].required)
                      g_string_append_printf (want, "%s%s", want->len ? "," : "", cols[k].name);
                  g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE,
                               "%s: line %d: the header has no '%s' column (expected a header with %s)", path, line,
                               cols[c].name, want->str);
                  g_string_free (want, TRUE);
                  ok = FALSE;
                  break;
                }
            }
          continue;
        }
      if ((int) fields->len != header_cols)
        {
          if (tail)
            break;
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: line %d: %u fields, expected %d as in the header",
                       path, line, fields->len, header_cols);
          ok = FALSE;
          break;
        }
      memset (row, 0, row_size);
      for (int c = 0; c < n_cols && ok; c++)
        {
          const ColSpec *col = &cols[c];
          guint8 *dst = row + col->offset;
          if (map[c] < 0)
            {
              if (col->kind == COL_FLOAT)
                *(float *) dst = NAN;
              continue;
            }
          char *f = strip_field (fields->pdata[map[c]]);
          const char *problem = NULL;
          switch (col->kind)
            {
            case COL_INT64:
              {
                gint64 v;
                if (!g_ascii_string_to_signed (f, 10, 0, G_MAXINT64, &v, NULL))
                  problem = "expected a whole number >= 0";
                else
                  *(int64_t *) dst = v;
              }
              break;
            case COL_INT:
              {
                gint64 v;
                if (!g_ascii_string_to_signed (f, 10, 0, G_MAXINT, &v, NULL))
                  problem = "expected a whole number >= 0";
                else
                  *(int *) dst = (int) v;
              }
              break;
            case COL_FLOAT:
              if (!parse_float_field (f, (float *) dst))
                problem = "expected a number";
              break;
            case COL_TEXT:
            case COL_TEXT_CLIPPED:
              {
                size_t n = strlen (f);
                if (n == 0 && col->required)
                  problem = "expected a name";
                else if (n >= col->size && col->kind == COL_TEXT)
                  {
                    g_autofree char *ex = excerpt (f);
                    if (!tail)
                      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE,
                                   "%s: line %d: column %s: %s is longer than %zu characters", path, line, col->name,
                                   ex, col->size - 1);
                    ok = FALSE;
                  }
                else
                  {
                    /* clip on a character boundary so the label stays valid UTF-8 */
                    const char *endp = f + MIN (n, col->size - 1);
                    if (endp < f + n)
                      {
                        const char *valid_end = NULL;
                        g_utf8_validate (f, endp - f, &valid_end);
                        endp = valid_end;
                      }
                    memcpy (dst, f, (size_t) (endp - f));
                    ((char *) dst)[endp - f] = '\0';
                  }
              }
              break;
            }
          if (problem != NULL)
            {
              if (!tail)
                {
                  g_autofree char *ex = excerpt (f);
                  g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: line %d: column %s: %s, got %s", path,
                               line, col->name, problem, ex);
                }
              ok = FALSE;
            }
        }
      if (!ok && tail)
        {
          ok = TRUE;  /* a cut-short last line is dropped, not an error */
          break;
        }
      if (ok)
        g_array_append_vals (rows, row, 1);
    }
  if (ok && header_cols < 0)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: empty (expected a header line starting with %s)",
                   path, cols[0].name);
      ok = FALSE;
    }
  g_free (row);
  g_ptr_array_unref (fields);
  if (!ok)
    {
      g_array_unref (rows);
      return NULL;
    }
  return rows;
}

static gboolean
read_file (const char *path, char **data, gsize *len, GError **error)
{
  GError *local = NULL;
  if (g_file_get_contents (path, data, len, &local))
    return TRUE;
  if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING, "%s: missing", path);
  else
    g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot read: %s", path, local->message);
  g_error_free (local);
  return FALSE;
}

static int
compare_step (gconstpointer a, gconstpointer b, gpointer user_data)
{
  (void) user_data;
  int64_t sa = *(const int64_t *) a, sb = *(const int64_t *) b;
  return (sa > sb) - (sa < sb);
}

/* Every row type starts with its int64_t step. */
static gpointer
finish_rows (GArray *rows, int *n_out)
{
  G_STATIC_ASSERT (offsetof (ClMetricRow, step) == 0 && offsetof (ClProbeRow, step) == 0
                   && offsetof (ClClusterRow, step) == 0 && offsetof (ClEvent, step) == 0);
  guint n = rows->len;
  size_t size = g_array_get_element_size (rows);
  gboolean sorted = TRUE;
  for (guint i = 1; i < n && sorted; i++)
    sorted = *(int64_t *) (rows->data + i * size) >= *(int64_t *) (rows->data + (i - 1) * size);
  /* the figures need steps in order; g_qsort_with_data is stable, so equal steps keep theirs */
  if (!sorted)
    g_qsort_with_data (rows->data, (gint) n, size, compare_step, NULL);
  *n_out = (int) MIN (n, (guint) G_MAXINT);
  if (n == 0)
    {
      g_array_unref (rows);
      return NULL;
    }
  return g_array_free (rows, FALSE);
}

static gpointer
read_csv_file (const char *path, const ColSpec *cols, int n_cols, size_t row_size, int *n_rows, GError **error)
{
  *n_rows = 0;
  char *data;
  gsize len;
  if (!read_file (path, &data, &len, error))
    return NULL;
  GArray *rows = read_csv_buffer (data, len, path, cols, n_cols, row_size, error);
  g_free (data);
  if (!rows)
    return NULL;
  return finish_rows (rows, n_rows);
}

ClMetricRow *
cl_runs_read_metrics (const char *path, int *n_rows, GError **error)
{
  return read_csv_file (path, metric_cols, G_N_ELEMENTS (metric_cols), sizeof (ClMetricRow), n_rows, error);
}

ClProbeRow *
cl_runs_read_probes (const char *path, int *n_rows, GError **error)
{
  return read_csv_file (path, probe_cols, G_N_ELEMENTS (probe_cols), sizeof (ClProbeRow), n_rows, error);
}

ClClusterRow *
cl_runs_read_clusters (const char *path, int *n_rows, GError **error)
{
  return read_csv_file (path, cluster_cols, G_N_ELEMENTS (cluster_cols), sizeof (ClClusterRow), n_rows, error);
}

ClEvent *
cl_runs_read_events (const char *path, int *n_events, GError **error)
{
  return read_csv_file (path, event_cols, G_N_ELEMENTS (event_cols), sizeof (ClEvent), n_events, error);
}

/* ================================================================ CSV writing */

static void
append_number (GString *out, double v, const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  /* not applicable (e.g. code_collision without bits) is an empty field, not "nan" */
  if (isfinite (v))
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, format, v));
}

/* A text field, quoted when it holds a separator, a quote or surrounding spaces. */
static void
append_text (GString *out, const char *text, size_t size)
{
  size_t n = strnlen (text, size);
  gboolean quote = n > 0 && (text[0] == ' ' || text[n - 1] == ' ' || text[0] == '#');
  for (size_t i = 0; i < n && !quote; i++)
    quote = text[i] == ',' || text[i] == '"' || text[i] == '\n' || text[i] == '\r';
  if (!quote)
    {
      g_string_append_len (out, text, (gssize) n);
      return;
    }
  g_string_append_c (out, '"');
  for (size_t i = 0; i < n; i++)
    {
      /* one line per row: a line break inside a value becomes a space */
      char c = text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
      if (c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

static void
append_metric_rows (GString *out, const ClMetricRow *rows, int from, int to)
{
  for (int i = from; i < to; i++)
    {
      const ClMetricRow *r = &rows[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) r->step);
      const float values[] = { r->seconds, r->loss, r->alignment, r->distribution, r->contrastive_acc,
                               r->temperature, r->lr, r->wi_alignment, r->wi_uniformity, r->z_std, r->code_collision };
      for (gsize k = 0; k < G_N_ELEMENTS (values); k++)
        {
          g_string_append_c (out, ',');
          append_number (out, values[k], "%.7g");
        }
      g_string_append_c (out, '\n');
    }
}

static void
append_probe_rows (GString *out, const ClProbeRow *rows, int from, int to)
{
  for (int i = from; i < to; i++)
    {
      const ClProbeRow *p = &rows[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",", (gint64) p->step);
      append_text (out, p->target, sizeof p->target);
      g_string_append_c (out, ',');
      append_number (out, p->accuracy, "%.5f");
      g_string_append_c (out, ',');
      append_number (out, p->chance, "%.5f");
      g_string_append_c (out, '\n');
    }
}

static void
append_cluster_rows (GString *out, const ClClusterRow *rows, int from, int to)
{
  for (int i = from; i < to; i++)
    {
      const ClClusterRow *r = &rows[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",", (gint64) r->step);
      append_text (out, r->layer, sizeof r->layer);
      g_string_append_printf (out, ",%d,", r->k);
      append_number (out, r->object_iou, "%.5f");
      g_string_append_c (out, ',');
      append_number (out, r->instance_ari, "%.5f");
      g_string_append_c (out, '\n');
    }
}

static void
append_event_rows (GString *out, const ClEvent *events, int from, int to)
{
  for (int i = from; i < to; i++)
    {
      const ClEvent *e = &events[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",", (gint64) e->step);
      append_text (out, e->key, sizeof e->key);
      g_string_append_c (out, ',');
      append_text (out, e->old_value, sizeof e->old_value);
      g_string_append_c (out, ',');
      append_text (out, e->new_value, sizeof e->new_value);
      g_string_append_c (out, '\n');
    }
}

char *
cl_runs_metrics_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (metrics_header);
  append_metric_rows (out, snap->rows, 0, snap->n_rows);
  return g_string_free (out, FALSE);
}

char *
cl_runs_probes_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (probes_header);
  append_probe_rows (out, snap->probes, 0, snap->n_probes);
  return g_string_free (out, FALSE);
}

char *
cl_runs_clusters_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (clusters_header);
  append_cluster_rows (out, snap->cluster_rows, 0, snap->n_cluster_rows);
  return g_string_free (out, FALSE);
}

char *
cl_runs_events_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (events_header);
  append_event_rows (out, snap->events, 0, snap->n_events);
  return g_string_free (out, FALSE);
}

/* ======================================================== run.ini and summaries */

static GKeyFile *
keyfile_from_text (const char *text, const char *source, GError **error)
{
  GKeyFile *kf = g_key_file_new ();
  GError *local = NULL;
  if (!g_key_file_load_from_data (kf, text ? text : "", (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: not a valid configuration: %s", source,
                   local->message);
      g_error_free (local);
      g_key_file_unref (kf);
      return NULL;
    }
  return kf;
}

/* Groups of a run.ini that are metadata, not parameters. */
static gboolean
is_meta_group (const char *group)
{
  return strcmp (group, "preset") == 0 || strcmp (group, "run") == 0;
}

static gboolean
values_equal (const char *a, const char *b)
{
  if (strcmp (a, b) == 0)
    return TRUE;
  /* "0.1" and "0.10" are the same parameter value */
  char *ea = NULL, *eb = NULL;
  double va = g_ascii_strtod (a, &ea), vb = g_ascii_strtod (b, &eb);
  return ea != a && *ea == '\0' && eb != b && *eb == '\0' && va == vb;
}

char **
cl_config_ini_diff (const char *ini_a, const char *ini_b, char ***values_a, char ***values_b, GError **error)
{
  g_autoptr (GKeyFile) a = keyfile_from_text (ini_a, "configuration A", error);
  if (!a)
    return NULL;
  g_autoptr (GKeyFile) b = keyfile_from_text (ini_b, "configuration B", error);
  if (!b)
    return NULL;
  GPtrArray *keys = g_ptr_array_new (), *va = g_ptr_array_new (), *vb = g_ptr_array_new ();
  for (int pass = 0; pass < 2; pass++)
    {
      GKeyFile *x = pass == 0 ? a : b, *y = pass == 0 ? b : a;
      g_auto (GStrv) groups = g_key_file_get_groups (x, NULL);
      for (int g = 0; groups[g]; g++)
        {
          if (is_meta_group (groups[g]))
            continue;
          g_auto (GStrv) names = g_key_file_get_keys (x, groups[g], NULL, NULL);
          for (int k = 0; names && names[k]; k++)
            {
              g_autofree char *vx = g_key_file_get_value (x, groups[g], names[k], NULL);
              g_autofree char *vy = g_key_file_get_value (y, groups[g], names[k], NULL);
              /* keys in both were compared in the first pass */
              if (pass == 1 && vy)
                continue;
              if (vx && vy && values_equal (g_strstrip (vx), g_strstrip (vy)))
                continue;
              g_ptr_array_add (keys, g_strdup_printf ("%s.%s", groups[g], names[k]));
              char *from_a = pass == 0 ? vx : vy, *from_b = pass == 0 ? vy : vx;
              g_ptr_array_add (va, g_strdup (from_a ? from_a : ""));
              g_ptr_array_add (vb, g_strdup (from_b ? from_b : ""));
            }
        }
    }
  g_ptr_array_add (keys, NULL);
  g_ptr_array_add (va, NULL);
  g_ptr_array_add (vb, NULL);
  if (values_a)
    *values_a = (char **) g_ptr_array_free (va, FALSE);
  else
    g_strfreev ((char **) g_ptr_array_free (va, FALSE));
  if (values_b)
    *values_b = (char **) g_ptr_array_free (vb, FALSE);
  else
    g_strfreev ((char **) g_ptr_array_free (vb, FALSE));
  return (char **) g_ptr_array_free (keys, FALSE);
}

static char *
kf_value (GKeyFile *kf, const char *group, const char *key)
{
  char *v = g_key_file_get_value (kf, group, key, NULL);
  return v ? g_strstrip (v) : NULL;
}

/* Missing or malformed keys leave *out as it was. */
static void
kf_int (GKeyFile *kf, const char *group, const char *key, int *out)
{
  GError *e = NULL;
  int v = g_key_file_get_integer (kf, group, key, &e);
  if (!e)
    *out = v;
  g_clear_error (&e);
}

static void
kf_int64 (GKeyFile *kf, const char *group, const char *key, gint64 *out)
{
  GError *e = NULL;
  gint64 v = g_key_file_get_int64 (kf, group, key, &e);
  if (!e)
    *out = v;
  g_clear_error (&e);
}

static void
kf_double (GKeyFile *kf, const char *group, const char *key, double *out)
{
  GError *e = NULL;
  double v = g_key_file_get_double (kf, group, key, &e);
  if (!e)
    *out = v;
  g_clear_error (&e);
}

static char *
summary_from_keyfile (GKeyFile *kf)
{
  g_autofree char *base = kf_value (kf, "data", "base");
  g_autofree char *kind = kf_value (kf, "data", "kind");
  g_autofree char *bits = kf_value (kf, "data", "bits");
  g_autofree char *loss = kf_value (kf, "loss", "kind");
  g_autofree char *tau = kf_value (kf, "loss", "temperature");
  g_autofree char *lambda = kf_value (kf, "loss", "lambda");
  g_autofree char *batch = kf_value (kf, "train", "batch");
  g_autofree char *steps = kf_value (kf, "train", "steps");
  GString *s = g_string_new (NULL);
  if (base && *base && strcmp (base, "fashion-mnist") != 0)
    g_string_append_printf (s, "%s ", base);
  g_string_append (s, kind && *kind ? kind : "randbits");
  if (bits && strcmp (bits, "0") != 0)
    g_string_append_printf (s, " %s bits", bits);
  if (loss)
    {
      g_string_append_printf (s, " · %s", loss);
      /* the swd losses have no temperature */
      if (tau && !g_str_has_prefix (loss, "swd"))
        g_string_append_printf (s, " τ=%s", tau);
      if (lambda && strcmp (loss, "ntxent") != 0 && strcmp (lambda, "-1") != 0)
        g_string_append_printf (s, " λ=%s", lambda);
    }
  if (batch)
    g_string_append_printf (s, " · batch %s", batch);
  if (steps)
    g_string_append_printf (s, " · %s steps", steps);
  return g_string_free (s, FALSE);
}

char *
cl_config_ini_summary (const char *ini)
{
  g_autoptr (GKeyFile) kf = keyfile_from_text (ini, "run.ini", NULL);
  return kf ? summary_from_keyfile (kf) : g_strdup ("");
}

/* ==================================================================== ClRunInfo */

const char *
cl_run_status_name (ClRunStatus status)
{
  switch (status)
    {
    case CL_RUN_STATUS_RUNNING: return "running";
    case CL_RUN_STATUS_FINISHED: return "finished";
    case CL_RUN_STATUS_STOPPED: return "stopped";
    case CL_RUN_STATUS_INTERRUPTED: return "interrupted";
    case CL_RUN_STATUS_UNKNOWN:
    default: return "unknown";
    }
}

static ClRunStatus
status_from_name (const char *name)
{
  for (int s = CL_RUN_STATUS_UNKNOWN; s <= CL_RUN_STATUS_INTERRUPTED; s++)
    if (name && strcmp (name, cl_run_status_name ((ClRunStatus) s)) == 0)
      return (ClRunStatus) s;
  return CL_RUN_STATUS_UNKNOWN;
}

static ClRunInfo *
info_new (void)
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

static void
info_set_finals (ClRunInfo *info, char **targets, double *accuracy, int n)
{
  g_strfreev (info->final_targets);
  g_free (info->final_accuracy);
  info->final_targets = targets;
  info->final_accuracy = accuracy;
  info->n_final = n;
}

static gboolean
is_per_bit_target (const char *t)
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
static gboolean
info_update_finals (ClRunInfo *info, const ClProbeRow *probes, int n_probes)
{
  GPtrArray *targets = g_ptr_array_new ();
  GArray *acc = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *at = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (int i = 0; i < n_probes; i++)
    {
      char name[sizeof probes[i].target + 1];
      memcpy (name, probes[i].target, sizeof probes[i].target);
      name[sizeof probes[i].target] = '\0';
      if (name[0] == '\0' || is_per_bit_target (name))
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
    changed = strcmp (targets->pdata[k], info->final_targets[k]) != 0
              || !(g_array_index (acc, double, k) == info->final_accuracy[k]
                   || (isnan (g_array_index (acc, double, k)) && isnan (info->final_accuracy[k])));
  g_array_unref (at);
  g_ptr_array_add (targets, NULL);
  if (changed)
    info_set_finals (info, (char **) g_ptr_array_free (targets, FALSE), (double *) g_array_free (acc, FALSE), n);
  else
    {
      g_strfreev ((char **) g_ptr_array_free (targets, FALSE));
      g_array_unref (acc);
    }
  return changed;
}

/* run.ini facts: seed, train.steps, summary, and the headless header comment
 * "# ContrastLab V headless run: N steps in S s". */
static void
info_from_run_ini (ClRunInfo *info, const char *text)
{
  g_autoptr (GKeyFile) kf = keyfile_from_text (text, RUN_INI, NULL);
  if (kf)
    {
      g_free (info->summary);
      info->summary = summary_from_keyfile (kf);
      kf_int (kf, "train", "seed", &info->seed);
      kf_int64 (kf, "train", "steps", &info->total_steps);
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

static void
info_to_keyfile (GKeyFile *kf, const char *group, const ClRunInfo *info)
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
static gboolean
info_from_keyfile (GKeyFile *kf, const char *group, ClRunInfo *info)
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
  kf_int (kf, group, "seed", &info->seed);
  kf_int64 (kf, group, "started", &info->started);
  kf_double (kf, group, "duration", &info->duration);
  kf_int64 (kf, group, "steps", &info->steps);
  kf_int64 (kf, group, "total_steps", &info->total_steps);
  g_autofree char *status = g_key_file_get_string (kf, group, "status", NULL);
  info->status = status_from_name (status);
  gsize nt = 0, na = 0;
  char **targets = g_key_file_get_string_list (kf, group, "final_targets", &nt, NULL);
  double *acc = g_key_file_get_double_list (kf, group, "final_accuracy", &na, NULL);
  if (targets && acc && nt == na)
    info_set_finals (info, targets, acc, (int) nt);
  else
    {
      g_strfreev (targets);
      g_free (acc);
    }
  return TRUE;
}

/* ================================================================ whole folders */

static gboolean
load_optional (const char *dir, const char *name, const ColSpec *cols, int n_cols, size_t row_size, gpointer *rows,
               int *n, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *local = NULL;
  *rows = read_csv_file (path, cols, n_cols, row_size, n, &local);
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
  if (!read_file (ini_path, &ini, &ini_len, &local))
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
  g_autoptr (GKeyFile) check = keyfile_from_text (ini, ini_path, error);
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
  if (!load_optional (dir, PROBES_CSV, probe_cols, G_N_ELEMENTS (probe_cols), sizeof (ClProbeRow), &probes,
                      &n_probes, error)
      || !load_optional (dir, CLUSTERS_CSV, cluster_cols, G_N_ELEMENTS (cluster_cols), sizeof (ClClusterRow),
                         &clusters, &n_clusters, error)
      || !load_optional (dir, EVENTS_CSV, event_cols, G_N_ELEMENTS (event_cols), sizeof (ClEvent), &events,
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
  ClRunInfo *info = info_new ();
  info_from_run_ini (info, ini);
  g_autofree char *info_path = g_build_filename (dir, INFO_INI, NULL);
  g_autoptr (GKeyFile) meta = g_key_file_new ();
  if (g_key_file_load_from_file (meta, info_path, G_KEY_FILE_NONE, NULL))
    info_from_keyfile (meta, "run", info);
  ClSnapshot *snap = cl_snapshot_new_from_rows (rows, n_rows, events, n_events, probes, n_probes, clusters, n_clusters,
                                                ini);
  if (isfinite (info->duration) && info->duration > snap->seconds)
    snap->seconds = info->duration;
  cl_run_info_free (info);
  return snap;
}

/* Replaces dir/name atomically: a temp file NAME.XXXXXX beside it (the pattern
 * g_file_set_contents uses too, so open recognises leftovers), then rename. GLib's own
 * version fsyncs every time, which costs tens of milliseconds on the GUI thread; here only
 * durable writes wait for the disk. */
static gboolean
write_file (const char *dir, const char *name, const char *text, gboolean durable, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  int e = 0;
  if (fd < 0)
    e = errno;
  else
    {
      gsize len = strlen (text), done = 0;
      while (done < len && e == 0)
        {
          ssize_t w = write (fd, text + done, len - done);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            e = w < 0 ? errno : ENOSPC;
          else
            done += (gsize) w;
        }
      if (e == 0 && durable && fsync (fd) != 0)
        e = errno;
      if (close (fd) != 0 && e == 0)
        e = errno;
      if (e == 0 && rename (tmp, path) != 0)
        e = errno;
      if (e != 0)
        g_unlink (tmp);
    }
  if (e != 0)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot write: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* A file in a folder nobody reads yet: written in place. */
static gboolean
write_new_file (const char *dir, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  int e = fd < 0 ? errno : 0;
  gsize len = strlen (text), done = 0;
  while (fd >= 0 && done < len && e == 0)
    {
      ssize_t w = write (fd, text + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        e = w < 0 ? errno : ENOSPC;
      else
        done += (gsize) w;
    }
  if (fd >= 0 && close (fd) != 0 && e == 0)
    e = errno;
  if (e != 0)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot write: %s", path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_dir (const char *dir, GError **error)
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
  if (!make_dir (dir, error))
    return FALSE;
  g_autofree char *ini = g_strdup_printf ("%s%s%s%s", header_comment ? "# " : "", header_comment ? header_comment : "",
                                          header_comment ? "\n" : "", snap->config_ini ? snap->config_ini : "");
  g_autofree char *metrics = cl_runs_metrics_csv (snap);
  g_autofree char *probes = cl_runs_probes_csv (snap);
  g_autofree char *clusters = cl_runs_clusters_csv (snap);
  g_autofree char *events = cl_runs_events_csv (snap);
  /* run.ini last: a folder becomes a run when it has run.ini and metrics.csv */
  return write_file (dir, METRICS_CSV, metrics, TRUE, error) && write_file (dir, PROBES_CSV, probes, TRUE, error)
         && write_file (dir, CLUSTERS_CSV, clusters, TRUE, error) && write_file (dir, EVENTS_CSV, events, TRUE, error)
         && write_file (dir, RUN_INI, ini, TRUE, error);
}

/* ======================================================================= scanning */

typedef struct {
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

typedef struct {
  GPtrArray *runs;
  GHashTable *sweep_finals;  /* run folder path -> Finals, from sweep.csv files */
  GHashTable *visited;       /* "dev:ino" of folders seen, against symlink loops */
} Scan;

/* sweep.csv: the swept keys (names with a dot), then one column per probe target. Each row's
 * run lives in runs/KEY=VALUE,KEY=VALUE (as the CLI names them). */
static void
read_sweep (Scan *scan, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, SWEEP_CSV, NULL);
  char *data;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, NULL))
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
          if (end == cells[c] || *end != '\0' || is_per_bit_target (header[c]) || g_str_has_suffix (header[c], "_mean")
              || g_str_has_suffix (header[c], "_std") || strcmp (header[c], "seeds") == 0)
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
  char *text = NULL;
  gsize len;
  if (!g_file_get_contents (ini_path, &text, &len, NULL))
    return NULL;
  ClRunInfo *info = info_new ();
  info->path = g_strdup (dir);
  info->id = g_strdup (rel);
  info_from_run_ini (info, text);
  g_free (text);
  GStatBuf st;
  if (g_stat (ini_path, &st) == 0)
    info->started = (gint64) st.st_mtime - (isfinite (info->duration) ? (gint64) info->duration : 0);
  if (has_info)
    {
      g_autofree char *meta_path = g_build_filename (dir, INFO_INI, NULL);
      g_autoptr (GKeyFile) meta = g_key_file_new ();
      if (g_key_file_load_from_file (meta, meta_path, G_KEY_FILE_NONE, NULL))
        info_from_keyfile (meta, "run", info);
    }
  if (!info->label || !*info->label)
    {
      g_free (info->label);
      info->label = g_strdup (rel);
    }
  Finals *f = g_hash_table_lookup (scan->sweep_finals, dir);
  if (f && info->n_final == 0)
    info_set_finals (info, g_strdupv (f->targets), g_memdup2 (f->accuracy, sizeof (double) * (gsize) f->n), f->n);
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
        continue;  /* ., .., and hidden folders (the store's half-made and deleted runs) */
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
      if (is_file)
        {
          has_ini |= strcmp (n, RUN_INI) == 0;
          has_metrics |= strcmp (n, METRICS_CSV) == 0;
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
  gboolean root_is_run = g_file_test (ini, G_FILE_TEST_IS_REGULAR) && g_file_test (metrics, G_FILE_TEST_IS_REGULAR);
  scan_folder (&scan, dir, root_is_run ? base : "", 0);
  g_hash_table_unref (scan.sweep_finals);
  g_hash_table_unref (scan.visited);
  sort_natural (scan.runs);
  return scan.runs;
}

/* ====================================================================== the store */

typedef struct {
  ClRunInfo *info;      /* the store's entry (not owned) */
  int fd[4];            /* metrics, probes, clusters, events: O_APPEND */
  off_t committed[4];   /* bytes known whole in each file */
  int written[4];       /* rows written */
  int64_t first_step;   /* first metric row's step, -1 before any */
  char *config_ini;     /* text of run.ini as written */
  gint64 meta_written;  /* monotonic time of the last info.ini write */
} Recording;

enum { F_METRICS, F_PROBES, F_CLUSTERS, F_EVENTS, N_FILES };
static const char *const file_names[N_FILES] = { METRICS_CSV, PROBES_CSV, CLUSTERS_CSV, EVENTS_CSV };
static const char *const file_headers[N_FILES] = { metrics_header, probes_header, clusters_header, events_header };

struct ClRunStore {
  char *dir;
  GPtrArray *runs;  /* ClRunInfo*, sorted by id */
  GHashTable *sections; /* id -> the run's group of index.ini as last written, so that
                         * rewriting the index costs a concatenation, not a GKeyFile of
                         * hundreds of groups */
  int next_number;  /* for "Run N" labels */
  Recording *rec;
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
  info_to_keyfile (kf, info->id, info);
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
      if (!section)
        {
          section = index_section (info);
          g_hash_table_insert (store->sections, g_strdup (info->id), (gpointer) section);
        }
      g_string_append_c (text, '\n');
      g_string_append (text, section);
    }
  gboolean ok = write_file (store->dir, INDEX_INI, text->str, durable, error);
  g_string_free (text, TRUE);
  return ok;
}

static char *
info_text (const ClRunInfo *info)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_string (kf, "run", "id", info->id);
  info_to_keyfile (kf, "run", info);
  return g_key_file_to_data (kf, NULL, NULL);
}

static gboolean
write_info (const char *dir, const ClRunInfo *info, gboolean durable, GError **error)
{
  g_autofree char *text = info_text (info);
  return write_file (dir, INFO_INI, text, durable, error);
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
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d)
    {
      const char *n;
      while ((n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, n, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (d);
    }
  g_rmdir (path);
}

/* g_file_set_contents writes NAME.XXXXXX beside NAME; a crash can leave one behind. */
static gboolean
is_temp_of (const char *name, const char *target)
{
  size_t n = strlen (target);
  return strncmp (name, target, n) == 0 && name[n] == '.' && strlen (name + n + 1) == 6;
}

static void
remove_stray_temps (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    if (is_temp_of (n, INFO_INI) || is_temp_of (n, RUN_INI) || is_temp_of (n, INDEX_INI))
      {
        g_autofree char *p = g_build_filename (dir, n, NULL);
        g_unlink (p);
      }
  g_dir_close (d);
}

/* The last whole metric row of a crashed run, read from the end of its file only. */
static void
repair_from_tail (ClRunInfo *info)
{
  g_autofree char *path = g_build_filename (info->path, METRICS_CSV, NULL);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  struct stat st;
  char head[4096];
  ssize_t hn = fstat (fd, &st) == 0 ? pread (fd, head, sizeof head, 0) : -1;
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
          GArray *rows = read_csv_buffer (buf, (gsize) hlen + body, path, metric_cols, G_N_ELEMENTS (metric_cols),
                                          sizeof (ClMetricRow), NULL);
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

/* TRUE when a live process holds the recording lock of the run in path. */
static gboolean
run_is_locked (const char *path)
{
  g_autofree char *metrics = g_build_filename (path, METRICS_CSV, NULL);
  int fd = open (metrics, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean locked = flock (fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close (fd);  /* releases the lock if we took it */
  return locked;
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
  if (!make_dir (path, error))
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
          remove_tree (full);
          continue;
        }
      if (is_temp_of (n, INDEX_INI))
        {
          g_unlink (full);
          continue;
        }
      if (!valid_id (n) || !g_file_test (full, G_FILE_TEST_IS_DIR))
        continue;
      ClRunInfo *info = info_new ();
      info->id = g_strdup (n);
      info->path = g_strdup (full);
      gboolean indexed = have_index && info_from_keyfile (index, n, info);
      if (!indexed || info->status == CL_RUN_STATUS_RUNNING)
        {
          g_autofree char *info_path = g_build_filename (full, INFO_INI, NULL);
          g_autoptr (GKeyFile) meta = g_key_file_new ();
          if (!g_key_file_load_from_file (meta, info_path, G_KEY_FILE_NONE, NULL)
              || !info_from_keyfile (meta, "run", info))
            {
              /* not one of ours (or never finished being made): left alone, not listed */
              cl_run_info_free (info);
              if (indexed)
                dirty = TRUE;
              continue;
            }
          dirty = TRUE;
        }
      if (info->status == CL_RUN_STATUS_RUNNING && !run_is_locked (full))
        {
          repair_from_tail (info);
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
  return store->rec ? store->rec->info->id : NULL;
}

static void
recording_close (Recording *rec)
{
  for (int f = 0; f < N_FILES; f++)
    if (rec->fd[f] >= 0)
      close (rec->fd[f]);
  g_free (rec->config_ini);
  g_free (rec);
}

/* Appends text to file f as one unit: on failure the file is cut back to its last whole row,
 * so a later append never follows a partial line. */
static gboolean
append_rows (Recording *rec, int f, const GString *text, int n_new, GError **error)
{
  if (text->len == 0)
    return TRUE;
  gsize done = 0;
  while (done < text->len)
    {
      ssize_t w = write (rec->fd[f], text->str + done, text->len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          int e = w < 0 ? errno : ENOSPC;
          if (ftruncate (rec->fd[f], rec->committed[f]) != 0)
            { /* the reader drops the unterminated tail anyway */ }
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s/%s: cannot write: %s", rec->info->path,
                       file_names[f], g_strerror (e));
          return FALSE;
        }
      done += (gsize) w;
    }
  rec->committed[f] += (off_t) text->len;
  rec->written[f] += n_new;
  return TRUE;
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
store_end_current (ClRunStore *store, ClRunStatus status, gboolean durable, GError **error)
{
  Recording *rec = store->rec;
  if (!rec)
    return TRUE;
  rec->info->status = status;
  gboolean ok = store_write_meta (store, rec->info, durable, error);
  store->rec = NULL;
  recording_close (rec);  /* closing the files releases the recording lock */
  return ok;
}

void
cl_run_store_close (ClRunStore *store)
{
  if (!store)
    return;
  if (store->rec)
    store_end_current (store, CL_RUN_STATUS_STOPPED, TRUE, NULL);
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

static char *
run_ini_text (const char *config_ini)
{
  return g_strdup_printf ("# ContrastLab %s run recorded by the window\n%s", CL_VERSION, config_ini ? config_ini : "");
}

static void
info_from_snapshot (ClRunInfo *info, const ClSnapshot *snap)
{
  info->steps = snap->step;
  info->total_steps = snap->total_steps;
  info->duration = snap->seconds;
}

static void
info_from_config (ClRunInfo *info, const char *config_ini)
{
  g_autoptr (GKeyFile) kf = keyfile_from_text (config_ini, RUN_INI, NULL);
  if (!kf)
    return;
  g_free (info->summary);
  info->summary = summary_from_keyfile (kf);
  kf_int (kf, "train", "seed", &info->seed);
}

const char *
cl_run_store_begin (ClRunStore *store, const ClSnapshot *snap, const char *label, GError **error)
{
  if (store->rec && !store_end_current (store, CL_RUN_STATUS_STOPPED, FALSE, error))
    return NULL;
  g_autofree char *id = new_run_id (store);
  g_autofree char *tmp = g_strconcat (store->dir, G_DIR_SEPARATOR_S, NEW_PREFIX, id, NULL);
  g_autofree char *final = g_build_filename (store->dir, id, NULL);

  ClRunInfo *info = info_new ();
  info->id = g_strdup (id);
  info->path = g_strdup (final);
  info->label = label ? g_strdup (label) : g_strdup_printf ("Run %d", store->next_number);
  info->summary = g_strdup ("");
  info->started = g_get_real_time () / G_USEC_PER_SEC;
  info->status = CL_RUN_STATUS_RUNNING;
  info->steps = 0;
  info->duration = 0;
  const char *config = snap ? snap->config_ini : NULL;
  if (config)
    info_from_config (info, config);
  if (snap)
    info->total_steps = snap->total_steps;

  /* made complete under a hidden name, then renamed: never listed half-made, and the files
   * inside need no rename of their own */
  gboolean ok = make_dir (tmp, error);
  for (int f = 0; ok && f < N_FILES; f++)
    ok = write_new_file (tmp, file_names[f], file_headers[f], error);
  g_autofree char *ini = run_ini_text (config);
  g_autofree char *meta = info_text (info);
  ok = ok && write_new_file (tmp, RUN_INI, ini, error) && write_new_file (tmp, INFO_INI, meta, error);
  if (ok && g_rename (tmp, final) != 0)
    {
      int e = errno;
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot create run folder: %s", final, g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    {
      remove_tree (tmp);
      cl_run_info_free (info);
      return NULL;
    }

  Recording *rec = g_new0 (Recording, 1);
  rec->info = info;
  rec->first_step = -1;
  rec->config_ini = g_strdup (config);
  rec->meta_written = g_get_monotonic_time ();
  for (int f = 0; f < N_FILES; f++)
    {
      g_autofree char *p = g_build_filename (final, file_names[f], NULL);
      rec->fd[f] = open (p, O_WRONLY | O_APPEND | O_CLOEXEC);
      rec->committed[f] = (off_t) strlen (file_headers[f]);
      if (rec->fd[f] < 0 && ok)
        {
          int e = errno;
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_IO, "%s: cannot open for writing: %s", p, g_strerror (e));
          ok = FALSE;
        }
    }
  /* the lock tells a later open that this run is alive, not crashed */
  if (ok)
    flock (rec->fd[F_METRICS], LOCK_EX | LOCK_NB);

  store->next_number++;
  g_ptr_array_add (store->runs, info);
  g_ptr_array_sort (store->runs, compare_info_id);
  store->rec = rec;
  if (!ok || !store_write_index (store, FALSE, error))
    {
      /* the folder exists and is complete; it stays listed (as stopped) but is not recorded into */
      store->rec = NULL;
      info->status = CL_RUN_STATUS_STOPPED;
      write_info (final, info, FALSE, NULL);
      recording_close (rec);
      return NULL;
    }
  return info->id;
}

static gboolean
snapshot_is_new_run (const Recording *rec, const ClSnapshot *snap)
{
  if (snap->n_rows < rec->written[F_METRICS] || snap->n_probes < rec->written[F_PROBES]
      || snap->n_cluster_rows < rec->written[F_CLUSTERS] || snap->n_events < rec->written[F_EVENTS])
    return TRUE;
  return rec->first_step >= 0 && snap->n_rows > 0 && snap->rows[0].step != rec->first_step;
}

static gboolean
record_rows (ClRunStore *store, const ClSnapshot *snap, gboolean force_meta, GError **error)
{
  Recording *rec = store->rec;
  GString *text = g_string_new (NULL);
  gboolean ok = TRUE;
  int have[N_FILES] = { snap->n_rows, snap->n_probes, snap->n_cluster_rows, snap->n_events };
  for (int f = 0; f < N_FILES && ok; f++)
    {
      int from = rec->written[f], to = have[f];
      if (to <= from)
        continue;
      g_string_truncate (text, 0);
      switch (f)
        {
        case F_METRICS: append_metric_rows (text, snap->rows, from, to); break;
        case F_PROBES: append_probe_rows (text, snap->probes, from, to); break;
        case F_CLUSTERS: append_cluster_rows (text, snap->cluster_rows, from, to); break;
        default: append_event_rows (text, snap->events, from, to); break;
        }
      ok = append_rows (rec, f, text, to - from, error);
    }
  g_string_free (text, TRUE);
  if (ok && rec->first_step < 0 && snap->n_rows > 0)
    rec->first_step = snap->rows[0].step;

  gboolean meta = force_meta;
  if (ok && snap->config_ini && g_strcmp0 (snap->config_ini, rec->config_ini) != 0)
    {
      g_autofree char *ini = run_ini_text (snap->config_ini);
      ok = write_file (rec->info->path, RUN_INI, ini, FALSE, error);
      if (ok)
        {
          g_free (rec->config_ini);
          rec->config_ini = g_strdup (snap->config_ini);
          info_from_config (rec->info, snap->config_ini);
          meta = TRUE;
        }
    }
  info_from_snapshot (rec->info, snap);
  meta |= info_update_finals (rec->info, snap->probes, snap->n_probes);
  gint64 now = g_get_monotonic_time ();
  meta |= now - rec->meta_written >= META_REFRESH_US;
  if (ok && meta && !force_meta)
    {
      /* info.ini only: open re-reads the info of every run the index lists as running, so
       * the index (hundreds of runs) is rewritten at begin and finish, not during a run */
      g_hash_table_remove (store->sections, rec->info->id);
      ok = write_info (rec->info->path, rec->info, FALSE, error);
      rec->meta_written = now;
    }
  return ok;
}

gboolean
cl_run_store_record (ClRunStore *store, const ClSnapshot *snap, GError **error)
{
  g_return_val_if_fail (snap != NULL, FALSE);
  if (store->rec && snapshot_is_new_run (store->rec, snap))
    {
      if (!store_end_current (store, CL_RUN_STATUS_STOPPED, FALSE, error))
        return FALSE;
    }
  if (!store->rec && !cl_run_store_begin (store, snap, NULL, error))
    return FALSE;
  return record_rows (store, snap, FALSE, error);
}

gboolean
cl_run_store_finish (ClRunStore *store, const ClSnapshot *snap, GError **error)
{
  if (!store->rec)
    return TRUE;
  gboolean ok = TRUE;
  if (snap && !snapshot_is_new_run (store->rec, snap))
    ok = record_rows (store, snap, TRUE, error);
  ClRunStatus status = ok && snap && !snapshot_is_new_run (store->rec, snap) ? final_status (snap)
                                                                             : CL_RUN_STATUS_STOPPED;
  return store_end_current (store, status, FALSE, ok ? error : NULL) && ok;
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
  if (store->rec && store->rec->info == info)
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
  remove_tree (trash);
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
