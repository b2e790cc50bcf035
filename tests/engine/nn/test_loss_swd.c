/* The sliced-Wasserstein losses' random parts: SWD between samples of the prior is near zero, the
 * draws from the caller's stream (W, then the prior) replay through the explicit entry point, and
 * the orthogonal W is Haar-distributed. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_loss.h"
#include "engine/base/cl_rng.h"
#include "tests/engine/nn/loss_test_util.h"

/* SWD between samples of the prior itself is near zero; to a shifted copy it is not.
 * For the normal prior shifted by +1 in every coordinate each projection shifts by
 * (W^T 1)_c, and the mean of the squared shifts is |1|^2 / d = 1 for orthogonal W. */
static void
test_swd_prior_match (void)
{
  const int n = 1000, d = 8;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count);
  ClRng data_rng, loss_rng;
  cl_rng_seed (&data_rng, 123, CL_STREAM_DATA);
  cl_rng_seed (&loss_rng, 321, CL_STREAM_LOSS);

  const ClLossKind kinds[] = { CL_LOSS_SWD_NORMAL, CL_LOSS_SWD_CUBE, CL_LOSS_SWD_SPHERE };
  const float shift[] = { 1.0f, 0.5f, 3.0f };
  for (int q = 0; q < 3; q++)
    {
      float *ws = new_ws (kinds[q], n, d);
      ClLossParams p = { kinds[q], 1.0f, 1.0f };
      cl_loss_draw_prior (kinds[q], 2 * n, d, &data_rng, z);
      double same = cl_loss_compute (&p, z, n, d, &loss_rng, NULL, ws).distribution;
      for (size_t k = 0; k < count; k++)
        z[k] += q == 2 && k % d != 0 ? 0.0f : shift[q];
      double shifted = cl_loss_compute (&p, z, n, d, &loss_rng, NULL, ws).distribution;
      g_test_message ("%s: SWD same prior %.3g, shifted %.3g", cl_loss_kind_name (kinds[q]), same, shifted);
      g_assert_cmpfloat (same, >=, 0.0);
      g_assert_cmpfloat (shifted, >, 50.0 * same);
      if (kinds[q] == CL_LOSS_SWD_NORMAL)
        {
          g_assert_cmpfloat (same, <, 0.02);
          g_assert_cmpfloat (fabs (shifted - 1.0), <, 0.1);
        }
      if (kinds[q] == CL_LOSS_SWD_CUBE)
        {
          g_assert_cmpfloat (same, <, 0.005);
          g_assert_cmpfloat (fabs (shifted - 0.25), <, 0.03);
        }
      g_free (ws);
    }
  g_free (z);
}

/* cl_loss_compute draws W, then the prior, from the caller's stream: replaying those draws
 * through the explicit entry point gives the same numbers; another seed does not. */
static void
test_swd_rng_contract (void)
{
  const int n = 20, d = 8;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz1 = g_new (float, count), *dz2 = g_new (float, count);
  float *w = g_new (float, (size_t) d *d), *prior = g_new (float, count);
  fill_views (z, n, d, 0.5, 0.5, 90);
  const ClLossKind kinds[] = { CL_LOSS_SWD_NORMAL, CL_LOSS_SWD_CUBE, CL_LOSS_SWD_SPHERE };
  for (int q = 0; q < 3; q++)
    {
      float *ws = new_ws (kinds[q], n, d);
      ClLossParams p = { kinds[q], 1.0f, 0.7f };
      ClRng rng;
      cl_rng_seed (&rng, 2024, CL_STREAM_LOSS);
      ClLossResult viarng = cl_loss_compute (&p, z, n, d, &rng, dz1, ws);
      draw_fixed_swd (kinds[q], n, d, 2024, w, prior);
      ClLossResult explicit = cl_loss_swd (kinds[q], z, n, d, 0.7f, w, prior, dz2, ws);
      g_assert_cmpfloat (viarng.loss, ==, explicit.loss);
      g_assert_cmpmem (dz1, count * sizeof (float), dz2, count * sizeof (float));
      /* the stream moved on: the next call uses fresh W and prior */
      ClLossResult next = cl_loss_compute (&p, z, n, d, &rng, NULL, ws);
      g_assert_cmpfloat (next.distribution, !=, viarng.distribution);
      g_assert_cmpfloat (next.alignment, ==, viarng.alignment);
      g_free (ws);
    }
  g_free (z);
  g_free (dz1);
  g_free (dz2);
  g_free (w);
  g_free (prior);
}

/* W is orthogonal, and Haar: without the sign correction by diag(R), Householder QR gives
 * W[0][0] = a00 / R00 with R00 = -sign(a00) |a_0|, always <= 0 (mean -E|u_1| = -0.42 for
 * u uniform on the sphere S^3, d = 4). */
static void
test_orthogonal_haar (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 31, CL_STREAM_LOSS);
  const int big = 64;
  float *w = g_new (float, big *big), *work = g_new (float, cl_loss_orthogonal_work_floats (big));
  cl_loss_draw_orthogonal (big, &rng, w, work);
  double worst = 0.0;
  for (int a = 0; a < big; a++)
    for (int b = 0; b < big; b++)
      {
        double dot = 0.0;
        for (int k = 0; k < big; k++)
          dot += (double) w[k * big + a] * w[k * big + b];
        worst = fmax (worst, fabs (dot - (a == b ? 1.0 : 0.0)));
      }
  g_assert_cmpfloat (worst, <, 1e-5);

  const int d = 4, draws = 2000;
  double w00_sum = 0.0, diag_sum = 0.0, w00_sq = 0.0;
  for (int t = 0; t < draws; t++)
    {
      cl_loss_draw_orthogonal (d, &rng, w, work);
      w00_sum += w[0];
      w00_sq += (double) w[0] * w[0];
      for (int j = 0; j < d; j++)
        diag_sum += w[j * d + j];
    }
  /* Haar: every entry has mean 0 and variance 1/d. Standard errors: sqrt(1/(d draws)) =
   * 0.011 for W00, sqrt(1/(d d draws)) = 0.0056 for the diagonal mean; 5 sigma bounds. */
  g_assert_cmpfloat (fabs (w00_sum / draws), <, 0.056);
  g_assert_cmpfloat (fabs (diag_sum / (d * draws)), <, 0.028);
  /* Var(W00^2) = E u^4 - (E u^2)^2 = 3/(d(d+2)) - 1/d^2 = 0.0625; SE 0.0056; 5 sigma 0.028 */
  g_assert_cmpfloat (fabs (w00_sq / draws - 1.0 / d), <, 0.028);
  g_free (w);
  g_free (work);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/loss/swd/prior-match", test_swd_prior_match);
  g_test_add_func ("/loss/swd/rng-contract", test_swd_rng_contract);
  g_test_add_func ("/loss/swd/orthogonal-haar", test_orthogonal_haar);
  return g_test_run ();
}
