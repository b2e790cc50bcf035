/* Shared between the two probe solvers; not part of the engine's API. */
#pragma once

/* In-place Cholesky of the lower triangle of a (n x n, row-major); 0 if not positive definite. */
int cl_probe_cholesky (double *a, int n);
/* Solves L L^T x = b for each of m right-hand-side columns of b (n x m, row-major). */
void cl_probe_cholesky_solve (const double *l, int n, double *b, int m);
