/* The LANDER model: configuration, parameters, inference (stubs for now). */
#include "internal.h"

#include <string.h>

void hl_model_config_init(hl_model_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    cfg->hidden = 512;
    cfg->num_conv = 1;
    cfg->use_cluster_feat = 1;
    cfg->layer_type = HL_LAYER_GRAPHCONV;
    cfg->link_head = HL_LINK_HEAD_RELATIONAL;
    cfg->edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN;
}

hl_status hl_model_config_check(const hl_model_config *cfg)
{
    (void)cfg;
    return hli_error(HL_EINTERNAL, "hl_model_config_check: not implemented yet");
}

hl_status hl_model_create(const hl_model_config *cfg, uint64_t seed, hl_model **out)
{
    (void)cfg;
    (void)seed;
    if (out)
        *out = NULL;
    return hli_error(HL_EINTERNAL, "hl_model_create: not implemented yet");
}

void hl_model_free(hl_model *model) { (void)model; }

hl_status hl_model_get_config(const hl_model *model, hl_model_config *cfg)
{
    (void)model;
    (void)cfg;
    return hli_error(HL_EINTERNAL, "hl_model_get_config: not implemented yet");
}

int64_t hl_model_num_params(const hl_model *model)
{
    (void)model;
    return 0;
}

hl_status hl_model_predict(const hl_model *model, const hl_graph *graph, const float *x, const float *c, int64_t n,
                           int64_t d, int32_t num_threads, float *edge_prob, float *density)
{
    (void)model, (void)graph, (void)x, (void)c, (void)n, (void)d, (void)num_threads, (void)edge_prob, (void)density;
    return hli_error(HL_EINTERNAL, "hl_model_predict: not implemented yet");
}

hl_status hl_model_set_cluster_defaults(hl_model *model, float tau, int32_t score)
{
    (void)model, (void)tau, (void)score;
    return hli_error(HL_EINTERNAL, "hl_model_set_cluster_defaults: not implemented yet");
}

hl_status hl_model_get_cluster_defaults(const hl_model *model, float *tau, int32_t *score)
{
    (void)model, (void)tau, (void)score;
    return hli_error(HL_EINTERNAL, "hl_model_get_cluster_defaults: not implemented yet");
}

hl_status hl_model_save(const hl_model *model, const char *path)
{
    (void)model, (void)path;
    return hli_error(HL_EINTERNAL, "hl_model_save: not implemented yet");
}

hl_status hl_model_load(const char *path, hl_model **out)
{
    (void)path;
    if (out)
        *out = NULL;
    return hli_error(HL_EINTERNAL, "hl_model_load: not implemented yet");
}
