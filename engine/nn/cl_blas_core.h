/* OpenBLAS's core, chosen by the CPU's features rather than by OpenBLAS's frozen CPU table.
 *
 * Debian's OpenBLAS 0.3.21 picks its kernels from a table of the CPUs known in 2022. On a newer
 * CPU it does not recognise it falls back to "Prescott" (SSE3) kernels: a quarter of the machine.
 * ContrastLab's hot products (conv, dense, the NT-Xent/decoupled Gram) run on its own microkernels,
 * chosen by CPU features (cl_conv_kernels_*, cl_gemm), so they do not care. What still runs on
 * OpenBLAS (the sliced-Wasserstein losses' products, the probes' double products, the similarity and
 * geometry Gram matrices) gets the right core this way:
 *
 * - OPENBLAS_CORETYPE is read by OpenBLAS's library constructor, before main runs. So when it is not
 *   set and OpenBLAS reports a core weaker than the CPU's features (SkylakeX kernels for AVX-512
 *   F/BW/VL/DQ, Haswell kernels for AVX2 + FMA), the program re-executes itself once with
 *   OPENBLAS_CORETYPE set to that core, and remembers what OpenBLAS had detected in
 *   CONTRASTLAB_BLAS_DETECTED.
 * - The re-executed program checks sgemm, dgemm and ssyrk against plain loops in double
 *   (cl_blas_core_self_test). If that fails it re-executes once more with OPENBLAS_CORETYPE
 *   removed and CONTRASTLAB_BLAS_SELF_TEST=failed, so OpenBLAS's own choice is used again.
 * - A coretype the user or the machine set (OPENBLAS_CORETYPE present without our marker) is never
 *   changed.
 *
 * CONTRASTLAB_BLAS_PRETEND_DETECTED=<core> makes the decision as if OpenBLAS had detected <core>: the
 * only way to exercise the re-execution on a CPU OpenBLAS knows (tests/app/test_cli.c). */
#pragma once

#include <glib.h>

/* What cl_blas_core_setup did. */
typedef enum
{
  CL_BLAS_CORE_DETECTED,      /* OpenBLAS's own choice was as good as the CPU allows: kept */
  CL_BLAS_CORE_FROM_ENV,      /* OPENBLAS_CORETYPE was set by the user or the machine: kept */
  CL_BLAS_CORE_CHOSEN,        /* we set OPENBLAS_CORETYPE and the self-test passed */
  CL_BLAS_CORE_CHOSEN_FAILED, /* we had set it, the self-test failed, OpenBLAS's choice is back */
} ClBlasCoreState;

/* The core OpenBLAS should run given what it detected and the CPU's features, or NULL to keep its
 * choice. Pure: detected is OpenBLAS's core name (any case); NULL or "" counts as unknown. */
const char *cl_blas_core_pick (const char *detected, gboolean avx2_fma, gboolean avx512);

/* Call first in main, before any thread or any other library use. May not return (it re-executes
 * the program through /proc/self/exe with the same argv); when exec fails it carries on with
 * OpenBLAS's choice. Idempotent. */
void cl_blas_core_setup (char **argv);

/* sgemm, dgemm and ssyrk on odd sizes against double loops; TRUE when every element is within
 * a few float/double ulps of the product's magnitude. About a millisecond. */
gboolean cl_blas_core_self_test (void);

ClBlasCoreState cl_blas_core_state (void);

/* One phrase for --version --verbose and the benchmark headers, e.g. "core SkylakeX (chosen by
 * ContrastLab: OpenBLAS detected Prescott; self-test passed)". Free with g_free. */
char *cl_blas_core_describe (void);
