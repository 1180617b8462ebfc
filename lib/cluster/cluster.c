/* hl_cluster: the hierarchy of docs/ALGORITHM.md, level by level.
 *
 * Per level: kNN graph of the level's node features, an edge score and a node
 * density (level_scores.c), a decode, and the next level with one node per
 * cluster.  The chosen edges of every level join original points, so the
 * labels after a level are the connected components of all the edges chosen
 * so far; hli_level_next's node_of_point is exactly that component map.  An
 * optional linkage merge (merge.c) follows the last level. */
#include "cluster/cluster_internal.h"
#include "knn/knn_internal.h"
#include "model/model_internal.h"

#include <stdlib.h>
#include <string.h>

/* What every level of one hl_cluster call shares. */
typedef struct cluster_run {
    const hl_model *model;
    const hl_cluster_options *opts;
    hli_cluster_plan plan;
    const float *x0;  /* n*d: the normalised (and mapped) features of the points */
    hl_knn_options ko;
    hl_clustering *c;
    const hl_graph *given0; /* the caller's level-0 graph (hl_cluster_from_graph), or NULL */
    hl_graph *g0;     /* level 0 graph and linkage scores, kept for the merge */
    float *sc0;
    int64_t *rep;     /* the representative point of each node of the current level */
    float *dens0;     /* level-0 densities (choose the representative of a merged cluster) */
} cluster_run;

/* Level 0 as hli_level_init would make it, but borrowing the features @p x0
 * for both x and c instead of two n*d copies (level_unborrow undoes it before
 * the level is freed). */
static hl_status level0_borrow(hli_level *lv, const float *x0, int64_t n, int64_t d, const int64_t *truth)
{
    lv->x = lv->c = (float *)x0;
    lv->n = lv->n_points = n;
    lv->d = d;
    lv->node_of_point = hli_alloc((size_t)n, sizeof(int64_t));
    if (truth != NULL)
        lv->label = hli_alloc((size_t)n, sizeof(int64_t));
    if (lv->node_of_point == NULL || (truth != NULL && lv->label == NULL))
        return hl_last_error_status();
    for (int64_t i = 0; i < n; i++)
        lv->node_of_point[i] = i;
    if (truth != NULL)
        memcpy(lv->label, truth, (size_t)n * sizeof(int64_t));
    return HL_OK;
}

static void level_unborrow_free(hli_level *lv, const float *x0)
{
    if (lv->x == x0)
        lv->x = lv->c = NULL;
    hli_level_free(lv);
}

/* Keep level 0's graph and its linkage scores for the merge (takes @p g,
 * unless it is the caller's, and @p sc over: both are freed or kept). */
static hl_status keep_level0(cluster_run *r, hl_graph *g, float *sc)
{
    const int snn = r->plan.score == HL_SCORE_SNN && !r->plan.oracle;
    r->g0 = g;
    r->sc0 = hli_merge_scores(g, snn ? sc : NULL, hli_threads(r->opts->num_threads));
    if (r->sc0 != sc)
        free(sc);
    return r->sc0 != NULL ? HL_OK : hl_last_error_status();
}

/* Level 0's per-point outputs: the confidence of each point (the score of the
 * edge to its decode parent, clamped to [0, 1]; 1 for a peak) into the
 * result, and the densities for the merge's choice of representatives. */
static hl_status keep_level0_points(cluster_run *r, const hl_graph *g, const float *sc, const float *dens,
                                    const int64_t *parent, int64_t n)
{
    float *conf = hli_alloc((size_t)n, sizeof(float));
    r->dens0 = hli_alloc((size_t)n, sizeof(float));
    if (conf == NULL || r->dens0 == NULL) {
        free(conf);
        return hl_last_error_status();
    }
    memcpy(r->dens0, dens, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        float s = 1.0f;
        for (int64_t e = g->offsets[i]; parent[i] >= 0 && e < g->offsets[i + 1]; e++)
            if (g->src[e] == parent[i]) {
                s = sc[e] < 0.0f ? 0.0f : sc[e] > 1.0f ? 1.0f : sc[e];
                break;
            }
        conf[i] = s;
    }
    r->c->confidence = conf;
    return HL_OK;
}

/* The representatives of the next level's nodes: node v of the next level is
 * the v-th peak (in increasing index, as hli_level_next numbers them), and
 * keeps its peak's representative.  Replaces r->rep. */
static hl_status next_representatives(cluster_run *r, const int64_t *peak, int64_t n, int64_t n_next)
{
    int64_t *rep = hli_alloc((size_t)n_next, sizeof(int64_t));
    if (rep == NULL)
        return hl_last_error_status();
    int64_t v = 0;
    for (int64_t u = 0; u < n && v < n_next; u++)
        if (peak[u] == u)
            rep[v++] = r->rep[u];
    if (v != n_next) {
        free(rep);
        return hli_error(HL_EINTERNAL, "cluster: %lld peaks for %lld next-level nodes", (long long)v,
                         (long long)n_next);
    }
    free(r->rep);
    r->rep = rep;
    return HL_OK;
}

/* One level: graph of @p lv, scores, decode, the next level into @p next
 * (recorded in the result), and *added = the edges the decode chose. */
static hl_status cluster_level(cluster_run *r, int32_t level, const hli_level *lv, hli_level *next, int64_t *added)
{
    const double t0 = hli_now_seconds();
    hl_graph *g = NULL;
    float *sc = NULL, *dens = NULL;
    int64_t *parent = NULL, *peak = NULL;
    hl_status st = HL_OK;
    const int given = level == 0 && r->given0 != NULL; /* the caller's graph: borrowed, never freed */
    if (given) {
        g = (hl_graph *)r->given0;
    } else {
        /* lv->x is already normalised (level 0: x0; above: peaks' rows of x0). */
        r->ko.nlist = r->opts->knn_nlist <= lv->n ? r->opts->knn_nlist : 0;
        if ((st = hli_graph_build_normalized(lv->x, lv->n, lv->d, &r->ko, &g)) != HL_OK)
            return st;
    }
    const double t1 = hli_now_seconds();
    size_t ne = (size_t)(g->num_edges > 0 ? g->num_edges : 1);
    sc = hli_alloc(ne, sizeof(float));
    dens = hli_alloc((size_t)lv->n, sizeof(float));
    peak = hli_alloc((size_t)lv->n, sizeof(int64_t));
    parent = hli_alloc((size_t)lv->n, sizeof(int64_t));
    if (sc == NULL || dens == NULL || peak == NULL || parent == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    st = hli_level_scores(r->model, lv, g, r->plan.score, r->plan.oracle, r->opts->num_threads, sc, dens);
    if (st != HL_OK)
        goto done;
    const double t2 = hli_now_seconds();
    if ((st = hl_decode(g, sc, dens, r->plan.tau, parent, peak)) != HL_OK)
        goto done;
    *added = 0;
    for (int64_t i = 0; i < lv->n; i++)
        *added += parent[i] >= 0;
    const double t3 = hli_now_seconds();
    if (level == 0 && (st = keep_level0_points(r, g, sc, dens, parent, lv->n)) != HL_OK)
        goto done;
    /* after the last level only the node map is used (labels, merge) */
    st = level + 1 < r->plan.max_levels ? hli_level_next(lv, peak, r->x0, next) : hli_level_next_map(lv, peak, next);
    if (st != HL_OK)
        goto done;
    if ((st = next_representatives(r, peak, lv->n, next->n)) != HL_OK)
        goto done;
    const int64_t stats[4] = {lv->n, g->num_edges, *added, next->n};
    if ((st = hli_clustering_record(r->c, next->node_of_point, next->n, r->rep, stats)) != HL_OK)
        goto done;
    hli_log(HL_LOG_INFO,
            "cluster: level %d: %lld nodes, %lld edges, %lld added, %lld clusters; seconds: knn %.3f, "
            "scores %.3f, decode %.3f, next level %.3f",
            (int)level, (long long)lv->n, (long long)g->num_edges, (long long)*added, (long long)next->n, t1 - t0,
            t2 - t1, t3 - t2, hli_now_seconds() - t3);
    if (level == 0 && r->plan.merge > 0.0f) {
        st = keep_level0(r, g, sc);
        g = given ? g : NULL; /* kept as r->g0; cluster_run_all frees it unless it is the caller's */
        sc = NULL;
    }
done:
    if (!given)
        hl_graph_free(g);
    free(sc);
    free(dens);
    free(peak);
    free(parent);
    return st;
}

/* The linkage merge (merge.c) after the last level: @p top is the level
 * the hierarchy ended with (its node_of_point maps points to clusters), g0 and
 * sc0 the level-0 graph and scores.  Recorded as one more level, whose
 * clusters are represented by the densest (at level 0) of their members'
 * representatives (ties: the smaller point index). */
static hl_status linkage_merge(cluster_run *r, const hli_level *top)
{
    hl_clustering *c = r->c;
    const hl_graph *g0 = r->g0;
    const float *sc0 = r->sc0;
    const float merge = r->plan.merge;
    const hl_cluster_options *opts = r->opts;
    double t0 = hli_now_seconds();
    hli_link *links = NULL;
    int64_t nl = 0;
    hl_status st = hli_cluster_links(g0, sc0, top->node_of_point, top->n, &links, &nl);
    if (st != HL_OK)
        return st;
    int64_t *root = hli_alloc((size_t)top->n, sizeof(int64_t));
    int64_t *merged = hli_alloc((size_t)c->n, sizeof(int64_t));
    int64_t *comp = hli_alloc((size_t)top->n, sizeof(int64_t));
    int64_t *rep = hli_alloc((size_t)top->n, sizeof(int64_t));
    if (root == NULL || merged == NULL || comp == NULL || rep == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    hli_merge m;
    hli_merge_init(&m, root, top->n);
    hli_merge_until(&m, links, nl, (double)merge);
    hli_merge_apply(&m, top->node_of_point, c->n, merged);
    /* each component's representative: its members' densest representative */
    for (int64_t v = 0; v < top->n; v++) {
        comp[v] = v;
        rep[v] = -1;
    }
    hli_merge_apply(&m, comp, top->n, comp);
    for (int64_t v = 0; v < top->n; v++) {
        const int64_t cand = r->rep[v], cur = rep[comp[v]];
        if (cur < 0) {
            rep[comp[v]] = cand;
            continue;
        }
        const float dc = r->dens0[cand], du = r->dens0[cur];
        if (dc > du || (dc == du && cand < cur))
            rep[comp[v]] = cand;
    }
    const int64_t stats[4] = {top->n, nl, m.unions, top->n - m.unions};
    if ((st = hli_clustering_record(c, merged, top->n, rep, stats)) != HL_OK)
        goto done;
    hli_log(HL_LOG_INFO, "cluster: linkage merge at %g: %lld clusters, %lld candidate pairs, %lld joined, %lld "
            "clusters; seconds %.3f", (double)merge, (long long)top->n, (long long)nl, (long long)m.unions,
            (long long)stats[3], hli_now_seconds() - t0);
    if (opts->progress && opts->progress(c->num_levels - 1, top->n, m.unions, opts->progress_user) != 0)
        st = hli_error(HL_ECANCELED, "cluster: cancelled by the progress callback after the linkage merge");
done:
    free(links);
    free(root);
    free(merged);
    free(comp);
    free(rep);
    return st;
}

/* The levels of the hierarchy, from level 0 in *lv (consumed) until the level
 * limit, a level that adds no edge, early stop, or too few nodes. */
static hl_status cluster_levels(cluster_run *r, hli_level *lv)
{
    const hl_cluster_options *opts = r->opts;
    hli_level next;
    memset(&next, 0, sizeof next);
    int64_t prev_added = -1;
    for (int32_t level = 0; level < r->plan.max_levels; level++) {
        if (lv->n <= opts->k)
            break; /* too few nodes for a k-NN graph */
        int64_t added = 0;
        const int64_t nodes = lv->n;
        hl_status st = cluster_level(r, level, lv, &next, &added);
        if (st != HL_OK) {
            hli_level_free(&next);
            return st;
        }
        level_unborrow_free(lv, r->x0);
        *lv = next;
        memset(&next, 0, sizeof next);
        if (opts->progress && opts->progress(level, nodes, added, opts->progress_user) != 0)
            return hli_error(HL_ECANCELED, "cluster: cancelled by the progress callback after level %d", (int)level);
        if (added == 0)
            break;
        if (opts->early_stop && prev_added >= 0 && (double)prev_added / (double)added < (double)(opts->k - 1))
            break;
        prev_added = added;
    }
    if (r->c->num_levels == 0) /* unreachable: k < n guarantees level 0 runs */
        return hli_error(HL_EINTERNAL, "cluster: no level was run");
    return HL_OK;
}

/* hl_cluster, hl_cluster_from_graph (@p given0: the caller's level-0 graph
 * or NULL) and hl_cluster_in_place (@p x_work: the caller's rows, which
 * become the working copy; x is then the same array). */
static hl_status cluster_run_all(const hl_model *model, const hl_graph *given0, const float *x, float *x_work,
                                 int64_t n, int64_t d, const int64_t *truth, const hl_cluster_options *opts,
                                 hl_clustering **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "cluster: out is NULL");
    *out = NULL;
    if (x == NULL)
        return hli_error(HL_EINVAL, "cluster: features x are NULL");
    hl_cluster_options full;
    cluster_run r;
    memset(&r, 0, sizeof r);
    r.given0 = given0;
    hl_status st = hli_cluster_options_read(opts, &full);
    if (st == HL_OK)
        st = hli_cluster_options_check(&full, n, d);
    if (st == HL_OK)
        st = hli_cluster_plan_resolve(model, truth != NULL, &full, d, &r.plan);
    if (st != HL_OK)
        return st;
    hli_scope_threads(full.num_threads);
    r.model = model;
    r.opts = &full;
    hli_log(HL_LOG_INFO, "cluster: n = %lld, d = %lld, k = %lld, score = %s, tau = %g, merge = %g%s", (long long)n,
            (long long)d, (long long)full.k, r.plan.oracle ? "oracle" : hli_score_name(r.plan.score),
            (double)r.plan.tau, (double)r.plan.merge, r.plan.oracle ? " (true links and densities)" : "");

    /* the features as the model sees them (its feature map); the oracle ignores the model */
    const hl_model *mapper = r.plan.oracle ? NULL : model;
    float *x0 = x_work;
    if (x_work != NULL) {
        if ((st = hli_check_dims("features", n, d, sizeof(float), NULL)) != HL_OK ||
            (st = hli_model_input_in_place(mapper, x_work, n, d)) != HL_OK)
            return st;
    } else if ((x0 = hli_model_input(mapper, x, n, d, &st)) == NULL) {
        return st;
    }
    if (!r.plan.oracle && model != NULL && model->whiten != NULL)
        hli_log(HL_LOG_INFO, "cluster: features mapped by the model's whitening");
    r.x0 = x0;
    hl_knn_options_init(&r.ko, sizeof r.ko);
    r.ko.k = full.k;
    r.ko.method = full.knn_method;
    r.ko.num_threads = full.num_threads;
    r.ko.auto_threshold = full.knn_auto_threshold;
    r.ko.nprobe = full.knn_nprobe;
    r.ko.target_recall = full.knn_target_recall;
    r.ko.seed = full.knn_seed;

    hli_level lv;
    memset(&lv, 0, sizeof lv);
    if ((st = hli_clustering_create(n, &r.c)) != HL_OK)
        goto done;
    if ((st = level0_borrow(&lv, x0, n, d, truth)) != HL_OK)
        goto done;
    if ((r.rep = hli_alloc((size_t)n, sizeof(int64_t))) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        r.rep[i] = i;
    if ((st = cluster_levels(&r, &lv)) != HL_OK)
        goto done;
    if (r.g0 != NULL)
        st = linkage_merge(&r, &lv);
done:
    free(r.rep);
    free(r.dens0);
    if (r.g0 != given0)
        hl_graph_free(r.g0);
    free(r.sc0);
    level_unborrow_free(&lv, x0);
    if (x0 != x_work)
        free(x0);
    if (st != HL_OK) {
        hl_clustering_free(r.c);
        return st;
    }
    *out = r.c;
    return HL_OK;
}

hl_status hl_cluster(const hl_model *model, const float *x, int64_t n, int64_t d, const int64_t *truth,
                     const hl_cluster_options *opts, hl_clustering **out)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = cluster_run_all(model, NULL, x, NULL, n, d, truth, opts, out);
    hli_scope_leave(&scope);
    return st;
}

hl_status hl_cluster_in_place(const hl_model *model, float *x, int64_t n, int64_t d, const int64_t *truth,
                              const hl_cluster_options *opts, hl_clustering **out)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = cluster_run_all(model, NULL, x, x, n, d, truth, opts, out);
    hli_scope_leave(&scope);
    return st;
}

hl_status hl_cluster_from_graph(const hl_model *model, const hl_graph *graph, const float *x, int64_t n, int64_t d,
                                const int64_t *truth, const hl_cluster_options *opts, hl_clustering **out)
{
    if (out != NULL)
        *out = NULL;
    if (graph == NULL)
        return hli_error(HL_EINVAL, "cluster: graph is NULL");
    if (graph->n != n)
        return hli_error(HL_EINVAL, "cluster: the graph has %lld nodes but n = %lld", (long long)graph->n,
                         (long long)n);
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = cluster_run_all(model, graph, x, NULL, n, d, truth, opts, out);
    hli_scope_leave(&scope);
    return st;
}
