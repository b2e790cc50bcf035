#include "engine/analysis/cl_probe.h"

#include "engine/analysis/cl_probe_private.h"

#include <math.h>
#include <string.h>

size_t
cl_probe_workspace_doubles (int dim, int n_classes)
{
  size_t d1 = (size_t) dim + 1;
  /* mean, inv_std, gram (d1 x d1), rhs (d1 x classes), row (d1) */
  return 2 * (size_t) dim + d1 * d1 + d1 * (size_t) n_classes + d1;
}

int
cl_probe_cholesky (double *a, int n)
{
  for (int j = 0; j < n; j++)
    {
      double s = a[(size_t) j * n + j];
      for (int k = 0; k < j; k++)
        s -= a[(size_t) j * n + k] * a[(size_t) j * n + k];
      if (!(s > 0))
        return 0;
      double l = sqrt (s);
      a[(size_t) j * n + j] = l;
      for (int i = j + 1; i < n; i++)
        {
          double t = a[(size_t) i * n + j];
          for (int k = 0; k < j; k++)
            t -= a[(size_t) i * n + k] * a[(size_t) j * n + k];
          a[(size_t) i * n + j] = t / l;
        }
    }
  return 1;
}

void
cl_probe_cholesky_solve (const double *l, int n, double *b, int m)
{
  for (int c = 0; c < m; c++)
    {
      for (int i = 0; i < n; i++)
        {
          double s = b[(size_t) i * m + c];
          for (int k = 0; k < i; k++)
            s -= l[(size_t) i * n + k] * b[(size_t) k * m + c];
          b[(size_t) i * m + c] = s / l[(size_t) i * n + i];
        }
      for (int i = n - 1; i >= 0; i--)
        {
          double s = b[(size_t) i * m + c];
          for (int k = i + 1; k < n; k++)
            s -= l[(size_t) k * n + i] * b[(size_t) k * m + c];
          b[(size_t) i * m + c] = s / l[(size_t) i * n + i];
        }
    }
}

void
cl_probe_standardisation (const float *x, int n, int dim, double *mean, double *inv_std)
{
  for (int j = 0; j < dim; j++)
    {
      double s = 0, s2 = 0;
      for (int i = 0; i < n; i++)
        s += x[(size_t) i * dim + j];
      double m = s / n;
      for (int i = 0; i < n; i++)
        {
          double d = x[(size_t) i * dim + j] - m;
          s2 += d * d;
        }
      double sd = sqrt (s2 / n);
      mean[j] = m;
      inv_std[j] = sd > 1e-12 ? 1.0 / sd : 0.0; /* a dead feature carries nothing */
    }
}

void
cl_probe_standardise (const float *src, int n, int dim, const double *mean, const double *inv_std, double *dst)
{
  for (size_t i = 0; i < (size_t) n; i++)
    for (int j = 0; j < dim; j++)
      dst[i * dim + j] = ((double) src[i * dim + j] - mean[j]) * inv_std[j];
}

static void
standardised_row (const float *x, const double *mean, const double *inv_std, int dim, double *row)
{
  for (int j = 0; j < dim; j++)
    row[j] = ((double) x[j] - mean[j]) * inv_std[j];
  row[dim] = 1.0; /* bias */
}

int
cl_probe_ridge_multi (const float *train_x, int n_train, const float *test_x, int n_test, int dim, int n_targets,
                      const uint8_t *const *train_y, const uint8_t *const *test_y, const int *n_classes, double alpha,
                      double *ws, double *accuracy)
{
  int d1 = dim + 1, cols = 0;
  for (int t = 0; t < n_targets; t++)
    cols += n_classes[t];
  double *mean = ws, *inv_std = mean + dim, *gram = inv_std + dim, *rhs = gram + (size_t) d1 * d1,
         *row = rhs + (size_t) d1 * cols;

  /* Standardising makes one alpha sensible whatever the scale of each feature. */
  cl_probe_standardisation (train_x, n_train, dim, mean, inv_std);

  memset (gram, 0, sizeof (double) * (size_t) d1 * d1);
  memset (rhs, 0, sizeof (double) * (size_t) d1 * cols);
  for (int i = 0; i < n_train; i++)
    {
      standardised_row (train_x + (size_t) i * dim, mean, inv_std, dim, row);
      for (int a = 0; a < d1; a++)
        {
          double ra = row[a];
          double *g = gram + (size_t) a * d1;
          for (int b = 0; b <= a; b++)
            g[b] += ra * row[b];
        }
      for (int t = 0, base = 0; t < n_targets; base += n_classes[t], t++)
        {
          double *r = rhs + base + (size_t) train_y[t][i];
          for (int a = 0; a < d1; a++)
            r[(size_t) a * cols] += row[a];
        }
    }
  /* The bias is not penalised. */
  for (int a = 0; a < dim; a++)
    gram[(size_t) a * d1 + a] += alpha * n_train;
  gram[(size_t) dim * d1 + dim] += 1e-9 * n_train;
  if (!cl_probe_cholesky (gram, d1))
    return 0;
  cl_probe_cholesky_solve (gram, d1, rhs, cols);

  for (int t = 0; t < n_targets; t++)
    accuracy[t] = 0;
  for (int i = 0; i < n_test; i++)
    {
      standardised_row (test_x + (size_t) i * dim, mean, inv_std, dim, row);
      for (int t = 0, base = 0; t < n_targets; base += n_classes[t], t++)
        {
          int best = 0;
          double best_v = -INFINITY;
          for (int c = 0; c < n_classes[t]; c++)
            {
              double v = 0;
              for (int a = 0; a < d1; a++)
                v += row[a] * rhs[(size_t) a * cols + base + c];
              if (v > best_v)
                {
                  best_v = v;
                  best = c;
                }
            }
          accuracy[t] += best == test_y[t][i];
        }
    }
  for (int t = 0; t < n_targets; t++)
    accuracy[t] /= n_test;
  return 1;
}

double
cl_probe_ridge (const float *train_x, const uint8_t *train_y, int n_train, const float *test_x, const uint8_t *test_y,
                int n_test, int dim, int n_classes, double alpha, double *ws)
{
  double acc;
  if (!cl_probe_ridge_multi (train_x, n_train, test_x, n_test, dim, 1, &train_y, &test_y, &n_classes, alpha, ws, &acc))
    return -1;
  return acc;
}
