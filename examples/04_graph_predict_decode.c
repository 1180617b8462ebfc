/* 04_graph_predict_decode: the steps inside hl_cluster, one call each.
 *
 *   04_graph_predict_decode MODEL.hlm FEATURES.npy [TAU]
 *
 * One level of Hi-LANDER by hand: the features as the model sees them
 * (hl_model_transform), the kNN graph (hl_graph_build), the model's edge
 * probabilities and node densities (hl_model_predict), and the decode
 * (hl_decode): every node keeps, as its parent, its best in-edge from a
 * denser neighbour whose probability exceeds TAU (default: the model's
 * stored tau when its stored score is the probability, else 0.5).  Use this
 * path to plug in your own graph (hl_graph_from_neighbors) or scores. */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.hlm FEATURES.npy [TAU]\n", argv[0]);
        return 2;
    }
    hl_model *model = NULL;
    hl_graph *graph = NULL;
    float *x = NULL, *prob = NULL, *density = NULL;
    int64_t *parent = NULL, *labels = NULL, n, d;
    int rc = 1;
    hl_status st;
    if (hl_model_load(argv[1], &model) != HL_OK || hl_npy_read_f32(argv[2], &x, &n, &d) != HL_OK) {
        fprintf(stderr, "cannot read the inputs: %s\n", hl_last_error());
        goto done;
    }

    float tau = 0.5f, stored_tau;
    int32_t stored_score;
    if (argc == 4)
        tau = (float)atof(argv[3]);
    else if (hl_model_get_cluster_defaults(model, &stored_tau, &stored_score) == HL_OK && stored_score == HL_SCORE_PROB)
        tau = stored_tau;

    /* 1. Normalise the rows and apply the model's feature map, in place. */
    if ((st = hl_model_transform(model, x, n, d, x)) != HL_OK)
        goto fail;

    /* 2. The kNN graph: k = 10 neighbours per node (self included). */
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = 10;
    if ((st = hl_graph_build(x, n, d, &ko, &graph)) != HL_OK)
        goto fail;
    const int64_t edges = hl_graph_num_edges(graph);

    /* 3. Inference: one probability per edge, one density per node.
     *    NULL cluster features = level 0 (the features themselves). */
    prob = malloc((size_t)edges * sizeof *prob);
    density = malloc((size_t)n * sizeof *density);
    parent = malloc((size_t)n * sizeof *parent);
    labels = malloc((size_t)n * sizeof *labels);
    if (!prob || !density || !parent || !labels) {
        fprintf(stderr, "out of memory\n");
        goto done;
    }
    if ((st = hl_model_predict(model, graph, x, NULL, n, d, 0, prob, density)) != HL_OK)
        goto fail;

    /* 4. The decode: a forest; each tree (labelled by its peak) is a cluster. */
    if ((st = hl_decode(graph, prob, density, tau, parent, labels)) != HL_OK)
        goto fail;
    int64_t peaks = 0, kept = 0;
    for (int64_t i = 0; i < n; i++) {
        peaks += parent[i] < 0;
        kept += parent[i] >= 0;
    }
    int64_t above = 0;
    for (int64_t e = 0; e < edges; e++)
        above += prob[e] > tau;
    printf("graph: %lld nodes, %lld edges; %lld edges with p > %.2f\n", (long long)n, (long long)edges,
           (long long)above, (double)tau);
    printf("decode: %lld parents kept -> %lld clusters (peaks)\n", (long long)kept, (long long)peaks);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "%s: %s\n", hl_status_str(st), hl_last_error());
done:
    hl_graph_free(graph);
    hl_model_free(model);
    hl_free(x);
    free(prob);
    free(density);
    free(parent);
    free(labels);
    return rc;
}
