#include "engine/cl_layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Without -fopenmp the pragmas vanish (and -Wunknown-pragmas stays quiet). */
#ifdef _OPENMP
#define CL_OMP(directive) _Pragma (directive)
#else
#define CL_OMP(directive)
#endif

/* Columns per im2col block: ~512 KiB, so col, dcol and the GEMM panels stay in L2. */
#define CL_CONV_COL_TARGET_FLOATS (128 * 1024)

/* ------------------------------------------------------------------ conv2d */

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
  size_t per_sample = (size_t) in_c * k * k * out_h * out_w;
  size_t chunk = CL_CONV_COL_TARGET_FLOATS / per_sample;
  conv->chunk = chunk < 1 ? 1 : chunk > 4096 ? 4096 : (int) chunk;
  return TRUE;
}

size_t
cl_conv2d_num_weights (const ClConv2d *conv)
{
  return (size_t) conv->out_c * conv->in_c * conv->k * conv->k;
}

size_t
cl_conv2d_col_floats (const ClConv2d *conv)
{
  return (size_t) conv->in_c * conv->k * conv->k * conv->chunk * conv->out_h * conv->out_w;
}

size_t
cl_conv2d_tmp_floats (const ClConv2d *conv)
{
  return (size_t) conv->out_c * conv->chunk * conv->out_h * conv->out_w;
}

double
cl_conv2d_macs (const ClConv2d *conv)
{
  return (double) cl_conv2d_num_weights (conv) * conv->out_h * conv->out_w;
}

/* col[(c,ki,kj)][s*P + oh*out_w + ow] for the g samples starting at x. */
static void
im2col (const ClConv2d *conv, const float *x, int g, float *col)
{
  const int k = conv->k, stride = conv->stride, pad = conv->pad;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const int rows = conv->in_c * k * k;
  const size_t P = (size_t) out_h * out_w, ld = (size_t) g * P;
  const size_t in_plane = (size_t) in_h * in_w, in_sample = (size_t) conv->in_c * in_plane;

  CL_OMP ("omp parallel for schedule(static)")
  for (int row = 0; row < rows; row++)
    {
      const int ch = row / (k * k), ki = (row / k) % k, kj = row % k;
      float *dst = col + (size_t) row * ld;
      for (int s = 0; s < g; s++)
        {
          const float *src = x + s * in_sample + ch * in_plane;
          for (int oh = 0; oh < out_h; oh++)
            {
              float *d = dst + s * P + (size_t) oh * out_w;
              const int ih = oh * stride + ki - pad;
              if (ih < 0 || ih >= in_h)
                {
                  memset (d, 0, sizeof (float) * out_w);
                  continue;
                }
              const float *srow = src + (size_t) ih * in_w;
              if (pad == 0)
                {
                  const float *s0 = srow + kj;
                  if (stride == 2)
                    for (int ow = 0; ow < out_w; ow++)
                      d[ow] = s0[2 * ow];
                  else
                    for (int ow = 0; ow < out_w; ow++)
                      d[ow] = s0[ow * stride];
                }
              else
                {
                  for (int ow = 0; ow < out_w; ow++)
                    {
                      const int iw = ow * stride + kj - pad;
                      d[ow] = (iw >= 0 && iw < in_w) ? srow[iw] : 0.0f;
                    }
                }
            }
        }
    }
}

/* dx (g samples) = col2im(dcol); each input channel belongs to one thread. */
static void
col2im (const ClConv2d *conv, const float *dcol, int g, float *dx)
{
  const int k = conv->k, stride = conv->stride, pad = conv->pad;
  const int in_h = conv->in_h, in_w = conv->in_w, out_h = conv->out_h, out_w = conv->out_w;
  const size_t P = (size_t) out_h * out_w, ld = (size_t) g * P;
  const size_t in_plane = (size_t) in_h * in_w, in_sample = (size_t) conv->in_c * in_plane;

  CL_OMP ("omp parallel for schedule(static)")
  for (int ch = 0; ch < conv->in_c; ch++)
    {
      for (int s = 0; s < g; s++)
        {
          float *plane = dx + s * in_sample + ch * in_plane;
          memset (plane, 0, sizeof (float) * in_plane);
          for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++)
              {
                const float *src = dcol + (size_t) ((ch * k + ki) * k + kj) * ld + s * P;
                for (int oh = 0; oh < out_h; oh++)
                  {
                    const int ih = oh * stride + ki - pad;
                    if (ih < 0 || ih >= in_h)
                      continue;
                    float *drow = plane + (size_t) ih * in_w;
                    const float *srow = src + (size_t) oh * out_w;
                    for (int ow = 0; ow < out_w; ow++)
                      {
                        const int iw = ow * stride + kj - pad;
                        if (iw >= 0 && iw < in_w)
                          drow[iw] += srow[ow];
                      }
                  }
              }
        }
    }
}

void
cl_conv2d_forward (const ClConv2d *conv, const float *w, const float *x, int n, float *y, float *col,
                   float *tmp)
{
  const int K = conv->in_c * conv->k * conv->k, out_c = conv->out_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  const size_t in_sample = (size_t) conv->in_c * conv->in_h * conv->in_w;

  for (int n0 = 0; n0 < n; n0 += conv->chunk)
    {
      const int g = MIN (conv->chunk, n - n0);
      const int cols = g * (int) P;
      im2col (conv, x + n0 * in_sample, g, col);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, out_c, cols, K, 1.0f, w, K, col, cols, 0.0f,
                   tmp, cols);
      /* tmp is [out_c][g][P]; NCHW wants [g][out_c][P]. */
      CL_OMP ("omp parallel for schedule(static)")
      for (int c = 0; c < out_c; c++)
        for (int s = 0; s < g; s++)
          memcpy (y + ((size_t) (n0 + s) * out_c + c) * P, tmp + ((size_t) c * g + s) * P, sizeof (float) * P);
    }
}

void
cl_conv2d_backward (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n, float *dw,
                    float *dx, float *col, float *dcol, float *tmp)
{
  const int K = conv->in_c * conv->k * conv->k, out_c = conv->out_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  const size_t in_sample = (size_t) conv->in_c * conv->in_h * conv->in_w;

  for (int n0 = 0; n0 < n; n0 += conv->chunk)
    {
      const int g = MIN (conv->chunk, n - n0);
      const int cols = g * (int) P;
      CL_OMP ("omp parallel for schedule(static)")
      for (int c = 0; c < out_c; c++)
        for (int s = 0; s < g; s++)
          memcpy (tmp + ((size_t) c * g + s) * P, dy + ((size_t) (n0 + s) * out_c + c) * P, sizeof (float) * P);
      im2col (conv, x + n0 * in_sample, g, col);
      /* Chunks are summed into dw in a fixed order, so dw is reproducible for a given n. */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, out_c, K, cols, 1.0f, tmp, cols, col, cols,
                   n0 == 0 ? 0.0f : 1.0f, dw, K);
      if (dx)
        {
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, cols, out_c, 1.0f, w, K, tmp, cols, 0.0f,
                       dcol, cols);
          col2im (conv, dcol, g, dx + n0 * in_sample);
        }
    }
}

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
                    acc += (double) w[((o * conv->in_c + c) * k + ki) * k + kj]
                           * x[(((size_t) s * conv->in_c + c) * conv->in_h + ih) * conv->in_w + iw];
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

/* ------------------------------------------------------------------ batchnorm */

void
cl_batchnorm_forward_train (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta,
                            float *y, float *mean, float *invstd, float *running_mean, float *running_var,
                            gboolean relu)
{
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
  const double m = (double) n * P;

  CL_OMP ("omp parallel for schedule(static)")
  for (int c = 0; c < C; c++)
    {
      /* Sums in double: with m up to ~10^6 a float accumulator would lose the variance. */
      double sum = 0.0, sumsq = 0.0;
      for (int i = 0; i < n; i++)
        {
          const float *xp = x + ((size_t) i * C + c) * P;
          for (size_t j = 0; j < P; j++)
            {
              double v = xp[j];
              sum += v;
              sumsq += v * v;
            }
        }
      double mu = sum / m;
      double var = sumsq / m - mu * mu;
      if (var < 0.0)
        var = 0.0;
      float is = (float) (1.0 / sqrt (var + CL_BN_EPS));
      mean[c] = (float) mu;
      invstd[c] = is;
      if (running_mean && running_var)
        {
          double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
          running_mean[c] = (1.0f - CL_BN_MOMENTUM) * running_mean[c] + CL_BN_MOMENTUM * (float) mu;
          running_var[c] = (1.0f - CL_BN_MOMENTUM) * running_var[c] + CL_BN_MOMENTUM * (float) unbiased;
        }
      const float mf = (float) mu, a = gamma[c] * is, b = beta[c];
      for (int i = 0; i < n; i++)
        {
          const float *xp = x + ((size_t) i * C + c) * P;
          float *yp = y + ((size_t) i * C + c) * P;
          if (relu)
            for (size_t j = 0; j < P; j++)
              {
                float v = a * (xp[j] - mf) + b;
                yp[j] = v > 0.0f ? v : 0.0f;
              }
          else
            for (size_t j = 0; j < P; j++)
              yp[j] = a * (xp[j] - mf) + b;
        }
    }
}

void
cl_batchnorm_forward_eval (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta,
                           const float *running_mean, const float *running_var, float *y, gboolean relu)
{
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;

  CL_OMP ("omp parallel for schedule(static)")
  for (int c = 0; c < C; c++)
    {
      const float is = (float) (1.0 / sqrt ((double) running_var[c] + CL_BN_EPS));
      const float mf = running_mean[c], a = gamma[c] * is, b = beta[c];
      for (int i = 0; i < n; i++)
        {
          const float *xp = x + ((size_t) i * C + c) * P;
          float *yp = y + ((size_t) i * C + c) * P;
          for (size_t j = 0; j < P; j++)
            {
              float v = a * (xp[j] - mf) + b;
              yp[j] = (relu && v <= 0.0f) ? 0.0f : v;
            }
        }
    }
}

void
cl_batchnorm_backward (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                       const float *gamma, const float *mean, const float *invstd, float *dx, float *dgamma,
                       float *dbeta, gboolean relu)
{
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
  const double m = (double) n * P;

  CL_OMP ("omp parallel for schedule(static)")
  for (int c = 0; c < C; c++)
    {
      const float mf = mean[c], is = invstd[c];
      double sum_d = 0.0, sum_dxhat = 0.0;
      for (int i = 0; i < n; i++)
        {
          const size_t off = ((size_t) i * C + c) * P;
          for (size_t j = 0; j < P; j++)
            {
              float d = (relu && y[off + j] <= 0.0f) ? 0.0f : dy[off + j];
              sum_d += d;
              sum_dxhat += (double) d * ((x[off + j] - mf) * is);
            }
        }
      dgamma[c] = (float) sum_dxhat;
      dbeta[c] = (float) sum_d;
      const float k1 = gamma[c] * is;
      const float mean_d = (float) (sum_d / m), mean_dxhat = (float) (sum_dxhat / m);
      for (int i = 0; i < n; i++)
        {
          const size_t off = ((size_t) i * C + c) * P;
          for (size_t j = 0; j < P; j++)
            {
              float d = (relu && y[off + j] <= 0.0f) ? 0.0f : dy[off + j];
              float xhat = (x[off + j] - mf) * is;
              dx[off + j] = k1 * (d - mean_d - xhat * mean_dxhat);
            }
        }
    }
}

/* ------------------------------------------------------------------ dense */

void
cl_dense_forward (const ClDense *dense, const float *w, const float *x, int n, float *y)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, dense->out, dense->in, 1.0f, x, dense->in, w,
               dense->in, 0.0f, y, dense->out);
}

void
cl_dense_backward (const ClDense *dense, const float *w, const float *x, const float *dy, int n, float *dw,
                   float *dx)
{
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, dense->out, dense->in, n, 1.0f, dy, dense->out, x,
               dense->in, 0.0f, dw, dense->in);
  if (dx)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dense->in, dense->out, 1.0f, dy, dense->out, w,
                 dense->in, 0.0f, dx, dense->in);
}

/* ------------------------------------------------------------------ relu */

void
cl_relu_forward (const float *x, size_t count, float *y)
{
  for (size_t i = 0; i < count; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
cl_relu_backward (const float *y, const float *dy, size_t count, float *dx)
{
  for (size_t i = 0; i < count; i++)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
