/* The conv microkernels for x86-64 with AVX-512F (cl_conv_kernels.h). One 512-bit register holds a
 * whole tile of 16 output channels (or 16 columns of a patch row), so each kernel keeps 12 of them
 * as accumulators: twice the rows (or columns) per pass of the AVX2 kernels. Every output element is
 * still one chain of fused multiply-adds in the order of the reference, so the results are the same
 * bits as cl_conv_kernels_reference and cl_conv_kernels_avx2. */
#include "engine/nn/cl_conv_kernels.h"

#if CL_HAVE_X86_KERNELS
#include <immintrin.h>
#include <string.h>

#define CL_AVX512 __attribute__ ((target ("avx512f")))
#define ROWS 12 /* accumulators per tile */

/* Twelve accumulators by name, so they stay in registers. */
#define ACC_DECL                                                                                                       \
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps ();                              \
  __m512 a3 = _mm512_setzero_ps (), a4 = _mm512_setzero_ps (), a5 = _mm512_setzero_ps ();                              \
  __m512 a6 = _mm512_setzero_ps (), a7 = _mm512_setzero_ps (), a8 = _mm512_setzero_ps ();                              \
  __m512 a9 = _mm512_setzero_ps (), a10 = _mm512_setzero_ps (), a11 = _mm512_setzero_ps ()
#define ACC_ARRAY                                                                                                      \
  {                                                                                                                    \
    a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11                                                                   \
  }

static inline __mmask16 CL_AVX512
lanes (int n)
{
  return (__mmask16) (n >= 16 ? 0xffff : (1u << n) - 1u);
}

/* y [rows][O]: tiles of 12 output pixels x 16 output channels; per kernel column one load of the
 * packed kernel and 12 broadcasts from the pixels' runs. */
CL_AVX512 static void
forward_narrow (const ClConv2d *conv, const float *packed, const float *const *ptab, int rows, float *y,
                const float *zeros, const ClConvEpilogue *ep, int o_from)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, K = k * run;
  for (int o0 = o_from; o0 < O; o0 += CL_SIMD_TILE_O)
    {
      const float *wt = packed + (size_t) o0 * K;
      const int ov = MIN (CL_SIMD_TILE_O, O - o0);
      const __mmask16 m = lanes (ov);
      __m512 vs = _mm512_setzero_ps (), vm = _mm512_setzero_ps (), vb = _mm512_setzero_ps ();
      if (ep)
        {
          vs = _mm512_maskz_loadu_ps (m, ep->scale + o0);
          vm = _mm512_maskz_loadu_ps (m, ep->mean + o0);
          vb = _mm512_maskz_loadu_ps (m, ep->shift + o0);
        }
      for (int q0 = 0; q0 < rows; q0 += ROWS)
        {
          const int rv = MIN (ROWS, rows - q0);
          ACC_DECL;
          for (int ki = 0; ki < k; ki++)
            {
              const float *const *pt = ptab + (size_t) q0 * k + ki;
              const float *p[ROWS];
              for (int r = 0; r < ROWS; r++)
                p[r] = r < rv ? pt[(size_t) r * k] : zeros;
              const float *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3], *p4 = p[4], *p5 = p[5];
              const float *p6 = p[6], *p7 = p[7], *p8 = p[8], *p9 = p[9], *p10 = p[10], *p11 = p[11];
              const float *w = wt + (size_t) ki * run * CL_SIMD_TILE_O;
              for (int j = 0; j < run; j++, w += CL_SIMD_TILE_O)
                {
                  const __m512 w0 = _mm512_loadu_ps (w);
                  a0 = _mm512_fmadd_ps (_mm512_set1_ps (p0[j]), w0, a0);
                  a1 = _mm512_fmadd_ps (_mm512_set1_ps (p1[j]), w0, a1);
                  a2 = _mm512_fmadd_ps (_mm512_set1_ps (p2[j]), w0, a2);
                  a3 = _mm512_fmadd_ps (_mm512_set1_ps (p3[j]), w0, a3);
                  a4 = _mm512_fmadd_ps (_mm512_set1_ps (p4[j]), w0, a4);
                  a5 = _mm512_fmadd_ps (_mm512_set1_ps (p5[j]), w0, a5);
                  a6 = _mm512_fmadd_ps (_mm512_set1_ps (p6[j]), w0, a6);
                  a7 = _mm512_fmadd_ps (_mm512_set1_ps (p7[j]), w0, a7);
                  a8 = _mm512_fmadd_ps (_mm512_set1_ps (p8[j]), w0, a8);
                  a9 = _mm512_fmadd_ps (_mm512_set1_ps (p9[j]), w0, a9);
                  a10 = _mm512_fmadd_ps (_mm512_set1_ps (p10[j]), w0, a10);
                  a11 = _mm512_fmadd_ps (_mm512_set1_ps (p11[j]), w0, a11);
                }
            }
          __m512 acc[ROWS] = ACC_ARRAY;
          for (int r = 0; r < rv; r++)
            {
              __m512 v = acc[r];
              if (ep)
                {
                  /* relu_f on the bits: clear every lane whose sign bit is set. */
                  const __m512i b = _mm512_castps_si512 (_mm512_add_ps (_mm512_mul_ps (vs, _mm512_sub_ps (v, vm)), vb));
                  v = _mm512_castsi512_ps (_mm512_andnot_si512 (_mm512_srai_epi32 (b, 31), b));
                }
              _mm512_mask_storeu_ps (y + (size_t) (q0 + r) * O + o0, m, v);
            }
        }
    }
}

/* The epilogue on one accumulator of 16 full lanes, then the store. */
CL_AVX512 static inline void
store_tile (float *dst, __m512 v, const ClConvEpilogue *ep, int o)
{
  if (ep)
    {
      const __m512 vs = _mm512_loadu_ps (ep->scale + o), vm = _mm512_loadu_ps (ep->mean + o);
      const __m512 vb = _mm512_loadu_ps (ep->shift + o);
      /* relu_f on the bits: clear every lane whose sign bit is set. */
      const __m512i b = _mm512_castps_si512 (_mm512_add_ps (_mm512_mul_ps (vs, _mm512_sub_ps (v, vm)), vb));
      v = _mm512_castsi512_ps (_mm512_andnot_si512 (_mm512_srai_epi32 (b, 31), b));
    }
  _mm512_storeu_ps (dst, v);
}

/* Wide tiles: NV full 16-channel vectors x R pixels (NV * R = 24 accumulators), so per kernel
 * column NV loads of the packed kernel and R broadcasts feed NV * R fused multiply-adds (the 1 x 12
 * tile above needs 13 loads for 12). Same order per element (ki, then j): the same bits. */
#define DEFINE_FORWARD_WIDE(NAME, NV, R)                                                                               \
  CL_AVX512 static void NAME (const ClRowShape sh, int K, int O, const float *packed, const float *const *ptab,        \
                              int rows, float *y, const float *zeros, const ClConvEpilogue *ep, int o0)                \
  {                                                                                                                    \
    const int k = sh.nseg, run = sh.seg;                                                                               \
    const float *wt = packed + (size_t) o0 * K;                                                                        \
    for (int q0 = 0; q0 < rows; q0 += R)                                                                               \
      {                                                                                                                \
        const int rv = MIN (R, rows - q0);                                                                             \
        __m512 acc[R][NV];                                                                                             \
        _Pragma ("GCC unroll 16") for (int r = 0; r < R; r++) _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++)    \
            acc[r][v] = _mm512_setzero_ps ();                                                                          \
        for (int ki = 0; ki < k; ki++)                                                                                 \
          {                                                                                                            \
            const float *const *pt = ptab + (size_t) q0 * k + ki;                                                      \
            const float *p[R];                                                                                         \
            _Pragma ("GCC unroll 16") for (int r = 0; r < R; r++) p[r] = r < rv ? pt[(size_t) r * k] : zeros;          \
            const float *w = wt + (size_t) ki * run * CL_SIMD_TILE_O;                                                  \
            for (int j = 0; j < run; j++, w += CL_SIMD_TILE_O)                                                         \
              {                                                                                                        \
                __m512 wv[NV];                                                                                         \
                _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) wv[v] =                                          \
                    _mm512_loadu_ps (w + (size_t) v * K * CL_SIMD_TILE_O);                                             \
                _Pragma ("GCC unroll 16") for (int r = 0; r < R; r++)                                                  \
                {                                                                                                      \
                  const __m512 b = _mm512_set1_ps (p[r][j]);                                                           \
                  _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) acc[r][v] =                                    \
                      _mm512_fmadd_ps (b, wv[v], acc[r][v]);                                                           \
                }                                                                                                      \
              }                                                                                                        \
          }                                                                                                            \
        for (int r = 0; r < rv; r++)                                                                                   \
          _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) store_tile (                                           \
              y + (size_t) (q0 + r) * O + o0 + v * CL_SIMD_TILE_O, acc[r][v], ep, o0 + v * CL_SIMD_TILE_O);            \
      }                                                                                                                \
  }

DEFINE_FORWARD_WIDE (forward_4x6, 4, 6)
DEFINE_FORWARD_WIDE (forward_2x12, 2, 12)

/* y [rows][O]: groups of 64 output channels on 4 x 6 tiles, then 32 on 2 x 12, then what is left
 * (a partial 16) on the 1 x 12 tiles. */
CL_AVX512 static void
forward_block (const ClConv2d *conv, const float *packed, const float *const *ptab, int rows, float *y,
               const float *zeros, const ClConvEpilogue *ep)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int O = conv->out_c, K = sh.nseg * sh.seg;
  int o0 = 0;
  for (; o0 + 64 <= O; o0 += 64)
    forward_4x6 (sh, K, O, packed, ptab, rows, y, zeros, ep, o0);
  for (; o0 + 32 <= O; o0 += 32)
    forward_2x12 (sh, K, O, packed, ptab, rows, y, zeros, ep, o0);
  if (o0 < O)
    forward_narrow (conv, packed, ptab, rows, y, zeros, ep, o0);
}

/* dwt [K][O] (+)= x-patches^T dy: tiles of 16 output channels (one load of a dy row) x 12 kernel
 * columns (broadcasts from the patch row), over passes of pixels whose dy stripe stays in L1. */
CL_AVX512 static void
dw_narrow (const ClConv2d *conv, const float *const *ptab, const float *dy, int rows, float *dwt, gboolean first,
           int o_from)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, pass = cl_conv_dw_pass_pixels (conv);
  for (int q0 = 0; q0 < rows; q0 += pass)
    {
      const int qe = MIN (rows, q0 + pass);
      const gboolean from_zero = first && q0 == 0;
      for (int o0 = o_from; o0 < O; o0 += CL_SIMD_TILE_O)
        {
          const int ov = MIN (CL_SIMD_TILE_O, O - o0);
          const __mmask16 m = lanes (ov);
          float stripe[CL_SIMD_DW_PIXELS * CL_SIMD_TILE_O] __attribute__ ((aligned (64)));
          for (int q = q0; q < qe; q++)
            _mm512_store_ps (stripe + (size_t) (q - q0) * CL_SIMD_TILE_O,
                             _mm512_maskz_loadu_ps (m, dy + (size_t) q * O + o0));
          for (int ki = 0; ki < k; ki++)
            for (int j0 = 0; j0 < run; j0 += ROWS)
              {
                const int jv = MIN (ROWS, run - j0);
                /* Columns past the row's end repeat its last column; their sums are dropped. */
                int c[ROWS];
                float *t[ROWS];
                for (int i = 0; i < ROWS; i++)
                  {
                    c[i] = MIN (i, jv - 1);
                    t[i] = dwt + ((size_t) ki * run + j0 + c[i]) * O + o0;
                  }
                ACC_DECL;
                if (!from_zero)
                  {
                    a0 = _mm512_maskz_loadu_ps (m, t[0]), a1 = _mm512_maskz_loadu_ps (m, t[1]);
                    a2 = _mm512_maskz_loadu_ps (m, t[2]), a3 = _mm512_maskz_loadu_ps (m, t[3]);
                    a4 = _mm512_maskz_loadu_ps (m, t[4]), a5 = _mm512_maskz_loadu_ps (m, t[5]);
                    a6 = _mm512_maskz_loadu_ps (m, t[6]), a7 = _mm512_maskz_loadu_ps (m, t[7]);
                    a8 = _mm512_maskz_loadu_ps (m, t[8]), a9 = _mm512_maskz_loadu_ps (m, t[9]);
                    a10 = _mm512_maskz_loadu_ps (m, t[10]), a11 = _mm512_maskz_loadu_ps (m, t[11]);
                  }
                const int c1 = c[1], c2 = c[2], c3 = c[3], c4 = c[4], c5 = c[5], c6 = c[6], c7 = c[7];
                const int c8 = c[8], c9 = c[9], c10 = c[10], c11 = c[11];
                const float *d = stripe;
                for (int q = q0; q < qe; q++, d += CL_SIMD_TILE_O)
                  {
                    const float *p = ptab[(size_t) q * k + ki] + j0;
                    const __m512 d0 = _mm512_load_ps (d);
                    a0 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[0]), a0);
                    a1 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c1]), a1);
                    a2 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c2]), a2);
                    a3 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c3]), a3);
                    a4 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c4]), a4);
                    a5 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c5]), a5);
                    a6 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c6]), a6);
                    a7 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c7]), a7);
                    a8 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c8]), a8);
                    a9 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c9]), a9);
                    a10 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c10]), a10);
                    a11 = _mm512_fmadd_ps (d0, _mm512_set1_ps (p[c11]), a11);
                  }
                const __m512 r[ROWS] = ACC_ARRAY;
                for (int i = 0; i < jv; i++)
                  _mm512_mask_storeu_ps (t[i], m, r[i]);
              }
        }
    }
}

/* dx: tiles of 12 pixels x 16 columns of a patch row, summed over the output channels (broadcasts
 * from dy, one load of a kernel row), added where dtab says. */
CL_AVX512 static void
dx_narrow (const ClConv2d *conv, const float *wp, float *const *dtab, const float *dy, int rows, int ki_from,
           int ki_end, int j_from)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, K = k * run;
  for (int ki = ki_from; ki < ki_end; ki++)
    for (int j0 = j_from; j0 < run; j0 += CL_SIMD_TILE_O)
      {
        const int jv = MIN (CL_SIMD_TILE_O, run - j0);
        const __mmask16 m = lanes (jv);
        const float *wcol = wp + (size_t) ki * run + j0;
        for (int q0 = 0; q0 < rows; q0 += ROWS)
          {
            const int rv = MIN (ROWS, rows - q0);
            ACC_DECL;
            /* Missing pixels of a short tile repeat the last one; their sums are dropped. */
            const float *d[ROWS];
            for (int r = 0; r < ROWS; r++)
              d[r] = dy + (size_t) (q0 + MIN (r, rv - 1)) * O;
            const float *d0 = d[0], *d1 = d[1], *d2 = d[2], *d3 = d[3], *d4 = d[4], *d5 = d[5];
            const float *d6 = d[6], *d7 = d[7], *d8 = d[8], *d9 = d[9], *d10 = d[10], *d11 = d[11];
            const float *w = wcol;
            for (int o = 0; o < O; o++, w += K)
              {
                const __m512 w0 = _mm512_maskz_loadu_ps (m, w);
                a0 = _mm512_fmadd_ps (_mm512_set1_ps (d0[o]), w0, a0);
                a1 = _mm512_fmadd_ps (_mm512_set1_ps (d1[o]), w0, a1);
                a2 = _mm512_fmadd_ps (_mm512_set1_ps (d2[o]), w0, a2);
                a3 = _mm512_fmadd_ps (_mm512_set1_ps (d3[o]), w0, a3);
                a4 = _mm512_fmadd_ps (_mm512_set1_ps (d4[o]), w0, a4);
                a5 = _mm512_fmadd_ps (_mm512_set1_ps (d5[o]), w0, a5);
                a6 = _mm512_fmadd_ps (_mm512_set1_ps (d6[o]), w0, a6);
                a7 = _mm512_fmadd_ps (_mm512_set1_ps (d7[o]), w0, a7);
                a8 = _mm512_fmadd_ps (_mm512_set1_ps (d8[o]), w0, a8);
                a9 = _mm512_fmadd_ps (_mm512_set1_ps (d9[o]), w0, a9);
                a10 = _mm512_fmadd_ps (_mm512_set1_ps (d10[o]), w0, a10);
                a11 = _mm512_fmadd_ps (_mm512_set1_ps (d11[o]), w0, a11);
              }
            const __m512 acc[ROWS] = ACC_ARRAY;
            for (int r = 0; r < rv; r++)
              {
                float *dst = dtab[(size_t) (q0 + r) * k + ki];
                if (!dst)
                  continue;
                dst += j0;
                _mm512_mask_storeu_ps (dst, m, _mm512_add_ps (_mm512_maskz_loadu_ps (m, dst), acc[r]));
              }
          }
      }
}

/* dw wide: NV full vectors of output channels (read from dy in place) x R kernel columns, over the
 * same passes of pixels as the narrow kernel; per pixel NV loads and R broadcasts feed NV * R fused
 * multiply-adds. Same order per element (the pixels q in order): the same bits. */
#define DEFINE_DW_WIDE(NAME, NV, R)                                                                                    \
  CL_AVX512 static void NAME (const ClRowShape sh, int O, int pass, const float *const *ptab, const float *dy,         \
                              int rows, float *dwt, gboolean first, int o0)                                            \
  {                                                                                                                    \
    const int k = sh.nseg, run = sh.seg;                                                                               \
    for (int q0 = 0; q0 < rows; q0 += pass)                                                                            \
      {                                                                                                                \
        const int qe = MIN (rows, q0 + pass);                                                                          \
        const gboolean from_zero = first && q0 == 0;                                                                   \
        for (int ki = 0; ki < k; ki++)                                                                                 \
          for (int j0 = 0; j0 < run; j0 += R)                                                                          \
            {                                                                                                          \
              const int jv = MIN (R, run - j0);                                                                        \
              /* Columns past the row's end repeat its last column; their sums are dropped. */                         \
              int c[R];                                                                                                \
              _Pragma ("GCC unroll 16") for (int i = 0; i < R; i++) c[i] = MIN (i, jv - 1);                            \
              __m512 acc[R][NV];                                                                                       \
              _Pragma ("GCC unroll 16") for (int i = 0; i < R; i++)                                                    \
                  _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] =                                    \
                      from_zero                                                                                        \
                          ? _mm512_setzero_ps ()                                                                       \
                          : _mm512_loadu_ps (dwt + ((size_t) ki * run + j0 + c[i]) * O + o0 + v * CL_SIMD_TILE_O);     \
              for (int q = q0; q < qe; q++)                                                                            \
                {                                                                                                      \
                  const float *p = ptab[(size_t) q * k + ki] + j0;                                                     \
                  const float *d = dy + (size_t) q * O + o0;                                                           \
                  __m512 dv[NV];                                                                                       \
                  _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) dv[v] =                                        \
                      _mm512_loadu_ps (d + v * CL_SIMD_TILE_O);                                                        \
                  _Pragma ("GCC unroll 16") for (int i = 0; i < R; i++)                                                \
                  {                                                                                                    \
                    const __m512 b = _mm512_set1_ps (p[c[i]]);                                                         \
                    _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] =                                  \
                        _mm512_fmadd_ps (dv[v], b, acc[i][v]);                                                         \
                  }                                                                                                    \
                }                                                                                                      \
              for (int i = 0; i < jv; i++)                                                                             \
                _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++)                                                  \
                    _mm512_storeu_ps (dwt + ((size_t) ki * run + j0 + i) * O + o0 + v * CL_SIMD_TILE_O, acc[i][v]);    \
            }                                                                                                          \
      }                                                                                                                \
  }

DEFINE_DW_WIDE (dw_4x6, 4, 6)
DEFINE_DW_WIDE (dw_2x12, 2, 12)

CL_AVX512 static void
dw_block (const ClConv2d *conv, const float *const *ptab, const float *dy, int rows, float *dwt, gboolean first)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int O = conv->out_c, pass = cl_conv_dw_pass_pixels (conv);
  int o0 = 0;
  for (; o0 + 64 <= O; o0 += 64)
    dw_4x6 (sh, O, pass, ptab, dy, rows, dwt, first, o0);
  for (; o0 + 32 <= O; o0 += 32)
    dw_2x12 (sh, O, pass, ptab, dy, rows, dwt, first, o0);
  if (o0 < O)
    dw_narrow (conv, ptab, dy, rows, dwt, first, o0);
}

/* dx wide: NV full vectors of patch-row columns x R pixels, summed over the output channels (R
 * broadcasts from dy, NV loads of a kernel row per channel), added where dtab says. Same order per
 * element (o in order, then one rounding for the add): the same bits. */
#define DEFINE_DX_WIDE(NAME, NV, R)                                                                                    \
  CL_AVX512 static void NAME (const ClRowShape sh, int O, int K, const float *wp, float *const *dtab, const float *dy, \
                              int rows, int ki, int j0)                                                                \
  {                                                                                                                    \
    const int k = sh.nseg, run = sh.seg;                                                                               \
    const float *wcol = wp + (size_t) ki * run + j0;                                                                   \
    for (int q0 = 0; q0 < rows; q0 += R)                                                                               \
      {                                                                                                                \
        const int rv = MIN (R, rows - q0);                                                                             \
        /* Missing pixels of a short tile repeat the last one; their sums are dropped. */                              \
        const float *d[R];                                                                                             \
        _Pragma ("GCC unroll 16") for (int r = 0; r < R; r++) d[r] = dy + (size_t) (q0 + MIN (r, rv - 1)) * O;         \
        __m512 acc[R][NV];                                                                                             \
        _Pragma ("GCC unroll 16") for (int r = 0; r < R; r++) _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++)    \
            acc[r][v] = _mm512_setzero_ps ();                                                                          \
        const float *w = wcol;                                                                                         \
        for (int o = 0; o < O; o++, w += K)                                                                            \
          {                                                                                                            \
            __m512 wv[NV];                                                                                             \
            _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) wv[v] = _mm512_loadu_ps (w + v * CL_SIMD_TILE_O);    \
            _Pragma ("GCC unroll 16") for (int r = 0; r < R; r++)                                                      \
            {                                                                                                          \
              const __m512 b = _mm512_set1_ps (d[r][o]);                                                               \
              _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps (b, wv[v], acc[r][v]); \
            }                                                                                                          \
          }                                                                                                            \
        for (int r = 0; r < rv; r++)                                                                                   \
          {                                                                                                            \
            float *dst = dtab[(size_t) (q0 + r) * k + ki];                                                             \
            if (!dst)                                                                                                  \
              continue;                                                                                                \
            dst += j0;                                                                                                 \
            _Pragma ("GCC unroll 4") for (int v = 0; v < NV; v++)                                                      \
            {                                                                                                          \
              float *t = dst + v * CL_SIMD_TILE_O;                                                                     \
              _mm512_storeu_ps (t, _mm512_add_ps (_mm512_loadu_ps (t), acc[r][v]));                                    \
            }                                                                                                          \
          }                                                                                                            \
      }                                                                                                                \
  }

DEFINE_DX_WIDE (dx_4x6, 4, 6)
DEFINE_DX_WIDE (dx_2x12, 2, 12)

/* Wide tiles change the order in which one dx element receives its terms unless the pixels whose
 * patch rows overlap are at least a tile's width apart: neighbouring pixels' runs start stride * C
 * floats apart (after im2col every pixel has its own run). Per ki, columns in ascending tiles, pixels
 * in order, as the narrow kernel does. */
CL_AVX512 static void
dx_block (const ClConv2d *conv, const float *wp, float *const *dtab, const float *dy, int rows)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int O = conv->out_c, K = sh.nseg * sh.seg, run = sh.seg;
  const int apart = sh.nseg == 1 ? G_MAXINT : conv->stride * conv->in_c;
  if (apart < 32)
    {
      dx_narrow (conv, wp, dtab, dy, rows, 0, sh.nseg, 0);
      return;
    }
  for (int ki = 0; ki < sh.nseg; ki++)
    {
      int j0 = 0;
      if (apart >= 64)
        for (; j0 + 64 <= run; j0 += 64)
          dx_4x6 (sh, O, K, wp, dtab, dy, rows, ki, j0);
      for (; j0 + 32 <= run; j0 += 32)
        dx_2x12 (sh, O, K, wp, dtab, dy, rows, ki, j0);
      if (j0 < run)
        dx_narrow (conv, wp, dtab, dy, rows, ki, ki + 1, j0);
    }
}

const ClConvKernels cl_conv_kernels_avx512 = { "avx512", forward_block, dw_block, dx_block };
#endif
