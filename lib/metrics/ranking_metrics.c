/* Ranking metrics of scores against binary labels: the area under the ROC
 * curve (from mid-ranks, so ties count one half) and average precision (ties
 * grouped).  Used to judge the link head on held-out edges. */
#include "metrics/metrics_internal.h"

#include <math.h>
#include <stdlib.h>

typedef struct scored {
    float s;
    uint8_t y;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

hl_status hli_auc_ap(const float *score, const uint8_t *label, int64_t n, double *auc, double *ap)
{
    *auc = *ap = NAN;
    if (n < 1)
        return HL_OK;
    scored *v = hli_alloc((size_t)n, sizeof *v);
    if (v == NULL)
        return hl_last_error_status();
    int64_t P = 0;
    for (int64_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].y = label[i] != 0;
        P += v[i].y;
    }
    const int64_t N = n - P;
    if (P == 0 || N == 0) {
        free(v);
        return HL_OK;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    /* AUC from mid-ranks (ascending); AP from the top (descending), ties grouped */
    double rank_sum = 0.0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        int64_t pos = 0;
        while (j < n && v[j].s == v[i].s)
            pos += v[j++].y;
        rank_sum += (double)pos * (0.5 * (double)(i + 1 + j));
        i = j;
    }
    *auc = (rank_sum - 0.5 * (double)P * (double)(P + 1)) / ((double)P * (double)N);
    double tp = 0, fp = 0, a = 0;
    for (int64_t i = n - 1; i >= 0;) {
        int64_t j = i;
        double pos = 0, neg = 0;
        while (j >= 0 && v[j].s == v[i].s) {
            pos += v[j].y;
            neg += !v[j].y;
            j--;
        }
        tp += pos;
        fp += neg;
        a += pos / (double)P * (tp / (tp + fp));
        i = j;
    }
    *ap = a;
    free(v);
    return HL_OK;
}
