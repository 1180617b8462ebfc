/* One decode (docs/ALGORITHM.md, "Decode").
 *
 * Edge j -> i is kept iff density[j] > density[i] and score > tau; every node
 * keeps at most one kept in-edge, the one with the largest score (ties: the
 * smaller source index), as its parent.
 *
 * Twins (an edge of cosine similarity >= HLI_TWIN_SIM: the same row up to
 * float rounding, e.g. a duplicate photo) would never link under that rule
 * when their densities tie, so a twin edge is kept whatever its score when j
 * comes first in the order (density descending, then index ascending), and a
 * node prefers a twin parent.  Every kept edge goes up in that one total
 * order, so the result is a forest; each tree is one cluster, named by its
 * root (peak). */
#include "graph/graph_internal.h"

#include <math.h>
#include <stdlib.h>

/* Cosine similarity from which two rows count as the same point: identical
 * L2-normalised rows give 1 up to a few float roundings. */
#define HLI_TWIN_SIM (1.0f - 1e-6f)

/* Whether edge e (j -> i, cosine @p sim) is kept, and whether it is a twin edge. */
static int kept_edge(float sim, float score, float tau, float dj, float di, int64_t j, int64_t i, int *twin)
{
    *twin = sim >= HLI_TWIN_SIM && (dj > di || (dj == di && j < i));
    return *twin || (dj > di && score > tau);
}

int64_t hli_decode_parent(int64_t i, const int64_t *src, const float *sim, const float *score, int64_t m,
                          const float *density, float tau, float *parent_score)
{
    int64_t best = -1;
    float bs = 0.0f;
    int btwin = 0, twin = 0;
    for (int64_t e = 0; e < m; e++) {
        const int64_t j = src[e];
        if (!kept_edge(sim[e], score[e], tau, density[j], density[i], j, i, &twin))
            continue;
        if (best < 0 || twin > btwin || (twin == btwin && (score[e] > bs || (score[e] == bs && j < best)))) {
            best = j;
            bs = score[e];
            btwin = twin;
        }
    }
    if (parent_score != NULL)
        *parent_score = bs;
    return best;
}

hl_status hl_decode(const hl_graph *graph, const float *score, const float *density, float tau, int64_t *parent,
                    int64_t *labels)
{
    if (graph == NULL)
        return hli_error(HL_EINVAL, "decode: graph is NULL");
    if (score == NULL && graph->num_edges > 0)
        return hli_error(HL_EINVAL, "decode: score is NULL");
    if (density == NULL)
        return hli_error(HL_EINVAL, "decode: density is NULL");
    if (isnan(tau))
        return hli_error(HL_EINVAL, "decode: tau is NaN");
    const int64_t n = graph->n;
    if (n < 1)
        return hli_error(HL_EINVAL, "decode: graph has %lld nodes", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (isnan(density[i]))
            return hli_error(HL_EINVAL, "decode: density[%lld] is NaN", (long long)i);
    for (int64_t e = 0; e < graph->num_edges; e++)
        if (isnan(score[e]))
            return hli_error(HL_EINVAL, "decode: score[%lld] (edge %lld -> ?) is NaN", (long long)e,
                             (long long)graph->src[e]);
    if (parent == NULL && labels == NULL)
        return HL_OK;

    int64_t *par = parent;
    if (par == NULL) {
        par = hli_alloc((size_t)n, sizeof(int64_t));
        if (par == NULL)
            return hl_last_error_status();
    }
    const int64_t *off = graph->offsets, *src = graph->src;
#pragma omp parallel for num_threads(hli_threads(0)) schedule(static)
    for (int64_t i = 0; i < n; i++)
        par[i] = hli_decode_parent(i, src + off[i], graph->sim + off[i], score + off[i], off[i + 1] - off[i], density,
                                   tau, NULL);
    if (labels != NULL) {
        /* Roots with path compression: labels[] doubles as the memo. */
        for (int64_t i = 0; i < n; i++)
            labels[i] = -1;
        for (int64_t i = 0; i < n; i++) {
            if (labels[i] >= 0)
                continue;
            int64_t r = i;
            while (par[r] >= 0 && labels[r] < 0)
                r = par[r];
            int64_t root = labels[r] >= 0 ? labels[r] : r;
            for (int64_t v = i; v != r; v = par[v])
                labels[v] = root;
            labels[r] = root;
        }
    }
    if (par != parent)
        free(par);
    return HL_OK;
}
