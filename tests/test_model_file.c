/* Model files (format version 1, docs/MODEL_FORMAT.md): bit-exact round trip
 * with and without each optional field, every header field out of range
 * refused naming its byte, truncation at every byte offset, bit flips, a
 * future version, lying headers, bad arguments. */
#define _POSIX_C_SOURCE 200809L
#include "io/io_internal.h"
#include "model/model_internal.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hl_test_model_file_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

/* The optional fields of a model: each 0 / absent, or set. */
typedef struct variant {
    int head;     /* hl_link_head */
    int rel_rank; /* relational head only */
    int levels;
    float merge;
    int whiten;
} variant;

/* A feature map for feature_dim 3 (row-major). */
static const float W3[9] = {2.0f, 0.0f, 0.0f, -0.5f, 1.5f, 0.0f, 0.25f, 0.125f, 1.0f};

static hl_model *model_of(variant v)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 3;
    cfg.hidden = 4;
    cfg.link_head = v.head;
    cfg.edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN;
    cfg.rel_rank = v.rel_rank;
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(&cfg, 42, &m), HL_OK);
    ck_assert_int_eq(hl_model_set_cluster_defaults(m, 0.75f, HL_SCORE_SNN), HL_OK);
    ck_assert_int_eq(hl_model_set_cluster_levels(m, v.levels), HL_OK);
    ck_assert_int_eq(hl_model_set_cluster_merge(m, v.merge), HL_OK);
    ck_assert_int_eq(hl_model_set_whitening(m, v.whiten ? W3 : NULL), HL_OK);
    return m;
}

/* Every optional field set: relational, low rank, levels, merge, feature map. */
static const variant FULL = {HL_LINK_HEAD_RELATIONAL, 2, 10, 1.25f, 1};

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static void putf(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static float getf(const unsigned char *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Save @p m to @p path and return the file's bytes (*len; caller frees). */
static unsigned char *save_bytes(const hl_model *m, const char *path, size_t *len)
{
    ck_assert_int_eq(hl_model_save(m, path), HL_OK);
    return slurp(path, len);
}

/* Give @p b (len bytes) a valid checksum, write it to @p path and load it. */
static hl_status load_with_crc(const char *path, unsigned char *b, size_t len)
{
    put32(b + len - 4, hli_crc32(0, b, len - 4));
    spit(path, b, len);
    hl_model *r = (hl_model *)b; /* must be reset to NULL */
    hl_status st = hl_model_load(path, &r);
    if (st == HL_OK)
        hl_model_free(r);
    else
        ck_assert_ptr_null(r);
    return st;
}

/* The same, when the loader must refuse it with HL_EFORMAT naming @p needle. */
static void expect_refused(const char *path, unsigned char *b, size_t len, const char *needle)
{
    ck_assert_int_eq(load_with_crc(path, b, len), HL_EFORMAT);
    ck_assert_msg(strstr(hl_last_error(), needle) != NULL, "'%s' does not name '%s'", hl_last_error(), needle);
}

/* Save, load, compare everything, save again: the same bytes. */
static void check_round_trip(variant v)
{
    hl_model *m = model_of(v), *r = NULL;
    char p1[300], p2[300];
    path_of(p1, sizeof p1, "a.hlm");
    path_of(p2, sizeof p2, "b.hlm");
    size_t l1, l2;
    unsigned char *b1 = save_bytes(m, p1, &l1);
    ck_assert_int_eq(hl_model_load(p1, &r), HL_OK);
    ck_assert_int_eq(hl_model_num_params(r), hl_model_num_params(m));
    ck_assert_mem_eq(r->params, m->params, (size_t)m->num_params * sizeof(float));
    hl_model_config c1, c2;
    memset(&c1, 0, sizeof c1);
    memset(&c2, 0, sizeof c2);
    c1.struct_size = c2.struct_size = sizeof c1;
    ck_assert_int_eq(hl_model_get_config(m, &c1), HL_OK);
    ck_assert_int_eq(hl_model_get_config(r, &c2), HL_OK);
    ck_assert_mem_eq(&c1, &c2, sizeof c1);
    float tau, merge;
    int32_t score, levels, present;
    ck_assert_int_eq(hl_model_get_cluster_defaults(r, &tau, &score), HL_OK);
    ck_assert(tau == 0.75f && score == HL_SCORE_SNN);
    ck_assert_int_eq(hl_model_get_cluster_levels(r, &levels), HL_OK);
    ck_assert_int_eq(levels, v.levels);
    ck_assert_int_eq(hl_model_get_cluster_merge(r, &merge), HL_OK);
    ck_assert(merge == v.merge);
    float w[9];
    ck_assert_int_eq(hl_model_get_whitening(r, w, &present), HL_OK);
    ck_assert_int_eq(present, v.whiten);
    if (v.whiten)
        ck_assert_mem_eq(w, W3, sizeof W3);
    /* the documented header: one version, every field at its byte */
    ck_assert_mem_eq(b1, "HLANDER\x1a", 8);
    ck_assert_uint_eq(get32(b1 + 8), 1);
    ck_assert_uint_eq(get32(b1 + 44), (uint32_t)v.head);
    ck_assert_uint_eq(get32(b1 + 48), v.head == HL_LINK_HEAD_RELATIONAL ? 3u : 0u);
    ck_assert(getf(b1 + 52) == 0.75f);
    ck_assert_uint_eq(get32(b1 + 56), HL_SCORE_SNN);
    ck_assert_uint_eq(get32(b1 + 60), (uint32_t)m->num_tensors);
    ck_assert_uint_eq(get32(b1 + 64), (uint32_t)v.rel_rank);
    ck_assert_uint_eq(get32(b1 + 68), (uint32_t)v.levels);
    ck_assert(getf(b1 + 72) == v.merge);
    ck_assert_uint_eq(get32(b1 + 76), (uint32_t)v.whiten);
    /* the first tensor starts at byte 80; the map, if any, ends 4 bytes before the end */
    ck_assert_uint_eq(get32(b1 + 80), strlen("conv0.weight"));
    ck_assert_mem_eq(b1 + 84, "conv0.weight", strlen("conv0.weight"));
    size_t expect = 80 + 4 + (size_t)m->num_params * 4 + (v.whiten ? 9 * 4 : 0);
    for (int t = 0; t < m->num_tensors; t++)
        expect += 4 + strlen(m->t[t].name) + 16;
    ck_assert_uint_eq(l1, expect);
    if (v.whiten)
        ck_assert(getf(b1 + l1 - 4 - 9 * 4 + 3 * 4) == W3[3]);
    /* saving the loaded model gives the same bytes */
    unsigned char *b2 = save_bytes(r, p2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(b1, b2, l1);
    free(b1);
    free(b2);
    hl_model_free(m);
    hl_model_free(r);
}

/* Both heads, and for the relational one with and without each optional
 * field (low rank, levels, merge, feature map), all combinations. */
START_TEST(test_round_trip_bit_exact)
{
    int count = 0;
    for (int head = 0; head < 2; head++)
        for (int mask = 0; mask < 16; mask++) {
            if (head == HL_LINK_HEAD_REFERENCE && (mask & 1))
                continue; /* rel_rank belongs to the relational head */
            variant v = {head, mask & 1 ? 2 : 0, mask & 2 ? 10 : 0, mask & 4 ? 1.25f : 0.0f, mask & 8 ? 1 : 0};
            check_round_trip(v);
            count++;
        }
    ck_assert_int_eq(count, 24);
}
END_TEST

/* One header field set to @p value (u32 at @p byte; a whole u64 when @p wide). */
typedef struct bad_field {
    int byte;
    int wide;
    uint64_t value;
    const char *needle; /* besides "byte <byte>" */
} bad_field;

#define F32(x) ((uint64_t)f32_bits(x))
static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Each header field out of range, the checksum recomputed: HL_EFORMAT
 * naming the field's byte. */
START_TEST(test_header_fields_out_of_range)
{
    hl_model *m = model_of(FULL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "bad.hlm");
    size_t len;
    unsigned char *orig = save_bytes(m, p, &len), *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    /* control: the file itself, checksum recomputed, loads */
    memcpy(b, orig, len);
    ck_assert_int_eq(load_with_crc(q, b, len), HL_OK);
    const bad_field bad[] = {
        {12, 1, 0, "feature_dim"},
        {12, 1, 1ull << 21, "feature_dim"},
        {12, 1, UINT64_MAX, "feature_dim"},
        {20, 1, 5, "hidden"},
        {20, 1, 0, "hidden"},
        {20, 1, 1ull << 63, "hidden"},
        {28, 0, 0, "num_conv"},
        {28, 0, 5, "num_conv"},
        {28, 0, UINT32_MAX, "num_conv"},
        {32, 0, 2, "use_cluster_feat"},
        {36, 0, F32(1.0f), "dropout"},
        {36, 0, F32(-0.5f), "dropout"},
        {36, 0, F32(NAN), "dropout"},
        {40, 0, 1, "layer_type"},
        {44, 0, 2, "link_head"},
        {48, 0, 0, "edge_features"},
        {48, 0, 0x80000000u, "edge_features"},
        {52, 0, F32(1.5f), "tau"},
        {52, 0, F32(-0.25f), "tau"},
        {52, 0, F32(NAN), "tau"},
        {56, 0, 3, "score"},
        {56, 0, UINT32_MAX, "score"},
        {60, 0, 0, "tensors"},
        {60, 0, 100, "tensors"},
        {64, 0, 0x80000000u, "rel_rank"},
        {64, 0, UINT32_MAX, "rel_rank"},
        {64, 0, (1u << 16) + 1, "rel_rank"},
        {68, 0, HL_MAX_LEVELS + 1, "levels"},
        {68, 0, 0x80000000u, "levels"},
        {72, 0, F32(-1.0f), "merge"},
        {72, 0, F32(INFINITY), "merge"},
        {72, 0, F32(NAN), "merge"},
        {76, 0, 2, "whitening"},
        {76, 0, UINT32_MAX, "whitening"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(b, orig, len);
        if (bad[i].wide)
            put64(b + bad[i].byte, bad[i].value);
        else
            put32(b + bad[i].byte, (uint32_t)bad[i].value);
        char at[32];
        snprintf(at, sizeof at, "byte %d", bad[i].byte);
        expect_refused(q, b, len, at);
        ck_assert_msg(strstr(hl_last_error(), bad[i].needle) != NULL, "case %zu: '%s' does not name '%s'", i,
                      hl_last_error(), bad[i].needle);
    }
    /* whitening 1 needs feature_dim <= 8192, a valid configuration otherwise */
    memcpy(b, orig, len);
    put64(b + 12, 8193);
    expect_refused(q, b, len, "byte 76");
    /* a valid rank other than the tensors': the file's size no longer matches */
    memcpy(b, orig, len);
    put32(b + 64, 1);
    expect_refused(q, b, len, "parameters");
    /* whitening 0 while the map is there: trailing bytes are not ignored */
    memcpy(b, orig, len);
    put32(b + 76, 0);
    expect_refused(q, b, len, "parameters");
    free(b);
    free(orig);
    hl_model_free(m);
}
END_TEST

/* The reference head has neither edge features nor a rank: a file that
 * stores one is refused at its byte (a saved model always has 0 there). */
START_TEST(test_reference_head_fields)
{
    variant v = {HL_LINK_HEAD_REFERENCE, 0, 0, 0.0f, 0};
    hl_model *m = model_of(v);
    char p[300], q[300];
    path_of(p, sizeof p, "ref.hlm");
    path_of(q, sizeof q, "bad.hlm");
    size_t len;
    unsigned char *b = save_bytes(m, p, &len);
    ck_assert_uint_eq(get32(b + 48), 0);
    ck_assert_uint_eq(get32(b + 64), 0);
    ck_assert_int_eq(load_with_crc(q, b, len), HL_OK);
    put32(b + 48, HL_EDGE_FEAT_SIM);
    expect_refused(q, b, len, "byte 48");
    put32(b + 48, 0);
    put32(b + 64, 2);
    expect_refused(q, b, len, "byte 64");
    free(b);
    hl_model_free(m);
}
END_TEST

/* Format version 1 only: 2 (and any later) is HL_EVERSION, reported before
 * the checksum is looked at; 0 is HL_EFORMAT. */
START_TEST(test_future_version)
{
    hl_model *m = model_of(FULL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "v.hlm");
    size_t len;
    unsigned char *b = save_bytes(m, p, &len);
    const uint32_t newer[3] = {2, 3, UINT32_MAX};
    for (int i = 0; i < 3; i++) {
        put32(b + 8, newer[i]);
        ck_assert_int_eq(load_with_crc(q, b, len), HL_EVERSION);
        char want[64];
        snprintf(want, sizeof want, "version %u at byte 8 is newer", newer[i]);
        ck_assert_msg(strstr(hl_last_error(), want) != NULL, "%s", hl_last_error());
    }
    /* with a stale checksum, still reported as newer */
    put32(b + 8, 2);
    spit(q, b, len);
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(q, &r), HL_EVERSION);
    ck_assert_ptr_null(r);
    /* a newer file cut to its first 12 bytes: still newer */
    spit(q, b, 12);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EVERSION);
    put32(b + 8, 0);
    expect_refused(q, b, len, "version 0 at byte 8");
    free(b);
    hl_model_free(m);
}
END_TEST

START_TEST(test_truncation_every_offset)
{
    hl_model *m = model_of(FULL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "cut.hlm");
    size_t len;
    unsigned char *b = save_bytes(m, p, &len);
    for (size_t cut = 0; cut < len; cut++) {
        spit(q, b, cut);
        hl_model *r = (hl_model *)q; /* must be reset to NULL */
        hl_status st = hl_model_load(q, &r);
        ck_assert_msg(st == HL_EFORMAT, "truncated at %zu: status %d", cut, (int)st);
        ck_assert_ptr_null(r);
        ck_assert(strlen(hl_last_error()) > 0);
    }
    /* cut short by one value of the map, the checksum valid again: refused before allocating */
    unsigned char *c = malloc(len - 4);
    ck_assert_ptr_nonnull(c);
    memcpy(c, b, len - 8);
    expect_refused(q, c, len - 4, "feature map");
    free(c);
    /* one extra byte is also caught, with a stale or a valid checksum */
    unsigned char *b2 = malloc(len + 4);
    ck_assert_ptr_nonnull(b2);
    memcpy(b2, b, len);
    b2[len] = 0;
    spit(q, b2, len + 1);
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    memcpy(b2, b, len - 4);
    memset(b2 + len - 4, 0, 4);
    expect_refused(q, b2, len + 4, "parameters");
    free(b2);
    free(b);
    hl_model_free(m);
}
END_TEST

START_TEST(test_bit_flips)
{
    hl_model *m = model_of(FULL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "flip.hlm");
    size_t len;
    unsigned char *b = save_bytes(m, p, &len);
    for (size_t i = 0; i < len; i++) {
        const int bit = (int)(i * 5 % 8);
        b[i] ^= (unsigned char)(1u << bit);
        spit(q, b, len);
        hl_model *r = NULL;
        hl_status st = hl_model_load(q, &r);
        /* a flip in the version makes it 0 (HL_EFORMAT) or newer than 1 */
        const hl_status want = get32(b + 8) > 1 ? HL_EVERSION : HL_EFORMAT;
        ck_assert_msg(st == want, "flip at byte %zu bit %d: status %d", i, bit, (int)st);
        ck_assert_ptr_null(r);
        b[i] ^= (unsigned char)(1u << bit);
    }
    free(b);
    hl_model_free(m);
}
END_TEST

/* Lying contents under a valid checksum: sizes refused before allocating,
 * non-finite values named with their byte. */
START_TEST(test_lying_contents)
{
    hl_model *m = model_of(FULL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "bad.hlm");
    size_t len;
    unsigned char *b = save_bytes(m, p, &len);
    unsigned char save[8];
    /* the largest valid hidden size: needs far more bytes than the file has */
    memcpy(save, b + 20, 8);
    put64(b + 20, 65536);
    expect_refused(q, b, len, "parameters");
    memcpy(b + 20, save, 8);
    /* a NaN weight, an infinite bias */
    const size_t first_value = 80 + 4 + strlen("conv0.weight") + 16;
    memcpy(save, b + first_value, 4);
    put32(b + first_value, 0x7fc00000u);
    char at[64];
    snprintf(at, sizeof at, "'conv0.weight' value 0 at byte %zu", first_value);
    expect_refused(q, b, len, at);
    memcpy(b + first_value, save, 4);
    /* a tensor name changed */
    b[84] = 'X';
    expect_refused(q, b, len, "tensor 0 at byte 80 is not 'conv0.weight'");
    b[84] = 'c';
    /* a shape changed (the total size kept) */
    memcpy(save, b + 96, 8);
    put64(b + 96, 1);
    expect_refused(q, b, len, "shape");
    memcpy(b + 96, save, 8);
    /* an infinite value in the feature map */
    putf(b + len - 8, INFINITY);
    expect_refused(q, b, len, "whitening matrix value 8");
    putf(b + len - 8, W3[8]);
    ck_assert_int_eq(load_with_crc(q, b, len), HL_OK);
    free(b);
    hl_model_free(m);
}
END_TEST

/* The setters of the stored fields refuse what the loader refuses. */
START_TEST(test_stored_field_setters)
{
    variant v = {HL_LINK_HEAD_RELATIONAL, 0, 0, 0.0f, 0};
    hl_model *m = model_of(v);
    int32_t lv = -1, present = -1;
    float mg = -1.0f;
    ck_assert_int_eq(hl_model_get_cluster_levels(m, &lv), HL_OK);
    ck_assert_int_eq(lv, 0);
    ck_assert_int_eq(hl_model_set_cluster_levels(m, HL_MAX_LEVELS + 1), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "levels"));
    ck_assert_int_eq(hl_model_set_cluster_levels(m, -1), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_cluster_merge(m, &mg), HL_OK);
    ck_assert(mg == 0.0f);
    ck_assert_int_eq(hl_model_set_cluster_merge(m, -0.5f), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "merge"));
    ck_assert_int_eq(hl_model_set_cluster_merge(m, NAN), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_cluster_merge(m, INFINITY), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_cluster_merge(NULL, 1.0f), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_cluster_merge(m, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_whitening(m, NULL, &present), HL_OK);
    ck_assert_int_eq(present, 0);
    float bad_w[9];
    memcpy(bad_w, W3, sizeof W3);
    bad_w[4] = NAN;
    ck_assert_int_eq(hl_model_set_whitening(m, bad_w), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_whitening(NULL, W3), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_whitening(m, NULL, NULL), HL_EINVAL);
    /* removing a field writes 0 at its byte again */
    ck_assert_int_eq(hl_model_set_cluster_levels(m, 7), HL_OK);
    ck_assert_int_eq(hl_model_set_whitening(m, W3), HL_OK);
    ck_assert_int_eq(hl_model_set_cluster_levels(m, 0), HL_OK);
    ck_assert_int_eq(hl_model_set_whitening(m, NULL), HL_OK);
    char p[300];
    path_of(p, sizeof p, "m.hlm");
    size_t len;
    unsigned char *b = save_bytes(m, p, &len);
    ck_assert_uint_eq(get32(b + 68), 0);
    ck_assert_uint_eq(get32(b + 76), 0);
    free(b);
    hl_model_free(m);
}
END_TEST

START_TEST(test_bad_arguments)
{
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(NULL, &r), HL_EINVAL);
    ck_assert_int_eq(hl_model_load("x", NULL), HL_EINVAL);
    ck_assert_int_eq(hl_model_load("/nonexistent/dir/m.hlm", &r), HL_EIO);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "/nonexistent/dir/m.hlm"));
    ck_assert_int_eq(hl_model_save(NULL, "x"), HL_EINVAL);
    variant v = {HL_LINK_HEAD_REFERENCE, 0, 0, 0.0f, 0};
    hl_model *m = model_of(v);
    ck_assert_int_eq(hl_model_save(m, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_model_save(m, "/nonexistent/dir/m.hlm"), HL_EIO);
    /* not a model file */
    char q[300];
    path_of(q, sizeof q, "text.hlm");
    spit(q, (const unsigned char *)"hello world, this is not a model at all.........................................", 80);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "magic"));
    ck_assert_ptr_null(r);
    hl_model_free(m);
}
END_TEST

static Suite *model_file_suite(void)
{
    Suite *s = suite_create("model_file");
    TCase *tc = tcase_create("model_file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_round_trip_bit_exact);
    tcase_add_test(tc, test_header_fields_out_of_range);
    tcase_add_test(tc, test_reference_head_fields);
    tcase_add_test(tc, test_future_version);
    tcase_add_test(tc, test_truncation_every_offset);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_lying_contents);
    tcase_add_test(tc, test_stored_field_setters);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_file_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
