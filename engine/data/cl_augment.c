#include "engine/data/cl_augment.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>

/* The draw layout of one view (see cl_augment.h): every call consumes exactly
 * CL_AUG_U32_PER_VIEW outputs of the caller's stream, whatever the parameters. */
#define CROP_ATTEMPTS 10
#define CROP_DRAWS (CROP_ATTEMPTS * 4)
_Static_assert(2 * CROP_DRAWS == CL_AUG_CROP_U32, "CL_AUG_CROP_U32 must match the crop draws");
_Static_assert(CL_AUG_CROP_U32 + 2 * (1 + 4) + 2 == CL_AUG_U32_PER_VIEW,
               "CL_AUG_U32_PER_VIEW must match the draws in cl_augment_view");

/* torchvision's RandomResizedCrop.get_params with all attempts drawn up front. The fallback is
 * the whole image (as TF's sample_distorted_bounding_box), so that area fraction 1 means "no
 * crop" for any image shape. */
ClCropBox
cl_augment_sample_crop (int h, int w, float min_area, ClRng *rng)
{
  double u[CROP_DRAWS];
  for (int k = 0; k < CROP_DRAWS; k++)
    u[k] = cl_rng_uniform (rng);
  ClCropBox whole = { 0, 0, h, w };
  if (!(min_area < 1.0f))
    return whole;
  double lo = min_area > 0.0f ? (double) min_area : 0.0;
  double area = (double) h * (double) w;
  const double log_lo = log (3.0 / 4.0), log_hi = log (4.0 / 3.0);
  for (int k = 0; k < CROP_ATTEMPTS; k++)
    {
      const double *a = u + 4 * k;
      double target = area * (lo + (1.0 - lo) * a[0]);
      double ratio = exp (log_lo + (log_hi - log_lo) * a[1]);
      long cw = lround (sqrt (target * ratio));
      long ch = lround (sqrt (target / ratio));
      if (cw > 0 && cw <= w && ch > 0 && ch <= h)
        {
          ClCropBox b = { (int) (a[2] * (double) (h - ch + 1)), (int) (a[3] * (double) (w - cw + 1)), (int) ch,
                          (int) cw };
          b.top = MIN (b.top, h - b.height);
          b.left = MIN (b.left, w - b.width);
          return b;
        }
    }
  return whole;
}

/* v / 255.0f for every byte value, rounded once at compile time exactly as the runtime division
 * would be. Interpolating these values (rather than dividing after) makes a sample that lands
 * on a pixel return exactly cl_image_to_float's value, and keeps divisions out of the loop. */
#define U8F(i) ((float) (i) / 255.0f)
#define U8F4(i) U8F (i), U8F (i + 1), U8F (i + 2), U8F (i + 3)
#define U8F16(i) U8F4 (i), U8F4 (i + 4), U8F4 (i + 8), U8F4 (i + 12)
#define U8F64(i) U8F16 (i), U8F16 (i + 16), U8F16 (i + 32), U8F16 (i + 48)
static const float u8_to_float[256] = { U8F64 (0), U8F64 (64), U8F64 (128), U8F64 (192) };

/* Output columns handled per pass; the column tables live on the stack, so any width works. */
#define COLUMN_TILE 256

/* Bilinear resize of the crop to h x w with half-pixel centres (align_corners=False), clamping
 * at the crop's edges as resizing the cropped image would. With a whole-image box every sample
 * lands exactly on a source pixel, so the result equals cl_image_to_float bit for bit. */
void
cl_augment_resize_crop (const uint8_t *src, int h, int w, ClCropBox b, int flip, float *dst)
{
  float sy_scale = (float) b.height / (float) h;
  float sx_scale = (float) b.width / (float) w;
  int ymax = b.height - 1, xmax = b.width - 1;
  int x0s[COLUMN_TILE], x1s[COLUMN_TILE];
  float fxs[COLUMN_TILE];

  for (int tile = 0; tile < w; tile += COLUMN_TILE)
    {
      int tile_w = MIN (COLUMN_TILE, w - tile);
      /* Indexed by output column; a flip just reads the source columns right to left. */
      for (int t = 0; t < tile_w; t++)
        {
          int x = tile + t;
          int xs = flip ? w - 1 - x : x;
          float sx = ((float) xs + 0.5f) * sx_scale - 0.5f;
          sx = sx < 0.0f ? 0.0f : sx > (float) xmax ? (float) xmax : sx;
          int x0 = (int) sx;
          x0s[t] = b.left + x0;
          x1s[t] = b.left + (x0 < xmax ? x0 + 1 : xmax);
          fxs[t] = sx - (float) x0;
        }
      for (int y = 0; y < h; y++)
        {
          float sy = ((float) y + 0.5f) * sy_scale - 0.5f;
          sy = sy < 0.0f ? 0.0f : sy > (float) ymax ? (float) ymax : sy;
          int y0 = (int) sy;
          int y1 = y0 < ymax ? y0 + 1 : ymax;
          float fy = sy - (float) y0;
          const uint8_t *r0 = src + (size_t) (b.top + y0) * (size_t) w;
          const uint8_t *r1 = src + (size_t) (b.top + y1) * (size_t) w;
          float *out = dst + (size_t) y * (size_t) w + tile;
          for (int t = 0; t < tile_w; t++)
            {
              float a0 = u8_to_float[r0[x0s[t]]], a1 = u8_to_float[r1[x0s[t]]];
              float b0 = u8_to_float[r0[x1s[t]]], b1 = u8_to_float[r1[x1s[t]]];
              float left = a0 + (a1 - a0) * fy;
              float right = b0 + (b1 - b0) * fy;
              out[t] = left + (right - left) * fxs[t];
            }
        }
    }
}

static inline float
clamp01 (float v)
{
  return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* SimCLR's brightness then contrast (or the reverse), clamping after each; passes are fused
 * where the contrast mean allows. Contrast is written as x*c + m*(1-c) rather than
 * (x-m)*c + m so that c == 1 returns x exactly. */
static void
jitter (float *img, size_t n, float brightness, float contrast, int brightness_first)
{
  double sum = 0.0;
  if (brightness_first)
    {
      for (size_t i = 0; i < n; i++)
        {
          img[i] = clamp01 (img[i] * brightness);
          sum += img[i];
        }
      float shift = (float) (sum / (double) n) * (1.0f - contrast);
      for (size_t i = 0; i < n; i++)
        img[i] = clamp01 (img[i] * contrast + shift);
    }
  else
    {
      for (size_t i = 0; i < n; i++)
        sum += img[i];
      float shift = (float) (sum / (double) n) * (1.0f - contrast);
      for (size_t i = 0; i < n; i++)
        img[i] = clamp01 (clamp01 (img[i] * contrast + shift) * brightness);
    }
}

/* The PCG32 step of cl_rng.c, inlined here because the noise loop is the hot spot of a view
 * and a cross-file call per draw would dominate it. */
static inline uint32_t
noise_u32 (ClRng *rng)
{
  uint64_t old = rng->state;
  rng->state = old * 6364136223846793005ULL + rng->inc;
  uint32_t xorshifted = (uint32_t) (((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t) (old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

/* Marsaglia's polar method on a private stream: two normals per accepted pair and no trig,
 * several times cheaper per pixel than cl_rng_normal. Its rejection loop draws a variable
 * number of values, which is why it runs on a stream of its own. Single precision is ample for
 * pixel noise; s == 0, the log's only singular point, is rejected with the points outside. */
static void
add_noise (float *img, size_t n, float std, ClRng *noise_rng)
{
  const float scale = 1.0f / 2147483648.0f;
  size_t i = 0;
  while (i < n)
    {
      float v1, v2, s;
      do
        {
          v1 = (float) (int32_t) noise_u32 (noise_rng) * scale;
          v2 = (float) (int32_t) noise_u32 (noise_rng) * scale;
          s = v1 * v1 + v2 * v2;
        }
      while (s >= 1.0f || s == 0.0f);
      float m = sqrtf (-2.0f * logf (s) / s) * std;
      img[i++] += v1 * m;
      if (i < n)
        img[i++] += v2 * m;
    }
}

void
cl_augment_add_noise (float *img, size_t n, float std, uint64_t noise_seed)
{
  ClRng noise_rng;
  cl_rng_seed (&noise_rng, noise_seed, CL_STREAM_AUG);
  add_noise (img, n, std, &noise_rng);
}

void
cl_augment_draw (int h, int w, float crop_min_area, ClRng *rng, ClAugDraws *d)
{
  d->box = cl_augment_sample_crop (h, w, crop_min_area, rng);
  d->flip_u = cl_rng_uniform (rng);
  d->jitter_apply_u = cl_rng_uniform (rng);
  d->jitter_order_u = cl_rng_uniform (rng);
  d->brightness_u = cl_rng_uniform (rng);
  d->contrast_u = cl_rng_uniform (rng);
  d->noise_seed = (uint64_t) cl_rng_u32 (rng) << 32;
  d->noise_seed |= cl_rng_u32 (rng);
}

float
cl_augment_jitter_factor (float strength, double u)
{
  return fmaxf (0.0f, 1.0f + 0.8f * strength * (float) (2.0 * u - 1.0));
}

int
cl_augment_blur_radius (int h)
{
  return h > 0 ? (h / 10) / 2 : 0;
}

void
cl_augment_blur_draw (uint64_t noise_seed, double *apply_u, float *sigma)
{
  ClRng rng;
  /* A seed of its own (the noise stream is keyed by noise_seed itself). */
  cl_rng_seed (&rng, cl_hash64 (noise_seed ^ 0x626c7572u), CL_STREAM_AUG);
  *apply_u = cl_rng_uniform (&rng);
  *sigma = (float) (CL_AUG_BLUR_SIGMA_MIN + (CL_AUG_BLUR_SIGMA_MAX - CL_AUG_BLUR_SIGMA_MIN) * cl_rng_uniform (&rng));
}

/* Index i reflected into [0, n) without repeating the edge (torchvision's "reflect"). */
static inline int
reflect (int i, int n)
{
  if (n == 1)
    return 0;
  int period = 2 * (n - 1);
  i = abs (i) % period;
  return i < n ? i : period - i;
}

/* One 1-D pass of the kernel (2r+1 taps) along n samples spaced stride apart, in place, through tmp. */
static void
blur_line (float *line, int n, size_t stride, const float *kernel, int r, float *tmp)
{
  for (int i = 0; i < n; i++)
    tmp[i] = line[(size_t) i * stride];
  for (int i = 0; i < n; i++)
    {
      float acc = 0.0f;
      for (int d = -r; d <= r; d++)
        acc += kernel[d + r] * tmp[reflect (i + d, n)];
      line[(size_t) i * stride] = acc;
    }
}

void
cl_augment_blur (float *img, int c, int h, int w, float sigma)
{
  int r = cl_augment_blur_radius (h);
  if (r < 1 || !(sigma > 0.0f) || c < 1 || w < 1)
    return;
  float kernel[2 * (CL_AUG_BLUR_STACK / 20) + 1];
  r = MIN (r, CL_AUG_BLUR_STACK / 20);
  double sum = 0.0;
  for (int d = -r; d <= r; d++)
    sum += exp (-(double) d * d / (2.0 * (double) sigma * sigma));
  for (int d = -r; d <= r; d++)
    kernel[d + r] = (float) (exp (-(double) d * d / (2.0 * (double) sigma * sigma)) / sum);
  float stack[CL_AUG_BLUR_STACK];
  float *tmp = MAX (h, w) <= CL_AUG_BLUR_STACK ? stack : g_new (float, MAX (h, w));
  size_t n = (size_t) h * (size_t) w;
  for (int k = 0; k < c; k++)
    {
      float *plane = img + (size_t) k * n;
      for (int y = 0; y < h; y++)
        blur_line (plane + (size_t) y * w, w, 1, kernel, r, tmp);
      for (int x = 0; x < w; x++)
        blur_line (plane + x, h, (size_t) w, kernel, r, tmp);
    }
  if (tmp != stack)
    g_free (tmp);
}

void
cl_augment_view (const uint8_t *src, int h, int w, const ClAugParams *p, ClRng *rng, float *dst)
{
  /* All draws first, in a fixed order and number; the parameters only decide how they are used. */
  ClAugDraws d;
  cl_augment_draw (h, w, p->crop_min_area, rng, &d);

  size_t n = (size_t) h * (size_t) w;
  cl_augment_resize_crop (src, h, w, d.box, d.flip_u < (double) p->flip, dst);

  if (p->jitter > 0.0f && d.jitter_apply_u < CL_AUG_JITTER_PROB)
    jitter (dst, n, cl_augment_jitter_factor (p->jitter, d.brightness_u),
            cl_augment_jitter_factor (p->jitter, d.contrast_u), d.jitter_order_u < 0.5);

  if (p->blur > 0.0f)
    {
      double apply_u;
      float sigma;
      cl_augment_blur_draw (d.noise_seed, &apply_u, &sigma);
      if (apply_u < (double) p->blur)
        cl_augment_blur (dst, 1, h, w, sigma);
    }

  if (p->noise > 0.0f)
    cl_augment_add_noise (dst, n, p->noise, d.noise_seed);
}

void
cl_image_to_float (const uint8_t *src, int h, int w, float *dst)
{
  size_t n = (size_t) h * (size_t) w;
  for (size_t i = 0; i < n; i++)
    dst[i] = u8_to_float[src[i]];
}
