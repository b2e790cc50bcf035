#include "cl_views_plot.h"

#include <math.h>

#include "cl_plot_common.h"

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
          row[x] = ((uint32_t) lrintf (rgb[0] * 255) << 16) | ((uint32_t) lrintf (rgb[1] * 255) << 8)
                   | (uint32_t) lrintf (rgb[2] * 255);
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
      cl_plot_set_rgb (cr, v ? (ClRgb) { 0.1, 0.1, 0.1 } : (ClRgb) { 0.97, 0.97, 0.97 });
      cairo_fill_preserve (cr);
      /* A bit the other view does not share (re-drawn by data.bit_resample) is outlined in vermillion. */
      gboolean differs = ((code ^ other) >> k) & 1u;
      cl_plot_set_rgb (cr, differs ? cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION) : cl_plot_color_axis ());
      cairo_set_line_width (cr, differs ? 1.5 : 0.5);
      cairo_stroke (cr);
    }
}

void
cl_views_plot_draw (cairo_t *cr, double width, double height, const ClViewPreview *p)
{
  cairo_save (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);
  cl_plot_text_setup (cr);
  double top = 8 + cl_plot_title_draw (cr, width, 8, "What the model sees: two augmented views per image", 15, TRUE) + 6;
  ClPlotRect area = { 16, top + 4, width - 32, height - top - 12 };
  if (!p || p->n_pairs == 0 || !p->pixels)
    {
      cl_plot_note_draw (cr, &area, "waiting for the first batch", 13);
      cairo_restore (cr);
      return;
    }
  int n = p->n_pairs;
  double label_w = 56, gap = 10, strip_gap = 4;
  double col_w = (area.w - label_w - gap * (n - 1)) / n;
  double bits_h = p->bits > 0 ? MIN (col_w / MAX (p->bits, 8), 14.0) + strip_gap : 0;
  double img = MIN (col_w, (area.h - 2 * bits_h - 3 * gap - 20) / 2);
  if (img < 8)
    {
      cl_plot_note_draw (cr, &area, "too small to show the views", 12);
      cairo_restore (cr);
      return;
    }
  double cell = p->bits > 0 ? MIN (img / MAX (p->bits, 8), 14.0) : 0;
  cl_plot_font (cr, 12, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  for (int v = 0; v < 2; v++)
    {
      double y = area.y + v * (img + bits_h + gap);
      cl_plot_text (cr, area.x, y + img / 2, v == 0 ? "view 1" : "view 2", 0, 0.5, 0);
      for (int i = 0; i < n; i++)
        {
          double x = area.x + label_w + i * (col_w + gap) + (col_w - img) / 2;
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
            draw_bits (cr, x, y + img + strip_gap, cell, p->codes[i][v], p->codes[i][1 - v], p->bits);
        }
    }
  char note[160];
  if (p->bits > 0)
    g_snprintf (note, sizeof note,
                "Squares: the %d bit planes appended to each view (black = 1). Outlined red: re-drawn for view 2 "
                "(data.bit_resample).", p->bits);
  else
    g_snprintf (note, sizeof note, "Batch of step %" G_GINT64_FORMAT "; no bit planes (data.bits = 0).", p->step);
  cl_plot_font (cr, 11, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  cl_plot_text (cr, area.x, area.y + 2 * (img + bits_h) + gap + 14, note, 0, 0.5, 0);
  cairo_restore (cr);
}
