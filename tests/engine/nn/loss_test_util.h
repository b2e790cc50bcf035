/* Helpers shared by the loss tests (test_loss*.c): the kinds, workspaces, views with spread row
 * norms, fixed SWD draws and one deterministic evaluation of any kind. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "engine/nn/cl_loss.h"

/* Every loss kind. */
#define N_KINDS 5
extern const ClLossKind all_kinds[N_KINDS];

/* One deterministic evaluation of any kind: the swd kinds use the given w and prior. */
typedef struct
{
  ClLossKind kind;
  int n, d;
  float tau, lambda;
  const float *w, *prior;
  float *ws;
} Eval;

int normalises_rows (ClLossKind kind);
float *new_ws (ClLossKind kind, int n, int d);
void fill_views (float *z, int n, int d, double noise, double spread, uint64_t seed);
void draw_fixed_swd (ClLossKind kind, int n, int d, uint64_t seed, float *w, float *prior);
ClLossResult eval (const Eval *e, const float *z, float *dz);
gboolean all_finite (const float *a, size_t count);
