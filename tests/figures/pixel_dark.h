/* Pixel measures shared by the heatmap and cluster-grid tests: dark pixels (text, lines) and
 * pixels of a colour anywhere in the image. */
#pragma once
#include "tests/figures/plot_pixels.h"

static inline double
luminance (ClRgb c)
{
  return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
}

/* Device pixels in a user-space box darker than max_lum (text, lines). */
static inline long
count_dark (const Image *im, double x0, double y0, double x1, double y1, double max_lum)
{
  int px0 = MAX (0, (int) floor (x0 * im->scale)), py0 = MAX (0, (int) floor (y0 * im->scale));
  int px1 = MIN (im->width, (int) ceil (x1 * im->scale)), py1 = MIN (im->height, (int) ceil (y1 * im->scale));
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      if (luminance (pixel_at (im, x, y)) < max_lum)
        n++;
  return n;
}

/* Pixels of the whole image within tolerance of c. */
static inline long
count_near (const Image *im, ClRgb c, double tolerance)
{
  long n = 0;
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      if (color_distance (pixel_at (im, x, y), c) < tolerance)
        n++;
  return n;
}
