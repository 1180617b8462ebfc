/* Versioned option structs: every public options or configuration struct
 * begins with size_t struct_size, and fields are only appended.  A caller
 * compiled against an older header passes the older size; the library then
 * works on a full-size copy whose appended fields are zero, and each struct
 * documents what zero means for them (the older library's behaviour). */
#include "internal.h"

#include <string.h>

hl_status hli_options_full(const void *in, size_t full_size, size_t old_size, void *out, const char *what,
                           const char *init_fn)
{
    if (in == NULL)
        return hli_error(HL_EINVAL, "%s: NULL pointer", what);
    size_t size;
    memcpy(&size, in, sizeof size);
    if (size != full_size && size != old_size)
        return hli_error(HL_EINVAL, "%s: struct_size = %zu, expected %zu (call %s)", what, size, full_size, init_fn);
    memset(out, 0, full_size);
    memcpy(out, in, size);
    memcpy(out, &full_size, sizeof full_size);
    return HL_OK;
}
