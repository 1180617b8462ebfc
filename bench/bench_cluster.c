/* End-to-end clustering at scale on synthetic data (bench/synth.h).
 *
 *   bench_cluster [--n 1000000] [--d 128] [--clusters 50000] [--alpha 1.5]
 *                 [--sigma 0.035] [--super S] [--spread 0.7] [--seed 1] [--k 10] [--score sim|snn|prob]
 *                 [--tau T] [--levels L] [--method auto|exact|approx]
 *                 [--model M.hlm] [--threads T] [--whiten R] [--merge M] [--copy]
 *
 * --whiten R fits a within-class whitening map (ridge R) on the generator's
 * labels of the same points, timed, and clusters with it (attached to the
 * model, or to an untrained one used only for its map: give --score snn).
 * The features are clustered in place (hl_cluster_in_place: the generated
 * rows become the library's working copy); --copy calls hl_cluster, which
 * keeps the rows and works on a copy (n x d x 4 bytes more).
 * Prints the machine line, the seconds of every stage of every level (kNN
 * graph, edge scores/model, decode, next level), the total, the peak RSS and
 * the quality against the generator's labels. */
#include "bench_common.h"
#include "synth.h"

#include "hilander.h"
#include "knn/knn_internal.h"
#include "model/whiten.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void log_cb(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    double t0 = *(const double *)user;
    printf("[%8.2f s] %s  (peak RSS %.0f MiB)\n", bench_now() - t0, msg, bench_peak_rss_mib());
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int64_t n = 1000000, d = 128, C = 50000, k = 10, seed = 1, S = 0;
    double alpha = 1.5, sigma = 0.035, spread = 0.7, tau = -1, whiten = 0.0, merge = -1.0;
    int32_t score = -1, levels = 0, threads = 0, method = HL_KNN_AUTO;
    const char *mpath = NULL;
    int copy = 0;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--copy")) {
            copy = 1;
            i--;
            continue;
        }
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "option %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--n"))
            n = atoll(v);
        else if (!strcmp(a, "--d"))
            d = atoll(v);
        else if (!strcmp(a, "--clusters"))
            C = atoll(v);
        else if (!strcmp(a, "--alpha"))
            alpha = atof(v);
        else if (!strcmp(a, "--sigma"))
            sigma = atof(v);
        else if (!strcmp(a, "--super"))
            S = atoll(v);
        else if (!strcmp(a, "--spread"))
            spread = atof(v);
        else if (!strcmp(a, "--seed"))
            seed = atoll(v);
        else if (!strcmp(a, "--k"))
            k = atoll(v);
        else if (!strcmp(a, "--tau"))
            tau = atof(v);
        else if (!strcmp(a, "--levels"))
            levels = atoi(v);
        else if (!strcmp(a, "--threads"))
            threads = atoi(v);
        else if (!strcmp(a, "--merge"))
            merge = atof(v);
        else if (!strcmp(a, "--whiten"))
            whiten = atof(v);
        else if (!strcmp(a, "--model"))
            mpath = v;
        else if (!strcmp(a, "--score"))
            score = !strcmp(v, "prob") ? HL_SCORE_PROB : !strcmp(v, "sim") ? HL_SCORE_SIM : HL_SCORE_SNN;
        else if (!strcmp(a, "--method"))
            method = !strcmp(v, "exact") ? HL_KNN_EXACT : !strcmp(v, "approx") ? HL_KNN_APPROX : HL_KNN_AUTO;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    bench_print_machine();
    printf("bench_cluster: n = %lld, d = %lld, clusters = %lld (Pareto alpha %.2f), sigma %.3f, super-clusters %lld "
           "(spread %.2f), seed %lld, k = %lld, threads %d\n",
           (long long)n, (long long)d, (long long)C, alpha, sigma, (long long)S, spread, (long long)seed, (long long)k,
           (int)threads);
    double t0 = bench_now();
    float *x;
    int64_t *y;
    if (synth_clusters(n, d, C, alpha, sigma, S, spread, (uint64_t)seed, &x, &y) != 0) {
        fprintf(stderr, "generator failed (out of memory or clusters > n)\n");
        return 1;
    }
    double tgen = bench_now() - t0;
    printf("generate: %.2f s\n", tgen);
    hl_model *model = NULL;
    if (mpath && hl_model_load(mpath, &model) != HL_OK) {
        fprintf(stderr, "%s: %s\n", mpath, hl_last_error());
        return 1;
    }
    double tw = 0.0;
    if (whiten > 0.0) {
        hl_status st = HL_OK;
        double t1 = bench_now();
        float *xn = hli_normalized_copy(x, n, d, &st);
        float *w = malloc((size_t)(d * d) * sizeof(float));
        if (xn == NULL || w == NULL || (st = hli_whiten_fit(xn, y, n, d, whiten, w)) != HL_OK) {
            fprintf(stderr, "whitening: %s\n", hl_last_error());
            return 1;
        }
        tw = bench_now() - t1;
        printf("whiten fit (ridge %g): %.2f s\n", whiten, tw);
        if (model == NULL) {
            hl_model_config cfg;
            hl_model_config_init(&cfg, sizeof cfg);
            cfg.feature_dim = d;
            cfg.hidden = 8;
            if (hl_model_create(&cfg, 1, &model) != HL_OK) {
                fprintf(stderr, "model: %s\n", hl_last_error());
                return 1;
            }
        }
        if (hl_model_set_whitening(model, w) != HL_OK) {
            fprintf(stderr, "whitening: %s\n", hl_last_error());
            return 1;
        }
        free(xn);
        free(w);
    }
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = k;
    o.tau = (float)tau;
    o.score = score;
    o.max_levels = levels;
    o.num_threads = threads;
    o.knn_method = method;
    o.merge = (float)merge;
    bench_reset_peak_rss(); /* the generator's temporaries do not count */
    const double rss_before = bench_rss_mib();
    printf("%s; RSS before the call %.0f MiB\n", copy ? "hl_cluster (a working copy of the rows)"
                                                    : "hl_cluster_in_place (the rows are the working copy)", rss_before);
    double tc = bench_now();
    hl_set_log_callback(log_cb, &tc, HL_LOG_INFO);
    hl_clustering *c = NULL;
    if ((copy ? hl_cluster(model, x, n, d, NULL, &o, &c) : hl_cluster_in_place(model, x, n, d, NULL, &o, &c)) !=
        HL_OK) {
        fprintf(stderr, "hl_cluster: %s\n", hl_last_error());
        return 1;
    }
    double tcl = bench_now() - tc;
    hl_set_log_callback(NULL, NULL, HL_LOG_ERROR);
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    hl_clustering_labels(c, -1, lab);
    double te = bench_now();
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    hl_evaluate(y, lab, n, &m);
    te = bench_now() - te;
    printf("cluster total: %.2f s, %d level(s); evaluate: %.2f s; peak RSS %.0f MiB; the library's peak above "
           "the caller's %.0f MiB: %.0f MiB = %.0f bytes per point\n",
           tcl, (int)hl_clustering_num_levels(c), te, bench_peak_rss_mib(), rss_before,
           bench_peak_rss_mib() - rss_before, (bench_peak_rss_mib() - rss_before) * 1048576.0 / (double)n);
    printf("quality: pairwise F %.4f (P %.4f R %.4f), BCubed F %.4f, NMI %.4f, clusters %lld (true %lld)\n",
           m.pairwise_f, m.pairwise_precision, m.pairwise_recall, m.bcubed_f, m.nmi, (long long)m.num_pred_clusters,
           (long long)m.num_true_clusters);
    free(lab);
    hl_clustering_free(c);
    hl_model_free(model);
    free(x);
    free(y);
    return 0;
}
