/* Collections (lib/collection/): the first batch equals hl_cluster, adds keep
 * exact neighbour lists and stable ids, removals, save/load round trips and
 * refusals, bad input leaving the collection untouched. */
#include "hilander.h"
#include "test_helpers.h"
#include "collection/collection_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* 1 if labels a and b (n entries) describe the same partition. */
static int same_partition(const int64_t *a, const int64_t *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n && j < i + 400; j++)
            if ((a[i] == a[j]) != (b[i] == b[j]))
                return 0;
    /* full check via a map of first occurrences */
    int64_t *ma = malloc((size_t)n * sizeof *ma), *mb = malloc((size_t)n * sizeof *mb);
    ck_assert(ma && mb);
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++) {
        ma[i] = -1;
        mb[i] = -1;
        for (int64_t j = 0; j < i; j++)
            if (a[j] == a[i]) {
                ma[i] = j;
                break;
            }
        for (int64_t j = 0; j < i; j++)
            if (b[j] == b[i]) {
                mb[i] = j;
                break;
            }
        ok = ma[i] == mb[i];
    }
    free(ma);
    free(mb);
    return ok;
}

/* The collection's labels of ids [0, n). */
static int64_t *coll_labels(const hl_collection *c)
{
    const int64_t n = hl_collection_id_bound(c);
    int64_t *l = malloc((size_t)(n > 0 ? n : 1) * sizeof *l);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(hl_collection_labels(c, l, NULL), HL_OK);
    return l;
}

/* The internal reverse lists mirror the neighbour lists exactly. */
static void check_reverse_lists(const hl_collection *c)
{
    for (int64_t i = 0; i < c->n; i++) {
        for (int64_t t = 0; t < c->k; t++) {
            const int64_t e = c->knn[i * c->k + t];
            if (e < 0 || e == i)
                continue;
            ck_assert_msg(c->alive[i] && c->alive[e], "dead point in a list: %lld -> %lld", (long long)i,
                          (long long)e);
            int found = 0;
            for (int32_t u = 0; u < c->rev[e].n; u++)
                found += c->rev[e].id[u] == i;
            ck_assert_msg(found == 1, "rev[%lld] holds %lld %d times", (long long)e, (long long)i, found);
        }
        for (int32_t u = 0; u < c->rev[i].n; u++) {
            const int64_t v = c->rev[i].id[u];
            int found = 0;
            for (int64_t t = 0; t < c->k; t++)
                found += c->knn[v * c->k + t] == i;
            ck_assert_msg(found == 1 && c->alive[v], "rev[%lld] holds %lld, whose list lacks it", (long long)i,
                          (long long)v);
        }
    }
}

/* Invariants: every live point in a live cluster, sizes add up, merged
 * clusters point at live ones, representatives are members. */
static void check_invariants(const hl_collection *c)
{
    const int64_t n = hl_collection_id_bound(c), nc = hl_collection_cluster_bound(c);
    int64_t *lab = coll_labels(c);
    float *conf = malloc((size_t)(n > 0 ? n : 1) * sizeof *conf);
    int64_t *size = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *size);
    int64_t *rep = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *rep);
    int64_t *into = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *into);
    int64_t *count = calloc((size_t)(nc > 0 ? nc : 1), sizeof *count);
    ck_assert(conf && size && rep && into && count);
    ck_assert_int_eq(hl_collection_labels(c, NULL, conf), HL_OK);
    ck_assert_int_eq(hl_collection_clusters(c, size, rep, into), HL_OK);
    int64_t live = 0, clusters = 0;
    for (int64_t i = 0; i < n; i++) {
        if (lab[i] < 0) {
            ck_assert_float_eq(conf[i], 0.0f);
            continue;
        }
        live++;
        ck_assert_int_lt(lab[i], nc);
        ck_assert_int_eq(into[lab[i]], lab[i]);
        ck_assert(conf[i] >= 0.0f && conf[i] <= 1.0f);
        count[lab[i]]++;
    }
    ck_assert_int_eq(live, hl_collection_num_points(c));
    for (int64_t a = 0; a < nc; a++) {
        ck_assert_int_eq(count[a], size[a]);
        if (into[a] == a) {
            clusters++;
            ck_assert_int_gt(size[a], 0);
            ck_assert_int_ge(rep[a], 0);
            ck_assert_int_eq(lab[rep[a]], a);
        } else {
            ck_assert_int_eq(size[a], 0);
            ck_assert_int_eq(rep[a], -1);
            ck_assert(into[a] == -1 || (into[a] != a && into[into[a]] == into[a]));
        }
    }
    ck_assert_int_eq(clusters, hl_collection_num_clusters(c));
    check_reverse_lists(c);
    /* internal: every point's cluster is its decode tree's, through the root's id */
    for (int64_t i = 0; i < n; i++) {
        if (lab[i] < 0)
            continue;
        int64_t r = i, steps = 0;
        while (c->parent[r] >= 0 && steps++ <= n)
            r = c->parent[r];
        ck_assert_int_eq(c->root[i], r);
        ck_assert_int_ge(c->tree_id[r], 0);
        ck_assert_int_eq(hli_coll_find(c, c->tree_id[r]), lab[i]);
    }
    /* internal: the trees' sizes and roots as the update keeps them (the
     * linkage merge reads them), against a count of the points by root;
     * only roots carry ids */
    int64_t *tcount = calloc((size_t)(nc > 0 ? nc : 1), sizeof *tcount);
    int64_t *pts = malloc((size_t)(n > 0 ? n : 1) * sizeof *pts);
    ck_assert(tcount && pts);
    for (int64_t i = 0; i < n; i++)
        if (lab[i] >= 0)
            tcount[c->tree_id[c->root[i]]]++;
    for (int64_t i = 0; i < n; i++) {
        if (lab[i] < 0 || c->parent[i] >= 0) {
            ck_assert_int_eq(c->tree_id[i], -1);
            continue;
        }
        const int64_t t = c->tree_id[i];
        ck_assert_int_eq(c->c_root[t], i);
        ck_assert_int_eq(c->t_size[t], tcount[t]);
        ck_assert_int_eq(hli_coll_tree_points(c, i, pts), tcount[t]);
    }
    free(tcount);
    free(pts);
    free(lab);
    free(conf);
    free(size);
    free(rep);
    free(into);
    free(count);
}

static hl_cluster_options default_options(void)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    return o;
}

/* The first batch of an empty collection is hl_cluster (one level + merge). */
static void first_batch_equals_cluster(int32_t score, hl_model *model)
{
    int64_t *truth;
    const int64_t nc = 40, m = 30, d = 16, n = nc * m;
    float *x = th_blobs(nc, m, d, 1.2, 7, &truth);
    hl_cluster_options o = default_options();
    o.score = score;
    o.max_levels = 1;
    hl_clustering *b = NULL;
    ck_assert_int_eq(hl_cluster(model, x, n, d, NULL, &o, &b), HL_OK);
    int64_t *lb = malloc((size_t)n * sizeof *lb);
    float *cb = malloc((size_t)n * sizeof *cb);
    ck_assert(lb && cb);
    ck_assert_int_eq(hl_clustering_labels(b, -1, lb), HL_OK);
    ck_assert_int_eq(hl_clustering_confidence(b, cb), HL_OK);
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(model, d, &o, &c), HL_OK);
    int64_t first = -1;
    hl_collection_stats s;
    ck_assert_int_eq(hl_collection_stats_init(&s, sizeof s), HL_OK);
    ck_assert_msg(hl_collection_add(c, x, n, d, &first, &s) == HL_OK, "%s", hl_last_error());
    ck_assert_int_eq(first, 0);
    ck_assert_int_eq(s.added, n);
    ck_assert_int_eq(s.joined, 0);
    int64_t *lc = coll_labels(c);
    float *cc = malloc((size_t)n * sizeof *cc);
    ck_assert_ptr_nonnull(cc);
    ck_assert_int_eq(hl_collection_labels(c, NULL, cc), HL_OK);
    ck_assert_msg(same_partition(lb, lc, n), "score %d: the first batch differs from hl_cluster", (int)score);
    for (int64_t i = 0; i < n; i++)
        ck_assert_float_eq(cb[i], cc[i]);
    /* one cluster id per batch cluster, all started by the call */
    int64_t nb = 0;
    ck_assert_int_eq(hl_clustering_level_stats(b, -1, NULL, NULL, NULL, &nb), HL_OK);
    ck_assert_int_eq(hl_collection_num_clusters(c), nb);
    ck_assert_int_ge(s.started, nb);
    check_invariants(c);
    hl_collection_free(c);
    hl_clustering_free(b);
    free(lb);
    free(cb);
    free(lc);
    free(cc);
    free(x);
    free(truth);
}

START_TEST(test_first_batch_equals_cluster)
{
    first_batch_equals_cluster(HL_SCORE_SNN, NULL);
    first_batch_equals_cluster(HL_SCORE_SIM, NULL);
    hl_model *model = th_untrained_model(16, 32, 3);
    first_batch_equals_cluster(HL_SCORE_PROB, model);
    first_batch_equals_cluster(HL_SCORE_SNN, model);
    hl_model_free(model);
}
END_TEST

/* The exact k-NN lists of the live rows (by id), as the library's search
 * finds them on those rows alone. */
static void check_lists_exact(const hl_collection *c, const float *x_by_id, int64_t d, int64_t k)
{
    const int64_t n = hl_collection_id_bound(c);
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    float *rows = malloc((size_t)(n * d) * sizeof *rows);
    ck_assert(ids && rows);
    int64_t m = 0;
    int64_t *lab = coll_labels(c);
    for (int64_t i = 0; i < n; i++)
        if (lab[i] >= 0) {
            memcpy(rows + m * d, x_by_id + i * d, (size_t)d * sizeof(float));
            ids[m++] = i;
        }
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ko.method = HL_KNN_EXACT;
    int64_t *nb = malloc((size_t)(m * k) * sizeof *nb);
    float *ns = malloc((size_t)(m * k) * sizeof *ns);
    ck_assert(nb && ns);
    ck_assert_int_eq(hl_knn_search(rows, m, d, &ko, nb, ns), HL_OK);
    for (int64_t r = 0; r < m; r++) {
        const int64_t i = ids[r];
        for (int64_t t = 0; t < k; t++)
            ck_assert_msg(c->knn[i * k + t] == ids[nb[r * k + t]], "point %lld entry %lld: %lld, exact %lld",
                          (long long)i, (long long)t, (long long)c->knn[i * k + t], (long long)ids[nb[r * k + t]]);
    }
    free(ids);
    free(rows);
    free(lab);
    free(nb);
    free(ns);
}

/* Adds in batches: the lists stay the exact k-NN lists of all points, and
 * no existing point changes cluster except by a reported merge. */
START_TEST(test_add_batches_stable_ids)
{
    int64_t *truth;
    const int64_t nc = 30, m = 40, d = 12, n = nc * m, k = 10;
    float *x = th_blobs(nc, m, d, 1.0, 11, &truth);
    hl_status st;
    float *xn = hli_normalized_copy(x, n, d, &st);
    ck_assert_ptr_nonnull(xn);
    hl_collection *c = NULL;
    hl_cluster_options o = default_options();
    ck_assert_int_eq(hl_collection_create(NULL, d, &o, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, x, n / 2, d, NULL, NULL), HL_OK);
    check_invariants(c);
    int64_t done = n / 2, adds = 0;
    while (done < n) {
        const int64_t b = n - done < 97 ? n - done : 97;
        int64_t *before = coll_labels(c);
        const int64_t ncb = hl_collection_cluster_bound(c);
        int64_t *into_before = malloc((size_t)(ncb > 0 ? ncb : 1) * sizeof *into_before);
        ck_assert_ptr_nonnull(into_before);
        ck_assert_int_eq(hl_collection_clusters(c, NULL, NULL, into_before), HL_OK);
        hl_collection_stats s;
        hl_collection_stats_init(&s, sizeof s);
        int64_t first = -1;
        ck_assert_int_eq(hl_collection_add(c, x + done * d, b, d, &first, &s), HL_OK);
        ck_assert_int_eq(first, done);
        ck_assert_int_eq(s.added, b);
        int64_t *after = coll_labels(c);
        int64_t *into = malloc((size_t)hl_collection_cluster_bound(c) * sizeof *into);
        ck_assert_ptr_nonnull(into);
        ck_assert_int_eq(hl_collection_clusters(c, NULL, NULL, into), HL_OK);
        int64_t moved = 0, joined = 0, in_started = 0;
        for (int64_t i = 0; i < done; i++) {
            /* an existing point's id changes only when the forest or the merge moves it */
            moved += after[i] != before[i];
            ck_assert_int_ge(into[before[i]], -1);
        }
        for (int64_t i = done; i < done + b; i++) {
            const int held = after[i] < ncb && into_before[after[i]] == after[i];
            joined += held;
            in_started += !held;
        }
        free(into_before);
        ck_assert_int_eq(moved, s.moved);
        ck_assert_int_eq(joined + in_started, b);
        ck_assert_int_eq(joined, s.joined);
        free(before);
        free(after);
        free(into);
        done += b;
        adds++;
        check_invariants(c);
    }
    ck_assert_int_gt(adds, 3);
    check_lists_exact(c, xn, d, k);
    /* the same points clustered in one batch */
    hl_clustering *bc = NULL;
    ck_assert_int_eq(hl_cluster(NULL, x, n, d, NULL, &o, &bc), HL_OK);
    int64_t *lb = malloc((size_t)n * sizeof *lb);
    ck_assert_ptr_nonnull(lb);
    ck_assert_int_eq(hl_clustering_labels(bc, -1, lb), HL_OK);
    int64_t *lc = coll_labels(c);
    /* exact lists, the batch decode's forest and linkage components: the
     * same partition as one batch clustering */
    ck_assert_msg(same_partition(lb, lc, n), "the incremental clustering differs from the batch one");
    free(lb);
    free(lc);
    hl_clustering_free(bc);
    hl_collection_free(c);
    free(xn);
    free(x);
    free(truth);
}
END_TEST

/* Removing points: the others keep their clusters, lists are refilled with
 * the exact neighbours among the remaining points, emptied clusters say -1. */
START_TEST(test_remove)
{
    int64_t *truth;
    const int64_t nc = 20, m = 25, d = 10, n = nc * m, k = 10;
    float *x = th_blobs(nc, m, d, 1.0, 5, &truth);
    hl_status st;
    float *xn = hli_normalized_copy(x, n, d, &st);
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(NULL, d, NULL, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, x, n, d, NULL, NULL), HL_OK);
    int64_t *before = coll_labels(c);
    /* every 7th point, and then every point of point 3's cluster */
    int64_t del[200], nd = 0;
    for (int64_t i = 0; i < n; i += 7)
        del[nd++] = i;
    hl_collection_stats s;
    hl_collection_stats_init(&s, sizeof s);
    ck_assert_int_eq(hl_collection_remove(c, del, nd, &s), HL_OK);
    ck_assert_int_eq(s.removed, nd);
    ck_assert_int_eq(hl_collection_num_points(c), n - nd);
    int64_t *after = coll_labels(c);
    int64_t *into = malloc((size_t)hl_collection_cluster_bound(c) * sizeof *into);
    ck_assert_int_eq(hl_collection_clusters(c, NULL, NULL, into), HL_OK);
    int64_t moved = 0;
    for (int64_t i = 0; i < n; i++)
        if (i % 7 == 0)
            ck_assert_int_eq(after[i], -1);
        else
            moved += after[i] != before[i];
    ck_assert_int_eq(moved, s.moved);
    ck_assert_int_lt(moved, n / 4); /* most keep their cluster id */
    check_invariants(c);
    check_lists_exact(c, xn, d, k);
    /* the remaining points are clustered as one batch of them would be */
    {
        float *rest = malloc((size_t)(n * d) * sizeof *rest);
        int64_t *lr = malloc((size_t)n * sizeof *lr), *lk = malloc((size_t)n * sizeof *lk), nr = 0;
        ck_assert(rest && lr && lk);
        for (int64_t i = 0; i < n; i++)
            if (i % 7 != 0) {
                memcpy(rest + nr * d, x + i * d, (size_t)d * sizeof *rest);
                lk[nr++] = after[i];
            }
        hl_clustering *bc = NULL;
        ck_assert_int_eq(hl_cluster(NULL, rest, nr, d, NULL, NULL, &bc), HL_OK);
        ck_assert_int_eq(hl_clustering_labels(bc, -1, lr), HL_OK);
        ck_assert(same_partition(lr, lk, nr));
        hl_clustering_free(bc);
        free(rest);
        free(lr);
        free(lk);
    }
    /* bad removals change nothing */
    int64_t bad[2] = {1, 1};
    ck_assert_int_eq(hl_collection_remove(c, bad, 2, NULL), HL_EINVAL);
    bad[0] = 0;
    ck_assert_int_eq(hl_collection_remove(c, bad, 1, NULL), HL_EINVAL);
    bad[0] = n;
    ck_assert_int_eq(hl_collection_remove(c, bad, 1, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_collection_num_points(c), n - nd);
    /* empty one cluster */
    const int64_t target = after[3];
    int64_t all[600], na = 0;
    for (int64_t i = 0; i < n; i++)
        if (after[i] == target)
            all[na++] = i;
    ck_assert_int_eq(hl_collection_remove(c, all, na, NULL), HL_OK);
    free(into);
    into = malloc((size_t)hl_collection_cluster_bound(c) * sizeof *into);
    ck_assert_ptr_nonnull(into);
    ck_assert_int_eq(hl_collection_clusters(c, NULL, NULL, into), HL_OK);
    ck_assert_int_eq(into[target], -1);
    check_invariants(c);
    check_lists_exact(c, xn, d, k);
    /* and add points again: new ids, never reused */
    int64_t first = -1;
    ck_assert_int_eq(hl_collection_add(c, x, 50, d, &first, NULL), HL_OK);
    ck_assert_int_eq(first, n);
    check_invariants(c);
    float *xall = malloc((size_t)((n + 50) * d) * sizeof *xall);
    ck_assert_ptr_nonnull(xall);
    memcpy(xall, xn, (size_t)(n * d) * sizeof *xall);
    memcpy(xall + n * d, xn, (size_t)(50 * d) * sizeof *xall); /* ids >= n are copies of rows 0..49: twins */
    check_lists_exact(c, xall, d, k);
    free(xall);
    free(before);
    free(after);
    free(into);
    hl_collection_free(c);
    free(xn);
    free(x);
    free(truth);
}
END_TEST

static void tmp_path(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/hl_coll_%s_%ld.bin", tag, (long)getpid());
}

static unsigned char *read_all(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*len);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(fread(b, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return b;
}

static void write_all(const char *path, const unsigned char *b, long len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
}

/* Save, load, continue: the loaded collection behaves exactly like the
 * original; damaged and foreign files are refused. */
static void save_load_case(hl_model *model, hl_model *other, int64_t auto_threshold)
{
    int64_t *truth;
    const int64_t nc = 20, m = 30, d = 16, n = nc * m;
    float *x = th_blobs(nc, m, d, 1.1, 9, &truth);
    hl_cluster_options o = default_options();
    o.knn_auto_threshold = auto_threshold;
    hl_collection *c = NULL, *l = NULL;
    ck_assert_int_eq(hl_collection_create(model, d, &o, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, x, n - 100, d, NULL, NULL), HL_OK);
    int64_t del[3] = {4, 50, 51};
    ck_assert_int_eq(hl_collection_remove(c, del, 3, NULL), HL_OK);
    char path[256];
    tmp_path(path, sizeof path, "rt");
    ck_assert_int_eq(hl_collection_save(c, path), HL_OK);
    ck_assert_int_eq(hl_collection_load(path, model, &l), HL_OK);
    int64_t *a = coll_labels(c), *b = coll_labels(l);
    ck_assert_int_eq(hl_collection_id_bound(l), hl_collection_id_bound(c));
    ck_assert_mem_eq(a, b, (size_t)hl_collection_id_bound(c) * sizeof *a);
    check_invariants(l);
    /* both continue identically */
    hl_collection_stats s1, s2;
    hl_collection_stats_init(&s1, sizeof s1);
    hl_collection_stats_init(&s2, sizeof s2);
    ck_assert_int_eq(hl_collection_add(c, x + (n - 100) * d, 100, d, NULL, &s1), HL_OK);
    ck_assert_int_eq(hl_collection_add(l, x + (n - 100) * d, 100, d, NULL, &s2), HL_OK);
    free(a);
    free(b);
    a = coll_labels(c);
    b = coll_labels(l);
    ck_assert_mem_eq(a, b, (size_t)n * sizeof *a);
    ck_assert_int_eq(s1.joined, s2.joined);
    ck_assert_int_eq(s1.merged, s2.merged);
    /* a second save of the same content is byte-identical */
    char path2[256];
    tmp_path(path2, sizeof path2, "rt2");
    ck_assert_int_eq(hl_collection_save(c, path), HL_OK);
    ck_assert_int_eq(hl_collection_save(l, path2), HL_OK);
    long len = 0, len2 = 0;
    unsigned char *f1 = read_all(path, &len), *f2 = read_all(path2, &len2);
    ck_assert_int_eq(len, len2);
    ck_assert_mem_eq(f1, f2, (size_t)len);
    hl_collection *bad = NULL;
    /* truncated at several places */
    for (long cut = 0; cut < len; cut += len / 7 + 1) {
        write_all(path2, f1, cut);
        hl_status st = hl_collection_load(path2, model, &bad);
        ck_assert_msg(st == HL_EFORMAT, "truncated at %ld: %s", cut, hl_last_error());
        ck_assert_ptr_null(bad);
    }
    /* one bit flipped anywhere: checksum or structure */
    for (long pos = 0; pos < len; pos += len / 11 + 1) {
        f1[pos] ^= 0x10;
        write_all(path2, f1, len);
        hl_status st = hl_collection_load(path2, model, &bad);
        ck_assert_msg(st == HL_EFORMAT || st == HL_ERANGE || st == HL_EVERSION || st == HL_EINVAL,
                      "bit flip at %ld: status %d", pos, (int)st);
        ck_assert_ptr_null(bad);
        f1[pos] ^= 0x10;
    }
    /* another model, or none */
    ck_assert_int_eq(hl_collection_load(path, other, &bad), HL_EINVAL);
    ck_assert_ptr_null(bad);
    if (model != NULL) {
        ck_assert_int_eq(hl_collection_load(path, NULL, &bad), HL_EINVAL);
        ck_assert_ptr_null(bad);
    }
    unlink(path);
    unlink(path2);
    free(f1);
    free(f2);
    free(a);
    free(b);
    hl_collection_free(c);
    hl_collection_free(l);
    free(x);
    free(truth);
}

START_TEST(test_save_load)
{
    hl_model *m1 = th_untrained_model(16, 32, 1), *m2 = th_untrained_model(16, 32, 2);
    save_load_case(NULL, m1, 50000);
    save_load_case(m1, m2, 50000);
    save_load_case(NULL, m1, 200); /* with the IVF index */
    hl_model_free(m1);
    hl_model_free(m2);
}
END_TEST

/* Bad input is refused and changes nothing. */
START_TEST(test_bad_input_changes_nothing)
{
    int64_t *truth;
    const int64_t nc = 10, m = 20, d = 8, n = nc * m;
    float *x = th_blobs(nc, m, d, 1.0, 3, &truth);
    hl_collection *c = NULL;
    hl_cluster_options o = default_options();
    o.max_levels = 2;
    ck_assert_int_eq(hl_collection_create(NULL, d, &o, &c), HL_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(hl_collection_create(NULL, 0, NULL, &c), HL_EINVAL);
    hl_model *model = th_untrained_model(d + 1, 16, 1);
    ck_assert_int_eq(hl_collection_create(model, d, NULL, &c), HL_EINVAL);
    ck_assert_int_eq(hl_collection_create(NULL, d, NULL, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, x, n - 20, d, NULL, NULL), HL_OK);
    int64_t *before = coll_labels(c);
    float *bad = malloc((size_t)(20 * d) * sizeof *bad);
    memcpy(bad, x + (n - 20) * d, (size_t)(20 * d) * sizeof *bad);
    bad[5 * d + 2] = NAN;
    ck_assert_int_eq(hl_collection_add(c, bad, 20, d, NULL, NULL), HL_EINVAL);
    ck_assert_ptr_nonnull(strstr(hl_last_error(), "5"));
    bad[5 * d + 2] = INFINITY;
    ck_assert_int_eq(hl_collection_add(c, bad, 20, d, NULL, NULL), HL_EINVAL);
    memset(bad + 5 * d, 0, (size_t)d * sizeof *bad);
    ck_assert_int_eq(hl_collection_add(c, bad, 20, d, NULL, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_collection_add(c, x, 20, d + 1, NULL, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_collection_add(c, x, 0, d, NULL, NULL), HL_EINVAL);
    ck_assert_int_eq(hl_collection_add(c, NULL, 5, d, NULL, NULL), HL_EINVAL);
    hl_collection_stats s;
    ck_assert_int_eq(hl_collection_stats_init(&s, 3), HL_EINVAL);
    ck_assert_int_eq(hl_collection_id_bound(c), n - 20);
    int64_t *after = coll_labels(c);
    ck_assert_mem_eq(before, after, (size_t)(n - 20) * sizeof *before);
    /* the good batch still goes in afterwards, ids continue */
    int64_t first = -1;
    ck_assert_int_eq(hl_collection_add(c, x + (n - 20) * d, 20, d, &first, NULL), HL_OK);
    ck_assert_int_eq(first, n - 20);
    check_invariants(c);
    ck_assert_int_eq(hl_collection_point(c, n, NULL, NULL), HL_EINVAL);
    hl_collection_free(c);
    ck_assert_int_eq(hl_collection_load("/nonexistent/dir/file", NULL, &c), HL_EIO);
    ck_assert_ptr_null(c);
    free(before);
    free(after);
    free(bad);
    hl_model_free(model);
    free(x);
    free(truth);
}
END_TEST

/* Removal with the IVF index on a tiny collection: cells hold fewer real
 * candidates than a heap, and removed points must never fill the gap. */
START_TEST(test_remove_with_index)
{
    int64_t *truth;
    const int64_t nc = 6, m = 8, d = 8, n = nc * m;
    float *x = th_blobs(nc, m, d, 0.3, 5, &truth);
    hl_cluster_options o = default_options();
    o.k = 5;
    o.knn_auto_threshold = 20;
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(NULL, d, &o, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, x, 36, d, NULL, NULL), HL_OK);
    const int64_t ids[5] = {0, 7, 8, 20, 35};
    ck_assert_int_eq(hl_collection_remove(c, ids, 5, NULL), HL_OK);
    check_invariants(c);
    ck_assert_int_eq(hl_collection_add(c, x + 36 * d, n - 36, d, NULL, NULL), HL_OK);
    check_invariants(c);
    hl_collection_free(c);
    free(x);
    free(truth);
}
END_TEST

/* Tiny collections (fewer points than k) and one-at-a-time adds. */
START_TEST(test_small_and_single_adds)
{
    int64_t *truth;
    const int64_t nc = 4, m = 8, d = 6, n = nc * m;
    float *x = th_blobs(nc, m, d, 0.5, 2, &truth);
    hl_status st;
    float *xn = hli_normalized_copy(x, n, d, &st);
    hl_collection *c = NULL;
    ck_assert_int_eq(hl_collection_create(NULL, d, NULL, &c), HL_OK);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(hl_collection_add(c, x + i * d, 1, d, NULL, NULL), HL_OK);
        check_invariants(c);
    }
    check_lists_exact(c, xn, d, 10);
    hl_collection_free(c);
    free(xn);
    free(x);
    free(truth);
}
END_TEST

/* Results do not depend on the thread count. */
START_TEST(test_threads_identical)
{
    int64_t *truth;
    const int64_t nc = 30, m = 30, d = 12, n = nc * m;
    float *x = th_blobs(nc, m, d, 1.2, 13, &truth);
    int64_t *lab[2];
    for (int t = 0; t < 2; t++) {
        hl_cluster_options o = default_options();
        o.num_threads = t + 1;
        o.knn_auto_threshold = 300;
        hl_collection *c = NULL;
        ck_assert_int_eq(hl_collection_create(NULL, d, &o, &c), HL_OK);
        for (int64_t a = 0; a < n; a += 150)
            ck_assert_int_eq(hl_collection_add(c, x + a * d, 150, d, NULL, NULL), HL_OK);
        lab[t] = coll_labels(c);
        hl_collection_free(c);
    }
    ck_assert_mem_eq(lab[0], lab[1], (size_t)n * sizeof(int64_t));
    free(lab[0]);
    free(lab[1]);
    free(x);
    free(truth);
}
END_TEST

/* Many small adds and removals in turn, on overlapping blobs (trees and
 * linkage clusters form, merge and split all the time; rows come back as
 * twins of live points): after every call the collection is consistent, at
 * the end it is one batch clustering of the points it holds, and the
 * cluster ids issued outnumber the point ids (ids are never reused: their
 * arrays must grow on their own). */
START_TEST(test_churn)
{
    int64_t *truth;
    const int64_t nb = 24, m = 30, d = 8, n = nb * m;
    float *x = th_blobs(nb, m, d, 2.5, 29, &truth);
    hl_collection *c = NULL;
    hl_cluster_options o = default_options();
    ck_assert_int_eq(hl_collection_create(NULL, d, &o, &c), HL_OK);
    ck_assert_int_eq(hl_collection_add(c, x, n / 3, d, NULL, NULL), HL_OK);
    /* row_of[id]: the row of x each point id holds */
    const int rounds = 100;
    int64_t *row_of = malloc((size_t)(n + rounds * 40) * sizeof *row_of), *ids = malloc((size_t)(n + rounds * 40) * sizeof *ids);
    ck_assert(row_of && ids);
    for (int64_t i = 0; i < n / 3; i++)
        row_of[i] = i;
    uint64_t rng = 12345;
    int64_t next_row = n / 3, removed_total = 0;
    for (int round = 0; round < rounds; round++) {
        const int64_t b = 5 + (int64_t)(round % 7) * 4;
        int64_t first = -1;
        const int64_t start = next_row % n;
        const int64_t take = start + b <= n ? b : n - start;
        ck_assert_int_eq(hl_collection_add(c, x + start * d, take, d, &first, NULL), HL_OK);
        for (int64_t q = 0; q < take; q++)
            row_of[first + q] = start + q;
        next_row += take;
        check_invariants(c);
        /* remove a few random live points */
        int64_t *lab = coll_labels(c), nl = 0;
        const int64_t bound = hl_collection_id_bound(c);
        for (int64_t i = 0; i < bound; i++)
            if (lab[i] >= 0)
                ids[nl++] = i;
        free(lab);
        const int64_t nr = 3 + (int64_t)(round % 5) * 3;
        for (int64_t t = 0; t < nr && t < nl - 20; t++) { /* a partial shuffle picks nr distinct ids */
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            const int64_t u = t + (int64_t)((rng >> 33) % (uint64_t)(nl - t));
            const int64_t tmp = ids[t];
            ids[t] = ids[u];
            ids[u] = tmp;
        }
        ck_assert_int_eq(hl_collection_remove(c, ids, nr, NULL), HL_OK);
        removed_total += nr;
        check_invariants(c);
    }
    ck_assert_int_gt(removed_total, 500);
    ck_assert_int_gt(hl_collection_cluster_bound(c), hl_collection_id_bound(c));
    /* the live points, in id order, clustered in one batch */
    int64_t *lab = coll_labels(c), nl = 0;
    const int64_t bound = hl_collection_id_bound(c);
    float *rows = malloc((size_t)(bound * d) * sizeof *rows);
    int64_t *lc = malloc((size_t)bound * sizeof *lc), *lb = malloc((size_t)bound * sizeof *lb);
    ck_assert(rows && lc && lb);
    for (int64_t i = 0; i < bound; i++)
        if (lab[i] >= 0) {
            memcpy(rows + nl * d, x + row_of[i] * d, (size_t)d * sizeof *rows);
            lc[nl++] = lab[i];
        }
    hl_clustering *bc = NULL;
    ck_assert_int_eq(hl_cluster(NULL, rows, nl, d, NULL, &o, &bc), HL_OK);
    ck_assert_int_eq(hl_clustering_labels(bc, -1, lb), HL_OK);
    ck_assert_msg(same_partition(lb, lc, nl), "after the churn the collection differs from one batch clustering");
    hl_clustering_free(bc);
    hl_collection_free(c);
    free(lab);
    free(rows);
    free(lc);
    free(lb);
    free(row_of);
    free(ids);
    free(x);
    free(truth);
}
END_TEST

static Suite *collection_suite(void)
{
    Suite *s = suite_create("collection");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_first_batch_equals_cluster);
    tcase_add_test(tc, test_add_batches_stable_ids);
    tcase_add_test(tc, test_remove);
    tcase_add_test(tc, test_churn);
    tcase_add_test(tc, test_remove_with_index);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_bad_input_changes_nothing);
    tcase_add_test(tc, test_small_and_single_adds);
    tcase_add_test(tc, test_threads_identical);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(collection_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
