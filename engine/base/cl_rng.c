#include "engine/base/cl_rng.h"

#include <math.h>

void
cl_rng_seed (ClRng *rng, uint64_t seed, uint64_t stream)
{
  rng->state = 0;
  rng->inc = (cl_hash64 (stream) << 1u) | 1u;
  cl_rng_u32 (rng);
  rng->state += cl_hash64 (seed);
  cl_rng_u32 (rng);
}

uint32_t
cl_rng_u32 (ClRng *rng)
{
  uint64_t old = rng->state;
  rng->state = old * 6364136223846793005ULL + rng->inc;
  uint32_t xorshifted = (uint32_t) (((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t) (old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

double
cl_rng_uniform (ClRng *rng)
{
  uint64_t hi = cl_rng_u32 (rng) >> 5; /* 27 bits */
  uint64_t lo = cl_rng_u32 (rng) >> 6; /* 26 bits */
  return (double) ((hi << 26) | lo) / 9007199254740992.0;
}

uint32_t
cl_rng_below (ClRng *rng, uint32_t n)
{
  uint32_t threshold = (-n) % n;
  for (;;)
    {
      uint32_t r = cl_rng_u32 (rng);
      if (r >= threshold)
        return r % n;
    }
}

double
cl_rng_normal (ClRng *rng)
{
  double u1 = cl_rng_uniform (rng);
  double u2 = cl_rng_uniform (rng);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

uint64_t
cl_hash64 (uint64_t x)
{
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
