/* Earlier runs as faded overlays and A/B comparison in the loss and probe figures, checked on
 * the pixels they draw. Set CL_PLOT_PNG_DIR to keep the images for looking at. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/figures/pixel_counts.h"
#include "ui/plots/cl_figures.h"
#include "ui/plots/cl_loss_plot.h"
#include "ui/plots/cl_probe_plot.h"

#define W 900
#define H 500

static void
maybe_save (const Image *im, const char *name)
{
  const char *dir = g_getenv ("CL_PLOT_PNG_DIR");
  if (!dir || !*dir)
    return;
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_assert_cmpint (cairo_surface_write_to_png (im->surface, path), ==, CAIRO_STATUS_SUCCESS);
}

/* Pixels that are not the background in a user rectangle. */
static long
count_ink (const Image *im, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      n += color_distance (pixel_at (im, x, y), cl_plot_color_background ()) > 0.05;
  return n;
}

/* Pixels that are c blended over the background at an opacity in [t_lo, t_hi] (a faded or
 * antialiased trace of c), in a user rectangle. */
static long
count_blend (const Image *im, ClRgb c, double t_lo, double t_hi, double x0, double y0, double x1, double y1)
{
  ClRgb bg = cl_plot_color_background ();
  double dr = c.r - bg.r, dg = c.g - bg.g, db = c.b - bg.b, d2 = dr * dr + dg * dg + db * db;
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      {
        ClRgb p = pixel_at (im, x, y);
        double t = ((p.r - bg.r) * dr + (p.g - bg.g) * dg + (p.b - bg.b) * db) / d2;
        ClRgb on_line = { bg.r + t * dr, bg.g + t * dg, bg.b + t * db };
        n += t >= t_lo && t <= t_hi && color_distance (p, on_line) < 0.03;
      }
  return n;
}

/* What alpha-blending c over the background gives. */
static ClRgb
over_background (ClRgb c, double alpha)
{
  return cl_plot_mix (cl_plot_color_background (), c, alpha);
}

/* ------------------------------------------------------------- synthetic runs */

/* A smooth run whose curves sit at a level: overlays and B use other levels, so that each
 * curve can be found on its own. */
static ClMetricRow *
make_rows (int n, int64_t step_every, double level)
{
  ClMetricRow *rows = g_new0 (ClMetricRow, n);
  for (int i = 0; i < n; i++)
    {
      double t = (double) i / n;
      rows[i].step = (i + 1) * step_every;
      rows[i].loss = (float) (level - 0.5 * t);
      rows[i].alignment = (float) (-level - 1.0 + 0.3 * t);
      rows[i].distribution = rows[i].loss - rows[i].alignment;
      rows[i].contrastive_acc = (float) (0.2 + 0.1 * level * t);
      rows[i].code_collision = NAN;
    }
  return rows;
}

static ClLossPlotStyle
plain_style (void)
{
  ClLossPlotStyle style;
  cl_loss_plot_style_init (&style);
  style.ema = 0.0; /* the curves go exactly through the data */
  style.show_raw = FALSE;
  style.title = "Contrastive loss";
  return style;
}

static Image
draw_loss (const ClMetricRow *rows, int n, const ClLossPlotStyle *style, ClLossPlotLayout *g)
{
  cairo_t *cr;
  Image im = image_new (W, H, 1.0, &cr);
  cl_loss_plot_draw_full (cr, W, H, rows, n, NULL, 0, style, g);
  image_finish (&im, cr);
  return im;
}

/* ------------------------------------------------------------------ the loss */

static void
test_loss_overlay (void)
{
  /* this run: 200 steps at loss ~2; an earlier run went to step 600 at loss ~6 */
  ClMetricRow *rows = make_rows (200, 1, 2.0);
  ClMetricRow *old = make_rows (300, 2, 6.0);
  ClLossPlotStyle style = plain_style ();
  ClLossPlotLayout alone_g, g;
  Image alone = draw_loss (rows, 200, &style, &alone_g);
  ClLossPlotRun overlay = { old, 300, "Run 1" };
  style.overlays = &overlay;
  style.n_overlays = 1;
  style.overlays_label = "earlier run (faded): Run 1";
  Image im = draw_loss (rows, 200, &style, &g);
  maybe_save (&im, "overlay-loss");

  /* the axes span both runs */
  g_assert_cmpfloat (alone_g.x_ticks.hi, <, 600.0);
  g_assert_cmpfloat (g.x_ticks.hi, >=, 600.0);
  g_assert_cmpfloat (g.left_ticks.hi, >=, 6.0);
  g_assert_cmpfloat (g.left_ticks.lo, <=, -7.0);

  /* the overlay's total loss, faded, where only it has data (steps 300..600) */
  ClRgb blue = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  ClRgb faded = over_background (blue, CL_LOSS_PLOT_OVERLAY_ALPHA);
  /* a 1-unit line at alpha 0.3 covers one or two pixel rows: each at most 0.3 opaque */
  const double lo = 0.06, hi = CL_LOSS_PLOT_OVERLAY_ALPHA + 0.03;
  long faded_on_curve = 0, solid_on_curve = 0;
  for (int i = 160; i < 290; i += 10)
    {
      double x = cl_plot_scale_map (&g.x, (double) old[i].step);
      double y = cl_plot_scale_map (&g.left, old[i].loss);
      faded_on_curve += count_blend (&im, blue, lo, hi, x - 1, y - 2, x + 1, y + 2) > 0;
      solid_on_curve += count_blend (&im, blue, 0.6, 1.1, x - 1, y - 3, x + 1, y + 3);
      /* 15 units off the curve: nothing of it */
      g_assert_cmpint (count_blend (&im, blue, lo, 1.1, x - 1, y - 18, x + 1, y - 14), ==, 0);
    }
  g_assert_cmpint (faded_on_curve, ==, 13);
  g_assert_cmpint (solid_on_curve, ==, 0); /* faded, not in the live colour */
  /* every series of the overlay is there, faded in its own colour: a pixel of it in nearly
   * every column where only the overlay has data */
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    {
      ClRgb c = cl_loss_plot_series_color (s);
      int columns = 0, hits = 0;
      for (double x = cl_plot_scale_map (&g.x, 420.0); x < cl_plot_scale_map (&g.x, 580.0); x += 1.0)
        {
          columns++;
          hits += count_blend (&im, c, lo, hi, x, g.plot.y, x + 1, g.plot.y + g.plot.h) > 0;
        }
      g_assert_cmpint (hits, >, 0.8 * columns);
    }
  /* the live run still draws in full colour on top */
  double x = cl_plot_scale_map (&g.x, (double) rows[100].step), y = cl_plot_scale_map (&g.left, rows[100].loss);
  g_assert_cmpint (count_near (&im, blue, 0.1, x - 1, y - 2, x + 2, y + 2), >, 0);
  /* without the overlay, no faded blue anywhere beyond the live run's last step */
  g_assert_cmpint (count_blend (&alone, blue, lo, hi, cl_plot_scale_map (&alone_g.x, 205.0), alone_g.plot.y,
                                alone_g.plot.x + alone_g.plot.w, alone_g.plot.y + alone_g.plot.h),
                   ==, 0);

  /* a legend entry: the faded sample and its text, in a legend taller or as tall as before */
  g_assert_cmpfloat (g.legend.h, >=, alone_g.legend.h);
  g_assert_cmpint (
      count_near (&im, faded, 0.04, g.legend.x, g.legend.y, g.legend.x + g.legend.w, g.legend.y + g.legend.h) +
          count_blend (&im, blue, lo, hi, g.legend.x, g.legend.y, g.legend.x + g.legend.w, g.legend.y + g.legend.h),
      >=, 10);
  g_assert_cmpint (count_ink (&im, g.legend.x, g.legend.y, g.legend.x + g.legend.w, g.legend.y + g.legend.h), >,
                   count_ink (&alone, alone_g.legend.x, alone_g.legend.y, alone_g.legend.x + alone_g.legend.w,
                              alone_g.legend.y + alone_g.legend.h) +
                       300);

  /* a broken overlay (no rows) changes nothing but the legend */
  ClLossPlotRun empty = { NULL, 5, "nothing" };
  style.overlays = &empty;
  ClLossPlotLayout eg;
  Image e = draw_loss (rows, 200, &style, &eg);
  g_assert_cmpfloat (eg.x_ticks.hi, ==, alone_g.x_ticks.hi);
  image_free (&e);
  image_free (&im);
  image_free (&alone);
  g_free (rows);
  g_free (old);
}

/* Along a curve, columns with the curve's colour nearby: all of them for a solid line, a
 * part for a dashed one. */
static double
coverage_along (const Image *im, const ClLossPlotLayout *g, const ClMetricRow *rows, int from, int to, ClRgb c)
{
  int covered = 0, columns = 0;
  for (int i = from; i < to; i++)
    {
      double x = cl_plot_scale_map (&g->x, (double) rows[i].step);
      double y = cl_plot_scale_map (&g->left, rows[i].loss);
      columns++;
      covered += count_near (im, c, 0.2, x, y - 2.5, x + 1, y + 2.5) > 0;
    }
  return (double) covered / columns;
}

static void
test_loss_compare (void)
{
  ClMetricRow *a = make_rows (300, 1, 2.0);
  ClMetricRow *b = make_rows (300, 1, 4.0);
  ClLossPlotStyle style = plain_style ();
  ClLossPlotRun other = { b, 300, "Run 4 · loss.temperature=0.5" };
  style.compare = &other;
  style.label_a = "Run 3 · loss.temperature=0.1";
  ClLossPlotLayout g;
  Image im = draw_loss (a, 300, &style, &g);
  maybe_save (&im, "compare-loss");
  ClRgb blue = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  /* shared axes: both runs' curves fit */
  g_assert_cmpfloat (g.left_ticks.hi, >=, 4.0);
  g_assert_cmpfloat (g.left_ticks.lo, <=, -5.0);
  /* A solid, B dashed, in the same colour */
  double solid = coverage_along (&im, &g, a, 20, 280, blue);
  double dashed = coverage_along (&im, &g, b, 20, 280, blue);
  g_test_message ("total loss coverage along the curve: A %.2f, B %.2f", solid, dashed);
  g_assert_cmpfloat (solid, >, 0.97);
  g_assert_cmpfloat (dashed, >, 0.4);
  g_assert_cmpfloat (dashed, <, 0.85);

  /* the legend names A and B and shows a dashed sample: more ink than the plain legend */
  ClLossPlotStyle plain = plain_style ();
  ClLossPlotLayout pg;
  Image p = draw_loss (a, 300, &plain, &pg);
  g_assert_cmpfloat (g.legend.h, >, pg.legend.h);
  g_assert_cmpint (count_ink (&im, 0, g.legend.y, W, g.legend.y + g.legend.h), >,
                   count_ink (&p, 0, pg.legend.y, W, pg.legend.y + pg.legend.h) + 600);
  image_free (&p);

  /* B alone (A not started yet): no "waiting" note over B's curves */
  Image only_b = draw_loss (NULL, 0, &style, &g);
  g_assert_cmpfloat (coverage_along (&only_b, &g, b, 20, 280, blue), >, 0.4);
  image_free (&only_b);
  image_free (&im);
  g_free (a);
  g_free (b);
}

/* ---------------------------------------------------------------- the probes */

static ClProbeRow *
make_probes (int steps, int every, double level, int *n_out)
{
  int n_steps = steps / every + 1;
  ClProbeRow *p = g_new0 (ClProbeRow, 2 * n_steps);
  int n = 0;
  for (int k = 0; k < n_steps; k++)
    {
      int64_t step = (int64_t) k * every;
      double t = (double) k / MAX (n_steps - 1, 1);
      p[n] = (ClProbeRow){ step, "class", (float) (level * (0.4 + 0.6 * t)), 0.1f };
      n++;
      p[n] = (ClProbeRow){ step, "bits", (float) (0.5 + 0.1 * t), 0.5f };
      n++;
    }
  *n_out = n;
  return p;
}

/* Summed opacity of c over the pixels in the corners of the box of half side r around (x, y):
 * outside the circle of radius r, and off a horizontal line through the point. */
static double
corner_ink (const Image *im, ClRgb c, double x, double y, double r)
{
  ClRgb bg = cl_plot_color_background ();
  double dr = c.r - bg.r, dg = c.g - bg.g, db = c.b - bg.b, d2 = dr * dr + dg * dg + db * db;
  double ink = 0;
  for (int py = (int) floor (y - r - 1); py <= (int) ceil (y + r + 1); py++)
    for (int px = (int) floor (x - r - 1); px <= (int) ceil (x + r + 1); px++)
      {
        double dx = px + 0.5 - x, dy = py + 0.5 - y;
        if (fabs (dx) > r + 0.5 || fabs (dy) > r + 0.5 || hypot (dx, dy) < r + 0.5 || fabs (dy) < 2.0)
          continue;
        ClRgb p = pixel_at (im, px, py);
        double t = ((p.r - bg.r) * dr + (p.g - bg.g) * dg + (p.b - bg.b) * db) / d2;
        ink += CLAMP (t, 0.0, 1.0);
      }
  return ink;
}

static Image
draw_probes (const ClProbeRow *rows, int n, const ClProbePlotOthers *others, ClProbePlotLayout *g)
{
  cairo_t *cr;
  Image im = image_new (W, H, 1.0, &cr);
  cl_probe_plot_draw_runs (cr, W, H, rows, n, NULL, 0, "Linear-probe accuracy", others, g);
  image_finish (&im, cr);
  return im;
}

static void
test_probe_overlay (void)
{
  int n, n_old;
  ClProbeRow *rows = make_probes (500, 50, 0.9, &n);
  ClProbeRow *old = make_probes (1500, 100, 0.6, &n_old);
  ClProbePlotLayout alone_g, g;
  Image alone = draw_probes (rows, n, NULL, &alone_g);
  ClProbePlotRun overlay = { old, n_old, NULL };
  ClProbePlotOthers others = { &overlay, 1, NULL, NULL, NULL, NULL, 0, NULL, NULL };
  Image im = draw_probes (rows, n, &others, &g);
  maybe_save (&im, "overlay-probes");
  g_assert_cmpint (g.n_targets, ==, 2);
  g_assert_cmpfloat (alone_g.x_ticks.hi, <, 1500.0);
  g_assert_cmpfloat (g.x_ticks.hi, >=, 1500.0);
  /* the earlier run's class line, faded, beyond this run's last step */
  ClRgb faded = over_background (cl_probe_plot_target_color (0), CL_PROBE_PLOT_OVERLAY_ALPHA);
  int found = 0, checked = 0;
  for (int i = 0; i < n_old; i += 2)
    {
      if (old[i].step <= 600 || old[i].step >= 1500)
        continue;
      /* half way to the next point: on the line, away from any marker */
      double x = cl_plot_scale_map (&g.x, old[i].step + 50.0);
      double y = cl_plot_scale_map (&g.y, 0.5 * (old[i].accuracy + old[i + 2].accuracy));
      checked++;
      found += count_blend (&im, cl_probe_plot_target_color (0), 0.06, CL_PROBE_PLOT_OVERLAY_ALPHA + 0.03, x - 1, y - 2,
                            x + 1, y + 2) > 0;
      g_assert_cmpint (count_near (&im, cl_probe_plot_target_color (0), 0.15, x - 2, y - 3, x + 2, y + 3), ==, 0);
    }
  g_assert_cmpint (checked, ==, 8);
  g_assert_cmpint (found, ==, checked);
  /* a legend entry, named by default */
  g_assert_cmpint (count_near (&im, faded, 0.04, 0, g.legend.y, W, g.legend.y + g.legend.h) +
                       count_blend (&im, cl_probe_plot_target_color (0), 0.06, CL_PROBE_PLOT_OVERLAY_ALPHA + 0.03, 0,
                                    g.legend.y, W, g.legend.y + g.legend.h),
                   >=, 10);
  g_assert_cmpint (count_ink (&im, 0, g.legend.y, W, g.legend.y + g.legend.h), >,
                   count_ink (&alone, 0, alone_g.legend.y, W, alone_g.legend.y + alone_g.legend.h) + 300);

  /* a target only an overlay has gets its own colour and legend entry */
  ClProbeRow extra[2] = { { 0, "tint", 0.3f, 0.2f }, { 1000, "tint", 0.4f, 0.2f } };
  ClProbePlotRun with_tint = { extra, 2, NULL };
  others.overlays = &with_tint;
  ClProbePlotLayout tg;
  Image t = draw_probes (rows, n, &others, &tg);
  g_assert_cmpint (tg.n_targets, ==, 3);
  g_assert_cmpstr (tg.targets[2], ==, "tint");
  image_free (&t);
  image_free (&im);
  image_free (&alone);
  g_free (rows);
  g_free (old);
}

static void
test_probe_compare (void)
{
  int n_a, n_b;
  ClProbeRow *a = make_probes (1000, 100, 0.9, &n_a);
  ClProbeRow *b = make_probes (1000, 100, 0.5, &n_b);
  ClProbePlotRun other = { b, n_b, "Run 2 · data.bits=8" };
  ClProbePlotOthers others = { NULL, 0, NULL, &other, "Run 1 · data.bits=0", NULL, 0, NULL, NULL };
  ClProbePlotLayout g;
  Image im = draw_probes (a, n_a, &others, &g);
  maybe_save (&im, "compare-probes");
  g_assert_true (g.markers);
  ClRgb c = cl_probe_plot_target_color (0);
  double r = 3.2; /* the figure's point radius */
  /* A's class points are round, B's square: ink in the corners of the marker's box, outside
   * its circle, tells them apart. Flat lines of one target keep those corners clear. */
  ClProbeRow flat_a[11], flat_b[11];
  for (int i = 0; i < 11; i++)
    {
      flat_a[i] = (ClProbeRow){ i * 100, "class", 0.8f, 0.1f };
      flat_b[i] = (ClProbeRow){ i * 100, "class", 0.4f, 0.1f };
    }
  ClProbePlotRun flat_other = { flat_b, 11, "B" };
  ClProbePlotOthers flat = { NULL, 0, NULL, &flat_other, "A", NULL, 0, NULL, NULL };
  ClProbePlotLayout fg;
  Image shapes = draw_probes (flat_a, 11, &flat, &fg);
  maybe_save (&shapes, "compare-probes-markers");
  for (int i = 1; i < 11; i++)
    {
      double x = cl_plot_scale_map (&fg.x, (double) flat_a[i].step);
      double ya = cl_plot_scale_map (&fg.y, 0.8), yb = cl_plot_scale_map (&fg.y, 0.4);
      g_assert_cmpfloat (color_distance (user_pixel (&shapes, x, ya), c), <, 0.1);
      g_assert_cmpfloat (color_distance (user_pixel (&shapes, x, yb), c), <, 0.1);
      double ink_a = corner_ink (&shapes, c, x, ya, r), ink_b = corner_ink (&shapes, c, x, yb, r);
      g_test_message ("corner ink: A %.2f B %.2f", ink_a, ink_b);
      /* a square of half side r fills those corners (about 3 px of ink with this margin), a
       * disc leaves them empty but for antialiasing */
      g_assert_cmpfloat (ink_b, >, 2.0);
      g_assert_cmpfloat (ink_a, <, 0.5);
    }
  image_free (&shapes);

  /* B's line is dashed: between two points, gaps */
  int on = 0, total = 0;
  for (int i = 2; i + 2 < n_b; i += 2)
    {
      for (double f = 0.2; f <= 0.8; f += 0.05)
        {
          double step = b[i].step + f * (double) (b[i + 2].step - b[i].step);
          double acc = b[i].accuracy + f * (b[i + 2].accuracy - b[i].accuracy);
          double x = cl_plot_scale_map (&g.x, step), y = cl_plot_scale_map (&g.y, acc);
          total++;
          on += count_near (&im, c, 0.2, x - 0.5, y - 2, x + 0.5, y + 2) > 0;
        }
    }
  g_test_message ("B class line coverage between points: %d of %d", on, total);
  g_assert_cmpint (on, >, total / 3);
  g_assert_cmpint (on, <, total * 9 / 10);
  image_free (&im);
  g_free (a);
  g_free (b);
}

/* ------------------------------------------------------- through cl_figures */

static ClSnapshot *
snapshot_of (ClMetricRow *rows, int n_rows, ClProbeRow *probes, int n_probes, const char *config)
{
  return cl_snapshot_new_from_rows (rows, n_rows, NULL, 0, probes, n_probes, NULL, 0, g_strdup (config));
}

static void
test_figures_pass_through (void)
{
  const char *config_a = "[loss]\nkind=ntxent\ntemperature=0.1\n[train]\nseed=1\nbatch=256\n";
  const char *config_b = "[loss]\nkind=ntxent\ntemperature=0.5\n[train]\nseed=1\nbatch=256\n";
  int n_pa, n_pb;
  ClProbeRow *pa = make_probes (300, 50, 0.9, &n_pa), *pb = make_probes (900, 50, 0.5, &n_pb);
  ClSnapshot *a = snapshot_of (make_rows (300, 1, 2.0), 300, pa, n_pa, config_a);
  ClSnapshot *b = snapshot_of (make_rows (300, 3, 5.0), 300, pb, n_pb, config_b);

  /* the A/B legend names the parameter that differs */
  g_autofree char *la = cl_figure_compare_label (a, b, "Run 1", 0);
  g_autofree char *lb = cl_figure_compare_label (a, b, NULL, 1);
  g_assert_cmpstr (la, ==, "Run 1 · loss.temperature=0.1");
  g_assert_cmpstr (lb, ==, "other run · loss.temperature=0.5");
  g_autofree char *same = cl_figure_compare_label (a, a, "Run 1", 1);
  g_assert_cmpstr (same, ==, "Run 1 (same parameters)");

  ClFigureOptions o;
  cl_figure_options_init (&o);
  const ClSnapshot *overlays[] = { b };
  const char *labels[] = { "Run 2" };
  for (int kind = CL_FIGURE_LOSS; kind <= CL_FIGURE_PROBES; kind++)
    {
      cairo_t *cr;
      Image plain = image_new (W, H, 1.0, &cr);
      cl_figure_draw_with (kind, cr, W, H, a, &o);
      image_finish (&plain, cr);

      ClFigureOptions with = o;
      with.overlays = overlays;
      with.overlay_labels = labels;
      with.n_overlays = 1;
      Image over = image_new (W, H, 1.0, &cr);
      cl_figure_draw_with (kind, cr, W, H, a, &with);
      image_finish (&over, cr);
      maybe_save (&over, kind == CL_FIGURE_LOSS ? "figure-loss-overlay" : "figure-probes-overlay");

      ClFigureOptions ab = o;
      ab.compare = b;
      ab.label_a = "Run 1";
      ab.label_b = "Run 2";
      Image cmp = image_new (W, H, 1.0, &cr);
      cl_figure_draw_with (kind, cr, W, H, a, &ab);
      image_finish (&cmp, cr);
      maybe_save (&cmp, kind == CL_FIGURE_LOSS ? "figure-loss-compare" : "figure-probes-compare");

      /* the overlay's faded colour appears only with the overlay; B's full colour (dashed)
       * appears in the right part of the plot, where only B has data (A stops at step 300,
       * B at 900, on an axis to about 1000) */
      ClRgb c =
          kind == CL_FIGURE_LOSS ? cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL) : cl_probe_plot_target_color (0);
      long faded_plain = count_blend (&plain, c, 0.06, 0.33, 0, 0, W, H);
      long faded_over = count_blend (&over, c, 0.06, 0.33, 0, 0, W, H);
      g_assert_cmpint (faded_over, >, faded_plain + 100);
      g_assert_cmpint (count_near (&cmp, c, 0.15, 0.6 * W, 0.15 * H, 0.85 * W, H), >, 100);
      g_assert_cmpint (count_blend (&over, c, 0.06, 0.33, 0.6 * W, 0.15 * H, 0.85 * W, H), >, 100);
      image_free (&plain);
      image_free (&over);
      image_free (&cmp);
    }
  cl_snapshot_unref (a);
  cl_snapshot_unref (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/overlays/loss-faded", test_loss_overlay);
  g_test_add_func ("/figures/overlays/loss-compare", test_loss_compare);
  g_test_add_func ("/figures/overlays/probes-faded", test_probe_overlay);
  g_test_add_func ("/figures/overlays/probes-compare", test_probe_compare);
  g_test_add_func ("/figures/overlays/figures-pass-through", test_figures_pass_through);
  return g_test_run ();
}
