/* Helpers shared by the model tests (test_model*.c): a small model spec, random views, inactive
 * input planes and the relative difference of two float arrays. */
#pragma once

#include <glib.h>
#include <stddef.h>

#include "engine/base/cl_rng.h"
#include "engine/nn/cl_model.h"

ClModelSpec small_spec (int in_channels, int h, int w, int head_layers, int max_views);
float *random_views (ClRng *rng, const ClModelSpec *spec, int n);
void fill_inactive (float *x, const ClModelSpec *spec, int n, int active, gboolean zero_value);
double rel_diff (const float *a, const float *b, size_t count);
