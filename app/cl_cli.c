#include "app/cl_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <math.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cl_config.h"
#include "app/cl_cli_jobs.h"
#include "app/cl_export.h"
#include "engine/base/cl_format.h"
#include "engine/data/cl_data.h"
#include "engine/nn/cl_model.h"
#include "engine/base/cl_file.h"
#include "engine/store/cl_run_writer.h"
#include "engine/store/cl_runs.h"
#include "engine/store/cl_preset_events.h"
#include "ui/cl_png.h"
#include "engine/sweep/cl_sweep.h"
#include "engine/train/cl_trainer.h"
#include "ui/plots/cl_sweep_plot.h"

gboolean
cl_cli_parse (int *argc, char ***argv, ClCliOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  /* Told apart from a given --steps 0, which is refused. */
  opts->steps = G_MININT;
  opts->jobs = G_MININT;
  char *cell_text = NULL;
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &opts->headless, "Train without a window; write results to --out", NULL },
    { "preset", 'p', 0, G_OPTION_ARG_FILENAME, &opts->preset,
      "Preset NAME, or an .ini file, or a PNG exported by ContrastLab", "NAME|FILE" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opts->sets,
      "Set a parameter (repeatable), e.g. --set loss.temperature=0.2", "KEY=VALUE" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &opts->steps,
      "Number of training steps, at least 1 (same as --set train.steps=N)", "N" },
    { "sweep", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->sweeps,
      "With --headless: run every combination of these values (repeatable), e.g. --sweep loss.kind=ntxent,decoupled",
      "KEY=V1,V2,..." },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opts->out, "Output folder of a headless run (default: out)", "DIR" },
    { "plan", 0, 0, G_OPTION_ARG_NONE, &opts->plan,
      "With --headless and a sweep: write DIR/sweep.plan, print the number of cells, train nothing", NULL },
    { "cell", 0, 0, G_OPTION_ARG_STRING, &cell_text,
      "With --headless --out DIR: run cell N (0-based) of DIR/sweep.plan into DIR/runs/ (a finished cell is left "
      "alone)",
      "N" },
    { "collect", 0, 0, G_OPTION_ARG_NONE, &opts->collect,
      "With --headless --out DIR: write DIR/sweep.csv and DIR/figures/sweep.png from the finished cells", NULL },
    { "jobs", 0, 0, G_OPTION_ARG_INT, &opts->jobs,
      "With --headless and a sweep: run N cells at once, each in its own process (with train.threads=0, each on "
      "cores/N threads)",
      "N" },
    { "list-params", 0, 0, G_OPTION_ARG_NONE, &opts->list_params,
      "List every parameter with its range, default and help", NULL },
    { "list-presets", 0, 0, G_OPTION_ARG_NONE, &opts->list_presets, "List the presets", NULL },
    { "version", 'v', 0, G_OPTION_ARG_NONE, &opts->version, "Print the version", NULL },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &opts->verbose,
      "With --version: also the CPU and the compute kernels chosen for it", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- watch contrastive learning happen");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, "ContrastLab re-creates the experiments of 'Intriguing Properties of "
                                     "Contrastive Losses' (Chen, Luo, Li; NeurIPS 2021).");
  g_option_context_set_description (ctx, "Exit codes: 0 success; 2 bad input (unknown key, bad value, missing or "
                                         "corrupt data, unwritable output, a folder in use); 1 internal failure; "
                                         "3 the run diverged (non-finite loss).");
  GError *error = NULL;
  gboolean ok = g_option_context_parse (ctx, argc, argv, &error);
  g_autofree char *cell = cell_text;
  opts->cell = -1;
  if (!ok)
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
  if (opts->steps == G_MININT)
    opts->steps = 0;
  else if (opts->steps < 1)
    {
      g_printerr ("contrastlab: --steps %d: expected a number of steps of at least 1\n", opts->steps);
      return FALSE;
    }
  if (opts->out && !*opts->out)
    {
      g_printerr ("contrastlab: --out: the folder name is empty\n");
      return FALSE;
    }
  if (cell)
    {
      guint64 v = 0;
      if (!g_ascii_string_to_unsigned (cell, 10, 0, CL_SWEEP_MAX_POINTS - 1, &v, NULL))
        {
          g_autofree char *shown = g_strescape (cell, NULL);
          g_printerr ("contrastlab: --cell '%s': expected a cell index, 0 or more\n", shown);
          return FALSE;
        }
      opts->cell = (int) v;
    }
  if (opts->sweeps && !opts->headless)
    {
      g_printerr ("contrastlab: --sweep needs --headless\n");
      return FALSE;
    }
  if (opts->jobs == G_MININT)
    opts->jobs = 0;
  else if (opts->jobs < 1 || opts->jobs > 64)
    {
      g_printerr ("contrastlab: --jobs %d: expected 1 to 64 processes\n", opts->jobs);
      return FALSE;
    }
  if (opts->jobs > 1 && (!opts->headless || opts->plan || opts->cell >= 0 || opts->collect))
    {
      g_printerr ("contrastlab: --jobs runs a whole sweep: it needs --headless, and not --plan, --cell or --collect\n");
      return FALSE;
    }
  const char *mode = opts->plan ? "--plan" : opts->cell >= 0 ? "--cell" : opts->collect ? "--collect" : NULL;
  if (mode && !opts->headless)
    {
      g_printerr ("contrastlab: %s needs --headless\n", mode);
      return FALSE;
    }
  if ((opts->plan + (opts->cell >= 0) + opts->collect) > 1)
    {
      g_printerr ("contrastlab: --plan, --cell and --collect are separate steps; give one at a time\n");
      return FALSE;
    }
  if (mode && !opts->out)
    {
      g_printerr ("contrastlab: %s needs --out DIR (the sweep's folder)\n", mode);
      return FALSE;
    }
  if (opts->cell >= 0 || opts->collect)
    {
      /* The plan holds the configuration; only the thread count (which does not change the
       * results) may be set per cell, e.g. from $SLURM_CPUS_PER_TASK. */
      for (int i = 0; opts->sets && opts->sets[i]; i++)
        if (!g_str_has_prefix (opts->sets[i], "train.threads=") || opts->collect)
          {
            g_autofree char *shown = g_strescape (opts->sets[i], NULL);
            g_printerr ("contrastlab: %s: --set '%s': the configuration comes from DIR/sweep.plan (only "
                        "--set train.threads=N may be given with --cell)\n",
                        mode, shown);
            return FALSE;
          }
      if (opts->preset || opts->sweeps || opts->steps)
        {
          g_printerr ("contrastlab: %s: --preset, --sweep and --steps belong to --plan; the configuration comes "
                      "from DIR/sweep.plan\n",
                      mode);
          return FALSE;
        }
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
              p->type == CL_PARAM_INT     ? "int"
              : p->type == CL_PARAM_FLOAT ? "float"
              : p->type == CL_PARAM_ENUM  ? "choice"
                                          : "string",
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

/* Text for the terminal: control bytes (a newline in a value, an escape sequence in a file
 * name) written as \xNN, so every message stays one line and cannot drive the terminal. */
static char *
escape_controls (const char *text)
{
  GString *out = g_string_new (NULL);
  for (const unsigned char *c = (const unsigned char *) text; *c; c++)
    if (*c < 0x20 || *c == 0x7f)
      g_string_append_printf (out, "\\x%02x", *c);
    else
      g_string_append_c (out, (char) *c);
  return g_string_free (out, FALSE);
}

/* Errors of this file: a folder in use. */
#define CL_CLI_ERROR (cl_cli_error_quark ())
static G_DEFINE_QUARK (cl - cli - error - quark, cl_cli_error) enum { CL_CLI_ERROR_BUSY };

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
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "--out %s: cannot write there: %s", check[i],
                       g_strerror (e));
          return FALSE;
        }
      close (fd);
      g_unlink (probe);
    }
  return TRUE;
}

/* A sweep cell is locked from the moment its job looks at it (finished? half-written?) to the
 * end (flock on CELL/.contrastlab-cell.lock, released when the process ends, so a killed job
 * frees it): a second job of the same cell is refused. The run folder inside has the store
 * writer's own lock (.contrastlab.lock). Returns the lock's fd or -1. */
#define CELL_LOCK ".contrastlab-cell.lock"
#define WRITER_LOCK ".contrastlab.lock"
static int
lock_folder (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, CELL_LOCK, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: cannot create the lock file: %s", path,
                   g_strerror (e));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      char pid[32] = "";
      ssize_t n = pread (fd, pid, sizeof pid - 1, 0);
      pid[n > 0 ? n : 0] = '\0';
      g_strchomp (pid);
      for (char *c = pid; *c; c++)
        if (!g_ascii_isdigit (*c))
          *c = '?';
      g_set_error (error, CL_CLI_ERROR, CL_CLI_ERROR_BUSY,
                   "%s: another run is being written into this folder%s%s%s; wait for it or choose another folder", dir,
                   *pid ? " (process " : "", pid, *pid ? ")" : "");
      close (fd);
      return -1;
    }
  char pid[32];
  int len = g_snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
  if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, (size_t) len, 0) != len)
    {
      /* The pid is only for the message; the lock holds without it. */
    }
  return fd;
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

/* Everything the user gave (options, presets, data, output folders) is input: 2. */
static int
exit_code_for (const GError *error)
{
  if (error->domain == CL_CONFIG_ERROR || error->domain == CL_DATA_ERROR || error->domain == G_FILE_ERROR ||
      error->domain == CL_SWEEP_ERROR || error->domain == CL_CLI_ERROR || error->domain == CL_PNG_ERROR ||
      error->domain == CL_RUNS_ERROR)
    return CL_EXIT_BAD_INPUT;
  /* A model the configuration cannot build (images too small for it, say) is bad input; running
   * out of memory is not. */
  if (error->domain == CL_MODEL_ERROR && error->code == CL_MODEL_ERROR_BAD_SPEC)
    return CL_EXIT_BAD_INPUT;
  return CL_EXIT_INTERNAL;
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

/* ------------------------------------------------------------ run folders
 *
 * A headless run folder is written so that a kill -9 at any moment leaves a usable run (the
 * store's ClRunWriter: run.ini before any row, rows appended as whole lines, run.ini and
 * info.ini replaced atomically at the end; figures are written atomically). A write that fails
 * (disk full) removes what the run wrote, so nothing half-written stays. */

/* The files a run writes into its folder (removed after a failed write, and when a cell is
 * redone). */
static void
remove_run_files (const char *dir)
{
  const char *names[] = { "run.ini",      "info.ini",   "metrics.csv",     "probes.csv",
                          "clusters.csv", "events.csv", CL_SWEEP_CELL_MARK };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_unlink (p);
    }
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      g_autofree char *name = g_strdup_printf ("%s.png", cl_figure_slug ((ClFigureKind) k));
      g_autofree char *p = g_build_filename (dir, "figures", name, NULL);
      g_unlink (p);
    }
}

/* Everything inside dir except its lock file, without following links (a cell redone from the
 * start). */
static gboolean
remove_contents (const char *dir, gboolean keep_lock, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (!d)
    return TRUE;
  for (const char *name; (name = g_dir_read_name (d));)
    {
      if (keep_lock && (strcmp (name, CELL_LOCK) == 0 || strcmp (name, WRITER_LOCK) == 0))
        continue;
      g_autofree char *p = g_build_filename (dir, name, NULL);
      struct stat st;
      if (lstat (p, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          if (!remove_contents (p, FALSE, error))
            return FALSE;
          if (g_rmdir (p) != 0)
            {
              int e = errno;
              g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: cannot remove: %s", p,
                           g_strerror (e));
              return FALSE;
            }
        }
      else if (g_unlink (p) != 0)
        {
          int e = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: cannot remove: %s", p, g_strerror (e));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
write_text (const char *dir, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return cl_file_replace (path, text, -1, CL_FILE_REPLACE_DEFAULT, error);
}

/* The trainer reports a non-finite loss with this message (engine/train/cl_trainer.c). */
static gboolean
run_diverged (const ClSnapshot *final)
{
  return final->error && g_str_has_prefix (final->error, "training diverged");
}

typedef struct
{
  int64_t steps;
  double seconds;
  gboolean diverged;
  char *message; /* the run's error, NULL when it reached its end */
} RunOutcome;

/* Trains cfg into the folder out through the store's crash-safe writer (engine/store/
 * cl_run_writer.h: it locks the folder, clears an earlier run's files, writes run.ini before any
 * row, appends whole rows, and at the end rewrites run.ini and info.ini atomically), with the
 * figures written atomically before the end. Returns FALSE with error set when the trainer
 * cannot be built or the folder is in use (nothing written then) or a write fails (what the run
 * wrote is removed); TRUE when the run ended, outcome saying how. */
/* A single run from a PNG or a run folder's run.ini replays the live changes it carries. */
static ClEvent *replay_events;
static int n_replay_events;

static gboolean
train_into (const ClConfig *cfg, const char *out, const char *label, RunOutcome *outcome, GError **error)
{
  memset (outcome, 0, sizeof *outcome);
  ClTrainer *trainer = cl_trainer_new (cfg, error);
  if (!trainer)
    return FALSE;
  if (n_replay_events > 0 && !cl_trainer_replay (trainer, replay_events, n_replay_events, error))
    {
      cl_trainer_free (trainer);
      return FALSE;
    }
  ClSnapshot *start = cl_trainer_get_snapshot (trainer);
  g_autofree char *comment =
      g_strdup_printf ("ContrastLab %s headless run (in progress, or stopped before its end)", CL_VERSION);
  ClRunWriter *writer = cl_run_writer_open (out, start->config_ini, comment, NULL, error);
  cl_snapshot_unref (start);
  if (!writer)
    {
      cl_trainer_free (trainer);
      return FALSE;
    }
  gboolean tty = isatty (STDERR_FILENO);
  int last_tenth = 0;
  gboolean ok = TRUE;
  cl_trainer_start (trainer, FALSE);
  for (;;)
    {
      g_usleep (tty ? 100000 : 200000);
      ClSnapshot *snap = cl_trainer_get_snapshot (trainer);
      gboolean finished = snap->finished;
      if (!finished)
        report_progress (snap, label, tty, &last_tenth);
      ok = cl_run_writer_append (writer, snap, error);
      cl_snapshot_unref (snap);
      if (finished || !ok)
        break;
    }
  if (!ok)
    cl_trainer_request_stop (trainer);
  /* The thread publishes once more as it ends: wait for it so the files hold the final state. */
  cl_trainer_wait (trainer);
  ClSnapshot *final = cl_trainer_get_snapshot (trainer);
  if (ok)
    report_progress (final, label, tty, &last_tenth);
  for (int k = 0; ok && k < CL_N_FIGURES; k++)
    {
      g_autofree char *name = g_strdup_printf ("%s.png", cl_figure_slug ((ClFigureKind) k));
      g_autofree char *path = g_build_filename (out, "figures", name, NULL);
      ok = cl_export_figure_png (path, (ClFigureKind) k, final, 1.0, error);
    }
  if (ok)
    {
      g_autofree char *done = g_strdup_printf ("ContrastLab %s headless run: %" G_GINT64_FORMAT " steps in %.1f s%s",
                                               CL_VERSION, final->step, final->seconds,
                                               run_diverged (final) ? " (diverged)"
                                               : final->error       ? " (failed)"
                                                                    : "");
      ok = cl_run_writer_finish (writer, final, final->error ? CL_RUN_STATUS_STOPPED : CL_RUN_STATUS_FINISHED, done,
                                 TRUE, error);
    }
  else
    cl_run_writer_free (writer);
  if (ok)
    {
      outcome->steps = final->step;
      outcome->seconds = final->seconds;
      outcome->diverged = run_diverged (final);
      outcome->message = g_strdup (final->error);
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
  else
    /* Nothing half-written: a run that could not be written whole (disk full) is removed. */
    remove_run_files (out);
  cl_snapshot_unref (final);
  cl_trainer_free (trainer);
  return ok;
}

/* The exit code of an ended run, with its one line. */
static int
outcome_code (const RunOutcome *o, const char *what)
{
  if (o->diverged)
    {
      g_printerr ("contrastlab: %sthe run diverged: %s\n", what ? what : "", o->message);
      return CL_EXIT_DIVERGED;
    }
  if (o->message)
    {
      g_printerr ("contrastlab: %s%s\n", what ? what : "", o->message);
      return CL_EXIT_INTERNAL;
    }
  return CL_EXIT_OK;
}

/* A single headless run into out. */
static int
run_single (const ClConfig *cfg, const char *out, GError **error)
{
  if (!prepare_out_dir (out, error))
    return -1;
  RunOutcome o;
  int code = train_into (cfg, out, NULL, &o, error) ? outcome_code (&o, NULL) : -1;
  g_free (o.message);
  return code;
}

/* ------------------------------------------------------------------ sweeps */

/* Names for messages: control bytes of hand-made values escaped. */
static char *
cell_name (const ClSweepGrid *grid, int point)
{
  g_autofree char *name = cl_sweep_grid_point_name (grid, point);
  return escape_controls (name);
}

/* Runs cell point of the plan in dir (locked, skipped when finished, redone from the start when
 * a killed run left it half-written) and marks it finished. threads > 0 overrides
 * train.threads. Returns the exit code of the cell, -1 with error set. */
static int
run_cell (const ClSweepGrid *grid, const char *dir, int point, int threads, const char *label, GError **error)
{
  int n = cl_sweep_grid_n_points (grid);
  if (point < 0 || point >= n)
    {
      g_set_error (error, CL_SWEEP_ERROR, CL_SWEEP_ERROR_BAD_CELL, "--cell %d: %s/%s has %d cells (0..%d)", point, dir,
                   CL_SWEEP_PLAN_NAME, n, n - 1);
      return -1;
    }
  g_autofree char *name = cell_name (grid, point);
  g_autofree char *cell_dir = cl_sweep_cell_dir (grid, dir, point);
  if (!prepare_out_dir (cell_dir, error))
    return -1;
  int lock = lock_folder (cell_dir, error);
  if (lock < 0)
    return -1;
  int code = -1;
  if (cl_sweep_cell_finished (grid, dir, point))
    {
      g_printerr ("contrastlab: cell %d (%s) is finished already; left alone\n", point, name);
      code = CL_EXIT_OK;
    }
  else
    {
      ClConfig cfg;
      cl_sweep_grid_config (grid, point, &cfg);
      if (threads > 0)
        cfg.train_threads = threads;
      RunOutcome o = { 0 };
      /* A half-written cell (a killed job) is redone from the start. */
      if (remove_contents (cell_dir, TRUE, error) && g_mkdir_with_parents (cell_dir, 0755) == 0 &&
          prepare_out_dir (cell_dir, error) && train_into (&cfg, cell_dir, label, &o, error))
        {
          ClSweepCellEnd end = o.diverged  ? CL_SWEEP_CELL_DIVERGED
                               : o.message ? CL_SWEEP_CELL_FAILED
                                           : CL_SWEEP_CELL_DONE;
          g_autofree char *what = g_strdup_printf ("cell %d (%s): ", point, name);
          if (cl_sweep_cell_mark (grid, cell_dir, point, end, o.steps, o.seconds, o.message, error))
            code = outcome_code (&o, what);
          else
            remove_run_files (cell_dir);
        }
      g_free (o.message);
    }
  close (lock);
  return code;
}

/* Writes DIR/sweep.csv, DIR/run.ini (the base) and DIR/figures/sweep.png from the finished
 * cells. Exit 0 when every cell is finished, 2 naming the unfinished ones, -1 with error. */
static int
collect (const ClSweepGrid *grid, const char *out, gboolean quiet, GError **error)
{
  int n = cl_sweep_grid_n_points (grid);
  g_autofree ClSweepRow *rows = g_new0 (ClSweepRow, n);
  g_autoptr (GString) unfinished = g_string_new (NULL);
  int n_unfinished = 0;
  for (int p = 0; p < n; p++)
    {
      if (!cl_sweep_cell_row (grid, out, p, &rows[p], error))
        return -1;
      if (rows[p].state == CL_SWEEP_POINT_PENDING)
        {
          if (n_unfinished < 20)
            {
              g_autofree char *name = cell_name (grid, p);
              g_string_append_printf (unfinished, "%s%d (%s)", n_unfinished ? ", " : "", p, name);
            }
          else if (n_unfinished == 20)
            g_string_append (unfinished, ", ...");
          n_unfinished++;
        }
    }
  if (!prepare_out_dir (out, error))
    return -1;
  g_autofree char *csv = cl_sweep_csv (grid, rows, n);
  g_autofree char *config = cl_config_to_ini (cl_sweep_grid_base (grid));
  g_autofree char *sweep_desc = cl_sweep_grid_describe (grid);
  g_autofree char *png = g_build_filename (out, "figures", "sweep.png", NULL);
  g_autofree char *ini =
      g_strdup_printf ("# ContrastLab %s sweep base configuration; swept: %s\n%s", CL_VERSION, sweep_desc, config);
  if (!write_text (out, "sweep.csv", csv, error) || !write_text (out, "run.ini", ini, error) ||
      !cl_sweep_plot_export_png (png, grid, rows, n, NULL, 1.0, error))
    return -1;
  if (n_unfinished > 0)
    {
      /* One line: the partial sweep.csv and sweep.png are written all the same. */
      g_printerr ("contrastlab: %s: %d of %d cells unfinished: %s\n", out, n_unfinished, n, unfinished->str);
      return CL_EXIT_BAD_INPUT;
    }
  if (!quiet)
    {
      g_printerr ("contrastlab: %d cells finished; wrote %s/sweep.csv and %s\n", n, out, png);
      g_printerr ("%s", csv);
    }
  return CL_EXIT_OK;
}

/* The sweep in this process: the plan written and read back, then every cell in turn, then
 * collect, through the same code as --plan, --cell and --collect. A cell that diverges or
 * fails is recorded and the sweep goes on. */
static int
run_sweep (const ClSweepGrid *grid_in, const char *out, int jobs, GError **error)
{
  if (!prepare_out_dir (out, error) || !cl_sweep_plan_write (grid_in, out, error))
    return -1;
  g_autoptr (ClSweepGrid) grid = cl_sweep_plan_read (out, error);
  if (!grid)
    return -1;
  int n = cl_sweep_grid_n_points (grid);
  gint64 t0 = g_get_monotonic_time ();
  int diverged = 0, failed = 0, refused = 0;
  double trained_seconds = 0;
  int trained = 0;
  if (jobs > 1)
    {
      /* Each cell a process of its own; a cell left on all cores (train.threads=0) gets its share. */
      const int share = MAX (1, (int) g_get_num_processors () / MIN (jobs, n));
      g_autofree int *threads = g_new (int, n), *codes = g_new (int, n);
      for (int p = 0; p < n; p++)
        {
          ClConfig cfg;
          cl_sweep_grid_config (grid, p, &cfg);
          threads[p] = cfg.train_threads > 0 ? 0 : share;
        }
      g_printerr ("contrastlab: sweep of %d runs, %d at a time (cells on all cores get %d thread%s each)\n", n,
                  MIN (jobs, n), share, share == 1 ? "" : "s");
      if (!cl_cli_run_cells (out, n, jobs, threads, codes, error))
        return -1;
      for (int p = 0; p < n; p++)
        {
          diverged += codes[p] == CL_EXIT_DIVERGED;
          refused += codes[p] == CL_EXIT_BAD_INPUT;
          failed += codes[p] != CL_EXIT_OK && codes[p] != CL_EXIT_DIVERGED && codes[p] != CL_EXIT_BAD_INPUT;
        }
    }
  for (int p = 0; p < n && jobs <= 1; p++)
    {
      g_autofree char *name = cell_name (grid, p);
      char eta[32];
      cl_format_duration (trained > 0 ? trained_seconds / trained * (n - p) : -1, eta, sizeof eta);
      g_printerr ("contrastlab: sweep run %d/%d (%s), sweep ETA %s\n", p + 1, n, name, eta);
      g_autofree char *label = g_strdup_printf ("run %d/%d ", p + 1, n);
      gint64 c0 = g_get_monotonic_time ();
      int rc = run_cell (grid, out, p, 0, label, error);
      if (rc < 0)
        return -1;
      trained_seconds += (g_get_monotonic_time () - c0) / 1e6;
      trained++;
      diverged += rc == CL_EXIT_DIVERGED;
      failed += rc == CL_EXIT_INTERNAL;
    }
  if (refused > 0)
    {
      /* Each such cell said why (e.g. its folder in use by another job). */
      g_printerr ("contrastlab: %d of %d sweep runs could not run (see above)\n", refused, n);
      collect (grid, out, TRUE, NULL);
      return CL_EXIT_BAD_INPUT;
    }
  int code = collect (grid, out, TRUE, error);
  if (code != CL_EXIT_OK)
    return code;
  g_autofree char *png = g_build_filename (out, "figures", "sweep.png", NULL);
  g_autofree char *csv_path = g_build_filename (out, "sweep.csv", NULL);
  g_autofree char *csv = NULL;
  g_file_get_contents (csv_path, &csv, NULL, NULL);
  g_printerr ("contrastlab: sweep of %d runs in %.0f s; wrote %s/sweep.csv and %s\n", n,
              (g_get_monotonic_time () - t0) / 1e6, out, png);
  g_printerr ("%s", csv ? csv : "");
  if (failed > 0)
    {
      g_printerr ("contrastlab: %d of %d sweep runs failed (see above)\n", failed, n);
      return CL_EXIT_INTERNAL;
    }
  if (diverged > 0)
    {
      g_printerr ("contrastlab: %d of %d sweep runs diverged (recorded in sweep.csv with no accuracy)\n", diverged, n);
      return CL_EXIT_DIVERGED;
    }
  return CL_EXIT_OK;
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

/* --cell N / --collect: the configuration comes from the plan. */
static int
run_plan_step (const ClCliOptions *opts, GError **error)
{
  g_autoptr (ClSweepGrid) grid = cl_sweep_plan_read (opts->out, error);
  if (!grid)
    return -1;
  if (opts->collect)
    return collect (grid, opts->out, FALSE, error);
  int threads = 0;
  for (int i = 0; opts->sets && opts->sets[i]; i++)
    {
      ClConfig check;
      cl_config_init (&check);
      if (!cl_config_set_assignment (&check, opts->sets[i], error))
        return -1;
      threads = check.train_threads;
    }
  g_autofree char *label = g_strdup_printf ("cell %d/%d ", opts->cell, cl_sweep_grid_n_points (grid));
  return run_cell (grid, opts->out, opts->cell, threads, label, error);
}

int
cl_cli_headless (const ClCliOptions *opts)
{
  GError *error = NULL;
  ClConfig cfg;
  const char *out = opts->out ? opts->out : "out";
  int code = CL_EXIT_INTERNAL;
  if (opts->cell >= 0 || opts->collect)
    code = run_plan_step (opts, &error);
  else
    {
      g_autoptr (ClSweepGrid) grid = NULL;
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
                  g_autofree char *shown = escape_controls (spec);
                  if (!opts->plan)
                    g_printerr ("contrastlab: the preset's sweep: %s\n", shown);
                  grid = cl_sweep_grid_new_from_text (&cfg, spec, &error);
                }
            }
        }
      if (!error && !grid && opts->preset)
        {
          replay_events = cl_preset_read_events (opts->preset, &n_replay_events, &error);
          if (replay_events)
            cl_events_initial_config (&cfg, replay_events, n_replay_events, &error);
        }
      if (error)
        {
          /* Whatever build_config or the sweep refused came from the user: options, presets
           * (an .ini, or a PNG that is not one), values. */
          g_autofree char *shown = escape_controls (error->message);
          g_printerr ("contrastlab: %s\n", shown);
          g_error_free (error);
          return CL_EXIT_BAD_INPUT;
        }
      if ((opts->plan || opts->jobs > 1) && !grid)
        {
          g_printerr ("contrastlab: %s: nothing to sweep (give --sweep KEY=V1,V2,... or a preset with a sweep)\n",
                      opts->plan ? "--plan" : "--jobs");
          return CL_EXIT_BAD_INPUT;
        }
      if (opts->plan)
        {
          if (prepare_out_dir (out, &error) && cl_sweep_plan_write (grid, out, &error))
            {
              printf ("%d\n", cl_sweep_grid_n_points (grid));
              fflush (stdout);
              code = CL_EXIT_OK;
            }
        }
      else
        code = grid ? run_sweep (grid, out, opts->jobs, &error) : run_single (&cfg, out, &error);
    }
  if (error)
    {
      g_autofree char *shown = escape_controls (error->message);
      g_printerr ("contrastlab: %s\n", shown);
      code = exit_code_for (error);
      g_error_free (error);
    }
  return code;
}
