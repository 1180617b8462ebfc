/* The edge scores and node densities of one level of the hierarchy, for each
 * kind of score: the model's learned link probability and density, the
 * unsupervised cosine or shared-neighbour fraction (density = mean score over
 * a node's in-edges), or the oracle's true links. */
#include "cluster/cluster_internal.h"
#include "model/model_internal.h"

#include <string.h>

hl_status hli_level_scores(const hl_model *model, const hli_level *lv, const hl_graph *g, int32_t score, int oracle,
                           int32_t num_threads, float *sc, float *dens)
{
    const int64_t n = lv->n;
    const int64_t *off = g->offsets, *src = g->src;
    int nt = hli_threads(num_threads);
    if (oracle) {
        hl_status st = hl_graph_density(g, lv->label, dens);
        if (st != HL_OK)
            return st;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t i = 0; i < n; i++)
            for (int64_t e = off[i]; e < off[i + 1]; e++)
                sc[e] = lv->label[src[e]] == lv->label[i] ? 1.0f : 0.0f;
        return HL_OK;
    }
    if (score == HL_SCORE_PROB)
        return hl_model_predict(model, g, lv->x, lv->c, n, lv->d, num_threads, sc, dens);
    if (score == HL_SCORE_SIM) {
        if (g->num_edges > 0)
            memcpy(sc, g->sim, (size_t)g->num_edges * sizeof(float));
    } else {
        hl_status st = hli_edge_features(g, HL_EDGE_FEAT_SNN, NULL, 0, nt, sc);
        if (st != HL_OK)
            return st;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t e = off[i]; e < off[i + 1]; e++)
            s += sc[e];
        int64_t m = off[i + 1] - off[i];
        dens[i] = m > 0 ? (float)(s / (double)m) : 0.0f;
    }
    return HL_OK;
}
