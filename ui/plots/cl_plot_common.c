#include "ui/plots/cl_plot_common.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- colours */

static ClRgb
rgb8 (int r, int g, int b)
{
  return (ClRgb){ r / 255.0, g / 255.0, b / 255.0 };
}

ClRgb
cl_plot_okabe_ito (ClPlotOkabeIto which)
{
  switch (which)
    {
    case CL_PLOT_OI_ORANGE:
      return rgb8 (0xE6, 0x9F, 0x00);
    case CL_PLOT_OI_SKY_BLUE:
      return rgb8 (0x56, 0xB4, 0xE9);
    case CL_PLOT_OI_GREEN:
      return rgb8 (0x00, 0x9E, 0x73);
    case CL_PLOT_OI_YELLOW:
      return rgb8 (0xF0, 0xE4, 0x42);
    case CL_PLOT_OI_BLUE:
      return rgb8 (0x00, 0x72, 0xB2);
    case CL_PLOT_OI_VERMILLION:
      return rgb8 (0xD5, 0x5E, 0x00);
    case CL_PLOT_OI_PURPLE:
      return rgb8 (0xCC, 0x79, 0xA7);
    case CL_PLOT_OI_BLACK:
    case CL_PLOT_OI_COUNT:
    default:
      return rgb8 (0, 0, 0);
    }
}

ClRgb
cl_plot_series_color (int i)
{
  static const ClPlotOkabeIto order[] = {
    CL_PLOT_OI_BLUE,   CL_PLOT_OI_VERMILLION, CL_PLOT_OI_GREEN, CL_PLOT_OI_PURPLE,
    CL_PLOT_OI_ORANGE, CL_PLOT_OI_SKY_BLUE,   CL_PLOT_OI_BLACK, CL_PLOT_OI_YELLOW,
  };
  if (i < 0)
    i = 0;
  return cl_plot_okabe_ito (order[i % (int) G_N_ELEMENTS (order)]);
}

ClRgb
cl_plot_color_background (void)
{
  return rgb8 (0xFF, 0xFF, 0xFF);
}
ClRgb
cl_plot_color_text (void)
{
  return rgb8 (0x22, 0x22, 0x22);
}
ClRgb
cl_plot_color_muted (void)
{
  return rgb8 (0x80, 0x80, 0x80);
}
ClRgb
cl_plot_color_axis (void)
{
  return rgb8 (0x44, 0x44, 0x44);
}
ClRgb
cl_plot_color_grid (void)
{
  return rgb8 (0xE4, 0xE4, 0xE4);
}
ClRgb
cl_plot_color_marker (void)
{
  return rgb8 (0x5A, 0x5A, 0x5A);
}

void
cl_plot_set_rgb (cairo_t *cr, ClRgb c)
{
  cairo_set_source_rgb (cr, c.r, c.g, c.b);
}

void
cl_plot_set_rgba (cairo_t *cr, ClRgb c, double alpha)
{
  cairo_set_source_rgba (cr, c.r, c.g, c.b, alpha);
}

ClRgb
cl_plot_mix (ClRgb a, ClRgb b, double t)
{
  t = isnan (t) ? 0.0 : CLAMP (t, 0.0, 1.0);
  return (ClRgb){ a.r + t * (b.r - a.r), a.g + t * (b.g - a.g), a.b + t * (b.b - a.b) };
}

double
cl_plot_hue (ClRgb c)
{
  double hi = MAX (c.r, MAX (c.g, c.b)), lo = MIN (c.r, MIN (c.g, c.b));
  double chroma = hi - lo;
  if (!(chroma > 1e-9))
    return NAN;
  double h;
  if (hi == c.r)
    h = fmod ((c.g - c.b) / chroma, 6.0);
  else if (hi == c.g)
    h = (c.b - c.r) / chroma + 2.0;
  else
    h = (c.r - c.g) / chroma + 4.0;
  h *= 60.0;
  return h < 0.0 ? h + 360.0 : h;
}

static ClRgb
colormap_lookup (const unsigned char table[][3], int n, double t)
{
  if (isnan (t))
    return rgb8 (0x80, 0x80, 0x80);
  t = CLAMP (t, 0.0, 1.0) * (n - 1);
  int i = (int) floor (t);
  if (i >= n - 1)
    i = n - 2;
  double f = t - i;
  return (ClRgb){
    ((1 - f) * table[i][0] + f * table[i + 1][0]) / 255.0,
    ((1 - f) * table[i][1] + f * table[i + 1][1]) / 255.0,
    ((1 - f) * table[i][2] + f * table[i + 1][2]) / 255.0,
  };
}

ClRgb
cl_plot_colormap_viridis (double t)
{
  /* matplotlib's viridis sampled at 9 evenly spaced points */
  static const unsigned char table[][3] = {
    { 0x44, 0x01, 0x54 }, { 0x48, 0x28, 0x78 }, { 0x3E, 0x4A, 0x89 }, { 0x31, 0x68, 0x8E }, { 0x26, 0x82, 0x8E },
    { 0x1F, 0x9E, 0x89 }, { 0x35, 0xB7, 0x79 }, { 0x6D, 0xCD, 0x59 }, { 0xFD, 0xE7, 0x25 },
  };
  return colormap_lookup (table, G_N_ELEMENTS (table), t);
}

ClRgb
cl_plot_colormap_diverging (double t)
{
  /* ColorBrewer RdBu (9 classes), reversed so low values are blue */
  static const unsigned char table[][3] = {
    { 0x21, 0x66, 0xAC }, { 0x43, 0x93, 0xC3 }, { 0x92, 0xC5, 0xDE }, { 0xD1, 0xE5, 0xF0 }, { 0xF7, 0xF7, 0xF7 },
    { 0xFD, 0xDB, 0xC7 }, { 0xF4, 0xA5, 0x82 }, { 0xD6, 0x60, 0x4D }, { 0xB2, 0x18, 0x2B },
  };
  return colormap_lookup (table, G_N_ELEMENTS (table), t);
}

/* ------------------------------------------------------ ranges and scales */

void
cl_plot_range_init (ClPlotRange *range)
{
  range->lo = INFINITY;
  range->hi = -INFINITY;
  range->n = 0;
}

void
cl_plot_range_add (ClPlotRange *range, double v)
{
  if (!isfinite (v))
    return;
  if (v < range->lo)
    range->lo = v;
  if (v > range->hi)
    range->hi = v;
  range->n++;
}

void
cl_plot_scale_init (ClPlotScale *scale, double d0, double d1, double p0, double p1)
{
  scale->d0 = d0;
  scale->d1 = d1;
  scale->p0 = p0;
  scale->p1 = p1;
}

double
cl_plot_scale_map (const ClPlotScale *scale, double v)
{
  double span = scale->d1 - scale->d0;
  if (span == 0.0 || !isfinite (span))
    return 0.5 * (scale->p0 + scale->p1);
  return scale->p0 + (v - scale->d0) / span * (scale->p1 - scale->p0);
}

double
cl_plot_scale_invert (const ClPlotScale *scale, double p)
{
  double span = scale->p1 - scale->p0;
  if (span == 0.0)
    return 0.5 * (scale->d0 + scale->d1);
  return scale->d0 + (p - scale->p0) / span * (scale->d1 - scale->d0);
}

/* ------------------------------------------------------------------ ticks */

double
cl_plot_nice_step (double span, int target_ticks)
{
  if (!(span > 0.0) || !isfinite (span))
    return 1.0;
  if (target_ticks < 1)
    target_ticks = 1;
  double raw = span / target_ticks;
  double mag = pow (10.0, floor (log10 (raw)));
  double norm = raw / mag;
  /* the smallest nice step not below raw, so there are at most target_ticks intervals */
  double nice = norm <= 1.0 + 1e-9 ? 1.0 : norm <= 2.0 + 1e-9 ? 2.0 : norm <= 5.0 + 1e-9 ? 5.0 : 10.0;
  return nice * mag;
}

void
cl_plot_ticks_compute (ClPlotTicks *ticks, double lo, double hi, int target_ticks, gboolean extend,
                       gboolean integer_steps)
{
  memset (ticks, 0, sizeof *ticks);
  if (!isfinite (lo) && !isfinite (hi))
    {
      lo = 0.0;
      hi = 1.0;
    }
  else if (!isfinite (lo))
    lo = hi;
  else if (!isfinite (hi))
    hi = lo;
  if (lo > hi)
    {
      double t = lo;
      lo = hi;
      hi = t;
    }
  target_ticks = CLAMP (target_ticks, 1, CL_PLOT_MAX_TICKS - 4);

  /* a span lost in the rounding of its own magnitude cannot be ticked: treat it as a point */
  double mid = 0.5 * (lo + hi);
  if (hi - lo <= fabs (mid) * 1e-12)
    {
      double half = mid == 0.0 ? 1.0 : fabs (mid) * 0.1;
      if (integer_steps && half < 1.0)
        half = 1.0;
      lo = mid - half;
      hi = mid + half;
    }

  double step = cl_plot_nice_step (hi - lo, target_ticks);
  if (integer_steps && step < 1.0)
    step = 1.0;

  /* 1e-9 forgives data that sit a rounding error past a tick */
  double first = ceil (lo / step - 1e-9);
  double last = floor (hi / step + 1e-9);
  if (extend)
    {
      first = floor (lo / step + 1e-9);
      last = ceil (hi / step - 1e-9);
      if (last <= first)
        last = first + 1;
      lo = first * step;
      hi = last * step;
    }
  ticks->lo = lo;
  ticks->hi = hi;
  ticks->step = step;

  for (double k = first; k <= last && ticks->n < CL_PLOT_MAX_TICKS; k += 1.0)
    {
      double v = k * step;
      if (fabs (v) < step * 1e-9)
        v = 0.0; /* no "-0" from k = -0 or rounding */
      ticks->v[ticks->n++] = v;
    }

  int exponent = (int) floor (log10 (step) + 1e-9);
  ticks->decimals = exponent < 0 ? MIN (-exponent, 12) : 0;

  double biggest = MAX (fabs (lo), fabs (hi));
  if (exponent >= 6 && biggest >= 1e7)
    ticks->si_power = 6;
  else if (exponent >= 3 && biggest >= 1e4)
    ticks->si_power = 3;
}

void
cl_plot_format_number (double v, int decimals, char *buf, size_t size)
{
  if (size == 0)
    return;
  if (isnan (v))
    {
      g_strlcpy (buf, "nan", size);
      return;
    }
  if (isinf (v))
    {
      g_strlcpy (buf, v > 0 ? "\xE2\x88\x9E" : "\xE2\x88\x92\xE2\x88\x9E", size);
      return;
    }
  decimals = CLAMP (decimals, 0, 12);
  char format[16];
  char digits[G_ASCII_DTOSTR_BUF_SIZE];
  g_snprintf (format, sizeof format, "%%.%df", decimals);
  /* C locale: figures must not switch to decimal commas with the user's locale */
  g_ascii_formatd (digits, sizeof digits, format, v);
  const char *body = digits;
  gboolean negative = FALSE;
  if (digits[0] == '-')
    {
      body = digits + 1;
      negative = strspn (body, "0.") != strlen (body); /* "-0.00" is zero */
    }
  g_snprintf (buf, size, "%s%s", negative ? "\xE2\x88\x92" : "", body);
}

void
cl_plot_ticks_format (const ClPlotTicks *ticks, double v, char *buf, size_t size)
{
  if (ticks->log10)
    {
      /* a value of a log axis: as many decimals as its own magnitude needs (0.05, 0.2, 3, 20) */
      double value = pow (10.0, v);
      int exponent = (int) floor (v + 1e-9);
      cl_plot_format_number (value, exponent < 0 ? MIN (-exponent, 12) : 0, buf, size);
      return;
    }
  if (ticks->si_power > 0)
    {
      char number[64];
      double divided = v / pow (10.0, ticks->si_power);
      double step = ticks->step / pow (10.0, ticks->si_power);
      int exponent = (int) floor (log10 (step) + 1e-9);
      cl_plot_format_number (divided, exponent < 0 ? -exponent : 0, number, sizeof number);
      g_snprintf (buf, size, "%s%s", number, divided == 0.0 ? "" : ticks->si_power == 6 ? "M" : "k");
      return;
    }
  cl_plot_format_number (v, ticks->decimals, buf, size);
}

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

/* ------------------------------------------------------------------- axes */

/* Centre of the nearest device pixel (odd device widths) or the nearest device pixel edge
 * (even widths), so thin lines are crisp instead of smeared over two pixels. */
static double
snap (cairo_t *cr, double v, gboolean horizontal_coordinate, double line_width)
{
  double dx = horizontal_coordinate ? v : 0.0, dy = horizontal_coordinate ? 0.0 : v;
  cairo_user_to_device (cr, &dx, &dy);
  double ux = horizontal_coordinate ? line_width : 0.0, uy = horizontal_coordinate ? 0.0 : line_width;
  cairo_user_to_device_distance (cr, &ux, &uy);
  double device_width = fabs (horizontal_coordinate ? ux : uy);
  long pixels = lround (device_width);
  double *d = horizontal_coordinate ? &dx : &dy;
  if (pixels % 2 == 1)
    *d = floor (*d) + 0.5;
  else
    *d = round (*d);
  cairo_device_to_user (cr, &dx, &dy);
  return horizontal_coordinate ? dx : dy;
}

void
cl_plot_axis_style_init (ClPlotAxisStyle *style, double font_scale)
{
  if (!(font_scale > 0.0) || !isfinite (font_scale))
    font_scale = 1.0;
  style->tick_font = 11.0 * font_scale;
  style->title_font = 12.0 * font_scale;
  style->tick_length = 4.0 * font_scale;
  style->pad = 4.0 * font_scale;
  style->line_width = 1.0;
}

static double
max_label_width (cairo_t *cr, const ClPlotTicks *ticks)
{
  double widest = 0.0;
  for (int i = 0; i < ticks->n; i++)
    {
      char label[64];
      cl_plot_ticks_format (ticks, ticks->v[i], label, sizeof label);
      widest = MAX (widest, cl_plot_text_width (cr, label));
    }
  return widest;
}

double
cl_plot_axis_extent (cairo_t *cr, ClPlotSide side, const ClPlotTicks *ticks, const char *title,
                     const ClPlotAxisStyle *style)
{
  cairo_save (cr);
  cl_plot_font (cr, style->tick_font, FALSE);
  double labels = (side == CL_PLOT_SIDE_LEFT || side == CL_PLOT_SIDE_RIGHT) ? max_label_width (cr, ticks)
                                                                            : cl_plot_text_height (cr);
  double extent = style->tick_length + style->pad + labels;
  if (title != NULL && title[0] != '\0')
    {
      cl_plot_font (cr, style->title_font, FALSE);
      extent += style->pad + cl_plot_text_height (cr);
    }
  cairo_restore (cr);
  return extent + style->pad;
}

void
cl_plot_axis_draw (cairo_t *cr, const ClPlotRect *area, ClPlotSide side, const ClPlotScale *scale,
                   const ClPlotTicks *ticks, const char *title, const ClPlotAxisStyle *style, const ClRgb *label_color)
{
  gboolean vertical = side == CL_PLOT_SIDE_LEFT || side == CL_PLOT_SIDE_RIGHT;
  double outward = (side == CL_PLOT_SIDE_LEFT || side == CL_PLOT_SIDE_TOP) ? -1.0 : 1.0;
  double edge = side == CL_PLOT_SIDE_LEFT    ? area->x
                : side == CL_PLOT_SIDE_RIGHT ? area->x + area->w
                : side == CL_PLOT_SIDE_TOP   ? area->y
                                             : area->y + area->h;
  ClRgb text_color = label_color != NULL ? *label_color : cl_plot_color_text ();

  cairo_save (cr);
  cairo_set_line_width (cr, style->line_width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cl_plot_set_rgb (cr, cl_plot_color_axis ());
  double e = snap (cr, edge, !vertical, style->line_width);
  if (vertical)
    {
      cairo_move_to (cr, e, area->y);
      cairo_line_to (cr, e, area->y + area->h);
    }
  else
    {
      cairo_move_to (cr, area->x, e);
      cairo_line_to (cr, area->x + area->w, e);
    }
  for (int i = 0; i < ticks->n; i++)
    {
      double p = snap (cr, cl_plot_scale_map (scale, ticks->v[i]), vertical ? FALSE : TRUE, style->line_width);
      if (vertical)
        {
          cairo_move_to (cr, e, p);
          cairo_line_to (cr, e + outward * style->tick_length, p);
        }
      else
        {
          cairo_move_to (cr, p, e);
          cairo_line_to (cr, p, e + outward * style->tick_length);
        }
    }
  cairo_stroke (cr);

  cl_plot_set_rgb (cr, text_color);
  cl_plot_font (cr, style->tick_font, FALSE);
  double label_at = edge + outward * (style->tick_length + style->pad);
  double widest = max_label_width (cr, ticks);
  double label_height = cl_plot_text_height (cr);

  /* thin out labels along a horizontal axis when they would touch */
  int stride = 1;
  if (!vertical && ticks->n > 1)
    {
      double spacing = fabs (cl_plot_scale_map (scale, ticks->step) - cl_plot_scale_map (scale, 0.0));
      if (spacing > 0.0)
        stride = (int) ceil ((widest + 2.0 * style->pad) / spacing);
      stride = MAX (stride, 1);
    }
  for (int i = 0; i < ticks->n; i++)
    {
      if (stride > 1 && (long) llround (ticks->v[i] / ticks->step) % stride != 0)
        continue;
      char label[64];
      cl_plot_ticks_format (ticks, ticks->v[i], label, sizeof label);
      double p = cl_plot_scale_map (scale, ticks->v[i]);
      switch (side)
        {
        case CL_PLOT_SIDE_LEFT:
          cl_plot_text (cr, label_at, p, label, 1.0, 0.5, 0.0);
          break;
        case CL_PLOT_SIDE_RIGHT:
          cl_plot_text (cr, label_at, p, label, 0.0, 0.5, 0.0);
          break;
        case CL_PLOT_SIDE_BOTTOM:
          cl_plot_text (cr, p, label_at, label, 0.5, 0.0, 0.0);
          break;
        case CL_PLOT_SIDE_TOP:
          cl_plot_text (cr, p, label_at, label, 0.5, 1.0, 0.0);
          break;
        default:
          break;
        }
    }

  if (title != NULL && title[0] != '\0')
    {
      double beyond = label_at + outward * ((vertical ? widest : label_height) + style->pad);
      cl_plot_font (cr, style->title_font, FALSE);
      if (vertical)
        /* rotated a quarter turn counter-clockwise, the glyphs' "down" points right:
         * anchor the side facing the plot so the title grows away from the labels */
        cl_plot_text (cr, beyond, area->y + 0.5 * area->h, title, 0.5, side == CL_PLOT_SIDE_LEFT ? 1.0 : 0.0, G_PI / 2);
      else
        cl_plot_text (cr, area->x + 0.5 * area->w, beyond, title, 0.5, side == CL_PLOT_SIDE_BOTTOM ? 0.0 : 1.0, 0.0);
    }
  cairo_restore (cr);
}

double
cl_plot_axis_end_overhang (cairo_t *cr, const ClPlotTicks *ticks, const ClPlotAxisStyle *style)
{
  if (ticks->n <= 0)
    return 0.0;
  char label[64];
  cl_plot_ticks_format (ticks, ticks->v[ticks->n - 1], label, sizeof label);
  cairo_save (cr);
  cl_plot_font (cr, style->tick_font, FALSE);
  double half = 0.5 * cl_plot_text_width (cr, label);
  cairo_restore (cr);
  return half;
}

void
cl_plot_grid_draw (cairo_t *cr, const ClPlotRect *area, const ClPlotScale *x_scale, const ClPlotTicks *x_ticks,
                   const ClPlotScale *y_scale, const ClPlotTicks *y_ticks, double line_width)
{
  cairo_save (cr);
  cairo_set_line_width (cr, line_width);
  cl_plot_set_rgb (cr, cl_plot_color_grid ());
  if (x_scale != NULL && x_ticks != NULL)
    for (int i = 0; i < x_ticks->n; i++)
      {
        double x = snap (cr, cl_plot_scale_map (x_scale, x_ticks->v[i]), TRUE, line_width);
        cairo_move_to (cr, x, area->y);
        cairo_line_to (cr, x, area->y + area->h);
      }
  if (y_scale != NULL && y_ticks != NULL)
    for (int i = 0; i < y_ticks->n; i++)
      {
        double y = snap (cr, cl_plot_scale_map (y_scale, y_ticks->v[i]), FALSE, line_width);
        cairo_move_to (cr, area->x, y);
        cairo_line_to (cr, area->x + area->w, y);
      }
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
cl_plot_vmarker_draw (cairo_t *cr, const ClPlotRect *area, double x, ClRgb color, double line_width)
{
  double dash[2] = { 5.0 * line_width, 3.0 * line_width };
  cairo_save (cr);
  cairo_set_line_width (cr, line_width);
  cairo_set_dash (cr, dash, 2, 0.0);
  cl_plot_set_rgb (cr, color);
  double sx = snap (cr, x, TRUE, line_width);
  cairo_move_to (cr, sx, area->y);
  cairo_line_to (cr, sx, area->y + area->h);
  cairo_stroke (cr);
  cairo_restore (cr);
}

double
cl_plot_title_draw (cairo_t *cr, double width, double top, const char *title, double font_size, gboolean draw)
{
  if (title == NULL || title[0] == '\0')
    return 0.0;
  cairo_save (cr);
  cl_plot_font (cr, font_size, TRUE);
  double height = cl_plot_text_height (cr);
  if (draw)
    {
      cl_plot_set_rgb (cr, cl_plot_color_text ());
      cl_plot_text (cr, 0.5 * width, top, title, 0.5, 0.0, 0.0);
    }
  cairo_restore (cr);
  return height;
}

void
cl_plot_note_draw (cairo_t *cr, const ClPlotRect *area, const char *note, double font_size)
{
  cairo_save (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, font_size);
  cl_plot_set_rgb (cr, cl_plot_color_muted ());
  cl_plot_text (cr, area->x + 0.5 * area->w, area->y + 0.5 * area->h, note, 0.5, 0.5, 0.0);
  cairo_restore (cr);
}

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

static double
legend_entry_width (cairo_t *cr, const ClPlotLegendEntry *entry, const LegendMetrics *m)
{
  return m->sample + m->gap + cl_plot_text_width (cr, entry->label);
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
              cairo_save (cr);
              cl_plot_set_rgb (cr, e->color);
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
                  cl_plot_point_draw (cr, x + 0.5 * m.sample, mid, 0.34 * font_size, e->color, TRUE);
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
                      cl_plot_point_draw (cr, x + 0.5 * m.sample, mid, 0.3 * font_size, e->color, FALSE);
                    break;
                  }
                }
              cairo_restore (cr);
              cl_plot_set_rgb (cr, cl_plot_color_text ());
              cl_plot_text (cr, x + m.sample + m.gap, mid, e->label, 0.0, 0.5, 0.0);
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

/* ------------------------------------------------------------- smoothing */

void
cl_plot_ema_init (ClPlotEma *ema, double alpha)
{
  if (!(alpha >= 0.0))
    alpha = 0.0;
  if (alpha > 0.9999)
    alpha = 0.9999;
  ema->alpha = alpha;
  ema->acc = 0.0;
  ema->decay = 1.0;
}

double
cl_plot_ema_push (ClPlotEma *ema, double v)
{
  if (!isfinite (v))
    return NAN;
  ema->acc = ema->alpha * ema->acc + (1.0 - ema->alpha) * v;
  ema->decay *= ema->alpha;
  /* past this the correction is below rounding; letting decay sink into subnormal numbers
   * would make every later push dozens of times slower */
  if (ema->decay < 1e-20)
    ema->decay = 0.0;
  return ema->acc / (1.0 - ema->decay);
}

/* ---------------------------------------------------- decimated polylines */

/* Columns per point above which the envelope replaces the polyline: at 2 the polyline would
 * already carry up to 4 points per column, most of them zigzags cairo strokes slowly. */
#define ENVELOPE_POINTS_PER_COLUMN 2.0

void
cl_plot_line_begin (ClPlotLine *line, cairo_t *cr, double line_width)
{
  memset (line, 0, sizeof *line);
  line->cr = cr;
  line->line_width = line_width > 0.0 && isfinite (line_width) ? line_width : 1.0;
  double dx = 1.0, dy = 0.0;
  cairo_user_to_device_distance (cr, &dx, &dy);
  double device = hypot (dx, dy);
  line->column = device > 0.0 && isfinite (device) ? 1.0 / device : 1.0;
  double ox = 0.0, oy = 0.0;
  cairo_user_to_device (cr, &ox, &oy);
  line->offset = isfinite (ox) ? ox - floor (ox) : 0.0;
  line->columns = g_array_sized_new (FALSE, FALSE, sizeof (ClPlotColumn), 512);
}

void
cl_plot_line_add (ClPlotLine *line, double x, double y)
{
  if (!isfinite (x) || !isfinite (y))
    return;
  line->points++;
  double index = floor (x / line->column + line->offset);
  if (line->columns->len > 0)
    {
      ClPlotColumn *c = &g_array_index (line->columns, ClPlotColumn, line->columns->len - 1);
      if (c->index == index)
        {
          if (y < c->min_y)
            {
              c->min_y = y;
              c->min_x = x;
              c->min_at = c->count;
            }
          if (y > c->max_y)
            {
              c->max_y = y;
              c->max_x = x;
              c->max_at = c->count;
            }
          c->x_last = x;
          c->last_y = y;
          c->count++;
          return;
        }
    }
  ClPlotColumn c = {
    .x_first = x,
    .x_last = x,
    .first_y = y,
    .last_y = y,
    .min_x = x,
    .min_y = y,
    .max_x = x,
    .max_y = y,
    .count = 1,
    .min_at = 0,
    .max_at = 0,
    .index = index,
  };
  g_array_append_val (line->columns, c);
}

static void
line_emit (ClPlotLine *line, double x, double y)
{
  if (line->points_emitted > 0)
    cairo_line_to (line->cr, x, y);
  else
    cairo_move_to (line->cr, x, y);
  line->points_emitted++;
}

static void
line_emit_polyline (ClPlotLine *line)
{
  for (guint i = 0; i < line->columns->len; i++)
    {
      const ClPlotColumn *c = &g_array_index (line->columns, ClPlotColumn, i);
      line_emit (line, c->x_first, c->first_y);
      if (c->count == 1)
        continue;
      /* extremes in the order they happened, so the path still runs left to right */
      gboolean min_first = c->min_at <= c->max_at;
      long at[2] = { min_first ? c->min_at : c->max_at, min_first ? c->max_at : c->min_at };
      double xs[2] = { min_first ? c->min_x : c->max_x, min_first ? c->max_x : c->min_x };
      double ys[2] = { min_first ? c->min_y : c->max_y, min_first ? c->max_y : c->min_y };
      for (int k = 0; k < 2; k++)
        if (at[k] != 0 && at[k] != c->count - 1 && (k == 0 || at[1] != at[0]))
          line_emit (line, xs[k], ys[k]);
      line_emit (line, c->x_last, c->last_y);
    }
}

/* Vertical extent of column i including the segment arriving from the previous column, so
 * the envelope is as continuous as the polyline would be. */
static void
column_span (const GArray *columns, guint i, double *top, double *bottom)
{
  const ClPlotColumn *c = &g_array_index (columns, ClPlotColumn, i);
  *top = c->min_y;
  *bottom = c->max_y;
  if (i > 0)
    {
      double arriving = g_array_index (columns, ClPlotColumn, i - 1).last_y;
      *top = MIN (*top, arriving);
      *bottom = MAX (*bottom, arriving);
    }
}

/* Where column i's vertex goes on the upper (or lower) edge. A column that sticks out beyond
 * both neighbours (a spike) gets a flat top one device pixel wide instead of a single vertex,
 * or a one-step spike would be drawn as a needle of zero width and vanish. */
static void
envelope_vertex (ClPlotLine *line, guint i, gboolean upper, double first_x, double last_x)
{
  const GArray *columns = line->columns;
  const ClPlotColumn *c = &g_array_index (columns, ClPlotColumn, i);
  double half = 0.5 * line->line_width;
  double top, bottom, other_top, other_bottom;
  column_span (columns, i, &top, &bottom);
  double edge = upper ? top - half : bottom + half;
  gboolean sticks_out = TRUE;
  for (int side = -1; side <= 1; side += 2)
    {
      if ((side < 0 && i == 0) || (side > 0 && i + 1 >= columns->len))
        continue;
      column_span (columns, i + side, &other_top, &other_bottom);
      if (upper ? other_top <= top : other_bottom >= bottom)
        sticks_out = FALSE;
    }
  double left = (c->index - line->offset) * line->column;
  double right = left + line->column;
  left = CLAMP (left, first_x, last_x);
  right = CLAMP (right, first_x, last_x);
  if (sticks_out)
    {
      /* emitted left to right on the upper edge, right to left on the lower one */
      line_emit (line, upper ? left : right, edge);
      line_emit (line, upper ? right : left, edge);
    }
  else
    line_emit (line, 0.5 * (left + right), edge);
}

static void
line_emit_envelope (ClPlotLine *line)
{
  const GArray *columns = line->columns;
  double half = 0.5 * line->line_width;
  guint n = columns->len;
  double first_x = g_array_index (columns, ClPlotColumn, 0).x_first;
  double last_x = g_array_index (columns, ClPlotColumn, n - 1).x_last;
  double top, bottom;

  /* upper edge left to right (smaller y is higher on screen), lower edge back */
  column_span (columns, 0, &top, &bottom);
  line_emit (line, first_x, top - half);
  for (guint i = 0; i < n; i++)
    envelope_vertex (line, i, TRUE, first_x, last_x);
  column_span (columns, n - 1, &top, &bottom);
  line_emit (line, last_x, top - half);
  line_emit (line, last_x, bottom + half);
  for (guint i = n; i-- > 0;)
    envelope_vertex (line, i, FALSE, first_x, last_x);
  column_span (columns, 0, &top, &bottom);
  line_emit (line, first_x, bottom + half);
  cairo_close_path (line->cr);
}

gboolean
cl_plot_line_end (ClPlotLine *line)
{
  if (line->columns == NULL)
    return line->filled;
  guint n = line->columns->len;
  line->filled = n > 0 && line->points > ENVELOPE_POINTS_PER_COLUMN * n;
  if (line->filled)
    line_emit_envelope (line);
  else
    line_emit_polyline (line);
  g_array_free (line->columns, TRUE);
  line->columns = NULL;
  return line->filled;
}

void
cl_plot_line_draw (ClPlotLine *line)
{
  cairo_t *cr = line->cr;
  cairo_save (cr);
  if (cl_plot_line_end (line))
    cairo_fill (cr);
  else if (line->points_emitted == 1)
    {
      /* a single point strokes to nothing: show a dot */
      double x, y;
      cairo_get_current_point (cr, &x, &y);
      cairo_new_path (cr);
      cairo_arc (cr, x, y, 0.9 * line->line_width, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  else
    {
      cairo_set_line_width (cr, line->line_width);
      /* bevel: round joins cost cairo several times more and look the same at 2 px */
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

/* ------------------------------------------------------ points and references */

double
cl_plot_snap (cairo_t *cr, double v, gboolean vertical_line, double line_width)
{
  return snap (cr, v, vertical_line, line_width);
}

void
cl_plot_point_draw (cairo_t *cr, double x, double y, double radius, ClRgb color, gboolean hollow)
{
  if (!isfinite (x) || !isfinite (y) || !(radius > 0.0))
    return;
  cairo_save (cr);
  cairo_new_path (cr);
  if (hollow)
    {
      /* the ring is stroked on the circle, so shrink it to keep the same outer size */
      double ring = MAX (0.35 * radius, 1.0);
      cairo_arc (cr, x, y, MAX (radius - 0.5 * ring, 0.5 * ring), 0, 2 * G_PI);
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, ring);
      cl_plot_set_rgb (cr, color);
      cairo_stroke (cr);
    }
  else
    {
      cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
      cl_plot_set_rgb (cr, color);
      cairo_fill (cr);
    }
  cairo_restore (cr);
}

void
cl_plot_hmarker_draw (cairo_t *cr, const ClPlotRect *area, double y, ClRgb color, double line_width)
{
  if (!isfinite (y))
    return;
  double dash[2] = { 5.0 * line_width, 3.0 * line_width };
  cairo_save (cr);
  cairo_new_path (cr);
  cairo_set_line_width (cr, line_width);
  cairo_set_dash (cr, dash, 2, 0.0);
  cl_plot_set_rgb (cr, color);
  double sy = snap (cr, y, FALSE, line_width);
  cairo_move_to (cr, area->x, sy);
  cairo_line_to (cr, area->x + area->w, sy);
  cairo_stroke (cr);
  cairo_restore (cr);
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
