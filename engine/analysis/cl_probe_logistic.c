/* The logistic-regression probe: multinomial (sigmoid for two classes) cross-entropy with an L2
 * penalty, minimised by a truncated Newton method (Newton-CG with a backtracking line search):
 * each Newton direction solves H d = -g by preconditioned conjugate gradients with exact
 * Hessian-vector products of the loss, to a relative residual min(0.5, sqrt |g|) (superlinear
 * convergence near the optimum). The preconditioner is block-Jacobi: per class column c the
 * (dim + 1)^2 block X~^T diag(p_c (1 - p_c)) X~ / n + l2 of the Hessian, rebuilt every second
 * Newton iteration from the current probabilities (float products over the rows whose
 * p_c (1 - p_c) >= 1e-4, LAPACK Cholesky in double; it only steers the path, never the optimum).
 *
 * The softmax is over-parameterised: adding one vector to every class column changes no
 * probability. The gradient, the Hessian and the iterates all stay in the subspace where the
 * class columns sum to zero (the penalty pins the rest to zero), and the block preconditioner's
 * output is projected back onto it, so CG never wanders into the direction only l2 curves.
 *
 * The objective and gradient, which decide convergence, are one fused pass over the rows (the
 * logits, the softmax, the loss and the accumulation of X^T R together) in double precision,
 * compiled for AVX-512, AVX2 and baseline x86-64 (ISO C mode contracts no multiply-adds, so every
 * version gives the same bits). The Hessian-vector products only steer CG: two float GEMMs.
 *
 * Internally the weights are class-major: wt[c][dim + 1], bias last; the public layout is
 * [dim + 1][columns] (cl_probe.h). Several targets are independent problems: each is fitted
 * alone (the summed objective's optimum is each target's own). */
#include "engine/analysis/cl_probe.h"

#include "engine/analysis/cl_probe_private.h"

#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

/* LAPACK (OpenBLAS ships it): Cholesky factorisation and solve of the preconditioner's blocks. */
extern void dpotrf_ (const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_ (const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b,
                     const int *ldb, int *info);

#define ARMIJO_C1 1e-4
#define MAX_BACKTRACKS 60
#define MAX_CG 250
/* The preconditioner is rebuilt at every REFRESH_EVERY-th Newton iteration: a refresh costs about
 * ten Hessian products, and one a step old still cut the fits' time by 20-40% (trained and
 * untrained probe features of the default and generalized-loss presets). */
#define REFRESH_EVERY 2
/* Rows whose p_c (1 - p_c) is below this are left out of class c's preconditioner block: each
 * adds at most 1e-4 |x|^2 / n there, far below the l2 floor of the probe's problems. */
#define BLOCK_MIN_WEIGHT 1e-4
/* Relative decrease of the objective below which it is at double precision's floor (scipy's
 * stopping rule with scikit-learn's factr: 64 machine epsilons): further steps only chase round-off. */
#define FTOL (64 * 2.220446049250313e-16)

/* Not under the sanitizers: the clones' ifunc resolver runs before their runtime is set up (under
 * TSan every program crashed at load, in ld.so's elf_machine_lazy_rel). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) &&               \
    !defined(__SANITIZE_THREAD__)
#define CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

int
cl_probe_logistic_columns (int n_classes)
{
  return n_classes == 2 ? 1 : n_classes;
}

/* Eight doubles as one vector (GCC/Clang vector extension): element-wise arithmetic, so every
 * compiled version (AVX-512, AVX2, SSE2) computes the same bits. */
typedef double V8 __attribute__ ((vector_size (64)));
/* The helpers below are static and inlined: no V8 crosses an external ABI. */
#pragma GCC diagnostic ignored "-Wpsabi"

static inline __attribute__ ((always_inline)) V8
load8 (const double *p)
{
  V8 v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline __attribute__ ((always_inline)) void
store8 (double *p, V8 v)
{
  memcpy (p, &v, sizeof v);
}

/* The lanes of acc summed in a fixed order. */
static inline __attribute__ ((always_inline)) double
hsum8 (V8 acc)
{
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* acc + the lane-wise products of a[j..] and b[j..] for the n - j < 8 leftover entries. */
static inline __attribute__ ((always_inline)) V8
tail8 (V8 acc, const double *a, const double *b, int j, int n)
{
  for (int l = 0; j < n; j++, l++)
    acc[l] += a[j] * b[j];
  return acc;
}

/* The dots of a [n] with the rows w[0..cols) (stride ld) into out, four rows at a time so four
 * independent accumulator chains overlap; each row's sum is the same expression whatever its group. */
static inline __attribute__ ((always_inline)) void
dots (const double *a, const double *w, size_t ld, int cols, int n, double *out)
{
  int c = 0;
  for (; c + 4 <= cols; c += 4)
    {
      const double *w0 = w + c * ld, *w1 = w0 + ld, *w2 = w1 + ld, *w3 = w2 + ld;
      V8 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
      int j = 0;
      for (; j + 8 <= n; j += 8)
        {
          const V8 x = load8 (a + j);
          a0 += x * load8 (w0 + j);
          a1 += x * load8 (w1 + j);
          a2 += x * load8 (w2 + j);
          a3 += x * load8 (w3 + j);
        }
      out[c] = hsum8 (tail8 (a0, a, w0, j, n));
      out[c + 1] = hsum8 (tail8 (a1, a, w1, j, n));
      out[c + 2] = hsum8 (tail8 (a2, a, w2, j, n));
      out[c + 3] = hsum8 (tail8 (a3, a, w3, j, n));
    }
  for (; c < cols; c++)
    {
      const double *w0 = w + c * ld;
      V8 a0 = { 0 };
      int j = 0;
      for (; j + 8 <= n; j += 8)
        a0 += load8 (a + j) * load8 (w0 + j);
      out[c] = hsum8 (tail8 (a0, a, w0, j, n));
    }
}

/* y[c] (rows of stride ld) += r[c] x for every c < cols: y[c][j] += r[c] * x[j]. */
static inline __attribute__ ((always_inline)) void
axpys (const double *r, const double *x, double *y, size_t ld, int cols, int n)
{
  int j = 0;
  for (; j + 8 <= n; j += 8)
    {
      const V8 xv = load8 (x + j);
      for (int c = 0; c < cols; c++)
        {
          double *yc = y + c * ld + j;
          store8 (yc, load8 (yc) + r[c] * xv);
        }
    }
  for (; j < n; j++)
    for (int c = 0; c < cols; c++)
      y[c * ld + j] += r[c] * x[j];
}

static inline __attribute__ ((always_inline)) void
axpy (double a, const double *x, double *y, int n)
{
  for (int j = 0; j < n; j++)
    y[j] += a * x[j];
}

/* One pass over the rows: the mean cross-entropy at wt (class-major), its data gradient (not
 * the penalty) into gt when not NULL, the probabilities into p [n][cols] when not NULL. */
CLONES static double
rows_objective (const double *x, int n, int dim, const uint8_t *y, int k, const double *wt, double *gt, double *p)
{
  const int cols = cl_probe_logistic_columns (k), d1 = dim + 1;
  const double inv_n = 1.0 / n;
  double l[256], loss = 0;
  if (gt)
    memset (gt, 0, sizeof (double) * (size_t) cols * d1);
  for (int i = 0; i < n; i++)
    {
      const double *xi = x + (size_t) i * dim;
      const int label = y[i];
      dots (xi, wt, d1, cols, dim, l);
      for (int c = 0; c < cols; c++)
        l[c] += wt[(size_t) c * d1 + dim];
      if (k == 2)
        {
          /* softplus(v) = max(v, 0) + log1p(e) and sigmoid(v) from one e = exp(-|v|) */
          const double v = l[0], e = exp (-fabs (v));
          loss += (v > 0 ? v : 0.0) + log1p (e) - (label ? v : 0.0);
          const double pr = v >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
          l[0] = pr;
        }
      else
        {
          double m = l[0];
          for (int c = 1; c < k; c++)
            m = l[c] > m ? l[c] : m;
          const double l_label = l[label];
          double s = 0;
          for (int c = 0; c < k; c++)
            {
              l[c] = exp (l[c] - m);
              s += l[c];
            }
          loss += m + log (s) - l_label;
          const double inv_s = 1.0 / s;
          for (int c = 0; c < k; c++)
            l[c] *= inv_s;
        }
      if (p)
        memcpy (p + (size_t) i * cols, l, sizeof (double) * cols);
      if (gt)
        {
          for (int c = 0; c < cols; c++)
            l[c] = (l[c] - (k == 2 ? label : c == label)) * inv_n;
          axpys (l, xi, gt, d1, cols, dim);
          for (int c = 0; c < cols; c++)
            gt[(size_t) c * d1 + dim] += l[c];
        }
    }
  return loss * inv_n;
}

/* The penalty l2/2 |W|^2 (bias not penalised) of class-major wt; adds its gradient to gt if not NULL. */
static double
penalty (int dim, int cols, double l2, const double *wt, double *gt)
{
  const int d1 = dim + 1;
  double s = 0;
  for (int c = 0; c < cols; c++)
    for (int j = 0; j < dim; j++)
      {
        const double v = wt[(size_t) c * d1 + j];
        s += v * v;
        if (gt)
          gt[(size_t) c * d1 + j] += l2 * v;
      }
  return 0.5 * l2 * s;
}

double
cl_probe_logistic_objective (const double *x, int n, int dim, int n_targets, const uint8_t *const *y,
                             const int *n_classes, double l2, const double *w, double *grad, double *ws)
{
  int cols = 0, max_cols = 0;
  for (int t = 0; t < n_targets; t++)
    {
      cols += cl_probe_logistic_columns (n_classes[t]);
      max_cols = MAX (max_cols, cl_probe_logistic_columns (n_classes[t]));
    }
  (void) ws;
  const int d1 = dim + 1;
  double *wt = g_new (double, (size_t) max_cols *d1), *gt = g_new (double, (size_t) max_cols *d1);
  double loss = 0;
  for (int t = 0, o = 0; t < n_targets; o += cl_probe_logistic_columns (n_classes[t]), t++)
    {
      const int ct = cl_probe_logistic_columns (n_classes[t]);
      for (int c = 0; c < ct; c++)
        for (int j = 0; j < d1; j++)
          wt[(size_t) c * d1 + j] = w[(size_t) j * cols + o + c];
      loss += rows_objective (x, n, dim, y[t], n_classes[t], wt, grad ? gt : NULL, NULL);
      loss += penalty (dim, ct, l2, wt, grad ? gt : NULL);
      if (grad)
        for (int c = 0; c < ct; c++)
          for (int j = 0; j < d1; j++)
            grad[(size_t) j * cols + o + c] = gt[(size_t) c * d1 + j];
    }
  g_free (wt);
  g_free (gt);
  return loss;
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

typedef struct
{
  const double *x;
  int n, dim, k, cols, d1;
  const uint8_t *y;
  double l2;
  double *blocks; /* [cols][d1][d1]: Cholesky factors */
  float *xf;      /* [n][d1]: x in float, with a column of ones (the bias) */
  float *xs;      /* [n][d1] scratch: weighted rows */
  float *bf;      /* [d1][d1] scratch */
  float *vf, *uf; /* [cols][d1], [n][cols] scratch of the Hessian products */
} Problem;

/* Block c: chol (X~^T diag(p_c (1 - p_c)) X~ / n + l2 (bias: 1e-10)) over the rows that weigh. */
static int
refresh_blocks (Problem *pb, const double *p)
{
  const int d1 = pb->d1, dim = pb->dim;
  for (int c = 0; c < pb->cols; c++)
    {
      int m = 0;
      for (int i = 0; i < pb->n; i++)
        {
          const double pc = p[(size_t) i * pb->cols + c], wgt = pc * (1 - pc);
          if (wgt < BLOCK_MIN_WEIGHT)
            continue;
          const float s = (float) sqrt (wgt / pb->n);
          float *row = pb->xs + (size_t) m * d1;
          const float *xi = pb->xf + (size_t) i * d1;
          for (int j = 0; j < d1; j++)
            row[j] = xi[j] * s;
          m++;
        }
      double *b = pb->blocks + (size_t) c * d1 * d1;
      if (m > 0)
        cblas_ssyrk (CblasRowMajor, CblasLower, CblasTrans, d1, m, 1.0f, pb->xs, d1, 0.0f, pb->bf, d1);
      for (int a = 0; a < d1; a++)
        {
          for (int q = 0; q <= a; q++)
            b[(size_t) a * d1 + q] = m > 0 ? pb->bf[(size_t) a * d1 + q] : 0.0;
          b[(size_t) a * d1 + a] += a < dim ? fmax (pb->l2, 1e-12) : 1e-10;
        }
      /* row-major lower = column-major upper */
      int info = 0;
      dpotrf_ ("U", &d1, b, &d1, &info);
      if (info != 0)
        return 0;
    }
  return 1;
}

/* z = M^-1 r by the blocks, projected onto the class columns' zero-sum subspace (multinomial). */
static void
precondition (const Problem *pb, const double *r, double *z)
{
  const int d1 = pb->d1, cols = pb->cols;
  memcpy (z, r, sizeof (double) * (size_t) cols * d1);
  for (int c = 0; c < cols; c++)
    {
      int one = 1, info = 0;
      dpotrs_ ("U", &d1, &one, pb->blocks + (size_t) c * d1 * d1, &d1, z + (size_t) c * d1, &d1, &info);
    }
  if (cols > 1)
    for (int j = 0; j < d1; j++)
      {
        double m = 0;
        for (int c = 0; c < cols; c++)
          m += z[(size_t) c * d1 + j];
        m /= cols;
        for (int c = 0; c < cols; c++)
          z[(size_t) c * d1 + j] -= m;
      }
}

/* out = H v (class-major) at probabilities p. The data part X~^T [(diag(p_i) - p_i p_i^T) X~ v] / n
 * runs as two float GEMMs (X~ v, then X~^T R): it only steers the conjugate-gradient solve, whose
 * tolerance (relative residual >= ~1e-3) is far above float round-off; the gradient and objective
 * that decide convergence stay in double. */
static void
hessvec (const Problem *pb, const double *p, const double *v, double *out)
{
  const int n = pb->n, cols = pb->cols, d1 = pb->d1;
  const size_t np = (size_t) cols * d1;
  for (size_t j = 0; j < np; j++)
    pb->vf[j] = (float) v[j];
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, cols, d1, 1.0f, pb->xf, d1, pb->vf, d1, 0.0f, pb->uf, cols);
  const double inv_n = 1.0 / n;
  for (int i = 0; i < n; i++)
    {
      float *ui = pb->uf + (size_t) i * cols;
      const double *pi = p + (size_t) i * cols;
      if (cols == 1)
        {
          ui[0] = (float) (ui[0] * pi[0] * (1 - pi[0]) * inv_n);
          continue;
        }
      double s = 0; /* (diag(p) - p p^T) u */
      for (int c = 0; c < cols; c++)
        s += pi[c] * ui[c];
      for (int c = 0; c < cols; c++)
        ui[c] = (float) (pi[c] * (ui[c] - s) * inv_n);
    }
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, cols, d1, n, 1.0f, pb->uf, cols, pb->xf, d1, 0.0f, pb->vf, d1);
  for (size_t j = 0; j < np; j++)
    out[j] = pb->vf[j];
  for (int c = 0; c < cols; c++)
    axpy (pb->l2, v + (size_t) c * d1, out + (size_t) c * d1, pb->dim);
}

static double
objective (const Problem *pb, const double *wt, double *gt, double *p)
{
  double f = rows_objective (pb->x, pb->n, pb->dim, pb->y, pb->k, wt, gt, p);
  return f + penalty (pb->dim, pb->cols, pb->l2, wt, gt);
}

static void
problem_init (Problem *pb, const double *x, int n, int dim, const uint8_t *y, int k, double l2)
{
  *pb = (Problem){ .x = x, .n = n, .dim = dim, .k = k, .y = y, .l2 = l2 };
  pb->cols = cl_probe_logistic_columns (k);
  pb->d1 = dim + 1;
  const size_t np = (size_t) pb->cols * pb->d1;
  pb->blocks = g_new (double, np * pb->d1);
  pb->xf = g_new (float, (size_t) n * pb->d1);
  pb->xs = g_new (float, (size_t) n * pb->d1);
  pb->bf = g_new (float, (size_t) pb->d1 * pb->d1);
  pb->vf = g_new (float, np);
  pb->uf = g_new (float, (size_t) n * pb->cols);
  for (int i = 0; i < n; i++)
    {
      for (int j = 0; j < dim; j++)
        pb->xf[(size_t) i * pb->d1 + j] = (float) x[(size_t) i * dim + j];
      pb->xf[(size_t) i * pb->d1 + dim] = 1.0f;
    }
}

static void
problem_clear (Problem *pb)
{
  g_free (pb->blocks);
  g_free (pb->xf);
  g_free (pb->xs);
  g_free (pb->bf);
  g_free (pb->vf);
  g_free (pb->uf);
}

void
cl_probe_logistic_hessian_product (const double *x, int n, int dim, const uint8_t *y, int n_classes, double l2,
                                   const double *w, const double *v, double *out)
{
  Problem pb;
  problem_init (&pb, x, n, dim, y, n_classes, l2);
  const int cols = pb.cols, d1 = pb.d1;
  double *wt = g_new (double, (size_t) cols *d1), *vt = g_new (double, (size_t) cols *d1),
         *ot = g_new (double, (size_t) cols *d1), *p = g_new (double, (size_t) n *cols);
  for (int c = 0; c < cols; c++)
    for (int j = 0; j < d1; j++)
      {
        wt[(size_t) c * d1 + j] = w[(size_t) j * cols + c];
        vt[(size_t) c * d1 + j] = v[(size_t) j * cols + c];
      }
  rows_objective (x, n, dim, y, n_classes, wt, NULL, p);
  hessvec (&pb, p, vt, ot);
  for (int c = 0; c < cols; c++)
    for (int j = 0; j < d1; j++)
      out[(size_t) j * cols + c] = ot[(size_t) c * d1 + j];
  g_free (wt);
  g_free (vt);
  g_free (ot);
  g_free (p);
  problem_clear (&pb);
}

/* Newton-CG for one target from wt = 0; wt class-major out. */
static int
fit_one (const double *x, int n, int dim, const uint8_t *y, int k, double l2, double tol, int max_iter, double *wt,
         ClProbeFitInfo *fit)
{
  Problem pb;
  problem_init (&pb, x, n, dim, y, k, l2);
  const size_t np = (size_t) pb.cols * pb.d1;
  double *p = g_new (double, (size_t) n *pb.cols), *p_new = g_new (double, (size_t) n *pb.cols);
  double *g = g_new (double, np), *g_new_ = g_new (double, np), *w_new = g_new (double, np);
  double *d = g_new (double, np), *r = g_new (double, np), *z = g_new (double, np), *s = g_new (double, np),
         *hs = g_new (double, np);
  int ok = 1, at_floor = 0;

  memset (wt, 0, sizeof (double) * np);
  double f = objective (&pb, wt, g, p);
  fit->evaluations++;
  if (!isfinite (f))
    ok = 0;
  double gmax = max_abs (g, np);
  int iterations = 0;
  while (ok && gmax > tol && iterations < max_iter)
    {
      if (iterations % REFRESH_EVERY == 0 && !refresh_blocks (&pb, p))
        {
          ok = 0;
          break;
        }
      /* PCG on H d = -g from d = 0 */
      const double gnorm = sqrt (dot (g, g, np)), eta = fmin (0.5, sqrt (gnorm));
      memset (d, 0, sizeof (double) * np);
      for (size_t j = 0; j < np; j++)
        r[j] = -g[j];
      precondition (&pb, r, z);
      memcpy (s, z, sizeof (double) * np);
      double rz = dot (r, z, np);
      for (int cg = 0; cg < MAX_CG && rz > 0; cg++)
        {
          hessvec (&pb, p, s, hs);
          fit->hessian_products++;
          const double shs = dot (s, hs, np);
          if (!(shs > 0))
            break;
          const double a = rz / shs;
          for (size_t j = 0; j < np; j++)
            {
              d[j] += a * s[j];
              r[j] -= a * hs[j];
            }
          if (sqrt (dot (r, r, np)) <= eta * gnorm)
            break;
          precondition (&pb, r, z);
          const double rz_new = dot (r, z, np), beta = rz_new / rz;
          rz = rz_new;
          for (size_t j = 0; j < np; j++)
            s[j] = z[j] + beta * s[j];
        }
      double gd = dot (g, d, np);
      if (!(gd < 0))
        { /* no CG progress (round-off): the preconditioned steepest-descent direction */
          for (size_t j = 0; j < np; j++)
            r[j] = -g[j];
          precondition (&pb, r, d);
          gd = dot (g, d, np);
        }
      double step = 1.0, f_new = f;
      int accepted = 0;
      for (int b = 0; b < MAX_BACKTRACKS && gd < 0; b++, step *= 0.5)
        {
          for (size_t j = 0; j < np; j++)
            w_new[j] = wt[j] + step * d[j];
          f_new = objective (&pb, w_new, g_new_, p_new);
          fit->evaluations++;
          if (isfinite (f_new) && f_new <= f + ARMIJO_C1 * step * gd)
            {
              accepted = 1;
              break;
            }
        }
      iterations++;
      if (!accepted)
        { /* no decrease representable in double precision: as converged as it gets */
          at_floor = 1;
          break;
        }
      memcpy (wt, w_new, sizeof (double) * np);
      memcpy (g, g_new_, sizeof (double) * np);
      double *tmp = p;
      p = p_new;
      p_new = tmp;
      const double decrease = f - f_new;
      f = f_new;
      gmax = max_abs (g, np);
      if (decrease <= FTOL * fmax (1.0, fabs (f)))
        {
          at_floor = 1;
          break;
        }
    }
  fit->iterations += iterations;
  fit->objective += f;
  fit->grad_max = MAX (fit->grad_max, gmax);
  fit->converged = fit->converged && ok && (gmax <= tol || at_floor);
  problem_clear (&pb);
  g_free (p);
  g_free (p_new);
  g_free (g);
  g_free (g_new_);
  g_free (w_new);
  g_free (d);
  g_free (r);
  g_free (z);
  g_free (s);
  g_free (hs);
  return ok && isfinite (f);
}

int
cl_probe_logistic_fit (const double *x, int n, int dim, int n_targets, const uint8_t *const *y, const int *n_classes,
                       double l2, double tol, int max_iter, double *w, ClProbeFitInfo *info)
{
  int cols = 0, max_cols = 0;
  for (int t = 0; t < n_targets; t++)
    {
      cols += cl_probe_logistic_columns (n_classes[t]);
      max_cols = MAX (max_cols, cl_probe_logistic_columns (n_classes[t]));
    }
  const int d1 = dim + 1;
  double *wt = g_new (double, (size_t) max_cols *d1);
  ClProbeFitInfo fit = { .converged = 1 };
  int ok = 1;
  for (int t = 0, o = 0; t < n_targets && ok; o += cl_probe_logistic_columns (n_classes[t]), t++)
    {
      const int ct = cl_probe_logistic_columns (n_classes[t]);
      ok = fit_one (x, n, dim, y[t], n_classes[t], l2, tol, max_iter, wt, &fit);
      for (int c = 0; c < ct; c++)
        for (int j = 0; j < d1; j++)
          w[(size_t) j * cols + o + c] = wt[(size_t) c * d1 + j];
    }
  fit.converged = fit.converged && ok;
  if (info)
    *info = fit;
  g_free (wt);
  return ok;
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
  const int d1 = dim + 1;
  double *mean = g_new (double, dim), *inv_std = g_new (double, dim);
  double *xs = g_new (double, (size_t) n_train *dim), *xte = g_new (double, (size_t) n_test *dim);
  double *wt = g_new (double, (size_t) d1 *cols);

  cl_probe_standardisation (train_x, n_train, dim, mean, inv_std);
  cl_probe_standardise (train_x, n_train, dim, mean, inv_std, xs);
  cl_probe_standardise (test_x, n_test, dim, mean, inv_std, xte);
  ClProbeFitInfo total = { .converged = 1 };
  int ok = 1;
  for (int t = 0; t < n_targets && ok; t++)
    {
      const int k = n_classes[t], c_t = cl_probe_logistic_columns (k);
      ok = fit_one (xs, n_train, dim, train_y[t], k, l2, tol, CL_PROBE_LOGISTIC_MAX_ITER, wt, &total);
      int right = 0;
      for (int i = 0; i < n_test; i++)
        {
          const double *xi = xte + (size_t) i * dim;
          int best = 0;
          double best_v = -INFINITY;
          for (int c = 0; c < c_t; c++)
            {
              double v;
              dots (xi, wt + (size_t) c * d1, d1, 1, dim, &v);
              v += wt[(size_t) c * d1 + dim];
              if (k == 2)
                best = v > 0;
              else if (v > best_v)
                {
                  best_v = v;
                  best = c;
                }
            }
          right += best == test_y[t][i];
        }
      accuracy[t] = (double) right / n_test;
    }
  total.converged = total.converged && ok;
  if (info)
    *info = total;
  g_free (mean);
  g_free (inv_std);
  g_free (xs);
  g_free (xte);
  g_free (wt);
  return ok;
}
