/* hilander knn: the k nearest neighbours of every row of a feature file. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const CMD = "knn";

int cmd_knn(int argc, char **argv)
{
    const char *out_nbrs = NULL, *out_sims = NULL;
    int64_t k = -1, threads = 0;
    int method = HL_KNN_AUTO; /* the choices below are listed in enum order */
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    char method_help[96];
    snprintf(method_help, sizeof method_help, "search (default auto: exact up to %lld rows, IVF above)",
             (long long)ko.auto_threshold);
    const cli_opt opts[] = {
        {.name = "k", .short_name = 'k', .kind = CLI_INT, .dst = &k, .metavar = "K", .ilo = 1, .ihi = INT64_MAX,
         .help = "neighbours per row, the row itself included (required)", .error = "-k needs a positive integer"},
        {.name = "out-nbrs", .kind = CLI_STR, .dst = &out_nbrs, .metavar = "NBRS.npy",
         .help = "output: neighbour ids, int64 N x K (required)", .error = "--out-nbrs needs a file name"},
        {.name = "out-sims", .kind = CLI_STR, .dst = &out_sims, .metavar = "SIMS.npy",
         .help = "output: cosine similarities, float32 N x K (required)", .error = "--out-sims needs a file name"},
        {.name = "method", .kind = CLI_CHOICE, .dst = &method, .metavar = "exact|approx|auto",
         .choices = "auto|exact|approx", .help = method_help, .error = "--method must be exact, approx or auto"},
        {.name = "threads", .kind = CLI_INT, .dst = &threads, .metavar = "T", .ilo = 0, .ihi = 4096,
         .help = "threads, 0 = all cores (default 0); never changes results",
         .error = "--threads needs an integer in [0, 4096]"},
        {0}};
    const cli_command cmd = {
        CMD, "FEATURES.npy -k K --out-nbrs NBRS.npy --out-sims SIMS.npy\n"
             "                    [--method exact|approx|auto] [--threads T]",
        "Find the K nearest neighbours (cosine similarity, the point itself first) of\n"
        "every row of FEATURES.npy (float32, N x D).  Writes NBRS.npy (int64, N x K)\n"
        "and SIMS.npy (float32, N x K), sorted by decreasing similarity.\n",
        opts, 1};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos < 1)
        return cli_usage_error(CMD, "missing FEATURES.npy");
    if (k < 0)
        return cli_usage_error(CMD, "missing -k K");
    if (!out_nbrs || !out_sims)
        return cli_usage_error(CMD, "both --out-nbrs and --out-sims are required");

    const char *feat = pos[0];
    float *x = NULL, *sims = NULL;
    int64_t *nbrs = NULL, n, d;
    if ((rc = cli_read_features(CMD, feat, &x, &n, &d)) != 0)
        return rc;
    if (k > n) {
        hl_free(x);
        return cli_data_error(CMD, "k = %lld must be <= the number of rows %lld", (long long)k, (long long)n);
    }
    if ((uint64_t)n > SIZE_MAX / sizeof(int64_t) / (uint64_t)k ||
        !(nbrs = malloc((size_t)n * (size_t)k * sizeof(int64_t))) ||
        !(sims = malloc((size_t)n * (size_t)k * sizeof(float)))) {
        fprintf(stderr, "hilander %s: out of memory for %lld x %lld neighbours\n", CMD, (long long)n, (long long)k);
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    ko.k = k;
    ko.method = method;
    ko.num_threads = (int32_t)threads;
    fprintf(stderr, "knn: %lld x %lld, k = %lld ...\n", (long long)n, (long long)d, (long long)k);
    double t0 = cli_now();
    hl_status st = hl_knn_search(x, n, d, &ko, nbrs, sims);
    if (st != HL_OK) {
        rc = cli_lib_error(CMD, "kNN search", st);
        goto done;
    }
    fprintf(stderr, "knn: done in %.2f s\n", cli_now() - t0);
    if ((st = hl_npy_write_i64(out_nbrs, nbrs, n, k)) != HL_OK)
        rc = cli_lib_error(CMD, out_nbrs, st);
    else if ((st = hl_npy_write_f32(out_sims, sims, n, k)) != HL_OK)
        rc = cli_lib_error(CMD, out_sims, st);
done:
    hl_free(x);
    free(nbrs);
    free(sims);
    return rc;
}
