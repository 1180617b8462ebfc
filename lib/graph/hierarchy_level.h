/* Internal: one level of the Hi-LANDER hierarchy (SPEC section 5), shared by
 * clustering (cluster.c) and by the multi-level training set (train*.c). */
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

/* The linkage merge without a stored threshold, for score SNN: what the
 * trainer's selection (lib/train.c, train_merge) picks on the Omniglot TRAIN
 * classes, with tau 0.45: mean of pairwise and BCubed F 0.586 without the
 * merge, 0.648 at 1.2 (0.647 at 1.0, 0.646 at 1.4; docs/QUALITY.md). */
#define HLI_DEFAULT_MERGE 1.2f

/* The linkage scores of the level-0 graph @p g: the shared-neighbour fraction
 * of every edge, which judges clusters better than the decode's own score
 * (docs/QUALITY.md).  @p snn: those scores if already computed (returned as
 * they are), else NULL (a new array is returned).  NULL on failure. */
float *hli_merge_scores(const hl_graph *g, float *snn, int num_threads);

/* Linkage merge after the last level (lib/merge.c).  One candidate pair of
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
 * sweep over falling thresholds (lib/train.c) continues where it stopped. */
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
