/* Shared helpers for the benchmark programs: wall clock, peak memory and the
 * machine description printed with every figure. */
#ifndef HL_BENCH_COMMON_H
#define HL_BENCH_COMMON_H

#include <stdint.h>

double bench_now(void);
/* Peak resident set size of this process in MiB (VmHWM). */
double bench_peak_rss_mib(void);
/* Resident set size now, in MiB (VmRSS). */
double bench_rss_mib(void);
/* Reset the peak resident set size to the current one (Linux: write 5 to
 * /proc/self/clear_refs), so that bench_peak_rss_mib() then reports the peak
 * of what follows; @return 0, or -1 where the kernel does not allow it. */
int bench_reset_peak_rss(void);
/* Bytes the C heap holds for the program (glibc mallinfo2: in-use chunks
 * plus mmap'ed blocks, all arenas), in MiB; -1 where unknown.  Counts the
 * allocated capacity, touched or not. */
double bench_heap_in_use_mib(void);
/* Give freed heap memory back to the system (glibc malloc_trim), so that a
 * later RSS reading shows what is still allocated. */
void bench_trim_heap(void);
/* The 1-minute load average (first field of /proc/loadavg), -1 if unknown. */
double bench_loadavg(void);
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
