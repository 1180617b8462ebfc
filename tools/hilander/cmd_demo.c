/* hilander demo: train on the bundled Omniglot train split, cluster the
 * unseen test split and compare with the baselines a user would try. */
#include "cli.h"
#include "datadir.h"
#include "kmeans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "demo";

static int load_split(const char *dir, const char *split, float **x, int64_t *n, int64_t *d, int64_t **y)
{
    char p[4096];
    int64_t ny;
    snprintf(p, sizeof p, "%s/%s_features.npy", dir, split);
    int rc = cli_read_features(CMD, p, x, n, d);
    if (rc)
        return rc;
    snprintf(p, sizeof p, "%s/%s_labels.npy", dir, split);
    if ((rc = cli_read_labels(CMD, p, y, &ny)) != 0)
        return rc;
    if (ny != *n)
        return cli_usage_error(CMD, "%s has %lld labels for %lld rows", p, (long long)ny, (long long)*n);
    return 0;
}

/* Cluster the test split with @p model (NULL: unsupervised @p score) and print its scores. */
static int demo_cluster(const char *name, const hl_model *model, const float *x, const int64_t *y, int64_t n,
                        int64_t d, int32_t score, int32_t threads)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.score = score;
    o.num_threads = threads;
    hl_clustering *c = NULL;
    double t0 = cli_now();
    hl_status st = hl_cluster(model, x, n, d, NULL, &o, &c);
    if (st != HL_OK)
        return cli_lib_error(CMD, name, st);
    double secs = cli_now() - t0;
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    if (!lab) {
        hl_clustering_free(c);
        fprintf(stderr, "hilander %s: out of memory\n", CMD);
        return CLI_EXIT_RUNTIME;
    }
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    hl_clustering_labels(c, -1, lab);
    st = hl_evaluate(y, lab, n, &m);
    free(lab);
    hl_clustering_free(c);
    if (st != HL_OK)
        return cli_lib_error(CMD, "evaluation", st);
    cli_print_metrics_line(name, &m, secs);
    return 0;
}

/* Spherical k-means told the true number of clusters, scored like the decodes. */
static int demo_kmeans(const float *x, const int64_t *y, int64_t n, int64_t d, uint64_t seed)
{
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    hl_status st = hl_evaluate(y, y, n, &m);
    if (st != HL_OK)
        return cli_lib_error(CMD, "evaluation", st);
    const int64_t kc = m.num_true_clusters;
    float *xn = malloc((size_t)(n * d) * sizeof(float));
    int64_t *km = malloc((size_t)n * sizeof(int64_t));
    int rc = 0;
    if (!xn || !km) {
        fprintf(stderr, "hilander %s: out of memory\n", CMD);
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    memcpy(xn, x, (size_t)(n * d) * sizeof(float));
    kmeans_normalize_rows(xn, n, d);
    double t0 = cli_now();
    if (kmeans_spherical(xn, n, d, kc, 25, seed, km) != 0) {
        fprintf(stderr, "hilander %s: out of memory in k-means\n", CMD);
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    double secs = cli_now() - t0;
    if ((st = hl_evaluate(y, km, n, &m)) != HL_OK) {
        rc = cli_lib_error(CMD, "evaluation", st);
        goto done;
    }
    char name[64];
    snprintf(name, sizeof name, "spherical k-means, true k = %lld", (long long)kc);
    cli_print_metrics_line(name, &m, secs);
done:
    free(xn);
    free(km);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    const char *dir = NULL, *mout = NULL;
    int64_t epochs = 0, seed = 1, threads = 0;
    int quiet = 0, print_dir = 0;
    const cli_opt opts[] = {
        {.name = "data", .kind = CLI_STR, .dst = &dir, .metavar = "DIR",
         .help = "directory of train_*.npy and test_*.npy (default: see above)",
         .error = "--data needs a directory"},
        {.name = "epochs", .kind = CLI_INT, .dst = &epochs, .metavar = "N", .ilo = 0, .ihi = INT32_MAX,
         .help = "training epochs, 0 = automatic (default 0)",
         .error = "--epochs needs an integer >= 0 (0 = automatic)"},
        {.name = "seed", .kind = CLI_INT, .dst = &seed, .metavar = "S", .ilo = 0, .ihi = INT64_MAX,
         .help = "random seed of training and k-means (default 1)", .error = "--seed needs a non-negative integer"},
        {.name = "threads", .kind = CLI_INT, .dst = &threads, .metavar = "T", .ilo = 0, .ihi = 4096,
         .help = "threads, 0 = all cores (default 0)", .error = "--threads needs an integer in [0, 4096]"},
        {.name = "model-out", .kind = CLI_STR, .dst = &mout, .metavar = "M.hlm",
         .help = "also save the trained model", .error = "--model-out needs a file name"},
        {.name = "quiet", .kind = CLI_FLAG, .dst = &quiet, .help = "no training progress lines"},
        {.name = "print-data-dir", .kind = CLI_FLAG, .dst = &print_dir,
         .help = "print the data directory the demo would use and exit"},
        {0}};
    const cli_command cmd = {
        CMD, "[--data DIR] [--epochs N] [--seed S] [--threads T] [--model-out M.hlm] [--quiet]\n"
             "                     [--print-data-dir]",
        "Train on DIR/train_features.npy + train_labels.npy, cluster the unseen\n"
        "classes of DIR/test_features.npy, and score it next to the baselines one\n"
        "would otherwise try: the unsupervised decodes (snn, sim) at their defaults\n"
        "and spherical k-means told the true number of clusters.  DIR defaults to\n"
        "the bundled Omniglot features: $" CLI_DATA_ENV ", then the directory the\n"
        "install put them in (<hilander>/../share/hilander/omniglot), then\n"
        "./data/omniglot.\n",
        opts, 0};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    char found[4096];
    if (!dir) {
        if (cli_find_data_dir(found, sizeof found) != 0) {
            fprintf(stderr,
                    "hilander demo: the Omniglot features were not found in %s; pass --data DIR or set "
                    "%s=DIR (DIR holding train_features.npy, train_labels.npy, test_features.npy, "
                    "test_labels.npy)\n",
                    found, CLI_DATA_ENV);
            return CLI_EXIT_USAGE;
        }
        dir = found;
    }
    if (print_dir) {
        printf("%s\n", dir);
        return CLI_EXIT_OK;
    }
    float *xtr = NULL, *xte = NULL;
    int64_t *ytr = NULL, *yte = NULL, ntr, nte, d, dte;
    hl_model *model = NULL;
    hl_trainer *tr = NULL;
    if ((rc = load_split(dir, "train", &xtr, &ntr, &d, &ytr)) != 0 ||
        (rc = load_split(dir, "test", &xte, &nte, &dte, &yte)) != 0)
        goto done;
    if (d != dte) {
        rc = cli_usage_error(CMD, "train features have %lld columns, test features %lld", (long long)d,
                             (long long)dte);
        goto done;
    }
    printf("hilander demo: data %s\n", dir);
    printf("train: %lld points, test: %lld points (classes disjoint from train), %lld dims\n", (long long)ntr,
           (long long)nte, (long long)d);

    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = d;
    hl_train_options to;
    hl_train_options_init(&to, sizeof to);
    to.epochs = (int32_t)epochs;
    to.seed = (uint64_t)seed;
    to.num_threads = (int32_t)threads;
    to.progress = cli_train_progress;
    to.progress_user = &quiet;
    hl_status st;
    double t0 = cli_now();
    if ((st = hl_model_create(&cfg, to.seed, &model)) != HL_OK) {
        rc = cli_lib_error(CMD, "creating the model", st);
        goto done;
    }
    if ((st = hl_trainer_create(model, &to, xtr, ytr, ntr, d, &tr)) != HL_OK) {
        rc = cli_lib_error(CMD, "preparing training", st);
        goto done;
    }
    st = hl_trainer_run(tr);
    if (st != HL_OK && st != HL_ECANCELED) {
        rc = cli_lib_error(CMD, "training", st);
        goto done;
    }
    double train_s = cli_now() - t0;
    char desc[160];
    cli_describe_defaults(model, desc, sizeof desc);
    printf("trained in %.1f s (%lld parameters); stored defaults: %s\n", train_s,
           (long long)hl_model_num_params(model), desc);
    if (mout && (st = hl_model_save(model, mout)) != HL_OK) {
        rc = cli_lib_error(CMD, mout, st);
        goto done;
    }

    printf("\nclustering the test split:\n");
    cli_print_metrics_header(1);
    const int32_t th = (int32_t)threads;
    if ((rc = demo_cluster("Hi-LANDER (trained model, defaults)", model, xte, yte, nte, d, -1, th)) != 0 ||
        (rc = demo_cluster("unsupervised snn decode (defaults)", NULL, xte, yte, nte, d, HL_SCORE_SNN, th)) != 0 ||
        (rc = demo_cluster("unsupervised sim decode (defaults)", NULL, xte, yte, nte, d, HL_SCORE_SIM, th)) != 0 ||
        (rc = demo_kmeans(xte, yte, nte, d, (uint64_t)seed)) != 0)
        goto done;
    printf("\nF_pair/F_bcub: pairwise/BCubed F; k-means is given the true number of classes, which a\n"
           "user does not know; the decodes find the number of clusters themselves.\n");
done:
    hl_trainer_free(tr);
    hl_model_free(model);
    hl_free(xtr);
    hl_free(xte);
    hl_free(ytr);
    hl_free(yte);
    return rc;
}
