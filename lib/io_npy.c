/* NumPy .npy reading and writing (stub, being implemented). */
#include "internal.h"

hl_status hl_npy_read_f32(const char *path, float **data, int64_t *rows, int64_t *cols)
{
    (void)path; (void)data; (void)rows; (void)cols;
    return hli_error(HL_EINTERNAL, "hl_npy_read_f32: not implemented yet");
}

hl_status hl_npy_read_labels(const char *path, int64_t **labels, int64_t *n)
{
    (void)path; (void)labels; (void)n;
    return hli_error(HL_EINTERNAL, "hl_npy_read_labels: not implemented yet");
}

hl_status hl_npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols)
{
    (void)path; (void)data; (void)rows; (void)cols;
    return hli_error(HL_EINTERNAL, "hl_npy_write_f32: not implemented yet");
}

hl_status hl_npy_write_i64(const char *path, const int64_t *data, int64_t rows, int64_t cols)
{
    (void)path; (void)data; (void)rows; (void)cols;
    return hli_error(HL_EINTERNAL, "hl_npy_write_i64: not implemented yet");
}
