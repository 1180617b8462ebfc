/* Every file reader refuses what is not a regular file before sizing or
 * allocating anything: a directory is HL_EIO naming the path (the model
 * reader used to take a directory's seek offset as its size and fail with
 * HL_ENOMEM), and a missing file is HL_EIO. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

enum { NREADERS = 5 };
static const char *const reader_name[NREADERS] = {"npy_f32", "npy_labels", "lc_bin", "lc_meta", "model"};

static hl_status read_with(int r, const char *path, void **out)
{
    int64_t a, b;
    *out = NULL;
    switch (r) {
    case 0: return hl_npy_read_f32(path, (float **)out, &a, &b);
    case 1: return hl_npy_read_labels(path, (int64_t **)out, &a);
    case 2: return hl_lc_read_bin(path, 4, (float **)out, &a);
    case 3: return hl_lc_read_meta(path, (int64_t **)out, &a);
    default: return hl_model_load(path, (hl_model **)out);
    }
}

START_TEST(test_directory_is_refused_as_not_a_file)
{
    for (int r = 0; r < NREADERS; r++) {
        void *out = &out;
        hl_status st = read_with(r, tmpdir, &out);
        ck_assert_msg(st == HL_EIO, "%s on a directory: %s (%s), expected HL_EIO", reader_name[r], hl_status_str(st),
                      hl_last_error());
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(hl_last_error(), tmpdir) != NULL, "%s: '%s' does not name the path", reader_name[r],
                      hl_last_error());
    }
}
END_TEST

START_TEST(test_missing_file_is_eio)
{
    char path[512];
    snprintf(path, sizeof path, "%s/missing", tmpdir);
    for (int r = 0; r < NREADERS; r++) {
        void *out = &out;
        ck_assert_int_eq(read_with(r, path, &out), HL_EIO);
        ck_assert_ptr_null(out);
        ck_assert_str_ne(hl_last_error(), "");
    }
}
END_TEST

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hl_readers_XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    Suite *s = suite_create("readers");
    TCase *tc = tcase_create("not_a_file");
    tcase_add_test(tc, test_directory_is_refused_as_not_a_file);
    tcase_add_test(tc, test_missing_file_is_eio);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rmdir(tmpdir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
