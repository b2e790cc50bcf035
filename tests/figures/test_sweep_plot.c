/* The Views figure's collision meter and the sweep figure: the theory against the paper's
 * numbers and a simulation, and pixels where the data say they must be. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/figures/pixel_points.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_sweep_plot.h"
#include "ui/plots/cl_views_plot.h"

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
  g_autoptr (ClSweepGrid) grid =
      cl_sweep_grid_new_from_text (&base, "data.bits=0,5,10,15,20 loss.temperature=0.05,0.1,0.2", &error);
  g_assert_no_error (error);
  /* the official MNIST table (paper.md 3.3), [bits][tau]; the last 4 points not run yet */
  const double table[5][3] = { { 0.899, 0.892, 0.900 },
                               { 0.706, 0.612, 0.330 },
                               { 0.330, 0.187, 0.104 },
                               { 0.143, 0.098, 0.100 },
                               { 0.099, 0.103, 0.099 } };
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
  ClSweepPlotLayout g;
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
  g_assert_cmpint (count_near_point (&im, cl_sweep_plot_series_color (0), 0.5 * (x0 + x1), 0.5 * (y0 + y1), 2, 0.15), >,
                   2);
  /* no line from the last tau = 0.2 point (bits 10) onward: bits 15 is not done */
  double x15 = cl_plot_scale_map (&g.x, 12.5);
  int above_chance =
      count_in_column (&im, cl_sweep_plot_series_color (2), x15, g.plot.y, cl_plot_scale_map (&g.y, 0.1) - 6, 0.15);
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

/* train.seed swept with data.bits and loss.temperature: the seeds are aggregated into means
 * with +- std error bars; x = bits, series = temperatures. */
static void
test_sweep_seeds (void)
{
  ClConfig base;
  cl_config_init (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid =
      cl_sweep_grid_new_from_text (&base, "data.bits=0,10 loss.temperature=0.1,0.5 train.seed=1,2,3", &error);
  g_assert_no_error (error);
  int n_points = cl_sweep_grid_n_points (grid);
  g_assert_cmpint (n_points, ==, 12);
  /* accuracy = 0.8 - 0.4 * (bits index) + 0.1 * (temperature index) + 0.02 * (seed index - 1): the
   * mean over seeds is the seed-2 value, the sample std exactly 0.02 */
  ClSweepRow rows[12];
  int n = 0;
  for (int p = 0; p < n_points; p++)
    {
      int b = cl_sweep_grid_value_index (grid, p, 0), t = cl_sweep_grid_value_index (grid, p, 1);
      int seed = cl_sweep_grid_value_index (grid, p, 2);
      if (b == 1 && t == 1 && seed == 2)
        continue; /* the last seed of one point not run yet */
      rows[n++] = done_row (p, 0.8 - 0.4 * b + 0.1 * t + 0.02 * (seed - 1));
    }
  g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (grid, rows, n, "class", -1);
  g_assert_cmpint (d->n_x, ==, 2);
  g_assert_cmpint (d->n_series, ==, 2);
  g_assert_cmpstr (d->x_key, ==, "data.bits");
  g_assert_cmpstr (d->series_key, ==, "loss.temperature");
  g_assert_nonnull (d->errors);
  g_assert_cmpint (d->n_seeds, ==, 3);
  g_assert_nonnull (strstr (d->note, "over 3 seeds"));
  for (int x = 0; x < 2; x++)
    for (int t = 0; t < 2; t++)
      {
        double mean = d->values[x * 2 + t], std = d->errors[x * 2 + t];
        if (x == 1 && t == 1)
          {
            /* two seeds: 0.48 and 0.5 */
            g_assert_cmpfloat (fabs (mean - 0.49), <, 1e-5);
            g_assert_cmpfloat (fabs (std - 0.02 / sqrt (2.0)), <, 1e-5);
            continue;
          }
        g_assert_cmpfloat (fabs (mean - (0.8 - 0.4 * x + 0.1 * t)), <, 1e-5);
        g_assert_cmpfloat (fabs (std - 0.02), <, 1e-5);
      }

  cairo_t *cr;
  Image im = image_new (CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, 1, &cr);
  ClSweepPlotLayout g;
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, d, &g);
  image_finish (&im, cr);
  save_png (&im, "sweep-seeds.png");
  g_assert_true (g.lines);
  /* the error bar's caps at mean +- std in the series' colour, a little off the point */
  for (int t = 0; t < 2; t++)
    {
      double px, py;
      g_assert_true (cl_sweep_plot_point (&g, d, 0, t, &px, &py));
      double top = cl_plot_scale_map (&g.y, d->values[t] + d->errors[t]);
      double bottom = cl_plot_scale_map (&g.y, d->values[t] - d->errors[t]);
      g_assert_cmpfloat (py - top, >, 4.0); /* a bar tall enough to see */
      ClRgb c = cl_sweep_plot_series_color (t);
      g_assert_cmpint (count_near_point (&im, c, px + 4.0, top, 1.5, 0.25), >, 1);
      save_png (&im, "sweep-seeds.png");
      g_assert_cmpint (count_near_point (&im, c, px + 4.0, bottom, 1.5, 0.25), >, 1);
    }

  /* without the seed axis there are no error bars */
  g_autoptr (ClSweepGrid) plain = cl_sweep_grid_new_from_text (&base, "data.bits=0,10", &error);
  g_assert_no_error (error);
  ClSweepRow prow[2] = { done_row (0, 0.8), done_row (1, 0.4) };
  g_autoptr (ClSweepPlotData) dp = cl_sweep_plot_data_new (plain, prow, 2, NULL, -1);
  g_assert_null (dp->errors);
  image_free (&im);

  /* one key and the seeds: every target is a series of means, and on overlay data class and
   * background (the same labels) are one line "class = background" (both names in the legend,
   * none without a line) */
  g_autoptr (ClSweepGrid) pools =
      cl_sweep_grid_new_from_text (&base, "data.pool=1,16,256,4096 train.seed=1,2,3", &error);
  g_assert_no_error (error);
  ClSweepRow orows[12];
  for (int p = 0; p < 12; p++)
    {
      int x = cl_sweep_grid_value_index (pools, p, 0), seed = cl_sweep_grid_value_index (pools, p, 1);
      ClSweepRow *r = &orows[p];
      memset (r, 0, sizeof *r);
      r->point = p;
      r->state = CL_SWEEP_POINT_DONE;
      const char *names[] = { "class", "background", "overlay", "background_fixed" };
      /* background_fixed (glyph 0 on every image) is background at pool 1 only */
      const double acc[] = { 0.78 - 0.01 * x + 0.002 * seed, 0.78 - 0.01 * x + 0.002 * seed, 1.0 - 0.05 * x,
                             0.78 + 0.002 * seed };
      r->n_targets = 4;
      for (int k = 0; k < 4; k++)
        {
          g_strlcpy (r->target[k], names[k], sizeof r->target[k]);
          r->accuracy[k] = (float) acc[k];
          r->chance[k] = k == 2 ? 1.0f / 16 : 0.1f;
        }
    }
  g_autoptr (ClSweepPlotData) dov = cl_sweep_plot_data_new (pools, orows, 12, NULL, -1);
  g_assert_cmpint (dov->n_x, ==, 4);
  g_assert_cmpint (dov->n_series, ==, 3);
  g_assert_cmpstr (dov->series_labels[0], ==, "class = background");
  g_assert_cmpstr (dov->series_labels[1], ==, "overlay");
  g_assert_cmpstr (dov->series_labels[2], ==, "background_fixed");
  g_assert_null (dov->series_labels[3]);
  g_assert_cmpfloat (dov->series_reference[1], ==, 1.0f / 16);
  for (int x = 0; x < 4; x++)
    {
      g_assert_cmpfloat (fabs (dov->values[x * 3 + 0] - (0.78 - 0.01 * x + 0.002)), <, 1e-5);
      g_assert_cmpfloat (fabs (dov->values[x * 3 + 1] - (1.0 - 0.05 * x)), <, 1e-5);
      g_assert_cmpfloat (fabs (dov->values[x * 3 + 2] - 0.782), <, 1e-5);
      g_assert_cmpfloat (fabs (dov->errors[x * 3 + 0] - 0.002), <, 1e-5);
      g_assert_cmpfloat (dov->errors[x * 3 + 1], ==, 0.0);
    }
  /* each target keeps the colour of its place among the targets, as in the probe figure */
  g_assert_nonnull (dov->series_colors);
  g_assert_cmpint (dov->series_colors[0], ==, 0);
  g_assert_cmpint (dov->series_colors[1], ==, 2);
  g_assert_cmpint (dov->series_colors[2], ==, 3);
  im = image_new (CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, 1, &cr);
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, dov, &g);
  image_finish (&im, cr);
  save_png (&im, "sweep-overlay.png");
  for (int x = 0; x < 4; x++)
    {
      double px, py;
      g_assert_true (cl_sweep_plot_point (&g, dov, x, 1, &px, &py));
      g_assert_cmpint (count_near_point (&im, cl_sweep_plot_series_color (2), px, py, 2, 0.15), >, 6);
    }
  /* background's place (1) has no colour in the figure: no line, no legend swatch */
  g_assert_cmpint (count_near_point (&im, cl_sweep_plot_series_color (1), CL_SWEEP_PLOT_WIDTH / 2.0,
                                     CL_SWEEP_PLOT_HEIGHT / 2.0, CL_SWEEP_PLOT_WIDTH, 0.1),
                   ==, 0);
  image_free (&im);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/sweep/figure", test_sweep_plot);
  g_test_add_func ("/figures/sweep/seeds", test_sweep_seeds);
  return g_test_run ();
}
