/* One decode (SPEC section 4): stub, being implemented. */
#include "graph_internal.h"

hl_status hl_decode(const hl_graph *graph, const float *score, const float *density, float tau, int64_t *parent,
                    int64_t *labels)
{
    (void)graph; (void)score; (void)density; (void)tau; (void)parent; (void)labels;
    return hli_error(HL_EINTERNAL, "hl_decode: not implemented yet");
}
