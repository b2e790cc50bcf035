/* The optimizers: Adam, SGD with momentum, LARS. One object holds the state (moments or
 * velocity) for a flat parameter arena, such as cl_model_params(); one call is one update.
 *
 * Adam: beta1 0.9, beta2 0.999, eps 1e-7, Keras's form of bias correction:
 *   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);  p -= lr_t * m / (sqrt(v) + eps).
 * SGD: momentum 0.9, PyTorch form: v = 0.9 v + g; p -= lr v.
 * LARS: per layer, trust = eta ||w|| / ||g + wd w||; v = 0.9 v + lr trust (g + wd w); w -= v.
 * weight_decay is the coefficient added to the GRADIENT: g = grad + weight_decay * p for the first
 * n_decay entries. A Keras l2(lambda) kernel regulariser adds lambda * sum p^2 to the loss, i.e.
 * weight_decay = 2 * lambda (the colab's l2(1e-4) is weight_decay = 2e-4). */
#pragma once
#include <stddef.h>

/* The values of the train.optimizer parameter (engine/base/cl_params.c), in the same order. */
typedef enum
{
  CL_OPTIMIZER_ADAM = 0,
  CL_OPTIMIZER_SGD = 1,
  CL_OPTIMIZER_LARS = 2
} ClOptimizerKind;

/* LARS trust coefficient (eta), as in SimCLR. */
#define CL_LARS_ETA 0.001f

typedef struct ClOptimizer ClOptimizer;
ClOptimizer *cl_optimizer_new (ClOptimizerKind kind, size_t n_params, size_t n_decay);
void cl_optimizer_free (ClOptimizer *opt);
/* LARS only: the ranges that get a per-layer trust ratio (the kernels, cl_model_kernel_ranges()); other
 * parameters (BatchNorm) get plain momentum SGD, as SimCLR excludes them from layer adaptation. */
void cl_optimizer_set_layers (ClOptimizer *opt, int n, const size_t *starts, const size_t *counts);
/* One update: params -= f(grads + weight_decay * params[0:n_decay]). lr already decayed by caller. */
void cl_optimizer_step (ClOptimizer *opt, float *params, const float *grads, float lr, float weight_decay);
