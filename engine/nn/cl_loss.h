/* Contrastive losses. z rows 0..n-1 are view 1 of images 0..n-1, rows n..2n-1 are view 2.
 * Each loss returns its value split into alignment + distribution parts
 * (loss == alignment + distribution) and writes dL/dz. */
#pragma once
#include <stddef.h>

#include "engine/base/cl_rng.h"

typedef struct
{
  double loss;
  double alignment;    /* part pulling positives together */
  double distribution; /* part spreading all embeddings out */
  double accuracy;     /* fraction of the 2n anchors whose most similar other row is their positive */
} ClLossResult;

/* Workspace needed by cl_ntxent for n images (2n rows) of dimension d, in floats. */
/* exp(x) for x <= 0 as the losses compute it (the softmax terms of the shifted logits): within
 * a few ulp of expf, exactly 1 at 0, 0 at -inf and below -87, NaN for NaN; for x > 0 it is
 * not defined. cl_exp_shifted: y[k] = that of (x[k] - m) * inv_tau for x[k] <= m, 8 lanes at a
 * time where the CPU has AVX2 + FMA (y may be x). Both are compared with expf in test_loss. */
float cl_exp_nonpositive (float x);
void cl_exp_shifted (const float *x, int count, float m, float inv_tau, float *y);

size_t cl_ntxent_workspace_floats (int n, int d);

/* NT-Xent (SimCLR) with 2n-2 negatives per anchor, cosine similarity, temperature tau:
 *   L = (1/2n) sum_i [ -s(i,p(i))/tau + log sum_{k != i} exp(s(i,k)/tau) ]
 * alignment    = -(1/2n) sum_i s(i,p(i))/tau
 * distribution =  (1/2n) sum_i logsumexp_{k != i} s(i,k)/tau
 * z is [2n, d] unnormalised; dz [2n, d] receives dL/dz (may be NULL); ws has
 * cl_ntxent_workspace_floats(n, d) floats. Allocates nothing. */
ClLossResult cl_ntxent (const float *z, int n, int d, float tau, float *dz, float *ws);

/* ---- The generalized contrastive loss family (paper digest section 1.2) ----
 *
 * Every kind uses the same layout as cl_ntxent (z rows 0..n-1 view 1, n..2n-1 view 2),
 * returns loss == alignment + distribution, writes dL/dz when dz != NULL, and reports the
 * NT-Xent-style contrastive accuracy computed from cosine similarities, so curves of
 * different kinds are comparable (an anchor counts as correct only when its positive is
 * strictly more similar than every other row). The distribution field holds the weighted part
 * (lambda * distribution term) so the parts still sum to the loss.
 *
 * Rows are l2-normalised as h = z / max(|z|, CL_LOSS_NORM_EPS) where a kind says so
 * (TensorFlow's l2_normalize floor, as in the official code). */

#define CL_LOSS_NORM_EPS 1e-6f

/* Order and count match the loss.kind choices: ntxent, decoupled, swd-normal, swd-cube, swd-sphere. */
typedef enum
{
  CL_LOSS_NTXENT = 0, /* cl_ntxent; lambda is not used */
  CL_LOSS_DECOUPLED,  /* official "logsumexp" form: no mask, self and positive stay in */
  CL_LOSS_SWD_NORMAL, /* SWD to N(0, I), raw rows (hidden_norm off) */
  CL_LOSS_SWD_CUBE,   /* SWD to U(-1, 1)^d, raw rows (hidden_norm off) */
  CL_LOSS_SWD_SPHERE, /* SWD to normalised Gaussian samples, normalised rows (hidden_norm on) */
  CL_LOSS_N_KINDS
} ClLossKind;

typedef struct
{
  ClLossKind kind;
  float temperature; /* ntxent and decoupled */
  float lambda;      /* decoupled and swd-*: weight of the distribution term */
} ClLossParams;

/* "ntxent", "decoupled", "swd-normal", "swd-cube", "swd-sphere"; NULL for an invalid kind. */
const char *cl_loss_kind_name (ClLossKind kind);
/* Returns 1 and sets *kind when name is one of the names above, 0 otherwise. */
int cl_loss_kind_from_name (const char *name, ClLossKind *kind);

/* Workspace floats for cl_loss_compute of this kind (also enough for the explicit entry
 * points below). _max is the largest over all kinds, for callers that switch kinds live. */
size_t cl_loss_workspace_floats (ClLossKind kind, int n, int d);
size_t cl_loss_workspace_floats_max (int n, int d);

/* Computes the loss of params->kind. rng (stream CL_STREAM_LOSS) is used by the swd kinds
 * only: each call draws a fresh Haar-orthogonal d x d W (d*d normals) and then 2n*d prior
 * samples, in that order; it may be NULL for ntxent and decoupled. dz may be NULL; ws has
 * cl_loss_workspace_floats(kind, n, d) floats and its contents need no initialisation.
 * Allocates nothing itself (Debian's threaded OpenBLAS mallocs a job table inside ssyrk/ssymm).
 * Invalid arguments (n < 1, d < 1, tau <= 0, NULL buffers) are programmer errors: a
 * g_critical and an all-NaN result. */
ClLossResult cl_loss_compute (const ClLossParams *params, const float *z, int n, int d, ClRng *rng, float *dz,
                              float *ws);

/* Decoupled (official dist='logsumexp', hidden_norm=True), h = normalised z:
 *   alignment    = (1/(n d)) sum_{i<n} |h_i - h_{i+n}|^2 / 2   (mean over n*d entries, halved)
 *   distribution = lambda * [ (1/2n) sum_i logsumexp_{k over all 2n} (h_i.h_k / tau) - log d ] */
ClLossResult cl_loss_decoupled (const float *z, int n, int d, float tau, float lambda, float *dz, float *ws);

/* SWD kinds with a given projection and prior, for tests and replays. w is d x d row-major
 * (P = H w), prior is 2n x d raw samples (N(0,1) for normal/sphere, U(-1,1) for cube; the sphere
 * kind normalises them itself). H = z, or normalised z for the sphere kind:
 *   alignment    = (1/(n d)) sum_{i<n} |H_i - H_{i+n}|^2 / 2
 *   distribution = lambda * mean over 2n*d of (sort_col(prior w) - sort_col(H w))^2
 * The gradient treats the sort permutations as constant. ws: cl_loss_workspace_floats(kind, n, d). */
ClLossResult cl_loss_swd (ClLossKind kind, const float *z, int n, int d, float lambda, const float *w,
                          const float *prior, float *dz, float *ws);

/* Fills w (d x d, row-major) with a Haar-distributed orthogonal matrix: QR of a Gaussian
 * matrix (LAPACK sgeqrf/sorgqr), columns sign-corrected by diag(R) like Keras' Orthogonal.
 * work has cl_loss_orthogonal_work_floats(d) floats. Draws d*d normals from rng. */
size_t cl_loss_orthogonal_work_floats (int d);
void cl_loss_draw_orthogonal (int d, ClRng *rng, float *w, float *work);

/* Fills prior (rows x d) with raw samples of the kind's prior (see cl_loss_swd). */
void cl_loss_draw_prior (ClLossKind kind, int rows, int d, ClRng *rng, float *prior);
