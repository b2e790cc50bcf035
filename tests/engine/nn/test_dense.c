/* Dense layer: gradient check. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/engine/nn/nn_test_util.h"

typedef struct
{
  ClDense dense;
  int n;
  float *w, *x, *y, *r;
} DenseCase;

static double
dense_objective (void *ctx)
{
  DenseCase *dc = ctx;
  cl_dense_forward (&dc->dense, dc->w, dc->x, dc->n, dc->y);
  return dot_d (dc->y, dc->r, (size_t) dc->n * dc->dense.out);
}

static void
test_dense_grad (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 31, TEST_STREAM);
  DenseCase dc = { { 7, 5 }, 4, NULL, NULL, NULL, NULL };
  size_t nw = 35, nx = 28, ny = 20;
  dc.w = g_new (float, nw);
  dc.x = g_new (float, nx);
  dc.y = g_new (float, ny);
  dc.r = g_new (float, ny);
  fill_uniform (&rng, dc.w, nw, -1, 1);
  fill_uniform (&rng, dc.x, nx, -1, 1);
  fill_uniform (&rng, dc.r, ny, -1, 1);
  float dw[35], dx[28];
  double num_w[35], num_x[28];
  dense_objective (&dc);
  cl_dense_backward (&dc.dense, dc.w, dc.x, dc.r, dc.n, dw, dx);
  numeric_grad (dc.w, nw, 0.05, dense_objective, &dc, num_w);
  numeric_grad (dc.x, nx, 0.05, dense_objective, &dc, num_x);
  assert_grad ("dense dW", dw, num_w, nw, 1e-4);
  assert_grad ("dense dX", dx, num_x, nx, 1e-4);
  /* y[i][o] = sum_k x[i][k] w[o][k], checked directly. */
  dense_objective (&dc);
  for (int i = 0; i < 4; i++)
    for (int o = 0; o < 5; o++)
      {
        double s = 0.0;
        for (int k = 0; k < 7; k++)
          s += (double) dc.x[i * 7 + k] * dc.w[o * 7 + k];
        g_assert_cmpfloat_with_epsilon (dc.y[i * 5 + o], s, 1e-5);
      }
  g_free (dc.w);
  g_free (dc.x);
  g_free (dc.y);
  g_free (dc.r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/dense/grad", test_dense_grad);
  return g_test_run ();
}
