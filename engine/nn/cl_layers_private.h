/* Internal to engine/nn: the bit-level ReLU helpers the fused kernels share, and the thread team's
 * job interface (cl_team.c). Not for code outside engine/nn. */
#pragma once
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "engine/nn/cl_team.h"

/* max(v, 0) on the bits (GCC turns the float select into a branch at -O2). -0 and negative NaNs
 * give +0. */
static inline float
relu_f (float v)
{
  uint32_t u;
  memcpy (&u, &v, sizeof u);
  u &= ~(uint32_t) ((int32_t) u >> 31);
  memcpy (&v, &u, sizeof v);
  return v;
}

/* d where the ReLU output y passed, else 0. y comes from relu_f, so y > 0 iff its bits are a positive int. */
static inline float
relu_pass (float d, float y)
{
  uint32_t ud, uy;
  memcpy (&ud, &d, sizeof ud);
  memcpy (&uy, &y, sizeof uy);
  ud &= (uint32_t) - (int32_t) ((int32_t) uy > 0);
  memcpy (&d, &ud, sizeof d);
  return d;
}

/* ---- the thread team's jobs (cl_team.c)
 * A job is a number of independent items; the caller and the team's workers claim them one at a
 * time. fn (arg, item, thread) runs item `item` on team thread `thread` (0 = the caller), which
 * tells which per-thread scratch to use. What an item computes must depend only on its index. */
typedef void (*ClTeamItemFn) (void *arg, int item, int thread);
void cl_team_for (ClTeamItemFn fn, void *arg, int items);

/* Older kernels split their work into `parts` fixed parts: fn (arg, part, parts). */
typedef void (*ClTeamFn) (void *arg, int part, int parts);
void cl_team_run (ClTeamFn fn, void *arg, int parts);
/* The thread count a job starts with: the current setting, read once so a concurrent
 * cl_layers_set_threads cannot change it mid-job. */
int cl_team_parts (void);
