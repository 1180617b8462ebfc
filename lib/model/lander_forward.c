/* The LANDER forward pass (docs/ALGORITHM.md, "The LANDER network"), one function per op
 * group: GraphConv aggregation + linear + ReLU (+ dropout), the link head
 * (node-level GEMMs A h and B h, the relational edge-level GEMMs, PReLU,
 * L1, PReLU, L2, softmax) and the density head.
 *
 * Every loop is parallel over rows (nodes or edges) and every GEMM runs from
 * serial code, so results do not depend on the thread count. */
#include "model/model_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hli_conv_cat(const hl_model *m, int l, const hli_net_input *in, const float *hl, int64_t i0, int64_t i1,
                  float *cat, int nt)
{
    const int64_t w = m->width[l], d = in->d;
    const int cluster = m->cfg.use_cluster_feat;
    const float *cx = in->c ? in->c : in->x;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t i = i0; i < i1; i++) {
        float *row = cat + (i - i0) * 2 * w;
        float *agg = row + w;
        if (hl) {
            memcpy(row, hl + i * w, (size_t)w * sizeof(float));
        } else {
            memcpy(row, in->x + i * d, (size_t)d * sizeof(float));
            if (cluster)
                memcpy(row + d, cx + i * d, (size_t)d * sizeof(float));
        }
        memset(agg, 0, (size_t)w * sizeof(float));
        for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++) {
            const int64_t j = in->src[e];
            const float a = in->aff[e];
            if (hl) {
                const float *hj = hl + j * w;
                for (int64_t q = 0; q < w; q++)
                    agg[q] += a * hj[q];
            } else {
                const float *xj = in->x + j * d;
                for (int64_t q = 0; q < d; q++)
                    agg[q] += a * xj[q];
                if (cluster) {
                    const float *cj = cx + j * d;
                    for (int64_t q = 0; q < d; q++)
                        agg[d + q] += a * cj[q];
                }
            }
        }
    }
}

void hli_conv_apply(const float *W, const float *b, int64_t rows, int64_t in2, int64_t out, const float *cat,
                    float *h, int nt)
{
    hli_gemm(0, 1, rows, out, in2, 1.0f, cat, in2, W, in2, 0.0f, h, out);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t i = 0; i < rows; i++) {
        float *r = h + i * out;
        for (int64_t q = 0; q < out; q++) {
            float v = r[q] + b[q];
            r[q] = v > 0.0f ? v : 0.0f;
        }
    }
}

static inline float prelu(float x, float a) { return x > 0.0f ? x : a * x; }

void hli_head_forward(const hl_model *m, const float *G, int64_t gw, const float *P, const float *Q,
                      const int64_t *src, const int64_t *dst, const float *efeat, int64_t e0, int64_t e1, float *hh,
                      float *z, float *u1, float *v, float *u2, float *prob, int nt)
{
    const int64_t ne = e1 - e0, h2 = m->h2, ew = gw;
    if (ne <= 0)
        return;
    const int rel = m->cfg.link_head == HL_LINK_HEAD_RELATIONAL;
    const float *ba = hli_param(m, m->src_b), *bb = hli_param(m, m->dst_b);
    if (rel) {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t e = 0; e < ne; e++) {
            const float *hi = G + dst[e0 + e] * ew, *hj = G + src[e0 + e] * ew;
            float *o = hh + e * ew;
            for (int64_t q = 0; q < ew; q++)
                o[q] = hi[q] * hj[q];
        }
        hli_gemm(0, 1, ne, h2, ew, 1.0f, hh, ew, hli_param(m, m->rel_w), ew, 0.0f, z, h2);
        hli_gemm(0, 1, ne, h2, m->m, 1.0f, efeat + e0 * m->m, m->m, hli_param(m, m->edge_w), m->m, 1.0f, z, h2);
    }
    const float *br = rel ? hli_param(m, m->rel_b) : NULL, *be = rel ? hli_param(m, m->edge_b) : NULL;
    const float *s1 = hli_param(m, m->prelu1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t e = 0; e < ne; e++) {
        const float *pj = P + src[e0 + e] * h2, *qi = Q + dst[e0 + e] * h2;
        float *ze = z + e * h2, *ue = u1 + e * h2;
        for (int64_t q = 0; q < h2; q++) {
            float t = pj[q] + ba[q] + qi[q] + bb[q];
            if (rel)
                t += ze[q] + br[q] + be[q];
            ze[q] = t;
            ue[q] = prelu(t, s1[q]);
        }
    }
    hli_gemm(0, 1, ne, h2, h2, 1.0f, u1, h2, hli_param(m, m->l1_w), h2, 0.0f, v, h2);
    const float *b1 = hli_param(m, m->l1_b), *s2 = hli_param(m, m->prelu2);
    const float *W2 = hli_param(m, m->l2_w), *b2 = hli_param(m, m->l2_b);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t e = 0; e < ne; e++) {
        float *ve = v + e * h2, *ue = u2 + e * h2;
        float l0 = b2[0], l1 = b2[1];
        for (int64_t q = 0; q < h2; q++) {
            float t = ve[q] + b1[q];
            ve[q] = t;
            float u = prelu(t, s2[q]);
            ue[q] = u;
            l0 += W2[q] * u;
            l1 += W2[h2 + q] * u;
        }
        /* softmax of two logits, stable */
        float mx = l0 > l1 ? l0 : l1;
        float a0 = expf(l0 - mx), a1 = expf(l1 - mx);
        float s = a0 + a1;
        prob[2 * e] = a0 / s;
        prob[2 * e + 1] = a1 / s;
    }
}

/* Inference helpers: the per-edge loops written with 4-wide vector types
 * (GCC/clang vector extensions; the compiler does not if-convert the
 * PReLU select by itself) -- same operations in the same order as the
 * training forward pass, so the results equal it exactly. */
typedef float hli_v4f __attribute__((vector_size(16)));
typedef int32_t hli_v4i __attribute__((vector_size(16)));

static inline hli_v4f v4_load(const float *p)
{
    hli_v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v4_store(float *p, hli_v4f v) { memcpy(p, &v, sizeof v); }

/* x > 0 ? x : a * x, elementwise */
static inline hli_v4f v4_prelu(hli_v4f x, hli_v4f a)
{
    const hli_v4f zero = {0.0f, 0.0f, 0.0f, 0.0f};
    const hli_v4i pos = x > zero;
    const hli_v4i r = ((hli_v4i)x & pos) | ((hli_v4i)(a * x) & ~pos);
    return (hli_v4f)r;
}

/* edges ahead whose A h_j row the gather prefetches (16 floats a line) */
#define HLI_GATHER_PREFETCH 8

/* ze = [PReLU1](pj + qi + bias); ve = b1 (the L1 GEMM then adds z W1^T
 * with beta = 1: b1 + sum equals sum + b1 exactly, and OpenBLAS skips its
 * separate pass zeroing C) */
static void infer_gather(const float *restrict pj, const float *restrict qi, const float *restrict bias,
                         const float *restrict s1, int prelu_now, float *restrict ze, const float *restrict b1,
                         float *restrict ve, int64_t h2)
{
    const int64_t h4 = h2 - h2 % 4;
    for (int64_t q = 0; q < h4; q += 4) {
        hli_v4f t = v4_load(pj + q) + v4_load(qi + q) + v4_load(bias + q);
        if (prelu_now)
            t = v4_prelu(t, v4_load(s1 + q));
        v4_store(ze + q, t);
    }
    for (int64_t q = h4; q < h2; q++) {
        const float t = pj[q] + qi[q] + bias[q];
        ze[q] = prelu_now ? prelu(t, s1[q]) : t;
    }
    memcpy(ve, b1, (size_t)h2 * sizeof(float));
}

static void infer_prelu(float *restrict ze, const float *restrict s1, int64_t h2)
{
    const int64_t h4 = h2 - h2 % 4;
    for (int64_t q = 0; q < h4; q += 4)
        v4_store(ze + q, v4_prelu(v4_load(ze + q), v4_load(s1 + q)));
    for (int64_t q = h4; q < h2; q++)
        ze[q] = prelu(ze[q], s1[q]);
}

/* PReLU2(v + b1), L2 and the softmax of one edge: 8 interleaved partial
 * sums (vectorisable, fixed order, thread-independent). */
static void infer_l2(const float *restrict ve, const float *restrict s2,
                     const float *restrict W2, const float *restrict b2, int64_t h2, float *restrict pr)
{
    const int64_t h8 = h2 - h2 % 8;
    hli_v4f s0a = {0}, s0b = {0}, s1a = {0}, s1b = {0}; /* partial sums t = 0..3, 4..7 */
    for (int64_t q = 0; q < h8; q += 8) {
        const hli_v4f ua = v4_prelu(v4_load(ve + q), v4_load(s2 + q));
        const hli_v4f ub = v4_prelu(v4_load(ve + q + 4), v4_load(s2 + q + 4));
        s0a += v4_load(W2 + q) * ua;
        s0b += v4_load(W2 + q + 4) * ub;
        s1a += v4_load(W2 + h2 + q) * ua;
        s1b += v4_load(W2 + h2 + q + 4) * ub;
    }
    float l0 = b2[0], l1 = b2[1];
    for (int64_t q = h8; q < h2; q++) {
        const float u = prelu(ve[q], s2[q]);
        l0 += W2[q] * u;
        l1 += W2[h2 + q] * u;
    }
    l0 += ((s0a[0] + s0a[1]) + (s0a[2] + s0a[3])) + ((s0b[0] + s0b[1]) + (s0b[2] + s0b[3]));
    l1 += ((s1a[0] + s1a[1]) + (s1a[2] + s1a[3])) + ((s1b[0] + s1b[1]) + (s1b[2] + s1b[3]));
    const float mx = l0 > l1 ? l0 : l1;
    const float a0 = expf(l0 - mx), a1 = expf(l1 - mx);
    const float s = a0 + a1;
    pr[0] = a0 / s;
    pr[1] = a1 / s;
}

/* One head chunk's arguments, shared by the per-edge tasks below (each
 * works on edges [r0, r1) of the chunk, independently per edge). */
typedef struct {
    const float *G, *PQ, *bias, *WEt, *efeat, *s1, *b1, *s2, *W2, *b2;
    const int64_t *src, *dst;
    float *hh, *z, *v, *prob;
    int64_t gw, e0, ne, h2, mf;
    int rel;
} head_task;

/* z = A h_j + B h_i + (sum of the biases) + E e_ij, and hh = g_i * g_j
 * (reference head: z = PReLU1(z) right away); v = b1 */
static void head_gather_rows(void *arg, int64_t r0, int64_t r1)
{
    const head_task *t = arg;
    const int64_t h2 = t->h2, gw = t->gw, mf = t->mf, e0 = t->e0;
    for (int64_t e = r0; e < r1; e++) {
        const int64_t i = t->dst[e0 + e], j = t->src[e0 + e];
        if (e + HLI_GATHER_PREFETCH < t->ne) { /* the random row A h_j a few edges ahead */
            const float *pn = t->PQ + t->src[e0 + e + HLI_GATHER_PREFETCH] * 2 * h2;
            for (int64_t q = 0; q < h2; q += 16)
                __builtin_prefetch(pn + q);
        }
        float *ze = t->z + e * h2;
        infer_gather(t->PQ + j * 2 * h2, t->PQ + i * 2 * h2 + h2, t->bias, t->s1, !t->rel, ze, t->b1,
                     t->v + e * h2, h2);
        if (t->rel) {
            const float *fe = t->efeat + (e0 + e) * mf;
            for (int64_t f = 0; f < mf; f++) {
                const float a = fe[f], *wf = t->WEt + f * h2;
                for (int64_t q = 0; q < h2; q++)
                    ze[q] += a * wf[q];
            }
            const float *gi = t->G + i * gw, *gj = t->G + j * gw;
            float *o = t->hh + e * gw;
            for (int64_t q = 0; q < gw; q++)
                o[q] = gi[q] * gj[q];
        }
    }
}

static void head_prelu_rows(void *arg, int64_t r0, int64_t r1)
{
    const head_task *t = arg;
    for (int64_t e = r0; e < r1; e++)
        infer_prelu(t->z + e * t->h2, t->s1, t->h2);
}

static void head_l2_rows(void *arg, int64_t r0, int64_t r1)
{
    const head_task *t = arg;
    for (int64_t e = r0; e < r1; e++)
        infer_l2(t->v + e * t->h2, t->s2, t->W2, t->b2, t->h2, t->prob + 2 * e);
}

/* edges per block of the pool tasks */
#define HLI_HEAD_GRAIN 128

void hli_head_infer(const hl_model *m, const float *G, int64_t gw, const float *PQ, const float *bias,
                    const float *WEt, const int64_t *src, const int64_t *dst, const float *efeat, int64_t e0,
                    int64_t e1, float *hh, float *z, float *v, float *prob, hli_pool *pool)
{
    const int64_t ne = e1 - e0, h2 = m->h2;
    if (ne <= 0)
        return;
    head_task t = {.G = G, .PQ = PQ, .bias = bias, .WEt = WEt, .efeat = efeat,
                   .s1 = hli_param(m, m->prelu1), .b1 = hli_param(m, m->l1_b), .s2 = hli_param(m, m->prelu2),
                   .W2 = hli_param(m, m->l2_w), .b2 = hli_param(m, m->l2_b), .src = src, .dst = dst,
                   .hh = hh, .z = z, .v = v, .prob = prob, .gw = gw, .e0 = e0, .ne = ne, .h2 = h2, .mf = m->m,
                   .rel = m->cfg.link_head == HL_LINK_HEAD_RELATIONAL};
    hli_pool_run(pool, head_gather_rows, &t, ne, HLI_HEAD_GRAIN);
    if (t.rel) {
        hli_gemm(0, 1, ne, h2, gw, 1.0f, hh, gw, hli_param(m, m->rel_w), gw, 1.0f, z, h2);
        hli_pool_run(pool, head_prelu_rows, &t, ne, HLI_HEAD_GRAIN);
    }
    hli_gemm(0, 1, ne, h2, h2, 1.0f, z, h2, hli_param(m, m->l1_w), h2, 1.0f, v, h2);
    hli_pool_run(pool, head_l2_rows, &t, ne, HLI_HEAD_GRAIN);
}

void hli_head_density(const int64_t *offsets, const float *sim, const float *prob, int64_t i0, int64_t i1,
                      float *dhat)
{
    const int64_t base = offsets[i0];
    for (int64_t i = i0; i < i1; i++) {
        const int64_t a = offsets[i], b = offsets[i + 1];
        float s = 0.0f;
        for (int64_t e = a; e < b; e++)
            s += sim[e] * (prob[2 * (e - base) + 1] - prob[2 * (e - base)]);
        dhat[i] = b > a ? s / (float)(b - a) : 0.0f;
    }
}

void hli_net_cache_free(hli_net_cache *c)
{
    if (c == NULL)
        return;
    for (int l = 0; l < HLI_MAX_CONV; l++)
        free(c->cat[l]);
    for (int l = 0; l <= HLI_MAX_CONV; l++)
        free(c->h[l]);
    free(c->dst);
    free(c->P);
    free(c->Q);
    free(c->hh);
    free(c->G);
    free(c->z);
    free(c->u1);
    free(c->v);
    free(c->u2);
    free(c->prob);
    free(c->dhat);
    memset(c, 0, sizeof *c);
}

/* A stateless hash of (seed, layer, element) for dropout masks: the mask does
 * not depend on the thread schedule. */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

hl_status hli_net_forward(const hl_model *m, const hli_net_input *in, int nt, int train, uint64_t dropout_seed,
                          hli_net_cache *c)
{
    memset(c, 0, sizeof *c);
    const int L = m->cfg.num_conv;
    const int64_t n = in->n, h2 = m->h2, ew = m->width[L];
    const int64_t gw = m->relp_w >= 0 ? m->t[m->relp_w].rows : ew; /* width of the relational products */
    if (n < 1 || in->n_head < 0 || in->n_head > n)
        return hli_error(HL_EINVAL, "forward: n = %lld, n_head = %lld", (long long)n, (long long)in->n_head);
    if (n > INT_MAX / 4 || in->offsets[n] > INT_MAX / 4)
        return hli_error(HL_ERANGE, "forward: %lld nodes / %lld edges exceed the GEMM index range",
                         (long long)n, (long long)in->offsets[n]);
    const int64_t ne = in->offsets[in->n_head];
    c->n = n;
    c->ne = ne;
    c->drop_scale = 1.0f;
    const float p = train ? m->cfg.dropout : 0.0f;
    if (p > 0.0f)
        c->drop_scale = 1.0f / (1.0f - p);

    /* every head endpoint lies in [0, nr): the last layer and the head's node
     * GEMMs need those rows only (mini-batches number centres and their
     * sources first) */
    int64_t nr = in->n_head;
    for (int64_t e = 0; e < ne; e++)
        nr = in->src[e] + 1 > nr ? in->src[e] + 1 : nr;
    c->nr = nr;
    for (int l = 0; l < L; l++) {
        const int64_t w = m->width[l], wo = m->width[l + 1];
        const int64_t rows = l == L - 1 ? nr : n;
        c->cat[l] = hli_alloc((size_t)n, (size_t)(2 * w) * sizeof(float));
        c->h[l + 1] = hli_calloc((size_t)n, (size_t)wo * sizeof(float));
        if (c->cat[l] == NULL || c->h[l + 1] == NULL)
            goto oom;
        hli_conv_cat(m, l, in, l == 0 ? NULL : c->h[l], 0, rows, c->cat[l], nt);
        hli_conv_apply(hli_param(m, m->conv_w[l]), hli_param(m, m->conv_b[l]), rows, 2 * w, wo, c->cat[l],
                       c->h[l + 1], nt);
        if (p > 0.0f) {
            const uint64_t thr = (uint64_t)((double)p * 18446744073709551616.0);
            const float sc = c->drop_scale;
            float *h = c->h[l + 1];
#pragma omp parallel for schedule(static) num_threads(nt)
            for (int64_t i = 0; i < rows * wo; i++) {
                uint64_t r = mix64(dropout_seed ^ mix64(((uint64_t)l << 56) ^ (uint64_t)i));
                h[i] = r < thr ? 0.0f : h[i] * sc;
            }
        }
    }
    const float *H = c->h[L];
    c->P = hli_alloc((size_t)n, (size_t)h2 * sizeof(float));
    c->Q = hli_alloc((size_t)n, (size_t)h2 * sizeof(float));
    c->dst = hli_alloc((size_t)(ne ? ne : 1), sizeof(int64_t));
    c->z = hli_alloc((size_t)(ne ? ne : 1), (size_t)h2 * sizeof(float));
    c->u1 = hli_alloc((size_t)(ne ? ne : 1), (size_t)h2 * sizeof(float));
    c->v = hli_alloc((size_t)(ne ? ne : 1), (size_t)h2 * sizeof(float));
    c->u2 = hli_alloc((size_t)(ne ? ne : 1), (size_t)h2 * sizeof(float));
    c->prob = hli_alloc((size_t)(ne ? ne : 1), 2 * sizeof(float));
    c->dhat = hli_alloc((size_t)(in->n_head ? in->n_head : 1), sizeof(float));
    if (m->cfg.link_head == HL_LINK_HEAD_RELATIONAL)
        c->hh = hli_alloc((size_t)(ne ? ne : 1), (size_t)gw * sizeof(float));
    if (m->relp_w >= 0)
        c->G = hli_alloc((size_t)nr, (size_t)gw * sizeof(float));
    if (!c->P || !c->Q || !c->dst || !c->z || !c->u1 || !c->v || !c->u2 || !c->prob || !c->dhat ||
        (m->cfg.link_head == HL_LINK_HEAD_RELATIONAL && !c->hh) || (m->relp_w >= 0 && !c->G))
        goto oom;
    for (int64_t i = 0; i < in->n_head; i++)
        for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++)
            c->dst[e] = i;
    hli_gemm(0, 1, nr, h2, ew, 1.0f, H, ew, hli_param(m, m->src_w), ew, 0.0f, c->P, h2);
    hli_gemm(0, 1, nr, h2, ew, 1.0f, H, ew, hli_param(m, m->dst_w), ew, 0.0f, c->Q, h2);
    if (m->relp_w >= 0)
        hli_gemm(0, 1, nr, gw, ew, 1.0f, H, ew, hli_param(m, m->relp_w), ew, 0.0f, c->G, gw);
    hli_head_forward(m, m->relp_w >= 0 ? c->G : H, gw, c->P, c->Q, in->src, c->dst, in->efeat, 0, ne, c->hh, c->z, c->u1, c->v, c->u2,
                     c->prob, nt);
    hli_head_density(in->offsets, in->sim, c->prob, 0, in->n_head, c->dhat);
    return HL_OK;
oom:
    hli_net_cache_free(c);
    return hl_last_error_status() != HL_OK ? hl_last_error_status() : hli_oom();
}
