/* Matrix products on the conv microkernels (a GEMM is a 1x1 conv of 1x1 images), so the dense
 * layers and the loss do not depend on which kernels OpenBLAS picked for the CPU, and give the same
 * bits on every CPU that runs our microkernels (AVX-512, AVX2 + FMA: each element is one
 * fused multiply-add chain in a fixed order) and for any thread count (fixed blocks over the team).
 * Without microkernels (cl_conv_set_kernels ("im2col")) they fall back to cblas_sgemm.
 * Scratch is cached per calling thread (grown on demand, freed when the thread exits), so after the
 * first call of a shape nothing is allocated. */
#pragma once
#include <glib.h>

/* C [m][n] = A [m][k] B [n][k]^T (C overwritten). */
void cl_gemm_nt (int m, int n, int k, const float *a, const float *b, float *c);
/* With dC [m][n] the gradient of C = A B^T: dB [n][k] = dC^T A (overwritten; NULL: skipped) and
 * dA [m][k] = dC B (overwritten; NULL: skipped). */
void cl_gemm_nt_backward (int m, int n, int k, const float *a, const float *b, const float *dc, float *db, float *da);
/* Whether the calls above run on the microkernels now (else cblas_sgemm). */
gboolean cl_gemm_uses_microkernels (void);
