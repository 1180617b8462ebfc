/*
 * libhilander - the LANDER model: GraphConv layers, link head and density
 * head (SPEC sections 2 and 2b), inference and model files.
 *
 * A model is read-only during inference: one hl_model may be shared by any
 * number of threads calling hl_model_predict() at once.
 */
#ifndef HILANDER_MODEL_H
#define HILANDER_MODEL_H

#include "common.h"
#include "error.h"
#include "graph.h"

HL_EXTERN_C_BEGIN

typedef struct hl_model hl_model;

/** GNN layer types.  Appended to, never renumbered. */
typedef enum hl_layer_type {
    HL_LAYER_GRAPHCONV = 0  /**< SPEC section 2 GraphConv (GAT is a later extension) */
} hl_layer_type;

/** Link heads.  Appended to, never renumbered. */
typedef enum hl_link_head {
    HL_LINK_HEAD_REFERENCE = 0,  /**< z = A h_j + a + B h_i + b (the published head) */
    HL_LINK_HEAD_RELATIONAL = 1  /**< adds R (h_i * h_j) + r + E e_ij + e0 (SPEC 2b) */
} hl_link_head;

/** Edge features of the relational head (bit flags; appended to, never renumbered). */
typedef enum hl_edge_feature {
    HL_EDGE_FEAT_SIM = 1u << 0,         /**< sim_ij */
    HL_EDGE_FEAT_SNN = 1u << 1,         /**< |N(i) & N(j)| / k */
    HL_EDGE_FEAT_RECIPROCAL = 1u << 2,  /**< 1 if i is among j's neighbours */
    HL_EDGE_FEAT_NN_SIM_DST = 1u << 3,  /**< similarity of i to its nearest non-self neighbour */
    HL_EDGE_FEAT_NN_SIM_SRC = 1u << 4,  /**< similarity of j to its nearest non-self neighbour */
    HL_EDGE_FEAT_MEAN_COS = 1u << 5,    /**< cosine of the neighbourhood means of i and j */
    HL_EDGE_FEAT_RANK_DST = 1u << 6,    /**< rank of j among i's non-self neighbours / (k-1): 0 = nearest */
    HL_EDGE_FEAT_RANK_SRC = 1u << 7,    /**< rank of i among j's non-self neighbours / (k-1); 1 if absent */
    HL_EDGE_FEAT_REL_SIM_DST = 1u << 8, /**< sim_ij minus the mean similarity of i to its non-self neighbours */
    HL_EDGE_FEAT_REL_SIM_SRC = 1u << 9  /**< sim_ij minus the mean similarity of j to its non-self neighbours */
} hl_edge_feature;

/** Unsupervised or learned edge scores used by the decode (SPEC section 4). */
typedef enum hl_score {
    HL_SCORE_PROB = 0,  /**< p_ij[1] from a model */
    HL_SCORE_SIM = 1,   /**< raw cosine similarity */
    HL_SCORE_SNN = 2    /**< shared-neighbour fraction */
} hl_score;

/** Model configuration.  Always call hl_model_config_init() first. */
typedef struct hl_model_config {
    size_t struct_size;        /**< set by hl_model_config_init() */
    int64_t feature_dim;       /**< D, the input feature dimension (required, no default) */
    int64_t hidden;            /**< H (default 512) */
    int32_t num_conv;          /**< GraphConv layers, 1..4 (default 1) */
    int32_t use_cluster_feat;  /**< 1: input is [x ; c] (default 1) */
    float dropout;             /**< dropout after ReLU during training, [0, 1) (default 0) */
    int32_t layer_type;        /**< an hl_layer_type (default HL_LAYER_GRAPHCONV) */
    int32_t link_head;         /**< an hl_link_head */
    uint32_t edge_features;    /**< hl_edge_feature flags for the relational head */
    /** Relational head only: 0 = the full-rank term R (h_i * h_j) of SPEC 2b;
     *  r > 0 (default 64) = the low-rank term R (U h_i * U h_j) with
     *  U: Linear(e, r, no bias) and R: Linear(r, H/2): per edge r*H/2 instead
     *  of e*H/2 multiply-adds, 1.8x faster inference at hidden 512 with the
     *  same validation clustering quality (docs/TRAINING.md, docs/perf-model.md).
     *  Set 0 when e (the last layer's width) is not larger than r. */
    int32_t rel_rank;
} hl_model_config;

/**
 * Fill the caller's first @p struct_size bytes of @p cfg with the defaults
 * and set cfg->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_model_config_init(&cfg, sizeof cfg)`.  The library never writes past it.
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_model_config_init(hl_model_config *cfg, size_t struct_size);

/**
 * Check a configuration without creating anything (like liblinear's
 * check_parameter).  @return HL_OK, or HL_EINVAL with hl_last_error() naming the field.
 */
HL_API hl_status hl_model_config_check(const hl_model_config *cfg);

/**
 * Create a model with freshly initialised weights (PyTorch's Linear init,
 * uniform +-1/sqrt(fan_in), PReLU slopes 0.25) drawn from @p seed.
 * @return HL_OK, HL_EINVAL, HL_ENOMEM
 */
HL_API hl_status hl_model_create(const hl_model_config *cfg, uint64_t seed, hl_model **out);

/** Release a model. NULL is a no-op. */
HL_API void hl_model_free(hl_model *model);

/** Copy the model's configuration into the caller's first cfg->struct_size bytes
 *  (set it with hl_model_config_init()). @return HL_OK or HL_EINVAL */
HL_API hl_status hl_model_get_config(const hl_model *model, hl_model_config *cfg);

/** @return the number of trainable float parameters (0 for NULL). */
HL_API int64_t hl_model_num_params(const hl_model *model);

/**
 * Run the model on a graph.
 * @param x        n*d L2-normalised features (the graph's nodes); for a model
 *                 with a feature map, as returned by hl_model_transform()
 * @param c        n*d cluster features, or NULL to use x (level 0)
 * @param num_threads 0 = all available
 * @param edge_prob  caller array, one float per graph edge: p_ij[1] (may be NULL)
 * @param density    caller array of n floats: predicted density dhat (may be NULL)
 * @return HL_OK; HL_EINVAL on a dimension mismatch or non-finite input; HL_ENOMEM
 */
HL_API hl_status hl_model_predict(const hl_model *model, const hl_graph *graph, const float *x,
                                  const float *c, int64_t n, int64_t d, int32_t num_threads,
                                  float *edge_prob, float *density);

/** Largest level limit a model can store (hl_model_set_cluster_levels). */
#define HL_MAX_LEVELS 1000

/**
 * Clustering defaults stored with a model (chosen on validation classes at
 * training time).  @p tau in [0,1]; @p score an hl_score.
 * @return HL_OK or HL_EINVAL
 */
HL_API hl_status hl_model_set_cluster_defaults(hl_model *model, float tau, int32_t score);
/** Read the stored clustering defaults. @return HL_OK or HL_EINVAL */
HL_API hl_status hl_model_get_cluster_defaults(const hl_model *model, float *tau, int32_t *score);

/**
 * The level limit stored with a model, used by hl_cluster when its
 * max_levels is 0 (automatic) and the clustering uses the model's stored
 * score.  0 (the default) = hl_cluster's automatic limit (1 level for a
 * learned score).  Training stores 10 when the full hierarchy (with early
 * stop) clusters the validation classes better than one level.
 * @param levels 0 or 1..HL_MAX_LEVELS
 * @return HL_OK or HL_EINVAL (NULL model, levels out of range)
 */
HL_API hl_status hl_model_set_cluster_levels(hl_model *model, int32_t levels);
/** Read the stored level limit (0 = automatic). @return HL_OK or HL_EINVAL */
HL_API hl_status hl_model_get_cluster_levels(const hl_model *model, int32_t *levels);

/**
 * The linkage-merge threshold stored with a model (hl_cluster_options.merge),
 * used by hl_cluster when its merge is < 0 (default) and the clustering uses
 * the model's stored score.  0 (the default) = no merge.  Training stores the
 * threshold whose clustering of the validation classes is best, or 0 when
 * merging does not help there.
 * @param merge 0 or a finite threshold > 0
 * @return HL_OK or HL_EINVAL (NULL model, merge negative, NaN or infinite)
 */
HL_API hl_status hl_model_set_cluster_merge(hl_model *model, float merge);
/** Read the stored linkage-merge threshold (0 = off). @return HL_OK or HL_EINVAL */
HL_API hl_status hl_model_get_cluster_merge(const hl_model *model, float *merge);

/**
 * The feature map stored with a model: a feature_dim x feature_dim matrix W
 * (row-major) applied to every L2-normalised input row x as W x / |W x|
 * before the graph is built, by hl_cluster (with a model, unless truth is
 * given) and hl_model_transform.  Training fits the within-class whitening
 * of the training classes (hl_train_options.whiten, docs/QUALITY.md), which
 * makes cosine neighbours of unseen classes purer.  A model without one
 * (the default) uses x as it is.
 * @param w feature_dim^2 finite floats, copied; NULL removes the map
 * @return HL_OK, HL_EINVAL (NULL model, non-finite value, feature_dim above
 *         8192), HL_ENOMEM
 */
HL_API hl_status hl_model_set_whitening(hl_model *model, const float *w);
/**
 * Read the stored feature map.
 * @param w        caller array of feature_dim^2 floats, or NULL; left untouched without a map
 * @param present  set to 1 if the model has a map, else 0
 * @return HL_OK or HL_EINVAL
 */
HL_API hl_status hl_model_get_whitening(const hl_model *model, float *w, int32_t *present);

/**
 * The features as the model sees them: rows L2-normalised, then mapped by
 * the model's feature map (if any) and normalised again.  hl_cluster does
 * this itself; callers of hl_model_predict build their graph on, and pass,
 * these features.
 * @param out caller array of n*d floats (may be @p x itself: x is read in full first)
 * @return HL_OK; HL_EINVAL on a dimension mismatch, a non-finite or zero row,
 *         or a row the map sends to zero; HL_ENOMEM
 */
HL_API hl_status hl_model_transform(const hl_model *model, const float *x, int64_t n, int64_t d, float *out);

/**
 * Save a model in the documented binary format (docs/MODEL_FORMAT.md),
 * atomically (temporary file + rename).  @return HL_OK, HL_EINVAL, HL_EIO
 */
HL_API hl_status hl_model_save(const hl_model *model, const char *path);

/**
 * Load a model.  Truncated, corrupted (checksum) or newer-version files fail
 * cleanly.  @return HL_OK, HL_EIO, HL_EFORMAT, HL_EVERSION, HL_ENOMEM
 */
HL_API hl_status hl_model_load(const char *path, hl_model **out);

HL_EXTERN_C_END

#endif
