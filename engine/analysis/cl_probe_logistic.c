/* The logistic-regression probe: multinomial (sigmoid for two classes) cross-entropy with an L2
 * penalty, minimised by L-BFGS. The heavy products (logits = X W and X^T (P - Y)) are two
 * OpenBLAS dgemm calls per evaluation; everything else is O(n columns). The objective and the
 * fit accept several targets (their objectives summed: the optimum is each target's own), but the
 * probe fits each target alone: L-BFGS's one curvature scale suits one target, and a joint fit of a
 * class and ten bits took 8x the iterations of the slowest single fit. */
#include "engine/analysis/cl_probe.h"

#include "engine/analysis/cl_probe_private.h"

#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#define LBFGS_PAIRS 10
#define ARMIJO_C1 1e-4
#define MAX_BACKTRACKS 60
/* Relative decrease of the objective below which it is at double precision's floor (scipy's
 * L-BFGS-B stopping rule with scikit-learn's factr: 64 machine epsilons): further iterations
 * only chase round-off. */
#define FTOL (64 * 2.220446049250313e-16)

int
cl_probe_logistic_columns (int n_classes)
{
  return n_classes == 2 ? 1 : n_classes;
}

static int
total_columns (int n_targets, const int *n_classes)
{
  int cols = 0;
  for (int t = 0; t < n_targets; t++)
    cols += cl_probe_logistic_columns (n_classes[t]);
  return cols;
}

double
cl_probe_logistic_objective (const double *x, int n, int dim, int n_targets, const uint8_t *const *y,
                             const int *n_classes, double l2, const double *w, double *grad, double *ws)
{
  const int cols = total_columns (n_targets, n_classes);
  double *logits = ws; /* [n][cols]; becomes (P - Y) / n for the gradient */
  const double *bias = w + (size_t) dim * cols;
  /* logits = x w[0:dim] + bias */
  for (int i = 0; i < n; i++)
    memcpy (logits + (size_t) i * cols, bias, sizeof (double) * cols);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, cols, dim, 1.0, x, dim, w, cols, 1.0, logits, cols);

  const double inv_n = 1.0 / n;
  double loss = 0;
  for (int i = 0; i < n; i++)
    {
      double *l = logits + (size_t) i * cols;
      for (int t = 0, o = 0; t < n_targets; o += cl_probe_logistic_columns (n_classes[t]), t++)
        {
          int label = y[t][i];
          if (n_classes[t] == 2)
            {
              /* softplus(v) = max(v, 0) + log1p(e) and sigmoid(v) from one e = exp(-|v|) */
              const double v = l[o], e = exp (-fabs (v));
              loss += (v > 0 ? v : 0.0) + log1p (e) - (label ? v : 0.0);
              const double p = v >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
              l[o] = (p - label) * inv_n;
              continue;
            }
          const int k = n_classes[t];
          double m = l[o];
          for (int c = 1; c < k; c++)
            m = l[o + c] > m ? l[o + c] : m;
          /* one exp per logit: p_c = e_c / s with e_c = exp(l_c - max) */
          const double l_label = l[o + label];
          double s = 0;
          for (int c = 0; c < k; c++)
            {
              const double e = exp (l[o + c] - m);
              l[o + c] = e;
              s += e;
            }
          loss += m + log (s) - l_label;
          const double inv_s = 1.0 / s;
          for (int c = 0; c < k; c++)
            l[o + c] = (l[o + c] * inv_s - (c == label)) * inv_n;
        }
    }
  loss *= inv_n;
  double penalty = 0;
  for (size_t j = 0; j < (size_t) dim * cols; j++)
    penalty += w[j] * w[j];
  loss += 0.5 * l2 * penalty;

  if (grad)
    {
      /* grad[0:dim] = x^T R + l2 w;  grad[bias] = column sums of R (R already divided by n). */
      memcpy (grad, w, sizeof (double) * (size_t) dim * cols);
      cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, dim, cols, n, 1.0, x, dim, logits, cols, l2, grad, cols);
      double *gb = grad + (size_t) dim * cols;
      memset (gb, 0, sizeof (double) * cols);
      for (int i = 0; i < n; i++)
        {
          const double *r = logits + (size_t) i * cols;
          for (int c = 0; c < cols; c++)
            gb[c] += r[c];
        }
    }
  return loss;
}

/* The preconditioner of the L-BFGS recursion: P = (X^T X / (4n) + l2 I)^-1 on the feature rows
 * (the logistic Hessian is X^T D X / n + l2 I with 0 < D <= 1/4, and standardised X has zero-mean
 * columns, so the bias row decouples: 1 / (1/4 + l2)). Correlated features make the Hessian's
 * spectrum span l2 .. dim/4; plain L-BFGS then needs hundreds of iterations, preconditioned a few
 * tens. It changes the path, not the optimum. p: [dim][dim] out; FALSE if not positive definite. */
static int
preconditioner (const double *x, int n, int dim, double l2, double *p)
{
  double *m = g_new (double, (size_t) dim *dim);
  cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, dim, n, 0.25 / n, x, dim, 0.0, m, dim);
  for (int a = 0; a < dim; a++)
    {
      m[(size_t) a * dim + a] += l2 > 1e-12 ? l2 : 1e-12;
      for (int b = 0; b < a; b++)
        m[(size_t) b * dim + a] = m[(size_t) a * dim + b];
    }
  int ok = cl_probe_cholesky (m, dim);
  if (ok)
    {
      memset (p, 0, sizeof (double) * (size_t) dim * dim);
      for (int a = 0; a < dim; a++)
        p[(size_t) a * dim + a] = 1.0;
      cl_probe_cholesky_solve (m, dim, p, dim);
    }
  g_free (m);
  return ok;
}

/* out = P q for q [dim + 1][cols]: the feature rows through p, the bias row scaled. */
static void
precondition (const double *p, int dim, int cols, double l2, const double *q, double *out)
{
  cblas_dsymm (CblasRowMajor, CblasLeft, CblasLower, dim, cols, 1.0, p, dim, q, cols, 0.0, out, cols);
  for (int c = 0; c < cols; c++)
    out[(size_t) dim * cols + c] = q[(size_t) dim * cols + c] / (0.25 + l2);
}

static double
dot (const double *a, const double *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double
max_abs (const double *a, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++)
    m = fabs (a[i]) > m ? fabs (a[i]) : m;
  return m;
}

int
cl_probe_logistic_fit (const double *x, int n, int dim, int n_targets, const uint8_t *const *y, const int *n_classes,
                       double l2, double tol, int max_iter, double *w, ClProbeFitInfo *info)
{
  const int cols = total_columns (n_targets, n_classes);
  const size_t np = (size_t) (dim + 1) * cols;
  double *ws = g_new (double, (size_t) n *cols);
  double *g = g_new (double, np), *g_new_ = g_new (double, np), *d = g_new (double, np), *w_new = g_new (double, np);
  double *s_mem = g_new (double, LBFGS_PAIRS *np), *y_mem = g_new (double, LBFGS_PAIRS *np);
  double *p = g_new (double, (size_t) dim *dim), *q = g_new (double, np);
  double rho[LBFGS_PAIRS], alpha[LBFGS_PAIRS];
  int n_pairs = 0, head = 0; /* pairs live in a ring; head is the next slot */
  ClProbeFitInfo fit = { 0 };
  int ok = 1, at_floor = 0;

  memset (w, 0, sizeof (double) * np);
  if (!preconditioner (x, n, dim, l2, p))
    ok = 0;
  double f = cl_probe_logistic_objective (x, n, dim, n_targets, y, n_classes, l2, w, g, ws);
  fit.evaluations = 1;
  if (!isfinite (f))
    ok = 0;
  double gmax = max_abs (g, np);
  while (ok && gmax > tol && fit.iterations < max_iter)
    {
      /* d = -H g by the two-loop recursion; H0 = gamma P with gamma = s.y / y.P.y of the newest
       * pair (Nocedal & Wright 7.20, with P in place of I). */
      for (size_t j = 0; j < np; j++)
        q[j] = -g[j];
      for (int k = 0; k < n_pairs; k++)
        {
          int slot = (head - 1 - k + 2 * LBFGS_PAIRS) % LBFGS_PAIRS;
          alpha[slot] = rho[slot] * dot (s_mem + slot * np, q, np);
          cblas_daxpy ((int) np, -alpha[slot], y_mem + slot * np, 1, q, 1);
        }
      precondition (p, dim, cols, l2, q, d);
      if (n_pairs > 0)
        {
          int newest = (head - 1 + LBFGS_PAIRS) % LBFGS_PAIRS;
          const double *yy = y_mem + newest * np;
          precondition (p, dim, cols, l2, yy, w_new); /* w_new as scratch: P y */
          double gamma = 1.0 / (rho[newest] * dot (yy, w_new, np));
          for (size_t j = 0; j < np; j++)
            d[j] *= gamma;
        }
      for (int k = n_pairs - 1; k >= 0; k--)
        {
          int slot = (head - 1 - k + 2 * LBFGS_PAIRS) % LBFGS_PAIRS;
          double beta = rho[slot] * dot (y_mem + slot * np, d, np);
          cblas_daxpy ((int) np, alpha[slot] - beta, s_mem + slot * np, 1, d, 1);
        }
      double gd = dot (g, d, np);
      if (!(gd < 0))
        { /* not a descent direction (round-off): restart from steepest descent */
          n_pairs = 0;
          for (size_t j = 0; j < np; j++)
            q[j] = -g[j];
          precondition (p, dim, cols, l2, q, d);
          gd = dot (g, d, np);
        }
      /* Without pairs the direction is -P g: P approximates the inverse Hessian at w = 0 well
       * (D = 1/4 there for a binary target), so a unit step is the natural first try. */
      double step = 1.0;
      double f_new = f;
      int accepted = 0;
      for (int b = 0; b < MAX_BACKTRACKS; b++, step *= 0.5)
        {
          for (size_t j = 0; j < np; j++)
            w_new[j] = w[j] + step * d[j];
          f_new = cl_probe_logistic_objective (x, n, dim, n_targets, y, n_classes, l2, w_new, g_new_, ws);
          fit.evaluations++;
          if (isfinite (f_new) && f_new <= f + ARMIJO_C1 * step * gd)
            {
              accepted = 1;
              break;
            }
        }
      fit.iterations++;
      if (!accepted)
        { /* no decrease representable in double precision: as converged as it gets */
          at_floor = 1;
          break;
        }
      /* s = w_new - w, y = g_new - g; a pair is kept only with positive curvature (always, for
       * l2 > 0, up to round-off). */
      double *sk = s_mem + head * np, *yk = y_mem + head * np;
      for (size_t j = 0; j < np; j++)
        {
          sk[j] = w_new[j] - w[j];
          yk[j] = g_new_[j] - g[j];
        }
      double sy = dot (sk, yk, np);
      if (sy > 1e-300)
        {
          rho[head] = 1.0 / sy;
          head = (head + 1) % LBFGS_PAIRS;
          n_pairs = n_pairs < LBFGS_PAIRS ? n_pairs + 1 : LBFGS_PAIRS;
        }
      memcpy (w, w_new, sizeof (double) * np);
      memcpy (g, g_new_, sizeof (double) * np);
      double decrease = f - f_new;
      f = f_new;
      gmax = max_abs (g, np);
      if (decrease <= FTOL * fmax (1.0, fabs (f)))
        {
          at_floor = 1;
          break;
        }
    }
  fit.objective = f;
  fit.grad_max = gmax;
  fit.converged = ok && (gmax <= tol || at_floor);
  if (info)
    *info = fit;
  g_free (ws);
  g_free (g);
  g_free (g_new_);
  g_free (d);
  g_free (w_new);
  g_free (s_mem);
  g_free (y_mem);
  g_free (p);
  g_free (q);
  return ok && isfinite (f);
}

int
cl_probe_logistic_multi (const float *train_x, int n_train, const float *test_x, int n_test, int dim, int n_targets,
                         const uint8_t *const *train_y, const uint8_t *const *test_y, const int *n_classes, double l2,
                         double *accuracy, ClProbeFitInfo *info)
{
  return cl_probe_logistic_multi_tol (train_x, n_train, test_x, n_test, dim, n_targets, train_y, test_y, n_classes, l2,
                                      CL_PROBE_LOGISTIC_TOL, accuracy, info);
}

int
cl_probe_logistic_multi_tol (const float *train_x, int n_train, const float *test_x, int n_test, int dim, int n_targets,
                             const uint8_t *const *train_y, const uint8_t *const *test_y, const int *n_classes,
                             double l2, double tol, double *accuracy, ClProbeFitInfo *info)
{
  int cols = 0;
  for (int t = 0; t < n_targets; t++)
    cols = MAX (cols, cl_probe_logistic_columns (n_classes[t]));
  const int n_max = n_train > n_test ? n_train : n_test;
  double *mean = g_new (double, dim), *inv_std = g_new (double, dim);
  double *xs = g_new (double, (size_t) n_max *dim);
  double *w = g_new (double, (size_t) (dim + 1) * cols);
  double *logits = g_new (double, (size_t) n_test *cols);

  cl_probe_standardisation (train_x, n_train, dim, mean, inv_std);
  double *xte = g_new (double, (size_t) n_test *dim);
  cl_probe_standardise (train_x, n_train, dim, mean, inv_std, xs);
  cl_probe_standardise (test_x, n_test, dim, mean, inv_std, xte);
  ClProbeFitInfo total = { 0 }, one;
  total.converged = 1;
  int ok = 1;
  for (int t = 0; t < n_targets && ok; t++)
    {
      const int k = n_classes[t], c_t = cl_probe_logistic_columns (k);
      ok = cl_probe_logistic_fit (xs, n_train, dim, 1, train_y + t, n_classes + t, l2, tol, CL_PROBE_LOGISTIC_MAX_ITER,
                                  w, &one);
      total.iterations += one.iterations;
      total.evaluations += one.evaluations;
      total.objective += one.objective;
      total.grad_max = MAX (total.grad_max, one.grad_max);
      total.converged &= one.converged;
      for (int i = 0; i < n_test; i++)
        memcpy (logits + (size_t) i * c_t, w + (size_t) dim * c_t, sizeof (double) * c_t);
      cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n_test, c_t, dim, 1.0, xte, dim, w, c_t, 1.0, logits,
                   c_t);
      int right = 0;
      for (int i = 0; i < n_test; i++)
        {
          const double *l = logits + (size_t) i * c_t;
          int best = 0;
          if (k == 2)
            best = l[0] > 0;
          else
            for (int c = 1; c < k; c++)
              best = l[c] > l[best] ? c : best;
          right += best == test_y[t][i];
        }
      accuracy[t] = (double) right / n_test;
    }
  if (info)
    *info = total;
  g_free (xte);
  g_free (mean);
  g_free (inv_std);
  g_free (xs);
  g_free (w);
  g_free (logits);
  return ok;
}
