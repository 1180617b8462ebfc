/* Edge features of the relational link head (docs/ALGORITHM.md, "Edge features") and the unsupervised
 * shared-neighbour score (docs/ALGORITHM.md, "Scores without a model").  They describe the *relation* between two
 * nodes (how much their neighbourhoods overlap, whether the link is mutual),
 * which transfers to unseen classes where node positions do not. */
#include "graph/graph_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLI_EDGE_FEAT_ALL 0x3FFu

int hli_edge_feature_count(uint32_t flags)
{
    return __builtin_popcount(flags & HLI_EDGE_FEAT_ALL);
}

int64_t hli_snn_count(const int64_t *a, const int64_t *b, int64_t k)
{
    int64_t i = 0, j = 0, c = 0;
    while (i < k && j < k) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            c += a[i] >= 0;
            i++;
            j++;
        }
    }
    return c;
}

/* The similarity of node v to its nearest neighbour other than itself. */
static float nn_sim(const hl_graph *g, int64_t v)
{
    const int64_t *row = g->knn + v * g->k;
    for (int64_t t = 0; t < g->k; t++)
        if (row[t] >= 0 && row[t] != v)
            return g->knn_sim[v * g->k + t];
    return 0.0f;
}

/* Rank of @p j among @p v's non-self neighbours, divided by k-1 (0 = the
 * nearest); 1 if j is not in v's list. */
static float rank_of(const hl_graph *g, int64_t v, int64_t j)
{
    const int64_t *row = g->knn + v * g->k;
    int64_t r = 0;
    for (int64_t t = 0; t < g->k; t++) {
        if (row[t] < 0 || row[t] == v)
            continue;
        if (row[t] == j)
            return g->k > 1 ? (float)r / (float)(g->k - 1) : 0.0f;
        r++;
    }
    return 1.0f;
}

/* Mean similarity of node v to its non-self neighbours (0 if none). */
static float mean_nn_sim(const hl_graph *g, int64_t v)
{
    const int64_t *row = g->knn + v * g->k;
    double s = 0.0;
    int64_t c = 0;
    for (int64_t t = 0; t < g->k; t++)
        if (row[t] >= 0 && row[t] != v) {
            s += g->knn_sim[v * g->k + t];
            c++;
        }
    return c > 0 ? (float)(s / (double)c) : 0.0f;
}

hl_status hli_edge_features(const hl_graph *g, uint32_t flags, const float *x, int64_t d, int num_threads,
                            float *out)
{
    (void)num_threads; /* used only by the OpenMP pragmas */
    if (g == NULL || out == NULL)
        return hli_error(HL_EINVAL, "edge features: graph or output is NULL");
    if (flags & ~HLI_EDGE_FEAT_ALL)
        return hli_error(HL_EINVAL, "edge features: unknown flag bits 0x%x", flags & ~HLI_EDGE_FEAT_ALL);
    if ((flags & HL_EDGE_FEAT_MEAN_COS) && (x == NULL || d < 1))
        return hli_error(HL_EINVAL, "edge features: MEAN_COS needs the node features");
    const int64_t n = g->n, k = g->k;
    const int m = hli_edge_feature_count(flags);
    if (m == 0 || g->num_edges == 0)
        return HL_OK;

    int64_t *sorted = NULL;
    float *means = NULL, *msim = NULL;
    if (flags & (HL_EDGE_FEAT_REL_SIM_DST | HL_EDGE_FEAT_REL_SIM_SRC)) {
        msim = hli_alloc((size_t)n, sizeof *msim);
        if (msim == NULL)
            return hl_last_error_status();
        for (int64_t i = 0; i < n; i++)
            msim[i] = mean_nn_sim(g, i);
    }
    if (flags & (HL_EDGE_FEAT_SNN | HL_EDGE_FEAT_RECIPROCAL)) {
        sorted = hli_alloc((size_t)n * (size_t)k, sizeof *sorted);
        if (sorted == NULL) {
            free(msim);
            return hl_last_error_status();
        }
        memcpy(sorted, g->knn, (size_t)n * (size_t)k * sizeof *sorted);
#pragma omp parallel for schedule(static) num_threads(num_threads)
        for (int64_t i = 0; i < n; i++)
            qsort(sorted + i * k, (size_t)k, sizeof *sorted, hli_cmp_i64);
    }
    if (flags & HL_EDGE_FEAT_MEAN_COS) {
        means = hli_calloc((size_t)n * (size_t)d, sizeof *means);
        if (means == NULL) {
            free(sorted);
            free(msim);
            return hl_last_error_status();
        }
#pragma omp parallel for schedule(static) num_threads(num_threads)
        for (int64_t i = 0; i < n; i++) {
            float *mi = means + i * d;
            double ss = 0.0;
            for (int64_t t = 0; t < k; t++) {
                int64_t j = g->knn[i * k + t];
                if (j < 0)
                    continue;
                for (int64_t c = 0; c < d; c++)
                    mi[c] += x[j * d + c];
            }
            for (int64_t c = 0; c < d; c++)
                ss += (double)mi[c] * mi[c];
            float inv = ss > 0.0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
            for (int64_t c = 0; c < d; c++)
                mi[c] *= inv;
        }
    }

#pragma omp parallel for schedule(dynamic, 256) num_threads(num_threads)
    for (int64_t i = 0; i < n; i++) {
        for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++) {
            const int64_t j = g->src[e];
            float *f = out + e * m;
            int c = 0;
            if (flags & HL_EDGE_FEAT_SIM)
                f[c++] = g->sim[e];
            if (flags & HL_EDGE_FEAT_SNN)
                f[c++] = (float)hli_snn_count(sorted + i * k, sorted + j * k, k) / (float)k;
            if (flags & HL_EDGE_FEAT_RECIPROCAL) {
                const int64_t *row = sorted + j * k;
                f[c++] = bsearch(&i, row, (size_t)k, sizeof *row, hli_cmp_i64) != NULL ? 1.0f : 0.0f;
            }
            if (flags & HL_EDGE_FEAT_NN_SIM_DST)
                f[c++] = nn_sim(g, i);
            if (flags & HL_EDGE_FEAT_NN_SIM_SRC)
                f[c++] = nn_sim(g, j);
            if (flags & HL_EDGE_FEAT_MEAN_COS) {
                double dot = 0.0;
                for (int64_t q = 0; q < d; q++)
                    dot += (double)means[i * d + q] * means[j * d + q];
                f[c++] = (float)dot;
            }
            if (flags & HL_EDGE_FEAT_RANK_DST)
                f[c++] = rank_of(g, i, j);
            if (flags & HL_EDGE_FEAT_RANK_SRC)
                f[c++] = rank_of(g, j, i);
            if (flags & HL_EDGE_FEAT_REL_SIM_DST)
                f[c++] = g->sim[e] - msim[i];
            if (flags & HL_EDGE_FEAT_REL_SIM_SRC)
                f[c++] = g->sim[e] - msim[j];
        }
    }
    free(sorted);
    free(means);
    free(msim);
    return HL_OK;
}
