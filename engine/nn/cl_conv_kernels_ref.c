/* The reference conv microkernels (cl_conv_kernels.h): the loops of the definition, one fmaf chain
 * per output element in the order every fast kernel set follows, so a fast set must match these bit
 * for bit. Plain C; without hardware FMA fmaf is slow, which is fine for tests. */
#include "engine/nn/cl_conv_kernels.h"

#include <math.h>

#include "engine/nn/cl_layers_private.h"

/* y [rows][O]: y[q][o] = sum over ki, j of ptab[q][ki][j] * packed[o][ki*seg + j]. */
static void
forward_block (const ClConv2d *conv, const float *packed, const float *const *ptab, int rows, float *y,
               const float *zeros, const ClConvEpilogue *ep)
{
  (void) zeros;
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, K = k * run;
  for (int q = 0; q < rows; q++)
    for (int o = 0; o < O; o++)
      {
        const int o0 = o - o % CL_SIMD_TILE_O;
        const float *w = packed + (size_t) o0 * K + (o - o0);
        float acc = 0.0f;
        for (int ki = 0; ki < k; ki++)
          {
            const float *p = ptab[(size_t) q * k + ki];
            for (int j = 0; j < run; j++)
              acc = fmaf (p[j], w[(size_t) (ki * run + j) * CL_SIMD_TILE_O], acc);
          }
        if (ep)
          acc = relu_f (ep->scale[o] * (acc - ep->mean[o]) + ep->shift[o]);
        y[(size_t) q * O + o] = acc;
      }
}

/* dwt [K][O] (+)= sum over q of x-patch[q][kk] dy[q][o]. */
static void
dw_block (const ClConv2d *conv, const float *const *ptab, const float *dy, int rows, float *dwt, gboolean first)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c;
  for (int ki = 0; ki < k; ki++)
    for (int j = 0; j < run; j++)
      for (int o = 0; o < O; o++)
        {
          float *t = dwt + ((size_t) ki * run + j) * O + o;
          float acc = first ? 0.0f : *t;
          for (int q = 0; q < rows; q++)
            acc = fmaf (dy[(size_t) q * O + o], ptab[(size_t) q * k + ki][j], acc);
          *t = acc;
        }
}

/* dtab[q][ki][j] += sum over o of dy[q][o] wp[o][ki*seg + j]. Overlapping patches add into the same
 * dx element, so the adds go in the fast kernels' order too: kernel row, column tile, pixel. */
static void
dx_block (const ClConv2d *conv, const float *wp, float *const *dtab, const float *dy, int rows)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, K = k * run;
  for (int ki = 0; ki < k; ki++)
    for (int j0 = 0; j0 < run; j0 += CL_SIMD_TILE_O)
      for (int q = 0; q < rows; q++)
        {
          float *dst = dtab[(size_t) q * k + ki];
          if (!dst)
            continue;
          for (int j = j0; j < MIN (run, j0 + CL_SIMD_TILE_O); j++)
            {
              float acc = 0.0f;
              for (int o = 0; o < O; o++)
                acc = fmaf (dy[(size_t) q * O + o], wp[(size_t) o * K + ki * run + j], acc);
              dst[j] += acc;
            }
        }
}

const ClConvKernels cl_conv_kernels_reference = { "reference", forward_block, dw_block, dx_block };
