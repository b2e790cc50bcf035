#include "ui/plots/cl_bar_chart.h"
#include "ui/plots/cl_plot_theme.h"

#include <math.h>
#include <string.h>

#define MAX_LEGEND_SERIES 24
#define GROUP_LABEL_ANGLE (G_PI / 6.0)

ClRgb
cl_bar_chart_series_color (int series)
{
  return cl_plot_series_color (series);
}

static ClRgb
color_of (const ClBarChartData *d, int series)
{
  return cl_bar_chart_series_color (d->series_colors != NULL ? d->series_colors[series] : series);
}

static double
value_at (const ClBarChartData *d, int group, int series)
{
  if (d->values == NULL)
    return NAN;
  return d->values[(size_t) group * d->n_series + series];
}

static const char *
group_label (const ClBarChartData *d, int group)
{
  return d->group_labels != NULL && d->group_labels[group] != NULL ? d->group_labels[group] : "";
}

static gboolean
data_usable (const ClBarChartData *d)
{
  return d != NULL && d->n_groups > 0 && d->n_series > 0;
}

typedef struct
{
  char series_text[MAX_LEGEND_SERIES][96];
  ClPlotLegendEntry entries[MAX_LEGEND_SERIES + 1];
  int n;
} Legend;

static void
legend_build (const ClBarChartData *d, Legend *legend)
{
  legend->n = 0;
  if (d == NULL)
    return;
  if (d->n_series > 1)
    for (int s = 0; s < MIN (d->n_series, MAX_LEGEND_SERIES); s++)
      {
        const char *label = d->series_labels != NULL && d->series_labels[s] != NULL ? d->series_labels[s] : "?";
        if (d->series_key != NULL && d->series_key[0] != '\0')
          g_snprintf (legend->series_text[s], sizeof legend->series_text[s], "%s = %s", d->series_key, label);
        else
          g_strlcpy (legend->series_text[s], label, sizeof legend->series_text[s]);
        legend->entries[legend->n++] =
            (ClPlotLegendEntry){ legend->series_text[s], color_of (d, s), CL_PLOT_LEGEND_SWATCH, 0.0, FALSE };
      }
  if (isfinite (d->reference))
    legend->entries[legend->n++] =
        (ClPlotLegendEntry){ d->reference_label != NULL && d->reference_label[0] != '\0' ? d->reference_label
                                                                                         : "reference",
                             cl_plot_color_marker (), CL_PLOT_LEGEND_DASHED, 1.2, FALSE };
}

/* The y axis: automatic ends become tick multiples, fixed ends stay where they were asked. */
static void
y_axis (const ClBarChartData *d, int target, ClPlotTicks *ticks)
{
  ClPlotRange r;
  cl_plot_range_init (&r);
  gboolean unit = TRUE;
  if (data_usable (d))
    for (int gi = 0; gi < d->n_groups; gi++)
      for (int s = 0; s < d->n_series; s++)
        {
          double v = value_at (d, gi, s);
          cl_plot_range_add (&r, v);
          if (isfinite (v) && (v < 0.0 || v > 1.0))
            unit = FALSE;
        }
  if (d != NULL && isfinite (d->reference))
    {
      cl_plot_range_add (&r, d->reference);
      unit = unit && d->reference >= 0.0 && d->reference <= 1.0;
    }
  double lo = 0.0, hi = 1.0; /* accuracies, and the axis of an empty chart */
  if (!unit && r.n > 0)
    {
      /* bars grow from 0, so 0 stays on the axis */
      lo = MIN (r.lo, 0.0);
      hi = MAX (r.hi, 0.0);
    }
  gboolean fixed_lo = d != NULL && isfinite (d->y_min), fixed_hi = d != NULL && isfinite (d->y_max);
  cl_plot_ticks_compute (ticks, lo, hi, target, TRUE, FALSE);
  if (fixed_lo || fixed_hi)
    {
      lo = fixed_lo ? d->y_min : ticks->lo;
      hi = fixed_hi ? d->y_max : ticks->hi;
      cl_plot_ticks_compute (ticks, lo, hi, target, FALSE, FALSE);
    }
}

static double
bar_baseline (const ClPlotTicks *ticks)
{
  return CLAMP (0.0, ticks->lo, ticks->hi);
}

static int
value_decimals (const ClPlotTicks *ticks)
{
  if (ticks->step >= 10.0)
    return 0;
  return MIN (ticks->decimals + 1, 4);
}

static void
format_value (const ClBarChartLayout *g, double v, char *buf, size_t size)
{
  cl_plot_format_number (v, g->value_decimals, buf, size);
}

/* Bars of a group sit centred in its slot, 80% of it wide. */
static void
bar_widths (ClBarChartLayout *g, int n_series)
{
  double inner = 0.8 * g->group_width;
  g->bar_gap = n_series > 1 ? MIN (0.08 * inner / n_series, 3.0) : 0.0;
  g->bar_width = MAX ((inner - g->bar_gap * (n_series - 1)) / n_series, 0.5);
}

void
cl_bar_chart_bar_rect (const ClBarChartLayout *g, const ClBarChartData *d, int group, int series, ClPlotRect *rect)
{
  memset (rect, 0, sizeof *rect);
  if (!data_usable (d) || group < 0 || group >= d->n_groups || series < 0 || series >= d->n_series)
    return;
  double inner = g->bar_width * d->n_series + g->bar_gap * (d->n_series - 1);
  double centre = g->plot.x + (group + 0.5) * g->group_width;
  rect->x = centre - 0.5 * inner + series * (g->bar_width + g->bar_gap);
  rect->w = g->bar_width;
  double base = cl_plot_scale_map (&g->y, g->baseline);
  rect->y = base;
  double v = value_at (d, group, series);
  if (!isfinite (v))
    return;
  double top = cl_plot_scale_map (&g->y, CLAMP (v, g->y_ticks.lo, g->y_ticks.hi));
  rect->y = MIN (base, top);
  rect->h = fabs (top - base);
}

static void
compute_layout (cairo_t *cr, double width, double height, const ClBarChartData *d, const Legend *legend,
                ClBarChartLayout *g)
{
  ClPlotTheme look = cl_plot_theme (1.0);
  memset (g, 0, sizeof *g);
  cl_plot_text_setup (cr);
  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, d != NULL ? d->title : NULL, look.title_font, FALSE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  double legend_h = cl_plot_legend_measure (cr, legend->entries, legend->n, width - 2 * look.pad, look.legend_font);
  if (legend_h > 0.0)
    top += legend_h + 0.5 * look.pad;

  const char *y_label = d != NULL ? d->y_label : NULL;
  const char *x_label = d != NULL ? d->group_key : NULL;
  cairo_save (cr);
  cl_plot_font (cr, look.label_font, FALSE);
  double group_text_h = cl_plot_text_height (cr);
  cairo_restore (cr);
  cairo_save (cr);
  cl_plot_font (cr, look.axis.title_font, FALSE);
  double x_title_h = x_label != NULL && x_label[0] != '\0' ? cl_plot_text_height (cr) + look.axis.pad : 0.0;
  cairo_restore (cr);
  double guess_h = height - top - 3.0 * group_text_h - x_title_h - 2.0 * look.pad;
  cl_plot_ticks_compute (&g->y_ticks, 0, 1, 5, TRUE, FALSE);
  y_axis (d, CLAMP ((int) (guess_h / 45.0), 2, 10), &g->y_ticks);
  g->baseline = bar_baseline (&g->y_ticks);
  g->value_decimals = value_decimals (&g->y_ticks);

  double left_extent = cl_plot_axis_extent (cr, CL_PLOT_SIDE_LEFT, &g->y_ticks, y_label, &look.axis);
  g->plot.x = look.pad + left_extent;
  g->plot.w = MAX (width - 1.5 * look.pad - g->plot.x, 1.0);
  int n_groups = data_usable (d) ? d->n_groups : 1;
  int n_series = data_usable (d) ? d->n_series : 1;
  g->group_width = g->plot.w / n_groups;
  bar_widths (g, n_series);

  /* group labels: level when they fit their slot, else slanted */
  double widest_group = 0.0;
  cairo_save (cr);
  cl_plot_font (cr, look.label_font, FALSE);
  if (data_usable (d))
    for (int gi = 0; gi < d->n_groups; gi++)
      widest_group = MAX (widest_group, cl_plot_text_width (cr, group_label (d, gi)));
  cairo_restore (cr);
  g->group_labels_rotated = widest_group > g->group_width - look.pad;
  if (g->group_labels_rotated)
    {
      /* the first slanted label reaches left of its group, past the plot's edge */
      cairo_save (cr);
      cl_plot_font (cr, look.label_font, FALSE);
      double reach = cl_plot_text_width (cr, group_label (d, 0)) * cos (GROUP_LABEL_ANGLE) - 0.5 * g->group_width;
      cairo_restore (cr);
      if (look.pad + reach > g->plot.x)
        {
          g->plot.w = MAX (g->plot.w - (look.pad + reach - g->plot.x), 1.0);
          g->plot.x = look.pad + reach;
          g->group_width = g->plot.w / n_groups;
          bar_widths (g, n_series);
        }
    }
  double group_h = g->group_labels_rotated
                       ? widest_group * sin (GROUP_LABEL_ANGLE) + group_text_h * cos (GROUP_LABEL_ANGLE)
                       : group_text_h;
  double bottom_extent = look.axis.tick_length + look.axis.pad + group_h + x_title_h + look.axis.pad;

  /* printed values: level above the bar when they fit its width, else upright */
  double widest_value = 0.0, value_h;
  cairo_save (cr);
  cl_plot_font (cr, look.small_font, FALSE);
  value_h = cl_plot_text_height (cr);
  if (data_usable (d))
    for (int gi = 0; gi < d->n_groups; gi++)
      for (int s = 0; s < d->n_series; s++)
        {
          char text[64];
          double v = value_at (d, gi, s);
          if (isfinite (v))
            format_value (g, v, text, sizeof text);
          else
            g_strlcpy (text, "n/a", sizeof text);
          widest_value = MAX (widest_value, cl_plot_text_width (cr, text));
        }
  cairo_restore (cr);
  g->value_labels_rotated = widest_value > g->bar_width + 0.9 * g->bar_gap + 2.0;
  /* room above the axis for the value of a bar that reaches the top */
  double label_room = (g->value_labels_rotated ? widest_value : value_h) + 3.0;
  top += label_room;

  g->plot.y = top;
  g->plot.h = MAX (height - look.pad - bottom_extent - g->plot.y, 1.0);
  /* negative bars print their value below: keep it off the group labels */
  if (g->y_ticks.lo < 0.0)
    g->plot.h = MAX (g->plot.h - label_room, 1.0);
  cl_plot_scale_init (&g->y, g->y_ticks.lo, g->y_ticks.hi, g->plot.y + g->plot.h, g->plot.y);
}

void
cl_bar_chart_draw_full (cairo_t *cr, double width, double height, const ClBarChartData *d, ClBarChartLayout *layout)
{
  ClBarChartLayout g;
  memset (&g, 0, sizeof g);
  if (!(width >= 1.0) || !(height >= 1.0) || !isfinite (width) || !isfinite (height))
    {
      if (layout != NULL)
        *layout = g;
      return;
    }
  ClPlotTheme look = cl_plot_theme (1.0);
  Legend legend;
  legend_build (d, &legend);

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_new_path (cr);
  compute_layout (cr, width, height, d, &legend, &g);

  cl_plot_set_rgb (cr, cl_plot_color_background ());
  cairo_paint (cr);

  double top = look.pad;
  double title_h = cl_plot_title_draw (cr, width, top, d != NULL ? d->title : NULL, look.title_font, TRUE);
  if (title_h > 0.0)
    top += title_h + 0.5 * look.pad;
  cl_plot_legend_draw (cr, legend.entries, legend.n, 0.5 * width, top, width - 2 * look.pad, look.legend_font);

  cl_plot_grid_draw (cr, &g.plot, NULL, NULL, &g.y, &g.y_ticks, 1.0);

  gboolean usable = data_usable (d);
  double base_y = cl_plot_scale_map (&g.y, g.baseline);
  if (usable)
    {
      for (int gi = 0; gi < d->n_groups; gi++)
        for (int s = 0; s < d->n_series; s++)
          {
            ClPlotRect bar;
            cl_bar_chart_bar_rect (&g, d, gi, s, &bar);
            if (bar.h <= 0.0)
              continue;
            cl_plot_set_rgb (cr, color_of (d, s));
            cairo_rectangle (cr, bar.x, bar.y, bar.w, bar.h);
            cairo_fill (cr);
          }
      /* a line at zero when the bars grow both ways from inside the plot */
      if (g.baseline > g.y_ticks.lo && g.baseline < g.y_ticks.hi)
        {
          cairo_save (cr);
          cairo_set_line_width (cr, 1.0);
          cl_plot_set_rgb (cr, cl_plot_color_axis ());
          double y0 = cl_plot_snap (cr, base_y, FALSE, 1.0);
          cairo_move_to (cr, g.plot.x, y0);
          cairo_line_to (cr, g.plot.x + g.plot.w, y0);
          cairo_stroke (cr);
          cairo_restore (cr);
        }
      if (isfinite (d->reference) && d->reference >= g.y_ticks.lo && d->reference <= g.y_ticks.hi)
        cl_plot_hmarker_draw (cr, &g.plot, cl_plot_scale_map (&g.y, d->reference), cl_plot_color_marker (), 1.2);

      /* values above the bars (below the negative ones) */
      cairo_save (cr);
      cl_plot_font (cr, look.small_font, FALSE);
      gboolean fits_upright = cl_plot_text_height (cr) <= g.bar_width + g.bar_gap + 1.0;
      for (int gi = 0; gi < d->n_groups; gi++)
        for (int s = 0; s < d->n_series; s++)
          {
            if (g.value_labels_rotated && !fits_upright)
              continue; /* too narrow even for upright text: the axis has to do */
            ClPlotRect bar;
            cl_bar_chart_bar_rect (&g, d, gi, s, &bar);
            double v = value_at (d, gi, s);
            char text[64];
            gboolean missing = !isfinite (v);
            if (missing)
              g_strlcpy (text, "n/a", sizeof text);
            else
              format_value (&g, v, text, sizeof text);
            gboolean below = !missing && v < g.baseline;
            double cx = bar.x + 0.5 * bar.w;
            double y = below ? bar.y + bar.h + 2.0 : bar.y - 2.0;
            cl_plot_set_rgb (cr, missing ? cl_plot_color_muted () : cl_plot_color_text ());
            if (g.value_labels_rotated)
              cl_plot_text (cr, cx, y, text, below ? 1.0 : 0.0, 0.5, G_PI / 2);
            else
              cl_plot_text (cr, cx, y, text, 0.5, below ? 0.0 : 1.0, 0.0);
          }
      cairo_restore (cr);
    }

  cl_plot_axis_draw (cr, &g.plot, CL_PLOT_SIDE_LEFT, &g.y, &g.y_ticks, d != NULL ? d->y_label : NULL, &look.axis, NULL);

  /* the x axis: a spine, a tick between groups, the group labels and the key */
  cairo_save (cr);
  cairo_set_line_width (cr, look.axis.line_width);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  double spine = g.plot.y + g.plot.h;
  double spine_y = cl_plot_snap (cr, spine, FALSE, look.axis.line_width);
  cairo_move_to (cr, g.plot.x, spine_y);
  cairo_line_to (cr, g.plot.x + g.plot.w, spine_y);
  int n_groups = usable ? d->n_groups : 0;
  for (int gi = 1; gi < n_groups; gi++)
    {
      double x = cl_plot_snap (cr, g.plot.x + gi * g.group_width, TRUE, look.axis.line_width);
      cairo_move_to (cr, x, spine);
      cairo_line_to (cr, x, spine + look.axis.tick_length);
    }
  cairo_stroke (cr);
  cl_plot_set_rgb (cr, cl_plot_color_text ());
  cl_plot_font (cr, look.label_font, FALSE);
  double label_y = spine + look.axis.tick_length + look.axis.pad;
  double labels_bottom = label_y + cl_plot_text_height (cr);
  for (int gi = 0; gi < n_groups; gi++)
    {
      double cx = g.plot.x + (gi + 0.5) * g.group_width;
      if (g.group_labels_rotated)
        {
          /* slanted down to the left, ending under the group's centre */
          cl_plot_text (cr, cx, label_y, group_label (d, gi), 1.0, 0.0, GROUP_LABEL_ANGLE);
          double w = cl_plot_text_width (cr, group_label (d, gi));
          labels_bottom = MAX (labels_bottom, label_y + w * sin (GROUP_LABEL_ANGLE) +
                                                  cl_plot_text_height (cr) * cos (GROUP_LABEL_ANGLE));
        }
      else
        cl_plot_text (cr, cx, label_y, group_label (d, gi), 0.5, 0.0, 0.0);
    }
  if (d != NULL && d->group_key != NULL && d->group_key[0] != '\0')
    {
      cl_plot_font (cr, look.axis.title_font, FALSE);
      cl_plot_text (cr, g.plot.x + 0.5 * g.plot.w, labels_bottom + look.axis.pad, d->group_key, 0.5, 0.0, 0.0);
    }
  cairo_restore (cr);

  if (!usable)
    cl_plot_note_draw (cr, &g.plot, "no results yet", look.note_font);

  cairo_restore (cr);
  if (layout != NULL)
    *layout = g;
}

void
cl_bar_chart_draw (cairo_t *cr, double width, double height, const ClBarChartData *data)
{
  cl_bar_chart_draw_full (cr, width, height, data, NULL);
}

void
cl_bar_chart_draw_cb (cairo_t *cr, double width, double height, gpointer data)
{
  cl_bar_chart_draw (cr, width, height, data);
}
