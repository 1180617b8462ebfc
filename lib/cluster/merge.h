/* The linkage merge after the last level of the hierarchy (merge.c):
 * clusters whose level-0 link is strong enough are joined. */
#ifndef HILANDER_CLUSTER_MERGE_H
#define HILANDER_CLUSTER_MERGE_H

#include "graph/graph_internal.h"

/* The linkage scores of the level-0 graph @p g: the shared-neighbour fraction
 * of every edge, which judges clusters better than the decode's own score
 * (docs/QUALITY.md).  @p snn: those scores if already computed (returned as
 * they are), else NULL (a new array is returned).  NULL on failure. */
float *hli_merge_scores(const hl_graph *g, float *snn, int num_threads);

/* Linkage merge after the last level (merge.c).  One candidate pair of
 * clusters a < b and their link: the level-0 edge scores between them, both
 * directions summed, over sqrt(|a| |b|). */
typedef struct hli_link {
    int64_t a, b;
    double w;
} hli_link;

/* The links between the clusters @p label (one id in [0, num_clusters) per
 * node of the level-0 graph @p g; ids may be unused) under the edge scores
 * @p sc, sorted by decreasing w (ties by a, then b).  *out is malloc'ed
 * (NULL when there is no pair). */
hl_status hli_cluster_links(const hl_graph *g, const float *sc, const int64_t *label, int64_t num_clusters,
                            hli_link **out, int64_t *count);

/* Union-find over the clusters, fed with links in decreasing order so that a
 * sweep over falling thresholds (the trainer) continues where it stopped. */
typedef struct hli_merge {
    int64_t *parent;        /* num_clusters, caller-owned */
    int64_t num_clusters;
    int64_t next;           /* links consumed so far */
    int64_t unions;         /* joins made so far */
} hli_merge;

void hli_merge_init(hli_merge *m, int64_t *parent, int64_t num_clusters);
/* Join the clusters of every link with w > threshold (links sorted by
 * hli_cluster_links; thresholds of successive calls must not rise). */
void hli_merge_until(hli_merge *m, const hli_link *links, int64_t count, double threshold);
/* out[i] = the merged cluster of label[i]: the smallest cluster id of its
 * component.  out may alias label. */
void hli_merge_apply(hli_merge *m, const int64_t *label, int64_t n, int64_t *out);

#endif
