/* Layers and the ConvN model: finite-difference gradient checks, fast-vs-reference conv,
 * BatchNorm train/eval behaviour, determinism, optimizer updates. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/nn/cl_layers.h"
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "engine/base/cl_rng.h"

#define TEST_STREAM 0x7e57

extern void openblas_set_num_threads (int num_threads);
extern int openblas_get_num_threads (void);

/* ------------------------------------------------------------------ helpers */

static void
fill_uniform (ClRng *rng, float *v, size_t count, double lo, double hi)
{
  for (size_t i = 0; i < count; i++)
    v[i] = (float) (lo + (hi - lo) * cl_rng_uniform (rng));
}

static double
dot_d (const float *a, const float *b, size_t count)
{
  double s = 0.0;
  for (size_t i = 0; i < count; i++)
    s += (double) a[i] * b[i];
  return s;
}

typedef double (*Objective) (void *ctx);

/* Central differences of f with respect to each of count floats at p. */
static void
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
static double
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
static void
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

static double
max_abs_diff (const float *a, const float *b, size_t count)
{
  double worst = 0.0;
  for (size_t i = 0; i < count; i++)
    worst = MAX (worst, fabs ((double) a[i] - b[i]));
  return worst;
}

static double
max_abs (const float *a, size_t count)
{
  double m = 0.0;
  for (size_t i = 0; i < count; i++)
    m = MAX (m, fabs (a[i]));
  return m;
}

/* ------------------------------------------------------------------ conv */

typedef struct {
  ClConv2d conv;
  int n;
  float *w, *x, *y, *r, *col, *dcol, *tmp;
  size_t nw, nx, ny;
} ConvCase;

static void
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
static void
conv_case_scratch (ConvCase *cc)
{
  g_free (cc->col);
  g_free (cc->dcol);
  g_free (cc->tmp);
  cc->col = g_new (float, cl_conv2d_col_floats (&cc->conv));
  cc->dcol = g_new (float, cl_conv2d_col_floats (&cc->conv));
  cc->tmp = g_new (float, cl_conv2d_tmp_floats (&cc->conv));
}

static void
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

static double
conv_objective (void *ctx)
{
  ConvCase *cc = ctx;
  cl_conv2d_forward (&cc->conv, cc->w, cc->x, cc->n, cc->y, cc->col, cc->tmp);
  return dot_d (cc->y, cc->r, cc->ny);
}

static void
conv_gradcheck (int n, int in_c, int out_c, int k, int stride, int pad, int h, int w, int chunk, const char *name)
{
  ClRng rng;
  cl_rng_seed (&rng, 11, TEST_STREAM);
  ConvCase cc;
  conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
  if (chunk > 0)
    cc.conv.chunk = chunk;
  conv_case_scratch (&cc);

  float *dw = g_new (float, cc.nw), *dx = g_new (float, cc.nx);
  double *num_w = g_new (double, cc.nw), *num_x = g_new (double, cc.nx);
  cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, cc.y, cc.col, cc.tmp);
  cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw, dx, cc.col, cc.dcol, cc.tmp);
  /* The objective is linear in each variable, so a large step has no truncation error. */
  numeric_grad (cc.w, cc.nw, 0.05, conv_objective, &cc, num_w);
  numeric_grad (cc.x, cc.nx, 0.05, conv_objective, &cc, num_x);
  char *what = g_strdup_printf ("%s dW", name);
  assert_grad (what, dw, num_w, cc.nw, 1e-4);
  g_free (what);
  what = g_strdup_printf ("%s dX", name);
  assert_grad (what, dx, num_x, cc.nx, 1e-4);
  g_free (what);

  /* dx = NULL must give the same dw. */
  float *dw2 = g_new (float, cc.nw);
  cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw2, NULL, cc.col, cc.dcol, cc.tmp);
  g_assert_cmpmem (dw, sizeof (float) * cc.nw, dw2, sizeof (float) * cc.nw);

  g_free (dw);
  g_free (dw2);
  g_free (dx);
  g_free (num_w);
  g_free (num_x);
  conv_case_free (&cc);
}

static void
test_conv_grad_stride2_valid (void)
{
  conv_gradcheck (3, 2, 4, 3, 2, 0, 9, 8, 0, "conv 3x3/2 valid");
  conv_gradcheck (5, 3, 2, 3, 2, 0, 7, 7, 2, "conv 3x3/2 valid, chunk 2");
}

static void
test_conv_grad_padded (void)
{
  conv_gradcheck (2, 3, 3, 3, 1, 1, 6, 5, 0, "conv 3x3/1 pad 1");
  conv_gradcheck (3, 2, 3, 4, 3, 2, 8, 9, 1, "conv 4x4/3 pad 2, chunk 1");
}

static void
test_conv_ref_vs_fast (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 12, TEST_STREAM);
  for (int trial = 0; trial < 60; trial++)
    {
      int k = 1 + (int) cl_rng_below (&rng, 5);
      int stride = 1 + (int) cl_rng_below (&rng, 3);
      int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      int h = k + (int) cl_rng_below (&rng, 12), w = k + (int) cl_rng_below (&rng, 12);
      int in_c = 1 + (int) cl_rng_below (&rng, 6), out_c = 1 + (int) cl_rng_below (&rng, 9);
      int n = 1 + (int) cl_rng_below (&rng, 7);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 2)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 3);
      conv_case_scratch (&cc);

      float *y_ref = g_new (float, cc.ny);
      float *dw = g_new (float, cc.nw), *dw_ref = g_new (float, cc.nw);
      float *dx = g_new (float, cc.nx), *dx_ref = g_new (float, cc.nx);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, cc.y, cc.col, cc.tmp);
      cl_conv2d_forward_ref (&cc.conv, cc.w, cc.x, n, y_ref);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw, dx, cc.col, cc.dcol, cc.tmp);
      cl_conv2d_backward_ref (&cc.conv, cc.w, cc.x, cc.r, n, dw_ref, dx_ref);
      /* Sums of up to a few hundred products of magnitude <= 1, in float. */
      double tol = 1e-5 * (1.0 + cl_conv2d_macs (&cc.conv) / out_c);
      g_assert_cmpfloat (max_abs_diff (cc.y, y_ref, cc.ny), <=, tol);
      g_assert_cmpfloat (max_abs_diff (dw, dw_ref, cc.nw), <=, tol * n);
      g_assert_cmpfloat (max_abs_diff (dx, dx_ref, cc.nx), <=, tol);
      g_assert_cmpfloat (max_abs (y_ref, cc.ny), >, 0.0);
      g_free (y_ref);
      g_free (dw);
      g_free (dw_ref);
      g_free (dx);
      g_free (dx_ref);
      conv_case_free (&cc);
    }
}

/* active_c < in_c equals the full computation on zero inactive planes and never reads those planes
 * (they hold NaN here). */
static void
test_conv_active_channels (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 13, TEST_STREAM);
  for (int trial = 0; trial < 40; trial++)
    {
      int k = 1 + (int) cl_rng_below (&rng, 4);
      int stride = 1 + (int) cl_rng_below (&rng, 2);
      int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      int h = k + (int) cl_rng_below (&rng, 10), w = k + (int) cl_rng_below (&rng, 10);
      int in_c = 2 + (int) cl_rng_below (&rng, 8), out_c = 1 + (int) cl_rng_below (&rng, 9);
      int n = 1 + (int) cl_rng_below (&rng, 6);
      int active = 1 + (int) cl_rng_below (&rng, (uint32_t) in_c - 1);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 2)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 3);
      conv_case_scratch (&cc);
      const size_t plane = (size_t) h * w;
      float *x_nan = g_memdup2 (cc.x, sizeof (float) * cc.nx);
      for (int s = 0; s < n; s++)
        for (int c = active; c < in_c; c++)
          for (size_t j = 0; j < plane; j++)
            {
              cc.x[((size_t) s * in_c + c) * plane + j] = 0.0f;
              x_nan[((size_t) s * in_c + c) * plane + j] = NAN;
            }
      float *y_full = g_new (float, cc.ny), *dw_full = g_new (float, cc.nw), *dx_full = g_new (float, cc.nx);
      float *dw = g_new (float, cc.nw), *dx = g_new (float, cc.nx);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, y_full, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw_full, dx_full, cc.col, cc.dcol, cc.tmp);
      cc.conv.active_c = active;
      /* Stale values in dw must be overwritten, inactive columns included. */
      fill_uniform (&rng, dw, cc.nw, -1, 1);
      cl_conv2d_forward (&cc.conv, cc.w, x_nan, n, cc.y, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, x_nan, cc.r, n, dw, dx, cc.col, cc.dcol, cc.tmp);
      /* OpenBLAS's kernels split a shorter K differently, so y and dw agree to float rounding (the
       * skipped terms are exact zeros), not bit for bit; dx takes the same path and is identical. */
      double tol = 1e-5 * (1.0 + cl_conv2d_macs (&cc.conv) / out_c);
      g_assert_cmpfloat (max_abs_diff (cc.y, y_full, cc.ny), <=, tol);
      g_assert_cmpfloat (max_abs_diff (dw, dw_full, cc.nw), <=, tol * n);
      g_assert_cmpmem (dx, sizeof (float) * cc.nx, dx_full, sizeof (float) * cc.nx);
      /* Without dx the blocks grow (shorter column rows): same dw to rounding. */
      fill_uniform (&rng, dw, cc.nw, -1, 1);
      cl_conv2d_backward (&cc.conv, cc.w, x_nan, cc.r, n, dw, NULL, cc.col, cc.dcol, cc.tmp);
      g_assert_cmpfloat (max_abs_diff (dw, dw_full, cc.nw), <=, tol * n);
      for (int o = 0; o < out_c; o++)
        for (size_t j = (size_t) active * k * k; j < (size_t) in_c * k * k; j++)
          g_assert_cmpfloat (dw[(size_t) o * in_c * k * k + j], ==, 0.0f);
      g_assert_cmpfloat (max_abs (y_full, cc.ny), >, 0.0);
      g_free (x_nan);
      g_free (y_full);
      g_free (dw_full);
      g_free (dx_full);
      g_free (dw);
      g_free (dx);
      conv_case_free (&cc);
    }
}

/* ------------------------------------------------------------------ conv, channels last */

/* The NHWC conv against the NCHW loop references, through the layout and kernel-order changes:
 * random shapes with odd sizes, padding, strides 1-3, channel counts across the 8- and 16-float
 * tiles of the SIMD kernels, on both paths (SIMD kernels, and im2col + sgemm). */
static void
test_conv_nhwc_vs_ref (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 15, TEST_STREAM);
  const gboolean simd_saved = cl_layers_get_simd ();
  if (!cl_layers_simd_available ())
    g_test_message ("no AVX2+FMA on this CPU: only the im2col + sgemm path is tested");
  for (int trial = 0; trial < 160; trial++)
    {
      cl_layers_set_simd (trial % 2 == 0);
      int k = 1 + (int) cl_rng_below (&rng, 5);
      int stride = 1 + (int) cl_rng_below (&rng, 3);
      int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      if (trial < 16)
        k = 3, stride = 2, pad = (trial / 2) % 2; /* the model's two convs */
      int h = k + (int) cl_rng_below (&rng, 13), w = k + (int) cl_rng_below (&rng, 13);
      int in_c = 1 + (int) cl_rng_below (&rng, trial % 3 == 0 ? 40 : 7), out_c = 1 + (int) cl_rng_below (&rng, 40);
      int n = 1 + (int) cl_rng_below (&rng, 7);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 2)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 3);
      const ClConv2d *conv = &cc.conv;
      const int P_in = h * w, P_out = conv->out_h * conv->out_w;
      const size_t scratch_n = cl_conv2d_nhwc_scratch_floats (conv);
      float *scratch = g_new (float, scratch_n);
      fill_uniform (&rng, scratch, scratch_n, -1e3, 1e3); /* stale scratch must not matter */
      float *xh = g_new (float, cc.nx), *rh = g_new (float, cc.ny), *yh = g_new (float, cc.ny);
      float *wp = g_new (float, cc.nw), *dwp = g_new (float, cc.nw), *dwp2 = g_new (float, cc.nw);
      float *dxh = g_new (float, cc.nx), *y = g_new (float, cc.ny), *dw = g_new (float, cc.nw);
      float *dx = g_new (float, cc.nx), *y_ref = g_new (float, cc.ny), *dw_ref = g_new (float, cc.nw);
      float *dx_ref = g_new (float, cc.nx);
      cl_nchw_to_nhwc (cc.x, n, in_c, in_c, P_in, xh);
      cl_nchw_to_nhwc (cc.r, n, out_c, out_c, P_out, rh);
      cl_conv2d_weights_to_nhwc (conv, cc.w, in_c, wp);
      cl_conv2d_forward_nhwc (conv, wp, xh, n, yh, scratch);
      cl_conv2d_backward_nhwc (conv, wp, xh, rh, n, dwp, dxh, scratch);
      cl_nhwc_to_nchw (yh, n, out_c, P_out, y);
      cl_nhwc_to_nchw (dxh, n, in_c, P_in, dx);
      cl_conv2d_weights_from_nhwc (conv, dwp, in_c, dw);
      cl_conv2d_forward_ref (conv, cc.w, cc.x, n, y_ref);
      cl_conv2d_backward_ref (conv, cc.w, cc.x, cc.r, n, dw_ref, dx_ref);
      double tol = 1e-5 * (1.0 + cl_conv2d_macs (conv) / out_c);
      g_assert_cmpfloat (max_abs_diff (y, y_ref, cc.ny), <=, tol);
      g_assert_cmpfloat (max_abs_diff (dw, dw_ref, cc.nw), <=, tol * n);
      g_assert_cmpfloat (max_abs_diff (dx, dx_ref, cc.nx), <=, tol);
      g_assert_cmpfloat (max_abs (y_ref, cc.ny), >, 0.0);
      g_assert_cmpfloat (max_abs (dw_ref, cc.nw), >, 0.0);
      /* Without dx: the same kernel gradient, bit for bit. */
      cl_conv2d_backward_nhwc (conv, wp, xh, rh, n, dwp2, NULL, scratch);
      g_assert_cmpmem (dwp, sizeof (float) * cc.nw, dwp2, sizeof (float) * cc.nw);
      g_free (scratch);
      g_free (xh);
      g_free (rh);
      g_free (yh);
      g_free (wp);
      g_free (dwp);
      g_free (dwp2);
      g_free (dxh);
      g_free (y);
      g_free (dw);
      g_free (dx);
      g_free (y_ref);
      g_free (dw_ref);
      g_free (dx_ref);
      conv_case_free (&cc);
    }
  cl_layers_set_simd (simd_saved);
}

/* The evaluation conv with its BatchNorm + ReLU fused gives the bits of the two steps done apart,
 * on both paths, including partial tiles of output channels and padded convs. */
static void
test_conv_nhwc_eval_fused (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 18, TEST_STREAM);
  const gboolean simd_saved = cl_layers_get_simd ();
  for (int trial = 0; trial < 40; trial++)
    {
      cl_layers_set_simd (trial % 2 == 0);
      const int k = 1 + (int) cl_rng_below (&rng, 4), stride = 1 + (int) cl_rng_below (&rng, 2);
      const int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      const int h = k + (int) cl_rng_below (&rng, 11), w = k + (int) cl_rng_below (&rng, 11);
      const int in_c = 1 + (int) cl_rng_below (&rng, 20), out_c = 1 + (int) cl_rng_below (&rng, 40);
      const int n = 1 + (int) cl_rng_below (&rng, 5);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      float *scratch = g_new (float, cl_conv2d_nhwc_scratch_floats (&cc.conv));
      float *gamma = g_new (float, out_c), *beta = g_new (float, out_c), *rm = g_new (float, out_c);
      float *rv = g_new (float, out_c), *y2 = g_new (float, cc.ny);
      fill_uniform (&rng, gamma, out_c, 0.5, 1.5);
      fill_uniform (&rng, beta, out_c, -0.5, 0.5);
      fill_uniform (&rng, rm, out_c, -0.5, 0.5);
      fill_uniform (&rng, rv, out_c, 0.2, 2.0);
      const ClBatchNorm bn = { out_c, 1 };
      const int rows = n * cc.conv.out_h * cc.conv.out_w;
      cl_conv2d_forward_nhwc (&cc.conv, cc.w, cc.x, n, cc.y, scratch);
      cl_batchnorm_forward_eval (&bn, cc.y, rows, gamma, beta, rm, rv, cc.y, TRUE);
      cl_conv2d_forward_nhwc_eval_bn_relu (&cc.conv, cc.w, cc.x, n, gamma, beta, rm, rv, y2, scratch);
      g_assert_cmpmem (y2, sizeof (float) * cc.ny, cc.y, sizeof (float) * cc.ny);
      g_assert_cmpfloat (max_abs (y2, cc.ny), >, 0.0);
      g_free (scratch);
      g_free (gamma);
      g_free (beta);
      g_free (rm);
      g_free (rv);
      g_free (y2);
      conv_case_free (&cc);
    }
  cl_layers_set_simd (simd_saved);
}

/* The conv backward that forms dy from the BatchNorm + ReLU coefficients block by block gives the
 * bits of cl_batchnorm_backward then cl_conv2d_backward_nhwc, on both paths. */
static void
test_conv_nhwc_backward_bn_fused (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 19, TEST_STREAM);
  const gboolean simd_saved = cl_layers_get_simd ();
  for (int trial = 0; trial < 30; trial++)
    {
      cl_layers_set_simd (trial % 2 == 0);
      const int k = 1 + (int) cl_rng_below (&rng, 4), stride = 1 + (int) cl_rng_below (&rng, 2);
      const int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      const int h = k + (int) cl_rng_below (&rng, 11), w = k + (int) cl_rng_below (&rng, 11);
      const int in_c = 1 + (int) cl_rng_below (&rng, 20), out_c = 1 + (int) cl_rng_below (&rng, 40);
      const int n = 1 + (int) cl_rng_below (&rng, 6);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 3 == 0)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 2);
      const int rows = n * cc.conv.out_h * cc.conv.out_w;
      float *scratch = g_new (float, cl_conv2d_nhwc_scratch_floats (&cc.conv));
      float *gamma = g_new (float, out_c), *beta = g_new (float, out_c), *mean = g_new (float, out_c);
      float *invstd = g_new (float, out_c), *act = g_new (float, cc.ny), *dpre = g_new (float, cc.ny);
      float *dg = g_new (float, out_c), *db = g_new (float, out_c), *dg2 = g_new (float, out_c);
      float *db2 = g_new (float, out_c), *k0 = g_new (float, out_c), *k1 = g_new (float, out_c);
      float *k2 = g_new (float, out_c);
      float *dw = g_new (float, cc.nw), *dx = g_new (float, cc.nx), *dw2 = g_new (float, cc.nw);
      float *dx2 = g_new (float, cc.nx);
      fill_uniform (&rng, gamma, out_c, 0.5, 1.5);
      fill_uniform (&rng, beta, out_c, -0.5, 0.5);
      const ClBatchNorm bn = { out_c, 1 };
      /* pre = the conv's output, act its training BatchNorm + ReLU, r the gradient of act. */
      cl_conv2d_forward_nhwc (&cc.conv, cc.w, cc.x, n, cc.y, scratch);
      cl_batchnorm_forward_train (&bn, cc.y, rows, gamma, beta, act, mean, invstd, NULL, NULL, TRUE);
      cl_batchnorm_backward (&bn, cc.y, act, cc.r, rows, gamma, mean, invstd, dpre, dg, db, TRUE);
      cl_conv2d_backward_nhwc (&cc.conv, cc.w, cc.x, dpre, n, dw, dx, scratch);
      cl_batchnorm_backward_coefficients (&bn, cc.y, act, cc.r, rows, gamma, mean, invstd, dg2, db2, k0, k1, k2, TRUE);
      const ClBnReluGrad bng = { cc.r, act, cc.y, mean, k0, k1, k2 };
      cl_conv2d_backward_nhwc_bn (&cc.conv, cc.w, cc.x, &bng, n, dw2, dx2, scratch);
      g_assert_cmpmem (dg, sizeof (float) * out_c, dg2, sizeof (float) * out_c);
      g_assert_cmpmem (db, sizeof (float) * out_c, db2, sizeof (float) * out_c);
      g_assert_cmpmem (dw, sizeof (float) * cc.nw, dw2, sizeof (float) * cc.nw);
      g_assert_cmpmem (dx, sizeof (float) * cc.nx, dx2, sizeof (float) * cc.nx);
      g_assert_cmpfloat (max_abs (dw, cc.nw), >, 0.0);
      float *bufs[] = { scratch, gamma, beta, mean, invstd, act, dpre, dg, db, dg2, db2, k0, k1, k2, dw, dx, dw2, dx2 };
      for (gsize i = 0; i < G_N_ELEMENTS (bufs); i++)
        g_free (bufs[i]);
      conv_case_free (&cc);
    }
  cl_layers_set_simd (simd_saved);
}

/* The layout and kernel-order changes, index by index. */
static void
test_layout_changes (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 16, TEST_STREAM);
  const int n = 3, c_src = 7, c = 5, P = 131;
  float *x = g_new (float, (size_t) n * c_src * P), *h = g_new (float, (size_t) n * P * c);
  float *back = g_new (float, (size_t) n * c * P);
  fill_uniform (&rng, x, (size_t) n * c_src * P, -1, 1);
  cl_nchw_to_nhwc (x, n, c_src, c, P, h);
  for (int s = 0; s < n; s++)
    for (int ch = 0; ch < c; ch++)
      for (int p = 0; p < P; p++)
        g_assert_cmpfloat (h[((size_t) s * P + p) * c + ch], ==, x[((size_t) s * c_src + ch) * P + p]);
  cl_nhwc_to_nchw (h, n, c, P, back);
  for (int s = 0; s < n; s++)
    g_assert_cmpmem (back + (size_t) s * c * P, sizeof (float) * c * P, x + (size_t) s * c_src * P,
                     sizeof (float) * c * P);
  /* One channel is a plain copy either way. */
  cl_nchw_to_nhwc (x, n, c_src, 1, P, h);
  for (int s = 0; s < n; s++)
    g_assert_cmpmem (h + (size_t) s * P, sizeof (float) * P, x + (size_t) s * c_src * P, sizeof (float) * P);

  /* Kernels: w [out][w_in][k][k] (first in_c channels) <-> wp [out][k][k][in_c]; extra channels zeroed. */
  ClConv2d conv;
  g_assert_true (cl_conv2d_init (&conv, 3, 4, 3, 2, 1, 9, 9));
  const int w_in = 6, nw_full = 4 * w_in * 9;
  float *w = g_new (float, nw_full), *wp = g_new (float, cl_conv2d_num_weights (&conv)), *w2 = g_new (float, nw_full);
  fill_uniform (&rng, w, nw_full, -1, 1);
  fill_uniform (&rng, w2, nw_full, -1, 1);
  cl_conv2d_weights_to_nhwc (&conv, w, w_in, wp);
  for (int o = 0; o < 4; o++)
    for (int ch = 0; ch < 3; ch++)
      for (int j = 0; j < 9; j++)
        g_assert_cmpfloat (wp[((size_t) o * 9 + j) * 3 + ch], ==, w[((size_t) o * w_in + ch) * 9 + j]);
  cl_conv2d_weights_from_nhwc (&conv, wp, w_in, w2);
  for (int o = 0; o < 4; o++)
    for (int ch = 0; ch < w_in; ch++)
      for (int j = 0; j < 9; j++)
        g_assert_cmpfloat (w2[((size_t) o * w_in + ch) * 9 + j], ==, ch < 3 ? w[((size_t) o * w_in + ch) * 9 + j] : 0.0f);
  g_free (x);
  g_free (h);
  g_free (back);
  g_free (w);
  g_free (wp);
  g_free (w2);
}

/* The NHWC conv and the [rows][C] BatchNorm give the same bits for every team size: the team hands
 * out lanes and channel groups whose sums do not depend on who computes them. */
static void
test_nhwc_threads_identical (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  ClRng rng;
  cl_rng_seed (&rng, 17, TEST_STREAM);
  for (int trial = 0; trial < 6; trial++)
    {
      const int n = 19 + trial, in_c = 3 + 7 * trial, out_c = 5 + 3 * trial;
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, 3, 2, trial % 2, 11, 10);
      cc.conv.chunk = 1 + trial % 3; /* more blocks than lanes */
      const size_t scratch_n = cl_conv2d_nhwc_scratch_floats (&cc.conv);
      float *scratch = g_new (float, scratch_n), *wp = g_new (float, cc.nw);
      cl_conv2d_weights_to_nhwc (&cc.conv, cc.w, in_c, wp);
      float *y[4], *dw[4], *dx[4];
      cl_layers_set_simd (trial % 2 == 0);
      for (int t = 0; t < 4; t++)
        {
          cl_layers_set_threads (t + 1);
          y[t] = g_new (float, cc.ny);
          dw[t] = g_new (float, cc.nw);
          dx[t] = g_new (float, cc.nx);
          fill_uniform (&rng, scratch, scratch_n, -1, 1);
          cl_conv2d_forward_nhwc (&cc.conv, wp, cc.x, n, y[t], scratch);
          cl_conv2d_backward_nhwc (&cc.conv, wp, cc.x, cc.r, n, dw[t], dx[t], scratch);
        }
      for (int t = 1; t < 4; t++)
        {
          g_assert_cmpmem (y[t], sizeof (float) * cc.ny, y[0], sizeof (float) * cc.ny);
          g_assert_cmpmem (dw[t], sizeof (float) * cc.nw, dw[0], sizeof (float) * cc.nw);
          g_assert_cmpmem (dx[t], sizeof (float) * cc.nx, dx[0], sizeof (float) * cc.nx);
        }
      for (int t = 0; t < 4; t++)
        {
          g_free (y[t]);
          g_free (dw[t]);
          g_free (dx[t]);
        }
      g_free (scratch);
      g_free (wp);
      conv_case_free (&cc);
    }
  cl_layers_set_simd (TRUE);

  /* BatchNorm over rows of channels, large enough to be split (C * rows >= 64K). */
  const int rows = 3001, C = 48;
  const size_t count = (size_t) rows * C;
  float *x = g_new (float, count), *r = g_new (float, count), *gamma = g_new (float, C), *beta = g_new (float, C);
  fill_uniform (&rng, x, count, -2, 3);
  fill_uniform (&rng, r, count, -1, 1);
  fill_uniform (&rng, gamma, C, 0.5, 1.5);
  fill_uniform (&rng, beta, C, -0.5, 0.5);
  ClBatchNorm bn = { C, 1 };
  float *out[4][9];
  for (int t = 0; t < 4; t++)
    {
      cl_layers_set_threads (t + 1);
      float *y = g_new (float, count), *dx = g_new (float, count), *ye = g_new (float, count);
      float *mean = g_new (float, C), *invstd = g_new (float, C), *rm = g_new0 (float, C), *rv = g_new (float, C);
      float *dg = g_new (float, C), *db = g_new (float, C);
      for (int i = 0; i < C; i++)
        rv[i] = 1.0f;
      cl_batchnorm_forward_train (&bn, x, rows, gamma, beta, y, mean, invstd, rm, rv, TRUE);
      cl_batchnorm_backward (&bn, x, y, r, rows, gamma, mean, invstd, dx, dg, db, TRUE);
      cl_batchnorm_forward_eval (&bn, x, rows, gamma, beta, rm, rv, ye, TRUE);
      float *o[9] = { y, dx, ye, mean, invstd, rm, rv, dg, db };
      memcpy (out[t], o, sizeof o);
    }
  const size_t sizes[9] = { count, count, count, C, C, C, C, C, C };
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < 9; i++)
      {
        if (t > 0)
          g_assert_cmpmem (out[t][i], sizeof (float) * sizes[i], out[0][i], sizeof (float) * sizes[i]);
      }
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < 9; i++)
      g_free (out[t][i]);
  g_free (x);
  g_free (r);
  g_free (gamma);
  g_free (beta);

  /* A dense layer large enough to be cut into pieces: against double loops, and the same bits for
   * every team size. */
  ClDense dense = { 300, 70 };
  const int dn = 700;
  float *dxin = g_new (float, (size_t) dn * dense.in), *dw_ = g_new (float, (size_t) dense.out * dense.in);
  float *ddy = g_new (float, (size_t) dn * dense.out);
  fill_uniform (&rng, dxin, (size_t) dn * dense.in, -1, 1);
  fill_uniform (&rng, dw_, (size_t) dense.out * dense.in, -1, 1);
  fill_uniform (&rng, ddy, (size_t) dn * dense.out, -1, 1);
  float *dres[4][3];
  for (int t = 0; t < 4; t++)
    {
      cl_layers_set_threads (t + 1);
      dres[t][0] = g_new (float, (size_t) dn * dense.out);
      dres[t][1] = g_new (float, (size_t) dense.out * dense.in);
      dres[t][2] = g_new (float, (size_t) dn * dense.in);
      cl_dense_forward (&dense, dw_, dxin, dn, dres[t][0]);
      cl_dense_backward (&dense, dw_, dxin, ddy, dn, dres[t][1], dres[t][2]);
    }
  const size_t dsz[3] = { (size_t) dn * dense.out, (size_t) dense.out * dense.in, (size_t) dn * dense.in };
  for (int t = 1; t < 4; t++)
    for (int i = 0; i < 3; i++)
      g_assert_cmpmem (dres[t][i], sizeof (float) * dsz[i], dres[0][i], sizeof (float) * dsz[i]);
  double worst[3] = { 0, 0, 0 };
  for (int i = 0; i < dn; i++)
    for (int o = 0; o < dense.out; o++)
      {
        double acc = 0;
        for (int k = 0; k < dense.in; k++)
          acc += (double) dxin[(size_t) i * dense.in + k] * dw_[(size_t) o * dense.in + k];
        worst[0] = MAX (worst[0], fabs (acc - dres[0][0][(size_t) i * dense.out + o]));
      }
  for (int o = 0; o < dense.out; o++)
    for (int k = 0; k < dense.in; k++)
      {
        double acc = 0;
        for (int i = 0; i < dn; i++)
          acc += (double) ddy[(size_t) i * dense.out + o] * dxin[(size_t) i * dense.in + k];
        worst[1] = MAX (worst[1], fabs (acc - dres[0][1][(size_t) o * dense.in + k]));
      }
  for (int i = 0; i < dn; i++)
    for (int k = 0; k < dense.in; k++)
      {
        double acc = 0;
        for (int o = 0; o < dense.out; o++)
          acc += (double) ddy[(size_t) i * dense.out + o] * dw_[(size_t) o * dense.in + k];
        worst[2] = MAX (worst[2], fabs (acc - dres[0][2][(size_t) i * dense.in + k]));
      }
  /* Float sums of 300, 700 and 70 products of magnitude <= 1. */
  g_assert_cmpfloat (worst[0], <=, 1e-5 * dense.in);
  g_assert_cmpfloat (worst[1], <=, 1e-5 * dn);
  g_assert_cmpfloat (worst[2], <=, 1e-5 * dense.out);
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < 3; i++)
      g_free (dres[t][i]);
  g_free (dxin);
  g_free (dw_);
  g_free (ddy);
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
}

static void
test_conv_shapes (void)
{
  ClConv2d conv;
  g_assert_true (cl_conv2d_init (&conv, 9, 32, 3, 2, 0, 28, 28));
  g_assert_cmpint (conv.out_h, ==, 13);
  g_assert_cmpint (conv.out_w, ==, 13);
  g_assert_true (cl_conv2d_init (&conv, 32, 64, 3, 2, 0, 13, 13));
  g_assert_cmpint (conv.out_h, ==, 6);
  g_assert_true (cl_conv2d_init (&conv, 64, 64, 3, 2, 0, 6, 6));
  g_assert_cmpint (conv.out_h, ==, 2);
  g_assert_false (cl_conv2d_init (&conv, 1, 1, 3, 2, 0, 2, 6));
  g_assert_true (cl_conv2d_init (&conv, 1, 1, 3, 1, 1, 1, 1));
  g_assert_cmpint (conv.out_h, ==, 1);
}

/* ------------------------------------------------------------------ batchnorm */

typedef struct {
  ClBatchNorm bn;
  int n;
  gboolean relu;
  float *x, *gamma, *beta, *y, *r, *mean, *invstd;
  size_t count;
} BnCase;

static void
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

static void
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
  cl_batchnorm_backward (&bc.bn, bc.x, y_plain, d_relu, n, bc.gamma, bc.mean, bc.invstd, dx_plain, dg_plain,
                         db_plain, FALSE);

  cl_batchnorm_forward_train (&bc.bn, bc.x, n, bc.gamma, bc.beta, bc.y, bc.mean, bc.invstd, NULL, NULL, TRUE);
  g_assert_cmpmem (bc.y, sizeof (float) * bc.count, y_relu, sizeof (float) * bc.count);
  /* In place: dx aliases dy. */
  memcpy (dx_fused, bc.r, sizeof (float) * bc.count);
  cl_batchnorm_backward (&bc.bn, bc.x, bc.y, dx_fused, n, bc.gamma, bc.mean, bc.invstd, dx_fused, dg_fused,
                         db_fused, TRUE);
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

/* The thread team: conv and BatchNorm with 2..4 threads match the reference, repeat bit for bit
 * at a given thread count, and BatchNorm (split by whole channels) does not change at all. */
static void
test_layers_threads (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  ClRng rng;
  cl_rng_seed (&rng, 14, TEST_STREAM);
  for (int trial = 0; trial < 30; trial++)
    {
      const int threads = 2 + trial % 3;
      int k = 1 + (int) cl_rng_below (&rng, 4);
      int stride = 1 + (int) cl_rng_below (&rng, 2);
      int h = k + (int) cl_rng_below (&rng, 10), w = k + (int) cl_rng_below (&rng, 10);
      int in_c = 1 + (int) cl_rng_below (&rng, 6), out_c = 1 + (int) cl_rng_below (&rng, 9);
      int n = 1 + (int) cl_rng_below (&rng, 12);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, 0, h, w);
      cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 6);
      if (trial % 4 == 3)
        cc.conv.active_c = 1 + (int) cl_rng_below (&rng, (uint32_t) in_c);
      conv_case_scratch (&cc);
      float *y1 = g_new (float, cc.ny), *dw1 = g_new (float, cc.nw), *dx1 = g_new (float, cc.nx);
      float *y2 = g_new (float, cc.ny), *dw2 = g_new (float, cc.nw), *dx2 = g_new (float, cc.nx);
      cl_layers_set_threads (1);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, y1, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw1, dx1, cc.col, cc.dcol, cc.tmp);
      cl_layers_set_threads (threads);
      g_assert_cmpint (cl_layers_get_threads (), ==, threads);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, cc.y, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw2, dx2, cc.col, cc.dcol, cc.tmp);
      double tol = 1e-5 * (1.0 + cl_conv2d_macs (&cc.conv) / out_c);
      g_assert_cmpfloat (max_abs_diff (cc.y, y1, cc.ny), <=, tol);
      g_assert_cmpfloat (max_abs_diff (dw2, dw1, cc.nw), <=, tol * n);
      g_assert_cmpfloat (max_abs_diff (dx2, dx1, cc.nx), <=, tol);
      g_assert_cmpfloat (max_abs (dw1, cc.nw), >, 0.0);
      /* Same thread count, same bits; stale scratch and outputs must not matter. */
      fill_uniform (&rng, cc.tmp, cl_conv2d_tmp_floats (&cc.conv), -1, 1);
      fill_uniform (&rng, y1, cc.ny, -1, 1);
      fill_uniform (&rng, dw1, cc.nw, -1, 1);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, y1, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw1, dx1, cc.col, cc.dcol, cc.tmp);
      g_assert_cmpmem (y1, sizeof (float) * cc.ny, cc.y, sizeof (float) * cc.ny);
      g_assert_cmpmem (dw1, sizeof (float) * cc.nw, dw2, sizeof (float) * cc.nw);
      g_assert_cmpmem (dx1, sizeof (float) * cc.nx, dx2, sizeof (float) * cc.nx);
      g_free (y1);
      g_free (dw1);
      g_free (dx1);
      g_free (y2);
      g_free (dw2);
      g_free (dx2);
      conv_case_free (&cc);
    }

  /* BatchNorm over [n][C][P]: identical for every thread count. */
  for (int threads = 2; threads <= 4; threads++)
    {
      BnCase bc;
      bn_case_init (&bc, &rng, 5, 2 + threads, 13, threads % 2);
      const int c = bc.bn.channels;
      float *out[2][7];
      for (int run = 0; run < 2; run++)
        {
          cl_layers_set_threads (run == 0 ? 1 : threads);
          float *y = g_new (float, bc.count), *dx = g_new (float, bc.count);
          float *mean = g_new (float, c), *invstd = g_new (float, c), *rm = g_new0 (float, c), *rv = g_new (float, c);
          float *dg = g_new (float, 2 * c);
          for (int i = 0; i < c; i++)
            rv[i] = 1.0f;
          cl_batchnorm_forward_train (&bc.bn, bc.x, bc.n, bc.gamma, bc.beta, y, mean, invstd, rm, rv, bc.relu);
          cl_batchnorm_backward (&bc.bn, bc.x, y, bc.r, bc.n, bc.gamma, mean, invstd, dx, dg, dg + c, bc.relu);
          float *o[7] = { y, dx, mean, invstd, rm, rv, dg };
          memcpy (out[run], o, sizeof o);
        }
      const size_t sizes[7] = { bc.count, bc.count, c, c, c, c, 2 * (size_t) c };
      for (int i = 0; i < 7; i++)
        {
          g_assert_cmpmem (out[0][i], sizeof (float) * sizes[i], out[1][i], sizeof (float) * sizes[i]);
          g_free (out[0][i]);
          g_free (out[1][i]);
        }
      bn_case_free (&bc);
    }
  cl_layers_set_threads (1);
  g_assert_cmpint (cl_layers_get_threads (), ==, 1);
  openblas_set_num_threads (saved_blas);
}

/* ------------------------------------------------------------------ dense, relu */

typedef struct {
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

typedef struct {
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
  enum { N = 40 };
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

/* ------------------------------------------------------------------ whole model */

static ClModelSpec
small_spec (int in_channels, int h, int w, int head_layers, int max_views)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = in_channels;
  spec.height = h;
  spec.width = w;
  spec.width_mult = 0.25;
  spec.head_layers = head_layers;
  spec.rep_dim = 12;
  spec.head_hidden = 10;
  spec.out_dim = 6;
  spec.max_views = max_views;
  return spec;
}

static float *
random_views (ClRng *rng, const ClModelSpec *spec, int n)
{
  size_t count = (size_t) n * spec->in_channels * spec->height * spec->width;
  float *x = g_new (float, count);
  size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < spec->in_channels; c++)
      {
        float *p = x + ((size_t) i * spec->in_channels + c) * plane;
        if (c == 0)
          fill_uniform (rng, p, plane, 0.0, 1.0);
        else
          {
            /* Constant bit planes, as RandBit feeds them. */
            float bit = (float) cl_rng_below (rng, 2);
            for (size_t j = 0; j < plane; j++)
              p[j] = bit;
          }
      }
  return x;
}

/* The whole-model gradient check. ReLU makes the model piecewise smooth, and with thousands of
 * units coupled by batch statistics, some kink lies within any float-usable step of nearly every
 * conv1 weight, so finite differences of the float model measure an average slope over several
 * pieces. The derivative at p is that of the piece containing p. So the numeric side is an
 * independent double-precision rebuild of ConvN (naive loops, written from the spec, not from
 * cl_layers) with the ReLU on/off pattern of the float model at p frozen: the same function on that
 * piece (checked against the float forward at p), smooth around it, and accurate enough for a small
 * central step. The parameter layout is the documented one: kernels in layer order, then gamma and
 * beta per BN layer. */
#define DN_MAX_LAYERS 16

typedef struct {
  int n, layers;
  double *params; /* double copy of the model's parameters; the one perturbed */
  size_t w_off[DN_MAX_LAYERS], bn_off[DN_MAX_LAYERS];
  gboolean is_conv[DN_MAX_LAYERS];
  int in_c[DN_MAX_LAYERS], out_c[DN_MAX_LAYERS], in_h[DN_MAX_LAYERS], in_w[DN_MAX_LAYERS];
  int out_h[DN_MAX_LAYERS], out_w[DN_MAX_LAYERS], pad[DN_MAX_LAYERS];
  size_t in_size[DN_MAX_LAYERS], out_size[DN_MAX_LAYERS];
  guint8 *mask[DN_MAX_LAYERS]; /* NULL: no BN/ReLU (the last head layer) */
  double *x, *r;
  double *pre[DN_MAX_LAYERS], *act[DN_MAX_LAYERS];  /* at the base point */
  double *pre_s[DN_MAX_LAYERS], *act_s[DN_MAX_LAYERS]; /* scratch for perturbed evaluations */
  int from_layer; /* evaluations recompute from this layer... */
  gboolean from_bn; /* ...starting at its BN (a gamma/beta was perturbed) */
  int only_channel; /* ...or, if >= 0, from that output channel of its kernel (a weight was perturbed) */
} DoubleNet;

/* Output channel `only` (all when -1) of layer l's kernel. */
static void
dn_kernel (const DoubleNet *dn, int l, const double *in, double *out, int only)
{
  const double *w = dn->params + dn->w_off[l];
  const int n = dn->n;
  if (dn->is_conv[l])
    {
      const int ic = dn->in_c[l], oc = dn->out_c[l], ih = dn->in_h[l], iw = dn->in_w[l];
      const int oh = dn->out_h[l], ow = dn->out_w[l], pad = dn->pad[l];
      for (int s = 0; s < n; s++)
        for (int o = only < 0 ? 0 : only; o < (only < 0 ? oc : only + 1); o++)
          for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
              {
                double acc = 0.0;
                for (int c = 0; c < ic; c++)
                  for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                      {
                        const int iy = 2 * y + ky - pad, ix = 2 * x + kx - pad;
                        if (iy < 0 || iy >= ih || ix < 0 || ix >= iw)
                          continue; /* zero padding */
                        acc += w[((o * ic + c) * 3 + ky) * 3 + kx] * in[(((size_t) s * ic + c) * ih + iy) * iw + ix];
                      }
                out[(((size_t) s * oc + o) * oh + y) * ow + x] = acc;
              }
    }
  else
    {
      const size_t fin = dn->in_size[l], fout = dn->out_size[l];
      for (int s = 0; s < n; s++)
        for (size_t o = only < 0 ? 0 : (size_t) only; o < (only < 0 ? fout : (size_t) only + 1); o++)
          {
            double acc = 0.0;
            for (size_t k = 0; k < fin; k++)
              acc += w[o * fin + k] * in[s * fin + k];
            out[s * fout + o] = acc;
          }
    }
}

/* Training-mode BN (biased batch variance, eps 1e-5), then the frozen ReLU pattern. */
static void
dn_bn_relu (const DoubleNet *dn, int l, const double *pre, double *act)
{
  const int n = dn->n, c = dn->out_c[l];
  const size_t plane = dn->out_size[l] / c;
  const double *gamma = dn->params + dn->bn_off[l], *beta = gamma + c;
  for (int ch = 0; ch < c; ch++)
    {
      double sum = 0.0, sq = 0.0;
      for (int s = 0; s < n; s++)
        for (size_t j = 0; j < plane; j++)
          sum += pre[((size_t) s * c + ch) * plane + j];
      const double mean = sum / (n * plane);
      for (int s = 0; s < n; s++)
        for (size_t j = 0; j < plane; j++)
          {
            double dev = pre[((size_t) s * c + ch) * plane + j] - mean;
            sq += dev * dev;
          }
      const double inv = 1.0 / sqrt (sq / (n * plane) + 1e-5);
      for (int s = 0; s < n; s++)
        for (size_t j = 0; j < plane; j++)
          {
            size_t idx = ((size_t) s * c + ch) * plane + j;
            act[idx] = dn->mask[l][idx] ? gamma[ch] * (pre[idx] - mean) * inv + beta[ch] : 0.0;
          }
    }
}

static double
dn_objective (void *ctx)
{
  DoubleNet *dn = ctx;
  const double *in = dn->from_layer == 0 ? dn->x : dn->act[dn->from_layer - 1];
  for (int l = dn->from_layer; l < dn->layers; l++)
    {
      const double *pre = dn->pre[l];
      if (l == dn->from_layer && dn->only_channel >= 0)
        {
          memcpy (dn->pre_s[l], dn->pre[l], sizeof (double) * dn->out_size[l] * dn->n);
          dn_kernel (dn, l, in, dn->pre_s[l], dn->only_channel);
          pre = dn->pre_s[l];
        }
      else if (!(l == dn->from_layer && dn->from_bn))
        {
          dn_kernel (dn, l, in, dn->pre_s[l], -1);
          pre = dn->pre_s[l];
        }
      if (dn->mask[l])
        {
          dn_bn_relu (dn, l, pre, dn->act_s[l]);
          in = dn->act_s[l];
        }
      else
        in = pre;
    }
  double sum = 0.0;
  const size_t count = dn->out_size[dn->layers - 1] * dn->n;
  for (size_t i = 0; i < count; i++)
    sum += in[i] * dn->r[i];
  return sum;
}

static void
dn_init (DoubleNet *dn, ClModel *model, const float *x, const float *r, int n)
{
  const ClModelSpec *spec = cl_model_spec (model);
  memset (dn, 0, sizeof *dn);
  dn->n = n;
  dn->layers = cl_model_num_layers (model);
  g_assert_cmpint (dn->layers, <=, DN_MAX_LAYERS);
  const size_t np = cl_model_num_params (model);
  dn->params = g_new (double, np);
  for (size_t i = 0; i < np; i++)
    dn->params[i] = cl_model_params (model)[i];

  int c = spec->in_channels, h = spec->height, w = spec->width;
  size_t w_off = 0;
  for (int l = 0; l < dn->layers; l++)
    {
      size_t size;
      const float *out = cl_model_layer_output (model, l, &size);
      dn->out_size[l] = size;
      dn->w_off[l] = w_off;
      if (l < 3)
        {
          /* 3x3, stride 2, valid (convn) or padded by 1 (convn-same): written out here rather than
           * taken from the model. */
          dn->is_conv[l] = TRUE;
          dn->pad[l] = strcmp (spec->arch, "convn-same") == 0 ? 1 : 0;
          dn->in_c[l] = c;
          dn->in_h[l] = h;
          dn->in_w[l] = w;
          dn->in_size[l] = (size_t) c * h * w;
          dn->out_h[l] = (h + 2 * dn->pad[l] - 3) / 2 + 1;
          dn->out_w[l] = (w + 2 * dn->pad[l] - 3) / 2 + 1;
          g_assert_cmpuint (size % ((size_t) dn->out_h[l] * dn->out_w[l]), ==, 0);
          dn->out_c[l] = (int) (size / ((size_t) dn->out_h[l] * dn->out_w[l]));
          w_off += (size_t) dn->out_c[l] * c * 9;
          c = dn->out_c[l];
          h = dn->out_h[l];
          w = dn->out_w[l];
        }
      else
        {
          dn->in_size[l] = dn->out_size[l - 1];
          dn->out_c[l] = (int) size;
          w_off += dn->in_size[l] * size;
        }
      if (!(l == dn->layers - 1 && spec->head_layers > 0))
        {
          dn->mask[l] = g_new (guint8, size * n);
          for (size_t i = 0; i < size * n; i++)
            dn->mask[l][i] = out[i] > 0.0f;
        }
      dn->pre[l] = g_new (double, size * n);
      dn->act[l] = g_new (double, size * n);
      dn->pre_s[l] = g_new (double, size * n);
      dn->act_s[l] = g_new (double, size * n);
    }
  g_assert_cmpuint (w_off, ==, cl_model_num_decay_params (model));
  size_t bn_off = w_off;
  for (int l = 0; l < dn->layers; l++)
    if (dn->mask[l])
      {
        dn->bn_off[l] = bn_off;
        bn_off += 2 * (size_t) dn->out_c[l];
      }
  g_assert_cmpuint (bn_off, ==, np);

  const size_t nx = dn->in_size[0] * n, nr = dn->out_size[dn->layers - 1] * n;
  dn->x = g_new (double, nx);
  dn->r = g_new (double, nr);
  for (size_t i = 0; i < nx; i++)
    dn->x[i] = x[i];
  for (size_t i = 0; i < nr; i++)
    dn->r[i] = r[i];

  /* Base-point activations, reused by every evaluation upstream of the perturbed parameter. */
  const double *in = dn->x;
  for (int l = 0; l < dn->layers; l++)
    {
      dn_kernel (dn, l, in, dn->pre[l], -1);
      if (dn->mask[l])
        dn_bn_relu (dn, l, dn->pre[l], dn->act[l]);
      else
        memcpy (dn->act[l], dn->pre[l], sizeof (double) * dn->out_size[l] * n);
      in = dn->act[l];
    }
}

static void
dn_free (DoubleNet *dn)
{
  for (int l = 0; l < dn->layers; l++)
    {
      g_free (dn->mask[l]);
      g_free (dn->pre[l]);
      g_free (dn->act[l]);
      g_free (dn->pre_s[l]);
      g_free (dn->act_s[l]);
    }
  g_free (dn->params);
  g_free (dn->x);
  g_free (dn->r);
}

/* Central differences in double of count parameters starting at offset off. per_channel > 0: the
 * parameters are a kernel with that many weights per output channel. */
static void
dn_numeric_grad (DoubleNet *dn, size_t off, size_t count, size_t per_channel, double h, double *out)
{
  for (size_t i = off; i < off + count; i++)
    {
      dn->only_channel = per_channel ? (int) ((i - off) / per_channel) : -1;
      const double saved = dn->params[i];
      dn->params[i] = saved + h;
      double lp = dn_objective (dn);
      dn->params[i] = saved - h;
      double lm = dn_objective (dn);
      dn->params[i] = saved;
      out[i - off] = (lp - lm) / (2 * h);
    }
}

/* Sets the input planes from `active` on to zero (zero_value FALSE: to NaN, which the model must not read). */
static void
fill_inactive (float *x, const ClModelSpec *spec, int n, int active, gboolean zero_value)
{
  const size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = active; c < spec->in_channels; c++)
      for (size_t j = 0; j < plane; j++)
        x[((size_t) i * spec->in_channels + c) * plane + j] = zero_value ? 0.0f : NAN;
}

/* active < in_channels: the model runs with that many active input channels on an x whose other
 * planes are NaN; the double rebuild sees them as zeros. */
static void
model_gradcheck (const ClModelSpec *spec, int n, double tol, int active, const char *name)
{
  GError *error = NULL;
  ClModel *model = cl_model_new (spec, 5, &error);
  g_assert_no_error (error);
  ClRng rng;
  cl_rng_seed (&rng, 41, TEST_STREAM);
  float *x = random_views (&rng, spec, n);
  float *x_model = g_memdup2 (x, sizeof (float) * n * spec->in_channels * spec->height * spec->width);
  if (active < spec->in_channels)
    {
      cl_model_set_active_input_channels (model, active);
      fill_inactive (x, spec, n, active, TRUE);
      fill_inactive (x_model, spec, n, active, FALSE);
    }
  const int d = cl_model_out_dim (model);
  float *r = g_new (float, (size_t) n * d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);

  /* BN parameters away from their init so their gradients are generic. */
  float *params = cl_model_params (model);
  const size_t np = cl_model_num_params (model);
  for (size_t i = cl_model_num_decay_params (model); i < np; i++)
    params[i] += (float) (0.2 * cl_rng_normal (&rng));

  const float *z = cl_model_forward (model, x_model, n, TRUE);
  cl_model_backward (model, r);
  const float *grads = cl_model_grads (model);

  DoubleNet dn;
  dn_init (&dn, model, x, r, n);
  /* At p the double rebuild is the float model, up to float rounding. */
  const double *zd = dn.act[dn.layers - 1];
  double zdiff = 0.0, zmax = 0.0;
  for (size_t i = 0; i < (size_t) n * d; i++)
    {
      zdiff = MAX (zdiff, fabs (zd[i] - z[i]));
      zmax = MAX (zmax, fabs (zd[i]));
    }
  g_assert_cmpfloat (zdiff, <=, 1e-4 * (1.0 + zmax));
  /* Both ReLU states occur in every rectified layer, or freezing them would prove little. */
  for (int l = 0; l < dn.layers; l++)
    if (dn.mask[l])
      {
        size_t on = 0, total = dn.out_size[l] * n;
        for (size_t i = 0; i < total; i++)
          on += dn.mask[l][i];
        g_assert_cmpuint (on, >, 0);
        g_assert_cmpuint (on, <, total);
      }

  /* Each layer's kernel, gamma and beta against its own scale, so a small-gradient layer cannot hide. */
  double *num = g_new (double, np);
  for (int l = 0; l < dn.layers; l++)
    for (int part = 0; part < 3; part++)
      {
        if (part > 0 && !dn.mask[l])
          continue;
        size_t off = part == 0 ? dn.w_off[l] : dn.bn_off[l] + (part == 2 ? dn.out_c[l] : 0);
        size_t count = part == 0 ? dn.in_size[l] / (dn.is_conv[l] ? (size_t) dn.in_h[l] * dn.in_w[l] : 1)
                                       * dn.out_c[l] * (dn.is_conv[l] ? 9 : 1)
                                 : (size_t) dn.out_c[l];
        dn.from_layer = l;
        dn.from_bn = part > 0;
        dn_numeric_grad (&dn, off, count, part == 0 ? count / dn.out_c[l] : 0, 1e-4, num + off);
        static const char *const part_names[3] = { "kernel", "gamma", "beta" };
        char *what = g_strdup_printf ("%s layer %d %s", name, l, part_names[part]);
        assert_grad (what, grads + off, num + off, count, tol);
        g_free (what);
      }

  dn_free (&dn);
  g_free (num);
  g_free (x);
  g_free (x_model);
  g_free (r);
  cl_model_free (model);
}

static void
test_model_grad (void)
{
  /* The RandBit shape: one image plane + 8 constant bit planes, 28x28, head 2. */
  ClModelSpec spec = small_spec (9, 28, 28, 2, 16);
  model_gradcheck (&spec, 6, 1e-4, 9, "convn 28x28x9 head 2");
}

static void
test_model_grad_heads (void)
{
  ClModelSpec spec = small_spec (2, 17, 23, 0, 8);
  model_gradcheck (&spec, 6, 1e-4, 2, "convn 17x23 head 0");
  spec = small_spec (1, 16, 15, 1, 8);
  model_gradcheck (&spec, 6, 1e-4, 1, "convn 16x15 head 1");
  spec = small_spec (4, 20, 20, 3, 8);
  model_gradcheck (&spec, 6, 1e-4, 4, "convn 20x20 head 3");
}

static void
test_model_grad_same (void)
{
  /* The padded variant on an odd-sized input (the padding matters at both borders). */
  ClModelSpec spec = small_spec (3, 19, 16, 2, 8);
  spec.arch = "convn-same";
  model_gradcheck (&spec, 6, 1e-4, 3, "convn-same 19x16x3 head 2");
}

static void
test_model_same_shapes (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = "convn-same";
  spec.in_channels = 3;
  spec.height = spec.width = 64;
  spec.max_views = 2;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cl_model_spec (model)->arch, ==, "convn-same");
  static const int expect_hw[3] = { 32, 16, 8 }, expect_c[3] = { 32, 64, 64 };
  float *x = g_new0 (float, 2 * 3 * 64 * 64);
  cl_model_forward (model, x, 2, FALSE);
  for (int l = 0; l < 3; l++)
    {
      int c, h, w;
      g_assert_nonnull (cl_model_conv_activation (model, l, &c, &h, &w));
      g_assert_cmpint (c, ==, expect_c[l]);
      g_assert_cmpint (h, ==, expect_hw[l]);
      g_assert_cmpint (w, ==, expect_hw[l]);
    }
  /* The plain variant on the same canvas: 31/15/7. */
  cl_model_free (model);
  spec.arch = "convn";
  model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  cl_model_forward (model, x, 2, FALSE);
  int c, h, w;
  cl_model_conv_activation (model, 1, &c, &h, &w);
  g_assert_cmpint (h, ==, 15);
  cl_model_free (model);
  g_free (x);
}

static void
test_model_determinism (void)
{
  ClModelSpec spec = small_spec (9, 28, 28, 2, 12);
  ClModel *a = cl_model_new (&spec, 1234, NULL);
  ClModel *b = cl_model_new (&spec, 1234, NULL);
  ClModel *c = cl_model_new (&spec, 1235, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_nonnull (c);
  const size_t np = cl_model_num_params (a);
  g_assert_cmpmem (cl_model_params (a), sizeof (float) * np, cl_model_params (b), sizeof (float) * np);
  g_assert_cmpfloat (max_abs_diff (cl_model_params (a), cl_model_params (c), np), >, 0.0);

  ClRng rng;
  cl_rng_seed (&rng, 51, TEST_STREAM);
  const int n = 12, d = cl_model_out_dim (a);
  float *x = random_views (&rng, &spec, n);
  float *r = g_new (float, (size_t) n * d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  const float *za = cl_model_forward (a, x, n, TRUE);
  const float *zb = cl_model_forward (b, x, n, TRUE);
  g_assert_cmpmem (za, sizeof (float) * n * d, zb, sizeof (float) * n * d);
  cl_model_backward (a, r);
  cl_model_backward (b, r);
  g_assert_cmpmem (cl_model_grads (a), sizeof (float) * np, cl_model_grads (b), sizeof (float) * np);
  const size_t nbuf = cl_model_num_buffers (a);
  g_assert_cmpmem (cl_model_buffers (a), sizeof (float) * nbuf, cl_model_buffers (b), sizeof (float) * nbuf);
  /* Repeating the same step on the same model gives the same gradient bit for bit. */
  float *g1 = g_memdup2 (cl_model_grads (a), sizeof (float) * np);
  cl_model_forward (a, x, n, TRUE);
  cl_model_backward (a, r);
  g_assert_cmpmem (cl_model_grads (a), sizeof (float) * np, g1, sizeof (float) * np);

  /* A few optimizer steps keep the two in lockstep. */
  ClOptimizer *oa = cl_optimizer_new (CL_OPTIMIZER_ADAM, np, cl_model_num_decay_params (a));
  ClOptimizer *ob = cl_optimizer_new (CL_OPTIMIZER_ADAM, np, cl_model_num_decay_params (b));
  cl_optimizer_step (oa, cl_model_params (a), cl_model_grads (a), 1e-3f, 2e-4f);
  for (int step = 0; step < 3; step++)
    {
      cl_model_forward (b, x, n, TRUE);
      cl_model_backward (b, r);
      cl_optimizer_step (ob, cl_model_params (b), cl_model_grads (b), 1e-3f, 2e-4f);
      if (step < 2)
        {
          cl_model_forward (a, x, n, TRUE);
          cl_model_backward (a, r);
          cl_optimizer_step (oa, cl_model_params (a), cl_model_grads (a), 1e-3f, 2e-4f);
        }
    }
  g_assert_cmpmem (cl_model_params (a), sizeof (float) * np, cl_model_params (b), sizeof (float) * np);
  cl_optimizer_free (oa);
  cl_optimizer_free (ob);
  g_free (g1);
  g_free (x);
  g_free (r);
  cl_model_free (a);
  cl_model_free (b);
  cl_model_free (c);
}

/* The caller may overwrite its input between forward and backward. */
static void
test_model_input_copied (void)
{
  ClModelSpec spec = small_spec (2, 20, 20, 2, 6);
  ClModel *model = cl_model_new (&spec, 9, NULL);
  ClRng rng;
  cl_rng_seed (&rng, 52, TEST_STREAM);
  const int n = 6, d = cl_model_out_dim (model);
  const size_t np = cl_model_num_params (model), nx = (size_t) n * 2 * 400;
  float *x = random_views (&rng, &spec, n);
  float *r = g_new (float, (size_t) n * d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  cl_model_forward (model, x, n, TRUE);
  cl_model_backward (model, r);
  float *g1 = g_memdup2 (cl_model_grads (model), sizeof (float) * np);
  cl_model_forward (model, x, n, TRUE);
  fill_uniform (&rng, x, nx, -3, 3);
  cl_model_backward (model, r);
  g_assert_cmpmem (cl_model_grads (model), sizeof (float) * np, g1, sizeof (float) * np);
  g_free (g1);
  g_free (x);
  g_free (r);
  cl_model_free (model);
}

/* Eval mode uses running statistics: embed matches eval forward, in any chunking, and leaves them alone. */
static void
test_model_eval_and_embed (void)
{
  ClModelSpec spec = small_spec (3, 28, 28, 2, 5);
  ClModel *model = cl_model_new (&spec, 77, NULL);
  ClRng rng;
  cl_rng_seed (&rng, 53, TEST_STREAM);
  const int n = 13, rep = cl_model_rep_dim (model);
  g_assert_cmpint (rep, ==, 12);
  float *x = random_views (&rng, &spec, n);
  const size_t in_size = (size_t) 3 * 28 * 28;

  /* Move the running statistics off their init first. */
  for (int i = 0; i < 4; i++)
    cl_model_forward (model, x + i * in_size, 5, TRUE);
  const size_t nb = cl_model_num_buffers (model);
  float *buffers = g_memdup2 (cl_model_buffers (model), sizeof (float) * nb);

  float *y = g_new (float, (size_t) n * rep);
  cl_model_embed (model, x, n, y);
  g_assert_cmpmem (cl_model_buffers (model), sizeof (float) * nb, buffers, sizeof (float) * nb);
  for (int i = 0; i < n; i++)
    {
      /* One view at a time: eval mode makes each view independent of the others in its batch. */
      cl_model_forward (model, x + i * in_size, 1, FALSE);
      const float *yi = cl_model_representation (model);
      g_assert_cmpfloat (max_abs_diff (yi, y + (size_t) i * rep, rep), <=, 1e-5 * (1 + max_abs (yi, rep)));
    }
  /* Training mode on the same 5 views differs (batch statistics). */
  cl_model_forward (model, x, 5, FALSE);
  float *y_eval = g_memdup2 (cl_model_representation (model), sizeof (float) * 5 * rep);
  cl_model_forward (model, x, 5, TRUE);
  g_assert_cmpfloat (max_abs_diff (y_eval, cl_model_representation (model), (size_t) 5 * rep), >, 1e-3);

  /* A frozen copy reproduces eval outputs. */
  ClModel *copy = cl_model_new (&spec, 1, NULL);
  memcpy (cl_model_buffers (model), buffers, sizeof (float) * nb);
  g_assert_true (cl_model_copy_weights (copy, model));
  float *y_copy = g_new (float, (size_t) n * rep);
  cl_model_embed (copy, x, n, y_copy);
  g_assert_cmpmem (y_copy, sizeof (float) * n * rep, y, sizeof (float) * n * rep);
  ClModelSpec other = small_spec (3, 28, 28, 1, 5);
  ClModel *different = cl_model_new (&other, 1, NULL);
  g_assert_false (cl_model_copy_weights (different, model));

  cl_model_free (different);
  cl_model_free (copy);
  g_free (y_copy);
  g_free (y_eval);
  g_free (y);
  g_free (buffers);
  g_free (x);
  cl_model_free (model);
}

static void
test_model_shapes (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  g_assert_cmpstr (spec.arch, ==, "convn");
  spec.in_channels = 9;
  spec.max_views = 4;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cl_model_rep_dim (model), ==, 128);
  g_assert_cmpint (cl_model_out_dim (model), ==, 64);
  g_assert_cmpint (cl_model_num_conv_layers (model), ==, 3);
  static const int expect[3][3] = { { 32, 13, 13 }, { 64, 6, 6 }, { 64, 2, 2 } };
  for (int l = 0; l < 3; l++)
    {
      int c, h, w;
      cl_model_conv_activation (model, l, &c, &h, &w);
      g_assert_cmpint (c, ==, expect[l][0]);
      g_assert_cmpint (h, ==, expect[l][1]);
      g_assert_cmpint (w, ==, expect[l][2]);
    }
  /* Kernels: conv 9->32, 32->64, 64->64 (3x3), dense 256->128, 128->256, 256->64. */
  size_t kernels = 32 * 9 * 9 + 64 * 32 * 9 + 64 * 64 * 9 + 256 * 128 + 128 * 256 + 256 * 64;
  size_t bn = 2 * (32 + 64 + 64 + 128 + 256);
  g_assert_cmpuint (cl_model_num_decay_params (model), ==, kernels);
  g_assert_cmpuint (cl_model_num_params (model), ==, kernels + bn);
  g_assert_cmpuint (cl_model_num_buffers (model), ==, bn);
  double macs = 32.0 * 81 * 169 + 64.0 * 288 * 36 + 64.0 * 576 * 4 + 256 * 128 + 128 * 256 + 256 * 64;
  g_assert_cmpfloat (cl_model_flops_per_view (model), ==, macs);
  /* BN starts at gamma 1, beta 0; Glorot-uniform kernels stay inside their limit and fill it. */
  const float *p = cl_model_params (model);
  size_t off = kernels;
  static const int bn_c[5] = { 32, 64, 64, 128, 256 };
  for (int b = 0; b < 5; b++)
    {
      for (int ch = 0; ch < bn_c[b]; ch++)
        {
          g_assert_cmpfloat (p[off + ch], ==, 1.0f);
          g_assert_cmpfloat (p[off + bn_c[b] + ch], ==, 0.0f);
        }
      off += 2 * (size_t) bn_c[b];
    }
  double limit = sqrt (6.0 / (9 * 9 + 32 * 9)), largest = 0.0;
  for (size_t i = 0; i < 32 * 81; i++)
    largest = MAX (largest, fabs (p[i]));
  g_assert_cmpfloat (largest, <=, limit);
  g_assert_cmpfloat (largest, >, 0.95 * limit);
  cl_model_free (model);

  /* head_layers 0: z is y. Width 0.01 rounds every conv down to one channel. */
  spec.head_layers = 0;
  spec.width_mult = 0.01;
  model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cl_model_out_dim (model), ==, 128);
  int c;
  cl_model_conv_activation (model, 2, &c, NULL, NULL);
  g_assert_cmpint (c, ==, 1);
  cl_model_free (model);
  spec.width_mult = 0.25;
  model = cl_model_new (&spec, 1, &error);
  cl_model_conv_activation (model, 0, &c, NULL, NULL);
  g_assert_cmpint (c, ==, 8);
  cl_model_free (model);
}

static void
test_model_bad_spec (void)
{
  ClModelSpec spec;
  GError *error = NULL;
  cl_model_spec_init (&spec);
  spec.height = 14;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_assert_nonnull (strstr (error->message, "too small"));
  g_clear_error (&error);
  spec.height = 15;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  cl_model_free (model);

  cl_model_spec_init (&spec);
  spec.arch = "resnet";
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_assert_nonnull (strstr (error->message, "model.arch"));
  g_clear_error (&error);

  cl_model_spec_init (&spec);
  spec.width_mult = 0.0;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_clear_error (&error);
  cl_model_spec_init (&spec);
  spec.head_layers = -1;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_clear_error (&error);
  cl_model_spec_init (&spec);
  spec.max_views = 0;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_clear_error (&error);
}

static void
test_model_grad_active (void)
{
  /* RandBit with 24 planes built in, the slider at 8 and at 0 (image plane only). */
  ClModelSpec spec = small_spec (25, 28, 28, 2, 16);
  model_gradcheck (&spec, 6, 1e-4, 9, "convn 28x28x25 head 2, active 9");
  model_gradcheck (&spec, 6, 1e-4, 1, "convn 28x28x25 head 2, active 1");
}

/* Largest difference of a and b relative to the largest |b|, per range. */
static double
rel_diff (const float *a, const float *b, size_t count)
{
  return max_abs_diff (a, b, count) / (1e-30 + max_abs (b, count));
}

/* A model with fewer active input channels follows, step by step, a full model fed zero planes (to
 * float rounding: OpenBLAS sums a shorter K in another order), while the active count changes
 * between steps. After each step a takes b's state, so every step is compared from equal footing. */
static void
test_model_active_channels (void)
{
  ClModelSpec spec = small_spec (25, 28, 28, 2, 20);
  ClModel *a = cl_model_new (&spec, 77, NULL);
  ClModel *b = cl_model_new (&spec, 77, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (cl_model_active_input_channels (a), ==, 25);
  cl_model_set_active_input_channels (a, 0);
  g_assert_cmpint (cl_model_active_input_channels (a), ==, 1);
  cl_model_set_active_input_channels (a, 99);
  g_assert_cmpint (cl_model_active_input_channels (a), ==, 25);

  const size_t np = cl_model_num_params (a), nd = cl_model_num_decay_params (a);
  const size_t nbuf = cl_model_num_buffers (a);
  const size_t k1 = 9 * (size_t) spec.in_channels; /* conv1 weights per output channel */
  size_t starts[8], counts[8];
  const int n_layers = cl_model_kernel_ranges (a, starts, counts, 8);
  ClOptimizer *oa = cl_optimizer_new (CL_OPTIMIZER_LARS, np, nd), *ob = cl_optimizer_new (CL_OPTIMIZER_LARS, np, nd);
  cl_optimizer_set_layers (oa, n_layers, starts, counts);
  cl_optimizer_set_layers (ob, n_layers, starts, counts);

  ClRng rng;
  cl_rng_seed (&rng, 61, TEST_STREAM);
  const int n = 20, d = cl_model_out_dim (a);
  float *r = g_new (float, (size_t) n * d);
  static const int schedule[] = { 1, 9, 25, 5, 1, 13 };
  for (size_t step = 0; step < G_N_ELEMENTS (schedule); step++)
    {
      const int active = schedule[step];
      float *x = random_views (&rng, &spec, n);
      float *x_nan = g_memdup2 (x, sizeof (float) * n * cl_model_spec (a)->in_channels * 28 * 28);
      fill_inactive (x, &spec, n, active, TRUE);
      fill_inactive (x_nan, &spec, n, active, FALSE);
      fill_uniform (&rng, r, (size_t) n * d, -1, 1);
      cl_model_set_active_input_channels (a, active);
      const float *za = cl_model_forward (a, x_nan, n, TRUE);
      const float *zb = cl_model_forward (b, x, n, TRUE);
      g_assert_cmpfloat (rel_diff (za, zb, (size_t) n * d), <=, 1e-5);
      /* The input copy must not be what keeps the NaN planes out. */
      memset (x_nan, 0xff, sizeof (float) * n * spec.in_channels * 28 * 28);
      cl_model_backward (a, r);
      cl_model_backward (b, r);
      for (int l = 0; l < n_layers; l++)
        g_assert_cmpfloat (rel_diff (cl_model_grads (a) + starts[l], cl_model_grads (b) + starts[l], counts[l]), <=,
                           1e-4);
      g_assert_cmpfloat (rel_diff (cl_model_grads (a) + nd, cl_model_grads (b) + nd, np - nd), <=, 1e-4);
      g_assert_cmpfloat (rel_diff (cl_model_buffers (a), cl_model_buffers (b), nbuf), <=, 1e-5);
      /* conv1's gradient is zero exactly on the inactive channels and not all zero on the active ones. */
      const float *g = cl_model_grads (a);
      double active_norm = 0.0;
      for (size_t o = 0; o < counts[0] / k1; o++)
        for (size_t j = 0; j < k1; j++)
          {
            if (j >= 9 * (size_t) active)
              g_assert_cmpfloat (g[o * k1 + j], ==, 0.0f);
            else
              active_norm += fabs (g[o * k1 + j]);
          }
      g_assert_cmpfloat (active_norm, >, 0.0);
      cl_optimizer_step (oa, cl_model_params (a), cl_model_grads (a), 0.5f, 1e-3f);
      cl_optimizer_step (ob, cl_model_params (b), cl_model_grads (b), 0.5f, 1e-3f);
      g_assert_cmpfloat (rel_diff (cl_model_params (a), cl_model_params (b), np), <=, 1e-5);
      g_assert_true (cl_model_copy_weights (a, b));
      /* Evaluation reads the active planes only as well. */
      float *ya = g_new (float, (size_t) n * spec.rep_dim), *yb = g_new (float, (size_t) n * spec.rep_dim);
      memcpy (x_nan, x, sizeof (float) * n * spec.in_channels * 28 * 28);
      fill_inactive (x_nan, &spec, n, active, FALSE);
      cl_model_embed (a, x_nan, n, ya);
      cl_model_embed (b, x, n, yb);
      g_assert_cmpfloat (rel_diff (ya, yb, (size_t) n * spec.rep_dim), <=, 1e-5);
      g_free (ya);
      g_free (yb);
      g_free (x);
      g_free (x_nan);
    }
  cl_optimizer_free (oa);
  cl_optimizer_free (ob);
  g_free (r);
  cl_model_free (a);
  cl_model_free (b);
}

/* The model on 2 and 3 team threads: bit-reproducible at a given count, equal to 1 thread to float
 * rounding (the conv blocks differ, so the sums are grouped differently). */
static void
test_model_threads (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  ClModelSpec spec = small_spec (9, 28, 28, 2, 40);
  ClRng rng;
  cl_rng_seed (&rng, 81, TEST_STREAM);
  const int n = 40;
  float *x = random_views (&rng, &spec, n);
  ClModel *ref = cl_model_new (&spec, 8, NULL);
  g_assert_nonnull (ref);
  const int d = cl_model_out_dim (ref);
  const size_t np = cl_model_num_params (ref), nd = cl_model_num_decay_params (ref);
  float *r = g_new (float, (size_t) n * d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  cl_layers_set_threads (1);
  float *z1 = g_memdup2 (cl_model_forward (ref, x, n, TRUE), sizeof (float) * n * d);
  cl_model_backward (ref, r);
  size_t starts[8], counts[8];
  const int n_layers = cl_model_kernel_ranges (ref, starts, counts, 8);
  for (int threads = 2; threads <= 3; threads++)
    {
      cl_layers_set_threads (threads);
      ClModel *a = cl_model_new (&spec, 8, NULL), *b = cl_model_new (&spec, 8, NULL);
      const float *za = cl_model_forward (a, x, n, TRUE);
      cl_model_backward (a, r);
      const float *zb = cl_model_forward (b, x, n, TRUE);
      cl_model_backward (b, r);
      g_assert_cmpmem (za, sizeof (float) * n * d, zb, sizeof (float) * n * d);
      g_assert_cmpmem (cl_model_grads (a), sizeof (float) * np, cl_model_grads (b), sizeof (float) * np);
      g_assert_cmpfloat (rel_diff (za, z1, (size_t) n * d), <=, 1e-5);
      for (int l = 0; l < n_layers; l++)
        g_assert_cmpfloat (rel_diff (cl_model_grads (a) + starts[l], cl_model_grads (ref) + starts[l], counts[l]), <=,
                           1e-4);
      g_assert_cmpfloat (rel_diff (cl_model_grads (a) + nd, cl_model_grads (ref) + nd, np - nd), <=, 1e-4);
      cl_model_free (a);
      cl_model_free (b);
    }
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
  g_free (z1);
  g_free (r);
  g_free (x);
  cl_model_free (ref);
}

/* The model gives the same bits on 1 to 4 team threads (OpenBLAS on 1 thread, as the trainer runs
 * it): forward output, every gradient and the running statistics, convn and convn-same, with the
 * full width so the BatchNorms are split across threads. */
static void
test_model_threads_identical (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  for (int same = 0; same < 2; same++)
    {
      ClModelSpec spec;
      cl_model_spec_init (&spec);
      spec.arch = same ? "convn-same" : "convn";
      spec.in_channels = same ? 2 : 9;
      spec.height = spec.width = same ? 32 : 28;
      spec.max_views = 96;
      ClRng rng;
      cl_rng_seed (&rng, 82 + same, TEST_STREAM);
      const int n = spec.max_views;
      float *x = random_views (&rng, &spec, n);
      float *z[4], *g[4], *buf[4];
      size_t np = 0, nb = 0;
      int d = 0;
      for (int t = 0; t < 4; t++)
        {
          cl_layers_use_threads (t + 1);
          ClModel *m = cl_model_new (&spec, 9, NULL);
          g_assert_nonnull (m);
          d = cl_model_out_dim (m);
          np = cl_model_num_params (m);
          nb = cl_model_num_buffers (m);
          ClRng rr;
          cl_rng_seed (&rr, 5, TEST_STREAM);
          float *r = g_new (float, (size_t) n * d);
          fill_uniform (&rr, r, (size_t) n * d, -1, 1);
          z[t] = g_memdup2 (cl_model_forward (m, x, n, TRUE), sizeof (float) * n * d);
          cl_model_backward (m, r);
          g[t] = g_memdup2 (cl_model_grads (m), sizeof (float) * np);
          buf[t] = g_memdup2 (cl_model_buffers (m), sizeof (float) * nb);
          g_free (r);
          cl_model_free (m);
        }
      for (int t = 1; t < 4; t++)
        {
          g_assert_cmpmem (z[t], sizeof (float) * n * d, z[0], sizeof (float) * n * d);
          g_assert_cmpmem (g[t], sizeof (float) * np, g[0], sizeof (float) * np);
          g_assert_cmpmem (buf[t], sizeof (float) * nb, buf[0], sizeof (float) * nb);
        }
      g_assert_cmpfloat (max_abs (g[0], np), >, 0.0);
      for (int t = 0; t < 4; t++)
        {
          g_free (z[t]);
          g_free (g[t]);
          g_free (buf[t]);
        }
      g_free (x);
    }
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
}

/* Views per second of a training step (forward + backward) at 28x28, full width, batch of 512 views. */
static double
views_per_second (int in_channels, int active)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = in_channels;
  spec.max_views = 512;
  ClModel *model = cl_model_new (&spec, 3, NULL);
  g_assert_nonnull (model);
  cl_model_set_active_input_channels (model, active);
  ClRng rng;
  cl_rng_seed (&rng, 71, TEST_STREAM);
  const int n = spec.max_views, d = cl_model_out_dim (model);
  float *x = random_views (&rng, &spec, n);
  float *r = g_new (float, (size_t) n * d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  cl_model_forward (model, x, n, TRUE);
  cl_model_backward (model, r);
  double best = 0.0;
  for (int rep = 0; rep < 5; rep++)
    {
      gint64 t0 = g_get_monotonic_time ();
      for (int it = 0; it < 4; it++)
        {
          cl_model_forward (model, x, n, TRUE);
          cl_model_backward (model, r);
        }
      double vps = 4.0 * n / ((g_get_monotonic_time () - t0) * 1e-6);
      best = MAX (best, vps);
    }
  g_free (x);
  g_free (r);
  cl_model_free (model);
  return best;
}

/* Run with -m perf: what the unused planes cost. */
static void
test_model_active_channels_cost (void)
{
  const double full1 = views_per_second (1, 1), full9 = views_per_second (9, 9);
  const double a1 = views_per_second (25, 1), a9 = views_per_second (25, 9), a25 = views_per_second (25, 25);
  g_printerr ("\nviews/s (forward+backward, 512 views, best of 5):\n"
              "  built in_channels 1:            %8.0f\n"
              "  built in_channels 9:            %8.0f\n"
              "  built in_channels 25, active 1: %8.0f (%.2f of built 1)\n"
              "  built in_channels 25, active 9: %8.0f (%.2f of built 9)\n"
              "  built in_channels 25, active 25:%8.0f\n",
              full1, full9, a1, a1 / full1, a9, a9 / full9, a25);
  /* Loose, so a loaded machine does not fail it: skipping 24 of 25 planes must at least pay off. */
  g_assert_cmpfloat (a1, >, a25);
}

/* ------------------------------------------------------------------ optimizer */

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layers/conv/shapes", test_conv_shapes);
  g_test_add_func ("/layers/conv/grad-stride2-valid", test_conv_grad_stride2_valid);
  g_test_add_func ("/layers/conv/grad-padded", test_conv_grad_padded);
  g_test_add_func ("/model/convn-same/grad", test_model_grad_same);
  g_test_add_func ("/model/convn-same/shapes", test_model_same_shapes);
  g_test_add_func ("/layers/conv/ref-vs-fast", test_conv_ref_vs_fast);
  g_test_add_func ("/layers/conv/active-channels", test_conv_active_channels);
  g_test_add_func ("/layers/conv-nhwc/ref-vs-fast", test_conv_nhwc_vs_ref);
  g_test_add_func ("/layers/conv-nhwc/layout", test_layout_changes);
  g_test_add_func ("/layers/conv-nhwc/eval-bn-relu-fused", test_conv_nhwc_eval_fused);
  g_test_add_func ("/layers/conv-nhwc/backward-bn-fused", test_conv_nhwc_backward_bn_fused);
  g_test_add_func ("/layers/conv-nhwc/threads-identical", test_nhwc_threads_identical);
  g_test_add_func ("/layers/batchnorm/grad-2d", test_bn2d_grad);
  g_test_add_func ("/layers/batchnorm/grad-1d", test_bn1d_grad);
  g_test_add_func ("/layers/batchnorm/relu-fused", test_bn_relu_fused);
  g_test_add_func ("/layers/batchnorm/train-vs-eval", test_bn_train_vs_eval);
  g_test_add_func ("/layers/threads", test_layers_threads);
  g_test_add_func ("/layers/dense/grad", test_dense_grad);
  g_test_add_func ("/layers/relu/grad", test_relu_grad);
  g_test_add_func ("/model/shapes", test_model_shapes);
  g_test_add_func ("/model/bad-spec", test_model_bad_spec);
  g_test_add_func ("/model/grad", test_model_grad);
  g_test_add_func ("/model/grad-heads", test_model_grad_heads);
  g_test_add_func ("/model/determinism", test_model_determinism);
  g_test_add_func ("/model/input-copied", test_model_input_copied);
  g_test_add_func ("/model/grad-active", test_model_grad_active);
  g_test_add_func ("/model/active-channels", test_model_active_channels);
  g_test_add_func ("/model/threads", test_model_threads);
  g_test_add_func ("/model/threads-identical", test_model_threads_identical);
  if (g_test_perf ())
    g_test_add_func ("/model/active-channels-cost", test_model_active_channels_cost);
  g_test_add_func ("/model/eval-and-embed", test_model_eval_and_embed);
  g_test_add_func ("/optimizer/adam", test_adam_step);
  g_test_add_func ("/optimizer/sgd", test_sgd_step);
  return g_test_run ();
}
