/*
 * Internal helpers shared by the library's source files.  Nothing here is
 * exported: every internal symbol uses the hli_ prefix and hidden visibility.
 */
#ifndef HILANDER_INTERNAL_H
#define HILANDER_INTERNAL_H

#include "hilander.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#  define HLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define HLI_PRINTF(a, b)
#endif

/* ---- errors (error.c) ---------------------------------------------------- */

/* Record an error for the calling thread and return @p status, so that call
 * sites read `return hli_error(HL_EINVAL, "k = %lld must be ...", k);` */
hl_status hli_error(hl_status status, const char *fmt, ...) HLI_PRINTF(2, 3);
/* Out-of-memory: records a static message, never allocates. */
hl_status hli_oom(void);
/* Log through the caller's callback, if any. */
void hli_log(hl_log_level level, const char *fmt, ...) HLI_PRINTF(2, 3);

/* ---- checked sizes and allocation (alloc.c) ------------------------------ */

/* *out = a * b; returns false on overflow (or negative inputs). */
bool hli_mul_size(size_t a, size_t b, size_t *out);
/* Allocate count*size bytes; on failure (overflow or OOM) records the error
 * (HL_ERANGE or HL_ENOMEM) and returns NULL.  Memory is NOT zeroed. */
void *hli_alloc(size_t count, size_t size);
/* Same, zeroed. */
void *hli_calloc(size_t count, size_t size);
/* realloc to count*size bytes with the same checks; on failure @p ptr is
 * left allocated and unchanged. */
void *hli_realloc(void *ptr, size_t count, size_t size);
#ifdef HL_FAULT_INJECTION
/* Allocation-failure injection (test builds only, alloc.c): arm(n) makes the
 * nth allocation from now fail (0 disarms); count() = allocations since arm;
 * fail() is the check each allocation makes. */
void hli_fault_arm(long long n);
long long hli_fault_count(void);
bool hli_fault_fail(void);
#endif
/* Checks n > 0 and a product of int64 dims fits size_t elements of @p size
 * bytes; records HL_EINVAL/HL_ERANGE naming @p what. */
hl_status hli_check_dims(const char *what, int64_t rows, int64_t cols, size_t elem_size, size_t *bytes);

/* ---- versioned public structs (options.c) -------------------------------- */

/* Fills a full-size struct with the library's defaults (struct_size aside). */
typedef void (*hli_struct_defaults_fn)(void *full);

/* The one versioning rule (docs/API.md).  Sizes from min_size (the first
 * released layout) to full_size (this library's) are accepted; anything else
 * is HL_EINVAL naming @p what.
 * init:  the caller's first @p size bytes get the defaults, struct_size = size.
 * read:  @p full (full_size bytes) = defaults overlaid by the caller's bytes;
 *        its struct_size becomes full_size.
 * write: the caller's first caller->struct_size bytes get @p full's bytes;
 *        struct_size keeps the caller's value. */
hl_status hli_struct_init(void *caller, size_t size, size_t min_size, size_t full_size, hli_struct_defaults_fn defaults,
                          const char *what);
hl_status hli_struct_read(const void *caller, size_t min_size, size_t full_size, hli_struct_defaults_fn defaults,
                          void *full, const char *what);
hl_status hli_struct_write(void *caller, const void *full, size_t min_size, size_t full_size, const char *what);

/* First released layout of each struct (release 0.1.0): a struct only grows
 * at the end, so when a field is appended the constant becomes
 * offsetof(type, first appended field) and stays so forever. */
#define HLI_MIN_SIZE_CLUSTER_OPTIONS offsetof(hl_cluster_options, knn_seed) /* 0.1.0 */
#define HLI_MIN_SIZE_KNN_OPTIONS sizeof(hl_knn_options)
#define HLI_MIN_SIZE_MODEL_CONFIG sizeof(hl_model_config)
#define HLI_MIN_SIZE_TRAIN_OPTIONS sizeof(hl_train_options)
#define HLI_MIN_SIZE_METRICS sizeof(hl_metrics)

/* The defaults of each struct (the init functions' values). */
void hli_cluster_options_defaults(void *opts);
void hli_knn_options_defaults(void *opts);
void hli_model_config_defaults(void *cfg);
void hli_train_options_defaults(void *opts);
void hli_metrics_defaults(void *m);

/* ---- threads (threads.c) ------------------------------------------------- */

/* The number of threads to use for a request: @p requested if > 0, else
 * the budget of the public call in progress on this thread, else all cores. */
int hli_threads(int32_t requested);
/* The machine's core count (the BLAS thread count that keeps results
 * independent of num_threads). */
int hli_machine_threads(void);

/* One public call: hli_scope_enter saves this thread's budget and the BLAS's
 * thread setting, hli_scope_threads sets the call's budget (its num_threads,
 * 0 = all cores), hli_scope_leave restores both.  Every public function
 * that runs parallel loops or the BLAS wraps its work in a scope. */
typedef struct hli_call_scope {
    int budget;
    int blas_threads;
} hli_call_scope;
void hli_scope_enter(hli_call_scope *scope);
void hli_scope_threads(int32_t num_threads);
void hli_scope_leave(const hli_call_scope *scope);

/* ---- comparators (compare.c) --------------------------------------------- */

/* Ascending int64_t, for qsort and bsearch. */
int hli_cmp_i64(const void *a, const void *b);

/* ---- clock (clock.c) ------------------------------------------------------ */

/* Seconds on a monotonic clock (for logged timings only). */
double hli_now_seconds(void);

/* ---- BLAS (blas.c) ---------------------------------------------------------- */

/* Row-major GEMM C = alpha op(A) op(B) + beta C (call from serial code only:
 * the BLAS runs its own threads).  K = 0 scales C by beta. */
void hli_gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* Tell the BLAS how many threads to use (OpenBLAS only; a no-op elsewhere). */
void hli_blas_set_threads(int n);
/* The BLAS's thread setting (OpenBLAS only; 0 elsewhere). */
int hli_blas_get_threads(void);
/* The BLAS core name (OpenBLAS openblas_get_corename()), or "unknown". */
const char *hli_blas_corename(void);

/* ---- deterministic random numbers (rng.c) -------------------------------- */

typedef struct hli_rng {
    uint64_t s[4];
} hli_rng;

void hli_rng_seed(hli_rng *rng, uint64_t seed);
uint64_t hli_rng_u64(hli_rng *rng);
/* Uniform in [0, 1). */
double hli_rng_uniform(hli_rng *rng);
/* Uniform integer in [0, n). */
uint64_t hli_rng_below(hli_rng *rng, uint64_t n);
/* Fisher-Yates shuffle of an int64 array. */
void hli_rng_shuffle_i64(hli_rng *rng, int64_t *a, int64_t n);

#endif
