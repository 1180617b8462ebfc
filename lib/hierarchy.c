/* One level of the hierarchy (SPEC section 5): stub, being implemented. */
#include "hierarchy.h"

#include <stdlib.h>
#include <string.h>

hl_status hli_level_init(hli_level *lv, const float *x, int64_t n, int64_t d, const int64_t *labels)
{
    (void)x; (void)n; (void)d; (void)labels;
    if (lv)
        memset(lv, 0, sizeof(*lv));
    return hli_error(HL_EINTERNAL, "hli_level_init: not implemented yet");
}

hl_status hli_level_next(const hli_level *cur, const int64_t *peak, const float *x0, hli_level *next)
{
    (void)cur; (void)peak; (void)x0;
    if (next)
        memset(next, 0, sizeof(*next));
    return hli_error(HL_EINTERNAL, "hli_level_next: not implemented yet");
}

void hli_level_free(hli_level *lv)
{
    if (lv == NULL)
        return;
    free(lv->x);
    free(lv->c);
    free(lv->label);
    free(lv->node_of_point);
    memset(lv, 0, sizeof(*lv));
}
