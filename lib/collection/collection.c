/* hl_collection: creation, the per-point arrays, reading the clusters, and
 * the two updates (add, remove).
 *
 * Every update runs in two phases.  The first may fail and changes nothing
 * visible: it maps the new rows into room beyond the last id, searches the
 * new lists, and reserves every byte the second phase will need (reverse
 * lists, index cells, scratch).  The second applies the lists and runs
 * update.c, which allocates nothing, so a failure never leaves a collection
 * half updated. */
#include "collection/collection_internal.h"
#include "io/io_internal.h"
#include "model/model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLI_MIN_SIZE_COLLECTION_STATS sizeof(hl_collection_stats)

static void stats_defaults(void *s)
{
    memset(s, 0, sizeof(hl_collection_stats));
}

hl_status hl_collection_stats_init(hl_collection_stats *stats, size_t struct_size)
{
    return hli_struct_init(stats, struct_size, HLI_MIN_SIZE_COLLECTION_STATS, sizeof *stats, stats_defaults,
                           "hl_collection_stats_init");
}

uint32_t hli_coll_model_crc(const hl_model *model)
{
    if (model == NULL)
        return 0;
    uint32_t crc = hli_crc32(0, &model->cfg.feature_dim, sizeof model->cfg.feature_dim);
    crc = hli_crc32(crc, model->params, (size_t)model->num_params * sizeof(float));
    if (model->whiten != NULL)
        crc = hli_crc32(crc, model->whiten,
                        (size_t)model->cfg.feature_dim * (size_t)model->cfg.feature_dim * sizeof(float));
    return crc;
}

int64_t hli_coll_find(const hl_collection *c, int64_t id)
{
    while (id >= 0 && c->c_parent[id] != id)
        id = c->c_parent[id];
    return id;
}

/* realloc *p to @p count elements of @p size (contents kept). */
static hl_status grow(void *p, int64_t count, size_t size)
{
    void **pp = p;
    void *q = hli_realloc(*pp, (size_t)count, size);
    if (q == NULL)
        return hl_last_error_status();
    *pp = q;
    return HL_OK;
}

/* The capacity after growing @p cur to hold @p need: exact room the first
 * time, then growth by an eighth (realloc of large blocks remaps pages
 * instead of copying them). */
static int64_t grown_capacity(int64_t cur, int64_t need)
{
    const int64_t cap = cur == 0 ? need : cur + cur / 8;
    return cap < need ? need : cap;
}

hl_status hli_coll_reserve(hl_collection *c, int64_t n)
{
    if (n <= c->cap)
        return HL_OK;
    const int64_t cap = grown_capacity(c->cap, n);
    const int64_t d = c->d, k = c->k;
    hl_status st = hli_check_dims("collection features", cap, d, sizeof(float), NULL);
    if (st == HL_OK)
        st = hli_check_dims("collection lists", cap, k, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    if ((st = grow(&c->x, cap * d, sizeof(float))) != HL_OK || (st = grow(&c->knn, cap * k, sizeof(int64_t))) != HL_OK ||
        (st = grow(&c->knn_sim, cap * k, sizeof(float))) != HL_OK || (st = grow(&c->dens, cap, sizeof(float))) != HL_OK ||
        (st = grow(&c->score_fp, cap, sizeof(uint32_t))) != HL_OK ||
        (st = grow(&c->parent, cap, sizeof(int64_t))) != HL_OK || (st = grow(&c->conf, cap, sizeof(float))) != HL_OK ||
        (st = grow(&c->cl, cap, sizeof(int64_t))) != HL_OK || (st = grow(&c->alive, cap, 1)) != HL_OK ||
        (st = grow(&c->root, cap, sizeof(int64_t))) != HL_OK || (st = grow(&c->tree_id, cap, sizeof(int64_t))) != HL_OK)
        return st;
    if ((st = grow(&c->rev, cap, sizeof(hli_idlist))) != HL_OK || (st = grow(&c->mark, cap, 1)) != HL_OK)
        return st;
    if (c->index.nlist > 0 && (st = grow(&c->index.cell_of, cap, sizeof(int32_t))) != HL_OK)
        return st;
    /* new slots: empty reverse lists, clear scratch */
    memset(c->rev + c->cap, 0, sizeof(hli_idlist) * (size_t)(cap - c->cap));
    memset(c->mark + c->cap, 0, (size_t)(cap - c->cap));
    memset(c->alive + c->cap, 0, (size_t)(cap - c->cap));
    memset(c->score_fp + c->cap, 0, sizeof(uint32_t) * (size_t)(cap - c->cap));
    c->cap = cap;
    return HL_OK;
}

hl_status hli_coll_reserve_clusters(hl_collection *c, int64_t nc)
{
    if (nc <= c->ccap)
        return HL_OK;
    const int64_t ccap = grown_capacity(c->ccap, nc);
    hl_status st = hli_check_dims("collection clusters", ccap, 4, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    if ((st = grow(&c->c_parent, ccap, sizeof(int64_t))) != HL_OK ||
        (st = grow(&c->c_size, ccap, sizeof(int64_t))) != HL_OK ||
        (st = grow(&c->c_root, ccap, sizeof(int64_t))) != HL_OK ||
        (st = grow(&c->t_size, ccap, sizeof(int64_t))) != HL_OK || (st = grow(&c->c_seen, ccap, 1)) != HL_OK)
        return st;
    memset(c->c_seen + c->ccap, 0, (size_t)(ccap - c->ccap));
    c->ccap = ccap;
    return HL_OK;
}

hl_status hli_coll_scratch_alloc(hl_collection *c, int64_t n)
{
    hli_coll_scratch_free(c);
    /* 20 arrays of n entries (the layout of hli_coll_scratch) in one zeroed
     * block: large, so its pages are mapped on first write only */
    const int64_t m = n > 0 ? n : 1;
    hl_status st = hli_check_dims("collection scratch", m, 20, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    hli_coll_scratch *s = hli_calloc(1, sizeof *s);
    int64_t *b = s != NULL ? hli_calloc((size_t)m * 20, sizeof(int64_t)) : NULL;
    if (b == NULL) {
        free(s);
        return hl_last_error_status();
    }
    s->dens_set = b;
    s->parent_set = b + m;
    s->old_root = b + 2 * m;
    s->visited = b + 3 * m;
    s->root_pairs = b + 4 * m; /* 2 m */
    s->pair_sel = b + 6 * m;   /* 2 m */
    s->roots = b + 8 * m;      /* 3 m */
    s->orphans = b + 11 * m;
    s->new_roots = b + 12 * m;
    s->seeds = b + 13 * m;
    s->queue = b + 14 * m;
    s->neighbours = b + 15 * m;
    s->links = b + 16 * m;
    s->members = b + 17 * m;
    s->member_end = b + 18 * m;
    s->c_acc = (double *)(void *)(b + 19 * m); /* the block is zeroed: 0.0 */
    c->scr = s;
    return HL_OK;
}

void hli_coll_scratch_free(hl_collection *c)
{
    if (c->scr != NULL)
        free(c->scr->dens_set);
    free(c->scr);
    c->scr = NULL;
}

hl_status hl_collection_create(const hl_model *model, int64_t d, const hl_cluster_options *opts, hl_collection **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_collection_create: out is NULL");
    *out = NULL;
    if (d < 1)
        return hli_error(HL_EINVAL, "hl_collection_create: d = %lld must be >= 1", (long long)d);
    hl_collection *c = hli_calloc(1, sizeof *c);
    if (c == NULL)
        return hl_last_error_status();
    hl_status st = hli_cluster_options_read(opts, &c->opts);
    /* the options as for a clustering of more than k points */
    if (st == HL_OK)
        st = hli_cluster_options_check(&c->opts, c->opts.k + 1, d);
    if (st == HL_OK)
        st = hli_cluster_plan_resolve(model, 0, &c->opts, d, &c->plan);
    if (st == HL_OK && c->opts.max_levels > 1)
        st = hli_error(HL_EINVAL, "hl_collection_create: max_levels = %d; collections cluster with one level and "
                                  "the linkage merge (use 0 or 1)", (int)c->opts.max_levels);
    if (st != HL_OK) {
        free(c);
        return st;
    }
    if (c->plan.max_levels > 1)
        hli_log(HL_LOG_INFO, "collection: the model's level limit %d is not used: collections use one level",
                (int)c->plan.max_levels);
    c->plan.max_levels = 1;
    c->model = model;
    c->has_model = model != NULL;
    c->model_crc = hli_coll_model_crc(model);
    c->d = d;
    c->k = c->opts.k;
    c->num_threads = c->opts.num_threads;
    c->opts.progress = NULL;
    c->opts.progress_user = NULL;
    *out = c;
    return HL_OK;
}

void hl_collection_free(hl_collection *c)
{
    if (c == NULL)
        return;
    if (c->rev != NULL)
        for (int64_t i = 0; i < c->cap; i++)
            hli_idlist_free(&c->rev[i]);
    free(c->rev);
    hli_coll_index_free(&c->index);
    free(c->x);
    free(c->knn);
    free(c->knn_sim);
    free(c->dens);
    free(c->score_fp);
    free(c->parent);
    free(c->conf);
    free(c->cl);
    free(c->alive);
    free(c->root);
    free(c->tree_id);
    hli_coll_scratch_free(c);
    free(c->c_root);
    free(c->t_size);
    free(c->c_parent);
    free(c->c_size);
    free(c->mark);
    free(c->c_seen);
    free(c);
}

int64_t hl_collection_dimension(const hl_collection *c)
{
    return c ? c->d : 0;
}

int64_t hl_collection_num_points(const hl_collection *c)
{
    return c ? c->live : 0;
}

int64_t hl_collection_id_bound(const hl_collection *c)
{
    return c ? c->n : 0;
}

int64_t hl_collection_cluster_bound(const hl_collection *c)
{
    return c ? c->nc : 0;
}

int64_t hl_collection_num_clusters(const hl_collection *c)
{
    if (c == NULL)
        return 0;
    int64_t m = 0;
    for (int64_t a = 0; a < c->nc; a++)
        m += c->c_parent[a] == a;
    return m;
}

hl_status hl_collection_set_num_threads(hl_collection *c, int32_t num_threads)
{
    if (c == NULL || num_threads < 0)
        return hli_error(HL_EINVAL, "hl_collection_set_num_threads: %s",
                         c == NULL ? "collection is NULL" : "negative thread count");
    c->num_threads = num_threads;
    c->opts.num_threads = num_threads;
    return HL_OK;
}

hl_status hl_collection_labels(const hl_collection *c, int64_t *cluster_of, float *confidence)
{
    if (c == NULL)
        return hli_error(HL_EINVAL, "hl_collection_labels: collection is NULL");
    for (int64_t i = 0; i < c->n; i++) {
        if (cluster_of != NULL)
            cluster_of[i] = c->alive[i] ? c->cl[i] : -1;
        if (confidence != NULL)
            confidence[i] = c->alive[i] ? c->conf[i] : 0.0f;
    }
    return HL_OK;
}

hl_status hl_collection_point(const hl_collection *c, int64_t id, int64_t *cluster, float *confidence)
{
    if (c == NULL)
        return hli_error(HL_EINVAL, "hl_collection_point: collection is NULL");
    if (id < 0 || id >= c->n || !c->alive[id])
        return hli_error(HL_EINVAL, "hl_collection_point: point %lld %s", (long long)id,
                         id < 0 || id >= c->n ? "was never added" : "was removed");
    if (cluster != NULL)
        *cluster = c->cl[id];
    if (confidence != NULL)
        *confidence = c->conf[id];
    return HL_OK;
}

hl_status hl_collection_clusters(const hl_collection *c, int64_t *sizes, int64_t *representatives,
                                 int64_t *merged_into)
{
    if (c == NULL)
        return hli_error(HL_EINVAL, "hl_collection_clusters: collection is NULL");
    for (int64_t a = 0; a < c->nc; a++) {
        const int64_t r = hli_coll_find(c, a);
        if (sizes != NULL)
            sizes[a] = r == a ? c->c_size[a] : 0;
        if (merged_into != NULL)
            merged_into[a] = r;
        if (representatives != NULL)
            representatives[a] = -1;
    }
    if (representatives != NULL)
        for (int64_t i = 0; i < c->n; i++) {
            if (!c->alive[i])
                continue;
            const int64_t a = c->cl[i], cur = representatives[a];
            if (cur < 0 || c->dens[i] > c->dens[cur])
                representatives[a] = i; /* ids ascend: ties keep the smaller */
        }
    return HL_OK;
}

/* ---- updates -------------------------------------------------------------- */

/* What the fallible phase of an update prepares for the second. */
typedef struct update_plan {
    hli_search_result res;
    int64_t *changed;       /* points whose lists change: the new ones, then updated existing ones */
    int64_t nchanged;
    void *scratch;
    float *prob_sc, *prob_dens; /* score PROB only */
    int64_t *prob_off;
    int index_has_batch;    /* the index was built with the batch's rows in it */
} update_plan;

static void update_plan_free(hl_collection *c, update_plan *u)
{
    hli_coll_scratch_free(c);
    hli_search_result_free(&u->res);
    free(u->changed);
    free(u->scratch);
    free(u->prob_sc);
    free(u->prob_dens);
    free(u->prob_off);
}

/* 1 if @p v is among the k entries of @p list. */
static int in_list(const int64_t *list, int64_t k, int64_t v)
{
    for (int64_t t = 0; t < k; t++)
        if (list[t] == v)
            return 1;
    return 0;
}

/* Append to @p tg the reverse-list entries that the lists @p lists (rows for
 * points @p ids) add against their current lists (@p fresh: no list yet). */
static int64_t rev_targets(const hl_collection *c, const int64_t *ids, const int64_t *lists, int64_t nl, int fresh,
                           int64_t *tg, int64_t nt)
{
    const int64_t k = c->k;
    for (int64_t u = 0; u < nl; u++)
        for (int64_t t = 0; t < k; t++) {
            const int64_t e = lists[u * k + t];
            if (e >= 0 && e != ids[u] && (fresh || !in_list(c->knn + ids[u] * k, k, e)))
                tg[nt++] = e;
        }
    return nt;
}

/* Reserve room in the reverse lists for what the search result @p r adds:
 * the new points' lists (ids @p new_ids, none before) and the updated lists. */
static hl_status reserve_rev(hl_collection *c, const int64_t *new_ids, int64_t nnew, const hli_search_result *r)
{
    const int64_t total = nnew + r->nupd;
    if (total == 0)
        return HL_OK;
    hl_status st = hli_check_dims("collection reverse entries", total, c->k, sizeof(int64_t), NULL);
    if (st != HL_OK)
        return st;
    int64_t *tg = hli_alloc((size_t)(total * c->k), sizeof *tg);
    if (tg == NULL)
        return hl_last_error_status();
    int64_t nt = rev_targets(c, new_ids, r->knn, nnew, 1, tg, 0);
    nt = rev_targets(c, r->upd_id, r->upd_knn, r->nupd, 0, tg, nt);
    qsort(tg, (size_t)nt, sizeof *tg, hli_cmp_i64);
    for (int64_t a = 0; a < nt && st == HL_OK;) {
        int64_t b = a;
        while (b < nt && tg[b] == tg[a])
            b++;
        st = hli_idlist_reserve(&c->rev[tg[a]], b - a);
        a = b;
    }
    free(tg);
    return st;
}

/* Replace point i's list, keeping the reverse lists right (room reserved). */
static void set_list(hl_collection *c, int64_t i, const int64_t *knn, const float *sim, int fresh)
{
    const int64_t k = c->k;
    int64_t *old = c->knn + i * k;
    if (!fresh)
        for (int64_t t = 0; t < k; t++)
            if (old[t] >= 0 && old[t] != i && !in_list(knn, k, old[t]))
                hli_idlist_remove(&c->rev[old[t]], i);
    for (int64_t t = 0; t < k; t++)
        if (knn[t] >= 0 && knn[t] != i && (fresh || !in_list(old, k, knn[t])))
            hli_idlist_push(&c->rev[knn[t]], i);
    memcpy(old, knn, sizeof(int64_t) * (size_t)k);
    memcpy(c->knn_sim + i * k, sim, sizeof(float) * (size_t)k);
}

hl_status hli_coll_prob_scores(const hl_collection *c, int64_t *knn, float *sim, int64_t n, int nt, float **edge_scores,
                               int64_t **edge_offsets, float **dens)
{
    *edge_scores = NULL;
    *edge_offsets = NULL;
    *dens = NULL;
    hl_graph *g = NULL;
    hl_status st = hli_graph_from_knn(knn, sim, n, c->k, &g); /* takes the lists */
    if (st != HL_OK)
        return st;
    float *sc = hli_alloc((size_t)(g->num_edges > 0 ? g->num_edges : 1), sizeof *sc);
    float *dn = hli_alloc((size_t)n, sizeof *dn);
    int64_t *off = hli_alloc((size_t)n + 1, sizeof *off);
    if (sc == NULL || dn == NULL || off == NULL)
        st = hl_last_error_status();
    if (st == HL_OK)
        st = hl_model_predict(c->model, g, c->x, c->x, n, c->d, nt, sc, dn);
    if (st == HL_OK) {
        memcpy(off, g->offsets, ((size_t)n + 1) * sizeof *off);
        *edge_scores = sc;
        *edge_offsets = off;
        *dens = dn;
    } else {
        free(sc);
        free(dn);
        free(off);
    }
    hl_graph_free(g);
    return st;
}

/* Score PROB: the model's scores of the graph as it will be after the
 * update: the lists of [0, n) with the prepared ones (new rows from n0,
 * updates) in place of the current ones, @p removed cleared. */
static hl_status prob_prepare(const hl_collection *c, int64_t n, int64_t n0, const unsigned char *removed, int nt,
                              update_plan *u)
{
    const int64_t k = c->k;
    const size_t nk = (size_t)n * (size_t)k;
    int64_t *knn = hli_alloc(nk, sizeof *knn);
    float *sim = hli_alloc(nk, sizeof *sim);
    if (knn == NULL || sim == NULL) {
        free(knn);
        free(sim);
        return hl_last_error_status();
    }
    memcpy(knn, c->knn, (size_t)n0 * (size_t)k * sizeof *knn);
    memcpy(sim, c->knn_sim, (size_t)n0 * (size_t)k * sizeof *sim);
    if (n > n0) {
        memcpy(knn + n0 * k, u->res.knn, (size_t)(n - n0) * (size_t)k * sizeof *knn);
        memcpy(sim + n0 * k, u->res.sim, (size_t)(n - n0) * (size_t)k * sizeof *sim);
    }
    for (int64_t t = 0; t < u->res.nupd; t++) {
        memcpy(knn + u->res.upd_id[t] * k, u->res.upd_knn + t * k, (size_t)k * sizeof *knn);
        memcpy(sim + u->res.upd_id[t] * k, u->res.upd_sim + t * k, (size_t)k * sizeof *sim);
    }
    for (int64_t i = 0; i < n; i++)
        if ((removed != NULL && removed[i]) || !c->alive[i])
            for (int64_t t = 0; t < k; t++)
                knn[i * k + t] = -1;
    return hli_coll_prob_scores(c, knn, sim, n, nt, &u->prob_sc, &u->prob_off, &u->prob_dens);
}

/* The lists of the first batch, exactly as hl_cluster's level 0 finds them. */
static hl_status first_lists(hl_collection *c, int64_t m, update_plan *u)
{
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = c->k;
    ko.method = c->opts.knn_method;
    ko.num_threads = c->num_threads;
    ko.auto_threshold = c->opts.knn_auto_threshold;
    ko.nlist = c->opts.knn_nlist <= m ? c->opts.knn_nlist : 0;
    ko.nprobe = c->opts.knn_nprobe;
    ko.target_recall = c->opts.knn_target_recall;
    ko.seed = c->opts.knn_seed;
    const size_t nk = (size_t)m * (size_t)c->k;
    u->res.knn = hli_alloc(nk, sizeof *u->res.knn);
    u->res.sim = hli_alloc(nk, sizeof *u->res.sim);
    if (u->res.knn == NULL || u->res.sim == NULL)
        return hl_last_error_status();
    return hli_knn_normalized(c->x, m, c->d, &ko, u->res.knn, u->res.sim);
}

/* Whether a collection of @p n points searches with an IVF index. */
static int wants_index(const hl_collection *c, int64_t n)
{
    /* never for a handful of points: cells and their calibration need a few
     * full neighbour lists (and exact search is cheaper there anyway) */
    if (n <= 8 * c->k)
        return 0;
    if (c->opts.knn_method == HL_KNN_AUTO)
        return n > c->opts.knn_auto_threshold;
    return c->opts.knn_method != HL_KNN_EXACT;
}

static hl_status add_prepare(hl_collection *c, const float *x, int64_t m, int nt, update_plan *u)
{
    const int64_t n0 = c->n, n1 = n0 + m, d = c->d, k = c->k;
    hl_status st;
    float *xm = hli_model_input(c->model, x, m, d, &st);
    if (xm == NULL)
        return st;
    st = hli_coll_reserve(c, n1);
    if (st == HL_OK) {
        memcpy(c->x + n0 * d, xm, sizeof(float) * (size_t)m * (size_t)d);
        memset(c->alive + n0, 1, (size_t)m);
    }
    free(xm);
    if (st != HL_OK)
        return st;
    u->changed = hli_alloc((size_t)m, sizeof *u->changed);
    if (u->changed == NULL)
        return hl_last_error_status();
    for (int64_t q = 0; q < m; q++)
        u->changed[q] = n0 + q;
    if (n0 == 0 && m > k) {
        st = first_lists(c, m, u);
    } else {
        if (c->index.nlist == 0 && c->live > 0 && wants_index(c, n1))
            st = hli_coll_index_build(c, nt); /* over the points already in; the batch's rows are scanned too */
        if (st == HL_OK)
            st = hli_coll_index_prepare(c, n0, n1, nt);
        if (st == HL_OK)
            st = hli_coll_search(c, u->changed, m, NULL, n1, 1, nt, &u->res);
    }
    if (st != HL_OK)
        return st;
    if (u->res.nupd > 0) {
        int64_t *ch = hli_realloc(u->changed, (size_t)(m + u->res.nupd), sizeof *ch);
        if (ch == NULL)
            return hl_last_error_status();
        u->changed = ch;
        memcpy(ch + m, u->res.upd_id, sizeof *ch * (size_t)u->res.nupd);
    }
    u->nchanged = m + u->res.nupd;
    if ((st = reserve_rev(c, u->changed, m, &u->res)) != HL_OK)
        return st;
    if ((u->scratch = hli_alloc(hli_coll_update_scratch(c, nt), 1)) == NULL)
        return hl_last_error_status();
    /* room for a new cluster id per point, and scratch for both */
    if ((st = hli_coll_reserve_clusters(c, c->nc + c->live + m)) != HL_OK ||
        (st = hli_coll_scratch_alloc(c, n1 > c->ccap ? n1 : c->ccap)) != HL_OK)
        return st;
    if (n0 == 0 && c->index.nlist == 0 && wants_index(c, n1)) {
        /* the first batch searched like hl_cluster; later batches use the index */
        const int64_t live = c->live, n = c->n;
        c->live = m;
        c->n = n1;
        st = hli_coll_index_build(c, nt);
        c->live = live;
        c->n = n;
        u->index_has_batch = 1;
    }
    return st;
}

/* Apply the prepared lists (cannot fail). */
static void apply_lists(hl_collection *c, int64_t n0, int64_t m, const update_plan *u)
{
    const int64_t k = c->k;
    for (int64_t q = 0; q < m; q++) {
        const int64_t i = n0 + q;
        c->cl[i] = -1;
        c->root[i] = -1;
        c->tree_id[i] = -1;
        c->parent[i] = -1;
        c->conf[i] = 1.0f;
        c->dens[i] = 0.0f;
        set_list(c, i, u->res.knn + q * k, u->res.sim + q * k, 1);
    }
    for (int64_t t = 0; t < u->res.nupd; t++)
        set_list(c, u->res.upd_id[t], u->res.upd_knn + t * k, u->res.upd_sim + t * k, 0);
}

static void fill_stats(hl_collection_stats *stats, const hli_update_counts *cnt, int64_t added, int64_t removed,
                       double seconds)
{
    if (stats == NULL)
        return;
    hl_collection_stats full;
    memset(&full, 0, sizeof full);
    full.struct_size = sizeof full;
    full.added = added;
    full.removed = removed;
    full.joined = cnt->joined;
    full.started = cnt->started;
    full.merged = cnt->merged;
    full.moved = cnt->moved;
    full.relinked = cnt->relinked;
    full.seconds = seconds;
    (void)hli_struct_write(stats, &full, HLI_MIN_SIZE_COLLECTION_STATS, sizeof full, "collection stats");
}

static hl_status check_stats(const hl_collection_stats *stats)
{
    if (stats == NULL)
        return HL_OK;
    hl_collection_stats probe;
    return hli_struct_read(stats, HLI_MIN_SIZE_COLLECTION_STATS, sizeof probe, stats_defaults, &probe,
                           "collection stats");
}

static hl_status collection_add(hl_collection *c, const float *x, int64_t m, int64_t d, int64_t *first_id,
                                hl_collection_stats *stats)
{
    if (c == NULL || x == NULL)
        return hli_error(HL_EINVAL, "hl_collection_add: %s is NULL", c == NULL ? "collection" : "x");
    if (m < 1)
        return hli_error(HL_EINVAL, "hl_collection_add: n = %lld must be >= 1", (long long)m);
    if (d != c->d)
        return hli_error(HL_EINVAL, "hl_collection_add: the batch has d = %lld columns but the collection has %lld",
                         (long long)d, (long long)c->d);
    if (m > INT64_MAX / 4 - c->n)
        return hli_error(HL_ERANGE, "hl_collection_add: %lld more points overflow the ids", (long long)m);
    hl_status st = check_stats(stats);
    if (st != HL_OK)
        return st;
    const double t0 = hli_now_seconds();
    hli_scope_threads(c->num_threads);
    const int nt = hli_threads(c->num_threads);
    const int64_t n0 = c->n;
    update_plan u;
    memset(&u, 0, sizeof u);
    st = add_prepare(c, x, m, nt, &u);
    if (st == HL_OK && c->plan.score == HL_SCORE_PROB)
        st = prob_prepare(c, n0 + m, n0, NULL, nt, &u);
    if (st != HL_OK) {
        if (c->cap > n0)
            memset(c->alive + n0, 0, (size_t)(c->cap - n0));
        update_plan_free(c, &u);
        return st;
    }
    /* ---- phase 2: cannot fail ---- */
    apply_lists(c, n0, m, &u);
    if (c->index.nlist > 0 && !u.index_has_batch)
        for (int64_t i = n0; i < n0 + m; i++)
            hli_idlist_push(&c->index.cell[c->index.cell_of[i]], i);
    c->n = n0 + m;
    c->live += m;
    if (c->plan.score == HL_SCORE_PROB) {
        c->prob_sc = u.prob_sc;
        c->prob_off = u.prob_off;
        c->prob_dens = u.prob_dens;
    }
    hli_update_counts cnt;
    memset(&cnt, 0, sizeof cnt);
    cnt.relinked = u.res.nupd;
    const double t1 = hli_now_seconds();
    hli_coll_update(c, u.changed, u.nchanged, NULL, 0, n0, nt, u.scratch, &cnt);
    c->prob_sc = NULL;
    c->prob_off = NULL;
    c->prob_dens = NULL;
    update_plan_free(c, &u);
    if (first_id != NULL)
        *first_id = n0;
    const double sec = hli_now_seconds() - t0;
    hli_log(HL_LOG_INFO, "collection: added %lld points: %lld joined, %lld clusters started, %lld merged, %lld "
            "existing points moved, %lld lists changed; %.3f s (lists %.3f s, clusters %.3f s)", (long long)m,
            (long long)cnt.joined, (long long)cnt.started, (long long)cnt.merged, (long long)cnt.moved,
            (long long)cnt.relinked, sec, t1 - t0, hli_now_seconds() - t1);
    fill_stats(stats, &cnt, m, 0, sec);
    return HL_OK;
}

hl_status hl_collection_add(hl_collection *c, const float *x, int64_t n, int64_t d, int64_t *first_id,
                            hl_collection_stats *stats)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = collection_add(c, x, n, d, first_id, stats);
    hli_scope_leave(&scope);
    return st;
}

static hl_status remove_prepare(hl_collection *c, const int64_t *ids, int64_t m, unsigned char *gone, int nt,
                                update_plan *u)
{
    for (int64_t t = 0; t < m; t++) {
        const int64_t r = ids[t];
        if (r < 0 || r >= c->n)
            return hli_error(HL_EINVAL, "hl_collection_remove: ids[%lld] = %lld was never added", (long long)t,
                             (long long)r);
        if (!c->alive[r])
            return hli_error(HL_EINVAL, "hl_collection_remove: ids[%lld] = %lld is already removed", (long long)t,
                             (long long)r);
        if (gone[r])
            return hli_error(HL_EINVAL, "hl_collection_remove: ids[%lld] = %lld is listed twice", (long long)t,
                             (long long)r);
        gone[r] = 1;
    }
    /* the points that list a removed one need a new neighbour */
    int64_t nq = 0;
    for (int64_t t = 0; t < m; t++)
        nq += c->rev[ids[t]].n;
    if ((u->changed = hli_alloc((size_t)(nq > 0 ? nq : 1), sizeof *u->changed)) == NULL)
        return hl_last_error_status();
    nq = 0;
    for (int64_t t = 0; t < m; t++) {
        const hli_idlist *rv = &c->rev[ids[t]];
        for (int32_t v = 0; v < rv->n; v++)
            if (!gone[rv->id[v]] && !c->mark[rv->id[v]]) {
                c->mark[rv->id[v]] = 1;
                u->changed[nq++] = rv->id[v];
            }
    }
    for (int64_t t = 0; t < nq; t++)
        c->mark[u->changed[t]] = 0;
    qsort(u->changed, (size_t)nq, sizeof *u->changed, hli_cmp_i64);
    u->nchanged = nq;
    hl_status st = HL_OK;
    if (nq > 0 && (st = hli_coll_search(c, u->changed, nq, gone, c->n, 0, nt, &u->res)) != HL_OK)
        return st;
    /* present the refilled lists as updates of existing points */
    u->res.upd_id = hli_alloc((size_t)(nq > 0 ? nq : 1), sizeof *u->res.upd_id);
    if (u->res.upd_id == NULL)
        return hl_last_error_status();
    memcpy(u->res.upd_id, u->changed, sizeof *u->changed * (size_t)nq);
    u->res.upd_knn = u->res.knn;
    u->res.upd_sim = u->res.sim;
    u->res.knn = NULL;
    u->res.sim = NULL;
    u->res.nupd = nq;
    if ((st = reserve_rev(c, NULL, 0, &u->res)) != HL_OK)
        return st;
    if ((u->scratch = hli_alloc(hli_coll_update_scratch(c, nt), 1)) == NULL)
        return hl_last_error_status();
    if ((st = hli_coll_reserve_clusters(c, c->nc + c->live)) != HL_OK ||
        (st = hli_coll_scratch_alloc(c, c->n > c->ccap ? c->n : c->ccap)) != HL_OK)
        return st;
    if (c->plan.score == HL_SCORE_PROB)
        st = prob_prepare(c, c->n, c->n, gone, nt, u);
    return st;
}

static hl_status collection_remove(hl_collection *c, const int64_t *ids, int64_t m, hl_collection_stats *stats)
{
    if (c == NULL || ids == NULL)
        return hli_error(HL_EINVAL, "hl_collection_remove: %s is NULL", c == NULL ? "collection" : "ids");
    if (m < 1)
        return hli_error(HL_EINVAL, "hl_collection_remove: n = %lld must be >= 1", (long long)m);
    hl_status st = check_stats(stats);
    if (st != HL_OK)
        return st;
    const double t0 = hli_now_seconds();
    hli_scope_threads(c->num_threads);
    const int nt = hli_threads(c->num_threads);
    unsigned char *gone = hli_calloc((size_t)c->n, 1);
    if (gone == NULL)
        return hl_last_error_status();
    update_plan u;
    memset(&u, 0, sizeof u);
    if ((st = remove_prepare(c, ids, m, gone, nt, &u)) != HL_OK) {
        free(gone);
        update_plan_free(c, &u);
        return st;
    }
    /* ---- phase 2: cannot fail ---- */
    const int64_t k = c->k;
    for (int64_t t = 0; t < m; t++) {
        const int64_t r = ids[t];
        for (int64_t q = 0; q < k; q++) {
            const int64_t e = c->knn[r * k + q];
            if (e >= 0 && e != r)
                hli_idlist_remove(&c->rev[e], r);
            c->knn[r * k + q] = -1;
            c->knn_sim[r * k + q] = 0.0f;
        }
        if (c->index.nlist > 0 && c->index.cell_of[r] >= 0) {
            hli_idlist_remove(&c->index.cell[c->index.cell_of[r]], r);
            c->index.cell_of[r] = -1;
        }
        c->alive[r] = 0;
        c->cl[r] = -1;
        /* root[r] and tree_id[r] stay: the update hands r's tree and id on */
        c->parent[r] = -1;
        c->conf[r] = 0.0f;
        c->dens[r] = 0.0f;
    }
    for (int64_t t = 0; t < u.res.nupd; t++)
        set_list(c, u.res.upd_id[t], u.res.upd_knn + t * k, u.res.upd_sim + t * k, 0);
    for (int64_t t = 0; t < m; t++)
        c->rev[ids[t]].n = 0; /* the lists that held it were all refilled */
    c->live -= m;
    if (c->plan.score == HL_SCORE_PROB) {
        c->prob_sc = u.prob_sc;
        c->prob_off = u.prob_off;
        c->prob_dens = u.prob_dens;
    }
    hli_update_counts cnt;
    memset(&cnt, 0, sizeof cnt);
    cnt.relinked = u.res.nupd;
    hli_coll_update(c, u.changed, u.nchanged, ids, m, c->n, nt, u.scratch, &cnt);
    c->prob_sc = NULL;
    c->prob_off = NULL;
    c->prob_dens = NULL;
    update_plan_free(c, &u);
    free(gone);
    const double sec = hli_now_seconds() - t0;
    hli_log(HL_LOG_INFO, "collection: removed %lld points, %lld lists refilled, %lld clusters merged; %.3f s",
            (long long)m, (long long)cnt.relinked, (long long)cnt.merged, sec);
    fill_stats(stats, &cnt, 0, m, sec);
    return HL_OK;
}

hl_status hl_collection_remove(hl_collection *c, const int64_t *ids, int64_t n, hl_collection_stats *stats)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = collection_remove(c, ids, n, stats);
    hli_scope_leave(&scope);
    return st;
}
