/* CSV files of a run folder: the tolerant-but-strict reader and the writers (cl_runs.h). */
#include "engine/store/cl_runs_private.h"

#include "engine/base/cl_file.h"
#include "engine/base/cl_text.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char cl_metrics_header[] = "step,seconds,loss,alignment,distribution,contrastive_acc,temperature,lr,"
                                 "wi_alignment,wi_uniformity,z_std,code_collision\n";
const char cl_probes_header[] = "step,target,accuracy,chance\n";
const char cl_clusters_header[] = "step,layer,k,object_iou,instance_ari\n";
const char cl_events_header[] = "step,key,old_value,new_value\n";

/* ================================================================ CSV reading */

#define MCOL(name, kind, req)                                                                                          \
  {                                                                                                                    \
#name, kind, offsetof(ClMetricRow, name), 0, req                                                                   \
  }
const ColSpec cl_metric_cols[] = {
  MCOL (step, COL_INT64, TRUE),          MCOL (seconds, COL_FLOAT, FALSE),
  MCOL (loss, COL_FLOAT, FALSE),         MCOL (alignment, COL_FLOAT, FALSE),
  MCOL (distribution, COL_FLOAT, FALSE), MCOL (contrastive_acc, COL_FLOAT, FALSE),
  MCOL (temperature, COL_FLOAT, FALSE),  MCOL (lr, COL_FLOAT, FALSE),
  MCOL (wi_alignment, COL_FLOAT, FALSE), MCOL (wi_uniformity, COL_FLOAT, FALSE),
  MCOL (z_std, COL_FLOAT, FALSE),        MCOL (code_collision, COL_FLOAT, FALSE),
};
const ColSpec cl_probe_cols[] = {
  { "step", COL_INT64, offsetof (ClProbeRow, step), 0, TRUE },
  { "target", COL_TEXT, offsetof (ClProbeRow, target), sizeof ((ClProbeRow *) 0)->target, TRUE },
  { "accuracy", COL_FLOAT, offsetof (ClProbeRow, accuracy), 0, TRUE },
  { "chance", COL_FLOAT, offsetof (ClProbeRow, chance), 0, FALSE },
};
const ColSpec cl_cluster_cols[] = {
  { "step", COL_INT64, offsetof (ClClusterRow, step), 0, TRUE },
  { "layer", COL_TEXT, offsetof (ClClusterRow, layer), sizeof ((ClClusterRow *) 0)->layer, TRUE },
  { "k", COL_INT, offsetof (ClClusterRow, k), 0, TRUE },
  { "object_iou", COL_FLOAT, offsetof (ClClusterRow, object_iou), 0, FALSE },
  { "instance_ari", COL_FLOAT, offsetof (ClClusterRow, instance_ari), 0, FALSE },
};
const ColSpec cl_event_cols[] = {
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

/* A short excerpt of bad input for a message, control bytes escaped. */
static char *
excerpt (const char *text)
{
  g_autofree char *shown = cl_text_escape (text, 40);
  return g_strdup_printf ("'%s'", shown);
}

static gboolean
parse_float_field (const char *f, float *out)
{
  if (*f == '\0')
    {
      *out = NAN; /* the writers leave not-applicable values empty */
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
GArray *
cl_csv_read_buffer (char *data, gsize len, const char *path, const ColSpec *cols, int n_cols, size_t row_size,
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
  int map[32]; /* spec column -> file column, -1 absent */
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
        continue; /* blank lines and comments */
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
          g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE,
                       "%s: line %d: %u fields, expected %d as in the header", path, line, fields->len, header_cols);
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
          ok = TRUE; /* a cut-short last line is dropped, not an error */
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

gboolean
cl_runs_read_text (const char *path, gsize max, char **data, gsize *len, GError **error)
{
  GError *local = NULL;
  if (cl_file_read_regular (path, max, data, len, &local))
    return TRUE;
  if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING, "%s: missing", path);
  else if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_INVAL) ||
           g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_ISDIR))
    g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: not a regular file (expected a text file)", path);
  else if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_FAILED))
    g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: too large (at most %" G_GSIZE_FORMAT " MB)", path,
                 max >> 20);
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
  G_STATIC_ASSERT (offsetof (ClMetricRow, step) == 0 && offsetof (ClProbeRow, step) == 0 &&
                   offsetof (ClClusterRow, step) == 0 && offsetof (ClEvent, step) == 0);
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

gpointer
cl_csv_read_file (const char *path, const ColSpec *cols, int n_cols, size_t row_size, int *n_rows, GError **error)
{
  *n_rows = 0;
  char *data;
  gsize len;
  if (!cl_runs_read_text (path, CL_RUNS_MAX_CSV_BYTES, &data, &len, error))
    return NULL;
  GArray *rows = cl_csv_read_buffer (data, len, path, cols, n_cols, row_size, error);
  g_free (data);
  if (!rows)
    return NULL;
  return finish_rows (rows, n_rows);
}

ClMetricRow *
cl_runs_read_metrics (const char *path, int *n_rows, GError **error)
{
  return cl_csv_read_file (path, cl_metric_cols, G_N_ELEMENTS (cl_metric_cols), sizeof (ClMetricRow), n_rows, error);
}

ClProbeRow *
cl_runs_read_probes (const char *path, int *n_rows, GError **error)
{
  return cl_csv_read_file (path, cl_probe_cols, G_N_ELEMENTS (cl_probe_cols), sizeof (ClProbeRow), n_rows, error);
}

ClClusterRow *
cl_runs_read_clusters (const char *path, int *n_rows, GError **error)
{
  return cl_csv_read_file (path, cl_cluster_cols, G_N_ELEMENTS (cl_cluster_cols), sizeof (ClClusterRow), n_rows, error);
}

ClEvent *
cl_runs_read_events (const char *path, int *n_events, GError **error)
{
  return cl_csv_read_file (path, cl_event_cols, G_N_ELEMENTS (cl_event_cols), sizeof (ClEvent), n_events, error);
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

void
cl_csv_append_metric_rows (GString *out, const ClMetricRow *rows, int from, int to)
{
  for (int i = from; i < to; i++)
    {
      const ClMetricRow *r = &rows[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) r->step);
      const float values[] = { r->seconds,       r->loss, r->alignment,    r->distribution,  r->contrastive_acc,
                               r->temperature,   r->lr,   r->wi_alignment, r->wi_uniformity, r->z_std,
                               r->code_collision };
      for (gsize k = 0; k < G_N_ELEMENTS (values); k++)
        {
          g_string_append_c (out, ',');
          append_number (out, values[k], "%.7g");
        }
      g_string_append_c (out, '\n');
    }
}

void
cl_csv_append_probe_rows (GString *out, const ClProbeRow *rows, int from, int to)
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

void
cl_csv_append_cluster_rows (GString *out, const ClClusterRow *rows, int from, int to)
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

void
cl_csv_append_event_rows (GString *out, const ClEvent *events, int from, int to)
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
  GString *out = g_string_new (cl_metrics_header);
  cl_csv_append_metric_rows (out, snap->rows, 0, snap->n_rows);
  return g_string_free (out, FALSE);
}

char *
cl_runs_probes_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (cl_probes_header);
  cl_csv_append_probe_rows (out, snap->probes, 0, snap->n_probes);
  return g_string_free (out, FALSE);
}

char *
cl_runs_clusters_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (cl_clusters_header);
  cl_csv_append_cluster_rows (out, snap->cluster_rows, 0, snap->n_cluster_rows);
  return g_string_free (out, FALSE);
}

char *
cl_runs_events_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new (cl_events_header);
  cl_csv_append_event_rows (out, snap->events, 0, snap->n_events);
  return g_string_free (out, FALSE);
}
