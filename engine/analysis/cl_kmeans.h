/* K-means over the positions of one feature map (paper section 2, "hierarchical local features"):
 * Lloyd's k-means, bisecting k-means (the cluster hierarchy), parent matching. The scores the cluster
 * view reports for a clustering (object_iou, instance_ari) are in cl_cluster_scores.h.
 *
 * Points are rows of x: [n][dim] row-major floats. A feature map is NCHW, so one image's
 * [C][H][W] block is turned into H*W rows of C floats with cl_kmeans_positions().
 *
 * Randomness: every function here that draws uses its own PCG stream, seeded from `seed` mixed
 * with a k-means tag, on CL_STREAM_PROBE; the same seed therefore gives the same clustering,
 * bit for bit, on the same build, and never replays the probes' sequence.
 *
 * Clustering functions do not allocate: the caller passes a workspace counted in floats, which must
 * be allocated storage (g_new/g_malloc/malloc, not a declared array) because part of it holds
 * doubles; it needs no alignment beyond float and no initialisation. Parent matching allocates
 * O(k) scratch with GLib and is meant for the evaluation path, not for a training step. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Cluster sizes are kept as floats in the workspace, exact below 2^24 points. */
#define CL_KMEANS_MAX_POINTS (1 << 24)
/* Lloyd iterations used by cl_kmeans_bisect for each 2-means split. */
#define CL_KMEANS_DEFAULT_MAX_ITER 100

/* Floats of workspace cl_kmeans needs. */
size_t cl_kmeans_workspace_floats (int n, int dim, int k);

/* Lloyd's k-means with k-means++ seeding (D^2 sampling), `restarts` independent runs, keeping the
 * run with the lowest inertia (ties: the earlier run). A run stops when an assignment changes no
 * label (after empty clusters were re-seeded), or after max_iter mean updates (0: labels are the
 * nearest k-means++ centres). Restart r draws right after restart r-1 from one stream, so the runs
 * of `restarts` = R are the first R runs of any larger R: the inertia never increases with R.
 *
 * Empty clusters are re-seeded with the point farthest from its centroid; when every point sits
 * exactly on a centroid (fewer distinct points than k) they stay empty.
 *
 * Output is canonical: labels are the nearest centroid of the kept run (exact ties resolved
 * deterministically), and clusters are numbered by decreasing size, ties by their first point,
 * so cluster 0 is the largest (usually the background) and the same partition always gets the
 * same ids. Empty clusters come last; their centroid rows are not meaningful.
 *
 * labels: [n] (required). centroids: [k][dim] or NULL. inertia_out: sum of squared distances of
 * points to their centroid (computed in double), or NULL. ws: cl_kmeans_workspace_floats().
 * Returns the number of non-empty clusters (min(k, distinct points) in practice), or -1 (and
 * nothing written) if an argument is out of range: n < 1 or >= CL_KMEANS_MAX_POINTS, dim < 1,
 * k < 1, restarts < 1, max_iter < 0, or a NULL x/labels/ws. */
int cl_kmeans (const float *x, int n, int dim, int k, int restarts, uint64_t seed, int max_iter, int *labels,
               float *centroids, double *inertia_out, float *ws);

/* Floats of workspace cl_kmeans_bisect needs. */
size_t cl_kmeans_bisect_workspace_floats (int n, int dim, int kmax);

/* Bisecting k-means, an explicit tree: start from one cluster; repeatedly split the leaf with the
 * largest SSE (ties: lower id) into two with 2-means (cl_kmeans rules, `restarts` runs,
 * CL_KMEANS_DEFAULT_MAX_ITER), until kmax leaves. The larger child keeps the parent's id and the
 * smaller one gets the next free id, so ids are stable from one k to the next.
 *
 * labels_per_k: [kmax-1][n]; row j holds the labels at k = j + 2 (ids 0..k-1).
 * parent_per_k: [kmax-1][kmax]; row j, entry c: the id at k-1 of cluster c at k (at k = 2 both
 *   parents are 0, the root); -1 for ids that do not exist at that k.
 * So labels_k[i] == parent_k+1[labels_k+1[i]] for every point: the view shades a child in its
 * parent's colour.
 * A leaf whose points are all identical cannot be split; when no leaf can, the remaining rows
 * repeat the last labels (with identity parents) and the return value says how many leaves exist.
 * Returns the number of leaves reached (<= kmax), or -1 (nothing written) if an argument is out
 * of range (as cl_kmeans, with kmax < 2 instead of k < 1). */
int cl_kmeans_bisect (const float *x, int n, int dim, int kmax, int restarts, uint64_t seed, int *labels_per_k,
                      int *parent_per_k, float *ws);

/* From cl_kmeans_bisect's parent_per_k: the ancestor at k_coarse of each cluster at k_fine, for
 * views whose columns skip k (k = 2, 4, 8): labels at k_coarse = ancestor[labels at k_fine].
 * 1 <= k_coarse <= k_fine <= kmax (k_coarse = 1 is the root: every ancestor is 0). ancestor:
 * [k_fine]; -1 for ids that do not exist at k_fine (see the return value of cl_kmeans_bisect),
 * and everywhere if the k are out of range. */
void cl_kmeans_bisect_ancestors (const int *parent_per_k, int kmax, int k_coarse, int k_fine, int *ancestor);

/* For independent clusterings at two k (plain k-means at k = 2, 4, 8): the parent of each fine
 * cluster is the coarse cluster sharing most points with it (ties: lower id), -1 for a fine cluster
 * with no points. Labels outside [0, kc) / [0, kf) are ignored. parent_of_fine: [kf]. */
void cl_kmeans_match_parents (const int *labels_coarse, int kc, const int *labels_fine, int kf, int n,
                              int *parent_of_fine);

/* One image's [channels][height][width] map to height*width rows of `channels` floats (row-major
 * over positions, y then x). With `normalize`, each row is scaled to unit L2 norm (all-zero rows,
 * e.g. dead ReLU positions, stay zero). Pass normalize = 0 for the raw-pixel baseline: a 1-channel
 * vector normalised is only its sign. x: [height*width][channels]. */
void cl_kmeans_positions (const float *chw, int channels, int height, int width, int normalize, float *x);

/* The scores of a clustering (ARI, IoU, downsampled label maps) have their own header; included
 * here so the cluster view's callers keep one include. */
#include "engine/analysis/cl_cluster_scores.h"
