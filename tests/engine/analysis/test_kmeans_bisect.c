/* Bisecting k-means (the cluster hierarchy): the tree is consistent at every k, splits lower the
 * SSE, unsplittable clusters stay whole, and independent clusterings' parents are matched. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/analysis/cl_kmeans.h"
#include "engine/base/cl_rng.h"
#include "tests/engine/analysis/kmeans_test_util.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kmeans/bisect/tree", test_bisect_tree);
  g_test_add_func ("/kmeans/bisect/hierarchy", test_bisect_hierarchy);
  g_test_add_func ("/kmeans/bisect/unsplittable", test_bisect_unsplittable);
  g_test_add_func ("/kmeans/match-parents", test_match_parents);
  return g_test_run ();
}
