/* A conv whose input is a training BatchNorm + ReLU's input, normalised block by block as the conv
 * needs it (cl_conv2d_forward_nhwc_in / cl_conv2d_backward_nhwc_in), against the BatchNorm's own
 * pass writing the map and the plain conv reading it, bit for bit; cl_batchnorm_relu_apply against
 * that pass; and the model, which now leaves such maps unwritten in training, giving the map of the
 * forward when asked for after the parameters changed. */
#include <glib.h>
#include <string.h>

#include "engine/nn/cl_batchnorm.h"
#include "engine/nn/cl_conv.h"
#include "engine/nn/cl_model.h"
#include "tests/engine/nn/model_test_util.h"
#include "tests/engine/nn/nn_test_util.h"

static const char *const kernel_sets[] = { "reference", "im2col", "avx2", "avx512" };

/* The BatchNorm before the conv: n views of P pixels x C channels, its batch statistics from
 * per-view moments (running statistics not kept), and act written by its own pass. */
typedef struct
{
  float *pre, *act, *gamma, *beta, *mean, *invstd;
  double *moments;
} InputBn;

static void
input_bn_init (InputBn *ib, ClRng *rng, int n, int P, int C)
{
  const size_t count = (size_t) n * P * C;
  ib->pre = g_new (float, count);
  ib->act = g_new (float, count);
  ib->gamma = g_new (float, C);
  ib->beta = g_new (float, C);
  ib->mean = g_new (float, C);
  ib->invstd = g_new (float, C);
  ib->moments = g_new (double, (size_t) n * 3 * C);
  fill_uniform (rng, ib->pre, count, -1.0, 2.0);
  fill_uniform (rng, ib->gamma, C, -1.5, 1.5);
  fill_uniform (rng, ib->beta, C, -0.5, 0.5);
  const ClBatchNorm bn = { C, 1 };
  cl_batchnorm_forward_train_views (&bn, ib->pre, n, P, ib->gamma, ib->beta, ib->act, ib->mean, ib->invstd, NULL, NULL,
                                    ib->moments);
}

static void
input_bn_free (InputBn *ib)
{
  float *v[] = { ib->pre, ib->act, ib->gamma, ib->beta, ib->mean, ib->invstd };
  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    g_free (v[i]);
  g_free (ib->moments);
}

/* cl_batchnorm_relu_apply == the BatchNorm's pass (cl_batchnorm_forward_train_moments' y), for
 * channel counts below, at and above its groups of 16 and its tiles of 128, 1 and 2 threads. */
static void
test_apply_vs_forward (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 71, TEST_STREAM);
  static const int channels[] = { 1, 5, 16, 32, 37, 64, 130 };
  for (gsize t = 0; t < G_N_ELEMENTS (channels); t++)
    {
      cl_layers_set_threads (1 + (int) t % 2);
      const int C = channels[t], n = 3 + (int) t, P = 17;
      InputBn ib;
      input_bn_init (&ib, &rng, n, P, C);
      float *y = g_new (float, (size_t) n *P *C);
      cl_batchnorm_relu_apply (ib.pre, n * P, C, ib.mean, ib.gamma, ib.invstd, ib.beta, y);
      g_assert_cmpmem (y, sizeof (float) * n * P * C, ib.act, sizeof (float) * n * P * C);
      g_assert_cmpfloat (max_abs (y, (size_t) n * P * C), >, 0.0);
      g_free (y);
      input_bn_free (&ib);
    }
  cl_layers_set_threads (1);
}

/* Forward (plain and training, with its per-view moments) and backward (from dy and from a
 * BatchNorm + ReLU gradient) on pre + statistics == on the written act, for every kernel set this
 * CPU runs, 1 and 2 threads, blocks of one and several views. */
static void
test_fused_vs_reference (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 72, TEST_STREAM);
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  int checked = 0;
  for (int trial = 0; trial < 32; trial++)
    {
      if (!cl_conv_set_kernels (kernel_sets[trial % G_N_ELEMENTS (kernel_sets)]))
        continue;
      cl_layers_set_threads (1 + (trial / 4) % 2);
      const int k = 1 + (int) cl_rng_below (&rng, 3), stride = 1 + (int) cl_rng_below (&rng, 2);
      const int pad = (int) cl_rng_below (&rng, (uint32_t) k);
      const int h = 3 + k + (int) cl_rng_below (&rng, 12), w = 3 + k + (int) cl_rng_below (&rng, 12);
      const int in_c = 1 + (int) cl_rng_below (&rng, 40), out_c = 1 + (int) cl_rng_below (&rng, 40);
      const int n = 1 + (int) cl_rng_below (&rng, 8);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, pad, h, w);
      if (trial % 3 == 0)
        cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 3);
      const int P_out = cc.conv.out_h * cc.conv.out_w;
      InputBn ib;
      input_bn_init (&ib, &rng, n, h * w, in_c);
      const ClConvInputBn inbn = { ib.mean, ib.gamma, ib.invstd, ib.beta };
      float *scratch = g_new (float, cl_conv2d_nhwc_scratch_floats (&cc.conv));
      /* The conv's own BatchNorm + ReLU gradient for the second backward (any coefficients will do). */
      float *dact = g_new (float, cc.ny), *pre_out = g_new (float, cc.ny), *bn_out = g_new (float, 5 * out_c);
      fill_uniform (&rng, dact, cc.ny, -1.0, 1.0);
      fill_uniform (&rng, pre_out, cc.ny, -1.0, 1.0);
      fill_uniform (&rng, bn_out, 5 * (size_t) out_c, -0.6, 0.6);
      const ClBnReluGrad bng = {
        dact, NULL, pre_out,           bn_out, bn_out + out_c, bn_out + 2 * out_c, bn_out + 3 * out_c, NULL,
        0,    NULL, bn_out + 4 * out_c
      };
      float *y[2][2], *dx[2][2], *dwp[2][2];
      double *mom[2];
      for (int path = 0; path < 2; path++)
        {
          mom[path] = g_new (double, (size_t) n * 3 * out_c);
          const ClConvTrainEpilogue tep = { NULL, NULL, 1, mom[path] };
          for (int v = 0; v < 2; v++)
            {
              y[path][v] = g_new (float, cc.ny);
              dx[path][v] = g_new (float, cc.nx);
              dwp[path][v] = g_new (float, cc.nw);
            }
          if (path == 0)
            {
              cl_conv2d_forward_nhwc_in (&cc.conv, cc.w, ib.pre, &inbn, n, y[0][0], scratch, NULL);
              cl_conv2d_forward_nhwc_in (&cc.conv, cc.w, ib.pre, &inbn, n, y[0][1], scratch, &tep);
              cl_conv2d_backward_nhwc_in (&cc.conv, cc.w, ib.pre, &inbn, NULL, cc.r, n, dwp[0][0], dx[0][0], scratch);
              cl_conv2d_backward_nhwc_in (&cc.conv, cc.w, ib.pre, &inbn, &bng, NULL, n, dwp[0][1], dx[0][1], scratch);
            }
          else
            {
              cl_conv2d_forward_nhwc (&cc.conv, cc.w, ib.act, n, y[1][0], scratch);
              cl_conv2d_forward_nhwc_train (&cc.conv, cc.w, ib.act, n, y[1][1], scratch, &tep);
              cl_conv2d_backward_nhwc (&cc.conv, cc.w, ib.act, cc.r, n, dwp[1][0], dx[1][0], scratch);
              cl_conv2d_backward_nhwc_bn (&cc.conv, cc.w, ib.act, &bng, n, dwp[1][1], dx[1][1], scratch);
            }
        }
      for (int v = 0; v < 2; v++)
        {
          g_assert_cmpmem (y[0][v], sizeof (float) * cc.ny, y[1][v], sizeof (float) * cc.ny);
          g_assert_cmpmem (dx[0][v], sizeof (float) * cc.nx, dx[1][v], sizeof (float) * cc.nx);
          g_assert_cmpmem (dwp[0][v], sizeof (float) * cc.nw, dwp[1][v], sizeof (float) * cc.nw);
        }
      g_assert_cmpmem (mom[0], sizeof (double) * n * 3 * out_c, mom[1], sizeof (double) * n * 3 * out_c);
      g_assert_cmpfloat (max_abs (dwp[0][0], cc.nw), >, 0.0);
      g_assert_cmpint (P_out, >, 0);
      checked++;
      for (int path = 0; path < 2; path++)
        {
          for (int v = 0; v < 2; v++)
            {
              g_free (y[path][v]);
              g_free (dx[path][v]);
              g_free (dwp[path][v]);
            }
          g_free (mom[path]);
        }
      g_free (dact);
      g_free (pre_out);
      g_free (bn_out);
      g_free (scratch);
      input_bn_free (&ib);
      conv_case_free (&cc);
    }
  g_assert_cmpint (checked, >=, 16); /* reference and im2col run everywhere */
  cl_conv_set_kernels (NULL);
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
}

/* After a training forward (which leaves conv1's and conv2's maps to the next conv), the maps asked
 * for are the forward's, even when gamma and beta changed since (an optimizer step): two models
 * from one seed, one with its BatchNorm parameters scrambled after the forward. */
static void
test_model_deferred_maps (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = 3;
  spec.max_views = 6;
  ClRng rng;
  cl_rng_seed (&rng, 73, TEST_STREAM);
  float *x = random_views (&rng, &spec, 6);
  ClModel *m[2];
  for (int i = 0; i < 2; i++)
    {
      GError *error = NULL;
      m[i] = cl_model_new (&spec, 9, &error);
      g_assert_no_error (error);
      cl_model_forward (m[i], x, 6, TRUE);
    }
  float *p = cl_model_params (m[1]);
  for (size_t i = 0; i < cl_model_num_params (m[1]); i++)
    p[i] = -p[i] + 0.25f;
  for (int l = 0; l < cl_model_num_conv_layers (m[0]); l++)
    {
      int c, h, w;
      const float *a0 = cl_model_conv_activation (m[0], l, &c, &h, &w);
      const float *a1 = cl_model_conv_activation (m[1], l, NULL, NULL, NULL);
      const size_t count = (size_t) 6 * c * h * w;
      g_assert_cmpmem (a0, sizeof (float) * count, a1, sizeof (float) * count);
      g_assert_cmpfloat (max_abs (a0, count), >, 0.0);
    }
  for (int i = 0; i < 2; i++)
    cl_model_free (m[i]);
  g_free (x);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/conv-input-bn/apply-vs-forward", test_apply_vs_forward);
  g_test_add_func ("/nn/conv-input-bn/fused-vs-reference", test_fused_vs_reference);
  g_test_add_func ("/nn/conv-input-bn/model-deferred-maps", test_model_deferred_maps);
  return g_test_run ();
}
