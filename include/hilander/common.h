/*
 * libhilander - common definitions shared by every public header.
 *
 * Copyright (c) 2026 The libhilander authors. MIT licence (see LICENSE).
 */
#ifndef HILANDER_COMMON_H
#define HILANDER_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* HL_API marks the functions that form the ABI.  Everything else in the
 * shared library is built with -fvisibility=hidden and is not exported. */
#if defined(_WIN32)
#  if defined(HL_BUILDING_LIBRARY)
#    define HL_API __declspec(dllexport)
#  else
#    define HL_API
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define HL_API __attribute__((visibility("default")))
#else
#  define HL_API
#endif

#ifdef __cplusplus
#  define HL_EXTERN_C_BEGIN extern "C" {
#  define HL_EXTERN_C_END }
#else
#  define HL_EXTERN_C_BEGIN
#  define HL_EXTERN_C_END
#endif

HL_EXTERN_C_BEGIN

/**
 * Release memory that the library allocated and handed to the caller
 * (arrays returned by the I/O functions, for example).  NULL is a no-op.
 * Use this instead of free() so that callers built against another C runtime
 * (FFI, Windows) release memory with the allocator that made it.
 * Thread-safe.
 */
HL_API void hl_free(void *ptr);

HL_EXTERN_C_END

#endif /* HILANDER_COMMON_H */
