/* The geometry-of-z figure (ui/plots/cl_geometry_plot.h), checked on the pixels it draws;
 * the loss kind -> prior mapping and the prior legend labels. */
#include "ui/plots/cl_geometry_plot.h"
#include "engine/nn/cl_loss.h"

#include <math.h>
#include <string.h>

#include "tests/figures/pixel_counts.h"

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
render_geometry (double width, double height, double scale, const ClMetricRow *rows, int n_rows, const ClZHistogram *zh,
                 const ClEvent *events, int n_events, ClGeometryPlotLayout *g)
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
      ClGeometryPlotLayout g;
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
      ClGeometryPlotLayout gb;
      Image bars = render_geometry (1200, 400, 1.0, NULL, 0, &bare, NULL, 0, &gb);
      g_assert_false (gb.prior_shown);
      g_assert_cmpfloat (gb.y_ticks[p].hi, ==, g.y_ticks[p].hi);
      g_assert_cmpfloat (gb.x_ticks[p].hi, ==, g.x_ticks[p].hi);
      ClRgb bar = cl_geometry_plot_histogram_color (), edge = cl_geometry_plot_histogram_edge_color ();
      double bw = (zh.hi - zh.lo) / CL_ZHIST_BINS;
      int bins[2] = { CL_ZHIST_BINS / 2 + 1, CL_ZHIST_BINS / 2 + (cube ? 6 : 4) }; /* the cube's bins are wide */
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
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_SPHERE, DIM, 0); /* step 0: no batch yet */
  for (int variant = 0; variant < 2; variant++)
    {
      ClGeometryPlotLayout g;
      Image im = render_geometry (1200, 400, 1.0, NULL, 0, variant ? NULL : &zh, NULL, 0, &g);
      const ClPlotRect *plot = &g.plot[CL_GEOMETRY_PANEL_HISTOGRAM];
      g_assert_false (g.histogram_shown);
      g_assert_cmpint (count_near (&im, cl_geometry_plot_histogram_color (), 0.1, plot->x + 1, plot->y,
                                   plot->x + plot->w, plot->y + plot->h),
                       ==, 0);
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
  ClGeometryPlotLayout g;
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
  g_assert_cmpfloat (g.y_ticks[b].lo, <=, 0.3 + 1e-6); /* the first smoothed value is the first raw one */
  double ya_raw = cl_plot_scale_map (&g.y[b], 0.3);
  g_assert_cmpint (count_covered (&im, ca, x0, ya_raw - 2, x1, ya_raw + 2), ==, 0);

  /* c) z_std against 1/sqrt(d) (dashed) and 0; the axis reaches 1.2/sqrt(d) */
  const int c = CL_GEOMETRY_PANEL_COLLAPSE;
  const ClPlotRect *pc = &g.plot[c];
  g_assert_cmpfloat_with_epsilon (g.uniform_z_std, 1.0 / sqrt (DIM), 1e-12);
  g_assert_cmpfloat (g.y_ticks[c].lo, ==, 0.0);
  g_assert_cmpfloat (g.y_ticks[c].hi, >=, 1.2 / sqrt (DIM));
  double ys = cl_plot_scale_map (&g.y[c], 0.1);
  g_assert_cmpint (columns_with (&im, cl_geometry_plot_z_std_color (), 0.1, cl_plot_scale_map (&g.x[c], 100.0), ys - 3,
                                 cl_plot_scale_map (&g.x[c], 390.0), ys + 3),
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
  ClGeometryPlotLayout g;
  Image im = render_geometry (1200, 400, 1.0, rows, n, &zh, events, 1, &g);
  for (int p = CL_GEOMETRY_PANEL_ALIGN_UNIFORM; p <= CL_GEOMETRY_PANEL_COLLAPSE; p++)
    {
      double x = cl_plot_scale_map (&g.x[p], 200.0);
      long on = count_near (&im, cl_plot_color_marker (), 0.08, x - 1, g.plot[p].y, x + 1, g.plot[p].y + g.plot[p].h);
      g_assert_cmpint (on, >, (long) (g.plot[p].h / 3));
      /* the label is above the plot */
      g_assert_cmpint (count_near (&im, cl_plot_color_text (), 0.3, x - 50, g.plot[p].y - 25, x + 50, g.plot[p].y), >,
                       20);
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
  return inner->x >= outer->x - 1e-9 && inner->y >= outer->y - 1e-9 &&
         inner->x + inner->w <= outer->x + outer->w + 1e-9 && inner->y + inner->h <= outer->y + outer->h + 1e-9;
}

static void
test_geometry_narrow (void)
{
  const int n = 300;
  ClMetricRow *rows = make_geometry_rows (n, 0.5, -3.0, 0.1, 0.05);
  ClZHistogram zh = make_zhist (CL_LOSS_SWD_NORMAL, DIM, n);
  struct
  {
    double w, h;
    int columns;
  } cases[] = { { 1200, 380, 3 }, { 700, 560, 2 }, { 450, 900, 1 } };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      ClGeometryPlotLayout g;
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
              gboolean apart = a->x >= b->x + b->w - 1e-9 || b->x >= a->x + a->w - 1e-9 || a->y >= b->y + b->h - 1e-9 ||
                               b->y >= a->y + a->h - 1e-9;
              g_assert_true (apart);
            }
        }
      /* every series is drawn somewhere in its panel */
      g_assert_cmpint (count_covered (&im, cl_geometry_plot_z_std_color (), g.plot[2].x, g.plot[2].y,
                                      g.plot[2].x + g.plot[2].w, g.plot[2].y + g.plot[2].h),
                       >, (long) (0.8 * g.plot[2].w));
      g_assert_cmpint (count_covered (&im, cl_geometry_plot_uniformity_color (), g.plot[1].x, g.plot[1].y,
                                      g.plot[1].x + g.plot[1].w, g.plot[1].y + g.plot[1].h),
                       >, (long) (0.8 * g.plot[1].w));
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
  ClGeometryPlotLayout g;
  Image im = render_geometry (1200, 400, 1.0, rows, n, &zh, NULL, 0, &g);
  for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
    {
      g_assert_true (isfinite (g.y_ticks[p].lo) && isfinite (g.y_ticks[p].hi));
      g_assert_true (isfinite (g.x_ticks[p].lo) && isfinite (g.x_ticks[p].hi));
    }
  g_assert_cmpfloat (g.y_ticks[1].hi, <, 1.0); /* the NaN did not stretch the axis */
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
  ClGeometryPlotLayout g1, g2;
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

/* ------------------------------------------------------ the prior of a loss */

static void
test_geometry_prior_of_loss (void)
{
  static const ClLossKind spherical[] = { CL_LOSS_SWD_SPHERE, CL_LOSS_NTXENT, CL_LOSS_DECOUPLED };
  static const int dims[] = { 2, 3, 4, 5, 16, 64, 128, 1024 };
  for (size_t k = 0; k < G_N_ELEMENTS (dims); k++)
    /* z of NT-Xent and decoupled is normalised too: the same reference */
    for (size_t s = 0; s < G_N_ELEMENTS (spherical); s++)
      g_assert_cmpfloat (cl_prior_marginal_density (spherical[s], dims[k], 0.3), ==,
                         cl_prior_density (CL_PRIOR_SPHERE, dims[k], 0.3));
  g_assert_cmpint (cl_geometry_plot_prior_of_loss (CL_LOSS_SWD_NORMAL), ==, CL_PRIOR_NORMAL);
  g_assert_cmpint (cl_geometry_plot_prior_of_loss (CL_LOSS_SWD_CUBE), ==, CL_PRIOR_CUBE);
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_NORMAL, 64, 0.7), ==,
                     cl_prior_density (CL_PRIOR_NORMAL, 64, 0.7));
  g_assert_cmpfloat (cl_prior_marginal_density (CL_LOSS_SWD_CUBE, 64, 0.7), ==, 0.5);
  /* no density */
  g_assert_true (isnan (cl_prior_marginal_density (CL_LOSS_SWD_SPHERE, 1, 0.0)));
  g_assert_true (isnan (cl_prior_marginal_density (CL_LOSS_NTXENT, 0, 0.0)));
  g_assert_true (isnan (cl_prior_marginal_density (CL_LOSS_N_KINDS, 64, 0.0)));
  g_assert_true (isnan (cl_prior_marginal_density (-1, 64, 0.0)));

  /* the legend labels */
  char label[64];
  cl_prior_marginal_label (CL_LOSS_SWD_SPHERE, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "prior: uniform sphere, d=64");
  cl_prior_marginal_label (CL_LOSS_SWD_NORMAL, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "prior: N(0, 1)");
  cl_prior_marginal_label (CL_LOSS_SWD_CUBE, 64, label, sizeof label);
  g_assert_cmpstr (label, ==,
                   "prior: U(\xE2\x88\x92"
                   "1, 1)");
  cl_prior_marginal_label (CL_LOSS_NTXENT, 128, label, sizeof label);
  g_assert_nonnull (strstr (label, "uniform sphere, d=128"));
  cl_prior_marginal_label (CL_LOSS_N_KINDS, 64, label, sizeof label);
  g_assert_cmpstr (label, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/geometry/histogram", test_geometry_histogram);
  g_test_add_func ("/figures/geometry/waiting", test_geometry_waiting);
  g_test_add_func ("/figures/geometry/series", test_geometry_series);
  g_test_add_func ("/figures/geometry/events", test_geometry_events);
  g_test_add_func ("/figures/geometry/narrow", test_geometry_narrow);
  g_test_add_func ("/figures/geometry/nan-and-odd", test_geometry_nan_and_odd);
  g_test_add_func ("/figures/geometry/scale-2x", test_geometry_scale_2x);
  g_test_add_func ("/figures/geometry/prior-of-loss", test_geometry_prior_of_loss);
  return g_test_run ();
}
