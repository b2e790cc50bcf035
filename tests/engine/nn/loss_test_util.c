/* Helpers shared by the loss tests (test_loss*.c); see loss_test_util.h. */
#include "tests/engine/nn/loss_test_util.h"

#include <math.h>

#include "engine/base/cl_rng.h"

const ClLossKind all_kinds[N_KINDS] = {
  CL_LOSS_NTXENT, CL_LOSS_DECOUPLED, CL_LOSS_SWD_NORMAL, CL_LOSS_SWD_CUBE, CL_LOSS_SWD_SPHERE,
};

int
normalises_rows (ClLossKind kind)
{
  return kind == CL_LOSS_NTXENT || kind == CL_LOSS_DECOUPLED || kind == CL_LOSS_SWD_SPHERE;
}

float *
new_ws (ClLossKind kind, int n, int d)
{
  return g_new0 (float, cl_loss_workspace_floats (kind, n, d));
}

/* Rows around n "images", two noisy views each, with row norms spread over
 * [e^-spread, e^spread] times the typical norm so the normalisation is exercised. */
void
fill_views (float *z, int n, int d, double noise, double spread, uint64_t seed)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, CL_STREAM_DATA);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++)
      {
        double base = cl_rng_normal (&rng);
        z[(size_t) i * d + k] = (float) (base + noise * cl_rng_normal (&rng));
        z[(size_t) (i + n) * d + k] = (float) (base + noise * cl_rng_normal (&rng));
      }
  for (int i = 0; i < 2 * n; i++)
    {
      float s = (float) exp (spread * (2.0 * cl_rng_uniform (&rng) - 1.0));
      for (int k = 0; k < d; k++)
        z[(size_t) i * d + k] *= s;
    }
}

/* SWD draws for the explicit entry point, from a fixed seed. */
void
draw_fixed_swd (ClLossKind kind, int n, int d, uint64_t seed, float *w, float *prior)
{
  ClRng rng;
  cl_rng_seed (&rng, seed, CL_STREAM_LOSS);
  float *work = g_new (float, cl_loss_orthogonal_work_floats (d));
  cl_loss_draw_orthogonal (d, &rng, w, work);
  cl_loss_draw_prior (kind, 2 * n, d, &rng, prior);
  g_free (work);
}

ClLossResult
eval (const Eval *e, const float *z, float *dz)
{
  switch (e->kind)
    {
    case CL_LOSS_NTXENT:
      return cl_ntxent (z, e->n, e->d, e->tau, dz, e->ws);
    case CL_LOSS_DECOUPLED:
      return cl_loss_decoupled (z, e->n, e->d, e->tau, e->lambda, dz, e->ws);
    default:
      return cl_loss_swd (e->kind, z, e->n, e->d, e->lambda, e->w, e->prior, dz, e->ws);
    }
}

gboolean
all_finite (const float *a, size_t count)
{
  for (size_t k = 0; k < count; k++)
    if (!isfinite (a[k]))
      return FALSE;
  return TRUE;
}
