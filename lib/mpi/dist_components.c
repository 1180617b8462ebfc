/* Connected components across ranks: the roots of the decode's forest by
 * pointer jumping, connected components of an edge list by min-label
 * propagation with pointer jumping, and a per-group minimum sent to and read
 * back from the group's owner. */
#include "mpi/mpi_internal.h"

#include <stdlib.h>
#include <string.h>

/* Fill callback: the int64 entry of a local id in an array. */
static void fill_i64(void *user, int64_t local, void *out)
{
    memcpy(out, (const int64_t *)user + local, sizeof(int64_t));
}

static hl_status any_changed(hlm_ctx *ctx, hl_status st, int changed, int *any)
{
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        return st;
    MPI_Allreduce(&changed, any, 1, MPI_INT, MPI_LOR, ctx->comm);
    return HL_OK;
}

/* One round of v[i] = v[v[i]] over the local nodes not done yet; a node
 * whose pointer points to itself (a root) is done: it never moves again.
 * *changed if any moved. */
static hl_status jump_once(hlm_ctx *ctx, hl_status st, const int64_t *off, int64_t *v, unsigned char *done,
                           int64_t n_local, int *changed)
{
    int64_t *u = NULL, m = 0, *act = NULL, na = 0;
    if (st == HL_OK && (act = hli_alloc((size_t)(n_local > 0 ? n_local : 1), sizeof *act)) == NULL)
        st = hl_last_error_status();
    for (int64_t i = 0; st == HL_OK && i < n_local; i++)
        if (!done[i])
            act[na++] = v[i];
    if (st == HL_OK)
        st = hlm_unique(act, na, &u, &m);
    free(act);
    int64_t *vv = st == HL_OK ? hli_alloc((size_t)(m > 0 ? m : 1), sizeof *vv) : NULL;
    if (st == HL_OK && vv == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(ctx, st, off, u, m, sizeof(int64_t), fill_i64, v, vv);
    *changed = 0;
    if (st == HL_OK)
        for (int64_t i = 0; i < n_local; i++) {
            if (done[i])
                continue;
            const int64_t w = vv[hlm_find(u, m, v[i])];
            *changed |= w != v[i];
            done[i] = w == v[i];
            v[i] = w;
        }
    free(u);
    free(vv);
    return st;
}

static hl_status jump_all(hlm_ctx *ctx, hl_status st, const int64_t *off, int64_t *v, int64_t n_local)
{
    unsigned char *done = hli_calloc((size_t)(n_local > 0 ? n_local : 1), 1);
    if (done == NULL && st == HL_OK)
        st = hl_last_error_status();
    for (int round = 0;; round++) {
        int changed = 0, any = 0;
        st = jump_once(ctx, st, off, v, done, n_local, &changed);
        if ((st = any_changed(ctx, st, changed, &any)) != HL_OK || !any)
            break;
        if (round > 128) {
            st = hlm_agree(ctx, hli_error(HL_EINTERNAL, "mpi components: pointer jumping did not converge"));
            break;
        }
    }
    free(done);
    return st;
}

hl_status hlm_forest_roots(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *parent, int64_t n_local,
                           int64_t *root)
{
    const int64_t base = off[ctx->rank];
    for (int64_t i = 0; st == HL_OK && i < n_local; i++)
        root[i] = parent[i] >= 0 ? parent[i] : base + i;
    return jump_all(ctx, st, off, root, n_local);
}

/* Send (id, value) pairs to the owners of the ids; *recv gets the pairs sent here. */
static hl_status send_pairs(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *pairs, int64_t np,
                            int64_t **recv, int64_t *nrecv)
{
    const int P = ctx->P;
    int64_t *counts = hli_calloc((size_t)P * 3, sizeof *counts);
    int64_t *sorted = hli_alloc((size_t)(np > 0 ? np : 1), 2 * sizeof(int64_t));
    int64_t dummy[1] = {0};
    if ((counts == NULL || sorted == NULL) && st == HL_OK)
        st = hl_last_error_status();
    if (st == HL_OK) {
        int64_t *pos = counts + 2 * P;
        for (int64_t t = 0; t < np; t++)
            counts[hlm_owner(ctx, off, pairs[2 * t])]++;
        for (int r = 1; r < P; r++)
            pos[r] = pos[r - 1] + counts[r - 1];
        for (int64_t t = 0; t < np; t++) {
            const int64_t p = pos[hlm_owner(ctx, off, pairs[2 * t])]++;
            sorted[2 * p] = pairs[2 * t];
            sorted[2 * p + 1] = pairs[2 * t + 1];
        }
    }
    void *rb = NULL;
    int64_t nr = 0;
    st = hlm_alltoallv(ctx, st, sorted, counts != NULL ? counts : dummy, 2 * sizeof(int64_t), &rb,
                       counts != NULL ? counts + P : dummy, &nr);
    free(counts);
    free(sorted);
    *recv = rb;
    *nrecv = nr;
    return st;
}

hl_status hlm_components(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *ea, const int64_t *eb,
                         int64_t ne, int64_t *comp)
{
    const int64_t base = off[ctx->rank], n_local = off[ctx->rank + 1] - base;
    for (int64_t i = 0; st == HL_OK && i < n_local; i++)
        comp[i] = base + i;
    int64_t *ends = hli_alloc((size_t)(ne > 0 ? 2 * ne : 1), sizeof *ends);
    int64_t *prop = hli_alloc((size_t)(ne > 0 ? 2 * ne : 1), 2 * sizeof *prop);
    if ((ends == NULL || prop == NULL) && st == HL_OK)
        st = hl_last_error_status();
    for (int round = 0;; round++) {
        /* the endpoints' current labels */
        int64_t *u = NULL, m = 0, *lab = NULL;
        if (st == HL_OK) {
            memcpy(ends, ea, (size_t)ne * sizeof *ends);
            memcpy(ends + ne, eb, (size_t)ne * sizeof *ends);
            st = hlm_unique(ends, 2 * ne, &u, &m);
        }
        if (st == HL_OK && (lab = hli_alloc((size_t)(m > 0 ? m : 1), sizeof *lab)) == NULL)
            st = hl_last_error_status();
        st = hlm_fetch(ctx, st, off, u, m, sizeof(int64_t), fill_i64, comp, lab);
        /* proposals: both endpoints take the smaller label */
        int64_t np = 0;
        for (int64_t t = 0; st == HL_OK && t < ne; t++) {
            const int64_t la = lab[hlm_find(u, m, ea[t])], lb = lab[hlm_find(u, m, eb[t])];
            if (la < lb) {
                prop[2 * np] = eb[t];
                prop[2 * np++ + 1] = la;
            } else if (lb < la) {
                prop[2 * np] = ea[t];
                prop[2 * np++ + 1] = lb;
            }
        }
        free(u);
        free(lab);
        int64_t *rp = NULL, nr = 0;
        st = send_pairs(ctx, st, off, prop, np, &rp, &nr);
        int changed = 0, any = 0;
        for (int64_t t = 0; st == HL_OK && t < nr; t++) {
            int64_t *c = comp + (rp[2 * t] - base);
            if (rp[2 * t + 1] < *c) {
                *c = rp[2 * t + 1];
                changed = 1;
            }
        }
        free(rp);
        st = jump_all(ctx, st, off, comp, n_local);
        if ((st = any_changed(ctx, st, changed, &any)) != HL_OK || !any)
            break;
        if (round > 10000) {
            st = hlm_agree(ctx, hli_error(HL_EINTERNAL, "mpi components: no convergence"));
            break;
        }
    }
    free(ends);
    free(prop);
    return st;
}

hl_status hlm_group_min_row(hlm_ctx *ctx, hl_status st, const int64_t *goff, const int64_t *g, int64_t n_local,
                            int64_t row_base, int64_t *out)
{
    const int64_t gbase = goff[ctx->rank], gn = goff[ctx->rank + 1] - gbase;
    int64_t *u = NULL, m = 0, *pairs = NULL, *table = NULL, *val = NULL;
    if (st == HL_OK)
        st = hlm_unique(g, n_local, &u, &m);
    if (st == HL_OK) {
        pairs = hli_alloc((size_t)(m > 0 ? m : 1), 2 * sizeof *pairs);
        table = hli_alloc((size_t)(gn > 0 ? gn : 1), sizeof *table);
        val = hli_alloc((size_t)(m > 0 ? m : 1), sizeof *val);
        if (pairs == NULL || table == NULL || val == NULL)
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        for (int64_t t = 0; t < m; t++) {
            pairs[2 * t] = u[t];
            pairs[2 * t + 1] = INT64_MAX;
        }
        for (int64_t q = 0; q < n_local; q++) { /* rows ascend: the first row seen is the smallest */
            int64_t *p = pairs + 2 * hlm_find(u, m, g[q]) + 1;
            if (*p == INT64_MAX)
                *p = row_base + q;
        }
        for (int64_t t = 0; t < gn; t++)
            table[t] = INT64_MAX;
    }
    int64_t *rp = NULL, nr = 0;
    st = send_pairs(ctx, st, goff, pairs, m, &rp, &nr);
    for (int64_t t = 0; st == HL_OK && t < nr; t++) {
        int64_t *c = table + (rp[2 * t] - gbase);
        if (rp[2 * t + 1] < *c)
            *c = rp[2 * t + 1];
    }
    free(rp);
    st = hlm_fetch(ctx, st, goff, u, m, sizeof(int64_t), fill_i64, table, val);
    if (st == HL_OK)
        for (int64_t q = 0; q < n_local; q++)
            out[q] = val[hlm_find(u, m, g[q])];
    free(u);
    free(pairs);
    free(table);
    free(val);
    return st;
}
