#include "ui/plots/cl_heatmap_plot.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

/* The heatmap's own furniture: the colour bar and the group strips beside the matrix. */
#define COLORBAR_GAP 14.0
#define COLORBAR_WIDTH 14.0
#define STRIP 6.0
#define STRIP_GAP 3.0

static ClRgb
view_color (int view)
{
  return view == 0 ? cl_plot_color_axis () : (ClRgb){ 0.75, 0.75, 0.75 };
}

#define BAR_TITLE "cosine similarity"
#define TOO_SMALL 24.0 /* matrix side, user units, below which it is not worth drawing */
/* The smallest text the figure draws (user units, px at 1x): a dashboard panel shrinks the figure
 * to a third of its size, and text that follows it down to 6-7 px is not readable; the matrix
 * gives up the room instead. */
#define LEGIBLE_FONT 9.0

/* The theme at the data's text scale, raised so that the smallest text stays legible. */
static ClPlotTheme
look_of (const ClHeatmapData *d)
{
  double scale = d != NULL && d->font_scale > 0.0 && isfinite (d->font_scale) ? d->font_scale : 1.0;
  return cl_plot_theme (MAX (scale, LEGIBLE_FONT / cl_plot_theme (1.0).small_font));
}

/* The colour-bar ticks the brief fixes, formatted without trailing zeros. */
static const double bar_ticks[] = { -1.0, -0.5, 0.0, 0.5, 1.0 };

static void
bar_tick_label (double v, char *buf, size_t size)
{
  cl_plot_format_number (v, v == floor (v) ? 0 : 1, buf, size);
}

typedef struct
{
  ClHeatmapPlotLayout g;
  int *display;     /* [n] stored row at display position p */
  int *position;    /* [n] display position of stored row r */
  gboolean ordered; /* a valid order was given */
  gboolean strips;  /* view membership strips (the view blocks are broken up) */
  gboolean positives_adjacent;
  const int *group; /* validated: NULL when absent */
  char subtitle[192];
  double subtitle_font;
  char caption[256];
  char **caption_lines; /* the caption wrapped */
  int n_caption_lines;
  double caption_font, caption_line_h;
  double title_y, subtitle_y, caption_y, legend_y;
  double label_right;  /* right edge of the group labels */
  double view_label_x; /* centre of the rotated "view 1/2" labels (stored order) */
  double top_label_y;  /* centre of the "view 1/2" labels above the matrix */
  double bar_label_x;  /* left edge of the tick labels */
  double bar_title_x;  /* centre of the rotated bar title */
  double legend_h;
  const char *note; /* when there is no matrix */
  ClPlotRect note_area;
} Layout;

static void
layout_clear (Layout *l)
{
  g_free (l->display);
  g_free (l->position);
  g_strfreev (l->caption_lines);
  l->display = l->position = NULL;
  l->caption_lines = NULL;
}

/* A valid permutation of 0..n-1, or NULL: user data may be anything. */
static gboolean
valid_order (const int *order, int n)
{
  if (order == NULL)
    return FALSE;
  guint8 *seen = g_new0 (guint8, n);
  gboolean ok = TRUE;
  for (int p = 0; p < n && ok; p++)
    {
      if (order[p] < 0 || order[p] >= n || seen[order[p]])
        ok = FALSE;
      else
        seen[order[p]] = 1;
    }
  g_free (seen);
  return ok;
}

static double
text_height (cairo_t *cr, double size, gboolean bold)
{
  cairo_save (cr);
  cl_plot_font (cr, size, bold);
  double hgt = cl_plot_text_height (cr);
  cairo_restore (cr);
  return hgt;
}

static double
text_width (cairo_t *cr, const char *text, double size, gboolean bold)
{
  cairo_save (cr);
  cl_plot_font (cr, size, bold);
  double wd = cl_plot_text_width (cr, text);
  cairo_restore (cr);
  return wd;
}

/* The largest font size up to size at which text fits in max_width (not below LEGIBLE_FONT). */
static double
fitted_font (cairo_t *cr, const char *text, double size, double max_width)
{
  double wd = text_width (cr, text, size, FALSE);
  if (wd <= max_width || wd <= 0.0)
    return size;
  return MAX (LEGIBLE_FONT, size * max_width / wd);
}

static void
group_label (const ClHeatmapData *d, int id, char *buf, size_t size)
{
  if (d->group_names != NULL && id >= 0 && id < d->n_group_names && d->group_names[id] != NULL)
    g_strlcpy (buf, d->group_names[id], size);
  else
    g_snprintf (buf, size, "%d", id);
}

static void
compute_layout (cairo_t *mc, double w, double h, const ClHeatmapData *d, Layout *l)
{
  ClPlotTheme look = look_of (d);
  memset (l, 0, sizeof *l);
  double y = look.pad;
  l->title_y = y;
  const char *title = d != NULL && d->title != NULL ? d->title : "Batch similarity";
  double title_h = cl_plot_title_draw (mc, w, y, title, look.panel_title_font, FALSE);
  y += title_h + 3.0;

  l->note_area = (ClPlotRect){ look.pad, y, MAX (w - 2 * look.pad, 1.0), MAX (h - y - look.pad, 1.0) };
  if (d == NULL || d->m <= 0 || d->sim == NULL)
    {
      l->note = "no batch yet: the similarity matrix appears after the first logged step";
      return;
    }
  int n = 2 * d->m;
  l->g.n = n;
  l->display = g_new (int, n);
  l->position = g_new (int, n);
  l->ordered = valid_order (d->order, n);
  for (int p = 0; p < n; p++)
    l->display[p] = l->ordered ? d->order[p] : p;
  for (int p = 0; p < n; p++)
    l->position[l->display[p]] = p;
  l->group = d->group;

  /* the view blocks stay intact only when every view-1 row precedes every view-2 row */
  gboolean blocks = TRUE;
  for (int p = 0; p < n; p++)
    if ((l->display[p] < d->m) != (p < d->m))
      blocks = FALSE;
  l->strips = !blocks;
  l->positives_adjacent = TRUE;
  for (int i = 0; i < d->m; i++)
    if (abs (l->position[i] - l->position[i + d->m]) != 1)
      l->positives_adjacent = FALSE;

  const char *order_text = !l->ordered ? "stored order: view 1 rows, then view 2 rows"
                           : d->order_name != NULL && d->order_name[0] != '\0' ? d->order_name
                                                                               : "display order";
  g_snprintf (l->subtitle, sizeof l->subtitle, "%d embeddings (%d images \xC3\x97 2 views), %s%s", n, d->m,
              l->ordered && d->order_name != NULL && d->order_name[0] != '\0' ? "ordered " : "", order_text);
  /* a narrow figure says it shorter rather than smaller */
  double sub_w = w - 2 * look.pad;
  if (text_width (mc, l->subtitle, look.panel_legend_font, FALSE) > sub_w)
    g_snprintf (l->subtitle, sizeof l->subtitle, "%d images \xC3\x97 2 views, %s", d->m,
                !l->ordered ? "stored order" : order_text);
  l->subtitle_font = fitted_font (mc, l->subtitle, look.panel_legend_font, sub_w);
  l->subtitle_y = y;
  y += text_height (mc, look.panel_legend_font, FALSE) + 6.0;

  if (!l->ordered || (blocks && !l->positives_adjacent))
    g_strlcpy (l->caption,
               "The two red off-diagonal lines are the positive pairs (two views of one image); "
               "the diagonal is each embedding with itself.",
               sizeof l->caption);
  else if (l->positives_adjacent)
    g_strlcpy (l->caption,
               "Positive pairs (two views of one image) sit side by side: the 2\xC3\x97"
               "2 red "
               "blocks along the diagonal.",
               sizeof l->caption);
  else
    g_strlcpy (l->caption, "Red: similar embeddings; blue: dissimilar; white: orthogonal.", sizeof l->caption);
  if (l->group != NULL)
    {
      /* "by class" -> "class": what the groups are */
      const char *noun =
          l->ordered && d->order_name != NULL && g_str_has_prefix (d->order_name, "by ") ? d->order_name + 3 : NULL;
      char extra[128];
      if (noun != NULL && noun[0] != '\0')
        g_snprintf (extra, sizeof extra, " Thin lines separate groups (%s), labelled at the left.", noun);
      else
        g_strlcpy (extra, " Thin lines separate groups, labelled at the left.", sizeof extra);
      g_strlcat (l->caption, extra, sizeof l->caption);
    }

  /* bottom: caption (up to two lines), then the strips' legend */
  cairo_save (mc);
  l->caption_font = cl_plot_wrap_fit (mc, l->caption, look.small_font, LEGIBLE_FONT, w - 2 * look.pad, 3,
                                      &l->caption_lines, &l->n_caption_lines);
  l->caption_line_h = cl_plot_text_height (mc);
  cairo_restore (mc);
  double caption_h = l->n_caption_lines * l->caption_line_h;
  double legend_h = 0.0;
  if (l->strips)
    {
      ClPlotLegendEntry entries[2] = {
        { "view 1", view_color (0), CL_PLOT_LEGEND_SWATCH, 0, FALSE },
        { "view 2", view_color (1), CL_PLOT_LEGEND_SWATCH, 0, FALSE },
      };
      legend_h = cl_plot_legend_measure (mc, entries, 2, w - 2 * look.pad, look.small_font);
    }
  l->legend_h = legend_h;
  double bottom = h - look.pad - legend_h - caption_h - 6.0;
  l->caption_y = bottom + 6.0;
  l->legend_y = l->caption_y + caption_h;

  /* margins around the matrix */
  double label_h = text_height (mc, look.panel_legend_font, FALSE);
  double top_margin = 0.0, left_margin = 0.0;
  if (!l->strips)
    {
      top_margin += label_h + 4.0;
      left_margin += label_h + 4.0; /* rotated view labels */
    }
  else
    {
      top_margin += STRIP + STRIP_GAP;
      left_margin += STRIP + STRIP_GAP;
    }
  double group_w = 0.0;
  if (l->group != NULL)
    {
      cairo_save (mc);
      cl_plot_font (mc, look.panel_legend_font, FALSE);
      for (int p = 0; p < n; p++)
        if (p == 0 || l->group[p] != l->group[p - 1])
          {
            char buf[64];
            group_label (d, l->group[p], buf, sizeof buf);
            group_w = MAX (group_w, cl_plot_text_width (mc, buf));
          }
      cairo_restore (mc);
      left_margin += group_w + 4.0;
    }
  double tick_w = 0.0;
  for (guint i = 0; i < G_N_ELEMENTS (bar_ticks); i++)
    {
      char buf[24];
      bar_tick_label (bar_ticks[i], buf, sizeof buf);
      tick_w = MAX (tick_w, text_width (mc, buf, look.panel_legend_font, FALSE));
    }
  double right_margin = COLORBAR_GAP + COLORBAR_WIDTH + look.axis.tick_length + 3.0 + tick_w + 6.0 + label_h;

  double avail_w = w - 2 * look.pad - left_margin - right_margin;
  double avail_h = bottom - y - top_margin;
  double side = MIN (avail_w, avail_h);
  if (!(side >= TOO_SMALL) || side < 0.5 * n)
    {
      l->note = "too small to show the similarity matrix";
      return;
    }
  /* whole user units per cell keep the cell edges on device pixels at 1x and 2x */
  double cell = side / n >= 2.0 ? floor (side / n) : side / n;
  side = cell * n;
  double total_w = left_margin + side + right_margin;
  double mx = round (look.pad + 0.5 * (w - 2 * look.pad - total_w) + left_margin);
  double my = round (y + top_margin + 0.5 * (avail_h - side));
  l->g.has_matrix = TRUE;
  l->g.min_font = MIN (MIN (l->subtitle_font, l->caption_font), MIN (look.panel_legend_font, look.panel_title_font));
  if (l->strips)
    l->g.min_font = MIN (l->g.min_font, look.small_font);
  l->g.cell = cell;
  l->g.matrix = (ClPlotRect){ mx, my, side, side };
  l->g.colorbar = (ClPlotRect){ mx + side + COLORBAR_GAP, my, COLORBAR_WIDTH, side };
  l->bar_label_x = l->g.colorbar.x + COLORBAR_WIDTH + look.axis.tick_length + 3.0;
  l->bar_title_x = l->bar_label_x + tick_w + 6.0 + 0.5 * label_h;
  l->label_right = mx - (l->strips ? STRIP + STRIP_GAP : 0.0) - 4.0;
  l->view_label_x = mx - 4.0 - 0.5 * label_h - (l->group != NULL ? group_w + 4.0 : 0.0);
  l->top_label_y = my - 4.0 - 0.5 * label_h;
  /* the caption stays under the matrix when the window is taller than the matrix needs */
  double under = my + side + 8.0;
  if (under < l->caption_y)
    {
      l->caption_y = under;
      l->legend_y = under + caption_h;
    }
}

static void
layout_for (double w, double h, const ClHeatmapData *d, Layout *l)
{
  cairo_t *mc = cl_plot_measure_context_new ();
  compute_layout (mc, w, h, d, l);
  cairo_destroy (mc);
}

void
cl_heatmap_plot_layout (double w, double h, const ClHeatmapData *d, ClHeatmapPlotLayout *layout)
{
  Layout l;
  layout_for (w, h, d, &l);
  *layout = l.g;
  layout_clear (&l);
}

gboolean
cl_heatmap_plot_hit (double w, double h, const ClHeatmapData *d, double x, double y, int *row, int *col)
{
  Layout l;
  layout_for (w, h, d, &l);
  gboolean hit = FALSE;
  const ClPlotRect *m = &l.g.matrix;
  if (l.g.has_matrix && x >= m->x && y >= m->y && x < m->x + m->w && y < m->y + m->h)
    {
      int pc = CLAMP ((int) floor ((x - m->x) / l.g.cell), 0, l.g.n - 1);
      int pr = CLAMP ((int) floor ((y - m->y) / l.g.cell), 0, l.g.n - 1);
      if (row != NULL)
        *row = l.display[pr];
      if (col != NULL)
        *col = l.display[pc];
      hit = TRUE;
    }
  layout_clear (&l);
  return hit;
}

/* ---------------------------------------------------------------- drawing */

static cairo_surface_t *
matrix_surface (const ClHeatmapData *d, const Layout *l)
{
  int n = l->g.n;
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, n, n);
  cairo_surface_flush (img);
  unsigned char *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  for (int p = 0; p < n; p++)
    {
      guint32 *out = (guint32 *) (data + (size_t) p * stride);
      const float *src = d->sim + (size_t) l->display[p] * n;
      for (int q = 0; q < n; q++)
        {
          double v = src[l->display[q]];
          ClRgb c = cl_plot_colormap_diverging (isnan (v) ? NAN : 0.5 * (CLAMP (v, -1.0, 1.0) + 1.0));
          out[q] =
              ((guint32) lround (c.r * 255) << 16) | ((guint32) lround (c.g * 255) << 8) | (guint32) lround (c.b * 255);
        }
    }
  cairo_surface_mark_dirty (img);
  return img;
}

static void
draw_matrix (cairo_t *cr, const ClHeatmapData *d, const Layout *l)
{
  const ClPlotRect *m = &l->g.matrix;
  cairo_surface_t *img = matrix_surface (d, l);
  cairo_save (cr);
  cairo_rectangle (cr, m->x, m->y, m->w, m->h);
  cairo_clip (cr);
  cairo_translate (cr, m->x, m->y);
  cairo_scale (cr, l->g.cell, l->g.cell);
  cairo_set_source_surface (cr, img, 0, 0);
  /* one flat square per pair: the data, not a smoothed impression of it; when cells are
   * smaller than a unit, averaging shows every row instead of dropping some */
  cairo_pattern_set_filter (cairo_get_source (cr), l->g.cell >= 1.0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (img);
}

/* A line across the matrix between display positions p - 1 and p. */
static void
separator (cairo_t *cr, const Layout *l, int p, double width)
{
  const ClPlotRect *m = &l->g.matrix;
  double at = p * l->g.cell;
  double sx = cl_plot_snap (cr, m->x + at, TRUE, width);
  double sy = cl_plot_snap (cr, m->y + at, FALSE, width);
  cairo_move_to (cr, sx, m->y);
  cairo_line_to (cr, sx, m->y + m->h);
  cairo_move_to (cr, m->x, sy);
  cairo_line_to (cr, m->x + m->w, sy);
}

static void
draw_separators (cairo_t *cr, const ClHeatmapData *d, const Layout *l)
{
  int n = l->g.n;
  cairo_save (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  if (l->group != NULL)
    {
      /* thin enough not to hide a row of 4-unit cells, dark enough to read on red and blue */
      double lw = l->g.cell >= 4.0 ? 1.0 : 0.6;
      cairo_set_line_width (cr, lw);
      cl_plot_set_rgba (cr, cl_plot_color_text (), 0.55);
      for (int p = 1; p < n; p++)
        if (l->group[p] != l->group[p - 1])
          separator (cr, l, p, lw);
      cairo_stroke (cr);
    }
  if (!l->strips)
    {
      cairo_set_line_width (cr, 1.5);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      separator (cr, l, d->m, 1.5);
      cairo_stroke (cr);
    }
  /* the frame keeps the near-white cells at the edge from melting into the page */
  const ClPlotRect *m = &l->g.matrix;
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  cairo_rectangle (cr, m->x - 0.5, m->y - 0.5, m->w + 1.0, m->h + 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_labels (cairo_t *cr, const ClHeatmapData *d, const Layout *l, const ClPlotTheme *look)
{
  const ClPlotRect *m = &l->g.matrix;
  int n = l->g.n;
  double cell = l->g.cell;
  cairo_save (cr);
  cl_plot_font (cr, look->panel_legend_font, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  if (!l->strips)
    {
      for (int v = 0; v < 2; v++)
        {
          const char *name = v == 0 ? "view 1" : "view 2";
          double centre = (v + 0.5) * d->m * cell;
          cl_plot_text (cr, m->x + centre, l->top_label_y, name, 0.5, 0.5, 0.0);
          cl_plot_text (cr, l->view_label_x, m->y + centre, name, 0.5, 0.5, G_PI / 2);
        }
    }
  else
    {
      /* which view each row and column is, now that the view blocks are interleaved */
      for (int p = 0; p < n; p++)
        {
          int v = l->display[p] >= d->m;
          cl_plot_set_rgb (cr, view_color (v));
          cairo_rectangle (cr, m->x - STRIP_GAP - STRIP, m->y + p * cell, STRIP, cell);
          cairo_rectangle (cr, m->x + p * cell, m->y - STRIP_GAP - STRIP, cell, STRIP);
          cairo_fill (cr);
        }
    }
  if (l->group != NULL)
    {
      int starts = 0;
      for (int p = 0; p < n; p++)
        starts += p == 0 || l->group[p] != l->group[p - 1];
      double *centres = g_new (double, starts), *sizes = g_new (double, starts), *left = g_new (double, starts);
      int *rows = g_new (int, starts), *ids = g_new (int, starts);
      int k = 0;
      double label_h = cl_plot_text_height (cr);
      for (int p = 0; p < n; p++)
        if (p == 0 || l->group[p] != l->group[p - 1])
          {
            int end = p + 1;
            while (end < n && l->group[end] == l->group[p])
              end++;
            /* a long group is labelled at its middle, a short one at its start row */
            centres[k] = m->y + 0.5 * (p + end) * cell;
            sizes[k] = label_h * 0.9;
            ids[k] = l->group[p];
            k++;
          }
      cl_plot_place_labels (centres, sizes, starts, m->y - 0.5 * label_h, m->y + m->h + 0.5 * label_h, 1.0, 1, left,
                            rows);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      for (k = 0; k < starts; k++)
        if (rows[k] == 0)
          {
            char buf[64];
            group_label (d, ids[k], buf, sizeof buf);
            cl_plot_text (cr, l->label_right, left[k] + 0.5 * sizes[k], buf, 1.0, 0.5, 0.0);
          }
      g_free (centres);
      g_free (sizes);
      g_free (left);
      g_free (rows);
      g_free (ids);
    }
  cairo_restore (cr);
}

static void
draw_colorbar (cairo_t *cr, const Layout *l, const ClPlotTheme *look)
{
  const ClPlotRect *b = &l->g.colorbar;
  cairo_save (cr);
  cairo_pattern_t *grad = cairo_pattern_create_linear (0, b->y + b->h, 0, b->y);
  for (int i = 0; i <= 64; i++)
    {
      ClRgb c = cl_plot_colormap_diverging (i / 64.0);
      cairo_pattern_add_color_stop_rgb (grad, i / 64.0, c.r, c.g, c.b);
    }
  cairo_rectangle (cr, b->x, b->y, b->w, b->h);
  cairo_set_source (cr, grad);
  cairo_fill (cr);
  cairo_pattern_destroy (grad);

  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  cairo_rectangle (cr, b->x - 0.5, b->y - 0.5, b->w + 1.0, b->h + 1.0);
  cairo_stroke (cr);
  ClPlotScale scale;
  cl_plot_scale_init (&scale, -1.0, 1.0, b->y + b->h, b->y);
  cl_plot_font (cr, look->panel_legend_font, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (bar_ticks); i++)
    {
      double ty = cl_plot_snap (cr, cl_plot_scale_map (&scale, bar_ticks[i]), FALSE, 1.0);
      cl_plot_set_rgb (cr, cl_plot_color_axis ());
      cairo_move_to (cr, b->x + b->w, ty);
      cairo_line_to (cr, b->x + b->w + look->axis.tick_length, ty);
      cairo_stroke (cr);
      char buf[24];
      bar_tick_label (bar_ticks[i], buf, sizeof buf);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, l->bar_label_x, ty, buf, 0.0, 0.5, 0.0);
    }
  cl_plot_text (cr, l->bar_title_x, b->y + 0.5 * b->h, BAR_TITLE, 0.5, 0.5, G_PI / 2);
  cairo_restore (cr);
}

static void
draw_highlight (cairo_t *cr, const ClHeatmapData *d, const Layout *l)
{
  int n = l->g.n;
  int r = d->highlight_row, c = d->highlight_col;
  gboolean has_row = r >= 0 && r < n, has_col = c >= 0 && c < n;
  if (!has_row && !has_col)
    return;
  const ClPlotRect *m = &l->g.matrix;
  double cell = l->g.cell;
  double py = has_row ? m->y + (l->position[r] + 0.5) * cell : NAN;
  double px = has_col ? m->x + (l->position[c] + 0.5) * cell : NAN;
  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgba (cr, cl_plot_color_text (), 0.6);
  double dash[2] = { 3.0, 2.0 };
  cairo_set_dash (cr, dash, 2, 0.0);
  if (has_row)
    {
      double sy = cl_plot_snap (cr, py, FALSE, 1.0);
      cairo_move_to (cr, m->x, sy);
      cairo_line_to (cr, m->x + m->w, sy);
    }
  if (has_col)
    {
      double sx = cl_plot_snap (cr, px, TRUE, 1.0);
      cairo_move_to (cr, sx, m->y);
      cairo_line_to (cr, sx, m->y + m->h);
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0.0);
  /* pointers on the frame show the row and column even where the lines cross pale cells */
  double t = 5.0;
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  if (has_row)
    {
      cairo_move_to (cr, m->x + m->w + 1.0, py);
      cairo_line_to (cr, m->x + m->w + 1.0 + t, py - 0.8 * t);
      cairo_line_to (cr, m->x + m->w + 1.0 + t, py + 0.8 * t);
      cairo_close_path (cr);
    }
  if (has_col)
    {
      cairo_move_to (cr, px, m->y + m->h + 1.0);
      cairo_line_to (cr, px - 0.8 * t, m->y + m->h + 1.0 + t);
      cairo_line_to (cr, px + 0.8 * t, m->y + m->h + 1.0 + t);
      cairo_close_path (cr);
    }
  cairo_fill (cr);
  if (has_row && has_col)
    {
      /* dark outside, white inside: visible on deep red, deep blue and white cells alike */
      double x0 = px - 0.5 * cell, y0 = py - 0.5 * cell;
      double grow = MAX (0.0, 3.0 - 0.5 * cell); /* tiny cells get a box larger than themselves */
      cairo_rectangle (cr, x0 - grow - 1.0, y0 - grow - 1.0, cell + 2 * grow + 2.0, cell + 2 * grow + 2.0);
      cairo_set_line_width (cr, 2.0);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cairo_stroke (cr);
      cairo_rectangle (cr, x0 - grow + 0.5, y0 - grow + 0.5, cell + 2 * grow - 1.0, cell + 2 * grow - 1.0);
      cairo_set_line_width (cr, 1.0);
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

void
cl_heatmap_plot_draw (cairo_t *cr, double w, double h, const ClHeatmapData *d)
{
  if (!(w >= 1.0) || !(h >= 1.0) || !isfinite (w) || !isfinite (h))
    return;
  ClPlotTheme look = look_of (d);
  Layout l;
  layout_for (w, h, d, &l);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, w, h);
  cairo_clip (cr);
  cairo_new_path (cr);
  cl_plot_text_setup (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  const char *title = d != NULL && d->title != NULL ? d->title : "Batch similarity";
  cl_plot_title_draw (cr, w, l.title_y, title, look.panel_title_font, TRUE);
  if (!l.g.has_matrix)
    {
      cl_plot_note_draw (cr, &l.note_area, l.note, 12.5);
      cairo_restore (cr);
      layout_clear (&l);
      return;
    }
  cl_plot_font (cr, l.subtitle_font, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  cl_plot_text (cr, 0.5 * w, l.subtitle_y, l.subtitle, 0.5, 0.0, 0.0);

  draw_matrix (cr, d, &l);
  draw_separators (cr, d, &l);
  draw_labels (cr, d, &l, &look);
  draw_colorbar (cr, &l, &look);
  draw_highlight (cr, d, &l);

  cl_plot_font (cr, l.caption_font, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  for (int i = 0; i < l.n_caption_lines; i++)
    cl_plot_text (cr, 0.5 * w, l.caption_y + i * l.caption_line_h, l.caption_lines[i], 0.5, 0.0, 0.0);
  if (l.strips)
    {
      ClPlotLegendEntry entries[2] = {
        { "view 1", view_color (0), CL_PLOT_LEGEND_SWATCH, 0, FALSE },
        { "view 2", view_color (1), CL_PLOT_LEGEND_SWATCH, 0, FALSE },
      };
      cl_plot_legend_draw (cr, entries, 2, 0.5 * w, l.legend_y, w - 2 * look.pad, look.small_font);
    }
  cairo_restore (cr);
  layout_clear (&l);
}
