#include "engine/data/cl_scenes.h"

#include <math.h>
#include <string.h>

#include "engine/base/cl_rng.h"
#include "engine/data/cl_scenes_private.h"

const char *const cl_scene_kind_names[CL_N_SCENE_KINDS + 1] = {
  "randbits", "overlay", "two-objects", "multi-objects", NULL,
};

static const char *const target_names[CL_N_SCENE_TARGETS] = {
  "class", "background", "overlay", "small", "large", "tint",
};

const char *
cl_scene_target_name (ClSceneTarget target)
{
  return (int) target >= 0 && target < CL_N_SCENE_TARGETS ? target_names[target] : "unknown";
}

#define OVERLAY_SIDE 56
#define TWO_SIDE 56
#define MULTI_SIDE 64
#define MULTI_MIN_ITEM 16
#define MULTI_MAX_ITEM 32
#define PLACE_CANDIDATES 8
#define COS_TABLE 1024
#define MAX_SOURCE_SIDE 1024 /* items are resized through a row buffer of this many floats */

_Static_assert(OVERLAY_SIDE <= CL_SCENE_MAX_SIDE && TWO_SIDE <= CL_SCENE_MAX_SIDE && MULTI_SIDE <= CL_SCENE_MAX_SIDE &&
                   CL_SCENE_MAX_BIG <= TWO_SIDE,
               "scratch buffers are CL_SCENE_MAX_SIDE square");

struct _ClScenes
{
  ClSceneParams p;
  const ClDataset *ds;
  int channels, height, width;
  int pool;        /* glyphs built (overlay only) */
  int glyph_side;  /* CL_SCENE_GLYPH, or CL_SCENE_CODE_TILE with code-tiled */
  uint8_t *glyphs; /* pool * glyph_side^2 */
  float cos_table[COS_TABLE];
};

/* ------------------------------------------------------------------ parameters, shape, targets */

gboolean
cl_scene_params_check (const ClSceneParams *p, GError **error)
{
  if (p->kind < 0 || p->kind >= CL_N_SCENE_KINDS)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "data.kind: expected randbits, overlay, two-objects or multi-objects (got index %d)", p->kind);
      return FALSE;
    }
  if (p->kind == CL_SCENE_OVERLAY && (p->pool < 1 || p->pool > CL_SCENE_MAX_POOL))
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "data.pool: expected an integer in [1, %d], got %d",
                   CL_SCENE_MAX_POOL, p->pool);
      return FALSE;
    }
  if (p->kind == CL_SCENE_OVERLAY && (p->overlay_layout < 0 || p->overlay_layout >= CL_N_OVERLAY_LAYOUTS))
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "data.overlay_layout: expected glyphs-3x3 or code-tiled (got index %d)", p->overlay_layout);
      return FALSE;
    }
  if (p->kind == CL_SCENE_TWO_OBJECTS && (p->big_size < CL_SCENE_MIN_BIG || p->big_size > CL_SCENE_MAX_BIG))
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "data.big_size: expected an integer in [%d, %d] px, got %d", CL_SCENE_MIN_BIG, CL_SCENE_MAX_BIG,
                   p->big_size);
      return FALSE;
    }
  if (p->tint != 0 && p->tint != 1)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "data.tint: expected 0 or 1, got %d", p->tint);
      return FALSE;
    }
  return TRUE;
}

void
cl_scene_geometry (const ClSceneParams *p, const ClDataset *ds, int *channels, int *height, int *width)
{
  int side = p->kind == CL_SCENE_OVERLAY ? OVERLAY_SIDE : p->kind == CL_SCENE_TWO_OBJECTS ? TWO_SIDE : MULTI_SIDE;
  *channels = p->tint ? 3 : 1;
  *height = p->kind == CL_SCENE_RANDBITS ? ds->train.height : side;
  *width = p->kind == CL_SCENE_RANDBITS ? ds->train.width : side;
}

int
cl_scene_targets (const ClSceneParams *p, const ClDataset *ds, ClSceneTarget *targets, int *n_classes)
{
  int n = 0;
  targets[n] = CL_TARGET_CLASS;
  n_classes[n++] = ds->n_classes;
  if (p->kind == CL_SCENE_OVERLAY)
    {
      targets[n] = CL_TARGET_BACKGROUND;
      n_classes[n++] = ds->n_classes;
      targets[n] = CL_TARGET_OVERLAY;
      n_classes[n++] = MIN (p->pool, CL_SCENE_GLYPH_CLASSES);
    }
  if (p->kind == CL_SCENE_TWO_OBJECTS)
    {
      targets[n] = CL_TARGET_SMALL;
      n_classes[n++] = ds->n_classes;
      targets[n] = CL_TARGET_LARGE;
      n_classes[n++] = ds->n_classes;
    }
  if (p->tint)
    {
      targets[n] = CL_TARGET_TINT;
      n_classes[n++] = CL_SCENE_TINT_BUCKETS;
    }
  return n;
}

/* ------------------------------------------------------------------ object lifetime */

ClScenes *
cl_scenes_new (const ClSceneParams *params, const ClDataset *ds, GError **error)
{
  if (!cl_scene_params_check (params, error))
    return NULL;
  if (ds->train.n < 1 || ds->test.n < 1 || ds->train.height < 1 || ds->train.width < 1)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: scenes need images in both the train and the test split", ds->name ? ds->name : "dataset");
      return NULL;
    }
  if (ds->train.width > MAX_SOURCE_SIDE || ds->train.height > MAX_SOURCE_SIDE)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: scenes need items of at most %d x %d px, got %d x %d", ds->name ? ds->name : "dataset",
                   MAX_SOURCE_SIDE, MAX_SOURCE_SIDE, ds->train.height, ds->train.width);
      return NULL;
    }
  ClScenes *s = g_new0 (ClScenes, 1);
  s->p = *params;
  s->ds = ds;
  cl_scene_geometry (params, ds, &s->channels, &s->height, &s->width);
  for (int i = 0; i < COS_TABLE; i++)
    s->cos_table[i] = (float) (0.5 + 0.5 * cos (2.0 * G_PI * i / COS_TABLE));
  if (params->kind == CL_SCENE_OVERLAY)
    {
      s->pool = params->pool;
      s->glyph_side = params->overlay_layout == CL_OVERLAY_CODE_TILED ? CL_SCENE_CODE_TILE : CL_SCENE_GLYPH;
      s->glyphs = g_malloc ((gsize) s->pool * (gsize) s->glyph_side * (gsize) s->glyph_side);
      if (params->overlay_layout == CL_OVERLAY_CODE_TILED)
        cl_scene_codes_render (params->seed, s->pool, s->glyphs);
      else
        cl_scene_glyphs_render (params->seed, s->pool, s->glyphs);
    }
  return s;
}

void
cl_scenes_free (ClScenes *s)
{
  if (!s)
    return;
  g_free (s->glyphs);
  g_free (s);
}

const ClSceneParams *
cl_scenes_params (const ClScenes *s)
{
  return &s->p;
}

const uint8_t *
cl_scenes_glyph (const ClScenes *s, int k)
{
  g_return_val_if_fail (k >= 0 && k < s->pool, NULL);
  return s->glyphs + (size_t) k * (size_t) s->glyph_side * (size_t) s->glyph_side;
}

int
cl_scenes_glyph_side (const ClScenes *s)
{
  return s->glyph_side;
}

/* ------------------------------------------------------------------ rendering helpers */

static void
scene_rng (const ClScenes *s, int split, int index, int purpose, ClRng *rng)
{
  uint64_t key = cl_hash64 (s->p.seed ^ cl_hash64 (((uint64_t) (uint32_t) split << 32) | (uint32_t) index));
  cl_rng_seed (rng, key, ((uint64_t) CL_STREAM_DATA << 32) | (uint64_t) purpose);
}

/* Bilinear resize with half-pixel centres (align_corners=False), clamped at the edges, rounded.
 * The vertical blend of the two source rows is done once per output row. */
static void
resize_u8 (const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw)
{
  int x0s[CL_SCENE_MAX_SIDE], x1s[CL_SCENE_MAX_SIDE];
  float fxs[CL_SCENE_MAX_SIDE], rowf[MAX_SOURCE_SIDE];
  float sx_scale = (float) sw / (float) dw, sy_scale = (float) sh / (float) dh;
  for (int x = 0; x < dw; x++)
    {
      float sx = ((float) x + 0.5f) * sx_scale - 0.5f;
      sx = sx < 0.0f ? 0.0f : sx > (float) (sw - 1) ? (float) (sw - 1) : sx;
      int x0 = (int) sx;
      x0s[x] = x0;
      x1s[x] = x0 < sw - 1 ? x0 + 1 : sw - 1;
      fxs[x] = sx - (float) x0;
    }
  for (int y = 0; y < dh; y++)
    {
      float sy = ((float) y + 0.5f) * sy_scale - 0.5f;
      sy = sy < 0.0f ? 0.0f : sy > (float) (sh - 1) ? (float) (sh - 1) : sy;
      int y0 = (int) sy;
      int y1 = y0 < sh - 1 ? y0 + 1 : sh - 1;
      float fy = sy - (float) y0;
      const uint8_t *r0 = src + (size_t) y0 * (size_t) sw, *r1 = src + (size_t) y1 * (size_t) sw;
      for (int x = 0; x < sw; x++)
        rowf[x] = (float) r0[x] + ((float) r1[x] - (float) r0[x]) * fy;
      uint8_t *out = dst + (size_t) y * (size_t) dw;
      for (int x = 0; x < dw; x++)
        {
          float a = rowf[x0s[x]], b = rowf[x1s[x]];
          out[x] = (uint8_t) (a + (b - a) * fxs[x] + 0.5f);
        }
    }
}

typedef struct
{
  int x0, y0, x1, y1; /* inclusive; x1 < x0 when empty */
} Box;

static Box
bounding_box (const uint8_t *img, int side)
{
  Box b = { side, side, -1, -1 };
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      if (img[y * side + x] > CL_SCENE_ALPHA_THRESHOLD)
        {
          b.x0 = MIN (b.x0, x);
          b.x1 = MAX (b.x1, x);
          b.y0 = MIN (b.y0, y);
          b.y1 = MAX (b.y1, y);
        }
  if (b.x1 < 0) /* nothing above the threshold: keep the whole square, nothing will be pasted */
    b = (Box){ 0, 0, side - 1, side - 1 };
  return b;
}

/* Item k resized to its square, kept between layout and drawing. */
typedef struct
{
  uint8_t item[CL_SCENE_MAX_ITEMS][CL_SCENE_MAX_SIDE * CL_SCENE_MAX_SIDE];
  Box box[CL_SCENE_MAX_ITEMS];
} Scratch;

static const uint8_t *
split_item (const ClScenes *s, int split, int index, int *label)
{
  const ClImageSet *set = split ? &s->ds->test : &s->ds->train;
  *label = set->labels[index];
  return set->pixels + (size_t) index * (size_t) set->height * (size_t) set->width;
}

static void
resize_item (const ClScenes *s, int split, ClSceneItem *it, Scratch *sc, int k)
{
  const ClImageSet *set = split ? &s->ds->test : &s->ds->train;
  const uint8_t *src = split_item (s, split, it->source, &it->label);
  resize_u8 (src, set->height, set->width, sc->item[k], it->size, it->size);
  sc->box[k] = bounding_box (sc->item[k], it->size);
}

/* A uniform position of the item's square that keeps its bounding box inside the canvas. */
static void
place (const Box *b, int side, double ux, double uy, int *x, int *y)
{
  int bw = b->x1 - b->x0 + 1, bh = b->y1 - b->y0 + 1;
  *x = -b->x0 + (int) (ux * (double) (side - bw + 1));
  *y = -b->y0 + (int) (uy * (double) (side - bh + 1));
}

static int
intersection_area (int ax0, int ay0, int ax1, int ay1, int bx0, int by0, int bx1, int by1)
{
  int w = MIN (ax1, bx1) - MAX (ax0, bx0) + 1, h = MIN (ay1, by1) - MAX (ay0, by0) + 1;
  return w > 0 && h > 0 ? w * h : 0;
}

/* Of the candidate positions (uniform draws u[2j], u[2j+1]), the first whose bounding box overlaps
 * the already placed items (0..k-1) least. */
static void
place_least_overlap (ClSceneLayout *L, const Scratch *sc, int k, int side, const double *u, int candidates)
{
  ClSceneItem *it = &L->items[k];
  const Box *b = &sc->box[k];
  int best = -1;
  for (int j = 0; j < candidates; j++)
    {
      int x, y;
      place (b, side, u[2 * j], u[2 * j + 1], &x, &y);
      int cost = 0;
      for (int i = 0; i < k; i++)
        {
          const ClSceneItem *o = &L->items[i];
          const Box *ob = &sc->box[i];
          cost += intersection_area (x + b->x0, y + b->y0, x + b->x1, y + b->y1, o->x + ob->x0, o->y + ob->y0,
                                     o->x + ob->x1, o->y + ob->y1);
        }
      if (best < 0 || cost < best)
        {
          best = cost;
          it->x = x;
          it->y = y;
        }
    }
}

/* Another item of the split, never the scene's own when there is a choice. */
static int
other_item (int n, int index, uint32_t draw)
{
  int j = (int) (draw % (uint32_t) n);
  return j == index && n > 1 ? (j + 1) % n : j;
}

static void
hsv_factors (float hue, float sat, float f[3])
{
  float h6 = hue * 6.0f;
  int sector = (int) h6;
  float frac = h6 - (float) sector;
  float p = 1.0f - sat, q = 1.0f - sat * frac, t = 1.0f - sat * (1.0f - frac);
  switch (sector % 6)
    {
    case 0:
      f[0] = 1.0f, f[1] = t, f[2] = p;
      break;
    case 1:
      f[0] = q, f[1] = 1.0f, f[2] = p;
      break;
    case 2:
      f[0] = p, f[1] = 1.0f, f[2] = t;
      break;
    case 3:
      f[0] = p, f[1] = q, f[2] = 1.0f;
      break;
    case 4:
      f[0] = t, f[1] = p, f[2] = 1.0f;
      break;
    default:
      f[0] = 1.0f, f[1] = p, f[2] = q;
      break;
    }
}

/* Everything about the scene but the pixels; resizes the items into sc (placement needs their
 * bounding boxes). The layout stream's draws are the same in number for every scene of a kind. */
static void
build_layout (const ClScenes *s, int split, int index, ClSceneLayout *L, Scratch *sc)
{
  const ClImageSet *set = split ? &s->ds->test : &s->ds->train;
  ClRng rng;
  memset (L, 0, sizeof *L);
  L->pattern = -1;
  L->texture = CL_TEXTURE_NONE;
  L->tint_bucket = -1;
  scene_rng (s, split, index, PURPOSE_LAYOUT, &rng);
  for (int k = 0; k < CL_SCENE_MAX_ITEMS; k++)
    L->items[k].brightness = 1.0f;
  ClSceneItem *it = L->items;

  switch (s->p.kind)
    {
    case CL_SCENE_RANDBITS:
      L->n_items = 1;
      it[0].source = index;
      it[0].size = set->width;
      split_item (s, split, index, &it[0].label);
      break;

    case CL_SCENE_OVERLAY:
      L->n_items = 1;
      it[0].source = index;
      it[0].size = OVERLAY_SIDE;
      split_item (s, split, index, &it[0].label);
      L->pattern = (int) cl_rng_below (&rng, (uint32_t) s->pool);
      break;

    case CL_SCENE_TWO_OBJECTS:
      {
        uint32_t small_draw = cl_rng_u32 (&rng);
        double u[2 + 2 * PLACE_CANDIDATES];
        for (size_t j = 0; j < G_N_ELEMENTS (u); j++)
          u[j] = cl_rng_uniform (&rng);
        L->n_items = 2;
        it[0].source = index;
        it[0].size = s->p.big_size;
        it[1].source = other_item (set->n, index, small_draw);
        it[1].size = CL_SCENE_SMALL;
        resize_item (s, split, &it[0], sc, 0);
        resize_item (s, split, &it[1], sc, 1);
        place (&sc->box[0], TWO_SIDE, u[0], u[1], &it[0].x, &it[0].y);
        place_least_overlap (L, sc, 1, TWO_SIDE, u + 2, PLACE_CANDIDATES);
        break;
      }

    case CL_SCENE_MULTI_OBJECTS:
      {
        int n = 2 + (int) cl_rng_below (&rng, CL_SCENE_MAX_ITEMS - 1);
        int sizes[CL_SCENE_MAX_ITEMS];
        uint32_t others[CL_SCENE_MAX_ITEMS - 1];
        double bright[CL_SCENE_MAX_ITEMS], u[CL_SCENE_MAX_ITEMS][2 * PLACE_CANDIDATES];
        for (int k = 0; k < CL_SCENE_MAX_ITEMS; k++)
          sizes[k] = MULTI_MIN_ITEM + (int) cl_rng_below (&rng, MULTI_MAX_ITEM - MULTI_MIN_ITEM + 1);
        for (int k = 0; k < CL_SCENE_MAX_ITEMS - 1; k++)
          others[k] = cl_rng_u32 (&rng);
        for (int k = 0; k < CL_SCENE_MAX_ITEMS; k++)
          bright[k] = cl_rng_uniform (&rng);
        for (int k = 0; k < CL_SCENE_MAX_ITEMS; k++)
          for (int j = 0; j < 2 * PLACE_CANDIDATES; j++)
            u[k][j] = cl_rng_uniform (&rng);
        /* Largest first: it is this index's item (so `class` is the split's label) and pasting the
         * smaller ones over it leaves every item visible. */
        for (int a = 1; a < n; a++)
          for (int b = a; b > 0 && sizes[b] > sizes[b - 1]; b--)
            {
              int t = sizes[b];
              sizes[b] = sizes[b - 1];
              sizes[b - 1] = t;
            }
        L->n_items = n;
        for (int k = 0; k < n; k++)
          {
            it[k].source = k == 0 ? index : other_item (set->n, index, others[k - 1]);
            it[k].size = sizes[k];
            it[k].brightness = 0.35f + 0.65f * (float) bright[k];
            resize_item (s, split, &it[k], sc, k);
            place_least_overlap (L, sc, k, MULTI_SIDE, u[k], PLACE_CANDIDATES);
          }
        ClRng tex;
        scene_rng (s, split, index, PURPOSE_TEXTURE, &tex);
        L->texture = (int) cl_rng_below (&tex, CL_N_TEXTURES);
        break;
      }
    default:
      g_assert_not_reached ();
    }

  if (s->p.tint)
    {
      ClRng tint;
      scene_rng (s, split, index, PURPOSE_TINT, &tint);
      L->tint_bucket = (int) cl_rng_below (&tint, CL_SCENE_TINT_BUCKETS);
      L->hue = ((float) L->tint_bucket + 0.15f + 0.7f * (float) cl_rng_uniform (&tint)) / CL_SCENE_TINT_BUCKETS;
      L->saturation = 0.5f + 0.5f * (float) cl_rng_uniform (&tint);
    }
}

void
cl_scenes_layout (const ClScenes *s, int split, int index, ClSceneLayout *layout)
{
  Scratch sc;
  build_layout (s, split, index, layout, &sc);
}

static inline float
smoothstep (float t)
{
  return t * t * (3.0f - 2.0f * t);
}

/* A background whose intensities overlap the objects' (mean 0.1..0.55, +-0.05..0.4), so that a
 * threshold on brightness does not segment the scene. Row by row, the pattern first, then grain. */
static void
render_texture (const ClScenes *s, ClRng *texture_rng, uint8_t *out, int side)
{
  enum
  {
    GRID = 7
  };
  ClRng rng = *texture_rng;
  int type = (int) cl_rng_below (&rng, CL_N_TEXTURES);
  float mean = 0.1f + 0.45f * (float) cl_rng_uniform (&rng);
  float amp = 0.05f + 0.35f * (float) cl_rng_uniform (&rng);
  float grain = 0.08f * (float) cl_rng_uniform (&rng);
  float a = (float) cl_rng_uniform (&rng), b = (float) cl_rng_uniform (&rng);
  float c = (float) cl_rng_uniform (&rng), d = (float) cl_rng_uniform (&rng);
  float grid[GRID * GRID];
  for (int i = 0; i < GRID * GRID; i++)
    grid[i] = (float) cl_rng_uniform (&rng);

  int cells = 2 + (int) (b * (GRID - 2)); /* noise: 2..6 cells across */
  float period = 4.0f + 12.0f * b;        /* stripes */
  float ca = cosf ((float) G_PI * a) / period, sa = sinf ((float) G_PI * a) / period;
  float norm = 0.5f / (0.5f * (float) side * (float) G_SQRT2); /* gradient: corner to corner */
  float ga = cosf (2.0f * (float) G_PI * a) * norm, gs = sinf (2.0f * (float) G_PI * a) * norm;
  int check = 4 + (int) (b * 7.0f), ox = (int) (c * (float) check), oy = (int) (d * (float) check);
  float half = 0.5f * (float) side;

  /* per-column parts of each pattern */
  int ix[CL_SCENE_MAX_SIDE], parity[CL_SCENE_MAX_SIDE];
  float fx[CL_SCENE_MAX_SIDE], row[CL_SCENE_MAX_SIDE];
  for (int x = 0; x < side; x++)
    {
      float gx = ((float) x + 0.5f) / (float) side * (float) cells;
      ix[x] = (int) gx;
      fx[x] = smoothstep (gx - (float) ix[x]);
      parity[x] = ((x + ox) / check) & 1;
    }

  float lo = 255.0f * (mean - amp), span = 255.0f * 2.0f * amp, g_scale = 255.0f * grain * (2.0f / 255.0f);
  float g_shift = 255.0f * grain;
  for (int y = 0; y < side; y++)
    {
      switch (type)
        {
        case CL_TEXTURE_NOISE:
          {
            float gy = ((float) y + 0.5f) / (float) side * (float) cells;
            int iy = (int) gy;
            float fy = smoothstep (gy - (float) iy);
            for (int x = 0; x < side; x++)
              {
                const float *g0 = grid + iy * GRID + ix[x], *g1 = g0 + GRID;
                float top = g0[0] + (g0[1] - g0[0]) * fx[x], bottom = g1[0] + (g1[1] - g1[0]) * fx[x];
                row[x] = top + (bottom - top) * fy;
              }
            break;
          }
        case CL_TEXTURE_STRIPES:
          {
            float base = (float) y * sa + c + 64.0f;
            for (int x = 0; x < side; x++)
              row[x] = s->cos_table[(int) ((base + (float) x * ca) * COS_TABLE) & (COS_TABLE - 1)];
            break;
          }
        case CL_TEXTURE_GRADIENT:
          {
            float base = 0.5f + ((float) y + 0.5f - half) * gs;
            for (int x = 0; x < side; x++)
              row[x] = base + ((float) x + 0.5f - half) * ga;
            break;
          }
        default:
          {
            int py = ((y + oy) / check) & 1;
            for (int x = 0; x < side; x++)
              row[x] = (float) (parity[x] ^ py);
            break;
          }
        }
      uint8_t *o = out + (size_t) y * (size_t) side;
      for (int x = 0; x < side; x += 4)
        {
          uint32_t noise = cl_rng_u32 (&rng);
          for (int k = x; k < x + 4 && k < side; k++, noise >>= 8)
            {
              float v = lo + span * row[k] + g_scale * (float) (noise & 0xff) - g_shift;
              v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
              o[k] = (uint8_t) (v + 0.5f);
            }
        }
    }
}

/* Two-objects paste: an item covers what is below wherever its pixel is above the threshold (so
 * the small item stays visible even on a brighter large one: the experiment is about suppression,
 * not occlusion), and is max-combined elsewhere, so the faint rim of each item survives on black.
 * The whole square is combined, clipped to the canvas. */
static void
paste_over (const ClSceneItem *it, const uint8_t *item, int id, uint8_t *canvas, uint8_t *mask, int side)
{
  int y0 = MAX (0, -it->y), y1 = MIN (it->size, side - it->y);
  int x0 = MAX (0, -it->x), x1 = MIN (it->size, side - it->x);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        uint8_t v = item[y * it->size + x];
        size_t o = (size_t) (it->y + y) * (size_t) side + (size_t) (it->x + x);
        if (v > CL_SCENE_ALPHA_THRESHOLD)
          {
            canvas[o] = v;
            if (mask)
              mask[o] = (uint8_t) id;
          }
        else if (v > canvas[o])
          canvas[o] = v;
      }
}

/* Alpha paste (multi-objects): the item covers what is below wherever it is above the threshold. */
static void
paste_alpha (const ClSceneItem *it, const uint8_t *item, const Box *b, int id, uint8_t *canvas, uint8_t *mask, int side)
{
  for (int y = b->y0; y <= b->y1; y++)
    for (int x = b->x0; x <= b->x1; x++)
      {
        uint8_t v = item[y * it->size + x];
        if (v <= CL_SCENE_ALPHA_THRESHOLD)
          continue;
        size_t o = (size_t) (it->y + y) * (size_t) side + (size_t) (it->x + x);
        canvas[o] = (uint8_t) ((float) v * it->brightness + 0.5f);
        if (mask)
          mask[o] = (uint8_t) id;
      }
}

void
cl_scenes_render (const ClScenes *s, int split, int index, uint8_t *pixels, uint8_t labels[CL_N_SCENE_TARGETS],
                  uint8_t *mask)
{
  cl_scenes_render_variant (s, split, index, CL_SCENE_AS_DRAWN, pixels, labels, mask);
}

/* bg_key: NULL for the scene's own background, else the key of a freshly drawn one. */
static void
render_scene (const ClScenes *s, int split, int index, ClSceneVariant variant, const uint64_t *bg_key, uint8_t *pixels,
              uint8_t labels[CL_N_SCENE_TARGETS], uint8_t *mask)
{
  const ClImageSet *set = split ? &s->ds->test : &s->ds->train;
  g_return_if_fail (index >= 0 && index < set->n);
  Scratch sc;
  ClSceneLayout L;
  build_layout (s, split, index, &L, &sc);
  int h = s->height, w = s->width;
  size_t plane = (size_t) h * (size_t) w;
  uint8_t *grey = pixels;
  int label;
  const uint8_t *src = split_item (s, split, index, &label);

  uint8_t unused[CL_N_SCENE_TARGETS];
  if (!labels)
    labels = unused;
  for (int t = 0; t < CL_N_SCENE_TARGETS; t++)
    labels[t] = CL_SCENE_NO_LABEL;
  labels[CL_TARGET_CLASS] = (uint8_t) label;
  if (mask)
    memset (mask, 0, plane);

  switch (s->p.kind)
    {
    case CL_SCENE_RANDBITS:
      memcpy (grey, src, plane);
      if (mask)
        for (size_t i = 0; i < plane; i++)
          mask[i] = grey[i] > CL_SCENE_ALPHA_THRESHOLD;
      break;

    case CL_SCENE_OVERLAY:
      {
        resize_u8 (src, set->height, set->width, grey, h, w);
        if (mask)
          for (size_t i = 0; i < plane; i++)
            mask[i] = grey[i] > CL_SCENE_ALPHA_THRESHOLD;
        labels[CL_TARGET_BACKGROUND] = (uint8_t) label;
        if (variant == CL_SCENE_CLEAN)
          break;
        int pattern = variant == CL_SCENE_FIXED_OVERLAY ? 0 : L.pattern;
        static const double at[3] = { 0.15, 0.45, 0.75 };
        const uint8_t *glyph = cl_scenes_glyph (s, pattern);
        labels[CL_TARGET_OVERLAY] = (uint8_t) (pattern % CL_SCENE_GLYPH_CLASSES);
        if (s->p.overlay_layout == CL_OVERLAY_CODE_TILED)
          {
            /* The code's tile repeated from the canvas origin over the whole canvas. */
            for (int y = 0; y < h; y++)
              for (int x = 0; x < w; x++)
                {
                  uint8_t v = glyph[(y % CL_SCENE_CODE_TILE) * CL_SCENE_CODE_TILE + x % CL_SCENE_CODE_TILE];
                  size_t o = (size_t) y * (size_t) w + (size_t) x;
                  if (v >= grey[o])
                    {
                      grey[o] = v;
                      if (mask && v > CL_SCENE_ALPHA_THRESHOLD)
                        mask[o] = 2;
                    }
                }
            break;
          }
        for (int gy = 0; gy < 3; gy++)
          for (int gx = 0; gx < 3; gx++)
            {
              int oy = (int) (OVERLAY_SIDE * at[gy]), ox = (int) (OVERLAY_SIDE * at[gx]);
              for (int y = 0; y < CL_SCENE_GLYPH; y++)
                for (int x = 0; x < CL_SCENE_GLYPH; x++)
                  {
                    uint8_t v = glyph[y * CL_SCENE_GLYPH + x];
                    size_t o = (size_t) (oy + y) * (size_t) w + (size_t) (ox + x);
                    if (v >= grey[o])
                      {
                        grey[o] = v;
                        if (mask && v > CL_SCENE_ALPHA_THRESHOLD)
                          mask[o] = 2;
                      }
                  }
            }
        break;
      }

    case CL_SCENE_TWO_OBJECTS:
      memset (grey, 0, plane);
      for (int k = variant == CL_SCENE_CLEAN ? 1 : 0; k < 2; k++)
        paste_over (&L.items[k], sc.item[k], k + 1, grey, mask, w);
      if (variant != CL_SCENE_CLEAN)
        labels[CL_TARGET_LARGE] = (uint8_t) L.items[0].label;
      labels[CL_TARGET_SMALL] = (uint8_t) L.items[1].label;
      break;

    case CL_SCENE_MULTI_OBJECTS:
      {
        ClRng tex;
        if (bg_key)
          cl_rng_seed (&tex, *bg_key, ((uint64_t) CL_STREAM_DATA << 32) | PURPOSE_TEXTURE);
        else
          scene_rng (s, split, index, PURPOSE_TEXTURE, &tex);
        render_texture (s, &tex, grey, w);
      }
      for (int k = 0; k < L.n_items; k++)
        paste_alpha (&L.items[k], sc.item[k], &sc.box[k], k + 1, grey, mask, w);
      break;

    default:
      g_assert_not_reached ();
    }

  if (s->p.tint)
    {
      float f[3];
      hsv_factors (L.hue, L.saturation, f);
      /* Plane 0 holds the grey image until the last pass overwrites it. Factors in 16-bit fixed
       * point (the V channel's factor 65536 keeps it exactly the grey image); integer loops
       * vectorise. */
      for (int c = 2; c >= 0; c--)
        {
          uint32_t fi = (uint32_t) lrintf (f[c] * 65536.0f);
          uint8_t *dst = pixels + (size_t) c * plane;
          for (size_t i = 0; i < plane; i++)
            dst[i] = (uint8_t) (((uint32_t) grey[i] * fi + 32768u) >> 16);
        }
      labels[CL_TARGET_TINT] = (uint8_t) L.tint_bucket;
    }
}

void
cl_scenes_render_variant (const ClScenes *s, int split, int index, ClSceneVariant variant, uint8_t *pixels,
                          uint8_t labels[CL_N_SCENE_TARGETS], uint8_t *mask)
{
  render_scene (s, split, index, variant, NULL, pixels, labels, mask);
}

void
cl_scenes_render_background (const ClScenes *s, int split, int index, uint64_t bg_key, uint8_t *pixels)
{
  render_scene (s, split, index, CL_SCENE_AS_DRAWN, &bg_key, pixels, NULL, NULL);
}
