/* NCHW <-> NHWC. */
#include "engine/nn/cl_layout.h"

#include <string.h>

#include "engine/nn/cl_layers_private.h"

typedef struct
{
  const float *src;
  int n, c_src, c, P;
  float *dst;
} LayoutJob;

#define CL_LAYOUT_SAMPLES 32

/* Eight pixels at a time: each channel row gives 8 floats that land c apart in a block the
 * writes then fill contiguously (the transposed loops cost 1.7x more). */
static void
nchw_to_nhwc_item (void *arg, int item, int thread)
{
  (void) thread;
  const LayoutJob *job = arg;
  const int c = job->c, P = job->P;
  const int s_end = MIN (job->n, (item + 1) * CL_LAYOUT_SAMPLES);
  for (int s = item * CL_LAYOUT_SAMPLES; s < s_end; s++)
    {
      const float *xs = job->src + (size_t) s * job->c_src * P;
      float *ys = job->dst + (size_t) s * P * c;
      if (c == 1)
        {
          memcpy (ys, xs, sizeof (float) * P);
          continue;
        }
      int p0 = 0;
      for (; p0 + 8 <= P; p0 += 8)
        {
          float *out = ys + (size_t) p0 * c;
          for (int ch = 0; ch < c; ch++)
            {
              const float *r = xs + (size_t) ch * P + p0;
              out[ch] = r[0];
              out[c + ch] = r[1];
              out[2 * c + ch] = r[2];
              out[3 * c + ch] = r[3];
              out[4 * c + ch] = r[4];
              out[5 * c + ch] = r[5];
              out[6 * c + ch] = r[6];
              out[7 * c + ch] = r[7];
            }
        }
      for (; p0 < P; p0++)
        for (int ch = 0; ch < c; ch++)
          ys[(size_t) p0 * c + ch] = xs[(size_t) ch * P + p0];
    }
}

void
cl_nchw_to_nhwc (const float *src, int n, int c_src, int c, int P, float *dst)
{
  LayoutJob job = { src, n, c_src, c, P, dst };
  cl_team_for (nchw_to_nhwc_item, &job, (n + CL_LAYOUT_SAMPLES - 1) / CL_LAYOUT_SAMPLES);
}

void
cl_nhwc_to_nchw (const float *src, int n, int c, int P, float *dst)
{
  enum
  {
    TILE = 64
  };
  for (int s = 0; s < n; s++)
    {
      const float *xs = src + (size_t) s * P * c;
      float *ys = dst + (size_t) s * c * P;
      if (c == 1)
        {
          memcpy (ys, xs, sizeof (float) * P);
          continue;
        }
      for (int p0 = 0; p0 < P; p0 += TILE)
        {
          const int pe = MIN (P, p0 + TILE);
          for (int ch = 0; ch < c; ch++)
            {
              float *row = ys + (size_t) ch * P;
              for (int p = p0; p < pe; p++)
                row[p] = xs[(size_t) p * c + ch];
            }
        }
    }
}
