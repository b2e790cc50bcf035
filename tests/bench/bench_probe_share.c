/* The share of a run that goes to analysis (issue 13's goal: at most 10% at every preset's
 * defaults), in CPU time of the whole process (so load from other processes matters little and the
 * trainer's batch helper thread counts with the step):
 *
 *   share = (probes + control probes + clustering) / (steps + probes + control probes + clustering)
 *
 * For each preset, at its own configuration (train.threads forced to --threads, default 1):
 *  - the step-0 probe round (the untrained encoder's, fitted to the full tolerance) is timed part
 *    by part: cl_trainer_run_probes (embedding the probe images + every target's fit),
 *    cl_trainer_run_control_probes (the suppression controls' renders, embeddings and fits),
 *    cl_trainer_run_clusters (the local-feature clustering);
 *  - --warmup steps, then --steps training steps are timed (probes switched off meanwhile);
 *  - on the trained features, one intermediate round (every probe.every steps; looser fit
 *    tolerance, cl_probe.h) and one reported round (after the last step; full tolerance) are
 *    timed the same way.
 * A run at the defaults has train.steps steps and 2 + P rounds: the step-0 and final ones, and P
 * intermediate ones (probe.every; the trainer's schedule); its analysis time is taken as
 * step-0 + final + P x intermediate. The intermediate and final rounds are measured on the features
 * after --warmup + --steps steps, not at their true steps (a fit's cost depends on the features:
 * raise --steps to come closer to a preset's end).
 *
 * It reaches the trainer's internals through engine/train/cl_trainer_private.h.
 *
 * Usage: bench_probe_share [--steps K] [--warmup W] [--threads N] [PRESET...]
 * (default: every preset). Exit 0 when it ran, 1 when a preset could not be loaded, 2 on bad
 * options. Speed is measured here, never asserted. */
#include "engine/train/cl_trainer_private.h"
#include "engine/nn/cl_kernels_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int opt_steps = 100;
static int opt_warmup = 3;
static int opt_threads = 1;

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of one probe round, part by part. */
typedef struct
{
  double probes, controls, clusters;
} Round;

static double
round_total (const Round *r)
{
  return r->probes + r->controls + r->clusters;
}

/* One probe round as cl_trainer_maybe_probe runs it. The trainer fits the step-0 and last rounds
 * to the full tolerance and the others to the looser one; it decides by the step, so the round is
 * made "reported" or intermediate by where train.steps sits for its duration. */
static Round
time_round (ClTrainer *t, gboolean reported)
{
  Round r;
  const int64_t keep = t->cfg.train_steps;
  if (t->step > 0)
    t->cfg.train_steps = reported ? t->step : t->step + 1;
  double a = cpu_seconds ();
  cl_trainer_run_probes (t);
  double b = cpu_seconds ();
  r.probes = b - a;
  cl_trainer_run_control_probes (t);
  a = cpu_seconds ();
  r.controls = a - b;
  cl_trainer_run_clusters (t);
  r.clusters = cpu_seconds () - a;
  t->cfg.train_steps = keep;
  /* Rows of these rounds are not kept: the next round must not find the history full. */
  t->n_probes = 0;
  t->n_cluster_rows = 0;
  return r;
}

static gboolean
preset_share (const char *name, double *share)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  g_autofree char *path = cl_preset_resolve (name, &error);
  if (!path || !cl_config_load_file (&cfg, path, &error))
    {
      fprintf (stderr, "bench_probe_share: %s: %s\n", name, error->message);
      g_error_free (error);
      return FALSE;
    }
  cfg.train_threads = opt_threads;
  const int64_t steps = cfg.train_steps, every = cfg.probe_every;
  /* The run is created long enough for the timed steps (its history is sized by train.steps) and
   * one step longer, so that no final probe falls inside them. */
  cfg.train_steps = MAX (steps, (int64_t) opt_warmup + opt_steps) + 1;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  if (!t)
    {
      fprintf (stderr, "bench_probe_share: %s: %s\n", name, error->message);
      g_error_free (error);
      return FALSE;
    }
  const Round r0 = time_round (t, TRUE);
  /* Probes off while the steps are timed (the step-0 round above counts as the trainer's). */
  t->cfg.probe_every = 0;
  for (int i = 0; i < opt_warmup; i++)
    cl_trainer_step (t);
  const double a = cpu_seconds ();
  for (int i = 0; i < opt_steps; i++)
    cl_trainer_step (t);
  const double step = (cpu_seconds () - a) / opt_steps;
  t->cfg.probe_every = every;
  const Round mid = time_round (t, FALSE), last = time_round (t, TRUE);

  /* The trainer's schedule: step 0, every probe.every steps, and after the last step. */
  const int64_t inter = every > 0 ? (steps - 1) / every : 0;
  const double train = steps * step;
  const double probes = r0.probes + last.probes + inter * mid.probes;
  const double controls = r0.controls + last.controls + inter * mid.controls;
  const double clusters = r0.clusters + last.clusters + inter * mid.clusters;
  const double analysis = probes + controls + clusters;
  *share = analysis / (train + analysis);
  printf ("%-16s %4d %6lld %5lld %3lld %8.1f %8.1f | %7.2f %7.2f %7.2f | %5.2f %5.2f %5.2f | %7.1f %7.1f %7.1f | "
          "%5.1f%%\n",
          name, cfg.train_batch, (long long) steps, (long long) every, (long long) (inter + 2), 1e3 * step, train,
          round_total (&r0), round_total (&mid), round_total (&last), r0.probes, r0.controls, r0.clusters, probes,
          controls, clusters, 100 * *share);
  fflush (stdout);
  cl_trainer_free (t);
  return TRUE;
}

static void
print_loadavg (const char *when)
{
  double l[3];
  FILE *f = fopen ("/proc/loadavg", "r");
  if (f && fscanf (f, "%lf %lf %lf", &l[0], &l[1], &l[2]) == 3)
    printf ("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
  if (f)
    fclose (f);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "steps", 0, 0, G_OPTION_ARG_INT, &opt_steps, "Training steps timed per preset (default 100)", "K" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &opt_warmup, "Untimed steps before them (default 3)", "W" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "train.threads of every run (default 1)", "N" },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("[PRESET...] - CPU share of probes, control probes and clustering");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "bench_probe_share: %s\n", error->message);
      g_error_free (error);
      g_option_context_free (ctx);
      return 2;
    }
  g_option_context_free (ctx);
  if (opt_steps < 1 || opt_warmup < 0 || opt_threads < 1)
    {
      fprintf (stderr, "bench_probe_share: --steps and --threads must be at least 1, --warmup at least 0\n");
      return 2;
    }
  {
    g_autofree char *kernels = cl_nn_describe_kernels ();
    printf ("kernels: %s\n", kernels);
  }
  printf ("process CPU time, train.threads=%d, each preset's defaults; steps timed: %d after %d warm-up\n", opt_threads,
          opt_steps, opt_warmup);
  printf ("rounds: probes = embedding + fits of every target, controls = control probes, clust = clustering\n");
  print_loadavg ("at start");
  printf ("%-16s %4s %6s %5s %3s %8s %8s | %7s %7s %7s | %5s %5s %5s | %7s %7s %7s | %6s\n", "preset", "batch", "steps",
          "every", "rnd", "ms/step", "steps s", "round0", "mid", "final", "probe", "ctrl", "clust", "probes", "ctrls",
          "clust", "share");
  printf ("%-16s %4s %6s %5s %3s %8s %8s | %-23s | %-17s | %-23s |\n", "", "", "", "", "", "(CPU)", "(run)",
          "CPU s per round", "round 0 by part", "CPU s of the run");
  gboolean ok = TRUE;
  double worst = 0;
  const char *worst_name = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  if (argc > 1)
    for (int i = 1; i < argc; i++)
      g_ptr_array_add (names, g_strdup (argv[i]));
  else
    {
      GPtrArray *all = cl_preset_list ();
      for (guint i = 0; i < all->len; i++)
        g_ptr_array_add (names, g_strdup (g_ptr_array_index (all, i)));
      g_ptr_array_unref (all);
    }
  for (guint i = 0; i < names->len; i++)
    {
      double share = 0;
      const char *name = g_ptr_array_index (names, i);
      if (!preset_share (name, &share))
        ok = FALSE;
      else if (share >= worst)
        worst = share, worst_name = name;
    }
  if (worst_name)
    printf ("largest share: %s %.1f%% (goal: at most 10%%)\n", worst_name, 100 * worst);
  print_loadavg ("at end");
  g_ptr_array_unref (names);
  return ok ? 0 : 1;
}
