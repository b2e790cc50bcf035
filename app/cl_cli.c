#include "app/cl_cli.h"

#include <errno.h>
#include <math.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cl_config.h"
#include "app/cl_export.h"
#include "engine/data/cl_data.h"
#include "engine/sweep/cl_sweep.h"
#include "engine/train/cl_trainer.h"
#include "ui/plots/cl_sweep_plot.h"

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
      printf ("%-20s %-8s default=%-14s [%s] %s\n    %s: %s\n", p->key,
              p->type == CL_PARAM_INT ? "int" : p->type == CL_PARAM_FLOAT ? "float" : p->type == CL_PARAM_ENUM ? "choice" : "string",
              *def ? def : "\"\"", range, (p->flags & CL_PARAM_LIVE) ? "live" : "restart", p->label, p->help);
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

/* One run's progress on stderr: a redrawn bar on a terminal, else one line per tenth of the run
 * (logs and CI). last_tenth keeps the tenths already reported. */
static void
report_progress (const ClSnapshot *snap, const char *label, gboolean tty, int *last_tenth)
{
  if (tty)
    print_progress (snap, label, snap->finished);
  else if (snap->total_steps > 0)
    {
      int tenth = (int) (10 * snap->step / snap->total_steps);
      if (tenth > *last_tenth)
        {
          *last_tenth = tenth;
          g_printerr ("contrastlab: %s%d%% (step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ", %.1f steps/s)\n",
                      label ? label : "", tenth * 10, snap->step, snap->total_steps, snap->steps_per_second);
        }
    }
}

/* Writes DIR's files of a finished run and prints its summary. CL_EXIT_OK, CL_EXIT_INTERNAL
 * when the run itself failed (files still written), -1 with error set when writing failed. */
static int
write_run (const ClSnapshot *final, const char *out, GError **error)
{
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
    return -1;
  g_printerr ("contrastlab: %" G_GINT64_FORMAT " steps in %.1f s (probes %.1f s, %.1f%%); wrote %s/run.ini, "
              "metrics.csv, probes.csv and figures/\n",
              final->step, final->seconds, final->probe_seconds,
              final->seconds > 0 ? 100 * final->probe_seconds / final->seconds : 0.0, out);
  for (int i = 0; i < final->n_probes; i++)
    if (final->probes[i].step == final->step || i == 0)
      g_printerr ("contrastlab: probe %s at step %" G_GINT64_FORMAT ": accuracy %.3f (chance %.3f)\n",
                  final->probes[i].target, final->probes[i].step, final->probes[i].accuracy, final->probes[i].chance);
  return code;
}

/* Trains cfg to the end and writes DIR's files; -1 with error set on bad input. */
static int
train_and_write (const ClConfig *cfg, const char *out, GError **error)
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
      report_progress (snap, NULL, tty, &last_tenth);
      cl_snapshot_unref (snap);
      if (finished)
        break;
    }
  /* The thread publishes once more as it ends: wait for it so the files hold the final state. */
  cl_trainer_wait (trainer);
  ClSnapshot *final = cl_trainer_get_snapshot (trainer);
  int code = write_run (final, out, error);
  cl_snapshot_unref (final);
  cl_trainer_free (trainer);
  return code;
}

static void
format_eta (double seconds, char *buf, size_t size)
{
  if (seconds < 0)
    g_strlcpy (buf, "--:--", size);
  else
    g_snprintf (buf, size, "%d:%02d", (int) seconds / 60, (int) seconds % 60);
}

/* Runs every point of grid with the engine's sweep runner, writing each run's files into
 * DIR/runs/KEY=V,.../ as it ends, then DIR/sweep.csv, DIR/run.ini and DIR/figures/sweep.png. */
static int
run_sweep (ClSweepGrid *grid_in, const char *out, GError **error)
{
  ClSweep *sweep = cl_sweep_new (grid_in); /* takes the grid */
  const ClSweepGrid *grid = cl_sweep_get_grid (sweep);
  int n_runs = cl_sweep_grid_n_points (grid);
  gboolean tty = isatty (STDERR_FILENO);
  cl_sweep_set_keep_snapshots (sweep, TRUE);
  gint64 t0 = g_get_monotonic_time ();
  cl_sweep_start (sweep);

  int code = CL_EXIT_OK, failed_runs = 0;
  int announced = -1, written = 0, last_tenth = 0;
  for (;;)
    {
      ClSweepProgress pr;
      cl_sweep_get_progress (sweep, &pr);
      /* Points start and end in grid order; a short one may start and end between two polls,
       * so each is announced, then reported, in turn. */
      int started = pr.current_point >= 0 ? pr.current_point : pr.points_done - 1;
      while (code == CL_EXIT_OK)
        {
          if (announced < started && announced < written)
            {
              announced++;
              g_autofree char *name = cl_sweep_grid_point_name (grid, announced);
              char eta[32];
              format_eta (announced > 0 ? pr.eta_seconds : -1, eta, sizeof eta);
              g_printerr ("contrastlab: sweep run %d/%d (%s), sweep ETA %s\n", announced + 1, n_runs, name, eta);
              last_tenth = 0;
              continue;
            }
          if (written >= pr.points_done)
            break;
          ClSnapshot *final = cl_sweep_take_snapshot (sweep, written);
          if (final)
            {
              g_autofree char *label = g_strdup_printf ("run %d/%d ", written + 1, n_runs);
              report_progress (final, label, tty, &last_tenth);
              g_autofree char *name = cl_sweep_grid_point_name (grid, written);
              g_autofree char *run_dir = g_build_filename (out, "runs", name, NULL);
              int rc = prepare_out_dir (run_dir, error) ? write_run (final, run_dir, error) : -1;
              cl_snapshot_unref (final);
              /* A run that fails on its own (say, it diverges) is reported and the sweep goes on. */
              if (rc == -1)
                {
                  code = -1;
                  cl_sweep_cancel (sweep);
                }
              else if (rc != CL_EXIT_OK)
                failed_runs++;
            }
          written++;
        }
      if (code != CL_EXIT_OK || (pr.finished && written >= pr.points_done))
        break;
      if (pr.current_point >= 0 && pr.current_point == announced)
        {
          ClSnapshot *snap = cl_sweep_get_current_snapshot (sweep);
          if (snap)
            {
              g_autofree char *label = g_strdup_printf ("run %d/%d ", announced + 1, n_runs);
              /* the end of a run is reported from its final snapshot, above */
              if (!snap->finished)
                report_progress (snap, label, tty, &last_tenth);
              cl_snapshot_unref (snap);
            }
        }
      g_usleep (tty ? 100000 : 200000);
    }
  cl_sweep_wait (sweep);
  if (code == CL_EXIT_OK && !cl_sweep_get_error (sweep, error))
    code = -1;

  if (code == CL_EXIT_OK)
    {
      int n_rows = 0;
      g_autofree ClSweepRow *rows = cl_sweep_get_rows (sweep, &n_rows);
      g_autofree char *csv = cl_sweep_csv (grid, rows, n_rows);
      g_autofree char *config = cl_config_to_ini (cl_sweep_grid_base (grid));
      g_autofree char *sweep_desc = cl_sweep_grid_describe (grid);
      g_autofree char *png = g_build_filename (out, "figures", "sweep.png", NULL);
      g_autofree char *ini = g_strdup_printf ("# ContrastLab %s sweep base configuration; swept: %s\n%s", CL_VERSION,
                                              sweep_desc, config);
      if (!write_text (out, "sweep.csv", csv, error) || !write_text (out, "run.ini", ini, error)
          || !cl_sweep_plot_export_png (png, grid, rows, n_rows, NULL, 1.0, error))
        code = -1;
      else
        {
          g_printerr ("contrastlab: sweep of %d runs in %.0f s; wrote %s/sweep.csv and %s\n", n_runs,
                      (g_get_monotonic_time () - t0) / 1e6, out, png);
          g_printerr ("%s", csv);
        }
    }
  if (code == CL_EXIT_OK && failed_runs > 0)
    {
      g_printerr ("contrastlab: %d of %d sweep runs failed (see above)\n", failed_runs, n_runs);
      code = CL_EXIT_INTERNAL;
    }
  cl_sweep_free (sweep);
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
  ClSweepGrid *grid = NULL;
  if (build_config (opts, &cfg, &error))
    {
      if (opts->sweeps)
        grid = cl_sweep_grid_new (&cfg, (const char *const *) opts->sweeps, &error);
      else
        {
          /* A preset may name the sweep that reproduces its figure; --sweep on the command line wins. */
          g_autofree char *path = cl_preset_resolve (opts->preset ? opts->preset : "default", NULL);
          g_autofree char *spec = cl_sweep_preset_spec (path);
          if (spec)
            {
              g_printerr ("contrastlab: the preset's sweep: %s\n", spec);
              grid = cl_sweep_grid_new_from_text (&cfg, spec, &error);
            }
        }
    }
  if (!error && prepare_out_dir (out, &error))
    {
      code = grid ? run_sweep (grid, out, &error) : train_and_write (&cfg, out, &error);
      grid = NULL; /* run_sweep owns it */
    }
  cl_sweep_grid_free (grid);
  if (error)
    {
      g_printerr ("contrastlab: %s\n", error->message);
      code = exit_code_for (error);
      g_error_free (error);
    }
  return code;
}
