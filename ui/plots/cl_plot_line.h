/* Series lines: EMA smoothing of a series and the streaming polyline decimator that draws it
 * at a cost bounded by the device width.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <cairo.h>
#include <glib.h>

/* ------------------------------------------------------------- smoothing */

/* Exponential moving average with bias correction (as in Adam / TensorBoard): the first
 * values are not pulled toward 0. alpha in [0, 1): 0 returns the raw values. */
typedef struct
{
  double alpha;
  double acc;   /* uncorrected average */
  double decay; /* alpha^t for the t finite values seen */
} ClPlotEma;

void cl_plot_ema_init (ClPlotEma *ema, double alpha);
/* Feeds v and returns the smoothed value; a non-finite v leaves the state unchanged and
 * returns NAN (the caller skips that point). */
double cl_plot_ema_push (ClPlotEma *ema, double v);

/* ---------------------------------------------------- decimated polylines */

/* A data series drawn as a line, at a cost bounded by the width in device pixels rather than
 * the number of samples. Points are grouped by device pixel column. When there are few points
 * per column the result is the polyline itself (first, extremes and last of each column), to
 * be stroked. When there are many (dense data: thousands of steps on a few hundred pixels)
 * it is the closed min/max envelope of the columns, widened by half the line width on each
 * side, to be filled: it looks like the stroked zigzag, keeps every spike visible, and costs
 * cairo one simple polygon instead of a self-intersecting stroke (about 10x faster).
 * Points must come in non-decreasing x (user units); non-finite points are skipped.
 * Every begin must be paired with end or draw (they free the column buffer). */
typedef struct
{
  double x_first, x_last; /* extent of the column's points */
  double first_y, last_y;
  double min_x, min_y, max_x, max_y;
  long count, min_at, max_at; /* points, and the order of the extremes among them */
  double index;               /* device pixel column */
} ClPlotColumn;

typedef struct
{
  cairo_t *cr;
  double line_width;   /* user units */
  double column;       /* user units per device pixel column */
  double offset;       /* device x of user x = 0, modulo 1: columns follow device pixels */
  GArray *columns;     /* of ClPlotColumn */
  long points;         /* finite points added */
  long points_emitted; /* path points produced by end */
  gboolean filled;     /* end produced an envelope (fill) rather than a polyline (stroke) */
} ClPlotLine;

void cl_plot_line_begin (ClPlotLine *line, cairo_t *cr, double line_width);
void cl_plot_line_add (ClPlotLine *line, double x, double y);
/* Appends the polyline or envelope to cr's path; returns line->filled. */
gboolean cl_plot_line_end (ClPlotLine *line);
/* end, then stroke (with line->line_width) or fill with the current source. */
void cl_plot_line_draw (ClPlotLine *line);
