/* The priors the distribution term of a loss pulls z toward, as the marginal density of one
 * coordinate: what the "geometry of z" figure draws over the histogram of z's coordinates.
 * Pure math (libm); the figure maps a loss kind to its prior (ui/plots/cl_geometry_plot.h). */
#pragma once

typedef enum
{
  CL_PRIOR_NONE = 0, /* unknown: every density is NaN */
  CL_PRIOR_NORMAL,   /* N(0, I): one coordinate is N(0, 1) */
  CL_PRIOR_CUBE,     /* U(-1, 1)^d: one coordinate is U(-1, 1), density 0.5 on [-1, 1] */
  CL_PRIOR_SPHERE,   /* uniform on the unit sphere S^{d-1} */
} ClPriorKind;

/* Density at x of one coordinate of the prior in dimension dim:
 *   normal: exp(-x^2/2) / sqrt(2 pi);  cube: 0.5 on [-1, 1];
 *   sphere: Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) (1-x^2)^((d-3)/2) on [-1, 1] (computed in
 *   logs, so it holds for any d; infinite at the poles for d = 2, 0.5 everywhere for d = 3).
 * 0 outside the support; NaN for x NaN, CL_PRIOR_NONE or, on the sphere, dim < 2. */
double cl_prior_density (ClPriorKind kind, int dim, double x);

/* Half-width of the region where the density is above 1e-3 of its peak (the part worth
 * drawing): sqrt(-2 ln 1e-3) for the normal, 1 for the cube and the sphere up to d = 3. */
double cl_prior_extent (ClPriorKind kind, int dim);
