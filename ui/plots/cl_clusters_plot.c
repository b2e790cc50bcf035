#include "ui/plots/cl_clusters_plot.h"
#include "ui/plots/cl_clusters_plot_private.h"
#include "ui/plots/cl_plot_chart.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CARD_SCALE 2.5 /* the enlarged view's size relative to a cell */
#define DEFAULT_TITLE "Local features: K-means of each layer's feature map"
#define TREND_ALONE_CAPTION                                                                                            \
  "Scores of the K-means clusterings over training, per layer: object IoU of the best union of "                       \
  "clusters with the foreground, and instance ARI on the foreground. Cluster maps are not stored with a run."

/* ----------------------------------------------------------------- layout */

static void
layout_clear (Layout *l)
{
  g_strfreev (l->caption);
  l->caption = NULL;
}

static void
row_name (const ClClustersData *d, int row, char *buf, size_t size)
{
  if (d->row_names != NULL && d->row_names[row] != NULL)
    g_strlcpy (buf, d->row_names[row], size);
  else
    g_snprintf (buf, size, "layer %d", row);
}

static gboolean
has_metrics (const ClClustersData *d)
{
  return d->object_iou != NULL || d->instance_ari != NULL;
}

static void
format_metric (double v, char *buf, size_t size)
{
  if (isfinite (v))
    cl_plot_format_number (v, 2, buf, size);
  else
    g_strlcpy (buf, "\xE2\x80\x93", size); /* en dash */
}

static void
metric_text (const ClClustersData *d, int index, MetricMode mode, char *buf, size_t size)
{
  char iou[32], ari[32];
  format_metric (d->object_iou != NULL ? d->object_iou[index] : NAN, iou, sizeof iou);
  format_metric (d->instance_ari != NULL ? d->instance_ari[index] : NAN, ari, sizeof ari);
  gboolean both = d->object_iou != NULL && d->instance_ari != NULL;
  if (mode == METRIC_FULL)
    {
      if (both)
        g_snprintf (buf, size, "IoU %s \xC2\xB7 ARI %s", iou, ari);
      else
        g_snprintf (buf, size, "%s %s", d->object_iou != NULL ? "IoU" : "ARI", d->object_iou != NULL ? iou : ari);
    }
  else if (mode == METRIC_SHORT)
    {
      if (both)
        g_snprintf (buf, size, "%s / %s", iou, ari);
      else
        g_strlcpy (buf, d->object_iou != NULL ? iou : ari, size);
    }
  else if (size > 0)
    buf[0] = '\0';
}

/* Image aspect inside a square of side s at (x, y): letterboxed. */
static ClPlotRect
image_in (const ClClustersData *d, double x, double y, double s)
{
  double iw = d->image != NULL && d->img_w > 0 ? d->img_w : 1.0;
  double ih = d->image != NULL && d->img_h > 0 ? d->img_h : 1.0;
  if (iw >= ih)
    return (ClPlotRect){ x, y + 0.5 * s * (1.0 - ih / iw), s, s * ih / iw };
  return (ClPlotRect){ x + 0.5 * s * (1.0 - iw / ih), y, s * iw / ih, s };
}

static gboolean
has_means (const ClClustersData *d)
{
  return has_metrics (d) && (d->object_iou_mean != NULL || d->instance_ari_mean != NULL);
}

int
cl_clusters_plot_scores_text (const ClClustersData *d, int index, char (*lines)[CL_CLUSTERS_SCORES_TEXT])
{
  if (d == NULL || !has_metrics (d) || index < 0 || index >= d->n_rows * d->n_cols)
    return 0;
  int n = has_means (d) ? 2 : 1;
  for (int line = 0; line < n; line++)
    {
      const double *ious = line == 0 ? d->object_iou : d->object_iou_mean;
      const double *aris = line == 0 ? d->instance_ari : d->instance_ari_mean;
      char iou[32], ari[32], scores[96], lead[64] = "";
      format_metric (ious != NULL ? ious[index] : NAN, iou, sizeof iou);
      format_metric (aris != NULL ? aris[index] : NAN, ari, sizeof ari);
      if (ious != NULL && aris != NULL)
        g_snprintf (scores, sizeof scores, "object IoU %s   instance ARI %s", iou, ari);
      else if (ious != NULL)
        g_snprintf (scores, sizeof scores, "object IoU %s", iou);
      else
        g_snprintf (scores, sizeof scores, "instance ARI %s", ari);
      if (n == 2)
        {
          if (line == 0)
            g_strlcpy (lead, "this canvas: ", sizeof lead);
          else
            g_snprintf (lead, sizeof lead, "mean of %d canvases: ", d->n_mean_images);
        }
      g_snprintf (lines[line], CL_CLUSTERS_SCORES_TEXT, "%s%s", lead, scores);
    }
  return n;
}

static const char *
caption_text (const ClClustersData *d, char *buf, size_t size)
{
  if (has_means (d))
    {
      /* the numbers under the cells are this canvas's; the chart's are means over canvases */
      g_snprintf (buf, size,
                  "Each cluster at the first k has its own hue; at larger k a lighter or darker shade of the cluster "
                  "it split from. Under each cell: this canvas's own object IoU \xC2\xB7 instance ARI; the chart "
                  "and a hovered cell's second line: means over %d canvases.",
                  d->n_mean_images);
      return buf;
    }
  if (has_metrics (d))
    return "Each cluster at the first k has its own hue; at larger k a cluster is a lighter or darker "
           "shade of the cluster it split from. IoU: object IoU; ARI: instance adjusted Rand index.";
  return "Each cluster at the first k has its own hue; at larger k a cluster is a lighter or darker "
         "shade of the cluster it split from.";
}

/* What the grid needs besides its cells. */
typedef struct
{
  double label_w, header_h, metric_line;
} GridMetrics;

static void
grid_metrics (cairo_t *mc, double w, const ClClustersData *d, gboolean swatches, GridMetrics *m)
{
  ClPlotTheme look = cl_plot_theme (d->font_scale);
  cairo_save (mc);
  cl_plot_font (mc, look.header_font, TRUE);
  m->header_h = cl_plot_text_height (mc) + 4.0;
  cl_plot_font (mc, look.label_font, FALSE);
  double label_w = 0.0;
  for (int r = 0; r < d->n_rows; r++)
    {
      char name[128];
      row_name (d, r, name, sizeof name);
      label_w = MAX (label_w, cl_plot_text_width (mc, name));
    }
  m->label_w = MIN (label_w, 0.3 * w) + 8.0 + (swatches ? TREND_SWATCH + 6.0 : 0.0);
  cl_plot_font (mc, look.tiny_font, FALSE);
  m->metric_line = has_metrics (d) ? cl_plot_text_height (mc) + 3.0 : 0.0;
  cairo_restore (mc);
}

/* Side of the cells of a grid filling an area of aw x ah. */
static double
grid_cell (const ClClustersData *d, const GridMetrics *m, double aw, double ah)
{
  ClPlotTheme look = cl_plot_theme (d->font_scale);
  double s = MIN ((aw - m->label_w - (d->n_cols - 1) * look.gap) / d->n_cols,
                  (ah - m->header_h - d->n_rows * m->metric_line - (d->n_rows - 1) * look.pad) / d->n_rows);
  return floor (s);
}

/* The grid with cells of side s, centred in area. */
static void
place_grid (cairo_t *mc, const ClClustersData *d, const GridMetrics *m, double s, ClPlotRect area, Layout *l)
{
  ClPlotTheme look = cl_plot_theme (d->font_scale);
  /* the metrics in full, as bare numbers, or not at all, whichever fits the cell's width */
  l->metric_mode = METRIC_NONE;
  if (has_metrics (d))
    {
      cairo_save (mc);
      cl_plot_font (mc, look.tiny_font, FALSE);
      const double sample_iou = -0.88, sample_ari = -0.88; /* widest numbers */
      ClClustersData probe = *d;
      probe.object_iou = d->object_iou != NULL ? &sample_iou : NULL;
      probe.instance_ari = d->instance_ari != NULL ? &sample_ari : NULL;
      char buf[96];
      for (MetricMode mode = METRIC_FULL; mode > METRIC_NONE; mode--)
        {
          metric_text (&probe, 0, mode, buf, sizeof buf);
          if (cl_plot_text_width (mc, buf) <= s + look.gap - 2.0)
            {
              l->metric_mode = mode;
              break;
            }
        }
      cairo_restore (mc);
    }
  l->metric_h = l->metric_mode != METRIC_NONE ? m->metric_line : 0.0;

  double grid_w = m->label_w + d->n_cols * s + (d->n_cols - 1) * look.gap;
  double grid_h = m->header_h + d->n_rows * (s + l->metric_h) + (d->n_rows - 1) * look.pad;
  l->g.has_grid = TRUE;
  l->g.n_rows = d->n_rows;
  l->g.n_cols = d->n_cols;
  l->g.cell = s;
  l->g.x0 = round (area.x + 0.5 * (area.w - grid_w) + m->label_w);
  l->g.y0 = round (area.y + m->header_h + 0.5 * MAX (area.h - grid_h, 0.0));
  l->g.pitch_x = s + look.gap;
  l->g.pitch_y = s + l->metric_h + look.pad;
  l->g.image = image_in (d, l->g.x0, l->g.y0, s);
  l->header_y = l->g.y0 - 4.0;
  l->row_label_right = l->g.x0 - 8.0;
}

/* The bottom of the grid's last row (metrics included). */
static double
grid_bottom (const Layout *l)
{
  return l->g.y0 + l->g.n_rows * l->g.pitch_y - cl_plot_theme (l->scale).pad;
}

static void
compute_layout (cairo_t *mc, double w, double h, const ClClustersData *d, Layout *l)
{
  ClPlotTheme look = cl_plot_theme (d != NULL ? d->font_scale : 1.0);
  memset (l, 0, sizeof *l);
  l->scale = look.scale;
  double y = look.pad;
  l->title_y = y;
  const char *title = d != NULL && d->title != NULL ? d->title : DEFAULT_TITLE;
  y += cl_plot_title_draw (mc, w, y, title, look.panel_title_font, FALSE) + 6.0;
  l->note_area = (ClPlotRect){ look.pad, y, MAX (w - 2 * look.pad, 1.0), MAX (h - y - look.pad, 1.0) };
  gboolean grid_ok = cl_clusters_data_usable (d);
  cl_clusters_trend_collect (d, grid_ok, &l->trend);
  gboolean want_trend = l->trend.n_layers > 0;
  if (!grid_ok && !want_trend)
    {
      l->note = "no clusters yet: K-means runs with the probes";
      return;
    }

  /* caption at the bottom, at most two lines */
  cairo_save (mc);
  char caption_buf[320];
  l->caption_font =
      cl_plot_wrap_fit (mc, grid_ok ? caption_text (d, caption_buf, sizeof caption_buf) : TREND_ALONE_CAPTION,
                        look.small_font, 7.5, w - 2 * look.pad, 2, &l->caption, &l->caption_lines);
  l->caption_line_h = cl_plot_text_height (mc);
  cairo_restore (mc);
  double bottom = h - look.pad - l->caption_lines * l->caption_line_h - 6.0;
  ClPlotRect avail = { look.pad, y, w - 2 * look.pad, bottom - y };

  if (!grid_ok)
    {
      if (avail.w < TREND_MIN_W || avail.h < 0.6 * TREND_MIN_H)
        {
          l->note = "too small to show the scores";
          return;
        }
      l->trend_mode = TREND_ALONE;
      cl_clusters_trend_place (mc, l, avail, avail.w >= 1.3 * avail.h);
      l->caption_y = bottom + 6.0;
      return;
    }

  GridMetrics plain, swatched;
  grid_metrics (mc, w, d, FALSE, &plain);
  grid_metrics (mc, w, d, TRUE, &swatched);
  double s = grid_cell (d, &plain, avail.w, avail.h);
  if (want_trend)
    {
      /* beside the grid or below it, whichever leaves the larger cells; left out when the
       * cells would shrink too much: the clusters are the figure's point */
      double side_w = CLAMP (0.36 * avail.w, TREND_MIN_W, TREND_MAX_W);
      double below_h = CLAMP (0.36 * avail.h, TREND_MIN_H, 320.0);
      double s_side = avail.h >= TREND_MIN_H ? grid_cell (d, &swatched, avail.w - side_w - TREND_GAP, avail.h) : -1.0;
      double s_below =
          avail.w >= 1.5 * TREND_MIN_W ? grid_cell (d, &swatched, avail.w, avail.h - below_h - TREND_GAP) : -1.0;
      double best = MAX (s_side, s_below);
      if (best >= 24.0 && best >= 0.55 * s)
        {
          l->trend_mode = s_side >= s_below ? TREND_SIDE : TREND_BELOW;
          s = best;
        }
    }
  if (!(s >= 12.0))
    {
      l->note = "too small to show the clusters";
      return;
    }
  const GridMetrics *m = l->trend_mode != TREND_NONE ? &swatched : &plain;
  double chart_bottom = 0.0;
  if (l->trend_mode == TREND_SIDE)
    {
      /* grid and chart side by side, centred together; the chart takes the slack up to its
       * widest, and spans the grid's height */
      double grid_w = m->label_w + d->n_cols * s + (d->n_cols - 1) * look.gap;
      double chart_w = MIN (TREND_MAX_W, avail.w - grid_w - TREND_GAP);
      double x = avail.x + 0.5 * (avail.w - grid_w - TREND_GAP - chart_w);
      place_grid (mc, d, m, s, (ClPlotRect){ x, avail.y, grid_w, avail.h }, l);
      double top = l->g.y0 - m->header_h;
      double chart_h = MIN (MAX (grid_bottom (l) - top, TREND_MIN_H), bottom - top);
      cl_clusters_trend_place (mc, l, (ClPlotRect){ round (x + grid_w + TREND_GAP), top, chart_w, chart_h }, FALSE);
      chart_bottom = top + chart_h;
    }
  else if (l->trend_mode == TREND_BELOW)
    {
      double below_h = CLAMP (0.36 * avail.h, TREND_MIN_H, 320.0);
      place_grid (mc, d, m, s, (ClPlotRect){ avail.x, avail.y, avail.w, avail.h - below_h - TREND_GAP }, l);
      /* the grid at the top, not centred in its share: the chart takes what is left */
      double slack = l->g.y0 - m->header_h - avail.y;
      l->g.y0 -= slack;
      l->header_y -= slack;
      l->g.image.y -= slack;
      double top = grid_bottom (l) + TREND_GAP;
      double chart_w = MIN (avail.w, 2.0 * TREND_MAX_W);
      double chart_h = MIN (bottom - top, 340.0);
      cl_clusters_trend_place (mc, l,
                               (ClPlotRect){ round (avail.x + 0.5 * (avail.w - chart_w)), top, chart_w, chart_h },
                               chart_w >= 1.3 * chart_h);
      chart_bottom = top + chart_h;
    }
  else
    place_grid (mc, d, m, s, avail, l);
  double under = MAX (grid_bottom (l), chart_bottom) + 6.0;
  l->caption_y = MIN (bottom + 6.0, under);

  /* the enlarged view: centred on its cell, kept inside the figure */
  int hi = d->highlight;
  if (hi >= 0 && hi < d->n_rows * d->n_cols)
    {
      cairo_save (mc);
      cl_plot_font (mc, look.heading_font, TRUE);
      double title_h = cl_plot_text_height (mc);
      cl_plot_font (mc, look.label_font, FALSE);
      double metric_h = has_metrics (d) ? (has_means (d) ? 2 : 1) * cl_plot_text_height (mc) + 6.0 : 0.0;
      /* the card is at least as wide as its score lines */
      char lines[2][CL_CLUSTERS_SCORES_TEXT];
      int n_lines = cl_clusters_plot_scores_text (d, hi, lines);
      double text_w = 0.0;
      for (int i = 0; i < n_lines; i++)
        text_w = MAX (text_w, cl_plot_text_width (mc, lines[i]));
      cairo_restore (mc);
      double cp = look.gap;
      int k = cl_clusters_k_of (d, hi % d->n_cols);
      double key_swatch = 11.0;
      double key_h = k > 0 ? key_swatch + 8.0 : 0.0;
      double extra_w = 2 * cp, extra_h = 2 * cp + title_h + 6.0 + key_h + metric_h;
      double side = CARD_SCALE * s;
      side = MIN (side, w - 2 * look.pad - extra_w);
      side = MIN (side, h - 2 * look.pad - extra_h);
      side = floor (side);
      if (side >= 1.2 * s)
        {
          ClPlotRect cell = cl_clusters_plot_cell_rect (&l->g, hi);
          double cw = MIN (MAX (side, text_w) + extra_w, w - 2 * look.pad), ch = side + extra_h;
          double cx = CLAMP (cell.x + 0.5 * cell.w - 0.5 * cw, look.pad, w - look.pad - cw);
          double cy = CLAMP (cell.y + 0.5 * cell.h - 0.5 * ch, look.pad, h - look.pad - ch);
          l->g.card_shown = TRUE;
          l->g.card = (ClPlotRect){ round (cx), round (cy), cw, ch };
          l->card_title_y = l->g.card.y + cp;
          l->g.card_image = image_in (d, l->g.card.x + 0.5 * (cw - side), l->card_title_y + title_h + 6.0, side);
          double below = l->card_title_y + title_h + 6.0 + side;
          /* the key shrinks to the card's width: k swatches and up to k gaps of a swatch */
          l->key_swatch = MIN (key_swatch, (cw - 2 * cp) / MAX (2.0 * k, 1.0));
          l->key_h = key_h;
          l->key_y = below + 8.0;
          l->card_metric_y = below + key_h + 6.0;
        }
    }
}

static void
layout_for (double w, double h, const ClClustersData *d, Layout *l)
{
  cairo_t *mc = cl_plot_measure_context_new ();
  compute_layout (mc, w, h, d, l);
  cairo_destroy (mc);
}

void
cl_clusters_plot_layout (double w, double h, const ClClustersData *d, ClClustersPlotLayout *layout)
{
  Layout l;
  layout_for (w, h, d, &l);
  *layout = l.g;
  layout_clear (&l);
}

ClPlotRect
cl_clusters_plot_cell_rect (const ClClustersPlotLayout *g, int index)
{
  if (!g->has_grid || g->n_cols <= 0 || index < 0 || index >= g->n_rows * g->n_cols)
    return (ClPlotRect){ 0, 0, 0, 0 };
  int r = index / g->n_cols, c = index % g->n_cols;
  return (ClPlotRect){ g->x0 + c * g->pitch_x, g->y0 + r * g->pitch_y, g->cell, g->cell };
}

static gboolean
inside (const ClPlotRect *r, double x, double y)
{
  return x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h;
}

int
cl_clusters_plot_hit (double w, double h, const ClClustersData *d, double x, double y)
{
  Layout l;
  layout_for (w, h, d, &l);
  int hit = -1;
  if (l.g.has_grid)
    {
      if (l.g.card_shown && inside (&l.g.card, x, y))
        hit = d->highlight;
      else
        for (int i = 0; i < l.g.n_rows * l.g.n_cols && hit < 0; i++)
          {
            ClPlotRect cell = cl_clusters_plot_cell_rect (&l.g, i);
            if (inside (&cell, x, y))
              hit = i;
          }
    }
  layout_clear (&l);
  return hit;
}

/* ---------------------------------------------------------------- drawing */

static double
grey_at (const ClClustersData *d, int x, int y)
{
  size_t plane = (size_t) d->img_w * d->img_h, at = (size_t) y * d->img_w + x;
  double v;
  if (d->img_c >= 3)
    v = 0.299 * d->image[at] + 0.587 * d->image[plane + at] + 0.114 * d->image[2 * plane + at];
  else
    v = d->image[at];
  v = isnan (v) ? 0.5 : CLAMP (v, 0.0, 1.0);
  /* lifted: on a dark image the overlay would turn every cluster colour to mud */
  return 0.3 + 0.7 * v;
}

/* The cell's picture at image resolution (or the label map's, without an image). */
static cairo_surface_t *
cell_surface (const ClClustersData *d, int row, int col, const RowColors *rc)
{
  gboolean with_image = d->image != NULL && d->img_w > 0 && d->img_h > 0 && d->img_c > 0;
  int gh = 0, gw = 0;
  const int *map = cl_clusters_label_map (d, row, col);
  cl_clusters_row_grid (d, row, &gh, &gw);
  int rw = with_image ? d->img_w : map != NULL ? gw : 1;
  int rh = with_image ? d->img_h : map != NULL ? gh : 1;
  int k = cl_clusters_k_of (d, col);
  double alpha = CL_CLUSTERS_PLOT_OVERLAY_ALPHA;
  cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, rw, rh);
  cairo_surface_flush (img);
  unsigned char *data = cairo_image_surface_get_data (img);
  int stride = cairo_image_surface_get_stride (img);
  for (int y = 0; y < rh; y++)
    {
      guint32 *out = (guint32 *) (data + (size_t) y * stride);
      int my = map != NULL ? (int) ((long) y * gh / rh) : 0;
      for (int x = 0; x < rw; x++)
        {
          double g = with_image ? grey_at (d, x, y) : 0.5;
          ClRgb c = { g, g, g };
          if (map != NULL)
            {
              int label = map[(size_t) my * gw + (int) ((long) x * gw / rw)];
              if (label >= 0 && label < k)
                c = cl_plot_mix (c, rc->color[col][label], alpha);
            }
          out[x] =
              ((guint32) lround (c.r * 255) << 16) | ((guint32) lround (c.g * 255) << 8) | (guint32) lround (c.b * 255);
        }
    }
  cairo_surface_mark_dirty (img);
  return img;
}

/* Thin light lines where neighbouring positions of the label map belong to different
 * clusters: two shades of one hue side by side stay apart. */
static void
draw_boundaries (cairo_t *cr, const ClClustersData *d, int row, int col, const ClPlotRect *r, double width)
{
  int gh, gw;
  const int *map = cl_clusters_label_map (d, row, col);
  if (map == NULL || !cl_clusters_row_grid (d, row, &gh, &gw))
    return;
  double sx = r->w / gw, sy = r->h / gh;
  if (sx < 2.5 || sy < 2.5)
    return; /* the lines would bury the colours */
  cairo_save (cr);
  for (int y = 0; y < gh; y++)
    for (int x = 0; x < gw; x++)
      {
        int v = map[y * gw + x];
        if (x + 1 < gw && map[y * gw + x + 1] != v)
          {
            cairo_move_to (cr, r->x + (x + 1) * sx, r->y + y * sy);
            cairo_line_to (cr, r->x + (x + 1) * sx, r->y + (y + 1) * sy);
          }
        if (y + 1 < gh && map[(y + 1) * gw + x] != v)
          {
            cairo_move_to (cr, r->x + x * sx, r->y + (y + 1) * sy);
            cairo_line_to (cr, r->x + (x + 1) * sx, r->y + (y + 1) * sy);
          }
      }
  cairo_set_line_width (cr, width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cl_plot_set_rgba (cr, cl_plot_color_background (), 0.75);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_picture (cairo_t *cr, const ClClustersData *d, int row, int col, const RowColors *rc, const ClPlotRect *r,
              double boundary_width)
{
  cairo_surface_t *img = cell_surface (d, row, col, rc);
  int rw = cairo_image_surface_get_width (img), rh = cairo_image_surface_get_height (img);
  cairo_save (cr);
  cairo_rectangle (cr, r->x, r->y, r->w, r->h);
  cairo_clip (cr);
  cairo_translate (cr, r->x, r->y);
  cairo_scale (cr, r->w / rw, r->h / rh);
  cairo_set_source_surface (cr, img, 0, 0);
  /* nearest: the label map's real resolution shows, as in the paper's figures */
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (img);
  draw_boundaries (cr, d, row, col, r, boundary_width);
  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  cairo_rectangle (cr, r->x - 0.5, r->y - 0.5, r->w + 1.0, r->h + 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);
}

typedef struct
{
  const RowColors *rc;
  int col;
} KeyOrder;

/* Families together: by root cluster, then by each ancestor on the way down, then by id. */
static int
compare_family (gconstpointer a, gconstpointer b, gpointer data)
{
  const KeyOrder *o = data;
  int ja = *(const int *) a, jb = *(const int *) b;
  for (int up = o->col; up >= 0; up--)
    {
      int pa = cl_clusters_ancestor (o->rc, o->col, ja, up), pb = cl_clusters_ancestor (o->rc, o->col, jb, up);
      if (pa != pb)
        return pa < pb ? -1 : 1;
    }
  return 0;
}

/* One swatch per cluster, families side by side and set apart: the hierarchy at a glance. */
static void
draw_key (cairo_t *cr, const ClClustersData *d, const RowColors *rc, int col, const Layout *l)
{
  int k = cl_clusters_k_of (d, col);
  if (k <= 0 || !(l->key_h > 0.0))
    return;
  int *order = g_new (int, k);
  for (int j = 0; j < k; j++)
    order[j] = j;
  KeyOrder ko = { rc, col };
  g_qsort_with_data (order, k, sizeof (int), compare_family, &ko);
  double side = l->key_swatch, small_gap = 0.25 * side, family_gap = 0.9 * side;
  double total = k * side;
  for (int i = 1; i < k; i++)
    total += cl_clusters_ancestor (rc, col, order[i], 1) == cl_clusters_ancestor (rc, col, order[i - 1], 1) && col > 0
                 ? small_gap
                 : family_gap;
  double x = l->g.card.x + 0.5 * (l->g.card.w - total);
  cairo_save (cr);
  for (int i = 0; i < k; i++)
    {
      if (i > 0)
        x += cl_clusters_ancestor (rc, col, order[i], 1) == cl_clusters_ancestor (rc, col, order[i - 1], 1) && col > 0
                 ? small_gap
                 : family_gap;
      cairo_rectangle (cr, x, l->key_y, side, side);
      /* as it looks over a mid-grey part of the image */
      ClRgb grey = { 0.65, 0.65, 0.65 };
      cl_plot_set_rgb (cr, cl_plot_mix (grey, rc->color[col][order[i]], CL_CLUSTERS_PLOT_OVERLAY_ALPHA));
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 0.8);
      cl_plot_set_rgba (cr, cl_plot_color_text (), 0.5);
      cairo_stroke (cr);
      x += side;
    }
  cairo_restore (cr);
  g_free (order);
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double radius)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - radius, y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, x + w - radius, y + h - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, x + radius, y + h - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, x + radius, y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
draw_card (cairo_t *cr, const ClClustersData *d, const Layout *l, const ClPlotTheme *look)
{
  int hi = d->highlight, row = hi / d->n_cols, col = hi % d->n_cols;
  const ClPlotRect *c = &l->g.card;
  cairo_save (cr);
  /* a soft shadow from stacked translucent outlines: cairo has no blur */
  for (int i = 6; i >= 1; i--)
    {
      rounded_rect (cr, c->x + 2.0 - i, c->y + 4.0 - i, c->w + 2.0 * i, c->h + 2.0 * i, 6.0 + i);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.035);
      cairo_fill (cr);
    }
  rounded_rect (cr, c->x, c->y, c->w, c->h, 6.0);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_fill_preserve (cr);
  cairo_set_line_width (cr, 1.0);
  cl_plot_set_rgb (cr, cl_plot_color_grid ());
  cairo_stroke (cr);

  char name[128], text[200];
  row_name (d, row, name, sizeof name);
  g_snprintf (text, sizeof text, "%s, k = %d", name, d->ks[col]);
  cl_plot_font (cr, look->heading_font, TRUE);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_text (cr, c->x + 0.5 * c->w, l->card_title_y, text, 0.5, 0.0, 0.0);

  RowColors rc = cl_clusters_row_colors (d, row);
  draw_picture (cr, d, row, col, &rc, &l->g.card_image, 1.0);
  draw_key (cr, d, &rc, col, l);
  cl_clusters_row_colors_free (&rc);

  if (has_metrics (d))
    {
      /* this canvas's scores, then (when given) their means over the canvases, each named */
      cl_plot_font (cr, look->label_font, FALSE);
      double line_h = cl_plot_text_height (cr);
      char lines[2][CL_CLUSTERS_SCORES_TEXT];
      int n_lines = cl_clusters_plot_scores_text (d, hi, lines);
      for (int line = 0; line < n_lines; line++)
        cl_plot_text (cr, c->x + 0.5 * c->w, l->card_metric_y + line * line_h, lines[line], 0.5, 0.0, 0.0);
    }
  cairo_restore (cr);
}

void
cl_clusters_plot_draw (cairo_t *cr, double w, double h, const ClClustersData *d)
{
  if (!(w >= 1.0) || !(h >= 1.0) || !isfinite (w) || !isfinite (h))
    return;
  ClPlotTheme look = cl_plot_theme (d != NULL ? d->font_scale : 1.0);
  Layout l;
  layout_for (w, h, d, &l);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, w, h);
  cairo_clip (cr);
  cairo_new_path (cr);
  cl_plot_text_setup (cr);
  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);
  cl_plot_title_draw (cr, w, l.title_y, d != NULL && d->title != NULL ? d->title : DEFAULT_TITLE, look.panel_title_font,
                      TRUE);
  if (l.g.trend_shown)
    cl_clusters_trend_draw (cr, d, &l);
  if (!l.g.has_grid)
    {
      if (l.note != NULL)
        cl_plot_note_draw (cr, &l.note_area, l.note, 12.5);
      cl_plot_font (cr, l.caption_font, FALSE);
      cl_plot_set_rgb (cr, cl_plot_color_muted ());
      for (int i = 0; l.g.trend_shown && i < l.caption_lines; i++)
        cl_plot_text (cr, 0.5 * w, l.caption_y + i * l.caption_line_h, l.caption[i], 0.5, 0.0, 0.0);
      cairo_restore (cr);
      layout_clear (&l);
      return;
    }

  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_font (cr, look.header_font, TRUE);
  for (int c = 0; c < d->n_cols; c++)
    {
      char text[48];
      if (d->ks[c] > 0)
        g_snprintf (text, sizeof text, "k = %d", d->ks[c]);
      else
        g_strlcpy (text, "k = ?", sizeof text);
      cl_plot_text (cr, l.g.x0 + c * l.g.pitch_x + 0.5 * l.g.cell, l.header_y, text, 0.5, 1.0, 0.0);
    }
  for (int r = 0; r < d->n_rows; r++)
    {
      char name[128];
      row_name (d, r, name, sizeof name);
      cl_plot_font (cr, look.label_font, FALSE);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, l.row_label_right, l.g.y0 + r * l.g.pitch_y + 0.5 * l.g.cell, name, 1.0, 0.5, 0.0);
      if (l.g.trend_shown)
        cl_clusters_trend_row_swatch (cr, &l, r, cl_plot_text_width (cr, name),
                                      l.g.y0 + r * l.g.pitch_y + 0.5 * l.g.cell);
      RowColors rc = cl_clusters_row_colors (d, r);
      for (int c = 0; c < d->n_cols; c++)
        {
          int index = r * d->n_cols + c;
          ClPlotRect cell = cl_clusters_plot_cell_rect (&l.g, index);
          ClPlotRect pic = image_in (d, cell.x, cell.y, cell.w);
          draw_picture (cr, d, r, c, &rc, &pic, 0.8);
          if (l.metric_mode != METRIC_NONE)
            {
              char text[96];
              metric_text (d, index, l.metric_mode, text, sizeof text);
              cl_plot_font (cr, look.tiny_font, FALSE);
              cl_plot_set_rgb (cr, cl_plot_color_muted ());
              cl_plot_text (cr, cell.x + 0.5 * cell.w, cell.y + cell.h + 3.0, text, 0.5, 0.0, 0.0);
            }
        }
      cl_clusters_row_colors_free (&rc);
    }

  cl_plot_font (cr, l.caption_font, FALSE);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  for (int i = 0; i < l.caption_lines; i++)
    cl_plot_text (cr, 0.5 * w, l.caption_y + i * l.caption_line_h, l.caption[i], 0.5, 0.0, 0.0);

  if (l.g.card_shown)
    draw_card (cr, d, &l, &look);
  cairo_restore (cr);
  layout_clear (&l);
}
