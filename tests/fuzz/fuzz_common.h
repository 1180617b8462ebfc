/* Shared by the libFuzzer targets: the library reads files by path, so each
 * input is written to one private temporary file (created once, rewritten
 * for every input) and the reader is called on that path.  Inputs are capped
 * at HL_FUZZ_MAX_INPUT bytes (libFuzzer's -max_len is the usual cap; this
 * keeps a stray huge corpus file from dominating a run). */
#ifndef HILANDER_FUZZ_COMMON_H
#define HILANDER_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include "hilander.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HL_FUZZ_MAX_INPUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fz_path[4096];
static char fz_path2[4096 + 8];

static void fz_cleanup(void)
{
    unlink(fz_path);
    unlink(fz_path2);
}

/* Create the private input file (and a second path for round trips). */
static void fz_init(const char *tag)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    snprintf(fz_path, sizeof fz_path, "%s/hl-fuzz-%s-XXXXXX", dir, tag);
    int fd = mkstemp(fz_path);
    if (fd < 0) {
        perror("fuzz: mkstemp");
        abort();
    }
    close(fd);
    snprintf(fz_path2, sizeof fz_path2, "%s.out", fz_path);
    atexit(fz_cleanup);
}

/* Replace the file's content with @p data. */
static void fz_write(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(fz_path, "wb");
    if (fp == NULL || (size > 0 && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        perror("fuzz: cannot write the input file");
        abort();
    }
}

/* A status the readers may return for a bad file. */
static void fz_check_error(hl_status st)
{
    if (st == HL_OK)
        return;
    if (st != HL_EFORMAT && st != HL_ERANGE && st != HL_EVERSION && st != HL_EIO && st != HL_ENOMEM &&
        st != HL_EINVAL) {
        fprintf(stderr, "fuzz: unexpected status %d (%s)\n", (int)st, hl_status_str(st));
        abort();
    }
    if (hl_last_error_status() != st || hl_last_error()[0] == '\0') {
        fprintf(stderr, "fuzz: status %d without a matching hl_last_error (%d, '%s')\n", (int)st,
                (int)hl_last_error_status(), hl_last_error());
        abort();
    }
}

#define FZ_REQUIRE(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz: %s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
