/* The scores the cluster view reports for a clustering of one image's feature-map positions:
 * best-union IoU against the object mask (object_iou) and ARI against the instance map on the
 * foreground (instance_ari), plus the instance/label map downsampled to the feature grid they are
 * compared on. The clustering itself is cl_kmeans.h.
 *
 * These allocate O(n) or O(k) scratch with GLib and are meant for the evaluation path, not for a
 * training step. */
#pragma once
#include <stdint.h>

/* Adjusted Rand index (Hubert & Arabie 1985), scikit-learn conventions: computed from the pair
 * confusion matrix as 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)), and exactly 1
 * when the two partitions are identical up to renaming (no pair disagrees), which covers the
 * 0/0 cases: n <= 1, both a single cluster, both all singletons. A single cluster against any
 * other partition scores 0. Symmetric in a, b; labels are any ints (not necessarily 0..k-1). */
double cl_adjusted_rand_index (const int *a, const int *b, int n);

/* instance_ari: ARI between the cluster labels and the instance ids, over the foreground positions
 * only (instances[i] != 0). NAN when there is no foreground position (undefined; skip the image).
 * With one instance, keeping it in one cluster scores 1 and splitting it scores 0. */
double cl_foreground_ari (const int *labels, const uint8_t *instances, int n);

/* object_iou: the IoU between the foreground (foreground[i] != 0, so an instance map works as is)
 * and the union of clusters that maximises it; exact (see the prefix argument in the source).
 * Labels outside [0, k) belong to no cluster. NAN when there is no foreground (undefined). */
double cl_best_union_iou (const int *labels, int k, const uint8_t *foreground, int n);
/* The same, also returning the chosen clusters: in_union[c] = 1 if cluster c is in the best union
 * (the smallest best set: clusters that add nothing are left out). in_union: [k], may be NULL. */
double cl_best_union_iou_set (const int *labels, int k, const uint8_t *foreground, int n, uint8_t *in_union);

/* Instance/label map [h][w] to a [gh][gw] grid: each grid cell takes the most frequent value of
 * the source pixels it covers (rows floor(gy*h/gh) .. floor((gy+1)*h/gh)-1, columns likewise);
 * ties go to the smallest id, so background (0) wins a tie against an object. When the grid is
 * finer than the map (a cell covers no pixel) it takes the pixel at floor(gy*h/gh), floor(gx*w/gw).
 * Does nothing if a size is < 1. */
void cl_downsample_labels (const uint8_t *map, int h, int w, int gh, int gw, uint8_t *out);
