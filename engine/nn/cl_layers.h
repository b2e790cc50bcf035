/* Layers of the encoder, llm.c style: a small struct of shapes per layer, parameters and
 * buffers passed in by the caller, explicit *_forward / *_backward. Nothing here allocates.
 *
 * Layout: activations are NCHW float32 ([n][C][P] with P = H*W; a dense activation is [n][F]).
 * Gradients of parameters (dw, dgamma, dbeta) are OVERWRITTEN, never accumulated.
 * dx arguments are overwritten too and may be NULL when the input gradient is not needed.
 *
 * Threads: by default single-threaded, apart from whatever OpenBLAS does inside sgemm. Every sum is
 * taken in a fixed order, so results are bit-reproducible for a given OpenBLAS thread count.
 * cl_layers_set_threads (t > 1) spreads the work over a team of t threads that sleep between jobs
 * and claim work items one by one (a thread that loses its core to another process just claims
 * fewer). OpenBLAS must then run on 1 thread (cl_layers_use_threads does both): each team thread
 * calls its own single-threaded sgemm. The channels-last conv and the [rows][C] BatchNorm the model
 * uses give the same bits for every team size; the NCHW conv splits its blocks by the thread count
 * and is bit-reproducible for a given count only. */
#pragma once
#include <glib.h>
#include <stddef.h>

#define CL_LAYERS_MAX_THREADS 4
/* Threads for the layers' own loops, process-wide, clamped to 1..CL_LAYERS_MAX_THREADS; default 1.
 * Call between steps, not while a forward or backward runs. The extra threads live until exit. */
void cl_layers_set_threads (int threads);
int cl_layers_get_threads (void);
/* The engine's thread setting, what the trainer and the benchmark use: the team gets `threads` and
 * OpenBLAS runs single-threaded inside it (each team thread calls its own sgemm; an idle OpenBLAS
 * worker spinning beside the team's loops slows them). Process-wide, between steps. */
void cl_layers_use_threads (int threads);

/* Niceness (0..19) of the engine's compute threads: the team's workers, the trainer thread, the
 * batch-preparation helper and the sweep runner each apply it when they start
 * (cl_layers_apply_compute_nice), so set it before the first trainer. 0 (the default) keeps the
 * process' own. The window sets it so that on a machine whose cores the training fills, the GUI
 * thread and the display server still get the CPU when a frame is due. Linux threads only;
 * elsewhere it does nothing. */
void cl_layers_set_compute_nice (int nice);
void cl_layers_apply_compute_nice (void);

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

/* ---- conv2d on channels-last ("NHWC") tensors: the path the model trains with.
 * x [n][in_h][in_w][in_c], y [n][out_h][out_w][out_c]. A patch row is then one run of k*in_c
 * contiguous floats: the SIMD kernels (below) read those runs in place, as an implicit GEMM, and the
 * portable path builds its im2col columns from a few short copies per pixel and lets sgemm write
 * the output rows in place (no transpose). A BatchNorm over the result is the [rows][C] layout
 * (spatial 1, n*H*W rows), which walks memory once. Kernels are in the permuted order
 * wp [out_c][k][k][in_c] (cl_conv2d_weights_to_nhwc). active_c is ignored: x has exactly in_c
 * channels per pixel.
 *
 * Samples go in blocks of conv->chunk; block b belongs to lane b % CL_LAYERS_LANES, and the team's
 * threads claim whole lanes as they become free. The kernel gradient is summed per lane, blocks in
 * order, and the lanes are added in lane order, so every result is bit-identical for any thread count. */
#define CL_LAYERS_LANES 8

/* w [out_c][w_in_c][k][k] (its first conv->in_c input channels) -> wp [out_c][k][k][in_c]. */
void cl_conv2d_weights_to_nhwc (const ClConv2d *conv, const float *w, int w_in_c, float *wp);
/* wp [out_c][k][k][in_c] -> w [out_c][w_in_c][k][k]; input channels in_c..w_in_c-1 are set to 0. */
void cl_conv2d_weights_from_nhwc (const ClConv2d *conv, const float *wp, int w_in_c, float *w);
/* Scratch floats of the NHWC forward and backward (column blocks of every thread, lane partials of
 * the kernel gradient). Follows conv->chunk. */
size_t cl_conv2d_nhwc_scratch_floats (const ClConv2d *conv);
void cl_conv2d_forward_nhwc (const ClConv2d *conv, const float *wp, const float *x, int n, float *y,
                             float *scratch);
/* Evaluation forward fused with the BatchNorm (running statistics) + ReLU that follows:
 * y = max(0, gamma / sqrt(var + eps) * (conv - mean) + beta), the same float operations as
 * cl_conv2d_forward_nhwc then cl_batchnorm_forward_eval (spatial 1, relu), without a pass over y. */
void cl_conv2d_forward_nhwc_eval_bn_relu (const ClConv2d *conv, const float *wp, const float *x, int n,
                                         const float *gamma, const float *beta, const float *running_mean,
                                         const float *running_var, float *y, float *scratch);
/* dwp [out_c][k][k][in_c] and dx (may be NULL) are overwritten. x must be the forward's input. */
void cl_conv2d_backward_nhwc (const ClConv2d *conv, const float *wp, const float *x, const float *dy, int n,
                              float *dwp, float *dx, float *scratch);

/* The channels-last conv uses AVX2+FMA kernels (implicit GEMM, no im2col) when the CPU has them,
 * else im2col + sgemm. Both give the results above; they differ from each other by rounding only.
 * Tests switch the SIMD kernels off to check the other path; process-wide, between calls. */
gboolean cl_layers_simd_available (void);
void cl_layers_set_simd (gboolean enabled);
gboolean cl_layers_get_simd (void); /* enabled and available */

/* Backward through a conv whose output feeds a BatchNorm (spatial 1) + ReLU, without the BatchNorm's
 * second pass over memory: each block's dy = k1 * d - k0 - k2 * (pre - mean), d = dact where
 * act > 0, is formed in the scratch as the block is used (the same float operations as
 * cl_batchnorm_backward, so the results are identical to that then cl_conv2d_backward_nhwc). */
typedef struct {
  const float *dact, *act, *pre;    /* [n][out_h][out_w][out_c] */
  const float *mean, *k0, *k1, *k2; /* [out_c], from cl_batchnorm_backward_coefficients (relu) */
} ClBnReluGrad;
void cl_conv2d_backward_nhwc_bn (const ClConv2d *conv, const float *wp, const float *x, const ClBnReluGrad *bng,
                                 int n, float *dwp, float *dx, float *scratch);

/* Layout changes: src [n][c_src][P] (its first c planes) -> dst [n][P][c]; and back, dst [n][c][P]. */
void cl_nchw_to_nhwc (const float *src, int n, int c_src, int c, int P, float *dst);
void cl_nhwc_to_nchw (const float *src, int n, int c, int P, float *dst);

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

/* The first pass of cl_batchnorm_backward for spatial 1 ([n][C] rows): dgamma, dbeta, and the
 * per-channel coefficients of dx = k1 * d - k0 - k2 * (x - mean) for cl_conv2d_backward_nhwc_bn. */
void cl_batchnorm_backward_coefficients (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                                         const float *gamma, const float *mean, const float *invstd, float *dgamma,
                                         float *dbeta, float *k0, float *k1, float *k2, gboolean relu);

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
