/* Clustering metrics (SPEC section 6): stub, being implemented. */
#include "internal.h"

hl_status hl_evaluate(const int64_t *truth, const int64_t *pred, int64_t n, hl_metrics *out)
{
    (void)truth; (void)pred; (void)n; (void)out;
    return hli_error(HL_EINTERNAL, "hl_evaluate: not implemented yet");
}
