/* Internal: the layout of hl_model (named parameter tensors in one flat
 * float array), the network's forward and backward passes (docs/ALGORITHM.md, "The LANDER network"),
 * shared by inference (model.c), training (train.c) and model files. */
#ifndef HILANDER_MODEL_INTERNAL_H
#define HILANDER_MODEL_INTERNAL_H

#include "graph/graph_internal.h"
#include "common/worker_pool.h"

#define HLI_MAX_TENSORS 32
#define HLI_TENSOR_NAME 32
#define HLI_MAX_CONV 4

/* One named parameter tensor: rows x cols floats at params + offset
 * (a vector has rows = its length, cols = 1).  Weights are stored as
 * PyTorch does: (out_features, in_features), row-major. */
typedef struct hli_tensor {
    char name[HLI_TENSOR_NAME];
    int64_t rows, cols;
    int64_t offset;
} hli_tensor;

struct hl_model {
    hl_model_config cfg;
    float tau;          /* clustering defaults */
    int32_t score;
    int32_t cluster_levels; /* stored level limit, 0 = hl_cluster's automatic one */
    float cluster_merge;    /* stored linkage-merge threshold, 0 = off */
    float *whiten;          /* feature_dim^2 feature map applied before everything (whiten.c), or NULL */
    int64_t width[HLI_MAX_CONV + 1]; /* width[0] = input width, width[l+1] = output of conv l */
    int64_t h2;         /* link head width H/2 */
    int m;              /* edge features (relational head), 0 otherwise */
    int num_tensors;
    hli_tensor t[HLI_MAX_TENSORS];
    /* tensor indices (-1 when absent) */
    int conv_w[HLI_MAX_CONV], conv_b[HLI_MAX_CONV];
    int src_w, src_b, dst_w, dst_b, rel_w, rel_b, edge_w, edge_b;
    int relp_w;         /* U of the low-rank relational term (cfg.rel_rank > 0), else -1 */
    int prelu1, l1_w, l1_b, prelu2, l2_w, l2_b;
    int64_t num_params;
    float *params;
};

/* Fill @p m's configuration and tensor layout from @p cfg (checked), without
 * allocating the parameters (m->params = NULL): the model-file loader uses
 * it to know the size to expect before allocating anything. */
hl_status hli_model_layout(const hl_model_config *cfg, hl_model *m);
/* The features as @p model sees them, in a new array: rows L2-normalised,
 * then mapped by the model's feature map (whiten.c) if it has one (model
 * may be NULL: normalised only).  NULL with *status set on error. */
float *hli_model_input(const hl_model *model, const float *x, int64_t n, int64_t d, hl_status *status);
/* hli_model_input in place: @p x becomes the rows the model sees.  A
 * non-finite or zero row leaves x unchanged; a later failure (the whitening
 * maps a row to zero, or its buffer cannot be allocated) may leave it
 * normalised. */
hl_status hli_model_input_in_place(const hl_model *model, float *x, int64_t n, int64_t d);
/* Allocate a model with the layout of @p cfg (checked) and zeroed parameters. */
hl_status hli_model_alloc(const hl_model_config *cfg, hl_model **out);
/* PyTorch-style initialisation of every tensor from @p seed. */
void hli_model_init_params(hl_model *m, uint64_t seed);

static inline float *hli_param(const hl_model *m, int id) { return m->params + m->t[id].offset; }

/* The graph a forward pass runs on: CSR in-edges by destination.  The link
 * and density heads are evaluated on the in-edges of nodes [0, n_head) only,
 * which are edges [0, offsets[n_head]). */
typedef struct hli_net_input {
    int64_t n, d;
    const int64_t *offsets, *src;
    const float *sim, *aff;
    const float *x, *c;   /* n*d; c NULL: c = x */
    int64_t n_head;
    const float *efeat;   /* offsets[n_head] x m edge features, relational head only */
} hli_net_input;

/* Everything the backward pass needs (training). */
typedef struct hli_net_cache {
    int64_t n, ne;                 /* nodes, head edges */
    int64_t nr;                    /* rows [0, nr) hold every head endpoint: the last
                                      layer and A h, B h are computed for them only */
    float *cat[HLI_MAX_CONV];      /* n x 2*width[l]: [h_l ; aggregate of h_l] */
    float *h[HLI_MAX_CONV + 1];    /* h[l+1]: n x width[l+1] after ReLU and dropout; h[0] unused */
    float drop_scale;              /* 1/(1-p) of the dropout used, 1 without */
    int64_t *dst;                  /* ne: destination of every head edge */
    float *P, *Q;                  /* n x h2: A h, B h */
    float *G;                      /* low-rank relational: nr x r, U h (NULL otherwise) */
    float *hh;                     /* ne x gw: g_i * g_j (relational; g = h, or U h at low rank) */
    float *z, *u1, *v, *u2;        /* ne x h2 */
    float *prob;                   /* ne x 2 */
    float *dhat;                   /* n_head */
} hli_net_cache;

void hli_net_cache_free(hli_net_cache *c);

/* Forward pass for training and tests.  @p dropout_seed seeds the dropout
 * masks (used only if @p train and cfg.dropout > 0). */
hl_status hli_net_forward(const hl_model *m, const hli_net_input *in, int nt, int train, uint64_t dropout_seed,
                          hli_net_cache *cache);

/* The training loss on the head edges.  @p dens_gt: n_head ground-truth
 * densities; @p label: 1 if the edge's endpoints share a class; @p mask: 1 if
 * the edge takes part in the link loss.  Writes dL/dlogits (ne x 2) into
 * @p dlogit (may be NULL).  Loss = mean over the n_head nodes of
 * (dhat - d)^2 + mean over masked edges of the (focal) cross-entropy. */
void hli_net_loss(const hli_net_cache *c, int64_t n_head, const int64_t *offsets, const float *sim,
                  const float *dens_gt, const uint8_t *label, const uint8_t *mask, int focal, double *loss_den,
                  double *loss_link, float *dlogit);

/* Backward pass: overwrites @p grad (num_params floats) with dLoss/dparams. */
hl_status hli_net_backward(const hl_model *m, const hli_net_input *in, const hli_net_cache *c,
                           const float *dlogit, int nt, float *grad);

/* Building blocks of the forward pass, shared by training and inference. */
/* Rows [i0, i1) of layer @p l's input [h_i ; sum_j aff_ij h_j] into @p cat
 * ((i1-i0) x 2*width[l]).  @p hl: n x width[l] layer input, or NULL for
 * layer 0 where h0 = [x ; c] (or x). */
void hli_conv_cat(const hl_model *m, int l, const hli_net_input *in, const float *hl, int64_t i0, int64_t i1,
                  float *cat, int nt);
/* h = ReLU(cat W^T + b) for @p rows rows (GEMM from serial code). */
void hli_conv_apply(const float *W, const float *b, int64_t rows, int64_t in2, int64_t out, const float *cat,
                    float *h, int nt);
/* The link head on edges [e0, e1) (edge e: src[e] -> dst[e]); buffers are
 * indexed from 0 = edge e0.  @p u1 may equal @p z and @p u2 may equal @p v
 * (in place, inference).  @p hh is needed for the relational head only, and
 * @p G (gw wide): the vectors whose products feed R (H, or U h at low rank). */
void hli_head_forward(const hl_model *m, const float *G, int64_t gw, const float *P, const float *Q, const int64_t *src,
                      const int64_t *dst, const float *efeat, int64_t e0, int64_t e1, float *hh, float *z, float *u1,
                      float *v, float *u2, float *prob, int nt);
/* Inference-only link head on edges [e0, e1) (buffers indexed from 0 = edge
 * e0; only prob is meaningful afterwards).  @p PQ: rows of [A h | B h]
 * (2*h2 wide, without biases); @p bias: the h2 sum of every bias added to z;
 * @p G (gw wide): the node vectors whose elementwise products feed R
 * (relational head only: the last layer's output, or U h at low rank);
 * @p WEt: the edge-feature weight E transposed (m x h2; relational only).
 * The per-edge loops run on @p pool (NULL: the calling thread). */
void hli_head_infer(const hl_model *m, const float *G, int64_t gw, const float *PQ, const float *bias,
                    const float *WEt, const int64_t *src, const int64_t *dst, const float *efeat, int64_t e0,
                    int64_t e1, float *hh, float *z, float *v, float *prob, hli_pool *pool);
/* dhat[i] = mean over i's in-edges of sim * (p1 - p0) (0 without in-edges)
 * for nodes i in [i0, i1); @p sim is indexed by edge, @p prob by
 * edge - offsets[i0] (the chunk's first edge). */
void hli_head_density(const int64_t *offsets, const float *sim, const float *prob, int64_t i0, int64_t i1,
                      float *dhat);


#endif
