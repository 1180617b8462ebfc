/* Top-k selection shared by exact and IVF search: draining a heap in order,
 * the fixed-order re-ranking that makes results independent of the BLAS
 * kernel, and the blocked sgemm scan of queries against a database. */
#include "knn/topk.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Similarity tile budget: 16M floats (64 MiB); heap scratch is bounded too. */
#define HLI_TILE_ELEMS ((int64_t)16 << 20)
#define HLI_HEAP_BYTES ((int64_t)256 << 20)
#define HLI_DEFAULT_BLOCK 2048

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
