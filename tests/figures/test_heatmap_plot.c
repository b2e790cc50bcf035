/* The batch-similarity heatmap (ui/plots/cl_heatmap_plot.h), checked on the pixels it draws
 * and through its hit test. */
#include "ui/plots/cl_heatmap_plot.h"

#include <math.h>
#include <string.h>

#include "tests/figures/pixel_dark.h"

static ClRgb
hex (guint32 rgb)
{
  return (ClRgb){ ((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0, (rgb & 0xFF) / 255.0 };
}

static const ClRgb white = { 1, 1, 1 };
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

/* --------------------------------------------------------------- heatmap */

/* Symmetric matrix of a realistic batch: positives ~0.8, same class ~0.3, others ~0. */
static float *
realistic_sim (int m, const int *cls, guint32 seed)
{
  int n = 2 * m;
  float *sim = g_new (float, (size_t) n *n);
  GRand *rand = g_rand_new_with_seed (seed);
  for (int a = 0; a < n; a++)
    for (int b = a; b < n; b++)
      {
        double v, noise = g_rand_double_range (rand, -0.1, 0.1);
        if (a == b)
          v = 1.0;
        else if (a % m == b % m)
          v = 0.8 + noise;
        else if (cls[a % m] == cls[b % m])
          v = 0.3 + noise;
        else
          v = noise;
        sim[a * n + b] = sim[b * n + a] = (float) v;
      }
  g_rand_free (rand);
  return sim;
}

static ClHeatmapData
heatmap_data (int m, const float *sim)
{
  ClHeatmapData d = { 0 };
  d.m = m;
  d.sim = sim;
  d.highlight_row = d.highlight_col = -1;
  d.title = "Batch similarity";
  return d;
}

static Image
draw_heatmap (const ClHeatmapData *d, double w, double h, double scale)
{
  Image im;
  IMAGE_DRAW (im, w, h, scale, cl_heatmap_plot_draw (cr, w, h, d));
  return im;
}

static void
cell_centre (const ClHeatmapPlotLayout *g, int p, int q, double *x, double *y)
{
  *x = g->matrix.x + (q + 0.5) * g->cell;
  *y = g->matrix.y + (p + 0.5) * g->cell;
}

static void
test_heatmap_colors (void)
{
  /* m = 4: +1, -1 and 0 at known cells, everything else 0.5 */
  int m = 4, n = 8;
  float sim[64];
  for (int i = 0; i < 64; i++)
    sim[i] = 0.5f;
  sim[1 * n + 6] = 1.0f;
  sim[2 * n + 5] = -1.0f;
  sim[7 * n + 0] = 0.0f;
  sim[3 * n + 3] = 7.0f;  /* out of range: clamped to +1 */
  sim[4 * n + 2] = -3.0f; /* clamped to -1 */
  sim[0 * n + 7] = NAN;   /* grey, not a crash */
  ClHeatmapData d = heatmap_data (m, sim);
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (500, 420, &d, &g);
  g_assert_true (g.has_matrix);
  g_assert_cmpint (g.n, ==, n);
  g_assert_cmpfloat (g.cell, >=, 20.0);
  g_assert_cmpfloat (g.cell, ==, floor (g.cell)); /* whole units: crisp at 1x and 2x */
  g_assert_cmpfloat_with_epsilon (g.matrix.w, n * g.cell, 1e-9);
  g_assert_cmpfloat_with_epsilon (g.matrix.h, g.matrix.w, 1e-9);
  g_assert_cmpfloat (g.matrix.x, >=, 0.0);
  g_assert_cmpfloat (g.colorbar.x + g.colorbar.w, <=, 500.0);

  Image im = draw_heatmap (&d, 500, 420, 1.0);
  struct
  {
    int r, c;
    guint32 expect;
  } cases[] = {
    { 1, 6, RDBU_RED }, { 2, 5, RDBU_BLUE }, { 7, 0, RDBU_MID }, { 3, 3, RDBU_RED }, { 4, 2, RDBU_BLUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      double x, y;
      cell_centre (&g, cases[i].r, cases[i].c, &x, &y);
      int row = -1, col = -1;
      g_assert_true (cl_heatmap_plot_hit (500, 420, &d, x, y, &row, &col));
      g_assert_cmpint (row, ==, cases[i].r);
      g_assert_cmpint (col, ==, cases[i].c);
      /* the whole cell is flat: its centre and a point near its corner */
      for (int k = 0; k < 2; k++)
        {
          double px = k == 0 ? x : x - 0.4 * g.cell, py = k == 0 ? y : y - 0.4 * g.cell;
          ClRgb p = user_pixel (&im, px, py);
          g_assert_cmpfloat (color_distance (p, hex (cases[i].expect)), <, 0.02);
        }
    }
  /* +1 is red, -1 blue, 0 white in plain terms too */
  double x, y;
  cell_centre (&g, 1, 6, &x, &y);
  ClRgb red = user_pixel (&im, x, y);
  g_assert_cmpfloat (red.r, >, 0.6);
  g_assert_cmpfloat (red.b, <, 0.3);
  cell_centre (&g, 2, 5, &x, &y);
  ClRgb blue = user_pixel (&im, x, y);
  g_assert_cmpfloat (blue.b, >, 0.6);
  g_assert_cmpfloat (blue.r, <, 0.3);
  cell_centre (&g, 7, 0, &x, &y);
  g_assert_cmpfloat (color_distance (user_pixel (&im, x, y), white), <, 0.06);
  cell_centre (&g, 0, 7, &x, &y);
  ClRgb nan_cell = user_pixel (&im, x, y);
  g_assert_cmpfloat (fabs (nan_cell.r - nan_cell.b), <, 0.02); /* grey */
  g_assert_cmpfloat (nan_cell.r, <, 0.7);
  image_free (&im);
}

/* Every cell's centre hits that cell, and the pixel there has that cell's colour, at two
 * sizes, in stored order and under a permutation. */
static void
test_heatmap_hit_roundtrip (void)
{
  int m = 32, n = 64;
  int cls[32];
  for (int i = 0; i < m; i++)
    cls[i] = (i * 7) % 5;
  float *sim = realistic_sim (m, cls, 11);
  int order[64];
  for (int i = 0; i < m; i++)
    {
      order[2 * i] = i;
      order[2 * i + 1] = i + m;
    }
  const double sizes[2][2] = { { 640, 560 }, { 333, 301 } };
  for (int ordered = 0; ordered < 2; ordered++)
    for (int s = 0; s < 2; s++)
      {
        ClHeatmapData d = heatmap_data (m, sim);
        if (ordered)
          {
            d.order = order;
            d.order_name = "by view pair";
          }
        double w = sizes[s][0], h = sizes[s][1];
        ClHeatmapPlotLayout g;
        cl_heatmap_plot_layout (w, h, &d, &g);
        g_assert_true (g.has_matrix);
        g_test_message ("%s %gx%g: cell %g at (%g, %g)", ordered ? "by pair" : "stored", w, h, g.cell, g.matrix.x,
                        g.matrix.y);
        Image im = draw_heatmap (&d, w, h, 1.0);
        long wrong_colour = 0;
        for (int p = 0; p < n; p++)
          for (int q = 0; q < n; q++)
            {
              double x, y;
              cell_centre (&g, p, q, &x, &y);
              int row = -1, col = -1;
              g_assert_true (cl_heatmap_plot_hit (w, h, &d, x, y, &row, &col));
              int er = ordered ? order[p] : p, ec = ordered ? order[q] : q;
              if (row != er || col != ec)
                g_error ("hit at display (%d, %d) gave (%d, %d), expected (%d, %d)", p, q, row, col, er, ec);
              /* just inside the cell's top-left corner still hits it */
              g_assert_true (cl_heatmap_plot_hit (w, h, &d, x - 0.45 * g.cell, y - 0.45 * g.cell, &row, &col));
              g_assert_cmpint (row, ==, er);
              g_assert_cmpint (col, ==, ec);
              ClRgb expect = cl_plot_colormap_diverging (0.5 * (sim[er * n + ec] + 1.0));
              if (color_distance (user_pixel (&im, x, y), expect) > 0.02)
                wrong_colour++;
            }
        g_assert_cmpint (wrong_colour, ==, 0);
        /* outside the matrix */
        int row = 7, col = 7;
        g_assert_false (cl_heatmap_plot_hit (w, h, &d, g.matrix.x - 1.0, g.matrix.y + 5.0, &row, &col));
        g_assert_false (cl_heatmap_plot_hit (w, h, &d, g.matrix.x + 5.0, g.matrix.y + g.matrix.h + 0.5, &row, &col));
        g_assert_false (cl_heatmap_plot_hit (w, h, &d, g.colorbar.x + 2.0, g.colorbar.y + 2.0, NULL, NULL));
        g_assert_false (cl_heatmap_plot_hit (w, h, &d, -5.0, -5.0, NULL, NULL));
        image_free (&im);
      }
  g_free (sim);
}

/* The positive pairs are red lines at (i, i+m) in stored order, and 2x2 blocks by view pair. */
static void
test_heatmap_positive_pairs (void)
{
  int m = 16, n = 32;
  int cls[16];
  for (int i = 0; i < m; i++)
    cls[i] = i % 8;
  float *sim = realistic_sim (m, cls, 5);
  ClHeatmapData d = heatmap_data (m, sim);
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (600, 540, &d, &g);
  Image im = draw_heatmap (&d, 600, 540, 1.0);
  int reddish_pos = 0, reddish_other = 0, others = 0;
  for (int p = 0; p < n; p++)
    for (int q = 0; q < n; q++)
      {
        double x, y;
        cell_centre (&g, p, q, &x, &y);
        ClRgb c = user_pixel (&im, x, y);
        /* positives (>= 0.7) give r - b >= 0.5, same-class pairs (<= 0.4) at most 0.36 */
        gboolean reddish = c.r - c.b > 0.45;
        if (p != q && p % m == q % m)
          reddish_pos += reddish;
        else if (p != q)
          {
            reddish_other += reddish;
            others++;
          }
      }
  g_assert_cmpint (reddish_pos, ==, 2 * m);
  g_assert_cmpint (reddish_other, ==, 0);
  image_free (&im);

  int order[32];
  for (int i = 0; i < m; i++)
    {
      order[2 * i] = i + m; /* view 2 first: the block must still be the pair */
      order[2 * i + 1] = i;
    }
  d.order = order;
  d.order_name = "by view pair";
  cl_heatmap_plot_layout (600, 540, &d, &g);
  im = draw_heatmap (&d, 600, 540, 1.0);
  for (int i = 0; i < m; i++)
    {
      double x, y;
      cell_centre (&g, 2 * i, 2 * i + 1, &x, &y);
      ClRgb c = user_pixel (&im, x, y);
      g_assert_cmpfloat (c.r - c.b, >, 0.45);
      if (i + 1 < m)
        {
          cell_centre (&g, 2 * i + 1, 2 * i + 2, &x, &y);
          c = user_pixel (&im, x, y);
          g_assert_cmpfloat (c.r - c.b, <, 0.45);
        }
    }
  image_free (&im);
  g_free (sim);
}

static void
test_heatmap_colorbar (void)
{
  int m = 8;
  int cls[8] = { 0, 1, 2, 3, 0, 1, 2, 3 };
  float *sim = realistic_sim (m, cls, 3);
  ClHeatmapData d = heatmap_data (m, sim);
  double w = 560, h = 480;
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (w, h, &d, &g);
  g_assert_cmpfloat (g.colorbar.x, >, g.matrix.x + g.matrix.w);
  g_assert_cmpfloat (g.colorbar.h, >, 0.5 * g.matrix.h);
  Image im = draw_heatmap (&d, w, h, 1.0);
  double cx = g.colorbar.x + 0.5 * g.colorbar.w;
  ClRgb top = user_pixel (&im, cx, g.colorbar.y + 1.5);
  ClRgb mid = user_pixel (&im, cx, g.colorbar.y + 0.5 * g.colorbar.h);
  ClRgb bottom = user_pixel (&im, cx, g.colorbar.y + g.colorbar.h - 1.5);
  g_assert_cmpfloat (color_distance (top, hex (RDBU_RED)), <, 0.05);
  g_assert_cmpfloat (color_distance (bottom, hex (RDBU_BLUE)), <, 0.05);
  g_assert_cmpfloat (color_distance (mid, hex (RDBU_MID)), <, 0.05);
  /* red falls and blue rises monotonically down the bar */
  double last_r = 2.0, last_b = -1.0;
  for (int i = 1; i < 40; i++)
    {
      ClRgb c = user_pixel (&im, cx, g.colorbar.y + g.colorbar.h * i / 40.0);
      double score_r = c.r - c.b;
      g_assert_cmpfloat (score_r, <=, last_r + 0.01);
      g_assert_cmpfloat (c.b - c.r, >=, last_b - 0.01);
      last_r = score_r;
      last_b = c.b - c.r;
    }
  /* tick labels at the five ticks and the rotated title: dark pixels right of the bar */
  double label_x0 = g.colorbar.x + g.colorbar.w + 6.0; /* past the tick marks */
  for (int t = 0; t < 5; t++)
    {
      double ty = g.colorbar.y + g.colorbar.h * t / 4.0;
      g_assert_cmpint (count_dark (&im, label_x0, ty - 6.0, label_x0 + 30.0, ty + 6.0, 0.5), >, 5);
    }
  g_assert_cmpint (
      count_dark (&im, label_x0 + 25.0, g.colorbar.y + 0.3 * g.colorbar.h, w, g.colorbar.y + 0.7 * g.colorbar.h, 0.5),
      >, 40);
  image_free (&im);
  g_free (sim);
}

static void
test_heatmap_highlight (void)
{
  int m = 8, n = 16;
  float *sim = g_new0 (float, n *n); /* all 0: white cells, so marks show plainly */
  ClHeatmapData d = heatmap_data (m, sim);
  double w = 520, h = 460;
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (w, h, &d, &g);
  Image plain = draw_heatmap (&d, w, h, 1.0);
  d.highlight_row = 3;
  d.highlight_col = 11;
  Image marked = draw_heatmap (&d, w, h, 1.0);
  double x, y;
  cell_centre (&g, 3, 11, &x, &y);
  double half = 0.5 * g.cell;
  /* the outline: dark along all four edges of the cell, none there without the highlight */
  double edge[4][2] = { { x, y - half }, { x, y + half }, { x - half, y }, { x + half, y } };
  for (int e = 0; e < 4; e++)
    {
      g_assert_cmpint (count_dark (&marked, edge[e][0] - 2, edge[e][1] - 2, edge[e][0] + 2, edge[e][1] + 2, 0.4), >, 2);
      g_assert_cmpint (count_dark (&plain, edge[e][0] - 2, edge[e][1] - 2, edge[e][0] + 2, edge[e][1] + 2, 0.4), ==, 0);
    }
  /* crosshair: the row line far left of the cell and the column line far below it */
  double lx = g.matrix.x + 0.5 * g.cell;
  double ly = g.matrix.y + g.matrix.h - 0.5 * g.cell;
  g_assert_cmpint (count_dark (&marked, lx - 3, y - 1.5, lx + 3, y + 1.5, 0.85), >, 0);
  g_assert_cmpint (count_dark (&plain, lx - 3, y - 1.5, lx + 3, y + 1.5, 0.85), ==, 0);
  g_assert_cmpint (count_dark (&marked, x - 1.5, ly - 3, x + 1.5, ly + 3, 0.85), >, 0);
  g_assert_cmpint (count_dark (&plain, x - 1.5, ly - 3, x + 1.5, ly + 3, 0.85), ==, 0);
  /* a cell elsewhere is untouched */
  cell_centre (&g, 12, 4, &x, &y);
  g_assert_cmpfloat (color_distance (user_pixel (&marked, x, y), user_pixel (&plain, x, y)), <, 1e-9);
  image_free (&plain);
  image_free (&marked);

  /* highlighting through an order: the stored indices are followed to their display place */
  int order[16];
  for (int i = 0; i < n; i++)
    order[i] = n - 1 - i;
  d.order = order;
  cl_heatmap_plot_layout (w, h, &d, &g);
  marked = draw_heatmap (&d, w, h, 1.0);
  cell_centre (&g, n - 1 - 3, n - 1 - 11, &x, &y);
  g_assert_cmpint (count_dark (&marked, x - 2, y - half - 2, x + 2, y - half + 2, 0.4), >, 2);
  int row, col;
  g_assert_true (cl_heatmap_plot_hit (w, h, &d, x, y, &row, &col));
  g_assert_cmpint (row, ==, 3);
  g_assert_cmpint (col, ==, 11);
  image_free (&marked);
  g_free (sim);
}

static void
test_heatmap_groups (void)
{
  int m = 8, n = 16;
  float *sim = g_new0 (float, n *n);
  int order[16], group[16];
  for (int i = 0; i < n; i++)
    {
      order[i] = i;
      group[i] = i < 6 ? 4 : i < 12 ? 7 : 9;
    }
  ClHeatmapData d = heatmap_data (m, sim);
  d.order = order;
  d.order_name = "by class";
  d.group = group;
  double w = 520, h = 460;
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (w, h, &d, &g);
  Image im = draw_heatmap (&d, w, h, 1.0);
  /* a separator between positions 5 and 6 (and 11, 12), in both directions, over white cells */
  for (int b = 0; b < 2; b++)
    {
      double at = (b == 0 ? 6 : 12) * g.cell;
      double x = g.matrix.x + 2.5 * g.cell, y = g.matrix.y + at;
      g_assert_cmpint (count_dark (&im, x - 1, y - 1.5, x + 1, y + 1.5, 0.8), >, 0);
      g_assert_cmpint (count_dark (&im, y - g.matrix.y + g.matrix.x - 1.5, g.matrix.y + 2.5 * g.cell - 1,
                                   y - g.matrix.y + g.matrix.x + 1.5, g.matrix.y + 2.5 * g.cell + 1, 0.8),
                       >, 0);
    }
  /* none inside a group */
  double x = g.matrix.x + 2.5 * g.cell, y = g.matrix.y + 3.0 * g.cell;
  g_assert_cmpint (count_dark (&im, x - 1, y - 1.5, x + 1, y + 1.5, 0.8), ==, 0);
  /* group labels at the left of each group */
  for (int k = 0; k < 3; k++)
    {
      double cy = g.matrix.y + (k * 6 + (k == 2 ? 2 : 3)) * g.cell;
      /* right next to the matrix, where the rotated view labels do not reach */
      g_assert_cmpint (count_dark (&im, g.matrix.x - 13, cy - 6, g.matrix.x - 1, cy + 6, 0.5), >, 5);
    }
  image_free (&im);
  g_free (sim);
}

static void
test_heatmap_scale_2x (void)
{
  int m = 32, n = 64;
  int cls[32];
  for (int i = 0; i < m; i++)
    cls[i] = i % 6;
  float *sim = realistic_sim (m, cls, 9);
  ClHeatmapData d = heatmap_data (m, sim);
  d.highlight_row = 5;
  d.highlight_col = 40;
  double w = 620, h = 560;
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (w, h, &d, &g);
  Image one = draw_heatmap (&d, w, h, 1.0);
  Image two = draw_heatmap (&d, w, h, 2.0);
  long differ = 0;
  for (int p = 0; p < n; p++)
    for (int q = 0; q < n; q++)
      {
        if (p == 5 || q == 40)
          continue; /* under the crosshair */
        double x, y;
        cell_centre (&g, p, q, &x, &y);
        if (color_distance (user_pixel (&one, x, y), user_pixel (&two, x, y)) > 0.01)
          differ++;
      }
  g_assert_cmpint (differ, ==, 0);
  /* crisp cells: every device pixel of a cell has the cell's colour, up to its edges */
  int px0 = (int) (g.matrix.x * 2), py0 = (int) (g.matrix.y * 2), cell2 = (int) (g.cell * 2);
  g_assert_cmpfloat (g.cell * 2, ==, cell2);
  long blurred = 0;
  for (int p = 10; p < 20; p++)
    for (int q = 45; q < 55; q++)
      {
        ClRgb c = pixel_at (&two, px0 + q * cell2 + cell2 / 2, py0 + p * cell2 + cell2 / 2);
        for (int k = 0; k < cell2; k++)
          {
            if (color_distance (pixel_at (&two, px0 + q * cell2 + k, py0 + p * cell2), c) > 1e-9)
              blurred++;
            if (color_distance (pixel_at (&two, px0 + q * cell2, py0 + p * cell2 + k), c) > 1e-9)
              blurred++;
          }
      }
  g_assert_cmpint (blurred, ==, 0);
  long red1 = count_near (&one, hex (RDBU_RED), 0.08), red2 = count_near (&two, hex (RDBU_RED), 0.08);
  double ratio = (double) red2 / red1;
  g_test_message ("deep red pixels: %ld at 1x, %ld at 2x, ratio %.3f", red1, red2, ratio);
  g_assert_cmpfloat (ratio, >, 3.9);
  g_assert_cmpfloat (ratio, <, 4.1);
  image_free (&one);
  image_free (&two);
  g_free (sim);
}

/* NULL and degenerate inputs: a note, no crash, no hits. */
/* A dashboard panel: at 1024x700 the similarity panel is 345x215 px and the figure's text scale
 * is the 0.72 floor (cl_figure_font_scale for a 760x640 figure). Every text stays >= 9 px (it was
 * 6.8-7.6 px), the subtitle is said shorter instead of smaller, and the matrix still shows. */
static void
test_heatmap_dashboard_panel (void)
{
  int m = 32, cls[32];
  for (int i = 0; i < m; i++)
    cls[i] = i % 10;
  float *sim = realistic_sim (m, cls, 7);
  int order[64], group[64];
  for (int i = 0; i < 2 * m; i++)
    order[i] = i;
  for (int pass = 0; pass < 2; pass++)
    {
      ClHeatmapData d = heatmap_data (m, sim);
      d.title = "Batch similarity (cosine of z)";
      d.font_scale = 0.72;
      if (pass == 1)
        {
          /* ordered with group labels down the left */
          for (int i = 0; i < 2 * m; i++)
            group[i] = i / 7;
          d.order = order;
          d.order_name = "by class";
          d.group = group;
        }
      ClHeatmapPlotLayout g;
      cl_heatmap_plot_layout (345, 215, &d, &g);
      g_test_message ("pass %d: smallest text %.2f px, matrix %.0f px", pass, g.min_font, g.matrix.w);
      g_assert_true (g.has_matrix);
      g_assert_cmpfloat (g.min_font, >=, 9.0);
      g_assert_cmpfloat (g.matrix.w, >=, 80.0);
      g_assert_cmpfloat (g.colorbar.x + g.colorbar.w, <, 345.0);
      Image im = draw_heatmap (&d, 345, 215, 1.0);
      const char *dir = g_getenv ("CL_TEST_PNG_DIR");
      if (dir != NULL)
        {
          g_autofree char *path = g_strdup_printf ("%s/heatmap-dashboard-%d.png", dir, pass);
          cairo_surface_write_to_png (im.surface, path);
        }
      image_free (&im);
    }
  g_free (sim);
}

static void
test_heatmap_empty (void)
{
  float sim[16] = { 0 };
  ClHeatmapData empty = heatmap_data (0, sim);
  ClHeatmapData no_sim = heatmap_data (4, NULL);
  const ClHeatmapData *cases[] = { NULL, &empty, &no_sim };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Image im = draw_heatmap (cases[i], 400, 300, 1.0);
      /* the note's muted text in the middle, nothing else coloured */
      g_assert_cmpint (count_dark (&im, 0, 110, 400, 190, 0.8), >, 30);
      long coloured = 0;
      for (int y = 40; y < 300; y++)
        for (int x = 0; x < 400; x++)
          {
            ClRgb c = pixel_at (&im, x, y);
            if (MAX (c.r, MAX (c.g, c.b)) - MIN (c.r, MIN (c.g, c.b)) > 0.05)
              coloured++;
          }
      g_assert_cmpint (coloured, ==, 0);
      g_assert_false (cl_heatmap_plot_hit (400, 300, cases[i], 200, 150, NULL, NULL));
      ClHeatmapPlotLayout g;
      cl_heatmap_plot_layout (400, 300, cases[i], &g);
      g_assert_false (g.has_matrix);
      image_free (&im);
    }
  /* too small for a matrix: a note; degenerate sizes draw nothing and leave cr healthy */
  ClHeatmapData d = heatmap_data (2, sim);
  Image tiny = draw_heatmap (&d, 60, 40, 1.0);
  image_free (&tiny);
  g_assert_false (cl_heatmap_plot_hit (60, 40, &d, 30, 20, NULL, NULL));
  cairo_t *cr;
  Image zero = image_new (10, 10, 1.0, &cr);
  cl_heatmap_plot_draw (cr, 0, 0, &d);
  cl_heatmap_plot_draw (cr, NAN, 10, &d);
  image_finish (&zero, cr);
  image_free (&zero);
  /* an order that is not a permutation is ignored, not trusted */
  int bad[4] = { 0, 0, 1, 9 };
  d.order = bad;
  ClHeatmapPlotLayout g;
  cl_heatmap_plot_layout (400, 300, &d, &g);
  for (int p = 0; p < 4; p++)
    {
      double x, y;
      int row, col;
      cell_centre (&g, p, 3 - p, &x, &y);
      g_assert_true (cl_heatmap_plot_hit (400, 300, &d, x, y, &row, &col));
      g_assert_cmpint (row, ==, p);
      g_assert_cmpint (col, ==, 3 - p);
    }
  Image bad_im = draw_heatmap (&d, 400, 300, 1.0);
  image_free (&bad_im);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/heatmap/colors", test_heatmap_colors);
  g_test_add_func ("/figures/heatmap/hit-roundtrip", test_heatmap_hit_roundtrip);
  g_test_add_func ("/figures/heatmap/positive-pairs", test_heatmap_positive_pairs);
  g_test_add_func ("/figures/heatmap/colorbar", test_heatmap_colorbar);
  g_test_add_func ("/figures/heatmap/highlight", test_heatmap_highlight);
  g_test_add_func ("/figures/heatmap/groups", test_heatmap_groups);
  g_test_add_func ("/figures/heatmap/scale-2x", test_heatmap_scale_2x);
  g_test_add_func ("/figures/heatmap/dashboard-panel", test_heatmap_dashboard_panel);
  g_test_add_func ("/figures/heatmap/empty", test_heatmap_empty);
  return g_test_run ();
}
