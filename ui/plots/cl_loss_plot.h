/* The loss-curve figure: total, alignment, distribution (left axis) and contrastive
 * accuracy (right axis, 0..1), EMA-smoothed, with vertical markers where a control changed.
 * Pure cairo: the widget draws it on screen, export draws it on an image surface,
 * tests draw it and check pixels. */
#pragma once
#include <cairo.h>
#include "engine/train/cl_snapshot.h"
#include "ui/plots/cl_plot_chart.h"

/* Another run drawn on the same axes as the main one: an earlier run as a faded overlay, or
 * the B of an A/B comparison. Not owned. */
typedef struct
{
  const ClMetricRow *rows;
  int n_rows;
  const char *label; /* for the legend; NULL for none */
} ClLossPlotRun;

typedef struct
{
  const char *title; /* drawn at the top; NULL for none */
  double ema;        /* smoothing factor in [0, 1): 0 = raw, 0.9 = heavy */
  gboolean show_raw; /* also draw the raw total loss faintly under the smoothed line */
  double font_scale; /* 1.0 on screen at 1x */
  /* Earlier runs as faded traces under the main run: every series in its own colour at low
   * alpha, thin, with one legend entry naming them. The axes span them too. */
  const ClLossPlotRun *overlays;
  int n_overlays;
  const char *overlays_label; /* that legend entry; NULL: "N earlier runs (faded)" */
  /* A/B comparison: when compare is set, the main run is A (solid lines) and compare is B
   * (dashed lines, same colours), on shared axes; the legend names them "A (solid): label_a"
   * and "B (dashed): compare->label". The raw loss is not drawn in a comparison. */
  const ClLossPlotRun *compare;
  const char *label_a;
  /* How the chart is looked at (zoom, log y, smoothing, hover crosshair, text scale); NULL:
   * the whole run, linear, with ema and font_scale above. A finite view->ema replaces ema, a
   * view->font_scale > 0 replaces font_scale. Not owned. */
  const ClPlotView *view;
} ClLossPlotStyle;

/* Opacity and line width of overlay traces. */
#define CL_LOSS_PLOT_OVERLAY_ALPHA 0.3
#define CL_LOSS_PLOT_OVERLAY_WIDTH 1.0

void cl_loss_plot_style_init (ClLossPlotStyle *style);

/* Draw into the rectangle (0,0)-(width,height) of cr. rows/events may be empty (n = 0):
 * then the axes and a "waiting for the first step" note are drawn. */
void cl_loss_plot_draw (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                        const ClEvent *events, int n_events, const ClLossPlotStyle *style);

/* ---- additions: the layout for hit-testing and tests, series colours ---- */
#include "ui/plots/cl_plot_common.h"

typedef enum
{
  CL_LOSS_SERIES_TOTAL,
  CL_LOSS_SERIES_ALIGNMENT,
  CL_LOSS_SERIES_DISTRIBUTION,
  CL_LOSS_SERIES_ACCURACY,
  CL_LOSS_SERIES_COUNT
} ClLossSeries;

/* Colour of a series' line (and legend sample). */
ClRgb cl_loss_plot_series_color (ClLossSeries series);

/* Where cl_loss_plot_draw puts things for the same arguments, in the caller's user units.
 * The widget uses it to turn a pointer position into a step; tests use it to find pixels. */
typedef struct
{
  ClPlotRect plot;   /* the data area */
  ClPlotScale x;     /* step -> x */
  ClPlotScale left;  /* loss / alignment / distribution -> y */
  ClPlotScale right; /* contrastive accuracy (0..1) -> y */
  ClPlotTicks x_ticks, left_ticks, right_ticks;
  ClPlotRect event_band; /* strip above the plot holding the event labels (h = 0 if none) */
  int event_label_rows;  /* rows of event labels actually used */
  int events_labelled;   /* events whose label fitted without overlap */
  ClPlotRect legend;     /* the legend's rows (full figure width) */
  gboolean log_y;        /* left holds log10 of the loss (ticks too) */
  int hover_row;         /* the main run's row the crosshair names (-1: none) */
} ClLossPlotLayout;

/* Lays the figure out exactly as cl_loss_plot_draw does; cr is only used to measure text
 * (nothing is drawn) and must carry the same transformation as for drawing. */
void cl_loss_plot_layout (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                          const ClEvent *events, int n_events, const ClLossPlotStyle *style, ClLossPlotLayout *layout);

/* cl_loss_plot_draw that also reports the layout it used (layout may be NULL). */
void cl_loss_plot_draw_full (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                             const ClEvent *events, int n_events, const ClLossPlotStyle *style,
                             ClLossPlotLayout *layout);

/* Adapter for cl_png_export_figure and other "draw(cr, w, h, data)" callers. */
typedef struct
{
  const ClMetricRow *rows;
  int n_rows;
  const ClEvent *events;
  int n_events;
  const ClLossPlotStyle *style;
} ClLossPlotData;

void cl_loss_plot_draw_cb (cairo_t *cr, double width, double height, gpointer loss_plot_data);
