/* The clustering side of a collection update, after the neighbour lists of
 * some points changed (new points, reverse updates, lists refilled after a
 * removal).
 *
 * A point's density depends on its own list and its in-neighbours' lists
 * (their scores), and its decode parent on its in-edges' scores and its
 * in-neighbours' densities.  So with C the points whose lists changed:
 *   densities change only on D = C + rev(C)      (rev: who lists me)
 *   parents change only on   P = D + rev(D)
 * Both are recomputed there with the batch decode's own rule
 * (hli_decode_parent) and scores, which is why a collection's first batch
 * gives exactly hl_cluster's clusters.
 *
 * Clusters only ever join (ids stay stable): a new parent link between two
 * clusters merges the younger id into the older one; a new point joins the
 * cluster of its tree, or starts one with the other new points of its tree.
 * Then the linkage merge (cluster/merge.c's link: shared-neighbour scores of
 * the level-0 edges between two clusters over sqrt(|A| |B|)) runs over the
 * clusters the update touched, all links measured before any of them is
 * applied, as the batch merge measures them. */
#include "collection/collection_internal.h"
#include "graph/graph_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Per-thread scratch of the per-point work: one node's in-edges and two
 * sorted lists. */
typedef struct node_scratch {
    int64_t *src;
    float *sim;
    float *sc;
    int64_t *si, *sj;
} node_scratch;

size_t hli_coll_update_scratch(const hl_collection *c, int nt)
{
    return (size_t)nt * (size_t)c->k * (3 * sizeof(int64_t) + 2 * sizeof(float));
}

static node_scratch thread_scratch(const hl_collection *c, void *base, int t)
{
    const size_t k = (size_t)c->k;
    char *p = (char *)base + (size_t)t * k * (3 * sizeof(int64_t) + 2 * sizeof(float));
    node_scratch s;
    s.src = (int64_t *)(void *)p;
    s.si = s.src + k;
    s.sj = s.si + k;
    s.sim = (float *)(void *)(s.sj + k);
    s.sc = s.sim + k;
    return s;
}

static void sort_small(int64_t *a, int64_t k)
{
    for (int64_t t = 1; t < k; t++) { /* insertion sort: k is small */
        int64_t v = a[t], u = t - 1;
        while (u >= 0 && a[u] > v) {
            a[u + 1] = a[u];
            u--;
        }
        a[u + 1] = v;
    }
}

static void sorted_list(const hl_collection *c, int64_t i, int64_t *out)
{
    memcpy(out, c->knn + i * c->k, sizeof(int64_t) * (size_t)c->k);
    sort_small(out, c->k);
}

/* Point i's in-edges as the graph keeps them (graph/graph.c: present, not
 * itself, similarity >= 0), in list order. */
static int64_t in_edges(const hl_collection *c, int64_t i, int64_t *src, float *sim)
{
    int64_t m = 0;
    for (int64_t t = 0; t < c->k; t++) {
        const int64_t j = c->knn[i * c->k + t];
        const float s = c->knn_sim[i * c->k + t];
        if (j >= 0 && j != i && s >= 0.0f) {
            src[m] = j;
            sim[m++] = s;
        }
    }
    return m;
}

/* The shared-neighbour score of edge j -> i, i's list sorted in @p si. */
static float snn_score(const hl_collection *c, const int64_t *si, int64_t j, int64_t *sj)
{
    sorted_list(c, j, sj);
    return (float)hli_snn_count(si, sj, c->k) / (float)c->k;
}

/* The scores of i's m in-edges under the collection's score. */
static void in_scores(const hl_collection *c, int64_t i, int64_t m, node_scratch *s)
{
    if (c->plan.score == HL_SCORE_PROB) {
        memcpy(s->sc, c->prob_sc + c->prob_off[i], sizeof(float) * (size_t)m);
    } else if (c->plan.score == HL_SCORE_SIM) {
        memcpy(s->sc, s->sim, sizeof(float) * (size_t)m);
    } else {
        sorted_list(c, i, s->si);
        for (int64_t e = 0; e < m; e++)
            s->sc[e] = snn_score(c, s->si, s->src[e], s->sj);
    }
}

/* Mark @p ids and the points that list them with @p bit; append the newly
 * marked to out (count *m). */
static void mark_with_rev(hl_collection *c, const int64_t *ids, int64_t nids, unsigned char bit, int64_t *out,
                          int64_t *m)
{
    for (int64_t t = 0; t < nids; t++) {
        const int64_t i = ids[t];
        if (c->alive[i] && !(c->mark[i] & bit)) {
            c->mark[i] |= bit;
            out[(*m)++] = i;
        }
        const hli_idlist *r = &c->rev[i];
        for (int32_t u = 0; u < r->n; u++) {
            const int64_t v = r->id[u];
            if (c->alive[v] && !(c->mark[v] & bit)) {
                c->mark[v] |= bit;
                out[(*m)++] = v;
            }
        }
    }
}

static int64_t uf_find(int64_t *uf, int64_t v)
{
    while (uf[v] != v) {
        uf[v] = uf[uf[v]];
        v = uf[v];
    }
    return v;
}

/* Join the components of a and b; the smaller item is the root. */
static void uf_union(int64_t *uf, int64_t a, int64_t b)
{
    a = uf_find(uf, a);
    b = uf_find(uf, b);
    if (a < b)
        uf[b] = a;
    else if (b < a)
        uf[a] = b;
}

/* Cluster b (a live root) joins live root a < b: sizes, member lists. */
static void join_cluster(hl_collection *c, int64_t a, int64_t b)
{
    c->c_parent[b] = a;
    c->c_size[a] += c->c_size[b];
    c->c_size[b] = 0;
    /* splice two circular lists: swap the successors of one member of each */
    const int64_t ma = c->c_member[a], mb = c->c_member[b];
    const int64_t t = c->next_member[ma];
    c->next_member[ma] = c->next_member[mb];
    c->next_member[mb] = t;
    c->c_member[b] = -1;
}

/* Put point i (its cl set to live cluster a) into a's member list. */
static void add_member(hl_collection *c, int64_t a, int64_t i)
{
    c->c_size[a]++;
    if (c->c_member[a] < 0) {
        c->c_member[a] = i;
        c->next_member[i] = i;
    } else {
        const int64_t m = c->c_member[a];
        c->next_member[i] = c->next_member[m];
        c->next_member[m] = i;
    }
}

/* Merge every live cluster whose union-find root (over cluster ids) is
 * another cluster into that root; counts in @p counts (clusters issued
 * before the call: < nc_old; cnew[c]: new points in c). */
static void apply_cluster_unions(hl_collection *c, int64_t *uf, int64_t nc_old, hli_update_counts *counts)
{
    for (int64_t a = 0; a < c->nc; a++) {
        if (c->c_parent[a] != a)
            continue;
        const int64_t r = uf_find(uf, a);
        if (r == a)
            continue;
        if (a < nc_old) {
            counts->merged++;
            counts->moved += c->c_size[a] - c->work2[a];
        } else if (r < nc_old) {
            counts->started--;
            counts->joined += c->c_size[a];
        } else {
            counts->started--;
        }
        c->work2[r] += c->work2[a];
        c->work2[a] = 0;
        join_cluster(c, r, a);
    }
}

/* The linkage merge over the clusters of the points @p pts: links measured
 * on the clusters as they are, then every link above the threshold applied. */
static void linkage_merge(hl_collection *c, const int64_t *pts, int64_t npts, int64_t nc_old, void *scratch,
                          hli_update_counts *counts)
{
    int64_t *uf = c->work2 + c->cap; /* second half of the scratch: one id per cluster */
    int64_t *touched = c->work3, nt = 0;
    node_scratch s = thread_scratch(c, scratch, 0);
    for (int64_t t = 0; t < npts; t++) {
        if (!c->alive[pts[t]])
            continue;
        const int64_t a = hli_coll_find(c, c->cl[pts[t]]);
        if (!c->c_seen[a]) {
            c->c_seen[a] = 1;
            touched[nt++] = a;
        }
    }
    for (int64_t a = 0; a < c->nc; a++)
        uf[a] = a;
    int64_t *nb = touched + nt; /* neighbouring clusters of one cluster */
    for (int64_t t = 0; t < nt; t++) {
        const int64_t a = touched[t];
        int64_t nn = 0;
        int64_t i = c->c_member[a];
        do {
            /* in-edges j -> i and out-edges i -> v between a and other clusters */
            sorted_list(c, i, s.si);
            const int64_t m = in_edges(c, i, s.src, s.sim);
            for (int64_t e = 0; e < m; e++) {
                const int64_t b = hli_coll_find(c, c->cl[s.src[e]]);
                if (b == a)
                    continue;
                if (c->c_acc[b] == 0.0 && !(c->c_seen[b] & 2)) {
                    c->c_seen[b] |= 2;
                    nb[nn++] = b;
                }
                c->c_acc[b] += (double)snn_score(c, s.si, s.src[e], s.sj);
            }
            const hli_idlist *r = &c->rev[i];
            for (int32_t u = 0; u < r->n; u++) {
                const int64_t v = r->id[u];
                const int64_t b = hli_coll_find(c, c->cl[v]);
                if (b == a)
                    continue;
                float sv = -1.0f; /* i's similarity in v's list: the edge is kept if >= 0 */
                for (int64_t q = 0; q < c->k; q++)
                    if (c->knn[v * c->k + q] == i)
                        sv = c->knn_sim[v * c->k + q];
                if (sv < 0.0f)
                    continue;
                if (!(c->c_seen[b] & 2)) {
                    c->c_seen[b] |= 2;
                    nb[nn++] = b;
                }
                c->c_acc[b] += (double)snn_score(c, s.si, v, s.sj);
            }
            i = c->next_member[i];
        } while (i != c->c_member[a]);
        for (int64_t u = 0; u < nn; u++) {
            const int64_t b = nb[u];
            const double w = c->c_acc[b] / sqrt((double)c->c_size[a] * (double)c->c_size[b]);
            if (w > (double)c->plan.merge)
                uf_union(uf, a, b);
            c->c_acc[b] = 0.0;
            c->c_seen[b] &= (unsigned char)~2u;
        }
    }
    for (int64_t t = 0; t < nt; t++)
        c->c_seen[touched[t]] = 0;
    apply_cluster_unions(c, uf, nc_old, counts);
}

void hli_coll_update(hl_collection *c, const int64_t *changed, int64_t nchanged, int64_t first_new, int nt,
                     void *scratch, hli_update_counts *counts)
{
    const int64_t nc_old = c->nc;
    int64_t *D = c->work, nd = 0;
    /* 1. densities on D = changed + rev(changed) (all points for the model's score) */
    if (c->plan.score == HL_SCORE_PROB) {
        for (int64_t i = 0; i < c->n; i++)
            if (c->alive[i]) {
                c->mark[i] |= 1;
                D[nd++] = i;
            }
    } else {
        mark_with_rev(c, changed, nchanged, 1, D, &nd);
#pragma omp parallel num_threads(nt)
        {
#ifdef _OPENMP
            node_scratch s = thread_scratch(c, scratch, omp_get_thread_num());
#else
            node_scratch s = thread_scratch(c, scratch, 0);
#endif
#pragma omp for schedule(dynamic, 256)
            for (int64_t t = 0; t < nd; t++) {
                const int64_t i = D[t];
                const int64_t m = in_edges(c, i, s.src, s.sim);
                in_scores(c, i, m, &s);
                double sum = 0.0;
                for (int64_t e = 0; e < m; e++)
                    sum += s.sc[e];
                c->dens[i] = m > 0 ? (float)(sum / (double)m) : 0.0f;
            }
        }
    }
    /* 2. parents and confidences on P = D + rev(D) */
    int64_t *P = D + nd, np = 0;
    mark_with_rev(c, D, nd, 2, P, &np);
#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
        node_scratch s = thread_scratch(c, scratch, omp_get_thread_num());
#else
        node_scratch s = thread_scratch(c, scratch, 0);
#endif
#pragma omp for schedule(dynamic, 256)
        for (int64_t t = 0; t < np; t++) {
            const int64_t i = P[t];
            const int64_t m = in_edges(c, i, s.src, s.sim);
            in_scores(c, i, m, &s);
            float ps = 0.0f;
            c->parent[i] = hli_decode_parent(i, s.src, s.sim, s.sc, m, c->dens, c->plan.tau, &ps);
            c->conf[i] = c->parent[i] < 0 ? 1.0f : ps < 0.0f ? 0.0f : ps > 1.0f ? 1.0f : ps;
        }
    }
    for (int64_t t = 0; t < np; t++)
        c->mark[P[t]] = 0;
    for (int64_t t = 0; t < nd; t++)
        c->mark[D[t]] = 0;

    /* 3. unions along parent links.  Items: cluster ids [0, nc_old), then new
     * point q as nc_old + (q - first_new); the smaller item is the root, so
     * older clusters absorb younger ones and new points. */
    const int64_t nnew = c->n - first_new;
    int64_t *uf = c->work2 + c->cap;
    int64_t *cnew = c->work2; /* new points per cluster in this call (<= cap entries) */
    for (int64_t a = 0; a < nc_old + nnew; a++)
        uf[a] = a;
    for (int64_t t = 0; t < np; t++) {
        const int64_t i = P[t], p = c->parent[i];
        if (p < 0)
            continue;
        const int64_t ii = i >= first_new ? nc_old + i - first_new : hli_coll_find(c, c->cl[i]);
        const int64_t ip = p >= first_new ? nc_old + p - first_new : hli_coll_find(c, c->cl[p]);
        uf_union(uf, ii, ip);
    }
    for (int64_t a = 0; a < nc_old; a++)
        cnew[a] = 0;
    apply_cluster_unions(c, uf, nc_old, counts);
    int64_t *newid = c->work3; /* the cluster of each new-only component, by its root item */
    for (int64_t q = first_new; q < c->n; q++) {
        const int64_t item = nc_old + q - first_new, r = uf_find(uf, item);
        int64_t a;
        if (r < nc_old) {
            a = hli_coll_find(c, r);
            counts->joined++;
        } else if (r == item) {
            a = c->nc++; /* q is the smallest new point of a new tree: a new cluster */
            c->c_parent[a] = a;
            c->c_size[a] = 0;
            c->c_member[a] = -1;
            cnew[a] = 0;
            counts->started++;
            newid[r - nc_old] = a;
        } else {
            a = newid[r - nc_old]; /* r < item: assigned when r was met */
        }
        c->cl[q] = a;
        cnew[a]++;
        add_member(c, a, q);
    }
    /* 4. linkage merge over the clusters of D (which holds the new points) */
    if (c->plan.merge > 0.0f)
        linkage_merge(c, D, nd, nc_old, scratch, counts);
    for (int64_t a = 0; a < c->nc; a++)
        cnew[a] = 0;
    /* 5. path compression: every merged id points at its live cluster */
    for (int64_t a = 0; a < c->nc; a++)
        if (c->c_parent[a] >= 0)
            c->c_parent[a] = hli_coll_find(c, a);
}
