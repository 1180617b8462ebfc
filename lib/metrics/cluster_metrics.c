/* Clustering metrics (docs/ALGORITHM.md, "Metrics"): pairwise and BCubed precision/recall/F
 * and NMI, from the contingency table of (truth, prediction) label pairs.
 *
 * Labels are arbitrary int64 values: both vectors are first mapped to dense
 * ids by sorting, then the (truth id, prediction id) pairs are sorted so that
 * equal pairs are adjacent.  O(n log n) time, O(n) memory, serial and fixed
 * order, so results are exact and reproducible.
 *
 * Degenerate cases (documented in include/hilander/metrics.h):
 *  - pairwise precision is 1 when the prediction has no pair at all (all
 *    singletons: pk = 0), pairwise recall is 1 when the truth has no pair;
 *  - an F score whose precision and recall are both 0 is 0;
 *  - NMI is 1 when both partitions are a single cluster (as sklearn), 0 when
 *    the mutual information is 0 otherwise. */
#include "common/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t a, b;
} pair64;

static int cmp_pair(const void *x, const void *y)
{
    const pair64 *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

/* ids[i] = dense id (0..C-1, in increasing label order) of labels[i]; cnt
 * receives a new array of the C cluster sizes.  @p tmp holds n pairs. */
static hl_status dense_ids(const int64_t *labels, int64_t n, pair64 *tmp, int64_t *ids, int64_t **cnt,
                           int64_t *num)
{
    for (int64_t i = 0; i < n; i++) {
        tmp[i].a = labels[i];
        tmp[i].b = i;
    }
    qsort(tmp, (size_t)n, sizeof(pair64), cmp_pair);
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i > 0 && tmp[i].a != tmp[i - 1].a)
            c++;
        ids[tmp[i].b] = c;
    }
    c++;
    *cnt = hli_calloc((size_t)c, sizeof(int64_t));
    if (*cnt == NULL)
        return hl_last_error_status();
    for (int64_t i = 0; i < n; i++)
        (*cnt)[ids[i]]++;
    *num = c;
    return HL_OK;
}

void hli_metrics_defaults(void *full)
{
    (void)full; /* every score starts at 0 */
}

hl_status hl_metrics_init(hl_metrics *m, size_t struct_size)
{
    return hli_struct_init(m, struct_size, HLI_MIN_SIZE_METRICS, sizeof *m, hli_metrics_defaults, "hl_metrics_init");
}

static double harmonic(double p, double r)
{
    return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

hl_status hl_evaluate(const int64_t *truth, const int64_t *pred, int64_t n, hl_metrics *out)
{
    if (truth == NULL || pred == NULL || out == NULL)
        return hli_error(HL_EINVAL, "evaluate: %s is NULL", truth == NULL ? "truth" : pred == NULL ? "pred" : "out");
    hl_metrics m;
    hl_status st = hli_struct_read(out, HLI_MIN_SIZE_METRICS, sizeof m, hli_metrics_defaults, &m, "evaluate: out");
    if (st != HL_OK)
        return st;
    if (n < 1)
        return hli_error(HL_EINVAL, "evaluate: n = %lld must be >= 1", (long long)n);
    size_t bytes;
    st = hli_check_dims("labels", n, 1, sizeof(pair64), &bytes);
    if (st != HL_OK)
        return st;

    pair64 *tmp = hli_alloc((size_t)n, sizeof(pair64));
    int64_t *gid = hli_alloc((size_t)n, sizeof(int64_t));
    int64_t *pid = hli_alloc((size_t)n, sizeof(int64_t));
    int64_t *gcnt = NULL, *pcnt = NULL, ng = 0, npred = 0;
    if (tmp == NULL || gid == NULL || pid == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    if ((st = dense_ids(truth, n, tmp, gid, &gcnt, &ng)) != HL_OK)
        goto done;
    if ((st = dense_ids(pred, n, tmp, pid, &pcnt, &npred)) != HL_OK)
        goto done;
    for (int64_t i = 0; i < n; i++) {
        tmp[i].a = gid[i];
        tmp[i].b = pid[i];
    }
    qsort(tmp, (size_t)n, sizeof(pair64), cmp_pair);

    const double dn = (double)n;
    /* Sums of squares are exact in uint64 for n < 2^32. */
    uint64_t tk = 0, pk = 0, qk = 0;
    double bp = 0.0, br = 0.0, mi = 0.0, hg = 0.0, hp = 0.0;
    for (int64_t s = 0; s < n;) {
        int64_t e = s + 1;
        while (e < n && tmp[e].a == tmp[s].a && tmp[e].b == tmp[s].b)
            e++;
        const uint64_t c = (uint64_t)(e - s);
        const double gs = (double)gcnt[tmp[s].a], ps = (double)pcnt[tmp[s].b], dc = (double)c;
        tk += c * c;
        bp += dc * dc / ps;
        br += dc * dc / gs;
        mi += dc / dn * (log(dc) + log(dn) - log(gs) - log(ps));
        s = e;
    }
    for (int64_t g = 0; g < ng; g++) {
        qk += (uint64_t)gcnt[g] * (uint64_t)gcnt[g];
        double q = (double)gcnt[g] / dn;
        hg -= q * log(q);
    }
    for (int64_t p = 0; p < npred; p++) {
        pk += (uint64_t)pcnt[p] * (uint64_t)pcnt[p];
        double q = (double)pcnt[p] / dn;
        hp -= q * log(q);
    }
    tk -= (uint64_t)n;
    pk -= (uint64_t)n;
    qk -= (uint64_t)n;

    m.pairwise_precision = pk > 0 ? (double)tk / (double)pk : 1.0;
    m.pairwise_recall = qk > 0 ? (double)tk / (double)qk : 1.0;
    m.pairwise_f = harmonic(m.pairwise_precision, m.pairwise_recall);
    m.bcubed_precision = bp / dn;
    m.bcubed_recall = br / dn;
    m.bcubed_f = harmonic(m.bcubed_precision, m.bcubed_recall);
    if (mi < 0.0)
        mi = 0.0;
    if (ng == 1 && npred == 1)
        m.nmi = 1.0;
    else if (mi == 0.0)
        m.nmi = 0.0;
    else {
        double denom = 0.5 * (hg + hp);
        m.nmi = mi / (denom > 1e-300 ? denom : 1e-300);
        if (m.nmi > 1.0)
            m.nmi = 1.0;
    }
    m.num_true_clusters = ng;
    m.num_pred_clusters = npred;
    st = hli_struct_write(out, &m, HLI_MIN_SIZE_METRICS, sizeof m, "evaluate: out");

done:
    free(tmp);
    free(gid);
    free(pid);
    free(gcnt);
    free(pcnt);
    return st;
}
