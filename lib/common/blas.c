/* The one place that talks to the BLAS: a row-major GEMM wrapper and the
 * BLAS's own thread count and core name.
 *
 * OpenBLAS functions are looked up as weak symbols so that the library links
 * against any CBLAS; with another BLAS these become no-ops. */
#include "common/internal.h"

#include <cblas.h>

extern void openblas_set_num_threads(int) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

void hli_gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
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

int hli_blas_get_threads(void)
{
    return openblas_get_num_threads ? openblas_get_num_threads() : 0;
}
