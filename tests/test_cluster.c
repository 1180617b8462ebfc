/* hl_cluster (docs/ALGORITHM.md, "Decode" to "Linkage merge"): synthetic separable clusters, the oracle
 * ceiling on the Omniglot test split, hierarchy invariants, thread-count
 * independence, stopping rules, cancellation and bad input. */
#include "common/internal.h"
#include "cluster/cluster_internal.h"
#include "knn/knn_internal.h"
#include "test_helpers.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static hl_metrics score_final(const hl_clustering *c, const int64_t *y, int64_t n)
{
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    ck_assert_int_eq(hl_clustering_labels(c, -1, lab), HL_OK);
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    ck_assert_int_eq(hl_evaluate(y, lab, n, &m), HL_OK);
    free(lab);
    return m;
}

/* Labels 0..C-1 by first appearance; every level coarsens the previous one;
 * the stats agree with the labels. */
static void check_hierarchy(const hl_clustering *c, int64_t n)
{
    int32_t L = hl_clustering_num_levels(c);
    ck_assert_int_ge(L, 1);
    ck_assert_int_eq(hl_clustering_num_points(c), n);
    int64_t *prev = malloc((size_t)n * sizeof(int64_t)), *cur = malloc((size_t)n * sizeof(int64_t));
    int64_t *map = malloc((size_t)n * sizeof(int64_t));
    int64_t prev_clusters = n;
    for (int32_t l = 0; l < L; l++) {
        ck_assert_int_eq(hl_clustering_labels(c, l, cur), HL_OK);
        int64_t next = 0;
        for (int64_t q = 0; q < n; q++) {
            ck_assert_int_ge(cur[q], 0);
            ck_assert_int_le(cur[q], next);
            if (cur[q] == next)
                next++;
        }
        int64_t nodes, edges, added, clusters;
        ck_assert_int_eq(hl_clustering_level_stats(c, l, &nodes, &edges, &added, &clusters), HL_OK);
        ck_assert_int_eq(clusters, next);
        ck_assert_int_eq(nodes, prev_clusters);      /* this level's nodes = clusters so far */
        ck_assert_int_eq(nodes - added, clusters);   /* every added edge joins two clusters (a forest) */
        if (l > 0) {
            /* coarsening: points together at level l-1 stay together */
            for (int64_t v = 0; v < n; v++)
                map[v] = -1;
            for (int64_t q = 0; q < n; q++) {
                if (map[prev[q]] < 0)
                    map[prev[q]] = cur[q];
                ck_assert_int_eq(map[prev[q]], cur[q]);
            }
        }
        prev_clusters = clusters;
        memcpy(prev, cur, (size_t)n * sizeof(int64_t));
    }
    ck_assert_int_eq(hl_clustering_labels(c, -1, cur), HL_OK);
    for (int64_t q = 0; q < n; q++)
        ck_assert_int_eq(cur[q], prev[q]);
    free(prev);
    free(cur);
    free(map);
}

START_TEST(test_separable_blobs)
{
    const int64_t nc = 25, m = 24, d = 16, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 99, &y);
    for (int32_t s = HL_SCORE_SIM; s <= HL_SCORE_SNN; s++) {
        hl_cluster_options o;
        hl_cluster_options_init(&o, sizeof o);
        o.score = s;
        if (s == HL_SCORE_SIM) {
            /* cosine stays meaningful between peaks: run the whole hierarchy.  (SNN
             * between the few peaks of upper levels is not: that is why its default
             * is one level.) */
            o.max_levels = 10;
            o.early_stop = 0;
        }
        hl_clustering *c = NULL;
        ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
        check_hierarchy(c, n);
        hl_metrics mt = score_final(c, y, n);
        ck_assert_double_ge(mt.pairwise_precision, 0.99); /* never merges separated blobs */
        ck_assert_double_ge(mt.bcubed_f, 0.5);
        hl_clustering_free(c);
    }
    /* the oracle recovers every blob exactly, over levels */
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, y, &o, &c), HL_OK);
    check_hierarchy(c, n);
    hl_metrics mt = score_final(c, y, n);
    ck_assert_double_eq_tol(mt.pairwise_precision, 1.0, 1e-12);
    ck_assert_double_ge(mt.pairwise_recall, 0.9);
    hl_clustering_free(c);
    free(x);
    free(y);
}
END_TEST

/* The bundled Omniglot test split; a missing file fails the test. */
static void load_test_split(float **x, int64_t *n, int64_t *d, int64_t **y)
{
    char p[1024], q[1024];
    snprintf(p, sizeof p, "%s/omniglot/test_features.npy", HL_DATA_DIR);
    snprintf(q, sizeof q, "%s/omniglot/test_labels.npy", HL_DATA_DIR);
    ck_assert_msg(access(p, R_OK) == 0 && access(q, R_OK) == 0, "bundled data missing: %s, %s", p, q);
    int64_t ny;
    ck_assert_int_eq(hl_npy_read_f32(p, x, n, d), HL_OK);
    ck_assert_int_eq(hl_npy_read_labels(q, y, &ny), HL_OK);
    ck_assert_int_eq(ny, *n);
}

START_TEST(test_oracle_omniglot)
{
    float *x;
    int64_t n, d, *y;
    load_test_split(&x, &n, &d, &y);
    /* one level of true links and densities: the level-0 oracle ceiling
     * (docs/perf-cluster.md: pairwise F 0.896, BCubed F 0.902) */
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.max_levels = 1;
    o.knn_method = HL_KNN_EXACT;
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, y, &o, &c), HL_OK);
    hl_metrics m = score_final(c, y, n);
    ck_assert_double_eq_tol(m.pairwise_precision, 1.0, 1e-12);
    ck_assert_double_ge(m.pairwise_f, 0.88);
    ck_assert_double_le(m.pairwise_f, 0.91);
    ck_assert_double_ge(m.bcubed_f, 0.89);
    hl_clustering_free(c);
    /* the hierarchy only merges same-label clusters, and lifts recall */
    o.max_levels = 0;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, y, &o, &c), HL_OK);
    check_hierarchy(c, n);
    hl_metrics m2 = score_final(c, y, n);
    ck_assert_double_eq_tol(m2.pairwise_precision, 1.0, 1e-12);
    ck_assert_double_gt(m2.pairwise_f, m.pairwise_f);
    hl_clustering_free(c);
    /* unsupervised SNN at its default: near the section 8 anchor (0.54 tuned on test) */
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
    m = score_final(c, y, n);
    ck_assert_double_ge(m.pairwise_f, 0.45);
    hl_clustering_free(c);
    hl_free(x);
    hl_free(y);
}
END_TEST

START_TEST(test_threads_identical)
{
    const int64_t nc = 30, m = 20, d = 24, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 5, &y);
    for (int64_t i = 0; i < n * d; i += 7)
        x[i] += 0.3f; /* some overlap, so decisions are not trivial */
    int64_t *a = malloc((size_t)n * sizeof(int64_t)), *b = malloc((size_t)n * sizeof(int64_t));
    for (int32_t s = HL_SCORE_SIM; s <= HL_SCORE_SNN; s++) {
        hl_cluster_options o;
        hl_cluster_options_init(&o, sizeof o);
        o.score = s;
        o.tau = 0.3f;
        o.max_levels = 5;
        o.early_stop = 0;
        hl_clustering *c1 = NULL, *c2 = NULL;
        o.num_threads = 1;
        ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c1), HL_OK);
        o.num_threads = 3;
        ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c2), HL_OK);
        ck_assert_int_eq(hl_clustering_num_levels(c1), hl_clustering_num_levels(c2));
        for (int32_t l = 0; l < hl_clustering_num_levels(c1); l++) {
            hl_clustering_labels(c1, l, a);
            hl_clustering_labels(c2, l, b);
            ck_assert_int_eq(memcmp(a, b, (size_t)n * sizeof(int64_t)), 0);
        }
        hl_clustering_free(c1);
        hl_clustering_free(c2);
    }
    free(a);
    free(b);
    free(x);
    free(y);
}
END_TEST

typedef struct {
    int calls;
    int stop_at;
    int32_t last_level;
} prog_state;

static int progress(int32_t level, int64_t nodes, int64_t added, void *user)
{
    prog_state *p = user;
    ck_assert_int_eq(level, p->calls);
    ck_assert_int_ge(nodes, added);
    p->last_level = level;
    p->calls++;
    return p->calls == p->stop_at;
}

START_TEST(test_stopping_and_progress)
{
    const int64_t nc = 12, m = 15, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 11, &y);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.tau = 0.0f;
    o.score = HL_SCORE_SIM;
    o.max_levels = 10;
    o.early_stop = 0;
    prog_state ps = {0, 0, -1};
    o.progress = progress;
    o.progress_user = &ps;
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
    int32_t L = hl_clustering_num_levels(c);
    ck_assert_int_eq(ps.calls, L);
    /* stops at the first of: no edge added, or a next level with <= k nodes */
    int64_t nodes, added, clusters;
    hl_clustering_level_stats(c, L - 1, &nodes, NULL, &added, &clusters);
    ck_assert(added == 0 || clusters <= o.k || L == o.max_levels);
    for (int32_t l = 0; l + 1 < L; l++) {
        hl_clustering_level_stats(c, l, &nodes, NULL, &added, &clusters);
        ck_assert_int_gt(added, 0);
        ck_assert_int_gt(clusters, o.k);
    }
    hl_clustering_free(c);
    /* the level limit */
    o.max_levels = 1;
    ps.calls = 0;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(hl_clustering_num_levels(c), 1);
    hl_clustering_free(c);
    /* cancellation */
    o.max_levels = 10;
    ps.calls = 0;
    ps.stop_at = 1;
    c = (hl_clustering *)&ps; /* must be reset to NULL */
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_ECANCELED);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "cancel"));
    free(x);
    free(y);
}
END_TEST

START_TEST(test_bad_input)
{
    const int64_t n = 40, d = 4;
    float x[160];
    for (int i = 0; i < 160; i++)
        x[i] = (float)((i * 37) % 11) - 5.0f;
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, NULL, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, NULL), HL_EINVAL);
    o.k = 40;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "k = 40"));
    o.k = 10;
    o.tau = 1.5f;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "tau"));
    o.tau = NAN;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "tau"));
    o.tau = -1.0f;
    o.score = HL_SCORE_PROB;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "model"));
    o.score = 7;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "score"));
    o.score = -1;
    o.max_levels = -2;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "max_levels"));
    o.max_levels = 0;
    o.struct_size = 3;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "struct_size"));
    hl_cluster_options_init(&o, sizeof o);
    float y[160];
    memcpy(y, x, sizeof y);
    y[4 * 17 + 2] = NAN;
    ck_assert_int_eq(hl_cluster(NULL, y, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "row 17"));
    memcpy(y, x, sizeof y);
    memset(y + 4 * 23, 0, 4 * sizeof(float));
    ck_assert_int_eq(hl_cluster(NULL, y, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "row 23"));
    ck_assert_ptr_null(c);
    /* a model of another feature dimension */
    hl_model *model = th_untrained_model(2 * d, 16, 1);
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "model"));
    hl_model_free(model);
    /* accessors */
    int64_t lab[1];
    ck_assert_int_eq(hl_clustering_labels(NULL, 0, lab), HL_EINVAL);
    ck_assert_int_eq(hl_clustering_level_stats(NULL, 0, NULL, NULL, NULL, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_clustering_num_levels(NULL), 0);
    ck_assert_int_eq(hl_clustering_num_points(NULL), 0);
    hl_clustering_free(NULL);
    o.max_levels = 1;
    o.merge = 0.0f; /* no linkage-merge level */
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(hl_clustering_labels(c, 1, lab), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "level = 1"));
    ck_assert_int_eq(hl_clustering_labels(c, 0, NULL), HL_EINVAL);
    hl_clustering_free(c);
}
END_TEST

/* Level 0 of the normalised rows @p xn as hl_cluster sees it (for
 * hli_level_scores; it borrows xn). */
static hli_level level0_view(float *xn, int64_t n, int64_t d)
{
    hli_level lv;
    memset(&lv, 0, sizeof lv);
    lv.n = lv.n_points = n;
    lv.d = d;
    lv.x = lv.c = xn;
    return lv;
}

/* The trainer's tau selection (lib/train/cluster_defaults.c, tau_curve) replaces one-level
 * hl_cluster runs by hli_level_scores + hl_decode on a graph built once:
 * that must give the same partition as hl_cluster for every score it uses. */
START_TEST(test_one_level_equals_decode)
{
    const int64_t nc = 8, m = 15, d = 8, n = nc * m, k = 10;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 11, &y);
    hl_model *model = th_untrained_model(d, 16, 5);
    float *xn = NULL;
    hl_graph *g = th_level0_graph(x, n, d, k, &xn);
    hli_level lv = level0_view(xn, n, d);
    float *sc = malloc((size_t)g->num_edges * sizeof(float)), *dens = malloc((size_t)n * sizeof(float));
    int64_t *a = malloc((size_t)n * sizeof(int64_t)), *b = malloc((size_t)n * sizeof(int64_t));
    int64_t *map = malloc((size_t)(2 * n) * sizeof(int64_t));
    ck_assert(sc && dens && a && b && map);
    const int32_t scores[2] = {HL_SCORE_PROB, HL_SCORE_SNN};
    const float taus[3] = {0.1f, 0.45f, 0.6f};
    int merged = 0;
    for (int si = 0; si < 2; si++) {
        ck_assert_int_eq(hli_level_scores(si == 0 ? model : NULL, &lv, g, scores[si], 0, 1, sc, dens), HL_OK);
        for (int ti = 0; ti < 3; ti++) {
            hl_cluster_options o;
            hl_cluster_options_init(&o, sizeof o);
            o.k = k;
            o.score = scores[si];
            o.tau = taus[ti];
            o.merge = 0.0f; /* the trainer merges after the decode (tests/test_merge.c) */
            hl_clustering *c = NULL;
            ck_assert_int_eq(hl_cluster(si == 0 ? model : NULL, x, n, d, NULL, &o, &c), HL_OK);
            ck_assert_int_eq(hl_clustering_num_levels(c), 1); /* the automatic limit the trainer relies on */
            ck_assert_int_eq(hl_clustering_labels(c, -1, a), HL_OK);
            hl_clustering_free(c);
            ck_assert_int_eq(hl_decode(g, sc, dens, taus[ti], NULL, b), HL_OK);
            /* same partition: the label maps a -> b and b -> a are both functions */
            for (int64_t i = 0; i < 2 * n; i++)
                map[i] = -1;
            for (int64_t i = 0; i < n; i++) {
                ck_assert(a[i] >= 0 && a[i] < n && b[i] >= 0 && b[i] < n);
                if (map[a[i]] < 0)
                    map[a[i]] = b[i];
                if (map[n + b[i]] < 0)
                    map[n + b[i]] = a[i];
                ck_assert_int_eq(map[a[i]], b[i]);
                ck_assert_int_eq(map[n + b[i]], a[i]);
            }
            for (int64_t i = 0; i < n; i++)
                merged += b[i] != i;
        }
    }
    ck_assert_int_gt(merged, 0); /* not all singletons: the comparison saw real trees */
    free(sc);
    free(dens);
    free(a);
    free(b);
    free(map);
    free(xn);
    free(x);
    free(y);
    hl_graph_free(g);
    hl_model_free(model);
}
END_TEST

static char g_ivf_log[512];
static int g_ivf_lines;
static void ivf_log(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    if (strncmp(msg, "knn ivf:", 8) == 0) {
        g_ivf_lines++;
        snprintf(g_ivf_log, sizeof g_ivf_log, "%s", msg);
    }
}

/* The approximate search's parameters reach every level's kNN graph: an
 * exhaustive IVF (every cell probed) gives the exact graph, hence the exact
 * clustering; a knn_nlist above a level's node count falls back to the
 * automatic count; bad values are refused by name. */
START_TEST(test_knn_options_pass_through)
{
    const int64_t nc = 8, m = 15, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 21, &y);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    ck_assert_int_eq(o.knn_auto_threshold, 50000);
    ck_assert_int_eq(o.knn_nlist, 0);
    ck_assert_int_eq(o.knn_nprobe, 0);
    ck_assert(o.knn_target_recall == 0.97);
    o.max_levels = 3;
    o.early_stop = 0;
    o.tau = 0.2f;
    o.merge = 0.0f; /* every level runs a kNN search */
    hl_clustering *ce = NULL, *ca = NULL;
    o.knn_method = HL_KNN_EXACT;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &ce), HL_OK);
    o.knn_method = HL_KNN_APPROX;
    o.knn_nlist = 8;
    o.knn_nprobe = 8; /* every cell: exhaustive */
    g_ivf_lines = 0;
    hl_set_log_callback(ivf_log, NULL, HL_LOG_INFO);
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &ca), HL_OK);
    hl_set_log_callback(NULL, NULL, HL_LOG_INFO);
    /* the search ran with the caller's cells and probes at every level */
    ck_assert_int_eq(g_ivf_lines, hl_clustering_num_levels(ca));
    ck_assert_msg(strstr(g_ivf_log, "nlist = 8,") && strstr(g_ivf_log, "nprobe = 8") &&
                      !strstr(g_ivf_log, "calibrated"),
                  "%s", g_ivf_log);
    ck_assert_int_eq(hl_clustering_num_levels(ce), hl_clustering_num_levels(ca));
    ck_assert_int_gt(hl_clustering_num_levels(ce), 1); /* levels above 0 saw the options too */
    int64_t *a = malloc((size_t)n * sizeof(int64_t)), *b = malloc((size_t)n * sizeof(int64_t));
    ck_assert(a && b);
    for (int32_t l = 0; l < hl_clustering_num_levels(ce); l++) {
        ck_assert_int_eq(hl_clustering_labels(ce, l, a), HL_OK);
        ck_assert_int_eq(hl_clustering_labels(ca, l, b), HL_OK);
        ck_assert_mem_eq(a, b, (size_t)n * sizeof(int64_t));
    }
    hl_clustering_free(ce);
    hl_clustering_free(ca);
    /* nlist larger than the level: the automatic count instead of an error */
    o.knn_nlist = n + 5;
    o.knn_nprobe = 0;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &ca), HL_OK);
    hl_clustering_free(ca);
    ca = NULL;
    o.knn_nlist = 0;
    o.knn_nprobe = -1;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &ca), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "knn_nprobe"));
    o.knn_nprobe = 0;
    o.knn_target_recall = 0.0;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &ca), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "knn_target_recall"));
    ck_assert_ptr_null(ca);
    free(a);
    free(b);
    free(x);
    free(y);
}
END_TEST

/* Two clusterings of the same n points have the same number of levels and
 * the same final labels. */
static void assert_same_result(const hl_clustering *c, const hl_clustering *e, int64_t n)
{
    ck_assert_int_eq(hl_clustering_num_levels(c), hl_clustering_num_levels(e));
    int64_t *a = malloc((size_t)n * sizeof(int64_t)), *b = malloc((size_t)n * sizeof(int64_t));
    ck_assert(a && b);
    ck_assert_int_eq(hl_clustering_labels(c, -1, a), HL_OK);
    ck_assert_int_eq(hl_clustering_labels(e, -1, b), HL_OK);
    ck_assert_mem_eq(a, b, (size_t)n * sizeof(int64_t));
    free(a);
    free(b);
}

/* Bring your own neighbours: hl_cluster_from_graph with the graph made from
 * the lists our own search returns (hl_knn_search -> hl_graph_from_neighbors)
 * gives hl_cluster's result, every level and the merge included. */
START_TEST(test_from_graph_equals_cluster)
{
    const int64_t nc = 8, m = 15, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 23, &y);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = 6;
    o.max_levels = 3;
    o.early_stop = 0;
    o.tau = 0.2f;
    o.knn_method = HL_KNN_EXACT;
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = o.k;
    ko.method = HL_KNN_EXACT;
    int64_t *nb = malloc((size_t)(n * o.k) * sizeof(int64_t));
    float *sm = malloc((size_t)(n * o.k) * sizeof(float));
    ck_assert(nb && sm);
    ck_assert_int_eq(hl_knn_search(x, n, d, &ko, nb, sm), HL_OK);
    hl_graph *g = NULL;
    ck_assert_int_eq(hl_graph_from_neighbors(nb, sm, n, o.k, &g), HL_OK);
    hl_clustering *a = NULL, *b = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &a), HL_OK);
    ck_assert_int_eq(hl_cluster_from_graph(NULL, g, x, n, d, NULL, &o, &b), HL_OK);
    ck_assert_int_gt(hl_clustering_num_levels(a), 2); /* levels above 0 and the merge ran */
    assert_same_result(a, b, n);
    hl_clustering_free(a);
    hl_clustering_free(b);
    /* the graph must have n nodes and be given */
    b = NULL;
    ck_assert_int_eq(hl_cluster_from_graph(NULL, g, x, n - 1, d, NULL, &o, &b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "nodes"));
    ck_assert_int_eq(hl_cluster_from_graph(NULL, NULL, x, n, d, NULL, &o, &b), HL_EINVAL);
    ck_assert_ptr_null(b);
    hl_graph_free(g);
    free(nb);
    free(sm);
    free(x);
    free(y);
}
END_TEST

/* Duplicates (issue: 1,000 identical rows gave 1,000 clusters under sim and
 * 2 with a model): every copy of a row ends in one cluster with its twins,
 * under every score and with a model, and distinct rows are not swept in. */
START_TEST(test_duplicates_join)
{
    const int64_t groups = 5, copies = 40, d = 8, n = groups * copies;
    float *x = malloc((size_t)(n * d) * sizeof(float));
    ck_assert_ptr_nonnull(x);
    hli_rng r;
    hli_rng_seed(&r, 5);
    float base[5][8];
    for (int g = 0; g < groups; g++)
        for (int q = 0; q < d; q++)
            base[g][q] = (float)(hli_rng_uniform(&r) * 2 - 1);
    for (int64_t p = 0; p < n; p++) /* copies interleaved: row p is a copy of group p % groups */
        memcpy(x + p * d, base[p % groups], (size_t)d * sizeof(float));
    hl_model *model = th_untrained_model(d, 16, 3);
    const int32_t scores[3] = {HL_SCORE_SIM, HL_SCORE_SNN, HL_SCORE_PROB};
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    ck_assert_ptr_nonnull(lab);
    for (int t = 0; t < 3; t++) {
        hl_cluster_options o;
        hl_cluster_options_init(&o, sizeof o);
        o.score = scores[t];
        o.tau = 0.999f; /* no ordinary edge passes: only the tie rule can join */
        o.merge = 0.0f;
        hl_clustering *c = NULL;
        ck_assert_int_eq(hl_cluster(scores[t] == HL_SCORE_PROB ? model : NULL, x, n, d, NULL, &o, &c), HL_OK);
        ck_assert_int_eq(hl_clustering_labels(c, 0, lab), HL_OK);
        for (int64_t p = 0; p < n; p++)
            ck_assert_msg(lab[p] == lab[p % groups], "score %d: copy %lld of group %lld is in cluster %lld, not %lld",
                          (int)scores[t], (long long)p, (long long)(p % groups), (long long)lab[p],
                          (long long)lab[p % groups]);
        for (int g = 1; g < groups; g++)
            ck_assert_int_ne(lab[g], lab[0]);
        hl_clustering_free(c);
    }
    free(lab);
    hl_model_free(model);
    free(x);
}
END_TEST

/* num_threads is the budget of every loop in the call, also in functions that
 * take no thread count (seen from the progress callback, which runs on the
 * calling thread inside the call), and the caller's OpenBLAS thread setting
 * is what it was after the call (hl_model_predict runs the GEMMs on all
 * cores for thread-count independent results). */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

static int budget_seen;
static int budget_progress(int32_t level, int64_t nodes, int64_t added, void *user)
{
    (void)level;
    (void)nodes;
    (void)added;
    (void)user;
    budget_seen = hli_threads(0);
    return 0;
}

START_TEST(test_threads_budget_and_blas_restored)
{
    const int64_t nc = 6, m = 20, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 29, &y);
    hl_model *model = th_untrained_model(d, 16, 4);
    ck_assert_int_ge(hli_machine_threads(), 1);
    if (openblas_set_num_threads)
        openblas_set_num_threads(1);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.score = HL_SCORE_PROB;
    o.num_threads = 3;
    o.progress = budget_progress;
    budget_seen = 0;
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(budget_seen, 3);
    ck_assert_int_eq(hli_threads(0), hli_machine_threads()); /* no budget left behind */
    if (openblas_get_num_threads)
        ck_assert_int_eq(openblas_get_num_threads(), 1);
    hl_clustering_free(c);
    hl_model_free(model);
    free(x);
    free(y);
}
END_TEST

/* Per point and per cluster (issue: confidences and representatives):
 * at level 0 the representative of a cluster is its decode peak and a
 * point's confidence the score of the edge to its decode parent, both checked
 * against hl_decode on the same graph and scores; at every level, sizes count
 * the labels, every representative lies in its cluster, confidences are in
 * [0, 1]. */
START_TEST(test_confidence_and_representatives)
{
    const int64_t nc = 8, m = 15, d = 8, n = nc * m, k = 10;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.3, 31, &y);
    float *xn = NULL;
    hl_graph *g = th_level0_graph(x, n, d, k, &xn);
    hli_level lv = level0_view(xn, n, d);
    float *sc = malloc((size_t)g->num_edges * sizeof(float)), *dens = malloc((size_t)n * sizeof(float));
    float *conf = malloc((size_t)n * sizeof(float));
    int64_t *parent = malloc((size_t)n * sizeof(int64_t)), *peak = malloc((size_t)n * sizeof(int64_t));
    int64_t *lab = malloc((size_t)n * sizeof(int64_t)), *size = malloc((size_t)n * sizeof(int64_t));
    int64_t *rep = malloc((size_t)n * sizeof(int64_t)), *count = malloc((size_t)n * sizeof(int64_t));
    ck_assert(sc && dens && conf && parent && peak && lab && size && rep && count);
    ck_assert_int_eq(hli_level_scores(NULL, &lv, g, HL_SCORE_SNN, 0, 1, sc, dens), HL_OK);
    ck_assert_int_eq(hl_decode(g, sc, dens, 0.45f, parent, peak), HL_OK);

    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = k;
    o.score = HL_SCORE_SNN;
    o.tau = 0.45f;
    o.max_levels = 3;
    o.early_stop = 0;
    o.merge = 1.0f;
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(hl_clustering_confidence(c, conf), HL_OK);
    int peaks = 0;
    for (int64_t i = 0; i < n; i++) {
        float want = 1.0f;
        for (int64_t e = g->offsets[i]; parent[i] >= 0 && e < g->offsets[i + 1]; e++)
            if (g->src[e] == parent[i]) {
                want = sc[e];
                break;
            }
        ck_assert_float_eq(conf[i], want);
        ck_assert(conf[i] >= 0.0f && conf[i] <= 1.0f);
        peaks += parent[i] < 0;
    }
    ck_assert_int_gt(peaks, nc - 1);
    const int32_t levels = hl_clustering_num_levels(c);
    ck_assert_int_ge(levels, 2);
    for (int32_t l = 0; l < levels; l++) {
        int64_t ncl = 0;
        ck_assert_int_eq(hl_clustering_level_stats(c, l, NULL, NULL, NULL, &ncl), HL_OK);
        ck_assert_int_eq(hl_clustering_labels(c, l, lab), HL_OK);
        ck_assert_int_eq(hl_clustering_clusters(c, l, size, rep), HL_OK);
        memset(count, 0, (size_t)n * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) {
            ck_assert(lab[i] >= 0 && lab[i] < ncl);
            count[lab[i]]++;
        }
        for (int64_t q = 0; q < ncl; q++) {
            ck_assert_int_eq(size[q], count[q]);
            ck_assert(rep[q] >= 0 && rep[q] < n);
            ck_assert_int_eq(lab[rep[q]], q); /* the representative is a member */
        }
        if (l == 0) /* the decode peak of the tree */
            for (int64_t i = 0; i < n; i++)
                ck_assert_int_eq(rep[lab[i]], peak[i]);
    }
    ck_assert_int_eq(hl_clustering_clusters(c, levels, size, rep), HL_EINVAL);
    ck_assert_int_eq(hl_clustering_confidence(c, NULL), HL_EINVAL);
    hl_clustering_free(c);
    hl_graph_free(g);
    free(xn);
    free(sc);
    free(dens);
    free(conf);
    free(parent);
    free(peak);
    free(lab);
    free(size);
    free(rep);
    free(count);
    free(x);
    free(y);
}
END_TEST

/* A model's stored level limit is hl_cluster's automatic limit when the
 * model's stored score is used (lib/cluster/cluster.c); 0 = one level. */
START_TEST(test_model_stored_levels)
{
    const int64_t nc = 10, m = 12, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 3, &y);
    hl_model *model = th_untrained_model(d, 16, 42);
    /* the stored score is snn here: its levels are predictable on blobs */
    ck_assert_int_eq(hl_model_set_cluster_defaults(model, 0.45f, HL_SCORE_SNN), HL_OK);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.early_stop = 0;
    hl_clustering *c = NULL, *e = NULL;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(hl_clustering_num_levels(c), 1); /* nothing stored: one level */
    hl_clustering_free(c);
    ck_assert_int_eq(hl_model_set_cluster_levels(model, 3), HL_OK);
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c), HL_OK);
    o.max_levels = 3;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &e), HL_OK);
    ck_assert_int_gt(hl_clustering_num_levels(e), 1); /* the comparison below is not trivial */
    assert_same_result(c, e, n);
    hl_clustering_free(c);
    hl_clustering_free(e);
    /* another score than the stored one: its own automatic limit */
    o.max_levels = 0;
    o.score = HL_SCORE_SIM;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(hl_clustering_num_levels(c), 1);
    hl_clustering_free(c);
    hl_model_free(model);
    free(x);
    free(y);
}
END_TEST

START_TEST(test_with_model)
{
    /* an untrained model: checks the PROB path end to end (shapes, defaults,
     * hierarchy invariants, thread independence), not quality */
    const int64_t nc = 10, m = 12, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.05, 3, &y);
    hl_model *model = th_untrained_model(d, 16, 42);
    ck_assert_int_eq(hl_model_set_cluster_defaults(model, 0.3f, HL_SCORE_PROB), HL_OK);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.early_stop = 0;
    hl_clustering *c1 = NULL, *c2 = NULL;
    o.num_threads = 1;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c1), HL_OK);
    check_hierarchy(c1, n);
    o.num_threads = 2;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c2), HL_OK);
    assert_same_result(c1, c2, n);
    hl_clustering_free(c1);
    hl_clustering_free(c2);
    /* tau 1: no edge can pass (p <= 1), every point stays alone after one level */
    o.tau = 1.0f;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c1), HL_OK);
    ck_assert_int_eq(hl_clustering_num_levels(c1), 1);
    int64_t added;
    hl_clustering_level_stats(c1, 0, NULL, NULL, &added, NULL);
    ck_assert_int_eq(added, 0);
    hl_clustering_free(c1);
    /* the model's other scores still work with a model */
    o.tau = -1.0f;
    o.score = HL_SCORE_SNN;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c1), HL_OK);
    check_hierarchy(c1, n);
    hl_clustering_free(c1);
    hl_model_free(model);
    free(x);
    free(y);
}
END_TEST

/* hl_cluster_in_place: the same result as hl_cluster, x left holding the
 * rows as the model sees them (hl_model_transform's), and untouched when a
 * row is bad. */
START_TEST(test_in_place)
{
    const int64_t nc = 12, m = 15, d = 8, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.3, 21, &y);
    float *w = malloc((size_t)(d * d) * sizeof *w), *xt = malloc((size_t)(n * d) * sizeof *xt);
    float *xw = malloc((size_t)(n * d) * sizeof *xw);
    ck_assert(w && xt && xw);
    /* a model whose feature map is a fixed non-orthogonal linear map */
    hl_model *model = th_untrained_model(d, 16, 9);
    for (int64_t a = 0; a < d; a++)
        for (int64_t b = 0; b < d; b++)
            w[a * d + b] = a == b ? 1.0f + 0.1f * (float)a : (b < a ? 0.05f * (float)(a - b) : 0.0f);
    ck_assert_int_eq(hl_model_set_whitening(model, w), HL_OK);
    ck_assert_int_eq(hl_model_transform(model, x, n, d, xt), HL_OK);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.score = HL_SCORE_SNN;
    const hl_model *models[2] = {NULL, model};
    for (int u = 0; u < 2; u++) {
        hl_clustering *c1 = NULL, *c2 = NULL;
        ck_assert_int_eq(hl_cluster(models[u], x, n, d, NULL, &o, &c1), HL_OK);
        memcpy(xw, x, (size_t)(n * d) * sizeof *xw);
        ck_assert_int_eq(hl_cluster_in_place(models[u], xw, n, d, NULL, &o, &c2), HL_OK);
        assert_same_result(c1, c2, n);
        for (int64_t i = 0; i < n; i++) {
            double ss = 0.0, nn = 0.0;
            for (int64_t t = 0; t < d; t++) {
                ss += (double)x[i * d + t] * x[i * d + t];
                nn += (double)xw[i * d + t] * xw[i * d + t];
            }
            ck_assert(fabs(nn - 1.0) < 1e-5);
            for (int64_t t = 0; t < d; t++)
                if (u == 0)
                    ck_assert_float_eq(xw[i * d + t], (float)(x[i * d + t] * (1.0 / sqrt(ss))));
                else
                    ck_assert_float_eq(xw[i * d + t], xt[i * d + t]);
        }
        hl_clustering_free(c1);
        hl_clustering_free(c2);
    }
    /* a zero row, a NaN, a bad k: an error and the rows as they were */
    const int64_t bad_row[3] = {n - 1, 3, -1};
    for (int b = 0; b < 3; b++) {
        memcpy(xw, x, (size_t)(n * d) * sizeof *xw);
        hl_cluster_options ob = o;
        if (b == 0)
            memset(xw + bad_row[b] * d, 0, (size_t)d * sizeof *xw);
        else if (b == 1)
            xw[bad_row[b] * d + 2] = NAN;
        else
            ob.k = n;
        float *keep = malloc((size_t)(n * d) * sizeof *keep);
        ck_assert_ptr_nonnull(keep);
        memcpy(keep, xw, (size_t)(n * d) * sizeof *keep);
        hl_clustering *c = NULL;
        ck_assert_int_eq(hl_cluster_in_place(model, xw, n, d, NULL, &ob, &c), HL_EINVAL);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(memcmp(keep, xw, (size_t)(n * d) * sizeof *xw), 0);
        free(keep);
    }
    hl_model_free(model);
    free(w);
    free(xt);
    free(xw);
    free(x);
    free(y);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_separable_blobs);
    tcase_add_test(tc, test_oracle_omniglot);
    tcase_add_test(tc, test_threads_identical);
    tcase_add_test(tc, test_stopping_and_progress);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_with_model);
    tcase_add_test(tc, test_one_level_equals_decode);
    tcase_add_test(tc, test_knn_options_pass_through);
    tcase_add_test(tc, test_model_stored_levels);
    tcase_add_test(tc, test_from_graph_equals_cluster);
    tcase_add_test(tc, test_duplicates_join);
    tcase_add_test(tc, test_threads_budget_and_blas_restored);
    tcase_add_test(tc, test_confidence_and_representatives);
    tcase_add_test(tc, test_in_place);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
