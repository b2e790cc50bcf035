/* The Views figure's collision meter and the sweep figure: the theory against the paper's
 * numbers and a simulation, and pixels where the data say they must be. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/figures/pixel_points.h"
#include "tests/figures/views_snapshot.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_figures.h"
#include "ui/plots/cl_sweep_plot.h"
#include "ui/plots/cl_views_plot.h"

#define N_ROWS 200

/* Steps 1..200 at batch 256: bits 10 until step 100, then 14 (an event); measured 0.5 before,
 * missing over steps 100..119, 0.1 after. */
static void
meter_fixture (ClMetricRow *rows, ClEvent *event, ClCollisionMeter *m)
{
  memset (rows, 0, sizeof (ClMetricRow) * N_ROWS);
  for (int i = 0; i < N_ROWS; i++)
    {
      rows[i].step = i + 1;
      rows[i].code_collision = rows[i].step < 100 ? 0.5f : rows[i].step < 120 ? NAN : 0.1f;
    }
  memset (event, 0, sizeof *event);
  event->step = 100;
  g_strlcpy (event->key, "data.bits", sizeof event->key);
  g_strlcpy (event->old_value, "10", sizeof event->old_value);
  g_strlcpy (event->new_value, "14", sizeof event->new_value);
  memset (m, 0, sizeof *m);
  m->rows = rows;
  m->n_rows = N_ROWS;
  m->events = event;
  m->n_events = 1;
  m->batch = 256;
  m->bits = 14;
  m->show = TRUE;
}

static void
test_meter_pixels (void)
{
  static ClMetricRow rows[N_ROWS];
  ClEvent event;
  ClCollisionMeter m;
  meter_fixture (rows, &event, &m);
  const double tol = 0.12;
  ClRgb measured = cl_views_plot_measured_color (), theory = cl_views_plot_theory_color ();
  for (int si = 0; si < 2; si++)
    {
      double scale = si == 0 ? 1.0 : 2.0;
      cairo_t *cr;
      Image im = image_new (900, 420, scale, &cr);
      ClViewsPlotLayout g;
      cl_views_plot_draw_full (cr, 900, 420, NULL, &m, &g);
      image_finish (&im, cr);
      if (si == 0)
        save_png (&im, "views-meter.png");
      g_assert_true (g.shown);
      g_assert_cmpfloat (g.steps_plot.w, >, 150);
      g_assert_cmpfloat (g.steps_plot.h, >, 40);
      g_assert_cmpfloat (g.bits_plot.y, >, g.steps_plot.y + g.steps_plot.h);
      /* the meter sits right of the views */
      g_assert_cmpfloat (g.steps_plot.x, >, g.views.x + g.views.w);

      /* over steps: measured 0.5 before the change, nothing in the gap, 0.1 after */
      double x50 = cl_plot_scale_map (&g.steps_x, 50), x110 = cl_plot_scale_map (&g.steps_x, 110);
      double x160 = cl_plot_scale_map (&g.steps_x, 160);
      g_assert_cmpint (count_near_point (&im, measured, x50, cl_plot_scale_map (&g.steps_y, 0.5), 2, tol), >, 0);
      g_assert_cmpint (count_in_column (&im, measured, x110, g.steps_plot.y, g.steps_plot.y + g.steps_plot.h, tol), ==,
                       0);
      g_assert_cmpint (count_near_point (&im, measured, x160, cl_plot_scale_map (&g.steps_y, 0.1), 2, tol), >, 0);
      /* and no measured line where the data are not: at 0.5 after the change */
      g_assert_cmpint (count_near_point (&im, measured, x160, cl_plot_scale_map (&g.steps_y, 0.5), 3, tol), ==, 0);
      /* theory: dashed at p(10, 256) = 0.22 before, p(14, 256) = 0.0155 after */
      g_assert_cmpint (count_near_point (&im, theory, x50, cl_plot_scale_map (&g.steps_y, 0.2209), 8, tol), >, 0);
      g_assert_cmpint (count_near_point (&im, theory, x160, cl_plot_scale_map (&g.steps_y, 0.0155), 8, tol), >, 0);
      g_assert_cmpint (count_near_point (&im, theory, x50, cl_plot_scale_map (&g.steps_y, 0.0155), 3, tol), ==, 0);

      /* against n: the theory curve near 1 at n = 4 and at 0.06 at n = 12 */
      double x4 = cl_plot_scale_map (&g.bits_x, 4), x12 = cl_plot_scale_map (&g.bits_x, 12);
      /* (dashed: look a dash length either side) */
      g_assert_cmpint (count_near_point (&im, theory, x4, cl_plot_scale_map (&g.bits_y, 0.999), 5, tol), >, 0);
      g_assert_cmpint (count_near_point (&im, theory, x12, cl_plot_scale_map (&g.bits_y, 0.0604), 6, tol), >, 0);
      g_assert_cmpint (count_in_column (&im, theory, x12, g.bits_plot.y, cl_plot_scale_map (&g.bits_y, 0.3), tol), ==,
                       0);
      /* log2(256) = 8 marked across the plot */
      double x8 = cl_plot_scale_map (&g.bits_x, 8);
      g_assert_cmpint (count_in_column (&im, cl_plot_color_marker (), x8, g.bits_plot.y + 0.3 * g.bits_plot.h,
                                        g.bits_plot.y + 0.7 * g.bits_plot.h, 0.08),
                       >, 5);
      /* the run's n = 14: measured mean of the latest rows (0.1) as a point */
      double x14 = cl_plot_scale_map (&g.bits_x, 14);
      g_assert_cmpint (count_near_point (&im, measured, x14, cl_plot_scale_map (&g.bits_y, 0.1), 2, tol), >, 4);
      image_free (&im);
    }

  /* Without a meter the views take the whole width. */
  cairo_t *cr;
  Image im = image_new (900, 420, 1, &cr);
  ClViewsPlotLayout g_full, g_meter;
  m.show = FALSE;
  cl_views_plot_draw_full (cr, 900, 420, NULL, &m, &g_full);
  m.show = TRUE;
  cl_views_plot_draw_full (cr, 900, 420, NULL, &m, &g_meter);
  image_finish (&im, cr);
  g_assert_false (g_full.shown);
  g_assert_cmpfloat (g_full.views.w, >, g_meter.views.w + 200);
  image_free (&im);
}

/* A randbits run without bits (the default preset): no empty over-steps chart and no "n/a", but a
 * note saying what would be measured, why nothing is, and which control to move; the theory
 * against n stays, without a run point at n = 0. Once bits were measured, their history shows. */
static void
test_meter_without_bits (void)
{
  static ClMetricRow rows[N_ROWS];
  ClEvent event;
  ClCollisionMeter m;
  meter_fixture (rows, &event, &m);
  for (int i = 0; i < N_ROWS; i++)
    rows[i].code_collision = NAN;
  m.bits = 0;
  m.events = NULL;
  m.n_events = 0;
  const char *note = cl_views_plot_meter_note (&m);
  g_assert_nonnull (note);
  g_assert_nonnull (strstr (note, "data.bits = 0"));
  g_assert_nonnull (strstr (note, "Raise Random bits per image"));
  cairo_t *cr;
  Image im = image_new (900, 420, 1.0, &cr);
  ClViewsPlotLayout g;
  cl_views_plot_draw_full (cr, 900, 420, NULL, &m, &g);
  image_finish (&im, cr);
  save_png (&im, "views-meter-no-bits.png");
  g_assert_true (g.shown);
  g_assert_cmpfloat (g.steps_plot.w, ==, 0); /* no over-steps chart */
  g_assert_cmpfloat (g.bits_plot.w, >, 150); /* the theory against n */
  /* no run point on the curve at n = 0 (theory 1.0 there: "every image shares the empty code") */
  double x0 = cl_plot_scale_map (&g.bits_x, 0);
  ClRgb theory = cl_views_plot_theory_color ();
  g_assert_cmpint (count_near_point (&im, theory, x0 + 1, cl_plot_scale_map (&g.bits_y, 1.0) + 5, 2, 0.12), ==, 0);
  image_free (&im);
  /* bits measured earlier in the run: the history, not the note */
  rows[10].code_collision = 0.5f;
  g_assert_null (cl_views_plot_meter_note (&m));
  rows[10].code_collision = NAN;
  m.bits = 8;
  g_assert_null (cl_views_plot_meter_note (&m));
}

static void
test_meter_from_snapshot (void)
{
  ClMetricRow *rows = g_new0 (ClMetricRow, 3);
  for (int i = 0; i < 3; i++)
    {
      rows[i].step = i + 1;
      rows[i].code_collision = 0.25f;
    }
  ClSnapshot *s = cl_snapshot_new_from_rows (rows, 3, NULL, 0, NULL, 0, NULL, 0, config_text ("randbits", 10, 512));
  ClCollisionMeter m;
  cl_views_plot_meter_from_snapshot (&m, s);
  g_assert_true (m.show);
  g_assert_cmpint (m.batch, ==, 512);
  g_assert_cmpint (m.bits, ==, 10);
  g_assert_cmpint (m.n_rows, ==, 3);
  /* the whole figure draws from the snapshot */
  cairo_t *cr;
  Image im = image_new (900, 420, 1, &cr);
  cl_views_plot_draw_snapshot (cr, 900, 420, s);
  image_finish (&im, cr);
  image_free (&im);
  cl_snapshot_unref (s);

  s = cl_snapshot_new_from_rows (NULL, 0, NULL, 0, NULL, 0, NULL, 0, config_text ("overlay", 0, 256));
  cl_views_plot_meter_from_snapshot (&m, s);
  g_assert_false (m.show);
  cl_snapshot_unref (s);
  cl_views_plot_meter_from_snapshot (&m, NULL);
  g_assert_false (m.show);
}

/* Device rows at the bottom of im with nothing drawn on them (every pixel the background). */
static int
empty_rows_at_bottom (const Image *im)
{
  ClRgb bg = cl_plot_color_background ();
  for (int y = im->height - 1; y >= 0; y--)
    for (int x = 0; x < im->width; x++)
      if (color_distance (pixel_at (im, x, y), bg) > 0.05)
        return im->height - 1 - y;
  return im->height;
}

/* The Views figure exported as its export size says: without bit planes (no strip, no meter) it
 * ends under the views' note instead of leaving an empty band under them; with the meter it keeps
 * its size and the meter reaches the bottom. The export and the screen draw the same layout: at a
 * taller size (a window) the views are as large and sit in the middle. */
static void
test_export_tight (void)
{
  static const struct
  {
    const char *kind;
    int bits;
    gboolean tight;
  } cases[] = { { "overlay", 0, TRUE }, { "two-objects", 0, TRUE }, { "randbits", 8, FALSE } };
  int nominal_w, nominal_h;
  cl_figure_export_size (CL_FIGURE_VIEWS, &nominal_w, &nominal_h);
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      ClSnapshot *s = snapshot_with_views (cases[c].kind, cases[c].bits);
      int w, h;
      cl_figure_export_size_for (CL_FIGURE_VIEWS, s, &w, &h);
      g_assert_cmpint (w, ==, nominal_w);
      if (cases[c].tight)
        {
          g_assert_cmpint (h, <, nominal_h - 40);
          g_assert_cmpint (h, >, 200);
        }
      else
        g_assert_cmpint (h, ==, nominal_h);
      for (int si = 0; si < 2; si++)
        {
          double scale = si == 0 ? 1.0 : 2.0;
          Image im;
          IMAGE_DRAW (im, w, h, scale, cl_figure_draw (CL_FIGURE_VIEWS, cr, w, h, s));
          if (si == 0)
            save_png (&im, cases[c].tight ? "views-tight.png" : "views-meter-bits.png");
          int empty = empty_rows_at_bottom (&im);
          g_test_message ("%s, %d bits, %dx%d at %gx: %d empty rows at the bottom", cases[c].kind, cases[c].bits, w, h,
                          scale, empty);
          /* the bottom margin and a note's descent, nothing like a band */
          g_assert_cmpint (empty, <=, (int) (14 * scale));
          image_free (&im);
        }
      if (cases[c].tight)
        {
          /* the same views at the export size and in a taller window: as large, and centred there */
          ClCollisionMeter meter;
          cl_views_plot_meter_from_snapshot (&meter, s);
          g_assert_false (meter.show);
          ClViewsPlotLayout at_export, in_window;
          cairo_t *cr;
          Image im = image_new (w, 600, 1, &cr);
          cl_views_plot_draw_full (cr, w, h, &s->preview, &meter, &at_export);
          cl_views_plot_draw_full (cr, w, 600, &s->preview, &meter, &in_window);
          image_finish (&im, cr);
          image_free (&im);
          g_assert_cmpfloat (fabs (at_export.views_drawn.h - in_window.views_drawn.h), <, 0.5);
          g_assert_cmpfloat (fabs (at_export.views_drawn.y - at_export.views.y), <, 1.0);
          double above = in_window.views_drawn.y - in_window.views.y;
          double below = in_window.views.y + in_window.views.h - (in_window.views_drawn.y + in_window.views_drawn.h);
          g_assert_cmpfloat (above, >, 100);
          g_assert_cmpfloat (fabs (above - below), <, 2.0); /* centred to a whole pixel */
        }
      cl_snapshot_unref (s);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/views/meter-pixels", test_meter_pixels);
  g_test_add_func ("/figures/views/meter-without-bits", test_meter_without_bits);
  g_test_add_func ("/figures/views/meter-from-snapshot", test_meter_from_snapshot);
  g_test_add_func ("/figures/views/export-tight", test_export_tight);
  return g_test_run ();
}
