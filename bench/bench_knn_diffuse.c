/* Approximate kNN on the diffuse data of issue 19 (bench/synth.h,
 * synth_diffuse): today's IVF (calibrated, target recall 0.97) and NN-descent
 * on the same data in one run; figures in docs/KNN.md ("NN-descent").
 *
 *   bench_knn_diffuse [N [threads [k [centres [seed]]]]]
 *
 * N (default 1,000,000) points in D = 128, centres default N/20 (50,000 for
 * the 1M set), noise 0.6.  Recall@k over the k-1 true neighbours
 * (self excluded) of 1,000 queries spread over the ids, checked by exact
 * search.  Prints the machine, the load average before and after each
 * method, wall and CPU seconds, throughput and the IVF / NN-descent ratio.
 * BENCH_SKIP_IVF=1 runs NN-descent only; BENCH_DEBUG=1 prints the library's
 * phase timings. */
#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"
#include "io/io_internal.h"
#include "knn/knn_internal.h"
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define D 128
#define NOISE 0.6
#define NQ 1000

static void log_cb(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    printf("  [lib] %s\n", msg);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static void print_load(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(buf, sizeof buf, f) == NULL)
            snprintf(buf, sizeof buf, "?");
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    printf("load average %s: %s\n", when, buf);
}

typedef struct result {
    double wall, cpu, recall;
} result;

/* Run one method; recall against the exact lists ex (NQ x (k-1)) of qid,
 * also by the size of the query's cluster (csize: per query). */
static int run(const char *name, const float *x, int64_t n, int64_t k, int nt, int method, const int64_t *qid,
               const int64_t *ex, const int64_t *csize, result *r)
{
    int64_t *nb = malloc(sizeof(int64_t) * (size_t)(n * k));
    float *sm = malloc(sizeof(float) * (size_t)(n * k));
    if (!nb || !sm) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    o.method = method;
    o.num_threads = nt;
    printf("%s:\n", name);
    print_load("before");
    const double c0 = cpu_seconds(), t0 = bench_now();
    hl_status st = hl_knn_search(x, n, D, &o, nb, sm);
    r->wall = bench_now() - t0;
    r->cpu = cpu_seconds() - c0;
    if (st != HL_OK) {
        printf("error: %s\n", hl_last_error());
        return 1;
    }
    print_load("after");
    int64_t hit = 0, chit[4] = {0, 0, 0, 0}, cq[4] = {0, 0, 0, 0};
    for (int64_t a = 0; a < NQ && a < n; a++) {
        const int c = csize[a] < 10 ? 0 : csize[a] < 100 ? 1 : csize[a] < 1000 ? 2 : 3;
        cq[c]++;
        for (int64_t t = 1; t < k; t++)
            for (int64_t u = 0; u < k - 1; u++)
                if (nb[qid[a] * k + t] == ex[a * (k - 1) + u]) {
                    hit++;
                    chit[c]++;
                    break;
                }
    }
    const int64_t nq = n < NQ ? n : NQ;
    r->recall = k > 1 ? (double)hit / (double)(nq * (k - 1)) : 1.0;
    printf("  %s: time %.2f s (cpu %.2f s), %.0f points/s, recall@%lld %.4f on %lld queries, peak RSS %.0f MiB, "
           "crc32 %08x\n",
           name, r->wall, r->cpu, (double)n / r->wall, (long long)k, r->recall, (long long)nq, bench_peak_rss_mib(),
           hli_crc32(0, nb, sizeof(int64_t) * (size_t)(n * k)));
    printf("  recall by the query's cluster size:");
    const char *cname[4] = {"< 10", "10-99", "100-999", ">= 1000"};
    for (int c = 0; c < 4; c++)
        if (cq[c] > 0)
            printf(" %s: %.4f (%lld queries)%s", cname[c], (double)chit[c] / (double)(cq[c] * (k - 1)),
                   (long long)cq[c], c < 3 ? ";" : "");
    printf("\n");
    free(nb);
    free(sm);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    hl_set_log_callback(log_cb, NULL, getenv("BENCH_DEBUG") ? HL_LOG_DEBUG : HL_LOG_INFO);
    const int64_t n = argc > 1 ? atoll(argv[1]) : 1000000;
    const int nt = argc > 2 ? atoi(argv[2]) : 0;
    const int64_t k = argc > 3 ? atoll(argv[3]) : 10;
    const int64_t C = argc > 4 ? atoll(argv[4]) : (n / 20 > 0 ? n / 20 : 1);
    const uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
    if (n < 2 || k < 2 || k > n || C < 1 || C > n) {
        fprintf(stderr, "usage: %s [N [threads [k [centres [seed]]]]]\n", argv[0]);
        return 2;
    }
    bench_print_machine();
    printf("diffuse data: N = %lld, D = %d, %lld Gaussian centres (unit variance), sizes ~ 1/rank^0.8, noise sd %.1f, "
           "seed %llu; k = %lld, threads = %d\n",
           (long long)n, D, (long long)C, NOISE, (unsigned long long)seed, (long long)k, hli_threads(nt));
    float *x = NULL;
    int64_t *lab = NULL;
    double t0 = bench_now();
    if (synth_diffuse(n, D, C, NOISE, seed, &x, &lab) != 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("  generated in %.1f s\n", bench_now() - t0);

    /* Exact neighbours of NQ queries spread over the ids. */
    const int64_t nq = n < NQ ? n : NQ;
    int64_t *qid = malloc(sizeof(int64_t) * (size_t)nq);
    float *q = malloc(sizeof(float) * (size_t)(nq * D));
    int64_t *ex = malloc(sizeof(int64_t) * (size_t)(nq * (k - 1)));
    int64_t *count = calloc((size_t)C, sizeof(int64_t));
    int64_t *csize = malloc(sizeof(int64_t) * (size_t)nq);
    hl_status st;
    float *xn = hli_normalized_copy(x, n, D, &st);
    if (!qid || !q || !ex || !xn || !count || !csize) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int64_t i = 0; i < n; i++)
        count[lab[i]]++;
    for (int64_t a = 0; a < nq; a++) {
        qid[a] = (int64_t)((double)a * (double)n / (double)nq);
        csize[a] = count[lab[qid[a]]];
        memcpy(q + a * D, xn + qid[a] * D, sizeof(float) * D);
    }
    t0 = bench_now();
    if (hli_topk_gemm(q, nq, xn, n, D, k - 1, qid, -1, 0, hli_threads(nt), ex, NULL, k - 1) != HL_OK) {
        printf("error: %s\n", hl_last_error());
        return 1;
    }
    printf("  exact neighbours of %lld queries in %.1f s\n", (long long)nq, bench_now() - t0);
    free(xn);
    free(q);

    result ivf = {0, 0, 0}, nnd = {0, 0, 0};
    const int skip_ivf = getenv("BENCH_SKIP_IVF") != NULL && atoi(getenv("BENCH_SKIP_IVF")) != 0;
    int rc = 0;
    if (!skip_ivf)
        rc |= run("IVF (calibrated, target 0.97)", x, n, k, nt, HL_KNN_APPROX, qid, ex, csize, &ivf);
    rc |= run("NN-descent", x, n, k, nt, HL_KNN_NNDESCENT, qid, ex, csize, &nnd);
    if (!skip_ivf && rc == 0)
        printf("summary: N = %lld: IVF %.1f s (recall %.4f), NN-descent %.1f s (recall %.4f): %.2fx faster "
               "(cpu %.2fx)\n",
               (long long)n, ivf.wall, ivf.recall, nnd.wall, nnd.recall, ivf.wall / nnd.wall, ivf.cpu / nnd.cpu);
    free(qid);
    free(ex);
    free(count);
    free(csize);
    free(lab);
    free(x);
    return rc;
}
