/* Internals of libhilander_mpi (lib/mpi/README.md): the communicator context,
 * the agreement on errors, and the exchanges every distributed phase is made
 * of.  Node and row ids are global; a rank owns the contiguous id range
 * off[rank] .. off[rank + 1] - 1 of every level. */
#ifndef HILANDER_MPI_INTERNAL_H
#define HILANDER_MPI_INTERNAL_H

#include "common/internal.h"
#include "hilander/mpi.h"

/* One hl_mpi_cluster call's communicator state. */
typedef struct hlm_ctx {
    MPI_Comm comm;
    int rank, P;
    int phase;            /* the hl_mpi_phase the counters are charged to */
    double t_phase;       /* when the current phase began */
    hl_mpi_stats stats;   /* bytes sent to other ranks and seconds per phase */
} hlm_ctx;

/* All ranks agree on one status: if any rank passes an error, every rank
 * returns the lowest failing rank's status with its message ("rank r: ...").
 * Collective. */
hl_status hlm_agree(hlm_ctx *ctx, hl_status st);

/* The rank owning global id @p id under the ownership offsets @p off (P+1). */
int hlm_owner(const hlm_ctx *ctx, const int64_t *off, int64_t id);

/* off[0..P] = exclusive scan of every rank's @p n_local (off[P] = total).
 * Collective. */
hl_status hlm_offsets(hlm_ctx *ctx, hl_status st, int64_t n_local, int64_t *off);

/* Personalised all-to-all of items of @p w bytes: @p send holds counts[r]
 * items for rank r, grouped by rank in rank order.  *recv (malloc'ed, may be
 * NULL when empty) receives the items sent to this rank grouped by source
 * rank, rcounts[r] (caller's array of P) of them from rank r; *nrecv their
 * total.  @p st is this rank's status so far: the exchange begins with
 * hlm_agree (collective; on error nothing is sent). */
hl_status hlm_alltoallv(hlm_ctx *ctx, hl_status st, const void *send, const int64_t *counts, size_t w,
                        void **recv, int64_t *rcounts, int64_t *nrecv);

/* Fill @p out (w bytes) with the payload of local id @p local. */
typedef void (*hlm_fill_fn)(void *user, int64_t local, void *out);

/* Fetch a @p w-byte payload for each of the @p nids global ids @p ids
 * (ascending, duplicates allowed) from their owners under @p off: each owner
 * calls @p fill for the requested local ids; out[t] (nids * w bytes) is the
 * payload of ids[t].  Collective (begins with hlm_agree(st)). */
hl_status hlm_fetch(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *ids, int64_t nids, size_t w,
                    hlm_fill_fn fill, void *user, void *out);

/* Send items of @p w bytes, each beginning with an int64 global id, to the
 * owners of the ids (ownership @p off); *recv (malloc'ed) gets the items
 * sent to this rank, grouped by source rank in rank order, each source's in
 * its order.  Collective. */
hl_status hlm_send_to_owners(hlm_ctx *ctx, hl_status st, const int64_t *off, const void *items, int64_t n, size_t w,
                             void **recv, int64_t *nrecv);

/* Sorted unique copy of @p n ids (*out malloc'ed, *m entries; ids < 0 dropped). */
hl_status hlm_unique(const int64_t *ids, int64_t n, int64_t **out, int64_t *m);

/* Index of @p id in the sorted array @p a of @p n entries, or -1. */
int64_t hlm_find(const int64_t *a, int64_t n, int64_t id);

/* ---- distributed phases ----------------------------------------------- */

/* Exact kNN of the rows this rank owns (xn: n_local x d, normalised) among
 * all rows (ownership @p off): knn/sims n_local x k, self first with
 * similarity 1, then the k-1 best by (hli_dot_ref similarity desc, global id
 * asc), as hli_knn_exact gives.  The shards travel around a ring. */
hl_status hlm_knn_exact(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d, const int64_t *off,
                        int64_t k, int nt, int64_t *knn, float *sims);

/* The exact top-@p kk of @p nq query rows @p xq (global ids @p qg, skipped
 * as candidates) among all rows (this rank's @p xn, ownership @p off): row q
 * of the output (kk entries, -1 / 0 where missing) at ids + q*ldo and
 * sims + q*ldo.  Every rank calls it (nq may be 0).  Collective. */
hl_status hlm_knn_exact_queries(hlm_ctx *ctx, hl_status st, const float *xq, int64_t nq, const int64_t *qg,
                                const float *xn, int64_t n_local, int64_t d, const int64_t *off, int64_t kk, int nt,
                                int64_t *ids, float *sims, int64_t ldo);

/* Approximate kNN (dist_ivf.c): shared IVF cells trained at rank 0 on a
 * sample, shards around the ring, probed cells scanned.  @p o: checked
 * options (k, nlist, nprobe, target_recall, seed).  Same output layout as
 * hlm_knn_exact; missing entries -1 / 0. */
hl_status hlm_knn_ivf(hlm_ctx *ctx, hl_status st, const float *xn, int64_t n_local, int64_t d, const int64_t *off,
                      const hl_knn_options *o, int nt, int64_t *knn, float *sims);

/* Roots of a forest given by parent pointers (global ids, -1 = root) over
 * the nodes this rank owns: root[i] (global) by pointer jumping.  Collective. */
hl_status hlm_forest_roots(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *parent, int64_t n_local,
                           int64_t *root);

/* Connected components of an undirected graph on nodes with ownership @p off:
 * this rank holds @p ne edges (ea[t], eb[t]) (any endpoints).  comp[i] for
 * the local nodes: the smallest node id of i's component.  Collective. */
hl_status hlm_components(hlm_ctx *ctx, hl_status st, const int64_t *off, const int64_t *ea, const int64_t *eb,
                         int64_t ne, int64_t *comp);

/* For @p n_local local rows with group ids @p g (global, ownership @p goff),
 * out[q] = the smallest global row id (@p row_base + q among the rows of the
 * group, over all ranks).  Collective. */
hl_status hlm_group_min_row(hlm_ctx *ctx, hl_status st, const int64_t *goff, const int64_t *g, int64_t n_local,
                            int64_t row_base, int64_t *out);

/* Set the phase counters are charged to; returns the previous phase and
 * adds the seconds since the last switch to it. */
void hlm_phase(hlm_ctx *ctx, int phase);

#endif
