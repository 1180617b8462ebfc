/* hl_cluster's options: their defaults, their checks, and the plan they
 * resolve to (score, tau, merge threshold and level limit) once the model's
 * stored defaults are taken into account. */
#include "cluster/cluster_internal.h"
#include "model/model_internal.h"

#include <math.h>
#include <string.h>

/* Unsupervised defaults, chosen on the Omniglot train classes only
 * (docs/QUALITY.md); also the score's default when a model's stored score
 * differs. */
#define HLI_DEFAULT_TAU_SIM 0.875f
#define HLI_DEFAULT_TAU_SNN 0.45f
#define HLI_DEFAULT_TAU_PROB 0.50f
#define HLI_ORACLE_TAU 0.5f

void hli_cluster_options_defaults(void *full)
{
    hl_cluster_options *opts = full;
    opts->k = 10;
    opts->tau = -1.0f;
    opts->score = -1;
    opts->max_levels = 0;
    opts->early_stop = 1;
    opts->knn_method = HL_KNN_AUTO;
    opts->num_threads = 0;
    opts->progress = NULL;
    opts->progress_user = NULL;
    hl_knn_options ko;
    hli_knn_options_defaults(&ko);
    opts->knn_auto_threshold = ko.auto_threshold;
    opts->knn_nlist = ko.nlist;
    opts->knn_nprobe = ko.nprobe;
    opts->knn_target_recall = ko.target_recall;
    opts->merge = -1.0f;
    opts->knn_seed = ko.seed;
}

hl_status hl_cluster_options_init(hl_cluster_options *opts, size_t struct_size)
{
    return hli_struct_init(opts, struct_size, HLI_MIN_SIZE_CLUSTER_OPTIONS, sizeof *opts, hli_cluster_options_defaults,
                           "hl_cluster_options_init");
}

const char *hli_score_name(int32_t score)
{
    return score == HL_SCORE_PROB ? "prob" : score == HL_SCORE_SIM ? "sim" : score == HL_SCORE_SNN ? "snn" : "?";
}

hl_status hli_cluster_options_read(const hl_cluster_options *opts, hl_cluster_options *full)
{
    if (opts == NULL) {
        memset(full, 0, sizeof *full);
        hli_cluster_options_defaults(full);
        full->struct_size = sizeof *full;
        return HL_OK;
    }
    return hli_struct_read(opts, HLI_MIN_SIZE_CLUSTER_OPTIONS, sizeof *full, hli_cluster_options_defaults, full,
                           "cluster options");
}

hl_status hli_cluster_options_check(const hl_cluster_options *opts, int64_t n, int64_t d)
{
    if (n < 1 || d < 1)
        return hli_error(HL_EINVAL, "cluster: n = %lld and d = %lld must be >= 1", (long long)n, (long long)d);
    if (opts->k < 2)
        return hli_error(HL_EINVAL, "cluster: k = %lld must be >= 2 (self + at least one neighbour)",
                         (long long)opts->k);
    if (opts->k >= n)
        return hli_error(HL_EINVAL, "cluster: k = %lld must be < n = %lld", (long long)opts->k, (long long)n);
    if (opts->max_levels < 0)
        return hli_error(HL_EINVAL, "cluster: max_levels = %d must be >= 0 (0 = automatic)", (int)opts->max_levels);
    if (isnan(opts->tau) || opts->tau > 1.0f)
        return hli_error(HL_EINVAL, "cluster: tau = %g must be in [0, 1] (or < 0 for the default)",
                         (double)opts->tau);
    if (opts->score < -1 || opts->score > HL_SCORE_SNN)
        return hli_error(HL_EINVAL, "cluster: score = %d is not an hl_score (or -1)", (int)opts->score);
    if (opts->knn_method < HL_KNN_AUTO || opts->knn_method > HL_KNN_APPROX)
        return hli_error(HL_EINVAL, "cluster: knn_method = %d is not an hl_knn_method", (int)opts->knn_method);
    if (opts->knn_auto_threshold < 0 || opts->knn_nlist < 0 || opts->knn_nprobe < 0)
        return hli_error(HL_EINVAL, "cluster: knn_auto_threshold = %lld, knn_nlist = %lld and knn_nprobe = %lld must "
                                    "be >= 0", (long long)opts->knn_auto_threshold, (long long)opts->knn_nlist,
                         (long long)opts->knn_nprobe);
    if (!isfinite(opts->merge))
        return hli_error(HL_EINVAL, "cluster: merge = %g must be finite (0 = off, < 0 = default)",
                         (double)opts->merge);
    if (!(opts->knn_target_recall > 0.0 && opts->knn_target_recall <= 1.0))
        return hli_error(HL_EINVAL, "cluster: knn_target_recall = %g must be in (0, 1]", opts->knn_target_recall);
    return HL_OK;
}

/* What the model stores for its own score: tau, level limit and merge. */
static hl_status plan_from_model(const hl_model *model, const hl_cluster_options *opts, int64_t d,
                                 hli_cluster_plan *plan, int *model_merge)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    hl_status st = hl_model_get_config(model, &cfg);
    if (st != HL_OK)
        return st;
    if (cfg.feature_dim != d)
        return hli_error(HL_EINVAL, "cluster: features have d = %lld columns but the model expects %lld",
                         (long long)d, (long long)cfg.feature_dim);
    float mtau;
    int32_t mscore;
    if ((st = hl_model_get_cluster_defaults(model, &mtau, &mscore)) != HL_OK)
        return st;
    if (plan->score < 0)
        plan->score = mscore;
    if (plan->tau < 0.0f)
        plan->tau = plan->score == mscore ? mtau : -1.0f;
    if (plan->score != mscore)
        return HL_OK;
    if ((st = hl_model_get_cluster_levels(model, &plan->max_levels)) != HL_OK)
        return st;
    if (opts->merge < 0.0f) {
        if ((st = hl_model_get_cluster_merge(model, &plan->merge)) != HL_OK)
            return st;
        *model_merge = 1;
    }
    return HL_OK;
}

hl_status hli_cluster_plan_resolve(const hl_model *model, int oracle, const hl_cluster_options *opts, int64_t d,
                                   hli_cluster_plan *plan)
{
    plan->oracle = oracle;
    plan->score = opts->score;
    plan->tau = opts->tau;
    plan->merge = opts->merge < 0.0f ? 0.0f : opts->merge;
    plan->max_levels = 0; /* here: the model's stored level limit, for its stored score */
    int model_merge = 0;  /* merge is the model's stored threshold */
    if (model != NULL && !oracle) {
        hl_status st = plan_from_model(model, opts, d, plan, &model_merge);
        if (st != HL_OK)
            return st;
    } else if (plan->score < 0) {
        plan->score = HL_SCORE_SNN;
    }
    if (!oracle && plan->score == HL_SCORE_PROB && model == NULL)
        return hli_error(HL_EINVAL, "cluster: score 'prob' needs a model (use 'sim' or 'snn' without one)");
    if (oracle)
        plan->tau = plan->tau < 0.0f ? HLI_ORACLE_TAU : plan->tau;
    else if (plan->tau < 0.0f)
        plan->tau = plan->score == HL_SCORE_SIM   ? HLI_DEFAULT_TAU_SIM
                    : plan->score == HL_SCORE_SNN ? HLI_DEFAULT_TAU_SNN
                                                  : HLI_DEFAULT_TAU_PROB;
    if (opts->merge < 0.0f && !oracle && !model_merge && plan->score == HL_SCORE_SNN)
        plan->merge = HLI_DEFAULT_MERGE;
    const int32_t model_levels = plan->max_levels;
    plan->max_levels = opts->max_levels;
    if (plan->max_levels == 0) {
        if (oracle)
            plan->max_levels = HLI_LEVELS_ORACLE;
        else if (model_levels > 0) /* chosen on validation classes at training time */
            plan->max_levels = model_levels;
        else
            plan->max_levels = plan->score == HL_SCORE_PROB ? HLI_LEVELS_MODEL : HLI_LEVELS_UNSUPERVISED;
    }
    return HL_OK;
}
