/* Private to the probe-accuracy figure (ui/plots/cl_probe_*.c): the runs of a figure grouped
 * by target (cl_probe_runs.c) and the occlusion/suppression split of the control probes
 * (cl_probe_splits.c), shared with the chart (cl_probe_plot.c). Not for other files. */
#pragma once
#include "ui/plots/cl_probe_plot.h"

/* One line of the figure. */
typedef struct
{
  GArray *points; /* row indices, sorted by step; NULL when the run lacks the target */
  double chance;  /* from the row with the largest step that has one */
  int64_t chance_step;
  gboolean baseline; /* has a step-0 point */
} Target;

typedef struct
{
  int n;
  Target t[CL_PROBE_PLOT_MAX_TARGETS];
} Targets;

/* Every run of a figure: main, then B of a comparison, then the overlays. */
typedef struct
{
  const ClProbeRow *rows;
  int n_rows;
  Targets ts;
} Run;

typedef struct
{
  int n; /* runs[0] is the main run */
  Run *runs;
  int compare; /* index of B, -1 for none */
  int first_overlay, n_overlays;
  const char *label_a, *label_b, *overlays_label;
  const ClPlotView *view;
  double scale; /* text scale */
  /* replicates: runs[0] holds the mean rows (owned), std their standard deviation */
  int n_replicates;
  const char *replicates_label;
  ClProbeRow *mean_rows;
  double *std;
} Runs;

/* Groups the main run (or its mean over others->replicates), B and the overlays by target,
 * filling g's target names and chance levels and the splits present. Free with runs_clear. */
void cl_probe_runs_collect (Runs *r, const ClProbeRow *rows, int n_rows, const ClProbePlotOthers *others,
                            ClProbePlotLayout *g);
void cl_probe_runs_clear (Runs *r);
/* The value of target t of a run at step (the last measured), NaN if none; *at gets its row. */
double cl_probe_value_at_step (const ClProbeRow *rows, const Target *t, double step, int *at);

/* ------------------------------------------- occlusion vs suppression */

ClRgb cl_probe_occlusion_color (void);
ClRgb cl_probe_suppression_color (void);
/* The metric/control pairs present in the main run, into g->split. */
void cl_probe_find_splits (ClProbePlotLayout *g, const Runs *r);
/* Occlusion between the metric and its control, suppression below the control's untrained value. */
void cl_probe_draw_splits (cairo_t *cr, ClProbePlotLayout *g, const Runs *r);
/* Their legend entries; returns how many. */
int cl_probe_splits_legend (const ClProbePlotLayout *g, ClPlotLegendEntry *entries);
/* The crosshair readouts of occlusion and suppression at step best; returns how many. */
int cl_probe_splits_readouts (const ClProbePlotLayout *g, const Runs *r, double best, char (*labels)[96],
                              ClPlotReadout *readouts);
