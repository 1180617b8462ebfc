/* Approximate kNN: inverted file over spherical k-means cells (stub). */
#include "knn_internal.h"

hl_status hli_knn_ivf(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt, int64_t *nbrs,
                      float *sims, int64_t *nprobe_used)
{
    (void)opts;
    (void)nprobe_used;
    return hli_knn_exact(xn, n, d, opts->k, opts->block_rows, nt, nbrs, sims);
}
