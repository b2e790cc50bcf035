/* The overlay's procedural glyphs: stroke prototypes on a small lattice, each pool glyph a
 * jittered rendering of one (see cl_scenes_private.h). */
#include "engine/data/cl_scenes.h"

#include <math.h>
#include <string.h>

#include "engine/base/cl_rng.h"
#include "engine/data/cl_scenes_private.h"

/* Strokes run between the nodes of a 4x4 lattice, to any of the 8 neighbours: 42 edges, so a
 * glyph's strokes are a 64-bit mask, and "how different are two glyph classes" is a popcount. */
#define LATTICE 4
#define N_NODES (LATTICE * LATTICE)
#define N_EDGES 42
#define PROTO_MIN_DISTANCE 4

typedef struct
{
  int a[N_EDGES], b[N_EDGES];
  int of[N_NODES][N_NODES];
  int mirror[N_EDGES];
} Lattice;

static void
lattice_init (Lattice *l)
{
  int n = 0;
  for (int i = 0; i < N_NODES; i++)
    for (int j = 0; j < N_NODES; j++)
      l->of[i][j] = -1;
  for (int r = 0; r < LATTICE; r++)
    for (int c = 0; c < LATTICE; c++)
      {
        static const int dr[4] = { 0, 1, 1, 1 }, dc[4] = { 1, 0, 1, -1 };
        for (int d = 0; d < 4; d++)
          {
            int r2 = r + dr[d], c2 = c + dc[d];
            if (r2 >= LATTICE || c2 < 0 || c2 >= LATTICE)
              continue;
            int i = r * LATTICE + c, j = r2 * LATTICE + c2;
            l->a[n] = i;
            l->b[n] = j;
            l->of[i][j] = l->of[j][i] = n;
            n++;
          }
      }
  g_assert (n == N_EDGES);
  for (int e = 0; e < N_EDGES; e++)
    {
      int ra = l->a[e] / LATTICE, ca = l->a[e] % LATTICE;
      int rb = l->b[e] / LATTICE, cb = l->b[e] % LATTICE;
      l->mirror[e] = l->of[ra * LATTICE + (LATTICE - 1 - ca)][rb * LATTICE + (LATTICE - 1 - cb)];
    }
}

static uint64_t
mirror_mask (const Lattice *l, uint64_t m)
{
  uint64_t out = 0;
  for (int e = 0; e < N_EDGES; e++)
    if (m >> e & 1u)
      out |= (uint64_t) 1 << l->mirror[e];
  return out;
}

/* A pen stroke: a random walk of 4 or 5 edges, never reusing an edge, spanning at least 3 lattice
 * columns and rows so that it reads as a shape rather than a dash. */
static uint64_t
random_stroke (const Lattice *l, ClRng *rng)
{
  for (;;)
    {
      int node = (int) cl_rng_below (rng, N_NODES);
      int steps = 4 + (int) cl_rng_below (rng, 2);
      uint64_t mask = 0;
      int rmin = node / LATTICE, rmax = rmin, cmin = node % LATTICE, cmax = cmin;
      for (int s = 0; s < steps; s++)
        {
          int options[8], n = 0;
          for (int j = 0; j < N_NODES; j++)
            {
              int e = l->of[node][j];
              if (e >= 0 && !(mask >> e & 1u))
                options[n++] = j;
            }
          if (n == 0)
            break;
          int next = options[cl_rng_below (rng, (uint32_t) n)];
          mask |= (uint64_t) 1 << l->of[node][next];
          node = next;
          rmin = MIN (rmin, node / LATTICE);
          rmax = MAX (rmax, node / LATTICE);
          cmin = MIN (cmin, node % LATTICE);
          cmax = MAX (cmax, node % LATTICE);
        }
      if (rmax - rmin >= 2 && cmax - cmin >= 2)
        return mask;
    }
}

/* Ten prototypes at least PROTO_MIN_DISTANCE edges apart, from each other and from each other's
 * mirror images, so that a horizontal flip never turns one class into another. */
static void
make_prototypes (const Lattice *l, uint64_t seed, uint64_t proto[CL_SCENE_GLYPH_CLASSES])
{
  ClRng rng;
  cl_rng_seed (&rng, seed, ((uint64_t) CL_STREAM_DATA << 32) | PURPOSE_PROTOTYPE);
  for (int k = 0; k < CL_SCENE_GLYPH_CLASSES;)
    {
      uint64_t m = random_stroke (l, &rng), mm = mirror_mask (l, m);
      gboolean ok = TRUE;
      for (int j = 0; j < k && ok; j++)
        ok = __builtin_popcountll (m ^ proto[j]) >= PROTO_MIN_DISTANCE &&
             __builtin_popcountll (mm ^ proto[j]) >= PROTO_MIN_DISTANCE;
      if (ok)
        proto[k++] = m;
    }
}

static float
segment_distance2 (float px, float py, float ax, float ay, float bx, float by)
{
  float dx = bx - ax, dy = by - ay;
  float len2 = dx * dx + dy * dy;
  float t = len2 > 0.0f ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0f;
  t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
  float ex = ax + t * dx - px, ey = ay + t * dy - py;
  return ex * ex + ey * ey;
}

/* Glyph k: its prototype's strokes with every node moved by up to 0.8 px, a stroke half-width of
 * 0.7..1.1 px, a scale of 0.85..1 and a shear of up to 0.15, anti-aliased over one pixel. Drawn
 * from (seed, k) alone, so a pool is the prefix of any larger one. */
static void
render_glyph (const Lattice *l, uint64_t proto, uint64_t seed, int k, uint8_t *out)
{
  ClRng rng;
  cl_rng_seed (&rng, cl_hash64 (seed) + (uint64_t) k, ((uint64_t) CL_STREAM_DATA << 32) | PURPOSE_GLYPH);
  float nx[N_NODES], ny[N_NODES];
  double jitter[2 * N_NODES];
  for (int i = 0; i < 2 * N_NODES; i++)
    jitter[i] = cl_rng_uniform (&rng);
  float half_width = 0.7f + 0.4f * (float) cl_rng_uniform (&rng);
  float scale = 0.85f + 0.15f * (float) cl_rng_uniform (&rng);
  float shear = 0.15f * (float) (2.0 * cl_rng_uniform (&rng) - 1.0);
  const float centre = 0.5f * CL_SCENE_GLYPH, step = 8.0f / (LATTICE - 1), first = centre - 4.0f;
  for (int i = 0; i < N_NODES; i++)
    {
      float x = first + step * (float) (i % LATTICE) + 0.8f * (float) (2.0 * jitter[2 * i] - 1.0);
      float y = first + step * (float) (i / LATTICE) + 0.8f * (float) (2.0 * jitter[2 * i + 1] - 1.0);
      nx[i] = centre + scale * ((x - centre) + shear * (y - centre));
      ny[i] = centre + scale * (y - centre);
    }
  for (int y = 0; y < CL_SCENE_GLYPH; y++)
    for (int x = 0; x < CL_SCENE_GLYPH; x++)
      {
        float d2 = 1e9f;
        for (int e = 0; e < N_EDGES; e++)
          if (proto >> e & 1u)
            {
              float e2 = segment_distance2 ((float) x + 0.5f, (float) y + 0.5f, nx[l->a[e]], ny[l->a[e]], nx[l->b[e]],
                                            ny[l->b[e]]);
              d2 = e2 < d2 ? e2 : d2;
            }
        float v = half_width + 0.5f - sqrtf (d2);
        v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        out[y * CL_SCENE_GLYPH + x] = (uint8_t) lrintf (255.0f * v);
      }
}

void
cl_scene_glyphs_render (uint64_t seed, int pool, uint8_t *out)
{
  Lattice l;
  uint64_t proto[CL_SCENE_GLYPH_CLASSES];
  lattice_init (&l);
  make_prototypes (&l, seed, proto);
  for (int k = 0; k < pool; k++)
    render_glyph (&l, proto[k % CL_SCENE_GLYPH_CLASSES], seed, k, out + (size_t) k * CL_SCENE_GLYPH * CL_SCENE_GLYPH);
}

/* ------------------------------------------------------------ code-tiled overlay: binary codes */

/* Code row 0 per class k % 10: ten distinct non-empty 4-bit patterns. */
static const uint8_t code_class_rows[CL_SCENE_GLYPH_CLASSES] = { 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x8, 0x9, 0xa, 0xc };

/* A bijection of [0, 4096) keyed by the seed (xor, odd multiplications and xor-shifts, all
 * invertible mod 2^12), so that distinct k / 10 give distinct code rows 1-3. */
static uint32_t
code_mix12 (uint64_t seed, uint32_t x)
{
  uint64_t h = cl_hash64 (seed ^ ((uint64_t) PURPOSE_CODE << 56));
  x = (x ^ (uint32_t) h) & 0xfffu;
  x = (x * (((uint32_t) (h >> 12) & 0xfffu) | 1u)) & 0xfffu;
  x ^= x >> 6;
  x = (x * 0x9e5u) & 0xfffu;
  x ^= x >> 5;
  x = (x * (((uint32_t) (h >> 24) & 0xfffu) | 1u)) & 0xfffu;
  x ^= x >> 7;
  return x;
}

void
cl_scene_codes_render (uint64_t seed, int pool, uint8_t *out)
{
  enum
  {
    TILE = CL_SCENE_CODE_TILE,
    CELL = CL_SCENE_CODE_CELL
  };
  G_STATIC_ASSERT (CL_SCENE_MAX_POOL / CL_SCENE_GLYPH_CLASSES < 4096);
  for (int k = 0; k < pool; k++)
    {
      uint8_t *tile = out + (size_t) k * TILE * TILE;
      memset (tile, 0, TILE * TILE);
      uint32_t code = (uint32_t) code_class_rows[k % CL_SCENE_GLYPH_CLASSES] |
                      code_mix12 (seed, (uint32_t) (k / CL_SCENE_GLYPH_CLASSES)) << 4;
      for (int i = 0; i < TILE; i++)
        tile[i] = tile[i * TILE] = 255; /* the frame: top row, left column */
      for (int bit = 0; bit < 16; bit++)
        if (code >> bit & 1u)
          {
            int r = 2 + CELL * (bit / 4), c = 2 + CELL * (bit % 4);
            for (int y = r; y < r + CELL; y++)
              for (int x = c; x < c + CELL; x++)
                tile[y * TILE + x] = 255;
          }
    }
}
