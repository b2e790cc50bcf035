/* The linear probes. Both kinds: separable data is separated, noise stays at chance, scale does
 * not matter, a dead feature is harmless, several targets at once equal each alone. The logistic
 * probe also: its gradient against central differences, and its weights and accuracy against
 * scikit-learn's LogisticRegression on a committed fixture (tests/reference/probe_fixture.h,
 * made by tests/reference/make_probe_fixture.py). */
#include <glib.h>
#include <math.h>

#include "engine/analysis/cl_probe.h"
#include "engine/base/cl_rng.h"
#include "engine/analysis/cl_probe_private.h"
#include "tests/reference/probe_fixture.h"

/* The probe kind the shared tests below exercise (each is registered once per kind). */
static ClProbeKind kind;

static double
fit_and_score (const float *xtr, const uint8_t *ytr, int n_train, const float *xte, const uint8_t *yte, int n_test,
               int dim, int classes)
{
  if (kind == CL_PROBE_LOGISTIC)
    {
      double acc;
      g_assert_true (cl_probe_logistic_multi (xtr, n_train, xte, n_test, dim, 1, &ytr, &yte, &classes,
                                              CL_PROBE_LOGISTIC_L2, &acc, NULL));
      return acc;
    }
  double *ws = g_new (double, cl_probe_workspace_doubles (dim, classes));
  double acc = cl_probe_ridge (xtr, ytr, n_train, xte, yte, n_test, dim, classes, 1e-3, ws);
  g_free (ws);
  return acc;
}

static void
make_blobs (ClRng *rng, int n, int dim, int classes, double separation, double scale0, float *x, uint8_t *y)
{
  for (int i = 0; i < n; i++)
    {
      int c = (int) cl_rng_below (rng, (uint32_t) classes);
      y[i] = (uint8_t) c;
      for (int j = 0; j < dim; j++)
        {
          /* Class c has its mean shifted along axis c. */
          double v = cl_rng_normal (rng) + (j == c ? separation : 0.0);
          x[(size_t) i * dim + j] = (float) (j == 0 ? v * scale0 : v);
        }
    }
}

static double
probe (int n_train, int n_test, int dim, int classes, double separation, double scale0, uint64_t seed)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, 1);
  float *xtr = g_new (float, (size_t) n_train *dim), *xte = g_new (float, (size_t) n_test *dim);
  uint8_t *ytr = g_new (uint8_t, n_train), *yte = g_new (uint8_t, n_test);
  make_blobs (&rng, n_train, dim, classes, separation, scale0, xtr, ytr);
  make_blobs (&rng, n_test, dim, classes, separation, scale0, xte, yte);
  double acc = fit_and_score (xtr, ytr, n_train, xte, yte, n_test, dim, classes);
  g_free (xtr);
  g_free (xte);
  g_free (ytr);
  g_free (yte);
  return acc;
}

static void
test_separable (void)
{
  double acc = probe (2000, 2000, 16, 4, 6.0, 1.0, 1);
  g_test_message ("separable accuracy %.4f", acc);
  g_assert_cmpfloat (acc, >, 0.98);
}

static void
test_noise_is_chance (void)
{
  /* separation 0: labels carry nothing; 4 balanced classes -> 0.25 +- a few sigma (sigma ~ 0.01). */
  double acc = probe (2000, 4000, 16, 4, 0.0, 1.0, 2);
  g_test_message ("noise accuracy %.4f", acc);
  g_assert_cmpfloat (fabs (acc - 0.25), <, 0.04);
}

static void
test_scale_invariant (void)
{
  /* The informative axis 0 is scaled by 1e4 (and the rest are informative too): standardising
   * means the same accuracy whatever the scale. */
  double a = probe (1500, 1500, 8, 3, 2.0, 1.0, 3);
  double b = probe (1500, 1500, 8, 3, 2.0, 1e4, 3);
  g_test_message ("accuracy at scale 1: %.4f, at scale 1e4: %.4f", a, b);
  g_assert_cmpfloat (fabs (a - b), <, 0.01);
  g_assert_cmpfloat (a, >, 0.6);
}

static void
test_dead_feature (void)
{
  /* A constant feature (a dead ReLU unit) must not break the solve. */
  int n = 500, dim = 4;
  float *x = g_new0 (float, (size_t) n *dim);
  uint8_t *y = g_new (uint8_t, n);
  for (int i = 0; i < n; i++)
    {
      y[i] = (uint8_t) (i % 2);
      x[(size_t) i * dim + 1] = y[i] ? 1.0f : -1.0f;
      x[(size_t) i * dim + 2] = 7.0f; /* constant */
    }
  double acc = fit_and_score (x, y, n, x, y, n, dim, 2);
  g_assert_cmpfloat (acc, ==, 1.0);
  g_free (x);
  g_free (y);
}

/* Fitting several targets at once gives exactly what fitting each alone gives. */
static void
test_multi_matches_single (void)
{
  int n = 1200, dim = 10;
  ClRng rng;
  cl_rng_seed (&rng, 9, 1);
  float *x = g_new (float, (size_t) n *dim);
  uint8_t *y = g_new (uint8_t, n), *bit = g_new (uint8_t, n);
  make_blobs (&rng, n, dim, 5, 2.0, 1.0, x, y);
  for (int i = 0; i < n; i++)
    bit[i] = (uint8_t) (x[(size_t) i * dim + 7] > 0.3f); /* learnable binary target */
  int half = n / 2;
  uint8_t *ytr = y, *yte = y + half, *btr = bit, *bte = bit + half;
  const float *xtr = x, *xte = x + (size_t) half * dim;
  double *ws = g_new (double, cl_probe_workspace_doubles (dim, 7));
  double single_y = fit_and_score (xtr, ytr, half, xte, yte, half, dim, 5);
  double single_b = fit_and_score (xtr, btr, half, xte, bte, half, dim, 2);
  const uint8_t *train_y[] = { ytr, btr }, *test_y[] = { yte, bte };
  int classes[] = { 5, 2 };
  double acc[2];
  if (kind == CL_PROBE_LOGISTIC)
    g_assert_true (cl_probe_logistic_multi (xtr, half, xte, half, dim, 2, train_y, test_y, classes,
                                            CL_PROBE_LOGISTIC_L2, acc, NULL));
  else
    g_assert_true (cl_probe_ridge_multi (xtr, half, xte, half, dim, 2, train_y, test_y, classes, 1e-3, ws, acc));
  g_test_message ("class %.4f bit %.4f", acc[0], acc[1]);
  /* Ridge: the same linear solve, exactly. Logistic: the joint optimum is each target's own (the
   * objective is a sum of independent parts), but both fits stop at a gradient tolerance, so a
   * held-out point right at a boundary could flip: at most one point. */
  g_assert_cmpfloat (fabs (acc[0] - single_y), <=, kind == CL_PROBE_LOGISTIC ? 1.0 / half : 0.0);
  g_assert_cmpfloat (fabs (acc[1] - single_b), <=, kind == CL_PROBE_LOGISTIC ? 1.0 / half : 0.0);
  g_assert_cmpfloat (acc[1], >, 0.9);
  g_free (x);
  g_free (y);
  g_free (bit);
  g_free (ws);
}

/* ------------------------------------------------------------------ logistic only */

/* A small standardised problem with a 3-class and a 2-class target. */
static void
small_problem (int n, int dim, double *x, uint8_t *y3, uint8_t *y2)
{
  ClRng rng;
  cl_rng_seed (&rng, 42, 1);
  for (int i = 0; i < n; i++)
    {
      y3[i] = (uint8_t) cl_rng_below (&rng, 3);
      y2[i] = (uint8_t) cl_rng_below (&rng, 2);
      for (int j = 0; j < dim; j++)
        x[(size_t) i * dim + j] = cl_rng_normal (&rng) + (j == y3[i] ? 1.0 : 0.0) + (j == dim - 1 && y2[i] ? 0.8 : 0.0);
    }
}

/* The analytic gradient of the objective (both target kinds at once, with the penalty) against
 * float64 central differences at a random point. */
static void
test_logistic_gradient (void)
{
  enum
  {
    N = 40,
    DIM = 5,
    COLS = 3 + 1,
    NP = (DIM + 1) * COLS
  };
  double x[N * DIM];
  uint8_t y3[N], y2[N];
  small_problem (N, DIM, x, y3, y2);
  const uint8_t *y[] = { y3, y2 };
  int classes[] = { 3, 2 };
  double w[NP], grad[NP], ws[N * COLS];
  ClRng rng;
  cl_rng_seed (&rng, 7, 2);
  for (int j = 0; j < NP; j++)
    w[j] = 0.7 * cl_rng_normal (&rng);
  const double l2 = 0.05;
  cl_probe_logistic_objective (x, N, DIM, 2, y, classes, l2, w, grad, ws);
  double worst = 0;
  for (int j = 0; j < NP; j++)
    {
      const double h = 1e-5;
      double keep = w[j];
      w[j] = keep + h;
      double fp = cl_probe_logistic_objective (x, N, DIM, 2, y, classes, l2, w, NULL, ws);
      w[j] = keep - h;
      double fm = cl_probe_logistic_objective (x, N, DIM, 2, y, classes, l2, w, NULL, ws);
      w[j] = keep;
      double fd = (fp - fm) / (2 * h);
      /* Central differences of a smooth O(1) function in float64: truncation ~ h^2 = 1e-10,
       * round-off ~ 1e-16 / h = 1e-11; 1e-8 leaves a margin of 100 and still catches any real
       * error (a wrong term is O(1e-2) or more here). */
      worst = fmax (worst, fabs (fd - grad[j]));
      g_assert_cmpfloat (fabs (fd - grad[j]), <, 1e-8);
    }
  g_test_message ("largest |analytic - central difference| = %.2e", worst);

  /* The loss itself, by hand at w = 0: every class equally likely, so ln 3 + ln 2. */
  double zero[NP] = { 0 };
  double f0 = cl_probe_logistic_objective (x, N, DIM, 2, y, classes, l2, zero, NULL, ws);
  g_assert_cmpfloat (fabs (f0 - (log (3.0) + log (2.0))), <, 1e-12);
}

/* The Newton-CG solver's Hessian-vector product (float GEMMs) against float64 central differences
 * of the analytic gradient along v, for a 3-class and a binary target at a random point. */
static void
test_logistic_hessian_product (void)
{
  enum
  {
    N = 40,
    DIM = 5
  };
  double x[N * DIM];
  uint8_t y3[N], y2[N];
  small_problem (N, DIM, x, y3, y2);
  const uint8_t *ys[] = { y3, y2 };
  const int classes[] = { 3, 2 };
  const double l2 = 0.05;
  ClRng rng;
  cl_rng_seed (&rng, 11, 3);
  for (int t = 0; t < 2; t++)
    {
      const int cols = cl_probe_logistic_columns (classes[t]), np = (DIM + 1) * cols;
      double w[(DIM + 1) * 3], v[(DIM + 1) * 3], hv[(DIM + 1) * 3], wp[(DIM + 1) * 3], wm[(DIM + 1) * 3];
      double gp[(DIM + 1) * 3], gm[(DIM + 1) * 3], ws[N * 3];
      for (int j = 0; j < np; j++)
        {
          w[j] = 0.7 * cl_rng_normal (&rng);
          v[j] = cl_rng_normal (&rng);
        }
      cl_probe_logistic_hessian_product (x, N, DIM, ys[t], classes[t], l2, w, v, hv);
      const double h = 1e-4;
      for (int j = 0; j < np; j++)
        {
          wp[j] = w[j] + h * v[j];
          wm[j] = w[j] - h * v[j];
        }
      cl_probe_logistic_objective (x, N, DIM, 1, &ys[t], &classes[t], l2, wp, gp, ws);
      cl_probe_logistic_objective (x, N, DIM, 1, &ys[t], &classes[t], l2, wm, gm, ws);
      double worst = 0, scale = 0;
      for (int j = 0; j < np; j++)
        {
          worst = fmax (worst, fabs ((gp[j] - gm[j]) / (2 * h) - hv[j]));
          scale = fmax (scale, fabs (hv[j]));
        }
      g_test_message ("%d classes: largest |Hv - central difference| = %.2e (largest |Hv| %.2f)", classes[t], worst,
                      scale);
      /* Truncation ~ h^2 = 1e-8, float products ~1e-7 relative; a wrong term (say, no p p^T) is
       * O(0.1) here. */
      g_assert_cmpfloat (scale, >, 0.05);
      g_assert_cmpfloat (worst, <, 1e-5 * fmax (1.0, scale));
    }
}

/* The fit reaches its tolerance in few Newton iterations (wrong Hessian products would leave
 * the line search to make first-order progress: hundreds), keeps the multinomial class columns
 * summing to zero, and the same input gives the same weights bit for bit. */
static void
test_logistic_converges_deterministically (void)
{
  enum
  {
    N = 300,
    DIM = 6,
    NP = (DIM + 1) * 4
  };
  double *x = g_new (double, N *DIM);
  uint8_t y3[N], y2[N];
  small_problem (N, DIM, x, y3, y2);
  const uint8_t *y[] = { y3, y2 };
  int classes[] = { 3, 2 };
  double w1[NP], w2[NP], grad[NP], *ws = g_new (double, N * 4);
  ClProbeFitInfo info;
  g_assert_true (cl_probe_logistic_fit (x, N, DIM, 2, y, classes, 1e-4, 1e-8, 1000, w1, &info));
  g_test_message ("%d iterations, %d evaluations, objective %.12f, max |grad| %.2e", info.iterations, info.evaluations,
                  info.objective, info.grad_max);
  g_assert_true (info.converged);
  g_assert_cmpfloat (info.grad_max, <=, 1e-8);
  g_assert_cmpint (info.iterations, <=, 2 * 20);
  for (int j = 0; j <= DIM; j++)
    g_assert_cmpfloat (fabs (w1[j * 4] + w1[j * 4 + 1] + w1[j * 4 + 2]), <=, 1e-9);
  cl_probe_logistic_objective (x, N, DIM, 2, y, classes, 1e-4, w1, grad, ws);
  for (int j = 0; j < NP; j++)
    g_assert_cmpfloat (fabs (grad[j]), <=, 1e-8);
  g_assert_true (cl_probe_logistic_fit (x, N, DIM, 2, y, classes, 1e-4, 1e-8, 1000, w2, NULL));
  g_assert_cmpmem (w1, sizeof w1, w2, sizeof w2);
  g_free (x);
  g_free (ws);
}

static double
norm2 (const double *a, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++)
    s += a[i] * a[i];
  return sqrt (s);
}

/* Weights and held-out accuracy against scikit-learn on the committed fixture, for a multinomial
 * and a binary target at two strengths. Tolerance: the objective is l2-strongly convex, so a point
 * with gradient g is within |g|/l2 of the unique optimum; the two solutions are therefore within
 * (|g_sklearn| + |g_ours|)/l2 of each other (the fixture records |g_sklearn|). */
static void
test_logistic_matches_sklearn (void)
{
  double mean[PF_DIM], inv_std[PF_DIM];
  double *xtr = g_new (double, PF_N_TRAIN *PF_DIM);
  cl_probe_standardisation (pf_train_x, PF_N_TRAIN, PF_DIM, mean, inv_std);
  cl_probe_standardise (pf_train_x, PF_N_TRAIN, PF_DIM, mean, inv_std, xtr);
  for (gsize f = 0; f < G_N_ELEMENTS (pf_fits); f++)
    {
      const PfFit *fit = &pf_fits[f];
      gboolean binary = fit->n_classes == 2;
      const uint8_t *ytr = binary ? pf_train_binary : pf_train_class4;
      const uint8_t *yte = binary ? pf_test_binary : pf_test_class4;
      int cols = cl_probe_logistic_columns (fit->n_classes), np = (PF_DIM + 1) * cols;
      double *w = g_new (double, np), *grad = g_new (double, np), *ws = g_new (double, PF_N_TRAIN *cols);
      ClProbeFitInfo info;
      g_assert_true (cl_probe_logistic_fit (xtr, PF_N_TRAIN, PF_DIM, 1, &ytr, &fit->n_classes, fit->l2,
                                            CL_PROBE_LOGISTIC_TOL, CL_PROBE_LOGISTIC_MAX_ITER, w, &info));
      g_assert_true (info.converged);
      double f_ours =
          cl_probe_logistic_objective (xtr, PF_N_TRAIN, PF_DIM, 1, &ytr, &fit->n_classes, fit->l2, w, grad, ws);
      double g_ours = norm2 (grad, np);
      double f_sk =
          cl_probe_logistic_objective (xtr, PF_N_TRAIN, PF_DIM, 1, &ytr, &fit->n_classes, fit->l2, fit->w, NULL, ws);
      /* Multinomial intercepts are defined up to a common constant: compare them centred. */
      if (!binary)
        {
          double m = 0;
          for (int c = 0; c < cols; c++)
            m += w[PF_DIM * cols + c] / cols;
          for (int c = 0; c < cols; c++)
            w[PF_DIM * cols + c] -= m;
        }
      double diff2 = 0, diff_max = 0, w_max = 0;
      for (int j = 0; j < np; j++)
        {
          double d = w[j] - fit->w[j];
          diff2 += d * d;
          diff_max = fmax (diff_max, fabs (d));
          w_max = fmax (w_max, fabs (fit->w[j]));
        }
      double bound = (fit->sklearn_grad_norm + g_ours) / fit->l2;
      double acc;
      g_assert_true (cl_probe_logistic_multi (pf_train_x, PF_N_TRAIN, pf_test_x, PF_N_TEST, PF_DIM, 1, &ytr, &yte,
                                              &fit->n_classes, fit->l2, &acc, NULL));
      g_test_message ("%s l2=%g: %d iterations; |w - w_sklearn| = %.2e (max entry %.2e, largest weight %.2f, bound "
                      "%.2e); objective %.12f vs sklearn's %.12f; accuracy %.4f vs %.4f",
                      fit->target, fit->l2, info.iterations, sqrt (diff2), diff_max, w_max, bound, f_ours, f_sk, acc,
                      fit->accuracy);
      g_assert_cmpfloat (sqrt (diff2), <=, bound);
      /* Ours stops at a tighter gradient, so its objective is no worse than sklearn's (to round-off). */
      g_assert_cmpfloat (f_ours, <=, f_sk + 1e-12);
      /* Same weights to within the bound; a prediction could only differ for a test point that close
       * to a decision boundary, and none of the 400 is: the accuracies are equal. */
      g_assert_cmpfloat (acc, ==, fit->accuracy);
      g_free (w);
      g_free (grad);
      g_free (ws);
    }
  g_free (xtr);
}

static void
add_both (const char *name, GTestDataFunc func)
{
  static const ClProbeKind kinds[] = { CL_PROBE_RIDGE, CL_PROBE_LOGISTIC };
  for (int k = 0; k < 2; k++)
    {
      char *path = g_strdup_printf ("/probe/%s/%s", k == 0 ? "ridge" : "logistic", name);
      g_test_add_data_func (path, &kinds[k], func);
      g_free (path);
    }
}

#define KIND_WRAPPER(fn)                                                                                               \
  static void fn##_kind (gconstpointer data)                                                                           \
  {                                                                                                                    \
    kind = *(const ClProbeKind *) data;                                                                                \
    fn ();                                                                                                             \
  }
KIND_WRAPPER (test_separable)
KIND_WRAPPER (test_noise_is_chance)
KIND_WRAPPER (test_scale_invariant)
KIND_WRAPPER (test_dead_feature)
KIND_WRAPPER (test_multi_matches_single)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  add_both ("separable", test_separable_kind);
  add_both ("noise-is-chance", test_noise_is_chance_kind);
  add_both ("scale-invariant", test_scale_invariant_kind);
  add_both ("dead-feature", test_dead_feature_kind);
  add_both ("multi-matches-single", test_multi_matches_single_kind);
  g_test_add_func ("/probe/logistic/gradient", test_logistic_gradient);
  g_test_add_func ("/probe/logistic/hessian-product", test_logistic_hessian_product);
  g_test_add_func ("/probe/logistic/converges-deterministically", test_logistic_converges_deterministically);
  g_test_add_func ("/probe/logistic/matches-sklearn", test_logistic_matches_sklearn);
  return g_test_run ();
}
