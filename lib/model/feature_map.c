/* The features a model sees: every row L2-normalised, then mapped by the
 * model's whitening when it has one (learned at training, stored in the
 * model).  One definition for hl_cluster and hl_model_transform. */
#include "model/model_internal.h"
#include "model/whiten.h"

#include <stdlib.h>
#include <string.h>

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

hl_status hli_model_input_in_place(const hl_model *model, float *x, int64_t n, int64_t d)
{
    hl_status st = hli_normalize_in_place(x, n, d);
    if (st == HL_OK && model != NULL && model->whiten != NULL)
        st = hli_whiten_apply(model->whiten, x, n, d);
    return st;
}

static hl_status transform(const hl_model *model, const float *x, int64_t n, int64_t d, float *out)
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

hl_status hl_model_transform(const hl_model *model, const float *x, int64_t n, int64_t d, float *out)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = transform(model, x, n, d, out);
    hli_scope_leave(&scope);
    return st;
}
