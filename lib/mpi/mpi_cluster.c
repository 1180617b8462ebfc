/* hl_mpi_cluster: hl_cluster (lib/cluster/cluster.c) over the ranks of a
 * communicator, level by level.  Every rank owns a contiguous range of the
 * nodes of every level: at level 0 its own rows, above it the peaks among
 * its nodes (numbered in increasing peak index, as hli_level_next numbers
 * them, so every tie broken by index is broken the same way).  Per level:
 * distributed exact kNN (dist_knn.c), the in-edges of the local nodes, the
 * scores (the neighbours' sorted lists fetched for the shared-neighbour
 * score, dist_model.c for the model), densities, the decode with the
 * neighbours' densities fetched, the peaks by pointer jumping
 * (dist_components.c) and the next level.  The linkage merge is in
 * dist_merge.c. */
#include "cluster/cluster_internal.h"
#include "graph/graph_internal.h"
#include "model/model_internal.h"
#include "mpi/mpi_dist.h"

#include <stdlib.h>
#include <string.h>

static void fill_sorted_row(void *user, int64_t local, void *out)
{
    const hlm_level *lv = user;
    memcpy(out, lv->sorted + local * lv->k, (size_t)lv->k * sizeof(int64_t));
}

static void fill_f32(void *user, int64_t local, void *out)
{
    memcpy(out, (const float *)user + local, sizeof(float));
}

static void fill_i64(void *user, int64_t local, void *out)
{
    memcpy(out, (const int64_t *)user + local, sizeof(int64_t));
}

void hlm_level_free(hlm_level *lv)
{
    free(lv->x);
    free(lv->c);
    free(lv->nop);
    free(lv->knn);
    free(lv->ksim);
    free(lv->sorted);
    free(lv->eoff);
    free(lv->src);
    free(lv->sim);
    free(lv->aff);
    free(lv->snn);
    memset(lv, 0, sizeof *lv);
}

/* kNN lists and the in-edges (CSR by local destination, global sources). */
static hl_status level_graph(hlm_run *r, hlm_level *lv, hl_status st)
{
    hlm_ctx *ctx = r->ctx;
    const int64_t n = lv->n_local, k = r->full.k, base = lv->off[ctx->rank];
    lv->k = k;
    if (st == HL_OK) {
        lv->knn = hli_alloc((size_t)(n > 0 ? n : 1), (size_t)k * sizeof(int64_t));
        lv->ksim = hli_alloc((size_t)(n > 0 ? n : 1), (size_t)k * sizeof(float));
        lv->eoff = hli_alloc((size_t)n + 1, sizeof(int64_t));
        if (lv->knn == NULL || lv->ksim == NULL || lv->eoff == NULL)
            st = hl_last_error_status();
    }
    hlm_phase(ctx, HL_MPI_PHASE_KNN);
    /* hl_cluster's choice per level: AUTO is exact up to knn_auto_threshold nodes */
    const int64_t nall = lv->off[ctx->P];
    const int approx = r->full.knn_method == HL_KNN_AUTO ? nall > r->full.knn_auto_threshold
                                                         : r->full.knn_method != HL_KNN_EXACT;
    if (approx) {
        hl_knn_options ko;
        hl_knn_options_init(&ko, sizeof ko);
        ko.k = k;
        ko.nlist = r->full.knn_nlist <= nall ? r->full.knn_nlist : 0;
        ko.nprobe = r->full.knn_nprobe;
        ko.target_recall = r->full.knn_target_recall;
        ko.seed = r->full.knn_seed;
        st = hlm_knn_ivf(ctx, st, lv->x, n, lv->d, lv->off, &ko, r->nt, lv->knn, lv->ksim);
    } else {
        st = hlm_knn_exact(ctx, st, lv->x, n, lv->d, lv->off, k, r->nt, lv->knn, lv->ksim);
    }
    hlm_phase(ctx, HL_MPI_PHASE_SCORES);
    if (st != HL_OK)
        return st;
    /* the in-edges as hli_graph_from_knn makes them */
    lv->eoff[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = 0;
        for (int64_t t = 0; t < k; t++) {
            const int64_t j = lv->knn[i * k + t];
            c += j >= 0 && j != base + i && lv->ksim[i * k + t] >= 0.0f;
        }
        lv->eoff[i + 1] = lv->eoff[i] + c;
    }
    const int64_t ne = lv->eoff[n];
    lv->ne = ne;
    lv->src = hli_alloc((size_t)(ne > 0 ? ne : 1), sizeof(int64_t));
    lv->sim = hli_alloc((size_t)(ne > 0 ? ne : 1), sizeof(float));
    lv->aff = hli_alloc((size_t)(ne > 0 ? ne : 1), sizeof(float));
    if (lv->src == NULL || lv->sim == NULL || lv->aff == NULL)
        return hl_last_error_status();
    for (int64_t i = 0; i < n; i++) {
        int64_t p = lv->eoff[i];
        double sum = 0.0;
        for (int64_t t = 0; t < k; t++) {
            const int64_t j = lv->knn[i * k + t];
            const float s = lv->ksim[i * k + t];
            if (!(j >= 0 && j != base + i && s >= 0.0f))
                continue;
            lv->src[p] = j;
            lv->sim[p] = s;
            sum += s;
            p++;
        }
        for (int64_t q = lv->eoff[i]; q < p; q++)
            lv->aff[q] = sum > 0.0 ? (float)(lv->sim[q] / sum) : 0.0f;
    }
    return HL_OK;
}

/* The shared-neighbour fraction of every in-edge: the sources' sorted lists
 * are fetched from their owners. */
static hl_status level_snn(hlm_run *r, hlm_level *lv, hl_status st)
{
    const int64_t n = lv->n_local, k = lv->k, ne = lv->ne;
    int64_t *u = NULL, m = 0, *rows = NULL;
    if (st == HL_OK) {
        lv->sorted = hli_alloc((size_t)(n > 0 ? n : 1), (size_t)k * sizeof(int64_t));
        lv->snn = hli_alloc((size_t)(ne > 0 ? ne : 1), sizeof(float));
        if (lv->sorted == NULL || lv->snn == NULL)
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        memcpy(lv->sorted, lv->knn, (size_t)(n * k) * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++)
            qsort(lv->sorted + i * k, (size_t)k, sizeof(int64_t), hli_cmp_i64);
        st = hlm_unique(lv->src, ne, &u, &m);
    }
    if (st == HL_OK && (rows = hli_alloc((size_t)(m > 0 ? m : 1), (size_t)k * sizeof(int64_t))) == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(r->ctx, st, lv->off, u, m, (size_t)k * sizeof(int64_t), fill_sorted_row, lv, rows);
    if (st == HL_OK) {
#pragma omp parallel for schedule(dynamic, 256) num_threads(r->nt)
        for (int64_t i = 0; i < n; i++)
            for (int64_t e = lv->eoff[i]; e < lv->eoff[i + 1]; e++) {
                const int64_t *rj = rows + hlm_find(u, m, lv->src[e]) * k;
                lv->snn[e] = (float)hli_snn_count(lv->sorted + i * k, rj, k) / (float)k;
            }
    }
    free(u);
    free(rows);
    return st;
}

/* Scores and densities of the level (hli_level_scores' rules). */
static hl_status level_scores(hlm_run *r, hlm_level *lv, int level, hl_status st, float *sc, float *dens)
{
    const int score = r->plan.score;
    const int need_snn = score == HL_SCORE_SNN || (level == 0 && r->plan.merge > 0.0f);
    if (need_snn)
        st = level_snn(r, lv, st);
    if (score == HL_SCORE_PROB)
        return hlm_model_scores(r, lv, st, sc, dens);
    if (st != HL_OK)
        return st;
    if (lv->ne > 0)
        memcpy(sc, score == HL_SCORE_SIM ? lv->sim : lv->snn, (size_t)lv->ne * sizeof(float));
    for (int64_t i = 0; i < lv->n_local; i++) {
        double s = 0.0;
        for (int64_t e = lv->eoff[i]; e < lv->eoff[i + 1]; e++)
            s += sc[e];
        const int64_t m = lv->eoff[i + 1] - lv->eoff[i];
        dens[i] = m > 0 ? (float)(s / (double)m) : 0.0f;
    }
    return HL_OK;
}

/* The decode (hli_decode_parent, the core's rule) with the sources'
 * densities fetched; ids are renumbered into the ascending set of the local
 * and source ids, an order-preserving map, so index ties break as in one
 * process.  parent[i]: a global id or -1. */
static hl_status level_decode(hlm_run *r, const hlm_level *lv, hl_status st, const float *sc, const float *dens,
                              int64_t *parent)
{
    const int64_t n = lv->n_local, ne = lv->ne, base = lv->off[r->ctx->rank];
    int64_t *all = NULL, *u = NULL, m = 0, *srcc = NULL;
    float *du = NULL;
    if (st == HL_OK) {
        all = hli_alloc((size_t)(ne + n > 0 ? ne + n : 1), sizeof(int64_t));
        srcc = hli_alloc((size_t)(ne > 0 ? ne : 1), sizeof(int64_t));
        if (all == NULL || srcc == NULL)
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        memcpy(all, lv->src, (size_t)ne * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++)
            all[ne + i] = base + i;
        st = hlm_unique(all, ne + n, &u, &m);
    }
    if (st == HL_OK && (du = hli_alloc((size_t)(m > 0 ? m : 1), sizeof(float))) == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(r->ctx, st, lv->off, u, m, sizeof(float), fill_f32, (void *)dens, du);
    if (st == HL_OK) {
        for (int64_t e = 0; e < ne; e++)
            srcc[e] = hlm_find(u, m, lv->src[e]);
#pragma omp parallel for schedule(static) num_threads(r->nt)
        for (int64_t i = 0; i < n; i++) {
            const int64_t ic = hlm_find(u, m, base + i);
            const int64_t e0 = lv->eoff[i];
            const int64_t p = hli_decode_parent(ic, srcc + e0, lv->sim + e0, sc + e0, lv->eoff[i + 1] - e0, du,
                                                r->plan.tau, NULL);
            parent[i] = p >= 0 ? u[p] : -1;
        }
    }
    free(all);
    free(u);
    free(srcc);
    free(du);
    return st;
}

/* The next level from the peaks: nodes = local peaks in increasing order,
 * features = the peak's, cluster features = the mean of the members' x0
 * (with a model only), and every local point's node. */
static hl_status level_next(hlm_run *r, const hlm_level *lv, hl_status st, const int64_t *root, hlm_level *next,
                            int want_means)
{
    hlm_ctx *ctx = r->ctx;
    const int64_t n = lv->n_local, d = lv->d, base = lv->off[ctx->rank];
    int64_t npk = 0;
    for (int64_t i = 0; st == HL_OK && i < n; i++)
        npk += root[i] == base + i;
    memset(next, 0, sizeof *next);
    next->d = d;
    next->n_local = npk;
    next->off = hli_alloc((size_t)ctx->P + 1, sizeof(int64_t));
    int64_t *newid = hli_alloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    int64_t *nodeid = hli_alloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    if ((next->off == NULL || newid == NULL || nodeid == NULL) && st == HL_OK)
        st = hl_last_error_status();
    int64_t dummy[2] = {0, 0};
    st = hlm_offsets(ctx, st, npk, next->off != NULL ? next->off : dummy);
    const int64_t n_next = st == HL_OK ? next->off[ctx->P] : 0; /* agreed: the same on every rank */
    int64_t *u = NULL, m = 0, *vals = NULL;
    if (st == HL_OK) {
        next->x = hli_alloc((size_t)(npk > 0 ? npk : 1), (size_t)d * sizeof(float));
        next->nop = hli_alloc((size_t)(r->np_local > 0 ? r->np_local : 1), sizeof(int64_t));
        if (next->x == NULL || next->nop == NULL)
            st = hl_last_error_status();
    }
    if (st == HL_OK) {
        int64_t v = 0;
        for (int64_t i = 0; i < n; i++) {
            newid[i] = -1;
            if (root[i] == base + i) {
                memcpy(next->x + v * d, lv->x + i * d, (size_t)d * sizeof(float));
                newid[i] = next->off[ctx->rank] + v++;
            }
        }
        st = hlm_unique(root, n, &u, &m);
    }
    if (st == HL_OK && (vals = hli_alloc((size_t)(m > 0 ? m : 1), sizeof(int64_t))) == NULL)
        st = hl_last_error_status();
    /* every local node's next node: its peak's new id, from the peak's owner */
    st = hlm_fetch(ctx, st, lv->off, u, m, sizeof(int64_t), fill_i64, newid, vals);
    if (st == HL_OK)
        for (int64_t i = 0; i < n; i++)
            nodeid[i] = vals[hlm_find(u, m, root[i])];
    free(u);
    free(vals);
    u = vals = NULL;
    /* every local point's next node: its current node's, from the node's owner */
    if (st == HL_OK)
        st = hlm_unique(lv->nop, r->np_local, &u, &m);
    if (st == HL_OK && (vals = hli_alloc((size_t)(m > 0 ? m : 1), sizeof(int64_t))) == NULL)
        st = hl_last_error_status();
    st = hlm_fetch(ctx, st, lv->off, u, m, sizeof(int64_t), fill_i64, nodeid, vals);
    if (st == HL_OK)
        for (int64_t q = 0; q < r->np_local; q++)
            next->nop[q] = vals[hlm_find(u, m, lv->nop[q])];
    free(u);
    free(vals);
    free(newid);
    free(nodeid);
    /* the cluster features only when a model will read them at the next level */
    if (want_means && r->model != NULL && r->plan.score == HL_SCORE_PROB && n_next > r->full.k)
        st = hlm_cluster_means(r, next, st); /* collective: the condition is the same on every rank */
    return st;
}

/* One level; *added = the decode's edges over all ranks. */
static hl_status dist_level(hlm_run *r, int level, int64_t prev_added, hlm_level *lv, hlm_level *next,
                            int64_t *added)
{
    hlm_ctx *ctx = r->ctx;
    const int64_t n = lv->n_local;
    const double t0 = hli_now_seconds();
    hl_status st = level_graph(r, lv, HL_OK);
    float *sc = NULL, *dens = NULL;
    int64_t *parent = NULL, *root = NULL;
    if (st == HL_OK) {
        sc = hli_alloc((size_t)(lv->ne > 0 ? lv->ne : 1), sizeof(float));
        dens = hli_alloc((size_t)(n > 0 ? n : 1), sizeof(float));
        parent = hli_alloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
        root = hli_alloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
        if (sc == NULL || dens == NULL || parent == NULL || root == NULL)
            st = hl_last_error_status();
    }
    const double t1 = hli_now_seconds();
    st = level_scores(r, lv, level, st, sc, dens);
    const double t2 = hli_now_seconds();
    hlm_phase(ctx, HL_MPI_PHASE_DECODE);
    st = level_decode(r, lv, st, sc, dens, parent);
    int64_t mine = 0;
    for (int64_t i = 0; st == HL_OK && i < n; i++)
        mine += parent[i] >= 0;
    if ((st = hlm_agree(ctx, st)) == HL_OK)
        MPI_Allreduce(&mine, added, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    const double t3 = hli_now_seconds();
    hlm_phase(ctx, HL_MPI_PHASE_COMPONENTS);
    st = hlm_forest_roots(ctx, st, lv->off, parent, n, root);
    /* whether dist_levels will run another level (its stop rules) */
    const int more = level + 1 < r->plan.max_levels && *added > 0 &&
                     !(r->full.early_stop && prev_added >= 0 &&
                       (double)prev_added / (double)*added < (double)(r->full.k - 1));
    st = level_next(r, lv, st, root, next, more);
    hlm_phase(ctx, HL_MPI_PHASE_OTHER);
    if (st == HL_OK)
        hli_log(HL_LOG_INFO,
                "mpi cluster: rank %d level %d: %lld of %lld nodes, %lld edges here, %lld added (all ranks), "
                "%lld clusters; seconds: knn+graph %.3f, scores %.3f, decode %.3f, next level %.3f",
                ctx->rank, level, (long long)n, (long long)lv->off[ctx->P], (long long)lv->ne, (long long)*added,
                (long long)next->off[ctx->P], t1 - t0, t2 - t1, t3 - t2, hli_now_seconds() - t3);
    if (st == HL_OK && level == 0 && r->plan.merge > 0.0f) { /* the merge reads level 0's edges and snn */
        r->e0off = lv->eoff;
        r->e0src = lv->src;
        r->e0snn = lv->snn;
        r->ne0 = lv->ne;
        lv->eoff = NULL;
        lv->src = NULL;
        lv->snn = NULL;
    }
    free(sc);
    free(dens);
    free(parent);
    free(root);
    return st;
}

static hl_status dist_levels(hlm_run *r, hlm_level *lv)
{
    const hl_cluster_options *opts = &r->full;
    hlm_level next;
    memset(&next, 0, sizeof next);
    int64_t prev_added = -1;
    for (int32_t level = 0; level < r->plan.max_levels; level++) {
        if (lv->off[r->ctx->P] <= opts->k)
            break;
        int64_t added = 0;
        const int64_t nodes = lv->off[r->ctx->P];
        hl_status st = dist_level(r, level, prev_added, lv, &next, &added);
        if (st != HL_OK) {
            free(next.off);
            hlm_level_free(&next);
            return st;
        }
        free(lv->off);
        hlm_level_free(lv);
        *lv = next;
        memset(&next, 0, sizeof next);
        r->levels_run++;
        /* the progress callback on every rank; any rank may cancel, and then all do */
        hl_status cst = HL_OK;
        if (opts->progress && opts->progress(level, nodes, added, opts->progress_user) != 0)
            cst = hli_error(HL_ECANCELED, "cluster: cancelled by the progress callback after level %d", (int)level);
        if ((st = hlm_agree(r->ctx, cst)) != HL_OK)
            return st;
        if (added == 0)
            break;
        if (opts->early_stop && prev_added >= 0 && (double)prev_added / (double)added < (double)(opts->k - 1))
            break;
        prev_added = added;
    }
    return HL_OK;
}

/* HL_EINVAL unless this rank's options, plan and model (its shape) are rank
 * 0's: ranks that disagreed would run different collectives. */
static hl_status same_plan(const hlm_run *r)
{
    const hl_cluster_options *o = &r->full;
    int64_t f[16];
    memset(f, 0, sizeof f);
    f[0] = o->k;
    f[1] = o->early_stop;
    f[2] = o->knn_method;
    f[3] = o->knn_auto_threshold;
    f[4] = o->knn_nlist;
    f[5] = o->knn_nprobe;
    f[6] = (int64_t)o->knn_seed;
    memcpy(&f[7], &o->knn_target_recall, sizeof(double));
    f[8] = r->plan.score;
    f[9] = r->plan.max_levels;
    memcpy(&f[10], &r->plan.tau, sizeof(float));
    memcpy(&f[11], &r->plan.merge, sizeof(float));
    f[12] = r->model != NULL;
    if (r->model != NULL) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        if (hl_model_get_config(r->model, &cfg) == HL_OK) {
            f[13] = cfg.num_conv;
            f[14] = cfg.hidden;
        }
        f[15] = hl_model_num_params(r->model);
    }
    int64_t g[16];
    memcpy(g, f, sizeof g);
    MPI_Bcast(g, 16, MPI_INT64_T, 0, r->ctx->comm);
    if (memcmp(f, g, sizeof f) != 0)
        return hli_error(HL_EINVAL, "mpi cluster: the options or the model differ from rank 0's (every rank must "
                                    "pass the same)");
    return HL_OK;
}

/* Input checks and the plan, agreed on by every rank. */
static hl_status mpi_prepare(hlm_run *r, const float *x_local, int64_t n_local, int64_t d,
                             const hl_cluster_options *opts, const int64_t *labels_local, int64_t *ntot)
{
    hlm_ctx *ctx = r->ctx;
    hl_status st = HL_OK;
    if (n_local < 0)
        st = hli_error(HL_EINVAL, "mpi cluster: n_local = %lld must be >= 0", (long long)n_local);
    else if (d < 1)
        st = hli_error(HL_EINVAL, "mpi cluster: d = %lld must be >= 1", (long long)d);
    else if (n_local > 0 && (x_local == NULL || labels_local == NULL))
        st = hli_error(HL_EINVAL, "mpi cluster: %s is NULL", x_local == NULL ? "x_local" : "labels_local");
    if (st == HL_OK)
        st = hli_cluster_options_read(opts, &r->full);
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        return st;
    int64_t d0 = d;
    MPI_Bcast(&d0, 1, MPI_INT64_T, 0, ctx->comm);
    if (d0 != d)
        st = hli_error(HL_EINVAL, "mpi cluster: d = %lld but rank 0 has d = %lld", (long long)d, (long long)d0);
    r->poff = hli_alloc((size_t)ctx->P + 1, sizeof(int64_t));
    if (r->poff == NULL && st == HL_OK)
        st = hl_last_error_status();
    int64_t dummy[2] = {0, 0};
    if ((st = hlm_offsets(ctx, st, n_local, r->poff != NULL ? r->poff : dummy)) != HL_OK)
        return st;
    *ntot = r->poff[ctx->P];
    st = hli_cluster_options_check(&r->full, *ntot, d);
    if (st == HL_OK)
        st = hli_cluster_plan_resolve(r->model, 0, &r->full, d, &r->plan);
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        return st;
    return hlm_agree(ctx, same_plan(r));
}

static hl_status mpi_cluster(hlm_run *r, const float *x_local, int64_t n_local, int64_t d,
                             const hl_cluster_options *opts, int64_t *labels_local)
{
    hlm_ctx *ctx = r->ctx;
    int64_t ntot = 0;
    hl_status st = mpi_prepare(r, x_local, n_local, d, opts, labels_local, &ntot);
    if (st != HL_OK)
        return st;
    hli_scope_threads(r->full.num_threads);
    r->nt = hli_threads(r->full.num_threads);
    r->np_local = n_local;
    if (ctx->rank == 0)
        hli_log(HL_LOG_INFO, "mpi cluster: %d ranks, n = %lld, d = %lld, k = %lld, score = %s, tau = %g, merge = %g",
                ctx->P, (long long)ntot, (long long)d, (long long)r->full.k, hli_score_name(r->plan.score),
                (double)r->plan.tau, (double)r->plan.merge);
    hlm_level lv;
    memset(&lv, 0, sizeof lv);
    lv.n_local = n_local;
    lv.d = d;
    /* the features as the model sees them (normalised, its whitening) */
    if (n_local > 0)
        lv.x = hli_model_input(r->model, x_local, n_local, d, &st);
    lv.off = hli_alloc((size_t)ctx->P + 1, sizeof(int64_t));
    lv.nop = hli_alloc((size_t)(n_local > 0 ? n_local : 1), sizeof(int64_t));
    if (st == HL_OK && (lv.off == NULL || lv.nop == NULL))
        st = hl_last_error_status();
    if ((st = hlm_agree(ctx, st)) == HL_OK) {
        memcpy(lv.off, r->poff, ((size_t)ctx->P + 1) * sizeof(int64_t));
        for (int64_t q = 0; q < n_local; q++)
            lv.nop[q] = r->poff[ctx->rank] + q;
        if (r->model != NULL && r->plan.score == HL_SCORE_PROB) { /* the points' original features for the means */
            r->x0 = hli_alloc((size_t)(n_local > 0 ? n_local : 1), (size_t)d * sizeof(float));
            if (r->x0 == NULL)
                st = hl_last_error_status();
            else if (n_local > 0)
                memcpy(r->x0, lv.x, (size_t)(n_local * d) * sizeof(float));
        }
        st = hlm_agree(ctx, st);
    }
    if (st == HL_OK)
        st = dist_levels(r, &lv);
    int64_t *group = NULL;
    if (st == HL_OK && r->e0off != NULL) {
        hlm_phase(ctx, HL_MPI_PHASE_MERGE);
        group = hli_alloc((size_t)(n_local > 0 ? n_local : 1), sizeof(int64_t));
        st = hlm_linkage_merge(r, group == NULL ? hl_last_error_status() : HL_OK, &lv, group);
        hlm_phase(ctx, HL_MPI_PHASE_OTHER);
    }
    if (st == HL_OK)
        st = hlm_group_min_row(ctx, st, lv.off, group != NULL ? group : lv.nop, n_local, r->poff[ctx->rank],
                               labels_local);
    free(group);
    free(lv.off);
    hlm_level_free(&lv);
    return st;
}

hl_status hl_mpi_cluster(MPI_Comm comm, const hl_model *model, const float *x_local, int64_t n_local, int64_t d,
                         const hl_cluster_options *opts, int64_t *labels_local)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hlm_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.comm = comm;
    ctx.stats.struct_size = sizeof ctx.stats;
    ctx.t_phase = hli_now_seconds();
    ctx.phase = HL_MPI_PHASE_OTHER;
    int inited = 0;
    hl_status st = HL_OK;
    MPI_Initialized(&inited);
    if (!inited || comm == MPI_COMM_NULL)
        st = hli_error(HL_EINVAL, "mpi cluster: MPI is not initialised or the communicator is MPI_COMM_NULL");
    else {
        MPI_Comm_rank(comm, &ctx.rank);
        MPI_Comm_size(comm, &ctx.P);
        hlm_run r;
        memset(&r, 0, sizeof r);
        r.ctx = &ctx;
        r.model = model;
        st = mpi_cluster(&r, x_local, n_local, d, opts, labels_local);
        free(r.poff);
        free(r.x0);
        free(r.e0off);
        free(r.e0src);
        free(r.e0snn);
    }
    hlm_phase(&ctx, HL_MPI_PHASE_OTHER);
    hlm_set_last_stats(&ctx.stats);
    hli_scope_leave(&scope);
    return st;
}
