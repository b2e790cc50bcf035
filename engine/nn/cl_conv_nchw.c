/* The NCHW conv: im2col + sgemm in chunks of samples, with the active-channel contract (ClConv2d.active_c).
 * Only the tests call it: the finite-difference gradient checks run on it, and it checks the
 * reference's shape conventions from a second side. The model uses the channels-last path
 * (cl_conv_nhwc.c). With t team threads, parts are fixed by t, so results are bit-reproducible
 * for a given thread count. */
#include "engine/nn/cl_conv.h"

#include <cblas.h>
#include <string.h>

#include "engine/nn/cl_conv_kernels.h"
#include "engine/nn/cl_layers_private.h"

/* With t threads each takes blocks of MAX (1, chunk / t) samples, so t blocks fit in MAX (chunk, t). */
size_t
cl_conv2d_col_floats (const ClConv2d *conv)
{
  return (size_t) conv->in_c * conv->k * conv->k * MAX (conv->chunk, CL_LAYERS_MAX_THREADS) * conv->out_h * conv->out_w;
}

/* The threads' output blocks (up to in_c times longer with one active channel), then a
 * kernel-gradient partial per extra thread. */
size_t
cl_conv2d_tmp_floats (const ClConv2d *conv)
{
  const size_t grown = MIN ((size_t) conv->chunk * conv->in_c, CL_CONV_MAX_CHUNK);
  return (size_t) conv->out_c * MAX (grown, CL_LAYERS_MAX_THREADS) * conv->out_h * conv->out_w +
         (size_t) (CL_LAYERS_MAX_THREADS - 1) * cl_conv2d_num_weights (conv);
}

/* The active input channel count, clamped to 1..in_c. */
static int
conv_active (const ClConv2d *conv)
{
  return conv->active_c < 1 || conv->active_c > conv->in_c ? conv->in_c : conv->active_c;
}

/* Patch-major columns: col[s*P + oh*out_w + ow][(c*k + ki)*k + kj] for the g samples starting at x,
 * over the first conv_active() channels (rows of active*k*k floats; samples keep their full stride).
 * Each patch row is a run of k contiguous input floats, so this is k-float copies rather than the
 * strided gathers of the channel-major layout (which cost as much as the GEMM). */
static void
im2col (const ClConv2d *conv, const float *x, int g, float *col)
{
  const int k = conv->k, stride = conv->stride, pad = conv->pad, in_c = conv_active (conv);
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const size_t K = (size_t) in_c * k * k;
  const size_t in_plane = (size_t) in_h * in_w, in_sample = (size_t) conv->in_c * in_plane;

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
              float *d = dst;
              if (ih0 >= 0 && ih0 + k <= in_h && iw0 >= 0 && iw0 + k <= in_w)
                {
                  const float *src = xs + (size_t) ih0 * in_w + iw0;
                  if (k == 3)
                    for (int c = 0; c < in_c; c++, src += in_plane, d += 9)
                      {
                        d[0] = src[0], d[1] = src[1], d[2] = src[2];
                        d[3] = src[in_w], d[4] = src[in_w + 1], d[5] = src[in_w + 2];
                        d[6] = src[2 * in_w], d[7] = src[2 * in_w + 1], d[8] = src[2 * in_w + 2];
                      }
                  else
                    for (int c = 0; c < in_c; c++, src += in_plane)
                      for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++)
                          *d++ = src[ki * in_w + kj];
                }
              else
                {
                  for (int c = 0; c < in_c; c++)
                    for (int ki = 0; ki < k; ki++)
                      for (int kj = 0; kj < k; kj++)
                        {
                          const int ih = ih0 + ki, iw = iw0 + kj;
                          *d++ = (ih >= 0 && ih < in_h && iw >= 0 && iw < in_w)
                                     ? xs[c * in_plane + (size_t) ih * in_w + iw]
                                     : 0.0f;
                        }
                }
            }
        }
    }
}

/* dx (g samples) = col2im(dcol), dcol in the patch-major layout of im2col. */
static void
col2im (const ClConv2d *conv, const float *dcol, int g, float *dx)
{
  const int k = conv->k, stride = conv->stride, pad = conv->pad, in_c = conv->in_c;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const size_t K = (size_t) in_c * k * k;
  const size_t in_plane = (size_t) in_h * in_w, in_sample = (size_t) in_c * in_plane;

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
              const float *d = src;
              if (ih0 >= 0 && ih0 + k <= in_h && iw0 >= 0 && iw0 + k <= in_w)
                {
                  float *dst = xs + (size_t) ih0 * in_w + iw0;
                  if (k == 3)
                    for (int c = 0; c < in_c; c++, dst += in_plane, d += 9)
                      {
                        dst[0] += d[0], dst[1] += d[1], dst[2] += d[2];
                        dst[in_w] += d[3], dst[in_w + 1] += d[4], dst[in_w + 2] += d[5];
                        dst[2 * in_w] += d[6], dst[2 * in_w + 1] += d[7], dst[2 * in_w + 2] += d[8];
                      }
                  else
                    for (int c = 0; c < in_c; c++, dst += in_plane)
                      for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++)
                          dst[ki * in_w + kj] += *d++;
                }
              else
                {
                  for (int c = 0; c < in_c; c++)
                    for (int ki = 0; ki < k; ki++)
                      for (int kj = 0; kj < k; kj++, d++)
                        {
                          const int ih = ih0 + ki, iw = iw0 + kj;
                          if (ih >= 0 && ih < in_h && iw >= 0 && iw < in_w)
                            xs[c * in_plane + (size_t) ih * in_w + iw] += *d;
                        }
                }
            }
        }
    }
}

/* Samples per im2col block of each of `parts` threads. With `grow` (no dcol, which has full rows,
 * in use), fewer active channels make shorter column rows, so blocks grow by in_c / active to the
 * same column floats (small GEMMs are slow); the threads share the scratch of one caller, so blocks
 * shrink by parts. */
static int
conv_part_chunk (const ClConv2d *conv, int parts, gboolean grow)
{
  const long grown = grow ? (long) conv->chunk * conv->in_c / conv_active (conv) : conv->chunk;
  return (int) MAX (1, MIN (grown, CL_CONV_MAX_CHUNK) / parts);
}

typedef struct
{
  const ClConv2d *conv;
  const float *w, *x, *dy;
  int n, chunk; /* chunk: samples per block, from the thread count */
  float *y, *dw, *dx, *col, *dcol, *tmp;
} ClConvJob;

/* Part `part` takes blocks part, part + parts, ...: a fixed assignment, so reproducible. */
static void
conv_forward_part (void *arg, int part, int parts)
{
  const ClConvJob *job = arg;
  const ClConv2d *conv = job->conv;
  /* W stays [out_c][in_c*k*k]; only its first Ka columns meet the active channels' columns. */
  const int K = conv->in_c * conv->k * conv->k, Ka = conv_active (conv) * conv->k * conv->k;
  const int out_c = conv->out_c, chunk = job->chunk;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  const size_t in_sample = (size_t) conv->in_c * conv->in_h * conv->in_w;
  float *col = job->col + (size_t) part * chunk * P * Ka, *tmp = job->tmp + (size_t) part * out_c * chunk * P;

  for (int n0 = part * chunk; n0 < job->n; n0 += parts * chunk)
    {
      const int g = MIN (chunk, job->n - n0);
      const int cols = g * (int) P;
      im2col (conv, job->x + n0 * in_sample, g, col);
      /* tmp [out_c][cols] = W [out_c][Ka] col^T */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, out_c, cols, Ka, 1.0f, job->w, K, col, Ka, 0.0f, tmp, cols);
      /* tmp is [out_c][g][P]; NCHW wants [g][out_c][P]. */
      for (int c = 0; c < out_c; c++)
        for (int s = 0; s < g; s++)
          memcpy (job->y + ((size_t) (n0 + s) * out_c + c) * P, tmp + ((size_t) c * g + s) * P, sizeof (float) * P);
    }
}

void
cl_conv2d_forward (const ClConv2d *conv, const float *w, const float *x, int n, float *y, float *col, float *tmp)
{
  const int parts = cl_team_parts (), chunk = conv_part_chunk (conv, parts, TRUE);
  ClConvJob job = { conv, w, x, NULL, n, chunk, y, NULL, NULL, col, NULL, tmp };
  cl_team_run (conv_forward_part, &job, MIN (parts, (n + chunk - 1) / chunk));
}

static void
conv_backward_part (void *arg, int part, int parts)
{
  const ClConvJob *job = arg;
  const ClConv2d *conv = job->conv;
  const int K = conv->in_c * conv->k * conv->k, Ka = conv_active (conv) * conv->k * conv->k;
  const int out_c = conv->out_c, chunk = job->chunk;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  const size_t in_sample = (size_t) conv->in_c * conv->in_h * conv->in_w;
  float *col = job->col + (size_t) part * chunk * P * Ka, *dcol = job->dcol + (size_t) part * chunk * P * K;
  float *tmp = job->tmp + (size_t) part * out_c * chunk * P;
  /* Part 0 sums into dw; the others into their own partial after the threads' tmp blocks. */
  float *dw = part == 0 ? job->dw : job->tmp + (size_t) parts * out_c * chunk * P + (size_t) (part - 1) * out_c * K;
  gboolean first = TRUE;

  for (int n0 = part * chunk; n0 < job->n; n0 += parts * chunk)
    {
      const int g = MIN (chunk, job->n - n0);
      const int cols = g * (int) P;
      for (int c = 0; c < out_c; c++)
        for (int s = 0; s < g; s++)
          memcpy (tmp + ((size_t) c * g + s) * P, job->dy + ((size_t) (n0 + s) * out_c + c) * P, sizeof (float) * P);
      im2col (conv, job->x + n0 * in_sample, g, col);
      /* dW [out_c][Ka] (+)= dy [out_c][cols] col [cols][Ka]; blocks are summed in a fixed order, so dw
       * is reproducible for a given n and thread count. */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, out_c, Ka, cols, 1.0f, tmp, cols, col, Ka,
                   first ? 0.0f : 1.0f, dw, K);
      first = FALSE;
      if (job->dx)
        {
          /* dcol [cols][K] = dy^T [cols][out_c] W [out_c][K]: every channel, since the input gradient of
           * an inactive (zero) plane is not zero. */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, cols, K, out_c, 1.0f, tmp, cols, job->w, K, 0.0f, dcol,
                       K);
          col2im (conv, dcol, g, job->dx + n0 * in_sample);
        }
    }
  if (first)
    for (int o = 0; o < out_c; o++)
      memset (dw + (size_t) o * K, 0, sizeof (float) * Ka);
}

void
cl_conv2d_backward (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n, float *dw, float *dx,
                    float *col, float *dcol, float *tmp)
{
  const int K = conv->in_c * conv->k * conv->k, Ka = conv_active (conv) * conv->k * conv->k;
  const int out_c = conv->out_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;

  /* Inactive channels see zero input, so their kernel gradient is exactly zero. */
  if (Ka < K)
    for (int o = 0; o < out_c; o++)
      memset (dw + (size_t) o * K + Ka, 0, sizeof (float) * (K - Ka));
  int parts = cl_team_parts ();
  const int chunk = conv_part_chunk (conv, parts, dx == NULL);
  ClConvJob job = { conv, w, x, dy, n, chunk, NULL, dw, dx, col, dcol, tmp };
  parts = MIN (parts, (n + chunk - 1) / chunk);
  cl_team_run (conv_backward_part, &job, parts);
  for (int p = 1; p < parts; p++)
    {
      const float *part_dw = tmp + (size_t) parts * out_c * chunk * P + (size_t) (p - 1) * out_c * K;
      for (int o = 0; o < out_c; o++)
        for (int j = 0; j < Ka; j++)
          dw[(size_t) o * K + j] += part_dw[(size_t) o * K + j];
    }
}
