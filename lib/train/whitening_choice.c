/* Whether a trained model whitens its input: the within-class whitening is
 * fitted on the training classes and, by default, kept only if the
 * validation classes cluster better with it (docs/TRAINING.md). */
#include "train/train_internal.h"
#include "cluster/cluster_internal.h"
#include "model/whiten.h"

#include <stdlib.h>
#include <string.h>

/* Fit the within-class whitening on the training classes (sub_x, sub_y)
 * and, if it is kept, store it in the model and apply it to every labelled
 * point (xn, in place) and to sub_x, so that the network, tau and the merge
 * are all chosen in the space the model will cluster in.  With the default
 * (whiten < 0) it is kept only if the validation classes (cls[0 .. nval))
 * cluster better with it: a map fitted on one set of classes is judged on
 * others, as it will be used. */
hl_status hli_trainer_choose_whitening(hl_trainer *t, float *xn, const int64_t *labels, int64_t n, int64_t d,
                                       const int64_t *cls, int64_t nval, float *sub_x, const int64_t *sub_y,
                                       const int64_t *tr_idx, int64_t ntr)
{
    const double req = t->opts.whiten;
    hl_status st = hl_model_set_whitening(t->model, NULL);
    if (st != HL_OK || req == 0.0)
        return st;
    const int automatic = req < 0.0;
    const double ridge = automatic ? HLI_WHITEN_DEFAULT_RIDGE : req;
    if (automatic && d > HLI_WHITEN_MAX_DIM) {
        hli_log(HL_LOG_INFO, "training: no whitening: d = %lld is above %d", (long long)d, HLI_WHITEN_MAX_DIM);
        return HL_OK;
    }
    float *w = NULL, *vx = NULL;
    int64_t *vy = NULL, *pred = NULL, nv = 0;
    if ((w = hli_alloc((size_t)d, (size_t)d * sizeof(float))) == NULL)
        return hl_last_error_status();
    if ((st = hli_whiten_fit(sub_x, sub_y, ntr, d, ridge, w)) != HL_OK) {
        free(w);
        if (!automatic || st == HL_ENOMEM)
            return st;
        hli_log(HL_LOG_INFO, "training: no whitening: %s", hl_last_error());
        return HL_OK;
    }
    int keep = 1;
    for (int64_t i = 0; i < n; i++)
        nv += hli_class_in(labels[i], cls, nval);
    if (automatic && nv > t->opts.k_list[0]) {
        vx = hli_alloc((size_t)nv, (size_t)d * sizeof(float));
        vy = hli_alloc((size_t)nv, sizeof(int64_t));
        pred = hli_alloc((size_t)nv, sizeof(int64_t));
        if (!vx || !vy || !pred) {
            st = hl_last_error_status();
            goto done;
        }
        int64_t q = 0;
        for (int64_t i = 0; i < n; i++)
            if (hli_class_in(labels[i], cls, nval)) {
                memcpy(vx + q * d, xn + i * d, (size_t)d * sizeof(float));
                vy[q++] = labels[i];
            }
        float tau_raw = 0.0f, tau_w = 0.0f;
        double f_raw = -1.0, f_w = -1.0;
        if ((st = hli_snn_best_f(t, vx, vy, nv, d, pred, &f_raw, &tau_raw)) != HL_OK ||
            (st = hli_whiten_apply(w, vx, nv, d)) != HL_OK ||
            (st = hli_snn_best_f(t, vx, vy, nv, d, pred, &f_w, &tau_w)) != HL_OK)
            goto done;
        keep = f_w > f_raw;
        hli_log(HL_LOG_INFO,
                "training: validation F of the snn decode (best tau, merge %.1f): %.4f raw (tau %.2f), %.4f "
                "whitened with ridge %g (tau %.2f): %s",
                (double)HLI_DEFAULT_MERGE, f_raw, (double)tau_raw, f_w, ridge, (double)tau_w,
                keep ? "whitening" : "no whitening");
    }
    if (keep) {
        if ((st = hli_whiten_apply(w, xn, n, d)) != HL_OK || (st = hl_model_set_whitening(t->model, w)) != HL_OK)
            goto done;
        for (int64_t q = 0; q < ntr; q++)
            memcpy(sub_x + q * d, xn + tr_idx[q] * d, (size_t)d * sizeof(float));
    }
done:
    free(w);
    free(vx);
    free(vy);
    free(pred);
    return st;
}
