/* One level of the Hi-LANDER hierarchy (docs/ALGORITHM.md, "The hierarchy").
 *
 * Level 0 has one node per original point.  After a decode, every distinct
 * peak becomes one node of the next level: its feature is the peak's feature,
 * its cluster feature the mean of the original normalised features of all the
 * original points now in it (not re-normalised), its label the peak's label. */
#include "graph/hierarchy_level.h"

#include <stdlib.h>
#include <string.h>

void hli_level_free(hli_level *lv)
{
    if (lv == NULL)
        return;
    free(lv->x);
    free(lv->c);
    free(lv->label);
    free(lv->node_of_point);
    memset(lv, 0, sizeof(*lv));
}

hl_status hli_level_init(hli_level *lv, const float *x, int64_t n, int64_t d, const int64_t *labels)
{
    if (lv == NULL)
        return hli_error(HL_EINVAL, "level init: level is NULL");
    memset(lv, 0, sizeof(*lv));
    if (x == NULL)
        return hli_error(HL_EINVAL, "level init: features are NULL");
    size_t bytes;
    hl_status st = hli_check_dims("level features", n, d, sizeof(float), &bytes);
    if (st != HL_OK)
        return st;
    lv->n = n;
    lv->d = d;
    lv->n_points = n;
    lv->x = hli_alloc(bytes, 1);
    lv->c = hli_alloc(bytes, 1);
    lv->node_of_point = hli_alloc((size_t)n, sizeof(int64_t));
    if (labels != NULL)
        lv->label = hli_alloc((size_t)n, sizeof(int64_t));
    if (lv->x == NULL || lv->c == NULL || lv->node_of_point == NULL || (labels != NULL && lv->label == NULL)) {
        hli_level_free(lv);
        return hli_oom();
    }
    memcpy(lv->x, x, bytes);
    memcpy(lv->c, x, bytes);
    if (labels != NULL)
        memcpy(lv->label, labels, (size_t)n * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++)
        lv->node_of_point[i] = i;
    return HL_OK;
}

/* hli_level_next, and without the features (@p with_features 0) for
 * hli_level_next_map. */
static hl_status level_next(const hli_level *cur, const int64_t *peak, const float *x0, int with_features,
                            hli_level *next)
{
    if (next == NULL)
        return hli_error(HL_EINVAL, "level next: output level is NULL");
    memset(next, 0, sizeof(*next));
    if (cur == NULL || peak == NULL || x0 == NULL)
        return hli_error(HL_EINVAL, "level next: current level, peaks or original features are NULL");
    if (cur->n < 1 || cur->d < 1 || cur->n_points < 1 || cur->x == NULL || cur->node_of_point == NULL)
        return hli_error(HL_EINVAL, "level next: current level is empty or uninitialised");
    const int64_t n = cur->n, d = cur->d, np = cur->n_points;
    for (int64_t i = 0; i < n; i++)
        if (peak[i] < 0 || peak[i] >= n)
            return hli_error(HL_EINVAL, "level next: peak[%lld] = %lld is outside [0, %lld)", (long long)i,
                             (long long)peak[i], (long long)n);

    /* New ids: distinct peaks in increasing order of peak index. */
    int64_t *newid = hli_alloc((size_t)n, sizeof(int64_t));
    if (newid == NULL)
        return hl_last_error_status();
    for (int64_t i = 0; i < n; i++)
        newid[i] = -1;
    for (int64_t i = 0; i < n; i++)
        newid[peak[i]] = 0;
    int64_t m = 0;
    for (int64_t p = 0; p < n; p++)
        if (newid[p] == 0)
            newid[p] = m++ + 1; /* 1-based while marking */
    for (int64_t p = 0; p < n; p++)
        newid[p] -= 1; /* unused entries become -2, used ones 0..m-1 */

    hl_status st = HL_OK;
    size_t bytes = (size_t)m * (size_t)d * sizeof(float); /* m <= n, cur->x holds n*d floats */
    next->n = m;
    next->d = d;
    next->n_points = np;
    if (with_features) {
        next->x = hli_alloc(bytes, 1);
        next->c = hli_alloc(bytes, 1);
    }
    next->node_of_point = hli_alloc((size_t)np, sizeof(int64_t));
    if (cur->label != NULL)
        next->label = hli_alloc((size_t)m, sizeof(int64_t));
    /* Points grouped by their new node (counting sort): start[v] .. start[v+1]. */
    int64_t *start = hli_calloc((size_t)m + 1, sizeof(int64_t));
    int64_t *order = with_features ? hli_alloc((size_t)np, sizeof(int64_t)) : NULL;
    if ((with_features && (next->x == NULL || next->c == NULL || order == NULL)) || next->node_of_point == NULL ||
        (cur->label != NULL && next->label == NULL) || start == NULL) {
        st = hl_last_error_status();
        goto fail;
    }
    for (int64_t p = 0; p < n; p++) {
        int64_t v = newid[p];
        if (v < 0)
            continue;
        if (with_features)
            memcpy(next->x + v * d, cur->x + p * d, (size_t)d * sizeof(float));
        if (next->label != NULL)
            next->label[v] = cur->label[p];
    }
    for (int64_t q = 0; q < np; q++) {
        int64_t u = cur->node_of_point[q];
        if (u < 0 || u >= n) {
            st = hli_error(HL_EINVAL, "level next: node_of_point[%lld] = %lld is outside [0, %lld)", (long long)q,
                           (long long)u, (long long)n);
            goto fail;
        }
        int64_t v = newid[peak[u]];
        next->node_of_point[q] = v;
        start[v + 1]++;
    }
    if (!with_features) {
        free(newid);
        free(start);
        return HL_OK;
    }
    for (int64_t v = 0; v < m; v++)
        start[v + 1] += start[v];
    {
        int64_t *fill = hli_alloc((size_t)m, sizeof(int64_t));
        if (fill == NULL) {
            st = hl_last_error_status();
            goto fail;
        }
        memcpy(fill, start, (size_t)m * sizeof(int64_t));
        for (int64_t q = 0; q < np; q++)
            order[fill[next->node_of_point[q]]++] = q;
        free(fill);
    }

    /* Cluster features: per new node, a fixed-order double sum of its points. */
    int nt = hli_threads(0);
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        double *acc = hli_alloc((size_t)d, sizeof(double));
        if (acc == NULL) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int64_t v = 0; v < m; v++) {
            if (acc == NULL)
                continue;
            for (int64_t t = 0; t < d; t++)
                acc[t] = 0.0;
            for (int64_t s = start[v]; s < start[v + 1]; s++) {
                const float *xq = x0 + order[s] * d;
                for (int64_t t = 0; t < d; t++)
                    acc[t] += xq[t];
            }
            double inv = 1.0 / (double)(start[v + 1] - start[v]);
            for (int64_t t = 0; t < d; t++)
                next->c[v * d + t] = (float)(acc[t] * inv);
        }
        free(acc);
    }
    if (failed) {
        st = hli_oom();
        goto fail;
    }
    free(newid);
    free(start);
    free(order);
    return HL_OK;

fail:
    free(newid);
    free(start);
    free(order);
    hli_level_free(next);
    return st;
}

hl_status hli_level_next(const hli_level *cur, const int64_t *peak, const float *x0, hli_level *next)
{
    return level_next(cur, peak, x0, 1, next);
}

hl_status hli_level_next_map(const hli_level *cur, const int64_t *peak, hli_level *next)
{
    return level_next(cur, peak, cur != NULL ? cur->x : NULL, 0, next);
}
