/* The linkage merge after the last level (lib/cluster/merge.c, hl_cluster_options.merge). */
#include "hilander.h"
#include "common/internal.h"
#include "cluster/cluster_internal.h"
#include "knn/knn_internal.h"
#include "test_helpers.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Links and merges on a five-node graph, computed by hand:
 * clusters {0, 1}, {2}, {3, 4}; cross edges 2->0 (0.5), 2->1 (0.3), 0->2
 * (0.4): link(A, B) = 1.2 / sqrt(2 * 1); 3->2 (0.2), 2->3 (0.6): link(B, C) =
 * 0.8 / sqrt(1 * 2); no edge between A and C. */
START_TEST(test_links_by_hand)
{
    int64_t off[6] = {0, 2, 4, 6, 8, 9};
    int64_t src[9] = {1, 2, 0, 2, 0, 3, 4, 2, 3};
    float sc[9] = {0.9f, 0.5f, 0.8f, 0.3f, 0.4f, 0.2f, 0.7f, 0.6f, 0.9f};
    hl_graph g;
    memset(&g, 0, sizeof g);
    g.n = 5;
    g.k = 3;
    g.num_edges = 9;
    g.offsets = off;
    g.src = src;
    /* cluster ids need not be compact: 7 ids, 3 used */
    const int64_t label[5] = {4, 4, 1, 6, 6};
    hli_link *links = NULL;
    int64_t nl = -1;
    ck_assert_int_eq(hli_cluster_links(&g, sc, label, 7, &links, &nl), HL_OK);
    ck_assert_int_eq(nl, 2);
    /* sorted by decreasing link, each pair once with a < b */
    ck_assert_int_eq(links[0].a, 1);
    ck_assert_int_eq(links[0].b, 4);
    ck_assert_double_eq_tol(links[0].w, 1.2 / sqrt(2.0), 1e-6);
    ck_assert_int_eq(links[1].a, 1);
    ck_assert_int_eq(links[1].b, 6);
    ck_assert_double_eq_tol(links[1].w, 0.8 / sqrt(2.0), 1e-6);

    int64_t root[7], out[5];
    hli_merge m;
    hli_merge_init(&m, root, 7);
    hli_merge_until(&m, links, nl, 1.2 / sqrt(2.0) + 1e-6); /* above both: nothing */
    ck_assert_int_eq(m.unions, 0);
    hli_merge_until(&m, links, nl, 0.7);
    ck_assert_int_eq(m.unions, 1);
    hli_merge_apply(&m, label, 5, out);
    const int64_t want1[5] = {1, 1, 1, 6, 6}; /* named by the smallest id */
    ck_assert_mem_eq(out, want1, sizeof want1);
    hli_merge_until(&m, links, nl, 0.5); /* the sweep continues where it stopped */
    ck_assert_int_eq(m.unions, 2);
    hli_merge_apply(&m, label, 5, out);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(out[i], 1);
    free(links);

    /* one cluster: no pair */
    const int64_t one[5] = {0, 0, 0, 0, 0};
    ck_assert_int_eq(hli_cluster_links(&g, sc, one, 1, &links, &nl), HL_OK);
    ck_assert_int_eq(nl, 0);
    ck_assert_ptr_null(links);
    /* an id outside [0, num_clusters) is an internal error, not a crash */
    ck_assert_int_eq(hli_cluster_links(&g, sc, label, 5, &links, &nl), HL_EINTERNAL);
}
END_TEST

/* hl_cluster's merge level: the labels before it are untouched, the stats
 * agree with the labels, and the result equals the merge recomputed here
 * from the level-0 graph with shared-neighbour linkage scores, also when the
 * decode used the model's probability. */
START_TEST(test_cluster_merge_level)
{
    const int64_t nc = 6, m = 25, d = 16, n = nc * m, k = 10;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.3, 5, &y);
    hl_model *model = th_untrained_model(d, 16, 9);
    float *xn = NULL;
    hl_graph *g = th_level0_graph(x, n, d, k, &xn);
    float *snn = malloc((size_t)g->num_edges * sizeof(float));
    int64_t *plain = malloc((size_t)n * sizeof(int64_t)), *merged = malloc((size_t)n * sizeof(int64_t));
    int64_t *want = malloc((size_t)n * sizeof(int64_t)), *root = malloc((size_t)n * sizeof(int64_t));
    ck_assert(snn && plain && merged && want && root);
    ck_assert_int_eq(hli_edge_features(g, HL_EDGE_FEAT_SNN, NULL, 0, 1, snn), HL_OK);

    const int32_t scores[2] = {HL_SCORE_SNN, HL_SCORE_PROB};
    const float taus[2] = {0.75f, 0.52f}; /* high: the decode splits the blobs */
    for (int si = 0; si < 2; si++) {
        hl_cluster_options o;
        hl_cluster_options_init(&o, sizeof o);
        ck_assert(o.merge < 0.0f); /* default: the stored / documented threshold */
        o.k = k;
        o.score = scores[si];
        o.tau = taus[si];
        o.num_threads = 1;
        o.merge = 0.0f;
        hl_clustering *c0 = NULL, *c1 = NULL;
        ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c0), HL_OK);
        /* a threshold between two distinct snn links near the median, so
         * that only some candidate pairs are joined: another linkage score
         * would join other pairs */
        ck_assert_int_eq(hl_clustering_labels(c0, -1, plain), HL_OK);
        int64_t before;
        ck_assert_int_eq(hl_clustering_level_stats(c0, -1, NULL, NULL, NULL, &before), HL_OK);
        hli_link *links = NULL;
        int64_t nl = 0, h;
        ck_assert_int_eq(hli_cluster_links(g, snn, plain, before, &links, &nl), HL_OK);
        for (h = nl / 2; h + 1 < nl && !((float)links[h + 1].w < (float)links[h].w - 1e-4f); h++)
            ;
        ck_assert_int_lt(h + 1, nl);
        const float th = (float)(0.5 * (links[h].w + links[h + 1].w));
        o.merge = th;
        ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c1), HL_OK);
        const int32_t L = hl_clustering_num_levels(c0);
        ck_assert_int_eq(hl_clustering_num_levels(c1), L + 1);
        for (int32_t l = 0; l < L; l++) {
            ck_assert_int_eq(hl_clustering_labels(c0, l, plain), HL_OK);
            ck_assert_int_eq(hl_clustering_labels(c1, l, merged), HL_OK);
            ck_assert_mem_eq(plain, merged, (size_t)n * sizeof(int64_t));
        }
        ck_assert_int_eq(hl_clustering_labels(c1, -1, merged), HL_OK);
        int64_t nodes, edges, added, clusters;
        ck_assert_int_eq(hl_clustering_level_stats(c1, L, &nodes, &edges, &added, &clusters), HL_OK);
        ck_assert_int_eq(nodes, before);
        ck_assert_int_gt(added, 0); /* the test is not trivial */
        ck_assert_int_ge(edges, added);
        ck_assert_int_eq(clusters, nodes - added);
        /* the merge recomputed: snn links between the clusters before it */
        ck_assert_int_eq(nl, edges);
        hli_merge mg;
        hli_merge_init(&mg, root, before);
        hli_merge_until(&mg, links, nl, (double)th);
        ck_assert_int_lt(mg.next, nl); /* some candidate pairs stay apart */
        hli_merge_apply(&mg, plain, n, want);
        free(links);
        ck_assert_int_eq(mg.unions, added);
        /* same partition (both maps are functions), and it coarsens the one before */
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i + 1; j < n; j++) {
                ck_assert_int_eq(want[i] == want[j], merged[i] == merged[j]);
                if (plain[i] == plain[j])
                    ck_assert_int_eq(merged[i], merged[j]);
            }
        /* merging the fragments of the blobs raises pairwise recall */
        hl_metrics a, b;
        hl_metrics_init(&a, sizeof a);
        hl_metrics_init(&b, sizeof b);
        ck_assert_int_eq(hl_evaluate(y, plain, n, &a), HL_OK);
        ck_assert_int_eq(hl_evaluate(y, merged, n, &b), HL_OK);
        ck_assert_double_gt(b.pairwise_recall, a.pairwise_recall);
        /* the result does not depend on the thread count */
        o.num_threads = 2;
        hl_clustering *c2 = NULL;
        ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c2), HL_OK);
        ck_assert_int_eq(hl_clustering_labels(c2, -1, want), HL_OK);
        ck_assert_mem_eq(want, merged, (size_t)n * sizeof(int64_t));
        hl_clustering_free(c0);
        hl_clustering_free(c1);
        hl_clustering_free(c2);
    }
    hl_graph_free(g);
    free(snn);
    free(plain);
    free(merged);
    free(want);
    free(root);
    free(xn);
    hl_model_free(model);
    free(x);
    free(y);
}
END_TEST

static int levels_with(const hl_model *model, const float *x, int64_t n, int64_t d, int32_t score, float merge,
                       int64_t *labels)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.score = score;
    o.tau = 0.75f;
    o.merge = merge;
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &c), HL_OK);
    const int L = hl_clustering_num_levels(c);
    ck_assert_int_eq(hl_clustering_labels(c, -1, labels), HL_OK);
    hl_clustering_free(c);
    return L;
}

/* Which threshold applies by default (merge < 0): the model's stored one for
 * its stored score; without it HLI_DEFAULT_MERGE for snn and no merge for
 * sim; a stored 0 turns the merge off. */
START_TEST(test_default_threshold)
{
    const int64_t nc = 6, m = 25, d = 16, n = nc * m;
    int64_t *y;
    float *x = th_blobs(nc, m, d, 0.3, 5, &y);
    int64_t *a = malloc((size_t)n * sizeof(int64_t)), *b = malloc((size_t)n * sizeof(int64_t));
    ck_assert(a && b);
    /* no model */
    ck_assert_int_eq(levels_with(NULL, x, n, d, HL_SCORE_SNN, -1.0f, a), 2);
    ck_assert_int_eq(levels_with(NULL, x, n, d, HL_SCORE_SNN, HLI_DEFAULT_MERGE, b), 2);
    ck_assert_mem_eq(a, b, (size_t)n * sizeof(int64_t));
    ck_assert_int_eq(levels_with(NULL, x, n, d, HL_SCORE_SNN, 0.0f, a), 1);
    ck_assert_int_eq(levels_with(NULL, x, n, d, HL_SCORE_SIM, -1.0f, a), 1);
    /* a model storing score prob and merge 0.5 */
    hl_model *model = th_untrained_model(d, 16, 9);
    ck_assert_int_eq(hl_model_set_cluster_merge(model, 0.5f), HL_OK);
    ck_assert_int_eq(levels_with(model, x, n, d, -1, -1.0f, a), 2);
    ck_assert_int_eq(levels_with(model, x, n, d, -1, 0.5f, b), 2);
    ck_assert_mem_eq(a, b, (size_t)n * sizeof(int64_t));
    ck_assert_int_eq(levels_with(model, x, n, d, -1, 0.0f, a), 1);
    /* another score than the stored one: its own default */
    ck_assert_int_eq(levels_with(model, x, n, d, HL_SCORE_SIM, -1.0f, a), 1);
    ck_assert_int_eq(levels_with(model, x, n, d, HL_SCORE_SNN, -1.0f, a), 2);
    ck_assert_int_eq(levels_with(NULL, x, n, d, HL_SCORE_SNN, HLI_DEFAULT_MERGE, b), 2);
    ck_assert_mem_eq(a, b, (size_t)n * sizeof(int64_t));
    /* a stored 0 is off, also for snn as the stored score */
    ck_assert_int_eq(hl_model_set_cluster_merge(model, 0.0f), HL_OK);
    ck_assert_int_eq(levels_with(model, x, n, d, -1, -1.0f, a), 1);
    ck_assert_int_eq(hl_model_set_cluster_defaults(model, 0.75f, HL_SCORE_SNN), HL_OK);
    ck_assert_int_eq(levels_with(model, x, n, d, -1, -1.0f, a), 1);
    /* bad thresholds */
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    hl_clustering *c = NULL;
    o.merge = NAN;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "merge"));
    o.merge = INFINITY;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_EINVAL);
    ck_assert_ptr_null(c);
    hl_model_free(model);
    free(a);
    free(b);
    free(x);
    free(y);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_links_by_hand);
    tcase_add_test(tc, test_cluster_merge_level);
    tcase_add_test(tc, test_default_threshold);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
