/* Clustering quality on the Omniglot features: the model-free anchors and
 * the oracle ceiling (docs/QUALITY.md, docs/perf-cluster.md).
 *
 *   bench_omniglot_cluster [DATA_DIR] [--sweep] [--k K] [--levels L] [--threads T]
 *
 * Prints, for the test split: the oracle decode (true links and densities:
 * the ceiling), and the unsupervised SIM and SNN decodes at the library's
 * defaults.  With --sweep it also sweeps tau for SIM and SNN on the TRAIN
 * split (the only split used to choose the defaults) and on test for
 * reference (never used for a choice). */
#include "bench_common.h"

#include "hilander.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HL_BENCH_DATA
#define HL_BENCH_DATA "data/omniglot"
#endif

static int32_t g_levels = 0;

static int load(const char *dir, const char *split, float **x, int64_t *n, int64_t *d, int64_t **y)
{
    char p[4096];
    int64_t ny;
    snprintf(p, sizeof p, "%s/%s_features.npy", dir, split);
    if (hl_npy_read_f32(p, x, n, d) != HL_OK) {
        fprintf(stderr, "%s: %s\n", p, hl_last_error());
        return -1;
    }
    snprintf(p, sizeof p, "%s/%s_labels.npy", dir, split);
    if (hl_npy_read_labels(p, y, &ny) != HL_OK || ny != *n) {
        fprintf(stderr, "%s: %s\n", p, hl_last_error());
        return -1;
    }
    return 0;
}

static int run(const char *name, const float *x, int64_t n, int64_t d, const int64_t *y, int oracle, int32_t score,
               float tau, int64_t k, int32_t threads)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = k;
    o.score = score;
    o.tau = tau;
    o.num_threads = threads;
    o.knn_method = HL_KNN_EXACT;
    o.max_levels = g_levels;
    hl_clustering *c = NULL;
    double t0 = bench_now();
    if (hl_cluster(NULL, x, n, d, oracle ? y : NULL, &o, &c) != HL_OK) {
        fprintf(stderr, "%s: %s\n", name, hl_last_error());
        return -1;
    }
    double t1 = bench_now();
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    hl_clustering_labels(c, -1, lab);
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    hl_evaluate(y, lab, n, &m);
    int64_t nodes, added;
    printf("%-26s tau=%5.3f levels=%d clusters=%6lld  Fp=%.4f (P %.3f R %.3f)  Fb=%.4f  NMI=%.4f  %.2fs\n", name,
           (double)tau, hl_clustering_num_levels(c), (long long)m.num_pred_clusters, m.pairwise_f,
           m.pairwise_precision, m.pairwise_recall, m.bcubed_f, m.nmi, t1 - t0);
    for (int32_t l = 0; l < hl_clustering_num_levels(c) && oracle; l++) {
        int64_t cl;
        hl_clustering_level_stats(c, l, &nodes, NULL, &added, &cl);
        hl_metrics ml;
        hl_metrics_init(&ml, sizeof ml);
        hl_clustering_labels(c, l, lab);
        hl_evaluate(y, lab, n, &ml);
        printf("    level %d: nodes %lld, added %lld, clusters %lld: Fp=%.4f Fb=%.4f NMI=%.4f\n", (int)l,
               (long long)nodes, (long long)added, (long long)cl, ml.pairwise_f, ml.bcubed_f, ml.nmi);
    }
    free(lab);
    hl_clustering_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = HL_BENCH_DATA;
    int sweep = 0;
    int64_t k = 10;
    int32_t threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sweep") == 0)
            sweep = 1;
        else if (strcmp(argv[i], "--k") == 0 && i + 1 < argc)
            k = atoll(argv[++i]);
        else if (strcmp(argv[i], "--levels") == 0 && i + 1 < argc)
            g_levels = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    bench_print_machine();
    float *xtr, *xte;
    int64_t *ytr, *yte, ntr, nte, d, d2;
    if (load(dir, "train", &xtr, &ntr, &d, &ytr) || load(dir, "test", &xte, &nte, &d2, &yte))
        return 1;
    printf("data %s: train %lld x %lld, test %lld x %lld, k = %lld\n", dir, (long long)ntr, (long long)d,
           (long long)nte, (long long)d2, (long long)k);
    if (sweep) {
        static const float taus_sim[] = {0.8f, 0.85f, 0.875f, 0.9f, 0.91f, 0.92f, 0.93f, 0.94f, 0.95f, 0.96f, 0.97f};
        static const float taus_snn[] = {0.3f, 0.4f, 0.45f, 0.5f, 0.525f, 0.55f, 0.575f, 0.6f, 0.65f, 0.7f};
        for (int split = 0; split < 2; split++) {
            const float *x = split ? xte : xtr;
            const int64_t *y = split ? yte : ytr;
            int64_t n = split ? nte : ntr;
            printf("-- sweep on %s%s\n", split ? "test" : "train", split ? " (reference only, never used to choose)" : "");
            for (size_t t = 0; t < sizeof taus_sim / sizeof *taus_sim; t++)
                run("sim", x, n, d, y, 0, HL_SCORE_SIM, taus_sim[t], k, threads);
            for (size_t t = 0; t < sizeof taus_snn / sizeof *taus_snn; t++)
                run("snn", x, n, d, y, 0, HL_SCORE_SNN, taus_snn[t], k, threads);
        }
    }
    printf("-- test split\n");
    run("oracle (true links+dens)", xte, nte, d2, yte, 1, -1, -1.0f, k, threads);
    run("sim, default tau", xte, nte, d2, yte, 0, HL_SCORE_SIM, -1.0f, k, threads);
    run("snn, default tau", xte, nte, d2, yte, 0, HL_SCORE_SNN, -1.0f, k, threads);
    printf("peak RSS %.0f MiB\n", bench_peak_rss_mib());
    hl_free(xtr);
    hl_free(xte);
    hl_free(ytr);
    hl_free(yte);
    return 0;
}
