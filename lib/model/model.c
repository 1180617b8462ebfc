/* The LANDER model object: configuration and its checks, the parameter
 * layout (named tensors in one flat array), initialisation and the stored
 * clustering defaults.  Inference is in predict.c, the feature map in
 * feature_map.c, the file format in model_file.c. */
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
