/* BatchNorm (no bias in the layer before it): training with batch statistics, evaluation with running
 * statistics, the backward, and the fused ReLU variants. */
#pragma once
#include <glib.h>
#include <stddef.h>

/* BatchNorm conventions (PyTorch's): running = (1 - CL_BN_MOMENTUM) * running + CL_BN_MOMENTUM * batch,
 * i.e. Keras momentum 0.9; the running variance stores the unbiased (m / (m - 1)) batch variance,
 * normalisation in training uses the biased one. */
#define CL_BN_MOMENTUM 0.1f
#define CL_BN_EPS 1e-5f

/* ---- BatchNorm over [n][C][P]: per channel, statistics over n and P (P = 1 gives BatchNorm1d).
 * The "relu" variants fuse a following ReLU (out = max(0, bn(x))); relu = FALSE is the plain
 * reference path. */
typedef struct
{
  int channels;
  int spatial;
} ClBatchNorm;

/* Training: batch statistics; writes mean/invstd [C] for backward and updates running stats
 * (running_mean/running_var may be NULL to skip the update). */
void cl_batchnorm_forward_train (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta,
                                 float *y, float *mean, float *invstd, float *running_mean, float *running_var,
                                 gboolean relu);
/* Evaluation: running statistics, nothing updated. */
void cl_batchnorm_forward_eval (const ClBatchNorm *bn, const float *x, int n, const float *gamma, const float *beta,
                                const float *running_mean, const float *running_var, float *y, gboolean relu);
/* Backward of a training forward. y is that forward's output (read only when relu, for the mask).
 * dx may alias dy (in place). dgamma, dbeta [C] are overwritten. */
void cl_batchnorm_backward (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                            const float *gamma, const float *mean, const float *invstd, float *dx, float *dgamma,
                            float *dbeta, gboolean relu);

/* The first pass of cl_batchnorm_backward for spatial 1 ([n][C] rows): dgamma, dbeta, and the
 * per-channel coefficients of dx = k1 * d - k0 - k2 * (x - mean) for cl_conv2d_backward_nhwc_bn. */
void cl_batchnorm_backward_coefficients (const ClBatchNorm *bn, const float *x, const float *y, const float *dy, int n,
                                         const float *gamma, const float *mean, const float *invstd, float *dgamma,
                                         float *dbeta, float *k0, float *k1, float *k2, gboolean relu);

/* The same two for spatial 1 with the ReLU fused, without reading the forward's output: the ReLU's
 * mask is recomputed from x as the forward computed it, relu (gamma invstd (x - mean) + beta) > 0,
 * the same float operations, so the results are bit-identical to passing that output as y (one
 * stream less over memory). */
void cl_batchnorm_backward_pre (const ClBatchNorm *bn, const float *x, const float *beta, const float *dy, int n,
                                const float *gamma, const float *mean, const float *invstd, float *dx, float *dgamma,
                                float *dbeta);
void cl_batchnorm_backward_coefficients_pre (const ClBatchNorm *bn, const float *x, const float *beta, const float *dy,
                                             int n, const float *gamma, const float *mean, const float *invstd,
                                             float *dgamma, float *dbeta, float *k0, float *k1, float *k2);

/* ---- Training BatchNorm + ReLU of conv maps, n views of P pixels stored as [n * P][C] rows (spatial
 * 1), from per-view moments, so the conv can gather them as it stores each view
 * (cl_conv2d_forward_nhwc_train) instead of a pass over memory. A view's moments, per channel, with
 * x0 its first pixel's value: d = sum of (x - x0) (float partials of 16 pixels, gathered in double),
 * centre = x0 + (float) (d / P), sum = x0 P + d, sq = sum of ((x - x0) - (float) (d / P))^2 (float
 * partials, in double): two passes over a view in cache, so nothing cancels however far the maps sit
 * from 0. The batch mean and variance combine them in view order in double (exact re-centring), so
 * the bits do not depend on the thread count. moments: [n][3][C] doubles (sum, sq, centre rows). */
void cl_batchnorm_view_moments (const float *x, int P, int C, double *moments);
/* From moments already computed (the fused path): statistics, running update, y = relu (bn (x))
 * (y NULL: the statistics and the running update only; cl_batchnorm_relu_apply gives y later). */
void cl_batchnorm_forward_train_moments (const ClBatchNorm *bn, const float *x, int n, int P, const float *gamma,
                                         const float *beta, float *y, float *mean, float *invstd, float *running_mean,
                                         float *running_var, const double *moments);
/* The reference: the moments from x (into moments), then the above. */
void cl_batchnorm_forward_train_views (const ClBatchNorm *bn, const float *x, int n, int P, const float *gamma,
                                       const float *beta, float *y, float *mean, float *invstd, float *running_mean,
                                       float *running_var, double *moments);
/* The normalise step alone, y [rows][C] = relu (gamma invstd (x - mean) + beta) from the batch
 * statistics: the bits of cl_batchnorm_forward_train_moments' y. For a conv that normalises its
 * input block by block (cl_conv2d_forward_nhwc_in) and for a map asked for later. */
void cl_batchnorm_relu_apply (const float *x, int rows, int C, const float *mean, const float *gamma,
                              const float *invstd, const float *beta, float *y);
