/* The training BatchNorm of conv maps from per-view moments: the conv that gathers them as it stores
 * each view (cl_conv2d_forward_nhwc_train) against the reference passes, bit for bit; its statistics
 * against double precision; its gradient by finite differences. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/nn/cl_batchnorm.h"
#include "engine/nn/cl_conv.h"
#include "tests/engine/nn/nn_test_util.h"

static const char *const kernel_sets[] = { "reference", "im2col", "avx2", "avx512" };

/* Fused (bias + moments in the conv's store, then normalise) == conv, bias, moments, normalise done
 * apart, for every kernel set this CPU runs, 1 and 2 threads, blocks of several views, views of more
 * and fewer pixels than one microkernel call takes, with and without a per-view bias. */
static void
test_fused_vs_reference (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 41, TEST_STREAM);
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  int checked = 0;
  for (int trial = 0; trial < 48; trial++)
    {
      const char *set = kernel_sets[trial % G_N_ELEMENTS (kernel_sets)];
      if (!cl_conv_set_kernels (set))
        continue;
      cl_layers_set_threads (1 + trial % 2);
      const int k = 1 + (int) cl_rng_below (&rng, 3), stride = 1 + (int) cl_rng_below (&rng, 2);
      const int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      const int h = 4 + k + (int) cl_rng_below (&rng, 24), w = 4 + k + (int) cl_rng_below (&rng, 24);
      const int in_c = 1 + (int) cl_rng_below (&rng, 12), out_c = 1 + (int) cl_rng_below (&rng, 70);
      const int n = 1 + (int) cl_rng_below (&rng, 9);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 3 == 0)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 3);
      const int P = cc.conv.out_h * cc.conv.out_w, classes = 1 + (int) cl_rng_below (&rng, 3);
      const gboolean with_bias = trial % 4 != 1;
      int *pixel_class = g_new (int, P);
      for (int p = 0; p < P; p++)
        pixel_class[p] = (int) cl_rng_below (&rng, (uint32_t) classes);
      float *bias = g_new (float, (size_t) n *classes *out_c);
      fill_uniform (&rng, bias, (size_t) n * classes * out_c, -1, 1);
      float *scratch = g_new (float, cl_conv2d_nhwc_scratch_floats (&cc.conv));
      float *gamma = g_new (float, out_c), *beta = g_new (float, out_c);
      fill_uniform (&rng, gamma, out_c, -1.5, 1.5);
      fill_uniform (&rng, beta, out_c, -0.5, 0.5);
      float *out[2][7];
      double *moments[2];
      for (int path = 0; path < 2; path++)
        {
          float *pre = g_new (float, cc.ny), *act = g_new (float, cc.ny), *mean = g_new (float, out_c);
          float *invstd = g_new (float, out_c), *rm = g_new (float, out_c), *rv = g_new (float, out_c);
          for (int c = 0; c < out_c; c++)
            {
              rm[c] = 0.25f;
              rv[c] = 0.75f;
            }
          moments[path] = g_new (double, (size_t) n * 3 * out_c);
          const ClBatchNorm bn = { out_c, 1 };
          if (path == 0)
            {
              const ClConvTrainEpilogue tep = { with_bias ? bias : NULL, pixel_class, classes, moments[path] };
              cl_conv2d_forward_nhwc_train (&cc.conv, cc.w, cc.x, n, pre, scratch, &tep);
              cl_batchnorm_forward_train_moments (&bn, pre, n, P, gamma, beta, act, mean, invstd, rm, rv,
                                                  moments[path]);
            }
          else
            {
              cl_conv2d_forward_nhwc (&cc.conv, cc.w, cc.x, n, pre, scratch);
              if (with_bias)
                for (int v = 0; v < n; v++)
                  for (int p = 0; p < P; p++)
                    for (int c = 0; c < out_c; c++)
                      pre[((size_t) v * P + p) * out_c + c] +=
                          bias[((size_t) v * classes + pixel_class[p]) * out_c + c];
              cl_batchnorm_forward_train_views (&bn, pre, n, P, gamma, beta, act, mean, invstd, rm, rv, moments[path]);
            }
          float *o[7] = { pre, act, mean, invstd, rm, rv, NULL };
          memcpy (out[path], o, sizeof o);
        }
      const size_t sizes[6] = { cc.ny, cc.ny, out_c, out_c, out_c, out_c };
      for (int i = 0; i < 6; i++)
        g_assert_cmpmem (out[0][i], sizeof (float) * sizes[i], out[1][i], sizeof (float) * sizes[i]);
      g_assert_cmpmem (moments[0], sizeof (double) * n * 3 * out_c, moments[1], sizeof (double) * n * 3 * out_c);
      g_assert_cmpfloat (max_abs (out[0][1], cc.ny), >, 0.0);
      checked++;
      for (int path = 0; path < 2; path++)
        {
          for (int i = 0; i < 6; i++)
            g_free (out[path][i]);
          g_free (moments[path]);
        }
      g_free (pixel_class);
      g_free (bias);
      g_free (scratch);
      g_free (gamma);
      g_free (beta);
      conv_case_free (&cc);
    }
  g_assert_cmpint (checked, >=, 24); /* reference and im2col run everywhere */
  cl_conv_set_kernels (NULL);
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
}

/* The batch mean and 1/sqrt(var + eps) against double precision over the same floats, for maps far
 * from zero (mean 300, std 0.05: E[x^2] - E[x]^2 in float would lose every digit) and near it, for 1
 * and 2 threads (identical bits). */
static void
test_statistics_accuracy (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 42, TEST_STREAM);
  const int n = 57, P = 169, C = 40;
  const size_t count = (size_t) n * P * C;
  float *x = g_new (float, count), *y = g_new (float, count), *gamma = g_new (float, C), *beta = g_new (float, C);
  double *moments = g_new (double, (size_t) n * 3 * C);
  for (int c = 0; c < C; c++)
    {
      gamma[c] = 1.0f;
      beta[c] = 0.0f;
    }
  const double offsets[2] = { 300.0, 0.0 }, scales[2] = { 0.05, 2.0 };
  for (int o = 0; o < 2; o++)
    {
      for (size_t i = 0; i < count; i++)
        x[i] = (float) (offsets[o] + scales[o] * (cl_rng_uniform (&rng) - 0.5) * (1.0 + (double) (i % C) / C));
      float mean[2][40], invstd[2][40];
      for (int t = 0; t < 2; t++)
        {
          cl_layers_set_threads (t + 1);
          const ClBatchNorm bn = { C, 1 };
          cl_batchnorm_forward_train_views (&bn, x, n, P, gamma, beta, y, mean[t], invstd[t], NULL, NULL, moments);
        }
      g_assert_cmpmem (mean[0], sizeof mean[0], mean[1], sizeof mean[1]);
      g_assert_cmpmem (invstd[0], sizeof invstd[0], invstd[1], sizeof invstd[1]);
      for (int c = 0; c < C; c++)
        {
          double s = 0.0, q = 0.0;
          const size_t m = (size_t) n * P;
          for (size_t r = 0; r < m; r++)
            s += x[r * C + c];
          const double mu = s / m;
          for (size_t r = 0; r < m; r++)
            q += (x[r * C + c] - mu) * (x[r * C + c] - mu);
          const double is = 1.0 / sqrt (q / m + CL_BN_EPS);
          /* The mean to float precision of the data's scale, |mean| + std. */
          g_assert_cmpfloat (fabs (mean[0][c] - mu), <=, 2e-7 * (fabs (mu) + sqrt (q / m)));
          g_assert_cmpfloat (fabs (invstd[0][c] - is), <=, 2e-7 * is);
        }
    }
  cl_layers_set_threads (1);
  g_free (x);
  g_free (y);
  g_free (gamma);
  g_free (beta);
  g_free (moments);
}

typedef struct
{
  float *x, *y, *r, *gamma, *beta, *mean, *invstd;
  double *moments;
  int n, P, C;
} ViewsCase;

static double
views_objective (void *ctx)
{
  ViewsCase *vc = ctx;
  const ClBatchNorm bn = { vc->C, 1 };
  cl_batchnorm_forward_train_views (&bn, vc->x, vc->n, vc->P, vc->gamma, vc->beta, vc->y, vc->mean, vc->invstd, NULL,
                                    NULL, vc->moments);
  return dot_d (vc->y, vc->r, (size_t) vc->n * vc->P * vc->C);
}

/* The statistics the forward uses are the ones the backward differentiates: finite differences of
 * sum(y r) against cl_batchnorm_backward_pre (beta keeps every unit above the ReLU's kink). */
static void
test_gradient (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 43, TEST_STREAM);
  ViewsCase vc = { .n = 3, .P = 19, .C = 4 };
  const size_t count = (size_t) vc.n * vc.P * vc.C;
  vc.x = g_new (float, count);
  vc.y = g_new (float, count);
  vc.r = g_new (float, count);
  vc.gamma = g_new (float, vc.C);
  vc.beta = g_new (float, vc.C);
  vc.mean = g_new (float, vc.C);
  vc.invstd = g_new (float, vc.C);
  vc.moments = g_new (double, (size_t) vc.n * 3 * vc.C);
  fill_uniform (&rng, vc.x, count, -1, 2);
  fill_uniform (&rng, vc.r, count, -1, 1);
  fill_uniform (&rng, vc.gamma, vc.C, 0.2, 0.6);
  fill_uniform (&rng, vc.beta, vc.C, 4.0, 5.0);
  float *dx = g_new (float, count), *dg = g_new (float, vc.C), *db = g_new (float, vc.C);
  double *num_x = g_new (double, count), *num_g = g_new (double, vc.C), *num_b = g_new (double, vc.C);
  views_objective (&vc);
  const ClBatchNorm bn = { vc.C, 1 };
  cl_batchnorm_backward_pre (&bn, vc.x, vc.beta, vc.r, vc.n * vc.P, vc.gamma, vc.mean, vc.invstd, dx, dg, db);
  numeric_grad (vc.x, count, 1e-2, views_objective, &vc, num_x);
  numeric_grad (vc.gamma, vc.C, 1e-2, views_objective, &vc, num_g);
  numeric_grad (vc.beta, vc.C, 1e-2, views_objective, &vc, num_b);
  assert_grad ("views dX", dx, num_x, count, 5e-4);
  assert_grad ("views dgamma", dg, num_g, vc.C, 5e-4);
  assert_grad ("views dbeta", db, num_b, vc.C, 5e-4);
  float *bufs[] = { vc.x, vc.y, vc.r, vc.gamma, vc.beta, vc.mean, vc.invstd, dx, dg, db };
  for (gsize i = 0; i < G_N_ELEMENTS (bufs); i++)
    g_free (bufs[i]);
  g_free (vc.moments);
  g_free (num_x);
  g_free (num_g);
  g_free (num_b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/bn-moments/fused-vs-reference", test_fused_vs_reference);
  g_test_add_func ("/nn/bn-moments/statistics-accuracy", test_statistics_accuracy);
  g_test_add_func ("/nn/bn-moments/gradient", test_gradient);
  return g_test_run ();
}
