/* The optimizers' updates against hand computations: Adam, SGD, LARS. */
#include <glib.h>
#include <math.h>

#include "engine/nn/cl_optimizer.h"

static void
test_adam_step (void)
{
  float p[3] = { 0.5f, -1.0f, 2.0f };
  const float g1[3] = { 0.1f, -0.2f, 0.3f }, g2[3] = { -0.05f, 0.4f, 0.0f };
  const double lr = 0.01, wd = 0.1;
  ClOptimizer *opt = cl_optimizer_new (CL_OPTIMIZER_ADAM, 3, 2);
  double ep[3] = { 0.5, -1.0, 2.0 }, m[3] = { 0 }, v[3] = { 0 };
  const float *gs[2] = { g1, g2 };
  for (int t = 1; t <= 2; t++)
    {
      cl_optimizer_step (opt, p, gs[t - 1], (float) lr, (float) wd);
      double lr_t = lr * sqrt (1 - pow (0.999, t)) / (1 - pow (0.9, t));
      for (int i = 0; i < 3; i++)
        {
          double g = gs[t - 1][i] + (i < 2 ? wd * ep[i] : 0.0);
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.999 * v[i] + 0.001 * g * g;
          ep[i] -= lr_t * m[i] / (sqrt (v[i]) + 1e-7);
        }
      for (int i = 0; i < 3; i++)
        g_assert_cmpfloat_with_epsilon (p[i], ep[i], 2e-6);
    }
  /* First step moves each weight by ~lr, the sign of its gradient opposed. */
  g_assert_cmpfloat (p[2], <, 2.0f);
  cl_optimizer_free (opt);

  /* Hand values for step 1 of entry 0: g = 0.1 + 0.1*0.5 = 0.15, m = 0.015, v = 2.25e-5,
   * lr_t = 0.01*sqrt(0.001)/0.1, update = lr_t * 0.015 / (0.0047434 + 1e-7) = 0.0099998. */
  float q[1] = { 0.5f };
  const float gq[1] = { 0.1f };
  opt = cl_optimizer_new (CL_OPTIMIZER_ADAM, 1, 1);
  cl_optimizer_step (opt, q, gq, 0.01f, 0.1f);
  g_assert_cmpfloat_with_epsilon (q[0], 0.5 - 0.0099998, 1e-6);
  cl_optimizer_free (opt);
}

static void
test_sgd_step (void)
{
  float p[2] = { 1.0f, 1.0f };
  const float g[2] = { 0.5f, 0.5f };
  ClOptimizer *opt = cl_optimizer_new (CL_OPTIMIZER_SGD, 2, 1);
  cl_optimizer_step (opt, p, g, 0.1f, 0.2f);
  /* v0 = 0.5 + 0.2*1 = 0.7 (decayed), v1 = 0.5. */
  g_assert_cmpfloat_with_epsilon (p[0], 1.0 - 0.07, 1e-6);
  g_assert_cmpfloat_with_epsilon (p[1], 1.0 - 0.05, 1e-6);
  cl_optimizer_step (opt, p, g, 0.1f, 0.2f);
  /* v0 = 0.9*0.7 + 0.5 + 0.2*0.93 = 1.316; v1 = 0.9*0.5 + 0.5 = 0.95. */
  g_assert_cmpfloat_with_epsilon (p[0], 0.93 - 0.1316, 1e-6);
  g_assert_cmpfloat_with_epsilon (p[1], 0.95 - 0.095, 1e-6);
  cl_optimizer_free (opt);
}

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/optimizer/adam", test_adam_step);
  g_test_add_func ("/nn/optimizer/sgd", test_sgd_step);
  g_test_add_func ("/nn/optimizer/lars-step", test_lars_step);
  return g_test_run ();
}
