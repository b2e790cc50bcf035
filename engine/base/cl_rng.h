/* Seeded PCG32 random streams. One stream per purpose, so changing one knob
 * (say, augmentation strength) never reshuffles another (say, data order). */
#pragma once
#include <stdint.h>

typedef enum
{
  CL_STREAM_INIT = 1, /* weight initialisation */
  CL_STREAM_ORDER,    /* data order / batch sampling */
  CL_STREAM_AUG,      /* augmentation draws */
  CL_STREAM_BITS,     /* per-image random codes */
  CL_STREAM_PROBE,    /* probe subsets */
  CL_STREAM_LOSS,     /* loss-internal randomness (SWD projections, priors) */
  CL_STREAM_RESAMPLE, /* bit re-drawing for data.bit_resample */
  CL_STREAM_DATA,     /* dataset construction (overlays, canvases, tints) */
} ClStream;

typedef struct
{
  uint64_t state;
  uint64_t inc;
} ClRng;

void cl_rng_seed (ClRng *rng, uint64_t seed, uint64_t stream);
uint32_t cl_rng_u32 (ClRng *rng);
/* Uniform in [0, 1). */
double cl_rng_uniform (ClRng *rng);
/* Uniform integer in [0, n), unbiased. n > 0. */
uint32_t cl_rng_below (ClRng *rng, uint32_t n);
/* Standard normal (Box-Muller; no cached second value, so the stream stays simple). */
double cl_rng_normal (ClRng *rng);
/* A stateless 64-bit mix (splitmix64 finaliser): per-item codes that do not depend on draw order. */
uint64_t cl_hash64 (uint64_t x);
