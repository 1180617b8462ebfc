/* The LANDER losses and backward pass (docs/ALGORITHM.md, "Training: mini-batches and loss"): one backward
 * function per op group, mirroring lander_forward.c.
 *
 * Determinism: every sum over rows (bias and PReLU-slope gradients) is taken
 * over fixed chunks of rows in a fixed order, and every scatter to nodes
 * (sources of edges) is a gather over a per-node edge list in edge order, so
 * gradients are bit-identical for any thread count. */
#include "model/model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLI_RCHUNK 256

/* out[q] = sum over rows of M[r, q], in a fixed order. */
static hl_status colsum(const float *M, int64_t rows, int64_t w, float *out, int nt)
{
    const int64_t nch = (rows + HLI_RCHUNK - 1) / HLI_RCHUNK;
    if (nch == 0) {
        memset(out, 0, (size_t)w * sizeof(float));
        return HL_OK;
    }
    double *part = hli_calloc((size_t)nch, (size_t)w * sizeof(double));
    if (part == NULL)
        return hl_last_error_status();
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t ch = 0; ch < nch; ch++) {
        double *p = part + ch * w;
        const int64_t r1 = (ch + 1) * HLI_RCHUNK < rows ? (ch + 1) * HLI_RCHUNK : rows;
        for (int64_t r = ch * HLI_RCHUNK; r < r1; r++)
            for (int64_t q = 0; q < w; q++)
                p[q] += M[r * w + q];
    }
    for (int64_t q = 0; q < w; q++) {
        double s = 0.0;
        for (int64_t ch = 0; ch < nch; ch++)
            s += part[ch * w + q];
        out[q] = (float)s;
    }
    free(part);
    return HL_OK;
}

/* PReLU backward: g (rows x w) holds dL/d(out) and becomes dL/d(pre);
 * gs[q] = sum over rows of dL/d(out) * pre for pre <= 0. */
static hl_status prelu_backward(const float *pre, const float *s, int64_t rows, int64_t w, float *g, float *gs,
                                int nt)
{
    const int64_t nch = (rows + HLI_RCHUNK - 1) / HLI_RCHUNK;
    double *part = hli_calloc((size_t)(nch ? nch : 1), (size_t)w * sizeof(double));
    if (part == NULL)
        return hl_last_error_status();
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t ch = 0; ch < nch; ch++) {
        double *p = part + ch * w;
        const int64_t r1 = (ch + 1) * HLI_RCHUNK < rows ? (ch + 1) * HLI_RCHUNK : rows;
        for (int64_t r = ch * HLI_RCHUNK; r < r1; r++)
            for (int64_t q = 0; q < w; q++) {
                const float x = pre[r * w + q], gg = g[r * w + q];
                if (x > 0.0f)
                    continue;
                p[q] += (double)gg * x;
                g[r * w + q] = gg * s[q];
            }
    }
    for (int64_t q = 0; q < w; q++) {
        double t = 0.0;
        for (int64_t ch = 0; ch < nch; ch++)
            t += part[ch * w + q];
        gs[q] = (float)t;
    }
    free(part);
    return HL_OK;
}

void hli_net_loss(const hli_net_cache *c, int64_t n_head, const int64_t *offsets, const float *sim,
                  const float *dens_gt, const uint8_t *label, const uint8_t *mask, int focal, double *loss_den,
                  double *loss_link, float *dlogit)
{
    double ld = 0.0, ll = 0.0;
    int64_t nm = 0;
    for (int64_t e = 0; e < c->ne; e++)
        nm += mask[e] != 0;
    for (int64_t i = 0; i < n_head; i++) {
        const double diff = (double)c->dhat[i] - dens_gt[i];
        ld += diff * diff;
        const int64_t a = offsets[i], b = offsets[i + 1];
        const double gd = n_head > 0 ? 2.0 * diff / (double)n_head : 0.0;
        for (int64_t e = a; e < b; e++) {
            const double p0 = c->prob[2 * e], p1 = c->prob[2 * e + 1];
            /* density: d(p1 - p0)/dl1 = 2 p0 p1 = -d(p1 - p0)/dl0 */
            const double g = gd * sim[e] / (double)(b - a) * 2.0 * p0 * p1;
            double g0 = -g, g1 = g;
            if (mask[e]) {
                const int t = label[e] ? 1 : 0;
                const double pt = t ? p1 : p0;
                const double lpt = log(pt > 1e-38 ? pt : 1e-38);
                double coef;
                if (focal) {
                    const double q = 1.0 - pt;
                    ll += -q * q * lpt;
                    coef = 2.0 * q * pt * lpt - q * q;
                } else {
                    ll += -lpt;
                    coef = -1.0;
                }
                /* dL/dl_c = coef * (delta_tc - p_c) / nm */
                const double gt_ = coef * (1.0 - pt) / (double)nm;
                if (t) {
                    g1 += gt_;
                    g0 -= gt_;
                } else {
                    g0 += gt_;
                    g1 -= gt_;
                }
            }
            if (dlogit) {
                dlogit[2 * e] = (float)g0;
                dlogit[2 * e + 1] = (float)g1;
            }
        }
    }
    if (loss_den)
        *loss_den = n_head > 0 ? ld / (double)n_head : 0.0;
    if (loss_link)
        *loss_link = nm > 0 ? ll / (double)nm : 0.0;
}

/* Edges by source: the edges leaving node j are out_e[out_off[j] .. out_off[j+1]), increasing. */
static hl_status out_csr(int64_t n, int64_t ne, const int64_t *src, int64_t **off_out, int64_t **e_out)
{
    int64_t *off = hli_calloc((size_t)n + 1, sizeof(int64_t));
    int64_t *ed = hli_alloc((size_t)(ne ? ne : 1), sizeof(int64_t));
    int64_t *pos = hli_alloc((size_t)n, sizeof(int64_t));
    if (!off || !ed || !pos) {
        free(off);
        free(ed);
        free(pos);
        return hl_last_error_status();
    }
    for (int64_t e = 0; e < ne; e++)
        off[src[e] + 1]++;
    for (int64_t j = 0; j < n; j++)
        off[j + 1] += off[j];
    memcpy(pos, off, (size_t)n * sizeof(int64_t));
    for (int64_t e = 0; e < ne; e++)
        ed[pos[src[e]]++] = e;
    free(pos);
    *off_out = off;
    *e_out = ed;
    return HL_OK;
}

hl_status hli_net_backward(const hl_model *m, const hli_net_input *in, const hli_net_cache *c,
                           const float *dlogit, int nt, float *grad)
{
    const int L = m->cfg.num_conv;
    const int rel = m->cfg.link_head == HL_LINK_HEAD_RELATIONAL;
    const int64_t n = c->n, ne = c->ne, h2 = m->h2, ew = m->width[L], ne_all = in->offsets[n];
    const int low = m->relp_w >= 0; /* low-rank relational term R (U h_i * U h_j) */
    const int64_t gw = low ? m->t[m->relp_w].rows : ew;
    const size_t ne1 = (size_t)(ne ? ne : 1);
    hl_status st = HL_OK;
    memset(grad, 0, (size_t)m->num_params * sizeof(float));
#define G(id) (grad + m->t[(id)].offset)
    float *dA = hli_alloc(ne1, (size_t)h2 * sizeof(float));
    float *dB = hli_alloc(ne1, (size_t)h2 * sizeof(float));
    float *dP = hli_alloc((size_t)n, (size_t)h2 * sizeof(float));
    float *dQ = hli_calloc((size_t)n, (size_t)h2 * sizeof(float));
    float *dH = hli_alloc((size_t)n, (size_t)ew * sizeof(float));
    float *dhh = rel ? hli_alloc(ne1, (size_t)gw * sizeof(float)) : NULL;
    float *dG = low ? hli_calloc((size_t)(c->nr ? c->nr : 1), (size_t)gw * sizeof(float)) : NULL;
    int64_t *dst_all = hli_alloc((size_t)(ne_all ? ne_all : 1), sizeof(int64_t));
    int64_t *ooff = NULL, *oe = NULL;
    float *dcat = NULL, *dH2 = NULL;
    if (!dA || !dB || !dP || !dQ || !dH || (rel && !dhh) || (low && !dG) || !dst_all) {
        st = hl_last_error_status();
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++)
            dst_all[e] = i;
    if ((st = out_csr(n, ne_all, in->src, &ooff, &oe)) != HL_OK)
        goto done;

    /* ---- L2 and PReLU2 ---- */
    hli_gemm(1, 0, 2, h2, ne, 1.0f, dlogit, 2, c->u2, h2, 0.0f, G(m->l2_w), h2);
    if ((st = colsum(dlogit, ne, 2, G(m->l2_b), nt)) != HL_OK)
        goto done;
    hli_gemm(0, 0, ne, h2, 2, 1.0f, dlogit, 2, hli_param(m, m->l2_w), h2, 0.0f, dA, h2);
    if ((st = prelu_backward(c->v, hli_param(m, m->prelu2), ne, h2, dA, G(m->prelu2), nt)) != HL_OK)
        goto done;
    /* ---- L1 and PReLU1 ---- */
    hli_gemm(1, 0, h2, h2, ne, 1.0f, dA, h2, c->u1, h2, 0.0f, G(m->l1_w), h2);
    if ((st = colsum(dA, ne, h2, G(m->l1_b), nt)) != HL_OK)
        goto done;
    hli_gemm(0, 0, ne, h2, h2, 1.0f, dA, h2, hli_param(m, m->l1_w), h2, 0.0f, dB, h2);
    if ((st = prelu_backward(c->z, hli_param(m, m->prelu1), ne, h2, dB, G(m->prelu1), nt)) != HL_OK)
        goto done;
    /* ---- z = A h_j + a + B h_i + b [+ R (h_i*h_j) + r + E e_ij + e0] ---- */
    if ((st = colsum(dB, ne, h2, G(m->src_b), nt)) != HL_OK)
        goto done;
    memcpy(G(m->dst_b), G(m->src_b), (size_t)h2 * sizeof(float));
    if (rel) {
        memcpy(G(m->rel_b), G(m->src_b), (size_t)h2 * sizeof(float));
        memcpy(G(m->edge_b), G(m->src_b), (size_t)h2 * sizeof(float));
        hli_gemm(1, 0, h2, m->m, ne, 1.0f, dB, h2, in->efeat, m->m, 0.0f, G(m->edge_w), m->m);
        hli_gemm(1, 0, h2, gw, ne, 1.0f, dB, h2, c->hh, gw, 0.0f, G(m->rel_w), gw);
        hli_gemm(0, 0, ne, gw, h2, 1.0f, dB, h2, hli_param(m, m->rel_w), gw, 0.0f, dhh, gw);
    }
    /* dQ[i] = sum of dz over i's head in-edges; dP[j] = over j's head out-edges */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t i = 0; i < n; i++) {
        float *pq = dQ + i * h2, *pp = dP + i * h2;
        if (i < in->n_head)
            for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++)
                for (int64_t q = 0; q < h2; q++)
                    pq[q] += dB[e * h2 + q];
        memset(pp, 0, (size_t)h2 * sizeof(float));
        for (int64_t t = ooff[i]; t < ooff[i + 1] && oe[t] < ne; t++)
            for (int64_t q = 0; q < h2; q++)
                pp[q] += dB[oe[t] * h2 + q];
    }
    const float *H = c->h[L];
    const int64_t nr = c->nr; /* dP, dQ and dH vanish beyond row nr */
    hli_gemm(1, 0, h2, ew, nr, 1.0f, dP, h2, H, ew, 0.0f, G(m->src_w), ew);
    hli_gemm(1, 0, h2, ew, nr, 1.0f, dQ, h2, H, ew, 0.0f, G(m->dst_w), ew);
    hli_gemm(0, 0, nr, ew, h2, 1.0f, dP, h2, hli_param(m, m->src_w), ew, 0.0f, dH, ew);
    hli_gemm(0, 0, nr, ew, h2, 1.0f, dQ, h2, hli_param(m, m->dst_w), ew, 1.0f, dH, ew);
    memset(dH + nr * ew, 0, (size_t)((n - nr) * ew) * sizeof(float));
    if (rel) {
        /* d(g_i * g_j): into dH (full rank, g = h) or dG (low rank, g = U h) */
        const float *Gv = low ? c->G : H;
        float *dGv = low ? dG : dH;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t i = 0; i < nr; i++) {
            float *o = dGv + i * gw;
            if (i < in->n_head)
                for (int64_t e = in->offsets[i]; e < in->offsets[i + 1]; e++) {
                    const float *hj = Gv + in->src[e] * gw, *g = dhh + e * gw;
                    for (int64_t q = 0; q < gw; q++)
                        o[q] += g[q] * hj[q];
                }
            for (int64_t t = ooff[i]; t < ooff[i + 1] && oe[t] < ne; t++) {
                const int64_t e = oe[t];
                const float *hi = Gv + dst_all[e] * gw, *g = dhh + e * gw;
                for (int64_t q = 0; q < gw; q++)
                    o[q] += g[q] * hi[q];
            }
        }
        if (low) {
            hli_gemm(1, 0, gw, ew, nr, 1.0f, dG, gw, H, ew, 0.0f, G(m->relp_w), ew);
            hli_gemm(0, 0, nr, ew, gw, 1.0f, dG, gw, hli_param(m, m->relp_w), ew, 1.0f, dH, ew);
        }
    }
    /* ---- GraphConv layers, last to first ---- */
    for (int l = L - 1; l >= 0; l--) {
        const int64_t w = m->width[l], wo = m->width[l + 1];
        const float *h = c->h[l + 1];
        const float sc = c->drop_scale;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t i = 0; i < n * wo; i++)
            dH[i] = h[i] > 0.0f ? dH[i] * sc : 0.0f;
        const int64_t rows = l == L - 1 ? nr : n; /* the last layer ran on rows [0, nr) */
        hli_gemm(1, 0, wo, 2 * w, rows, 1.0f, dH, wo, c->cat[l], 2 * w, 0.0f, G(m->conv_w[l]), 2 * w);
        if ((st = colsum(dH, rows, wo, G(m->conv_b[l]), nt)) != HL_OK)
            goto done;
        if (l == 0)
            break;
        free(dcat);
        dcat = hli_alloc((size_t)n, (size_t)(2 * w) * sizeof(float));
        free(dH2);
        dH2 = hli_alloc((size_t)n, (size_t)w * sizeof(float));
        if (!dcat || !dH2) {
            st = hl_last_error_status();
            goto done;
        }
        hli_gemm(0, 0, rows, 2 * w, wo, 1.0f, dH, wo, hli_param(m, m->conv_w[l]), 2 * w, 0.0f, dcat, 2 * w);
        memset(dcat + rows * 2 * w, 0, (size_t)((n - rows) * 2 * w) * sizeof(float));
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t j = 0; j < n; j++) {
            float *o = dH2 + j * w;
            memcpy(o, dcat + j * 2 * w, (size_t)w * sizeof(float));
            for (int64_t t = ooff[j]; t < ooff[j + 1]; t++) {
                const int64_t e = oe[t];
                const float a = in->aff[e];
                const float *g = dcat + dst_all[e] * 2 * w + w;
                for (int64_t q = 0; q < w; q++)
                    o[q] += a * g[q];
            }
        }
        float *tmp = dH;
        dH = dH2;
        dH2 = tmp;
    }
done:
#undef G
    free(dA);
    free(dB);
    free(dP);
    free(dQ);
    free(dH);
    free(dH2);
    free(dcat);
    free(dhh);
    free(dG);
    free(dst_all);
    free(ooff);
    free(oe);
    return st;
}
