/* ReLU: gradient check. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/engine/nn/nn_test_util.h"

typedef struct
{
  float *x, *y, *r;
  size_t count;
} ReluCase;

static double
relu_objective (void *ctx)
{
  ReluCase *rc = ctx;
  cl_relu_forward (rc->x, rc->count, rc->y);
  return dot_d (rc->y, rc->r, rc->count);
}

static void
test_relu_grad (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 32, TEST_STREAM);
  enum
  {
    N = 40
  };
  float x[N], y[N], r[N], dx[N];
  double num[N];
  /* Keep inputs away from the kink so a 0.01 step never crosses it. */
  for (int i = 0; i < N; i++)
    {
      double v = 0.1 + cl_rng_uniform (&rng);
      x[i] = (float) (i % 2 ? v : -v);
    }
  fill_uniform (&rng, r, N, -1, 1);
  ReluCase rc = { x, y, r, N };
  relu_objective (&rc);
  cl_relu_backward (y, r, N, dx);
  numeric_grad (x, N, 0.01, relu_objective, &rc, num);
  assert_grad ("relu dX", dx, num, N, 1e-4);
  relu_objective (&rc);
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat (y[i], ==, x[i] > 0 ? x[i] : 0.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/relu/grad", test_relu_grad);
  return g_test_run ();
}
