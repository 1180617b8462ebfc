/* A small blocking worker pool for the per-row loops of inference.
 *
 * Why not OpenMP: the loops run between OpenBLAS GEMMs, and libgomp's idle
 * workers spin (for milliseconds) after every parallel region, right on the
 * cores OpenBLAS needs next (docs/perf-model.md).  The workers of this pool
 * sleep on a condition variable between tasks and never spin.
 *
 * A task is fn(arg, r0, r1) over rows [0, n), cut into fixed blocks of
 * @p grain rows handed out first come, first served (the caller takes part).
 * fn must treat rows independently (per-row work, no shared reductions): the
 * result then does not depend on which thread ran which block, so it is
 * bit-identical for any thread count.
 *
 * Failure handling: if a thread cannot be created (or any pthread call
 * fails) the pool has fewer workers, possibly none; hli_pool_run then does
 * the remaining blocks on the calling thread.  A NULL pool runs serially.
 * Nothing is printed and nothing aborts. */
#ifndef HLI_WORKER_POOL_H
#define HLI_WORKER_POOL_H

#include <stdint.h>

typedef struct hli_pool hli_pool;
typedef void (*hli_pool_fn)(void *arg, int64_t r0, int64_t r1);

/* A pool of @p nt threads including the caller (nt - 1 workers); NULL if
 * nt <= 1 or on failure (callers then run serially: hli_pool_run accepts
 * NULL). */
hli_pool *hli_pool_create(int nt);
/* Number of threads (caller included) that may run a task: 1 for NULL. */
int hli_pool_threads(const hli_pool *p);
/* fn(arg, r0, r1) over [0, n) in blocks of @p grain rows (>= 1); returns
 * when every block is done. */
void hli_pool_run(hli_pool *p, hli_pool_fn fn, void *arg, int64_t n, int64_t grain);
void hli_pool_destroy(hli_pool *p);

/* Test hook: when >= 0, hli_pool_create treats the creation of any worker
 * beyond this many as failed (exercises the partial / serial fallback).
 * Default -1 (off).  Not thread-safe: tests only. */
extern int hli_pool_max_workers_test;

#endif
