/* Helpers shared by the k-means and cluster-score tests: workspaces, planted blobs, uniform points,
 * and the invariants every clustering and every bisecting tree must satisfy. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

float *new_ws (size_t floats);
void make_blobs (int dim, int k, const int *sizes, double spread, double sigma, uint64_t seed, float *x, int *truth);
void normalise_rows (float *x, int n, int dim);
double dist2 (const float *a, const float *b, int dim);
int count_distinct (const int *labels, int n);
void check_result (const float *x, int n, int dim, int k, int used, const int *labels, const float *cent,
                   double inertia);
void uniform_points (float *x, int n, int dim, uint64_t seed);
double cluster_sse (const float *x, int n, int dim, const int *labels, int c);
void check_tree (const float *x, int n, int dim, int kmax, int leaves, const int *lab, const int *par);
