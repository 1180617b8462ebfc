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
/* Plain sgemm throughput in GFLOP/s for an m x n x k product. */
double bench_sgemm_gflops(int m, int n, int k, int reps);

#endif
