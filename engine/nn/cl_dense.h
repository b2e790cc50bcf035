/* Dense (fully connected) layer, no bias: the conv microkernels as a GEMM (cl_gemm.h), or sgemm. */
#pragma once

/* ---- dense, no bias: y [n][out] = x [n][in] W^T, W [out][in]. */
typedef struct
{
  int in, out;
} ClDense;

void cl_dense_forward (const ClDense *dense, const float *w, const float *x, int n, float *y);
void cl_dense_backward (const ClDense *dense, const float *w, const float *x, const float *dy, int n, float *dw,
                        float *dx);
