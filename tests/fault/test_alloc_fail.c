/* Allocation-failure sweep (built only with -DHL_FAULT_INJECTION=ON, run
 * under ASan by scripts/ci/fault.sh).
 *
 * For each scenario (kNN, graph, clustering with every score, the oracle,
 * training, model save/load, file readers and writers), a clean run counts
 * the library's allocations A and records a digest of the result.  Then for
 * every N = 1..A the Nth allocation fails, and the call must either
 *   - fail with HL_ENOMEM, hl_last_error_status() == HL_ENOMEM and a message,
 *     its output pointer NULL, and (for writers) the old file intact and no
 *     temporary file left; or
 *   - return HL_OK with exactly the clean result (a path that recovers).
 * HL_OK with a different result is the failure this test exists for.  Leaks
 * on any of the error paths are reported by LeakSanitizer at exit. */
#define _POSIX_C_SOURCE 200809L
#include "common/internal.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HL_FAULT_INJECTION
#error "test_alloc_fail needs a library built with -DHL_FAULT_INJECTION=ON"
#endif

static char tmpdir[256];

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}
#define FNV0 14695981039346656037ull

static uint64_t file_digest(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return 0;
    uint64_t h = FNV0;
    unsigned char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
        h = fnv(h, buf, got);
    fclose(fp);
    return h;
}

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

/* Files in tmpdir other than the ones a scenario owns: a temporary left behind. */
static int stray_files(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int stray = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.") != NULL)
            stray++;
    closedir(d);
    return stray;
}

/* ---- data ---------------------------------------------------------------- */

enum { NC = 6, PER = 8, N = NC * PER, D = 8 };
static float X[N * D];
static int64_t Y[N];

static void make_data(void)
{
    hli_rng r;
    hli_rng_seed(&r, 5);
    float cent[NC * D];
    for (int i = 0; i < NC * D; i++)
        cent[i] = (float)(hli_rng_uniform(&r) * 2 - 1);
    for (int p = 0; p < N; p++) {
        Y[p] = p % NC;
        for (int t = 0; t < D; t++)
            X[p * D + t] = cent[(p % NC) * D + t] + (float)(0.3 * (hli_rng_uniform(&r) - 0.5));
    }
}

static hl_model *small_model(int whiten)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = D;
    cfg.hidden = 8;
    cfg.rel_rank = 4;
    hl_model *m = NULL;
    hli_fault_arm(0);
    ck_assert_int_eq(hl_model_create(&cfg, 3, &m), HL_OK);
    if (whiten) {
        float w[D * D] = {0};
        for (int i = 0; i < D; i++)
            w[i * D + i] = 1.0f + 0.1f * (float)i;
        ck_assert_int_eq(hl_model_set_whitening(m, w), HL_OK);
    }
    return m;
}

/* Disarm before computing a digest that allocates, remembering how many
 * allocations the call under test made (the sweep reads it). */
static long long g_seen = -1;
/* The allocation the current sweep step fails (0 in the clean run), for
 * scenarios that build their input with faults off and then arm it. */
static long long g_arm;
static void stop_faults(void)
{
    g_seen = hli_fault_count();
    hli_fault_arm(0);
}

/* A model's content (saved with faults disarmed). */
static uint64_t model_digest(const hl_model *m)
{
    const char *p = tmp("digest.hlm");
    stop_faults();
    ck_assert_int_eq(hl_model_save(m, p), HL_OK);
    uint64_t h = file_digest(p);
    unlink(p);
    return h;
}

/* ---- scenarios: run once, return the status and a digest of the result -- */

typedef hl_status (*scenario_fn)(uint64_t *digest);

static hl_status sc_knn(int method, uint64_t *digest)
{
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = 5;
    o.method = method;
    o.num_threads = 1;
    o.nlist = 4;
    int64_t nb[N * 5];
    float sm[N * 5];
    hl_status st = hl_knn_search(X, N, D, &o, nb, sm);
    if (st == HL_OK)
        *digest = fnv(fnv(FNV0, nb, sizeof nb), sm, sizeof sm);
    return st;
}
static hl_status sc_knn_exact(uint64_t *d) { return sc_knn(HL_KNN_EXACT, d); }
static hl_status sc_knn_approx(uint64_t *d) { return sc_knn(HL_KNN_APPROX, d); }

static hl_status sc_graph(uint64_t *digest)
{
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = 4;
    o.num_threads = 1;
    hl_graph *g = (hl_graph *)&g; /* must become NULL on failure */
    hl_status st = hl_graph_build(X, N, D, &o, &g);
    if (st != HL_OK) {
        ck_assert_ptr_null(g);
        return st;
    }
    const int64_t *off, *src;
    const float *sim, *aff;
    ck_assert_int_eq(hl_graph_csr(g, &off, &src, &sim, &aff), HL_OK);
    const size_t e = (size_t)hl_graph_num_edges(g);
    *digest = fnv(fnv(fnv(fnv(FNV0, off, (size_t)(N + 1) * 8), src, e * 8), sim, e * 4), aff, e * 4);
    hl_graph_free(g);
    return st;
}

static hl_status cluster_run(const hl_model *m, const int64_t *truth, int score, float merge, uint64_t *digest)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = 5;
    o.score = score;
    o.max_levels = 3;
    o.early_stop = 0;
    o.num_threads = 1;
    o.merge = merge;
    hl_clustering *c = (hl_clustering *)&o;
    hl_status st = hl_cluster(m, X, N, D, truth, &o, &c);
    if (st != HL_OK) {
        ck_assert_ptr_null(c);
        return st;
    }
    uint64_t h = FNV0;
    const int32_t levels = hl_clustering_num_levels(c);
    h = fnv(h, &levels, sizeof levels);
    int64_t lab[N];
    for (int32_t l = 0; l < levels; l++) {
        ck_assert_int_eq(hl_clustering_labels(c, l, lab), HL_OK);
        h = fnv(h, lab, sizeof lab);
    }
    hl_clustering_free(c);
    *digest = h;
    return st;
}
static hl_status sc_cluster_sim(uint64_t *d) { return cluster_run(NULL, NULL, HL_SCORE_SIM, 0.0f, d); }
static hl_status sc_cluster_snn_merge(uint64_t *d) { return cluster_run(NULL, NULL, HL_SCORE_SNN, 1.2f, d); }
static hl_status sc_cluster_truth(uint64_t *d) { return cluster_run(NULL, Y, -1, 0.0f, d); }

static hl_model *g_model;
static hl_status sc_cluster_model(uint64_t *d) { return cluster_run(g_model, NULL, HL_SCORE_PROB, 0.5f, d); }

static hl_status sc_train(uint64_t *digest)
{
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    cfg.feature_dim = D;
    cfg.hidden = 8;
    cfg.rel_rank = 4;
    hl_train_options o;
    hl_train_options_init(&o, sizeof o);
    o.num_graphs = 1;
    o.k_list[0] = 4;
    o.levels[0] = 2;
    o.epochs = 1;
    o.batch_size = 16;
    o.eval_every = 0; /* validation (with the clustering checkpoint) at the last step only */
    o.val_fraction = 0.34;
    o.num_threads = 1;
    o.seed = 3;
    hl_model *m = (hl_model *)&o;
    hl_status st = hl_train(&cfg, &o, X, Y, N, D, &m);
    if (st != HL_OK) {
        ck_assert_ptr_null(m);
        return st;
    }
    *digest = model_digest(m);
    hl_model_free(m);
    return st;
}

/* The selection phase of training (the stored clustering defaults, chosen
 * after the SGD loop): the progress callback arms the fault at the last step,
 * so the Nth allocation after the loop fails.  hl_trainer_run must return the
 * error (it used to log it and return HL_OK with other defaults), or HL_OK
 * with exactly the model of a clean run. */
static long long g_select_n;
static int arm_at_last_step(const hl_train_progress *p, void *user)
{
    (void)user;
    if (p->step == p->total_steps)
        hli_fault_arm(g_select_n);
    return 0;
}

static hl_status train_select(long long n, uint64_t *digest)
{
    hl_model *m = small_model(0);
    hl_train_options o;
    hl_train_options_init(&o, sizeof o);
    o.num_graphs = 1;
    o.k_list[0] = 4;
    o.levels[0] = 2;
    o.epochs = 1;
    o.batch_size = 16;
    o.eval_every = 0;
    o.checkpoint_metric = HL_CHECKPOINT_LEVEL0;
    o.val_fraction = 0.5;
    o.num_threads = 1;
    o.seed = 3;
    o.progress = arm_at_last_step;
    g_select_n = n;
    hl_trainer *t = NULL;
    ck_assert_int_eq(hl_trainer_create(m, &o, X, Y, N, D, &t), HL_OK);
    hl_status st = hl_trainer_run(t);
    stop_faults();
    const long long seen = g_seen; /* model_digest stops the faults again */
    hl_trainer_free(t);
    if (st == HL_OK)
        *digest = model_digest(m);
    g_seen = seen;
    hl_model_free(m);
    return st;
}

START_TEST(test_train_selection_fails)
{
    uint64_t clean = 0, got = 0;
    ck_assert_int_eq(train_select(0, &clean), HL_OK);
    const long long selection_allocs = g_seen;
    ck_assert_int_gt(selection_allocs, 0);
    /* the first allocation of the selection phase fails: the error is returned */
    hl_clear_error();
    ck_assert_int_eq(train_select(1, &got), HL_ENOMEM);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "memory"));
    /* and any later one: the error, or exactly the clean model */
    for (long long k = 2; k <= selection_allocs; k++) {
        const hl_status st = train_select(k, &got);
        ck_assert_msg(st == HL_ENOMEM || (st == HL_OK && got == clean),
                      "allocation %lld of the selection phase failed: status %s, model %s", k, hl_status_str(st),
                      st == HL_OK ? "differs from the clean run" : "-");
    }
}
END_TEST

/* Writers: the old file must survive a failed write, and no temporary stays. */
static const char OLD[] = "old content\n";
static void put_old(const char *path)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(OLD, 1, sizeof OLD - 1, fp), sizeof OLD - 1);
    ck_assert_int_eq(fclose(fp), 0);
}
static uint64_t old_digest(void) { return fnv(FNV0, OLD, sizeof OLD - 1); }

static hl_status writer_result(hl_status st, const char *path, uint64_t *digest)
{
    if (st != HL_OK)
        ck_assert_msg(file_digest(path) == old_digest(), "a failed write changed '%s'", path);
    else
        *digest = file_digest(path);
    ck_assert_int_eq(stray_files(), 0);
    return st;
}

static hl_status sc_model_save(uint64_t *digest)
{
    const char *p = tmp("save.hlm");
    return writer_result(hl_model_save(g_model, p), p, digest);
}

static hl_status sc_model_load(uint64_t *digest)
{
    hl_model *m = (hl_model *)&digest;
    hl_status st = hl_model_load(tmp("model.hlm"), &m);
    if (st != HL_OK) {
        ck_assert_ptr_null(m);
        return st;
    }
    *digest = model_digest(m);
    hl_model_free(m);
    return st;
}

static hl_status sc_npy_write(uint64_t *digest)
{
    return writer_result(hl_npy_write_f32(tmp("w.npy"), X, N, D), tmp("w.npy"), digest);
}
static hl_status sc_meta_write(uint64_t *digest)
{
    return writer_result(hl_lc_write_meta(tmp("w.meta"), Y, N), tmp("w.meta"), digest);
}
static hl_status sc_npy_read(uint64_t *digest)
{
    float *x = (float *)&digest;
    int64_t r, c;
    hl_status st = hl_npy_read_f32(tmp("x.npy"), &x, &r, &c);
    if (st != HL_OK) {
        ck_assert_ptr_null(x);
        return st;
    }
    *digest = fnv(fnv(FNV0, &r, 8), x, (size_t)(r * c) * 4);
    hl_free(x);
    return st;
}
static hl_status sc_labels_read(uint64_t *digest)
{
    int64_t *y = (int64_t *)&digest, n;
    hl_status st = hl_npy_read_labels(tmp("y.npy"), &y, &n);
    if (st != HL_OK) {
        ck_assert_ptr_null(y);
        return st;
    }
    *digest = fnv(FNV0, y, (size_t)n * 8);
    hl_free(y);
    return st;
}
static hl_status sc_meta_read(uint64_t *digest)
{
    int64_t *y = (int64_t *)&digest, n;
    hl_status st = hl_lc_read_meta(tmp("y.meta"), &y, &n);
    if (st != HL_OK) {
        ck_assert_ptr_null(y);
        return st;
    }
    *digest = fnv(FNV0, y, (size_t)n * 8);
    hl_free(y);
    return st;
}

/* ---- the sweep ----------------------------------------------------------- */

/* ---- collections: a failed update changes nothing ----------------------- */

/* Labels, confidences and clusters of a collection. */
static uint64_t collection_digest(const hl_collection *c)
{
    const int64_t n = hl_collection_id_bound(c), nc = hl_collection_cluster_bound(c);
    int64_t lab[N], into[N], size[N];
    float conf[N];
    ck_assert(n <= N && nc <= N);
    ck_assert_int_eq(hl_collection_labels(c, lab, conf), HL_OK);
    ck_assert_int_eq(hl_collection_clusters(c, size, NULL, into), HL_OK);
    uint64_t h = fnv(FNV0, lab, (size_t)n * sizeof *lab);
    h = fnv(h, conf, (size_t)n * sizeof *conf);
    h = fnv(h, into, (size_t)nc * sizeof *into);
    return fnv(h, size, (size_t)nc * sizeof *size);
}

/* A collection of the first 36 rows (no faults), then with allocation
 * @p n armed: add the last 12 rows (@p remove: remove 5 points instead).
 * A failure must leave the collection exactly as it was, and the same call
 * must then succeed as in a clean run. */
static uint64_t g_clean_update;
static hl_status collection_update(int remove, int64_t auto_threshold, uint64_t *digest)
{
    const long long n = g_arm;
    hli_fault_arm(0);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = 5;
    o.knn_auto_threshold = auto_threshold;
    o.num_threads = 1;
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(NULL, D, &o, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, X, 36, D, NULL, NULL), HL_OK);
    const uint64_t before = collection_digest(c);
    const int64_t ids[5] = {0, 7, 8, 20, 35};
    hli_fault_arm(n);
    hl_status st = remove ? hl_collection_remove(c, ids, 5, NULL) : hl_collection_add(c, X + 36 * D, 12, D, NULL, NULL);
    g_seen = hli_fault_count();
    hli_fault_arm(0);
    if (st != HL_OK) {
        ck_assert_msg(collection_digest(c) == before, "allocation %lld failed and the collection changed", n);
        /* the same call again, without faults: the clean result */
        ck_assert_int_eq(remove ? hl_collection_remove(c, ids, 5, NULL) : hl_collection_add(c, X + 36 * D, 12, D, NULL, NULL),
                         HL_OK);
        ck_assert_msg(collection_digest(c) == g_clean_update, "allocation %lld failed; the retry differs", n);
        hl_collection_free(c);
        return st;
    }
    *digest = collection_digest(c);
    if (n == 0)
        g_clean_update = *digest;
    hl_collection_free(c);
    return st;
}

static hl_status sc_collection_add(uint64_t *d) { return collection_update(0, 50000, d); }
static hl_status sc_collection_add_ivf(uint64_t *d) { return collection_update(0, 20, d); }
static hl_status sc_collection_remove(uint64_t *d) { return collection_update(1, 20, d); }

static hl_status sc_collection_save(uint64_t *digest)
{
    hli_fault_arm(0);
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(NULL, D, NULL, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, X, N, D, NULL, NULL), HL_OK);
    hli_fault_arm(g_arm);
    hl_status st = hl_collection_save(c, tmp("save.hlc"));
    g_seen = hli_fault_count();
    hli_fault_arm(0);
    hl_collection_free(c);
    return writer_result(st, tmp("save.hlc"), digest);
}

static hl_status sc_collection_load(uint64_t *digest)
{
    hl_collection *c = NULL;
    hl_status st = hl_collection_load(tmp("coll.hlc"), NULL, &c);
    if (st == HL_OK) {
        stop_faults();
        *digest = collection_digest(c);
    } else {
        ck_assert_ptr_null(c);
    }
    hl_collection_free(c);
    return st;
}

static void prepare_files(void)
{
    hli_fault_arm(0);
    ck_assert_int_eq(hl_model_save(g_model, tmp("model.hlm")), HL_OK);
    ck_assert_int_eq(hl_npy_write_f32(tmp("x.npy"), X, N, D), HL_OK);
    ck_assert_int_eq(hl_npy_write_i64(tmp("y.npy"), Y, N, 0), HL_OK);
    ck_assert_int_eq(hl_lc_write_meta(tmp("y.meta"), Y, N), HL_OK);
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(NULL, D, NULL, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, X, N, D, NULL, NULL), HL_OK);
    ck_assert_int_eq(hl_collection_save(c, tmp("coll.hlc")), HL_OK);
    hl_collection_free(c);
}

typedef struct sweep_stats {
    long long allocs, failed, recovered;
} sweep_stats;

static sweep_stats sweep(const char *name, scenario_fn fn, int is_writer, const char *writer_path)
{
    sweep_stats s = {0, 0, 0};
    uint64_t want = 0, got;
    const time_t t0 = time(NULL);
    if (is_writer)
        put_old(writer_path);
    hli_fault_arm(0);
    hl_clear_error();
    g_seen = -1;
    g_arm = 0;
    hl_status st = fn(&want);
    s.allocs = g_seen >= 0 ? g_seen : hli_fault_count();
    ck_assert_msg(st == HL_OK, "%s: clean run failed: %s", name, hl_last_error());
    ck_assert_msg(s.allocs > 0, "%s: no allocation counted: is the fault injection wired?", name);
    for (long long n = 1; n <= s.allocs + 1; n++) {
        if (is_writer)
            put_old(writer_path);
        hl_clear_error();
        g_arm = n;
        hli_fault_arm(n);
        got = 0;
        g_seen = -1;
        st = fn(&got);
        const long long seen = g_seen >= 0 ? g_seen : hli_fault_count();
        hli_fault_arm(0);
        if (st == HL_OK) {
            ck_assert_msg(got == want, "%s: allocation %lld of %lld failed, yet HL_OK with a different result",
                          name, n, s.allocs);
            if (n <= s.allocs)
                s.recovered++;
        } else {
            ck_assert_msg(n <= s.allocs, "%s: failed with no fault injected: %s", name, hl_last_error());
            ck_assert_msg(st == HL_ENOMEM, "%s: allocation %lld failed, status %s (%s)", name, n, hl_status_str(st),
                          hl_last_error());
            ck_assert_msg(hl_last_error_status() == HL_ENOMEM && hl_last_error()[0] != '\0',
                          "%s: allocation %lld: HL_ENOMEM without the thread's last error (%d '%s')", name, n,
                          (int)hl_last_error_status(), hl_last_error());
            ck_assert_msg(seen >= n, "%s: failed before allocation %lld was reached", name, n);
            s.failed++;
        }
    }
    fprintf(stderr,
            "alloc-fail %-20s %5lld allocations: %5lld fail with HL_ENOMEM, %4lld recover with the same result "
            "(%llds)\n",
            name, s.allocs, s.failed, s.recovered, (long long)(time(NULL) - t0));
    return s;
}

#define SWEEP_TEST(tname, fn, writer, wpath)       \
    START_TEST(tname)                               \
    {                                               \
        make_data();                                \
        g_model = small_model(1);                   \
        prepare_files();                            \
        sweep(#fn, fn, writer, writer ? tmp(wpath) : NULL); \
        hl_model_free(g_model);                     \
        g_model = NULL;                             \
    }                                               \
    END_TEST

SWEEP_TEST(test_knn_exact, sc_knn_exact, 0, "")
SWEEP_TEST(test_knn_approx, sc_knn_approx, 0, "")
SWEEP_TEST(test_graph_build, sc_graph, 0, "")
SWEEP_TEST(test_cluster_sim, sc_cluster_sim, 0, "")
SWEEP_TEST(test_cluster_snn_merge, sc_cluster_snn_merge, 0, "")
SWEEP_TEST(test_cluster_truth, sc_cluster_truth, 0, "")
SWEEP_TEST(test_cluster_model, sc_cluster_model, 0, "")
SWEEP_TEST(test_model_load, sc_model_load, 0, "")
SWEEP_TEST(test_model_save, sc_model_save, 1, "save.hlm")
SWEEP_TEST(test_npy_read, sc_npy_read, 0, "")
SWEEP_TEST(test_labels_read, sc_labels_read, 0, "")
SWEEP_TEST(test_meta_read, sc_meta_read, 0, "")
SWEEP_TEST(test_npy_write, sc_npy_write, 1, "w.npy")
SWEEP_TEST(test_meta_write, sc_meta_write, 1, "w.meta")
SWEEP_TEST(test_train, sc_train, 0, "")
SWEEP_TEST(test_collection_add, sc_collection_add, 0, "")
SWEEP_TEST(test_collection_add_ivf, sc_collection_add_ivf, 0, "")
SWEEP_TEST(test_collection_remove, sc_collection_remove, 0, "")
SWEEP_TEST(test_collection_save, sc_collection_save, 1, "save.hlc")
SWEEP_TEST(test_collection_load, sc_collection_load, 0, "")

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/hl_allocfail_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    Suite *s = suite_create("alloc_fail");
    /* one case per scenario, so that CK_RUN_CASE=<name> runs one sweep */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {{"knn_exact", test_knn_exact},     {"knn_approx", test_knn_approx},
                 {"graph_build", test_graph_build}, {"cluster_sim", test_cluster_sim},
                 {"cluster_snn_merge", test_cluster_snn_merge}, {"cluster_truth", test_cluster_truth},
                 {"cluster_model", test_cluster_model}, {"model_load", test_model_load},
                 {"model_save", test_model_save},   {"npy_read", test_npy_read},
                 {"labels_read", test_labels_read}, {"meta_read", test_meta_read},
                 {"npy_write", test_npy_write},     {"meta_write", test_meta_write},
                 {"train", test_train},             {"train_selection", test_train_selection_fails},
                 {"collection_add", test_collection_add}, {"collection_add_ivf", test_collection_add_ivf},
                 {"collection_remove", test_collection_remove}, {"collection_save", test_collection_save},
                 {"collection_load", test_collection_load}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 3600);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
