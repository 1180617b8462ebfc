/* File output (lib/atomic_file.c) for every writer: the new file's mode
 * follows the umask (not mkstemp's 0600), a replaced file keeps its mode, a
 * symbolic link at the target is replaced by a regular file without touching
 * the file it pointed to, no temporary file is left behind, and a write that
 * fails part-way leaves the old file intact. */
#define _POSIX_C_SOURCE 200809L
#include "common/internal.h"

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static hl_model *g_model;

static const char *tmp_path(const char *name)
{
    static char buf[2][512];
    static int next;
    char *b = buf[next++ % 2];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

/* One call per writer of the library. */
enum { NWRITERS = 5 };
static const char *const writer_name[NWRITERS] = {"npy_f32", "npy_i64", "lc_bin", "lc_meta", "model"};
static hl_status write_with(int w, const char *path)
{
    static const float x[6] = {1, 2, 3, 4, 5, 6};
    static const int64_t y[3] = {7, 8, 9};
    switch (w) {
    case 0: return hl_npy_write_f32(path, x, 3, 2);
    case 1: return hl_npy_write_i64(path, y, 3, 0);
    case 2: return hl_lc_write_bin(path, x, 3, 2);
    case 3: return hl_lc_write_meta(path, y, 3);
    default: return hl_model_save(g_model, path);
    }
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    return st.st_mode;
}

static int temporaries_left(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void setup(void)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = 4;
    cfg.hidden = 4;
    ck_assert_int_eq(hl_model_create(&cfg, 1, &g_model), HL_OK);
}
static void teardown(void)
{
    hl_model_free(g_model);
    g_model = NULL;
}

START_TEST(test_new_file_follows_umask)
{
    static const mode_t masks[3] = {022, 077, 002};
    for (int m = 0; m < 3; m++) {
        const mode_t old = umask(masks[m]);
        for (int w = 0; w < NWRITERS; w++) {
            const char *p = tmp_path(writer_name[w]);
            unlink(p);
            ck_assert_msg(write_with(w, p) == HL_OK, "%s: %s", writer_name[w], hl_last_error());
            const mode_t got = mode_of(p) & 07777, want = 0666 & ~masks[m];
            ck_assert_msg(got == want, "%s under umask %03o: mode %04o, expected %04o", writer_name[w],
                          (unsigned)masks[m], (unsigned)got, (unsigned)want);
            ck_assert(S_ISREG(mode_of(p)));
            unlink(p);
        }
        umask(old);
    }
    ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

START_TEST(test_replaced_file_keeps_its_mode)
{
    const mode_t old = umask(022);
    static const mode_t modes[3] = {0640, 0600, 0664};
    for (int w = 0; w < NWRITERS; w++) {
        for (int m = 0; m < 3; m++) {
            const char *p = tmp_path(writer_name[w]);
            ck_assert_int_eq(write_with(w, p), HL_OK);
            ck_assert_int_eq(chmod(p, modes[m]), 0);
            ck_assert_int_eq(write_with(w, p), HL_OK);
            ck_assert_msg((mode_of(p) & 07777) == modes[m], "%s: replaced a %04o file, now %04o", writer_name[w],
                          (unsigned)modes[m], (unsigned)(mode_of(p) & 07777));
            unlink(p);
        }
    }
    umask(old);
    ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

START_TEST(test_symlink_target_replaced_by_regular_file)
{
    for (int w = 0; w < NWRITERS; w++) {
        const char *victim = tmp_path("victim");
        FILE *fp = fopen(victim, "wb");
        ck_assert_ptr_nonnull(fp);
        fputs("untouched\n", fp);
        fclose(fp);
        const char *link = tmp_path("link");
        ck_assert_int_eq(symlink("victim", link), 0);
        ck_assert_int_eq(write_with(w, link), HL_OK);
        ck_assert_msg(S_ISREG(mode_of(link)), "%s: the link was written through, not replaced", writer_name[w]);
        char buf[32] = {0};
        fp = fopen(victim, "rb");
        ck_assert_ptr_nonnull(fp);
        ck_assert_uint_eq(fread(buf, 1, sizeof buf - 1, fp), 10);
        fclose(fp);
        ck_assert_str_eq(buf, "untouched\n");
        unlink(link);
        unlink(victim);
    }
    ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

/* A write that cannot create its temporary (missing directory) fails with
 * HL_EIO and leaves nothing behind; a path without a directory part (the
 * current directory) works, its directory sync included. */
START_TEST(test_missing_directory_and_relative_path)
{
    for (int w = 0; w < NWRITERS; w++) {
        ck_assert_int_eq(write_with(w, tmp_path("no/such/dir/file")), HL_EIO);
        ck_assert_str_ne(hl_last_error(), "");
    }
    char cwd[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(tmpdir), 0);
    for (int w = 0; w < NWRITERS; w++) {
        ck_assert_int_eq(write_with(w, "relative.out"), HL_OK);
        ck_assert(S_ISREG(mode_of("relative.out")));
        unlink("relative.out");
    }
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

/* Writes that fail part-way: with the file size limited (RLIMIT_FSIZE, the
 * kernel refuses the bytes past it with EFBIG) every writer fails with
 * HL_EIO, the file it would have replaced is intact and no temporary file
 * is left.  Limits from 0 bytes to past the stdio buffer cover a failure at
 * the first write, inside the buffer flush and at the final flush. */
static const char OLD[] = "the old file\n";
static void put_old(const char *path)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(OLD, 1, sizeof OLD - 1, fp), sizeof OLD - 1);
    ck_assert_int_eq(fclose(fp), 0);
}
static int is_old(const char *path)
{
    char buf[64] = {0};
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    size_t got = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    return got == sizeof OLD - 1 && memcmp(buf, OLD, got) == 0;
}

START_TEST(test_write_failing_part_way_keeps_the_old_file)
{
    /* a large .npy and .bin, so that the limit can fall past the stdio buffer */
    enum { ROWS = 3000, COLS = 4 };
    float *big = calloc(ROWS * COLS, sizeof(float));
    int64_t *lab = calloc(ROWS, sizeof(int64_t));
    ck_assert(big && lab);
    for (int i = 0; i < ROWS; i++)
        lab[i] = i;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    static const rlim_t limits[] = {0, 1, 100, 5000, 20000};
    int failures = 0;
    for (size_t li = 0; li < sizeof limits / sizeof limits[0]; li++) {
        for (int w = 0; w < NWRITERS + 3; w++) {
            const char *p = tmp_path("target");
            put_old(p);
            struct rlimit r = saved;
            r.rlim_cur = limits[li];
            ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &r), 0);
            hl_status st;
            if (w < NWRITERS)
                st = write_with(w, p);
            else if (w == NWRITERS)
                st = hl_npy_write_f32(p, big, ROWS, COLS);
            else if (w == NWRITERS + 1)
                st = hl_lc_write_bin(p, big, ROWS, COLS);
            else
                st = hl_lc_write_meta(p, lab, ROWS);
            ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
            if (st == HL_OK)
                continue; /* the file fitted under the limit */
            failures++;
            ck_assert_msg(st == HL_EIO, "writer %d, limit %d: status %d (%s)", w, (int)limits[li], (int)st,
                          hl_last_error());
            ck_assert_str_ne(hl_last_error(), "");
            ck_assert_msg(is_old(p), "writer %d, limit %d: a failed write changed the old file", w,
                          (int)limits[li]);
            ck_assert_int_eq(temporaries_left(), 0);
            unlink(p);
        }
    }
    /* every writer's output is above 100 bytes: at least 3 limits x 8 writers fail */
    ck_assert_int_ge(failures, 3 * (NWRITERS + 3));
    signal(SIGXFSZ, old_handler);
    free(big);
    free(lab);
}
END_TEST

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hl_atomic_XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    Suite *s = suite_create("atomic_file");
    TCase *tc = tcase_create("modes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_new_file_follows_umask);
    tcase_add_test(tc, test_replaced_file_keeps_its_mode);
    tcase_add_test(tc, test_symlink_target_replaced_by_regular_file);
    tcase_add_test(tc, test_missing_directory_and_relative_path);
    tcase_add_test(tc, test_write_failing_part_way_keeps_the_old_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rmdir(tmpdir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
