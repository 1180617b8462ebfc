/* A monotonic clock for the timings the library logs. */
#define _POSIX_C_SOURCE 200809L
#include "common/internal.h"

#include <time.h>

double hli_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
