/* Internal: the multi-level training set (SPEC section 3) and mini-batches. */
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
    float *dens;       /* n ground-truth densities (SPEC 1.5) */
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

#endif
