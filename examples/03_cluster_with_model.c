/* 03_cluster_with_model: cluster new data with a saved model and score it.
 *
 *   03_cluster_with_model MODEL.hlm FEATURES.npy [TRUTH.npy]
 *
 * A model file (from example 02 or `hilander train`) carries the clustering
 * defaults training chose: score, tau, level limit, merge threshold and the
 * feature map.  hl_cluster uses them when the options say "default" (their
 * initial values), so clustering with a model is the same call as without
 * one.  With TRUTH.npy the result is scored with hl_evaluate. */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.hlm FEATURES.npy [TRUTH.npy]\n", argv[0]);
        return 2;
    }
    hl_model *model = NULL;
    hl_clustering *result = NULL;
    float *x = NULL;
    int64_t *truth = NULL, *labels = NULL, n, d, nt;
    int rc = 1;

    /* Loading checks the format version and a checksum; errors name the file. */
    if (hl_model_load(argv[1], &model) != HL_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], hl_last_error());
        return 1;
    }
    if (hl_npy_read_f32(argv[2], &x, &n, &d) != HL_OK) {
        fprintf(stderr, "cannot read %s: %s\n", argv[2], hl_last_error());
        goto done;
    }

    /* The model knows its feature dimension: check the data fits. */
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    hl_model_get_config(model, &cfg);
    if (cfg.feature_dim != d) {
        fprintf(stderr, "the model expects %lld columns, %s has %lld\n", (long long)cfg.feature_dim, argv[2],
                (long long)d);
        goto done;
    }

    /* Defaults everywhere: the model's stored choices apply. */
    hl_cluster_options opts;
    hl_cluster_options_init(&opts, sizeof opts);
    hl_status st = hl_cluster(model, x, n, d, NULL, &opts, &result);
    if (st != HL_OK) {
        fprintf(stderr, "hl_cluster: %s: %s\n", hl_status_str(st), hl_last_error());
        goto done;
    }
    labels = malloc((size_t)n * sizeof *labels);
    if (!labels) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    hl_clustering_labels(result, -1, labels);
    int64_t clusters;
    hl_clustering_level_stats(result, hl_clustering_num_levels(result) - 1, NULL, NULL, NULL, &clusters);
    printf("%lld points -> %lld clusters in %d level(s)\n", (long long)n, (long long)clusters,
           (int)hl_clustering_num_levels(result));

    if (argc == 4) {
        if (hl_npy_read_labels(argv[3], &truth, &nt) != HL_OK || nt != n) {
            fprintf(stderr, "cannot use %s as the truth: %s\n", argv[3], nt != n ? "wrong length" : hl_last_error());
            goto done;
        }
        hl_metrics m;
        hl_metrics_init(&m, sizeof m);
        if (hl_evaluate(truth, labels, n, &m) != HL_OK) {
            fprintf(stderr, "hl_evaluate: %s\n", hl_last_error());
            goto done;
        }
        printf("pairwise F %.3f, BCubed F %.3f, NMI %.3f (%lld true classes)\n", m.pairwise_f, m.bcubed_f, m.nmi,
               (long long)m.num_true_clusters);
    }
    rc = 0;
done:
    hl_clustering_free(result);
    hl_model_free(model);
    hl_free(x);
    hl_free(truth);
    free(labels);
    return rc;
}
