/* The conv's shape, the kernel-order changes between the parameter arena ([out][in][k][k]) and the
 * channels-last kernels ([out][k][k][in]), and the naive loop reference every fast path is
 * tested against. */
#include "engine/nn/cl_conv.h"

#include <string.h>

#include "engine/nn/cl_conv_kernels.h"

gboolean
cl_conv2d_init (ClConv2d *conv, int in_c, int out_c, int k, int stride, int pad, int in_h, int in_w)
{
  memset (conv, 0, sizeof *conv);
  if (in_c < 1 || out_c < 1 || k < 1 || stride < 1 || pad < 0 || in_h < 1 || in_w < 1)
    return FALSE;
  int out_h = (in_h + 2 * pad - k) / stride + 1;
  int out_w = (in_w + 2 * pad - k) / stride + 1;
  if (in_h + 2 * pad < k || in_w + 2 * pad < k || out_h < 1 || out_w < 1)
    return FALSE;
  conv->in_c = in_c;
  conv->out_c = out_c;
  conv->k = k;
  conv->stride = stride;
  conv->pad = pad;
  conv->in_h = in_h;
  conv->in_w = in_w;
  conv->out_h = out_h;
  conv->out_w = out_w;
  conv->active_c = in_c;
  size_t per_sample = (size_t) in_c * k * k * out_h * out_w;
  size_t chunk = CL_CONV_COL_TARGET_FLOATS / per_sample;
  conv->chunk = chunk < 1 ? 1 : chunk > CL_CONV_MAX_CHUNK ? CL_CONV_MAX_CHUNK : (int) chunk;
  return TRUE;
}

size_t
cl_conv2d_num_weights (const ClConv2d *conv)
{
  return (size_t) conv->out_c * conv->in_c * conv->k * conv->k;
}

double
cl_conv2d_macs (const ClConv2d *conv)
{
  return (double) cl_conv2d_num_weights (conv) * conv->out_h * conv->out_w;
}

/* ---- the reference: one loop per index, sums in double. */

void
cl_conv2d_forward_ref (const ClConv2d *conv, const float *w, const float *x, int n, float *y)
{
  const int k = conv->k;
  for (int s = 0; s < n; s++)
    for (int o = 0; o < conv->out_c; o++)
      for (int oh = 0; oh < conv->out_h; oh++)
        for (int ow = 0; ow < conv->out_w; ow++)
          {
            double acc = 0.0;
            for (int c = 0; c < conv->in_c; c++)
              for (int ki = 0; ki < k; ki++)
                for (int kj = 0; kj < k; kj++)
                  {
                    int ih = oh * conv->stride + ki - conv->pad;
                    int iw = ow * conv->stride + kj - conv->pad;
                    if (ih < 0 || ih >= conv->in_h || iw < 0 || iw >= conv->in_w)
                      continue;
                    acc += (double) w[((o * conv->in_c + c) * k + ki) * k + kj] *
                           x[(((size_t) s * conv->in_c + c) * conv->in_h + ih) * conv->in_w + iw];
                  }
            y[(((size_t) s * conv->out_c + o) * conv->out_h + oh) * conv->out_w + ow] = (float) acc;
          }
}

void
cl_conv2d_backward_ref (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n, float *dw,
                        float *dx)
{
  const int k = conv->k;
  memset (dw, 0, sizeof (float) * cl_conv2d_num_weights (conv));
  if (dx)
    memset (dx, 0, sizeof (float) * n * conv->in_c * conv->in_h * conv->in_w);
  for (int s = 0; s < n; s++)
    for (int o = 0; o < conv->out_c; o++)
      for (int oh = 0; oh < conv->out_h; oh++)
        for (int ow = 0; ow < conv->out_w; ow++)
          {
            float g = dy[(((size_t) s * conv->out_c + o) * conv->out_h + oh) * conv->out_w + ow];
            for (int c = 0; c < conv->in_c; c++)
              for (int ki = 0; ki < k; ki++)
                for (int kj = 0; kj < k; kj++)
                  {
                    int ih = oh * conv->stride + ki - conv->pad;
                    int iw = ow * conv->stride + kj - conv->pad;
                    if (ih < 0 || ih >= conv->in_h || iw < 0 || iw >= conv->in_w)
                      continue;
                    size_t xi = (((size_t) s * conv->in_c + c) * conv->in_h + ih) * conv->in_w + iw;
                    size_t wi = ((size_t) (o * conv->in_c + c) * k + ki) * k + kj;
                    dw[wi] += g * x[xi];
                    if (dx)
                      dx[xi] += g * w[wi];
                  }
          }
}

/* ---- kernel order */

void
cl_conv2d_weights_to_nhwc (const ClConv2d *conv, const float *w, int w_in_c, float *wp)
{
  const int k = conv->k, C = conv->in_c, kk = k * k;
  for (int o = 0; o < conv->out_c; o++)
    for (int c = 0; c < C; c++)
      {
        const float *src = w + ((size_t) o * w_in_c + c) * kk;
        float *dst = wp + (size_t) o * kk * C + c;
        for (int j = 0; j < kk; j++)
          dst[(size_t) j * C] = src[j];
      }
}

void
cl_conv2d_weights_from_nhwc (const ClConv2d *conv, const float *wp, int w_in_c, float *w)
{
  const int k = conv->k, C = conv->in_c, kk = k * k;
  for (int o = 0; o < conv->out_c; o++)
    {
      for (int c = 0; c < C; c++)
        {
          const float *src = wp + (size_t) o * kk * C + c;
          float *dst = w + ((size_t) o * w_in_c + c) * kk;
          for (int j = 0; j < kk; j++)
            dst[j] = src[(size_t) j * C];
        }
      if (w_in_c > C)
        memset (w + ((size_t) o * w_in_c + C) * kk, 0, sizeof (float) * (size_t) (w_in_c - C) * kk);
    }
}
