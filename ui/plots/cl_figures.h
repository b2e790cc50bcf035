/* Every figure of a run, drawn from one snapshot: the single drawing path used by the
 * window, by export (PNG/SVG/PDF surfaces) and by the headless CLI. */
#pragma once
#include <cairo.h>
#include "engine/train/cl_snapshot.h"
#include "ui/plots/cl_plot_chart.h"

typedef enum
{
  CL_FIGURE_LOSS,
  CL_FIGURE_PROBES,
  CL_FIGURE_GEOMETRY,
  CL_FIGURE_VIEWS,
  CL_FIGURE_SIMILARITY,
  CL_FIGURE_CLUSTERS,
  CL_N_FIGURES
} ClFigureKind;

/* Human title ("Contrastive loss"), file stem ("loss"), and the size exports use. */
const char *cl_figure_title (ClFigureKind kind);
const char *cl_figure_slug (ClFigureKind kind);
void cl_figure_export_size (ClFigureKind kind, int *width, int *height);
/* The size an export of snap's figure uses: the one above, but cut to what the figure draws where it
 * draws less (the Views figure of a run without bit planes: no strip, no meter). */
void cl_figure_export_size_for (ClFigureKind kind, const ClSnapshot *snap, int *width, int *height);
/* A short 'what to look for' caption for students. */
const char *cl_figure_caption (ClFigureKind kind);
/* The caption for what snap holds: the one above fitted to the run's data kind and, for the
 * probes, to what its class probe did (rose, fell or stayed level since the untrained encoder,
 * with the numbers). snap NULL: the plain caption. g_free it. */
char *cl_figure_caption_for (ClFigureKind kind, const ClSnapshot *snap);
/* The name of class label in snap's dataset ("Coat"), or NULL (no names: a data.path folder or a
 * dataset without them). Used wherever a class appears: similarity labels and tooltips. */
const char *cl_figure_class_name (const ClSnapshot *snap, int label);
/* The class names of snap's dataset by label into names[0..max) (NULL where none); returns one
 * past the last label that has a name (0: none). */
int cl_figure_class_names (const ClSnapshot *snap, const char **names, int max);
/* The tooltip of similarity cell (row, col) (stored indices), e.g. "image 3 view 1 (Coat) vs
 * image 7 view 2 (Sneaker): 0.412"; NULL outside the matrix. g_free it. */
char *cl_figure_similarity_tooltip (const ClSnapshot *snap, int row, int col);

/* How the batch-similarity heatmap orders its rows. */
typedef enum
{
  CL_SIM_ORDER_VIEWS, /* as stored: all view-1 rows, then all view-2 rows */
  CL_SIM_ORDER_PAIRS, /* the two views of each image side by side */
  CL_SIM_ORDER_CLASS, /* grouped by class */
  CL_SIM_ORDER_CODE,  /* grouped by bit code (randbits): images sharing a code light up together */
  CL_N_SIM_ORDERS
} ClSimOrder;

/* View options of figures (NULL = defaults). */
typedef struct
{
  ClSimOrder sim_order;
  int sim_highlight_row, sim_highlight_col; /* stored indices, -1 = none */
  int cluster_highlight;                    /* local-features cell drawn enlarged, -1 = none */
  /* Earlier runs drawn as faded traces under the current one (loss and probe figures), with
   * their labels for the legend; not owned. n_overlays = 0: none. */
  const ClSnapshot *const *overlays;
  const char *const *overlay_labels;
  int n_overlays;
  /* A/B comparison: when compare is set, the loss and probe figures draw the snapshot as A and
   * compare as B on shared axes, labelled label_a / label_b. Not owned. */
  const ClSnapshot *compare;
  const char *label_a, *label_b;
  /* Other runs of the snapshot's configuration (other seeds): the probe figure draws the mean
   * over the snapshot and these with a +- std band. Not owned. n_replicates = 0: none. */
  const ClSnapshot *const *replicates;
  int n_replicates;
  /* How the step charts (loss, probes) are looked at: zoom, log y (loss), fitted y (probes),
   * smoothing (loss), the hover crosshair. view.font_scale <= 0 fits the text to the size
   * drawn (1 at the export size, smaller in a narrower or lower area). */
  ClPlotView view;
} ClFigureOptions;

void cl_figure_options_init (ClFigureOptions *options);

/* The text scale a figure of kind gets at width x height when its view does not set one. */
double cl_figure_font_scale (ClFigureKind kind, double width, double height);

/* Where a step chart (loss, probes) puts its data, for turning pointer positions into steps
 * and values (hover, zoom): the plot area and its x (step) and left y scales (log10 units on a
 * log axis). FALSE for other figures. */
typedef struct
{
  ClPlotRect plot;
  ClPlotScale x, y;
  gboolean log_y;
} ClFigureChartArea;

gboolean cl_figure_chart_area (ClFigureKind kind, double width, double height, const ClSnapshot *snap,
                               const ClFigureOptions *options, ClFigureChartArea *area);

/* The legend text the loss and probe figures give one side of an A/B comparison: its label
 * ("this run" / "other run" when NULL) and the parameters whose values differ between the two
 * snapshots' config_ini, e.g. "Run 3 · loss.temperature=0.1" (at most three, then "(+N more)";
 * B gets " (same parameters)" when nothing differs), then the run's live changes (its events),
 * e.g. " · data.bits 0→12 @340" (at most three, then "(+N more changes)"; with live changes on
 * either side an unchanged end reads " (same final parameters)"). which: 0 for A, 1 for B. g_free it. */
char *cl_figure_compare_label (const ClSnapshot *a, const ClSnapshot *b, const char *label, int which);
const char *cl_sim_order_name (ClSimOrder order);

void cl_figure_draw (ClFigureKind kind, cairo_t *cr, double width, double height, const ClSnapshot *snap);
void cl_figure_draw_with (ClFigureKind kind, cairo_t *cr, double width, double height, const ClSnapshot *snap,
                          const ClFigureOptions *options);
/* Local features: what the figure draws of a snapshot (its label maps, the drawn canvas's own
 * scores under the cells and their means over the canvases, the scores over steps). The
 * pointers are into snap. */
#include "ui/plots/cl_clusters_plot.h"
void cl_figure_clusters_data (const ClSnapshot *snap, const ClFigureOptions *options, ClClustersData *data);
/* Local features: the cell under (x, y), or -1. */
int cl_figure_clusters_hit (double width, double height, const ClSnapshot *snap, const ClFigureOptions *options,
                            double x, double y);
/* Similarity heatmap: the stored row/column under (x, y) of a figure of that size, if any. */
gboolean cl_figure_similarity_hit (double width, double height, const ClSnapshot *snap, const ClFigureOptions *options,
                                   double x, double y, int *row, int *col);
