/*
 * libhilander - version information.  The functions are thread-safe.
 */
#ifndef HILANDER_VERSION_H
#define HILANDER_VERSION_H

#include "common.h"

#define HL_VERSION_MAJOR 0
#define HL_VERSION_MINOR 3
#define HL_VERSION_PATCH 0
/* MAJOR*10000 + MINOR*100 + PATCH, comparable with '<' like ZSTD_VERSION_NUMBER */
#define HL_VERSION_NUMBER (HL_VERSION_MAJOR * 10000 + HL_VERSION_MINOR * 100 + HL_VERSION_PATCH)

#define HL_STRINGIFY_(x) #x
#define HL_STRINGIFY(x) HL_STRINGIFY_(x)
#define HL_VERSION_STRING \
    HL_STRINGIFY(HL_VERSION_MAJOR) "." HL_STRINGIFY(HL_VERSION_MINOR) "." HL_STRINGIFY(HL_VERSION_PATCH)

HL_EXTERN_C_BEGIN

/** @return the run-time library version as "MAJOR.MINOR.PATCH" (static string). */
HL_API const char *hl_version(void);

/** @return the run-time library version as HL_VERSION_NUMBER of the built library. */
HL_API uint32_t hl_version_number(void);

HL_EXTERN_C_END

#endif
