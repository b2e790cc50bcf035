#include "ui/plots/cl_plot_legend.h"
#include "ui/plots/cl_plot_common.h"

#include <math.h>

/* ----------------------------------------------------------------- legend */

typedef struct
{
  double sample, gap, spacing, row_height;
} LegendMetrics;

static LegendMetrics
legend_metrics (cairo_t *cr, double font_size)
{
  LegendMetrics m;
  m.sample = 2.2 * font_size;
  m.gap = 0.5 * font_size;
  m.spacing = 1.6 * font_size;
  m.row_height = 1.35 * cl_plot_text_height (cr);
  return m;
}

/* The label as shown: an entry with nothing in view says so. */
static const char *
entry_label (const ClPlotLegendEntry *entry, char *buf, size_t size)
{
  if (!entry->out_of_view)
    return entry->label;
  g_snprintf (buf, size, "%s%s", entry->label, CL_PLOT_LEGEND_OUT_SUFFIX);
  return buf;
}

static double
legend_entry_width (cairo_t *cr, const ClPlotLegendEntry *entry, const LegendMetrics *m)
{
  char buf[320];
  return m->sample + m->gap + cl_plot_text_width (cr, entry_label (entry, buf, sizeof buf));
}

/* Walks the flow layout; with draw, also paints. Returns the height. */
static double
legend_layout (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double centre_x, double y, double max_width,
               double font_size, gboolean draw)
{
  if (n <= 0)
    return 0.0;
  cairo_save (cr);
  cl_plot_font (cr, font_size, FALSE);
  LegendMetrics m = legend_metrics (cr, font_size);
  int start = 0, rows = 0;
  while (start < n)
    {
      /* take entries while the row still fits (at least one per row) */
      double row_width = legend_entry_width (cr, &entries[start], &m);
      int end = start + 1;
      while (end < n)
        {
          double w = legend_entry_width (cr, &entries[end], &m);
          if (row_width + m.spacing + w > max_width)
            break;
          row_width += m.spacing + w;
          end++;
        }
      if (draw)
        {
          double x = centre_x - 0.5 * row_width;
          double mid = y + rows * m.row_height + 0.5 * m.row_height;
          for (int i = start; i < end; i++)
            {
              const ClPlotLegendEntry *e = &entries[i];
              /* an entry with nothing in view: its sample faint, its label muted */
              ClRgb color = e->out_of_view ? cl_plot_mix (cl_plot_color_background (), e->color, 0.3) : e->color;
              cairo_save (cr);
              cl_plot_set_rgb (cr, color);
              switch (e->kind)
                {
                case CL_PLOT_LEGEND_SWATCH:
                  {
                    double side = 0.8 * font_size;
                    cairo_rectangle (cr, x + 0.5 * (m.sample - side), mid - 0.5 * side, side, side);
                    cairo_fill (cr);
                    break;
                  }
                case CL_PLOT_LEGEND_HOLLOW_POINT:
                  cl_plot_point_draw (cr, x + 0.5 * m.sample, mid, 0.34 * font_size, color, TRUE);
                  break;
                case CL_PLOT_LEGEND_LINE_POINT:
                case CL_PLOT_LEGEND_DASHED:
                case CL_PLOT_LEGEND_LINE:
                default:
                  {
                    double lw = e->line_width > 0.0 ? e->line_width : 2.0;
                    cairo_set_line_width (cr, lw);
                    if (e->kind == CL_PLOT_LEGEND_DASHED)
                      {
                        double dash[2] = { 5.0 * lw, 3.0 * lw };
                        cairo_set_dash (cr, dash, 2, 0.0);
                      }
                    cairo_move_to (cr, x, mid);
                    cairo_line_to (cr, x + m.sample, mid);
                    cairo_stroke (cr);
                    if (e->kind == CL_PLOT_LEGEND_LINE_POINT)
                      cl_plot_point_draw (cr, x + 0.5 * m.sample, mid, 0.3 * font_size, color, FALSE);
                    break;
                  }
                }
              cairo_restore (cr);
              char buf[320];
              cl_plot_set_rgb (cr, e->out_of_view ? cl_plot_color_muted () : cl_plot_color_text ());
              cl_plot_text (cr, x + m.sample + m.gap, mid, entry_label (e, buf, sizeof buf), 0.0, 0.5, 0.0);
              x += legend_entry_width (cr, e, &m) + m.spacing;
            }
        }
      rows++;
      start = end;
    }
  cairo_restore (cr);
  return rows * m.row_height;
}

double
cl_plot_legend_measure (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double max_width, double font_size)
{
  return legend_layout (cr, entries, n, 0.0, 0.0, max_width, font_size, FALSE);
}

double
cl_plot_legend_draw (cairo_t *cr, const ClPlotLegendEntry *entries, int n, double centre_x, double y, double max_width,
                     double font_size)
{
  return legend_layout (cr, entries, n, centre_x, y, max_width, font_size, TRUE);
}
