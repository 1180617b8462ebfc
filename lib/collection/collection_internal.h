/* The layout of hl_collection, shared by the files of lib/collection/.
 *
 * Per point id (0 .. n-1, removed ones kept as tombstones so that ids stay
 * stable): the mapped features, the level-0 kNN list (self first, sorted by
 * similarity as the library's search sorts them, -1 where fewer than k
 * points exist), its density and decode parent under the collection's score,
 * the confidence of its attachment, and the cluster id it was given.
 * Clusters form a union-find whose roots are the clusters that hold points
 * now: a merged cluster points (c_parent) to the one it joined, always a
 * smaller id, so chains end and ids never change.  The reverse lists (who
 * has me as a neighbour) let an update find the points it touches. */
#ifndef HILANDER_COLLECTION_INTERNAL_H
#define HILANDER_COLLECTION_INTERNAL_H

#include "cluster/cluster_internal.h"
#include "knn/knn_internal.h"

/* A growable list of point ids. */
typedef struct hli_idlist {
    int64_t *id;
    int32_t n, cap;
} hli_idlist;

/* The IVF index of a collection once it outgrows exact search: spherical
 * k-means cells (trained once, when first needed) and their members. */
typedef struct hli_coll_index {
    int64_t nlist;       /* 0: no index, exact search */
    int64_t nprobe;
    float *cent;         /* nlist x d */
    hli_idlist *cell;    /* nlist member lists */
    int32_t *cell_of;    /* per point: its cell (-1 removed) */
} hli_coll_index;

/* The scratch of one update's clusters phase (update.c), sized for the
 * worst case (every point touched) so that the phase cannot fail: one
 * zeroed block whose pages the kernel maps only where an update writes, so
 * an update that touches a few thousand points costs a few thousand
 * entries, not n. */
typedef struct hli_coll_scratch {
    int64_t *dens_set;   /* n: D, the points whose density is recomputed */
    int64_t *parent_set; /* n: P, the points whose parent is recomputed */
    int64_t *old_root;   /* n: the root each point of P had before */
    int64_t *visited;    /* n: the points whose root was recomputed */
    int64_t *root_pairs; /* 2 n: (new root, old root) of the existing points among them */
    int64_t *pair_sel;   /* 2 n: the pairs one step of the id assignment looks at */
    int64_t *roots;      /* 3 n: the roots whose trees gained or lost points */
    int64_t *orphans;    /* n: roots that lost their status (got a parent or were removed) */
    int64_t *new_roots;  /* n: peaks without an id yet */
    int64_t *seeds;      /* n: trees whose links may have changed */
    int64_t *queue;      /* n: trees in the order the linkage search reaches them */
    int64_t *neighbours; /* n: trees linked to the one being measured */
    int64_t *links;      /* n: the strong ones among them */
    int64_t *members;    /* n: the points of the trees in queue order */
    int64_t *member_end; /* n: per queue entry, the end of its tree's points in members */
    double *c_acc;       /* n: the link sums of one tree to its neighbours */
} hli_coll_scratch;

struct hl_collection {
    const hl_model *model;   /* borrowed */
    uint32_t model_crc;      /* fingerprint of the model (0 without one) */
    int has_model;
    hl_cluster_options opts; /* the caller's options, full layout */
    hli_cluster_plan plan;   /* score, tau, merge as resolved at creation */
    int64_t d, k;
    int32_t num_threads;

    int64_t n;               /* point ids issued */
    int64_t live;            /* points not removed */
    int64_t cap;             /* capacity of the per-point arrays */
    float *x;                /* cap x d: normalised, mapped features */
    int64_t *knn;            /* cap x k */
    float *knn_sim;          /* cap x k */
    float *dens;             /* cap */
    uint32_t *score_fp;      /* cap: fingerprint of the in-edges and their scores, 0 = not known yet */
    int64_t *parent;         /* cap: decode parent, -1 for a peak */
    float *conf;             /* cap */
    int64_t *cl;             /* cap: the cluster of each point now, -1 removed */
    int64_t *root;           /* cap: the root (peak) of each point's decode tree, -1 removed */
    int64_t *tree_id;        /* cap: for a root, its tree's cluster id; -1 otherwise */
    unsigned char *alive;    /* cap */
    hli_idlist *rev;         /* cap: the points whose lists hold this one (self excluded) */

    int64_t nc;              /* cluster ids issued */
    int64_t ccap;            /* capacity of the per-cluster arrays (hli_coll_reserve_clusters) */
    int64_t *c_parent;       /* nc: itself for a live cluster, the cluster it joined after a merge, -1 emptied */
    int64_t *c_size;         /* nc: points (live clusters only) */
    int64_t *c_root;         /* nc: the root point of the tree carrying this id, -1 if none does */

    hli_coll_index index;

    /* score HL_SCORE_PROB only, during an update: the model's scores of every
     * point's kept in-edges (CSR in list order) and its densities */
    const float *prob_sc;
    const int64_t *prob_off;
    const float *prob_dens;

    /* the number of points of the tree carrying each cluster id (nc;
     * meaningful where c_root >= 0): the linkage merge's sqrt(|A| |B|) */
    int64_t *t_size;

    /* per point, kept between calls and zero there: the bits of one update
     * (update.c); per cluster id, likewise */
    unsigned char *mark;
    unsigned char *c_seen;
    /* the scratch of an update's second phase, which must not allocate:
     * allocated in the fallible phase, freed after the update */
    hli_coll_scratch *scr;
};

/* ---- collection.c ----------------------------------------------------------- */

/* Make room for @p n points; contents kept, a failure leaves the
 * collection as it was, possibly with more room. */
hl_status hli_coll_reserve(hl_collection *c, int64_t n);
/* Make room for @p nc cluster ids (ccap).  Ids are never reused, so over
 * many updates they can outnumber the points; an update issues at most one
 * new id per live point, so room for nc + live before it is enough. */
hl_status hli_coll_reserve_clusters(hl_collection *c, int64_t nc);
/* The cluster holding cluster id @p id now (follows merges), -1 if emptied. */
int64_t hli_coll_find(const hl_collection *c, int64_t id);
/* The scratch of one update (c->scr) for @p n point ids, allocated in the
 * fallible phase; freed after the update. */
hl_status hli_coll_scratch_alloc(hl_collection *c, int64_t n);
void hli_coll_scratch_free(hl_collection *c);
/* Fingerprint of a model's parameters and feature map (0 for NULL). */
uint32_t hli_coll_model_crc(const hl_model *model);

/* ---- idlist.c --------------------------------------------------------------- */

/* Ensure room for @p extra more ids. */
hl_status hli_idlist_reserve(hli_idlist *l, int64_t extra);
/* Append (room reserved beforehand: never fails). */
void hli_idlist_push(hli_idlist *l, int64_t id);
/* Remove one occurrence of @p id (order not kept); 0 if absent. */
int hli_idlist_remove(hli_idlist *l, int64_t id);
void hli_idlist_free(hli_idlist *l);

/* ---- neighbours.c: the level-0 lists -------------------------------------- */

/* A change of one existing point's list found by a search. */
typedef struct hli_list_update {
    int64_t id;
    int64_t *knn;   /* k entries */
    float *sim;
} hli_list_update;

/* The lists found by one search: full lists for the query points, and the
 * existing points whose lists the queries enter (reverse updates). */
typedef struct hli_search_result {
    int64_t *knn;           /* nq x k: the queries' lists */
    float *sim;
    int64_t nupd;
    int64_t *upd_id;        /* nupd: existing points whose lists change, ascending */
    int64_t *upd_knn;       /* nupd x k */
    float *upd_sim;
} hli_search_result;

void hli_search_result_free(hli_search_result *r);

/* Lists of the points @p q (nq ids, ascending) among the live points not in
 * @p excluded (a mark array, or NULL) and the rows [c->n, n_db) (a batch
 * being added: features stored, alive set, not yet counted in c->n).  With
 * @p reverse, also the existing points (ids < c->n) whose lists the queries
 * enter.  Exact search without an index, the index's cells with one. */
hl_status hli_coll_search(const hl_collection *c, const int64_t *q, int64_t nq, const unsigned char *excluded,
                          int64_t n_db, int reverse, int nt, hli_search_result *out);

/* Train the IVF index over the live points and assign them (no index before). */
hl_status hli_coll_index_build(hl_collection *c, int nt);
/* Cells of new rows [n0, n1) (stored into index.cell_of) and room in the
 * cells for them. */
hl_status hli_coll_index_prepare(hl_collection *c, int64_t n0, int64_t n1, int nt);
void hli_coll_index_free(hli_coll_index *ix);

/* ---- update.c: scores, decode, clusters ------------------------------------ */

/* What hl_collection_stats reports. */
typedef struct hli_update_counts {
    int64_t joined, started, merged, moved, relinked;
} hli_update_counts;

/* After the lists of the points @p changed (nchanged ids, the new points
 * among them) were replaced and the points @p removed were taken out: recompute densities,
 * parents and confidences where they may change, join clusters along new
 * parent links, give new points (ids >= first_new) their clusters, and run
 * the linkage merge over the touched clusters.  Uses only memory reserved
 * beforehand (hli_coll_reserve): cannot fail, except for the model score
 * (HL_SCORE_PROB), which re-scores the whole graph and is run first by the
 * caller through hli_coll_prob_scores. */
void hli_coll_update(hl_collection *c, const int64_t *changed, int64_t nchanged, const int64_t *removed,
                     int64_t nremoved, int64_t first_new, int nt, void *scratch, hli_update_counts *counts);
/* The root of every live point's tree into @p root (n entries; -1 removed),
 * with @p path (n entries) as scratch.  0 if the parents form a cycle or
 * lead to a removed point (a corrupted file), else 1. */
int hli_coll_roots(const hl_collection *c, int64_t *root, int64_t *path);
/* The points of the tree rooted at @p r into @p out (r first, then by
 * breadth), found through the reverse lists (a child lists its parent);
 * returns their count. */
int64_t hli_coll_tree_points(const hl_collection *c, int64_t r, int64_t *out);
/* Bytes of the @p scratch hli_coll_update needs for @p nt threads. */
size_t hli_coll_update_scratch(const hl_collection *c, int nt);

/* Score HL_SCORE_PROB: the model's edge scores (*edge_scores, CSR by
 * *edge_offsets in list order) and densities (*dens) of the graph of the
 * lists @p knn / @p sim (n x k, taken over and freed) on the collection's
 * rows; the network needs whole neighbourhoods, so an update with this
 * score re-scores the whole graph.  Arrays malloc'ed. */
hl_status hli_coll_prob_scores(const hl_collection *c, int64_t *knn, float *sim, int64_t n, int nt, float **edge_scores,
                               int64_t **edge_offsets, float **dens);

#endif
