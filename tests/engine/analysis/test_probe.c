/* The ridge linear probe: separable data is separated, noise stays at chance, scale does not matter. */
#include <glib.h>
#include <math.h>

#include "engine/analysis/cl_probe.h"
#include "engine/base/cl_rng.h"

static void
make_blobs (ClRng *rng, int n, int dim, int classes, double separation, double scale0, float *x, uint8_t *y)
{
  for (int i = 0; i < n; i++)
    {
      int c = (int) cl_rng_below (rng, (uint32_t) classes);
      y[i] = (uint8_t) c;
      for (int j = 0; j < dim; j++)
        {
          /* Class c has its mean shifted along axis c. */
          double v = cl_rng_normal (rng) + (j == c ? separation : 0.0);
          x[(size_t) i * dim + j] = (float) (j == 0 ? v * scale0 : v);
        }
    }
}

static double
probe (int n_train, int n_test, int dim, int classes, double separation, double scale0, uint64_t seed)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, 1);
  float *xtr = g_new (float, (size_t) n_train * dim), *xte = g_new (float, (size_t) n_test * dim);
  uint8_t *ytr = g_new (uint8_t, n_train), *yte = g_new (uint8_t, n_test);
  make_blobs (&rng, n_train, dim, classes, separation, scale0, xtr, ytr);
  make_blobs (&rng, n_test, dim, classes, separation, scale0, xte, yte);
  double *ws = g_new (double, cl_probe_workspace_doubles (dim, classes));
  double acc = cl_probe_ridge (xtr, ytr, n_train, xte, yte, n_test, dim, classes, 1e-3, ws);
  g_free (xtr);
  g_free (xte);
  g_free (ytr);
  g_free (yte);
  g_free (ws);
  return acc;
}

static void
test_separable (void)
{
  double acc = probe (2000, 2000, 16, 4, 6.0, 1.0, 1);
  g_test_message ("separable accuracy %.4f", acc);
  g_assert_cmpfloat (acc, >, 0.98);
}

static void
test_noise_is_chance (void)
{
  /* separation 0: labels carry nothing; 4 balanced classes -> 0.25 +- a few sigma (sigma ~ 0.01). */
  double acc = probe (2000, 4000, 16, 4, 0.0, 1.0, 2);
  g_test_message ("noise accuracy %.4f", acc);
  g_assert_cmpfloat (fabs (acc - 0.25), <, 0.04);
}

static void
test_scale_invariant (void)
{
  /* The informative axis 0 is scaled by 1e4 (and the rest are informative too): standardising
   * means the same accuracy whatever the scale. */
  double a = probe (1500, 1500, 8, 3, 2.0, 1.0, 3);
  double b = probe (1500, 1500, 8, 3, 2.0, 1e4, 3);
  g_test_message ("accuracy at scale 1: %.4f, at scale 1e4: %.4f", a, b);
  g_assert_cmpfloat (fabs (a - b), <, 0.01);
  g_assert_cmpfloat (a, >, 0.6);
}

static void
test_dead_feature (void)
{
  /* A constant feature (a dead ReLU unit) must not break the solve. */
  int n = 500, dim = 4;
  float *x = g_new0 (float, (size_t) n * dim);
  uint8_t *y = g_new (uint8_t, n);
  for (int i = 0; i < n; i++)
    {
      y[i] = (uint8_t) (i % 2);
      x[(size_t) i * dim + 1] = y[i] ? 1.0f : -1.0f;
      x[(size_t) i * dim + 2] = 7.0f; /* constant */
    }
  double *ws = g_new (double, cl_probe_workspace_doubles (dim, 2));
  double acc = cl_probe_ridge (x, y, n, x, y, n, dim, 2, 1e-3, ws);
  g_assert_cmpfloat (acc, ==, 1.0);
  g_free (x);
  g_free (y);
  g_free (ws);
}

/* Fitting several targets at once gives exactly what fitting each alone gives. */
static void
test_multi_matches_single (void)
{
  int n = 1200, dim = 10;
  ClRng rng;
  cl_rng_seed (&rng, 9, 1);
  float *x = g_new (float, (size_t) n * dim);
  uint8_t *y = g_new (uint8_t, n), *bit = g_new (uint8_t, n);
  make_blobs (&rng, n, dim, 5, 2.0, 1.0, x, y);
  for (int i = 0; i < n; i++)
    bit[i] = (uint8_t) (x[(size_t) i * dim + 7] > 0.3f); /* learnable binary target */
  int half = n / 2;
  uint8_t *ytr = y, *yte = y + half, *btr = bit, *bte = bit + half;
  const float *xtr = x, *xte = x + (size_t) half * dim;
  double *ws = g_new (double, cl_probe_workspace_doubles (dim, 7));
  double single_y = cl_probe_ridge (xtr, ytr, half, xte, yte, half, dim, 5, 1e-3, ws);
  double single_b = cl_probe_ridge (xtr, btr, half, xte, bte, half, dim, 2, 1e-3, ws);
  const uint8_t *train_y[] = { ytr, btr }, *test_y[] = { yte, bte };
  int classes[] = { 5, 2 };
  double acc[2];
  g_assert_true (cl_probe_ridge_multi (xtr, half, xte, half, dim, 2, train_y, test_y, classes, 1e-3, ws, acc));
  g_test_message ("class %.4f bit %.4f", acc[0], acc[1]);
  g_assert_cmpfloat (acc[0], ==, single_y);
  g_assert_cmpfloat (acc[1], ==, single_b);
  g_assert_cmpfloat (acc[1], >, 0.9);
  g_free (x);
  g_free (y);
  g_free (bit);
  g_free (ws);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/probe/separable", test_separable);
  g_test_add_func ("/probe/noise-is-chance", test_noise_is_chance);
  g_test_add_func ("/probe/scale-invariant", test_scale_invariant);
  g_test_add_func ("/probe/dead-feature", test_dead_feature);
  g_test_add_func ("/probe/multi-matches-single", test_multi_matches_single);
  return g_test_run ();
}
