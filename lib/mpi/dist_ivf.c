/* Distributed approximate kNN (IVF).  The cells are trained at rank 0 on a
 * strided sample of all the rows (hli_ivf_train: spherical k-means and the
 * nprobe calibration, as the single-process IVF does on its own sample) and
 * broadcast.  Every rank then finds its rows' nprobe best cells (the first
 * is the row's own cell), and the shards travel around the ring with their
 * rows' own cells, as in the exact search: at each step a rank scans the shard it
 * holds cell by cell, one sgemm of the local queries probing the cell
 * against the cell's members there; each query's best candidates of the
 * shard are re-ranked by the fixed-order hli_dot_ref (knn/topk.h's margin
 * rule) and merged into its list.  The lists hold the best k-1
 * candidates by (similarity desc, id asc) among the probed cells of all
 * shards; a query whose probed cells hold fewer than k-1 other rows keeps
 * -1 entries (the single-process search would redo it exactly). */
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

/* Rank 0: the cells from a strided sample of every rank's rows; all ranks:
 * *cent (nlist x d), *nlist, *nprobe. */
static hl_status train_shared_cells(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d,
                                    const int64_t *off, const hl_knn_options *o, int nt, float **cent, int64_t *nlist,
                                    int64_t *nprobe)
{
    const int64_t N = off[ctx->P];
    *nlist = o->nlist != 0 && o->nlist <= N ? o->nlist : auto_nlist(N);
    /* k-means reads nlist * 32 rows; twice that leaves the calibration
     * denser neighbourhoods (a sparser sample over-estimates nprobe) */
    int64_t want = *nlist * 64;
    const int64_t stride = want >= N ? 1 : N / want;
    /* this rank's sampled rows: global ids that are multiples of stride */
    const int64_t base = off[ctx->rank];
    int64_t first = (base + stride - 1) / stride * stride, ns = 0;
    for (int64_t g = first; g < base + n_local; g += stride)
        ns++;
    float *mine = NULL, *all = NULL;
    int *cnt = NULL, *dis = NULL;
    if (st == HL_OK && (d > INT_MAX || ns * d > INT_MAX))
        st = hli_error(HL_ERANGE, "mpi ivf: sample too large for an MPI count");
    if (st == HL_OK) {
        mine = hli_alloc((size_t)(ns > 0 ? ns : 1), (size_t)d * sizeof(float));
        cnt = hli_alloc((size_t)ctx->P * 2, sizeof(int));
        if (mine == NULL || cnt == NULL)
            st = hl_last_error_status();
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    dis = cnt + ctx->P;
    for (int64_t t = 0; t < ns; t++)
        memcpy(mine + t * d, xn + (first + t * stride - base) * d, (size_t)d * sizeof(float));
    const int c1 = (int)(ns * d);
    MPI_Gather(&c1, 1, MPI_INT, cnt, 1, MPI_INT, 0, ctx->comm);
    int64_t tot = 0;
    if (ctx->rank == 0) {
        for (int r = 0; r < ctx->P; r++) {
            dis[r] = (int)tot;
            tot += cnt[r];
            if (tot > INT_MAX)
                st = hli_error(HL_ERANGE, "mpi ivf: sample too large for an MPI count");
        }
        if (st == HL_OK && (all = hli_alloc((size_t)(tot > 0 ? tot : 1), sizeof(float))) == NULL)
            st = hl_last_error_status();
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    if (ctx->rank != 0)
        ctx->stats.bytes_sent[ctx->phase] += (int64_t)c1 * (int64_t)sizeof(float);
    MPI_Gatherv(mine, c1, MPI_FLOAT, all, cnt, dis, MPI_FLOAT, 0, ctx->comm);
    int64_t meta[2] = {0, 0};
    if (ctx->rank == 0) {
        const int64_t nsamp = tot / d;
        hl_knn_options so = *o;
        so.nlist = *nlist <= nsamp ? *nlist : 0;
        if (so.k >= nsamp)
            so.k = nsamp > 1 ? nsamp - 1 : 1;
        st = hli_ivf_train(all, nsamp, d, &so, nt, cent, &meta[0], &meta[1]);
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    MPI_Bcast(meta, 2, MPI_INT64_T, 0, ctx->comm);
    *nlist = meta[0];
    *nprobe = o->nprobe > 0 ? (o->nprobe < *nlist ? o->nprobe : *nlist) : meta[1];
    if (ctx->rank != 0 && (*cent = hli_alloc((size_t)*nlist, (size_t)d * sizeof(float))) == NULL)
        st = hl_last_error_status();
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    if (ctx->rank == 0)
        ctx->stats.bytes_sent[ctx->phase] += (int64_t)(*nlist * d) * (int64_t)sizeof(float) * (ctx->P - 1);
    MPI_Bcast(*cent, (int)(*nlist * d), MPI_FLOAT, 0, ctx->comm);
done:
    if (st != HL_OK) {
        free(*cent);
        *cent = NULL;
    }
    free(mine);
    free(all);
    free(cnt);
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
        hli_log(HL_LOG_INFO, "mpi knn ivf: n = %lld, nlist = %lld, nprobe = %lld; cells (rank 0) %.2f s", (long long)off[P],
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
        hli_log(HL_LOG_INFO, "mpi knn ivf: rank 0 probes and ring %.2f s", hli_now_seconds() - t1);
    int64_t missing = 0;
    for (int64_t i = 0; i < n_local; i++) {
        knn[i * k] = off[me] + i;
        sims[i * k] = 1.0f;
        hli_topk_sorted(hs + i * kk, hi + i * kk, kk, knn + i * k + 1, sims + i * k + 1);
        missing += knn[i * k + k - 1] < 0;
    }
    if (missing > 0)
        hli_log(HL_LOG_INFO, "mpi knn ivf: rank %d: %lld queries with fewer than k-1 candidates", me,
                (long long)missing);
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
