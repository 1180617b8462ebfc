/* kNN search: options, validation and method dispatch (docs/ALGORITHM.md, "kNN search").
 * Exact search lives in exact.c, the approximate IVF in ivf.c, NN-descent in
 * nndescent.c. */
#include "knn/knn_internal.h"

#include <limits.h>
#include <stdlib.h>

void hli_knn_options_defaults(void *full)
{
    hl_knn_options *opts = full;
    opts->k = 10;
    opts->method = HL_KNN_AUTO;
    opts->num_threads = 0;
    opts->auto_threshold = 50000;
    opts->block_rows = 0;
    opts->nlist = 0;
    opts->nprobe = 0;
    opts->target_recall = 0.97;
    opts->seed = 0;
}

hl_status hl_knn_options_init(hl_knn_options *opts, size_t struct_size)
{
    return hli_struct_init(opts, struct_size, HLI_MIN_SIZE_KNN_OPTIONS, sizeof *opts, hli_knn_options_defaults,
                           "hl_knn_options_init");
}

hl_status hli_knn_check_options(const hl_knn_options *opts, int64_t n, hl_knn_options *eff)
{
    if (opts == NULL) {
        memset(eff, 0, sizeof *eff);
        hli_knn_options_defaults(eff);
        eff->struct_size = sizeof *eff;
    } else {
        hl_status st = hli_struct_read(opts, HLI_MIN_SIZE_KNN_OPTIONS, sizeof *eff, hli_knn_options_defaults, eff,
                                       "knn options");
        if (st != HL_OK)
            return st;
    }
    if (eff->k < 1 || eff->k > n)
        return hli_error(HL_EINVAL, "knn options: k = %lld must be in [1, n = %lld]", (long long)eff->k,
                         (long long)n);
    if (eff->method < HL_KNN_AUTO || eff->method > HL_KNN_NNDESCENT)
        return hli_error(HL_EINVAL, "knn options: method = %d is not an hl_knn_method", (int)eff->method);
    if (eff->num_threads < 0)
        return hli_error(HL_EINVAL, "knn options: num_threads = %d must be >= 0", (int)eff->num_threads);
    if (eff->auto_threshold < 0)
        return hli_error(HL_EINVAL, "knn options: auto_threshold = %lld must be >= 0",
                         (long long)eff->auto_threshold);
    if (eff->block_rows < 0)
        return hli_error(HL_EINVAL, "knn options: block_rows = %lld must be >= 0", (long long)eff->block_rows);
    if (eff->nlist < 0 || eff->nlist > n)
        return hli_error(HL_EINVAL, "knn options: nlist = %lld must be in [0, n = %lld]", (long long)eff->nlist,
                         (long long)n);
    if (eff->nprobe < 0)
        return hli_error(HL_EINVAL, "knn options: nprobe = %lld must be >= 0", (long long)eff->nprobe);
    if (!(eff->target_recall > 0.0 && eff->target_recall <= 1.0))
        return hli_error(HL_EINVAL, "knn options: target_recall = %g must be in (0, 1]", eff->target_recall);
    return HL_OK;
}

/* Shape checks shared by the public entry points: n >= 1, d >= 1, n*d and
 * n*k fit in memory sizes, d fits a BLAS int. */
hl_status hli_knn_check_shape(int64_t n, int64_t d)
{
    if (n < 1)
        return hli_error(HL_EINVAL, "knn: n = %lld must be >= 1", (long long)n);
    if (d < 1)
        return hli_error(HL_EINVAL, "knn: d = %lld must be >= 1", (long long)d);
    hl_status st = hli_check_dims("knn: features", n, d, sizeof(float), NULL);
    if (st != HL_OK)
        return st;
    if (d > INT_MAX || n > INT_MAX / 2)
        return hli_error(HL_ERANGE, "knn: n = %lld, d = %lld exceed the BLAS int range", (long long)n,
                         (long long)d);
    return HL_OK;
}

hl_status hli_knn_normalized(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int64_t *nbrs,
                             float *sims)
{
    hl_knn_options o;
    hl_status st = hli_knn_check_shape(n, d);
    if (st != HL_OK)
        return st;
    if (xn == NULL || nbrs == NULL)
        return hli_error(HL_EINVAL, "knn: %s is NULL", xn == NULL ? "x" : "nbrs");
    if ((st = hli_knn_check_options(opts, n, &o)) != HL_OK)
        return st;
    if ((st = hli_check_dims("knn: neighbour lists", n, o.k, sizeof(int64_t), NULL)) != HL_OK)
        return st;
    const int nt = hli_threads(o.num_threads);
    int method = o.method;
    if (method == HL_KNN_AUTO)
        method = n <= o.auto_threshold ? HL_KNN_EXACT : HL_KNN_APPROX;
    if (method == HL_KNN_EXACT)
        return hli_knn_exact(xn, n, d, o.k, o.block_rows, nt, nbrs, sims);
    if (method == HL_KNN_NNDESCENT)
        return hli_knn_nndescent(xn, n, d, &o, nt, nbrs, sims);
    return hli_knn_ivf(xn, n, d, &o, nt, nbrs, sims, NULL);
}

static hl_status knn_search(const float *x, int64_t n, int64_t d, const hl_knn_options *opts, int64_t *nbrs,
                            float *sims)
{
    hl_knn_options o;
    hl_status st = hli_knn_check_shape(n, d);
    if (st != HL_OK)
        return st;
    if (x == NULL || nbrs == NULL)
        return hli_error(HL_EINVAL, "knn: %s is NULL", x == NULL ? "x" : "nbrs");
    /* Validate the cheap things (options, output size) before copying the
     * features. */
    if ((st = hli_knn_check_options(opts, n, &o)) != HL_OK)
        return st;
    if ((st = hli_check_dims("knn: neighbour lists", n, o.k, sizeof(int64_t), NULL)) != HL_OK)
        return st;
    hli_scope_threads(o.num_threads);
    float *xn = hli_normalized_copy(x, n, d, &st);
    if (xn == NULL)
        return st;
    st = hli_knn_normalized(xn, n, d, &o, nbrs, sims);
    free(xn);
    return st;
}

hl_status hl_knn_search(const float *x, int64_t n, int64_t d, const hl_knn_options *opts, int64_t *nbrs,
                        float *sims)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = knn_search(x, n, d, opts, nbrs, sims);
    hli_scope_leave(&scope);
    return st;
}
