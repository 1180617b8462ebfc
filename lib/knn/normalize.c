/* Input validation and L2 normalisation of feature rows (docs/ALGORITHM.md, "Features and normalisation"). */
#include "knn/knn_internal.h"

#include <math.h>
#include <stdlib.h>

hl_status hli_check_finite(const char *what, const float *x, int64_t n, int64_t d)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            if (!isfinite(x[i * d + j]))
                return hli_error(HL_EINVAL, "%s: row %lld, column %lld is not finite", what, (long long)i,
                                 (long long)j);
    return HL_OK;
}

/* Row i's squared norm, or an error for a non-finite or zero row. */
static hl_status row_norm2(const float *xi, int64_t i, int64_t d, double *ss_out)
{
    double ss = 0.0;
    for (int64_t j = 0; j < d; j++) {
        if (!isfinite(xi[j]))
            return hli_error(HL_EINVAL, "features: row %lld, column %lld is not finite", (long long)i, (long long)j);
        ss += (double)xi[j] * xi[j];
    }
    if (!(ss > 0.0) || !isfinite(ss))
        return hli_error(HL_EINVAL, "features: row %lld is a zero vector (cannot be normalised)", (long long)i);
    *ss_out = ss;
    return HL_OK;
}

hl_status hli_normalize_in_place(float *x, int64_t n, int64_t d)
{
    hl_status st = hli_check_dims("features", n, d, sizeof(float), NULL);
    if (st != HL_OK)
        return st;
    if (x == NULL)
        return hli_error(HL_EINVAL, "features: pointer is NULL");
    /* every row is checked before any is written: a bad row leaves x as it was */
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++)
        if ((st = row_norm2(x + i * d, i, d, &ss)) != HL_OK)
            return st;
    for (int64_t i = 0; i < n; i++) {
        float *xi = x + i * d;
        (void)row_norm2(xi, i, d, &ss);
        const double inv = 1.0 / sqrt(ss); /* as hli_normalized_copy: the same floats */
        for (int64_t j = 0; j < d; j++)
            xi[j] = (float)(xi[j] * inv);
    }
    return HL_OK;
}

float *hli_normalized_copy(const float *x, int64_t n, int64_t d, hl_status *status)
{
    size_t bytes;
    *status = hli_check_dims("features", n, d, sizeof(float), &bytes);
    if (*status != HL_OK)
        return NULL;
    if (x == NULL) {
        *status = hli_error(HL_EINVAL, "features: pointer is NULL");
        return NULL;
    }
    float *y = hli_alloc(bytes, 1);
    if (y == NULL) {
        *status = hl_last_error_status();
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * d;
        double ss = 0.0;
        for (int64_t j = 0; j < d; j++) {
            if (!isfinite(xi[j])) {
                *status = hli_error(HL_EINVAL, "features: row %lld, column %lld is not finite", (long long)i,
                                    (long long)j);
                free(y);
                return NULL;
            }
            ss += (double)xi[j] * xi[j];
        }
        if (!(ss > 0.0) || !isfinite(ss)) {
            *status = hli_error(HL_EINVAL, "features: row %lld is a zero vector (cannot be normalised)",
                                (long long)i);
            free(y);
            return NULL;
        }
        double inv = 1.0 / sqrt(ss);
        for (int64_t j = 0; j < d; j++)
            y[i * d + j] = (float)(xi[j] * inv);
    }
    *status = HL_OK;
    return y;
}
