/* Synthetic blobs made row by row (synth.c). */
#ifndef HILANDER_MPI_SYNTH_H
#define HILANDER_MPI_SYNTH_H

#include <stdint.h>

typedef struct synth_spec {
    int64_t n, d, classes;
    double noise;
    uint64_t seed;
} synth_spec;

/* Rows g0 .. g0+n-1 into x (n x d). */
void synth_rows(const synth_spec *s, int64_t g0, int64_t n, float *x);

#endif
