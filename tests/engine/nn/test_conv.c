/* The conv: finite-difference gradient checks (NCHW path), every path against the naive loop
 * reference, the fused BatchNorm variants, bit-identity over thread counts, shapes. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/engine/nn/nn_test_util.h"

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
      const ClBnReluGrad bng = { cc.r, act, cc.y, mean, k0, k1, k2, NULL, 0, NULL, NULL };
      cl_conv2d_backward_nhwc_bn (&cc.conv, cc.w, cc.x, &bng, n, dw2, dx2, scratch);
      g_assert_cmpmem (dg, sizeof (float) * out_c, dg2, sizeof (float) * out_c);
      g_assert_cmpmem (db, sizeof (float) * out_c, db2, sizeof (float) * out_c);
      g_assert_cmpmem (dw, sizeof (float) * cc.nw, dw2, sizeof (float) * cc.nw);
      g_assert_cmpmem (dx, sizeof (float) * cc.nx, dx2, sizeof (float) * cc.nx);
      /* The same without act: the ReLU's mask recomputed from pre and beta (what the model runs). */
      memset (dw2, 0, sizeof (float) * cc.nw);
      memset (dx2, 0, sizeof (float) * cc.nx);
      cl_batchnorm_backward_coefficients_pre (&bn, cc.y, beta, cc.r, rows, gamma, mean, invstd, dg2, db2, k0, k1, k2);
      const ClBnReluGrad bng_pre = { cc.r, NULL, cc.y, mean, k0, k1, k2, NULL, 0, NULL, beta };
      cl_conv2d_backward_nhwc_bn (&cc.conv, cc.w, cc.x, &bng_pre, n, dw2, dx2, scratch);
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
  float *dxin = g_new (float, (size_t) dn *dense.in), *dw_ = g_new (float, (size_t) dense.out *dense.in);
  float *ddy = g_new (float, (size_t) dn *dense.out);
  fill_uniform (&rng, dxin, (size_t) dn * dense.in, -1, 1);
  fill_uniform (&rng, dw_, (size_t) dense.out * dense.in, -1, 1);
  fill_uniform (&rng, ddy, (size_t) dn * dense.out, -1, 1);
  float *dres[4][3];
  for (int t = 0; t < 4; t++)
    {
      cl_layers_set_threads (t + 1);
      dres[t][0] = g_new (float, (size_t) dn *dense.out);
      dres[t][1] = g_new (float, (size_t) dense.out *dense.in);
      dres[t][2] = g_new (float, (size_t) dn *dense.in);
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

/* Runs the NHWC forward (plain and with the evaluation BatchNorm + ReLU) and backward (dw, dx) of a
 * case with the named microkernels; outputs are [4][...] in the order y, y_eval, dwp, dx. */
static void
run_nhwc_kernels (const char *kernels, const ConvCase *cc, const float *xh, const float *rh, const float *wp,
                  const float *bn, float *y, float *y_eval, float *dwp, float *dxh)
{
  g_assert_true (cl_conv_set_kernels (kernels));
  g_assert_cmpstr (cl_conv_kernels_name (), ==, kernels);
  const ClConv2d *conv = &cc->conv;
  const int out_c = conv->out_c;
  float *scratch = g_new0 (float, cl_conv2d_nhwc_scratch_floats (conv));
  cl_conv2d_forward_nhwc (conv, wp, xh, cc->n, y, scratch);
  cl_conv2d_forward_nhwc_eval_bn_relu (conv, wp, xh, cc->n, bn, bn + out_c, bn + 2 * out_c, bn + 3 * out_c, y_eval,
                                       scratch);
  cl_conv2d_backward_nhwc (conv, wp, xh, rh, cc->n, dwp, dxh, scratch);
  g_free (scratch);
}

/* Every microkernel set the CPU runs gives the reference microkernels' results bit for bit (each
 * output is one fused multiply-add chain in the same order), on shapes that hit partial tiles,
 * padding, the one-run shape of few channels, and several blocks. */
static void
test_conv_kernels_vs_reference (gconstpointer data)
{
  const char *kernels = data;
  const char *saved = cl_conv_kernels_name ();
  char *saved_name = g_strdup (saved);
  if (!cl_conv_set_kernels (kernels))
    {
      g_test_message ("this CPU does not run the %s kernels: nothing to compare", kernels);
      g_free (saved_name);
      return;
    }
  ClRng rng;
  cl_rng_seed (&rng, 16, TEST_STREAM);
  for (int trial = 0; trial < 60; trial++)
    {
      int k = 1 + (int) cl_rng_below (&rng, 4);
      int stride = 1 + (int) cl_rng_below (&rng, 3);
      int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      if (trial < 8)
        k = 3, stride = 2, pad = trial % 2; /* the model's convs */
      int h = k + (int) cl_rng_below (&rng, 12), w = k + (int) cl_rng_below (&rng, 12);
      int in_c = 1 + (int) cl_rng_below (&rng, trial % 3 == 0 ? 70 : 6), out_c = 1 + (int) cl_rng_below (&rng, 70);
      /* The wide tiles (64 and 32 output channels or patch-row columns at once) and the limits of
       * where dx may use them: neighbouring pixels' patch rows stride * in_c floats apart. */
      static const int wide[][4] = { /* in_c, out_c, stride, k */
                                     { 32, 64, 2, 3 }, { 64, 64, 2, 3 }, { 32, 96, 1, 3 },  { 16, 80, 1, 3 },
                                     { 48, 70, 2, 3 }, { 20, 64, 2, 2 }, { 33, 127, 1, 2 }, { 64, 32, 1, 3 }
      };
      if (trial >= 8 && trial < 8 + (int) G_N_ELEMENTS (wide))
        {
          const int *t = wide[trial - 8];
          in_c = t[0], out_c = t[1], stride = t[2], k = t[3];
          pad = trial % 2, h = MAX (h, k), w = MAX (w, k);
        }
      int n = 1 + (int) cl_rng_below (&rng, 6);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 2)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 3);
      const int P_in = h * w, P_out = cc.conv.out_h * cc.conv.out_w;
      float *xh = g_new (float, cc.nx), *rh = g_new (float, cc.ny), *wp = g_new (float, cc.nw);
      float *bn = g_new (float, 4 * (size_t) out_c);
      fill_uniform (&rng, bn, 3 * (size_t) out_c, -1, 1);
      fill_uniform (&rng, bn + 3 * out_c, out_c, 0.5, 2); /* running variance */
      cl_nchw_to_nhwc (cc.x, n, in_c, in_c, P_in, xh);
      cl_nchw_to_nhwc (cc.r, n, out_c, out_c, P_out, rh);
      cl_conv2d_weights_to_nhwc (&cc.conv, cc.w, in_c, wp);
      float *out[2][4];
      const size_t sizes[4] = { cc.ny, cc.ny, cc.nw, cc.nx };
      for (int run = 0; run < 2; run++)
        {
          for (int i = 0; i < 4; i++)
            out[run][i] = g_new (float, sizes[i]);
          run_nhwc_kernels (run == 0 ? "reference" : kernels, &cc, xh, rh, wp, bn, out[run][0], out[run][1],
                            out[run][2], out[run][3]);
        }
      for (int i = 0; i < 4; i++)
        {
          g_assert_cmpmem (out[0][i], sizeof (float) * sizes[i], out[1][i], sizeof (float) * sizes[i]);
          g_free (out[0][i]);
          g_free (out[1][i]);
        }
      g_free (xh);
      g_free (rh);
      g_free (wp);
      g_free (bn);
      conv_case_free (&cc);
    }
  g_assert_true (cl_conv_set_kernels (saved_name));
  g_free (saved_name);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/conv/shapes", test_conv_shapes);
  g_test_add_func ("/nn/conv/grad-stride2-valid", test_conv_grad_stride2_valid);
  g_test_add_func ("/nn/conv/grad-padded", test_conv_grad_padded);
  g_test_add_func ("/nn/conv/ref-vs-fast", test_conv_ref_vs_fast);
  g_test_add_func ("/nn/conv/active-channels", test_conv_active_channels);
  g_test_add_func ("/nn/conv/nhwc/ref-vs-fast", test_conv_nhwc_vs_ref);
  g_test_add_func ("/nn/conv/nhwc/eval-bn-relu-fused", test_conv_nhwc_eval_fused);
  g_test_add_func ("/nn/conv/nhwc/backward-bn-fused", test_conv_nhwc_backward_bn_fused);
  g_test_add_func ("/nn/conv/nhwc/threads-identical", test_nhwc_threads_identical);
  g_test_add_data_func ("/nn/conv/kernels/avx2-vs-reference", "avx2", test_conv_kernels_vs_reference);
  g_test_add_data_func ("/nn/conv/kernels/avx512-vs-reference", "avx512", test_conv_kernels_vs_reference);
  return g_test_run ();
}
