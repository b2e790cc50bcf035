/* BatchNorm: training forward (batch statistics) / evaluation forward (running statistics) / backward,
 * for the [n][C][P] layout (P > 1: per-channel parts over the team) and the [rows][C] layout (P = 1:
 * BatchNorm1d and the channels-last conv maps; rows split over the team in fixed blocks).
 *
 * forward:  y [n][C][P] = relu? (gamma * (x - mean) * invstd + beta)
 * backward: dx = k1 d - k0 - k2 (x - mean), d = dy (masked by y > 0 with relu),
 *           k1 = gamma invstd, k0 = k1 mean(d), k2 = k1 invstd^2 mean(d (x - mean));
 *           dgamma = sum d (x - mean) invstd, dbeta = sum d. */
#include "engine/nn/cl_batchnorm.h"

#include <math.h>
#include <string.h>

#include "engine/nn/cl_layers_private.h"

/* The loops below are branch-free and written with independent lanes so the compiler can vectorise
 * them: a data-dependent ReLU branch mispredicts about half the time and used to dominate BN.
 * Partial sums run in float over short stretches (a row of P, or CL_BN_ROWS rows), shifted by a
 * per-channel value from the batch so E[x^2] - E[x]^2 does not cancel, and are gathered in double. */
#define CL_BN_LANES 8
#define CL_BN_TILE 256 /* channels per tile in the [n][C] (P = 1) layout */
#define CL_BN_ROWS 64  /* rows per float partial sum in that layout */

/* The shift subtracted before squaring: the mean of the first few values of the channel (in
 * double), so that it sits near the batch mean. One sample as the shift left E[(x - s)^2] dominated
 * by (mean - s)^2 when that sample was an outlier, and the float partial sums then lost the
 * variance's low bits: the whole-step parity test against PyTorch (tests/engine/train/
 * test_step_parity.c) found one channel's scale off by 2.2e-6 relative, 7x PyTorch's float32 error. */
#define CL_BN_SHIFT_SAMPLES 16
static float
shift_nchw (const float *x, int n, int C, size_t P)
{
  double s = 0;
  int k = 0;
  for (int i = 0; i < n && k < CL_BN_SHIFT_SAMPLES; i++)
    for (size_t j = 0; j < P && k < CL_BN_SHIFT_SAMPLES; j += 1 + P / 4, k++)
      s += x[(size_t) i * C * P + j];
  return (float) (s / k);
}

static void
shift_rows (const float *x, int n, int C, int c0, int cw, float *shift)
{
  const int rows = MIN (n, CL_BN_SHIFT_SAMPLES);
  for (int c = 0; c < cw; c++)
    {
      double s = 0;
      for (int i = 0; i < rows; i++)
        s += x[(size_t) i * C + c0 + c];
      shift[c] = (float) (s / rows);
    }
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

typedef struct
{
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
 * consecutive blocks), and the lanes are added in order; elementwise passes take chunks of rows. Which thread does what
 * does not change a bit of the result. Channels go in tiles of CL_BN_TILE so the per-lane sums fit on the stack. */
#define CL_BN_SUM_LANES 8
#define CL_BN_CHUNK_ROWS 4096
/* Below this many values the team costs more to wake than it saves. */
#define CL_BN_MIN_PARALLEL 65536

typedef struct
{
  const BnJob *job;
  int c0, cw; /* the channel tile */
  gboolean backward;
  float shift[CL_BN_TILE]; /* forward: subtracted before squaring, so E[x^2] - E[x]^2 does not cancel */
  double sum[CL_BN_SUM_LANES][CL_BN_TILE], sq[CL_BN_SUM_LANES][CL_BN_TILE];
  float a[CL_BN_TILE], b[CL_BN_TILE], mu[CL_BN_TILE];   /* elementwise: y = a (x - mu) + b */
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
            else if (job->relu && job->y_in)
              for (int c = 0; c < cw; c++)
                {
                  float d = relu_pass (job->dy[off + c], job->y_in[off + c]);
                  s[c] += d;
                  q[c] += d * (xr[c] - tj->mu[c]);
                }
            else if (job->relu)
              for (int c = 0; c < cw; c++)
                {
                  const float xm = xr[c] - tj->mu[c];
                  float d = relu_pass (job->dy[off + c], tj->a[c] * xm + tj->b[c]);
                  s[c] += d;
                  q[c] += d * xm;
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
          if (job->relu && job->y_in)
            for (int c = 0; c < cw; c++)
              {
                float d = relu_pass (job->dy[off + c], job->y_in[off + c]);
                dxr[c] = tj->k1[c] * d - tj->k0[c] - tj->k2[c] * (xr[c] - tj->mu[c]);
              }
          else if (job->relu)
            for (int c = 0; c < cw; c++)
              {
                const float xm = xr[c] - tj->mu[c];
                float d = relu_pass (job->dy[off + c], tj->a[c] * xm + tj->b[c]);
                dxr[c] = tj->k1[c] * d - tj->k0[c] - tj->k2[c] * xm;
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
  cl_team_for (bn_tile_sums_item, tj, bn_items (tj->job, CL_BN_SUM_LANES));
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
  cl_team_for (bn_tile_rows_item, tj, bn_items (tj->job, (tj->job->n + CL_BN_CHUNK_ROWS - 1) / CL_BN_CHUNK_ROWS));
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
      shift_rows (job->x, job->n, C, c0, tj.cw, tj.shift);
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
      if (job->relu && !job->y_in)
        for (int c = 0; c < tj.cw; c++)
          {
            /* The forward's y = relu (a (x - mean) + b), recomputed for the ReLU's mask. */
            tj.a[c] = job->gamma[c0 + c] * job->invstd[c0 + c];
            tj.b[c] = job->beta[c0 + c];
          }
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
      const float shift = shift_nchw (x + (size_t) c * P, job->n, C, P);
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
  BnJob job = { bn,           x,           NULL, NULL, n,    gamma, beta, y,    mean, invstd,
                running_mean, running_var, NULL, NULL, NULL, relu,  NULL, NULL, NULL };
  if (bn->spatial == 1)
    bn_rows_forward (&job);
  else
    cl_team_run (bn_forward_part, &job, MIN (cl_team_parts (), C));
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
      BnJob job = {
        bn,   x,    NULL, NULL, n,    gamma, beta, y, NULL, NULL, (float *) running_mean, (float *) running_var,
        NULL, NULL, NULL, relu, NULL, NULL,  NULL
      };
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
  BnJob job = { bn,   x,  y,      dy,    n,    gamma, NULL, NULL, (float *) mean, (float *) invstd, NULL,
                NULL, dx, dgamma, dbeta, relu, NULL,  NULL, NULL };
  if (bn->spatial == 1)
    bn_rows_backward (&job);
  else
    cl_team_run (bn_backward_part, &job, MIN (cl_team_parts (), C));
}

void
cl_batchnorm_backward_coefficients (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                                    const float *gamma, const float *mean, const float *invstd, float *dgamma,
                                    float *dbeta, float *k0, float *k1, float *k2, gboolean relu)
{
  g_return_if_fail (bn->spatial == 1);
  BnJob job = { bn,   x,    y,      dy,    n,    gamma, NULL, NULL, (float *) mean, (float *) invstd, NULL,
                NULL, NULL, dgamma, dbeta, relu, k0,    k1,   k2 };
  bn_rows_backward (&job);
}

void
cl_batchnorm_backward_pre (const ClBatchNorm *bn, const float *x, const float *beta, const float *dy, int n,
                           const float *gamma, const float *mean, const float *invstd, float *dx, float *dgamma,
                           float *dbeta)
{
  g_return_if_fail (bn->spatial == 1);
  BnJob job = { bn,   x,  NULL,   dy,    n,    gamma, beta, NULL, (float *) mean, (float *) invstd, NULL,
                NULL, dx, dgamma, dbeta, TRUE, NULL,  NULL, NULL };
  bn_rows_backward (&job);
}

void
cl_batchnorm_backward_coefficients_pre (const ClBatchNorm *bn, const float *x, const float *beta, const float *dy,
                                        int n, const float *gamma, const float *mean, const float *invstd,
                                        float *dgamma, float *dbeta, float *k0, float *k1, float *k2)
{
  g_return_if_fail (bn->spatial == 1);
  BnJob job = { bn,   x,    NULL,   dy,    n,    gamma, beta, NULL, (float *) mean, (float *) invstd, NULL,
                NULL, NULL, dgamma, dbeta, TRUE, k0,    k1,   k2 };
  bn_rows_backward (&job);
}

/* ---- BatchNorm of conv maps from per-view moments (cl_batchnorm.h) */

#define CL_BN_VIEW_ROWS 16 /* pixels per float partial of a view's sums */

/* Runs in the conv's store loop, so it is compiled for the widest vectors the CPU has. Each channel
 * is its own lane (pixels in order, nothing reassociated) and nothing is fused (fp-contract off: an
 * AVX-512 clone would otherwise turn v * v + q into an fma), so every clone gives the same bits. */
/* Not under ThreadSanitizer: the clones' ifunc resolver runs before TSan's runtime is set up and
 * crashes every program at load (ld.so, elf_machine_lazy_rel). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute) &&                     \
    !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define CL_BN_CLONES __attribute__ ((optimize ("fp-contract=off"), target_clones ("avx512f", "avx2", "default")))
#endif
#endif
#ifndef CL_BN_CLONES
#define CL_BN_CLONES
#endif

/* Channels c0 .. c0 + cw - 1 of a view. Called with cw = CL_BN_VIEW_GROUP (a constant after inlining,
 * which GCC's -O2 vectorises: the lanes stay in registers) and once with the remainder. */
#define CL_BN_VIEW_GROUP 16
static inline __attribute__ ((always_inline, optimize ("fp-contract=off"))) void
view_moments_group (const float *x, int P, int C, int c0, const int cw, double *moments)
{
  double S[CL_BN_VIEW_GROUP], Q[CL_BN_VIEW_GROUP];
  float x0[CL_BN_VIEW_GROUP], mu[CL_BN_VIEW_GROUP];
  for (int c = 0; c < cw; c++)
    {
      x0[c] = x[c0 + c];
      S[c] = Q[c] = 0.0;
    }
  for (int r0 = 0; r0 < P; r0 += CL_BN_VIEW_ROWS)
    {
      float s[CL_BN_VIEW_GROUP] = { 0 };
      const int r1 = MIN (P, r0 + CL_BN_VIEW_ROWS);
      for (int r = r0; r < r1; r++)
        {
          const float *xr = x + (size_t) r * C + c0;
          for (int c = 0; c < cw; c++)
            s[c] += xr[c] - x0[c];
        }
      for (int c = 0; c < cw; c++)
        S[c] += s[c];
    }
  for (int c = 0; c < cw; c++)
    mu[c] = (float) (S[c] / P);
  for (int r0 = 0; r0 < P; r0 += CL_BN_VIEW_ROWS)
    {
      float q[CL_BN_VIEW_GROUP] = { 0 };
      const int r1 = MIN (P, r0 + CL_BN_VIEW_ROWS);
      for (int r = r0; r < r1; r++)
        {
          const float *xr = x + (size_t) r * C + c0;
          for (int c = 0; c < cw; c++)
            {
              const float v = (xr[c] - x0[c]) - mu[c];
              q[c] += v * v;
            }
        }
      for (int c = 0; c < cw; c++)
        Q[c] += q[c];
    }
  for (int c = 0; c < cw; c++)
    {
      moments[c0 + c] = (double) x0[c] * P + S[c];
      moments[C + c0 + c] = Q[c];
      moments[2 * C + c0 + c] = (double) x0[c] + (double) mu[c];
    }
}

CL_BN_CLONES void
cl_batchnorm_view_moments (const float *x, int P, int C, double *moments)
{
  int c0 = 0;
  for (; c0 + CL_BN_VIEW_GROUP <= C; c0 += CL_BN_VIEW_GROUP)
    view_moments_group (x, P, C, c0, CL_BN_VIEW_GROUP, moments);
  if (c0 < C)
    view_moments_group (x, P, C, c0, C - c0, moments);
}

typedef struct
{
  const float *x;
  int P, C;
  double *moments;
} ViewMomentsJob;

#define CL_BN_MOMENT_VIEWS 8 /* views per team item */

static void
view_moments_item (void *arg, int item, int thread)
{
  (void) thread;
  const ViewMomentsJob *job = arg;
  const int C = job->C;
  for (int v = item * CL_BN_MOMENT_VIEWS; v < (item + 1) * CL_BN_MOMENT_VIEWS; v++)
    cl_batchnorm_view_moments (job->x + (size_t) v * job->P * C, job->P, C, job->moments + (size_t) v * 3 * C);
}

typedef struct
{
  const BnJob *job;
  int P;
  const double *moments;
} CombineJob;

/* Channels of one part: the batch mean and variance from the views' moments, views in order
 * (whichever thread does which channels, the same bits). A view's sq is centred on its own centre
 * c_v, so its part of the sum of squares about the batch mean M is
 * sq_v + 2 (c_v - M) (sum_v - P c_v) + P (c_v - M)^2. */
static void
combine_moments_part (void *arg, int part, int parts)
{
  const CombineJob *cj = arg;
  const BnJob *job = cj->job;
  const int C = job->bn->channels, n = job->n, P = cj->P;
  const double m = (double) n * P;
  int lo, hi;
  bn_part_range (C, part, parts, &lo, &hi);
  for (int c = lo; c < hi; c++)
    {
      double S = 0.0;
      for (int v = 0; v < n; v++)
        S += cj->moments[(size_t) v * 3 * C + c];
      const double M = S / m;
      double M2 = 0.0;
      for (int v = 0; v < n; v++)
        {
          const double *mv = cj->moments + (size_t) v * 3 * C + c;
          const double sv = mv[0], qv = mv[C], cv = mv[2 * C], dm = cv - M;
          M2 += qv + 2.0 * dm * (sv - P * cv) + P * dm * dm;
        }
      double var = M2 / m;
      if (var < 0.0)
        var = 0.0;
      job->mean[c] = (float) M;
      job->invstd[c] = (float) (1.0 / sqrt (var + CL_BN_EPS));
      if (job->running_mean && job->running_var)
        {
          const double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
          job->running_mean[c] = (1.0f - CL_BN_MOMENTUM) * job->running_mean[c] + CL_BN_MOMENTUM * (float) M;
          job->running_var[c] = (1.0f - CL_BN_MOMENTUM) * job->running_var[c] + CL_BN_MOMENTUM * (float) unbiased;
        }
    }
}

void
cl_batchnorm_forward_train_moments (const ClBatchNorm *bn, const float *x, int n, int P, const float *gamma,
                                    const float *beta, float *y, float *mean, float *invstd, float *running_mean,
                                    float *running_var, const double *moments)
{
  g_return_if_fail (bn->spatial == 1);
  const int C = bn->channels;
  BnJob job = { bn,           x,           NULL, NULL, n * P, gamma, beta, y,    mean, invstd,
                running_mean, running_var, NULL, NULL, NULL,  TRUE,  NULL, NULL, NULL };
  BnJob views = job;
  views.n = n;
  CombineJob cj = { &views, P, moments };
  cl_team_run (combine_moments_part, &cj, MIN (cl_team_parts (), MAX (1, C / 8)));
  if (!y)
    return;
  BnTileJob tj;
  tj.job = &job;
  tj.backward = FALSE;
  for (int c0 = 0; c0 < C; c0 += CL_BN_TILE)
    {
      tj.c0 = c0;
      tj.cw = MIN (CL_BN_TILE, C - c0);
      for (int c = 0; c < tj.cw; c++)
        {
          const int ch = c0 + c;
          tj.a[c] = gamma[ch] * invstd[ch];
          tj.b[c] = beta[ch];
          tj.mu[c] = mean[ch];
        }
      bn_tile_rows (&tj);
    }
}

void
cl_batchnorm_forward_train_views (const ClBatchNorm *bn, const float *x, int n, int P, const float *gamma,
                                  const float *beta, float *y, float *mean, float *invstd, float *running_mean,
                                  float *running_var, double *moments)
{
  g_return_if_fail (bn->spatial == 1);
  const int C = bn->channels, full = n / CL_BN_MOMENT_VIEWS;
  ViewMomentsJob vj = { x, P, C, moments };
  if ((long) n * P * C < CL_BN_MIN_PARALLEL)
    for (int v = 0; v < full * CL_BN_MOMENT_VIEWS; v++)
      cl_batchnorm_view_moments (x + (size_t) v * P * C, P, C, moments + (size_t) v * 3 * C);
  else
    cl_team_for (view_moments_item, &vj, full);
  for (int v = full * CL_BN_MOMENT_VIEWS; v < n; v++)
    cl_batchnorm_view_moments (x + (size_t) v * P * C, P, C, moments + (size_t) v * 3 * C);
  cl_batchnorm_forward_train_moments (bn, x, n, P, gamma, beta, y, mean, invstd, running_mean, running_var, moments);
}
