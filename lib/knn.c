/* kNN search: options and method dispatch (stub, being implemented). */
#include "internal.h"

void hl_knn_options_init(hl_knn_options *opts)
{
    if (opts == NULL)
        return;
    opts->struct_size = sizeof(*opts);
    opts->k = 10;
    opts->method = HL_KNN_AUTO;
    opts->num_threads = 0;
    opts->auto_threshold = 200000;
    opts->block_rows = 0;
    opts->nlist = 0;
    opts->nprobe = 0;
    opts->target_recall = 0.97;
    opts->seed = 0;
}

hl_status hl_knn_search(const float *x, int64_t n, int64_t d, const hl_knn_options *opts, int64_t *nbrs,
                        float *sims)
{
    (void)x;
    (void)n;
    (void)d;
    (void)opts;
    (void)nbrs;
    (void)sims;
    return hli_error(HL_EINTERNAL, "hl_knn_search: not implemented yet");
}
