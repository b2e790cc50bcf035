/* Figure renderer tests, part two: the linear-probe figure, the geometry-of-z panel and the
 * grouped bar chart, checked on the pixels they draw, and the prior marginal densities
 * against closed forms and moments. */
#include "ui/plots/cl_bar_chart.h"
#include "ui/plots/cl_geometry_plot.h"
#include "ui/plots/cl_probe_plot.h"
#include "engine/nn/cl_loss.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ pixel tools */

#include "tests/figures/plot_pixels.h"

/* On the white->c blend at least half way (antialiased coverage >= 0.5). */
static gboolean
covered_by (ClRgb p, ClRgb c)
{
  ClRgb w = { 1, 1, 1 };
  double dr = c.r - w.r, dg = c.g - w.g, db = c.b - w.b;
  double len2 = dr * dr + dg * dg + db * db;
  double t = ((p.r - w.r) * dr + (p.g - w.g) * dg + (p.b - w.b) * db) / len2;
  ClRgb blend = { w.r + t * dr, w.g + t * dg, w.b + t * db };
  return t >= 0.5 && t <= 1.05 && color_distance (p, blend) < 0.06;
}

static void
device_box (const Image *im, double x0, double y0, double x1, double y1, int *px0, int *py0, int *px1,
            int *py1)
{
  *px0 = MAX (0, (int) floor (x0 * im->scale));
  *py0 = MAX (0, (int) floor (y0 * im->scale));
  *px1 = MIN (im->width, (int) ceil (x1 * im->scale));
  *py1 = MIN (im->height, (int) ceil (y1 * im->scale));
}

static long
count_covered (const Image *im, ClRgb c, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      if (covered_by (pixel_at (im, x, y), c))
        n++;
  return n;
}

static long
count_near (const Image *im, ClRgb c, double tolerance, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      if (color_distance (pixel_at (im, x, y), c) < tolerance)
        n++;
  return n;
}

/* Device columns in [x0, x1) that have at least one pixel near c in rows [y0, y1): how much
 * of a horizontal (dashed) line is drawn. */
static int
columns_with (const Image *im, ClRgb c, double tolerance, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  int n = 0;
  for (int x = px0; x < px1; x++)
    for (int y = py0; y < py1; y++)
      if (color_distance (pixel_at (im, x, y), c) < tolerance)
        {
          n++;
          break;
        }
  return n;
}

static const ClRgb white = { 1, 1, 1 };

/* ------------------------------------------------------------ the priors */

/* Integral of x^power p(x) over [-1, 1] through x = sin t, which removes the (1-x^2)^(-1/2)
 * singularity of d = 2 and keeps the integrand smooth for every d; the midpoint rule, so
 * the poles themselves (where p may be infinite) are never evaluated. */
static double
sphere_moment (int kind, int dim, int power)
{
  const int n = 20000;
  double h = G_PI / n, sum = 0.0;
  for (int i = 0; i < n; i++)
    {
      double t = -0.5 * G_PI + (i + 0.5) * h;
      double x = sin (t);
      sum += cl_prior_marginal_density (kind, dim, x) * pow (x, power) * cos (t);
    }
  return sum * h;
}

static double
line_moment (int kind, int dim, double lo, double hi, int power)
{
  const int n = 20000;
  double h = (hi - lo) / n, sum = 0.0;
  for (int i = 0; i <= n; i++)
    {
      double x = lo + i * h;
      sum += cl_prior_marginal_density (kind, dim, x) * pow (x, power) * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
  return sum * h / 3.0;
}

static void
test_prior_sphere (void)
{
  static const ClLossKind spherical[] = { CL_LOSS_SWD_SPHERE, CL_LOSS_NTXENT, CL_LOSS_DECOUPLED };

  /* d = 3: Archimedes' hat-box theorem, exactly uniform on [-1, 1] */
  for (int i = 0; i <= 200; i++)
    {
      double x = -1.0 + i / 100.0;
      g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 3, x), ==, 0.5);
    }
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 3, 1.0001), ==, 0.0);
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 3, -1.5), ==, 0.0);

  /* d = 4: the closed form (2/pi) sqrt(1 - x^2) */
  for (int i = 0; i <= 40; i++)
    {
      double x = -0.99 + i * 0.0495;
      g_assert_cmpfloat_with_epsilon (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 4, x),
                                      2.0 / G_PI * sqrt (1.0 - x * x), 1e-12);
    }
  /* d = 2: the arcsine law 1 / (pi sqrt(1 - x^2)) */
  g_assert_cmpfloat_with_epsilon (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 2, 0.0), 1.0 / G_PI, 1e-12);
  g_assert_cmpfloat_with_epsilon (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 2, 0.6), 1.0 / (G_PI * 0.8), 1e-12);

  /* every d: a density (integral 1), symmetric, with variance 1/d (E x_1^2 = E |x|^2 / d) */
  static const int dims[] = { 2, 3, 4, 5, 16, 64, 128, 1024 };
  for (size_t k = 0; k < G_N_ELEMENTS (dims); k++)
    {
      int d = dims[k];
      double mass = sphere_moment (CL_LOSS_SWD_SPHERE, d, 0);
      double variance = sphere_moment (CL_LOSS_SWD_SPHERE, d, 2);
      g_test_message ("d=%d: integral %.10f, variance %.10f (1/d = %.10f)", d, mass, variance, 1.0 / d);
      g_assert_cmpfloat_with_epsilon (mass, 1.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (variance, 1.0 / d, 1e-6 / d);
      g_assert_cmpfloat_with_epsilon (sphere_moment (CL_LOSS_SWD_SPHERE, d, 1), 0.0, 1e-9);
      for (int i = 1; i <= 50; i++)
        {
          double x = i / 50.0;
          g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, d, x), ==,
                             cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, d, -x));
        }
      /* z of NT-Xent and decoupled is normalised too: the same reference */
      for (size_t s = 0; s < G_N_ELEMENTS (spherical); s++)
        g_assert_cmpfloat (cl_prior_marginal_density (spherical[s], d, 0.3), ==,
                           cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, d, 0.3));
    }
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 64, 1.0), ==, 0.0);

  /* large d (where Gamma itself overflows): close to N(0, 1/d) */
  for (int d = 1000; d <= 100000; d *= 10)
    {
      double p0 = cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, d, 0.0);
      double normal = sqrt (d / (2.0 * G_PI));
      g_assert_true (isfinite (p0));
      g_assert_cmpfloat (fabs (p0 / normal - 1.0), <, 1.0 / d);
    }

  /* no density */
  g_assert_true (isnan (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 1, 0.0)));
  g_assert_true (isnan (cl_prior_marginal_density (CL_LOSS_NTXENT, 0, 0.0)));
  g_assert_true (isnan (cl_prior_marginal_density (CL_LOSS_N_KINDS, 64, 0.0)));
  g_assert_true (isnan (cl_prior_marginal_density (-1, 64, 0.0)));
}

static void
test_prior_normal_and_cube (void)
{
  /* N(0, 1) */
  g_assert_cmpfloat_with_epsilon (cl_prior_marginal_density (CL_LOSS_SWD_NORMAL, 64, 0.0),
                                  0.3989422804014327, 1e-15);  /* 1/sqrt(2 pi) */
  g_assert_cmpfloat_with_epsilon (line_moment (CL_LOSS_SWD_NORMAL, 64, -12, 12, 0), 1.0, 1e-10);
  g_assert_cmpfloat_with_epsilon (line_moment (CL_LOSS_SWD_NORMAL, 64, -12, 12, 2), 1.0, 1e-10);
  /* 68.27% within one standard deviation: erf(1/sqrt 2) */
  g_assert_cmpfloat_with_epsilon (line_moment (CL_LOSS_SWD_NORMAL, 64, -1, 1, 0), erf (M_SQRT1_2), 1e-10);
  /* the dimension does not matter for a product prior */
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_NORMAL, 3, 0.7), ==,
                     cl_prior_marginal_density (CL_LOSS_SWD_NORMAL, 512, 0.7));
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_NORMAL, 64, 1.3), ==,
                     cl_prior_marginal_density (CL_LOSS_SWD_NORMAL, 64, -1.3));

  /* U(-1, 1) */
  for (int i = 0; i <= 40; i++)
    {
      double x = -1.0 + i * 0.05;
      g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_CUBE, 64, x), ==, 0.5);
    }
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_CUBE, 64, 1.001), ==, 0.0);
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_CUBE, 64, -3.0), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (line_moment (CL_LOSS_SWD_CUBE, 64, -1, 1, 0), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (line_moment (CL_LOSS_SWD_CUBE, 64, -1, 1, 2), 1.0 / 3.0, 1e-12);

  /* the legend labels */
  char label[64];
  cl_prior_marginal_label (CL_LOSS_SWD_SPHERE, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "prior: uniform sphere, d=64");
  cl_prior_marginal_label (CL_LOSS_SWD_NORMAL, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "prior: N(0, 1)");
  cl_prior_marginal_label (CL_LOSS_SWD_CUBE, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "prior: U(\xE2\x88\x92" "1, 1)");
  cl_prior_marginal_label (CL_LOSS_NTXENT, 128, label, sizeof label);
  g_assert_nonnull (strstr (label, "uniform sphere, d=128"));
  cl_prior_marginal_label (CL_LOSS_N_KINDS, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "");
}

/* ------------------------------------------------------------ probe figure */

typedef struct {
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

/* Probes every 100 steps to 1000: class (0.3 untrained, then 0.8), bits (0.55, then 0.95),
 * and 24 per-bit targets at 0.65 that the figure must leave out. The class chance changes
 * from 0.2 to 0.1 at the last probe: the latest one is drawn. */
static ProbeRows
make_probes (void)
{
  ProbeRows p;
  p.rows = g_new0 (ClProbeRow, 11 * 26);
  p.n = 0;
  for (int step = 0; step <= 1000; step += 100)
    {
      probe_add (&p, step, "class", step == 0 ? 0.3 : 0.8, step == 1000 ? 0.1 : 0.2);
      for (int b = 0; b < 24; b++)
        {
          char name[16];
          g_snprintf (name, sizeof name, "bit%d", b);
          probe_add (&p, step, name, 0.65, 0.5);
          if (b == 11)
            probe_add (&p, step, "bits", step == 0 ? 0.55 : 0.95, 0.5);  /* interleaved */
        }
    }
  return p;
}

static Image
render_probes (double width, double height, double scale, const ClProbeRow *rows, int n_rows,
               const ClEvent *events, int n_events, const char *title, ClProbePlotGeometry *g)
{
  cairo_t *cr;
  Image im = image_new (width, height, scale, &cr);
  cl_probe_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, title, g);
  image_finish (&im, cr);
  return im;
}

static ClEvent
make_event (int64_t step, const char *key, const char *old_value, const char *new_value)
{
  ClEvent e;
  memset (&e, 0, sizeof e);
  e.step = step;
  g_strlcpy (e.key, key, sizeof e.key);
  g_strlcpy (e.old_value, old_value, sizeof e.old_value);
  g_strlcpy (e.new_value, new_value, sizeof e.new_value);
  return e;
}

static void
test_probe_per_bit_names (void)
{
  g_assert_true (cl_probe_plot_is_per_bit_target ("bit0", 16));
  g_assert_true (cl_probe_plot_is_per_bit_target ("bit23", 16));
  g_assert_true (cl_probe_plot_is_per_bit_target ("bit7", 4));  /* fills the field */
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
  ClProbePlotGeometry g;
  Image im = render_probes (900, 500, 1.0, p.rows, p.n, NULL, 0, "probes", &g);

  g_assert_cmpint (g.n_targets, ==, 2);
  g_assert_cmpstr (g.targets[0], ==, "class");
  g_assert_cmpstr (g.targets[1], ==, "bits");
  g_assert_true (g.markers);  /* 11 probes on 800 px */
  g_assert_cmpfloat (g.y_ticks.lo, ==, 0.0);
  g_assert_cmpfloat (g.y_ticks.hi, ==, 1.0);
  g_assert_cmpfloat (g.x_ticks.lo, ==, 0.0);
  g_assert_cmpfloat (g.x_ticks.hi, >=, 1000.0);
  g_assert_cmpfloat_with_epsilon (g.chance[0], 0.1, 1e-6);  /* the latest row's */
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
  ClProbePlotGeometry g;
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
  ClProbePlotGeometry g;
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
      g_assert_cmpint (count_near (&im, cl_plot_color_text (), 0.3, x - 60, g.event_band.y, x + 60,
                                   g.event_band.y + g.event_band.h), >, 20);
    }
  double between = cl_plot_scale_map (&g.x, 550.0);
  g_assert_cmpint (count_near (&im, marker, 0.08, between - 5, g.plot.y, between + 5, g.plot.y + g.plot.h), ==, 0);
  image_free (&im);

  ClProbePlotGeometry plain;
  im = render_probes (900, 500, 1.0, p.rows, p.n, NULL, 0, "probes", &plain);
  g_assert_cmpfloat (plain.event_band.h, ==, 0.0);
  g_assert_cmpfloat (plain.plot.y, <, g.plot.y);  /* the band took room */
  image_free (&im);
  g_free (p.rows);
}

static void
test_probe_empty_and_odd (void)
{
  ClProbePlotGeometry g;
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
    g_assert_cmpint (count_covered (&im, cl_plot_series_color (k), g.plot.x + 2, g.plot.y + 2,
                                    g.plot.x + g.plot.w - 2, g.plot.y + g.plot.h - 2), ==, 0);
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
  g_assert_cmpfloat (g.chance[0], ==, 0.0);  /* clamped */
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
  ClProbePlotGeometry g;
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
  ClProbePlotGeometry g1, g2;
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

/* --------------------------------------------------------- geometry panel */

#define DIM 64

/* A histogram whose bins hold the prior's own density (bin-centre values, renormalised). */
static ClZHistogram
make_zhist (int kind, int dim, int64_t step)
{
  ClZHistogram h;
  memset (&h, 0, sizeof h);
  h.loss_kind = kind;
  h.dim = dim;
  h.step = step;
  h.normalized = kind != CL_LOSS_SWD_NORMAL && kind != CL_LOSS_SWD_CUBE;
  h.lo = h.normalized ? -1.0f : -4.0f;
  h.hi = -h.lo;
  double bw = (h.hi - h.lo) / CL_ZHIST_BINS, total = 0.0;
  for (int b = 0; b < CL_ZHIST_BINS; b++)
    {
      h.density[b] = (float) cl_prior_marginal_density (kind, dim, h.lo + (b + 0.5) * bw);
      total += h.density[b] * bw;
    }
  for (int b = 0; b < CL_ZHIST_BINS; b++)
    h.density[b] = (float) (h.density[b] / total);
  return h;
}

/* Rows with constant geometry (noise of +-noise alternating from row to row). */
static ClMetricRow *
make_geometry_rows (int n, double alignment, double uniformity, double z_std, double noise)
{
  ClMetricRow *rows = g_new0 (ClMetricRow, n);
  for (int i = 0; i < n; i++)
    {
      double s = i % 2 ? noise : -noise;
      rows[i].step = i + 1;
      rows[i].loss = 5.0f;
      rows[i].wi_alignment = (float) (alignment + s);
      rows[i].wi_uniformity = (float) (uniformity - s);
      rows[i].z_std = (float) (z_std + 0.1 * s);
    }
  return rows;
}

static Image
render_geometry (double width, double height, double scale, const ClMetricRow *rows, int n_rows,
                 const ClZHistogram *zh, const ClEvent *events, int n_events, ClGeometryPlotGeometry *g)
{
  cairo_t *cr;
  Image im = image_new (width, height, scale, &cr);
  cl_geometry_plot_draw_full (cr, width, height, rows, n_rows, zh, events, n_events, g);
  image_finish (&im, cr);
  return im;
}

/* Topmost device row, in user units, of colour a or b in the column at user x within [y0, y1). */
static double
top_of (const Image *im, ClRgb a, ClRgb b, double x, double y0, double y1)
{
  int px = (int) floor (x * im->scale);
  for (int y = MAX (0, (int) floor (y0 * im->scale)); y < MIN (im->height, (int) ceil (y1 * im->scale)); y++)
    {
      ClRgb c = pixel_at (im, px, y);
      if (covered_by (c, a) || covered_by (c, b))
        return y / im->scale;
    }
  return NAN;
}

static void
test_geometry_histogram (void)
{
  static const int kinds[] = { CL_LOSS_SWD_SPHERE, CL_LOSS_SWD_NORMAL, CL_LOSS_SWD_CUBE, CL_LOSS_NTXENT };
  for (size_t k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      ClZHistogram zh = make_zhist (kinds[k], DIM, 1234);
      ClGeometryPlotGeometry g;
      Image im = render_geometry (1200, 400, 1.0, NULL, 0, &zh, NULL, 0, &g);
      const int p = CL_GEOMETRY_PANEL_HISTOGRAM;
      const ClPlotRect *plot = &g.plot[p];
      g_assert_cmpint (g.columns, ==, 3);
      g_assert_true (g.histogram_shown);
      g_assert_true (g.prior_shown);
      g_assert_cmpfloat (g.y_ticks[p].lo, ==, 0.0);

      /* the axis holds the bulk of the distribution, centred on 0, and not much more */
      gboolean cube = kinds[k] == CL_LOSS_SWD_CUBE;
      double sd = kinds[k] == CL_LOSS_SWD_NORMAL ? 1.0 : cube ? 1.0 / sqrt (3.0) : 1.0 / sqrt (DIM);
      double bulk = cube ? 1.0 : 2.5 * sd, most = cube ? 1.5 : 5.0 * sd;
      g_test_message ("kind %d: x axis %g .. %g", kinds[k], g.x_ticks[p].lo, g.x_ticks[p].hi);
      g_assert_cmpfloat (g.x_ticks[p].hi, >=, bulk);
      g_assert_cmpfloat (g.x_ticks[p].lo, <=, -bulk);
      g_assert_cmpfloat (g.x_ticks[p].hi, <=, most);
      g_assert_cmpfloat (g.x_ticks[p].lo + g.x_ticks[p].hi, ==, 0.0);

      /* bars: the top of the bar under x is at the bin's density. The prior's line would
       * hide the tops (the bars hold the prior's density), so they are measured on the
       * same histogram drawn without a prior. */
      ClZHistogram bare = zh;
      bare.loss_kind = 99;
      ClGeometryPlotGeometry gb;
      Image bars = render_geometry (1200, 400, 1.0, NULL, 0, &bare, NULL, 0, &gb);
      g_assert_false (gb.prior_shown);
      g_assert_cmpfloat (gb.y_ticks[p].hi, ==, g.y_ticks[p].hi);
      g_assert_cmpfloat (gb.x_ticks[p].hi, ==, g.x_ticks[p].hi);
      ClRgb bar = cl_geometry_plot_histogram_color (), edge = cl_geometry_plot_histogram_edge_color ();
      double bw = (zh.hi - zh.lo) / CL_ZHIST_BINS;
      int bins[2] = { CL_ZHIST_BINS / 2 + 1, CL_ZHIST_BINS / 2 + (cube ? 6 : 4) };  /* the cube's bins are wide */
      for (int i = 0; i < 2; i++)
        {
          int b = bins[i];
          double x = cl_plot_scale_map (&gb.x[p], zh.lo + (b + 0.5) * bw);
          double want = cl_plot_scale_map (&gb.y[p], zh.density[b]);
          double got = top_of (&bars, bar, edge, x, plot->y - 2, plot->y + plot->h);
          g_test_message ("kind %d bin %d: bar top at %.1f, density at %.2f", kinds[k], b, got, want);
          g_assert_cmpfloat (fabs (got - want), <=, 1.0);
          /* solid down to the baseline */
          double base = cl_plot_scale_map (&gb.y[p], 0.0);
          g_assert_cmpint (count_near (&bars, bar, 0.08, x, got + 2, x + 1, base - 1), >=, (long) (base - got - 4));
        }
      image_free (&bars);
      /* the prior line crosses x = 0.5 sd at the prior's density there */
      double xq = 0.5 * sd;
      double py = cl_plot_scale_map (&g.y[p], cl_prior_marginal_density (kinds[k], DIM, xq));
      double px = cl_plot_scale_map (&g.x[p], xq);
      g_assert_cmpint (count_covered (&im, cl_geometry_plot_prior_color (), px - 1, py - 2, px + 1, py + 2), >, 0);
      image_free (&im);
    }
}

static void
test_geometry_waiting (void)
{
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_SPHERE, DIM, 0);  /* step 0: no batch yet */
  for (int variant = 0; variant < 2; variant++)
    {
      ClGeometryPlotGeometry g;
      Image im = render_geometry (1200, 400, 1.0, NULL, 0, variant ? NULL : &zh, NULL, 0, &g);
      const ClPlotRect *plot = &g.plot[CL_GEOMETRY_PANEL_HISTOGRAM];
      g_assert_false (g.histogram_shown);
      g_assert_cmpint (count_near (&im, cl_geometry_plot_histogram_color (), 0.1, plot->x + 1, plot->y,
                                   plot->x + plot->w, plot->y + plot->h), ==, 0);
      for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
        {
          /* each panel: axes and a note in the middle */
          const ClPlotRect *pp = &g.plot[p];
          double cx = pp->x + 0.5 * pp->w, cy = pp->y + 0.5 * pp->h;
          g_assert_cmpfloat (pp->w, >, 200);
          g_assert_cmpfloat (pp->h, >, 150);
          g_assert_cmpint (count_near (&im, cl_plot_color_muted (), 0.12, cx - 80, cy - 10, cx + 80, cy + 10), >, 30);
        }
      image_free (&im);
    }
}

static void
test_geometry_series (void)
{
  const int n = 400;
  ClMetricRow *rows = make_geometry_rows (n, 0.5, -3.0, 0.1, 0.2);
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_SPHERE, DIM, n);
  ClGeometryPlotGeometry g;
  Image im = render_geometry (1200, 400, 1.0, rows, n, &zh, NULL, 0, &g);

  /* b) alignment on the left axis, uniformity on the right, smoothed: the +-0.2 zigzag is
   * damped to about +-0.02 by the EMA, so the curves stay near their means */
  const int b = CL_GEOMETRY_PANEL_ALIGN_UNIFORM;
  double x0 = cl_plot_scale_map (&g.x[b], 100.0), x1 = cl_plot_scale_map (&g.x[b], 390.0);
  double ya = cl_plot_scale_map (&g.y[b], 0.5), yu = cl_plot_scale_map (&g.y_right, -3.0);
  ClRgb ca = cl_geometry_plot_alignment_color (), cu = cl_geometry_plot_uniformity_color ();
  g_assert_cmpint (columns_with (&im, ca, 0.1, x0, ya - 4, x1, ya + 4), >=, (int) (0.97 * (x1 - x0)));
  g_assert_cmpint (columns_with (&im, cu, 0.1, x0, yu - 4, x1, yu + 4), >=, (int) (0.97 * (x1 - x0)));
  /* the raw extremes are inside the axes but nothing is drawn there */
  g_assert_cmpfloat (g.y_ticks[b].lo, <=, 0.45);
  g_assert_cmpfloat (g.y_ticks[b].hi, >=, 0.55);
  g_assert_cmpfloat (g.y_ticks[b].lo, <=, 0.3 + 1e-6);  /* the first smoothed value is the first raw one */
  double ya_raw = cl_plot_scale_map (&g.y[b], 0.3);
  g_assert_cmpint (count_covered (&im, ca, x0, ya_raw - 2, x1, ya_raw + 2), ==, 0);

  /* c) z_std against 1/sqrt(d) (dashed) and 0; the axis reaches 1.2/sqrt(d) */
  const int c = CL_GEOMETRY_PANEL_COLLAPSE;
  const ClPlotRect *pc = &g.plot[c];
  g_assert_cmpfloat_with_epsilon (g.uniform_z_std, 1.0 / sqrt (DIM), 1e-12);
  g_assert_cmpfloat (g.y_ticks[c].lo, ==, 0.0);
  g_assert_cmpfloat (g.y_ticks[c].hi, >=, 1.2 / sqrt (DIM));
  double ys = cl_plot_scale_map (&g.y[c], 0.1);
  g_assert_cmpint (columns_with (&im, cl_geometry_plot_z_std_color (), 0.1, cl_plot_scale_map (&g.x[c], 100.0),
                                 ys - 3, cl_plot_scale_map (&g.x[c], 390.0), ys + 3),
                   >=, (int) (0.97 * (cl_plot_scale_map (&g.x[c], 390.0) - cl_plot_scale_map (&g.x[c], 100.0))));
  double yref = cl_plot_scale_map (&g.y[c], 1.0 / sqrt (DIM));
  /* right half: the label sits at the left */
  double rx0 = pc->x + 0.5 * pc->w, rx1 = pc->x + pc->w - 2;
  int dashed = columns_with (&im, cl_plot_color_marker (), 0.08, rx0, yref - 1.5, rx1, yref + 1.5);
  g_assert_cmpint (dashed, >, (int) (0.4 * (rx1 - rx0)));
  g_assert_cmpint (dashed, <, (int) (0.9 * (rx1 - rx0)));
  /* its label above it, at the left */
  g_assert_cmpint (count_near (&im, cl_plot_color_text (), 0.3, pc->x + 2, yref - 16, pc->x + 150, yref), >, 20);
  image_free (&im);
  g_free (rows);

  /* data above 1.2/sqrt(d) widen the axis */
  rows = make_geometry_rows (n, 0.5, -3.0, 0.3, 0.0);
  im = render_geometry (1200, 400, 1.0, rows, n, &zh, NULL, 0, &g);
  g_assert_cmpfloat (g.y_ticks[c].hi, >=, 0.3);
  g_assert_cmpfloat (g.y_ticks[c].hi, <=, 0.5);
  image_free (&im);
  g_free (rows);
}

static void
test_geometry_events (void)
{
  const int n = 400;
  ClMetricRow *rows = make_geometry_rows (n, 0.5, -3.0, 0.1, 0.0);
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_SPHERE, DIM, n);
  ClEvent events[1] = { make_event (200, "loss.kind", "ntxent", "swd-sphere") };
  ClGeometryPlotGeometry g;
  Image im = render_geometry (1200, 400, 1.0, rows, n, &zh, events, 1, &g);
  for (int p = CL_GEOMETRY_PANEL_ALIGN_UNIFORM; p <= CL_GEOMETRY_PANEL_COLLAPSE; p++)
    {
      double x = cl_plot_scale_map (&g.x[p], 200.0);
      long on = count_near (&im, cl_plot_color_marker (), 0.08, x - 1, g.plot[p].y, x + 1, g.plot[p].y + g.plot[p].h);
      g_assert_cmpint (on, >, (long) (g.plot[p].h / 3));
      /* the label is above the plot */
      g_assert_cmpint (count_near (&im, cl_plot_color_text (), 0.3, x - 50, g.plot[p].y - 25, x + 50, g.plot[p].y), >, 20);
    }
  /* the two time-series plots line up */
  g_assert_cmpfloat (g.plot[1].y, ==, g.plot[2].y);
  g_assert_cmpfloat (g.plot[0].y, ==, g.plot[1].y);
  g_assert_cmpfloat (g.plot[0].h, ==, g.plot[1].h);
  image_free (&im);
  g_free (rows);
}

static gboolean
rect_inside (const ClPlotRect *inner, const ClPlotRect *outer)
{
  return inner->x >= outer->x - 1e-9 && inner->y >= outer->y - 1e-9
         && inner->x + inner->w <= outer->x + outer->w + 1e-9 && inner->y + inner->h <= outer->y + outer->h + 1e-9;
}

static void
test_geometry_narrow (void)
{
  const int n = 300;
  ClMetricRow *rows = make_geometry_rows (n, 0.5, -3.0, 0.1, 0.05);
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_NORMAL, DIM, n);
  struct { double w, h; int columns; } cases[] = { { 1200, 380, 3 }, { 700, 560, 2 }, { 450, 900, 1 } };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      ClGeometryPlotGeometry g;
      Image im = render_geometry (cases[k].w, cases[k].h, 1.0, rows, n, &zh, NULL, 0, &g);
      g_assert_cmpint (g.columns, ==, cases[k].columns);
      for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
        {
          g_assert_true (rect_inside (&g.plot[p], &g.cell[p]));
          g_assert_cmpfloat (g.plot[p].w, >, 0.4 * g.cell[p].w);
          g_assert_cmpfloat (g.plot[p].h, >, 0.35 * g.cell[p].h);
          for (int q = 0; q < p; q++)
            {
              /* cells tile the area without overlapping */
              const ClPlotRect *a = &g.cell[p], *b = &g.cell[q];
              gboolean apart = a->x >= b->x + b->w - 1e-9 || b->x >= a->x + a->w - 1e-9
                               || a->y >= b->y + b->h - 1e-9 || b->y >= a->y + a->h - 1e-9;
              g_assert_true (apart);
            }
        }
      /* every series is drawn somewhere in its panel */
      g_assert_cmpint (count_covered (&im, cl_geometry_plot_z_std_color (), g.plot[2].x, g.plot[2].y,
                                      g.plot[2].x + g.plot[2].w, g.plot[2].y + g.plot[2].h), >, (long) (0.8 * g.plot[2].w));
      g_assert_cmpint (count_covered (&im, cl_geometry_plot_uniformity_color (), g.plot[1].x, g.plot[1].y,
                                      g.plot[1].x + g.plot[1].w, g.plot[1].y + g.plot[1].h), >, (long) (0.8 * g.plot[1].w));
      image_free (&im);
    }
  g_free (rows);
}

static void
test_geometry_nan_and_odd (void)
{
  const int n = 200;
  ClMetricRow *rows = make_geometry_rows (n, 0.5, -3.0, 0.1, 0.0);
  rows[0].wi_alignment = NAN;
  rows[10].wi_uniformity = INFINITY;
  rows[20].z_std = -INFINITY;
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_SPHERE, DIM, n);
  zh.density[3] = NAN;
  ClGeometryPlotGeometry g;
  Image im = render_geometry (1200, 400, 1.0, rows, n, &zh, NULL, 0, &g);
  for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
    {
      g_assert_true (isfinite (g.y_ticks[p].lo) && isfinite (g.y_ticks[p].hi));
      g_assert_true (isfinite (g.x_ticks[p].lo) && isfinite (g.x_ticks[p].hi));
    }
  g_assert_cmpfloat (g.y_ticks[1].hi, <, 1.0);  /* the NaN did not stretch the axis */
  image_free (&im);

  /* unknown loss kind and d: a histogram without a prior; d = 2 poles stay finite */
  zh.loss_kind = 99;
  im = render_geometry (1200, 400, 1.0, rows, n, &zh, NULL, 0, &g);
  g_assert_true (g.histogram_shown);
  g_assert_false (g.prior_shown);
  image_free (&im);
  ClZHistogram arcsine = make_zhist (CL_LOSS_SWD_SPHERE, 2, 5);
  im = render_geometry (1200, 400, 1.0, rows, n, &arcsine, NULL, 0, &g);
  g_assert_true (g.prior_shown);
  g_assert_true (isfinite (g.y_ticks[0].hi));
  image_free (&im);
  /* a broken range */
  zh = make_zhist (CL_LOSS_SWD_CUBE, DIM, 5);
  zh.lo = zh.hi = 1.0f;
  im = render_geometry (1200, 400, 1.0, rows, n, &zh, NULL, 0, &g);
  g_assert_false (g.histogram_shown);
  image_free (&im);

  cairo_surface_t *tiny = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 30, 20);
  cairo_t *cr = cairo_create (tiny);
  cl_geometry_plot_draw (cr, 30, 20, rows, n, &zh, NULL, 0);
  cl_geometry_plot_draw (cr, 0, 20, rows, n, &zh, NULL, 0);
  cl_geometry_plot_draw (cr, NAN, NAN, rows, n, NULL, NULL, 0);
  cl_geometry_plot_draw (cr, 30, 20, rows, 1, NULL, NULL, -3);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (tiny);
  g_free (rows);
}

static void
test_geometry_scale_2x (void)
{
  const int n = 300;
  ClMetricRow *rows = make_geometry_rows (n, 0.5, -3.0, 0.1, 0.05);
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_SPHERE, DIM, n);
  ClEvent events[1] = { make_event (150, "loss.lambda", "0", "1") };
  ClGeometryPlotGeometry g1, g2;
  Image one = render_geometry (1200, 380, 1.0, rows, n, &zh, events, 1, &g1);
  Image two = render_geometry (1200, 380, 2.0, rows, n, &zh, events, 1, &g2);
  for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
    {
      g_assert_cmpfloat_with_epsilon (g1.plot[p].x, g2.plot[p].x, 1e-6);
      g_assert_cmpfloat_with_epsilon (g1.plot[p].y, g2.plot[p].y, 1e-6);
      g_assert_cmpfloat_with_epsilon (g1.plot[p].w, g2.plot[p].w, 1e-6);
      g_assert_cmpfloat_with_epsilon (g1.plot[p].h, g2.plot[p].h, 1e-6);
      g_assert_cmpfloat (g1.y_ticks[p].step, ==, g2.y_ticks[p].step);
    }
  ClRgb colors[] = { cl_geometry_plot_histogram_color (), cl_geometry_plot_prior_color (),
                     cl_geometry_plot_uniformity_color (), cl_geometry_plot_z_std_color () };
  for (size_t k = 0; k < G_N_ELEMENTS (colors); k++)
    {
      long n1 = count_covered (&one, colors[k], 0, 0, 1200, 380);
      long n2 = count_covered (&two, colors[k], 0, 0, 1200, 380);
      double ratio = (double) n2 / (double) n1;
      g_test_message ("colour %zu: %ld px at 1x, %ld at 2x, ratio %.2f", k, n1, n2, ratio);
      g_assert_cmpint (n1, >, 100);
      g_assert_cmpfloat (ratio, >, 3.7);
      g_assert_cmpfloat (ratio, <, 4.3);
    }
  image_free (&one);
  image_free (&two);
  g_free (rows);
}

/* -------------------------------------------------------------- bar chart */

static const char *const loss_kinds[] = { "ntxent", "decoupled", "swd-normal", "swd-cube", "swd-sphere" };
static const char *const head_layers[] = { "0", "1", "3" };

static ClBarChartData
sweep_data (const double *values)
{
  ClBarChartData d = {
    .title = "class probe accuracy", .y_label = "accuracy", .group_key = "loss.kind",
    .series_key = "model.head_layers", .n_groups = 5, .group_labels = loss_kinds,
    .n_series = 3, .series_labels = head_layers, .values = values,
    .y_min = NAN, .y_max = NAN, .reference = NAN, .reference_label = NULL,
  };
  return d;
}

static Image
render_bars (double width, double height, double scale, const ClBarChartData *d, ClBarChartGeometry *g)
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
  while (py + direction >= 0 && py + direction < im->height
         && color_distance (pixel_at (im, px, py + direction), c) < 0.25)
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
      ClBarChartGeometry g;
      Image im = render_bars (900, 450, scale, &d, &g);
      /* values in [0, 1]: the axis is 0..1 */
      g_assert_cmpfloat (g.y_ticks.lo, ==, 0.0);
      g_assert_cmpfloat (g.y_ticks.hi, ==, 1.0);
      g_assert_cmpfloat (g.baseline, ==, 0.0);
      g_assert_cmpint (g.value_decimals, ==, 2);
      double base = cl_plot_scale_map (&g.y, 0.0);
      double per_unit = g.plot.h;  /* pixels for a value of 1 */
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
  values[4] = NAN;  /* decoupled, 1 head layer */
  ClBarChartData d = sweep_data (values);
  d.reference = 0.1;
  d.reference_label = "chance";
  ClBarChartGeometry g;
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
  g_assert_cmpint (columns_with (&im, cl_plot_color_marker (), 0.08, first.x, y - 1.5, first.x + first.w, y + 1.5),
                   >, 0);
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
                                    g.plot.y + g.plot.h), ==, 0);
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
  ClBarChartGeometry one;
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
  ClBarChartGeometry g3;
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
    .title = NULL, .y_label = "delta", .group_key = "key", .series_key = NULL,
    .n_groups = 3, .group_labels = groups, .n_series = 2, .series_labels = series, .values = values,
    .y_min = NAN, .y_max = NAN, .reference = NAN,
  };
  ClBarChartGeometry g;
  Image im = render_bars (700, 400, 1.0, &d, &g);
  g_assert_cmpfloat (g.y_ticks.lo, <=, -3.0);
  g_assert_cmpfloat (g.y_ticks.hi, >=, 4.0);
  g_assert_cmpfloat (g.baseline, ==, 0.0);
  g_assert_cmpint (g.value_decimals, ==, 1);  /* ticks every 1 */
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
    .title = "many", .y_label = "accuracy", .group_key = "key", .series_key = "s",
    .n_groups = 40, .group_labels = labels, .n_series = 4, .series_labels = four, .values = many,
    .y_min = NAN, .y_max = NAN, .reference = 0.25, .reference_label = "chance",
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
  ClBarChartGeometry g;
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
  ClBarChartGeometry g1, g2;
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
  g_test_add_func ("/plots2/prior/sphere", test_prior_sphere);
  g_test_add_func ("/plots2/prior/normal-and-cube", test_prior_normal_and_cube);
  g_test_add_func ("/plots2/probe/per-bit-names", test_probe_per_bit_names);
  g_test_add_func ("/plots2/probe/series-and-chance", test_probe_series_and_chance);
  g_test_add_func ("/plots2/probe/shared-chance", test_probe_shared_chance);
  g_test_add_func ("/plots2/probe/events", test_probe_events);
  g_test_add_func ("/plots2/probe/empty-and-odd", test_probe_empty_and_odd);
  g_test_add_func ("/plots2/probe/dense", test_probe_dense);
  g_test_add_func ("/plots2/probe/scale-2x", test_probe_scale_2x);
  g_test_add_func ("/plots2/geometry/histogram", test_geometry_histogram);
  g_test_add_func ("/plots2/geometry/waiting", test_geometry_waiting);
  g_test_add_func ("/plots2/geometry/series", test_geometry_series);
  g_test_add_func ("/plots2/geometry/events", test_geometry_events);
  g_test_add_func ("/plots2/geometry/narrow", test_geometry_narrow);
  g_test_add_func ("/plots2/geometry/nan-and-odd", test_geometry_nan_and_odd);
  g_test_add_func ("/plots2/geometry/scale-2x", test_geometry_scale_2x);
  g_test_add_func ("/plots2/bar/heights", test_bar_heights);
  g_test_add_func ("/plots2/bar/nan-and-reference", test_bar_nan_and_reference);
  g_test_add_func ("/plots2/bar/single-series", test_bar_single_series);
  g_test_add_func ("/plots2/bar/ranges", test_bar_ranges);
  g_test_add_func ("/plots2/bar/empty-and-2x", test_bar_empty_and_2x);
  return g_test_run ();
}
