/* Every file reader refuses what is not a regular file before sizing or
 * allocating anything: a directory is HL_EIO naming the path (the model
 * reader used to take a directory's seek offset as its size and fail with
 * HL_ENOMEM), a FIFO is HL_EIO at once (opening it used to block until a
 * writer came), and a missing file is HL_EIO. */
#define _POSIX_C_SOURCE 200809L
#include "common/internal.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_readers: a reader blocked on a FIFO\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

START_TEST(test_fifo_is_refused_without_blocking)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    signal(SIGALRM, on_alarm);
    for (int r = 0; r < NREADERS; r++) {
        void *out = &out;
        alarm(10); /* a reader that blocks fails the test instead of hanging it */
        hl_status st = read_with(r, path, &out);
        alarm(0);
        ck_assert_msg(st == HL_EIO, "%s on a FIFO: %s (%s)", reader_name[r], hl_status_str(st), hl_last_error());
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(strstr(hl_last_error(), "not a regular file"));
    }
    signal(SIGALRM, SIG_DFL);
    unlink(path);
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
    tcase_add_test(tc, test_fifo_is_refused_without_blocking);
    tcase_add_test(tc, test_missing_file_is_eio);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rmdir(tmpdir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
