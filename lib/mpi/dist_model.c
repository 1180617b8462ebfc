/* Model inference across ranks.  A GraphConv layer reads a node's in-edges,
 * so the L-layer encoder's output at a node depends on its L-hop
 * in-neighbourhood, and an edge j -> i's score on h_i, h_j and the kNN lists
 * of i and j (relational edge features; MEAN_COS reads the features of their
 * neighbours).  Each rank therefore fetches the level's graph around its
 * own nodes: the kNN lists of the nodes up to L hops and the features up
 * to L + 1 hops, builds that subgraph (ids renumbered in
 * ascending global order; the outermost nodes keep no in-edges, which only
 * changes outputs this rank discards), runs hl_model_predict on it and keeps
 * the scores of its own nodes' in-edges and their densities.  Every value
 * that reaches an output is computed from the same rows in the same order as
 * in one process; lib/mpi/README.md notes the BLAS caveat.
 *
 * The cluster features of the next level (hlm_cluster_means) are the mean
 * of the members' features summed in global point order, as
 * hli_level_next sums them: every point's row goes to the owner of its node. */
#include "graph/graph_internal.h"
#include "model/model_internal.h"
#include "mpi/mpi_dist.h"

#include <stdlib.h>
#include <string.h>

typedef struct row_src {
    const hlm_level *lv;
    size_t w;
} row_src;

/* A node's kNN list and similarities, packed: k ids then k floats. */
static void fill_row(void *user, int64_t local, void *out)
{
    const hlm_level *lv = user;
    const int64_t k = lv->k;
    memcpy(out, lv->knn + local * k, (size_t)k * sizeof(int64_t));
    memcpy((unsigned char *)out + (size_t)k * sizeof(int64_t), lv->ksim + local * k, (size_t)k * sizeof(float));
}

/* A node's features (x, then c when the level has cluster features). */
static void fill_feat(void *user, int64_t local, void *out)
{
    const hlm_level *lv = user;
    const int64_t d = lv->d;
    memcpy(out, lv->x + local * d, (size_t)d * sizeof(float));
    if (lv->c != NULL)
        memcpy((float *)out + d, lv->c + local * d, (size_t)d * sizeof(float));
}

/* Sorted union of two sorted unique arrays into *out (malloc'ed). */
static hl_status set_union(const int64_t *a, int64_t na, const int64_t *b, int64_t nb, int64_t **out, int64_t *n)
{
    int64_t *u = hli_alloc((size_t)(na + nb > 0 ? na + nb : 1), sizeof *u);
    if (u == NULL)
        return hl_last_error_status();
    int64_t i = 0, j = 0, m = 0;
    while (i < na || j < nb) {
        const int64_t v = j >= nb || (i < na && a[i] < b[j]) ? a[i] : b[j];
        if (i < na && a[i] == v)
            i++;
        if (j < nb && b[j] == v)
            j++;
        u[m++] = v;
    }
    *out = u;
    *n = m;
    return HL_OK;
}

hl_status hlm_model_scores(hlm_run *r, hlm_level *lv, hl_status st, float *sc, float *dens)
{
    hlm_ctx *ctx = r->ctx;
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    if (st == HL_OK)
        st = hl_model_get_config(r->model, &cfg);
    const int64_t k = lv->k, d = lv->d, n = lv->n_local, base = lv->off[ctx->rank];
    const int hops = cfg.num_conv + 1; /* rows of hops 0..L, features of 0..L+1 */
    const size_t rw = (size_t)k * (sizeof(int64_t) + sizeof(float));
    const size_t fw = (size_t)d * sizeof(float) * (lv->c != NULL ? 2 : 1);
    /* S: the node set so far (sorted); R: its nodes whose rows are known */
    int64_t *S = NULL, nS = 0, *front = NULL, nf = 0;
    unsigned char *rows = NULL; /* rows of S's first hops_rows hops, indexed like S */
    int64_t *rowpos = NULL;     /* per node of S: its row in rows, or -1 */
    int64_t nrows = 0;
    float *feat = NULL, *ep = NULL, *dn = NULL;
    hl_graph *g = NULL;
    if (st == HL_OK && (S = hli_alloc((size_t)(n > 0 ? n : 1), sizeof *S)) == NULL)
        st = hl_last_error_status();
    if (st == HL_OK) {
        for (int64_t i = 0; i < n; i++)
            S[i] = base + i;
        nS = n;
        front = hli_alloc((size_t)(n > 0 ? n : 1), sizeof *front);
        if (front == NULL)
            st = hl_last_error_status();
        else {
            memcpy(front, S, (size_t)n * sizeof *S);
            nf = n;
        }
    }
    /* hop by hop: the frontier's rows, then the new ids they name */
    for (int h = 0; h < hops; h++) {
        unsigned char *fr = NULL;
        if (st == HL_OK && (fr = hli_alloc((size_t)(nf > 0 ? nf : 1), rw)) == NULL)
            st = hl_last_error_status();
        st = hlm_fetch(ctx, st, lv->off, front, nf, rw, fill_row, lv, fr);
        int64_t *named = NULL, nn = 0, *fresh = NULL, nfresh = 0, *S2 = NULL, nS2 = 0;
        if (st == HL_OK) {
            unsigned char *nr = hli_realloc(rows, (size_t)(nrows + nf > 0 ? nrows + nf : 1), rw);
            int64_t *ids = hli_alloc((size_t)(nf > 0 ? nf : 1), (size_t)k * sizeof(int64_t));
            if (nr == NULL || ids == NULL) {
                st = hl_last_error_status();
                free(ids);
            } else {
                rows = nr;
                memcpy(rows + (size_t)nrows * rw, fr, (size_t)nf * rw);
                nrows += nf;
                for (int64_t t = 0; t < nf; t++)
                    memcpy(ids + t * k, fr + (size_t)t * rw, (size_t)k * sizeof(int64_t));
                st = hlm_unique(ids, nf * k, &named, &nn);
                free(ids);
            }
        }
        free(fr);
        /* the named ids not in S yet: the next frontier */
        if (st == HL_OK && (fresh = hli_alloc((size_t)(nn > 0 ? nn : 1), sizeof *fresh)) == NULL)
            st = hl_last_error_status();
        for (int64_t t = 0; st == HL_OK && t < nn; t++)
            if (hlm_find(S, nS, named[t]) < 0)
                fresh[nfresh++] = named[t];
        if (st == HL_OK && (st = set_union(S, nS, fresh, nfresh, &S2, &nS2)) == HL_OK) {
            free(S);
            S = S2;
            nS = nS2;
        }
        free(named);
        free(front);
        front = fresh;
        nf = nfresh;
    }
    free(front);
    /* the subgraph: rows known for the first nrows fetched ids (in fetch order) */
    int64_t *rowid = NULL;
    if (st == HL_OK) {
        rowpos = hli_alloc((size_t)(nS > 0 ? nS : 1), sizeof *rowpos);
        rowid = hli_alloc((size_t)(nrows > 0 ? nrows : 1), sizeof *rowid);
        if (rowpos == NULL || rowid == NULL)
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        for (int64_t t = 0; t < nS; t++)
            rowpos[t] = -1;
        /* a row begins with the node itself (self first in every kNN list) */
        for (int64_t t = 0; t < nrows; t++) {
            int64_t self;
            memcpy(&self, rows + (size_t)t * rw, sizeof self);
            rowid[t] = self;
            rowpos[hlm_find(S, nS, self)] = t;
        }
    }
    int64_t *kn = NULL;
    float *ks = NULL;
    if (st == HL_OK) {
        kn = hli_alloc((size_t)(nS > 0 ? nS : 1), (size_t)k * sizeof *kn);
        ks = hli_alloc((size_t)(nS > 0 ? nS : 1), (size_t)k * sizeof *ks);
        feat = hli_alloc((size_t)(nS > 0 ? nS : 1), fw);
        if (kn == NULL || ks == NULL || feat == NULL)
            st = hl_last_error_status();
    }
    for (int64_t v = 0; st == HL_OK && v < nS; v++) {
        int64_t *row = kn + v * k;
        float *rs = ks + v * k;
        if (rowpos[v] < 0) { /* outermost: no in-edges */
            row[0] = v;
            rs[0] = 1.0f;
            for (int64_t t = 1; t < k; t++) {
                row[t] = -1;
                rs[t] = 0.0f;
            }
            continue;
        }
        const unsigned char *src = rows + (size_t)rowpos[v] * rw;
        memcpy(row, src, (size_t)k * sizeof(int64_t));
        memcpy(rs, src + (size_t)k * sizeof(int64_t), (size_t)k * sizeof(float));
        for (int64_t t = 0; t < k; t++)
            if (row[t] >= 0)
                row[t] = hlm_find(S, nS, row[t]); /* every listed id is in S */
    }
    free(rows);
    free(rowpos);
    free(rowid);
    rows = NULL;
    /* the features of every node of S */
    st = hlm_fetch(ctx, st, lv->off, S, nS, fw, fill_feat, lv, feat);
    if (st == HL_OK && nS > 0) {
        st = hli_graph_from_knn(kn, ks, nS, k, &g);
        kn = NULL;
        ks = NULL;
    }
    free(kn);
    free(ks);
    float *xs = NULL, *cs = NULL;
    if (st == HL_OK && nS > 0) {
        ep = hli_alloc((size_t)(g->num_edges > 0 ? g->num_edges : 1), sizeof *ep);
        dn = hli_alloc((size_t)(nS > 0 ? nS : 1), sizeof *dn);
        xs = hli_alloc((size_t)(nS > 0 ? nS : 1), (size_t)d * sizeof *xs);
        if (lv->c != NULL)
            cs = hli_alloc((size_t)(nS > 0 ? nS : 1), (size_t)d * sizeof *cs);
        if (ep == NULL || dn == NULL || xs == NULL || (lv->c != NULL && cs == NULL))
            st = hl_last_error_status();
    }
    if (st == HL_OK && nS > 0) {
        const int64_t stride = lv->c != NULL ? 2 * d : d;
        for (int64_t v = 0; v < nS; v++) {
            memcpy(xs + v * d, feat + v * stride, (size_t)d * sizeof(float));
            if (cs != NULL)
                memcpy(cs + v * d, feat + v * stride + d, (size_t)d * sizeof(float));
        }
        /* level 0: c = x (the model folds its first layer, as hl_cluster) */
        st = hl_model_predict(r->model, g, xs, cs != NULL ? cs : xs, nS, d, r->full.num_threads, ep, dn);
    }
    if (st == HL_OK)
        for (int64_t i = 0; i < n; i++) {
            const int64_t v = hlm_find(S, nS, base + i);
            const int64_t m = g->offsets[v + 1] - g->offsets[v];
            if (m != lv->eoff[i + 1] - lv->eoff[i]) {
                st = hli_error(HL_EINTERNAL, "mpi model: node %lld has %lld in-edges in the subgraph, %lld here",
                               (long long)(base + i), (long long)m, (long long)(lv->eoff[i + 1] - lv->eoff[i]));
                break;
            }
            memcpy(sc + lv->eoff[i], ep + g->offsets[v], (size_t)m * sizeof(float));
            dens[i] = dn[v];
        }
    if (st == HL_OK && ctx->rank == 0)
        hli_log(HL_LOG_INFO, "mpi cluster: model on a subgraph of %lld nodes around %lld local ones", (long long)nS,
                (long long)n);
    hl_graph_free(g);
    free(S);
    free(feat);
    free(ep);
    free(dn);
    free(xs);
    free(cs);
    return hlm_agree(ctx, st);
}

hl_status hlm_cluster_means(hlm_run *r, hlm_level *next, hl_status st)
{
    hlm_ctx *ctx = r->ctx;
    const int64_t d = next->d, np = r->np_local, nl = next->n_local, base = next->off[ctx->rank];
    const size_t w = sizeof(int64_t) + (size_t)d * sizeof(float);
    unsigned char *items = NULL, *rb = NULL;
    int64_t nr = 0;
    double *acc = NULL;
    int64_t *cnt = NULL;
    if (st == HL_OK && (items = hli_alloc((size_t)(np > 0 ? np : 1), w)) == NULL)
        st = hl_last_error_status();
    for (int64_t q = 0; st == HL_OK && q < np; q++) {
        memcpy(items + (size_t)q * w, next->nop + q, sizeof(int64_t));
        memcpy(items + (size_t)q * w + sizeof(int64_t), r->x0 + q * d, (size_t)d * sizeof(float));
    }
    st = hlm_send_to_owners(ctx, st, next->off, items, np, w, (void **)&rb, &nr);
    free(items);
    if (st == HL_OK) {
        acc = hli_calloc((size_t)(nl > 0 ? nl : 1), (size_t)d * sizeof *acc);
        cnt = hli_calloc((size_t)(nl > 0 ? nl : 1), sizeof *cnt);
        next->c = hli_alloc((size_t)(nl > 0 ? nl : 1), (size_t)d * sizeof(float));
        if (acc == NULL || cnt == NULL || next->c == NULL)
            st = hl_last_error_status();
    }
    /* arrival order = rank order, each rank's points ascending: the global point order */
    for (int64_t t = 0; st == HL_OK && t < nr; t++) {
        int64_t v;
        memcpy(&v, rb + (size_t)t * w, sizeof v);
        const unsigned char *xq = rb + (size_t)t * w + sizeof(int64_t);
        double *a = acc + (v - base) * d;
        for (int64_t c = 0; c < d; c++) {
            float f;
            memcpy(&f, xq + (size_t)c * sizeof f, sizeof f);
            a[c] += f;
        }
        cnt[v - base]++;
    }
    for (int64_t v = 0; st == HL_OK && v < nl; v++) {
        const double inv = 1.0 / (double)cnt[v];
        for (int64_t c = 0; c < d; c++)
            next->c[v * d + c] = (float)(acc[v * d + c] * inv);
    }
    free(rb);
    free(acc);
    free(cnt);
    return hlm_agree(ctx, st);
}
