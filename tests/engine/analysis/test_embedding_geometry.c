/* Batch geometry: against a direct double-precision evaluation, and its known limits. */
#include <glib.h>
#include <math.h>

#include "engine/analysis/cl_embedding_geometry.h"
#include "engine/base/cl_rng.h"

static void
reference (const float *z, int n, int d, ClGeometry *g)
{
  int rows = 2 * n;
  double *zn = g_new (double, (size_t) rows *d);
  for (int i = 0; i < rows; i++)
    {
      double s = 0;
      for (int k = 0; k < d; k++)
        s += (double) z[i * d + k] * z[i * d + k];
      for (int k = 0; k < d; k++)
        zn[i * d + k] = z[i * d + k] / sqrt (s);
    }
  g->alignment = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      g->alignment += pow (zn[i * d + k] - zn[(n + i) * d + k], 2) / n;
  int m = MIN (n, CL_GEOMETRY_MAX_ROWS);
  double sum = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++)
      if (i != j)
        {
          double dist2 = 0;
          for (int k = 0; k < d; k++)
            dist2 += pow (zn[i * d + k] - zn[j * d + k], 2);
          sum += exp (-2 * dist2);
        }
  g->uniformity = log (sum / (m * (m - 1.0)));
  g->z_std = 0;
  for (int k = 0; k < d; k++)
    {
      double mean = 0, var = 0;
      for (int i = 0; i < rows; i++)
        mean += zn[i * d + k] / rows;
      for (int i = 0; i < rows; i++)
        var += pow (zn[i * d + k] - mean, 2) / rows;
      g->z_std += sqrt (var) / d;
    }
  g_free (zn);
}

static void
check_random (int n, int d, uint64_t seed)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, 7);
  float *z = g_new (float, (size_t) 2 * n * d);
  for (int i = 0; i < 2 * n * d; i++)
    z[i] = (float) cl_rng_normal (&rng);
  /* Make view 2 a noisy copy of view 1, so alignment is small but not zero. */
  for (int i = 0; i < n * d; i++)
    z[n * d + i] = z[i] + 0.3f * (float) cl_rng_normal (&rng);
  float *ws = g_new (float, cl_geometry_workspace_floats (n, d));
  ClGeometry got, want;
  cl_geometry (z, n, d, ws, &got);
  reference (z, n, d, &want);
  g_assert_cmpfloat (fabs (got.alignment - want.alignment), <, 1e-5 * (1 + want.alignment));
  g_assert_cmpfloat (fabs (got.uniformity - want.uniformity), <, 1e-4);
  g_assert_cmpfloat (fabs (got.z_std - want.z_std), <, 1e-5);
  /* Gaussian directions are uniform on the sphere: per-dimension std close to 1/sqrt(d). */
  if (2 * n >= 200)
    g_assert_cmpfloat (fabs (got.z_std * sqrt (d) - 1.0), <, 0.1);
  g_free (z);
  g_free (ws);
}

static void
test_against_reference (void)
{
  check_random (8, 3, 1);
  check_random (100, 16, 2);
  check_random (600, 32, 3); /* more rows than the uniformity subsample */
}

static void
test_collapse (void)
{
  int n = 50, d = 8;
  float *z = g_new (float, (size_t) 2 * n * d);
  for (int i = 0; i < 2 * n; i++)
    for (int k = 0; k < d; k++)
      z[i * d + k] = (float) (k + 1) * (1.0f + (float) i); /* same direction, different lengths */
  float *ws = g_new (float, cl_geometry_workspace_floats (n, d));
  ClGeometry g;
  cl_geometry (z, n, d, ws, &g);
  g_assert_cmpfloat (g.alignment, <, 1e-10);
  g_assert_cmpfloat (fabs (g.uniformity), <, 1e-5);
  g_assert_cmpfloat (g.z_std, <, 1e-6);
  g_free (z);
  g_free (ws);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/against-reference", test_against_reference);
  g_test_add_func ("/metrics/collapse", test_collapse);
  return g_test_run ();
}
