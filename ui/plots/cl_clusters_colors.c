#include "ui/plots/cl_clusters_plot_private.h"

#include <math.h>
#include <string.h>

#define MAX_K 256 /* clusters per column beyond this are left uncoloured */

/* ---------------------------------------------------------------- colours */

static ClRgb
hsv (double hue, double s, double v)
{
  double c = v * s, hp = fmod (hue, 360.0) / 60.0;
  double x = c * (1.0 - fabs (fmod (hp, 2.0) - 1.0));
  double r = 0, g = 0, b = 0;
  if (hp < 1)
    {
      r = c;
      g = x;
    }
  else if (hp < 2)
    {
      r = x;
      g = c;
    }
  else if (hp < 3)
    {
      g = c;
      b = x;
    }
  else if (hp < 4)
    {
      g = x;
      b = c;
    }
  else if (hp < 5)
    {
      r = x;
      b = c;
    }
  else
    {
      r = c;
      b = x;
    }
  return (ClRgb){ r + v - c, g + v - c, b + v - c };
}

/* The series colours without black, which has no hue to shade; then golden-angle hues. */
static ClRgb
base_color (int j)
{
  static const ClPlotOkabeIto order[] = {
    CL_PLOT_OI_BLUE,   CL_PLOT_OI_VERMILLION, CL_PLOT_OI_GREEN,  CL_PLOT_OI_PURPLE,
    CL_PLOT_OI_ORANGE, CL_PLOT_OI_SKY_BLUE,   CL_PLOT_OI_YELLOW,
  };
  if (j >= 0 && j < (int) G_N_ELEMENTS (order))
    return cl_plot_okabe_ito (order[j]);
  return hsv (fmod (15.0 + j * 137.508, 360.0), 0.65, 0.8);
}

/* Sibling s of nsib children of parent (depth = shading steps from a base colour): spread
 * between darker and lighter versions of the parent, blending with black or white so the
 * hue stays the parent's. Each level spreads less, so grandchildren stay inside their
 * parent's band instead of overtaking an uncle's shade. */
static ClRgb
shade (ClRgb parent, int s, int nsib, int depth)
{
  if (nsib <= 1)
    return parent;
  double u = -1.0 + 2.0 * s / (nsib - 1);
  double damp = pow (0.55, depth - 1);
  double t = u < 0 ? u * 0.4 * damp : u * 0.55 * damp;
  return t < 0 ? cl_plot_mix (parent, (ClRgb){ 0, 0, 0 }, -t) : cl_plot_mix (parent, (ClRgb){ 1, 1, 1 }, t);
}

int
cl_clusters_k_of (const ClClustersData *d, int col)
{
  if (d->ks == NULL)
    return 0;
  int k = d->ks[col];
  return k < 1 ? 0 : MIN (k, MAX_K);
}

gboolean
cl_clusters_row_grid (const ClClustersData *d, int row, int *gh, int *gw)
{
  *gh = d->grid_h != NULL ? d->grid_h[row] : 0;
  *gw = d->grid_w != NULL ? d->grid_w[row] : 0;
  return *gh > 0 && *gw > 0;
}

const int *
cl_clusters_label_map (const ClClustersData *d, int row, int col)
{
  int gh, gw;
  if (d->labels == NULL || !cl_clusters_row_grid (d, row, &gh, &gw))
    return NULL;
  return d->labels[row * d->n_cols + col];
}

/* Parent (at column col - 1) of each cluster at col: given, else the previous column's
 * cluster it overlaps most, else -1. */
static void
parents_of (const ClClustersData *d, int row, int col, int *par)
{
  int k = cl_clusters_k_of (d, col), kp = cl_clusters_k_of (d, col - 1);
  const int *given = d->parent != NULL ? d->parent[row * d->n_cols + col] : NULL;
  gboolean missing = FALSE;
  for (int j = 0; j < k; j++)
    {
      par[j] = given != NULL && given[j] >= 0 && given[j] < kp ? given[j] : -1;
      missing |= par[j] < 0;
    }
  const int *cur = cl_clusters_label_map (d, row, col), *prev = cl_clusters_label_map (d, row, col - 1);
  if (!missing || cur == NULL || prev == NULL || kp == 0)
    return;
  int gh, gw;
  cl_clusters_row_grid (d, row, &gh, &gw);
  int *overlap = g_new0 (int, (size_t) k *kp);
  for (int i = 0; i < gh * gw; i++)
    if (cur[i] >= 0 && cur[i] < k && prev[i] >= 0 && prev[i] < kp)
      overlap[cur[i] * kp + prev[i]]++;
  for (int j = 0; j < k; j++)
    if (par[j] < 0)
      {
        int best = 0;
        for (int p = 0; p < kp; p++)
          if (overlap[j * kp + p] > best)
            {
              best = overlap[j * kp + p];
              par[j] = p;
            }
      }
  g_free (overlap);
}

#define MATCH_LATTICE 48 /* sample points per side when comparing maps of different sizes */

/* The label of map (gh x gw) under the lattice point (i, j). */
static int
lattice_label (const int *map, int gh, int gw, int i, int j)
{
  return map[(size_t) ((long) i * gh / MATCH_LATTICE) * gw + (int) ((long) j * gw / MATCH_LATTICE)];
}

/* Which base colour each first-column cluster of a row gets. K-means numbers clusters
 * arbitrarily, so row r's clusters are matched to row r - 1's by overlap (greedily, largest
 * first) and take their colours: the same region keeps its hue from layer to layer. Row 0,
 * and any row without maps to compare, keeps cluster j -> base colour j. */
static void
base_indices (const ClClustersData *d, int row, int *index)
{
  int k = cl_clusters_k_of (d, 0);
  for (int j = 0; j < k; j++)
    index[j] = j;
  if (row == 0 || k == 0)
    return;
  const int *cur = cl_clusters_label_map (d, row, 0), *prev = cl_clusters_label_map (d, row - 1, 0);
  if (cur == NULL || prev == NULL)
    return;
  int *prev_index = g_new (int, k);
  base_indices (d, row - 1, prev_index);
  int gh, gw, ph, pw;
  cl_clusters_row_grid (d, row, &gh, &gw);
  cl_clusters_row_grid (d, row - 1, &ph, &pw);
  int *overlap = g_new0 (int, (size_t) k *k);
  for (int i = 0; i < MATCH_LATTICE; i++)
    for (int j = 0; j < MATCH_LATTICE; j++)
      {
        int a = lattice_label (cur, gh, gw, i, j), b = lattice_label (prev, ph, pw, i, j);
        if (a >= 0 && a < k && b >= 0 && b < k)
          overlap[a * k + b]++;
      }
  gboolean *cur_done = g_new0 (gboolean, k), *prev_done = g_new0 (gboolean, k), *used = g_new0 (gboolean, k);
  for (;;)
    {
      int best = 0, ba = -1, bb = -1;
      for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++)
          if (!cur_done[a] && !prev_done[b] && overlap[a * k + b] > best)
            {
              best = overlap[a * k + b];
              ba = a;
              bb = b;
            }
      if (ba < 0)
        break;
      cur_done[ba] = prev_done[bb] = TRUE;
      index[ba] = prev_index[bb];
      used[prev_index[bb]] = TRUE;
    }
  /* clusters that overlap nothing take the colours left over, in order */
  int next = 0;
  for (int a = 0; a < k; a++)
    if (!cur_done[a])
      {
        while (next < k && used[next])
          next++;
        index[a] = next < k ? next : a;
        if (next < k)
          used[next] = TRUE;
      }
  g_free (cur_done);
  g_free (prev_done);
  g_free (used);
  g_free (overlap);
  g_free (prev_index);
}

/* Colours column by column, each cluster a shade of its parent's. */
RowColors
cl_clusters_row_colors (const ClClustersData *d, int row)
{
  RowColors rc = { d->n_cols, g_new0 (ClRgb *, d->n_cols), g_new0 (int *, d->n_cols) };
  int **depth = g_new0 (int *, d->n_cols);
  for (int c = 0; c < d->n_cols; c++)
    {
      int k = cl_clusters_k_of (d, c);
      rc.color[c] = g_new (ClRgb, MAX (k, 1));
      rc.parent[c] = g_new (int, MAX (k, 1));
      depth[c] = g_new0 (int, MAX (k, 1));
      for (int j = 0; j < k; j++)
        rc.parent[c][j] = -1;
      if (c == 0)
        {
          int *index = g_new (int, MAX (k, 1));
          base_indices (d, row, index);
          for (int j = 0; j < k; j++)
            rc.color[c][j] = base_color (index[j]);
          g_free (index);
          continue;
        }
      if (cl_clusters_k_of (d, c - 1) == 0)
        {
          for (int j = 0; j < k; j++)
            rc.color[c][j] = base_color (j);
          continue;
        }
      parents_of (d, row, c, rc.parent[c]);
      for (int j = 0; j < k; j++)
        {
          int p = rc.parent[c][j];
          if (p < 0)
            {
              rc.color[c][j] = base_color (j);
              continue;
            }
          int s = 0, nsib = 0;
          for (int i = 0; i < k; i++)
            if (rc.parent[c][i] == p)
              {
                s += i < j;
                nsib++;
              }
          depth[c][j] = depth[c - 1][p] + (nsib > 1);
          rc.color[c][j] = shade (rc.color[c - 1][p], s, nsib, MAX (depth[c][j], 1));
        }
    }
  for (int c = 0; c < d->n_cols; c++)
    g_free (depth[c]);
  g_free (depth);
  return rc;
}

void
cl_clusters_row_colors_free (RowColors *rc)
{
  for (int c = 0; c < rc->n_cols; c++)
    {
      g_free (rc->color[c]);
      g_free (rc->parent[c]);
    }
  g_free (rc->color);
  g_free (rc->parent);
}

/* The first-column cluster that cluster j at col descends from, and its ancestor one column
 * up, or -1 where the chain breaks. */
int
cl_clusters_ancestor (const RowColors *rc, int col, int j, int up)
{
  for (int c = col; c > col - up && c > 0 && j >= 0; c--)
    j = rc->parent[c][j];
  return j;
}

gboolean
cl_clusters_data_usable (const ClClustersData *d)
{
  return d != NULL && d->n_rows > 0 && d->n_cols > 0 && d->ks != NULL && d->n_rows <= 64 && d->n_cols <= 64;
}

ClRgb
cl_clusters_plot_cluster_color (const ClClustersData *d, int row, int col, int label)
{
  ClRgb grey = { 0.5, 0.5, 0.5 };
  if (!cl_clusters_data_usable (d) || row < 0 || row >= d->n_rows || col < 0 || col >= d->n_cols || label < 0 ||
      label >= cl_clusters_k_of (d, col))
    return grey;
  RowColors rc = cl_clusters_row_colors (d, row);
  ClRgb c = rc.color[col][label];
  cl_clusters_row_colors_free (&rc);
  return c;
}
