/* hl_model_predict: LANDER inference on one graph, in three phases with a
 * bounded workspace: the fused head parameters, the GraphConv encoder over
 * chunks of nodes (ending in the node-level head GEMMs), and the link and
 * density heads over chunks of whole nodes' edges.
 *
 * Every per-row loop is per-row work and every GEMM runs from serial code, so
 * results do not depend on the thread count. */
#include "common/worker_pool.h"
#include "model/model_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define HLI_NODE_CHUNK 8192
/* Edges per head chunk.  The head's per-edge loops run on the blocking
 * worker pool (no spinning OpenMP team), so small chunks cost no
 * OpenMP/OpenBLAS hand-overs and keep z and v (4,096 x h2 floats each,
 * 4 MiB at h2 = 256) in the L3 cache between the gather, the GEMMs and the
 * L2 pass.  Measured 2 threads, reference head, N = 100k, loops on the
 * calling thread (docs/perf-model.md): 4,096 edges 2.6 s vs 16,384
 * 2.8-2.9 s vs 65,536 3.0 s; with the pool, 2,048 / 8,192 were within the
 * noise of 4,096. */
#ifndef HLI_EDGE_CHUNK
#define HLI_EDGE_CHUNK 4096
#endif

/* Rows [i0 + r0, i0 + r1) of [x_i ; sum_j aff_ij x_j] (2d wide): the
 * level-0 input [x ; c ; agg x ; agg c] with c = x, whose weight is folded
 * to 2d columns (a pool task over the rows of one node chunk). */
typedef struct {
    const hli_net_input *in;
    int64_t i0;
    float *cat;
} cat_task;

/* edges ahead whose x_j row the aggregation prefetches */
#ifndef HLI_AGG_PREFETCH
#define HLI_AGG_PREFETCH 4
#endif

static void cat_x_rows(void *arg, int64_t r0, int64_t r1)
{
    const cat_task *t = arg;
    const hli_net_input *in = t->in;
    const int64_t d = in->d, eend = in->offsets[t->i0 + r1];
    for (int64_t i = t->i0 + r0; i < t->i0 + r1; i++) {
        float *row = t->cat + (i - t->i0) * 2 * d, *agg = row + d;
        memcpy(row, in->x + i * d, (size_t)d * sizeof(float));
        memset(agg, 0, (size_t)d * sizeof(float));
        for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++) {
            if (e + HLI_AGG_PREFETCH < eend) { /* the random row x_j a few edges ahead */
                const float *pn = in->x + in->src[e + HLI_AGG_PREFETCH] * d;
                for (int64_t q = 0; q < d; q += 16)
                    __builtin_prefetch(pn + q);
            }
            const float a = in->aff[e], *xj = in->x + in->src[e] * d;
            for (int64_t q = 0; q < d; q++)
                agg[q] += a * xj[q];
        }
    }
}

/* h = ReLU(h + b) on rows [r0, r1) of width w (a pool task: it runs between
 * two GEMMs, where an OpenMP team would leave its workers spinning while
 * OpenBLAS needs the cores, docs/perf-model.md). */
typedef struct {
    float *h;
    const float *b;
    int64_t w;
} bias_relu_task;

static void bias_relu_rows(void *arg, int64_t r0, int64_t r1)
{
    const bias_relu_task *t = arg;
    const int64_t w = t->w;
    for (int64_t i = r0; i < r1; i++) {
        float *restrict r = t->h + i * w;
        for (int64_t q = 0; q < w; q++) {
            const float v = r[q] + t->b[q];
            r[q] = v > 0.0f ? v : 0.0f;
        }
    }
}

/* rows per block of the node-level pool tasks */
#define HLI_NODE_GRAIN 256

/* One inference call's shared state. */
typedef struct predict_ctx {
    const hl_model *m;
    const hl_graph *graph;
    hli_net_input in;
    int nt;
    hli_pool *pool;
    int rel;        /* relational link head */
    int keep_h;     /* the full-rank relational head needs h of every node */
    int fold;       /* level-0 input with c = x: the first layer's weight folded to 2d columns */
    int64_t h2, ew, gw, nchunk;
    float *wab;     /* [A ; B] (2*h2 x ew): both node-level head GEMMs in one */
    float *bias;    /* h2 summed head biases, then E transposed (m x h2) */
    float *PQ;      /* n x 2*h2: [A h | B h] */
    float *G;       /* n x gw: the low-rank relational term U h, or NULL */
    float *H;       /* n x ew: the last layer h (keep_h only), or NULL */
    float *efeat;   /* E x m edge features (relational head), or NULL */
} predict_ctx;

static hl_status alloc_failed(void)
{
    return hl_last_error_status() != HL_OK ? hl_last_error_status() : hli_oom();
}

static hl_status predict_check(const hl_model *model, const hl_graph *graph, const float *x, const float *c,
                               int64_t n, int64_t d, int32_t num_threads)
{
    if (model == NULL || graph == NULL || x == NULL)
        return hli_error(HL_EINVAL, "hl_model_predict: %s is NULL",
                         model == NULL ? "model" : graph == NULL ? "graph" : "x");
    if (n != graph->n)
        return hli_error(HL_EINVAL, "hl_model_predict: n = %lld but the graph has %lld nodes", (long long)n,
                         (long long)graph->n);
    if (d != model->cfg.feature_dim)
        return hli_error(HL_EINVAL, "hl_model_predict: d = %lld but the model expects feature_dim = %lld",
                         (long long)d, (long long)model->cfg.feature_dim);
    if (num_threads < 0)
        return hli_error(HL_EINVAL, "hl_model_predict: num_threads = %d must be >= 0", (int)num_threads);
    hl_status st = hli_check_finite("x", x, n, d);
    if (st != HL_OK)
        return st;
    if (c != NULL && (st = hli_check_finite("c", c, n, d)) != HL_OK)
        return st;
    if (n > INT_MAX / 4)
        return hli_error(HL_ERANGE, "hl_model_predict: n = %lld is too large", (long long)n);
    return HL_OK;
}

/* [A ; B] in one matrix and the biases summed once (A h + a + B h + b, plus
 * the relational and edge biases, all enter the same pre-activation). */
static hl_status fuse_head_params(predict_ctx *p)
{
    const hl_model *m = p->m;
    const int64_t h2 = p->h2, ew = p->ew;
    p->wab = hli_alloc((size_t)(2 * h2), (size_t)ew * sizeof(float));
    p->bias = hli_alloc((size_t)(h2 * (1 + m->m)), sizeof(float)); /* bias, then E transposed */
    if (p->wab == NULL || p->bias == NULL)
        return alloc_failed();
    for (int64_t q = 0; p->rel && q < h2; q++)
        for (int f = 0; f < m->m; f++)
            p->bias[h2 + f * h2 + q] = hli_param(m, m->edge_w)[q * m->m + f];
    memcpy(p->wab, hli_param(m, m->src_w), (size_t)(h2 * ew) * sizeof(float));
    memcpy(p->wab + h2 * ew, hli_param(m, m->dst_w), (size_t)(h2 * ew) * sizeof(float));
    for (int64_t q = 0; q < h2; q++) {
        p->bias[q] = hli_param(m, m->src_b)[q] + hli_param(m, m->dst_b)[q];
        if (p->rel)
            p->bias[q] += hli_param(m, m->rel_b)[q] + hli_param(m, m->edge_b)[q];
    }
    return HL_OK;
}

/* Level 0 with cluster features: W [x ; x ; agg x ; agg x] = (W_x + W_c) x +
 * (W_ax + W_ac) agg x, half the GEMM (equal to the unfolded product up to
 * float rounding).  *out: wo x 2d. */
static hl_status fold_first_layer(const float *W, int64_t wo, int64_t d, float **out)
{
    float *wf = hli_alloc((size_t)wo, (size_t)(2 * d) * sizeof(float));
    if (wf == NULL)
        return alloc_failed();
    for (int64_t o = 0; o < wo; o++)
        for (int64_t q = 0; q < d; q++) {
            const float *r = W + o * 4 * d;
            wf[o * 2 * d + q] = r[q] + r[d + q];
            wf[o * 2 * d + d + q] = r[2 * d + q] + r[3 * d + q];
        }
    *out = wf;
    return HL_OK;
}

/* The GraphConv layers in chunks of nodes; the last layer's chunk feeds the
 * node-level head GEMMs (PQ, G) and is stored whole only when keep_h. */
static hl_status encode_nodes(predict_ctx *p)
{
    const hl_model *m = p->m;
    const int L = m->cfg.num_conv;
    const int64_t n = p->in.n, d = p->in.d, h2 = p->h2, ew = p->ew, gw = p->gw, nchunk = p->nchunk;
    int64_t maxw = 0;
    for (int l = 0; l < L; l++)
        maxw = m->width[l] > maxw ? m->width[l] : maxw;
    hl_status st = HL_OK;
    float *hprev = NULL, *hcur = NULL, *wf = NULL;
    float *cat = hli_alloc((size_t)nchunk, (size_t)(2 * maxw) * sizeof(float));
    p->PQ = hli_alloc((size_t)n, (size_t)(2 * h2) * sizeof(float));
    if (m->relp_w >= 0) /* low-rank relational term: G = U h, gw wide */
        p->G = hli_alloc((size_t)n, (size_t)gw * sizeof(float));
    if (cat == NULL || p->PQ == NULL || (m->relp_w >= 0 && p->G == NULL)) {
        st = alloc_failed();
        goto done;
    }
    for (int l = 0; l < L; l++) {
        const int64_t wo = m->width[l + 1];
        const int last = l == L - 1, fold = l == 0 && p->fold;
        const float *W = hli_param(m, m->conv_w[l]);
        const int64_t win = fold ? 2 * d : 2 * m->width[l];
        if (fold) {
            if ((st = fold_first_layer(W, wo, d, &wf)) != HL_OK)
                goto done;
            W = wf;
        }
        hcur = hli_alloc((size_t)(last && !p->keep_h ? nchunk : n), (size_t)wo * sizeof(float));
        if (hcur == NULL) {
            st = alloc_failed();
            goto done;
        }
        for (int64_t i0 = 0; i0 < n; i0 += nchunk) {
            const int64_t i1 = i0 + nchunk < n ? i0 + nchunk : n;
            float *hc = last && !p->keep_h ? hcur : hcur + i0 * wo;
            if (fold) {
                cat_task ct = {.in = &p->in, .i0 = i0, .cat = cat};
                hli_pool_run(p->pool, cat_x_rows, &ct, i1 - i0, HLI_NODE_GRAIN);
            } else
                hli_conv_cat(m, l, &p->in, hprev, i0, i1, cat, p->nt);
            hli_gemm(0, 1, i1 - i0, wo, win, 1.0f, cat, win, W, win, 0.0f, hc, wo);
            bias_relu_task bt = {.h = hc, .b = hli_param(m, m->conv_b[l]), .w = wo};
            hli_pool_run(p->pool, bias_relu_rows, &bt, i1 - i0, HLI_NODE_GRAIN);
            if (last) {
                hli_gemm(0, 1, i1 - i0, 2 * h2, ew, 1.0f, hc, ew, p->wab, ew, 0.0f, p->PQ + i0 * 2 * h2, 2 * h2);
                if (p->G)
                    hli_gemm(0, 1, i1 - i0, gw, ew, 1.0f, hc, ew, hli_param(m, m->relp_w), ew, 0.0f,
                             p->G + i0 * gw, gw);
            }
        }
        free(wf);
        wf = NULL;
        free(hprev);
        hprev = hcur;
        hcur = NULL;
    }
    if (p->keep_h) {
        p->H = hprev;
        hprev = NULL;
    }
done:
    free(cat);
    free(wf);
    free(hprev);
    free(hcur);
    return st;
}

/* The link and density heads, in chunks of whole nodes of at most
 * ~HLI_EDGE_CHUNK edges (a node with more edges is a chunk of its own). */
static hl_status run_heads(predict_ctx *p, float *edge_prob, float *density)
{
    const hl_model *m = p->m;
    const hl_graph *graph = p->graph;
    const int64_t n = p->in.n, E = graph->num_edges, h2 = p->h2, gw = p->gw;
    hl_status st = HL_OK;
    if (p->rel && E > 0) {
        p->efeat = hli_alloc((size_t)E, (size_t)m->m * sizeof(float));
        if (p->efeat == NULL)
            return alloc_failed();
        if ((st = hli_edge_features(graph, m->cfg.edge_features, p->in.x, p->in.d, p->nt, p->efeat)) != HL_OK)
            return st;
        p->in.efeat = p->efeat;
    }
    const int64_t kmax = graph->k > 1 ? graph->k : 1;
    const int64_t ech = HLI_EDGE_CHUNK > kmax ? HLI_EDGE_CHUNK : kmax;
    int64_t maxdeg = 0;
    for (int64_t i = 0; i < n; i++)
        if (graph->offsets[i + 1] - graph->offsets[i] > maxdeg)
            maxdeg = graph->offsets[i + 1] - graph->offsets[i];
    const int64_t ecap = (ech > maxdeg ? ech : maxdeg);
    const float *G = p->G ? p->G : p->H;
    float *hh = NULL;
    int64_t *dst = hli_alloc((size_t)(E ? E : 1), sizeof(int64_t));
    float *z = hli_alloc((size_t)ecap, (size_t)h2 * sizeof(float));
    float *v = hli_alloc((size_t)ecap, (size_t)h2 * sizeof(float));
    float *prob = hli_alloc((size_t)ecap, 2 * sizeof(float));
    float *dh = density ? density : hli_alloc((size_t)n, sizeof(float));
    if (p->rel)
        hh = hli_alloc((size_t)ecap, (size_t)gw * sizeof(float));
    if (!dst || !z || !v || !prob || !dh || (p->rel && !hh)) {
        st = alloc_failed();
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = graph->offsets[i]; e < graph->offsets[i + 1]; e++)
            dst[e] = i;
    for (int64_t i0 = 0; i0 < n;) {
        int64_t i1 = i0;
        while (i1 < n && graph->offsets[i1 + 1] - graph->offsets[i0] <= ecap)
            i1++;
        const int64_t e0 = graph->offsets[i0], e1 = graph->offsets[i1];
        hli_head_infer(m, G, gw, p->PQ, p->bias, p->bias + h2, graph->src, dst, p->in.efeat, e0, e1, hh, z, v, prob,
                       p->pool);
        hli_head_density(graph->offsets, graph->sim, prob, i0, i1, dh);
        if (edge_prob)
            for (int64_t e = e0; e < e1; e++)
                edge_prob[e] = prob[2 * (e - e0) + 1];
        i0 = i1;
    }
done:
    if (dh != density)
        free(dh);
    free(dst);
    free(hh);
    free(z);
    free(v);
    free(prob);
    return st;
}

static hl_status predict(const hl_model *model, const hl_graph *graph, const float *x, const float *c, int64_t n,
                         int64_t d, int32_t num_threads, float *edge_prob, float *density)
{
    hl_status st = predict_check(model, graph, x, c, n, d, num_threads);
    if (st != HL_OK || (edge_prob == NULL && density == NULL))
        return st;
    const hl_model *m = model;
    predict_ctx p;
    memset(&p, 0, sizeof p);
    p.m = m;
    p.graph = graph;
    hli_scope_threads(num_threads);
    p.nt = hli_threads(num_threads);
    /* OpenBLAS's results depend on its own thread count (measured: sgemm with 1
     * and 2 threads differs in the last bits), so the GEMMs always run with
     * the machine's thread count and only the per-row loops follow
     * num_threads: results are then bit-identical for any num_threads. */
    hli_blas_set_threads(hli_machine_threads());
    /* The per-row loops between the GEMMs run on a pool of nt threads whose
     * workers sleep between tasks: an OpenMP team's idle workers would spin
     * on the cores OpenBLAS needs right after every loop (docs/PERFORMANCE.md).
     * Without a pool (nt = 1, or the threads could not be created) the loops
     * run on the calling thread. */
    p.pool = hli_pool_create(p.nt);
    const int L = m->cfg.num_conv;
    p.h2 = m->h2;
    p.ew = m->width[L];
    p.rel = m->cfg.link_head == HL_LINK_HEAD_RELATIONAL;
    p.fold = m->cfg.use_cluster_feat && (c == NULL || c == x);
    p.keep_h = p.rel && m->relp_w < 0;
    p.gw = m->relp_w >= 0 ? m->t[m->relp_w].rows : p.ew;
    p.nchunk = n < HLI_NODE_CHUNK ? n : HLI_NODE_CHUNK;
    p.in = (hli_net_input){.n = n, .d = d, .offsets = graph->offsets, .src = graph->src, .sim = graph->sim,
                           .aff = graph->aff, .x = x, .c = c, .n_head = n, .efeat = NULL};
    st = fuse_head_params(&p);
    if (st == HL_OK)
        st = encode_nodes(&p);
    if (st == HL_OK)
        st = run_heads(&p, edge_prob, density);
    hli_pool_destroy(p.pool);
    free(p.wab);
    free(p.bias);
    free(p.PQ);
    free(p.G);
    free(p.H);
    free(p.efeat);
    return st;
}

hl_status hl_model_predict(const hl_model *model, const hl_graph *graph, const float *x, const float *c, int64_t n,
                           int64_t d, int32_t num_threads, float *edge_prob, float *density)
{
    hli_call_scope scope;
    hli_scope_enter(&scope);
    hl_status st = predict(model, graph, x, c, n, d, num_threads, edge_prob, density);
    hli_scope_leave(&scope);
    return st;
}
