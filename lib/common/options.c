/* The one versioning rule for public structs (docs/API.md, "Versioning
 * rule for options and result structs").  Every public options or result
 * struct begins with size_t struct_size and only grows at the end.  The caller's own sizeof
 * reaches the library (the init functions take it; the struct carries it):
 * the library accepts any size from the first released layout (min_size) up
 * to its own (full_size), never reads or writes past the caller's size, and
 * gives fields the caller does not have their default values. */
#include "common/internal.h"

#include <stdalign.h>
#include <string.h>

/* Large enough for every public versioned struct (checked at run time). */
#define HLI_STRUCT_MAX 1024

static hl_status check_size(size_t size, size_t min_size, size_t full_size, const char *what)
{
    if (full_size > HLI_STRUCT_MAX || full_size < sizeof(size_t))
        return hli_error(HL_EINTERNAL, "%s: struct of %zu bytes is not a versioned struct", what, full_size);
    if (size < min_size || size > full_size)
        return hli_error(HL_EINVAL,
                         "%s: struct_size = %zu is not a layout this library knows (%zu to %zu bytes); "
                         "pass sizeof of the struct to its init function",
                         what, size, min_size, full_size);
    return HL_OK;
}

/* The size a caller's struct says it has (its first member), checked. */
static hl_status caller_size(const void *caller, size_t min_size, size_t full_size, const char *what, size_t *size)
{
    if (caller == NULL)
        return hli_error(HL_EINVAL, "%s: NULL pointer", what);
    memcpy(size, caller, sizeof *size);
    return check_size(*size, min_size, full_size, what);
}

hl_status hli_struct_init(void *caller, size_t size, size_t min_size, size_t full_size, hli_struct_defaults_fn defaults,
                          const char *what)
{
    if (caller == NULL)
        return hli_error(HL_EINVAL, "%s: NULL pointer", what);
    hl_status st = check_size(size, min_size, full_size, what);
    if (st != HL_OK)
        return st;
    alignas(max_align_t) unsigned char full[HLI_STRUCT_MAX];
    memset(full, 0, full_size);
    defaults(full);
    memcpy(caller, full, size);
    memcpy(caller, &size, sizeof size);
    return HL_OK;
}

hl_status hli_struct_read(const void *caller, size_t min_size, size_t full_size, hli_struct_defaults_fn defaults,
                          void *full, const char *what)
{
    size_t size = 0;
    hl_status st = caller_size(caller, min_size, full_size, what, &size);
    if (st != HL_OK)
        return st;
    memset(full, 0, full_size);
    defaults(full);
    memcpy(full, caller, size);
    memcpy(full, &full_size, sizeof full_size);
    return HL_OK;
}

hl_status hli_struct_write(void *caller, const void *full, size_t min_size, size_t full_size, const char *what)
{
    size_t size = 0;
    hl_status st = caller_size(caller, min_size, full_size, what, &size);
    if (st != HL_OK)
        return st;
    memcpy(caller, full, size);
    memcpy(caller, &size, sizeof size);
    return HL_OK;
}
