#include "engine/analysis/cl_embedding_geometry.h"

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
  /* Only the upper triangle is read below: syrk computes just that half. */
  cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, m, d, 1.0f, zn, d, 0.0f, gram, m);
  /* ||a-b||^2 = 2 - 2 a.b for unit vectors, so -2||a-b||^2 = 4 (a.b - 1); log-mean-exp over the
   * pairs i != j with the largest term factored out. The Gram matrix is symmetric: each unordered
   * pair is visited once (upper triangle), which halves the exponentials of this per-step metric. */
  if (m < 2)
    out->uniformity = 0;
  else
    {
      float gmax = -INFINITY;
      for (int i = 0; i < m; i++)
        {
          const float *gi = gram + (size_t) i * m;
          for (int j = i + 1; j < m; j++)
            gmax = fmaxf (gmax, gi[j]);
        }
      double sum = 0;
      for (int i = 0; i < m - 1; i++)
        {
          const float *gi = gram + (size_t) i * m;
          float row = 0;
          for (int j = i + 1; j < m; j++)
            row += expf (4.0f * (gi[j] - gmax));
          sum += row;
        }
      /* sum over ordered pairs = 2 x unordered; mean over the m (m - 1) ordered pairs. */
      out->uniformity = 4.0 * ((double) gmax - 1.0) + log (2.0 * sum / ((double) m * (m - 1)));
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
