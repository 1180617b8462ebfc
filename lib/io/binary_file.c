/* Shared file helpers of the readers and writers: sizes, exact reads, byte order. */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#include "io/io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool hli_host_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

void hli_bswap_array(void *data, size_t count, size_t width)
{
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += width) {
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
    }
}

hl_status hli_file_open_read(const char *path, FILE **fp, uint64_t *size)
{
    *fp = NULL;
    *size = 0;
    if (path == NULL || path[0] == '\0')
        return hli_error(HL_EINVAL, "path is NULL or empty");
    /* O_NONBLOCK: opening a FIFO without a writer must not block before the
     * regular-file check below refuses it; it does not affect regular files. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return hli_error(HL_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        hl_status s = hli_error(HL_EIO, "cannot stat '%s': %s", path, strerror(errno));
        close(fd);
        return s;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hli_error(HL_EIO, "'%s' is not a regular file", path);
    }
    if (st.st_size < 0) {
        close(fd);
        return hli_error(HL_EIO, "'%s' has a negative size", path);
    }
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        hl_status s = hli_error(HL_EIO, "cannot open '%s': %s", path, strerror(errno));
        close(fd);
        return s;
    }
    *fp = f;
    *size = (uint64_t)st.st_size;
    return HL_OK;
}

hl_status hli_file_read_exact(FILE *fp, const char *path, void *buf, size_t len, uint64_t offset)
{
    size_t got = len ? fread(buf, 1, len, fp) : 0;
    if (got == len)
        return HL_OK;
    if (ferror(fp))
        return hli_error(HL_EIO, "'%s': read error at byte offset %llu: %s", path,
                         (unsigned long long)(offset + got), strerror(errno));
    return hli_error(HL_EFORMAT, "'%s': file truncated at byte offset %llu (expected %zu more bytes)", path,
                     (unsigned long long)(offset + got), len - got);
}

hl_status hli_atomic_write_le(hli_atomic_file *af, const void *data, size_t count, size_t width)
{
    size_t bytes;
    if (!hli_mul_size(count, width, &bytes))
        return hli_error(HL_ERANGE, "write of %zu x %zu bytes overflows", count, width);
    if (hli_host_little_endian())
        return hli_atomic_write(af, data, bytes);
    enum { CHUNK = 8192 };
    unsigned char buf[CHUNK];
    const unsigned char *p = data;
    size_t per = CHUNK / width;
    while (count > 0) {
        size_t m = count < per ? count : per;
        memcpy(buf, p, m * width);
        hli_bswap_array(buf, m, width);
        hl_status s = hli_atomic_write(af, buf, m * width);
        if (s != HL_OK)
            return s;
        p += m * width;
        count -= m;
    }
    return HL_OK;
}
