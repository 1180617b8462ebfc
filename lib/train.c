/* Training a LANDER model (SPEC section 3): SGD with momentum and weight
 * decay, cosine annealing per step, mini-batches of centre nodes with their
 * (num_conv+1)-hop in-neighbourhoods over the multi-level training set, and
 * validation on held-out classes (best checkpoint by validation clustering or
 * link AUC, patience). */
#include "train_internal.h"
#include "whiten.h"
#include "hierarchy.h"
#include "knn_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Automatic schedule (epochs = 0): about this many SGD steps; see docs/TRAINING.md
 * (the level-0 validation AUC peaks within the first ~50 steps). */
#define HLI_AUTO_STEPS 100
/* Training-edge AUC is measured on the in-edges of this many centre nodes. */
#define HLI_TRAIN_EVAL_NODES 2048

void hli_train_options_defaults(void *full)
{
    hl_train_options *opts = full;
    opts->num_graphs = 3;
    opts->k_list[0] = 10;
    opts->k_list[1] = 5;
    opts->k_list[2] = 3;
    opts->levels[0] = 2;
    opts->levels[1] = 3;
    opts->levels[2] = 4;
    opts->epochs = 0;
    opts->batch_size = 1024; /* SPEC reference: 4096 at lr 0.01; see docs/TRAINING.md */
    opts->lr = 0.03;
    opts->lr_min = 1e-5;
    opts->momentum = 0.9;
    opts->weight_decay = 1e-5;
    opts->focal = 0;
    opts->balance = 0;
    opts->val_fraction = 0.2;
    opts->eval_every = 25;
    opts->patience = 6;
    opts->select_tau = 1;
    opts->seed = 1;
    opts->num_threads = 0;
    opts->checkpoint_metric = HL_CHECKPOINT_CLUSTER;
    opts->standardize_edge_features = 0;
    opts->whiten = -1.0;
}

hl_status hl_train_options_init(hl_train_options *opts, size_t struct_size)
{
    return hli_struct_init(opts, struct_size, HLI_MIN_SIZE_TRAIN_OPTIONS, sizeof *opts, hli_train_options_defaults,
                           "hl_train_options_init");
}

/* A full-size copy of a caller's options (fields it lacks at their defaults). */
static hl_status train_options_full(const hl_train_options *in, hl_train_options *out)
{
    return hli_struct_read(in, HLI_MIN_SIZE_TRAIN_OPTIONS, sizeof *out, hli_train_options_defaults, out,
                           "train options");
}

hl_status hl_train_options_check(const hl_train_options *in)
{
    hl_train_options full;
    hl_status st0 = train_options_full(in, &full);
    if (st0 != HL_OK)
        return st0;
    const hl_train_options *o = &full;
    if (!isfinite(o->whiten))
        return hli_error(HL_EINVAL, "train options: whiten = %g must be finite (0 = off, < 0 = default)", o->whiten);
    if (o->num_graphs < 1 || o->num_graphs > HL_TRAIN_MAX_GRAPHS)
        return hli_error(HL_EINVAL, "train options: num_graphs = %d must be in [1, %d]", (int)o->num_graphs,
                         HL_TRAIN_MAX_GRAPHS);
    for (int p = 0; p < o->num_graphs; p++) {
        if (o->k_list[p] < 2 || o->k_list[p] > 1024)
            return hli_error(HL_EINVAL, "train options: k_list[%d] = %lld must be in [2, 1024]", p,
                             (long long)o->k_list[p]);
        if (o->levels[p] < 1 || o->levels[p] > 16)
            return hli_error(HL_EINVAL, "train options: levels[%d] = %d must be in [1, 16]", p, (int)o->levels[p]);
    }
    if (o->epochs < 0)
        return hli_error(HL_EINVAL, "train options: epochs = %d must be >= 0", (int)o->epochs);
    if (o->batch_size < 1)
        return hli_error(HL_EINVAL, "train options: batch_size = %lld must be >= 1", (long long)o->batch_size);
    if (!(o->lr > 0.0 && o->lr < 100.0))
        return hli_error(HL_EINVAL, "train options: lr = %g must be in (0, 100)", o->lr);
    if (!(o->lr_min >= 0.0 && o->lr_min <= o->lr))
        return hli_error(HL_EINVAL, "train options: lr_min = %g must be in [0, lr]", o->lr_min);
    if (!(o->momentum >= 0.0 && o->momentum < 1.0))
        return hli_error(HL_EINVAL, "train options: momentum = %g must be in [0, 1)", o->momentum);
    if (!(o->weight_decay >= 0.0 && o->weight_decay < 1.0))
        return hli_error(HL_EINVAL, "train options: weight_decay = %g must be in [0, 1)", o->weight_decay);
    if (o->focal != 0 && o->focal != 1)
        return hli_error(HL_EINVAL, "train options: focal = %d must be 0 or 1", (int)o->focal);
    if (o->balance != 0 && o->balance != 1)
        return hli_error(HL_EINVAL, "train options: balance = %d must be 0 or 1", (int)o->balance);
    if (!(o->val_fraction >= 0.0 && o->val_fraction < 1.0))
        return hli_error(HL_EINVAL, "train options: val_fraction = %g must be in [0, 1)", o->val_fraction);
    if (o->eval_every < 0)
        return hli_error(HL_EINVAL, "train options: eval_every = %d must be >= 0", (int)o->eval_every);
    if (o->patience < 0)
        return hli_error(HL_EINVAL, "train options: patience = %d must be >= 0", (int)o->patience);
    if (o->select_tau != 0 && o->select_tau != 1)
        return hli_error(HL_EINVAL, "train options: select_tau = %d must be 0 or 1", (int)o->select_tau);
    if (o->num_threads < 0)
        return hli_error(HL_EINVAL, "train options: num_threads = %d must be >= 0", (int)o->num_threads);
    if (o->standardize_edge_features != 0 && o->standardize_edge_features != 1)
        return hli_error(HL_EINVAL, "train options: standardize_edge_features = %d must be 0 or 1",
                         (int)o->standardize_edge_features);
    if (o->checkpoint_metric < HL_CHECKPOINT_LEVEL0 || o->checkpoint_metric > HL_CHECKPOINT_CLUSTER)
        return hli_error(HL_EINVAL,
                         "train options: checkpoint_metric = %d must be 0 (level-0 AUC), 1 (pooled AUC) or 2 "
                         "(validation clustering)",
                         (int)o->checkpoint_metric);
    return HL_OK;
}

/* ---- AUC and average precision ------------------------------------------- */

typedef struct scored {
    float s;
    uint8_t y;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

hl_status hli_auc_ap(const float *score, const uint8_t *label, int64_t n, double *auc, double *ap)
{
    *auc = *ap = NAN;
    if (n < 1)
        return HL_OK;
    scored *v = hli_alloc((size_t)n, sizeof *v);
    if (v == NULL)
        return hl_last_error_status();
    int64_t P = 0;
    for (int64_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].y = label[i] != 0;
        P += v[i].y;
    }
    const int64_t N = n - P;
    if (P == 0 || N == 0) {
        free(v);
        return HL_OK;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    /* AUC from mid-ranks (ascending); AP from the top (descending), ties grouped */
    double rank_sum = 0.0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        int64_t pos = 0;
        while (j < n && v[j].s == v[i].s)
            pos += v[j++].y;
        rank_sum += (double)pos * (0.5 * (double)(i + 1 + j));
        i = j;
    }
    *auc = (rank_sum - 0.5 * (double)P * (double)(P + 1)) / ((double)P * (double)N);
    double tp = 0, fp = 0, a = 0;
    for (int64_t i = n - 1; i >= 0;) {
        int64_t j = i;
        double pos = 0, neg = 0;
        while (j >= 0 && v[j].s == v[i].s) {
            pos += v[j].y;
            neg += !v[j].y;
            j--;
        }
        tp += pos;
        fp += neg;
        a += pos / (double)P * (tp / (tp + fp));
        i = j;
    }
    *ap = a;
    free(v);
    return HL_OK;
}

/* ---- the trainer ----------------------------------------------------------- */

typedef struct batch_ref {
    int g;
    int64_t start, count;
} batch_ref;

struct hl_trainer {
    hl_model *model;
    hl_train_options opts;
    int nt, hops;
    hli_tset train, val;
    int has_val;
    float *grad, *mom, *best;
    int64_t **perm;          /* per training graph: node order of the current epoch */
    int64_t *map;            /* scratch: global -> local ids, all -1 */
    batch_ref *batches;
    int64_t steps_per_epoch;
    int32_t epochs;
    int64_t total_steps;
    hli_batch train_eval;    /* fixed sample of training edges for train AUC */
    float *val_x;            /* validation points (original features) for tau selection */
    int64_t *val_y;
    int64_t val_n;
    hl_graph *val_g;         /* level-0 graph of val_x as hl_cluster builds it (lazily, for tau selection) */
    hl_graph *all_g;         /* the same for all_x */
    float *all_x;            /* every labelled point (normalised): merge threshold and snn tau */
    int64_t *all_y;
    int64_t all_n;
    float merge;             /* linkage-merge threshold (train_merge), < 0 until chosen */
    float all_snn_tau;       /* the snn tau chosen with it on all labelled points, < 0 if none */
    hl_status fail;          /* HL_ENOMEM once a step that may be skipped failed to allocate (note_skip) */
    float *ef_mean, *ef_inv; /* edge-feature standardisation (m each), NULL when off */
    int ran;
    hli_rng rng;
};

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

/* A step that may be skipped for a reason of the data (a clustering refused
 * for too few points, a singular whitening fit) has just failed: if the
 * failure was an allocation, training must fail with it (never HL_OK with
 * another model), so it is remembered here and returned by the callers. */
static void note_skip(hl_trainer *t)
{
    if (t->fail == HL_OK && hl_last_error_status() == HL_ENOMEM)
        t->fail = HL_ENOMEM;
}

/* The status to return once note_skip has recorded a failure, with the
 * thread's last error still describing it. */
static hl_status skipped_failure(const hl_trainer *t)
{
    return hl_last_error_status() == t->fail ? t->fail : hli_oom();
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The best mean F over tau of the snn decode with the default merge (defined with the tau curves below). */
static double snn_best_f(hl_trainer *t, float *x, const int64_t *y, int64_t n, int64_t d,
                         int64_t *pred, float *best_tau);

/* Fit the within-class whitening on the training classes (sub_x, sub_y)
 * and, if it is kept, store it in the model and apply it to every labelled
 * point (xn, in place) and to sub_x, so that the network, tau and the merge
 * are all chosen in the space the model will cluster in.  With the default
 * (whiten < 0) it is kept only if the validation classes (cls[0 .. nval))
 * cluster better with it: a map fitted on one set of classes is judged on
 * others, as it will be used. */
static hl_status train_whitening(hl_trainer *t, float *xn, const int64_t *labels, int64_t n, int64_t d,
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
        nv += nval > 0 && bsearch(&labels[i], cls, (size_t)nval, sizeof(int64_t), cmp_i64) != NULL;
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
            if (bsearch(&labels[i], cls, (size_t)nval, sizeof(int64_t), cmp_i64) != NULL) {
                memcpy(vx + q * d, xn + i * d, (size_t)d * sizeof(float));
                vy[q++] = labels[i];
            }
        float tau_raw = 0.0f, tau_w = 0.0f;
        const double f_raw = snn_best_f(t, vx, vy, nv, d, pred, &tau_raw);
        if (t->fail != HL_OK) {
            st = skipped_failure(t);
            goto done;
        }
        if ((st = hli_whiten_apply(w, vx, nv, d)) != HL_OK)
            goto done;
        const double f_w = snn_best_f(t, vx, vy, nv, d, pred, &tau_w);
        if (t->fail != HL_OK) {
            st = skipped_failure(t);
            goto done;
        }
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

hl_status hl_trainer_create(hl_model *model, const hl_train_options *opts, const float *x, const int64_t *labels,
                            int64_t n, int64_t d, hl_trainer **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_trainer_create: out is NULL");
    *out = NULL;
    if (model == NULL || x == NULL || labels == NULL)
        return hli_error(HL_EINVAL, "hl_trainer_create: %s is NULL",
                         model == NULL ? "model" : x == NULL ? "x" : "labels");
    hl_status st = hl_train_options_check(opts);
    if (st != HL_OK)
        return st;
    hl_train_options full;
    train_options_full(opts, &full);
    opts = &full;
    if (d != model->cfg.feature_dim)
        return hli_error(HL_EINVAL, "hl_trainer_create: d = %lld but the model expects feature_dim = %lld",
                         (long long)d, (long long)model->cfg.feature_dim);
    if (n < 2)
        return hli_error(HL_EINVAL, "hl_trainer_create: n = %lld must be >= 2", (long long)n);
    if ((st = hli_check_dims("training features", n, d, sizeof(float), NULL)) != HL_OK)
        return st;
    float *xn = hli_normalized_copy(x, n, d, &st);
    if (xn == NULL)
        return st;
    hl_trainer *t = hli_calloc(1, sizeof *t);
    int64_t *cls = hli_alloc((size_t)n, sizeof(int64_t));
    int64_t *tr_idx = hli_alloc((size_t)n, sizeof(int64_t));
    float *sub_x = hli_alloc((size_t)n, (size_t)d * sizeof(float));
    int64_t *sub_y = hli_alloc((size_t)n, sizeof(int64_t));
    if (!t || !cls || !tr_idx || !sub_x || !sub_y) {
        st = hl_last_error_status();
        goto fail;
    }
    t->model = model;
    t->opts = *opts;
    t->nt = hli_threads(opts->num_threads);
    t->hops = model->cfg.num_conv + 1;
    hli_rng_seed(&t->rng, opts->seed);
    t->merge = -1.0f;
    t->all_snn_tau = -1.0f;
    const int m = model->m;

    /* validation split over classes */
    memcpy(cls, labels, (size_t)n * sizeof(int64_t));
    qsort(cls, (size_t)n, sizeof(int64_t), cmp_i64);
    int64_t C = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || cls[i] != cls[i - 1])
            cls[C++] = cls[i];
    int64_t nval = (int64_t)floor(opts->val_fraction * (double)C + 0.5);
    if (opts->val_fraction > 0.0 && nval < 1 && C >= 2)
        nval = 1;
    if (nval > C - 1)
        nval = C - 1;
    hli_rng_shuffle_i64(&t->rng, cls, C);
    qsort(cls, (size_t)nval, sizeof(int64_t), cmp_i64); /* validation classes: cls[0 .. nval) */
    int64_t ntr = 0, nv = 0;
    for (int64_t i = 0; i < n; i++) {
        const int is_val = nval > 0 && bsearch(&labels[i], cls, (size_t)nval, sizeof(int64_t), cmp_i64) != NULL;
        if (is_val)
            nv++;
        else
            tr_idx[ntr++] = i;
    }
    for (int64_t q = 0; q < ntr; q++) {
        memcpy(sub_x + q * d, xn + tr_idx[q] * d, (size_t)d * sizeof(float));
        sub_y[q] = labels[tr_idx[q]];
    }
    hl_clear_error(); /* note_skip reads the thread's last error: none from before this call */
    if ((st = train_whitening(t, xn, labels, n, d, cls, nval, sub_x, sub_y, tr_idx, ntr)) != HL_OK)
        goto fail;
    if ((st = hli_tset_build(sub_x, sub_y, ntr, d, opts, model->cfg.edge_features, t->nt, &t->train)) != HL_OK)
        goto fail;
    int64_t kmax = 0;
    for (int p = 0; p < opts->num_graphs; p++)
        kmax = opts->k_list[p] > kmax ? opts->k_list[p] : kmax;
    if (nv > kmax) {
        t->val_x = hli_alloc((size_t)nv, (size_t)d * sizeof(float));
        t->val_y = hli_alloc((size_t)nv, sizeof(int64_t));
        if (!t->val_x || !t->val_y) {
            st = hl_last_error_status();
            goto fail;
        }
        int64_t q = 0;
        for (int64_t i = 0; i < n; i++)
            if (bsearch(&labels[i], cls, (size_t)nval, sizeof(int64_t), cmp_i64) != NULL) {
                memcpy(t->val_x + q * d, xn + i * d, (size_t)d * sizeof(float));
                t->val_y[q++] = labels[i];
            }
        t->val_n = nv;
        if ((st = hli_tset_build(t->val_x, t->val_y, nv, d, opts, model->cfg.edge_features, t->nt, &t->val)) !=
            HL_OK)
            goto fail;
        t->has_val = 1;
    }

    /* batches and optimiser state */
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
    t->grad = hli_alloc((size_t)model->num_params, sizeof(float));
    t->mom = hli_calloc((size_t)model->num_params, sizeof(float));
    t->best = hli_alloc((size_t)model->num_params, sizeof(float));
    if (!t->perm || !t->map || !t->batches || !t->grad || !t->mom || !t->best) {
        st = hl_last_error_status();
        goto fail;
    }
    for (int64_t i = 0; i < maxn; i++)
        t->map[i] = -1;
    for (int g = 0; g < t->train.count; g++) {
        const int64_t ng = t->train.gr[g].n;
        if ((t->perm[g] = hli_alloc((size_t)ng, sizeof(int64_t))) == NULL) {
            st = hl_last_error_status();
            goto fail;
        }
        for (int64_t i = 0; i < ng; i++)
            t->perm[g][i] = i;
    }
    /* edge features to zero mean, unit variance over the training edges
     * (fixed-order double sums: thread-count independent) */
    if (opts->standardize_edge_features && m > 0) {
        t->ef_mean = hli_alloc((size_t)m, sizeof(float));
        t->ef_inv = hli_alloc((size_t)m, sizeof(float));
        if (!t->ef_mean || !t->ef_inv) {
            st = hl_last_error_status();
            goto fail;
        }
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
    }
    /* a fixed sample of training centre nodes for the training-edge AUC */
    {
        const hli_tgraph *g0 = &t->train.gr[0];
        hli_rng r2;
        hli_rng_seed(&r2, opts->seed ^ 0x5eedULL);
        hli_rng_shuffle_i64(&r2, t->perm[0], g0->n);
        const int64_t ns = g0->n < HLI_TRAIN_EVAL_NODES ? g0->n : HLI_TRAIN_EVAL_NODES;
        if ((st = hli_batch_make(g0, t->perm[0], ns, t->hops, m, 0, &r2, t->map, &t->train_eval)) != HL_OK)
            goto fail;
        for (int64_t i = 0; i < g0->n; i++)
            t->perm[0][i] = i;
    }
    memcpy(t->best, model->params, (size_t)model->num_params * sizeof(float));
    /* every labelled point: for the merge threshold (train_merge), which the
     * checkpoint metric uses too, so that select_tau never changes the
     * weights, and for the snn tau */
    if (t->has_val && (opts->select_tau || opts->checkpoint_metric == HL_CHECKPOINT_CLUSTER)) {
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
    free(cls);
    free(tr_idx);
    free(sub_x);
    free(sub_y);
    *out = t;
    return HL_OK;
fail:
    free(xn);
    free(cls);
    free(tr_idx);
    free(sub_x);
    free(sub_y);
    hl_trainer_free(t);
    return st;
}

/* Link AUC/AP of the model on every edge of a set of graphs (pooled) and on
 * the edges of its first graph (level 0 of k_list[0]) alone. */
static hl_status eval_set(const hl_model *m, const hli_tset *s, int nt, double *auc, double *ap, double *auc0,
                          double *ap0)
{
    int64_t E = 0;
    for (int g = 0; g < s->count; g++)
        E += s->gr[g].g->num_edges;
    float *score = hli_alloc((size_t)(E ? E : 1), sizeof(float));
    uint8_t *lab = hli_alloc((size_t)(E ? E : 1), 1);
    if (!score || !lab) {
        free(score);
        free(lab);
        return hl_last_error_status();
    }
    int64_t pos = 0;
    hl_status st = HL_OK;
    for (int g = 0; g < s->count && st == HL_OK; g++) {
        const hli_tgraph *tg = &s->gr[g];
        hli_net_input in = {.n = tg->n, .d = tg->d, .offsets = tg->g->offsets, .src = tg->g->src,
                            .sim = tg->g->sim, .aff = tg->g->aff, .x = tg->x, .c = tg->c, .n_head = tg->n,
                            .efeat = tg->efeat};
        hli_net_cache c;
        if ((st = hli_net_forward(m, &in, nt, 0, 0, &c)) != HL_OK)
            break;
        for (int64_t e = 0; e < c.ne; e++) {
            score[pos] = c.prob[2 * e + 1];
            lab[pos++] = tg->elabel[e];
        }
        hli_net_cache_free(&c);
    }
    if (st == HL_OK)
        st = hli_auc_ap(score, lab, pos, auc, ap);
    if (st == HL_OK)
        st = hli_auc_ap(score, lab, s->gr[0].g->num_edges, auc0, ap0);
    free(score);
    free(lab);
    return st;
}

static hl_status eval_batch(const hl_model *m, const hli_batch *b, int nt, double *auc, double *ap)
{
    hli_net_cache c;
    hl_status st = hli_net_forward(m, &b->in, nt, 0, 0, &c);
    if (st != HL_OK)
        return st;
    float *score = hli_alloc((size_t)(c.ne ? c.ne : 1), sizeof(float));
    if (score == NULL) {
        hli_net_cache_free(&c);
        return hl_last_error_status();
    }
    for (int64_t e = 0; e < c.ne; e++)
        score[e] = c.prob[2 * e + 1];
    st = hli_auc_ap(score, b->label, c.ne, auc, ap);
    free(score);
    hli_net_cache_free(&c);
    return st;
}

hl_status hli_trainer_val_anchor(const hl_trainer *t, uint32_t feature, double *auc, double *ap)
{
    if (t == NULL || auc == NULL || ap == NULL)
        return hli_error(HL_EINVAL, "hli_trainer_val_anchor: NULL argument");
    *auc = *ap = NAN;
    if (hli_edge_feature_count(feature) != 1)
        return hli_error(HL_EINVAL, "hli_trainer_val_anchor: feature = 0x%x must be one known bit", feature);
    if (!t->has_val)
        return HL_OK;
    const hli_tgraph *tg = &t->val.gr[0];
    const int64_t E = tg->g->num_edges;
    float *f = hli_alloc((size_t)(E ? E : 1), sizeof(float));
    if (f == NULL)
        return hl_last_error_status();
    hl_status st = hli_edge_features(tg->g, feature, tg->x, tg->d, t->nt, f);
    if (st == HL_OK) {
        /* ranks and relative ranks: smaller is closer */
        if (feature & (HL_EDGE_FEAT_RANK_DST | HL_EDGE_FEAT_RANK_SRC))
            for (int64_t e = 0; e < E; e++)
                f[e] = -f[e];
        st = hli_auc_ap(f, tg->elabel, E, auc, ap);
    }
    free(f);
    return st;
}

/* Cluster the validation points as `hilander cluster` does by default (the
 * model, k = k_list[0], automatic level limit, early stop) with the given
 * score and tau; *f = mean of pairwise and BCubed F of the final labels,
 * *f0 the same for level 0 alone.  Returns 0 on failure (logged). */
static int val_cluster(hl_trainer *t, int all, int32_t score, float tau, int32_t max_levels, int64_t *pred,
                       hl_metrics *mt, double *f0, int32_t *levels)
{
    const float *px = all ? t->all_x : t->val_x;
    const int64_t *py = all ? t->all_y : t->val_y;
    const int64_t pn = all ? t->all_n : t->val_n;
    hl_cluster_options co;
    hl_cluster_options_init(&co, sizeof co);
    co.k = t->opts.k_list[0];
    co.tau = tau;
    co.score = score;
    co.max_levels = max_levels;
    co.merge = 0.0f; /* the caller sweeps the merge threshold (merge_sweep) */
    co.num_threads = t->opts.num_threads;
    hl_clustering *cl = NULL;
    if (hl_cluster(t->model, px, pn, t->model->cfg.feature_dim, NULL, &co, &cl) != HL_OK) {
        note_skip(t);
        hli_log(HL_LOG_WARN, "training: tau selection skipped: %s", hl_last_error());
        return 0;
    }
    hl_metrics m0;
    mt->struct_size = m0.struct_size = sizeof *mt;
    int ok = hl_clustering_labels(cl, 0, pred) == HL_OK && hl_evaluate(py, pred, pn, &m0) == HL_OK &&
             hl_clustering_labels(cl, -1, pred) == HL_OK && hl_evaluate(py, pred, pn, mt) == HL_OK;
    *f0 = ok ? 0.5 * (m0.pairwise_f + m0.bcubed_f) : 0.0;
    *levels = hl_clustering_num_levels(cl);
    hl_clustering_free(cl);
    return ok;
}

/* Choose the clustering defaults on the validation classes: for the model's
 * link probability (tau = 0.025 ... 0.975 in steps of 0.025) and, as a
 * fallback that keeps a poorly transferring model from doing harm, the
 * shared-neighbour score (tau = 0.05 ... 0.95 in steps of 0.1, between the
 * multiples of 1/k), the (score, tau) whose full-hierarchy clustering has the
 * best mean of pairwise and BCubed F is stored in the model.
 *
 * Within a score, the largest tau whose mean F is within HLI_TAU_SLACK of
 * that score's best is taken.  The validation split holds a fifth of the
 * classes, so each point has fewer confusable neighbours than in a data set
 * with all of them: merging errors are rarer there than they will be, and on
 * the flat top of the F curve the tau that merges less transfers better
 * (measured on class splits of the training data, docs/QUALITY.md). */
#define HLI_TAU_SLACK 0.01
/* The shared-neighbour score needs no model, and its tau is chosen on every
 * labelled point; the model's probability can only be judged on the
 * validation classes, whose optimism (few confusable classes) favours it.
 * So the model's score replaces snn only if its best validation mean F is
 * higher by more than this margin.  On four class splits of Omniglot train
 * validation preferred the model by -0.004 to +0.016, and on every held-out
 * half snn clustered better (+0.008 to +0.029 mean F; docs/QUALITY.md). */
#define HLI_SCORE_MARGIN 0.02
#define HLI_TAU_STEPS 39
/* The level limit tried against one level and stored when it wins (SPEC 5's
 * default limit; the early stop ends most hierarchies sooner). */
#define HLI_TRAIN_HIERARCHY_LEVELS 10
static float grid_tau(int32_t score, int s)
{
    return score == HL_SCORE_PROB ? 0.025f * (float)(s + 1) : 0.05f + 0.1f * (float)s;
}

/* The level-0 graph of the validation points (all = 0) or of every labelled
 * point (all = 1), built once and exactly as hl_cluster builds it
 * (normalised features, k = k_list[0], automatic kNN method). */
static hl_status tau_graph(hl_trainer *t, int all, const hl_graph **g)
{
    hl_graph **slot = all ? &t->all_g : &t->val_g;
    if (*slot == NULL) {
        hl_knn_options ko;
        hl_knn_options_init(&ko, sizeof ko);
        ko.k = t->opts.k_list[0];
        ko.method = HL_KNN_AUTO;
        ko.num_threads = t->opts.num_threads;
        hl_status st = hli_graph_build_normalized(all ? t->all_x : t->val_x, all ? t->all_n : t->val_n,
                                                  t->model->cfg.feature_dim, &ko, slot);
        if (st != HL_OK)
            return st;
    }
    *g = *slot;
    return HL_OK;
}

/* One point of a tau curve: the clustering of the validation (or all
 * labelled) points at one tau, after the linkage merge. */
typedef struct tau_point {
    double f;       /* mean of pairwise and BCubed F of the final labels */
    double f0;      /* the same for level 0 alone */
    double f_plain; /* the same without the merge */
    int32_t levels; /* levels run (the merge not counted) */
    float merge;    /* the merge threshold applied at this tau, 0 = off */
    hl_metrics mt;  /* metrics of the final labels */
} tau_point;

/* The linkage merge (lib/merge.c) of the clustering @p pred (cluster ids in
 * [0, pn)) on the level-0 graph @p g with linkage scores @p lk, at the
 * threshold @p merge (> 0), or with @p merge < 0 at every threshold of the
 * grid HLI_MERGE_STEPS * HLI_MERGE_STEP ... HLI_MERGE_STEP, falling, keeping
 * the best mean F if it beats no merge (ties: the higher threshold, which
 * merges less).  @p pt holds the unmerged clustering on entry.  @p root and
 * @p tmp: pn scratch.  Returns 0 on failure (logged). */
#define HLI_MERGE_STEPS 20
#define HLI_MERGE_STEP 0.2f
static int merge_eval(const hl_graph *g, const float *lk, const int64_t *py, int64_t pn, const int64_t *pred,
                      float merge, int64_t *root, int64_t *tmp, tau_point *pt)
{
    hli_link *links = NULL;
    int64_t nl = 0;
    pt->f_plain = pt->f;
    pt->merge = 0.0f;
    if (merge == 0.0f)
        return 1;
    if (hli_cluster_links(g, lk, pred, pn, &links, &nl) != HL_OK) {
        hli_log(HL_LOG_WARN, "training: linkage merge skipped: %s", hl_last_error());
        return 0;
    }
    hli_merge m;
    hli_merge_init(&m, root, pn);
    int ok = 1;
    const int q_hi = merge > 0.0f ? 1 : HLI_MERGE_STEPS;
    for (int q = q_hi; q >= 1; q--) {
        const float th = merge > 0.0f ? merge : HLI_MERGE_STEP * (float)q;
        const int64_t before = m.unions;
        hli_merge_until(&m, links, nl, (double)th);
        if (m.unions == 0 || (m.unions == before && q < q_hi))
            continue; /* no merge, or the same clustering as the previous threshold */
        hl_metrics mt;
        mt.struct_size = sizeof mt;
        hli_merge_apply(&m, pred, pn, tmp);
        if (hl_evaluate(py, tmp, pn, &mt) != HL_OK) {
            hli_log(HL_LOG_WARN, "training: linkage merge skipped: %s", hl_last_error());
            ok = 0;
            break;
        }
        const double f = 0.5 * (mt.pairwise_f + mt.bcubed_f);
        if (merge > 0.0f || f > pt->f) {
            pt->f = f;
            pt->mt = mt;
            pt->merge = th;
        }
    }
    if (merge > 0.0f)
        pt->merge = merge;
    free(links);
    return ok;
}

/* One point of a one-level curve: the decode of the level-0 graph @p g
 * (scores @p sc, densities @p dens) at @p tau, scored against @p py; the
 * labels are left in @p pred.  Returns 0 on failure (logged, naming @p what). */
static int decode_point(const hl_graph *g, const float *sc, const float *dens, float tau, const int64_t *py,
                        int64_t pn, int64_t *pred, const char *what, tau_point *pt)
{
    pt->mt.struct_size = sizeof pt->mt;
    if (hl_decode(g, sc, dens, tau, NULL, pred) != HL_OK || hl_evaluate(py, pred, pn, &pt->mt) != HL_OK) {
        hli_log(HL_LOG_WARN, "training: %s skipped: %s", what, hl_last_error());
        return 0;
    }
    pt->f = pt->f0 = 0.5 * (pt->mt.pairwise_f + pt->mt.bcubed_f);
    pt->levels = 1;
    return 1;
}

/* Cluster the validation points (all = 0) or every labelled point (all = 1)
 * at every tau of @p score's grid as hl_cluster does by default, then the
 * linkage merge at @p merge (0 = off; < 0 = the best threshold at each tau);
 * *top = the best mean F; returns the index picked (the largest tau within
 * @p slack > 0 of *top; the first maximum for slack 0), -1 on failure
 * (logged).  @p pts: one entry per grid point.  The level-0 graph and scores
 * are computed once per call; with a one-level automatic limit
 * (HLI_LEVELS_MODEL / _UNSUPERVISED) the clustering is the level-0 decode, so
 * only the decode runs per tau: the same labels as hl_cluster
 * (tests/test_cluster.c) at a fraction of the cost. */
static int tau_curve(hl_trainer *t, int all, int32_t score, int32_t max_levels, float merge, double slack,
                     int64_t *pred, tau_point *pts, double *top)
{
    const int steps = score == HL_SCORE_PROB ? HLI_TAU_STEPS : 10;
    const int one_level =
        max_levels == 1 ||
        (max_levels == 0 && (score == HL_SCORE_PROB ? HLI_LEVELS_MODEL : HLI_LEVELS_UNSUPERVISED) == 1);
    const int64_t pn = all ? t->all_n : t->val_n;
    const int64_t *py = all ? t->all_y : t->val_y;
    float *sc = NULL, *dens = NULL, *lk = NULL;
    int64_t *root = NULL, *tmp = NULL;
    const hl_graph *g = NULL;
    int pick = -1;
    *top = -1.0;
    hli_level lv;
    memset(&lv, 0, sizeof lv);
    lv.n = lv.n_points = pn;
    lv.d = t->model->cfg.feature_dim;
    lv.x = lv.c = all ? t->all_x : t->val_x;
    if (tau_graph(t, all, &g) != HL_OK) {
        hli_log(HL_LOG_WARN, "training: tau selection skipped: %s", hl_last_error());
        goto done;
    }
    const size_t ne = (size_t)(g->num_edges > 0 ? g->num_edges : 1);
    if ((sc = hli_alloc(ne, sizeof(float))) == NULL || (dens = hli_alloc((size_t)pn, sizeof(float))) == NULL ||
        (root = hli_alloc((size_t)pn, sizeof(int64_t))) == NULL ||
        (tmp = hli_alloc((size_t)pn, sizeof(int64_t))) == NULL ||
        hli_level_scores(t->model, &lv, g, score, 0, t->opts.num_threads, sc, dens) != HL_OK ||
        (merge != 0.0f && (lk = hli_merge_scores(g, score == HL_SCORE_SNN ? sc : NULL, t->nt)) == NULL)) {
        hli_log(HL_LOG_WARN, "training: tau selection skipped: %s", hl_last_error());
        goto done;
    }
    for (int s = 0; s < steps; s++) {
        const float tau = grid_tau(score, s);
        tau_point *pt = &pts[s];
        pt->mt.struct_size = sizeof pt->mt;
        if (one_level) {
            if (!decode_point(g, sc, dens, tau, py, pn, pred, "tau selection", pt))
                goto done;
        } else if (!val_cluster(t, all, score, tau, max_levels, pred, &pt->mt, &pt->f0, &pt->levels)) {
            goto done;
        }
        pt->f = 0.5 * (pt->mt.pairwise_f + pt->mt.bcubed_f);
        if (!merge_eval(g, lk, py, pn, pred, merge, root, tmp, pt))
            goto done;
        hli_log(HL_LOG_DEBUG, "training: %s clustering, score %s, tau %.3f: mean F %.4f (merge %.1f; without %.4f)",
                all ? "all-points" : "validation", score == HL_SCORE_PROB ? "prob" : "snn", (double)tau, pt->f,
                (double)pt->merge, pt->f_plain);
        *top = pt->f > *top ? pt->f : *top;
    }
    pick = 0;
    for (int s = 0; s < steps; s++)
        if (slack > 0.0 ? pts[s].f >= *top - slack : pts[s].f > pts[pick].f)
            pick = s; /* slack 0: the first maximum */
done:
    if (pick < 0)
        note_skip(t);
    free(sc);
    free(dens);
    if (lk != sc)
        free(lk);
    free(root);
    free(tmp);
    return pick;
}

/* The snn decode of (x, y) at every tau of its grid, each followed by the
 * default linkage merge, as hl_cluster runs it without a model: the best
 * mean of pairwise and BCubed F (its tau in *best_tau), or -1 on failure
 * (logged).  The whitening check compares the raw and the mapped features
 * with it, each at its own best tau, because the tau that suits one space
 * need not suit the other. */
static double snn_best_f(hl_trainer *t, float *x, const int64_t *y, int64_t n, int64_t d,
                         int64_t *pred, float *best_tau)
{
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = t->opts.k_list[0];
    ko.num_threads = t->opts.num_threads;
    hl_graph *g = NULL;
    float *sc = NULL, *dens = NULL;
    int64_t *root = NULL, *tmp = NULL;
    double best = -1.0;
    hli_level lv;
    memset(&lv, 0, sizeof lv);
    lv.n = lv.n_points = n;
    lv.d = d;
    lv.x = lv.c = x;
    if (hli_graph_build_normalized(x, n, d, &ko, &g) != HL_OK ||
        (sc = hli_alloc((size_t)(g->num_edges > 0 ? g->num_edges : 1), sizeof(float))) == NULL ||
        (dens = hli_alloc((size_t)n, sizeof(float))) == NULL || (root = hli_alloc((size_t)n, sizeof(int64_t))) == NULL ||
        (tmp = hli_alloc((size_t)n, sizeof(int64_t))) == NULL ||
        hli_level_scores(NULL, &lv, g, HL_SCORE_SNN, 0, t->opts.num_threads, sc, dens) != HL_OK) {
        hli_log(HL_LOG_WARN, "training: whitening check skipped: %s", hl_last_error());
        goto done;
    }
    for (int s = 0; s < 10; s++) {
        const float tau = grid_tau(HL_SCORE_SNN, s);
        tau_point pt;
        memset(&pt, 0, sizeof pt);
        if (!decode_point(g, sc, dens, tau, y, n, pred, "whitening check", &pt) ||
            !merge_eval(g, sc, y, n, pred, HLI_DEFAULT_MERGE, root, tmp, &pt)) {
            best = -1.0;
            goto done;
        }
        if (pt.f > best) {
            best = pt.f;
            *best_tau = tau;
        }
    }
done:
    if (best < 0.0)
        note_skip(t);
    hl_graph_free(g);
    free(sc);
    free(dens);
    free(root);
    free(tmp);
    return best;
}

/* The linkage-merge threshold, chosen once (the first call) with the
 * model-free snn decode on every labelled point: the validation split holds
 * a fifth of the classes, and with so few confusable classes merging looks
 * almost free there (mean F 0.78 -> 0.93 on a split of Omniglot train, where
 * the classes held out from training gain 0.01-0.08).  The snn tau chosen
 * with it is kept for the snn fallback.  Without the labelled points
 * (neither tau selection nor the clustering checkpoint) the unsupervised
 * default is used. */
static float train_merge(hl_trainer *t)
{
    if (t->merge >= 0.0f)
        return t->merge;
    t->merge = HLI_DEFAULT_MERGE;
    t->all_snn_tau = -1.0f;
    if (t->all_x == NULL)
        return t->merge;
    int64_t *pa = hli_alloc((size_t)t->all_n, sizeof(int64_t));
    if (pa == NULL)
        note_skip(t);
    tau_point pts[10];
    double top = -1.0;
    const int pick = pa ? tau_curve(t, 1, HL_SCORE_SNN, 1, -1.0f, 0.0, pa, pts, &top) : -1;
    free(pa);
    if (pick >= 0) {
        t->merge = pts[pick].merge;
        t->all_snn_tau = grid_tau(HL_SCORE_SNN, pick);
        hli_log(HL_LOG_INFO,
                "training: linkage merge %.1f and snn tau %.2f chosen with the snn decode on all %lld labelled "
                "points (mean F %.4f; without the merge %.4f)",
                (double)t->merge, (double)t->all_snn_tau, (long long)t->all_n, top, pts[pick].f_plain);
    }
    return t->merge;
}

/* Checkpoint metric HL_CHECKPOINT_CLUSTER: the best mean F of clustering the
 * validation classes with the model's probability.  NaN on failure.  With
 * standardize_edge_features the weights being trained expect standardised
 * edge features while hl_model_predict computes raw ones, so the
 * standardisation is folded into the edge weights for the measurement (as
 * it is at the end of training) and the trained weights are put back. */
static double val_cluster_f(hl_trainer *t)
{
    tau_point pts[HLI_TAU_STEPS];
    double top = NAN;
    hl_model *m = t->model;
    float *saved = NULL;
    size_t nw = 0, nb = 0;
    if (t->ef_mean != NULL && m->edge_w >= 0) {
        nw = (size_t)(m->t[m->edge_w].rows * m->t[m->edge_w].cols);
        nb = (size_t)(m->t[m->edge_b].rows * m->t[m->edge_b].cols);
        if ((saved = hli_alloc(nw + nb, sizeof(float))) == NULL) {
            note_skip(t);
            return NAN;
        }
        memcpy(saved, hli_param(m, m->edge_w), nw * sizeof(float));
        memcpy(saved + nw, hli_param(m, m->edge_b), nb * sizeof(float));
        hli_fold_edge_standardization(m, t->ef_mean, t->ef_inv);
    }
    int64_t *pred = hli_alloc((size_t)t->val_n, sizeof(int64_t));
    if (pred == NULL)
        note_skip(t);
    if (pred == NULL || tau_curve(t, 0, HL_SCORE_PROB, 1, train_merge(t), HLI_TAU_SLACK, pred, pts, &top) < 0)
        top = NAN;
    free(pred);
    if (saved != NULL) {
        memcpy(hli_param(m, m->edge_w), saved, nw * sizeof(float));
        memcpy(hli_param(m, m->edge_b), saved + nw, nb * sizeof(float));
        free(saved);
    }
    return top;
}
static void select_tau(hl_trainer *t)
{
    if (!t->has_val || t->val_n < 2)
        return;
    double best = -1.0, best_prob = -1.0, prob_top = -1.0, snn_top = -1.0;
    int32_t best_limit = 0; /* level limit stored with the model: 0 = automatic (1 level) */
    float best_tau = t->model->tau, best_prob_tau = 0.0f;
    int32_t best_score = HL_SCORE_PROB;
    tau_point best_pt;
    memset(&best_pt, 0, sizeof best_pt);
    tau_point pts[HLI_TAU_STEPS];
    int64_t *pred = hli_alloc((size_t)t->val_n, sizeof(int64_t));
    if (pred == NULL) {
        note_skip(t);
        return;
    }
    /* pass 0: the model's probability, one level; pass 1: the same with the
     * full hierarchy (early stop), kept only if it beats one level by more
     * than the slack; pass 2: the shared-neighbour fallback, one level.
     * Each with its best linkage merge at every tau. */
    hl_model_set_cluster_levels(t->model, 0);
    const float merge = train_merge(t);
    double top1 = -1.0;
    for (int pass = 0; pass < 3; pass++) {
        const int32_t score = pass < 2 ? HL_SCORE_PROB : HL_SCORE_SNN;
        const int32_t max_levels = pass == 1 ? HLI_TRAIN_HIERARCHY_LEVELS : 1;
        double top;
        const int pick = tau_curve(t, 0, score, max_levels, merge, HLI_TAU_SLACK, pred, pts, &top);
        if (pick < 0 && pass == 1)
            continue; /* logged; keep the one-level choice */
        if (pick < 0)
            goto done;
        const float tau = grid_tau(score, pick);
        if (pass == 0)
            top1 = top;
        if (pass == 1) {
            hli_log(HL_LOG_INFO,
                    "training: validation clustering with the model, best mean F over tau: 1 level %.4f, up to "
                    "%d levels %.4f",
                    top1, (int)HLI_TRAIN_HIERARCHY_LEVELS, top);
            if (!(top > top1 + HLI_TAU_SLACK))
                continue;
            best = -1.0; /* the hierarchy replaces the one-level choice */
        }
        if (pass < 2) {
            best_prob = pts[pick].f;
            best_prob_tau = tau;
        }
        if (pass == 0)
            prob_top = top; /* one level: what the checkpoint metric measures */
        if (pass == 2)
            snn_top = top;
        if (pass == 2 ? top + HLI_SCORE_MARGIN >= best : top > best) { /* best mean F; snn: see the margin */
            best = top;
            best_tau = tau;
            best_score = score;
            best_pt = pts[pick];
            best_limit = pass == 1 ? HLI_TRAIN_HIERARCHY_LEVELS : 0;
        }
    }
    /* The snn score does not depend on the model, so when it wins, its tau is
     * the one chosen on every labelled point (all training classes) with the
     * merge: a split with few classes has few confusable neighbours and
     * biases tau towards merging (docs/QUALITY.md). */
    if (best >= 0.0 && best_score == HL_SCORE_SNN && t->all_snn_tau >= 0.0f) {
        hli_log(HL_LOG_INFO, "training: snn tau from all %lld labelled points: %.2f (validation only: %.2f)",
                (long long)t->all_n, (double)t->all_snn_tau, (double)best_tau);
        best_tau = t->all_snn_tau;
    }
done:
    free(pred);
    if (best >= 0.0) {
        hl_model_set_cluster_defaults(t->model, best_tau, best_score);
        hl_model_set_cluster_levels(t->model, best_score == HL_SCORE_PROB ? best_limit : 0);
        hl_model_set_cluster_merge(t->model, best_pt.merge);
        hli_log(HL_LOG_INFO,
                "training: clustering defaults chosen on validation classes: score %s, tau %.3f, merge %.1f "
                "(pairwise F %.4f, BCubed F %.4f, NMI %.4f, %d levels; level 0 alone: mean F %.4f; without the "
                "merge: %.4f); with the model's probability: tau %.3f, mean F %.4f (best over tau %.6f at one level); "
                "snn: best over tau %.4f",
                best_score == HL_SCORE_PROB ? "prob" : "snn", (double)best_tau, (double)best_pt.merge,
                best_pt.mt.pairwise_f, best_pt.mt.bcubed_f, best_pt.mt.nmi, (int)best_pt.levels, best_pt.f0,
                best_pt.f_plain, (double)best_prob_tau, best_prob, prob_top, snn_top);
    }
}

/* Fold the edge-feature standardisation into the edge weights:
 * E (e - mu) * inv + e0 = (E inv) e + (e0 - (E inv) mu), so the model takes raw features. */
void hli_fold_edge_standardization(hl_model *m, const float *mean, const float *inv)
{
    if (m == NULL || mean == NULL || inv == NULL || m->edge_w < 0)
        return;
    float *E = hli_param(m, m->edge_w), *b = hli_param(m, m->edge_b);
    const int64_t h2 = m->t[m->edge_w].rows;
    const int mf = m->m;
    for (int64_t q = 0; q < h2; q++) {
        double shift = 0.0;
        for (int f = 0; f < mf; f++) {
            E[q * mf + f] *= inv[f];
            shift += (double)E[q * mf + f] * mean[f];
        }
        b[q] = (float)((double)b[q] - shift);
    }
}

hl_status hl_trainer_run(hl_trainer *t)
{
    if (t == NULL)
        return hli_error(HL_EINVAL, "hl_trainer_run: trainer is NULL");
    if (t->ran)
        return hli_error(HL_EINVAL, "hl_trainer_run: this trainer has already run (create a new one)");
    t->ran = 1;
    hl_clear_error(); /* note_skip reads the thread's last error: none from before this call */
    hl_model *m = t->model;
    const hl_train_options *o = &t->opts;
    const int64_t np = m->num_params;
    /* OpenBLAS's results depend on its own thread count (measured: sgemm with 1
     * and 2 threads differs in the last bits), so the GEMMs always run with
     * the machine's thread count and only the OpenMP loops follow
     * num_threads: results are then bit-identical for any num_threads. */
    hli_blas_set_threads(hli_threads(0));
    hl_status st = HL_OK;
    int64_t step = 0;
    double best_auc = -1.0;
    int bad_evals = 0, stop = 0, canceled = 0;
    hli_batch b;
    memset(&b, 0, sizeof b);
    for (int32_t epoch = 0; epoch < t->epochs && !stop; epoch++) {
        /* this epoch's batches: every graph's nodes shuffled, batch order shuffled */
        int64_t nb = 0;
        for (int g = 0; g < t->train.count; g++) {
            const int64_t ng = t->train.gr[g].n;
            hli_rng_shuffle_i64(&t->rng, t->perm[g], ng);
            for (int64_t s = 0; s < ng; s += o->batch_size)
                t->batches[nb++] = (batch_ref){g, s, ng - s < o->batch_size ? ng - s : o->batch_size};
        }
        for (int64_t i = nb - 1; i > 0; i--) {
            int64_t j = (int64_t)hli_rng_below(&t->rng, (uint64_t)(i + 1));
            batch_ref tmp = t->batches[i];
            t->batches[i] = t->batches[j];
            t->batches[j] = tmp;
        }
        for (int64_t bi = 0; bi < nb && !stop; bi++) {
            const batch_ref br = t->batches[bi];
            const hli_tgraph *tg = &t->train.gr[br.g];
            const double lr = o->lr_min + 0.5 * (o->lr - o->lr_min) *
                                              (1.0 + cos(3.14159265358979323846 * (double)step / (double)t->total_steps));
            if ((st = hli_batch_make(tg, t->perm[br.g] + br.start, br.count, t->hops, m->m, o->balance, &t->rng,
                                     t->map, &b)) != HL_OK)
                goto out;
            hli_net_cache c;
            const uint64_t dseed = hli_rng_u64(&t->rng);
            if ((st = hli_net_forward(m, &b.in, t->nt, 1, dseed, &c)) != HL_OK)
                goto out;
            float *dl = hli_alloc((size_t)(c.ne ? c.ne : 1), 2 * sizeof(float));
            if (dl == NULL) {
                st = hl_last_error_status();
                hli_net_cache_free(&c);
                goto out;
            }
            double lden = 0, llink = 0;
            hli_net_loss(&c, b.nc, b.offsets, b.sim, b.dens, b.label, b.mask, o->focal, &lden, &llink, dl);
            st = hli_net_backward(m, &b.in, &c, dl, t->nt, t->grad);
            free(dl);
            hli_net_cache_free(&c);
            hli_batch_free(&b);
            if (st != HL_OK)
                goto out;
            /* SGD as PyTorch: g += wd p; buf = mu buf + g; p -= lr buf */
            {
                float *p = m->params, *g = t->grad, *v = t->mom;
                const float wd = (float)o->weight_decay, mu = (float)o->momentum, lrf = (float)lr;
                const int first = step == 0;
#pragma omp parallel for schedule(static) num_threads(t->nt)
                for (int64_t i = 0; i < np; i++) {
                    const float gi = g[i] + wd * p[i];
                    v[i] = first ? gi : mu * v[i] + gi;
                    p[i] -= lrf * v[i];
                }
            }
            step++;
            hl_train_progress pr;
            memset(&pr, 0, sizeof pr);
            pr.struct_size = sizeof pr;
            pr.epoch = epoch;
            pr.num_epochs = t->epochs;
            pr.step = step;
            pr.total_steps = t->total_steps;
            pr.loss = lden + llink;
            pr.loss_density = lden;
            pr.loss_link = llink;
            pr.lr = lr;
            pr.train_auc = pr.train_ap = pr.val_auc = pr.val_ap = pr.val_level0_auc = pr.val_level0_ap = NAN;
            pr.val_cluster_f = NAN;
            const int last = step == t->total_steps;
            if ((o->eval_every > 0 && step % o->eval_every == 0) || last) {
                if ((st = eval_batch(m, &t->train_eval, t->nt, &pr.train_auc, &pr.train_ap)) != HL_OK)
                    goto out;
                if (t->has_val) {
                    if ((st = eval_set(m, &t->val, t->nt, &pr.val_auc, &pr.val_ap, &pr.val_level0_auc,
                                       &pr.val_level0_ap)) != HL_OK)
                        goto out;
                    /* checkpoint by the validation clustering (default), or by the
                     * link AUC on the level-0 k_list[0] graph (the graph a clustering
                     * starts from) or on all validation graphs */
                    double sel = o->checkpoint_metric == HL_CHECKPOINT_POOLED || isnan(pr.val_level0_auc)
                                     ? pr.val_auc
                                     : pr.val_level0_auc;
                    if (o->checkpoint_metric == HL_CHECKPOINT_CLUSTER) {
                        pr.val_cluster_f = val_cluster_f(t);
                        if (t->fail != HL_OK) {
                            st = skipped_failure(t);
                            goto out;
                        }
                        sel = isnan(pr.val_cluster_f) ? sel : pr.val_cluster_f;
                    }
                    if (sel > best_auc) {
                        best_auc = sel;
                        memcpy(t->best, m->params, (size_t)np * sizeof(float));
                        bad_evals = 0;
                    } else if (o->patience > 0 && ++bad_evals >= o->patience) {
                        stop = 1;
                    }
                }
            }
            pr.best_val_auc = best_auc >= 0 ? best_auc : NAN;
            if (o->progress && o->progress(&pr, o->progress_user)) {
                stop = canceled = 1;
            }
        }
    }
out:
    hli_batch_free(&b);
    if (t->has_val && best_auc >= 0.0)
        memcpy(m->params, t->best, (size_t)np * sizeof(float));
    hli_fold_edge_standardization(m, t->ef_mean, t->ef_inv);
    if (st != HL_OK)
        return st;
    if (o->select_tau)
        select_tau(t);
    if (t->fail != HL_OK) /* a step failed to allocate: no model rather than another one */
        return skipped_failure(t);
    if (canceled)
        return hli_error(HL_ECANCELED, "training stopped by the progress callback at step %lld", (long long)step);
    return HL_OK;
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
