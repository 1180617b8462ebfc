/* Error reporting, version and the small internal utilities. */
#include "io/io_internal.h"
#include "knn/knn_internal.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_version)
{
    ck_assert_str_eq(hl_version(), HL_VERSION_STRING);
    ck_assert_uint_eq(hl_version_number(), HL_VERSION_NUMBER);
    ck_assert_uint_eq(HL_VERSION_NUMBER, HL_VERSION_MAJOR * 10000 + HL_VERSION_MINOR * 100 + HL_VERSION_PATCH);
}
END_TEST

START_TEST(test_status_strings)
{
    for (int s = HL_OK; s <= HL_EINTERNAL; s++)
        ck_assert_ptr_nonnull(strstr(hl_status_str((hl_status)s), "HL_"));
    ck_assert_str_eq(hl_status_str((hl_status)999), "unknown status");
}
END_TEST

START_TEST(test_last_error)
{
    hl_clear_error();
    ck_assert_str_eq(hl_last_error(), "");
    ck_assert_int_eq(hl_last_error_status(), HL_OK);
    ck_assert_int_eq(hli_error(HL_EINVAL, "k = %d", 7), HL_EINVAL);
    ck_assert_str_eq(hl_last_error(), "k = 7");
    ck_assert_int_eq(hl_last_error_status(), HL_EINVAL);
    ck_assert_int_eq(hli_oom(), HL_ENOMEM);
    ck_assert_str_eq(hl_last_error(), "out of memory");
}
END_TEST

static void *other_thread(void *arg)
{
    (void)arg;
    hli_error(HL_EIO, "from the other thread");
    return NULL;
}

START_TEST(test_last_error_is_per_thread)
{
    hli_error(HL_EINVAL, "mine");
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_str_eq(hl_last_error(), "mine");
}
END_TEST

START_TEST(test_checked_sizes)
{
    size_t r;
    ck_assert(hli_mul_size(3, 4, &r) && r == 12);
    ck_assert(!hli_mul_size(SIZE_MAX / 2 + 1, 2, &r));
    ck_assert_ptr_null(hli_alloc(SIZE_MAX / 4, 8));
    ck_assert_int_eq(hl_last_error_status(), HL_ERANGE);
    ck_assert_int_eq(hli_check_dims("x", INT64_MAX, INT64_MAX, 4, NULL), HL_ERANGE);
    ck_assert_int_eq(hli_check_dims("x", 0, 3, 4, NULL), HL_EINVAL);
    size_t b = 0;
    ck_assert_int_eq(hli_check_dims("x", 5, 3, 4, &b), HL_OK);
    ck_assert_uint_eq(b, 60);
}
END_TEST

START_TEST(test_crc32_known_value)
{
    /* The standard check value of CRC-32/ISO-HDLC. */
    ck_assert_uint_eq(hli_crc32(0, "123456789", 9), 0xCBF43926u);
    /* Incremental use equals one call. */
    uint32_t c = hli_crc32(0, "1234", 4);
    ck_assert_uint_eq(hli_crc32(c, "56789", 5), 0xCBF43926u);
    /* The 8-bytes-at-a-time loop against the bitwise definition, for every
     * length and alignment of a pseudo-random buffer, in pieces or whole. */
    unsigned char buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += 7) {
            uint32_t ref = 0xFFFFFFFFu;
            for (size_t i = 0; i < len; i++) {
                ref ^= buf[off + i];
                for (int b = 0; b < 8; b++)
                    ref = (ref & 1) ? 0xEDB88320u ^ (ref >> 1) : ref >> 1;
            }
            ref = ~ref;
            ck_assert_uint_eq(hli_crc32(0, buf + off, len), ref);
            ck_assert_uint_eq(hli_crc32(hli_crc32(0, buf + off, len / 3), buf + off + len / 3, len - len / 3), ref);
        }
}
END_TEST

START_TEST(test_rng_reproducible_and_uniform)
{
    hli_rng a, b;
    hli_rng_seed(&a, 42);
    hli_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(hli_rng_u64(&a), hli_rng_u64(&b));
    int counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        double u = hli_rng_uniform(&a);
        ck_assert(u >= 0.0 && u < 1.0);
        counts[(int)(u * 10)]++;
    }
    for (int i = 0; i < 10; i++)
        ck_assert_int_gt(counts[i], 9500); /* expected 10000, sd ~95 */
    int64_t perm[50];
    for (int i = 0; i < 50; i++)
        perm[i] = i;
    hli_rng_shuffle_i64(&a, perm, 50);
    int seen[50] = {0};
    for (int i = 0; i < 50; i++)
        seen[perm[i]]++;
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(test_normalize)
{
    float x[6] = {3, 4, 0, 0, 0, 2};
    hl_status st;
    float *y = hli_normalized_copy(x, 2, 3, &st);
    ck_assert_int_eq(st, HL_OK);
    ck_assert_float_eq_tol(y[0], 0.6f, 1e-7f);
    ck_assert_float_eq_tol(y[1], 0.8f, 1e-7f);
    ck_assert_float_eq_tol(y[5], 1.0f, 1e-7f);
    free(y);
    float z[6] = {1, 2, 3, 0, 0, 0};
    ck_assert_ptr_null(hli_normalized_copy(z, 2, 3, &st));
    ck_assert_int_eq(st, HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "row 1"));
    z[4] = NAN;
    ck_assert_ptr_null(hli_normalized_copy(z, 2, 3, &st));
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "not finite"));
}
END_TEST

static int log_calls;
static void count_log(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)msg;
    *(int *)user += 1;
}

START_TEST(test_log_callback)
{
    log_calls = 0;
    hl_set_log_callback(count_log, &log_calls, HL_LOG_INFO);
    hli_log(HL_LOG_INFO, "x %d", 1);
    hli_log(HL_LOG_DEBUG, "filtered");
    hl_set_log_callback(NULL, NULL, HL_LOG_INFO);
    hli_log(HL_LOG_ERROR, "silenced");
    ck_assert_int_eq(log_calls, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_status_strings);
    tcase_add_test(tc, test_last_error);
    tcase_add_test(tc, test_last_error_is_per_thread);
    tcase_add_test(tc, test_checked_sizes);
    tcase_add_test(tc, test_crc32_known_value);
    tcase_add_test(tc, test_rng_reproducible_and_uniform);
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_log_callback);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
