/* The loss-curve figure (ui/plots/cl_loss_plot.h), checked on the pixels it draws. */
#include "ui/plots/cl_loss_plot.h"
#include "ui/plots/cl_plot_common.h"

#include "tests/figures/pixel_counts.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ pixel tools */

typedef struct
{
  Image im;           /* device pixels (tests/figures/plot_pixels.h) */
  ClLossPlotLayout g; /* in user units */
} Render;

static Render
render_plot (double width, double height, double scale, const ClMetricRow *rows, int n_rows, const ClEvent *events,
             int n_events, const ClLossPlotStyle *style)
{
  Render r;
  cairo_t *cr;
  r.im = image_new (width, height, scale, &cr);
  cl_loss_plot_draw_full (cr, width, height, rows, n_rows, events, n_events, style, &r.g);
  image_finish (&r.im, cr);
  return r;
}

static void
render_free (Render *r)
{
  image_free (&r->im);
}

/* ----------------------------------------------------------- test data */

#define N_ROWS 300

/* Smooth, well separated curves: loss 6.0 -> 4.8, alignment -9 -> -8.5, distribution
 * 7 -> 13, accuracy 0.1 -> 0.9, all linear in the row index. */
static ClMetricRow *
make_rows (int n)
{
  ClMetricRow *rows = g_new0 (ClMetricRow, n);
  for (int i = 0; i < n; i++)
    {
      double t = n > 1 ? i / (double) (n - 1) : 0.0;
      rows[i].step = i + 1;
      rows[i].seconds = 0.1f * i;
      rows[i].loss = (float) (6.0 - 1.2 * t);
      rows[i].alignment = (float) (-9.0 + 0.5 * t);
      rows[i].distribution = (float) (7.0 + 6.0 * t);
      rows[i].contrastive_acc = (float) (0.1 + 0.8 * t);
      rows[i].temperature = 0.1f;
      rows[i].lr = 0.01f;
    }
  return rows;
}

static ClLossPlotStyle
raw_style (void)
{
  ClLossPlotStyle style;
  cl_loss_plot_style_init (&style);
  style.ema = 0.0; /* exact values: curves go where the data say */
  style.show_raw = FALSE;
  style.title = "test";
  return style;
}

/* ------------------------------------------------------------ figure tests */

/* Pixel rows (user units) where series s should be at step. */
static double
expected_y (const ClLossPlotLayout *g, ClLossSeries s, const ClMetricRow *row)
{
  switch (s)
    {
    case CL_LOSS_SERIES_TOTAL:
      return cl_plot_scale_map (&g->left, row->loss);
    case CL_LOSS_SERIES_ALIGNMENT:
      return cl_plot_scale_map (&g->left, row->alignment);
    case CL_LOSS_SERIES_DISTRIBUTION:
      return cl_plot_scale_map (&g->left, row->distribution);
    case CL_LOSS_SERIES_ACCURACY:
    case CL_LOSS_SERIES_COUNT:
    default:
      return cl_plot_scale_map (&g->right, row->contrastive_acc);
    }
}

static void
test_background_and_series (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClLossPlotStyle style = raw_style ();
  Render r = render_plot (800, 450, 1.0, rows, N_ROWS, NULL, 0, &style);
  const ClLossPlotLayout *g = &r.g;

  /* white-ish background in every corner */
  int corners[4][2] = { { 0, 0 }, { r.im.width - 1, 0 }, { 0, r.im.height - 1 }, { r.im.width - 1, r.im.height - 1 } };
  for (int i = 0; i < 4; i++)
    {
      ClRgb p = pixel_at (&r.im, corners[i][0], corners[i][1]);
      g_assert_cmpfloat (MIN (p.r, MIN (p.g, p.b)), >=, 0.94);
      g_assert_cmpfloat (color_distance (p, cl_plot_color_background ()), <, 1e-9);
    }

  /* the plot area is a sensible part of the figure */
  g_assert_cmpfloat (g->plot.x, >, 20);
  g_assert_cmpfloat (g->plot.y, >, 20);
  g_assert_cmpfloat (g->plot.w, >, 0.7 * 800);
  g_assert_cmpfloat (g->plot.h, >, 0.6 * 450);
  g_assert_cmpfloat (g->plot.x + g->plot.w, <, 800);
  g_assert_cmpfloat (g->plot.y + g->plot.h, <, 450);

  /* axes: the right one is accuracy 0..1 on the full height, the left covers the data */
  g_assert_cmpfloat_with_epsilon (cl_plot_scale_map (&g->right, 0.0), g->plot.y + g->plot.h, 1e-9);
  g_assert_cmpfloat_with_epsilon (cl_plot_scale_map (&g->right, 1.0), g->plot.y, 1e-9);
  g_assert_cmpfloat (g->left_ticks.lo, <=, -9.0);
  g_assert_cmpfloat (g->left_ticks.hi, >=, 13.0);
  g_assert_cmpfloat (g->left_ticks.hi - g->left_ticks.lo, <=, 2.0 * (13.0 + 9.0));
  g_assert_cmpfloat (g->x_ticks.lo, <=, 1.0);
  g_assert_cmpfloat (g->x_ticks.hi, >=, N_ROWS);

  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    {
      ClRgb c = cl_loss_plot_series_color (s);
      /* a curve spanning the plot covers at least one pixel per column */
      long in_plot = count_covered (&r.im, c, g->plot.x, g->plot.y, g->plot.x + g->plot.w, g->plot.y + g->plot.h);
      g_assert_cmpint (in_plot, >, (long) (0.8 * g->plot.w));
      /* and appears in the legend, above the plot */
      long in_legend = count_covered (&r.im, c, 0, 0, r.im.width, g->plot.y - 1);
      g_assert_cmpint (in_legend, >=, 15);

      /* the curve passes where the data put it, at three steps */
      int sample_rows[3] = { 30, 150, 270 };
      for (int k = 0; k < 3; k++)
        {
          const ClMetricRow *row = &rows[sample_rows[k]];
          double x = cl_plot_scale_map (&g->x, (double) row->step);
          double y = expected_y (g, s, row);
          /* the data are chosen so no other curve is near: the check sees this one only */
          for (int o = 0; o < CL_LOSS_SERIES_COUNT; o++)
            if (o != s)
              g_assert_cmpfloat (fabs (expected_y (g, o, row) - y), >, 8.0);
          g_assert_cmpint (count_covered (&r.im, c, x - 1, y - 3, x + 2, y + 3), >=, 2);
          /* and not 20 units away from it */
          g_assert_cmpint (count_covered (&r.im, c, x - 1, y - 26, x + 2, y - 20), ==, 0);
        }
    }
  render_free (&r);
  g_free (rows);
}

static void
test_event_markers (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClEvent events[2] = {
    make_event (100, "loss.temperature", "0.1", "0.2"),
    make_event (200, "aug.jitter", "0.4", "0.8"),
  };
  ClLossPlotStyle style = raw_style ();
  Render r = render_plot (800, 450, 1.0, rows, N_ROWS, events, 2, &style);
  const ClLossPlotLayout *g = &r.g;
  ClRgb marker = cl_plot_color_marker ();

  g_assert_cmpint (g->events_labelled, ==, 2);
  g_assert_cmpint (g->event_label_rows, ==, 1);
  g_assert_cmpfloat (g->event_band.h, >, 5.0);
  g_assert_cmpfloat (g->event_band.y + g->event_band.h, <=, g->plot.y);

  for (int e = 0; e < 2; e++)
    {
      double x = cl_plot_scale_map (&g->x, (double) events[e].step);
      /* dashed: more than a third of the column, but not all of it */
      long on_marker = count_near (&r.im, marker, 0.08, x - 1, g->plot.y, x + 1, g->plot.y + g->plot.h);
      g_assert_cmpint (on_marker, >, (long) (g->plot.h / 3));
      g_assert_cmpint (on_marker, <, (long) (0.9 * g->plot.h));
      /* its label sits in the band above, drawn in the text colour near the marker */
      long text = count_near (&r.im, cl_plot_color_text (), 0.3, x - 60, g->event_band.y, x + 60,
                              g->event_band.y + g->event_band.h);
      g_assert_cmpint (text, >, 20);
    }
  /* between the markers there is no marker colour */
  double between = cl_plot_scale_map (&g->x, 150.0);
  g_assert_cmpint (count_near (&r.im, marker, 0.08, between - 5, g->plot.y, between + 5, g->plot.y + g->plot.h), ==, 0);

  /* the same figure without events has no marker pixels at all in the plot */
  Render plain = render_plot (800, 450, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_cmpint (count_near (&plain.im, marker, 0.08, plain.g.plot.x + 2, plain.g.plot.y,
                               plain.g.plot.x + plain.g.plot.w - 2, plain.g.plot.y + plain.g.plot.h),
                   ==, 0);
  g_assert_cmpfloat (plain.g.event_band.h, ==, 0.0);
  render_free (&plain);
  render_free (&r);
  g_free (rows);
}

static void
test_crowded_events (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClEvent events[12];
  for (int i = 0; i < 12; i++)
    events[i] = make_event (100 + i, i % 2 ? "aug.jitter" : "loss.temperature", "0", "0.123456789");
  events[11] = make_event (5000, "train.lr", "0.1", "0.01"); /* beyond the rows: x widens */
  /* a value cut inside a UTF-8 sequence must not put the cairo_t in an error state */
  memset (events[10].new_value, 'x', sizeof events[10].new_value);
  events[10].new_value[sizeof events[10].new_value - 1] = (char) 0xCF;
  memset (events[9].key, 'k', sizeof events[9].key); /* no terminating NUL at all */
  ClLossPlotStyle style = raw_style ();
  style.title = "bad \xFF title";
  Render r = render_plot (600, 400, 1.0, rows, N_ROWS, events, 12, &style);
  g_assert_cmpint (r.g.event_label_rows, <=, 3);
  g_assert_cmpint (r.g.events_labelled, >=, 3);
  g_assert_cmpint (r.g.events_labelled, <, 12);
  g_assert_cmpfloat (r.g.x_ticks.hi, >=, 5000.0);
  g_assert_cmpfloat (r.g.plot.h, >, 150.0); /* the band does not eat the plot */
  render_free (&r);
  g_free (rows);
}

static void
test_empty_plot (void)
{
  ClLossPlotStyle style = raw_style ();
  Render r = render_plot (600, 400, 1.0, NULL, 0, NULL, 0, &style);
  const ClLossPlotLayout *g = &r.g;
  g_assert_cmpfloat (g->plot.w, >, 300);
  g_assert_cmpfloat (g->plot.h, >, 200);
  g_assert_cmpint (g->left_ticks.n, >=, 2);
  g_assert_cmpint (g->x_ticks.n, >=, 2);

  /* the axes are there: the left spine is a column of axis colour */
  long spine =
      count_near (&r.im, cl_plot_color_axis (), 0.1, g->plot.x - 1, g->plot.y, g->plot.x + 1, g->plot.y + g->plot.h);
  g_assert_cmpint (spine, >, (long) (0.9 * g->plot.h));
  /* the note is written in the middle */
  double cx = g->plot.x + 0.5 * g->plot.w, cy = g->plot.y + 0.5 * g->plot.h;
  g_assert_cmpint (count_near (&r.im, cl_plot_color_muted (), 0.12, cx - 100, cy - 10, cx + 100, cy + 10), >, 30);
  /* no curve anywhere in the plot */
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    g_assert_cmpint (count_covered (&r.im, cl_loss_plot_series_color (s), g->plot.x + 2, g->plot.y + 2,
                                    g->plot.x + g->plot.w - 2, g->plot.y + g->plot.h - 2),
                     ==, 0);
  render_free (&r);

  /* degenerate sizes and NULL style do not crash */
  cairo_surface_t *tiny = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 40, 30);
  cairo_t *cr = cairo_create (tiny);
  ClMetricRow *rows = make_rows (5);
  cl_loss_plot_draw (cr, 40, 30, rows, 5, NULL, 0, NULL);
  cl_loss_plot_draw (cr, 0, 0, rows, 5, NULL, 0, NULL);
  cl_loss_plot_draw (cr, NAN, 30, rows, 5, NULL, 0, NULL);
  cl_loss_plot_draw (cr, 40, 30, rows, 1, NULL, 0, NULL); /* a single point */
  ClLossPlotLayout g2;
  cl_loss_plot_layout (cr, NAN, INFINITY, rows, 5, NULL, 0, NULL, &g2);
  g_assert_true (isfinite (g2.plot.w) && isfinite (g2.plot.h) && g2.plot.w >= 1.0 && g2.plot.h >= 1.0);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (tiny);
  g_free (rows);
}

static void
test_nan_rows (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  rows[0].loss = rows[0].alignment = rows[0].distribution = rows[0].contrastive_acc = NAN;
  for (int i = 7; i < N_ROWS; i += 7)
    rows[i].loss = NAN;
  rows[50].alignment = INFINITY;
  rows[60].distribution = -INFINITY;
  rows[70].contrastive_acc = NAN;
  rows[80].loss = 1e30f * 1e30f; /* +inf from float overflow */

  for (int smoothed = 0; smoothed < 2; smoothed++)
    {
      ClLossPlotStyle style = raw_style ();
      style.ema = smoothed ? 0.9 : 0.0;
      style.show_raw = smoothed;
      Render r = render_plot (800, 450, 1.0, rows, N_ROWS, NULL, 0, &style);
      const ClLossPlotLayout *g = &r.g;
      /* the axis still fits the finite data, not the infinities */
      g_assert_true (isfinite (g->left_ticks.lo) && isfinite (g->left_ticks.hi));
      g_assert_cmpfloat (g->left_ticks.lo, <=, -9.0);
      g_assert_cmpfloat (g->left_ticks.lo, >=, -20.0);
      g_assert_cmpfloat (g->left_ticks.hi, >=, 13.0);
      g_assert_cmpfloat (g->left_ticks.hi, <=, 20.0);
      for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
        g_assert_cmpint (count_covered (&r.im, cl_loss_plot_series_color (s), g->plot.x, g->plot.y,
                                        g->plot.x + g->plot.w, g->plot.y + g->plot.h),
                         >, (long) (0.8 * g->plot.w));
      render_free (&r);
    }

  /* nothing finite at all: axes with default ranges, no crash */
  for (int i = 0; i < N_ROWS; i++)
    rows[i].loss = rows[i].alignment = rows[i].distribution = rows[i].contrastive_acc = NAN;
  ClLossPlotStyle style = raw_style ();
  Render r = render_plot (600, 400, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_true (isfinite (r.g.left_ticks.lo) && r.g.left_ticks.lo < r.g.left_ticks.hi);
  render_free (&r);
  g_free (rows);
}

static void
test_scale_2x (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClEvent events[1] = { make_event (150, "loss.temperature", "0.1", "0.2") };
  ClLossPlotStyle style = raw_style ();
  Render one = render_plot (700, 420, 1.0, rows, N_ROWS, events, 1, &style);
  Render two = render_plot (700, 420, 2.0, rows, N_ROWS, events, 1, &style);

  /* the same layout in user units */
  g_assert_cmpfloat_with_epsilon (one.g.plot.x, two.g.plot.x, 1e-6);
  g_assert_cmpfloat_with_epsilon (one.g.plot.y, two.g.plot.y, 1e-6);
  g_assert_cmpfloat_with_epsilon (one.g.plot.w, two.g.plot.w, 1e-6);
  g_assert_cmpfloat_with_epsilon (one.g.plot.h, two.g.plot.h, 1e-6);
  g_assert_cmpfloat (one.g.left_ticks.step, ==, two.g.left_ticks.step);
  g_assert_cmpfloat (one.g.x_ticks.step, ==, two.g.x_ticks.step);

  /* every line covers four times the pixels */
  for (int s = 0; s < CL_LOSS_SERIES_COUNT; s++)
    {
      ClRgb c = cl_loss_plot_series_color (s);
      long n1 = count_covered (&one.im, c, 0, 0, 700, 420);
      long n2 = count_covered (&two.im, c, 0, 0, 700, 420);
      double ratio = (double) n2 / (double) n1;
      g_test_message ("series %d: %ld px at 1x, %ld px at 2x, ratio %.2f", s, n1, n2, ratio);
      g_assert_cmpfloat (ratio, >, 3.8);
      g_assert_cmpfloat (ratio, <, 4.2);
    }
  /* the marker is in the same place */
  double x = cl_plot_scale_map (&one.g.x, 150.0);
  long m1 =
      count_near (&one.im, cl_plot_color_marker (), 0.08, x - 1, one.g.plot.y, x + 1, one.g.plot.y + one.g.plot.h);
  long m2 =
      count_near (&two.im, cl_plot_color_marker (), 0.08, x - 1, two.g.plot.y, x + 1, two.g.plot.y + two.g.plot.h);
  g_assert_cmpint (m1, >, 50);
  g_assert_cmpint (m2, >, 3 * m1);
  g_assert_cmpint (m2, <, 5 * m1);
  render_free (&one);
  render_free (&two);
  g_free (rows);
}

/* 100k rows: decimation keeps drawing fast and keeps a one-step spike visible. */
static void
test_many_rows (void)
{
  const int n = 100000;
  ClMetricRow *rows = g_new0 (ClMetricRow, n);
  guint32 state = 7;
  for (int i = 0; i < n; i++)
    {
      state = state * 1664525u + 1013904223u;
      double noise = (state >> 8) / 16777216.0 - 0.5;
      double t = i / (double) (n - 1);
      rows[i].step = i + 1;
      rows[i].loss = (float) (6.5 - 1.7 * t + 0.2 * noise);
      rows[i].alignment = (float) (-9.0 + 0.5 * t + 0.2 * noise);
      rows[i].distribution = (float) (7.0 + 6.0 * t + 0.2 * noise);
      rows[i].contrastive_acc = (float) (0.1 + 0.8 * t + 0.05 * noise);
    }
  rows[n / 2].loss = 14.0f; /* one spike among 100k */

  ClLossPlotStyle style = raw_style ();
  style.ema = 0.0; /* the spike must survive */
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 900, 500);
  cairo_t *cr = cairo_create (surface);
  ClLossPlotLayout g;
  cl_loss_plot_draw_full (cr, 900, 500, rows, n, NULL, 0, &style, &g); /* warm the font cache */
  const int repeats = 5;
  gint64 start = g_get_monotonic_time ();
  for (int k = 0; k < repeats; k++)
    cl_loss_plot_draw_full (cr, 900, 500, rows, n, NULL, 0, &style, &g);
  double ms_raw = (g_get_monotonic_time () - start) / 1000.0 / repeats;
  style.ema = 0.9;
  style.show_raw = TRUE;
  start = g_get_monotonic_time ();
  for (int k = 0; k < repeats; k++)
    cl_loss_plot_draw_full (cr, 900, 500, rows, n, NULL, 0, &style, &g);
  double ms_smoothed = (g_get_monotonic_time () - start) / 1000.0 / repeats;
  g_test_message ("100k rows at 900x500: %.1f ms raw, %.1f ms smoothed + faint raw", ms_raw, ms_smoothed);
  /* far above the measured time (see the message); catches a per-point cost blow-up */
  g_assert_cmpfloat (ms_raw, <, 1000.0);

  /* redraw the raw version to look for the spike */
  style.ema = 0.0;
  style.show_raw = FALSE;
  cl_loss_plot_draw_full (cr, 900, 500, rows, n, NULL, 0, &style, &g);
  cairo_surface_flush (surface);
  Render r = { { surface, 900, 500, 1.0 }, g };
  double x = cl_plot_scale_map (&g.x, (double) rows[n / 2].step);
  double spike_y = cl_plot_scale_map (&g.left, 14.0);
  double base_y = cl_plot_scale_map (&g.left, 6.5 - 1.7 * 0.5);
  g_assert_cmpfloat (base_y - spike_y, >, 40.0);
  ClRgb blue = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  g_assert_cmpint (count_covered (&r.im, blue, x - 2, spike_y - 2, x + 2, spike_y + 4), >, 0);
  g_assert_cmpint (
      count_covered (&r.im, blue, x - 2, 0.5 * (spike_y + base_y) - 3, x + 2, 0.5 * (spike_y + base_y) + 3), >, 0);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  g_free (rows);
}

/* The faint raw loss, when shown, must fit the axis too; when hidden, its outliers must not
 * stretch the axis of the smoothed curves. */
static void
test_raw_loss_range (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  for (int i = 20; i < N_ROWS; i += 40)
    rows[i].loss = 30.0f; /* rare outliers: EMA 0.9 damps them to about 8.5 */
  ClLossPlotStyle style = raw_style ();
  style.ema = 0.9;
  style.show_raw = TRUE;
  Render shown = render_plot (800, 450, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_cmpfloat (shown.g.left_ticks.hi, >=, 30.0);
  /* the raw line is drawn faintly: blended with white, lighter than the smoothed line */
  ClRgb c = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  double spike_x = cl_plot_scale_map (&shown.g.x, (double) rows[140].step);
  double spike_y = cl_plot_scale_map (&shown.g.left, 30.0);
  ClRgb faint = { 1 - 0.28 * (1 - c.r), 1 - 0.28 * (1 - c.g), 1 - 0.28 * (1 - c.b) };
  g_assert_cmpint (count_near (&shown.im, faint, 0.08, spike_x - 3, spike_y, spike_x + 3, spike_y + 10), >, 0);
  g_assert_cmpint (count_covered (&shown.im, c, spike_x - 3, spike_y, spike_x + 3, spike_y + 10), ==, 0);
  render_free (&shown);

  style.show_raw = FALSE;
  Render hidden = render_plot (800, 450, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_cmpfloat (hidden.g.left_ticks.hi, <, 30.0);
  g_assert_cmpfloat (hidden.g.left_ticks.hi, >=, 13.0);
  render_free (&hidden);
  g_free (rows);
}

static void
test_font_scale_and_title (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClLossPlotStyle style = raw_style ();
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 10, 10);
  cairo_t *cr = cairo_create (surface);
  ClLossPlotLayout normal, big, untitled;
  cl_loss_plot_layout (cr, 800, 450, rows, N_ROWS, NULL, 0, &style, &normal);
  style.font_scale = 2.0;
  cl_loss_plot_layout (cr, 800, 450, rows, N_ROWS, NULL, 0, &style, &big);
  style.font_scale = 1.0;
  style.title = NULL;
  cl_loss_plot_layout (cr, 800, 450, rows, N_ROWS, NULL, 0, &style, &untitled);
  /* bigger text takes more room around the plot; no title gives room back */
  g_assert_cmpfloat (big.plot.x, >, normal.plot.x);
  g_assert_cmpfloat (big.plot.y, >, normal.plot.y);
  g_assert_cmpfloat (big.plot.h, <, normal.plot.h);
  g_assert_cmpfloat (untitled.plot.y, <, normal.plot.y);
  g_assert_cmpfloat (untitled.plot.h, >, normal.plot.h);

  /* layout and draw agree */
  ClLossPlotLayout drawn;
  style.title = "test";
  cl_loss_plot_draw_full (cr, 800, 450, rows, N_ROWS, NULL, 0, &style, &drawn);
  g_assert_cmpfloat (drawn.plot.x, ==, normal.plot.x);
  g_assert_cmpfloat (drawn.plot.y, ==, normal.plot.y);
  g_assert_cmpfloat (drawn.plot.w, ==, normal.plot.w);
  g_assert_cmpfloat (drawn.plot.h, ==, normal.plot.h);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  g_free (rows);
}

/* ------------------------------------------------------- the view (instruments) */

/* A loss falling over three decades, 10 -> 0.01, exponentially in the step. */
static ClMetricRow *
make_decay_rows (int n)
{
  ClMetricRow *rows = make_rows (n);
  for (int i = 0; i < n; i++)
    rows[i].loss = (float) (10.0 * pow (1e-3, i / (double) (n - 1)));
  return rows;
}

/* The topmost y in column x (user units) whose pixel is covered by colour c, or NaN. */
static double
top_covered (const Render *r, ClRgb c, double x, double y0, double y1)
{
  int px = (int) floor (x * r->im.scale);
  for (int y = (int) floor (y0 * r->im.scale); y < (int) ceil (y1 * r->im.scale); y++)
    if (covered_by (pixel_at (&r->im, px, y), c))
      return (y + 0.5) / r->im.scale;
  return NAN;
}

static void
test_loss_log_y (void)
{
  ClMetricRow *rows = make_decay_rows (N_ROWS);
  ClLossPlotStyle style = raw_style ();
  ClPlotView view;
  cl_plot_view_init (&view);
  view.log_y = TRUE;
  style.view = &view;
  Render r = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_true (r.g.log_y);
  g_assert_true (r.g.left_ticks.log10);
  /* the axis spans the data's decades: 0.01 .. 10 */
  g_assert_cmpfloat (r.g.left.d0, <=, -2.0 + 1e-9);
  g_assert_cmpfloat (r.g.left.d1, >=, 1.0 - 1e-9);
  g_assert_cmpfloat (r.g.left.d1 - r.g.left.d0, <=, 4.0 + 1e-9);
  /* an exponential decay is a straight line on a log axis: the curve at the middle step sits
   * half way between its ends */
  ClRgb total = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  double x_mid = cl_plot_scale_map (&r.g.x, rows[N_ROWS / 2].step);
  double y_mid = cl_plot_scale_map (&r.g.left, log10 (rows[N_ROWS / 2].loss));
  double y_first = cl_plot_scale_map (&r.g.left, log10 (rows[0].loss));
  double y_last = cl_plot_scale_map (&r.g.left, log10 (rows[N_ROWS - 1].loss));
  g_assert_cmpfloat (fabs (y_mid - 0.5 * (y_first + y_last)), <, 1.5);
  double found = top_covered (&r, total, x_mid, y_mid - 6, y_mid + 6);
  g_assert_true (isfinite (found));
  g_assert_cmpfloat (fabs (found - y_mid), <, 2.5);
  /* on a linear axis the second half of the decay (0.3 -> 0.01) is flat: the middle step sits
   * within 2% of the axis from the last one */
  ClLossPlotStyle plain = raw_style ();
  Render linear = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &plain);
  g_assert_false (linear.g.log_y);
  double y_lin = cl_plot_scale_map (&linear.g.left, rows[N_ROWS / 2].loss);
  double y_lin_last = cl_plot_scale_map (&linear.g.left, rows[N_ROWS - 1].loss);
  g_assert_cmpfloat (fabs (y_lin - y_lin_last), <, 0.02 * linear.g.plot.h);
  /* tick labels print values, not exponents */
  char label[32];
  cl_plot_ticks_format (&r.g.left_ticks, -2.0, label, sizeof label);
  g_assert_cmpstr (label, ==, "0.01");
  cl_plot_ticks_format (&r.g.left_ticks, 1.0, label, sizeof label);
  g_assert_cmpstr (label, ==, "10");
  render_free (&linear);
  render_free (&r);
  g_free (rows);
}

static void
test_loss_zoom (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClLossPlotStyle style = raw_style ();
  ClPlotView view;
  cl_plot_view_init (&view);
  view.x_lo = 100;
  view.x_hi = 150;
  style.view = &view;
  Render r = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  /* the step axis is exactly the window */
  g_assert_cmpfloat (r.g.x.d0, ==, 100.0);
  g_assert_cmpfloat (r.g.x.d1, ==, 150.0);
  /* and the loss axis fits the values inside it: 6 - 1.2 t over t in [0.33, 0.5] and the other
   * series; the total loss at step 125 is where the scales say */
  ClRgb total = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  double x = cl_plot_scale_map (&r.g.x, 125.0);
  double y = cl_plot_scale_map (&r.g.left, rows[124].loss);
  double found = top_covered (&r, total, x, y - 6, y + 6);
  g_assert_true (isfinite (found));
  g_assert_cmpfloat (fabs (found - y), <, 2.5);
  /* nothing of the curves is drawn left of the plot (the rest of the run is outside) */
  g_assert_cmpint (count_covered (&r.im, total, 0, r.g.plot.y + 2, r.g.plot.x - 6, r.g.plot.y + r.g.plot.h - 2), ==, 0);
  /* a y window is shown as it is */
  view.y_lo = 5.0;
  view.y_hi = 5.5;
  Render ry = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_cmpfloat (ry.g.left.d0, ==, 5.0);
  g_assert_cmpfloat (ry.g.left.d1, ==, 5.5);
  g_assert_true (cl_plot_view_zoomed (&view));
  render_free (&ry);
  render_free (&r);
  g_free (rows);
}

/* A zoomed chart's legend marks the series it shows nothing of (faint sample, "(not in view)"),
 * in the one drawing path the screen and an export share. */
static void
test_loss_zoom_legend (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClLossPlotStyle style = raw_style ();
  ClPlotView view;
  cl_plot_view_init (&view);
  style.view = &view;
  ClRgb total = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  ClRgb alignment = cl_loss_plot_series_color (CL_LOSS_SERIES_ALIGNMENT);
  ClRgb distribution = cl_loss_plot_series_color (CL_LOSS_SERIES_DISTRIBUTION);
  ClRgb accuracy = cl_loss_plot_series_color (CL_LOSS_SERIES_ACCURACY);
  /* unzoomed: every series' sample is in the legend */
  Render whole = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  const ClPlotRect *lg = &whole.g.legend;
  g_assert_cmpint (count_covered (&whole.im, alignment, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  g_assert_cmpint (count_covered (&whole.im, distribution, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  /* steps 100-150, loss 4.5-6: only the total loss (5.4-5.6) and the accuracy (right axis) are in view */
  view.x_lo = 100;
  view.x_hi = 150;
  view.y_lo = 4.5;
  view.y_hi = 6.0;
  Render r = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  lg = &r.g.legend;
  g_assert_cmpint (count_covered (&r.im, total, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  g_assert_cmpint (count_covered (&r.im, accuracy, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  g_assert_cmpint (count_covered (&r.im, alignment, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), ==, 0);
  g_assert_cmpint (count_covered (&r.im, distribution, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), ==, 0);
  /* a window the distribution only crosses between two rows still shows it: between steps 100
   * and 101 it goes 8.9866 -> 9.0067, through 8.992-9.0 at steps 100.2-100.8 */
  view.x_lo = 100.2;
  view.x_hi = 100.8;
  view.y_lo = 8.992;
  view.y_hi = 9.0;
  Render crossing = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  lg = &crossing.g.legend;
  g_assert_cmpint (count_covered (&crossing.im, distribution, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  g_assert_cmpint (count_covered (&crossing.im, total, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), ==, 0);
  /* on a log axis the alignment (negative throughout) is not drawn, and the legend says so */
  cl_plot_view_init (&view);
  view.log_y = TRUE;
  Render log = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  lg = &log.g.legend;
  g_assert_cmpint (count_covered (&log.im, alignment, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), ==, 0);
  g_assert_cmpint (count_covered (&log.im, total, lg->x, lg->y, lg->x + lg->w, lg->y + lg->h), >, 10);
  render_free (&log);
  render_free (&crossing);
  render_free (&r);
  render_free (&whole);
  g_free (rows);
}

static void
test_loss_smoothing_and_crosshair (void)
{
  /* a noisy loss: +-0.5 alternating around the line */
  ClMetricRow *rows = make_rows (N_ROWS);
  for (int i = 0; i < N_ROWS; i++)
    rows[i].loss += (float) (i % 2 ? 0.5 : -0.5);
  ClLossPlotStyle style = raw_style ();
  ClPlotView view;
  cl_plot_view_init (&view);
  style.view = &view;
  ClRgb total = cl_loss_plot_series_color (CL_LOSS_SERIES_TOTAL);
  view.ema = 0.0;
  Render raw = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  view.ema = 0.95;
  Render smooth = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  const ClPlotRect *p = &raw.g.plot;
  long n_raw = count_covered (&raw.im, total, p->x, p->y, p->x + p->w, p->y + p->h);
  long n_smooth = count_covered (&smooth.im, total, p->x, p->y, p->x + p->w, p->y + p->h);
  g_test_message ("total-loss pixels: raw %ld, smoothed %ld", n_raw, n_smooth);
  /* the zigzag covers a band a unit tall; the smoothed line is a thin curve */
  g_assert_cmpint (n_raw, >, 4 * n_smooth);

  /* the crosshair at step 137: the row it names, a vertical line there, a readout box */
  view.ema = 0.0;
  view.hover_x = 137.4;
  Render hover = render_plot (900, 500, 1.0, rows, N_ROWS, NULL, 0, &style);
  g_assert_cmpint (hover.g.hover_row, ==, 136);
  g_assert_cmpint ((int) rows[hover.g.hover_row].step, ==, 137);
  double x = cl_plot_scale_map (&hover.g.x, 137.0);
  /* the line: the column at that step differs from the plain figure over most of the plot */
  int rows_changed = 0, n = 0;
  for (double y = hover.g.plot.y + 0.55 * hover.g.plot.h; y < hover.g.plot.y + 0.95 * hover.g.plot.h; y += 1.0, n++)
    rows_changed += color_distance (pixel_at (&hover.im, (int) floor (x), (int) y),
                                    pixel_at (&raw.im, (int) floor (x), (int) y)) > 0.1;
  g_assert_cmpint (rows_changed, >, n / 2);
  /* the readout box beside it differs from the plain figure */
  long changed = 0;
  for (int y = (int) hover.g.plot.y; y < (int) (hover.g.plot.y + 90); y++)
    for (int xx = (int) x + 4; xx < (int) x + 160 && xx < hover.im.width; xx++)
      changed += color_distance (pixel_at (&hover.im, xx, y), pixel_at (&raw.im, xx, y)) > 0.1;
  g_assert_cmpint (changed, >, 300);
  /* no hover: no row */
  g_assert_cmpint (raw.g.hover_row, ==, -1);
  render_free (&hover);
  render_free (&raw);
  render_free (&smooth);
  g_free (rows);
}

static void
test_loss_font_scale_from_view (void)
{
  ClMetricRow *rows = make_rows (N_ROWS);
  ClLossPlotStyle style = raw_style ();
  ClPlotView view;
  cl_plot_view_init (&view);
  style.view = &view;
  Render one = render_plot (480, 320, 1.0, rows, N_ROWS, NULL, 0, &style);
  view.font_scale = 0.72;
  Render small = render_plot (480, 320, 1.0, rows, N_ROWS, NULL, 0, &style);
  /* smaller text leaves more of a narrow figure to the data */
  g_assert_cmpfloat (small.g.plot.w, >, one.g.plot.w + 8);
  g_assert_cmpfloat (small.g.plot.h, >, one.g.plot.h + 8);
  render_free (&one);
  render_free (&small);
  g_free (rows);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figures/loss/background-and-series", test_background_and_series);
  g_test_add_func ("/figures/loss/event-markers", test_event_markers);
  g_test_add_func ("/figures/loss/crowded-events", test_crowded_events);
  g_test_add_func ("/figures/loss/empty", test_empty_plot);
  g_test_add_func ("/figures/loss/nan-rows", test_nan_rows);
  g_test_add_func ("/figures/loss/scale-2x", test_scale_2x);
  g_test_add_func ("/figures/loss/many-rows", test_many_rows);
  g_test_add_func ("/figures/loss/raw-loss-range", test_raw_loss_range);
  g_test_add_func ("/figures/loss/font-scale-and-title", test_font_scale_and_title);
  g_test_add_func ("/figures/loss/log-y", test_loss_log_y);
  g_test_add_func ("/figures/loss/zoom", test_loss_zoom);
  g_test_add_func ("/figures/loss/zoom-legend", test_loss_zoom_legend);
  g_test_add_func ("/figures/loss/smoothing-and-crosshair", test_loss_smoothing_and_crosshair);
  g_test_add_func ("/figures/loss/font-scale-from-view", test_loss_font_scale_from_view);
  return g_test_run ();
}
