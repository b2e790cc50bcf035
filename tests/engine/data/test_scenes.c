/* Constructed scenes (randbits, overlay, two-objects, multi-objects, tint) rendered from
 * Fashion-MNIST, and the colour augmentation of tinted views.
 *
 * Expected values come from independent re-implementations in this file (a double-precision
 * bilinear resize, an RGB->HSV conversion, the documented draw layout) or from the source items,
 * never from the code under test. `test_scenes --dump DIR` writes sample montages as PPM files
 * instead of running the tests; `test_scenes --bench` prints rendering and augmentation times. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/data/cl_augment.h"
#include "engine/data/cl_augment_color.h"
#include "engine/data/cl_data.h"
#include "engine/data/cl_scenes.h"

static ClDataset *ds;

/* ------------------------------------------------------------------ independent helpers */

/* Bilinear resize with half-pixel centres, in double, as torch's interpolate(align_corners=False). */
static double
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

static void
resize_ref (const uint8_t *src, int sh, int sw, double *dst, int dh, int dw)
{
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++)
      dst[y * dw + x] = bilinear_at (src, sh, sw, (y + 0.5) * sh / dh - 0.5, (x + 0.5) * sw / dw - 0.5);
}

/* Hue in turns [0, 1) and saturation of an RGB triple (any positive scale). */
static void
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

static double
circular_diff (double a, double b)
{
  double d = a - b;
  return d - floor (d + 0.5);
}

/* Hue and saturation of the summed colour of a planar RGB image. */
static void
image_hs (const float *img, int n, double *h, double *s)
{
  double sum[3] = { 0, 0, 0 };
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < n; i++)
      sum[c] += img[c * n + i];
  rgb_to_hs (sum[0], sum[1], sum[2], h, s);
}

static void
image_hs_u8 (const uint8_t *img, int n, double *h, double *s)
{
  double sum[3] = { 0, 0, 0 };
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < n; i++)
      sum[c] += img[c * n + i];
  rgb_to_hs (sum[0], sum[1], sum[2], h, s);
}

static const uint8_t *
item_pixels (int split, int index)
{
  const ClImageSet *set = split ? &ds->test : &ds->train;
  return set->pixels + (size_t) index * (size_t) set->height * (size_t) set->width;
}

static int
item_label (int split, int index)
{
  return (split ? ds->test.labels : ds->train.labels)[index];
}

static ClScenes *
scenes_new (int kind, int pool, int big, int tint, uint64_t seed)
{
  ClSceneParams p = { kind, pool, big, tint, seed };
  GError *error = NULL;
  ClScenes *s = cl_scenes_new (&p, ds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

typedef struct
{
  int x0, y0, x1, y1, count;
} TBox;

static TBox
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
static double
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
static double
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
static TBox
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

/* ------------------------------------------------------------------ parameters and shapes */

static void
test_params (void)
{
  static const struct
  {
    ClSceneParams p;
    const char *key;
  } bad[] = {
    { { -1, 10, 28, 0, 1 }, "data.kind" },
    { { CL_N_SCENE_KINDS, 10, 28, 0, 1 }, "data.kind" },
    { { CL_SCENE_OVERLAY, 0, 28, 0, 1 }, "data.pool" },
    { { CL_SCENE_OVERLAY, CL_SCENE_MAX_POOL + 1, 28, 0, 1 }, "data.pool" },
    { { CL_SCENE_TWO_OBJECTS, 10, 13, 0, 1 }, "data.big_size" },
    { { CL_SCENE_TWO_OBJECTS, 10, 57, 0, 1 }, "data.big_size" },
    { { CL_SCENE_RANDBITS, 10, 28, 2, 1 }, "data.tint" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GError *error = NULL;
      g_assert_false (cl_scene_params_check (&bad[i].p, &error));
      g_assert_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT);
      g_assert_true (g_str_has_prefix (error->message, bad[i].key));
      g_clear_error (&error);
      g_assert_null (cl_scenes_new (&bad[i].p, ds, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  /* Keys a kind does not use are not checked. */
  ClSceneParams ok = { CL_SCENE_RANDBITS, 0, 0, 0, 1 };
  g_assert_true (cl_scene_params_check (&ok, NULL));
  ok.kind = CL_SCENE_TWO_OBJECTS, ok.big_size = 14;
  g_assert_true (cl_scene_params_check (&ok, NULL));
  ok.kind = CL_SCENE_OVERLAY, ok.pool = CL_SCENE_MAX_POOL, ok.big_size = 0, ok.tint = 1;
  g_assert_true (cl_scene_params_check (&ok, NULL));

  g_assert_cmpstr (cl_scene_kind_names[CL_SCENE_RANDBITS], ==, "randbits");
  g_assert_cmpstr (cl_scene_kind_names[CL_SCENE_OVERLAY], ==, "overlay");
  g_assert_cmpstr (cl_scene_kind_names[CL_SCENE_TWO_OBJECTS], ==, "two-objects");
  g_assert_cmpstr (cl_scene_kind_names[CL_SCENE_MULTI_OBJECTS], ==, "multi-objects");
  g_assert_null (cl_scene_kind_names[CL_N_SCENE_KINDS]);
  static const char *names[] = { "class", "background", "overlay", "small", "large", "tint" };
  for (int t = 0; t < CL_N_SCENE_TARGETS; t++)
    g_assert_cmpstr (cl_scene_target_name ((ClSceneTarget) t), ==, names[t]);
}

static void
test_geometry_targets (void)
{
  static const struct
  {
    int kind, side;
    int n_targets;
    ClSceneTarget targets[3];
  } expect[] = {
    { CL_SCENE_RANDBITS, 28, 1, { CL_TARGET_CLASS } },
    { CL_SCENE_OVERLAY, 56, 3, { CL_TARGET_CLASS, CL_TARGET_BACKGROUND, CL_TARGET_OVERLAY } },
    { CL_SCENE_TWO_OBJECTS, 56, 3, { CL_TARGET_CLASS, CL_TARGET_SMALL, CL_TARGET_LARGE } },
    { CL_SCENE_MULTI_OBJECTS, 64, 1, { CL_TARGET_CLASS } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expect); i++)
    for (int tint = 0; tint <= 1; tint++)
      {
        ClSceneParams p = { expect[i].kind, 4, 28, tint, 9 };
        int c, h, w;
        cl_scene_geometry (&p, ds, &c, &h, &w);
        g_assert_cmpint (c, ==, tint ? 3 : 1);
        g_assert_cmpint (h, ==, expect[i].side);
        g_assert_cmpint (w, ==, expect[i].side);
        ClSceneTarget targets[CL_N_SCENE_TARGETS];
        int classes[CL_N_SCENE_TARGETS];
        int n = cl_scene_targets (&p, ds, targets, classes);
        g_assert_cmpint (n, ==, expect[i].n_targets + tint);
        for (int t = 0; t < expect[i].n_targets; t++)
          {
            g_assert_cmpint (targets[t], ==, expect[i].targets[t]);
            g_assert_cmpint (classes[t], ==, targets[t] == CL_TARGET_OVERLAY ? 4 : 10);
          }
        if (tint)
          {
            g_assert_cmpint (targets[n - 1], ==, CL_TARGET_TINT);
            g_assert_cmpint (classes[n - 1], ==, 8);
          }
      }
  ClSceneParams big_pool = { CL_SCENE_OVERLAY, 1000, 28, 0, 9 };
  ClSceneTarget targets[CL_N_SCENE_TARGETS];
  int classes[CL_N_SCENE_TARGETS];
  g_assert_cmpint (cl_scene_targets (&big_pool, ds, targets, classes), ==, 3);
  g_assert_cmpint (classes[2], ==, 10);
}

/* ------------------------------------------------------------------ all kinds */

static const ClSceneParams all_kinds[] = {
  { CL_SCENE_RANDBITS, 10, 28, 0, 5 },    { CL_SCENE_OVERLAY, 10, 28, 0, 5 },
  { CL_SCENE_OVERLAY, 1000, 28, 0, 5 },   { CL_SCENE_TWO_OBJECTS, 10, 20, 0, 5 },
  { CL_SCENE_TWO_OBJECTS, 10, 56, 0, 5 }, { CL_SCENE_MULTI_OBJECTS, 10, 28, 0, 5 },
  { CL_SCENE_RANDBITS, 10, 28, 1, 5 },    { CL_SCENE_OVERLAY, 100, 28, 1, 5 },
  { CL_SCENE_TWO_OBJECTS, 10, 40, 1, 5 }, { CL_SCENE_MULTI_OBJECTS, 10, 28, 1, 5 },
};

static void
test_determinism (void)
{
  for (gsize k = 0; k < G_N_ELEMENTS (all_kinds); k++)
    {
      ClSceneParams p = all_kinds[k];
      int c, h, w;
      cl_scene_geometry (&p, ds, &c, &h, &w);
      size_t n = (size_t) c * h * w;
      ClScenes *a = cl_scenes_new (&p, ds, NULL);
      ClScenes *b = cl_scenes_new (&p, ds, NULL);
      p.seed++;
      ClScenes *other_seed = cl_scenes_new (&p, ds, NULL);
      g_autofree uint8_t *x = g_malloc (n), *y = g_malloc (n), *z = g_malloc (n);
      g_autofree uint8_t *mx = g_malloc (h * w), *my = g_malloc (h * w);
      uint8_t lx[CL_N_SCENE_TARGETS], ly[CL_N_SCENE_TARGETS];
      int seed_differs = 0;
      for (int split = 0; split <= 1; split++)
        for (int i = 0; i < 40; i++)
          {
            int index = i * 211 + split;
            cl_scenes_render (a, split, index, x, lx, mx);
            cl_scenes_render (b, split, index, y, ly, my);
            g_assert_cmpmem (x, n, y, n);
            g_assert_cmpmem (lx, sizeof lx, ly, sizeof ly);
            g_assert_cmpmem (mx, (size_t) h * w, my, (size_t) h * w);
            /* NULL mask: same pixels */
            cl_scenes_render (a, split, index, y, ly, NULL);
            g_assert_cmpmem (x, n, y, n);
            cl_scenes_render (a, split, index + 1, y, ly, NULL);
            g_assert_true (memcmp (x, y, n) != 0);
            cl_scenes_render (other_seed, split, index, z, ly, NULL);
            seed_differs += memcmp (x, z, n) != 0;
          }
      /* randbits has nothing random in it unless tinted */
      if (p.kind == CL_SCENE_RANDBITS && !p.tint)
        g_assert_cmpint (seed_differs, ==, 0);
      else
        g_assert_cmpint (seed_differs, >=, 75);
      cl_scenes_free (a), cl_scenes_free (b), cl_scenes_free (other_seed);
    }
}

/* Labels are in range and come from the items the layout names; class is the kind's documented
 * item; targets a kind lacks are CL_SCENE_NO_LABEL. */
static void
test_labels (void)
{
  for (gsize k = 0; k < G_N_ELEMENTS (all_kinds); k++)
    {
      const ClSceneParams *p = &all_kinds[k];
      ClScenes *s = cl_scenes_new (p, ds, NULL);
      int c, h, w;
      cl_scene_geometry (p, ds, &c, &h, &w);
      g_autofree uint8_t *px = g_malloc ((size_t) c * h * w);
      ClSceneTarget targets[CL_N_SCENE_TARGETS];
      int classes[CL_N_SCENE_TARGETS];
      int nt = cl_scene_targets (p, ds, targets, classes);
      for (int split = 0; split <= 1; split++)
        for (int i = 0; i < 300; i++)
          {
            int index = (i * 7919) % (split ? ds->test.n : ds->train.n);
            uint8_t labels[CL_N_SCENE_TARGETS];
            ClSceneLayout L;
            cl_scenes_render (s, split, index, px, labels, NULL);
            cl_scenes_layout (s, split, index, &L);
            gboolean has[CL_N_SCENE_TARGETS] = { 0 };
            for (int t = 0; t < nt; t++)
              {
                has[targets[t]] = TRUE;
                g_assert_cmpint (labels[targets[t]], <, classes[t]);
              }
            for (int t = 0; t < CL_N_SCENE_TARGETS; t++)
              if (!has[t])
                g_assert_cmpint (labels[t], ==, CL_SCENE_NO_LABEL);
            g_assert_cmpint (L.items[0].source, ==, index);
            g_assert_cmpint (labels[CL_TARGET_CLASS], ==, item_label (split, index));
            for (int j = 0; j < L.n_items; j++)
              g_assert_cmpint (L.items[j].label, ==, item_label (split, L.items[j].source));
            if (p->kind == CL_SCENE_OVERLAY)
              {
                g_assert_cmpint (labels[CL_TARGET_BACKGROUND], ==, item_label (split, index));
                g_assert_cmpint (L.pattern, >=, 0);
                g_assert_cmpint (L.pattern, <, p->pool);
                g_assert_cmpint (labels[CL_TARGET_OVERLAY], ==, L.pattern % 10);
              }
            if (p->kind == CL_SCENE_TWO_OBJECTS)
              {
                g_assert_cmpint (labels[CL_TARGET_LARGE], ==, item_label (split, index));
                g_assert_cmpint (L.items[1].source, !=, index);
                g_assert_cmpint (labels[CL_TARGET_SMALL], ==, item_label (split, L.items[1].source));
              }
            if (p->kind == CL_SCENE_MULTI_OBJECTS)
              for (int j = 1; j < L.n_items; j++)
                g_assert_cmpint (L.items[0].size, >=, L.items[j].size);
            if (p->tint)
              g_assert_cmpint (labels[CL_TARGET_TINT], ==, L.tint_bucket);
          }
      cl_scenes_free (s);
    }
}

static void
test_randbits (void)
{
  ClScenes *s = scenes_new (CL_SCENE_RANDBITS, 1, 28, 0, 3);
  uint8_t px[784], mask[784], labels[CL_N_SCENE_TARGETS];
  for (int i = 0; i < 100; i++)
    {
      cl_scenes_render (s, i & 1, i * 37, px, labels, mask);
      g_assert_cmpmem (px, 784, item_pixels (i & 1, i * 37), 784);
      for (int j = 0; j < 784; j++)
        g_assert_cmpint (mask[j], ==, px[j] > CL_SCENE_ALPHA_THRESHOLD);
    }
  cl_scenes_free (s);
}

/* ------------------------------------------------------------------ overlay */

static const int grid_at[3] = { 8, 25, 42 }; /* int(56 r), r = 0.15, 0.45, 0.75 */

static gboolean
in_stamp (int y, int x)
{
  gboolean iy = FALSE, ix = FALSE;
  for (int k = 0; k < 3; k++)
    {
      iy |= y >= grid_at[k] && y < grid_at[k] + CL_SCENE_GLYPH;
      ix |= x >= grid_at[k] && x < grid_at[k] + CL_SCENE_GLYPH;
    }
  return iy && ix;
}

/* Outside the 9 stamps: the item upscaled; inside each: max(upscaled item, the same glyph). */
static void
test_overlay_composition (void)
{
  for (int pool = 1; pool <= 1000; pool *= 10)
    {
      ClScenes *s = scenes_new (CL_SCENE_OVERLAY, pool, 28, 0, 11);
      uint8_t px[56 * 56], mask[56 * 56], labels[CL_N_SCENE_TARGETS];
      double bg[56 * 56];
      for (int i = 0; i < 60; i++)
        {
          int split = i % 2, index = i * 101;
          ClSceneLayout L;
          cl_scenes_render (s, split, index, px, labels, mask);
          cl_scenes_layout (s, split, index, &L);
          if (pool == 1)
            g_assert_cmpint (L.pattern, ==, 0);
          const uint8_t *glyph = cl_scenes_glyph (s, L.pattern);
          resize_ref (item_pixels (split, index), 28, 28, bg, 56, 56);
          for (int y = 0; y < 56; y++)
            for (int x = 0; x < 56; x++)
              {
                double expect = bg[y * 56 + x];
                if (in_stamp (y, x))
                  {
                    int gy = 0, gx = 0;
                    for (int k = 0; k < 3; k++)
                      {
                        if (y >= grid_at[k] && y < grid_at[k] + CL_SCENE_GLYPH)
                          gy = y - grid_at[k];
                        if (x >= grid_at[k] && x < grid_at[k] + CL_SCENE_GLYPH)
                          gx = x - grid_at[k];
                      }
                    expect = MAX (expect, glyph[gy * CL_SCENE_GLYPH + gx]);
                  }
                g_assert_cmpfloat (fabs (px[y * 56 + x] - expect), <=, 0.5 + 1e-6);
                int m = mask[y * 56 + x];
                g_assert_cmpint (m, <=, 2);
                if (m == 2)
                  g_assert_true (in_stamp (y, x));
                if (m == 0)
                  g_assert_cmpint (px[y * 56 + x], <=, CL_SCENE_ALPHA_THRESHOLD);
              }
        }
      cl_scenes_free (s);
    }
}

/* Control variants of overlay: clean is the upscaled item alone (the as-drawn image with the
 * stamps taken out, same mask outside them, no overlay label); fixed is the same composition with
 * glyph 0 for every image. Background labels never change. */
static void
test_overlay_variants (void)
{
  ClScenes *s = scenes_new (CL_SCENE_OVERLAY, 256, 28, 0, 5);
  uint8_t drawn[56 * 56], clean[56 * 56], fixed[56 * 56], mdrawn[56 * 56], mclean[56 * 56];
  uint8_t ldrawn[CL_N_SCENE_TARGETS], lclean[CL_N_SCENE_TARGETS], lfixed[CL_N_SCENE_TARGETS];
  const uint8_t *glyph0 = cl_scenes_glyph (s, 0);
  int differs = 0;
  for (int i = 0; i < 40; i++)
    {
      int split = i % 2, index = 7 + i * 97;
      ClSceneLayout L;
      cl_scenes_layout (s, split, index, &L);
      cl_scenes_render (s, split, index, drawn, ldrawn, mdrawn);
      cl_scenes_render_variant (s, split, index, CL_SCENE_CLEAN, clean, lclean, mclean);
      cl_scenes_render_variant (s, split, index, CL_SCENE_FIXED_OVERLAY, fixed, lfixed, NULL);
      const uint8_t *glyph = cl_scenes_glyph (s, L.pattern);
      double bg[56 * 56];
      resize_ref (item_pixels (split, index), 28, 28, bg, 56, 56);
      for (int y = 0; y < 56; y++)
        for (int x = 0; x < 56; x++)
          {
            int o = y * 56 + x;
            g_assert_cmpfloat (fabs (clean[o] - bg[o]), <=, 0.5 + 1e-6);
            g_assert_cmpint (mclean[o], ==, clean[o] > CL_SCENE_ALPHA_THRESHOLD);
            if (!in_stamp (y, x))
              {
                g_assert_cmpint (drawn[o], ==, clean[o]);
                g_assert_cmpint (fixed[o], ==, clean[o]);
                g_assert_cmpint (mdrawn[o], ==, mclean[o]);
                continue;
              }
            int gy = 0, gx = 0;
            for (int k = 0; k < 3; k++)
              {
                if (y >= grid_at[k] && y < grid_at[k] + CL_SCENE_GLYPH)
                  gy = y - grid_at[k];
                if (x >= grid_at[k] && x < grid_at[k] + CL_SCENE_GLYPH)
                  gx = x - grid_at[k];
              }
            g_assert_cmpint (drawn[o], ==, MAX (clean[o], glyph[gy * CL_SCENE_GLYPH + gx]));
            g_assert_cmpint (fixed[o], ==, MAX (clean[o], glyph0[gy * CL_SCENE_GLYPH + gx]));
            differs += drawn[o] != clean[o];
          }
      g_assert_cmpint (lclean[CL_TARGET_BACKGROUND], ==, item_label (split, index));
      g_assert_cmpint (lfixed[CL_TARGET_BACKGROUND], ==, item_label (split, index));
      g_assert_cmpint (ldrawn[CL_TARGET_BACKGROUND], ==, item_label (split, index));
      g_assert_cmpint (lclean[CL_TARGET_OVERLAY], ==, CL_SCENE_NO_LABEL);
      g_assert_cmpint (lfixed[CL_TARGET_OVERLAY], ==, 0);
      g_assert_cmpint (ldrawn[CL_TARGET_OVERLAY], ==, L.pattern % CL_SCENE_GLYPH_CLASSES);
    }
  /* The overlay is really taken out (not a vacuous pass on images without glyph pixels). */
  g_assert_cmpint (differs, >, 40 * 9 * 10);
  cl_scenes_free (s);
}

/* Control variant of two-objects: the small item alone where it was drawn; the other kinds have
 * nothing to remove and render as drawn. */
static void
test_object_variants (void)
{
  ClScenes *s = scenes_new (CL_SCENE_TWO_OBJECTS, 1, 42, 0, 3);
  uint8_t drawn[56 * 56], clean[56 * 56], mdrawn[56 * 56], mclean[56 * 56];
  uint8_t ldrawn[CL_N_SCENE_TARGETS], lclean[CL_N_SCENE_TARGETS];
  for (int i = 0; i < 40; i++)
    {
      int split = i % 2, index = 3 + i * 89;
      cl_scenes_render (s, split, index, drawn, ldrawn, mdrawn);
      cl_scenes_render_variant (s, split, index, CL_SCENE_CLEAN, clean, lclean, mclean);
      int small_px = 0;
      for (int o = 0; o < 56 * 56; o++)
        {
          /* The small item is pasted last, so where it is visible the two images agree. */
          g_assert_cmpint (mclean[o], !=, 1);
          if (mdrawn[o] == 2)
            {
              g_assert_cmpint (clean[o], ==, drawn[o]);
              g_assert_cmpint (mclean[o], ==, 2);
              small_px++;
            }
          if (mclean[o] == 0) /* faint item edges are max-combined, below the threshold */
            g_assert_cmpint (clean[o], <=, CL_SCENE_ALPHA_THRESHOLD);
        }
      g_assert_cmpint (small_px, >, 0);
      g_assert_cmpint (lclean[CL_TARGET_SMALL], ==, ldrawn[CL_TARGET_SMALL]);
      g_assert_cmpint (lclean[CL_TARGET_LARGE], ==, CL_SCENE_NO_LABEL);
      g_assert_cmpint (ldrawn[CL_TARGET_LARGE], ==, item_label (split, index));
    }
  cl_scenes_free (s);
  for (int kind = CL_SCENE_RANDBITS; kind < CL_N_SCENE_KINDS; kind += CL_SCENE_MULTI_OBJECTS)
    {
      s = scenes_new (kind, 1, 28, 0, 9);
      static uint8_t a[64 * 64], b[64 * 64];
      for (int v = CL_SCENE_CLEAN; v < CL_N_SCENE_VARIANTS; v++)
        for (int i = 0; i < 10; i++)
          {
            cl_scenes_render (s, 1, i * 13, a, NULL, NULL);
            cl_scenes_render_variant (s, 1, i * 13, v, b, NULL, NULL);
            g_assert_cmpmem (a, sizeof a, b, sizeof b);
          }
      cl_scenes_free (s);
    }
}

/* Same pool index -> the same stamped pixels; pool 1 -> every image carries one glyph; pools are
 * prefixes of larger pools; patterns are uniform over the pool. */
static void
test_overlay_pool (void)
{
  ClScenes *one = scenes_new (CL_SCENE_OVERLAY, 1, 28, 0, 21);
  ClScenes *ten = scenes_new (CL_SCENE_OVERLAY, 10, 28, 0, 21);
  ClScenes *big = scenes_new (CL_SCENE_OVERLAY, 1000, 28, 0, 21);
  for (int k = 0; k < 10; k++)
    g_assert_cmpmem (cl_scenes_glyph (ten, k), 144, cl_scenes_glyph (big, k), 144);
  g_assert_cmpmem (cl_scenes_glyph (one, 0), 144, cl_scenes_glyph (big, 0), 144);

  /* Where the glyph is fully white, every image with that pattern shows exactly the glyph; with
   * pool 1 that is every image. */
  uint8_t px[56 * 56], labels[CL_N_SCENE_TARGETS];
  const uint8_t *g0 = cl_scenes_glyph (one, 0);
  int white = 0;
  for (int i = 0; i < 144; i++)
    white += g0[i] == 255;
  g_assert_cmpint (white, >=, 10);
  for (int i = 0; i < 200; i++)
    {
      cl_scenes_render (one, 0, i * 13, px, labels, NULL);
      g_assert_cmpint (labels[CL_TARGET_OVERLAY], ==, 0);
      for (int gy = 0; gy < 3; gy++)
        for (int gx = 0; gx < 3; gx++)
          for (int j = 0; j < 144; j++)
            if (g0[j] == 255)
              g_assert_cmpint (px[(grid_at[gy] + j / 12) * 56 + grid_at[gx] + j % 12], ==, 255);
    }

  int counts[10] = { 0 };
  uint8_t first[10][56 * 56];
  int seen[10] = { 0 };
  for (int i = 0; i < 5000; i++)
    {
      ClSceneLayout L;
      cl_scenes_layout (ten, 0, i, &L);
      counts[L.pattern]++;
      if (seen[L.pattern] < 2)
        {
          cl_scenes_render (ten, 0, i, px, labels, NULL);
          if (seen[L.pattern] == 0)
            memcpy (first[L.pattern], px, sizeof px);
          else
            {
              /* two images with the same pattern: equal wherever the glyph is white */
              const uint8_t *g = cl_scenes_glyph (ten, L.pattern);
              for (int j = 0; j < 144; j++)
                if (g[j] == 255)
                  for (int q = 0; q < 9; q++)
                    {
                      int o = (grid_at[q / 3] + j / 12) * 56 + grid_at[q % 3] + j % 12;
                      g_assert_cmpint (px[o], ==, first[L.pattern][o]);
                    }
            }
          seen[L.pattern]++;
        }
    }
  /* Binomial(5000, 0.1): sd 21.2; +-6 sd */
  for (int k = 0; k < 10; k++)
    {
      g_assert_cmpint (counts[k], >, 500 - 128);
      g_assert_cmpint (counts[k], <, 500 + 128);
    }
  cl_scenes_free (one), cl_scenes_free (ten), cl_scenes_free (big);
}

/* Glyphs are all different, and their class (index mod 10) is a recognisable shape: a
 * nearest-class-mean classifier, leave-one-out, gets nearly all of them right. */
static void
test_glyph_classes (void)
{
  ClScenes *s = scenes_new (CL_SCENE_OVERLAY, 1000, 28, 0, 33);
  double mean[10][144] = { { 0 } };
  for (int k = 0; k < 1000; k++)
    {
      const uint8_t *g = cl_scenes_glyph (s, k);
      int ink = 0;
      for (int j = 0; j < 144; j++)
        {
          mean[k % 10][j] += g[j] / 100.0;
          ink += g[j] > 128;
        }
      g_assert_cmpint (ink, >=, 12);
      g_assert_cmpint (ink, <=, 90);
    }
  int min_distance = G_MAXINT;
  for (int a = 0; a < 1000; a++)
    for (int b = a + 1; b < 1000; b++)
      {
        const uint8_t *ga = cl_scenes_glyph (s, a), *gb = cl_scenes_glyph (s, b);
        int d = 0;
        for (int j = 0; j < 144; j++)
          d += abs (ga[j] - gb[j]);
        min_distance = MIN (min_distance, d);
      }
  g_test_message ("smallest L1 distance between two of 1000 glyphs: %d", min_distance);
  g_assert_cmpint (min_distance, >, 255);

  int correct = 0;
  for (int k = 0; k < 1000; k++)
    {
      const uint8_t *g = cl_scenes_glyph (s, k);
      int best = -1;
      double best_d = 1e300;
      for (int c = 0; c < 10; c++)
        {
          double d = 0;
          for (int j = 0; j < 144; j++)
            {
              double m = mean[c][j];
              if (c == k % 10) /* leave this glyph out of its own class mean */
                m = (m * 100.0 - g[j]) / 99.0;
              d += (g[j] - m) * (g[j] - m);
            }
          if (d < best_d)
            best_d = d, best = c;
        }
      correct += best == k % 10;
    }
  g_test_message ("nearest-class-mean accuracy on 1000 glyphs: %.3f", correct / 1000.0);
  g_assert_cmpint (correct, >=, 950);
  cl_scenes_free (s);
}

/* ------------------------------------------------------------------ two objects */

static void
test_two_objects (void)
{
  static const int bigs[] = { 14, 20, 28, 42, 56 };
  for (gsize b = 0; b < G_N_ELEMENTS (bigs); b++)
    {
      int big = bigs[b];
      ClScenes *s = scenes_new (CL_SCENE_TWO_OBJECTS, 1, big, 0, 44);
      uint8_t px[56 * 56], mask[56 * 56], labels[CL_N_SCENE_TARGETS];
      int separate = 0, n = 200;
      double worst_corr = 1, worst_dim = 0;
      for (int i = 0; i < n; i++)
        {
          int split = i % 2, index = (i * 53) % 10000;
          ClSceneLayout L;
          cl_scenes_render (s, split, index, px, labels, mask);
          cl_scenes_layout (s, split, index, &L);
          g_assert_cmpint (L.n_items, ==, 2);
          g_assert_cmpint (L.items[0].size, ==, big);
          g_assert_cmpint (L.items[1].size, ==, CL_SCENE_SMALL);
          for (int j = 0; j < 56 * 56; j++)
            {
              g_assert_cmpint (mask[j], <=, 2);
              if (mask[j] == 0)
                g_assert_cmpint (px[j], <=, CL_SCENE_ALPHA_THRESHOLD);
            }
          TBox mb[2] = { mask_box (mask, 56, 1), mask_box (mask, 56, 2) };
          g_assert_cmpint (mb[0].count, >, 0);
          g_assert_cmpint (mb[1].count, >, 0);
          /* Where the items' resized extents (placed by the layout) do not meet, neither hides the
           * other; a layout position is checked against the visible pixels below. */
          TBox e[2];
          for (int k = 0; k < 2; k++)
            {
              e[k] = resized_box (split, L.items[k].source, L.items[k].size);
              e[k].x0 += L.items[k].x, e[k].x1 += L.items[k].x;
              e[k].y0 += L.items[k].y, e[k].y1 += L.items[k].y;
            }
          gboolean apart =
              e[0].x1 + 1 < e[1].x0 || e[1].x1 + 1 < e[0].x0 || e[0].y1 + 1 < e[1].y0 || e[1].y1 + 1 < e[0].y0;
          if (!apart)
            continue;
          separate++;
          for (int k = 0; k < 2; k++)
            {
              const ClSceneItem *it = &L.items[k];
              /* Not clipped: the visible extent is the item's at its size (one pixel of slack
               * for values that round across the threshold), and where the layout put it. */
              TBox sb = resized_box (split, it->source, it->size);
              int ew = sb.x1 - sb.x0 + 1, eh = sb.y1 - sb.y0 + 1;
              int mw = mb[k].x1 - mb[k].x0 + 1, mh = mb[k].y1 - mb[k].y0 + 1;
              worst_dim = MAX (worst_dim, MAX (abs (mw - ew), abs (mh - eh)));
              g_assert_cmpint (abs (mw - ew), <=, 1);
              g_assert_cmpint (abs (mh - eh), <=, 1);
              g_assert_cmpint (abs (mb[k].x0 - (it->x + sb.x0)), <=, 1);
              g_assert_cmpint (abs (mb[k].y0 - (it->y + sb.y0)), <=, 1);
              g_assert_cmpint (MAX (mw, mh), <=, it->size);
              double ratio, r = item_match (px, mask, 56, k + 1, it, split, &ratio);
              worst_corr = MIN (worst_corr, r);
              g_assert_cmpfloat (r, >, 0.97);
              g_assert_cmpfloat (fabs (ratio - 1), <, 0.03);
            }
        }
      g_test_message ("big %d: %d/%d scenes with separate items; worst extent error %.0f px, "
                      "worst pixel correlation %.4f",
                      big, separate, n, worst_dim, worst_corr);
      /* the small item is placed away from the large one whenever there is room */
      if (big <= 28)
        g_assert_cmpint (separate, >=, n * 9 / 10);
      else if (big <= 42)
        g_assert_cmpint (separate, >=, n / 3);
      cl_scenes_free (s);
    }
}

/* ------------------------------------------------------------------ multi objects */

static void
test_multi_objects (void)
{
  ClScenes *s = scenes_new (CL_SCENE_MULTI_OBJECTS, 1, 28, 0, 55);
  uint8_t px[64 * 64], mask[64 * 64], labels[CL_N_SCENE_TARGETS];
  int n_count[5] = { 0 }, textures[CL_N_TEXTURES] = { 0 };
  int n = 400;
  double bg_means[400];
  int flat_backgrounds = 0;
  double worst_corr = 1;
  /* pooled intensity histograms of object and background pixels */
  double hist_obj[256] = { 0 }, hist_bg[256] = { 0 };
  for (int i = 0; i < n; i++)
    {
      int split = i % 2, index = (i * 97) % 10000;
      ClSceneLayout L;
      cl_scenes_render (s, split, index, px, labels, mask);
      cl_scenes_layout (s, split, index, &L);
      g_assert_cmpint (L.n_items, >=, 2);
      g_assert_cmpint (L.n_items, <=, 4);
      n_count[L.n_items]++;
      g_assert_cmpint (L.texture, >=, 0);
      g_assert_cmpint (L.texture, <, CL_N_TEXTURES);
      textures[L.texture]++;
      for (int k = 0; k < L.n_items; k++)
        {
          const ClSceneItem *it = &L.items[k];
          g_assert_cmpint (it->size, >=, 16);
          g_assert_cmpint (it->size, <=, 32);
          g_assert_cmpfloat (it->brightness, >=, 0.35f);
          g_assert_cmpfloat (it->brightness, <=, 1.0f);
          TBox mb = mask_box (mask, 64, k + 1);
          g_assert_cmpint (mb.count, >, 0);
          /* mask pixels are the item's own (item_match asserts they lie in its square) */
          double ratio, r = item_match (px, mask, 64, k + 1, it, split, &ratio);
          worst_corr = MIN (worst_corr, r);
          if (mb.count >= 20)
            {
              g_assert_cmpfloat (r, >, 0.95);
              g_assert_cmpfloat (fabs (ratio - 1), <, 0.03);
            }
        }
      double sum = 0, sum2 = 0;
      int nb = 0;
      for (int j = 0; j < 64 * 64; j++)
        {
          g_assert_cmpint (mask[j], <=, L.n_items);
          if (mask[j] == 0)
            {
              sum += px[j], sum2 += (double) px[j] * px[j], nb++;
              hist_bg[px[j]] += 1;
            }
          else
            hist_obj[px[j]] += 1;
        }
      g_assert_cmpint (nb, >, 64 * 64 / 4);
      bg_means[i] = sum / nb;
      double sd = sqrt (MAX (0, sum2 / nb - bg_means[i] * bg_means[i]));
      flat_backgrounds += sd < 5.0;
    }
  for (int k = 2; k <= 4; k++)
    g_assert_cmpint (n_count[k], >, n / 5);
  for (int t = 0; t < CL_N_TEXTURES; t++)
    g_assert_cmpint (textures[t], >, n / 8);
  double m = 0, v = 0;
  for (int i = 0; i < n; i++)
    m += bg_means[i] / n;
  for (int i = 0; i < n; i++)
    v += (bg_means[i] - m) * (bg_means[i] - m) / n;
  g_test_message ("background mean over images: %.1f, sd %.1f; %d of %d backgrounds nearly flat; "
                  "worst item correlation %.3f",
                  m, sqrt (v), flat_backgrounds, n, worst_corr);
  g_assert_cmpfloat (sqrt (v), >, 20.0);
  g_assert_cmpint (flat_backgrounds, <, n / 10);

  /* No global intensity threshold separates objects from background well: the best one's
   * balanced accuracy stays low (a black canvas would give nearly 1). */
  double tot_obj = 0, tot_bg = 0;
  for (int t = 0; t < 256; t++)
    tot_obj += hist_obj[t], tot_bg += hist_bg[t];
  double cum_obj = 0, cum_bg = 0, best = 0;
  for (int t = 0; t < 256; t++)
    {
      cum_obj += hist_obj[t], cum_bg += hist_bg[t];
      double above = 0.5 * (cum_bg / tot_bg + 1 - cum_obj / tot_obj);
      best = MAX (best, MAX (above, 1 - above));
    }
  g_test_message ("best global-threshold balanced accuracy object vs background: %.3f", best);
  g_assert_cmpfloat (best, <, 0.8);
  cl_scenes_free (s);
}

/* ------------------------------------------------------------------ tint */

/* The tint bucket is the hue of the image's summed colour; V (the max channel) is the untinted
 * image; switching the tint on changes nothing else. */
static void
test_tint_render (void)
{
  for (int kind = 0; kind < CL_N_SCENE_KINDS; kind++)
    {
      ClScenes *grey = scenes_new (kind, 10, 28, 0, 66), *tinted = scenes_new (kind, 10, 28, 1, 66);
      int c, h, w;
      ClSceneParams p = *cl_scenes_params (tinted);
      cl_scene_geometry (&p, ds, &c, &h, &w);
      int n = h * w;
      g_autofree uint8_t *gp = g_malloc (n), *tp = g_malloc (3 * n);
      g_autofree uint8_t *gm = g_malloc (n), *tm = g_malloc (n);
      int buckets[8] = { 0 };
      for (int i = 0; i < 400; i++)
        {
          uint8_t gl[CL_N_SCENE_TARGETS], tl[CL_N_SCENE_TARGETS];
          cl_scenes_render (grey, i % 2, (i * 31) % 10000, gp, gl, gm);
          cl_scenes_render (tinted, i % 2, (i * 31) % 10000, tp, tl, tm);
          g_assert_cmpmem (gm, n, tm, n);
          for (int t = 0; t < CL_TARGET_TINT; t++)
            g_assert_cmpint (gl[t], ==, tl[t]);
          g_assert_cmpint (gl[CL_TARGET_TINT], ==, CL_SCENE_NO_LABEL);
          int b = tl[CL_TARGET_TINT];
          g_assert_cmpint (b, <, 8);
          buckets[b]++;
          for (int j = 0; j < n; j++)
            g_assert_cmpint (MAX (tp[j], MAX (tp[n + j], tp[2 * n + j])), ==, gp[j]);
          double hue, sat;
          image_hs_u8 (tp, n, &hue, &sat);
          g_assert_cmpint ((int) floor (hue * 8), ==, b);
          g_assert_cmpfloat (sat, >, 0.45);
          ClSceneLayout L;
          cl_scenes_layout (tinted, i % 2, (i * 31) % 10000, &L);
          g_assert_cmpfloat (fabs (circular_diff (hue, L.hue)), <, 0.01);
        }
      for (int b = 0; b < 8; b++)
        g_assert_cmpint (buckets[b], >, 20);
      cl_scenes_free (grey), cl_scenes_free (tinted);
    }
}

/* Two views of a tinted scene share its hue without colour jitter; with jitter 1 they do not. */
static void
test_tint_views (void)
{
  ClScenes *s = scenes_new (CL_SCENE_OVERLAY, 10, 28, 1, 77);
  int n = 56 * 56, views = 600;
  uint8_t px[3 * 56 * 56], labels[CL_N_SCENE_TARGETS];
  float v1[3 * 56 * 56], v2[3 * 56 * 56];
  for (int strength = 0; strength <= 1; strength++)
    {
      ClAugParams aug = { 0.2f, 0.5f, (float) strength, 0.0f };
      ClRng rng;
      cl_rng_seed (&rng, 1234, CL_STREAM_AUG);
      int far = 0, right_bucket = 0, grey_views = 0, coloured = 0;
      double max_diff = 0;
      for (int i = 0; i < views; i++)
        {
          cl_scenes_render (s, 0, i * 17, px, labels, NULL);
          cl_augment_view_color (px, 3, 56, 56, &aug, &rng, v1);
          cl_augment_view_color (px, 3, 56, 56, &aug, &rng, v2);
          double h1, s1, h2, s2;
          image_hs (v1, n, &h1, &s1);
          image_hs (v2, n, &h2, &s2);
          if (s1 < 0.01 || s2 < 0.01)
            {
              grey_views++;
              continue;
            }
          coloured++;
          double d = fabs (circular_diff (h1, h2));
          max_diff = MAX (max_diff, d);
          far += d > 1.0 / 16;
          right_bucket += (int) floor (h1 * 8) == labels[CL_TARGET_TINT];
        }
      g_test_message ("jitter %d: %d grey view pairs; of %d others, hue differs by > 1/16 turn in %d, "
                      "largest difference %.3f; view 1 in the tint's bucket %d times",
                      strength, grey_views, coloured, far, max_diff, right_bucket);
      if (strength == 0)
        {
          g_assert_cmpint (grey_views, ==, 0);
          g_assert_cmpfloat (max_diff, <, 0.01);
          g_assert_cmpint (right_bucket, ==, views);
        }
      else
        {
          /* P(both grey-free) = 0.8^2; hue shifts U[-0.2, 0.2] applied with p 0.8 each:
           * P(|d| > 1/16) = 0.64 (1 - 0.0625/0.4)^2 + 0.32 (1 - 0.0625/0.2) = 0.675 */
          g_assert_cmpint (grey_views, >, views * 0.36 - 60);
          g_assert_cmpint (grey_views, <, views * 0.36 + 60);
          g_assert_cmpfloat ((double) far / coloured, >, 0.675 - 0.09);
          g_assert_cmpfloat ((double) far / coloured, <, 0.675 + 0.09);
          g_assert_cmpfloat (max_diff, <=, 0.4 + 0.01);
          g_assert_cmpfloat ((double) right_bucket / coloured, <, 0.65);
        }
    }
  cl_scenes_free (s);
}

/* ------------------------------------------------------------------ colour augmentation */

static uint8_t *
random_planes (int c, int h, int w, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  uint8_t *img = g_malloc ((gsize) c * h * w);
  for (int i = 0; i < c * h * w; i++)
    img[i] = (uint8_t) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  return img;
}

static const ClAugParams param_sets[] = {
  { 1.0f, 0.0f, 0.0f, 0.0f }, { 0.2f, 0.5f, 0.0f, 0.0f },  { 0.08f, 0.5f, 1.0f, 0.0f },
  { 0.5f, 1.0f, 0.5f, 0.1f }, { 0.2f, 0.5f, 1.0f, 0.05f },
};

/* c == 1 is cl_augment_view bit for bit; every call, any c, uses the documented number of draws. */
static void
test_color_grey_equal (void)
{
  g_autofree uint8_t *img = random_planes (3, 28, 28, 5);
  float a[3 * 784], b[784];
  for (gsize k = 0; k < G_N_ELEMENTS (param_sets); k++)
    for (int rep = 0; rep < 30; rep++)
      {
        ClRng r1, r2, count;
        cl_rng_seed (&r1, 100 + rep, CL_STREAM_AUG);
        r2 = r1, count = r1;
        cl_augment_view_color (img, 1, 28, 28, &param_sets[k], &r1, a);
        cl_augment_view (img, 28, 28, &param_sets[k], &r2, b);
        g_assert_cmpmem (a, sizeof b, b, sizeof b);
        for (int j = 0; j < CL_AUG_COLOR_U32_PER_VIEW; j++)
          cl_rng_u32 (&count);
        g_assert_cmpmem (&r1, sizeof r1, &count, sizeof count);
        for (int c = 2; c <= 4; c++)
          {
            ClRng r3;
            cl_rng_seed (&r3, 100 + rep, CL_STREAM_AUG);
            float out[4 * 784];
            cl_augment_view_color (img, MIN (c, 3), 28, 28, &param_sets[k], &r3, out);
            g_assert_cmpmem (&r3, sizeof r3, &count, sizeof count);
          }
      }
}

/* Without jitter every plane gets the same crop and flip; plane 0, noise included, is exactly the
 * grey view of plane 0 from the same stream. */
static void
test_color_shared_geometry (void)
{
  int h = 28, w = 28, n = h * w;
  g_autofree uint8_t *img = random_planes (3, h, w, 6);
  float out[3 * 784], grey[784], plane[784];
  for (int rep = 0; rep < 50; rep++)
    {
      ClAugParams p = { 0.2f, 0.5f, 0.0f, rep % 2 ? 0.1f : 0.0f };
      ClRng r1, r2, r3;
      cl_rng_seed (&r1, rep, CL_STREAM_AUG);
      r2 = r3 = r1;
      cl_augment_view_color (img, 3, h, w, &p, &r1, out);
      cl_augment_view (img, h, w, &p, &r2, grey);
      g_assert_cmpmem (out, sizeof grey, grey, sizeof grey);
      ClCropBox box = cl_augment_sample_crop (h, w, p.crop_min_area, &r3);
      int flip = cl_rng_uniform (&r3) < p.flip;
      if (p.noise == 0.0f)
        for (int c = 0; c < 3; c++)
          {
            cl_augment_resize_crop (img + c * n, h, w, box, flip, plane);
            g_assert_cmpmem (out + c * n, sizeof plane, plane, sizeof plane);
          }
    }
}

/* Colour jitter on a single-colour image is observable exactly: brightness scales V, contrast
 * leaves a constant plane alone, saturation scales S (clipped at 1), hue adds a shift, in any
 * order. The factors must be the documented functions of the documented draws. */
static void
test_color_jitter_factors (void)
{
  int h = 8, w = 8, n = h * w;
  static const double colours[][3] = { { 0.5, 0.25, 0.1 }, { 0.1, 0.3, 0.45 }, { 0.2, 0.5, 0.35 } };
  uint8_t img[3 * 64];
  float out[3 * 64];
  int applied = 0, greyed = 0, total = 0;
  for (gsize ci = 0; ci < G_N_ELEMENTS (colours); ci++)
    for (int rep = 0; rep < 400; rep++)
      {
        float s = rep % 2 ? 1.0f : 0.5f;
        uint8_t rgb[3];
        for (int c = 0; c < 3; c++)
          {
            rgb[c] = (uint8_t) lrint (colours[ci][c] * 255);
            memset (img + c * n, rgb[c], n);
          }
        ClAugParams p = { 1.0f, 0.0f, s, 0.0f };
        ClRng rng, draws;
        cl_rng_seed (&rng, (uint64_t) rep * 7 + ci, CL_STREAM_AUG);
        draws = rng;
        cl_augment_view_color (img, 3, h, w, &p, &rng, out);
        /* the documented layout */
        for (int j = 0; j < CL_AUG_CROP_U32; j++)
          cl_rng_u32 (&draws);
        cl_rng_uniform (&draws); /* flip */
        double apply_u = cl_rng_uniform (&draws);
        cl_rng_uniform (&draws); /* order */
        double bu = cl_rng_uniform (&draws), ku = cl_rng_uniform (&draws);
        (void) ku;
        cl_rng_u32 (&draws), cl_rng_u32 (&draws);
        double su = cl_rng_uniform (&draws), hu = cl_rng_uniform (&draws), gu = cl_rng_uniform (&draws);
        gboolean on = apply_u < 0.8, grey = gu < 0.2 * s;
        total++;
        applied += on, greyed += grey;
        for (int c = 0; c < 3; c++)
          for (int j = 1; j < n; j++)
            g_assert_cmpfloat (out[c * n + j], ==, out[c * n]);
        double r = out[0], g = out[n], b = out[2 * n];
        double h0, s0, h1, s1;
        rgb_to_hs (rgb[0], rgb[1], rgb[2], &h0, &s0);
        double v0 = MAX (rgb[0], MAX (rgb[1], rgb[2])) / 255.0;
        double bf = on ? 1 + 0.8 * s * (2 * bu - 1) : 1;
        double sf = on ? 1 + 0.8 * s * (2 * su - 1) : 1;
        double dh = on ? 0.2 * s * (2 * hu - 1) : 0;
        if (grey)
          {
            /* greyscale of the jittered colour: R = G = B = luma */
            g_assert_cmpfloat (fabs (r - g), <, 1e-6);
            g_assert_cmpfloat (fabs (g - b), <, 1e-6);
            continue;
          }
        rgb_to_hs (r, g, b, &h1, &s1);
        double v1 = MAX (r, MAX (g, b));
        g_assert_cmpfloat (fabs (v1 - v0 * bf), <, 1e-4);
        g_assert_cmpfloat (fabs (s1 - MIN (1.0, s0 * sf)), <, 1e-4);
        g_assert_cmpfloat (fabs (circular_diff (h1, h0 + dh)), <, 1e-4);
      }
  /* Binomial checks of the application rates, +-5 sd */
  g_assert_cmpfloat (fabs (applied - 0.8 * total), <, 5 * sqrt (total * 0.16));
  double expect_grey = total * (0.5 * 0.2 + 0.5 * 0.1);
  g_assert_cmpfloat (fabs (greyed - expect_grey), <, 5 * sqrt (expect_grey));
}

/* Saturation and hue leave grey pixels grey, so an untinted image seen as RGB stays untinted. */
static void
test_color_grey_stays_grey (void)
{
  int n = 28 * 28;
  uint8_t img[3 * 784];
  const uint8_t *src = item_pixels (0, 5);
  for (int c = 0; c < 3; c++)
    memcpy (img + c * n, src, n);
  float out[3 * 784];
  ClRng rng;
  cl_rng_seed (&rng, 8, CL_STREAM_AUG);
  ClAugParams p = { 0.2f, 0.5f, 1.0f, 0.0f };
  for (int rep = 0; rep < 200; rep++)
    {
      cl_augment_view_color (img, 3, 28, 28, &p, &rng, out);
      for (int j = 0; j < n; j++)
        {
          g_assert_cmpfloat (fabs (out[j] - out[n + j]), <, 1e-6);
          g_assert_cmpfloat (fabs (out[j] - out[2 * n + j]), <, 1e-6);
          g_assert_cmpfloat (out[j], >=, 0.0f);
          g_assert_cmpfloat (out[j], <=, 1.0f);
        }
    }
}

/* ------------------------------------------------------------------ speed (--bench: reported, not judged) */

static int
bench (void)
{
  static const ClSceneParams kinds[] = {
    { CL_SCENE_RANDBITS, 1, 28, 0, 1 },      { CL_SCENE_OVERLAY, 1000, 28, 0, 1 },
    { CL_SCENE_TWO_OBJECTS, 1, 40, 0, 1 },   { CL_SCENE_MULTI_OBJECTS, 1, 28, 0, 1 },
    { CL_SCENE_MULTI_OBJECTS, 1, 28, 1, 1 },
  };
  uint8_t px[3 * 64 * 64], mask[64 * 64], labels[CL_N_SCENE_TARGETS];
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      gint64 t0 = g_get_monotonic_time ();
      ClScenes *s = cl_scenes_new (&kinds[k], ds, NULL);
      gint64 t1 = g_get_monotonic_time ();
      int reps = 20000;
      for (int i = 0; i < reps; i++)
        cl_scenes_render (s, 0, i, px, labels, mask);
      gint64 t2 = g_get_monotonic_time ();
      printf ("%s%s: new %.2f ms, render %.0f ns per scene\n", cl_scene_kind_names[kinds[k].kind],
              kinds[k].tint ? "+tint" : "", (t1 - t0) / 1e3, (t2 - t1) * 1e3 / reps);
      cl_scenes_free (s);
    }
  ClAugParams p = { 0.2f, 0.5f, 1.0f, 0.05f };
  float out[3 * 64 * 64];
  ClRng rng;
  cl_rng_seed (&rng, 1, CL_STREAM_AUG);
  g_autofree uint8_t *img = random_planes (3, 64, 64, 1);
  for (int c = 1; c <= 3; c += 2)
    {
      gint64 t0 = g_get_monotonic_time ();
      for (int i = 0; i < 5000; i++)
        cl_augment_view_color (img, c, 64, 64, &p, &rng, out);
      printf ("colour view %dx64x64: %.1f us\n", c, (g_get_monotonic_time () - t0) / 5000.0);
    }
  return 0;
}

/* ------------------------------------------------------------------ sample montages */

static void
write_ppm (const char *path, int w, int h, const uint8_t *rgb)
{
  FILE *f = fopen (path, "wb");
  g_assert_nonnull (f);
  fprintf (f, "P6\n%d %d\n255\n", w, h);
  fwrite (rgb, 3, (size_t) w * h, f);
  fclose (f);
}

/* cols x rows scenes (and, if with_mask, a mask row under each scene row), each magnified 3x. */
static void
dump_scenes (const char *dir, const char *name, const ClSceneParams *p, int cols, int rows, int with_mask, int views)
{
  ClScenes *s = scenes_new (p->kind, p->pool, p->big_size, p->tint, p->seed);
  int c, h, w;
  cl_scene_geometry (p, ds, &c, &h, &w);
  const int z = 3, pad = 2;
  int tile_rows = rows * (1 + with_mask + 2 * (views > 0));
  int W = cols * (w * z + pad), H = tile_rows * (h * z + pad);
  g_autofree uint8_t *img = g_malloc0 ((size_t) W * H * 3);
  g_autofree uint8_t *px = g_malloc ((size_t) c * h * w), *mask = g_malloc ((size_t) h * w);
  g_autofree float *view = g_malloc (sizeof (float) * c * h * w);
  static const uint8_t palette[5][3] = {
    { 0, 0, 0 }, { 230, 60, 60 }, { 60, 200, 60 }, { 70, 110, 240 }, { 240, 220, 50 }
  };
  ClAugParams aug = { 0.3f, 0.5f, (float) (views > 1 ? 1 : 0), 0.0f };
  ClRng rng;
  cl_rng_seed (&rng, 99, CL_STREAM_AUG);
  for (int r = 0; r < rows; r++)
    for (int col = 0; col < cols; col++)
      {
        uint8_t labels[CL_N_SCENE_TARGETS];
        cl_scenes_render (s, 0, r * cols + col, px, labels, mask);
        int n_panels = 1 + with_mask + 2 * (views > 0);
        for (int panel = 0; panel < n_panels; panel++)
          {
            if (panel >= 1 + with_mask)
              cl_augment_view_color (px, c, h, w, &aug, &rng, view);
            int oy = (r * n_panels + panel) * (h * z + pad), ox = col * (w * z + pad);
            for (int y = 0; y < h * z; y++)
              for (int x = 0; x < w * z; x++)
                {
                  int j = (y / z) * w + x / z;
                  uint8_t *o = img + ((size_t) (oy + y) * W + ox + x) * 3;
                  for (int ch = 0; ch < 3; ch++)
                    {
                      int cc = c == 3 ? ch : 0;
                      if (panel == 0)
                        o[ch] = px[cc * h * w + j];
                      else if (with_mask && panel == 1)
                        o[ch] = palette[MIN (mask[j], 4)][ch];
                      else
                        o[ch] = (uint8_t) lrintf (CLAMP (view[cc * h * w + j], 0.0f, 1.0f) * 255);
                    }
                }
          }
      }
  g_autofree char *path = g_strdup_printf ("%s/scene_%s.ppm", dir, name);
  write_ppm (path, W, H, img);
  cl_scenes_free (s);
}

static void
dump_glyphs (const char *dir)
{
  ClScenes *s = scenes_new (CL_SCENE_OVERLAY, 200, 28, 0, 5);
  const int z = 4, cell = CL_SCENE_GLYPH * z + 2, cols = 20, rows = 10;
  int W = cols * cell, H = rows * cell;
  g_autofree uint8_t *img = g_malloc0 ((size_t) W * H * 3);
  /* column = class (k mod 10), two columns per class */
  for (int k = 0; k < 200; k++)
    {
      int col = (k % 10) * 2 + (k / 10) % 2, row = k / 20;
      const uint8_t *g = cl_scenes_glyph (s, k);
      for (int y = 0; y < CL_SCENE_GLYPH * z; y++)
        for (int x = 0; x < CL_SCENE_GLYPH * z; x++)
          for (int ch = 0; ch < 3; ch++)
            img[((size_t) (row * cell + y) * W + col * cell + x) * 3 + ch] = g[(y / z) * CL_SCENE_GLYPH + x / z];
    }
  g_autofree char *path = g_strdup_printf ("%s/scene_glyphs.ppm", dir);
  write_ppm (path, W, H, img);
  cl_scenes_free (s);
}

static int
dump (const char *dir)
{
  ClSceneParams p;
  p = (ClSceneParams){ CL_SCENE_OVERLAY, 10, 28, 0, 5 };
  dump_scenes (dir, "overlay_pool10", &p, 8, 3, 1, 0);
  p.pool = 1000;
  dump_scenes (dir, "overlay_pool1000", &p, 8, 2, 0, 0);
  p = (ClSceneParams){ CL_SCENE_TWO_OBJECTS, 1, 20, 0, 5 };
  dump_scenes (dir, "two_objects_20", &p, 8, 2, 1, 0);
  p.big_size = 44;
  dump_scenes (dir, "two_objects_44", &p, 8, 2, 1, 0);
  p = (ClSceneParams){ CL_SCENE_MULTI_OBJECTS, 1, 28, 0, 5 };
  dump_scenes (dir, "multi_objects", &p, 8, 3, 1, 0);
  p.tint = 1;
  dump_scenes (dir, "multi_objects_tint", &p, 8, 2, 0, 0);
  p = (ClSceneParams){ CL_SCENE_OVERLAY, 10, 28, 1, 5 };
  dump_scenes (dir, "views_tint_jitter0", &p, 8, 2, 0, 1);
  dump_scenes (dir, "views_tint_jitter1", &p, 8, 2, 0, 2);
  p = (ClSceneParams){ CL_SCENE_RANDBITS, 1, 28, 1, 5 };
  dump_scenes (dir, "randbits_tint", &p, 8, 2, 0, 0);
  dump_glyphs (dir);
  return 0;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  g_autofree char *probe = g_build_filename (CL_FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz", NULL);
  gboolean have = g_file_test (probe, G_FILE_TEST_EXISTS) || g_getenv ("CONTRASTLAB_FASHION_MNIST_DIR");
  if (have)
    ds = cl_dataset_load ("fashion-mnist", "", &error);

  gboolean dumping = argc == 3 && strcmp (argv[1], "--dump") == 0;
  gboolean benching = argc == 2 && strcmp (argv[1], "--bench") == 0;
  if (dumping || benching)
    {
      if (!ds)
        {
          fprintf (stderr, "test_scenes: %s\n", error ? error->message : "Fashion-MNIST is missing");
          return 2;
        }
      int rc = dumping ? dump (argv[2]) : bench ();
      cl_dataset_free (ds);
      return rc;
    }

  g_test_init (&argc, &argv, NULL);
  if (!ds)
    {
      /* Every test needs the items: fail loudly rather than skip. */
      g_printerr ("test_scenes: %s (install dataset-fashion-mnist)\n",
                  error ? error->message : "Fashion-MNIST is missing");
      return 1;
    }
  g_test_add_func ("/scenes/params", test_params);
  g_test_add_func ("/scenes/geometry-targets", test_geometry_targets);
  g_test_add_func ("/scenes/determinism", test_determinism);
  g_test_add_func ("/scenes/labels", test_labels);
  g_test_add_func ("/scenes/randbits", test_randbits);
  g_test_add_func ("/scenes/overlay/composition", test_overlay_composition);
  g_test_add_func ("/scenes/overlay/pool", test_overlay_pool);
  g_test_add_func ("/scenes/overlay/variants", test_overlay_variants);
  g_test_add_func ("/scenes/two-objects/variants", test_object_variants);
  g_test_add_func ("/scenes/overlay/glyph-classes", test_glyph_classes);
  g_test_add_func ("/scenes/two-objects", test_two_objects);
  g_test_add_func ("/scenes/multi-objects", test_multi_objects);
  g_test_add_func ("/scenes/tint/render", test_tint_render);
  g_test_add_func ("/scenes/tint/views", test_tint_views);
  g_test_add_func ("/augment-color/grey-equal", test_color_grey_equal);
  g_test_add_func ("/augment-color/shared-geometry", test_color_shared_geometry);
  g_test_add_func ("/augment-color/jitter-factors", test_color_jitter_factors);
  g_test_add_func ("/augment-color/grey-stays-grey", test_color_grey_stays_grey);
  int rc = g_test_run ();
  cl_dataset_free (ds);
  return rc;
}
