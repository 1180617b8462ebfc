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
 * So the decode forest is always the one a batch decode of all points would
 * give.  Its trees carry the cluster ids, by their roots (peaks):
 *  - a root that stays a root keeps its tree's id, whatever joins or leaves;
 *  - a new root (a new peak, or a point that lost its parent) inherits the
 *    id of the old root most of its existing points came from, if that
 *    root lost its status (it got a parent, or was removed), else gets a
 *    new id;
 *  - an id left without a tree is merged into the cluster that now holds
 *    its old root (or most of its old points).
 * The linkage merge (cluster/merge.c's link: shared-neighbour scores of the
 * level-0 edges between two clusters over sqrt(|A| |B|)) then glues trees
 * into clusters, over the clusters the update touched, all links measured
 * before any is applied, as the batch merge measures them; once glued, they
 * stay glued (a cluster id is a union-find over tree ids whose root is the
 * smaller id).  Points change cluster only when the forest moves them or
 * their clusters merge: both are reported. */
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

/* A fingerprint of one point's in-edges (sources and score bits), never 0:
 * 0 marks "unknown" (a loaded or new point). */
static uint32_t in_edge_fingerprint(const int64_t *src, const float *sc, int64_t m)
{
    uint64_t h = 1469598103934665603ull;
    for (int64_t e = 0; e < m; e++) {
        uint32_t b;
        memcpy(&b, &sc[e], 4);
        h = (h ^ (uint64_t)src[e]) * 1099511628211ull;
        h = (h ^ b) * 1099511628211ull;
    }
    return (uint32_t)(h ^ (h >> 32)) | 1u;
}

int hli_coll_roots(const hl_collection *c, int64_t *root, int64_t *path)
{
    for (int64_t i = 0; i < c->n; i++)
        root[i] = c->alive[i] ? -2 : -1;
    for (int64_t i = 0; i < c->n; i++) {
        if (root[i] != -2)
            continue;
        int64_t np = 0, v = i, r = -1;
        for (;;) {
            if (root[v] >= 0) {
                r = root[v];
                break;
            }
            if (root[v] != -2)
                return 0; /* in progress (a cycle) or a removed point */
            root[v] = -3;
            path[np++] = v;
            if (c->parent[v] < 0) {
                r = v;
                break;
            }
            v = c->parent[v];
            if (v >= c->n)
                return 0;
        }
        for (int64_t t = 0; t < np; t++)
            root[path[t]] = r;
    }
    return 1;
}

int64_t hli_coll_tree_points(const hl_collection *c, int64_t r, int64_t *out)
{
    /* a child lists its parent (the parent is one of its in-edges' sources),
     * so the children of v are among rev[v]: out doubles as the queue */
    int64_t n = 0;
    out[n++] = r;
    for (int64_t h = 0; h < n; h++) {
        const int64_t v = out[h];
        const hli_idlist *rv = &c->rev[v];
        for (int32_t u = 0; u < rv->n; u++)
            if (c->parent[rv->id[u]] == v && c->alive[rv->id[u]])
                out[n++] = rv->id[u];
    }
    return n;
}

static int cmp_pair(const void *pa, const void *pb)
{
    const int64_t *a = pa, *b = pb;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* For sorted pairs (key, value): the most frequent value of each key run
 * (ties: the smaller value), through @p fn(key, value). */
static void plurality(hl_collection *c, int64_t *pairs, int64_t np, void (*fn)(hl_collection *, int64_t, int64_t))
{
    qsort(pairs, (size_t)np, 2 * sizeof(int64_t), cmp_pair);
    for (int64_t a = 0; a < np;) {
        int64_t best = -1, bc = 0;
        int64_t b = a;
        while (b < np && pairs[2 * b] == pairs[2 * a]) {
            int64_t e = b;
            while (e < np && pairs[2 * e] == pairs[2 * a] && pairs[2 * e + 1] == pairs[2 * b + 1])
                e++;
            if (e - b > bc) {
                bc = e - b;
                best = pairs[2 * b + 1];
            }
            b = e;
        }
        fn(c, pairs[2 * a], best);
        a = b;
    }
}

/* While assign_tree_ids runs, an old root that lost its status (an orphan)
 * holds its id as tree_id = -2 - id until the id is handed on. */
static int64_t orphan_id(const hl_collection *c, int64_t o)
{
    return c->tree_id[o] <= -2 ? -2 - c->tree_id[o] : -1;
}

/* New root r takes the orphaned id of old root o, if still free. */
static void inherit_id(hl_collection *c, int64_t r, int64_t o)
{
    const int64_t id = o >= 0 ? orphan_id(c, o) : -1;
    if (id >= 0) {
        c->tree_id[r] = id;
        c->c_root[id] = r;
        c->tree_id[o] = -1;
    }
}

/* The orphaned id of removed root o goes to the tree most of its points are
 * in now (root r). */
static void follow_points(hl_collection *c, int64_t o, int64_t r)
{
    const int64_t id = orphan_id(c, o);
    if (id < 0 || r < 0)
        return;
    c->c_parent[id] = c->tree_id[r];
    c->c_root[id] = -1;
    c->c_size[id] = 0;
    c->tree_id[o] = -1;
}

/* The trees' ids after the forest changed on P (and the removed points):
 * orphaned ids, new roots, inheritance, new ids, merges of leftover ids.
 * @p pairs: (new root, old root) of every existing point whose root
 * changed (roots already updated). */
static void assign_tree_ids(hl_collection *c, const int64_t *P, int64_t np, const int64_t *removed, int64_t nrem,
                            int64_t *pairs, int64_t npairs)
{
    hli_coll_scratch *w = c->scr;
    int64_t *orphans = w->orphans, no = 0;
    for (int64_t t = 0; t < np + nrem; t++) {
        const int64_t i = t < np ? P[t] : removed[t - np];
        if (c->tree_id[i] >= 0 && (!c->alive[i] || c->parent[i] >= 0)) {
            /* the other trees of its cluster must be looked at again (step 4) */
            if (c->c_parent[c->tree_id[i]] >= 0)
                c->c_seen[c->c_parent[c->tree_id[i]]] |= 16;
            c->tree_id[i] = -2 - c->tree_id[i];
            orphans[no++] = i;
        }
    }
    /* new roots: peaks in P without an id; they inherit by plurality of the
     * old roots of their existing points */
    int64_t *newroots = w->new_roots, nn = 0;
    for (int64_t t = 0; t < np; t++) {
        const int64_t i = P[t];
        if (c->alive[i] && c->parent[i] < 0 && c->tree_id[i] == -1) {
            newroots[nn++] = i;
            c->mark[i] |= 8;
        }
    }
    qsort(newroots, (size_t)nn, sizeof *newroots, hli_cmp_i64);
    int64_t *sel = w->pair_sel, ns = 0;
    if (nn > 0 && no > 0)
        for (int64_t t = 0; t < npairs; t++)
            if (c->mark[pairs[2 * t]] & 8) {
                sel[2 * ns] = pairs[2 * t];
                sel[2 * ns + 1] = pairs[2 * t + 1];
                ns++;
            }
    plurality(c, sel, ns, inherit_id);
    for (int64_t t = 0; t < nn; t++) {
        const int64_t r = newroots[t];
        c->mark[r] &= (unsigned char)~8u;
        if (c->tree_id[r] >= 0)
            continue;
        const int64_t a = c->nc++;
        c->tree_id[r] = a;
        c->c_root[a] = r;
        c->c_parent[a] = a;
        c->c_size[a] = 0;
        c->t_size[a] = 0;
    }
    /* leftover orphans: an alive old root follows its new tree; a removed one
     * follows most of its old points */
    for (int64_t t = 0; t < no; t++) {
        const int64_t o = orphans[t], id = orphan_id(c, o);
        if (id < 0)
            continue;
        c->c_root[id] = -1; /* no tree carries this id any more */
        c->c_size[id] = 0;
        if (c->alive[o]) {
            c->c_parent[id] = c->tree_id[c->root[o]];
            c->tree_id[o] = -1;
        } else {
            c->mark[o] |= 16;
        }
    }
    ns = 0;
    for (int64_t t = 0; t < npairs && nrem > 0; t++)
        if (c->mark[pairs[2 * t + 1]] & 16) {
            sel[2 * ns] = pairs[2 * t + 1];
            sel[2 * ns + 1] = pairs[2 * t];
            ns++;
        }
    plurality(c, sel, ns, follow_points);
    for (int64_t t = 0; t < no; t++) {
        const int64_t o = orphans[t];
        c->mark[o] &= (unsigned char)~16u;
        if (orphan_id(c, o) >= 0) /* all its points are gone: emptied */
            c->c_parent[orphan_id(c, o)] = -1;
        c->tree_id[o] = -1;
    }
}

/* The live trees @p u that tree @p t (its points @p mem, @p nm of them)
 * links to strongly (link above the merge threshold), appended to @p out
 * (count returned). */
static int64_t strong_links(hl_collection *c, int64_t t, const int64_t *mem, int64_t nm, int64_t *nb, int64_t *out,
                            node_scratch *s)
{
    double *acc = c->scr->c_acc;
    int64_t nn = 0, no = 0;
    for (int64_t q = 0; q < nm; q++) {
        const int64_t i = mem[q];
        /* in-edges j -> i and out-edges i -> v between t and other trees */
        sorted_list(c, i, s->si);
        const int64_t m = in_edges(c, i, s->src, s->sim);
        for (int64_t e = 0; e < m; e++) {
            const int64_t u = c->tree_id[c->root[s->src[e]]];
            if (u == t)
                continue;
            if (!(c->c_seen[u] & 2)) {
                c->c_seen[u] |= 2;
                nb[nn++] = u;
            }
            acc[u] += (double)snn_score(c, s->si, s->src[e], s->sj);
        }
        const hli_idlist *r = &c->rev[i];
        for (int32_t w = 0; w < r->n; w++) {
            const int64_t v = r->id[w];
            const int64_t u = c->tree_id[c->root[v]];
            if (u == t)
                continue;
            float sv = -1.0f; /* i's similarity in v's list: the edge is kept if >= 0 */
            for (int64_t x = 0; x < c->k; x++)
                if (c->knn[v * c->k + x] == i)
                    sv = c->knn_sim[v * c->k + x];
            if (sv < 0.0f)
                continue;
            if (!(c->c_seen[u] & 2)) {
                c->c_seen[u] |= 2;
                nb[nn++] = u;
            }
            acc[u] += (double)snn_score(c, s->si, v, s->sj);
        }
    }
    const double st = (double)nm;
    for (int64_t w = 0; w < nn; w++) {
        const int64_t u = nb[w];
        if (acc[u] / sqrt(st * (double)c->t_size[u]) > (double)c->plan.merge)
            out[no++] = u;
        acc[u] = 0.0;
        c->c_seen[u] &= (unsigned char)~2u;
    }
    return no;
}

/* The linkage merge: clusters are the connected components of the strong
 * links between trees, each named by its smallest tree id (c_parent of
 * every tree in it).  Only the components of the @p seeds (trees whose
 * members or edges changed, and the trees of their old clusters) can
 * change; they are found again by a search that measures each tree's links
 * when it reaches it (merge threshold 0: every tree its own cluster).  Each
 * component's points then take its name; returns the existing points
 * (ids < @p first_new) that changed cluster. */
static int64_t linkage_components(hl_collection *c, const int64_t *seeds, int64_t nseeds, int64_t first_new,
                                  node_scratch *s)
{
    hli_coll_scratch *w = c->scr;
    int64_t *queue = w->queue, *mem = w->members, *mend = w->member_end;
    int64_t tail = 0, nmem = 0, moved = 0; /* one queue for all components: every tree is visited once */
    for (int64_t q = 0; q < nseeds; q++) {
        const int64_t t0 = seeds[q];
        if (c->c_seen[t0] & 1)
            continue;
        const int64_t first = tail;
        int64_t head = tail, leader = t0;
        c->c_seen[t0] |= 1;
        queue[tail++] = t0;
        while (head < tail) {
            const int64_t t = queue[head];
            leader = t < leader ? t : leader;
            const int64_t nm = hli_coll_tree_points(c, c->c_root[t], mem + nmem);
            if (c->plan.merge > 0.0f) {
                const int64_t nl = strong_links(c, t, mem + nmem, nm, w->neighbours, w->links, s);
                for (int64_t l = 0; l < nl; l++)
                    if (!(c->c_seen[w->links[l]] & 1)) {
                        c->c_seen[w->links[l]] |= 1;
                        queue[tail++] = w->links[l];
                    }
            }
            nmem += nm;
            mend[head++] = nmem;
        }
        /* name the component, and its points */
        int64_t size = 0;
        for (int64_t u = first; u < tail; u++) {
            const int64_t t = queue[u];
            c->c_parent[t] = leader;
            c->c_size[t] = 0;
            size += c->t_size[t];
            for (int64_t p = u > 0 ? mend[u - 1] : 0; p < mend[u]; p++) {
                const int64_t i = mem[p];
                moved += i < first_new && c->cl[i] != leader;
                c->cl[i] = leader;
            }
        }
        c->c_size[leader] = size;
    }
    for (int64_t u = 0; u < tail; u++)
        c->c_seen[queue[u]] &= (unsigned char)~1u;
    return moved;
}

/* Step 3 of an update: new roots for the subtrees whose parent changed (P
 * points with bit 32), written in place; returns how many points it
 * visited (in scr->visited), with the pairs (new root, old root) of the
 * existing ones in scr->root_pairs (*npairs) and the roots whose trees
 * gained or lost points in scr->roots (*nroots, with repeats). */
static int64_t reroot(hl_collection *c, const int64_t *P, int64_t np, const int64_t *removed, int64_t nrem,
                      int64_t first_new, int64_t *npairs, int64_t *nroots)
{
    hli_coll_scratch *w = c->scr;
    int64_t nv = 0, npr = 0, nr = 0;
    for (int64_t t = 0; t < nrem; t++)
        if (c->root[removed[t]] >= 0)
            w->roots[nr++] = c->root[removed[t]];
    for (int64_t t = 0; t < np; t++) {
        const int64_t s0 = P[t];
        if (!(c->mark[s0] & 32) || (c->mark[s0] & 4))
            continue;
        /* the new root: up the new parents (acyclic: every parent is denser
         * in the decode's total order), stopping early at a point whose new
         * root is already known */
        int64_t r = s0;
        while (c->parent[r] >= 0 && !(c->mark[r] & 4))
            r = c->parent[r];
        if (c->mark[r] & 4)
            r = c->root[r];
        w->roots[nr++] = r;
        /* the subtree of s0 (points not reached before) gets root r */
        const int64_t v0 = nv;
        w->visited[nv++] = s0;
        c->mark[s0] |= 4;
        for (int64_t h = v0; h < nv; h++) {
            const int64_t v = w->visited[h];
            const int64_t old = c->root[v];
            if (v < first_new && old >= 0) {
                w->root_pairs[2 * npr] = r;
                w->root_pairs[2 * npr + 1] = old;
                npr++;
                if (old != r)
                    w->roots[nr++] = old;
            }
            c->root[v] = r;
            const hli_idlist *rv = &c->rev[v];
            for (int32_t u = 0; u < rv->n; u++) {
                const int64_t x = rv->id[u];
                if (c->parent[x] == v && c->alive[x] && !(c->mark[x] & 4)) {
                    c->mark[x] |= 4;
                    w->visited[nv++] = x;
                }
            }
        }
    }
    *npairs = npr;
    *nroots = nr;
    return nv;
}

/* The sizes of the trees whose points changed: the live roots among
 * @p roots (nroots, with repeats; sorted here), counted again. */
static void recount_trees(hl_collection *c, int64_t *roots, int64_t nroots)
{
    qsort(roots, (size_t)nroots, sizeof *roots, hli_cmp_i64);
    for (int64_t t = 0; t < nroots; t++) {
        const int64_t r = roots[t];
        if ((t > 0 && roots[t - 1] == r) || !c->alive[r] || c->parent[r] >= 0)
            continue;
        c->t_size[c->tree_id[r]] = hli_coll_tree_points(c, r, c->scr->members);
    }
}

void hli_coll_update(hl_collection *c, const int64_t *changed, int64_t nchanged, const int64_t *removed,
                     int64_t nremoved, int64_t first_new, int nt, void *scratch, hli_update_counts *counts)
{
    const int64_t nc_old = c->nc;
    hli_coll_scratch *w = c->scr;
    int64_t *D = w->dens_set, nd = 0;
    /* 1. densities on D = changed + rev(changed) (all points for the model's
     * score).  A fingerprint of each point's in-edges and their scores tells
     * whose scores really changed (bit 64) and whose density (bit 128): only
     * those can move parents or links. */
    if (c->plan.score == HL_SCORE_PROB) {
        for (int64_t i = 0; i < c->n; i++)
            if (c->alive[i]) {
                c->mark[i] |= 1;
                D[nd++] = i;
            }
    } else {
        mark_with_rev(c, changed, nchanged, 1, D, &nd);
    }
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
            const uint32_t fp = in_edge_fingerprint(s.src, s.sc, m);
            float dn;
            if (c->plan.score == HL_SCORE_PROB) {
                dn = c->prob_dens[i];
            } else {
                double sum = 0.0;
                for (int64_t e = 0; e < m; e++)
                    sum += s.sc[e];
                dn = m > 0 ? (float)(sum / (double)m) : 0.0f;
            }
            unsigned char bits = 0;
            if (fp != c->score_fp[i])
                bits |= 64;
            /* a new point's density is a placeholder; a loaded point's
             * fingerprint is unknown (0) but its density is exact */
            if (dn != c->dens[i] || i >= first_new)
                bits |= 128;
            c->score_fp[i] = fp;
            c->dens[i] = dn;
            c->mark[i] |= bits;
        }
    }
    /* 2. parents and confidences on P = (D with changed scores) + rev(D with
     * changed densities); bit 32: the parent changed */
    int64_t *P = w->parent_set, np = 0;
    for (int64_t t = 0; t < nd; t++) {
        const int64_t i = D[t];
        if ((c->mark[i] & 64) && !(c->mark[i] & 2)) {
            c->mark[i] |= 2;
            P[np++] = i;
        }
    }
    for (int64_t t = 0; t < nd; t++) {
        const int64_t i = D[t];
        if (!(c->mark[i] & 128))
            continue;
        if (!(c->mark[i] & 2)) {
            c->mark[i] |= 2;
            P[np++] = i;
        }
        const hli_idlist *r = &c->rev[i];
        for (int32_t u = 0; u < r->n; u++) {
            const int64_t v = r->id[u];
            if (c->alive[v] && !(c->mark[v] & 2)) {
                c->mark[v] |= 2;
                P[np++] = v;
            }
        }
    }
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
            const int64_t old = c->parent[i];
            c->parent[i] = hli_decode_parent(i, s.src, s.sim, s.sc, m, c->dens, c->plan.tau, &ps);
            c->conf[i] = c->parent[i] < 0 ? 1.0f : ps < 0.0f ? 0.0f : ps > 1.0f ? 1.0f : ps;
            if (c->parent[i] != old || i >= first_new)
                c->mark[i] |= 32;
        }
    }

    /* 3. the forest: new roots where parents changed, the trees' ids and sizes */
    for (int64_t t = 0; t < np; t++)
        w->old_root[t] = c->root[P[t]];
    int64_t npairs = 0, nroots = 0;
    const int64_t nv = reroot(c, P, np, removed, nremoved, first_new, &npairs, &nroots);
    /* the ids that held points before the call (c_size is from the last update) */
    unsigned char *was_live = c->c_seen; /* bit 4, cleared below */
    for (int64_t a = 0; a < nc_old; a++)
        if (c->c_parent[a] == a && c->c_size[a] > 0)
            was_live[a] |= 4;
    assign_tree_ids(c, P, np, removed, nremoved, w->root_pairs, npairs);
    recount_trees(c, w->roots, nroots);
    /* 4. clusters: trees joined by strong links (the linkage merge).  Seeds:
     * the trees of P's points now and before, the trees removed points were
     * in, and every tree of their old clusters (c_parent of a tree that
     * existed before: its old cluster) */
    int64_t *seeds = w->seeds, ns = 0;
    for (int64_t t = 0; t < np + nremoved; t++) {
        const int64_t i = t < np ? P[t] : removed[t - np];
        if (t < np && !(c->mark[i] & (32 | 64)))
            continue; /* same parent, same in-edge scores: its tree's links are as they were */
        const int64_t old = t < np ? w->old_root[t] : c->root[i];
        const int64_t ids[2] = {c->alive[i] ? c->tree_id[c->root[i]] : -1, old >= 0 ? c->tree_id[old] : -1};
        for (int u = 0; u < 2; u++) {
            const int64_t a = ids[u];
            if (a < 0 || c->c_root[a] < 0 || (c->c_seen[a] & 8))
                continue;
            c->c_seen[a] |= 8;
            seeds[ns++] = a;
            if (a < nc_old && c->c_parent[a] >= 0)
                c->c_seen[c->c_parent[a]] |= 16;
        }
    }
    for (int64_t a = 0; a < nc_old; a++)
        if (c->c_root[a] >= 0 && !(c->c_seen[a] & 8) && c->c_parent[a] >= 0 && (c->c_seen[c->c_parent[a]] & 16)) {
            c->c_seen[a] |= 8;
            seeds[ns++] = a;
        }
    for (int64_t a = 0; a < nc_old; a++)
        c->c_seen[a] &= (unsigned char)~16u;
    for (int64_t t = 0; t < np; t++)
        c->mark[P[t]] = 0;
    for (int64_t t = 0; t < nd; t++)
        c->mark[D[t]] = 0;
    for (int64_t t = 0; t < nv; t++)
        c->mark[w->visited[t]] = 0;
    qsort(seeds, (size_t)ns, sizeof *seeds, hli_cmp_i64);
    {
        node_scratch s = thread_scratch(c, scratch, 0);
        counts->moved += linkage_components(c, seeds, ns, first_new, &s);
    }
    for (int64_t t = 0; t < ns; t++)
        c->c_seen[seeds[t]] &= (unsigned char)~9u;
    /* 5. emptied ids, path compression, what changed.  merged: held points
     * before, now in another cluster; started: hold points now and did not
     * before (new ids, and ids a split revived); joined: new points in a
     * cluster that held points before */
    for (int64_t a = 0; a < c->nc; a++)
        if (c->c_parent[a] >= 0)
            c->c_parent[a] = hli_coll_find(c, a);
    for (int64_t i = first_new; i < c->n; i++)
        counts->joined += c->cl[i] < nc_old && (was_live[c->cl[i]] & 4);
    for (int64_t a = 0; a < c->nc; a++) {
        const int before = a < nc_old && (was_live[a] & 4), now = c->c_parent[a] == a;
        counts->merged += before && !now && c->c_parent[a] >= 0;
        counts->started += now && !before;
        if (a < nc_old)
            was_live[a] &= (unsigned char)~4u;
    }
}
