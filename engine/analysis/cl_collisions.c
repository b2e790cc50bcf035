#include "engine/analysis/cl_collisions.h"

#include <math.h>

double
cl_collision_theory (int bits, int batch)
{
  if (batch <= 1)
    return 0.0;
  if (bits <= 0)
    return 1.0;
  /* log1p keeps 2^-n accurate for large n, where 1 - 2^-n rounds to 1 in double only past n = 52 */
  return -expm1 ((batch - 1) * log1p (-ldexp (1.0, -bits)));
}

double
cl_collision_theory_continuous (double bits, int batch)
{
  if (batch <= 1)
    return 0.0;
  if (bits <= 0)
    return 1.0;
  return -expm1 ((batch - 1) * log1p (-pow (2.0, -bits)));
}
