/* Contrastive losses: SimCLR NT-Xent and the generalized family of Chen, Luo & Li (2021),
 * in the official code's units (see cl_loss.h and paper.md section 1.2).
 *
 * All the heavy lifting is BLAS: the 2n x 2n cosine Gram matrix comes from ssyrk, and
 * the gradient of any loss written as a function of that Gram matrix is
 *   dL/dH = (G + G^T) H,   G = dL/dS,
 * computed with ssymm after folding G^T onto G's upper triangle. Everything the losses
 * need lives in the caller's workspace; nothing here allocates. */
#include "engine/nn/cl_loss.h"

#include <cblas.h>

#include "engine/nn/cl_gemm.h"
#include "engine/nn/cl_layers_private.h"
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* LAPACK through OpenBLAS's Fortran ABI; LAPACKE is not a dependency of the engine. */
extern void sgeqrf_ (const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork,
                     int *info);
extern void sorgqr_ (const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau, float *work,
                     const int *lwork, int *info);

/* Tile edge for the in-place transposed passes over the Gram matrix: 64x64 floats keep
 * both the row tile and the column tile in L1/L2 instead of striding over 16 MB. */
#define TILE 64

/* Room given to LAPACK for its blocked QR; anything >= d is correct, this lets it block. */
#define QR_LWORK_PER_COLUMN 64

static const char *const kind_names[CL_LOSS_N_KINDS] = {
  "ntxent", "decoupled", "swd-normal", "swd-cube", "swd-sphere",
};

static ClLossResult
invalid_result (void)
{
  ClLossResult r = { NAN, NAN, NAN, NAN };
  return r;
}

static int
is_swd (ClLossKind kind)
{
  return kind == CL_LOSS_SWD_NORMAL || kind == CL_LOSS_SWD_CUBE || kind == CL_LOSS_SWD_SPHERE;
}

const char *
cl_loss_kind_name (ClLossKind kind)
{
  if ((int) kind < 0 || kind >= CL_LOSS_N_KINDS)
    return NULL;
  return kind_names[kind];
}

int
cl_loss_kind_from_name (const char *name, ClLossKind *kind)
{
  if (!name)
    return 0;
  for (int k = 0; k < CL_LOSS_N_KINDS; k++)
    if (strcmp (name, kind_names[k]) == 0)
      {
        if (kind)
          *kind = (ClLossKind) k;
        return 1;
      }
  return 0;
}

/* ---- shared pieces ---- */

/* h = z / max(|z|, eps) per row. nrm (may be NULL) keeps max(|z|, eps) for the backward pass.
 * Norms are accumulated in double so a row of 1000 large entries does not lose its tail. */
static void
normalise_rows (const float *z, int rows, int d, float *h, float *nrm)
{
  for (int i = 0; i < rows; i++)
    {
      const float *zi = z + (size_t) i * d;
      float *hi = h + (size_t) i * d;
      double ss = 0.0;
      for (int k = 0; k < d; k++)
        ss += (double) zi[k] * zi[k];
      double norm = sqrt (ss);
      if (!(norm >= (double) CL_LOSS_NORM_EPS))
        norm = (double) CL_LOSS_NORM_EPS;
      double inv = 1.0 / norm;
      for (int k = 0; k < d; k++)
        hi[k] = (float) (zi[k] * inv);
      if (nrm)
        nrm[i] = (float) norm;
    }
}

/* dz = J^T dh with J = (I - h h^T)/|z| the Jacobian of the normalisation; below the eps
 * floor the map is z/eps, a plain scaling. dz may alias dh. */
static void
normalise_backward (const float *h, const float *nrm, const float *dh, int rows, int d, float *dz)
{
  for (int i = 0; i < rows; i++)
    {
      const float *hi = h + (size_t) i * d;
      const float *gi = dh + (size_t) i * d;
      float *oi = dz + (size_t) i * d;
      double inv = 1.0 / nrm[i];
      if (nrm[i] > CL_LOSS_NORM_EPS)
        {
          double dot = 0.0;
          for (int k = 0; k < d; k++)
            dot += (double) hi[k] * gi[k];
          for (int k = 0; k < d; k++)
            oi[k] = (float) ((gi[k] - hi[k] * dot) * inv);
        }
      else
        {
          for (int k = 0; k < d; k++)
            oi[k] = (float) (gi[k] * inv);
        }
    }
}

/* S = H H^T (rows x rows), full matrix. ssyrk does half the flops of sgemm; the lower
 * triangle is then copied from the upper one tile by tile. */
static void
gram_full (const float *h, int rows, int d, float *s)
{
  /* On the microkernels: the full product, every element one fma chain, so exactly symmetric. */
  if (cl_gemm_uses_microkernels ())
    {
      cl_gemm_nt (rows, rows, d, h, h, s);
      return;
    }
  cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, rows, d, 1.0f, h, d, 0.0f, s, rows);
  for (int ib = 0; ib < rows; ib += TILE)
    for (int jb = ib; jb < rows; jb += TILE)
      {
        int ie = MIN (ib + TILE, rows), je = MIN (jb + TILE, rows);
        for (int i = ib; i < ie; i++)
          for (int j = MAX (jb, i + 1); j < je; j++)
            s[(size_t) j * rows + i] = s[(size_t) i * rows + j];
      }
}

typedef struct
{
  float *g;
  int rows;
} FoldJob;

/* Upper triangle of G := G + G^T (the diagonal doubles), which is all ssymm reads. */
static void
fold_transpose_upper (float *g, int rows)
{
  for (int ib = 0; ib < rows; ib += TILE)
    for (int jb = ib; jb < rows; jb += TILE)
      {
        int ie = MIN (ib + TILE, rows), je = MIN (jb + TILE, rows);
        for (int i = ib; i < ie; i++)
          for (int j = MAX (jb, i); j < je; j++)
            {
              if (j == i)
                g[(size_t) i * rows + i] *= 2.0f;
              else
                g[(size_t) i * rows + j] += g[(size_t) j * rows + i];
            }
      }
}

/* One band of TILE rows of G := G + G^T, both triangles (the diagonal doubles): element (i, j)
 * and (j, i) both become the one sum g_ij + g_ji, so the result does not depend on which thread
 * ran which band. */
static void
fold_mirror_band (void *arg, int item, int thread)
{
  (void) thread;
  const FoldJob *job = arg;
  float *g = job->g;
  const int rows = job->rows, ib = item * TILE, ie = MIN (ib + TILE, rows);
  for (int jb = ib; jb < rows; jb += TILE)
    {
      const int je = MIN (jb + TILE, rows);
      for (int i = ib; i < ie; i++)
        for (int j = MAX (jb, i); j < je; j++)
          {
            if (j == i)
              g[(size_t) i * rows + i] *= 2.0f;
            else
              {
                const float v = g[(size_t) i * rows + j] + g[(size_t) j * rows + i];
                g[(size_t) i * rows + j] = v;
                g[(size_t) j * rows + i] = v;
              }
          }
    }
}

/* dH = (G + G^T) H for a G held in s; destroys s. */
static void
gram_backward (float *s, const float *h, int rows, int d, float *dh)
{
  if (cl_gemm_uses_microkernels ())
    {
      /* The full symmetric matrix (bands over the team), then dH = S H as the input gradient of
       * S = A H^T. */
      FoldJob job = { s, rows };
      cl_team_for (fold_mirror_band, &job, (rows + TILE - 1) / TILE);
      cl_gemm_nt_backward (rows, rows, d, h, h, s, NULL, dh);
      return;
    }
  fold_transpose_upper (s, rows);
  cblas_ssymm (CblasRowMajor, CblasLeft, CblasUpper, rows, d, 1.0f, s, rows, h, d, 0.0f, dh, d);
}

typedef struct
{
  const float *s;
  int n;
  int *hits; /* [items]: each item's count, summed in item order */
} AccuracyJob;

#define ACCURACY_ROWS 64

/* Whether row i of the similarities ranks its positive p strictly above every negative (a tie counts
 * as a miss, a NaN never as a hit). */
static int
ranks_positive_first (const float *row, int rows, int i, int p)
{
  const float pos = row[p];
  int ok = pos == pos;
  for (int k = 0; k < rows && ok; k++)
    if (k != i && k != p && !(pos > row[k]))
      ok = 0;
  return ok;
}

static void
accuracy_rows_item (void *arg, int item, int thread)
{
  (void) thread;
  const AccuracyJob *job = arg;
  const int n = job->n, rows = 2 * n;
  const int i_end = MIN (rows, (item + 1) * ACCURACY_ROWS);
  int correct = 0;
  for (int i = item * ACCURACY_ROWS; i < i_end; i++)
    correct += ranks_positive_first (job->s + (size_t) i * rows, rows, i, (i + n) % rows);
  job->hits[item] = correct;
}

/* Strict: a tie with any negative counts as a miss, and a NaN never counts as a hit. Rows in
 * blocks over the team. */
static double
contrastive_accuracy (const float *s, int n)
{
  const int rows = 2 * n, items = (rows + ACCURACY_ROWS - 1) / ACCURACY_ROWS;
  int stack_hits[64];
  int *hits = items <= 64 ? stack_hits : g_new (int, items);
  AccuracyJob job = { s, n, hits };
  cl_team_for (accuracy_rows_item, &job, items);
  int correct = 0;
  for (int i = 0; i < items; i++)
    correct += hits[i];
  if (hits != stack_hits)
    g_free (hits);
  return (double) correct / rows;
}

/* (1/(n d)) sum_i |a_i - a_{i+n}|^2 / 2 over the views in a (2n x d), and its gradient
 * added into dh when dh != NULL. */
static double
alignment_mse (const float *a, int n, int d, float *dh)
{
  double sum = 0.0;
  double scale = 1.0 / ((double) n * d);
  for (int i = 0; i < n; i++)
    {
      const float *a1 = a + (size_t) i * d;
      const float *a2 = a + (size_t) (i + n) * d;
      for (int k = 0; k < d; k++)
        {
          double diff = (double) a1[k] - a2[k];
          sum += diff * diff;
          if (dh)
            {
              dh[(size_t) i * d + k] += (float) (diff * scale);
              dh[(size_t) (i + n) * d + k] -= (float) (diff * scale);
            }
        }
    }
  return 0.5 * sum * scale;
}

float
cl_exp_nonpositive (float x)
{
  /* x = n ln2 + r, |r| <= ln2/2 (ln2 split in two so n ln2 is exact), exp(r) by Cephes' expf
   * minimax polynomial, times 2^n written into the exponent bits. */
  const float shifter = 12582912.0f;        /* 1.5 * 2^23: adding it rounds to the nearest integer */
  const float xc = x < -87.0f ? -87.0f : x; /* NaN fails the test and stays NaN */
  const float t = xc * 1.44269504088896341f + shifter;
  const float fn = t - shifter;
  int32_t ti;
  memcpy (&ti, &t, sizeof ti);
  const int32_t n = ti - 0x4B400000; /* the bits of shifter */
  const float r = (xc - fn * 0.693359375f) - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const uint32_t bits = (uint32_t) (n + 127) << 23; /* n >= -126 here: 2^n is a normal float */
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  /* Below -87 exp(x) < 1.7e-38: 0, so exp(-inf) = 0 as with expf. */
  return x < -87.0f ? 0.0f : p * scale;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CL_LOSS_HAVE_AVX2 1
/* The same steps as cl_exp_nonpositive, 8 lanes at a time with FMA (so the last bit may differ
 * from the scalar version; both are tested against expf). */
__attribute__ ((target ("avx2,fma"))) static void
exp_shifted_avx2 (const float *x, int count, float m, float inv_tau, float *y)
{
  const __m256 vm = _mm256_set1_ps (m), vit = _mm256_set1_ps (inv_tau), lo = _mm256_set1_ps (-87.0f);
  const __m256 shifter = _mm256_set1_ps (12582912.0f), log2e = _mm256_set1_ps (1.44269504088896341f);
  const __m256 c1 = _mm256_set1_ps (0.693359375f), c2 = _mm256_set1_ps (-2.12194440e-4f);
  const __m256 one = _mm256_set1_ps (1.0f);
  const __m256i bias = _mm256_set1_epi32 (127), shifter_bits = _mm256_set1_epi32 (0x4B400000);
  int k = 0;
  for (; k + 8 <= count; k += 8)
    {
      const __m256 v = _mm256_mul_ps (_mm256_sub_ps (_mm256_loadu_ps (x + k), vm), vit);
      const __m256 under = _mm256_cmp_ps (v, lo, _CMP_LT_OQ); /* false for NaN */
      const __m256 xc = _mm256_blendv_ps (v, lo, under);
      const __m256 t = _mm256_fmadd_ps (xc, log2e, shifter);
      const __m256 fn = _mm256_sub_ps (t, shifter);
      const __m256i n = _mm256_sub_epi32 (_mm256_castps_si256 (t), shifter_bits);
      __m256 r = _mm256_fnmadd_ps (fn, c1, xc);
      r = _mm256_fnmadd_ps (fn, c2, r);
      __m256 p = _mm256_set1_ps (1.9875691500e-4f);
      p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.3981999507e-3f));
      p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (8.3334519073e-3f));
      p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (4.1665795894e-2f));
      p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.6666665459e-1f));
      p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (5.0000001201e-1f));
      p = _mm256_fmadd_ps (p, _mm256_mul_ps (r, r), _mm256_add_ps (r, one));
      const __m256 scale = _mm256_castsi256_ps (_mm256_slli_epi32 (_mm256_add_epi32 (n, bias), 23));
      _mm256_storeu_ps (y + k, _mm256_andnot_ps (under, _mm256_mul_ps (p, scale)));
    }
  for (; k < count; k++)
    y[k] = cl_exp_nonpositive ((x[k] - m) * inv_tau);
}
#endif

void
cl_exp_shifted (const float *x, int count, float m, float inv_tau, float *y)
{
#ifdef CL_LOSS_HAVE_AVX2
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    {
      exp_shifted_avx2 (x, count, m, inv_tau, y);
      return;
    }
#endif
  for (int k = 0; k < count; k++)
    y[k] = cl_exp_nonpositive ((x[k] - m) * inv_tau);
}

/* row[k] = exp((row[k] - m) / tau) in place; returns their sum. Shifted by the row max m,
 * every exponent is <= 0, so nothing overflows at any tau; cl_exp_shifted (a few ulp from
 * expf, tested against it) does 8 at a time. The exponentials are written first and summed
 * after, with four partial sums, so the double accumulation does not serialise. */
static double
exp_shifted_sum (float *row, int count, float m, float inv_tau)
{
  cl_exp_shifted (row, count, m, inv_tau, row);
  double acc[4] = { 0.0, 0.0, 0.0, 0.0 };
  int k = 0;
  for (; k + 4 <= count; k += 4)
    for (int a = 0; a < 4; a++)
      acc[a] += row[k + a];
  for (; k < count; k++)
    acc[0] += row[k];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/* ---- NT-Xent ---- */

static size_t
gram_floats (int n, int d)
{
  size_t rows = 2 * (size_t) n;
  return rows * d + rows + rows * rows; /* h, nrm, s */
}

size_t
cl_ntxent_workspace_floats (int n, int d)
{
  /* + dh, then per-row results of the softmax rows ([rows] doubles, 2 floats each, at an even index) */
  return gram_floats (n, d) + 2 * (size_t) n * d + 1 + 2 * 2 * (size_t) n;
}

/* ---- the softmax rows over the thread team
 * Rows go in fixed blocks over the team's threads; each row's results (its log-sum-exp, positive
 * similarity, whether it ranks its positive first) are kept per row and summed in row order after,
 * so the loss is the same for any thread count (and the same as the one-thread loop before). */
#define CL_LOSS_ROWS 32

typedef struct
{
  float *s;
  int n, rows;
  float tau, inv_tau;
  double grad_scale;
  gboolean ntxent; /* NT-Xent: self masked, the positive's gradient; decoupled: nothing masked */
  double *lse;     /* [rows] */
  int *hits;       /* [items]: rows of the item that rank their positive first (contrastive accuracy) */
} SoftmaxJob;

static void
softmax_rows_item (void *arg, int item, int thread)
{
  (void) thread;
  const SoftmaxJob *job = arg;
  const int rows = job->rows, n = job->n;
  const int i_end = MIN (rows, (item + 1) * CL_LOSS_ROWS);
  int hits = 0;
  for (int i = item * CL_LOSS_ROWS; i < i_end; i++)
    {
      float *row = job->s + (size_t) i * rows;
      const int p = (i + n) % rows;
      /* The accuracy first, while the row is untouched (and, after this read, in cache). */
      hits += ranks_positive_first (row, rows, i, p);
      float m;
      if (job->ntxent)
        {
          /* The self-similarity is masked with -inf rather than -1e9, so a tiny tau cannot turn
           * the mask into a finite competitor; exp(-inf) = 0 then also zeroes G_ii. */
          row[i] = -INFINITY;
          m = row[p];
        }
      else
        m = row[i]; /* No mask: the official code keeps the self-similarity and the positive inside. */
      for (int k = 0; k < rows; k++)
        m = row[k] > m ? row[k] : m;
      double sum = exp_shifted_sum (row, rows, m, job->inv_tau);
      job->lse[i] = (double) m / job->tau + log (sum);
      /* NT-Xent: G_ik = (softmax_ik - [k == p]) / (2n tau), dL/dS_ik through anchor i's term. */
      float coef = (float) (job->grad_scale / sum);
      for (int k = 0; k < rows; k++)
        row[k] *= coef;
      if (job->ntxent)
        row[p] -= (float) job->grad_scale;
    }
  job->hits[item] = hits;
}

/* Runs the rows; lse [rows] from the workspace after dh; the contrastive accuracy into *accuracy
 * (the rows' hits summed in item order). */
static double *
softmax_rows (float *s, float *ws_after_dh, int n, float tau, double grad_scale, gboolean ntxent, double *accuracy)
{
  double *lse = (double *) (ws_after_dh + ((uintptr_t) ws_after_dh / sizeof (float)) % 2);
  const int items = (2 * n + CL_LOSS_ROWS - 1) / CL_LOSS_ROWS;
  int stack_hits[128];
  int *hits = items <= 128 ? stack_hits : g_new (int, items);
  SoftmaxJob job = { s, n, 2 * n, tau, 1.0f / tau, grad_scale, ntxent, lse, hits };
  cl_team_for (softmax_rows_item, &job, items);
  int correct = 0;
  for (int i = 0; i < items; i++)
    correct += hits[i];
  if (hits != stack_hits)
    g_free (hits);
  *accuracy = (double) correct / (2 * n);
  return lse;
}

/* The workspace layout both cosine losses share: normalised rows h, their norms, the 2n x 2n
 * similarity matrix s (filled) and dh (the contrastive accuracy comes with the softmax rows). */
static ClLossResult
cosine_similarities (const float *z, int n, int d, float *ws, float **h, float **nrm, float **s, float **dh)
{
  const int rows = 2 * n;
  *h = ws;
  *nrm = *h + (size_t) rows * d;
  *s = *nrm + rows;
  *dh = *s + (size_t) rows * rows;
  normalise_rows (z, rows, d, *h, *nrm);
  gram_full (*h, rows, d, *s);
  ClLossResult r = { 0 }; /* the accuracy comes with the softmax rows */
  return r;
}

ClLossResult
cl_ntxent (const float *z, int n, int d, float tau, float *dz, float *ws)
{
  g_return_val_if_fail (z != NULL && ws != NULL, invalid_result ());
  g_return_val_if_fail (n >= 1 && d >= 1, invalid_result ());
  g_return_val_if_fail (tau > 0.0f && isfinite (tau), invalid_result ());

  int rows = 2 * n;
  float *h, *nrm, *s, *dh;
  ClLossResult r = cosine_similarities (z, n, d, ws, &h, &nrm, &s, &dh);

  const double grad_scale = 1.0 / ((double) rows * tau);
  double align = 0.0, dist = 0.0;
  /* The positives before the rows overwrite them. */
  for (int i = 0; i < rows; i++)
    align -= (double) s[(size_t) i * rows + (i + n) % rows] / tau;
  const double *lse = softmax_rows (s, dh + (size_t) rows * d, n, tau, grad_scale, TRUE, &r.accuracy);
  for (int i = 0; i < rows; i++)
    dist += lse[i];

  r.alignment = align / rows;
  r.distribution = dist / rows;
  r.loss = r.alignment + r.distribution;

  if (dz)
    {
      gram_backward (s, h, rows, d, dh);
      normalise_backward (h, nrm, dh, rows, d, dz);
    }
  return r;
}

/* ---- Decoupled (official "logsumexp" distribution term) ---- */

ClLossResult
cl_loss_decoupled (const float *z, int n, int d, float tau, float lambda, float *dz, float *ws)
{
  g_return_val_if_fail (z != NULL && ws != NULL, invalid_result ());
  g_return_val_if_fail (n >= 1 && d >= 1, invalid_result ());
  g_return_val_if_fail (tau > 0.0f && isfinite (tau) && isfinite (lambda), invalid_result ());

  int rows = 2 * n;
  float *h, *nrm, *s, *dh;
  ClLossResult r = cosine_similarities (z, n, d, ws, &h, &nrm, &s, &dh);

  const double grad_scale = (double) lambda / ((double) rows * tau);
  double dist = 0.0;
  const double *lse = softmax_rows (s, dh + (size_t) rows * d, n, tau, grad_scale, FALSE, &r.accuracy);
  for (int i = 0; i < rows; i++)
    dist += lse[i];
  dist = dist / rows - log ((double) d);

  if (dz)
    gram_backward (s, h, rows, d, dh);
  r.alignment = alignment_mse (h, n, d, dz ? dh : NULL);
  r.distribution = (double) lambda * dist;
  r.loss = r.alignment + r.distribution;
  if (dz)
    normalise_backward (h, nrm, dh, rows, d, dz);
  return r;
}

/* ---- Sliced Wasserstein distance to a prior ---- */

/* Ascending, NaN last, so a broken batch still sorts deterministically. */
static int
compare_values (float a, float b)
{
  if (a < b)
    return -1;
  if (a > b)
    return 1;
  return isnan (a) - isnan (b);
}

/* Stable bottom-up merge sort of count records of width floats (1 = value, 2 = value and
 * row index, the index stored as a float: exact below 2^24), keyed on the first float, using scratch of the same size.
 * Returns whichever of the two buffers ends up holding the sorted records. Not qsort: glibc's qsort mallocs a temporary
 * buffer for anything over 1 KB, and this runs d times per training step. Stability keeps equal values in row order, so
 * the permutation (and with it the gradient) is reproducible and matches a stable argsort. */
static float *
merge_sort_records (float *src, float *scratch, int count, int width)
{
  float *a = src, *b = scratch;
  for (int run = 1; run < count; run *= 2)
    {
      for (int lo = 0; lo < count; lo += 2 * run)
        {
          int mid = MIN (lo + run, count), hi = MIN (lo + 2 * run, count);
          int i = lo, j = mid;
          float *out = b + (size_t) lo * width;
          while (i < mid || j < hi)
            {
              const float *take;
              if (j >= hi || (i < mid && compare_values (a[(size_t) j * width], a[(size_t) i * width]) >= 0))
                take = a + (size_t) (i++) * width;
              else
                take = a + (size_t) (j++) * width;
              for (int q = 0; q < width; q++)
                *out++ = take[q];
            }
        }
      float *t = a;
      a = b;
      b = t;
    }
  return a;
}

static size_t
swd_core_floats (int n, int d)
{
  size_t rows = 2 * (size_t) n;
  /* + projected data (reused as dL/dP), normalised prior, projected prior, dh,
   *   (value, index) pairs and one prior column for the per-column sorts, each with
   *   a merge-sort scratch of its own size */
  return gram_floats (n, d) + 4 * rows * d + 2 * (2 * rows + rows);
}

size_t
cl_loss_orthogonal_work_floats (int d)
{
  size_t dd = (size_t) d;
  return dd * dd + dd /* tau */ + dd /* signs */ + QR_LWORK_PER_COLUMN * dd;
}

static size_t
swd_draw_floats (int n, int d)
{
  return (size_t) d * d + 2 * (size_t) n * d + cl_loss_orthogonal_work_floats (d);
}

size_t
cl_loss_workspace_floats (ClLossKind kind, int n, int d)
{
  switch (kind)
    {
    case CL_LOSS_NTXENT:
      return cl_ntxent_workspace_floats (n, d);
    case CL_LOSS_DECOUPLED:
      return cl_ntxent_workspace_floats (n, d);
    case CL_LOSS_SWD_NORMAL:
    case CL_LOSS_SWD_CUBE:
    case CL_LOSS_SWD_SPHERE:
      return swd_core_floats (n, d) + swd_draw_floats (n, d);
    case CL_LOSS_N_KINDS:
    default:
      return 0;
    }
}

size_t
cl_loss_workspace_floats_max (int n, int d)
{
  size_t best = 0;
  for (int k = 0; k < CL_LOSS_N_KINDS; k++)
    best = MAX (best, cl_loss_workspace_floats ((ClLossKind) k, n, d));
  return best;
}

ClLossResult
cl_loss_swd (ClLossKind kind, const float *z, int n, int d, float lambda, const float *w, const float *prior, float *dz,
             float *ws)
{
  g_return_val_if_fail (is_swd (kind), invalid_result ());
  g_return_val_if_fail (z != NULL && w != NULL && prior != NULL && ws != NULL, invalid_result ());
  g_return_val_if_fail (n >= 1 && d >= 1 && isfinite (lambda), invalid_result ());

  int rows = 2 * n;
  size_t rd = (size_t) rows * d;
  float *h = ws;
  float *nrm = h + rd;
  float *s = nrm + rows;
  float *proj = s + (size_t) rows * rows;
  float *prior_n = proj + rd;
  float *prior_proj = prior_n + rd;
  float *dh = prior_proj + rd;
  float *pairs = dh + rd;
  float *pairs_scratch = pairs + 2 * (size_t) rows;
  float *column = pairs_scratch + 2 * (size_t) rows;
  float *column_scratch = column + rows;

  /* Cosine Gram only for the reported accuracy: the SWD itself never compares rows. */
  normalise_rows (z, rows, d, h, nrm);
  gram_full (h, rows, d, s);

  ClLossResult r;
  r.accuracy = contrastive_accuracy (s, n);

  int hidden_norm = kind == CL_LOSS_SWD_SPHERE;
  const float *hid = hidden_norm ? h : z;
  const float *pri = prior;
  if (hidden_norm)
    {
      normalise_rows (prior, rows, d, prior_n, NULL);
      pri = prior_n;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, d, 1.0f, hid, d, w, d, 0.0f, proj, d);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, d, 1.0f, pri, d, w, d, 0.0f, prior_proj, d);

  /* dL/dP for the sample at sorted rank r of column c is 2 (P_sorted - prior_sorted)/(2n d);
   * it overwrites that column of proj, which is no longer needed once its pairs are built. */
  const double grad_scale = 2.0 * (double) lambda / ((double) rows * d);
  double dist = 0.0;
  for (int c = 0; c < d; c++)
    {
      for (int i = 0; i < rows; i++)
        {
          pairs[2 * i] = proj[(size_t) i * d + c];
          pairs[2 * i + 1] = (float) i;
          column[i] = prior_proj[(size_t) i * d + c];
        }
      const float *sorted = merge_sort_records (pairs, pairs_scratch, rows, 2);
      const float *prior_sorted = merge_sort_records (column, column_scratch, rows, 1);
      for (int k = 0; k < rows; k++)
        {
          double diff = (double) sorted[2 * k] - prior_sorted[k];
          dist += diff * diff;
          int i = (int) sorted[2 * k + 1];
          proj[(size_t) i * d + c] = (float) (grad_scale * diff);
        }
    }
  dist /= (double) rd;

  if (dz)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, d, d, 1.0f, proj, d, w, d, 0.0f, dh, d);
  r.alignment = alignment_mse (hid, n, d, dz ? dh : NULL);
  r.distribution = (double) lambda * dist;
  r.loss = r.alignment + r.distribution;
  if (dz)
    {
      if (hidden_norm)
        normalise_backward (h, nrm, dh, rows, d, dz);
      else
        memcpy (dz, dh, rd * sizeof (float));
    }
  return r;
}

void
cl_loss_draw_orthogonal (int d, ClRng *rng, float *w, float *work)
{
  g_return_if_fail (d >= 1 && rng != NULL && w != NULL && work != NULL);

  float *a = work; /* column-major for LAPACK */
  float *tau = a + (size_t) d * d;
  float *sign = tau + d;
  float *lapack_work = sign + d;
  int lwork = QR_LWORK_PER_COLUMN * d;
  int info = 0;

  for (size_t k = 0; k < (size_t) d * d; k++)
    a[k] = (float) cl_rng_normal (rng);

  sgeqrf_ (&d, &d, a, &d, tau, lapack_work, &lwork, &info);
  if (info == 0)
    {
      /* Householder QR fixes the signs of R's diagonal by convention, which biases Q;
       * multiplying column j of Q by sign(R_jj) makes the factorisation unique and Q Haar. */
      for (int j = 0; j < d; j++)
        sign[j] = a[(size_t) j * d + j] < 0.0f ? -1.0f : 1.0f;
      sorgqr_ (&d, &d, &d, a, &d, tau, lapack_work, &lwork, &info);
    }
  if (info != 0)
    {
      /* Only reachable with invalid arguments to LAPACK, i.e. a bug here. */
      g_critical ("cl_loss_draw_orthogonal: LAPACK QR failed (info %d) for d = %d", info, d);
      memset (w, 0, (size_t) d * d * sizeof (float));
      for (int j = 0; j < d; j++)
        w[(size_t) j * d + j] = 1.0f;
      return;
    }
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++)
      w[(size_t) i * d + j] = a[(size_t) j * d + i] * sign[j];
}

void
cl_loss_draw_prior (ClLossKind kind, int rows, int d, ClRng *rng, float *prior)
{
  g_return_if_fail (is_swd (kind) && rows >= 1 && d >= 1 && rng != NULL && prior != NULL);

  size_t count = (size_t) rows * d;
  if (kind == CL_LOSS_SWD_CUBE)
    for (size_t k = 0; k < count; k++)
      prior[k] = (float) (2.0 * cl_rng_uniform (rng) - 1.0);
  else
    for (size_t k = 0; k < count; k++)
      prior[k] = (float) cl_rng_normal (rng);
}

ClLossResult
cl_loss_compute (const ClLossParams *params, const float *z, int n, int d, ClRng *rng, float *dz, float *ws)
{
  g_return_val_if_fail (params != NULL, invalid_result ());
  switch (params->kind)
    {
    case CL_LOSS_NTXENT:
      return cl_ntxent (z, n, d, params->temperature, dz, ws);
    case CL_LOSS_DECOUPLED:
      return cl_loss_decoupled (z, n, d, params->temperature, params->lambda, dz, ws);
    case CL_LOSS_SWD_NORMAL:
    case CL_LOSS_SWD_CUBE:
    case CL_LOSS_SWD_SPHERE:
      {
        g_return_val_if_fail (rng != NULL && ws != NULL && n >= 1 && d >= 1, invalid_result ());
        /* The draws live after the core workspace of cl_loss_swd. */
        float *w = ws + swd_core_floats (n, d);
        float *prior = w + (size_t) d * d;
        float *qr_work = prior + 2 * (size_t) n * d;
        cl_loss_draw_orthogonal (d, rng, w, qr_work);
        cl_loss_draw_prior (params->kind, 2 * n, d, rng, prior);
        return cl_loss_swd (params->kind, z, n, d, params->lambda, w, prior, dz, ws);
      }
    case CL_LOSS_N_KINDS:
    default:
      break;
    }
  g_return_val_if_reached (invalid_result ());
}
