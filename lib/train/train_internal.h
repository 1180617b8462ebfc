/* Training internals: the multi-level training set and mini-batches
 * (train_data.c), the class split (class_split.c), the trainer's state
 * (trainer.c) and the phases that share it: the SGD loop (train_loop.c), the
 * whitening choice (whitening_choice.c) and the choice of the stored
 * clustering defaults (cluster_defaults.c).  Every function that can fail
 * returns an hl_status and its callers pass failures on. */
#ifndef HILANDER_TRAIN_INTERNAL_H
#define HILANDER_TRAIN_INTERNAL_H

#include "metrics/metrics_internal.h"
#include "model/model_internal.h"

/* One training graph: a level of the hierarchy built with some k. */
typedef struct hli_tgraph {
    hl_graph *g;
    int64_t n, d, k;
    int level;
    float *x, *c;      /* n*d node and cluster features */
    int64_t *label;    /* n ground-truth labels (the peak's) */
    float *dens;       /* n ground-truth densities (docs/ALGORITHM.md) */
    float *efeat;      /* E x m edge features (relational head), or NULL */
    uint8_t *elabel;   /* E: 1 if y_src == y_dst */
} hli_tgraph;

typedef struct hli_tset {
    int count;
    hli_tgraph gr[HL_TRAIN_MAX_GRAPHS * 16];
} hli_tset;

/* Build the multi-level set from normalised features @p xn: for each of the
 * first opts->num_graphs (k, levels) pairs, level 0 with that k, then
 * ground-truth decodes (dhat := density, score := sim, tau = 0) and next
 * levels until `levels` graphs exist or a level has <= k nodes. */
hl_status hli_tset_build(const float *xn, const int64_t *labels, int64_t n, int64_t d,
                         const hl_train_options *opts, uint32_t edge_features, int nt, hli_tset *out);
void hli_tset_free(hli_tset *s);

/* A mini-batch: centre nodes (local ids 0..nc-1) and their in-neighbourhood. */
typedef struct hli_batch {
    hli_net_input in;
    int64_t nc;
    int64_t *offsets, *src;
    float *sim, *aff, *x, *c, *efeat, *dens;
    uint8_t *label, *mask;
} hli_batch;

/* Extract the (hops)-hop in-neighbourhood subgraph of @p centres of @p tg.
 * @p map is a caller array of tg->n entries, all -1 (restored on return).
 * The link-loss mask is d_j > d_i; with @p balance, masked positives or
 * negatives are dropped at random (from @p rng) until both counts are equal. */
hl_status hli_batch_make(const hli_tgraph *tg, const int64_t *centres, int64_t nc, int hops, int m, int balance,
                         hli_rng *rng, int64_t *map, hli_batch *b);
void hli_batch_free(hli_batch *b);

/* SGD steps per epoch of a trainer (for step budgets in experiments). */
int64_t hli_trainer_steps_per_epoch(const hl_trainer *t);

/* Fold an edge-feature standardisation (features used as (e - mean) * inv
 * during training) into the relational head's edge weights, so that the
 * model gives the same output on raw features.  No-op without an edge head. */
void hli_fold_edge_standardization(hl_model *m, const float *mean, const float *inv);

/* Anchor for experiments: link AUC/AP of one edge feature (a single
 * hl_edge_feature bit) used directly as the score on the edges of the
 * validation classes' level-0 k_list[0] graph.  NaN without validation. */
hl_status hli_trainer_val_anchor(const hl_trainer *t, uint32_t feature, double *auc, double *ap);

/* ---- options (train_options.c) --------------------------------------------- */

/* The caller's options read at their own size (missing fields at defaults). */
hl_status hli_train_options_read(const hl_train_options *in, hl_train_options *out);

/* ---- the class split (class_split.c) --------------------------------------- */

/* The distinct labels of @p labels, shuffled by @p rng, with the validation
 * classes first and sorted: (*classes)[0 .. *num_val) (malloc'ed, n entries).
 * At least one class stays for training; val_fraction > 0 holds out at least
 * one class when there are two. */
hl_status hli_class_split(const int64_t *labels, int64_t n, double val_fraction, hli_rng *rng, int64_t **classes,
                          int64_t *num_val);
/* 1 if @p label is one of the validation classes, else 0. */
int hli_class_in(int64_t label, const int64_t *classes, int64_t num_val);
/* The rows of x (n*d) whose class is (want_val = 1) or is not (0) a
 * validation class, in order: features to @p out_x, labels to @p out_y, row
 * indices to @p out_idx (each may be NULL); *count rows. */
hl_status hli_gather_rows(const float *x, const int64_t *labels, int64_t n, int64_t d, const int64_t *classes,
                          int64_t num_val, int want_val, float *out_x, int64_t *out_y, int64_t *out_idx,
                          int64_t *count);

/* ---- the trainer (trainer.c) ----------------------------------------------- */

typedef struct batch_ref {
    int g;
    int64_t start, count;
} batch_ref;

struct hl_trainer {
    hl_model *model;
    hl_train_options opts;
    int nt, hops;
    hli_tset train, val;
    int has_val;
    float *grad, *mom, *best;
    int64_t **perm;          /* per training graph: node order of the current epoch */
    int64_t *map;            /* scratch: global -> local ids, all -1 */
    batch_ref *batches;
    int64_t steps_per_epoch;
    int32_t epochs;
    int64_t total_steps;
    hli_batch train_eval;    /* fixed sample of training edges for train AUC */
    float *val_x;            /* validation points (original features) for tau selection */
    int64_t *val_y;
    int64_t val_n;
    hl_graph *val_g;         /* level-0 graph of val_x as hl_cluster builds it (lazily, for tau selection) */
    hl_graph *all_g;         /* the same for all_x */
    float *all_x;            /* every labelled point (normalised): merge threshold and snn tau */
    int64_t *all_y;
    int64_t all_n;
    float merge;             /* linkage-merge threshold (train_merge), < 0 until chosen */
    float all_snn_tau;       /* the snn tau chosen with it on all labelled points, < 0 if none */
    float *ef_mean, *ef_inv; /* edge-feature standardisation (m each), NULL when off */
    int ran;
    hli_rng rng;
};

/* ---- its phases ------------------------------------------------------------ */

/* Fit the within-class whitening on the training classes (sub_x, sub_y)
 * and, if kept, store it in the model and apply it to every labelled point
 * (xn, in place) and to sub_x (rows tr_idx of xn). */
hl_status hli_trainer_choose_whitening(hl_trainer *t, float *xn, const int64_t *labels, int64_t n, int64_t d,
                                       const int64_t *cls, int64_t nval, float *sub_x, const int64_t *sub_y,
                                       const int64_t *tr_idx, int64_t ntr);
/* The best mean of pairwise and BCubed F over the snn tau grid of (x, y)
 * with the default linkage merge, and its tau. */
hl_status hli_snn_best_f(const hl_trainer *t, float *x, const int64_t *y, int64_t n, int64_t d, int64_t *pred,
                         double *best_f, float *best_tau);
/* Checkpoint metric HL_CHECKPOINT_CLUSTER: the best mean F over tau of
 * clustering the validation classes with the model's probability. */
hl_status hli_trainer_val_cluster_f(hl_trainer *t, double *f);
/* Choose and store the model's clustering defaults on the validation classes
 * (no-op without validation classes). */
hl_status hli_trainer_select_defaults(hl_trainer *t);

#endif
