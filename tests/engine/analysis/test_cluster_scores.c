/* The cluster scores (engine/analysis/cl_cluster_scores.h): adjusted Rand index, foreground ARI and
 * best-union IoU against exact oracle fixtures (tests/fixtures/make_kmeans_fixtures.py), a
 * brute-force search over unions, ARI's invariance to renaming, and label maps downsampled to a grid. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/analysis/cl_cluster_scores.h"
#include "engine/base/cl_rng.h"
#include "tests/fixtures/kmeans_fixtures.h"
#include "tests/engine/analysis/kmeans_test_util.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cluster-scores/ari/fixtures", test_ari_fixtures);
  g_test_add_func ("/cluster-scores/ari/permutation", test_ari_permutation);
  g_test_add_func ("/cluster-scores/ari/independent", test_ari_independent);
  g_test_add_func ("/cluster-scores/ari/foreground-fixtures", test_foreground_ari_fixtures);
  g_test_add_func ("/cluster-scores/iou/fixtures", test_iou_fixtures);
  g_test_add_func ("/cluster-scores/iou/brute-force", test_iou_brute_force);
  g_test_add_func ("/cluster-scores/downsample-labels", test_downsample);
  return g_test_run ();
}
