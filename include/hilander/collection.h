/*
 * libhilander - collections: a clustering that lives, grows and is kept on disk.
 *
 * A collection holds points (feature vectors) and their clusters.  Points are
 * added in batches and can be removed; the clustering stays the one a batch
 * clustering of the current points would give (hl_cluster() with one level
 * and the linkage merge: with exact search the very same partition), while
 * ids stay stable:
 *
 *  - point ids are issued in order (0, 1, 2, ...) as points are added and are
 *    never reused, also after removals;
 *  - cluster ids are issued in order as clusters start and are never
 *    renumbered: a cluster keeps its id while it grows, shrinks or changes
 *    its peak; when it joins another cluster, its id reports the cluster it
 *    joined (hl_collection_clusters(), merged_into), so an application can
 *    keep names on ids and follow them.  A point changes cluster only when
 *    the evidence moves it (its decode tree changes, or its cluster merges);
 *    hl_collection_stats counts those moves.
 *
 * Each update recomputes neighbour lists, scores, densities and decode
 * parents only where they can change, so an add costs in proportion to the
 * batch (plus a few linear passes over the points).  See docs/COLLECTIONS.md
 * for the method, its quality against a full recluster, and the file format.
 *
 * Thread safety: different collections may be used from different threads at
 * once.  One collection may be read (the const functions) from several
 * threads at once, but hl_collection_add, hl_collection_remove and
 * hl_collection_set_num_threads need exclusive use.  The model passed to
 * hl_collection_create or hl_collection_load is borrowed, read only, and
 * must stay alive and unchanged until hl_collection_free.
 */
#ifndef HILANDER_COLLECTION_H
#define HILANDER_COLLECTION_H

#include "common.h"
#include "error.h"
#include "cluster.h"
#include "model.h"

HL_EXTERN_C_BEGIN

/** A persistent, growing clustering.  Create with hl_collection_create() or
 *  hl_collection_load(); release with hl_collection_free(). */
typedef struct hl_collection hl_collection;

/** What one hl_collection_add() or hl_collection_remove() changed.  Fill
 *  with hl_collection_stats_init() first. */
typedef struct hl_collection_stats {
    size_t struct_size;     /**< set by hl_collection_stats_init(); always the first member */
    int64_t added;          /**< points added by the call */
    int64_t removed;        /**< points removed by the call */
    int64_t joined;         /**< new points now in a cluster that held points before the call */
    int64_t started;        /**< clusters that hold points after the call and did not before (new ids,
                                 or an id that split off again) */
    int64_t merged;         /**< clusters that held points before the call and were merged into another */
    int64_t moved;          /**< existing points whose cluster id changed (moved by the decode, or merged) */
    int64_t relinked;       /**< existing points whose neighbour list changed */
    double seconds;         /**< wall time of the call */
} hl_collection_stats;

/**
 * Fill the caller's first @p struct_size bytes of @p stats with zeros and set
 * stats->struct_size (pass sizeof of your own struct; the library never
 * writes past it).
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this library knows
 */
HL_API hl_status hl_collection_stats_init(hl_collection_stats *stats, size_t struct_size);

/**
 * Create an empty collection of @p d-dimensional points.
 * @param model  a trained model (borrowed, read only, must outlive the
 *               collection), or NULL for the model-free scores (SIM or SNN)
 * @param d      feature dimension, >= 1; must equal the model's feature_dim
 * @param opts   clustering options as for hl_cluster(), or NULL for the
 *               defaults; copied.  Collections use one level and the linkage
 *               merge: max_levels must be 0 (automatic) or 1.
 *               knn_auto_threshold decides when the collection switches from
 *               exact search to its IVF index (when its size first exceeds it).
 * @param out    receives the collection; release with hl_collection_free()
 * @return HL_OK; HL_EINVAL (NULL out, d < 1, d differs from the model's,
 *         an option out of range as in hl_cluster, max_levels > 1); HL_ENOMEM
 */
HL_API hl_status hl_collection_create(const hl_model *model, int64_t d, const hl_cluster_options *opts,
                                      hl_collection **out);

/** Release a collection. NULL is a no-op. */
HL_API void hl_collection_free(hl_collection *collection);

/**
 * Add @p n points.  They receive the point ids first_id .. first_id + n - 1
 * where first_id = hl_collection_id_bound() before the call.  The rows are
 * L2-normalised (and mapped by the model's feature map) into the
 * collection's own copy; @p x is not modified.
 * On any error nothing changes: the collection is as before the call.
 * @param x         n*d row-major features, finite, no zero row
 * @param first_id  receives the first new id (may be NULL)
 * @param stats     receives what changed (may be NULL)
 * @return HL_OK; HL_EINVAL (NULL collection or x, n < 1, d differs from the
 *         collection's, a non-finite or zero row); HL_ERANGE; HL_ENOMEM
 */
HL_API hl_status hl_collection_add(hl_collection *collection, const float *x, int64_t n, int64_t d,
                                   int64_t *first_id, hl_collection_stats *stats);

/**
 * Remove @p n points by id.  The other points keep their ids; neighbour
 * lists that held a removed point are completed again by search and the
 * clusters follow (a cluster whose peak is removed keeps its id on the part
 * that holds most of its points).  A cluster whose points are all removed
 * reports size 0 and merged_into -1.
 * On any error nothing changes.
 * @return HL_OK; HL_EINVAL (NULL argument, n < 1, an id that was never
 *         issued or is already removed, an id listed twice); HL_ENOMEM
 */
HL_API hl_status hl_collection_remove(hl_collection *collection, const int64_t *ids, int64_t n,
                                      hl_collection_stats *stats);

/** @return the feature dimension (0 for NULL). */
HL_API int64_t hl_collection_dimension(const hl_collection *collection);

/** @return the number of points in the collection, removed ones excluded (0 for NULL). */
HL_API int64_t hl_collection_num_points(const hl_collection *collection);

/** @return one past the largest point id issued so far (0 for NULL or an
 *  empty new collection): the size of the arrays of hl_collection_labels(). */
HL_API int64_t hl_collection_id_bound(const hl_collection *collection);

/** @return the number of clusters that hold points now (0 for NULL). */
HL_API int64_t hl_collection_num_clusters(const hl_collection *collection);

/** @return one past the largest cluster id issued so far (0 for NULL): the
 *  size of the arrays of hl_collection_clusters(). */
HL_API int64_t hl_collection_cluster_bound(const hl_collection *collection);

/**
 * The cluster and confidence of every point id.  cluster_of[p] is the
 * current cluster id of point p (merges followed), -1 for a removed point.
 * confidence[p] in [0, 1] is the score (under the collection's score: the
 * model's link probability, cosine or shared-neighbour fraction) of the
 * level-0 edge to p's decode parent, 1 for a point that is the peak of its
 * tree, 0 for a removed point: a low value marks a point that joined its
 * cluster by a weak link.
 * @param cluster_of, confidence caller arrays of hl_collection_id_bound()
 *        entries; either may be NULL
 * @return HL_OK; HL_EINVAL (NULL collection)
 */
HL_API hl_status hl_collection_labels(const hl_collection *collection, int64_t *cluster_of, float *confidence);

/**
 * One point's cluster (merges followed) and confidence, as hl_collection_labels().
 * @param cluster, confidence either may be NULL
 * @return HL_OK; HL_EINVAL (NULL collection, an id never issued or removed)
 */
HL_API hl_status hl_collection_point(const hl_collection *collection, int64_t id, int64_t *cluster,
                                     float *confidence);

/**
 * Every cluster id ever issued: sizes[c] = its points now (0 after it was
 * merged away or emptied); representatives[c] = its densest point (the
 * peak of its densest tree; ties to the smaller id), -1 when empty;
 * merged_into[c] = c for a cluster that holds points, the cluster holding
 * its points for one merged away (merges followed to the end), -1 for one
 * emptied by removals.
 * @param sizes, representatives, merged_into caller arrays of
 *        hl_collection_cluster_bound() entries; any may be NULL
 * @return HL_OK; HL_EINVAL (NULL collection); HL_ENOMEM
 */
HL_API hl_status hl_collection_clusters(const hl_collection *collection, int64_t *sizes, int64_t *representatives,
                                        int64_t *merged_into);

/**
 * Set the number of threads of later calls (0 = all available).  Results
 * never depend on it.
 * @return HL_OK; HL_EINVAL (NULL collection, negative count)
 */
HL_API hl_status hl_collection_set_num_threads(hl_collection *collection, int32_t num_threads);

/**
 * Save the collection to @p path (format in docs/COLLECTIONS.md: magic,
 * version, CRC-32 checksum), atomically: a temporary file beside @p path is
 * renamed over it only once complete, so a failure leaves any earlier file
 * untouched.
 * @return HL_OK; HL_EINVAL (NULL argument); HL_EIO; HL_ENOMEM
 */
HL_API hl_status hl_collection_save(const hl_collection *collection, const char *path);

/**
 * Load a collection saved by hl_collection_save().
 * @param model  the model it was created with (borrowed as by
 *               hl_collection_create), or NULL if it was created without
 *               one; another model is refused
 * @param out    receives the collection; release with hl_collection_free()
 * @return HL_OK; HL_EINVAL (NULL path or out, the file was made with
 *         another model, another dimension or without/with a model);
 *         HL_EIO (cannot open or read); HL_EFORMAT (not a collection file,
 *         truncated, checksum mismatch, inconsistent content); HL_EVERSION
 *         (a newer format version); HL_ERANGE (absurd sizes); HL_ENOMEM
 */
HL_API hl_status hl_collection_load(const char *path, const hl_model *model, hl_collection **out);

HL_EXTERN_C_END

#endif
