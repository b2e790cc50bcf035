#include "cl_cli.h"

#include <errno.h>
#include <math.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cl_config.h"
#include "cl_export.h"
#include "engine/cl_data.h"
#include "engine/cl_trainer.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_bar_chart.h"

gboolean
cl_cli_parse (int *argc, char ***argv, ClCliOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &opts->headless, "Train without a window; write results to --out", NULL },
    { "preset", 'p', 0, G_OPTION_ARG_FILENAME, &opts->preset, "Preset NAME, or an .ini file, or a PNG exported by ContrastLab", "NAME|FILE" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opts->sets, "Set a parameter (repeatable), e.g. --set loss.temperature=0.2", "KEY=VALUE" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &opts->steps, "Number of training steps (same as --set train.steps=N)", "N" },
    { "sweep", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->sweeps, "With --headless: run every combination of these values (repeatable), e.g. --sweep loss.kind=ntxent,decoupled", "KEY=V1,V2,..." },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opts->out, "Output folder of a headless run (default: out)", "DIR" },
    { "list-params", 0, 0, G_OPTION_ARG_NONE, &opts->list_params, "List every parameter with its range, default and help", NULL },
    { "list-presets", 0, 0, G_OPTION_ARG_NONE, &opts->list_presets, "List the presets", NULL },
    { "version", 'v', 0, G_OPTION_ARG_NONE, &opts->version, "Print the version", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- watch contrastive learning happen");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "ContrastLab re-creates the experiments of 'Intriguing Properties of "
                                     "Contrastive Losses' (Chen, Luo, Li; NeurIPS 2021).");
  GError *error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("contrastlab: %s (try --help)\n", error->message);
      g_error_free (error);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_printerr ("contrastlab: unexpected argument '%s' (try --help)\n", (*argv)[1]);
      return FALSE;
    }
  if (opts->sweeps && !opts->headless)
    {
      g_printerr ("contrastlab: --sweep needs --headless\n");
      return FALSE;
    }
  if (opts->steps < 0)
    {
      g_printerr ("contrastlab: --steps %d: expected a positive number of steps\n", opts->steps);
      return FALSE;
    }
  return TRUE;
}

void
cl_cli_options_clear (ClCliOptions *opts)
{
  g_free (opts->preset);
  g_strfreev (opts->sets);
  g_free (opts->out);
  g_strfreev (opts->sweeps);
  memset (opts, 0, sizeof *opts);
}

int
cl_cli_list_params (void)
{
  int n;
  const ClParam *params = cl_params (&n);
  ClConfig defaults;
  cl_config_init (&defaults);
  for (int i = 0; i < n; i++)
    {
      const ClParam *p = &params[i];
      g_autofree char *def = cl_config_get (&defaults, p);
      g_autofree char *range = NULL;
      if (p->type == CL_PARAM_ENUM)
        {
          g_autofree char *joined = g_strjoinv ("|", (char **) p->choices);
          range = g_strdup (joined);
        }
      else if (p->type == CL_PARAM_STRING)
        range = g_strdup ("text");
      else
        {
          char lo[32], hi[32];
          g_ascii_formatd (lo, sizeof lo, "%g", p->min);
          g_ascii_formatd (hi, sizeof hi, "%g", p->max);
          range = g_strdup_printf ("%s..%s%s%s", lo, hi, *p->unit ? " " : "", p->unit);
        }
      printf ("%-20s %-8s default=%-14s [%s] %s\n    %s\n", p->key,
              p->type == CL_PARAM_INT ? "int" : p->type == CL_PARAM_FLOAT ? "float" : p->type == CL_PARAM_ENUM ? "choice" : "string",
              *def ? def : "\"\"", range, (p->flags & CL_PARAM_LIVE) ? "live" : "restart", p->help);
    }
  return CL_EXIT_OK;
}

int
cl_cli_list_presets (void)
{
  g_autoptr (GPtrArray) names = cl_preset_list ();
  if (names->len == 0)
    {
      g_printerr ("contrastlab: no presets found in %s\n", cl_presets_dir ());
      return CL_EXIT_BAD_INPUT;
    }
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = cl_preset_resolve (names->pdata[i], NULL);
      g_autofree char *desc = NULL;
      double minutes = 0;
      cl_preset_describe (path, &desc, &minutes);
      char when[32] = "";
      if (minutes > 0)
        g_snprintf (when, sizeof when, "~%.0f min", minutes);
      printf ("%-22s %-9s %s\n", (char *) names->pdata[i], when, desc ? desc : "");
    }
  return CL_EXIT_OK;
}

/* Checks that dir (and dir/figures) can be created and written before any training starts. */
static gboolean
prepare_out_dir (const char *dir, GError **error)
{
  g_autofree char *figures = g_build_filename (dir, "figures", NULL);
  if (g_mkdir_with_parents (figures, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "--out %s: cannot create folder: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  const char *check[] = { dir, figures };
  for (gsize i = 0; i < G_N_ELEMENTS (check); i++)
    {
      g_autofree char *probe = g_build_filename (check[i], ".contrastlab-write-test-XXXXXX", NULL);
      int fd = g_mkstemp (probe);
      if (fd < 0)
        {
          int e = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "--out %s: cannot write there: %s",
                       check[i], g_strerror (e));
          return FALSE;
        }
      close (fd);
      g_unlink (probe);
    }
  return TRUE;
}

static void
print_progress (const ClSnapshot *s, const char *label, gboolean done)
{
  const int width = 30;
  double frac = s->total_steps > 0 ? (double) s->step / (double) s->total_steps : 0;
  int fill = (int) (frac * width + 0.5);
  char bar[64];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  double eta = s->steps_per_second > 0 ? (double) (s->total_steps - s->step) / s->steps_per_second : -1;
  char eta_text[32] = "--:--";
  if (eta >= 0)
    g_snprintf (eta_text, sizeof eta_text, "%d:%02d", (int) eta / 60, (int) eta % 60);
  float loss = s->n_rows > 0 ? s->rows[s->n_rows - 1].loss : 0.0f;
  fprintf (stderr, "\r%s[%s] %3.0f%% step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "  %.1f steps/s  ETA %s  loss %.4f ",
           label ? label : "", bar, frac * 100, s->step, s->total_steps, s->steps_per_second, eta_text, loss);
  if (done)
    fputc ('\n', stderr);
  fflush (stderr);
}

static int
exit_code_for (const GError *error)
{
  if (error->domain == CL_CONFIG_ERROR || error->domain == CL_DATA_ERROR || error->domain == G_FILE_ERROR)
    return CL_EXIT_BAD_INPUT;
  return CL_EXIT_INTERNAL;
}

static gboolean
write_text (const char *dir, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_set_contents (path, text, -1, error);
}

/* Trains cfg to the end and writes DIR's files; FALSE with error set on bad input. */
static int
train_and_write (const ClConfig *cfg, const char *out, const char *label, ClSnapshot **final_out, GError **error)
{
  ClTrainer *trainer = cl_trainer_new (cfg, error);
  if (!trainer)
    return -1;
  gboolean tty = isatty (STDERR_FILENO);
  int last_tenth = 0;
  cl_trainer_start (trainer, FALSE);
  for (;;)
    {
      g_usleep (tty ? 100000 : 200000);
      ClSnapshot *snap = cl_trainer_get_snapshot (trainer);
      gboolean finished = snap->finished;
      if (tty)
        print_progress (snap, label, finished);
      else if (snap->total_steps > 0)
        {
          /* Logs and CI get one line per tenth of the run instead of a redrawn bar. */
          int tenth = (int) (10 * snap->step / snap->total_steps);
          if (tenth > last_tenth)
            {
              last_tenth = tenth;
              g_printerr ("contrastlab: %s%d%% (step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ", %.1f steps/s)\n",
                          label ? label : "", tenth * 10, snap->step, snap->total_steps, snap->steps_per_second);
            }
        }
      cl_snapshot_unref (snap);
      if (finished)
        break;
    }
  /* The thread publishes once more as it ends: wait for it so the files hold the final state. */
  cl_trainer_wait (trainer);
  ClSnapshot *final = cl_trainer_get_snapshot (trainer);

  int code = CL_EXIT_OK;
  if (final->error)
    {
      g_printerr ("contrastlab: %s\n", final->error);
      code = CL_EXIT_INTERNAL;
    }
  g_autofree char *ini = g_strdup_printf ("# ContrastLab %s headless run: %" G_GINT64_FORMAT " steps in %.1f s\n%s",
                                          CL_VERSION, final->step, final->seconds, final->config_ini);
  g_autofree char *csv = cl_export_metrics_csv (final);
  g_autofree char *probes = cl_export_probes_csv (final);
  g_autofree char *clusters = cl_export_clusters_csv (final);
  gboolean ok = write_text (out, "run.ini", ini, error) && write_text (out, "metrics.csv", csv, error)
                && write_text (out, "probes.csv", probes, error) && write_text (out, "clusters.csv", clusters, error);
  for (int k = 0; ok && k < CL_N_FIGURES; k++)
    {
      g_autofree char *name = g_strdup_printf ("%s.png", cl_figure_slug ((ClFigureKind) k));
      g_autofree char *path = g_build_filename (out, "figures", name, NULL);
      ok = cl_export_figure_png (path, (ClFigureKind) k, final, 1.0, error);
    }
  if (!ok)
    code = -1;
  else
    {
      g_printerr ("contrastlab: %" G_GINT64_FORMAT " steps in %.1f s (probes %.1f s, %.1f%%); wrote %s/run.ini, "
                  "metrics.csv, probes.csv and figures/\n",
                  final->step, final->seconds, final->probe_seconds,
                  final->seconds > 0 ? 100 * final->probe_seconds / final->seconds : 0.0, out);
      for (int i = 0; i < final->n_probes; i++)
        if (final->probes[i].step == final->step || i == 0)
          g_printerr ("contrastlab: probe %s at step %" G_GINT64_FORMAT ": accuracy %.3f (chance %.3f)\n",
                      final->probes[i].target, final->probes[i].step, final->probes[i].accuracy,
                      final->probes[i].chance);
    }
  if (final_out)
    *final_out = final;
  else
    cl_snapshot_unref (final);
  cl_trainer_free (trainer);
  return code;
}


typedef struct {
  const ClParam *param;
  char **values;
} SweepAxis;

static gboolean
parse_sweeps (char **specs, const ClConfig *base, GArray *axes, GError **error)
{
  for (int i = 0; specs[i]; i++)
    {
      const char *eq = strchr (specs[i], '=');
      if (!eq || eq == specs[i] || eq[1] == '\0')
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                       "--sweep '%s': expected KEY=V1,V2,..., e.g. loss.kind=ntxent,decoupled", specs[i]);
          return FALSE;
        }
      g_autofree char *key = g_strndup (specs[i], eq - specs[i]);
      SweepAxis axis = { cl_param_lookup (key), g_strsplit (eq + 1, ",", -1) };
      g_array_append_val (axes, axis);
      for (int v = 0; axis.values[v]; v++)
        {
          ClConfig probe = *base;
          g_strstrip (axis.values[v]);
          if (!cl_config_set (&probe, key, axis.values[v], error))
            return FALSE;
        }
      for (guint a = 0; a + 1 < axes->len; a++)
        if (g_array_index (axes, SweepAxis, a).param == axis.param)
          {
            g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "--sweep %s is given twice", key);
            return FALSE;
          }
    }
  return TRUE;
}

/* Final accuracy of each probe target, in order of first appearance. */
static void
final_probes (const ClSnapshot *s, GPtrArray *targets, GHashTable *acc)
{
  for (int i = 0; i < s->n_probes; i++)
    {
      const ClProbeRow *p = &s->probes[i];
      if (!g_ptr_array_find_with_equal_func (targets, p->target, g_str_equal, NULL))
        g_ptr_array_add (targets, g_strdup (p->target));
      double *v = g_new (double, 1);
      *v = p->accuracy;
      g_hash_table_insert (acc, g_strdup (p->target), v);
    }
}

static void
draw_sweep (cairo_t *cr, double w, double h, gpointer data)
{
  cl_bar_chart_draw (cr, w, h, data);
}

static int
run_sweep (const ClCliOptions *opts, const ClConfig *base, const char *out, GError **error)
{
  g_autoptr (GArray) axes = g_array_new (FALSE, TRUE, sizeof (SweepAxis));
  int code = CL_EXIT_OK;
  if (!parse_sweeps (opts->sweeps, base, axes, error))
    {
      code = -1;
      goto done;
    }
  int n_axes = (int) axes->len, n_runs = 1;
  int *sizes = g_new0 (int, n_axes), *at = g_new0 (int, n_axes);
  for (int a = 0; a < n_axes; a++)
    {
      sizes[a] = (int) g_strv_length (g_array_index (axes, SweepAxis, a).values);
      n_runs *= sizes[a];
    }

  GPtrArray *targets = g_ptr_array_new_with_free_func (g_free);
  GHashTable **results = g_new0 (GHashTable *, n_runs);
  float chance = NAN;
  GString *csv_keys = g_string_new (NULL);
  for (int a = 0; a < n_axes; a++)
    g_string_append_printf (csv_keys, "%s%s", a ? "," : "", g_array_index (axes, SweepAxis, a).param->key);

  gint64 t0 = g_get_monotonic_time ();
  int failed_runs = 0;
  for (int r = 0; r < n_runs && code == CL_EXIT_OK; r++)
    {
      ClConfig cfg = *base;
      GString *name = g_string_new (NULL);
      for (int a = 0; a < n_axes; a++)
        {
          SweepAxis *axis = &g_array_index (axes, SweepAxis, a);
          cl_config_set (&cfg, axis->param->key, axis->values[at[a]], NULL);
          g_string_append_printf (name, "%s%s=%s", a ? "," : "", axis->param->key, axis->values[at[a]]);
        }
      g_autofree char *run_dir = g_build_filename (out, "runs", name->str, NULL);
      double elapsed = (g_get_monotonic_time () - t0) / 1e6;
      char eta[32] = "--:--";
      if (r > 0)
        {
          int left = (int) (elapsed / r * (n_runs - r));
          g_snprintf (eta, sizeof eta, "%d:%02d", left / 60, left % 60);
        }
      g_printerr ("contrastlab: sweep run %d/%d (%s), sweep ETA %s\n", r + 1, n_runs, name->str, eta);
      g_autofree char *label = g_strdup_printf ("run %d/%d ", r + 1, n_runs);
      ClSnapshot *final = NULL;
      if (!prepare_out_dir (run_dir, error))
        code = -1;
      else
        {
          /* A run that fails on its own (say, it diverges) is reported and the sweep goes on. */
          int rc = train_and_write (&cfg, run_dir, label, &final, error);
          if (rc == -1)
            code = -1;
          else if (rc != CL_EXIT_OK)
            failed_runs++;
        }
      if (final)
        {
          results[r] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
          final_probes (final, targets, results[r]);
          for (int i = 0; i < final->n_probes; i++)
            if (strcmp (final->probes[i].target, "class") == 0)
              chance = final->probes[i].chance;
          cl_snapshot_unref (final);
        }
      g_string_free (name, TRUE);
      for (int a = n_axes - 1; a >= 0; a--)
        {
          if (++at[a] < sizes[a])
            break;
          at[a] = 0;
        }
    }

  if (code == CL_EXIT_OK)
    {
      /* sweep.csv: the swept keys, then each target's final accuracy. */
      GString *csv = g_string_new (csv_keys->str);
      for (guint k = 0; k < targets->len; k++)
        g_string_append_printf (csv, ",%s", (char *) targets->pdata[k]);
      g_string_append_c (csv, '\n');
      memset (at, 0, sizeof (int) * n_axes);
      /* The chart: groups = values of the first key; series = combinations of the others. */
      int n_groups = sizes[0], n_series = n_runs / sizes[0];
      double *values = g_new (double, n_runs);
      const char **group_labels = g_new0 (const char *, n_groups);
      char **series_labels = g_new0 (char *, n_series + 1);
      for (int r = 0; r < n_runs; r++)
        {
          GString *series = g_string_new (NULL);
          for (int a = 0; a < n_axes; a++)
            {
              SweepAxis *axis = &g_array_index (axes, SweepAxis, a);
              g_string_append_printf (csv, "%s%s", a ? "," : "", axis->values[at[a]]);
              if (a > 0)
                g_string_append_printf (series, "%s%s", a > 1 ? ", " : "", axis->values[at[a]]);
            }
          for (guint k = 0; k < targets->len; k++)
            {
              double *v = results[r] ? g_hash_table_lookup (results[r], targets->pdata[k]) : NULL;
              char num[G_ASCII_DTOSTR_BUF_SIZE] = "";
              if (v)
                g_ascii_formatd (num, sizeof num, "%.5f", *v);
              g_string_append_printf (csv, ",%s", num);
            }
          g_string_append_c (csv, '\n');
          double *cls = results[r] ? g_hash_table_lookup (results[r], "class") : NULL;
          values[r] = cls ? *cls : NAN;
          group_labels[at[0]] = g_array_index (axes, SweepAxis, 0).values[at[0]];
          int s = r % n_series;
          if (!series_labels[s])
            series_labels[s] = g_string_free (series, FALSE);
          else
            g_string_free (series, TRUE);
          for (int a = n_axes - 1; a >= 0; a--)
            {
              if (++at[a] < sizes[a])
                break;
              at[a] = 0;
            }
        }
      GString *series_key = g_string_new (NULL);
      for (int a = 1; a < n_axes; a++)
        g_string_append_printf (series_key, "%s%s", a > 1 ? ", " : "", g_array_index (axes, SweepAxis, a).param->key);
      ClBarChartData chart = {
        .title = "Final class probe accuracy (held-out)",
        .y_label = "linear-probe accuracy",
        .group_key = g_array_index (axes, SweepAxis, 0).param->key,
        .series_key = n_axes > 1 ? series_key->str : NULL,
        .n_groups = n_groups,
        .group_labels = group_labels,
        .n_series = n_series,
        .series_labels = (const char *const *) series_labels,
        .values = values,
        .y_min = 0,
        .y_max = 1,
        .reference = chance,
        .reference_label = "chance",
      };
      g_autofree char *config = cl_config_to_ini (base);
      g_autofree char *sweep_desc = g_strjoinv (" ", opts->sweeps);
      g_autofree char *config_with_sweep = g_strdup_printf ("# sweep: %s\n%s", sweep_desc, config);
      g_autofree char *step = g_strdup_printf ("%d", base->train_steps);
      const ClPngText texts[] = {
        { "Software", "ContrastLab " CL_VERSION },
        { "Title", chart.title },
        { "contrastlab:config", config_with_sweep },
        { "contrastlab:step", step },
      };
      g_autofree char *png = g_build_filename (out, "figures", "sweep.png", NULL);
      g_autofree char *ini = g_strdup_printf ("# ContrastLab %s sweep base configuration; swept: %s\n%s", CL_VERSION,
                                              sweep_desc, config);
      if (!write_text (out, "sweep.csv", csv->str, error) || !write_text (out, "run.ini", ini, error)
          || !cl_png_export_figure (png, 900, 520, 1.0, draw_sweep, &chart, texts, G_N_ELEMENTS (texts), error))
        code = -1;
      else
        {
          g_printerr ("contrastlab: sweep of %d runs in %.0f s; wrote %s/sweep.csv and %s\n", n_runs,
                      (g_get_monotonic_time () - t0) / 1e6, out, png);
          g_printerr ("%s", csv->str);
        }
      g_string_free (series_key, TRUE);
      g_free (values);
      g_free (group_labels);
      g_strfreev (series_labels);
      g_string_free (csv, TRUE);
    }
  if (code == CL_EXIT_OK && failed_runs > 0)
    {
      g_printerr ("contrastlab: %d of %d sweep runs failed (see above)\n", failed_runs, n_runs);
      code = CL_EXIT_INTERNAL;
    }
  for (int r = 0; r < n_runs; r++)
    if (results[r])
      g_hash_table_unref (results[r]);
  g_free (results);
  g_ptr_array_unref (targets);
  g_string_free (csv_keys, TRUE);
  g_free (sizes);
  g_free (at);
done:
  for (guint a = 0; a < axes->len; a++)
    g_strfreev (g_array_index (axes, SweepAxis, a).values);
  return code;
}

static gboolean
build_config (const ClCliOptions *opts, ClConfig *cfg, GError **error)
{
  cl_config_init (cfg);
  if (!cl_config_apply_preset (cfg, opts->preset ? opts->preset : "default", error))
    return FALSE;
  for (int i = 0; opts->sets && opts->sets[i]; i++)
    if (!cl_config_set_assignment (cfg, opts->sets[i], error))
      return FALSE;
  if (opts->steps > 0 && !cl_config_set_number (cfg, cl_param_lookup ("train.steps"), opts->steps, error))
    return FALSE;
  return TRUE;
}

int
cl_cli_headless (const ClCliOptions *opts)
{
  GError *error = NULL;
  ClConfig cfg;
  const char *out = opts->out ? opts->out : "out";
  int code = CL_EXIT_INTERNAL;
  ClCliOptions effective = *opts;
  g_auto (GStrv) preset_sweeps = NULL;
  if (build_config (opts, &cfg, &error) && prepare_out_dir (out, &error))
    {
      /* A preset may name the sweep that reproduces its figure; --sweep on the command line wins. */
      if (!opts->sweeps)
        {
          g_autofree char *path = cl_preset_resolve (opts->preset ? opts->preset : "default", NULL);
          g_autoptr (GKeyFile) kf = g_key_file_new ();
          if (path && g_str_has_suffix (path, ".ini") && g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
            {
              g_autofree char *spec = g_key_file_get_string (kf, "preset", "sweep", NULL);
              if (spec && *g_strstrip (spec))
                {
                  preset_sweeps = g_regex_split_simple ("\\s+", spec, 0, 0);
                  effective.sweeps = preset_sweeps;
                  g_printerr ("contrastlab: the preset's sweep: %s\n", spec);
                }
            }
        }
      code = effective.sweeps ? run_sweep (&effective, &cfg, out, &error)
                              : train_and_write (&cfg, out, NULL, NULL, &error);
    }
  if (error)
    {
      g_printerr ("contrastlab: %s\n", error->message);
      code = exit_code_for (error);
      g_error_free (error);
    }
  return code;
}
