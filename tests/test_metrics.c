/* Clustering metrics (docs/ALGORITHM.md, "Metrics"): hand-computed cases, identities,
 * degenerate cases and a naive O(n^2) reference on random labels. */
#include "common/internal.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-12

static hl_metrics eval_ok(const int64_t *t, const int64_t *p, int64_t n)
{
    hl_metrics m;
    memset(&m, 0, sizeof(m));
    hl_metrics_init(&m, sizeof m);
    ck_assert_int_eq(hl_evaluate(t, p, n, &m), HL_OK);
    return m;
}

START_TEST(test_hand_computed)
{
    /* cells (0,5):2 (0,7):1 (1,7):2 (2,-3):1; |G| = 3,2,1; |P| = 2,3,1 */
    const int64_t t[] = {0, 0, 0, 1, 1, 2};
    const int64_t p[] = {5, 5, 7, 7, 7, -3};
    hl_metrics m = eval_ok(t, p, 6);
    /* tk = 4+1+4+1-6 = 4, pk = 4+9+1-6 = 8, qk = 9+4+1-6 = 8 */
    ck_assert_double_eq_tol(m.pairwise_precision, 0.5, EPS);
    ck_assert_double_eq_tol(m.pairwise_recall, 0.5, EPS);
    ck_assert_double_eq_tol(m.pairwise_f, 0.5, EPS);
    /* BCubed precision = (4/2 + 1/3 + 4/3 + 1/1) / 6 = 7/9, recall = (4/3 + 1/3 + 4/2 + 1) / 6 = 7/9 */
    ck_assert_double_eq_tol(m.bcubed_precision, 7.0 / 9.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_recall, 7.0 / 9.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_f, 7.0 / 9.0, EPS);
    /* MI = 2/6 ln(6*2/6) + 1/6 ln(6/6) + 2/6 ln(6*2/6) + 1/6 ln(6/1) ... = ln 2 here;
     * H(G) = H(P) = entropy of (1/2, 1/3, 1/6) */
    double h = -(0.5 * log(0.5) + log(1.0 / 3.0) / 3.0 + log(1.0 / 6.0) / 6.0);
    ck_assert_double_eq_tol(m.nmi, log(2.0) / h, 1e-12);
    ck_assert_int_eq(m.num_true_clusters, 3);
    ck_assert_int_eq(m.num_pred_clusters, 3);
}
END_TEST

START_TEST(test_perfect_and_relabelled)
{
    enum { N = 1000 };
    int64_t *t = malloc(N * sizeof(int64_t)), *p = malloc(N * sizeof(int64_t));
    for (int64_t i = 0; i < N; i++) {
        t[i] = (i * 7) % 37;
        p[i] = INT64_MAX - 3 * t[i]; /* a bijective relabelling with extreme values */
    }
    hl_metrics m = eval_ok(t, p, N);
    ck_assert_double_eq_tol(m.pairwise_precision, 1.0, EPS);
    ck_assert_double_eq_tol(m.pairwise_recall, 1.0, EPS);
    ck_assert_double_eq_tol(m.pairwise_f, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_precision, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_recall, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_f, 1.0, EPS);
    ck_assert_double_eq_tol(m.nmi, 1.0, 1e-12);
    ck_assert_int_eq(m.num_true_clusters, 37);
    ck_assert_int_eq(m.num_pred_clusters, 37);
    free(t);
    free(p);
}
END_TEST

START_TEST(test_one_cluster_and_singletons)
{
    /* truth sizes 4, 3, 2, 1 */
    const int64_t t[] = {1, 1, 1, 1, 2, 2, 2, 3, 3, 4};
    const int64_t n = 10;
    int64_t one[10], single[10];
    for (int i = 0; i < 10; i++) {
        one[i] = 42;
        single[i] = INT64_MIN + i;
    }
    /* one cluster: pairwise precision = (sum |G|^2 - n) / (n^2 - n), recall 1, BCubed recall 1 */
    hl_metrics m = eval_ok(t, one, n);
    ck_assert_double_eq_tol(m.pairwise_precision, (16.0 + 9 + 4 + 1 - 10) / (100.0 - 10), EPS);
    ck_assert_double_eq_tol(m.pairwise_recall, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_recall, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_precision, (16.0 + 9 + 4 + 1) / 100.0, EPS);
    ck_assert_double_eq_tol(m.nmi, 0.0, EPS); /* MI = 0 */
    ck_assert_int_eq(m.num_pred_clusters, 1);
    /* all singletons: BCubed precision 1; pairwise precision 0/0 is defined as 1, recall 0, F 0 */
    m = eval_ok(t, single, n);
    ck_assert_double_eq_tol(m.bcubed_precision, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_recall, (4.0 * 0.25 + 3.0 / 3 + 2.0 / 2 + 1.0) / 10.0, EPS);
    ck_assert_double_eq_tol(m.pairwise_precision, 1.0, EPS);
    ck_assert_double_eq_tol(m.pairwise_recall, 0.0, EPS);
    ck_assert_double_eq_tol(m.pairwise_f, 0.0, EPS);
    ck_assert_int_eq(m.num_pred_clusters, 10);
    /* both a single cluster: NMI = 1 (sklearn's convention); both all singletons: 1 */
    m = eval_ok(one, one, n);
    ck_assert_double_eq_tol(m.nmi, 1.0, EPS);
    ck_assert_double_eq_tol(m.pairwise_f, 1.0, EPS);
    m = eval_ok(single, single, n);
    ck_assert_double_eq_tol(m.nmi, 1.0, 1e-12);
    ck_assert_double_eq_tol(m.pairwise_f, 1.0, EPS);
    /* n = 1 */
    m = eval_ok(t, one, 1);
    ck_assert_double_eq_tol(m.pairwise_f, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_f, 1.0, EPS);
    ck_assert_double_eq_tol(m.nmi, 1.0, EPS);
}
END_TEST

/* Naive O(n^2) references. */
static void naive(const int64_t *t, const int64_t *p, int64_t n, double *pp, double *pr, double *bp, double *br,
                  double *nmi)
{
    double tk = 0, pk = 0, qk = 0, sbp = 0, sbr = 0, mi = 0, hg = 0, hp = 0;
    for (int64_t i = 0; i < n; i++) {
        double same_p = 0, same_g = 0, same_both = 0;
        for (int64_t j = 0; j < n; j++) {
            int sp = p[i] == p[j], sg = t[i] == t[j];
            same_p += sp;
            same_g += sg;
            same_both += sp && sg;
            if (j != i) {
                pk += sp;
                qk += sg;
                tk += sp && sg;
            }
        }
        sbp += same_both / same_p;
        sbr += same_both / same_g;
        /* entropies / MI as sums over points: -1/n sum log(|G(i)|/n) etc. */
        hg -= log(same_g / n) / n;
        hp -= log(same_p / n) / n;
        mi += log(n * same_both / (same_g * same_p)) / n;
    }
    *pp = tk / pk;
    *pr = tk / qk;
    *bp = sbp / n;
    *br = sbr / n;
    *nmi = mi / (0.5 * (hg + hp));
}

START_TEST(test_against_naive_random)
{
    hli_rng rng;
    hli_rng_seed(&rng, 12345);
    for (int trial = 0; trial < 6; trial++) {
        int64_t n = 200 + 150 * trial;
        int64_t kt = 2 + trial * 7, kp = 3 + trial * 5;
        int64_t *t = malloc((size_t)n * sizeof(int64_t)), *p = malloc((size_t)n * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) {
            t[i] = (int64_t)hli_rng_below(&rng, (uint64_t)kt) * 1000003 - 500;
            /* prediction correlated with truth: copy most, scramble some */
            p[i] = hli_rng_uniform(&rng) < 0.6 ? t[i] * 3 + (int64_t)hli_rng_below(&rng, 2)
                                               : -(int64_t)hli_rng_below(&rng, (uint64_t)kp);
        }
        double pp, pr, bp, br, nmi;
        naive(t, p, n, &pp, &pr, &bp, &br, &nmi);
        hl_metrics m = eval_ok(t, p, n);
        ck_assert_double_eq_tol(m.pairwise_precision, pp, 1e-12);
        ck_assert_double_eq_tol(m.pairwise_recall, pr, 1e-12);
        ck_assert_double_eq_tol(m.pairwise_f, 2 * pp * pr / (pp + pr), 1e-12);
        ck_assert_double_eq_tol(m.bcubed_precision, bp, 1e-12);
        ck_assert_double_eq_tol(m.bcubed_recall, br, 1e-12);
        ck_assert_double_eq_tol(m.bcubed_f, 2 * bp * br / (bp + br), 1e-12);
        ck_assert_double_eq_tol(m.nmi, nmi, 1e-10);
        /* symmetry: swapping truth and prediction swaps precision and recall */
        hl_metrics s = eval_ok(p, t, n);
        ck_assert_double_eq_tol(s.pairwise_precision, m.pairwise_recall, 1e-12);
        ck_assert_double_eq_tol(s.bcubed_recall, m.bcubed_precision, 1e-12);
        ck_assert_double_eq_tol(s.nmi, m.nmi, 1e-12);
        free(t);
        free(p);
    }
}
END_TEST

START_TEST(test_large)
{
    /* a million points; prediction splits every true cluster in two halves */
    const int64_t n = 1000000;
    int64_t *t = malloc((size_t)n * sizeof(int64_t)), *p = malloc((size_t)n * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        t[i] = i % 1000;         /* 1000 clusters of 1000 */
        p[i] = (i % 2000) * 977; /* 2000 clusters of 500, each inside one true cluster */
    }
    hl_metrics m = eval_ok(t, p, n);
    ck_assert_double_eq_tol(m.pairwise_precision, 1.0, EPS);
    /* tk = 2000*(500^2) - n, qk = 1000*(1000^2) - n */
    ck_assert_double_eq_tol(m.pairwise_recall, (2000.0 * 250000 - n) / (1000.0 * 1000000 - n), 1e-12);
    ck_assert_double_eq_tol(m.bcubed_precision, 1.0, EPS);
    ck_assert_double_eq_tol(m.bcubed_recall, 0.5, 1e-12);
    /* MI = H(G) = ln 1000, H(P) = ln 2000 */
    ck_assert_double_eq_tol(m.nmi, log(1000.0) / (0.5 * (log(1000.0) + log(2000.0))), 1e-9);
    free(t);
    free(p);
}
END_TEST

START_TEST(test_bad_input)
{
    int64_t t[3] = {0, 1, 2};
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    ck_assert_int_eq(hl_evaluate(NULL, t, 3, &m), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "truth"));
    ck_assert_int_eq(hl_evaluate(t, NULL, 3, &m), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "pred"));
    ck_assert_int_eq(hl_evaluate(t, t, 3, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_evaluate(t, t, 0, &m), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "n = 0"));
    m.struct_size = 8;
    ck_assert_int_eq(hl_evaluate(t, t, 3, &m), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "struct_size"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_hand_computed);
    tcase_add_test(tc, test_perfect_and_relabelled);
    tcase_add_test(tc, test_one_cluster_and_singletons);
    tcase_add_test(tc, test_against_naive_random);
    tcase_add_test(tc, test_large);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
