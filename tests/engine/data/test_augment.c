/* Per-view augmentations: exactness at neutral settings, geometry against a PyTorch oracle,
 * the fixed draw layout, and the statistics of each random step. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/data/cl_augment.h"

static uint8_t *
random_image (int h, int w, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  uint8_t *img = g_malloc ((gsize) h * (gsize) w);
  for (int i = 0; i < h * w; i++)
    img[i] = (uint8_t) g_rand_int_range (r, 0, 256);
  img[0] = 0;
  img[h * w - 1] = 255;
  g_rand_free (r);
  return img;
}

static const ClAugParams neutral = { 1.0f, 0.0f, 0.0f, 0.0f, 0.0f };

static void
test_to_float (void)
{
  uint8_t src[256];
  float dst[256];
  for (int i = 0; i < 256; i++)
    src[i] = (uint8_t) i;
  cl_image_to_float (src, 16, 16, dst);
  for (int i = 0; i < 256; i++)
    g_assert_cmpfloat (fabs ((double) dst[i] - i / 255.0), <=, 1e-7);
  g_assert_cmpfloat (dst[0], ==, 0.0f);
  g_assert_cmpfloat (dst[255], ==, 1.0f);
}

/* Neutral parameters return the evaluation image bit for bit, for several shapes (including
 * ones outside the crop's aspect range, where only the fallback could apply). */
static void
test_identity (void)
{
  static const int shapes[][2] = { { 28, 28 }, { 13, 20 }, { 1, 1 }, { 1, 9 }, { 112, 112 }, { 28, 112 } };
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int h = shapes[s][0], w = shapes[s][1];
      g_autofree uint8_t *img = random_image (h, w, (guint32) s);
      g_autofree float *ref = g_new (float, h *w);
      g_autofree float *out = g_new (float, h *w);
      cl_image_to_float (img, h, w, ref);
      ClRng rng;
      cl_rng_seed (&rng, 7, CL_STREAM_AUG);
      for (int rep = 0; rep < 50; rep++)
        {
          cl_augment_view (img, h, w, &neutral, &rng, out);
          g_assert_cmpmem (out, sizeof (float) * h * w, ref, sizeof (float) * h * w);
        }
    }
}

static void
assert_mirror (const float *a, const float *b, int h, int w)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      g_assert_cmpfloat (a[y * w + x], ==, b[y * w + (w - 1 - x)]);
}

static void
test_flip (void)
{
  int h = 28, w = 27;
  g_autofree uint8_t *img = random_image (h, w, 11);
  float ref[28 * 27], out[28 * 27];
  cl_image_to_float (img, h, w, ref);
  ClRng rng;
  cl_rng_seed (&rng, 3, CL_STREAM_AUG);
  ClAugParams always = neutral;
  always.flip = 1.0f;
  for (int rep = 0; rep < 20; rep++)
    {
      cl_augment_view (img, h, w, &always, &rng, out);
      assert_mirror (out, ref, h, w);
    }

  /* flip = 0.5: every view is either the image or its mirror, about half each. */
  ClAugParams half = neutral;
  half.flip = 0.5f;
  int mirrored = 0, n = 2000;
  for (int rep = 0; rep < n; rep++)
    {
      cl_augment_view (img, h, w, &half, &rng, out);
      if (memcmp (out, ref, sizeof out) != 0)
        {
          assert_mirror (out, ref, h, w);
          mirrored++;
        }
    }
  /* Binomial(2000, 0.5): sd 22.4, so +-5 sd. */
  g_assert_cmpint (mirrored, >, 1000 - 112);
  g_assert_cmpint (mirrored, <, 1000 + 112);

  /* The public resize's mirror is the exact mirror of the unmirrored crop. */
  ClCropBox box = { 3, 4, 17, 15 };
  float plain[28 * 27];
  cl_augment_resize_crop (img, h, w, box, 0, plain);
  cl_augment_resize_crop (img, h, w, box, 1, out);
  assert_mirror (out, plain, h, w);
}

/* Bilinear resize against torch.nn.functional.interpolate(mode='bilinear',
 * align_corners=False) on the cropped tensor, divided by 255. Generated with /usr/bin/python3
 * (torch 1.13, float64): src[y][x] = (y*7 + x)*29 % 256 on a 6x7 image, crops (top, left,
 * height, width) = (1, 2, 3, 4) and (0, 1, 5, 3), output 6x7. */
static void
test_resize_oracle (void)
{
  static const double expect_a[42] = {
    0.0196078431, 0.0602240896, 0.125210084, 0.190196078, 0.255182073,  0.320168067, 0.360784314,
    0.218627451,  0.259243697,  0.324229692, 0.26372549,  0.203221289,  0.268207283, 0.308823529,
    0.616666667,  0.657282913,  0.722268908, 0.410784314, 0.0992997199, 0.164285714, 0.204901961,
    0.76372549,   0.804341737,  0.869327731, 0.557843137, 0.246358543,  0.311344538, 0.351960784,
    0.659803922,  0.700420168,  0.765406162, 0.704901961, 0.644397759,  0.709383754, 0.75,
    0.607843137,  0.648459384,  0.713445378, 0.778431373, 0.843417367,  0.908403361, 0.949019608,
  };
  static const double expect_b[42] = {
    0.11372549,  0.129971989, 0.178711485, 0.22745098,   0.276190476, 0.324929972, 0.341176471,
    0.710784314, 0.619467787, 0.345518207, 0.0715686275, 0.120308123, 0.169047619, 0.185294118,
    0.788562092, 0.745051354, 0.614519141, 0.483986928,  0.532726424, 0.58146592,  0.597712418,
    0.615359477, 0.631605976, 0.680345472, 0.729084967,  0.777824463, 0.826563959, 0.842810458,
    0.442156863, 0.458403361, 0.507142857, 0.555882353,  0.604621849, 0.653361345, 0.669607843,
    0.28627451,  0.302521008, 0.351260504, 0.4,          0.448739496, 0.497478992, 0.51372549,
  };
  uint8_t src[42];
  for (int i = 0; i < 42; i++)
    src[i] = (uint8_t) ((i * 29) % 256);
  float out[42];
  ClCropBox a = { 1, 2, 3, 4 }, b = { 0, 1, 5, 3 };
  cl_augment_resize_crop (src, 6, 7, a, 0, out);
  for (int i = 0; i < 42; i++)
    g_assert_cmpfloat_with_epsilon (out[i], expect_a[i], 2e-6);
  cl_augment_resize_crop (src, 6, 7, b, 0, out);
  for (int i = 0; i < 42; i++)
    g_assert_cmpfloat_with_epsilon (out[i], expect_b[i], 2e-6);

  /* A whole-image box (area 1, aspect 1 on a square image) is the identity. */
  g_autofree uint8_t *img = random_image (28, 28, 5);
  float ref[784], view[784];
  ClCropBox whole = { 0, 0, 28, 28 };
  cl_image_to_float (img, 28, 28, ref);
  cl_augment_resize_crop (img, 28, 28, whole, 0, view);
  g_assert_cmpmem (view, sizeof view, ref, sizeof ref);
}

/* A constant image stays exactly constant through any crop and resize. */
static void
test_constant (void)
{
  uint8_t img[20 * 24];
  float out[20 * 24];
  ClAugParams p = { 0.08f, 0.5f, 0.0f, 0.0f, 0.0f };
  ClRng rng;
  cl_rng_seed (&rng, 99, CL_STREAM_AUG);
  for (int v = 0; v < 256; v += 17)
    {
      memset (img, v, sizeof img);
      for (int rep = 0; rep < 50; rep++)
        {
          cl_augment_view (img, 20, 24, &p, &rng, out);
          for (int i = 0; i < 20 * 24; i++)
            g_assert_cmpfloat (out[i], ==, (float) v / 255.0f);
        }
    }
}

/* Before noise, every view is inside [0, 1], even at jitter strengths past the nominal range. */
static void
test_range (void)
{
  g_autofree uint8_t *img = random_image (28, 28, 21);
  float out[784];
  ClRng rng;
  cl_rng_seed (&rng, 5, CL_STREAM_AUG);
  const float strengths[] = { 0.5f, 1.0f, 2.0f };
  double lo = 1.0, hi = 0.0;
  for (gsize s = 0; s < G_N_ELEMENTS (strengths); s++)
    {
      ClAugParams p = { 0.08f, 0.5f, strengths[s], 0.0f, 0.0f };
      for (int rep = 0; rep < 2000; rep++)
        {
          cl_augment_view (img, 28, 28, &p, &rng, out);
          for (int i = 0; i < 784; i++)
            {
              g_assert_cmpfloat (out[i], >=, 0.0f);
              g_assert_cmpfloat (out[i], <=, 1.0f);
              lo = MIN (lo, out[i]);
              hi = MAX (hi, out[i]);
            }
        }
    }
  /* Strong jitter must actually reach the clamps. */
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, ==, 1.0);
}

/* Every call consumes exactly CL_AUG_U32_PER_VIEW values whatever the knobs. */
static void
test_draw_count (void)
{
  static const ClAugParams settings[] = {
    { 1.0f, 0.0f, 0.0f, 0.0f, 0.0f },   { 0.08f, 0.0f, 0.0f, 0.0f, 0.0f }, { 0.5f, 1.0f, 0.0f, 0.0f, 0.0f },
    { 0.5f, 0.5f, 1.0f, 0.0f, 0.0f },   { 0.5f, 0.5f, 0.3f, 0.2f, 0.0f },  { 1.0f, 0.0f, 0.0f, 1.0f, 0.0f },
    { 0.01f, 1.0f, 2.0f, 0.05f, 0.0f },
  };
  static const int shapes[][2] = { { 28, 28 }, { 112, 112 }, { 3, 50 } };
  for (gsize sh = 0; sh < G_N_ELEMENTS (shapes); sh++)
    {
      int h = shapes[sh][0], w = shapes[sh][1];
      g_autofree uint8_t *img = random_image (h, w, 1);
      g_autofree float *out = g_new (float, h *w);
      for (guint64 seed = 0; seed < 20; seed++)
        {
          ClRng ref;
          cl_rng_seed (&ref, seed, CL_STREAM_AUG);
          for (int k = 0; k < CL_AUG_U32_PER_VIEW; k++)
            cl_rng_u32 (&ref);
          for (gsize s = 0; s < G_N_ELEMENTS (settings); s++)
            {
              ClRng rng;
              cl_rng_seed (&rng, seed, CL_STREAM_AUG);
              cl_augment_view (img, h, w, &settings[s], &rng, out);
              g_assert_cmpuint (rng.state, ==, ref.state);
              g_assert_cmpuint (rng.inc, ==, ref.inc);
            }
          ClRng crop_ref, crop_rng;
          cl_rng_seed (&crop_ref, seed, CL_STREAM_AUG);
          for (int k = 0; k < CL_AUG_CROP_U32; k++)
            cl_rng_u32 (&crop_ref);
          for (gsize s = 0; s < G_N_ELEMENTS (settings); s++)
            {
              cl_rng_seed (&crop_rng, seed, CL_STREAM_AUG);
              cl_augment_sample_crop (h, w, settings[s].crop_min_area, &crop_rng);
              g_assert_cmpuint (crop_rng.state, ==, crop_ref.state);
            }
        }
    }
}

/* Changing jitter or noise leaves the geometry (crop, flip) untouched. Jitter is a monotone
 * map of pixel values, so the pixel order of the jittered view must agree with the plain one;
 * noise comes last, so the difference of the two views is exactly the noise. */
static void
test_knob_independence (void)
{
  g_autofree uint8_t *img = random_image (28, 28, 8);
  float plain[784], jittered[784], noisy[784];
  ClAugParams p0 = { 0.3f, 0.5f, 0.0f, 0.0f, 0.0f };
  ClAugParams pj = { 0.3f, 0.5f, 0.5f, 0.0f, 0.0f };
  ClAugParams pn = { 0.3f, 0.5f, 0.0f, 0.2f, 0.0f };
  double sum2 = 0.0;
  long count = 0;
  int changed_by_jitter = 0;
  for (guint64 seed = 0; seed < 200; seed++)
    {
      ClRng r0, rj, rn;
      cl_rng_seed (&r0, seed, CL_STREAM_AUG);
      cl_rng_seed (&rj, seed, CL_STREAM_AUG);
      cl_rng_seed (&rn, seed, CL_STREAM_AUG);
      for (int view = 0; view < 3; view++)
        {
          cl_augment_view (img, 28, 28, &p0, &r0, plain);
          cl_augment_view (img, 28, 28, &pj, &rj, jittered);
          cl_augment_view (img, 28, 28, &pn, &rn, noisy);
          if (memcmp (plain, jittered, sizeof plain) != 0)
            changed_by_jitter++;
          for (int i = 0; i < 784; i++)
            for (int j = i + 1; j < 784; j += 7)
              if (plain[i] < plain[j])
                g_assert_cmpfloat (jittered[i], <=, jittered[j]);
              else if (plain[i] > plain[j])
                g_assert_cmpfloat (jittered[i], >=, jittered[j]);
          for (int i = 0; i < 784; i++)
            {
              double d = (double) noisy[i] - plain[i];
              sum2 += d * d;
              count++;
            }
        }
    }
  /* Jitter applies with probability 0.8: 480 of 600 views expected, sd 9.8. */
  g_assert_cmpint (changed_by_jitter, >, 480 - 50);
  g_assert_cmpint (changed_by_jitter, <, 480 + 50);
  /* Pure noise of std 0.2: any geometric change would add image structure to the difference. */
  double rms = sqrt (sum2 / (double) count);
  g_assert_cmpfloat (fabs (rms - 0.2), <, 0.2 * 0.02);
}

static void
test_deterministic (void)
{
  g_autofree uint8_t *img = random_image (28, 28, 13);
  float a[784], b[784];
  ClAugParams p = { 0.2f, 0.5f, 0.8f, 0.1f, 0.0f };
  ClRng ra, rb;
  cl_rng_seed (&ra, 1234, CL_STREAM_AUG);
  cl_rng_seed (&rb, 1234, CL_STREAM_AUG);
  for (int rep = 0; rep < 100; rep++)
    {
      cl_augment_view (img, 28, 28, &p, &ra, a);
      cl_augment_view (img, 28, 28, &p, &rb, b);
      g_assert_cmpmem (a, sizeof a, b, sizeof b);
    }
  cl_rng_seed (&rb, 1235, CL_STREAM_AUG);
  cl_augment_view (img, 28, 28, &p, &ra, a);
  cl_augment_view (img, 28, 28, &p, &rb, b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  /* Consecutive views from one stream differ too. */
  cl_augment_view (img, 28, 28, &p, &ra, b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
}

static void
test_crop_sampler (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 77, CL_STREAM_AUG);

  /* Large image, so rounding of the box sides barely matters. */
  const float mins[] = { 0.08f, 0.5f };
  for (gsize m = 0; m < G_N_ELEMENTS (mins); m++)
    {
      double amin = 1.0, amax = 0.0, rmin = 10.0, rmax = 0.0;
      int whole = 0, n = 20000, wide = 0, tall = 0;
      for (int i = 0; i < n; i++)
        {
          ClCropBox b = cl_augment_sample_crop (1000, 1000, mins[m], &rng);
          g_assert_cmpint (b.top, >=, 0);
          g_assert_cmpint (b.left, >=, 0);
          g_assert_cmpint (b.top + b.height, <=, 1000);
          g_assert_cmpint (b.left + b.width, <=, 1000);
          if (b.height == 1000 && b.width == 1000)
            {
              whole++;
              continue;
            }
          double area = (double) b.height * b.width / 1e6;
          double ratio = (double) b.width / b.height;
          amin = MIN (amin, area);
          amax = MAX (amax, area);
          rmin = MIN (rmin, ratio);
          rmax = MAX (rmax, ratio);
          wide += b.width > b.height;
          tall += b.width < b.height;
        }
      /* Log-uniform aspect (and a symmetric rejection): wide and tall equally likely. A
       * uniform aspect on [3/4, 4/3] would give 43 % tall; sd here is about 0.4 %. */
      double tall_frac = (double) tall / (wide + tall);
      g_assert_cmpfloat (fabs (tall_frac - 0.5), <, 0.02);
      g_assert_cmpfloat (amin, >=, mins[m] - 0.002);
      g_assert_cmpfloat (amin, <, mins[m] + 0.01);
      g_assert_cmpfloat (amax, >, 0.95);
      g_assert_cmpfloat (rmin, >=, 0.75 - 0.005);
      g_assert_cmpfloat (rmin, <, 0.76);
      g_assert_cmpfloat (rmax, <=, 4.0 / 3.0 + 0.005);
      g_assert_cmpfloat (rmax, >, 1.32);
      /* Ten failed attempts in a row are rare: each fails only when the box pokes out. */
      g_assert_cmpint (whole, <, n / 100);
    }

  /* Placement reaches both edges on a small image. */
  gboolean top0 = FALSE, top_end = FALSE, left0 = FALSE, left_end = FALSE;
  for (int i = 0; i < 5000; i++)
    {
      ClCropBox b = cl_augment_sample_crop (28, 28, 0.08f, &rng);
      g_assert_cmpint (b.height, >=, 1);
      g_assert_cmpint (b.width, >=, 1);
      g_assert_cmpint (b.top + b.height, <=, 28);
      g_assert_cmpint (b.left + b.width, <=, 28);
      top0 |= b.top == 0 && b.height < 28;
      left0 |= b.left == 0 && b.width < 28;
      top_end |= b.top + b.height == 28 && b.top > 0;
      left_end |= b.left + b.width == 28 && b.left > 0;
    }
  g_assert_true (top0 && top_end && left0 && left_end);

  /* Area 1 is always the whole image; degenerate shapes stay inside. */
  for (int i = 0; i < 100; i++)
    {
      ClCropBox b = cl_augment_sample_crop (28, 40, 1.0f, &rng);
      g_assert_true (b.top == 0 && b.left == 0 && b.height == 28 && b.width == 40);
      b = cl_augment_sample_crop (1, 1, 0.08f, &rng);
      g_assert_true (b.top == 0 && b.left == 0 && b.height == 1 && b.width == 1);
      b = cl_augment_sample_crop (2, 60, 0.08f, &rng);
      g_assert_true (b.top >= 0 && b.left >= 0 && b.top + b.height <= 2 && b.left + b.width <= 60);
    }
}

static void
mean_sd (const double *v, int n, double *mean, double *sd)
{
  double s = 0.0, s2 = 0.0;
  for (int i = 0; i < n; i++)
    s += v[i];
  *mean = s / n;
  for (int i = 0; i < n; i++)
    s2 += (v[i] - *mean) * (v[i] - *mean);
  *sd = sqrt (s2 / (n - 1));
}

/* Brightness and contrast recovered from a two-level image (no clamping at s = 0.5): the view
 * is b * ((x - m) * c + m), so the mean gives b and the spread gives b * c. Both factors must be
 * uniform on [1 - 0.8s, 1 + 0.8s], independent, and applied to about 80 % of views. */
static void
test_jitter_statistics (void)
{
  uint8_t img[28 * 28];
  for (int i = 0; i < 784; i++)
    img[i] = (i % 28) < 14 ? 64 : 128;
  const double lo = 64 / 255.0, hi = 128 / 255.0, m = (lo + hi) / 2;
  const float s = 0.5f;
  ClAugParams p = { 1.0f, 0.0f, s, 0.0f, 0.0f };
  ClRng rng;
  cl_rng_seed (&rng, 2024, CL_STREAM_AUG);
  enum
  {
    N = 6000
  };
  static double bs[N], cs[N];
  int applied = 0;
  float out[784];
  for (int k = 0; k < N; k++)
    {
      cl_augment_view (img, 28, 28, &p, &rng, out);
      double sum = 0.0;
      for (int i = 0; i < 784; i++)
        sum += out[i];
      double b = sum / 784 / m;
      double c = (out[27] - out[0]) / (b * (hi - lo));
      /* Two levels only, and the left/right halves keep their own values. */
      g_assert_cmpfloat (out[0], ==, out[13]);
      g_assert_cmpfloat (out[14], ==, out[27]);
      if (fabs (b - 1) > 1e-6 || fabs (c - 1) > 1e-6)
        {
          g_assert_cmpfloat (b, >=, 1 - 0.8 * s - 1e-5);
          g_assert_cmpfloat (b, <=, 1 + 0.8 * s + 1e-5);
          g_assert_cmpfloat (c, >=, 1 - 0.8 * s - 1e-4);
          g_assert_cmpfloat (c, <=, 1 + 0.8 * s + 1e-4);
          bs[applied] = b;
          cs[applied] = c;
          applied++;
        }
      else
        {
          g_assert_cmpfloat (out[0], ==, (float) (64 / 255.0f));
          g_assert_cmpfloat (out[27], ==, (float) (128 / 255.0f));
        }
    }
  /* Binomial(6000, 0.8): sd 31. */
  g_assert_cmpint (applied, >, 4800 - 155);
  g_assert_cmpint (applied, <, 4800 + 155);
  double mb, sb, mc, sc;
  mean_sd (bs, applied, &mb, &sb);
  mean_sd (cs, applied, &mc, &sc);
  double sd_expected = 0.8 * s / sqrt (3.0); /* uniform half-width / sqrt(3) */
  g_test_message ("brightness mean %.4f sd %.4f, contrast mean %.4f sd %.4f (expected sd %.4f)", mb, sb, mc, sc,
                  sd_expected);
  g_assert_cmpfloat (fabs (mb - 1.0), <, 0.01);
  g_assert_cmpfloat (fabs (mc - 1.0), <, 0.01);
  g_assert_cmpfloat (fabs (sb - sd_expected), <, 0.01);
  g_assert_cmpfloat (fabs (sc - sd_expected), <, 0.01);
  double cov = 0.0;
  for (int k = 0; k < applied; k++)
    cov += (bs[k] - mb) * (cs[k] - mc);
  double corr = cov / (applied - 1) / (sb * sc);
  g_assert_cmpfloat (fabs (corr), <, 0.06);

  /* Contrast is about the image mean, so a constant image only sees the brightness factor. */
  uint8_t flat[784];
  memset (flat, 100, sizeof flat);
  int flat_applied = 0;
  double ratios[N];
  for (int k = 0; k < N; k++)
    {
      cl_augment_view (flat, 28, 28, &p, &rng, out);
      for (int i = 1; i < 784; i++)
        g_assert_cmpfloat (out[i], ==, out[0]);
      double r = out[0] / (100 / 255.0);
      if (fabs (r - 1.0) > 1e-6)
        ratios[flat_applied++] = r;
    }
  double mr, sr;
  mean_sd (ratios, flat_applied, &mr, &sr);
  g_assert_cmpfloat (fabs (mr - 1.0), <, 0.01);
  g_assert_cmpfloat (fabs (sr - sd_expected), <, 0.01);
}

/* Noise: measured std and mean over many pixels, Gaussian shape, no clamping, no correlation
 * between neighbouring pixels. */
static void
test_noise (void)
{
  const float stds[] = { 0.05f, 0.3f };
  uint8_t black[784];
  memset (black, 0, sizeof black);
  float out[784];
  for (gsize s = 0; s < G_N_ELEMENTS (stds); s++)
    {
      ClAugParams p = { 1.0f, 0.0f, 0.0f, stds[s], 0.0f };
      ClRng rng;
      cl_rng_seed (&rng, 31 + s, CL_STREAM_AUG);
      double sum = 0, sum2 = 0, lag = 0, neg_min = 0;
      long n = 0, within1 = 0, lag_n = 0;
      for (int v = 0; v < 300; v++)
        {
          cl_augment_view (black, 28, 28, &p, &rng, out);
          for (int i = 0; i < 784; i++)
            {
              double z = out[i];
              sum += z;
              sum2 += z * z;
              within1 += fabs (z) < stds[s];
              neg_min = MIN (neg_min, z);
              n++;
              if (i + 1 < 784)
                {
                  lag += z * out[i + 1];
                  lag_n++;
                }
            }
        }
      double mean = sum / n;
      double sd = sqrt (sum2 / n - mean * mean);
      double frac1 = (double) within1 / n;
      double corr = lag / lag_n / (sd * sd);
      g_test_message ("noise %.2f: mean %.5f sd %.5f P(|z|<1) %.4f lag-1 corr %.4f", stds[s], mean, sd, frac1, corr);
      /* n = 235200: sd of the mean is std/485, relative sd of the sd is 0.15 %. */
      g_assert_cmpfloat (fabs (mean), <, 5 * stds[s] / 485);
      g_assert_cmpfloat (fabs (sd / stds[s] - 1.0), <, 0.01);
      g_assert_cmpfloat (fabs (frac1 - 0.682689), <, 0.005);
      g_assert_cmpfloat (fabs (corr), <, 0.01);
      /* Not clamped: a black image gets negative values. */
      g_assert_cmpfloat (neg_min, <, -2.0 * stds[s]);
    }
}

/* Timing only, under -m perf; the bound just catches something pathological. */
static void
test_speed (void)
{
  g_autofree uint8_t *img = random_image (28, 28, 3);
  float out[784];
  static const ClAugParams settings[] = {
    { 1.0f, 0.0f, 0.0f, 0.0f, 0.0f },
    { 0.5f, 0.0f, 0.0f, 0.0f, 0.0f },
    { 0.08f, 0.5f, 0.5f, 0.0f, 0.0f },
    { 0.08f, 0.5f, 0.5f, 0.1f, 0.0f },
  };
  ClRng rng;
  cl_rng_seed (&rng, 1, CL_STREAM_AUG);
  for (gsize s = 0; s < G_N_ELEMENTS (settings); s++)
    {
      int n = 20000;
      gint64 t0 = g_get_monotonic_time ();
      for (int i = 0; i < n; i++)
        cl_augment_view (img, 28, 28, &settings[s], &rng, out);
      gint64 t1 = g_get_monotonic_time ();
      double ns = (double) (t1 - t0) * 1000.0 / n;
      g_test_minimized_result (ns, "crop %.2f flip %.1f jitter %.1f noise %.2f: %.0f ns per 28x28 view",
                               settings[s].crop_min_area, settings[s].flip, settings[s].jitter, settings[s].noise, ns);
      g_assert_cmpfloat (ns, <, 200000.0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/augment/to-float", test_to_float);
  g_test_add_func ("/augment/identity", test_identity);
  g_test_add_func ("/augment/flip", test_flip);
  g_test_add_func ("/augment/resize-oracle", test_resize_oracle);
  g_test_add_func ("/augment/constant", test_constant);
  g_test_add_func ("/augment/range", test_range);
  g_test_add_func ("/augment/draw-count", test_draw_count);
  g_test_add_func ("/augment/knob-independence", test_knob_independence);
  g_test_add_func ("/augment/deterministic", test_deterministic);
  g_test_add_func ("/augment/crop-sampler", test_crop_sampler);
  g_test_add_func ("/augment/jitter-statistics", test_jitter_statistics);
  g_test_add_func ("/augment/noise", test_noise);
  if (g_test_perf ())
    g_test_add_func ("/augment/speed", test_speed);
  return g_test_run ();
}
