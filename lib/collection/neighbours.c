/* The level-0 neighbour lists of a collection: searching the lists of new
 * (or re-listed) points, and finding the existing points whose lists the new
 * points enter.
 *
 * Without an index the search is exact: a block of query rows against all
 * rows with sgemm.  Once the collection outgrows exact search it keeps an IVF
 * index (the library's spherical k-means cells, trained once, see
 * knn/ivf.c): a query scans its nprobe best cells plus the other new rows
 * of its batch.  Either way, every existing point the scan meets whose k-th
 * similarity the query beats gets the query as a reverse-update candidate,
 * so the lists stay the k nearest among what was scanned.  Candidates are
 * ranked by the fixed-order hli_dot_ref as in the library's search, so the
 * result does not depend on blocking or thread count. */
#include "collection/collection_internal.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define HLI_COLL_QBLOCK 2048
#define HLI_COLL_DBLOCK 4096
/* sgemm similarities may round differently from hli_dot_ref: candidates
 * within this margin of a threshold are checked exactly */
#define HLI_COLL_SIM_SLACK 1e-4f

/* One reverse-update candidate: existing point j may take query q. */
typedef struct rev_cand {
    int64_t j, q;
} rev_cand;

typedef struct cand_buf {
    rev_cand *v;
    int64_t n, cap;
    hl_status st;
} cand_buf;

static void cand_push(cand_buf *b, int64_t j, int64_t q)
{
    if (b->st != HL_OK)
        return;
    if (b->n == b->cap) {
        int64_t cap = b->cap ? 2 * b->cap : 1024;
        rev_cand *p = hli_realloc(b->v, (size_t)cap, sizeof *p);
        if (p == NULL) {
            b->st = hl_last_error_status();
            return;
        }
        b->v = p;
        b->cap = cap;
    }
    b->v[b->n].j = j;
    b->v[b->n].q = q;
    b->n++;
}

static int cmp_cand(const void *pa, const void *pb)
{
    const rev_cand *a = pa, *b = pb;
    if (a->j != b->j)
        return a->j < b->j ? -1 : 1;
    return a->q < b->q ? -1 : a->q > b->q;
}

void hli_search_result_free(hli_search_result *r)
{
    free(r->knn);
    free(r->sim);
    free(r->upd_id);
    free(r->upd_knn);
    free(r->upd_sim);
    memset(r, 0, sizeof *r);
}

/* What one search shares between its steps. */
typedef struct search_run {
    const hl_collection *c;
    const int64_t *q;
    int64_t nq, ksel, n_db;
    const unsigned char *excluded;
    int reverse, nt;
    float *hs;        /* nq x ksel heaps */
    int64_t *hi;
    float *qrows;     /* a block of query rows */
    float *tile;
    cand_buf cands;
} search_run;

static int usable(const search_run *r, int64_t j)
{
    return r->c->alive[j] && (r->excluded == NULL || !r->excluded[j]);
}

/* The k-th similarity of existing point j's list (-inf when not full): the
 * bar a query must pass to enter it. */
static float list_bar(const hl_collection *c, int64_t j)
{
    const int64_t last = j * c->k + c->k - 1;
    return c->knn[last] >= 0 ? c->knn_sim[last] : -INFINITY;
}

/* Scan a tile of query rows [a0, a0 + na) (indexes into r->q) against the
 * database rows @p ids (or db0 + column when ids is NULL), @p nc columns. */
static void scan_tile(search_run *r, int64_t a0, int64_t na, const int64_t *ids, int64_t db0, int64_t nc)
{
    const hl_collection *c = r->c;
    /* unusable columns (removed, excluded) can never be chosen */
    for (int64_t col = 0; col < nc; col++) {
        const int64_t j = ids ? ids[col] : db0 + col;
        if (!usable(r, j))
            for (int64_t a = 0; a < na; a++)
                r->tile[a * nc + col] = -INFINITY;
    }
#pragma omp parallel for schedule(static) num_threads(r->nt)
    for (int64_t a = 0; a < na; a++)
        hli_topk_scan(r->tile + a * nc, nc, ids, db0, r->q[a0 + a], r->hs + (a0 + a) * r->ksel,
                      r->hi + (a0 + a) * r->ksel, r->ksel);
    if (!r->reverse)
        return;
    for (int64_t a = 0; a < na; a++) {
        const float *row = r->tile + a * nc;
        for (int64_t col = 0; col < nc; col++) {
            const int64_t j = ids ? ids[col] : db0 + col;
            if (j < c->n && usable(r, j) && row[col] >= list_bar(c, j) - HLI_COLL_SIM_SLACK)
                cand_push(&r->cands, j, r->q[a0 + a]);
        }
    }
}

static void gather(const float *x, int64_t d, const int64_t *ids, int64_t m, float *out)
{
    for (int64_t t = 0; t < m; t++)
        memcpy(out + t * d, x + ids[t] * d, sizeof(float) * (size_t)d);
}

/* Exact: every query block against every row block of [0, n_db). */
static hl_status search_exact(search_run *r)
{
    const hl_collection *c = r->c;
    const int64_t d = c->d;
    for (int64_t a0 = 0; a0 < r->nq; a0 += HLI_COLL_QBLOCK) {
        const int64_t na = r->nq - a0 < HLI_COLL_QBLOCK ? r->nq - a0 : HLI_COLL_QBLOCK;
        gather(c->x, d, r->q + a0, na, r->qrows);
        for (int64_t j0 = 0; j0 < r->n_db; j0 += HLI_COLL_DBLOCK) {
            const int64_t nc = r->n_db - j0 < HLI_COLL_DBLOCK ? r->n_db - j0 : HLI_COLL_DBLOCK;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)nc, (int)d, 1.0f, r->qrows, (int)d,
                        c->x + j0 * d, (int)d, 0.0f, r->tile, (int)nc);
            scan_tile(r, a0, na, NULL, j0, nc);
        }
    }
    return r->cands.st;
}

/* Dot product of two rows (the scan's estimate; candidates are re-ranked
 * by hli_dot_ref).  Explicit 4-float vectors (GCC/clang vector extensions,
 * unaligned loads through memcpy): the scan of an add is mostly this. */
#if defined(__GNUC__)
typedef float coll_v4f __attribute__((vector_size(16)));
static float dot_row(const float *a, const float *b, int64_t d)
{
    coll_v4f s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
    int64_t t = 0;
    for (; t + 8 <= d; t += 8) {
        coll_v4f a0, a1, b0, b1;
        memcpy(&a0, a + t, sizeof a0);
        memcpy(&a1, a + t + 4, sizeof a1);
        memcpy(&b0, b + t, sizeof b0);
        memcpy(&b1, b + t + 4, sizeof b1);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    s0 += s1;
    float sum = (s0[0] + s0[1]) + (s0[2] + s0[3]);
    for (; t < d; t++)
        sum += a[t] * b[t];
    return sum;
}
#else
static float dot_row(const float *a, const float *b, int64_t d)
{
    float sum = 0.0f;
    for (int64_t t = 0; t < d; t++)
        sum += a[t] * b[t];
    return sum;
}
#endif

/* One query's scan of one list of candidate rows: its heap, and reverse
 * candidates for existing points whose bar it passes (into @p cb). */
static void scan_ids(search_run *r, int64_t a, const int64_t *ids, int64_t m, cand_buf *cb)
{
    const hl_collection *c = r->c;
    const int64_t d = c->d, qid = r->q[a];
    const float *qrow = c->x + qid * d;
    float *hs = r->hs + a * r->ksel;
    int64_t *hi = r->hi + a * r->ksel;
    for (int64_t t = 0; t < m; t++) {
        const int64_t j = ids[t];
        if (j == qid || !usable(r, j))
            continue;
        const float sim = dot_row(qrow, c->x + j * d, d);
        hli_topk_push(hs, hi, r->ksel, sim, j);
        if (r->reverse && j < c->n && sim >= list_bar(c, j) - HLI_COLL_SIM_SLACK)
            cand_push(cb, j, qid);
    }
}

/* IVF: each query scans its nprobe best cells and the rows of [c->n, n_db)
 * (the batch's own new points, not in any cell yet).  Cells are scanned in
 * parallel, each for all the queries probing it (member rows read once);
 * every (cell, query) pair has its own small heap, merged per query after,
 * so no two threads share a heap; reverse candidates go to per-thread
 * buffers, merged and sorted after. */
static hl_status search_index(search_run *r)
{
    const hl_collection *c = r->c;
    const hli_coll_index *ix = &c->index;
    const int64_t d = c->d, nq = r->nq, np = ix->nprobe, nlist = ix->nlist;
    const int64_t extra = r->n_db - c->n;
    hl_status st = hli_check_dims("collection probes", nq, np, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    int64_t *probe = hli_alloc((size_t)nq * (size_t)np, sizeof *probe);
    int64_t *newids = hli_alloc((size_t)(extra > 0 ? extra : 1), sizeof *newids);
    cand_buf *bufs = hli_calloc((size_t)r->nt, sizeof *bufs);
    int64_t *start = NULL, *byq = NULL, *slot_of = NULL, *si = NULL;
    float *ss = NULL;
    if ((st = hli_check_dims("collection scan slots", nq * np, r->ksel, sizeof(int64_t), NULL)) != HL_OK) {
        free(probe);
        free(newids);
        free(bufs);
        return st;
    }
    if (probe == NULL || newids == NULL || bufs == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t t = 0; t < extra; t++)
        newids[t] = c->n + t;
    for (int64_t a0 = 0; a0 < nq && st == HL_OK; a0 += HLI_COLL_QBLOCK) {
        const int64_t na = nq - a0 < HLI_COLL_QBLOCK ? nq - a0 : HLI_COLL_QBLOCK;
        gather(c->x, d, r->q + a0, na, r->qrows);
        st = hli_topk_gemm(r->qrows, na, ix->cent, nlist, d, np, NULL, -1, 0, r->nt, probe + a0 * np, NULL, np);
    }
    if (st != HL_OK)
        goto done;
    /* The queries probing each cell (counting sort), so that a cell's member
     * rows are read once for all its queries: an add's scan is bound by
     * memory, not arithmetic.  Each (cell, query) pair keeps its own top
     * ksel in slot byq position; the slots are merged per query after. */
    start = hli_calloc((size_t)nlist + 1, sizeof *start);
    byq = hli_alloc((size_t)nq * (size_t)np, sizeof *byq);
    slot_of = hli_alloc((size_t)nq * (size_t)np, sizeof *slot_of);
    ss = hli_alloc((size_t)nq * (size_t)np * (size_t)r->ksel, sizeof *ss);
    si = hli_alloc((size_t)nq * (size_t)np * (size_t)r->ksel, sizeof *si);
    if (start == NULL || byq == NULL || slot_of == NULL || ss == NULL || si == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t t = 0; t < nq * np; t++)
        start[probe[t] + 1]++;
    for (int64_t cc = 0; cc < nlist; cc++)
        start[cc + 1] += start[cc];
    for (int64_t a = 0; a < nq; a++)
        for (int64_t t = 0; t < np; t++) {
            const int64_t pos = start[probe[a * np + t]]++;
            byq[pos] = a;
            slot_of[a * np + t] = pos;
        }
    for (int64_t cc = nlist; cc > 0; cc--)
        start[cc] = start[cc - 1];
    start[0] = 0;
#pragma omp parallel num_threads(r->nt)
    {
#ifdef _OPENMP
        cand_buf *cb = &bufs[omp_get_thread_num()];
#else
        cand_buf *cb = &bufs[0];
#endif
#pragma omp for schedule(dynamic, 4)
        for (int64_t cc = 0; cc < nlist; cc++) {
            const hli_idlist *cell = &ix->cell[cc];
            const int64_t p0 = start[cc], p1 = start[cc + 1];
            for (int64_t p = p0; p < p1; p++)
                hli_topk_init(ss + p * r->ksel, si + p * r->ksel, r->ksel);
            for (int32_t u = 0; u < cell->n; u++) {
                const int64_t j = cell->id[u];
                if (!usable(r, j))
                    continue;
                const float *xj = c->x + j * d;
                const float bar = r->reverse ? list_bar(c, j) - HLI_COLL_SIM_SLACK : INFINITY;
                for (int64_t p = p0; p < p1; p++) {
                    const int64_t qid = r->q[byq[p]];
                    if (j == qid)
                        continue;
                    const float sim = dot_row(c->x + qid * d, xj, d);
                    hli_topk_push(ss + p * r->ksel, si + p * r->ksel, r->ksel, sim, j);
                    if (sim >= bar)
                        cand_push(cb, j, qid);
                }
            }
        }
#pragma omp for schedule(dynamic, 16)
        for (int64_t a = 0; a < nq; a++) {
            float *hs = r->hs + a * r->ksel;
            int64_t *hi = r->hi + a * r->ksel;
            for (int64_t t = 0; t < np; t++) {
                const int64_t p = slot_of[a * np + t];
                for (int64_t e = 0; e < r->ksel; e++)
                    if (si[p * r->ksel + e] != INT64_MAX)
                        hli_topk_push(hs, hi, r->ksel, ss[p * r->ksel + e], si[p * r->ksel + e]);
            }
            scan_ids(r, a, newids, extra, cb);
        }
    }
    /* one candidate list, sorted later: the order of arrival does not matter */
    for (int t = 0; t < r->nt && st == HL_OK; t++) {
        if (bufs[t].st != HL_OK) {
            st = bufs[t].st;
            break;
        }
        for (int64_t u = 0; u < bufs[t].n; u++)
            cand_push(&r->cands, bufs[t].v[u].j, bufs[t].v[u].q);
        st = r->cands.st;
    }
done:
    if (bufs != NULL)
        for (int t = 0; t < r->nt; t++)
            free(bufs[t].v);
    free(bufs);
    free(probe);
    free(newids);
    free(start);
    free(byq);
    free(slot_of);
    free(ss);
    free(si);
    return st;
}

/* The new list of existing point j from its list and the candidates
 * cand[0..m) (all with j), exact similarities; 1 if it changed. */
static int merge_list(const hl_collection *c, int64_t j, const rev_cand *cand, int64_t m, float *hs, int64_t *hi,
                      int64_t *out_knn, float *out_sim)
{
    const int64_t k = c->k, kk = k - 1;
    hli_topk_init(hs, hi, kk);
    for (int64_t t = 1; t < k; t++)
        if (c->knn[j * k + t] >= 0)
            hli_topk_push(hs, hi, kk, c->knn_sim[j * k + t], c->knn[j * k + t]);
    for (int64_t t = 0; t < m; t++)
        hli_topk_push(hs, hi, kk, hli_dot_ref(c->x + j * c->d, c->x + cand[t].q * c->d, c->d), cand[t].q);
    out_knn[0] = j;
    out_sim[0] = 1.0f;
    hli_topk_sorted(hs, hi, kk, out_knn + 1, out_sim + 1);
    return memcmp(out_knn, c->knn + j * k, sizeof(int64_t) * (size_t)k) != 0;
}

/* Turn the candidates into list updates (sorted by point id). */
static hl_status reverse_updates(search_run *r, hli_search_result *out)
{
    const hl_collection *c = r->c;
    const int64_t k = c->k;
    rev_cand *v = r->cands.v;
    const int64_t n = r->cands.n;
    if (n == 0)
        return HL_OK;
    qsort(v, (size_t)n, sizeof *v, cmp_cand);
    int64_t groups = 0;
    for (int64_t t = 0; t < n; t++)
        groups += t == 0 || v[t].j != v[t - 1].j;
    out->upd_id = hli_alloc((size_t)groups, sizeof *out->upd_id);
    out->upd_knn = hli_alloc((size_t)groups * (size_t)k, sizeof *out->upd_knn);
    out->upd_sim = hli_alloc((size_t)groups * (size_t)k, sizeof *out->upd_sim);
    float *hs = hli_alloc((size_t)k, sizeof *hs);
    int64_t *hi = hli_alloc((size_t)k, sizeof *hi);
    if (out->upd_id == NULL || out->upd_knn == NULL || out->upd_sim == NULL || hs == NULL || hi == NULL) {
        free(hs);
        free(hi);
        return hl_last_error_status();
    }
    int64_t nu = 0;
    for (int64_t t = 0; t < n;) {
        int64_t e = t;
        while (e < n && v[e].j == v[t].j)
            e++;
        if (merge_list(c, v[t].j, v + t, e - t, hs, hi, out->upd_knn + nu * k, out->upd_sim + nu * k))
            out->upd_id[nu++] = v[t].j;
        t = e;
    }
    out->nupd = nu;
    free(hs);
    free(hi);
    return HL_OK;
}

hl_status hli_coll_search(const hl_collection *c, const int64_t *q, int64_t nq, const unsigned char *excluded,
                          int64_t n_db, int reverse, int nt, hli_search_result *out)
{
    memset(out, 0, sizeof *out);
    const int64_t k = c->k, kk = k - 1, d = c->d;
    search_run r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.q = q;
    r.nq = nq;
    r.n_db = n_db;
    r.excluded = excluded;
    r.reverse = reverse;
    r.nt = nt;
    r.ksel = kk + HLI_TOPK_MARGIN;
    hl_status st = hli_check_dims("collection search lists", nq, k, sizeof(int64_t), NULL);
    if (st == HL_OK)
        st = hli_check_dims("collection search heaps", nq, r.ksel, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    out->knn = hli_alloc((size_t)nq * (size_t)k, sizeof *out->knn);
    out->sim = hli_alloc((size_t)nq * (size_t)k, sizeof *out->sim);
    r.hs = hli_alloc((size_t)nq * (size_t)r.ksel, sizeof *r.hs);
    r.hi = hli_alloc((size_t)nq * (size_t)r.ksel, sizeof *r.hi);
    r.qrows = hli_alloc((size_t)HLI_COLL_QBLOCK * (size_t)d, sizeof *r.qrows);
    r.tile = hli_alloc((size_t)HLI_COLL_QBLOCK * (size_t)HLI_COLL_DBLOCK, sizeof *r.tile);
    if (out->knn == NULL || out->sim == NULL || r.hs == NULL || r.hi == NULL || r.qrows == NULL || r.tile == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t a = 0; a < nq; a++)
        hli_topk_init(r.hs + a * r.ksel, r.hi + a * r.ksel, r.ksel);
    hli_blas_set_threads(nt);
    st = c->index.nlist > 0 ? search_index(&r) : search_exact(&r);
    if (st != HL_OK)
        goto done;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t a = 0; a < nq; a++) {
        /* masked (removed, excluded) rows enter a heap only while it holds
         * fewer real candidates; they must not be refined into the list */
        float *hs = r.hs + a * r.ksel;
        int64_t *hi = r.hi + a * r.ksel;
        for (int64_t t = 0; t < r.ksel; t++)
            if (hi[t] != INT64_MAX && !usable(&r, hi[t])) {
                hs[t] = -INFINITY;
                hi[t] = INT64_MAX;
            }
        out->knn[a * k] = q[a];
        out->sim[a * k] = 1.0f;
        hli_topk_refine(c->x + q[a] * d, c->x, d, r.hs + a * r.ksel, r.hi + a * r.ksel, r.ksel, kk,
                        out->knn + a * k + 1, out->sim + a * k + 1);
    }
    if (reverse)
        st = reverse_updates(&r, out);
done:
    free(r.hs);
    free(r.hi);
    free(r.qrows);
    free(r.tile);
    free(r.cands.v);
    if (st != HL_OK)
        hli_search_result_free(out);
    return st;
}

/* ---- the index ---------------------------------------------------------------- */

void hli_coll_index_free(hli_coll_index *ix)
{
    if (ix->cell != NULL)
        for (int64_t cc = 0; cc < ix->nlist; cc++)
            hli_idlist_free(&ix->cell[cc]);
    free(ix->cell);
    free(ix->cent);
    free(ix->cell_of);
    memset(ix, 0, sizeof *ix);
}

/* The nearest cell of each row [n0, n1) into cell_of. */
static hl_status assign_cells(const hl_collection *c, const hli_coll_index *ix, int64_t n0, int64_t n1, int nt,
                              int32_t *cell_of)
{
    const int64_t d = c->d;
    int64_t *best = hli_alloc(HLI_COLL_QBLOCK, sizeof *best);
    if (best == NULL)
        return hl_last_error_status();
    hl_status st = HL_OK;
    for (int64_t a0 = n0; a0 < n1 && st == HL_OK; a0 += HLI_COLL_QBLOCK) {
        const int64_t na = n1 - a0 < HLI_COLL_QBLOCK ? n1 - a0 : HLI_COLL_QBLOCK;
        st = hli_topk_gemm(c->x + a0 * d, na, ix->cent, ix->nlist, d, 1, NULL, -1, 0, nt, best, NULL, 1);
        for (int64_t t = 0; t < na && st == HL_OK; t++)
            cell_of[a0 + t] = (int32_t)best[t];
    }
    free(best);
    return st;
}

hl_status hli_coll_index_build(hl_collection *c, int nt)
{
    hli_coll_index ix;
    memset(&ix, 0, sizeof ix);
    const int64_t d = c->d;
    /* the live rows, contiguous, for the k-means */
    int64_t *ids = hli_alloc((size_t)c->live, sizeof *ids);
    float *rows = NULL;
    hl_status st = HL_OK;
    if (ids == NULL)
        return hl_last_error_status();
    int64_t m = 0;
    for (int64_t i = 0; i < c->n; i++)
        if (c->alive[i])
            ids[m++] = i;
    if ((st = hli_check_dims("collection index rows", m, d, sizeof(float), NULL)) != HL_OK)
        goto fail;
    if ((rows = hli_alloc((size_t)m * (size_t)d, sizeof *rows)) == NULL)
        goto oom;
    gather(c->x, d, ids, m, rows);
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = c->k;
    ko.nlist = c->opts.knn_nlist;
    ko.nprobe = c->opts.knn_nprobe;
    ko.target_recall = c->opts.knn_target_recall;
    ko.seed = c->opts.knn_seed;
    if ((st = hli_ivf_train(rows, m, d, &ko, nt, &ix.cent, &ix.nlist, &ix.nprobe)) != HL_OK)
        goto fail;
    free(rows);
    rows = NULL;
    ix.cell = hli_calloc((size_t)ix.nlist, sizeof *ix.cell);
    ix.cell_of = hli_alloc((size_t)c->cap, sizeof *ix.cell_of);
    if (ix.cell == NULL || ix.cell_of == NULL)
        goto oom;
    for (int64_t i = 0; i < c->n; i++)
        ix.cell_of[i] = -1;
    /* assign live rows (contiguous runs through the row order) */
    if ((st = assign_cells(c, &ix, 0, c->n, nt, ix.cell_of)) != HL_OK)
        goto fail;
    for (int64_t i = 0; i < c->n; i++) {
        if (!c->alive[i]) {
            ix.cell_of[i] = -1;
            continue;
        }
        if ((st = hli_idlist_reserve(&ix.cell[ix.cell_of[i]], 1)) != HL_OK)
            goto fail;
        hli_idlist_push(&ix.cell[ix.cell_of[i]], i);
    }
    free(ids);
    hli_coll_index_free(&c->index);
    c->index = ix;
    hli_log(HL_LOG_INFO, "collection: IVF index over %lld points, %lld cells, nprobe %lld", (long long)m,
            (long long)ix.nlist, (long long)ix.nprobe);
    return HL_OK;
oom:
    st = hl_last_error_status();
fail:
    free(ids);
    free(rows);
    hli_coll_index_free(&ix);
    return st;
}

hl_status hli_coll_index_prepare(hl_collection *c, int64_t n0, int64_t n1, int nt)
{
    hli_coll_index *ix = &c->index;
    if (ix->nlist == 0)
        return HL_OK;
    hl_status st = assign_cells(c, ix, n0, n1, nt, ix->cell_of);
    if (st != HL_OK)
        return st;
    int64_t *count = hli_calloc((size_t)ix->nlist, sizeof *count);
    if (count == NULL)
        return hl_last_error_status();
    for (int64_t i = n0; i < n1; i++)
        count[ix->cell_of[i]]++;
    for (int64_t cc = 0; cc < ix->nlist && st == HL_OK; cc++)
        st = hli_idlist_reserve(&ix->cell[cc], count[cc]);
    free(count);
    return st;
}
