#include "ui/plots/cl_geometry_plot.h"
#include "ui/plots/cl_plot_chart.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#include "engine/analysis/cl_priors.h"
#include "engine/nn/cl_loss.h"

#define EVENT_LABEL_MAX_ROWS 2
#define PRIOR_SAMPLES 480
#define MAX_LEGEND 4

/* ------------------------------------------------------------ the prior */

ClPriorKind
cl_geometry_plot_prior_of_loss (int loss_kind)
{
  switch (loss_kind)
    {
    case CL_LOSS_SWD_NORMAL:
      return CL_PRIOR_NORMAL;
    case CL_LOSS_SWD_CUBE:
      return CL_PRIOR_CUBE;
    /* ntxent and decoupled normalise z: uniformity on the sphere is what they reward */
    case CL_LOSS_NTXENT:
    case CL_LOSS_DECOUPLED:
    case CL_LOSS_SWD_SPHERE:
      return CL_PRIOR_SPHERE;
    default:
      return CL_PRIOR_NONE;
    }
}

double
cl_prior_marginal_density (int loss_kind, int dim, double x)
{
  return cl_prior_density (cl_geometry_plot_prior_of_loss (loss_kind), dim, x);
}

void
cl_prior_marginal_label (int loss_kind, int dim, char *buf, size_t size)
{
  switch (loss_kind)
    {
    case CL_LOSS_SWD_NORMAL:
      g_strlcpy (buf, "prior: N(0, 1)", size);
      break;
    case CL_LOSS_SWD_CUBE:
      g_strlcpy (buf,
                 "prior: U(\xE2\x88\x92"
                 "1, 1)",
                 size);
      break;
    case CL_LOSS_SWD_SPHERE:
      g_snprintf (buf, size, "prior: uniform sphere, d=%d", dim);
      break;
    /* no explicit prior: uniformity on the sphere is what their distribution term rewards */
    case CL_LOSS_NTXENT:
    case CL_LOSS_DECOUPLED:
      g_snprintf (buf, size, "uniform sphere, d=%d (ideal)", dim);
      break;
    default:
      if (size > 0)
        buf[0] = '\0';
      break;
    }
}

/* ------------------------------------------------------------- the look */

ClRgb
cl_geometry_plot_histogram_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_SKY_BLUE);
}
ClRgb
cl_geometry_plot_prior_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION);
}
/* alignment and uniformity take the colours of the loss plot's alignment and distribution
 * terms, which they are the geometric counterparts of */
ClRgb
cl_geometry_plot_alignment_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION);
}
ClRgb
cl_geometry_plot_uniformity_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_GREEN);
}
ClRgb
cl_geometry_plot_z_std_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_BLUE);
}

ClRgb
cl_geometry_plot_histogram_edge_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_BLUE);
}

static ClRgb
darker (ClRgb c)
{
  return (ClRgb){ 0.72 * c.r, 0.72 * c.g, 0.72 * c.b };
}

/* ------------------------------------------------------------- the data */

typedef struct
{
  gboolean hist, prior;
  int kind, dim;
  double x_lo, x_hi, y_hi;
  double step_lo, step_hi;
  double align_lo, align_hi, unif_lo, unif_hi;
  gboolean align_any, unif_any;
  double std_hi;
  double uniform_std;
} Ranges;

static double
smoothed_range (const ClMetricRow *rows, int n_rows, size_t offset, double *lo, double *hi)
{
  ClPlotEma ema;
  ClPlotRange r;
  cl_plot_ema_init (&ema, CL_GEOMETRY_PLOT_EMA);
  cl_plot_range_init (&r);
  for (int i = 0; i < n_rows; i++)
    {
      float v;
      memcpy (&v, (const char *) &rows[i] + offset, sizeof v);
      cl_plot_range_add (&r, cl_plot_ema_push (&ema, v));
    }
  *lo = r.lo;
  *hi = r.hi;
  return (double) r.n;
}

static void
compute_ranges (const ClMetricRow *rows, int n_rows, const ClZHistogram *zh, const ClEvent *events, int n_events,
                Ranges *r)
{
  memset (r, 0, sizeof *r);
  r->hist = zh != NULL && zh->step > 0 && isfinite (zh->lo) && isfinite (zh->hi) && zh->lo < zh->hi;
  r->kind = zh != NULL ? zh->loss_kind : -1;
  r->dim = zh != NULL ? zh->dim : 0;
  r->prior = zh != NULL && !isnan (cl_prior_marginal_density (r->kind, r->dim, 0.0)) && (r->hist || r->dim > 0);

  /* a) the histogram's occupied bins and the prior's bulk, within the histogram's range */
  ClPlotRange xr, yr;
  cl_plot_range_init (&xr);
  cl_plot_range_init (&yr);
  double hist_peak = 0.0;
  if (r->hist)
    {
      double bw = (zh->hi - zh->lo) / CL_ZHIST_BINS;
      for (int b = 0; b < CL_ZHIST_BINS; b++)
        if (isfinite (zh->density[b]))
          hist_peak = MAX (hist_peak, zh->density[b]);
      /* a handful of far outliers must not shrink the bulk to a sliver; bins below this
       * are still drawn when they fall inside the axis */
      for (int b = 0; b < CL_ZHIST_BINS; b++)
        if (isfinite (zh->density[b]) && zh->density[b] > 0.0f && zh->density[b] >= 0.004 * hist_peak)
          {
            cl_plot_range_add (&xr, zh->lo + b * bw);
            cl_plot_range_add (&xr, zh->lo + (b + 1) * bw);
            cl_plot_range_add (&yr, zh->density[b]);
          }
    }
  if (r->prior)
    {
      double e = cl_prior_extent (cl_geometry_plot_prior_of_loss (r->kind), r->dim);
      double lo = -e, hi = e;
      if (r->hist)
        {
          lo = MAX (lo, zh->lo);
          hi = MIN (hi, zh->hi);
        }
      cl_plot_range_add (&xr, lo);
      cl_plot_range_add (&xr, hi);
    }
  if (xr.n == 0)
    {
      xr.lo = -1.0;
      xr.hi = 1.0;
    }
  if (xr.lo < 0.0 && xr.hi > 0.0)
    {
      /* z's coordinates are symmetric under the prior: keep 0 in the middle */
      double m = MAX (-xr.lo, xr.hi);
      xr.lo = -m;
      xr.hi = m;
    }
  r->x_lo = xr.lo;
  r->x_hi = xr.hi;
  if (r->prior)
    {
      double prior_peak = 0.0;
      for (int i = 0; i <= PRIOR_SAMPLES; i++)
        {
          double p = cl_prior_marginal_density (r->kind, r->dim, r->x_lo + (r->x_hi - r->x_lo) * i / PRIOR_SAMPLES);
          if (isfinite (p))
            prior_peak = MAX (prior_peak, p);
        }
      /* d = 2 has poles at +-1: do not let them flatten the histogram */
      if (hist_peak > 0.0)
        prior_peak = MIN (prior_peak, 3.0 * hist_peak);
      cl_plot_range_add (&yr, prior_peak);
    }
  r->y_hi = yr.n > 0 && yr.hi > 0.0 ? yr.hi : 1.0;

  /* b), c) */
  ClPlotRange steps;
  cl_plot_range_init (&steps);
  for (int i = 0; i < n_rows; i++)
    cl_plot_range_add (&steps, (double) rows[i].step);
  for (int i = 0; i < n_events; i++)
    cl_plot_range_add (&steps, (double) events[i].step);
  r->step_lo = steps.n > 0 ? steps.lo : 0.0;
  r->step_hi = steps.n > 0 ? steps.hi : 100.0;
  r->align_any = smoothed_range (rows, n_rows, offsetof (ClMetricRow, wi_alignment), &r->align_lo, &r->align_hi) > 0;
  r->unif_any = smoothed_range (rows, n_rows, offsetof (ClMetricRow, wi_uniformity), &r->unif_lo, &r->unif_hi) > 0;
  if (!r->align_any)
    {
      r->align_lo = 0.0;
      r->align_hi = 2.0;
    }
  if (!r->unif_any)
    {
      r->unif_lo = -4.0;
      r->unif_hi = 0.0;
    }
  double std_lo, std_hi;
  gboolean std_any = smoothed_range (rows, n_rows, offsetof (ClMetricRow, z_std), &std_lo, &std_hi) > 0;
  r->uniform_std = r->dim > 0 ? 1.0 / sqrt ((double) r->dim) : NAN;
  r->std_hi = isfinite (r->uniform_std) ? 1.2 * r->uniform_std : 0.0;
  if (std_any)
    r->std_hi = MAX (r->std_hi, std_hi);
  if (!(r->std_hi > 0.0))
    r->std_hi = 1.0;
}

/* ----------------------------------------------------------- the layout */

typedef struct
{
  char title[96];
  const char *x_title, *y_title, *y_right_title;
  ClPlotLegendEntry legend[MAX_LEGEND];
  char prior_label[64];
  int n_legend;
  double title_h, legend_h, band_h, bottom_extent;
  ClPlotEventLabels labels;
  gboolean has_events;
} Panel;

typedef struct
{
  Panel panel[CL_GEOMETRY_N_PANELS];
  ClGeometryPlotLayout g;
  double scale; /* text scale */
} Layout;

static void
panel_texts (Layout *L, const Ranges *r, const ClZHistogram *zh, int n_events)
{
  Panel *a = &L->panel[CL_GEOMETRY_PANEL_HISTOGRAM];
  if (r->hist)
    g_snprintf (a->title, sizeof a->title, "marginal of z (step %" G_GINT64_FORMAT ")", (gint64) zh->step);
  else
    g_strlcpy (a->title, "marginal of z", sizeof a->title);
  a->x_title = zh != NULL && zh->normalized ? "coordinate of z/\xE2\x80\x96z\xE2\x80\x96 (all dims pooled)"
                                            : "coordinate of z (all dims pooled)";
  a->y_title = "density";
  a->n_legend = 0;
  a->legend[a->n_legend++] =
      (ClPlotLegendEntry){ "z, latest batch", cl_geometry_plot_histogram_color (), CL_PLOT_LEGEND_SWATCH, 0.0, FALSE };
  if (r->prior)
    {
      cl_prior_marginal_label (r->kind, r->dim, a->prior_label, sizeof a->prior_label);
      a->legend[a->n_legend++] =
          (ClPlotLegendEntry){ a->prior_label, cl_geometry_plot_prior_color (), CL_PLOT_LEGEND_LINE, 2.0, FALSE };
    }

  Panel *b = &L->panel[CL_GEOMETRY_PANEL_ALIGN_UNIFORM];
  g_strlcpy (b->title, "alignment & uniformity (Wang & Isola)", sizeof b->title);
  b->x_title = "step";
  b->y_title = "alignment";
  b->y_right_title = "uniformity";
  b->n_legend = 0;
  b->legend[b->n_legend++] =
      (ClPlotLegendEntry){ "alignment, left (lower: views closer)", cl_geometry_plot_alignment_color (),
                           CL_PLOT_LEGEND_LINE, 2.0, FALSE };
  b->legend[b->n_legend++] =
      (ClPlotLegendEntry){ "uniformity, right (lower: more spread)", cl_geometry_plot_uniformity_color (),
                           CL_PLOT_LEGEND_LINE, 2.0, FALSE };
  b->has_events = n_events > 0;

  Panel *c = &L->panel[CL_GEOMETRY_PANEL_COLLAPSE];
  g_strlcpy (c->title, "collapse check: spread of z", sizeof c->title);
  c->x_title = "step";
  c->y_title = "std of z/\xE2\x80\x96z\xE2\x80\x96 per dim";
  c->n_legend = 0;
  c->legend[c->n_legend++] =
      (ClPlotLegendEntry){ "z_std (mean over dims)", cl_geometry_plot_z_std_color (), CL_PLOT_LEGEND_LINE, 2.0, FALSE };
  c->has_events = n_events > 0;
  if (n_events > 0)
    for (int p = CL_GEOMETRY_PANEL_ALIGN_UNIFORM; p <= CL_GEOMETRY_PANEL_COLLAPSE; p++)
      L->panel[p].legend[L->panel[p].n_legend++] =
          (ClPlotLegendEntry){ "control change", cl_plot_color_marker (), CL_PLOT_LEGEND_DASHED, 1.0, FALSE };
}

/* Which row of panels each panel is in, for the cells' arrangement. */
static int
panel_row (int columns, int p)
{
  if (columns == 3)
    return 0;
  if (columns == 2)
    return p == CL_GEOMETRY_PANEL_COLLAPSE ? 1 : 0;
  return p;
}

static void
compute_layout (cairo_t *cr, double width, double height, const Ranges *r, const ClEvent *events, int n_events,
                Layout *L)
{
  ClPlotTheme look = cl_plot_theme (L->scale);
  ClGeometryPlotLayout *g = &L->g;
  g->columns = width >= 840.0 ? 3 : width >= 520.0 ? 2 : 1;
  g->histogram_shown = r->hist;
  g->prior_shown = r->prior;
  g->uniform_z_std = r->uniform_std;
  for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
    {
      ClPlotRect *cell = &g->cell[p];
      switch (g->columns)
        {
        case 3:
          *cell = (ClPlotRect){ p * width / 3.0, 0.0, width / 3.0, height };
          break;
        case 2:
          if (p == CL_GEOMETRY_PANEL_COLLAPSE)
            *cell = (ClPlotRect){ 0.0, 0.5 * height, width, 0.5 * height };
          else
            *cell = (ClPlotRect){ p * 0.5 * width, 0.0, 0.5 * width, 0.5 * height };
          break;
        default:
          *cell = (ClPlotRect){ 0.0, p * height / 3.0, width, height / 3.0 };
          break;
        }
    }

  cl_plot_text_setup (cr);
  ClPlotTicks unit_ticks;
  cl_plot_ticks_compute (&unit_ticks, 0.0, 1.0, 5, TRUE, FALSE);
  for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
    {
      Panel *P = &L->panel[p];
      const ClPlotRect *cell = &g->cell[p];
      double inner_w = MAX (cell->w - 2.0 * look.gap, 1.0);
      P->title_h = cl_plot_title_draw (cr, inner_w, 0.0, P->title, look.panel_title_font, FALSE) + 0.4 * look.pad;
      P->legend_h =
          cl_plot_legend_measure (cr, P->legend, P->n_legend, inner_w, look.panel_legend_font) + 0.4 * look.pad;
      P->bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &unit_ticks, P->x_title, &look.axis);
      double guess_h = cell->h - look.pad - P->title_h - P->legend_h - P->bottom_extent;
      int y_target = CLAMP ((int) (guess_h / (42.0 * look.scale)), 2, 7);

      double lo = 0.0, hi = 1.0;
      switch (p)
        {
        case CL_GEOMETRY_PANEL_HISTOGRAM:
          lo = 0.0;
          hi = r->y_hi;
          break;
        case CL_GEOMETRY_PANEL_ALIGN_UNIFORM:
          lo = r->align_lo;
          hi = r->align_hi;
          break;
        default:
          lo = 0.0;
          hi = r->std_hi;
          break;
        }
      cl_plot_ticks_compute (&g->y_ticks[p], lo, hi, y_target, TRUE, FALSE);
      double left = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->y_ticks[p], P->y_title, &look.axis);
      double right = 0.0;
      if (p == CL_GEOMETRY_PANEL_ALIGN_UNIFORM)
        {
          cl_plot_ticks_compute (&g->y_right_ticks, r->unif_lo, r->unif_hi, y_target, TRUE, FALSE);
          right = cl_plot_axis_extent (cr, CL_PLOT_SIDE_RIGHT, &g->y_right_ticks, P->y_right_title, &look.axis);
        }
      g->plot[p].x = cell->x + look.gap + left;
      g->plot[p].w = MAX (cell->x + cell->w - look.gap - right - g->plot[p].x, 1.0);

      /* at least four: fewer lets the last tick overshoot the data by up to half the axis */
      for (int pass = 0; pass < 2; pass++)
        {
          int x_target = CLAMP ((int) (g->plot[p].w / (70.0 * look.scale)), 4, 8);
          if (p == CL_GEOMETRY_PANEL_HISTOGRAM)
            /* more ticks than the step axes: the ends are extended to tick multiples, and a
             * coarse step would leave much of the axis empty */
            cl_plot_ticks_compute (&g->x_ticks[p], r->x_lo, r->x_hi,
                                   CLAMP ((int) (g->plot[p].w / (55.0 * look.scale)), 4, 10), TRUE, FALSE);
          else
            cl_plot_ticks_compute (&g->x_ticks[p], r->step_lo, r->step_hi, x_target, TRUE, TRUE);
          if (pass > 0 || right > 0.0)
            break;
          /* without a right axis, the last tick label needs room beyond the plot */
          double overhang = cl_plot_axis_end_overhang (cr, &g->x_ticks[p], &look.axis);
          if (overhang <= look.gap - 2.0)
            break;
          right = overhang + 2.0 - look.gap;
          g->plot[p].w = MAX (cell->x + cell->w - look.gap - right - g->plot[p].x, 1.0);
        }
      cl_plot_scale_init (&g->x[p], g->x_ticks[p].lo, g->x_ticks[p].hi, g->plot[p].x, g->plot[p].x + g->plot[p].w);
      P->bottom_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_BOTTOM, &g->x_ticks[p], P->x_title, &look.axis);

      if (P->has_events)
        {
          cl_plot_event_labels_layout (cr, &P->labels, events, n_events, &g->x[p], cell->x + look.gap,
                                       cell->x + cell->w - look.gap, look.tiny_font, look.pad, EVENT_LABEL_MAX_ROWS);
          P->band_h = cl_plot_event_labels_band_height (&P->labels, P->labels.rows);
          if (P->band_h > 0.0)
            P->band_h += 0.3 * look.pad;
        }
    }

  /* plots in one row of panels line up: the tallest header and footer set them */
  int n_rows = g->columns == 3 ? 1 : g->columns == 2 ? 2 : 3;
  for (int row = 0; row < n_rows; row++)
    {
      double header = 0.0, footer = 0.0;
      for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
        if (panel_row (g->columns, p) == row)
          {
            const Panel *P = &L->panel[p];
            header = MAX (header, P->title_h + P->legend_h + P->band_h);
            footer = MAX (footer, P->bottom_extent);
          }
      for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
        if (panel_row (g->columns, p) == row)
          {
            const ClPlotRect *cell = &g->cell[p];
            g->plot[p].y = cell->y + look.pad + header;
            g->plot[p].h = MAX (cell->y + cell->h - footer - 0.5 * look.pad - g->plot[p].y, 1.0);
            cl_plot_scale_init (&g->y[p], g->y_ticks[p].lo, g->y_ticks[p].hi, g->plot[p].y + g->plot[p].h,
                                g->plot[p].y);
          }
    }
  const ClPlotRect *pb = &g->plot[CL_GEOMETRY_PANEL_ALIGN_UNIFORM];
  cl_plot_scale_init (&g->y_right, g->y_right_ticks.lo, g->y_right_ticks.hi, pb->y + pb->h, pb->y);
}

/* ------------------------------------------------------------ the panels */

static void
draw_histogram (cairo_t *cr, const ClGeometryPlotLayout *g, const Ranges *r, const ClZHistogram *zh,
                const ClPlotTheme *look)
{
  const int p = CL_GEOMETRY_PANEL_HISTOGRAM;
  const ClPlotRect *plot = &g->plot[p];
  const ClPlotScale *xs = &g->x[p], *ys = &g->y[p];
  cairo_save (cr);
  cairo_rectangle (cr, plot->x, plot->y - look->line_width, plot->w, plot->h + 2 * look->line_width);
  cairo_clip (cr);
  if (r->hist)
    {
      double bw = (zh->hi - zh->lo) / CL_ZHIST_BINS;
      double base = cl_plot_scale_map (ys, 0.0);
      /* bars, then their outline as one step curve so neighbouring bars share an edge */
      cl_plot_set_rgb (cr, cl_geometry_plot_histogram_color ());
      for (int b = 0; b < CL_ZHIST_BINS; b++)
        {
          double d = zh->density[b];
          if (!isfinite (d) || d <= 0.0)
            continue;
          double x0 = cl_plot_scale_map (xs, zh->lo + b * bw), x1 = cl_plot_scale_map (xs, zh->lo + (b + 1) * bw);
          double y = cl_plot_scale_map (ys, MIN (d, g->y_ticks[p].hi * 1.02));
          cairo_rectangle (cr, x0, y, x1 - x0, base - y);
        }
      cairo_fill (cr);
      cairo_new_path (cr);
      gboolean open = FALSE;
      for (int b = 0; b < CL_ZHIST_BINS; b++)
        {
          double d = zh->density[b];
          double x0 = cl_plot_scale_map (xs, zh->lo + b * bw), x1 = cl_plot_scale_map (xs, zh->lo + (b + 1) * bw);
          if (!isfinite (d) || d <= 0.0)
            {
              if (open)
                cairo_line_to (cr, x0, base);
              open = FALSE;
              continue;
            }
          double y = cl_plot_scale_map (ys, MIN (d, g->y_ticks[p].hi * 1.02));
          if (!open)
            cairo_move_to (cr, x0, base);
          cairo_line_to (cr, x0, y);
          cairo_line_to (cr, x1, y);
          open = TRUE;
        }
      if (open)
        cairo_line_to (cr, cl_plot_scale_map (xs, zh->hi), base);
      cairo_set_line_width (cr, 1.0);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_MITER);
      cl_plot_set_rgb (cr, cl_geometry_plot_histogram_edge_color ());
      cairo_stroke (cr);
    }
  if (r->prior)
    {
      double cap = g->y_ticks[p].hi * 1.1; /* the d = 2 poles leave through the top */
      cairo_new_path (cr);
      gboolean started = FALSE;
      double x0 = g->x_ticks[p].lo, x1 = g->x_ticks[p].hi;
      /* the cube (and the d = 3 sphere) jump at +-1: the edges go in exactly, vertical */
      gboolean bounded = r->kind != CL_LOSS_SWD_NORMAL;
      double previous = -INFINITY;
      for (int i = 0; i <= PRIOR_SAMPLES; i++)
        {
          double x = x0 + (x1 - x0) * i / PRIOR_SAMPLES;
          double at[3] = { x, NAN, NAN }, value[3];
          value[0] = cl_prior_marginal_density (r->kind, r->dim, x);
          int n = 1;
          for (double edge = -1.0; bounded && edge <= 1.0; edge += 2.0)
            if (previous < edge && edge <= x)
              {
                double inside = cl_prior_marginal_density (r->kind, r->dim, edge);
                at[0] = at[1] = edge;
                value[0] = edge < 0.0 ? 0.0 : inside;
                value[1] = edge < 0.0 ? inside : 0.0;
                at[2] = x;
                value[2] = cl_prior_marginal_density (r->kind, r->dim, x);
                n = x > edge ? 3 : 2;
              }
          previous = x;
          for (int k = 0; k < n; k++)
            {
              if (isnan (value[k]))
                continue;
              double px = cl_plot_scale_map (xs, at[k]), py = cl_plot_scale_map (ys, MIN (value[k], cap));
              if (started)
                cairo_line_to (cr, px, py);
              else
                cairo_move_to (cr, px, py);
              started = TRUE;
            }
        }
      cairo_set_line_width (cr, look->line_width);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cl_plot_set_rgb (cr, cl_geometry_plot_prior_color ());
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
draw_series (cairo_t *cr, const ClPlotScale *xs, const ClPlotScale *ys, const ClMetricRow *rows, int n_rows,
             size_t offset, ClRgb color, double line_width)
{
  ClPlotEma ema;
  cl_plot_ema_init (&ema, CL_GEOMETRY_PLOT_EMA);
  double *x = g_new (double, MAX (n_rows, 1)), *y = g_new (double, MAX (n_rows, 1));
  for (int i = 0; i < n_rows; i++)
    {
      float v;
      memcpy (&v, (const char *) &rows[i] + offset, sizeof v);
      x[i] = (double) rows[i].step;
      y[i] = cl_plot_ema_push (&ema, v);
    }
  ClPlotAxes axes = { xs, ys, FALSE };
  ClPlotStroke stroke = cl_plot_stroke (color, line_width);
  cl_plot_chart_line (cr, &axes, x, y, n_rows, &stroke);
  g_free (x);
  g_free (y);
}

/* A reference line's label, just above the line at the left of the plot, on a white
 * ground so a curve passing behind does not garble it. */
static void
reference_label (cairo_t *cr, const ClPlotRect *plot, double y, const char *text, const ClPlotTheme *look)
{
  cairo_save (cr);
  cl_plot_font (cr, look->small_font, FALSE);
  double w = cl_plot_text_width (cr, text), h = cl_plot_text_height (cr);
  double x = plot->x + 0.6 * look->pad, top = y - 2.0 - h;
  if (top < plot->y + 1.0)
    top = y + 2.0; /* no room above: hang below */
  cl_plot_set_rgba (cr, cl_plot_color_background (), 0.85);
  cairo_rectangle (cr, x - 2.0, top, w + 4.0, h);
  cairo_fill (cr);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_text (cr, x, top, text, 0.0, 0.0, 0.0);
  cairo_restore (cr);
}

void
cl_geometry_plot_draw_full (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                            const ClZHistogram *zhist, const ClEvent *events, int n_events,
                            ClGeometryPlotLayout *layout)
{
  cl_geometry_plot_draw_scaled (cr, width, height, rows, n_rows, zhist, events, n_events, 1.0, layout);
}

void
cl_geometry_plot_draw_scaled (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                              const ClZHistogram *zhist, const ClEvent *events, int n_events, double font_scale,
                              ClGeometryPlotLayout *layout)
{
  Layout L;
  memset (&L, 0, sizeof L);
  L.scale = cl_plot_theme (font_scale).scale;
  if (n_rows < 0 || rows == NULL)
    n_rows = 0;
  if (n_events < 0 || events == NULL)
    n_events = 0;
  if (!(width >= 1.0) || !(height >= 1.0) || !isfinite (width) || !isfinite (height))
    {
      if (layout != NULL)
        *layout = L.g;
      return;
    }
  ClPlotTheme look = cl_plot_theme (L.scale);
  Ranges r;
  compute_ranges (rows, n_rows, zhist, events, n_events, &r);
  panel_texts (&L, &r, zhist, n_events);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  compute_layout (cr, width, height, &r, events, n_events, &L);
  ClGeometryPlotLayout *g = &L.g;

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  for (int p = 0; p < CL_GEOMETRY_N_PANELS; p++)
    {
      Panel *P = &L.panel[p];
      const ClPlotRect *cell = &g->cell[p];
      const ClPlotRect *plot = &g->plot[p];
      double inner_w = MAX (cell->w - 2.0 * look.gap, 1.0);
      cairo_save (cr);
      cairo_translate (cr, cell->x + look.gap, 0.0);
      double top = cell->y + look.pad;
      cl_plot_title_draw (cr, inner_w, top, P->title, look.panel_title_font, TRUE);
      top += P->title_h;
      cl_plot_legend_draw (cr, P->legend, P->n_legend, 0.5 * inner_w, top, inner_w, look.panel_legend_font);
      cairo_restore (cr);

      const ClPlotScale *ys = &g->y[p];
      if (p == CL_GEOMETRY_PANEL_HISTOGRAM)
        {
          cl_plot_grid_draw (cr, plot, NULL, NULL, ys, &g->y_ticks[p], 1.0);
          draw_histogram (cr, g, &r, zhist, &look);
        }
      else
        {
          cl_plot_grid_draw (cr, plot, &g->x[p], &g->x_ticks[p], ys, &g->y_ticks[p], 1.0);
          double band_bottom = plot->y - 0.3 * look.pad;
          cl_plot_event_labels_draw (cr, &P->labels, plot, band_bottom);
          if (p == CL_GEOMETRY_PANEL_COLLAPSE && isfinite (r.uniform_std))
            {
              cl_plot_hmarker_draw (cr, plot, cl_plot_scale_map (ys, r.uniform_std), cl_plot_color_marker (), 1.2);
              cl_plot_hmarker_draw (cr, plot, cl_plot_scale_map (ys, 0.0), cl_plot_color_marker (), 1.2);
            }
          cairo_save (cr);
          cairo_rectangle (cr, plot->x, plot->y - look.line_width, plot->w, plot->h + 2 * look.line_width);
          cairo_clip (cr);
          if (p == CL_GEOMETRY_PANEL_ALIGN_UNIFORM)
            {
              draw_series (cr, &g->x[p], &g->y_right, rows, n_rows, offsetof (ClMetricRow, wi_uniformity),
                           cl_geometry_plot_uniformity_color (), look.line_width);
              draw_series (cr, &g->x[p], ys, rows, n_rows, offsetof (ClMetricRow, wi_alignment),
                           cl_geometry_plot_alignment_color (), look.line_width);
            }
          else
            draw_series (cr, &g->x[p], ys, rows, n_rows, offsetof (ClMetricRow, z_std), cl_geometry_plot_z_std_color (),
                         look.line_width);
          cairo_restore (cr);
          if (p == CL_GEOMETRY_PANEL_COLLAPSE && isfinite (r.uniform_std))
            {
              char text[96], number[32];
              cl_plot_format_number (r.uniform_std, r.uniform_std >= 0.1 ? 3 : 4, number, sizeof number);
              g_snprintf (text, sizeof text,
                          "uniform on sphere: 1/\xE2\x88\x9A"
                          "d = %s",
                          number);
              reference_label (cr, plot, cl_plot_scale_map (ys, r.uniform_std), text, &look);
              reference_label (cr, plot, cl_plot_scale_map (ys, 0.0), "collapsed: 0", &look);
            }
        }

      if (p == CL_GEOMETRY_PANEL_ALIGN_UNIFORM)
        {
          ClRgb a = darker (cl_geometry_plot_alignment_color ()), u = darker (cl_geometry_plot_uniformity_color ());
          cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_LEFT, ys, &g->y_ticks[p], P->y_title, &look.axis, &a);
          cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_RIGHT, &g->y_right, &g->y_right_ticks, P->y_right_title, &look.axis,
                             &u);
        }
      else
        cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_LEFT, ys, &g->y_ticks[p], P->y_title, &look.axis, NULL);
      cl_plot_axis_draw (cr, plot, CL_PLOT_SIDE_BOTTOM, &g->x[p], &g->x_ticks[p], P->x_title, &look.axis, NULL);

      if (p == CL_GEOMETRY_PANEL_HISTOGRAM && !r.hist)
        cl_plot_note_draw (cr, plot, "waiting for the first batch", look.panel_note_font);
      else if (p != CL_GEOMETRY_PANEL_HISTOGRAM && n_rows == 0)
        cl_plot_note_draw (cr, plot, "waiting for the first step", look.panel_note_font);
      cl_plot_event_labels_clear (&P->labels);
    }

  cairo_restore (cr);
  if (layout != NULL)
    *layout = *g;
}

void
cl_geometry_plot_draw (cairo_t *cr, double width, double height, const ClMetricRow *rows, int n_rows,
                       const ClZHistogram *zhist, const ClEvent *events, int n_events)
{
  cl_geometry_plot_draw_full (cr, width, height, rows, n_rows, zhist, events, n_events, NULL);
}
