/* Constructed scenes rendered from Fashion-MNIST: parameters, geometry targets, determinism, labels,
 * randbits, two-objects and multi-objects. The overlay, tint and colour augmentation have their own
 * files (test_scenes_overlay.c, test_scenes_tint.c, test_augment_color.c).
 *
 * Expected values come from independent re-implementations (scenes_test_util.c: a double-precision
 * bilinear resize, an RGB->HSV conversion, the documented draw layout) or from the source items,
 * never from the code under test. `test_scenes --dump DIR` writes sample montages as PPM files
 * instead of running the tests; `test_scenes --bench` prints rendering and augmentation times. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/engine/data/scenes_test_util.h"

/* ------------------------------------------------------------------ parameters and shapes */

static void
test_params (void)
{
  static const struct
  {
    ClSceneParams p;
    const char *key;
  } bad[] = {
    { { -1, 10, 28, 0, 1, 0 }, "data.kind" },
    { { CL_N_SCENE_KINDS, 10, 28, 0, 1, 0 }, "data.kind" },
    { { CL_SCENE_OVERLAY, 0, 28, 0, 1, 0 }, "data.pool" },
    { { CL_SCENE_OVERLAY, CL_SCENE_MAX_POOL + 1, 28, 0, 1, 0 }, "data.pool" },
    { { CL_SCENE_TWO_OBJECTS, 10, 13, 0, 1, 0 }, "data.big_size" },
    { { CL_SCENE_TWO_OBJECTS, 10, 57, 0, 1, 0 }, "data.big_size" },
    { { CL_SCENE_RANDBITS, 10, 28, 2, 1, 0 }, "data.tint" },
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
  ClSceneParams ok = { CL_SCENE_RANDBITS, 0, 0, 0, 1, 0 };
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
        ClSceneParams p = { expect[i].kind, 4, 28, tint, 9, 0 };
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
  ClSceneParams big_pool = { CL_SCENE_OVERLAY, 1000, 28, 0, 9, 0 };
  ClSceneTarget targets[CL_N_SCENE_TARGETS];
  int classes[CL_N_SCENE_TARGETS];
  g_assert_cmpint (cl_scene_targets (&big_pool, ds, targets, classes), ==, 3);
  g_assert_cmpint (classes[2], ==, 10);
}

/* ------------------------------------------------------------------ all kinds */

static const ClSceneParams all_kinds[] = {
  { CL_SCENE_RANDBITS, 10, 28, 0, 5, 0 },    { CL_SCENE_OVERLAY, 10, 28, 0, 5, 0 },
  { CL_SCENE_OVERLAY, 1000, 28, 0, 5, 0 },   { CL_SCENE_TWO_OBJECTS, 10, 20, 0, 5, 0 },
  { CL_SCENE_TWO_OBJECTS, 10, 56, 0, 5, 0 }, { CL_SCENE_MULTI_OBJECTS, 10, 28, 0, 5, 0 },
  { CL_SCENE_RANDBITS, 10, 28, 1, 5, 0 },    { CL_SCENE_OVERLAY, 100, 28, 1, 5, 0 },
  { CL_SCENE_TWO_OBJECTS, 10, 40, 1, 5, 0 }, { CL_SCENE_MULTI_OBJECTS, 10, 28, 1, 5, 0 },
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

static int
bench (void)
{
  static const ClSceneParams kinds[] = {
    { CL_SCENE_RANDBITS, 1, 28, 0, 1, 0 },      { CL_SCENE_OVERLAY, 1000, 28, 0, 1, 0 },
    { CL_SCENE_TWO_OBJECTS, 1, 40, 0, 1, 0 },   { CL_SCENE_MULTI_OBJECTS, 1, 28, 0, 1, 0 },
    { CL_SCENE_MULTI_OBJECTS, 1, 28, 1, 1, 0 },
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
  ClAugParams p = { 0.2f, 0.5f, 1.0f, 0.05f, 0.0f };
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
  ClAugParams aug = { 0.3f, 0.5f, (float) (views > 1 ? 1 : 0), 0.0f, 0.0f };
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
  p = (ClSceneParams){ CL_SCENE_OVERLAY, 10, 28, 0, 5, 0 };
  dump_scenes (dir, "overlay_pool10", &p, 8, 3, 1, 0);
  p.pool = 1000;
  dump_scenes (dir, "overlay_pool1000", &p, 8, 2, 0, 0);
  p = (ClSceneParams){ CL_SCENE_TWO_OBJECTS, 1, 20, 0, 5, 0 };
  dump_scenes (dir, "two_objects_20", &p, 8, 2, 1, 0);
  p.big_size = 44;
  dump_scenes (dir, "two_objects_44", &p, 8, 2, 1, 0);
  p = (ClSceneParams){ CL_SCENE_MULTI_OBJECTS, 1, 28, 0, 5, 0 };
  dump_scenes (dir, "multi_objects", &p, 8, 3, 1, 0);
  p.tint = 1;
  dump_scenes (dir, "multi_objects_tint", &p, 8, 2, 0, 0);
  p = (ClSceneParams){ CL_SCENE_OVERLAY, 10, 28, 1, 5, 0 };
  dump_scenes (dir, "views_tint_jitter0", &p, 8, 2, 0, 1);
  dump_scenes (dir, "views_tint_jitter1", &p, 8, 2, 0, 2);
  p = (ClSceneParams){ CL_SCENE_RANDBITS, 1, 28, 1, 5, 0 };
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
  g_test_add_func ("/scenes/two-objects/variants", test_object_variants);
  g_test_add_func ("/scenes/two-objects", test_two_objects);
  g_test_add_func ("/scenes/multi-objects", test_multi_objects);
  int rc = g_test_run ();
  cl_dataset_free (ds);
  return rc;
}
