/* hilander - command-line front end of libhilander (docs/CLI.md).
 *
 *   hilander knn      FEATURES.npy -k K --out-nbrs NBRS.npy --out-sims SIMS.npy
 *   hilander train    --features X.npy --labels Y.npy --model-out M.hlm [...]
 *   hilander cluster  [--model M.hlm] --features X.npy --labels-out L.npy [...]
 *   hilander eval     --labels Y.npy --pred L.npy [--json]
 *   hilander demo     [--data DIR]
 *
 * Exit status: 0 success, 2 usage error (bad option or value, inputs that do
 * not fit together), 1 runtime error (I/O, out of memory, a library failure).
 * Every output is validated before anything is written, and every file is
 * written atomically by the library, so a failed run leaves no partial file. */
#define _POSIX_C_SOURCE 200809L
#include <hilander.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_RUNTIME 1

/* ---- small helpers -------------------------------------------------------- */

static const char *g_prog = "hilander";

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s %s: ", g_prog, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see '%s %s --help')\n", g_prog, cmd);
    return EXIT_USAGE;
}

/* A library failure: print hl_last_error(); invalid input is a usage error. */
static int lib_error(const char *cmd, const char *what, hl_status st)
{
    const char *msg = hl_last_error();
    fprintf(stderr, "%s %s: %s: %s%s%s\n", g_prog, cmd, what, hl_status_str(st), msg[0] ? ": " : "", msg);
    return st == HL_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_f64(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Parse "10,5,3" into at most @p max values in [lo, hi]. */
static int parse_list(const char *s, int64_t lo, int64_t hi, int64_t *vals, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char buf[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof buf || n == max)
            return -1;
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (parse_i64(buf, lo, hi, &vals[n]) != 0)
            return -1;
        n++;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0')
                return -1;
        }
    }
    return n;
}

/* Option iteration: "--name value" or "--name=value". */
typedef struct {
    int argc;
    char **argv;
    int i;
    const char *cmd;
} args_t;

/* If argv[i] is option @p name, set *val to its value (consuming it) and return 1.
 * A missing value sets *val = NULL and returns 1: the caller reports it. */
static int opt_val(args_t *a, const char *name, const char **val)
{
    const char *s = a->argv[a->i];
    size_t len = strlen(name);
    if (strncmp(s, name, len) != 0)
        return 0;
    if (s[len] == '=') {
        *val = s + len + 1;
        return 1;
    }
    if (s[len] != '\0')
        return 0;
    *val = a->i + 1 < a->argc ? a->argv[++a->i] : NULL;
    return 1;
}

static int is_flag(const args_t *a, const char *name)
{
    return strcmp(a->argv[a->i], name) == 0;
}

/* ---- progress on stderr --------------------------------------------------- */

static int g_tty = 0;

static void progress_bar(const char *label, double frac, const char *extra)
{
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    if (g_tty) {
        char bar[31];
        int w = (int)(frac * 30.0 + 0.5);
        for (int i = 0; i < 30; i++)
            bar[i] = i < w ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %3.0f%% %s\033[K", label, bar, 100.0 * frac, extra);
        if (frac >= 1)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s %3.0f%% %s\n", label, 100.0 * frac, extra);
    }
    fflush(stderr);
}

/* ---- input files ---------------------------------------------------------- */

static int read_features(const char *cmd, const char *path, float **x, int64_t *n, int64_t *d)
{
    hl_status st = hl_npy_read_f32(path, x, n, d);
    if (st != HL_OK) {
        fprintf(stderr, "%s %s: cannot read features '%s': %s\n", g_prog, cmd, path, hl_last_error());
        return st == HL_EIO || st == HL_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    return 0;
}

static int read_labels(const char *cmd, const char *path, int64_t **y, int64_t *n)
{
    hl_status st = hl_npy_read_labels(path, y, n);
    if (st != HL_OK) {
        fprintf(stderr, "%s %s: cannot read labels '%s': %s\n", g_prog, cmd, path, hl_last_error());
        return st == HL_EIO || st == HL_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    return 0;
}

static void print_metrics_line(const char *name, const hl_metrics *m, double secs)
{
    printf("%-36s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %8lld", name, m->pairwise_f, m->pairwise_precision,
           m->pairwise_recall, m->bcubed_f, m->bcubed_precision, m->bcubed_recall, m->nmi,
           (long long)m->num_pred_clusters);
    if (secs >= 0)
        printf(" %8.2f", secs);
    printf("\n");
}

static void print_metrics_header(int with_time)
{
    printf("%-36s %7s %7s %7s %7s %7s %7s %7s %8s%s\n", "method", "F_pair", "P_pair", "R_pair", "F_bcub", "P_bcub",
           "R_bcub", "NMI", "clusters", with_time ? "     secs" : "");
}

/* ---- knn ------------------------------------------------------------------ */

static const char *KNN_HELP =
    "usage: hilander knn FEATURES.npy -k K --out-nbrs NBRS.npy --out-sims SIMS.npy\n"
    "                    [--method exact|approx|auto] [--threads T]\n"
    "\n"
    "Find the K nearest neighbours (cosine similarity, the point itself first) of\n"
    "every row of FEATURES.npy (float32, N x D).  Writes NBRS.npy (int64, N x K)\n"
    "and SIMS.npy (float32, N x K), sorted by decreasing similarity.\n";

static int parse_method(const char *s, int32_t *m)
{
    if (strcmp(s, "exact") == 0)
        *m = HL_KNN_EXACT;
    else if (strcmp(s, "approx") == 0)
        *m = HL_KNN_APPROX;
    else if (strcmp(s, "auto") == 0)
        *m = HL_KNN_AUTO;
    else
        return -1;
    return 0;
}

static int cmd_knn(int argc, char **argv)
{
    const char *cmd = "knn", *feat = NULL, *out_nbrs = NULL, *out_sims = NULL, *v;
    int64_t k = -1, threads = 0;
    int32_t method = HL_KNN_AUTO;
    args_t a = {argc, argv, 1, cmd};
    for (; a.i < argc; a.i++) {
        if (is_flag(&a, "--help") || is_flag(&a, "-h")) {
            fputs(KNN_HELP, stdout);
            return 0;
        } else if (opt_val(&a, "-k", &v) || opt_val(&a, "--k", &v)) {
            if (!v || parse_i64(v, 1, INT64_MAX, &k))
                return usage_error(cmd, "-k needs a positive integer");
        } else if (opt_val(&a, "--method", &v)) {
            if (!v || parse_method(v, &method))
                return usage_error(cmd, "--method must be exact, approx or auto");
        } else if (opt_val(&a, "--out-nbrs", &v)) {
            if (!(out_nbrs = v))
                return usage_error(cmd, "--out-nbrs needs a file name");
        } else if (opt_val(&a, "--out-sims", &v)) {
            if (!(out_sims = v))
                return usage_error(cmd, "--out-sims needs a file name");
        } else if (opt_val(&a, "--threads", &v)) {
            if (!v || parse_i64(v, 0, 4096, &threads))
                return usage_error(cmd, "--threads needs an integer in [0, 4096]");
        } else if (argv[a.i][0] == '-' && argv[a.i][1] != '\0') {
            return usage_error(cmd, "unknown option '%s'", argv[a.i]);
        } else if (feat == NULL) {
            feat = argv[a.i];
        } else {
            return usage_error(cmd, "unexpected argument '%s'", argv[a.i]);
        }
    }
    if (!feat)
        return usage_error(cmd, "missing FEATURES.npy");
    if (k < 0)
        return usage_error(cmd, "missing -k K");
    if (!out_nbrs || !out_sims)
        return usage_error(cmd, "both --out-nbrs and --out-sims are required");
    float *x = NULL;
    int64_t n, d;
    int rc = read_features(cmd, feat, &x, &n, &d);
    if (rc)
        return rc;
    if (k > n) {
        hl_free(x);
        return usage_error(cmd, "k = %lld must be <= the number of rows %lld", (long long)k, (long long)n);
    }
    int64_t *nbrs = malloc((size_t)n * (size_t)k * sizeof(int64_t));
    float *sims = malloc((size_t)n * (size_t)k * sizeof(float));
    if (!nbrs || !sims) {
        fprintf(stderr, "%s %s: out of memory for %lld x %lld neighbours\n", g_prog, cmd, (long long)n, (long long)k);
        rc = EXIT_RUNTIME;
        goto done;
    }
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ko.method = method;
    ko.num_threads = (int32_t)threads;
    fprintf(stderr, "knn: %lld x %lld, k = %lld ...\n", (long long)n, (long long)d, (long long)k);
    double t0 = now_s();
    hl_status st = hl_knn_search(x, n, d, &ko, nbrs, sims);
    if (st != HL_OK) {
        rc = lib_error(cmd, "kNN search", st);
        goto done;
    }
    fprintf(stderr, "knn: done in %.2f s\n", now_s() - t0);
    if ((st = hl_npy_write_i64(out_nbrs, nbrs, n, k)) != HL_OK) {
        rc = lib_error(cmd, out_nbrs, st);
        goto done;
    }
    if ((st = hl_npy_write_f32(out_sims, sims, n, k)) != HL_OK) {
        rc = lib_error(cmd, out_sims, st);
        goto done;
    }
done:
    hl_free(x);
    free(nbrs);
    free(sims);
    return rc;
}

/* ---- train ---------------------------------------------------------------- */

static const char *TRAIN_HELP =
    "usage: hilander train --features X.npy --labels Y.npy --model-out M.hlm\n"
    "                      [--k 10,5,3] [--levels 2,3,4] [--hidden 512] [--num-conv 1]\n"
    "                      [--epochs N] [--lr 0.01] [--seed S] [--threads T]\n"
    "                      [--head reference|relational] [--rel-rank 64] [--val-fraction 0.2]\n"
    "                      [--whiten auto|R] [--quiet]\n"
    "\n"
    "Train a LANDER model on labelled features (meta-training: the classes it\n"
    "will cluster later may be different ones).  --k and --levels are paired\n"
    "lists: one multi-level training graph per pair.  A share of the training\n"
    "classes (--val-fraction) is held out to choose the best checkpoint and the\n"
    "clustering defaults stored in the model.  --epochs 0 = automatic.\n"
    "--rel-rank: rank of the relational head's h_i * h_j term (0 = full rank).\n"
    "--whiten: within-class whitening of the features, fitted on the training\n"
    "classes with relative ridge R and stored in the model (0 = off); auto (the\n"
    "default) uses R = 0.3 and keeps the map only if the validation classes\n"
    "cluster better with it.\n";

/* "score snn, tau 0.450, merge 1.4, whitened features": what a model clusters with by default. */
static void describe_defaults(const hl_model *model, char *buf, size_t len)
{
    float tau = -1.0f, merge = 0.0f;
    int32_t score = -1, white = 0;
    hl_model_get_cluster_defaults(model, &tau, &score);
    hl_model_get_cluster_merge(model, &merge);
    hl_model_get_whitening(model, NULL, &white);
    snprintf(buf, len, "score %s, tau %.3f, merge %g%s",
             score == HL_SCORE_PROB ? "prob" : score == HL_SCORE_SIM ? "sim" : "snn", (double)tau, (double)merge,
             white ? ", whitened features" : "");
}

static int train_progress(const hl_train_progress *p, void *user)
{
    int *quiet = user;
    if (*quiet)
        return 0;
    static int64_t last_line = -1;
    char extra[160];
    snprintf(extra, sizeof extra, "step %lld/%lld epoch %d loss %.4f", (long long)p->step, (long long)p->total_steps,
             (int)p->epoch + 1, p->loss);
    if (!isnan(p->val_auc)) {
        size_t l = strlen(extra);
        /* best_val_auc follows the checkpoint metric (by default the
         * validation clustering's mean F), printed beside the link AUCs. */
        snprintf(extra + l, sizeof extra - l, " val_auc %.4f level0 %.4f", p->val_auc, p->val_level0_auc);
        l = strlen(extra);
        if (!isnan(p->val_cluster_f))
            snprintf(extra + l, sizeof extra - l, " val_F %.4f (best %.4f)", p->val_cluster_f, p->best_val_auc);
        else
            snprintf(extra + l, sizeof extra - l, " (best %.4f)", p->best_val_auc);
    }
    double frac = p->total_steps > 0 ? (double)p->step / (double)p->total_steps : 0.0;
    if (g_tty) {
        progress_bar("train", frac, extra);
    } else {
        /* a line per validation, at most ~20 lines otherwise */
        int64_t tick = p->total_steps > 20 ? p->total_steps / 20 : 1;
        if (!isnan(p->val_auc) || p->step / tick != last_line || p->step == p->total_steps) {
            last_line = p->step / tick;
            progress_bar("train", frac, extra);
        }
    }
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    const char *cmd = "train", *feat = NULL, *lab = NULL, *out = NULL, *v;
    int64_t kl[HL_TRAIN_MAX_GRAPHS], ll[HL_TRAIN_MAX_GRAPHS], tmp;
    int nk = -1, nl = -1, quiet = 0;
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    hl_train_options to;
    hl_train_options_init(&to, sizeof to);
    args_t a = {argc, argv, 1, cmd};
    for (; a.i < argc; a.i++) {
        if (is_flag(&a, "--help") || is_flag(&a, "-h")) {
            fputs(TRAIN_HELP, stdout);
            return 0;
        } else if (opt_val(&a, "--features", &v)) {
            if (!(feat = v))
                return usage_error(cmd, "--features needs a file name");
        } else if (opt_val(&a, "--labels", &v)) {
            if (!(lab = v))
                return usage_error(cmd, "--labels needs a file name");
        } else if (opt_val(&a, "--model-out", &v)) {
            if (!(out = v))
                return usage_error(cmd, "--model-out needs a file name");
        } else if (opt_val(&a, "--k", &v)) {
            if (!v || (nk = parse_list(v, 2, 1000000, kl, HL_TRAIN_MAX_GRAPHS)) < 1)
                return usage_error(cmd, "--k needs a comma-separated list of 1..%d integers >= 2",
                                   HL_TRAIN_MAX_GRAPHS);
        } else if (opt_val(&a, "--levels", &v)) {
            if (!v || (nl = parse_list(v, 1, 1000, ll, HL_TRAIN_MAX_GRAPHS)) < 1)
                return usage_error(cmd, "--levels needs a comma-separated list of 1..%d integers >= 1",
                                   HL_TRAIN_MAX_GRAPHS);
        } else if (opt_val(&a, "--hidden", &v)) {
            if (!v || parse_i64(v, 2, 1 << 20, &cfg.hidden))
                return usage_error(cmd, "--hidden needs an integer >= 2");
        } else if (opt_val(&a, "--rel-rank", &v)) {
            if (!v || parse_i64(v, 0, 1 << 20, &tmp))
                return usage_error(cmd, "--rel-rank needs an integer >= 0 (0 = full rank)");
            cfg.rel_rank = (int32_t)tmp;
        } else if (opt_val(&a, "--num-conv", &v)) {
            if (!v || parse_i64(v, 1, 4, &tmp))
                return usage_error(cmd, "--num-conv must be 1..4");
            cfg.num_conv = (int32_t)tmp;
        } else if (opt_val(&a, "--epochs", &v)) {
            if (!v || parse_i64(v, 0, INT32_MAX, &tmp))
                return usage_error(cmd, "--epochs needs an integer >= 0 (0 = automatic)");
            to.epochs = (int32_t)tmp;
        } else if (opt_val(&a, "--lr", &v)) {
            if (!v || parse_f64(v, &to.lr) || !(to.lr > 0))
                return usage_error(cmd, "--lr needs a positive number");
        } else if (opt_val(&a, "--val-fraction", &v)) {
            if (!v || parse_f64(v, &to.val_fraction) || to.val_fraction < 0 || to.val_fraction >= 1)
                return usage_error(cmd, "--val-fraction must be in [0, 1)");
        } else if (opt_val(&a, "--seed", &v)) {
            if (!v || parse_i64(v, 0, INT64_MAX, &tmp))
                return usage_error(cmd, "--seed needs a non-negative integer");
            to.seed = (uint64_t)tmp;
        } else if (opt_val(&a, "--threads", &v)) {
            if (!v || parse_i64(v, 0, 4096, &tmp))
                return usage_error(cmd, "--threads needs an integer in [0, 4096]");
            to.num_threads = (int32_t)tmp;
        } else if (opt_val(&a, "--head", &v)) {
            if (v && strcmp(v, "reference") == 0)
                cfg.link_head = HL_LINK_HEAD_REFERENCE;
            else if (v && strcmp(v, "relational") == 0)
                cfg.link_head = HL_LINK_HEAD_RELATIONAL;
            else
                return usage_error(cmd, "--head must be reference or relational");
        } else if (opt_val(&a, "--whiten", &v)) {
            if (v && strcmp(v, "auto") == 0)
                to.whiten = -1.0;
            else if (!v || parse_f64(v, &to.whiten) || !(to.whiten >= 0))
                return usage_error(cmd, "--whiten must be auto or a number >= 0 (0 = off)");
        } else if (is_flag(&a, "--quiet")) {
            quiet = 1;
        } else {
            return usage_error(cmd, "unknown option '%s'", argv[a.i]);
        }
    }
    if (!feat || !lab || !out)
        return usage_error(cmd, "--features, --labels and --model-out are required");
    if (nk > 0 || nl > 0) {
        if (nk < 0 || nl < 0 || nk != nl)
            return usage_error(cmd, "--k and --levels must be given together, with the same number of values");
        to.num_graphs = nk;
        for (int i = 0; i < nk; i++) {
            to.k_list[i] = kl[i];
            to.levels[i] = (int32_t)ll[i];
        }
    }
    float *x = NULL;
    int64_t *y = NULL, n, d, ny;
    hl_model *model = NULL;
    hl_trainer *tr = NULL;
    int rc = read_features(cmd, feat, &x, &n, &d);
    if (rc)
        return rc;
    if ((rc = read_labels(cmd, lab, &y, &ny)) != 0)
        goto done;
    if (ny != n) {
        rc = usage_error(cmd, "%s has %lld labels but %s has %lld rows", lab, (long long)ny, feat, (long long)n);
        goto done;
    }
    cfg.feature_dim = d;
    hl_status st;
    if ((st = hl_model_config_check(&cfg)) != HL_OK) {
        rc = lib_error(cmd, "model configuration", st);
        goto done;
    }
    to.progress = train_progress;
    to.progress_user = &quiet;
    if ((st = hl_train_options_check(&to)) != HL_OK) {
        rc = lib_error(cmd, "training options", st);
        goto done;
    }
    if ((st = hl_model_create(&cfg, to.seed, &model)) != HL_OK) {
        rc = lib_error(cmd, "creating the model", st);
        goto done;
    }
    fprintf(stderr, "train: %lld x %lld features, %lld parameters; building training graphs ...\n", (long long)n,
            (long long)d, (long long)hl_model_num_params(model));
    double t0 = now_s();
    if ((st = hl_trainer_create(model, &to, x, y, n, d, &tr)) != HL_OK) {
        rc = lib_error(cmd, "preparing training", st);
        goto done;
    }
    st = hl_trainer_run(tr);
    if (st != HL_OK && st != HL_ECANCELED) {
        rc = lib_error(cmd, "training", st);
        goto done;
    }
    char desc[160];
    describe_defaults(model, desc, sizeof desc);
    fprintf(stderr, "train: done in %.1f s; stored clustering defaults: %s\n", now_s() - t0, desc);
    if ((st = hl_model_save(model, out)) != HL_OK) {
        rc = lib_error(cmd, out, st);
        goto done;
    }
    fprintf(stderr, "train: model written to %s\n", out);
done:
    hl_trainer_free(tr);
    hl_model_free(model);
    hl_free(x);
    hl_free(y);
    return rc;
}

/* ---- cluster -------------------------------------------------------------- */

static const char *CLUSTER_HELP =
    "usage: hilander cluster [--model M.hlm] --features X.npy --labels-out L.npy\n"
    "                        [--k 10] [--tau T] [--levels L] [--score prob|sim|snn]\n"
    "                        [--hierarchy-out H.npy] [--truth Y.npy] [--oracle]\n"
    "                        [--method exact|approx|auto] [--nlist N] [--nprobe P]\n"
    "                        [--merge M] [--no-early-stop] [--threads T]\n"
    "\n"
    "Cluster the rows of X.npy.  With --model: the score, tau, level limit and\n"
    "merge stored in the model (chosen on its training classes; the score is\n"
    "its learned edge probability, prob, or snn), and the model's feature map\n"
    "(whitening learned at training) applied to the rows first, whatever the\n"
    "score.\n"
    "Without a model: the unsupervised decode, score snn (shared-neighbour\n"
    "fraction, tau 0.45, merge 1.2) or sim (cosine, tau 0.875), one level by\n"
    "default.\n"
    "--levels 0 = automatic (1; 10 with --oracle).\n"
    "--merge M: after the last level, join clusters A, B whose level-0 edges\n"
    "between them have shared-neighbour fractions summing to more than\n"
    "M * sqrt(|A| |B|); 0 = off; default: the model's stored threshold (chosen\n"
    "on its training data), else 1.2 for snn and off for sim.\n"
    "Writes the final labels (int64, N) to L.npy and, with --hierarchy-out, the\n"
    "labels after every level (int64, levels x N).  With --truth Y.npy it prints\n"
    "per level the nodes, edges added, clusters and pairwise precision/recall\n"
    "(over-merging shows as falling precision).  --oracle (needs --truth)\n"
    "decodes with the true links and densities: the ceiling of the method.\n"
    "--nlist/--nprobe: IVF cells and cells scanned per query of the approximate\n"
    "kNN search (auto uses it above 50,000 nodes); 0 = automatic / calibrated.\n";

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
    if (g_tty)
        progress_bar("cluster", p->max_levels > level ? (double)(level + 1) / p->max_levels : 1.0, extra);
    else
        fprintf(stderr, "cluster: %s\n", extra);
    return 0;
}

static int cmd_cluster(int argc, char **argv)
{
    const char *cmd = "cluster", *mpath = NULL, *feat = NULL, *out = NULL, *hout = NULL, *tpath = NULL, *v;
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    int oracle = 0;
    int64_t tmp;
    double dv;
    args_t a = {argc, argv, 1, cmd};
    for (; a.i < argc; a.i++) {
        if (is_flag(&a, "--help") || is_flag(&a, "-h")) {
            fputs(CLUSTER_HELP, stdout);
            return 0;
        } else if (opt_val(&a, "--model", &v)) {
            if (!(mpath = v))
                return usage_error(cmd, "--model needs a file name");
        } else if (opt_val(&a, "--features", &v)) {
            if (!(feat = v))
                return usage_error(cmd, "--features needs a file name");
        } else if (opt_val(&a, "--labels-out", &v)) {
            if (!(out = v))
                return usage_error(cmd, "--labels-out needs a file name");
        } else if (opt_val(&a, "--hierarchy-out", &v)) {
            if (!(hout = v))
                return usage_error(cmd, "--hierarchy-out needs a file name");
        } else if (opt_val(&a, "--truth", &v)) {
            if (!(tpath = v))
                return usage_error(cmd, "--truth needs a file name");
        } else if (opt_val(&a, "--k", &v) || opt_val(&a, "-k", &v)) {
            if (!v || parse_i64(v, 2, INT64_MAX, &o.k))
                return usage_error(cmd, "--k needs an integer >= 2");
        } else if (opt_val(&a, "--tau", &v)) {
            if (!v || parse_f64(v, &dv) || dv < 0 || dv > 1)
                return usage_error(cmd, "--tau must be a number in [0, 1]");
            o.tau = (float)dv;
        } else if (opt_val(&a, "--levels", &v)) {
            if (!v || parse_i64(v, 0, 1000, &tmp))
                return usage_error(cmd, "--levels needs an integer in [0, 1000] (0 = automatic)");
            o.max_levels = (int32_t)tmp;
        } else if (opt_val(&a, "--score", &v)) {
            if (v && strcmp(v, "prob") == 0)
                o.score = HL_SCORE_PROB;
            else if (v && strcmp(v, "sim") == 0)
                o.score = HL_SCORE_SIM;
            else if (v && strcmp(v, "snn") == 0)
                o.score = HL_SCORE_SNN;
            else
                return usage_error(cmd, "--score must be prob, sim or snn");
        } else if (opt_val(&a, "--method", &v)) {
            if (!v || parse_method(v, &o.knn_method))
                return usage_error(cmd, "--method must be exact, approx or auto");
        } else if (opt_val(&a, "--nlist", &v)) {
            if (!v || parse_i64(v, 0, INT64_MAX, &o.knn_nlist))
                return usage_error(cmd, "--nlist needs an integer >= 0 (0 = automatic)");
        } else if (opt_val(&a, "--nprobe", &v)) {
            if (!v || parse_i64(v, 0, INT64_MAX, &o.knn_nprobe))
                return usage_error(cmd, "--nprobe needs an integer >= 0 (0 = calibrated)");
        } else if (opt_val(&a, "--merge", &v)) {
            if (!v || parse_f64(v, &dv) || !(dv >= 0) || dv > 1e30)
                return usage_error(cmd, "--merge must be a number >= 0 (0 = off)");
            o.merge = (float)dv;
        } else if (opt_val(&a, "--threads", &v)) {
            if (!v || parse_i64(v, 0, 4096, &tmp))
                return usage_error(cmd, "--threads needs an integer in [0, 4096]");
            o.num_threads = (int32_t)tmp;
        } else if (is_flag(&a, "--no-early-stop")) {
            o.early_stop = 0;
        } else if (is_flag(&a, "--oracle")) {
            oracle = 1;
        } else {
            return usage_error(cmd, "unknown option '%s'", argv[a.i]);
        }
    }
    if (!feat || !out)
        return usage_error(cmd, "--features and --labels-out are required");
    if (oracle && !tpath)
        return usage_error(cmd, "--oracle needs --truth");
    if (o.score == HL_SCORE_PROB && !mpath && !oracle)
        return usage_error(cmd, "--score prob needs --model (without a model use sim or snn)");

    float *x = NULL;
    int64_t *truth = NULL, *labels = NULL, *hier = NULL, n, d, nt;
    hl_model *model = NULL;
    hl_clustering *c = NULL;
    hl_status st;
    int rc = 0;
    if (mpath && (st = hl_model_load(mpath, &model)) != HL_OK) {
        fprintf(stderr, "%s %s: cannot load model '%s': %s\n", g_prog, cmd, mpath, hl_last_error());
        return st == HL_EIO || st == HL_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    if ((rc = read_features(cmd, feat, &x, &n, &d)) != 0)
        goto done;
    if (model) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        if ((st = hl_model_get_config(model, &cfg)) != HL_OK) {
            rc = lib_error(cmd, mpath, st);
            goto done;
        }
        if (cfg.feature_dim != d) {
            rc = usage_error(cmd, "the model '%s' expects %lld-dimensional features but '%s' has %lld columns",
                             mpath, (long long)cfg.feature_dim, feat, (long long)d);
            goto done;
        }
    }
    if (tpath) {
        if ((rc = read_labels(cmd, tpath, &truth, &nt)) != 0)
            goto done;
        if (nt != n) {
            rc = usage_error(cmd, "%s has %lld labels but %s has %lld rows", tpath, (long long)nt, feat,
                             (long long)n);
            goto done;
        }
    }
    if (o.k >= n) {
        rc = usage_error(cmd, "k = %lld must be smaller than the number of rows %lld", (long long)o.k, (long long)n);
        goto done;
    }
    cluster_prog cp = {o.max_levels > 0 ? o.max_levels : (model || oracle ? 10 : 1)};
    o.progress = cluster_progress;
    o.progress_user = &cp;
    double t0 = now_s();
    if ((st = hl_cluster(oracle ? NULL : model, x, n, d, oracle ? truth : NULL, &o, &c)) != HL_OK) {
        rc = lib_error(cmd, "clustering", st);
        goto done;
    }
    int32_t L = hl_clustering_num_levels(c);
    if (g_tty)
        progress_bar("cluster", 1.0, "done");
    fprintf(stderr, "cluster: %d level(s) in %.2f s\n", (int)L, now_s() - t0);
    labels = malloc((size_t)n * sizeof(int64_t));
    hier = hout ? malloc((size_t)L * (size_t)n * sizeof(int64_t)) : NULL;
    if (!labels || (hout && !hier)) {
        fprintf(stderr, "%s %s: out of memory\n", g_prog, cmd);
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (truth) {
        printf("%5s %10s %12s %10s %10s %10s %10s %10s\n", "level", "nodes", "edges_added", "clusters", "P_pair",
               "R_pair", "F_pair", "F_bcubed");
    }
    for (int32_t l = 0; l < L; l++) {
        int64_t nodes, added, clusters;
        hl_clustering_labels(c, l, labels);
        hl_clustering_level_stats(c, l, &nodes, NULL, &added, &clusters);
        if (hier)
            memcpy(hier + (size_t)l * (size_t)n, labels, (size_t)n * sizeof(int64_t));
        if (truth) {
            hl_metrics m;
            hl_metrics_init(&m, sizeof m);
            if ((st = hl_evaluate(truth, labels, n, &m)) != HL_OK) {
                rc = lib_error(cmd, "evaluation", st);
                goto done;
            }
            printf("%5d %10lld %12lld %10lld %10.4f %10.4f %10.4f %10.4f\n", (int)l, (long long)nodes,
                   (long long)added, (long long)clusters, m.pairwise_precision, m.pairwise_recall, m.pairwise_f,
                   m.bcubed_f);
        }
    }
    if (truth) {
        hl_metrics m;
        hl_metrics_init(&m, sizeof m);
        hl_evaluate(truth, labels, n, &m);
        printf("final: pairwise F %.4f (P %.4f R %.4f)  BCubed F %.4f (P %.4f R %.4f)  NMI %.4f  clusters %lld "
               "(true %lld)\n",
               m.pairwise_f, m.pairwise_precision, m.pairwise_recall, m.bcubed_f, m.bcubed_precision,
               m.bcubed_recall, m.nmi, (long long)m.num_pred_clusters, (long long)m.num_true_clusters);
    }
    if ((st = hl_npy_write_i64(out, labels, n, 0)) != HL_OK) {
        rc = lib_error(cmd, out, st);
        goto done;
    }
    if (hout && (st = hl_npy_write_i64(hout, hier, L, n)) != HL_OK) {
        rc = lib_error(cmd, hout, st);
        goto done;
    }
done:
    hl_clustering_free(c);
    hl_model_free(model);
    hl_free(x);
    hl_free(truth);
    free(labels);
    free(hier);
    return rc;
}

/* ---- eval ----------------------------------------------------------------- */

static const char *EVAL_HELP =
    "usage: hilander eval --labels Y.npy --pred L.npy [--json]\n"
    "\n"
    "Score predicted cluster labels against the ground truth: pairwise F /\n"
    "precision / recall, BCubed F / precision / recall and NMI (arithmetic\n"
    "normalisation).  Labels are int32 or int64 .npy vectors, any values.\n";

static int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval", *lpath = NULL, *ppath = NULL, *v;
    int json = 0;
    args_t a = {argc, argv, 1, cmd};
    for (; a.i < argc; a.i++) {
        if (is_flag(&a, "--help") || is_flag(&a, "-h")) {
            fputs(EVAL_HELP, stdout);
            return 0;
        } else if (opt_val(&a, "--labels", &v)) {
            if (!(lpath = v))
                return usage_error(cmd, "--labels needs a file name");
        } else if (opt_val(&a, "--pred", &v)) {
            if (!(ppath = v))
                return usage_error(cmd, "--pred needs a file name");
        } else if (is_flag(&a, "--json")) {
            json = 1;
        } else {
            return usage_error(cmd, "unknown option '%s'", argv[a.i]);
        }
    }
    if (!lpath || !ppath)
        return usage_error(cmd, "--labels and --pred are required");
    int64_t *y = NULL, *p = NULL, ny, np;
    int rc = read_labels(cmd, lpath, &y, &ny);
    if (rc)
        return rc;
    if ((rc = read_labels(cmd, ppath, &p, &np)) != 0)
        goto done;
    if (ny != np) {
        rc = usage_error(cmd, "%s has %lld labels but %s has %lld", lpath, (long long)ny, ppath, (long long)np);
        goto done;
    }
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    hl_status st = hl_evaluate(y, p, ny, &m);
    if (st != HL_OK) {
        rc = lib_error(cmd, "evaluation", st);
        goto done;
    }
    if (json) {
        printf("{\"n\": %lld, \"pairwise_f\": %.6f, \"pairwise_precision\": %.6f, \"pairwise_recall\": %.6f, "
               "\"bcubed_f\": %.6f, \"bcubed_precision\": %.6f, \"bcubed_recall\": %.6f, \"nmi\": %.6f, "
               "\"num_true_clusters\": %lld, \"num_pred_clusters\": %lld}\n",
               (long long)ny, m.pairwise_f, m.pairwise_precision, m.pairwise_recall, m.bcubed_f, m.bcubed_precision,
               m.bcubed_recall, m.nmi, (long long)m.num_true_clusters, (long long)m.num_pred_clusters);
    } else {
        printf("points            %lld\n", (long long)ny);
        printf("clusters          %lld predicted, %lld true\n", (long long)m.num_pred_clusters,
               (long long)m.num_true_clusters);
        printf("pairwise  F %.4f  precision %.4f  recall %.4f\n", m.pairwise_f, m.pairwise_precision,
               m.pairwise_recall);
        printf("BCubed    F %.4f  precision %.4f  recall %.4f\n", m.bcubed_f, m.bcubed_precision, m.bcubed_recall);
        printf("NMI       %.4f\n", m.nmi);
    }
done:
    hl_free(y);
    hl_free(p);
    return rc;
}

/* ---- spherical k-means (a baseline for the demo, not library API) --------- */

/* Uniform double in [0,1) from a splitmix64 state. */
static double rnd_unit(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* S = X C^T for a block of rows: X rows (m x d), CT (d x kc): S (m x kc).
 * The inner loop runs over centroids so the compiler vectorises it without
 * reassociating sums (a GEMM-shaped kernel; the CLI does not link BLAS). */
static void block_scores(const float *x, int64_t m, int64_t d, const float *ct, int64_t kc, float *s)
{
    for (int64_t i = 0; i < m; i++) {
        float *si = s + i * kc;
        for (int64_t c = 0; c < kc; c++)
            si[c] = 0.0f;
        for (int64_t t = 0; t < d; t++) {
            const float xv = x[i * d + t];
            const float *row = ct + t * kc;
            for (int64_t c = 0; c < kc; c++)
                si[c] += xv * row[c];
        }
    }
}

static void normalize_rows(float *x, int64_t n, int64_t d)
{
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int64_t t = 0; t < d; t++)
            ss += (double)x[i * d + t] * x[i * d + t];
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        for (int64_t t = 0; t < d; t++)
            x[i * d + t] = (float)(x[i * d + t] * inv);
    }
}

/* Spherical k-means with k-means++ seeding (distance 1 - cos); @p x normalised. */
static int spherical_kmeans(const float *x, int64_t n, int64_t d, int64_t kc, int iters, uint64_t seed,
                            int64_t *assign)
{
    const int64_t B = 256;
    float *cen = malloc((size_t)(kc * d) * sizeof(float)), *ct = malloc((size_t)(kc * d) * sizeof(float));
    float *s = malloc((size_t)(B * kc) * sizeof(float));
    double *dist = malloc((size_t)n * sizeof(double)), *acc = malloc((size_t)(kc * d) * sizeof(double));
    float *best = malloc((size_t)n * sizeof(float));
    int64_t *cnt = malloc((size_t)kc * sizeof(int64_t));
    int rc = -1;
    if (!cen || !ct || !s || !dist || !acc || !best || !cnt)
        goto done;
    uint64_t st = seed;
    /* k-means++ */
    int64_t first = (int64_t)(rnd_unit(&st) * (double)n);
    memcpy(cen, x + first * d, (size_t)d * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        dist[i] = INFINITY;
    for (int64_t c = 1; c <= kc; c++) {
        const float *cp = cen + (c - 1) * d;
        double total = 0;
        for (int64_t i = 0; i < n; i++) {
            double dot = 0;
            for (int64_t t = 0; t < d; t++)
                dot += (double)x[i * d + t] * cp[t];
            double dd = 1.0 - dot;
            if (dd < 0)
                dd = 0;
            if (dd < dist[i])
                dist[i] = dd;
            total += dist[i] * dist[i];
        }
        if (c == kc)
            break;
        double r = rnd_unit(&st) * total, run = 0;
        int64_t pick = n - 1;
        for (int64_t i = 0; i < n; i++) {
            run += dist[i] * dist[i];
            if (run > r) {
                pick = i;
                break;
            }
        }
        memcpy(cen + c * d, x + pick * d, (size_t)d * sizeof(float));
    }
    for (int it = 0; it < iters; it++) {
        for (int64_t c = 0; c < kc; c++)
            for (int64_t t = 0; t < d; t++)
                ct[t * kc + c] = cen[c * d + t];
        int64_t changed = 0;
        for (int64_t i0 = 0; i0 < n; i0 += B) {
            int64_t m = n - i0 < B ? n - i0 : B;
            block_scores(x + i0 * d, m, d, ct, kc, s);
            for (int64_t i = 0; i < m; i++) {
                int64_t arg = 0;
                for (int64_t c = 1; c < kc; c++)
                    if (s[i * kc + c] > s[i * kc + arg])
                        arg = c;
                if (it == 0 || assign[i0 + i] != arg)
                    changed++;
                assign[i0 + i] = arg;
                best[i0 + i] = s[i * kc + arg];
            }
        }
        if (it > 0 && changed == 0)
            break;
        memset(acc, 0, (size_t)(kc * d) * sizeof(double));
        memset(cnt, 0, (size_t)kc * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) {
            cnt[assign[i]]++;
            for (int64_t t = 0; t < d; t++)
                acc[assign[i] * d + t] += x[i * d + t];
        }
        for (int64_t c = 0; c < kc; c++) {
            if (cnt[c] == 0) {
                /* an empty cluster takes the worst-fitting point */
                int64_t w = 0;
                for (int64_t i = 1; i < n; i++)
                    if (best[i] < best[w])
                        w = i;
                best[w] = INFINITY;
                memcpy(cen + c * d, x + w * d, (size_t)d * sizeof(float));
                continue;
            }
            for (int64_t t = 0; t < d; t++)
                cen[c * d + t] = (float)acc[c * d + t];
        }
        normalize_rows(cen, kc, d);
    }
    rc = 0;
done:
    free(cen);
    free(ct);
    free(s);
    free(dist);
    free(acc);
    free(best);
    free(cnt);
    return rc;
}

/* ---- demo ----------------------------------------------------------------- */

static const char *DEMO_HELP =
    "usage: hilander demo [--data DIR] [--epochs N] [--seed S] [--threads T] [--model-out M.hlm]\n"
    "\n"
    "Train on DIR/train_features.npy + train_labels.npy, cluster the unseen\n"
    "classes of DIR/test_features.npy, and score it next to the baselines one\n"
    "would otherwise try: the unsupervised decodes (snn, sim) at their defaults\n"
    "and spherical k-means told the true number of clusters.  DIR defaults to\n"
    "the bundled Omniglot features: ./data/omniglot, then <exe>/../data/omniglot,\n"
    "then ../shared/data/omniglot.\n";

static int file_exists(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, R_OK) == 0;
}

static int find_data_dir(const char *argv0, char *out, size_t cap)
{
    char exe[4096];
    const char *cands[4] = {"./data/omniglot", NULL, "../shared/data/omniglot", "../data/omniglot"};
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 && argv0) {
        snprintf(exe, sizeof exe, "%s", argv0);
        len = (ssize_t)strlen(exe);
    }
    static char rel[4096 + 32];
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(rel, sizeof rel, "%s/../data/omniglot", exe);
            cands[1] = rel;
        }
    }
    for (int i = 0; i < 4; i++)
        if (cands[i] && file_exists(cands[i], "train_features.npy") && file_exists(cands[i], "test_features.npy")) {
            snprintf(out, cap, "%s", cands[i]);
            return 0;
        }
    return -1;
}

static int load_split(const char *cmd, const char *dir, const char *split, float **x, int64_t *n, int64_t *d,
                      int64_t **y)
{
    char p[4096];
    int64_t ny;
    snprintf(p, sizeof p, "%s/%s_features.npy", dir, split);
    int rc = read_features(cmd, p, x, n, d);
    if (rc)
        return rc;
    snprintf(p, sizeof p, "%s/%s_labels.npy", dir, split);
    if ((rc = read_labels(cmd, p, y, &ny)) != 0)
        return rc;
    if (ny != *n)
        return usage_error(cmd, "%s has %lld labels for %lld rows", p, (long long)ny, (long long)*n);
    return 0;
}

static int demo_cluster(const char *name, const hl_model *model, const float *x, const int64_t *y, int64_t n,
                        int64_t d, int32_t score, int32_t threads, hl_metrics *m)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.score = score;
    o.num_threads = threads;
    hl_clustering *c = NULL;
    double t0 = now_s();
    hl_status st = hl_cluster(model, x, n, d, NULL, &o, &c);
    if (st != HL_OK)
        return lib_error("demo", name, st);
    double secs = now_s() - t0;
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    if (!lab) {
        hl_clustering_free(c);
        return EXIT_RUNTIME;
    }
    hl_clustering_labels(c, -1, lab);
    hl_metrics_init(m, sizeof *m);
    hl_evaluate(y, lab, n, m);
    print_metrics_line(name, m, secs);
    free(lab);
    hl_clustering_free(c);
    return 0;
}

static int cmd_demo(int argc, char **argv, const char *argv0)
{
    const char *cmd = "demo", *dir = NULL, *mout = NULL, *v;
    int64_t epochs = 0, seed = 1, threads = 0;
    int quiet = 0;
    args_t a = {argc, argv, 1, cmd};
    for (; a.i < argc; a.i++) {
        if (is_flag(&a, "--help") || is_flag(&a, "-h")) {
            fputs(DEMO_HELP, stdout);
            return 0;
        } else if (opt_val(&a, "--data", &v)) {
            if (!(dir = v))
                return usage_error(cmd, "--data needs a directory");
        } else if (opt_val(&a, "--model-out", &v)) {
            if (!(mout = v))
                return usage_error(cmd, "--model-out needs a file name");
        } else if (opt_val(&a, "--epochs", &v)) {
            if (!v || parse_i64(v, 0, INT32_MAX, &epochs))
                return usage_error(cmd, "--epochs needs an integer >= 0 (0 = automatic)");
        } else if (opt_val(&a, "--seed", &v)) {
            if (!v || parse_i64(v, 0, INT64_MAX, &seed))
                return usage_error(cmd, "--seed needs a non-negative integer");
        } else if (opt_val(&a, "--threads", &v)) {
            if (!v || parse_i64(v, 0, 4096, &threads))
                return usage_error(cmd, "--threads needs an integer in [0, 4096]");
        } else if (is_flag(&a, "--quiet")) {
            quiet = 1;
        } else {
            return usage_error(cmd, "unknown option '%s'", argv[a.i]);
        }
    }
    char found[4096];
    if (!dir) {
        if (find_data_dir(argv0, found, sizeof found) != 0) {
            fprintf(stderr,
                    "%s demo: the Omniglot features were not found in ./data/omniglot, <exe>/../data/omniglot "
                    "or ../shared/data/omniglot; pass --data DIR\n",
                    g_prog);
            return EXIT_USAGE;
        }
        dir = found;
    }
    float *xtr = NULL, *xte = NULL;
    int64_t *ytr = NULL, *yte = NULL, ntr, nte, d, dte;
    hl_model *model = NULL;
    hl_trainer *tr = NULL;
    int64_t *km = NULL;
    float *xn = NULL;
    int rc;
    if ((rc = load_split(cmd, dir, "train", &xtr, &ntr, &d, &ytr)) != 0 ||
        (rc = load_split(cmd, dir, "test", &xte, &nte, &dte, &yte)) != 0)
        goto done;
    if (d != dte) {
        rc = usage_error(cmd, "train features have %lld columns, test features %lld", (long long)d, (long long)dte);
        goto done;
    }
    printf("hilander demo: data %s\n", dir);
    printf("train: %lld points, test: %lld points (classes disjoint from train), %lld dims\n", (long long)ntr,
           (long long)nte, (long long)d);

    /* train */
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = d;
    hl_train_options to;
    hl_train_options_init(&to, sizeof to);
    to.epochs = (int32_t)epochs;
    to.seed = (uint64_t)seed;
    to.num_threads = (int32_t)threads;
    to.progress = train_progress;
    to.progress_user = &quiet;
    hl_status st;
    double t0 = now_s();
    if ((st = hl_model_create(&cfg, to.seed, &model)) != HL_OK) {
        rc = lib_error(cmd, "creating the model", st);
        goto done;
    }
    if ((st = hl_trainer_create(model, &to, xtr, ytr, ntr, d, &tr)) != HL_OK) {
        rc = lib_error(cmd, "preparing training", st);
        goto done;
    }
    st = hl_trainer_run(tr);
    if (st != HL_OK && st != HL_ECANCELED) {
        rc = lib_error(cmd, "training", st);
        goto done;
    }
    double train_s = now_s() - t0;
    char desc[160];
    describe_defaults(model, desc, sizeof desc);
    printf("trained in %.1f s (%lld parameters); stored defaults: %s\n", train_s,
           (long long)hl_model_num_params(model), desc);
    if (mout && (st = hl_model_save(model, mout)) != HL_OK) {
        rc = lib_error(cmd, mout, st);
        goto done;
    }

    printf("\nclustering the test split:\n");
    print_metrics_header(1);
    hl_metrics m;
    if ((rc = demo_cluster("Hi-LANDER (trained model, defaults)", model, xte, yte, nte, d, -1, (int32_t)threads, &m)))
        goto done;
    if ((rc = demo_cluster("unsupervised snn decode (defaults)", NULL, xte, yte, nte, d, HL_SCORE_SNN,
                           (int32_t)threads, &m)))
        goto done;
    if ((rc = demo_cluster("unsupervised sim decode (defaults)", NULL, xte, yte, nte, d, HL_SCORE_SIM,
                           (int32_t)threads, &m)))
        goto done;

    /* k-means told the true number of clusters */
    hl_metrics mt;
    hl_metrics_init(&mt, sizeof mt);
    hl_evaluate(yte, yte, nte, &mt);
    int64_t kc = mt.num_true_clusters;
    xn = malloc((size_t)(nte * d) * sizeof(float));
    km = malloc((size_t)nte * sizeof(int64_t));
    if (!xn || !km) {
        fprintf(stderr, "%s demo: out of memory\n", g_prog);
        rc = EXIT_RUNTIME;
        goto done;
    }
    memcpy(xn, xte, (size_t)(nte * d) * sizeof(float));
    normalize_rows(xn, nte, d);
    t0 = now_s();
    if (spherical_kmeans(xn, nte, d, kc, 25, (uint64_t)seed, km) != 0) {
        fprintf(stderr, "%s demo: out of memory in k-means\n", g_prog);
        rc = EXIT_RUNTIME;
        goto done;
    }
    double kms = now_s() - t0;
    hl_evaluate(yte, km, nte, &m);
    char name[64];
    snprintf(name, sizeof name, "spherical k-means, true k = %lld", (long long)kc);
    print_metrics_line(name, &m, kms);
    printf("\nF_pair/F_bcub: pairwise/BCubed F; k-means is given the true number of classes, which a\n"
           "user does not know; the decodes find the number of clusters themselves.\n");
done:
    hl_trainer_free(tr);
    hl_model_free(model);
    hl_free(xtr);
    hl_free(xte);
    hl_free(ytr);
    hl_free(yte);
    free(xn);
    free(km);
    return rc;
}

/* ---- main ----------------------------------------------------------------- */

static const char *MAIN_HELP =
    "usage: hilander <command> [options]    (hilander <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  knn      k nearest neighbours of feature vectors (.npy in, .npy out)\n"
    "  train    train a Hi-LANDER model on labelled features\n"
    "  cluster  cluster feature vectors (with a model, or unsupervised)\n"
    "  eval     score predicted labels against ground truth\n"
    "  demo     train on the bundled Omniglot features and compare with baselines\n"
    "\n"
    "exit status: 0 ok, 1 runtime error, 2 usage error\n";

int main(int argc, char **argv)
{
    g_tty = isatty(2);
    if (argc < 2) {
        fputs(MAIN_HELP, stderr);
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        fputs(MAIN_HELP, stdout);
        return 0;
    }
    if (strcmp(c, "--version") == 0) {
        printf("hilander %s\n", hl_version());
        return 0;
    }
    if (strcmp(c, "knn") == 0)
        return cmd_knn(argc - 1, argv + 1);
    if (strcmp(c, "train") == 0)
        return cmd_train(argc - 1, argv + 1);
    if (strcmp(c, "cluster") == 0)
        return cmd_cluster(argc - 1, argv + 1);
    if (strcmp(c, "eval") == 0)
        return cmd_eval(argc - 1, argv + 1);
    if (strcmp(c, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1, argv[0]);
    fprintf(stderr, "%s: unknown command '%s'\n\n%s", g_prog, c, MAIN_HELP);
    return EXIT_USAGE;
}
