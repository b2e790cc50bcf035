/* Tinted scenes: the tint bucket is the hue of the summed colour, V is the untinted image, and
 * the two views of a tinted image. Hue and saturation come from an independent RGB->HSV. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/engine/data/scenes_test_util.h"

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
      ClAugParams aug = { 0.2f, 0.5f, (float) strength, 0.0f, 0.0f };
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

int
main (int argc, char **argv)
{
  if (scenes_test_init (&argc, &argv, "test_scenes_tint") != 0)
    return 1;
  g_test_add_func ("/scenes/tint/render", test_tint_render);
  g_test_add_func ("/scenes/tint/views", test_tint_views);
  int rc = g_test_run ();
  cl_dataset_free (ds);
  return rc;
}
