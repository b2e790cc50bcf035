/* "Local features": K-means clusterings of one image's feature maps, as a grid with one row
 * per layer (raw pixels first) and one column per number of clusters k. Each cell is the
 * image in grey with the label map upsampled (nearest) and overlaid in cluster colours.
 * Colours follow the cluster hierarchy: a cluster of the first column gets a base hue (the
 * Okabe-Ito series colours in order, without black; then golden-angle hues), and a cluster
 * of a later column a lighter or darker shade of its parent's colour (blended with black or
 * white, so the hue stays), so a parent's children read as one family across k. K-means
 * numbers clusters arbitrarily, so the first-column clusters of each row below the first are
 * matched by overlap to the row above and take their colours: the same region keeps its
 * hue from layer to layer. Row 0 keeps cluster j -> base colour j.
 * With a history of scores (clusters.csv rows), a small line chart beside the grid (below it
 * in a tall figure, alone without a grid) shows object IoU at the smallest k and instance ARI
 * at the largest k over training, one line per layer in that layer's colour (raw pixels dashed
 * grey), and each row label of the grid carries its layer's line sample.
 * Pure cairo, like every renderer in ui/plots. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include "ui/plots/cl_plot_common.h" /* and engine/train/cl_snapshot.h: ClClusterRow */

typedef struct
{
  int n_rows;                   /* layers: row 0 = "pixels", then e.g. "conv1", "conv2", "conv3" */
  const char *const *row_names; /* [n_rows] or NULL ("layer 0", ...) */
  int n_cols;
  const int *ks;                           /* [n_cols] clusters per column, e.g. {2, 4, 8}; at most 256 are coloured */
  int img_h, img_w, img_c;                 /* the image, planar float [c][h][w] in [0, 1]; c = 1 or 3 */
  const float *image;                      /* or NULL: the label maps alone, over mid grey */
  const int *grid_h, *grid_w;              /* [n_rows] label-map size of each row */
  const int *const *labels;                /* [row*n_cols + col] -> label map [grid_h*grid_w] (row-major),
                                            * values in [0, ks[col]); other values are left uncoloured;
                                            * a NULL map draws the image alone */
  const int *const *parent;                /* [row*n_cols + col] -> [ks[col]] parent cluster (at ks[col-1])
                                            * of each cluster, or NULL for col 0 / unknown. Unknown parents
                                            * are inferred from the label maps (the previous column's cluster
                                            * that overlaps most), so the colours stay consistent anyway. */
  const double *object_iou, *instance_ari; /* [row*n_cols+col] or NULL: printed small under each
                                            * cell (NaN prints as a dash) */
  /* Means of the same scores over several canvases (the drawn one among them), when object_iou
   * and instance_ari are the drawn canvas's own: [row*n_cols+col] or NULL. The enlarged view
   * gives both, each named; the caption says which is which. */
  const double *object_iou_mean, *instance_ari_mean;
  int n_mean_images;
  int highlight;     /* -1 or the cell index to draw enlarged (hover); its layer's
                      * lines are drawn bold in the trend chart */
  const char *title; /* NULL: "Local features: K-means of each layer's feature map" */
  /* Scores over training for the trend chart (ClSnapshot.cluster_rows), any order; NULL or 0
   * rows: no chart. Layers are matched to the grid's rows by name; layers the grid lacks
   * follow in order of first appearance. */
  const ClClusterRow *history;
  int n_history;
  int trend_iou_k, trend_ari_k; /* k of the IoU and ARI panels; 0 = the smallest and largest
                                 * k of the history (objects at small k, instances at large k) */
  double font_scale;            /* text scale (cl_plot_theme); 0: 1 */
} ClClustersData;

/* How strongly the cluster colours cover the grey image (0 = not at all, 1 = opaque). */
#define CL_CLUSTERS_PLOT_OVERLAY_ALPHA 0.55

/* Where the figure puts things, in the caller's user units; the same for drawing and hit
 * testing whatever the device scale. */
typedef struct
{
  gboolean has_grid; /* there were cells to draw (else a note) */
  int n_rows, n_cols;
  double cell;             /* side of the square cells */
  double x0, y0;           /* top-left corner of cell 0 */
  double pitch_x, pitch_y; /* distance between neighbouring cells */
  ClPlotRect image;        /* where the image sits in cell 0 (letterboxed when not square);
                            * in cell i it is offset like the cell */
  gboolean card_shown;     /* the highlighted cell is drawn enlarged */
  ClPlotRect card;         /* the enlarged view's frame */
  ClPlotRect card_image;   /* the image in it */
  /* the trend chart: panel 0 object IoU, panel 1 instance ARI */
  gboolean trend_shown;
  ClPlotRect trend;                   /* the chart with its legend */
  ClPlotRect trend_plot[2];           /* the plot areas */
  ClPlotScale trend_x[2], trend_y[2]; /* step -> x, score -> y of each panel */
  int trend_k[2];                     /* the k each panel shows */
} ClClustersPlotLayout;

void cl_clusters_plot_draw (cairo_t *cr, double w, double h, const ClClustersData *d);

/* The scores the enlarged view of cell index gives: one line ("object IoU 0.82   instance ARI
 * 0.40"), or with means two, named ("this canvas: ...", "mean of 16 canvases: ..."). Returns
 * the number of lines (0 without scores). */
#define CL_CLUSTERS_SCORES_TEXT 192
int cl_clusters_plot_scores_text (const ClClustersData *d, int index, char (*lines)[CL_CLUSTERS_SCORES_TEXT]);

/* The layout draw uses (d may be NULL). */
void cl_clusters_plot_layout (double w, double h, const ClClustersData *d, ClClustersPlotLayout *layout);

/* The square of cell index (row * n_cols + col). */
ClPlotRect cl_clusters_plot_cell_rect (const ClClustersPlotLayout *layout, int index);

/* The index of the cell under (x, y), or -1. While a cell is shown enlarged, a pointer over
 * the enlarged view returns that cell (the view covers its neighbours, and it should stay
 * while the pointer is on it); elsewhere the cell below the pointer. */
int cl_clusters_plot_hit (double w, double h, const ClClustersData *d, double x, double y);

/* The line colour of a layer in the trend chart and beside the grid's row labels: index is
 * the layer's place (row 0 = pixels); "pixels" is always a mid grey (a baseline), conv
 * layers take orange, bluish green, blue, then the other series colours. */
ClRgb cl_clusters_plot_layer_color (const char *layer, int index);

/* The colour of cluster label at (row, col) before it is blended over the image; grey for a
 * label that is out of range. */
ClRgb cl_clusters_plot_cluster_color (const ClClustersData *d, int row, int col, int label);
