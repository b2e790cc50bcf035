/* SimCLR's random Gaussian blur (aug.blur, engine/data/cl_augment): the kernel against an
 * independent 2-D convolution, its draws, and that switching it on changes nothing else. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/data/cl_augment.h"
#include "engine/data/cl_augment_color.h"

static uint8_t *
random_image (int h, int w, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  uint8_t *img = g_malloc ((gsize) h * (gsize) w);
  for (int i = 0; i < h * w; i++)
    img[i] = (uint8_t) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  return img;
}

/* SimCLR's kernel_size = image_size // 10, radius = kernel_size // 2. */
static void
test_blur_radius (void)
{
  g_assert_cmpint (cl_augment_blur_radius (224), ==, 11); /* SimCLR's 23-tap kernel on ImageNet */
  g_assert_cmpint (cl_augment_blur_radius (64), ==, 3);
  g_assert_cmpint (cl_augment_blur_radius (56), ==, 2);
  g_assert_cmpint (cl_augment_blur_radius (28), ==, 1);
  g_assert_cmpint (cl_augment_blur_radius (19), ==, 0);
}

/* The separable in-place blur equals a direct 2-D convolution with the outer-product kernel over
 * an explicitly mirrored (edge not repeated) padded copy, in double; a constant image stays
 * constant; a delta in the middle spreads to exactly the kernel. */
static void
test_blur_oracle (void)
{
  const int h = 64, w = 40;
  g_autofree uint8_t *src = random_image (h, w, 7);
  float img[64 * 40];
  const float sigmas[] = { 0.1f, 0.7f, 1.0f, 2.0f };
  for (gsize s = 0; s < G_N_ELEMENTS (sigmas); s++)
    {
      double sigma = sigmas[s];
      int r = cl_augment_blur_radius (h);
      double k[7], sum = 0;
      for (int d = -r; d <= r; d++)
        sum += k[d + r] = exp (-d * d / (2 * sigma * sigma));
      for (int d = 0; d <= 2 * r; d++)
        k[d] /= sum;
      /* Padded copy: row -1 is row 1, row h is row h-2 (the edge pixel is not repeated). */
      int ph = h + 2 * r, pw = w + 2 * r;
      double *pad = g_new (double, (size_t) ph *pw);
      for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++)
          {
            int sy = y - r, sx = x - r;
            sy = sy < 0 ? -sy : sy >= h ? 2 * h - 2 - sy : sy;
            sx = sx < 0 ? -sx : sx >= w ? 2 * w - 2 - sx : sx;
            pad[y * pw + x] = src[sy * w + sx] / 255.0;
          }
      for (int i = 0; i < h * w; i++)
        img[i] = src[i] / 255.0f;
      cl_augment_blur (img, 1, h, w, (float) sigma);
      double worst = 0;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            double want = 0;
            for (int dy = 0; dy <= 2 * r; dy++)
              for (int dx = 0; dx <= 2 * r; dx++)
                want += k[dy] * k[dx] * pad[(y + dy) * pw + (x + dx)];
            worst = fmax (worst, fabs (want - img[y * w + x]));
          }
      g_free (pad);
      g_test_message ("sigma %.1f: max |blur - 2-D oracle| = %.2e", sigma, worst);
      g_assert_cmpfloat (worst, <, 2e-6);

      for (int i = 0; i < h * w; i++)
        img[i] = 0.3f;
      cl_augment_blur (img, 1, h, w, (float) sigma);
      for (int i = 0; i < h * w; i++)
        g_assert_cmpfloat (fabsf (img[i] - 0.3f), <, 1e-6f);

      memset (img, 0, sizeof img);
      img[32 * w + 20] = 1.0f;
      cl_augment_blur (img, 1, h, w, (float) sigma);
      double total = 0;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            int dy = y - 32, dx = x - 20;
            double want = abs (dy) <= r && abs (dx) <= r ? k[dy + r] * k[dx + r] : 0.0;
            g_assert_cmpfloat (fabs (img[y * w + x] - want), <, 1e-6);
            total += img[y * w + x];
          }
      g_assert_cmpfloat (fabs (total - 1.0), <, 1e-5);
    }
  /* A larger sigma spreads more: the delta's peak falls. */
  memset (img, 0, sizeof img);
  img[32 * w + 20] = 1.0f;
  cl_augment_blur (img, 1, h, w, 2.0f);
  g_assert_cmpfloat (img[32 * w + 20], <, 0.05f);
}

/* Each of the c planes gets the same blur. */
static void
test_blur_planes (void)
{
  g_autofree uint8_t *src = random_image (28, 28, 3);
  float planes[3 * 784], one[784];
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 784; i++)
      planes[k * 784 + i] = src[i] / 255.0f;
  for (int i = 0; i < 784; i++)
    one[i] = src[i] / 255.0f;
  cl_augment_blur (planes, 3, 28, 28, 1.3f);
  cl_augment_blur (one, 1, 28, 28, 1.3f);
  for (int k = 0; k < 3; k++)
    g_assert_cmpmem (planes + k * 784, sizeof one, one, sizeof one);
  int changed = 0;
  for (int i = 0; i < 784; i++)
    changed += fabsf (one[i] - src[i] / 255.0f) > 1e-3f;
  g_assert_cmpint (changed, >, 700);
}

/* aug.blur = p blurs a fraction p of the views, sigma uniform on [0.1, 2]; the view is exactly the
 * un-blurred view (same stream) blurred with the drawn sigma, so crop, flip, jitter and noise are
 * the same draws with or without blur, and the stream advances by the documented count. */
static void
test_blur_view (void)
{
  const int h = 64, w = 64, n = h * w;
  g_autofree uint8_t *src = random_image (h, w, 11);
  g_autofree float *plain = g_new (float, n), *blurred = g_new (float, n), *want = g_new (float, n);
  ClAugParams p0 = { 0.3f, 0.5f, 0.8f, 0.0f, 0.0f }, p1 = p0;
  p1.blur = 0.5f;
  int n_views = 1000, n_blurred = 0;
  double sigma_sum = 0, sigma_min = 10, sigma_max = 0;
  for (int rep = 0; rep < n_views; rep++)
    {
      ClRng r0, r1, rd;
      cl_rng_seed (&r0, 500 + rep, CL_STREAM_AUG);
      r1 = r0, rd = r0;
      cl_augment_view (src, h, w, &p0, &r0, plain);
      cl_augment_view (src, h, w, &p1, &r1, blurred);
      g_assert_cmpmem (&r0, sizeof r0, &r1, sizeof r1);
      ClAugDraws d;
      cl_augment_draw (h, w, p0.crop_min_area, &rd, &d);
      double u;
      float sigma;
      cl_augment_blur_draw (d.noise_seed, &u, &sigma);
      g_assert_cmpfloat (sigma, >=, CL_AUG_BLUR_SIGMA_MIN);
      g_assert_cmpfloat (sigma, <=, CL_AUG_BLUR_SIGMA_MAX);
      sigma_sum += sigma;
      sigma_min = fmin (sigma_min, sigma);
      sigma_max = fmax (sigma_max, sigma);
      memcpy (want, plain, sizeof (float) * n);
      if (u < 0.5)
        {
          cl_augment_blur (want, 1, h, w, sigma);
          n_blurred++;
        }
      g_assert_cmpmem (blurred, sizeof (float) * n, want, sizeof (float) * n);
      /* With noise: the blur comes before the noise, which is the same draws in both. */
      if (rep < 20)
        {
          ClAugParams q1 = p1;
          q1.noise = 0.1f;
          q1.blur = 1.0f;
          cl_rng_seed (&r0, 500 + rep, CL_STREAM_AUG);
          r1 = r0;
          cl_augment_view (src, h, w, &q1, &r1, blurred);
          memcpy (want, plain, sizeof (float) * n);
          cl_augment_blur (want, 1, h, w, sigma);
          cl_augment_add_noise (want, (size_t) n, 0.1f, d.noise_seed);
          g_assert_cmpmem (blurred, sizeof (float) * n, want, sizeof (float) * n);
        }
    }
  g_test_message ("%d of %d views blurred; sigma mean %.3f in [%.3f, %.3f]", n_blurred, n_views, sigma_sum / n_views,
                  sigma_min, sigma_max);
  g_assert_cmpint (n_blurred, >, 440); /* binomial(1000, 0.5): 440..560 is > 4.5 sigma */
  g_assert_cmpint (n_blurred, <, 560);
  g_assert_cmpfloat (fabs (sigma_sum / n_views - 1.05), <, 0.06); /* std of the mean 0.017 */
  g_assert_cmpfloat (sigma_min, <, 0.2);
  g_assert_cmpfloat (sigma_max, >, 1.9);
}

/* The colour path blurs every plane with the view's one sigma: a grey image replicated into three
 * planes (no jitter, so no colour change) gives three copies of the grey blurred view. */
static void
test_blur_color (void)
{
  const int h = 56, w = 56, n = h * w;
  g_autofree uint8_t *grey = random_image (h, w, 13);
  g_autofree uint8_t *rgb = g_new (uint8_t, 3 * n);
  for (int k = 0; k < 3; k++)
    memcpy (rgb + k * n, grey, n);
  g_autofree float *out = g_new (float, 3 * n), *ref = g_new (float, n);
  ClAugParams p = { 0.2f, 0.5f, 0.0f, 0.0f, 1.0f };
  for (int rep = 0; rep < 10; rep++)
    {
      ClRng r1, r2;
      cl_rng_seed (&r1, 900 + rep, CL_STREAM_AUG);
      r2 = r1;
      cl_augment_view_color (rgb, 3, h, w, &p, &r1, out);
      cl_augment_view (grey, h, w, &p, &r2, ref);
      for (int k = 0; k < 3; k++)
        g_assert_cmpmem (out + k * n, sizeof (float) * n, ref, sizeof (float) * n);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/augment-blur/radius", test_blur_radius);
  g_test_add_func ("/augment-blur/oracle", test_blur_oracle);
  g_test_add_func ("/augment-blur/planes", test_blur_planes);
  g_test_add_func ("/augment-blur/view", test_blur_view);
  g_test_add_func ("/augment-blur/color", test_blur_color);
  return g_test_run ();
}
