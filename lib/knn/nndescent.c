/* Approximate kNN by NN-descent (Dong, Charikar, Li 2011) started from a cheap
 * IVF graph.  See docs/KNN.md, "NN-descent", for why and the figures.
 *
 *  1. First graph: IVF (ivf.c) probing one cell (nprobe) gives K/3
 *     neighbours per point, K/6 seeded random points join them (they connect
 *     the cells).  The points are then renumbered breadth first through
 *     these lists (a copy of the rows), so that neighbours lie close in memory.
 *  2. Iterations: every point's "new" entries (inserted since it was last
 *     joined; at most S of them) and "old" entries, plus the reverse
 *     entries (points that list it, at most S each, chosen by a seeded hash),
 *     are joined locally: the similarities of all new x (new + old) pairs are
 *     one small Gram matrix (gathered rows, a vectorised kernel), and a pair
 *     that beats the worst entry of either end's list is proposed to it.
 *  3. Points are joined in fixed blocks; after each block the proposals are
 *     applied to the lists (a list keeps its K best by (sim desc, id asc)).
 *     Stop when an iteration inserts fewer than HLI_NND_STOP * n * K entries.
 *  4. The best k-1+HLI_TOPK_MARGIN entries of every list are re-ranked by the
 *     fixed-order reference dot (hli_dot_ref) as in the other methods and the
 *     best k-1 kept, self first.
 *
 * Deterministic for any thread count: the lists only change between blocks
 * (whose bounds do not depend on threads); a list's new content is the top K
 * of (its entries + proposals), a set that does not depend on the order the
 * proposals arrive in, since a pair's similarity is computed by the same
 * sequential float sum wherever it is computed (nnd_dot and every lane of
 * the Gram kernel: acc += a[t] * b[t], t ascending, no contraction); sampling
 * uses a hash of (seed, iteration, point, entry), never a thread's order. */
#include "knn/knn_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define HLI_NND_MAX_ITERS 12
#define HLI_NND_STOP 0.002
#define HLI_NND_BLOCK ((int64_t)16384)
#define HLI_NND_BUCKETS 64
/* At most this many points (or K >= n / 8): exact search instead. */
#define HLI_NND_EXACT_N 2048

/* A proposal: cand for tgt's list, with their similarity. */
typedef struct nnd_prop {
    int32_t tgt, cand;
    float s;
} nnd_prop;

typedef struct nnd_buf {
    nnd_prop *p;
    int64_t len, cap;
} nnd_buf;

/* The lists: n rows of K entries sorted by (sim desc, id asc); empty slots
 * (-INFINITY, INT32_MAX); isnew = 1 until the entry has taken part in a join. */
typedef struct nnd_pool {
    int64_t n, K;
    float *s;
    int32_t *id;
    uint8_t *isnew;
} nnd_pool;

/* The similarity of a pair as every step computes it (see the top comment). */
static float nnd_dot(const float *a, const float *b, int64_t d)
{
    float acc = 0.0f;
    for (int64_t t = 0; t < d; t++) {
        const float p = a[t] * b[t];
        acc = acc + p;
    }
    return acc;
}

/* Insert (v, c) into a sorted row unless c is there or it is not better than
 * the worst entry.  @return 1 if inserted. */
static int row_insert(float *s, int32_t *id, uint8_t *fl, int64_t K, float v, int32_t c)
{
    if (v < s[K - 1] || (v == s[K - 1] && c >= id[K - 1]))
        return 0;
    for (int64_t t = 0; t < K; t++)
        if (id[t] == c)
            return 0;
    int64_t p = K - 1;
    while (p > 0 && (s[p - 1] < v || (s[p - 1] == v && id[p - 1] > c))) {
        s[p] = s[p - 1];
        id[p] = id[p - 1];
        fl[p] = fl[p - 1];
        p--;
    }
    s[p] = v;
    id[p] = c;
    fl[p] = 1;
    return 1;
}

/* 1 if the list of @p a holds @p b.  Its similarity there is @p v exactly
 * (every step computes a pair's similarity the same way), so a binary search
 * for v in the sorted row finds it. */
static int row_has(const nnd_pool *pool, int32_t a, float v, int32_t b)
{
    const float *s = pool->s + (int64_t)a * pool->K;
    const int32_t *id = pool->id + (int64_t)a * pool->K;
    int64_t lo = 0, hi = pool->K; /* first position with s <= v */
    while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if (s[mid] > v)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < pool->K && s[lo] == v; lo++)
        if (id[lo] == b)
            return 1;
    return 0;
}

/* ---- the Gram kernel ------------------------------------------------------- */

/* out[i * ld + j] = nnd_dot(row L[i], row L[j]) for i < nr and i < j < m,
 * from gt (d x ld: column j is row L[j], zero-padded to ld, a multiple of 8).
 * Each lane accumulates acc + a * b in t order, exactly as nnd_dot does. */
#if defined(__GNUC__)
typedef float nnd_v8f __attribute__((vector_size(32)));

/* Rows i0 and i0 + 1 (when i0 + 1 < nr) of the Gram block from column j0:
 * two rows share every load of gt, and eight independent accumulators hide
 * the latency of the additions. */
static inline __attribute__((always_inline)) void gram_pair(const float *x0, const float *x1, int64_t d,
                                                            const float *gt, int64_t ld, int64_t j0, float *o0,
                                                            float *o1)
{
    int64_t j = j0;
    for (; j + 32 <= ld; j += 32) {
        nnd_v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        for (int64_t t = 0; t < d; t++) {
            const float w = x0[t], z = x1[t];
            const nnd_v8f wv = {w, w, w, w, w, w, w, w};
            const nnd_v8f zv = {z, z, z, z, z, z, z, z};
            nnd_v8f g0, g1, g2, g3;
            memcpy(&g0, gt + t * ld + j, sizeof g0);
            memcpy(&g1, gt + t * ld + j + 8, sizeof g1);
            memcpy(&g2, gt + t * ld + j + 16, sizeof g2);
            memcpy(&g3, gt + t * ld + j + 24, sizeof g3);
            a0 = a0 + wv * g0;
            a1 = a1 + wv * g1;
            a2 = a2 + wv * g2;
            a3 = a3 + wv * g3;
            b0 = b0 + zv * g0;
            b1 = b1 + zv * g1;
            b2 = b2 + zv * g2;
            b3 = b3 + zv * g3;
        }
        memcpy(o0 + j, &a0, sizeof a0);
        memcpy(o0 + j + 8, &a1, sizeof a1);
        memcpy(o0 + j + 16, &a2, sizeof a2);
        memcpy(o0 + j + 24, &a3, sizeof a3);
        memcpy(o1 + j, &b0, sizeof b0);
        memcpy(o1 + j + 8, &b1, sizeof b1);
        memcpy(o1 + j + 16, &b2, sizeof b2);
        memcpy(o1 + j + 24, &b3, sizeof b3);
    }
    for (; j < ld; j += 8) {
        nnd_v8f a0 = {0}, b0 = {0};
        for (int64_t t = 0; t < d; t++) {
            const float w = x0[t], z = x1[t];
            const nnd_v8f wv = {w, w, w, w, w, w, w, w};
            const nnd_v8f zv = {z, z, z, z, z, z, z, z};
            nnd_v8f g0;
            memcpy(&g0, gt + t * ld + j, sizeof g0);
            a0 = a0 + wv * g0;
            b0 = b0 + zv * g0;
        }
        memcpy(o0 + j, &a0, sizeof a0);
        memcpy(o1 + j, &b0, sizeof b0);
    }
}

static inline __attribute__((always_inline)) void gram_body(const float *xn, int64_t d, const int32_t *L,
                                                            int64_t nr, const float *gt, int64_t ld, float *out)
{
    for (int64_t i = 0; i < nr; i += 2) {
        /* An odd last row is paired with itself (its second output row is
         * the spare row nr of @p out). */
        const int64_t i1 = i + 1 < nr ? i + 1 : i;
        gram_pair(xn + (int64_t)L[i] * d, xn + (int64_t)L[i1] * d, d, gt, ld, (i + 1) & ~(int64_t)7, out + i * ld,
                  out + (i + 1) * ld);
    }
}
#else
static void gram_body(const float *xn, int64_t d, const int32_t *L, int64_t nr, const float *gt, int64_t ld,
                      float *out)
{
    for (int64_t i = 0; i < nr; i++) {
        const float *xi = xn + (int64_t)L[i] * d;
        for (int64_t j = i + 1; j < ld; j++) {
            float acc = 0.0f;
            for (int64_t t = 0; t < d; t++) {
                const float p = xi[t] * gt[t * ld + j];
                acc = acc + p;
            }
            out[i * ld + j] = acc;
        }
    }
}
#endif

typedef void (*gram_fn)(const float *, int64_t, const int32_t *, int64_t, const float *, int64_t, float *);

static void gram_generic(const float *xn, int64_t d, const int32_t *L, int64_t nr, const float *gt, int64_t ld,
                         float *out)
{
    gram_body(xn, d, L, nr, gt, ld, out);
}

#if defined(__GNUC__) && defined(__x86_64__)
/* The same arithmetic in 256-bit registers (no FMA: a fused multiply-add
 * would round differently from nnd_dot). */
__attribute__((target("avx2"))) static void gram_avx2(const float *xn, int64_t d, const int32_t *L, int64_t nr,
                                                      const float *gt, int64_t ld, float *out)
{
    gram_body(xn, d, L, nr, gt, ld, out);
}
#endif

static gram_fn pick_gram(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (__builtin_cpu_supports("avx2"))
        return gram_avx2;
#endif
    return gram_generic;
}

/* ---- sampling ------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Reverse lists (CSR): for every v, the points u whose forward list fw (n x S,
 * counts fc) holds v, in increasing u order. */
static hl_status reverse_lists(const int32_t *fw, const int32_t *fc, int64_t n, int64_t S, int64_t **start_out,
                               int32_t **rev_out)
{
    int64_t *start = hli_calloc((size_t)n + 1, sizeof *start);
    if (start == NULL)
        return hl_last_error_status();
    for (int64_t u = 0; u < n; u++)
        for (int64_t t = 0; t < fc[u]; t++)
            start[fw[u * S + t] + 1]++;
    for (int64_t v = 0; v < n; v++)
        start[v + 1] += start[v];
    int32_t *rev = hli_alloc((size_t)(start[n] > 0 ? start[n] : 1), sizeof *rev);
    int64_t *fill = hli_alloc((size_t)n, sizeof *fill);
    if (rev == NULL || fill == NULL) {
        free(start);
        free(rev);
        free(fill);
        return hl_last_error_status();
    }
    memcpy(fill, start, sizeof *fill * (size_t)n);
    for (int64_t u = 0; u < n; u++)
        for (int64_t t = 0; t < fc[u]; t++)
            rev[fill[fw[u * S + t]]++] = (int32_t)u;
    free(fill);
    *start_out = start;
    *rev_out = rev;
    return HL_OK;
}

/* Append the reverse entries of v (at most S of them: those of smallest hash
 * when there are more) to L[*m], skipping ids already marked in @p mark. */
static void add_reverse(const int64_t *start, const int32_t *rev, int64_t v, int64_t S, uint64_t salt, int32_t *L,
                        int64_t *m, uint32_t *mark, uint32_t stamp, uint64_t *hbuf)
{
    const int64_t a = start[v], c = start[v + 1] - a;
    if (c <= S) {
        for (int64_t t = 0; t < c; t++) {
            const int32_t u = rev[a + t];
            if (mark[u] != stamp) {
                mark[u] = stamp;
                L[(*m)++] = u;
            }
        }
        return;
    }
    /* Threshold = the S-th smallest hash (hbuf: the S smallest, ascending). */
    int64_t cnt = 0;
    for (int64_t t = 0; t < c; t++) {
        const uint64_t h = mix64(salt ^ ((uint64_t)v << 32) ^ (uint64_t)(uint32_t)rev[a + t]);
        if (cnt == S && h >= hbuf[S - 1])
            continue;
        int64_t p = cnt < S ? cnt++ : S - 1;
        while (p > 0 && hbuf[p - 1] > h) {
            hbuf[p] = hbuf[p - 1];
            p--;
        }
        hbuf[p] = h;
    }
    const uint64_t lim = hbuf[S - 1];
    for (int64_t t = 0; t < c; t++) {
        const int32_t u = rev[a + t];
        if (mix64(salt ^ ((uint64_t)v << 32) ^ (uint64_t)(uint32_t)u) <= lim && mark[u] != stamp) {
            mark[u] = stamp;
            L[(*m)++] = u;
        }
    }
}

/* ---- one iteration --------------------------------------------------------- */

/* Per-thread scratch of the join. */
typedef struct nnd_scratch {
    int32_t *L;      /* joined ids: new first, then old */
    float *gt;       /* d x ld */
    float *out;      /* nr x ld */
    float *thr;      /* the worst similarity of each joined list */
    uint32_t *mark;  /* n stamps (dedup of L) */
    uint32_t stamp;  /* this join's stamp */
    uint64_t *hbuf;  /* reverse sampling: max(S, SO) hashes */
    nnd_buf *bufs;   /* HLI_NND_BUCKETS proposal buffers */
    int failed;
} nnd_scratch;

static void push_prop(nnd_scratch *sc, int32_t tgt, int32_t cand, float s)
{
    nnd_buf *b = sc->bufs + (uint32_t)tgt % HLI_NND_BUCKETS;
    if (b->len == b->cap) {
        const int64_t ncap = b->cap ? 2 * b->cap : 1024;
        nnd_prop *np = hli_realloc(b->p, (size_t)ncap, sizeof *np);
        if (np == NULL) {
            sc->failed = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    b->p[b->len].tgt = tgt;
    b->p[b->len].cand = cand;
    b->p[b->len].s = s;
    b->len++;
}

/* The local join of point u. */
static void join_point(const float *xn, int64_t d, const nnd_pool *pool, int64_t u, int64_t S, int64_t SO,
                       const int32_t *fnew, const int32_t *cnew, const int32_t *fold, const int32_t *cold,
                       const int64_t *rns, const int32_t *rnl, const int64_t *ros, const int32_t *rol, uint64_t salt,
                       gram_fn gram, nnd_scratch *sc)
{
    const int64_t K = pool->K;
    if (++sc->stamp == 0) {
        /* Wrapped around: forget every old stamp. */
        memset(sc->mark, 0, sizeof *sc->mark * (size_t)pool->n);
        sc->stamp = 1;
    }
    const uint32_t stamp = sc->stamp;
    int32_t *L = sc->L;
    int64_t m = 0;
    for (int64_t t = 0; t < cnew[u]; t++) {
        const int32_t v = fnew[u * S + t];
        if (sc->mark[v] != stamp) {
            sc->mark[v] = stamp;
            L[m++] = v;
        }
    }
    add_reverse(rns, rnl, u, S, salt, L, &m, sc->mark, stamp, sc->hbuf);
    const int64_t nr = m;
    if (nr == 0)
        return;
    for (int64_t t = 0; t < cold[u]; t++) {
        const int32_t v = fold[u * SO + t];
        if (sc->mark[v] != stamp) {
            sc->mark[v] = stamp;
            L[m++] = v;
        }
    }
    add_reverse(ros, rol, u, SO, salt ^ 0x5bd1e995u, L, &m, sc->mark, stamp, sc->hbuf);
    if (m < 2)
        return;
    const int64_t ld = (m + 7) & ~(int64_t)7;
#if defined(__GNUC__)
    /* Ask for every row at once: the fetches overlap instead of queueing. */
    for (int64_t j = 0; j < m; j++) {
        const char *r = (const char *)(xn + (int64_t)L[j] * d);
        for (int64_t off = 0; off < d * (int64_t)sizeof(float); off += 64)
            __builtin_prefetch(r + off);
        __builtin_prefetch(pool->s + (int64_t)L[j] * K + K - 1);
    }
#endif
    for (int64_t j = 0; j < m; j++) {
        const float *xj = xn + (int64_t)L[j] * d;
        for (int64_t t = 0; t < d; t++)
            sc->gt[t * ld + j] = xj[t];
    }
    for (int64_t j = m; j < ld; j++)
        for (int64_t t = 0; t < d; t++)
            sc->gt[t * ld + j] = 0.0f;
    gram(xn, d, L, nr, sc->gt, ld, sc->out);
    float *thr = sc->thr;
    for (int64_t j = 0; j < m; j++)
        thr[j] = pool->s[(int64_t)L[j] * K + K - 1];
    for (int64_t i = 0; i < nr; i++) {
        const int32_t a = L[i];
        const float ta = thr[i];
        const float *row = sc->out + i * ld;
        for (int64_t j = i + 1; j < m; j++) {
            const float v = row[j];
            if (v < ta && v < thr[j])
                continue;
            const int32_t b = L[j];
            if (v >= ta && !row_has(pool, a, v, b))
                push_prop(sc, a, b, v);
            if (v >= thr[j] && !row_has(pool, b, v, a))
                push_prop(sc, b, a, v);
        }
    }
}

/* The order the points are joined in: breadth first through the lists, so
 * that consecutive points share neighbours and their rows stay in cache
 * (the join is bound by fetching rows, not by arithmetic). */
static int64_t *locality_order(const nnd_pool *pool, int64_t n)
{
    const int64_t K = pool->K;
    int64_t *ord = hli_alloc((size_t)n, sizeof *ord);
    uint8_t *seen = hli_calloc((size_t)n, sizeof *seen);
    if (ord == NULL || seen == NULL) {
        free(ord);
        free(seen);
        return NULL;
    }
    int64_t head = 0, tail = 0;
    for (int64_t r = 0; r < n; r++) {
        if (seen[r])
            continue;
        seen[r] = 1;
        ord[tail++] = r;
        while (head < tail) {
            const int64_t u = ord[head++];
            for (int64_t t = 0; t < K; t++) {
                const int32_t v = pool->id[u * K + t];
                if (v != INT32_MAX && !seen[v]) {
                    seen[v] = 1;
                    ord[tail++] = v;
                }
            }
        }
    }
    free(seen);
    return ord;
}

/* Renumber the points in the order @p ord: a copy of the rows in that
 * order, and the lists with ids p = position in ord (each row re-sorted, as
 * ties are ordered by id).  Neighbours then lie close in memory. */
static float *permute(const float *xn, int64_t n, int64_t d, const int64_t *ord, nnd_pool *pool, int nt)
{
    const int64_t K = pool->K;
    float *xp = hli_alloc((size_t)n * (size_t)d, sizeof *xp);
    int32_t *inv = hli_alloc((size_t)n, sizeof *inv);
    float *s2 = hli_alloc((size_t)n * (size_t)K, sizeof *s2);
    int32_t *id2 = hli_alloc((size_t)n * (size_t)K, sizeof *id2);
    uint8_t *fl2 = hli_alloc((size_t)n * (size_t)K, sizeof *fl2);
    if (!xp || !inv || !s2 || !id2 || !fl2) {
        free(xp);
        free(inv);
        free(s2);
        free(id2);
        free(fl2);
        return NULL;
    }
    for (int64_t p = 0; p < n; p++)
        inv[ord[p]] = (int32_t)p;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t p = 0; p < n; p++) {
        const int64_t u = ord[p];
        memcpy(xp + p * d, xn + u * d, sizeof *xp * (size_t)d);
        float *s = s2 + p * K;
        int32_t *id = id2 + p * K;
        uint8_t *fl = fl2 + p * K;
        for (int64_t t = 0; t < K; t++) {
            s[t] = -INFINITY;
            id[t] = INT32_MAX;
            fl[t] = 0;
        }
        /* Called before the first iteration: every entry is new, as
         * row_insert marks it. */
        for (int64_t t = 0; t < K; t++) {
            const int32_t v = pool->id[u * K + t];
            if (v != INT32_MAX)
                row_insert(s, id, fl, K, pool->s[u * K + t], inv[v]);
        }
    }
    free(inv);
    free(pool->s);
    free(pool->id);
    free(pool->isnew);
    pool->s = s2;
    pool->id = id2;
    pool->isnew = fl2;
    return xp;
}

/* ---- the method -------------------------------------------------------------- */

static int64_t first_pass_nlist(int64_t n)
{
    int64_t nlist = (int64_t)llround(sqrt((double)n));
    if (nlist > n / 16)
        nlist = n / 16;
    return nlist < 1 ? 1 : nlist;
}

hl_status hli_knn_nndescent(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt,
                            int64_t *nbrs, float *sims)
{
    const int64_t k = opts->k;
    const int64_t kk = k - 1;
    /* K entries per list during the descent (48 for k = 10: the diffuse
     * data of docs/KNN.md needs that many for recall 0.97; 32 gave 0.94),
     * S new and S old ones joined per point and iteration, K1 from the first
     * graph and nrand random ones, which connect the IVF cells (without
     * them a one-probe first graph stays closed: a neighbour of a neighbour
     * is in the same cell). */
    const int64_t K = 4 * kk + 12;
    if (k == 1 || n <= HLI_NND_EXACT_N || K >= n / 8)
        return hli_knn_exact(xn, n, d, k, opts->block_rows, nt, nbrs, sims);
    for (int64_t i = 0; i < n; i++) {
        nbrs[i * k] = i;
        if (sims)
            sims[i * k] = 1.0f;
    }
    const int64_t S = K / 2, SO = K / 2, K1 = K / 3, nrand = K / 6;
    hl_status st = HL_OK;
    nnd_pool pool = {n, K, NULL, NULL, NULL};
    int64_t *first = NULL, *ord = NULL;
    float *xp = NULL;
    int32_t *fnew = NULL, *fold = NULL, *cnew = NULL, *cold = NULL, *rnl = NULL, *rol = NULL;
    int64_t *rns = NULL, *ros = NULL;
    nnd_scratch *scr = NULL;
    int nscr = 0;
    double t0 = hli_now_seconds(), t1;

    /* 1. The first graph. */
    {
        hl_knn_options o = *opts;
        o.k = K1 + 1;
        o.nlist = opts->nlist != 0 ? opts->nlist : first_pass_nlist(n);
        o.nprobe = opts->nprobe != 0 ? opts->nprobe : 1;
        if ((st = hli_check_dims("nn-descent lists", n, K1 + 1, sizeof(int64_t), NULL)) != HL_OK)
            return st;
        if ((first = hli_alloc((size_t)n * (size_t)(K1 + 1), sizeof *first)) == NULL)
            return hl_last_error_status();
        if ((st = hli_knn_ivf(xn, n, d, &o, nt, first, NULL, NULL)) != HL_OK)
            goto done;
    }
    pool.s = hli_alloc((size_t)n * (size_t)K, sizeof *pool.s);
    pool.id = hli_alloc((size_t)n * (size_t)K, sizeof *pool.id);
    pool.isnew = hli_alloc((size_t)n * (size_t)K, sizeof *pool.isnew);
    fnew = hli_alloc((size_t)n * (size_t)S, sizeof *fnew);
    fold = hli_alloc((size_t)n * (size_t)SO, sizeof *fold);
    cnew = hli_alloc((size_t)n, sizeof *cnew);
    cold = hli_alloc((size_t)n, sizeof *cold);
    if (!pool.s || !pool.id || !pool.isnew || !fnew || !fold || !cnew || !cold) {
        st = hl_last_error_status();
        goto done;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t u = 0; u < n; u++) {
        float *s = pool.s + u * K;
        int32_t *id = pool.id + u * K;
        uint8_t *fl = pool.isnew + u * K;
        for (int64_t t = 0; t < K; t++) {
            s[t] = -INFINITY;
            id[t] = INT32_MAX;
            fl[t] = 0;
        }
        for (int64_t t = 1; t <= K1; t++) {
            const int64_t v = first[u * (K1 + 1) + t];
            if (v >= 0 && v != u)
                row_insert(s, id, fl, K, nnd_dot(xn + u * d, xn + v * d, d), (int32_t)v);
        }
        for (int64_t t = 0; t < nrand; t++) {
            const int64_t v = (int64_t)(mix64(opts->seed ^ ((uint64_t)u << 20) ^ (uint64_t)t) % (uint64_t)n);
            if (v >= 0 && v != u)
                row_insert(s, id, fl, K, nnd_dot(xn + u * d, xn + v * d, d), (int32_t)v);
        }
    }
    free(first);
    first = NULL;
    if ((ord = locality_order(&pool, n)) == NULL || (xp = permute(xn, n, d, ord, &pool, nt)) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    t1 = hli_now_seconds();
    hli_log(HL_LOG_DEBUG, "knn nn-descent: first graph (IVF, K = %lld) %.2f s", (long long)K, t1 - t0);
    t0 = t1;

    /* Per-thread scratch: at most 4 S joined ids. */
    nscr = nt;
    if ((scr = hli_calloc((size_t)nscr, sizeof *scr)) == NULL) {
        st = hl_last_error_status();
        goto done;
    }
    const int64_t mmax = 2 * S + 2 * SO, ldmax = (mmax + 7) & ~(int64_t)7;
    for (int t = 0; t < nscr; t++) {
        scr[t].L = hli_alloc((size_t)mmax, sizeof *scr[t].L);
        scr[t].gt = hli_alloc((size_t)d * (size_t)ldmax, sizeof *scr[t].gt);
        scr[t].out = hli_alloc((size_t)(2 * S + 1) * (size_t)ldmax, sizeof *scr[t].out);
        scr[t].mark = hli_calloc((size_t)n, sizeof *scr[t].mark);
        scr[t].thr = hli_alloc((size_t)mmax, sizeof *scr[t].thr);
        scr[t].hbuf = hli_alloc((size_t)(S > SO ? S : SO), sizeof *scr[t].hbuf);
        scr[t].bufs = hli_calloc(HLI_NND_BUCKETS, sizeof *scr[t].bufs);
        if (!scr[t].L || !scr[t].gt || !scr[t].out || !scr[t].mark || !scr[t].thr || !scr[t].hbuf || !scr[t].bufs) {
            st = hl_last_error_status();
            goto done;
        }
    }
    const gram_fn gram = pick_gram();

    /* 2-3. Iterations. */
    for (int it = 0; it < HLI_NND_MAX_ITERS; it++) {
        /* Sample: the first S new entries (then marked old) and the first S
         * old ones of every list. */
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t u = 0; u < n; u++) {
            int32_t *id = pool.id + u * K;
            uint8_t *fl = pool.isnew + u * K;
            int32_t cn = 0, co = 0;
            for (int64_t t = 0; t < K; t++) {
                if (id[t] == INT32_MAX)
                    continue;
                if (fl[t]) {
                    if (cn < S) {
                        fnew[u * S + cn++] = id[t];
                        fl[t] = 0;
                    }
                } else if (co < SO) {
                    fold[u * SO + co++] = id[t];
                }
            }
            cnew[u] = cn;
            cold[u] = co;
        }
        free(rns);
        free(rnl);
        free(ros);
        free(rol);
        rns = ros = NULL;
        rnl = rol = NULL;
        if ((st = reverse_lists(fnew, cnew, n, S, &rns, &rnl)) != HL_OK ||
            (st = reverse_lists(fold, cold, n, SO, &ros, &rol)) != HL_OK)
            goto done;
        const uint64_t salt = mix64(opts->seed ^ ((uint64_t)(it + 1) * 0x9e3779b97f4a7c15ULL));
        int64_t updates = 0, nprop = 0;
        for (int64_t b0 = 0; b0 < n; b0 += HLI_NND_BLOCK) {
            const int64_t b1 = n - b0 < HLI_NND_BLOCK ? n : b0 + HLI_NND_BLOCK;
#pragma omp parallel num_threads(nt)
            {
                int tid = 0;
#ifdef _OPENMP
                tid = omp_get_thread_num();
#endif
                nnd_scratch *sc = scr + tid;
#pragma omp for schedule(dynamic, 64)
                for (int64_t p = b0; p < b1; p++)
                    if (!sc->failed)
                        join_point(xp, d, &pool, p, S, SO, fnew, cnew, fold, cold, rns, rnl, ros, rol, salt, gram, sc);
            }
            for (int t = 0; t < nscr; t++)
                if (scr[t].failed) {
                    st = HL_ENOMEM;
                    goto done;
                }
            int64_t ins = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : ins) num_threads(nt)
            for (int bk = 0; bk < HLI_NND_BUCKETS; bk++) {
                for (int t = 0; t < nscr; t++) {
                    nnd_buf *bf = scr[t].bufs + bk;
                    for (int64_t p = 0; p < bf->len; p++) {
                        const nnd_prop *pr = bf->p + p;
                        const int64_t r = (int64_t)pr->tgt * K;
                        ins += row_insert(pool.s + r, pool.id + r, pool.isnew + r, K, pr->s, pr->cand);
                    }
                }
            }
            for (int t = 0; t < nscr; t++)
                for (int bk = 0; bk < HLI_NND_BUCKETS; bk++) {
                    nprop += scr[t].bufs[bk].len;
                    scr[t].bufs[bk].len = 0;
                }
            updates += ins;
        }
        t1 = hli_now_seconds();
        hli_log(HL_LOG_DEBUG, "knn nn-descent: iteration %d: %lld proposals, %lld inserted, %.2f s", it,
                (long long)nprop, (long long)updates, t1 - t0);
        t0 = t1;
        if ((double)updates < HLI_NND_STOP * (double)n * (double)K)
            break;
    }

    /* 4. Re-rank by the reference dot, best k-1 after self. */
    {
        /* The lists are sorted by similarities within rounding of the
         * reference: re-rank the best k-1 + HLI_TOPK_MARGIN, as exact search does. */
        const int64_t kr = kk + HLI_TOPK_MARGIN < K ? kk + HLI_TOPK_MARGIN : K;
        float *hs = hli_alloc((size_t)nscr * (size_t)K, sizeof *hs);
        int64_t *hi = hli_alloc((size_t)nscr * (size_t)K, sizeof *hi);
        if (hs == NULL || hi == NULL) {
            free(hs);
            free(hi);
            st = hl_last_error_status();
            goto done;
        }
#pragma omp parallel num_threads(nt)
        {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            float *ts = hs + (int64_t)tid * K;
            int64_t *ti = hi + (int64_t)tid * K;
#pragma omp for schedule(static)
            for (int64_t p = 0; p < n; p++) {
                const int64_t u = ord[p];
                for (int64_t t = 0; t < kr; t++) {
                    const int32_t v = pool.id[p * K + t];
                    ts[t] = pool.s[p * K + t];
                    ti[t] = v == INT32_MAX ? INT64_MAX : ord[v];
                }
                hli_topk_refine(xn + u * d, xn, d, ts, ti, kr, kk, nbrs + u * k + 1, sims ? sims + u * k + 1 : NULL);
            }
        }
        free(hs);
        free(hi);
    }
done:
    free(first);
    free(ord);
    free(xp);
    free(pool.s);
    free(pool.id);
    free(pool.isnew);
    free(fnew);
    free(fold);
    free(cnew);
    free(cold);
    free(rns);
    free(rnl);
    free(ros);
    free(rol);
    if (scr != NULL) {
        for (int t = 0; t < nscr; t++) {
            free(scr[t].L);
            free(scr[t].gt);
            free(scr[t].out);
            free(scr[t].mark);
            free(scr[t].thr);
            free(scr[t].hbuf);
            if (scr[t].bufs != NULL)
                for (int bk = 0; bk < HLI_NND_BUCKETS; bk++)
                    free(scr[t].bufs[bk].p);
            free(scr[t].bufs);
        }
        free(scr);
    }
    return st;
}
