/* The engine's side of the agreement table (docs/agreement.md): one RandBits run of the
 * randbits-table preset at the given cell, then the class probe of both kinds on the same frozen
 * features, before training (the untrained encoder) and after the last step. The counterpart of
 * tests/reference/randbits_ref.py, printing the same line:
 *   engine bits=B tau=T seed=S batch=N steps=K logistic=A ridge=R untrained_logistic=U
 *          untrained_ridge=V loss=L seconds=X
 * Usage: randbits_engine BITS TAU SEED [BATCH STEPS THREADS] (defaults 512 600 1); the preset is
 * found through CONTRASTLAB_PRESETS_DIR like every other tool. */
#include "engine/train/cl_trainer_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/analysis/cl_probe.h"

/* The class probe of kind k on the trainer's current weights: the last "class" row it adds. */
static double
class_probe (ClTrainer *t, int kind)
{
  t->cfg.probe_kind = kind;
  t->last_probe_step = -1;
  cl_trainer_run_probes (t);
  for (int r = t->n_probes - 1; r >= 0; r--)
    if (g_strcmp0 (t->hist->probes[r].target, "class") == 0)
      return t->hist->probes[r].accuracy;
  return NAN;
}

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: randbits_engine BITS TAU SEED [BATCH STEPS THREADS]\n");
      return 2;
    }
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  char *path = cl_preset_resolve ("randbits-table", &error);
  if (!path || !cl_config_load_file (&cfg, path, &error))
    {
      fprintf (stderr, "randbits_engine: %s\n", error->message);
      return 2;
    }
  g_free (path);
  const char *keys[] = { "data.bits", "loss.temperature", "train.seed", "train.batch", "train.steps", "train.threads" };
  const char *values[] = {
    argv[1], argv[2], argv[3], argc > 4 ? argv[4] : "512", argc > 5 ? argv[5] : "600", argc > 6 ? argv[6] : "1"
  };
  for (int k = 0; k < 6; k++)
    if (!cl_config_set (&cfg, keys[k], values[k], &error))
      {
        fprintf (stderr, "randbits_engine: %s\n", error->message);
        return 2;
      }
  cfg.probe_every = 0;
  gint64 t0 = g_get_monotonic_time ();
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  if (!t)
    {
      fprintf (stderr, "randbits_engine: %s\n", error->message);
      return 2;
    }
  double untrained[2] = { class_probe (t, CL_PROBE_LOGISTIC), class_probe (t, CL_PROBE_RIDGE) };
  t->cfg.probe_kind = cfg.probe_kind;
  while (t->step < cfg.train_steps)
    if (!cl_trainer_step (t))
      break;
  double trained[2] = { class_probe (t, CL_PROBE_LOGISTIC), class_probe (t, CL_PROBE_RIDGE) };
  float loss = t->n_rows > 0 ? t->hist->rows[t->n_rows - 1].loss : NAN;
  printf ("engine bits=%d tau=%g seed=%d batch=%d steps=%d logistic=%.4f ridge=%.4f untrained_logistic=%.4f "
          "untrained_ridge=%.4f loss=%.4f seconds=%.0f\n",
          cfg.data_bits, cfg.loss_temperature, cfg.train_seed, cfg.train_batch, cfg.train_steps, trained[0], trained[1],
          untrained[0], untrained[1], loss, (g_get_monotonic_time () - t0) / 1e6);
  cl_trainer_free (t);
  return 0;
}
