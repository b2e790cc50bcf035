/* The Local features figure's trend chart: object IoU and instance ARI over training, one line
 * per layer, drawn beside (or below) the cluster grid. Checked on the pixels it draws: lines
 * where the data says, one colour per layer (the same beside the grid's row labels), and
 * histories that are empty or odd draw without crashing. */
#include "ui/plots/cl_clusters_plot.h"

#include <string.h>

#include "tests/figures/plot_pixels.h"

#define G 8 /* label-map side */

typedef struct
{
  float image[G * G];
  int ks[3];
  int grid_h[4], grid_w[4];
  int maps[12][G * G];
  const int *labels[12];
  double iou[12], ari[12];
  const char *names[4];
  ClClusterRow rows[256];
  int n_rows;
} Fixture;

static const char *const layer_names[4] = { "pixels", "conv1", "conv2", "conv3" };

/* A grid of n_layers rows x k = 2, 4, 8, with left/right halves as clusters. */
static ClClustersData
fixture (Fixture *f, int n_layers)
{
  memset (f, 0, sizeof *f);
  for (int i = 0; i < G * G; i++)
    f->image[i] = 0.5f;
  f->ks[0] = 2;
  f->ks[1] = 4;
  f->ks[2] = 8;
  for (int r = 0; r < n_layers; r++)
    {
      f->names[r] = layer_names[r];
      f->grid_h[r] = f->grid_w[r] = G;
      for (int c = 0; c < 3; c++)
        {
          for (int p = 0; p < G * G; p++)
            f->maps[r * 3 + c][p] = (p % G) * f->ks[c] / G;
          f->labels[r * 3 + c] = f->maps[r * 3 + c];
          f->iou[r * 3 + c] = 0.5;
          f->ari[r * 3 + c] = 0.25;
        }
    }
  return (ClClustersData){
    .n_rows = n_layers,
    .row_names = f->names,
    .n_cols = 3,
    .ks = f->ks,
    .img_h = G,
    .img_w = G,
    .img_c = 1,
    .image = f->image,
    .grid_h = f->grid_h,
    .grid_w = f->grid_w,
    .labels = f->labels,
    .object_iou = f->iou,
    .instance_ari = f->ari,
    .highlight = -1,
    .title = "Local features",
    .history = f->rows,
    .n_history = 0,
  };
}

static void
add_row (Fixture *f, int64_t step, const char *layer, int k, double iou, double ari)
{
  g_assert_cmpint (f->n_rows, <, (int) G_N_ELEMENTS (f->rows));
  ClClusterRow *r = &f->rows[f->n_rows++];
  memset (r, 0, sizeof *r);
  r->step = step;
  g_strlcpy (r->layer, layer, sizeof r->layer);
  r->k = k;
  r->object_iou = (float) iou;
  r->instance_ari = (float) ari;
}

static Image
draw (const ClClustersData *d, double w, double h, double scale)
{
  Image im;
  IMAGE_DRAW (im, w, h, scale, cl_clusters_plot_draw (cr, w, h, d));
  return im;
}

static void
point_at (const ClClustersPlotLayout *g, int panel, double step, double v, double *x, double *y)
{
  *x = cl_plot_scale_map (&g->trend_x[panel], step);
  *y = cl_plot_scale_map (&g->trend_y[panel], v);
}

/* The closest colour to c in a small square around (x, y): lines are anti-aliased and a point
 * can sit half a pixel off the sample. */
static double
nearest_distance (const Image *im, double x, double y, ClRgb c, double radius)
{
  double best = 10.0;
  for (double dy = -radius; dy <= radius; dy += 0.5)
    for (double dx = -radius; dx <= radius; dx += 0.5)
      {
        double px = x + dx, py = y + dy;
        if (px < 0 || py < 0 || px * im->scale >= im->width || py * im->scale >= im->height)
          continue;
        best = MIN (best, color_distance (user_pixel (im, px, py), c));
      }
  return best;
}

/* How much of colour c covers pixel p over the background, 0..1 (anti-aliased edges count part). */
static double
coverage (ClRgb p, ClRgb c)
{
  double full = color_distance (cl_plot_color_background (), c);
  return CLAMP (1.0 - color_distance (p, c) / full, 0.0, 1.0);
}

static gboolean
inside_rect (const ClPlotRect *r, double x, double y)
{
  return x >= r->x && y >= r->y && x <= r->x + r->w && y <= r->y + r->h;
}

static gboolean
rects_overlap (const ClPlotRect *a, const ClPlotRect *b)
{
  return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* ------------------------------------------------------------------ tests */

/* Each value lands where the panel's scales put it, in its layer's colour; between two
 * measurements the line passes through the interpolated point; where there is no data there
 * is no line colour. */
static void
test_trend_lines_where_data_says (void)
{
  const double scales[2] = { 1.0, 2.0 };
  for (int z = 0; z < 2; z++)
    {
      Fixture f;
      ClClustersData d = fixture (&f, 2);
      const double conv_iou[3] = { 0.2, 0.5, 0.8 }, conv_ari[3] = { 0.1, 0.6, 0.3 };
      for (int s = 0; s < 3; s++)
        for (int k = 2; k <= 8; k *= 2)
          {
            /* only k = 2 (IoU) and k = 8 (ARI) are shown: the other k carry decoys */
            gboolean shown_iou = k == 2, shown_ari = k == 8;
            add_row (&f, 100 * s, "pixels", k, shown_iou ? 0.4 : 0.95, shown_ari ? 0.7 : 0.95);
            add_row (&f, 100 * s, "conv1", k, shown_iou ? conv_iou[s] : 0.95, shown_ari ? conv_ari[s] : 0.95);
          }
      d.n_history = f.n_rows;
      double w = 900, h = 600;
      ClClustersPlotLayout g;
      cl_clusters_plot_layout (w, h, &d, &g);
      g_assert_true (g.has_grid);
      g_assert_true (g.trend_shown);
      g_assert_cmpint (g.trend_k[0], ==, 2);
      g_assert_cmpint (g.trend_k[1], ==, 8);
      Image im = draw (&d, w, h, scales[z]);
      ClRgb conv1 = cl_clusters_plot_layer_color ("conv1", 1), pixels = cl_clusters_plot_layer_color ("pixels", 0);
      for (int panel = 0; panel < 2; panel++)
        {
          const double *v = panel == 0 ? conv_iou : conv_ari;
          const ClPlotRect *plot = &g.trend_plot[panel];
          for (int s = 0; s < 3; s++)
            {
              double x, y;
              point_at (&g, panel, 100 * s, v[s], &x, &y);
              g_assert_true (inside_rect (plot, x, y));
              g_assert_cmpfloat (nearest_distance (&im, x, y, conv1, 0.5), <, 0.05);
              /* the decoy value of the other k is not drawn */
              point_at (&g, panel, 100 * s, 0.95, &x, &y);
              g_assert_cmpfloat (nearest_distance (&im, x, y, conv1, 1.5), >, 0.3);
              if (s < 2)
                {
                  double xm, ym;
                  point_at (&g, panel, 100 * s + 50, 0.5 * (v[s] + v[s + 1]), &xm, &ym);
                  g_assert_cmpfloat (nearest_distance (&im, xm, ym, conv1, 1.0), <, 0.12);
                }
            }
          /* the pixels baseline: a dashed grey line at its value, on for much of its length */
          double base = panel == 0 ? 0.4 : 0.7, x0, y0, x1, y1;
          point_at (&g, panel, 0, base, &x0, &y0);
          point_at (&g, panel, 200, base, &x1, &y1);
          g_assert_cmpfloat (fabs (y1 - y0), <, 1e-9);
          int on = 0, total = 0;
          for (double x = x0 + 3; x < x1 - 3; x += 1.0, total++)
            on += nearest_distance (&im, x, y0, pixels, 0.5) < 0.12;
          g_test_message ("panel %d: baseline on %d of %d", panel, on, total);
          g_assert_cmpint (on, >, total / 3);
          g_assert_cmpint (on, <, total); /* dashed, not solid */
          /* and no baseline colour a tenth of the axis away from it */
          point_at (&g, panel, 100, base + 0.15, &x0, &y0);
          g_assert_cmpfloat (nearest_distance (&im, x0, y0, pixels, 1.0), >, 0.2);
        }
      image_free (&im);
    }
}

/* One colour per layer, distinct, the same in both panels and beside the grid's row labels;
 * a conv layer keeps its colour whatever else is in the history. */
static void
test_trend_colors_per_layer (void)
{
  Fixture f;
  ClClustersData d = fixture (&f, 4);
  const double level[4] = { 0.15, 0.35, 0.6, 0.85 };
  for (int s = 0; s <= 2; s++)
    for (int l = 0; l < 4; l++)
      {
        add_row (&f, 50 * s, layer_names[l], 2, level[l], 0.0);
        add_row (&f, 50 * s, layer_names[l], 8, 0.0, level[3 - l]);
      }
  d.n_history = f.n_rows;
  double w = 900, h = 760;
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (w, h, &d, &g);
  g_assert_true (g.trend_shown);
  Image im = draw (&d, w, h, 1.0);
  ClRgb color[4];
  for (int l = 0; l < 4; l++)
    {
      color[l] = cl_clusters_plot_layer_color (layer_names[l], l);
      for (int j = 0; j < l; j++)
        g_assert_cmpfloat (color_distance (color[l], color[j]), >, 0.25);
      /* the conv colours are told apart by hue, and the baseline is grey */
      if (l == 0)
        g_assert_true (isnan (cl_plot_hue (color[l])));
      else
        g_assert_false (isnan (cl_plot_hue (color[l])));
    }
  for (int l = 1; l < 4; l++) /* conv layers carry filled points at every measurement */
    for (int panel = 0; panel < 2; panel++)
      for (int s = 0; s <= 2; s++)
        {
          double x, y;
          point_at (&g, panel, 50 * s, panel == 0 ? level[l] : level[3 - l], &x, &y);
          g_assert_cmpfloat (nearest_distance (&im, x, y, color[l], 0.5), <, 0.05);
        }
  /* the baseline as a line at its level, between the points */
  for (int panel = 0; panel < 2; panel++)
    {
      int found = 0;
      for (int s = 0; s < 40; s++)
        {
          double x, y;
          point_at (&g, panel, 10 + 2.0 * s, panel == 0 ? level[0] : level[3], &x, &y);
          found += nearest_distance (&im, x, y, color[0], 0.5) < 0.1;
        }
      g_assert_cmpint (found, >, 10);
    }
  /* the same colour beside each row label, left of the first cell */
  for (int l = 0; l < 4; l++)
    {
      ClPlotRect cell = cl_clusters_plot_cell_rect (&g, l * 3);
      double y = cell.y + 0.5 * cell.h;
      int hits = 0;
      for (double x = 1; x < g.x0 - 1; x += 1.0)
        hits += color_distance (user_pixel (&im, x, y), color[l]) < 0.08;
      g_test_message ("row %d: %d swatch pixels", l, hits);
      g_assert_cmpint (hits, >=, 8);
      /* and none of another conv layer's colour there (the baseline's grey is also the
       * colour of anti-aliased text edges) */
      for (int j = 1; j < 4; j++)
        if (j != l)
          for (double x = 1; x < g.x0 - 1; x += 1.0)
            g_assert_cmpfloat (color_distance (user_pixel (&im, x, y), color[j]), >, 0.08);
    }
  image_free (&im);
  /* name-based: conv2 is conv2's colour at any index, and unknown layers still get one */
  ClRgb c2 = cl_clusters_plot_layer_color ("conv2", 0);
  g_assert_cmpfloat (color_distance (c2, color[2]), <, 1e-12);
  ClRgb other = cl_clusters_plot_layer_color ("head", 5);
  g_assert_false (isnan (cl_plot_hue (other)));
  g_assert_cmpfloat (color_distance (cl_clusters_plot_layer_color (NULL, 0), cl_clusters_plot_layer_color (NULL, 0)), <,
                     1e-12);
}

/* Empty, missing or odd histories: no chart, or a chart with a note, never a crash. */
static void
test_trend_empty_history (void)
{
  Fixture f;
  ClClustersData d = fixture (&f, 2);
  ClClustersPlotLayout none, empty;
  d.history = NULL;
  d.n_history = 0;
  cl_clusters_plot_layout (900, 600, &d, &none);
  g_assert_false (none.trend_shown);
  Image a = draw (&d, 900, 600, 1.0);
  d.history = f.rows;
  d.n_history = 0;
  cl_clusters_plot_layout (900, 600, &d, &empty);
  g_assert_false (empty.trend_shown);
  Image b = draw (&d, 900, 600, 1.0);
  /* an empty history changes nothing at all */
  g_assert_cmpfloat (empty.cell, ==, none.cell);
  g_assert_cmpfloat (empty.x0, ==, none.x0);
  for (int y = 0; y < a.height; y += 3)
    for (int x = 0; x < a.width; x += 3)
      g_assert_cmpfloat (color_distance (pixel_at (&a, x, y), pixel_at (&b, x, y)), <, 1e-9);
  image_free (&a);
  image_free (&b);
  d.n_history = -3;
  Image c = draw (&d, 900, 600, 1.0);
  image_free (&c);

  /* no grid and no history: the note; no grid with history: the chart alone */
  ClClustersData bare = { .highlight = -1 };
  ClClustersPlotLayout gb;
  cl_clusters_plot_layout (600, 400, &bare, &gb);
  g_assert_false (gb.has_grid);
  g_assert_false (gb.trend_shown);
  Image e = draw (&bare, 600, 400, 1.0);
  image_free (&e);
  add_row (&f, 0, "conv1", 2, 0.3, 0.1);
  add_row (&f, 0, "conv1", 8, 0.4, 0.2);
  bare.history = f.rows;
  bare.n_history = f.n_rows;
  cl_clusters_plot_layout (600, 400, &bare, &gb);
  g_assert_false (gb.has_grid);
  g_assert_true (gb.trend_shown);
  Image lone = draw (&bare, 600, 400, 1.0);
  /* one probe: a lone point, drawn */
  double x, y;
  point_at (&gb, 0, 0, 0.3, &x, &y);
  g_assert_true (inside_rect (&gb.trend_plot[0], x, y));
  g_assert_cmpfloat (nearest_distance (&lone, x, y, cl_clusters_plot_layer_color ("conv1", 0), 0.5), <, 0.05);
  image_free (&lone);

  /* every value NaN, a k nobody measured, an empty layer name, negative steps: drawn, with notes */
  Fixture odd;
  ClClustersData o = fixture (&odd, 2);
  add_row (&odd, 0, "pixels", 2, NAN, NAN);
  add_row (&odd, 10, "conv1", 2, NAN, INFINITY);
  add_row (&odd, -5, "", 4, 0.5, 0.5);
  o.n_history = odd.n_rows;
  o.trend_iou_k = 3;
  ClClustersPlotLayout go;
  cl_clusters_plot_layout (900, 600, &o, &go);
  g_assert_true (go.trend_shown);
  g_assert_cmpint (go.trend_k[0], ==, 3);
  g_assert_cmpint (go.trend_k[1], ==, 4);
  Image odd_im = draw (&o, 900, 600, 2.0);
  /* the panels' notes: dark text in the middle of the plots */
  for (int p = 0; p < 2; p++)
    {
      const ClPlotRect *r = &go.trend_plot[p];
      int dark = 0;
      for (double yy = r->y + 0.3 * r->h; yy < r->y + 0.7 * r->h; yy += 0.5)
        for (double xx = r->x + 2; xx < r->x + r->w - 2; xx += 0.5)
          {
            ClRgb c = user_pixel (&odd_im, xx, yy);
            dark += c.r + c.g + c.b < 2.0;
          }
      g_assert_cmpint (dark, >, 20);
    }
  image_free (&odd_im);
  /* tiny figures */
  const double sizes[][2] = { { 1, 1 }, { 30, 20 }, { 200, 120 }, { 260, 900 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      Image t = draw (&o, sizes[i][0], sizes[i][1], 1.0);
      image_free (&t);
      Image t2 = draw (&bare, sizes[i][0], sizes[i][1], 1.0);
      image_free (&t2);
    }
}

/* Beside the grid in a wide figure, below it in a tall one; never over a cell, always inside. */
static void
test_trend_placement (void)
{
  Fixture f;
  ClClustersData d = fixture (&f, 4);
  for (int s = 0; s < 5; s++)
    for (int l = 0; l < 4; l++)
      for (int k = 2; k <= 8; k *= 2)
        add_row (&f, 100 * s, layer_names[l], k, 0.1 * (l + s), -0.05 * l);
  d.n_history = f.n_rows;
  const double sizes[][2] = { { 900, 760 }, { 1100, 620 }, { 520, 900 }, { 640, 420 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      double w = sizes[i][0], h = sizes[i][1];
      ClClustersPlotLayout g;
      cl_clusters_plot_layout (w, h, &d, &g);
      g_assert_true (g.has_grid);
      g_assert_true (g.trend_shown);
      g_assert_cmpfloat (g.trend.x, >=, 0);
      g_assert_cmpfloat (g.trend.y, >=, 0);
      g_assert_cmpfloat (g.trend.x + g.trend.w, <=, w);
      g_assert_cmpfloat (g.trend.y + g.trend.h, <=, h);
      ClPlotRect last = cl_clusters_plot_cell_rect (&g, 4 * 3 - 1);
      if (w > h)
        g_assert_cmpfloat (g.trend.x, >=, last.x + last.w);
      else
        g_assert_cmpfloat (g.trend.y, >=, last.y + last.h);
      for (int p = 0; p < 2; p++)
        {
          g_assert_cmpfloat (g.trend_plot[p].w, >=, 100.0);
          g_assert_cmpfloat (g.trend_plot[p].h, >=, 50.0);
          g_assert_true (inside_rect (&g.trend, g.trend_plot[p].x, g.trend_plot[p].y));
          for (int c = 0; c < 12; c++)
            {
              ClPlotRect cell = cl_clusters_plot_cell_rect (&g, c);
              g_assert_false (rects_overlap (&cell, &g.trend_plot[p]));
            }
        }
      g_assert_false (rects_overlap (&g.trend_plot[0], &g.trend_plot[1]));
      /* ARI dipped to -0.15: its axis goes below 0, IoU's starts at 0 */
      g_assert_cmpfloat (cl_plot_scale_map (&g.trend_y[0], 0.0), >=, g.trend_plot[0].y + g.trend_plot[0].h - 1e-9);
      double y_low = cl_plot_scale_map (&g.trend_y[1], -0.15);
      g_assert_true (inside_rect (&g.trend_plot[1], g.trend_plot[1].x, y_low));
      /* the cells stay usable and hover still finds them */
      g_assert_cmpfloat (g.cell, >=, 40.0);
      for (int c = 0; c < 12; c++)
        {
          ClPlotRect cell = cl_clusters_plot_cell_rect (&g, c);
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, cell.x + 0.5 * cell.w, cell.y + 0.5 * cell.h), ==, c);
        }
      g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, g.trend_plot[0].x + 5, g.trend_plot[0].y + 5), ==, -1);
      Image im = draw (&d, w, h, 1.0);
      image_free (&im);
    }
  /* too small for both: the grid keeps its room and the chart is left out */
  ClClustersPlotLayout small;
  cl_clusters_plot_layout (420, 300, &d, &small);
  g_assert_true (small.has_grid);
  g_assert_false (small.trend_shown);
}

/* Hovering a cell draws that layer's lines bold and fades the others. */
static void
test_trend_highlight (void)
{
  Fixture f;
  ClClustersData d = fixture (&f, 3);
  for (int s = 0; s <= 4; s++)
    for (int l = 0; l < 3; l++)
      {
        add_row (&f, 100 * s, layer_names[l], 2, 0.2 + 0.25 * l, 0.0);
        add_row (&f, 100 * s, layer_names[l], 8, 0.0, 0.2 + 0.25 * l);
      }
  d.n_history = f.n_rows;
  double w = 900, h = 600;
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (w, h, &d, &g);
  Image plain = draw (&d, w, h, 1.0);
  d.highlight = 1 * 3 + 2; /* conv1, k = 8 */
  Image hl = draw (&d, w, h, 1.0);
  ClRgb conv1 = cl_clusters_plot_layer_color ("conv1", 1), conv2 = cl_clusters_plot_layer_color ("conv2", 2);
  const ClPlotRect *r = &g.trend_plot[0];
  /* conv1's line is thicker: more pixels of its colour in a vertical cut between two points */
  double x, y;
  point_at (&g, 0, 150, 0.45, &x, &y);
  double thin = 0, thick = 0;
  for (double yy = y - 6; yy <= y + 6; yy += 1.0)
    {
      thin += coverage (user_pixel (&plain, x, yy), conv1);
      thick += coverage (user_pixel (&hl, x, yy), conv1);
    }
  g_test_message ("conv1 line: %.2f px plain, %.2f px hovered", thin, thick);
  g_assert_cmpfloat (thin, >, 1.2);
  g_assert_cmpfloat (thick, >, thin + 0.6);
  /* conv2 is faded: its point is paler (closer to the background) than before */
  point_at (&g, 0, 200, 0.7, &x, &y);
  g_assert_true (inside_rect (r, x, y));
  ClRgb before = user_pixel (&plain, x, y), after = user_pixel (&hl, x, y);
  g_assert_cmpfloat (color_distance (before, conv2), <, 0.05);
  g_assert_cmpfloat (color_distance (after, cl_plot_color_background ()), <,
                     color_distance (before, cl_plot_color_background ()) - 0.2);
  image_free (&plain);
  image_free (&hl);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/clusters-trend/lines-where-data-says", test_trend_lines_where_data_says);
  g_test_add_func ("/figures/clusters-trend/colors-per-layer", test_trend_colors_per_layer);
  g_test_add_func ("/figures/clusters-trend/empty-history", test_trend_empty_history);
  g_test_add_func ("/figures/clusters-trend/placement", test_trend_placement);
  g_test_add_func ("/figures/clusters-trend/highlight", test_trend_highlight);
  return g_test_run ();
}
