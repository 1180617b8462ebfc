/* Approximate kNN: an inverted file (IVF) over spherical k-means cells,
 * scanned with sgemm.  See docs/KNN.md for why this method.
 *
 *  1. Spherical k-means (HLI_KM_ITERS Lloyd iterations) on a seeded sample of
 *     HLI_KM_PER_CELL points per cell; random distinct points as the start.
 *  2. nprobe: the caller's, or calibrated: exact neighbours of a seeded
 *     sample of queries, and for each true neighbour the rank of its cell in
 *     the query's cell order; nprobe is the smallest rank count that reaches
 *     target_recall on the sample.  (IVF is exact within the scanned cells, so
 *     this predicts the recall exactly for the sample.)
 *  3. One sgemm pass over all points vs. the centroids: each point's
 *     nprobe best cells; the first is its own cell.
 *  4. Search in chunks of queries, cell by cell: gather the cell's members and
 *     the chunk's queries probing it, one sgemm, a bounded-heap scan per query
 *     row (parallel over rows: a query appears once per cell).  Candidates
 *     are re-ranked by hli_dot_ref as in exact search.
 *  5. A query whose probed cells hold fewer than k-1 other points is redone
 *     by exact search, so every list is full.
 *
 * Every step is deterministic for a given seed: the random choices come from
 * the seeded generator, the similarities that decide anything are
 * re-computed by a fixed-order dot, and sums are serial. */
#include "knn/knn_internal.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define HLI_KM_ITERS 10
#define HLI_KM_STOP 0.005
#define HLI_KM_PER_CELL 32
#define HLI_CALIB_QUERIES 512
#define HLI_IVF_CHUNK ((int64_t)1 << 18)
#define HLI_IVF_TILE ((int64_t)8 << 20)

/* Gather rows @p idx of x into a contiguous array. */
static float *gather_rows(const float *x, int64_t d, const int64_t *idx, int64_t m)
{
    float *g = hli_alloc((size_t)m * (size_t)d, sizeof *g);
    if (g == NULL)
        return NULL;
    for (int64_t r = 0; r < m; r++)
        memcpy(g + r * d, x + idx[r] * d, sizeof(float) * (size_t)d);
    return g;
}

/* Spherical k-means on the sample rows @p s (ns x d, normalised) into @p cent
 * (nlist x d).  Serial sums: deterministic. */
static hl_status kmeans(const float *s, int64_t ns, int64_t d, int64_t nlist, hli_rng *rng, int nt, float *cent)
{
    int64_t *assign = hli_alloc((size_t)ns, sizeof *assign);
    int64_t *prev = hli_alloc((size_t)ns, sizeof *prev);
    int64_t *count = hli_alloc((size_t)nlist, sizeof *count);
    float *sum = hli_alloc((size_t)nlist * (size_t)d, sizeof *sum);
    hl_status st = HL_OK;
    if (assign == NULL || prev == NULL || count == NULL || sum == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t i = 0; i < ns; i++)
        prev[i] = -1;
    for (int it = 0; it < HLI_KM_ITERS; it++) {
        st = hli_topk_gemm(s, ns, cent, nlist, d, 1, NULL, -1, 0, nt, assign, NULL, 1);
        if (st != HL_OK)
            goto done;
        int64_t changed = 0;
        for (int64_t i = 0; i < ns; i++) {
            changed += assign[i] != prev[i];
            prev[i] = assign[i];
        }
        hli_log(HL_LOG_DEBUG, "knn ivf: k-means iteration %d: %lld of %lld points changed cell", it,
                (long long)changed, (long long)ns);
        /* Converged: (almost) no point changed its cell. */
        if (it > 0 && (double)changed < HLI_KM_STOP * (double)ns)
            break;
        memset(count, 0, sizeof *count * (size_t)nlist);
        memset(sum, 0, sizeof *sum * (size_t)nlist * (size_t)d);
        for (int64_t i = 0; i < ns; i++) {
            const int64_t c = assign[i];
            count[c]++;
            float *sc = sum + c * d;
            const float *xi = s + i * d;
            for (int64_t t = 0; t < d; t++)
                sc[t] += xi[t];
        }
        for (int64_t c = 0; c < nlist; c++) {
            float *sc = sum + c * d;
            double ss = 0.0;
            for (int64_t t = 0; t < d; t++)
                ss += (double)sc[t] * sc[t];
            if (count[c] == 0 || !(ss > 0.0)) {
                /* Empty (or degenerate) cell: restart it at a random sample point. */
                memcpy(cent + c * d, s + (int64_t)hli_rng_below(rng, (uint64_t)ns) * d, sizeof(float) * (size_t)d);
                continue;
            }
            const double inv = 1.0 / sqrt(ss);
            for (int64_t t = 0; t < d; t++)
                cent[c * d + t] = (float)(sc[t] * inv);
        }
    }
done:
    free(assign);
    free(prev);
    free(count);
    free(sum);
    return st;
}

/* Choose nprobe so that the exact neighbours of a sample of queries fall in
 * their nprobe best cells with frequency >= target. */
static hl_status calibrate_nprobe(const float *xn, int64_t n, int64_t d, int64_t k, const float *cent,
                                  int64_t nlist, double target, hli_rng *rng, int nt, int64_t *nprobe)
{
    const int64_t kk = k - 1;
    const int64_t S = n < HLI_CALIB_QUERIES ? n : HLI_CALIB_QUERIES;
    hl_status st = HL_OK;
    int64_t *qid = hli_alloc((size_t)S, sizeof *qid);
    int64_t *nbr = hli_alloc((size_t)S * (size_t)kk, sizeof *nbr);
    int64_t *order = hli_alloc((size_t)S * (size_t)nlist, sizeof *order);
    int64_t *ncell = hli_alloc((size_t)S * (size_t)kk, sizeof *ncell);
    int64_t *rank = hli_alloc((size_t)nlist, sizeof *rank);
    int64_t *hist = hli_calloc((size_t)nlist + 1, sizeof *hist);
    float *q = NULL, *nv = NULL;
    if (!qid || !nbr || !order || !ncell || !rank || !hist) {
        st = hl_last_error_status();
        goto done;
    }
    /* S distinct random queries (partial Fisher-Yates over a virtual 0..n-1
     * via rejection of repeats: S is small). */
    for (int64_t a = 0; a < S; a++) {
        for (;;) {
            int64_t c = (int64_t)hli_rng_below(rng, (uint64_t)n);
            int dup = 0;
            for (int64_t b = 0; b < a && !dup; b++)
                dup = qid[b] == c;
            if (!dup) {
                qid[a] = c;
                break;
            }
        }
    }
    qsort(qid, (size_t)S, sizeof *qid, hli_cmp_i64);
    if ((q = gather_rows(xn, d, qid, S)) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    st = hli_topk_gemm(q, S, xn, n, d, kk, qid, -1, 0, nt, nbr, NULL, kk);
    if (st == HL_OK)
        st = hli_topk_gemm(q, S, cent, nlist, d, nlist, NULL, -1, 0, nt, order, NULL, nlist);
    if (st != HL_OK)
        goto done;
    if ((nv = gather_rows(xn, d, nbr, S * kk)) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    st = hli_topk_gemm(nv, S * kk, cent, nlist, d, 1, NULL, -1, 0, nt, ncell, NULL, 1);
    if (st != HL_OK)
        goto done;
    for (int64_t a = 0; a < S; a++) {
        for (int64_t r = 0; r < nlist; r++)
            rank[order[a * nlist + r]] = r;
        for (int64_t t = 0; t < kk; t++)
            hist[rank[ncell[a * kk + t]]]++;
    }
    const int64_t total = S * kk;
    int64_t covered = 0, p = 0;
    while (p < nlist && (double)covered < target * (double)total)
        covered += hist[p++];
    *nprobe = p < 1 ? 1 : p;
done:
    free(qid);
    free(nbr);
    free(order);
    free(ncell);
    free(rank);
    free(hist);
    free(q);
    free(nv);
    return st;
}

/* One sgemm tile of a cell: queries ql[a0 .. a0+na) x members mem[m0 .. m0+mc),
 * stored at buf + off. */
typedef struct ivf_tile {
    const int64_t *ql;
    const int64_t *mem;
    int64_t na, mc, off;
} ivf_tile;

/* Scan a group of tiles.  Thread t of T owns the queries with
 * (query - q0) % T == t, so no two threads touch one heap; the result does not
 * depend on T because a top-k set does not depend on arrival order. */
static void scan_group(const ivf_tile *tiles, int64_t ntiles, const float *buf, int64_t q0, float *hs, int64_t *hi,
                       int64_t ksel, int nt)
{
#pragma omp parallel num_threads(nt)
    {
        int tid = 0, T = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        T = omp_get_num_threads();
#endif
        for (int64_t g = 0; g < ntiles; g++) {
            const ivf_tile *tl = tiles + g;
            for (int64_t r = 0; r < tl->na; r++) {
                const int64_t qi = tl->ql[r];
                const int64_t h = qi - q0;
                if (h % T != tid)
                    continue;
                hli_topk_scan(buf + tl->off + r * tl->mc, tl->mc, tl->mem, 0, qi, hs + h * ksel, hi + h * ksel,
                              ksel);
            }
        }
    }
}

/* The search of step 4 for queries [q0, q0+nq).  Tiles are computed serially
 * by sgemm into one buffer and scanned together once it is full: few
 * alternations between the BLAS threads and the OpenMP team. */
static hl_status search_chunk(const float *xn, int64_t d, int64_t q0, int64_t nq, const int32_t *probe,
                              int64_t nprobe, const int64_t *cell_start, const int64_t *members, int64_t nlist,
                              int64_t kk, int64_t ksel, int nt, int64_t *nbrs, float *sims, int64_t k,
                              int64_t *ncand)
{
    hl_status st = HL_OK;
    int64_t *qstart = hli_calloc((size_t)nlist + 1, sizeof *qstart);
    int64_t *qlist = hli_alloc((size_t)nq * (size_t)nprobe, sizeof *qlist);
    int64_t *fill = hli_alloc((size_t)nlist, sizeof *fill);
    float *hs = hli_alloc((size_t)nq * (size_t)ksel, sizeof *hs);
    int64_t *hi = hli_alloc((size_t)nq * (size_t)ksel, sizeof *hi);
    float *buf = NULL, *qg = NULL, *mg = NULL;
    ivf_tile *tiles = NULL;
    int64_t ntiles = 0, cap = 0, used = 0;
    if (!qstart || !qlist || !fill || !hs || !hi) {
        st = hl_last_error_status();
        goto done;
    }
    /* Queries of this chunk per cell, in increasing query order. */
    for (int64_t i = 0; i < nq; i++)
        for (int64_t p = 0; p < nprobe; p++)
            qstart[probe[(q0 + i) * nprobe + p] + 1]++;
    for (int64_t c = 0; c < nlist; c++)
        qstart[c + 1] += qstart[c];
    memcpy(fill, qstart, sizeof *fill * (size_t)nlist);
    for (int64_t i = 0; i < nq; i++)
        for (int64_t p = 0; p < nprobe; p++)
            qlist[fill[probe[(q0 + i) * nprobe + p]]++] = q0 + i;
    int64_t max_m = 0, max_q = 0;
    for (int64_t c = 0; c < nlist; c++) {
        if (cell_start[c + 1] - cell_start[c] > max_m)
            max_m = cell_start[c + 1] - cell_start[c];
        if (qstart[c + 1] - qstart[c] > max_q)
            max_q = qstart[c + 1] - qstart[c];
    }
    /* Tiles of at most bq queries x bm members; the buffer holds HLI_IVF_TILE. */
    int64_t bm = max_m < HLI_IVF_TILE / 64 ? max_m : HLI_IVF_TILE / 64;
    if (bm < 1)
        bm = 1;
    int64_t bq = HLI_IVF_TILE / bm;
    if (bq > max_q)
        bq = max_q;
    if (bq < 1)
        bq = 1;
    buf = hli_alloc((size_t)HLI_IVF_TILE, sizeof *buf);
    qg = hli_alloc((size_t)bq * (size_t)d, sizeof *qg);
    mg = hli_alloc((size_t)bm * (size_t)d, sizeof *mg);
    if (!buf || !qg || !mg) {
        st = hl_last_error_status();
        goto done;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t i = 0; i < nq; i++) {
        hli_topk_init(hs + i * ksel, hi + i * ksel, ksel);
        int64_t cnt = 0;
        for (int64_t p = 0; p < nprobe; p++) {
            const int64_t c = probe[(q0 + i) * nprobe + p];
            cnt += cell_start[c + 1] - cell_start[c];
        }
        ncand[q0 + i] = cnt - 1; /* the query itself is in its own cell */
    }
    hli_blas_set_threads(nt);
    for (int64_t c = 0; c < nlist; c++) {
        const int64_t m = cell_start[c + 1] - cell_start[c];
        const int64_t nqc = qstart[c + 1] - qstart[c];
        if (m == 0 || nqc == 0)
            continue;
        const int64_t *mem = members + cell_start[c];
        const int64_t *ql = qlist + qstart[c];
        for (int64_t m0 = 0; m0 < m; m0 += bm) {
            const int64_t mc = m - m0 < bm ? m - m0 : bm;
            for (int64_t r = 0; r < mc; r++)
                memcpy(mg + r * d, xn + mem[m0 + r] * d, sizeof(float) * (size_t)d);
            for (int64_t a0 = 0; a0 < nqc; a0 += bq) {
                const int64_t na = nqc - a0 < bq ? nqc - a0 : bq;
                if (used + na * mc > HLI_IVF_TILE) {
                    scan_group(tiles, ntiles, buf, q0, hs, hi, ksel, nt);
                    ntiles = 0;
                    used = 0;
                }
                if (ntiles == cap) {
                    int64_t ncap = cap ? 2 * cap : 256;
                    ivf_tile *nt2 = hli_realloc(tiles, (size_t)ncap, sizeof *tiles);
                    if (nt2 == NULL) {
                        st = HL_ENOMEM;
                        goto done;
                    }
                    tiles = nt2;
                    cap = ncap;
                }
                for (int64_t r = 0; r < na; r++)
                    memcpy(qg + r * d, xn + ql[a0 + r] * d, sizeof(float) * (size_t)d);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)mc, (int)d, 1.0f, qg, (int)d,
                            mg, (int)d, 0.0f, buf + used, (int)mc);
                tiles[ntiles].ql = ql + a0;
                tiles[ntiles].mem = mem + m0;
                tiles[ntiles].na = na;
                tiles[ntiles].mc = mc;
                tiles[ntiles].off = used;
                ntiles++;
                used += na * mc;
            }
        }
    }
    scan_group(tiles, ntiles, buf, q0, hs, hi, ksel, nt);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t i = 0; i < nq; i++)
        hli_topk_refine(xn + (q0 + i) * d, xn, d, hs + i * ksel, hi + i * ksel, ksel, kk, nbrs + (q0 + i) * k + 1,
                        sims ? sims + (q0 + i) * k + 1 : NULL);
done:
    free(qstart);
    free(qlist);
    free(fill);
    free(hs);
    free(hi);
    free(buf);
    free(qg);
    free(mg);
    free(tiles);
    return st;
}

/* 1. The cells: spherical k-means of a seeded sample of nlist * HLI_KM_PER_CELL
 * rows, started from nlist random rows.  *cent: nlist x d (malloc'ed). */
static hl_status train_cells(const float *xn, int64_t n, int64_t d, int64_t nlist, hli_rng *rng, int nt,
                             int64_t *sample_rows, float **cent_out)
{
    int64_t ns = nlist * HLI_KM_PER_CELL;
    if (ns > n)
        ns = n;
    *sample_rows = ns;
    float *sample = NULL;
    int64_t *perm = hli_alloc((size_t)n, sizeof *perm);
    float *cent = hli_alloc((size_t)nlist * (size_t)d, sizeof *cent);
    if (perm == NULL || cent == NULL) {
        free(perm);
        free(cent);
        return hl_last_error_status();
    }
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    hli_rng_shuffle_i64(rng, perm, n);
    for (int64_t c = 0; c < nlist; c++)
        memcpy(cent + c * d, xn + perm[c] * d, sizeof(float) * (size_t)d);
    qsort(perm, (size_t)ns, sizeof *perm, hli_cmp_i64);
    hl_status st = (sample = gather_rows(xn, d, perm, ns)) == NULL ? hl_last_error_status() : HL_OK;
    free(perm);
    if (st == HL_OK)
        st = kmeans(sample, ns, d, nlist, rng, nt, cent);
    free(sample);
    if (st != HL_OK) {
        free(cent);
        return st;
    }
    *cent_out = cent;
    return HL_OK;
}

/* The inverted lists of one search. */
typedef struct ivf_lists {
    int32_t *probe;      /* n x nprobe: each point's best cells, its own first */
    int64_t *cell_start; /* nlist + 1 */
    int64_t *members;    /* n: the points of each cell in increasing id order */
} ivf_lists;

static void lists_free(ivf_lists *l)
{
    free(l->probe);
    free(l->cell_start);
    free(l->members);
}

/* 3. Every point's nprobe best cells and the members of each cell. */
static hl_status build_lists(const float *xn, int64_t n, int64_t d, const float *cent, int64_t nlist,
                             int64_t nprobe, int nt, ivf_lists *l)
{
    hl_status st = hli_check_dims("ivf probe lists", n, nprobe, sizeof(int32_t), NULL);
    if (st != HL_OK)
        return st;
    l->probe = hli_alloc((size_t)n * (size_t)nprobe, sizeof *l->probe);
    const int64_t pchunk = 65536 < n ? 65536 : n;
    int64_t *ptmp = hli_alloc((size_t)pchunk * (size_t)nprobe, sizeof *ptmp);
    l->cell_start = hli_calloc((size_t)nlist + 1, sizeof *l->cell_start);
    l->members = hli_alloc((size_t)n, sizeof *l->members);
    int64_t *fill = hli_alloc((size_t)nlist, sizeof *fill);
    if (!l->probe || !ptmp || !l->cell_start || !l->members || !fill) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t a = 0; a < n; a += pchunk) {
        const int64_t m = n - a < pchunk ? n - a : pchunk;
        if ((st = hli_topk_gemm(xn + a * d, m, cent, nlist, d, nprobe, NULL, -1, 0, nt, ptmp, NULL, nprobe)) !=
            HL_OK)
            goto done;
        for (int64_t t = 0; t < m * nprobe; t++)
            l->probe[a * nprobe + t] = (int32_t)ptmp[t];
    }
    for (int64_t i = 0; i < n; i++)
        l->cell_start[l->probe[i * nprobe] + 1]++;
    for (int64_t c = 0; c < nlist; c++)
        l->cell_start[c + 1] += l->cell_start[c];
    memcpy(fill, l->cell_start, sizeof *fill * (size_t)nlist);
    for (int64_t i = 0; i < n; i++)
        l->members[fill[l->probe[i * nprobe]]++] = i;
done:
    free(ptmp);
    free(fill);
    return st;
}

/* 5. Queries with fewer than k-1 candidates (ncand): exact search. */
static hl_status redo_exact(const float *xn, int64_t n, int64_t d, int64_t k, const int64_t *ncand, int nt,
                            int64_t *nbrs, float *sims)
{
    const int64_t kk = k - 1;
    int64_t nredo = 0;
    for (int64_t i = 0; i < n; i++)
        nredo += ncand[i] < kk;
    if (nredo == 0)
        return HL_OK;
    hli_log(HL_LOG_INFO, "knn ivf: %lld queries with too few candidates redone exactly", (long long)nredo);
    hl_status st = HL_OK;
    float *rq = NULL;
    int64_t *redo = hli_alloc((size_t)nredo, sizeof *redo);
    int64_t *rn = hli_alloc((size_t)nredo * (size_t)kk, sizeof *rn);
    float *rs = hli_alloc((size_t)nredo * (size_t)kk, sizeof *rs);
    if (!redo || !rn || !rs) {
        st = hl_last_error_status();
        goto done;
    }
    int64_t p = 0;
    for (int64_t i = 0; i < n; i++)
        if (ncand[i] < kk)
            redo[p++] = i;
    if ((rq = gather_rows(xn, d, redo, nredo)) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    if ((st = hli_topk_gemm(rq, nredo, xn, n, d, kk, redo, -1, 0, nt, rn, rs, kk)) != HL_OK)
        goto done;
    for (int64_t r = 0; r < nredo; r++) {
        memcpy(nbrs + redo[r] * k + 1, rn + r * kk, sizeof *rn * (size_t)kk);
        if (sims)
            memcpy(sims + redo[r] * k + 1, rs + r * kk, sizeof *rs * (size_t)kk);
    }
done:
    free(redo);
    free(rn);
    free(rs);
    free(rq);
    return st;
}

static int64_t auto_nlist(int64_t n)
{
    int64_t nlist = (int64_t)llround(4.0 * sqrt((double)n));
    if (nlist > n / 8)
        nlist = n / 8;
    return nlist < 1 ? 1 : nlist;
}

hl_status hli_knn_ivf(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt, int64_t *nbrs,
                      float *sims, int64_t *nprobe_used)
{
    const int64_t k = opts->k;
    for (int64_t i = 0; i < n; i++) {
        nbrs[i * k] = i;
        if (sims)
            sims[i * k] = 1.0f;
    }
    if (nprobe_used)
        *nprobe_used = 0;
    if (k == 1)
        return HL_OK;
    const int64_t kk = k - 1;
    const int64_t nlist = opts->nlist != 0 ? opts->nlist : auto_nlist(n);
    hli_rng rng;
    hli_rng_seed(&rng, opts->seed);
    float *cent = NULL;
    int64_t *ncand = NULL, ns = 0, nprobe = opts->nprobe;
    ivf_lists lists;
    memset(&lists, 0, sizeof lists);

    double t0 = hli_now_seconds(), t1;
    hl_status st = train_cells(xn, n, d, nlist, &rng, nt, &ns, &cent);
    if (st != HL_OK)
        return st;
    t1 = hli_now_seconds();
    hli_log(HL_LOG_DEBUG, "knn ivf: k-means %.2f s", t1 - t0);
    t0 = t1;
    /* 2. nprobe. */
    if (nprobe == 0 && (st = calibrate_nprobe(xn, n, d, k, cent, nlist, opts->target_recall, &rng, nt, &nprobe)) !=
                           HL_OK)
        goto out;
    if (nprobe > nlist)
        nprobe = nlist;
    hli_log(HL_LOG_INFO, "knn ivf: n = %lld, nlist = %lld, k-means sample = %lld, nprobe = %lld%s", (long long)n,
            (long long)nlist, (long long)ns, (long long)nprobe, opts->nprobe ? "" : " (calibrated)");
    if (nprobe_used)
        *nprobe_used = nprobe;
    t1 = hli_now_seconds();
    hli_log(HL_LOG_DEBUG, "knn ivf: calibration %.2f s", t1 - t0);
    t0 = t1;
    if ((st = build_lists(xn, n, d, cent, nlist, nprobe, nt, &lists)) != HL_OK)
        goto out;
    t1 = hli_now_seconds();
    hli_log(HL_LOG_DEBUG, "knn ivf: probe lists %.2f s", t1 - t0);
    t0 = t1;
    /* 4. Search, chunk by chunk: at most HLI_IVF_CHUNK queries and 256 MiB of heaps. */
    if ((ncand = hli_alloc((size_t)n, sizeof *ncand)) == NULL) {
        st = hl_last_error_status();
        goto out;
    }
    int64_t ksel = kk + HLI_TOPK_MARGIN;
    if (ksel > n - 1)
        ksel = n - 1;
    int64_t chunk = ((int64_t)256 << 20) / (ksel * 12);
    if (chunk > HLI_IVF_CHUNK)
        chunk = HLI_IVF_CHUNK;
    if (chunk < 1)
        chunk = 1;
    for (int64_t q0 = 0; q0 < n && st == HL_OK; q0 += chunk) {
        const int64_t nq = n - q0 < chunk ? n - q0 : chunk;
        st = search_chunk(xn, d, q0, nq, lists.probe, nprobe, lists.cell_start, lists.members, nlist, kk, ksel, nt,
                          nbrs, sims, k, ncand);
    }
    if (st != HL_OK)
        goto out;
    t1 = hli_now_seconds();
    hli_log(HL_LOG_DEBUG, "knn ivf: search %.2f s", t1 - t0);
    st = redo_exact(xn, n, d, k, ncand, nt, nbrs, sims);
out:
    free(cent);
    free(ncand);
    lists_free(&lists);
    return st;
}

hl_status hli_ivf_train(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt, float **cent,
                        int64_t *nlist_out, int64_t *nprobe_out)
{
    *cent = NULL;
    const int64_t nlist = opts->nlist != 0 && opts->nlist <= n ? opts->nlist : auto_nlist(n);
    int64_t ns = 0, nprobe = opts->nprobe;
    hli_rng rng;
    hli_rng_seed(&rng, opts->seed);
    hl_status st = train_cells(xn, n, d, nlist, &rng, nt, &ns, cent);
    if (st == HL_OK && nprobe == 0 && opts->k > 1)
        st = calibrate_nprobe(xn, n, d, opts->k, *cent, nlist, opts->target_recall, &rng, nt, &nprobe);
    if (st != HL_OK) {
        free(*cent);
        *cent = NULL;
        return st;
    }
    *nlist_out = nlist;
    *nprobe_out = nprobe < 1 ? 1 : nprobe > nlist ? nlist : nprobe;
    return HL_OK;
}
