/* The cluster scores: ARI, foreground ARI, best-union IoU, and label maps downsampled to a
 * feature grid (see cl_cluster_scores.h). */
#include "engine/analysis/cl_cluster_scores.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ARI */

typedef struct
{
  gint64 key;
  int index;
} KeyIndex;

static int
cmp_key (const void *a, const void *b)
{
  const KeyIndex *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->index - y->index;
}

/* Dense ids 0..m-1 for arbitrary int labels (sorted order); returns m. */
static int
compact_ids (const int *labels, int n, KeyIndex *tmp, int *ids)
{
  for (int i = 0; i < n; i++)
    {
      tmp[i].key = labels[i];
      tmp[i].index = i;
    }
  qsort (tmp, (size_t) n, sizeof *tmp, cmp_key);
  int m = 0;
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && tmp[i].key != tmp[i - 1].key)
        m++;
      ids[tmp[i].index] = m;
    }
  return m + 1;
}

/* Sum of squared run lengths of equal keys in a sorted array. */
static gint64
sum_sq_runs (const KeyIndex *sorted, int n)
{
  gint64 s = 0, run = 0;
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && sorted[i].key != sorted[i - 1].key)
        {
          s += run * run;
          run = 0;
        }
      run++;
    }
  return s + run * run;
}

double
cl_adjusted_rand_index (const int *a, const int *b, int n)
{
  if (n <= 1)
    return 1.0;
  /* Sorting keeps memory O(n) whatever the number of distinct labels; a dense contingency
   * table would be ka x kb, up to n^2 for near-singleton partitions. */
  KeyIndex *tmp = g_new (KeyIndex, n);
  int *ia = g_new (int, n), *ib = g_new (int, n);
  compact_ids (a, n, tmp, ia);
  gint64 sum_a = sum_sq_runs (tmp, n); /* sum over clusters of a of size^2 */
  int mb = compact_ids (b, n, tmp, ib);
  gint64 sum_b = sum_sq_runs (tmp, n);
  for (int i = 0; i < n; i++)
    {
      tmp[i].key = (gint64) ia[i] * mb + ib[i];
      tmp[i].index = i;
    }
  qsort (tmp, (size_t) n, sizeof *tmp, cmp_key);
  gint64 sum_ab = sum_sq_runs (tmp, n); /* sum over contingency cells of n_ij^2 */
  g_free (tmp);
  g_free (ia);
  g_free (ib);

  /* Ordered-pair counts (each unordered pair twice; the ratio below is scale-free). */
  gint64 nn = (gint64) n * n;
  gint64 tp = sum_ab - n;     /* together in both */
  gint64 fp = sum_b - sum_ab; /* together in b only */
  gint64 fn = sum_a - sum_ab; /* together in a only */
  gint64 tn = nn - tp - fp - fn - n;
  if (fp == 0 && fn == 0)
    return 1.0;
  /* fp or fn > 0 makes the denominator > 0. Products reach n^4: long double keeps the
   * difference accurate when ARI is near 0 for large n. */
  long double num = 2.0L * ((long double) tp * tn - (long double) fn * fp);
  long double den = (long double) (tp + fn) * (fn + tn) + (long double) (tp + fp) * (fp + tn);
  return (double) (num / den);
}

double
cl_foreground_ari (const int *labels, const uint8_t *instances, int n)
{
  int m = 0;
  for (int i = 0; i < n; i++)
    m += instances[i] != 0;
  if (m == 0)
    return NAN;
  int *la = g_new (int, m), *lb = g_new (int, m);
  for (int i = 0, j = 0; i < n; i++)
    if (instances[i] != 0)
      {
        la[j] = labels[i];
        lb[j] = instances[i];
        j++;
      }
  double ari = cl_adjusted_rand_index (la, lb, m);
  g_free (la);
  g_free (lb);
  return ari;
}

/* ---------------------------------------------------------------- best-union IoU */

typedef struct
{
  const gint64 *size, *fg;
} ClusterStats;

/* Decreasing foreground fraction fg/size, compared exactly by cross-multiplication; ties by id. */
static gint
cmp_fraction (gconstpointer pa, gconstpointer pb, gpointer data)
{
  const ClusterStats *s = data;
  int a = *(const int *) pa, b = *(const int *) pb;
  gint64 lhs = s->fg[a] * s->size[b], rhs = s->fg[b] * s->size[a];
  if (lhs != rhs)
    return lhs > rhs ? -1 : 1;
  return a - b;
}

/* Why scanning prefixes is exact. Cluster j has size s_j and f_j foreground points; F is the
 * foreground total. For a set S, IoU(S) = f(S) / (F + s(S) - f(S)), denominator > 0 as F > 0.
 * Let t* be the optimum and, for any S, g(S) = f(S) - t* (F + s(S) - f(S)) = sum_{j in S} w_j - t* F
 * with w_j = f_j (1 + t*) - t* s_j. IoU(S) >= t* iff g(S) >= 0, and no set beats t*, so
 * max_S g(S) = 0. g is maximised by taking exactly the clusters with w_j > 0, i.e. with
 * f_j / s_j > t* / (1 + t*): a threshold on the foreground fraction. That set P has g(P) >= 0, so
 * IoU(P) >= t*: P is optimal, and P is a prefix of the clusters sorted by decreasing fraction.
 * Scanning every prefix (including the empty one, IoU 0) therefore finds t*. */
double
cl_best_union_iou_set (const int *labels, int k, const uint8_t *foreground, int n, uint8_t *in_union)
{
  if (in_union && k > 0)
    memset (in_union, 0, (size_t) k);
  gint64 total_fg = 0;
  for (int i = 0; i < n; i++)
    total_fg += foreground[i] != 0;
  if (total_fg == 0)
    return NAN;
  if (k < 1)
    return 0.0;
  gint64 *size = g_new0 (gint64, k), *fg = g_new0 (gint64, k);
  for (int i = 0; i < n; i++)
    {
      int c = labels[i];
      if (c >= 0 && c < k)
        {
          size[c]++;
          fg[c] += foreground[i] != 0;
        }
    }
  int *order = g_new (int, k), m = 0;
  for (int c = 0; c < k; c++)
    if (size[c] > 0)
      order[m++] = c;
  ClusterStats stats = { size, fg };
  g_qsort_with_data (order, m, sizeof (int), cmp_fraction, &stats);

  double best = 0;
  int best_len = 0;
  gint64 inter = 0, uni = total_fg;
  for (int r = 0; r < m; r++)
    {
      int c = order[r];
      inter += fg[c];
      uni += size[c] - fg[c];
      double iou = (double) inter / (double) uni;
      if (iou > best)
        {
          best = iou;
          best_len = r + 1;
        }
    }
  if (in_union)
    for (int r = 0; r < best_len; r++)
      in_union[order[r]] = 1;
  g_free (order);
  g_free (size);
  g_free (fg);
  return best;
}

double
cl_best_union_iou (const int *labels, int k, const uint8_t *foreground, int n)
{
  return cl_best_union_iou_set (labels, k, foreground, n, NULL);
}

/* ---------------------------------------------------------------- downsampling */

void
cl_downsample_labels (const uint8_t *map, int h, int w, int gh, int gw, uint8_t *out)
{
  if (h < 1 || w < 1 || gh < 1 || gw < 1)
    return;
  int votes[256] = { 0 };
  for (int gy = 0; gy < gh; gy++)
    {
      int y0 = (int) ((gint64) gy * h / gh), y1 = (int) ((gint64) (gy + 1) * h / gh);
      if (y1 <= y0)
        y1 = y0 + 1;
      for (int gx = 0; gx < gw; gx++)
        {
          int x0 = (int) ((gint64) gx * w / gw), x1 = (int) ((gint64) (gx + 1) * w / gw);
          if (x1 <= x0)
            x1 = x0 + 1;
          /* The most frequent label, the smallest on a tie, found while voting; only the bins
           * this cell touched are cleared again (clearing all 256 per cell dominated the clustering). */
          int best = 0, best_votes = 0;
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              {
                const int v = map[(size_t) y * w + x], c = ++votes[v];
                if (c > best_votes || (c == best_votes && v < best))
                  best = v, best_votes = c;
              }
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              votes[map[(size_t) y * w + x]] = 0;
          out[(size_t) gy * gw + gx] = (uint8_t) best;
        }
    }
}
