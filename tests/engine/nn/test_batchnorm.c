/* BatchNorm: gradient checks, the fused ReLU, training against evaluation. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/engine/nn/nn_test_util.h"

static double
bn_objective (void *ctx)
{
  BnCase *bc = ctx;
  cl_batchnorm_forward_train (&bc->bn, bc->x, bc->n, bc->gamma, bc->beta, bc->y, bc->mean, bc->invstd, NULL, NULL,
                              bc->relu);
  return dot_d (bc->y, bc->r, bc->count);
}

static void
bn_gradcheck (int n, int c, int p, const char *name)
{
  ClRng rng;
  cl_rng_seed (&rng, 21, TEST_STREAM);
  BnCase bc;
  bn_case_init (&bc, &rng, n, c, p, FALSE);
  float *dx = g_new (float, bc.count), *dgamma = g_new (float, c), *dbeta = g_new (float, c);
  double *num_x = g_new (double, bc.count), *num_g = g_new (double, c), *num_b = g_new (double, c);
  bn_objective (&bc);
  cl_batchnorm_backward (&bc.bn, bc.x, bc.y, bc.r, n, bc.gamma, bc.mean, bc.invstd, dx, dgamma, dbeta, FALSE);
  numeric_grad (bc.x, bc.count, 1e-2, bn_objective, &bc, num_x);
  numeric_grad (bc.gamma, c, 1e-2, bn_objective, &bc, num_g);
  numeric_grad (bc.beta, c, 1e-2, bn_objective, &bc, num_b);
  char *what = g_strdup_printf ("%s dX", name);
  assert_grad (what, dx, num_x, bc.count, 5e-4);
  g_free (what);
  what = g_strdup_printf ("%s dgamma", name);
  assert_grad (what, dgamma, num_g, c, 5e-4);
  g_free (what);
  what = g_strdup_printf ("%s dbeta", name);
  assert_grad (what, dbeta, num_b, c, 5e-4);
  g_free (what);

  /* A classic slip, forgetting the gradient through the batch mean, must be caught. */
  float *dx_wrong = g_new (float, bc.count);
  for (int i = 0; i < n; i++)
    for (int ch = 0; ch < c; ch++)
      for (int j = 0; j < p; j++)
        {
          size_t idx = ((size_t) i * c + ch) * p + j;
          dx_wrong[idx] = dx[idx] + bc.gamma[ch] * bc.invstd[ch] * dbeta[ch] / (double) (n * p);
        }
  g_assert_cmpfloat (grad_error (dx_wrong, num_x, bc.count, 1.0), >, 5e-4);

  g_free (dx_wrong);
  g_free (dx);
  g_free (dgamma);
  g_free (dbeta);
  g_free (num_x);
  g_free (num_g);
  g_free (num_b);
  bn_case_free (&bc);
}

static void
test_bn2d_grad (void)
{
  bn_gradcheck (4, 3, 5, "bn2d");
}

static void
test_bn1d_grad (void)
{
  bn_gradcheck (7, 4, 1, "bn1d");
}

/* The fused BN+ReLU path equals plain BN followed by plain ReLU, forward and backward. */
static void
test_bn_relu_fused (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 22, TEST_STREAM);
  BnCase bc;
  const int n = 6, c = 5, p = 7;
  bn_case_init (&bc, &rng, n, c, p, TRUE);
  float *y_plain = g_new (float, bc.count), *y_relu = g_new (float, bc.count);
  float *d_relu = g_new (float, bc.count), *dx_plain = g_new (float, bc.count), *dx_fused = g_new (float, bc.count);
  float dg_plain[5], db_plain[5], dg_fused[5], db_fused[5];

  cl_batchnorm_forward_train (&bc.bn, bc.x, n, bc.gamma, bc.beta, y_plain, bc.mean, bc.invstd, NULL, NULL, FALSE);
  cl_relu_forward (y_plain, bc.count, y_relu);
  cl_relu_backward (y_relu, bc.r, bc.count, d_relu);
  cl_batchnorm_backward (&bc.bn, bc.x, y_plain, d_relu, n, bc.gamma, bc.mean, bc.invstd, dx_plain, dg_plain, db_plain,
                         FALSE);

  cl_batchnorm_forward_train (&bc.bn, bc.x, n, bc.gamma, bc.beta, bc.y, bc.mean, bc.invstd, NULL, NULL, TRUE);
  g_assert_cmpmem (bc.y, sizeof (float) * bc.count, y_relu, sizeof (float) * bc.count);
  /* In place: dx aliases dy. */
  memcpy (dx_fused, bc.r, sizeof (float) * bc.count);
  cl_batchnorm_backward (&bc.bn, bc.x, bc.y, dx_fused, n, bc.gamma, bc.mean, bc.invstd, dx_fused, dg_fused, db_fused,
                         TRUE);
  g_assert_cmpfloat (max_abs_diff (dx_plain, dx_fused, bc.count), <=, 1e-6 * max_abs (dx_plain, bc.count));
  g_assert_cmpfloat (max_abs_diff (dg_plain, dg_fused, c), <=, 1e-6 * max_abs (dg_plain, c));
  g_assert_cmpfloat (max_abs_diff (db_plain, db_fused, c), <=, 1e-6 * max_abs (db_plain, c));
  /* Some units are actually cut by the ReLU, or this test would prove nothing. */
  int zeros = 0;
  for (size_t i = 0; i < bc.count; i++)
    zeros += bc.y[i] == 0.0f;
  g_assert_cmpint (zeros, >, 0);
  g_assert_cmpint (zeros, <, (int) bc.count);

  g_free (y_plain);
  g_free (y_relu);
  g_free (d_relu);
  g_free (dx_plain);
  g_free (dx_fused);
  bn_case_free (&bc);
}

/* Training uses batch statistics and moves the running ones; evaluation uses the running ones. */
static void
test_bn_train_vs_eval (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 23, TEST_STREAM);
  BnCase bc;
  const int n = 8, c = 3, p = 4;
  bn_case_init (&bc, &rng, n, c, p, FALSE);
  float rm[3] = { 0, 0, 0 }, rv[3] = { 1, 1, 1 };
  float *y_eval = g_new (float, bc.count), *y_train2 = g_new (float, bc.count);

  /* Independent batch statistics in double. */
  double bmean[3], bvar[3];
  const int m = n * p;
  for (int ch = 0; ch < c; ch++)
    {
      double s = 0.0, ss = 0.0;
      for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
          s += bc.x[((size_t) i * c + ch) * p + j];
      bmean[ch] = s / m;
      for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
          {
            double d = bc.x[((size_t) i * c + ch) * p + j] - bmean[ch];
            ss += d * d;
          }
      bvar[ch] = ss / m;
    }

  cl_batchnorm_forward_train (&bc.bn, bc.x, n, bc.gamma, bc.beta, bc.y, bc.mean, bc.invstd, rm, rv, FALSE);
  for (int ch = 0; ch < c; ch++)
    {
      g_assert_cmpfloat_with_epsilon (rm[ch], 0.1 * bmean[ch], 1e-5);
      g_assert_cmpfloat_with_epsilon (rv[ch], 0.9 + 0.1 * bvar[ch] * m / (m - 1), 1e-5);
      for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
          {
            size_t idx = ((size_t) i * c + ch) * p + j;
            double expect = bc.gamma[ch] * (bc.x[idx] - bmean[ch]) / sqrt (bvar[ch] + 1e-5) + bc.beta[ch];
            g_assert_cmpfloat_with_epsilon (bc.y[idx], expect, 1e-5);
          }
    }

  /* Eval: running statistics, and nothing is updated. */
  float rm_before[3], rv_before[3];
  memcpy (rm_before, rm, sizeof rm);
  memcpy (rv_before, rv, sizeof rv);
  cl_batchnorm_forward_eval (&bc.bn, bc.x, n, bc.gamma, bc.beta, rm, rv, y_eval, FALSE);
  g_assert_cmpmem (rm, sizeof rm, rm_before, sizeof rm);
  g_assert_cmpmem (rv, sizeof rv, rv_before, sizeof rv);
  for (int ch = 0; ch < c; ch++)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < p; j++)
        {
          size_t idx = ((size_t) i * c + ch) * p + j;
          double expect = bc.gamma[ch] * (bc.x[idx] - rm[ch]) / sqrt (rv[ch] + 1e-5) + bc.beta[ch];
          g_assert_cmpfloat_with_epsilon (y_eval[idx], expect, 1e-5);
        }
  g_assert_cmpfloat (max_abs_diff (y_eval, bc.y, bc.count), >, 0.1);

  /* Training output ignores the running statistics. */
  float rm_junk[3] = { 5, -5, 3 }, rv_junk[3] = { 9, 0.1f, 2 };
  cl_batchnorm_forward_train (&bc.bn, bc.x, n, bc.gamma, bc.beta, y_train2, bc.mean, bc.invstd, rm_junk, rv_junk,
                              FALSE);
  g_assert_cmpmem (y_train2, sizeof (float) * bc.count, bc.y, sizeof (float) * bc.count);

  /* After many steps on one batch the running statistics converge to it: eval ~ train. */
  for (int step = 0; step < 300; step++)
    cl_batchnorm_forward_train (&bc.bn, bc.x, n, bc.gamma, bc.beta, y_train2, bc.mean, bc.invstd, rm, rv, FALSE);
  for (int ch = 0; ch < c; ch++)
    {
      g_assert_cmpfloat_with_epsilon (rm[ch], bmean[ch], 1e-4);
      g_assert_cmpfloat_with_epsilon (rv[ch], bvar[ch] * m / (m - 1), 1e-4 * (1 + bvar[ch]));
    }
  cl_batchnorm_forward_eval (&bc.bn, bc.x, n, bc.gamma, bc.beta, rm, rv, y_eval, FALSE);
  /* The only gap left is unbiased vs biased variance: a factor sqrt((m-1)/m). */
  for (size_t i = 0; i < bc.count; i++)
    {
      int ch = (int) ((i / p) % c);
      double expect = bc.beta[ch] + (bc.y[i] - bc.beta[ch]) * sqrt ((m - 1.0) / m);
      g_assert_cmpfloat_with_epsilon (y_eval[i], expect, 1e-3);
    }

  g_free (y_eval);
  g_free (y_train2);
  bn_case_free (&bc);
}

/* The backward that recomputes the ReLU's mask from x (cl_batchnorm_backward_pre, and its
 * coefficients-only first pass) gives the bits of the reference, which reads the forward's output,
 * for 1 and 2 threads, on a layer small enough to run on one thread and one large enough to be split,
 * with gamma of both signs and values on the mask's edge (x equal to the mean gives exactly beta). */
static void
test_bn_relu_mask_from_pre (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 23, TEST_STREAM);
  const int shapes[2][2] = { { 37, 5 }, { 3001, 48 } };
  for (int s = 0; s < 2; s++)
    for (int threads = 1; threads <= 2; threads++)
      {
        cl_layers_set_threads (threads);
        const int n = shapes[s][0], C = shapes[s][1];
        const size_t count = (size_t) n * C;
        const ClBatchNorm bn = { C, 1 };
        float *x = g_new (float, count), *r = g_new (float, count), *y = g_new (float, count);
        float *gamma = g_new (float, C), *beta = g_new (float, C), *mean = g_new (float, C);
        float *invstd = g_new (float, C), *dx = g_new (float, count), *dx2 = g_new (float, count);
        float *dg = g_new (float, C), *db = g_new (float, C), *dg2 = g_new (float, C), *db2 = g_new (float, C);
        float *k[3], *k2[3];
        for (int i = 0; i < 3; i++)
          {
            k[i] = g_new (float, C);
            k2[i] = g_new (float, C);
          }
        fill_uniform (&rng, x, count, -2, 3);
        fill_uniform (&rng, r, count, -1, 1);
        fill_uniform (&rng, gamma, C, -1.5, 1.5);
        fill_uniform (&rng, beta, C, -0.5, 0.5);
        beta[0] = 0.0f; /* channel 0: x at the mean lands exactly on the ReLU's edge */
        cl_batchnorm_forward_train (&bn, x, n, gamma, beta, y, mean, invstd, NULL, NULL, TRUE);
        for (int i = 0; i < n; i += 3)
          x[(size_t) i * C] = mean[0];
        cl_batchnorm_forward_train (&bn, x, n, gamma, beta, y, mean, invstd, NULL, NULL, TRUE);
        int cut = 0;
        for (size_t i = 0; i < count; i++)
          cut += y[i] == 0.0f;
        g_assert_cmpint (cut, >, 0);
        g_assert_cmpint (cut, <, (int) count);

        cl_batchnorm_backward (&bn, x, y, r, n, gamma, mean, invstd, dx, dg, db, TRUE);
        cl_batchnorm_backward_pre (&bn, x, beta, r, n, gamma, mean, invstd, dx2, dg2, db2);
        g_assert_cmpmem (dx, sizeof (float) * count, dx2, sizeof (float) * count);
        g_assert_cmpmem (dg, sizeof (float) * C, dg2, sizeof (float) * C);
        g_assert_cmpmem (db, sizeof (float) * C, db2, sizeof (float) * C);
        cl_batchnorm_backward_coefficients (&bn, x, y, r, n, gamma, mean, invstd, dg, db, k[0], k[1], k[2], TRUE);
        cl_batchnorm_backward_coefficients_pre (&bn, x, beta, r, n, gamma, mean, invstd, dg2, db2, k2[0], k2[1], k2[2]);
        g_assert_cmpmem (dg, sizeof (float) * C, dg2, sizeof (float) * C);
        g_assert_cmpmem (db, sizeof (float) * C, db2, sizeof (float) * C);
        for (int i = 0; i < 3; i++)
          g_assert_cmpmem (k[i], sizeof (float) * C, k2[i], sizeof (float) * C);

        /* A mask taken from the wrong sign would be caught: flipping beta changes the result. */
        for (int c = 0; c < C; c++)
          beta[c] = -beta[c] - 0.25f;
        cl_batchnorm_backward_pre (&bn, x, beta, r, n, gamma, mean, invstd, dx2, dg2, db2);
        g_assert_true (memcmp (dx, dx2, sizeof (float) * count) != 0);

        float *bufs[] = { x,  r,   y,   gamma, beta, mean, invstd, dx,    dx2,  dg,
                          db, dg2, db2, k[0],  k[1], k[2], k2[0],  k2[1], k2[2] };
        for (gsize i = 0; i < G_N_ELEMENTS (bufs); i++)
          g_free (bufs[i]);
      }
  cl_layers_set_threads (1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/batchnorm/grad-2d", test_bn2d_grad);
  g_test_add_func ("/nn/batchnorm/grad-1d", test_bn1d_grad);
  g_test_add_func ("/nn/batchnorm/relu-fused", test_bn_relu_fused);
  g_test_add_func ("/nn/batchnorm/train-vs-eval", test_bn_train_vs_eval);
  g_test_add_func ("/nn/batchnorm/relu-mask-from-pre", test_bn_relu_mask_from_pre);
  return g_test_run ();
}
