/* Hierarchical clustering (SPEC sections 4-5): stub, being implemented. */
#include "hierarchy.h"

#include <stdlib.h>

void hl_cluster_options_init(hl_cluster_options *opts)
{
    if (opts == NULL)
        return;
    opts->struct_size = sizeof(*opts);
    opts->k = 10;
    opts->tau = -1.0f;
    opts->score = -1;
    opts->max_levels = 10;
    opts->early_stop = 1;
    opts->knn_method = HL_KNN_AUTO;
    opts->num_threads = 0;
    opts->progress = NULL;
    opts->progress_user = NULL;
}

hl_status hl_cluster(const hl_model *model, const float *x, int64_t n, int64_t d, const int64_t *truth,
                     const hl_cluster_options *opts, hl_clustering **out)
{
    (void)model; (void)x; (void)n; (void)d; (void)truth; (void)opts; (void)out;
    return hli_error(HL_EINTERNAL, "hl_cluster: not implemented yet");
}

void hl_clustering_free(hl_clustering *clustering)
{
    (void)clustering;
}

int32_t hl_clustering_num_levels(const hl_clustering *clustering)
{
    (void)clustering;
    return 0;
}

int64_t hl_clustering_num_points(const hl_clustering *clustering)
{
    (void)clustering;
    return 0;
}

hl_status hl_clustering_labels(const hl_clustering *clustering, int32_t level, int64_t *labels)
{
    (void)clustering; (void)level; (void)labels;
    return hli_error(HL_EINTERNAL, "hl_clustering_labels: not implemented yet");
}

hl_status hl_clustering_level_stats(const hl_clustering *clustering, int32_t level, int64_t *num_nodes,
                                    int64_t *num_edges, int64_t *edges_added, int64_t *num_clusters)
{
    (void)clustering; (void)level; (void)num_nodes; (void)num_edges; (void)edges_added; (void)num_clusters;
    return hli_error(HL_EINTERNAL, "hl_clustering_level_stats: not implemented yet");
}
