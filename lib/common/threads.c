/* Thread-count policy: how many threads a caller's request means. */
#include "common/internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int hli_threads(int32_t requested)
{
    if (requested > 0)
        return requested;
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}
