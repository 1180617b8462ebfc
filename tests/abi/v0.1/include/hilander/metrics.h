/*
 * libhilander - clustering quality metrics (docs/ALGORITHM.md, "Metrics").
 * All run in O(n log n) time and O(n) memory; labels may be any int64 values.
 * Thread safety: every function may run concurrently on any threads.
 */
#ifndef HILANDER_METRICS_H
#define HILANDER_METRICS_H

#include "common.h"
#include "error.h"

HL_EXTERN_C_BEGIN

/** Scores of a predicted partition against the ground truth. */
typedef struct hl_metrics {
    size_t struct_size;           /**< set by hl_metrics_init(); always the first member */
    double pairwise_precision;
    double pairwise_recall;
    double pairwise_f;
    double bcubed_precision;
    double bcubed_recall;
    double bcubed_f;
    double nmi;                   /**< MI over the arithmetic mean of the entropies */
    int64_t num_true_clusters;
    int64_t num_pred_clusters;
} hl_metrics;

/**
 * Zero the caller's first @p struct_size bytes of @p m and set
 * m->struct_size = struct_size: `hl_metrics_init(&m, sizeof m)`.  The library
 * never writes past it (docs/API.md, "Versioning rule for options and result structs").
 * @return HL_OK; HL_EINVAL for NULL or a size outside the layouts this
 *         library knows (from the first release's up to its own)
 */
HL_API hl_status hl_metrics_init(hl_metrics *m, size_t struct_size);

/**
 * Score @p pred against @p truth (n labels each).
 *
 * Degenerate cases: pairwise precision is 1 when the prediction puts no two
 * points together (all singletons, 0/0), pairwise recall is 1 when the truth
 * has no pair; an F score with precision = recall = 0 is 0; NMI is 1 when
 * both partitions are a single cluster (as sklearn) and 0 whenever the mutual
 * information is 0 otherwise.
 * @param out caller struct set up by hl_metrics_init(); only its first
 *            out->struct_size bytes are written
 * @return HL_OK; HL_EINVAL for NULL, n < 1 or a bad struct_size; HL_ENOMEM
 */
HL_API hl_status hl_evaluate(const int64_t *truth, const int64_t *pred, int64_t n, hl_metrics *out);

HL_EXTERN_C_END

#endif
