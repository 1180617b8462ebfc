/* The model of the collection seeds made with a model (make_seeds.c,
 * "model.hlc"): created, not trained, from a fixed configuration and seed,
 * so that the fuzz target builds the very same model (same parameters, hence
 * the same fingerprint in the file) and can load those seeds and their
 * mutants.  4-dimensional features, as every collection seed. */
#ifndef HILANDER_FUZZ_COLLECTION_MODEL_H
#define HILANDER_FUZZ_COLLECTION_MODEL_H

#include "hilander.h"

#define FZ_COLLECTION_DIM 4

/* @return the model, or NULL with hl_last_error() set. */
static inline hl_model *fz_collection_model(void)
{
    hl_model_config cfg;
    hl_model *m = NULL;
    if (hl_model_config_init(&cfg, sizeof cfg) != HL_OK)
        return NULL;
    cfg.feature_dim = FZ_COLLECTION_DIM;
    cfg.hidden = 4;
    cfg.link_head = HL_LINK_HEAD_REFERENCE;
    return hl_model_create(&cfg, 7, &m) == HL_OK ? m : NULL;
}

#endif
