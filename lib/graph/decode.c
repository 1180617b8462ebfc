/* One decode (docs/ALGORITHM.md, "Decode").
 *
 * Edge j -> i is kept iff density[j] > density[i] and score > tau; every node
 * keeps at most one kept in-edge, the one with the largest score (ties: the
 * smaller source index), as its parent.  Because density strictly increases
 * along parent pointers the result is a forest; each tree is one cluster,
 * named by its root (peak). */
#include "graph/graph_internal.h"

#include <math.h>
#include <stdlib.h>

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
    int nt = hli_threads(0);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        int64_t best = -1;
        float bs = 0.0f;
        for (int64_t e = off[i]; e < off[i + 1]; e++) {
            int64_t j = src[e];
            if (!(density[j] > density[i]) || !(score[e] > tau))
                continue;
            if (best < 0 || score[e] > bs || (score[e] == bs && j < best)) {
                best = j;
                bs = score[e];
            }
        }
        par[i] = best;
    }
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
