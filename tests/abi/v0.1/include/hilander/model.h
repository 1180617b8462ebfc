/*
 * libhilander - the LANDER model: GraphConv layers, link head and density
 * head (docs/ALGORITHM.md, "The LANDER network"), its stored clustering
 * defaults and feature map, inference and model files.
 *
 * Thread safety: a model is read only during inference; one hl_model may be
 * shared by any number of threads calling hl_model_predict(),
 * hl_model_transform(), hl_cluster() and the getters at once.  The setters
 * (hl_model_set_*) must not run concurrently with any other use of the same
 * model, nor may a model be used while an hl_trainer on it exists.
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
    HL_LAYER_GRAPHCONV = 0  /**< GraphConv: ReLU(W [h_i ; sum_j aff_ij h_j] + b) */
} hl_layer_type;

/** Link heads.  Appended to, never renumbered. */
typedef enum hl_link_head {
    HL_LINK_HEAD_REFERENCE = 0,  /**< z = A h_j + a + B h_i + b (the published head) */
    HL_LINK_HEAD_RELATIONAL = 1  /**< adds R g_ij + r + E e_ij + e0: g_ij the product of the two
                                      node vectors, e_ij the edge features (hl_edge_feature) */
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

/** Edge scores the decode can use (docs/ALGORITHM.md, "Decode").  Appended to, never renumbered. */
typedef enum hl_score {
    HL_SCORE_PROB = 0,  /**< p_ij[1] from a model */
    HL_SCORE_SIM = 1,   /**< raw cosine similarity */
    HL_SCORE_SNN = 2    /**< shared-neighbour fraction */
} hl_score;

/** Model configuration.  Always call hl_model_config_init() first. */
typedef struct hl_model_config {
    size_t struct_size;        /**< set by hl_model_config_init(); always the first member */
    int64_t feature_dim;       /**< D, the input feature dimension, in [1, 2^20] (required, no default) */
    int64_t hidden;            /**< H, even, in [2, 65536]; >= 4 with more than 2 layers (default 512) */
    int32_t num_conv;          /**< GraphConv layers, 1..4 (default 1) */
    int32_t use_cluster_feat;  /**< 1: input is [x ; c] (default 1) */
    float dropout;             /**< dropout after ReLU during training, [0, 1) (default 0) */
    int32_t layer_type;        /**< an hl_layer_type (default HL_LAYER_GRAPHCONV) */
    int32_t link_head;         /**< an hl_link_head (default HL_LINK_HEAD_RELATIONAL) */
    uint32_t edge_features;    /**< hl_edge_feature flags for the relational head, at least one
                                    (default SIM | SNN); ignored by the reference head */
    /** Relational head only, in [0, 65536]: 0 = the full-rank term R (h_i * h_j);
     *  r > 0 (default 64) = the low-rank term R (U h_i * U h_j) with
     *  U: Linear(e, r, no bias) and R: Linear(r, H/2), e the last layer's
     *  width (saves work only when r < e).  Ignored by the reference head. */
    int32_t rel_rank;
} hl_model_config;

/**
 * Fill the caller's first @p struct_size bytes of @p cfg with the defaults
 * and set cfg->struct_size = struct_size.  Pass sizeof of your own struct:
 * `hl_model_config_init(&cfg, sizeof cfg)`.  The library never writes past it
 * (docs/API.md, "Versioning rule for options and result structs").
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_model_config_init(hl_model_config *cfg, size_t struct_size);

/**
 * Check a configuration without creating anything.
 * @return HL_OK, or HL_EINVAL (NULL, bad struct_size, a field out of range)
 *         with hl_last_error() naming the field
 */
HL_API hl_status hl_model_config_check(const hl_model_config *cfg);

/**
 * Create a model with freshly initialised weights (uniform +-1/sqrt(fan_in)
 * for every linear layer, PReLU slopes 0.25) drawn from @p seed.  Its stored
 * clustering defaults are score HL_SCORE_PROB, tau 0.5, automatic level
 * limit, no merge, no feature map.
 * @param out receives the model on success; release with hl_model_free()
 * @return HL_OK; HL_EINVAL (NULL argument, invalid configuration); HL_ENOMEM
 */
HL_API hl_status hl_model_create(const hl_model_config *cfg, uint64_t seed, hl_model **out);

/** Release a model. NULL is a no-op. */
HL_API void hl_model_free(hl_model *model);

/** Copy the model's configuration into the caller's first cfg->struct_size bytes
 *  (set struct_size with hl_model_config_init()).
 *  @return HL_OK; HL_EINVAL (NULL argument, bad struct_size) */
HL_API hl_status hl_model_get_config(const hl_model *model, hl_model_config *cfg);

/** @return the number of trainable float parameters (0 for NULL). */
HL_API int64_t hl_model_num_params(const hl_model *model);

/**
 * Run the model on a graph.
 * @param graph    the graph of the n nodes (read only)
 * @param x        n*d L2-normalised features (the graph's nodes); for a model
 *                 with a feature map, as returned by hl_model_transform()
 * @param c        n*d cluster features, or NULL to use x (level 0)
 * @param d        must equal the model's feature_dim
 * @param num_threads 0 = all available; results never depend on it
 * @param edge_prob  caller array, one float per graph edge: p_ij[1] in [0, 1] (may be NULL)
 * @param density    caller array of n floats: predicted density dhat in [-1, 1] (may be NULL)
 * @return HL_OK; HL_EINVAL (NULL model, graph or x, n not the graph's node
 *         count, dimension mismatch, negative num_threads, non-finite input); HL_ERANGE (graph too
 *         large for the GEMM index range); HL_ENOMEM
 */
HL_API hl_status hl_model_predict(const hl_model *model, const hl_graph *graph, const float *x,
                                  const float *c, int64_t n, int64_t d, int32_t num_threads,
                                  float *edge_prob, float *density);

/** Largest level limit a model can store (hl_model_set_cluster_levels). */
#define HL_MAX_LEVELS 1000

/**
 * Set the clustering defaults stored with a model, used by hl_cluster when
 * its options leave score and tau unset (training stores its choice).
 * @param tau in [0, 1]; @param score an hl_score
 * @return HL_OK; HL_EINVAL (NULL model, tau or score out of range)
 */
HL_API hl_status hl_model_set_cluster_defaults(hl_model *model, float tau, int32_t score);
/** Read the stored clustering defaults.
 *  @return HL_OK; HL_EINVAL (NULL argument) */
HL_API hl_status hl_model_get_cluster_defaults(const hl_model *model, float *tau, int32_t *score);

/**
 * Set the level limit stored with a model, used by hl_cluster when its
 * max_levels is 0 (automatic) and the clustering uses the model's stored
 * score.  0 (the default) = hl_cluster's automatic limit.
 * @param levels 0 or 1..HL_MAX_LEVELS
 * @return HL_OK; HL_EINVAL (NULL model, levels out of range)
 */
HL_API hl_status hl_model_set_cluster_levels(hl_model *model, int32_t levels);
/** Read the stored level limit (0 = automatic).
 *  @return HL_OK; HL_EINVAL (NULL argument) */
HL_API hl_status hl_model_get_cluster_levels(const hl_model *model, int32_t *levels);

/**
 * Set the linkage-merge threshold stored with a model (see
 * hl_cluster_options.merge), used by hl_cluster when its merge is < 0
 * (default) and the clustering uses the model's stored score.  0 (the
 * default) = no merge.
 * @param merge 0 or a finite threshold > 0
 * @return HL_OK; HL_EINVAL (NULL model, merge negative, NaN or infinite)
 */
HL_API hl_status hl_model_set_cluster_merge(hl_model *model, float merge);
/** Read the stored linkage-merge threshold (0 = off).
 *  @return HL_OK; HL_EINVAL (NULL argument) */
HL_API hl_status hl_model_get_cluster_merge(const hl_model *model, float *merge);

/**
 * Set the feature map stored with a model: a feature_dim x feature_dim
 * matrix W (row-major) applied to every L2-normalised input row x as
 * W x / |W x| before the graph is built, by hl_cluster (with a model, unless
 * truth is given) and hl_model_transform (docs/ALGORITHM.md, "Feature map").
 * A model without one (the default) uses x as it is.
 * @param w feature_dim^2 finite floats, copied; NULL removes the map
 * @return HL_OK; HL_EINVAL (NULL model, non-finite value, feature_dim above
 *         8192); HL_ENOMEM
 */
HL_API hl_status hl_model_set_whitening(hl_model *model, const float *w);
/**
 * Read the stored feature map.
 * @param w        caller array of feature_dim^2 floats, or NULL; left untouched without a map
 * @param present  set to 1 if the model has a map, else 0
 * @return HL_OK; HL_EINVAL (NULL model or present)
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
 * atomically (temporary file + rename; a failure leaves any existing file
 * untouched).
 * @return HL_OK; HL_EINVAL (NULL argument); HL_EIO (create, write, sync or
 *         rename failed); HL_ENOMEM
 */
HL_API hl_status hl_model_save(const hl_model *model, const char *path);

/**
 * Load a model saved by hl_model_save.  Truncated, corrupted (checksum) or
 * newer-version files fail cleanly, without a partial model.
 * @param out receives the model on success; release with hl_model_free()
 * @return HL_OK; HL_EINVAL (NULL argument); HL_EIO (cannot open or read);
 *         HL_EFORMAT (not a model file, truncated, bad checksum or layout);
 *         HL_EVERSION (written by a newer format version); HL_ERANGE (absurd
 *         sizes); HL_ENOMEM
 */
HL_API hl_status hl_model_load(const char *path, hl_model **out);

HL_EXTERN_C_END

#endif
