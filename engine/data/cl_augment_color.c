#include "engine/data/cl_augment_color.h"

#include <glib.h>
#include <math.h>

_Static_assert(CL_AUG_COLOR_EXTRA_U32 == 3 * 2, "three uniforms of two words each");

static inline float
clamp01 (float v)
{
  return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* Plain comparisons: fminf/fmaxf are library calls unless NaN semantics are relaxed. */
static inline float
max3 (float a, float b, float c)
{
  float m = a > b ? a : b;
  return m > c ? m : c;
}

static inline float
min3 (float a, float b, float c)
{
  float m = a < b ? a : b;
  return m < c ? m : c;
}

static void
brightness (float *img, size_t n, float b)
{
  for (size_t i = 0; i < n; i++)
    img[i] = clamp01 (img[i] * b);
}

/* x*k + m*(1-k) rather than (x-m)*k + m, as cl_augment does, so that k == 1 is exact. */
static void
contrast (float *plane, size_t n, float k)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += plane[i];
  float shift = (float) (sum / (double) n) * (1.0f - k);
  for (size_t i = 0; i < n; i++)
    plane[i] = clamp01 (plane[i] * k + shift);
}

/* HSV saturation times f, clipped to 1, at fixed hue and value: each channel moves along the line
 * from V (the max) through its value, by min(f, V / (V - min)). No HSV round trip needed. */
static void
saturation (float *r, float *g, float *b, size_t n, float f)
{
  for (size_t i = 0; i < n; i++)
    {
      float v = max3 (r[i], g[i], b[i]), lo = min3 (r[i], g[i], b[i]);
      float range = v - lo;
      if (range <= 0.0f)
        continue;
      float k = v / range;
      k = f < k ? f : k;
      r[i] = clamp01 (v - (v - r[i]) * k);
      g[i] = clamp01 (v - (v - g[i]) * k);
      b[i] = clamp01 (v - (v - b[i]) * k);
    }
}

/* HSV hue plus delta (in turns), wrapping. */
static void
hue (float *r, float *g, float *b, size_t n, float delta)
{
  for (size_t i = 0; i < n; i++)
    {
      float R = r[i], G = g[i], B = b[i];
      float v = max3 (R, G, B), lo = min3 (R, G, B);
      float range = v - lo;
      if (range <= 0.0f)
        continue;
      float h;
      if (v == R)
        h = (G - B) / range;
      else if (v == G)
        h = 2.0f + (B - R) / range;
      else
        h = 4.0f + (R - G) / range;
      h = h / 6.0f + delta + 2.0f; /* in (1, 3): truncation is floor */
      h -= (float) (int) h;
      float h6 = h * 6.0f;
      int sector = (int) h6;
      float frac = h6 - (float) sector;
      float p = lo, q = v - range * frac, t = lo + range * frac;
      switch (sector)
        {
        case 0:
          R = v, G = t, B = p;
          break;
        case 1:
          R = q, G = v, B = p;
          break;
        case 2:
          R = p, G = v, B = t;
          break;
        case 3:
          R = p, G = q, B = v;
          break;
        case 4:
          R = t, G = p, B = v;
          break;
        default:
          R = v, G = p, B = q;
          break;
        }
      r[i] = clamp01 (R);
      g[i] = clamp01 (G);
      b[i] = clamp01 (B);
    }
}

static void
greyscale (float *r, float *g, float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float y = 0.2989f * r[i] + 0.5870f * g[i] + 0.1140f * b[i];
      r[i] = g[i] = b[i] = y;
    }
}

void
cl_augment_view_color (const uint8_t *src, int c, int h, int w, const ClAugParams *p, ClRng *rng, float *dst)
{
  if (c == 1)
    {
      cl_augment_view (src, h, w, p, rng, dst);
      for (int k = 0; k < CL_AUG_COLOR_EXTRA_U32; k++)
        cl_rng_u32 (rng);
      return;
    }

  /* The grey layout, value for value, then the colour draws. */
  ClAugDraws draws;
  cl_augment_draw (h, w, p->crop_min_area, rng, &draws);
  const double jitter_order_u = draws.jitter_order_u;
  double saturation_u = cl_rng_uniform (rng);
  double hue_u = cl_rng_uniform (rng);
  double grey_u = cl_rng_uniform (rng);

  size_t n = (size_t) h * (size_t) w;
  int flip = draws.flip_u < (double) p->flip;
  for (int k = 0; k < c; k++)
    cl_augment_resize_crop (src + (size_t) k * n, h, w, draws.box, flip, dst + (size_t) k * n);

  float s = p->jitter;
  if (s > 0.0f && draws.jitter_apply_u < CL_AUG_JITTER_PROB)
    {
      float b = cl_augment_jitter_factor (s, draws.brightness_u);
      float k = cl_augment_jitter_factor (s, draws.contrast_u);
      if (c == 3)
        {
          float f = cl_augment_jitter_factor (s, saturation_u);
          float delta = 0.2f * s * (float) (2.0 * hue_u - 1.0);
          /* The order draw indexes one of the 4! orders (Lehmer code). */
          static const int radix[3] = { 6, 2, 1 };
          int code = MIN (23, (int) (jitter_order_u * 24.0));
          int ops[4] = { 0, 1, 2, 3 };
          for (int pos = 0; pos < 3; pos++)
            {
              int pick = pos + code / radix[pos];
              code %= radix[pos];
              int t = ops[pick];
              for (int j = pick; j > pos; j--)
                ops[j] = ops[j - 1];
              ops[pos] = t;
            }
          float *R = dst, *G = dst + n, *B = dst + 2 * n;
          for (int o = 0; o < 4; o++)
            switch (ops[o])
              {
              case 0:
                brightness (dst, 3 * n, b);
                break;
              case 1:
                for (int ch = 0; ch < 3; ch++)
                  contrast (dst + (size_t) ch * n, n, k);
                break;
              case 2:
                saturation (R, G, B, n, f);
                break;
              default:
                hue (R, G, B, n, delta);
                break;
              }
        }
      else
        for (int ch = 0; ch < c; ch++)
          {
            float *plane = dst + (size_t) ch * n;
            if (jitter_order_u < 0.5)
              {
                brightness (plane, n, b);
                contrast (plane, n, k);
              }
            else
              {
                contrast (plane, n, k);
                brightness (plane, n, b);
              }
          }
    }

  if (c == 3 && grey_u < CL_AUG_GREY_PROB * (double) s)
    greyscale (dst, dst + n, dst + 2 * n, n);

  if (p->blur > 0.0f)
    {
      double apply_u;
      float sigma;
      cl_augment_blur_draw (draws.noise_seed, &apply_u, &sigma);
      if (apply_u < (double) p->blur)
        cl_augment_blur (dst, c, h, w, sigma);
    }

  if (p->noise > 0.0f)
    cl_augment_add_noise (dst, (size_t) c * n, p->noise, draws.noise_seed);
}
