/* The distributed hierarchy of hl_mpi_cluster: one level's local part and
 * the state shared by the levels. */
#ifndef HILANDER_MPI_DIST_H
#define HILANDER_MPI_DIST_H

#include "cluster/cluster_internal.h"
#include "mpi/mpi_internal.h"

/* This rank's part of one level: nodes off[rank] .. off[rank + 1] - 1. */
typedef struct hlm_level {
    int64_t n_local;  /* nodes here */
    int64_t *off;     /* P+1 ownership offsets of the level's nodes */
    int64_t d;
    float *x;         /* n_local x d node features (normalised) */
    float *c;         /* n_local x d cluster features (model, upper levels), or NULL (= x) */
    int64_t *nop;     /* np_local: the node (global id) of each local point */
    /* built by the level */
    int64_t k;
    int64_t *knn;     /* n_local x k kNN lists (global ids, self first) */
    float *ksim;      /* n_local x k */
    int64_t *sorted;  /* n_local x k: the lists sorted ascending (snn), or NULL */
    int64_t ne;       /* in-edges of the local nodes */
    int64_t *eoff;    /* n_local + 1 CSR offsets */
    int64_t *src;     /* ne global sources */
    float *sim, *aff; /* ne */
    float *snn;       /* ne shared-neighbour fractions, or NULL */
} hlm_level;

/* One hl_mpi_cluster call. */
typedef struct hlm_run {
    hlm_ctx *ctx;
    const hl_model *model;
    hl_cluster_options full;
    hli_cluster_plan plan;
    int nt;
    int64_t *poff;     /* P+1 offsets of the points (rows) */
    int64_t np_local;  /* points here */
    float *x0;         /* np_local x d mapped features (cluster means with a model), or NULL */
    int32_t levels_run;
    /* level 0's in-edges and shared-neighbour scores, kept for the merge */
    int64_t *e0off, *e0src, ne0;
    float *e0snn;
} hlm_run;

void hlm_level_free(hlm_level *lv);

/* Edge scores and densities from the model (dist_model.c): the level's
 * graph around the local nodes is fetched from the other ranks and the
 * model runs on it.  Collective. */
hl_status hlm_model_scores(hlm_run *r, hlm_level *lv, hl_status st, float *sc, float *dens);

/* next->c: the mean of the members' x0 for the local nodes of @p next
 * (whose nop is set).  Collective. */
hl_status hlm_cluster_means(hlm_run *r, hlm_level *next, hl_status st);

/* The linkage merge after the last level @p top: group[q] = the merged
 * cluster (a top-level node id) of local point q.  Collective. */
hl_status hlm_linkage_merge(hlm_run *r, hl_status st, const hlm_level *top, int64_t *group);

/* Record the counters hl_mpi_last_stats returns (mpi_api.c). */
void hlm_set_last_stats(const hl_mpi_stats *stats);

#endif
