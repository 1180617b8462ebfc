/* 05_hierarchy_levels: read the hierarchy level by level.
 *
 *   05_hierarchy_levels FEATURES.npy [TRUTH.npy]
 *
 * Each level of Hi-LANDER clusters the clusters of the level below: its
 * nodes are the previous level's clusters.  Asking for up to 10 levels, this
 * program prints, for every level, the nodes of its graph, the edges the
 * decode added and the clusters after it, and (with TRUTH.npy) how precision
 * falls and recall rises as the levels merge more. */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FEATURES.npy [TRUTH.npy]\n", argv[0]);
        return 2;
    }
    float *x = NULL;
    int64_t *truth = NULL, *labels = NULL, n, d, nt = 0;
    hl_clustering *result = NULL;
    int rc = 1;
    if (hl_npy_read_f32(argv[1], &x, &n, &d) != HL_OK ||
        (argc == 3 && hl_npy_read_labels(argv[2], &truth, &nt) != HL_OK)) {
        fprintf(stderr, "cannot read the inputs: %s\n", hl_last_error());
        goto done;
    }
    if (truth && nt != n) {
        fprintf(stderr, "%lld labels for %lld rows\n", (long long)nt, (long long)n);
        goto done;
    }

    /* The unsupervised decode, up to 10 levels; it stops early when a level
     * adds few edges.  No linkage merge, so every level is a decode level. */
    hl_cluster_options opts;
    hl_cluster_options_init(&opts, sizeof opts);
    opts.max_levels = 10;
    opts.merge = 0.0f;
    hl_status st = hl_cluster(NULL, x, n, d, NULL, &opts, &result);
    if (st != HL_OK) {
        fprintf(stderr, "hl_cluster: %s: %s\n", hl_status_str(st), hl_last_error());
        goto done;
    }
    labels = malloc((size_t)n * sizeof *labels);
    if (!labels) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }

    const int32_t levels = hl_clustering_num_levels(result);
    printf("%d level(s)\nlevel    nodes  edges_added  clusters%s\n", (int)levels,
           truth ? "  precision  recall" : "");
    for (int32_t l = 0; l < levels; l++) {
        int64_t nodes, added, clusters;
        hl_clustering_level_stats(result, l, &nodes, NULL, &added, &clusters);
        /* The labels of every original point after level l. */
        hl_clustering_labels(result, l, labels);
        printf("%5d %8lld %12lld %9lld", (int)l, (long long)nodes, (long long)added, (long long)clusters);
        if (truth) {
            hl_metrics m;
            hl_metrics_init(&m, sizeof m);
            if (hl_evaluate(truth, labels, n, &m) != HL_OK) {
                fprintf(stderr, "\nhl_evaluate: %s\n", hl_last_error());
                goto done;
            }
            printf("  %9.3f  %6.3f", m.pairwise_precision, m.pairwise_recall);
        }
        printf("\n");
    }
    rc = 0;
done:
    hl_clustering_free(result);
    hl_free(x);
    hl_free(truth);
    free(labels);
    return rc;
}
