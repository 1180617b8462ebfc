/* Internal: within-class whitening of features (whiten.c). */
#ifndef HILANDER_WHITEN_H
#define HILANDER_WHITEN_H

#include "common/internal.h"

/* Largest feature dimension whitening supports: the fit holds two d x d
 * double matrices (8192: 1 GiB). */
#define HLI_WHITEN_MAX_DIM 8192
/* The ridge training uses by default (hl_train_options.whiten < 0), chosen
 * on class splits of Omniglot train (docs/QUALITY.md). */
#define HLI_WHITEN_DEFAULT_RIDGE 0.3

/* Fit W (d x d, row-major, lower triangular) with W A W^T = I for
 * A = Sw + ridge * trace(Sw) / d * I, Sw the within-class scatter of the
 * rows of @p x (n x d, L2-normalised) grouped by @p y; classes of one point
 * add nothing.  HL_EINVAL if no class has two points or ridge <= 0. */
hl_status hli_whiten_fit(const float *x, const int64_t *y, int64_t n, int64_t d, double ridge, float *w);

/* In place: every row x_i := W x_i / |W x_i|.  HL_EINVAL if a row maps to a
 * zero or non-finite vector (nothing else is undone: callers pass a copy). */
hl_status hli_whiten_apply(const float *w, float *x, int64_t n, int64_t d);

#endif
