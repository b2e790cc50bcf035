/* Finite-difference gradient checks of every loss kind (engine/nn/cl_loss.c), through the
 * normalisation: directional central differences in float against the analytic gradient, and
 * the gradient's invariance to the scale of a row. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_loss.h"
#include "engine/base/cl_rng.h"
#include "tests/engine/nn/loss_test_util.h"

/* ------------------------------------------------------------------ finite differences */

/* Directional central differences in float. The perturbed inputs are rounded to float and
 * the exact perturbation actually applied is used for the analytic side, so input rounding
 * does not pollute the comparison. Directions: the gradient under test itself (where a wrong
 * scale or a spurious component shows up fully) plus random ones. The error is measured
 * against the largest possible directional derivative, |g| |dv| (Cauchy-Schwarz), so a
 * random direction nearly orthogonal to g does not turn float noise into a huge ratio.
 * The step is rel_step |z|, capped (when max_dp > 0) so that no SWD projection moves by
 * more than max_dp: a quarter of the smallest gap keeps every sort permutation fixed. */
static double
directional_error (const Eval *e, const float *z, const float *g, double rel_step, double max_dp, int n_random,
                   uint64_t seed)
{
  int rows = 2 * e->n, d = e->d;
  size_t count = (size_t) rows * d;
  float *zp = g_new (float, count), *zm = g_new (float, count);
  double *v = g_new (double, count);
  ClRng rng;
  cl_rng_seed (&rng, seed, CL_STREAM_PROBE);
  double znorm = 0.0, gnorm = 0.0;
  for (size_t k = 0; k < count; k++)
    {
      znorm += (double) z[k] * z[k];
      gnorm += (double) g[k] * g[k];
    }
  znorm = sqrt (znorm);
  gnorm = sqrt (gnorm);

  double worst = 0.0;
  for (int dir = 0; dir <= n_random; dir++)
    {
      double vnorm = 0.0;
      for (size_t k = 0; k < count; k++)
        {
          v[k] = dir == 0 ? g[k] : cl_rng_normal (&rng);
          vnorm += v[k] * v[k];
        }
      double t = rel_step * znorm / sqrt (vnorm);
      if (max_dp > 0.0)
        {
          /* |dP_ic| <= |dh_i| |W_c| = |dh_i|, and |dh_i| <= |dz_i| / |z_i| when normalised */
          double worst_row = 0.0;
          for (int i = 0; i < rows; i++)
            {
              double vv = 0.0, zz = 0.0;
              for (int k = 0; k < d; k++)
                {
                  vv += v[(size_t) i * d + k] * v[(size_t) i * d + k];
                  zz += (double) z[(size_t) i * d + k] * z[(size_t) i * d + k];
                }
              worst_row = fmax (worst_row, sqrt (vv) / (normalises_rows (e->kind) ? sqrt (zz) : 1.0));
            }
          t = fmin (t, max_dp / worst_row);
        }
      double analytic = 0.0, dvnorm = 0.0;
      for (size_t k = 0; k < count; k++)
        {
          zp[k] = (float) (z[k] + t * v[k]);
          zm[k] = (float) (z[k] - t * v[k]);
          double dv = (double) zp[k] - zm[k];
          analytic += (double) g[k] * dv;
          dvnorm += dv * dv;
        }
      double numeric = eval (e, zp, NULL).loss - eval (e, zm, NULL).loss;
      worst = fmax (worst, fabs (numeric - analytic) / (gnorm * sqrt (dvnorm)));
    }
  g_free (zp);
  g_free (zm);
  g_free (v);
  return worst;
}

/* Smallest gap between two sorted projected values of any column of (H W), computed in
 * double, with H = z or normalised z as the kind says. */
static double
swd_min_gap (ClLossKind kind, const float *z, int n, int d, const float *w)
{
  int rows = 2 * n;
  double *col = g_new (double, rows);
  double gap = INFINITY;
  for (int c = 0; c < d; c++)
    {
      for (int i = 0; i < rows; i++)
        {
          double zz = 0.0, p = 0.0;
          for (int k = 0; k < d; k++)
            {
              zz += (double) z[(size_t) i * d + k] * z[(size_t) i * d + k];
              p += (double) z[(size_t) i * d + k] * w[(size_t) k * d + c];
            }
          col[i] = normalises_rows (kind) ? p / sqrt (zz) : p;
        }
      for (int a = 0; a < rows; a++)
        for (int b = a + 1; b < rows; b++)
          gap = fmin (gap, fabs (col[a] - col[b]));
    }
  g_free (col);
  return gap;
}

/* Tolerance of the float directional check, relative to |g| |dv|: the loss is accumulated
 * in double from float32 similarities/projections (noise ~1e-7 of the parts), the step
 * moves it by ~1e-3 relative, and central-difference truncation is ~step^2: measured errors
 * are 1e-6..4e-4. 2e-3 leaves room for both, while a 2 % scale error (error 0.02) or a
 * radial component of 20 % of each row's gradient (error 0.04) fails clearly. */
#define FD_TOL 2e-3

static void
gradcheck_kind (ClLossKind kind, int n, int d, float tau, float lambda, double rel_step, uint64_t data_seed)
{
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz = g_new (float, count), *bad = g_new (float, count);
  float *w = g_new (float, (size_t) d *d), *prior = g_new (float, count);
  float *ws = new_ws (kind, n, d);
  int swd = kind != CL_LOSS_NTXENT && kind != CL_LOSS_DECOUPLED;
  fill_views (z, n, d, 0.7, 1.2, data_seed);
  draw_fixed_swd (swd ? kind : CL_LOSS_SWD_NORMAL, n, d, 77, w, prior);
  Eval e = { kind, n, d, tau, lambda, w, prior, ws };
  ClLossResult r = eval (&e, z, dz);
  g_assert_true (isfinite (r.loss));
  double max_dp = 0.0;
  if (swd)
    {
      double gap = swd_min_gap (kind, z, n, d, w);
      /* float32 projections of these rows (|z| < 15, d <= 16) are good to ~4e-6; a gap
       * below 2e-5 would leave the permutation itself uncertain: not a fair test */
      g_assert_cmpfloat (gap, >, 2e-5);
      max_dp = gap / 4.0;
    }

  double err = directional_error (&e, z, dz, rel_step, max_dp, 6, 5);
  g_test_message ("%s n=%d d=%d tau=%g: directional FD rel err %.2e", cl_loss_kind_name (kind), n, d, tau, err);
  g_assert_cmpfloat (err, <, FD_TOL);

  /* The check must be able to fail: a gradient 2 % too large ... */
  for (size_t k = 0; k < count; k++)
    bad[k] = 1.02f * dz[k];
  double err_scaled = directional_error (&e, z, bad, rel_step, max_dp, 6, 5);
  g_assert_cmpfloat (err_scaled, >, FD_TOL);

  /* ... and, for the normalised kinds, a gradient that forgot to project out the radial
   * direction (what skipping the normalisation Jacobian leaves behind). */
  if (normalises_rows (kind))
    {
      for (int i = 0; i < 2 * n; i++)
        {
          double zz = 0.0, gg = 0.0;
          for (int k = 0; k < d; k++)
            {
              zz += (double) z[(size_t) i * d + k] * z[(size_t) i * d + k];
              gg += (double) dz[(size_t) i * d + k] * dz[(size_t) i * d + k];
            }
          for (int k = 0; k < d; k++)
            bad[(size_t) i * d + k] = dz[(size_t) i * d + k] + (float) (0.2 * sqrt (gg / zz) * z[(size_t) i * d + k]);
        }
      double err_radial = directional_error (&e, z, bad, rel_step, max_dp, 6, 5);
      g_assert_cmpfloat (err_radial, >, FD_TOL);
    }
  g_free (z);
  g_free (dz);
  g_free (bad);
  g_free (w);
  g_free (prior);
  g_free (ws);
}

static void
test_gradcheck_ntxent (void)
{
  gradcheck_kind (CL_LOSS_NTXENT, 6, 5, 0.5f, 0.0f, 1e-3, 11);
  gradcheck_kind (CL_LOSS_NTXENT, 6, 5, 0.1f, 0.0f, 1e-3, 11);
  gradcheck_kind (CL_LOSS_NTXENT, 16, 32, 0.2f, 0.0f, 1e-3, 11);
}

static void
test_gradcheck_decoupled (void)
{
  gradcheck_kind (CL_LOSS_DECOUPLED, 6, 5, 0.5f, 0.5f, 1e-3, 12);
  gradcheck_kind (CL_LOSS_DECOUPLED, 6, 5, 0.1f, 0.05f, 1e-3, 12);
  gradcheck_kind (CL_LOSS_DECOUPLED, 16, 32, 0.2f, 0.01f, 1e-3, 12);
}

/* SWD is piecewise quadratic in z (one piece per set of sort permutations); the step is
 * capped from the data's smallest projection gap so the perturbation never reorders.
 * Data seed 14 at n = 8, d = 16 has gaps of 2.5e-3 (raw) and 4.4e-4 (normalised), so the
 * capped step stays well above float noise (random data can have gaps of 1e-6). */
static void
test_gradcheck_swd (void)
{
  gradcheck_kind (CL_LOSS_SWD_NORMAL, 4, 6, 1.0f, 0.8f, 1e-3, 13);
  gradcheck_kind (CL_LOSS_SWD_CUBE, 4, 6, 1.0f, 0.8f, 1e-3, 14);
  gradcheck_kind (CL_LOSS_SWD_SPHERE, 4, 6, 1.0f, 0.8f, 1e-3, 15);
  gradcheck_kind (CL_LOSS_SWD_NORMAL, 8, 16, 1.0f, 0.3f, 1e-3, 14);
  gradcheck_kind (CL_LOSS_SWD_CUBE, 8, 16, 1.0f, 0.3f, 1e-3, 14);
  gradcheck_kind (CL_LOSS_SWD_SPHERE, 8, 16, 1.0f, 0.3f, 1e-3, 14);
}

/* The normalised kinds depend on each row only through its direction, so the gradient of
 * every row must be orthogonal to that row (the exact statement of "chained through
 * the normalisation"). */
static void
test_gradient_scale_invariance (void)
{
  const int n = 12, d = 16;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz = g_new (float, count);
  float *w = g_new (float, (size_t) d *d), *prior = g_new (float, count);
  fill_views (z, n, d, 0.5, 1.5, 3);
  draw_fixed_swd (CL_LOSS_SWD_SPHERE, n, d, 9, w, prior);
  const ClLossKind kinds[] = { CL_LOSS_NTXENT, CL_LOSS_DECOUPLED, CL_LOSS_SWD_SPHERE };
  for (int q = 0; q < 3; q++)
    {
      float *ws = new_ws (kinds[q], n, d);
      Eval e = { kinds[q], n, d, 0.2f, 0.5f, w, prior, ws };
      eval (&e, z, dz);
      for (int i = 0; i < 2 * n; i++)
        {
          double dot = 0.0, zz = 0.0, gg = 0.0;
          for (int k = 0; k < d; k++)
            {
              dot += (double) z[(size_t) i * d + k] * dz[(size_t) i * d + k];
              zz += (double) z[(size_t) i * d + k] * z[(size_t) i * d + k];
              gg += (double) dz[(size_t) i * d + k] * dz[(size_t) i * d + k];
            }
          /* cosine between row and its gradient: float32 rounding leaves ~1e-6 */
          g_assert_cmpfloat (fabs (dot) / sqrt (zz * gg + 1e-300), <, 1e-4);
        }
      /* and the loss itself does not move when rows are rescaled */
      ClLossResult a = eval (&e, z, NULL);
      float *scaled = g_new (float, count);
      for (int i = 0; i < 2 * n; i++)
        for (int k = 0; k < d; k++)
          scaled[(size_t) i * d + k] = z[(size_t) i * d + k] * (float) (1 << (i % 4));
      /* power-of-two scales leave the normalised rows bit-identical */
      ClLossResult b = eval (&e, scaled, NULL);
      g_assert_cmpfloat (a.loss, ==, b.loss);
      g_free (scaled);
      g_free (ws);
    }
  g_free (z);
  g_free (dz);
  g_free (w);
  g_free (prior);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/loss/gradcheck/ntxent", test_gradcheck_ntxent);
  g_test_add_func ("/loss/gradcheck/decoupled", test_gradcheck_decoupled);
  g_test_add_func ("/loss/gradcheck/swd", test_gradcheck_swd);
  g_test_add_func ("/loss/gradcheck/scale-invariance", test_gradient_scale_invariance);
  return g_test_run ();
}
