/* The Hi-LANDER graph of one level (docs/ALGORITHM.md, "The graph"): in-edges j -> i from the
 * kNN lists, without the self edge and without negative similarities, with
 * the raw cosine and the row-normalised affinity per edge, CSR by
 * destination.  The kNN lists stay in the graph: the relational edge
 * features (edge_features.c) read them. */
#include "graph/graph_internal.h"
#include "knn/knn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rounding a caller's cosines may leave them slightly outside [-1, 1]. */
#define HLI_COS_SLACK 1e-3f

/* An edge j -> i exists for every list entry j that is present (>= 0), is
 * not i itself, and has a non-negative similarity. */
static int keep_entry(int64_t j, float s, int64_t i)
{
    return j >= 0 && j != i && s >= 0.0f;
}

hl_status hli_graph_from_knn(int64_t *knn, float *knn_sim, int64_t n, int64_t k, hl_graph **out)
{
    hl_graph *g = NULL;
    if (out == NULL || knn == NULL || knn_sim == NULL || n < 1 || k < 1) {
        free(knn);
        free(knn_sim);
        return hli_error(HL_EINVAL, "graph: NULL lists or output, or n = %lld / k = %lld < 1", (long long)n,
                         (long long)k);
    }
    *out = NULL;
    g = hli_calloc(1, sizeof *g);
    if (g == NULL) {
        free(knn);
        free(knn_sim);
        return hl_last_error_status();
    }
    g->n = n;
    g->k = k;
    g->knn = knn;
    g->knn_sim = knn_sim;
    g->offsets = hli_alloc((size_t)n + 1, sizeof *g->offsets);
    if (g->offsets == NULL)
        goto fail;
    g->offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = 0;
        for (int64_t t = 0; t < k; t++)
            c += keep_entry(knn[i * k + t], knn_sim[i * k + t], i);
        g->offsets[i + 1] = g->offsets[i] + c;
    }
    const int64_t e = g->offsets[n];
    g->num_edges = e;
    g->src = hli_alloc((size_t)e, sizeof *g->src);
    g->sim = hli_alloc((size_t)e, sizeof *g->sim);
    g->aff = hli_alloc((size_t)e, sizeof *g->aff);
    if (g->src == NULL || g->sim == NULL || g->aff == NULL)
        goto fail;
#pragma omp parallel for schedule(static) num_threads(hli_threads(0))
    for (int64_t i = 0; i < n; i++) {
        int64_t p = g->offsets[i];
        double sum = 0.0;
        for (int64_t t = 0; t < k; t++) {
            const int64_t j = knn[i * k + t];
            const float s = knn_sim[i * k + t];
            if (!keep_entry(j, s, i))
                continue;
            g->src[p] = j;
            g->sim[p] = s;
            sum += s;
            p++;
        }
        /* A node whose kept sims sum to 0 (all exactly 0) gets aff = 0. */
        for (int64_t q = g->offsets[i]; q < p; q++)
            g->aff[q] = sum > 0.0 ? (float)(g->sim[q] / sum) : 0.0f;
    }
    *out = g;
    return HL_OK;
fail:
    hl_graph_free(g);
    return hl_last_error_status();
}

hl_status hli_graph_build_normalized(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts,
                                     hl_graph **out)
{
    hl_knn_options o;
    if (out == NULL)
        return hli_error(HL_EINVAL, "graph build: out is NULL");
    *out = NULL;
    if (n < 1)
        return hli_error(HL_EINVAL, "graph build: n = %lld must be >= 1", (long long)n);
    hl_status st = hli_knn_check_options(opts, n, &o);
    if (st != HL_OK)
        return st;
    if ((st = hli_check_dims("graph build: neighbour lists", n, o.k, sizeof(int64_t), NULL)) != HL_OK)
        return st;
    int64_t *knn = hli_alloc((size_t)n * (size_t)o.k, sizeof *knn);
    float *ks = hli_alloc((size_t)n * (size_t)o.k, sizeof *ks);
    if (knn == NULL || ks == NULL) {
        free(knn);
        free(ks);
        return hl_last_error_status();
    }
    st = hli_knn_normalized(xn, n, d, &o, knn, ks);
    if (st != HL_OK) {
        free(knn);
        free(ks);
        return st;
    }
    return hli_graph_from_knn(knn, ks, n, o.k, out);
}

static hl_status graph_build(const float *x, int64_t n, int64_t d, const hl_knn_options *opts, hl_graph **out)
{
    hl_knn_options o;
    if (out == NULL)
        return hli_error(HL_EINVAL, "graph build: out is NULL");
    *out = NULL;
    if (x == NULL)
        return hli_error(HL_EINVAL, "graph build: x is NULL");
    hl_status st = hli_knn_check_shape(n, d);
    if (st != HL_OK)
        return st;
    if ((st = hli_knn_check_options(opts, n, &o)) != HL_OK)
        return st;
    if ((st = hli_check_dims("graph build: neighbour lists", n, o.k, sizeof(int64_t), NULL)) != HL_OK)
        return st;
    hli_scope_threads(o.num_threads);
    float *xn = hli_normalized_copy(x, n, d, &st);
    if (xn == NULL)
        return st;
    st = hli_graph_build_normalized(xn, n, d, &o, out);
    free(xn);
    return st;
}

hl_status hl_graph_build(const float *x, int64_t n, int64_t d, const hl_knn_options *opts, hl_graph **out)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = graph_build(x, n, d, opts, out);
    hli_scope_leave(&scope);
    return st;
}

hl_status hl_graph_from_neighbors(const int64_t *nbrs, const float *sims, int64_t n, int64_t k, hl_graph **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "graph from neighbours: out is NULL");
    *out = NULL;
    if (nbrs == NULL || sims == NULL)
        return hli_error(HL_EINVAL, "graph from neighbours: %s is NULL", nbrs == NULL ? "nbrs" : "sims");
    if (n < 1)
        return hli_error(HL_EINVAL, "graph from neighbours: n = %lld must be >= 1", (long long)n);
    if (k < 1 || k > n)
        return hli_error(HL_EINVAL, "graph from neighbours: k = %lld must be in [1, n = %lld]", (long long)k,
                         (long long)n);
    hl_status st = hli_check_dims("graph from neighbours: lists", n, k, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    /* Validate everything before allocating the graph: ids in [-1, n),
     * finite similarities, no id twice in a row (a stamp per node). */
    int64_t *stamp = hli_alloc((size_t)n, sizeof *stamp);
    if (stamp == NULL)
        return hl_last_error_status();
    for (int64_t i = 0; i < n; i++)
        stamp[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t t = 0; t < k; t++) {
            const int64_t j = nbrs[i * k + t];
            const float s = sims[i * k + t];
            if (j < -1 || j >= n) {
                free(stamp);
                return hli_error(HL_EINVAL, "graph from neighbours: row %lld, entry %lld: id %lld is not in [-1, %lld)",
                                 (long long)i, (long long)t, (long long)j, (long long)n);
            }
            if (j >= 0 && !(s >= -1.0f - HLI_COS_SLACK && s <= 1.0f + HLI_COS_SLACK)) {
                free(stamp);
                return hli_error(HL_EINVAL,
                                 "graph from neighbours: row %lld, entry %lld: similarity %g is not a cosine in [-1, 1]",
                                 (long long)i, (long long)t, (double)s);
            }
            if (j >= 0) {
                if (stamp[j] == i) {
                    free(stamp);
                    return hli_error(HL_EINVAL, "graph from neighbours: row %lld lists id %lld twice",
                                     (long long)i, (long long)j);
                }
                stamp[j] = i;
            }
        }
    }
    free(stamp);
    /* Canonical stored lists: self first (similarity 1), then the caller's
     * other entries in their order; -1 entries go to the end.  A row that
     * does not list i loses its last entry, so every node keeps at most
     * k-1 neighbours. */
    int64_t *knn = hli_alloc((size_t)n * (size_t)k, sizeof *knn);
    float *ks = hli_alloc((size_t)n * (size_t)k, sizeof *ks);
    if (knn == NULL || ks == NULL) {
        free(knn);
        free(ks);
        return hl_last_error_status();
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t *row = knn + i * k;
        float *rs = ks + i * k;
        row[0] = i;
        rs[0] = 1.0f;
        int64_t p = 1;
        for (int64_t t = 0; t < k && p < k; t++) {
            const int64_t j = nbrs[i * k + t];
            if (j < 0 || j == i)
                continue;
            row[p] = j;
            rs[p] = sims[i * k + t];
            p++;
        }
        for (; p < k; p++) {
            row[p] = -1;
            rs[p] = 0.0f;
        }
    }
    return hli_graph_from_knn(knn, ks, n, k, out);
}

void hl_graph_free(hl_graph *graph)
{
    if (graph == NULL)
        return;
    free(graph->offsets);
    free(graph->src);
    free(graph->sim);
    free(graph->aff);
    free(graph->knn);
    free(graph->knn_sim);
    free(graph);
}

int64_t hl_graph_num_nodes(const hl_graph *graph)
{
    return graph ? graph->n : 0;
}

int64_t hl_graph_num_edges(const hl_graph *graph)
{
    return graph ? graph->num_edges : 0;
}

int64_t hl_graph_k(const hl_graph *graph)
{
    return graph ? graph->k : 0;
}

hl_status hl_graph_csr(const hl_graph *graph, const int64_t **offsets, const int64_t **src, const float **sim,
                       const float **aff)
{
    if (graph == NULL)
        return hli_error(HL_EINVAL, "graph csr: graph is NULL");
    if (offsets)
        *offsets = graph->offsets;
    if (src)
        *src = graph->src;
    if (sim)
        *sim = graph->sim;
    if (aff)
        *aff = graph->aff;
    return HL_OK;
}

hl_status hl_graph_density(const hl_graph *graph, const int64_t *labels, float *density)
{
    if (graph == NULL || labels == NULL || density == NULL)
        return hli_error(HL_EINVAL, "graph density: %s is NULL",
                         graph == NULL ? "graph" : (labels == NULL ? "labels" : "density"));
    const int64_t n = graph->n;
    /* k == 1 means no true neighbours: no edges and density 0 (no 1/0). */
    const double inv = graph->k > 1 ? 1.0 / (double)(graph->k - 1) : 0.0;
    for (int64_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (int64_t e = graph->offsets[i]; e < graph->offsets[i + 1]; e++) {
            const int64_t j = graph->src[e];
            acc += labels[j] == labels[i] ? (double)graph->sim[e] : -(double)graph->sim[e];
        }
        density[i] = (float)(acc * inv);
    }
    return HL_OK;
}
