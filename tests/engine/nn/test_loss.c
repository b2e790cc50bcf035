/* Tests of engine/nn/cl_loss.c: values and gradients against the float64 numpy oracle
 * (tests/fixtures/loss_fixtures.h) and properties of the losses (parts, floors, accuracy, stability,
 * workspace, threads). The gradient checks are in test_loss_gradcheck.c, the SWD draws in
 * test_loss_swd.c. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_loss.h"
#include "engine/nn/cl_team.h"
#include "engine/base/cl_rng.h"
#include "tests/fixtures/loss_fixtures.h"
#include "tests/engine/nn/loss_test_util.h"

/* ------------------------------------------------------------------ fixtures */

/* Float32 tolerances against the float64 oracle.
 * Cosines are formed in float32 from rows normalised in double and rounded: each entry of
 * S carries an error of a few ulps times sqrt(d) (sgemm accumulation), at most ~1e-6.
 * A quantity made of logits S/tau therefore carries up to ~1e-6/tau absolute error, which is
 * the dominant term for the parts of NT-Xent (-1/tau-sized alignment against a 1/tau-sized
 * log-sum-exp); everything else is accumulated in double. So: relative 1e-5, plus
 * 2e-6/tau absolute for the temperature-scaled kinds. The SWD values are O(1) sums of
 * squares of float32 projections: relative 1e-5 plus 1e-6 absolute.
 * Gradients: every entry is a sum of products of float32 values with softmax weights
 * whose relative error is ~1e-6/tau; the worst entry is compared to the largest expected
 * entry at 1e-4 (a wrong sign, missing term or missing 1/|z| fails by orders of magnitude). */
static void
check_against_fixture (ClLossKind kind)
{
  int checked = 0;
  for (int c = 0; c < CL_LOSS_FIXTURE_N_CASES; c++)
    {
      const ClLossFixtureCase *fc = &cl_loss_fixture_cases[c];
      const ClLossFixtureExpect *ex = &fc->kind[kind];
      if (!ex->present)
        continue;
      int rows = 2 * fc->n;
      size_t count = (size_t) rows * fc->d;
      float *ws = new_ws (kind, fc->n, fc->d);
      float *dz = g_new (float, count);
      const float *prior = kind == CL_LOSS_SWD_CUBE ? fc->prior_uniform : fc->prior_normal;
      Eval e = { kind, fc->n, fc->d, fc->tau, fc->lambda, fc->w, prior, ws };
      ClLossResult r = eval (&e, fc->z, dz);

      double abs_tol = (kind == CL_LOSS_NTXENT || kind == CL_LOSS_DECOUPLED) ? 2e-6 / fc->tau : 1e-6;
      if (kind == CL_LOSS_DECOUPLED)
        abs_tol *= fc->lambda;
      double got[3] = { r.loss, r.alignment, r.distribution };
      double want[3] = { ex->loss, ex->alignment, ex->distribution };
      const char *what[3] = { "loss", "alignment", "distribution" };
      for (int q = 0; q < 3; q++)
        {
          double err = fabs (got[q] - want[q]);
          double tol = 1e-5 * fabs (want[q]) + abs_tol;
          g_test_message ("%s %s %s: C %.10g oracle %.10g err %.2e tol %.2e", fc->name, cl_loss_kind_name (kind),
                          what[q], got[q], want[q], err, tol);
          if (!(err <= tol))
            g_error ("%s %s %s: C %.10g, oracle %.10g (err %.3g > tol %.3g)", fc->name, cl_loss_kind_name (kind),
                     what[q], got[q], want[q], err, tol);
        }
      /* The oracle guarantees every cosine margin is >= 1e-4, far above float32 error. */
      g_assert_cmpfloat (fc->min_margin, >=, 1e-4);
      g_assert_cmpfloat (r.accuracy, ==, ex->accuracy);

      double gmax = 0.0, gerr = 0.0;
      for (size_t k = 0; k < count; k++)
        {
          gmax = fmax (gmax, fabs (ex->dz[k]));
          gerr = fmax (gerr, fabs ((double) dz[k] - ex->dz[k]));
        }
      g_test_message ("%s %s dz: max err %.2e of max |dz| %.2e (rel %.2e)", fc->name, cl_loss_kind_name (kind), gerr,
                      gmax, gerr / gmax);
      g_assert_cmpfloat (gmax, >, 0.0);
      if (!(gerr <= 1e-4 * gmax))
        g_error ("%s %s: dz differs from the oracle by %.3g (max |dz| %.3g)", fc->name, cl_loss_kind_name (kind), gerr,
                 gmax);
      checked++;
      g_free (dz);
      g_free (ws);
    }
  /* Guard against an empty or truncated fixture making this test vacuous: the generator
   * writes five cases, four with SWD expectations (not the near-duplicate one). */
  g_assert_cmpint (checked, ==, (kind == CL_LOSS_NTXENT || kind == CL_LOSS_DECOUPLED) ? 5 : 4);
}

static void
test_fixture_ntxent (void)
{
  check_against_fixture (CL_LOSS_NTXENT);
}

static void
test_fixture_decoupled (void)
{
  check_against_fixture (CL_LOSS_DECOUPLED);
}

static void
test_fixture_swd (void)
{
  check_against_fixture (CL_LOSS_SWD_NORMAL);
  check_against_fixture (CL_LOSS_SWD_CUBE);
  check_against_fixture (CL_LOSS_SWD_SPHERE);
}

/* ------------------------------------------------------------------ properties */

static void
test_parts_sum (void)
{
  const int n = 20, d = 12;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz = g_new (float, count);
  fill_views (z, n, d, 0.6, 1.0, 21);
  ClRng rng;
  cl_rng_seed (&rng, 4, CL_STREAM_LOSS);
  for (int q = 0; q < N_KINDS; q++)
    {
      float *ws = new_ws (all_kinds[q], n, d);
      ClLossParams p = { all_kinds[q], 0.15f, 0.3f };
      ClLossResult r = cl_loss_compute (&p, z, n, d, &rng, dz, ws);
      g_assert_true (isfinite (r.loss));
      g_assert_cmpfloat (fabs (r.loss - (r.alignment + r.distribution)), <=, 1e-12 * fmax (1.0, fabs (r.loss)));
      g_assert_cmpfloat (r.accuracy, >=, 0.0);
      g_assert_cmpfloat (r.accuracy, <=, 1.0);
      /* the SWD and decoupled alignment parts are halved mean squares: non-negative */
      if (all_kinds[q] != CL_LOSS_NTXENT)
        g_assert_cmpfloat (r.alignment, >=, 0.0);
      g_free (ws);
    }
  g_free (z);
  g_free (dz);
}

/* Perfect alignment with mutually orthogonal images: every positive has cosine 1 and all
 * 2n-2 negatives cosine 0, so
 *   L = -1/tau + log(e^(1/tau) + 2n - 2) = log(1 + (2n-2) e^(-1/tau)),
 * which goes to the loss's floor of 0 as tau -> 0. */
static void
test_ntxent_floor (void)
{
  const int n = 8, d = 16;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new0 (float, count), *dz = g_new (float, count);
  float *ws = new_ws (CL_LOSS_NTXENT, n, d);
  for (int i = 0; i < n; i++)
    {
      z[(size_t) i * d + i] = 2.0f;
      z[(size_t) (i + n) * d + i] = 0.5f;
    }
  const float taus[] = { 1.0f, 0.5f, 0.2f, 0.1f, 0.05f };
  double previous = INFINITY;
  for (int t = 0; t < 5; t++)
    {
      double tau = taus[t];
      ClLossResult r = cl_ntxent (z, n, d, taus[t], dz, ws);
      double expect = log1p ((2.0 * n - 2.0) * exp (-1.0 / tau));
      g_assert_cmpfloat (fabs (r.loss - expect), <=, 1e-6 * expect + 1e-6);
      g_assert_cmpfloat (fabs (r.alignment + 1.0 / tau), <=, 1e-6 / tau);
      g_assert_cmpfloat (fabs (r.distribution - (1.0 / tau + expect)), <=, 1e-6 / tau);
      g_assert_cmpfloat (r.accuracy, ==, 1.0);
      g_assert_cmpfloat (r.loss, <, previous);
      g_assert_true (all_finite (dz, count));
      previous = r.loss;
    }
  g_assert_cmpfloat (previous, <, 1e-6);
  g_assert_cmpfloat (previous, >=, 0.0);

  /* The same geometry is far from the floor once the positives disagree. */
  for (int i = 0; i < n; i++)
    {
      z[(size_t) (i + n) * d + i] = 0.0f;
      z[(size_t) (i + n) * d + (i + 1) % n] = 0.5f;
    }
  ClLossResult shuffled = cl_ntxent (z, n, d, 0.1f, NULL, ws);
  g_assert_cmpfloat (shuffled.loss, >, 5.0);
  g_assert_cmpfloat (shuffled.accuracy, ==, 0.0);
  g_free (z);
  g_free (dz);
  g_free (ws);
}

/* Hand-checked decoupled case, n = 1, d = 2, tau = 0.5, lambda = 0.1:
 *   z1 = (3, 0), z2 = (0, 0.5)  ->  h1 = (1, 0), h2 = (0, 1)
 *   alignment = mean over the n*d = 2 entries of (h1 - h2)^2, halved
 *             = ((1)^2 + (-1)^2) / 2 / 2 = 0.5
 *   S = [[1, 0], [0, 1]], S/tau = [[2, 0], [0, 2]], no mask, so each row's
 *   logsumexp = log(e^2 + e^0) = 2.1269280110429727
 *   distribution term = 2.1269280110429727 - log 2 = 1.4337808304830274
 *   loss = 0.5 + 0.1 * 1.4337808304830274 = 0.64337808304830274
 * Gradient: with s = e^2/(e^2+1) = 0.8807970779778823, G = lambda softmax/(2n tau)
 *   = 0.1 [[s, 1-s], [1-s, s]], so (G + G^T) H adds 0.2 (s, 1-s) to dh1 and
 *   0.2 (1-s, s) to dh2; alignment adds (h1-h2)/(n d) = (0.5, -0.5) to dh1 and the
 *   negative to dh2:
 *   dh1 = (0.5 + 0.2 s, -0.5 + 0.2 (1-s)) = (0.67615941559, -0.47615941559)
 *   dh2 = (-0.47615941559, 0.67615941559)
 *   The normalisation removes the component along h and divides by |z|:
 *   dz1 = (0, -0.47615941559 / 3)   = (0, -0.15871980520)
 *   dz2 = (-0.47615941559 / 0.5, 0) = (-0.95231883119, 0)
 * With n = 1 there are no negatives, so the positive is always the most similar row. */
static void
test_decoupled_hand (void)
{
  const float z[4] = { 3.0f, 0.0f, 0.0f, 0.5f };
  float dz[4];
  float *ws = new_ws (CL_LOSS_DECOUPLED, 1, 2);
  ClLossResult r = cl_loss_decoupled (z, 1, 2, 0.5f, 0.1f, dz, ws);
  g_assert_cmpfloat (fabs (r.alignment - 0.5), <=, 1e-7);
  g_assert_cmpfloat (fabs (r.distribution - 0.14337808304830274), <=, 1e-6);
  g_assert_cmpfloat (fabs (r.loss - 0.64337808304830274), <=, 1e-6);
  g_assert_cmpfloat (r.accuracy, ==, 1.0);
  const double want[4] = { 0.0, -0.15871980520, -0.95231883119, 0.0 };
  for (int k = 0; k < 4; k++)
    g_assert_cmpfloat (fabs (dz[k] - want[k]), <=, 1e-6);

  /* Through cl_loss_compute too (lambda is honoured, rng not needed). */
  ClLossParams p = { CL_LOSS_DECOUPLED, 0.5f, 0.1f };
  ClLossResult viaparams = cl_loss_compute (&p, z, 1, 2, NULL, NULL, ws);
  g_assert_cmpfloat (viaparams.loss, ==, r.loss);
  g_free (ws);
}

/* Accuracy 1 when each positive is an exact copy and the images are distinct; 0 when every
 * view 2 is the copy of another image's view 1. Same for every kind. */
static void
test_accuracy (void)
{
  const int n = 24, d = 10;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count);
  ClRng rng;
  cl_rng_seed (&rng, 8, CL_STREAM_LOSS);
  for (int q = 0; q < N_KINDS; q++)
    {
      float *ws = new_ws (all_kinds[q], n, d);
      ClLossParams p = { all_kinds[q], 0.2f, 0.5f };
      fill_views (z, n, d, 0.0, 0.0, 8);
      g_assert_cmpfloat (cl_loss_compute (&p, z, n, d, &rng, NULL, ws).accuracy, ==, 1.0);
      for (int i = 0; i < n; i++)
        memcpy (z + (size_t) (i + n) * d, z + (size_t) ((i + 1) % n) * d, d * sizeof (float));
      g_assert_cmpfloat (cl_loss_compute (&p, z, n, d, &rng, NULL, ws).accuracy, ==, 0.0);
      g_free (ws);
    }
  g_free (z);
}

/* Ties are misses. Rows are basis vectors, so every cosine is exactly 0 or 1 whatever the
 * summation order. n = 4, d = 8, z_i = z_{n+i} = e_i, except view 2 of image 1 is e_0:
 *   anchor 0 (e_0): positive e_0 = 1, negative row n+1 = e_0 = 1   -> tie, miss
 *   anchor n (e_0): positive e_0 = 1, negative row n+1 = 1           -> tie, miss
 *   anchor n+1 (e_0): positive row 1 = e_1 -> 0 < rows 0, n = 1      -> miss
 *   anchor 1 (e_1): positive e_0 -> 0, every negative 0              -> tie, miss
 *   anchors 2, 3, n+2, n+3: positive 1, negatives 0                   -> hits
 * so the accuracy is 4/8 (counting ties as hits would give 7/8). */
static void
test_accuracy_ties (void)
{
  const int n = 4, d = 8;
  float z[2 * 4 * 8] = { 0 };
  for (int i = 0; i < n; i++)
    {
      z[i * d + i] = 1.0f;
      z[(i + n) * d + i] = 1.0f;
    }
  z[(n + 1) * d + 1] = 0.0f;
  z[(n + 1) * d + 0] = 1.0f;
  ClRng rng;
  cl_rng_seed (&rng, 3, CL_STREAM_LOSS);
  for (int q = 0; q < N_KINDS; q++)
    {
      float *ws = new_ws (all_kinds[q], n, d);
      ClLossParams p = { all_kinds[q], 0.2f, 0.5f };
      g_assert_cmpfloat (cl_loss_compute (&p, z, n, d, &rng, NULL, ws).accuracy, ==, 0.5);
      g_free (ws);
    }
}

/* tau = 0.01 with n = 1000: logits reach 100, so exp without the max shift would overflow
 * float32. Random and perfectly aligned batches, plus an all-zero row (the eps guard). */
static void
test_stability_small_tau (void)
{
  const int n = 1000, d = 64;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz = g_new (float, count);
  float *ws = g_new (float, cl_loss_workspace_floats_max (n, d));
  ClRng rng;
  cl_rng_seed (&rng, 5, CL_STREAM_LOSS);
  for (int variant = 0; variant < 3; variant++)
    {
      fill_views (z, n, d, variant == 0 ? 0.5 : 0.0, 1.0, 40);
      if (variant == 2)
        memset (z + 17 * d, 0, d * sizeof (float));
      for (int q = 0; q < N_KINDS; q++)
        {
          ClLossParams p = { all_kinds[q], 0.01f, 0.01f };
          ClLossResult r = cl_loss_compute (&p, z, n, d, &rng, dz, ws);
          g_assert_true (isfinite (r.loss) && isfinite (r.alignment) && isfinite (r.distribution));
          g_assert_true (all_finite (dz, count));
          if (all_kinds[q] == CL_LOSS_NTXENT)
            {
              /* each term is -l_ip + lse_{k != i} l_ik >= 0 */
              g_assert_cmpfloat (r.loss, >=, -1e-4);
              if (variant == 1)
                g_assert_cmpfloat (r.accuracy, ==, 1.0);
            }
        }
    }
  g_free (z);
  g_free (dz);
  g_free (ws);
}

/* A NaN in the batch (a diverged model) must come back as a non-finite loss, which is what
 * the trainer checks, without crashing or reading out of bounds in the sorts. */
static void
test_nan_input (void)
{
  const int n = 10, d = 6;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz = g_new (float, count);
  fill_views (z, n, d, 0.5, 0.5, 4);
  z[3 * d + 2] = NAN;
  ClRng rng;
  cl_rng_seed (&rng, 6, CL_STREAM_LOSS);
  for (int q = 0; q < N_KINDS; q++)
    {
      float *ws = new_ws (all_kinds[q], n, d);
      ClLossParams p = { all_kinds[q], 0.1f, 0.5f };
      ClLossResult r = cl_loss_compute (&p, z, n, d, &rng, dz, ws);
      g_assert_false (isfinite (r.loss));
      g_assert_cmpfloat (r.accuracy, <, 1.0);
      g_free (ws);
    }
  g_free (z);
  g_free (dz);
}

/* ------------------------------------------------------------------ plumbing */

static void
test_kind_names (void)
{
  for (int q = 0; q < N_KINDS; q++)
    {
      ClLossKind back = CL_LOSS_N_KINDS;
      g_assert_true (cl_loss_kind_from_name (cl_loss_kind_name (all_kinds[q]), &back));
      g_assert_cmpint (back, ==, all_kinds[q]);
    }
  g_assert_cmpstr (cl_loss_kind_name (CL_LOSS_SWD_SPHERE), ==, "swd-sphere");
  g_assert_cmpstr (cl_loss_kind_name (CL_LOSS_NTXENT), ==, "ntxent");
  g_assert_null (cl_loss_kind_name (CL_LOSS_N_KINDS));
  g_assert_false (cl_loss_kind_from_name ("swd_sphere", NULL));
  g_assert_false (cl_loss_kind_from_name (NULL, NULL));
}

/* The workspace is exactly large enough (a guard band after it stays untouched), its prior
 * contents do not matter (NaN-poisoned gives bit-identical results), and dz = NULL gives the
 * same value. */
static void
test_workspace (void)
{
  const int n = 37, d = 13, guard = 256;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz1 = g_new (float, count), *dz2 = g_new (float, count);
  fill_views (z, n, d, 0.4, 1.0, 66);
  g_assert_cmpuint (cl_loss_workspace_floats (CL_LOSS_NTXENT, n, d), ==, cl_ntxent_workspace_floats (n, d));
  for (int q = 0; q < N_KINDS; q++)
    {
      size_t size = cl_loss_workspace_floats (all_kinds[q], n, d);
      g_assert_cmpuint (size, <=, cl_loss_workspace_floats_max (n, d));
      float *ws = g_new (float, size + guard);
      ClLossParams p = { all_kinds[q], 0.3f, 0.2f };
      ClRng a, b;
      cl_rng_seed (&a, 17, CL_STREAM_LOSS);
      cl_rng_seed (&b, 17, CL_STREAM_LOSS);

      memset (ws, 0, (size + guard) * sizeof (float));
      ClLossResult r1 = cl_loss_compute (&p, z, n, d, &a, dz1, ws);
      for (size_t k = 0; k < size; k++)
        ws[k] = NAN;
      for (int k = 0; k < guard; k++)
        ws[size + k] = 12345.0f;
      ClLossResult r2 = cl_loss_compute (&p, z, n, d, &b, dz2, ws);
      for (int k = 0; k < guard; k++)
        g_assert_cmpfloat (ws[size + k], ==, 12345.0f);
      g_assert_cmpfloat (r1.loss, ==, r2.loss);
      g_assert_cmpfloat (r1.accuracy, ==, r2.accuracy);
      g_assert_cmpmem (dz1, count * sizeof (float), dz2, count * sizeof (float));

      cl_rng_seed (&a, 17, CL_STREAM_LOSS);
      ClLossResult r3 = cl_loss_compute (&p, z, n, d, &a, NULL, ws);
      g_assert_cmpfloat (r3.loss, ==, r1.loss);
      g_assert_cmpfloat (r3.alignment, ==, r1.alignment);
      g_free (ws);
    }
  g_free (z);
  g_free (dz1);
  g_free (dz2);
}

/* Time of one NT-Xent forward + gradient at the paper's batch (n = 1000, d = 64). Reported,
 * not asserted: the machine decides the number. */
static void
test_timing (void)
{
  const int n = 1000, d = 64;
  size_t count = (size_t) 2 * n * d;
  float *z = g_new (float, count), *dz = g_new (float, count);
  float *ws = g_new (float, cl_loss_workspace_floats_max (n, d));
  fill_views (z, n, d, 0.5, 0.5, 7);
  ClRng rng;
  cl_rng_seed (&rng, 1, CL_STREAM_LOSS);
  for (int q = 0; q < N_KINDS; q++)
    {
      ClLossParams p = { all_kinds[q], 0.1f, 0.01f };
      double best = INFINITY, first = 0.0;
      for (int rep = 0; rep < 5; rep++)
        {
          gint64 t0 = g_get_monotonic_time ();
          ClLossResult r = cl_loss_compute (&p, z, n, d, &rng, dz, ws);
          double ms = (g_get_monotonic_time () - t0) / 1000.0;
          g_assert_true (isfinite (r.loss));
          if (rep == 0)
            first = ms;
          best = fmin (best, ms);
        }
      g_test_message ("timing %s n=%d d=%d fwd+grad: first call %.1f ms, best of 5 %.1f ms",
                      cl_loss_kind_name (all_kinds[q]), n, d, first, best);
    }
  g_free (z);
  g_free (dz);
  g_free (ws);
}

/* The losses' exponential (cl_exp_nonpositive, and cl_exp_shifted's 8-lane path) against the C
 * library's expf: within 4 ulp wherever the result is a normal float, exactly 1 at 0, 0 at -inf
 * and below -87 (where expf is under 1.7e-38), NaN stays NaN; the vector path also on a length
 * that is not a multiple of 8 and in place. */
static double
ulps (float got, float want)
{
  return fabs ((double) got - want) / (ldexp (1.0, -23) * fabs ((double) want));
}

static void
test_exp_nonpositive (void)
{
  const int n = 1000003;
  float *x = g_new (float, n), *y = g_new (float, n);
  ClRng rng;
  cl_rng_seed (&rng, 17, 1);
  for (int i = 0; i < n; i++)
    x[i] = i % 2 ? (float) (-87.0 * i / n) : (float) (-90.0 * cl_rng_uniform (&rng));
  x[0] = 0.0f;
  cl_exp_shifted (x, n, 0.0f, 1.0f, y);
  double worst_scalar = 0, worst_vector = 0;
  for (int i = 0; i < n; i++)
    {
      const float want = expf (x[i]), scalar = cl_exp_nonpositive (x[i]);
      if (x[i] >= -87.0f)
        {
          worst_scalar = MAX (worst_scalar, ulps (scalar, want));
          worst_vector = MAX (worst_vector, ulps (y[i], want));
        }
      else
        {
          g_assert_cmpfloat (scalar, ==, 0.0f);
          g_assert_cmpfloat (y[i], ==, 0.0f);
        }
    }
  g_test_message ("worst error against expf on [-87, 0]: scalar %.2f ulp, vector %.2f ulp", worst_scalar, worst_vector);
  g_assert_cmpfloat (worst_scalar, <=, 4.0);
  g_assert_cmpfloat (worst_vector, <=, 4.0);
  g_assert_cmpfloat (cl_exp_nonpositive (0.0f), ==, 1.0f);
  g_assert_cmpfloat (y[0], ==, 1.0f);
  g_assert_cmpfloat (cl_exp_nonpositive (-INFINITY), ==, 0.0f);
  g_assert_true (isnan (cl_exp_nonpositive (NAN)));

  /* Shift and scale as the softmax uses them, in place, 13 values (one 8-lane block + a tail). */
  float row[13], want[13];
  for (int i = 0; i < 13; i++)
    row[i] = (float) cl_rng_uniform (&rng) * 2.0f - 1.0f;
  row[4] = -INFINITY;
  row[6] = 1.0f;
  row[11] = NAN;
  for (int i = 0; i < 13; i++)
    want[i] = expf ((row[i] - 1.0f) * 20.0f);
  cl_exp_shifted (row, 13, 1.0f, 20.0f, row);
  for (int i = 0; i < 13; i++)
    if (i == 11)
      g_assert_true (isnan (row[i]));
    else if (i == 4)
      g_assert_cmpfloat (row[i], ==, 0.0f);
    else
      g_assert_cmpfloat (ulps (row[i], want[i]), <=, 4.0);
  g_assert_cmpfloat (row[6], ==, 1.0f);
  g_free (x);
  g_free (y);
}

/* The cosine losses on 1 to 4 team threads: the same loss, parts and gradient, bit for bit (the
 * softmax rows go in fixed blocks and are summed in row order; the products are fixed blocks). */
static void
test_threads_identical (void)
{
  static const ClLossKind kinds[] = { CL_LOSS_NTXENT, CL_LOSS_DECOUPLED };
  const int n = 300, d = 64;
  ClRng rng;
  cl_rng_seed (&rng, 77, 5);
  float *z = g_new (float, 2 * (size_t) n * d);
  for (size_t i = 0; i < 2 * (size_t) n * d; i++)
    z[i] = (float) cl_rng_normal (&rng);
  for (size_t ki = 0; ki < G_N_ELEMENTS (kinds); ki++)
    {
      float *ws = new_ws (kinds[ki], n, d);
      float *dz1 = g_new (float, 2 * (size_t) n * d), *dz = g_new (float, 2 * (size_t) n * d);
      ClLossResult r1 = { 0 };
      for (int threads = 1; threads <= 4; threads++)
        {
          cl_layers_set_threads (threads);
          ClLossResult r = kinds[ki] == CL_LOSS_NTXENT
                               ? cl_ntxent (z, n, d, 0.2f, threads == 1 ? dz1 : dz, ws)
                               : cl_loss_decoupled (z, n, d, 0.2f, 0.5f, threads == 1 ? dz1 : dz, ws);
          g_assert_true (isfinite (r.loss));
          if (threads == 1)
            {
              r1 = r;
              continue;
            }
          g_assert_cmpmem (&r.loss, sizeof r.loss, &r1.loss, sizeof r1.loss);
          g_assert_cmpmem (&r.alignment, sizeof r.alignment, &r1.alignment, sizeof r1.alignment);
          g_assert_cmpmem (&r.distribution, sizeof r.distribution, &r1.distribution, sizeof r1.distribution);
          g_assert_cmpmem (&r.accuracy, sizeof r.accuracy, &r1.accuracy, sizeof r1.accuracy);
          g_assert_cmpmem (dz, sizeof (float) * 2 * n * d, dz1, sizeof (float) * 2 * n * d);
        }
      cl_layers_set_threads (1);
      g_free (ws);
      g_free (dz1);
      g_free (dz);
    }
  g_free (z);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/loss/exp-nonpositive", test_exp_nonpositive);
  g_test_add_func ("/loss/threads-identical", test_threads_identical);
  g_test_add_func ("/loss/fixture/ntxent", test_fixture_ntxent);
  g_test_add_func ("/loss/fixture/decoupled", test_fixture_decoupled);
  g_test_add_func ("/loss/fixture/swd", test_fixture_swd);
  g_test_add_func ("/loss/parts-sum", test_parts_sum);
  g_test_add_func ("/loss/ntxent/floor", test_ntxent_floor);
  g_test_add_func ("/loss/decoupled/hand", test_decoupled_hand);
  g_test_add_func ("/loss/accuracy", test_accuracy);
  g_test_add_func ("/loss/accuracy/ties", test_accuracy_ties);
  g_test_add_func ("/loss/stability/tau-0.01-n1000", test_stability_small_tau);
  g_test_add_func ("/loss/stability/nan-input", test_nan_input);
  g_test_add_func ("/loss/kind-names", test_kind_names);
  g_test_add_func ("/loss/workspace", test_workspace);
  g_test_add_func ("/loss/timing", test_timing);
  return g_test_run ();
}
