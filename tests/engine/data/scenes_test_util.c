/* Shared by the scene and colour-augmentation tests: the dataset they render from and
 * independent re-implementations (double-precision bilinear resize, RGB->HSV, mask boxes). */
#include "tests/engine/data/scenes_test_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

ClDataset *ds;

/* ------------------------------------------------------------------ independent helpers */

/* Bilinear resize with half-pixel centres, in double, as torch's interpolate(align_corners=False). */
double
bilinear_at (const uint8_t *src, int sh, int sw, double sy, double sx)
{
  sy = sy < 0 ? 0 : sy > sh - 1 ? sh - 1 : sy;
  sx = sx < 0 ? 0 : sx > sw - 1 ? sw - 1 : sx;
  int y0 = (int) sy, x0 = (int) sx;
  int y1 = MIN (y0 + 1, sh - 1), x1 = MIN (x0 + 1, sw - 1);
  double fy = sy - y0, fx = sx - x0;
  double top = src[y0 * sw + x0] * (1 - fx) + src[y0 * sw + x1] * fx;
  double bottom = src[y1 * sw + x0] * (1 - fx) + src[y1 * sw + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}

void
resize_ref (const uint8_t *src, int sh, int sw, double *dst, int dh, int dw)
{
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++)
      dst[y * dw + x] = bilinear_at (src, sh, sw, (y + 0.5) * sh / dh - 0.5, (x + 0.5) * sw / dw - 0.5);
}

/* Hue in turns [0, 1) and saturation of an RGB triple (any positive scale). */
void
rgb_to_hs (double r, double g, double b, double *h, double *s)
{
  double v = MAX (r, MAX (g, b)), lo = MIN (r, MIN (g, b)), range = v - lo;
  *s = v > 0 ? range / v : 0;
  if (range <= 0)
    {
      *h = 0;
      return;
    }
  double hh;
  if (v == r)
    hh = (g - b) / range;
  else if (v == g)
    hh = 2 + (b - r) / range;
  else
    hh = 4 + (r - g) / range;
  hh /= 6;
  *h = hh - floor (hh);
}

double
circular_diff (double a, double b)
{
  double d = a - b;
  return d - floor (d + 0.5);
}

/* Hue and saturation of the summed colour of a planar RGB image. */
void
image_hs (const float *img, int n, double *h, double *s)
{
  double sum[3] = { 0, 0, 0 };
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < n; i++)
      sum[c] += img[c * n + i];
  rgb_to_hs (sum[0], sum[1], sum[2], h, s);
}

void
image_hs_u8 (const uint8_t *img, int n, double *h, double *s)
{
  double sum[3] = { 0, 0, 0 };
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < n; i++)
      sum[c] += img[c * n + i];
  rgb_to_hs (sum[0], sum[1], sum[2], h, s);
}

const uint8_t *
item_pixels (int split, int index)
{
  const ClImageSet *set = split ? &ds->test : &ds->train;
  return set->pixels + (size_t) index * (size_t) set->height * (size_t) set->width;
}

int
item_label (int split, int index)
{
  return (split ? ds->test.labels : ds->train.labels)[index];
}

ClScenes *
scenes_new (int kind, int pool, int big, int tint, uint64_t seed)
{
  ClSceneParams p = { kind, pool, big, tint, seed, 0 };
  GError *error = NULL;
  ClScenes *s = cl_scenes_new (&p, ds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

TBox
mask_box (const uint8_t *mask, int side, int id)
{
  TBox b = { side, side, -1, -1, 0 };
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      if (mask[y * side + x] == id)
        {
          b.x0 = MIN (b.x0, x), b.x1 = MAX (b.x1, x);
          b.y0 = MIN (b.y0, y), b.y1 = MAX (b.y1, y);
          b.count++;
        }
  return b;
}

/* Pearson correlation of two sequences. */
double
correlation (const double *a, const double *b, int n)
{
  double ma = 0, mb = 0;
  for (int i = 0; i < n; i++)
    ma += a[i], mb += b[i];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (int i = 0; i < n; i++)
    {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
  return saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : 0;
}

/* How well the visible pixels of instance id match the source item resized (here, independently)
 * to the layout's square at the layout's position: correlation and the mean ratio pixel/expected. */
double
item_match (const uint8_t *grey, const uint8_t *mask, int side, int id, const ClSceneItem *it, int split, double *ratio)
{
  const ClImageSet *set = split ? &ds->test : &ds->train;
  double *ref = g_new (double, it->size * it->size);
  resize_ref (item_pixels (split, it->source), set->height, set->width, ref, it->size, it->size);
  double *a = g_new (double, side *side), *b = g_new (double, side *side);
  int n = 0;
  double num = 0, den = 0;
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      if (mask[y * side + x] == id)
        {
          int u = x - it->x, v = y - it->y;
          g_assert_cmpint (u, >=, 0);
          g_assert_cmpint (u, <, it->size);
          g_assert_cmpint (v, >=, 0);
          g_assert_cmpint (v, <, it->size);
          a[n] = grey[y * side + x];
          b[n] = ref[v * it->size + u] * it->brightness;
          num += a[n], den += b[n];
          n++;
        }
  double r = n > 2 ? correlation (a, b, n) : 0;
  *ratio = den > 0 ? num / den : 0;
  g_free (ref), g_free (a), g_free (b);
  return r;
}

/* Bounding box of the item resized (independently, in double) to side x side, above the threshold. */
TBox
resized_box (int split, int index, int side)
{
  double *ref = g_new (double, side *side);
  resize_ref (item_pixels (split, index), 28, 28, ref, side, side);
  TBox b = { side, side, -1, -1, 0 };
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      if (ref[y * side + x] > CL_SCENE_ALPHA_THRESHOLD + 0.5)
        {
          b.x0 = MIN (b.x0, x), b.x1 = MAX (b.x1, x);
          b.y0 = MIN (b.y0, y), b.y1 = MAX (b.y1, y);
          b.count++;
        }
  g_free (ref);
  return b;
}

uint8_t *
random_planes (int c, int h, int w, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  uint8_t *img = g_malloc ((gsize) c * h * w);
  for (int i = 0; i < c * h * w; i++)
    img[i] = (uint8_t) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  return img;
}

int
scenes_test_init (int *argc, char ***argv, const char *name)
{
  GError *error = NULL;
  g_autofree char *probe = g_build_filename (CL_FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz", NULL);
  gboolean have = g_file_test (probe, G_FILE_TEST_EXISTS) || g_getenv ("CONTRASTLAB_FASHION_MNIST_DIR");
  if (have)
    ds = cl_dataset_load ("fashion-mnist", "", &error);
  g_test_init (argc, argv, NULL);
  if (!ds)
    {
      /* Every test needs the items: fail loudly rather than skip. */
      g_printerr ("%s: %s (install dataset-fashion-mnist)\n", name,
                  error ? error->message : "Fashion-MNIST is missing");
      g_clear_error (&error);
      return 1;
    }
  return 0;
}
