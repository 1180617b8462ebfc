/*
 * libhilander - status codes, per-thread error details and logging.
 *
 * Every fallible function returns an hl_status.  HL_OK is zero; every other
 * value is an error whose details (which argument, which byte offset) can be
 * read with hl_last_error() from the same thread, until the next failing call
 * on that thread.  The library never prints and never aborts.
 */
#ifndef HILANDER_ERROR_H
#define HILANDER_ERROR_H

#include "common.h"

HL_EXTERN_C_BEGIN

/** Status codes.  New codes are only ever appended. */
typedef enum hl_status {
    HL_OK = 0,         /**< success */
    HL_EINVAL = 1,     /**< an argument is invalid (NULL, out of range, NaN, wrong shape) */
    HL_ENOMEM = 2,     /**< an allocation failed */
    HL_EIO = 3,        /**< a file could not be opened, read, written or renamed */
    HL_EFORMAT = 4,    /**< a file is malformed, truncated, corrupted or of an unsupported kind */
    HL_ERANGE = 5,     /**< a size is absurd or a size computation would overflow */
    HL_ECANCELED = 6,  /**< a caller callback asked to stop */
    HL_EVERSION = 7,   /**< a file was written by a newer, incompatible format version */
    HL_EINTERNAL = 8   /**< a bug in the library; please report it */
} hl_status;

/** @return a static, human-readable name for @p status ("HL_EINVAL: invalid argument"). */
HL_API const char *hl_status_str(hl_status status);

/**
 * @return the message describing the last error on the calling thread
 * (an empty string if there is none).  The pointer stays valid until the next
 * library call on this thread.  Reporting out-of-memory never allocates.
 */
HL_API const char *hl_last_error(void);

/** @return the status of the last error on the calling thread (HL_OK if none). */
HL_API hl_status hl_last_error_status(void);

/** Clear the calling thread's last error. */
HL_API void hl_clear_error(void);

/** Log levels passed to the log callback. Appended to, never renumbered. */
typedef enum hl_log_level {
    HL_LOG_ERROR = 0,
    HL_LOG_WARN = 1,
    HL_LOG_INFO = 2,
    HL_LOG_DEBUG = 3
} hl_log_level;

/** A logging sink: @p msg is a NUL-terminated line without trailing newline. */
typedef void (*hl_log_fn)(hl_log_level level, const char *msg, void *user);

/**
 * Install a process-wide log callback (NULL to silence, the default).
 * Messages above @p max_level are not formatted at all.
 * Not thread-safe with respect to concurrent hl_set_log_callback calls.
 */
HL_API void hl_set_log_callback(hl_log_fn fn, void *user, hl_log_level max_level);

HL_EXTERN_C_END

#endif
