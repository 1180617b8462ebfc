/* Model inference across ranks: not yet distributed. */
#include "mpi/mpi_dist.h"

hl_status hlm_model_scores(hlm_run *r, hlm_level *lv, hl_status st, float *sc, float *dens)
{
    (void)lv;
    (void)sc;
    (void)dens;
    if (st == HL_OK)
        st = hli_error(HL_EINVAL, "mpi cluster: score 'prob' (a model) is not supported yet");
    return hlm_agree(r->ctx, st);
}

hl_status hlm_cluster_means(hlm_run *r, hlm_level *next, hl_status st)
{
    (void)next;
    return hlm_agree(r->ctx, st);
}
