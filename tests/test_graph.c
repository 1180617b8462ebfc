/* The Hi-LANDER graph (docs/ALGORITHM.md, "The graph"): edges, affinities, CSR layout,
 * ground-truth density, graphs from caller lists, and bad input. */
#include "graph/graph_internal.h"
#include "knn/knn_internal.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void expect_err(hl_status got, hl_status want, const char *needle)
{
    ck_assert_int_eq(got, want);
    ck_assert_msg(strstr(hl_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"", hl_last_error(), needle);
}

static float *random_data(int64_t n, int64_t d, uint64_t seed)
{
    hli_rng rng;
    hli_rng_seed(&rng, seed);
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n * d; i++)
        x[i] = (float)(hli_rng_uniform(&rng) * 2.0 - 1.0);
    return x;
}

/* Check a graph against the lists it was built from, independently:
 * in-edges of i = entries j of i's list with j >= 0, j != i, sim >= 0, in list
 * order; aff = sim / sum (double). */
static void check_graph_vs_lists(const hl_graph *g, const int64_t *nb, const float *sm, int64_t n, int64_t k)
{
    const int64_t *off, *src;
    const float *sim, *aff;
    ck_assert_int_eq(hl_graph_csr(g, &off, &src, &sim, &aff), HL_OK);
    ck_assert_int_eq(hl_graph_num_nodes(g), n);
    ck_assert_int_eq(hl_graph_k(g), k);
    ck_assert_int_eq(off[0], 0);
    int bad = 0;
    for (int64_t i = 0; i < n && !bad; i++) {
        int64_t e = off[i];
        double sum = 0;
        for (int64_t t = 0; t < k; t++) {
            int64_t j = nb[i * k + t];
            if (j < 0 || j == i || sm[i * k + t] < 0)
                continue;
            sum += sm[i * k + t];
        }
        for (int64_t t = 0; t < k; t++) {
            int64_t j = nb[i * k + t];
            if (j < 0 || j == i || sm[i * k + t] < 0)
                continue;
            bad |= e >= off[i + 1] || src[e] != j || sim[e] != sm[i * k + t];
            if (!bad)
                bad |= fabs(aff[e] - (sum > 0 ? sm[i * k + t] / sum : 0.0)) > 1e-6;
            e++;
        }
        bad |= e != off[i + 1];
        ck_assert_msg(!bad, "node %lld: edges differ from its list", (long long)i);
    }
    ck_assert_int_eq(hl_graph_num_edges(g), off[n]);
}

START_TEST(test_hand_graph)
{
    /* 4 nodes, k = 3.  Node 0: self, 1 (0.8), 2 (0.2).  Node 1: self, 3 (-0.1
     * dropped), 0 (0.8).  Node 2: self, -1 missing, -1.  Node 3: self, 2 (0.5),
     * 1 (0.0 kept: only negatives are dropped). */
    const int64_t n = 4, k = 3;
    const int64_t nb[12] = {0, 1, 2, 1, 3, 0, 2, -1, -1, 3, 2, 1};
    const float sm[12] = {1, 0.8f, 0.2f, 1, -0.1f, 0.8f, 1, 0, 0, 1, 0.5f, 0.0f};
    hl_graph *g = NULL;
    ck_assert_int_eq(hl_graph_from_neighbors(nb, sm, n, k, &g), HL_OK);
    const int64_t *off, *src;
    const float *sim, *aff;
    ck_assert_int_eq(hl_graph_csr(g, &off, &src, &sim, &aff), HL_OK);
    const int64_t want_off[5] = {0, 2, 3, 3, 5};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(off[i], want_off[i]);
    const int64_t want_src[5] = {1, 2, 0, 2, 1};
    const float want_aff[5] = {0.8f, 0.2f, 1.0f, 1.0f, 0.0f};
    for (int e = 0; e < 5; e++) {
        ck_assert_int_eq(src[e], want_src[e]);
        ck_assert_float_eq_tol(aff[e], want_aff[e], 1e-6f);
    }
    ck_assert_int_eq(hl_graph_num_edges(g), 5);
    check_graph_vs_lists(g, nb, sm, n, k);
    /* Stored lists: self first, -1 kept. */
    ck_assert_int_eq(g->knn[1 * k + 1], 3);
    ck_assert_int_eq(g->knn[2 * k + 1], -1);

    /* Density: labels 0,0,1,1.  d_0 = (0.8 - 0.2)/2; d_1 = 0.8/2; d_2 = 0;
     * d_3 = (0.5 - 0)/2.  Divides by k-1 = 2 even where edges were dropped. */
    const int64_t lab[4] = {0, 0, 1, 1};
    float dens[4];
    ck_assert_int_eq(hl_graph_density(g, lab, dens), HL_OK);
    ck_assert_float_eq_tol(dens[0], 0.3f, 1e-6f);
    ck_assert_float_eq_tol(dens[1], 0.4f, 1e-6f);
    ck_assert_float_eq_tol(dens[2], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(dens[3], 0.25f, 1e-6f);
    expect_err(hl_graph_density(g, NULL, dens), HL_EINVAL, "labels");
    expect_err(hl_graph_density(g, lab, NULL), HL_EINVAL, "density");
    expect_err(hl_graph_density(NULL, lab, dens), HL_EINVAL, "graph");
    hl_graph_free(g);
}
END_TEST

START_TEST(test_self_anywhere_and_missing)
{
    /* Caller lists (as from faiss): node 0 lists itself second; node 1 does
     * not list itself at all (its last entry is dropped); node 2 has a
     * duplicate vector 0 listed before itself. */
    const int64_t n = 3, k = 3;
    const int64_t nb[9] = {1, 0, 2, 0, 2, -1, 0, 2, 1};
    const float sm[9] = {0.9f, 1.0f, 0.3f, 0.9f, 0.4f, 0.0f, 1.0f, 1.0f, 0.5f};
    hl_graph *g = NULL;
    ck_assert_int_eq(hl_graph_from_neighbors(nb, sm, n, k, &g), HL_OK);
    const int64_t *off, *src;
    const float *sim;
    ck_assert_int_eq(hl_graph_csr(g, &off, &src, &sim, NULL), HL_OK);
    /* node 0: edges 1, 2; node 1: edges 0, 2; node 2: edges 0, 1 */
    ck_assert_int_eq(off[1], 2);
    ck_assert_int_eq(off[2], 4);
    ck_assert_int_eq(off[3], 6);
    ck_assert_int_eq(src[0], 1);
    ck_assert_int_eq(src[1], 2);
    ck_assert_int_eq(src[2], 0);
    ck_assert_int_eq(src[3], 2);
    ck_assert_int_eq(src[4], 0);
    ck_assert(sim[4] == 1.0f);
    ck_assert_int_eq(src[5], 1);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(g->knn[i * k], i); /* canonical: self first */
    ck_assert(g->knn_sim[0] == 1.0f);
    hl_graph_free(g);

    /* A row of only self / missing entries: no in-edges, density 0, aff none. */
    const int64_t nb2[4] = {0, -1, 1, -1};
    const float sm2[4] = {1, NAN, 1, INFINITY}; /* sims of missing entries are ignored */
    ck_assert_int_eq(hl_graph_from_neighbors(nb2, sm2, 2, 2, &g), HL_OK);
    ck_assert_int_eq(hl_graph_num_edges(g), 0);
    const int64_t lab[2] = {5, 5};
    float dens[2] = {9, 9};
    ck_assert_int_eq(hl_graph_density(g, lab, dens), HL_OK);
    ck_assert(dens[0] == 0.0f && dens[1] == 0.0f);
    hl_graph_free(g);
}
END_TEST

START_TEST(test_build_random_matches_knn)
{
    const int64_t n = 400, d = 6, k = 10;
    float *x = random_data(n, d, 11);
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    int64_t *nb = malloc(sizeof(int64_t) * (size_t)(n * n));
    float *sm = malloc(sizeof(float) * (size_t)(n * n));
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    hl_graph *g = NULL;
    ck_assert_int_eq(hl_graph_build(x, n, d, &o, &g), HL_OK);
    check_graph_vs_lists(g, nb, sm, n, k);
    ck_assert(memcmp(g->knn, nb, sizeof(int64_t) * (size_t)(n * k)) == 0);
    ck_assert(memcmp(g->knn_sim, sm, sizeof(float) * (size_t)(n * k)) == 0);
    /* Every node has k-1 in-edges (all sims >= 0 among the 10 nearest here),
     * aff sums to 1. */
    const int64_t *off;
    const float *aff;
    hl_graph_csr(g, &off, NULL, NULL, &aff);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(off[i + 1] - off[i], k - 1);
        double s = 0;
        for (int64_t e = off[i]; e < off[i + 1]; e++)
            s += aff[e];
        ck_assert(fabs(s - 1.0) < 1e-5);
    }
    hl_graph_free(g);

    /* k = n: the far half of every list is negative and dropped. */
    o.k = n;
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    ck_assert_int_eq(hl_graph_build(x, n, d, &o, &g), HL_OK);
    check_graph_vs_lists(g, nb, sm, n, n);
    int64_t nonneg = 0;
    for (int64_t i = 0; i < n * n; i++)
        nonneg += sm[i] >= 0 && nb[i] != i / n;
    ck_assert_int_eq(hl_graph_num_edges(g), nonneg);
    ck_assert_int_lt(hl_graph_num_edges(g), n * (n - 1));

    /* Density against a direct computation with random labels. */
    int64_t *lab = malloc(sizeof(int64_t) * (size_t)n);
    float *dens = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        lab[i] = (i * 7) % 5;
    ck_assert_int_eq(hl_graph_density(g, lab, dens), HL_OK);
    for (int64_t i = 0; i < n; i++) {
        double acc = 0;
        for (int64_t t = 0; t < n; t++) {
            int64_t j = nb[i * n + t];
            if (j == i || sm[i * n + t] < 0)
                continue;
            acc += (lab[j] == lab[i] ? 1.0 : -1.0) * sm[i * n + t];
        }
        ck_assert(fabs(dens[i] - acc / (double)(n - 1)) < 1e-5);
    }
    hl_graph_free(g);

    /* k = 1: no edges, density 0 (no division by k-1 = 0). */
    o.k = 1;
    ck_assert_int_eq(hl_graph_build(x, n, d, &o, &g), HL_OK);
    ck_assert_int_eq(hl_graph_num_edges(g), 0);
    ck_assert_int_eq(hl_graph_density(g, lab, dens), HL_OK);
    for (int64_t i = 0; i < n; i++)
        ck_assert(dens[i] == 0.0f);
    hl_graph_free(g);
    free(lab);
    free(dens);
    free(nb);
    free(sm);
    free(x);
}
END_TEST

START_TEST(test_duplicates_self_by_index)
{
    /* Rows 0 and 3 are the same vector: each is the other's first true
     * neighbour with similarity 1, and neither loses its self slot. */
    const int64_t n = 6, d = 3, k = 3;
    float x[18] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0.9f, 0.1f, 0, 0, 0.5f, 0.5f};
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    hl_graph *g = NULL;
    ck_assert_int_eq(hl_graph_build(x, n, d, &o, &g), HL_OK);
    ck_assert_int_eq(g->knn[0], 0);
    ck_assert_int_eq(g->knn[1], 3);
    ck_assert_int_eq(g->knn[3 * k], 3);
    ck_assert_int_eq(g->knn[3 * k + 1], 0);
    const int64_t *off, *src;
    const float *sim;
    hl_graph_csr(g, &off, &src, &sim, NULL);
    ck_assert_int_eq(src[off[0]], 3);
    ck_assert(sim[off[0]] == 1.0f);
    ck_assert_int_eq(src[off[3]], 0);
    /* Density with labels equal for 0 and 3: identified by index, so the
     * duplicate counts as a neighbour (+1), not as self. */
    const int64_t lab[6] = {1, 2, 3, 1, 1, 4};
    float dens[6];
    ck_assert_int_eq(hl_graph_density(g, lab, dens), HL_OK);
    double want0 = 0;
    for (int64_t e = off[0]; e < off[1]; e++)
        want0 += (lab[src[e]] == lab[0] ? 1.0 : -1.0) * sim[e];
    ck_assert(fabs(dens[0] - want0 / 2.0) < 1e-6);
    ck_assert(dens[0] > 0.9f);
    hl_graph_free(g);
}
END_TEST

START_TEST(test_bad_input)
{
    const int64_t nb[6] = {0, 1, 1, 0, 2, 1};
    const float sm[6] = {1, 0.5f, 1, 0.5f, 1, 0.2f};
    hl_graph *g = (hl_graph *)0x1;
    expect_err(hl_graph_from_neighbors(NULL, sm, 3, 2, &g), HL_EINVAL, "nbrs");
    ck_assert_ptr_null(g); /* *out cleared on failure */
    expect_err(hl_graph_from_neighbors(nb, NULL, 3, 2, &g), HL_EINVAL, "sims");
    expect_err(hl_graph_from_neighbors(nb, sm, 3, 2, NULL), HL_EINVAL, "out");
    expect_err(hl_graph_from_neighbors(nb, sm, 0, 2, &g), HL_EINVAL, "n = 0");
    expect_err(hl_graph_from_neighbors(nb, sm, 3, 0, &g), HL_EINVAL, "k = 0");
    expect_err(hl_graph_from_neighbors(nb, sm, 3, 4, &g), HL_EINVAL, "k = 4");
    expect_err(hl_graph_from_neighbors(nb, sm, (int64_t)1 << 62, 4, &g), HL_ERANGE, "too large");
    int64_t bad[6] = {0, 1, 1, 0, 2, 3};
    expect_err(hl_graph_from_neighbors(bad, sm, 3, 2, &g), HL_EINVAL, "row 2, entry 1: id 3");
    bad[5] = -2;
    expect_err(hl_graph_from_neighbors(bad, sm, 3, 2, &g), HL_EINVAL, "row 2, entry 1: id -2");
    bad[5] = 0;
    bad[4] = 0;
    expect_err(hl_graph_from_neighbors(bad, sm, 3, 2, &g), HL_EINVAL, "row 2 lists id 0 twice");
    float bs[6] = {1, 0.5f, 1, NAN, 1, 0.2f};
    expect_err(hl_graph_from_neighbors(nb, bs, 3, 2, &g), HL_EINVAL, "row 1, entry 1: similarity");
    bs[3] = -INFINITY;
    expect_err(hl_graph_from_neighbors(nb, bs, 3, 2, &g), HL_EINVAL, "row 1, entry 1");
    /* inner products of unnormalised rows are not cosines (the decode would
     * read 1.5 as "the same point") */
    bs[3] = 1.5f;
    expect_err(hl_graph_from_neighbors(nb, bs, 3, 2, &g), HL_EINVAL, "not a cosine in [-1, 1]");
    bs[3] = -1.01f;
    expect_err(hl_graph_from_neighbors(nb, bs, 3, 2, &g), HL_EINVAL, "row 1, entry 1: similarity -1.01");
    bs[3] = 1.0005f; /* rounding of a cosine is tolerated */
    ck_assert_int_eq(hl_graph_from_neighbors(nb, bs, 3, 2, &g), HL_OK);
    hl_graph_free(g);
    g = NULL;

    float x[12] = {1, 0, 0, 1, 1, 1, 0.5f, 0, 2, 0, 1, 3};
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = 2;
    expect_err(hl_graph_build(x, 4, 3, &o, NULL), HL_EINVAL, "out");
    expect_err(hl_graph_build(NULL, 4, 3, &o, &g), HL_EINVAL, "x is NULL");
    expect_err(hl_graph_build(x, 0, 3, &o, &g), HL_EINVAL, "n = 0");
    expect_err(hl_graph_build(x, 4, 0, &o, &g), HL_EINVAL, "d = 0");
    expect_err(hl_graph_build(x, (int64_t)1 << 62, 4, &o, &g), HL_ERANGE, "too large");
    expect_err(hl_graph_build(x, (int64_t)1 << 40, 1, &o, &g), HL_ERANGE, "BLAS int range");
    o.k = 5;
    expect_err(hl_graph_build(x, 4, 3, &o, &g), HL_EINVAL, "k = 5");
    o.k = 2;
    x[7] = NAN;
    expect_err(hl_graph_build(x, 4, 3, &o, &g), HL_EINVAL, "row 2");
    x[7] = 0;
    x[6] = 0;
    x[8] = 0;
    expect_err(hl_graph_build(x, 4, 3, &o, &g), HL_EINVAL, "row 2");
    ck_assert_ptr_null(g);

    /* Accessors on NULL. */
    ck_assert_int_eq(hl_graph_num_nodes(NULL), 0);
    ck_assert_int_eq(hl_graph_num_edges(NULL), 0);
    ck_assert_int_eq(hl_graph_k(NULL), 0);
    expect_err(hl_graph_csr(NULL, NULL, NULL, NULL, NULL), HL_EINVAL, "graph");
    hl_graph_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("graph");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_hand_graph);
    tcase_add_test(tc, test_self_anywhere_and_missing);
    tcase_add_test(tc, test_build_random_matches_knn);
    tcase_add_test(tc, test_duplicates_self_by_index);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
