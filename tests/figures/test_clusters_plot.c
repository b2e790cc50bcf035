/* The local-features cluster grid (ui/plots/cl_clusters_plot.h), checked on the pixels it
 * draws and through its hit test. */
#include "ui/plots/cl_clusters_plot.h"

#include <math.h>
#include <string.h>

#include "tests/figures/pixel_dark.h"

/* Distance between two hue angles on the circle, degrees. */
static double
hue_distance (double a, double b)
{
  double d = fabs (fmod (a - b, 360.0));
  return d > 180.0 ? 360.0 - d : d;
}

/* The diverging map's ends and middle (ColorBrewer RdBu), written out here rather than taken
 * from the code under test. */
#define RDBU_RED 0xB2182B
#define RDBU_BLUE 0x2166AC
#define RDBU_MID 0xF7F7F7
/* Okabe-Ito blue and vermillion: hue angles of #0072B2 and #D55E00. */
#define HUE_BLUE 201.6
#define HUE_VERMILLION 26.5
#define HUE_GREEN 163.7
#define HUE_PURPLE 326.7

/* -------------------------------------------------------------- clusters */

#define IMG 32

typedef struct
{
  float image[IMG * IMG];
  int ks[3];
  int grid_h[2], grid_w[2];
  int maps[6][64];
  const int *labels[6];
  int parents[6][8];
  const int *parent[6];
  double iou[6], ari[6];
  const char *names[2];
} Synthetic;

/* Grey image (uniform 0.5, or bright top half) and label maps on an 8x8 grid. */
static ClClustersData
synthetic (Synthetic *s, int n_rows, int n_cols, const int *ks)
{
  memset (s, 0, sizeof *s);
  for (int i = 0; i < IMG * IMG; i++)
    s->image[i] = 0.5f;
  for (int c = 0; c < n_cols; c++)
    s->ks[c] = ks[c];
  s->names[0] = "pixels";
  s->names[1] = "conv1";
  for (int r = 0; r < n_rows; r++)
    {
      s->grid_h[r] = 8;
      s->grid_w[r] = 8;
    }
  for (int i = 0; i < n_rows * n_cols; i++)
    {
      s->labels[i] = s->maps[i];
      s->iou[i] = 0.1 * (i + 1);
      s->ari[i] = 0.05 * (i + 1);
    }
  return (ClClustersData){
    .n_rows = n_rows,
    .row_names = s->names,
    .n_cols = n_cols,
    .ks = s->ks,
    .img_h = IMG,
    .img_w = IMG,
    .img_c = 1,
    .image = s->image,
    .grid_h = s->grid_h,
    .grid_w = s->grid_w,
    .labels = s->labels,
    .parent = NULL,
    .object_iou = s->iou,
    .instance_ari = s->ari,
    .highlight = -1,
    .title = "Local features",
  };
}

static Image
draw_clusters (const ClClustersData *d, double w, double h, double scale)
{
  Image im;
  IMAGE_DRAW (im, w, h, scale, cl_clusters_plot_draw (cr, w, h, d));
  return im;
}

/* Pixel at a relative place (fx, fy in [0, 1]) of the image in cell index. */
static ClRgb
cell_pixel (const Image *im, const ClClustersPlotLayout *g, int index, double fx, double fy)
{
  ClPlotRect cell = cl_clusters_plot_cell_rect (g, index);
  double ox = g->image.x - g->x0, oy = g->image.y - g->y0;
  return user_pixel (im, cell.x + ox + fx * g->image.w, cell.y + oy + fy * g->image.h);
}

static void
test_clusters_two_halves (void)
{
  Synthetic s;
  int ks[1] = { 2 };
  ClClustersData d = synthetic (&s, 1, 1, ks);
  for (int i = 0; i < 64; i++)
    s.maps[0][i] = (i % 8) >= 4; /* left half cluster 0, right half cluster 1 */
  /* a bright top half in the image: it must show through the colours */
  for (int i = 0; i < IMG * IMG / 2; i++)
    s.image[i] = 1.0f;
  double w = 360, h = 360;
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (w, h, &d, &g);
  g_assert_true (g.has_grid);
  g_assert_cmpfloat (g.cell, >=, 150.0);
  g_assert_cmpfloat_with_epsilon (g.image.w, g.cell, 1e-9); /* square image fills the cell */
  Image im = draw_clusters (&d, w, h, 1.0);
  for (int half = 0; half < 2; half++)
    for (int vy = 0; vy < 2; vy++)
      {
        double fx = half == 0 ? 0.22 : 0.78, fy = vy == 0 ? 0.25 : 0.75;
        ClRgb c = cell_pixel (&im, &g, 0, fx, fy);
        double hue = cl_plot_hue (c);
        g_test_message ("half %d, %s: (%.3f %.3f %.3f) hue %.1f", half, vy ? "dark" : "bright", c.r, c.g, c.b, hue);
        g_assert_cmpfloat (hue_distance (hue, half == 0 ? HUE_BLUE : HUE_VERMILLION), <, 6.0);
        /* coloured, not a faint tint */
        g_assert_cmpfloat (MAX (c.r, MAX (c.g, c.b)) - MIN (c.r, MIN (c.g, c.b)), >, 0.25);
      }
  for (int half = 0; half < 2; half++)
    {
      double fx = half == 0 ? 0.22 : 0.78;
      g_assert_cmpfloat (luminance (cell_pixel (&im, &g, 0, fx, 0.25)), >,
                         luminance (cell_pixel (&im, &g, 0, fx, 0.75)) + 0.08);
    }
  g_assert_cmpfloat (color_distance (cell_pixel (&im, &g, 0, 0.22, 0.75), cell_pixel (&im, &g, 0, 0.78, 0.75)), >, 0.3);
  /* the border between the colours sits in the middle of the image */
  ClRgb left = cell_pixel (&im, &g, 0, 0.22, 0.75), right = cell_pixel (&im, &g, 0, 0.78, 0.75);
  for (int k = -3; k <= 3; k++)
    {
      if (k == 0)
        continue;
      double fx = 0.5 + k * 0.02;
      ClRgb c = cell_pixel (&im, &g, 0, fx, 0.75);
      ClRgb expect = k < 0 ? left : right;
      g_assert_cmpfloat (color_distance (c, expect), <, 0.02);
    }
  /* the header and the row label */
  g_assert_cmpint (count_dark (&im, g.x0, g.y0 - 20, g.x0 + g.cell, g.y0 - 2, 0.5), >, 10);
  g_assert_cmpint (count_dark (&im, 0, g.y0 + 0.4 * g.cell, g.x0 - 2, g.y0 + 0.6 * g.cell, 0.5), >, 10);
  /* out-of-range labels are left uncoloured */
  s.maps[0][0] = 5;
  s.maps[0][7] = -1;
  image_free (&im);
  im = draw_clusters (&d, w, h, 1.0);
  ClRgb corner = cell_pixel (&im, &g, 0, 0.04, 0.04), other = cell_pixel (&im, &g, 0, 0.96, 0.04);
  g_assert_cmpfloat (MAX (corner.r, MAX (corner.g, corner.b)) - MIN (corner.r, MIN (corner.g, corner.b)), <, 0.02);
  g_assert_cmpfloat (MAX (other.r, MAX (other.g, other.b)) - MIN (other.r, MIN (other.g, other.b)), <, 0.02);
  image_free (&im);
}

/* K-means ids are arbitrary: a lower row with the ids swapped (and a coarser grid) still
 * colours the same regions with the same hues. */
static void
test_clusters_rows_match (void)
{
  Synthetic s;
  int ks[1] = { 3 };
  ClClustersData d = synthetic (&s, 2, 1, ks);
  s.grid_h[1] = s.grid_w[1] = 4;
  for (int i = 0; i < 64; i++)
    {
      int x = i % 8, y = i / 8;
      s.maps[0][i] = x < 4 ? 0 : y < 4 ? 1 : 2;
    }
  for (int i = 0; i < 16; i++)
    {
      int x = i % 4, y = i / 4;
      s.maps[1][i] = x < 2 ? 2 : y < 2 ? 0 : 1; /* same regions, ids rotated */
    }
  double w = 400, h = 600;
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (w, h, &d, &g);
  Image im = draw_clusters (&d, w, h, 1.0);
  const double expect[3] = { HUE_BLUE, HUE_VERMILLION, HUE_GREEN };
  const double place[3][2] = { { 0.25, 0.5 }, { 0.75, 0.25 }, { 0.75, 0.75 } };
  for (int row = 0; row < 2; row++)
    for (int r = 0; r < 3; r++)
      {
        double hue = cl_plot_hue (cell_pixel (&im, &g, row, place[r][0], place[r][1]));
        g_assert_cmpfloat (hue_distance (hue, expect[r]), <, 6.0);
      }
  image_free (&im);
}

/* Children are shades of their parent: hue measured on the drawn pixels. */
static void
test_clusters_shades (void)
{
  for (int explicit_parents = 0; explicit_parents < 2; explicit_parents++)
    {
      Synthetic s;
      int ks[3] = { 4, 8, 16 };
      ClClustersData d = synthetic (&s, 1, 3, ks);
      /* k=4: columns of width 2 (clusters 0..3); k=8: each split top/bottom; k=16: each of those
       * split left/right within the column */
      for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
          {
            int a = x / 2, b = 2 * a + (y >= 4), c = 2 * b + (x % 2);
            s.maps[0][y * 8 + x] = a;
            s.maps[1][y * 8 + x] = b;
            s.maps[2][y * 8 + x] = c;
          }
      for (int j = 0; j < 8; j++)
        s.parents[1][j] = j / 2;
      int parents16[16];
      for (int j = 0; j < 16; j++)
        parents16[j] = j / 2;
      const int *parent[3] = { NULL, s.parents[1], parents16 };
      if (explicit_parents)
        d.parent = parent;
      double w = 700, h = 330;
      ClClustersPlotLayout g;
      cl_clusters_plot_layout (w, h, &d, &g);
      Image im = draw_clusters (&d, w, h, 1.0);
      const double base_hue[4] = { HUE_BLUE, HUE_VERMILLION, HUE_GREEN, HUE_PURPLE };
      double parent_hue[4];
      for (int a = 0; a < 4; a++)
        {
          parent_hue[a] = cl_plot_hue (cell_pixel (&im, &g, 0, (2 * a + 1) / 8.0, 0.5));
          g_assert_cmpfloat (hue_distance (parent_hue[a], base_hue[a]), <, 6.0);
        }
      for (int col = 1; col < 3; col++)
        {
          ClRgb seen[16];
          int n_seen = 0;
          for (int x = 0; x < 8; x++)
            for (int half = 0; half < 2; half++)
              {
                if (col == 1 && x % 2 == 1)
                  continue; /* k=8 clusters span two columns */
                double fx = (x + 0.5) / 8.0, fy = half == 0 ? 0.25 : 0.75;
                ClRgb c = cell_pixel (&im, &g, col, fx, fy);
                double hue = cl_plot_hue (c);
                int a = x / 2;
                for (int other = 0; other < 4; other++)
                  if (other != a)
                    g_assert_cmpfloat (hue_distance (hue, parent_hue[a]), <, hue_distance (hue, parent_hue[other]));
                g_assert_cmpfloat (hue_distance (hue, parent_hue[a]), <, 8.0);
                seen[n_seen++] = c;
              }
          /* siblings and cousins are told apart */
          for (int i = 0; i < n_seen; i++)
            for (int j = i + 1; j < n_seen; j++)
              g_assert_cmpfloat (color_distance (seen[i], seen[j]), >, 0.03);
        }
      /* the reported colours agree with what was drawn, and with the inference */
      ClRgb child = cl_clusters_plot_cluster_color (&d, 0, 2, 10); /* 10 -> 5 -> 2: green */
      g_assert_cmpfloat (hue_distance (cl_plot_hue (child), HUE_GREEN), <, 3.0);
      ClRgb bad = cl_clusters_plot_cluster_color (&d, 0, 2, 16);
      g_assert_cmpfloat (fabs (bad.r - bad.b), <, 1e-9);
      image_free (&im);
    }
}

static void
test_clusters_hit (void)
{
  Synthetic s;
  int ks[3] = { 2, 4, 8 };
  ClClustersData d = synthetic (&s, 2, 3, ks);
  const double sizes[2][2] = { { 640, 480 }, { 300, 380 } };
  for (int z = 0; z < 2; z++)
    {
      double w = sizes[z][0], h = sizes[z][1];
      d.highlight = -1;
      ClClustersPlotLayout g;
      cl_clusters_plot_layout (w, h, &d, &g);
      g_assert_true (g.has_grid);
      g_assert_false (g.card_shown);
      for (int i = 0; i < 6; i++)
        {
          ClPlotRect r = cl_clusters_plot_cell_rect (&g, i);
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, r.x + 0.5 * r.w, r.y + 0.5 * r.h), ==, i);
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, r.x + 0.5, r.y + 0.5), ==, i);
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, r.x + r.w - 0.5, r.y + r.h - 0.5), ==, i);
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, r.x - 1.0, r.y + 0.5 * r.h), ==, -1); /* gap / labels */
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, r.x + 0.5 * r.w, r.y + r.h + 1.0), ==, -1); /* metrics */
          /* cells are square, inside the figure, and do not overlap */
          g_assert_cmpfloat (r.w, ==, r.h);
          g_assert_cmpfloat (r.x, >=, 0);
          g_assert_cmpfloat (r.x + r.w, <=, w);
          g_assert_cmpfloat (r.y + r.h, <=, h);
        }
      g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, 1, 1), ==, -1);

      /* with the enlarged view: on it -> the highlighted cell, elsewhere the cell below */
      d.highlight = 4;
      cl_clusters_plot_layout (w, h, &d, &g);
      g_assert_true (g.card_shown);
      g_assert_cmpfloat (g.card_image.w, >=, 1.2 * g.cell - 1e-9);
      g_assert_cmpfloat (g.card.x, >=, 0);
      g_assert_cmpfloat (g.card.x + g.card.w, <=, w);
      g_assert_cmpfloat (g.card.y + g.card.h, <=, h);
      g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, g.card.x + 2, g.card.y + 2), ==, 4);
      g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, g.card.x + g.card.w - 2, g.card.y + g.card.h - 2), ==, 4);
      for (int i = 0; i < 6; i++)
        {
          ClPlotRect r = cl_clusters_plot_cell_rect (&g, i);
          double x = r.x + 0.5 * r.w, y = r.y + 0.5 * r.h;
          gboolean covered = x >= g.card.x && x < g.card.x + g.card.w && y >= g.card.y && y < g.card.y + g.card.h;
          g_assert_cmpint (cl_clusters_plot_hit (w, h, &d, x, y), ==, covered ? 4 : i);
        }
    }
}

static void
test_clusters_highlight (void)
{
  Synthetic s;
  int ks[3] = { 2, 4, 8 };
  ClClustersData d = synthetic (&s, 2, 3, ks);
  for (int i = 0; i < 6; i++)
    for (int p = 0; p < 64; p++)
      {
        int x = p % 8, y = p / 8;
        s.maps[i][p] = i % 3 == 0   ? x >= 4
                       : i % 3 == 1 ? 2 * (x >= 4) + (y >= 4)
                                    : 4 * (x >= 4) + 2 * (y >= 4) + (x % 4 >= 2);
      }
  double w = 640, h = 620;
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (w, h, &d, &g);
  Image plain = draw_clusters (&d, w, h, 1.0);
  d.highlight = 2; /* top right: the view is pushed inside the figure */
  ClClustersPlotLayout gh;
  cl_clusters_plot_layout (w, h, &d, &gh);
  g_assert_true (gh.card_shown);
  g_assert_cmpfloat_with_epsilon (gh.card_image.w, 2.5 * g.cell, 1.0);
  Image marked = draw_clusters (&d, w, h, 1.0);
  /* the enlarged picture shows cell 2's clusters at the same relative places */
  for (int qy = 0; qy < 4; qy++)
    for (int qx = 0; qx < 4; qx++)
      {
        double fx = (qx + 0.5) / 4.0, fy = (qy + 0.5) / 4.0;
        ClRgb small = cell_pixel (&plain, &g, 2, fx, fy);
        ClRgb big =
            user_pixel (&marked, gh.card_image.x + fx * gh.card_image.w, gh.card_image.y + fy * gh.card_image.h);
        g_assert_cmpfloat (color_distance (small, big), <, 0.02);
      }
  /* its title and metrics: dark text above and below the picture */
  g_assert_cmpint (count_dark (&marked, gh.card.x, gh.card.y, gh.card.x + gh.card.w, gh.card_image.y - 1, 0.5), >, 20);
  g_assert_cmpint (count_dark (&marked, gh.card.x, gh.card_image.y + gh.card_image.h + 1, gh.card.x + gh.card.w,
                               gh.card.y + gh.card.h, 0.5),
                   >, 20);
  /* a soft shadow below the view: darker than the page, far from black */
  double sx = gh.card.x + gh.card.w + 3.5, sy = gh.card.y + 0.5 * gh.card.h;
  g_assert_cmpfloat (sx, <, w);
  ClRgb shade = user_pixel (&marked, sx, sy);
  ClRgb page = user_pixel (&plain, sx, sy);
  g_test_message ("shadow %.3f over page %.3f", luminance (shade), luminance (page));
  g_assert_cmpfloat (luminance (shade), <, luminance (page) - 0.02);
  g_assert_cmpfloat (luminance (shade), >, 0.6 * luminance (page));
  /* cells the view does not cover are unchanged */
  ClPlotRect far = cl_clusters_plot_cell_rect (&g, 3);
  g_assert_cmpfloat (far.x + 5, <, gh.card.x - 8);
  g_assert_cmpfloat (color_distance (user_pixel (&plain, far.x + 5, far.y + far.h - 5),
                                     user_pixel (&marked, far.x + 5, far.y + far.h - 5)),
                     <, 1e-9);
  image_free (&plain);
  image_free (&marked);
  /* out-of-range highlights are ignored */
  d.highlight = 6;
  cl_clusters_plot_layout (w, h, &d, &gh);
  g_assert_false (gh.card_shown);
  d.highlight = -7;
  Image none = draw_clusters (&d, w, h, 1.0);
  image_free (&none);
}

static void
test_clusters_scale_2x (void)
{
  Synthetic s;
  int ks[3] = { 2, 4, 8 };
  ClClustersData d = synthetic (&s, 2, 3, ks);
  for (int i = 0; i < 6; i++)
    for (int p = 0; p < 64; p++)
      s.maps[i][p] = (p * 7 + i) % ks[i % 3];
  double w = 600, h = 480;
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (w, h, &d, &g);
  Image one = draw_clusters (&d, w, h, 1.0);
  Image two = draw_clusters (&d, w, h, 2.0);
  for (int i = 0; i < 6; i++)
    for (int q = 0; q < 8; q++)
      for (int r = 0; r < 8; r++)
        {
          double fx = (q + 0.5) / 8.0, fy = (r + 0.5) / 8.0;
          g_assert_cmpfloat (color_distance (cell_pixel (&one, &g, i, fx, fy), cell_pixel (&two, &g, i, fx, fy)), <,
                             0.02);
        }
  ClRgb blue_blend = cell_pixel (&one, &g, 0, 0.5 / 8.0, 0.5 / 8.0); /* label 0 at k=2 */
  long n1 = count_near (&one, blue_blend, 0.01), n2 = count_near (&two, blue_blend, 0.01);
  double ratio = (double) n2 / n1;
  g_test_message ("cluster-0 pixels: %ld at 1x, %ld at 2x, ratio %.3f", n1, n2, ratio);
  g_assert_cmpfloat (ratio, >, 3.8);
  g_assert_cmpfloat (ratio, <, 4.2);
  image_free (&one);
  image_free (&two);
}

static void
test_clusters_empty (void)
{
  Synthetic s;
  int ks[3] = { 2, 4, 8 };
  ClClustersData none_rows = synthetic (&s, 0, 3, ks);
  ClClustersData no_ks = synthetic (&s, 1, 3, ks);
  no_ks.ks = NULL;
  const ClClustersData *empty_cases[] = { NULL, &none_rows, &no_ks };
  for (guint i = 0; i < G_N_ELEMENTS (empty_cases); i++)
    {
      Image im = draw_clusters (empty_cases[i], 400, 300, 1.0);
      g_assert_cmpint (count_dark (&im, 0, 110, 400, 190, 0.8), >, 30);
      g_assert_cmpint (cl_clusters_plot_hit (400, 300, empty_cases[i], 200, 150), ==, -1);
      image_free (&im);
    }
  /* partial data: no image, no label maps, no grid sizes, bad k, no metrics, no names */
  ClClustersData d = synthetic (&s, 2, 3, ks);
  d.image = NULL;
  Image a = draw_clusters (&d, 500, 400, 1.0);
  image_free (&a);
  d.labels = NULL;
  d.object_iou = NULL;
  d.row_names = NULL;
  Image b = draw_clusters (&d, 500, 400, 1.0);
  /* "layer 0" is written in place of the name */
  ClClustersPlotLayout g;
  cl_clusters_plot_layout (500, 400, &d, &g);
  g_assert_cmpint (count_dark (&b, 0, g.y0, g.x0 - 2, g.y0 + g.cell, 0.5), >, 10);
  image_free (&b);
  d.labels = s.labels;
  d.grid_h = NULL;
  s.ks[1] = 0;
  s.ks[2] = 100000;
  d.instance_ari = NULL;
  d.highlight = 1;
  Image c = draw_clusters (&d, 500, 400, 1.0);
  image_free (&c);
  /* too small, and degenerate sizes */
  Image tiny = draw_clusters (&d, 50, 40, 1.0);
  image_free (&tiny);
  g_assert_cmpint (cl_clusters_plot_hit (50, 40, &d, 25, 20), ==, -1);
  cairo_t *cr;
  Image zero = image_new (10, 10, 1.0, &cr);
  cl_clusters_plot_draw (cr, 0, 10, &d);
  cl_clusters_plot_draw (cr, INFINITY, 10, &d);
  image_finish (&zero, cr);
  image_free (&zero);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/clusters/two-halves", test_clusters_two_halves);
  g_test_add_func ("/figures/clusters/rows-match", test_clusters_rows_match);
  g_test_add_func ("/figures/clusters/shades", test_clusters_shades);
  g_test_add_func ("/figures/clusters/hit", test_clusters_hit);
  g_test_add_func ("/figures/clusters/highlight", test_clusters_highlight);
  g_test_add_func ("/figures/clusters/scale-2x", test_clusters_scale_2x);
  g_test_add_func ("/figures/clusters/empty", test_clusters_empty);
  return g_test_run ();
}
