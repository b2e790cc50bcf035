/* Dense layer, no bias: on the conv microkernels (cl_gemm.h) when they run, else over OpenBLAS's sgemm.
 * forward:  y [n][out] = x [n][in] W^T, W [out][in]
 * backward: dW [out][in] = dy^T x;  dx [n][in] = dy W */
#include "engine/nn/cl_dense.h"

#include <cblas.h>

#include "engine/nn/cl_gemm.h"
#include "engine/nn/cl_layers_private.h"

/* The sgemm path. Work is cut into fixed pieces (CL_DENSE_ROWS rows of x, or CL_DENSE_OUTS rows of the kernel
 * gradient), whatever the thread count, and each output element is one sgemm dot product over its
 * whole reduction, so results do not depend on the team size. Small layers stay one sgemm. */
#define CL_DENSE_ROWS 64
#define CL_DENSE_OUTS 32
#define CL_DENSE_MIN_MACS (1 << 20)

typedef struct
{
  const ClDense *dense;
  const float *w, *x, *dy;
  int n;
  float *y, *dw, *dx;
} DenseJob;

static void
dense_forward_item (void *arg, int item, int thread)
{
  (void) thread;
  const DenseJob *job = arg;
  const int in = job->dense->in, out = job->dense->out;
  const int r0 = item * CL_DENSE_ROWS, rows = MIN (CL_DENSE_ROWS, job->n - r0);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, job->x + (size_t) r0 * in, in, job->w, in,
               0.0f, job->y + (size_t) r0 * out, out);
}

void
cl_dense_forward (const ClDense *dense, const float *w, const float *x, int n, float *y)
{
  if (cl_gemm_uses_microkernels ())
    {
      cl_gemm_nt (n, dense->out, dense->in, x, w, y);
      return;
    }
  DenseJob job = { dense, w, x, NULL, n, y, NULL, NULL };
  const gboolean split = (double) n * dense->in * dense->out >= CL_DENSE_MIN_MACS;
  if (!split)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, dense->out, dense->in, 1.0f, x, dense->in, w, dense->in,
                   0.0f, y, dense->out);
      return;
    }
  cl_team_for (dense_forward_item, &job, (n + CL_DENSE_ROWS - 1) / CL_DENSE_ROWS);
}

/* Items [0, out_items): slices of dw; then [out_items, ...): row blocks of dx. */
static void
dense_backward_item (void *arg, int item, int thread)
{
  (void) thread;
  const DenseJob *job = arg;
  const int in = job->dense->in, out = job->dense->out;
  const int out_items = (out + CL_DENSE_OUTS - 1) / CL_DENSE_OUTS;
  if (item < out_items)
    {
      /* dw [o0..o0+m)[in] = dy[:, o0..o0+m)^T x */
      const int o0 = item * CL_DENSE_OUTS, m = MIN (CL_DENSE_OUTS, out - o0);
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, in, job->n, 1.0f, job->dy + o0, out, job->x, in, 0.0f,
                   job->dw + (size_t) o0 * in, in);
      return;
    }
  const int r0 = (item - out_items) * CL_DENSE_ROWS, rows = MIN (CL_DENSE_ROWS, job->n - r0);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, job->dy + (size_t) r0 * out, out, job->w,
               in, 0.0f, job->dx + (size_t) r0 * in, in);
}

void
cl_dense_backward (const ClDense *dense, const float *w, const float *x, const float *dy, int n, float *dw, float *dx)
{
  if (cl_gemm_uses_microkernels ())
    {
      cl_gemm_nt_backward (n, dense->out, dense->in, x, w, dy, dw, dx);
      return;
    }
  const gboolean split = (double) n * dense->in * dense->out >= CL_DENSE_MIN_MACS;
  if (!split)
    {
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, dense->out, dense->in, n, 1.0f, dy, dense->out, x,
                   dense->in, 0.0f, dw, dense->in);
      if (dx)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dense->in, dense->out, 1.0f, dy, dense->out, w,
                     dense->in, 0.0f, dx, dense->in);
      return;
    }
  DenseJob job = { dense, w, x, dy, n, NULL, dw, dx };
  const int out_items = (dense->out + CL_DENSE_OUTS - 1) / CL_DENSE_OUTS;
  cl_team_for (dense_backward_item, &job, out_items + (dx ? (n + CL_DENSE_ROWS - 1) / CL_DENSE_ROWS : 0));
}
