/* Training experiments on the Omniglot features (docs/TRAINING.md).
 *
 *   bench_train [options]
 *     --head ref|rel        link head (default: library default)
 *     --feat N              edge feature bits (hl_edge_feature), default: library default
 *     --lr X --steps N --batch N --hidden N --conv N --momentum X --eval N --patience N
 *     --val X               validation fraction of the training classes
 *     --test                after training, report link AUC on the test split (k = 10 graph)
 *     --quiet               no per-evaluation lines
 *     --data DIR            directory with train_/test_ features.npy and labels.npy
 *     --save PATH           save the trained model
 *     --csv PATH --tag NAME append one line per evaluation to PATH (bench/plot_auc.py reads it):
 *                           tag,step,loss,train_auc,val_auc,val_ap,val_l0_auc,val_l0_ap,best,seconds
 *     --wd X                weight decay
 *     --std 0|1             standardise edge features during training (folded into the weights)
 *     --rank R              low-rank relational term (hl_model_config.rel_rank)
 *     --pooled              choose the checkpoint by the pooled validation AUC
 *     --ckauc               choose the checkpoint by the level-0 validation AUC
 *     --ckcluster           choose the checkpoint by validation clustering F (the library default)
 *     --level0              train on level-0 graphs only (levels 1 for every k_list entry)
 *   env BENCH_DEBUG=1       also print the library's debug log (the validation tau curve)
 *
 * Everything is chosen on the validation classes (held out from train_*);
 * --test only reports, it never feeds back into training.
 */
#include "bench_common.h"
#include "train/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int quiet = 0;
static FILE *csv = NULL;
static const char *csv_tag = "";

static int on_progress(const hl_train_progress *p, void *user)
{
    double *t0 = user;
    if (!isnan(p->val_auc) || !isnan(p->train_auc)) {
        if (!quiet)
            printf("  step %5lld/%lld  loss %.4f (den %.4f link %.4f)  lr %.5f  train AUC %.4f  val AUC %.4f AP %.4f"
                   "  val L0 AUC %.4f AP %.4f  best %.4f  %.1fs\n",
                   (long long)p->step, (long long)p->total_steps, p->loss, p->loss_density, p->loss_link, p->lr,
                   p->train_auc, p->val_auc, p->val_ap, p->val_level0_auc, p->val_level0_ap, p->best_val_auc,
                   bench_now() - *t0);
        if (csv)
            fprintf(csv, "%s,%lld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.2f\n", csv_tag, (long long)p->step, p->loss,
                    p->train_auc, p->val_auc, p->val_ap, p->val_level0_auc, p->val_level0_ap, p->best_val_auc,
                    bench_now() - *t0);
        fflush(stdout);
    }
    return 0;
}

static void on_log(hl_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level <= HL_LOG_WARN || strncmp(msg, "training:", 9) == 0)
        printf("log: %s\n", msg);
}

static int load(const char *dir, const char *split, float **x, int64_t **y, int64_t *n, int64_t *d)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s_features.npy", dir, split);
    int64_t r, c, ny;
    if (hl_npy_read_f32(p, x, &r, &c) != HL_OK) {
        fprintf(stderr, "%s: %s\n", p, hl_last_error());
        return -1;
    }
    snprintf(p, sizeof p, "%s/%s_labels.npy", dir, split);
    if (hl_npy_read_labels(p, y, &ny) != HL_OK || ny != r) {
        fprintf(stderr, "%s: %s\n", p, hl_last_error());
        return -1;
    }
    *n = r;
    *d = c;
    return 0;
}

/* Link AUC of the model, cosine and the shared-neighbour fraction on the
 * edges of the k = 10 graph of (x, y) in the model's feature space
 * (hl_model_transform), and of the two anchors on the graph of the raw
 * features when the model has a feature map (the anchors of docs/QUALITY.md). */
static void graph_auc(const hl_model *m, const float *xn, const int64_t *y, int64_t n, int64_t d, const char *what)
{
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = 10;
    hl_graph *g = NULL;
    if (hl_graph_build(xn, n, d, &ko, &g) != HL_OK) {
        fprintf(stderr, "graph: %s\n", hl_last_error());
        return;
    }
    const int64_t E = g->num_edges;
    float *prob = malloc((size_t)E * sizeof(float)), *dens = malloc((size_t)n * sizeof(float));
    float *snn = malloc((size_t)E * sizeof(float));
    uint8_t *lab = malloc((size_t)E);
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++)
            lab[e] = y[g->src[e]] == y[i];
    double t0 = bench_now(), tp = 0.0, auc = NAN, ap = NAN;
    if (m != NULL) {
        if (hl_model_predict(m, g, xn, NULL, n, d, 0, prob, dens) != HL_OK) {
            fprintf(stderr, "predict: %s\n", hl_last_error());
            return;
        }
        tp = bench_now() - t0;
        hli_auc_ap(prob, lab, E, &auc, &ap);
    }
    hli_edge_features(g, HL_EDGE_FEAT_SNN, xn, d, 2, snn);
    double ap_sim, auc_sim, auc_snn, ap_snn;
    hli_auc_ap(g->sim, lab, E, &auc_sim, &ap_sim);
    hli_auc_ap(snn, lab, E, &auc_snn, &ap_snn);
    if (m != NULL)
        printf("TEST (k=10 graph %s, %lld edges): model link AUC %.4f AP %.4f | cosine AUC %.4f | snn AUC %.4f "
               "(predict %.3fs)\n", what, (long long)E, auc, ap, auc_sim, auc_snn, tp);
    else
        printf("TEST (k=10 graph %s, %lld edges): cosine AUC %.4f | snn AUC %.4f\n", what, (long long)E, auc_sim,
               auc_snn);
    free(prob);
    free(dens);
    free(snn);
    free(lab);
    hl_graph_free(g);
}

static void test_auc(const hl_model *m, const float *x, const int64_t *y, int64_t n, int64_t d)
{
    float *xn = malloc((size_t)n * (size_t)d * sizeof(float));
    int32_t mapped = 0;
    if (xn == NULL || hl_model_get_whitening(m, NULL, &mapped) != HL_OK ||
        hl_model_transform(m, x, n, d, xn) != HL_OK) {
        fprintf(stderr, "transform: %s\n", hl_last_error());
        free(xn);
        return;
    }
    graph_auc(m, xn, y, n, d, mapped ? "of the whitened features" : "");
    if (mapped) {
        hl_status st;
        float *raw = hli_normalized_copy(x, n, d, &st);
        if (raw != NULL)
            graph_auc(NULL, raw, y, n, d, "of the raw features");
        free(raw);
    }
    free(xn);
}

int main(int argc, char **argv)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    hl_train_options o;
    hl_train_options_init(&o, sizeof o);
    /* the repository's data/omniglot, found from this file's path */
    char repo_dir[512];
    snprintf(repo_dir, sizeof repo_dir, "%s", __FILE__);
    char *cut = strstr(repo_dir, "bench/bench_train.c");
    if (cut)
        snprintf(cut, sizeof repo_dir - (size_t)(cut - repo_dir), "data/omniglot");
    else
        snprintf(repo_dir, sizeof repo_dir, "data/omniglot");
    const char *dir = repo_dir;
    const char *save = NULL, *csv_path = NULL;
    int do_test = 0;
    long steps = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--head")) cfg.link_head = !strcmp(v, "ref") ? HL_LINK_HEAD_REFERENCE : HL_LINK_HEAD_RELATIONAL, i++;
        else if (!strcmp(a, "--feat")) cfg.edge_features = (uint32_t)strtoul(v, NULL, 0), i++;
        else if (!strcmp(a, "--lr")) o.lr = atof(v), i++;
        else if (!strcmp(a, "--steps")) steps = atol(v), i++;
        else if (!strcmp(a, "--batch")) o.batch_size = atol(v), i++;
        else if (!strcmp(a, "--hidden")) cfg.hidden = atol(v), i++;
        else if (!strcmp(a, "--conv")) cfg.num_conv = atoi(v), i++;
        else if (!strcmp(a, "--dropout")) cfg.dropout = (float)atof(v), i++;
        else if (!strcmp(a, "--momentum")) o.momentum = atof(v), i++;
        else if (!strcmp(a, "--eval")) o.eval_every = atoi(v), i++;
        else if (!strcmp(a, "--patience")) o.patience = atoi(v), i++;
        else if (!strcmp(a, "--val")) o.val_fraction = atof(v), i++;
        else if (!strcmp(a, "--seed")) o.seed = (uint64_t)atol(v), i++;
        else if (!strcmp(a, "--whiten")) o.whiten = atof(v), i++;
        else if (!strcmp(a, "--graphs")) o.num_graphs = atoi(v), i++;
        else if (!strcmp(a, "--focal")) o.focal = 1;
        else if (!strcmp(a, "--balance")) o.balance = 1;
        else if (!strcmp(a, "--notau")) o.select_tau = 0;
        else if (!strcmp(a, "--threads")) o.num_threads = atoi(v), i++;
        else if (!strcmp(a, "--test")) do_test = 1;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--data")) dir = v, i++;
        else if (!strcmp(a, "--save")) save = v, i++;
        else if (!strcmp(a, "--csv")) csv_path = v, i++;
        else if (!strcmp(a, "--tag")) csv_tag = v, i++;
        else if (!strcmp(a, "--wd")) o.weight_decay = atof(v), i++;
        else if (!strcmp(a, "--pooled")) o.checkpoint_metric = HL_CHECKPOINT_POOLED;
        else if (!strcmp(a, "--ckcluster")) o.checkpoint_metric = HL_CHECKPOINT_CLUSTER;
        else if (!strcmp(a, "--ckauc")) o.checkpoint_metric = HL_CHECKPOINT_LEVEL0;
        else if (!strcmp(a, "--level0")) { for (int g = 0; g < HL_TRAIN_MAX_GRAPHS; g++) o.levels[g] = 1; }
        else if (!strcmp(a, "--std")) o.standardize_edge_features = atoi(v), i++;
        else if (!strcmp(a, "--rank")) cfg.rel_rank = atol(v), i++;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    char probe[600];
    snprintf(probe, sizeof probe, "%s/train_features.npy", dir);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "bench_train: data missing: %s (pass --data DIR)\n", probe);
        return 1;
    }
    float *x;
    int64_t *y, n, d;
    if (load(dir, "train", &x, &y, &n, &d) != 0)
        return 1;
    cfg.feature_dim = d;
    hl_set_log_callback(on_log, NULL, getenv("BENCH_DEBUG") ? HL_LOG_DEBUG : HL_LOG_INFO);
    bench_print_machine();
    printf("config: head %s feat 0x%x hidden %lld conv %d dropout %.2f | lr %g momentum %g batch %lld val %.2f "
           "focal %d balance %d std %d seed %llu\n",
           cfg.link_head ? "relational" : "reference", cfg.edge_features, (long long)cfg.hidden, cfg.num_conv,
           (double)cfg.dropout, o.lr, o.momentum, (long long)o.batch_size, o.val_fraction, o.focal, o.balance,
           (int)o.standardize_edge_features, (unsigned long long)o.seed);
    if (csv_path) {
        const int fresh = access(csv_path, F_OK) != 0;
        if ((csv = fopen(csv_path, "a")) == NULL) {
            perror(csv_path);
            return 1;
        }
        if (fresh)
            fprintf(csv, "tag,step,loss,train_auc,val_auc,val_ap,val_l0_auc,val_l0_ap,best,seconds\n");
    }
    hl_model *m = NULL;
    if (hl_model_create(&cfg, o.seed, &m) != HL_OK) {
        fprintf(stderr, "create: %s\n", hl_last_error());
        return 1;
    }
    double t0 = bench_now();
    hl_trainer *t = NULL;
    o.progress = on_progress;
    o.progress_user = &t0;
    if (steps > 0) {
        /* epochs from a step budget: count steps per epoch with a 1-epoch trainer */
        hl_train_options o1 = o;
        o1.epochs = 1;
        hl_trainer *t1 = NULL;
        if (hl_trainer_create(m, &o1, x, y, n, d, &t1) != HL_OK) {
            fprintf(stderr, "trainer: %s\n", hl_last_error());
            return 1;
        }
        const int64_t spe = hli_trainer_steps_per_epoch(t1);
        hl_trainer_free(t1);
        o.epochs = (int32_t)((steps + spe - 1) / spe);
        printf("%lld steps per epoch, %d epochs\n", (long long)spe, (int)o.epochs);
    }
    if (hl_trainer_create(m, &o, x, y, n, d, &t) != HL_OK) {
        fprintf(stderr, "trainer: %s\n", hl_last_error());
        return 1;
    }
    double t1 = bench_now();
    printf("training set built in %.2fs\n", t1 - t0);
    {
        static const char *names[] = {"sim", "snn", "reciprocal", "nn_sim_dst", "nn_sim_src",
                                      "mean_cos", "rank_dst", "rank_src", "rel_sim_dst", "rel_sim_src"};
        printf("validation level-0 anchors (feature as score) AUC:");
        for (int b = 0; b < 10; b++) {
            double a, ap;
            if (hli_trainer_val_anchor(t, 1u << b, &a, &ap) == HL_OK)
                printf(" %s %.4f", names[b], a);
        }
        printf("\n");
    }
    hl_status st = hl_trainer_run(t);
    double t2 = bench_now();
    if (st != HL_OK) {
        fprintf(stderr, "run: %s\n", hl_last_error());
        return 1;
    }
    float tau;
    int32_t score;
    hl_model_get_cluster_defaults(m, &tau, &score);
    printf("trained in %.1fs (peak RSS %.0f MiB), tau chosen on validation %.2f\n", t2 - t1, bench_peak_rss_mib(),
           (double)tau);
    hl_trainer_free(t);
    if (csv)
        fclose(csv);
    if (save && hl_model_save(m, save) != HL_OK)
        fprintf(stderr, "save: %s\n", hl_last_error());
    free(x);
    free(y);
    if (do_test) {
        if (load(dir, "test", &x, &y, &n, &d) != 0)
            return 1;
        test_auc(m, x, y, n, d);
        free(x);
        free(y);
    }
    hl_model_free(m);
    return 0;
}
