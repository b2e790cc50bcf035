/* What the trainer delivers around the compute: for each preset (its own configuration),
 *
 *  1. end-to-end vs compute-only: the trainer thread as the app and the CLI run it (batch
 *     assembly, augmentation, probes, clustering, snapshot publication) and, in alternating windows
 *     of the same length so both see the same machine load, the bare step (forward + loss + backward
 *     + optimizer) of an identical model on views prepared once. Reported: steps/s of each and their
 *     ratio (the issue's goal: at least 85%), and the share of the trainer's windows spent in probes.
 *  2. the probe share of a whole run at the preset's defaults: a reported probe (linear probes +
 *     the local-feature clustering; step 0 and after the last step), an intermediate one (every
 *     probe.every steps; looser fit tolerance) and the step are timed with the trainer's own
 *     functions, and the preset's probe count gives the share.
 *
 * It reaches the trainer's internals through engine/train/cl_trainer_private.h.
 *
 * Usage: bench_trainer [--window S] [--reps R] [--probe-only] [PRESET...]
 * (default: every preset for the probe share, and default, randbits-quick, randbits-table and
 * local-features for end-to-end). Exit 0 when it ran, 1 when a preset could not be loaded. */
#include "engine/train/cl_trainer_private.h"
#include "engine/nn/cl_loss.h"
#include "engine/nn/cl_layers.h"

#include <stdio.h>
#include <stdlib.h>

static double opt_window = 4.0;
static int opt_reps = 4;
static gboolean opt_probe_only = FALSE;

static const char *const e2e_default_presets[] = { "default", "randbits-quick", "randbits-table", "local-features" };

static double
now (void)
{
  return g_get_monotonic_time () * 1e-6;
}

static int
compare_double (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* A trainer for the preset's configuration (steps > 0 overrides train.steps); NULL after a
 * message on stderr. */
static ClTrainer *
preset_trainer (const char *name, int64_t steps, ClConfig *cfg)
{
  cl_config_init (cfg);
  GError *error = NULL;
  char *path = cl_preset_resolve (name, &error);
  ClTrainer *t = NULL;
  if (path && cl_config_load_file (cfg, path, &error))
    {
      if (steps > 0)
        cfg->train_steps = steps;
      t = cl_trainer_new (cfg, &error);
    }
  if (!t)
    {
      fprintf (stderr, "bench_trainer: %s: %s\n", name, error->message);
      g_error_free (error);
    }
  g_free (path);
  return t;
}

static ClSnapshot *
wait_paused (ClTrainer *t)
{
  for (;;)
    {
      ClSnapshot *s = cl_trainer_get_snapshot (t);
      if (s->paused || s->finished)
        return s;
      cl_snapshot_unref (s);
      g_usleep (500);
    }
}

static gboolean
probe_share (const char *name)
{
  ClConfig cfg;
  ClTrainer *t = preset_trainer (name, 0, &cfg);
  if (!t)
    return FALSE;
  cl_trainer_step (t); /* includes the step-0 probe; warms up */
  /* The reported probes (step 0 and after the last step) fit to the full tolerance, the
   * intermediate ones to the looser (cl_probe.h): time one of each, the first as the trainer runs
   * it after its last step. */
  double probe = 1e9, probe_mid = 1e9;
  const int64_t train_steps = t->cfg.train_steps;
  for (int r = 0; r < 4; r++)
    {
      t->cfg.train_steps = r % 2 ? train_steps : t->step;
      const double a = now ();
      cl_trainer_run_probes (t);
      cl_trainer_run_clusters (t);
      if (r % 2)
        probe_mid = MIN (probe_mid, now () - a);
      else
        probe = MIN (probe, now () - a);
    }
  t->cfg.train_steps = train_steps;
  const int steps_timed = 8;
  const double a = now ();
  for (int i = 0; i < steps_timed; i++)
    cl_trainer_step (t);
  const double step = (now () - a) / steps_timed;
  const int64_t steps = cfg.train_steps, every = cfg.probe_every;
  const int64_t probes = every > 0 ? steps / every + 1 + (steps % every != 0) : 2;
  const double train = steps * step, probing = 2 * probe + (probes - 2) * probe_mid;
  printf ("%-16s batch %4d, %5lld steps, probe.every %4lld: step %6.1f ms, probe %5.2f s x 2 + %5.2f s x %2lld = "
          "%5.1f%% of the run (%.0f s training + %.0f s probes)\n",
          name, cfg.train_batch, (long long) steps, (long long) every, 1e3 * step, probe, probe_mid,
          (long long) (probes - 2), 100 * probing / (train + probing), train, probing);
  cl_trainer_free (t);
  return TRUE;
}

static gboolean
end_to_end (const char *name)
{
  ClConfig cfg;
  ClTrainer *t = preset_trainer (name, 1000000, &cfg); /* never finishes inside the windows */
  if (!t)
    return FALSE;
  /* The compute-only twin: same spec, active and constant input planes, views of the trainer's first batch. */
  ClModel *m = cl_model_new (cl_model_spec (t->model), 7, NULL);
  cl_model_set_active_input_channels (m, cl_model_active_input_channels (t->model));
  cl_model_set_constant_input_planes (m, cl_model_constant_input_planes (t->model));
  ClOptimizer *opt =
      cl_optimizer_new ((ClOptimizerKind) cfg.train_optimizer, cl_model_num_params (m), cl_model_num_decay_params (m));
  const size_t xn = (size_t) 2 * t->batch * t->in_channels * t->height * t->width;
  float *x = g_new (float, xn);
  cl_batch_build_into (t, &t->views, 0, &t->cfg);
  memcpy (x, t->views.x, sizeof (float) * xn);
  cl_batch_shuffle_order (t, 0);
  float *dz = g_new (float, (size_t) 2 * t->batch * t->out_dim);
  float *ws = g_new (float, cl_loss_workspace_floats_max (t->batch, t->out_dim));
  const ClLossParams lp = { .kind = (ClLossKind) cfg.loss_kind,
                            .temperature = (float) cfg.loss_temperature,
                            .lambda = (float) cl_trainer_effective_lambda (&cfg, t->out_dim) };

  cl_trainer_start (t, TRUE);
  ClSnapshot *s = wait_paused (t);
  int64_t step0 = s->step;
  const double probe0 = s->probe_seconds;
  cl_snapshot_unref (s);
  double ratio[64], e2e_time = 0, comp_time = 0;
  long e2e_steps = 0, comp_steps = 0;
  const int reps = MIN (opt_reps, 64);
  for (int r = 0; r < reps; r++)
    {
      double a = now ();
      cl_trainer_set_paused (t, FALSE);
      g_usleep ((gulong) (opt_window * 1e6));
      cl_trainer_set_paused (t, TRUE);
      s = wait_paused (t);
      const double de = now () - a;
      const long se = (long) (s->step - step0);
      step0 = s->step;
      cl_snapshot_unref (s);
      a = now ();
      long sc = 0;
      while (now () - a < opt_window)
        {
          const float *z = cl_model_forward (m, x, 2 * t->batch, TRUE);
          ClRng loss_rng;
          cl_rng_seed (&loss_rng, 1, CL_STREAM_LOSS);
          cl_loss_compute (&lp, z, t->batch, t->out_dim, &loss_rng, dz, ws);
          cl_model_backward (m, dz);
          cl_optimizer_step (opt, cl_model_params (m), cl_model_grads (m), 1e-4f, 1e-4f);
          sc++;
        }
      const double dc = now () - a;
      ratio[r] = (se / de) / (sc / dc);
      e2e_steps += se, e2e_time += de, comp_steps += sc, comp_time += dc;
    }
  s = cl_trainer_get_snapshot (t);
  const double probing = s->probe_seconds - probe0;
  cl_snapshot_unref (s);
  qsort (ratio, reps, sizeof *ratio, compare_double);
  const double median = reps % 2 ? ratio[reps / 2] : 0.5 * (ratio[reps / 2 - 1] + ratio[reps / 2]);
  printf ("%-16s threads %d, batch %4d: end-to-end %6.2f steps/s (probes %4.1f%% of it), compute-only %6.2f steps/s: "
          "%5.1f%% (totals; median of %d window pairs %5.1f%%)\n",
          name, cl_trainer_threads (t), t->batch, e2e_steps / e2e_time, 100 * probing / e2e_time,
          comp_steps / comp_time, 100 * (e2e_steps / e2e_time) / (comp_steps / comp_time), reps, 100 * median);
  cl_trainer_free (t);
  cl_optimizer_free (opt);
  cl_model_free (m);
  g_free (x);
  g_free (dz);
  g_free (ws);
  return TRUE;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "window", 0, 0, G_OPTION_ARG_DOUBLE, &opt_window, "Seconds per window (default 4)", "S" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "Window pairs per preset (default 4)", "R" },
    { "probe-only", 0, 0, G_OPTION_ARG_NONE, &opt_probe_only, "Only the probe share", NULL },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("[PRESET...] - end-to-end vs compute-only, probe share");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "bench_trainer: %s\n", error->message);
      return 2;
    }
  g_option_context_free (ctx);
  if (opt_window <= 0 || opt_reps < 1)
    {
      fprintf (stderr, "bench_trainer: --window must be positive and --reps at least 1\n");
      return 2;
    }
  gboolean ok = TRUE;
  printf ("Probe share of a run at each preset's defaults:\n");
  if (argc > 1)
    for (int i = 1; i < argc; i++)
      ok = probe_share (argv[i]) && ok;
  else
    {
      GPtrArray *names = cl_preset_list ();
      for (guint i = 0; i < names->len; i++)
        ok = probe_share (g_ptr_array_index (names, i)) && ok;
      g_ptr_array_unref (names);
    }
  if (!opt_probe_only)
    {
      printf ("\nEnd-to-end (the trainer thread) vs compute-only steps, alternating %.0f s windows:\n", opt_window);
      if (argc > 1)
        for (int i = 1; i < argc; i++)
          ok = end_to_end (argv[i]) && ok;
      else
        for (size_t i = 0; i < G_N_ELEMENTS (e2e_default_presets); i++)
          ok = end_to_end (e2e_default_presets[i]) && ok;
    }
  return ok ? 0 : 1;
}
