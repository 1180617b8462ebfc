/* hl_train_options: defaults, the caller's struct read at its own size, and
 * the range checks. */
#include "train/train_internal.h"

#include <math.h>

void hli_train_options_defaults(void *full)
{
    hl_train_options *opts = full;
    opts->num_graphs = 3;
    opts->k_list[0] = 10;
    opts->k_list[1] = 5;
    opts->k_list[2] = 3;
    opts->levels[0] = 2;
    opts->levels[1] = 3;
    opts->levels[2] = 4;
    opts->epochs = 0;
    opts->batch_size = 1024; /* docs/TRAINING.md */
    opts->lr = 0.03;
    opts->lr_min = 1e-5;
    opts->momentum = 0.9;
    opts->weight_decay = 1e-5;
    opts->focal = 0;
    opts->balance = 0;
    opts->val_fraction = 0.2;
    opts->eval_every = 25;
    opts->patience = 6;
    opts->select_tau = 1;
    opts->seed = 1;
    opts->num_threads = 0;
    opts->checkpoint_metric = HL_CHECKPOINT_CLUSTER;
    opts->standardize_edge_features = 0;
    opts->whiten = -1.0;
}

hl_status hl_train_options_init(hl_train_options *opts, size_t struct_size)
{
    return hli_struct_init(opts, struct_size, HLI_MIN_SIZE_TRAIN_OPTIONS, sizeof *opts, hli_train_options_defaults,
                           "hl_train_options_init");
}

hl_status hli_train_options_read(const hl_train_options *in, hl_train_options *out)
{
    return hli_struct_read(in, HLI_MIN_SIZE_TRAIN_OPTIONS, sizeof *out, hli_train_options_defaults, out,
                           "train options");
}

hl_status hl_train_options_check(const hl_train_options *in)
{
    hl_train_options full;
    hl_status st0 = hli_train_options_read(in, &full);
    if (st0 != HL_OK)
        return st0;
    const hl_train_options *o = &full;
    if (!isfinite(o->whiten))
        return hli_error(HL_EINVAL, "train options: whiten = %g must be finite (0 = off, < 0 = default)", o->whiten);
    if (o->num_graphs < 1 || o->num_graphs > HL_TRAIN_MAX_GRAPHS)
        return hli_error(HL_EINVAL, "train options: num_graphs = %d must be in [1, %d]", (int)o->num_graphs,
                         HL_TRAIN_MAX_GRAPHS);
    for (int p = 0; p < o->num_graphs; p++) {
        if (o->k_list[p] < 2 || o->k_list[p] > 1024)
            return hli_error(HL_EINVAL, "train options: k_list[%d] = %lld must be in [2, 1024]", p,
                             (long long)o->k_list[p]);
        if (o->levels[p] < 1 || o->levels[p] > 16)
            return hli_error(HL_EINVAL, "train options: levels[%d] = %d must be in [1, 16]", p, (int)o->levels[p]);
    }
    if (o->epochs < 0)
        return hli_error(HL_EINVAL, "train options: epochs = %d must be >= 0", (int)o->epochs);
    if (o->batch_size < 1)
        return hli_error(HL_EINVAL, "train options: batch_size = %lld must be >= 1", (long long)o->batch_size);
    if (!(o->lr > 0.0 && o->lr < 100.0))
        return hli_error(HL_EINVAL, "train options: lr = %g must be in (0, 100)", o->lr);
    if (!(o->lr_min >= 0.0 && o->lr_min <= o->lr))
        return hli_error(HL_EINVAL, "train options: lr_min = %g must be in [0, lr]", o->lr_min);
    if (!(o->momentum >= 0.0 && o->momentum < 1.0))
        return hli_error(HL_EINVAL, "train options: momentum = %g must be in [0, 1)", o->momentum);
    if (!(o->weight_decay >= 0.0 && o->weight_decay < 1.0))
        return hli_error(HL_EINVAL, "train options: weight_decay = %g must be in [0, 1)", o->weight_decay);
    if (o->focal != 0 && o->focal != 1)
        return hli_error(HL_EINVAL, "train options: focal = %d must be 0 or 1", (int)o->focal);
    if (o->balance != 0 && o->balance != 1)
        return hli_error(HL_EINVAL, "train options: balance = %d must be 0 or 1", (int)o->balance);
    if (!(o->val_fraction >= 0.0 && o->val_fraction < 1.0))
        return hli_error(HL_EINVAL, "train options: val_fraction = %g must be in [0, 1)", o->val_fraction);
    if (o->eval_every < 0)
        return hli_error(HL_EINVAL, "train options: eval_every = %d must be >= 0", (int)o->eval_every);
    if (o->patience < 0)
        return hli_error(HL_EINVAL, "train options: patience = %d must be >= 0", (int)o->patience);
    if (o->select_tau != 0 && o->select_tau != 1)
        return hli_error(HL_EINVAL, "train options: select_tau = %d must be 0 or 1", (int)o->select_tau);
    if (o->num_threads < 0)
        return hli_error(HL_EINVAL, "train options: num_threads = %d must be >= 0", (int)o->num_threads);
    if (o->standardize_edge_features != 0 && o->standardize_edge_features != 1)
        return hli_error(HL_EINVAL, "train options: standardize_edge_features = %d must be 0 or 1",
                         (int)o->standardize_edge_features);
    if (o->checkpoint_metric < HL_CHECKPOINT_LEVEL0 || o->checkpoint_metric > HL_CHECKPOINT_CLUSTER)
        return hli_error(HL_EINVAL,
                         "train options: checkpoint_metric = %d must be 0 (level-0 AUC), 1 (pooled AUC) or 2 "
                         "(validation clustering)",
                         (int)o->checkpoint_metric);
    return HL_OK;
}
