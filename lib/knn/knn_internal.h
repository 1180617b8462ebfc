/* Internal kNN entry points shared by knn_search.c, exact.c, ivf.c, nndescent.c and the
 * graph subsystem.  The top-k primitives they share live in knn/topk.h. */
#ifndef HILANDER_KNN_INTERNAL_H
#define HILANDER_KNN_INTERNAL_H

#include "knn/topk.h"

/* ---- features (normalize.c) ---------------------------------------------- */

/* Copy x (n*d) into a new array with every row L2-normalised.  A zero or
 * non-finite row is HL_EINVAL naming the row.  Returns NULL on error. */
float *hli_normalized_copy(const float *x, int64_t n, int64_t d, hl_status *status);
/* The same rows normalised in place (the same floats as the copy); every
 * row is checked first, so a non-finite or zero row leaves @p x unchanged. */
hl_status hli_normalize_in_place(float *x, int64_t n, int64_t d);
/* Check all n*d values are finite; HL_EINVAL naming @p what, row and column. */
hl_status hli_check_finite(const char *what, const float *x, int64_t n, int64_t d);

/* Exact kNN of normalised rows (self first with similarity exactly 1). */
hl_status hli_knn_exact(const float *xn, int64_t n, int64_t d, int64_t k, int64_t block_rows, int nt,
                        int64_t *nbrs, float *sims);

/* Approximate kNN (IVF) of normalised rows; self first with similarity 1.
 * @p nprobe_used (may be NULL) receives the number of cells scanned per query. */
hl_status hli_knn_ivf(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt, int64_t *nbrs,
                      float *sims, int64_t *nprobe_used);

/* The cells of an IVF index over the normalised rows @p xn, as hli_knn_ivf
 * trains them (opts->nlist, 0 = automatic; opts->seed), and the number of
 * cells to probe (opts->nprobe, or calibrated to opts->target_recall for
 * opts->k neighbours).  *cent: *nlist x d, malloc'ed.  For indexes that
 * outlive one search (collections). */
hl_status hli_ivf_train(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt, float **cent,
                        int64_t *nlist, int64_t *nprobe);

/* Approximate kNN by NN-descent from a cheap IVF graph (nndescent.c); exact
 * search for small n.  Self first with similarity 1. */
hl_status hli_knn_nndescent(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int nt,
                            int64_t *nbrs, float *sims);

/* hl_knn_search on features the caller already L2-normalised (no copy). */
hl_status hli_knn_normalized(const float *xn, int64_t n, int64_t d, const hl_knn_options *opts, int64_t *nbrs,
                             float *sims);

/* n >= 1, d >= 1, n*d floats fit memory sizes, n and d fit BLAS ints. */
hl_status hli_knn_check_shape(int64_t n, int64_t d);

/* Validate opts (NULL allowed = defaults) and k against n; fills @p eff. */
hl_status hli_knn_check_options(const hl_knn_options *opts, int64_t n, hl_knn_options *eff);

#endif
