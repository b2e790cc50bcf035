/* Pixels near a point or down a column, and saving a test image (CL_TEST_PNG_DIR) to look at:
 * shared by the sweep and views tests. */
#pragma once
#include "tests/figures/plot_pixels.h"
#include "ui/cl_png.h"

/* Pixels within (radius) user units of (x, y) close to colour c. */
static inline int
count_near_point (const Image *im, ClRgb c, double x, double y, double radius, double tolerance)
{
  int n = 0;
  for (double dy = -radius; dy <= radius; dy += 1.0 / im->scale)
    for (double dx = -radius; dx <= radius; dx += 1.0 / im->scale)
      {
        double px = x + dx, py = y + dy;
        if (px < 0 || py < 0 || px * im->scale >= im->width || py * im->scale >= im->height)
          continue;
        if (color_distance (user_pixel (im, px, py), c) < tolerance)
          n++;
      }
  return n;
}

/* Pixels of colour c in the column x between y0 and y1. */
static inline int
count_in_column (const Image *im, ClRgb c, double x, double y0, double y1, double tolerance)
{
  int n = 0;
  for (double y = y0; y <= y1; y += 1.0 / im->scale)
    if (color_distance (user_pixel (im, x, y), c) < tolerance)
      n++;
  return n;
}

static inline void
save_png (const Image *im, const char *name)
{
  const char *dir = g_getenv ("CL_TEST_PNG_DIR");
  if (!dir)
    return;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  g_assert_true (cl_png_write_surface (path, im->surface, NULL, 0, &error));
  g_assert_no_error (error);
}
