/* Pixel counting shared by the probe, geometry and bar-chart tests. */
#pragma once
#include <string.h>

#include "tests/figures/plot_pixels.h"
#include "engine/train/cl_snapshot.h"

/* On the white->c blend at least half way (antialiased coverage >= 0.5). */
static inline gboolean
covered_by (ClRgb p, ClRgb c)
{
  ClRgb w = { 1, 1, 1 };
  double dr = c.r - w.r, dg = c.g - w.g, db = c.b - w.b;
  double len2 = dr * dr + dg * dg + db * db;
  double t = ((p.r - w.r) * dr + (p.g - w.g) * dg + (p.b - w.b) * db) / len2;
  ClRgb blend = { w.r + t * dr, w.g + t * dg, w.b + t * db };
  return t >= 0.5 && t <= 1.05 && color_distance (p, blend) < 0.06;
}

static inline void
device_box (const Image *im, double x0, double y0, double x1, double y1, int *px0, int *py0, int *px1, int *py1)
{
  *px0 = MAX (0, (int) floor (x0 * im->scale));
  *py0 = MAX (0, (int) floor (y0 * im->scale));
  *px1 = MIN (im->width, (int) ceil (x1 * im->scale));
  *py1 = MIN (im->height, (int) ceil (y1 * im->scale));
}

static inline long
count_covered (const Image *im, ClRgb c, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      if (covered_by (pixel_at (im, x, y), c))
        n++;
  return n;
}

static inline long
count_near (const Image *im, ClRgb c, double tolerance, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  long n = 0;
  for (int y = py0; y < py1; y++)
    for (int x = px0; x < px1; x++)
      if (color_distance (pixel_at (im, x, y), c) < tolerance)
        n++;
  return n;
}

/* Device columns in [x0, x1) that have at least one pixel near c in rows [y0, y1): how much
 * of a horizontal (dashed) line is drawn. */
static inline int
columns_with (const Image *im, ClRgb c, double tolerance, double x0, double y0, double x1, double y1)
{
  int px0, py0, px1, py1;
  device_box (im, x0, y0, x1, y1, &px0, &py0, &px1, &py1);
  int n = 0;
  for (int x = px0; x < px1; x++)
    for (int y = py0; y < py1; y++)
      if (color_distance (pixel_at (im, x, y), c) < tolerance)
        {
          n++;
          break;
        }
  return n;
}

static const ClRgb white G_GNUC_UNUSED = { 1, 1, 1 };

static inline ClEvent
make_event (int64_t step, const char *key, const char *old_value, const char *new_value)
{
  ClEvent e;
  memset (&e, 0, sizeof e);
  e.step = step;
  g_strlcpy (e.key, key, sizeof e.key);
  g_strlcpy (e.old_value, old_value, sizeof e.old_value);
  g_strlcpy (e.new_value, new_value, sizeof e.new_value);
  return e;
}
