#include "ui/plots/cl_plot_text.h"
#include "ui/plots/cl_plot_common.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------- text */

void
cl_plot_text_setup (cairo_t *cr)
{
  cairo_font_options_t *options = cairo_font_options_create ();
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options (cr, options);
  cairo_font_options_destroy (options);
}

cairo_t *
cl_plot_measure_context_new (void)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_A8, 1, 1);
  cairo_t *cr = cairo_create (surface);
  cairo_surface_destroy (surface); /* cr holds its own reference */
  cl_plot_text_setup (cr);
  return cr;
}

void
cl_plot_font (cairo_t *cr, double size, gboolean bold)
{
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size > 0.0 ? size : 1.0);
}

/* cairo puts the whole cairo_t into a permanent error state on invalid UTF-8, which would
 * blank the widget for good; labels come from user data (event values, titles). */
static char *
valid_utf8 (const char *text)
{
  return g_utf8_validate (text, -1, NULL) ? NULL : g_utf8_make_valid (text, -1);
}

double
cl_plot_text_width (cairo_t *cr, const char *utf8)
{
  if (utf8 == NULL || utf8[0] == '\0')
    return 0.0;
  char *fixed = valid_utf8 (utf8);
  cairo_text_extents_t extents;
  cairo_text_extents (cr, fixed != NULL ? fixed : utf8, &extents);
  g_free (fixed);
  return extents.x_advance;
}

double
cl_plot_text_height (cairo_t *cr)
{
  cairo_font_extents_t extents;
  cairo_font_extents (cr, &extents);
  return extents.ascent + extents.descent;
}

void
cl_plot_text (cairo_t *cr, double x, double y, const char *utf8, double halign, double valign, double angle)
{
  if (utf8 == NULL || utf8[0] == '\0')
    return;
  char *fixed = valid_utf8 (utf8);
  if (fixed != NULL)
    utf8 = fixed;
  cairo_font_extents_t font;
  cairo_font_extents (cr, &font);
  double width = cl_plot_text_width (cr, utf8);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  if (angle != 0.0)
    cairo_rotate (cr, -angle); /* cairo's y points down: positive rotation is clockwise */
  cairo_move_to (cr, -halign * width, font.ascent - valign * (font.ascent + font.descent));
  cairo_show_text (cr, utf8);
  cairo_restore (cr);
  g_free (fixed);
}

char **
cl_plot_wrap_text (cairo_t *cr, const char *utf8, double max_width, int *n_lines)
{
  GPtrArray *lines = g_ptr_array_new ();
  char **words = g_strsplit (utf8 != NULL ? utf8 : "", " ", -1);
  GString *line = g_string_new (NULL);
  for (int i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue; /* runs of spaces */
      if (line->len > 0)
        {
          GString *longer = g_string_new (line->str);
          g_string_append_c (longer, ' ');
          g_string_append (longer, words[i]);
          gboolean fits = cl_plot_text_width (cr, longer->str) <= max_width;
          if (fits)
            {
              g_string_free (line, TRUE);
              line = longer;
              continue;
            }
          g_string_free (longer, TRUE);
          g_ptr_array_add (lines, g_string_free (line, FALSE));
          line = g_string_new (NULL);
        }
      g_string_append (line, words[i]);
    }
  if (line->len > 0)
    g_ptr_array_add (lines, g_string_free (line, FALSE));
  else
    g_string_free (line, TRUE);
  g_strfreev (words);
  if (n_lines != NULL)
    *n_lines = (int) lines->len;
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}

double
cl_plot_wrap_fit (cairo_t *cr, const char *utf8, double size, double min_size, double max_width, int max_lines,
                  char ***lines, int *n_lines)
{
  if (!(min_size > 0.0))
    min_size = 1.0;
  if (!(size >= min_size))
    size = min_size;
  for (;;)
    {
      int n = 0;
      cl_plot_font (cr, size, FALSE);
      char **wrapped = cl_plot_wrap_text (cr, utf8, max_width, &n);
      if (n <= max_lines || size - 0.5 < min_size)
        {
          *lines = wrapped;
          if (n_lines != NULL)
            *n_lines = n;
          return size;
        }
      g_strfreev (wrapped);
      size -= 0.5;
    }
}
