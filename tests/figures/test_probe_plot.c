/* The linear-probe figure (ui/plots/cl_probe_plot.h), checked on the pixels it draws. */
#include "ui/plots/cl_probe_plot.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#include "tests/figures/pixel_counts.h"

/* ------------------------------------------------------------ probe figure */

typedef struct
{
  ClProbeRow *rows;
  int n;
} ProbeRows;

static void
probe_add (ProbeRows *p, int64_t step, const char *target, double accuracy, double chance)
{
  ClProbeRow *r = &p->rows[p->n++];
  memset (r, 0, sizeof *r);
  r->step = step;
  g_strlcpy (r->target, target, sizeof r->target);
  r->accuracy = (float) accuracy;
  r->chance = (float) chance;
}

/* Room for capacity rows, none yet. */
static ProbeRows
probe_rows (int capacity)
{
  return (ProbeRows){ g_new0 (ClProbeRow, capacity), 0 };
}

/* Probes every 100 steps to 1000: class (0.3 untrained, then 0.8), bits (0.55, then 0.95),
 * and 24 per-bit targets at 0.65 that the figure must leave out. The class chance changes
 * from 0.2 to 0.1 at the last probe: the latest one is drawn. */
static ProbeRows
make_probes (void)
{
  ProbeRows p = probe_rows (11 * 26);
  for (int step = 0; step <= 1000; step += 100)
    {
      probe_add (&p, step, "class", step == 0 ? 0.3 : 0.8, step == 1000 ? 0.1 : 0.2);
      for (int b = 0; b < 24; b++)
        {
          char name[16];
          g_snprintf (name, sizeof name, "bit%d", b);
          probe_add (&p, step, name, 0.65, 0.5);
          if (b == 11)
            probe_add (&p, step, "bits", step == 0 ? 0.55 : 0.95, 0.5); /* interleaved */
        }
    }
  return p;
}

static Image
render_probes (double width, double height, double scale, const ClProbeRow *rows, int n_rows, const ClEvent *events,
               int n_events, const char *title, ClProbePlotLayout *g)
{
  cairo_t *cr;
  Image im = image_new (width, height, scale, &cr);
  cl_probe_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, title, g);
  image_finish (&im, cr);
  return im;
}

static void
test_probe_per_bit_names (void)
{
  g_assert_true (cl_probe_plot_is_per_bit_target ("bit0", 16));
  g_assert_true (cl_probe_plot_is_per_bit_target ("bit23", 16));
  g_assert_true (cl_probe_plot_is_per_bit_target ("bit7", 4)); /* fills the field */
  g_assert_false (cl_probe_plot_is_per_bit_target ("bits", 16));
  g_assert_false (cl_probe_plot_is_per_bit_target ("bit", 16));
  g_assert_false (cl_probe_plot_is_per_bit_target ("bitx", 16));
  g_assert_false (cl_probe_plot_is_per_bit_target ("bit1a", 16));
  g_assert_false (cl_probe_plot_is_per_bit_target ("orbit1", 16));
  g_assert_false (cl_probe_plot_is_per_bit_target ("class", 16));
  g_assert_false (cl_probe_plot_is_per_bit_target (NULL, 16));
}

static void
test_probe_series_and_chance (void)
{
  ProbeRows p = make_probes ();
  ClProbePlotLayout g;
  Image im = render_probes (900, 500, 1.0, p.rows, p.n, NULL, 0, "probes", &g);

  g_assert_cmpint (g.n_targets, ==, 2);
  g_assert_cmpstr (g.targets[0], ==, "class");
  g_assert_cmpstr (g.targets[1], ==, "bits");
  g_assert_true (g.markers); /* 11 probes on 800 px */
  g_assert_cmpfloat (g.y_ticks.lo, ==, 0.0);
  g_assert_cmpfloat (g.y_ticks.hi, ==, 1.0);
  g_assert_cmpfloat (g.x_ticks.lo, ==, 0.0);
  g_assert_cmpfloat (g.x_ticks.hi, >=, 1000.0);
  g_assert_cmpfloat_with_epsilon (g.chance[0], 0.1, 1e-6); /* the latest row's */
  g_assert_cmpfloat_with_epsilon (g.chance[1], 0.5, 1e-6);

  ClRgb c_class = cl_probe_plot_target_color (0), c_bits = cl_probe_plot_target_color (1);
  g_assert_cmpfloat (color_distance (c_class, c_bits), >, 0.3);
  double x_lo = cl_plot_scale_map (&g.x, 300.0), x_hi = cl_plot_scale_map (&g.x, 900.0);
  double y_class = cl_plot_scale_map (&g.y, 0.8), y_bits = cl_plot_scale_map (&g.y, 0.95);

  /* each line runs along its accuracy over the trained steps */
  g_assert_cmpint (columns_with (&im, c_class, 0.1, x_lo, y_class - 2, x_hi, y_class + 2), >=,
                   (int) (0.97 * (x_hi - x_lo)));
  g_assert_cmpint (columns_with (&im, c_bits, 0.1, x_lo, y_bits - 2, x_hi, y_bits + 2), >=,
                   (int) (0.97 * (x_hi - x_lo)));
  /* and nowhere else in that stretch: not at the per-bit accuracy, which is left out */
  double y_bit = cl_plot_scale_map (&g.y, 0.65);
  for (int k = 0; k < 8; k++)
    g_assert_cmpint (count_covered (&im, cl_plot_series_color (k), x_lo, y_bit - 6, x_hi, y_bit + 6), ==, 0);

  /* filled markers on the trained probes: the marker's centre is the line colour, and the
   * marker is wider than the line */
  double xm = cl_plot_scale_map (&g.x, 500.0);
  g_assert_cmpfloat (color_distance (user_pixel (&im, xm, y_class), c_class), <, 0.1);
  g_assert_cmpint (count_covered (&im, c_class, xm - 1, y_class - 6, xm + 1, y_class + 6), >=, 10);
  double xl = cl_plot_scale_map (&g.x, 450.0);
  g_assert_cmpint (count_covered (&im, c_class, xl - 1, y_class - 6, xl + 1, y_class + 6), <, 10);

  /* step 0: hollow markers, white inside a ring of the target's colour */
  double x0 = cl_plot_scale_map (&g.x, 0.0);
  double y0_class = cl_plot_scale_map (&g.y, 0.3), y0_bits = cl_plot_scale_map (&g.y, 0.55);
  g_assert_cmpfloat (color_distance (user_pixel (&im, x0, y0_class), white), <, 0.1);
  g_assert_cmpfloat (color_distance (user_pixel (&im, x0, y0_bits), white), <, 0.1);
  g_assert_cmpint (count_covered (&im, c_class, x0 - 5, y0_class - 5, x0 + 5, y0_class + 5), >=, 8);
  g_assert_cmpint (count_covered (&im, c_bits, x0 - 5, y0_bits - 5, x0 + 5, y0_bits + 5), >=, 8);

  /* chance: dashed lines across the plot in the target's colour, at the latest level only */
  double y_chance_class = cl_plot_scale_map (&g.y, 0.1), y_chance_bits = cl_plot_scale_map (&g.y, 0.5);
  double px0 = g.plot.x + 2, px1 = g.plot.x + g.plot.w - 2;
  int dashed_class = columns_with (&im, c_class, 0.1, px0, y_chance_class - 1.5, px1, y_chance_class + 1.5);
  int dashed_bits = columns_with (&im, c_bits, 0.1, px0, y_chance_bits - 1.5, px1, y_chance_bits + 1.5);
  g_test_message ("chance lines cover %d and %d of %d columns", dashed_class, dashed_bits, (int) (px1 - px0));
  g_assert_cmpint (dashed_class, >, (int) (0.4 * (px1 - px0)));
  g_assert_cmpint (dashed_class, <, (int) (0.9 * (px1 - px0)));
  g_assert_cmpint (dashed_bits, >, (int) (0.4 * (px1 - px0)));
  g_assert_cmpint (dashed_bits, <, (int) (0.9 * (px1 - px0)));
  double y_old_chance = cl_plot_scale_map (&g.y, 0.2);
  g_assert_cmpint (count_covered (&im, c_class, px0, y_old_chance - 3, px1, y_old_chance + 3), ==, 0);

  image_free (&im);
  g_free (p.rows);
}

/* Chance lines on the same row interleave their dashes: both colours stay visible. */
static void
test_probe_shared_chance (void)
{
  ClProbeRow rows[4];
  ProbeRows p = { rows, 0 };
  probe_add (&p, 0, "class", 0.4, 0.1);
  probe_add (&p, 0, "small", 0.3, 0.1);
  probe_add (&p, 500, "class", 0.8, 0.1);
  probe_add (&p, 500, "small", 0.6, 0.1);
  ClProbePlotLayout g;
  Image im = render_probes (800, 450, 1.0, rows, 4, NULL, 0, NULL, &g);
  g_assert_cmpint (g.n_targets, ==, 2);
  double y = cl_plot_scale_map (&g.y, 0.1);
  double x0 = g.plot.x + 2, x1 = g.plot.x + g.plot.w - 2;
  int a = columns_with (&im, cl_probe_plot_target_color (0), 0.1, x0, y - 1.5, x1, y + 1.5);
  int b = columns_with (&im, cl_probe_plot_target_color (1), 0.1, x0, y - 1.5, x1, y + 1.5);
  g_test_message ("shared chance row: %d and %d of %d columns", a, b, (int) (x1 - x0));
  g_assert_cmpint (a, >, (int) (0.25 * (x1 - x0)));
  g_assert_cmpint (b, >, (int) (0.25 * (x1 - x0)));
  image_free (&im);
}

static void
test_probe_events (void)
{
  ProbeRows p = make_probes ();
  ClEvent events[2] = { make_event (400, "data.bits", "0", "10"), make_event (700, "loss.temperature", "0.2", "0.1") };
  ClProbePlotLayout g;
  Image im = render_probes (900, 500, 1.0, p.rows, p.n, events, 2, "probes", &g);
  ClRgb marker = cl_plot_color_marker ();
  g_assert_cmpint (g.events_labelled, ==, 2);
  g_assert_cmpfloat (g.event_band.h, >, 5.0);
  g_assert_cmpfloat (g.event_band.y + g.event_band.h, <=, g.plot.y);
  for (int e = 0; e < 2; e++)
    {
      double x = cl_plot_scale_map (&g.x, (double) events[e].step);
      /* dashed, under the lines: a good part of the column, not all of it */
      long on = count_near (&im, marker, 0.08, x - 1, g.plot.y, x + 1, g.plot.y + g.plot.h);
      g_assert_cmpint (on, >, (long) (g.plot.h / 3));
      g_assert_cmpint (on, <, (long) (0.9 * g.plot.h));
      g_assert_cmpint (
          count_near (&im, cl_plot_color_text (), 0.3, x - 60, g.event_band.y, x + 60, g.event_band.y + g.event_band.h),
          >, 20);
    }
  double between = cl_plot_scale_map (&g.x, 550.0);
  g_assert_cmpint (count_near (&im, marker, 0.08, between - 5, g.plot.y, between + 5, g.plot.y + g.plot.h), ==, 0);
  image_free (&im);

  ClProbePlotLayout plain;
  im = render_probes (900, 500, 1.0, p.rows, p.n, NULL, 0, "probes", &plain);
  g_assert_cmpfloat (plain.event_band.h, ==, 0.0);
  g_assert_cmpfloat (plain.plot.y, <, g.plot.y); /* the band took room */
  image_free (&im);
  g_free (p.rows);
}

static void
test_probe_empty_and_odd (void)
{
  ClProbePlotLayout g;
  Image im = render_probes (700, 400, 1.0, NULL, 0, NULL, 0, NULL, &g);
  g_assert_cmpint (g.n_targets, ==, 0);
  g_assert_cmpfloat (g.plot.w, >, 400);
  g_assert_cmpfloat (g.plot.h, >, 250);
  g_assert_cmpint (g.x_ticks.n, >=, 2);
  long spine = count_near (&im, cl_plot_color_axis (), 0.1, g.plot.x - 1, g.plot.y, g.plot.x + 1, g.plot.y + g.plot.h);
  g_assert_cmpint (spine, >, (long) (0.9 * g.plot.h));
  double cx = g.plot.x + 0.5 * g.plot.w, cy = g.plot.y + 0.5 * g.plot.h;
  g_assert_cmpint (count_near (&im, cl_plot_color_muted (), 0.12, cx - 100, cy - 10, cx + 100, cy + 10), >, 30);
  for (int k = 0; k < 8; k++)
    g_assert_cmpint (count_covered (&im, cl_plot_series_color (k), g.plot.x + 2, g.plot.y + 2, g.plot.x + g.plot.w - 2,
                                    g.plot.y + g.plot.h - 2),
                     ==, 0);
  image_free (&im);

  /* only per-bit targets: nothing to draw, the same note */
  ClProbeRow rows[40];
  ProbeRows p = { rows, 0 };
  probe_add (&p, 0, "bit0", 0.5, 0.5);
  probe_add (&p, 0, "bit1", 0.5, 0.5);
  im = render_probes (700, 400, 1.0, rows, p.n, NULL, 0, NULL, &g);
  g_assert_cmpint (g.n_targets, ==, 0);
  image_free (&im);

  /* a lone step-0 probe: a hollow point at the left, room on the axis for what comes */
  p.n = 0;
  probe_add (&p, 0, "class", 0.35, 0.1);
  im = render_probes (700, 400, 1.0, rows, p.n, NULL, 0, NULL, &g);
  g_assert_cmpint (g.n_targets, ==, 1);
  g_assert_cmpfloat (g.x_ticks.hi, >=, 100.0);
  double x0 = cl_plot_scale_map (&g.x, 0.0), y0 = cl_plot_scale_map (&g.y, 0.35);
  g_assert_cmpfloat (color_distance (user_pixel (&im, x0, y0), white), <, 0.1);
  g_assert_cmpint (count_covered (&im, cl_probe_plot_target_color (0), x0 - 5, y0 - 5, x0 + 5, y0 + 5), >=, 8);
  image_free (&im);

  /* NaN accuracy and chance, a target name filling its field without a NUL, more targets
   * than the figure has room for, out-of-range values */
  p.n = 0;
  probe_add (&p, 0, "class", NAN, NAN);
  probe_add (&p, 100, "class", 1.7, -3);
  ClProbeRow *full = &rows[p.n++];
  memset (full, 0, sizeof *full);
  memset (full->target, 'x', sizeof full->target);
  full->step = 100;
  full->accuracy = 0.5f;
  for (int i = 0; i < 20; i++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "t%d", i);
      probe_add (&p, 200, name, 0.5, 0.1);
    }
  im = render_probes (700, 400, 1.0, rows, p.n, NULL, 0, "odd \xFF title", &g);
  g_assert_cmpint (g.n_targets, ==, CL_PROBE_PLOT_MAX_TARGETS);
  g_assert_cmpint (strlen (g.targets[1]), ==, sizeof full->target);
  g_assert_cmpfloat (g.chance[0], ==, 0.0); /* clamped */
  image_free (&im);

  /* degenerate sizes */
  cairo_surface_t *tiny = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 30, 20);
  cairo_t *cr = cairo_create (tiny);
  ProbeRows many = make_probes ();
  cl_probe_plot_draw (cr, 30, 20, many.rows, many.n, NULL, 0, "t");
  cl_probe_plot_draw (cr, 0, 0, many.rows, many.n, NULL, 0, "t");
  cl_probe_plot_draw (cr, NAN, 20, many.rows, many.n, NULL, 0, "t");
  cl_probe_plot_draw (cr, 30, INFINITY, many.rows, -5, NULL, -1, NULL);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (tiny);
  g_free (many.rows);
}

/* Dense probes (every step): lines without markers, except the baseline. */
static void
test_probe_dense (void)
{
  const int n = 2001;
  ClProbeRow *rows = g_new0 (ClProbeRow, n);
  ProbeRows p = { rows, 0 };
  for (int i = 0; i < n; i++)
    probe_add (&p, i, "class", 0.3 + 0.5 * i / (n - 1.0), 0.1);
  ClProbePlotLayout g;
  Image im = render_probes (800, 450, 1.0, rows, n, NULL, 0, NULL, &g);
  g_assert_false (g.markers);
  double x0 = cl_plot_scale_map (&g.x, 0.0), y0 = cl_plot_scale_map (&g.y, 0.3);
  g_assert_cmpfloat (color_distance (user_pixel (&im, x0, y0), white), <, 0.1);
  /* a thin line: in a column in the middle, only a few pixels of the colour */
  double xm = cl_plot_scale_map (&g.x, 1000.0);
  long column = count_covered (&im, cl_probe_plot_target_color (0), xm, g.plot.y, xm + 1, g.plot.y + g.plot.h);
  g_assert_cmpint (column, >=, 1);
  g_assert_cmpint (column, <=, 4);
  image_free (&im);
  g_free (rows);
}

static void
test_probe_scale_2x (void)
{
  ProbeRows p = make_probes ();
  ClEvent events[1] = { make_event (400, "data.bits", "0", "10") };
  ClProbePlotLayout g1, g2;
  Image one = render_probes (800, 450, 1.0, p.rows, p.n, events, 1, "probes", &g1);
  Image two = render_probes (800, 450, 2.0, p.rows, p.n, events, 1, "probes", &g2);
  g_assert_cmpfloat_with_epsilon (g1.plot.x, g2.plot.x, 1e-6);
  g_assert_cmpfloat_with_epsilon (g1.plot.y, g2.plot.y, 1e-6);
  g_assert_cmpfloat_with_epsilon (g1.plot.w, g2.plot.w, 1e-6);
  g_assert_cmpfloat_with_epsilon (g1.plot.h, g2.plot.h, 1e-6);
  g_assert_cmpfloat (g1.x_ticks.step, ==, g2.x_ticks.step);
  g_assert_cmpint (g1.markers, ==, g2.markers);
  for (int k = 0; k < 2; k++)
    {
      ClRgb c = cl_probe_plot_target_color (k);
      long n1 = count_covered (&one, c, 0, 0, 800, 450), n2 = count_covered (&two, c, 0, 0, 800, 450);
      double ratio = (double) n2 / (double) n1;
      g_test_message ("target %d: %ld px at 1x, %ld at 2x, ratio %.2f", k, n1, n2, ratio);
      g_assert_cmpfloat (ratio, >, 3.7);
      g_assert_cmpfloat (ratio, <, 4.3);
    }
  image_free (&one);
  image_free (&two);
  g_free (p.rows);
}

/* ------------------------------------------------------- the view and replicates */

static Image
render_runs (double width, double height, const ClProbeRow *rows, int n_rows, const ClProbePlotOthers *others,
             ClProbePlotLayout *g)
{
  cairo_t *cr;
  Image im = image_new (width, height, 1.0, &cr);
  cl_probe_plot_draw_runs (cr, width, height, rows, n_rows, NULL, 0, "test", others, g);
  image_finish (&im, cr);
  return im;
}

/* One class target rising 0.745 -> 0.79 over 10 probes (chance 0.1). */
static ProbeRows
small_gain (double offset)
{
  ProbeRows p = probe_rows (11);
  for (int i = 0; i <= 10; i++)
    probe_add (&p, i * 100, "class", 0.745 + 0.0045 * i + offset, 0.1);
  return p;
}

static void
test_probe_fit_y (void)
{
  ProbeRows p = small_gain (0.0);
  ClPlotView view;
  cl_plot_view_init (&view);
  ClProbePlotOthers others = { 0 };
  others.view = &view;
  ClProbePlotLayout fixed, fitted;
  Image a = render_runs (900, 500, p.rows, p.n, &others, &fixed);
  view.fit_y = TRUE;
  Image b = render_runs (900, 500, p.rows, p.n, &others, &fitted);
  g_assert_false (fixed.fitted);
  g_assert_true (fitted.fitted);
  double gain_fixed = cl_plot_scale_map (&fixed.y, 0.745) - cl_plot_scale_map (&fixed.y, 0.79);
  double gain_fitted = cl_plot_scale_map (&fitted.y, 0.745) - cl_plot_scale_map (&fitted.y, 0.79);
  g_test_message ("the gain spans %.1f px on 0..1 and %.1f px fitted (plot %.0f px)", gain_fixed, gain_fitted,
                  fitted.plot.h);
  g_assert_cmpfloat (gain_fixed, <, 0.06 * fixed.plot.h);
  g_assert_cmpfloat (gain_fitted, >, 0.5 * fitted.plot.h);
  g_assert_cmpfloat (fitted.y_ticks.lo, >=, 0.6);
  g_assert_cmpfloat (fitted.y_ticks.hi, <=, 0.9);
  /* the line is where the fitted scale says: the class colour at step 500 */
  ClRgb c = cl_probe_plot_target_color (0);
  double x = cl_plot_scale_map (&fitted.x, 500), y = cl_plot_scale_map (&fitted.y, p.rows[5].accuracy);
  g_assert_cmpint (count_near (&b, c, 0.25, x - 3, y - 3, x + 3, y + 3), >, 6);
  /* the chance line at 0.1 is off the fitted axis: not drawn */
  g_assert_cmpint (columns_with (&b, c, 0.3, fitted.plot.x, fitted.plot.y + fitted.plot.h - 4,
                                 fitted.plot.x + fitted.plot.w, fitted.plot.y + fitted.plot.h + 1),
                   <, 30);
  image_free (&a);
  image_free (&b);
  g_free (p.rows);
}

static void
test_probe_replicates_band (void)
{
  /* three seeds: the main run and two more, 0.02 apart: mean = the main run + 0.01 at every
   * step but the last, std 0.01 (sample std of x, x + 0.01, x + 0.02 is 0.01) */
  ProbeRows a = small_gain (0.0), b = small_gain (0.01), c = small_gain (0.02);
  ClProbePlotRun reps[2] = { { b.rows, b.n, NULL }, { c.rows, c.n - 1, NULL } }; /* C lacks the last probe */
  ClPlotView view;
  cl_plot_view_init (&view);
  view.fit_y = TRUE;
  view.hover_x = 480;
  ClProbePlotOthers others = { 0 };
  others.view = &view;
  others.replicates = reps;
  others.n_replicates = 2;
  ClProbePlotLayout g;
  Image im = render_runs (900, 500, a.rows, a.n, &others, &g);
  g_assert_cmpint (g.replicates, ==, 3);
  g_assert_cmpfloat (g.hover_step, ==, 500.0);
  ClRgb color = cl_probe_plot_target_color (0);
  /* the mean line at step 300 (between points) */
  double x = cl_plot_scale_map (&g.x, 350);
  double mean = 0.745 + 0.0045 * 3.5 + 0.01;
  double y_mean = cl_plot_scale_map (&g.y, mean);
  g_assert_cmpint (count_near (&im, color, 0.25, x - 2, y_mean - 2, x + 2, y_mean + 2), >, 3);
  /* the band: a light tint of the target's colour half way between the mean and mean + std */
  double y_band = cl_plot_scale_map (&g.y, mean + 0.006);
  ClRgb tint = cl_plot_mix ((ClRgb){ 1, 1, 1 }, color, cl_plot_theme (1.0).band_alpha);
  g_assert_cmpint (count_near (&im, tint, 0.06, x - 1, y_band - 1, x + 1, y_band + 1), >, 2);
  /* and none beyond mean + 2 std */
  double y_out = cl_plot_scale_map (&g.y, mean + 0.02);
  g_assert_cmpint (count_near (&im, tint, 0.06, x - 1, y_out - 1, x + 1, y_out + 1), ==, 0);
  /* without replicates there is no band */
  ClProbePlotOthers plain = { 0 };
  plain.view = &view;
  ClProbePlotLayout g0;
  Image im0 = render_runs (900, 500, a.rows, a.n, &plain, &g0);
  g_assert_cmpint (g0.replicates, ==, 0);
  double y_band0 = cl_plot_scale_map (&g0.y, 0.745 + 0.0045 * 3.5 + 0.006);
  g_assert_cmpint (count_near (&im0, tint, 0.06, x - 1, y_band0 - 1, x + 1, y_band0 + 1), ==, 0);
  image_free (&im0);
  image_free (&im);
  g_free (a.rows);
  g_free (b.rows);
  g_free (c.rows);
}

static void
test_probe_zoom (void)
{
  ProbeRows p = make_probes ();
  ClPlotView view;
  cl_plot_view_init (&view);
  view.x_lo = 200;
  view.x_hi = 600;
  ClProbePlotOthers others = { 0 };
  others.view = &view;
  ClProbePlotLayout g;
  Image im = render_runs (900, 500, p.rows, p.n, &others, &g);
  g_assert_cmpfloat (g.x.d0, ==, 200.0);
  g_assert_cmpfloat (g.x.d1, ==, 600.0);
  /* the class points at 300 and 500 are where the window puts them */
  ClRgb c = cl_probe_plot_target_color (0);
  for (int step = 300; step <= 500; step += 200)
    {
      double x = cl_plot_scale_map (&g.x, step), y = cl_plot_scale_map (&g.y, 0.8);
      g_assert_cmpint (count_near (&im, c, 0.2, x - 2, y - 2, x + 2, y + 2), >, 8);
    }
  image_free (&im);
  g_free (p.rows);
}

/* A zoomed chart's legend marks the targets it shows nothing of (faint, "(not in view)"). */
static void
test_probe_zoom_legend (void)
{
  ProbeRows p = make_probes ();
  ClPlotView view;
  cl_plot_view_init (&view);
  ClProbePlotOthers others = { 0 };
  others.view = &view;
  ClRgb cls = cl_probe_plot_target_color (0), bits = cl_probe_plot_target_color (1);
  ClProbePlotLayout g;
  Image whole = render_runs (900, 500, p.rows, p.n, &others, &g);
  const ClPlotRect *lg = &g.legend;
  g_assert_cmpint (count_covered (&whole, cls, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  /* steps 200-600, accuracy 0.9-1: bits (0.95) in view, class (0.8) and every chance line not */
  view.x_lo = 200;
  view.x_hi = 600;
  view.y_lo = 0.9;
  view.y_hi = 1.0;
  Image im = render_runs (900, 500, p.rows, p.n, &others, &g);
  g_assert_cmpint (count_covered (&im, bits, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  g_assert_cmpint (count_covered (&im, cls, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), ==, 0);
  /* the class line from 0.3 at step 0 to 0.8 at 100 crosses 0.5-0.6 between steps 40 and 60 */
  view.x_lo = 40;
  view.x_hi = 60;
  view.y_lo = 0.5;
  view.y_hi = 0.6;
  Image crossing = render_runs (900, 500, p.rows, p.n, &others, &g);
  g_assert_cmpint (count_covered (&crossing, cls, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  g_assert_cmpint (count_covered (&crossing, bits, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), ==, 0);
  image_free (&crossing);
  image_free (&im);
  image_free (&whole);
  g_free (p.rows);
}

/* The overlay controls: background (overlaid at probe time) falls 0.79 -> 0.65 while
 * background_clean stays near its untrained 0.785 and ends at 0.765: the drop is mostly
 * occlusion (0.115 at the end) and a little suppression (0.02). */
static void
test_probe_occlusion_split (void)
{
  ProbeRows p = probe_rows (40);
  for (int i = 0; i <= 10; i++)
    {
      probe_add (&p, i * 100, "class", 0.5, 0.1);
      probe_add (&p, i * 100, "background", 0.79 - 0.014 * i, 0.1);
      probe_add (&p, i * 100, "background_clean", 0.785 - 0.002 * i, 0.1);
    }
  ClPlotView view;
  cl_plot_view_init (&view);
  ClProbePlotOthers others = { 0 };
  others.view = &view;
  ClProbePlotLayout g;
  Image im = render_runs (900, 500, p.rows, p.n, &others, &g);
  g_assert_cmpint (g.n_splits, ==, 1);
  g_assert_cmpstr (g.targets[g.split[0].metric], ==, "background");
  /* (the name as the rows' field keeps it) */
  g_assert_true (g_str_has_prefix ("background_clean", g.targets[g.split[0].control]));
  g_assert_cmpfloat (fabs (g.split[0].occlusion - 0.115), <, 1e-5);
  g_assert_cmpfloat (fabs (g.split[0].suppression - 0.02), <, 1e-5);
  /* the occlusion region between the two lines at step 750 is shaded; above the clean line and
   * below the overlaid one it is not */
  double x = cl_plot_scale_map (&g.x, 750);
  double ym = cl_plot_scale_map (&g.y, 0.79 - 0.014 * 7.5), yc = cl_plot_scale_map (&g.y, 0.785 - 0.002 * 7.5);
  ClRgb white = { 1, 1, 1 };
  int shaded = 0, n = 0;
  for (double y = yc + 3; y < ym - 3; y += 1.0, n++)
    shaded += color_distance (user_pixel (&im, x, y), white) > 0.05;
  g_assert_cmpint (n, >, 10);
  g_assert_cmpint (shaded, ==, n);
  double y_below = cl_plot_scale_map (&g.y, 0.5 + 0.06);
  g_assert_cmpfloat (color_distance (user_pixel (&im, x, y_below), white), <, 0.05);
  /* suppression: red between the untrained value and the clean line, at step 900 */
  double x9 = cl_plot_scale_map (&g.x, 900);
  double yu = cl_plot_scale_map (&g.y, 0.785), yc9 = cl_plot_scale_map (&g.y, 0.785 - 0.018);
  ClRgb red = cl_plot_mix (white, cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION), 0.28);
  g_assert_cmpint (count_near (&im, red, 0.08, x9 - 1, MIN (yu, yc9) + 2, x9 + 1, MAX (yu, yc9) - 2), >, 2);
  image_free (&im);

  /* without the control there is no split */
  ClProbeRow *only = g_new0 (ClProbeRow, 22);
  int k = 0;
  for (int i = 0; i < p.n; i++)
    if (strncmp (p.rows[i].target, "background_c", 12) != 0) /* the name may be cut to the field */
      only[k++] = p.rows[i];
  Image im2 = render_runs (900, 500, only, k, &others, &g);
  g_assert_cmpint (g.n_splits, ==, 0);
  image_free (&im2);
  g_free (only);
  g_free (p.rows);
}

/* Overlay data: the class label is the background item, so "class" and "background" are the same
 * series. The figure draws it once, named "class = background": no legend entry without a line. */
static ProbeRows
overlay_probes (double background_last)
{
  ProbeRows p = probe_rows (20);
  for (int i = 0; i <= 2; i++)
    {
      double v = 0.7 + 0.04 * i;
      probe_add (&p, i * 200, "class", v, 0.1);
      probe_add (&p, i * 200, "background", i == 2 ? background_last : v, 0.1);
      probe_add (&p, i * 200, "overlay", 0.9 - 0.2 * i, 0.0625);
      probe_add (&p, i * 200, "background_clean", 0.8 + 0.01 * i, 0.1);
    }
  return p;
}

static void
test_probe_same_series (void)
{
  ProbeRows p = overlay_probes (0.78);
  ClProbePlotLayout g;
  Image im = render_probes (900, 500, 1.0, p.rows, p.n, NULL, 0, "probes", &g);
  g_assert_cmpint (g.n_targets, ==, 4);
  g_assert_cmpint (g.same_as[0], ==, -1);
  g_assert_cmpint (g.same_as[1], ==, 0);
  g_assert_cmpint (g.same_as[2], ==, -1);
  g_assert_cmpint (g.same_as[3], ==, -1);
  g_assert_cmpstr (g.labels[0], ==, "class = background");
  g_assert_cmpstr (g.labels[2], ==, "overlay");
  /* background's colour is nowhere: no line, no chance dashes, no legend swatch */
  ClRgb c_background = cl_probe_plot_target_color (1);
  g_assert_cmpint (count_near (&im, c_background, 0.1, 0, 0, 900, 500), ==, 0);
  /* the shared line is the class colour along its values */
  double x = cl_plot_scale_map (&g.x, 300), y = cl_plot_scale_map (&g.y, 0.76);
  g_assert_cmpint (count_near (&im, cl_probe_plot_target_color (0), 0.25, x - 2, y - 2, x + 2, y + 2), >, 3);
  /* the occlusion split still reads background against its control */
  g_assert_cmpint (g.n_splits, ==, 1);
  g_assert_cmpstr (g.targets[g.split[0].metric], ==, "background");
  image_free (&im);
  g_free (p.rows);

  /* one probe apart: two lines, two names */
  ProbeRows q = overlay_probes (0.77);
  Image im2 = render_probes (900, 500, 1.0, q.rows, q.n, NULL, 0, "probes", &g);
  g_assert_cmpint (g.same_as[1], ==, -1);
  g_assert_cmpstr (g.labels[0], ==, "class");
  g_assert_cmpstr (g.labels[1], ==, "background");
  g_assert_cmpint (count_near (&im2, c_background, 0.1, 0, 0, 900, 500), >, 20);
  image_free (&im2);
  g_free (q.rows);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/probe/per-bit-names", test_probe_per_bit_names);
  g_test_add_func ("/figures/probe/series-and-chance", test_probe_series_and_chance);
  g_test_add_func ("/figures/probe/shared-chance", test_probe_shared_chance);
  g_test_add_func ("/figures/probe/events", test_probe_events);
  g_test_add_func ("/figures/probe/empty-and-odd", test_probe_empty_and_odd);
  g_test_add_func ("/figures/probe/dense", test_probe_dense);
  g_test_add_func ("/figures/probe/scale-2x", test_probe_scale_2x);
  g_test_add_func ("/figures/probe/fit-y", test_probe_fit_y);
  g_test_add_func ("/figures/probe/replicates-band", test_probe_replicates_band);
  g_test_add_func ("/figures/probe/zoom", test_probe_zoom);
  g_test_add_func ("/figures/probe/zoom-legend", test_probe_zoom_legend);
  g_test_add_func ("/figures/probe/occlusion-split", test_probe_occlusion_split);
  g_test_add_func ("/figures/probe/same-series", test_probe_same_series);
  return g_test_run ();
}
