/* ReLU. (The model fuses its ReLUs into BatchNorm and the conv kernels; this is the plain layer.) */
#pragma once
#include <stddef.h>

/* ---- ReLU on count floats; y may alias x, dx may alias dy. y is the forward output. */
void cl_relu_forward (const float *x, size_t count, float *y);
void cl_relu_backward (const float *y, const float *dy, size_t count, float *dx);
