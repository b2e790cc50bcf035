/* Building blocks shared by every figure renderer (loss curves, similarity heatmap,
 * probe-accuracy chart, histograms, bar charts): colours, nice ticks, data->pixel scales,
 * text placement, axes, gridlines, legends, label placement, EMA smoothing and a
 * streaming polyline decimator.
 *
 * Everything here is pure cairo and works in user units: callers that export at 2x apply
 * cairo_scale() first and get the same layout, only sharper. Call cl_plot_text_setup()
 * once per cairo_t so that text metrics do not depend on the device scale. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include <stddef.h>

/* ---------------------------------------------------------------- colours */

typedef struct
{
  double r, g, b; /* sRGB, 0..1 */
} ClRgb;

/* The Okabe–Ito palette: distinguishable under the common colour-vision deficiencies. */
typedef enum
{
  CL_PLOT_OI_BLACK,
  CL_PLOT_OI_ORANGE,
  CL_PLOT_OI_SKY_BLUE,
  CL_PLOT_OI_GREEN,
  CL_PLOT_OI_YELLOW,
  CL_PLOT_OI_BLUE,
  CL_PLOT_OI_VERMILLION,
  CL_PLOT_OI_PURPLE,
  CL_PLOT_OI_COUNT
} ClPlotOkabeIto;

ClRgb cl_plot_okabe_ito (ClPlotOkabeIto which);

/* Colour for the i-th data series of any chart, i >= 0 (cycles after 7). The order puts
 * the colours that read well as thin lines on white first (yellow last). */
ClRgb cl_plot_series_color (int i);

/* Figure furniture, the same in every chart so exported figures look like one family. */
ClRgb cl_plot_color_background (void); /* figure and plot area fill */
ClRgb cl_plot_color_text (void);       /* titles, tick labels */
ClRgb cl_plot_color_muted (void);      /* notes such as "waiting for the first step" */
ClRgb cl_plot_color_axis (void);       /* spines and tick marks */
ClRgb cl_plot_color_grid (void);       /* gridlines */
ClRgb cl_plot_color_marker (void);     /* vertical event markers */

void cl_plot_set_rgb (cairo_t *cr, ClRgb c);

/* Linear blend in sRGB: a at t = 0, b at t = 1 (t clamped to [0, 1]). Blending with white,
 * black or any grey keeps the hue. */
ClRgb cl_plot_mix (ClRgb a, ClRgb b, double t);

/* Hue angle in degrees [0, 360) of the HSV model; NaN for greys (no hue). */
double cl_plot_hue (ClRgb c);
void cl_plot_set_rgba (cairo_t *cr, ClRgb c, double alpha);

/* Perceptually ordered colour maps for heatmaps, t in [0, 1] (clamped; NaN -> mid grey).
 * viridis: dark purple (0) -> yellow (1), for magnitudes.
 * diverging: blue (0) -> white (0.5) -> red (1), for signed values such as cosine similarity. */
ClRgb cl_plot_colormap_viridis (double t);
ClRgb cl_plot_colormap_diverging (double t);

/* ------------------------------------------------------ ranges and scales */

typedef struct
{
  double x, y, w, h;
} ClPlotRect;

/* Running min/max that ignores NaN and infinities, so one diverged step cannot break an axis. */
typedef struct
{
  double lo, hi;
  long n; /* finite values seen */
} ClPlotRange;

void cl_plot_range_init (ClPlotRange *range);
void cl_plot_range_add (ClPlotRange *range, double v);

/* Linear map from data [d0, d1] to user units [p0, p1] (p1 < p0 for a y axis growing upward). */
typedef struct
{
  double d0, d1, p0, p1;
} ClPlotScale;

void cl_plot_scale_init (ClPlotScale *scale, double d0, double d1, double p0, double p1);
double cl_plot_scale_map (const ClPlotScale *scale, double v);
double cl_plot_scale_invert (const ClPlotScale *scale, double p);

/* ------------------------------------------------------------------ ticks */

#define CL_PLOT_MAX_TICKS 24

typedef struct
{
  double lo, hi; /* the axis range (widened to tick multiples when asked) */
  double step;   /* 1, 2 or 5 times a power of ten */
  int n;         /* ticks in v[], all within [lo, hi] */
  double v[CL_PLOT_MAX_TICKS];
  int decimals;   /* digits after the point that distinguish neighbouring ticks */
  int si_power;   /* 0, 3 or 6: labels are divided by 10^si_power and get a "k"/"M"
                   * suffix, used when every tick is such a multiple and the values are large */
  gboolean log10; /* v[], lo and hi are log10 of the values (a log axis): labels print 10^v */
} ClPlotTicks;

/* The 1-2-5 step that gives about target_ticks intervals over span (span > 0). */
double cl_plot_nice_step (double span, int target_ticks);

/* Ticks for [lo, hi]. Non-finite or reversed bounds are repaired; an empty span (lo == hi) is
 * widened around the value. With extend, lo/hi move outward to the nearest tick multiples so
 * the data fill the axis and the ends are labelled. integer_steps forbids steps below 1 (for
 * step counts, epochs, bins). */
void cl_plot_ticks_compute (ClPlotTicks *ticks, double lo, double hi, int target_ticks, gboolean extend,
                            gboolean integer_steps);

/* Tick label: fixed decimals, C-locale point, a true minus sign (U+2212), never "-0",
 * "k"/"M" suffix per ticks->si_power. Writes a NUL-terminated UTF-8 string of at most size bytes. */
void cl_plot_ticks_format (const ClPlotTicks *ticks, double v, char *buf, size_t size);

/* The same formatting rules for any value with a given number of decimals. */
void cl_plot_format_number (double v, int decimals, char *buf, size_t size);

/* ------------------------------------------------------------------- text */

/* Unhinted metrics and outlines, so text measures the same at 1x and 2x. */
void cl_plot_text_setup (cairo_t *cr);
/* A cairo_t on a tiny image surface, identity transform, set up as above: for laying out a
 * figure where there is no drawing context (hit tests for hover), so that drawing and hit
 * testing can share one layout computed with the same metrics. Free with cairo_destroy. */
cairo_t *cl_plot_measure_context_new (void);
void cl_plot_font (cairo_t *cr, double size, gboolean bold);
double cl_plot_text_width (cairo_t *cr, const char *utf8);
/* Height of a line of the current font (ascent + descent). */
double cl_plot_text_height (cairo_t *cr);

/* Draw utf8 with its anchor at (x, y). halign: 0 left, 0.5 centre, 1 right of the advance
 * width; valign: 0 top of the ascent, 0.5 middle of ascent+descent, 1 bottom of the descent.
 * angle (radians, counter-clockwise on screen) rotates about the anchor. */
void cl_plot_text (cairo_t *cr, double x, double y, const char *utf8, double halign, double valign, double angle);

/* Greedy word wrap of utf8 at spaces into lines no wider than max_width in the current font
 * (a single word wider than that gets a line of its own). Returns the lines, NULL-terminated
 * (free with g_strfreev); *n_lines (optional) gets their number. */
char **cl_plot_wrap_text (cairo_t *cr, const char *utf8, double max_width, int *n_lines);

/* The largest regular font size from size down to min_size (steps of 0.5) at which utf8 wraps
 * into at most max_lines lines of max_width, and those lines (the min_size ones when none
 * fits). Leaves that font selected in cr. */
double cl_plot_wrap_fit (cairo_t *cr, const char *utf8, double size, double min_size, double max_width, int max_lines,
                         char ***lines, int *n_lines);

/* ------------------------------------------------------------------- axes */

typedef enum
{
  CL_PLOT_SIDE_LEFT,
  CL_PLOT_SIDE_RIGHT,
  CL_PLOT_SIDE_BOTTOM,
  CL_PLOT_SIDE_TOP
} ClPlotSide;

typedef struct
{
  double tick_font;  /* tick label size, user units */
  double title_font; /* axis title size */
  double tick_length;
  double pad; /* space between tick, label and title */
  double line_width;
} ClPlotAxisStyle;

/* Sizes for a figure at font_scale (1.0 = on screen at 1x). */
void cl_plot_axis_style_init (ClPlotAxisStyle *style, double font_scale);

/* Space an axis needs outside the plot area (its width for left/right, height for
 * bottom/top): ticks, labels and the title. */
double cl_plot_axis_extent (cairo_t *cr, ClPlotSide side, const ClPlotTicks *ticks, const char *title,
                            const ClPlotAxisStyle *style);

/* Spine, ticks, labels and title along one side of area. The scale maps the axis' data to
 * user units along that side. label_color tints labels and title (to tie a second y axis to
 * its series); NULL for the default text colour. */
void cl_plot_axis_draw (cairo_t *cr, const ClPlotRect *area, ClPlotSide side, const ClPlotScale *scale,
                        const ClPlotTicks *ticks, const char *title, const ClPlotAxisStyle *style,
                        const ClRgb *label_color);

/* How far the label of the last tick of a bottom axis reaches past the axis' end (half its
 * width): the room a figure must leave at its right edge so that label is not cut. */
double cl_plot_axis_end_overhang (cairo_t *cr, const ClPlotTicks *ticks, const ClPlotAxisStyle *style);

/* Gridlines at the ticks; either axis may be NULL. */
void cl_plot_grid_draw (cairo_t *cr, const ClPlotRect *area, const ClPlotScale *x_scale, const ClPlotTicks *x_ticks,
                        const ClPlotScale *y_scale, const ClPlotTicks *y_ticks, double line_width);

/* Vertical dashed line across area at user x. */
void cl_plot_vmarker_draw (cairo_t *cr, const ClPlotRect *area, double x, ClRgb color, double line_width);

/* Centred title at the top of a figure of the given width; returns the height it used
 * (0 for NULL or empty title). */
double cl_plot_title_draw (cairo_t *cr, double width, double top, const char *title, double font_size, gboolean draw);

/* Muted centred note in area ("waiting for the first step"). */
void cl_plot_note_draw (cairo_t *cr, const ClPlotRect *area, const char *note, double font_size);

/* ----------------------------------------------------------------- legend */

typedef enum
{
  CL_PLOT_LEGEND_LINE,        /* short line sample, for curves */
  CL_PLOT_LEGEND_SWATCH,      /* filled square, for bars and areas */
  CL_PLOT_LEGEND_DASHED,      /* dashed line sample, for markers or reference lines */
  CL_PLOT_LEGEND_LINE_POINT,  /* line with a filled point marker, for sparse measurements */
  CL_PLOT_LEGEND_HOLLOW_POINT /* a hollow point marker alone (drawn in the entry's colour) */
} ClPlotLegendKind;

typedef struct
{
  const char *label;
  ClRgb color;
  ClPlotLegendKind kind;
  double line_width; /* for line samples */
} ClPlotLegendEntry;

/* The legend is laid out as centred rows that wrap within max_width. measure returns the
 * height it needs; draw puts it with its top at y, centred on centre_x, and returns the same
 * height. */
double cl_plot_legend_measure (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double max_width,
                               double font_size);
double cl_plot_legend_draw (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double centre_x, double y,
                            double max_width, double font_size);

/* ------------------------------------------------------- label placement */

/* Greedy placement of n labels (widths[i] wide, each wanting to be centred at centres[i],
 * given in increasing order of centre) into at most max_rows rows between min_x and max_x,
 * keeping gap between neighbours in a row. left_out[i] gets the label's left edge (shifted
 * inward at the borders), row_out[i] its row or -1 when it could not be placed without
 * overlap. Returns the number of rows used. */
int cl_plot_place_labels (const double *centres, const double *widths, int n, double min_x, double max_x, double gap,
                          int max_rows, double *left_out, int *row_out);

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

/* ------------------------------------------------------ points and references */

/* A round data point of the given radius. hollow: filled with the background and ringed in
 * color, for points that mean something different (a baseline, a missing value). */
void cl_plot_point_draw (cairo_t *cr, double x, double y, double radius, ClRgb color, gboolean hollow);

/* A coordinate moved so that a line of line_width (user units) drawn there is crisp: the
 * centre of a device pixel for odd device widths, a pixel edge for even ones. vertical_line:
 * v is an x (for a vertical line); otherwise a y. */
double cl_plot_snap (cairo_t *cr, double v, gboolean vertical_line, double line_width);

/* Horizontal dashed line across area at user y (chance levels, reference values). */
void cl_plot_hmarker_draw (cairo_t *cr, const ClPlotRect *area, double y, ClRgb color, double line_width);

/* ---------------------------------------------------------- event markers */

#include "engine/train/cl_snapshot.h"

/* Control changes drawn as dashed vertical markers, each labelled "key=value" in a band of
 * rows above a plot (the loss plot's look, shared by every chart with a step axis). Labels
 * that would overlap in every allowed row are dropped; their markers are still drawn. */
typedef char ClPlotEventText[96];

typedef struct
{
  int n;          /* events */
  int *order;     /* event indices sorted by step (stable) */
  double *centre; /* per sorted slot: marker x in user units */
  double *width;  /* label box width */
  double *left;   /* label box left edge */
  int *row;       /* label row (0 = nearest the plot) or -1 when dropped */
  ClPlotEventText *text;
  int rows;          /* label rows used */
  int labelled;      /* labels placed */
  double row_height; /* height of one label row */
  double font_size;
} ClPlotEventLabels;

/* Lays out labels for the events whose steps map through x; labels stay within
 * [min_x, max_x]. Free with cl_plot_event_labels_clear (safe on a zeroed struct). */
void cl_plot_event_labels_layout (cairo_t *cr, ClPlotEventLabels *labels, const ClEvent *events, int n_events,
                                  const ClPlotScale *x, double min_x, double max_x, double font_size, double pad,
                                  int max_rows);
/* Height of a band holding rows label rows. */
double cl_plot_event_labels_band_height (const ClPlotEventLabels *labels, int rows);
/* Markers across plot (reaching up to their labels) and the label boxes, the lowest row
 * ending at band_bottom. Markers outside the plot's x range are skipped. */
void cl_plot_event_labels_draw (cairo_t *cr, const ClPlotEventLabels *labels, const ClPlotRect *plot,
                                double band_bottom);
void cl_plot_event_labels_clear (ClPlotEventLabels *labels);
