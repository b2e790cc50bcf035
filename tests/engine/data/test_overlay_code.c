/* data.overlay_layout = code-tiled: the overlay as a binary code tiled over the whole canvas
 * (cl_scenes.h, ClOverlayLayout). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "engine/data/cl_data.h"
#include "engine/data/cl_scenes.h"

#define SIDE 56
#define T CL_SCENE_CODE_TILE
#define CELL CL_SCENE_CODE_CELL

static ClDataset *ds;

static ClScenes *
code_scenes (int pool, uint64_t seed)
{
  ClSceneParams p = {
    .kind = CL_SCENE_OVERLAY, .pool = pool, .big_size = 28, .seed = seed, .overlay_layout = CL_OVERLAY_CODE_TILED
  };
  GError *error = NULL;
  ClScenes *s = cl_scenes_new (&p, ds, &error);
  g_assert_no_error (error);
  return s;
}

/* The 4x4 code of a tile, read from each CELL x CELL cell (bit r*4+c), which must be all on or all off. */
static uint32_t
tile_code (const uint8_t *tile)
{
  uint32_t code = 0;
  for (int bit = 0; bit < 16; bit++)
    {
      int y = 2 + CELL * (bit / 4), x = 2 + CELL * (bit % 4);
      uint8_t v = tile[y * T + x];
      g_assert_true (v == 0 || v == 255);
      for (int dy = 0; dy < CELL; dy++)
        for (int dx = 0; dx < CELL; dx++)
          g_assert_cmpuint (tile[(y + dy) * T + x + dx], ==, v);
      if (v)
        code |= 1u << bit;
    }
  return code;
}

/* Every tile of a 4096 pool: the frame, binary cells, a distinct code; code row 0 is shared by the
 * tiles of one class (k % 10) and differs between classes; a smaller pool is a prefix. */
static void
test_codes (void)
{
  ClScenes *big = code_scenes (CL_SCENE_MAX_POOL, 3), *small = code_scenes (10, 3), *other = code_scenes (10, 4);
  GHashTable *seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  uint32_t class_row[CL_SCENE_GLYPH_CLASSES];
  for (int k = 0; k < CL_SCENE_MAX_POOL; k++)
    {
      const uint8_t *tile = cl_scenes_glyph (big, k);
      if (k == 0)
        g_assert_cmpint (cl_scenes_glyph_side (big), ==, T);
      for (int i = 0; i < T; i++)
        {
          g_assert_cmpuint (tile[i], ==, 255);
          g_assert_cmpuint (tile[i * T], ==, 255);
        }
      /* Outside the frame and the code: dark. */
      for (int y = 1; y < T; y++)
        for (int x = 1; x < T; x++)
          if (y < 2 || y >= 2 + 4 * CELL || x < 2 || x >= 2 + 4 * CELL)
            g_assert_cmpuint (tile[y * T + x], ==, 0);
      uint32_t code = tile_code (tile);
      g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (code + 1)));
      g_hash_table_add (seen, GUINT_TO_POINTER (code + 1));
      int c = k % CL_SCENE_GLYPH_CLASSES;
      if (k < CL_SCENE_GLYPH_CLASSES)
        {
          class_row[c] = code & 0xfu;
          g_assert_cmpuint (class_row[c], !=, 0);
          for (int j = 0; j < c; j++)
            g_assert_cmpuint (class_row[j], !=, class_row[c]);
          g_assert_cmpmem (cl_scenes_glyph (small, k), T * T, tile, T * T);
        }
      else
        g_assert_cmpuint (code & 0xfu, ==, class_row[c]);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, CL_SCENE_MAX_POOL);
  /* The seed changes the instance rows, not the class rows. */
  int differ = 0;
  for (int k = 0; k < CL_SCENE_GLYPH_CLASSES; k++)
    g_assert_cmpuint (tile_code (cl_scenes_glyph (small, k)) & 0xfu, ==, tile_code (cl_scenes_glyph (other, k)) & 0xfu);
  ClScenes *big_other = code_scenes (CL_SCENE_MAX_POOL, 4);
  for (int k = 0; k < 100; k++)
    {
      uint32_t a = tile_code (cl_scenes_glyph (big, k)), b = tile_code (cl_scenes_glyph (big_other, k));
      g_assert_cmpuint (a & 0xfu, ==, b & 0xfu);
      differ += a != b;
    }
  g_assert_cmpint (differ, >, 50);
  g_hash_table_destroy (seen);
  cl_scenes_free (big);
  cl_scenes_free (big_other);
  cl_scenes_free (small);
  cl_scenes_free (other);
}

/* A rendered scene is the clean image max-combined with the scene's tile repeated from the
 * origin: every pixel, with the mask 2 wherever the code is white. The fixed-overlay control uses
 * tile 0; the clean control has no code. The labels are the background's class and k % 10. */
static void
test_render (void)
{
  ClScenes *s = code_scenes (256, 5);
  uint8_t img[SIDE * SIDE], clean[SIDE * SIDE], fixed[SIDE * SIDE], mask[SIDE * SIDE];
  uint8_t labels[CL_N_SCENE_TARGETS], clean_labels[CL_N_SCENE_TARGETS];
  int patterns_seen = 0;
  uint8_t seen[256] = { 0 };
  for (int split = 0; split < 2; split++)
    for (int i = 0; i < 40; i++)
      {
        ClSceneLayout L;
        cl_scenes_layout (s, split, i, &L);
        g_assert_cmpint (L.pattern, >=, 0);
        g_assert_cmpint (L.pattern, <, 256);
        patterns_seen += !seen[L.pattern];
        seen[L.pattern] = 1;
        cl_scenes_render (s, split, i, img, labels, mask);
        cl_scenes_render_variant (s, split, i, CL_SCENE_CLEAN, clean, clean_labels, NULL);
        cl_scenes_render_variant (s, split, i, CL_SCENE_FIXED_OVERLAY, fixed, NULL, NULL);
        const uint8_t *tile = cl_scenes_glyph (s, L.pattern), *tile0 = cl_scenes_glyph (s, 0);
        int white = 0;
        for (int y = 0; y < SIDE; y++)
          for (int x = 0; x < SIDE; x++)
            {
              int o = y * SIDE + x;
              uint8_t v = tile[(y % T) * T + x % T], v0 = tile0[(y % T) * T + x % T];
              g_assert_cmpuint (img[o], ==, MAX (v, clean[o]));
              g_assert_cmpuint (fixed[o], ==, MAX (v0, clean[o]));
              if (v == 255)
                {
                  g_assert_cmpuint (mask[o], ==, 2);
                  white++;
                }
              else
                g_assert_cmpuint (mask[o], ==, clean[o] > CL_SCENE_ALPHA_THRESHOLD);
            }
        /* The frame alone whitens 2T - 1 of every T^2 pixels. */
        g_assert_cmpint (white, >=, SIDE * SIDE * (2 * T - 1) / (T * T) - SIDE);
        g_assert_cmpuint (labels[CL_TARGET_CLASS], ==, clean_labels[CL_TARGET_CLASS]);
        g_assert_cmpuint (labels[CL_TARGET_BACKGROUND], ==, clean_labels[CL_TARGET_BACKGROUND]);
        g_assert_cmpuint (labels[CL_TARGET_OVERLAY], ==, L.pattern % CL_SCENE_GLYPH_CLASSES);
        g_assert_cmpuint (clean_labels[CL_TARGET_OVERLAY], ==, CL_SCENE_NO_LABEL);
      }
  g_assert_cmpint (patterns_seen, >, 40);
  cl_scenes_free (s);
}

/* Every crop of at least half the canvas (the presets' aug.crop_min_area = 0.5, aspect ratio up
 * to 4/3) contains at least 4 whole tiles: "several intact copies". Counted, for every crop
 * origin and size, on the tile lattice. */
static void
test_intact_copies (void)
{
  int fewest = 1 << 30;
  for (int ch = 1; ch <= SIDE; ch++)
    for (int cw = 1; cw <= SIDE; cw++)
      {
        double area = (double) ch * cw / (SIDE * SIDE), ratio = (double) cw / ch;
        if (area < 0.5 || ratio < 0.75 || ratio > 4.0 / 3.0)
          continue;
        for (int y0 = 0; y0 + ch <= SIDE; y0++)
          for (int x0 = 0; x0 + cw <= SIDE; x0++)
            {
              /* Whole tiles [tT, tT + T) inside [y0, y0 + ch) (one cut by the canvas edge is not
               * whole). */
              int ny = 0, nx = 0;
              for (int t = 0; (t + 1) * T <= SIDE; t++)
                {
                  ny += t * T >= y0 && (t + 1) * T <= y0 + ch;
                  nx += t * T >= x0 && (t + 1) * T <= x0 + cw;
                }
              fewest = MIN (fewest, ny * nx);
            }
      }
  g_test_message ("fewest whole tiles in a crop of >= half the canvas: %d", fewest);
  g_assert_cmpint (fewest, >=, 4);
}

/* A bad layout index is rejected with the key's name; kinds other than overlay ignore it. */
static void
test_check (void)
{
  ClSceneParams bad = { .kind = CL_SCENE_OVERLAY, .pool = 4, .big_size = 28, .seed = 1, .overlay_layout = 2 };
  GError *error = NULL;
  g_assert_false (cl_scene_params_check (&bad, &error));
  g_assert_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT);
  g_assert_true (g_str_has_prefix (error->message, "data.overlay_layout"));
  g_clear_error (&error);
  bad.overlay_layout = -1;
  g_assert_null (cl_scenes_new (&bad, ds, &error));
  g_assert_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT);
  g_clear_error (&error);
  bad.kind = CL_SCENE_MULTI_OBJECTS;
  g_assert_true (cl_scene_params_check (&bad, NULL));
}

/* The 3x3 glyphs stay the zero value's layout: a code-tiled scene differs from it, the clean
 * control does not. */
static void
test_glyphs_default (void)
{
  ClSceneParams p = { .kind = CL_SCENE_OVERLAY, .pool = 16, .big_size = 28, .seed = 2 };
  ClScenes *glyphs = cl_scenes_new (&p, ds, NULL), *code = code_scenes (16, 2);
  g_assert_cmpint (cl_scenes_glyph_side (glyphs), ==, CL_SCENE_GLYPH);
  uint8_t a[SIDE * SIDE], b[SIDE * SIDE];
  cl_scenes_render_variant (glyphs, 1, 7, CL_SCENE_CLEAN, a, NULL, NULL);
  cl_scenes_render_variant (code, 1, 7, CL_SCENE_CLEAN, b, NULL, NULL);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  cl_scenes_render (glyphs, 1, 7, a, NULL, NULL);
  cl_scenes_render (code, 1, 7, b, NULL, NULL);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  /* The glyph layout leaves the canvas's top-left corner alone (its first copy starts at 8 px). */
  cl_scenes_render_variant (glyphs, 1, 7, CL_SCENE_CLEAN, b, NULL, NULL);
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++)
      g_assert_cmpuint (a[y * SIDE + x], ==, b[y * SIDE + x]);
  cl_scenes_free (glyphs);
  cl_scenes_free (code);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  GError *error = NULL;
  ds = cl_dataset_load ("fashion-mnist", "", &error);
  if (!ds)
    {
      /* Every test needs the items: fail loudly rather than skip. */
      g_printerr ("test_overlay_code: %s (install dataset-fashion-mnist)\n",
                  error ? error->message : "Fashion-MNIST is missing");
      return 1;
    }
  g_test_add_func ("/scenes/overlay-code/codes", test_codes);
  g_test_add_func ("/scenes/overlay-code/render", test_render);
  g_test_add_func ("/scenes/overlay-code/intact-copies", test_intact_copies);
  g_test_add_func ("/scenes/overlay-code/check", test_check);
  g_test_add_func ("/scenes/overlay-code/glyphs-default", test_glyphs_default);
  int rc = g_test_run ();
  cl_dataset_free (ds);
  return rc;
}
