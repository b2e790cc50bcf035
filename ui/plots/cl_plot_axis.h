/* Axes and reference marks: axis extents and drawing, gridlines, vertical and horizontal
 * markers, title, centred note, data points, and pixel snapping for crisp thin lines.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include "ui/plots/cl_plot_color.h"
#include "ui/plots/cl_plot_scale.h"

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
