/* libFuzzer target: hl_lc_read_meta (one integer label per line).
 * Accepted files round-trip through hl_lc_write_meta. */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init("lc-meta");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HL_FUZZ_MAX_INPUT)
        return 0;
    fz_write(data, size);
    int64_t *v = NULL;
    int64_t n = -1;
    hl_status st = hl_lc_read_meta(fz_path, &v, &n);
    fz_check_error(st);
    if (st != HL_OK) {
        FZ_REQUIRE(v == NULL);
        return 0;
    }
    FZ_REQUIRE(v != NULL && n > 0 && (uint64_t)n <= size);
    FZ_REQUIRE(hl_lc_write_meta(fz_path2, v, n) == HL_OK);
    int64_t *w = NULL;
    int64_t n2 = -1;
    FZ_REQUIRE(hl_lc_read_meta(fz_path2, &w, &n2) == HL_OK);
    FZ_REQUIRE(n2 == n && memcmp(v, w, (size_t)n * sizeof(int64_t)) == 0);
    hl_free(w);
    hl_free(v);
    return 0;
}
