/* Bounded top-k selection by cosine, shared by exact and IVF search.
 *
 * Order used everywhere: a candidate (s, j) is better than (t, m) iff s > t, or
 * s == t and j < m.  That is a strict total order on distinct ids, so the top-k
 * of a candidate set does not depend on the order the candidates arrive in. */
#ifndef HILANDER_KNN_TOPK_H
#define HILANDER_KNN_TOPK_H

#include "common/internal.h"

#include <math.h>
#include <string.h>

/* A bounded top-kk set kept as a binary heap whose root is the worst entry.
 * Empty slots hold (-INFINITY, INT64_MAX) sentinels, worse than any finite
 * candidate, so the heap starts "full" and a push is one compare + replace. */
static inline void hli_topk_init(float *hs, int64_t *hi, int64_t kk)
{
    for (int64_t t = 0; t < kk; t++) {
        hs[t] = -INFINITY;
        hi[t] = INT64_MAX;
    }
}

/* 1 if (s1, i1) is worse than (s2, i2). */
static inline int hli_topk_worse(float s1, int64_t i1, float s2, int64_t i2)
{
    return s1 < s2 || (s1 == s2 && i1 > i2);
}

/* Put (s, id) at slot p of a heap of @p size slots whose subtrees below p
 * are heaps, and sift it down. */
static inline void hli_topk_sift(float *hs, int64_t *hi, int64_t size, int64_t p, float s, int64_t id)
{
    for (;;) {
        int64_t c = 2 * p + 1;
        if (c >= size)
            break;
        if (c + 1 < size && hli_topk_worse(hs[c + 1], hi[c + 1], hs[c], hi[c]))
            c++;
        if (!hli_topk_worse(hs[c], hi[c], s, id))
            break;
        hs[p] = hs[c];
        hi[p] = hi[c];
        p = c;
    }
    hs[p] = s;
    hi[p] = id;
}

/* Replace the root (worst) by (s, id), which the caller checked is better. */
static inline void hli_topk_replace_root(float *hs, int64_t *hi, int64_t kk, float s, int64_t id)
{
    hli_topk_sift(hs, hi, kk, 0, s, id);
}

/* Turn an arbitrary array into a heap (root = worst). */
static inline void hli_topk_heapify(float *hs, int64_t *hi, int64_t size)
{
    for (int64_t p = size / 2 - 1; p >= 0; p--)
        hli_topk_sift(hs, hi, size, p, hs[p], hi[p]);
}

/* Offer (s, id); similarities above 1 (rounding) are clamped to 1 first. */
static inline void hli_topk_push(float *hs, int64_t *hi, int64_t kk, float s, int64_t id)
{
    if (s < hs[0])
        return;
    if (s > 1.0f)
        s = 1.0f;
    if (hli_topk_worse(s, id, hs[0], hi[0]))
        return;
    hli_topk_replace_root(hs, hi, kk, s, id);
}

/* 1 if any of p[0..15] >= t.  GCC/clang vector extensions (SSE/AVX or
 * NEON compares, unaligned loads through memcpy); scalar elsewhere. */
#if defined(__GNUC__)
typedef float hli_v4f __attribute__((vector_size(16)));
typedef int32_t hli_v4i __attribute__((vector_size(16)));
static inline int hli_any16_ge(const float *p, float t)
{
    hli_v4f a, b, c, d;
    const hli_v4f w = {t, t, t, t};
    memcpy(&a, p, sizeof a);
    memcpy(&b, p + 4, sizeof b);
    memcpy(&c, p + 8, sizeof c);
    memcpy(&d, p + 12, sizeof d);
    hli_v4i m = (a >= w) | (b >= w) | (c >= w) | (d >= w);
    return (m[0] | m[1] | m[2] | m[3]) != 0;
}
#else
static inline int hli_any16_ge(const float *p, float t)
{
    int any = 0;
    for (int u = 0; u < 16; u++)
        any |= p[u] >= t;
    return any;
}
#endif

/* Scan one row of a similarity block: candidates row[c] with id
 * (colid ? colid[c] : base + c), skipping id == skip.  Runs of 16 values all
 * below the current threshold are rejected with one vectorisable test. */
static inline void hli_topk_scan(const float *row, int64_t ncols, const int64_t *colid, int64_t base,
                                 int64_t skip, float *hs, int64_t *hi, int64_t kk)
{
    float ws = hs[0];
    int64_t c = 0;
    for (;;) {
        if (c + 16 <= ncols && !hli_any16_ge(row + c, ws)) {
            c += 16;
            continue;
        }
        const int64_t end = c + 16 < ncols ? c + 16 : ncols;
        if (c >= end)
            break;
        for (; c < end; c++) {
            float s = row[c];
            if (s < ws)
                continue;
            int64_t id = colid ? colid[c] : base + c;
            if (id == skip)
                continue;
            hli_topk_push(hs, hi, kk, s, id);
            ws = hs[0];
        }
    }
}

/* Sort the heap (destroyed) into (sim desc, id asc) order, writing kk
 * entries to out_i / out_s (out_s may be NULL).  Sentinel slots become id -1,
 * similarity 0. */
void hli_topk_sorted(float *hs, int64_t *hi, int64_t kk, int64_t *out_i, float *out_s);

/* Candidates kept beyond kk during the sgemm scan, re-ranked by
 * hli_dot_ref: absorbs rounding differences between sgemm kernels so that
 * equal vectors tie exactly and results do not depend on blocking/threads. */
#define HLI_TOPK_MARGIN 8

/* Cosine of two normalised rows in a fixed-order double accumulation,
 * rounded to float and clamped to at most 1. */
float hli_dot_ref(const float *a, const float *b, int64_t d);

/* Re-rank the ksel candidates of a heap (hs/hi, destroyed) of query row
 * @p qrow against database rows @p db by hli_dot_ref and write the best kk
 * sorted to out_i / out_s (out_s may be NULL; -1/0 for missing). */
void hli_topk_refine(const float *qrow, const float *db, int64_t d, float *hs, int64_t *hi, int64_t ksel,
                     int64_t kk, int64_t *out_i, float *out_s);

/* Exact top-kk by cosine of nq query rows @p q against ndb database rows
 * @p db (both L2-normalised, d columns), with blocked sgemm.  Query row r is
 * database row self_ids[r] (or self_base + r if self_ids is NULL and
 * self_base >= 0); that row is skipped.  Output row r (kk entries, sorted,
 * -1/0 where fewer than kk candidates exist) starts at ids + r*ldo and
 * sims + r*ldo (sims may be NULL).  Call from serial code only. */
hl_status hli_topk_gemm(const float *q, int64_t nq, const float *db, int64_t ndb, int64_t d, int64_t kk,
                        const int64_t *self_ids, int64_t self_base, int64_t block_rows, int nt, int64_t *ids,
                        float *sims, int64_t ldo);

#endif
