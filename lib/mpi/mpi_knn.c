/* hl_mpi_knn: the distributed kNN search on its own (dist_knn.c exact,
 * dist_ivf.c approximate). */
#include "knn/knn_internal.h"
#include "mpi/mpi_dist.h"

#include <stdlib.h>
#include <string.h>

static hl_status mpi_knn(hlm_ctx *ctx, const float *x_local, int64_t n_local, int64_t d, const hl_knn_options *opts,
                         int64_t *nbrs_local, float *sims_local)
{
    hl_status st = HL_OK;
    hl_knn_options o;
    int64_t *poff = hli_alloc((size_t)ctx->P + 1, sizeof *poff);
    if (poff == NULL)
        st = hl_last_error_status();
    else if (n_local < 0 || d < 1)
        st = hli_error(HL_EINVAL, "mpi knn: n_local = %lld must be >= 0 and d = %lld >= 1", (long long)n_local,
                       (long long)d);
    else if (n_local > 0 && (x_local == NULL || nbrs_local == NULL))
        st = hli_error(HL_EINVAL, "mpi knn: %s is NULL", x_local == NULL ? "x_local" : "nbrs_local");
    if ((st = hlm_agree(ctx, st)) != HL_OK) {
        free(poff);
        return st;
    }
    int64_t d0 = d;
    MPI_Bcast(&d0, 1, MPI_INT64_T, 0, ctx->comm);
    if (d0 != d)
        st = hli_error(HL_EINVAL, "mpi knn: d = %lld but rank 0 has d = %lld", (long long)d, (long long)d0);
    st = hlm_offsets(ctx, st, n_local, poff);
    if (st == HL_OK)
        st = hli_knn_check_options(opts, poff[ctx->P], &o);
    if ((st = hlm_agree(ctx, st)) == HL_OK) { /* ranks with other options would run other collectives */
        int64_t f[7] = {o.k, o.method, o.auto_threshold, o.nlist, o.nprobe, (int64_t)o.seed, 0}, g[7];
        memcpy(&f[6], &o.target_recall, sizeof(double));
        memcpy(g, f, sizeof g);
        MPI_Bcast(g, 7, MPI_INT64_T, 0, ctx->comm);
        if (memcmp(f, g, sizeof f) != 0)
            st = hli_error(HL_EINVAL, "mpi knn: the options differ from rank 0's (every rank must pass the same)");
    }
    float *xn = NULL, *sims = NULL;
    if (st == HL_OK && n_local > 0)
        xn = hli_normalized_copy(x_local, n_local, d, &st);
    if (st == HL_OK && (sims = hli_alloc((size_t)(n_local > 0 ? n_local : 1), (size_t)o.k * sizeof(float))) == NULL)
        st = hl_last_error_status();
    if ((st = hlm_agree(ctx, st)) == HL_OK) {
        hli_scope_threads(o.num_threads);
        const int nt = hli_threads(o.num_threads);
        const int approx = o.method == HL_KNN_AUTO ? poff[ctx->P] > o.auto_threshold : o.method != HL_KNN_EXACT;
        hlm_phase(ctx, HL_MPI_PHASE_KNN);
        if (approx)
            st = hlm_knn_ivf(ctx, st, xn, n_local, d, poff, &o, nt, nbrs_local, sims);
        else
            st = hlm_knn_exact(ctx, st, xn, n_local, d, poff, o.k, nt, nbrs_local, sims);
        hlm_phase(ctx, HL_MPI_PHASE_OTHER);
        if (st == HL_OK && sims_local != NULL && n_local > 0)
            memcpy(sims_local, sims, (size_t)(n_local * o.k) * sizeof(float));
    }
    free(poff);
    free(xn);
    free(sims);
    return st;
}

hl_status hl_mpi_knn(MPI_Comm comm, const float *x_local, int64_t n_local, int64_t d, const hl_knn_options *opts,
                     int64_t *nbrs_local, float *sims_local)
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
    hl_status st;
    MPI_Initialized(&inited);
    if (!inited || comm == MPI_COMM_NULL) {
        st = hli_error(HL_EINVAL, "mpi knn: MPI is not initialised or the communicator is MPI_COMM_NULL");
    } else {
        MPI_Comm_rank(comm, &ctx.rank);
        MPI_Comm_size(comm, &ctx.P);
        st = mpi_knn(&ctx, x_local, n_local, d, opts, nbrs_local, sims_local);
    }
    hlm_phase(&ctx, HL_MPI_PHASE_OTHER);
    hlm_set_last_stats(&ctx.stats);
    hli_scope_leave(&scope);
    return st;
}
