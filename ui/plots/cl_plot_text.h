/* Text: unhinted font setup, measuring, anchored and rotated drawing, word wrap and
 * wrap-to-fit.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <cairo.h>
#include <glib.h>

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
