/* Internal metrics, not in the public API. */
#ifndef HILANDER_METRICS_INTERNAL_H
#define HILANDER_METRICS_INTERNAL_H

#include "common/internal.h"

/* Link AUC (ties count one half) and average precision (ties grouped, as
 * sklearn) of @p score against 0/1 @p label.  NaN if a class is absent.
 * HL_ENOMEM on allocation failure. */
hl_status hli_auc_ap(const float *score, const uint8_t *label, int64_t n, double *auc, double *ap);

#endif
