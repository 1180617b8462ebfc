/* The small exported functions of libhilander_mpi: models, the last error
 * and the log callback of this library's own copy of the internals, and the
 * counters of the last call. */
#include "mpi/mpi_dist.h"

#include <string.h>

static _Thread_local hl_mpi_stats last_stats;

void hlm_set_last_stats(const hl_mpi_stats *stats)
{
    last_stats = *stats;
}

hl_status hl_mpi_last_stats(hl_mpi_stats *stats)
{
    if (stats == NULL)
        return hli_error(HL_EINVAL, "hl_mpi_last_stats: stats is NULL");
    if (stats->struct_size != sizeof *stats)
        return hli_error(HL_EINVAL, "hl_mpi_last_stats: struct_size = %zu, expected %zu", stats->struct_size,
                         sizeof *stats);
    *stats = last_stats;
    stats->struct_size = sizeof *stats;
    return HL_OK;
}

hl_status hl_mpi_model_load(const char *path, hl_model **out)
{
    return hl_model_load(path, out);
}

void hl_mpi_model_free(hl_model *model)
{
    hl_model_free(model);
}

const char *hl_mpi_last_error(void)
{
    return hl_last_error();
}

hl_status hl_mpi_last_error_status(void)
{
    return hl_last_error_status();
}

void hl_mpi_set_log_callback(hl_log_fn fn, void *user, hl_log_level max_level)
{
    hl_set_log_callback(fn, user, max_level);
}
