/* The linear-probe figure: held-out accuracy of a linear classifier on the frozen encoder
 * output, one line with point markers per probe target, a dashed chance line per target
 * in the same colour, the untrained encoder (step 0) as hollow points, and vertical
 * markers where a control changed. Pure cairo, like every renderer in ui/plots. */
#pragma once
#include <cairo.h>
#include "engine/train/cl_snapshot.h"
#include "ui/plots/cl_plot_common.h"
#include "ui/plots/cl_plot_chart.h"

/* Draws into (0,0)-(width,height) of cr. rows hold several targets interleaved ("class",
 * "bits", "bit0".., "small", ...); each distinct target gets a line, in order of first
 * appearance, except the per-bit targets "bitN" ("bits" is their mean). rows/events may be
 * empty: then the axes and a note are drawn. title may be NULL. */
void cl_probe_plot_draw (cairo_t *cr, double width, double height, const ClProbeRow *rows, int n_rows,
                         const ClEvent *events, int n_events, const char *title);

/* Targets beyond this many distinct names are not drawn. */
#define CL_PROBE_PLOT_MAX_TARGETS 16

/* Where cl_probe_plot_draw put things, in the caller's user units (for tests and hit-testing). */
typedef struct
{
  ClPlotRect plot;
  ClPlotScale x, y; /* step -> x, accuracy (0..1) -> y */
  ClPlotTicks x_ticks, y_ticks;
  ClPlotRect event_band; /* strip above the plot holding event labels (h = 0 if none) */
  int event_label_rows, events_labelled;
  int n_targets; /* targets found; target i has colour cl_probe_plot_target_color(i) */
  char targets[CL_PROBE_PLOT_MAX_TARGETS][sizeof ((ClProbeRow *) 0)->target + 1];
  /* A target whose values equal an earlier one's at every probe (on overlay data the class is the
   * background item: "class" and "background" are one series) is drawn once, in the earlier one's
   * colour, and named with it: same_as[k] is that earlier target (-1: its own line), labels[k] the
   * legend name of a drawn target ("class = background"). */
  int same_as[CL_PROBE_PLOT_MAX_TARGETS];
  char labels[CL_PROBE_PLOT_MAX_TARGETS][96];
  double chance[CL_PROBE_PLOT_MAX_TARGETS]; /* chance level drawn per target (NaN: none) */
  gboolean markers;                         /* points were marked (FALSE when too dense to tell apart) */
  ClPlotRect legend;                        /* the legend's rows (full figure width) */
  gboolean fitted;                          /* the y axis fits the data (view->fit_y) instead of 0..1 */
  int replicates;                           /* runs averaged into the mean +- std band (0: none) */
  double hover_step;                        /* the probe step the crosshair names (NaN: none) */
  /* The overlay control probes (issue 14): when a paper-metric target and its control are both
   * present ("background" and "background_clean"; "small" and "small_alone"), the drop is split
   * into the probe-time part (occlusion: control - metric, hatched grey between the two lines)
   * and the representation part (suppression: the control's untrained value at step 0 - the
   * control, shaded red where the control falls below it). Values at the last common step. */
  int n_splits;
  struct
  {
    int metric, control; /* target indices */
    double occlusion, suppression;
  } split[2];
} ClProbePlotLayout;

ClRgb cl_probe_plot_target_color (int index);

/* TRUE for the per-bit targets "bit0", "bit1", ... that the figure leaves out. */
gboolean cl_probe_plot_is_per_bit_target (const char *target, size_t size);

void cl_probe_plot_draw_full (cairo_t *cr, double width, double height, const ClProbeRow *rows, int n_rows,
                              const ClEvent *events, int n_events, const char *title, ClProbePlotLayout *layout);

/* ---- other runs on the same axes: faded overlays and A/B comparison ---- */

/* Another run's probe rows; not owned. */
typedef struct
{
  const ClProbeRow *rows;
  int n_rows;
  const char *label; /* for the legend; NULL for none */
} ClProbePlotRun;

typedef struct
{
  /* Earlier runs as faded, thin lines (no markers, no chance lines) under the main run, each
   * target in its colour; one legend entry names them (overlays_label, or NULL for
   * "N earlier runs (faded)"). */
  const ClProbePlotRun *overlays;
  int n_overlays;
  const char *overlays_label;
  /* A/B: the main run is A (solid lines, round points), compare is B (dashed lines, square
   * points), same colours per target; the legend names "A (...): label_a" and
   * "B (...): compare->label". */
  const ClProbePlotRun *compare;
  const char *label_a;
  /* Other runs of the main run's configuration (other seeds): the figure then draws, per
   * target, the mean over the main run and these (a line with points) and a band of +- one
   * (sample) standard deviation, at the steps the runs share; the legend names them
   * (replicates_label, or NULL for "mean ± std over N runs (band)"). */
  const ClProbePlotRun *replicates;
  int n_replicates;
  const char *replicates_label;
  /* How the chart is looked at (zoom, fitted y, hover crosshair, text scale); NULL: the
   * whole run on a 0..1 axis. Not owned. */
  const ClPlotView *view;
} ClProbePlotOthers;

/* Opacity and line width of overlay traces. */
#define CL_PROBE_PLOT_OVERLAY_ALPHA 0.3
#define CL_PROBE_PLOT_OVERLAY_WIDTH 1.0

/* cl_probe_plot_draw_full with other runs (others may be NULL). Targets are those of every
 * run, in order of first appearance (the main run first), coloured by that order; the axes
 * span every run. */
void cl_probe_plot_draw_runs (cairo_t *cr, double width, double height, const ClProbeRow *rows, int n_rows,
                              const ClEvent *events, int n_events, const char *title, const ClProbePlotOthers *others,
                              ClProbePlotLayout *layout);
