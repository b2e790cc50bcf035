/* The channels-last (NHWC) conv the model trains with: blocks of samples over the thread team, the
 * patch-row tables the microkernels read, and the portable im2col + sgemm path. The microkernels
 * themselves are in cl_conv_avx2.c (and siblings), chosen at run time (cl_conv_kernels.h).
 *
 * forward:  y [n][out_h][out_w][out_c] = x [n][in_h][in_w][in_c] (*) wp [out_c][k][k][in_c]
 * backward: dwp [out_c][k][k][in_c] = sum over pixels of dy x-patch; dx [n][in_h][in_w][in_c]. */
#include "engine/nn/cl_conv.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "engine/nn/cl_batchnorm.h"
#include "engine/nn/cl_conv_kernels.h"
#include "engine/nn/cl_layers_private.h"

/* The NHWC scratch, in floats from its start. Per thread: a column block (im2col, or the SIMD
 * kernels' zero-filled copies of patch rows that cross the padding), a second one for dcol, and a
 * table of patch-row pointers. Shared: the lanes' kernel-gradient partials, the kernel packed in
 * tiles of 16 output channels, and a run of zeros. Regions start on 64-byte boundaries. */
typedef struct
{
  size_t col, dcol, ptab, dyb, xin; /* first thread's; the next thread's follows after `per_thread` */
  size_t per_thread;
  size_t lanes, packed, zeros, total;
} NhwcScratch;

static size_t
round16 (size_t v)
{
  return (v + 15) & ~(size_t) 15;
}

static void
nhwc_scratch_layout (const ClConv2d *conv, NhwcScratch *l)
{
  const size_t P = (size_t) conv->out_h * conv->out_w, run = (size_t) conv->k * conv->in_c;
  const size_t K = (size_t) conv->k * run;
  const size_t col = round16 ((size_t) conv->chunk * P * K);
  const size_t floats_per_pointer = (sizeof (const float *) + sizeof (float) - 1) / sizeof (float);
  const size_t ptab = round16 ((size_t) conv->chunk * P * conv->k * floats_per_pointer);
  const size_t dyb = round16 ((size_t) conv->chunk * P * conv->out_c);
  l->col = 0;
  l->dcol = col;
  l->ptab = 2 * col;
  l->dyb = 2 * col + ptab;
  l->xin = l->dyb + dyb; /* a block of input views, normalised (ClConvInputBn) */
  l->per_thread = l->xin + round16 ((size_t) conv->chunk * conv->in_h * conv->in_w * conv->in_c);
  l->lanes = CL_LAYERS_MAX_THREADS * l->per_thread;
  l->packed = l->lanes + round16 ((size_t) CL_LAYERS_LANES * cl_conv2d_num_weights (conv));
  l->zeros = l->packed + round16 ((size_t) (conv->out_c + CL_SIMD_TILE_O - 1) / CL_SIMD_TILE_O * CL_SIMD_TILE_O * K);
  /* Zeros stand in for missing pixels' runs: a patch row, or a whole pixel in the one-run shape. */
  l->total = l->zeros + round16 (MAX (run, (size_t) cl_conv_row_shape (conv).seg));
}

size_t
cl_conv2d_nhwc_scratch_floats (const ClConv2d *conv)
{
  NhwcScratch l;
  nhwc_scratch_layout (conv, &l);
  return l.total;
}

/* Runs are short (k*C floats: 3 to a few hundred), and GCC turns a copy loop into a call to
 * memmove, whose per-call overhead then dominated im2col (10% of a step): the column builders are
 * compiled without that pattern replacement. */
#if defined(__GNUC__) && !defined(__clang__)
#define CL_INLINE_COPIES __attribute__ ((optimize ("no-tree-loop-distribute-patterns")))
#else
#define CL_INLINE_COPIES
#endif

static inline void
copy_run (float *restrict dst, const float *restrict src, int count)
{
  for (int j = 0; j < count; j++)
    dst[j] = src[j];
}

static inline void
add_run (float *restrict dst, const float *restrict src, int count)
{
  for (int j = 0; j < count; j++)
    dst[j] += src[j];
}

/* Patch-major columns of g NHWC samples: col[s*P + oh*out_w + ow][(ki*k + kj)*C + c]. A patch row
 * (fixed ki) is x[ih][iw0..iw0+k)[0..C), contiguous in NHWC, so each row is one run of k*C floats
 * unless it crosses the padding. */
CL_INLINE_COPIES static void
im2col_nhwc (const ClConv2d *conv, const float *x, int g, float *col)
{
  const int k = conv->k, stride = conv->stride, pad = conv->pad, C = conv->in_c;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const int run = k * C;
  const size_t K = (size_t) k * run, in_sample = (size_t) in_h * in_w * C;
  float *dst = col;
  for (int s = 0; s < g; s++)
    {
      const float *xs = x + s * in_sample;
      for (int oh = 0; oh < out_h; oh++)
        {
          const int ih0 = oh * stride - pad;
          for (int ow = 0; ow < out_w; ow++, dst += K)
            {
              const int iw0 = ow * stride - pad;
              const gboolean full_w = iw0 >= 0 && iw0 + k <= in_w;
              for (int ki = 0; ki < k; ki++)
                {
                  const int ih = ih0 + ki;
                  float *d = dst + (size_t) ki * run;
                  if (ih < 0 || ih >= in_h)
                    memset (d, 0, sizeof (float) * run);
                  else if (full_w)
                    copy_run (d, xs + ((size_t) ih * in_w + iw0) * C, run);
                  else
                    for (int kj = 0; kj < k; kj++, d += C)
                      {
                        const int iw = iw0 + kj;
                        if (iw < 0 || iw >= in_w)
                          memset (d, 0, sizeof (float) * C);
                        else
                          copy_run (d, xs + ((size_t) ih * in_w + iw) * C, C);
                      }
                }
            }
        }
    }
}

/* dx (g NHWC samples, overwritten) = col2im (dcol), dcol in the layout of im2col_nhwc. */
CL_INLINE_COPIES static void
col2im_nhwc (const ClConv2d *conv, const float *dcol, int g, float *dx)
{
  const int k = conv->k, stride = conv->stride, pad = conv->pad, C = conv->in_c;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const int run = k * C;
  const size_t K = (size_t) k * run, in_sample = (size_t) in_h * in_w * C;
  memset (dx, 0, sizeof (float) * g * in_sample);
  const float *src = dcol;
  for (int s = 0; s < g; s++)
    {
      float *xs = dx + s * in_sample;
      for (int oh = 0; oh < out_h; oh++)
        {
          const int ih0 = oh * stride - pad;
          for (int ow = 0; ow < out_w; ow++, src += K)
            {
              const int iw0 = ow * stride - pad;
              const gboolean full_w = iw0 >= 0 && iw0 + k <= in_w;
              for (int ki = 0; ki < k; ki++)
                {
                  const int ih = ih0 + ki;
                  const float *d = src + (size_t) ki * run;
                  if (ih < 0 || ih >= in_h)
                    continue;
                  if (full_w)
                    add_run (xs + ((size_t) ih * in_w + iw0) * C, d, run);
                  else
                    for (int kj = 0; kj < k; kj++, d += C)
                      {
                        const int iw = iw0 + kj;
                        if (iw >= 0 && iw < in_w)
                          add_run (xs + ((size_t) ih * in_w + iw) * C, d, C);
                      }
                }
            }
        }
    }
}

/* Where each run of the g samples at x starts: ptab[q * nseg + i] for output pixel q of the block.
 * Patch rows in the padding point to zeros; rows that cross the left or right padding are copied,
 * zero-filled, into stage (at most the size of an im2col block, which the one-run shape uses). */
/* A 1x1 kernel without padding (the GEMMs of cl_gemm.c): each pixel's one run is its place in x. */
static gboolean
direct_rows (const ClConv2d *conv)
{
  return conv->k == 1 && conv->pad == 0;
}

static size_t
direct_offset (const ClConv2d *conv, int s, size_t q)
{
  const int oh = (int) (q / (size_t) conv->out_w), ow = (int) (q % (size_t) conv->out_w);
  return ((size_t) s * conv->in_h * conv->in_w + (size_t) oh * conv->stride * conv->in_w + (size_t) ow * conv->stride) *
         conv->in_c;
}

CL_INLINE_COPIES static void
build_row_table (const ClConv2d *conv, const float *x, int g, const float **ptab, float *stage, const float *zeros)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  if (direct_rows (conv))
    {
      const size_t P = (size_t) conv->out_h * conv->out_w;
      for (int s = 0; s < g; s++)
        for (size_t q = 0; q < P; q++)
          ptab[s * P + q] = x + direct_offset (conv, s, q);
      return;
    }
  if (sh.nseg == 1)
    {
      im2col_nhwc (conv, x, g, stage);
      const size_t rows = (size_t) g * conv->out_h * conv->out_w;
      for (size_t q = 0; q < rows; q++)
        ptab[q] = stage + q * sh.seg;
      return;
    }
  const int k = conv->k, stride = conv->stride, pad = conv->pad, C = conv->in_c;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const int run = k * C;
  const size_t in_sample = (size_t) in_h * in_w * C;
  size_t q = 0;
  for (int s = 0; s < g; s++)
    {
      const float *xs = x + s * in_sample;
      for (int oh = 0; oh < out_h; oh++)
        {
          const int ih0 = oh * stride - pad;
          for (int ow = 0; ow < out_w; ow++, q++)
            {
              const int iw0 = ow * stride - pad;
              const gboolean full_w = iw0 >= 0 && iw0 + k <= in_w;
              for (int ki = 0; ki < k; ki++)
                {
                  const int ih = ih0 + ki;
                  if (ih < 0 || ih >= in_h)
                    ptab[q * k + ki] = zeros;
                  else if (full_w)
                    ptab[q * k + ki] = xs + ((size_t) ih * in_w + iw0) * C;
                  else
                    {
                      for (int kj = 0; kj < k; kj++)
                        {
                          const int iw = iw0 + kj;
                          if (iw < 0 || iw >= in_w)
                            memset (stage + kj * C, 0, sizeof (float) * C);
                          else
                            copy_run (stage + kj * C, xs + ((size_t) ih * in_w + iw) * C, C);
                        }
                      ptab[q * k + ki] = stage;
                      stage += run;
                    }
                }
            }
        }
    }
}

/* For the input gradient: where each run's gradient goes. dtab[q * nseg + i] is NULL for patch
 * rows in the padding, the place in dx for rows inside it, or a zeroed run of stage for rows
 * crossing the left or right padding (every pixel's one run, in the one-run shape);
 * flush_staged_rows adds those into dx afterwards. */
static void
build_grad_row_table (const ClConv2d *conv, float *dx, int g, float **dtab, float *stage)
{
  const ClRowShape sh = cl_conv_row_shape (conv);
  if (direct_rows (conv))
    {
      const size_t P = (size_t) conv->out_h * conv->out_w;
      for (int s = 0; s < g; s++)
        for (size_t q = 0; q < P; q++)
          dtab[s * P + q] = dx + direct_offset (conv, s, q);
      return;
    }
  if (sh.nseg == 1)
    {
      const size_t rows = (size_t) g * conv->out_h * conv->out_w;
      memset (stage, 0, sizeof (float) * rows * sh.seg);
      for (size_t q = 0; q < rows; q++)
        dtab[q] = stage + q * sh.seg;
      return;
    }
  const int k = conv->k, stride = conv->stride, pad = conv->pad, C = conv->in_c;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const int run = k * C;
  const size_t in_sample = (size_t) in_h * in_w * C;
  size_t q = 0;
  for (int s = 0; s < g; s++)
    for (int oh = 0; oh < out_h; oh++)
      {
        const int ih0 = oh * stride - pad;
        for (int ow = 0; ow < out_w; ow++, q++)
          {
            const int iw0 = ow * stride - pad;
            const gboolean full_w = iw0 >= 0 && iw0 + k <= in_w;
            for (int ki = 0; ki < k; ki++)
              {
                const int ih = ih0 + ki;
                if (ih < 0 || ih >= in_h)
                  dtab[q * k + ki] = NULL;
                else if (full_w)
                  dtab[q * k + ki] = dx + s * in_sample + ((size_t) ih * in_w + iw0) * C;
                else
                  {
                    memset (stage, 0, sizeof (float) * run);
                    dtab[q * k + ki] = stage;
                    stage += run;
                  }
              }
          }
      }
}

/* Adds the staged rows of build_grad_row_table into dx, in the table's order. */
static void
flush_staged_rows (const ClConv2d *conv, float *dx, int g, const float *stage)
{
  if (direct_rows (conv))
    return;
  if (cl_conv_row_shape (conv).nseg == 1)
    {
      col2im_nhwc (conv, stage, g, dx);
      return;
    }
  const int k = conv->k, stride = conv->stride, pad = conv->pad, C = conv->in_c;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const size_t in_sample = (size_t) in_h * in_w * C;
  for (int s = 0; s < g; s++)
    for (int oh = 0; oh < out_h; oh++)
      {
        const int ih0 = oh * stride - pad;
        for (int ow = 0; ow < out_w; ow++)
          {
            const int iw0 = ow * stride - pad;
            if (iw0 >= 0 && iw0 + k <= in_w)
              continue;
            for (int ki = 0; ki < k; ki++)
              {
                const int ih = ih0 + ki;
                if (ih < 0 || ih >= in_h)
                  continue;
                for (int kj = 0; kj < k; kj++, stage += C)
                  {
                    const int iw = iw0 + kj;
                    if (iw >= 0 && iw < in_w)
                      add_run (dx + s * in_sample + ((size_t) ih * in_w + iw) * C, stage, C);
                  }
              }
          }
      }
}

/* wp [O][K] -> tiles of CL_SIMD_TILE_O output channels, [O/16][K][16], zero beyond O. */
static void
pack_kernel_tiles (const ClConv2d *conv, const float *wp, float *packed)
{
  const int O = conv->out_c, K = conv->k * conv->k * conv->in_c;
  for (int o0 = 0; o0 < O; o0 += CL_SIMD_TILE_O)
    {
      float *t = packed + (size_t) o0 * K;
      for (int kk = 0; kk < K; kk++)
        for (int l = 0; l < CL_SIMD_TILE_O; l++)
          t[(size_t) kk * CL_SIMD_TILE_O + l] = o0 + l < O ? wp[(size_t) (o0 + l) * K + kk] : 0.0f;
    }
}

typedef struct
{
  const ClConv2d *conv;
  const float *wp, *x, *dy;
  int n;
  float *y, *dx, *scratch;
  NhwcScratch l;
  const ClConvKernels *kern; /* NULL: im2col + sgemm */
  const ClConvEpilogue *ep;
  const ClConvTrainEpilogue *tep; /* training forward: bias and moments per view */
  const ClBnReluGrad *bng;        /* backward: dy comes from this BatchNorm + ReLU, block by block */
  gboolean want_dw;               /* backward: FALSE when only dx is asked for */
  const ClConvInputBn *inbn;      /* x is a BatchNorm's input, normalised block by block */
} NhwcJob;

/* The g input views from view n0 on: in place, or normalised into the thread's scratch. */
static const float *
block_input (const NhwcJob *job, float *own, int n0, int g)
{
  const ClConv2d *conv = job->conv;
  const size_t in_sample = (size_t) conv->in_h * conv->in_w * conv->in_c;
  if (!job->inbn)
    return job->x + n0 * in_sample;
  const ClConvInputBn *ib = job->inbn;
  float *xb = own + job->l.xin;
  cl_batchnorm_relu_apply (job->x + n0 * in_sample, g * conv->in_h * conv->in_w, conv->in_c, ib->mean, ib->gamma,
                           ib->invstd, ib->beta, xb);
  return xb;
}

/* The training epilogue of views v0 .. v0 + g - 1, stored at y: bias, then moments. */
static void
train_epilogue (const ClConvTrainEpilogue *tep, const ClConv2d *conv, int v0, int g, float *y)
{
  const int O = conv->out_c, P = conv->out_h * conv->out_w;
  for (int s = 0; s < g; s++)
    {
      float *ys = y + (size_t) s * P * O;
      const int v = v0 + s;
      if (tep->bias)
        for (int p = 0; p < P; p++)
          {
            const float *b = tep->bias + ((size_t) v * tep->n_classes + tep->pixel_class[p]) * O;
            float *yr = ys + (size_t) p * O;
            for (int o = 0; o < O; o++)
              yr[o] += b[o];
          }
      cl_batchnorm_view_moments (ys, P, O, tep->moments + (size_t) v * 3 * O);
    }
}

/* Rows per microkernel call in the training forward: a few views at a time, so the epilogue finds
 * them in cache, but enough rows for the kernels' tiles. */
#define CL_TRAIN_EPILOGUE_ROWS 192

static void
nhwc_forward_item (void *arg, int b, int thread)
{
  const NhwcJob *job = arg;
  const ClConv2d *conv = job->conv;
  const int chunk = conv->chunk, out_c = conv->out_c, K = conv->k * conv->k * conv->in_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  float *own = job->scratch + (size_t) thread * job->l.per_thread;
  float *col = own + job->l.col;
  const int n0 = b * chunk, g = MIN (chunk, job->n - n0), rows = g * (int) P;
  float *y = job->y + (size_t) n0 * P * out_c;
  if (job->kern)
    {
      const float **ptab = (const float **) (own + job->l.ptab);
      const float *zeros = job->scratch + job->l.zeros;
      build_row_table (conv, block_input (job, own, n0, g), g, ptab, col, zeros);
      if (!job->tep)
        {
          job->kern->forward_block (conv, job->scratch + job->l.packed, ptab, rows, y, zeros, job->ep);
          return;
        }
      const int nseg = cl_conv_row_shape (conv).nseg, step = MAX (1, CL_TRAIN_EPILOGUE_ROWS / (int) P);
      for (int s = 0; s < g; s += step)
        {
          const int gs = MIN (step, g - s);
          float *ys = y + (size_t) s * P * out_c;
          job->kern->forward_block (conv, job->scratch + job->l.packed, ptab + (size_t) s * P * nseg, gs * (int) P, ys,
                                    zeros, NULL);
          train_epilogue (job->tep, conv, n0 + s, gs, ys);
        }
      return;
    }
  im2col_nhwc (conv, block_input (job, own, n0, g), g, col);
  /* y rows [rows][out_c] = col [rows][K] wp^T: the block's output, already in NHWC order. */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, out_c, K, 1.0f, col, K, job->wp, K, 0.0f, y, out_c);
  if (job->tep)
    train_epilogue (job->tep, conv, n0, g, y);
  if (job->ep)
    for (int r = 0; r < rows; r++)
      {
        float *yr = y + (size_t) r * out_c;
        for (int c = 0; c < out_c; c++)
          yr[c] = relu_f (job->ep->scale[c] * (yr[c] - job->ep->mean[c]) + job->ep->shift[c]);
      }
}

static void
nhwc_job_setup (NhwcJob *job, const ClConvKernels *kern, const ClConv2d *conv, const float *wp, const float *x,
                const float *dy, int n, float *y, float *dx, float *scratch)
{
  *job = (NhwcJob){ conv, wp, x, dy, n, y, dx, scratch, { 0 }, kern, NULL, NULL, NULL, TRUE, NULL };
  nhwc_scratch_layout (conv, &job->l);
  if (job->kern)
    {
      memset (scratch + job->l.zeros, 0, sizeof (float) * (job->l.total - job->l.zeros));
      pack_kernel_tiles (conv, wp, scratch + job->l.packed);
    }
}

static void
nhwc_job_init (NhwcJob *job, const ClConv2d *conv, const float *wp, const float *x, const float *dy, int n, float *y,
               float *dx, float *scratch)
{
  nhwc_job_setup (job, cl_conv_kernels_current (), conv, wp, x, dy, n, y, dx, scratch);
}

void
cl_conv2d_forward_nhwc (const ClConv2d *conv, const float *wp, const float *x, int n, float *y, float *scratch)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, x, NULL, n, y, NULL, scratch);
  cl_team_for (nhwc_forward_item, &job, (n + conv->chunk - 1) / conv->chunk);
}

void
cl_conv2d_forward_nhwc_train (const ClConv2d *conv, const float *wp, const float *x, int n, float *y, float *scratch,
                              const ClConvTrainEpilogue *tep)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, x, NULL, n, y, NULL, scratch);
  job.tep = tep;
  cl_team_for (nhwc_forward_item, &job, (n + conv->chunk - 1) / conv->chunk);
}

void
cl_conv2d_forward_nhwc_eval_bn_relu (const ClConv2d *conv, const float *wp, const float *x, int n, const float *gamma,
                                     const float *beta, const float *running_mean, const float *running_var, float *y,
                                     float *scratch)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, x, NULL, n, y, NULL, scratch);
  /* scale = gamma * 1/sqrt(var + eps), as cl_batchnorm_forward_eval computes it; kept in the
   * scratch's lane area, which a forward does not use. */
  float *scale = scratch + job.l.lanes;
  for (int c = 0; c < conv->out_c; c++)
    scale[c] = gamma[c] * (float) (1.0 / sqrt ((double) running_var[c] + CL_BN_EPS));
  const ClConvEpilogue ep = { scale, running_mean, beta };
  job.ep = &ep;
  cl_team_for (nhwc_forward_item, &job, (n + conv->chunk - 1) / conv->chunk);
}

/* rows x C values of dy from offset off of the BatchNorm + ReLU gradient: the operations of the
 * second pass of cl_batchnorm_backward. */
static void
bn_relu_grad_rows (const ClBnReluGrad *bg, size_t off, int rows, int C, float *restrict out)
{
  const float *restrict dact = bg->dact + off, *restrict act = bg->act ? bg->act + off : NULL,
                        *restrict pre = bg->pre + off;
  const float *restrict k0 = bg->k0, *restrict k1 = bg->k1, *restrict k2 = bg->k2, *restrict mu = bg->mean;
  if (!bg->act)
    {
      const float *restrict beta = bg->beta;
      for (int r = 0; r < rows; r++, dact += C, pre += C, out += C)
        for (int c = 0; c < C; c++)
          {
            const float xm = pre[c] - mu[c];
            out[c] = k1[c] * relu_pass (dact[c], k1[c] * xm + beta[c]) - k0[c] - k2[c] * xm;
          }
      return;
    }
  for (int r = 0; r < rows; r++, dact += C, act += C, pre += C, out += C)
    for (int c = 0; c < C; c++)
      out[c] = k1[c] * relu_pass (dact[c], act[c]) - k0[c] - k2[c] * (pre[c] - mu[c]);
}

/* The block's per-view, per-class sums of dy (the views n0 .. n0 + g - 1 belong to this block only). */
static void
dy_class_sums (const ClBnReluGrad *bg, const float *dy, int n0, int g, int P, int C)
{
  float *sums = bg->dy_sums + (size_t) n0 * bg->n_classes * C;
  memset (sums, 0, sizeof (float) * (size_t) g * bg->n_classes * C);
  for (int s = 0; s < g; s++)
    for (int p = 0; p < P; p++)
      {
        float *d = sums + ((size_t) s * bg->n_classes + bg->pixel_class[p]) * C;
        const float *r = dy + ((size_t) s * P + p) * C;
        for (int c = 0; c < C; c++)
          d[c] += r[c];
      }
}

/* One lane: blocks lane, lane + LANES, ... in order, summing their kernel gradient into the lane's partial. */
static void
nhwc_backward_item (void *arg, int lane, int thread)
{
  NhwcJob *job = arg;
  const ClConv2d *conv = job->conv;
  const int chunk = conv->chunk, out_c = conv->out_c, K = conv->k * conv->k * conv->in_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  const size_t in_sample = (size_t) conv->in_h * conv->in_w * conv->in_c;
  float *own = job->scratch + (size_t) thread * job->l.per_thread;
  float *col = own + job->l.col, *dcol = own + job->l.dcol;
  float *dw = job->scratch + job->l.lanes + lane * cl_conv2d_num_weights (conv);
  const int blocks = (job->n + chunk - 1) / chunk;
  for (int b = lane; b < blocks; b += CL_LAYERS_LANES)
    {
      const int n0 = b * chunk, g = MIN (chunk, job->n - n0), rows = g * (int) P;
      const float *dy = job->dy + (size_t) n0 * P * out_c;
      if (job->bng)
        {
          float *dyb = own + job->l.dyb;
          bn_relu_grad_rows (job->bng, (size_t) n0 * P * out_c, rows, out_c, dyb);
          dy = dyb;
          if (job->bng->dy_sums)
            dy_class_sums (job->bng, dyb, n0, g, (int) P, out_c);
        }
      if (job->kern)
        {
          const float **ptab = (const float **) (own + job->l.ptab);
          if (job->want_dw)
            {
              build_row_table (conv, block_input (job, own, n0, g), g, ptab, col, job->scratch + job->l.zeros);
              job->kern->dw_block (conv, ptab, dy, rows, dw, b == lane);
            }
          if (job->dx)
            {
              float *dx = job->dx + n0 * in_sample;
              float **dtab = (float **) ptab; /* the kernel gradient is done with it */
              memset (dx, 0, sizeof (float) * g * in_sample);
              build_grad_row_table (conv, dx, g, dtab, dcol);
              job->kern->dx_block (conv, job->wp, dtab, dy, rows);
              flush_staged_rows (conv, dx, g, dcol);
            }
          continue;
        }
      if (job->want_dw)
        {
          im2col_nhwc (conv, block_input (job, own, n0, g), g, col);
          /* dw [out_c][K] (+)= dy^T [out_c][rows] col [rows][K] */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, out_c, K, rows, 1.0f, dy, out_c, col, K,
                       b == lane ? 0.0f : 1.0f, dw, K);
        }
      if (job->dx)
        {
          /* dcol [rows][K] = dy [rows][out_c] wp [out_c][K] */
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, K, out_c, 1.0f, dy, out_c, job->wp, K, 0.0f,
                       dcol, K);
          col2im_nhwc (conv, dcol, g, job->dx + n0 * in_sample);
        }
    }
}

static void
nhwc_backward_run (NhwcJob *job, float *dwp)
{
  const ClConv2d *conv = job->conv;
  float *scratch = job->scratch;
  const int n = job->n;
  const int blocks = (n + conv->chunk - 1) / conv->chunk, lanes = MIN (blocks, CL_LAYERS_LANES);
  cl_team_for (nhwc_backward_item, job, lanes);
  if (!dwp)
    return;
  const size_t nw = cl_conv2d_num_weights (conv);
  float *partial = scratch + job->l.lanes;
  for (int l = 1; l < lanes; l++)
    for (size_t i = 0; i < nw; i++)
      partial[i] += partial[l * nw + i];
  if (!job->kern)
    memcpy (dwp, partial, sizeof (float) * nw);
  else
    {
      /* The SIMD lanes are [K][O]. */
      const int O = conv->out_c, K = (int) (nw / (size_t) O);
      for (int o = 0; o < O; o++)
        for (int kk = 0; kk < K; kk++)
          dwp[(size_t) o * K + kk] = partial[(size_t) kk * O + o];
    }
}

void
cl_conv2d_backward_nhwc (const ClConv2d *conv, const float *wp, const float *x, const float *dy, int n, float *dwp,
                         float *dx, float *scratch)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, x, dy, n, NULL, dx, scratch);
  job.want_dw = dwp != NULL;
  nhwc_backward_run (&job, dwp);
}

void
cl_conv2d_backward_nhwc_bn (const ClConv2d *conv, const float *wp, const float *x, const ClBnReluGrad *bng, int n,
                            float *dwp, float *dx, float *scratch)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, x, NULL, n, NULL, dx, scratch);
  job.bng = bng;
  nhwc_backward_run (&job, dwp);
}

void
cl_conv2d_forward_nhwc_in (const ClConv2d *conv, const float *wp, const float *pre, const ClConvInputBn *inbn, int n,
                           float *y, float *scratch, const ClConvTrainEpilogue *tep)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, pre, NULL, n, y, NULL, scratch);
  job.tep = tep;
  job.inbn = inbn;
  cl_team_for (nhwc_forward_item, &job, (n + conv->chunk - 1) / conv->chunk);
}

void
cl_conv2d_backward_nhwc_in (const ClConv2d *conv, const float *wp, const float *pre, const ClConvInputBn *inbn,
                            const ClBnReluGrad *bng, const float *dy, int n, float *dwp, float *dx, float *scratch)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, pre, bng ? NULL : dy, n, NULL, dx, scratch);
  job.bng = bng;
  job.want_dw = dwp != NULL;
  job.inbn = inbn;
  nhwc_backward_run (&job, dwp);
}

/* ---- which microkernels run */

#if CL_HAVE_X86_KERNELS
#include <time.h>

static double
thread_cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of a forward + kernel-gradient pass of a conv2-like layer (32 -> 64 channels, 13x13
 * -> 6x6, 16 views) with kernel set k: the least of `reps`. */
static double
calibration_seconds (const ClConvKernels *k, const ClConv2d *conv, const float *x, const float *w, float *y,
                     float *scratch, int n)
{
  NhwcJob job;
  double best = G_MAXDOUBLE;
  for (int r = 0; r < 3; r++)
    {
      const double t0 = thread_cpu_seconds ();
      nhwc_job_setup (&job, k, conv, w, x, NULL, n, y, NULL, scratch);
      for (int b = 0; b * conv->chunk < n; b++)
        nhwc_forward_item (&job, b, 0);
      nhwc_job_setup (&job, k, conv, w, x, y, n, NULL, NULL, scratch);
      for (int lane = 0; lane < CL_LAYERS_LANES && lane * conv->chunk < n; lane++)
        nhwc_backward_item (&job, lane, 0);
      best = MIN (best, thread_cpu_seconds () - t0);
    }
  return best;
}

/* When the CPU runs both sets, which is faster here: AVX-512 is not always (a core may split
 * 512-bit operations in two). The sets give the same bits, so this choice never changes a result. */
static double avx512_vs_avx2 = 0.0; /* AVX-512 time / AVX2 time at the calibration; 0: not measured */

static const ClConvKernels *
calibrate (void)
{
  ClConv2d conv;
  cl_conv2d_init (&conv, 32, 64, 3, 2, 0, 13, 13);
  conv.chunk = 4;
  const int n = 16;
  const size_t nx = (size_t) n * 32 * 13 * 13, ny = (size_t) n * 64 * 36, nw = cl_conv2d_num_weights (&conv);
  float *x = g_new (float, nx), *y = g_new (float, ny), *w = g_new (float, nw);
  float *scratch = g_new0 (float, cl_conv2d_nhwc_scratch_floats (&conv));
  for (size_t i = 0; i < nx; i++)
    x[i] = (float) (i % 7) * 0.25f - 0.75f;
  for (size_t i = 0; i < nw; i++)
    w[i] = (float) (i % 5) * 0.125f - 0.25f;
  double t2 = G_MAXDOUBLE, t5 = G_MAXDOUBLE;
  for (int r = 0; r < 3; r++) /* alternating, so a burst of load hits both */
    {
      t2 = MIN (t2, calibration_seconds (&cl_conv_kernels_avx2, &conv, x, w, y, scratch, n));
      t5 = MIN (t5, calibration_seconds (&cl_conv_kernels_avx512, &conv, x, w, y, scratch, n));
    }
  g_free (x);
  g_free (y);
  g_free (w);
  g_free (scratch);
  avx512_vs_avx2 = t2 > 0.0 ? t5 / t2 : 1.0;
  /* AVX-512 unless clearly slower (by 15%, beyond the noise of a 15 ms calibration on a loaded machine): its wide tiles
   * (64 or 32 channels at once) do fewer loads per multiply-add, which this conv-only calibration underrates. On a Zen
   * 5 EPYC it measured 1.00x here, while the whole convn step (which also runs the dense layers and the loss's Gram
   * products on these kernels) was 9% faster on AVX-512 (bench_layers, batch 1000, 1 thread: 182.5 vs 200.5 ms). The
   * two sets give the same bits, so the choice never changes a result. */
  return avx512_vs_avx2 < 1.15 ? &cl_conv_kernels_avx512 : &cl_conv_kernels_avx2;
}
#endif

/* The best set the CPU runs: of AVX-512F and AVX2 + FMA, the faster at a short calibration on first
 * use; else none (im2col + sgemm). */
static const ClConvKernels *
best_kernels (void)
{
#if CL_HAVE_X86_KERNELS
  static const ClConvKernels *best;
  static gsize once;
  if (g_once_init_enter (&once))
    {
      __builtin_cpu_init ();
      const gboolean has2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
      const gboolean has5 = __builtin_cpu_supports ("avx512f");
      best = has5 && has2 ? calibrate () : has5 ? &cl_conv_kernels_avx512 : has2 ? &cl_conv_kernels_avx2 : NULL;
      g_once_init_leave (&once, 1);
    }
  return best;
#else
  return NULL;
#endif
}

double
cl_conv_kernels_calibration (void)
{
  best_kernels ();
#if CL_HAVE_X86_KERNELS
  return avx512_vs_avx2;
#else
  return 0.0;
#endif
}

/* The set in use; `kernels_chosen` FALSE until the first call picks the best. */
static const ClConvKernels *kernels_in_use;
static gint kernels_chosen;
G_LOCK_DEFINE_STATIC (kernels);

const ClConvKernels *
cl_conv_kernels_current (void)
{
  if (!g_atomic_int_get (&kernels_chosen))
    {
      G_LOCK (kernels);
      if (!g_atomic_int_get (&kernels_chosen))
        {
          g_atomic_pointer_set (&kernels_in_use, best_kernels ());
          g_atomic_int_set (&kernels_chosen, 1);
        }
      G_UNLOCK (kernels);
    }
  return g_atomic_pointer_get (&kernels_in_use);
}

gboolean
cl_conv_set_kernels (const char *name)
{
  const ClConvKernels *k = NULL;
  if (!name)
    k = best_kernels ();
  else if (strcmp (name, "im2col") == 0)
    k = NULL;
  else if (strcmp (name, "reference") == 0)
    k = &cl_conv_kernels_reference;
#if CL_HAVE_X86_KERNELS
  else if (strcmp (name, "avx2") == 0)
    {
      __builtin_cpu_init ();
      if (!__builtin_cpu_supports ("avx2") || !__builtin_cpu_supports ("fma"))
        return FALSE;
      k = &cl_conv_kernels_avx2;
    }
  else if (strcmp (name, "avx512") == 0)
    {
      __builtin_cpu_init ();
      if (!__builtin_cpu_supports ("avx512f"))
        return FALSE;
      k = &cl_conv_kernels_avx512;
    }
#endif
  else
    return FALSE;
  G_LOCK (kernels);
  g_atomic_pointer_set (&kernels_in_use, k);
  g_atomic_int_set (&kernels_chosen, 1);
  G_UNLOCK (kernels);
  return TRUE;
}

const char *
cl_conv_kernels_name (void)
{
  const ClConvKernels *k = cl_conv_kernels_current ();
  return k ? k->name : "im2col";
}

gboolean
cl_layers_simd_available (void)
{
  return best_kernels () != NULL;
}

void
cl_layers_set_simd (gboolean enabled)
{
  cl_conv_set_kernels (enabled ? NULL : "im2col");
}

gboolean
cl_layers_get_simd (void)
{
  const ClConvKernels *k = cl_conv_kernels_current ();
  return k != NULL && k != &cl_conv_kernels_reference;
}
