/* The words around the figures that depend on the run (ui/plots/cl_figure_text.c, cl_figures.c):
 * captions that say what the run's curves did, class names where a class appears, and the
 * A/B legend's live changes. */
#include "ui/plots/cl_figures.h"
#include "ui/plots/cl_heatmap_plot.h"
#include "ui/plots/cl_plot_theme.h"

#include <string.h>

#include "engine/base/cl_params.h"
#include "tests/figures/pixel_points.h"

/* A run's configuration as run.ini text: the defaults with assignments applied. */
static char *
config_with (const char *const *assignments)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  for (int i = 0; assignments != NULL && assignments[i] != NULL; i++)
    {
      GError *error = NULL;
      g_assert_true (cl_config_set_assignment (&cfg, assignments[i], &error));
      g_assert_no_error (error);
    }
  return cl_config_to_ini (&cfg);
}

/* A finished run holding the class probe at step 0 and at step last_step (n = 0, 1 or 2 rows). */
static ClSnapshot *
run_with_class_probe (const char *const *assignments, int n, double untrained, double last, int last_step)
{
  ClProbeRow *probes = g_new0 (ClProbeRow, 2);
  double values[2] = { untrained, last };
  for (int i = 0; i < n; i++)
    {
      probes[i].step = i == 0 ? 0 : last_step;
      g_strlcpy (probes[i].target, "class", sizeof probes[i].target);
      probes[i].accuracy = (float) values[i];
      probes[i].chance = 0.1f;
    }
  return cl_snapshot_new_from_rows (NULL, 0, NULL, 0, probes, n, NULL, 0, config_with (assignments));
}

/* part is (present) or is not (!present) in text. */
static void
assert_text (const char *text, const char *part, gboolean present)
{
  if ((strstr (text, part) != NULL) != present)
    g_error ("\"%s\" is%s in \"%s\"", part, present ? " not" : "", text);
}

#define assert_contains(text, part) assert_text ((text), (part), TRUE)
#define assert_lacks(text, part) assert_text ((text), (part), FALSE)

/* Issue 15: on randbits the class probe falls, and the caption must say so, not that it rises. */
static void
test_probes_caption_follows_the_class (void)
{
  static const char *const randbits12[] = { "data.kind=randbits", "data.bits=12", NULL };
  static const char *const fashion[] = { "data.kind=randbits", "data.bits=0", NULL };

  g_autoptr (ClSnapshot) falls = run_with_class_probe (randbits12, 2, 0.75, 0.34, 340);
  g_autofree char *fell = cl_figure_caption_for (CL_FIGURE_PROBES, falls);
  g_test_message ("falling: %s", fell);
  assert_contains (fell, "fell from 0.75 (untrained) to 0.34 at step 340");
  assert_contains (fell, "told apart by their random bits instead");
  assert_contains (fell, "data.bit_resample");
  assert_lacks (fell, "Rising");
  assert_lacks (fell, "rose");
  assert_lacks (fell, "taught the encoder the class");

  g_autoptr (ClSnapshot) rises = run_with_class_probe (fashion, 2, 0.45, 0.62, 1000);
  g_autofree char *rose = cl_figure_caption_for (CL_FIGURE_PROBES, rises);
  assert_contains (rose, "rose from 0.45 (untrained) to 0.62 at step 1000");
  assert_contains (rose, "taught the encoder the class");
  assert_lacks (rose, "fell");
  assert_lacks (rose, "random bits");

  /* within the probes' noise: neither rise nor fall is claimed */
  g_autoptr (ClSnapshot) flat = run_with_class_probe (randbits12, 2, 0.50, 0.51, 200);
  g_autofree char *level = cl_figure_caption_for (CL_FIGURE_PROBES, flat);
  assert_contains (level, "stayed about level: 0.50 untrained, 0.51 at step 200");
  assert_lacks (level, "rose");
  assert_lacks (level, "fell");

  /* before the second probe nothing is claimed about this run */
  g_autoptr (ClSnapshot) early = run_with_class_probe (randbits12, 1, 0.75, 0.0, 0);
  g_autofree char *waiting = cl_figure_caption_for (CL_FIGURE_PROBES, early);
  assert_contains (waiting, "shows once the probes have run after step 0");
  assert_lacks (waiting, "rose");
  assert_lacks (waiting, "fell");

  /* without a run: the plain caption */
  g_autofree char *plain = cl_figure_caption_for (CL_FIGURE_PROBES, NULL);
  g_assert_cmpstr (plain, ==, cl_figure_caption (CL_FIGURE_PROBES));
}

/* The views caption names the bit strip only where there are bits. */
static void
test_views_caption_follows_the_data (void)
{
  static const char *const no_bits[] = { "data.kind=randbits", "data.bits=0", NULL };
  static const char *const bits[] = { "data.kind=randbits", "data.bits=12", NULL };
  static const char *const resampled[] = { "data.kind=randbits", "data.bits=12", "data.bit_resample=0.5", NULL };
  static const char *const overlay[] = { "data.kind=overlay", NULL };
  g_autoptr (ClSnapshot) a = run_with_class_probe (no_bits, 0, 0, 0, 0);
  g_autoptr (ClSnapshot) b = run_with_class_probe (bits, 0, 0, 0, 0);
  g_autoptr (ClSnapshot) c = run_with_class_probe (resampled, 0, 0, 0, 0);
  g_autoptr (ClSnapshot) d = run_with_class_probe (overlay, 0, 0, 0, 0);
  g_autofree char *ta = cl_figure_caption_for (CL_FIGURE_VIEWS, a);
  g_autofree char *tb = cl_figure_caption_for (CL_FIGURE_VIEWS, b);
  g_autofree char *tc = cl_figure_caption_for (CL_FIGURE_VIEWS, c);
  g_autofree char *td = cl_figure_caption_for (CL_FIGURE_VIEWS, d);
  assert_lacks (ta, "bit");
  assert_contains (tb, "the bit strip: both views carry the same bits");
  assert_contains (tc, "except where data.bit_resample re-draws it");
  assert_contains (td, "the overlaid pattern");
  assert_lacks (td, "bit");
  /* figures whose caption does not depend on the data keep theirs */
  g_autofree char *loss = cl_figure_caption_for (CL_FIGURE_LOSS, b);
  g_assert_cmpstr (loss, ==, cl_figure_caption (CL_FIGURE_LOSS));
}

/* A run with a 2-image similarity matrix whose images are of classes 4 and 7. */
static ClSnapshot *
run_with_similarity (const char *const *assignments)
{
  ClSnapshot *s = run_with_class_probe (assignments, 0, 0, 0, 0);
  s->similarity.m = 2;
  s->similarity.sim = g_new0 (float, 16);
  s->similarity.label = g_new0 (int, 4);
  s->similarity.code = g_new0 (uint32_t, 4);
  for (int i = 0; i < 16; i++)
    s->similarity.sim[i] = i % 5 == 0 ? 1.0f : 0.25f;
  static const int labels[4] = { 4, 7, 4, 7 };
  memcpy (s->similarity.label, labels, sizeof labels);
  return s;
}

/* Issue 15: "class 4 vs class 7" becomes the dataset's names; a data.path folder keeps numbers. */
static void
test_similarity_tooltip_names_classes (void)
{
  g_autoptr (ClSnapshot) fashion = run_with_similarity (NULL);
  g_autofree char *tip = cl_figure_similarity_tooltip (fashion, 0, 3);
  g_assert_cmpstr (tip, ==, "image 0 view 1 (Coat) vs image 1 view 2 (Sneaker): 0.250");
  g_assert_cmpstr (cl_figure_class_name (fashion, 0), ==, "T-shirt/top");
  g_assert_null (cl_figure_class_name (fashion, 10));
  g_assert_null (cl_figure_similarity_tooltip (fashion, 4, 0)); /* outside the 4 x 4 matrix */

  static const char *const own_folder[] = { "data.path=/some/mnist", NULL };
  g_autoptr (ClSnapshot) other = run_with_similarity (own_folder);
  g_autofree char *numbers = cl_figure_similarity_tooltip (other, 0, 3);
  g_assert_cmpstr (numbers, ==, "image 0 view 1 (class 4) vs image 1 view 2 (class 7): 0.250");
  const char *names[16];
  g_assert_cmpint (cl_figure_class_names (other, names, 16), ==, 0);
  g_assert_cmpint (cl_figure_class_names (fashion, names, 16), ==, 10);
  g_assert_cmpstr (names[9], ==, "Ankle boot");
  g_assert_null (names[10]);
}

/* Ordered by class, the heatmap labels its groups with the class names: the left margin makes
 * room for "Ankle boot" where it held "9". */
static void
test_heatmap_group_names (void)
{
  enum
  {
    M = 10
  };
  float *sim = g_new0 (float, 4 * M * M);
  int group[2 * M];
  for (int i = 0; i < 2 * M; i++)
    {
      group[i] = i / 2; /* two rows a class, classes 0..9 */
      sim[i * 2 * M + i] = 1.0f;
    }
  const char *names[M];
  g_autoptr (ClSnapshot) fashion = run_with_similarity (NULL);
  g_assert_cmpint (cl_figure_class_names (fashion, names, M), ==, M);
  ClHeatmapData d = {
    .m = M, .sim = sim, .order_name = "by class", .group = group, .highlight_row = -1, .highlight_col = -1
  };
  int order[2 * M];
  for (int i = 0; i < 2 * M; i++)
    order[i] = i;
  d.order = order;
  ClHeatmapPlotLayout numbers, named;
  cl_heatmap_plot_layout (760, 640, &d, &numbers);
  d.group_names = names;
  d.n_group_names = M;
  cl_heatmap_plot_layout (760, 640, &d, &named);
  g_assert_true (numbers.has_matrix && named.has_matrix);
  g_test_message ("matrix left edge: %.1f with numbers, %.1f with names", numbers.matrix.x, named.matrix.x);
  g_assert_cmpfloat (named.matrix.x, >, numbers.matrix.x + 20.0);

  /* and draws them: dark text where the numbers leave the margin empty (left of the view labels) */
  long dark[2];
  for (int with = 0; with < 2; with++)
    {
      d.group_names = with ? names : NULL;
      ClHeatmapPlotLayout g = with ? named : numbers;
      cairo_t *cr;
      Image im = image_new (760, 640, 1.0, &cr);
      cl_heatmap_plot_draw (cr, 760, 640, &d);
      image_finish (&im, cr);
      save_png (&im, with ? "heatmap-class-names.png" : "heatmap-class-numbers.png");
      dark[with] = 0;
      for (double y = g.matrix.y; y < g.matrix.y + g.matrix.h; y += 1.0)
        for (double x = MAX (g.matrix.x - 90.0, 0.0); x < g.matrix.x - 40.0; x += 1.0)
          dark[with] += color_distance (user_pixel (&im, x, y), cl_plot_color_text ()) < 0.5;
      image_free (&im);
    }
  g_test_message ("dark pixels in the label margin: %ld with numbers, %ld with names", dark[0], dark[1]);
  g_assert_cmpint (dark[0], ==, 0);
  g_assert_cmpint (dark[1], >, 100);
  g_free (sim);
}

/* Issue 15: a run whose parameters changed while it trained says so in the A/B legend. */
static void
test_ab_legend_live_changes (void)
{
  ClEvent *events = g_new0 (ClEvent, 1);
  events[0].step = 340;
  g_strlcpy (events[0].key, "data.bits", sizeof events[0].key);
  g_strlcpy (events[0].old_value, "0", sizeof events[0].old_value);
  g_strlcpy (events[0].new_value, "12", sizeof events[0].new_value);
  static const char *const twelve[] = { "data.bits=12", NULL };
  g_autofree char *config = config_with (twelve);
  g_autoptr (ClSnapshot) live = cl_snapshot_new_from_rows (NULL, 0, events, 1, NULL, 0, NULL, 0, g_strdup (config));
  g_autoptr (ClSnapshot) fixed = cl_snapshot_new_from_rows (NULL, 0, NULL, 0, NULL, 0, NULL, 0, g_strdup (config));
  g_autofree char *a = cl_figure_compare_label (live, fixed, "Run 1", 0);
  g_autofree char *b = cl_figure_compare_label (live, fixed, "Run 2", 1);
  g_assert_cmpstr (a, ==, "Run 1 \u00b7 data.bits 0\u219212 @340");
  /* the same last values, but not the same experiment */
  g_assert_cmpstr (b, ==, "Run 2 (same final parameters)");

  /* many changes: the first three, then a count */
  ClEvent *many = g_new0 (ClEvent, 5);
  for (int i = 0; i < 5; i++)
    {
      many[i].step = 100 * (i + 1);
      g_strlcpy (many[i].key, "loss.temperature", sizeof many[i].key);
      g_snprintf (many[i].old_value, sizeof many[i].old_value, "0.%d", i + 1);
      g_snprintf (many[i].new_value, sizeof many[i].new_value, "0.%d", i + 2);
    }
  g_autoptr (ClSnapshot) busy = cl_snapshot_new_from_rows (NULL, 0, many, 5, NULL, 0, NULL, 0, g_strdup (config));
  g_autofree char *c = cl_figure_compare_label (fixed, busy, "Run 3", 1);
  g_assert_cmpstr (c, ==,
                   "Run 3 (same final parameters) \u00b7 loss.temperature 0.1\u21920.2 @100, loss.temperature "
                   "0.2\u21920.3 @200, loss.temperature 0.3\u21920.4 @300 (+2 more changes)");
}

/* Local features: under each cell the drawn canvas's own scores, not the mean over the canvases
 * (the drawn canvas scored 0.82 while the mean of 16 was 0.34, and read as if it were 0.34); the
 * enlarged view gives both, each named. */
static void
test_clusters_scores_are_the_canvas_own (void)
{
  ClClusterMaps *maps = g_new0 (ClClusterMaps, 1);
  maps->ref_count = 1;
  maps->n_layers = 4; /* pixels and three convs, as a run draws */
  static const char *const names[4] = { "pixels", "conv1", "conv2", "conv3" };
  maps->n_images = 16;
  maps->img_c = 1;
  maps->img_h = maps->img_w = 4;
  maps->image = g_new0 (float, 16);
  for (int l = 0; l < 4; l++)
    {
      maps->layer_names[l] = names[l];
      maps->grid_h[l] = maps->grid_w[l] = 4;
      for (int j = 0; j < CL_CLUSTER_KS; j++)
        {
          int cell = l * CL_CLUSTER_KS + j;
          maps->ks[j] = 2 << j;
          maps->labels[cell] = g_new0 (int, 16);
          maps->iou[cell] = 0.34;
          maps->ari[cell] = 0.16;
          maps->iou_drawn[cell] = 0.82;
          maps->ari_drawn[cell] = 0.40;
        }
    }
  /* scores over steps: the trend chart beside the grid, as in a run */
  ClClusterRow *history = g_new0 (ClClusterRow, 16);
  for (int i = 0; i < 16; i++)
    {
      history[i].step = (i / 8) * 100;
      g_strlcpy (history[i].layer, names[(i / 2) % 4], sizeof history[i].layer);
      history[i].k = i % 2 ? 8 : 2;
      history[i].object_iou = 0.34f;
      history[i].instance_ari = 0.16f;
    }
  ClSnapshot *s = cl_snapshot_new_from_rows (NULL, 0, NULL, 0, NULL, 0, history, 16, NULL);
  s->clusters = maps; /* the snapshot's unref frees it */
  ClFigureOptions o;
  cl_figure_options_init (&o);
  ClClustersData d;
  cl_figure_clusters_data (s, &o, &d);
  g_assert_cmpfloat (d.object_iou[0], ==, 0.82);
  g_assert_cmpfloat (d.instance_ari[0], ==, 0.40);
  char lines[2][CL_CLUSTERS_SCORES_TEXT];
  g_assert_cmpint (cl_clusters_plot_scores_text (&d, 0, lines), ==, 2);
  g_assert_cmpstr (lines[0], ==, "this canvas: object IoU 0.82   instance ARI 0.40");
  g_assert_cmpstr (lines[1], ==, "mean of 16 canvases: object IoU 0.34   instance ARI 0.16");
  /* hovering a cell in a small figure (the Features tab at 1024x700 is about 700x380): the
   * enlarged view is as wide as both lines (they ran past its edges) */
  d.highlight = 0;
  d.font_scale = cl_figure_font_scale (CL_FIGURE_CLUSTERS, 700, 380);
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (700, 380, &d, &g);
  g_assert_true (g.card_shown);
  cairo_surface_t *measure = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *mc = cairo_create (measure);
  cl_plot_text_setup (mc);
  cl_plot_font (mc, cl_plot_theme (d.font_scale).label_font, FALSE);
  for (int i = 0; i < 2; i++)
    {
      double tw = cl_plot_text_width (mc, lines[i]);
      g_test_message ("card %.0f px wide (cells %.0f px, trend %d), \"%s\" %.0f px", g.card.w, g.cell, g.trend_shown,
                      lines[i], tw);
      g_assert_cmpfloat (tw, <=, g.card.w);
    }
  cairo_destroy (mc);
  cairo_surface_destroy (measure);
  /* the figure draws with them */
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 900, 760);
  cairo_t *cr = cairo_create (surface);
  o.cluster_highlight = 0;
  cl_figure_draw_with (CL_FIGURE_CLUSTERS, cr, 900, 760, s, &o);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  cl_snapshot_unref (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/text/probes-caption-follows-the-class", test_probes_caption_follows_the_class);
  g_test_add_func ("/figures/text/views-caption-follows-the-data", test_views_caption_follows_the_data);
  g_test_add_func ("/figures/text/similarity-tooltip-names-classes", test_similarity_tooltip_names_classes);
  g_test_add_func ("/figures/text/heatmap-group-names", test_heatmap_group_names);
  g_test_add_func ("/figures/text/ab-legend-live-changes", test_ab_legend_live_changes);
  g_test_add_func ("/figures/text/clusters-scores-are-the-canvas-own", test_clusters_scores_are_the_canvas_own);
  return g_test_run ();
}
