/* The multi-level training set (docs/ALGORITHM.md, "Training: graphs") and mini-batch extraction. */
#include "train/train_internal.h"

#include "graph/hierarchy_level.h"
#include "knn/knn_internal.h"

#include <stdlib.h>
#include <string.h>

static void tgraph_free(hli_tgraph *t)
{
    hl_graph_free(t->g);
    free(t->x);
    free(t->c);
    free(t->label);
    free(t->dens);
    free(t->efeat);
    free(t->elabel);
    memset(t, 0, sizeof *t);
}

void hli_tset_free(hli_tset *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->count; i++)
        tgraph_free(&s->gr[i]);
    s->count = 0;
}

/* One graph of the set from a level: kNN graph, densities, edge features. */
static hl_status tgraph_from_level(const hli_level *lv, int64_t k, int level, uint32_t ef, int nt, hli_tgraph *t)
{
    memset(t, 0, sizeof *t);
    const int64_t n = lv->n, d = lv->d;
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ko.method = HL_KNN_EXACT;
    ko.num_threads = nt;
    /* Level features are normalised already (hli_level_init / hli_level_next). */
    hl_status st = hli_graph_build_normalized(lv->x, n, d, &ko, &t->g);
    if (st != HL_OK)
        return st;
    t->n = n;
    t->d = d;
    t->k = k;
    t->level = level;
    const int64_t E = t->g->num_edges;
    const int m = hli_edge_feature_count(ef);
    t->x = hli_alloc((size_t)n, (size_t)d * sizeof(float));
    t->c = hli_alloc((size_t)n, (size_t)d * sizeof(float));
    t->label = hli_alloc((size_t)n, sizeof(int64_t));
    t->dens = hli_alloc((size_t)n, sizeof(float));
    t->elabel = hli_alloc((size_t)(E ? E : 1), 1);
    if (m > 0)
        t->efeat = hli_alloc((size_t)(E ? E : 1), (size_t)m * sizeof(float));
    if (!t->x || !t->c || !t->label || !t->dens || !t->elabel || (m > 0 && !t->efeat)) {
        st = hl_last_error_status();
        tgraph_free(t);
        return st;
    }
    memcpy(t->x, lv->x, (size_t)n * (size_t)d * sizeof(float));
    memcpy(t->c, lv->c, (size_t)n * (size_t)d * sizeof(float));
    memcpy(t->label, lv->label, (size_t)n * sizeof(int64_t));
    if ((st = hl_graph_density(t->g, t->label, t->dens)) != HL_OK ||
        (m > 0 && (st = hli_edge_features(t->g, ef, t->x, d, nt, t->efeat)) != HL_OK)) {
        tgraph_free(t);
        return st;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = t->g->offsets[i]; e < t->g->offsets[i + 1]; e++)
            t->elabel[e] = t->label[t->g->src[e]] == t->label[i];
    return HL_OK;
}

hl_status hli_tset_build(const float *xn, const int64_t *labels, int64_t n, int64_t d,
                         const hl_train_options *opts, uint32_t edge_features, int nt, hli_tset *out)
{
    memset(out, 0, sizeof *out);
    const int cap = (int)(sizeof out->gr / sizeof out->gr[0]);
    hl_status st = HL_OK;
    int64_t *peak = NULL;
    for (int p = 0; p < opts->num_graphs; p++) {
        const int64_t k = opts->k_list[p];
        hli_level lv;
        if ((st = hli_level_init(&lv, xn, n, d, labels)) != HL_OK)
            goto fail;
        for (int level = 0; level < opts->levels[p] && lv.n > k && out->count < cap; level++) {
            if ((st = tgraph_from_level(&lv, k, level, edge_features, nt, &out->gr[out->count])) != HL_OK) {
                hli_level_free(&lv);
                goto fail;
            }
            const hli_tgraph *t = &out->gr[out->count++];
            if (level + 1 >= opts->levels[p])
                break;
            /* ground-truth decode: dhat := density, score := sim, tau = 0 */
            free(peak);
            peak = hli_alloc((size_t)lv.n, sizeof(int64_t));
            hli_level next;
            if (peak == NULL || (st = hl_decode(t->g, t->g->sim, t->dens, 0.0f, NULL, peak)) != HL_OK ||
                (st = hli_level_next(&lv, peak, xn, &next)) != HL_OK) {
                if (peak == NULL)
                    st = hl_last_error_status();
                hli_level_free(&lv);
                goto fail;
            }
            hli_level_free(&lv);
            lv = next;
        }
        hli_level_free(&lv);
    }
    free(peak);
    if (out->count == 0)
        return hli_error(HL_EINVAL, "training set: no graph could be built (n = %lld must exceed k)", (long long)n);
    return HL_OK;
fail:
    free(peak);
    hli_tset_free(out);
    return st;
}

void hli_batch_free(hli_batch *b)
{
    if (b == NULL)
        return;
    free(b->offsets);
    free(b->src);
    free(b->sim);
    free(b->aff);
    free(b->x);
    free(b->c);
    free(b->efeat);
    free(b->dens);
    free(b->label);
    free(b->mask);
    memset(b, 0, sizeof *b);
}

hl_status hli_batch_make(const hli_tgraph *tg, const int64_t *centres, int64_t nc, int hops, int m, int balance,
                         hli_rng *rng, int64_t *map, hli_batch *b)
{
    memset(b, 0, sizeof *b);
    const hl_graph *g = tg->g;
    const int64_t d = tg->d;
    int64_t *nodes = hli_alloc((size_t)tg->n, sizeof(int64_t));
    if (nodes == NULL)
        return hl_last_error_status();
    int64_t cnt = 0;
    for (int64_t t = 0; t < nc; t++)
        if (map[centres[t]] < 0) {
            map[centres[t]] = cnt;
            nodes[cnt++] = centres[t];
        }
    nc = cnt;
    /* breadth-first over in-edges, hop by hop */
    int64_t lo = 0;
    for (int h = 0; h < hops; h++) {
        const int64_t hi = cnt;
        for (int64_t t = lo; t < hi; t++) {
            const int64_t i = nodes[t];
            for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++)
                if (map[g->src[e]] < 0) {
                    map[g->src[e]] = cnt;
                    nodes[cnt++] = g->src[e];
                }
        }
        lo = hi;
    }
    const int64_t n = cnt;
    int64_t ne_all = 0;
    for (int64_t t = 0; t < n; t++)
        for (int64_t e = g->offsets[nodes[t]]; e < g->offsets[nodes[t] + 1]; e++)
            ne_all += map[g->src[e]] >= 0;
    const size_t E1 = (size_t)(ne_all ? ne_all : 1);
    b->offsets = hli_alloc((size_t)n + 1, sizeof(int64_t));
    b->src = hli_alloc(E1, sizeof(int64_t));
    b->sim = hli_alloc(E1, sizeof(float));
    b->aff = hli_alloc(E1, sizeof(float));
    b->x = hli_alloc((size_t)n, (size_t)d * sizeof(float));
    b->c = hli_alloc((size_t)n, (size_t)d * sizeof(float));
    b->dens = hli_alloc((size_t)nc, sizeof(float));
    b->label = hli_alloc(E1, 1);
    b->mask = hli_alloc(E1, 1);
    if (m > 0)
        b->efeat = hli_alloc(E1, (size_t)m * sizeof(float));
    hl_status st = HL_OK;
    if (!b->offsets || !b->src || !b->sim || !b->aff || !b->x || !b->c || !b->dens || !b->label || !b->mask ||
        (m > 0 && !b->efeat)) {
        st = hl_last_error_status();
        goto out;
    }
    int64_t ne = 0;
    for (int64_t t = 0; t < n; t++) {
        const int64_t i = nodes[t];
        b->offsets[t] = ne;
        memcpy(b->x + t * d, tg->x + i * d, (size_t)d * sizeof(float));
        memcpy(b->c + t * d, tg->c + i * d, (size_t)d * sizeof(float));
        for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++) {
            const int64_t j = g->src[e];
            if (map[j] < 0)
                continue;
            b->src[ne] = map[j];
            b->sim[ne] = g->sim[e];
            b->aff[ne] = g->aff[e];
            b->label[ne] = tg->elabel[e];
            b->mask[ne] = tg->dens[j] > tg->dens[i];
            if (m > 0)
                memcpy(b->efeat + ne * m, tg->efeat + e * m, (size_t)m * sizeof(float));
            ne++;
        }
    }
    b->offsets[n] = ne;
    for (int64_t t = 0; t < nc; t++)
        b->dens[t] = tg->dens[nodes[t]];
    const int64_t nh = b->offsets[nc];
    if (balance) {
        int64_t pos = 0, neg = 0;
        for (int64_t e = 0; e < nh; e++)
            if (b->mask[e])
                pos += b->label[e] != 0, neg += b->label[e] == 0;
        /* drop a uniformly random subset of the larger class (selection sampling) */
        const int drop_pos = pos > neg;
        int64_t have = drop_pos ? pos : neg, keep = drop_pos ? neg : pos;
        for (int64_t e = 0; e < nh && have > 0; e++) {
            if (!b->mask[e] || (b->label[e] != 0) != drop_pos)
                continue;
            if ((int64_t)hli_rng_below(rng, (uint64_t)have) < keep)
                keep--;
            else
                b->mask[e] = 0;
            have--;
        }
    }
    b->nc = nc;
    b->in = (hli_net_input){.n = n, .d = d, .offsets = b->offsets, .src = b->src, .sim = b->sim, .aff = b->aff,
                            .x = b->x, .c = b->c, .n_head = nc, .efeat = b->efeat};
out:
    for (int64_t t = 0; t < n; t++)
        map[nodes[t]] = -1;
    free(nodes);
    if (st != HL_OK)
        hli_batch_free(b);
    return st;
}
