/* hilander cluster: cluster feature vectors with a model or unsupervised. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "cluster";

typedef struct {
    int32_t max_levels;
} cluster_prog;

static int cluster_progress(int32_t level, int64_t num_nodes, int64_t edges_added, void *user)
{
    const cluster_prog *p = user;
    char extra[128];
    snprintf(extra, sizeof extra, "level %d: %lld nodes, %lld edges added", (int)level, (long long)num_nodes,
             (long long)edges_added);
    /* the linkage merge is one level more than the limit: capped at 100 % */
    if (cli_tty)
        cli_progress_bar("cluster", p->max_levels > level ? (double)(level + 1) / p->max_levels : 1.0, extra);
    else
        fprintf(stderr, "cluster: %s\n", extra);
    return 0;
}

/* Per-level table and final scores against the truth (--truth). */
static int report_truth(const hl_clustering *c, const int64_t *truth, int64_t n, int64_t *labels)
{
    hl_metrics m;
    hl_status st;
    printf("%5s %10s %12s %10s %10s %10s %10s %10s\n", "level", "nodes", "edges_added", "clusters", "P_pair",
           "R_pair", "F_pair", "F_bcubed");
    for (int32_t l = 0; l < hl_clustering_num_levels(c); l++) {
        int64_t nodes, added, clusters;
        hl_clustering_labels(c, l, labels);
        hl_clustering_level_stats(c, l, &nodes, NULL, &added, &clusters);
        hl_metrics_init(&m, sizeof m);
        if ((st = hl_evaluate(truth, labels, n, &m)) != HL_OK)
            return cli_lib_error(CMD, "evaluation", st);
        printf("%5d %10lld %12lld %10lld %10.4f %10.4f %10.4f %10.4f\n", (int)l, (long long)nodes, (long long)added,
               (long long)clusters, m.pairwise_precision, m.pairwise_recall, m.pairwise_f, m.bcubed_f);
    }
    hl_clustering_labels(c, -1, labels);
    hl_metrics_init(&m, sizeof m);
    if ((st = hl_evaluate(truth, labels, n, &m)) != HL_OK)
        return cli_lib_error(CMD, "evaluation", st);
    printf("final: pairwise F %.4f (P %.4f R %.4f)  BCubed F %.4f (P %.4f R %.4f)  NMI %.4f  clusters %lld "
           "(true %lld)\n",
           m.pairwise_f, m.pairwise_precision, m.pairwise_recall, m.bcubed_f, m.bcubed_precision, m.bcubed_recall,
           m.nmi, (long long)m.num_pred_clusters, (long long)m.num_true_clusters);
    return 0;
}

int cmd_cluster(int argc, char **argv)
{
    const char *mpath = NULL, *feat = NULL, *out = NULL, *hout = NULL, *cout = NULL, *tpath = NULL;
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    /* Values as parsed, copied into o below; they start at the library's defaults. */
    int oracle = 0, no_early_stop = 0, score = o.score, method = o.knn_method; /* choices in enum order */
    int64_t levels = o.max_levels, threads = o.num_threads;
    double tau = o.tau, merge = o.merge;
    char h_method[112];
    snprintf(h_method, sizeof h_method, "kNN search (default auto: exact up to %lld nodes a level, IVF above)",
             (long long)o.knn_auto_threshold);
    const cli_opt opts[] = {
        {.name = "model", .kind = CLI_STR, .dst = &mpath, .metavar = "M.hlm",
         .help = "a trained model (default: the unsupervised decode)", .error = "--model needs a file name"},
        {.name = "features", .kind = CLI_STR, .dst = &feat, .metavar = "X.npy",
         .help = "features to cluster, float32 N x D (required)", .error = "--features needs a file name"},
        {.name = "labels-out", .kind = CLI_STR, .dst = &out, .metavar = "L.npy",
         .help = "output: final labels, int64 N (required)", .error = "--labels-out needs a file name"},
        {.name = "hierarchy-out", .kind = CLI_STR, .dst = &hout, .metavar = "H.npy",
         .help = "output: labels after every level, int64 levels x N", .error = "--hierarchy-out needs a file name"},
        {.name = "confidence-out", .kind = CLI_STR, .dst = &cout, .metavar = "C.npy",
         .help = "output: per row, the score of the link that attached it, float32 N x 1",
         .error = "--confidence-out needs a file name"},
        {.name = "truth", .kind = CLI_STR, .dst = &tpath, .metavar = "Y.npy",
         .help = "true labels: print scores per level", .error = "--truth needs a file name"},
        {.name = "oracle", .kind = CLI_FLAG, .dst = &oracle,
         .help = "decode with the true links and densities (needs --truth)"},
        {.name = "k", .short_name = 'k', .kind = CLI_INT, .dst = &o.k, .metavar = "K", .ilo = 2, .ihi = INT64_MAX,
         .help = "neighbours per node, self included (default 10)", .error = "--k needs an integer >= 2"},
        {.name = "tau", .kind = CLI_REAL, .dst = &tau, .metavar = "T", .lo = 0, .hi = 1,
         .help = "edge score threshold (default: the model's, snn 0.45, sim 0.875)",
         .error = "--tau must be a number in [0, 1]"},
        {.name = "levels", .kind = CLI_INT, .dst = &levels, .metavar = "L", .ilo = 0, .ihi = 1000,
         .help = "level limit, 0 = automatic (default 0)",
         .error = "--levels needs an integer in [0, 1000] (0 = automatic)"},
        {.name = "score", .kind = CLI_CHOICE, .dst = &score, .metavar = "prob|sim|snn", .choices = "prob|sim|snn",
         .help = "edge score (default: the model's, else snn)", .error = "--score must be prob, sim or snn"},
        {.name = "merge", .kind = CLI_REAL, .dst = &merge, .metavar = "M", .lo = 0, .hi = 1e30,
         .help = "linkage merge threshold, 0 = off (default: the model's, snn 1.2)",
         .error = "--merge must be a number >= 0 (0 = off)"},
        {.name = "no-early-stop", .kind = CLI_FLAG, .dst = &no_early_stop,
         .help = "run every level up to the limit"},
        {.name = "method", .kind = CLI_CHOICE, .dst = &method, .metavar = "exact|approx|auto",
         .choices = "auto|exact|approx", .help = h_method, .error = "--method must be exact, approx or auto"},
        {.name = "nlist", .kind = CLI_INT, .dst = &o.knn_nlist, .metavar = "N", .ilo = 0, .ihi = INT64_MAX,
         .help = "IVF cells, 0 = automatic (default 0)", .error = "--nlist needs an integer >= 0 (0 = automatic)"},
        {.name = "nprobe", .kind = CLI_INT, .dst = &o.knn_nprobe, .metavar = "P", .ilo = 0, .ihi = INT64_MAX,
         .help = "IVF cells scanned per query, 0 = calibrated (default 0)",
         .error = "--nprobe needs an integer >= 0 (0 = calibrated)"},
        {.name = "threads", .kind = CLI_INT, .dst = &threads, .metavar = "T", .ilo = 0, .ihi = 4096,
         .help = "threads, 0 = all cores (default 0); never changes results",
         .error = "--threads needs an integer in [0, 4096]"},
        {0}};
    const cli_command cmd = {
        CMD, "[--model M.hlm] --features X.npy --labels-out L.npy\n"
             "                        [--k 10] [--tau T] [--levels L] [--score prob|sim|snn]\n"
             "                        [--hierarchy-out H.npy] [--confidence-out C.npy]\n"
             "                        [--truth Y.npy] [--oracle]\n"
             "                        [--method exact|approx|auto] [--nlist N] [--nprobe P]\n"
             "                        [--merge M] [--no-early-stop] [--threads T]",
        "Cluster the rows of X.npy.  With --model: the score, tau, level limit and\n"
        "merge stored in the model (chosen on its training classes), and the model's\n"
        "feature map (whitening learned at training) applied to the rows first.\n"
        "Without a model: the unsupervised decode, score snn (shared-neighbour\n"
        "fraction, tau 0.45, merge 1.2) or sim (cosine, tau 0.875), one level by\n"
        "default.  --merge M joins clusters A, B whose level-0 edges between them\n"
        "have shared-neighbour fractions summing to more than M * sqrt(|A| |B|).\n"
        "With --truth it prints per level the nodes, edges added, clusters and\n"
        "pairwise precision/recall (over-merging shows as falling precision).\n",
        opts, 0};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    o.tau = (float)tau;
    o.merge = (float)merge;
    o.score = score;
    o.knn_method = method;
    o.max_levels = (int32_t)levels;
    o.num_threads = (int32_t)threads;
    if (no_early_stop)
        o.early_stop = 0;
    if (!feat || !out)
        return cli_usage_error(CMD, "--features and --labels-out are required");
    if (oracle && !tpath)
        return cli_usage_error(CMD, "--oracle needs --truth");
    if (o.score == HL_SCORE_PROB && !mpath && !oracle)
        return cli_usage_error(CMD, "--score prob needs --model (without a model use sim or snn)");

    float *x = NULL;
    int64_t *truth = NULL, *labels = NULL, *hier = NULL, n, d, nt;
    float *conf = NULL;
    hl_model *model = NULL;
    hl_clustering *c = NULL;
    hl_status st;
    if (mpath && (st = hl_model_load(mpath, &model)) != HL_OK) {
        fprintf(stderr, "hilander %s: cannot load model '%s': %s\n", CMD, mpath, hl_last_error());
        return cli_read_status(st);
    }
    if ((rc = cli_read_features(CMD, feat, &x, &n, &d)) != 0)
        goto done;
    if (model) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        if ((st = hl_model_get_config(model, &cfg)) != HL_OK) {
            rc = cli_lib_error(CMD, mpath, st);
            goto done;
        }
        if (cfg.feature_dim != d) {
            rc = cli_data_error(CMD, "the model '%s' expects %lld-dimensional features but '%s' has %lld columns",
                                 mpath, (long long)cfg.feature_dim, feat, (long long)d);
            goto done;
        }
    }
    if (tpath) {
        if ((rc = cli_read_labels(CMD, tpath, &truth, &nt)) != 0)
            goto done;
        if (nt != n) {
            rc = cli_data_error(CMD, "%s has %lld labels but %s has %lld rows", tpath, (long long)nt, feat,
                                 (long long)n);
            goto done;
        }
    }
    if (o.k >= n) {
        rc = cli_data_error(CMD, "k = %lld must be smaller than the number of rows %lld", (long long)o.k,
                             (long long)n);
        goto done;
    }
    cluster_prog cp = {o.max_levels > 0 ? o.max_levels : (model || oracle ? 10 : 1)};
    o.progress = cluster_progress;
    o.progress_user = &cp;
    double t0 = cli_now();
    /* the rows read from the file become the library's working copy (no second n x d array) */
    if ((st = hl_cluster_in_place(oracle ? NULL : model, x, n, d, oracle ? truth : NULL, &o, &c)) != HL_OK) {
        rc = cli_lib_error(CMD, "clustering", st);
        goto done;
    }
    const int32_t L = hl_clustering_num_levels(c);
    if (cli_tty)
        cli_progress_bar("cluster", 1.0, "done");
    fprintf(stderr, "cluster: %d level(s) in %.2f s\n", (int)L, cli_now() - t0);
    labels = malloc((size_t)n * sizeof(int64_t));
    hier = hout ? malloc((size_t)L * (size_t)n * sizeof(int64_t)) : NULL;
    conf = cout ? malloc((size_t)n * sizeof(float)) : NULL;
    if (!labels || (hout && !hier) || (cout && !conf)) {
        fprintf(stderr, "hilander %s: out of memory\n", CMD);
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    if (truth && (rc = report_truth(c, truth, n, labels)) != 0)
        goto done;
    for (int32_t l = 0; hier && l < L; l++)
        hl_clustering_labels(c, l, hier + (size_t)l * (size_t)n);
    hl_clustering_labels(c, -1, labels);
    if ((st = hl_npy_write_i64(out, labels, n, 0)) != HL_OK)
        rc = cli_lib_error(CMD, out, st);
    else if (hout && (st = hl_npy_write_i64(hout, hier, L, n)) != HL_OK)
        rc = cli_lib_error(CMD, hout, st);
    else if (cout && ((st = hl_clustering_confidence(c, conf)) != HL_OK || (st = hl_npy_write_f32(cout, conf, n, 1)) != HL_OK))
        rc = cli_lib_error(CMD, cout, st);
done:
    hl_clustering_free(c);
    hl_model_free(model);
    hl_free(x);
    hl_free(truth);
    free(labels);
    free(hier);
    free(conf);
    return rc;
}
