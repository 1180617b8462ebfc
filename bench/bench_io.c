/* Throughput of the file readers and writers.
 *
 *   bench_io [DATA_DIR] [--rows N] [--reps R]
 *
 * Reads the bundled Omniglot train features/labels R times (page cache warm),
 * then writes and re-reads a synthetic N x 128 float32 matrix as .npy and as
 * learn-to-cluster .bin (writes include fsync, as the atomic writers do). */
#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"

#include "hilander.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HL_BENCH_DATA
#define HL_BENCH_DATA "data/omniglot"
#endif

static void fail(const char *what)
{
    fprintf(stderr, "bench_io: %s: %s\n", what, hl_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *dir = HL_BENCH_DATA;
    int64_t rows = 200000;
    int reps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    bench_print_machine();
    char path[4096];
    snprintf(path, sizeof path, "%s/train_features.npy", dir);
    double t0 = bench_now();
    int64_t n = 0, d = 0;
    for (int r = 0; r < reps; r++) {
        float *x;
        if (hl_npy_read_f32(path, &x, &n, &d) != HL_OK)
            fail(path);
        hl_free(x);
    }
    double t = (bench_now() - t0) / reps;
    printf("npy read  %s (%lld x %lld f32): %.3f ms, %.0f MB/s\n", path, (long long)n, (long long)d, t * 1e3,
           (double)n * d * 4 / t / 1e6);
    snprintf(path, sizeof path, "%s/train_labels.npy", dir);
    t0 = bench_now();
    for (int r = 0; r < reps; r++) {
        int64_t *y;
        if (hl_npy_read_labels(path, &y, &n) != HL_OK)
            fail(path);
        hl_free(y);
    }
    t = (bench_now() - t0) / reps;
    printf("npy read  %s (%lld i4 -> i64): %.3f ms\n", path, (long long)n, t * 1e3);

    const int64_t dim = 128;
    float *x = malloc(sizeof(float) * (size_t)(rows * dim));
    if (x == NULL)
        return 1;
    for (int64_t i = 0; i < rows * dim; i++)
        x[i] = (float)(i % 1000) * 1e-3f;
    char tmpl[] = "/tmp/bench_io.XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return 1;
    const double mb = (double)rows * dim * 4 / 1e6;
    static const char *kinds[2] = {"npy", "bin"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/x.%s", tmpl, kinds[k]);
        t0 = bench_now();
        hl_status s = k == 0 ? hl_npy_write_f32(path, x, rows, dim) : hl_lc_write_bin(path, x, rows, dim);
        if (s != HL_OK)
            fail(path);
        double tw = bench_now() - t0;
        t0 = bench_now();
        float *y;
        int64_t r2, c2 = dim;
        s = k == 0 ? hl_npy_read_f32(path, &y, &r2, &c2) : hl_lc_read_bin(path, dim, &y, &r2);
        if (s != HL_OK)
            fail(path);
        double tr = bench_now() - t0;
        int same = r2 == rows && c2 == dim && memcmp(x, y, sizeof(float) * (size_t)(rows * dim)) == 0;
        hl_free(y);
        printf("%s %lld x %lld f32 (%.1f MB): write+fsync %.1f ms (%.0f MB/s), read %.1f ms (%.0f MB/s)%s\n",
               kinds[k], (long long)rows, (long long)dim, mb, tw * 1e3, mb / tw, tr * 1e3, mb / tr,
               same ? "" : "  MISMATCH");
        unlink(path);
    }
    rmdir(tmpl);
    free(x);
    printf("peak RSS %.1f MiB\n", bench_peak_rss_mib());
    return 0;
}
