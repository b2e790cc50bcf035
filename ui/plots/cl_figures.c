#include "ui/plots/cl_figures.h"

#include "ui/plots/cl_geometry_plot.h"
#include "ui/plots/cl_loss_plot.h"
#include "ui/plots/cl_probe_plot.h"
#include "ui/plots/cl_views_plot.h"
#include "ui/plots/cl_heatmap_plot.h"
#include "ui/plots/cl_clusters_plot.h"
#include "ui/plots/cl_plot_theme.h"

#include "engine/store/cl_runs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  const char *title;
  const char *slug;
  int width, height;
  const char *caption;
} FigureInfo;

static const FigureInfo figures[CL_N_FIGURES] = {
  [CL_FIGURE_LOSS] = { "Contrastive loss", "loss", 900, 500,
                       "What to look for: the total loss (= alignment + distribution) falls as the two views of each "
                       "image are pulled together (alignment goes down) while all images are pushed apart "
                       "(distribution). Contrastive accuracy is how often an image's most similar other view is its "
                       "own partner. Dashed lines mark where you changed a control." },
  [CL_FIGURE_PROBES] = { "Linear-probe accuracy", "probes", 900, 500,
                         "What to look for: a linear classifier fitted on the frozen representation y of held-out "
                         "images. Rising above the untrained encoder (step 0) and far above chance (dashed) means "
                         "the contrastive objective taught the encoder the class, though it never saw a label." },
  [CL_FIGURE_GEOMETRY] = { "Geometry of z", "geometry", 1200, 400,
                           "What to look for: the distribution term pushes z toward its prior (left: histogram of "
                           "z's coordinates against the prior's density). Alignment falls as views agree; uniformity "
                           "falls as z spreads. If the collapse indicator drops toward 0, every image maps to the "
                           "same point (try loss.lambda = 0 with decoupled or swd-*)." },
  [CL_FIGURE_VIEWS] = { "Augmented views", "views", 900, 420,
                        "What to look for: each column is one image of the current batch, and the two rows are the "
                        "two augmented views the loss must match. Whatever survives augmentation in both views (here, "
                        "the bit strip unless data.bit_resample re-draws it) is a shortcut the encoder can use instead "
                        "of the image content." },
  [CL_FIGURE_SIMILARITY] = { "Batch similarity", "similarity", 760, 640,
                             "What to look for: cosine similarity of z for fixed images, two views each. The two views "
                             "of an image should match (red off-diagonals, or red 2x2 blocks when ordered by view "
                             "pair). "
                             "Ordered by class, blocks show which classes the model groups together; with random bits, "
                             "order by bit code to see images that share a code light up." },
  [CL_FIGURE_CLUSTERS] = { "Local features", "clusters", 900, 760,
                           "What to look for: bisecting K-means of each layer's feature map on a held-out canvas, at "
                           "k = 2, 4, 8 (children drawn in shades of their parent's colour). Raw pixels group by "
                           "brightness. The paper finds learned layers grouping positions into objects at small k; "
                           "here the best layer stays near or below raw pixels (convn-same, 400 steps, 3 seeds: best "
                           "layer IoU 0.35 vs pixels 0.37 at k = 2, ARI 0.23 vs 0.26 at k = 8); convn-deep, a "
                           "background drawn per view, 2000 steps and SimCLR's full augmentation (crop, jitter, "
                           "blur) lifted no layer 0.10 above pixels (see the guide). "
                           "Numbers under the cells: the drawn canvas's own object IoU (best union of clusters "
                           "with the foreground) and ARI against the instances; a hovered cell adds their means over "
                           "probe.cluster_images canvases, which the chart shows over steps per layer (raw pixels "
                           "dashed): striped or checked backgrounds that pixels cannot tell from the items pull the "
                           "pixel mean down." },
};

static const char *const sim_order_names[CL_N_SIM_ORDERS] = { "by view", "by view pair", "by class", "by bit code" };

const char *
cl_sim_order_name (ClSimOrder order)
{
  return sim_order_names[order];
}

void
cl_figure_options_init (ClFigureOptions *o)
{
  memset (o, 0, sizeof *o);
  o->sim_order = CL_SIM_ORDER_VIEWS;
  o->sim_highlight_row = o->sim_highlight_col = -1;
  o->cluster_highlight = -1;
  cl_plot_view_init (&o->view);
}

double
cl_figure_font_scale (ClFigureKind kind, double width, double height)
{
  if (kind < 0 || kind >= CL_N_FIGURES)
    return 1.0;
  const FigureInfo *f = &figures[kind];
  return MIN (cl_plot_theme_fit_scale (width, f->width), cl_plot_theme_fit_scale (height, f->height));
}

/* The view with its text scale decided. */
static ClPlotView
view_for (ClFigureKind kind, double w, double h, const ClFigureOptions *o)
{
  ClPlotView v = o->view;
  if (!(v.font_scale > 0.0))
    v.font_scale = cl_figure_font_scale (kind, w, h);
  return v;
}

typedef struct
{
  const ClSimilarity *s;
  ClSimOrder order;
} SortCtx;

static SortCtx sort_ctx; /* qsort has no user data; figures are drawn on one thread at a time */

static long
sort_key (int row)
{
  const ClSimilarity *s = sort_ctx.s;
  int image = row % s->m, view = row / s->m;
  long primary = sort_ctx.order == CL_SIM_ORDER_CLASS  ? s->label[row]
                 : sort_ctx.order == CL_SIM_ORDER_CODE ? (long) s->code[row]
                                                       : 0;
  return (primary * (long) s->m + image) * 2 + view;
}

static int
compare_rows (const void *a, const void *b)
{
  long ka = sort_key (*(const int *) a), kb = sort_key (*(const int *) b);
  return (ka > kb) - (ka < kb);
}

/* Fills order[2m] and group[2m] (NULL-able result) for the chosen ordering. */
static gboolean
similarity_order (const ClSimilarity *s, ClSimOrder order, int *rows, int *group)
{
  int n = 2 * s->m;
  for (int i = 0; i < n; i++)
    rows[i] = i;
  if (order == CL_SIM_ORDER_VIEWS)
    return FALSE;
  sort_ctx = (SortCtx){ s, order };
  qsort (rows, (size_t) n, sizeof (int), compare_rows);
  if (order == CL_SIM_ORDER_PAIRS)
    return FALSE;
  for (int p = 0; p < n; p++)
    group[p] = order == CL_SIM_ORDER_CLASS ? s->label[rows[p]] : (int) s->code[rows[p]];
  return TRUE;
}

#define MAX_CLASS_NAMES 64

/* names: MAX_CLASS_NAMES slots, filled when the rows are grouped by class. */
static void
heatmap_data (const ClSnapshot *snap, const ClFigureOptions *o, int *rows, int *group, const char **names,
              ClHeatmapData *d)
{
  const ClSimilarity *s = &snap->similarity;
  memset (d, 0, sizeof *d);
  d->m = s->m;
  d->sim = s->sim;
  d->highlight_row = o->sim_highlight_row;
  d->highlight_col = o->sim_highlight_col;
  d->title = "Batch similarity (cosine of z)";
  d->order_name = sim_order_names[o->sim_order];
  if (s->m > 0)
    {
      gboolean grouped = similarity_order (s, o->sim_order, rows, group);
      d->order = o->sim_order == CL_SIM_ORDER_VIEWS ? NULL : rows;
      d->group = grouped ? group : NULL;
      if (grouped && o->sim_order == CL_SIM_ORDER_CLASS)
        {
          d->n_group_names = cl_figure_class_names (snap, names, MAX_CLASS_NAMES);
          d->group_names = names;
        }
    }
}

void
cl_figure_clusters_data (const ClSnapshot *s, const ClFigureOptions *o, ClClustersData *d)
{
  const ClClusterMaps *m = s ? s->clusters : NULL;
  memset (d, 0, sizeof *d);
  d->highlight = o->cluster_highlight;
  d->title = "Local features: K-means of each layer's feature map";
  if (s)
    {
      /* Opened runs have scores over steps but no label maps: the chart still shows. */
      d->history = s->cluster_rows;
      d->n_history = s->n_cluster_rows;
    }
  if (!m)
    return;
  d->n_rows = m->n_layers;
  d->row_names = m->layer_names;
  d->n_cols = CL_CLUSTER_KS;
  d->ks = m->ks;
  d->img_c = m->img_c;
  d->img_h = m->img_h;
  d->img_w = m->img_w;
  d->image = m->image;
  d->grid_h = m->grid_h;
  d->grid_w = m->grid_w;
  d->labels = (const int *const *) m->labels;
  d->parent = (const int *const *) m->parent;
  /* under each cell the drawn canvas's own scores; the means over the canvases beside them */
  d->object_iou = m->iou_drawn;
  d->instance_ari = m->ari_drawn;
  d->object_iou_mean = m->iou;
  d->instance_ari_mean = m->ari;
  d->n_mean_images = m->n_images;
}

int
cl_figure_clusters_hit (double w, double h, const ClSnapshot *snap, const ClFigureOptions *o, double x, double y)
{
  if (!snap || !snap->clusters)
    return -1;
  ClFigureOptions defaults;
  cl_figure_options_init (&defaults);
  ClClustersData d;
  cl_figure_clusters_data (snap, o ? o : &defaults, &d);
  d.font_scale = view_for (CL_FIGURE_CLUSTERS, w, h, o ? o : &defaults).font_scale; /* as drawn */
  return cl_clusters_plot_hit (w, h, &d, x, y);
}

gboolean
cl_figure_similarity_hit (double w, double h, const ClSnapshot *snap, const ClFigureOptions *o, double x, double y,
                          int *row, int *col)
{
  if (!snap || snap->similarity.m == 0)
    return FALSE;
  ClFigureOptions defaults;
  cl_figure_options_init (&defaults);
  int n = 2 * snap->similarity.m;
  int *rows = g_new (int, n), *group = g_new (int, n);
  ClHeatmapData d;
  const char *names[MAX_CLASS_NAMES];
  heatmap_data (snap, o ? o : &defaults, rows, group, names, &d);
  d.font_scale = view_for (CL_FIGURE_SIMILARITY, w, h, o ? o : &defaults).font_scale; /* as drawn */
  gboolean hit = cl_heatmap_plot_hit (w, h, &d, x, y, row, col);
  g_free (rows);
  g_free (group);
  return hit;
}

const char *
cl_figure_title (ClFigureKind kind)
{
  return figures[kind].title;
}

const char *
cl_figure_slug (ClFigureKind kind)
{
  return figures[kind].slug;
}

const char *
cl_figure_caption (ClFigureKind kind)
{
  return figures[kind].caption;
}

void
cl_figure_export_size (ClFigureKind kind, int *width, int *height)
{
  *width = figures[kind].width;
  *height = figures[kind].height;
}

/* The Views figure of a run without bit planes draws no strip and no meter: its export ends under
 * the views' note instead of leaving an empty band, and its text is scaled against that height. */
static int
views_height (const ClSnapshot *s)
{
  const FigureInfo *f = &figures[CL_FIGURE_VIEWS];
  ClCollisionMeter meter;
  cl_views_plot_meter_from_snapshot (&meter, s);
  return (int) ceil (cl_views_plot_height_for (f->width, f->height, s ? &s->preview : NULL, &meter, 1.0));
}

void
cl_figure_export_size_for (ClFigureKind kind, const ClSnapshot *snap, int *width, int *height)
{
  cl_figure_export_size (kind, width, height);
  if (kind == CL_FIGURE_VIEWS)
    *height = views_height (snap);
}

void
cl_figure_draw (ClFigureKind kind, cairo_t *cr, double w, double h, const ClSnapshot *s)
{
  cl_figure_draw_with (kind, cr, w, h, s, NULL);
}

/* ---- other runs: faded overlays and A/B ---- */

/* The legend entry of the overlays: their names when a few short ones fit, else a count. */
static char *
overlays_legend (const ClFigureOptions *o)
{
  int n = o->n_overlays;
  GString *names = g_string_new (NULL);
  gboolean named = n <= 3 && o->overlay_labels != NULL;
  for (int i = 0; named && i < n; i++)
    {
      const char *label = o->overlay_labels[i];
      named = label != NULL && *label != '\0';
      if (named)
        g_string_append_printf (names, "%s%s", i ? ", " : "", label);
    }
  char *text = named && g_utf8_strlen (names->str, -1) <= 60
                   ? g_strdup_printf ("earlier run%s (faded): %s", n == 1 ? "" : "s", names->str)
                   : g_strdup_printf ("%d earlier run%s (faded)", n, n == 1 ? "" : "s");
  g_string_free (names, TRUE);
  return text;
}

#define AB_MAX_KEYS 3

#define AB_MAX_EVENTS 3

static gboolean
has_events (const ClSnapshot *s)
{
  return s != NULL && s->events != NULL && s->n_events > 0;
}

/* " · data.bits 0→12 @340, ...": the live changes of a run, so that a run that trained at two
 * settings is not labelled with its last one alone. */
static void
append_events (GString *t, const ClSnapshot *s)
{
  if (!has_events (s))
    return;
  for (int i = 0; i < s->n_events && i < AB_MAX_EVENTS; i++)
    {
      const ClEvent *e = &s->events[i];
      int nk = (int) strnlen (e->key, sizeof e->key), no = (int) strnlen (e->old_value, sizeof e->old_value);
      int nn = (int) strnlen (e->new_value, sizeof e->new_value);
      g_string_append_printf (t, "%s%.*s %.*s\u2192%.*s @%" G_GINT64_FORMAT, i ? ", " : " \u00b7 ", nk, e->key,
                              no > 0 ? no : 7, no > 0 ? e->old_value : "(unset)", nn > 0 ? nn : 7,
                              nn > 0 ? e->new_value : "(unset)", (gint64) e->step);
    }
  if (s->n_events > AB_MAX_EVENTS)
    g_string_append_printf (t, " (+%d more change%s)", s->n_events - AB_MAX_EVENTS,
                            s->n_events - AB_MAX_EVENTS == 1 ? "" : "s");
}

/* "label · key=value, key=value" for one side of a comparison: the parameters that differ at
 * the end, then the run's live changes. */
static char *
ab_label (const char *label, const char *fallback, char **keys, char **values, gboolean same, const ClSnapshot *run,
          gboolean changed_live)
{
  GString *t = g_string_new (label && *label ? label : fallback);
  if (same)
    g_string_append (t, changed_live ? " (same final parameters)" : " (same parameters)");
  int n = keys ? (int) g_strv_length (keys) : 0;
  for (int i = 0; i < n && i < AB_MAX_KEYS; i++)
    g_string_append_printf (t, "%s%s=%s", i ? ", " : " · ", keys[i], *values[i] ? values[i] : "(unset)");
  if (n > AB_MAX_KEYS)
    g_string_append_printf (t, " (+%d more)", n - AB_MAX_KEYS);
  append_events (t, run);
  return g_string_free (t, FALSE);
}

typedef struct
{
  char *a, *b, *overlays;
} OtherLabels;

static void other_labels_clear (OtherLabels *l);

static void
other_labels_init (OtherLabels *l, const ClSnapshot *s, const ClFigureOptions *o)
{
  memset (l, 0, sizeof *l);
  if (o->n_overlays > 0 && o->overlays)
    l->overlays = overlays_legend (o);
  if (!o->compare)
    return;
  char **keys = NULL, **va = NULL, **vb = NULL;
  if (s && s->config_ini && o->compare->config_ini)
    keys = cl_config_ini_diff (s->config_ini, o->compare->config_ini, &va, &vb, NULL);
  gboolean same = keys && !keys[0];
  gboolean live = has_events (s) || has_events (o->compare);
  l->a = ab_label (o->label_a, "this run", keys, va, FALSE, s, live);
  l->b = ab_label (o->label_b, "other run", keys, vb, same, o->compare, live);
  g_strfreev (keys);
  g_strfreev (va);
  g_strfreev (vb);
}

char *
cl_figure_compare_label (const ClSnapshot *a, const ClSnapshot *b, const char *label, int which)
{
  ClFigureOptions o;
  cl_figure_options_init (&o);
  o.compare = b;
  o.label_a = which == 0 ? label : NULL;
  o.label_b = which == 0 ? NULL : label;
  OtherLabels l;
  other_labels_init (&l, a, &o);
  char *text = which == 0 ? g_steal_pointer (&l.a) : g_steal_pointer (&l.b);
  other_labels_clear (&l);
  return text;
}

static void
other_labels_clear (OtherLabels *l)
{
  g_free (l->a);
  g_free (l->b);
  g_free (l->overlays);
}

static void
draw_loss (cairo_t *cr, double w, double h, const ClSnapshot *s, const ClFigureOptions *o,
           ClLossPlotLayout *loss_geometry)
{
  ClLossPlotStyle style;
  cl_loss_plot_style_init (&style);
  style.title = figures[CL_FIGURE_LOSS].title;
  OtherLabels labels;
  other_labels_init (&labels, s, o);
  int n_overlays = o->overlays ? MAX (o->n_overlays, 0) : 0;
  ClLossPlotRun *overlays = g_new0 (ClLossPlotRun, MAX (n_overlays, 1));
  for (int i = 0; i < n_overlays; i++)
    if (o->overlays[i])
      overlays[i] = (ClLossPlotRun){ o->overlays[i]->rows, o->overlays[i]->n_rows, NULL };
  ClLossPlotRun compare = { 0 };
  style.overlays = overlays;
  style.n_overlays = n_overlays;
  style.overlays_label = labels.overlays;
  if (o->compare)
    {
      compare = (ClLossPlotRun){ o->compare->rows, o->compare->n_rows, labels.b };
      style.compare = &compare;
      style.label_a = labels.a;
    }
  ClPlotView view = view_for (CL_FIGURE_LOSS, w, h, o);
  style.view = &view;
  if (s)
    cl_loss_plot_draw_full (cr, w, h, s->rows, s->n_rows, s->events, s->n_events, &style, loss_geometry);
  else
    cl_loss_plot_draw_full (cr, w, h, NULL, 0, NULL, 0, &style, loss_geometry);
  g_free (overlays);
  other_labels_clear (&labels);
}

static void
draw_probes (cairo_t *cr, double w, double h, const ClSnapshot *s, const ClFigureOptions *o,
             ClProbePlotLayout *probe_geometry)
{
  OtherLabels labels;
  other_labels_init (&labels, s, o);
  int n_overlays = o->overlays ? MAX (o->n_overlays, 0) : 0;
  ClProbePlotRun *overlays = g_new0 (ClProbePlotRun, MAX (n_overlays, 1));
  for (int i = 0; i < n_overlays; i++)
    if (o->overlays[i])
      overlays[i] = (ClProbePlotRun){ o->overlays[i]->probes, o->overlays[i]->n_probes, NULL };
  ClProbePlotRun compare = { 0 };
  ClPlotView view = view_for (CL_FIGURE_PROBES, w, h, o);
  int n_reps = o->replicates ? MAX (o->n_replicates, 0) : 0;
  ClProbePlotRun *reps = g_new0 (ClProbePlotRun, MAX (n_reps, 1));
  for (int i = 0; i < n_reps; i++)
    if (o->replicates[i])
      reps[i] = (ClProbePlotRun){ o->replicates[i]->probes, o->replicates[i]->n_probes, NULL };
  ClProbePlotOthers others = { overlays, n_overlays, labels.overlays, NULL, NULL, reps, n_reps, NULL, &view };
  if (o->compare)
    {
      compare = (ClProbePlotRun){ o->compare->probes, o->compare->n_probes, labels.b };
      others.compare = &compare;
      others.label_a = labels.a;
    }
  cl_probe_plot_draw_runs (cr, w, h, s ? s->probes : NULL, s ? s->n_probes : 0, s ? s->events : NULL,
                           s ? s->n_events : 0, figures[CL_FIGURE_PROBES].title, &others, probe_geometry);
  g_free (overlays);
  g_free (reps);
  other_labels_clear (&labels);
}

void
cl_figure_draw_with (ClFigureKind kind, cairo_t *cr, double w, double h, const ClSnapshot *s,
                     const ClFigureOptions *options)
{
  ClFigureOptions defaults;
  cl_figure_options_init (&defaults);
  const ClFigureOptions *o = options ? options : &defaults;
  switch (kind)
    {
    case CL_FIGURE_LOSS:
      draw_loss (cr, w, h, s, o, NULL);
      break;
    case CL_FIGURE_PROBES:
      draw_probes (cr, w, h, s, o, NULL);
      break;
    case CL_FIGURE_GEOMETRY:
      {
        static const ClZHistogram empty;
        cl_geometry_plot_draw_scaled (cr, w, h, s ? s->rows : NULL, s ? s->n_rows : 0, s ? &s->zhist : &empty,
                                      s ? s->events : NULL, s ? s->n_events : 0,
                                      view_for (CL_FIGURE_GEOMETRY, w, h, o).font_scale, NULL);
      }
      break;
    case CL_FIGURE_VIEWS:
      {
        double font_scale = o->view.font_scale;
        if (!(font_scale > 0.0))
          font_scale = MIN (cl_plot_theme_fit_scale (w, figures[CL_FIGURE_VIEWS].width),
                            cl_plot_theme_fit_scale (h, views_height (s)));
        cl_views_plot_draw_snapshot_scaled (cr, w, h, s, font_scale);
      }
      break;
    case CL_FIGURE_SIMILARITY:
      {
        int n = s ? 2 * s->similarity.m : 0;
        int *rows = g_new (int, MAX (n, 1)), *group = g_new (int, MAX (n, 1));
        ClHeatmapData d = { 0 };
        const char *names[MAX_CLASS_NAMES];
        if (s)
          heatmap_data (s, o, rows, group, names, &d);
        else
          d.highlight_row = d.highlight_col = -1;
        d.font_scale = view_for (CL_FIGURE_SIMILARITY, w, h, o).font_scale;
        cl_heatmap_plot_draw (cr, w, h, &d);
        g_free (rows);
        g_free (group);
      }
      break;
    case CL_FIGURE_CLUSTERS:
      {
        ClClustersData d;
        cl_figure_clusters_data (s, o, &d);
        d.font_scale = view_for (CL_FIGURE_CLUSTERS, w, h, o).font_scale;
        cl_clusters_plot_draw (cr, w, h, &d);
      }
      break;
    case CL_N_FIGURES:
      break;
    }
}

gboolean
cl_figure_chart_area (ClFigureKind kind, double w, double h, const ClSnapshot *s, const ClFigureOptions *options,
                      ClFigureChartArea *area)
{
  if (kind != CL_FIGURE_LOSS && kind != CL_FIGURE_PROBES)
    return FALSE;
  ClFigureOptions o;
  cl_figure_options_init (&o);
  if (options)
    o = *options;
  o.view.hover_x = NAN; /* the crosshair does not move anything */
  /* laid out by drawing on a 1x1 surface: the same code path, so the same places */
  cairo_t *cr = cl_plot_measure_context_new ();
  memset (area, 0, sizeof *area);
  if (kind == CL_FIGURE_LOSS)
    {
      ClLossPlotLayout g;
      draw_loss (cr, w, h, s, &o, &g);
      *area = (ClFigureChartArea){ g.plot, g.x, g.left, g.log_y };
    }
  else
    {
      ClProbePlotLayout g;
      draw_probes (cr, w, h, s, &o, &g);
      *area = (ClFigureChartArea){ g.plot, g.x, g.y, FALSE };
    }
  cairo_destroy (cr);
  return TRUE;
}
