/* Shared between the two probe solvers; not part of the engine's API. */
#pragma once
#include <stdint.h>

/* In-place Cholesky of the lower triangle of a (n x n, row-major); 0 if not positive definite. */
int cl_probe_cholesky (double *a, int n);
/* Solves L L^T x = b for each of m right-hand-side columns of b (n x m, row-major). */
void cl_probe_cholesky_solve (const double *l, int n, double *b, int m);
/* H v of the logistic objective (one target, cl_probe.h's layout [dim + 1][columns] for w, v and
 * out) at w, as the Newton-CG solver computes it (float products); for tests. */
void cl_probe_logistic_hessian_product (const double *x, int n, int dim, const uint8_t *y, int n_classes, double l2,
                                        const double *w, const double *v, double *out);
