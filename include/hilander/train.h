/*
 * libhilander - training a LANDER model on labelled features
 * (docs/ALGORITHM.md, sections "Training: ..." and "Choosing the stored
 * clustering defaults").
 *
 * An hl_trainer holds the optimiser state, the schedule and the multi-level
 * training graphs built from labelled features.  A seeded share of the
 * training *classes* is held out for validation; the checkpoint that is best
 * by the checkpoint metric on them is the one left in the model.  Training
 * is reproducible for a fixed seed, whatever num_threads.
 *
 * Thread safety: different trainers may run on different threads at once;
 * one trainer, and the model it trains, must be used by one thread at a time.
 */
#ifndef HILANDER_TRAIN_H
#define HILANDER_TRAIN_H

#include "common.h"
#include "error.h"
#include "model.h"

HL_EXTERN_C_BEGIN

#define HL_TRAIN_MAX_GRAPHS 8

/** What the progress callback sees (valid during the call only).  Fields are
 *  appended, never reordered; read only fields within struct_size. */
typedef struct hl_train_progress {
    size_t struct_size;     /**< the library's sizeof(hl_train_progress); always the first member */
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

/**
 * Progress callback, called on the thread running hl_trainer_run after every
 * SGD step.
 * @return 0 to continue; non-zero to stop (the best checkpoint so far is
 *         kept and hl_trainer_run returns HL_ECANCELED)
 */
typedef int (*hl_train_progress_fn)(const hl_train_progress *progress, void *user);

/** Which validation measure chooses the checkpoint kept (appended to, never renumbered). */
typedef enum hl_checkpoint_metric {
    HL_CHECKPOINT_LEVEL0 = 0,  /**< link AUC on the level-0 graph of the validation classes built with k_list[0] */
    HL_CHECKPOINT_POOLED = 1,  /**< link AUC on all edges of all multi-level validation graphs */
    HL_CHECKPOINT_CLUSTER = 2  /**< clustering the validation classes with the model's probability, one
                                    level, then the linkage merge: the best mean of pairwise and BCubed F
                                    over tau */
} hl_checkpoint_metric;

/** Training options.  Fill with hl_train_options_init() first, then change
 *  the fields you need.  Ranges are checked by hl_train_options_check(). */
typedef struct hl_train_options {
    size_t struct_size;                       /**< set by hl_train_options_init(); always the first member */
    int32_t num_graphs;                       /**< (k, levels) pairs used from k_list/levels, in
                                                   [1, HL_TRAIN_MAX_GRAPHS] (default 3) */
    int64_t k_list[HL_TRAIN_MAX_GRAPHS];      /**< k of each training graph, in [2, 1024] (default 10, 5, 3);
                                                   k_list[0] is also the k of every validation clustering */
    int32_t levels[HL_TRAIN_MAX_GRAPHS];      /**< hierarchy levels built per k, in [1, 16] (default 2, 3, 4) */
    int32_t epochs;                           /**< >= 0; 0 (default) = automatic: about 100 SGD steps */
    int64_t batch_size;                       /**< centre nodes per batch, >= 1 (default 1024) */
    double lr;                                /**< initial learning rate, in (0, 100) (default 0.03) */
    double lr_min;                            /**< cosine annealing floor, in [0, lr] (default 1e-5) */
    double momentum;                          /**< SGD momentum, in [0, 1) (default 0.9) */
    double weight_decay;                      /**< in [0, 1) (default 1e-5) */
    int32_t focal;                            /**< 1: focal loss, gamma 2; 0: cross-entropy (default 0) */
    int32_t balance;                          /**< 1: balance masked positive/negative edges (default 0) */
    double val_fraction;                      /**< share of classes held out for validation, in [0, 1)
                                                   (default 0.2; 0 disables validation) */
    int32_t eval_every;                       /**< validate every this many steps, >= 0 (default 25;
                                                   0 = only at the last step) */
    int32_t patience;                         /**< stop after this many evaluations without gain, >= 0
                                                   (default 6; 0 = never) */
    int32_t select_tau;                       /**< 1: choose and store the clustering defaults on the
                                                   validation classes (default 1); 0: leave them */
    uint64_t seed;                            /**< seed of the split, initialisation and batches (default 1) */
    int32_t num_threads;                      /**< >= 0; 0 (default) = all available; results do not depend on it */
    hl_train_progress_fn progress;            /**< called after every SGD step, may be NULL (default) */
    void *progress_user;                      /**< passed to @p progress */
    int32_t checkpoint_metric;                /**< an hl_checkpoint_metric (default HL_CHECKPOINT_CLUSTER) */
    int32_t standardize_edge_features;        /**< 1: train the relational head on edge features scaled to zero
                                                   mean and unit variance over the training edges, folded
                                                   back into the edge weights at the end, so the model still
                                                   takes raw features; 0 (default): raw features */
    /** Within-class whitening (hl_model_set_whitening) fitted on the training
     *  classes with this relative ridge; finite.  > 0: that ridge, always
     *  kept; 0: off; < 0 (default -1): ridge 0.3, kept only if it clusters
     *  the validation classes better than the raw features (or always,
     *  without enough validation points).  Skipped above 8192 dimensions. */
    double whiten;
} hl_train_options;

/**
 * Fill the caller's first @p struct_size bytes of @p opts with the defaults
 * and set opts->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_train_options_init(&opts, sizeof opts)`.  The library never writes past it
 * (docs/API.md, "Versioning rule for options and result structs").
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_train_options_init(hl_train_options *opts, size_t struct_size);

/** Check options without training.
 *  @return HL_OK, or HL_EINVAL (NULL, bad struct_size, a field out of range)
 *          with hl_last_error() naming the field */
HL_API hl_status hl_train_options_check(const hl_train_options *opts);

typedef struct hl_trainer hl_trainer;

/**
 * Prepare training of @p model on labelled features: the validation split,
 * the whitening choice (which may set the model's feature map) and the
 * multi-level training graphs.  The model must stay alive and must not be
 * used elsewhere until hl_trainer_free().  @p x and @p labels are copied.
 * @param x n*d features, finite, no zero row (normalised internally);
 *          d must equal the model's feature_dim
 * @param labels n class ids (any int64 values)
 * @param out receives the trainer on success; release with hl_trainer_free()
 * @return HL_OK; HL_EINVAL (NULL argument, invalid options, n < 2, dimension
 *         mismatch, a non-finite or zero row, no graph buildable because n
 *         does not exceed k); HL_ERANGE (sizes overflow); HL_ENOMEM
 */
HL_API hl_status hl_trainer_create(hl_model *model, const hl_train_options *opts, const float *x,
                                   const int64_t *labels, int64_t n, int64_t d, hl_trainer **out);

/**
 * Run the whole schedule, calling the progress callback, then (select_tau)
 * choose and store the clustering defaults.  On return the model holds the
 * best checkpoint by validation (the last one without validation).  A
 * trainer runs once.
 * @return HL_OK; HL_EINVAL (NULL trainer, second call); HL_ECANCELED (the
 *         callback stopped it; the model holds the best checkpoint so far);
 *         HL_ERANGE; HL_ENOMEM
 */
HL_API hl_status hl_trainer_run(hl_trainer *trainer);

/** Release a trainer. NULL is a no-op. */
HL_API void hl_trainer_free(hl_trainer *trainer);

/**
 * Convenience: create a model from @p cfg (seeded with opts->seed), train it
 * with @p opts and return it.
 * @param out receives the trained model on success; release with hl_model_free()
 * @return as hl_model_create(), hl_trainer_create() and hl_trainer_run();
 *         with HL_ECANCELED *out holds the best checkpoint so far, with any
 *         other error no model is returned
 */
HL_API hl_status hl_train(const hl_model_config *cfg, const hl_train_options *opts, const float *x,
                          const int64_t *labels, int64_t n, int64_t d, hl_model **out);

HL_EXTERN_C_END

#endif
