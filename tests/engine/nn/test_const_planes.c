/* The folded constant planes' values, bias and kernel gradient (cl_const_planes.c, shared by the
 * layers' thread team) against plain one-element-at-a-time loops, bit for bit: a valid conv (one
 * class) and a padded one (six border classes), on 1 and 2 threads, with a view count that is no
 * multiple of the team's blocks. test_model_planes checks the folding itself against the full conv. */
#include <glib.h>
#include <string.h>

#include "engine/base/cl_rng.h"
#include "engine/nn/cl_const_planes.h"
#include "engine/nn/cl_team.h"

enum
{
  N = 37,
  PLANES = 20,
  FIRST = 1,
  X_C = FIRST + PLANES + 3, /* inactive planes after the constant ones */
  OUT_C = 32
};

/* bias [n][classes][O] = sum over planes in order of v * (the plane's taps inside the class's patch). */
static void
reference_bias (const ClConstPlanes *cp, const float *w, const float *v, float *bias)
{
  const int k = cp->k, classes = cl_const_planes_classes (cp);
  for (int s = 0; s < N; s++)
    for (int cl = 0; cl < classes; cl++)
      for (int o = 0; o < OUT_C; o++)
        {
          float b = 0.0f;
          for (int pl = 0; pl < PLANES; pl++)
            {
              const float *wk = w + ((size_t) o * X_C + FIRST + pl) * k * k;
              float t = 0.0f;
              for (int ki = 0; ki < k; ki++)
                if (cp->row_mask[cl / cp->n_col] >> ki & 1)
                  for (int kj = 0; kj < k; kj++)
                    if (cp->col_mask[cl % cp->n_col] >> kj & 1)
                      t += wk[ki * k + kj];
              b += v[s * PLANES + pl] * t;
            }
          bias[((size_t) s * classes + cl) * OUT_C + o] = b;
        }
}

/* dw[o][FIRST + pl][ki][kj] = sum over the classes with (ki, kj) inside of (sum over images in order of
 * sums * v, in double). */
static void
reference_dw (const ClConstPlanes *cp, const float *sums, const float *v, float *dw)
{
  const int k = cp->k, classes = cl_const_planes_classes (cp);
  for (int o = 0; o < OUT_C; o++)
    for (int pl = 0; pl < PLANES; pl++)
      for (int ki = 0; ki < k; ki++)
        for (int kj = 0; kj < k; kj++)
          {
            double g = 0.0;
            for (int cl = 0; cl < classes; cl++)
              if ((cp->row_mask[cl / cp->n_col] >> ki & 1) && (cp->col_mask[cl % cp->n_col] >> kj & 1))
                {
                  double t = 0.0;
                  for (int s = 0; s < N; s++)
                    t += (double) sums[((size_t) s * classes + cl) * OUT_C + o] * v[s * PLANES + pl];
                  g += t;
                }
            dw[((size_t) o * X_C + FIRST + pl) * k * k + ki * k + kj] = (float) g;
          }
}

static void
check_geometry (int pad, int expect_classes)
{
  ClConv2d conv;
  g_assert_true (cl_conv2d_init (&conv, X_C, OUT_C, 3, 2, pad, 14, 15));
  ClConstPlanes cp;
  cl_const_planes_init (&cp, &conv, X_C);
  const int classes = cl_const_planes_classes (&cp);
  g_assert_cmpint (classes, ==, expect_classes);
  const size_t P = 14 * 15, wn = (size_t) OUT_C * X_C * 9;
  ClRng rng;
  cl_rng_seed (&rng, 3, 1);
  float *x = g_new (float, (size_t) N *X_C *P), *w = g_new (float, wn);
  for (size_t i = 0; i < (size_t) N * X_C * P; i++)
    x[i] = (float) cl_rng_uniform (&rng) - 0.5f;
  for (size_t i = 0; i < wn; i++)
    w[i] = (float) cl_rng_uniform (&rng) - 0.5f;
  float *v_ref = g_new (float, N *PLANES), *bias_ref = g_new (float, (size_t) N *classes *OUT_C);
  for (int s = 0; s < N; s++)
    for (int pl = 0; pl < PLANES; pl++)
      v_ref[s * PLANES + pl] = x[((size_t) s * X_C + FIRST + pl) * P];
  reference_bias (&cp, w, v_ref, bias_ref);
  float *sums = g_new (float, (size_t) N *classes *OUT_C);
  for (size_t i = 0; i < (size_t) N * classes * OUT_C; i++)
    sums[i] = (float) cl_rng_uniform (&rng) * 8.0f - 4.0f;
  float *dw_ref = g_new0 (float, wn);
  reference_dw (&cp, sums, v_ref, dw_ref);

  for (int threads = 1; threads <= 2; threads++)
    {
      cl_layers_use_threads (threads);
      float *v = g_new (float, N *PLANES), *bias = g_new (float, (size_t) N *classes *OUT_C);
      cl_const_planes_values_bias (&cp, w, X_C, x, X_C, P, FIRST, PLANES, N, v, bias);
      g_assert_cmpmem (v, sizeof (float) * N * PLANES, v_ref, sizeof (float) * N * PLANES);
      g_assert_cmpmem (bias, sizeof (float) * N * classes * OUT_C, bias_ref, sizeof (float) * N * classes * OUT_C);
      memset (bias, 0, sizeof (float) * N * classes * OUT_C);
      cl_const_planes_bias (&cp, w, X_C, FIRST, PLANES, v_ref, N, bias);
      g_assert_cmpmem (bias, sizeof (float) * N * classes * OUT_C, bias_ref, sizeof (float) * N * classes * OUT_C);
      float *dw = g_new0 (float, wn);
      cl_const_planes_dw (&cp, sums, v_ref, N, FIRST, PLANES, X_C, dw);
      g_assert_cmpmem (dw, sizeof (float) * wn, dw_ref, sizeof (float) * wn);
      g_free (dw);
      g_free (bias);
      g_free (v);
    }
  cl_layers_use_threads (1);
  g_free (dw_ref);
  g_free (sums);
  g_free (bias_ref);
  g_free (v_ref);
  g_free (w);
  g_free (x);
  cl_const_planes_clear (&cp);
}

static void
test_valid (void)
{
  check_geometry (0, 1);
}

static void
test_padded (void)
{
  check_geometry (1, 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/const-planes/valid", test_valid);
  g_test_add_func ("/nn/const-planes/padded", test_padded);
  return g_test_run ();
}
