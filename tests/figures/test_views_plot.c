/* The Views figure's collision meter and the sweep figure: the theory against the paper's
 * numbers and a simulation, and pixels where the data say they must be. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/figures/plot_pixels.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_sweep_plot.h"
#include "ui/plots/cl_views_plot.h"

/* Pixels within (radius) user units of (x, y) close to colour c. */
static int
count_near_point (const Image *im, ClRgb c, double x, double y, double radius, double tolerance)
{
  int n = 0;
  for (double dy = -radius; dy <= radius; dy += 1.0 / im->scale)
    for (double dx = -radius; dx <= radius; dx += 1.0 / im->scale)
      {
        double px = x + dx, py = y + dy;
        if (px < 0 || py < 0 || px * im->scale >= im->width || py * im->scale >= im->height)
          continue;
        if (color_distance (user_pixel (im, px, py), c) < tolerance)
          n++;
      }
  return n;
}

/* Pixels of colour c in the column x between y0 and y1. */
static int
count_in_column (const Image *im, ClRgb c, double x, double y0, double y1, double tolerance)
{
  int n = 0;
  for (double y = y0; y <= y1; y += 1.0 / im->scale)
    if (color_distance (user_pixel (im, x, y), c) < tolerance)
      n++;
  return n;
}

static void
save_png (const Image *im, const char *name)
{
  const char *dir = g_getenv ("CL_TEST_PNG_DIR");
  if (!dir)
    return;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  g_assert_true (cl_png_write_surface (path, im->surface, NULL, 0, &error));
  g_assert_no_error (error);
}

static void
test_theory (void)
{
  /* paper.md section 3.3, computed there independently: B = 1000 and B = 256 */
  struct { int n, b; double p; } ref[] = {
    { 5, 1000, 1.00 }, { 8, 1000, 0.98 }, { 10, 1000, 0.62 }, { 12, 1000, 0.22 }, { 15, 1000, 0.03 },
    { 8, 256, 0.63 },  { 10, 256, 0.22 }, { 12, 256, 0.06 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ref); i++)
    g_assert_cmpfloat (fabs (cl_views_plot_collision_theory (ref[i].n, ref[i].b) - ref[i].p), <=, 0.005);
  g_assert_cmpfloat (cl_views_plot_collision_theory (0, 256), ==, 1.0);
  g_assert_cmpfloat (cl_views_plot_collision_theory (10, 1), ==, 0.0);
  g_assert_cmpfloat (cl_views_plot_collision_theory (24, 256), >, 0);
  g_assert_cmpfloat (cl_views_plot_collision_theory (24, 256), <, 2e-5);

  /* A simulation of uniform codes agrees: B = 64, n = 6 (p = 0.630). */
  GRand *rand = g_rand_new_with_seed (7);
  int batch = 64, bits = 6, trials = 3000, shared = 0;
  int counts[64];
  guint32 codes[64];
  for (int t = 0; t < trials; t++)
    {
      memset (counts, 0, sizeof counts);
      for (int i = 0; i < batch; i++)
        counts[codes[i] = g_rand_int_range (rand, 0, 1 << bits)]++;
      for (int i = 0; i < batch; i++)
        shared += counts[codes[i]] > 1;
    }
  g_rand_free (rand);
  double sim = (double) shared / ((double) trials * batch);
  g_test_message ("simulated %.4f, theory %.4f", sim, cl_views_plot_collision_theory (bits, batch));
  /* 192000 anchors, correlated within a batch: sd well under 0.005 */
  g_assert_cmpfloat (fabs (sim - cl_views_plot_collision_theory (bits, batch)), <, 0.01);
}

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
      ClViewsPlotGeometry g;
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
      g_assert_cmpint (count_in_column (&im, measured, x110, g.steps_plot.y, g.steps_plot.y + g.steps_plot.h, tol), ==, 0);
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
      g_assert_cmpint (count_in_column (&im, theory, x12, g.bits_plot.y, cl_plot_scale_map (&g.bits_y, 0.3), tol), ==, 0);
      /* log2(256) = 8 marked across the plot */
      double x8 = cl_plot_scale_map (&g.bits_x, 8);
      g_assert_cmpint (count_in_column (&im, cl_plot_color_marker (), x8, g.bits_plot.y + 0.3 * g.bits_plot.h,
                                        g.bits_plot.y + 0.7 * g.bits_plot.h, 0.08), >, 5);
      /* the run's n = 14: measured mean of the latest rows (0.1) as a point */
      double x14 = cl_plot_scale_map (&g.bits_x, 14);
      g_assert_cmpint (count_near_point (&im, measured, x14, cl_plot_scale_map (&g.bits_y, 0.1), 2, tol), >, 4);
      image_free (&im);
    }

  /* Without a meter the views take the whole width. */
  cairo_t *cr;
  Image im = image_new (900, 420, 1, &cr);
  ClViewsPlotGeometry g_full, g_meter;
  m.show = FALSE;
  cl_views_plot_draw_full (cr, 900, 420, NULL, &m, &g_full);
  m.show = TRUE;
  cl_views_plot_draw_full (cr, 900, 420, NULL, &m, &g_meter);
  image_finish (&im, cr);
  g_assert_false (g_full.shown);
  g_assert_cmpfloat (g_full.views.w, >, g_meter.views.w + 200);
  image_free (&im);
}

static char *
config_text (const char *kind, int bits, int batch)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  g_autofree char *b = g_strdup_printf ("%d", bits), *n = g_strdup_printf ("%d", batch);
  g_assert_true (cl_config_set (&cfg, "data.kind", kind, &error));
  g_assert_true (cl_config_set (&cfg, "data.bits", b, &error));
  g_assert_true (cl_config_set (&cfg, "train.batch", n, &error));
  return cl_config_to_ini (&cfg);
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

/* ------------------------------------------------------------ sweep figure */

static ClSweepRow
done_row (int point, double class_acc)
{
  ClSweepRow r;
  memset (&r, 0, sizeof r);
  r.point = point;
  r.state = CL_SWEEP_POINT_DONE;
  r.n_targets = 1;
  g_strlcpy (r.target[0], "class", sizeof r.target[0]);
  r.accuracy[0] = (float) class_acc;
  r.chance[0] = 0.1f;
  return r;
}

static void
test_sweep_plot (void)
{
  ClConfig base;
  cl_config_init (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid
      = cl_sweep_grid_new_from_text (&base, "data.bits=0,5,10,15,20 loss.temperature=0.05,0.1,0.2", &error);
  g_assert_no_error (error);
  /* the official MNIST table (paper.md 3.3), [bits][tau]; the last 4 points not run yet */
  const double table[5][3] = { { 0.899, 0.892, 0.900 }, { 0.706, 0.612, 0.330 }, { 0.330, 0.187, 0.104 },
                               { 0.143, 0.098, 0.100 }, { 0.099, 0.103, 0.099 } };
  ClSweepRow rows[15];
  int n = 0;
  for (int p = 0; p < 11; p++)
    rows[n++] = done_row (p, table[p / 3][p % 3]);
  g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (grid, rows, n, NULL, 11);
  g_assert_cmpint (d->n_x, ==, 5);
  g_assert_cmpint (d->n_series, ==, 3);
  g_assert_nonnull (d->x_values);
  g_assert_cmpfloat (d->x_values[3], ==, 15);
  g_assert_cmpstr (d->series_labels[2], ==, "0.2");
  g_assert_cmpstr (d->series_key, ==, "loss.temperature");
  g_assert_cmpfloat (d->reference, ==, 0.1f);
  g_assert_cmpint (d->running_x, ==, 3);
  g_assert_cmpint (d->running_series, ==, 2);
  g_assert_cmpstr (d->note, ==, "11 of 15 points");
  g_assert_true (isnan (d->values[3 * 3 + 2]));

  cairo_t *cr;
  Image im = image_new (CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, 1, &cr);
  ClSweepPlotGeometry g;
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, d, &g);
  image_finish (&im, cr);
  save_png (&im, "sweep-live.png");
  g_assert_true (g.lines);
  for (int x = 0; x < 5; x++)
    for (int s = 0; s < 3; s++)
      {
        double px, py;
        gboolean has = cl_sweep_plot_point (&g, d, x, s, &px, &py);
        g_assert_cmpint (has, ==, x * 3 + s < 11);
        if (!has)
          continue;
        /* the point sits at its value */
        g_assert_cmpfloat (fabs (py - cl_plot_scale_map (&g.y, table[x][s])), <, 1e-3); /* stored as float */
        /* unless a later series' point covers it (bits 0: 0.899 / 0.892 / 0.900) */
        gboolean covered = FALSE;
        for (int s2 = s + 1; s2 < 3; s2++)
          {
            double qx, qy;
            if (cl_sweep_plot_point (&g, d, x, s2, &qx, &qy) && fabs (qy - py) < 8)
              covered = TRUE;
          }
        if (!covered)
          g_assert_cmpint (count_near_point (&im, cl_sweep_plot_series_color (s), px, py, 2, 0.15), >, 6);
      }
  /* tau = 0.05 is drawn as a line between bits 0 and 5: its midpoint is on the segment */
  double x0, y0, x1, y1;
  g_assert_true (cl_sweep_plot_point (&g, d, 0, 0, &x0, &y0));
  g_assert_true (cl_sweep_plot_point (&g, d, 1, 0, &x1, &y1));
  g_assert_cmpint (count_near_point (&im, cl_sweep_plot_series_color (0), 0.5 * (x0 + x1), 0.5 * (y0 + y1), 2, 0.15), >, 2);
  /* no line from the last tau = 0.2 point (bits 10) onward: bits 15 is not done */
  double x15 = cl_plot_scale_map (&g.x, 12.5);
  int above_chance = count_in_column (&im, cl_sweep_plot_series_color (2), x15, g.plot.y,
                                      cl_plot_scale_map (&g.y, 0.1) - 6, 0.15);
  g_assert_cmpint (above_chance, ==, 0);
  image_free (&im);

  /* One key: every target is a line; class equal to large everywhere is one line "class = large". */
  g_autoptr (ClSweepGrid) sizes = cl_sweep_grid_new_from_text (&base, "data.big_size=14,28,42,56", &error);
  g_assert_no_error (error);
  ClSweepRow srows[3];
  const double small_acc[3] = { 0.6, 0.45, 0.3 }, large_acc[3] = { 0.5, 0.7, 0.8 };
  for (int p = 0; p < 3; p++)
    {
      memset (&srows[p], 0, sizeof srows[p]);
      srows[p].point = p;
      srows[p].state = CL_SWEEP_POINT_DONE;
      srows[p].n_targets = 3;
      const char *names[] = { "class", "small", "large" };
      const double acc[] = { large_acc[p], small_acc[p], large_acc[p] };
      for (int k = 0; k < 3; k++)
        {
          g_strlcpy (srows[p].target[k], names[k], sizeof srows[p].target[k]);
          srows[p].accuracy[k] = (float) acc[k];
          srows[p].chance[k] = k == 1 ? 0.12f : 0.1f;
        }
    }
  g_autoptr (ClSweepPlotData) ds = cl_sweep_plot_data_new (sizes, srows, 3, NULL, 3);
  g_assert_cmpint (ds->n_series, ==, 2);
  g_assert_cmpstr (ds->series_labels[0], ==, "class = large");
  g_assert_cmpstr (ds->series_labels[1], ==, "small");
  g_assert_null (ds->series_key);
  g_assert_nonnull (ds->series_reference);
  g_assert_cmpfloat (ds->series_reference[1], ==, 0.12f);
  g_assert_cmpfloat (ds->values[2 * 2 + 1], ==, (float) 0.3);
  g_assert_true (isnan (ds->values[3 * 2 + 0]));
  g_assert_cmpint (ds->running_x, ==, 3);
  im = image_new (CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, 1, &cr);
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, ds, &g);
  image_finish (&im, cr);
  save_png (&im, "sweep-targets.png");
  for (int p = 0; p < 3; p++)
    {
      double px, py;
      g_assert_true (cl_sweep_plot_point (&g, ds, p, 1, &px, &py));
      g_assert_cmpint (count_near_point (&im, cl_sweep_plot_series_color (1), px, py, 2, 0.15), >, 6);
    }
  image_free (&im);
  /* an explicit target is one line */
  g_autoptr (ClSweepPlotData) d_small = cl_sweep_plot_data_new (sizes, srows, 3, "small", -1);
  g_assert_cmpint (d_small->n_series, ==, 1);
  g_assert_null (d_small->series_reference);
  g_assert_cmpfloat (d_small->reference, ==, 0.12f);

  /* Pool sizes 1, 16, 256, 4096: a log axis, the points evenly spaced. */
  g_autoptr (ClSweepGrid) pools = cl_sweep_grid_new_from_text (&base, "data.pool=1,16,256,4096", &error);
  g_assert_no_error (error);
  ClSweepRow prow[4];
  for (int p = 0; p < 4; p++)
    prow[p] = done_row (p, 0.8 - 0.05 * p);
  g_autoptr (ClSweepPlotData) dp = cl_sweep_plot_data_new (pools, prow, 4, NULL, -1);
  g_assert_true (dp->x_log);
  im = image_new (CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, 1, &cr);
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, dp, &g);
  image_finish (&im, cr);
  save_png (&im, "sweep-log.png");
  double px[4], py;
  for (int p = 0; p < 4; p++)
    g_assert_true (cl_sweep_plot_point (&g, dp, p, 0, &px[p], &py));
  g_assert_cmpfloat (fabs ((px[1] - px[0]) - (px[3] - px[2])), <, 1e-6);
  g_assert_cmpfloat (px[1] - px[0], >, 100);
  image_free (&im);
  /* 0, 5, 10, ... stays linear */
  g_assert_false (d->x_log);

  /* a categorical first key falls back to bars */
  g_autoptr (ClSweepGrid) kinds = cl_sweep_grid_new_from_text (&base, "loss.kind=ntxent,decoupled", &error);
  ClSweepRow two[2] = { done_row (0, 0.8), done_row (1, 0.6) };
  g_autoptr (ClSweepPlotData) dk = cl_sweep_plot_data_new (kinds, two, 2, "class", -1);
  g_assert_null (dk->x_values);
  g_assert_null (dk->note);
  im = image_new (CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, 1, &cr);
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, dk, &g);
  image_finish (&im, cr);
  g_assert_false (g.lines);
  save_png (&im, "sweep-bars.png");
  image_free (&im);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/views-plot/collision-theory", test_theory);
  g_test_add_func ("/views-plot/meter-pixels", test_meter_pixels);
  g_test_add_func ("/views-plot/meter-from-snapshot", test_meter_from_snapshot);
  g_test_add_func ("/views-plot/sweep-figure", test_sweep_plot);
  return g_test_run ();
}
