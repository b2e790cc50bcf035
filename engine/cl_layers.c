#include "engine/cl_layers.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ thread team
 * Workers sleep on a condition variable between jobs: OpenMP's and OpenBLAS's spinning workers
 * collapsed when other processes shared the two cores. A job runs as `parts` calls fn (arg, part,
 * parts), part 0 on the calling thread. Which part does what depends only on `parts`, so results
 * are bit-reproducible for a given thread count. Concurrent callers (two models on two threads)
 * are serialised by dispatch_lock rather than interleaved. */
typedef void (*ClTeamFn) (void *arg, int part, int parts);

static struct {
  pthread_mutex_t lock, dispatch_lock;
  pthread_cond_t go, done;
  int threads;   /* parts per job, 1..CL_LAYERS_MAX_THREADS */
  int started;   /* workers created (they are never joined: they live as long as the process) */
  unsigned gen;  /* bumped per job */
  int pending;   /* workers still running the current job */
  int parts;     /* of the current job */
  ClTeamFn fn;
  void *arg;
  unsigned start_gen[CL_LAYERS_MAX_THREADS]; /* gen when each worker was created: jobs after it are its */
} team = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           1, 0, 0, 0, 1, NULL, NULL, { 0 } };

static void *
team_worker (void *data)
{
  const int part = (int) (intptr_t) data;
  pthread_mutex_lock (&team.lock);
  unsigned seen = team.start_gen[part];
  for (;;)
    {
      while (team.gen == seen)
        pthread_cond_wait (&team.go, &team.lock);
      seen = team.gen;
      if (part >= team.parts)
        continue;
      ClTeamFn fn = team.fn;
      void *arg = team.arg;
      const int parts = team.parts;
      pthread_mutex_unlock (&team.lock);
      fn (arg, part, parts);
      pthread_mutex_lock (&team.lock);
      if (--team.pending == 0)
        pthread_cond_signal (&team.done);
    }
  return NULL;
}

void
cl_layers_set_threads (int threads)
{
  threads = CLAMP (threads, 1, CL_LAYERS_MAX_THREADS);
  pthread_mutex_lock (&team.dispatch_lock);
  pthread_mutex_lock (&team.lock);
  while (team.started < threads - 1)
    {
      pthread_t tid;
      team.start_gen[team.started + 1] = team.gen;
      if (pthread_create (&tid, NULL, team_worker, (void *) (intptr_t) (team.started + 1)) != 0)
        break; /* fewer threads then; results stay correct */
      pthread_detach (tid);
      team.started++;
    }
  team.threads = MIN (threads, team.started + 1);
  pthread_mutex_unlock (&team.lock);
  pthread_mutex_unlock (&team.dispatch_lock);
}

int
cl_layers_get_threads (void)
{
  pthread_mutex_lock (&team.lock);
  int t = team.threads;
  pthread_mutex_unlock (&team.lock);
  return t;
}

/* Runs fn with `parts` parts (parts <= team.threads, read by the caller beforehand). */
static void
team_run (ClTeamFn fn, void *arg, int parts)
{
  if (parts <= 1)
    {
      fn (arg, 0, 1);
      return;
    }
  pthread_mutex_lock (&team.dispatch_lock);
  pthread_mutex_lock (&team.lock);
  team.fn = fn;
  team.arg = arg;
  team.parts = parts;
  team.pending = parts - 1;
  team.gen++;
  pthread_cond_broadcast (&team.go);
  pthread_mutex_unlock (&team.lock);
  fn (arg, 0, parts);
  pthread_mutex_lock (&team.lock);
  while (team.pending > 0)
    pthread_cond_wait (&team.done, &team.lock);
  pthread_mutex_unlock (&team.lock);
  pthread_mutex_unlock (&team.dispatch_lock);
}

/* The thread count a job starts with: the current setting, read once so a concurrent
 * cl_layers_set_threads cannot change it mid-job. */
static int
team_parts (void)
{
  return cl_layers_get_threads ();
}

/* Columns per im2col block: ~512 KiB, so col, dcol and the GEMM panels stay in L2. */
#define CL_CONV_COL_TARGET_FLOATS (128 * 1024)
#define CL_CONV_MAX_CHUNK 4096

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

/* With t threads each takes blocks of MAX (1, chunk / t) samples, so t blocks fit in MAX (chunk, t). */
size_t
cl_conv2d_col_floats (const ClConv2d *conv)
{
  return (size_t) conv->in_c * conv->k * conv->k * MAX (conv->chunk, CL_LAYERS_MAX_THREADS) * conv->out_h
         * conv->out_w;
}

/* The threads' output blocks (up to in_c times longer with one active channel), then a
 * kernel-gradient partial per extra thread. */
size_t
cl_conv2d_tmp_floats (const ClConv2d *conv)
{
  const size_t grown = MIN ((size_t) conv->chunk * conv->in_c, CL_CONV_MAX_CHUNK);
  return (size_t) conv->out_c * MAX (grown, CL_LAYERS_MAX_THREADS) * conv->out_h * conv->out_w
         + (size_t) (CL_LAYERS_MAX_THREADS - 1) * cl_conv2d_num_weights (conv);
}

double
cl_conv2d_macs (const ClConv2d *conv)
{
  return (double) cl_conv2d_num_weights (conv) * conv->out_h * conv->out_w;
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

typedef struct {
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
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, out_c, cols, Ka, 1.0f, job->w, K, col, Ka, 0.0f, tmp,
                   cols);
      /* tmp is [out_c][g][P]; NCHW wants [g][out_c][P]. */
      for (int c = 0; c < out_c; c++)
        for (int s = 0; s < g; s++)
          memcpy (job->y + ((size_t) (n0 + s) * out_c + c) * P, tmp + ((size_t) c * g + s) * P, sizeof (float) * P);
    }
}

void
cl_conv2d_forward (const ClConv2d *conv, const float *w, const float *x, int n, float *y, float *col,
                   float *tmp)
{
  const int parts = team_parts (), chunk = conv_part_chunk (conv, parts, TRUE);
  ClConvJob job = { conv, w, x, NULL, n, chunk, y, NULL, NULL, col, NULL, tmp };
  team_run (conv_forward_part, &job, MIN (parts, (n + chunk - 1) / chunk));
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
  float *dw = part == 0 ? job->dw
                        : job->tmp + (size_t) parts * out_c * chunk * P + (size_t) (part - 1) * out_c * K;
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
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, cols, K, out_c, 1.0f, tmp, cols, job->w, K, 0.0f,
                       dcol, K);
          col2im (conv, dcol, g, job->dx + n0 * in_sample);
        }
    }
  if (first)
    for (int o = 0; o < out_c; o++)
      memset (dw + (size_t) o * K, 0, sizeof (float) * Ka);
}

void
cl_conv2d_backward (const ClConv2d *conv, const float *w, const float *x, const float *dy, int n, float *dw,
                    float *dx, float *col, float *dcol, float *tmp)
{
  const int K = conv->in_c * conv->k * conv->k, Ka = conv_active (conv) * conv->k * conv->k;
  const int out_c = conv->out_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;

  /* Inactive channels see zero input, so their kernel gradient is exactly zero. */
  if (Ka < K)
    for (int o = 0; o < out_c; o++)
      memset (dw + (size_t) o * K + Ka, 0, sizeof (float) * (K - Ka));
  int parts = team_parts ();
  const int chunk = conv_part_chunk (conv, parts, dx == NULL);
  ClConvJob job = { conv, w, x, dy, n, chunk, NULL, dw, dx, col, dcol, tmp };
  parts = MIN (parts, (n + chunk - 1) / chunk);
  team_run (conv_backward_part, &job, parts);
  for (int p = 1; p < parts; p++)
    {
      const float *part_dw = tmp + (size_t) parts * out_c * chunk * P + (size_t) (p - 1) * out_c * K;
      for (int o = 0; o < out_c; o++)
        for (int j = 0; j < Ka; j++)
          dw[(size_t) o * K + j] += part_dw[(size_t) o * K + j];
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

/* The loops below are branch-free and written with independent lanes so the compiler can vectorise
 * them: a data-dependent ReLU branch mispredicts about half the time and used to dominate BN.
 * Partial sums run in float over short stretches (a row of P, or CL_BN_ROWS rows), shifted by a
 * per-channel value from the batch so E[x^2] - E[x]^2 does not cancel, and are gathered in double. */
#define CL_BN_LANES 8
#define CL_BN_TILE 256 /* channels per tile in the [n][C] (P = 1) layout */
#define CL_BN_ROWS 64  /* rows per float partial sum in that layout */

/* max(v, 0) on the bits (GCC turns the float select into a branch at -O2). -0 and negative NaNs
 * give +0. */
static inline float
relu_f (float v)
{
  uint32_t u;
  memcpy (&u, &v, sizeof u);
  u &= ~(uint32_t) ((int32_t) u >> 31);
  memcpy (&v, &u, sizeof v);
  return v;
}

/* d where the ReLU output y passed, else 0. y comes from relu_f, so y > 0 iff its bits are a positive int. */
static inline float
relu_pass (float d, float y)
{
  uint32_t ud, uy;
  memcpy (&ud, &d, sizeof ud);
  memcpy (&uy, &y, sizeof uy);
  ud &= (uint32_t) - (int32_t) ((int32_t) uy > 0);
  memcpy (&d, &ud, sizeof d);
  return d;
}

/* Sum and sum of squares of x[0..P) - shift. */
static void
row_moments (const float *x, size_t P, float shift, double *sum, double *sumsq)
{
  float s[CL_BN_LANES] = { 0 }, q[CL_BN_LANES] = { 0 };
  size_t j = 0;
  for (; j + CL_BN_LANES <= P; j += CL_BN_LANES)
    for (int k = 0; k < CL_BN_LANES; k++)
      {
        float v = x[j + k] - shift;
        s[k] += v;
        q[k] += v * v;
      }
  float st = 0.0f, qt = 0.0f;
  for (; j < P; j++)
    {
      float v = x[j] - shift;
      st += v;
      qt += v * v;
    }
  for (int k = 0; k < CL_BN_LANES; k++)
    {
      st += s[k];
      qt += q[k];
    }
  *sum += st;
  *sumsq += qt;
}

/* Sum of d and of d * (x - mean), d = dy (masked by y > 0 when relu). */
static void
row_grad_sums (const float *x, const float *y, const float *dy, size_t P, float mean, gboolean relu, double *sum_d,
               double *sum_dx)
{
  float s[CL_BN_LANES] = { 0 }, q[CL_BN_LANES] = { 0 };
  size_t j = 0;
  if (relu)
    for (; j + CL_BN_LANES <= P; j += CL_BN_LANES)
      for (int k = 0; k < CL_BN_LANES; k++)
        {
          float d = relu_pass (dy[j + k], y[j + k]);
          s[k] += d;
          q[k] += d * (x[j + k] - mean);
        }
  else
    for (; j + CL_BN_LANES <= P; j += CL_BN_LANES)
      for (int k = 0; k < CL_BN_LANES; k++)
        {
          float d = dy[j + k];
          s[k] += d;
          q[k] += d * (x[j + k] - mean);
        }
  float st = 0.0f, qt = 0.0f;
  for (; j < P; j++)
    {
      float d = relu ? relu_pass (dy[j], y[j]) : dy[j];
      st += d;
      qt += d * (x[j] - mean);
    }
  for (int k = 0; k < CL_BN_LANES; k++)
    {
      st += s[k];
      qt += q[k];
    }
  *sum_d += st;
  *sum_dx += qt;
}

/* From shifted sums over m values to mean and 1/sqrt(var + eps); updates running statistics. */
static void
finish_moments (double sum, double sumsq, double m, float shift, float *mean, float *invstd, float *running_mean,
                float *running_var)
{
  double mu_shifted = sum / m;
  double var = sumsq / m - mu_shifted * mu_shifted;
  if (var < 0.0)
    var = 0.0;
  double mu = shift + mu_shifted;
  *mean = (float) mu;
  *invstd = (float) (1.0 / sqrt (var + CL_BN_EPS));
  if (running_mean && running_var)
    {
      double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
      *running_mean = (1.0f - CL_BN_MOMENTUM) * *running_mean + CL_BN_MOMENTUM * (float) mu;
      *running_var = (1.0f - CL_BN_MOMENTUM) * *running_var + CL_BN_MOMENTUM * (float) unbiased;
    }
}

/* y = gamma * (x - mean) * invstd + beta (then ReLU), channel by channel, for channels [c_lo, c_hi)
 * when P > 1 (all of them when P == 1). */
static void
normalize (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta, const float *mean,
           const float *invstd, float *y, gboolean relu, int c_lo, int c_hi)
{
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
  if (P == 1)
    {
      for (int i = 0; i < n; i++)
        {
          const float *xr = x + (size_t) i * C;
          float *yr = y + (size_t) i * C;
          if (relu)
            for (int c = 0; c < C; c++)
              {
                float v = gamma[c] * invstd[c] * (xr[c] - mean[c]) + beta[c];
                yr[c] = relu_f (v);
              }
          else
            for (int c = 0; c < C; c++)
              yr[c] = gamma[c] * invstd[c] * (xr[c] - mean[c]) + beta[c];
        }
      return;
    }
  for (int c = c_lo; c < c_hi; c++)
    {
      const float mf = mean[c], a = gamma[c] * invstd[c], b = beta[c];
      for (int i = 0; i < n; i++)
        {
          const float *xp = x + ((size_t) i * C + c) * P;
          float *yp = y + ((size_t) i * C + c) * P;
          size_t j = 0;
          if (relu)
            {
              for (; j + CL_BN_LANES <= P; j += CL_BN_LANES)
                for (int k = 0; k < CL_BN_LANES; k++)
                  yp[j + k] = relu_f (a * (xp[j + k] - mf) + b);
              for (; j < P; j++)
                yp[j] = relu_f (a * (xp[j] - mf) + b);
            }
          else
            for (; j < P; j++)
              yp[j] = a * (xp[j] - mf) + b;
        }
    }
}

typedef struct {
  const ClBatchNorm *bn;
  const float *x, *y_in, *dy;
  int n;
  const float *gamma, *beta;
  float *y, *mean, *invstd, *running_mean, *running_var;
  float *dx, *dgamma, *dbeta;
  gboolean relu;
} BnJob;

/* Channels of part `part` of `parts`: contiguous, fixed by the counts. */
static void
bn_part_range (int C, int part, int parts, int *lo, int *hi)
{
  *lo = (int) ((long) C * part / parts);
  *hi = (int) ((long) C * (part + 1) / parts);
}

/* Training forward of the [n][C][P] layout (P > 1) over a range of channels. */
static void
bn_forward_part (void *arg, int part, int parts)
{
  const BnJob *job = arg;
  const ClBatchNorm *bn = job->bn;
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
  const double m = (double) job->n * P;
  const float *x = job->x;
  int lo, hi;
  bn_part_range (C, part, parts, &lo, &hi);
  for (int c = lo; c < hi; c++)
    {
      const float shift = x[(size_t) c * P];
      double sum = 0.0, sumsq = 0.0;
      for (int i = 0; i < job->n; i++)
        row_moments (x + ((size_t) i * C + c) * P, P, shift, &sum, &sumsq);
      finish_moments (sum, sumsq, m, shift, &job->mean[c], &job->invstd[c],
                      job->running_mean ? &job->running_mean[c] : NULL, job->running_var ? &job->running_var[c] : NULL);
    }
  normalize (bn, x, job->n, job->gamma, job->beta, job->mean, job->invstd, job->y, job->relu, lo, hi);
}

void
cl_batchnorm_forward_train (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta,
                            float *y, float *mean, float *invstd, float *running_mean, float *running_var,
                            gboolean relu)
{
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
  const double m = (double) n * P;

  if (P == 1)
    {
      /* [n][C]: walk rows, channels innermost, in tiles so the accumulators stay on the stack. */
      for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
        {
          const int cw = MIN (CL_BN_TILE, C - c0);
          double sum[CL_BN_TILE] = { 0 }, sumsq[CL_BN_TILE] = { 0 };
          float shift[CL_BN_TILE], s[CL_BN_TILE], q[CL_BN_TILE];
          memcpy (shift, x + c0, sizeof (float) * cw);
          for (int i0 = 0; i0 < n; i0 += CL_BN_ROWS)
            {
              memset (s, 0, sizeof s);
              memset (q, 0, sizeof q);
              for (int i = i0; i < MIN (n, i0 + CL_BN_ROWS); i++)
                {
                  const float *xr = x + (size_t) i * C + c0;
                  for (int c = 0; c < cw; c++)
                    {
                      float v = xr[c] - shift[c];
                      s[c] += v;
                      q[c] += v * v;
                    }
                }
              for (int c = 0; c < cw; c++)
                {
                  sum[c] += s[c];
                  sumsq[c] += q[c];
                }
            }
          for (int c = 0; c < cw; c++)
            finish_moments (sum[c], sumsq[c], m, shift[c], &mean[c0 + c], &invstd[c0 + c],
                            running_mean ? &running_mean[c0 + c] : NULL, running_var ? &running_var[c0 + c] : NULL);
        }
    }
  else
    {
      BnJob job = { bn, x, NULL, NULL, n, gamma, beta, y, mean, invstd, running_mean, running_var, NULL, NULL, NULL,
                    relu };
      team_run (bn_forward_part, &job, MIN (team_parts (), C));
      return;
    }
  normalize (bn, x, n, gamma, beta, mean, invstd, y, relu, 0, C);
}

void
cl_batchnorm_forward_eval (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta,
                           const float *running_mean, const float *running_var, float *y, gboolean relu)
{
  /* Per-channel 1/sqrt(var + eps) computed on the fly keeps this free of scratch memory. */
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
  if (P == 1)
    {
      for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
        {
          const int cw = MIN (CL_BN_TILE, C - c0);
          float a[CL_BN_TILE];
          for (int c = 0; c < cw; c++)
            a[c] = (float) (1.0 / sqrt ((double) running_var[c0 + c] + CL_BN_EPS));
          for (int i = 0; i < n; i++)
            {
              const float *xr = x + (size_t) i * C + c0;
              float *yr = y + (size_t) i * C + c0;
              for (int c = 0; c < cw; c++)
                {
                  float v = gamma[c0 + c] * a[c] * (xr[c] - running_mean[c0 + c]) + beta[c0 + c];
                  yr[c] = relu ? relu_f (v) : v;
                }
            }
        }
      return;
    }
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
              yp[j] = relu ? relu_f (v) : v;
            }
        }
    }
}

/* Backward of the [n][C][P] layout (P > 1) over a range of channels. */
static void
bn_backward_part (void *arg, int part, int parts)
{
  const BnJob *job = arg;
  const ClBatchNorm *bn = job->bn;
  const int C = bn->channels, n = job->n;
  const size_t P = (size_t) bn->spatial;
  const double m = (double) n * P;
  const float *x = job->x, *y = job->y_in, *dy = job->dy, *gamma = job->gamma, *mean = job->mean;
  const float *invstd = job->invstd;
  float *dx = job->dx, *dgamma = job->dgamma, *dbeta = job->dbeta;
  const gboolean relu = job->relu;
  int lo, hi;
  bn_part_range (C, part, parts, &lo, &hi);
  for (int c = lo; c < hi; c++)
    {
      const float mf = mean[c], is = invstd[c];
      double sum_d = 0.0, sum_dx = 0.0;
      for (int i = 0; i < n; i++)
        {
          const size_t off = ((size_t) i * C + c) * P;
          row_grad_sums (x + off, relu ? y + off : NULL, dy + off, P, mf, relu, &sum_d, &sum_dx);
        }
      dgamma[c] = (float) (sum_dx * is);
      dbeta[c] = (float) sum_d;
      const float k1 = gamma[c] * is;
      const float k0 = (float) (k1 * sum_d / m);
      const float k2 = (float) (k1 * is * is * sum_dx / m);
      for (int i = 0; i < n; i++)
        {
          const size_t off = ((size_t) i * C + c) * P;
          const float *xp = x + off, *dyp = dy + off;
          float *dxp = dx + off;
          if (relu)
            {
              const float *yp = y + off;
              size_t j = 0;
              for (; j + CL_BN_LANES <= P; j += CL_BN_LANES)
                for (int k = 0; k < CL_BN_LANES; k++)
                  dxp[j + k] = k1 * relu_pass (dyp[j + k], yp[j + k]) - k0 - k2 * (xp[j + k] - mf);
              for (; j < P; j++)
                dxp[j] = k1 * relu_pass (dyp[j], yp[j]) - k0 - k2 * (xp[j] - mf);
            }
          else
            for (size_t j = 0; j < P; j++)
              dxp[j] = k1 * dyp[j] - k0 - k2 * (xp[j] - mf);
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

  /* dx = k1 (d - mean(d) - xhat mean(d xhat)) = k1 d - k0 - k2 (x - mean), with k1 = gamma invstd,
   * k0 = k1 mean(d), k2 = k1 invstd^2 mean(d (x - mean)). */
  if (P == 1)
    {
      for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
        {
          const int cw = MIN (CL_BN_TILE, C - c0);
          double sum_d[CL_BN_TILE] = { 0 }, sum_dx[CL_BN_TILE] = { 0 };
          float s[CL_BN_TILE], q[CL_BN_TILE], k0[CL_BN_TILE], k1[CL_BN_TILE], k2[CL_BN_TILE];
          for (int i0 = 0; i0 < n; i0 += CL_BN_ROWS)
            {
              memset (s, 0, sizeof s);
              memset (q, 0, sizeof q);
              for (int i = i0; i < MIN (n, i0 + CL_BN_ROWS); i++)
                {
                  const size_t off = (size_t) i * C + c0;
                  for (int c = 0; c < cw; c++)
                    {
                      float d = relu ? relu_pass (dy[off + c], y[off + c]) : dy[off + c];
                      s[c] += d;
                      q[c] += d * (x[off + c] - mean[c0 + c]);
                    }
                }
              for (int c = 0; c < cw; c++)
                {
                  sum_d[c] += s[c];
                  sum_dx[c] += q[c];
                }
            }
          for (int c = 0; c < cw; c++)
            {
              const float is = invstd[c0 + c];
              dgamma[c0 + c] = (float) (sum_dx[c] * is);
              dbeta[c0 + c] = (float) sum_d[c];
              k1[c] = gamma[c0 + c] * is;
              k0[c] = (float) (k1[c] * sum_d[c] / m);
              k2[c] = (float) (k1[c] * is * is * sum_dx[c] / m);
            }
          for (int i = 0; i < n; i++)
            {
              const size_t off = (size_t) i * C + c0;
              for (int c = 0; c < cw; c++)
                {
                  float d = relu ? relu_pass (dy[off + c], y[off + c]) : dy[off + c];
                  dx[off + c] = k1[c] * d - k0[c] - k2[c] * (x[off + c] - mean[c0 + c]);
                }
            }
        }
      return;
    }

  BnJob job = { bn, x, y, dy, n, gamma, NULL, NULL, (float *) mean, (float *) invstd, NULL, NULL, dx, dgamma, dbeta,
                relu };
  team_run (bn_backward_part, &job, MIN (team_parts (), C));
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
