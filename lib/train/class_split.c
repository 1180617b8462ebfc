/* The validation split of training: whole classes are held out, so that
 * checkpoints and the stored clustering defaults are judged on classes the
 * network did not train on, as it will be used. */
#include "train/train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hl_status hli_class_split(const int64_t *labels, int64_t n, double val_fraction, hli_rng *rng, int64_t **classes,
                          int64_t *num_val)
{
    int64_t *cls = hli_alloc((size_t)n, sizeof(int64_t));
    if (cls == NULL)
        return hl_last_error_status();
    memcpy(cls, labels, (size_t)n * sizeof(int64_t));
    qsort(cls, (size_t)n, sizeof(int64_t), hli_cmp_i64);
    int64_t C = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || cls[i] != cls[i - 1])
            cls[C++] = cls[i];
    int64_t nval = (int64_t)floor(val_fraction * (double)C + 0.5);
    if (val_fraction > 0.0 && nval < 1 && C >= 2)
        nval = 1;
    if (nval > C - 1)
        nval = C - 1;
    hli_rng_shuffle_i64(rng, cls, C);
    qsort(cls, (size_t)nval, sizeof(int64_t), hli_cmp_i64); /* validation classes: cls[0 .. nval) */
    *classes = cls;
    *num_val = nval;
    return HL_OK;
}

int hli_class_in(int64_t label, const int64_t *classes, int64_t num_val)
{
    return num_val > 0 && bsearch(&label, classes, (size_t)num_val, sizeof(int64_t), hli_cmp_i64) != NULL;
}

hl_status hli_gather_rows(const float *x, const int64_t *labels, int64_t n, int64_t d, const int64_t *classes,
                          int64_t num_val, int want_val, float *out_x, int64_t *out_y, int64_t *out_idx,
                          int64_t *count)
{
    int64_t q = 0;
    for (int64_t i = 0; i < n; i++) {
        if (hli_class_in(labels[i], classes, num_val) != want_val)
            continue;
        if (out_x != NULL)
            memcpy(out_x + q * d, x + i * d, (size_t)d * sizeof(float));
        if (out_y != NULL)
            out_y[q] = labels[i];
        if (out_idx != NULL)
            out_idx[q] = i;
        q++;
    }
    *count = q;
    return HL_OK;
}
