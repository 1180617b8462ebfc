/* Training a LANDER model (SPEC section 3) - stubs for now. */
#include "internal.h"

#include <string.h>

void hl_train_options_init(hl_train_options *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
}

hl_status hl_train_options_check(const hl_train_options *opts)
{
    (void)opts;
    return hli_error(HL_EINTERNAL, "hl_train_options_check: not implemented yet");
}

hl_status hl_trainer_create(hl_model *model, const hl_train_options *opts, const float *x, const int64_t *labels,
                            int64_t n, int64_t d, hl_trainer **out)
{
    (void)model, (void)opts, (void)x, (void)labels, (void)n, (void)d;
    if (out)
        *out = NULL;
    return hli_error(HL_EINTERNAL, "hl_trainer_create: not implemented yet");
}

hl_status hl_trainer_run(hl_trainer *trainer)
{
    (void)trainer;
    return hli_error(HL_EINTERNAL, "hl_trainer_run: not implemented yet");
}

void hl_trainer_free(hl_trainer *trainer) { (void)trainer; }

hl_status hl_train(const hl_model_config *cfg, const hl_train_options *opts, const float *x, const int64_t *labels,
                   int64_t n, int64_t d, hl_model **out)
{
    (void)cfg, (void)opts, (void)x, (void)labels, (void)n, (void)d;
    if (out)
        *out = NULL;
    return hli_error(HL_EINTERNAL, "hl_train: not implemented yet");
}
