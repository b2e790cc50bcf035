/* The model (engine/nn/cl_model.c): shapes, bad specs, determinism, input copying, evaluation and
 * embedding, and the same numbers for any thread count. Gradients are checked in
 * test_model_gradcheck.c, skipped input planes in test_model_planes.c; the layers have their own
 * tests beside them (test_conv.c, test_batchnorm.c, test_dense.c, test_relu.c, ...). */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "tests/engine/nn/nn_test_util.h"
#include "tests/engine/nn/model_test_util.h"

static void
test_model_deep_shapes (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = "convn-deep";
  spec.height = spec.width = 64;
  spec.max_views = 2;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cl_model_spec (model)->arch, ==, "convn-deep");
  g_assert_cmpint (cl_model_num_conv_layers (model), ==, 6);
  static const int expect_hw[6] = { 32, 32, 16, 16, 8, 8 }, expect_c[6] = { 32, 32, 64, 64, 64, 64 };
  float *x = g_new0 (float, 2 * 64 * 64);
  cl_model_forward (model, x, 2, FALSE);
  for (int l = 0; l < 6; l++)
    {
      int c, h, w;
      g_assert_nonnull (cl_model_conv_activation (model, l, &c, &h, &w));
      g_assert_cmpint (c, ==, expect_c[l]);
      g_assert_cmpint (h, ==, expect_hw[l]);
      g_assert_cmpint (w, ==, expect_hw[l]);
    }
  /* The representation dense reads the last 8x8x64 map. */
  size_t size;
  cl_model_layer_output (model, 6, &size);
  g_assert_cmpuint (size, ==, 128);
  g_free (x);
  cl_model_free (model);
  /* An unknown name lists the known ones. */
  spec.arch = "convn-wide";
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_assert_nonnull (strstr (error->message, "convn-deep"));
  g_clear_error (&error);
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
  float *r = g_new (float, (size_t) n *d);
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
  float *r = g_new (float, (size_t) n *d);
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

  float *y = g_new (float, (size_t) n *rep);
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
  float *y_copy = g_new (float, (size_t) n *rep);
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
  float *r = g_new (float, (size_t) n *d);
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
          float *r = g_new (float, (size_t) n *d);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/convn-same/shapes", test_model_same_shapes);
  g_test_add_func ("/nn/model/convn-deep/shapes", test_model_deep_shapes);
  g_test_add_func ("/nn/model/shapes", test_model_shapes);
  g_test_add_func ("/nn/model/bad-spec", test_model_bad_spec);
  g_test_add_func ("/nn/model/determinism", test_model_determinism);
  g_test_add_func ("/nn/model/input-copied", test_model_input_copied);
  g_test_add_func ("/nn/model/threads", test_model_threads);
  g_test_add_func ("/nn/model/threads-identical", test_model_threads_identical);
  g_test_add_func ("/nn/model/eval-and-embed", test_model_eval_and_embed);
  return g_test_run ();
}
