/* The trainer's state: hl_trainer_create prepares everything the SGD loop
 * and the selection phases need, in steps: the class split, the whitening
 * choice, the training and validation sets, the optimiser state, the
 * edge-feature standardisation and the fixed sample for the training AUC. */
#include "train/train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Automatic schedule (epochs = 0): about this many SGD steps
 * (docs/TRAINING.md). */
#define HLI_AUTO_STEPS 100
/* Training-edge AUC is measured on the in-edges of this many centre nodes. */
#define HLI_TRAIN_EVAL_NODES 2048

int64_t hli_trainer_steps_per_epoch(const hl_trainer *t) { return t ? t->steps_per_epoch : 0; }

void hl_trainer_free(hl_trainer *t)
{
    if (t == NULL)
        return;
    if (t->perm) /* before the set: its count says how many */
        for (int g = 0; g < t->train.count; g++)
            free(t->perm[g]);
    free(t->perm);
    hli_tset_free(&t->train);
    hli_tset_free(&t->val);
    free(t->grad);
    free(t->mom);
    free(t->best);
    free(t->map);
    free(t->batches);
    hli_batch_free(&t->train_eval);
    free(t->val_x);
    free(t->val_y);
    hl_graph_free(t->val_g);
    hl_graph_free(t->all_g);
    free(t->all_x);
    free(t->all_y);
    free(t->ef_mean);
    free(t->ef_inv);
    free(t);
}

static hl_status check_create_args(const hl_model *model, const hl_train_options *opts, const float *x,
                                   const int64_t *labels, int64_t n, int64_t d, hl_train_options *full)
{
    if (model == NULL || x == NULL || labels == NULL)
        return hli_error(HL_EINVAL, "hl_trainer_create: %s is NULL",
                         model == NULL ? "model" : x == NULL ? "x" : "labels");
    hl_status st = hl_train_options_check(opts);
    if (st != HL_OK || (st = hli_train_options_read(opts, full)) != HL_OK)
        return st;
    if (d != model->cfg.feature_dim)
        return hli_error(HL_EINVAL, "hl_trainer_create: d = %lld but the model expects feature_dim = %lld",
                         (long long)d, (long long)model->cfg.feature_dim);
    if (n < 2)
        return hli_error(HL_EINVAL, "hl_trainer_create: n = %lld must be >= 2", (long long)n);
    return hli_check_dims("training features", n, d, sizeof(float), NULL);
}

/* The validation set: the points of the validation classes, when there are
 * more of them than the largest k (else training runs without validation). */
static hl_status build_validation(hl_trainer *t, const float *xn, const int64_t *labels, int64_t n, int64_t d,
                                  const int64_t *cls, int64_t nval, int64_t nv)
{
    const hl_train_options *opts = &t->opts;
    int64_t kmax = 0;
    for (int p = 0; p < opts->num_graphs; p++)
        kmax = opts->k_list[p] > kmax ? opts->k_list[p] : kmax;
    if (nv <= kmax)
        return HL_OK;
    t->val_x = hli_alloc((size_t)nv, (size_t)d * sizeof(float));
    t->val_y = hli_alloc((size_t)nv, sizeof(int64_t));
    if (!t->val_x || !t->val_y)
        return hl_last_error_status();
    hl_status st = hli_gather_rows(xn, labels, n, d, cls, nval, 1, t->val_x, t->val_y, NULL, &t->val_n);
    if (st == HL_OK)
        st = hli_tset_build(t->val_x, t->val_y, nv, d, opts, t->model->cfg.edge_features, t->nt, &t->val);
    if (st == HL_OK)
        t->has_val = 1;
    return st;
}

/* Batches per epoch, the schedule, node orders, SGD buffers. */
static hl_status alloc_optimizer(hl_trainer *t)
{
    const hl_train_options *opts = &t->opts;
    const int64_t np = t->model->num_params;
    int64_t maxn = 0;
    t->steps_per_epoch = 0;
    for (int g = 0; g < t->train.count; g++) {
        const int64_t ng = t->train.gr[g].n;
        maxn = ng > maxn ? ng : maxn;
        t->steps_per_epoch += (ng + opts->batch_size - 1) / opts->batch_size;
    }
    t->epochs = opts->epochs > 0 ? opts->epochs
                                 : (int32_t)((HLI_AUTO_STEPS + t->steps_per_epoch - 1) / t->steps_per_epoch);
    t->total_steps = (int64_t)t->epochs * t->steps_per_epoch;
    t->perm = hli_calloc((size_t)t->train.count, sizeof(int64_t *));
    t->map = hli_alloc((size_t)maxn, sizeof(int64_t));
    t->batches = hli_alloc((size_t)t->steps_per_epoch, sizeof(batch_ref));
    t->grad = hli_alloc((size_t)np, sizeof(float));
    t->mom = hli_calloc((size_t)np, sizeof(float));
    t->best = hli_alloc((size_t)np, sizeof(float));
    if (!t->perm || !t->map || !t->batches || !t->grad || !t->mom || !t->best)
        return hl_last_error_status();
    for (int64_t i = 0; i < maxn; i++)
        t->map[i] = -1;
    for (int g = 0; g < t->train.count; g++) {
        const int64_t ng = t->train.gr[g].n;
        if ((t->perm[g] = hli_alloc((size_t)ng, sizeof(int64_t))) == NULL)
            return hl_last_error_status();
        for (int64_t i = 0; i < ng; i++)
            t->perm[g][i] = i;
    }
    memcpy(t->best, t->model->params, (size_t)np * sizeof(float));
    return HL_OK;
}

/* Edge features to zero mean, unit variance over the training edges
 * (fixed-order double sums: thread-count independent), applied to the
 * training and validation sets. */
static hl_status standardize_edge_features(hl_trainer *t)
{
    const int m = t->model->m;
    if (!t->opts.standardize_edge_features || m <= 0)
        return HL_OK;
    t->ef_mean = hli_alloc((size_t)m, sizeof(float));
    t->ef_inv = hli_alloc((size_t)m, sizeof(float));
    if (!t->ef_mean || !t->ef_inv)
        return hl_last_error_status();
    for (int f = 0; f < m; f++) {
        double s1 = 0.0, s2 = 0.0;
        int64_t cnt = 0;
        for (int g = 0; g < t->train.count; g++) {
            const hli_tgraph *tg = &t->train.gr[g];
            for (int64_t e = 0; e < tg->g->num_edges; e++) {
                const double v = tg->efeat[e * m + f];
                s1 += v;
                s2 += v * v;
            }
            cnt += tg->g->num_edges;
        }
        const double mu = cnt > 0 ? s1 / (double)cnt : 0.0;
        const double var = cnt > 0 ? s2 / (double)cnt - mu * mu : 0.0;
        t->ef_mean[f] = (float)mu;
        t->ef_inv[f] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
    }
    hli_tset *sets[2] = {&t->train, &t->val};
    for (int q = 0; q < 2; q++)
        for (int g = 0; g < sets[q]->count; g++) {
            hli_tgraph *tg = &sets[q]->gr[g];
            for (int64_t e = 0; e < tg->g->num_edges; e++)
                for (int f = 0; f < m; f++)
                    tg->efeat[e * m + f] = (tg->efeat[e * m + f] - t->ef_mean[f]) * t->ef_inv[f];
        }
    return HL_OK;
}

/* A fixed sample of training centre nodes for the training-edge AUC (its
 * own random stream, so the SGD's stream is the same with or without it). */
static hl_status sample_train_eval(hl_trainer *t)
{
    const hli_tgraph *g0 = &t->train.gr[0];
    hli_rng r2;
    hli_rng_seed(&r2, t->opts.seed ^ 0x5eedULL);
    hli_rng_shuffle_i64(&r2, t->perm[0], g0->n);
    const int64_t ns = g0->n < HLI_TRAIN_EVAL_NODES ? g0->n : HLI_TRAIN_EVAL_NODES;
    hl_status st = hli_batch_make(g0, t->perm[0], ns, t->hops, t->model->m, 0, &r2, t->map, &t->train_eval);
    for (int64_t i = 0; i < g0->n; i++)
        t->perm[0][i] = i;
    return st;
}

/* Split, whiten, build the training and validation sets.  @p xn: every
 * labelled point, normalised (whitened in place if the map is kept). */
static hl_status build_sets(hl_trainer *t, float *xn, const int64_t *labels, int64_t n, int64_t d)
{
    int64_t *cls = NULL, nval = 0, ntr = 0, nv = 0;
    int64_t *tr_idx = hli_alloc((size_t)n, sizeof(int64_t));
    float *sub_x = hli_alloc((size_t)n, (size_t)d * sizeof(float));
    int64_t *sub_y = hli_alloc((size_t)n, sizeof(int64_t));
    hl_status st = HL_OK;
    if (!tr_idx || !sub_x || !sub_y) {
        st = hl_last_error_status();
        goto done;
    }
    if ((st = hli_class_split(labels, n, t->opts.val_fraction, &t->rng, &cls, &nval)) != HL_OK)
        goto done;
    if ((st = hli_gather_rows(xn, labels, n, d, cls, nval, 0, sub_x, sub_y, tr_idx, &ntr)) != HL_OK)
        goto done;
    nv = n - ntr;
    if ((st = hli_trainer_choose_whitening(t, xn, labels, n, d, cls, nval, sub_x, sub_y, tr_idx, ntr)) != HL_OK)
        goto done;
    if ((st = hli_tset_build(sub_x, sub_y, ntr, d, &t->opts, t->model->cfg.edge_features, t->nt, &t->train)) !=
        HL_OK)
        goto done;
    st = build_validation(t, xn, labels, n, d, cls, nval, nv);
done:
    free(cls);
    free(tr_idx);
    free(sub_x);
    free(sub_y);
    return st;
}

static hl_status trainer_create(hl_model *model, const hl_train_options *opts, const float *x, const int64_t *labels,
                                int64_t n, int64_t d, hl_trainer **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_trainer_create: out is NULL");
    *out = NULL;
    hl_train_options full;
    hl_status st = check_create_args(model, opts, x, labels, n, d, &full);
    if (st != HL_OK)
        return st;
    hli_scope_threads(full.num_threads);
    float *xn = hli_normalized_copy(x, n, d, &st);
    if (xn == NULL)
        return st;
    hl_trainer *t = hli_calloc(1, sizeof *t);
    if (t == NULL) {
        free(xn);
        return hl_last_error_status();
    }
    t->model = model;
    t->opts = full;
    t->nt = hli_threads(full.num_threads);
    t->hops = model->cfg.num_conv + 1;
    hli_rng_seed(&t->rng, full.seed);
    t->merge = -1.0f;
    t->all_snn_tau = -1.0f;
    if ((st = build_sets(t, xn, labels, n, d)) != HL_OK || (st = alloc_optimizer(t)) != HL_OK ||
        (st = standardize_edge_features(t)) != HL_OK || (st = sample_train_eval(t)) != HL_OK)
        goto fail;
    /* every labelled point: for the merge threshold, which the checkpoint
     * metric uses too (so that select_tau never changes the weights), and for
     * the snn tau */
    if (t->has_val && (full.select_tau || full.checkpoint_metric == HL_CHECKPOINT_CLUSTER)) {
        if ((t->all_y = hli_alloc((size_t)n, sizeof(int64_t))) == NULL) {
            st = hl_last_error_status();
            goto fail;
        }
        memcpy(t->all_y, labels, (size_t)n * sizeof(int64_t));
        t->all_x = xn; /* owned by the trainer from here */
        t->all_n = n;
        xn = NULL;
    }
    free(xn);
    *out = t;
    return HL_OK;
fail:
    free(xn);
    hl_trainer_free(t);
    return st;
}

hl_status hl_trainer_create(hl_model *model, const hl_train_options *opts, const float *x, const int64_t *labels,
                            int64_t n, int64_t d, hl_trainer **out)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = trainer_create(model, opts, x, labels, n, d, out);
    hli_scope_leave(&scope);
    return st;
}

hl_status hl_train(const hl_model_config *cfg, const hl_train_options *opts, const float *x, const int64_t *labels,
                   int64_t n, int64_t d, hl_model **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_train: out is NULL");
    *out = NULL;
    hl_status st = hl_train_options_check(opts);
    if (st != HL_OK)
        return st;
    hl_model *m = NULL;
    if ((st = hl_model_create(cfg, opts->seed, &m)) != HL_OK)
        return st;
    hl_trainer *t = NULL;
    if ((st = hl_trainer_create(m, opts, x, labels, n, d, &t)) != HL_OK) {
        hl_model_free(m);
        return st;
    }
    st = hl_trainer_run(t);
    hl_trainer_free(t);
    if (st != HL_OK && st != HL_ECANCELED) {
        hl_model_free(m);
        return st;
    }
    *out = m;
    return st;
}
