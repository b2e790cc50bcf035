/* The learning-rate schedule and the effective lambda of the generalized loss. */
#include "engine/train/cl_trainer_private.h"

#include <math.h>

#include "engine/nn/cl_loss.h"
#include "engine/nn/cl_optimizer.h"

double
cl_trainer_lr_at (const ClConfig *cfg, int64_t step)
{
  double progress = (double) step / (double) cfg->train_steps;
  if (cfg->train_optimizer != CL_OPTIMIZER_LARS)
    return cfg->train_lr * (1.0 - progress); /* the RandBits colab's polynomial (linear) decay */
  /* SimCLR: linear warm-up, then cosine decay to 0. */
  double warmup = 0.1 * cfg->train_steps;
  if (step < warmup)
    return cfg->train_lr * (step + 1) / warmup;
  double p = (step - warmup) / MAX (1.0, cfg->train_steps - warmup);
  return cfg->train_lr * 0.5 * (1.0 + cos (M_PI * p));
}

double
cl_trainer_effective_lambda (const ClConfig *cfg, int out_dim)
{
  if (cfg->loss_lambda >= 0)
    return cfg->loss_lambda;
  if (cfg->loss_kind == CL_LOSS_DECOUPLED)
    return cfg->loss_temperature / out_dim;
  return CL_SWD_AUTO_LAMBDA;
}
