/* A program built against the 0.1.0 headers (tests/abi/v0.1/include, the
 * first released layout) calling the current shared library: every struct it
 * passes sits between guard bytes, and no call may change a byte outside the
 * struct's own (0.1.0) size; the calls succeed, and fields the program's
 * layout does not have take their defaults (docs/API.md, "Versioning rule for
 * options and result structs"). */
#include <hilander.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 0xA5
#define PAD 64

/* Every struct in a frame of guard bytes: pre | struct | post. */
#define GUARDED(T) \
    struct {       \
        unsigned char pre[PAD]; \
        T s;                    \
        unsigned char post[PAD]; \
    }

static void assert_guards(const unsigned char *pre, const unsigned char *post, const char *what)
{
    for (int i = 0; i < PAD; i++) {
        ck_assert_msg(pre[i] == GUARD, "%s: byte %d before the struct changed", what, PAD - i);
        ck_assert_msg(post[i] == GUARD, "%s: byte %d after the struct changed", what, i);
    }
}

/* Three well separated groups of 20 points in 4 dimensions. */
static float *three_groups(int64_t *n)
{
    *n = 60;
    float *x = malloc(60 * 4 * sizeof(float));
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < 60; i++)
        for (int q = 0; q < 4; q++)
            x[i * 4 + q] = (q == i % 3 ? 1.0f : 0.0f) + 0.01f * (float)((i * 7 + q * 3) % 11);
    return x;
}

START_TEST(test_cluster_options_old_size)
{
    GUARDED(hl_cluster_options) g;
    memset(&g, GUARD, sizeof g);
    ck_assert_int_eq(hl_cluster_options_init(&g.s, sizeof g.s), HL_OK);
    assert_guards(g.pre, g.post, "hl_cluster_options_init");
    ck_assert_uint_eq(g.s.struct_size, sizeof g.s);
    ck_assert_int_eq(g.s.k, 10);
    ck_assert_float_eq(g.s.merge, -1.0f);
    int64_t n;
    float *x = three_groups(&n);
    g.s.k = 5;
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, 4, NULL, &g.s, &c), HL_OK);
    assert_guards(g.pre, g.post, "hl_cluster");
    ck_assert_int_eq(hl_clustering_num_points(c), n);
    hl_clustering_free(c);
    /* a smaller size than the first release is refused and nothing is written */
    memset(&g, GUARD, sizeof g);
    ck_assert_int_eq(hl_cluster_options_init(&g.s, sizeof g.s - 8), HL_EINVAL);
    for (size_t i = 0; i < sizeof g; i++)
        ck_assert_uint_eq(((unsigned char *)&g)[i], GUARD);
    free(x);
}
END_TEST

/* The appended field takes its default for an old caller: the old struct
 * clusters exactly like the current layout with knn_seed = 0 (its default),
 * here with the seeded approximate search. */
START_TEST(test_cluster_missing_field_is_default)
{
    int64_t n;
    float *x = three_groups(&n);
    hl_cluster_options old;
    ck_assert_int_eq(hl_cluster_options_init(&old, sizeof old), HL_OK);
    old.k = 5;
    old.knn_method = HL_KNN_APPROX;
    /* the current layout: the old bytes, then a uint64_t seed of 0 */
    unsigned char cur[sizeof old + sizeof(uint64_t)];
    memcpy(cur, &old, sizeof old);
    memset(cur + sizeof old, 0, sizeof(uint64_t));
    const size_t cur_size = sizeof cur;
    memcpy(cur, &cur_size, sizeof cur_size); /* struct_size is the first member */
    hl_clustering *a = NULL, *b = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, 4, NULL, &old, &a), HL_OK);
    ck_assert_int_eq(hl_cluster(NULL, x, n, 4, NULL, (const hl_cluster_options *)(const void *)cur, &b), HL_OK);
    int64_t la[60], lb[60];
    ck_assert_int_eq(hl_clustering_labels(a, -1, la), HL_OK);
    ck_assert_int_eq(hl_clustering_labels(b, -1, lb), HL_OK);
    ck_assert_mem_eq(la, lb, sizeof la);
    hl_clustering_free(a);
    hl_clustering_free(b);
    free(x);
}
END_TEST

START_TEST(test_knn_options_old_size)
{
    GUARDED(hl_knn_options) g;
    memset(&g, GUARD, sizeof g);
    ck_assert_int_eq(hl_knn_options_init(&g.s, sizeof g.s), HL_OK);
    assert_guards(g.pre, g.post, "hl_knn_options_init");
    int64_t n;
    float *x = three_groups(&n);
    g.s.k = 4;
    int64_t nb[60 * 4];
    float sm[60 * 4];
    ck_assert_int_eq(hl_knn_search(x, n, 4, &g.s, nb, sm), HL_OK);
    assert_guards(g.pre, g.post, "hl_knn_search");
    ck_assert_int_eq(nb[0], 0); /* self first */
    free(x);
}
END_TEST

START_TEST(test_model_config_and_train_options_old_size)
{
    GUARDED(hl_model_config) g;
    memset(&g, GUARD, sizeof g);
    ck_assert_int_eq(hl_model_config_init(&g.s, sizeof g.s), HL_OK);
    assert_guards(g.pre, g.post, "hl_model_config_init");
    g.s.feature_dim = 4;
    g.s.hidden = 8;
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(&g.s, 1, &m), HL_OK);
    /* the library writes the config back into the caller's struct */
    GUARDED(hl_model_config) back;
    memset(&back, GUARD, sizeof back);
    back.s.struct_size = sizeof back.s;
    ck_assert_int_eq(hl_model_get_config(m, &back.s), HL_OK);
    assert_guards(back.pre, back.post, "hl_model_get_config");
    ck_assert_int_eq(back.s.feature_dim, 4);
    ck_assert_int_eq(back.s.hidden, 8);
    hl_model_free(m);

    GUARDED(hl_train_options) t;
    memset(&t, GUARD, sizeof t);
    ck_assert_int_eq(hl_train_options_init(&t.s, sizeof t.s), HL_OK);
    assert_guards(t.pre, t.post, "hl_train_options_init");
    ck_assert_int_eq(hl_train_options_check(&t.s), HL_OK);
}
END_TEST

START_TEST(test_metrics_old_size)
{
    GUARDED(hl_metrics) g;
    memset(&g, GUARD, sizeof g);
    ck_assert_int_eq(hl_metrics_init(&g.s, sizeof g.s), HL_OK);
    assert_guards(g.pre, g.post, "hl_metrics_init");
    const int64_t truth[6] = {0, 0, 0, 1, 1, 1}, pred[6] = {5, 5, 5, 7, 7, 7};
    ck_assert_int_eq(hl_evaluate(truth, pred, 6, &g.s), HL_OK);
    assert_guards(g.pre, g.post, "hl_evaluate");
    ck_assert_double_eq_tol(g.s.pairwise_f, 1.0, 1e-12);
    ck_assert_double_eq_tol(g.s.nmi, 1.0, 1e-12);
}
END_TEST

START_TEST(test_version_is_newer)
{
    /* the headers say 0.1.0; the library is at least 0.2.0 and says so */
    ck_assert_int_eq(HL_VERSION_NUMBER, 100);
    ck_assert_uint_ge(hl_version_number(), 200);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("abi_old_layout");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cluster_options_old_size);
    tcase_add_test(tc, test_cluster_missing_field_is_default);
    tcase_add_test(tc, test_knn_options_old_size);
    tcase_add_test(tc, test_model_config_and_train_options_old_size);
    tcase_add_test(tc, test_metrics_old_size);
    tcase_add_test(tc, test_version_is_newer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
