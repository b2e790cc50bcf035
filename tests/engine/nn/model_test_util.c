/* Helpers shared by the model tests (test_model*.c); see model_test_util.h. */
#include "tests/engine/nn/model_test_util.h"

#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_model.h"
#include "tests/engine/nn/nn_test_util.h"

ClModelSpec
small_spec (int in_channels, int h, int w, int head_layers, int max_views)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = in_channels;
  spec.height = h;
  spec.width = w;
  spec.width_mult = 0.25;
  spec.head_layers = head_layers;
  spec.rep_dim = 12;
  spec.head_hidden = 10;
  spec.out_dim = 6;
  spec.max_views = max_views;
  return spec;
}

float *
random_views (ClRng *rng, const ClModelSpec *spec, int n)
{
  size_t count = (size_t) n * spec->in_channels * spec->height * spec->width;
  float *x = g_new (float, count);
  size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < spec->in_channels; c++)
      {
        float *p = x + ((size_t) i * spec->in_channels + c) * plane;
        if (c == 0)
          fill_uniform (rng, p, plane, 0.0, 1.0);
        else
          {
            /* Constant bit planes, as RandBit feeds them. */
            float bit = (float) cl_rng_below (rng, 2);
            for (size_t j = 0; j < plane; j++)
              p[j] = bit;
          }
      }
  return x;
}

/* Sets the input planes from `active` on to zero (zero_value FALSE: to NaN, which the model must not read). */
void
fill_inactive (float *x, const ClModelSpec *spec, int n, int active, gboolean zero_value)
{
  const size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = active; c < spec->in_channels; c++)
      for (size_t j = 0; j < plane; j++)
        x[((size_t) i * spec->in_channels + c) * plane + j] = zero_value ? 0.0f : NAN;
}

/* Largest difference of a and b relative to the largest |b|, per range. */
double
rel_diff (const float *a, const float *b, size_t count)
{
  return max_abs_diff (a, b, count) / (1e-30 + max_abs (b, count));
}
