/* Decode and hierarchy levels (docs/ALGORITHM.md, "Decode", "The hierarchy") on graphs
 * built by hand, against hand-computed results and invariants. */
#include "cluster/cluster_internal.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A graph from per-node in-edge lists (CSR by destination). */
static hl_graph *make_graph(int64_t n, const int64_t *offsets, const int64_t *src, const float *sim)
{
    hl_graph *g = calloc(1, sizeof(*g));
    g->n = n;
    g->k = 1;
    g->num_edges = offsets[n];
    g->offsets = malloc((size_t)(n + 1) * sizeof(int64_t));
    memcpy(g->offsets, offsets, (size_t)(n + 1) * sizeof(int64_t));
    size_t e = (size_t)(offsets[n] > 0 ? offsets[n] : 1);
    g->src = malloc(e * sizeof(int64_t));
    g->sim = malloc(e * sizeof(float));
    g->aff = malloc(e * sizeof(float));
    if (offsets[n] > 0) {
        memcpy(g->src, src, (size_t)offsets[n] * sizeof(int64_t));
        memcpy(g->sim, sim, (size_t)offsets[n] * sizeof(float));
        memcpy(g->aff, sim, (size_t)offsets[n] * sizeof(float));
    }
    for (int64_t i = 0; i < n; i++)
        if (offsets[i + 1] - offsets[i] + 1 > g->k)
            g->k = offsets[i + 1] - offsets[i] + 1;
    return g;
}

static void free_graph(hl_graph *g)
{
    free(g->offsets);
    free(g->src);
    free(g->sim);
    free(g->aff);
    free(g);
}

/* node:        0          1           2          3          4          5
 * in-edges:  1:.9 2:.5  0:.9 2:.95  1:.95 0:.5  5:.7 4:.7  3:.7 5:.2  3:.7 4:.2 */
static const int64_t H_OFF[] = {0, 2, 4, 6, 8, 10, 12};
static const int64_t H_SRC[] = {1, 2, 0, 2, 1, 0, 5, 4, 3, 5, 3, 4};
static const float H_SCORE[] = {0.9f, 0.5f, 0.9f, 0.95f, 0.95f, 0.5f, 0.7f, 0.7f, 0.7f, 0.2f, 0.7f, 0.2f};
static const float H_DENS[] = {0.5f, 0.8f, 0.9f, 0.3f, 0.6f, 0.6f};

START_TEST(test_decode_hand)
{
    hl_graph *g = make_graph(6, H_OFF, H_SRC, H_SCORE);
    int64_t parent[6], labels[6];
    ck_assert_int_eq(hl_decode(g, H_SCORE, H_DENS, 0.4f, parent, labels), HL_OK);
    /* 0: both in-edges denser and above tau, best score .9 -> 1; 1: only 2 is denser -> 2;
     * 2: peak; 3: tie .7 between 5 and 4 -> smaller index 4; 4, 5: equal density never links */
    const int64_t ep[6] = {1, 2, -1, 4, -1, -1}, el[6] = {2, 2, 2, 4, 4, 5};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(parent[i], ep[i]);
        ck_assert_int_eq(labels[i], el[i]);
    }
    /* tau = 0.9: strictly greater, so .9 is dropped */
    ck_assert_int_eq(hl_decode(g, H_SCORE, H_DENS, 0.9f, parent, labels), HL_OK);
    const int64_t ep2[6] = {-1, 2, -1, -1, -1, -1}, el2[6] = {0, 2, 2, 3, 4, 5};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(parent[i], ep2[i]);
        ck_assert_int_eq(labels[i], el2[i]);
    }
    /* labels only, parent only */
    int64_t l2[6];
    ck_assert_int_eq(hl_decode(g, H_SCORE, H_DENS, 0.4f, NULL, l2), HL_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(l2[i], el[i]);
    ck_assert_int_eq(hl_decode(g, H_SCORE, H_DENS, 0.4f, parent, NULL), HL_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(parent[i], ep[i]);
    free_graph(g);
}
END_TEST

START_TEST(test_decode_chain_and_no_edges)
{
    /* a chain 0 <- 1 <- 2 <- ... <- 9 (edge j -> i with j = i+1), density increasing with index */
    int64_t off[11], src[9];
    float sc[9], dens[10];
    off[0] = 0;
    for (int i = 0; i < 10; i++) {
        off[i + 1] = off[i] + (i < 9);
        if (i < 9) {
            src[i] = i + 1;
            sc[i] = 0.5f;
        }
        dens[i] = (float)i;
    }
    hl_graph *g = make_graph(10, off, src, sc);
    int64_t parent[10], labels[10];
    ck_assert_int_eq(hl_decode(g, sc, dens, 0.0f, parent, labels), HL_OK);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(parent[i], i < 9 ? i + 1 : -1);
        ck_assert_int_eq(labels[i], 9);
    }
    /* reversed density: nothing is kept */
    for (int i = 0; i < 10; i++)
        dens[i] = (float)-i;
    ck_assert_int_eq(hl_decode(g, sc, dens, 0.0f, parent, labels), HL_OK);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(parent[i], -1);
        ck_assert_int_eq(labels[i], i);
    }
    free_graph(g);
}
END_TEST

START_TEST(test_decode_invariants_random)
{
    hli_rng rng;
    hli_rng_seed(&rng, 7);
    const int64_t n = 2000, kin = 9;
    int64_t *off = malloc((size_t)(n + 1) * sizeof(int64_t)), *src = malloc((size_t)(n * kin) * sizeof(int64_t));
    float *sc = malloc((size_t)(n * kin) * sizeof(float)), *dens = malloc((size_t)n * sizeof(float));
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t m = (int64_t)hli_rng_below(&rng, (uint64_t)kin + 1);
        off[i + 1] = off[i] + m;
        for (int64_t t = 0; t < m; t++) {
            int64_t j;
            do
                j = (int64_t)hli_rng_below(&rng, (uint64_t)n);
            while (j == i);
            src[off[i] + t] = j;
            sc[off[i] + t] = (float)((int)(hli_rng_uniform(&rng) * 8)) / 8.0f; /* many ties */
        }
        dens[i] = (float)((int)(hli_rng_uniform(&rng) * 50)) / 50.0f; /* equal densities too */
    }
    hl_graph *g = make_graph(n, off, src, sc);
    int64_t *parent = malloc((size_t)n * sizeof(int64_t)), *labels = malloc((size_t)n * sizeof(int64_t));
    for (int trial = 0; trial < 3; trial++) {
        float tau = 0.2f * (float)trial;
        ck_assert_int_eq(hl_decode(g, sc, dens, tau, parent, labels), HL_OK);
        for (int64_t i = 0; i < n; i++) {
            /* parent is the best eligible in-edge (largest score, then smallest source) */
            int64_t best = -1;
            float bs = 0;
            for (int64_t e = off[i]; e < off[i + 1]; e++) {
                int64_t j = src[e];
                if (dens[j] > dens[i] && sc[e] > tau && (best < 0 || sc[e] > bs || (sc[e] == bs && j < best))) {
                    best = j;
                    bs = sc[e];
                }
            }
            ck_assert_int_eq(parent[i], best);
            if (parent[i] >= 0)
                ck_assert(dens[parent[i]] > dens[i]); /* density strictly increases toward roots */
            /* label = root reached by following parents; roots are peaks (no parent) */
            int64_t r = i, steps = 0;
            while (parent[r] >= 0) {
                r = parent[r];
                ck_assert(++steps <= n);
            }
            ck_assert_int_eq(labels[i], r);
            ck_assert_int_eq(parent[labels[i]], -1);
            ck_assert_int_eq(labels[labels[i]], labels[i]); /* a partition named by its peaks */
        }
    }
    free(parent);
    free(labels);
    free(off);
    free(src);
    free(sc);
    free(dens);
    free_graph(g);
}
END_TEST

START_TEST(test_decode_bad_input)
{
    hl_graph *g = make_graph(6, H_OFF, H_SRC, H_SCORE);
    int64_t labels[6];
    ck_assert_int_eq(hl_decode(NULL, H_SCORE, H_DENS, 0.4f, NULL, labels), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "graph"));
    ck_assert_int_eq(hl_decode(g, NULL, H_DENS, 0.4f, NULL, labels), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "score"));
    ck_assert_int_eq(hl_decode(g, H_SCORE, NULL, 0.4f, NULL, labels), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "density"));
    ck_assert_int_eq(hl_decode(g, H_SCORE, H_DENS, NAN, NULL, labels), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "tau"));
    float dens[6];
    memcpy(dens, H_DENS, sizeof(dens));
    dens[3] = NAN;
    ck_assert_int_eq(hl_decode(g, H_SCORE, dens, 0.4f, NULL, labels), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "density[3]"));
    float sc[12];
    memcpy(sc, H_SCORE, sizeof(sc));
    sc[7] = NAN;
    ck_assert_int_eq(hl_decode(g, sc, H_DENS, 0.4f, NULL, labels), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "score[7]"));
    free_graph(g);
}
END_TEST

/* ---- hierarchy ----------------------------------------------------------- */

START_TEST(test_hierarchy_hand)
{
    /* 5 points in 2-D (already unit length) with labels */
    const float x[10] = {1, 0, 0, 1, 0.6f, 0.8f, -1, 0, 0.8f, -0.6f};
    const int64_t lab[5] = {10, 11, 12, 13, 14};
    hli_level l0, l1, l2;
    ck_assert_int_eq(hli_level_init(&l0, x, 5, 2, lab), HL_OK);
    ck_assert_int_eq(l0.n, 5);
    ck_assert_int_eq(l0.n_points, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(l0.node_of_point[i], i);
        ck_assert_int_eq(l0.label[i], lab[i]);
        ck_assert(l0.x[2 * i] == x[2 * i] && l0.c[2 * i + 1] == x[2 * i + 1]); /* c = x at level 0 */
    }
    /* decode result: points {0,1,3} under peak 1, {2,4} under peak 4 */
    const int64_t peak[5] = {1, 1, 4, 1, 4};
    ck_assert_int_eq(hli_level_next(&l0, peak, x, &l1), HL_OK);
    ck_assert_int_eq(l1.n, 2);
    ck_assert_int_eq(l1.d, 2);
    /* node 0 = peak 1, node 1 = peak 4 (increasing peak index) */
    ck_assert(l1.x[0] == x[2] && l1.x[1] == x[3]);
    ck_assert(l1.x[2] == x[8] && l1.x[3] == x[9]);
    ck_assert_int_eq(l1.label[0], 11);
    ck_assert_int_eq(l1.label[1], 14);
    ck_assert_float_eq_tol(l1.c[0], (1 + 0 - 1) / 3.0f, 1e-6f);
    ck_assert_float_eq_tol(l1.c[1], (0 + 1 + 0) / 3.0f, 1e-6f);
    ck_assert_float_eq_tol(l1.c[2], (0.6f + 0.8f) / 2.0f, 1e-6f);
    ck_assert_float_eq_tol(l1.c[3], (0.8f - 0.6f) / 2.0f, 1e-6f);
    const int64_t nop1[5] = {0, 0, 1, 0, 1};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(l1.node_of_point[i], nop1[i]);
    /* merge the two: cluster feature = mean over all 5 ORIGINAL points (not the mean of means) */
    const int64_t peak2[2] = {1, 1};
    ck_assert_int_eq(hli_level_next(&l1, peak2, x, &l2), HL_OK);
    ck_assert_int_eq(l2.n, 1);
    ck_assert(l2.x[0] == x[8] && l2.x[1] == x[9]); /* the peak's feature, carried from level 0 */
    ck_assert_int_eq(l2.label[0], 14);
    ck_assert_float_eq_tol(l2.c[0], (1 + 0 + 0.6f - 1 + 0.8f) / 5.0f, 1e-6f);
    ck_assert_float_eq_tol(l2.c[1], (0 + 1 + 0.8f + 0 - 0.6f) / 5.0f, 1e-6f);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(l2.node_of_point[i], 0);
    hli_level_free(&l0);
    hli_level_free(&l1);
    hli_level_free(&l2);
    hli_level_free(&l2); /* double free of a cleared level is safe */
    /* without labels */
    ck_assert_int_eq(hli_level_init(&l0, x, 5, 2, NULL), HL_OK);
    ck_assert_ptr_null(l0.label);
    ck_assert_int_eq(hli_level_next(&l0, peak, x, &l1), HL_OK);
    ck_assert_ptr_null(l1.label);
    hli_level_free(&l0);
    hli_level_free(&l1);
}
END_TEST

START_TEST(test_hierarchy_bad_input)
{
    const float x[4] = {1, 0, 0, 1};
    hli_level l0, l1;
    ck_assert_int_eq(hli_level_init(&l0, NULL, 2, 2, NULL), HL_EINVAL);
    ck_assert_int_eq(hli_level_init(&l0, x, 0, 2, NULL), HL_EINVAL);
    ck_assert_int_eq(hli_level_init(&l0, x, 2, 2, NULL), HL_OK);
    const int64_t bad[2] = {0, 2};
    ck_assert_int_eq(hli_level_next(&l0, bad, x, &l1), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "peak[1] = 2"));
    ck_assert_ptr_null(l1.x);
    ck_assert_int_eq(hli_level_next(&l0, NULL, x, &l1), HL_EINVAL);
    hli_level_free(&l0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, test_decode_hand);
    tcase_add_test(tc, test_decode_chain_and_no_edges);
    tcase_add_test(tc, test_decode_invariants_random);
    tcase_add_test(tc, test_decode_bad_input);
    tcase_add_test(tc, test_hierarchy_hand);
    tcase_add_test(tc, test_hierarchy_bad_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
