/*
 * learn-to-cluster files: a raw little-endian float32 `.bin` (rows of a known
 * dimension) and a `.meta` text file with one integer label per line.
 * Sizes are checked against the real file size before anything is allocated.
 */
#include "io/io_internal.h"

#include <stdlib.h>
#include <string.h>

HL_API hl_status hl_lc_read_bin(const char *path, int64_t dim, float **data, int64_t *rows)
{
    if (data == NULL)
        return hli_error(HL_EINVAL, "data is NULL");
    if (rows == NULL)
        return hli_error(HL_EINVAL, "rows is NULL");
    *data = NULL;
    *rows = 0;
    if (dim < 1 || dim > INT32_MAX)
        return hli_error(HL_EINVAL, "dim = %lld must be in [1, 2^31-1]", (long long)dim);
    FILE *fp;
    uint64_t size;
    hl_status s = hli_file_open_read(path, &fp, &size);
    if (s != HL_OK)
        return s;
    uint64_t row_bytes = 4 * (uint64_t)dim;
    if (size == 0 || size % row_bytes != 0) {
        fclose(fp);
        return hli_error(HL_EFORMAT, "'%s': size %llu bytes is not a positive multiple of 4*dim = %llu bytes", path,
                         (unsigned long long)size, (unsigned long long)row_bytes);
    }
    if (size > SIZE_MAX) {
        fclose(fp);
        return hli_error(HL_ERANGE, "'%s': size %llu bytes does not fit in memory", path, (unsigned long long)size);
    }
    float *buf = hli_alloc((size_t)size / 4, sizeof(float));
    if (buf == NULL) {
        fclose(fp);
        return hl_last_error_status();
    }
    s = hli_file_read_exact(fp, path, buf, (size_t)size, 0);
    fclose(fp);
    if (s != HL_OK) {
        free(buf);
        return s;
    }
    if (!hli_host_little_endian())
        hli_bswap_array(buf, (size_t)size / 4, 4);
    *data = buf;
    *rows = (int64_t)(size / row_bytes);
    return HL_OK;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Parse one line [s, e) as a decimal int64 with optional sign and blanks. */
static bool parse_line(const char *s, const char *e, int64_t *out)
{
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    bool neg = false;
    if (s < e && (*s == '+' || *s == '-')) {
        neg = *s == '-';
        s++;
    }
    if (s == e)
        return false;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    /* Two's complement: -(2^63) maps to INT64_MIN without signed overflow. */
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool line_is_blank(const char *s, const char *e)
{
    for (; s < e; s++)
        if (!is_blank(*s))
            return false;
    return true;
}

HL_API hl_status hl_lc_read_meta(const char *path, int64_t **labels, int64_t *n)
{
    if (labels == NULL)
        return hli_error(HL_EINVAL, "labels is NULL");
    if (n == NULL)
        return hli_error(HL_EINVAL, "n is NULL");
    *labels = NULL;
    *n = 0;
    FILE *fp;
    uint64_t size;
    hl_status s = hli_file_open_read(path, &fp, &size);
    if (s != HL_OK)
        return s;
    if (size > SIZE_MAX - 1) {
        fclose(fp);
        return hli_error(HL_ERANGE, "'%s': size %llu bytes does not fit in memory", path, (unsigned long long)size);
    }
    char *text = hli_alloc((size_t)size + 1, 1);
    if (text == NULL) {
        fclose(fp);
        return hl_last_error_status();
    }
    s = hli_file_read_exact(fp, path, text, (size_t)size, 0);
    fclose(fp);
    if (s != HL_OK) {
        free(text);
        return s;
    }
    const char *end = text + size;
    /* Drop trailing blank lines; every remaining line must hold one integer. */
    const char *last = end;
    while (last > text && (is_blank(last[-1]) || last[-1] == '\n'))
        last--;
    size_t lines = 0;
    if (last > text) {
        lines = 1;
        for (const char *c = text; c < last; c++)
            lines += *c == '\n';
    }
    if (lines == 0) {
        free(text);
        return hli_error(HL_EFORMAT, "'%s': no labels (the file is empty or blank)", path);
    }
    int64_t *out = hli_alloc(lines, sizeof(int64_t));
    if (out == NULL) {
        free(text);
        return hl_last_error_status();
    }
    const char *c = text;
    for (size_t i = 0; i < lines; i++) {
        const char *nl = memchr(c, '\n', (size_t)(last - c));
        const char *e = nl ? nl : last;
        if (!parse_line(c, e, &out[i])) {
            char shown[32];
            size_t len = (size_t)(e - c), o = 0;
            for (size_t j = 0; j < len && o + 1 < sizeof shown; j++) {
                unsigned char ch = (unsigned char)c[j];
                shown[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
            }
            shown[o] = '\0';
            s = hli_error(HL_EFORMAT, "'%s': line %zu (byte offset %zu) is not an integer label: '%s%s'%s", path,
                          i + 1, (size_t)(c - text), shown, len >= sizeof shown ? "..." : "",
                          line_is_blank(c, e) ? " (blank line)" : "");
            free(out);
            free(text);
            return s;
        }
        c = e + 1;
    }
    free(text);
    *labels = out;
    *n = (int64_t)lines;
    return HL_OK;
}

HL_API hl_status hl_lc_write_bin(const char *path, const float *data, int64_t rows, int64_t dim)
{
    if (path == NULL || path[0] == '\0')
        return hli_error(HL_EINVAL, "path is NULL or empty");
    if (data == NULL)
        return hli_error(HL_EINVAL, "data is NULL");
    size_t bytes;
    hl_status s = hli_check_dims("data", rows, dim, sizeof(float), &bytes);
    if (s != HL_OK)
        return s;
    hli_atomic_file af;
    s = hli_atomic_open(&af, path);
    if (s != HL_OK)
        return s;
    s = hli_atomic_write_le(&af, data, bytes / sizeof(float), sizeof(float));
    if (s != HL_OK) {
        hli_atomic_abort(&af);
        return s;
    }
    return hli_atomic_commit(&af);
}

HL_API hl_status hl_lc_write_meta(const char *path, const int64_t *labels, int64_t n)
{
    if (path == NULL || path[0] == '\0')
        return hli_error(HL_EINVAL, "path is NULL or empty");
    if (labels == NULL)
        return hli_error(HL_EINVAL, "labels is NULL");
    if (n < 1)
        return hli_error(HL_EINVAL, "n = %lld must be >= 1", (long long)n);
    hli_atomic_file af;
    hl_status s = hli_atomic_open(&af, path);
    if (s != HL_OK)
        return s;
    char buf[8192];
    size_t used = 0;
    for (int64_t i = 0; i < n && s == HL_OK; i++) {
        if (used + 24 > sizeof buf) {
            s = hli_atomic_write(&af, buf, used);
            used = 0;
        }
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%lld\n", (long long)labels[i]);
    }
    if (s == HL_OK)
        s = hli_atomic_write(&af, buf, used);
    if (s != HL_OK) {
        hli_atomic_abort(&af);
        return s;
    }
    return hli_atomic_commit(&af);
}
