/* Collision theory for random bit codes (engine/analysis/cl_collisions.h): against the paper's
 * numbers and a simulation of uniform codes. */
#include "engine/analysis/cl_collisions.h"

#include <glib.h>
#include <math.h>
#include <string.h>

static void
test_theory (void)
{
  /* paper.md section 3.3, computed there independently: B = 1000 and B = 256 */
  struct
  {
    int n, b;
    double p;
  } ref[] = {
    { 5, 1000, 1.00 },  { 8, 1000, 0.98 }, { 10, 1000, 0.62 }, { 12, 1000, 0.22 },
    { 15, 1000, 0.03 }, { 8, 256, 0.63 },  { 10, 256, 0.22 },  { 12, 256, 0.06 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ref); i++)
    g_assert_cmpfloat (fabs (cl_collision_theory (ref[i].n, ref[i].b) - ref[i].p), <=, 0.005);
  g_assert_cmpfloat (cl_collision_theory (0, 256), ==, 1.0);
  g_assert_cmpfloat (cl_collision_theory (10, 1), ==, 0.0);
  g_assert_cmpfloat (cl_collision_theory (24, 256), >, 0);
  g_assert_cmpfloat (cl_collision_theory (24, 256), <, 2e-5);

  /* A simulation of uniform codes agrees: B = 64, n = 6 (p = 0.630). */
  GRand *rand = g_rand_new_with_seed (7);
  int batch = 64, bits = 6, trials = 3000, shared = 0;
  int counts[64];
  guint32 codes[64];
  for (int t = 0; t < trials; t++)
    {
      memset (counts, 0, sizeof counts);
      for (int i = 0; i < batch; i++)
        counts[codes[i] = g_rand_int_range (rand, 0, 1 << bits)]++;
      for (int i = 0; i < batch; i++)
        shared += counts[codes[i]] > 1;
    }
  g_rand_free (rand);
  double sim = (double) shared / ((double) trials * batch);
  g_test_message ("simulated %.4f, theory %.4f", sim, cl_collision_theory (bits, batch));
  /* 192000 anchors, correlated within a batch: sd well under 0.005 */
  g_assert_cmpfloat (fabs (sim - cl_collision_theory (bits, batch)), <, 0.01);
}

static void
test_continuous (void)
{
  /* the continuous form meets the integer one at integers */
  for (int bits = 0; bits <= 24; bits++)
    for (int batch = 1; batch <= 1024; batch *= 4)
      g_assert_cmpfloat_with_epsilon (cl_collision_theory_continuous (bits, batch), cl_collision_theory (bits, batch),
                                      1e-12);
  /* and falls monotonically between them */
  double previous = 2.0;
  for (double bits = 6.0; bits <= 20.0; bits += 0.25)
    {
      double p = cl_collision_theory_continuous (bits, 256);
      g_assert_cmpfloat (p, <, previous);
      previous = p;
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysis/collisions/theory", test_theory);
  g_test_add_func ("/analysis/collisions/continuous", test_continuous);
  return g_test_run ();
}
