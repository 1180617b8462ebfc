/* LANDER model throughput (docs/perf-model.md).
 *
 *   bench_model infer [N] [D] [hidden] [k]   inference on random clustered data
 *                                           (default N = 100000, D = 256, hidden 512, k = 10)
 *       env BENCH_HEAD=0|1: only the reference / relational head;
 *       env BENCH_REPS=r: best of r runs (default 3);
 *       env BENCH_RANK=r: rel_rank of the relational head (default: the config default);
 *       env BENCH_NBR_CACHE=path.npy: cache the kNN lists (the graph build is not timed)
 *   bench_model gemm                        sgemm GFLOP/s at the shapes inference uses
 *   bench_model train [epochs]              training seconds per epoch on omniglot train_*
 */
#include "bench_common.h"
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* The 1-minute load average: figures taken on a loaded machine are not comparable. */
static void print_load(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    char buf[128] = "?";
    if (f) {
        if (fgets(buf, sizeof buf, f) == NULL)
            snprintf(buf, sizeof buf, "?\n");
        fclose(f);
    }
    printf("load average (1, 5, 15 min, runnable/total, last pid): %s", buf);
}

static hl_status build_graph(const float *xn, int64_t n, int64_t d, int64_t k, hl_graph **g)
{
    const char *cache = getenv("BENCH_NBR_CACHE");
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    if (cache == NULL)
        return hl_graph_build(xn, n, d, &ko, g);
    char sp[1024];
    snprintf(sp, sizeof sp, "%s.sims.npy", cache);
    float *sims = NULL;
    int64_t *nb = NULL, r = 0, c = 0, r2 = 0, c2 = 0;
    float *nbf = NULL;
    hl_status st;
    if (hl_npy_read_f32(cache, &nbf, &r, &c) == HL_OK && hl_npy_read_f32(sp, &sims, &r2, &c2) == HL_OK &&
        r == n && c == k && r2 == n && c2 == k) {
        nb = malloc((size_t)(n * k) * sizeof(int64_t));
        for (int64_t i = 0; i < n * k; i++)
            nb[i] = (int64_t)nbf[i];
        st = hl_graph_from_neighbors(nb, sims, n, k, g);
    } else {
        nb = malloc((size_t)(n * k) * sizeof(int64_t));
        free(sims);
        sims = malloc((size_t)(n * k) * sizeof(float));
        st = hl_knn_search(xn, n, d, &ko, nb, sims);
        if (st == HL_OK) {
            free(nbf);
            nbf = malloc((size_t)(n * k) * sizeof(float));
            for (int64_t i = 0; i < n * k; i++)
                nbf[i] = (float)nb[i]; /* exact below 2^24 */
            hl_npy_write_f32(cache, nbf, n, k);
            hl_npy_write_f32(sp, sims, n, k);
            st = hl_graph_from_neighbors(nb, sims, n, k, g);
        }
    }
    free(nb);
    free(nbf);
    free(sims);
    return st;
}

static int gemm(void)
{
    static const int shp[][3] = {{8192, 512, 512}, {100000, 512, 512}, {4096, 256, 512}, {4096, 256, 256},
                                 {4096, 256, 64}, {2048, 2048, 2048}};
    for (size_t i = 0; i < sizeof shp / sizeof shp[0]; i++)
        printf("sgemm M = %d, N = %d, K = %d: %.1f GFLOP/s\n", shp[i][0], shp[i][1], shp[i][2],
               bench_sgemm_gflops(shp[i][0], shp[i][1], shp[i][2], 3));
    /* the inference shapes (edge chunk x h2 x h2, node chunk x 512 x 512) in
     * the three layouts */
    static const int shl[][3] = {{16384, 256, 256}, {4096, 256, 256}, {8192, 512, 512}, {16384, 256, 512}};
    for (size_t i = 0; i < sizeof shl / sizeof shl[0]; i++)
        printf("sgemm M = %d, N = %d, K = %d: x W^T %.1f, (W x^T)^T %.1f, x Wt %.1f GFLOP/s\n", shl[i][0], shl[i][1],
               shl[i][2], bench_sgemm_layout_gflops(shl[i][0], shl[i][1], shl[i][2], 0, 10),
               bench_sgemm_layout_gflops(shl[i][0], shl[i][1], shl[i][2], 1, 10), bench_sgemm_layout_gflops(shl[i][0], shl[i][1], shl[i][2], 2, 10));
    print_load();
    return 0;
}

static int infer(int64_t n, int64_t d, int64_t hidden, int64_t k)
{
    hli_rng r;
    hli_rng_seed(&r, 1);
    float *x = malloc((size_t)(n * d) * sizeof(float));
    const int64_t C = n / 10 > 0 ? n / 10 : 1;
    float *cen = malloc((size_t)(C * d) * sizeof(float));
    for (int64_t i = 0; i < C * d; i++)
        cen[i] = (float)(2.0 * hli_rng_uniform(&r) - 1.0);
    for (int64_t i = 0; i < n; i++)
        for (int64_t q = 0; q < d; q++)
            x[i * d + q] = cen[(i % C) * d + q] + (float)(0.5 * (2.0 * hli_rng_uniform(&r) - 1.0));
    hl_status st;
    float *xn = hli_normalized_copy(x, n, d, &st);
    hl_graph *g = NULL;
    double t0 = bench_now();
    if (build_graph(xn, n, d, k, &g) != HL_OK) {
        fprintf(stderr, "graph: %s\n", hl_last_error());
        return 1;
    }
    double tg = bench_now() - t0;
    const int64_t E = g->num_edges;
    const char *hs = getenv("BENCH_HEAD"), *rs = getenv("BENCH_REPS");
    const int reps = rs ? atoi(rs) : 3;
    for (int head = 0; head < 2; head++) {
        if (hs && atoi(hs) != head)
            continue;
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        cfg.feature_dim = d;
        cfg.hidden = hidden;
        cfg.link_head = head;
        if (getenv("BENCH_RANK"))
            cfg.rel_rank = atoi(getenv("BENCH_RANK"));
        hl_model *m = NULL;
        if (hl_model_create(&cfg, 1, &m) != HL_OK)
            return 1;
        float *prob = malloc((size_t)E * sizeof(float)), *dens = malloc((size_t)n * sizeof(float));
        double best = 1e30, cpu = 0.0;
        print_load();
        for (int rep = 0; rep < reps; rep++) {
            double t1 = bench_now(), c1 = cpu_seconds();
            if (hl_model_predict(m, g, xn, NULL, n, d, 0, prob, dens) != HL_OK) {
                fprintf(stderr, "predict: %s\n", hl_last_error());
                return 1;
            }
            double t = bench_now() - t1;
            if (t < best) {
                best = t;
                cpu = cpu_seconds() - c1;
            }
        }
        printf("infer %s head (rel_rank %d): N = %lld, D = %lld, hidden = %lld, k = %lld, E = %lld: %.3f s (best of %d), "
               "%.0f nodes/s, %.0f edges/s, params %lld, peak RSS %.0f MiB; CPU time of that run %.2f s\n",
               head ? "relational" : "reference", (int)m->cfg.rel_rank, (long long)n, (long long)d, (long long)hidden, (long long)k,
               (long long)E, best, reps, (double)n / best, (double)E / best, (long long)m->num_params,
               bench_peak_rss_mib(), cpu);
        print_load();
        free(prob);
        free(dens);
        hl_model_free(m);
    }
    printf("(kNN graph build, not part of the model: %.2f s)\n", tg);
    hl_graph_free(g);
    free(x);
    free(xn);
    free(cen);
    return 0;
}

static int train(int epochs)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *cut = strstr(dir, "bench/bench_model.c");
    if (cut)
        snprintf(cut, sizeof dir - (size_t)(cut - dir), "data/omniglot");
    char p[600];
    snprintf(p, sizeof p, "%s/train_features.npy", dir);
    if (access(p, R_OK) != 0) {
        fprintf(stderr, "bench_model: bundled data missing: %s\n", p);
        return 1;
    }
    float *x;
    int64_t *y, n, d, ny;
    snprintf(p, sizeof p, "%s/train_features.npy", dir);
    if (hl_npy_read_f32(p, &x, &n, &d) != HL_OK)
        return 1;
    snprintf(p, sizeof p, "%s/train_labels.npy", dir);
    if (hl_npy_read_labels(p, &y, &ny) != HL_OK || ny != n)
        return 1;
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = d;
    hl_train_options o;
    hl_train_options_init(&o, sizeof o);
    o.epochs = epochs;
    o.eval_every = 0; /* time the SGD steps only (plus the final evaluation) */
    o.select_tau = 0;
    hl_model *m = NULL;
    hl_model_create(&cfg, 1, &m);
    hl_trainer *t = NULL;
    double t0 = bench_now();
    if (hl_trainer_create(m, &o, x, y, n, d, &t) != HL_OK) {
        fprintf(stderr, "trainer: %s\n", hl_last_error());
        return 1;
    }
    double t1 = bench_now();
    if (hl_trainer_run(t) != HL_OK) {
        fprintf(stderr, "run: %s\n", hl_last_error());
        return 1;
    }
    double t2 = bench_now();
    printf("train omniglot (n = %lld, d = %lld, default config and options, %lld steps/epoch): "
           "set-up %.2f s, %.2f s per epoch (%d epochs), peak RSS %.0f MiB\n",
           (long long)n, (long long)d, (long long)hli_trainer_steps_per_epoch(t), t1 - t0, (t2 - t1) / epochs,
           epochs, bench_peak_rss_mib());
    hl_trainer_free(t);
    hl_model_free(m);
    free(x);
    free(y);
    return 0;
}

int main(int argc, char **argv)
{
    bench_print_machine();
    if (argc >= 2 && !strcmp(argv[1], "gemm"))
        return gemm();
    if (argc >= 2 && !strcmp(argv[1], "train"))
        return train(argc >= 3 ? atoi(argv[2]) : 2);
    int64_t n = argc >= 3 ? atoll(argv[2]) : 100000, d = argc >= 4 ? atoll(argv[3]) : 256;
    int64_t h = argc >= 5 ? atoll(argv[4]) : 512, k = argc >= 6 ? atoll(argv[5]) : 10;
    return infer(n, d, h, k);
}
