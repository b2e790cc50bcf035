/* The batch similarity heatmap: cosine similarities between the 2m embeddings of a batch
 * (m images, two augmented views each), on a blue-white-red scale centred at 0, with a
 * colour bar. In the stored order (view 1 rows, then view 2 rows) the positive pairs
 * (i, i+m) are the two red off-diagonal lines; a display order (by view pair, class or bit
 * code) regroups rows and columns, with separators between groups.
 * Pure cairo, like every renderer in ui/plots. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include "ui/plots/cl_plot_common.h"

typedef struct
{
  int m;                          /* images; the matrix is 2m x 2m: rows 0..m-1 view 1, m..2m-1 view 2 */
  const float *sim;               /* [2m][2m] cosine similarities in [-1, 1] (clamped; NaN drawn grey) */
  const int *order;               /* [2m] display order: order[p] is the stored row shown at position p
                                   * (a permutation), or NULL = as stored. An invalid permutation is
                                   * ignored (stored order) rather than trusted. */
  const char *order_name;         /* "by view pair", "by class", "by bit code" -> shown in the subtitle */
  const int *group;               /* [2m] group id of each row in display order (class or code), or NULL:
                                   * thin separators between groups, group ids labelled at the left */
  const char *const *group_names; /* [n_group_names] or NULL: the label of group id k (a class name)
                                   * instead of the number; ids without a name keep the number */
  int n_group_names;
  int highlight_row, highlight_col; /* stored indices (as cl_heatmap_plot_hit returns), -1 = none:
                                     * outline this cell and draw crosshair lines */
  const char *title;                /* NULL: "Batch similarity" */
  double font_scale;                /* text scale (cl_plot_theme); 0: 1 */
} ClHeatmapData;

/* Where the figure puts things, in the caller's user units. The same for drawing and hit
 * testing, whatever the device scale. */
typedef struct
{
  gboolean has_matrix; /* there was a matrix to draw (else a note) */
  int n;               /* 2m */
  ClPlotRect matrix;   /* the cells: n x n squares of side cell, row p at matrix.y + p * cell */
  double cell;         /* a whole number of user units when there is room for 2 or more */
  ClPlotRect colorbar; /* the bar itself: +1 at the top, -1 at the bottom */
  double min_font;     /* the smallest text size drawn (user units) */
} ClHeatmapPlotLayout;

void cl_heatmap_plot_draw (cairo_t *cr, double w, double h, const ClHeatmapData *d);

/* The layout draw uses (d may be NULL). */
void cl_heatmap_plot_layout (double w, double h, const ClHeatmapData *d, ClHeatmapPlotLayout *layout);

/* The cell under (x, y) (user units of a figure of size w x h): TRUE and the stored row and
 * column indices into sim (so order is undone), or FALSE outside the matrix. */
gboolean cl_heatmap_plot_hit (double w, double h, const ClHeatmapData *d, double x, double y, int *row, int *col);
