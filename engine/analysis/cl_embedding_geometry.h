/* Batch geometry of the embeddings z, logged every step. */
#pragma once
#include <stddef.h>

typedef struct
{
  double alignment;  /* Wang & Isola: mean ||zn1_i - zn2_i||^2 over positive pairs (0..4) */
  double uniformity; /* Wang & Isola: log mean_{i != j} exp(-2 ||zn_i - zn_j||^2) over view-1 rows (<= 0) */
  double z_std;      /* mean over dimensions of the std of normalised z; 1/sqrt(d) when spread, 0 when collapsed */
} ClGeometry;

/* Rows of view 1 used for uniformity (its cost is quadratic). */
#define CL_GEOMETRY_MAX_ROWS 512

size_t cl_geometry_workspace_floats (int n, int d);
/* z: [2n, d] (view 1 rows then view 2 rows), unnormalised. */
void cl_geometry (const float *z, int n, int d, float *ws, ClGeometry *out);
