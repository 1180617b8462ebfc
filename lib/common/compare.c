/* qsort/bsearch comparators shared across the library. */
#include "common/internal.h"

int hli_cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
