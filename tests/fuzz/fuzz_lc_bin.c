/* libFuzzer target: hl_lc_read_bin.  The first input byte chooses the
 * dimension (1..32), the rest is the file.  Accepted files round-trip. */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init("lc-bin");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > HL_FUZZ_MAX_INPUT)
        return 0;
    const int64_t dim = 1 + data[0] % 32;
    fz_write(data + 1, size - 1);
    float *x = NULL;
    int64_t rows = -1;
    hl_status st = hl_lc_read_bin(fz_path, dim, &x, &rows);
    fz_check_error(st);
    if (st != HL_OK) {
        FZ_REQUIRE(x == NULL);
        return 0;
    }
    FZ_REQUIRE(x != NULL && rows > 0 && (uint64_t)rows * (uint64_t)dim * 4u == size - 1);
    FZ_REQUIRE(hl_lc_write_bin(fz_path2, x, rows, dim) == HL_OK);
    float *y = NULL;
    int64_t r2 = 0;
    FZ_REQUIRE(hl_lc_read_bin(fz_path2, dim, &y, &r2) == HL_OK);
    FZ_REQUIRE(r2 == rows && memcmp(x, y, (size_t)(rows * dim) * sizeof(float)) == 0);
    hl_free(y);
    hl_free(x);
    return 0;
}
