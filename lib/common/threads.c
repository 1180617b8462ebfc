/* Thread-count policy: how many threads a caller's request means, and the
 * scope of one public call.  A public call's num_threads becomes this
 * thread's budget for the call, so every loop inside it, also in functions
 * that take no thread count, uses at most that many threads; on return the
 * budget and the BLAS's own thread setting are what the caller had. */
#include "common/internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static _Thread_local int thread_budget; /* 0: no call in progress on this thread */

int hli_machine_threads(void)
{
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

int hli_threads(int32_t requested)
{
    if (requested > 0)
        return requested;
    if (thread_budget > 0)
        return thread_budget;
    return hli_machine_threads();
}

void hli_scope_enter(hli_call_scope *scope)
{
    scope->budget = thread_budget;
    scope->blas_threads = hli_blas_get_threads();
}

void hli_scope_threads(int32_t num_threads)
{
    thread_budget = num_threads > 0 ? num_threads : hli_threads(0);
}

void hli_scope_leave(const hli_call_scope *scope)
{
    thread_budget = scope->budget;
    if (scope->blas_threads > 0 && hli_blas_get_threads() != scope->blas_threads)
        hli_blas_set_threads(scope->blas_threads);
}
