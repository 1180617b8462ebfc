/* libFuzzer target: hl_model_load.
 *
 * Built twice.  fuzz_model_load feeds the bytes as they are, so it mostly
 * exercises the magic, version, size and checksum checks.  With
 * HL_FUZZ_FIX_CRC (fuzz_model_load_crc) the input is a model file WITHOUT
 * its 4-byte CRC trailer and the harness appends the right CRC-32, so that
 * mutations reach the configuration, tensor-table and feature-map parsing
 * behind the checksum.
 *
 * A model it accepts must report a sane configuration, run hl_model_predict
 * on a 3-node graph without a fault, and survive a save/load round trip. */
#include "fuzz_common.h"

#ifdef HL_FUZZ_FIX_CRC
#include "fuzz_crc32.h"

static uint8_t *fix_buf;
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
#ifdef HL_FUZZ_FIX_CRC
    fix_buf = malloc(HL_FUZZ_MAX_INPUT + 4);
    if (fix_buf == NULL)
        abort();
    fz_init("model-crc");
#else
    fz_init("model");
#endif
    return 0;
}

/* Predict on a tiny graph: every node linked to the next one (and itself). */
static void exercise(const hl_model *m, int64_t d)
{
    if (d > 4096)
        return; /* keeps each input fast; the loader accepted it already */
    enum { N = 3 };
    float *x = calloc((size_t)(N * d), sizeof(float));
    FZ_REQUIRE(x != NULL);
    for (int64_t i = 0; i < N; i++)
        x[i * d + (i % d)] = 1.0f;
    float *xt = malloc((size_t)(N * d) * sizeof(float));
    FZ_REQUIRE(xt != NULL);
    hl_status st = hl_model_transform(m, x, N, d, xt);
    if (st == HL_OK) {
        float cs[N * 2];
        int64_t nb[N * 2];
        for (int64_t i = 0; i < N; i++) {
            nb[i * 2] = i;
            nb[i * 2 + 1] = (i + 1) % N;
            cs[i * 2] = 1.0f;
            cs[i * 2 + 1] = 0.5f;
        }
        hl_graph *g = NULL;
        if (hl_graph_from_neighbors(nb, cs, N, 2, &g) == HL_OK) {
            float prob[N * 2], dens[N];
            st = hl_model_predict(m, g, xt, NULL, N, d, 1, prob, dens);
            fz_check_error(st);
            hl_graph_free(g);
        }
    } else {
        /* a stored feature map may send a row to zero: refused, not a crash */
        fz_check_error(st);
    }
    free(xt);
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HL_FUZZ_MAX_INPUT)
        return 0;
#ifdef HL_FUZZ_FIX_CRC
    memcpy(fix_buf, data, size);
    fz_write(fix_buf, fz_append_crc32(fix_buf, size));
#else
    fz_write(data, size);
#endif
    hl_model *m = NULL;
    hl_status st = hl_model_load(fz_path, &m);
    fz_check_error(st);
    if (st != HL_OK) {
        FZ_REQUIRE(m == NULL);
        return 0;
    }
    FZ_REQUIRE(m != NULL);
    hl_model_config cfg;
    FZ_REQUIRE(hl_model_config_init(&cfg, sizeof cfg) == HL_OK);
    FZ_REQUIRE(hl_model_get_config(m, &cfg) == HL_OK);
    FZ_REQUIRE(hl_model_config_check(&cfg) == HL_OK);
    FZ_REQUIRE(hl_model_num_params(m) > 0);
    /* every parameter is stored in the file */
    FZ_REQUIRE((uint64_t)hl_model_num_params(m) * 4u < size + 4);
    exercise(m, cfg.feature_dim);
    FZ_REQUIRE(hl_model_save(m, fz_path2) == HL_OK);
    hl_model *m2 = NULL;
    st = hl_model_load(fz_path2, &m2);
    if (st != HL_OK)
        fprintf(stderr, "fuzz: reload failed: %s\n", hl_last_error());
    FZ_REQUIRE(st == HL_OK && m2 != NULL);
    FZ_REQUIRE(hl_model_num_params(m2) == hl_model_num_params(m));
    hl_model_free(m2);
    hl_model_free(m);
    return 0;
}
