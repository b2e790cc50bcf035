/* Linear probes on frozen features, evaluated on held-out data. Two kinds:
 *  - logistic (the default, and the protocol of the paper, SimCLR and linear evaluation since):
 *    multinomial logistic regression (a single sigmoid logit for two-class targets, as
 *    scikit-learn), L2-regularised, bias not penalised, fitted to convergence by Newton-CG;
 *  - ridge: closed-form least squares to one-hot targets (cheaper, deterministic, no iterations).
 * Both standardise every feature with the training set's mean and (population) std first, so one
 * regularisation strength suits features of any scale; a constant feature is dropped. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum
{
  CL_PROBE_LOGISTIC = 0,
  CL_PROBE_RIDGE = 1
} ClProbeKind;

/* The logistic probe's L2 strength: it minimises, per target,
 *   (1/n) sum_i cross_entropy_i + (CL_PROBE_LOGISTIC_L2 / 2) |W|^2
 * which is scikit-learn's LogisticRegression(C = 1 / (n * CL_PROBE_LOGISTIC_L2)). */
#define CL_PROBE_LOGISTIC_L2 1e-4
/* Convergence: largest |gradient| entry of the objective above. Every probe whose number is
 * reported (the untrained encoder's at step 0 and the one after the last step) is fitted to this. */
#define CL_PROBE_LOGISTIC_TOL 1e-6
/* The looser tolerance of the trainer's intermediate probes (every probe.every steps between the
 * first and the last). Measured with the former L-BFGS solver, whose tail from 1e-4 to 1e-6 was two
 * thirds of a fit: it moved the held-out accuracy by at most 0.0010 in 13 fits (default preset's
 * class at steps 0-300; randbits's class, bit1 and bit5 at steps 0-200; 5000 images per split),
 * against a seed std of ~0.006, so the live curve keeps its shape. With Newton-CG the tail is one
 * to three Newton iterations (15-30% of a fit). */
#define CL_PROBE_LOGISTIC_TOL_INTERMEDIATE 1e-4
#define CL_PROBE_LOGISTIC_MAX_ITER 1000

/* ---- ridge ---- */

/* Workspace needed, in doubles, for dim features and n_classes classes. */
size_t cl_probe_workspace_doubles (int dim, int n_classes);

/* Fits W, b minimising ||X W + b - onehot(y)||^2 + alpha * n_train * ||W||^2 on standardised
 * features of the training set, then returns the accuracy of argmax(X W + b) on the test set.
 * Labels must be < n_classes. ws: cl_probe_workspace_doubles() doubles. Returns -1 if the
 * system cannot be solved (it is positive definite for alpha > 0, so only on non-finite input). */
/* Several targets read off the same features at once (the Gram matrix is shared):
 * target t has n_classes[t] classes and labels train_y[t][i], test_y[t][i]; accuracy[t] receives
 * its held-out accuracy. ws: cl_probe_workspace_doubles (dim, sum of n_classes) doubles.
 * Returns FALSE if the system cannot be solved. */
int cl_probe_ridge_multi (const float *train_x, int n_train, const float *test_x, int n_test, int dim, int n_targets,
                          const uint8_t *const *train_y, const uint8_t *const *test_y, const int *n_classes,
                          double alpha, double *ws, double *accuracy);

double cl_probe_ridge (const float *train_x, const uint8_t *train_y, int n_train, const float *test_x,
                       const uint8_t *test_y, int n_test, int dim, int n_classes, double alpha, double *ws);

/* ---- logistic ---- */

/* Columns of the weight matrix of a target with k classes: k, or 1 when k == 2 (a sigmoid logit
 * for class 1). The weight matrix of several targets is [dim + 1][sum of columns], row-major,
 * targets side by side; its last row is the bias. */
int cl_probe_logistic_columns (int n_classes);

/* The objective summed over targets (each: mean cross-entropy + l2/2 |W_t|^2, bias rows not
 * penalised) at w, for already standardised x [n][dim] (double). grad (same shape as w) receives
 * its gradient when not NULL. ws: n * (sum of columns) doubles. */
double cl_probe_logistic_objective (const double *x, int n, int dim, int n_targets, const uint8_t *const *y,
                                    const int *n_classes, double l2, const double *w, double *grad, double *ws);

typedef struct
{
  int iterations;       /* Newton iterations */
  int evaluations;      /* objective + gradient evaluations (passes over the data) */
  int hessian_products; /* Hessian-vector products of the conjugate-gradient solves (one pass each) */
  double objective;     /* at the solution */
  double grad_max;      /* largest |gradient entry| at the solution */
  int converged;        /* grad_max <= tol, or the objective stopped decreasing at double precision */
} ClProbeFitInfo;

/* Minimises cl_probe_logistic_objective from w = 0, each target alone, by a truncated Newton
 * method (Newton-CG: Hessian-vector products of the exact Hessian, block-Jacobi preconditioner, backtracking
 * Armijo line search; cl_probe_logistic.c) until the largest |gradient entry| is <= tol, the
 * objective's relative decrease falls to 64 machine epsilons (scikit-learn's stopping rule), or
 * max_iter Newton iterations. Deterministic: the same input gives the same w bit for bit (on one
 * machine: the Hessian products use OpenBLAS's float GEMM, whose kernels vary by CPU). w: [dim + 1][sum of columns] out
 * (multinomial columns sum to zero in every row). info may be NULL; it sums over the targets. Returns FALSE on
 * non-finite input. */
int cl_probe_logistic_fit (const double *x, int n, int dim, int n_targets, const uint8_t *const *y,
                           const int *n_classes, double l2, double tol, int max_iter, double *w, ClProbeFitInfo *info);

/* The logistic counterpart of cl_probe_ridge_multi: standardises with the training set, fits
 * each target alone with strength l2 (the trainer passes CL_PROBE_LOGISTIC_L2) to
 * CL_PROBE_LOGISTIC_TOL, and writes each target's held-out accuracy. Allocates its own
 * workspace. info (may be NULL) receives the sums of iterations, evaluations and objectives, the
 * largest grad_max, and whether every fit converged. Returns FALSE on non-finite input. */
int cl_probe_logistic_multi (const float *train_x, int n_train, const float *test_x, int n_test, int dim, int n_targets,
                             const uint8_t *const *train_y, const uint8_t *const *test_y, const int *n_classes,
                             double l2, double *accuracy, ClProbeFitInfo *info);
/* The same to another convergence tolerance (the trainer's intermediate probes pass
 * CL_PROBE_LOGISTIC_TOL_INTERMEDIATE). */
int cl_probe_logistic_multi_tol (const float *train_x, int n_train, const float *test_x, int n_test, int dim,
                                 int n_targets, const uint8_t *const *train_y, const uint8_t *const *test_y,
                                 const int *n_classes, double l2, double tol, double *accuracy, ClProbeFitInfo *info);

/* Per-feature mean and 1/std (population std; 0 for a constant feature) of x [n][dim]. */
void cl_probe_standardisation (const float *x, int n, int dim, double *mean, double *inv_std);
/* (src - mean) * inv_std into dst [n][dim] (double). */
void cl_probe_standardise (const float *src, int n, int dim, const double *mean, const double *inv_std, double *dst);
