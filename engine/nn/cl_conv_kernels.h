/* Internal to engine/nn: the conv microkernels' interface.
 *
 * The channels-last conv (cl_conv_nhwc.c) runs as an implicit GEMM: for each block of output pixels it
 * builds a table of pointers to the patch rows of x and hands it to three microkernels. Each
 * microkernel set (AVX-512, AVX2+FMA, the plain reference) computes every output element as ONE
 * chain of fused multiply-adds in a fixed order, whatever its tile shape, so all sets give the same
 * bits: the reference (fmaf in loops) is what each fast set is tested against, bit for bit.
 *
 *   forward_block: y [rows][O] = sum over ki < nseg, j < seg of ptab[q*nseg+ki][j] * packed tile
 *                  (order: ki, then j); with ep, y = relu (scale * (y - mean) + shift).
 *   dw_block:      dwt [K][O] (+)= sum over pixels q (in order) of x-patch[q][kk] * dy[q][o]
 *                  (from zero when `first`, else continuing the stored partial).
 *   dx_block:      dtab[q*nseg+ki][j] += sum over o (in order) of dy[q][o] * wp[o][ki*seg+j],
 *                  one rounding for the add; NULL rows are skipped.
 */
#pragma once
#include <glib.h>

#include "engine/nn/cl_conv.h"

/* Columns per im2col block: ~512 KiB, so col, dcol and the GEMM panels stay in L2. */
#ifndef CL_CONV_COL_TARGET_FLOATS
#define CL_CONV_COL_TARGET_FLOATS (128 * 1024)
#endif
#define CL_CONV_MAX_CHUNK 4096

/* Output channels per packed kernel tile: packed [O/16][K][16], zero beyond O. */
#define CL_SIMD_TILE_O 16

/* How the kernels see a pixel's K = k*k*C inputs: nseg runs of seg contiguous floats. With enough
 * channels these are the k patch rows, read in place; with few (a patch row of fewer than 16 floats,
 * e.g. conv1 on one image plane) the block is im2col'd first and each pixel is one run of K, so the
 * kernels' inner loops are not all loop overhead. */
typedef struct
{
  int nseg, seg;
} ClRowShape;

#define CL_SIMD_MIN_RUN 16

static inline ClRowShape
cl_conv_row_shape (const ClConv2d *conv)
{
  const int run = conv->k * conv->in_c;
  return run < CL_SIMD_MIN_RUN ? (ClRowShape){ 1, conv->k * run } : (ClRowShape){ conv->k, run };
}

/* Pixels per pass of the kernel-gradient kernel: their dy stripe and patch-row pieces should stay
 * in L1. Patch rows of neighbouring pixels lie stride * C floats apart, often a power of two, so
 * they compete for a few of L1's 64 sets of 8 lines: passes are cut to about 6 lines per set and
 * the dy stripe is packed so it spreads over all sets. */
#define CL_SIMD_DW_PIXELS 128

static inline int
cl_conv_dw_pass_pixels (const ClConv2d *conv)
{
  /* Neighbouring pixels' runs: stride * C floats apart in place, K apart after im2col. */
  const long stride_bytes =
      (long) (cl_conv_row_shape (conv).nseg == 1 ? conv->k * conv->k * conv->in_c : conv->stride * conv->in_c) *
      (long) sizeof (float);
  long sets = 64;
  if (stride_bytes >= 64 && (stride_bytes & (stride_bytes - 1)) == 0)
    sets = MAX (1, 64 * 64 / stride_bytes);
  return (int) CLAMP (6 * sets, 16, CL_SIMD_DW_PIXELS);
}

/* The evaluation BatchNorm fused into the forward's store: y = max(0, scale * (conv - mean) + shift),
 * the same float operations (a multiply, then an add, no fusing) as cl_batchnorm_forward_eval. */
typedef struct
{
  const float *scale, *mean, *shift; /* [O] */
} ClConvEpilogue;

typedef struct
{
  const char *name; /* "avx512", "avx2", "reference" */
  void (*forward_block) (const ClConv2d *conv, const float *packed, const float *const *ptab, int rows, float *y,
                         const float *zeros, const ClConvEpilogue *ep);
  void (*dw_block) (const ClConv2d *conv, const float *const *ptab, const float *dy, int rows, float *dwt,
                    gboolean first);
  void (*dx_block) (const ClConv2d *conv, const float *wp, float *const *dtab, const float *dy, int rows);
} ClConvKernels;

/* Plain C (fmaf in loops): the semantics above, slow; every CPU. */
extern const ClConvKernels cl_conv_kernels_reference;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CL_HAVE_X86_KERNELS 1
extern const ClConvKernels cl_conv_kernels_avx2;   /* AVX2 + FMA */
extern const ClConvKernels cl_conv_kernels_avx512; /* AVX-512F */
#else
#define CL_HAVE_X86_KERNELS 0
#endif

/* The kernel set the NHWC conv uses now (cl_conv_set_kernels), or NULL for im2col + sgemm. */
const ClConvKernels *cl_conv_kernels_current (void);
