/* The grouped bar chart (ui/plots/cl_bar_chart.h), checked on the pixels it draws. */
#include "ui/plots/cl_bar_chart.h"

#include <math.h>
#include <string.h>

#include "tests/figures/pixel_counts.h"

/* -------------------------------------------------------------- bar chart */

static const char *const loss_kinds[] = { "ntxent", "decoupled", "swd-normal", "swd-cube", "swd-sphere" };
static const char *const head_layers[] = { "0", "1", "3" };

static ClBarChartData
sweep_data (const double *values)
{
  ClBarChartData d = {
    .title = "class probe accuracy",
    .y_label = "accuracy",
    .group_key = "loss.kind",
    .series_key = "model.head_layers",
    .n_groups = 5,
    .group_labels = loss_kinds,
    .n_series = 3,
    .series_labels = head_layers,
    .values = values,
    .y_min = NAN,
    .y_max = NAN,
    .reference = NAN,
    .reference_label = NULL,
  };
  return d;
}

static Image
render_bars (double width, double height, double scale, const ClBarChartData *d, ClBarChartLayout *g)
{
  cairo_t *cr;
  Image im = image_new (width, height, scale, &cr);
  cl_bar_chart_draw_full (cr, width, height, d, g);
  image_finish (&im, cr);
  return im;
}

/* Height in user units of the bar of colour c in the column at user x, growing from the
 * baseline upward (direction -1) or downward (+1): the run of the colour is followed from
 * 3 units off the baseline (clear of the axis line drawn there) to the bar's far end. */
static double
measured_bar_height (const Image *im, ClRgb c, double x, double base, int direction)
{
  int px = (int) floor (x * im->scale);
  int py = (int) floor ((base - direction * -3.0) * im->scale);
  if (color_distance (pixel_at (im, px, py), c) >= 0.25)
    return 0.0;
  while (py + direction >= 0 && py + direction < im->height &&
         color_distance (pixel_at (im, px, py + direction), c) < 0.25)
    py += direction;
  /* py is the last row of the bar */
  double end = direction < 0 ? py / im->scale : (py + 1) / im->scale;
  return fabs (end - base);
}

static void
test_bar_heights (void)
{
  double values[15];
  for (int i = 0; i < 15; i++)
    values[i] = 0.55 + 0.25 * i / 14.0;
  ClBarChartData d = sweep_data (values);
  for (int scale = 1; scale <= 2; scale++)
    {
      ClBarChartLayout g;
      Image im = render_bars (900, 450, scale, &d, &g);
      /* values in [0, 1]: the axis is 0..1 */
      g_assert_cmpfloat (g.y_ticks.lo, ==, 0.0);
      g_assert_cmpfloat (g.y_ticks.hi, ==, 1.0);
      g_assert_cmpfloat (g.baseline, ==, 0.0);
      g_assert_cmpint (g.value_decimals, ==, 2);
      double base = cl_plot_scale_map (&g.y, 0.0);
      double per_unit = g.plot.h; /* pixels for a value of 1 */
      for (int gi = 0; gi < 5; gi++)
        for (int s = 0; s < 3; s++)
          {
            ClPlotRect r;
            cl_bar_chart_bar_rect (&g, &d, gi, s, &r);
            double h = measured_bar_height (&im, cl_bar_chart_series_color (s), r.x + 0.5 * r.w, base, -1);
            double want = values[gi * 3 + s] * per_unit;
            g_assert_cmpfloat (fabs (h - want), <=, 1.5);
            /* bars of a group are side by side, in series order, inside the group's slot */
            g_assert_cmpfloat (r.x, >=, g.plot.x + gi * g.group_width);
            g_assert_cmpfloat (r.x + r.w, <=, g.plot.x + (gi + 1) * g.group_width);
            if (s > 0)
              {
                ClPlotRect left;
                cl_bar_chart_bar_rect (&g, &d, gi, s - 1, &left);
                g_assert_cmpfloat (r.x, >=, left.x + left.w);
              }
            /* the value is printed just above the bar */
            g_assert_cmpint (count_near (&im, cl_plot_color_text (), 0.35, r.x - 2, r.y - 16, r.x + r.w + 2, r.y - 1),
                             >, 10);
          }
      /* bar heights are proportional to the values: the tallest over the shortest */
      ClPlotRect lo, hi;
      cl_bar_chart_bar_rect (&g, &d, 0, 0, &lo);
      cl_bar_chart_bar_rect (&g, &d, 4, 2, &hi);
      double h_lo = measured_bar_height (&im, cl_bar_chart_series_color (0), lo.x + 0.5 * lo.w, base, -1);
      double h_hi = measured_bar_height (&im, cl_bar_chart_series_color (2), hi.x + 0.5 * hi.w, base, -1);
      g_test_message ("scale %d: bars %.1f and %.1f, ratio %.4f (values %.4f)", scale, h_lo, h_hi, h_hi / h_lo,
                      values[14] / values[0]);
      g_assert_cmpfloat (fabs (h_hi / h_lo - values[14] / values[0]), <, 0.01);
      image_free (&im);
    }
}

static void
test_bar_nan_and_reference (void)
{
  double values[15];
  for (int i = 0; i < 15; i++)
    values[i] = 0.6 + 0.01 * i;
  values[4] = NAN; /* decoupled, 1 head layer */
  ClBarChartData d = sweep_data (values);
  d.reference = 0.1;
  d.reference_label = "chance";
  ClBarChartLayout g;
  Image im = render_bars (900, 450, 1.0, &d, &g);
  ClPlotRect r;
  cl_bar_chart_bar_rect (&g, &d, 1, 1, &r);
  g_assert_cmpfloat (r.h, ==, 0.0);
  /* no bar colour in the missing bar's slot; its neighbours are there */
  ClRgb c1 = cl_bar_chart_series_color (1);
  g_assert_cmpint (count_near (&im, c1, 0.2, r.x + 1, g.plot.y, r.x + r.w - 1, g.plot.y + g.plot.h), ==, 0);
  ClPlotRect next;
  cl_bar_chart_bar_rect (&g, &d, 2, 1, &next);
  g_assert_cmpint (count_near (&im, c1, 0.05, next.x + 1, next.y + 1, next.x + next.w - 1, next.y + next.h - 1), >,
                   (long) (0.9 * (next.w - 2) * (next.h - 2)));
  /* "n/a" in the muted colour at its foot */
  g_assert_cmpint (count_near (&im, cl_plot_color_muted (), 0.15, r.x - 4, r.y - 40, r.x + r.w + 4, r.y), >, 5);

  /* the reference: dashed across the plot, over the bars */
  double y = cl_plot_scale_map (&g.y, 0.1);
  double x0 = g.plot.x + 2, x1 = g.plot.x + g.plot.w - 2;
  int dashed = columns_with (&im, cl_plot_color_marker (), 0.08, x0, y - 1.5, x1, y + 1.5);
  g_assert_cmpint (dashed, >, (int) (0.4 * (x1 - x0)));
  g_assert_cmpint (dashed, <, (int) (0.9 * (x1 - x0)));
  ClPlotRect first;
  cl_bar_chart_bar_rect (&g, &d, 0, 0, &first);
  g_assert_cmpint (columns_with (&im, cl_plot_color_marker (), 0.08, first.x, y - 1.5, first.x + first.w, y + 1.5), >,
                   0);
  image_free (&im);

  /* without a reference there is no marker colour on that row */
  d.reference = NAN;
  im = render_bars (900, 450, 1.0, &d, &g);
  y = cl_plot_scale_map (&g.y, 0.1);
  g_assert_cmpint (columns_with (&im, cl_plot_color_marker (), 0.08, x0, y - 1.5, x1, y + 1.5), ==, 0);
  image_free (&im);

  /* every value missing, NULL values, NULL labels: no bars, no crash */
  for (int i = 0; i < 15; i++)
    values[i] = NAN;
  d.group_labels = NULL;
  d.series_labels = NULL;
  im = render_bars (900, 450, 1.0, &d, &g);
  for (int s = 0; s < 3; s++)
    g_assert_cmpint (count_covered (&im, cl_bar_chart_series_color (s), g.plot.x + 1, g.plot.y, g.plot.x + g.plot.w,
                                    g.plot.y + g.plot.h),
                     ==, 0);
  image_free (&im);
  d.values = NULL;
  im = render_bars (900, 450, 1.0, &d, &g);
  image_free (&im);
}

static void
test_bar_single_series (void)
{
  double values[5] = { 0.2, 0.4, 0.6, 0.8, 1.0 };
  ClBarChartData d = sweep_data (values);
  d.n_series = 1;
  d.series_labels = head_layers;
  ClBarChartLayout one;
  Image im = render_bars (900, 450, 1.0, &d, &one);
  /* no legend: nothing in the series colour above the plot */
  ClRgb c = cl_bar_chart_series_color (0);
  g_assert_cmpint (count_near (&im, c, 0.1, 0, 0, 900, one.plot.y - 20), ==, 0);
  /* one wide bar per group, centred */
  ClPlotRect r;
  cl_bar_chart_bar_rect (&one, &d, 2, 0, &r);
  g_assert_cmpfloat_with_epsilon (r.x + 0.5 * r.w, one.plot.x + 2.5 * one.group_width, 1e-9);
  g_assert_cmpfloat (r.w, >, 0.7 * one.group_width);
  double base = cl_plot_scale_map (&one.y, 0.0);
  for (int gi = 0; gi < 5; gi++)
    {
      cl_bar_chart_bar_rect (&one, &d, gi, 0, &r);
      double h = measured_bar_height (&im, c, r.x + 0.5 * r.w, base, -1);
      g_assert_cmpfloat (fabs (h - values[gi] * one.plot.h), <=, 1.5);
    }
  image_free (&im);

  /* with three series the legend takes a row: the plot starts lower */
  double three[15];
  for (int i = 0; i < 15; i++)
    three[i] = 0.5;
  ClBarChartData d3 = sweep_data (three);
  ClBarChartLayout g3;
  im = render_bars (900, 450, 1.0, &d3, &g3);
  g_assert_cmpfloat (g3.plot.y, >, one.plot.y + 8);
  /* the legend swatches are above the plot in each series' colour */
  for (int s = 0; s < 3; s++)
    g_assert_cmpint (count_near (&im, cl_bar_chart_series_color (s), 0.05, 0, 0, 900, g3.plot.y - 10), >, 20);
  image_free (&im);
}

static void
test_bar_ranges (void)
{
  /* negative values: the axis keeps 0, bars grow down from it */
  double values[6] = { 2.5, -1.5, 4.0, 1.0, -3.0, 0.5 };
  const char *const groups[] = { "a", "b", "c" };
  const char *const series[] = { "x", "y" };
  ClBarChartData d = {
    .title = NULL,
    .y_label = "delta",
    .group_key = "key",
    .series_key = NULL,
    .n_groups = 3,
    .group_labels = groups,
    .n_series = 2,
    .series_labels = series,
    .values = values,
    .y_min = NAN,
    .y_max = NAN,
    .reference = NAN,
  };
  ClBarChartLayout g;
  Image im = render_bars (700, 400, 1.0, &d, &g);
  g_assert_cmpfloat (g.y_ticks.lo, <=, -3.0);
  g_assert_cmpfloat (g.y_ticks.hi, >=, 4.0);
  g_assert_cmpfloat (g.baseline, ==, 0.0);
  g_assert_cmpint (g.value_decimals, ==, 1); /* ticks every 1 */
  double base = cl_plot_scale_map (&g.y, 0.0), unit = cl_plot_scale_map (&g.y, 0.0) - cl_plot_scale_map (&g.y, 1.0);
  for (int gi = 0; gi < 3; gi++)
    for (int s = 0; s < 2; s++)
      {
        ClPlotRect r;
        cl_bar_chart_bar_rect (&g, &d, gi, s, &r);
        double v = values[gi * 2 + s];
        double h = measured_bar_height (&im, cl_bar_chart_series_color (s), r.x + 0.5 * r.w, base, v < 0 ? 1 : -1);
        g_assert_cmpfloat (fabs (h - fabs (v) * unit), <=, 1.5);
      }
  image_free (&im);

  /* a fixed range that excludes 0: bars grow from the bottom; values past the top clamp */
  double acc[6] = { 0.6, 0.7, 0.8, 0.9, 0.95, 1.2 };
  d.values = acc;
  d.y_min = 0.5;
  d.y_max = 1.0;
  im = render_bars (700, 400, 1.0, &d, &g);
  g_assert_cmpfloat (g.y_ticks.lo, ==, 0.5);
  g_assert_cmpfloat (g.y_ticks.hi, ==, 1.0);
  g_assert_cmpfloat (g.baseline, ==, 0.5);
  base = cl_plot_scale_map (&g.y, 0.5);
  for (int i = 0; i < 6; i++)
    {
      ClPlotRect r;
      cl_bar_chart_bar_rect (&g, &d, i / 2, i % 2, &r);
      double h = measured_bar_height (&im, cl_bar_chart_series_color (i % 2), r.x + 0.5 * r.w, base, -1);
      double want = (MIN (acc[i], 1.0) - 0.5) / 0.5 * g.plot.h;
      g_assert_cmpfloat (fabs (h - want), <=, 1.5);
    }
  image_free (&im);

  /* many narrow bars: values turn upright, long group labels slant; nothing breaks */
  double many[40 * 4];
  const char *labels[40];
  char names[40][32];
  for (int i = 0; i < 40; i++)
    {
      g_snprintf (names[i], sizeof names[i], "a-rather-long-group-%d", i);
      labels[i] = names[i];
    }
  for (int i = 0; i < 160; i++)
    many[i] = 0.5 + 0.003 * i;
  const char *const four[] = { "1", "2", "3", "4" };
  ClBarChartData m = {
    .title = "many",
    .y_label = "accuracy",
    .group_key = "key",
    .series_key = "s",
    .n_groups = 40,
    .group_labels = labels,
    .n_series = 4,
    .series_labels = four,
    .values = many,
    .y_min = NAN,
    .y_max = NAN,
    .reference = 0.25,
    .reference_label = "chance",
  };
  im = render_bars (900, 450, 1.0, &m, &g);
  g_assert_true (g.value_labels_rotated);
  g_assert_true (g.group_labels_rotated);
  g_assert_cmpfloat (g.plot.h, >, 100.0);
  image_free (&im);
}

static void
test_bar_empty_and_2x (void)
{
  ClBarChartLayout g;
  Image im = render_bars (600, 400, 1.0, NULL, &g);
  double cx = g.plot.x + 0.5 * g.plot.w, cy = g.plot.y + 0.5 * g.plot.h;
  g_assert_cmpint (count_near (&im, cl_plot_color_muted (), 0.12, cx - 80, cy - 10, cx + 80, cy + 10), >, 30);
  image_free (&im);
  ClBarChartData d = sweep_data (NULL);
  d.n_groups = 0;
  im = render_bars (600, 400, 1.0, &d, &g);
  cx = g.plot.x + 0.5 * g.plot.w;
  cy = g.plot.y + 0.5 * g.plot.h;
  g_assert_cmpint (count_near (&im, cl_plot_color_muted (), 0.12, cx - 80, cy - 10, cx + 80, cy + 10), >, 30);
  image_free (&im);
  cairo_surface_t *tiny = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 20, 20);
  cairo_t *cr = cairo_create (tiny);
  double values[15] = { 0 };
  d = sweep_data (values);
  cl_bar_chart_draw (cr, 20, 20, &d);
  cl_bar_chart_draw (cr, -1, 20, &d);
  cl_bar_chart_draw_cb (cr, 20, 20, &d);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (tiny);

  for (int i = 0; i < 15; i++)
    values[i] = 0.55 + 0.25 * i / 14.0;
  d.reference = 0.1;
  ClBarChartLayout g1, g2;
  Image one = render_bars (900, 450, 1.0, &d, &g1);
  Image two = render_bars (900, 450, 2.0, &d, &g2);
  g_assert_cmpfloat_with_epsilon (g1.plot.x, g2.plot.x, 1e-6);
  g_assert_cmpfloat_with_epsilon (g1.plot.y, g2.plot.y, 1e-6);
  g_assert_cmpfloat_with_epsilon (g1.plot.w, g2.plot.w, 1e-6);
  g_assert_cmpfloat_with_epsilon (g1.plot.h, g2.plot.h, 1e-6);
  for (int s = 0; s < 3; s++)
    {
      long n1 = count_covered (&one, cl_bar_chart_series_color (s), 0, 0, 900, 450);
      long n2 = count_covered (&two, cl_bar_chart_series_color (s), 0, 0, 900, 450);
      double ratio = (double) n2 / (double) n1;
      g_test_message ("series %d: %ld px at 1x, %ld at 2x, ratio %.3f", s, n1, n2, ratio);
      g_assert_cmpfloat (ratio, >, 3.9);
      g_assert_cmpfloat (ratio, <, 4.1);
    }
  image_free (&one);
  image_free (&two);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/bar/heights", test_bar_heights);
  g_test_add_func ("/figures/bar/nan-and-reference", test_bar_nan_and_reference);
  g_test_add_func ("/figures/bar/single-series", test_bar_single_series);
  g_test_add_func ("/figures/bar/ranges", test_bar_ranges);
  g_test_add_func ("/figures/bar/empty-and-2x", test_bar_empty_and_2x);
  return g_test_run ();
}
