/* The clustering defaults stored in a trained model, chosen on the
 * validation classes (never on data the model will be judged on): the score
 * (the model's link probability or the model-free shared-neighbour fraction),
 * its tau, the level limit and the linkage merge threshold.  Also the
 * checkpoint metric that clusters the validation classes during training,
 * and the snn measure the whitening choice uses.  docs/TRAINING.md explains
 * the choices. */
#include "train/train_internal.h"
#include "cluster/cluster_internal.h"
#include "knn/knn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cluster the validation points as `hilander cluster` does by default (the
 * model, k = k_list[0], automatic level limit, early stop) with the given
 * score and tau; *f = mean of pairwise and BCubed F of the final labels,
 * *f0 the same for level 0 alone. */
static hl_status val_cluster(hl_trainer *t, int all, int32_t score, float tau, int32_t max_levels, int64_t *pred,
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
    hl_status st = hl_cluster(t->model, px, pn, t->model->cfg.feature_dim, NULL, &co, &cl);
    if (st != HL_OK)
        return st;
    hl_metrics m0;
    hl_metrics_init(&m0, sizeof m0);
    hl_metrics_init(mt, sizeof *mt);
    if ((st = hl_clustering_labels(cl, 0, pred)) == HL_OK && (st = hl_evaluate(py, pred, pn, &m0)) == HL_OK &&
        (st = hl_clustering_labels(cl, -1, pred)) == HL_OK)
        st = hl_evaluate(py, pred, pn, mt);
    *f0 = 0.5 * (m0.pairwise_f + m0.bcubed_f);
    *levels = hl_clustering_num_levels(cl);
    hl_clustering_free(cl);
    return st;
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
/* The level limit tried against one level and stored when it wins (the
 * early stop ends most hierarchies sooner). */
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

/* The linkage merge (cluster/merge.c) of the clustering @p pred (cluster ids in
 * [0, pn)) on the level-0 graph @p g with linkage scores @p lk, at the
 * threshold @p merge (> 0), or with @p merge < 0 at every threshold of the
 * grid HLI_MERGE_STEPS * HLI_MERGE_STEP ... HLI_MERGE_STEP, falling, keeping
 * the best mean F if it beats no merge (ties: the higher threshold, which
 * merges less).  @p pt holds the unmerged clustering on entry.  @p root and
 * @p tmp: pn scratch. */
#define HLI_MERGE_STEPS 20
#define HLI_MERGE_STEP 0.2f
static hl_status merge_eval(const hl_graph *g, const float *lk, const int64_t *py, int64_t pn, const int64_t *pred,
                      float merge, int64_t *root, int64_t *tmp, tau_point *pt)
{
    hli_link *links = NULL;
    int64_t nl = 0;
    pt->f_plain = pt->f;
    pt->merge = 0.0f;
    if (merge == 0.0f)
        return HL_OK;
    hl_status st = hli_cluster_links(g, lk, pred, pn, &links, &nl);
    if (st != HL_OK)
        return st;
    hli_merge m;
    hli_merge_init(&m, root, pn);
    const int q_hi = merge > 0.0f ? 1 : HLI_MERGE_STEPS;
    for (int q = q_hi; q >= 1; q--) {
        const float th = merge > 0.0f ? merge : HLI_MERGE_STEP * (float)q;
        const int64_t before = m.unions;
        hli_merge_until(&m, links, nl, (double)th);
        if (m.unions == 0 || (m.unions == before && q < q_hi))
            continue; /* no merge, or the same clustering as the previous threshold */
        hl_metrics mt;
        hl_metrics_init(&mt, sizeof mt);
        hli_merge_apply(&m, pred, pn, tmp);
        if ((st = hl_evaluate(py, tmp, pn, &mt)) != HL_OK)
            break;
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
    return st;
}

/* One point of a one-level curve: the decode of the level-0 graph @p g
 * (scores @p sc, densities @p dens) at @p tau, scored against @p py; the
 * labels are left in @p pred. */
static hl_status decode_point(const hl_graph *g, const float *sc, const float *dens, float tau, const int64_t *py,
                              int64_t pn, int64_t *pred, tau_point *pt)
{
    hl_metrics_init(&pt->mt, sizeof pt->mt);
    hl_status st = hl_decode(g, sc, dens, tau, NULL, pred);
    if (st == HL_OK)
        st = hl_evaluate(py, pred, pn, &pt->mt);
    pt->f = pt->f0 = 0.5 * (pt->mt.pairwise_f + pt->mt.bcubed_f);
    pt->levels = 1;
    return st;
}

/* Cluster the validation points (all = 0) or every labelled point (all = 1)
 * at every tau of @p score's grid as hl_cluster does by default, then the
 * linkage merge at @p merge (0 = off; < 0 = the best threshold at each tau);
 * *top = the best mean F; *pick = the index picked (the largest tau within
 * @p slack > 0 of *top; the first maximum for slack 0).  @p pts: one entry per grid point.  The level-0 graph and scores
 * are computed once per call; with a one-level automatic limit
 * (HLI_LEVELS_MODEL / _UNSUPERVISED) the clustering is the level-0 decode, so
 * only the decode runs per tau: the same labels as hl_cluster
 * (tests/test_cluster.c) at a fraction of the cost. */
static hl_status tau_curve(hl_trainer *t, int all, int32_t score, int32_t max_levels, float merge, double slack,
                           int64_t *pred, tau_point *pts, double *top, int *pick)
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
    *pick = -1;
    *top = -1.0;
    hli_level lv;
    memset(&lv, 0, sizeof lv);
    lv.n = lv.n_points = pn;
    lv.d = t->model->cfg.feature_dim;
    lv.x = lv.c = all ? t->all_x : t->val_x;
    hl_status st = tau_graph(t, all, &g);
    if (st != HL_OK)
        return st;
    const size_t ne = (size_t)(g->num_edges > 0 ? g->num_edges : 1);
    if ((sc = hli_alloc(ne, sizeof(float))) == NULL || (dens = hli_alloc((size_t)pn, sizeof(float))) == NULL ||
        (root = hli_alloc((size_t)pn, sizeof(int64_t))) == NULL ||
        (tmp = hli_alloc((size_t)pn, sizeof(int64_t))) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    if ((st = hli_level_scores(t->model, &lv, g, score, 0, t->opts.num_threads, sc, dens)) != HL_OK)
        goto done;
    if (merge != 0.0f && (lk = hli_merge_scores(g, score == HL_SCORE_SNN ? sc : NULL, t->nt)) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    for (int s = 0; s < steps; s++) {
        const float tau = grid_tau(score, s);
        tau_point *pt = &pts[s];
        if (one_level)
            st = decode_point(g, sc, dens, tau, py, pn, pred, pt);
        else
            st = val_cluster(t, all, score, tau, max_levels, pred, &pt->mt, &pt->f0, &pt->levels);
        if (st != HL_OK)
            goto done;
        pt->f = 0.5 * (pt->mt.pairwise_f + pt->mt.bcubed_f);
        if ((st = merge_eval(g, lk, py, pn, pred, merge, root, tmp, pt)) != HL_OK)
            goto done;
        hli_log(HL_LOG_DEBUG, "training: %s clustering, score %s, tau %.3f: mean F %.4f (merge %.1f; without %.4f)",
                all ? "all-points" : "validation", score == HL_SCORE_PROB ? "prob" : "snn", (double)tau, pt->f,
                (double)pt->merge, pt->f_plain);
        *top = pt->f > *top ? pt->f : *top;
    }
    *pick = 0;
    for (int s = 0; s < steps; s++)
        if (slack > 0.0 ? pts[s].f >= *top - slack : pts[s].f > pts[*pick].f)
            *pick = s; /* slack 0: the first maximum */
done:
    free(sc);
    free(dens);
    if (lk != sc)
        free(lk);
    free(root);
    free(tmp);
    return st;
}

/* The snn decode of (x, y) at every tau of its grid, each followed by the
 * default linkage merge, as hl_cluster runs it without a model: the best
 * mean of pairwise and BCubed F in *best_f (its tau in *best_tau).  The whitening check compares the raw and the mapped features
 * with it, each at its own best tau, because the tau that suits one space
 * need not suit the other. */
hl_status hli_snn_best_f(const hl_trainer *t, float *x, const int64_t *y, int64_t n, int64_t d, int64_t *pred,
                         double *best_f, float *best_tau)
{
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = t->opts.k_list[0];
    ko.num_threads = t->opts.num_threads;
    hl_graph *g = NULL;
    float *sc = NULL, *dens = NULL;
    int64_t *root = NULL, *tmp = NULL;
    *best_f = -1.0;
    hli_level lv;
    memset(&lv, 0, sizeof lv);
    lv.n = lv.n_points = n;
    lv.d = d;
    lv.x = lv.c = x;
    hl_status st = hli_graph_build_normalized(x, n, d, &ko, &g);
    if (st != HL_OK)
        return st;
    if ((sc = hli_alloc((size_t)(g->num_edges > 0 ? g->num_edges : 1), sizeof(float))) == NULL ||
        (dens = hli_alloc((size_t)n, sizeof(float))) == NULL || (root = hli_alloc((size_t)n, sizeof(int64_t))) == NULL ||
        (tmp = hli_alloc((size_t)n, sizeof(int64_t))) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    if ((st = hli_level_scores(NULL, &lv, g, HL_SCORE_SNN, 0, t->opts.num_threads, sc, dens)) != HL_OK)
        goto done;
    for (int s = 0; s < 10; s++) {
        const float tau = grid_tau(HL_SCORE_SNN, s);
        tau_point pt;
        memset(&pt, 0, sizeof pt);
        if ((st = decode_point(g, sc, dens, tau, y, n, pred, &pt)) != HL_OK ||
            (st = merge_eval(g, sc, y, n, pred, HLI_DEFAULT_MERGE, root, tmp, &pt)) != HL_OK)
            goto done;
        if (pt.f > *best_f) {
            *best_f = pt.f;
            *best_tau = tau;
        }
    }
done:
    hl_graph_free(g);
    free(sc);
    free(dens);
    free(root);
    free(tmp);
    return st;
}

/* The linkage-merge threshold, chosen once (the first call) with the
 * model-free snn decode on every labelled point: the validation split holds
 * a fifth of the classes, and with so few confusable classes merging looks
 * almost free there (mean F 0.78 -> 0.93 on a split of Omniglot train, where
 * the classes held out from training gain 0.01-0.08).  The snn tau chosen
 * with it is kept for the snn fallback.  Without the labelled points
 * (neither tau selection nor the clustering checkpoint) the unsupervised
 * default is used. */
static hl_status train_merge(hl_trainer *t, float *merge)
{
    *merge = t->merge;
    if (t->merge >= 0.0f)
        return HL_OK;
    t->all_snn_tau = -1.0f;
    if (t->all_x == NULL) {
        *merge = t->merge = HLI_DEFAULT_MERGE;
        return HL_OK;
    }
    int64_t *pa = hli_alloc((size_t)t->all_n, sizeof(int64_t));
    if (pa == NULL)
        return hl_last_error_status();
    tau_point pts[10];
    double top = -1.0;
    int pick = -1;
    hl_status st = tau_curve(t, 1, HL_SCORE_SNN, 1, -1.0f, 0.0, pa, pts, &top, &pick);
    free(pa);
    if (st != HL_OK)
        return st;
    t->merge = pts[pick].merge;
    t->all_snn_tau = grid_tau(HL_SCORE_SNN, pick);
    hli_log(HL_LOG_INFO,
            "training: linkage merge %.1f and snn tau %.2f chosen with the snn decode on all %lld labelled "
            "points (mean F %.4f; without the merge %.4f)",
            (double)t->merge, (double)t->all_snn_tau, (long long)t->all_n, top, pts[pick].f_plain);
    *merge = t->merge;
    return HL_OK;
}

/* Checkpoint metric HL_CHECKPOINT_CLUSTER: the best mean F of clustering the
 * validation classes with the model's probability, in *f.  With
 * standardize_edge_features the weights being trained expect standardised
 * edge features while hl_model_predict computes raw ones, so the
 * standardisation is folded into the edge weights for the measurement (as
 * it is at the end of training) and the trained weights are put back. */
hl_status hli_trainer_val_cluster_f(hl_trainer *t, double *f)
{
    tau_point pts[HLI_TAU_STEPS];
    *f = NAN;
    hl_model *m = t->model;
    float *saved = NULL;
    size_t nw = 0, nb = 0;
    float merge = 0.0f;
    hl_status st = train_merge(t, &merge);
    if (st != HL_OK)
        return st;
    if (t->ef_mean != NULL && m->edge_w >= 0) {
        nw = (size_t)(m->t[m->edge_w].rows * m->t[m->edge_w].cols);
        nb = (size_t)(m->t[m->edge_b].rows * m->t[m->edge_b].cols);
        if ((saved = hli_alloc(nw + nb, sizeof(float))) == NULL)
            return hl_last_error_status();
        memcpy(saved, hli_param(m, m->edge_w), nw * sizeof(float));
        memcpy(saved + nw, hli_param(m, m->edge_b), nb * sizeof(float));
        hli_fold_edge_standardization(m, t->ef_mean, t->ef_inv);
    }
    int pick = -1;
    int64_t *pred = hli_alloc((size_t)t->val_n, sizeof(int64_t));
    if (pred == NULL)
        st = hl_last_error_status();
    else
        st = tau_curve(t, 0, HL_SCORE_PROB, 1, merge, HLI_TAU_SLACK, pred, pts, f, &pick);
    free(pred);
    if (saved != NULL) {
        memcpy(hli_param(m, m->edge_w), saved, nw * sizeof(float));
        memcpy(hli_param(m, m->edge_b), saved + nw, nb * sizeof(float));
        free(saved);
    }
    return st;
}

hl_status hli_trainer_select_defaults(hl_trainer *t)
{
    if (!t->has_val || t->val_n < 2)
        return HL_OK;
    double best = -1.0, best_prob = -1.0, prob_top = -1.0, snn_top = -1.0;
    int32_t best_limit = 0; /* level limit stored with the model: 0 = automatic (1 level) */
    float best_tau = t->model->tau, best_prob_tau = 0.0f;
    int32_t best_score = HL_SCORE_PROB;
    tau_point best_pt;
    memset(&best_pt, 0, sizeof best_pt);
    tau_point pts[HLI_TAU_STEPS];
    int64_t *pred = hli_alloc((size_t)t->val_n, sizeof(int64_t));
    if (pred == NULL)
        return hl_last_error_status();
    /* pass 0: the model's probability, one level; pass 1: the same with the
     * full hierarchy (early stop), kept only if it beats one level by more
     * than the slack; pass 2: the shared-neighbour fallback, one level.
     * Each followed by the linkage merge at the threshold chosen beforehand
     * on all labelled points (train_merge). */
    float merge = 0.0f;
    hl_status st = hl_model_set_cluster_levels(t->model, 0);
    if (st == HL_OK)
        st = train_merge(t, &merge);
    if (st != HL_OK)
        goto done;
    double top1 = -1.0;
    for (int pass = 0; pass < 3; pass++) {
        const int32_t score = pass < 2 ? HL_SCORE_PROB : HL_SCORE_SNN;
        const int32_t max_levels = pass == 1 ? HLI_TRAIN_HIERARCHY_LEVELS : 1;
        double top;
        int pick = -1;
        if ((st = tau_curve(t, 0, score, max_levels, merge, HLI_TAU_SLACK, pred, pts, &top, &pick)) != HL_OK)
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
    if (st != HL_OK || best < 0.0)
        return st;
    if ((st = hl_model_set_cluster_defaults(t->model, best_tau, best_score)) != HL_OK ||
        (st = hl_model_set_cluster_levels(t->model, best_score == HL_SCORE_PROB ? best_limit : 0)) != HL_OK ||
        (st = hl_model_set_cluster_merge(t->model, best_pt.merge)) != HL_OK)
        return st;
    hli_log(HL_LOG_INFO,
            "training: clustering defaults chosen on validation classes: score %s, tau %.3f, merge %.1f "
            "(pairwise F %.4f, BCubed F %.4f, NMI %.4f, %d levels; level 0 alone: mean F %.4f; without the "
            "merge: %.4f); with the model's probability: tau %.3f, mean F %.4f (best over tau %.6f at one level); "
            "snn: best over tau %.4f",
            best_score == HL_SCORE_PROB ? "prob" : "snn", (double)best_tau, (double)best_pt.merge,
            best_pt.mt.pairwise_f, best_pt.mt.bcubed_f, best_pt.mt.nmi, (int)best_pt.levels, best_pt.f0,
            best_pt.f_plain, (double)best_prob_tau, best_prob, prob_top, snn_top);
    return HL_OK;
}
