/* File I/O: .npy and learn-to-cluster readers/writers.  Round trips must be
 * bit-exact; every malformed, truncated or lying file must fail cleanly with a
 * message naming what is wrong (ASan checks that nothing reads out of bounds). */
#define _POSIX_C_SOURCE 200809L
#include "common/internal.h"
#include "io/io_internal.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

/* A path inside the test's private temporary directory (8 rotating buffers,
 * so that a few paths can be alive at once). */
static const char *tmp_path(const char *name)
{
    static char bufs[8][512];
    static int next = 0;
    char *buf = bufs[next];
    next = (next + 1) % 8;
    snprintf(buf, 512, "%s/%s", tmpdir, name);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (len)
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Read a whole file into a malloc'd buffer. */
static unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Build a .npy file from a version, a header dict (written verbatim, then
 * padded with spaces and '\n' to 64 bytes as numpy does) and raw data. */
static void make_npy(const char *path, int major, const char *dict, const void *data, size_t data_len)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t dlen = strlen(dict);
    size_t total = (pre + dlen + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    unsigned char *b = malloc(total + data_len + 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + pre, dict, dlen);
    memset(b + pre + dlen, ' ', total - pre - dlen - 1);
    b[total - 1] = '\n';
    if (data_len)
        memcpy(b + total, data, data_len);
    write_bytes(path, b, total + data_len);
    free(b);
}

/* Little-endian bytes of float/int values, as a numpy file on any host holds them. */
static void put_le(unsigned char *dst, const void *src, size_t count, size_t width)
{
    memcpy(dst, src, count * width);
    if (!hli_host_little_endian())
        hli_bswap_array(dst, count, width);
}

static void assert_error(hl_status got, hl_status want, const char *needle)
{
    ck_assert_msg(got == want, "status %d (%s), wanted %d; message: %s", (int)got, hl_status_str(got), (int)want,
                  hl_last_error());
    ck_assert_msg(strstr(hl_last_error(), needle) != NULL, "message '%s' does not mention '%s'", hl_last_error(),
                  needle);
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* ---- .npy round trips ------------------------------------------------------ */

START_TEST(test_npy_f32_roundtrip_bit_exact)
{
    const int64_t rows = 37, cols = 5;
    float *x = malloc(sizeof(float) * rows * cols);
    hli_rng rng;
    hli_rng_seed(&rng, 42);
    for (int64_t i = 0; i < rows * cols; i++) {
        uint32_t bits = (uint32_t)hli_rng_u64(&rng);
        memcpy(&x[i], &bits, 4);   /* arbitrary bit patterns, NaN payloads included */
    }
    const char *p = tmp_path("rt.npy");
    ck_assert_int_eq(hl_npy_write_f32(p, x, rows, cols), HL_OK);

    /* The header is what numpy writes: version 1.0, 64-byte aligned, '\n' last. */
    size_t len;
    unsigned char *b = read_bytes(p, &len);
    ck_assert_uint_eq(len, 128 + sizeof(float) * rows * cols);
    ck_assert_int_eq(memcmp(b, "\x93NUMPY\x01\x00", 8), 0);
    ck_assert_uint_eq(b[8] | (b[9] << 8), 118);
    ck_assert_int_eq(b[127], '\n');
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (37, 5), }";
    ck_assert_int_eq(memcmp(b + 10, dict, strlen(dict)), 0);
    for (size_t i = 10 + strlen(dict); i < 127; i++)
        ck_assert_int_eq(b[i], ' ');
    free(b);

    float *y = NULL;
    int64_t r = 0, c = 0;
    ck_assert_int_eq(hl_npy_read_f32(p, &y, &r, &c), HL_OK);
    ck_assert_int_eq(r, rows);
    ck_assert_int_eq(c, cols);
    ck_assert_int_eq(memcmp(x, y, sizeof(float) * rows * cols), 0);
    hl_free(y);
    free(x);
    unlink(p);
}
END_TEST

START_TEST(test_npy_i64_roundtrip)
{
    int64_t v[6] = {0, -1, INT64_MIN, INT64_MAX, 123456789012345LL, 7};
    const char *p = tmp_path("lab.npy");
    /* 1-D vector */
    ck_assert_int_eq(hl_npy_write_i64(p, v, 6, 0), HL_OK);
    size_t len;
    unsigned char *b = read_bytes(p, &len);
    const char *dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }";
    ck_assert_int_eq(memcmp(b + 10, dict, strlen(dict)), 0);
    ck_assert_uint_eq(len, 128 + 48);
    free(b);
    int64_t *w = NULL, n = 0;
    ck_assert_int_eq(hl_npy_read_labels(p, &w, &n), HL_OK);
    ck_assert_int_eq(n, 6);
    ck_assert_int_eq(memcmp(v, w, sizeof v), 0);
    hl_free(w);
    /* (n, 1) is accepted as a label vector */
    ck_assert_int_eq(hl_npy_write_i64(p, v, 6, 1), HL_OK);
    ck_assert_int_eq(hl_npy_read_labels(p, &w, &n), HL_OK);
    ck_assert_int_eq(n, 6);
    ck_assert_int_eq(memcmp(v, w, sizeof v), 0);
    hl_free(w);
    /* (2, 3) is not */
    ck_assert_int_eq(hl_npy_write_i64(p, v, 2, 3), HL_OK);
    w = (int64_t *)&n;
    assert_error(hl_npy_read_labels(p, &w, &n), HL_EFORMAT, "(2, 3)");
    ck_assert_ptr_null(w);
    ck_assert_int_eq(n, 0);
    unlink(p);
}
END_TEST

START_TEST(test_npy_int32_labels_and_1d_features)
{
    int32_t v32[5] = {3, -2, 2147483647, -2147483647 - 1, 0};
    unsigned char raw[20];
    put_le(raw, v32, 5, 4);
    const char *p = tmp_path("i4.npy");
    make_npy(p, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", raw, sizeof raw);
    int64_t *w = NULL, n = 0;
    ck_assert_int_eq(hl_npy_read_labels(p, &w, &n), HL_OK);
    ck_assert_int_eq(n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(w[i], v32[i]);
    hl_free(w);
    /* A float reader refuses int32 data. */
    float *f = NULL;
    int64_t r, c;
    assert_error(hl_npy_read_f32(p, &f, &r, &c), HL_EFORMAT, "'<i4'");

    /* A 1-D float32 file reads as one column. */
    float fv[3] = {1.5f, -0.0f, 3.25f};
    unsigned char fr[12];
    put_le(fr, fv, 3, 4);
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", fr, sizeof fr);
    ck_assert_int_eq(hl_npy_read_f32(p, &f, &r, &c), HL_OK);
    ck_assert_int_eq(r, 3);
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(memcmp(f, fv, sizeof fv), 0);
    hl_free(f);
    /* ... and a label reader refuses float data. */
    assert_error(hl_npy_read_labels(p, &w, &n), HL_EFORMAT, "'<f4'");
    unlink(p);
}
END_TEST

/* ---- the real data -------------------------------------------------------- */

static void data_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/omniglot/%s", HL_DATA_DIR, name);
    ck_assert_msg(access(buf, R_OK) == 0, "bundled data missing: %s", buf);
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

START_TEST(test_read_real_omniglot)
{
    /* Values read independently with python3's struct module from the files. */
    static const struct {
        const char *feat, *lab;
        int64_t n;
        uint32_t x0, x1, x_100_5, x_last;
        int64_t l0, l_last, lmax, lsum;
    } sets[2] = {
        {"train_features.npy", "train_labels.npy", 6600, 0x3b285471u, 0x3cd3e83fu, 0xbc549918u, 0x3e3ff931u, 148, 328,
         329, 1085700},
        {"test_features.npy", "test_labels.npy", 6580, 0x3c98cac1u, 0x3e1d05b6u, 0x3d3133d9u, 0x3d28a23fu, 89, 328, 328,
         1079120},
    };
    for (int s = 0; s < 2; s++) {
        char path[512];
        data_path(path, sizeof path, sets[s].feat);
        float *x = NULL;
        int64_t r = 0, c = 0;
        ck_assert_msg(hl_npy_read_f32(path, &x, &r, &c) == HL_OK, "%s", hl_last_error());
        ck_assert_int_eq(r, sets[s].n);
        ck_assert_int_eq(c, 128);
        ck_assert_uint_eq(bits_of(x[0]), sets[s].x0);
        ck_assert_uint_eq(bits_of(x[1]), sets[s].x1);
        ck_assert_uint_eq(bits_of(x[100 * 128 + 5]), sets[s].x_100_5);
        ck_assert_uint_eq(bits_of(x[r * c - 1]), sets[s].x_last);
        /* Rows are L2-normalised embeddings. */
        for (int64_t i = 0; i < r; i += 97) {
            double ss = 0;
            for (int64_t j = 0; j < c; j++)
                ss += (double)x[i * c + j] * x[i * c + j];
            ck_assert_double_eq_tol(ss, 1.0, 1e-4);
        }
        hl_free(x);

        data_path(path, sizeof path, sets[s].lab);
        int64_t *y = NULL, n = 0;
        ck_assert_msg(hl_npy_read_labels(path, &y, &n) == HL_OK, "%s", hl_last_error());
        ck_assert_int_eq(n, sets[s].n);
        ck_assert_int_eq(y[0], sets[s].l0);
        ck_assert_int_eq(y[n - 1], sets[s].l_last);
        int64_t mn = y[0], mx = y[0], sum = 0;
        for (int64_t i = 0; i < n; i++) {
            mn = y[i] < mn ? y[i] : mn;
            mx = y[i] > mx ? y[i] : mx;
            sum += y[i];
        }
        ck_assert_int_eq(mn, 0);
        ck_assert_int_eq(mx, sets[s].lmax);
        ck_assert_int_eq(sum, sets[s].lsum);
        hl_free(y);
    }
}
END_TEST

/* ---- header parsing ------------------------------------------------------- */

START_TEST(test_npy_header_variants_accepted)
{
    float fv[6] = {1, 2, 3, 4, 5, 6};
    unsigned char raw[24];
    put_le(raw, fv, 6, 4);
    static const struct {
        int major;
        const char *dict;
    } ok[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
        {1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}"},
        {1, "{'fortran_order':False,'shape':(2,3),'descr':'<f4'}"},
        {1, "  {  \"descr\" : \"<f4\" ,  'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }  "},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
        {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"},
    };
    const char *p = tmp_path("ok.npy");
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        make_npy(p, ok[i].major, ok[i].dict, raw, sizeof raw);
        float *x = NULL;
        int64_t r = 0, c = 0;
        ck_assert_msg(hl_npy_read_f32(p, &x, &r, &c) == HL_OK, "case %zu: %s", i, hl_last_error());
        ck_assert_int_eq(r, 2);
        ck_assert_int_eq(c, 3);
        ck_assert_int_eq(memcmp(x, fv, sizeof fv), 0);
        hl_free(x);
    }
    /* Native order '=' means little-endian only on a little-endian host. */
    make_npy(p, 1, "{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }", raw, sizeof raw);
    float *x = NULL;
    int64_t r, c;
    if (hli_host_little_endian()) {
        ck_assert_int_eq(hl_npy_read_f32(p, &x, &r, &c), HL_OK);
        hl_free(x);
    } else {
        ck_assert_int_eq(hl_npy_read_f32(p, &x, &r, &c), HL_EFORMAT);
    }
    unlink(p);
}
END_TEST

START_TEST(test_npy_bad_headers_rejected)
{
    unsigned char raw[64] = {0};
    static const struct {
        int major;
        const char *dict;
        size_t data_len;
        hl_status want;
        const char *needle;
    } bad[] = {
        {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48, HL_EFORMAT, "'<f8'"},
        {1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24, HL_EFORMAT, "big-endian"},
        {1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }", 6, HL_EFORMAT, "'|b1'"},
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, HL_EFORMAT, "fortran_order True"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, HL_EFORMAT, "shape ()"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", 32, HL_EFORMAT, "(2, 2, 2)"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0, HL_EFORMAT, "empty"},
        {1, "{'descr': '<f4', 'fortran_order': False}", 24, HL_EFORMAT, "no 'shape' key"},
        {1, "{'descr': '<f4', 'shape': (2, 3)}", 24, HL_EFORMAT, "no 'fortran_order' key"},
        {1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 24, HL_EFORMAT,
         "duplicate key 'descr'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'foo': 1}", 24, HL_EFORMAT, "unknown key 'foo'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", 24, HL_EFORMAT, "after the header dict"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", 24, HL_EFORMAT, "1-D 'shape' tuple"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3)}", 24, HL_EFORMAT, "negative dimension"},
        {1, "{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}", 24, HL_EFORMAT, "True or False"},
        {1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", 8, HL_EFORMAT, "structured"},
        {1, "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", 24, HL_EFORMAT, "byte offset 26"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", 24, HL_EFORMAT, "header ends"},
        {1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", 24, HL_EFORMAT, "npy header"},
        {1, "{'descr': 'this-dtype-name-is-far-too-long-to-be-real', 'fortran_order': False, 'shape': (2,)}", 8,
         HL_EFORMAT, "too long"},
        /* Lying shapes: more data than the file holds, and overflowing byte counts. */
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 128), }", 24, HL_EFORMAT,
         "truncated or lying header"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", 24,
         HL_ERANGE, "(4611686018427387904, 4611686018427387904)"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952, 4), }", 24, HL_ERANGE,
         "overflows"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }", 24, HL_ERANGE,
         "exceeds 2^63-1"},
        /* More data than the shape says. */
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28, HL_EFORMAT, "4 unexpected bytes"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, HL_EFORMAT, "needs 24 bytes"},
    };
    const char *p = tmp_path("bad.npy");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_npy(p, bad[i].major, bad[i].dict, raw, bad[i].data_len);
        float *x = (float *)raw;
        int64_t r = -1, c = -1;
        hl_status s = hl_npy_read_f32(p, &x, &r, &c);
        ck_assert_msg(s == bad[i].want, "case %zu: status %s, message %s", i, hl_status_str(s), hl_last_error());
        ck_assert_msg(strstr(hl_last_error(), bad[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i,
                      hl_last_error(), bad[i].needle);
        ck_assert_msg(strstr(hl_last_error(), p) != NULL, "case %zu: message lacks the path", i);
        ck_assert_ptr_null(x);
        ck_assert_int_eq(r, 0);
    }
    /* Wrong dtypes for labels. */
    make_npy(p, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", raw, 24);
    int64_t *y, n;
    assert_error(hl_npy_read_labels(p, &y, &n), HL_EFORMAT, "'<f8'");
    make_npy(p, 1, "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", raw, 12);
    assert_error(hl_npy_read_labels(p, &y, &n), HL_EFORMAT, "big-endian");
    make_npy(p, 1, "{'descr': '<u4', 'fortran_order': False, 'shape': (3,), }", raw, 12);
    assert_error(hl_npy_read_labels(p, &y, &n), HL_EFORMAT, "'<u4'");
    make_npy(p, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3), }", raw, 12);
    assert_error(hl_npy_read_labels(p, &y, &n), HL_EFORMAT, "not a label vector");

    /* Preamble damage: magic, version, header_len. */
    static const unsigned char not_npy[16] = "\x93NUMPZ\x01\x00\x06\x00{}    ";
    write_bytes(p, not_npy, sizeof not_npy);
    float *x;
    int64_t r, c;
    assert_error(hl_npy_read_f32(p, &x, &r, &c), HL_EFORMAT, "magic");
    unsigned char v4[16] = "\x93NUMPY\x04\x00\x06\x00\x00\x00{}  ";
    write_bytes(p, v4, sizeof v4);
    assert_error(hl_npy_read_f32(p, &x, &r, &c), HL_EVERSION, "version 4.0");
    unsigned char v11[16] = "\x93NUMPY\x01\x01\x06\x00{}    ";
    write_bytes(p, v11, sizeof v11);
    assert_error(hl_npy_read_f32(p, &x, &r, &c), HL_EFORMAT, "version 1.1");
    unsigned char long_hdr[16] = "\x93NUMPY\x02\x00\xff\xff\xff\xff{}  ";
    write_bytes(p, long_hdr, sizeof long_hdr);
    assert_error(hl_npy_read_f32(p, &x, &r, &c), HL_EFORMAT, "header_len 4294967295");
    unlink(p);
}
END_TEST

/* Every proper prefix of a valid file is an error, never a crash or an OOB read. */
static void check_all_prefixes(const char *src, int labels)
{
    size_t len;
    unsigned char *b = read_bytes(src, &len);
    const char *p = tmp_path("prefix.npy");
    for (size_t cut = 0; cut < len; cut++) {
        write_bytes(p, b, cut);
        hl_status s;
        if (labels) {
            int64_t *y = (int64_t *)b, n = -1;
            s = hl_npy_read_labels(p, &y, &n);
            ck_assert_ptr_null(y);
            ck_assert_int_eq(n, 0);
        } else {
            float *x = (float *)b;
            int64_t r = -1, c = -1;
            s = hl_npy_read_f32(p, &x, &r, &c);
            ck_assert_ptr_null(x);
            ck_assert_int_eq(r, 0);
        }
        ck_assert_msg(s == HL_EFORMAT, "prefix of %zu/%zu bytes: %s: %s", cut, len, hl_status_str(s),
                      hl_last_error());
        ck_assert(hl_last_error()[0] != '\0');
    }
    write_bytes(p, b, len);
    if (labels) {
        int64_t *y, n;
        ck_assert_int_eq(hl_npy_read_labels(p, &y, &n), HL_OK);
        hl_free(y);
    } else {
        float *x;
        int64_t r, c;
        ck_assert_int_eq(hl_npy_read_f32(p, &x, &r, &c), HL_OK);
        hl_free(x);
    }
    free(b);
    unlink(p);
}

START_TEST(test_npy_truncation_at_every_offset)
{
    float fv[6] = {1, 2, 3, 4, 5, 6};
    const char *p = tmp_path("small.npy");
    ck_assert_int_eq(hl_npy_write_f32(p, fv, 3, 2), HL_OK);
    check_all_prefixes(p, 0);
    /* A version 2.0 header (4-byte header_len) and int32 labels. */
    int32_t v[5] = {1, 2, 3, 4, 5};
    unsigned char raw[20];
    put_le(raw, v, 5, 4);
    make_npy(p, 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }", raw, sizeof raw);
    check_all_prefixes(p, 1);
    unlink(p);
}
END_TEST

/* ---- argument checking and atomic writing --------------------------------- */

START_TEST(test_io_bad_arguments)
{
    float *x;
    int64_t r, c, *y, n;
    float v[4] = {0};
    int64_t l[2] = {0};
    assert_error(hl_npy_read_f32(NULL, &x, &r, &c), HL_EINVAL, "path");
    assert_error(hl_npy_read_f32("x.npy", NULL, &r, &c), HL_EINVAL, "data");
    assert_error(hl_npy_read_f32("x.npy", &x, &r, NULL), HL_EINVAL, "cols");
    assert_error(hl_npy_read_labels("x.npy", NULL, &n), HL_EINVAL, "labels");
    assert_error(hl_npy_read_f32(tmp_path("missing.npy"), &x, &r, &c), HL_EIO, "missing.npy");
    assert_error(hl_npy_read_f32(tmpdir, &x, &r, &c), HL_EIO, "not a regular file");
    assert_error(hl_npy_write_f32(NULL, v, 2, 2), HL_EINVAL, "path");
    assert_error(hl_npy_write_f32(tmp_path("w.npy"), NULL, 2, 2), HL_EINVAL, "data");
    assert_error(hl_npy_write_f32(tmp_path("w.npy"), v, 0, 2), HL_EINVAL, "(0, 2)");
    assert_error(hl_npy_write_f32(tmp_path("w.npy"), v, INT64_MAX, INT64_MAX), HL_ERANGE, "too large");
    assert_error(hl_npy_write_i64(tmp_path("w.npy"), l, 2, -1), HL_EINVAL, "cols = -1");
    assert_error(hl_lc_read_bin(tmp_path("w.bin"), 0, &x, &r), HL_EINVAL, "dim = 0");
    assert_error(hl_lc_read_bin(tmp_path("w.bin"), 4, NULL, &r), HL_EINVAL, "data");
    assert_error(hl_lc_read_meta(tmp_path("w.meta"), &y, NULL), HL_EINVAL, "n is NULL");
    assert_error(hl_lc_write_bin(tmp_path("w.bin"), v, 2, 0), HL_EINVAL, "(2, 0)");
    assert_error(hl_lc_write_meta(tmp_path("w.meta"), l, 0), HL_EINVAL, "n = 0");
    assert_error(hl_lc_write_meta(tmp_path("w.meta"), NULL, 2), HL_EINVAL, "labels");
    ck_assert_int_eq(count_dir_entries(tmpdir), 0);
}
END_TEST

START_TEST(test_write_into_missing_directory)
{
    float v[4] = {1, 2, 3, 4};
    int64_t l[2] = {1, 2};
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/no/such/dir", tmpdir);
    snprintf(path, sizeof path, "%s/out.npy", dir);
    assert_error(hl_npy_write_f32(path, v, 2, 2), HL_EIO, "out.npy");
    assert_error(hl_npy_write_i64(path, l, 2, 0), HL_EIO, "out.npy");
    assert_error(hl_lc_write_bin(path, v, 2, 2), HL_EIO, "out.npy");
    assert_error(hl_lc_write_meta(path, l, 2), HL_EIO, "out.npy");
    struct stat st;
    ck_assert_int_ne(stat(dir, &st), 0);
    ck_assert_int_eq(count_dir_entries(tmpdir), 0);
}
END_TEST

START_TEST(test_existing_file_replaced_atomically)
{
    const char *p = tmp_path("replace.npy");
    float a[2] = {1, 2}, b[6] = {6, 5, 4, 3, 2, 1};
    ck_assert_int_eq(hl_npy_write_f32(p, a, 1, 2), HL_OK);
    ck_assert_int_eq(hl_npy_write_f32(p, b, 2, 3), HL_OK);
    ck_assert_int_eq(count_dir_entries(tmpdir), 1);   /* no temporary files left */
    float *x;
    int64_t r, c;
    ck_assert_int_eq(hl_npy_read_f32(p, &x, &r, &c), HL_OK);
    ck_assert_int_eq(r, 2);
    ck_assert_int_eq(c, 3);
    ck_assert_int_eq(memcmp(x, b, sizeof b), 0);
    hl_free(x);
    /* A failed write (bad arguments) leaves the old file untouched. */
    ck_assert_int_eq(hl_npy_write_f32(p, NULL, 2, 3), HL_EINVAL);
    ck_assert_int_eq(hl_npy_read_f32(p, &x, &r, &c), HL_OK);
    ck_assert_int_eq(memcmp(x, b, sizeof b), 0);
    hl_free(x);
    ck_assert_int_eq(count_dir_entries(tmpdir), 1);
    unlink(p);
}
END_TEST

/* ---- learn-to-cluster ----------------------------------------------------- */

START_TEST(test_lc_bin_roundtrip_and_size_check)
{
    const int64_t rows = 9, dim = 7;
    float x[63];
    for (int i = 0; i < 63; i++)
        x[i] = (float)i * 0.37f - 5.0f;
    const char *p = tmp_path("f.bin");
    ck_assert_int_eq(hl_lc_write_bin(p, x, rows, dim), HL_OK);
    size_t len;
    unsigned char *b = read_bytes(p, &len);
    ck_assert_uint_eq(len, sizeof x);
    unsigned char le[sizeof x];
    put_le(le, x, 63, 4);
    ck_assert_int_eq(memcmp(b, le, len), 0);   /* raw little-endian float32, no header */
    free(b);
    float *y;
    int64_t r;
    ck_assert_int_eq(hl_lc_read_bin(p, dim, &y, &r), HL_OK);
    ck_assert_int_eq(r, rows);
    ck_assert_int_eq(memcmp(x, y, sizeof x), 0);
    hl_free(y);
    /* Same bytes, another dim that divides the size. */
    ck_assert_int_eq(hl_lc_read_bin(p, 21, &y, &r), HL_OK);
    ck_assert_int_eq(r, 3);
    hl_free(y);
    y = x;
    assert_error(hl_lc_read_bin(p, 8, &y, &r), HL_EFORMAT, "4*dim = 32");
    ck_assert_ptr_null(y);
    write_bytes(p, le, 0);
    assert_error(hl_lc_read_bin(p, 8, &y, &r), HL_EFORMAT, "size 0");
    write_bytes(p, le, 27);
    assert_error(hl_lc_read_bin(p, 1, &y, &r), HL_EFORMAT, "size 27");
    assert_error(hl_lc_read_bin(tmp_path("none.bin"), 1, &y, &r), HL_EIO, "none.bin");
    unlink(p);
}
END_TEST

START_TEST(test_lc_meta_roundtrip_and_errors)
{
    int64_t v[5] = {0, -7, INT64_MAX, INT64_MIN, 42};
    const char *p = tmp_path("l.meta");
    ck_assert_int_eq(hl_lc_write_meta(p, v, 5), HL_OK);
    size_t len;
    unsigned char *b = read_bytes(p, &len);
    const char *want = "0\n-7\n9223372036854775807\n-9223372036854775808\n42\n";
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_int_eq(memcmp(b, want, len), 0);
    free(b);
    int64_t *y, n;
    ck_assert_int_eq(hl_lc_read_meta(p, &y, &n), HL_OK);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(memcmp(v, y, sizeof v), 0);
    hl_free(y);

    static const struct {
        const char *text;
        int64_t n;
        int64_t last;
    } ok[] = {
        {"1\n2\n3", 3, 3},           /* no final newline */
        {"1\n2\n3\n\n\n", 3, 3},     /* blank trailing lines */
        {"1\r\n2\r\n3\r\n", 3, 3},   /* CRLF */
        {"  5 \n\t+6\n-0\n  \n", 3, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        write_bytes(p, ok[i].text, strlen(ok[i].text));
        ck_assert_msg(hl_lc_read_meta(p, &y, &n) == HL_OK, "case %zu: %s", i, hl_last_error());
        ck_assert_int_eq(n, ok[i].n);
        ck_assert_int_eq(y[0], ok[i].text[2] == '5' ? 5 : 1);
        ck_assert_int_eq(y[n - 1], ok[i].last);
        hl_free(y);
    }
    static const struct {
        const char *text;
        const char *needle;
    } bad[] = {
        {"1\n2\nthree\n4\n", "line 3"},
        {"1\n2.5\n", "line 2"},
        {"1\n\n2\n", "line 2"},
        {"7\n9223372036854775808\n", "line 2"},
        {"-\n", "line 1"},
        {"12abc\n", "'12abc'"},
        {"", "no labels"},
        {"\n\n  \n", "no labels"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_bytes(p, bad[i].text, strlen(bad[i].text));
        y = v;
        n = -1;
        hl_status s = hl_lc_read_meta(p, &y, &n);
        ck_assert_msg(s == HL_EFORMAT, "case %zu: %s", i, hl_status_str(s));
        ck_assert_msg(strstr(hl_last_error(), bad[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i,
                      hl_last_error(), bad[i].needle);
        ck_assert_ptr_null(y);
        ck_assert_int_eq(n, 0);
    }
    unlink(p);
}
END_TEST

START_TEST(test_byteswap_helper)
{
    uint32_t a[2] = {0x01020304u, 0xa0b0c0d0u};
    hli_bswap_array(a, 2, 4);
    ck_assert_uint_eq(a[0], 0x04030201u);
    ck_assert_uint_eq(a[1], 0xd0c0b0a0u);
    uint64_t b = 0x0102030405060708ull;
    hli_bswap_array(&b, 1, 8);
    ck_assert_uint_eq(b, 0x0807060504030201ull);
}
END_TEST

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hl_test_io.XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("io");
    tcase_add_test(tc, test_npy_f32_roundtrip_bit_exact);
    tcase_add_test(tc, test_npy_i64_roundtrip);
    tcase_add_test(tc, test_npy_int32_labels_and_1d_features);
    tcase_add_test(tc, test_read_real_omniglot);
    tcase_add_test(tc, test_npy_header_variants_accepted);
    tcase_add_test(tc, test_npy_bad_headers_rejected);
    tcase_add_test(tc, test_npy_truncation_at_every_offset);
    tcase_add_test(tc, test_io_bad_arguments);
    tcase_add_test(tc, test_write_into_missing_directory);
    tcase_add_test(tc, test_existing_file_replaced_atomically);
    tcase_add_test(tc, test_lc_bin_roundtrip_and_size_check);
    tcase_add_test(tc, test_lc_meta_roundtrip_and_errors);
    tcase_add_test(tc, test_byteswap_helper);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tree(tmpdir);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
