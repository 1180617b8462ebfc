/*
 * libhilander_mpi - hl_cluster over the ranks of an MPI communicator.
 *
 * A separate library (libhilander_mpi.so, pkg-config hilander_mpi, CMake
 * target hilander::hilander_mpi), built only when an MPI is found; the core
 * library never depends on MPI and hilander.h does not include this header.
 * Each rank holds its own shard of the rows; rank r's rows are the global
 * rows offset_r .. offset_r + n_local_r - 1, offset_r being the sum of the
 * n_local of the ranks before r (the communicator's rank order).
 *
 * libhilander_mpi carries its own copy of the library's internals and exports
 * only hl_mpi_* symbols, so a model handle or the last error of libhilander
 * are not shared with it: load models with hl_mpi_model_load() and read
 * errors with hl_mpi_last_error() (lib/mpi/README.md says why).
 *
 * Copyright (c) 2026 The libhilander authors. MIT licence (see LICENSE).
 */
#ifndef HILANDER_MPI_H
#define HILANDER_MPI_H

#include <mpi.h>

#include "hilander/cluster.h"
#include "hilander/error.h"
#include "hilander/graph.h"
#include "hilander/model.h"

HL_EXTERN_C_BEGIN

/* HL_MPI_API marks the functions of libhilander_mpi (its own ABI, version
 * nodes HILANDER_MPI_0.x; scripts/ci/abi.sh checks HL_API against
 * libhilander.so only). */
#define HL_MPI_API HL_API

/**
 * Cluster the rows spread over the ranks of @p comm exactly as hl_cluster()
 * would cluster all of them in one process (global row order = rank order),
 * and write each rank's labels.
 *
 * Collective: every rank of @p comm must call it with the same @p d, the same
 * options and the same model file (or all NULL).  Runs the kNN search, the
 * scores, the decode, the connected components, the upper levels and the
 * linkage merge across the ranks (docs/DISTRIBUTED.md).  Each rank may use
 * several threads (opts->num_threads, and the BLAS's); every MPI call is
 * made by the calling thread, so MPI must be initialised with at least
 * MPI_THREAD_FUNNELED when it is called from the main thread, and
 * MPI_THREAD_SERIALIZED otherwise.  Call it from one thread per rank at a
 * time; it does not use MPI_COMM_WORLD, only @p comm.
 *
 * Bad input on any rank (NULL pointers, a non-finite or zero row, a @p d
 * different from rank 0's, invalid options, k >= total rows) makes every
 * rank return the same status with the same message (naming the lowest
 * failing rank, e.g. "rank 2: features: row 7, column 3 is not finite" with
 * the row index local to that rank); the communicator is never aborted.
 * With exact kNN the labels equal hl_cluster()'s final labels up to
 * renumbering.
 *
 * @param comm         an intra-communicator (MPI must be initialised)
 * @param model        a model from hl_mpi_model_load(), or NULL (unsupervised scores)
 * @param x_local      n_local x d row-major features of this rank's rows
 * @param n_local      this rank's rows, >= 0 (a rank may hold none)
 * @param d            columns, >= 1, equal on every rank
 * @param opts         hl_cluster options (hl_cluster_options_init; NULL = defaults);
 *                     the progress callback runs on every rank after every level
 *                     of the hierarchy (not after the merge) with the level's
 *                     global node and added-edge counts; a nonzero return on
 *                     any rank cancels every rank (HL_ECANCELED)
 * @param labels_local n_local outputs: the final label of each local row, a
 *                     global cluster id = the smallest global row index in
 *                     the cluster (the same on every rank)
 * @return HL_OK, or the same error status on every rank (message in
 *         hl_mpi_last_error())
 */
HL_MPI_API hl_status hl_mpi_cluster(MPI_Comm comm, const hl_model *model, const float *x_local, int64_t n_local,
                                int64_t d, const hl_cluster_options *opts, int64_t *labels_local);

/**
 * k nearest neighbours of the rows spread over the ranks of @p comm, among
 * all the rows (cosine similarity; hl_knn_search()'s rules, global row ids).
 * Collective, same error contract as hl_mpi_cluster().  Exact search gives
 * hl_knn_search()'s exact lists (self first).  HL_KNN_APPROX (and AUTO
 * above opts->auto_threshold rows; NN-descent is treated as APPROX) is a
 * distributed IVF: a k-means over the ranks on a seeded sample of the rows
 * (opts->nlist, opts->seed), nprobe from opts or calibrated to
 * opts->target_recall on the exact neighbours of 1,024 seeded rows; a row
 * whose probed cells hold fewer than k-1 other rows is searched exactly.
 * The lists do not depend on the number of ranks.
 *
 * @param nbrs_local n_local x opts->k global ids (self first, -1 = missing)
 * @param sims_local n_local x opts->k similarities, may be NULL
 * @return HL_OK, or the same error status on every rank
 */
HL_MPI_API hl_status hl_mpi_knn(MPI_Comm comm, const float *x_local, int64_t n_local, int64_t d,
                            const hl_knn_options *opts, int64_t *nbrs_local, float *sims_local);

/**
 * Read this rank's rows of one float32 .npy file (N x D, C order): rank r of
 * P gets rows N*r/P .. N*(r+1)/P - 1 (MPI-IO; rank 0 checks the header).
 * Collective.
 * @param x_local    receives n_local x d floats (release with free(); NULL on error)
 * @param row_offset receives the global index of the first local row (may be NULL)
 * @return HL_OK, or the same error on every rank (HL_EIO, HL_EFORMAT, HL_ENOMEM, HL_EINVAL)
 */
HL_MPI_API hl_status hl_mpi_npy_read_rows(MPI_Comm comm, const char *path, float **x_local, int64_t *n_local,
                                      int64_t *d, int64_t *row_offset);

/**
 * Write one int64 .npy file of N = sum of n_local values, each rank its
 * range in rank order (MPI-IO; an existing file is replaced in place, not
 * atomically).  Collective.
 * @return HL_OK, or the same error on every rank
 */
HL_MPI_API hl_status hl_mpi_npy_write_i64(MPI_Comm comm, const char *path, const int64_t *values_local, int64_t n_local);

/**
 * Load a model file for hl_mpi_cluster() (as hl_model_load() does).  The
 * handle belongs to libhilander_mpi: pass it only to hl_mpi_* functions.
 * Not collective; thread-safe.
 * @return HL_OK, or an error (message in hl_mpi_last_error()); *out = NULL then
 */
HL_MPI_API hl_status hl_mpi_model_load(const char *path, hl_model **out);

/** Free a model from hl_mpi_model_load() (NULL is a no-op). */
HL_MPI_API void hl_mpi_model_free(hl_model *model);

/**
 * @return the message of the last error of an hl_mpi_* call on the calling
 * thread (an empty string if none); valid until the next hl_mpi_* call.
 */
HL_MPI_API const char *hl_mpi_last_error(void);

/** @return the status of the last error of an hl_mpi_* call on this thread. */
HL_MPI_API hl_status hl_mpi_last_error_status(void);

/**
 * Install the log callback of libhilander_mpi (its own copy of
 * hl_set_log_callback(); per-phase timings are logged at HL_LOG_INFO).
 */
HL_MPI_API void hl_mpi_set_log_callback(hl_log_fn fn, void *user, hl_log_level max_level);

/** Byte and time counters of the last hl_mpi_cluster() call on this rank. */
typedef struct hl_mpi_stats {
    size_t struct_size;      /**< sizeof(hl_mpi_stats), set by the caller */
    int64_t bytes_sent[6];   /**< bytes this rank sent per phase (hl_mpi_phase) */
    double seconds[6];       /**< wall seconds per phase */
} hl_mpi_stats;

/** Phases of hl_mpi_stats. */
typedef enum hl_mpi_phase {
    HL_MPI_PHASE_KNN = 0,        /**< kNN search (all levels) */
    HL_MPI_PHASE_SCORES = 1,     /**< neighbours' lists / features, scores, densities */
    HL_MPI_PHASE_DECODE = 2,     /**< decode (neighbours' densities) */
    HL_MPI_PHASE_COMPONENTS = 3, /**< pointer jumping to the peaks, next level */
    HL_MPI_PHASE_MERGE = 4,      /**< linkage merge */
    HL_MPI_PHASE_OTHER = 5       /**< validation, agreement on errors, labels */
} hl_mpi_phase;

/**
 * Copy the counters of the last hl_mpi_cluster() call on this thread.
 * @return HL_OK, or HL_EINVAL if @p stats is NULL or its struct_size is wrong
 */
HL_MPI_API hl_status hl_mpi_last_stats(hl_mpi_stats *stats);

HL_EXTERN_C_END

#endif /* HILANDER_MPI_H */
