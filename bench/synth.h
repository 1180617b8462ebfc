/* Synthetic clustered feature vectors for benchmarks: n points in d dims in
 * about C clusters with long-tailed (Pareto) sizes, in shuffled order.
 * Header-only (static functions) so any bench_*.c can include it.  Also the
 * diffuse set of issue 19 (synth_diffuse). */
#ifndef HL_BENCH_SYNTH_H
#define HL_BENCH_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t synth_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double synth_unit(uint64_t *s)
{
    return (double)(synth_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double synth_gauss(uint64_t *s)
{
    double u = synth_unit(s), v = synth_unit(s);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Generate: x (n*d floats) and labels (n), both malloc'ed; returns 0 or -1.
 * Cluster sizes: 1 + Pareto(alpha) shares of the rest (alpha ~ 1.5: a long tail
 * of small clusters and a few large ones).  Point = unit centre + sigma * N(0, I).
 * With S > 0 super-clusters, the centres themselves are grouped as real
 * embeddings are (related classes lie close): centre = normalise(unit
 * super-centre + spread * N(0, I/d)), the super-centre drawn uniformly. */
static inline int synth_clusters(int64_t n, int64_t d, int64_t C, double alpha, double sigma, int64_t S, double spread,
                          uint64_t seed, float **x, int64_t **labels)
{
    uint64_t s = seed * 0x2545F4914F6CDD1Dull + 1;
    if (C < 1 || C > n)
        return -1;
    double *w = malloc((size_t)C * sizeof(double));
    int64_t *size = malloc((size_t)C * sizeof(int64_t));
    float *cen = malloc((size_t)(C * d) * sizeof(float));
    *x = malloc((size_t)(n * d) * sizeof(float));
    *labels = malloc((size_t)n * sizeof(int64_t));
    if (!w || !size || !cen || !*x || !*labels) {
        free(w);
        free(size);
        free(cen);
        free(*x);
        free(*labels);
        return -1;
    }
    double W = 0;
    for (int64_t c = 0; c < C; c++) {
        w[c] = pow(1.0 - synth_unit(&s), -1.0 / alpha);
        W += w[c];
    }
    int64_t tot = 0;
    for (int64_t c = 0; c < C; c++) {
        size[c] = 1 + (int64_t)(w[c] / W * (double)(n - C));
        tot += size[c];
    }
    for (int64_t c = 0; tot < n; c = (c + 1) % C, tot++)
        size[c]++;
    for (int64_t c = 0, p = 0; c < C; c++)
        for (int64_t t = 0; t < size[c]; t++)
            (*labels)[p++] = c;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(synth_next(&s) % (uint64_t)(i + 1));
        int64_t tmp = (*labels)[i];
        (*labels)[i] = (*labels)[j];
        (*labels)[j] = tmp;
    }
    float *sup = NULL;
    if (S > 0) {
        sup = malloc((size_t)(S * d) * sizeof(float));
        if (!sup) {
            free(w);
            free(size);
            free(cen);
            free(*x);
            free(*labels);
            return -1;
        }
        for (int64_t c = 0; c < S; c++) {
            double ss = 0;
            for (int64_t t = 0; t < d; t++) {
                double g = synth_gauss(&s);
                sup[c * d + t] = (float)g;
                ss += g * g;
            }
            for (int64_t t = 0; t < d; t++)
                sup[c * d + t] = (float)(sup[c * d + t] / sqrt(ss));
        }
    }
    for (int64_t c = 0; c < C; c++) {
        const float *sc = sup ? sup + (int64_t)(synth_next(&s) % (uint64_t)S) * d : NULL;
        double ss = 0;
        for (int64_t t = 0; t < d; t++) {
            double g = sc ? sc[t] + spread * synth_gauss(&s) / sqrt((double)d) : synth_gauss(&s);
            cen[c * d + t] = (float)g;
            ss += g * g;
        }
        for (int64_t t = 0; t < d; t++)
            cen[c * d + t] = (float)(cen[c * d + t] / sqrt(ss));
    }
    free(sup);
    for (int64_t i = 0; i < n; i++) {
        const float *cc = cen + (*labels)[i] * d;
        for (int64_t t = 0; t < d; t++)
            (*x)[i * d + t] = cc[t] + (float)(sigma * synth_gauss(&s));
    }
    free(w);
    free(size);
    free(cen);
    return 0;
}

/* The diffuse data of issue 19 (hard for approximate kNN): C centres drawn
 * from N(0, I) (unit variance per dimension, not normalised); cluster sizes
 * proportional to 1/rank^0.8 (rank 1 the largest, every cluster at least one
 * point); each point its centre plus N(0, noise^2 I); rows L2-normalised; the
 * points in shuffled order.  The set is n = 1,000,000, d = 128,
 * C = 50,000, noise = 0.6.  Deterministic from @p seed.  x (n*d floats) and
 * labels (n, may be NULL) are malloc'ed; returns 0 or -1. */
static inline int synth_diffuse(int64_t n, int64_t d, int64_t C, double noise, uint64_t seed, float **x,
                                int64_t **labels)
{
    uint64_t s = seed * 0x2545F4914F6CDD1Dull + 7;
    *x = NULL;
    if (labels)
        *labels = NULL;
    if (n < 1 || d < 1 || C < 1 || C > n)
        return -1;
    int64_t *size = malloc((size_t)C * sizeof(int64_t));
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    float *cen = malloc((size_t)C * (size_t)d * sizeof(float));
    *x = malloc((size_t)n * (size_t)d * sizeof(float));
    if (!size || !lab || !cen || !*x) {
        free(size);
        free(lab);
        free(cen);
        free(*x);
        *x = NULL;
        return -1;
    }
    double W = 0;
    for (int64_t r = 0; r < C; r++)
        W += pow((double)(r + 1), -0.8);
    int64_t tot = 0;
    for (int64_t r = 0; r < C; r++) {
        size[r] = 1 + (int64_t)(pow((double)(r + 1), -0.8) / W * (double)(n - C));
        tot += size[r];
    }
    for (int64_t r = 0; tot < n; r = (r + 1) % C, tot++)
        size[r]++;
    for (int64_t r = 0, p = 0; r < C; r++)
        for (int64_t t = 0; t < size[r]; t++)
            lab[p++] = r;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(synth_next(&s) % (uint64_t)(i + 1));
        int64_t tmp = lab[i];
        lab[i] = lab[j];
        lab[j] = tmp;
    }
    for (int64_t t = 0; t < C * d; t++)
        cen[t] = (float)synth_gauss(&s);
    for (int64_t i = 0; i < n; i++) {
        const float *cc = cen + lab[i] * d;
        float *xi = *x + i * d;
        double ss = 0;
        for (int64_t t = 0; t < d; t++) {
            xi[t] = (float)(cc[t] + noise * synth_gauss(&s));
            ss += (double)xi[t] * xi[t];
        }
        const double inv = ss > 0 ? 1.0 / sqrt(ss) : 1.0;
        for (int64_t t = 0; t < d; t++)
            xi[t] = (float)(xi[t] * inv);
    }
    free(size);
    free(cen);
    if (labels)
        *labels = lab;
    else
        free(lab);
    return 0;
}

#endif
