/* learn-to-cluster .bin/.meta reading and writing (stub, being implemented). */
#include "internal.h"

hl_status hl_lc_read_bin(const char *path, int64_t dim, float **data, int64_t *rows)
{
    (void)path; (void)dim; (void)data; (void)rows;
    return hli_error(HL_EINTERNAL, "hl_lc_read_bin: not implemented yet");
}

hl_status hl_lc_read_meta(const char *path, int64_t **labels, int64_t *n)
{
    (void)path; (void)labels; (void)n;
    return hli_error(HL_EINTERNAL, "hl_lc_read_meta: not implemented yet");
}

hl_status hl_lc_write_bin(const char *path, const float *data, int64_t rows, int64_t dim)
{
    (void)path; (void)data; (void)rows; (void)dim;
    return hli_error(HL_EINTERNAL, "hl_lc_write_bin: not implemented yet");
}

hl_status hl_lc_write_meta(const char *path, const int64_t *labels, int64_t n)
{
    (void)path; (void)labels; (void)n;
    return hli_error(HL_EINTERNAL, "hl_lc_write_meta: not implemented yet");
}
