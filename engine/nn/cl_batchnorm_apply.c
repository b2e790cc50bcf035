/* The training BatchNorm + ReLU's normalise step on [rows][C] (spatial 1) rows from statistics
 * already computed: what the conv that reads the map runs on each block of views as it needs them
 * (cl_conv2d_forward_nhwc_in), so the normalised map need not be written to memory. */
#include "engine/nn/cl_batchnorm.h"

#include "engine/nn/cl_layers_private.h"

#define CL_BN_APPLY_GROUP 16 /* channels per vectorised group */
#define CL_BN_APPLY_TILE 128 /* channels per pass */

/* Compiled for the widest vectors the CPU has, each channel its own lane and nothing fused
 * (fp-contract off), so every clone gives the bits of cl_batchnorm_forward_train_moments' pass:
 * relu (a (x - mean) + beta) with a = gamma invstd in float, a multiply and an add. Not under
 * ThreadSanitizer: the clones' ifunc resolver runs before TSan's runtime is set up and crashes
 * every program at load. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute) &&                     \
    !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define CL_BN_APPLY_CLONES __attribute__ ((optimize ("fp-contract=off"), target_clones ("avx512f", "avx2", "default")))
#endif
#endif
#ifndef CL_BN_APPLY_CLONES
#define CL_BN_APPLY_CLONES
#endif

/* 16 channels of one row (a constant trip count, which GCC's -O2 vectorises). */
static inline __attribute__ ((always_inline)) void
apply_group (const float *restrict x, const float *restrict a, const float *restrict mu, const float *restrict b,
             float *restrict y)
{
  for (int c = 0; c < CL_BN_APPLY_GROUP; c++)
    y[c] = relu_f (a[c] * (x[c] - mu[c]) + b[c]);
}

/* Row by row (each row's channels in groups), so the pass streams through memory once. */
CL_BN_APPLY_CLONES void
cl_batchnorm_relu_apply (const float *x, int rows, int C, const float *mean, const float *gamma, const float *invstd,
                         const float *beta, float *y)
{
  for (int c0 = 0; c0 < C; c0 += CL_BN_APPLY_TILE)
    {
      const int cw = MIN (CL_BN_APPLY_TILE, C - c0), full = cw / CL_BN_APPLY_GROUP * CL_BN_APPLY_GROUP;
      float a[CL_BN_APPLY_TILE], mu[CL_BN_APPLY_TILE], b[CL_BN_APPLY_TILE];
      for (int c = 0; c < cw; c++)
        {
          a[c] = gamma[c0 + c] * invstd[c0 + c];
          mu[c] = mean[c0 + c];
          b[c] = beta[c0 + c];
        }
      for (int r = 0; r < rows; r++)
        {
          const float *xr = x + (size_t) r * C + c0;
          float *yr = y + (size_t) r * C + c0;
          for (int c = 0; c < full; c += CL_BN_APPLY_GROUP)
            apply_group (xr + c, a + c, mu + c, b + c, yr + c);
          for (int c = full; c < cw; c++)
            yr[c] = relu_f (a[c] * (xr[c] - mu[c]) + b[c]);
        }
    }
}
