/* The overlay scene: an item upscaled with a 3x3 grid of glyph stamps from a pool (composition,
 * pool, control variants, glyph classes). Expected values come from the source items resized
 * independently and from the documented stamp layout, never from the code under test. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/engine/data/scenes_test_util.h"

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

int
main (int argc, char **argv)
{
  if (scenes_test_init (&argc, &argv, "test_scenes_overlay") != 0)
    return 1;
  g_test_add_func ("/scenes/overlay/composition", test_overlay_composition);
  g_test_add_func ("/scenes/overlay/pool", test_overlay_pool);
  g_test_add_func ("/scenes/overlay/variants", test_overlay_variants);
  g_test_add_func ("/scenes/overlay/glyph-classes", test_glyph_classes);
  int rc = g_test_run ();
  cl_dataset_free (ds);
  return rc;
}
