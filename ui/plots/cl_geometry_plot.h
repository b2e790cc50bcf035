/* The "geometry of z" panel: three small figures side by side (2 + 1, or stacked, when the
 * area is narrow):
 *   a) histogram of the pooled marginal of z's coordinates in the latest batch, with the
 *      marginal density of the prior the distribution term pulls z toward;
 *   b) Wang & Isola alignment (left axis) and uniformity (right axis) over steps, smoothed;
 *   c) the collapse indicator z_std over steps against 1/sqrt(d) (spread out) and 0 (collapsed).
 * Pure cairo, like every renderer in ui/plots. */
#pragma once
#include <cairo.h>
#include "engine/train/cl_snapshot.h"
#include "ui/plots/cl_plot_common.h"
#include "engine/analysis/cl_priors.h"

/* zhist may be NULL or have step 0 (no batch yet): panel a) then shows a waiting note.
 * rows/events may be empty. */
void cl_geometry_plot_draw (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                            const ClZHistogram *zhist, const ClEvent *events, int n_events);

/* The prior the distribution term of loss_kind (a ClLossKind) pulls z toward:
 *   swd-normal: N(0, 1);  swd-cube: U(-1, 1);  swd-sphere, ntxent, decoupled (z normalised): the
 *   uniform sphere; CL_PRIOR_NONE for an unknown kind. The densities are in
 *   engine/analysis/cl_priors.h. */
ClPriorKind cl_geometry_plot_prior_of_loss (int loss_kind);
/* cl_prior_density of that prior: 0 outside the support, NaN for an unknown kind or, on the
 * sphere, dim < 2. */
double cl_prior_marginal_density (int loss_kind, int dim, double x);

/* "prior: N(0, 1)", "prior: uniform sphere, d=64", ... ; empty for an unknown kind. */
void cl_prior_marginal_label (int loss_kind, int dim, char *buf, size_t size);

/* Smoothing of the time series in panels b) and c), as the loss plot's default. */
#define CL_GEOMETRY_PLOT_EMA 0.9

typedef enum
{
  CL_GEOMETRY_PANEL_HISTOGRAM,
  CL_GEOMETRY_PANEL_ALIGN_UNIFORM,
  CL_GEOMETRY_PANEL_COLLAPSE,
  CL_GEOMETRY_N_PANELS
} ClGeometryPanel;

/* Colours of the marks, for the legend, tests and anyone matching the figure. */
ClRgb cl_geometry_plot_histogram_color (void);      /* bar fill */
ClRgb cl_geometry_plot_histogram_edge_color (void); /* the bars' outline */
ClRgb cl_geometry_plot_prior_color (void);          /* prior density line */
ClRgb cl_geometry_plot_alignment_color (void);
ClRgb cl_geometry_plot_uniformity_color (void);
ClRgb cl_geometry_plot_z_std_color (void);

/* Where cl_geometry_plot_draw put things, in the caller's user units. */
typedef struct
{
  int columns;                           /* 3 side by side, 2 (a b / c below) or 1 (stacked) */
  ClPlotRect cell[CL_GEOMETRY_N_PANELS]; /* each sub-figure's share of the area */
  ClPlotRect plot[CL_GEOMETRY_N_PANELS]; /* data areas */
  ClPlotScale x[CL_GEOMETRY_N_PANELS];   /* z value (a) or step (b, c) -> x */
  ClPlotScale y[CL_GEOMETRY_N_PANELS];   /* density (a), alignment (b), z_std (c) -> y */
  ClPlotScale y_right;                   /* uniformity (b) -> y */
  ClPlotTicks x_ticks[CL_GEOMETRY_N_PANELS], y_ticks[CL_GEOMETRY_N_PANELS], y_right_ticks;
  gboolean histogram_shown; /* zhist had a batch */
  gboolean prior_shown;     /* a prior density was drawn */
  double uniform_z_std;     /* 1/sqrt(d) reference in c) (NaN when d unknown) */
} ClGeometryPlotLayout;

void cl_geometry_plot_draw_full (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                                 const ClZHistogram *zhist, const ClEvent *events, int n_events,
                                 ClGeometryPlotLayout *layout);

/* cl_geometry_plot_draw_full with the text at font_scale (1 = the export size's). */
void cl_geometry_plot_draw_scaled (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                                   const ClZHistogram *zhist, const ClEvent *events, int n_events, double font_scale,
                                   ClGeometryPlotLayout *layout);
