/* 02_train_save: train a Hi-LANDER model on labelled features and save it.
 *
 *   02_train_save FEATURES.npy LABELS.npy MODEL_OUT.hlm [EPOCHS [CLASSES]]
 *
 * Training is meta-learning: the model learns from these classes where
 * cluster boundaries lie, and is then used on *other* classes (example 03).
 * A share of the classes is held out to pick the best checkpoint and the
 * clustering defaults stored in the model file.  EPOCHS (default 0 =
 * automatic) and CLASSES (train only on the rows whose label is below it;
 * default: all) are small in the CTest run to keep it quick. */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>

/* Called by the trainer; return non-zero to stop early (the best checkpoint is kept). */
static int on_progress(const hl_train_progress *p, void *user)
{
    (void)user;
    if (p->step == p->total_steps || p->step % 10 == 0)
        fprintf(stderr, "step %lld/%lld  epoch %d  loss %.4f\n", (long long)p->step, (long long)p->total_steps,
                (int)p->epoch + 1, p->loss);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s FEATURES.npy LABELS.npy MODEL_OUT.hlm [EPOCHS [CLASSES]]\n", argv[0]);
        return 2;
    }
    float *x = NULL;
    int64_t *y = NULL, n, d, ny;
    hl_model *model = NULL;
    int rc = 1;
    if (hl_npy_read_f32(argv[1], &x, &n, &d) != HL_OK || hl_npy_read_labels(argv[2], &y, &ny) != HL_OK) {
        fprintf(stderr, "cannot read the data: %s\n", hl_last_error());
        goto done;
    }
    if (ny != n) {
        fprintf(stderr, "%lld labels for %lld rows\n", (long long)ny, (long long)n);
        goto done;
    }
    if (argc == 6) { /* keep the rows of the first CLASSES classes, in place */
        const int64_t classes = atoll(argv[5]);
        int64_t kept = 0;
        for (int64_t i = 0; i < n; i++) {
            if (y[i] >= classes)
                continue;
            for (int64_t t = 0; t < d; t++)
                x[kept * d + t] = x[i * d + t];
            y[kept++] = y[i];
        }
        n = kept;
        printf("training on %lld rows of classes 0..%lld\n", (long long)n, (long long)classes - 1);
    }

    /* The model's shape: only the feature dimension is required. */
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = d;

    /* The schedule: defaults, a fixed seed (training is reproducible), a progress callback. */
    hl_train_options opts;
    hl_train_options_init(&opts, sizeof opts);
    opts.epochs = argc >= 5 ? atoi(argv[4]) : 0;
    opts.seed = 1;
    opts.progress = on_progress;

    /* hl_train = hl_model_create + hl_trainer_create + hl_trainer_run. */
    hl_status st = hl_train(&cfg, &opts, x, y, n, d, &model);
    if (st != HL_OK) {
        fprintf(stderr, "hl_train: %s: %s\n", hl_status_str(st), hl_last_error());
        goto done;
    }

    /* What training chose for clustering later, stored in the model. */
    float tau, merge;
    int32_t score, whitened;
    hl_model_get_cluster_defaults(model, &tau, &score);
    hl_model_get_cluster_merge(model, &merge);
    hl_model_get_whitening(model, NULL, &whitened);
    printf("trained: %lld parameters; stored defaults: score %s, tau %.3f, merge %g, %s\n",
           (long long)hl_model_num_params(model), score == HL_SCORE_PROB ? "prob" : score == HL_SCORE_SIM ? "sim" : "snn",
           (double)tau, (double)merge, whitened ? "whitened features" : "raw features");

    if ((st = hl_model_save(model, argv[3])) != HL_OK) {
        fprintf(stderr, "cannot save %s: %s\n", argv[3], hl_last_error());
        goto done;
    }
    printf("model saved to %s\n", argv[3]);
    rc = 0;
done:
    hl_model_free(model);
    hl_free(x);
    hl_free(y);
    return rc;
}
