/* Model files: bit-exact round trip, truncation at every byte offset, bit
 * flips, future versions, lying headers, bad arguments. */
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

static hl_model *small_model(int head)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 3;
    cfg.hidden = 4;
    cfg.link_head = head;
    cfg.edge_features = HL_EDGE_FEAT_SIM | HL_EDGE_FEAT_SNN;
    cfg.rel_rank = 0; /* full rank: format version 1 (low rank: test_low_rank_version_2) */
    hl_model *m = NULL;
    ck_assert_int_eq(hl_model_create(&cfg, 42, &m), HL_OK);
    ck_assert_int_eq(hl_model_set_cluster_defaults(m, 0.75f, HL_SCORE_PROB), HL_OK);
    return m;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
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

/* Give @p b (len bytes) a valid checksum and write it to @p path: the loader
 * must refuse it with HL_EFORMAT, naming @p needle. */
static void expect_refused(const char *path, unsigned char *b, size_t len, const char *needle)
{
    put32(b + len - 4, hli_crc32(0, b, len - 4));
    spit(path, b, len);
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(path, &r), HL_EFORMAT);
    ck_assert_msg(strstr(hl_last_error(), needle) != NULL, "'%s' does not name '%s'", hl_last_error(), needle);
    ck_assert_ptr_null(r);
}

/* Save @p m to @p path, check the format version it was written as and
 * return the file's bytes (*len of them; caller frees). */
static unsigned char *save_as_version(const hl_model *m, const char *path, unsigned version, size_t *len)
{
    ck_assert_int_eq(hl_model_save(m, path), HL_OK);
    unsigned char *b = slurp(path, len);
    ck_assert_uint_eq(b[8], version);
    return b;
}

/* The same, for when only the version matters. */
static void expect_saved_version(const hl_model *m, const char *path, unsigned version)
{
    size_t len;
    free(save_as_version(m, path, version, &len));
}

START_TEST(test_round_trip_bit_exact)
{
    for (int head = 0; head < 2; head++) {
        hl_model *m = small_model(head);
        char p1[300], p2[300];
        path_of(p1, sizeof p1, "a.hlm");
        path_of(p2, sizeof p2, "b.hlm");
        ck_assert_int_eq(hl_model_save(m, p1), HL_OK);
        hl_model *r = NULL;
        ck_assert_int_eq(hl_model_load(p1, &r), HL_OK);
        ck_assert_int_eq(hl_model_num_params(r), hl_model_num_params(m));
        ck_assert_mem_eq(r->params, m->params, (size_t)m->num_params * sizeof(float));
        hl_model_config c1, c2;
        c1.struct_size = c2.struct_size = sizeof c1;
        ck_assert_int_eq(hl_model_get_config(m, &c1), HL_OK);
        ck_assert_int_eq(hl_model_get_config(r, &c2), HL_OK);
        ck_assert_mem_eq(&c1, &c2, sizeof c1);
        float tau;
        int32_t score;
        ck_assert_int_eq(hl_model_get_cluster_defaults(r, &tau, &score), HL_OK);
        ck_assert(tau == 0.75f && score == HL_SCORE_PROB);
        /* saving the loaded model gives the same bytes */
        ck_assert_int_eq(hl_model_save(r, p2), HL_OK);
        size_t l1, l2;
        unsigned char *b1 = slurp(p1, &l1), *b2 = slurp(p2, &l2);
        ck_assert_uint_eq(l1, l2);
        ck_assert_mem_eq(b1, b2, l1);
        /* the documented header */
        ck_assert_mem_eq(b1, "HLANDER\x1a", 8);
        ck_assert_uint_eq(b1[8], 1);
        free(b1);
        free(b2);
        hl_model_free(m);
        hl_model_free(r);
    }
}
END_TEST

/* A low-rank relational model is a version-2 file (u32 rel_rank at byte 64);
 * full-rank models stay version 1. */
START_TEST(test_low_rank_version_2)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 3;
    cfg.hidden = 6;
    cfg.rel_rank = 2;
    hl_model *m = NULL, *r = NULL;
    ck_assert_int_eq(hl_model_create(&cfg, 9, &m), HL_OK);
    char p1[300], p2[300];
    path_of(p1, sizeof p1, "low.hlm");
    path_of(p2, sizeof p2, "low2.hlm");
    ck_assert_int_eq(hl_model_save(m, p1), HL_OK);
    ck_assert_int_eq(hl_model_load(p1, &r), HL_OK);
    ck_assert_int_eq(r->cfg.rel_rank, 2);
    ck_assert_int_eq(hl_model_num_params(r), hl_model_num_params(m));
    ck_assert_mem_eq(r->params, m->params, (size_t)m->num_params * sizeof(float));
    ck_assert_int_eq(hl_model_save(r, p2), HL_OK);
    size_t l1, l2;
    unsigned char *b1 = slurp(p1, &l1), *b2 = slurp(p2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_mem_eq(b1, b2, l1);
    ck_assert_uint_eq(b1[8], 2);
    ck_assert_uint_eq(b1[64], 2);
    /* rank 0 in a version-2 file is refused, naming the byte */
    put32(b1 + 64, 0);
    put32(b1 + l1 - 4, hli_crc32(0, b1, l1 - 4));
    spit(p2, b1, l1);
    hl_model_free(r);
    r = NULL;
    ck_assert_int_eq(hl_model_load(p2, &r), HL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "byte 64"));
    /* a wrong rank: the tensor shapes no longer match */
    put32(b1 + 64, 3);
    put32(b1 + l1 - 4, hli_crc32(0, b1, l1 - 4));
    spit(p2, b1, l1);
    ck_assert_int_eq(hl_model_load(p2, &r), HL_EFORMAT);
    /* truncated inside the version-2 header */
    spit(p2, b2, 66);
    ck_assert_int_eq(hl_model_load(p2, &r), HL_EFORMAT);
    ck_assert_ptr_null(r);
    free(b1);
    free(b2);
    hl_model_free(m);
}
END_TEST

START_TEST(test_truncation_every_offset)
{
    hl_model *m = small_model(HL_LINK_HEAD_RELATIONAL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "cut.hlm");
    ck_assert_int_eq(hl_model_save(m, p), HL_OK);
    size_t len;
    unsigned char *b = slurp(p, &len);
    for (size_t cut = 0; cut < len; cut++) {
        spit(q, b, cut);
        hl_model *r = (hl_model *)q; /* must be reset to NULL */
        hl_status st = hl_model_load(q, &r);
        ck_assert_msg(st == HL_EFORMAT, "truncated at %zu: status %d", cut, (int)st);
        ck_assert_ptr_null(r);
        ck_assert(strlen(hl_last_error()) > 0);
    }
    /* one extra byte is also caught */
    unsigned char *b2 = malloc(len + 1);
    memcpy(b2, b, len);
    b2[len] = 0;
    spit(q, b2, len + 1);
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    free(b2);
    free(b);
    hl_model_free(m);
}
END_TEST

START_TEST(test_bit_flips)
{
    hl_model *m = small_model(HL_LINK_HEAD_RELATIONAL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "flip.hlm");
    ck_assert_int_eq(hl_model_save(m, p), HL_OK);
    size_t len;
    unsigned char *b = slurp(p, &len);
    for (size_t i = 0; i < len; i++) {
        const int bit = (int)(i * 5 % 8);
        b[i] ^= (unsigned char)(1u << bit);
        spit(q, b, len);
        hl_model *r = NULL;
        hl_status st = hl_model_load(q, &r);
        ck_assert_msg(st == HL_EFORMAT || st == HL_EVERSION, "flip at byte %zu bit %d: status %d", i, bit, (int)st);
        ck_assert_ptr_null(r);
        b[i] ^= (unsigned char)(1u << bit);
    }
    free(b);
    hl_model_free(m);
}
END_TEST

/* A stored level limit makes a version-3 file (u32 levels at byte 68, after
 * rel_rank, which may be 0 there); models without one keep version 1/2. */
START_TEST(test_cluster_levels_version_3)
{
    hl_model *m = small_model(HL_LINK_HEAD_RELATIONAL); /* full rank */
    int32_t lv = -1;
    ck_assert_int_eq(hl_model_get_cluster_levels(m, &lv), HL_OK);
    ck_assert_int_eq(lv, 0);
    ck_assert_int_eq(hl_model_set_cluster_levels(m, HL_MAX_LEVELS + 1), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "levels"));
    ck_assert_int_eq(hl_model_set_cluster_levels(m, 10), HL_OK);
    char p1[300], p2[300];
    path_of(p1, sizeof p1, "v3.hlm");
    path_of(p2, sizeof p2, "v3b.hlm");
    size_t len;
    unsigned char *b = save_as_version(m, p1, 3, &len);
    ck_assert_uint_eq(b[64], 0);  /* rel_rank 0 is allowed in version 3 */
    ck_assert_uint_eq(b[68], 10); /* the levels */
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(p1, &r), HL_OK);
    ck_assert_int_eq(hl_model_get_cluster_levels(r, &lv), HL_OK);
    ck_assert_int_eq(lv, 10);
    ck_assert_mem_eq(r->params, m->params, (size_t)m->num_params * sizeof(float));
    hl_model_free(r);
    r = NULL;
    /* levels 0 in a version-3 file is refused, naming the byte */
    put32(b + 68, 0);
    expect_refused(p2, b, len, "byte 68");
    /* back to 0 = automatic: the file is version 1 again */
    ck_assert_int_eq(hl_model_set_cluster_levels(m, 0), HL_OK);
    expect_saved_version(m, p2, 1);
    free(b);
    hl_model_free(m);
}
END_TEST

/* A stored linkage-merge threshold makes a version-4 file (f32 at byte 72,
 * after the levels, which may be 0 there); models without one keep their
 * older version. */
START_TEST(test_cluster_merge_version_4)
{
    hl_model *m = small_model(HL_LINK_HEAD_RELATIONAL);
    float mg = -1.0f;
    ck_assert_int_eq(hl_model_get_cluster_merge(m, &mg), HL_OK);
    ck_assert(mg == 0.0f);
    ck_assert_int_eq(hl_model_set_cluster_merge(m, -0.5f), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "merge"));
    ck_assert_int_eq(hl_model_set_cluster_merge(m, NAN), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_cluster_merge(m, INFINITY), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_cluster_merge(NULL, 1.0f), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_cluster_merge(m, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_cluster_merge(m, 1.25f), HL_OK);
    char p1[300], p2[300];
    path_of(p1, sizeof p1, "v4.hlm");
    path_of(p2, sizeof p2, "v4b.hlm");
    size_t len;
    unsigned char *b = save_as_version(m, p1, 4, &len);
    ck_assert_uint_eq(b[68], 0); /* levels 0 (automatic) is allowed in version 4 */
    float stored;
    memcpy(&stored, b + 72, 4); /* little-endian hosts only; the loader does not assume it */
    ck_assert(stored == 1.25f);
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(p1, &r), HL_OK);
    ck_assert_int_eq(hl_model_get_cluster_merge(r, &mg), HL_OK);
    ck_assert(mg == 1.25f);
    int32_t lv = -1;
    ck_assert_int_eq(hl_model_get_cluster_levels(r, &lv), HL_OK);
    ck_assert_int_eq(lv, 0);
    ck_assert_mem_eq(r->params, m->params, (size_t)m->num_params * sizeof(float));
    hl_model_free(r);
    r = NULL;
    /* a negative, zero or infinite threshold in a version-4 file is refused, naming the byte */
    const float bad[3] = {-1.0f, 0.0f, INFINITY};
    for (int q = 0; q < 3; q++) {
        memcpy(b + 72, &bad[q], 4);
        expect_refused(p2, b, len, "byte 72");
    }
    /* back to 0 = off: the file is version 1 again */
    ck_assert_int_eq(hl_model_set_cluster_merge(m, 0.0f), HL_OK);
    expect_saved_version(m, p2, 1);
    free(b);
    hl_model_free(m);
}
END_TEST

START_TEST(test_future_version_and_lying_header)
{
    hl_model *m = small_model(HL_LINK_HEAD_RELATIONAL);
    char p[300], q[300];
    path_of(p, sizeof p, "full.hlm");
    path_of(q, sizeof q, "bad.hlm");
    ck_assert_int_eq(hl_model_save(m, p), HL_OK);
    size_t len;
    unsigned char *b = slurp(p, &len);
    hl_model *r = NULL;

    /* a newer version, with a valid checksum */
    put32(b + 8, 6);
    put32(b + len - 4, hli_crc32(0, b, len - 4));
    spit(q, b, len);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EVERSION);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "version 6"));
    put32(b + 8, 1);

    /* a huge hidden size with a valid checksum: refused before allocating */
    unsigned char save[8];
    memcpy(save, b + 20, 8);
    put32(b + 20, 65536);
    put32(b + 24, 0);
    put32(b + len - 4, hli_crc32(0, b, len - 4));
    spit(q, b, len);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "parameters"));
    /* an absurd hidden size: invalid configuration */
    put32(b + 24, 0x7fffffff);
    put32(b + len - 4, hli_crc32(0, b, len - 4));
    spit(q, b, len);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    ck_assert_msg(strstr(hl_last_error(), "hidden") != NULL, "%s", hl_last_error());
    memcpy(b + 20, save, 8);

    /* a NaN weight with a valid checksum */
    const size_t first_value = 64 + 4 + strlen("conv0.weight") + 16;
    put32(b + first_value, 0x7fc00000u);
    put32(b + len - 4, hli_crc32(0, b, len - 4));
    spit(q, b, len);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "conv0.weight"));
    ck_assert_ptr_null(r);
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
    hl_model *m = small_model(HL_LINK_HEAD_REFERENCE);
    ck_assert_int_eq(hl_model_save(m, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_model_save(m, "/nonexistent/dir/m.hlm"), HL_EIO);
    /* not a model file */
    char q[300];
    path_of(q, sizeof q, "text.hlm");
    spit(q, (const unsigned char *)"hello world, this is not a model at all.........................................", 80);
    ck_assert_int_eq(hl_model_load(q, &r), HL_EFORMAT);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "magic"));
    hl_model_free(m);
}
END_TEST

/* A feature map makes a version-5 file: u32 1 at byte 76 and d*d f32 after
 * the last tensor; the merge at byte 72 may then be 0.  Truncation of the
 * map, a non-finite value and a flag other than 1 are refused. */
START_TEST(test_whitening_version_5)
{
    hl_model *m = small_model(HL_LINK_HEAD_RELATIONAL);
    int32_t present = -1;
    ck_assert_int_eq(hl_model_get_whitening(m, NULL, &present), HL_OK);
    ck_assert_int_eq(present, 0);
    const float w[9] = {2.0f, 0.0f, 0.0f, -0.5f, 1.5f, 0.0f, 0.25f, 0.125f, 1.0f};
    float bad_w[9];
    memcpy(bad_w, w, sizeof w);
    bad_w[4] = NAN;
    ck_assert_int_eq(hl_model_set_whitening(m, bad_w), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_whitening(NULL, w), HL_EINVAL);
    ck_assert_int_eq(hl_model_get_whitening(m, NULL, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_model_set_whitening(m, w), HL_OK);
    char p1[300], p2[300];
    path_of(p1, sizeof p1, "v5.hlm");
    path_of(p2, sizeof p2, "v5b.hlm");
    size_t len;
    unsigned char *b = save_as_version(m, p1, 5, &len);
    ck_assert_uint_eq(b[76], 1);
    float stored;
    memcpy(&stored, b + len - 4 - 9 * 4 + 3 * 4, 4); /* w[3], little-endian hosts */
    ck_assert(stored == -0.5f);
    hl_model *r = NULL;
    ck_assert_int_eq(hl_model_load(p1, &r), HL_OK);
    float got[9];
    ck_assert_int_eq(hl_model_get_whitening(r, got, &present), HL_OK);
    ck_assert_int_eq(present, 1);
    ck_assert_mem_eq(got, w, sizeof w);
    ck_assert_mem_eq(r->params, m->params, (size_t)m->num_params * sizeof(float));
    float mg = -1.0f;
    ck_assert_int_eq(hl_model_get_cluster_merge(r, &mg), HL_OK);
    ck_assert(mg == 0.0f);
    hl_model_free(r);
    r = NULL;
    /* the map cut short by its last value (checksum made valid again): refused, not read past the end */
    unsigned char *cut = malloc(len - 4);
    ck_assert_ptr_nonnull(cut);
    memcpy(cut, b, len - 8);
    expect_refused(p2, cut, len - 4, "whitening matrix");
    free(cut);
    /* a non-finite value in the map */
    const float inf = INFINITY;
    memcpy(b + len - 8, &inf, 4);
    expect_refused(p2, b, len, "not finite");
    /* a flag other than 1 */
    memcpy(b + len - 8, &w[8], 4);
    put32(b + 76, 2);
    expect_refused(p2, b, len, "byte 76");
    /* removing the map: the file is version 1 again */
    ck_assert_int_eq(hl_model_set_whitening(m, NULL), HL_OK);
    expect_saved_version(m, p2, 1);
    free(b);
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
    tcase_add_test(tc, test_truncation_every_offset);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_future_version_and_lying_header);
    tcase_add_test(tc, test_low_rank_version_2);
    tcase_add_test(tc, test_cluster_levels_version_3);
    tcase_add_test(tc, test_cluster_merge_version_4);
    tcase_add_test(tc, test_whitening_version_5);
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
