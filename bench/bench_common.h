/* Shared helpers for the benchmark programs: wall clock, peak memory and the
 * machine description printed with every figure. */
#ifndef HL_BENCH_COMMON_H
#define HL_BENCH_COMMON_H

#include <stdint.h>

double bench_now(void);
/* Peak resident set size of this process in MiB (VmHWM). */
double bench_peak_rss_mib(void);
/* Print CPU model, core count and the BLAS core name to stdout. */
void bench_print_machine(void);
/* Plain sgemm throughput in GFLOP/s for an m x n x k product (x W^T, the
 * layout the library uses), one warm-up call and @p reps timed calls. */
double bench_sgemm_gflops(int m, int n, int k, int reps);
/* The same product in one of three layouts: 0: C = A B^T with B n x k (as
 * above); 1: the transposed product C^T (n x m) = B A^T (the large dimension
 * on OpenBLAS's packed-A side); 2: C = A Bt with Bt k x n (pre-transposed). */
double bench_sgemm_layout_gflops(int m, int n, int k, int layout, int reps);

#endif
