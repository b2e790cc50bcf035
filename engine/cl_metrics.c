#include "cl_metrics.h"

#include <cblas.h>
#include <math.h>

static int
uniformity_rows (int n)
{
  return n < CL_GEOMETRY_MAX_ROWS ? n : CL_GEOMETRY_MAX_ROWS;
}

size_t
cl_geometry_workspace_floats (int n, int d)
{
  size_t m = (size_t) uniformity_rows (n);
  return (size_t) 2 * n * d + m * m;
}

void
cl_geometry (const float *z, int n, int d, float *ws, ClGeometry *out)
{
  int rows = 2 * n;
  float *zn = ws;
  for (int i = 0; i < rows; i++)
    {
      double s = 0;
      for (int k = 0; k < d; k++)
        s += (double) z[(size_t) i * d + k] * z[(size_t) i * d + k];
      float inv = (float) (1.0 / fmax (sqrt (s), 1e-12));
      for (int k = 0; k < d; k++)
        zn[(size_t) i * d + k] = z[(size_t) i * d + k] * inv;
    }

  double align = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      {
        double diff = (double) zn[(size_t) i * d + k] - zn[(size_t) (n + i) * d + k];
        align += diff * diff;
      }
  out->alignment = align / n;

  int m = uniformity_rows (n);
  float *gram = zn + (size_t) rows * d;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, m, d, 1.0f, zn, d, zn, d, 0.0f, gram, m);
  /* ||a-b||^2 = 2 - 2 a.b for unit vectors; log-mean-exp with the largest term factored out. */
  double best = -INFINITY;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++)
      if (i != j)
        {
          double e = -2.0 * (2.0 - 2.0 * gram[(size_t) i * m + j]);
          if (e > best)
            best = e;
        }
  if (m < 2)
    out->uniformity = 0;
  else
    {
      double sum = 0;
      for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
          if (i != j)
            sum += exp (-2.0 * (2.0 - 2.0 * gram[(size_t) i * m + j]) - best);
      out->uniformity = best + log (sum / ((double) m * (m - 1)));
    }

  double std_sum = 0;
  for (int k = 0; k < d; k++)
    {
      double mean = 0, var = 0;
      for (int i = 0; i < rows; i++)
        mean += zn[(size_t) i * d + k];
      mean /= rows;
      for (int i = 0; i < rows; i++)
        {
          double v = zn[(size_t) i * d + k] - mean;
          var += v * v;
        }
      std_sum += sqrt (var / rows);
    }
  out->z_std = std_sum / d;
}
