/* LARS against a hand computation, and the learning-rate schedules. */
#include <glib.h>
#include <math.h>

#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "engine/train/cl_trainer.h"

/* Two "layers" (kernels) of 3 and 2 weights, then 2 BatchNorm parameters. */
static void
test_lars_step (void)
{
  const size_t starts[] = { 0, 3 }, counts[] = { 3, 2 };
  float w[7] = { 0.5f, -1.0f, 2.0f, 0.3f, 0.4f, 1.0f, 0.0f };
  const float g[7] = { 0.1f, 0.2f, -0.3f, 1.0f, -2.0f, 0.5f, -0.25f };
  double ref_w[7], ref_v[7] = { 0 };
  for (int i = 0; i < 7; i++)
    ref_w[i] = w[i];
  const double lr = 0.5, wd = 0.01, eta = 0.001, mom = 0.9;

  ClOptimizer *opt = cl_optimizer_new (CL_OPTIMIZER_LARS, 7, 5);
  cl_optimizer_set_layers (opt, 2, starts, counts);
  for (int step = 0; step < 2; step++)
    {
      cl_optimizer_step (opt, w, g, (float) lr, (float) wd);
      /* Reference: per layer trust = eta ||w|| / ||g + wd w||, momentum on lr * trust * (g + wd w). */
      for (int l = 0; l < 3; l++)
        {
          size_t s = l < 2 ? starts[l] : 5, c = l < 2 ? counts[l] : 2;
          gboolean adapt = l < 2;
          double wn = 0, gn = 0;
          double gd[7];
          for (size_t i = s; i < s + c; i++)
            {
              gd[i] = g[i] + (adapt ? wd * ref_w[i] : 0);
              wn += ref_w[i] * ref_w[i];
              gn += gd[i] * gd[i];
            }
          double trust = adapt ? eta * sqrt (wn) / sqrt (gn) : 1.0;
          for (size_t i = s; i < s + c; i++)
            {
              ref_v[i] = mom * ref_v[i] + lr * trust * gd[i];
              ref_w[i] -= ref_v[i];
            }
        }
      for (int i = 0; i < 7; i++)
        g_assert_cmpfloat (fabs (w[i] - ref_w[i]), <, 1e-6 * (1 + fabs (ref_w[i])));
    }
  /* The BatchNorm parameters moved by plain momentum SGD (lr * g), the kernels by tiny trusted steps. */
  g_assert_cmpfloat (fabs (w[5] - 1.0), >, 0.1);
  g_assert_cmpfloat (fabs (w[0] - 0.5), <, 1e-3);
  cl_optimizer_free (opt);
}

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
  cl_config_init (&cfg);
  cfg.train_batch = 64;
  cfg.train_steps = 60;
  cfg.train_threads = 2;
  cfg.probe_every = 0;
  cfg.train_optimizer = CL_OPTIMIZER_LARS;
  cfg.train_lr = 0.3 * 64 / 256;
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  g_assert_no_error (error);
  while (cl_trainer_step (t))
    ;
  cl_trainer_publish (t);
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
  g_test_add_func ("/optimizer/lars-step", test_lars_step);
  g_test_add_func ("/optimizer/schedules", test_schedules);
  g_test_add_func ("/optimizer/lars-trains", test_lars_trains);
  return g_test_run ();
}
