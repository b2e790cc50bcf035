/* Private to the local-features figure (ui/plots/cl_clusters_*.c): the cluster colour
 * hierarchy (cl_clusters_colors.c), the scores-over-training chart (cl_clusters_trend.c) and
 * the layout the grid (cl_clusters_plot.c) shares with that chart. Not for other files. */
#pragma once
#include "ui/plots/cl_clusters_plot.h"

/* ------------------------------------------------------ cluster colours */

/* The colours of one row's clusters, and the parents they were derived from. */
typedef struct
{
  int n_cols;
  ClRgb **color; /* [col][j] */
  int **parent;  /* [col][j]: cluster at col - 1, or -1 (always -1 in column 0) */
} RowColors;

/* Clusters coloured in column col (ks[col], capped at 256; 0 when unknown). */
int cl_clusters_k_of (const ClClustersData *d, int col);
/* The label-map size of row; FALSE when it has none. */
gboolean cl_clusters_row_grid (const ClClustersData *d, int row, int *gh, int *gw);
/* The label map of (row, col), or NULL. */
const int *cl_clusters_label_map (const ClClustersData *d, int row, int col);
/* Colours column by column, each cluster a shade of its parent's. Free with row_colors_free. */
RowColors cl_clusters_row_colors (const ClClustersData *d, int row);
void cl_clusters_row_colors_free (RowColors *rc);
/* The first-column cluster that cluster j at col descends from, and its ancestor one column
 * up, or -1 where the chain breaks. */
int cl_clusters_ancestor (const RowColors *rc, int col, int j, int up);
/* The data describe a grid that can be drawn. */
gboolean cl_clusters_data_usable (const ClClustersData *d);

/* ------------------------------------------------- the trend chart's data */

#define TREND_MAX_LAYERS 8
#define TREND_SWATCH 18.0 /* line sample beside a row label */
#define TREND_MIN_W 230.0 /* below this the chart is left out */
#define TREND_MIN_H 200.0
#define TREND_MAX_W 460.0

typedef enum
{
  TREND_NONE,
  TREND_SIDE,
  TREND_BELOW,
  TREND_ALONE
} TrendMode;

/* The history, sorted out once per layout: which layers, which k, what ranges. */
typedef struct
{
  int n_layers;
  const char *names[TREND_MAX_LAYERS]; /* point into the data */
  int row[TREND_MAX_LAYERS];           /* the grid row of the layer, or -1 */
  int k[2];                            /* IoU panel, ARI panel */
  int n_points[2];                     /* finite values shown in each panel */
  int most_steps;                      /* the most points any one line has */
  double step_lo, step_hi, value_lo[2];
} Trend;

#define TREND_GAP 18.0
#define TREND_POINT_RADIUS 2.6

/* ------------------------------------------------------------ the layout */

typedef enum
{
  METRIC_NONE,
  METRIC_SHORT,
  METRIC_FULL
} MetricMode;

typedef struct
{
  double title_y, plot_title_font, axis_font_scale;
  ClPlotTicks x_ticks, y_ticks;
} TrendPanel;

typedef struct
{
  ClClustersPlotLayout g;
  double title_y, header_y, row_label_right, metric_h;
  MetricMode metric_mode;
  char **caption; /* wrapped lines */
  int caption_lines;
  double caption_font, caption_y, caption_line_h;
  double card_title_y, card_metric_y;
  double key_y, key_h, key_swatch; /* the enlarged view's colour key */
  const char *note;
  ClPlotRect note_area;
  /* the trend chart */
  TrendMode trend_mode;
  Trend trend;
  double legend_y, legend_font;
  TrendPanel panel[2];
  double scale; /* text scale */
} Layout;

/* The layers and ranges of d's history; grid: the grid is drawn (its rows' layers first). */
void cl_clusters_trend_collect (const ClClustersData *d, gboolean grid, Trend *tr);
/* The chart in r: the layers' legend on top, then the IoU and ARI panels, stacked or side by side. */
void cl_clusters_trend_place (cairo_t *mc, Layout *l, ClPlotRect r, gboolean side_by_side);
void cl_clusters_trend_draw (cairo_t *cr, const ClClustersData *d, const Layout *l);
/* A short line in the layer's colour left of a row label: the key between grid and chart. */
void cl_clusters_trend_row_swatch (cairo_t *cr, const Layout *l, int row, double label_w, double y);
