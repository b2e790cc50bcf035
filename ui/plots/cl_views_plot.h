/* "What the model sees": both augmented views of the first images of the latest batch,
 * with each view's appended bit code drawn as a strip of squares under it; beside them, for
 * runs with bit codes, the collision meter: the fraction of anchors whose code another image
 * of the batch shares, measured over the steps and against 1 - (1 - 2^-n)^(B-1), so a student
 * sees why suppression starts near log2(batch) bits. */
#pragma once
#include <cairo.h>
#include <glib.h>
#include "ui/plots/cl_plot_common.h"
#include "engine/train/cl_snapshot.h"

/* The views alone (no meter). */
void cl_views_plot_draw (cairo_t *cr, double width, double height, const ClViewPreview *preview);

/* What the collision meter draws. */
typedef struct
{
  const ClMetricRow *rows; /* code_collision per logged step (NaN where there were no bits) */
  int n_rows;
  const ClEvent *events; /* data.bits changes move the theory line */
  int n_events;
  int batch;     /* train.batch (B) */
  int bits;      /* data.bits in force now (n) */
  gboolean show; /* FALSE: no meter, the views take the whole figure */
} ClCollisionMeter;

/* Fills meter from a snapshot (rows, events, and batch/bits/kind from its config_ini); the
 * meter is shown for data.kind = randbits and for any run with bits. */
void cl_views_plot_meter_from_snapshot (ClCollisionMeter *meter, const ClSnapshot *snap);

/* Why the meter has nothing to show, when it has not (no bit code in force and none measured
 * earlier in the run: the default preset), else NULL. Drawn in place of the over-steps chart. */
const char *cl_views_plot_meter_note (const ClCollisionMeter *meter);

/* The views with the meter beside them (meter NULL or !show: the views alone). */
void cl_views_plot_draw_with_meter (cairo_t *cr, double width, double height, const ClViewPreview *preview,
                                    const ClCollisionMeter *meter);
/* The whole figure from a snapshot: views plus meter (the figure's entry point). */
void cl_views_plot_draw_snapshot (cairo_t *cr, double width, double height, const ClSnapshot *snap);

/* The theory line is cl_collision_theory (engine/analysis/cl_collisions.h). */

/* Where the meter's parts went (for tests): the over-steps chart and the p-vs-bits chart. */
typedef struct
{
  gboolean shown;
  ClPlotRect views;      /* area of the views */
  ClPlotRect steps_plot; /* code sharing over steps */
  ClPlotScale steps_x, steps_y;
  ClPlotRect bits_plot; /* p against n */
  ClPlotScale bits_x, bits_y;
  ClPlotRect views_drawn; /* where the views and their note went inside views */
} ClViewsPlotLayout;

void cl_views_plot_draw_full (cairo_t *cr, double width, double height, const ClViewPreview *preview,
                              const ClCollisionMeter *meter, ClViewsPlotLayout *layout);
/* Colours of the measured and theoretical collision lines. */
ClRgb cl_views_plot_measured_color (void);
ClRgb cl_views_plot_theory_color (void);

/* The same with the text at scale (1 = the export size's): a narrow figure keeps its text in
 * proportion. */
void cl_views_plot_draw_scaled (cairo_t *cr, double width, double height, const ClViewPreview *preview,
                                const ClCollisionMeter *meter, double scale, ClViewsPlotLayout *layout);
void cl_views_plot_draw_snapshot_scaled (cairo_t *cr, double width, double height, const ClSnapshot *snap,
                                         double scale);

/* The height the figure needs at width, at most height: without the meter, the views are as large
 * as the width lets them be and the figure ends under their note (so an export at this height has
 * no empty band); with the meter, or before the first batch, height itself. The figure drawn at
 * (width, the returned height) lays the views out exactly so. */
double cl_views_plot_height_for (double width, double height, const ClViewPreview *preview,
                                 const ClCollisionMeter *meter, double scale);
