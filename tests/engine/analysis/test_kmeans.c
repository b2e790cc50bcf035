/* K-means (engine/analysis/cl_kmeans.h): Lloyd's algorithm against planted structure, exhaustive
 * optima and its own invariants, the feature-map positions, and the time it takes.
 * Bisecting k-means is tested in test_kmeans_bisect.c, the ARI/IoU scores in test_cluster_scores.c. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include "engine/analysis/cl_kmeans.h"
#include "engine/base/cl_rng.h"
#include "tests/engine/analysis/kmeans_test_util.h"

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
  g_test_add_func ("/kmeans/lloyd/blobs", test_kmeans_blobs);
  g_test_add_func ("/kmeans/lloyd/deterministic", test_kmeans_deterministic);
  g_test_add_func ("/kmeans/lloyd/restarts", test_kmeans_restarts);
  g_test_add_func ("/kmeans/lloyd/fixed-point", test_kmeans_fixed_point);
  g_test_add_func ("/kmeans/lloyd/global-optimum", test_kmeans_global_optimum);
  g_test_add_func ("/kmeans/lloyd/seeding-distribution", test_kmeans_seeding_distribution);
  g_test_add_func ("/kmeans/lloyd/edge-cases", test_kmeans_edge_cases);
  g_test_add_func ("/kmeans/positions", test_positions);
  g_test_add_func ("/kmeans/speed", test_speed);
  g_test_add_func ("/kmeans/speed-bisect", test_speed_bisect);
  if (g_test_perf ())
    g_test_add_func ("/kmeans/speed-large", test_speed_large);
  return g_test_run ();
}
