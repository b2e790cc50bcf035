/* GEMM on the conv microkernels (cl_gemm.h): against a loop in double, the backward against its
 * definition, and the same bits for every thread count and every microkernel set. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/nn/cl_gemm.h"
#include "tests/engine/nn/nn_test_util.h"

/* C = A B^T, dB = dC^T A, dA = dC B in double. */
static void
gemm_ref (int m, int n, int k, const float *a, const float *b, const float *dc, double *c, double *db, double *da)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double s = 0.0;
        for (int t = 0; t < k; t++)
          s += (double) a[(size_t) i * k + t] * b[(size_t) j * k + t];
        c[(size_t) i * n + j] = s;
      }
  for (int j = 0; j < n; j++)
    for (int t = 0; t < k; t++)
      {
        double s = 0.0;
        for (int i = 0; i < m; i++)
          s += (double) dc[(size_t) i * n + j] * a[(size_t) i * k + t];
        db[(size_t) j * k + t] = s;
      }
  for (int i = 0; i < m; i++)
    for (int t = 0; t < k; t++)
      {
        double s = 0.0;
        for (int j = 0; j < n; j++)
          s += (double) dc[(size_t) i * n + j] * b[(size_t) j * k + t];
        da[(size_t) i * k + t] = s;
      }
}

static double
max_diff_d (const float *a, const double *b, size_t count)
{
  double w = 0.0;
  for (size_t i = 0; i < count; i++)
    w = MAX (w, fabs (a[i] - b[i]));
  return w;
}

typedef struct
{
  int m, n, k;
  float *a, *b, *dc;
} GemmCase;

static void
run_case (const GemmCase *g, float *c, float *db, float *da)
{
  cl_gemm_nt (g->m, g->n, g->k, g->a, g->b, c);
  cl_gemm_nt_backward (g->m, g->n, g->k, g->a, g->b, g->dc, db, da);
}

static void
test_gemm_vs_reference (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 31, TEST_STREAM);
  char *saved = g_strdup (cl_conv_kernels_name ());
  const gboolean micro = cl_gemm_uses_microkernels ();
  g_test_message ("microkernels: %s", micro ? cl_conv_kernels_name () : "none (cblas_sgemm)");
  for (int trial = 0; trial < 40; trial++)
    {
      GemmCase g = { 1 + (int) cl_rng_below (&rng, 130),
                     1 + (int) cl_rng_below (&rng, 70),
                     1 + (int) cl_rng_below (&rng, 90),
                     NULL,
                     NULL,
                     NULL };
      if (trial == 0)
        g.m = 512, g.n = 128, g.k = 256; /* the representation dense layer at batch 256 */
      g.a = g_new (float, (size_t) g.m *g.k);
      g.b = g_new (float, (size_t) g.n *g.k);
      g.dc = g_new (float, (size_t) g.m *g.n);
      fill_uniform (&rng, g.a, (size_t) g.m * g.k, -1, 1);
      fill_uniform (&rng, g.b, (size_t) g.n * g.k, -1, 1);
      fill_uniform (&rng, g.dc, (size_t) g.m * g.n, -1, 1);
      const size_t nc = (size_t) g.m * g.n, nb = (size_t) g.n * g.k, na = (size_t) g.m * g.k;
      float *c = g_new (float, nc), *db = g_new (float, nb), *da = g_new (float, na);
      double *cr = g_new (double, nc), *dbr = g_new (double, nb), *dar = g_new (double, na);
      /* Stale outputs must be overwritten. */
      fill_uniform (&rng, c, nc, -9, 9);
      fill_uniform (&rng, db, nb, -9, 9);
      fill_uniform (&rng, da, na, -9, 9);
      cl_layers_set_threads (1);
      run_case (&g, c, db, da);
      gemm_ref (g.m, g.n, g.k, g.a, g.b, g.dc, cr, dbr, dar);
      g_assert_cmpfloat (max_diff_d (c, cr, nc), <=, 1e-5 * g.k);
      g_assert_cmpfloat (max_diff_d (db, dbr, nb), <=, 1e-5 * g.m);
      g_assert_cmpfloat (max_diff_d (da, dar, na), <=, 1e-5 * g.n);
      /* Same bits on 2..4 threads, and with every microkernel set the CPU runs. */
      static const char *const sets[] = { "avx512", "avx2", "reference" };
      float *c2 = g_new (float, nc), *db2 = g_new (float, nb), *da2 = g_new (float, na);
      for (int v = 0; v < 6; v++)
        {
          if (v < 3)
            cl_layers_set_threads (2 + v);
          else
            {
              cl_layers_set_threads (1 + v % 2);
              if (!micro || !cl_conv_set_kernels (sets[v - 3]))
                continue;
            }
          run_case (&g, c2, db2, da2);
          g_assert_cmpmem (c, sizeof (float) * nc, c2, sizeof (float) * nc);
          g_assert_cmpmem (db, sizeof (float) * nb, db2, sizeof (float) * nb);
          g_assert_cmpmem (da, sizeof (float) * na, da2, sizeof (float) * na);
        }
      g_assert_true (cl_conv_set_kernels (saved));
      cl_layers_set_threads (1);
      /* Either output alone gives the same bits. */
      float *only = g_new (float, MAX (na, nb));
      cl_gemm_nt_backward (g.m, g.n, g.k, g.a, g.b, g.dc, NULL, only);
      g_assert_cmpmem (da, sizeof (float) * na, only, sizeof (float) * na);
      cl_gemm_nt_backward (g.m, g.n, g.k, g.a, g.b, g.dc, only, NULL);
      g_assert_cmpmem (db, sizeof (float) * nb, only, sizeof (float) * nb);
      g_free (only);
      g_free (c2);
      g_free (db2);
      g_free (da2);
      g_free (c);
      g_free (db);
      g_free (da);
      g_free (cr);
      g_free (dbr);
      g_free (dar);
      g_free (g.a);
      g_free (g.b);
      g_free (g.dc);
    }
  g_free (saved);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  openblas_set_num_threads (1);
  g_test_add_func ("/nn/gemm/vs-reference", test_gemm_vs_reference);
  return g_test_run ();
}
