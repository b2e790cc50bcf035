/* Local-feature clustering: k-means of raw pixels and of each conv layer's feature map on fixed
 * held-out canvases, scored against the objects (paper section 2). */
#include "engine/train/cl_trainer_private.h"

#include <math.h>
#include <string.h>

#include "engine/analysis/cl_kmeans.h"
#include "engine/base/cl_rng.h"
#include "engine/nn/cl_arch.h"

static const int cluster_ks[CL_CLUSTER_KS] = { 2, 4, 8 };

/* The conv layers to cluster, at most CL_CLUSTER_LAYERS - 1: the last conv of each map size (for
 * convn-same every conv; for convn-deep the stride-1 conv that ends each resolution, whose receptive
 * field is the widest at that size), the deepest ones when there are more sizes than rows.
 * Returns how many; conv[] gets model layer indices, shallow first. */
static int
cluster_conv_layers (const ClModel *model, int conv[CL_CLUSTER_LAYERS - 1])
{
  const ClArchSpec *arch = cl_arch_find (cl_model_spec (model)->arch);
  int picked[CL_ARCH_MAX_CONV], n = 0;
  for (int l = 0; l < arch->n_conv; l++)
    if (l + 1 == arch->n_conv || arch->conv[l + 1].stride != 1)
      picked[n++] = l;
  int first = MAX (0, n - (CL_CLUSTER_LAYERS - 1));
  for (int i = first; i < n; i++)
    conv[i - first] = picked[i];
  return n - first;
}

/* Scores one clustering of a grid of n cells against the canvas' instance mask on that grid. */
static void
score_clusters (const int *labels, int k, const uint8_t *grid_inst, const uint8_t *grid_fg, int n, double *iou,
                double *ari)
{
  *iou = cl_best_union_iou (labels, k, grid_fg, n);
  *ari = cl_foreground_ari (labels, grid_inst, n);
}

/* For each layer (raw pixels first) and k: bisecting k-means of the L2-normalised channel
 * vectors of each position, scored against ground truth, averaged over the fixed canvases.
 * Runs at probe time on the trainer thread (it allocates: it is not part of the step). */
void
cl_trainer_run_clusters (ClTrainer *t)
{
  int h = t->height, w = t->width, plane = h * w, c = t->img_channels;
  size_t view_size = (size_t) t->in_channels * plane;
  /* The canvases go through the step's input buffer and one forward: at most 2 x batch of them. */
  int n_img = MIN (MIN (t->cfg.probe_cluster_images, t->probe_n_test), 2 * t->batch);
  uint8_t *masks = g_new (uint8_t, (size_t) n_img * plane);
  for (int i = 0; i < n_img; i++)
    {
      int id = (int) t->probe_test_idx[i];
      cl_scenes_render (t->scenes, 1, id, t->scene_buf, NULL, masks + (size_t) i * plane);
      float *dst = t->x + (size_t) i * view_size;
      for (int j = 0; j < c * plane; j++)
        dst[j] = t->scene_buf[j] * (1.0f / 255.0f);
      cl_batch_write_bit_planes (t, dst, cl_batch_image_code ((uint64_t) t->cfg.train_seed, 1, id));
    }
  cl_model_forward (t->model, t->x, n_img, FALSE);

  ClClusterMaps *maps = g_new0 (ClClusterMaps, 1);
  maps->ref_count = 1;
  maps->step = t->step;
  int conv[CL_CLUSTER_LAYERS - 1];
  maps->n_layers = 1 + cluster_conv_layers (t->model, conv);
  /* clusters.csv's layer column: "pixels", then the conv layer's 1-based number. */
  maps->layer_names[0] = "pixels";
  for (int l = 1; l < CL_CLUSTER_LAYERS; l++)
    {
      char name[16] = "conv?";
      if (l < maps->n_layers)
        g_snprintf (name, sizeof name, "conv%d", conv[l - 1] + 1);
      maps->layer_names[l] = g_intern_string (name);
    }
  for (int j = 0; j < CL_CLUSTER_KS; j++)
    maps->ks[j] = cluster_ks[j];
  maps->img_c = c;
  maps->img_h = h;
  maps->img_w = w;
  maps->image = g_memdup2 (t->x, sizeof (float) * (size_t) c * plane);
  maps->n_images = n_img;

  double sum_iou[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 }, sum_ari[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 };
  int n_iou[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 }, n_ari[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 };
  for (int l = 0; l < maps->n_layers; l++)
    {
      int ch, gh, gw;
      const float *act = NULL;
      if (l == 0)
        ch = c, gh = h, gw = w;
      else
        act = cl_model_conv_activation (t->model, conv[l - 1], &ch, &gh, &gw);
      int n = gh * gw;
      maps->grid_h[l] = gh;
      maps->grid_w[l] = gw;
      float *x = g_new (float, (size_t) n *ch);
      float *ws = g_new (float, cl_kmeans_bisect_workspace_floats (n, ch, CLUSTER_KMAX));
      int *labels = g_new (int, (size_t) (CLUSTER_KMAX - 1) * n);
      int *parents = g_new (int, (size_t) (CLUSTER_KMAX - 1) * CLUSTER_KMAX);
      uint8_t *grid_inst = g_new (uint8_t, n), *grid_fg = g_new (uint8_t, n);
      for (int i = 0; i < n_img; i++)
        {
          const float *chw = l == 0 ? t->x + (size_t) i * view_size : act + (size_t) i * ch * n;
          /* Raw pixels are clustered as they are (normalising a grey value leaves only its sign). */
          cl_kmeans_positions (chw, ch, gh, gw, l > 0, x);
          cl_kmeans_bisect (x, n, ch, CLUSTER_KMAX, 2, (uint64_t) t->cfg.train_seed + (uint64_t) i, labels, parents,
                            ws);
          /* The mask on this layer's grid, once for every k. */
          cl_downsample_labels (masks + (size_t) i * plane, h, w, gh, gw, grid_inst);
          for (int c = 0; c < n; c++)
            grid_fg[c] = grid_inst[c] > 0;
          for (int j = 0; j < CL_CLUSTER_KS; j++)
            {
              int k = cluster_ks[j];
              const int *lk = labels + (size_t) (k - 2) * n;
              double iou, ari;
              score_clusters (lk, k, grid_inst, grid_fg, n, &iou, &ari);
              int cell = l * CL_CLUSTER_KS + j;
              if (isfinite (iou))
                sum_iou[cell] += iou, n_iou[cell]++;
              if (isfinite (ari))
                sum_ari[cell] += ari, n_ari[cell]++;
              if (i == 0)
                {
                  maps->iou_drawn[cell] = iou;
                  maps->ari_drawn[cell] = ari;
                  maps->labels[cell] = g_memdup2 (lk, sizeof (int) * n);
                  if (j > 0)
                    {
                      maps->parent[cell] = g_new (int, k);
                      cl_kmeans_bisect_ancestors (parents, CLUSTER_KMAX, cluster_ks[j - 1], k, maps->parent[cell]);
                    }
                }
            }
        }
      g_free (x);
      g_free (ws);
      g_free (labels);
      g_free (parents);
      g_free (grid_inst);
      g_free (grid_fg);
    }
  for (int l = 0; l < maps->n_layers; l++)
    for (int j = 0; j < CL_CLUSTER_KS; j++)
      {
        int cell = l * CL_CLUSTER_KS + j;
        maps->iou[cell] = n_iou[cell] ? sum_iou[cell] / n_iou[cell] : NAN;
        maps->ari[cell] = n_ari[cell] ? sum_ari[cell] / n_ari[cell] : NAN;
        if (t->n_cluster_rows < MAX_PROBE_ROWS)
          {
            ClClusterRow *r = &t->hist->clusters[t->n_cluster_rows++];
            r->step = t->step;
            g_strlcpy (r->layer, maps->layer_names[l], sizeof r->layer);
            r->k = cluster_ks[j];
            r->object_iou = (float) maps->iou[cell];
            r->instance_ari = (float) maps->ari[cell];
          }
      }
  g_free (masks);
  ClClusterMaps *old = t->cluster_maps;
  t->cluster_maps = maps;
  cl_cluster_maps_unref (old);
}
