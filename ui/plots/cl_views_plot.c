#include "ui/plots/cl_views_plot.h"
#include "ui/plots/cl_plot_theme.h"

#include "engine/analysis/cl_collisions.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ui/plots/cl_plot_common.h"
#include "engine/base/cl_params.h"

/* One view as a cairo image; pixel values are clamped to [0, 1] (noise can leave them outside). */
static cairo_surface_t *
view_surface (const ClViewPreview *p, int pair, int view)
{
  int w = p->width, h = p->height, plane = w * h;
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_surface_flush (img);
  unsigned char *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  const float *src = p->pixels + (size_t) (2 * pair + view) * p->channels * plane;
  for (int y = 0; y < h; y++)
    {
      uint32_t *row = (uint32_t *) (data + (size_t) y * stride);
      for (int x = 0; x < w; x++)
        {
          float rgb[3];
          for (int c = 0; c < 3; c++)
            {
              float v = src[(size_t) (p->channels == 3 ? c : 0) * plane + y * w + x];
              rgb[c] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
          row[x] = ((uint32_t) lrintf (rgb[0] * 255) << 16) | ((uint32_t) lrintf (rgb[1] * 255) << 8) |
                   (uint32_t) lrintf (rgb[2] * 255);
        }
    }
  cairo_surface_mark_dirty (img);
  return img;
}

static void
draw_bits (cairo_t *cr, double x, double y, double cell, uint32_t code, uint32_t other, int bits)
{
  for (int k = 0; k < bits; k++)
    {
      int v = (code >> k) & 1u;
      double cx = x + k * cell;
      cairo_rectangle (cr, cx + 0.5, y + 0.5, cell - 1, cell - 1);
      cl_plot_set_rgb (cr, v ? (ClRgb){ 0.1, 0.1, 0.1 } : (ClRgb){ 0.97, 0.97, 0.97 });
      cairo_fill_preserve (cr);
      /* A bit the other view does not share (re-drawn by data.bit_resample) is outlined in vermillion. */
      gboolean differs = ((code ^ other) >> k) & 1u;
      cl_plot_set_rgb (cr, differs ? cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION) : cl_plot_color_axis ());
      cairo_set_line_width (cr, differs ? 1.5 : 0.5);
      cairo_stroke (cr);
    }
}

/* How the views sit in an area: one computation, used to draw them and to find the height they
 * need (cl_views_plot_height_for), so a figure exported at that height has no empty band. */
#define VIEWS_LABEL_W 56.0
#define VIEWS_GAP 10.0
#define VIEWS_STRIP_GAP 4.0
#define VIEWS_NOTE_GAP 8.0 /* between the second row and the note */

typedef struct
{
  int n;         /* pairs */
  double col_w;  /* one column */
  double bits_h; /* a bit strip and its gap (0 without bits) */
  double img;    /* side of a view */
  double cell;   /* side of a bit square */
  char **note;   /* the note's lines */
  int n_note;
  double note_size; /* its font size */
  double note_h;    /* its height */
} ViewsLayout;

static void
views_note (const ClViewPreview *p, char *note, gsize size)
{
  if (p->bits > 0)
    g_snprintf (note, size,
                "Squares: the %d bit planes appended to each view (black = 1). Outlined red: re-drawn for view 2 "
                "(data.bit_resample).",
                p->bits);
  else
    g_snprintf (note, size, "Batch of step %" G_GINT64_FORMAT "; no bit planes (data.bits = 0).", p->step);
}

/* The layout of the views in an area area_w wide and area_h high (area_h <= 0: as high as the width
 * lets the views grow). FALSE when the views would be under 8 px (l->note is then NULL). */
static gboolean
views_layout (cairo_t *cr, double area_w, double area_h, const ClViewPreview *p, double scale, ViewsLayout *l)
{
  memset (l, 0, sizeof *l);
  l->n = p->n_pairs;
  l->col_w = (area_w - VIEWS_LABEL_W - VIEWS_GAP * (l->n - 1)) / l->n;
  l->bits_h = p->bits > 0 ? MIN (l->col_w / MAX (p->bits, 8), 14.0) + VIEWS_STRIP_GAP : 0;
  char note[200];
  views_note (p, note, sizeof note);
  cairo_save (cr);
  l->note_size = cl_plot_wrap_fit (cr, note, cl_plot_theme (scale).label_font, 9 * cl_plot_theme (scale).scale, area_w,
                                   2, &l->note, &l->n_note);
  l->note_h = l->n_note * cl_plot_text_height (cr);
  cairo_restore (cr);
  double fit_h = (area_h - 2 * l->bits_h - VIEWS_GAP - VIEWS_NOTE_GAP - l->note_h) / 2;
  l->img = area_h > 0 ? MIN (l->col_w, fit_h) : l->col_w;
  if (l->img < 8)
    {
      g_clear_pointer (&l->note, g_strfreev);
      return FALSE;
    }
  l->cell = p->bits > 0 ? MIN (l->img / MAX (p->bits, 8), 14.0) : 0;
  return TRUE;
}

/* Height of the views with their note. */
static double
views_block_height (const ViewsLayout *l)
{
  return 2 * (l->img + l->bits_h) + VIEWS_GAP + VIEWS_NOTE_GAP + l->note_h;
}

/* The views (and their bit strips) inside area, with a note under them; centred vertically when
 * centre is set and the area is higher than they need. Returns the rectangle they took. */
static ClPlotRect
draw_views (cairo_t *cr, const ClPlotRect *area_in, const ClViewPreview *p, double scale, gboolean centre)
{
  ClPlotRect area = *area_in;
  if (!p || p->n_pairs == 0 || !p->pixels)
    {
      cl_plot_note_draw (cr, &area, "waiting for the first batch", 13);
      return area;
    }
  ViewsLayout l;
  if (!views_layout (cr, area.w, area.h, p, scale, &l))
    {
      cl_plot_note_draw (cr, &area, "too small to show the views", 12);
      return area;
    }
  int n = l.n;
  double img = l.img, bits_h = l.bits_h, col_w = l.col_w, gap = VIEWS_GAP;
  double block_h = views_block_height (&l);
  if (centre && area.h > block_h)
    area.y += floor ((area.h - block_h) / 2);
  cl_plot_font (cr, cl_plot_theme (scale).heading_font, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  for (int v = 0; v < 2; v++)
    {
      double y = area.y + v * (img + bits_h + gap);
      cl_plot_text (cr, area.x, y + img / 2, v == 0 ? "view 1" : "view 2", 0, 0.5, 0);
      for (int i = 0; i < n; i++)
        {
          double x = area.x + VIEWS_LABEL_W + i * (col_w + gap) + (col_w - img) / 2;
          cairo_surface_t *s = view_surface (p, i, v);
          cairo_save (cr);
          cairo_translate (cr, x, y);
          cairo_scale (cr, img / p->width, img / p->height);
          cairo_set_source_surface (cr, s, 0, 0);
          /* Nearest-neighbour: the pixels the network sees, not a smoothed impression of them. */
          cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
          cairo_paint (cr);
          cairo_restore (cr);
          cairo_surface_destroy (s);
          if (p->bits > 0)
            draw_bits (cr, x, y + img + VIEWS_STRIP_GAP, l.cell, p->codes[i][v], p->codes[i][1 - v], p->bits);
        }
    }
  cl_plot_font (cr, l.note_size, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  double line_h = cl_plot_text_height (cr);
  double y0 = area.y + 2 * (img + bits_h) + gap + VIEWS_NOTE_GAP;
  for (int i = 0; i < l.n_note; i++)
    cl_plot_text (cr, area.x, y0 + i * line_h, l.note[i], 0, 0, 0);
  g_strfreev (l.note);
  return (ClPlotRect){ area.x, area.y, area.w, MIN (block_h, area_in->h) };
}

/* ------------------------------------------------------------ collision meter */

ClRgb
cl_views_plot_measured_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_BLUE);
}

ClRgb
cl_views_plot_theory_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION);
}

/* data.bits before the first recorded change. */
static int
initial_bits (const ClCollisionMeter *m)
{
  for (int i = 0; i < m->n_events; i++)
    if (strcmp (m->events[i].key, "data.bits") == 0)
      return atoi (m->events[i].old_value);
  return m->bits;
}

/* data.bits in force at step (events are in step order). */
static int
bits_at (const ClCollisionMeter *m, int64_t step, int start_bits)
{
  int bits = start_bits;
  for (int i = 0; i < m->n_events; i++)
    if (m->events[i].step <= step && strcmp (m->events[i].key, "data.bits") == 0)
      bits = atoi (m->events[i].new_value);
  return bits;
}

/* Mean measured sharing over the latest rows at the bits now in force (a batch is noisy). */
static double
recent_measured (const ClCollisionMeter *m, int start_bits)
{
  double sum = 0;
  int n = 0;
  for (int i = m->n_rows - 1; i >= 0 && n < 20; i--)
    {
      if (bits_at (m, m->rows[i].step, start_bits) != m->bits)
        break;
      if (isfinite (m->rows[i].code_collision))
        {
          sum += m->rows[i].code_collision;
          n++;
        }
    }
  return n > 0 ? sum / n : NAN;
}

static void
small_axes (cairo_t *cr, const ClPlotRect *plot, const ClPlotScale *x, const ClPlotTicks *xt, const ClPlotScale *y,
            const ClPlotTicks *yt, const char *x_title, const ClPlotAxisStyle *style)
{
  cl_plot_grid_draw (cr, plot, NULL, NULL, y, yt, 1.0);
  cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_LEFT, y, yt, NULL, style, NULL);
  cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_BOTTOM, x, xt, x_title, style, NULL);
}

const char *
cl_views_plot_meter_note (const ClCollisionMeter *m)
{
  if (m == NULL || m->bits > 0)
    return NULL;
  for (int i = 0; i < m->n_rows; i++)
    if (isfinite (m->rows[i].code_collision))
      return NULL; /* bits earlier in the run: their history is shown */
  return "Nothing to measure: this run gives its images no bit code (Random bits per image, data.bits = 0), "
         "so there is no code to share. Raise Random bits per image in the sidebar (e.g. to 8): every image "
         "then carries a random code that both views keep, and this meter plots how often another image of "
         "the batch has the same code, against the theory below.";
}

#define NOTE_INSET 8.0

/* A note in a light frame of width r.w, wrapped; returns its height (drawn only with draw, and
 * at most r.h high: lines that do not fit are left out). */
static double
draw_note (cairo_t *cr, ClPlotRect r, const char *text, double scale, gboolean draw)
{
  ClPlotTheme look = cl_plot_theme (scale);
  cairo_save (cr);
  char **lines = NULL;
  int n_lines = 0;
  cl_plot_wrap_fit (cr, text, look.label_font, MAX (8.0, 0.8 * look.label_font), r.w - 2 * NOTE_INSET, 8, &lines,
                    &n_lines);
  double line_h = cl_plot_text_height (cr);
  double h = MIN (r.h, n_lines * line_h + 2 * NOTE_INSET);
  if (draw)
    {
      cairo_rectangle (cr, r.x + 0.5, r.y + 0.5, r.w - 1, h - 1);
      cl_plot_set_rgb (cr, cl_plot_mix (cl_plot_color_background (), cl_plot_color_grid (), 0.35));
      cairo_fill_preserve (cr);
      cl_plot_set_rgb (cr, cl_plot_color_grid ());
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      for (int i = 0; i < n_lines && (i + 1) * line_h <= h - 2 * NOTE_INSET + 0.5; i++)
        cl_plot_text (cr, r.x + NOTE_INSET, r.y + NOTE_INSET + i * line_h, lines[i], 0, 0, 0);
    }
  g_strfreev (lines);
  cairo_restore (cr);
  return h;
}

static void
draw_meter (cairo_t *cr, const ClPlotRect *area, const ClCollisionMeter *m, ClViewsPlotLayout *g, double scale)
{
  ClPlotAxisStyle style;
  cl_plot_axis_style_init (&style, 0.85 * cl_plot_theme (scale).scale);
  ClRgb measured = cl_views_plot_measured_color (), theory = cl_views_plot_theory_color ();
  int start_bits = initial_bits (m);
  double y = area->y;

  cl_plot_font (cr, cl_plot_theme (scale).panel_note_font, TRUE);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_text (cr, area->x, y, "Collision meter", 0, 0, 0);
  y += cl_plot_text_height (cr) + 2;
  char **lines = NULL;
  int n_lines = 0;
  cl_plot_wrap_fit (cr,
                    "Share of anchors whose bit code another image of the batch also has. Where it is low, "
                    "the bits alone tell the images apart and the class is suppressed.",
                    10.5 * cl_plot_theme (scale).scale, 9 * cl_plot_theme (scale).scale, area->w, 3, &lines, &n_lines);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  double line_h = cl_plot_text_height (cr);
  for (int i = 0; i < n_lines; i++)
    cl_plot_text (cr, area->x, y + i * line_h, lines[i], 0, 0, 0);
  g_strfreev (lines);
  y += n_lines * line_h + 6;

  /* with no bit code there is nothing to measure: a note says so in place of the over-steps
   * chart; the theory against n still applies */
  const char *note = cl_views_plot_meter_note (m);
  ClPlotLegendEntry legend[] = {
    { "theory 1\u2212(1\u22122\u207b\u207f)\u1d2e\u207b\u00b9", theory, CL_PLOT_LEGEND_DASHED, 1.6, FALSE },
    { "measured (batch)", measured, CL_PLOT_LEGEND_LINE, 1.6, FALSE },
  };
  int n_legend = note != NULL ? 1 : 2;
  y += cl_plot_legend_draw (cr, legend, n_legend, area->x + 0.5 * area->w, y, area->w,
                            cl_plot_theme (scale).small_font) +
       4;

  cl_plot_font (cr, style.tick_font, FALSE);
  double tick_h = cl_plot_text_height (cr);
  cl_plot_font (cr, style.title_font, FALSE);
  double title_h = cl_plot_text_height (cr);
  double x_extent = style.tick_length + style.pad + tick_h + style.pad + title_h;
  double summary_h = 16;
  double chart_h = (area->y + area->h - y - summary_h - 8 - 2 * x_extent) / 2;
  /* the note takes the height it needs (at most a chart's), the theory chart the rest */
  double note_h = 0;
  if (note != NULL)
    {
      note_h = draw_note (cr, (ClPlotRect){ area->x, y + 4, area->w, chart_h + x_extent - 4 }, note, scale, FALSE);
      chart_h = area->y + area->h - y - summary_h - 8 - x_extent - (note_h + 12);
    }
  if (chart_h < 30)
    return;
  ClPlotTicks yt;
  cl_plot_ticks_compute (&yt, 0, 1, 2, FALSE, FALSE);
  double left = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &yt, NULL, &style) + 2;

  /* chart 1: sharing over steps (or the note saying why there is none) */
  if (note != NULL)
    draw_note (cr, (ClPlotRect){ area->x, y + 4, area->w, note_h }, note, scale, TRUE);
  else
    {
      /* chart 1: sharing over steps */
      ClPlotRange steps;
      cl_plot_range_init (&steps);
      cl_plot_range_add (&steps, 0);
      for (int i = 0; i < m->n_rows; i++)
        cl_plot_range_add (&steps, (double) m->rows[i].step);
      ClPlotTicks xt;
      cl_plot_ticks_compute (&xt, 0, MAX (steps.hi, 10), 4, TRUE, TRUE);
      g->steps_plot = (ClPlotRect){ area->x + left, y + 4, area->w - left - 12, chart_h - 4 };
      cl_plot_scale_init (&g->steps_x, xt.lo, xt.hi, g->steps_plot.x, g->steps_plot.x + g->steps_plot.w);
      cl_plot_scale_init (&g->steps_y, 0, 1, g->steps_plot.y + g->steps_plot.h, g->steps_plot.y);
      small_axes (cr, &g->steps_plot, &g->steps_x, &xt, &g->steps_y, &yt, "step", &style);
      if (m->n_rows > 0)
        {
          /* theory: a step function following the bits in force */
          cairo_save (cr);
          cl_plot_set_rgb (cr, theory);
          cairo_set_line_width (cr, 1.6);
          double dash[] = { 5, 3 };
          cairo_set_dash (cr, dash, 2, 0);
          int prev_bits = bits_at (m, m->rows[0].step, start_bits);
          cairo_move_to (cr, cl_plot_scale_map (&g->steps_x, (double) m->rows[0].step),
                         cl_plot_scale_map (&g->steps_y, cl_collision_theory (prev_bits, m->batch)));
          for (int i = 1; i < m->n_rows; i++)
            {
              int b = bits_at (m, m->rows[i].step, start_bits);
              if (b == prev_bits)
                continue;
              double x = cl_plot_scale_map (&g->steps_x, (double) m->rows[i].step);
              cairo_line_to (cr, x, cl_plot_scale_map (&g->steps_y, cl_collision_theory (prev_bits, m->batch)));
              cairo_line_to (cr, x, cl_plot_scale_map (&g->steps_y, cl_collision_theory (b, m->batch)));
              prev_bits = b;
            }
          cairo_line_to (cr, cl_plot_scale_map (&g->steps_x, (double) m->rows[m->n_rows - 1].step),
                         cl_plot_scale_map (&g->steps_y, cl_collision_theory (prev_bits, m->batch)));
          cairo_stroke (cr);
          cairo_restore (cr);

          /* measured: broken where a step had no bits */
          cairo_save (cr);
          cl_plot_set_rgb (cr, measured);
          ClPlotLine line;
          cl_plot_line_begin (&line, cr, 1.4);
          for (int i = 0; i < m->n_rows; i++)
            {
              double v = m->rows[i].code_collision;
              if (!isfinite (v))
                {
                  cl_plot_line_draw (&line);
                  cl_plot_line_begin (&line, cr, 1.4);
                  continue;
                }
              cl_plot_line_add (&line, cl_plot_scale_map (&g->steps_x, (double) m->rows[i].step),
                                cl_plot_scale_map (&g->steps_y, CLAMP (v, 0.0, 1.0)));
            }
          cl_plot_line_draw (&line);
          cairo_restore (cr);
        }
    }
  y += note != NULL ? note_h + 12 : chart_h + x_extent + 8;

  /* chart 2: the theory against n, log2(B) marked, the run's n as a point */
  ClPlotTicks bt;
  cl_plot_ticks_compute (&bt, 0, 24, 6, FALSE, TRUE);
  g->bits_plot = (ClPlotRect){ area->x + left, y + 4, area->w - left - 12, chart_h - 4 };
  cl_plot_scale_init (&g->bits_x, 0, 24, g->bits_plot.x, g->bits_plot.x + g->bits_plot.w);
  cl_plot_scale_init (&g->bits_y, 0, 1, g->bits_plot.y + g->bits_plot.h, g->bits_plot.y);
  small_axes (cr, &g->bits_plot, &g->bits_x, &bt, &g->bits_y, &yt, "data.bits (n)", &style);
  cairo_save (cr);
  cl_plot_set_rgb (cr, theory);
  cairo_set_line_width (cr, 1.6);
  double dash[] = { 5, 3 };
  cairo_set_dash (cr, dash, 2, 0);
  for (int i = 0; i <= 240; i++)
    {
      double n = i / 10.0;
      double px = cl_plot_scale_map (&g->bits_x, n),
             py = cl_plot_scale_map (&g->bits_y, cl_collision_theory_continuous (n, m->batch));
      if (i == 0)
        cairo_move_to (cr, px, py);
      else
        cairo_line_to (cr, px, py);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
  if (m->batch > 1)
    {
      double lb = log2 ((double) m->batch);
      if (lb <= 24)
        {
          double x = cl_plot_scale_map (&g->bits_x, lb);
          cl_plot_vmarker_draw (cr, &g->bits_plot, x, cl_plot_color_marker (), 1.0);
          char text[48];
          g_snprintf (text, sizeof text, "log\u2082 B = %.3g", lb);
          cl_plot_font (cr, cl_plot_theme (scale).small_font, FALSE);
          cl_plot_set_rgb (cr, cl_plot_color_text ());
          gboolean right = x + 4 + cl_plot_text_width (cr, text) < g->bits_plot.x + g->bits_plot.w;
          cl_plot_text (cr, right ? x + 4 : x - 4, g->bits_plot.y + 2, text, right ? 0 : 1, 0, 0);
        }
    }
  double now_theory = cl_collision_theory (m->bits, m->batch);
  double now_measured = recent_measured (m, start_bits);
  double nx = cl_plot_scale_map (&g->bits_x, CLAMP (m->bits, 0, 24));
  /* the run's place on the curve (none without a code: n = 0 is no code, not a shared one) */
  if (m->bits > 0)
    cl_plot_point_draw (cr, nx, cl_plot_scale_map (&g->bits_y, now_theory), 4.5, theory, TRUE);
  if (isfinite (now_measured))
    cl_plot_point_draw (cr, nx, cl_plot_scale_map (&g->bits_y, CLAMP (now_measured, 0.0, 1.0)), 3.2, measured, FALSE);
  y += chart_h + x_extent + 4;

  char summary[160];
  if (m->bits <= 0)
    g_snprintf (summary, sizeof summary, "n = 0 (no bit code), B = %d: nothing to share", m->batch);
  else if (isfinite (now_measured))
    g_snprintf (summary, sizeof summary, "n = %d, B = %d: shared %.2f measured, %.2f in theory", m->bits, m->batch,
                now_measured, now_theory);
  else
    g_snprintf (summary, sizeof summary, "n = %d, B = %d: %.2f in theory, measured from the next step", m->bits,
                m->batch, now_theory);
  cl_plot_font (cr, cl_plot_theme (scale).panel_legend_font, TRUE);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_text (cr, area->x, y, summary, 0, 0, 0);
}

void
cl_views_plot_meter_from_snapshot (ClCollisionMeter *meter, const ClSnapshot *snap)
{
  memset (meter, 0, sizeof *meter);
  if (!snap || !snap->config_ini)
    return;
  ClConfig cfg;
  cl_config_init (&cfg);
  if (!cl_config_load_data (&cfg, snap->config_ini, "snapshot", NULL))
    return;
  meter->rows = snap->rows;
  meter->n_rows = snap->n_rows;
  meter->events = snap->events;
  meter->n_events = snap->n_events;
  meter->batch = cfg.train_batch;
  meter->bits = cfg.data_bits;
  gboolean any_bits = cfg.data_bits > 0;
  for (int i = 0; i < snap->n_events && !any_bits; i++)
    any_bits = strcmp (snap->events[i].key, "data.bits") == 0;
  meter->show = cfg.data_kind == 0 /* randbits */ || any_bits;
}

void
cl_views_plot_draw_full (cairo_t *cr, double width, double height, const ClViewPreview *p,
                         const ClCollisionMeter *meter, ClViewsPlotLayout *layout)
{
  cl_views_plot_draw_scaled (cr, width, height, p, meter, 1.0, layout);
}

/* The title's band: returns where the parts below it start. */
static double
figure_top (cairo_t *cr, double width, double scale, gboolean draw)
{
  return 8 +
         cl_plot_title_draw (cr, width, 8, "What the model sees: two augmented views per image",
                             15 * cl_plot_theme (scale).scale, draw) +
         6;
}

static gboolean
meter_shown (const ClCollisionMeter *meter, double width)
{
  return meter && meter->show && width >= 480;
}

void
cl_views_plot_draw_scaled (cairo_t *cr, double width, double height, const ClViewPreview *p,
                           const ClCollisionMeter *meter, double scale, ClViewsPlotLayout *layout)
{
  ClViewsPlotLayout g;
  memset (&g, 0, sizeof g);
  cairo_save (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);
  cl_plot_text_setup (cr);
  double top = figure_top (cr, width, scale, TRUE);
  g.views = (ClPlotRect){ 16, top + 4, width - 32, height - top - 12 };
  if (meter_shown (meter, width))
    {
      double meter_w = CLAMP (0.36 * width, 240, 380);
      ClPlotRect area = { width - 16 - meter_w, top + 4, meter_w, height - top - 12 };
      g.views.w -= meter_w + 20;
      /* a thin rule between the two parts */
      cairo_save (cr);
      cl_plot_set_rgb (cr, cl_plot_color_grid ());
      cairo_set_line_width (cr, 1);
      double x = cl_plot_snap (cr, area.x - 10, TRUE, 1);
      cairo_move_to (cr, x, area.y);
      cairo_line_to (cr, x, area.y + area.h);
      cairo_stroke (cr);
      cairo_restore (cr);
      g.shown = TRUE;
      draw_meter (cr, &area, meter, &g, scale);
    }
  /* Alone, the views sit in the middle of a figure higher than they need (a window taller than the
   * export); beside the meter they stay at its top. */
  g.views_drawn = draw_views (cr, &g.views, p, scale, !g.shown);
  cairo_restore (cr);
  if (layout)
    *layout = g;
}

double
cl_views_plot_height_for (double width, double height, const ClViewPreview *p, const ClCollisionMeter *meter,
                          double scale)
{
  if (!p || p->n_pairs == 0 || !p->pixels || meter_shown (meter, width))
    return height;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  cl_plot_text_setup (cr);
  double top = figure_top (cr, width, scale, FALSE);
  ViewsLayout l;
  double need = height;
  if (views_layout (cr, width - 32, 0, p, scale, &l))
    {
      need = top + 12 + views_block_height (&l); /* the views' area is height - top - 12 high */
      g_strfreev (l.note);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return MIN (height, ceil (need));
}

void
cl_views_plot_draw_with_meter (cairo_t *cr, double width, double height, const ClViewPreview *p,
                               const ClCollisionMeter *meter)
{
  cl_views_plot_draw_full (cr, width, height, p, meter, NULL);
}

void
cl_views_plot_draw_snapshot (cairo_t *cr, double width, double height, const ClSnapshot *snap)
{
  cl_views_plot_draw_snapshot_scaled (cr, width, height, snap, 1.0);
}

void
cl_views_plot_draw_snapshot_scaled (cairo_t *cr, double width, double height, const ClSnapshot *snap, double scale)
{
  ClCollisionMeter meter;
  cl_views_plot_meter_from_snapshot (&meter, snap);
  cl_views_plot_draw_scaled (cr, width, height, snap ? &snap->preview : NULL, &meter, scale, NULL);
}

void
cl_views_plot_draw (cairo_t *cr, double width, double height, const ClViewPreview *p)
{
  cl_views_plot_draw_full (cr, width, height, p, NULL, NULL);
}
