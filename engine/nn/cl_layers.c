#include "engine/nn/cl_layers.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

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

/* ------------------------------------------------------------------ thread team
 * Workers sleep on a condition variable between jobs: OpenMP's and OpenBLAS's spinning workers
 * collapsed when other processes shared the two cores. A job is a number of independent items;
 * the caller and the workers claim them one at a time under the lock until none is left, so a
 * thread that another process keeps off its core simply claims fewer, and the caller never waits
 * for a worker that has not started (only for items already claimed). What an item computes
 * depends only on its index, never on the thread that runs it, so results do not depend on the
 * thread count. Concurrent callers (two models on two threads) are serialised by dispatch_lock. */
typedef void (*ClTeamItemFn) (void *arg, int item, int thread);

static struct {
  pthread_mutex_t lock, dispatch_lock;
  pthread_cond_t go, done;
  int threads;  /* threads per job, caller included: 1..CL_LAYERS_MAX_THREADS */
  int started;  /* workers created (they are never joined: they live as long as the process) */
  unsigned gen; /* bumped per job, to wake the workers */
  ClTeamItemFn fn;
  void *arg;
  int items, next, finished; /* of the current job; items = 0 between jobs */
} team = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           1, 0, 0, NULL, NULL, 0, 0, 0 };

/* Claims and runs items of the current job until none is left. Called and returns with the lock held. */
static void
team_work_locked (int thread)
{
  while (team.next < team.items)
    {
      const int item = team.next++;
      ClTeamItemFn fn = team.fn;
      void *arg = team.arg;
      pthread_mutex_unlock (&team.lock);
      fn (arg, item, thread);
      pthread_mutex_lock (&team.lock);
      if (++team.finished == team.items)
        pthread_cond_signal (&team.done);
    }
}

static int compute_nice; /* atomic */

void
cl_layers_set_compute_nice (int nice)
{
  g_atomic_int_set (&compute_nice, CLAMP (nice, 0, 19));
}

void
cl_layers_apply_compute_nice (void)
{
#ifdef __linux__
  const int nice = g_atomic_int_get (&compute_nice);
  /* On Linux the nice value is per thread when set by thread id. Raising it needs no privilege;
   * a failure only means the thread keeps its priority. */
  if (nice > 0)
    (void) setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), nice);
#endif
}

static void *
team_worker (void *data)
{
  const int thread = (int) (intptr_t) data;
  cl_layers_apply_compute_nice ();
  pthread_mutex_lock (&team.lock);
  unsigned seen = team.gen;
  for (;;)
    {
      while (team.gen == seen)
        pthread_cond_wait (&team.go, &team.lock);
      seen = team.gen;
      /* Workers beyond the current thread count stay out (the count may have been lowered). */
      if (thread < team.threads)
        team_work_locked (thread);
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
      if (pthread_create (&tid, NULL, team_worker, (void *) (intptr_t) (team.started + 1)) != 0)
        break; /* fewer threads then; results stay the same */
      pthread_detach (tid);
      team.started++;
    }
  team.threads = MIN (threads, team.started + 1);
  pthread_mutex_unlock (&team.lock);
  pthread_mutex_unlock (&team.dispatch_lock);
}

/* OpenBLAS's own declaration lives in its cblas.h; repeated so a netlib cblas.h also builds. */
extern void openblas_set_num_threads (int num_threads);

void
cl_layers_use_threads (int threads)
{
  openblas_set_num_threads (1);
  cl_layers_set_threads (threads);
}

int
cl_layers_get_threads (void)
{
  pthread_mutex_lock (&team.lock);
  int t = team.threads;
  pthread_mutex_unlock (&team.lock);
  return t;
}

/* Runs fn (arg, item, thread) for item 0..items-1 over the team; thread (0 = the caller) tells
 * which per-thread scratch to use. */
static void
team_for (ClTeamItemFn fn, void *arg, int items)
{
  if (items <= 0)
    return;
  if (items == 1 || cl_layers_get_threads () <= 1)
    {
      for (int i = 0; i < items; i++)
        fn (arg, i, 0);
      return;
    }
  pthread_mutex_lock (&team.dispatch_lock);
  pthread_mutex_lock (&team.lock);
  team.fn = fn;
  team.arg = arg;
  team.items = items;
  team.next = 0;
  team.finished = 0;
  team.gen++;
  pthread_cond_broadcast (&team.go);
  team_work_locked (0);
  while (team.finished < team.items)
    pthread_cond_wait (&team.done, &team.lock);
  /* A worker waking only now finds nothing to claim and never touches arg. */
  team.items = team.next = team.finished = 0;
  team.fn = NULL;
  team.arg = NULL;
  pthread_mutex_unlock (&team.lock);
  pthread_mutex_unlock (&team.dispatch_lock);
}

/* The NCHW kernels split their work into `parts` fixed parts: fn (arg, part, parts). */
typedef void (*ClTeamFn) (void *arg, int part, int parts);
typedef struct {
  ClTeamFn fn;
  void *arg;
  int parts;
} TeamParts;

static void
team_parts_item (void *arg, int item, int thread)
{
  (void) thread;
  const TeamParts *tp = arg;
  tp->fn (tp->arg, item, tp->parts);
}

static void
team_run (ClTeamFn fn, void *arg, int parts)
{
  TeamParts tp = { fn, arg, MAX (parts, 1) };
  team_for (team_parts_item, &tp, tp.parts);
}

/* The thread count a job starts with: the current setting, read once so a concurrent
 * cl_layers_set_threads cannot change it mid-job. */
static int
team_parts (void)
{
  return cl_layers_get_threads ();
}

/* Columns per im2col block: ~512 KiB, so col, dcol and the GEMM panels stay in L2. */
#ifndef CL_CONV_COL_TARGET_FLOATS
#define CL_CONV_COL_TARGET_FLOATS (128 * 1024)
#endif
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

/* ------------------------------------------------------------------ conv2d, channels last */

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

/* The NHWC scratch, in floats from its start. Per thread: a column block (im2col, or the SIMD
 * kernels' zero-filled copies of patch rows that cross the padding), a second one for dcol, and a
 * table of patch-row pointers. Shared: the lanes' kernel-gradient partials, the kernel packed in
 * tiles of 16 output channels, and a run of zeros. Regions start on 64-byte boundaries. */
#define CL_SIMD_TILE_O 16
typedef struct {
  size_t col, dcol, ptab, dyb; /* first thread's; the next thread's follows after `per_thread` */
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
  l->per_thread = 2 * col + ptab + dyb;
  l->lanes = CL_LAYERS_MAX_THREADS * l->per_thread;
  l->packed = l->lanes + round16 ((size_t) CL_LAYERS_LANES * cl_conv2d_num_weights (conv));
  l->zeros = l->packed + round16 ((size_t) (conv->out_c + CL_SIMD_TILE_O - 1) / CL_SIMD_TILE_O * CL_SIMD_TILE_O * K);
  l->total = l->zeros + round16 (run);
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

/* ---- SIMD kernels (x86-64 with AVX2 and FMA, chosen at run time): implicit GEMM, reading patch
 * rows straight from the NHWC input through a pointer table instead of building columns.
 * Every output element is one chain of fused multiply-adds in a fixed order (kernel row, then
 * position in the row), whichever tile or thread computes it. */

/* How the kernels see a pixel's K = k*k*C inputs: nseg runs of seg contiguous floats. With enough
 * channels these are the k patch rows, read in place; with few (a patch row of fewer than 16 floats,
 * e.g. conv1 on one image plane) the block is im2col'd first and each pixel is one run of K, so the
 * kernels' inner loops are not all loop overhead. */
typedef struct {
  int nseg, seg;
} RowShape;

#define CL_SIMD_MIN_RUN 16

static RowShape
row_shape (const ClConv2d *conv)
{
  const int run = conv->k * conv->in_c;
  return run < CL_SIMD_MIN_RUN ? (RowShape){ 1, conv->k * run } : (RowShape){ conv->k, run };
}

/* Where each run of the g samples at x starts: ptab[q * nseg + i] for output pixel q of the block.
 * Patch rows in the padding point to zeros; rows that cross the left or right padding are copied,
 * zero-filled, into stage (at most the size of an im2col block, which the one-run shape uses). */
CL_INLINE_COPIES static void
build_row_table (const ClConv2d *conv, const float *x, int g, const float **ptab, float *stage, const float *zeros)
{
  const RowShape sh = row_shape (conv);
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
  const RowShape sh = row_shape (conv);
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
  if (row_shape (conv).nseg == 1)
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CL_HAVE_SIMD 1
#define CL_SIMD __attribute__ ((target ("avx2,fma")))

/* y rows [rows][O] of one block: tiles of 6 output pixels x 16 output channels held in 12
 * registers, each fed by broadcasts from the 6 pixels' runs and two loads of the packed kernel.
 * With ep (evaluation BatchNorm), y = max(0, scale * (conv - mean) + shift) as the tile is stored,
 * the same float operations as cl_batchnorm_forward_eval. */
typedef struct {
  const float *scale, *mean, *shift; /* [O] */
} ConvEpilogue;

CL_SIMD static void
conv_forward_block_simd (const ClConv2d *conv, const float *packed, const float *const *ptab, int rows, float *y,
                         const float *zeros, const ConvEpilogue *ep)
{
  const RowShape sh = row_shape (conv);
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

/* Pixels per pass of the kernel-gradient kernel: their dy stripe and patch-row pieces should stay
 * in L1. Patch rows of neighbouring pixels lie stride * C floats apart, often a power of two, so
 * they compete for a few of L1's 64 sets of 8 lines: passes are cut to about 6 lines per set and
 * the dy stripe is packed so it spreads over all sets. */
#define CL_SIMD_DW_PIXELS 128

static int
dw_pass_pixels (const ClConv2d *conv)
{
  /* Neighbouring pixels' runs: stride * C floats apart in place, K apart after im2col. */
  const long stride_bytes = (long) (row_shape (conv).nseg == 1 ? conv->k * conv->k * conv->in_c
                                                                 : conv->stride * conv->in_c)
                            * (long) sizeof (float);
  long sets = 64;
  if (stride_bytes >= 64 && (stride_bytes & (stride_bytes - 1)) == 0)
    sets = MAX (1, 64 * 64 / stride_bytes);
  return (int) CLAMP (6 * sets, 16, CL_SIMD_DW_PIXELS);
}

/* dwt [K][O] (+)= x-patches^T dy of one block, kernel-column-major so that a tile of 16 output
 * channels (two loads of a dy row) x 6 kernel columns (broadcasts from the patch row) loads and
 * stores whole vectors. Each element's sum runs over the block's pixels in order, continuing from
 * the stored partial (from zero when `first`). */
CL_SIMD static void
conv_dw_block_simd (const ClConv2d *conv, const float *const *ptab, const float *dy, int rows, float *dwt,
                    gboolean first)
{
  const RowShape sh = row_shape (conv);
  const int k = sh.nseg, run = sh.seg, O = conv->out_c, pass = dw_pass_pixels (conv);
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
                float *t[6] = { t0, t0 + (size_t) c1 * O, t0 + (size_t) c2 * O, t0 + (size_t) c3 * O,
                                t0 + (size_t) c4 * O, t0 + (size_t) c5 * O };
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
conv_dx_block_simd (const ClConv2d *conv, const float *wp, float *const *dtab, const float *dy, int rows)
{
  const RowShape sh = row_shape (conv);
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
                    _mm256_maskstore_ps (dst + 8, m1,
                                         _mm256_add_ps (_mm256_maskload_ps (dst + 8, m1), acc[2 * r + 1]));
                  }
              }
          }
      }
}

static gboolean
simd_supported (void)
{
  static int supported = -1;
  int s = g_atomic_int_get (&supported);
  if (s < 0)
    {
      __builtin_cpu_init ();
      s = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
      g_atomic_int_set (&supported, s);
    }
  return s;
}
#else
#define CL_HAVE_SIMD 0
static gboolean
simd_supported (void)
{
  return FALSE;
}
#endif

static int simd_wanted = 1;

gboolean
cl_layers_simd_available (void)
{
  return simd_supported ();
}

void
cl_layers_set_simd (gboolean enabled)
{
  g_atomic_int_set (&simd_wanted, enabled ? 1 : 0);
}

gboolean
cl_layers_get_simd (void)
{
  return g_atomic_int_get (&simd_wanted) && simd_supported ();
}

typedef struct {
  const ClConv2d *conv;
  const float *wp, *x, *dy;
  int n;
  float *y, *dx, *scratch;
  NhwcScratch l;
  gboolean simd;
  const ConvEpilogue *ep;
  const ClBnReluGrad *bng; /* backward: dy comes from this BatchNorm + ReLU, block by block */
} NhwcJob;

static void
nhwc_forward_item (void *arg, int b, int thread)
{
  const NhwcJob *job = arg;
  const ClConv2d *conv = job->conv;
  const int chunk = conv->chunk, out_c = conv->out_c, K = conv->k * conv->k * conv->in_c;
  const size_t P = (size_t) conv->out_h * conv->out_w;
  const size_t in_sample = (size_t) conv->in_h * conv->in_w * conv->in_c;
  float *own = job->scratch + (size_t) thread * job->l.per_thread;
  float *col = own + job->l.col;
  const int n0 = b * chunk, g = MIN (chunk, job->n - n0), rows = g * (int) P;
  float *y = job->y + (size_t) n0 * P * out_c;
#if CL_HAVE_SIMD
  if (job->simd)
    {
      const float **ptab = (const float **) (own + job->l.ptab);
      const float *zeros = job->scratch + job->l.zeros;
      build_row_table (conv, job->x + n0 * in_sample, g, ptab, col, zeros);
      conv_forward_block_simd (conv, job->scratch + job->l.packed, ptab, rows, y, zeros, job->ep);
      return;
    }
#endif
  im2col_nhwc (conv, job->x + n0 * in_sample, g, col);
  /* y rows [rows][out_c] = col [rows][K] wp^T: the block's output, already in NHWC order. */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, out_c, K, 1.0f, col, K, job->wp, K, 0.0f, y, out_c);
  if (job->ep)
    for (int r = 0; r < rows; r++)
      {
        float *yr = y + (size_t) r * out_c;
        for (int c = 0; c < out_c; c++)
          yr[c] = relu_f (job->ep->scale[c] * (yr[c] - job->ep->mean[c]) + job->ep->shift[c]);
      }
}

static void
nhwc_job_init (NhwcJob *job, const ClConv2d *conv, const float *wp, const float *x, const float *dy, int n, float *y,
               float *dx, float *scratch)
{
  *job = (NhwcJob){ conv, wp, x, dy, n, y, dx, scratch, { 0 }, cl_layers_get_simd (), NULL, NULL };
  nhwc_scratch_layout (conv, &job->l);
  if (job->simd)
    {
      memset (scratch + job->l.zeros, 0, sizeof (float) * (size_t) conv->k * conv->in_c);
      pack_kernel_tiles (conv, wp, scratch + job->l.packed);
    }
}

void
cl_conv2d_forward_nhwc (const ClConv2d *conv, const float *wp, const float *x, int n, float *y, float *scratch)
{
  NhwcJob job;
  nhwc_job_init (&job, conv, wp, x, NULL, n, y, NULL, scratch);
  team_for (nhwc_forward_item, &job, (n + conv->chunk - 1) / conv->chunk);
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
  const ConvEpilogue ep = { scale, running_mean, beta };
  job.ep = &ep;
  team_for (nhwc_forward_item, &job, (n + conv->chunk - 1) / conv->chunk);
}

/* rows x C values of dy from offset off of the BatchNorm + ReLU gradient: the operations of the
 * second pass of cl_batchnorm_backward. */
static void
bn_relu_grad_rows (const ClBnReluGrad *bg, size_t off, int rows, int C, float *restrict out)
{
  const float *restrict dact = bg->dact + off, *restrict act = bg->act + off, *restrict pre = bg->pre + off;
  const float *restrict k0 = bg->k0, *restrict k1 = bg->k1, *restrict k2 = bg->k2, *restrict mu = bg->mean;
  for (int r = 0; r < rows; r++, dact += C, act += C, pre += C, out += C)
    for (int c = 0; c < C; c++)
      out[c] = k1[c] * relu_pass (dact[c], act[c]) - k0[c] - k2[c] * (pre[c] - mu[c]);
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
        }
#if CL_HAVE_SIMD
      if (job->simd)
        {
          const float **ptab = (const float **) (own + job->l.ptab);
          build_row_table (conv, job->x + n0 * in_sample, g, ptab, col, job->scratch + job->l.zeros);
          conv_dw_block_simd (conv, ptab, dy, rows, dw, b == lane);
          if (job->dx)
            {
              float *dx = job->dx + n0 * in_sample;
              float **dtab = (float **) ptab; /* the kernel gradient is done with it */
              memset (dx, 0, sizeof (float) * g * in_sample);
              build_grad_row_table (conv, dx, g, dtab, dcol);
              conv_dx_block_simd (conv, job->wp, dtab, dy, rows);
              flush_staged_rows (conv, dx, g, dcol);
            }
          continue;
        }
#endif
      im2col_nhwc (conv, job->x + n0 * in_sample, g, col);
      /* dw [out_c][K] (+)= dy^T [out_c][rows] col [rows][K] */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, out_c, K, rows, 1.0f, dy, out_c, col, K,
                   b == lane ? 0.0f : 1.0f, dw, K);
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
  team_for (nhwc_backward_item, job, lanes);
  const size_t nw = cl_conv2d_num_weights (conv);
  float *partial = scratch + job->l.lanes;
  for (int l = 1; l < lanes; l++)
    for (size_t i = 0; i < nw; i++)
      partial[i] += partial[l * nw + i];
  if (!job->simd)
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
  nhwc_backward_run (&job, dwp);
}

typedef struct {
  const float *src;
  int n, c_src, c, P;
  float *dst;
} LayoutJob;

#define CL_LAYOUT_SAMPLES 32

/* Eight pixels at a time: each channel row gives 8 floats that land c apart in a block the
 * writes then fill contiguously (the transposed loops cost 1.7x more). */
static void
nchw_to_nhwc_item (void *arg, int item, int thread)
{
  (void) thread;
  const LayoutJob *job = arg;
  const int c = job->c, P = job->P;
  const int s_end = MIN (job->n, (item + 1) * CL_LAYOUT_SAMPLES);
  for (int s = item * CL_LAYOUT_SAMPLES; s < s_end; s++)
    {
      const float *xs = job->src + (size_t) s * job->c_src * P;
      float *ys = job->dst + (size_t) s * P * c;
      if (c == 1)
        {
          memcpy (ys, xs, sizeof (float) * P);
          continue;
        }
      int p0 = 0;
      for (; p0 + 8 <= P; p0 += 8)
        {
          float *out = ys + (size_t) p0 * c;
          for (int ch = 0; ch < c; ch++)
            {
              const float *r = xs + (size_t) ch * P + p0;
              out[ch] = r[0];
              out[c + ch] = r[1];
              out[2 * c + ch] = r[2];
              out[3 * c + ch] = r[3];
              out[4 * c + ch] = r[4];
              out[5 * c + ch] = r[5];
              out[6 * c + ch] = r[6];
              out[7 * c + ch] = r[7];
            }
        }
      for (; p0 < P; p0++)
        for (int ch = 0; ch < c; ch++)
          ys[(size_t) p0 * c + ch] = xs[(size_t) ch * P + p0];
    }
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
cl_nchw_to_nhwc (const float *src, int n, int c_src, int c, int P, float *dst)
{
  LayoutJob job = { src, n, c_src, c, P, dst };
  team_for (nchw_to_nhwc_item, &job, (n + CL_LAYOUT_SAMPLES - 1) / CL_LAYOUT_SAMPLES);
}

void
cl_nhwc_to_nchw (const float *src, int n, int c, int P, float *dst)
{
  enum { TILE = 64 };
  for (int s = 0; s < n; s++)
    {
      const float *xs = src + (size_t) s * P * c;
      float *ys = dst + (size_t) s * c * P;
      if (c == 1)
        {
          memcpy (ys, xs, sizeof (float) * P);
          continue;
        }
      for (int p0 = 0; p0 < P; p0 += TILE)
        {
          const int pe = MIN (P, p0 + TILE);
          for (int ch = 0; ch < c; ch++)
            {
              float *row = ys + (size_t) ch * P;
              for (int p = p0; p < pe; p++)
                row[p] = xs[(size_t) p * c + ch];
            }
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

/* y = gamma * (x - mean) * invstd + beta (then ReLU) for channels [c_lo, c_hi) of the [n][C][P]
 * layout (P > 1; the [rows][C] layout has its own passes below). */
static void
normalize (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta, const float *mean,
           const float *invstd, float *y, gboolean relu, int c_lo, int c_hi)
{
  const int C = bn->channels;
  const size_t P = (size_t) bn->spatial;
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
  float *k0, *k1, *k2; /* backward: the coefficients, when asked for ([C] each) */
} BnJob;

/* Channels of part `part` of `parts`: contiguous, fixed by the counts. */
static void
bn_part_range (int C, int part, int parts, int *lo, int *hi)
{
  *lo = (int) ((long) C * part / parts);
  *hi = (int) ((long) C * (part + 1) / parts);
}

/* The [rows][C] layout (spatial 1: BatchNorm1d, and conv maps stored channels-last). Threads split
 * the rows, never the channels, so each streams whole rows and no two write the same cache line
 * (splitting channels cost more than it saved: a thread read one line of every four and wrote
 * lines its neighbour wrote too). Sums over rows go in blocks of CL_BN_ROWS rows: a block's float
 * partial is added, in double, to its lane (the lanes cut the blocks into CL_BN_SUM_LANES runs of
 * consecutive blocks), and the lanes are added in order; elementwise passes take chunks of rows. Which thread does what does not change a
 * bit of the result. Channels go in tiles of CL_BN_TILE so the per-lane sums fit on the stack. */
#define CL_BN_SUM_LANES 8
#define CL_BN_CHUNK_ROWS 4096
/* Below this many values the team costs more to wake than it saves. */
#define CL_BN_MIN_PARALLEL 65536

typedef struct {
  const BnJob *job;
  int c0, cw; /* the channel tile */
  gboolean backward;
  float shift[CL_BN_TILE]; /* forward: subtracted before squaring, so E[x^2] - E[x]^2 does not cancel */
  double sum[CL_BN_SUM_LANES][CL_BN_TILE], sq[CL_BN_SUM_LANES][CL_BN_TILE];
  float a[CL_BN_TILE], b[CL_BN_TILE], mu[CL_BN_TILE]; /* elementwise: y = a (x - mu) + b */
  float k0[CL_BN_TILE], k1[CL_BN_TILE], k2[CL_BN_TILE]; /* backward elementwise */
} BnTileJob;

static int
bn_items (const BnJob *job, int items)
{
  return (long) job->n * job->bn->channels < CL_BN_MIN_PARALLEL ? 1 : items;
}

/* Forward: sums of x - shift and its square. Backward: sums of d and d (x - mean), d = dy masked
 * by y > 0 when relu. Lane `lane` of the tile. With one item (a small layer) it does every lane. */
static void
bn_tile_sums_item (void *arg, int item, int thread)
{
  (void) thread;
  BnTileJob *tj = arg;
  const BnJob *job = tj->job;
  const int C = job->bn->channels, n = job->n, cw = tj->cw;
  const int blocks = (n + CL_BN_ROWS - 1) / CL_BN_ROWS;
  const int lane_lo = bn_items (job, 2) == 1 ? 0 : item, lane_hi = bn_items (job, 2) == 1 ? CL_BN_SUM_LANES : item + 1;
  for (int lane = lane_lo; lane < lane_hi; lane++)
    for (int blk = (int) ((long) blocks * lane / CL_BN_SUM_LANES);
         blk < (int) ((long) blocks * (lane + 1) / CL_BN_SUM_LANES); blk++)
      {
        float s[CL_BN_TILE] = { 0 }, q[CL_BN_TILE] = { 0 };
        const int i_end = MIN (n, (blk + 1) * CL_BN_ROWS);
        for (int i = blk * CL_BN_ROWS; i < i_end; i++)
          {
            const size_t off = (size_t) i * C + tj->c0;
            const float *xr = job->x + off;
            if (!tj->backward)
              for (int c = 0; c < cw; c++)
                {
                  float v = xr[c] - tj->shift[c];
                  s[c] += v;
                  q[c] += v * v;
                }
            else if (job->relu)
              for (int c = 0; c < cw; c++)
                {
                  float d = relu_pass (job->dy[off + c], job->y_in[off + c]);
                  s[c] += d;
                  q[c] += d * (xr[c] - tj->mu[c]);
                }
            else
              for (int c = 0; c < cw; c++)
                {
                  float d = job->dy[off + c];
                  s[c] += d;
                  q[c] += d * (xr[c] - tj->mu[c]);
                }
          }
        for (int c = 0; c < cw; c++)
          {
            tj->sum[lane][c] += s[c];
            tj->sq[lane][c] += q[c];
          }
      }
}

/* The tile's channels over one chunk of rows: y = a (x - mu) + b (then ReLU), or the backward's
 * dx = k1 d - k0 - k2 (x - mu). */
static void
bn_tile_rows_item (void *arg, int item, int thread)
{
  (void) thread;
  const BnTileJob *tj = arg;
  const BnJob *job = tj->job;
  const int C = job->bn->channels, cw = tj->cw;
  const int r0 = bn_items (job, 2) == 1 ? 0 : item * CL_BN_CHUNK_ROWS;
  const int r1 = bn_items (job, 2) == 1 ? job->n : MIN (job->n, r0 + CL_BN_CHUNK_ROWS);
  for (int i = r0; i < r1; i++)
    {
      const size_t off = (size_t) i * C + tj->c0;
      const float *xr = job->x + off;
      if (!tj->backward)
        {
          float *yr = job->y + off;
          if (job->relu)
            for (int c = 0; c < cw; c++)
              yr[c] = relu_f (tj->a[c] * (xr[c] - tj->mu[c]) + tj->b[c]);
          else
            for (int c = 0; c < cw; c++)
              yr[c] = tj->a[c] * (xr[c] - tj->mu[c]) + tj->b[c];
        }
      else
        {
          float *dxr = job->dx + off;
          if (job->relu)
            for (int c = 0; c < cw; c++)
              {
                float d = relu_pass (job->dy[off + c], job->y_in[off + c]);
                dxr[c] = tj->k1[c] * d - tj->k0[c] - tj->k2[c] * (xr[c] - tj->mu[c]);
              }
          else
            for (int c = 0; c < cw; c++)
              dxr[c] = tj->k1[c] * job->dy[off + c] - tj->k0[c] - tj->k2[c] * (xr[c] - tj->mu[c]);
        }
    }
}

static void
bn_tile_sums (BnTileJob *tj)
{
  memset (tj->sum, 0, sizeof tj->sum);
  memset (tj->sq, 0, sizeof tj->sq);
  team_for (bn_tile_sums_item, tj, bn_items (tj->job, CL_BN_SUM_LANES));
  for (int l = 1; l < CL_BN_SUM_LANES; l++)
    for (int c = 0; c < tj->cw; c++)
      {
        tj->sum[0][c] += tj->sum[l][c];
        tj->sq[0][c] += tj->sq[l][c];
      }
}

static void
bn_tile_rows (BnTileJob *tj)
{
  team_for (bn_tile_rows_item, tj, bn_items (tj->job, (tj->job->n + CL_BN_CHUNK_ROWS - 1) / CL_BN_CHUNK_ROWS));
}

static void
bn_rows_forward (const BnJob *job)
{
  const int C = job->bn->channels;
  BnTileJob tj;
  tj.job = job;
  tj.backward = FALSE;
  for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
    {
      tj.c0 = c0;
      tj.cw = MIN (CL_BN_TILE, C - c0);
      memcpy (tj.shift, job->x + c0, sizeof (float) * tj.cw);
      bn_tile_sums (&tj);
      for (int c = 0; c < tj.cw; c++)
        {
          const int ch = c0 + c;
          finish_moments (tj.sum[0][c], tj.sq[0][c], (double) job->n, tj.shift[c], &job->mean[ch], &job->invstd[ch],
                          job->running_mean ? &job->running_mean[ch] : NULL,
                          job->running_var ? &job->running_var[ch] : NULL);
          tj.a[c] = job->gamma[ch] * job->invstd[ch];
          tj.b[c] = job->beta[ch];
          tj.mu[c] = job->mean[ch];
        }
      bn_tile_rows (&tj);
    }
}

static void
bn_rows_eval (const BnJob *job)
{
  const int C = job->bn->channels;
  BnTileJob tj;
  tj.job = job;
  tj.backward = FALSE;
  for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
    {
      tj.c0 = c0;
      tj.cw = MIN (CL_BN_TILE, C - c0);
      for (int c = 0; c < tj.cw; c++)
        {
          const int ch = c0 + c;
          tj.a[c] = job->gamma[ch] * (float) (1.0 / sqrt ((double) job->running_var[ch] + CL_BN_EPS));
          tj.b[c] = job->beta[ch];
          tj.mu[c] = job->running_mean[ch];
        }
      bn_tile_rows (&tj);
    }
}

/* dgamma, dbeta, the coefficients (into job->k0.. when asked), and dx when job->dx. */
static void
bn_rows_backward (const BnJob *job)
{
  const int C = job->bn->channels;
  const double m = (double) job->n;
  BnTileJob tj;
  tj.job = job;
  tj.backward = TRUE;
  for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
    {
      tj.c0 = c0;
      tj.cw = MIN (CL_BN_TILE, C - c0);
      memcpy (tj.mu, job->mean + c0, sizeof (float) * tj.cw);
      bn_tile_sums (&tj);
      for (int c = 0; c < tj.cw; c++)
        {
          const int ch = c0 + c;
          const float is = job->invstd[ch];
          const double sum_d = tj.sum[0][c], sum_dx = tj.sq[0][c];
          job->dgamma[ch] = (float) (sum_dx * is);
          job->dbeta[ch] = (float) sum_d;
          tj.k1[c] = job->gamma[ch] * is;
          tj.k0[c] = (float) (tj.k1[c] * sum_d / m);
          tj.k2[c] = (float) (tj.k1[c] * is * is * sum_dx / m);
        }
      if (job->k0)
        {
          memcpy (job->k0 + c0, tj.k0, sizeof (float) * tj.cw);
          memcpy (job->k1 + c0, tj.k1, sizeof (float) * tj.cw);
          memcpy (job->k2 + c0, tj.k2, sizeof (float) * tj.cw);
        }
      if (job->dx)
        bn_tile_rows (&tj);
    }
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
  BnJob job = { bn, x, NULL, NULL, n, gamma, beta, y, mean, invstd, running_mean, running_var, NULL, NULL, NULL,
                relu, NULL, NULL, NULL };
  if (bn->spatial == 1)
    bn_rows_forward (&job);
  else
    team_run (bn_forward_part, &job, MIN (team_parts (), C));
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
      BnJob job = { bn, x, NULL, NULL, n, gamma, beta, y, NULL, NULL, (float *) running_mean, (float *) running_var,
                    NULL, NULL, NULL, relu, NULL, NULL, NULL };
      bn_rows_eval (&job);
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
  /* dx = k1 (d - mean(d) - xhat mean(d xhat)) = k1 d - k0 - k2 (x - mean), with k1 = gamma invstd,
   * k0 = k1 mean(d), k2 = k1 invstd^2 mean(d (x - mean)). */
  BnJob job = { bn, x, y, dy, n, gamma, NULL, NULL, (float *) mean, (float *) invstd, NULL, NULL, dx, dgamma, dbeta,
                relu, NULL, NULL, NULL };
  if (bn->spatial == 1)
    bn_rows_backward (&job);
  else
    team_run (bn_backward_part, &job, MIN (team_parts (), C));
}

void
cl_batchnorm_backward_coefficients (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                                    const float *gamma, const float *mean, const float *invstd, float *dgamma,
                                    float *dbeta, float *k0, float *k1, float *k2, gboolean relu)
{
  g_return_if_fail (bn->spatial == 1);
  BnJob job = { bn, x, y, dy, n, gamma, NULL, NULL, (float *) mean, (float *) invstd, NULL, NULL, NULL, dgamma, dbeta,
                relu, k0, k1, k2 };
  bn_rows_backward (&job);
}

/* ------------------------------------------------------------------ dense */

/* Work is cut into fixed pieces (CL_DENSE_ROWS rows of x, or CL_DENSE_OUTS rows of the kernel
 * gradient), whatever the thread count, and each output element is one sgemm dot product over its
 * whole reduction, so results do not depend on the team size. Small layers stay one sgemm. */
#define CL_DENSE_ROWS 64
#define CL_DENSE_OUTS 32
#define CL_DENSE_MIN_MACS (1 << 20)

typedef struct {
  const ClDense *dense;
  const float *w, *x, *dy;
  int n;
  float *y, *dw, *dx;
} DenseJob;

static void
dense_forward_item (void *arg, int item, int thread)
{
  (void) thread;
  const DenseJob *job = arg;
  const int in = job->dense->in, out = job->dense->out;
  const int r0 = item * CL_DENSE_ROWS, rows = MIN (CL_DENSE_ROWS, job->n - r0);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, job->x + (size_t) r0 * in, in, job->w,
               in, 0.0f, job->y + (size_t) r0 * out, out);
}

void
cl_dense_forward (const ClDense *dense, const float *w, const float *x, int n, float *y)
{
  DenseJob job = { dense, w, x, NULL, n, y, NULL, NULL };
  const gboolean split = (double) n * dense->in * dense->out >= CL_DENSE_MIN_MACS;
  if (!split)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, dense->out, dense->in, 1.0f, x, dense->in, w,
                   dense->in, 0.0f, y, dense->out);
      return;
    }
  team_for (dense_forward_item, &job, (n + CL_DENSE_ROWS - 1) / CL_DENSE_ROWS);
}

/* Items [0, out_items): slices of dw; then [out_items, ...): row blocks of dx. */
static void
dense_backward_item (void *arg, int item, int thread)
{
  (void) thread;
  const DenseJob *job = arg;
  const int in = job->dense->in, out = job->dense->out;
  const int out_items = (out + CL_DENSE_OUTS - 1) / CL_DENSE_OUTS;
  if (item < out_items)
    {
      /* dw [o0..o0+m)[in] = dy[:, o0..o0+m)^T x */
      const int o0 = item * CL_DENSE_OUTS, m = MIN (CL_DENSE_OUTS, out - o0);
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, m, in, job->n, 1.0f, job->dy + o0, out, job->x, in, 0.0f,
                   job->dw + (size_t) o0 * in, in);
      return;
    }
  const int r0 = (item - out_items) * CL_DENSE_ROWS, rows = MIN (CL_DENSE_ROWS, job->n - r0);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, job->dy + (size_t) r0 * out, out,
               job->w, in, 0.0f, job->dx + (size_t) r0 * in, in);
}

void
cl_dense_backward (const ClDense *dense, const float *w, const float *x, const float *dy, int n, float *dw,
                   float *dx)
{
  const gboolean split = (double) n * dense->in * dense->out >= CL_DENSE_MIN_MACS;
  if (!split)
    {
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, dense->out, dense->in, n, 1.0f, dy, dense->out, x,
                   dense->in, 0.0f, dw, dense->in);
      if (dx)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dense->in, dense->out, 1.0f, dy, dense->out, w,
                     dense->in, 0.0f, dx, dense->in);
      return;
    }
  DenseJob job = { dense, w, x, dy, n, NULL, dw, dx };
  const int out_items = (dense->out + CL_DENSE_OUTS - 1) / CL_DENSE_OUTS;
  team_for (dense_backward_item, &job, out_items + (dx ? (n + CL_DENSE_ROWS - 1) / CL_DENSE_ROWS : 0));
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
