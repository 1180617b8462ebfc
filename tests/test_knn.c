/* kNN search (docs/ALGORITHM.md, "kNN search"): exact search against a naive double-precision
 * reference, the approximate IVF against exact (recall), determinism, and bad
 * input; NN-descent against exact (recall) and its thread invariance. */
#include "common/internal.h"
#include "knn/knn_internal.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

static float *random_data(int64_t n, int64_t d, uint64_t seed)
{
    hli_rng rng;
    hli_rng_seed(&rng, seed);
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n * d; i++)
        x[i] = (float)(hli_rng_uniform(&rng) * 2.0 - 1.0);
    return x;
}

/* Gaussian-ish clusters: centres uniform on the sphere, points = centre +
 * noise (sum of uniforms). */
static float *clustered_data(int64_t n, int64_t d, int64_t nc, double noise, uint64_t seed)
{
    hli_rng rng;
    hli_rng_seed(&rng, seed);
    float *c = malloc(sizeof(float) * (size_t)(nc * d));
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < nc * d; i++)
        c[i] = (float)(hli_rng_uniform(&rng) * 2.0 - 1.0);
    for (int64_t i = 0; i < n; i++) {
        int64_t cc = (int64_t)hli_rng_below(&rng, (uint64_t)nc);
        for (int64_t j = 0; j < d; j++) {
            double e = hli_rng_uniform(&rng) + hli_rng_uniform(&rng) + hli_rng_uniform(&rng) - 1.5;
            x[i * d + j] = (float)(c[cc * d + j] + noise * e);
        }
    }
    free(c);
    return x;
}

typedef struct ref_entry {
    double s;
    int64_t j;
} ref_entry;

static int cmp_ref(const void *a, const void *b)
{
    const ref_entry *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

/* Naive reference: every row's full list (n entries), self first, the rest by
 * (sim desc, idx asc), in double precision. */
static ref_entry *naive_knn(const float *x, int64_t n, int64_t d)
{
    double *xn = malloc(sizeof(double) * (size_t)(n * d));
    ref_entry *r = malloc(sizeof(ref_entry) * (size_t)(n * n));
    ck_assert_ptr_nonnull(xn);
    ck_assert_ptr_nonnull(r);
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int64_t c = 0; c < d; c++)
            ss += (double)x[i * d + c] * x[i * d + c];
        for (int64_t c = 0; c < d; c++)
            xn[i * d + c] = x[i * d + c] / sqrt(ss);
    }
    for (int64_t i = 0; i < n; i++) {
        ref_entry *row = r + i * n;
        row[0].s = 1.0;
        row[0].j = i;
        int64_t p = 1;
        for (int64_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            double s = 0;
            for (int64_t c = 0; c < d; c++)
                s += xn[i * d + c] * xn[j * d + c];
            row[p].s = s;
            row[p].j = j;
            p++;
        }
        qsort(row + 1, (size_t)(n - 1), sizeof *row, cmp_ref);
    }
    free(xn);
    return r;
}

/* Double-precision cosine of rows i and j. */
static double cos_ij(const float *x, int64_t d, int64_t i, int64_t j)
{
    double a = 0, b = 0, c = 0;
    for (int64_t t = 0; t < d; t++) {
        a += (double)x[i * d + t] * x[j * d + t];
        b += (double)x[i * d + t] * x[i * d + t];
        c += (double)x[j * d + t] * x[j * d + t];
    }
    return a / sqrt(b * c);
}

/* Compare a kNN result with the naive reference: sims within 1e-5, ids equal
 * except where the reference has a near tie (within 1e-6) at that position,
 * where the returned id must have the same similarity within 1e-5.  (Plain
 * checks with one assertion at the end: Check records every ck_assert.) */
#define FAIL_IF(cond, ...)                                                                                     \
    do {                                                                                                       \
        if ((cond) && !failed) {                                                                               \
            failed = 1;                                                                                        \
            snprintf(msg, sizeof msg, __VA_ARGS__);                                                            \
        }                                                                                                      \
    } while (0)

static void check_against_naive(const float *x, int64_t n, int64_t d, int64_t k, const int64_t *nb,
                                const float *sm, const ref_entry *ref)
{
    int failed = 0;
    char msg[256] = "";
    unsigned char *seen = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n && !failed; i++) {
        const ref_entry *r = ref + i * n;
        FAIL_IF(nb[i * k] != i || sm[i * k] != 1.0f, "row %lld: self not first with sim 1", (long long)i);
        memset(seen, 0, (size_t)n);
        for (int64_t t = 0; t < k && !failed; t++) {
            const int64_t j = nb[i * k + t];
            FAIL_IF(j < 0 || j >= n, "row %lld pos %lld: id %lld", (long long)i, (long long)t, (long long)j);
            if (failed)
                break;
            FAIL_IF(t > 0 && j == i, "row %lld: self at pos %lld", (long long)i, (long long)t);
            FAIL_IF(seen[j], "row %lld: id %lld twice", (long long)i, (long long)j);
            seen[j] = 1;
            FAIL_IF(fabs(sm[i * k + t] - r[t].s) > 1e-5, "row %lld pos %lld: sim %g vs %g", (long long)i,
                    (long long)t, (double)sm[i * k + t], r[t].s);
            if (t > 0) {
                FAIL_IF(sm[i * k + t] > sm[i * k + t - 1], "row %lld pos %lld: not sorted", (long long)i,
                        (long long)t);
                FAIL_IF(t > 1 && sm[i * k + t] == sm[i * k + t - 1] && j < nb[i * k + t - 1],
                        "row %lld pos %lld: tie not by index", (long long)i, (long long)t);
            }
            if (j != r[t].j) {
                int near_tie = (t > 0 && fabs(r[t].s - r[t - 1].s) <= 1e-6) ||
                               (t + 1 < n && fabs(r[t].s - r[t + 1].s) <= 1e-6);
                FAIL_IF(!near_tie, "row %lld pos %lld: id %lld, expected %lld (sim %.9f)", (long long)i,
                        (long long)t, (long long)j, (long long)r[t].j, r[t].s);
                FAIL_IF(fabs(cos_ij(x, d, i, j) - r[t].s) > 1e-5, "row %lld pos %lld: tie sim off", (long long)i,
                        (long long)t);
            }
        }
    }
    free(seen);
    ck_assert_msg(!failed, "%s", msg);
}

static void run_exact_case(const float *x, int64_t n, int64_t d, int64_t k, int64_t block_rows)
{
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    o.method = HL_KNN_EXACT;
    o.block_rows = block_rows;
    int64_t *nb = malloc(sizeof(int64_t) * (size_t)(n * k));
    float *sm = malloc(sizeof(float) * (size_t)(n * k));
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    ref_entry *ref = naive_knn(x, n, d);
    check_against_naive(x, n, d, k, nb, sm, ref);
    free(ref);
    free(nb);
    free(sm);
}

/* ---- exact --------------------------------------------------------------- */

START_TEST(test_exact_random)
{
    float *x = random_data(300, 17, 1);
    run_exact_case(x, 300, 17, 10, 0);
    run_exact_case(x, 300, 17, 10, 7); /* many blocks, last one partial */
    run_exact_case(x, 300, 17, 1, 0);
    run_exact_case(x, 300, 17, 300, 64); /* k = N */
    free(x);
}
END_TEST

START_TEST(test_exact_negative_sims)
{
    /* Two antipodal groups: half of every list is negative. */
    const int64_t n = 60, d = 5;
    float *x = random_data(n, d, 2);
    for (int64_t i = 0; i < n; i++)
        x[i * d] += (i % 2) ? -4.0f : 4.0f;
    run_exact_case(x, n, d, n, 0);
    run_exact_case(x, n, d, 40, 3);
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = n;
    int64_t nb[60 * 60];
    float sm[60 * 60];
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    ck_assert(sm[n - 1] < 0.0f);
    free(x);
}
END_TEST

START_TEST(test_exact_duplicates)
{
    /* 40 distinct vectors, each repeated 3 times (scaled differently, same
     * direction) at scattered rows: ties everywhere. */
    const int64_t base = 40, n = 120, d = 8;
    float *b = random_data(base, d, 3);
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < d; c++)
            x[i * d + c] = b[((i * 7) % base) * d + c];
    run_exact_case(x, n, d, 10, 0);
    run_exact_case(x, n, d, 3, 5);
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = 5;
    int64_t nb[120 * 5];
    float sm[120 * 5];
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    for (int64_t i = 0; i < n; i++) {
        /* Self first, then its two copies in increasing index order, with
         * similarity 1 (copies of identical rows are identical after
         * normalisation). */
        ck_assert_int_eq(nb[i * 5], i);
        int64_t c1 = nb[i * 5 + 1], c2 = nb[i * 5 + 2];
        ck_assert_int_eq(c1 % base, i % base);
        ck_assert_int_eq(c2 % base, i % base);
        ck_assert_int_lt(c1, c2);
        ck_assert(fabsf(sm[i * 5 + 1] - 1.0f) < 1e-6f && sm[i * 5 + 1] <= 1.0f);
    }
    free(b);
    free(x);
}
END_TEST

START_TEST(test_exact_thread_and_block_invariance)
{
    const int64_t n = 700, d = 33, k = 12;
    float *x = clustered_data(n, d, 20, 0.3, 4);
    int64_t *nb[4];
    float *sm[4];
    const int threads[4] = {1, 2, 3, 1};
    const int64_t blocks[4] = {0, 0, 0, 50};
    for (int r = 0; r < 4; r++) {
        hl_knn_options o;
        hl_knn_options_init(&o, sizeof o);
        o.k = k;
        o.method = HL_KNN_EXACT;
        o.num_threads = threads[r];
        o.block_rows = blocks[r];
        nb[r] = malloc(sizeof(int64_t) * (size_t)(n * k));
        sm[r] = malloc(sizeof(float) * (size_t)(n * k));
        ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb[r], sm[r]), HL_OK);
    }
    for (int r = 1; r < 4; r++) {
        ck_assert(memcmp(nb[0], nb[r], sizeof(int64_t) * (size_t)(n * k)) == 0);
        ck_assert(memcmp(sm[0], sm[r], sizeof(float) * (size_t)(n * k)) == 0);
    }
    /* sims may be NULL */
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    int64_t *nb2 = malloc(sizeof(int64_t) * (size_t)(n * k));
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb2, NULL), HL_OK);
    ck_assert(memcmp(nb[0], nb2, sizeof(int64_t) * (size_t)(n * k)) == 0);
    free(nb2);
    for (int r = 0; r < 4; r++) {
        free(nb[r]);
        free(sm[r]);
    }
    free(x);
}
END_TEST

START_TEST(test_topk_heap)
{
    /* The heap keeps the kk best by (sim desc, id asc) for any arrival order. */
    float hs[5];
    int64_t hi[5];
    const float s[12] = {0.5f, 0.9f, 0.5f, 0.1f, 0.9f, -0.3f, 0.7f, 0.5f, 0.2f, 0.9f, 0.0f, 0.7f};
    const int64_t id[12] = {4, 9, 2, 0, 3, 7, 11, 1, 6, 8, 5, 10};
    hli_topk_init(hs, hi, 5);
    for (int t = 0; t < 12; t++)
        hli_topk_push(hs, hi, 5, s[t], id[t]);
    int64_t oi[5];
    float os[5];
    hli_topk_sorted(hs, hi, 5, oi, os);
    const int64_t want[5] = {3, 8, 9, 10, 11};
    for (int t = 0; t < 5; t++)
        ck_assert_int_eq(oi[t], want[t]);
    /* Fewer candidates than slots: -1 / 0 fill. */
    hli_topk_init(hs, hi, 5);
    hli_topk_push(hs, hi, 5, 0.3f, 2);
    hli_topk_push(hs, hi, 5, 1.5f, 1); /* clamped to 1 */
    hli_topk_sorted(hs, hi, 5, oi, os);
    ck_assert_int_eq(oi[0], 1);
    ck_assert(os[0] == 1.0f);
    ck_assert_int_eq(oi[1], 2);
    ck_assert_int_eq(oi[2], -1);
    ck_assert(os[4] == 0.0f);
}
END_TEST

/* ---- bad input ------------------------------------------------------------ */

static void expect_err(hl_status got, hl_status want, const char *needle)
{
    ck_assert_int_eq(got, want);
    ck_assert_msg(strstr(hl_last_error(), needle) != NULL, "message \"%s\" lacks \"%s\"", hl_last_error(), needle);
}

START_TEST(test_bad_input)
{
    const int64_t n = 20, d = 4;
    float *x = random_data(n, d, 5);
    int64_t nb[20 * 20];
    float sm[20 * 20];
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = 3;
    expect_err(hl_knn_search(NULL, n, d, &o, nb, sm), HL_EINVAL, "x is NULL");
    expect_err(hl_knn_search(x, n, d, &o, NULL, sm), HL_EINVAL, "nbrs is NULL");
    expect_err(hl_knn_search(x, 0, d, &o, nb, sm), HL_EINVAL, "n = 0");
    expect_err(hl_knn_search(x, n, 0, &o, nb, sm), HL_EINVAL, "d = 0");
    expect_err(hl_knn_search(x, -5, d, &o, nb, sm), HL_EINVAL, "n = -5");
    o.k = 0;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "k = 0");
    o.k = n + 1;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "k = 21");
    o.k = 3;
    /* 2^62 x 4 floats overflows: fails before touching x or allocating. */
    expect_err(hl_knn_search(x, (int64_t)1 << 62, 4, &o, nb, sm), HL_ERANGE, "too large");
    expect_err(hl_knn_search(x, 4, (int64_t)1 << 62, &o, nb, sm), HL_ERANGE, "too large");
    /* Fits memory sizes but not a BLAS int: refused before reading x. */
    expect_err(hl_knn_search(x, (int64_t)1 << 40, 1, &o, nb, sm), HL_ERANGE, "BLAS int range");
    o.method = 7;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "method = 7");
    o.method = HL_KNN_AUTO;
    o.num_threads = -1;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "num_threads");
    o.num_threads = 0;
    o.target_recall = 1.5;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "target_recall");
    o.target_recall = NAN;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "target_recall");
    o.target_recall = 0.9;
    o.nlist = n + 1;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "nlist");
    o.nlist = 0;
    o.nprobe = -2;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "nprobe");
    o.nprobe = 0;
    o.block_rows = -1;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "block_rows");
    o.block_rows = 0;
    o.struct_size = 3;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "struct_size");
    hl_knn_options_init(&o, sizeof o);
    o.k = 3;
    /* Non-finite and zero rows name the row. */
    x[3 * d + 2] = NAN;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "row 3");
    x[3 * d + 2] = INFINITY;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "row 3");
    x[3 * d + 2] = 0.5f;
    for (int64_t c = 0; c < d; c++)
        x[11 * d + c] = 0.0f;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "row 11");
    o.method = HL_KNN_APPROX;
    expect_err(hl_knn_search(x, n, d, &o, nb, sm), HL_EINVAL, "row 11");
    x[11 * d] = 1.0f;
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    /* NULL options = defaults (k = 10). */
    ck_assert_int_eq(hl_knn_search(x, n, d, NULL, nb, sm), HL_OK);
    ck_assert_int_eq(nb[10], 1);
    ck_assert_int_eq(hl_knn_options_init(NULL, sizeof(hl_knn_options)), HL_EINVAL);
    free(x);
}
END_TEST

/* ---- approximate ----------------------------------------------------------- */

/* Recall of approximate lists against exact ones over the k-1 true
 * neighbours (self excluded: it is always right). */
static double recall_vs(const int64_t *approx, const int64_t *exact, int64_t n, int64_t k)
{
    int64_t hit = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 1; t < k; t++)
            for (int64_t u = 1; u < k; u++)
                if (approx[i * k + t] == exact[i * k + u]) {
                    hit++;
                    break;
                }
    return (double)hit / (double)(n * (k - 1));
}

static void check_lists_valid(const int64_t *nb, const float *sm, int64_t n, int64_t k)
{
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(nb[i * k], i);
        for (int64_t t = 1; t < k; t++) {
            ck_assert(nb[i * k + t] >= 0 && nb[i * k + t] < n && nb[i * k + t] != i);
            ck_assert(sm[i * k + t] <= sm[i * k + t - 1]);
        }
    }
}

static double approx_recall(const float *x, int64_t n, int64_t d, int64_t k, int64_t nlist, int64_t nprobe,
                            int threads, int64_t **out_nb)
{
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    o.method = HL_KNN_EXACT;
    int64_t *ex = malloc(sizeof(int64_t) * (size_t)(n * k));
    int64_t *ap = malloc(sizeof(int64_t) * (size_t)(n * k));
    float *sm = malloc(sizeof(float) * (size_t)(n * k));
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, ex, NULL), HL_OK);
    o.method = HL_KNN_APPROX;
    o.nlist = nlist;
    o.nprobe = nprobe;
    o.num_threads = threads;
    o.seed = 42;
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, ap, sm), HL_OK);
    check_lists_valid(ap, sm, n, k);
    double r = recall_vs(ap, ex, n, k);
    free(ex);
    free(sm);
    if (out_nb)
        *out_nb = ap;
    else
        free(ap);
    return r;
}

static float *load_omniglot(int64_t *n, int64_t *d)
{
    const char *dirs[1] = {HL_DATA_DIR "/omniglot"};
    for (int t = 0; t < 1; t++) {
        char p1[512], p2[512];
        snprintf(p1, sizeof p1, "%s/train_features.npy", dirs[t]);
        snprintf(p2, sizeof p2, "%s/test_features.npy", dirs[t]);
        if (access(p1, R_OK) != 0 || access(p2, R_OK) != 0)
            continue;
        float *a = NULL, *b = NULL;
        int64_t na, da, nb, db;
        ck_assert_int_eq(hl_npy_read_f32(p1, &a, &na, &da), HL_OK);
        ck_assert_int_eq(hl_npy_read_f32(p2, &b, &nb, &db), HL_OK);
        ck_assert_int_eq(da, db);
        float *x = malloc(sizeof(float) * (size_t)((na + nb) * da));
        memcpy(x, a, sizeof(float) * (size_t)(na * da));
        memcpy(x + na * da, b, sizeof(float) * (size_t)(nb * da));
        hl_free(a);
        hl_free(b);
        *n = na + nb;
        *d = da;
        return x;
    }
    return NULL;
}

START_TEST(test_approx_real_features)
{
    int64_t n, d;
    float *x = load_omniglot(&n, &d);
    ck_assert_msg(x != NULL, "bundled data missing: %s/omniglot/{train,test}_features.npy", HL_DATA_DIR);
    ck_assert_int_eq(n, 6600 + 6580);
    double r = approx_recall(x, n, d, 10, 64, 0, 0, NULL);
    ck_assert_msg(r >= 0.95, "recall@10 on omniglot = %.4f", r);
    free(x);
}
END_TEST

START_TEST(test_approx_clustered)
{
    const int64_t n = 8000, d = 32, k = 10;
    float *x = clustered_data(n, d, 100, 0.4, 6);
    int64_t *a1 = NULL, *a2 = NULL;
    double r1 = approx_recall(x, n, d, k, 0, 0, 1, &a1);
    ck_assert_msg(r1 >= 0.95, "recall@10 clustered, defaults = %.4f", r1);
    /* Same seed, other thread count: identical lists. */
    double r2 = approx_recall(x, n, d, k, 0, 0, 2, &a2);
    ck_assert(r1 == r2);
    ck_assert(memcmp(a1, a2, sizeof(int64_t) * (size_t)(n * k)) == 0);
    free(a1);
    free(a2);
    free(x);
}
END_TEST

START_TEST(test_approx_full_probe_is_exact)
{
    /* nprobe = nlist scans every cell: the result equals exact search. */
    const int64_t n = 900, d = 12, k = 7;
    float *x = random_data(n, d, 7);
    double r = approx_recall(x, n, d, k, 9, 9, 0, NULL);
    ck_assert(r == 1.0);
    /* small n, k = n and k = 1 work too */
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.method = HL_KNN_APPROX;
    o.k = 1;
    int64_t nb[900 * 7];
    float sm[900 * 7];
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(nb[i], i);
    o.k = 7;
    ck_assert_int_eq(hl_knn_search(x, 7, d, &o, nb, sm), HL_OK);
    check_lists_valid(nb, sm, 7, 7);
    free(x);
}
END_TEST

static int ivf_logged;
static void log_cb(hl_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    if (strstr(msg, "knn ivf:") != NULL)
        ivf_logged = 1;
}

START_TEST(test_auto_dispatch)
{
    /* AUTO: exact for n <= auto_threshold, IVF above (seen through the log). */
    const int64_t n = 500, d = 8, k = 5;
    float *x = random_data(n, d, 8);
    int64_t *a = malloc(sizeof(int64_t) * (size_t)(n * k));
    int64_t *b = malloc(sizeof(int64_t) * (size_t)(n * k));
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    ck_assert_int_eq(o.method, HL_KNN_AUTO);
    o.k = k;
    hl_set_log_callback(log_cb, NULL, HL_LOG_DEBUG);
    ivf_logged = 0;
    o.auto_threshold = n;
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, a, NULL), HL_OK);
    ck_assert_int_eq(ivf_logged, 0);
    o.auto_threshold = n - 1;
    o.nlist = 4;
    o.nprobe = 4; /* every cell: equal to exact */
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, b, NULL), HL_OK);
    ck_assert_int_eq(ivf_logged, 1);
    hl_set_log_callback(NULL, NULL, HL_LOG_ERROR);
    ck_assert(memcmp(a, b, sizeof(int64_t) * (size_t)(n * k)) == 0);
    free(a);
    free(b);
    free(x);
}
END_TEST

/* ---- NN-descent -------------------------------------------------------------- */

/* Exact lists and NN-descent lists (method HL_KNN_NNDESCENT, @p threads) of x;
 * checks the contract every method keeps and returns the recall. */
static double nndescent_recall(const float *x, int64_t n, int64_t d, int64_t k, int threads, int64_t **out_nb,
                               float **out_sm)
{
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.k = k;
    o.method = HL_KNN_EXACT;
    int64_t *ex = malloc(sizeof(int64_t) * (size_t)(n * k));
    int64_t *nb = malloc(sizeof(int64_t) * (size_t)(n * k));
    float *sm = malloc(sizeof(float) * (size_t)(n * k));
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, ex, NULL), HL_OK);
    o.method = HL_KNN_NNDESCENT;
    o.num_threads = threads;
    o.seed = 42;
    ck_assert_int_eq(hl_knn_search(x, n, d, &o, nb, sm), HL_OK);
    /* Self first with 1, ids valid and distinct, sorted by decreasing
     * similarity (ties by id), similarities the cosines of the pairs. */
    int failed = 0;
    char msg[256] = "";
    unsigned char *seen = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n && !failed; i++) {
        FAIL_IF(nb[i * k] != i || sm[i * k] != 1.0f, "row %lld: self not first with sim 1", (long long)i);
        for (int64_t t = 1; t < k && !failed; t++) {
            const int64_t j = nb[i * k + t];
            FAIL_IF(j < 0 || j >= n || j == i, "row %lld pos %lld: id %lld", (long long)i, (long long)t, (long long)j);
            if (failed)
                break;
            FAIL_IF(seen[j], "row %lld: id %lld twice", (long long)i, (long long)j);
            seen[j] = 1;
            FAIL_IF(sm[i * k + t] > sm[i * k + t - 1], "row %lld pos %lld: not sorted", (long long)i, (long long)t);
            FAIL_IF(t > 1 && sm[i * k + t] == sm[i * k + t - 1] && j < nb[i * k + t - 1],
                    "row %lld pos %lld: tie not by index", (long long)i, (long long)t);
            FAIL_IF(fabs(sm[i * k + t] - cos_ij(x, d, i, j)) > 1e-5, "row %lld pos %lld: sim %g is not the cosine",
                    (long long)i, (long long)t, (double)sm[i * k + t]);
        }
        for (int64_t t = 1; t < k; t++)
            if (nb[i * k + t] >= 0 && nb[i * k + t] < n)
                seen[nb[i * k + t]] = 0;
    }
    free(seen);
    ck_assert_msg(!failed, "%s", msg);
    double r = recall_vs(nb, ex, n, k);
    free(ex);
    if (out_nb)
        *out_nb = nb;
    else
        free(nb);
    if (out_sm)
        *out_sm = sm;
    else
        free(sm);
    return r;
}

START_TEST(test_nndescent_recall_and_threads)
{
    /* 6000 points in 200 clusters of 32 dims: the descent runs (n is above
     * the exact fallback).  Its first graph alone (IVF probing one cell plus
     * random entries, no iteration) reaches 0.966 here, 0.304 on the uniform
     * data below and 0.650 on omniglot; the descent reaches 1.0, 1.0 and
     * 0.9999, so the thresholds fail if the joins are broken. */
    const int64_t n = 6000, d = 32, k = 10;
    float *x = clustered_data(n, d, 200, 0.5, 11);
    int64_t *a1 = NULL, *a2 = NULL;
    float *s1 = NULL, *s2 = NULL;
    const double r1 = nndescent_recall(x, n, d, k, 1, &a1, &s1);
    ck_assert_msg(r1 >= 0.99, "NN-descent recall@10 = %.4f", r1);
    /* Two threads: bit-identical lists and similarities. */
    const double r2 = nndescent_recall(x, n, d, k, 2, &a2, &s2);
    ck_assert(r1 == r2);
    ck_assert(memcmp(a1, a2, sizeof(int64_t) * (size_t)(n * k)) == 0);
    ck_assert(memcmp(s1, s2, sizeof(float) * (size_t)(n * k)) == 0);
    free(a1);
    free(a2);
    free(s1);
    free(s2);
    free(x);
}
END_TEST

START_TEST(test_nndescent_uniform)
{
    /* Uniform random data in 16 dims, no cluster structure: the hard case
     * for a neighbour-of-neighbour search. */
    const int64_t n = 4000, d = 16, k = 10;
    float *x = random_data(n, d, 12);
    const double r = nndescent_recall(x, n, d, k, 0, NULL, NULL);
    ck_assert_msg(r >= 0.98, "NN-descent recall@10 on uniform data = %.4f", r);
    free(x);
}
END_TEST

START_TEST(test_nndescent_real_features)
{
    int64_t n, d;
    float *x = load_omniglot(&n, &d);
    ck_assert_msg(x != NULL, "bundled data missing: %s/omniglot/{train,test}_features.npy", HL_DATA_DIR);
    const double r = nndescent_recall(x, n, d, 10, 0, NULL, NULL);
    ck_assert_msg(r >= 0.99, "NN-descent recall@10 on omniglot = %.4f", r);
    free(x);
}
END_TEST

START_TEST(test_nndescent_small_and_bad_input)
{
    /* Small inputs take the exact path: identical to exact search, also for
     * k = n and k = 1. */
    const int64_t n = 300, d = 9;
    float *x = random_data(n, d, 13);
    int64_t *a = malloc(sizeof(int64_t) * (size_t)(n * n));
    int64_t *b = malloc(sizeof(int64_t) * (size_t)(n * n));
    float *sa = malloc(sizeof(float) * (size_t)(n * n));
    float *sb = malloc(sizeof(float) * (size_t)(n * n));
    const int64_t ks[3] = {10, n, 1};
    for (int c = 0; c < 3; c++) {
        hl_knn_options o;
        hl_knn_options_init(&o, sizeof o);
        o.k = ks[c];
        o.method = HL_KNN_EXACT;
        ck_assert_int_eq(hl_knn_search(x, n, d, &o, a, sa), HL_OK);
        o.method = HL_KNN_NNDESCENT;
        ck_assert_int_eq(hl_knn_search(x, n, d, &o, b, sb), HL_OK);
        ck_assert(memcmp(a, b, sizeof(int64_t) * (size_t)(n * ks[c])) == 0);
        ck_assert(memcmp(sa, sb, sizeof(float) * (size_t)(n * ks[c])) == 0);
    }
    /* k above n, options out of range, a method past the last one. */
    hl_knn_options o;
    hl_knn_options_init(&o, sizeof o);
    o.method = HL_KNN_NNDESCENT;
    o.k = n + 1;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "k = 301");
    o.k = 0;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "k = 0");
    o.k = 5;
    o.nprobe = -1;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "nprobe");
    o.nprobe = 0;
    o.nlist = n + 1;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "nlist");
    o.nlist = 0;
    o.num_threads = -3;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "num_threads");
    o.num_threads = 0;
    o.method = HL_KNN_NNDESCENT + 1;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "method = 4");
    /* A zero row is refused whatever the method. */
    o.method = HL_KNN_NNDESCENT;
    for (int64_t c = 0; c < d; c++)
        x[17 * d + c] = 0.0f;
    expect_err(hl_knn_search(x, n, d, &o, a, sa), HL_EINVAL, "row 17");
    free(a);
    free(b);
    free(sa);
    free(sb);
    free(x);
}
END_TEST

static Suite *knn_suite(void)
{
    Suite *s = suite_create("knn");
    TCase *tc = tcase_create("exact");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_topk_heap);
    tcase_add_test(tc, test_exact_random);
    tcase_add_test(tc, test_exact_negative_sims);
    tcase_add_test(tc, test_exact_duplicates);
    tcase_add_test(tc, test_exact_thread_and_block_invariance);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);
    TCase *ta = tcase_create("approx");
    /* Seconds in a Release build; generous for sanitizers and a busy machine. */
    tcase_set_timeout(ta, 600);
    tcase_add_test(ta, test_approx_real_features);
    tcase_add_test(ta, test_approx_clustered);
    tcase_add_test(ta, test_approx_full_probe_is_exact);
    tcase_add_test(ta, test_auto_dispatch);
    suite_add_tcase(s, ta);
    TCase *tn = tcase_create("nndescent");
    tcase_set_timeout(tn, 600);
    tcase_add_test(tn, test_nndescent_recall_and_threads);
    tcase_add_test(tn, test_nndescent_uniform);
    tcase_add_test(tn, test_nndescent_real_features);
    tcase_add_test(tn, test_nndescent_small_and_bad_input);
    suite_add_tcase(s, tn);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(knn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
