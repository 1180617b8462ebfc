/* Distributed exact kNN: the shards travel around a ring of ranks; at each
 * step every rank searches its own rows against the shard it holds
 * (hli_topk_gemm: sgemm screening, then the fixed-order hli_dot_ref
 * similarity of the candidates) and merges the result into its running
 * top-(k-1) by (similarity desc, global id asc).  The similarities are
 * hli_dot_ref values, which depend only on the two rows, so the lists equal
 * hli_knn_exact's on all the rows (lib/mpi/README.md discusses the margin). */
#include "knn/topk.h"
#include "mpi/mpi_internal.h"

#include <limits.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

/* Merge the sorted list (bi, bs) (kk entries, -1 = missing) with the sorted
 * candidates (ci, cs) of @p m entries into (bi, bs), keeping kk. */
static void merge_best(int64_t *bi, float *bs, const int64_t *ci, const float *cs, int64_t m, int64_t kk,
                       int64_t *ti, float *ts)
{
    int64_t a = 0, b = 0;
    for (int64_t t = 0; t < kk; t++) {
        const int ha = a < kk && bi[a] >= 0, hb = b < m && ci[b] >= 0;
        if (!ha && !hb) {
            ti[t] = -1;
            ts[t] = 0.0f;
            continue;
        }
        const int take_a = ha && (!hb || !hli_topk_worse(bs[a], bi[a], cs[b], ci[b]));
        if (take_a) {
            ti[t] = bi[a];
            ts[t] = bs[a++];
        } else {
            ti[t] = ci[b];
            ts[t] = cs[b++];
        }
    }
    memcpy(bi, ti, (size_t)kk * sizeof *bi);
    memcpy(bs, ts, (size_t)kk * sizeof *bs);
}

hl_status hlm_knn_exact_queries(hlm_ctx *ctx, hl_status st, const float *xq, int64_t nq, const int64_t *qg,
                                const float *xn, int64_t n_local, int64_t d, const int64_t *off, int64_t kk, int nt,
                                int64_t *ids, float *sims, int64_t ldo)
{
    const int P = ctx->P, me = ctx->rank;
    int64_t maxb = 0;
    for (int r = 0; r < P; r++)
        maxb = off[r + 1] - off[r] > maxb ? off[r + 1] - off[r] : maxb;
    if (st == HL_OK && (d > INT_MAX || maxb > INT_MAX / d))
        st = hli_error(HL_ERANGE, "mpi knn: a shard of %lld rows x %lld columns exceeds an MPI count",
                       (long long)maxb, (long long)d);
    float *buf = NULL, *cs = NULL, *ts = NULL;
    int64_t *ci = NULL, *ti = NULL, *self = NULL;
    const size_t nq1 = (size_t)(nq > 0 ? nq : 1);
    if (st == HL_OK) {
        buf = hli_alloc((size_t)(2 * maxb > 0 ? 2 * maxb : 1), (size_t)d * sizeof(float));
        cs = hli_alloc(nq1, (size_t)kk * sizeof(float));
        ci = hli_alloc(nq1, (size_t)kk * sizeof(int64_t));
        self = hli_alloc(nq1, sizeof(int64_t));
        ts = hli_alloc((size_t)kk * (size_t)(nt > 0 ? nt : 1), sizeof(float));
        ti = hli_alloc((size_t)kk * (size_t)(nt > 0 ? nt : 1), sizeof(int64_t));
        if (buf == NULL || cs == NULL || ci == NULL || self == NULL || ts == NULL || ti == NULL)
            st = hl_last_error_status();
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        goto done;
    for (int64_t q = 0; q < nq; q++)
        for (int64_t t = 0; t < kk; t++) {
            ids[q * ldo + t] = -1;
            sims[q * ldo + t] = 0.0f;
        }
    float *cur = buf, *nxt = buf + maxb * d;
    if (n_local > 0)
        memcpy(cur, xn, (size_t)(n_local * d) * sizeof(float));
    for (int s = 0; s < P; s++) {
        const int b = ((me - s) % P + P) % P; /* the owner of the shard held now */
        const int64_t nb = off[b + 1] - off[b], base = off[b];
        const int64_t kb = nb < kk ? nb : kk;
        /* pass the shard on while searching it: send to rank+1, receive rank-1's */
        MPI_Request rq[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        if (s + 1 < P) {
            const int to = (me + 1) % P, from = (me - 1 + P) % P, pb = ((b - 1) % P + P) % P;
            ctx->stats.bytes_sent[ctx->phase] += (int64_t)(nb * d) * (int64_t)sizeof(float);
            MPI_Irecv(nxt, (int)((off[pb + 1] - off[pb]) * d), MPI_FLOAT, from, 17, ctx->comm, &rq[0]);
            MPI_Isend(cur, (int)(nb * d), MPI_FLOAT, to, 17, ctx->comm, &rq[1]);
        }
        for (int64_t q = 0; q < nq; q++) /* a query's own row, when it is in this shard, is skipped */
            self[q] = qg[q] >= base && qg[q] < base + nb ? qg[q] - base : -1;
        /* a failure here is agreed on after the ring, which every rank completes */
        if (st == HL_OK && nq > 0 && kb > 0 &&
            (st = hli_topk_gemm(xq, nq, cur, nb, d, kb, self, -1, 0, nt, ci, cs, kb)) == HL_OK) {
#pragma omp parallel for schedule(static) num_threads(nt)
            for (int64_t q = 0; q < nq; q++) {
                int tid = 0;
#ifdef _OPENMP
                tid = omp_get_thread_num();
#endif
                int64_t *c = ci + q * kb;
                for (int64_t t = 0; t < kb; t++)
                    c[t] = c[t] >= 0 ? c[t] + base : -1;
                merge_best(ids + q * ldo, sims + q * ldo, c, cs + q * kb, kb, kk, ti + (int64_t)tid * kk,
                           ts + (int64_t)tid * kk);
            }
        }
        MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
        float *tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    st = hlm_agree(ctx, st);
done:
    free(buf);
    free(cs);
    free(ci);
    free(self);
    free(ts);
    free(ti);
    return st;
}

hl_status hlm_knn_exact(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d, const int64_t *off,
                        int64_t k, int nt, int64_t *knn, float *sims)
{
    int64_t *qg = hli_alloc((size_t)(n_local > 0 ? n_local : 1), sizeof *qg);
    if (qg == NULL && st == HL_OK)
        st = hl_last_error_status();
    for (int64_t i = 0; qg != NULL && i < n_local; i++) {
        qg[i] = off[ctx->rank] + i;
        knn[i * k] = qg[i]; /* self first, similarity exactly 1 */
        sims[i * k] = 1.0f;
    }
    st = hlm_knn_exact_queries(ctx, st, xn, n_local, qg, xn, n_local, d, off, k - 1, nt, knn + 1, sims + 1, k);
    free(qg);
    return st;
}
