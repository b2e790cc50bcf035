/* NCHW <-> NHWC and the kernel-order changes. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/engine/nn/nn_test_util.h"

/* The layout and kernel-order changes, index by index. */
static void
test_layout_changes (void)
{
  ClRng rng;
  cl_rng_seed (&rng, 16, TEST_STREAM);
  const int n = 3, c_src = 7, c = 5, P = 131;
  float *x = g_new (float, (size_t) n *c_src *P), *h = g_new (float, (size_t) n *P *c);
  float *back = g_new (float, (size_t) n *c *P);
  fill_uniform (&rng, x, (size_t) n * c_src * P, -1, 1);
  cl_nchw_to_nhwc (x, n, c_src, c, P, h);
  for (int s = 0; s < n; s++)
    for (int ch = 0; ch < c; ch++)
      for (int p = 0; p < P; p++)
        g_assert_cmpfloat (h[((size_t) s * P + p) * c + ch], ==, x[((size_t) s * c_src + ch) * P + p]);
  cl_nhwc_to_nchw (h, n, c, P, back);
  for (int s = 0; s < n; s++)
    g_assert_cmpmem (back + (size_t) s * c * P, sizeof (float) * c * P, x + (size_t) s * c_src * P,
                     sizeof (float) * c * P);
  /* One channel is a plain copy either way. */
  cl_nchw_to_nhwc (x, n, c_src, 1, P, h);
  for (int s = 0; s < n; s++)
    g_assert_cmpmem (h + (size_t) s * P, sizeof (float) * P, x + (size_t) s * c_src * P, sizeof (float) * P);

  /* Kernels: w [out][w_in][k][k] (first in_c channels) <-> wp [out][k][k][in_c]; extra channels zeroed. */
  ClConv2d conv;
  g_assert_true (cl_conv2d_init (&conv, 3, 4, 3, 2, 1, 9, 9));
  const int w_in = 6, nw_full = 4 * w_in * 9;
  float *w = g_new (float, nw_full), *wp = g_new (float, cl_conv2d_num_weights (&conv)), *w2 = g_new (float, nw_full);
  fill_uniform (&rng, w, nw_full, -1, 1);
  fill_uniform (&rng, w2, nw_full, -1, 1);
  cl_conv2d_weights_to_nhwc (&conv, w, w_in, wp);
  for (int o = 0; o < 4; o++)
    for (int ch = 0; ch < 3; ch++)
      for (int j = 0; j < 9; j++)
        g_assert_cmpfloat (wp[((size_t) o * 9 + j) * 3 + ch], ==, w[((size_t) o * w_in + ch) * 9 + j]);
  cl_conv2d_weights_from_nhwc (&conv, wp, w_in, w2);
  for (int o = 0; o < 4; o++)
    for (int ch = 0; ch < w_in; ch++)
      for (int j = 0; j < 9; j++)
        g_assert_cmpfloat (w2[((size_t) o * w_in + ch) * 9 + j], ==,
                           ch < 3 ? w[((size_t) o * w_in + ch) * 9 + j] : 0.0f);
  g_free (x);
  g_free (h);
  g_free (back);
  g_free (w);
  g_free (wp);
  g_free (w2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/layout/changes", test_layout_changes);
  return g_test_run ();
}
