/* Checked size arithmetic and allocation: every size that can overflow goes
 * through here so that absurd inputs become HL_ERANGE, never a short buffer. */
#include "common/internal.h"

#include <stdlib.h>

#ifdef HL_FAULT_INJECTION
/* Test builds only (cmake -DHL_FAULT_INJECTION=ON, tests/fault): when armed
 * with n > 0, the nth allocation from then on fails as if malloc had. */
#include <stdatomic.h>
static atomic_llong fault_target, fault_seen;
void hli_fault_arm(long long n)
{
    atomic_store(&fault_target, 0);
    atomic_store(&fault_seen, 0);
    atomic_store(&fault_target, n);
}
long long hli_fault_count(void) { return atomic_load(&fault_seen); }
bool hli_fault_fail(void)
{
    const long long n = atomic_fetch_add(&fault_seen, 1) + 1;
    return n == atomic_load(&fault_target);
}
#define HLI_FAULT() hli_fault_fail()
#else
#define HLI_FAULT() false
#endif

HL_API void hl_free(void *ptr) { free(ptr); }

bool hli_mul_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

void *hli_alloc(size_t count, size_t size)
{
    size_t bytes;
    if (!hli_mul_size(count, size, &bytes)) {
        hli_error(HL_ERANGE, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = HLI_FAULT() ? NULL : malloc(bytes ? bytes : 1);
    if (p == NULL)
        hli_oom();
    return p;
}

void *hli_calloc(size_t count, size_t size)
{
    size_t bytes;
    if (!hli_mul_size(count, size, &bytes)) {
        hli_error(HL_ERANGE, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = HLI_FAULT() ? NULL : calloc(bytes ? count : 1, bytes ? size : 1);
    if (p == NULL)
        hli_oom();
    return p;
}

void *hli_realloc(void *ptr, size_t count, size_t size)
{
    size_t bytes;
    if (!hli_mul_size(count, size, &bytes)) {
        hli_error(HL_ERANGE, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = HLI_FAULT() ? NULL : realloc(ptr, bytes ? bytes : 1);
    if (p == NULL)
        hli_oom();
    return p;
}

hl_status hli_check_dims(const char *what, int64_t rows, int64_t cols, size_t elem_size, size_t *bytes)
{
    if (rows < 1 || cols < 1)
        return hli_error(HL_EINVAL, "%s: shape (%lld, %lld) must be positive", what, (long long)rows,
                         (long long)cols);
    size_t n, b;
    if ((uint64_t)rows > SIZE_MAX || (uint64_t)cols > SIZE_MAX || !hli_mul_size((size_t)rows, (size_t)cols, &n) ||
        !hli_mul_size(n, elem_size, &b) || b > (size_t)INT64_MAX)
        return hli_error(HL_ERANGE, "%s: shape (%lld, %lld) is too large", what, (long long)rows, (long long)cols);
    if (bytes)
        *bytes = b;
    return HL_OK;
}
