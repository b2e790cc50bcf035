/* Helpers shared by the k-means and cluster-score tests; see kmeans_test_util.h. */
#include "tests/engine/analysis/kmeans_test_util.h"

#include <glib.h>
#include <math.h>
#include "engine/analysis/cl_kmeans.h"
#include "engine/base/cl_rng.h"

/* ---------------------------------------------------------------- helpers */

float *
new_ws (size_t floats)
{
  /* Garbage, not zeros: results must not depend on what the workspace held. */
  float *ws = g_new (float, floats + 1);
  for (size_t i = 0; i <= floats; i++)
    ws[i] = (float) ((i * 2654435761u) % 1000) - 500.0f;
  return ws;
}

/* k blobs of the given sizes around centres drawn with |c| ~ spread, noise sigma per axis. */
void
make_blobs (int dim, int k, const int *sizes, double spread, double sigma, uint64_t seed, float *x, int *truth)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, 101);
  double *centre = g_new (double, (size_t) k *dim);
  for (int i = 0; i < k * dim; i++)
    centre[i] = spread * cl_rng_normal (&rng);
  int i = 0;
  for (int c = 0; c < k; c++)
    for (int s = 0; s < sizes[c]; s++, i++)
      {
        truth[i] = c;
        for (int d = 0; d < dim; d++)
          x[(size_t) i * dim + d] = (float) (centre[c * dim + d] + sigma * cl_rng_normal (&rng));
      }
  g_free (centre);
}

void
normalise_rows (float *x, int n, int dim)
{
  for (int i = 0; i < n; i++)
    {
      double s = 0;
      for (int d = 0; d < dim; d++)
        s += (double) x[(size_t) i * dim + d] * x[(size_t) i * dim + d];
      for (int d = 0; d < dim; d++)
        x[(size_t) i * dim + d] = (float) (x[(size_t) i * dim + d] / sqrt (s));
    }
}

double
dist2 (const float *a, const float *b, int dim)
{
  double s = 0;
  for (int d = 0; d < dim; d++)
    s += ((double) a[d] - b[d]) * ((double) a[d] - b[d]);
  return s;
}

int
count_distinct (const int *labels, int n)
{
  GHashTable *seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (int i = 0; i < n; i++)
    g_hash_table_add (seen, GINT_TO_POINTER (labels[i] + 1));
  int m = (int) g_hash_table_size (seen);
  g_hash_table_destroy (seen);
  return m;
}

/* What every cl_kmeans result must satisfy: ids in range, each point at its nearest centroid
 * (up to float rounding of the distance), inertia equal to its definition, canonical order. */
void
check_result (const float *x, int n, int dim, int k, int used, const int *labels, const float *cent, double inertia)
{
  g_assert_cmpint (used, >=, 1);
  g_assert_cmpint (used, <=, k);
  int *size = g_new0 (int, k);
  double sum = 0;
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (labels[i], >=, 0);
      g_assert_cmpint (labels[i], <, used);
      size[labels[i]]++;
      const float *xi = x + (size_t) i * dim;
      double own = dist2 (xi, cent + (size_t) labels[i] * dim, dim);
      sum += own;
      for (int j = 0; j < used; j++)
        g_assert_cmpfloat (own, <=, dist2 (xi, cent + (size_t) j * dim, dim) + 1e-5 * (1 + own));
    }
  for (int j = 0; j < k; j++)
    {
      if (j < used)
        g_assert_cmpint (size[j], >, 0);
      else
        g_assert_cmpint (size[j], ==, 0);
      if (j > 0)
        g_assert_cmpint (size[j], <=, size[j - 1]);
    }
  g_assert_cmpfloat (fabs (inertia - sum), <=, 1e-9 * (1 + sum));
  g_free (size);
}

void
uniform_points (float *x, int n, int dim, uint64_t seed)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, 105);
  for (int i = 0; i < n * dim; i++)
    x[i] = (float) cl_rng_uniform (&rng);
}

/* ---------------------------------------------------------------- bisecting */

double
cluster_sse (const float *x, int n, int dim, const int *labels, int c)
{
  double sse = 0;
  int m = 0;
  double *mean = g_new0 (double, dim);
  for (int i = 0; i < n; i++)
    if (labels == NULL || labels[i] == c)
      {
        m++;
        for (int d = 0; d < dim; d++)
          mean[d] += x[(size_t) i * dim + d];
      }
  for (int i = 0; i < n; i++)
    if (labels == NULL || labels[i] == c)
      for (int d = 0; d < dim; d++)
        sse += pow (x[(size_t) i * dim + d] - mean[d] / m, 2);
  g_free (mean);
  return sse;
}

/* The tree contract: ids 0..k-1 all used, parents as documented, children refine parents,
 * the split leaf is the one with the largest SSE, and the larger child keeps the id. */
void
check_tree (const float *x, int n, int dim, int kmax, int leaves, const int *lab, const int *par)
{
  for (int k = 2; k <= kmax; k++)
    {
      const int *row = lab + (size_t) (k - 2) * n, *prow = par + (size_t) (k - 2) * kmax;
      const int *prev = k > 2 ? row - n : NULL;
      int have = MIN (k, leaves);
      g_assert_cmpint (count_distinct (row, n), ==, have);
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpint (row[i], >=, 0);
          g_assert_cmpint (row[i], <, have);
          g_assert_cmpint (prow[row[i]], ==, prev ? prev[i] : 0);
        }
      for (int c = 0; c < kmax; c++)
        {
          if (c >= have)
            g_assert_cmpint (prow[c], ==, -1);
          else if (c < k - 1)
            g_assert_cmpint (prow[c], ==, c);
        }
      /* Ancestors at every coarser k (as a view with columns k = 2, 4, 8 needs them). */
      int *anc = g_new (int, k);
      for (int kc = 1; kc <= k; kc++)
        {
          cl_kmeans_bisect_ancestors (par, kmax, kc, k, anc);
          const int *crow = kc >= 2 ? lab + (size_t) (kc - 2) * n : NULL;
          for (int c = 0; c < k; c++)
            if (c >= have)
              g_assert_cmpint (anc[c], ==, -1);
          for (int i = 0; i < n; i++)
            g_assert_cmpint (anc[row[i]], ==, crow ? crow[i] : 0);
        }
      g_free (anc);
      if (k > leaves)
        continue;
      int split = prow[k - 1];
      g_assert_cmpint (split, >=, 0);
      g_assert_cmpint (split, <, k - 1);
      double split_sse = cluster_sse (x, n, dim, prev, split);
      for (int c = 0; c < k - 1; c++)
        g_assert_cmpfloat (cluster_sse (x, n, dim, prev, c), <=, split_sse * (1 + 1e-9));
      int kept = 0, moved = 0;
      for (int i = 0; i < n; i++)
        {
          kept += row[i] == split;
          moved += row[i] == k - 1;
        }
      g_assert_cmpint (kept, >=, moved);
    }
}
