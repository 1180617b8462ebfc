/*
 * libhilander - decoding and hierarchical clustering (SPEC sections 4, 5).
 */
#ifndef HILANDER_CLUSTER_H
#define HILANDER_CLUSTER_H

#include "common.h"
#include "error.h"
#include "graph.h"
#include "model.h"

HL_EXTERN_C_BEGIN

/** Called after every level; return non-zero to stop (HL_ECANCELED). */
typedef int (*hl_cluster_progress_fn)(int32_t level, int64_t num_nodes, int64_t edges_added, void *user);

/** Clustering options.  Always call hl_cluster_options_init() first. */
typedef struct hl_cluster_options {
    size_t struct_size;
    int64_t k;              /**< neighbours per level, self included (default 10) */
    float tau;              /**< edge score threshold in [0,1]; < 0 = the model's stored default,
                                 or the score's documented default without a model: SIM 0.875,
                                 SNN 0.45, chosen on Omniglot train (default -1) */
    int32_t score;          /**< an hl_score; -1 = the model's stored default, SNN without a
                                 model (default -1) */
    int32_t max_levels;     /**< level limit; 0 = automatic (the default): 10 for the oracle
                                 (truth given, SPEC 5); with a model's stored score, the level
                                 limit stored with it (hl_model_get_cluster_levels: training
                                 stores 10 when the hierarchy clusters its validation classes
                                 better); otherwise 1, for a model's score and for the
                                 unsupervised SIM/SNN, whose upper levels over-merge on the
                                 Omniglot classes held out from training (docs/QUALITY.md) */
    int32_t early_stop;     /**< 1: stop when edges_added(prev)/edges_added(this) < k-1 (default 1) */
    int32_t knn_method;     /**< an hl_knn_method (default HL_KNN_AUTO) */
    int32_t num_threads;    /**< 0 = all available; results never depend on it */
    hl_cluster_progress_fn progress;
    void *progress_user;
    /* The kNN search of every level (see hl_knn_options). */
    int64_t knn_auto_threshold; /**< knn_method AUTO: exact search for levels of at most this many
                                     nodes, approximate (IVF) above (default 50000) */
    int64_t knn_nlist;          /**< IVF cells; 0 = automatic (default).  A level with fewer nodes
                                     than knn_nlist uses the automatic count */
    int64_t knn_nprobe;         /**< IVF cells scanned per query; 0 = calibrated to
                                     knn_target_recall (default) */
    double knn_target_recall;   /**< recall@k the calibration aims at, in (0, 1] (default 0.97) */
    /* Linkage merge after the last level (docs/QUALITY.md, "Linkage merge"):
     * clusters A and B are joined when the level-0 edge scores between them,
     * both directions summed, divided by sqrt(|A| |B|), exceed merge.  It
     * mends classes the one-parent decode split into several trees.  When it
     * runs it is recorded as one more level: its nodes are the clusters
     * before it, its edges the candidate pairs, its edges added the joins. */
    float merge;                /**< > 0: the threshold; 0: off; < 0 (default -1): the model's stored
                                     threshold for its stored score (hl_model_get_cluster_merge:
                                     training chooses it on its labelled points); otherwise 1.2
                                     for score SNN (chosen on Omniglot train) and off for the
                                     other scores and the oracle */
} hl_cluster_options;

/**
 * Fill the caller's first @p struct_size bytes of @p opts with the defaults
 * and set opts->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_cluster_options_init(&opts, sizeof opts)`.  The library never writes past it.
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_cluster_options_init(hl_cluster_options *opts, size_t struct_size);

/** The result of a hierarchical clustering: labels after every level. */
typedef struct hl_clustering hl_clustering;

/**
 * Cluster n feature vectors.
 * @param model  a trained model, or NULL for the unsupervised decode (score SIM or SNN)
 * @param truth  NULL normally; n ground-truth labels for an oracle run that
 *               decodes with the true links (score 1 if same label, else 0) and
 *               ground-truth densities (diagnostics: the ceiling of the method);
 *               the model and score are then ignored and tau defaults to 0.5
 * @param out    receives the result; release with hl_clustering_free()
 * @return HL_OK; HL_EINVAL (dimension mismatch with the model, tau outside [0,1],
 *         merge NaN or infinite, k >= n, NaN/zero rows, score PROB without a model);
 *         HL_ENOMEM; HL_ECANCELED
 */
HL_API hl_status hl_cluster(const hl_model *model, const float *x, int64_t n, int64_t d,
                            const int64_t *truth, const hl_cluster_options *opts, hl_clustering **out);

/** Release a clustering result. NULL is a no-op. */
HL_API void hl_clustering_free(hl_clustering *clustering);

/** @return number of levels run (>= 1), 0 for NULL. */
HL_API int32_t hl_clustering_num_levels(const hl_clustering *clustering);

/** @return number of original points (0 for NULL). */
HL_API int64_t hl_clustering_num_points(const hl_clustering *clustering);

/**
 * Labels of all n original points after @p level (0-based; -1 = final).
 * Labels are 0..C-1, numbered in order of first appearance.
 * @param labels caller array of n int64
 * @return HL_OK or HL_EINVAL
 */
HL_API hl_status hl_clustering_labels(const hl_clustering *clustering, int32_t level, int64_t *labels);

/**
 * Per-level statistics: nodes in the level's graph, its edges, edges the
 * decode added, clusters after the level.  Any output may be NULL.
 * @return HL_OK or HL_EINVAL
 */
HL_API hl_status hl_clustering_level_stats(const hl_clustering *clustering, int32_t level,
                                           int64_t *num_nodes, int64_t *num_edges,
                                           int64_t *edges_added, int64_t *num_clusters);

/**
 * One decode (SPEC section 4) on a graph: keep edge j -> i iff
 * density[j] > density[i] and score[e] > tau; each node keeps its best kept
 * in-edge as parent.
 * @param score    one value per graph edge
 * @param density  one value per node
 * @param parent   caller array of n: the parent of each node, -1 for peaks (may be NULL)
 * @param labels   caller array of n: the peak of each node's tree (may be NULL)
 * @return HL_OK or HL_EINVAL
 */
HL_API hl_status hl_decode(const hl_graph *graph, const float *score, const float *density, float tau,
                           int64_t *parent, int64_t *labels);

HL_EXTERN_C_END

#endif
