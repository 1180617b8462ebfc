/* A tiny program built against an *installed* libhilander, exactly as a user
 * would: with pkg-config, or with CMake's find_package(hilander). */
#include <hilander.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *tmp = argc > 1 ? argv[1] : "/tmp";
    /* Header and library agree on the version. */
    if (strcmp(hl_version(), HL_VERSION_STRING) != 0 || hl_version_number() != HL_VERSION_NUMBER) {
        fprintf(stderr, "consumer: header %s but library %s\n", HL_VERSION_STRING, hl_version());
        return 1;
    }
    /* Errors come back as a status plus a per-thread message. */
    float *x = NULL;
    int64_t rows = 0, cols = 0;
    hl_status st = hl_npy_read_f32("/nonexistent/dir/x.npy", &x, &rows, &cols);
    if (st != HL_EIO || strstr(hl_last_error(), "/nonexistent/dir/x.npy") == NULL) {
        fprintf(stderr, "consumer: unexpected %s: %s\n", hl_status_str(st), hl_last_error());
        return 1;
    }
    /* A .npy round trip through the library. */
    char path[1024];
    snprintf(path, sizeof path, "%s/hilander_consumer_%ld.npy", tmp, (long)rand());
    const float v[6] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
    if (hl_npy_write_f32(path, v, 2, 3) != HL_OK || hl_npy_read_f32(path, &x, &rows, &cols) != HL_OK) {
        fprintf(stderr, "consumer: npy round trip failed: %s\n", hl_last_error());
        remove(path);
        return 1;
    }
    remove(path);
    int ok = rows == 2 && cols == 3 && memcmp(x, v, sizeof v) == 0;
    hl_free(x);
    if (!ok) {
        fprintf(stderr, "consumer: npy round trip changed the data\n");
        return 1;
    }
    printf("consumer: libhilander %s OK\n", hl_version());
    return 0;
}
