/* Helpers shared by the engine/nn tests. */
#pragma once
#include <glib.h>
#include <stddef.h>

#include "engine/base/cl_rng.h"
#include "engine/nn/cl_layers.h"

#define TEST_STREAM 0x7e57

extern void openblas_set_num_threads (int num_threads);
extern int openblas_get_num_threads (void);

void fill_uniform (ClRng *rng, float *v, size_t count, double lo, double hi);
double dot_d (const float *a, const float *b, size_t count);
typedef double (*Objective) (void *ctx);
/* Central differences of f with respect to each of count floats at p. */
void numeric_grad (float *p, size_t count, double h, Objective f, void *ctx, double *out);
/* Worst absolute difference, relative to the largest numeric gradient entry. */
double grad_error (const float *analytic, const double *numeric, size_t count, double scale_factor);
/* Asserts the analytic gradient matches, and that the same check would reject a gradient that
 * is off by 1 % (so a pass means something). */
void assert_grad (const char *what, const float *analytic, const double *numeric, size_t count, double tol);
double max_abs_diff (const float *a, const float *b, size_t count);
double max_abs (const float *a, size_t count);

typedef struct
{
  ClConv2d conv;
  int n;
  float *w, *x, *y, *r, *col, *dcol, *tmp;
  size_t nw, nx, ny;
} ConvCase;
void conv_case_init (ConvCase *cc, ClRng *rng, int n, int in_c, int out_c, int k, int stride, int pad, int h, int w);
/* Scratch follows conv.chunk, which tests lower to exercise the chunk loop. */
void conv_case_scratch (ConvCase *cc);
void conv_case_free (ConvCase *cc);

typedef struct
{
  ClBatchNorm bn;
  int n;
  gboolean relu;
  float *x, *gamma, *beta, *y, *r, *mean, *invstd;
  size_t count;
} BnCase;
void bn_case_init (BnCase *bc, ClRng *rng, int n, int c, int p, gboolean relu);
void bn_case_free (BnCase *bc);
