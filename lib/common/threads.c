/* Thread-count policy and the BLAS's own threads.
 *
 * OpenBLAS functions are looked up as weak symbols so that the library links
 * against any CBLAS; with another BLAS these become no-ops. */
#include "common/internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

extern void openblas_set_num_threads(int) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

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

void hli_blas_set_threads(int n)
{
    if (openblas_set_num_threads)
        openblas_set_num_threads(n > 0 ? n : 1);
}

const char *hli_blas_corename(void)
{
    if (openblas_get_corename) {
        const char *s = openblas_get_corename();
        if (s)
            return s;
    }
    return "unknown";
}
