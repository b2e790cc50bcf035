/* Helpers shared by the engine/nn tests: random fills, finite differences, and the conv and
 * BatchNorm test cases. */
#include "tests/engine/nn/nn_test_util.h"

#include <math.h>
#include <string.h>

void
fill_uniform (ClRng *rng, float *v, size_t count, double lo, double hi)
{
  for (size_t i = 0; i < count; i++)
    v[i] = (float) (lo + (hi - lo) * cl_rng_uniform (rng));
}

double
dot_d (const float *a, const float *b, size_t count)
{
  double s = 0.0;
  for (size_t i = 0; i < count; i++)
    s += (double) a[i] * b[i];
  return s;
}

/* Central differences of f with respect to each of count floats at p. */
void
numeric_grad (float *p, size_t count, double h, Objective f, void *ctx, double *out)
{
  for (size_t i = 0; i < count; i++)
    {
      const float saved = p[i];
      const float up = (float) (saved + h), down = (float) (saved - h);
      p[i] = up;
      double lp = f (ctx);
      p[i] = down;
      double lm = f (ctx);
      p[i] = saved;
      out[i] = (lp - lm) / ((double) up - (double) down);
    }
}

/* Worst absolute difference, relative to the largest numeric gradient entry. */
double
grad_error (const float *analytic, const double *numeric, size_t count, double scale_factor)
{
  double scale = 1e-12, worst = 0.0;
  for (size_t i = 0; i < count; i++)
    scale = MAX (scale, fabs (numeric[i]));
  for (size_t i = 0; i < count; i++)
    worst = MAX (worst, fabs (scale_factor * analytic[i] - numeric[i]));
  return worst / scale;
}

/* Asserts the analytic gradient matches, and that the same check would reject a gradient that
 * is off by 1 % (so a pass means something). */
void
assert_grad (const char *what, const float *analytic, const double *numeric, size_t count, double tol)
{
  double err = grad_error (analytic, numeric, count, 1.0);
  double err_wrong = grad_error (analytic, numeric, count, 1.01);
  g_test_message ("%s: max relative error %.3g (1%%-scaled gradient: %.3g), tol %.3g", what, err, err_wrong, tol);
  if (err > tol)
    g_printerr ("%s: gradient error %g > %g\n", what, err, tol);
  g_assert_cmpfloat (err, <=, tol);
  g_assert_cmpfloat (err_wrong, >, tol);
}

double
max_abs_diff (const float *a, const float *b, size_t count)
{
  double worst = 0.0;
  for (size_t i = 0; i < count; i++)
    worst = MAX (worst, fabs ((double) a[i] - b[i]));
  return worst;
}

double
max_abs (const float *a, size_t count)
{
  double m = 0.0;
  for (size_t i = 0; i < count; i++)
    m = MAX (m, fabs (a[i]));
  return m;
}

void
conv_case_init (ConvCase *cc, ClRng *rng, int n, int in_c, int out_c, int k, int stride, int pad, int h, int w)
{
  memset (cc, 0, sizeof *cc);
  g_assert_true (cl_conv2d_init (&cc->conv, in_c, out_c, k, stride, pad, h, w));
  cc->n = n;
  cc->nw = cl_conv2d_num_weights (&cc->conv);
  cc->nx = (size_t) n * in_c * h * w;
  cc->ny = (size_t) n * out_c * cc->conv.out_h * cc->conv.out_w;
  cc->w = g_new (float, cc->nw);
  cc->x = g_new (float, cc->nx);
  cc->y = g_new (float, cc->ny);
  cc->r = g_new (float, cc->ny);
  fill_uniform (rng, cc->w, cc->nw, -1.0, 1.0);
  fill_uniform (rng, cc->x, cc->nx, -1.0, 1.0);
  fill_uniform (rng, cc->r, cc->ny, -1.0, 1.0);
}

/* Scratch follows conv.chunk, which tests lower to exercise the chunk loop. */
void
conv_case_scratch (ConvCase *cc)
{
  g_free (cc->col);
  g_free (cc->dcol);
  g_free (cc->tmp);
  cc->col = g_new (float, cl_conv2d_col_floats (&cc->conv));
  cc->dcol = g_new (float, cl_conv2d_col_floats (&cc->conv));
  cc->tmp = g_new (float, cl_conv2d_tmp_floats (&cc->conv));
}

void
conv_case_free (ConvCase *cc)
{
  g_free (cc->w);
  g_free (cc->x);
  g_free (cc->y);
  g_free (cc->r);
  g_free (cc->col);
  g_free (cc->dcol);
  g_free (cc->tmp);
}

void
bn_case_init (BnCase *bc, ClRng *rng, int n, int c, int p, gboolean relu)
{
  memset (bc, 0, sizeof *bc);
  bc->bn = (ClBatchNorm){ c, p };
  bc->n = n;
  bc->relu = relu;
  bc->count = (size_t) n * c * p;
  bc->x = g_new (float, bc->count);
  bc->y = g_new (float, bc->count);
  bc->r = g_new (float, bc->count);
  bc->gamma = g_new (float, c);
  bc->beta = g_new (float, c);
  bc->mean = g_new (float, c);
  bc->invstd = g_new (float, c);
  /* Channel offsets and scales differ so the mean and variance terms both matter. */
  for (size_t i = 0; i < bc->count; i++)
    {
      int ch = (int) ((i / p) % c);
      bc->x[i] = (float) (0.5 * ch - 0.3 + (1.0 + 0.5 * ch) * cl_rng_normal (rng));
    }
  fill_uniform (rng, bc->gamma, c, 0.5, 1.5);
  fill_uniform (rng, bc->beta, c, -0.5, 0.5);
  fill_uniform (rng, bc->r, bc->count, -1.0, 1.0);
}

void
bn_case_free (BnCase *bc)
{
  g_free (bc->x);
  g_free (bc->y);
  g_free (bc->r);
  g_free (bc->gamma);
  g_free (bc->beta);
  g_free (bc->mean);
  g_free (bc->invstd);
}
