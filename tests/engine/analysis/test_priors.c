/* Prior marginal densities (engine/analysis/cl_priors.h) against closed forms and moments. */
#include "engine/analysis/cl_priors.h"

#include <glib.h>
#include <math.h>

/* ------------------------------------------------------------ the priors */

/* Integral of x^power p(x) over [-1, 1] through x = sin t, which removes the (1-x^2)^(-1/2)
 * singularity of d = 2 and keeps the integrand smooth for every d; the midpoint rule, so
 * the poles themselves (where p may be infinite) are never evaluated. */
static double
sphere_moment (ClPriorKind kind, int dim, int power)
{
  const int n = 20000;
  double h = G_PI / n, sum = 0.0;
  for (int i = 0; i < n; i++)
    {
      double t = -0.5 * G_PI + (i + 0.5) * h;
      double x = sin (t);
      sum += cl_prior_density (kind, dim, x) * pow (x, power) * cos (t);
    }
  return sum * h;
}

static double
line_moment (ClPriorKind kind, int dim, double lo, double hi, int power)
{
  const int n = 20000;
  double h = (hi - lo) / n, sum = 0.0;
  for (int i = 0; i <= n; i++)
    {
      double x = lo + i * h;
      sum += cl_prior_density (kind, dim, x) * pow (x, power) * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
  return sum * h / 3.0;
}

static void
test_prior_sphere (void)
{
  /* d = 3: Archimedes' hat-box theorem, exactly uniform on [-1, 1] */
  for (int i = 0; i <= 200; i++)
    {
      double x = -1.0 + i / 100.0;
      g_assert_cmpfloat (cl_prior_density (CL_PRIOR_SPHERE, 3, x), ==, 0.5);
    }
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_SPHERE, 3, 1.0001), ==, 0.0);
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_SPHERE, 3, -1.5), ==, 0.0);

  /* d = 4: the closed form (2/pi) sqrt(1 - x^2) */
  for (int i = 0; i <= 40; i++)
    {
      double x = -0.99 + i * 0.0495;
      g_assert_cmpfloat_with_epsilon (cl_prior_density (CL_PRIOR_SPHERE, 4, x), 2.0 / G_PI * sqrt (1.0 - x * x), 1e-12);
    }
  /* d = 2: the arcsine law 1 / (pi sqrt(1 - x^2)) */
  g_assert_cmpfloat_with_epsilon (cl_prior_density (CL_PRIOR_SPHERE, 2, 0.0), 1.0 / G_PI, 1e-12);
  g_assert_cmpfloat_with_epsilon (cl_prior_density (CL_PRIOR_SPHERE, 2, 0.6), 1.0 / (G_PI * 0.8), 1e-12);

  /* every d: a density (integral 1), symmetric, with variance 1/d (E x_1^2 = E |x|^2 / d) */
  static const int dims[] = { 2, 3, 4, 5, 16, 64, 128, 1024 };
  for (size_t k = 0; k < G_N_ELEMENTS (dims); k++)
    {
      int d = dims[k];
      double mass = sphere_moment (CL_PRIOR_SPHERE, d, 0);
      double variance = sphere_moment (CL_PRIOR_SPHERE, d, 2);
      g_test_message ("d=%d: integral %.10f, variance %.10f (1/d = %.10f)", d, mass, variance, 1.0 / d);
      g_assert_cmpfloat_with_epsilon (mass, 1.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (variance, 1.0 / d, 1e-6 / d);
      g_assert_cmpfloat_with_epsilon (sphere_moment (CL_PRIOR_SPHERE, d, 1), 0.0, 1e-9);
      for (int i = 1; i <= 50; i++)
        {
          double x = i / 50.0;
          g_assert_cmpfloat (cl_prior_density (CL_PRIOR_SPHERE, d, x), ==, cl_prior_density (CL_PRIOR_SPHERE, d, -x));
        }
    }
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_SPHERE, 64, 1.0), ==, 0.0);

  /* large d (where Gamma itself overflows): close to N(0, 1/d) */
  for (int d = 1000; d <= 100000; d *= 10)
    {
      double p0 = cl_prior_density (CL_PRIOR_SPHERE, d, 0.0);
      double normal = sqrt (d / (2.0 * G_PI));
      g_assert_true (isfinite (p0));
      g_assert_cmpfloat (fabs (p0 / normal - 1.0), <, 1.0 / d);
    }

  /* no density */
  g_assert_true (isnan (cl_prior_density (CL_PRIOR_SPHERE, 1, 0.0)));
  g_assert_true (isnan (cl_prior_density (CL_PRIOR_NONE, 64, 0.0)));
  g_assert_true (isnan (cl_prior_density (CL_PRIOR_SPHERE, 2, NAN)));
}

static void
test_prior_normal_and_cube (void)
{
  /* N(0, 1) */
  g_assert_cmpfloat_with_epsilon (cl_prior_density (CL_PRIOR_NORMAL, 64, 0.0), 0.3989422804014327,
                                  1e-15); /* 1/sqrt(2 pi) */
  g_assert_cmpfloat_with_epsilon (line_moment (CL_PRIOR_NORMAL, 64, -12, 12, 0), 1.0, 1e-10);
  g_assert_cmpfloat_with_epsilon (line_moment (CL_PRIOR_NORMAL, 64, -12, 12, 2), 1.0, 1e-10);
  /* 68.27% within one standard deviation: erf(1/sqrt 2) */
  g_assert_cmpfloat_with_epsilon (line_moment (CL_PRIOR_NORMAL, 64, -1, 1, 0), erf (M_SQRT1_2), 1e-10);
  /* the dimension does not matter for a product prior */
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_NORMAL, 3, 0.7), ==, cl_prior_density (CL_PRIOR_NORMAL, 512, 0.7));
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_NORMAL, 64, 1.3), ==, cl_prior_density (CL_PRIOR_NORMAL, 64, -1.3));

  /* U(-1, 1) */
  for (int i = 0; i <= 40; i++)
    {
      double x = -1.0 + i * 0.05;
      g_assert_cmpfloat (cl_prior_density (CL_PRIOR_CUBE, 64, x), ==, 0.5);
    }
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_CUBE, 64, 1.001), ==, 0.0);
  g_assert_cmpfloat (cl_prior_density (CL_PRIOR_CUBE, 64, -3.0), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (line_moment (CL_PRIOR_CUBE, 64, -1, 1, 0), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (line_moment (CL_PRIOR_CUBE, 64, -1, 1, 2), 1.0 / 3.0, 1e-12);
}

static void
test_prior_extent (void)
{
  /* where the density falls to 1e-3 of its peak */
  static const struct
  {
    ClPriorKind kind;
    int dim;
  } cases[] = {
    { CL_PRIOR_NORMAL, 64 },
    { CL_PRIOR_SPHERE, 4 },
    { CL_PRIOR_SPHERE, 16 },
    { CL_PRIOR_SPHERE, 128 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      double e = cl_prior_extent (cases[i].kind, cases[i].dim);
      double peak = cl_prior_density (cases[i].kind, cases[i].dim, 0.0);
      g_assert_cmpfloat (e, >, 0.0);
      g_assert_cmpfloat_with_epsilon (cl_prior_density (cases[i].kind, cases[i].dim, e) / peak, 1e-3, 1e-9);
    }
  g_assert_cmpfloat (cl_prior_extent (CL_PRIOR_CUBE, 64), ==, 1.0);
  g_assert_cmpfloat (cl_prior_extent (CL_PRIOR_SPHERE, 3), ==, 1.0);
  g_assert_cmpfloat (cl_prior_extent (CL_PRIOR_SPHERE, 2), ==, 1.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysis/priors/sphere", test_prior_sphere);
  g_test_add_func ("/analysis/priors/normal-and-cube", test_prior_normal_and_cube);
  g_test_add_func ("/analysis/priors/extent", test_prior_extent);
  return g_test_run ();
}
