/* The linkage merge across ranks (lib/cluster/merge.c's rule): the
 * shared-neighbour scores of the level-0 edges between two final clusters,
 * both directions summed, over sqrt(|A| |B|); clusters joined when the link
 * exceeds the threshold.  Each rank sums the in-edges of its own points per
 * (cluster, source cluster) in point order, the partial sums go to the owner
 * of the pair's smaller cluster and are added in rank order (the same sums
 * as one process's: the terms are multiples of 2^-(23 + ceil(log2 k)), so
 * the double sums are exact, lib/mpi/README.md); the joined
 * clusters are the connected components of the strong links
 * (hlm_components), named by their smallest cluster id as hli_merge_apply
 * names them. */
#include "mpi/mpi_dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct dlink {
    int64_t a, b, seq;
    double w;
} dlink;

static int cmp_dlink(const void *pa, const void *pb)
{
    const dlink *x = pa, *y = pb;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void fill_i64(void *user, int64_t local, void *out)
{
    memcpy(out, (const int64_t *)user + local, sizeof(int64_t));
}

/* Sort @p n links by (a, b, seq) and sum the runs of equal (a, b) in seq
 * order; returns the number of sums. */
static int64_t sum_runs(dlink *l, int64_t n)
{
    qsort(l, (size_t)n, sizeof *l, cmp_dlink);
    int64_t m = 0;
    for (int64_t t = 0; t < n; t++) {
        if (m > 0 && l[m - 1].a == l[t].a && l[m - 1].b == l[t].b)
            l[m - 1].w += l[t].w;
        else
            l[m++] = l[t];
    }
    return m;
}

hl_status hlm_linkage_merge(hlm_run *r, hl_status st, const hlm_level *top, int64_t *group)
{
    hlm_ctx *ctx = r->ctx;
    const int64_t np = r->np_local, ne = r->ne0, tbase = top->off[ctx->rank];
    const int64_t tn = top->off[ctx->rank + 1] - tbase;
    int64_t *u = NULL, m = 0, *lab = NULL, *size = NULL, *ea = NULL, *eb = NULL, *comp = NULL, *vals = NULL;
    dlink *dl = NULL, *rl = NULL;
    int64_t nd = 0, nr = 0, ns = 0;
    int64_t *sp = NULL, *rs = NULL, nrs = 0;
    /* 1. the final cluster of every edge source */
    if (st == HL_OK)
        st = hlm_unique(r->e0src, ne, &u, &m);
    if (st == HL_OK && (lab = hli_alloc((size_t)(m > 0 ? m : 1), sizeof *lab)) == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(ctx, st, r->poff, u, m, sizeof(int64_t), fill_i64, top->nop, lab);
    /* 2. directed sums per (cluster of the point, cluster of the source) */
    if (st == HL_OK && (dl = hli_alloc((size_t)(ne > 0 ? ne : 1), sizeof *dl)) == NULL)
        st = hl_last_error_status();
    for (int64_t q = 0; st == HL_OK && q < np; q++)
        for (int64_t e = r->e0off[q]; e < r->e0off[q + 1]; e++) {
            const int64_t a = top->nop[q], b = lab[hlm_find(u, m, r->e0src[e])];
            if (b == a)
                continue;
            dl[nd] = (dlink){a, b, nd, (double)r->e0snn[e]};
            nd++;
        }
    free(u);
    free(lab);
    u = lab = NULL;
    if (st == HL_OK) {
        nd = sum_runs(dl, nd);
        for (int64_t t = 0; t < nd; t++) { /* keyed by the smaller cluster; seq = direction */
            const int64_t a = dl[t].a, b = dl[t].b;
            dl[t] = (dlink){a < b ? a : b, a < b ? b : a, a < b ? 0 : 1, dl[t].w};
        }
    }
    st = hlm_send_to_owners(ctx, st, top->off, dl, nd, sizeof *dl, (void **)&rl, &nr);
    free(dl);
    dl = NULL;
    /* 3. per pair: each direction's partial sums in rank order, then both directions */
    if (st == HL_OK) {
        for (int64_t t = 0; t < nr; t++) { /* each direction apart, in arrival (rank) order */
            rl[t].b = rl[t].b * 2 + rl[t].seq;
            rl[t].seq = t;
        }
        nr = sum_runs(rl, nr);
        for (int64_t t = 0; t < nr; t++)
            rl[t].b /= 2;
    }
    /* 4. cluster sizes at their owners */
    if (st == HL_OK)
        st = hlm_unique(top->nop, np, &u, &m);
    if (st == HL_OK) {
        sp = hli_calloc((size_t)(m > 0 ? m : 1), 2 * sizeof *sp);
        size = hli_calloc((size_t)(tn > 0 ? tn : 1), sizeof *size);
        if (sp == NULL || size == NULL)
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        for (int64_t t = 0; t < m; t++)
            sp[2 * t] = u[t];
        for (int64_t q = 0; q < np; q++)
            sp[2 * hlm_find(u, m, top->nop[q]) + 1]++;
    }
    free(u);
    u = NULL;
    st = hlm_send_to_owners(ctx, st, top->off, sp, m, 2 * sizeof(int64_t), (void **)&rs, &nrs);
    for (int64_t t = 0; st == HL_OK && t < nrs; t++)
        size[rs[2 * t] - tbase] += rs[2 * t + 1];
    free(sp);
    free(rs);
    /* 5. the pairs' total links and the strong ones */
    int64_t *his = NULL;
    if (st == HL_OK) {
        his = hli_alloc((size_t)(nr > 0 ? nr : 1), sizeof *his);
        if (his == NULL)
            st = hl_last_error_status();
        int64_t p = 0;
        for (int64_t t = 0; st == HL_OK && t < nr; t++) { /* runs of (a, b, dir): add the two directions */
            if (p > 0 && rl[p - 1].a == rl[t].a && rl[p - 1].b == rl[t].b)
                rl[p - 1].w += rl[t].w;
            else
                rl[p++] = rl[t];
        }
        nr = p;
        for (int64_t t = 0; st == HL_OK && t < nr; t++)
            his[t] = rl[t].b;
    }
    if (st == HL_OK)
        st = hlm_unique(his, nr, &u, &m);
    if (st == HL_OK && (vals = hli_alloc((size_t)(m > 0 ? m : 1), sizeof *vals)) == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(ctx, st, top->off, u, m, sizeof(int64_t), fill_i64, size, vals);
    if (st == HL_OK) {
        ea = hli_alloc((size_t)(nr > 0 ? nr : 1), sizeof *ea);
        eb = hli_alloc((size_t)(nr > 0 ? nr : 1), sizeof *eb);
        comp = hli_alloc((size_t)(tn > 0 ? tn : 1), sizeof *comp);
        if (ea == NULL || eb == NULL || comp == NULL)
            st = hl_last_error_status();
    }
    for (int64_t t = 0; st == HL_OK && t < nr; t++) {
        const double sa = (double)size[rl[t].a - tbase], sb = (double)vals[hlm_find(u, m, rl[t].b)];
        const double w = rl[t].w / sqrt(sa * sb);
        if (w > (double)r->plan.merge) {
            ea[ns] = rl[t].a;
            eb[ns++] = rl[t].b;
        }
    }
    free(u);
    free(vals);
    free(his);
    free(rl);
    u = vals = NULL;
    int64_t nstrong = ns, all_strong = 0;
    /* 6. components of the strong links; every point takes its cluster's */
    st = hlm_components(ctx, st, top->off, ea, eb, ns, comp != NULL ? comp : &nstrong);
    if (st == HL_OK)
        MPI_Allreduce(&nstrong, &all_strong, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (st == HL_OK)
        st = hlm_unique(top->nop, np, &u, &m);
    if (st == HL_OK && (vals = hli_alloc((size_t)(m > 0 ? m : 1), sizeof *vals)) == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(ctx, st, top->off, u, m, sizeof(int64_t), fill_i64, comp, vals);
    if (st == HL_OK) {
        for (int64_t q = 0; q < np; q++)
            group[q] = vals[hlm_find(u, m, top->nop[q])];
        if (ctx->rank == 0)
            hli_log(HL_LOG_INFO, "mpi cluster: linkage merge at %g: %lld clusters, %lld links above it",
                    (double)r->plan.merge, (long long)top->off[ctx->P], (long long)all_strong);
    }
    free(u);
    free(vals);
    free(size);
    free(ea);
    free(eb);
    free(comp);
    return st;
}
