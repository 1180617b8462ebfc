/*
 * libhilander - decoding and hierarchical clustering: features in, labels out.
 *
 * The steps are described in docs/ALGORITHM.md ("Decode", "The hierarchy",
 * "Linkage merge").  Thread safety: hl_cluster and hl_decode may run
 * concurrently on any threads, also sharing one model; one hl_clustering
 * result may be read from several threads at once.
 */
#ifndef HILANDER_CLUSTER_H
#define HILANDER_CLUSTER_H

#include "common.h"
#include "error.h"
#include "graph.h"
#include "model.h"

HL_EXTERN_C_BEGIN

/**
 * Progress callback of hl_cluster, called on the calling thread after every
 * level (and after the linkage merge) with the level index, the level's node
 * count and the edges its decode added.
 * @return 0 to continue; non-zero to stop (hl_cluster then returns HL_ECANCELED)
 */
typedef int (*hl_cluster_progress_fn)(int32_t level, int64_t num_nodes, int64_t edges_added, void *user);

/** Clustering options.  Fill with hl_cluster_options_init() first, then
 *  change the fields you need. */
typedef struct hl_cluster_options {
    size_t struct_size;     /**< set by hl_cluster_options_init(); always the first member */
    int64_t k;              /**< neighbours per node, self included, >= 2 and < n (default 10) */
    float tau;              /**< edge score threshold of the decode, in [0, 1]; < 0 (default -1):
                                 the model's stored tau when its stored score is used, otherwise the
                                 score's default: SIM 0.875, SNN 0.45, PROB 0.5, oracle 0.5 */
    int32_t score;          /**< an hl_score; -1 (default): the model's stored score, or
                                 HL_SCORE_SNN without a model.  HL_SCORE_PROB needs a model */
    int32_t max_levels;     /**< level limit, >= 0; 0 (default) = automatic: 10 for the oracle,
                                 the model's stored limit (hl_model_get_cluster_levels) when its
                                 stored score is used and the limit is set, otherwise 1 */
    int32_t early_stop;     /**< 1 (default): stop after a level when
                                 edges_added(previous) / edges_added(this) < k-1; 0: never */
    int32_t knn_method;     /**< an hl_knn_method (default HL_KNN_AUTO) */
    int32_t num_threads;    /**< 0 (default) = all available; results never depend on it */
    hl_cluster_progress_fn progress; /**< called after every level, may be NULL (default) */
    void *progress_user;    /**< passed to @p progress */
    /* The kNN search of every level (see hl_knn_options). */
    int64_t knn_auto_threshold; /**< >= 0; knn_method AUTO: exact search for levels of at most this many
                                     nodes, approximate (IVF) above (default 50000) */
    int64_t knn_nlist;          /**< >= 0; IVF cells, 0 = automatic (default).  A level with fewer nodes
                                     than knn_nlist uses the automatic count */
    int64_t knn_nprobe;         /**< >= 0; IVF cells scanned per query, 0 = calibrated to
                                     knn_target_recall (default) */
    double knn_target_recall;   /**< recall@k the IVF calibration aims at, in (0, 1] (default 0.97) */
    /** Linkage merge after the last level (docs/ALGORITHM.md, "Linkage merge"):
     *  clusters A and B are joined when the shared-neighbour scores of the
     *  level-0 edges between them, both directions summed, divided by
     *  sqrt(|A| |B|), exceed this threshold.  When it runs it is recorded as
     *  one more level.  Finite; > 0: the threshold; 0: off; < 0 (default -1):
     *  the model's stored threshold (hl_model_get_cluster_merge) when its
     *  stored score is used, otherwise 1.2 for HL_SCORE_SNN and off for the
     *  other scores and the oracle. */
    float merge;
    /* Appended in 0.2.0 (the 0.1.0 layout ends above). */
    uint64_t knn_seed;          /**< seed of the IVF k-means and calibration (default 0); exact search
                                     ignores it */
} hl_cluster_options;

/**
 * Fill the caller's first @p struct_size bytes of @p opts with the defaults
 * and set opts->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_cluster_options_init(&opts, sizeof opts)`.  The library never writes past it
 * (docs/API.md, "Versioning rule for options and result structs").
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_cluster_options_init(hl_cluster_options *opts, size_t struct_size);

/** The result of a hierarchical clustering: labels after every level. */
typedef struct hl_clustering hl_clustering;

/**
 * Cluster n feature vectors hierarchically.  The rows are L2-normalised (and
 * mapped by the model's feature map, if any) into the library's own copy;
 * @p x is not modified.
 * @param model  a trained model (read only), or NULL for the model-free decode
 *               (score SIM or SNN)
 * @param x      n*d row-major features, finite, no zero row; d must equal the
 *               model's feature_dim
 * @param truth  NULL normally; n ground-truth labels for an oracle run that
 *               decodes with the true links (1 if same label, else 0) and the
 *               ground-truth densities (a diagnostic); the model and score are
 *               then ignored and tau defaults to 0.5
 * @param opts   options set up by hl_cluster_options_init(), or NULL for the defaults
 * @param out    receives the result on success; release with hl_clustering_free()
 * @return HL_OK; HL_EINVAL (NULL x or out, n < 1, d < 1, k < 2 or k >= n,
 *         dimension mismatch with the model, tau NaN or above 1, unknown score
 *         or knn_method, merge NaN or infinite, negative max_levels or kNN
 *         sizes, knn_target_recall outside (0, 1], a non-finite or zero row,
 *         score PROB without a model, a bad struct_size); HL_ERANGE (sizes
 *         overflow); HL_ENOMEM; HL_ECANCELED (the progress callback stopped it;
 *         no result is returned)
 */
HL_API hl_status hl_cluster(const hl_model *model, const float *x, int64_t n, int64_t d,
                            const int64_t *truth, const hl_cluster_options *opts, hl_clustering **out);

/**
 * hl_cluster with the caller's own level-0 neighbours: level 0 uses @p graph
 * (for instance built by hl_graph_from_neighbors() from the lists of another
 * index) instead of the library's kNN search; the levels above search as
 * hl_cluster does, with opts->k.  With the graph hl_graph_build() would make
 * from the same rows and k, the result is the same as hl_cluster's.
 * @param graph  n nodes, read only, not retained (may be freed after the call)
 * Other parameters as hl_cluster().
 * @return as hl_cluster(); also HL_EINVAL when @p graph is NULL or does not
 *         have n nodes.  Since 0.2.0.
 */
HL_API hl_status hl_cluster_from_graph(const hl_model *model, const hl_graph *graph, const float *x, int64_t n,
                                       int64_t d, const int64_t *truth, const hl_cluster_options *opts,
                                       hl_clustering **out);

/**
 * hl_cluster without a working copy of the features: @p x itself becomes the
 * rows the library clusters (L2-normalised, then mapped by the model's
 * feature map), which saves n x d x 4 bytes, the largest allocation of a
 * clustering (5 GB at 10 million 128-d rows).  The labels are the same as
 * hl_cluster's on the same rows.
 * @param x  n x d rows, overwritten.  The options, the dimensions and every
 *           row (finite, not zero) are checked before anything is written, so
 *           an HL_EINVAL or HL_ERANGE for them leaves @p x as it was; after
 *           HL_OK, and after a later failure (HL_ENOMEM, HL_ECANCELED, a row
 *           the model's map sends to zero), @p x holds normalised rows.
 * Other parameters as hl_cluster().
 * @return as hl_cluster().  Since 0.3.0.
 */
HL_API hl_status hl_cluster_in_place(const hl_model *model, float *x, int64_t n, int64_t d, const int64_t *truth,
                                     const hl_cluster_options *opts, hl_clustering **out);

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
 * @return HL_OK; HL_EINVAL (NULL argument, level outside [-1, num_levels))
 */
HL_API hl_status hl_clustering_labels(const hl_clustering *clustering, int32_t level, int64_t *labels);

/**
 * Per-level statistics: nodes in the level's graph, its edges, edges the
 * decode added, clusters after the level.  For the linkage-merge level: the
 * clusters before it, the candidate pairs, the joins, the clusters after it.
 * Any output may be NULL.
 * @param level 0-based level, -1 = the last
 * @return HL_OK; HL_EINVAL (NULL clustering, level out of range)
 */
HL_API hl_status hl_clustering_level_stats(const hl_clustering *clustering, int32_t level,
                                           int64_t *num_nodes, int64_t *num_edges,
                                           int64_t *edges_added, int64_t *num_clusters);

/**
 * How sure each point's assignment is: confidence[q] in [0, 1] is the score
 * (under the clustering's score: the model's link probability, cosine or
 * shared-neighbour fraction) of the level-0 edge that attached point q to its
 * tree in the decode, and 1 for a point that is the peak of its level-0 tree.
 * A low value marks a point that joined its cluster by a weak link.
 * @param confidence caller array of hl_clustering_num_points() floats
 * @return HL_OK; HL_EINVAL (NULL argument).  Since 0.2.0.
 */
HL_API hl_status hl_clustering_confidence(const hl_clustering *clustering, float *confidence);

/**
 * The clusters of one level: for cluster id c in [0, num_clusters) (the ids
 * of hl_clustering_labels() at that level; num_clusters from
 * hl_clustering_level_stats()), sizes[c] = its number of points and
 * representatives[c] = the point it grew from: the peak of its tree, traced
 * down to level 0 through the peaks of the levels below (for the
 * linkage-merge level: the merged clusters' representative with the highest
 * level-0 density, ties to the smaller index).
 * @param level 0-based level, -1 = the last
 * @param sizes, representatives caller arrays of num_clusters entries; either may be NULL
 * @return HL_OK; HL_EINVAL (NULL clustering, level out of range).  Since 0.2.0.
 */
HL_API hl_status hl_clustering_clusters(const hl_clustering *clustering, int32_t level, int64_t *sizes,
                                        int64_t *representatives);

/**
 * One decode on a graph (docs/ALGORITHM.md, "Decode"): edge j -> i is kept iff
 * density[j] > density[i] and score[e] > tau; each node takes the kept in-edge
 * with the largest score as its parent (ties: smaller source index).
 * Duplicates: an edge whose cosine similarity is within 1e-6 of 1 (twins) is
 * kept whatever its score when density[j] > density[i], or the densities are
 * equal and j < i; a node takes a twin parent before any other.  So identical
 * rows always end in one cluster, under every score.
 * @param score    one value per graph edge, in the graph's edge order, not NaN
 * @param density  one value per node, not NaN
 * @param tau      threshold, not NaN
 * @param parent   caller array of n: the parent of each node, -1 for peaks (may be NULL)
 * @param labels   caller array of n: the peak of each node's tree (may be NULL)
 * @return HL_OK; HL_EINVAL (NULL graph, score or density, NaN value); HL_ENOMEM
 */
HL_API hl_status hl_decode(const hl_graph *graph, const float *score, const float *density, float tau,
                           int64_t *parent, int64_t *labels);

HL_EXTERN_C_END

#endif
