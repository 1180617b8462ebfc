/* Clustering internals shared with the trainer, which chooses a model's
 * stored clustering defaults by clustering its validation classes exactly as
 * hl_cluster will. */
#ifndef HILANDER_CLUSTER_INTERNAL_H
#define HILANDER_CLUSTER_INTERNAL_H

#include "cluster/merge.h"
#include "graph/hierarchy_level.h"

/* Automatic level limits of hl_cluster (max_levels = 0): 10 for the oracle
 * (true links keep every level precise), 1 for learned and unsupervised
 * scores, whose upper levels over-merge on classes held out from training
 * (docs/QUALITY.md).  The trainer's selection of the stored defaults relies on
 * these. */
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

/* The linkage merge threshold hl_cluster uses with score SNN when neither the
 * caller nor the model gives one. */
#define HLI_DEFAULT_MERGE 1.2f

/* ---- options (cluster_options.c) ------------------------------------------- */

/* What a call of hl_cluster will do once options and model are resolved. */
typedef struct hli_cluster_plan {
    int oracle;         /* truth given: true links and densities */
    int32_t score;      /* an hl_score */
    float tau;          /* decode threshold in [0, 1] */
    float merge;        /* linkage merge threshold, 0 = off */
    int32_t max_levels; /* >= 1 */
} hli_cluster_plan;

/* The caller's options (NULL = defaults) as the library's full struct. */
hl_status hli_cluster_options_read(const hl_cluster_options *opts, hl_cluster_options *full);
/* HL_EINVAL naming the first option out of range for n points of d columns. */
hl_status hli_cluster_options_check(const hl_cluster_options *opts, int64_t n, int64_t d);
/* Fill @p plan from checked options, the model's stored defaults (when
 * @p model is not NULL and not @p oracle) and the library's defaults. */
hl_status hli_cluster_plan_resolve(const hl_model *model, int oracle, const hl_cluster_options *opts, int64_t d,
                                   hli_cluster_plan *plan);
/* "prob", "sim", "snn" or "?". */
const char *hli_score_name(int32_t score);

/* ---- the result (clustering.c) --------------------------------------------- */

struct hl_clustering {
    int64_t n;
    int32_t num_levels;
    int32_t cap;
    int64_t *labels;     /* cap * n */
    int64_t *stats;      /* cap * 4: nodes, edges, edges added, clusters */
    int64_t **rep;       /* cap: per level, the representative point of each cluster */
    int64_t *num_rep;    /* cap: clusters per level (entries of rep[level]) */
    float *confidence;   /* n: score of the level-0 edge that attached each point, 1 for peaks */
};

/* An empty result for n points. */
hl_status hli_clustering_create(int64_t n, hl_clustering **out);
/* Append one level: point q is in node node_of_point[q] of num_nodes_next
 * nodes (labels renumbered by first appearance), node v's representative
 * point is node_rep[v]; stats as in struct above. */
hl_status hli_clustering_record(hl_clustering *c, const int64_t *node_of_point, int64_t num_nodes_next,
                                const int64_t *node_rep, const int64_t stats[4]);

#endif
