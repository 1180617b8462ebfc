/* hl_mpi_cluster against hl_cluster: rank 0 clusters all the rows in one
 * process (the static core) and every rank compares the distributed result
 * with it, under 1, 2 and 4 ranks (tests/mpi/CMakeLists.txt).  Bad input on
 * one rank must fail every rank with the same status and message. */
#include "hilander/mpi.h"

#include "../test_helpers.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank_, nranks_;

/* Row range of this rank: uneven shares, and with 4 ranks rank 2 holds none. */
static void shard(int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t w[8], tot = 0;
    for (int r = 0; r < nranks_; r++) {
        w[r] = nranks_ == 4 && r == 2 ? 0 : 2 + r % 3;
        tot += w[r];
    }
    int64_t acc = 0;
    for (int r = 0; r <= rank_; r++) {
        *lo = n * acc / tot;
        acc += w[r];
        *hi = n * acc / tot;
    }
}

/* Blobs with a few exact duplicate rows (twins, ties by index). */
static float *make_data(int64_t nc, int64_t m, int64_t d, double noise, uint64_t seed)
{
    int64_t *lab = NULL;
    float *x = th_blobs(nc, m, d, noise, seed, &lab);
    free(lab);
    const int64_t n = nc * m;
    for (int64_t t = 0; t < 20; t++) /* row 7t+3 copied to row 11t+500 */
        memcpy(x + ((11 * t + 500) % n) * d, x + ((7 * t + 3) % n) * d, (size_t)d * sizeof(float));
    return x;
}

/* 1 if a and b are the same partition of n items. */
static int same_partition(const int64_t *a, const int64_t *b, int64_t n)
{
    int64_t ma = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma = a[i] > ma ? a[i] : ma;
        mb = b[i] > mb ? b[i] : mb;
    }
    int64_t *fa = malloc((size_t)(ma + 1) * sizeof *fa), *fb = malloc((size_t)(mb + 1) * sizeof *fb);
    ck_assert(fa && fb);
    for (int64_t i = 0; i <= ma; i++)
        fa[i] = -1;
    for (int64_t i = 0; i <= mb; i++)
        fb[i] = -1;
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++) {
        if (fa[a[i]] < 0)
            fa[a[i]] = b[i];
        if (fb[b[i]] < 0)
            fb[b[i]] = a[i];
        ok = fa[a[i]] == b[i] && fb[b[i]] == a[i];
    }
    free(fa);
    free(fb);
    return ok;
}

/* Run both and compare; returns the number of clusters. */
static int64_t check_equal(const hl_model *ref_model, const hl_model *mpi_model, const float *x, int64_t n, int64_t d,
                           const hl_cluster_options *o)
{
    int64_t *ref = malloc((size_t)n * sizeof *ref), *all = malloc((size_t)n * sizeof *all);
    ck_assert(ref && all);
    if (rank_ == 0) { /* the reference, computed once and broadcast */
        hl_clustering *c = NULL;
        ck_assert_msg(hl_cluster(ref_model, x, n, d, NULL, o, &c) == HL_OK, "%s", hl_last_error());
        ck_assert_int_eq(hl_clustering_labels(c, -1, ref), HL_OK);
        hl_clustering_free(c);
    }
    MPI_Bcast(ref, (int)n, MPI_INT64_T, 0, MPI_COMM_WORLD);
    int64_t lo = 0, hi = 0;
    shard(n, &lo, &hi);
    int64_t *mine = malloc((size_t)(hi - lo + 1) * sizeof *mine);
    ck_assert(mine);
    hl_status st = hl_mpi_cluster(MPI_COMM_WORLD, mpi_model, x + lo * d, hi - lo, d, o, mine);
    ck_assert_msg(st == HL_OK, "rank %d: %s", rank_, hl_mpi_last_error());
    int cnt[8], dis[8], c1 = (int)(hi - lo);
    MPI_Allgather(&c1, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD);
    dis[0] = 0;
    for (int r = 1; r < nranks_; r++)
        dis[r] = dis[r - 1] + cnt[r - 1];
    MPI_Allgatherv(mine, c1, MPI_INT64_T, all, cnt, dis, MPI_INT64_T, MPI_COMM_WORLD);
    /* the label is the smallest row of the cluster */
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_le(all[i], i);
        ck_assert_int_eq(all[all[i]], all[i]);
    }
    ck_assert_msg(same_partition(ref, all, n), "rank %d of %d: partition differs from hl_cluster", rank_, nranks_);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        k += all[i] == i;
    free(ref);
    free(all);
    free(mine);
    return k;
}

START_TEST(test_defaults_snn_merge)
{
    const int64_t nc = 60, m = 50, d = 32, n = nc * m;
    float *x = make_data(nc, m, d, 1.2, 11);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    const int64_t k = check_equal(NULL, NULL, x, n, d, &o);
    ck_assert_int_gt(k, 1);
    ck_assert_int_lt(k, n / 2);
    free(x);
}
END_TEST

START_TEST(test_sim_levels)
{
    const int64_t nc = 40, m = 60, d = 24, n = nc * m;
    float *x = make_data(nc, m, d, 1.5, 12);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    o.score = HL_SCORE_SIM;
    o.tau = 0.6f;
    o.max_levels = 4;
    o.early_stop = 0;
    o.k = 8;
    const int64_t k = check_equal(NULL, NULL, x, n, d, &o);
    ck_assert_int_gt(k, 0);
    free(x);
}
END_TEST

START_TEST(test_snn_levels_merge)
{
    const int64_t nc = 50, m = 40, d = 16, n = nc * m;
    float *x = make_data(nc, m, d, 1.4, 13);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    o.max_levels = 2;
    o.early_stop = 0;
    o.merge = 0.5f;
    check_equal(NULL, NULL, x, n, d, &o);
    free(x);
}
END_TEST

/* Distributed kNN of all rows, gathered on every rank (n x k). */
static void mpi_knn_all(const float *x, int64_t n, int64_t d, const hl_knn_options *ko, int64_t *ids, float *sims)
{
    int64_t lo = 0, hi = 0;
    shard(n, &lo, &hi);
    const int64_t k = ko->k;
    int64_t *mi = malloc((size_t)((hi - lo) * k + 1) * sizeof *mi);
    float *ms = malloc((size_t)((hi - lo) * k + 1) * sizeof *ms);
    ck_assert(mi && ms);
    hl_status st = hl_mpi_knn(MPI_COMM_WORLD, x + lo * d, hi - lo, d, ko, mi, ms);
    ck_assert_msg(st == HL_OK, "%s", hl_mpi_last_error());
    int cnt[8], dis[8], c1 = (int)((hi - lo) * k);
    MPI_Allgather(&c1, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD);
    dis[0] = 0;
    for (int r = 1; r < nranks_; r++)
        dis[r] = dis[r - 1] + cnt[r - 1];
    MPI_Allgatherv(mi, c1, MPI_INT64_T, ids, cnt, dis, MPI_INT64_T, MPI_COMM_WORLD);
    MPI_Allgatherv(ms, c1, MPI_FLOAT, sims, cnt, dis, MPI_FLOAT, MPI_COMM_WORLD);
    free(mi);
    free(ms);
}

/* Exact lists equal hl_knn_search's, ids and similarities, with n above the
 * single-process symmetric tile (4096 rows). */
START_TEST(test_knn_exact_equal)
{
    const int64_t n = 5000, d = 16, k = 10;
    float *x = make_data(100, 50, d, 1.5, 31);
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ko.method = HL_KNN_EXACT;
    ko.num_threads = 1;
    int64_t *ri = malloc((size_t)(n * k) * sizeof *ri), *mi = malloc((size_t)(n * k) * sizeof *mi);
    float *rs = malloc((size_t)(n * k) * sizeof *rs), *ms = malloc((size_t)(n * k) * sizeof *ms);
    ck_assert(ri && mi && rs && ms);
    ck_assert_int_eq(hl_knn_search(x, n, d, &ko, ri, rs), HL_OK);
    mpi_knn_all(x, n, d, &ko, mi, ms);
    for (int64_t t = 0; t < n * k; t++) {
        ck_assert_int_eq(mi[t], ri[t]);
        ck_assert(memcmp(&ms[t], &rs[t], sizeof(float)) == 0);
    }
    free(ri);
    free(mi);
    free(rs);
    free(ms);
    free(x);
}
END_TEST

/* The distributed IVF reaches recall@10 >= 0.97 of the exact lists. */
START_TEST(test_knn_ivf_recall)
{
    const int64_t n = 6000, d = 32, k = 10;
    float *x = make_data(120, 50, d, 1.6, 32);
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ko.method = HL_KNN_EXACT;
    ko.num_threads = 1;
    int64_t *ri = malloc((size_t)(n * k) * sizeof *ri), *mi = malloc((size_t)(n * k) * sizeof *mi);
    float *rs = malloc((size_t)(n * k) * sizeof *rs), *ms = malloc((size_t)(n * k) * sizeof *ms);
    ck_assert(ri && mi && rs && ms);
    ck_assert_int_eq(hl_knn_search(x, n, d, &ko, ri, rs), HL_OK);
    ko.method = HL_KNN_APPROX;
    mpi_knn_all(x, n, d, &ko, mi, ms);
    int64_t hit = 0, tot = 0;
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(mi[i * k], i);
        for (int64_t a = 1; a < k; a++) {
            tot++;
            for (int64_t b = 1; b < k; b++)
                if (mi[i * k + b] == ri[i * k + a]) {
                    hit++;
                    break;
                }
        }
    }
    const double recall = (double)hit / (double)tot;
    ck_assert_msg(recall >= 0.97, "recall@10 = %.4f", recall);
    ck_assert_msg(recall < 1.0 || n < 0, "IVF gave the exact lists: the test would not see a wrong scan");
    if (rank_ == 0 && getenv("HL_TEST_VERBOSE") != NULL) { /* the single-process IVF for comparison */
        int64_t *si = malloc((size_t)(n * k) * sizeof *si);
        ck_assert(si);
        ck_assert_int_eq(hl_knn_search(x, n, d, &ko, si, NULL), HL_OK);
        int64_t h1 = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t a = 1; a < k; a++)
                for (int64_t b = 1; b < k; b++)
                    if (si[i * k + b] == ri[i * k + a]) {
                        h1++;
                        break;
                    }
        fprintf(stderr, "ivf recall@10 = %.4f with %d ranks; single-process IVF %.4f\n", recall, nranks_,
                (double)h1 / (double)tot);
        free(si);
    }
    /* cells of ~4 rows and one probe: most rows have fewer than k-1
     * candidates and are searched exactly: every list is full, and most
     * are the exact lists */
    ko.nlist = n / 4;
    ko.nprobe = 1;
    mpi_knn_all(x, n, d, &ko, mi, ms);
    int64_t hit1 = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t a = 1; a < k; a++) {
            ck_assert_int_ge(mi[i * k + a], 0);
            ck_assert_int_ne(mi[i * k + a], i);
            for (int64_t b = 1; b < k; b++)
                if (mi[i * k + b] == ri[i * k + a]) {
                    hit1++;
                    break;
                }
        }
    ck_assert_int_gt(hit1, tot * 3 / 4);
    ko.nlist = 0;
    ko.nprobe = 0;
    /* clustering with the IVF runs on every rank */
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    o.knn_method = HL_KNN_APPROX;
    int64_t lo = 0, hi = 0;
    shard(n, &lo, &hi);
    ck_assert_msg(hl_mpi_cluster(MPI_COMM_WORLD, NULL, x + lo * d, hi - lo, d, &o, mi) == HL_OK, "%s",
                  hl_mpi_last_error());
    free(ri);
    free(mi);
    free(rs);
    free(ms);
    free(x);
}
END_TEST

/* Two communicators at once (MPI_Comm_split by rank parity): each half
 * clusters its own data set, and each result equals hl_cluster's. */
START_TEST(test_split_communicator)
{
    MPI_Comm sub;
    MPI_Comm_split(MPI_COMM_WORLD, rank_ % 2, rank_, &sub);
    int r = 0, p = 1;
    MPI_Comm_rank(sub, &r);
    MPI_Comm_size(sub, &p);
    const int64_t d = 12, n = 1200;
    float *x = make_data(40, 30, d, 1.3, 40 + (uint64_t)(rank_ % 2)); /* a different set per half */
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    int64_t *ref = malloc((size_t)n * sizeof *ref), *all = malloc((size_t)n * sizeof *all);
    ck_assert(ref && all);
    hl_clustering *c = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &c), HL_OK);
    ck_assert_int_eq(hl_clustering_labels(c, -1, ref), HL_OK);
    hl_clustering_free(c);
    const int64_t lo = n * r / p, hi = n * (r + 1) / p;
    int64_t *mine = malloc((size_t)(hi - lo + 1) * sizeof *mine);
    ck_assert(mine);
    ck_assert_msg(hl_mpi_cluster(sub, NULL, x + lo * d, hi - lo, d, &o, mine) == HL_OK, "%s", hl_mpi_last_error());
    int cnt[8], dis[8], c1 = (int)(hi - lo);
    MPI_Allgather(&c1, 1, MPI_INT, cnt, 1, MPI_INT, sub);
    dis[0] = 0;
    for (int q = 1; q < p; q++)
        dis[q] = dis[q - 1] + cnt[q - 1];
    MPI_Allgatherv(mine, c1, MPI_INT64_T, all, cnt, dis, MPI_INT64_T, sub);
    ck_assert(same_partition(ref, all, n));
    MPI_Comm_free(&sub);
    free(ref);
    free(all);
    free(mine);
    free(x);
}
END_TEST

/* Rank 0's model, saved to a file that every rank loads twice: into the
 * static core (the reference) and into libhilander_mpi. */
static void share_model(hl_model *m0, hl_model **ref, hl_model **mm)
{
    char path[64];
    snprintf(path, sizeof path, "test_mpi_model_%d.hlm", (int)getpid());
    MPI_Bcast(path, (int)sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank_ == 0)
        ck_assert_int_eq(hl_model_save(m0, path), HL_OK);
    MPI_Barrier(MPI_COMM_WORLD);
    ck_assert_int_eq(hl_model_load(path, ref), HL_OK);
    ck_assert_msg(hl_mpi_model_load(path, mm) == HL_OK, "%s", hl_mpi_last_error());
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank_ == 0)
        remove(path);
}

START_TEST(test_trained_model)
{
    const int64_t d = 16;
    int64_t *y = NULL;
    float *xt = th_blobs(20, 20, d, 1.4, 21, &y); /* 400 labelled training rows */
    hl_model *m0 = NULL;
    if (rank_ == 0) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        cfg.feature_dim = d;
        cfg.hidden = 32;
        hl_train_options to;
        hl_train_options_init(&to, sizeof to);
        to.num_graphs = 2;
        to.batch_size = 128;
        to.epochs = 3;
        to.num_threads = 1;
        to.seed = 5;
        ck_assert_msg(hl_train(&cfg, &to, xt, y, 400, d, &m0) == HL_OK, "%s", hl_last_error());
    }
    hl_model *ref = NULL, *mm = NULL;
    share_model(m0, &ref, &mm);
    float *x = make_data(40, 50, d, 1.4, 22);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    const int64_t k = check_equal(ref, mm, x, 2000, d, &o); /* the model's stored score, tau, levels, merge */
    ck_assert_int_gt(k, 1);
    o.max_levels = 3; /* upper levels read the cluster means */
    o.early_stop = 0;
    o.merge = 0.0f;
    check_equal(ref, mm, x, 2000, d, &o);
    hl_model_free(m0);
    hl_model_free(ref);
    hl_mpi_model_free(mm);
    free(x);
    free(xt);
    free(y);
}
END_TEST

/* Two GraphConv layers, every edge feature (MEAN_COS reads the features of
 * the neighbours' neighbours), the full-rank relational term. */
START_TEST(test_model_two_layers)
{
    const int64_t d = 12;
    hl_model *m0 = NULL;
    if (rank_ == 0) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        cfg.feature_dim = d;
        cfg.hidden = 16;
        cfg.num_conv = 2;
        cfg.rel_rank = 0;
        cfg.edge_features = 0x3FFu;
        ck_assert_int_eq(hl_model_create(&cfg, 3, &m0), HL_OK);
    }
    hl_model *ref = NULL, *mm = NULL;
    share_model(m0, &ref, &mm);
    float *x = make_data(30, 50, d, 1.2, 23);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    o.score = HL_SCORE_PROB;
    o.tau = 0.5f;
    o.max_levels = 3;
    o.early_stop = 0;
    check_equal(ref, mm, x, 1500, d, &o);
    hl_model_free(m0);
    hl_model_free(ref);
    hl_mpi_model_free(mm);
    free(x);
}
END_TEST

/* The bundled Omniglot features (6,580 x 128 test rows): unsupervised
 * defaults, then a model trained at rank 0 on 600 train rows with its stored
 * plan and with three levels. */
START_TEST(test_omniglot)
{
    float *xt = NULL, *xtr = NULL;
    int64_t n = 0, d = 0, ntr = 0, dtr = 0, nl = 0, *ytr = NULL;
    ck_assert_int_eq(hl_npy_read_f32(HL_DATA_DIR "/omniglot/test_features.npy", &xt, &n, &d), HL_OK);
    ck_assert_int_eq(hl_npy_read_f32(HL_DATA_DIR "/omniglot/train_features.npy", &xtr, &ntr, &dtr), HL_OK);
    ck_assert_int_eq(hl_npy_read_labels(HL_DATA_DIR "/omniglot/train_labels.npy", &ytr, &nl), HL_OK);
    ck_assert_int_eq(nl, ntr);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.num_threads = 1;
    ck_assert_int_gt(check_equal(NULL, NULL, xt, n, d, &o), 10);
    hl_model *m0 = NULL;
    if (rank_ == 0) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        cfg.feature_dim = d;
        cfg.hidden = 32;
        hl_train_options to;
        hl_train_options_init(&to, sizeof to);
        to.num_graphs = 2;
        to.batch_size = 128;
        to.epochs = 10;
        to.num_threads = 1;
        to.seed = 7;
        ck_assert_msg(hl_train(&cfg, &to, xtr, ytr, ntr < 600 ? ntr : 600, d, &m0) == HL_OK, "%s", hl_last_error());
    }
    hl_model *ref = NULL, *mm = NULL;
    share_model(m0, &ref, &mm);
    check_equal(ref, mm, xt, n, d, &o); /* the plan the trainer stored */
    o.score = HL_SCORE_PROB; /* the model's link probabilities, three levels */
    o.tau = 0.0f;
    o.max_levels = 3;
    o.early_stop = 0;
    check_equal(ref, mm, xt, n, d, &o);
    hl_model_free(m0);
    hl_model_free(ref);
    hl_mpi_model_free(mm);
    hl_free(xt);
    hl_free(xtr);
    hl_free(ytr);
}
END_TEST

/* Cancels after level 0 on the last rank only. */
static int cancel_on_last(int32_t level, int64_t nodes, int64_t added, void *user)
{
    int *calls = user;
    (*calls)++;
    ck_assert_int_gt(nodes, added);
    return level == 0 && rank_ == nranks_ - 1;
}

/* Every rank returns the same status and the same message. */
static void check_same_error(hl_status st, hl_status want)
{
    ck_assert_int_eq(st, want);
    char mine[512], root[512];
    snprintf(mine, sizeof mine, "%s", hl_mpi_last_error());
    memcpy(root, mine, sizeof root);
    MPI_Bcast(root, (int)sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    ck_assert_str_eq(mine, root);
    ck_assert_int_gt((int)strlen(mine), 0);
}

START_TEST(test_nan_on_last_rank)
{
    const int64_t n = 400, d = 8;
    float *x = make_data(20, 20, d, 1.0, 14);
    int64_t lo = 0, hi = 0;
    shard(n, &lo, &hi);
    int64_t last_nonempty = 0;
    int has = hi > lo ? rank_ : -1;
    int lastr = 0;
    MPI_Allreduce(&has, &lastr, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank_ == lastr)
        x[(hi - 1) * d + 3] = NAN;
    (void)last_nonempty;
    int64_t *lab = malloc((size_t)n * sizeof *lab);
    ck_assert(lab);
    hl_status st = hl_mpi_cluster(MPI_COMM_WORLD, NULL, x + lo * d, hi - lo, d, NULL, lab);
    check_same_error(st, HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_mpi_last_error(), "not finite"));
    free(lab);
    free(x);
}
END_TEST

START_TEST(test_wrong_d_on_one_rank)
{
    const int64_t n = 400, d = 8;
    float *x = make_data(20, 20, d, 1.0, 15);
    int64_t lo = 0, hi = 0;
    shard(n, &lo, &hi);
    int64_t *lab = malloc((size_t)n * sizeof *lab);
    ck_assert(lab);
    const int64_t dd = rank_ == nranks_ - 1 ? d - 1 : d;
    hl_status st = hl_mpi_cluster(MPI_COMM_WORLD, NULL, x + lo * d, hi - lo, dd, NULL, lab);
    if (nranks_ == 1) {
        ck_assert_int_eq(st, HL_OK); /* one rank: d = 7 is merely another shape */
    } else {
        check_same_error(st, HL_EINVAL);
        ck_assert_ptr_nonnull(strstr(hl_mpi_last_error(), "rank 0 has d"));
    }
    /* options that differ between ranks */
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = rank_ == nranks_ - 1 ? 7 : 10;
    st = hl_mpi_cluster(MPI_COMM_WORLD, NULL, x + lo * d, hi - lo, d, &o, lab);
    if (nranks_ == 1) {
        ck_assert_int_eq(st, HL_OK);
    } else {
        check_same_error(st, HL_EINVAL);
        ck_assert_ptr_nonnull(strstr(hl_mpi_last_error(), "differ from rank 0"));
    }
    /* a progress callback that cancels on one rank cancels every rank */
    hl_cluster_options_init(&o, sizeof o);
    int calls = 0;
    o.progress = cancel_on_last;
    o.progress_user = &calls;
    o.max_levels = 3;
    o.early_stop = 0;
    st = hl_mpi_cluster(MPI_COMM_WORLD, NULL, x + lo * d, hi - lo, d, &o, lab);
    check_same_error(st, HL_ECANCELED);
    ck_assert_int_eq(calls, 1);
    /* k >= n over all ranks */
    o.k = n;
    st = hl_mpi_cluster(MPI_COMM_WORLD, NULL, x + lo * d, hi - lo, d, &o, lab);
    check_same_error(st, HL_EINVAL);
    free(lab);
    free(x);
}
END_TEST

static void print_log(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
    int provided = 0; /* the library's threads make no MPI call: FUNNELED suffices */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks_);
    if (getenv("HL_TEST_VERBOSE") != NULL) { /* the levels and the merge, for a look by hand */
        hl_mpi_set_log_callback(print_log, NULL, HL_LOG_INFO);
        hl_set_log_callback(print_log, NULL, HL_LOG_INFO);
    }
    if (nranks_ > 8) {
        MPI_Finalize();
        return 1;
    }
    Suite *s = suite_create("mpi");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_defaults_snn_merge);
    tcase_add_test(tc, test_sim_levels);
    tcase_add_test(tc, test_snn_levels_merge);
    tcase_add_test(tc, test_knn_exact_equal);
    tcase_add_test(tc, test_knn_ivf_recall);
    tcase_add_test(tc, test_split_communicator);
    tcase_add_test(tc, test_trained_model);
    tcase_add_test(tc, test_model_two_layers);
    tcase_add_test(tc, test_omniglot);
    tcase_add_test(tc, test_nan_on_last_rank);
    tcase_add_test(tc, test_wrong_d_on_one_rank);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, rank_ == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any == 0 ? 0 : 1;
}
