/* The layout of hl_graph, shared by the files that build and read graphs. */
#ifndef HILANDER_GRAPH_INTERNAL_H
#define HILANDER_GRAPH_INTERNAL_H

#include "knn/knn_internal.h"

struct hl_graph {
    int64_t n;          /* nodes */
    int64_t k;          /* neighbours per node, self included */
    int64_t num_edges;  /* E */
    int64_t *offsets;   /* n+1: in-edges of i are [offsets[i], offsets[i+1]) */
    int64_t *src;       /* E: source j of edge j -> i */
    float *sim;         /* E: cosine similarity */
    float *aff;         /* E: sim / sum of sims into i */
    int64_t *knn;       /* n*k: kNN lists, self first, -1 for a missing entry */
    float *knn_sim;     /* n*k: their similarities */
};

/* Build the CSR graph (docs/ALGORITHM.md, "The graph") from kNN lists.  Takes ownership of
 * @p knn and @p knn_sim (also on failure). */
hl_status hli_graph_from_knn(int64_t *knn, float *knn_sim, int64_t n, int64_t k, hl_graph **out);

/* Number of edge features selected by @p flags (hl_edge_feature bits). */
int hli_edge_feature_count(uint32_t flags);

/* Per-edge features for the relational head and the unsupervised "snn"
 * score, in the order of the hl_edge_feature bits, E x m row-major.
 * @p x (n*d normalised features) is needed only for HL_EDGE_FEAT_MEAN_COS. */
hl_status hli_edge_features(const hl_graph *g, uint32_t flags, const float *x, int64_t d, int num_threads,
                            float *out);

/* The decode's choice for node @p i (hl_decode's rule, docs/ALGORITHM.md
 * "Decode"): among its @p m in-edges (sources @p src, cosines @p sim, scores
 * @p score), the parent, or -1 for a peak.  *parent_score (may be NULL)
 * receives the chosen edge's score.  hl_decode and collections share it. */
int64_t hli_decode_parent(int64_t i, const int64_t *src, const float *sim, const float *score, int64_t m,
                          const float *density, float tau, float *parent_score);

/* The shared-neighbour count of two kNN lists of k entries each sorted
 * ascending: common entries, -1 (missing) never matching.  The snn score of
 * an edge is this count / k. */
int64_t hli_snn_count(const int64_t *a_sorted, const int64_t *b_sorted, int64_t k);

/* hl_graph_build on already-normalised features. */
hl_status hli_graph_build_normalized(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts,
                                     hl_graph **out);

#endif
