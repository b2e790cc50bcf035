/* The encoder + projection head, as one object with explicit forward/backward.
 * Layout is NCHW float32. Parameters, gradients and optimizer state each live in one
 * arena allocated at build time; the workspace is sized for max_views, so a training
 * step allocates nothing. */
#pragma once
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct
{
  const char *arch;  /* "convn" (3x3 stride-2 valid convs) or "convn-same" (padded: maps halve, 64 -> 32/16/8) */
  int in_channels;   /* image planes + bit planes */
  int height, width; /* input spatial size, e.g. 28x28 */
  double width_mult; /* channel multiplier (model.width); conv channels 32/64/64 times this, rounded, >= 1 */
  int head_layers;   /* 0 = z is y; 1 = one linear layer to out_dim; k>1 = (k-1) x [Dense hidden + BN + ReLU] then Dense
                        out_dim */
  int rep_dim;       /* y dimension, 128 */
  int head_hidden;   /* 256 */
  int out_dim;       /* z dimension, 64 (when head_layers > 0) */
  int max_views;     /* largest n passed to forward (2 x batch) */
} ClModelSpec;

typedef struct ClModel ClModel;

#define CL_MODEL_ERROR (cl_model_error_quark ())
GQuark cl_model_error_quark (void);
typedef enum
{
  CL_MODEL_ERROR_BAD_SPEC,  /* unknown arch, out-of-range size, input too small */
  CL_MODEL_ERROR_NO_MEMORY, /* workspace for max_views does not fit */
} ClModelError;

/* Defaults of the paper's ConvN (paper.md section 3.3). */
void cl_model_spec_init (ClModelSpec *spec);

ClModel *cl_model_new (const ClModelSpec *spec, uint64_t seed, GError **error);
void cl_model_free (ClModel *model);

const ClModelSpec *cl_model_spec (const ClModel *model);
int cl_model_rep_dim (const ClModel *model); /* dimension of y */
int cl_model_out_dim (const ClModel *model); /* dimension of z (== rep_dim when head_layers == 0) */

/* Forward n views (n <= max_views), x is [n, in_channels, height, width].
 * training = TRUE: batch statistics, running statistics updated, activations kept for backward.
 * training = FALSE: running statistics, nothing updated.
 * Returns z [n, out_dim], owned by the model and valid until the next forward. */
const float *cl_model_forward (ClModel *model, const float *x, int n, gboolean training);
/* y [n, rep_dim] of the last forward. */
const float *cl_model_representation (const ClModel *model);
/* Backward of the last training forward. dz is [n, out_dim]. Overwrites the gradient arena. */
void cl_model_backward (ClModel *model, const float *dz);

/* Evaluation-mode representation of any number of images (chunked by max_views). y_out is [n, rep_dim]. */
void cl_model_embed (ClModel *model, const float *x, int n, float *y_out);

/* Arenas: parameters, gradients (same layout). The first cl_model_num_decay_params()
 * entries are kernels (weight decay applies); the rest are BN scale/shift.
 * Order: kernels in layer order (conv1..3 [out][in][3][3], rep dense [128][flat], head denses
 * [out][in]), then gamma[C], beta[C] for each BN layer in layer order (every layer but the last
 * head layer has BN). */
size_t cl_model_num_params (const ClModel *model);
size_t cl_model_num_decay_params (const ClModel *model);
float *cl_model_params (ClModel *model);
float *cl_model_grads (ClModel *model);

/* The kernel tensors' ranges in the parameter arena (each is one LARS layer); returns how many. */
int cl_model_kernel_ranges (const ClModel *model, size_t *starts, size_t *counts, int max);

/* Multiply-adds of one forward of one view, for benchmarks. */
double cl_model_flops_per_view (const ClModel *model);

/* ---- additions ----
 * Conventions: weights are Glorot-uniform (Keras default) from CL_STREAM_INIT; BN gamma 1, beta 0,
 * eps 1e-5, running = 0.9 * running + 0.1 * batch (unbiased variance), see cl_layers.h.
 * The x passed to a training forward is copied, so the caller may reuse its buffer before backward.
 * An evaluation forward (or cl_model_embed) overwrites the activations: backward must follow the
 * training forward it belongs to with no evaluation forward in between. */

/* Running BN statistics (per BN layer: mean[C] then var[C]); the state evaluation mode uses. */
size_t cl_model_num_buffers (const ClModel *model);
float *cl_model_buffers (ClModel *model);
/* Copies parameters and running statistics (e.g. into a frozen copy for probes).
 * FALSE (and nothing copied) when the two models' parameter shapes differ. */
gboolean cl_model_copy_weights (ClModel *dst, const ClModel *src);
/* Post-BN-ReLU maps of the conv layers from the last forward, for local-feature clustering:
 * [n][channels][height][width], valid until the next forward. */
int cl_model_num_conv_layers (const ClModel *model);
const float *cl_model_conv_activation (const ClModel *model, int layer, int *channels, int *height, int *width);
/* Every layer's output from the last forward, [n][size] floats per view: the conv layers, y, then the
 * head layers (z last). All but z (when head_layers > 0) are post-ReLU. */
int cl_model_num_layers (const ClModel *model);
const float *cl_model_layer_output (const ClModel *model, int layer, size_t *size);

/* Only the first `active` input channels (1..in_channels; clamped; default in_channels) of x are
 * used: the rest are treated as zero planes without being read (forward, backward and the copy of
 * x), so conv1 pays for active channels only. Results equal the full computation on an x whose
 * inactive planes are zero; conv1's kernel gradient of inactive channels is exactly zero. x keeps
 * its full [n][in_channels][height][width] layout. May change between steps, but not between a
 * training forward and its backward. */
void cl_model_set_active_input_channels (ClModel *model, int active);
int cl_model_active_input_channels (const ClModel *model);

/* Input channels first .. active - 1 are constant over each image (the random bit planes): each
 * holds one value per view, which is all the model reads of them (pixel 0). conv1 then convolves
 * the planes before `first` only and adds the constant planes' exact contribution as a per-view,
 * per-channel bias (per border class for the padded convn-same), and the backward gets their kernel
 * gradient from per-view sums of conv1's output gradient (cl_const_planes.h): the cost no longer
 * grows with the number of planes. Results equal the full convolution up to float rounding (the
 * sums are taken in another order). 0 (the default) = none; clamped to 0..in_channels. May change
 * between steps, not between a training forward and its backward. Planes that are not constant
 * give wrong results: only the caller knows they are. */
void cl_model_set_constant_input_planes (ClModel *model, int first);
int cl_model_constant_input_planes (const ClModel *model);
