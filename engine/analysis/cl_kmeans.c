#include "engine/analysis/cl_kmeans.h"

#include "engine/base/cl_rng.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/* Mixed into the caller's seed so k-means never replays another CL_STREAM_PROBE user's draws. */
#define KMEANS_SEED_TAG 0x6b6d65616e732b2bULL
/* points_sse accumulates its double mean over blocks of this many dimensions (a stack array). */
#define MEAN_BLOCK 32

/* The points one run works on: all of them, or (bisecting) one leaf, i.e. those with
 * member_of[i] == member_id; splitting a leaf in place avoids gathering its rows. */
typedef struct
{
  const float *x;
  int n, dim;
  const int *member_of;
  int member_id;
} Points;

static inline int
is_member (const Points *p, int i)
{
  return p->member_of == NULL || p->member_of[i] == p->member_id;
}

static inline const float *
row (const Points *p, int i)
{
  return p->x + (size_t) i * p->dim;
}

/* Eight independent partial sums: the compiler vectorises them without -ffast-math (at -O2
 * too), and the summation order (hence every label) is fixed by the code, not by a BLAS build
 * or thread count. (Sixteen measured no faster.) */
static inline float
sqdist (const float *a, const float *b, int dim)
{
  float s[8] = { 0 };
  int d = 0;
  for (; d + 8 <= dim; d += 8)
    for (int t = 0; t < 8; t++)
      {
        float u = a[d + t] - b[d + t];
        s[t] += u * u;
      }
  float tail = 0;
  for (; d < dim; d++)
    {
      float u = a[d] - b[d];
      tail += u * u;
    }
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail;
}

/* Doubles stored in the float workspace through memcpy: no alignment or aliasing assumptions. */
static inline double
get_double (const float *slot)
{
  double v;
  memcpy (&v, slot, sizeof v);
  return v;
}

static inline void
set_double (float *slot, double v)
{
  memcpy (slot, &v, sizeof v);
}

typedef struct
{
  float *cur;    /* [k][dim] centroids of the run in progress */
  float *best;   /* [k][dim] centroids of the best run so far */
  float *counts; /* [k] cluster sizes (exact below 2^24) */
  float *first;  /* [k] first member of each cluster, for canonical ids */
  float *dist;   /* [n] squared distance of each point to its centre */
  /* [k][dim] double sums for the means: exact means make identical points coincide exactly
   * with their centroid, which "cannot be split" and "empty stays empty" rely on. */
  double *acc;
} Work;

static size_t
work_floats (int n, int dim, int k)
{
  size_t doubles = (size_t) k * dim * (sizeof (double) / sizeof (float)) + 1; /* + 1: alignment */
  return (size_t) 2 * k * dim + (size_t) 2 * k + (size_t) n + doubles;
}

static Work
work_from (float *ws, int n, int dim, int k)
{
  Work w;
  w.cur = ws;
  w.best = w.cur + (size_t) k * dim;
  w.counts = w.best + (size_t) k * dim;
  w.first = w.counts + k;
  w.dist = w.first + k;
  /* The workspace is allocated storage (documented), so doubles may live in it; skip one float
   * if needed to align them. */
  float *tail = w.dist + n;
  if ((uintptr_t) tail % _Alignof(double) != 0)
    tail++;
  w.acc = (double *) (void *) tail;
  return w;
}

static void
kmeanspp_init (const Points *p, int m, int k, ClRng *rng, float *cent, float *dist)
{
  int dim = p->dim;
  uint32_t r = cl_rng_below (rng, (uint32_t) m);
  int c0 = -1;
  for (int i = 0; i < p->n && c0 < 0; i++)
    if (is_member (p, i) && r-- == 0)
      c0 = i;
  memcpy (cent, row (p, c0), sizeof (float) * dim);
  for (int i = 0; i < p->n; i++)
    if (is_member (p, i))
      dist[i] = sqdist (row (p, i), cent, dim);

  for (int j = 1; j < k; j++)
    {
      double total = 0;
      for (int i = 0; i < p->n; i++)
        if (is_member (p, i))
          total += dist[i];
      int pick = -1;
      if (total > 0) /* also false for NaN input, which then falls back to duplicates */
        {
          double u = cl_rng_uniform (rng) * total, cum = 0;
          int last = -1;
          for (int i = 0; i < p->n; i++)
            if (is_member (p, i) && dist[i] > 0)
              {
                cum += dist[i];
                last = i;
                if (cum > u)
                  {
                    pick = i;
                    break;
                  }
              }
          if (pick < 0)
            pick = last; /* rounding left u at the very end of the cumulative sum */
        }
      float *cj = cent + (size_t) j * dim;
      if (pick < 0)
        {
          /* Every point already coincides with a centre: a duplicate centre stays empty,
           * because ties go to the lower id. */
          memcpy (cj, cent, sizeof (float) * dim);
          continue;
        }
      memcpy (cj, row (p, pick), sizeof (float) * dim);
      for (int i = 0; i < p->n; i++)
        if (is_member (p, i))
          {
            float d = sqdist (row (p, i), cj, dim);
            if (d < dist[i])
              dist[i] = d;
          }
    }
}

/* Nearest centroid (ties to the lower id); returns how many labels changed.
 * (An sgemm form, |x|^2 + |c|^2 - 2 x.c, measured no faster here: with k ~ 8 columns OpenBLAS
 * spends its time packing x, and its threads spin on a loaded 2-core machine.) */
static int
assign (const Points *p, int k, const float *cent, int *labels, Work *w)
{
  float *dist = w->dist, *counts = w->counts;
  int dim = p->dim, changed = 0;
  for (int j = 0; j < k; j++)
    counts[j] = 0;
  for (int i = 0; i < p->n; i++)
    {
      if (!is_member (p, i))
        continue;
      const float *xi = row (p, i);
      int best = 0;
      float bd = sqdist (xi, cent, dim);
      for (int j = 1; j < k; j++)
        {
          float d = sqdist (xi, cent + (size_t) j * dim, dim);
          if (d < bd)
            {
              bd = d;
              best = j;
            }
        }
      dist[i] = bd;
      if (labels[i] != best)
        changed++;
      labels[i] = best;
      counts[best] += 1;
    }
  return changed;
}

/* Gives each empty cluster the point farthest from its centroid. A point at distance > 0 can
 * still be alone in its cluster (its centroid is the previous iteration's mean), so moving it
 * may empty a lower id; that one is handled at the next iteration. Returns the points moved. */
static int
fix_empty (const Points *p, int k, float *cent, int *labels, float *dist, float *counts)
{
  int moved = 0;
  for (int j = 0; j < k; j++)
    {
      if (counts[j] > 0)
        continue;
      int far = -1;
      float fd = 0;
      for (int i = 0; i < p->n; i++)
        if (is_member (p, i) && dist[i] > fd)
          {
            fd = dist[i];
            far = i;
          }
      if (far < 0)
        continue; /* every point sits on its centroid: nothing left to separate */
      counts[labels[far]] -= 1;
      labels[far] = j;
      counts[j] = 1;
      dist[far] = 0;
      memcpy (cent + (size_t) j * p->dim, row (p, far), sizeof (float) * p->dim);
      moved++;
    }
  return moved;
}

/* One streaming pass over the rows; sums in double, in point order. */
static void
update_means (const Points *p, int k, const int *labels, const float *counts, float *cent, double *acc)
{
  int dim = p->dim;
  memset (acc, 0, sizeof (double) * (size_t) k * dim);
  for (int i = 0; i < p->n; i++)
    {
      if (!is_member (p, i))
        continue;
      const float *xi = row (p, i);
      double *a = acc + (size_t) labels[i] * dim;
      for (int d = 0; d < dim; d++)
        a[d] += xi[d];
    }
  for (int j = 0; j < k; j++)
    if (counts[j] > 0)
      for (int d = 0; d < dim; d++)
        cent[(size_t) j * dim + d] = (float) (acc[(size_t) j * dim + d] / counts[j]);
}

static double
inertia_of (const Points *p, const int *labels, const float *cent)
{
  double s = 0;
  for (int i = 0; i < p->n; i++)
    {
      if (!is_member (p, i))
        continue;
      const float *xi = row (p, i), *c = cent + (size_t) labels[i] * p->dim;
      for (int d = 0; d < p->dim; d++)
        {
          double u = (double) xi[d] - c[d];
          s += u * u;
        }
    }
  return s;
}

static void
relabel_swap (const Points *p, int *labels, int a, int b)
{
  for (int i = 0; i < p->n; i++)
    if (is_member (p, i))
      {
        if (labels[i] == a)
          labels[i] = b;
        else if (labels[i] == b)
          labels[i] = a;
      }
}

/* Renumbers clusters by decreasing size, ties by first member, empty ones last; returns the
 * number of non-empty clusters. counts must match labels. */
static int
canonicalise (const Points *p, int k, int *labels, float *cent, Work *w)
{
  int dim = p->dim;
  for (int j = 0; j < k; j++)
    w->first[j] = (float) p->n;
  for (int i = p->n - 1; i >= 0; i--)
    if (is_member (p, i))
      w->first[labels[i]] = (float) i;
  int used = 0;
  for (int r = 0; r < k; r++)
    {
      int pick = r;
      for (int j = r + 1; j < k; j++)
        if (w->counts[j] > w->counts[pick] || (w->counts[j] == w->counts[pick] && w->first[j] < w->first[pick]))
          pick = j;
      if (w->counts[pick] > 0)
        used++;
      if (pick == r)
        continue;
      relabel_swap (p, labels, r, pick);
      for (int d = 0; d < dim; d++)
        {
          float t = cent[(size_t) r * dim + d];
          cent[(size_t) r * dim + d] = cent[(size_t) pick * dim + d];
          cent[(size_t) pick * dim + d] = t;
        }
      float t = w->counts[r];
      w->counts[r] = w->counts[pick];
      w->counts[pick] = t;
      t = w->first[r];
      w->first[r] = w->first[pick];
      w->first[pick] = t;
    }
  return used;
}

/* All restarts on the points of p; leaves canonical labels (members only), the kept centroids
 * in w->best and their sizes in w->counts. Returns the number of non-empty clusters. */
static int
run_best (const Points *p, int k, int restarts, int max_iter, ClRng *rng, int *labels, Work *w, double *inertia_out)
{
  int m = 0;
  for (int i = 0; i < p->n; i++)
    m += is_member (p, i);
  double best_inertia = INFINITY;
  for (int r = 0; r < restarts; r++)
    {
      kmeanspp_init (p, m, k, rng, w->cur, w->dist);
      for (int i = 0; i < p->n; i++)
        if (is_member (p, i))
          labels[i] = -1;
      int changed = assign (p, k, w->cur, labels, w);
      for (int it = 0; it < max_iter; it++)
        {
          int moved = fix_empty (p, k, w->cur, labels, w->dist, w->counts);
          if (changed == 0 && moved == 0)
            break;
          update_means (p, k, labels, w->counts, w->cur, w->acc);
          changed = assign (p, k, w->cur, labels, w);
        }
      /* Every exit follows an assignment, so the labels are the nearest centroids and the
       * kept run can be recovered below from its centroids alone. */
      double inertia = inertia_of (p, labels, w->cur);
      if (r == 0 || inertia < best_inertia)
        {
          best_inertia = inertia;
          memcpy (w->best, w->cur, sizeof (float) * (size_t) k * p->dim);
        }
    }
  assign (p, k, w->best, labels, w);
  if (inertia_out)
    *inertia_out = best_inertia;
  return canonicalise (p, k, labels, w->best, w);
}

static void
seed_rng (ClRng *rng, uint64_t seed)
{
  cl_rng_seed (rng, seed ^ KMEANS_SEED_TAG, CL_STREAM_PROBE);
}

size_t
cl_kmeans_workspace_floats (int n, int dim, int k)
{
  if (n < 1 || dim < 1 || k < 1)
    return 0;
  return work_floats (n, dim, k);
}

int
cl_kmeans (const float *x, int n, int dim, int k, int restarts, uint64_t seed, int max_iter, int *labels,
           float *centroids, double *inertia_out, float *ws)
{
  if (!x || !labels || !ws || n < 1 || n >= CL_KMEANS_MAX_POINTS || dim < 1 || k < 1 || restarts < 1 || max_iter < 0)
    return -1;
  Points p = { x, n, dim, NULL, 0 };
  Work w = work_from (ws, n, dim, k);
  ClRng rng;
  seed_rng (&rng, seed);
  int used = run_best (&p, k, restarts, max_iter, &rng, labels, &w, inertia_out);
  if (centroids)
    memcpy (centroids, w.best, sizeof (float) * (size_t) k * dim);
  return used;
}

/* ---------------------------------------------------------------- bisecting */

/* Sum of squared distances to the exact (double) mean: exactly 0 for identical points, which
 * is how a leaf that cannot be split is recognised. */
static double
points_sse (const Points *p)
{
  int dim = p->dim, m = 0;
  for (int i = 0; i < p->n; i++)
    m += is_member (p, i);
  if (m < 2)
    return 0;
  double sse = 0;
  for (int d0 = 0; d0 < dim; d0 += MEAN_BLOCK)
    {
      int nb = MIN (MEAN_BLOCK, dim - d0);
      double mean[MEAN_BLOCK] = { 0 };
      for (int i = 0; i < p->n; i++)
        if (is_member (p, i))
          for (int t = 0; t < nb; t++)
            mean[t] += row (p, i)[d0 + t];
      for (int t = 0; t < nb; t++)
        mean[t] /= m;
      for (int i = 0; i < p->n; i++)
        if (is_member (p, i))
          for (int t = 0; t < nb; t++)
            {
              double u = row (p, i)[d0 + t] - mean[t];
              sse += u * u;
            }
    }
  return sse;
}

size_t
cl_kmeans_bisect_workspace_floats (int n, int dim, int kmax)
{
  if (n < 1 || dim < 1 || kmax < 2)
    return 0;
  return work_floats (n, dim, 2) + (size_t) 2 * kmax; /* + one double SSE per leaf */
}

int
cl_kmeans_bisect (const float *x, int n, int dim, int kmax, int restarts, uint64_t seed, int *labels_per_k,
                  int *parent_per_k, float *ws)
{
  if (!x || !labels_per_k || !parent_per_k || !ws || n < 1 || n >= CL_KMEANS_MAX_POINTS || dim < 1 || kmax < 2 ||
      restarts < 1)
    return -1;
  Work w = work_from (ws, n, dim, 2);
  float *sse = ws + work_floats (n, dim, 2); /* [kmax] doubles; < 0 marks a leaf that failed to split */
  ClRng rng;
  seed_rng (&rng, seed);

  Points all = { x, n, dim, NULL, 0 };
  set_double (sse, points_sse (&all));
  int leaves = 1;
  for (int k = 2; k <= kmax; k++)
    {
      int *lab = labels_per_k + (size_t) (k - 2) * n;
      int *par = parent_per_k + (size_t) (k - 2) * kmax;
      const int *prev = k > 2 ? lab - n : NULL;
      if (prev)
        memcpy (lab, prev, sizeof (int) * n);
      else
        memset (lab, 0, sizeof (int) * n);
      for (int c = 0; c < kmax; c++)
        par[c] = c < leaves ? c : -1;

      for (;;)
        {
          int c = -1;
          double cs = 0;
          for (int j = 0; j < leaves; j++)
            if (get_double (sse + 2 * j) > cs)
              {
                cs = get_double (sse + 2 * j);
                c = j;
              }
          if (c < 0)
            break; /* every leaf is a set of identical points */
          /* Membership is read from the previous row (all points at k = 2) while the split
           * is written into this row, so the two never alias. */
          Points leaf = { x, n, dim, prev, prev ? c : 0 };
          int halves = run_best (&leaf, 2, restarts, CL_KMEANS_DEFAULT_MAX_ITER, &rng, lab, &w, NULL);
          for (int i = 0; i < n; i++)
            if (is_member (&leaf, i))
              lab[i] = (halves == 2 && lab[i] == 1) ? leaves : c;
          if (halves < 2)
            {
              /* Cannot happen for points that are not all identical (re-seeding keeps both
               * halves non-empty); kept so a pathological input cannot loop forever. */
              set_double (sse + 2 * c, -1);
              continue;
            }
          Points kept = { x, n, dim, lab, c }, split = { x, n, dim, lab, leaves };
          set_double (sse + 2 * c, points_sse (&kept));
          set_double (sse + 2 * leaves, points_sse (&split));
          par[leaves] = c;
          leaves++;
          break;
        }
    }
  return leaves;
}

/* ---------------------------------------------------------------- parents, positions */

void
cl_kmeans_bisect_ancestors (const int *parent_per_k, int kmax, int k_coarse, int k_fine, int *ancestor)
{
  if (k_fine < 1)
    return;
  gboolean valid = k_coarse >= 1 && k_coarse <= k_fine && k_fine <= kmax;
  for (int c = 0; c < k_fine; c++)
    {
      int a = valid ? c : -1;
      /* Existence at k_fine: its own parent entry (k_fine = 1 has one cluster, the root). */
      if (a >= 0 && k_fine >= 2 && parent_per_k[(size_t) (k_fine - 2) * kmax + c] < 0)
        a = -1;
      for (int k = k_fine; k > k_coarse && a >= 0; k--)
        a = parent_per_k[(size_t) (k - 2) * kmax + a];
      ancestor[c] = a;
    }
}

void
cl_kmeans_match_parents (const int *labels_coarse, int kc, const int *labels_fine, int kf, int n, int *parent_of_fine)
{
  if (kf < 1)
    return;
  for (int f = 0; f < kf; f++)
    parent_of_fine[f] = -1;
  if (kc < 1 || n < 1)
    return;
  gint64 *overlap = g_new0 (gint64, (size_t) kc * kf);
  for (int i = 0; i < n; i++)
    {
      int c = labels_coarse[i], f = labels_fine[i];
      if (c >= 0 && c < kc && f >= 0 && f < kf)
        overlap[(size_t) f * kc + c]++;
    }
  for (int f = 0; f < kf; f++)
    {
      gint64 most = 0;
      for (int c = 0; c < kc; c++)
        if (overlap[(size_t) f * kc + c] > most)
          {
            most = overlap[(size_t) f * kc + c];
            parent_of_fine[f] = c;
          }
    }
  g_free (overlap);
}

void
cl_kmeans_positions (const float *chw, int channels, int height, int width, int normalize, float *x)
{
  if (channels < 1 || height < 1 || width < 1)
    return;
  size_t hw = (size_t) height * width;
  for (size_t q = 0; q < hw; q++)
    {
      float *xq = x + q * channels;
      double s = 0;
      for (int c = 0; c < channels; c++)
        {
          xq[c] = chw[(size_t) c * hw + q];
          s += (double) xq[c] * xq[c];
        }
      if (normalize && s > 0)
        {
          double inv = 1.0 / sqrt (s);
          for (int c = 0; c < channels; c++)
            xq[c] = (float) (xq[c] * inv);
        }
    }
}
