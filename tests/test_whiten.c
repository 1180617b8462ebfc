/* Within-class whitening (lib/model/whiten.c): the fitted map against a
 * hand-computed Cholesky factor and against W A W^T = I for an independently
 * computed scatter, the map's use by hl_cluster and hl_model_transform, and
 * how training stores it. */
#include "model/model_internal.h"
#include "model/whiten.h"
#include "test_helpers.h"

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Class 0: (0,0), (2,2); class 1: (0,0), (2,0); class 2 one point (adds
 * nothing).  Sw = (2 [1 1; 1 1] + 2 [1 0; 0 0]) / 4 = [1 .5; .5 .5], trace
 * 1.5; ridge 1/3 adds 1/3 * 1.5 / 2 = .25: A = [1.25 .5; .5 .75].
 * L = [sqrt(1.25) 0; .5/sqrt(1.25) sqrt(.55)], W = L^-1 =
 * [1/sqrt(1.25) 0; -(.5/sqrt(1.25))/(sqrt(1.25) sqrt(.55)) 1/sqrt(.55)]. */
START_TEST(test_fit_hand_computed)
{
    const float x[10] = {0, 0, 0, 0, 5, 5, 2, 0, 2, 2};
    const int64_t y[5] = {7, 3, 9, 3, 7}; /* interleaved, arbitrary values */
    float w[4];
    ck_assert_int_eq(hli_whiten_fit(x, y, 5, 2, 1.0 / 3.0, w), HL_OK);
    const double a = sqrt(1.25), b = 0.5 / a, c = sqrt(0.55);
    ck_assert_double_eq_tol(w[0], 1.0 / a, 1e-6);
    ck_assert(w[1] == 0.0f);
    ck_assert_double_eq_tol(w[2], -b / (a * c), 1e-6);
    ck_assert_double_eq_tol(w[3], 1.0 / c, 1e-6);
    ck_assert_double_eq_tol(w[0], 0.8944272, 1e-6); /* the same, as numbers */
    ck_assert_double_eq_tol(w[2], -0.5393599, 1e-6);
    ck_assert_double_eq_tol(w[3], 1.3483997, 1e-6);
}
END_TEST

static void random_rows(float *x, int64_t n, int64_t d, uint64_t seed)
{
    hli_rng r;
    hli_rng_seed(&r, seed);
    for (int64_t i = 0; i < n * d; i++)
        x[i] = (float)(2.0 * hli_rng_uniform(&r) - 1.0);
}

/* W A W^T = I for A computed here in the plain way (two passes, double),
 * and W lower triangular with a positive diagonal (the Cholesky inverse). */
START_TEST(test_fit_whitens_the_scatter)
{
    enum { N = 90, D = 6, C = 5 };
    float x[N * D], w[D * D];
    int64_t y[N];
    random_rows(x, N, D, 11);
    for (int i = 0; i < N; i++) {
        y[i] = (i * 13) % C;
        x[i * D + 1] *= 4.0f; /* anisotropic within-class spread */
        x[i * D + 2] += x[i * D + 1];
        x[i * D + 0] += 3.0f * (float)y[i]; /* classes apart */
    }
    const double ridge = 0.2;
    ck_assert_int_eq(hli_whiten_fit(x, y, N, D, ridge, w), HL_OK);
    double mean[C][D] = {{0}}, cnt[C] = {0}, A[D][D] = {{0}};
    for (int i = 0; i < N; i++) {
        cnt[y[i]] += 1;
        for (int j = 0; j < D; j++)
            mean[y[i]][j] += x[i * D + j];
    }
    for (int c = 0; c < C; c++)
        for (int j = 0; j < D; j++)
            mean[c][j] /= cnt[c];
    for (int i = 0; i < N; i++)
        for (int p = 0; p < D; p++)
            for (int q = 0; q < D; q++)
                A[p][q] += (x[i * D + p] - mean[y[i]][p]) * (x[i * D + q] - mean[y[i]][q]) / N;
    double tr = 0;
    for (int p = 0; p < D; p++)
        tr += A[p][p];
    for (int p = 0; p < D; p++)
        A[p][p] += ridge * tr / D;
    for (int p = 0; p < D; p++) {
        ck_assert(w[p * D + p] > 0.0f);
        for (int q = p + 1; q < D; q++)
            ck_assert(w[p * D + q] == 0.0f);
        for (int q = 0; q < D; q++) {
            double s = 0;
            for (int a = 0; a < D; a++)
                for (int b = 0; b < D; b++)
                    s += w[p * D + a] * A[a][b] * w[q * D + b];
            ck_assert_msg(fabs(s - (p == q)) < 1e-4, "(W A W^T)[%d][%d] = %g", p, q, s);
        }
    }
}
END_TEST

START_TEST(test_fit_bad_input)
{
    const float x[6] = {1, 0, 0, 1, 1, 1};
    const int64_t distinct[3] = {1, 2, 3};
    float w[4];
    ck_assert_int_eq(hli_whiten_fit(x, distinct, 3, 2, 0.3, w), HL_EINVAL); /* no class of two */
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "two"));
    const int64_t same[3] = {4, 4, 4};
    ck_assert_int_eq(hli_whiten_fit(x, same, 3, 2, 0.0, w), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "ridge"));
    ck_assert_int_eq(hli_whiten_fit(x, same, 3, 2, NAN, w), HL_EINVAL);
    ck_assert_int_eq(hli_whiten_fit(x, same, 3, 2, 0.3, w), HL_OK);
}
END_TEST

/* hl_model_transform = normalise, map, normalise (computed here), and the
 * identity on normalised rows without a map; a singular map is an error. */
START_TEST(test_transform)
{
    enum { N = 4, D = 3 };
    const float x[N * D] = {3, 0, 4, 1, 1, 1, -2, 5, 0.5f, 0, 0, 7};
    const float w[D * D] = {1, 0, 0, 2, 3, 0, -1, 0.5f, 4};
    hl_model *m = th_untrained_model(D, 8, 3);
    float out[N * D];
    ck_assert_int_eq(hl_model_transform(m, x, N, D, out), HL_OK);
    for (int i = 0; i < N; i++) {
        const double nx = sqrt(x[i * D] * x[i * D] + x[i * D + 1] * x[i * D + 1] + x[i * D + 2] * x[i * D + 2]);
        for (int j = 0; j < D; j++)
            ck_assert_double_eq_tol(out[i * D + j], x[i * D + j] / nx, 1e-6);
    }
    ck_assert_int_eq(hl_model_set_whitening(m, w), HL_OK);
    ck_assert_int_eq(hl_model_transform(m, x, N, D, out), HL_OK);
    for (int i = 0; i < N; i++) {
        double v[D], s = 0;
        for (int p = 0; p < D; p++) {
            v[p] = 0;
            for (int q = 0; q < D; q++)
                v[p] += w[p * D + q] * x[i * D + q];
            s += v[p] * v[p];
        }
        for (int p = 0; p < D; p++)
            ck_assert_double_eq_tol(out[i * D + p], v[p] / sqrt(s), 1e-6);
    }
    /* in place gives the same */
    float inplace[N * D];
    memcpy(inplace, x, sizeof inplace);
    ck_assert_int_eq(hl_model_transform(m, inplace, N, D, inplace), HL_OK);
    ck_assert_mem_eq(inplace, out, sizeof out);
    /* errors: wrong d, zero row, a map that sends a row to zero */
    ck_assert_int_eq(hl_model_transform(m, x, N, D - 1, out), HL_EINVAL);
    const float zero[D] = {0, 0, 0};
    ck_assert_int_eq(hl_model_transform(m, zero, 1, D, out), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "zero"));
    const float singular[D * D] = {1, 0, 0, 1, 0, 0, 0, 0, 0};
    ck_assert_int_eq(hl_model_set_whitening(m, singular), HL_OK);
    const float e2[D] = {0, 1, 0};
    ck_assert_int_eq(hl_model_transform(m, e2, 1, D, out), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "singular"));
    hl_model_free(m);
}
END_TEST

static void cluster_labels(const hl_model *m, const float *x, int64_t n, int64_t d, int32_t threads, int64_t *lab)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.score = HL_SCORE_SNN;
    o.tau = 0.45f;
    o.merge = 1.2f;
    o.num_threads = threads;
    hl_clustering *c = NULL;
    ck_assert_msg(hl_cluster(m, x, n, d, NULL, &o, &c) == HL_OK, "%s", hl_last_error());
    ck_assert_int_eq(hl_clustering_labels(c, -1, lab), HL_OK);
    hl_clustering_free(c);
}

/* C classes in D dims whose centres differ only in dimensions 2..D-1 and
 * whose points spread widely along the shared "nuisance" dimensions 0 and 1,
 * as a new class does along directions its encoder never had to suppress. */
static void nuisance_classes(float *x, int64_t *y, int n, int d, int C, uint64_t seed)
{
    float cen[16 * 8];
    ck_assert(C <= 16 && d <= 8);
    random_rows(cen, C, d, seed ^ 0xc0ffee);
    random_rows(x, n, d, seed);
    for (int i = 0; i < n; i++) {
        y[i] = i % C;
        for (int j = 0; j < d; j++)
            x[i * d + j] = j < 2 ? 1.2f * x[i * d + j] : 0.5f * cen[y[i] * d + j] + 0.06f * x[i * d + j];
    }
}

/* hl_cluster with a model clusters the mapped features: the same labels as
 * clustering hl_model_transform's output without a model, for any thread
 * count.  The map is fitted on other classes (the use it is made for), and
 * it changes and improves the clustering of these (else the test could not
 * fail). */
START_TEST(test_cluster_uses_the_map)
{
    enum { N = 240, D = 8, C = 12 };
    float xfit[N * D], x[N * D], w[D * D] = {0}, xt[N * D];
    int64_t yfit[N], y[N];
    nuisance_classes(xfit, yfit, N, D, C, 5);
    nuisance_classes(x, y, N, D, C, 6); /* other classes: other centres */
    ck_assert_int_eq(hli_whiten_fit(xfit, yfit, N, D, 0.3, w), HL_OK);
    hl_model *m = th_untrained_model(D, 8, 3);
    ck_assert_int_eq(hl_model_set_whitening(m, w), HL_OK);
    ck_assert_int_eq(hl_model_transform(m, x, N, D, xt), HL_OK);
    int64_t with_model[N], mapped[N], raw[N], one_thread[N];
    cluster_labels(m, x, N, D, 2, with_model);
    cluster_labels(m, x, N, D, 1, one_thread);
    cluster_labels(NULL, xt, N, D, 2, mapped);
    cluster_labels(NULL, x, N, D, 2, raw);
    ck_assert_mem_eq(with_model, mapped, sizeof mapped);
    ck_assert_mem_eq(with_model, one_thread, sizeof mapped);
    ck_assert_msg(memcmp(raw, mapped, sizeof raw) != 0, "the map does not change this clustering");
    /* the map, learned on other classes, helps on these */
    hl_metrics mr, mm;
    hl_metrics_init(&mr, sizeof mr);
    hl_metrics_init(&mm, sizeof mm);
    ck_assert_int_eq(hl_evaluate(y, raw, N, &mr), HL_OK);
    ck_assert_int_eq(hl_evaluate(y, mapped, N, &mm), HL_OK);
    ck_assert_msg(mm.pairwise_f > mr.pairwise_f + 0.1, "whitened F %.3f, raw %.3f", mm.pairwise_f, mr.pairwise_f);
    hl_model_free(m);
}
END_TEST

/* Training with an explicit ridge and no validation fits the map on every
 * labelled point: the stored map equals hli_whiten_fit on the normalised
 * features.  whiten = 0 stores none and a non-finite value is refused. */
START_TEST(test_training_stores_the_map)
{
    enum { N = 240, D = 8, C = 12 };
    float x[N * D], w[D * D], got[D * D];
    int64_t y[N];
    random_rows(x, N, D, 17);
    for (int i = 0; i < N; i++) {
        y[i] = (i * 5) % C;
        x[i * D + (y[i] % D)] += 2.0f;
        x[i * D + ((y[i] + 3) % D)] -= 1.5f;
    }
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = D;
    cfg.hidden = 8;
    hl_train_options o;
    hl_train_options_init(&o, sizeof o);
    ck_assert(o.whiten < 0.0); /* the default: fitted, kept if validation agrees */
    o.num_graphs = 1;
    o.epochs = 1;
    o.batch_size = 64;
    o.val_fraction = 0.0;
    o.num_threads = 2;
    o.whiten = 0.3;
    hl_model *m = NULL;
    ck_assert_msg(hl_train(&cfg, &o, x, y, N, D, &m) == HL_OK, "%s", hl_last_error());
    int32_t present = 0;
    ck_assert_int_eq(hl_model_get_whitening(m, got, &present), HL_OK);
    ck_assert_int_eq(present, 1);
    hl_status st;
    float *xn = hli_normalized_copy(x, N, D, &st);
    ck_assert_ptr_nonnull(xn);
    ck_assert_int_eq(hli_whiten_fit(xn, y, N, D, 0.3, w), HL_OK);
    ck_assert_mem_eq(got, w, sizeof w);
    free(xn);
    hl_model_free(m);

    o.whiten = 0.0;
    ck_assert_int_eq(hl_train(&cfg, &o, x, y, N, D, &m), HL_OK);
    ck_assert_int_eq(hl_model_get_whitening(m, NULL, &present), HL_OK);
    ck_assert_int_eq(present, 0);
    hl_model_free(m);

    o.whiten = NAN;
    ck_assert_int_eq(hl_train_options_check(&o), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "whiten"));
    o.whiten = 0.3;
    o.struct_size = offsetof(hl_train_options, whiten); /* smaller than the first release's layout */
    ck_assert_int_eq(hl_train_options_check(&o), HL_EINVAL);
}
END_TEST

static Suite *whiten_suite(void)
{
    Suite *s = suite_create("whiten");
    TCase *tc = tcase_create("whiten");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_fit_hand_computed);
    tcase_add_test(tc, test_fit_whitens_the_scatter);
    tcase_add_test(tc, test_fit_bad_input);
    tcase_add_test(tc, test_transform);
    tcase_add_test(tc, test_cluster_uses_the_map);
    tcase_add_test(tc, test_training_stores_the_map);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(whiten_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
