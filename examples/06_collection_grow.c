/* 06_collection_grow: a clustering that grows and is kept on disk.
 *
 *   06_collection_grow FEATURES.npy COLLECTION_FILE
 *
 * Puts the first half of the rows into a new collection (one batch, the
 * same clusters hl_cluster would find), saves it, loads it back as an
 * application would the next day, adds the other half in batches of 100,
 * and prints after each batch how many new points joined existing clusters
 * and how many started new ones.  Cluster ids never get renumbered, so an
 * application can keep names on them. */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FEATURES.npy COLLECTION_FILE\n", argv[0]);
        return 2;
    }
    float *x = NULL;
    int64_t n, d;
    hl_collection *c = NULL;
    int rc = 1;
    if (hl_npy_read_f32(argv[1], &x, &n, &d) != HL_OK) {
        fprintf(stderr, "cannot read %s: %s\n", argv[1], hl_last_error());
        return 1;
    }

    /* 1. Day one: a new collection (no model: the unsupervised decode) and
     *    its first batch.  Point ids are 0 .. n/2 - 1. */
    const int64_t half = n / 2;
    if (hl_collection_create(NULL, d, NULL, &c) != HL_OK || hl_collection_add(c, x, half, d, NULL, NULL) != HL_OK ||
        hl_collection_save(c, argv[2]) != HL_OK) {
        fprintf(stderr, "day one: %s\n", hl_last_error());
        goto done;
    }
    printf("day one: %lld points in %lld clusters, saved\n", (long long)hl_collection_num_points(c),
           (long long)hl_collection_num_clusters(c));
    hl_collection_free(c);
    c = NULL;

    /* 2. Day two: load it (with the model it was made with: none here). */
    if (hl_collection_load(argv[2], NULL, &c) != HL_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[2], hl_last_error());
        goto done;
    }

    /* 3. New points arrive in batches; stats say what each batch did. */
    int64_t joined = 0, started = 0, moved = 0;
    for (int64_t a = half; a < n; a += 100) {
        const int64_t m = n - a < 100 ? n - a : 100;
        hl_collection_stats stats;
        hl_collection_stats_init(&stats, sizeof stats);
        int64_t first_id;
        if (hl_collection_add(c, x + a * d, m, d, &first_id, &stats) != HL_OK) {
            fprintf(stderr, "add: %s\n", hl_last_error());
            goto done;
        }
        joined += stats.joined;
        started += stats.started;
        moved += stats.moved;
    }
    printf("day two: %lld new points, %lld joined existing clusters, %lld new clusters, %lld earlier points "
           "moved; now %lld clusters\n", (long long)(n - half), (long long)joined, (long long)started,
           (long long)moved, (long long)hl_collection_num_clusters(c));

    /* 4. Per point: its cluster and how sure the link that put it there is. */
    int64_t cluster;
    float confidence;
    if (hl_collection_point(c, n - 1, &cluster, &confidence) == HL_OK)
        printf("point %lld: cluster %lld, confidence %.2f\n", (long long)(n - 1), (long long)cluster,
               (double)confidence);
    if (hl_collection_save(c, argv[2]) != HL_OK) {
        fprintf(stderr, "cannot save %s: %s\n", argv[2], hl_last_error());
        goto done;
    }
    rc = 0;
done:
    hl_collection_free(c);
    hl_free(x);
    return rc;
}
