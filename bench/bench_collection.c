/* Collections (include/hilander/collection.h): quality against a full
 * recluster, and the cost of growing, shrinking, saving and loading one.
 *
 *   bench_collection quality [--data DIR] [--model M.hlm] [--model-out M.hlm]
 *                    [--batch 100] [--seed 1] [--threads T] [--merge M] [--trace]
 *   bench_collection speed [--n 1000000] [--d 128] [--clusters n/20] [--alpha 1.5]
 *                    [--sigma 0.035] [--seed 1] [--adds 5] [--add-size 1000]
 *                    [--remove 100] [--model M.hlm] [--file F] [--threads T]
 *                    [--no-recluster] [--verbose]
 *   bench_collection loaded --file F [--repeat 5] [the speed options that wrote F]
 *
 * quality: on the Omniglot test split (DIR as bench_omniglot_cluster:
 * default data/omniglot), with the default model (trained on the train
 * split with the default options, or loaded with --model) and without one:
 * the batch clustering hl_cluster() makes at the defaults, then a collection
 * created from a seeded random half of the rows with the rest added in
 * batches of --batch rows, both scored against the true labels (pairwise F,
 * BCubed F, NMI), the difference, the points moved and the clusters
 * joined / started / merged over the batches, and the time per batch.  Also
 * checks that a collection filled in one call clusters as hl_cluster() does.
 * --trace prints the quality of the points added so far after every batch,
 * next to hl_cluster() of the same points.  --merge M sets the linkage merge
 * threshold of both (0: off; default: the score's or model's).
 *
 * speed: on the synthetic data of bench_cluster (bench/synth.h: one draw of
 * n + (adds + 1) x add-size rows, so the first n rows depend on --adds and
 * --add-size too; the collection gets the first n, then the adds the next
 * ones, the last batch going to an add after the load): one
 * hl_cluster() of the n points (a full recluster) for comparison, then
 * creating the collection, the adds, one removal, save (time, file size),
 * load (time) and one add after the load; memory as resident set and as C
 * heap in use, before and after creating the collection and after freeing
 * the input, against the raw features (n x d x 4 bytes).
 *
 * loaded: the steady state of a big collection without creating it again:
 * load F (a file written by `speed --file F` with the same options, so that
 * the same draw gives the same rows), then --repeat times: add the batch the
 * speed run added after its load (rows that F does not hold), and remove
 * those points again (--remove 0: keep them).  Times of the load, of every
 * add and every removal.
 *
 * Every line that reports a time also carries the 1-minute load average. */
#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"
#include "synth.h"

#include "hilander.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef HL_BENCH_DATA
#define HL_BENCH_DATA "data/omniglot"
#endif

typedef struct bench_args {
    const char *data;
    const char *model_path;
    const char *model_out;
    const char *file;
    int64_t batch, seed, n, d, clusters, adds, add_size, remove, repeat;
    double alpha, sigma, merge;
    int32_t threads;
    int recluster, verbose, trace;
} bench_args;

/* Start of the timed call the library's log lines (--verbose) are timed from. */
static double g_log_t0;

static void log_cb(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    printf("    [%8.2f s] %s\n", bench_now() - g_log_t0, msg);
    fflush(stdout);
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

static void fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, hl_last_error());
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static hl_metrics evaluate(const int64_t *truth, const int64_t *pred, int64_t n)
{
    hl_metrics m;
    hl_metrics_init(&m, sizeof m);
    if (hl_evaluate(truth, pred, n, &m) != HL_OK)
        fail("hl_evaluate");
    return m;
}

static void print_metrics(const char *name, const hl_metrics *m)
{
    printf("  %-34s pairwise F %.4f (P %.4f R %.4f)  BCubed F %.4f  NMI %.4f  clusters %lld\n", name, m->pairwise_f,
           m->pairwise_precision, m->pairwise_recall, m->bcubed_f, m->nmi, (long long)m->num_pred_clusters);
}

/* Seeded permutation of 0..n-1 (Fisher-Yates on the synth generator). */
static int64_t *permutation(int64_t n, uint64_t seed)
{
    int64_t *p = xmalloc((size_t)n * sizeof *p);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    for (int64_t i = 0; i < n; i++)
        p[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(synth_next(&s) % (uint64_t)(i + 1));
        int64_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

static int64_t *batch_labels(const hl_model *model, const float *x, int64_t n, int64_t d, const hl_cluster_options *o,
                             double *seconds)
{
    hl_clustering *c = NULL;
    double t0 = bench_now();
    if (hl_cluster(model, x, n, d, NULL, o, &c) != HL_OK)
        fail("hl_cluster");
    *seconds = bench_now() - t0;
    int64_t *lab = xmalloc((size_t)n * sizeof *lab);
    if (hl_clustering_labels(c, -1, lab) != HL_OK)
        fail("hl_clustering_labels");
    hl_clustering_free(c);
    return lab;
}

static int64_t *collection_labels(const hl_collection *col)
{
    int64_t bound = hl_collection_id_bound(col);
    int64_t *lab = xmalloc((size_t)bound * sizeof *lab);
    if (hl_collection_labels(col, lab, NULL) != HL_OK)
        fail("hl_collection_labels");
    return lab;
}

static hl_collection *new_collection(const hl_model *model, int64_t d, const hl_cluster_options *o, int32_t threads)
{
    hl_collection *col = NULL;
    if (hl_collection_create(model, d, o, &col) != HL_OK)
        fail("hl_collection_create");
    if (hl_collection_set_num_threads(col, threads) != HL_OK)
        fail("hl_collection_set_num_threads");
    return col;
}

static void add_points(hl_collection *col, const float *x, int64_t n, int64_t d, hl_collection_stats *st,
                       double *seconds)
{
    hl_collection_stats_init(st, sizeof *st);
    double t0 = bench_now();
    if (hl_collection_add(col, x, n, d, NULL, st) != HL_OK)
        fail("hl_collection_add");
    *seconds = bench_now() - t0;
}

/* ---- quality ------------------------------------------------------------------------------------------------ */

static void load_split(const char *dir, const char *split, float **x, int64_t *n, int64_t *d, int64_t **y)
{
    char p[4096];
    int64_t ny;
    snprintf(p, sizeof p, "%s/%s_features.npy", dir, split);
    if (hl_npy_read_f32(p, x, n, d) != HL_OK)
        fail(p);
    snprintf(p, sizeof p, "%s/%s_labels.npy", dir, split);
    if (hl_npy_read_labels(p, y, &ny) != HL_OK)
        fail(p);
    if (ny != *n) {
        fprintf(stderr, "%s: %lld labels for %lld rows\n", p, (long long)ny, (long long)*n);
        exit(1);
    }
}

/* --trace: the quality of the first @p n points (ids 0..n-1, true labels
 * @p y in id order) after batch @p b. */
static void trace_batch(const hl_collection *col, const hl_model *model, const float *x, const int64_t *y, int64_t n,
                        int64_t d, const hl_cluster_options *o, int64_t b, const hl_collection_stats *st,
                        double seconds)
{
    int64_t *lc = collection_labels(col);
    hl_metrics m = evaluate(y, lc, n);
    double tb;
    int64_t *lb = batch_labels(model, x, n, d, o, &tb);
    hl_metrics mb = evaluate(y, lb, n);
    printf("    batch %3lld: %5lld points: collection pairwise F %.4f (P %.4f R %.4f) NMI %.4f clusters %5lld | "
           "hl_cluster F %.4f (P %.4f) NMI %.4f clusters %5lld | joined %3lld started %3lld merged %3lld moved %5lld "
           "relinked %5lld; %.1f ms\n",
           (long long)b, (long long)n, m.pairwise_f, m.pairwise_precision, m.pairwise_recall, m.nmi,
           (long long)m.num_pred_clusters, mb.pairwise_f, mb.pairwise_precision, mb.nmi,
           (long long)mb.num_pred_clusters, (long long)st->joined, (long long)st->started, (long long)st->merged,
           (long long)st->moved, (long long)st->relinked, 1e3 * seconds);
    free(lb);
    free(lc);
}

/* One setting (with or without the model): batch clustering, the
 * one-call collection check, and the growing collection. */
static void quality_one(const char *name, const hl_model *model, const float *x, const int64_t *y, int64_t n,
                        int64_t d, const bench_args *a)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = a->threads;
    o.merge = (float)a->merge;
    printf("-- %s\n", name);

    double tb;
    int64_t *lb = batch_labels(model, x, n, d, &o, &tb);
    hl_metrics mb = evaluate(y, lb, n);
    print_metrics("batch hl_cluster (all rows)", &mb);
    printf("  batch clustering time %.3f s (loadavg %.2f)\n", tb, bench_loadavg());

    /* A collection filled in one call must cluster as hl_cluster does (the header's promise). */
    {
        hl_collection *col = new_collection(model, d, &o, a->threads);
        hl_collection_stats st;
        double t1;
        add_points(col, x, n, d, &st, &t1);
        int64_t *lc = collection_labels(col);
        hl_metrics agree = evaluate(lb, lc, n);
        printf("  one-call collection vs batch: %s (pairwise F %.6f, NMI %.6f between the two labelings; "
               "%lld vs %lld clusters), %.3f s\n",
               agree.pairwise_f == 1.0 ? "same partition" : "DIFFERENT partition", agree.pairwise_f, agree.nmi,
               (long long)agree.num_pred_clusters, (long long)agree.num_true_clusters, t1);
        free(lc);
        hl_collection_free(col);
    }

    /* Seeded random half first, the rest in batches. */
    int64_t *perm = permutation(n, (uint64_t)a->seed);
    float *xp = xmalloc((size_t)(n * d) * sizeof *xp);
    for (int64_t i = 0; i < n; i++)
        memcpy(xp + i * d, x + perm[i] * d, (size_t)d * sizeof *xp);
    int64_t *yp = xmalloc((size_t)n * sizeof *yp);
    for (int64_t i = 0; i < n; i++)
        yp[i] = y[perm[i]];
    int64_t half = n / 2;
    hl_collection *col = new_collection(model, d, &o, a->threads);
    hl_collection_stats st;
    double tc;
    add_points(col, xp, half, d, &st, &tc);
    printf("  collection created from %lld random rows (seed %lld): %.3f s, %lld clusters\n", (long long)half,
           (long long)a->seed, tc, (long long)hl_collection_num_clusters(col));
    {
        int64_t *lc = collection_labels(col);
        hl_metrics mh = evaluate(yp, lc, half);
        print_metrics("  (first half only, vs truth)", &mh);
        free(lc);
    }
    int64_t nb = (n - half + a->batch - 1) / a->batch;
    double *tbatch = xmalloc((size_t)nb * sizeof *tbatch);
    int64_t moved = 0, joined = 0, started = 0, merged = 0, relinked = 0, max_moved = 0;
    double tsum = 0, tlib = 0;
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = half + b * a->batch, cnt = n - lo < a->batch ? n - lo : a->batch;
        add_points(col, xp + lo * d, cnt, d, &st, &tbatch[b]);
        tsum += tbatch[b];
        tlib += st.seconds;
        moved += st.moved;
        joined += st.joined;
        started += st.started;
        merged += st.merged;
        relinked += st.relinked;
        if (st.moved > max_moved)
            max_moved = st.moved;
        if (st.added != cnt)
            printf("  WARNING: batch %lld: stats.added %lld, expected %lld\n", (long long)b, (long long)st.added,
                   (long long)cnt);
        if (a->trace)
            trace_batch(col, model, xp, yp, lo + cnt, d, &o, b, &st, tbatch[b]);
    }
    int64_t *lc = collection_labels(col);
    int64_t *lr = xmalloc((size_t)n * sizeof *lr);
    for (int64_t i = 0; i < n; i++)
        lr[perm[i]] = lc[i]; /* point id i is row perm[i] */
    hl_metrics mc = evaluate(y, lr, n);
    print_metrics("collection (half + batches)", &mc);
    printf("  difference collection - batch: pairwise F %+.4f, BCubed F %+.4f, NMI %+.4f (targets: within 0.03 "
           "pairwise F, 0.02 NMI): %s\n",
           mc.pairwise_f - mb.pairwise_f, mc.bcubed_f - mb.bcubed_f, mc.nmi - mb.nmi,
           mb.pairwise_f - mc.pairwise_f <= 0.03 && mb.nmi - mc.nmi <= 0.02 ? "met" : "NOT met");
    hl_metrics agree = evaluate(lb, lr, n);
    printf("  agreement with the batch labels: pairwise F %.4f, NMI %.4f\n", agree.pairwise_f, agree.nmi);
    {
        /* hl_cluster of the rows in the collection's id order: ties in the
         * decode go to the smaller index, so this is the batch clustering
         * the collection can equal exactly. */
        double tp;
        int64_t *lpb = batch_labels(model, xp, n, d, &o, &tp);
        hl_metrics same = evaluate(lpb, lc, n);
        hl_metrics mpb = evaluate(yp, lpb, n);
        printf("  hl_cluster of the rows in the collection's id order: pairwise F %.4f, NMI %.4f vs truth; the "
               "collection's labels are %s (pairwise F %.6f, NMI %.6f between the two)\n",
               mpb.pairwise_f, mpb.nmi, same.pairwise_f == 1.0 ? "the same partition" : "a DIFFERENT partition",
               same.pairwise_f, same.nmi);
        free(lpb);
    }
    printf("  over %lld adds of <= %lld rows: moved %lld existing points (max %lld in one add), joined %lld, "
           "started %lld, merged %lld, relinked %lld\n",
           (long long)nb, (long long)a->batch, (long long)moved, (long long)max_moved, (long long)joined,
           (long long)started, (long long)merged, (long long)relinked);
    qsort(tbatch, (size_t)nb, sizeof *tbatch, cmp_double);
    printf("  time per add: mean %.2f ms, median %.2f ms, max %.2f ms (library's own count: mean %.2f ms); "
           "loadavg %.2f\n",
           1e3 * tsum / (double)nb, 1e3 * tbatch[nb / 2], 1e3 * tbatch[nb - 1], 1e3 * tlib / (double)nb,
           bench_loadavg());
    printf("  clusters now %lld (cluster ids issued %lld)\n", (long long)hl_collection_num_clusters(col),
           (long long)hl_collection_cluster_bound(col));
    free(tbatch);
    free(lc);
    free(lr);
    free(lb);
    free(perm);
    free(yp);
    free(xp);
    hl_collection_free(col);
}

static int run_quality(const bench_args *a)
{
    float *xtr, *xte;
    int64_t *ytr, *yte, ntr, nte, d, d2;
    load_split(a->data, "train", &xtr, &ntr, &d, &ytr);
    load_split(a->data, "test", &xte, &nte, &d2, &yte);
    if (d != d2) {
        fprintf(stderr, "train has %lld columns, test %lld\n", (long long)d, (long long)d2);
        return 1;
    }
    printf("data %s: train %lld x %lld, test %lld x %lld; batches of %lld, seed %lld, threads %d\n", a->data,
           (long long)ntr, (long long)d, (long long)nte, (long long)d2, (long long)a->batch, (long long)a->seed,
           (int)a->threads);
    hl_model *model = NULL;
    if (a->model_path) {
        if (hl_model_load(a->model_path, &model) != HL_OK)
            fail(a->model_path);
        printf("model: %s\n", a->model_path);
    } else {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        cfg.feature_dim = d;
        hl_train_options to;
        hl_train_options_init(&to, sizeof to);
        to.num_threads = a->threads;
        double t0 = bench_now();
        hl_status s = hl_train(&cfg, &to, xtr, ytr, ntr, d, &model);
        if (s != HL_OK && s != HL_ECANCELED)
            fail("hl_train");
        printf("model: trained on the train split with the default options in %.1f s (loadavg %.2f)\n",
               bench_now() - t0, bench_loadavg());
        if (a->model_out && hl_model_save(model, a->model_out) != HL_OK)
            fail(a->model_out);
    }
    float tau;
    int32_t score;
    float merge;
    hl_model_get_cluster_defaults(model, &tau, &score);
    hl_model_get_cluster_merge(model, &merge);
    printf("model's stored defaults: score %d, tau %.3f, merge %.3f\n", (int)score, (double)tau, (double)merge);
    quality_one("default model (its stored defaults)", model, xte, yte, nte, d, a);
    quality_one("unsupervised (model NULL: snn defaults)", NULL, xte, yte, nte, d, a);
    printf("peak RSS %.0f MiB\n", bench_peak_rss_mib());
    hl_model_free(model);
    hl_free(xtr);
    hl_free(xte);
    hl_free(ytr);
    hl_free(yte);
    return 0;
}

/* ---- speed -------------------------------------------------------------------------------------------------- */

static void print_memory(const char *when, double rss0, double heap0)
{
    printf("  memory %-44s RSS %8.1f MiB (+%8.1f over start), heap in use %8.1f MiB (+%8.1f), peak RSS %8.1f MiB\n",
           when, bench_rss_mib(), bench_rss_mib() - rss0, bench_heap_in_use_mib(), bench_heap_in_use_mib() - heap0,
           bench_peak_rss_mib());
}

static void print_add(const char *what, const hl_collection_stats *st, double t)
{
    printf("  %-22s %8.3f s (library %.3f s)  added %lld, joined %lld, started %lld, merged %lld, moved %lld, "
           "relinked %lld; loadavg %.2f\n",
           what, t, st->seconds, (long long)st->added, (long long)st->joined, (long long)st->started,
           (long long)st->merged, (long long)st->moved, (long long)st->relinked, bench_loadavg());
}

static int run_speed(const bench_args *a)
{
    /* --adds batches, then one more for the add after the load */
    const int64_t n = a->n, d = a->d, extra = (a->adds + 1) * a->add_size;
    const int64_t C = a->clusters > 0 ? a->clusters : (n / 20 > 0 ? n / 20 : 1);
    const double raw_mib = (double)n * (double)d * 4.0 / 1048576.0;
    bench_trim_heap();
    const double rss0 = bench_rss_mib(), heap0 = bench_heap_in_use_mib();
    printf("speed: n = %lld (+ %lld x %lld to add), d = %lld, clusters %lld (Pareto alpha %.2f), sigma %.3f, "
           "seed %lld, threads %d, %s; raw features n x d x 4 = %.1f MiB\n",
           (long long)n, (long long)a->adds, (long long)a->add_size, (long long)d, (long long)C, a->alpha, a->sigma,
           (long long)a->seed, (int)a->threads, a->model_path ? a->model_path : "no model", raw_mib);
    print_memory("at start", rss0, heap0);
    hl_model *model = NULL;
    if (a->model_path && hl_model_load(a->model_path, &model) != HL_OK)
        fail(a->model_path);
    double t0 = bench_now();
    float *x;
    int64_t *y;
    if (synth_clusters(n + extra, d, C, a->alpha, a->sigma, 0, 0.0, (uint64_t)a->seed, &x, &y) != 0) {
        fprintf(stderr, "generator failed (out of memory or clusters > n)\n");
        return 1;
    }
    printf("  generate %lld rows: %.2f s\n", (long long)(n + extra), bench_now() - t0);
    /* The rows added later live in their own buffer so that the input of the
     * creation can be freed on its own. */
    float *xadd = xmalloc((size_t)(extra * d) * sizeof *xadd + 1);
    memcpy(xadd, x + n * d, (size_t)(extra * d) * sizeof *xadd);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = a->threads;
    if (a->verbose)
        hl_set_log_callback(log_cb, NULL, HL_LOG_INFO);

    int64_t *lb = NULL;
    if (a->recluster) {
        bench_reset_peak_rss();
        print_memory("before hl_cluster", rss0, heap0);
        double tb;
        g_log_t0 = bench_now();
        lb = batch_labels(model, x, n, d, &o, &tb);
        printf("  full recluster: hl_cluster of the %lld points: %.2f s; loadavg %.2f\n", (long long)n, tb,
               bench_loadavg());
        print_memory("after hl_cluster (result freed)", rss0, heap0);
        hl_metrics mb = evaluate(y, lb, n);
        print_metrics("hl_cluster vs generator labels", &mb);
        bench_trim_heap();
    }

    bench_reset_peak_rss();
    const double rss_before = bench_rss_mib(), heap_before = bench_heap_in_use_mib();
    print_memory("before creating the collection", rss0, heap0);
    hl_collection *col = new_collection(model, d, &o, a->threads);
    hl_collection_stats st;
    double tc;
    g_log_t0 = bench_now();
    add_points(col, x, n, d, &st, &tc);
    print_add("create (add n points)", &st, tc);
    printf("  clusters %lld\n", (long long)hl_collection_num_clusters(col));
    const double peak_create = bench_peak_rss_mib();
    bench_trim_heap();
    const double rss_after = bench_rss_mib(), heap_after = bench_heap_in_use_mib();
    print_memory("after creating it (input still held)", rss0, heap0);
    if (lb) {
        int64_t *lc = collection_labels(col);
        hl_metrics agree = evaluate(lb, lc, n);
        printf("  collection vs hl_cluster labels: %s (pairwise F %.6f, NMI %.6f)\n",
               agree.pairwise_f == 1.0 ? "same partition" : "DIFFERENT partition", agree.pairwise_f, agree.nmi);
        free(lc);
    }
    free(x);
    x = NULL;
    bench_trim_heap();
    const double rss_freed = bench_rss_mib(), heap_freed = bench_heap_in_use_mib();
    print_memory("after freeing the input", rss0, heap0);
    printf("  collection memory: RSS growth over creation %.1f MiB = %.2f x raw; RSS after freeing the input "
           "minus RSS at start %.1f MiB = %.2f x raw; heap in use growth %.1f MiB = %.2f x raw (after freeing the "
           "input: %.1f MiB = %.2f x raw); peak RSS during creation %.1f MiB = %.2f x raw above the start\n",
           rss_after - rss_before, (rss_after - rss_before) / raw_mib, rss_freed - rss0, (rss_freed - rss0) / raw_mib,
           heap_after - heap_before, (heap_after - heap_before) / raw_mib, heap_freed - heap0,
           (heap_freed - heap0) / raw_mib, peak_create, (peak_create - rss0) / raw_mib);

    for (int64_t i = 0; i < a->adds; i++) {
        double t;
        char what[64];
        g_log_t0 = bench_now();
        add_points(col, xadd + i * a->add_size * d, a->add_size, d, &st, &t);
        snprintf(what, sizeof what, "add %lld x %lld", (long long)(i + 1), (long long)a->add_size);
        print_add(what, &st, t);
    }
    print_memory("after the adds", rss0, heap0);

    if (a->remove > 0) {
        int64_t nr = a->remove < n ? a->remove : n;
        int64_t *perm = permutation(n, (uint64_t)a->seed + 1);
        hl_collection_stats_init(&st, sizeof st);
        double t1 = bench_now();
        g_log_t0 = t1;
        if (hl_collection_remove(col, perm, nr, &st) != HL_OK)
            fail("hl_collection_remove");
        double t = bench_now() - t1;
        printf("  remove %lld random points: %.3f s (library %.3f s), removed %lld, relinked %lld, moved %lld; "
               "loadavg %.2f\n",
               (long long)nr, t, st.seconds, (long long)st.removed, (long long)st.relinked, (long long)st.moved,
               bench_loadavg());
        free(perm);
    }
    int64_t bound = hl_collection_id_bound(col);
    int64_t *lc = collection_labels(col);
    {
        int64_t live = 0;
        for (int64_t i = 0; i < bound; i++)
            live += lc[i] >= 0;
        int64_t *yt = xmalloc((size_t)live * sizeof *yt), *lt = xmalloc((size_t)live * sizeof *lt);
        for (int64_t i = 0, j = 0; i < bound; i++)
            if (lc[i] >= 0) {
                yt[j] = y[i]; /* point id i is generated row i */
                lt[j++] = lc[i];
            }
        hl_metrics mc = evaluate(yt, lt, live);
        print_metrics("collection vs generator labels", &mc);
        free(yt);
        free(lt);
    }

    const int64_t live_now = hl_collection_num_points(col);
    const double raw_now = (double)live_now * (double)d * 4.0 / 1048576.0;
    const char *path = a->file ? a->file : "bench_collection.hlc";
    double t1 = bench_now();
    if (hl_collection_save(col, path) != HL_OK)
        fail("hl_collection_save");
    double tsave = bench_now() - t1;
    struct stat sb;
    double fmib = stat(path, &sb) == 0 ? (double)sb.st_size / 1048576.0 : -1.0;
    printf("  save %s: %.2f s, file %.1f MiB = %.2f x raw; loadavg %.2f\n", path, tsave, fmib, fmib / raw_now,
           bench_loadavg());
    const double rss_held = bench_rss_mib(), heap_held = bench_heap_in_use_mib();
    hl_collection_free(col);
    bench_trim_heap();
    bench_reset_peak_rss();
    const double rss_empty = bench_rss_mib(), heap_empty = bench_heap_in_use_mib();
    print_memory("after freeing the collection", rss0, heap0);
    printf("  the collection of %lld points held (before minus after freeing it): RSS %.1f MiB = %.2f x its raw "
           "features (%.1f MiB), heap in use %.1f MiB = %.2f x raw\n",
           (long long)live_now, rss_held - rss_empty,
           (rss_held - rss_empty) / raw_now, raw_now, heap_held - heap_empty, (heap_held - heap_empty) / raw_now);
    t1 = bench_now();
    g_log_t0 = t1;
    if (hl_collection_load(path, model, &col) != HL_OK)
        fail("hl_collection_load");
    double tload = bench_now() - t1;
    if (hl_collection_set_num_threads(col, a->threads) != HL_OK)
        fail("hl_collection_set_num_threads");
    printf("  load from the file: %.2f s; loadavg %.2f\n", tload, bench_loadavg());
    print_memory("after loading it", rss0, heap0);
    printf("  loaded collection: RSS %.1f MiB = %.2f x raw, heap in use %.1f MiB = %.2f x raw, peak RSS during the "
           "load %.1f MiB\n",
           bench_rss_mib() - rss_empty, (bench_rss_mib() - rss_empty) / raw_now, bench_heap_in_use_mib() - heap_empty,
           (bench_heap_in_use_mib() - heap_empty) / raw_now, bench_peak_rss_mib());
    {
        int64_t *ll = collection_labels(col);
        int same = hl_collection_id_bound(col) == bound && memcmp(ll, lc, (size_t)bound * sizeof *ll) == 0;
        printf("  loaded labels %s the saved ones\n", same ? "equal" : "DIFFER FROM");
        free(ll);
    }
    if (a->adds > 0) {
        double t;
        g_log_t0 = bench_now();
        add_points(col, xadd + a->adds * a->add_size * d, a->add_size, d, &st, &t);
        print_add("add after the load", &st, t);
    }
    hl_set_log_callback(NULL, NULL, HL_LOG_ERROR);
    if (!a->file)
        remove(path);
    printf("peak RSS %.0f MiB (since the last reset, the load)\n", bench_peak_rss_mib());
    free(lc);
    free(lb);
    free(xadd);
    free(y);
    hl_collection_free(col);
    hl_model_free(model);
    return 0;
}

static int run_loaded(const bench_args *a)
{
    const int64_t n = a->n, d = a->d, extra = (a->adds + 1) * a->add_size;
    const int64_t C = a->clusters > 0 ? a->clusters : (n / 20 > 0 ? n / 20 : 1);
    if (!a->file) {
        fprintf(stderr, "loaded needs --file F (written by speed --file F)\n");
        return 2;
    }
    bench_trim_heap();
    const double rss0 = bench_rss_mib(), heap0 = bench_heap_in_use_mib();
    hl_model *model = NULL;
    if (a->model_path && hl_model_load(a->model_path, &model) != HL_OK)
        fail(a->model_path);
    float *x;
    int64_t *y;
    if (synth_clusters(n + extra, d, C, a->alpha, a->sigma, 0, 0.0, (uint64_t)a->seed, &x, &y) != 0) {
        fprintf(stderr, "generator failed (out of memory or clusters > n)\n");
        return 1;
    }
    const int64_t m = a->add_size;
    float *batch = xmalloc((size_t)(m * d) * sizeof *batch);
    memcpy(batch, x + (n + a->adds * m) * d, (size_t)(m * d) * sizeof *batch);
    free(x);
    free(y);
    bench_trim_heap();
    const double rss1 = bench_rss_mib(), heap1 = bench_heap_in_use_mib();
    if (a->verbose)
        hl_set_log_callback(log_cb, NULL, HL_LOG_INFO);
    hl_collection *col = NULL;
    bench_reset_peak_rss();
    double t0 = bench_now();
    g_log_t0 = t0;
    if (hl_collection_load(a->file, model, &col) != HL_OK)
        fail("hl_collection_load");
    const double tload = bench_now() - t0;
    if (hl_collection_set_num_threads(col, a->threads) != HL_OK)
        fail("hl_collection_set_num_threads");
    const int64_t live = hl_collection_num_points(col);
    const double raw = (double)live * (double)d * 4.0 / 1048576.0;
    printf("loaded: %s, %lld points, %lld clusters: %.2f s; loadavg %.2f\n", a->file, (long long)live,
           (long long)hl_collection_num_clusters(col), tload, bench_loadavg());
    printf("  loaded collection: RSS %.1f MiB = %.2f x raw, heap in use %.1f MiB = %.2f x raw, peak RSS during the "
           "load %.1f MiB\n",
           bench_rss_mib() - rss1, (bench_rss_mib() - rss1) / raw, bench_heap_in_use_mib() - heap1,
           (bench_heap_in_use_mib() - heap1) / raw, bench_peak_rss_mib());
    print_memory("after loading it", rss0, heap0);
    int64_t *ids = xmalloc((size_t)m * sizeof *ids);
    for (int64_t r = 0; r < a->repeat; r++) {
        hl_collection_stats st;
        double t;
        char what[64];
        const int64_t first = hl_collection_id_bound(col);
        g_log_t0 = bench_now();
        add_points(col, batch, m, d, &st, &t);
        snprintf(what, sizeof what, "add %lld x %lld", (long long)(r + 1), (long long)m);
        print_add(what, &st, t);
        if (a->remove == 0) /* --remove 0: the adds only (the same rows again: duplicates of points held) */
            continue;
        for (int64_t i = 0; i < m; i++)
            ids[i] = first + i;
        hl_collection_stats_init(&st, sizeof st);
        t0 = bench_now();
        g_log_t0 = t0;
        if (hl_collection_remove(col, ids, m, &st) != HL_OK)
            fail("hl_collection_remove");
        printf("  remove them again      %8.3f s (library %.3f s), relinked %lld, moved %lld; loadavg %.2f\n",
               bench_now() - t0, st.seconds, (long long)st.relinked, (long long)st.moved, bench_loadavg());
    }
    print_memory("after the adds", rss0, heap0);
    hl_set_log_callback(NULL, NULL, HL_LOG_ERROR);
    free(ids);
    free(batch);
    hl_collection_free(col);
    hl_model_free(model);
    return 0;
}

int main(int argc, char **argv)
{
    bench_args a = {.data = HL_BENCH_DATA,
                    .batch = 100,
                    .seed = 1,
                    .n = 1000000,
                    .d = 128,
                    .adds = 5,
                    .add_size = 1000,
                    .remove = 100,
                    .repeat = 5,
                    .alpha = 1.5,
                    .sigma = 0.035,
                    .merge = -1.0,
                    .recluster = 1};
    if (argc < 2 || (strcmp(argv[1], "quality") && strcmp(argv[1], "speed") && strcmp(argv[1], "loaded"))) {
        fprintf(stderr, "usage: %s quality|speed|loaded [options] (see the comment at the top of bench_collection.c)\n",
                argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--no-recluster")) {
            a.recluster = 0;
            continue;
        }
        if (!strcmp(o, "--verbose")) {
            a.verbose = 1;
            continue;
        }
        if (!strcmp(o, "--trace")) {
            a.trace = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "option %s needs a value\n", o);
            return 2;
        }
        if (!strcmp(o, "--data"))
            a.data = v;
        else if (!strcmp(o, "--model"))
            a.model_path = v;
        else if (!strcmp(o, "--model-out"))
            a.model_out = v;
        else if (!strcmp(o, "--file"))
            a.file = v;
        else if (!strcmp(o, "--batch"))
            a.batch = atoll(v);
        else if (!strcmp(o, "--seed"))
            a.seed = atoll(v);
        else if (!strcmp(o, "--n"))
            a.n = atoll(v);
        else if (!strcmp(o, "--d"))
            a.d = atoll(v);
        else if (!strcmp(o, "--clusters"))
            a.clusters = atoll(v);
        else if (!strcmp(o, "--adds"))
            a.adds = atoll(v);
        else if (!strcmp(o, "--add-size"))
            a.add_size = atoll(v);
        else if (!strcmp(o, "--repeat"))
            a.repeat = atoll(v);
        else if (!strcmp(o, "--remove"))
            a.remove = atoll(v);
        else if (!strcmp(o, "--alpha"))
            a.alpha = atof(v);
        else if (!strcmp(o, "--sigma"))
            a.sigma = atof(v);
        else if (!strcmp(o, "--merge"))
            a.merge = atof(v);
        else if (!strcmp(o, "--threads"))
            a.threads = atoi(v);
        else {
            fprintf(stderr, "unknown option %s\n", o);
            return 2;
        }
    }
    if (a.batch < 1 || a.n < 2 || a.d < 1 || a.adds < 0 || a.add_size < 1 || a.remove < 0 || a.repeat < 0) {
        fprintf(stderr, "sizes out of range\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress visible when redirected to a file */
    bench_print_machine();
    printf("load average %.2f at start\n", bench_loadavg());
    int rc = !strcmp(argv[1], "quality") ? run_quality(&a) : !strcmp(argv[1], "speed") ? run_speed(&a) : run_loaded(&a);
    printf("load average %.2f at the end\n", bench_loadavg());
    return rc;
}
