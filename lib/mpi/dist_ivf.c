/* Distributed approximate kNN (IVF).  The cells are a spherical k-means over
 * the ranks: each rank assigns its rows of a seeded sample, rank 0 adds the
 * per-cell sums and broadcasts the centroids.  nprobe is calibrated as ivf.c
 * does, on the exact neighbours of 1,024 seeded queries (every rank searches
 * its rows, rank 0 merges), with a two-sigma margin on the estimate.  Every
 * rank then finds its rows' nprobe best cells (the first is the row's own
 * cell), and the shards travel around the ring with their rows' own cells,
 * as in the exact search: at each step a rank scans the shard it holds cell
 * by cell, one sgemm of the local queries probing the cell against the
 * cell's members there; each query's best candidates of the shard are
 * re-ranked by the fixed-order hli_dot_ref (knn/topk.h's margin rule) and
 * merged into its list.  The lists hold the best k-1 candidates by
 * (similarity desc, id asc) among the probed cells of all shards; a row
 * whose probed cells hold fewer than k-1 other rows is redone by the exact
 * ring (dist_knn.c), as ivf.c redoes it.  Nothing depends on the
 * number of ranks: the sample, the queries and the cells are the same. */
#include "knn/knn_internal.h"
#include "knn/topk.h"
#include "mpi/mpi_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* hli_ivf's automatic cell count for n rows. */
static int64_t auto_nlist(int64_t n)
{
    int64_t nlist = (int64_t)llround(4.0 * sqrt((double)n));
    if (nlist > n / 8)
        nlist = n / 8;
    return nlist < 1 ? 1 : nlist;
}

#define HLM_KM_ITERS 10       /* Lloyd iterations at most (ivf.c: HLI_KM_ITERS) */
#define HLM_KM_STOP 0.005      /* stop when fewer sample rows change cell (HLI_KM_STOP) */
#define HLM_KM_PER_CELL 32     /* sample rows per cell (HLI_KM_PER_CELL) */
#define HLM_CALIB_QUERIES 1024 /* calibration queries (ivf.c uses 512) */

/* m distinct ids drawn from [0, n) by the seeded generator (the same on
 * every rank), ascending. */
static hl_status draw_ids(uint64_t seed, int64_t n, int64_t m, int64_t *ids)
{
    hli_rng rng;
    hli_rng_seed(&rng, seed);
    int64_t have = 0;
    while (have < m) {
        for (int64_t a = have; a < m; a++)
            ids[a] = (int64_t)hli_rng_below(&rng, (uint64_t)n);
        qsort(ids, (size_t)m, sizeof *ids, hli_cmp_i64);
        int64_t u = 0;
        for (int64_t a = 0; a < m; a++)
            if (u == 0 || ids[u - 1] != ids[a])
                ids[u++] = ids[a];
        have = u;
    }
    return HL_OK;
}

/* Whether global row @p g is in the k-means sample (probability @p frac): a
 * hash of the seed and the id, so the sample does not depend on the ranks
 * nor on any period in the row order. */
static int in_sample(uint64_t seed, int64_t g, double frac)
{
    uint64_t z = seed ^ ((uint64_t)g * 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 < frac;
}

typedef struct row_fill {
    const float *xn;
    int64_t d;
} row_fill;

static void fill_xrow(void *user, int64_t local, void *out)
{
    const row_fill *f = user;
    memcpy(out, f->xn + local * f->d, (size_t)f->d * sizeof(float));
}

/* Spherical k-means over the ranks: every rank assigns its rows of a seeded
 * sample (HLM_KM_PER_CELL per cell on average) to the nearest centroid; the
 * per-cell sums are reduced at rank 0, which normalises them and broadcasts
 * the centroids (an empty cell keeps its centroid).  Starts from nlist rows
 * drawn by the seeded generator. */
static hl_status dist_kmeans(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d,
                             const int64_t *off, int64_t nlist, uint64_t seed, int nt, float *cent)
{
    const int64_t N = off[ctx->P], base = off[ctx->rank];
    const double frac = (double)(nlist * HLM_KM_PER_CELL) / (double)N;
    int64_t ns = 0;
    for (int64_t i = 0; i < n_local; i++)
        ns += in_sample(seed, base + i, frac);
    float *sample = NULL;
    int64_t *ids = NULL, *assign = NULL, *prev = NULL, *cnt = NULL, *cnt0 = NULL;
    double *sum = NULL, *sum0 = NULL;
    if (st == HL_OK && nlist * d > INT_MAX)
        st = hli_error(HL_ERANGE, "mpi ivf: %lld cells x %lld columns exceed an MPI count", (long long)nlist,
                       (long long)d);
    if (st == HL_OK) {
        sample = hli_alloc((size_t)(ns > 0 ? ns : 1), (size_t)d * sizeof(float));
        ids = hli_alloc((size_t)nlist, sizeof *ids);
        assign = hli_alloc((size_t)(ns > 0 ? ns : 1), sizeof *assign);
        prev = hli_alloc((size_t)(ns > 0 ? ns : 1), sizeof *prev);
        cnt = hli_alloc((size_t)nlist, sizeof *cnt);
        sum = hli_alloc((size_t)nlist, (size_t)d * sizeof *sum);
        if (ctx->rank == 0) {
            cnt0 = hli_alloc((size_t)nlist, sizeof *cnt0);
            sum0 = hli_alloc((size_t)nlist, (size_t)d * sizeof *sum0);
        }
        if (!sample || !ids || !assign || !prev || !cnt || !sum || (ctx->rank == 0 && (!cnt0 || !sum0)))
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        for (int64_t i = 0, t = 0; i < n_local; i++)
            if (in_sample(seed, base + i, frac)) {
                memcpy(sample + t * d, xn + i * d, (size_t)d * sizeof(float));
                prev[t++] = -1;
            }
        st = draw_ids(seed, N, nlist, ids);
    }
    row_fill rf = {xn, d};
    st = hlm_fetch(ctx, st, off, ids, st == HL_OK ? nlist : 0, (size_t)d * sizeof(float), fill_xrow, &rf, cent);
    int64_t ns_all = 0;
    if (st == HL_OK)
        MPI_Allreduce(&ns, &ns_all, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    for (int it = 0; st == HL_OK && it < HLM_KM_ITERS; it++) {
        if (ns > 0)
            st = hli_topk_gemm(sample, ns, cent, nlist, d, 1, NULL, -1, 0, nt, assign, NULL, 1);
        int64_t changed = 0, changed_all = 0;
        for (int64_t t = 0; st == HL_OK && t < ns; t++) {
            changed += assign[t] != prev[t];
            prev[t] = assign[t];
        }
        if ((st = hlm_agree(ctx, st)) != HL_OK)
            break;
        MPI_Allreduce(&changed, &changed_all, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
        if (it > 0 && (double)changed_all < HLM_KM_STOP * (double)ns_all)
            break;
        memset(cnt, 0, (size_t)nlist * sizeof *cnt);
        memset(sum, 0, (size_t)(nlist * d) * sizeof *sum);
        for (int64_t t = 0; t < ns; t++) {
            cnt[assign[t]]++;
            for (int64_t c = 0; c < d; c++)
                sum[assign[t] * d + c] += sample[t * d + c];
        }
        if (ctx->rank != 0)
            ctx->stats.bytes_sent[ctx->phase] += nlist * (d + 1) * 8;
        MPI_Reduce(cnt, cnt0, (int)nlist, MPI_INT64_T, MPI_SUM, 0, ctx->comm);
        MPI_Reduce(sum, sum0, (int)(nlist * d), MPI_DOUBLE, MPI_SUM, 0, ctx->comm);
        if (ctx->rank == 0)
            for (int64_t c = 0; c < nlist; c++) {
                double ss = 0.0;
                for (int64_t t = 0; t < d; t++)
                    ss += sum0[c * d + t] * sum0[c * d + t];
                if (cnt0[c] == 0 || !(ss > 0.0))
                    continue; /* an empty cell keeps its centroid */
                const double inv = 1.0 / sqrt(ss);
                for (int64_t t = 0; t < d; t++)
                    cent[c * d + t] = (float)(sum0[c * d + t] * inv);
            }
        if (ctx->rank == 0)
            ctx->stats.bytes_sent[ctx->phase] += nlist * d * 4 * (ctx->P - 1);
        MPI_Bcast(cent, (int)(nlist * d), MPI_FLOAT, 0, ctx->comm);
    }
    free(sample);
    free(ids);
    free(assign);
    free(prev);
    free(cnt);
    free(sum);
    free(cnt0);
    free(sum0);
    return st;
}

/* One calibration candidate: a neighbour of a query, its similarity and cell. */
typedef struct calib_cand {
    int64_t id, cell;
    float sim;
} calib_cand;

/* nprobe as ivf.c calibrates it: the exact neighbours of HLM_CALIB_QUERIES
 * queries spread over all rows (each rank searches its own rows, rank 0
 * merges), and the smallest number of best cells per query that holds
 * target_recall of them, with a two-sigma margin on that estimate.  @p own: the own cell of each local row. */
static hl_status dist_calibrate(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d,
                                const int64_t *off, int64_t k, const float *cent, int64_t nlist, double target,
                                const int64_t *own, uint64_t seed, int nt, int64_t *nprobe)
{
    const int64_t N = off[ctx->P], base = off[ctx->rank], kk = k - 1;
    const int64_t S = N < HLM_CALIB_QUERIES ? N : HLM_CALIB_QUERIES;
    int64_t *qid = NULL, *self = NULL, *ci = NULL, *order = NULL, *rank = NULL, *hist = NULL;
    float *q = NULL, *cs = NULL;
    calib_cand *mine = NULL, *all = NULL;
    if (st == HL_OK) {
        qid = hli_alloc((size_t)S, sizeof *qid);
        self = hli_alloc((size_t)S, sizeof *self);
        q = hli_alloc((size_t)S, (size_t)d * sizeof *q);
        ci = hli_alloc((size_t)S, (size_t)kk * sizeof *ci);
        cs = hli_alloc((size_t)S, (size_t)kk * sizeof *cs);
        mine = hli_alloc((size_t)S, (size_t)kk * sizeof *mine);
        if (ctx->rank == 0) {
            all = hli_alloc((size_t)S * (size_t)ctx->P, (size_t)kk * sizeof *all);
            order = hli_alloc((size_t)S, (size_t)nlist * sizeof *order);
            rank = hli_alloc((size_t)nlist, sizeof *rank);
            hist = hli_calloc((size_t)nlist + 1, sizeof *hist);
        }
        if (!qid || !self || !q || !ci || !cs || !mine || (ctx->rank == 0 && (!all || !order || !rank || !hist)))
            st = hl_last_error_status();
        if (st == HL_OK && (double)S * (double)kk * (double)sizeof *mine * ctx->P > INT_MAX)
            st = hli_error(HL_ERANGE, "mpi ivf: calibration lists exceed an MPI count");
    }
    if (st == HL_OK)
        st = draw_ids(seed ^ 0x5bd1e995u, N, S, qid);
    row_fill rf = {xn, d};
    st = hlm_fetch(ctx, st, off, qid, st == HL_OK ? S : 0, (size_t)d * sizeof(float), fill_xrow, &rf, q);
    if (st == HL_OK) {
        for (int64_t a = 0; a < S; a++)
            self[a] = qid[a] >= base && qid[a] < base + n_local ? qid[a] - base : -1;
        for (int64_t t = 0; t < S * kk; t++)
            mine[t] = (calib_cand){-1, -1, -INFINITY};
        int64_t kl = n_local < kk ? n_local : kk;
        if (kl > 0 && (st = hli_topk_gemm(q, S, xn, n_local, d, kl, self, -1, 0, nt, ci, cs, kl)) == HL_OK)
            for (int64_t a = 0; a < S; a++)
                for (int64_t t = 0; t < kl; t++) {
                    const int64_t j = ci[a * kl + t];
                    if (j >= 0)
                        mine[a * kk + t] = (calib_cand){base + j, own[j], cs[a * kl + t]};
                }
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    const int bytes = (int)((size_t)(S * kk) * sizeof *mine);
    if (ctx->rank != 0)
        ctx->stats.bytes_sent[ctx->phase] += bytes;
    MPI_Gather(mine, bytes, MPI_BYTE, all, bytes, MPI_BYTE, 0, ctx->comm);
    int64_t np = 1;
    if (ctx->rank == 0) {
        st = hli_topk_gemm(q, S, cent, nlist, d, nlist, NULL, -1, 0, nt, order, NULL, nlist);
        int64_t total = 0;
        for (int64_t a = 0; st == HL_OK && a < S; a++) {
            for (int64_t r = 0; r < nlist; r++)
                rank[order[a * nlist + r]] = r;
            /* the kk best of all ranks' candidates by (similarity desc, id asc) */
            for (int64_t t = 0; t < kk; t++) {
                calib_cand *best = NULL;
                for (int p = 0; p < ctx->P; p++)
                    for (int64_t u = 0; u < kk; u++) {
                        calib_cand *c = all + ((int64_t)p * S + a) * kk + u;
                        if (c->id >= 0 && (best == NULL || c->sim > best->sim ||
                                           (c->sim == best->sim && c->id < best->id)))
                            best = c;
                    }
                if (best == NULL)
                    break;
                hist[rank[best->cell]]++;
                total++;
                best->id = -1; /* taken */
            }
        }
        /* the estimate's two-sigma lower bound must reach the target, so that
         * the recall over all rows does too (ivf.c stops at the estimate) */
        const double need = target * (double)total + 2.0 * sqrt((double)total * target * (1.0 - target));
        int64_t covered = 0, p = 0;
        while (p < nlist && (double)covered < need && covered < total)
            covered += hist[p++];
        np = p < 1 ? 1 : p;
        hli_log(HL_LOG_INFO, "mpi knn ivf: nprobe %lld covers %.4f of the %lld calibration neighbours", (long long)np,
                total > 0 ? (double)covered / (double)total : 1.0, (long long)total);
    }
    if ((st = hlm_agree(ctx, st)) == HL_OK)
        MPI_Bcast(&np, 1, MPI_INT64_T, 0, ctx->comm);
    *nprobe = np;
done:
    free(qid);
    free(self);
    free(q);
    free(ci);
    free(cs);
    free(mine);
    free(all);
    free(order);
    free(rank);
    free(hist);
    return st;
}

/* The cells (k-means over the ranks), nprobe (the caller's or calibrated)
 * and every local row's own cell. */
static hl_status train_shared_cells(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d,
                                    const int64_t *off, const hl_knn_options *o, int nt, float **cent, int64_t *nlist,
                                    int64_t *nprobe)
{
    const int64_t N = off[ctx->P];
    *nlist = o->nlist != 0 && o->nlist <= N ? o->nlist : auto_nlist(N);
    *cent = NULL;
    int64_t *own = NULL;
    if (st == HL_OK) {
        *cent = hli_alloc((size_t)*nlist, (size_t)d * sizeof(float));
        own = hli_alloc((size_t)(n_local > 0 ? n_local : 1), sizeof *own);
        if (*cent == NULL || own == NULL)
            st = hl_last_error_status();
    }
    st = dist_kmeans(ctx, st, xn, n_local, d, off, *nlist, o->seed, nt, *cent);
    *nprobe = o->nprobe > 0 ? (o->nprobe < *nlist ? o->nprobe : *nlist) : 0;
    if (*nprobe == 0) {
        if (st == HL_OK && n_local > 0)
            st = hli_topk_gemm(xn, n_local, *cent, *nlist, d, 1, NULL, -1, 0, nt, own, NULL, 1);
        st = dist_calibrate(ctx, st, xn, n_local, d, off, o->k, *cent, *nlist, o->target_recall, own, o->seed, nt, nprobe);
        if (st == HL_OK && *nprobe > *nlist)
            *nprobe = *nlist;
    }
    st = hlm_agree(ctx, st);
    free(own);
    if (st != HL_OK) {
        free(*cent);
        *cent = NULL;
    }
    return st;
}

/* The search state of one rank: its queries, their probed cells, the
 * queries probing each cell, and the heaps. */
typedef struct ivf_scan {
    const float *xn;
    int64_t n_local, d, kk, ksel, nprobe, nlist, self0;
    int nt;
    const int64_t *probe;  /* n_local x nprobe */
    int64_t *qstart;       /* nlist + 1: the local queries probing each cell */
    int64_t *qlist;
    float *hs, *ss;        /* n_local x kk final heaps; n_local x ksel heaps of one shard */
    int64_t *hi, *si;
    float *qbuf, *mbuf, *tile;
    int64_t qcap, mcap;
} ivf_scan;

/* One shard: per cell, one sgemm of the local queries probing it against
 * its members; each query keeps its best ksel of the shard by the sgemm
 * value, re-ranked by hli_dot_ref (topk.h's margin rule) into its final heap. */
static hl_status scan_shard(ivf_scan *sc, const float *rows, int64_t nb, int64_t bbase, const int64_t *start,
                            const int64_t *mem)
{
    const int64_t d = sc->d, ksel = sc->ksel, kk = sc->kk;
    if (nb == 0)
        return HL_OK;
#pragma omp parallel for schedule(static) num_threads(sc->nt)
    for (int64_t i = 0; i < sc->n_local; i++)
        hli_topk_init(sc->ss + i * ksel, sc->si + i * ksel, ksel);
    for (int64_t c = 0; c < sc->nlist; c++) {
        const int64_t nm = start[c + 1] - start[c], nq = sc->qstart[c + 1] - sc->qstart[c];
        if (nm == 0 || nq == 0)
            continue;
        if (nm > sc->mcap || nq > sc->qcap || nq * nm > sc->qcap * sc->mcap) {
            const int64_t mc = nm > sc->mcap ? nm : sc->mcap, qc = nq > sc->qcap ? nq : sc->qcap;
            float *mb = hli_realloc(sc->mbuf, (size_t)mc, (size_t)d * sizeof(float));
            if (mb == NULL)
                return hl_last_error_status();
            sc->mbuf = mb;
            float *qb = hli_realloc(sc->qbuf, (size_t)qc, (size_t)d * sizeof(float));
            if (qb == NULL)
                return hl_last_error_status();
            sc->qbuf = qb;
            float *tb = hli_realloc(sc->tile, (size_t)qc, (size_t)mc * sizeof(float));
            if (tb == NULL)
                return hl_last_error_status();
            sc->tile = tb;
            sc->mcap = mc;
            sc->qcap = qc;
        }
        for (int64_t t = 0; t < nm; t++)
            memcpy(sc->mbuf + t * d, rows + mem[start[c] + t] * d, (size_t)d * sizeof(float));
        for (int64_t t = 0; t < nq; t++)
            memcpy(sc->qbuf + t * d, sc->xn + sc->qlist[sc->qstart[c] + t] * d, (size_t)d * sizeof(float));
        hli_gemm(0, 1, nq, nm, d, 1.0f, sc->qbuf, d, sc->mbuf, d, 0.0f, sc->tile, nm);
#pragma omp parallel for schedule(static) num_threads(sc->nt)
        for (int64_t t = 0; t < nq; t++) {
            const int64_t i = sc->qlist[sc->qstart[c] + t];
            const float *row = sc->tile + t * nm;
            for (int64_t u = 0; u < nm; u++) {
                const int64_t j = mem[start[c] + u]; /* shard-local row */
                if (bbase + j == sc->self0 + i)
                    continue;
                hli_topk_push(sc->ss + i * ksel, sc->si + i * ksel, ksel, row[u], j);
            }
        }
    }
#pragma omp parallel for schedule(static) num_threads(sc->nt)
    for (int64_t i = 0; i < sc->n_local; i++) {
        const int64_t *hi = sc->si + i * ksel;
        for (int64_t t = 0; t < ksel; t++) /* refine by the fixed-order dot, then offer to the final heap */
            if (hi[t] != INT64_MAX)
                hli_topk_push(sc->hs + i * kk, sc->hi + i * kk, kk, hli_dot_ref(sc->xn + i * d, rows + hi[t] * d, d),
                              bbase + hi[t]);
    }
    return HL_OK;
}

hl_status hlm_knn_ivf(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d, const int64_t *off,
                      const hl_knn_options *o, int nt, int64_t *knn, float *sims)
{
    const int P = ctx->P, me = ctx->rank;
    const int64_t k = o->k, kk = k - 1;
    float *cent = NULL, *buf = NULL, *hs = NULL;
    int64_t nlist = 0, nprobe = 0, *probe = NULL, *hi = NULL, *cbuf = NULL, *start = NULL, *mem = NULL;
    int64_t *pt = NULL;
    ivf_scan sc;
    memset(&sc, 0, sizeof sc);
    const double t0 = hli_now_seconds();
    st = train_shared_cells(ctx, st, xn, n_local, d, off, o, nt, &cent, &nlist, &nprobe);
    const double t1 = hli_now_seconds();
    if (st != HL_OK)
        return st;
    int64_t maxb = 0;
    for (int r = 0; r < P; r++)
        maxb = off[r + 1] - off[r] > maxb ? off[r + 1] - off[r] : maxb;
    if (maxb > INT_MAX / (d + 2))
        st = hli_error(HL_ERANGE, "mpi ivf: a shard of %lld rows exceeds an MPI count", (long long)maxb);
    const int64_t nl1 = n_local > 0 ? n_local : 1;
    if (st == HL_OK) {
        probe = hli_alloc((size_t)nl1, (size_t)nprobe * sizeof *probe);
        buf = hli_alloc((size_t)(2 * maxb > 0 ? 2 * maxb : 1), (size_t)d * sizeof(float));
        cbuf = hli_alloc((size_t)(2 * maxb > 0 ? 2 * maxb : 1), sizeof *cbuf);
        start = hli_alloc((size_t)nlist + 2, sizeof *start);
        mem = hli_alloc((size_t)(maxb > 0 ? maxb : 1), sizeof *mem);
        pt = hli_alloc((size_t)nlist + 1, sizeof *pt);
        hs = hli_alloc((size_t)nl1, (size_t)kk * sizeof *hs);
        hi = hli_alloc((size_t)nl1, (size_t)kk * sizeof *hi);
        sc.ksel = kk + HLI_TOPK_MARGIN;
        sc.ss = hli_alloc((size_t)nl1, (size_t)sc.ksel * sizeof *sc.ss);
        sc.si = hli_alloc((size_t)nl1, (size_t)sc.ksel * sizeof *sc.si);
        sc.qstart = hli_calloc((size_t)nlist + 1, sizeof *sc.qstart);
        sc.qlist = hli_alloc((size_t)nl1, (size_t)nprobe * sizeof *sc.qlist);
        if (!probe || !buf || !cbuf || !start || !mem || !pt || !hs || !hi || !sc.ss || !sc.si || !sc.qstart ||
            !sc.qlist)
            st = hl_last_error_status();
    }
    if (st == HL_OK && n_local > 0)
        st = hli_topk_gemm(xn, n_local, cent, nlist, d, nprobe, NULL, -1, 0, nt, probe, NULL, nprobe);
    if (st == HL_OK) { /* the local queries probing each cell, in query order */
        for (int64_t t = 0; t < n_local * nprobe; t++)
            sc.qstart[probe[t] + 1]++;
        for (int64_t c = 0; c < nlist; c++)
            sc.qstart[c + 1] += sc.qstart[c];
        memcpy(pt, sc.qstart, (size_t)nlist * sizeof *pt);
        for (int64_t i = 0; i < n_local; i++)
            for (int64_t p = 0; p < nprobe; p++)
                sc.qlist[pt[probe[i * nprobe + p]]++] = i;
        sc.xn = xn;
        sc.n_local = n_local;
        sc.d = d;
        sc.kk = kk;
        sc.nprobe = nprobe;
        sc.nlist = nlist;
        sc.self0 = off[me];
        sc.nt = nt;
        sc.probe = probe;
        sc.hs = hs;
        sc.hi = hi;
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    if (me == 0)
        hli_log(HL_LOG_INFO, "mpi knn ivf: n = %lld, nlist = %lld, nprobe = %lld; cells and calibration %.2f s", (long long)off[P],
                (long long)nlist, (long long)nprobe, t1 - t0);
    for (int64_t i = 0; i < n_local; i++)
        hli_topk_init(hs + i * kk, hi + i * kk, kk);
    float *cur = buf, *nxt = buf + maxb * d;
    int64_t *ccur = cbuf, *cnxt = cbuf + maxb;
    if (n_local > 0)
        memcpy(cur, xn, (size_t)(n_local * d) * sizeof(float));
    for (int64_t i = 0; i < n_local; i++)
        ccur[i] = probe[i * nprobe];
    for (int s = 0; s < P; s++) {
        const int b = ((me - s) % P + P) % P;
        const int64_t nb = off[b + 1] - off[b], bbase = off[b];
        /* the shard's cells: members in increasing id order */
        memset(start, 0, ((size_t)nlist + 2) * sizeof *start);
        for (int64_t j = 0; j < nb; j++)
            start[ccur[j] + 1]++;
        for (int64_t c = 0; c < nlist; c++)
            start[c + 1] += start[c];
        memcpy(pt, start, ((size_t)nlist + 1) * sizeof *pt);
        for (int64_t j = 0; j < nb; j++)
            mem[pt[ccur[j]]++] = j;
        MPI_Request rq[4] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        if (s + 1 < P) { /* pass the shard on while scanning it */
            const int to = (me + 1) % P, from = (me - 1 + P) % P;
            const int pb = ((b - 1) % P + P) % P;
            const int64_t nbn = off[pb + 1] - off[pb];
            ctx->stats.bytes_sent[ctx->phase] += nb * (d * (int64_t)sizeof(float) + (int64_t)sizeof(int64_t));
            MPI_Irecv(nxt, (int)(nbn * d), MPI_FLOAT, from, 18, ctx->comm, &rq[0]);
            MPI_Irecv(cnxt, (int)nbn, MPI_INT64_T, from, 19, ctx->comm, &rq[1]);
            MPI_Isend(cur, (int)(nb * d), MPI_FLOAT, to, 18, ctx->comm, &rq[2]);
            MPI_Isend(ccur, (int)nb, MPI_INT64_T, to, 19, ctx->comm, &rq[3]);
        }
        if (st == HL_OK) /* a failure is agreed on after the ring, which every rank completes */
            st = scan_shard(&sc, cur, nb, bbase, start, mem);
        MPI_Waitall(4, rq, MPI_STATUSES_IGNORE);
        float *tf = cur;
        cur = nxt;
        nxt = tf;
        int64_t *tc = ccur;
        ccur = cnxt;
        cnxt = tc;
    }
    if (me == 0)
        hli_log(HL_LOG_INFO, "mpi knn ivf: rank 0: probes and search %.2f s", hli_now_seconds() - t1);
    int64_t missing = 0;
    for (int64_t i = 0; i < n_local; i++) {
        knn[i * k] = off[me] + i;
        sims[i * k] = 1.0f;
        hli_topk_sorted(hs + i * kk, hi + i * kk, kk, knn + i * k + 1, sims + i * k + 1);
        missing += knn[i * k + k - 1] < 0;
    }
    /* rows whose probed cells hold fewer than k-1 others: exact search, as ivf.c redoes them */
    int64_t all_missing = 0;
    if ((st = hlm_agree(ctx, st)) == HL_OK)
        MPI_Allreduce(&missing, &all_missing, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (st == HL_OK && all_missing > 0) {
        const size_t m1 = (size_t)(missing > 0 ? missing : 1);
        float *xq = hli_alloc(m1, (size_t)d * sizeof(float)), *rs = hli_alloc(m1, (size_t)kk * sizeof(float));
        int64_t *qg = hli_alloc(m1, sizeof(int64_t)), *ri = hli_alloc(m1, (size_t)kk * sizeof(int64_t));
        if (xq == NULL || rs == NULL || qg == NULL || ri == NULL)
            st = hl_last_error_status();
        int64_t m = 0;
        for (int64_t i = 0; st == HL_OK && i < n_local; i++)
            if (knn[i * k + k - 1] < 0) {
                memcpy(xq + m * d, xn + i * d, (size_t)d * sizeof(float));
                qg[m++] = off[me] + i;
            }
        st = hlm_knn_exact_queries(ctx, st, xq, m, qg, xn, n_local, d, off, kk, nt, ri, rs, kk);
        for (int64_t t = 0; st == HL_OK && t < m; t++) {
            const int64_t i = qg[t] - off[me];
            memcpy(knn + i * k + 1, ri + t * kk, (size_t)kk * sizeof(int64_t));
            memcpy(sims + i * k + 1, rs + t * kk, (size_t)kk * sizeof(float));
        }
        if (st == HL_OK && me == 0)
            hli_log(HL_LOG_INFO, "mpi knn ivf: %lld rows with fewer than k-1 candidates redone exactly",
                    (long long)all_missing);
        free(xq);
        free(rs);
        free(qg);
        free(ri);
    }
done:
    free(cent);
    free(probe);
    free(buf);
    free(cbuf);
    free(start);
    free(mem);
    free(pt);
    free(hs);
    free(hi);
    free(sc.ss);
    free(sc.si);
    free(sc.qstart);
    free(sc.qlist);
    free(sc.qbuf);
    free(sc.mbuf);
    free(sc.tile);
    return hlm_agree(ctx, st);
}
