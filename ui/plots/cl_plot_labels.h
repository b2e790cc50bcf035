/* Label placement: greedy rows of non-overlapping labels, and the control-change event
 * markers with their "key=value" labels above a step axis.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include "ui/plots/cl_plot_scale.h"
#include "engine/train/cl_snapshot.h"

/* ------------------------------------------------------- label placement */

/* Greedy placement of n labels (widths[i] wide, each wanting to be centred at centres[i],
 * given in increasing order of centre) into at most max_rows rows between min_x and max_x,
 * keeping gap between neighbours in a row. left_out[i] gets the label's left edge (shifted
 * inward at the borders), row_out[i] its row or -1 when it could not be placed without
 * overlap. Returns the number of rows used. */
int cl_plot_place_labels (const double *centres, const double *widths, int n, double min_x, double max_x, double gap,
                          int max_rows, double *left_out, int *row_out);

/* ---------------------------------------------------------- event markers */

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
