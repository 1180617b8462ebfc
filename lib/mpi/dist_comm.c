/* The communication primitives of libhilander_mpi: agreement on errors,
 * ownership offsets, a personalised all-to-all, and fetching a payload per
 * global id from the id's owner.  MPI counts are ints: an exchange whose
 * item or byte count exceeds INT_MAX fails with HL_ERANGE on every rank. */
#include "mpi/mpi_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define HLM_MSG 480

void hlm_phase(hlm_ctx *ctx, int phase)
{
    const double now = hli_now_seconds();
    ctx->stats.seconds[ctx->phase] += now - ctx->t_phase;
    ctx->t_phase = now;
    ctx->phase = phase;
}

hl_status hlm_agree(hlm_ctx *ctx, hl_status st)
{
    int in[2] = {st != HL_OK ? 1 : 0, ctx->rank}, out[2] = {0, 0};
    if (MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MAXLOC, ctx->comm) != MPI_SUCCESS)
        return hli_error(HL_EINTERNAL, "mpi: MPI_Allreduce failed");
    if (out[0] == 0)
        return HL_OK;
    /* MAXLOC keeps the lowest rank among equal values: the first failing rank. */
    const int root = out[1];
    struct {
        int status;
        char msg[HLM_MSG];
    } e;
    memset(&e, 0, sizeof e);
    if (ctx->rank == root) {
        e.status = (int)st;
        const char *m = hl_last_error();
        if (strncmp(m, "rank ", 5) == 0) { /* already an agreed message: keep it */
            snprintf(e.msg, sizeof e.msg, "%s", m);
            e.status = -e.status;
        } else {
            snprintf(e.msg, sizeof e.msg, "%s", m);
        }
    }
    if (MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, root, ctx->comm) != MPI_SUCCESS)
        return hli_error(HL_EINTERNAL, "mpi: MPI_Bcast failed");
    if (e.status < 0)
        return hli_error((hl_status)-e.status, "%s", e.msg);
    return hli_error((hl_status)e.status, "rank %d: %s", root, e.msg);
}

int hlm_owner(const hlm_ctx *ctx, const int64_t *off, int64_t id)
{
    /* the last r with off[r] <= id (empty ranks are skipped: off[r] == off[r+1]) */
    int lo = 0, hi = ctx->P - 1;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (off[mid] <= id)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

hl_status hlm_offsets(hlm_ctx *ctx, hl_status st, int64_t n_local, int64_t *off)
{
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        return st;
    int64_t *all = hli_alloc((size_t)ctx->P, sizeof *all);
    if ((st = hlm_agree(ctx, all == NULL ? hl_last_error_status() : HL_OK)) != HL_OK) {
        free(all);
        return st;
    }
    MPI_Allgather(&n_local, 1, MPI_INT64_T, all, 1, MPI_INT64_T, ctx->comm);
    off[0] = 0;
    for (int r = 0; r < ctx->P; r++)
        off[r + 1] = off[r] + all[r];
    free(all);
    return HL_OK;
}

/* Byte counts and displacements of an exchange as MPI ints. */
static hl_status int_counts(const hlm_ctx *ctx, const int64_t *counts, size_t w, int *c, int *dis)
{
    int64_t total = 0;
    for (int r = 0; r < ctx->P; r++) {
        const int64_t b = counts[r] * (int64_t)w;
        if (counts[r] < 0 || b > INT_MAX || total > INT_MAX - b)
            return hli_error(HL_ERANGE, "mpi: an exchange of more than %d bytes per rank", INT_MAX);
        c[r] = (int)b;
        dis[r] = (int)total;
        total += b;
    }
    return HL_OK;
}

hl_status hlm_alltoallv(hlm_ctx *ctx, hl_status st, const void *send, const int64_t *counts, size_t w,
                        void **recv, int64_t *rcounts, int64_t *nrecv)
{
    *recv = NULL;
    *nrecv = 0;
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        return st;
    const int P = ctx->P;
    MPI_Alltoall(counts, 1, MPI_INT64_T, rcounts, 1, MPI_INT64_T, ctx->comm);
    int *sc = hli_alloc((size_t)P * 4, sizeof(int));
    if ((st = hlm_agree(ctx, sc == NULL ? hl_last_error_status() : HL_OK)) != HL_OK) {
        free(sc);
        return st;
    }
    int *sd = sc + P, *rc = sc + 2 * P, *rd = sc + 3 * P;
    void *rb = NULL;
    int64_t nr = 0;
    if ((st = int_counts(ctx, counts, w, sc, sd)) == HL_OK && (st = int_counts(ctx, rcounts, w, rc, rd)) == HL_OK) {
        for (int r = 0; r < P; r++)
            nr += rcounts[r];
        rb = hli_alloc((size_t)(nr > 0 ? nr : 1), w);
        if (rb == NULL)
            st = hl_last_error_status();
    }
    if ((st = hlm_agree(ctx, st)) != HL_OK) {
        free(sc);
        free(rb);
        return st;
    }
    for (int r = 0; r < P; r++)
        if (r != ctx->rank)
            ctx->stats.bytes_sent[ctx->phase] += sc[r];
    MPI_Alltoallv(send, sc, sd, MPI_BYTE, rb, rc, rd, MPI_BYTE, ctx->comm);
    free(sc);
    *recv = rb;
    *nrecv = nr;
    return HL_OK;
}

hl_status hlm_fetch(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *ids, int64_t nids, size_t w,
                    hlm_fill_fn fill, void *user, void *out)
{
    const int P = ctx->P;
    int64_t *counts = hli_calloc((size_t)P * 2, sizeof *counts);
    if (counts == NULL && st == HL_OK)
        st = hl_last_error_status();
    int64_t *rcounts = counts != NULL ? counts + P : NULL;
    for (int64_t t = 0; st == HL_OK && t < nids; t++) {
        if (t > 0 && ids[t] < ids[t - 1])
            st = hli_error(HL_EINTERNAL, "mpi fetch: ids not sorted");
        else if (ids[t] < 0 || ids[t] >= off[P])
            st = hli_error(HL_EINTERNAL, "mpi fetch: id %lld outside [0, %lld)", (long long)ids[t],
                           (long long)off[P]);
        else
            counts[hlm_owner(ctx, off, ids[t])]++;
    }
    int64_t *req = NULL, nreq = 0;
    int64_t dummy[1] = {0};
    if ((st = hlm_alltoallv(ctx, st, ids, counts != NULL ? counts : dummy, sizeof(int64_t), (void **)&req,
                            rcounts, &nreq)) != HL_OK) {
        free(counts);
        return st;
    }
    unsigned char *resp = hli_alloc((size_t)(nreq > 0 ? nreq : 1), w);
    if (resp == NULL)
        st = hl_last_error_status();
    for (int64_t t = 0; resp != NULL && t < nreq; t++) {
        const int64_t local = req[t] - off[ctx->rank];
        if (local < 0 || local >= off[ctx->rank + 1] - off[ctx->rank]) {
            st = hli_error(HL_EINTERNAL, "mpi fetch: id %lld is not this rank's", (long long)req[t]);
            break;
        }
        fill(user, local, resp + (size_t)t * w);
    }
    free(req);
    void *back = NULL;
    int64_t nback = 0;
    int64_t *c2 = hli_alloc((size_t)P, sizeof *c2);
    if (c2 == NULL && st == HL_OK)
        st = hl_last_error_status();
    st = hlm_alltoallv(ctx, st, resp, rcounts, w, &back, c2 != NULL ? c2 : dummy, &nback);
    free(resp);
    free(counts);
    free(c2);
    if (st != HL_OK)
        return st;
    if (nback != nids) {
        free(back);
        return hli_error(HL_EINTERNAL, "mpi fetch: %lld answers for %lld ids", (long long)nback, (long long)nids);
    }
    if (nids > 0)
        memcpy(out, back, (size_t)nids * w);
    free(back);
    return HL_OK;
}

hl_status hlm_unique(const int64_t *ids, int64_t n, int64_t **out, int64_t *m)
{
    *out = hli_alloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    *m = 0;
    if (*out == NULL)
        return hl_last_error_status();
    int64_t c = 0;
    for (int64_t t = 0; t < n; t++)
        if (ids[t] >= 0)
            (*out)[c++] = ids[t];
    qsort(*out, (size_t)c, sizeof(int64_t), hli_cmp_i64);
    int64_t u = 0;
    for (int64_t t = 0; t < c; t++)
        if (u == 0 || (*out)[u - 1] != (*out)[t])
            (*out)[u++] = (*out)[t];
    *m = u;
    return HL_OK;
}

int64_t hlm_find(const int64_t *a, int64_t n, int64_t id)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == id ? lo : -1;
}

hl_status hlm_send_to_owners(hlm_ctx *ctx, hl_status st, const int64_t *off, const void *items, int64_t n, size_t w,
                             void **recv, int64_t *nrecv)
{
    const int P = ctx->P;
    int64_t *counts = hli_calloc((size_t)P * 3, sizeof *counts);
    unsigned char *sorted = hli_alloc((size_t)(n > 0 ? n : 1), w);
    int64_t dummy[1] = {0};
    if ((counts == NULL || sorted == NULL) && st == HL_OK)
        st = hl_last_error_status();
    if (st == HL_OK) {
        int64_t *pos = counts + 2 * P;
        const unsigned char *it = items;
        for (int64_t t = 0; t < n; t++) {
            int64_t key;
            memcpy(&key, it + (size_t)t * w, sizeof key);
            counts[hlm_owner(ctx, off, key)]++;
        }
        for (int r = 1; r < P; r++)
            pos[r] = pos[r - 1] + counts[r - 1];
        for (int64_t t = 0; t < n; t++) {
            int64_t key;
            memcpy(&key, it + (size_t)t * w, sizeof key);
            memcpy(sorted + (size_t)pos[hlm_owner(ctx, off, key)]++ * w, it + (size_t)t * w, w);
        }
    }
    st = hlm_alltoallv(ctx, st, sorted, counts != NULL ? counts : dummy, w, recv,
                       counts != NULL ? counts + P : dummy, nrecv);
    free(counts);
    free(sorted);
    return st;
}
