/* Layers of the encoder, llm.c style: a small struct of shapes per layer, parameters and
 * buffers passed in by the caller, explicit *_forward / *_backward. Nothing here allocates.
 *
 * Layout: activations are NCHW float32 ([n][C][P] with P = H*W; a dense activation is [n][F]).
 * Gradients of parameters (dw, dgamma, dbeta) are OVERWRITTEN, never accumulated.
 * dx arguments are overwritten too and may be NULL when the input gradient is not needed.
 *
 * Threads: by default single-threaded, apart from whatever OpenBLAS does inside sgemm. Every sum is
 * taken in a fixed order, so results are bit-reproducible for a given OpenBLAS thread count.
 * cl_layers_set_threads (t > 1) spreads the work over a team of t threads that sleep between jobs
 * and claim work items one by one (a thread that loses its core to another process just claims
 * fewer). OpenBLAS must then run on 1 thread (cl_layers_use_threads does both): each team thread
 * calls its own single-threaded sgemm. The channels-last conv and the [rows][C] BatchNorm the model
 * uses give the same bits for every team size; the NCHW conv splits its blocks by the thread count
 * and is bit-reproducible for a given count only. */
#pragma once

/* The layers, one header each. */
#include "engine/nn/cl_batchnorm.h"
#include "engine/nn/cl_conv.h"
#include "engine/nn/cl_dense.h"
#include "engine/nn/cl_layout.h"
#include "engine/nn/cl_relu.h"
#include "engine/nn/cl_team.h"
