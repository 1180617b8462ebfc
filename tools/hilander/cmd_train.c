/* hilander train: train a Hi-LANDER model on labelled features and save it. */
#include "cli.h"

#include <stdio.h>

static const char *const CMD = "train";

#define STR_(x) #x
#define STR(x) STR_(x)

int cmd_train(int argc, char **argv)
{
    const char *feat = NULL, *lab = NULL, *out = NULL;
    int64_t kl[HL_TRAIN_MAX_GRAPHS], ll[HL_TRAIN_MAX_GRAPHS];
    int nk = -1, nl = -1, quiet = 0;
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    hl_train_options to;
    hl_train_options_init(&to, sizeof to);
    /* Values as parsed, copied into cfg and to below; they start at the library's defaults. */
    int64_t rel_rank = cfg.rel_rank, num_conv = cfg.num_conv, epochs = to.epochs, seed = (int64_t)to.seed;
    int64_t threads = to.num_threads;
    int head = cfg.link_head; /* choices in enum order */
    char h_hidden[64], h_rank[96], h_lr[64], h_val[96];
    snprintf(h_hidden, sizeof h_hidden, "hidden width H (default %lld)", (long long)cfg.hidden);
    snprintf(h_rank, sizeof h_rank, "rank of the relational head's h_i * h_j term, 0 = full (default %d)",
             (int)cfg.rel_rank);
    snprintf(h_lr, sizeof h_lr, "initial learning rate (default %g)", to.lr);
    snprintf(h_val, sizeof h_val, "share of the classes held out for validation (default %g)", to.val_fraction);
    const cli_opt opts[] = {
        {.name = "features", .kind = CLI_STR, .dst = &feat, .metavar = "X.npy",
         .help = "training features, float32 N x D (required)", .error = "--features needs a file name"},
        {.name = "labels", .kind = CLI_STR, .dst = &lab, .metavar = "Y.npy",
         .help = "their class labels, int32 or int64 (required)", .error = "--labels needs a file name"},
        {.name = "model-out", .kind = CLI_STR, .dst = &out, .metavar = "M.hlm",
         .help = "output: the model file (required)", .error = "--model-out needs a file name"},
        {.name = "k", .kind = CLI_LIST, .dst = kl, .count = &nk, .max_count = HL_TRAIN_MAX_GRAPHS, .ilo = 2,
         .ihi = 1000000, .metavar = "K1,K2,..", .help = "k of each training graph (default 10,5,3)",
         .error = "--k needs a comma-separated list of 1.." STR(HL_TRAIN_MAX_GRAPHS) " integers >= 2"},
        {.name = "levels", .kind = CLI_LIST, .dst = ll, .count = &nl, .max_count = HL_TRAIN_MAX_GRAPHS, .ilo = 1,
         .ihi = 1000, .metavar = "L1,L2,..", .help = "levels of each training graph (default 2,3,4)",
         .error = "--levels needs a comma-separated list of 1.." STR(HL_TRAIN_MAX_GRAPHS) " integers >= 1"},
        {.name = "hidden", .kind = CLI_INT, .dst = &cfg.hidden, .metavar = "H", .ilo = 2, .ihi = 1 << 20,
         .help = h_hidden, .error = "--hidden needs an integer >= 2"},
        {.name = "num-conv", .kind = CLI_INT, .dst = &num_conv, .metavar = "N", .ilo = 1, .ihi = 4,
         .help = "GraphConv layers, 1..4 (default 1)", .error = "--num-conv must be 1..4"},
        {.name = "head", .kind = CLI_CHOICE, .dst = &head, .metavar = "reference|relational",
         .choices = "reference|relational", .help = "link head (default relational)",
         .error = "--head must be reference or relational"},
        {.name = "rel-rank", .kind = CLI_INT, .dst = &rel_rank, .metavar = "R", .ilo = 0, .ihi = 1 << 20,
         .help = h_rank, .error = "--rel-rank needs an integer >= 0 (0 = full rank)"},
        {.name = "epochs", .kind = CLI_INT, .dst = &epochs, .metavar = "N", .ilo = 0, .ihi = INT32_MAX,
         .help = "epochs, 0 = automatic (default 0)", .error = "--epochs needs an integer >= 0 (0 = automatic)"},
        {.name = "lr", .kind = CLI_REAL, .dst = &to.lr, .metavar = "LR", .lo = 0, .hi = 1e30, .open_lo = 1,
         .help = h_lr, .error = "--lr needs a positive number"},
        {.name = "val-fraction", .kind = CLI_REAL, .dst = &to.val_fraction, .metavar = "F", .lo = 0, .hi = 1,
         .open_hi = 1, .help = h_val, .error = "--val-fraction must be in [0, 1)"},
        {.name = "whiten", .kind = CLI_REAL, .dst = &to.whiten, .metavar = "auto|R", .lo = 0, .hi = 1e30,
         .keyword = "auto", .keyword_value = -1.0,
         .help = "within-class whitening with relative ridge R, 0 = off (default auto)",
         .error = "--whiten must be auto or a number >= 0 (0 = off)"},
        {.name = "seed", .kind = CLI_INT, .dst = &seed, .metavar = "S", .ilo = 0, .ihi = INT64_MAX,
         .help = "random seed (default 1)", .error = "--seed needs a non-negative integer"},
        {.name = "threads", .kind = CLI_INT, .dst = &threads, .metavar = "T", .ilo = 0, .ihi = 4096,
         .help = "threads, 0 = all cores (default 0)", .error = "--threads needs an integer in [0, 4096]"},
        {.name = "quiet", .kind = CLI_FLAG, .dst = &quiet, .help = "no progress lines"},
        {0}};
    const cli_command cmd = {
        CMD, "--features X.npy --labels Y.npy --model-out M.hlm\n"
             "                      [--k 10,5,3] [--levels 2,3,4] [--hidden 512] [--num-conv 1]\n"
             "                      [--epochs N] [--lr LR] [--seed S] [--threads T]\n"
             "                      [--head reference|relational] [--rel-rank 64] [--val-fraction 0.2]\n"
             "                      [--whiten auto|R] [--quiet]",
        "Train a LANDER model on labelled features (meta-training: the classes it\n"
        "will cluster later may be different ones).  --k and --levels are paired\n"
        "lists: one multi-level training graph per pair.  A share of the training\n"
        "classes (--val-fraction) is held out to choose the best checkpoint and the\n"
        "clustering defaults stored in the model.  --whiten: within-class whitening\n"
        "of the features, fitted on the training classes with relative ridge R and\n"
        "stored in the model; auto uses R = 0.3 and keeps the map only if the\n"
        "validation classes cluster better with it.\n",
        opts, 0};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (!feat || !lab || !out)
        return cli_usage_error(CMD, "--features, --labels and --model-out are required");
    if (nk > 0 || nl > 0) {
        if (nk < 0 || nl < 0 || nk != nl)
            return cli_usage_error(CMD, "--k and --levels must be given together, with the same number of values");
        to.num_graphs = nk;
        for (int i = 0; i < nk; i++) {
            to.k_list[i] = kl[i];
            to.levels[i] = (int32_t)ll[i];
        }
    }
    cfg.rel_rank = (int32_t)rel_rank;
    cfg.num_conv = (int32_t)num_conv;
    cfg.link_head = head;
    to.epochs = (int32_t)epochs;
    to.seed = (uint64_t)seed;
    to.num_threads = (int32_t)threads;

    float *x = NULL;
    int64_t *y = NULL, n, d, ny;
    hl_model *model = NULL;
    hl_trainer *tr = NULL;
    hl_status st;
    if ((rc = cli_read_features(CMD, feat, &x, &n, &d)) != 0)
        return rc;
    if ((rc = cli_read_labels(CMD, lab, &y, &ny)) != 0)
        goto done;
    if (ny != n) {
        rc = cli_data_error(CMD, "%s has %lld labels but %s has %lld rows", lab, (long long)ny, feat, (long long)n);
        goto done;
    }
    cfg.feature_dim = d;
    if ((st = hl_model_config_check(&cfg)) != HL_OK) {
        rc = cli_lib_error(CMD, "model configuration", st);
        goto done;
    }
    to.progress = cli_train_progress;
    to.progress_user = &quiet;
    if ((st = hl_train_options_check(&to)) != HL_OK) {
        rc = cli_lib_error(CMD, "training options", st);
        goto done;
    }
    if ((st = hl_model_create(&cfg, to.seed, &model)) != HL_OK) {
        rc = cli_lib_error(CMD, "creating the model", st);
        goto done;
    }
    fprintf(stderr, "train: %lld x %lld features, %lld parameters; building training graphs ...\n", (long long)n,
            (long long)d, (long long)hl_model_num_params(model));
    double t0 = cli_now();
    if ((st = hl_trainer_create(model, &to, x, y, n, d, &tr)) != HL_OK) {
        rc = cli_lib_error(CMD, "preparing training", st);
        goto done;
    }
    st = hl_trainer_run(tr);
    if (st != HL_OK && st != HL_ECANCELED) {
        rc = cli_lib_error(CMD, "training", st);
        goto done;
    }
    char desc[160];
    cli_describe_defaults(model, desc, sizeof desc);
    fprintf(stderr, "train: done in %.1f s; stored clustering defaults: %s\n", cli_now() - t0, desc);
    if ((st = hl_model_save(model, out)) != HL_OK) {
        rc = cli_lib_error(CMD, out, st);
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
