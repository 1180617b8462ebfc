/* 01_cluster_npy: cluster the rows of a .npy feature file, no model needed.
 *
 *   01_cluster_npy FEATURES.npy [LABELS_OUT.npy]
 *
 * The smallest useful program: read float32 features (N x D), run the
 * unsupervised decode at its defaults (k = 10 neighbours, shared-neighbour
 * score, one level and the linkage merge), print how many clusters were
 * found and how large the biggest ones are, and optionally write the labels.
 * Start here; examples/README.md lists the others. */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FEATURES.npy [LABELS_OUT.npy]\n", argv[0]);
        return 2;
    }
    float *x = NULL;
    int64_t n, d, *labels = NULL, *sizes = NULL;
    hl_clustering *result = NULL;
    int rc = 1;

    /* 1. Read the features.  Library arrays are released with hl_free(). */
    if (hl_npy_read_f32(argv[1], &x, &n, &d) != HL_OK) {
        fprintf(stderr, "cannot read %s: %s\n", argv[1], hl_last_error());
        return 1;
    }

    /* 2. Options: always init first (with the size of your struct), then
     *    change what you need.  The defaults are the documented ones. */
    hl_cluster_options opts;
    hl_cluster_options_init(&opts, sizeof opts);

    /* 3. Cluster.  A NULL model selects the unsupervised decode. */
    hl_status st = hl_cluster(NULL, x, n, d, NULL, &opts, &result);
    if (st != HL_OK) {
        fprintf(stderr, "hl_cluster: %s: %s\n", hl_status_str(st), hl_last_error());
        goto done;
    }

    /* 4. The final labels (level -1): 0..C-1 in order of first appearance. */
    labels = malloc((size_t)n * sizeof *labels);
    sizes = calloc((size_t)n, sizeof *sizes);
    if (!labels || !sizes) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    hl_clustering_labels(result, -1, labels);
    int64_t clusters = 0;
    for (int64_t i = 0; i < n; i++) {
        sizes[labels[i]]++;
        if (labels[i] + 1 > clusters)
            clusters = labels[i] + 1;
    }
    int64_t singletons = 0, largest = 0;
    for (int64_t c = 0; c < clusters; c++) {
        singletons += sizes[c] == 1;
        if (sizes[c] > largest)
            largest = sizes[c];
    }
    printf("%lld points -> %lld clusters (largest %lld points, %lld singletons)\n", (long long)n,
           (long long)clusters, (long long)largest, (long long)singletons);

    /* 5. Optionally save the labels (written atomically). */
    if (argc == 3 && (st = hl_npy_write_i64(argv[2], labels, n, 0)) != HL_OK) {
        fprintf(stderr, "cannot write %s: %s\n", argv[2], hl_last_error());
        goto done;
    }
    rc = 0;
done:
    hl_clustering_free(result);
    hl_free(x);
    free(labels);
    free(sizes);
    return rc;
}
