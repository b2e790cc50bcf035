#include "engine/analysis/cl_priors.h"

#include <math.h>

#define PI 3.14159265358979323846

double
cl_prior_density (ClPriorKind kind, int dim, double x)
{
  if (isnan (x))
    return NAN;
  switch (kind)
    {
    case CL_PRIOR_NORMAL:
      return exp (-0.5 * x * x) / sqrt (2.0 * PI);
    case CL_PRIOR_CUBE:
      return fabs (x) <= 1.0 ? 0.5 : 0.0;
    case CL_PRIOR_SPHERE:
      {
        if (dim < 2)
          return NAN; /* S^0 is two points: no density */
        if (fabs (x) > 1.0)
          return 0.0;
        double d = dim;
        /* in logs: Gamma overflows a double from d ~ 340 */
        double log_c = lgamma (0.5 * d) - 0.5 * log (PI) - lgamma (0.5 * (d - 1.0));
        double u = 1.0 - x * x;
        if (dim == 3)
          return 0.5; /* (1-x^2)^0, also at the poles */
        if (u <= 0.0)
          return dim == 2 ? INFINITY : 0.0;
        return exp (log_c + 0.5 * (d - 3.0) * log (u));
      }
    case CL_PRIOR_NONE:
    default:
      return NAN;
    }
}

double
cl_prior_extent (ClPriorKind kind, int dim)
{
  switch (kind)
    {
    case CL_PRIOR_NORMAL:
      return sqrt (-2.0 * log (1e-3));
    case CL_PRIOR_CUBE:
      return 1.0;
    case CL_PRIOR_SPHERE:
    case CL_PRIOR_NONE:
    default:
      if (dim <= 3)
        return 1.0;
      /* (1-x^2)^((d-3)/2) = 1e-3 */
      return sqrt (1.0 - pow (1e-3, 2.0 / (dim - 3.0)));
    }
}
