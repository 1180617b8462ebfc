/*
 * libhilander - cosine kNN search and the Hi-LANDER graph
 * (docs/ALGORITHM.md, "kNN search" and "The graph").
 *
 * Features are L2-normalised inside the library; a zero or non-finite vector
 * is HL_EINVAL naming the row.  Neighbour lists include the node itself first
 * (so k-1 true neighbours), sorted by decreasing cosine similarity, ties by
 * smaller index.
 *
 * The graph holds in-edges j -> i (j a neighbour of centre i), without the
 * self edge and without negative similarities, stored CSR by destination:
 * the in-edges of node i are positions offsets[i] .. offsets[i+1]-1 of the
 * src/sim/aff arrays, in the order of i's neighbour list.
 *
 * Thread safety: every function may run concurrently on any threads; a graph
 * is read only after it is built, so one graph may be read (hl_graph_csr,
 * hl_model_predict, hl_decode) from several threads at once.
 */
#ifndef HILANDER_GRAPH_H
#define HILANDER_GRAPH_H

#include "common.h"
#include "error.h"

HL_EXTERN_C_BEGIN

typedef struct hl_graph hl_graph;

/** kNN search methods.  Appended to, never renumbered. */
typedef enum hl_knn_method {
    HL_KNN_AUTO = 0,   /**< exact below opts.auto_threshold points, approximate above */
    HL_KNN_EXACT = 1,  /**< blocked sgemm + per-row top-k; memory bounded by the block */
    HL_KNN_APPROX = 2, /**< inverted file over k-means cells, scanned with sgemm */
    /** NN-descent (appended in 0.3.0): a cheap first graph (IVF probing
     *  nprobe cells, default 1, of nlist cells, default about sqrt(n), plus
     *  seeded random entries) refined by joining neighbours of neighbours
     *  until few lists change; exact search for n <= 2048.  Same contract as
     *  HL_KNN_APPROX: self first with 1, full lists sorted by (similarity desc,
     *  index asc), bit-identical for any num_threads for a given seed.  Its
     *  recall is not calibrated (target_recall is unused); docs/KNN.md,
     *  "NN-descent", has the measured figures.  HL_KNN_AUTO never picks it. */
    HL_KNN_NNDESCENT = 3
} hl_knn_method;

/** Options for kNN search.  Always call hl_knn_options_init() first. */
typedef struct hl_knn_options {
    size_t struct_size;       /**< set by hl_knn_options_init(); always the first member */
    int64_t k;                /**< neighbours per node, self included, in [1, n] (default 10) */
    int32_t method;           /**< an hl_knn_method (default HL_KNN_AUTO) */
    int32_t num_threads;      /**< 0 = all available; results never depend on it */
    int64_t auto_threshold;   /**< >= 0; AUTO uses exact search for n <= this (default 50000) */
    int64_t block_rows;       /**< >= 0; rows per sgemm block in exact search (0 = automatic, the default) */
    int64_t nlist;            /**< APPROX: number of k-means cells, in [0, n] (0 = about 4*sqrt(n), the default);
                                   NNDESCENT: cells of its first graph (0 = about sqrt(n)) */
    int64_t nprobe;           /**< APPROX: cells scanned per query, >= 0 (0 = calibrated from target_recall,
                                   the default); NNDESCENT: cells its first graph scans per point (0 = 1) */
    double target_recall;     /**< APPROX: recall@k aimed at when nprobe == 0 (default 0.97) */
    uint64_t seed;            /**< APPROX: seed of the k-means sample, initialisation and calibration (default 0);
                                   NNDESCENT: also of its random first entries and its sampling */
} hl_knn_options;

/**
 * Fill the caller's first @p struct_size bytes of @p opts with the defaults
 * and set opts->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_knn_options_init(&opts, sizeof opts)`.  The library never writes past it
 * (docs/API.md, "Versioning rule for options and result structs").
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_knn_options_init(hl_knn_options *opts, size_t struct_size);

/**
 * Find the k nearest neighbours (cosine) of every row of @p x.
 * Entry 0 of row i is always i with similarity exactly 1.0f; the other
 * similarities are clamped to at most 1 and computed by one fixed-order dot
 * product, so identical vectors tie exactly (then smaller index first) and the
 * output is bit-identical for any num_threads and block_rows (and, for
 * HL_KNN_APPROX and HL_KNN_NNDESCENT, for a given seed).  Every list is full
 * (no -1 entries).
 * @param x     n*d row-major features (not modified; normalised internally)
 * @param opts  options set up by hl_knn_options_init(), or NULL for the defaults
 * @param nbrs  caller array of n*k ids (row i: neighbours of i, self first)
 * @param sims  caller array of n*k similarities, same layout (may be NULL)
 * @return HL_OK; HL_EINVAL (NULL x or nbrs, n < 1, d < 1, k outside [1, n],
 *         an option out of range, a bad struct_size, a NaN/Inf or zero row);
 *         HL_ERANGE (sizes overflow); HL_ENOMEM
 */
HL_API hl_status hl_knn_search(const float *x, int64_t n, int64_t d, const hl_knn_options *opts,
                               int64_t *nbrs, float *sims);

/**
 * Build the Hi-LANDER graph of @p x: kNN search with @p opts, then the graph
 * of the neighbour lists (docs/ALGORITHM.md, "The graph").
 * @param out receives a new graph on success; release with hl_graph_free()
 * @return as hl_knn_search(); HL_EINVAL also for a NULL @p out
 */
HL_API hl_status hl_graph_build(const float *x, int64_t n, int64_t d, const hl_knn_options *opts,
                                hl_graph **out);

/**
 * Build the graph from neighbour lists the caller computed (e.g. with faiss).
 * Row i of @p nbrs holds k ids in [0, n) sorted by decreasing similarity;
 * the entry equal to i (wherever it is) is treated as self and dropped, as are
 * negative similarities.  -1 ids mark missing neighbours and are skipped (their
 * similarity is ignored).  The graph stores the lists as "i first (similarity
 * 1), then the other entries in the caller's order"; a row that does not
 * contain i keeps only its first k-1 other entries.
 * @param nbrs n*k ids, row-major
 * @param sims n*k cosine similarities, same layout, in [-1, 1] (1e-3 of
 *             rounding tolerated); a similarity within 1e-6 of 1 marks the
 *             two rows as the same point (hl_decode's duplicate rule)
 * @param out  receives a new graph on success; release with hl_graph_free()
 * @return HL_OK; HL_EINVAL (NULL argument, ids outside [-1, n), an id twice
 *         in one row, k outside [1, n], a similarity that is not a cosine:
 *         non-finite or outside [-1, 1]); HL_ERANGE
 *         (sizes overflow); HL_ENOMEM
 */
HL_API hl_status hl_graph_from_neighbors(const int64_t *nbrs, const float *sims, int64_t n, int64_t k,
                                         hl_graph **out);

/** Release a graph. NULL is a no-op. */
HL_API void hl_graph_free(hl_graph *graph);

/** @return number of nodes (0 for NULL). */
HL_API int64_t hl_graph_num_nodes(const hl_graph *graph);
/** @return number of in-edges stored (0 for NULL). */
HL_API int64_t hl_graph_num_edges(const hl_graph *graph);
/** @return k the graph was built with (0 for NULL). */
HL_API int64_t hl_graph_k(const hl_graph *graph);

/**
 * Borrow the CSR arrays.  Pointers stay valid until hl_graph_free().
 * Any output pointer may be NULL.
 * @param offsets n+1 offsets into the edge arrays, by destination node
 * @param src     source node j of every edge j -> i
 * @param sim     cosine similarity of every edge
 * @param aff     sim / (sum of sims into i) of every edge (0 if that sum is 0)
 * @return HL_OK; HL_EINVAL (NULL graph)
 */
HL_API hl_status hl_graph_csr(const hl_graph *graph, const int64_t **offsets, const int64_t **src,
                              const float **sim, const float **aff);

/**
 * Ground-truth density (docs/ALGORITHM.md, "The graph"):
 * d_i = 1/(k-1) * sum over in-edges of sim_ij * (+1 if labels equal else -1);
 * 0 for k = 1.
 * @param labels n labels; @param density caller array of n floats
 * @return HL_OK; HL_EINVAL (NULL argument)
 */
HL_API hl_status hl_graph_density(const hl_graph *graph, const int64_t *labels, float *density);

HL_EXTERN_C_END

#endif
