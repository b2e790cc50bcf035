/* Sweeps on disk: the plan file, the cells' folders and markers, and reading cells back for
 * collect. The in-process sweep of the CLI and distributed cells (Slurm, GNU parallel) share
 * this code, so their sweep.csv is the same byte for byte. */
#include "engine/sweep/cl_sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/cl_file.h"
#include "engine/store/cl_runs.h"

G_DEFINE_QUARK (cl - sweep - error - quark, cl_sweep_error)

#define PLAN_MAGIC "contrastlab-sweep-plan"
#define PLAN_VERSION 1
#define FOLDER_MAX 200

/* ------------------------------------------------------------- folder names */

static gboolean
folder_safe_byte (unsigned char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '_' || c == ',' || c == '=' || c == '+' || c == '-';
}

char *
cl_sweep_grid_point_folder (const ClSweepGrid *grid, int point)
{
  g_autofree char *name = cl_sweep_grid_point_name (grid, point);
  GString *out = g_string_new (NULL);
  for (const unsigned char *c = (const unsigned char *) name; *c; c++)
    {
      /* A leading dot would make a hidden folder (or "." / ".."); keys never start with one. */
      if (folder_safe_byte (*c) && !(out->len == 0 && *c == '.'))
        g_string_append_c (out, (char) *c);
      else
        g_string_append_printf (out, "%%%02X", *c);
    }
  if (out->len > FOLDER_MAX)
    {
      g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA1, out->str, -1);
      gsize cut = FOLDER_MAX - 17;
      /* Do not cut inside a %XX. */
      if (out->str[cut - 1] == '%')
        cut -= 1;
      else if (out->str[cut - 2] == '%')
        cut -= 2;
      g_string_truncate (out, cut);
      g_string_append_printf (out, "~%.16s", sha);
    }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------- plans */

static void
append_field (GString *line, const char *field)
{
  g_autofree char *escaped = g_strescape (field, NULL);
  g_string_append_c (line, '\t');
  g_string_append (line, escaped);
}

char *
cl_sweep_plan_text (const ClSweepGrid *grid)
{
  GString *t = g_string_new (NULL);
  g_string_append (t, "# A ContrastLab sweep (do not edit: every cell line is checked against the lines above it).\n"
                      "# contrastlab --headless --out DIR --cell N   runs cell N (0-based) into DIR/runs/FOLDER\n"
                      "# contrastlab --headless --out DIR --collect  writes DIR/sweep.csv and DIR/figures/sweep.png\n");
  g_string_append_printf (t, "%s\t%d\n", PLAN_MAGIC, PLAN_VERSION);
  int n_params;
  const ClParam *params = cl_params (&n_params);
  const ClConfig *base = cl_sweep_grid_base (grid);
  for (int i = 0; i < n_params; i++)
    {
      g_string_append (t, "base");
      append_field (t, params[i].key);
      if (params[i].type == CL_PARAM_FLOAT)
        {
          /* 17 significant digits give back the same double. */
          char num[G_ASCII_DTOSTR_BUF_SIZE];
          g_ascii_formatd (num, sizeof num, "%.17g", cl_config_get_number (base, &params[i]));
          append_field (t, num);
        }
      else
        {
          g_autofree char *v = cl_config_get (base, &params[i]);
          append_field (t, v);
        }
      g_string_append_c (t, '\n');
    }
  for (int a = 0; a < cl_sweep_grid_n_axes (grid); a++)
    {
      g_string_append (t, "sweep");
      GString *spec = g_string_new (cl_sweep_grid_param (grid, a)->key);
      g_string_append_c (spec, '=');
      for (int v = 0; v < cl_sweep_grid_n_values (grid, a); v++)
        g_string_append_printf (spec, "%s%s", v ? "," : "", cl_sweep_grid_value (grid, a, v));
      append_field (t, spec->str);
      g_string_free (spec, TRUE);
      g_string_append_c (t, '\n');
    }
  int n = cl_sweep_grid_n_points (grid);
  g_string_append_printf (t, "cells\t%d\n", n);
  for (int p = 0; p < n; p++)
    {
      g_autofree char *name = cl_sweep_grid_point_name (grid, p);
      g_autofree char *folder = cl_sweep_grid_point_folder (grid, p);
      g_string_append_printf (t, "cell\t%d", p);
      append_field (t, name);
      append_field (t, folder);
      g_string_append_c (t, '\n');
    }
  return g_string_free (t, FALSE);
}

static gboolean G_GNUC_PRINTF (4, 5) plan_error (GError **error, const char *source, int line, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  /* Messages quote the file's bytes: control bytes are escaped, never sent to a terminal. */
  g_autofree char *clean = g_strescape (msg, "\"'");
  if (line > 0)
    g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_BAD_PLAN, "%s:%d: %s", source, line, clean);
  else
    g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_BAD_PLAN, "%s: %s", source, clean);
  return FALSE;
}

/* Splits a line into its tab-separated, unescaped fields. */
static char **
split_fields (const char *line)
{
  char **fields = g_strsplit (line, "\t", -1);
  for (int i = 0; fields[i]; i++)
    {
      char *plain = g_strcompress (fields[i]);
      g_free (fields[i]);
      fields[i] = plain;
    }
  return fields;
}

static gboolean
parse_int (const char *text, int max, int *out)
{
  if (!text || !*text)
    return FALSE;
  for (const char *c = text; *c; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  guint64 v;
  if (!g_ascii_string_to_unsigned (text, 10, 0, (guint64) max, &v, NULL))
    return FALSE;
  *out = (int) v;
  return TRUE;
}

ClSweepGrid *
cl_sweep_plan_parse (const char *text, gsize length, const char *source, GError **error)
{
  if (memchr (text, '\0', length))
    {
      plan_error (error, source, 0, "holds a NUL byte; not a sweep plan");
      return NULL;
    }
  g_autofree char *copy = g_strndup (text, length);
  g_auto (GStrv) lines = g_strsplit (copy, "\n", -1);
  ClConfig base;
  cl_config_init (&base);
  g_autoptr (GPtrArray) specs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean have_magic = FALSE;
  int n_cells = -1, cells_line = 0, next_cell = 0;
  ClSweepGrid *grid = NULL;
  int n_lines = (int) g_strv_length (lines);
  /* A file ends with a newline: the last piece is empty; anything else was cut short. */
  if (n_lines > 0 && *lines[n_lines - 1])
    {
      plan_error (error, source, n_lines, "the last line has no end (the file was cut short?)");
      return NULL;
    }
  for (int i = 0; i < n_lines - 1; i++)
    {
      int lineno = i + 1;
      const char *line = lines[i];
      if (*line == '#' || *line == '\0')
        continue;
      g_auto (GStrv) f = split_fields (line);
      int nf = (int) g_strv_length (f);
      if (!have_magic)
        {
          int version = 0;
          if (nf != 2 || strcmp (f[0], PLAN_MAGIC) != 0 || !parse_int (f[1], 1000, &version))
            {
              plan_error (error, source, lineno, "not a ContrastLab sweep plan: '%.40s' where '%s<TAB>%d' was expected",
                          line, PLAN_MAGIC, PLAN_VERSION);
              goto fail;
            }
          if (version != PLAN_VERSION)
            {
              plan_error (error, source, lineno, "plan version %d; this ContrastLab reads version %d", version,
                          PLAN_VERSION);
              goto fail;
            }
          have_magic = TRUE;
          continue;
        }
      if (strcmp (f[0], "base") == 0)
        {
          if (grid || specs->len > 0 || nf != 3)
            {
              plan_error (error, source, lineno,
                          grid || specs->len > 0 ? "a 'base' line after the sweep lines"
                                                 : "expected base<TAB>KEY<TAB>VALUE");
              goto fail;
            }
          if (g_hash_table_contains (seen_keys, f[1]))
            {
              plan_error (error, source, lineno, "%s is given twice", f[1]);
              goto fail;
            }
          GError *local = NULL;
          if (!cl_config_set (&base, f[1], f[2], &local))
            {
              plan_error (error, source, lineno, "%s", local->message);
              g_error_free (local);
              goto fail;
            }
          g_hash_table_add (seen_keys, g_strdup (f[1]));
        }
      else if (strcmp (f[0], "sweep") == 0)
        {
          if (grid || nf != 2)
            {
              plan_error (error, source, lineno,
                          grid ? "a 'sweep' line after the cells" : "expected sweep<TAB>KEY=V1,V2,...");
              goto fail;
            }
          /* Checked alone here, so an error names this line. */
          const char *one[] = { f[1], NULL };
          GError *local = NULL;
          ClSweepGrid *check = cl_sweep_grid_new (&base, one, &local);
          if (!check)
            {
              plan_error (error, source, lineno, "%s", local->message);
              g_error_free (local);
              goto fail;
            }
          cl_sweep_grid_free (check);
          g_ptr_array_add (specs, g_strdup (f[1]));
        }
      else if (strcmp (f[0], "cells") == 0)
        {
          if (grid || nf != 2 || !parse_int (f[1], CL_SWEEP_MAX_POINTS, &n_cells))
            {
              plan_error (error, source, lineno,
                          grid ? "'cells' is given twice" : "expected cells<TAB>N (N at most %d)", CL_SWEEP_MAX_POINTS);
              goto fail;
            }
          g_ptr_array_add (specs, NULL);
          GError *local = NULL;
          grid = cl_sweep_grid_new (&base, (const char *const *) specs->pdata, &local);
          g_ptr_array_remove_index (specs, specs->len - 1);
          if (!grid)
            {
              plan_error (error, source, lineno, "%s", local->message);
              g_error_free (local);
              goto fail;
            }
          cells_line = lineno;
          if (cl_sweep_grid_n_points (grid) != n_cells)
            {
              plan_error (error, source, lineno, "%d cells, but the sweep lines above make %d", n_cells,
                          cl_sweep_grid_n_points (grid));
              goto fail;
            }
        }
      else if (strcmp (f[0], "cell") == 0)
        {
          int index = -1;
          if (!grid)
            {
              plan_error (error, source, lineno, "a 'cell' line before 'cells'");
              goto fail;
            }
          if (nf != 4 || !parse_int (f[1], CL_SWEEP_MAX_POINTS, &index))
            {
              plan_error (error, source, lineno, "expected cell<TAB>INDEX<TAB>KEY=VALUE,...<TAB>FOLDER");
              goto fail;
            }
          if (index != next_cell || index >= n_cells)
            {
              plan_error (error, source, lineno, "cell %d where cell %d was expected", index, next_cell);
              goto fail;
            }
          g_autofree char *name = cl_sweep_grid_point_name (grid, index);
          g_autofree char *folder = cl_sweep_grid_point_folder (grid, index);
          if (strcmp (name, f[2]) != 0 || strcmp (folder, f[3]) != 0)
            {
              plan_error (error, source, lineno, "cell %d is '%s' in folder '%s'; the sweep makes it '%s' in '%s'",
                          index, f[2], f[3], name, folder);
              goto fail;
            }
          next_cell++;
        }
      else
        {
          plan_error (error, source, lineno, "unknown line '%s' (expected base, sweep, cells or cell)", f[0]);
          goto fail;
        }
    }
  if (!have_magic)
    {
      plan_error (error, source, 0, "empty; not a ContrastLab sweep plan");
      goto fail;
    }
  if (!grid)
    {
      plan_error (error, source, 0, "no 'cells' line (the file was cut short?)");
      goto fail;
    }
  if (next_cell != n_cells)
    {
      plan_error (error, source, cells_line, "%d cells announced, %d listed (the file was cut short?)", n_cells,
                  next_cell);
      goto fail;
    }
  return grid;
fail:
  cl_sweep_grid_free (grid);
  return NULL;
}

static char *
plan_path (const char *dir)
{
  return g_build_filename (dir, CL_SWEEP_PLAN_NAME, NULL);
}

gboolean
cl_sweep_plan_write (const ClSweepGrid *grid, const char *dir, GError **error)
{
  g_autofree char *path = plan_path (dir);
  g_autofree char *text = cl_sweep_plan_text (grid);
  GError *local = NULL;
  if (!cl_file_replace (path, text, -1, CL_FILE_REPLACE_DEFAULT, &local))
    {
      g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

/* Reads a regular file of at most max bytes; never blocks on a FIFO, never follows a device. */
static gboolean
read_regular_file (const char *path, gsize max, char **text, gsize *length, GError **error)
{
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, CL_SWEEP_ERROR, e == ENOENT ? CL_SWEEP_ERROR_NO_PLAN : CL_SWEEP_ERROR_IO, "%s: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (gsize) st.st_size > max)
    {
      g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_BAD_PLAN, "%s: not a regular file of at most %zu bytes", path,
                   max);
      close (fd);
      return FALSE;
    }
  char *buf = g_malloc ((gsize) st.st_size + 1);
  gsize got = 0;
  while (got < (gsize) st.st_size)
    {
      ssize_t r = read (fd, buf + got, (gsize) st.st_size - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (gsize) r;
    }
  close (fd);
  buf[got] = '\0';
  *text = buf;
  *length = got;
  return TRUE;
}

ClSweepGrid *
cl_sweep_plan_read (const char *dir, GError **error)
{
  g_autofree char *path = plan_path (dir);
  g_autofree char *text = NULL;
  gsize length = 0;
  GError *local = NULL;
  if (!read_regular_file (path, CL_SWEEP_PLAN_MAX_BYTES, &text, &length, &local))
    {
      if (g_error_matches (local, CL_SWEEP_ERROR, CL_SWEEP_ERROR_NO_PLAN))
        g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_NO_PLAN,
                     "%s: no sweep plan here (contrastlab --headless --sweep ... --out DIR --plan writes one)", path);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      g_clear_error (&local);
      return NULL;
    }
  return cl_sweep_plan_parse (text, length, path, error);
}

char *
cl_sweep_plan_id (const ClSweepGrid *grid)
{
  g_autofree char *text = cl_sweep_plan_text (grid);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA1, text, -1);
}

/* ------------------------------------------------------------------- cells */

char *
cl_sweep_cell_dir (const ClSweepGrid *grid, const char *dir, int point)
{
  g_autofree char *folder = cl_sweep_grid_point_folder (grid, point);
  return g_build_filename (dir, "runs", folder, NULL);
}

static const char *const cell_end_names[] = { "done", "diverged", "failed" };

gboolean
cl_sweep_cell_mark (const ClSweepGrid *grid, const char *cell_dir, int point, ClSweepCellEnd end, int64_t steps,
                    double seconds, const char *message, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *plan = cl_sweep_plan_id (grid);
  g_autofree char *name = cl_sweep_grid_point_name (grid, point);
  g_key_file_set_integer (kf, "cell", "index", point);
  g_key_file_set_string (kf, "cell", "name", name);
  g_key_file_set_string (kf, "cell", "plan", plan);
  g_key_file_set_string (kf, "cell", "end", cell_end_names[end]);
  g_key_file_set_int64 (kf, "cell", "steps", steps);
  char secs[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (secs, sizeof secs, "%.3f", seconds);
  g_key_file_set_value (kf, "cell", "seconds", secs);
  if (message)
    g_key_file_set_string (kf, "cell", "message", message);
  g_autofree char *text = g_key_file_to_data (kf, NULL, NULL);
  g_autofree char *path = g_build_filename (cell_dir, CL_SWEEP_CELL_MARK, NULL);
  GError *local = NULL;
  if (!cl_file_replace (path, text, -1, CL_FILE_REPLACE_DEFAULT, &local))
    {
      g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

/* cell.ini of point, when it is there and belongs to this point of this plan. */
static GKeyFile *
read_mark (const ClSweepGrid *grid, const char *dir, int point, char **cell_dir_out)
{
  g_autofree char *cell_dir = cl_sweep_cell_dir (grid, dir, point);
  g_autofree char *path = g_build_filename (cell_dir, CL_SWEEP_CELL_MARK, NULL);
  g_autofree char *text = NULL;
  gsize length = 0;
  if (!read_regular_file (path, 1 << 20, &text, &length, NULL))
    return NULL;
  GKeyFile *kf = g_key_file_new ();
  g_autofree char *plan = cl_sweep_plan_id (grid);
  g_autofree char *recorded_plan = NULL;
  g_autofree char *end = NULL;
  if (!g_key_file_load_from_data (kf, text, length, G_KEY_FILE_NONE, NULL) ||
      g_key_file_get_integer (kf, "cell", "index", NULL) != point ||
      !(recorded_plan = g_key_file_get_string (kf, "cell", "plan", NULL)) || strcmp (recorded_plan, plan) != 0 ||
      !(end = g_key_file_get_string (kf, "cell", "end", NULL)))
    {
      g_key_file_free (kf);
      return NULL;
    }
  if (cell_dir_out)
    *cell_dir_out = g_steal_pointer (&cell_dir);
  return kf;
}

gboolean
cl_sweep_cell_finished (const ClSweepGrid *grid, const char *dir, int point)
{
  GKeyFile *kf = read_mark (grid, dir, point, NULL);
  if (kf)
    g_key_file_free (kf);
  return kf != NULL;
}

gboolean
cl_sweep_cell_row (const ClSweepGrid *grid, const char *dir, int point, ClSweepRow *row, GError **error)
{
  memset (row, 0, sizeof *row);
  row->point = point;
  row->state = CL_SWEEP_POINT_PENDING;
  g_autofree char *cell_dir = NULL;
  g_autoptr (GKeyFile) kf = read_mark (grid, dir, point, &cell_dir);
  if (!kf)
    return TRUE;
  g_autofree char *end = g_key_file_get_string (kf, "cell", "end", NULL);
  row->steps = g_key_file_get_int64 (kf, "cell", "steps", NULL);
  g_autofree char *secs = g_key_file_get_value (kf, "cell", "seconds", NULL);
  row->seconds = secs ? g_ascii_strtod (secs, NULL) : 0;
  if (strcmp (end, "done") != 0)
    {
      row->state = CL_SWEEP_POINT_FAILED;
      g_autofree char *msg = g_key_file_get_string (kf, "cell", "message", NULL);
      g_strlcpy (row->error, msg ? msg : end, sizeof row->error);
      return TRUE;
    }
  g_autofree char *probes_path = g_build_filename (cell_dir, "probes.csv", NULL);
  int n = 0;
  g_autofree ClProbeRow *probes = NULL;
  if (g_file_test (probes_path, G_FILE_TEST_EXISTS))
    {
      GError *local = NULL;
      probes = cl_runs_read_probes (probes_path, &n, &local);
      if (local)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
    }
  /* The last probe of each target (probes are in step order), targets in order of first
   * appearance: what the runner's rows hold for the same run. */
  for (int i = 0; i < n; i++)
    {
      char name[sizeof row->target[0]] = "";
      memcpy (name, probes[i].target, MIN (strnlen (probes[i].target, sizeof probes[i].target), sizeof name - 1));
      int k = -1;
      for (int j = 0; j < row->n_targets && k < 0; j++)
        if (strcmp (row->target[j], name) == 0)
          k = j;
      if (k < 0)
        {
          if (row->n_targets >= CL_SWEEP_MAX_TARGETS)
            continue;
          k = row->n_targets++;
          memcpy (row->target[k], name, sizeof name);
        }
      row->accuracy[k] = probes[i].accuracy;
      row->chance[k] = probes[i].chance;
    }
  row->state = CL_SWEEP_POINT_DONE;
  return TRUE;
}
