/* K-means, bisecting k-means and the cluster scores: scores against exact oracle fixtures
 * (tests/fixtures/make_kmeans_fixtures.py), clustering against planted structure, exhaustive
 * optima and its own invariants. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "engine/analysis/cl_kmeans.h"
#include "engine/base/cl_rng.h"
#include "tests/fixtures/kmeans_fixtures.h"

/* ---------------------------------------------------------------- helpers */

static float *
new_ws (size_t floats)
{
  /* Garbage, not zeros: results must not depend on what the workspace held. */
  float *ws = g_new (float, floats + 1);
  for (size_t i = 0; i <= floats; i++)
    ws[i] = (float) ((i * 2654435761u) % 1000) - 500.0f;
  return ws;
}

/* k blobs of the given sizes around centres drawn with |c| ~ spread, noise sigma per axis. */
static void
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

static void
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

static double
dist2 (const float *a, const float *b, int dim)
{
  double s = 0;
  for (int d = 0; d < dim; d++)
    s += ((double) a[d] - b[d]) * ((double) a[d] - b[d]);
  return s;
}

static int
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
static void
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

/* ---------------------------------------------------------------- ARI */

static void
test_ari_fixtures (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (cl_ari_fixtures); c++)
    {
      const ClAriFixture *f = &cl_ari_fixtures[c];
      double got = cl_adjusted_rand_index (f->a, f->b, f->n);
      double swapped = cl_adjusted_rand_index (f->b, f->a, f->n);
      if (fabs (got - f->ari) > 1e-12 || fabs (swapped - f->ari) > 1e-12)
        g_error ("ARI fixture %s: got %.17g (swapped %.17g), want %.17g", f->name, got, swapped, f->ari);
    }
}

static void
test_ari_permutation (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 5, 102);
  int n = 3000, ka = 7, kb = 5;
  int *a = g_new (int, n), *b = g_new (int, n), *pa = g_new (int, n), *pb = g_new (int, n);
  int map_a[7] = { 40, -3, 7, 1000, 2, 9, 0 }, map_b[5] = { 4, 3, 2, 1, 0 };
  for (int i = 0; i < n; i++)
    {
      a[i] = (int) cl_rng_below (&rng, ka);
      /* Correlated, so ARI is far from both 0 and 1 and a renaming error would show. */
      b[i] = cl_rng_uniform (&rng) < 0.6 ? a[i] % kb : (int) cl_rng_below (&rng, kb);
      pa[i] = map_a[a[i]];
      pb[i] = map_b[b[i]];
    }
  double base = cl_adjusted_rand_index (a, b, n);
  g_assert_cmpfloat (base, >, 0.1);
  g_assert_cmpfloat (base, <, 0.9);
  g_assert_cmpfloat_with_epsilon (cl_adjusted_rand_index (pa, pb, n), base, 1e-14);
  g_assert_cmpfloat_with_epsilon (cl_adjusted_rand_index (pa, b, n), base, 1e-14);
  g_assert_cmpfloat_with_epsilon (cl_adjusted_rand_index (b, pa, n), base, 1e-14);
  g_assert_cmpfloat (cl_adjusted_rand_index (a, a, n), ==, 1.0);
  g_assert_cmpfloat (cl_adjusted_rand_index (a, pa, n), ==, 1.0);
  g_assert_cmpfloat (cl_adjusted_rand_index (NULL, NULL, 0), ==, 1.0);
  g_free (a);
  g_free (b);
  g_free (pa);
  g_free (pb);
}

static void
test_ari_independent (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 6, 103);
  int n = 200000;
  int *a = g_new (int, n), *b = g_new (int, n);
  for (int i = 0; i < n; i++)
    {
      a[i] = (int) cl_rng_below (&rng, 4);
      b[i] = (int) cl_rng_below (&rng, 6);
    }
  double ari = cl_adjusted_rand_index (a, b, n);
  g_test_message ("ARI of independent labels, n=%d: %.3g", n, ari);
  /* Its spread is O(1/n) (the fixtures show ~1e-3 at n = 500); the unadjusted Rand index
   * of these labels would be ~0.6. */
  g_assert_cmpfloat (fabs (ari), <, 2e-4);
  g_free (a);
  g_free (b);
}

static void
test_foreground_ari_fixtures (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (cl_fg_ari_fixtures); c++)
    {
      const ClFgAriFixture *f = &cl_fg_ari_fixtures[c];
      double got = cl_foreground_ari (f->labels, f->instances, f->n);
      gboolean ok = isnan (f->ari) ? isnan (got) : fabs (got - f->ari) <= 1e-12;
      if (!ok)
        g_error ("foreground ARI fixture %s: got %.17g, want %.17g", f->name, got, f->ari);
    }
}

/* ---------------------------------------------------------------- best-union IoU */

static double
iou_of_set (const int *labels, const uint8_t *fg, int n, const uint8_t *in_union, int k)
{
  int inter = 0, uni = 0;
  for (int i = 0; i < n; i++)
    {
      int in = labels[i] >= 0 && labels[i] < k && in_union[labels[i]];
      inter += in && fg[i];
      uni += in || fg[i];
    }
  return uni ? (double) inter / uni : NAN;
}

static void
test_iou_fixtures (void)
{
  for (gsize c = 0; c < G_N_ELEMENTS (cl_iou_fixtures); c++)
    {
      const ClIouFixture *f = &cl_iou_fixtures[c];
      uint8_t in_union[16];
      g_assert_cmpint (f->k, <=, 16);
      double got = cl_best_union_iou (f->labels, f->k, f->foreground, f->n);
      double got_set = cl_best_union_iou_set (f->labels, f->k, f->foreground, f->n, in_union);
      gboolean ok = isnan (f->iou)
                        ? isnan (got) && isnan (got_set)
                        : fabs (got - f->iou) <= 1e-12 && got_set == got &&
                              fabs (iou_of_set (f->labels, f->foreground, f->n, in_union, f->k) - got) <= 1e-12;
      if (!ok)
        g_error ("IoU fixture %s: got %.17g (set variant %.17g), want %.17g", f->name, got, got_set, f->iou);
    }
}

/* Many more random cases against a brute force over all subsets, including skewed fractions
 * where a "fraction > 1/2" rule or a greedy-by-size choice would be wrong. */
static void
test_iou_brute_force (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 8, 104);
  enum
  {
    N = 120
  };
  int labels[N];
  uint8_t fg[N], in_union[10], set[10];
  for (int trial = 0; trial < 300; trial++)
    {
      int k = 1 + (int) cl_rng_below (&rng, 10);
      double frac[10];
      for (int c = 0; c < k; c++)
        frac[c] = pow (cl_rng_uniform (&rng), 1 + trial % 3);
      int any = 0;
      for (int i = 0; i < N; i++)
        {
          labels[i] = (int) cl_rng_below (&rng, (uint32_t) k);
          fg[i] = cl_rng_uniform (&rng) < frac[labels[i]];
          any |= fg[i];
        }
      if (!any)
        continue;
      double best = 0;
      for (int mask = 0; mask < 1 << k; mask++)
        {
          for (int c = 0; c < k; c++)
            set[c] = (mask >> c) & 1;
          best = MAX (best, iou_of_set (labels, fg, N, set, k));
        }
      double got = cl_best_union_iou_set (labels, k, fg, N, in_union);
      g_assert_cmpfloat_with_epsilon (got, best, 1e-12);
      g_assert_cmpfloat_with_epsilon (iou_of_set (labels, fg, N, in_union, k), best, 1e-12);
    }
}

/* ---------------------------------------------------------------- k-means */

static void
test_kmeans_blobs (void)
{
  /* Unequal sizes, so canonical ids (largest first) are checkable. */
  int sizes[5] = { 400, 250, 180, 120, 50 }, n = 1000, dim = 16, k = 5;
  float *x = g_new (float, (size_t) n *dim), *cent = g_new (float, (size_t) k *dim);
  int *truth = g_new (int, n), *labels = g_new (int, n);
  make_blobs (dim, k, sizes, 10.0, 0.3, 11, x, truth);
  float *ws = new_ws (cl_kmeans_workspace_floats (n, dim, k));
  double inertia;
  int used = cl_kmeans (x, n, dim, k, 4, 42, 100, labels, cent, &inertia, ws);
  g_assert_cmpint (used, ==, 5);
  g_assert_cmpfloat (cl_adjusted_rand_index (labels, truth, n), ==, 1.0);
  for (int i = 0; i < n; i++)
    g_assert_cmpint (labels[i], ==, truth[i]); /* sizes are distinct and already decreasing */
  check_result (x, n, dim, k, used, labels, cent, inertia);
  /* Each centroid is its blob's mean. */
  for (int c = 0, start = 0; c < k; start += sizes[c], c++)
    for (int d = 0; d < dim; d++)
      {
        double mean = 0;
        for (int i = start; i < start + sizes[c]; i++)
          mean += x[(size_t) i * dim + d];
        mean /= sizes[c];
        g_assert_cmpfloat (fabs (cent[c * dim + d] - mean), <=, 1e-5 * (1 + fabs (mean)));
      }
  g_free (ws);

  /* As the view uses it: unit vectors (L2-normalised channel vectors), 8 directions, dim 64. */
  int sizes8[8] = { 900, 700, 600, 500, 400, 300, 200, 100 };
  n = 3700;
  dim = 64;
  k = 8;
  g_free (x);
  g_free (truth);
  g_free (labels);
  x = g_new (float, (size_t) n *dim);
  truth = g_new (int, n);
  labels = g_new (int, n);
  make_blobs (dim, k, sizes8, 1.0, 0.04, 12, x, truth);
  normalise_rows (x, n, dim);
  ws = new_ws (cl_kmeans_workspace_floats (n, dim, k));
  used = cl_kmeans (x, n, dim, k, 4, 7, 100, labels, NULL, &inertia, ws);
  g_assert_cmpint (used, ==, 8);
  g_assert_cmpfloat (cl_adjusted_rand_index (labels, truth, n), ==, 1.0);
  g_free (ws);
  g_free (x);
  g_free (cent);
  g_free (truth);
  g_free (labels);
}

static void
uniform_points (float *x, int n, int dim, uint64_t seed)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, 105);
  for (int i = 0; i < n * dim; i++)
    x[i] = (float) cl_rng_uniform (&rng);
}

static void
test_kmeans_deterministic (void)
{
  int n = 700, dim = 5, k = 6;
  float *x = g_new (float, (size_t) n *dim);
  uniform_points (x, n, dim, 13);
  int *l1 = g_new (int, n), *l2 = g_new (int, n);
  float *c1 = g_new (float, (size_t) k *dim), *c2 = g_new (float, (size_t) k *dim);
  size_t wsn = cl_kmeans_workspace_floats (n, dim, k);
  float *ws1 = new_ws (wsn), *ws2 = new_ws (wsn);
  for (size_t i = 0; i < wsn; i++)
    ws2[i] = -ws2[i] * 3; /* different garbage */
  double i1, i2;
  int u1 = cl_kmeans (x, n, dim, k, 3, 99, 100, l1, c1, &i1, ws1);
  int u2 = cl_kmeans (x, n, dim, k, 3, 99, 100, l2, c2, &i2, ws2);
  g_assert_cmpint (u1, ==, u2);
  g_assert_cmpmem (l1, sizeof (int) * n, l2, sizeof (int) * n);
  g_assert_cmpmem (c1, sizeof (float) * k * dim, c2, sizeof (float) * k * dim);
  g_assert_cmpfloat (i1, ==, i2);
  check_result (x, n, dim, k, u1, l1, c1, i1);

  /* Other seeds: still valid local optima, and uniform data has several of them, so at least
   * one of a few seeds must land elsewhere (i.e. the seed is actually used). */
  gboolean differs = FALSE;
  for (uint64_t s = 100; s < 108; s++)
    {
      double is;
      int us = cl_kmeans (x, n, dim, k, 1, s, 100, l2, c2, &is, ws2);
      check_result (x, n, dim, k, us, l2, c2, is);
      differs |= is != i1;
    }
  g_assert_true (differs);
  g_free (x);
  g_free (l1);
  g_free (l2);
  g_free (c1);
  g_free (c2);
  g_free (ws1);
  g_free (ws2);
}

static void
test_kmeans_restarts (void)
{
  int n = 600, dim = 3, k = 9;
  float *x = g_new (float, (size_t) n *dim), *cent = g_new (float, (size_t) k *dim);
  int *labels = g_new (int, n);
  float *ws = new_ws (cl_kmeans_workspace_floats (n, dim, k));
  for (uint64_t seed = 0; seed < 4; seed++)
    {
      uniform_points (x, n, dim, 20 + seed);
      double prev = INFINITY, first = 0, inertia;
      for (int r = 1; r <= 10; r++)
        {
          int used = cl_kmeans (x, n, dim, k, r, seed, 200, labels, cent, &inertia, ws);
          check_result (x, n, dim, k, used, labels, cent, inertia);
          g_assert_cmpfloat (inertia, <=, prev);
          if (r == 1)
            first = inertia;
          prev = inertia;
        }
      g_test_message ("seed %" G_GUINT64_FORMAT ": inertia %.4f with 1 restart, %.4f with 10", seed, first, prev);
    }
  g_free (x);
  g_free (cent);
  g_free (labels);
  g_free (ws);
}

/* Converged runs are fixed points of Lloyd: each centroid is the mean of its points. */
static void
test_kmeans_fixed_point (void)
{
  int n = 400, dim = 7, k = 5;
  float *x = g_new (float, (size_t) n *dim), *cent = g_new (float, (size_t) k *dim);
  int *labels = g_new (int, n);
  uniform_points (x, n, dim, 31);
  float *ws = new_ws (cl_kmeans_workspace_floats (n, dim, k));
  double inertia;
  int used = cl_kmeans (x, n, dim, k, 2, 3, 1000, labels, cent, &inertia, ws);
  g_assert_cmpint (used, ==, k);
  check_result (x, n, dim, k, used, labels, cent, inertia);
  for (int c = 0; c < k; c++)
    for (int d = 0; d < dim; d++)
      {
        double mean = 0;
        int m = 0;
        for (int i = 0; i < n; i++)
          if (labels[i] == c)
            {
              mean += x[(size_t) i * dim + d];
              m++;
            }
        g_assert_cmpfloat (fabs (cent[c * dim + d] - mean / m), <=, 1e-6);
      }
  g_free (x);
  g_free (cent);
  g_free (labels);
  g_free (ws);
}

/* With enough restarts the kept run is the global optimum of a small problem, found here by
 * trying all 3^10 assignments. The points form a configuration with bad local optima. */
static void
test_kmeans_global_optimum (void)
{
  enum
  {
    N = 10,
    K = 3,
    DIM = 2
  };
  float x[N * DIM] = { 0, 0, 0.5f, 0.2f, 0.1f, 0.9f, 4, 4, 4.3f, 3.6f, 5, 4.5f, 9, 0, 9.5f, 0.4f, 8.8f, 1.1f, 2.5f, 2 };
  double best = INFINITY;
  int assign[N];
  for (int code = 0; code < 59049; code++)
    {
      int c = code;
      for (int i = 0; i < N; i++, c /= K)
        assign[i] = c % K;
      double sse = 0;
      for (int j = 0; j < K; j++)
        {
          double m[DIM] = { 0 };
          int cnt = 0;
          for (int i = 0; i < N; i++)
            if (assign[i] == j)
              {
                cnt++;
                for (int d = 0; d < DIM; d++)
                  m[d] += x[i * DIM + d];
              }
          for (int i = 0; i < N; i++)
            if (assign[i] == j)
              for (int d = 0; d < DIM; d++)
                sse += pow (x[i * DIM + d] - m[d] / cnt, 2);
        }
      best = MIN (best, sse);
    }
  int labels[N];
  float cent[K * DIM];
  float *ws = new_ws (cl_kmeans_workspace_floats (N, DIM, K));
  double inertia;
  int used = cl_kmeans (x, N, DIM, K, 10, 1, 100, labels, cent, &inertia, ws);
  check_result (x, N, DIM, K, used, labels, cent, inertia);
  g_assert_cmpfloat (fabs (inertia - best), <=, 1e-6 * best);
  g_free (ws);
}

/* k-means++ seeding is D^2 sampling: with max_iter = 0 and k = 2 the centroids are the two
 * sampled points. For points 0, 1, 3 the first is uniform and the second has probability
 * d^2 / sum d^2, so P({0,1}) = (1/10 + 1/5) / 3 = 0.1, P({0,3}) = (9/10 + 9/13) / 3,
 * P({1,3}) = (4/5 + 4/13) / 3. */
static void
test_kmeans_seeding_distribution (void)
{
  float x[3] = { 0, 1, 3 }, cent[2];
  int labels[3], hits[3] = { 0 }, trials = 20000;
  float *ws = new_ws (cl_kmeans_workspace_floats (3, 1, 2));
  for (int s = 0; s < trials; s++)
    {
      g_assert_cmpint (cl_kmeans (x, 3, 1, 2, 1, (uint64_t) s, 0, labels, cent, NULL, ws), ==, 2);
      float lo = MIN (cent[0], cent[1]), hi = MAX (cent[0], cent[1]);
      if (lo == 0 && hi == 1)
        hits[0]++;
      else if (lo == 0 && hi == 3)
        hits[1]++;
      else if (lo == 1 && hi == 3)
        hits[2]++;
      else
        g_error ("centres %g, %g are not two distinct data points", cent[0], cent[1]);
    }
  double want[3] = { 0.1, (0.9 + 9.0 / 13) / 3, (0.8 + 4.0 / 13) / 3 };
  for (int p = 0; p < 3; p++)
    {
      /* 5 standard deviations of a binomial frequency. */
      double tol = 5 * sqrt (want[p] * (1 - want[p]) / trials);
      g_assert_cmpfloat (fabs ((double) hits[p] / trials - want[p]), <=, tol);
    }
  g_free (ws);
}

static void
test_kmeans_edge_cases (void)
{
  /* k = 1: one cluster, centroid = mean, inertia = total SSE. */
  {
    float x[8] = { 1, 2, 3, 4, -1, 0, 5, 6 };
    int labels[4];
    float cent[2];
    double inertia;
    float *ws = new_ws (cl_kmeans_workspace_floats (4, 2, 1));
    g_assert_cmpint (cl_kmeans (x, 4, 2, 1, 3, 0, 100, labels, cent, &inertia, ws), ==, 1);
    for (int i = 0; i < 4; i++)
      g_assert_cmpint (labels[i], ==, 0);
    g_assert_cmpfloat_with_epsilon (cent[0], 2.0, 1e-6);
    g_assert_cmpfloat_with_epsilon (cent[1], 3.0, 1e-6);
    g_assert_cmpfloat_with_epsilon (inertia, 1 + 1 + 1 + 1 + 9 + 9 + 9 + 9, 1e-9);
    g_free (ws);
  }
  /* n < k: every point its own cluster, the rest empty. */
  {
    float x[6] = { 0, 0, 3, 0, 0, 4 };
    int labels[3];
    float cent[10];
    double inertia;
    float *ws = new_ws (cl_kmeans_workspace_floats (3, 2, 5));
    g_assert_cmpint (cl_kmeans (x, 3, 2, 5, 2, 1, 100, labels, cent, &inertia, ws), ==, 3);
    g_assert_cmpfloat (inertia, ==, 0.0);
    g_assert_cmpint (count_distinct (labels, 3), ==, 3);
    for (int i = 0; i < 3; i++)
      {
        g_assert_cmpint (labels[i], ==, i); /* equal sizes: ordered by first point */
        g_assert_cmpfloat (dist2 (x + 2 * i, cent + 2 * labels[i], 2), ==, 0.0);
      }
    g_free (ws);
  }
  /* Duplicates: 12 points, 3 distinct values (multiplicities 2, 6, 4), k = 5. */
  {
    float v[3] = { -2, 7, 1.5f };
    int mult_of[12] = { 0, 1, 1, 2, 1, 2, 1, 0, 2, 1, 2, 1 };
    float x[12];
    int labels[12];
    float cent[5];
    double inertia;
    for (int i = 0; i < 12; i++)
      x[i] = v[mult_of[i]];
    float *ws = new_ws (cl_kmeans_workspace_floats (12, 1, 5));
    g_assert_cmpint (cl_kmeans (x, 12, 1, 5, 3, 2, 100, labels, cent, &inertia, ws), ==, 3);
    g_assert_cmpfloat (inertia, ==, 0.0);
    int want[3] = { 2, 0, 1 }; /* by decreasing size: value 7 (6 points), 1.5 (4), -2 (2) */
    for (int i = 0; i < 12; i++)
      g_assert_cmpint (labels[i], ==, want[mult_of[i]]);
    g_assert_cmpfloat (cent[0], ==, 7.0f);
    g_assert_cmpfloat (cent[1], ==, 1.5f);
    g_assert_cmpfloat (cent[2], ==, -2.0f);
    g_free (ws);
  }
  /* All points identical: one cluster whatever k. */
  {
    float x[20 * 3];
    int labels[20];
    double inertia;
    for (int i = 0; i < 60; i++)
      x[i] = (i % 3) * 0.1f + 0.3f;
    float *ws = new_ws (cl_kmeans_workspace_floats (20, 3, 4));
    g_assert_cmpint (cl_kmeans (x, 20, 3, 4, 2, 3, 100, labels, NULL, &inertia, ws), ==, 1);
    g_assert_cmpfloat (inertia, ==, 0.0);
    for (int i = 0; i < 20; i++)
      g_assert_cmpint (labels[i], ==, 0);
    g_free (ws);
  }
  /* max_iter = 0: the k-means++ centres themselves (data points), labels nearest to them. */
  {
    int n = 200, dim = 4, k = 6;
    float *x = g_new (float, (size_t) n *dim), cent[24];
    int labels[200];
    double inertia;
    uniform_points (x, n, dim, 40);
    float *ws = new_ws (cl_kmeans_workspace_floats (n, dim, k));
    int used = cl_kmeans (x, n, dim, k, 1, 4, 0, labels, cent, &inertia, ws);
    check_result (x, n, dim, k, used, labels, cent, inertia);
    for (int j = 0; j < k; j++)
      {
        gboolean is_point = FALSE;
        for (int i = 0; i < n; i++)
          is_point |= dist2 (x + (size_t) i * dim, cent + j * dim, dim) == 0;
        g_assert_true (is_point);
      }
    g_free (x);
    g_free (ws);
  }
  /* A cluster emptied during Lloyd gets the farthest point. With k-means++ seeding this is rare;
   * this 2-D set (12 distinct points, k = 6) was found by search: without the re-seeding, seeds
   * 129 and 358 end with 5 clusters. Every seed must end with 6. */
  {
    float x[28] = { 8, 7, 6, 9, 9, 0, 4, 8, 4, 9, 6, 5, 0, 6, 4, 8, 4, 1, 2, 4, 7, 5, 2, 0, 3, 0, 3, 0 };
    int labels[14];
    float cent[12];
    double inertia;
    float *ws = new_ws (cl_kmeans_workspace_floats (14, 2, 6));
    for (uint64_t seed = 0; seed < 400; seed++)
      {
        int used = cl_kmeans (x, 14, 2, 6, 1, seed, 100, labels, cent, &inertia, ws);
        g_assert_cmpint (used, ==, 6);
        check_result (x, 14, 2, 6, used, labels, cent, inertia);
      }
    g_free (ws);
  }
  /* Non-finite input (a diverged network) must not crash or index out of range. */
  {
    float x[12] = { 0, 1, NAN, 2, 3, INFINITY, 4, 5, 6, -INFINITY, 7, 8 };
    int labels[6], lab[2 * 6], par[2 * 3];
    float *ws = new_ws (cl_kmeans_bisect_workspace_floats (6, 2, 3) + cl_kmeans_workspace_floats (6, 2, 3));
    int used = cl_kmeans (x, 6, 2, 3, 2, 0, 20, labels, NULL, NULL, ws);
    g_assert_cmpint (used, >=, 1);
    g_assert_cmpint (used, <=, 3);
    for (int i = 0; i < 6; i++)
      g_assert_true (labels[i] >= 0 && labels[i] < used);
    int leaves = cl_kmeans_bisect (x, 6, 2, 3, 2, 0, lab, par, ws);
    g_assert_cmpint (leaves, >=, 1);
    for (int i = 0; i < 2 * 6; i++)
      g_assert_true (lab[i] >= 0 && lab[i] < 3);
    g_free (ws);
  }
  /* Out-of-range arguments: -1 and nothing written. */
  {
    float x[4] = { 0, 1, 2, 3 }, ws[64];
    int labels[4] = { 7, 7, 7, 7 };
    g_assert_cmpint (cl_kmeans (x, 4, 1, 0, 1, 0, 10, labels, NULL, NULL, ws), ==, -1);
    g_assert_cmpint (cl_kmeans (x, 0, 1, 2, 1, 0, 10, labels, NULL, NULL, ws), ==, -1);
    g_assert_cmpint (cl_kmeans (x, 4, 0, 2, 1, 0, 10, labels, NULL, NULL, ws), ==, -1);
    g_assert_cmpint (cl_kmeans (x, 4, 1, 2, 0, 0, 10, labels, NULL, NULL, ws), ==, -1);
    g_assert_cmpint (cl_kmeans (x, 4, 1, 2, 1, 0, -1, labels, NULL, NULL, ws), ==, -1);
    g_assert_cmpint (cl_kmeans (NULL, 4, 1, 2, 1, 0, 10, labels, NULL, NULL, ws), ==, -1);
    g_assert_cmpint (cl_kmeans (x, 4, 1, 2, 1, 0, 10, labels, NULL, NULL, NULL), ==, -1);
    for (int i = 0; i < 4; i++)
      g_assert_cmpint (labels[i], ==, 7);
    g_assert_cmpuint (cl_kmeans_workspace_floats (0, 1, 1), ==, 0);
  }
}

/* ---------------------------------------------------------------- bisecting */

static double
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
static void
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

static void
test_bisect_tree (void)
{
  int n = 800, dim = 6, kmax = 10;
  float *x = g_new (float, (size_t) n *dim);
  uniform_points (x, n, dim, 50);
  int *lab = g_new (int, (size_t) (kmax - 1) * n), *par = g_new (int, (size_t) (kmax - 1) * kmax);
  int *lab2 = g_new (int, (size_t) (kmax - 1) * n), *par2 = g_new (int, (size_t) (kmax - 1) * kmax);
  float *ws = new_ws (cl_kmeans_bisect_workspace_floats (n, dim, kmax));
  int leaves = cl_kmeans_bisect (x, n, dim, kmax, 2, 77, lab, par, ws);
  g_assert_cmpint (leaves, ==, kmax);
  check_tree (x, n, dim, kmax, leaves, lab, par);
  /* Deterministic per seed, whatever the workspace held. */
  for (size_t i = 0; i < cl_kmeans_bisect_workspace_floats (n, dim, kmax); i++)
    ws[i] = 1e30f;
  g_assert_cmpint (cl_kmeans_bisect (x, n, dim, kmax, 2, 77, lab2, par2, ws), ==, leaves);
  g_assert_cmpmem (lab, sizeof (int) * (kmax - 1) * n, lab2, sizeof (int) * (kmax - 1) * n);
  g_assert_cmpmem (par, sizeof (int) * (kmax - 1) * kmax, par2, sizeof (int) * (kmax - 1) * kmax);
  /* The first split is 2-means of everything, drawn first from the same stream: exactly
   * cl_kmeans with k = 2 and the same seed, restarts and iteration limit. */
  int *l2 = g_new (int, n);
  float *kws = new_ws (cl_kmeans_workspace_floats (n, dim, 2));
  g_assert_cmpint (cl_kmeans (x, n, dim, 2, 2, 77, CL_KMEANS_DEFAULT_MAX_ITER, l2, NULL, NULL, kws), ==, 2);
  g_assert_cmpmem (lab, sizeof (int) * n, l2, sizeof (int) * n);
  g_free (l2);
  g_free (kws);
  g_assert_cmpint (cl_kmeans_bisect (x, n, dim, 1, 2, 77, lab, par, ws), ==, -1);
  g_free (x);
  g_free (lab);
  g_free (par);
  g_free (lab2);
  g_free (par2);
  g_free (ws);
}

/* Two far groups, each made of two nearer blobs: k = 2 finds the groups, k = 4 the blobs, and
 * the k = 3, 4 parents say which group each blob belongs to. */
static void
test_bisect_hierarchy (void)
{
  int dim = 8, n = 4 * 150, kmax = 4;
  float *x = g_new (float, (size_t) n *dim);
  int *blob = g_new (int, n), *group = g_new (int, n);
  ClRng rng;
  cl_rng_seed (&rng, 60, 106);
  double centre[4][8];
  for (int d = 0; d < dim; d++)
    {
      double g0 = 60 * cl_rng_normal (&rng), g1 = 60 * cl_rng_normal (&rng);
      centre[0][d] = g0 + 3 * cl_rng_normal (&rng);
      centre[1][d] = g0 + 3 * cl_rng_normal (&rng);
      centre[2][d] = g1 + 3 * cl_rng_normal (&rng);
      centre[3][d] = g1 + 3 * cl_rng_normal (&rng);
    }
  for (int i = 0; i < n; i++)
    {
      blob[i] = i % 4;
      group[i] = blob[i] / 2;
      for (int d = 0; d < dim; d++)
        x[(size_t) i * dim + d] = (float) (centre[blob[i]][d] + 0.3 * cl_rng_normal (&rng));
    }
  int *lab = g_new (int, (size_t) (kmax - 1) * n), *par = g_new (int, (size_t) (kmax - 1) * kmax);
  float *ws = new_ws (cl_kmeans_bisect_workspace_floats (n, dim, kmax));
  g_assert_cmpint (cl_kmeans_bisect (x, n, dim, kmax, 3, 1, lab, par, ws), ==, 4);
  check_tree (x, n, dim, kmax, 4, lab, par);
  g_assert_cmpfloat (cl_adjusted_rand_index (lab, group, n), ==, 1.0);
  g_assert_cmpfloat (cl_adjusted_rand_index (lab + 2 * n, blob, n), ==, 1.0);
  /* Each k = 4 cluster's ancestor at k = 2 is its group's cluster. */
  int anc[4];
  cl_kmeans_bisect_ancestors (par, kmax, 2, 4, anc);
  for (int i = 0; i < n; i++)
    {
      int c4 = lab[2 * n + i], c3 = par[2 * kmax + c4], c2 = par[1 * kmax + c3];
      g_assert_cmpint (c2, ==, lab[i]);
      g_assert_cmpint (anc[c4], ==, c2);
    }
  cl_kmeans_bisect_ancestors (par, kmax, 3, 2, anc); /* k the wrong way round */
  for (int c = 0; c < 2; c++)
    g_assert_cmpint (anc[c], ==, -1);
  g_free (x);
  g_free (blob);
  g_free (group);
  g_free (lab);
  g_free (par);
  g_free (ws);
}

static void
test_bisect_unsplittable (void)
{
  float x[7] = { 1, 1, 5, 5, 5, 9, 1 };
  int kmax = 6, lab[5 * 7], par[5 * 6];
  float *ws = new_ws (cl_kmeans_bisect_workspace_floats (7, 1, kmax));
  g_assert_cmpint (cl_kmeans_bisect (x, 7, 1, kmax, 2, 3, lab, par, ws), ==, 3);
  check_tree (x, 7, 1, kmax, 3, lab, par);
  for (int k = 4; k <= kmax; k++)
    g_assert_cmpmem (lab + (k - 2) * 7, sizeof (int) * 7, lab + 7, sizeof (int) * 7);
  /* Equal points share a leaf, different points do not. */
  const int *l3 = lab + 7;
  for (int i = 0; i < 7; i++)
    for (int j = 0; j < 7; j++)
      g_assert_cmpint (l3[i] == l3[j], ==, x[i] == x[j]);
  g_free (ws);

  float same[4] = { 2, 2, 2, 2 };
  int lab1[4 * 3], par1[3 * 4];
  ws = new_ws (cl_kmeans_bisect_workspace_floats (4, 1, 4));
  g_assert_cmpint (cl_kmeans_bisect (same, 4, 1, 4, 1, 0, lab1, par1, ws), ==, 1);
  for (int i = 0; i < 12; i++)
    g_assert_cmpint (lab1[i], ==, 0);
  check_tree (same, 4, 1, 4, 1, lab1, par1);
  g_free (ws);
}

/* ---------------------------------------------------------------- parents, grids, positions */

static void
test_match_parents (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 70, 107);
  int n = 2000, kc = 3, kf = 8;
  /* Fine cluster f refines coarse cluster truth[f]; fine ids deliberately not in coarse order. */
  int truth[8] = { 2, 0, 1, 2, 0, 1, 2, 0 };
  int *coarse = g_new (int, n), *fine = g_new (int, n), parent[8], parent_noisy[8];
  for (int i = 0; i < n; i++)
    {
      fine[i] = (int) cl_rng_below (&rng, 7); /* fine cluster 7 stays empty */
      coarse[i] = truth[fine[i]];
    }
  cl_kmeans_match_parents (coarse, kc, fine, kf, n, parent);
  for (int f = 0; f < 7; f++)
    g_assert_cmpint (parent[f], ==, truth[f]);
  g_assert_cmpint (parent[7], ==, -1);
  /* Independent runs do not nest exactly: 15% of points with a random coarse label. */
  for (int i = 0; i < n; i++)
    if (cl_rng_uniform (&rng) < 0.15)
      coarse[i] = (int) cl_rng_below (&rng, 3);
  cl_kmeans_match_parents (coarse, kc, fine, kf, n, parent_noisy);
  g_assert_cmpmem (parent, sizeof parent, parent_noisy, sizeof parent_noisy);
  /* A tie goes to the lower coarse id; labels out of range are ignored. */
  int c2[6] = { 1, 2, 1, 2, 0, 9 }, f2[6] = { 0, 0, 0, 0, 1, 1 }, p2[2];
  cl_kmeans_match_parents (c2, 3, f2, 2, 6, p2);
  g_assert_cmpint (p2[0], ==, 1);
  g_assert_cmpint (p2[1], ==, 0);
  g_free (coarse);
  g_free (fine);
}

static void
test_downsample (void)
{
  /* 4x4 -> 2x2: a clear majority, a 2-2 tie against background, a 2-2 tie between objects. */
  const uint8_t map[16] = { 1, 1, 2, 2, /**/ 1, 0, 0, 0, /**/ 3, 3, 5, 5, /**/ 2, 2, 5, 5 };
  uint8_t out[4];
  cl_downsample_labels (map, 4, 4, 2, 2, out);
  g_assert_cmpint (out[0], ==, 1);
  g_assert_cmpint (out[1], ==, 0);
  g_assert_cmpint (out[2], ==, 2);
  g_assert_cmpint (out[3], ==, 5);
  /* Identity. */
  uint8_t same[16];
  cl_downsample_labels (map, 4, 4, 4, 4, same);
  g_assert_cmpmem (same, 16, map, 16);
  /* 5x5 -> 2x2: cells cover rows/cols {0,1} and {2,3,4}. */
  uint8_t m5[25] = { 0 };
  m5[0 * 5 + 0] = m5[0 * 5 + 1] = m5[1 * 5 + 0] = 4;                 /* 3 of 4 in cell (0,0) */
  m5[2 * 5 + 2] = m5[3 * 5 + 3] = m5[4 * 5 + 4] = 6;                 /* 3 of 9 in cell (1,1): loses */
  m5[0 * 5 + 2] = m5[0 * 5 + 3] = m5[1 * 5 + 2] = m5[1 * 5 + 4] = 7; /* 4 of 6 in cell (0,1) */
  cl_downsample_labels (m5, 5, 5, 2, 2, out);
  g_assert_cmpint (out[0], ==, 4);
  g_assert_cmpint (out[1], ==, 7);
  g_assert_cmpint (out[2], ==, 0);
  g_assert_cmpint (out[3], ==, 0);
  /* Grid finer than the map: nearest (floor) pixel. */
  const uint8_t m2[6] = { 1, 2, 3, /**/ 4, 5, 6 };
  uint8_t up[4 * 6];
  cl_downsample_labels (m2, 2, 3, 4, 6, up);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 6; x++)
      g_assert_cmpint (up[y * 6 + x], ==, m2[(y / 2) * 3 + x / 2]);
  /* Random maps, non-dividing grid: the winner is a most frequent value of its cell, and the
   * smallest such. */
  ClRng rng;
  cl_rng_seed (&rng, 80, 108);
  uint8_t big[30 * 28], grid[7 * 6];
  for (int i = 0; i < 30 * 28; i++)
    big[i] = (uint8_t) (cl_rng_below (&rng, 3) * (cl_rng_below (&rng, 3) > 0));
  cl_downsample_labels (big, 30, 28, 7, 6, grid);
  for (int gy = 0; gy < 7; gy++)
    for (int gx = 0; gx < 6; gx++)
      {
        int votes[3] = { 0 };
        for (int y = gy * 30 / 7; y < (gy + 1) * 30 / 7; y++)
          for (int x = gx * 28 / 6; x < (gx + 1) * 28 / 6; x++)
            votes[big[y * 28 + x]]++;
        int won = grid[gy * 6 + gx];
        g_assert_cmpint (won, <, 3);
        for (int v = 0; v < 3; v++)
          {
            g_assert_cmpint (votes[won], >=, votes[v]);
            if (v < won)
              g_assert_cmpint (votes[v], <, votes[won]);
          }
      }
}

static void
test_positions (void)
{
  /* 2 channels, 2x3 map, channel-major. Position 4 is a dead (all-zero) position. */
  const float chw[12] = { 3, 0, 1, 2, 0, 5, /**/ 4, 2, 0, 2, 0, 12 };
  float x[12], raw[12];
  cl_kmeans_positions (chw, 2, 2, 3, 1, x);
  cl_kmeans_positions (chw, 2, 2, 3, 0, raw);
  for (int q = 0; q < 6; q++)
    {
      g_assert_cmpfloat (raw[2 * q], ==, chw[q]);
      g_assert_cmpfloat (raw[2 * q + 1], ==, chw[6 + q]);
      double norm = hypot (chw[q], chw[6 + q]);
      for (int c = 0; c < 2; c++)
        g_assert_cmpfloat_with_epsilon (x[2 * q + c], norm > 0 ? chw[c * 6 + q] / norm : 0.0, 1e-7);
    }
  g_assert_cmpfloat_with_epsilon (x[0], 0.6, 1e-7);
  g_assert_cmpfloat_with_epsilon (x[1], 0.8, 1e-7);
  g_assert_cmpfloat (x[8], ==, 0.0f);
  g_assert_cmpfloat (x[9], ==, 0.0f);
}

/* ---------------------------------------------------------------- speed */

/* CPU time of this thread: the figure that matters on a shared 2-core laptop, less sensitive
 * to other load than wall time. */
static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
time_kmeans (int n, int dim, int k, int restarts, gboolean structured, int *used_out, double *ari_out)
{
  float *x = g_new (float, (size_t) n *dim);
  int *labels = g_new (int, n), *truth = g_new (int, n);
  if (structured)
    {
      int sizes[8];
      for (int c = 0; c < 8; c++)
        sizes[c] = n / 8 + (c < n % 8);
      make_blobs (dim, 8, sizes, 1.0, 0.15, 90, x, truth);
    }
  else
    {
      ClRng rng;
      cl_rng_seed (&rng, 91, 109);
      for (size_t i = 0; i < (size_t) n * dim; i++)
        x[i] = (float) cl_rng_normal (&rng);
    }
  normalise_rows (x, n, dim);
  float *ws = new_ws (cl_kmeans_workspace_floats (n, dim, k));
  double t0 = cpu_ms (), inertia;
  *used_out = cl_kmeans (x, n, dim, k, restarts, 1, 100, labels, NULL, &inertia, ws);
  double ms = cpu_ms () - t0;
  *ari_out = structured ? cl_adjusted_rand_index (labels, truth, n) : NAN;
  g_free (x);
  g_free (labels);
  g_free (truth);
  g_free (ws);
  return ms;
}

static void
test_speed (void)
{
  const int ns[2] = { 4096, 256 };
  for (int s = 0; s < 2; s++)
    for (int structured = 0; structured < 2; structured++)
      {
        int used;
        double ari, ms = time_kmeans (ns[s], 64, 8, 4, structured, &used, &ari);
        g_assert_cmpint (used, ==, 8);
        if (structured)
          g_assert_cmpfloat (ari, ==, 1.0);
        g_test_message ("k-means k=8, 4 restarts, max_iter 100, n=%d, dim 64, %s: %.2f ms CPU", ns[s],
                        structured ? "8 noisy blobs" : "random unit vectors", ms);
      }
}

/* Bisecting k-means to kmax = 8 over a 64x64 map of 64 channels. */
static void
test_speed_bisect (void)
{
  int n = 4096, dim = 64, kmax = 8, sizes[8];
  for (int c = 0; c < 8; c++)
    sizes[c] = n / 8;
  float *x = g_new (float, (size_t) n *dim);
  int *truth = g_new (int, n), *lab = g_new (int, (size_t) (kmax - 1) * n),
      *par = g_new (int, (size_t) (kmax - 1) * kmax);
  make_blobs (dim, 8, sizes, 1.0, 0.15, 92, x, truth);
  normalise_rows (x, n, dim);
  float *ws = new_ws (cl_kmeans_bisect_workspace_floats (n, dim, kmax));
  double t0 = cpu_ms ();
  g_assert_cmpint (cl_kmeans_bisect (x, n, dim, kmax, 4, 1, lab, par, ws), ==, kmax);
  double ms = cpu_ms () - t0;
  check_tree (x, n, dim, kmax, kmax, lab, par);
  g_test_message ("bisecting k-means kmax=8 (all k = 2..8), 4 restarts per split, n=4096, dim 64: %.2f ms CPU", ms);
  g_free (x);
  g_free (truth);
  g_free (lab);
  g_free (par);
  g_free (ws);
}

static void
test_speed_large (void)
{
  int used;
  double ari, ms = time_kmeans (64 * 64 * 16, 256, 8, 4, TRUE, &used, &ari);
  g_assert_cmpint (used, ==, 8);
  g_test_message ("k-means k=8, 4 restarts, n=65536, dim 256, 8 noisy blobs: %.0f ms CPU", ms);
  ms = time_kmeans (64 * 64 * 16, 256, 8, 4, FALSE, &used, &ari);
  g_test_message ("k-means k=8, 4 restarts, n=65536, dim 256, random unit vectors: %.0f ms CPU", ms);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kmeans/ari/fixtures", test_ari_fixtures);
  g_test_add_func ("/kmeans/ari/permutation", test_ari_permutation);
  g_test_add_func ("/kmeans/ari/independent", test_ari_independent);
  g_test_add_func ("/kmeans/ari/foreground-fixtures", test_foreground_ari_fixtures);
  g_test_add_func ("/kmeans/iou/fixtures", test_iou_fixtures);
  g_test_add_func ("/kmeans/iou/brute-force", test_iou_brute_force);
  g_test_add_func ("/kmeans/lloyd/blobs", test_kmeans_blobs);
  g_test_add_func ("/kmeans/lloyd/deterministic", test_kmeans_deterministic);
  g_test_add_func ("/kmeans/lloyd/restarts", test_kmeans_restarts);
  g_test_add_func ("/kmeans/lloyd/fixed-point", test_kmeans_fixed_point);
  g_test_add_func ("/kmeans/lloyd/global-optimum", test_kmeans_global_optimum);
  g_test_add_func ("/kmeans/lloyd/seeding-distribution", test_kmeans_seeding_distribution);
  g_test_add_func ("/kmeans/lloyd/edge-cases", test_kmeans_edge_cases);
  g_test_add_func ("/kmeans/bisect/tree", test_bisect_tree);
  g_test_add_func ("/kmeans/bisect/hierarchy", test_bisect_hierarchy);
  g_test_add_func ("/kmeans/bisect/unsplittable", test_bisect_unsplittable);
  g_test_add_func ("/kmeans/match-parents", test_match_parents);
  g_test_add_func ("/kmeans/downsample", test_downsample);
  g_test_add_func ("/kmeans/positions", test_positions);
  g_test_add_func ("/kmeans/speed", test_speed);
  g_test_add_func ("/kmeans/speed-bisect", test_speed_bisect);
  if (g_test_perf ())
    g_test_add_func ("/kmeans/speed-large", test_speed_large);
  return g_test_run ();
}
