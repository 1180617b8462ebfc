/* Exact cosine kNN: blocked sgemm (a block of query rows against a tile of
 * database rows) followed by a per-row bounded-heap top-k, parallel over the
 * rows of the block.  Memory is bounded by the block and tile sizes; the
 * N x N similarity matrix never exists. */
#include "knn/knn_internal.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Similarity tile budget: 16M floats (64 MiB); heap scratch is bounded too. */
#define HLI_TILE_ELEMS ((int64_t)16 << 20)
#define HLI_HEAP_BYTES ((int64_t)256 << 20)
#define HLI_DEFAULT_BLOCK 2048
/* Symmetric exact search: square tiles of HLI_SYM_BLOCK rows (64 MiB of
 * similarities) and at most 1 GiB of heaps for all rows. */
#define HLI_SYM_BLOCK 4096
#define HLI_SYM_HEAP_BYTES ((int64_t)1 << 30)

void hli_topk_sorted(float *hs, int64_t *hi, int64_t kk, int64_t *out_i, float *out_s)
{
    /* In-place heapsort: the root is the worst, so popping it to the end
     * leaves the array ordered best first. */
    for (int64_t end = kk - 1; end > 0; end--) {
        float ts = hs[0];
        int64_t ti = hi[0];
        float rs = hs[end];
        int64_t ri = hi[end];
        hs[end] = ts;
        hi[end] = ti;
        hli_topk_replace_root(hs, hi, end, rs, ri);
    }
    for (int64_t t = 0; t < kk; t++) {
        int missing = hi[t] == INT64_MAX;
        out_i[t] = missing ? -1 : hi[t];
        if (out_s)
            out_s[t] = missing ? 0.0f : hs[t];
    }
}

float hli_dot_ref(const float *a, const float *b, int64_t d)
{
    /* Four double accumulators in a fixed order: the result depends only on
     * the two rows, never on blocking, threads or the BLAS kernel. */
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t c = 0;
    for (; c + 4 <= d; c += 4) {
        s0 += (double)a[c] * b[c];
        s1 += (double)a[c + 1] * b[c + 1];
        s2 += (double)a[c + 2] * b[c + 2];
        s3 += (double)a[c + 3] * b[c + 3];
    }
    for (; c < d; c++)
        s0 += (double)a[c] * b[c];
    float s = (float)((s0 + s1) + (s2 + s3));
    return s > 1.0f ? 1.0f : s;
}

void hli_topk_refine(const float *qrow, const float *db, int64_t d, float *hs, int64_t *hi, int64_t ksel,
                     int64_t kk, int64_t *out_i, float *out_s)
{
    /* Recompute every selected candidate's similarity with hli_dot_ref,
     * sort all ksel by (refined sim desc, id asc) and keep the first kk. */
    for (int64_t t = 0; t < ksel; t++)
        if (hi[t] != INT64_MAX)
            hs[t] = hli_dot_ref(qrow, db + hi[t] * d, d);
    /* Sort all ksel by refined value, then take the first kk. */
    hli_topk_heapify(hs, hi, ksel);
    hli_topk_sorted(hs, hi, ksel, hi, hs);
    for (int64_t t = 0; t < kk; t++) {
        out_i[t] = hi[t];
        if (out_s)
            out_s[t] = hs[t];
    }
}

hl_status hli_topk_gemm(const float *q, int64_t nq, const float *db, int64_t ndb, int64_t d, int64_t kk,
                        const int64_t *self_ids, int64_t self_base, int64_t block_rows, int nt, int64_t *ids,
                        float *sims, int64_t ldo)
{
    if (nq <= 0 || kk <= 0)
        return HL_OK;
    if (d > INT_MAX || ndb > INT_MAX / 2)
        return hli_error(HL_ERANGE, "kNN: d = %lld or n = %lld exceeds the BLAS int range", (long long)d,
                         (long long)ndb);
    /* Keep a few more candidates than asked (re-ranked at the end). */
    const int64_t avail = ndb - ((self_ids != NULL || self_base >= 0) ? 1 : 0);
    const int64_t out_kk = kk;
    kk = kk + HLI_TOPK_MARGIN;
    if (kk > avail)
        kk = avail > out_kk ? avail : out_kk;
    int64_t bq = block_rows > 0 ? block_rows : HLI_DEFAULT_BLOCK;
    /* Few database rows (k-means centroids): taller blocks, fewer switches
     * between the BLAS threads and the OpenMP team. */
    if (block_rows == 0 && bq < HLI_TILE_ELEMS / ndb)
        bq = HLI_TILE_ELEMS / ndb;
    if (bq > nq)
        bq = nq;
    /* Heap scratch bq*kk*(4+8) bytes stays under HLI_HEAP_BYTES. */
    int64_t max_bq = HLI_HEAP_BYTES / (kk * 12);
    if (max_bq < 1)
        max_bq = 1;
    if (bq > max_bq)
        bq = max_bq;
    if (bq > INT_MAX / 2)
        bq = INT_MAX / 2;
    int64_t bd = HLI_TILE_ELEMS / bq;
    if (bd < 256)
        bd = 256;
    if (bd > ndb)
        bd = ndb;

    float *tile = hli_alloc((size_t)bq * (size_t)bd, sizeof *tile);
    float *hs = hli_alloc((size_t)bq * (size_t)kk, sizeof *hs);
    int64_t *hi = hli_alloc((size_t)bq * (size_t)kk, sizeof *hi);
    if (tile == NULL || hs == NULL || hi == NULL) {
        free(tile);
        free(hs);
        free(hi);
        return hl_last_error_status();
    }
    hli_blas_set_threads(nt);
    for (int64_t q0 = 0; q0 < nq; q0 += bq) {
        const int64_t nb = nq - q0 < bq ? nq - q0 : bq;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t r = 0; r < nb; r++)
            hli_topk_init(hs + r * kk, hi + r * kk, kk);
        for (int64_t j0 = 0; j0 < ndb; j0 += bd) {
            const int64_t nc = ndb - j0 < bd ? ndb - j0 : bd;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)nc, (int)d, 1.0f, q + q0 * d,
                        (int)d, db + j0 * d, (int)d, 0.0f, tile, (int)nc);
#pragma omp parallel for schedule(static) num_threads(nt)
            for (int64_t r = 0; r < nb; r++) {
                int64_t self = self_ids ? self_ids[q0 + r] : (self_base >= 0 ? self_base + q0 + r : -1);
                hli_topk_scan(tile + r * nc, nc, NULL, j0, self, hs + r * kk, hi + r * kk, kk);
            }
        }
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t r = 0; r < nb; r++)
            hli_topk_refine(q + (q0 + r) * d, db, d, hs + r * kk, hi + r * kk, kk, out_kk, ids + (q0 + r) * ldo,
                            sims ? sims + (q0 + r) * ldo : NULL);
    }
    free(tile);
    free(hs);
    free(hi);
    return HL_OK;
}

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
