/* Which compute kernels this process runs, for --version --verbose and the benchmarks' headers. */
#pragma once

/* One line, e.g. "CPU: AMD EPYC ... (AVX-512F, AVX2, FMA); conv: avx512 microkernels; sgemm (dense
 * layers, loss): OpenBLAS 0.3.21 ... core Zen". Free with g_free. */
char *cl_nn_describe_kernels (void);
