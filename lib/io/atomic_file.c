/* Atomic file replacement: write "<path>.tmp.XXXXXX" beside the target, fsync,
 * rename, fsync the directory.  Readers see either the old file or the
 * complete new one.  The new file gets the mode a plain fopen() would give it
 * (0666 less the umask), or the mode of the regular file it replaces; a
 * symbolic link at the target is replaced by a regular file (its target is
 * left unchanged). */
#define _POSIX_C_SOURCE 200809L
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Create "<path>.tmp.XXXXXX" with O_EXCL and mode 0666, so that the kernel
 * applies the umask (mkstemp would force 0600). */
static int create_temp(char *tmp, size_t cap, const char *path)
{
    static atomic_uint_fast64_t counter;
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t v = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
    for (int attempt = 0; attempt < 100; attempt++) {
        v = v * 6364136223846793005ull + 1442695040888963407ull + atomic_fetch_add(&counter, 1);
        char name[7];
        uint64_t r = v >> 16;
        for (int i = 0; i < 6; i++, r /= 62)
            name[i] = digits[r % 62];
        name[6] = '\0';
        snprintf(tmp, cap, "%s.tmp.%s", path, name);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Make the temporary file keep the mode of the regular file it replaces. */
static void keep_mode(int fd, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        (void)fchmod(fd, st.st_mode & 07777);
}

/* fsync the directory holding @p path (our own copy: cut at its last '/'
 * and restored, so that nothing is allocated after the rename).  Filesystems
 * that cannot sync a directory (EINVAL) are not an error. */
static hl_status sync_dir(char *path)
{
    char *slash = strrchr(path, '/');
    const char *dir = ".";
    if (slash == path)
        dir = "/";
    else if (slash != NULL) {
        *slash = '\0';
        dir = path;
    }
    hl_status st = HL_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
            st = hli_error(HL_EIO, "'%s' holds the new file but could not be synced: %s", dir, strerror(errno));
        close(fd);
    }
    if (slash != NULL && slash != path)
        *slash = '/';
    return st;
}

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
    int fd = create_temp(af->tmp_path, len + 16, path);
    if (fd < 0) {
        hl_status st = hli_error(HL_EIO, "cannot create a temporary file beside '%s': %s", path, strerror(errno));
        free(af->final_path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return st;
    }
    keep_mode(fd, path);
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
    else
        st = sync_dir(af->final_path);
    atomic_release(af);
    return st;
}
