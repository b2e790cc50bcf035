#include "engine/nn/cl_optimizer.h"

#include <glib.h>
#include <math.h>

#define CL_ADAM_BETA1 0.9
#define CL_ADAM_BETA2 0.999
#define CL_ADAM_EPS 1e-7f
#define CL_SGD_MOMENTUM 0.9f

struct ClOptimizer
{
  ClOptimizerKind kind;
  size_t n, n_decay;
  long step;
  float *state; /* Adam: m[n] then v[n]; SGD and LARS: velocity[n] */
  int n_layers; /* LARS: the kernel ranges */
  size_t *layer_start, *layer_count;
};

ClOptimizer *
cl_optimizer_new (ClOptimizerKind kind, size_t n_params, size_t n_decay)
{
  g_return_val_if_fail (n_decay <= n_params, NULL);
  ClOptimizer *opt = g_new0 (ClOptimizer, 1);
  opt->kind = kind;
  opt->n = n_params;
  opt->n_decay = n_decay;
  opt->state = g_new0 (float, (kind == CL_OPTIMIZER_ADAM ? 2 : 1) * (n_params ? n_params : 1));
  return opt;
}

void
cl_optimizer_set_layers (ClOptimizer *opt, int n, const size_t *starts, const size_t *counts)
{
  g_return_if_fail (n >= 0);
  g_free (opt->layer_start);
  g_free (opt->layer_count);
  opt->layer_start = g_new (size_t, MAX (n, 1));
  opt->layer_count = g_new (size_t, MAX (n, 1));
  opt->n_layers = n;
  for (int i = 0; i < n; i++)
    {
      opt->layer_start[i] = starts[i];
      opt->layer_count[i] = counts[i];
    }
}

static void
lars_update (float *params, const float *grads, float *vel, size_t start, size_t count, gboolean decay, float lr,
             float weight_decay, gboolean adapt)
{
  float trust = 1.0f;
  if (adapt)
    {
      double w2 = 0, g2 = 0;
      for (size_t i = start; i < start + count; i++)
        {
          double g = grads[i] + (decay ? weight_decay * params[i] : 0.0f);
          w2 += (double) params[i] * params[i];
          g2 += g * g;
        }
      if (w2 > 0 && g2 > 0)
        trust = (float) (CL_LARS_ETA * sqrt (w2) / sqrt (g2));
    }
  for (size_t i = start; i < start + count; i++)
    {
      float g = grads[i] + (decay ? weight_decay * params[i] : 0.0f);
      vel[i] = CL_SGD_MOMENTUM * vel[i] + lr * trust * g;
      params[i] -= vel[i];
    }
}

void
cl_optimizer_free (ClOptimizer *opt)
{
  if (!opt)
    return;
  g_free (opt->state);
  g_free (opt->layer_start);
  g_free (opt->layer_count);
  g_free (opt);
}

void
cl_optimizer_step (ClOptimizer *opt, float *params, const float *grads, float lr, float weight_decay)
{
  opt->step++;
  if (opt->kind == CL_OPTIMIZER_ADAM)
    {
      const double t = (double) opt->step;
      const float lr_t = (float) (lr * sqrt (1.0 - pow (CL_ADAM_BETA2, t)) / (1.0 - pow (CL_ADAM_BETA1, t)));
      const float b1 = (float) CL_ADAM_BETA1, b2 = (float) CL_ADAM_BETA2;
      float *m = opt->state, *v = opt->state + opt->n;
      for (size_t i = 0; i < opt->n; i++)
        {
          float g = grads[i] + (i < opt->n_decay ? weight_decay * params[i] : 0.0f);
          m[i] = b1 * m[i] + (1.0f - b1) * g;
          v[i] = b2 * v[i] + (1.0f - b2) * g * g;
          params[i] -= lr_t * m[i] / (sqrtf (v[i]) + CL_ADAM_EPS);
        }
    }
  else if (opt->kind == CL_OPTIMIZER_LARS)
    {
      float *vel = opt->state;
      size_t covered_to = 0;
      for (int l = 0; l < opt->n_layers; l++)
        {
          size_t s = opt->layer_start[l], cnt = opt->layer_count[l];
          lars_update (params, grads, vel, s, cnt, s < opt->n_decay, lr, weight_decay, TRUE);
          covered_to = MAX (covered_to, s + cnt);
        }
      /* Everything after the kernels (BatchNorm scale and shift): no adaptation, no decay. */
      if (covered_to < opt->n)
        lars_update (params, grads, vel, covered_to, opt->n - covered_to, FALSE, lr, weight_decay, FALSE);
    }
  else
    {
      float *vel = opt->state;
      for (size_t i = 0; i < opt->n; i++)
        {
          float g = grads[i] + (i < opt->n_decay ? weight_decay * params[i] : 0.0f);
          vel[i] = CL_SGD_MOMENTUM * vel[i] + g;
          params[i] -= lr * vel[i];
        }
    }
}
