/* Gradient checks: the library's forward pass (float) against a naive
 * double-precision reimplementation of the network and its loss
 * (docs/ALGORITHM.md, "The LANDER network", "Training: mini-batches and
 * loss") written here, and
 * every parameter tensor's analytic gradient against central finite
 * differences of that double-precision loss. */
#include "model/model_internal.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small random graph ------------------------------------------------ */
typedef struct tgraph {
    int64_t n, d, m, n_head, ne_all;
    int64_t *offsets, *src;
    float *sim, *aff, *x, *c, *efeat, *dens;
    uint8_t *label, *mask;
    int64_t *y;
} tgraph;

static void tgraph_make(tgraph *g, int64_t n, int64_t d, int64_t k, int64_t n_head, int m, uint64_t seed)
{
    hli_rng r;
    hli_rng_seed(&r, seed);
    memset(g, 0, sizeof *g);
    g->n = n;
    g->d = d;
    g->m = m;
    g->n_head = n_head;
    g->offsets = calloc((size_t)n + 1, sizeof(int64_t));
    g->src = calloc((size_t)(n * k), sizeof(int64_t));
    g->sim = calloc((size_t)(n * k), sizeof(float));
    g->aff = calloc((size_t)(n * k), sizeof(float));
    g->x = calloc((size_t)(n * d), sizeof(float));
    g->c = calloc((size_t)(n * d), sizeof(float));
    g->y = calloc((size_t)n, sizeof(int64_t));
    for (int64_t i = 0; i < n * d; i++) {
        g->x[i] = (float)(2.0 * hli_rng_uniform(&r) - 1.0);
        g->c[i] = (float)(2.0 * hli_rng_uniform(&r) - 1.0);
    }
    for (int64_t i = 0; i < n; i++)
        g->y[i] = (int64_t)hli_rng_below(&r, 3);
    int64_t e = 0;
    for (int64_t i = 0; i < n; i++) {
        g->offsets[i] = e;
        /* node 1 has no in-edges; others k-1 distinct random sources */
        int64_t deg = i == 1 ? 0 : k - 1 - (int64_t)(i % 2);
        double s = 0.0;
        int64_t e0 = e;
        for (int64_t t = 0; t < deg; t++) {
            int64_t j;
            int dup;
            do {
                j = (int64_t)hli_rng_below(&r, (uint64_t)n);
                dup = j == i;
                for (int64_t u = e0; u < e; u++)
                    dup |= g->src[u] == j;
            } while (dup);
            g->src[e] = j;
            g->sim[e] = (float)(0.1 + 0.9 * hli_rng_uniform(&r));
            s += g->sim[e];
            e++;
        }
        for (int64_t u = e0; u < e; u++)
            g->aff[u] = (float)(g->sim[u] / s);
    }
    g->offsets[n] = e;
    g->ne_all = e;
    const int64_t ne = g->offsets[n_head];
    g->efeat = calloc((size_t)(ne * (m ? m : 1) + 1), sizeof(float));
    for (int64_t i = 0; i < ne * m; i++)
        g->efeat[i] = (float)hli_rng_uniform(&r);
    g->dens = calloc((size_t)n_head + 1, sizeof(float));
    for (int64_t i = 0; i < n_head; i++)
        g->dens[i] = (float)(2.0 * hli_rng_uniform(&r) - 1.0);
    g->label = calloc((size_t)ne + 1, 1);
    g->mask = calloc((size_t)ne + 1, 1);
    for (int64_t i = 0; i < n_head; i++)
        for (int64_t u = g->offsets[i]; u < g->offsets[i + 1]; u++) {
            g->label[u] = g->y[g->src[u]] == g->y[i];
            g->mask[u] = hli_rng_uniform(&r) < 0.6;
        }
}

static void tgraph_free(tgraph *g)
{
    free(g->offsets);
    free(g->src);
    free(g->sim);
    free(g->aff);
    free(g->x);
    free(g->c);
    free(g->efeat);
    free(g->dens);
    free(g->label);
    free(g->mask);
    free(g->y);
}

static hli_net_input tgraph_input(const tgraph *g, int with_c)
{
    hli_net_input in = {.n = g->n, .d = g->d, .offsets = g->offsets, .src = g->src, .sim = g->sim,
                        .aff = g->aff, .x = g->x, .c = with_c ? g->c : NULL, .n_head = g->n_head,
                        .efeat = g->efeat};
    return in;
}

/* ---- the naive double-precision reference --------------------------------- */

static const double *P_(const hl_model *m, const double *p, int id) { return p + m->t[id].offset; }

static double prelu_d(double x, double a) { return x > 0 ? x : a * x; }

/* The training loss (docs/ALGORITHM.md, "Training: mini-batches and loss") computed from scratch; also returns p1 per head edge and dhat. */
static double ref_loss(const hl_model *m, const double *p, const tgraph *g, int with_c, int focal, double *prob1,
                       double *dhat_out)
{
    const int64_t n = g->n, d = g->d;
    const int L = m->cfg.num_conv;
    int64_t w = m->width[0];
    double *h = calloc((size_t)(n * w), sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        for (int64_t q = 0; q < d; q++)
            h[i * w + q] = g->x[i * d + q];
        if (m->cfg.use_cluster_feat)
            for (int64_t q = 0; q < d; q++)
                h[i * w + d + q] = with_c ? g->c[i * d + q] : g->x[i * d + q];
    }
    for (int l = 0; l < L; l++) {
        const int64_t wo = m->width[l + 1];
        const double *W = P_(m, p, m->conv_w[l]), *b = P_(m, p, m->conv_b[l]);
        double *hn = calloc((size_t)(n * wo), sizeof(double));
        double *cat = calloc((size_t)(2 * w), sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            for (int64_t q = 0; q < 2 * w; q++)
                cat[q] = q < w ? h[i * w + q] : 0.0;
            for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++)
                for (int64_t q = 0; q < w; q++)
                    cat[w + q] += g->aff[e] * h[g->src[e] * w + q];
            for (int64_t o = 0; o < wo; o++) {
                double s = b[o];
                for (int64_t q = 0; q < 2 * w; q++)
                    s += W[o * 2 * w + q] * cat[q];
                hn[i * wo + o] = s > 0 ? s : 0;
            }
        }
        free(cat);
        free(h);
        h = hn;
        w = wo;
    }
    const int64_t h2 = m->h2;
    const int rel = m->cfg.link_head == HL_LINK_HEAD_RELATIONAL;
    double *z = calloc((size_t)h2, sizeof(double)), *v = calloc((size_t)h2, sizeof(double));
    double ld = 0, ll = 0;
    int64_t nm = 0;
    for (int64_t i = 0; i < g->n_head; i++) {
        const int64_t a0 = g->offsets[i], a1 = g->offsets[i + 1];
        double dh = 0;
        for (int64_t e = a0; e < a1; e++) {
            const int64_t j = g->src[e];
            for (int64_t o = 0; o < h2; o++) {
                double s = P_(m, p, m->src_b)[o] + P_(m, p, m->dst_b)[o];
                for (int64_t q = 0; q < w; q++)
                    s += P_(m, p, m->src_w)[o * w + q] * h[j * w + q] + P_(m, p, m->dst_w)[o * w + q] * h[i * w + q];
                if (rel) {
                    s += P_(m, p, m->rel_b)[o] + P_(m, p, m->edge_b)[o];
                    if (m->relp_w >= 0) { /* low rank: R (U h_i * U h_j) */
                        const int64_t r = m->t[m->relp_w].rows;
                        const double *U = P_(m, p, m->relp_w);
                        for (int64_t t = 0; t < r; t++) {
                            double gi = 0, gj = 0;
                            for (int64_t q = 0; q < w; q++) {
                                gi += U[t * w + q] * h[i * w + q];
                                gj += U[t * w + q] * h[j * w + q];
                            }
                            s += P_(m, p, m->rel_w)[o * r + t] * gi * gj;
                        }
                    } else {
                        for (int64_t q = 0; q < w; q++)
                            s += P_(m, p, m->rel_w)[o * w + q] * h[i * w + q] * h[j * w + q];
                    }
                    for (int q = 0; q < m->m; q++)
                        s += P_(m, p, m->edge_w)[o * m->m + q] * g->efeat[e * m->m + q];
                }
                z[o] = prelu_d(s, P_(m, p, m->prelu1)[o]);
            }
            for (int64_t o = 0; o < h2; o++) {
                double s = P_(m, p, m->l1_b)[o];
                for (int64_t q = 0; q < h2; q++)
                    s += P_(m, p, m->l1_w)[o * h2 + q] * z[q];
                v[o] = prelu_d(s, P_(m, p, m->prelu2)[o]);
            }
            double lg[2];
            for (int o = 0; o < 2; o++) {
                lg[o] = P_(m, p, m->l2_b)[o];
                for (int64_t q = 0; q < h2; q++)
                    lg[o] += P_(m, p, m->l2_w)[o * h2 + q] * v[q];
            }
            const double mx = lg[0] > lg[1] ? lg[0] : lg[1];
            const double lse = mx + log(exp(lg[0] - mx) + exp(lg[1] - mx));
            const double lp0 = lg[0] - lse, lp1 = lg[1] - lse;
            const double p0 = exp(lp0), p1 = exp(lp1);
            if (prob1)
                prob1[e] = p1;
            dh += g->sim[e] * (p1 - p0);
            if (g->mask[e]) {
                const double lpt = g->label[e] ? lp1 : lp0, pt = exp(lpt);
                ll += focal ? -(1 - pt) * (1 - pt) * lpt : -lpt;
                nm++;
            }
        }
        dh = a1 > a0 ? dh / (double)(a1 - a0) : 0.0;
        if (dhat_out)
            dhat_out[i] = dh;
        ld += (dh - g->dens[i]) * (dh - g->dens[i]);
    }
    free(z);
    free(v);
    free(h);
    return ld / (double)g->n_head + (nm ? ll / (double)nm : 0.0);
}

static void run_gradcheck(hl_model_config *cfg, int with_c, int focal, uint64_t seed)
{
    tgraph g;
    tgraph_make(&g, 13, cfg->feature_dim, 5, 9, hli_edge_feature_count(cfg->edge_features), seed);
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(cfg, seed, &m), HL_OK);
    if (cfg->link_head != HL_LINK_HEAD_RELATIONAL)
        g.m = 0;
    /* random PReLU slopes and biases so that every path carries gradient */
    hli_rng r;
    hli_rng_seed(&r, seed + 7);
    for (int64_t q = 0; q < m->h2; q++) {
        hli_param(m, m->prelu1)[q] = (float)(0.1 + 0.5 * hli_rng_uniform(&r));
        hli_param(m, m->prelu2)[q] = (float)(0.1 + 0.5 * hli_rng_uniform(&r));
    }
    hli_net_input in = tgraph_input(&g, with_c);
    hli_net_cache c;
    ck_assert_int_eq(hli_net_forward(m, &in, 2, 0, 0, &c), HL_OK);
    ck_assert_int_eq(c.ne, g.offsets[g.n_head]);
    float *dlogit = calloc((size_t)(2 * c.ne + 2), sizeof(float));
    double lden, llink;
    hli_net_loss(&c, g.n_head, g.offsets, g.sim, g.dens, g.label, g.mask, focal, &lden, &llink, dlogit);
    float *grad = calloc((size_t)m->num_params, sizeof(float));
    ck_assert_int_eq(hli_net_backward(m, &in, &c, dlogit, 2, grad), HL_OK);

    double *p = calloc((size_t)m->num_params, sizeof(double));
    for (int64_t i = 0; i < m->num_params; i++)
        p[i] = m->params[i];
    double *prob1 = calloc((size_t)c.ne + 1, sizeof(double)), *dhat = calloc((size_t)g.n_head, sizeof(double));
    const double L0 = ref_loss(m, p, &g, with_c, focal, prob1, dhat);
    /* forward agrees with the reference */
    for (int64_t e = 0; e < c.ne; e++)
        ck_assert_double_eq_tol(c.prob[2 * e + 1], prob1[e], 2e-5);
    for (int64_t i = 0; i < g.n_head; i++)
        ck_assert_double_eq_tol(c.dhat[i], dhat[i], 2e-5);
    ck_assert_double_eq_tol(lden + llink, L0, 1e-5 * (1 + fabs(L0)));
    ck_assert(c.dhat[1] == 0.0f); /* node 1 has no in-edges */

    /* gradients: all entries of small tensors, 30 random entries of big ones */
    const double h = 1e-6;
    for (int t = 0; t < m->num_tensors; t++) {
        const hli_tensor *T = &m->t[t];
        const int64_t size = T->rows * T->cols;
        const int64_t checks = size <= 48 ? size : 30;
        double gmax = 0;
        for (int64_t q = 0; q < size; q++)
            gmax = fmax(gmax, fabs(grad[T->offset + q]));
        for (int64_t s = 0; s < checks; s++) {
            const int64_t q = size <= 48 ? s : (int64_t)hli_rng_below(&r, (uint64_t)size);
            const int64_t idx = T->offset + q;
            const double keep = p[idx];
            p[idx] = keep + h;
            const double lp = ref_loss(m, p, &g, with_c, focal, NULL, NULL);
            p[idx] = keep - h;
            const double lm = ref_loss(m, p, &g, with_c, focal, NULL, NULL);
            p[idx] = keep;
            const double fd = (lp - lm) / (2 * h);
            const double an = grad[idx];
            const double tol = 2e-3 * fabs(fd) + 1e-4 * gmax + 1e-6;
            if (fabs(fd - an) > tol)
                ck_abort_msg("tensor %s[%lld]: analytic %.8g vs finite difference %.8g", T->name, (long long)q, an,
                             fd);
        }
        /* not trivially zero: every tensor gets some gradient */
        ck_assert_msg(gmax > 0.0, "tensor %s has an all-zero gradient", T->name);
    }
    free(p);
    free(prob1);
    free(dhat);
    free(grad);
    free(dlogit);
    hli_net_cache_free(&c);
    hl_model_free(m);
    tgraph_free(&g);
}

static hl_model_config small_cfg(int head, int L, int cluster)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 3;
    cfg.hidden = 8;
    cfg.num_conv = L;
    cfg.use_cluster_feat = cluster;
    cfg.link_head = head;
    cfg.edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN | HL_EDGE_FEAT_RECIPROCAL;
    return cfg;
}

START_TEST(test_grad_reference_head)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_REFERENCE, 1, 1);
    run_gradcheck(&cfg, 0, 0, 11);
}
END_TEST

START_TEST(test_grad_relational_head)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_RELATIONAL, 1, 1);
    run_gradcheck(&cfg, 1, 0, 12);
}
END_TEST

START_TEST(test_grad_two_layers_focal)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_RELATIONAL, 2, 1);
    run_gradcheck(&cfg, 1, 1, 13);
}
END_TEST

START_TEST(test_grad_four_layers_no_cluster_feat)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_REFERENCE, 4, 0);
    run_gradcheck(&cfg, 0, 1, 14);
}
END_TEST

START_TEST(test_grad_three_layers_relational)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_RELATIONAL, 3, 1);
    run_gradcheck(&cfg, 1, 0, 15);
}
END_TEST

START_TEST(test_grad_relational_low_rank)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_RELATIONAL, 1, 1);
    cfg.rel_rank = 3;
    run_gradcheck(&cfg, 0, 0, 16);
    cfg = small_cfg(HL_LINK_HEAD_RELATIONAL, 2, 1);
    cfg.rel_rank = 5;
    run_gradcheck(&cfg, 1, 1, 17);
}
END_TEST

/* Bit-identical forward and gradients for 1 and 2 threads. */
START_TEST(test_grad_thread_invariance)
{
    hl_model_config cfg = small_cfg(HL_LINK_HEAD_RELATIONAL, 2, 1);
    cfg.feature_dim = 16;
    cfg.hidden = 32;
    cfg.dropout = 0.3f;
    tgraph g;
    tgraph_make(&g, 700, 16, 8, 500, 3, 5);
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(&cfg, 3, &m), HL_OK);
    hli_net_input in = tgraph_input(&g, 1);
    float *gr[2];
    float *pr[2];
    for (int t = 0; t < 2; t++) {
        hli_net_cache c;
        ck_assert_int_eq(hli_net_forward(m, &in, t + 1, 1, 99, &c), HL_OK);
        float *dl = calloc((size_t)(2 * c.ne), sizeof(float));
        hli_net_loss(&c, g.n_head, g.offsets, g.sim, g.dens, g.label, g.mask, 0, NULL, NULL, dl);
        gr[t] = calloc((size_t)m->num_params, sizeof(float));
        ck_assert_int_eq(hli_net_backward(m, &in, &c, dl, t + 1, gr[t]), HL_OK);
        pr[t] = malloc((size_t)(2 * c.ne) * sizeof(float));
        memcpy(pr[t], c.prob, (size_t)(2 * c.ne) * sizeof(float));
        free(dl);
        hli_net_cache_free(&c);
    }
    ck_assert_mem_eq(gr[0], gr[1], (size_t)m->num_params * sizeof(float));
    ck_assert_mem_eq(pr[0], pr[1], (size_t)(2 * g.offsets[g.n_head]) * sizeof(float));
    /* dropout: training forward differs from evaluation forward, and
     * about p of the hidden units are zeroed beyond the ReLU zeros */
    hli_net_cache ce, ct;
    ck_assert_int_eq(hli_net_forward(m, &in, 2, 0, 99, &ce), HL_OK);
    ck_assert_int_eq(hli_net_forward(m, &in, 2, 1, 99, &ct), HL_OK);
    int64_t pos_e = 0, pos_t = 0, nz = g.n * cfg.hidden;
    for (int64_t i = 0; i < nz; i++) {
        pos_e += ce.h[1][i] > 0;
        pos_t += ct.h[1][i] > 0;
    }
    ck_assert(pos_t < pos_e);
    ck_assert_double_eq_tol((double)pos_t / (double)pos_e, 0.7, 0.05);
    hli_net_cache_free(&ce);
    hli_net_cache_free(&ct);
    for (int t = 0; t < 2; t++) {
        free(gr[t]);
        free(pr[t]);
    }
    hl_model_free(m);
    tgraph_free(&g);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_grad_reference_head);
    tcase_add_test(tc, test_grad_relational_head);
    tcase_add_test(tc, test_grad_two_layers_focal);
    tcase_add_test(tc, test_grad_four_layers_no_cluster_feat);
    tcase_add_test(tc, test_grad_three_layers_relational);
    tcase_add_test(tc, test_grad_relational_low_rank);
    tcase_add_test(tc, test_grad_thread_invariance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gradcheck_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
