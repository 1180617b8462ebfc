/* hilander - spherical k-means, a baseline for the demo (see kmeans.h). */
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Uniform double in [0,1) from a splitmix64 state. */
static double rnd_unit(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* S = X C^T for a block of rows: X rows (m x d), CT (d x kc): S (m x kc).
 * The inner loop runs over centroids so the compiler vectorises it without
 * reassociating sums (a GEMM-shaped kernel; the CLI does not link BLAS). */
static void block_scores(const float *x, int64_t m, int64_t d, const float *ct, int64_t kc, float *s)
{
    for (int64_t i = 0; i < m; i++) {
        float *si = s + i * kc;
        for (int64_t c = 0; c < kc; c++)
            si[c] = 0.0f;
        for (int64_t t = 0; t < d; t++) {
            const float xv = x[i * d + t];
            const float *row = ct + t * kc;
            for (int64_t c = 0; c < kc; c++)
                si[c] += xv * row[c];
        }
    }
}

void kmeans_normalize_rows(float *x, int64_t n, int64_t d)
{
    for (int64_t i = 0; i < n; i++) {
        double ss = 0;
        for (int64_t t = 0; t < d; t++)
            ss += (double)x[i * d + t] * x[i * d + t];
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        for (int64_t t = 0; t < d; t++)
            x[i * d + t] = (float)(x[i * d + t] * inv);
    }
}

/* Spherical k-means with k-means++ seeding (distance 1 - cos); @p x normalised. */
int kmeans_spherical(const float *x, int64_t n, int64_t d, int64_t kc, int iters, uint64_t seed,
                      int64_t *assign)
{
    const int64_t B = 256;
    if (n < 1 || d < 1 || kc < 1 || kc > n || (uint64_t)kc > SIZE_MAX / sizeof(double) / (uint64_t)d)
        return -1;
    float *cen = malloc((size_t)(kc * d) * sizeof(float)), *ct = malloc((size_t)(kc * d) * sizeof(float));
    float *s = malloc((size_t)(B * kc) * sizeof(float));
    double *dist = malloc((size_t)n * sizeof(double)), *acc = malloc((size_t)(kc * d) * sizeof(double));
    float *best = malloc((size_t)n * sizeof(float));
    int64_t *cnt = malloc((size_t)kc * sizeof(int64_t));
    int rc = -1;
    if (!cen || !ct || !s || !dist || !acc || !best || !cnt)
        goto done;
    uint64_t st = seed;
    /* k-means++ */
    int64_t first = (int64_t)(rnd_unit(&st) * (double)n);
    memcpy(cen, x + first * d, (size_t)d * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        dist[i] = INFINITY;
    for (int64_t c = 1; c <= kc; c++) {
        const float *cp = cen + (c - 1) * d;
        double total = 0;
        for (int64_t i = 0; i < n; i++) {
            double dot = 0;
            for (int64_t t = 0; t < d; t++)
                dot += (double)x[i * d + t] * cp[t];
            double dd = 1.0 - dot;
            if (dd < 0)
                dd = 0;
            if (dd < dist[i])
                dist[i] = dd;
            total += dist[i] * dist[i];
        }
        if (c == kc)
            break;
        double r = rnd_unit(&st) * total, run = 0;
        int64_t pick = n - 1;
        for (int64_t i = 0; i < n; i++) {
            run += dist[i] * dist[i];
            if (run > r) {
                pick = i;
                break;
            }
        }
        memcpy(cen + c * d, x + pick * d, (size_t)d * sizeof(float));
    }
    for (int it = 0; it < iters; it++) {
        for (int64_t c = 0; c < kc; c++)
            for (int64_t t = 0; t < d; t++)
                ct[t * kc + c] = cen[c * d + t];
        int64_t changed = 0;
        for (int64_t i0 = 0; i0 < n; i0 += B) {
            int64_t m = n - i0 < B ? n - i0 : B;
            block_scores(x + i0 * d, m, d, ct, kc, s);
            for (int64_t i = 0; i < m; i++) {
                int64_t arg = 0;
                for (int64_t c = 1; c < kc; c++)
                    if (s[i * kc + c] > s[i * kc + arg])
                        arg = c;
                if (it == 0 || assign[i0 + i] != arg)
                    changed++;
                assign[i0 + i] = arg;
                best[i0 + i] = s[i * kc + arg];
            }
        }
        if (it > 0 && changed == 0)
            break;
        memset(acc, 0, (size_t)(kc * d) * sizeof(double));
        memset(cnt, 0, (size_t)kc * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) {
            cnt[assign[i]]++;
            for (int64_t t = 0; t < d; t++)
                acc[assign[i] * d + t] += x[i * d + t];
        }
        for (int64_t c = 0; c < kc; c++) {
            if (cnt[c] == 0) {
                /* an empty cluster takes the worst-fitting point */
                int64_t w = 0;
                for (int64_t i = 1; i < n; i++)
                    if (best[i] < best[w])
                        w = i;
                best[w] = INFINITY;
                memcpy(cen + c * d, x + w * d, (size_t)d * sizeof(float));
                continue;
            }
            for (int64_t t = 0; t < d; t++)
                cen[c * d + t] = (float)acc[c * d + t];
        }
        kmeans_normalize_rows(cen, kc, d);
    }
    rc = 0;
done:
    free(cen);
    free(ct);
    free(s);
    free(dist);
    free(acc);
    free(best);
    free(cnt);
    return rc;
}
