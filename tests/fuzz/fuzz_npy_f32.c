/* libFuzzer target: hl_npy_read_f32 on arbitrary bytes.  A file it accepts
 * must give a positive shape whose data are all readable, and must survive a
 * write/read round trip bit for bit. */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init("npy-f32");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HL_FUZZ_MAX_INPUT)
        return 0;
    fz_write(data, size);
    float *x = NULL;
    int64_t rows = -1, cols = -1;
    hl_status st = hl_npy_read_f32(fz_path, &x, &rows, &cols);
    fz_check_error(st);
    if (st != HL_OK) {
        FZ_REQUIRE(x == NULL && rows == 0 && cols == 0);
        return 0;
    }
    FZ_REQUIRE(x != NULL && rows > 0 && cols > 0);
    /* the file is exactly header + 4*rows*cols bytes: the data cannot exceed it */
    FZ_REQUIRE((uint64_t)rows * (uint64_t)cols * 4u < size);
    FZ_REQUIRE(hl_npy_write_f32(fz_path2, x, rows, cols) == HL_OK);
    float *y = NULL;
    int64_t r2 = 0, c2 = 0;
    FZ_REQUIRE(hl_npy_read_f32(fz_path2, &y, &r2, &c2) == HL_OK);
    FZ_REQUIRE(r2 == rows && c2 == cols);
    FZ_REQUIRE(memcmp(x, y, (size_t)(rows * cols) * sizeof(float)) == 0);
    hl_free(y);
    hl_free(x);
    return 0;
}
