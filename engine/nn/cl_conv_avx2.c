/* The conv microkernels for x86-64 with AVX2 and FMA (cl_conv_kernels.h): implicit GEMM, reading
 * patch rows straight from the NHWC input through a pointer table instead of building columns. */
#include "engine/nn/cl_conv_kernels.h"

#if CL_HAVE_X86_KERNELS
#include <immintrin.h>
#include <string.h>

#define CL_SIMD __attribute__ ((target ("avx2,fma")))

/* y rows [rows][O] of one block: tiles of 6 output pixels x 16 output channels held in 12
 * registers, each fed by broadcasts from the 6 pixels' runs and two loads of the packed kernel. */
CL_SIMD static void
forward_block (const ClConv2d *conv, const float *packed, const float *const *ptab, int rows, float *y,
               const float *zeros, const ClConvEpilogue *ep)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, K = k * run;
  for (int o0 = 0; o0 < O; o0 += CL_SIMD_TILE_O)
    {
      const float *wt = packed + (size_t) o0 * K;
      const int ov = MIN (CL_SIMD_TILE_O, O - o0);
      for (int q0 = 0; q0 < rows; q0 += 6)
        {
          const int rv = MIN (6, rows - q0);
          __m256 a00 = _mm256_setzero_ps (), a01 = _mm256_setzero_ps (), a10 = _mm256_setzero_ps ();
          __m256 a11 = _mm256_setzero_ps (), a20 = _mm256_setzero_ps (), a21 = _mm256_setzero_ps ();
          __m256 a30 = _mm256_setzero_ps (), a31 = _mm256_setzero_ps (), a40 = _mm256_setzero_ps ();
          __m256 a41 = _mm256_setzero_ps (), a50 = _mm256_setzero_ps (), a51 = _mm256_setzero_ps ();
          for (int ki = 0; ki < k; ki++)
            {
              const float *const *pt = ptab + (size_t) q0 * k + ki;
              const float *p0 = pt[0];
              const float *p1 = rv > 1 ? pt[k] : zeros, *p2 = rv > 2 ? pt[2 * k] : zeros;
              const float *p3 = rv > 3 ? pt[3 * k] : zeros, *p4 = rv > 4 ? pt[4 * k] : zeros;
              const float *p5 = rv > 5 ? pt[5 * k] : zeros;
              const float *w = wt + (size_t) ki * run * CL_SIMD_TILE_O;
              for (int j = 0; j < run; j++, w += CL_SIMD_TILE_O)
                {
                  const __m256 w0 = _mm256_loadu_ps (w), w1 = _mm256_loadu_ps (w + 8);
                  __m256 b = _mm256_broadcast_ss (p0 + j);
                  a00 = _mm256_fmadd_ps (b, w0, a00);
                  a01 = _mm256_fmadd_ps (b, w1, a01);
                  b = _mm256_broadcast_ss (p1 + j);
                  a10 = _mm256_fmadd_ps (b, w0, a10);
                  a11 = _mm256_fmadd_ps (b, w1, a11);
                  b = _mm256_broadcast_ss (p2 + j);
                  a20 = _mm256_fmadd_ps (b, w0, a20);
                  a21 = _mm256_fmadd_ps (b, w1, a21);
                  b = _mm256_broadcast_ss (p3 + j);
                  a30 = _mm256_fmadd_ps (b, w0, a30);
                  a31 = _mm256_fmadd_ps (b, w1, a31);
                  b = _mm256_broadcast_ss (p4 + j);
                  a40 = _mm256_fmadd_ps (b, w0, a40);
                  a41 = _mm256_fmadd_ps (b, w1, a41);
                  b = _mm256_broadcast_ss (p5 + j);
                  a50 = _mm256_fmadd_ps (b, w0, a50);
                  a51 = _mm256_fmadd_ps (b, w1, a51);
                }
            }
          __m256 acc[12] = { a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51 };
          if (ep)
            {
              float sc[CL_SIMD_TILE_O] = { 0 }, mu[CL_SIMD_TILE_O] = { 0 }, sh_[CL_SIMD_TILE_O] = { 0 };
              memcpy (sc, ep->scale + o0, sizeof (float) * ov);
              memcpy (mu, ep->mean + o0, sizeof (float) * ov);
              memcpy (sh_, ep->shift + o0, sizeof (float) * ov);
              for (int h = 0; h < 2; h++)
                {
                  const __m256 vs = _mm256_loadu_ps (sc + 8 * h), vm = _mm256_loadu_ps (mu + 8 * h);
                  const __m256 vb = _mm256_loadu_ps (sh_ + 8 * h);
                  for (int r = 0; r < rv; r++)
                    {
                      /* relu_f on the bits: clear every lane whose sign bit is set. */
                      const __m256i v = _mm256_castps_si256 (
                          _mm256_add_ps (_mm256_mul_ps (vs, _mm256_sub_ps (acc[2 * r + h], vm)), vb));
                      acc[2 * r + h] = _mm256_castsi256_ps (_mm256_andnot_si256 (_mm256_srai_epi32 (v, 31), v));
                    }
                }
            }
          for (int r = 0; r < rv; r++)
            {
              float *dst = y + (size_t) (q0 + r) * O + o0;
              if (ov == CL_SIMD_TILE_O)
                {
                  _mm256_storeu_ps (dst, acc[2 * r]);
                  _mm256_storeu_ps (dst + 8, acc[2 * r + 1]);
                }
              else
                {
                  float tmp[CL_SIMD_TILE_O];
                  _mm256_storeu_ps (tmp, acc[2 * r]);
                  _mm256_storeu_ps (tmp + 8, acc[2 * r + 1]);
                  memcpy (dst, tmp, sizeof (float) * ov);
                }
            }
        }
    }
}

/* Lanes [0, n) of a 16-float tile. */
CL_SIMD static inline void
tile_masks (int n, __m256i *m0, __m256i *m1)
{
  const __m256i idx = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  *m0 = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (n), idx);
  *m1 = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (n - 8), idx);
}

/* dwt [K][O] (+)= x-patches^T dy of one block, kernel-column-major so that a tile of 16 output
 * channels (two loads of a dy row) x 6 kernel columns (broadcasts from the patch row) loads and
 * stores whole vectors. Each element's sum runs over the block's pixels in order, continuing from
 * the stored partial (from zero when `first`). */
CL_SIMD static void
dw_block (const ClConv2d *conv, const float *const *ptab, const float *dy, int rows, float *dwt, gboolean first)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, pass = cl_conv_dw_pass_pixels (conv);
  for (int q0 = 0; q0 < rows; q0 += pass)
    {
      const int qe = MIN (rows, q0 + pass);
      const gboolean from_zero = first && q0 == 0;
      for (int o0 = 0; o0 < O; o0 += CL_SIMD_TILE_O)
        {
          const int ov = MIN (CL_SIMD_TILE_O, O - o0);
          __m256i m0, m1;
          tile_masks (ov, &m0, &m1);
          /* The pass's dy stripe, contiguous and zero beyond ov. */
          float stripe[CL_SIMD_DW_PIXELS * CL_SIMD_TILE_O] __attribute__ ((aligned (32)));
          for (int q = q0; q < qe; q++)
            {
              const float *d = dy + (size_t) q * O + o0;
              float *t = stripe + (size_t) (q - q0) * CL_SIMD_TILE_O;
              if (ov == CL_SIMD_TILE_O)
                {
                  _mm256_store_ps (t, _mm256_loadu_ps (d));
                  _mm256_store_ps (t + 8, _mm256_loadu_ps (d + 8));
                }
              else
                {
                  _mm256_store_ps (t, _mm256_maskload_ps (d, m0));
                  _mm256_store_ps (t + 8, _mm256_maskload_ps (d + 8, m1));
                }
            }
          for (int ki = 0; ki < k; ki++)
            for (int j0 = 0; j0 < run; j0 += 6)
              {
                const int jv = MIN (6, run - j0);
                /* Columns past the row's end repeat its last column; their sums are dropped. */
                const int c1 = MIN (1, jv - 1), c2 = MIN (2, jv - 1), c3 = MIN (3, jv - 1);
                const int c4 = MIN (4, jv - 1), c5 = MIN (5, jv - 1);
                float *t0 = dwt + ((size_t) ki * run + j0) * O + o0;
                float *t[6] = { t0,
                                t0 + (size_t) c1 * O,
                                t0 + (size_t) c2 * O,
                                t0 + (size_t) c3 * O,
                                t0 + (size_t) c4 * O,
                                t0 + (size_t) c5 * O };
                __m256 a[12];
                for (int c = 0; c < 6; c++)
                  if (from_zero)
                    a[2 * c] = a[2 * c + 1] = _mm256_setzero_ps ();
                  else if (ov == CL_SIMD_TILE_O)
                    {
                      a[2 * c] = _mm256_loadu_ps (t[c]);
                      a[2 * c + 1] = _mm256_loadu_ps (t[c] + 8);
                    }
                  else
                    {
                      a[2 * c] = _mm256_maskload_ps (t[c], m0);
                      a[2 * c + 1] = _mm256_maskload_ps (t[c] + 8, m1);
                    }
                __m256 a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3], a20 = a[4], a21 = a[5];
                __m256 a30 = a[6], a31 = a[7], a40 = a[8], a41 = a[9], a50 = a[10], a51 = a[11];
                const float *d = stripe;
                for (int q = q0; q < qe; q++, d += CL_SIMD_TILE_O)
                  {
                    const float *p = ptab[(size_t) q * k + ki] + j0;
                    const __m256 d0 = _mm256_load_ps (d), d1 = _mm256_load_ps (d + 8);
                    __m256 b = _mm256_broadcast_ss (p);
                    a00 = _mm256_fmadd_ps (d0, b, a00);
                    a01 = _mm256_fmadd_ps (d1, b, a01);
                    b = _mm256_broadcast_ss (p + c1);
                    a10 = _mm256_fmadd_ps (d0, b, a10);
                    a11 = _mm256_fmadd_ps (d1, b, a11);
                    b = _mm256_broadcast_ss (p + c2);
                    a20 = _mm256_fmadd_ps (d0, b, a20);
                    a21 = _mm256_fmadd_ps (d1, b, a21);
                    b = _mm256_broadcast_ss (p + c3);
                    a30 = _mm256_fmadd_ps (d0, b, a30);
                    a31 = _mm256_fmadd_ps (d1, b, a31);
                    b = _mm256_broadcast_ss (p + c4);
                    a40 = _mm256_fmadd_ps (d0, b, a40);
                    a41 = _mm256_fmadd_ps (d1, b, a41);
                    b = _mm256_broadcast_ss (p + c5);
                    a50 = _mm256_fmadd_ps (d0, b, a50);
                    a51 = _mm256_fmadd_ps (d1, b, a51);
                  }
                const __m256 r[12] = { a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51 };
                for (int c = 0; c < jv; c++)
                  if (ov == CL_SIMD_TILE_O)
                    {
                      _mm256_storeu_ps (t[c], r[2 * c]);
                      _mm256_storeu_ps (t[c] + 8, r[2 * c + 1]);
                    }
                  else
                    {
                      _mm256_maskstore_ps (t[c], m0, r[2 * c]);
                      _mm256_maskstore_ps (t[c] + 8, m1, r[2 * c + 1]);
                    }
              }
        }
    }
}

/* dx of one block: tiles of 6 pixels x 16 columns of a patch row, summed over the output channels
 * (broadcasts from dy, two loads of a kernel row), added where dtab says. */
CL_SIMD static void
dx_block (const ClConv2d *conv, const float *wp, float *const *dtab, const float *dy, int rows)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, K = k * run;
  for (int ki = 0; ki < k; ki++)
    for (int j0 = 0; j0 < run; j0 += CL_SIMD_TILE_O)
      {
        const int jv = MIN (CL_SIMD_TILE_O, run - j0);
        __m256i m0, m1;
        tile_masks (jv, &m0, &m1);
        const float *wcol = wp + (size_t) ki * run + j0;
        for (int q0 = 0; q0 < rows; q0 += 6)
          {
            const int rv = MIN (6, rows - q0);
            __m256 a00 = _mm256_setzero_ps (), a01 = _mm256_setzero_ps (), a10 = _mm256_setzero_ps ();
            __m256 a11 = _mm256_setzero_ps (), a20 = _mm256_setzero_ps (), a21 = _mm256_setzero_ps ();
            __m256 a30 = _mm256_setzero_ps (), a31 = _mm256_setzero_ps (), a40 = _mm256_setzero_ps ();
            __m256 a41 = _mm256_setzero_ps (), a50 = _mm256_setzero_ps (), a51 = _mm256_setzero_ps ();
            /* Missing pixels of a short tile repeat the last one; their sums are dropped. */
            const float *d0 = dy + (size_t) q0 * O;
            const float *d1 = dy + (size_t) (q0 + MIN (1, rv - 1)) * O, *d2 = dy + (size_t) (q0 + MIN (2, rv - 1)) * O;
            const float *d3 = dy + (size_t) (q0 + MIN (3, rv - 1)) * O, *d4 = dy + (size_t) (q0 + MIN (4, rv - 1)) * O;
            const float *d5 = dy + (size_t) (q0 + MIN (5, rv - 1)) * O;
            const float *w = wcol;
            for (int o = 0; o < O; o++, w += K)
              {
                __m256 w0, w1;
                if (jv == CL_SIMD_TILE_O)
                  {
                    w0 = _mm256_loadu_ps (w);
                    w1 = _mm256_loadu_ps (w + 8);
                  }
                else
                  {
                    w0 = _mm256_maskload_ps (w, m0);
                    w1 = _mm256_maskload_ps (w + 8, m1);
                  }
                __m256 b = _mm256_broadcast_ss (d0 + o);
                a00 = _mm256_fmadd_ps (b, w0, a00);
                a01 = _mm256_fmadd_ps (b, w1, a01);
                b = _mm256_broadcast_ss (d1 + o);
                a10 = _mm256_fmadd_ps (b, w0, a10);
                a11 = _mm256_fmadd_ps (b, w1, a11);
                b = _mm256_broadcast_ss (d2 + o);
                a20 = _mm256_fmadd_ps (b, w0, a20);
                a21 = _mm256_fmadd_ps (b, w1, a21);
                b = _mm256_broadcast_ss (d3 + o);
                a30 = _mm256_fmadd_ps (b, w0, a30);
                a31 = _mm256_fmadd_ps (b, w1, a31);
                b = _mm256_broadcast_ss (d4 + o);
                a40 = _mm256_fmadd_ps (b, w0, a40);
                a41 = _mm256_fmadd_ps (b, w1, a41);
                b = _mm256_broadcast_ss (d5 + o);
                a50 = _mm256_fmadd_ps (b, w0, a50);
                a51 = _mm256_fmadd_ps (b, w1, a51);
              }
            const __m256 acc[12] = { a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51 };
            for (int r = 0; r < rv; r++)
              {
                float *dst = dtab[(size_t) (q0 + r) * k + ki];
                if (!dst)
                  continue;
                dst += j0;
                if (jv == CL_SIMD_TILE_O)
                  {
                    _mm256_storeu_ps (dst, _mm256_add_ps (_mm256_loadu_ps (dst), acc[2 * r]));
                    _mm256_storeu_ps (dst + 8, _mm256_add_ps (_mm256_loadu_ps (dst + 8), acc[2 * r + 1]));
                  }
                else
                  {
                    _mm256_maskstore_ps (dst, m0, _mm256_add_ps (_mm256_maskload_ps (dst, m0), acc[2 * r]));
                    _mm256_maskstore_ps (dst + 8, m1, _mm256_add_ps (_mm256_maskload_ps (dst + 8, m1), acc[2 * r + 1]));
                  }
              }
          }
      }
}

const ClConvKernels cl_conv_kernels_avx2 = { "avx2", forward_block, dw_block, dx_block };
#endif
