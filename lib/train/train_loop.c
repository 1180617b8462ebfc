/* The SGD loop of hl_trainer_run: per epoch, every training graph's nodes
 * shuffled into mini-batches of centre nodes with their (num_conv+1)-hop
 * in-neighbourhoods; per step, forward, loss, backward and an SGD update with
 * momentum, weight decay and a cosine learning rate; every eval_every steps,
 * link AUC/AP and the checkpoint metric on the validation classes, keeping
 * the best weights (patience).  Then the stored clustering defaults are
 * chosen (cluster_defaults.c). */
#include "train/train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* This epoch's batches: every graph's nodes shuffled, batch order shuffled;
 * returns their number. */
static int64_t epoch_batches(hl_trainer *t)
{
    const int64_t bs = t->opts.batch_size;
    int64_t nb = 0;
    for (int g = 0; g < t->train.count; g++) {
        const int64_t ng = t->train.gr[g].n;
        hli_rng_shuffle_i64(&t->rng, t->perm[g], ng);
        for (int64_t s = 0; s < ng; s += bs)
            t->batches[nb++] = (batch_ref){g, s, ng - s < bs ? ng - s : bs};
    }
    for (int64_t i = nb - 1; i > 0; i--) {
        int64_t j = (int64_t)hli_rng_below(&t->rng, (uint64_t)(i + 1));
        batch_ref tmp = t->batches[i];
        t->batches[i] = t->batches[j];
        t->batches[j] = tmp;
    }
    return nb;
}

/* One SGD step on one batch at learning rate @p lr (first: no momentum yet);
 * the batch's density and link losses in *lden, *llink. */
static hl_status sgd_step(hl_trainer *t, const batch_ref *br, double lr, int first, double *lden, double *llink)
{
    hl_model *m = t->model;
    const hl_train_options *o = &t->opts;
    const hli_tgraph *tg = &t->train.gr[br->g];
    hli_batch b;
    memset(&b, 0, sizeof b);
    hl_status st = hli_batch_make(tg, t->perm[br->g] + br->start, br->count, t->hops, m->m, o->balance, &t->rng,
                                  t->map, &b);
    if (st != HL_OK)
        return st;
    hli_net_cache c;
    const uint64_t dseed = hli_rng_u64(&t->rng);
    if ((st = hli_net_forward(m, &b.in, t->nt, 1, dseed, &c)) != HL_OK) {
        hli_batch_free(&b);
        return st;
    }
    float *dl = hli_alloc((size_t)(c.ne ? c.ne : 1), 2 * sizeof(float));
    if (dl == NULL) {
        st = hl_last_error_status();
    } else {
        hli_net_loss(&c, b.nc, b.offsets, b.sim, b.dens, b.label, b.mask, o->focal, lden, llink, dl);
        st = hli_net_backward(m, &b.in, &c, dl, t->nt, t->grad);
    }
    free(dl);
    hli_net_cache_free(&c);
    hli_batch_free(&b);
    if (st != HL_OK)
        return st;
    /* SGD as PyTorch: g += wd p; buf = mu buf + g; p -= lr buf */
    float *p = m->params, *g = t->grad, *v = t->mom;
    const float wd = (float)o->weight_decay, mu = (float)o->momentum, lrf = (float)lr;
    const int64_t np = m->num_params;
#pragma omp parallel for schedule(static) num_threads(t->nt)
    for (int64_t i = 0; i < np; i++) {
        const float gi = g[i] + wd * p[i];
        v[i] = first ? gi : mu * v[i] + gi;
        p[i] -= lrf * v[i];
    }
    return HL_OK;
}

/* The evaluation after a step: training and validation link AUC/AP and the
 * checkpoint metric into @p pr; keeps the best weights so far (*best) and
 * sets *stop when patience runs out. */
static hl_status evaluate_checkpoint(hl_trainer *t, hl_train_progress *pr, double *best, int *bad_evals, int *stop)
{
    hl_model *m = t->model;
    const hl_train_options *o = &t->opts;
    hl_status st = eval_batch(m, &t->train_eval, t->nt, &pr->train_auc, &pr->train_ap);
    if (st != HL_OK || !t->has_val)
        return st;
    if ((st = eval_set(m, &t->val, t->nt, &pr->val_auc, &pr->val_ap, &pr->val_level0_auc, &pr->val_level0_ap)) !=
        HL_OK)
        return st;
    /* checkpoint by the validation clustering (default), or by the link AUC
     * on the level-0 k_list[0] graph (the graph a clustering starts from) or
     * on all validation graphs */
    double sel = o->checkpoint_metric == HL_CHECKPOINT_POOLED || isnan(pr->val_level0_auc) ? pr->val_auc
                                                                                          : pr->val_level0_auc;
    if (o->checkpoint_metric == HL_CHECKPOINT_CLUSTER) {
        if ((st = hli_trainer_val_cluster_f(t, &pr->val_cluster_f)) != HL_OK)
            return st;
        sel = isnan(pr->val_cluster_f) ? sel : pr->val_cluster_f;
    }
    if (sel > *best) {
        *best = sel;
        memcpy(t->best, m->params, (size_t)m->num_params * sizeof(float));
        *bad_evals = 0;
    } else if (o->patience > 0 && ++*bad_evals >= o->patience) {
        *stop = 1;
    }
    return HL_OK;
}

static hl_status trainer_run(hl_trainer *t)
{
    if (t == NULL)
        return hli_error(HL_EINVAL, "hl_trainer_run: trainer is NULL");
    if (t->ran)
        return hli_error(HL_EINVAL, "hl_trainer_run: this trainer has already run (create a new one)");
    t->ran = 1;
    hli_scope_threads(t->opts.num_threads);
    hl_model *m = t->model;
    const hl_train_options *o = &t->opts;
    /* OpenBLAS's results depend on its own thread count (measured: sgemm with 1
     * and 2 threads differs in the last bits), so the GEMMs always run with
     * the machine's thread count and only the OpenMP loops follow
     * num_threads: results are then bit-identical for any num_threads. */
    hli_blas_set_threads(hli_machine_threads());
    hl_status st = HL_OK;
    int64_t step = 0;
    double best_auc = -1.0;
    int bad_evals = 0, stop = 0, canceled = 0;
    for (int32_t epoch = 0; epoch < t->epochs && !stop; epoch++) {
        const int64_t nb = epoch_batches(t);
        for (int64_t bi = 0; bi < nb && !stop; bi++) {
            const double lr = o->lr_min + 0.5 * (o->lr - o->lr_min) *
                                              (1.0 + cos(3.14159265358979323846 * (double)step / (double)t->total_steps));
            double lden = 0, llink = 0;
            if ((st = sgd_step(t, &t->batches[bi], lr, step == 0, &lden, &llink)) != HL_OK)
                goto out;
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
            if ((o->eval_every > 0 && step % o->eval_every == 0) || step == t->total_steps) {
                if ((st = evaluate_checkpoint(t, &pr, &best_auc, &bad_evals, &stop)) != HL_OK)
                    goto out;
            }
            pr.best_val_auc = best_auc >= 0 ? best_auc : NAN;
            if (o->progress && o->progress(&pr, o->progress_user))
                stop = canceled = 1;
        }
    }
out:
    if (t->has_val && best_auc >= 0.0)
        memcpy(m->params, t->best, (size_t)m->num_params * sizeof(float));
    hli_fold_edge_standardization(m, t->ef_mean, t->ef_inv);
    if (st != HL_OK)
        return st;
    if (o->select_tau && (st = hli_trainer_select_defaults(t)) != HL_OK)
        return st;
    if (canceled)
        return hli_error(HL_ECANCELED, "training stopped by the progress callback at step %lld", (long long)step);
    return HL_OK;
}

hl_status hl_trainer_run(hl_trainer *t)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = trainer_run(t);
    hli_scope_leave(&scope);
    return st;
}
