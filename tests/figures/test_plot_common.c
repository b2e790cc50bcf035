/* The shared plot helpers (ui/plots/cl_plot_common.h): colours, nice ticks, EMA, line
 * decimation and label placement. */
#include "ui/plots/cl_plot_common.h"
#include "ui/plots/cl_loss_plot.h"

#include <math.h>
#include <string.h>

#include "tests/figures/plot_pixels.h"

/* ------------------------------------------------------------ helpers' tests */

static void
test_okabe_ito (void)
{
  /* the published palette (Okabe & Ito 2008), written out independently of the code */
  static const unsigned hex[CL_PLOT_OI_COUNT] = {
    0x000000, 0xE69F00, 0x56B4E9, 0x009E73, 0xF0E442, 0x0072B2, 0xD55E00, 0xCC79A7,
  };
  for (int i = 0; i < CL_PLOT_OI_COUNT; i++)
    {
      ClRgb c = cl_plot_okabe_ito (i);
      g_assert_cmpint (lround (c.r * 255), ==, (hex[i] >> 16) & 0xFF);
      g_assert_cmpint (lround (c.g * 255), ==, (hex[i] >> 8) & 0xFF);
      g_assert_cmpint (lround (c.b * 255), ==, hex[i] & 0xFF);
    }
  /* the four loss series must be far apart from each other and from the furniture */
  for (int a = 0; a < CL_LOSS_SERIES_COUNT; a++)
    {
      ClRgb ca = cl_loss_plot_series_color (a);
      g_assert_cmpfloat (color_distance (ca, cl_plot_color_background ()), >, 0.5);
      g_assert_cmpfloat (color_distance (ca, cl_plot_color_marker ()), >, 0.3);
      g_assert_cmpfloat (color_distance (ca, cl_plot_color_grid ()), >, 0.3);
      for (int b = a + 1; b < CL_LOSS_SERIES_COUNT; b++)
        g_assert_cmpfloat (color_distance (ca, cl_loss_plot_series_color (b)), >, 0.3);
    }
  g_assert_cmpfloat (color_distance (cl_plot_color_marker (), cl_plot_color_grid ()), >, 0.4);
  /* the event test tells label text from the label's frame by colour */
  g_assert_cmpfloat (color_distance (cl_plot_color_marker (), cl_plot_color_text ()), >, 0.3);
}

static double
luminance (ClRgb c)
{
  return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}

static void
test_colormaps (void)
{
  ClRgb lo = cl_plot_colormap_viridis (0.0), hi = cl_plot_colormap_viridis (1.0);
  g_assert_cmpfloat (color_distance (lo, (ClRgb){ 0x44 / 255.0, 0x01 / 255.0, 0x54 / 255.0 }), <, 1e-9);
  g_assert_cmpfloat (color_distance (hi, (ClRgb){ 0xFD / 255.0, 0xE7 / 255.0, 0x25 / 255.0 }), <, 1e-9);
  double previous = -1.0;
  for (int i = 0; i <= 100; i++)
    {
      double l = luminance (cl_plot_colormap_viridis (i / 100.0));
      g_assert_cmpfloat (l, >, previous); /* viridis is monotone in lightness */
      previous = l;
    }
  /* clamped outside [0, 1] */
  g_assert_cmpfloat (color_distance (cl_plot_colormap_viridis (-3.0), lo), <, 1e-12);
  g_assert_cmpfloat (color_distance (cl_plot_colormap_viridis (7.0), hi), <, 1e-12);
  ClRgb nan_color = cl_plot_colormap_viridis (NAN);
  g_assert_true (isfinite (nan_color.r) && isfinite (nan_color.g) && isfinite (nan_color.b));

  ClRgb mid = cl_plot_colormap_diverging (0.5);
  g_assert_cmpfloat (MIN (mid.r, MIN (mid.g, mid.b)), >, 0.95); /* zero is white-ish */
  ClRgb blue = cl_plot_colormap_diverging (0.0), red = cl_plot_colormap_diverging (1.0);
  g_assert_cmpfloat (blue.b, >, blue.r);
  g_assert_cmpfloat (red.r, >, red.b);
}

static void
assert_ticks (const ClPlotTicks *t, double lo, double hi, double step, int n, int decimals)
{
  g_assert_cmpfloat_with_epsilon (t->lo, lo, 1e-9 * MAX (1.0, fabs (lo)));
  g_assert_cmpfloat_with_epsilon (t->hi, hi, 1e-9 * MAX (1.0, fabs (hi)));
  g_assert_cmpfloat_with_epsilon (t->step, step, 1e-12 * MAX (1.0, step));
  g_assert_cmpint (t->n, ==, n);
  g_assert_cmpint (t->decimals, ==, decimals);
  for (int i = 0; i < t->n; i++)
    g_assert_cmpfloat_with_epsilon (t->v[i], lo + i * step, 1e-9 * MAX (1.0, fabs (hi)));
}

static void
test_nice_ticks (void)
{
  ClPlotTicks t;
  char label[64];

  /* the left axis of the paper-like plot: alignment -9 .. distribution 13 */
  cl_plot_ticks_compute (&t, -9.0, 13.0, 5, TRUE, FALSE);
  assert_ticks (&t, -10.0, 15.0, 5.0, 6, 0);
  cl_plot_ticks_format (&t, -5.0, label, sizeof label);
  g_assert_cmpstr (label, ==,
                   "\xE2\x88\x92"
                   "5"); /* U+2212 MINUS SIGN */
  cl_plot_ticks_format (&t, 0.0, label, sizeof label);
  g_assert_cmpstr (label, ==, "0");

  cl_plot_ticks_compute (&t, 0.0, 1.0, 5, TRUE, FALSE);
  assert_ticks (&t, 0.0, 1.0, 0.2, 6, 1);
  cl_plot_ticks_format (&t, t.v[3], label, sizeof label);
  g_assert_cmpstr (label, ==, "0.6");
  cl_plot_ticks_format (&t, t.v[5], label, sizeof label);
  g_assert_cmpstr (label, ==, "1.0");

  cl_plot_ticks_compute (&t, 4.8, 6.5, 5, TRUE, FALSE);
  assert_ticks (&t, 4.5, 6.5, 0.5, 5, 1);

  cl_plot_ticks_compute (&t, 0.0012, 0.0042, 4, TRUE, FALSE);
  assert_ticks (&t, 0.001, 0.005, 0.001, 5, 3);

  /* without extend the range is kept and only inner ticks are listed */
  cl_plot_ticks_compute (&t, 0.13, 0.91, 4, FALSE, FALSE);
  g_assert_cmpfloat (t.lo, ==, 0.13);
  g_assert_cmpfloat (t.hi, ==, 0.91);
  g_assert_cmpfloat_with_epsilon (t.step, 0.2, 1e-12);
  g_assert_cmpint (t.n, ==, 4);
  g_assert_cmpfloat_with_epsilon (t.v[0], 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon (t.v[3], 0.8, 1e-12);

  /* step counts: large values get "k", small ranges never get fractional steps */
  cl_plot_ticks_compute (&t, 1.0, 100000.0, 5, TRUE, TRUE);
  assert_ticks (&t, 0.0, 100000.0, 20000.0, 6, 0);
  g_assert_cmpint (t.si_power, ==, 3);
  cl_plot_ticks_format (&t, 40000.0, label, sizeof label);
  g_assert_cmpstr (label, ==, "40k");
  cl_plot_ticks_format (&t, 0.0, label, sizeof label);
  g_assert_cmpstr (label, ==, "0");
  cl_plot_ticks_compute (&t, 1.0, 3.0, 10, TRUE, TRUE);
  assert_ticks (&t, 1.0, 3.0, 1.0, 3, 0);
  cl_plot_ticks_compute (&t, 0.0, 600.0, 6, TRUE, TRUE);
  assert_ticks (&t, 0.0, 600.0, 100.0, 7, 0);
  g_assert_cmpint (t.si_power, ==, 0);

  /* degenerate and broken inputs still give a usable axis around the data */
  cl_plot_ticks_compute (&t, 5.0, 5.0, 5, TRUE, FALSE);
  g_assert_cmpfloat (t.lo, <, 5.0);
  g_assert_cmpfloat (t.hi, >, 5.0);
  g_assert_cmpint (t.n, >=, 2);
  cl_plot_ticks_compute (&t, NAN, INFINITY, 5, TRUE, FALSE);
  g_assert_true (isfinite (t.lo) && isfinite (t.hi) && t.lo < t.hi && t.n >= 2);
  cl_plot_ticks_compute (&t, 3.0, -2.0, 5, TRUE, FALSE); /* reversed */
  g_assert_cmpfloat (t.lo, <=, -2.0);
  g_assert_cmpfloat (t.hi, >=, 3.0);

  /* formatting: no "-0", C locale point */
  cl_plot_format_number (-0.0001, 2, label, sizeof label);
  g_assert_cmpstr (label, ==, "0.00");
  cl_plot_format_number (-2.5, 1, label, sizeof label);
  g_assert_cmpstr (label, ==,
                   "\xE2\x88\x92"
                   "2.5");
  cl_plot_format_number (1234.5678, 2, label, sizeof label);
  g_assert_cmpstr (label, ==, "1234.57");
}

static void
test_ema (void)
{
  ClPlotEma ema;

  /* bias correction: a constant series is returned unchanged from the first point on */
  cl_plot_ema_init (&ema, 0.9);
  for (int i = 0; i < 50; i++)
    g_assert_cmpfloat_with_epsilon (cl_plot_ema_push (&ema, 5.0), 5.0, 1e-12);

  /* against the closed form sum_i (1-a) a^(t-i) x_i / (1 - a^t), x = 0 x10 then 1 x20 */
  const double a = 0.8;
  double x[30];
  for (int i = 0; i < 30; i++)
    x[i] = i < 10 ? 0.0 : 1.0;
  cl_plot_ema_init (&ema, a);
  for (int t = 1; t <= 30; t++)
    {
      double got = cl_plot_ema_push (&ema, x[t - 1]);
      double num = 0.0;
      for (int i = 1; i <= t; i++)
        num += (1 - a) * pow (a, t - i) * x[i - 1];
      g_assert_cmpfloat_with_epsilon (got, num / (1 - pow (a, t)), 1e-12);
    }

  /* non-finite values are skipped without disturbing the average */
  cl_plot_ema_init (&ema, 0.5);
  g_assert_cmpfloat_with_epsilon (cl_plot_ema_push (&ema, 2.0), 2.0, 1e-12);
  g_assert_true (isnan (cl_plot_ema_push (&ema, NAN)));
  g_assert_true (isnan (cl_plot_ema_push (&ema, INFINITY)));
  /* (0.5*0.5*2 + 0.5*4) / (1 - 0.25) = 2.5 / 0.75 */
  g_assert_cmpfloat_with_epsilon (cl_plot_ema_push (&ema, 4.0), 2.5 / 0.75, 1e-12);

  /* alpha 0 is the identity */
  cl_plot_ema_init (&ema, 0.0);
  g_assert_cmpfloat (cl_plot_ema_push (&ema, 3.25), ==, 3.25);
  g_assert_cmpfloat (cl_plot_ema_push (&ema, -1.5), ==, -1.5);
}

static long
count_path_points (cairo_t *cr)
{
  cairo_path_t *path = cairo_copy_path (cr);
  long n = 0;
  gboolean after_close = FALSE;
  for (int i = 0; i < path->num_data; i += path->data[i].header.length)
    {
      cairo_path_data_type_t type = path->data[i].header.type;
      /* cairo adds a move-to after close-path; it is not a point of ours */
      if (type == CAIRO_PATH_LINE_TO || (type == CAIRO_PATH_MOVE_TO && !after_close))
        n++;
      after_close = type == CAIRO_PATH_CLOSE_PATH;
    }
  cairo_path_destroy (path);
  return n;
}

static void
test_line_decimation (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 200, 100);
  cairo_t *cr = cairo_create (surface);
  ClPlotLine line;
  double x1, y1, x2, y2;

  /* sparse data: the polyline itself, every point kept, in order */
  cl_plot_line_begin (&line, cr, 2.0);
  for (int i = 0; i < 50; i++)
    cl_plot_line_add (&line, 2.0 * i + 0.5, 50.0 + (i % 2)); /* zigzag: cairo merges collinear segments */
  g_assert_false (cl_plot_line_end (&line));
  g_assert_cmpint (line.points_emitted, ==, 50);
  g_assert_cmpint (count_path_points (cr), ==, 50);
  cairo_path_extents (cr, &x1, &y1, &x2, &y2);
  g_assert_cmpfloat_with_epsilon (x1, 0.5, 1.0 / 256);
  g_assert_cmpfloat_with_epsilon (x2, 98.5, 1.0 / 256);
  cairo_new_path (cr);

  /* a few points per column: still a polyline, at most 4 points per column */
  cl_plot_line_begin (&line, cr, 2.0);
  for (int i = 0; i < 150; i++)
    cl_plot_line_add (&line, i * 0.5, 50.0 + 10.0 * (i % 2));
  g_assert_false (cl_plot_line_end (&line));
  g_assert_cmpint (line.points_emitted, <=, 4 * 75);
  cairo_path_extents (cr, &x1, &y1, &x2, &y2);
  g_assert_cmpfloat_with_epsilon (y1, 50.0, 1.0 / 256);
  g_assert_cmpfloat_with_epsilon (y2, 60.0, 1.0 / 256);
  cairo_new_path (cr);

  /* 10000 noisy points over 100 pixel columns: the envelope, 1 point per column and edge
   * (2 where a column sticks out), reaching exactly the extremes widened by half the line width */
  cl_plot_line_begin (&line, cr, 2.0);
  double lowest = INFINITY, highest = -INFINITY;
  guint32 state = 12345;
  for (int i = 0; i < 10000; i++)
    {
      state = state * 1664525u + 1013904223u;
      double y = 50.0 + 40.0 * ((state >> 8) / 16777216.0 - 0.5);
      lowest = MIN (lowest, y);
      highest = MAX (highest, y);
      cl_plot_line_add (&line, i * 0.01, y);
      if (i % 97 == 0)
        cl_plot_line_add (&line, i * 0.01, NAN); /* ignored */
    }
  g_assert_cmpint (line.points, ==, 10000);
  g_assert_true (cl_plot_line_end (&line));
  g_assert_cmpint (line.points_emitted, <=, 4 * 100 + 4);
  g_assert_cmpint (count_path_points (cr), <=, line.points_emitted); /* cairo drops repeated points */
  cairo_path_extents (cr, &x1, &y1, &x2, &y2);
  /* cairo stores path coordinates in 24.8 fixed point */
  g_assert_cmpfloat_with_epsilon (y1, lowest - 1.0, 1.0 / 256);
  g_assert_cmpfloat_with_epsilon (y2, highest + 1.0, 1.0 / 256);
  g_assert_cmpfloat_with_epsilon (x1, 0.0, 1.0 / 256);
  g_assert_cmpfloat_with_epsilon (x2, 99.99, 1.0 / 256);
  cairo_new_path (cr);

  /* at 2x there are twice as many device columns per user unit */
  cairo_scale (cr, 2.0, 2.0);
  cl_plot_line_begin (&line, cr, 2.0);
  for (int i = 0; i < 10000; i++)
    {
      state = state * 1664525u + 1013904223u;
      cl_plot_line_add (&line, i * 0.01, 50.0 + 40.0 * ((state >> 8) / 16777216.0 - 0.5));
    }
  g_assert_true (cl_plot_line_end (&line));
  g_assert_cmpint (line.points_emitted, <=, 4 * 200 + 4);
  g_assert_cmpint (line.points_emitted, >, 4 * 100 + 4);
  cairo_new_path (cr);

  /* nothing finite: no path, nothing drawn, no crash */
  cl_plot_line_begin (&line, cr, 2.0);
  cl_plot_line_add (&line, NAN, 1.0);
  cl_plot_line_add (&line, 1.0, INFINITY);
  cl_plot_line_draw (&line);
  g_assert_cmpint (line.points_emitted, ==, 0);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_label_placement (void)
{
  double left[6];
  int row[6];

  /* far apart: one row, centred */
  double c1[3] = { 100, 300, 500 }, w1[3] = { 80, 80, 80 };
  g_assert_cmpint (cl_plot_place_labels (c1, w1, 3, 0, 600, 4, 3, left, row), ==, 1);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpint (row[i], ==, 0);
      g_assert_cmpfloat (left[i], ==, c1[i] - 40);
    }

  /* crowded: rows stack, nothing overlaps in a row, the rest is dropped, borders respected */
  double c2[6] = { 10, 20, 30, 40, 50, 590 }, w2[6] = { 60, 60, 60, 60, 60, 60 };
  int used = cl_plot_place_labels (c2, w2, 6, 0, 600, 4, 3, left, row);
  g_assert_cmpint (used, ==, 3);
  g_assert_cmpint (row[0], ==, 0);
  g_assert_cmpint (row[1], ==, 1);
  g_assert_cmpint (row[2], ==, 2);
  g_assert_cmpint (row[3], ==, -1);
  g_assert_cmpint (row[4], ==, -1);
  for (int i = 0; i < 6; i++)
    {
      g_assert_cmpfloat (left[i], >=, 0.0);
      g_assert_cmpfloat (left[i] + w2[i], <=, 600.0);
      for (int j = 0; j < i; j++)
        if (row[i] >= 0 && row[i] == row[j])
          g_assert_true (left[i] >= left[j] + w2[j] + 4 || left[j] >= left[i] + w2[i] + 4);
    }
  g_assert_cmpint (row[5], ==, 0);
  g_assert_cmpfloat (left[5], ==, 540.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/common/okabe-ito", test_okabe_ito);
  g_test_add_func ("/figures/common/colormaps", test_colormaps);
  g_test_add_func ("/figures/common/nice-ticks", test_nice_ticks);
  g_test_add_func ("/figures/common/ema", test_ema);
  g_test_add_func ("/figures/common/line-decimation", test_line_decimation);
  g_test_add_func ("/figures/common/label-placement", test_label_placement);
  return g_test_run ();
}
