/*
 * libhilander - training a LANDER model (SPEC section 3).
 *
 * An hl_trainer holds the optimiser state, the schedule and the multi-level
 * training graphs built from labelled features.  Training is reproducible for
 * a fixed seed and thread count.  A seeded share of the training *classes* is
 * held out for validation; the checkpoint that predicts their links best (link
 * AUC, see hl_checkpoint_metric) is the one left in the model.
 */
#ifndef HILANDER_TRAIN_H
#define HILANDER_TRAIN_H

#include "common.h"
#include "error.h"
#include "model.h"

HL_EXTERN_C_BEGIN

#define HL_TRAIN_MAX_GRAPHS 8

/** What the progress callback sees.  Fields are appended, never reordered. */
typedef struct hl_train_progress {
    size_t struct_size;
    int32_t epoch;          /**< 0-based epoch */
    int32_t num_epochs;
    int64_t step;           /**< SGD steps done so far */
    int64_t total_steps;
    double loss;            /**< last batch: density + link loss */
    double loss_density;
    double loss_link;
    double lr;
    double train_auc;       /**< link AUC on (a sample of) training edges, NaN if not measured now */
    double train_ap;
    double val_auc;         /**< link AUC on validation-class edges, NaN if not measured now */
    double val_ap;
    double best_val_auc;    /**< best value so far of the checkpoint metric (options checkpoint_metric) */
    double val_level0_auc;  /**< link AUC on the level-0 graph of the validation classes built with
                                 k_list[0] (the graph a clustering starts from), NaN if not measured now */
    double val_level0_ap;
    double val_cluster_f;   /**< with HL_CHECKPOINT_CLUSTER: mean of pairwise and BCubed F of clustering the
                                 validation classes (best tau), NaN if not measured now */
} hl_train_progress;

/** Return non-zero to stop training (the best checkpoint so far is kept). */
typedef int (*hl_train_progress_fn)(const hl_train_progress *progress, void *user);

/** Which validation measure chooses the checkpoint kept (appended to, never renumbered). */
typedef enum hl_checkpoint_metric {
    HL_CHECKPOINT_LEVEL0 = 0,  /**< link AUC on the level-0 graph of the validation classes built with k_list[0] */
    HL_CHECKPOINT_POOLED = 1,  /**< link AUC on all edges of all multi-level validation graphs */
    HL_CHECKPOINT_CLUSTER = 2  /**< clustering the validation classes as `hilander cluster` does with the
                                    model's probability: the best mean of pairwise and BCubed F over tau */
} hl_checkpoint_metric;

/** Training options.  Always call hl_train_options_init() first. */
typedef struct hl_train_options {
    size_t struct_size;
    int32_t num_graphs;                       /**< pairs used from k_list/levels (default 3) */
    int64_t k_list[HL_TRAIN_MAX_GRAPHS];      /**< default 10, 5, 3 */
    int32_t levels[HL_TRAIN_MAX_GRAPHS];      /**< default 2, 3, 4 */
    int32_t epochs;                           /**< 0 = automatic: about 100 SGD steps (docs/TRAINING.md) */
    int64_t batch_size;                       /**< centre nodes per batch (default 1024; SPEC reference 4096) */
    double lr;                                /**< initial learning rate (default 0.03; SPEC reference 0.01) */
    double lr_min;                            /**< cosine annealing floor (default 1e-5) */
    double momentum;                          /**< SGD momentum (default 0.9) */
    double weight_decay;                      /**< default 1e-5 */
    int32_t focal;                            /**< 1: focal loss, gamma 2 (default 0) */
    int32_t balance;                          /**< 1: balance masked positives/negatives (default 0) */
    double val_fraction;                      /**< share of classes held out (default 0.2; 0 disables) */
    int32_t eval_every;                       /**< validate every this many steps (default 25) */
    int32_t patience;                         /**< stop after this many evaluations without gain (0 = never) */
    int32_t select_tau;                       /**< 1: choose tau/score on validation classes (default 1) */
    uint64_t seed;                            /**< default 1 */
    int32_t num_threads;                      /**< 0 = all available */
    hl_train_progress_fn progress;            /**< may be NULL */
    void *progress_user;
    int32_t checkpoint_metric;                /**< an hl_checkpoint_metric (default HL_CHECKPOINT_CLUSTER) */
    int32_t standardize_edge_features;        /**< 1: train the relational head on edge features scaled to zero
                                                   mean and unit variance over the training edges, folded
                                                   back into the edge weights at the end, so the model still
                                                   takes raw features (default: see docs/TRAINING.md) */
    /** Within-class whitening (hl_model_set_whitening), fitted on the training
     *  classes with this relative ridge: > 0 that ridge; 0 off; < 0 (the
     *  default, -1) ridge 0.3, kept only if it clusters the validation classes
     *  (shared-neighbour decode) better than the raw features do (or always,
     *  without validation). */
    double whiten;
} hl_train_options;

/**
 * Fill the caller's first @p struct_size bytes of @p opts with the defaults
 * and set opts->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_train_options_init(&opts, sizeof opts)`.  The library never writes past it.
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_train_options_init(hl_train_options *opts, size_t struct_size);

/** Check options. @return HL_OK or HL_EINVAL naming the field. */
HL_API hl_status hl_train_options_check(const hl_train_options *opts);

typedef struct hl_trainer hl_trainer;

/**
 * Prepare training of @p model on labelled features: builds the multi-level
 * training graphs and the validation split.  The model must stay alive and
 * must not be used elsewhere until hl_trainer_free().
 * @param x n*d features (normalised internally); @param labels n class ids
 * @return HL_OK, HL_EINVAL, HL_ENOMEM, HL_ERANGE
 */
HL_API hl_status hl_trainer_create(hl_model *model, const hl_train_options *opts, const float *x,
                                   const int64_t *labels, int64_t n, int64_t d, hl_trainer **out);

/**
 * Run the whole schedule, calling the progress callback.  On return the model
 * holds the best checkpoint by validation (the last one without validation).
 * A trainer runs once (HL_EINVAL on a second call).
 * @return HL_OK, HL_ECANCELED (callback stopped; model still valid), HL_ENOMEM
 */
HL_API hl_status hl_trainer_run(hl_trainer *trainer);

/** Release a trainer. NULL is a no-op. */
HL_API void hl_trainer_free(hl_trainer *trainer);

/**
 * Convenience: create a model from @p cfg, train it with @p opts and return it.
 * @return as hl_model_create(), hl_trainer_create() and hl_trainer_run()
 */
HL_API hl_status hl_train(const hl_model_config *cfg, const hl_train_options *opts, const float *x,
                          const int64_t *labels, int64_t n, int64_t d, hl_model **out);

HL_EXTERN_C_END

#endif
