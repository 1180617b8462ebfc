/* One level of the Hi-LANDER hierarchy (docs/ALGORITHM.md, "The hierarchy"):
 * its nodes, their features and which original points each node holds.
 * Shared by clustering and by the multi-level training set. */
#ifndef HILANDER_HIERARCHY_H
#define HILANDER_HIERARCHY_H

#include "graph/graph_internal.h"

/* The nodes of one level.  At level 0 a node is an original point. */
typedef struct hli_level {
    int64_t n;              /* nodes at this level */
    int64_t d;              /* feature dimension */
    float *x;               /* n*d: node features (the peak's level-0 feature), L2-normalised */
    float *c;               /* n*d: cluster features: mean of the original normalised features
                               of every original point in the node (not re-normalised) */
    int64_t *label;         /* n: ground-truth label of the node (its peak's), or NULL */
    int64_t n_points;       /* original points */
    int64_t *node_of_point; /* n_points: the node at this level holding each original point */
} hli_level;

/* Level 0 from normalised features @p x (copied) and optional labels (copied). */
hl_status hli_level_init(hli_level *lv, const float *x, int64_t n, int64_t d, const int64_t *labels);

/* Build the next level from a decode of @p cur: @p peak[i] is the peak node
 * (root of i's tree) of node i, as hl_decode() returns in its labels.  One new
 * node per distinct peak, numbered in increasing order of peak index.
 * @p x0 are the original normalised features (n_points*d) for the means. */
hl_status hli_level_next(const hli_level *cur, const int64_t *peak, const float *x0, hli_level *next);

/* The next level's nodes only (n, n_points, node_of_point, label; x and c
 * NULL): what the last level of a clustering needs, without 2 x nodes x d
 * floats of features nobody reads. */
hl_status hli_level_next_map(const hli_level *cur, const int64_t *peak, hli_level *next);

void hli_level_free(hli_level *lv);

#endif
