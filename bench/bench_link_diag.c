/* Where does a trained model's clustering lose? (docs/QUALITY.md, "What
 * limits the quality").  A quality diagnostic, not a timing: run it on classes the
 * model never saw (a class split of train_*, never to choose on test).
 *
 *   bench_link_diag MODEL.hlm FEATURES.npy LABELS.npy [--k 10]
 *
 * Prints, on the level-0 k-NN graph:
 *  1. the decode with the model's links and density, and with each replaced
 *     by the truth (true link = 1/0, the ground-truth density of
 *     docs/ALGORITHM.md, "The graph"), each at its
 *     best tau on a 0.025 grid: which of the two limits the clustering;
 *  2. per edge score (model probability, shared-neighbour fraction, cosine,
 *     cosine of the neighbourhood means): the precision of the parent each
 *     node would pick (highest score among neighbours denser by the model's
 *     dhat), over nodes that have a correct denser neighbour, and the AUC of
 *     that score on the parent edges the model picks (correct vs wrong
 *     parent): what a threshold can separate;
 *  3. the level-1 graph built from the decode at the model's stored tau:
 *     link AUC of each score between level-1 nodes (same class = same label
 *     of the nodes' peaks), and of the cosine of the cluster means. */
#include "bench_common.h"
#include "cluster/cluster_internal.h"
#include "knn/knn_internal.h"
#include "model/model_internal.h"
#include "metrics/metrics_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double auc_of(const float *s, const uint8_t *y, int64_t n)
{
    double auc = NAN, ap = NAN;
    if (hli_auc_ap(s, y, n, &auc, &ap) != HL_OK)
        return NAN;
    return auc;
}

/* mean of pairwise and BCubed F at the best tau; *out gets those metrics */
static double best_decode(const hl_graph *g, const float *score, const float *dens, const int64_t *y, int64_t n,
                          int64_t *lab, hl_metrics *out, float *best_tau)
{
    double best = -1.0;
    for (int s = 0; s <= 39; s++) {
        const float tau = 0.025f * (float)s;
        hl_metrics mt;
        hl_metrics_init(&mt, sizeof mt);
        if (hl_decode(g, score, dens, tau, NULL, lab) != HL_OK || hl_evaluate(y, lab, n, &mt) != HL_OK)
            return -1.0;
        const double f = 0.5 * (mt.pairwise_f + mt.bcubed_f);
        if (f > best) {
            best = f;
            *out = mt;
            *best_tau = tau;
        }
    }
    return best;
}

/* Edge scores of one graph: [0] model probability (also fills dens),
 * [1] shared-neighbour fraction, [2] cosine, [3] cosine of neighbourhood means. */
static int edge_scores(const hl_model *m, const hl_graph *g, const float *x, const float *c, int64_t n, int64_t d,
                       float *sc[4], float *dens)
{
    if (hl_model_predict(m, g, x, c, n, d, 0, sc[0], dens) != HL_OK ||
        hli_edge_features(g, HL_EDGE_FEAT_SNN, NULL, 0, 0, sc[1]) != HL_OK ||
        hli_edge_features(g, HL_EDGE_FEAT_MEAN_COS, x, d, 0, sc[3]) != HL_OK)
        return -1;
    memcpy(sc[2], g->sim, (size_t)g->num_edges * sizeof(float));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.hlm FEATURES.npy LABELS.npy [--k 10]\n", argv[0]);
        return 2;
    }
    int64_t k = 10;
    if (argc >= 6 && strcmp(argv[4], "--k") == 0)
        k = atol(argv[5]);
    hl_model *m = NULL;
    float *x = NULL;
    int64_t n, d, *y = NULL, ny;
    if (hl_model_load(argv[1], &m) != HL_OK || hl_npy_read_f32(argv[2], &x, &n, &d) != HL_OK ||
        hl_npy_read_labels(argv[3], &y, &ny) != HL_OK || ny != n) {
        fprintf(stderr, "load: %s\n", hl_last_error());
        return 1;
    }
    bench_print_machine();
    hl_status st;
    float *xn = hli_normalized_copy(x, n, d, &st);
    hl_knn_options ko;
    hl_knn_options_init(&ko, sizeof ko);
    ko.k = k;
    ko.method = HL_KNN_EXACT;
    hl_graph *g = NULL;
    if (xn == NULL || hli_graph_build_normalized(xn, n, d, &ko, &g) != HL_OK) {
        fprintf(stderr, "graph: %s\n", hl_last_error());
        return 1;
    }
    const int64_t E = g->num_edges;
    float *sc[4], *dm = malloc((size_t)n * sizeof(float)), *gd = malloc((size_t)n * sizeof(float));
    float *gl = malloc((size_t)E * sizeof(float));
    uint8_t *el = malloc((size_t)E);
    int64_t *lab = malloc((size_t)n * sizeof(int64_t));
    for (int s = 0; s < 4; s++)
        sc[s] = malloc((size_t)E * sizeof(float));
    if (!dm || !gd || !gl || !el || !lab || !sc[0] || !sc[1] || !sc[2] || !sc[3]) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if (edge_scores(m, g, xn, NULL, n, d, sc, dm) != 0 || hl_graph_density(g, y, gd) != HL_OK) {
        fprintf(stderr, "scores: %s\n", hl_last_error());
        return 1;
    }
    int64_t pos0 = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++) {
            el[e] = y[g->src[e]] == y[i];
            gl[e] = el[e];
            pos0 += el[e];
        }
    printf("level 0: %lld nodes, %lld edges (%.3f same class), k = %lld\n", (long long)n, (long long)E,
           E ? (double)pos0 / (double)E : 0.0, (long long)k);
    printf("\n1. decode at the best tau (mean of pairwise and BCubed F):\n");
    const char *dname[4] = {"model links + model density", "model links + true density",
                            "true links + model density", "true links + true density"};
    const float *dsc[4] = {sc[0], sc[0], gl, gl}, *dde[4] = {dm, gd, dm, gd};
    for (int v = 0; v < 4; v++) {
        hl_metrics mt;
        memset(&mt, 0, sizeof mt);
        float tau = 0.0f;
        const double f = best_decode(g, dsc[v], dde[v], y, n, lab, &mt, &tau);
        printf("  %-28s mean F %.4f (pairwise %.4f, BCubed %.4f, NMI %.4f; tau %.3f)\n", dname[v], f,
               mt.pairwise_f, mt.bcubed_f, mt.nmi, (double)tau);
    }
    printf("\n2. parent choice among neighbours denser by the model's dhat:\n");
    const char *sname[4] = {"model prob", "shared-nbr", "cosine", "mean-cos"};
    /* the model's parent edge of every node with a denser neighbour */
    float *ps = malloc((size_t)n * sizeof(float));
    uint8_t *pl = malloc((size_t)n);
    if (!ps || !pl)
        return 1;
    for (int s = 0; s < 4; s++) {
        int64_t cand = 0, ok = 0, np = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t best = -1, bm = -1, haspos = 0;
            for (int64_t e = g->offsets[i]; e < g->offsets[i + 1]; e++) {
                if (!(dm[g->src[e]] > dm[i]))
                    continue;
                haspos |= el[e];
                if (best < 0 || sc[s][e] > sc[s][best])
                    best = e;
                if (bm < 0 || sc[0][e] > sc[0][bm])
                    bm = e;
            }
            if (best >= 0 && haspos) {
                cand++;
                ok += el[best];
            }
            if (bm >= 0) {
                ps[np] = sc[s][bm];
                pl[np++] = el[bm];
            }
        }
        printf("  %-11s parent precision %.4f (over %lld nodes with a correct denser neighbour); "
               "AUC on the model's parent edges %.4f; link AUC on all edges %.4f\n",
               sname[s], cand ? (double)ok / (double)cand : NAN, (long long)cand, auc_of(ps, pl, np),
               auc_of(sc[s], el, E));
    }
    /* 3. level 1 from the decode at the model's stored tau */
    float tau0;
    int32_t score0;
    hli_level lv0, lv1;
    memset(&lv1, 0, sizeof lv1);
    if (hl_model_get_cluster_defaults(m, &tau0, &score0) != HL_OK || hli_level_init(&lv0, xn, n, d, y) != HL_OK ||
        hl_decode(g, sc[0], dm, tau0, NULL, lab) != HL_OK || hli_level_next(&lv0, lab, xn, &lv1) != HL_OK) {
        fprintf(stderr, "level 1: %s\n", hl_last_error());
        return 1;
    }
    hl_graph *g1 = NULL;
    if (lv1.n <= k || hli_graph_build_normalized(lv1.x, lv1.n, d, &ko, &g1) != HL_OK) {
        printf("\n3. level 1: %lld nodes, too few for a k = %lld graph\n", (long long)lv1.n, (long long)k);
        return 0;
    }
    const int64_t E1 = g1->num_edges;
    float *s1[4], *d1 = malloc((size_t)lv1.n * sizeof(float)), *cc = malloc((size_t)(E1 ? E1 : 1) * sizeof(float));
    uint8_t *el1 = malloc((size_t)(E1 ? E1 : 1));
    for (int s = 0; s < 4; s++)
        s1[s] = malloc((size_t)(E1 ? E1 : 1) * sizeof(float));
    if (!d1 || !cc || !el1 || !s1[0] || !s1[1] || !s1[2] || !s1[3] ||
        edge_scores(m, g1, lv1.x, lv1.c, lv1.n, d, s1, d1) != 0) {
        fprintf(stderr, "level 1 scores: %s\n", hl_last_error());
        return 1;
    }
    int64_t pos = 0;
    for (int64_t i = 0; i < lv1.n; i++)
        for (int64_t e = g1->offsets[i]; e < g1->offsets[i + 1]; e++) {
            const int64_t j = g1->src[e];
            el1[e] = lv1.label[j] == lv1.label[i];
            pos += el1[e];
            double ab = 0, aa = 0, bb = 0;
            for (int64_t q = 0; q < d; q++) {
                ab += (double)lv1.c[i * d + q] * lv1.c[j * d + q];
                aa += (double)lv1.c[i * d + q] * lv1.c[i * d + q];
                bb += (double)lv1.c[j * d + q] * lv1.c[j * d + q];
            }
            cc[e] = aa > 0 && bb > 0 ? (float)(ab / sqrt(aa * bb)) : 0.0f;
        }
    printf("\n3. level 1 (decode at the stored tau %.3f): %lld nodes, %lld edges (%.3f same class); link AUC:",
           (double)tau0, (long long)lv1.n, (long long)E1, E1 ? (double)pos / (double)E1 : 0.0);
    for (int s = 0; s < 4; s++)
        printf(" %s %.4f,", sname[s], auc_of(s1[s], el1, E1));
    printf(" cosine of cluster means %.4f\n", auc_of(cc, el1, E1));
    return 0;
}
