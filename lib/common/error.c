/* Status strings, the per-thread last error and the caller's log sink. */
#include "common/internal.h"

#include <stdarg.h>
#include <string.h>

#define HLI_ERROR_MAX 512

/* One buffer per thread: errors on one thread never clobber another's. */
static _Thread_local char tls_message[HLI_ERROR_MAX];
static _Thread_local hl_status tls_status = HL_OK;

static hl_log_fn log_fn = NULL;
static void *log_user = NULL;
static hl_log_level log_max = HL_LOG_WARN;

HL_API const char *hl_status_str(hl_status status)
{
    switch (status) {
    case HL_OK: return "HL_OK: success";
    case HL_EINVAL: return "HL_EINVAL: invalid argument";
    case HL_ENOMEM: return "HL_ENOMEM: out of memory";
    case HL_EIO: return "HL_EIO: input/output error";
    case HL_EFORMAT: return "HL_EFORMAT: malformed or unsupported file";
    case HL_ERANGE: return "HL_ERANGE: size out of range";
    case HL_ECANCELED: return "HL_ECANCELED: stopped by the caller";
    case HL_EVERSION: return "HL_EVERSION: unsupported format version";
    case HL_EINTERNAL: return "HL_EINTERNAL: internal error";
    }
    return "unknown status";
}

HL_API const char *hl_last_error(void) { return tls_message; }

HL_API hl_status hl_last_error_status(void) { return tls_status; }

HL_API void hl_clear_error(void)
{
    tls_message[0] = '\0';
    tls_status = HL_OK;
}

hl_status hli_error(hl_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    tls_status = status;
    return status;
}

hl_status hli_oom(void)
{
    static const char msg[] = "out of memory";
    memcpy(tls_message, msg, sizeof msg);
    tls_status = HL_ENOMEM;
    return HL_ENOMEM;
}

HL_API void hl_set_log_callback(hl_log_fn fn, void *user, hl_log_level max_level)
{
    log_fn = fn;
    log_user = user;
    log_max = max_level;
}

void hli_log(hl_log_level level, const char *fmt, ...)
{
    hl_log_fn fn = log_fn;
    if (fn == NULL || level > log_max)
        return;
    char line[HLI_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(level, line, log_user);
}
