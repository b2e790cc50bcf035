/* Layers of the encoder, llm.c style: a small struct of shapes per layer, parameters and
 * buffers passed in by the caller, explicit *_forward / *_backward. Nothing here allocates.
 *
 * Layout: activations are NCHW float32 ([n][C][P] with P = H*W; a dense activation is [n][F]).
 * Gradients of parameters (dw, dgamma, dbeta) are OVERWRITTEN, never accumulated.
 * dx arguments are overwritten too and may be NULL when the input gradient is not needed.
 *
 * Threads: by default single-threaded, apart from whatever OpenBLAS does inside sgemm. Every sum is
 * taken in a fixed order, so results are bit-reproducible for a given OpenBLAS thread count.
 * cl_layers_set_threads (t > 1) lets conv2d split its im2col blocks (and BatchNorm over [n][C][P]
 * its channels) over a team of t threads that sleep between jobs; results are then bit-reproducible
 * for a given t, with OpenBLAS on 1 thread (set it with openblas_set_num_threads (1): each team
 * thread runs its own single-threaded sgemm).
 * Measured on the 2-vCPU target: a second busy thread adds no compute (sgemm runs at ~66 GFLOP/s
 * on 1 thread, ~69 on 2), and an idle OpenBLAS worker spinning beside these loops slows them ~2x,
 * so the model runs fastest with OpenBLAS on 1 thread. */
#pragma once
#include <glib.h>
#include <stddef.h>

#define CL_LAYERS_MAX_THREADS 4
/* Threads for the layers' own loops, process-wide, clamped to 1..CL_LAYERS_MAX_THREADS; default 1.
 * Call between steps, not while a forward or backward runs. The extra threads live until exit. */
void cl_layers_set_threads (int threads);
int cl_layers_get_threads (void);

/* BatchNorm conventions (PyTorch's): running = (1 - CL_BN_MOMENTUM) * running + CL_BN_MOMENTUM * batch,
 * i.e. Keras momentum 0.9; the running variance stores the unbiased (m / (m - 1)) batch variance,
 * normalisation in training uses the biased one. */
#define CL_BN_MOMENTUM 0.1f
#define CL_BN_EPS 1e-5f

/* ---- conv2d, no bias: im2col + sgemm, processed in chunks of samples so the column buffer
 * stays in cache (the column buffer is patch-major, [pixel][in_c*k*k], so im2col copies runs of
 * k floats instead of gathering with a stride). Weights w are [out_c][in_c][k][k]. */
typedef struct {
  int in_c, out_c, k, stride, pad;
  int in_h, in_w, out_h, out_w;
  /* Samples per im2col block, set by init (~512 KiB of columns). A caller may lower it (tests do,
   * to exercise the chunk loop); scratch sizes follow it. dw sums chunks in order, so results are
   * reproducible for a given chunk, n and thread count. With t team threads each thread takes blocks of
   * MAX (1, chunk / t) samples in turn (block b to thread b % t) and sums its own dw partial; the
   * partials are added in thread order. */
  int chunk;
  /* Input channels that take part (1..in_c, init sets in_c). The rest are treated as zero planes
   * without being read: forward and the weight gradient im2col and GEMM over the first active
   * channels only (weight columns of inactive channels get an exactly zero gradient); dx, when
   * asked for, still covers every input channel. Results equal the full computation on an input
   * whose inactive planes are zero. The references ignore this and always use every channel. */
  int active_c;
} ClConv2d;

/* Returns FALSE when the shape gives a non-positive output size. */
gboolean cl_conv2d_init (ClConv2d *conv, int in_c, int out_c, int k, int stride, int pad, int in_h, int in_w);
size_t cl_conv2d_num_weights (const ClConv2d *conv);
/* Scratch sizes, in floats, independent of n: col and dcol each need col_floats, tmp needs tmp_floats. */
size_t cl_conv2d_col_floats (const ClConv2d *conv);
size_t cl_conv2d_tmp_floats (const ClConv2d *conv);
/* Multiply-adds of one forward for one sample. */
double cl_conv2d_macs (const ClConv2d *conv);

/* y [n][out_c][out_h*out_w] = conv(x [n][in_c][in_h*in_w]). */
void cl_conv2d_forward (const ClConv2d *conv, const float *w, const float *x, int n, float *y,
                        float *col, float *tmp);
/* dw (overwritten) and dx (overwritten, may be NULL). Recomputes im2col from x, so x must be the
 * input of the forward. dcol is unused when dx is NULL. */
void cl_conv2d_backward (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n,
                         float *dw, float *dx, float *col, float *dcol, float *tmp);
/* Naive loop references (the tests compare the fast path against them). */
void cl_conv2d_forward_ref (const ClConv2d *conv, const float *w, const float *x, int n, float *y);
void cl_conv2d_backward_ref (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n,
                             float *dw, float *dx);

/* ---- BatchNorm over [n][C][P]: per channel, statistics over n and P (P = 1 gives BatchNorm1d).
 * The "relu" variants fuse a following ReLU (out = max(0, bn(x))); relu = FALSE is the plain
 * reference path. */
typedef struct {
  int channels;
  int spatial;
} ClBatchNorm;

/* Training: batch statistics; writes mean/invstd [C] for backward and updates running stats
 * (running_mean/running_var may be NULL to skip the update). */
void cl_batchnorm_forward_train (const ClBatchNorm *bn, const float *x, int n, const float *gamma,
                                 const float *beta, float *y, float *mean, float *invstd,
                                 float *running_mean, float *running_var, gboolean relu);
/* Evaluation: running statistics, nothing updated. */
void cl_batchnorm_forward_eval (const ClBatchNorm *bn, const float *x, int n, const float *gamma,
                                const float *beta, const float *running_mean, const float *running_var,
                                float *y, gboolean relu);
/* Backward of a training forward. y is that forward's output (read only when relu, for the mask).
 * dx may alias dy (in place). dgamma, dbeta [C] are overwritten. */
void cl_batchnorm_backward (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                            const float *gamma, const float *mean, const float *invstd, float *dx,
                            float *dgamma, float *dbeta, gboolean relu);

/* ---- dense, no bias: y [n][out] = x [n][in] W^T, W [out][in]. */
typedef struct {
  int in, out;
} ClDense;

void cl_dense_forward (const ClDense *dense, const float *w, const float *x, int n, float *y);
void cl_dense_backward (const ClDense *dense, const float *w, const float *x, const float *dy, int n,
                        float *dw, float *dx);

/* ---- ReLU on count floats; y may alias x, dx may alias dy. y is the forward output. */
void cl_relu_forward (const float *x, size_t count, float *y);
void cl_relu_backward (const float *y, const float *dy, size_t count, float *dx);
