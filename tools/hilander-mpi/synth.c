/* Synthetic rows for `hilander-mpi synth` and `cluster --synthetic`: row g
 * belongs to class g % C, a centre in [-1, 1)^D plus uniform noise; every
 * value is a hash of (seed, class or row, column), so any rank can make any
 * row range and the data do not depend on the number of ranks. */
#include "synth.h"

static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(uint64_t seed, uint64_t a, uint64_t b)
{
    return (double)(mix(seed ^ mix(a * 0x100000001B3ull ^ mix(b))) >> 11) * 0x1.0p-53;
}

void synth_rows(const synth_spec *s, int64_t g0, int64_t n, float *x)
{
    for (int64_t r = 0; r < n; r++) {
        const int64_t g = g0 + r, c = g % s->classes;
        for (int64_t t = 0; t < s->d; t++) {
            const double centre = 2.0 * unit(s->seed, (uint64_t)c, (uint64_t)t) - 1.0;
            const double noise = unit(s->seed + 1, (uint64_t)g, (uint64_t)t) - 0.5;
            x[r * s->d + t] = (float)(centre + s->noise * noise);
        }
    }
}
