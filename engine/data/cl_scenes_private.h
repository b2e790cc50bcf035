/* Internal to engine/data: what the scene renderer (cl_scenes.c) and the overlay's glyph generator
 * (cl_scene_glyphs.c) share. */
#pragma once
#include <stdint.h>

/* Sub-streams of CL_STREAM_DATA: one per purpose, so that, say, switching the tint on leaves
 * every layout as it was. */
enum
{
  PURPOSE_LAYOUT = 1,
  PURPOSE_TEXTURE,
  PURPOSE_TINT,
  PURPOSE_PROTOTYPE,
  PURPOSE_GLYPH,
  PURPOSE_CODE
};

/* The overlay's pool glyphs for seed: CL_SCENE_GLYPH_CLASSES stroke prototypes on a 4x4 lattice,
 * glyph k a jittered, sheared rendering of prototype k % CL_SCENE_GLYPH_CLASSES, into
 * out [pool][CL_SCENE_GLYPH][CL_SCENE_GLYPH]. */
void cl_scene_glyphs_render (uint64_t seed, int pool, uint8_t *out);

/* The code-tiled overlay's pool tiles for seed (see ClOverlayLayout in cl_scenes.h), tile k into
 * out [pool][CL_SCENE_CODE_TILE][CL_SCENE_CODE_TILE]; tile k depends on (seed, k) only. */
void cl_scene_codes_render (uint64_t seed, int pool, uint8_t *out);
