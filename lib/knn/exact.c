/* Exact cosine kNN: blocked sgemm (a block of query rows against a tile of
 * database rows) followed by a per-row bounded-heap top-k, parallel over the
 * rows of the block.  Memory is bounded by the block and tile sizes; the
 * N x N similarity matrix never exists. */
#include "knn/knn_internal.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Symmetric exact search: square tiles of HLI_SYM_BLOCK rows (64 MiB of
 * similarities) and at most 1 GiB of heaps for all rows. */
#define HLI_SYM_BLOCK 4096
#define HLI_SYM_HEAP_BYTES ((int64_t)1 << 30)

/* Symmetric exact search (queries == database): only the tiles on and
 * above the block diagonal are computed; each similarity s(i, j) feeds both
 * i's heap (row scan) and j's heap (column scan).  Half the sgemm flops; the
 * heaps of all n rows live at once (n*ksel*12 bytes). */
static hl_status knn_exact_sym(const float *xn, int64_t n, int64_t d, int64_t kk, int64_t ksel, int64_t B, int nt,
                               int64_t *ids, float *sims, int64_t ldo)
{
    float *tile = hli_alloc((size_t)B * (size_t)B, sizeof *tile);
    float *ws = hli_alloc((size_t)B, sizeof *ws);
    float *hs = hli_alloc((size_t)n * (size_t)ksel, sizeof *hs);
    int64_t *hi = hli_alloc((size_t)n * (size_t)ksel, sizeof *hi);
    if (tile == NULL || ws == NULL || hs == NULL || hi == NULL) {
        free(tile);
        free(ws);
        free(hs);
        free(hi);
        return hl_last_error_status();
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t r = 0; r < n; r++)
        hli_topk_init(hs + r * ksel, hi + r * ksel, ksel);
    hli_blas_set_threads(nt);
    const int64_t CH = 64; /* columns per work item of the column scan */
    for (int64_t i0 = 0; i0 < n; i0 += B) {
        const int64_t bi = n - i0 < B ? n - i0 : B;
        for (int64_t j0 = i0; j0 < n; j0 += B) {
            const int64_t bj = n - j0 < B ? n - j0 : B;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bi, (int)bj, (int)d, 1.0f, xn + i0 * d, (int)d,
                        xn + j0 * d, (int)d, 0.0f, tile, (int)bj);
            const int diag = j0 == i0;
            const int64_t nch = diag ? 0 : (bj + CH - 1) / CH;
            /* One parallel loop: work items [0, bi) scan rows (heaps of
             * i0..), items bi.. scan column chunks (heaps of j0..). */
#pragma omp parallel for schedule(dynamic, 16) num_threads(nt)
            for (int64_t w = 0; w < bi + nch; w++) {
                if (w < bi) {
                    const int64_t i = i0 + w;
                    hli_topk_scan(tile + w * bj, bj, NULL, j0, diag ? i : -1, hs + i * ksel, hi + i * ksel, ksel);
                    continue;
                }
                const int64_t c0 = (w - bi) * CH;
                const int64_t c1 = c0 + CH < bj ? c0 + CH : bj;
                for (int64_t c = c0; c < c1; c++)
                    ws[c] = hs[(j0 + c) * ksel];
                for (int64_t r = 0; r < bi; r++) {
                    const float *row = tile + r * bj;
                    int any = 0;
                    for (int64_t c = c0; c < c1; c++)
                        any |= row[c] >= ws[c];
                    if (!any)
                        continue;
                    for (int64_t c = c0; c < c1; c++) {
                        if (row[c] < ws[c])
                            continue;
                        const int64_t j = j0 + c;
                        hli_topk_push(hs + j * ksel, hi + j * ksel, ksel, row[c], i0 + r);
                        ws[c] = hs[j * ksel];
                    }
                }
            }
        }
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t r = 0; r < n; r++)
        hli_topk_refine(xn + r * d, xn, d, hs + r * ksel, hi + r * ksel, ksel, kk, ids + r * ldo,
                        sims ? sims + r * ldo : NULL);
    free(tile);
    free(ws);
    free(hs);
    free(hi);
    return HL_OK;
}

hl_status hli_knn_exact(const float *xn, int64_t n, int64_t d, int64_t k, int64_t block_rows, int nt,
                        int64_t *nbrs, float *sims)
{
    for (int64_t i = 0; i < n; i++) {
        nbrs[i * k] = i;
        if (sims)
            sims[i * k] = 1.0f;
    }
    if (k == 1)
        return HL_OK;
    const int64_t kk = k - 1;
    int64_t ksel = kk + HLI_TOPK_MARGIN;
    if (ksel > n - 1)
        ksel = n - 1;
    /* The symmetric path when all heaps fit the budget and n spans more
     * than one block; otherwise query blocks against the whole database. */
    int64_t B = block_rows > 0 ? block_rows : HLI_SYM_BLOCK;
    if (B > INT_MAX / 2)
        B = INT_MAX / 2;
    if (n > B && ksel <= HLI_SYM_HEAP_BYTES / 12 / n)
        return knn_exact_sym(xn, n, d, kk, ksel, B, nt, nbrs + 1, sims ? sims + 1 : NULL, k);
    return hli_topk_gemm(xn, n, xn, n, d, kk, NULL, 0, block_rows, nt, nbrs + 1, sims ? sims + 1 : NULL, k);
}
