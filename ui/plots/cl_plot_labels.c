#include "ui/plots/cl_plot_labels.h"
#include "ui/plots/cl_plot_common.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------- label placement */

#define MAX_LABEL_ROWS 16

int
cl_plot_place_labels (const double *centres, const double *widths, int n, double min_x, double max_x, double gap,
                      int max_rows, double *left_out, int *row_out)
{
  double row_end[MAX_LABEL_ROWS];
  max_rows = CLAMP (max_rows, 0, MAX_LABEL_ROWS);
  for (int r = 0; r < max_rows; r++)
    row_end[r] = -INFINITY;
  int used = 0;
  for (int i = 0; i < n; i++)
    {
      double left = centres[i] - 0.5 * widths[i];
      if (left + widths[i] > max_x)
        left = max_x - widths[i];
      if (left < min_x)
        left = min_x;
      left_out[i] = left;
      row_out[i] = -1;
      for (int r = 0; r < max_rows; r++)
        if (left >= row_end[r] + gap)
          {
            row_out[i] = r;
            row_end[r] = left + widths[i];
            used = MAX (used, r + 1);
            break;
          }
    }
  return used;
}

/* ---------------------------------------------------------- event markers */

/* Event order for labelling: by step, stable, because labels are placed left to right. */
static int
compare_event_index (gconstpointer a, gconstpointer b, gpointer events_ptr)
{
  const ClEvent *events = events_ptr;
  int ia = *(const int *) a, ib = *(const int *) b;
  if (events[ia].step != events[ib].step)
    return events[ia].step < events[ib].step ? -1 : 1;
  return ia - ib;
}

static int
field_length (const char *field, size_t size)
{
  const char *end = memchr (field, '\0', size);
  return end != NULL ? (int) (end - field) : (int) size;
}

void
cl_plot_event_labels_clear (ClPlotEventLabels *labels)
{
  g_free (labels->order);
  g_free (labels->centre);
  g_free (labels->width);
  g_free (labels->left);
  g_free (labels->row);
  g_free (labels->text);
  memset (labels, 0, sizeof *labels);
}

void
cl_plot_event_labels_layout (cairo_t *cr, ClPlotEventLabels *labels, const ClEvent *events, int n_events,
                             const ClPlotScale *x, double min_x, double max_x, double font_size, double pad,
                             int max_rows)
{
  cl_plot_event_labels_clear (labels);
  labels->font_size = font_size;
  cairo_save (cr);
  cl_plot_font (cr, font_size, FALSE);
  labels->row_height = cl_plot_text_height (cr) + 0.6 * pad;
  if (events == NULL || n_events <= 0)
    {
      cairo_restore (cr);
      return;
    }
  labels->n = n_events;
  labels->order = g_new (int, n_events);
  labels->centre = g_new (double, n_events);
  labels->width = g_new (double, n_events);
  labels->left = g_new (double, n_events);
  labels->row = g_new (int, n_events);
  labels->text = g_new (ClPlotEventText, n_events);
  for (int i = 0; i < n_events; i++)
    labels->order[i] = i;
  g_qsort_with_data (labels->order, n_events, sizeof (int), compare_event_index, (gpointer) events);
  double box_pad = 0.4 * pad;
  for (int k = 0; k < n_events; k++)
    {
      const ClEvent *e = &events[labels->order[k]];
      /* the fields are fixed arrays that a writer might fill to the brim */
      g_snprintf (labels->text[k], sizeof labels->text[k], "%.*s=%.*s", field_length (e->key, sizeof e->key), e->key,
                  field_length (e->new_value, sizeof e->new_value), e->new_value);
      labels->centre[k] = cl_plot_scale_map (x, (double) e->step);
      labels->width[k] = cl_plot_text_width (cr, labels->text[k]) + 2 * box_pad;
    }
  cairo_restore (cr);
  labels->rows = cl_plot_place_labels (labels->centre, labels->width, n_events, min_x, max_x, 0.5 * pad, max_rows,
                                       labels->left, labels->row);
  for (int k = 0; k < n_events; k++)
    if (labels->row[k] >= 0)
      labels->labelled++;
}

double
cl_plot_event_labels_band_height (const ClPlotEventLabels *labels, int rows)
{
  return MAX (rows, 0) * labels->row_height;
}

void
cl_plot_event_labels_draw (cairo_t *cr, const ClPlotEventLabels *labels, const ClPlotRect *plot, double band_bottom)
{
  if (labels->n <= 0)
    return;
  cairo_save (cr);
  cl_plot_font (cr, labels->font_size, FALSE);
  double row_h = labels->row_height;
  for (int k = 0; k < labels->n; k++)
    {
      double x = labels->centre[k];
      if (!isfinite (x) || x < plot->x - 0.5 || x > plot->x + plot->w + 0.5)
        continue;
      ClPlotRect span = *plot;
      if (labels->row[k] >= 0)
        {
          /* the dashed line reaches up to its own label */
          double label_bottom = band_bottom - labels->row[k] * row_h - 0.15 * row_h;
          span.h += span.y - label_bottom;
          span.y = label_bottom;
        }
      cl_plot_vmarker_draw (cr, &span, x, cl_plot_color_marker (), 1.0);
    }
  for (int k = 0; k < labels->n; k++)
    {
      if (labels->row[k] < 0)
        continue;
      double y1 = band_bottom - labels->row[k] * row_h - 0.15 * row_h;
      double y0 = y1 - 0.85 * row_h;
      cairo_rectangle (cr, labels->left[k], y0, labels->width[k], y1 - y0);
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 0.8);
      cl_plot_set_rgb (cr, cl_plot_color_marker ());
      cairo_stroke (cr);
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, labels->left[k] + 0.5 * labels->width[k], 0.5 * (y0 + y1), labels->text[k], 0.5, 0.5, 0.0);
    }
  cairo_restore (cr);
}
