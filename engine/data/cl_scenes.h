/* Constructed datasets with competing features (paper §2, §3), rendered on the fly from the
 * items of a ClDataset (Fashion-MNIST). A scene is a pure function of (params, split, index):
 * nothing is stored per image, so the trainer renders the scenes of each batch inside the step
 * and the probes render the same scenes again for their features and targets.
 *
 * Kinds (data.kind, same order as the parameter table's choices):
 *  - randbits:      the item itself (source size, 1 channel). Targets: class. Bit planes are
 *                   the trainer's business.
 *  - overlay:       DigitOnImageNet analogue, 56x56. Background: this item resized to 56x56
 *                   (bilinear, 2x for 28x28 items). A 12x12 glyph, drawn uniformly per image from
 *                   a pool of data.pool glyphs, is stamped on a 3x3 grid at offsets int(56 r),
 *                   r in {0.15, 0.45, 0.75}, combined by pixel-wise max. Glyph k is a variant
 *                   (jittered strokes, thickness, scale, shear) of one of 10 stroke prototypes,
 *                   prototype k mod 10, the way MNIST digits are variants of 10 classes; so the
 *                   10-way target `overlay` = k mod 10 is a recognisable shape class, while the
 *                   pool size sets how much instance information the glyph carries.
 *                   Targets: class (= background), background, overlay.
 *  - two-objects:   MultiDigits object-size analogue, 56x56 black. Large = this item resized to
 *                   data.big_size, small = another item of the same split resized to 14x14; both
 *                   cropped to their bounding boxes and placed without clipping, large first, small
 *                   on top. Each covers what is below where its pixel exceeds
 *                   CL_SCENE_ALPHA_THRESHOLD and is max-combined elsewhere (pure max-combining
 *                   would hide the small item on a brighter large one). The small item's position
 *                   is the least-overlapping of 8 uniform candidates: the experiment is about
 *                   suppression in the representation, not occlusion.
 *                   Targets: class (= large), small, large.
 *  - multi-objects: 64x64, a procedural background texture (smooth noise, stripes, gradient or
 *                   checker, random mean and contrast, plus grain) and 2..4 items, each resized to
 *                   16..32 px, scaled in brightness by 0.35..1 and pasted where its resized pixel
 *                   exceeds CL_SCENE_ALPHA_THRESHOLD, largest first (each at the least-overlapping
 *                   of 8 candidate positions). Item 0, the largest, is this index's item.
 *                   Targets: class (= the largest item's class = this item's class).
 *  - tint (any kind, data.tint = 1): the image becomes RGB: hue from 8 equal buckets (bucket
 *    b covers hues [b/8, (b+1)/8); the drawn hue stays 0.15 bucket away from the edges),
 *    saturation in [0.5, 1], RGB = HSV(hue, sat, V = grey). Extra target: tint (= bucket).
 *    The tint is drawn on a stream of its own, so switching it on changes nothing else.
 *
 * Determinism: every draw comes from CL_STREAM_DATA generators keyed by (seed, split, index), one
 * per purpose (layout, texture, tint), and glyph k depends only on (seed, k): a pool of P glyphs
 * is the prefix of any larger pool. Other items used by a scene come from the same split, so test
 * scenes are built from test items only. */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "engine/data/cl_data.h"

typedef enum
{
  CL_SCENE_RANDBITS = 0,
  CL_SCENE_OVERLAY,
  CL_SCENE_TWO_OBJECTS,
  CL_SCENE_MULTI_OBJECTS,
  CL_N_SCENE_KINDS
} ClSceneKind;

/* "randbits", "overlay", "two-objects", "multi-objects", NULL: the data.kind spellings. */
extern const char *const cl_scene_kind_names[CL_N_SCENE_KINDS + 1];

/* data.overlay_layout (same order as the parameter table's choices):
 *  - glyphs-3x3: the stroke glyph stamped 9 times on the 3x3 grid (the paper's construction).
 *  - code-tiled: a binary code tiled over the whole canvas, so that every crop carries several
 *    intact copies, at full contrast: a near-perfect instance identifier after augmentation (at
 *    aug.flip = 0), the way the random bits are. The pool's "glyph" k is then one 12x12 tile: a
 *    1-px white frame line (top row and left column, so the tiles form a lattice and the code's
 *    place in its tile is unambiguous) and a 4x4 code of 2x2-px cells at (2, 2). Code row 0 is one
 *    of 10 fixed 4-bit patterns, the class k % 10 (the `overlay` target); rows 1-3 are a 12-bit
 *    bijective mix of k / 10 keyed by the seed, so the codes of a pool are distinct. */
typedef enum
{
  CL_OVERLAY_GLYPHS_3X3 = 0,
  CL_OVERLAY_CODE_TILED,
  CL_N_OVERLAY_LAYOUTS
} ClOverlayLayout;

typedef struct
{
  int kind;     /* ClSceneKind */
  int pool;     /* overlay: number of glyphs, 1..CL_SCENE_MAX_POOL (ignored by other kinds) */
  int big_size; /* two-objects: side of the large item in px, CL_SCENE_MIN_BIG..CL_SCENE_MAX_BIG */
  int tint;     /* 0 or 1 */
  uint64_t seed;
  int overlay_layout; /* overlay: ClOverlayLayout (0, the 3x3 glyphs, when zero-initialised) */
} ClSceneParams;

#define CL_SCENE_MAX_POOL 4096
#define CL_SCENE_MIN_BIG 14
#define CL_SCENE_MAX_BIG 56
#define CL_SCENE_GLYPH 12                               /* glyph side in px */
#define CL_SCENE_GLYPH_CLASSES 10                       /* prototypes: the overlay target's classes */
#define CL_SCENE_CODE_CELL 2                            /* code-tiled: side of a code cell in px */
#define CL_SCENE_CODE_TILE (4 + 4 * CL_SCENE_CODE_CELL) /* code-tiled: tile side in px */
#define CL_SCENE_SMALL 14                               /* two-objects: small item side */
#define CL_SCENE_TINT_BUCKETS 8
#define CL_SCENE_ALPHA_THRESHOLD 32 /* a resized item pixel above this is part of the object */
#define CL_SCENE_MAX_ITEMS 4
#define CL_SCENE_MAX_SIDE 64  /* no canvas of a non-randbits kind is larger */
#define CL_SCENE_NO_LABEL 255 /* label of a target the kind does not have */

typedef enum
{
  CL_TARGET_CLASS,
  CL_TARGET_BACKGROUND,
  CL_TARGET_OVERLAY,
  CL_TARGET_SMALL,
  CL_TARGET_LARGE,
  CL_TARGET_TINT,
  CL_N_SCENE_TARGETS
} ClSceneTarget;

/* probes.csv spelling: "class", "background", "overlay", "small", "large", "tint". */
const char *cl_scene_target_name (ClSceneTarget target);

/* Checks params (kind, pool, overlay_layout, big_size, tint; big_size only for two-objects, pool only for overlay).
 * Errors name the key (data.kind, data.pool, data.big_size, data.tint) and the expected range;
 * domain CL_DATA_ERROR, code CL_DATA_ERROR_CORRUPT. */
gboolean cl_scene_params_check (const ClSceneParams *params, GError **error);

/* Image shape of the kind: randbits keeps the dataset's item size; the others have fixed canvases
 * (56, 56, 64). channels is 3 with tint, else 1. */
void cl_scene_geometry (const ClSceneParams *params, const ClDataset *ds, int *channels, int *height, int *width);

/* The targets this kind has, in ClSceneTarget order (class always first), with the number of
 * classes of each (overlay: min(pool, 10); tint: 8; the others: ds->n_classes).
 * Returns how many were written; both arrays need CL_N_SCENE_TARGETS entries. */
int cl_scene_targets (const ClSceneParams *params, const ClDataset *ds, ClSceneTarget *targets, int *n_classes);

/* Holds params, a borrowed pointer to ds (which must outlive it) and the tables rendering needs
 * (glyph pool, a cosine table). Immutable after creation, so any number of threads may render
 * at once. Building a pool of 1000 glyphs takes about 10 ms; the other kinds build nothing. */
typedef struct _ClScenes ClScenes;

/* Fails on bad params (the cl_scene_params_check message) or a dataset split with no images.
 * Error domain CL_DATA_ERROR, code CL_DATA_ERROR_CORRUPT (cl_params' domain is left out so that
 * this module links without the parameter table). */
ClScenes *cl_scenes_new (const ClSceneParams *params, const ClDataset *ds, GError **error);
void cl_scenes_free (ClScenes *scenes);
const ClSceneParams *cl_scenes_params (const ClScenes *scenes);

/* What one scene is made of; cl_scenes_render draws exactly this. */
typedef struct
{
  int source;       /* index of the item in the scene's split */
  int label;        /* its class */
  int x, y;         /* canvas position of the top-left of the item's resized square (may be
                     * negative: the square is cropped to the item's bounding box, and only the
                     * bounding box is kept inside the canvas) */
  int size;         /* side of the resized square */
  float brightness; /* multi-objects: multiplier of the item's pixels; 1 otherwise */
} ClSceneItem;

typedef enum
{
  CL_TEXTURE_NONE = -1,
  CL_TEXTURE_NOISE = 0, /* smooth value noise */
  CL_TEXTURE_STRIPES,
  CL_TEXTURE_GRADIENT,
  CL_TEXTURE_CHECKER,
  CL_N_TEXTURES
} ClSceneTexture;

typedef struct
{
  int n_items; /* items in paste order; instance k+1 of the mask is items[k] */
  ClSceneItem items[CL_SCENE_MAX_ITEMS];
  int pattern;     /* overlay: pool index of the glyph (its instance id is 2); else -1 */
  int texture;     /* multi-objects: ClSceneTexture; else CL_TEXTURE_NONE */
  int tint_bucket; /* -1 without tint */
  float hue, saturation;
} ClSceneLayout;

/* Items: randbits 1 (the item), overlay 1 (the background item; the glyph is instance 2),
 * two-objects 2 (large, small), multi-objects 2..4 (largest first). No allocation. */
void cl_scenes_layout (const ClScenes *scenes, int split, int index, ClSceneLayout *layout);

/* Renders scene (split 0 train / 1 test, index < that split's n).
 * pixels: channels*height*width bytes, planar (R, G, B planes with tint).
 * labels (may be NULL): CL_N_SCENE_TARGETS entries; targets the kind lacks get CL_SCENE_NO_LABEL.
 * instance_mask (may be NULL): height*width bytes, 0 background, k+1 where item k's pixels are
 *   visible (overlay: 1 where the background item is above the threshold, 2 where the glyph wins
 *   the max and is above it; two-objects and multi-objects: where the item was pasted (above
 *   the threshold) and not covered later; randbits: 1 above the threshold).
 * No allocation; about 1 us (randbits) to 40 us (multi-objects) per scene (test_scenes --bench). */
void cl_scenes_render (const ClScenes *scenes, int split, int index, uint8_t *pixels,
                       uint8_t labels[CL_N_SCENE_TARGETS], uint8_t *instance_mask);

/* Control images for the suppression experiments: the same scene with the competing feature
 * removed or made uninformative, so that a probe can tell suppression (the encoder did not learn
 * the feature) from occlusion (the feature is hidden in the probe image).
 *  - CL_SCENE_AS_DRAWN: what cl_scenes_render draws.
 *  - CL_SCENE_CLEAN: overlay without its glyphs (the background item alone; no overlay label);
 *    two-objects without the large item (the small item alone, where it was; no large label).
 *  - CL_SCENE_FIXED_OVERLAY: overlay with glyph 0 of the pool on every image (the same occlusion
 *    pattern everywhere, carrying no instance information).
 * Kinds without the removed part render as drawn. Same layout, labels and mask conventions as
 * cl_scenes_render; no allocation. */
typedef enum
{
  CL_SCENE_AS_DRAWN = 0,
  CL_SCENE_CLEAN,
  CL_SCENE_FIXED_OVERLAY,
  CL_N_SCENE_VARIANTS
} ClSceneVariant;

void cl_scenes_render_variant (const ClScenes *scenes, int split, int index, ClSceneVariant variant, uint8_t *pixels,
                               uint8_t labels[CL_N_SCENE_TARGETS], uint8_t *instance_mask);

/* data.bg_per_view: the scene as drawn, but for multi-objects with a background texture drawn from
 * a stream keyed by bg_key instead of (split, index), so the same items sit in the same places
 * (identical pixels wherever the instance mask is non-zero) on a different background. Other
 * kinds render exactly as drawn. The layout's texture field still names the scene's own texture. */
void cl_scenes_render_background (const ClScenes *scenes, int split, int index, uint64_t bg_key, uint8_t *pixels);

/* Glyph k of the pool (side^2 bytes, white on black, side = cl_scenes_glyph_side: CL_SCENE_GLYPH,
 * or CL_SCENE_CODE_TILE for a code-tiled overlay's tile), for tests and for showing the pool. */
const uint8_t *cl_scenes_glyph (const ClScenes *scenes, int k);
int cl_scenes_glyph_side (const ClScenes *scenes);
