/* The learning-rate schedules, and LARS training a model (its update rule: tests/engine/nn/test_optimizer.c). */
#include <glib.h>
#include <math.h>

#include "engine/nn/cl_optimizer.h"
#include "engine/train/cl_trainer.h"
#include "tests/engine/train/train_test_util.h"

static void
test_schedules (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  cfg.train_steps = 100;
  cfg.train_lr = 1.0;
  /* adam / sgd: the colab's linear decay from lr to 0. */
  g_assert_cmpfloat (cl_trainer_lr_at (&cfg, 0), ==, 1.0);
  g_assert_cmpfloat (fabs (cl_trainer_lr_at (&cfg, 50) - 0.5), <, 1e-12);
  /* lars: 10 warm-up steps to the peak, then cosine to 0. */
  cfg.train_optimizer = CL_OPTIMIZER_LARS;
  g_assert_cmpfloat (fabs (cl_trainer_lr_at (&cfg, 0) - 0.1), <, 1e-12);
  g_assert_cmpfloat (fabs (cl_trainer_lr_at (&cfg, 9) - 1.0), <, 1e-12);
  g_assert_cmpfloat (fabs (cl_trainer_lr_at (&cfg, 10) - 1.0), <, 1e-12);
  g_assert_cmpfloat (fabs (cl_trainer_lr_at (&cfg, 55) - 0.5), <, 1e-12);
  g_assert_cmpfloat (cl_trainer_lr_at (&cfg, 99), <, 0.001);
  for (int s = 11; s < 100; s++)
    g_assert_cmpfloat (cl_trainer_lr_at (&cfg, s), <=, cl_trainer_lr_at (&cfg, s - 1));
}

/* A short LARS run at SimCLR's lr = 0.3 x B/256 trains. */
static void
test_lars_trains (void)
{
  ClConfig cfg;
  train_test_config (&cfg, 64, 60, 2);
  cfg.probe_every = 0;
  cfg.train_optimizer = CL_OPTIMIZER_LARS;
  cfg.train_lr = 0.3 * 64 / 256;
  ClTrainer *t = train_test_run_to_end (&cfg);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  double first = 0, last = 0;
  for (int i = 0; i < 10; i++)
    {
      first += s->rows[i].loss / 10;
      last += s->rows[s->n_rows - 10 + i].loss / 10;
    }
  g_test_message ("LARS: mean loss first 10 steps %.4f, last 10 %.4f", first, last);
  g_assert_cmpfloat (last, <, first - 0.2);
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/optimizer/schedules", test_schedules);
  g_test_add_func ("/optimizer/lars-trains", test_lars_trains);
  return g_test_run ();
}
