/* Input planes the model skips: a model told how many input channels are active, or which planes
 * are constant, gives the same outputs, gradients and updates as the full model on the same
 * input (ModelPair), and is faster (reported under -m perf). */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "tests/engine/nn/nn_test_util.h"
#include "tests/engine/nn/model_test_util.h"

/* Two models compared step by step (a under test, b the reference), each with a LARS optimizer
 * over the same layers. */
typedef struct
{
  ClModel *a, *b;
  ClOptimizer *oa, *ob;
  size_t np, nd, nbuf;
  size_t starts[8], counts[8];
  int n_layers;
} ModelPair;

static void
model_pair_init (ModelPair *p, ClModel *a, ClModel *b)
{
  p->a = a;
  p->b = b;
  p->np = cl_model_num_params (a);
  p->nd = cl_model_num_decay_params (a);
  p->nbuf = cl_model_num_buffers (a);
  p->n_layers = cl_model_kernel_ranges (a, p->starts, p->counts, 8);
  p->oa = cl_optimizer_new (CL_OPTIMIZER_LARS, p->np, p->nd);
  p->ob = cl_optimizer_new (CL_OPTIMIZER_LARS, p->np, p->nd);
  cl_optimizer_set_layers (p->oa, p->n_layers, p->starts, p->counts);
  cl_optimizer_set_layers (p->ob, p->n_layers, p->starts, p->counts);
}

/* Every layer's gradient, the other parameters' and the buffers agree after backward. */
static void
model_pair_assert_grads (const ModelPair *p)
{
  ClModel *a = p->a, *b = p->b;
  for (int l = 0; l < p->n_layers; l++)
    g_assert_cmpfloat (rel_diff (cl_model_grads (a) + p->starts[l], cl_model_grads (b) + p->starts[l], p->counts[l]),
                       <=, 1e-4);
  g_assert_cmpfloat (rel_diff (cl_model_grads (a) + p->nd, cl_model_grads (b) + p->nd, p->np - p->nd), <=, 1e-4);
  g_assert_cmpfloat (rel_diff (cl_model_buffers (a), cl_model_buffers (b), p->nbuf), <=, 1e-5);
}

/* A LARS step of both agrees; then a takes b's state, so the next step starts from equal footing. */
static void
model_pair_step (ModelPair *p)
{
  cl_optimizer_step (p->oa, cl_model_params (p->a), cl_model_grads (p->a), 0.5f, 1e-3f);
  cl_optimizer_step (p->ob, cl_model_params (p->b), cl_model_grads (p->b), 0.5f, 1e-3f);
  g_assert_cmpfloat (rel_diff (cl_model_params (p->a), cl_model_params (p->b), p->np), <=, 1e-5);
  g_assert_true (cl_model_copy_weights (p->a, p->b));
}

/* Evaluation of a on xa agrees with b on xb. */
static void
model_pair_assert_embed (const ModelPair *p, const float *xa, const float *xb, int n, int rep_dim)
{
  float *ya = g_new (float, (size_t) n *rep_dim), *yb = g_new (float, (size_t) n *rep_dim);
  cl_model_embed (p->a, xa, n, ya);
  cl_model_embed (p->b, xb, n, yb);
  g_assert_cmpfloat (rel_diff (ya, yb, (size_t) n * rep_dim), <=, 1e-5);
  g_free (ya);
  g_free (yb);
}

static void
model_pair_clear (ModelPair *p)
{
  cl_optimizer_free (p->oa);
  cl_optimizer_free (p->ob);
  cl_model_free (p->a);
  cl_model_free (p->b);
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

  const size_t k1 = 9 * (size_t) spec.in_channels; /* conv1 weights per output channel */
  ModelPair pair;
  model_pair_init (&pair, a, b);

  ClRng rng;
  cl_rng_seed (&rng, 61, TEST_STREAM);
  const int n = 20, d = cl_model_out_dim (a);
  float *r = g_new (float, (size_t) n *d);
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
      model_pair_assert_grads (&pair);
      /* conv1's gradient is zero exactly on the inactive channels and not all zero on the active ones. */
      const float *g = cl_model_grads (a);
      double active_norm = 0.0;
      for (size_t o = 0; o < pair.counts[0] / k1; o++)
        for (size_t j = 0; j < k1; j++)
          {
            if (j >= 9 * (size_t) active)
              g_assert_cmpfloat (g[o * k1 + j], ==, 0.0f);
            else
              active_norm += fabs (g[o * k1 + j]);
          }
      g_assert_cmpfloat (active_norm, >, 0.0);
      model_pair_step (&pair);
      /* Evaluation reads the active planes only as well. */
      memcpy (x_nan, x, sizeof (float) * n * spec.in_channels * 28 * 28);
      fill_inactive (x_nan, &spec, n, active, FALSE);
      model_pair_assert_embed (&pair, x_nan, x, n, spec.rep_dim);
      g_free (x);
      g_free (x_nan);
    }
  g_free (r);
  model_pair_clear (&pair);
}

/* Sets every pixel but pixel 0 of the planes first .. in_channels - 1 to NaN: a model folding
 * constant planes reads only pixel 0 of them. */
static void
nan_constant_planes (float *x, const ClModelSpec *spec, int n, int first)
{
  const size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = first; c < spec->in_channels; c++)
      for (size_t j = 1; j < plane; j++)
        x[((size_t) i * spec->in_channels + c) * plane + j] = NAN;
}

/* Constant planes folded out of conv1 against the full convolution, step by step (forward,
 * backward, LARS, evaluation), as the active count changes, for the valid convn and the padded
 * convn-same (whose border pixels see only part of the planes). */
static void
test_model_constant_planes (void)
{
  for (int arch = 0; arch < 2; arch++)
    {
      ClModelSpec spec = arch == 0 ? small_spec (25, 28, 28, 2, 20) : small_spec (9, 21, 18, 2, 20);
      if (arch == 1)
        spec.arch = "convn-same";
      ClModel *a = cl_model_new (&spec, 78, NULL);
      ClModel *b = cl_model_new (&spec, 78, NULL);
      g_assert_nonnull (a);
      g_assert_nonnull (b);
      g_assert_cmpint (cl_model_constant_input_planes (a), ==, 0);
      cl_model_set_constant_input_planes (a, 1);
      g_assert_cmpint (cl_model_constant_input_planes (a), ==, 1);
      const size_t nx = (size_t) spec.in_channels * spec.height * spec.width;
      const size_t k1 = 9 * (size_t) spec.in_channels;
      ModelPair pair;
      model_pair_init (&pair, a, b);
      ClRng rng;
      cl_rng_seed (&rng, 62 + arch, TEST_STREAM);
      const int n = 20, d = cl_model_out_dim (a);
      float *r = g_new (float, (size_t) n *d);
      const int schedule[] = { spec.in_channels, 1, 5, spec.in_channels, 3 };
      for (size_t step = 0; step < G_N_ELEMENTS (schedule); step++)
        {
          const int active = schedule[step];
          float *x = random_views (&rng, &spec, n);
          fill_inactive (x, &spec, n, active, TRUE);
          float *x_nan = g_memdup2 (x, sizeof (float) * n * nx);
          fill_inactive (x_nan, &spec, n, active, FALSE);
          nan_constant_planes (x_nan, &spec, n, 1);
          fill_uniform (&rng, r, (size_t) n * d, -1, 1);
          cl_model_set_active_input_channels (a, active);
          cl_model_set_active_input_channels (b, active);
          const float *za = cl_model_forward (a, x_nan, n, TRUE);
          const float *zb = cl_model_forward (b, x, n, TRUE);
          g_assert_cmpfloat (rel_diff (za, zb, (size_t) n * d), <=, 1e-5);
          cl_model_backward (a, r);
          cl_model_backward (b, r);
          model_pair_assert_grads (&pair);
          /* conv1's gradient: exactly zero on the inactive channels, not all zero on the folded planes. */
          const float *g = cl_model_grads (a);
          double planes_norm = 0.0;
          for (size_t o = 0; o < pair.counts[0] / k1; o++)
            for (size_t j = 9; j < k1; j++)
              {
                if (j >= 9 * (size_t) active)
                  g_assert_cmpfloat (g[o * k1 + j], ==, 0.0f);
                else
                  planes_norm += fabs (g[o * k1 + j]);
              }
          if (active > 1)
            g_assert_cmpfloat (planes_norm, >, 0.0);
          model_pair_step (&pair);
          /* Evaluation folds the planes too. */
          model_pair_assert_embed (&pair, x_nan, x, n, spec.rep_dim);
          g_free (x);
          g_free (x_nan);
        }
      g_free (r);
      model_pair_clear (&pair);
    }
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
  float *r = g_new (float, (size_t) n *d);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/active-channels", test_model_active_channels);
  g_test_add_func ("/nn/model/constant-planes", test_model_constant_planes);
  if (g_test_perf ())
    g_test_add_func ("/nn/model/active-channels-cost", test_model_active_channels_cost);
  return g_test_run ();
}
