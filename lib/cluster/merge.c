/* Linkage merge: join clusters that the level-0 graph ties together.
 *
 * The decode gives every point at most one parent, so a class whose points
 * reach its densest point only through a weak edge ends up in several trees
 * even when dozens of strong edges join them.  The upper levels of the hierarchy
 * were meant to fix that, but they see each cluster only through its peak
 * and mean feature, and on the Omniglot classes held out from training their
 * links separate right from wrong merges with AUC ~0.6 (docs/QUALITY.md).
 * The level-0 edges between two clusters are a much better witness
 * (AUC ~0.83 with the shared-neighbour score), so after the last level:
 *
 *   link(A, B) = sum of s_ij over level-0 edges between A and B, both
 *                directions / sqrt(|A| |B|)
 *
 * with s_ij the shared-neighbour fraction, whatever score the decode used,
 * and clusters whose link exceeds a threshold are joined (union-find: the
 * result does not depend on the order).  The threshold is chosen at training
 * time on all labelled points (train/cluster_defaults.c) and stored in the
 * model. */
#include "cluster/merge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float *hli_merge_scores(const hl_graph *g, float *snn, int num_threads)
{
    if (snn != NULL)
        return snn;
    float *lk = hli_alloc((size_t)(g->num_edges > 0 ? g->num_edges : 1), sizeof(float));
    if (lk != NULL && hli_edge_features(g, HL_EDGE_FEAT_SNN, NULL, 0, num_threads, lk) != HL_OK) {
        free(lk);
        return NULL;
    }
    return lk;
}

static int cmp_pair(const void *pa, const void *pb)
{
    const hli_link *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

static int cmp_weight_desc(const void *pa, const void *pb)
{
    const hli_link *a = pa, *b = pb;
    if (a->w != b->w)
        return a->w > b->w ? -1 : 1;
    return cmp_pair(pa, pb);
}

hl_status hli_cluster_links(const hl_graph *g, const float *sc, const int64_t *label, int64_t num_clusters,
                            hli_link **out, int64_t *count)
{
    *out = NULL;
    *count = 0;
    const int64_t n = g->n, C = num_clusters;
    for (int64_t i = 0; i < n; i++)
        if (label[i] < 0 || label[i] >= C)
            return hli_error(HL_EINTERNAL, "cluster links: label[%lld] = %lld outside [0, %lld)", (long long)i,
                             (long long)label[i], (long long)C);
    hl_status st = HL_OK;
    int64_t *size = hli_calloc((size_t)C + 1, sizeof(int64_t));   /* later: CSR offsets of members */
    int64_t *member = hli_alloc((size_t)n, sizeof(int64_t));
    double *acc = hli_calloc((size_t)C, sizeof(double));          /* sparse accumulator over b */
    int64_t *touched = hli_alloc((size_t)C, sizeof(int64_t));
    unsigned char *seen = hli_calloc((size_t)C, 1);
    hli_link *pairs = NULL;
    int64_t np = 0, cap = 0;
    if (size == NULL || member == NULL || acc == NULL || touched == NULL || seen == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    /* members of each cluster, in point order (counting sort) */
    for (int64_t i = 0; i < n; i++)
        size[label[i] + 1]++;
    for (int64_t c = 0; c < C; c++)
        size[c + 1] += size[c];
    for (int64_t i = 0; i < n; i++)
        member[size[label[i]]++] = i;
    for (int64_t c = C; c > 0; c--)
        size[c] = size[c - 1];
    size[0] = 0;
    /* Directed sums: for every cluster a, the scores of the in-edges of its
     * members from other clusters b.  Each edge is counted once, at its
     * destination; the two directions of a pair are added below. */
    for (int64_t a = 0; a < C; a++) {
        int64_t nt = 0;
        for (int64_t q = size[a]; q < size[a + 1]; q++) {
            const int64_t i = member[q];
            for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++) {
                const int64_t b = label[g->src[e]];
                if (b == a)
                    continue;
                if (!seen[b]) {
                    seen[b] = 1;
                    touched[nt++] = b;
                }
                acc[b] += (double)sc[e];
            }
        }
        if (np > INT64_MAX - nt) {
            st = hli_error(HL_ERANGE, "cluster links: too many pairs");
            goto done;
        }
        if (np + nt > cap) {
            int64_t ncap = cap ? 2 * cap : 1024;
            while (ncap < np + nt)
                ncap *= 2;
            size_t bytes;
            if (!hli_mul_size((size_t)ncap, sizeof(hli_link), &bytes)) {
                st = hli_error(HL_ERANGE, "cluster links: too many pairs");
                goto done;
            }
            hli_link *p = hli_realloc(pairs, bytes, 1);
            if (p == NULL) {
                st = HL_ENOMEM;
                goto done;
            }
            pairs = p;
            cap = ncap;
        }
        for (int64_t t = 0; t < nt; t++) {
            const int64_t b = touched[t];
            pairs[np].a = a < b ? a : b;
            pairs[np].b = a < b ? b : a;
            pairs[np].w = acc[b];
            np++;
            acc[b] = 0.0;
            seen[b] = 0;
        }
    }
    if (np > 0) {
        /* add the two directions of each pair, then normalise */
        qsort(pairs, (size_t)np, sizeof *pairs, cmp_pair);
        int64_t m = 0;
        for (int64_t p = 0; p < np; p++) {
            if (m > 0 && pairs[m - 1].a == pairs[p].a && pairs[m - 1].b == pairs[p].b)
                pairs[m - 1].w += pairs[p].w;
            else
                pairs[m++] = pairs[p];
        }
        np = m;
        for (int64_t p = 0; p < np; p++) {
            const double sa = (double)(size[pairs[p].a + 1] - size[pairs[p].a]);
            const double sb = (double)(size[pairs[p].b + 1] - size[pairs[p].b]);
            pairs[p].w /= sqrt(sa * sb);
        }
        qsort(pairs, (size_t)np, sizeof *pairs, cmp_weight_desc);
    }
    *out = pairs;
    *count = np;
    pairs = NULL;
done:
    free(size);
    free(member);
    free(acc);
    free(touched);
    free(seen);
    free(pairs);
    return st;
}

static int64_t uf_find(int64_t *parent, int64_t v)
{
    while (parent[v] != v) {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    return v;
}

void hli_merge_init(hli_merge *m, int64_t *parent, int64_t num_clusters)
{
    m->parent = parent;
    m->num_clusters = num_clusters;
    m->next = 0;
    m->unions = 0;
    for (int64_t c = 0; c < num_clusters; c++)
        parent[c] = c;
}

void hli_merge_until(hli_merge *m, const hli_link *links, int64_t count, double threshold)
{
    for (; m->next < count && links[m->next].w > threshold; m->next++) {
        int64_t ra = uf_find(m->parent, links[m->next].a), rb = uf_find(m->parent, links[m->next].b);
        if (ra == rb)
            continue;
        /* the smaller index becomes the root: the components do not depend on
         * the order, and neither do their names */
        if (ra < rb)
            m->parent[rb] = ra;
        else
            m->parent[ra] = rb;
        m->unions++;
    }
}

void hli_merge_apply(hli_merge *m, const int64_t *label, int64_t n, int64_t *out)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = uf_find(m->parent, label[i]);
}
