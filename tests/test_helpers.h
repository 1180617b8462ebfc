/* Helpers shared by the Check suites (tests/test_*.c): synthetic blobs, an
 * untrained model and the level-0 graph as hl_cluster builds it.  Static
 * inline, so a suite that uses only some of them compiles without warnings. */
#ifndef HILANDER_TEST_HELPERS_H
#define HILANDER_TEST_HELPERS_H

#include "common/internal.h"
#include "graph/graph_internal.h"

#include <check.h>
#include <stdlib.h>

/* nc blobs of m points in d dimensions: uniform noise of width @p noise
 * around random centres in [-1, 1)^d, blobs interleaved (point p is in blob
 * p % nc) so that ids are not sorted by cluster; labels c * 10 + 3. */
static inline float *th_blobs(int64_t nc, int64_t m, int64_t d, double noise, uint64_t seed, int64_t **labels)
{
    hli_rng r;
    hli_rng_seed(&r, seed);
    float *cent = malloc((size_t)(nc * d) * sizeof(float));
    float *x = malloc((size_t)(nc * m * d) * sizeof(float));
    *labels = malloc((size_t)(nc * m) * sizeof(int64_t));
    ck_assert(cent && x && *labels);
    for (int64_t i = 0; i < nc * d; i++)
        cent[i] = (float)(hli_rng_uniform(&r) * 2 - 1);
    for (int64_t p = 0; p < nc * m; p++) {
        const int64_t c = p % nc;
        (*labels)[p] = c * 10 + 3;
        for (int64_t t = 0; t < d; t++)
            x[p * d + t] = cent[c * d + t] + (float)(noise * (hli_rng_uniform(&r) - 0.5));
    }
    free(cent);
    return x;
}

/* An untrained model (defaults but the hidden width) for d-dim features. */
static inline hl_model *th_untrained_model(int64_t d, int64_t hidden, uint64_t seed)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = d;
    cfg.hidden = hidden;
    hl_model *model = NULL;
    ck_assert_int_eq(hl_model_create(&cfg, seed, &model), HL_OK);
    return model;
}

/* The level-0 k-NN graph of @p x as hl_cluster builds it: rows normalised
 * (returned in *xn, caller frees), automatic kNN method. */
static inline hl_graph *th_level0_graph(const float *x, int64_t n, int64_t d, int64_t k, float **xn)
{
    hl_status st;
    *xn = hli_normalized_copy(x, n, d, &st);
    ck_assert_ptr_nonnull(*xn);
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    hl_graph *g = NULL;
    ck_assert_int_eq(hli_graph_build_normalized(*xn, n, d, &ko, &g), HL_OK);
    return g;
}

#endif
