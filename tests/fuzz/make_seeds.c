/* Writes the seed corpora of the fuzz targets into <dir>/<target>/:
 *   fuzz_make_seeds tests/fuzz/corpus
 * Small valid files of every kind and format version the readers accept,
 * written with the library's own writers where it has one.  Run it again
 * when a format gains a version; commit the result. */
#define _POSIX_C_SOURCE 200809L
#include "hilander.h"
#include "fuzz_collection_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;

static void die(const char *what)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, hl_last_error());
    exit(1);
}

static const char *path_of(const char *target, const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", root, target);
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        die(buf);
    snprintf(buf, sizeof buf, "%s/%s/%s", root, target, name);
    return buf;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        die(path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b == NULL || fread(b, 1, (size_t)n, fp) != (size_t)n)
        die(path);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static void put(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(a, 1, na, fp) != na || (nb && fwrite(b, 1, nb, fp) != nb) || fclose(fp) != 0)
        die(path);
}

/* A .npy file of format @p major with the given dict (padded to 64 bytes). */
static void npy_raw(const char *path, int major, const char *dict, const void *data, size_t nd)
{
    unsigned char h[256];
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64, hl = total - pre;
    memcpy(h, "\x93NUMPY", 6);
    h[6] = (unsigned char)major;
    h[7] = 0;
    for (size_t i = 0; i < (major == 1 ? 2u : 4u); i++)
        h[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(h + pre, dict, dl);
    memset(h + pre + dl, ' ', hl - dl - 1);
    h[total - 1] = '\n';
    put(path, h, total, data, nd);
}

static void model_seed(const char *name, hl_model_config *cfg, int levels, float merge, int whiten)
{
    hl_model *m = NULL;
    if (hl_model_create(cfg, 7, &m) != HL_OK)
        die(name);
    if (levels && hl_model_set_cluster_levels(m, levels) != HL_OK)
        die(name);
    if (merge > 0 && hl_model_set_cluster_merge(m, merge) != HL_OK)
        die(name);
    if (whiten) {
        float w[64] = {0};
        for (int i = 0; i < cfg->feature_dim; i++)
            w[i * cfg->feature_dim + i] = 1.0f + 0.25f * (float)i;
        if (hl_model_set_whitening(m, w) != HL_OK)
            die(name);
    }
    const char *p = path_of("fuzz_model_load", name);
    if (hl_model_save(m, p) != HL_OK)
        die(p);
    size_t len;
    unsigned char *b = slurp(p, &len);
    put(path_of("fuzz_model_load_crc", name), b, len - 4, NULL, 0); /* without the CRC trailer */
    free(b);
    hl_model_free(m);
}

/* @p n points of dimension FZ_COLLECTION_DIM, point i near the direction
 * of group i % groups (+e_g, then -e_g for groups past the dimension), with
 * a fixed pseudo-random jitter. */
static void cluster_points(float *x, int n, int groups, uint32_t *state)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < FZ_COLLECTION_DIM; j++) {
            const int g = i % groups;
            *state = *state * 1664525u + 1013904223u;
            const float jitter = (float)(*state >> 8) / (float)(1u << 24) * 0.2f - 0.1f;
            const float centre = j == g % FZ_COLLECTION_DIM ? (g < FZ_COLLECTION_DIM ? 1.0f : -1.0f) : 0.0f;
            x[i * FZ_COLLECTION_DIM + j] = centre + jitter;
        }
}

/* A collection file written through the public API: batches of the given
 * sizes added in turn, then the listed ids removed; and the same file
 * without its CRC trailer for fuzz_collection_load_crc. */
static void collection_seed(const char *name, const hl_model *model, const hl_cluster_options *opts, int groups,
                            const int *batches, int num_batches, const int64_t *remove, int num_remove)
{
    hl_collection *c = NULL;
    float x[64 * FZ_COLLECTION_DIM];
    uint32_t state = 12345u;
    if (hl_collection_create(model, FZ_COLLECTION_DIM, opts, &c) != HL_OK)
        die(name);
    for (int b = 0; b < num_batches; b++) {
        if (batches[b] > 64)
            die("collection seed batch too large");
        cluster_points(x, batches[b], groups, &state);
        if (hl_collection_add(c, x, batches[b], FZ_COLLECTION_DIM, NULL, NULL) != HL_OK)
            die(name);
    }
    if (num_remove > 0 && hl_collection_remove(c, remove, num_remove, NULL) != HL_OK)
        die(name);
    const char *p = path_of("fuzz_collection_load", name);
    if (hl_collection_save(c, p) != HL_OK)
        die(p);
    size_t len;
    unsigned char *b = slurp(p, &len);
    put(path_of("fuzz_collection_load_crc", name), b, len - 4, NULL, 0); /* without the CRC trailer */
    free(b);
    hl_collection_free(c);
}

static void collection_seeds(void)
{
    hl_cluster_options o;
    const int two[2] = {24, 8}, one[1] = {12}, ivf[3] = {20, 20, 8}, none[1] = {0};
    const int64_t rm2[2] = {3, 30}, rm1[1] = {5}, group0[4] = {0, 4, 8, 12};
    /* the defaults (snn, k 10, linkage merge): two batches, two removals */
    hl_cluster_options_init(&o, sizeof o);
    collection_seed("snn.hlc", NULL, &o, 4, two, 2, rm2, 2);
    /* cosine score, small k, no merge */
    hl_cluster_options_init(&o, sizeof o);
    o.score = HL_SCORE_SIM;
    o.k = 3;
    o.merge = 0.0f;
    collection_seed("sim_k3.hlc", NULL, &o, 4, one, 1, rm1, 1);
    /* past knn_auto_threshold: the IVF index is stored too */
    hl_cluster_options_init(&o, sizeof o);
    o.k = 4;
    o.knn_auto_threshold = 16;
    collection_seed("ivf.hlc", NULL, &o, 8, ivf, 3, NULL, 0);
    /* every point of one group removed: an emptied cluster */
    hl_cluster_options_init(&o, sizeof o);
    o.k = 3;
    o.score = HL_SCORE_SIM;
    collection_seed("emptied.hlc", NULL, &o, 4, (const int[]){16}, 1, group0, 4);
    /* created and saved before any point */
    collection_seed("empty.hlc", NULL, NULL, 4, none, 0, NULL, 0);
    /* with the model the fuzz target rebuilds */
    hl_model *m = fz_collection_model();
    if (m == NULL)
        die("collection model");
    hl_cluster_options_init(&o, sizeof o);
    o.k = 4;
    collection_seed("model.hlc", m, &o, 4, two, 2, rm1, 1);
    hl_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);

    /* .npy float32 */
    const float x[6] = {0.5f, -1.0f, 2.0f, 0.0f, 1e-3f, 3.25f};
    if (hl_npy_write_f32(path_of("fuzz_npy_f32", "f32_3x2.npy"), x, 3, 2) != HL_OK)
        die("npy");
    npy_raw(path_of("fuzz_npy_f32", "f32_1d_v2.npy"), 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            x, 12);
    npy_raw(path_of("fuzz_npy_f32", "f32_v3_keys.npy"), 3, "{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": '<f4'}",
            x, 24);
    /* .npy labels */
    const int64_t lab[5] = {0, 3, -1, 3, 9};
    if (hl_npy_write_i64(path_of("fuzz_npy_labels", "i8_5.npy"), lab, 5, 0) != HL_OK ||
        hl_npy_write_i64(path_of("fuzz_npy_labels", "i8_5x1.npy"), lab, 5, 1) != HL_OK)
        die("npy labels");
    const int32_t l4[4] = {1, 1, 2, 7};
    npy_raw(path_of("fuzz_npy_labels", "i4_4.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }",
            l4, sizeof l4);
    /* .bin: first byte is dim - 1 */
    unsigned char d2 = 1, d3 = 2;
    put(path_of("fuzz_lc_bin", "dim2.bin"), &d2, 1, x, sizeof x);
    put(path_of("fuzz_lc_bin", "dim3.bin"), &d3, 1, x, sizeof x);
    /* .meta */
    const char meta[] = "0\n0\n12\n-3\n  7 \n+4\n\n";
    put(path_of("fuzz_lc_meta", "labels.meta"), meta, sizeof meta - 1, NULL, 0);
    const char meta2[] = "9223372036854775807\r\n-9223372036854775808";
    put(path_of("fuzz_lc_meta", "limits.meta"), meta2, sizeof meta2 - 1, NULL, 0);

    /* models (format version 1): each optional header field set once */
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 4;
    cfg.hidden = 4;
    cfg.link_head = HL_LINK_HEAD_REFERENCE;
    model_seed("reference.hlm", &cfg, 0, 0, 0);
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 3;
    cfg.hidden = 4;
    cfg.rel_rank = 2;
    cfg.num_conv = 2;
    cfg.edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN | HL_EDGE_FEAT_RANK_DST;
    model_seed("relational_low_rank.hlm", &cfg, 0, 0, 0);
    model_seed("levels.hlm", &cfg, 10, 0, 0);
    model_seed("merge.hlm", &cfg, 0, 0.5f, 0);
    model_seed("levels_merge_whiten.hlm", &cfg, 3, 0.25f, 1);
    cfg.rel_rank = 0;
    cfg.num_conv = 1;
    model_seed("relational_full_rank.hlm", &cfg, 0, 0, 0);

    /* collections (format version 1) */
    collection_seeds();
    printf("make_seeds: corpora written under %s\n", root);
    return 0;
}
