/* Hierarchical clustering (SPEC sections 4-5).
 *
 * Per level: kNN graph of the level's node features, an edge score and a node
 * density (the model's p_ij[1] and dhat; or unsupervised: cosine or the
 * shared-neighbour fraction with density = mean score over the in-edges; or
 * the oracle: true links and ground-truth density), a decode, and the next
 * level with one node per cluster.  The chosen edges of every level join
 * original points, so the labels after a level are the connected components
 * of all the edges chosen so far; hli_level_next's node_of_point is exactly
 * that component map. */
#define _POSIX_C_SOURCE 200809L
#include "hierarchy.h"
#include "knn_internal.h"
#include "model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Unsupervised defaults, chosen on the Omniglot TRAIN split only
 * (docs/perf-cluster.md); the score's default when a model's stored score
 * differs. */
#define HLI_DEFAULT_TAU_SIM 0.875f
#define HLI_DEFAULT_TAU_SNN 0.45f
#define HLI_DEFAULT_TAU_PROB 0.50f
#define HLI_ORACLE_TAU 0.5f

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct hl_clustering {
    int64_t n;
    int32_t num_levels;
    int32_t cap;
    int64_t *labels; /* cap * n */
    int64_t *stats;  /* cap * 4: nodes, edges, edges added, clusters */
};

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
}

hl_status hl_cluster_options_init(hl_cluster_options *opts, size_t struct_size)
{
    return hli_struct_init(opts, struct_size, HLI_MIN_SIZE_CLUSTER_OPTIONS, sizeof *opts, hli_cluster_options_defaults,
                           "hl_cluster_options_init");
}

void hl_clustering_free(hl_clustering *clustering)
{
    if (clustering == NULL)
        return;
    free(clustering->labels);
    free(clustering->stats);
    free(clustering);
}

int32_t hl_clustering_num_levels(const hl_clustering *clustering)
{
    return clustering ? clustering->num_levels : 0;
}

int64_t hl_clustering_num_points(const hl_clustering *clustering)
{
    return clustering ? clustering->n : 0;
}

static hl_status check_level(const hl_clustering *c, int32_t *level)
{
    if (c == NULL)
        return hli_error(HL_EINVAL, "clustering is NULL");
    if (*level == -1)
        *level = c->num_levels - 1;
    if (*level < 0 || *level >= c->num_levels)
        return hli_error(HL_EINVAL, "level = %d must be in [0, %d) or -1 (final)", (int)*level, (int)c->num_levels);
    return HL_OK;
}

hl_status hl_clustering_labels(const hl_clustering *clustering, int32_t level, int64_t *labels)
{
    hl_status st = check_level(clustering, &level);
    if (st != HL_OK)
        return st;
    if (labels == NULL)
        return hli_error(HL_EINVAL, "labels: output array is NULL");
    memcpy(labels, clustering->labels + (size_t)level * (size_t)clustering->n,
           (size_t)clustering->n * sizeof(int64_t));
    return HL_OK;
}

hl_status hl_clustering_level_stats(const hl_clustering *clustering, int32_t level, int64_t *num_nodes,
                                    int64_t *num_edges, int64_t *edges_added, int64_t *num_clusters)
{
    hl_status st = check_level(clustering, &level);
    if (st != HL_OK)
        return st;
    const int64_t *s = clustering->stats + 4 * (size_t)level;
    if (num_nodes)
        *num_nodes = s[0];
    if (num_edges)
        *num_edges = s[1];
    if (edges_added)
        *edges_added = s[2];
    if (num_clusters)
        *num_clusters = s[3];
    return HL_OK;
}

static const char *score_name(int32_t s)
{
    return s == HL_SCORE_PROB ? "prob" : s == HL_SCORE_SIM ? "sim" : s == HL_SCORE_SNN ? "snn" : "?";
}

/* Record one level: labels renumbered 0..C-1 by first appearance. */
static hl_status record_level(hl_clustering *c, const int64_t *node_of_point, int64_t num_nodes_next,
                              const int64_t stats[4])
{
    if (c->num_levels == c->cap) {
        int32_t cap = c->cap ? 2 * c->cap : 4;
        size_t bytes;
        if (hli_check_dims("hierarchy labels", cap, c->n, sizeof(int64_t), &bytes) != HL_OK)
            return hl_last_error_status();
        int64_t *l = hli_realloc(c->labels, bytes, 1);
        if (l == NULL)
            return HL_ENOMEM;
        c->labels = l;
        int64_t *s = hli_realloc(c->stats, (size_t)cap * 4, sizeof(int64_t));
        if (s == NULL)
            return HL_ENOMEM;
        c->stats = s;
        c->cap = cap;
    }
    int64_t *map = hli_alloc((size_t)num_nodes_next, sizeof(int64_t));
    if (map == NULL)
        return hl_last_error_status();
    for (int64_t v = 0; v < num_nodes_next; v++)
        map[v] = -1;
    int64_t *out = c->labels + (size_t)c->num_levels * (size_t)c->n, next = 0;
    for (int64_t q = 0; q < c->n; q++) {
        int64_t v = node_of_point[q];
        if (map[v] < 0)
            map[v] = next++;
        out[q] = map[v];
    }
    free(map);
    memcpy(c->stats + 4 * (size_t)c->num_levels, stats, 4 * sizeof(int64_t));
    c->num_levels++;
    return HL_OK;
}

hl_status hli_level_scores(const hl_model *model, const hli_level *lv, const hl_graph *g, int32_t score, int oracle,
                           int32_t num_threads, float *sc, float *dens)
{
    const int64_t n = lv->n;
    const int64_t *off = g->offsets, *src = g->src;
    int nt = hli_threads(num_threads);
    if (oracle) {
        hl_status st = hl_graph_density(g, lv->label, dens);
        if (st != HL_OK)
            return st;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t i = 0; i < n; i++)
            for (int64_t e = off[i]; e < off[i + 1]; e++)
                sc[e] = lv->label[src[e]] == lv->label[i] ? 1.0f : 0.0f;
        return HL_OK;
    }
    if (score == HL_SCORE_PROB)
        return hl_model_predict(model, g, lv->x, lv->c, n, lv->d, num_threads, sc, dens);
    if (score == HL_SCORE_SIM) {
        if (g->num_edges > 0)
            memcpy(sc, g->sim, (size_t)g->num_edges * sizeof(float));
    } else {
        hl_status st = hli_edge_features(g, HL_EDGE_FEAT_SNN, NULL, 0, nt, sc);
        if (st != HL_OK)
            return st;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t e = off[i]; e < off[i + 1]; e++)
            s += sc[e];
        int64_t m = off[i + 1] - off[i];
        dens[i] = m > 0 ? (float)(s / (double)m) : 0.0f;
    }
    return HL_OK;
}

/* The linkage merge (lib/merge.c) after the last level: @p top is the level
 * the hierarchy ended with (its node_of_point maps points to clusters), g0 and
 * sc0 the level-0 graph and scores.  Recorded as one more level. */
static hl_status linkage_merge(hl_clustering *c, const hl_graph *g0, const float *sc0, const hli_level *top,
                               float merge, const hl_cluster_options *opts)
{
    double t0 = now_s();
    hli_link *links = NULL;
    int64_t nl = 0;
    hl_status st = hli_cluster_links(g0, sc0, top->node_of_point, top->n, &links, &nl);
    if (st != HL_OK)
        return st;
    int64_t *root = hli_alloc((size_t)top->n, sizeof(int64_t));
    int64_t *merged = hli_alloc((size_t)c->n, sizeof(int64_t));
    if (root == NULL || merged == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    hli_merge m;
    hli_merge_init(&m, root, top->n);
    hli_merge_until(&m, links, nl, (double)merge);
    hli_merge_apply(&m, top->node_of_point, c->n, merged);
    const int64_t stats[4] = {top->n, nl, m.unions, top->n - m.unions};
    if ((st = record_level(c, merged, top->n, stats)) != HL_OK)
        goto done;
    hli_log(HL_LOG_INFO, "cluster: linkage merge at %g: %lld clusters, %lld candidate pairs, %lld joined, %lld "
            "clusters; seconds %.3f", (double)merge, (long long)top->n, (long long)nl, (long long)m.unions,
            (long long)stats[3], now_s() - t0);
    if (opts->progress && opts->progress(c->num_levels - 1, top->n, m.unions, opts->progress_user) != 0)
        st = hli_error(HL_ECANCELED, "cluster: cancelled by the progress callback after the linkage merge");
done:
    free(links);
    free(root);
    free(merged);
    return st;
}

hl_status hl_cluster(const hl_model *model, const float *x, int64_t n, int64_t d, const int64_t *truth,
                     const hl_cluster_options *opts, hl_clustering **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "cluster: out is NULL");
    *out = NULL;
    if (x == NULL)
        return hli_error(HL_EINVAL, "cluster: features x are NULL");
    hl_cluster_options full;
    if (opts == NULL) {
        memset(&full, 0, sizeof full);
        hli_cluster_options_defaults(&full);
        full.struct_size = sizeof full;
    } else {
        hl_status st0 = hli_struct_read(opts, HLI_MIN_SIZE_CLUSTER_OPTIONS, sizeof full, hli_cluster_options_defaults,
                                        &full, "cluster options");
        if (st0 != HL_OK)
            return st0;
    }
    opts = &full;
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

    /* Resolve the score and tau. */
    int32_t score = opts->score;
    float tau = opts->tau;
    const int oracle = truth != NULL;
    int32_t model_levels = 0; /* the model's stored level limit, for its stored score */
    float merge = opts->merge < 0.0f ? 0.0f : opts->merge;
    int model_merge = 0; /* merge is the model's stored threshold */
    if (model != NULL && !oracle) {
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
        st = hl_model_get_cluster_defaults(model, &mtau, &mscore);
        if (st != HL_OK)
            return st;
        if (score < 0)
            score = mscore;
        if (tau < 0.0f)
            tau = score == mscore ? mtau : -1.0f;
        if (score == mscore && (st = hl_model_get_cluster_levels(model, &model_levels)) != HL_OK)
            return st;
        if (score == mscore && opts->merge < 0.0f) {
            if ((st = hl_model_get_cluster_merge(model, &merge)) != HL_OK)
                return st;
            model_merge = 1;
        }
    } else if (score < 0) {
        score = HL_SCORE_SNN;
    }
    if (!oracle && score == HL_SCORE_PROB && model == NULL)
        return hli_error(HL_EINVAL, "cluster: score 'prob' needs a model (use 'sim' or 'snn' without one)");
    if (oracle)
        tau = tau < 0.0f ? HLI_ORACLE_TAU : tau;
    else if (tau < 0.0f)
        tau = score == HL_SCORE_SIM ? HLI_DEFAULT_TAU_SIM
              : score == HL_SCORE_SNN ? HLI_DEFAULT_TAU_SNN
                                      : HLI_DEFAULT_TAU_PROB;
    if (opts->merge < 0.0f && !oracle && !model_merge && score == HL_SCORE_SNN)
        merge = HLI_DEFAULT_MERGE;
    int32_t max_levels = opts->max_levels;
    if (max_levels == 0) {
        if (oracle)
            max_levels = HLI_LEVELS_ORACLE;
        else if (model_levels > 0) /* chosen on validation classes at training time */
            max_levels = model_levels;
        else
            max_levels = score == HL_SCORE_PROB ? HLI_LEVELS_MODEL : HLI_LEVELS_UNSUPERVISED;
    }
    hli_log(HL_LOG_INFO, "cluster: n = %lld, d = %lld, k = %lld, score = %s, tau = %g, merge = %g%s", (long long)n,
            (long long)d, (long long)opts->k, oracle ? "oracle" : score_name(score), (double)tau, (double)merge,
            oracle ? " (true links and densities)" : "");

    hl_status st = HL_OK;
    /* the features as the model sees them (its feature map, whiten.c); the
     * oracle ignores the model */
    float *x0 = hli_model_input(oracle ? NULL : model, x, n, d, &st);
    if (x0 == NULL)
        return st;
    if (!oracle && model != NULL && model->whiten != NULL)
        hli_log(HL_LOG_INFO, "cluster: features mapped by the model's whitening");
    hl_clustering *c = hli_calloc(1, sizeof(*c));
    hli_level lv, nlv;
    memset(&lv, 0, sizeof(lv));
    memset(&nlv, 0, sizeof(nlv));
    hl_graph *g = NULL, *g0 = NULL; /* g0, sc0: level 0, kept for the linkage merge */
    float *sc = NULL, *dens = NULL, *sc0 = NULL;
    int64_t *peak = NULL;
    if (c == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    c->n = n;
    /* Level 0 (as hli_level_init would make it, but borrowing the normalised
     * features for both x and c instead of two n*d copies; the borrow is
     * undone before the level is freed). */
    lv.x = lv.c = x0;
    lv.n = lv.n_points = n;
    lv.d = d;
    lv.node_of_point = hli_alloc((size_t)n, sizeof(int64_t));
    if (truth != NULL)
        lv.label = hli_alloc((size_t)n, sizeof(int64_t));
    if (lv.node_of_point == NULL || (truth != NULL && lv.label == NULL)) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        lv.node_of_point[i] = i;
    if (truth != NULL)
        memcpy(lv.label, truth, (size_t)n * sizeof(int64_t));

    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = opts->k;
    ko.method = opts->knn_method;
    ko.num_threads = opts->num_threads;
    ko.auto_threshold = opts->knn_auto_threshold;
    ko.nprobe = opts->knn_nprobe;
    ko.target_recall = opts->knn_target_recall;

    int64_t prev_added = -1;
    for (int32_t level = 0; level < max_levels; level++) {
        if (lv.n <= opts->k)
            break; /* too few nodes for a k-NN graph */
        double t0 = now_s();
        /* lv.x is already normalised (level 0: x0; above: peaks' rows of x0). */
        ko.nlist = opts->knn_nlist <= lv.n ? opts->knn_nlist : 0;
        if ((st = hli_graph_build_normalized(lv.x, lv.n, d, &ko, &g)) != HL_OK)
            goto done;
        double t1 = now_s();
        size_t ne = (size_t)(g->num_edges > 0 ? g->num_edges : 1);
        sc = hli_alloc(ne, sizeof(float));
        dens = hli_alloc((size_t)lv.n, sizeof(float));
        peak = hli_alloc((size_t)lv.n, sizeof(int64_t));
        if (sc == NULL || dens == NULL || peak == NULL) {
            st = hl_last_error_status();
            goto done;
        }
        if ((st = hli_level_scores(model, &lv, g, score, oracle, opts->num_threads, sc, dens)) != HL_OK)
            goto done;
        double t2 = now_s();
        int64_t *parent = hli_alloc((size_t)lv.n, sizeof(int64_t));
        if (parent == NULL) {
            st = hl_last_error_status();
            goto done;
        }
        st = hl_decode(g, sc, dens, tau, parent, peak);
        int64_t added = 0;
        for (int64_t i = 0; i < lv.n; i++)
            added += parent[i] >= 0;
        free(parent);
        if (st != HL_OK)
            goto done;
        double t3 = now_s();
        if ((st = hli_level_next(&lv, peak, x0, &nlv)) != HL_OK)
            goto done;
        const int64_t stats[4] = {lv.n, g->num_edges, added, nlv.n};
        if ((st = record_level(c, nlv.node_of_point, nlv.n, stats)) != HL_OK)
            goto done;
        double t4 = now_s();
        hli_log(HL_LOG_INFO,
                "cluster: level %d: %lld nodes, %lld edges, %lld added, %lld clusters; seconds: knn %.3f, "
                "scores %.3f, decode %.3f, next level %.3f",
                (int)level, (long long)lv.n, (long long)g->num_edges, (long long)added, (long long)nlv.n, t1 - t0,
                t2 - t1, t3 - t2, t4 - t3);
        if (level == 0 && merge > 0.0f) {
            g0 = g;
            sc0 = hli_merge_scores(g, score == HL_SCORE_SNN && !oracle ? sc : NULL, hli_threads(opts->num_threads));
            if (sc0 == NULL) {
                st = hl_last_error_status();
                g = NULL; /* freed as g0 */
                goto done;
            }
            if (sc0 != sc)
                free(sc);
        } else {
            hl_graph_free(g);
            free(sc);
        }
        g = NULL;
        sc = NULL;
        free(dens);
        free(peak);
        dens = NULL;
        peak = NULL;
        if (lv.x == x0)
            lv.x = lv.c = NULL;
        hli_level_free(&lv);
        lv = nlv;
        memset(&nlv, 0, sizeof(nlv));
        if (opts->progress && opts->progress(level, stats[0], added, opts->progress_user) != 0) {
            st = hli_error(HL_ECANCELED, "cluster: cancelled by the progress callback after level %d", (int)level);
            goto done;
        }
        if (added == 0)
            break;
        if (opts->early_stop && prev_added >= 0 && (double)prev_added / (double)added < (double)(opts->k - 1))
            break;
        prev_added = added;
    }
    if (c->num_levels == 0) {
        /* unreachable: k < n guarantees level 0 runs */
        st = hli_error(HL_EINTERNAL, "cluster: no level was run");
        goto done;
    }
    if (g0 != NULL && (st = linkage_merge(c, g0, sc0, &lv, merge, opts)) != HL_OK)
        goto done;

done:
    hl_graph_free(g);
    hl_graph_free(g0);
    free(sc);
    free(sc0);
    free(dens);
    free(peak);
    if (lv.x == x0)
        lv.x = lv.c = NULL;
    hli_level_free(&lv);
    hli_level_free(&nlv);
    free(x0);
    if (st != HL_OK) {
        hl_clustering_free(c);
        return st;
    }
    *out = c;
    return HL_OK;
}
