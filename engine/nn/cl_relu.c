/* ReLU: y = max(x, 0); dx = dy where y > 0. */
#include "engine/nn/cl_relu.h"

void
cl_relu_forward (const float *x, size_t count, float *y)
{
  for (size_t i = 0; i < count; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
cl_relu_backward (const float *y, const float *dy, size_t count, float *dx)
{
  for (size_t i = 0; i < count; i++)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
