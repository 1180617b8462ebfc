/* The Hi-LANDER graph (SPEC section 1) (stub, being implemented). */
#include "graph_internal.h"

#include <stdlib.h>

hl_status hli_graph_from_knn(int64_t *knn, float *knn_sim, int64_t n, int64_t k, hl_graph **out)
{
    (void)n;
    (void)k;
    (void)out;
    free(knn);
    free(knn_sim);
    return hli_error(HL_EINTERNAL, "hli_graph_from_knn: not implemented yet");
}

hl_status hl_graph_build(const float *x, int64_t n, int64_t d, const hl_knn_options *opts, hl_graph **out)
{
    (void)x;
    (void)n;
    (void)d;
    (void)opts;
    (void)out;
    return hli_error(HL_EINTERNAL, "hl_graph_build: not implemented yet");
}

hl_status hl_graph_from_neighbors(const int64_t *nbrs, const float *sims, int64_t n, int64_t k, hl_graph **out)
{
    (void)nbrs;
    (void)sims;
    (void)n;
    (void)k;
    (void)out;
    return hli_error(HL_EINTERNAL, "hl_graph_from_neighbors: not implemented yet");
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
        return hli_error(HL_EINVAL, "hl_graph_csr: graph is NULL");
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
    (void)graph;
    (void)labels;
    (void)density;
    return hli_error(HL_EINTERNAL, "hl_graph_density: not implemented yet");
}
