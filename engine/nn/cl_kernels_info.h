/* Which compute kernels this process runs, for --version --verbose and the benchmarks' headers. */
#pragma once

/* One line: the CPU and its vector features, the microkernel set the conv, dense and loss products
 * run on (and the AVX-512 / AVX2 calibration when both were eligible), and what OpenBLAS detected
 * (it still computes the sliced-Wasserstein losses' products). Free with g_free. */
char *cl_nn_describe_kernels (void);
