/* The thread team: the layers on 2..4 threads. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "tests/engine/nn/nn_test_util.h"

/* The thread team: conv and BatchNorm with 2..4 threads match the reference, repeat bit for bit
 * at a given thread count, and BatchNorm (split by whole channels) does not change at all. */
static void
test_layers_threads (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  ClRng rng;
  cl_rng_seed (&rng, 14, TEST_STREAM);
  for (int trial = 0; trial < 30; trial++)
    {
      const int threads = 2 + trial % 3;
      int k = 1 + (int) cl_rng_below (&rng, 4);
      int stride = 1 + (int) cl_rng_below (&rng, 2);
      int h = k + (int) cl_rng_below (&rng, 10), w = k + (int) cl_rng_below (&rng, 10);
      int in_c = 1 + (int) cl_rng_below (&rng, 6), out_c = 1 + (int) cl_rng_below (&rng, 9);
      int n = 1 + (int) cl_rng_below (&rng, 12);
      ConvCase cc;
      conv_case_init (&cc, &rng, n, in_c, out_c, k, stride, 0, h, w);
      cc.conv.chunk = 1 + (int) cl_rng_below (&rng, 6);
      if (trial % 4 == 3)
        cc.conv.active_c = 1 + (int) cl_rng_below (&rng, (uint32_t) in_c);
      conv_case_scratch (&cc);
      float *y1 = g_new (float, cc.ny), *dw1 = g_new (float, cc.nw), *dx1 = g_new (float, cc.nx);
      float *y2 = g_new (float, cc.ny), *dw2 = g_new (float, cc.nw), *dx2 = g_new (float, cc.nx);
      cl_layers_set_threads (1);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, y1, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw1, dx1, cc.col, cc.dcol, cc.tmp);
      cl_layers_set_threads (threads);
      g_assert_cmpint (cl_layers_get_threads (), ==, threads);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, cc.y, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw2, dx2, cc.col, cc.dcol, cc.tmp);
      double tol = 1e-5 * (1.0 + cl_conv2d_macs (&cc.conv) / out_c);
      g_assert_cmpfloat (max_abs_diff (cc.y, y1, cc.ny), <=, tol);
      g_assert_cmpfloat (max_abs_diff (dw2, dw1, cc.nw), <=, tol * n);
      g_assert_cmpfloat (max_abs_diff (dx2, dx1, cc.nx), <=, tol);
      g_assert_cmpfloat (max_abs (dw1, cc.nw), >, 0.0);
      /* Same thread count, same bits; stale scratch and outputs must not matter. */
      fill_uniform (&rng, cc.tmp, cl_conv2d_tmp_floats (&cc.conv), -1, 1);
      fill_uniform (&rng, y1, cc.ny, -1, 1);
      fill_uniform (&rng, dw1, cc.nw, -1, 1);
      cl_conv2d_forward (&cc.conv, cc.w, cc.x, n, y1, cc.col, cc.tmp);
      cl_conv2d_backward (&cc.conv, cc.w, cc.x, cc.r, n, dw1, dx1, cc.col, cc.dcol, cc.tmp);
      g_assert_cmpmem (y1, sizeof (float) * cc.ny, cc.y, sizeof (float) * cc.ny);
      g_assert_cmpmem (dw1, sizeof (float) * cc.nw, dw2, sizeof (float) * cc.nw);
      g_assert_cmpmem (dx1, sizeof (float) * cc.nx, dx2, sizeof (float) * cc.nx);
      g_free (y1);
      g_free (dw1);
      g_free (dx1);
      g_free (y2);
      g_free (dw2);
      g_free (dx2);
      conv_case_free (&cc);
    }

  /* BatchNorm over [n][C][P]: identical for every thread count. */
  for (int threads = 2; threads <= 4; threads++)
    {
      BnCase bc;
      bn_case_init (&bc, &rng, 5, 2 + threads, 13, threads % 2);
      const int c = bc.bn.channels;
      float *out[2][7];
      for (int run = 0; run < 2; run++)
        {
          cl_layers_set_threads (run == 0 ? 1 : threads);
          float *y = g_new (float, bc.count), *dx = g_new (float, bc.count);
          float *mean = g_new (float, c), *invstd = g_new (float, c), *rm = g_new0 (float, c), *rv = g_new (float, c);
          float *dg = g_new (float, 2 * c);
          for (int i = 0; i < c; i++)
            rv[i] = 1.0f;
          cl_batchnorm_forward_train (&bc.bn, bc.x, bc.n, bc.gamma, bc.beta, y, mean, invstd, rm, rv, bc.relu);
          cl_batchnorm_backward (&bc.bn, bc.x, y, bc.r, bc.n, bc.gamma, mean, invstd, dx, dg, dg + c, bc.relu);
          float *o[7] = { y, dx, mean, invstd, rm, rv, dg };
          memcpy (out[run], o, sizeof o);
        }
      const size_t sizes[7] = { bc.count, bc.count, c, c, c, c, 2 * (size_t) c };
      for (int i = 0; i < 7; i++)
        {
          g_assert_cmpmem (out[0][i], sizeof (float) * sizes[i], out[1][i], sizeof (float) * sizes[i]);
          g_free (out[0][i]);
          g_free (out[1][i]);
        }
      bn_case_free (&bc);
    }
  cl_layers_set_threads (1);
  g_assert_cmpint (cl_layers_get_threads (), ==, 1);
  openblas_set_num_threads (saved_blas);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/team/threads", test_layers_threads);
  return g_test_run ();
}
