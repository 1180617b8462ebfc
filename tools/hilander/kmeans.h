/* hilander - spherical k-means, the baseline `hilander demo` compares with
 * (not library API: a user would try it before a learned clustering). */
#ifndef HILANDER_CLI_KMEANS_H
#define HILANDER_CLI_KMEANS_H

#include <stdint.h>

/* Scale every row of x (n x d) to unit length; zero rows stay zero. */
void kmeans_normalize_rows(float *x, int64_t n, int64_t d);

/* Spherical k-means (distance 1 - cos) with k-means++ seeding from @p seed,
 * at most @p iters Lloyd iterations, on unit-length rows @p x (n x d):
 * assign[i] in [0, kc).  @return 0, or -1 when out of memory. */
int kmeans_spherical(const float *x, int64_t n, int64_t d, int64_t kc, int iters, uint64_t seed, int64_t *assign);

#endif
