/* Pixel tools shared by the figure tests: render on an image surface at a scale, read back
 * device pixels (every figure paints an opaque background). */
#pragma once
#include <cairo.h>
#include <glib.h>
#include <math.h>

#include "ui/plots/cl_plot_common.h"
typedef struct
{
  cairo_surface_t *surface;
  int width, height; /* device pixels */
  double scale;
} Image;

static inline Image
image_new (double width, double height, double scale, cairo_t **cr_out)
{
  Image im;
  im.width = (int) ceil (width * scale);
  im.height = (int) ceil (height * scale);
  im.scale = scale;
  im.surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, im.width, im.height);
  cairo_t *cr = cairo_create (im.surface);
  cairo_scale (cr, scale, scale);
  *cr_out = cr;
  return im;
}

static inline void
image_finish (Image *im, cairo_t *cr)
{
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (im->surface);
}

/* im drawn by CALL, a statement using cairo_t *cr, on a w x h figure at scale:
 *   IMAGE_DRAW (im, w, h, scale, cl_heatmap_plot_draw (cr, w, h, d)); */
#define IMAGE_DRAW(im, w, h, scale, CALL)                                                                              \
  do                                                                                                                   \
    {                                                                                                                  \
      cairo_t *cr;                                                                                                     \
      (im) = image_new ((w), (h), (scale), &cr);                                                                       \
      CALL;                                                                                                            \
      image_finish (&(im), cr);                                                                                        \
    }                                                                                                                  \
  while (0)

static inline void
image_free (Image *im)
{
  cairo_surface_destroy (im->surface);
}

/* Colour of a device pixel; every figure paints an opaque background. */
static inline ClRgb
pixel_at (const Image *im, int x, int y)
{
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, im->width);
  g_assert_cmpint (y, <, im->height);
  const unsigned char *data = cairo_image_surface_get_data (im->surface);
  int stride = cairo_image_surface_get_stride (im->surface);
  guint32 p = ((const guint32 *) (data + (size_t) y * stride))[x];
  g_assert_cmpuint (p >> 24, ==, 255);
  return (ClRgb){ ((p >> 16) & 0xFF) / 255.0, ((p >> 8) & 0xFF) / 255.0, (p & 0xFF) / 255.0 };
}

/* Pixel at user coordinates. */
static inline ClRgb
user_pixel (const Image *im, double x, double y)
{
  return pixel_at (im, (int) floor (x * im->scale), (int) floor (y * im->scale));
}

static inline double
color_distance (ClRgb a, ClRgb b)
{
  return sqrt ((a.r - b.r) * (a.r - b.r) + (a.g - b.g) * (a.g - b.g) + (a.b - b.b) * (a.b - b.b));
}
