/* Internal: one level of the Hi-LANDER hierarchy (SPEC section 5), shared by
 * clustering (cluster.c) and by the multi-level training set (train*.c). */
#ifndef HILANDER_HIERARCHY_H
#define HILANDER_HIERARCHY_H

#include "graph_internal.h"

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

void hli_level_free(hli_level *lv);

/* Automatic level limits of hl_cluster (max_levels = 0).  The oracle keeps
 * the SPEC's 10 (true links make every level precise: pairwise F 0.896 ->
 * 0.952 on Omniglot test).  Learned and unsupervised scores stop after one
 * level: on classes held out from training, the upper levels of their
 * decodes over-merge at every tau (docs/QUALITY.md, "How many levels").  The
 * trainer's tau selection relies on these (lib/train.c). */
#define HLI_LEVELS_ORACLE 10
#define HLI_LEVELS_MODEL 1
#define HLI_LEVELS_UNSUPERVISED 1

/* Edge scores @p sc (one per edge of @p g) and node densities @p dens of one
 * level, as hl_cluster computes them: the model's p_ij[1] and dhat (score
 * HL_SCORE_PROB), or the cosine / shared-neighbour fraction with density =
 * the mean score over the in-edges, or (oracle) the true links and density
 * from lv->label. */
hl_status hli_level_scores(const hl_model *model, const hli_level *lv, const hl_graph *g, int32_t score, int oracle,
                           int32_t num_threads, float *sc, float *dens);

#endif
