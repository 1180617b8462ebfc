/* Run-time version of the library, for callers that linked an older header. */
#include "common/internal.h"

HL_API const char *hl_version(void) { return HL_VERSION_STRING; }

HL_API uint32_t hl_version_number(void) { return (uint32_t)HL_VERSION_NUMBER; }
