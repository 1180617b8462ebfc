/* The LANDER model: configuration, parameter layout (named tensors in one
 * flat array), initialisation, clustering defaults and inference. */
#include "model/model_internal.h"
#include "model/whiten.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define HLI_MAX_FEATURE_DIM (1 << 20)
#define HLI_MAX_HIDDEN (1 << 16)
#define HLI_EDGE_FEAT_KNOWN 0x3FFu

void hli_model_config_defaults(void *full)
{
    hl_model_config *cfg = full;
    cfg->feature_dim = 0;
    cfg->hidden = 512;
    cfg->num_conv = 1;
    cfg->use_cluster_feat = 1;
    cfg->dropout = 0.0f;
    cfg->layer_type = HL_LAYER_GRAPHCONV;
    cfg->link_head = HL_LINK_HEAD_RELATIONAL;
    cfg->edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN;
    /* Low rank by default: on class splits of the training data it clusters
     * as well as the full-rank term (mean F within 0.005) and halves the
     * per-edge work (docs/TRAINING.md, docs/perf-model.md). */
    cfg->rel_rank = 64;
}

hl_status hl_model_config_init(hl_model_config *cfg, size_t struct_size)
{
    return hli_struct_init(cfg, struct_size, HLI_MIN_SIZE_MODEL_CONFIG, sizeof *cfg, hli_model_config_defaults,
                           "hl_model_config_init");
}

/* A full-size copy of a caller's config (fields it lacks at their defaults). */
static hl_status config_full(const hl_model_config *in, hl_model_config *out)
{
    return hli_struct_read(in, HLI_MIN_SIZE_MODEL_CONFIG, sizeof *out, hli_model_config_defaults, out, "model config");
}

hl_status hl_model_config_check(const hl_model_config *cfg_in)
{
    hl_model_config full;
    hl_status st0 = config_full(cfg_in, &full);
    if (st0 != HL_OK)
        return st0;
    const hl_model_config *cfg = &full;
    if (cfg->feature_dim < 1 || cfg->feature_dim > HLI_MAX_FEATURE_DIM)
        return hli_error(HL_EINVAL, "model config: feature_dim = %lld must be in [1, %d]",
                         (long long)cfg->feature_dim, HLI_MAX_FEATURE_DIM);
    if (cfg->hidden < 2 || cfg->hidden > HLI_MAX_HIDDEN || cfg->hidden % 2 != 0)
        return hli_error(HL_EINVAL, "model config: hidden = %lld must be even and in [2, %d]",
                         (long long)cfg->hidden, HLI_MAX_HIDDEN);
    if (cfg->num_conv < 1 || cfg->num_conv > HLI_MAX_CONV)
        return hli_error(HL_EINVAL, "model config: num_conv = %d must be in [1, %d]", (int)cfg->num_conv,
                         HLI_MAX_CONV);
    if (cfg->num_conv > 2 && cfg->hidden < 4)
        return hli_error(HL_EINVAL, "model config: hidden = %lld must be >= 4 with num_conv = %d",
                         (long long)cfg->hidden, (int)cfg->num_conv);
    if (cfg->use_cluster_feat != 0 && cfg->use_cluster_feat != 1)
        return hli_error(HL_EINVAL, "model config: use_cluster_feat = %d must be 0 or 1", (int)cfg->use_cluster_feat);
    if (!(cfg->dropout >= 0.0f && cfg->dropout < 1.0f))
        return hli_error(HL_EINVAL, "model config: dropout = %g must be in [0, 1)", (double)cfg->dropout);
    if (cfg->layer_type != HL_LAYER_GRAPHCONV)
        return hli_error(HL_EINVAL, "model config: layer_type = %d is not supported (only HL_LAYER_GRAPHCONV = 0)",
                         (int)cfg->layer_type);
    if (cfg->link_head != HL_LINK_HEAD_REFERENCE && cfg->link_head != HL_LINK_HEAD_RELATIONAL)
        return hli_error(HL_EINVAL, "model config: link_head = %d must be 0 (reference) or 1 (relational)",
                         (int)cfg->link_head);
    if (cfg->link_head == HL_LINK_HEAD_RELATIONAL) {
        if (cfg->edge_features & ~HLI_EDGE_FEAT_KNOWN)
            return hli_error(HL_EINVAL, "model config: edge_features has unknown bits 0x%x",
                             (unsigned)(cfg->edge_features & ~HLI_EDGE_FEAT_KNOWN));
        if (cfg->edge_features == 0)
            return hli_error(HL_EINVAL, "model config: edge_features = 0, the relational head needs at least one");
        if (cfg->rel_rank < 0 || cfg->rel_rank > HLI_MAX_HIDDEN)
            return hli_error(HL_EINVAL, "model config: rel_rank = %d must be 0 (full rank) or in [1, %d]",
                             (int)cfg->rel_rank, HLI_MAX_HIDDEN);
    }
    return HL_OK;
}

static int add_tensor(hl_model *m, const char *name, int64_t rows, int64_t cols)
{
    int id = m->num_tensors++;
    hli_tensor *t = &m->t[id];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->offset = m->num_params;
    m->num_params += rows * cols;
    return id;
}

hl_status hli_model_layout(const hl_model_config *cfg_in, hl_model *m)
{
    hl_status st = hl_model_config_check(cfg_in);
    if (st != HL_OK)
        return st;
    hl_model_config full;
    config_full(cfg_in, &full);
    const hl_model_config *cfg = &full;
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    const int64_t H = cfg->hidden, D = cfg->feature_dim;
    if (cfg->link_head != HL_LINK_HEAD_RELATIONAL) {
        m->cfg.edge_features = 0;
        m->cfg.rel_rank = 0;
    }
    m->tau = 0.5f;
    m->score = HL_SCORE_PROB;
    m->width[0] = cfg->use_cluster_feat ? 2 * D : D;
    for (int l = 0; l < cfg->num_conv; l++)
        m->width[l + 1] = l < 2 ? H : H / 2;
    m->h2 = H / 2;
    m->m = hli_edge_feature_count(m->cfg.edge_features);
    m->rel_w = m->rel_b = m->edge_w = m->edge_b = m->relp_w = -1;
    char name[HLI_TENSOR_NAME];
    for (int l = 0; l < cfg->num_conv; l++) {
        snprintf(name, sizeof name, "conv%d.weight", l);
        m->conv_w[l] = add_tensor(m, name, m->width[l + 1], 2 * m->width[l]);
        snprintf(name, sizeof name, "conv%d.bias", l);
        m->conv_b[l] = add_tensor(m, name, m->width[l + 1], 1);
    }
    const int64_t e = m->width[cfg->num_conv], h2 = m->h2;
    m->src_w = add_tensor(m, "link.src.weight", h2, e);
    m->src_b = add_tensor(m, "link.src.bias", h2, 1);
    m->dst_w = add_tensor(m, "link.dst.weight", h2, e);
    m->dst_b = add_tensor(m, "link.dst.bias", h2, 1);
    if (cfg->link_head == HL_LINK_HEAD_RELATIONAL) {
        if (cfg->rel_rank > 0)
            m->relp_w = add_tensor(m, "link.relproj.weight", cfg->rel_rank, e);
        m->rel_w = add_tensor(m, "link.rel.weight", h2, cfg->rel_rank > 0 ? cfg->rel_rank : e);
        m->rel_b = add_tensor(m, "link.rel.bias", h2, 1);
        m->edge_w = add_tensor(m, "link.edge.weight", h2, m->m);
        m->edge_b = add_tensor(m, "link.edge.bias", h2, 1);
    }
    m->prelu1 = add_tensor(m, "link.prelu1.weight", h2, 1);
    m->l1_w = add_tensor(m, "link.l1.weight", h2, h2);
    m->l1_b = add_tensor(m, "link.l1.bias", h2, 1);
    m->prelu2 = add_tensor(m, "link.prelu2.weight", h2, 1);
    m->l2_w = add_tensor(m, "link.l2.weight", 2, h2);
    m->l2_b = add_tensor(m, "link.l2.bias", 2, 1);
    return HL_OK;
}

hl_status hli_model_alloc(const hl_model_config *cfg, hl_model **out)
{
    hl_model tmp;
    hl_status st = hli_model_layout(cfg, &tmp);
    if (st != HL_OK)
        return st;
    hl_model *m = hli_alloc(1, sizeof *m);
    if (m == NULL)
        return hl_last_error_status();
    *m = tmp;
    m->params = hli_calloc((size_t)m->num_params, sizeof(float));
    if (m->params == NULL) {
        free(m);
        return hl_last_error_status();
    }
    *out = m;
    return HL_OK;
}

/* PyTorch's nn.Linear init: weight and bias uniform in +-1/sqrt(fan_in). */
static void init_linear(hl_model *m, hli_rng *rng, int w, int b)
{
    const int64_t fan_in = m->t[w].cols;
    const double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    float *pw = hli_param(m, w), *pb = hli_param(m, b);
    for (int64_t i = 0; i < m->t[w].rows * m->t[w].cols; i++)
        pw[i] = (float)((2.0 * hli_rng_uniform(rng) - 1.0) * bound);
    for (int64_t i = 0; i < m->t[b].rows; i++)
        pb[i] = (float)((2.0 * hli_rng_uniform(rng) - 1.0) * bound);
}

void hli_model_init_params(hl_model *m, uint64_t seed)
{
    hli_rng rng;
    hli_rng_seed(&rng, seed);
    for (int l = 0; l < m->cfg.num_conv; l++)
        init_linear(m, &rng, m->conv_w[l], m->conv_b[l]);
    init_linear(m, &rng, m->src_w, m->src_b);
    init_linear(m, &rng, m->dst_w, m->dst_b);
    if (m->relp_w >= 0) { /* Linear(e, r) without bias */
        const double bound = 1.0 / sqrt((double)m->t[m->relp_w].cols);
        float *pw = hli_param(m, m->relp_w);
        for (int64_t i = 0; i < m->t[m->relp_w].rows * m->t[m->relp_w].cols; i++)
            pw[i] = (float)((2.0 * hli_rng_uniform(&rng) - 1.0) * bound);
    }
    if (m->rel_w >= 0) {
        init_linear(m, &rng, m->rel_w, m->rel_b);
        init_linear(m, &rng, m->edge_w, m->edge_b);
    }
    init_linear(m, &rng, m->l1_w, m->l1_b);
    init_linear(m, &rng, m->l2_w, m->l2_b);
    for (int64_t q = 0; q < m->h2; q++) {
        hli_param(m, m->prelu1)[q] = 0.25f;
        hli_param(m, m->prelu2)[q] = 0.25f;
    }
}

hl_status hl_model_create(const hl_model_config *cfg, uint64_t seed, hl_model **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_model_create: out is NULL");
    *out = NULL;
    hl_model *m;
    hl_status st = hli_model_alloc(cfg, &m);
    if (st != HL_OK)
        return st;
    hli_model_init_params(m, seed);
    *out = m;
    return HL_OK;
}

void hl_model_free(hl_model *model)
{
    if (model == NULL)
        return;
    free(model->params);
    free(model->whiten);
    free(model);
}

hl_status hl_model_get_config(const hl_model *model, hl_model_config *cfg)
{
    if (model == NULL || cfg == NULL)
        return hli_error(HL_EINVAL, "hl_model_get_config: %s is NULL", model == NULL ? "model" : "cfg");
    return hli_struct_write(cfg, &model->cfg, HLI_MIN_SIZE_MODEL_CONFIG, sizeof *cfg, "hl_model_get_config");
}

int64_t hl_model_num_params(const hl_model *model) { return model ? model->num_params : 0; }

hl_status hl_model_set_cluster_defaults(hl_model *model, float tau, int32_t score)
{
    if (model == NULL)
        return hli_error(HL_EINVAL, "hl_model_set_cluster_defaults: model is NULL");
    if (!(tau >= 0.0f && tau <= 1.0f))
        return hli_error(HL_EINVAL, "hl_model_set_cluster_defaults: tau = %g must be in [0, 1]", (double)tau);
    if (score < HL_SCORE_PROB || score > HL_SCORE_SNN)
        return hli_error(HL_EINVAL, "hl_model_set_cluster_defaults: score = %d is not an hl_score", (int)score);
    model->tau = tau;
    model->score = score;
    return HL_OK;
}

hl_status hl_model_get_cluster_defaults(const hl_model *model, float *tau, int32_t *score)
{
    if (model == NULL)
        return hli_error(HL_EINVAL, "hl_model_get_cluster_defaults: model is NULL");
    if (tau)
        *tau = model->tau;
    if (score)
        *score = model->score;
    return HL_OK;
}

hl_status hl_model_set_cluster_levels(hl_model *model, int32_t levels)
{
    if (model == NULL)
        return hli_error(HL_EINVAL, "hl_model_set_cluster_levels: model is NULL");
    if (levels < 0 || levels > HL_MAX_LEVELS)
        return hli_error(HL_EINVAL, "hl_model_set_cluster_levels: levels = %d must be in [0, %d]", (int)levels,
                         HL_MAX_LEVELS);
    model->cluster_levels = levels;
    return HL_OK;
}

hl_status hl_model_get_cluster_levels(const hl_model *model, int32_t *levels)
{
    if (model == NULL || levels == NULL)
        return hli_error(HL_EINVAL, "hl_model_get_cluster_levels: %s is NULL", model == NULL ? "model" : "levels");
    *levels = model->cluster_levels;
    return HL_OK;
}

hl_status hl_model_set_cluster_merge(hl_model *model, float merge)
{
    if (model == NULL)
        return hli_error(HL_EINVAL, "hl_model_set_cluster_merge: model is NULL");
    if (!(merge >= 0.0f) || !isfinite(merge))
        return hli_error(HL_EINVAL, "hl_model_set_cluster_merge: merge = %g must be 0 (off) or a finite threshold "
                         "> 0", (double)merge);
    model->cluster_merge = merge;
    return HL_OK;
}

hl_status hl_model_get_cluster_merge(const hl_model *model, float *merge)
{
    if (model == NULL || merge == NULL)
        return hli_error(HL_EINVAL, "hl_model_get_cluster_merge: %s is NULL", model == NULL ? "model" : "merge");
    *merge = model->cluster_merge;
    return HL_OK;
}

hl_status hl_model_set_whitening(hl_model *model, const float *w)
{
    if (model == NULL)
        return hli_error(HL_EINVAL, "hl_model_set_whitening: model is NULL");
    const int64_t d = model->cfg.feature_dim;
    if (w == NULL) {
        free(model->whiten);
        model->whiten = NULL;
        return HL_OK;
    }
    if (d > HLI_WHITEN_MAX_DIM)
        return hli_error(HL_EINVAL, "hl_model_set_whitening: feature_dim = %lld is above the supported %d",
                         (long long)d, HLI_WHITEN_MAX_DIM);
    hl_status st = hli_check_finite("whitening matrix", w, d, d);
    if (st != HL_OK)
        return st;
    float *copy = hli_alloc((size_t)(d * d), sizeof(float));
    if (copy == NULL)
        return hl_last_error_status();
    memcpy(copy, w, (size_t)(d * d) * sizeof(float));
    free(model->whiten);
    model->whiten = copy;
    return HL_OK;
}

hl_status hl_model_get_whitening(const hl_model *model, float *w, int32_t *present)
{
    if (model == NULL || present == NULL)
        return hli_error(HL_EINVAL, "hl_model_get_whitening: %s is NULL", model == NULL ? "model" : "present");
    *present = model->whiten != NULL;
    if (w != NULL && model->whiten != NULL)
        memcpy(w, model->whiten, (size_t)(model->cfg.feature_dim * model->cfg.feature_dim) * sizeof(float));
    return HL_OK;
}

float *hli_model_input(const hl_model *model, const float *x, int64_t n, int64_t d, hl_status *status)
{
    float *xn = hli_normalized_copy(x, n, d, status);
    if (xn != NULL && model != NULL && model->whiten != NULL &&
        (*status = hli_whiten_apply(model->whiten, xn, n, d)) != HL_OK) {
        free(xn);
        return NULL;
    }
    return xn;
}

hl_status hl_model_transform(const hl_model *model, const float *x, int64_t n, int64_t d, float *out)
{
    if (model == NULL || x == NULL || out == NULL)
        return hli_error(HL_EINVAL, "hl_model_transform: %s is NULL",
                         model == NULL ? "model" : x == NULL ? "x" : "out");
    if (d != model->cfg.feature_dim)
        return hli_error(HL_EINVAL, "hl_model_transform: d = %lld but the model expects feature_dim = %lld",
                         (long long)d, (long long)model->cfg.feature_dim);
    hl_status st;
    float *xn = hli_model_input(model, x, n, d, &st);
    if (xn == NULL)
        return st;
    memcpy(out, xn, (size_t)n * (size_t)d * sizeof(float)); /* size checked by hli_normalized_copy */
    free(xn);
    return HL_OK;
}

/* ---- inference ------------------------------------------------------------ */

#define HLI_NODE_CHUNK 8192
/* Edges per head chunk.  The head's per-edge loops run on the blocking
 * worker pool (no spinning OpenMP team), so small chunks cost no
 * OpenMP/OpenBLAS hand-overs and keep z and v (4,096 x h2 floats each,
 * 4 MiB at h2 = 256) in the L3 cache between the gather, the GEMMs and the
 * L2 pass.  Measured 2 threads, reference head, N = 100k, loops on the
 * calling thread (docs/perf-model.md): 4,096 edges 2.6 s vs 16,384
 * 2.8-2.9 s vs 65,536 3.0 s; with the pool, 2,048 / 8,192 were within the
 * noise of 4,096. */
#ifndef HLI_EDGE_CHUNK
#define HLI_EDGE_CHUNK 4096
#endif

/* Rows [i0 + r0, i0 + r1) of [x_i ; sum_j aff_ij x_j] (2d wide): the
 * level-0 input [x ; c ; agg x ; agg c] with c = x, whose weight is folded
 * to 2d columns (a pool task over the rows of one node chunk). */
typedef struct {
    const hli_net_input *in;
    int64_t i0;
    float *cat;
} cat_task;

/* edges ahead whose x_j row the aggregation prefetches */
#ifndef HLI_AGG_PREFETCH
#define HLI_AGG_PREFETCH 4
#endif

static void cat_x_rows(void *arg, int64_t r0, int64_t r1)
{
    const cat_task *t = arg;
    const hli_net_input *in = t->in;
    const int64_t d = in->d, eend = in->offsets[t->i0 + r1];
    for (int64_t i = t->i0 + r0; i < t->i0 + r1; i++) {
        float *row = t->cat + (i - t->i0) * 2 * d, *agg = row + d;
        memcpy(row, in->x + i * d, (size_t)d * sizeof(float));
        memset(agg, 0, (size_t)d * sizeof(float));
        for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++) {
            if (e + HLI_AGG_PREFETCH < eend) { /* the random row x_j a few edges ahead */
                const float *pn = in->x + in->src[e + HLI_AGG_PREFETCH] * d;
                for (int64_t q = 0; q < d; q += 16)
                    __builtin_prefetch(pn + q);
            }
            const float a = in->aff[e], *xj = in->x + in->src[e] * d;
            for (int64_t q = 0; q < d; q++)
                agg[q] += a * xj[q];
        }
    }
}

/* h = ReLU(h + b) on rows [r0, r1) of width w (a pool task: it runs between
 * two GEMMs, where an OpenMP team would leave its workers spinning while
 * OpenBLAS needs the cores, docs/perf-model.md). */
typedef struct {
    float *h;
    const float *b;
    int64_t w;
} bias_relu_task;

static void bias_relu_rows(void *arg, int64_t r0, int64_t r1)
{
    const bias_relu_task *t = arg;
    const int64_t w = t->w;
    for (int64_t i = r0; i < r1; i++) {
        float *restrict r = t->h + i * w;
        for (int64_t q = 0; q < w; q++) {
            const float v = r[q] + t->b[q];
            r[q] = v > 0.0f ? v : 0.0f;
        }
    }
}

/* rows per block of the node-level pool tasks */
#define HLI_NODE_GRAIN 256

hl_status hl_model_predict(const hl_model *model, const hl_graph *graph, const float *x, const float *c, int64_t n,
                           int64_t d, int32_t num_threads, float *edge_prob, float *density)
{
    if (model == NULL || graph == NULL || x == NULL)
        return hli_error(HL_EINVAL, "hl_model_predict: %s is NULL",
                         model == NULL ? "model" : graph == NULL ? "graph" : "x");
    if (n != graph->n)
        return hli_error(HL_EINVAL, "hl_model_predict: n = %lld but the graph has %lld nodes", (long long)n,
                         (long long)graph->n);
    if (d != model->cfg.feature_dim)
        return hli_error(HL_EINVAL, "hl_model_predict: d = %lld but the model expects feature_dim = %lld",
                         (long long)d, (long long)model->cfg.feature_dim);
    if (num_threads < 0)
        return hli_error(HL_EINVAL, "hl_model_predict: num_threads = %d must be >= 0", (int)num_threads);
    hl_status st = hli_check_finite("x", x, n, d);
    if (st != HL_OK)
        return st;
    if (c != NULL && (st = hli_check_finite("c", c, n, d)) != HL_OK)
        return st;
    if (n > INT_MAX / 4)
        return hli_error(HL_ERANGE, "hl_model_predict: n = %lld is too large", (long long)n);
    if (edge_prob == NULL && density == NULL)
        return HL_OK;
    const hl_model *m = model;
    const int nt = hli_threads(num_threads);
    /* OpenBLAS's results depend on its own thread count (measured: sgemm with 1
     * and 2 threads differs in the last bits), so the GEMMs always run with
     * the machine's thread count and only the OpenMP loops follow
     * num_threads: results are then bit-identical for any num_threads. */
    hli_blas_set_threads(hli_threads(0));
    /* The per-row loops between the GEMMs (level-0 aggregation, bias + ReLU,
     * the head's per-edge loops) run on a pool of nt threads whose workers
     * sleep between tasks: an OpenMP team's idle workers would spin on the
     * cores OpenBLAS needs right after every loop (libgomp spinning was
     * 19 % of a 2-thread profile, docs/perf-model.md).  Per-row work, so the
     * results do not depend on nt; without a pool (nt = 1, or the threads
     * could not be created) the loops run on the calling thread. */
    hli_pool *pool = hli_pool_create(nt);
    const int L = m->cfg.num_conv;
    const int64_t h2 = m->h2, ew = m->width[L], E = graph->num_edges;
    const int rel = m->cfg.link_head == HL_LINK_HEAD_RELATIONAL;
    /* level 0 (c NULL or c == x) with cluster features: W [x ; x ; agg x ;
     * agg x] = (W_x + W_c) x + (W_ax + W_ac) agg x, half the GEMM (equal to
     * the unfolded product up to float rounding) */
    const int fold = m->cfg.use_cluster_feat && (c == NULL || c == x);
    hli_net_input in = {.n = n, .d = d, .offsets = graph->offsets, .src = graph->src, .sim = graph->sim,
                        .aff = graph->aff, .x = x, .c = c, .n_head = n, .efeat = NULL};
    float *hprev = NULL, *hcur = NULL, *cat = NULL, *PQ = NULL, *efeat = NULL, *wf = NULL, *wab = NULL, *bias = NULL;
    float *Gbuf = NULL;
    float *hh = NULL, *z = NULL, *v = NULL, *prob = NULL, *dh = NULL;
    int64_t *dst = NULL;
    int64_t maxw = 0;
    for (int l = 0; l < L; l++)
        maxw = m->width[l] > maxw ? m->width[l] : maxw;
    const int64_t nchunk = n < HLI_NODE_CHUNK ? n : HLI_NODE_CHUNK;
    cat = hli_alloc((size_t)nchunk, (size_t)(2 * maxw) * sizeof(float));
    if (cat == NULL)
        goto fail;
    /* [A h | B h] in one GEMM (2*h2 wide); the biases are summed once */
    PQ = hli_alloc((size_t)n, (size_t)(2 * h2) * sizeof(float));
    wab = hli_alloc((size_t)(2 * h2), (size_t)ew * sizeof(float));
    bias = hli_alloc((size_t)(h2 * (1 + m->m)), sizeof(float)); /* bias, then E transposed */
    if (PQ == NULL || wab == NULL || bias == NULL)
        goto fail;
    for (int64_t q = 0; rel && q < h2; q++)
        for (int f = 0; f < m->m; f++)
            bias[h2 + f * h2 + q] = hli_param(m, m->edge_w)[q * m->m + f];
    memcpy(wab, hli_param(m, m->src_w), (size_t)(h2 * ew) * sizeof(float));
    memcpy(wab + h2 * ew, hli_param(m, m->dst_w), (size_t)(h2 * ew) * sizeof(float));
    for (int64_t q = 0; q < h2; q++) {
        bias[q] = hli_param(m, m->src_b)[q] + hli_param(m, m->dst_b)[q];
        if (rel)
            bias[q] += hli_param(m, m->rel_b)[q] + hli_param(m, m->edge_b)[q];
    }
    /* The full-rank relational head needs the last layer h for every node
     * (g = h); otherwise h is consumed chunk by chunk (A h, B h and the
     * low-rank U h) and never stored whole. */
    const int keep_h = rel && m->relp_w < 0;
    int64_t gw = ew;
    if (m->relp_w >= 0) { /* low-rank relational term: G = U h, r wide */
        gw = m->t[m->relp_w].rows;
        Gbuf = hli_alloc((size_t)n, (size_t)gw * sizeof(float));
        if (Gbuf == NULL)
            goto fail;
    }
    /* GraphConv layers, in chunks of nodes (bounded workspace). */
    for (int l = 0; l < L; l++) {
        const int64_t w = m->width[l], wo = m->width[l + 1];
        const int last = l == L - 1;
        const float *W = hli_param(m, m->conv_w[l]);
        int64_t win = 2 * w;
        if (l == 0 && fold) {
            wf = hli_alloc((size_t)wo, (size_t)(2 * d) * sizeof(float));
            if (wf == NULL)
                goto fail;
            for (int64_t o = 0; o < wo; o++)
                for (int64_t q = 0; q < d; q++) {
                    const float *r = W + o * 4 * d;
                    wf[o * 2 * d + q] = r[q] + r[d + q];
                    wf[o * 2 * d + d + q] = r[2 * d + q] + r[3 * d + q];
                }
            W = wf;
            win = 2 * d;
        }
        hcur = hli_alloc((size_t)(last && !keep_h ? nchunk : n), (size_t)wo * sizeof(float));
        if (hcur == NULL)
            goto fail;
        for (int64_t i0 = 0; i0 < n; i0 += nchunk) {
            const int64_t i1 = i0 + nchunk < n ? i0 + nchunk : n;
            float *hc = last && !keep_h ? hcur : hcur + i0 * wo;
            if (l == 0 && fold) {
                cat_task ct = {.in = &in, .i0 = i0, .cat = cat};
                hli_pool_run(pool, cat_x_rows, &ct, i1 - i0, HLI_NODE_GRAIN);
            } else
                hli_conv_cat(m, l, &in, hprev, i0, i1, cat, nt);
            hli_gemm(0, 1, i1 - i0, wo, win, 1.0f, cat, win, W, win, 0.0f, hc, wo);
            bias_relu_task bt = {.h = hc, .b = hli_param(m, m->conv_b[l]), .w = wo};
            hli_pool_run(pool, bias_relu_rows, &bt, i1 - i0, HLI_NODE_GRAIN);
            if (last) {
                hli_gemm(0, 1, i1 - i0, 2 * h2, ew, 1.0f, hc, ew, wab, ew, 0.0f, PQ + i0 * 2 * h2, 2 * h2);
                if (Gbuf)
                    hli_gemm(0, 1, i1 - i0, gw, ew, 1.0f, hc, ew, hli_param(m, m->relp_w), ew, 0.0f,
                             Gbuf + i0 * gw, gw);
            }
        }
        free(wf);
        wf = NULL;
        free(hprev);
        hprev = hcur;
        hcur = NULL;
    }
    free(cat);
    cat = NULL;
    const float *H = keep_h ? hprev : NULL;
    const float *G = Gbuf ? Gbuf : H;
    if (rel && E > 0) {
        efeat = hli_alloc((size_t)E, (size_t)m->m * sizeof(float));
        if (efeat == NULL)
            goto fail;
        if ((st = hli_edge_features(graph, m->cfg.edge_features, x, d, nt, efeat)) != HL_OK)
            goto fail_st;
        in.efeat = efeat;
    }
    /* The heads, in chunks of whole nodes of at most ~HLI_EDGE_CHUNK edges. */
    const int64_t kmax = graph->k > 1 ? graph->k : 1;
    const int64_t ech = HLI_EDGE_CHUNK > kmax ? HLI_EDGE_CHUNK : kmax;
    int64_t maxdeg = 0;
    for (int64_t i = 0; i < n; i++)
        if (graph->offsets[i + 1] - graph->offsets[i] > maxdeg)
            maxdeg = graph->offsets[i + 1] - graph->offsets[i];
    const int64_t ecap = (ech > maxdeg ? ech : maxdeg);
    dst = hli_alloc((size_t)(E ? E : 1), sizeof(int64_t));
    z = hli_alloc((size_t)ecap, (size_t)h2 * sizeof(float));
    v = hli_alloc((size_t)ecap, (size_t)h2 * sizeof(float));
    prob = hli_alloc((size_t)ecap, 2 * sizeof(float));
    dh = density ? density : hli_alloc((size_t)n, sizeof(float));
    if (rel)
        hh = hli_alloc((size_t)ecap, (size_t)gw * sizeof(float));
    if (!dst || !z || !v || !prob || !dh || (rel && !hh))
        goto fail;
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = graph->offsets[i]; e < graph->offsets[i + 1]; e++)
            dst[e] = i;
    for (int64_t i0 = 0; i0 < n;) {
        int64_t i1 = i0;
        while (i1 < n && graph->offsets[i1 + 1] - graph->offsets[i0] <= ecap)
            i1++;
        const int64_t e0 = graph->offsets[i0], e1 = graph->offsets[i1];
        hli_head_infer(m, G, gw, PQ, bias, bias + h2, graph->src, dst, in.efeat, e0, e1, hh, z, v, prob, pool);
        hli_head_density(graph->offsets, graph->sim, prob, i0, i1, dh);
        if (edge_prob)
            for (int64_t e = e0; e < e1; e++)
                edge_prob[e] = prob[2 * (e - e0) + 1];
        i0 = i1;
    }
    st = HL_OK;
    goto done;
fail:
    st = hl_last_error_status() != HL_OK ? hl_last_error_status() : hli_oom();
fail_st:
done:
    hli_pool_destroy(pool);
    if (dh != density)
        free(dh);
    free(hprev);
    free(hcur);
    free(cat);
    free(wf);
    free(wab);
    free(bias);
    free(Gbuf);
    free(PQ);
    free(efeat);
    free(dst);
    free(hh);
    free(z);
    free(v);
    free(prob);
    return st;
}
