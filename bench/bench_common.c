#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"

#include <cblas.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char *openblas_get_corename(void) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double status_kib(const char *key);

double bench_peak_rss_mib(void)
{
    double kib = status_kib("VmHWM:");
    return kib < 0 ? -1.0 : kib / 1024.0;
}

static double status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1.0;
    char line[256];
    double kib = -1.0;
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0)
            kib = atof(line + len);
    fclose(f);
    return kib;
}

double bench_rss_mib(void)
{
    double kib = status_kib("VmRSS:");
    return kib < 0 ? -1.0 : kib / 1024.0;
}

int bench_reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

double bench_heap_in_use_mib(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (double)(mi.uordblks + mi.hblkhd) / 1048576.0;
#else
    return -1.0;
#endif
}

void bench_trim_heap(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

double bench_loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return -1.0;
    double l = -1.0;
    if (fscanf(f, "%lf", &l) != 1)
        l = -1.0;
    fclose(f);
    return l;
}

void bench_print_machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p) {
                    snprintf(model, sizeof model, "%s", p + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    printf("machine: cpu \"%s\", blas core %s, blas threads %d\n", model,
           openblas_get_corename ? openblas_get_corename() : "unknown (not OpenBLAS)",
           openblas_get_num_threads ? openblas_get_num_threads() : -1);
}

double bench_sgemm_layout_gflops(int m, int n, int k, int layout, int reps)
{
    float *a = malloc(sizeof(float) * (size_t)m * (size_t)k);
    float *b = malloc(sizeof(float) * (size_t)n * (size_t)k);
    float *c = malloc(sizeof(float) * (size_t)m * (size_t)n);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return -1.0;
    }
    for (size_t i = 0; i < (size_t)m * (size_t)k; i++)
        a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++)
        b[i] = (float)((i * 40503u) % 1000) / 1000.0f;
    double t = 0.0;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not timed */
        const double t0 = bench_now();
        if (layout == 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
        else if (layout == 1)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, 1.0f, b, k, a, k, 0.0f, c, m);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        if (r >= 0)
            t += bench_now() - t0;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * m * n * (double)k * reps / t / 1e9;
}

double bench_sgemm_gflops(int m, int n, int k, int reps) { return bench_sgemm_layout_gflops(m, n, k, 0, reps); }
