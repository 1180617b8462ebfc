/* Atomic file replacement: write "<path>.tmp.XXXXXX" beside the target, fsync,
 * rename.  Readers see either the old file or the complete new one. */
#define _POSIX_C_SOURCE 200809L
#include "io/io_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

hl_status hli_atomic_open(hli_atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (path == NULL || path[0] == '\0')
        return hli_error(HL_EINVAL, "path is NULL or empty");
    size_t len = strlen(path);
    af->final_path = hli_alloc(len + 1, 1);
    af->tmp_path = hli_alloc(len + 16, 1);
    if (af->final_path == NULL || af->tmp_path == NULL) {
        free(af->final_path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return hli_oom();
    }
    memcpy(af->final_path, path, len + 1);
    snprintf(af->tmp_path, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        hl_status st = hli_error(HL_EIO, "cannot create a temporary file beside '%s': %s", path, strerror(errno));
        free(af->final_path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return st;
    }
    af->fp = fdopen(fd, "wb");
    if (af->fp == NULL) {
        hl_status st = hli_error(HL_EIO, "cannot open '%s': %s", af->tmp_path, strerror(errno));
        close(fd);
        unlink(af->tmp_path);
        free(af->final_path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return st;
    }
    return HL_OK;
}

hl_status hli_atomic_write(hli_atomic_file *af, const void *data, size_t len)
{
    if (af->failed)
        return HL_EIO;
    if (len > 0 && fwrite(data, 1, len, af->fp) != len) {
        af->failed = true;
        return hli_error(HL_EIO, "write to '%s' failed: %s", af->tmp_path, strerror(errno));
    }
    return HL_OK;
}

static void atomic_release(hli_atomic_file *af)
{
    free(af->tmp_path);
    free(af->final_path);
    memset(af, 0, sizeof *af);
}

void hli_atomic_abort(hli_atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    if (af->tmp_path)
        unlink(af->tmp_path);
    atomic_release(af);
}

hl_status hli_atomic_commit(hli_atomic_file *af)
{
    if (af->failed) {
        hli_atomic_abort(af);
        return HL_EIO;
    }
    hl_status st = HL_OK;
    if (fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0)
        st = hli_error(HL_EIO, "cannot flush '%s': %s", af->tmp_path, strerror(errno));
    if (fclose(af->fp) != 0 && st == HL_OK)
        st = hli_error(HL_EIO, "cannot close '%s': %s", af->tmp_path, strerror(errno));
    af->fp = NULL;
    if (st == HL_OK && rename(af->tmp_path, af->final_path) != 0)
        st = hli_error(HL_EIO, "cannot rename '%s' to '%s': %s", af->tmp_path, af->final_path, strerror(errno));
    if (st != HL_OK)
        unlink(af->tmp_path);
    atomic_release(af);
    return st;
}
