/* The result of hl_cluster: the labels of every point after each level of
 * the hierarchy, and per-level statistics. */
#include "cluster/cluster_internal.h"

#include <stdlib.h>
#include <string.h>

hl_status hli_clustering_create(int64_t n, hl_clustering **out)
{
    hl_clustering *c = hli_calloc(1, sizeof *c);
    if (c == NULL)
        return hl_last_error_status();
    c->n = n;
    *out = c;
    return HL_OK;
}

/* Labels renumbered 0..C-1 by first appearance. */
hl_status hli_clustering_record(hl_clustering *c, const int64_t *node_of_point, int64_t num_nodes_next,
                                const int64_t *node_rep, const int64_t stats[4])
{
    if (c->num_levels == c->cap) {
        int32_t cap = c->cap ? 2 * c->cap : 4;
        size_t bytes;
        if (hli_check_dims("hierarchy labels", cap, c->n, sizeof(int64_t), &bytes) != HL_OK)
            return hl_last_error_status();
        int64_t *l = hli_realloc(c->labels, bytes, 1);
        if (l == NULL)
            return hl_last_error_status();
        c->labels = l;
        int64_t *s = hli_realloc(c->stats, (size_t)cap * 4, sizeof(int64_t));
        if (s == NULL)
            return hl_last_error_status();
        c->stats = s;
        int64_t **r = hli_realloc(c->rep, (size_t)cap, sizeof *r);
        if (r == NULL)
            return hl_last_error_status();
        c->rep = r;
        int64_t *nr = hli_realloc(c->num_rep, (size_t)cap, sizeof *nr);
        if (nr == NULL)
            return hl_last_error_status();
        c->num_rep = nr;
        c->cap = cap;
    }
    int64_t *map = hli_alloc((size_t)num_nodes_next, sizeof(int64_t));
    int64_t *rep = hli_alloc((size_t)num_nodes_next, sizeof(int64_t));
    if (map == NULL || rep == NULL) {
        free(map);
        free(rep);
        return hl_last_error_status();
    }
    for (int64_t v = 0; v < num_nodes_next; v++)
        map[v] = -1;
    int64_t *out = c->labels + (size_t)c->num_levels * (size_t)c->n, next = 0;
    for (int64_t q = 0; q < c->n; q++) {
        int64_t v = node_of_point[q];
        if (map[v] < 0) {
            rep[next] = node_rep[v];
            map[v] = next++;
        }
        out[q] = map[v];
    }
    free(map);
    c->rep[c->num_levels] = rep;
    c->num_rep[c->num_levels] = next;
    memcpy(c->stats + 4 * (size_t)c->num_levels, stats, 4 * sizeof(int64_t));
    c->stats[4 * (size_t)c->num_levels + 3] = next; /* the clusters hl_clustering_clusters reports */
    c->num_levels++;
    return HL_OK;
}

void hl_clustering_free(hl_clustering *clustering)
{
    if (clustering == NULL)
        return;
    for (int32_t l = 0; l < clustering->num_levels; l++)
        free(clustering->rep[l]);
    free(clustering->rep);
    free(clustering->num_rep);
    free(clustering->confidence);
    free(clustering->labels);
    free(clustering->stats);
    free(clustering);
}

int32_t hl_clustering_num_levels(const hl_clustering *clustering)
{
    return clustering ? clustering->num_levels : 0;
}

int64_t hl_clustering_num_points(const hl_clustering *clustering)
{
    return clustering ? clustering->n : 0;
}

static hl_status check_level(const hl_clustering *c, int32_t *level)
{
    if (c == NULL)
        return hli_error(HL_EINVAL, "clustering is NULL");
    if (*level == -1)
        *level = c->num_levels - 1;
    if (*level < 0 || *level >= c->num_levels)
        return hli_error(HL_EINVAL, "level = %d must be in [0, %d) or -1 (final)", (int)*level, (int)c->num_levels);
    return HL_OK;
}

hl_status hl_clustering_labels(const hl_clustering *clustering, int32_t level, int64_t *labels)
{
    hl_status st = check_level(clustering, &level);
    if (st != HL_OK)
        return st;
    if (labels == NULL)
        return hli_error(HL_EINVAL, "labels: output array is NULL");
    memcpy(labels, clustering->labels + (size_t)level * (size_t)clustering->n,
           (size_t)clustering->n * sizeof(int64_t));
    return HL_OK;
}

hl_status hl_clustering_level_stats(const hl_clustering *clustering, int32_t level, int64_t *num_nodes,
                                    int64_t *num_edges, int64_t *edges_added, int64_t *num_clusters)
{
    hl_status st = check_level(clustering, &level);
    if (st != HL_OK)
        return st;
    const int64_t *s = clustering->stats + 4 * (size_t)level;
    if (num_nodes)
        *num_nodes = s[0];
    if (num_edges)
        *num_edges = s[1];
    if (edges_added)
        *edges_added = s[2];
    if (num_clusters)
        *num_clusters = s[3];
    return HL_OK;
}

hl_status hl_clustering_confidence(const hl_clustering *clustering, float *confidence)
{
    if (clustering == NULL || confidence == NULL)
        return hli_error(HL_EINVAL, "clustering confidence: %s is NULL", clustering == NULL ? "clustering" : "output");
    if (clustering->confidence == NULL) /* unreachable: every result has level 0 */
        return hli_error(HL_EINTERNAL, "clustering confidence: not recorded");
    memcpy(confidence, clustering->confidence, (size_t)clustering->n * sizeof(float));
    return HL_OK;
}

hl_status hl_clustering_clusters(const hl_clustering *clustering, int32_t level, int64_t *sizes,
                                 int64_t *representatives)
{
    hl_status st = check_level(clustering, &level);
    if (st != HL_OK)
        return st;
    const int64_t nc = clustering->num_rep[level];
    if (representatives != NULL)
        memcpy(representatives, clustering->rep[level], (size_t)nc * sizeof(int64_t));
    if (sizes != NULL) {
        memset(sizes, 0, (size_t)nc * sizeof(int64_t));
        const int64_t *lab = clustering->labels + (size_t)level * (size_t)clustering->n;
        for (int64_t q = 0; q < clustering->n; q++)
            sizes[lab[q]]++;
    }
    return HL_OK;
}
