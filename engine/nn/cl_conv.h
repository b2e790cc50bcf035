/* 2-D convolution, no bias. Three implementations of one operation:
 *   - the naive loop reference (cl_conv2d_forward_ref / _backward_ref, NCHW, in double);
 *   - the NCHW im2col + sgemm path (cl_conv2d_forward / _backward), which only the tests call: it is
 *     the one the finite-difference gradient checks and the active-channel contract run on;
 *   - the channels-last (NHWC) path the model trains with (cl_conv2d_*_nhwc), with its microkernels
 *     chosen at run time by the CPU's features (cl_conv_kernels.h).
 * Shapes: x [n][in_c][in_h][in_w] (NCHW) or [n][in_h][in_w][in_c] (NHWC); w [out_c][in_c][k][k]. */
#pragma once
#include <glib.h>
#include <stddef.h>

#include "engine/nn/cl_team.h"

/* ---- conv2d, no bias: im2col + sgemm, processed in chunks of samples so the column buffer
 * stays in cache (the column buffer is patch-major, [pixel][in_c*k*k], so im2col copies runs of
 * k floats instead of gathering with a stride). Weights w are [out_c][in_c][k][k]. */
typedef struct
{
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
void cl_conv2d_forward (const ClConv2d *conv, const float *w, const float *x, int n, float *y, float *col, float *tmp);
/* dw (overwritten) and dx (overwritten, may be NULL). Recomputes im2col from x, so x must be the
 * input of the forward. dcol is unused when dx is NULL. */
void cl_conv2d_backward (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n, float *dw,
                         float *dx, float *col, float *dcol, float *tmp);
/* Naive loop references (the tests compare the fast path against them). */
void cl_conv2d_forward_ref (const ClConv2d *conv, const float *w, const float *x, int n, float *y);
void cl_conv2d_backward_ref (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n, float *dw,
                             float *dx);

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
void cl_conv2d_forward_nhwc (const ClConv2d *conv, const float *wp, const float *x, int n, float *y, float *scratch);
/* Evaluation forward fused with the BatchNorm (running statistics) + ReLU that follows:
 * y = max(0, gamma / sqrt(var + eps) * (conv - mean) + beta), the same float operations as
 * cl_conv2d_forward_nhwc then cl_batchnorm_forward_eval (spatial 1, relu), without a pass over y. */
void cl_conv2d_forward_nhwc_eval_bn_relu (const ClConv2d *conv, const float *wp, const float *x, int n,
                                          const float *gamma, const float *beta, const float *running_mean,
                                          const float *running_var, float *y, float *scratch);
/* Training forward with what the BatchNorm that follows needs gathered as each view is stored, while
 * it is in cache: an optional per-view bias added first (bias [n][n_classes][out_c], pixel p takes
 * class pixel_class[p]: constant input planes, cl_const_planes.h; the same single add as
 * cl_const_planes_add_bias), then the view's moments (cl_batchnorm_view_moments into moments [n][3]
 * [out_c]). The same bits as cl_conv2d_forward_nhwc, cl_const_planes_add_bias and the moments of
 * cl_batchnorm_forward_train_views, for any thread count. */
typedef struct
{
  const float *bias; /* NULL: none */
  const int *pixel_class;
  int n_classes;
  double *moments;
} ClConvTrainEpilogue;
void cl_conv2d_forward_nhwc_train (const ClConv2d *conv, const float *wp, const float *x, int n, float *y,
                                   float *scratch, const ClConvTrainEpilogue *tep);
/* dwp [out_c][k][k][in_c] and dx (may be NULL) are overwritten. x must be the forward's input.
 * dwp NULL: only dx (x is then not read). */
void cl_conv2d_backward_nhwc (const ClConv2d *conv, const float *wp, const float *x, const float *dy, int n, float *dwp,
                              float *dx, float *scratch);

/* The channels-last conv runs microkernels chosen at run time by the CPU's features
 * (__builtin_cpu_supports): "avx512" (AVX-512F) or "avx2" (AVX2 + FMA), else "im2col"
 * (im2col + sgemm, through OpenBLAS). The microkernel sets give identical bits (each output is one
 * fused multiply-add chain in a fixed order; "reference" is that chain in plain C, for tests);
 * "im2col" differs from them by rounding only. Process-wide, between calls.
 * cl_conv_set_kernels (NULL) picks the best again; FALSE (and no change) when the name is unknown or
 * the CPU lacks the instructions. */
gboolean cl_conv_set_kernels (const char *name);
const char *cl_conv_kernels_name (void); /* what runs now */
/* When the CPU runs both AVX-512 and AVX2 + FMA, the best set is the faster one at a short
 * calibration on first use (CPU time of a conv2-sized forward + kernel gradient; AVX-512 when it is
 * at least 5% faster): the AVX-512 time over the AVX2 time it measured, or 0 when there was no
 * choice to make. */
double cl_conv_kernels_calibration (void);
/* The older switch: FALSE = "im2col", TRUE = the best microkernels. */
gboolean cl_layers_simd_available (void);
void cl_layers_set_simd (gboolean enabled);
gboolean cl_layers_get_simd (void); /* a fast microkernel set is in use */

/* Backward through a conv whose output feeds a BatchNorm (spatial 1) + ReLU, without the BatchNorm's
 * second pass over memory: each block's dy = k1 * d - k0 - k2 * (pre - mean), d = dact where
 * act > 0, is formed in the scratch as the block is used (the same float operations as
 * cl_batchnorm_backward, so the results are identical to that then cl_conv2d_backward_nhwc). */
typedef struct
{
  const float *dact, *act, *pre;    /* [n][out_h][out_w][out_c] */
  const float *mean, *k0, *k1, *k2; /* [out_c], from cl_batchnorm_backward_coefficients (relu) */
  /* Optional (dy_sums NULL: none): per view, the sums of dy over the pixels of each of n_classes
   * classes, pixel_class [out_h*out_w], pixels in order; dy_sums [n][n_classes][out_c] is
   * overwritten. What constant input planes need (cl_const_planes.h). */
  const int *pixel_class;
  int n_classes;
  float *dy_sums;
  /* With act NULL: the ReLU's mask is recomputed from pre, k1 (pre - mean) + beta > 0 (k1 = gamma
   * invstd, the forward's scale: the same float operations, so the same bits), beta [out_c]. */
  const float *beta;
} ClBnReluGrad;
void cl_conv2d_backward_nhwc_bn (const ClConv2d *conv, const float *wp, const float *x, const ClBnReluGrad *bng, int n,
                                 float *dwp, float *dx, float *scratch);

/* The conv's input as the input of a training BatchNorm + ReLU: x = relu (gamma invstd (pre - mean)
 * + beta) per input channel, formed block by block into the scratch (cl_batchnorm_relu_apply, the
 * bits of the BatchNorm's own pass) as the forward and the kernel gradient need it, so the
 * normalised map is never written to memory. */
typedef struct
{
  const float *mean, *gamma, *invstd, *beta; /* [in_c] */
} ClConvInputBn;
/* cl_conv2d_forward_nhwc (tep NULL) or cl_conv2d_forward_nhwc_train on x = inbn (pre). */
void cl_conv2d_forward_nhwc_in (const ClConv2d *conv, const float *wp, const float *pre, const ClConvInputBn *inbn,
                                int n, float *y, float *scratch, const ClConvTrainEpilogue *tep);
/* cl_conv2d_backward_nhwc (bng NULL: from dy) or cl_conv2d_backward_nhwc_bn (dy unused) on x = inbn (pre). */
void cl_conv2d_backward_nhwc_in (const ClConv2d *conv, const float *wp, const float *pre, const ClConvInputBn *inbn,
                                 const ClBnReluGrad *bng, const float *dy, int n, float *dwp, float *dx,
                                 float *scratch);
