/* The LANDER model: configuration checks, parameter layout and init,
 * inference against the training forward pass and a naive density. */
#include "model/model_internal.h"

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static hl_model_config cfg_small(int head)
{
    hl_model_config c;
    hl_model_config_init(&c, sizeof c);
    c.feature_dim = 3;
    c.hidden = 4;
    c.link_head = head;
    c.edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN;
    c.rel_rank = 0; /* the full-rank layout the hand counts below assume */
    return c;
}

START_TEST(test_config_defaults_and_check)
{
    hl_model_config c;
    hl_model_config_init(&c, sizeof c);
    ck_assert_uint_eq(c.struct_size, sizeof c);
    ck_assert_int_eq(c.hidden, 512);
    ck_assert_int_eq(c.num_conv, 1);
    ck_assert_int_eq(c.use_cluster_feat, 1);
    ck_assert_int_eq(c.layer_type, HL_LAYER_GRAPHCONV);
    ck_assert_int_eq(c.link_head, HL_LINK_HEAD_RELATIONAL);
    ck_assert(c.edge_features & HL_EDGE_FEAT_SNN);
    ck_assert_int_eq(c.rel_rank, 64);
    /* feature_dim has no default */
    ck_assert_int_eq(hl_model_config_check(&c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "feature_dim"));
    c.feature_dim = 16;
    ck_assert_int_eq(hl_model_config_check(&c), HL_OK);
    hl_model_config b = c;
    b.hidden = 7;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "hidden"));
    b = c;
    b.num_conv = 5;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "num_conv"));
    b = c;
    b.dropout = 1.0f;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "dropout"));
    b = c;
    b.dropout = NAN;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    b = c;
    b.layer_type = 1;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "layer_type"));
    b = c;
    b.link_head = 2;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "link_head"));
    b = c;
    b.edge_features = 0;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "edge_features"));
    b.edge_features = 1u << 30;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "edge_features"));
    b.link_head = HL_LINK_HEAD_REFERENCE; /* ignored by the reference head */
    ck_assert_int_eq(hl_model_config_check(&b), HL_OK);
    b = c;
    b.use_cluster_feat = 2;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    b = c;
    b.struct_size = 3;
    ck_assert_int_eq(hl_model_config_check(&b), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "struct_size"));
    ck_assert_int_eq(hl_model_config_check(NULL), HL_EINVAL);
}
END_TEST

START_TEST(test_layout_and_init)
{
    hl_model_config c = cfg_small(HL_LINK_HEAD_REFERENCE);
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(&c, 5, &m), HL_OK);
    /* conv0 4x12+4, src/dst 2x4+2 each, prelu 2+2, l1 2x2+2, l2 2x2+2 */
    ck_assert_int_eq(hl_model_num_params(m), 52 + 10 + 10 + 2 + 6 + 2 + 6);
    ck_assert_int_eq(hl_model_num_params(NULL), 0);
    hl_model_config got;
    got.struct_size = sizeof got;
    ck_assert_int_eq(hl_model_get_config(m, &got), HL_OK);
    ck_assert_int_eq(got.edge_features, 0); /* the reference head has none */
    /* PyTorch init: |w| <= 1/sqrt(fan_in); slopes 0.25 */
    for (int t = 0; t < m->num_tensors; t++) {
        const hli_tensor *T = &m->t[t];
        const float *p = hli_param(m, t);
        if (strstr(T->name, "prelu")) {
            for (int64_t i = 0; i < T->rows; i++)
                ck_assert(p[i] == 0.25f);
            continue;
        }
        /* the fan-in of a bias is its weight's column count: the previous tensor */
        const int64_t fan = T->cols > 1 ? T->cols : m->t[t - 1].cols;
        for (int64_t i = 0; i < T->rows * T->cols; i++)
            ck_assert_msg(fabsf(p[i]) <= 1.0f / sqrtf((float)fan) + 1e-7f, "%s[%lld]", T->name, (long long)i);
    }
    hl_model *m2 = NULL, *m3 = NULL;
    ck_assert_int_eq(hl_model_create(&c, 5, &m2), HL_OK);
    ck_assert_int_eq(hl_model_create(&c, 6, &m3), HL_OK);
    ck_assert_mem_eq(m->params, m2->params, (size_t)m->num_params * sizeof(float));
    ck_assert(memcmp(m->params, m3->params, (size_t)m->num_params * sizeof(float)) != 0);
    hl_model_free(m2);
    hl_model_free(m3);
    hl_model_free(m);

    c = cfg_small(HL_LINK_HEAD_RELATIONAL);
    ck_assert_int_eq(hl_model_create(&c, 5, &m), HL_OK);
    ck_assert_int_eq(hl_model_num_params(m), 88 + 10 + (2 * 2 + 2)); /* + rel + edge(m = 2) */
    hl_model_free(m);
    c.num_conv = 4;
    c.hidden = 8;
    ck_assert_int_eq(hl_model_create(&c, 5, &m), HL_OK);
    ck_assert_int_eq(m->width[1], 8);
    ck_assert_int_eq(m->width[2], 8);
    ck_assert_int_eq(m->width[3], 4);
    ck_assert_int_eq(m->width[4], 4);
    ck_assert_int_eq(m->h2, 4);
    hl_model_free(m);
    ck_assert_int_eq(hl_model_create(&c, 5, NULL), HL_EINVAL);
    c.hidden = 3;
    ck_assert_int_eq(hl_model_create(&c, 5, &m), HL_EINVAL);
    ck_assert_ptr_null(m);
    hl_model_free(NULL);
}
END_TEST

START_TEST(test_cluster_defaults)
{
    hl_model_config c = cfg_small(HL_LINK_HEAD_REFERENCE);
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(&c, 1, &m), HL_OK);
    ck_assert_int_eq(hl_model_set_cluster_defaults(m, 0.3f, HL_SCORE_SNN), HL_OK);
    float tau;
    int32_t s;
    ck_assert_int_eq(hl_model_get_cluster_defaults(m, &tau, &s), HL_OK);
    ck_assert(tau == 0.3f && s == HL_SCORE_SNN);
    ck_assert_int_eq(hl_model_set_cluster_defaults(m, 1.5f, HL_SCORE_SNN), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "tau"));
    ck_assert_int_eq(hl_model_set_cluster_defaults(m, 0.5f, 9), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "score"));
    ck_assert_int_eq(hl_model_set_cluster_defaults(NULL, 0.5f, 0), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_cluster_defaults(NULL, &tau, &s), HL_EINVAL);
    hl_model_free(m);
}
END_TEST

/* ---- inference ------------------------------------------------------------ */

typedef struct fixture {
    int64_t n, d;
    float *x, *c;
    hl_graph *g;
    hl_model *m;
} fixture;

static int32_t fixture_rel_rank = 0; /* rel_rank of the models fixture_make creates */

static void fixture_make(fixture *f, int64_t n, int64_t d, int64_t k, int head, int L, int64_t hidden)
{
    hli_rng r;
    hli_rng_seed(&r, 77);
    f->n = n;
    f->d = d;
    f->x = malloc((size_t)(n * d) * sizeof(float));
    f->c = malloc((size_t)(n * d) * sizeof(float));
    /* 20 noisy clusters */
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int64_t q = 0; q < d; q++) {
            float v = (float)(((i % 20) * 7 + q * 3) % 11) / 11.0f + 0.3f * (float)hli_rng_uniform(&r);
            f->x[i * d + q] = v;
            f->c[i * d + q] = (float)hli_rng_uniform(&r);
            ss += (double)v * v;
        }
        for (int64_t q = 0; q < d; q++)
            f->x[i * d + q] /= (float)sqrt(ss);
    }
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ck_assert_int_eq(hl_graph_build(f->x, n, d, &ko, &f->g), HL_OK);
    hl_model_config c;
    hl_model_config_init(&c, sizeof c);
    c.feature_dim = d;
    c.hidden = hidden;
    c.num_conv = L;
    c.link_head = head;
    c.edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN | HL_EDGE_FEAT_RECIPROCAL | HL_EDGE_FEAT_MEAN_COS;
    c.rel_rank = fixture_rel_rank;
    ck_assert_int_eq(hl_model_create(&c, 3, &f->m), HL_OK);
}

static void fixture_free(fixture *f)
{
    free(f->x);
    free(f->c);
    hl_graph_free(f->g);
    hl_model_free(f->m);
}

/* predict == the training forward on the whole graph; density == naive mean */
static void check_predict_matches_forward_n(int head, int L, int with_c, int64_t npts)
{
    fixture f;
    fixture_make(&f, npts, 8, 10, head, L, 16); /* > 16384 edges: several head chunks */
    const int64_t E = f.g->num_edges, n = f.n;
    ck_assert_int_gt(E, 16384);
    float *prob = malloc((size_t)E * sizeof(float)), *dens = malloc((size_t)n * sizeof(float));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, with_c ? f.c : NULL, n, f.d, 2, prob, dens), HL_OK);
    float *ef = NULL;
    if (head == HL_LINK_HEAD_RELATIONAL) {
        ef = malloc((size_t)(E * f.m->m) * sizeof(float));
        ck_assert_int_eq(hli_edge_features(f.g, f.m->cfg.edge_features, f.x, f.d, 2, ef), HL_OK);
    }
    hli_net_input in = {.n = n, .d = f.d, .offsets = f.g->offsets, .src = f.g->src, .sim = f.g->sim,
                        .aff = f.g->aff, .x = f.x, .c = with_c ? f.c : NULL, .n_head = n, .efeat = ef};
    hli_net_cache c;
    ck_assert_int_eq(hli_net_forward(f.m, &in, 2, 0, 0, &c), HL_OK);
    for (int64_t e = 0; e < E; e++) {
        ck_assert(prob[e] >= 0.0f && prob[e] <= 1.0f);
        ck_assert_float_eq_tol(prob[e], c.prob[2 * e + 1], 1e-6);
    }
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        const int64_t a = f.g->offsets[i], b = f.g->offsets[i + 1];
        for (int64_t e = a; e < b; e++)
            s += (double)f.g->sim[e] * (2.0 * prob[e] - 1.0);
        ck_assert_double_eq_tol(dens[i], b > a ? s / (double)(b - a) : 0.0, 1e-5);
        ck_assert_float_eq_tol(dens[i], c.dhat[i], 1e-6);
    }
    /* thread count never changes the result */
    float *prob1 = malloc((size_t)E * sizeof(float)), *dens1 = malloc((size_t)n * sizeof(float));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, with_c ? f.c : NULL, n, f.d, 1, prob1, dens1), HL_OK);
    ck_assert_mem_eq(prob, prob1, (size_t)E * sizeof(float));
    ck_assert_mem_eq(dens, dens1, (size_t)n * sizeof(float));
    /* either output may be omitted */
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, with_c ? f.c : NULL, n, f.d, 2, NULL, dens1), HL_OK);
    ck_assert_mem_eq(dens, dens1, (size_t)n * sizeof(float));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, with_c ? f.c : NULL, n, f.d, 2, prob1, NULL), HL_OK);
    ck_assert_mem_eq(prob, prob1, (size_t)E * sizeof(float));
    free(prob1);
    free(dens1);
    hli_net_cache_free(&c);
    free(ef);
    free(prob);
    free(dens);
    fixture_free(&f);
}

static void check_predict_matches_forward(int head, int L, int with_c)
{
    check_predict_matches_forward_n(head, L, with_c, 2500);
}

/* more than one node chunk (8,192 nodes) in predict's GraphConv stage, whose
 * last layer feeds A h, B h (and U h at low rank) chunk by chunk */
START_TEST(test_predict_several_node_chunks)
{
    check_predict_matches_forward_n(HL_LINK_HEAD_REFERENCE, 1, 0, 9000);
    check_predict_matches_forward_n(HL_LINK_HEAD_REFERENCE, 2, 1, 9000);
    fixture_rel_rank = 3;
    check_predict_matches_forward_n(HL_LINK_HEAD_RELATIONAL, 2, 0, 9000);
    fixture_rel_rank = 0;
    check_predict_matches_forward_n(HL_LINK_HEAD_RELATIONAL, 1, 0, 9000);
}
END_TEST

START_TEST(test_predict_relational) { check_predict_matches_forward(HL_LINK_HEAD_RELATIONAL, 1, 0); }
END_TEST

START_TEST(test_predict_reference_two_layers) { check_predict_matches_forward(HL_LINK_HEAD_REFERENCE, 2, 1); }
END_TEST

/* The low-rank relational term: layout, config checks, the struct_size of
 * callers compiled before rel_rank existed, and predict == forward. */
START_TEST(test_predict_relational_low_rank)
{
    hl_model_config c;
    hl_model_config_init(&c, sizeof c);
    ck_assert_int_eq(c.rel_rank, 64); /* the default (docs/TRAINING.md) */
    c.rel_rank = 0;
    c.feature_dim = 8;
    c.hidden = 16;
    hl_model *full = NULL, *low = NULL, *old = NULL;
    ck_assert_int_eq(hl_model_create(&c, 1, &full), HL_OK);
    c.rel_rank = 5;
    ck_assert_int_eq(hl_model_create(&c, 1, &low), HL_OK);
    /* R: (8, 16) -> U (5, 16) + R (8, 5) */
    ck_assert_int_eq(hl_model_num_params(low), hl_model_num_params(full) - 8 * 16 + 5 * 16 + 8 * 5);
    ck_assert_int_ge(low->relp_w, 0);
    ck_assert_str_eq(low->t[low->relp_w].name, "link.relproj.weight");
    ck_assert_int_eq(low->t[low->relp_w].rows, 5);
    ck_assert_int_eq(low->t[low->rel_w].cols, 5);
    ck_assert_int_eq(full->relp_w, -1);
    c.rel_rank = -1;
    ck_assert_int_eq(hl_model_config_check(&c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "rel_rank"));
    c.rel_rank = 5;
    c.link_head = HL_LINK_HEAD_REFERENCE; /* ignored by the reference head */
    ck_assert_int_eq(hl_model_create(&c, 1, &old), HL_OK);
    hl_model_config g;
    g.struct_size = sizeof g;
    ck_assert_int_eq(hl_model_get_config(old, &g), HL_OK);
    ck_assert_int_eq(g.rel_rank, 0);
    hl_model_free(old);
    /* a struct smaller than the first released layout is refused */
    c.link_head = HL_LINK_HEAD_RELATIONAL;
    c.struct_size = offsetof(hl_model_config, rel_rank);
    ck_assert_int_eq(hl_model_config_check(&c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "struct_size"));
    c.struct_size = 13;
    ck_assert_int_eq(hl_model_config_check(&c), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "struct_size"));
    hl_model_free(full);
    hl_model_free(low);

    fixture_rel_rank = 5;
    check_predict_matches_forward(HL_LINK_HEAD_RELATIONAL, 1, 0);
    check_predict_matches_forward(HL_LINK_HEAD_RELATIONAL, 2, 1);
    fixture_rel_rank = 0;
}
END_TEST

START_TEST(test_predict_c_null_is_x)
{
    fixture f;
    fixture_make(&f, 300, 8, 5, HL_LINK_HEAD_RELATIONAL, 1, 8);
    const int64_t E = f.g->num_edges;
    float *p1 = malloc((size_t)E * sizeof(float)), *p2 = malloc((size_t)E * sizeof(float));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, f.n, f.d, 0, p1, NULL), HL_OK);
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, f.x, f.n, f.d, 0, p2, NULL), HL_OK);
    ck_assert_mem_eq(p1, p2, (size_t)E * sizeof(float));
    free(p1);
    free(p2);
    fixture_free(&f);
}
END_TEST

typedef struct share_arg {
    const fixture *f;
    float *prob;
    hl_status st;
} share_arg;

static void *predict_thread(void *p)
{
    share_arg *a = p;
    a->st = hl_model_predict(a->f->m, a->f->g, a->f->x, NULL, a->f->n, a->f->d, 1, a->prob, NULL);
    return NULL;
}

START_TEST(test_predict_shared_across_threads)
{
    fixture f;
    fixture_make(&f, 400, 8, 10, HL_LINK_HEAD_RELATIONAL, 2, 8);
    const int64_t E = f.g->num_edges;
    share_arg a[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (share_arg){&f, malloc((size_t)E * sizeof(float)), HL_EINTERNAL};
        ck_assert_int_eq(pthread_create(&th[i], NULL, predict_thread, &a[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(a[i].st, HL_OK);
        ck_assert_mem_eq(a[i].prob, a[0].prob, (size_t)E * sizeof(float));
    }
    for (int i = 0; i < 3; i++)
        free(a[i].prob);
    fixture_free(&f);
}
END_TEST

START_TEST(test_predict_bad_input)
{
    fixture f;
    fixture_make(&f, 100, 8, 5, HL_LINK_HEAD_RELATIONAL, 1, 8);
    float *dens = malloc((size_t)f.n * sizeof(float));
    ck_assert_int_eq(hl_model_predict(NULL, f.g, f.x, NULL, f.n, f.d, 0, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "model"));
    ck_assert_int_eq(hl_model_predict(f.m, NULL, f.x, NULL, f.n, f.d, 0, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "graph"));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, NULL, NULL, f.n, f.d, 0, NULL, dens), HL_EINVAL);
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, f.n - 1, f.d, 0, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "n = 99"));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, f.n, f.d + 1, 0, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "feature_dim"));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, f.n, f.d, -1, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "num_threads"));
    f.x[17 * f.d + 3] = NAN;
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, f.n, f.d, 0, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "17"));
    f.x[17 * f.d + 3] = 0.0f;
    f.c[5 * f.d] = INFINITY;
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, f.c, f.n, f.d, 0, NULL, dens), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "c"));
    free(dens);
    fixture_free(&f);
}
END_TEST

/* predict gives bit-identical outputs for any num_threads, also when the
 * worker pool has fewer threads than asked for (thread creation failing,
 * simulated by the pool's test hook) or none at all */
static void check_predict_threads_identical(int head, int32_t rank)
{
    fixture_rel_rank = rank;
    fixture f;
    fixture_make(&f, 3000, 8, 10, head, 1, 16); /* > 4,096 edges: several head chunks */
    fixture_rel_rank = 0;
    const int64_t E = f.g->num_edges, n = f.n;
    float *p0 = malloc((size_t)E * sizeof(float)), *d0 = malloc((size_t)n * sizeof(float));
    float *p1 = malloc((size_t)E * sizeof(float)), *d1 = malloc((size_t)n * sizeof(float));
    ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, n, f.d, 1, p0, d0), HL_OK);
    static const int32_t nts[] = {2, 3, 0, 7};
    static const int fails[] = {-1, 0, 1};
    for (size_t a = 0; a < sizeof fails / sizeof fails[0]; a++) {
        hli_pool_max_workers_test = fails[a];
        for (size_t b = 0; b < sizeof nts / sizeof nts[0]; b++) {
            memset(p1, 0xff, (size_t)E * sizeof(float));
            memset(d1, 0xff, (size_t)n * sizeof(float));
            ck_assert_int_eq(hl_model_predict(f.m, f.g, f.x, NULL, n, f.d, nts[b], p1, d1), HL_OK);
            ck_assert_mem_eq(p0, p1, (size_t)E * sizeof(float));
            ck_assert_mem_eq(d0, d1, (size_t)n * sizeof(float));
        }
    }
    hli_pool_max_workers_test = -1;
    int64_t bad = 0;
    for (int64_t e = 0; e < E; e++)
        bad += !(p0[e] >= 0.0f && p0[e] <= 1.0f);
    ck_assert_int_eq(bad, 0);
    free(p0);
    free(d0);
    free(p1);
    free(d1);
    fixture_free(&f);
}

START_TEST(test_predict_threads_bit_identical)
{
    check_predict_threads_identical(HL_LINK_HEAD_REFERENCE, 0);
    check_predict_threads_identical(HL_LINK_HEAD_RELATIONAL, 3);
    check_predict_threads_identical(HL_LINK_HEAD_RELATIONAL, 0);
}
END_TEST

typedef struct {
    int32_t *hits;
    int64_t n;
    int32_t tag;
} pool_probe;

static void pool_probe_rows(void *arg, int64_t r0, int64_t r1)
{
    const pool_probe *t = arg;
    if (!(0 <= r0 && r0 < r1 && r1 <= t->n))
        return; /* caught below: those rows stay unmarked */
    for (int64_t i = r0; i < r1; i++)
        t->hits[i] += t->tag; /* each row exactly once per task, or the sum is off */
}

/* the pool: every row of every task done exactly once (many back-to-back
 * tasks of varying size and grain), the serial / partial fallbacks */
START_TEST(test_worker_pool)
{
    ck_assert_ptr_null(hli_pool_create(1));
    ck_assert_ptr_null(hli_pool_create(0));
    ck_assert_int_eq(hli_pool_threads(NULL), 1);
    hli_pool_max_workers_test = 0; /* every pthread_create "fails": no pool */
    ck_assert_ptr_null(hli_pool_create(4));
    hli_pool_max_workers_test = 1; /* only one of three workers */
    hli_pool *part = hli_pool_create(4);
    hli_pool_max_workers_test = -1;
    ck_assert_ptr_nonnull(part);
    ck_assert_int_eq(hli_pool_threads(part), 2);
    hli_pool *full = hli_pool_create(3);
    ck_assert_ptr_nonnull(full);
    ck_assert_int_eq(hli_pool_threads(full), 3);
    hli_pool *pools[] = {NULL, part, full};
    const int64_t nmax = 5000;
    int32_t *hits = calloc((size_t)nmax, sizeof(int32_t));
    for (int p = 0; p < 3; p++) {
        for (int task = 0; task < 300; task++) {
            const int64_t n = 1 + (task * 37) % nmax, grain = 1 + (task * 13) % 300;
            memset(hits, 0, (size_t)nmax * sizeof(int32_t));
            pool_probe t = {.hits = hits, .n = n, .tag = task + 1};
            hli_pool_run(pools[p], pool_probe_rows, &t, n, grain);
            int64_t bad = 0; /* (one assertion per task: Check records each) */
            for (int64_t i = 0; i < nmax; i++)
                bad += hits[i] != (i < n ? task + 1 : 0);
            ck_assert_int_eq(bad, 0);
        }
        pool_probe t0 = {.hits = hits, .n = 0, .tag = 1};
        hli_pool_run(pools[p], pool_probe_rows, &t0, 0, 16); /* no rows: no call */
    }
    free(hits);
    hli_pool_destroy(part);
    hli_pool_destroy(full);
    hli_pool_destroy(NULL);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_config_defaults_and_check);
    tcase_add_test(tc, test_layout_and_init);
    tcase_add_test(tc, test_cluster_defaults);
    tcase_add_test(tc, test_predict_relational);
    tcase_add_test(tc, test_predict_reference_two_layers);
    tcase_add_test(tc, test_predict_relational_low_rank);
    tcase_add_test(tc, test_predict_several_node_chunks);
    tcase_add_test(tc, test_predict_c_null_is_x);
    tcase_add_test(tc, test_predict_shared_across_threads);
    tcase_add_test(tc, test_predict_bad_input);
    tcase_add_test(tc, test_predict_threads_bit_identical);
    tcase_add_test(tc, test_worker_pool);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
