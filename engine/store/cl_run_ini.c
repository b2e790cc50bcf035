/* run.ini texts: comparing two configurations and the one-line summary (cl_runs.h). */
#include "engine/store/cl_runs_private.h"

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

/* ======================================================== run.ini and summaries */

GKeyFile *
cl_runs_keyfile_from_text (const char *text, const char *source, GError **error)
{
  GKeyFile *kf = g_key_file_new ();
  GError *local = NULL;
  if (!g_key_file_load_from_data (kf, text ? text : "", (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      g_autofree char *shown = cl_text_escape (local->message, 200);
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_PARSE, "%s: not a valid configuration: %s", source, shown);
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
  g_autoptr (GKeyFile) a = cl_runs_keyfile_from_text (ini_a, "configuration A", error);
  if (!a)
    return NULL;
  g_autoptr (GKeyFile) b = cl_runs_keyfile_from_text (ini_b, "configuration B", error);
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
void
cl_kf_int (GKeyFile *kf, const char *group, const char *key, int *out)
{
  GError *e = NULL;
  int v = g_key_file_get_integer (kf, group, key, &e);
  if (!e)
    *out = v;
  g_clear_error (&e);
}

void
cl_kf_int64 (GKeyFile *kf, const char *group, const char *key, gint64 *out)
{
  GError *e = NULL;
  gint64 v = g_key_file_get_int64 (kf, group, key, &e);
  if (!e)
    *out = v;
  g_clear_error (&e);
}

void
cl_kf_double (GKeyFile *kf, const char *group, const char *key, double *out)
{
  GError *e = NULL;
  double v = g_key_file_get_double (kf, group, key, &e);
  if (!e)
    *out = v;
  g_clear_error (&e);
}

char *
cl_runs_summary_from_keyfile (GKeyFile *kf)
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
  g_autoptr (GKeyFile) kf = cl_runs_keyfile_from_text (ini, "run.ini", NULL);
  return kf ? cl_runs_summary_from_keyfile (kf) : g_strdup ("");
}
