/* kNN benchmark (figures in docs/perf-knn.md).
 *
 *   bench_knn                       both target configurations:
 *                                   exact  N=100000  D=256 k=10
 *                                   approx N=1000000 D=128 k=10
 *   bench_knn exact  [N [D [k [threads]]]]
 *   bench_knn approx [N [D [k [threads [nlist [nprobe]]]]]]
 *
 * Data: synthetic clusters (N/1000 centres on the unit sphere, Gaussian noise
 * of norm 0.8 per point; BENCH_CLUSTER=points per cluster and BENCH_NOISE=noise
 * norm change them; BENCH_DEBUG=1 prints the library's phase timings).  Exact: seconds and GFLOP/s = 2*N*N*D/s against plain
 * sgemm of a block-sized shape in the same run.  Approximate: seconds, peak
 * RSS and recall@k on 1000 random queries checked by exact search (recall over
 * the k-1 true neighbours, self excluded; self-included figure also shown). */
#include "bench_common.h"
#include "io/io_internal.h"
#include "knn/knn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}
static double nrand(void)
{
    return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
}

static float *make_data(int64_t n, int64_t d)
{
    const char *cs = getenv("BENCH_CLUSTER");
    const int64_t per = cs ? atoll(cs) : 1000;
    int64_t nc = n / per > 1 ? n / per : 1;
    float *c = malloc(sizeof(float) * (size_t)(nc * d));
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    if (!c || !x) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < nc; i++) {
        double ss = 0;
        for (int64_t t = 0; t < d; t++) {
            c[i * d + t] = (float)nrand();
            ss += (double)c[i * d + t] * c[i * d + t];
        }
        for (int64_t t = 0; t < d; t++)
            c[i * d + t] = (float)(c[i * d + t] / sqrt(ss));
    }
    const char *ns = getenv("BENCH_NOISE");
    const double sigma = (ns ? atof(ns) : 0.8) / sqrt((double)d);
    for (int64_t i = 0; i < n; i++) {
        int64_t cc = (int64_t)(urand() * (double)nc);
        if (cc >= nc)
            cc = nc - 1;
        for (int64_t t = 0; t < d; t++)
            x[i * d + t] = (float)(c[cc * d + t] + sigma * nrand());
    }
    free(c);
    return x;
}

static void log_cb(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    printf("  [lib] %s\n", msg);
}

static int run_exact(int64_t n, int64_t d, int64_t k, int nt)
{
    float *x = make_data(n, d);
    int64_t *nb = malloc(sizeof(int64_t) * (size_t)(n * k));
    float *sm = malloc(sizeof(float) * (size_t)(n * k));
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    o.method = HL_KNN_EXACT;
    o.num_threads = nt;
    printf("exact kNN: N = %lld, D = %lld, k = %lld, threads = %d\n", (long long)n, (long long)d, (long long)k,
           hli_threads(nt));
    double t0 = bench_now();
    hl_status st = hl_knn_search(x, n, d, &o, nb, sm);
    double t = bench_now() - t0;
    if (st != HL_OK) {
        printf("error: %s\n", hl_last_error());
        return 1;
    }
    hli_blas_set_threads(hli_threads(nt));
    double ref = bench_sgemm_gflops(2048, 8192, (int)d, 3);
    double gf = 2.0 * (double)n * (double)n * (double)d / t / 1e9;
    printf("  time %.2f s, %.1f GFLOP/s (2*N*N*D/s); plain sgemm 2048x8192x%lld: %.1f GFLOP/s; ratio %.0f%%\n", t, gf,
           (long long)d, ref, 100.0 * gf / ref);
    printf("  peak RSS %.0f MiB\n", bench_peak_rss_mib());
    free(x);
    free(nb);
    free(sm);
    return 0;
}

static int run_approx(int64_t n, int64_t d, int64_t k, int nt, int64_t nlist, int64_t nprobe)
{
    float *x = make_data(n, d);
    int64_t *nb = malloc(sizeof(int64_t) * (size_t)(n * k));
    float *sm = malloc(sizeof(float) * (size_t)(n * k));
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    o.method = HL_KNN_APPROX;
    o.num_threads = nt;
    o.nlist = nlist;
    o.nprobe = nprobe;
    printf("approximate kNN (IVF): N = %lld, D = %lld, k = %lld, threads = %d, target_recall %.2f\n", (long long)n,
           (long long)d, (long long)k, hli_threads(nt), o.target_recall);
    double rss0 = bench_peak_rss_mib();
    double t0 = bench_now();
    hl_status st = hl_knn_search(x, n, d, &o, nb, sm);
    double t = bench_now() - t0;
    if (st != HL_OK) {
        printf("error: %s\n", hl_last_error());
        return 1;
    }
    double rss = bench_peak_rss_mib();
    /* Recall on 1000 random queries, exact by blocked sgemm over all N. */
    const int64_t nq = n < 1000 ? n : 1000;
    int64_t *qid = malloc(sizeof(int64_t) * (size_t)nq);
    float *q = malloc(sizeof(float) * (size_t)(nq * d));
    int64_t *ex = malloc(sizeof(int64_t) * (size_t)(nq * k));
    hl_status s2;
    float *xn = hli_normalized_copy(x, n, d, &s2);
    for (int64_t a = 0; a < nq; a++) {
        qid[a] = (int64_t)((double)a * (double)n / (double)nq); /* spread over the ids */
        memcpy(q + a * d, xn + qid[a] * d, sizeof(float) * (size_t)d);
    }
    if (k > 1 && hli_topk_gemm(q, nq, xn, n, d, k - 1, qid, -1, 0, hli_threads(nt), ex, NULL, k - 1) != HL_OK) {
        printf("error: %s\n", hl_last_error());
        return 1;
    }
    int64_t hit = 0;
    for (int64_t a = 0; a < nq; a++)
        for (int64_t t1 = 1; t1 < k; t1++)
            for (int64_t u = 0; u < k - 1; u++)
                if (nb[qid[a] * k + t1] == ex[a * (k - 1) + u]) {
                    hit++;
                    break;
                }
    double rec = k > 1 ? (double)hit / (double)(nq * (k - 1)) : 1.0;
    double rec_self = k > 1 ? (double)(hit + nq) / (double)(nq * k) : 1.0;
    printf("  time %.2f s, peak RSS %.0f MiB (%.0f MiB before the search: input %.0f MiB)\n", t, rss, rss0,
           (double)n * (double)d * 4.0 / 1048576.0);
    printf("  crc32 of the neighbour ids: %08x\n", hli_crc32(0, nb, sizeof(int64_t) * (size_t)(n * k)));
    printf("  recall@%lld on %lld queries: %.4f over the k-1 true neighbours (%.4f counting self)\n", (long long)k,
           (long long)nq, rec, rec_self);
    free(qid);
    free(q);
    free(ex);
    free(xn);
    free(x);
    free(nb);
    free(sm);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    hl_set_log_callback(log_cb, NULL, getenv("BENCH_DEBUG") ? HL_LOG_DEBUG : HL_LOG_INFO);
    bench_print_machine();
    if (argc < 2) {
        int r = run_exact(100000, 256, 10, 0);
        return r | run_approx(1000000, 128, 10, 0, 0, 0);
    }
    int exact = strcmp(argv[1], "exact") == 0;
    if (!exact && strcmp(argv[1], "approx") != 0) {
        fprintf(stderr, "usage: %s [exact|approx [N [D [k [threads [nlist [nprobe]]]]]]]\n", argv[0]);
        return 2;
    }
    int64_t n = argc > 2 ? atoll(argv[2]) : (exact ? 100000 : 1000000);
    int64_t d = argc > 3 ? atoll(argv[3]) : (exact ? 256 : 128);
    int64_t k = argc > 4 ? atoll(argv[4]) : 10;
    int nt = argc > 5 ? atoi(argv[5]) : 0;
    if (exact)
        return run_exact(n, d, k, nt);
    return run_approx(n, d, k, nt, argc > 6 ? atoll(argv[6]) : 0, argc > 7 ? atoll(argv[7]) : 0);
}
