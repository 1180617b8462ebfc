/*
 * NumPy .npy files (format versions 1.0, 2.0, 3.0): float32 matrices and
 * int32/int64 label vectors, C order, little-endian.
 *
 * Reading is strict and bounded: the header dict is parsed by a small
 * recursive-descent parser (keys in any order, optional spaces and trailing
 * comma, Python 2 "L" suffixes), the data size implied by the shape is checked
 * with overflow-safe arithmetic against the real file size before anything is
 * allocated, so a truncated file or a lying header is an error, never an
 * out-of-bounds read or a huge allocation.
 */
#include "io/io_internal.h"

#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER_LEN (1u << 20)
#define NPY_MAX_DIMS 8
#define NPY_DESCR_MAX 32

typedef struct npy_header {
    char descr[NPY_DESCR_MAX + 1];
    int fortran_order;
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    uint64_t data_offset;   /* first byte of the array data */
    uint64_t file_size;
} npy_header;

typedef struct npy_parser {
    const char *text;
    size_t len;
    size_t pos;
    uint64_t base;          /* file offset of text[0] */
    const char *path;
} npy_parser;

/* ---- header parsing ------------------------------------------------------ */

static unsigned long long parser_offset(const npy_parser *p) { return (unsigned long long)(p->base + p->pos); }

static hl_status parse_fail(const npy_parser *p, const char *what)
{
    if (p->pos >= p->len)
        return hli_error(HL_EFORMAT, "'%s': .npy header ends at byte offset %llu: expected %s", p->path,
                         parser_offset(p), what);
    char c = p->text[p->pos];
    unsigned char uc = (unsigned char)c;
    if (uc >= 0x20 && uc < 0x7f)
        return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: expected %s, found '%c'", p->path,
                         parser_offset(p), what, c);
    return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: expected %s, found byte 0x%02x", p->path,
                     parser_offset(p), what, uc);
}

static void skip_ws(npy_parser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static bool peek_is(const npy_parser *p, char c) { return p->pos < p->len && p->text[p->pos] == c; }

static hl_status expect_char(npy_parser *p, char c, const char *what)
{
    if (!peek_is(p, c))
        return parse_fail(p, what);
    p->pos++;
    return HL_OK;
}

/* Copy @p src into @p dst (size @p cap) keeping only printable ASCII, for messages. */
static void printable_copy(char *dst, size_t cap, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[o] = '\0';
}

/* A quoted Python string without escapes, at most @p cap-1 bytes. */
static hl_status parse_string(npy_parser *p, char *out, size_t cap, const char *what)
{
    if (!peek_is(p, '\'') && !peek_is(p, '"'))
        return parse_fail(p, what);
    char quote = p->text[p->pos];
    size_t start = ++p->pos;
    while (p->pos < p->len && p->text[p->pos] != quote) {
        if (p->text[p->pos] == '\\')
            return parse_fail(p, "a string without escape sequences");
        p->pos++;
    }
    if (p->pos >= p->len)
        return parse_fail(p, "the closing quote of a string");
    size_t n = p->pos - start;
    p->pos++;
    if (n + 1 > cap) {
        char shown[40];
        printable_copy(shown, sizeof shown, p->text + start, n);
        return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: string '%s%s' is too long for %s",
                         p->path, (unsigned long long)(p->base + start), shown, n >= sizeof shown ? "..." : "",
                         what);
    }
    memcpy(out, p->text + start, n);
    out[n] = '\0';
    return HL_OK;
}

static hl_status parse_bool(npy_parser *p, int *out)
{
    if (p->len - p->pos >= 4 && memcmp(p->text + p->pos, "True", 4) == 0) {
        p->pos += 4;
        *out = 1;
    } else if (p->len - p->pos >= 5 && memcmp(p->text + p->pos, "False", 5) == 0) {
        p->pos += 5;
        *out = 0;
    } else {
        return parse_fail(p, "True or False for 'fortran_order'");
    }
    return HL_OK;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static hl_status parse_dim(npy_parser *p, int64_t *out)
{
    if (peek_is(p, '-'))
        return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: negative dimension in 'shape'", p->path,
                         parser_offset(p));
    if (p->pos >= p->len || !is_digit(p->text[p->pos]))
        return parse_fail(p, "a dimension (non-negative integer) in 'shape'");
    size_t start = p->pos;
    uint64_t v = 0;
    while (p->pos < p->len && is_digit(p->text[p->pos])) {
        uint64_t digit = (uint64_t)(p->text[p->pos] - '0');
        if (v > ((uint64_t)INT64_MAX - digit) / 10)
            return hli_error(HL_ERANGE, "'%s': .npy header byte offset %llu: dimension in 'shape' exceeds 2^63-1",
                             p->path, (unsigned long long)(p->base + start));
        v = v * 10 + digit;
        p->pos++;
    }
    if (peek_is(p, 'L') || peek_is(p, 'l')) /* Python 2 long literal */
        p->pos++;
    *out = (int64_t)v;
    return HL_OK;
}

static hl_status parse_shape(npy_parser *p, npy_header *h)
{
    hl_status s = expect_char(p, '(', "'(' starting the 'shape' tuple");
    if (s != HL_OK)
        return s;
    h->ndim = 0;
    skip_ws(p);
    if (peek_is(p, ')')) {
        p->pos++;
        return HL_OK;
    }
    for (;;) {
        if (h->ndim == NPY_MAX_DIMS)
            return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: 'shape' has more than %d dimensions",
                             p->path, parser_offset(p), NPY_MAX_DIMS);
        s = parse_dim(p, &h->shape[h->ndim]);
        if (s != HL_OK)
            return s;
        h->ndim++;
        skip_ws(p);
        if (peek_is(p, ')')) {
            if (h->ndim == 1)   /* "(6600)" is an int in Python, not a tuple */
                return parse_fail(p, "',' after the only dimension of a 1-D 'shape' tuple");
            p->pos++;
            return HL_OK;
        }
        s = expect_char(p, ',', "',' or ')' in the 'shape' tuple");
        if (s != HL_OK)
            return s;
        skip_ws(p);
        if (peek_is(p, ')')) {
            p->pos++;
            return HL_OK;
        }
    }
}

static hl_status parse_dict(npy_parser *p, npy_header *h)
{
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws(p);
    hl_status s = expect_char(p, '{', "'{' starting the header dict");
    if (s != HL_OK)
        return s;
    for (;;) {
        skip_ws(p);
        if (peek_is(p, '}')) {
            p->pos++;
            break;
        }
        size_t key_at = p->pos;
        char key[16];
        s = parse_string(p, key, sizeof key, "a quoted key ('descr', 'fortran_order' or 'shape')");
        if (s != HL_OK)
            return s;
        bool *seen;
        if (strcmp(key, "descr") == 0)
            seen = &have_descr;
        else if (strcmp(key, "fortran_order") == 0)
            seen = &have_order;
        else if (strcmp(key, "shape") == 0)
            seen = &have_shape;
        else {
            char shown[20];
            printable_copy(shown, sizeof shown, key, strlen(key));
            return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: unknown key '%s'", p->path,
                             (unsigned long long)(p->base + key_at), shown);
        }
        if (*seen)
            return hli_error(HL_EFORMAT, "'%s': .npy header byte offset %llu: duplicate key '%s'", p->path,
                             (unsigned long long)(p->base + key_at), key);
        *seen = true;
        skip_ws(p);
        s = expect_char(p, ':', "':' after a key");
        if (s != HL_OK)
            return s;
        skip_ws(p);
        if (seen == &have_descr) {
            if (peek_is(p, '['))
                return hli_error(HL_EFORMAT,
                                 "'%s': .npy header byte offset %llu: structured dtype (a list 'descr') is not "
                                 "supported",
                                 p->path, parser_offset(p));
            s = parse_string(p, h->descr, sizeof h->descr, "the 'descr' dtype string");
        } else if (seen == &have_order) {
            s = parse_bool(p, &h->fortran_order);
        } else {
            s = parse_shape(p, h);
        }
        if (s != HL_OK)
            return s;
        skip_ws(p);
        if (peek_is(p, ','))
            p->pos++;
        else if (!peek_is(p, '}'))
            return parse_fail(p, "',' or '}' after a value");
    }
    skip_ws(p);
    if (p->pos != p->len)
        return parse_fail(p, "only spaces and a newline after the header dict");
    if (!have_descr || !have_order || !have_shape)
        return hli_error(HL_EFORMAT, "'%s': .npy header has no '%s' key", p->path,
                         !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    return HL_OK;
}

static uint32_t load_le(const unsigned char *b, int nbytes)
{
    uint32_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

/* Open @p path, read and parse its preamble and header.  On success the file
 * is positioned at the first data byte. */
static hl_status npy_open(const char *path, FILE **fpo, npy_header *h)
{
    memset(h, 0, sizeof *h);
    FILE *fp;
    uint64_t size;
    hl_status s = hli_file_open_read(path, &fp, &size);
    if (s != HL_OK)
        return s;
    h->file_size = size;
    unsigned char pre[12];
    if (size < 10) {
        fclose(fp);
        return hli_error(HL_EFORMAT, "'%s': file of %llu bytes is too short to be a .npy file", path,
                         (unsigned long long)size);
    }
    s = hli_file_read_exact(fp, path, pre, 8, 0);
    if (s != HL_OK)
        goto fail;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        s = hli_error(HL_EFORMAT, "'%s': not a .npy file (no \\x93NUMPY magic at byte offset 0)", path);
        goto fail;
    }
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0) {
        s = hli_error(major > 3 ? HL_EVERSION : HL_EFORMAT,
                      "'%s': .npy format version %d.%d at byte offset 6 is not supported (1.0, 2.0, 3.0 are)", path,
                      major, minor);
        goto fail;
    }
    int len_bytes = major == 1 ? 2 : 4;
    s = hli_file_read_exact(fp, path, pre + 8, (size_t)len_bytes, 8);
    if (s != HL_OK)
        goto fail;
    uint32_t header_len = load_le(pre + 8, len_bytes);
    uint64_t header_start = 8 + (uint64_t)len_bytes;
    if (header_len > size - header_start) {
        s = hli_error(HL_EFORMAT,
                      "'%s': .npy header_len %lu at byte offset 8 extends beyond the end of the file (%llu bytes)",
                      path, (unsigned long)header_len, (unsigned long long)size);
        goto fail;
    }
    if (header_len > NPY_MAX_HEADER_LEN) {
        s = hli_error(HL_EFORMAT, "'%s': .npy header_len %lu at byte offset 8 is implausibly large", path,
                      (unsigned long)header_len);
        goto fail;
    }
    char *text = hli_alloc((size_t)header_len + 1, 1);
    if (text == NULL) {
        s = HL_ENOMEM;
        goto fail;
    }
    s = hli_file_read_exact(fp, path, text, header_len, header_start);
    if (s == HL_OK) {
        text[header_len] = '\0';
        npy_parser p = {text, header_len, 0, header_start, path};
        s = parse_dict(&p, h);
    }
    free(text);
    if (s != HL_OK)
        goto fail;
    h->data_offset = header_start + header_len;
    *fpo = fp;
    return HL_OK;
fail:
    fclose(fp);
    return s;
}

static void format_shape(const npy_header *h, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < h->ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, h->ndim == 1 ? ",)" : ")");
}

/* Check order and the data size against the file; returns the element count. */
static hl_status npy_check_data(const char *path, const npy_header *h, size_t itemsize, size_t *count)
{
    char shape[160];
    format_shape(h, shape, sizeof shape);
    if (h->fortran_order)
        return hli_error(HL_EFORMAT, "'%s': fortran_order True is not supported (shape %s); save a C-order array",
                         path, shape);
    size_t n = 1, bytes;
    for (int i = 0; i < h->ndim; i++) {
        if (h->shape[i] == 0)
            return hli_error(HL_EFORMAT, "'%s': .npy array of shape %s is empty", path, shape);
        if ((uint64_t)h->shape[i] > SIZE_MAX || !hli_mul_size(n, (size_t)h->shape[i], &n))
            return hli_error(HL_ERANGE, "'%s': .npy shape %s has too many elements", path, shape);
    }
    if (!hli_mul_size(n, itemsize, &bytes))
        return hli_error(HL_ERANGE, "'%s': .npy shape %s is too large (byte count overflows)", path, shape);
    uint64_t avail = h->file_size - h->data_offset;
    if ((uint64_t)bytes > avail)
        return hli_error(HL_EFORMAT,
                         "'%s': .npy shape %s needs %llu bytes of data but the file has %llu after the header "
                         "(byte offset %llu): truncated or lying header",
                         path, shape, (unsigned long long)bytes, (unsigned long long)avail,
                         (unsigned long long)h->data_offset);
    if ((uint64_t)bytes < avail)
        return hli_error(HL_EFORMAT, "'%s': %llu unexpected bytes after the data of shape %s (at byte offset %llu)",
                         path, (unsigned long long)(avail - bytes), shape,
                         (unsigned long long)(h->data_offset + bytes));
    *count = n;
    return HL_OK;
}

/* Classify a dtype string: returns the item size of an accepted
 * little-endian kind @p kind ('f' or 'i') with one of @p sizes, or 0. */
static size_t accepted_dtype(const char *descr, char kind, int size_a, int size_b)
{
    char order = descr[0];
    if (order != '<' && !(order == '=' && hli_host_little_endian()))
        return 0;
    if (descr[1] != kind || descr[2] == '\0' || descr[3] != '\0')
        return 0;
    int size = descr[2] - '0';
    return (size == size_a || size == size_b) ? (size_t)size : 0;
}

static hl_status dtype_error(const char *path, const char *descr, const char *expected)
{
    char shown[NPY_DESCR_MAX + 1];
    printable_copy(shown, sizeof shown, descr, strlen(descr));
    const char *why = descr[0] == '>' ? " (big-endian data is not supported)"
                      : descr[0] == '=' ? " (native byte order is only accepted on little-endian hosts)"
                                        : "";
    return hli_error(HL_EFORMAT, "'%s': .npy dtype '%s' is not supported%s; expected %s", path, shown, why,
                     expected);
}

static hl_status check_out_ptr(const void *p, const char *name)
{
    return p == NULL ? hli_error(HL_EINVAL, "%s is NULL", name) : HL_OK;
}

HL_API hl_status hl_npy_read_f32(const char *path, float **data, int64_t *rows, int64_t *cols)
{
    hl_status s;
    if ((s = check_out_ptr(data, "data")) != HL_OK || (s = check_out_ptr(rows, "rows")) != HL_OK ||
        (s = check_out_ptr(cols, "cols")) != HL_OK)
        return s;
    *data = NULL;
    *rows = *cols = 0;
    FILE *fp;
    npy_header h;
    s = npy_open(path, &fp, &h);
    if (s != HL_OK)
        return s;
    if (accepted_dtype(h.descr, 'f', 4, 4) != 4) {
        s = dtype_error(path, h.descr, "'<f4' (float32)");
        goto done;
    }
    if (h.ndim < 1 || h.ndim > 2) {
        char shape[160];
        format_shape(&h, shape, sizeof shape);
        s = hli_error(HL_EFORMAT, "'%s': .npy shape %s has %d dimensions; expected a 1-D or 2-D array", path, shape,
                      h.ndim);
        goto done;
    }
    size_t count;
    s = npy_check_data(path, &h, sizeof(float), &count);
    if (s != HL_OK)
        goto done;
    float *buf = hli_alloc(count, sizeof(float));
    if (buf == NULL) {
        s = hl_last_error_status();
        goto done;
    }
    s = hli_file_read_exact(fp, path, buf, count * sizeof(float), h.data_offset);
    if (s != HL_OK) {
        free(buf);
        goto done;
    }
    if (!hli_host_little_endian())
        hli_bswap_array(buf, count, sizeof(float));
    *data = buf;
    *rows = h.shape[0];
    *cols = h.ndim == 2 ? h.shape[1] : 1;
done:
    fclose(fp);
    return s;
}

HL_API hl_status hl_npy_read_labels(const char *path, int64_t **labels, int64_t *n)
{
    hl_status s;
    if ((s = check_out_ptr(labels, "labels")) != HL_OK || (s = check_out_ptr(n, "n")) != HL_OK)
        return s;
    *labels = NULL;
    *n = 0;
    FILE *fp;
    npy_header h;
    s = npy_open(path, &fp, &h);
    if (s != HL_OK)
        return s;
    size_t width = accepted_dtype(h.descr, 'i', 4, 8);
    if (width == 0) {
        s = dtype_error(path, h.descr, "'<i4' (int32) or '<i8' (int64)");
        goto done;
    }
    if (!(h.ndim == 1 || (h.ndim == 2 && h.shape[1] == 1))) {
        char shape[160];
        format_shape(&h, shape, sizeof shape);
        s = hli_error(HL_EFORMAT, "'%s': .npy shape %s is not a label vector; expected (n,) or (n, 1)", path, shape);
        goto done;
    }
    size_t count;
    s = npy_check_data(path, &h, width, &count);
    if (s != HL_OK)
        goto done;
    int64_t *out = hli_alloc(count, sizeof(int64_t));
    if (out == NULL) {
        s = hl_last_error_status();
        goto done;
    }
    /* Read through a bounded buffer, widening int32 and fixing byte order. */
    enum { CHUNK = 4096 };
    unsigned char buf[CHUNK * 8];
    bool swap = !hli_host_little_endian();
    uint64_t offset = h.data_offset;
    for (size_t i = 0; i < count;) {
        size_t m = count - i < CHUNK ? count - i : CHUNK;
        s = hli_file_read_exact(fp, path, buf, m * width, offset);
        if (s != HL_OK) {
            free(out);
            goto done;
        }
        if (swap)
            hli_bswap_array(buf, m, width);
        for (size_t j = 0; j < m; j++) {
            if (width == 4) {
                int32_t v;
                memcpy(&v, buf + 4 * j, 4);
                out[i + j] = v;
            } else {
                memcpy(&out[i + j], buf + 8 * j, 8);
            }
        }
        i += m;
        offset += m * width;
    }
    *labels = out;
    *n = h.shape[0];
done:
    fclose(fp);
    return s;
}

/* ---- writing ------------------------------------------------------------- */

static hl_status npy_write(const char *path, const void *data, const char *descr, size_t width, int64_t rows,
                           int64_t cols, int ndim)
{
    if (path == NULL || path[0] == '\0')
        return hli_error(HL_EINVAL, "path is NULL or empty");
    if (data == NULL)
        return hli_error(HL_EINVAL, "data is NULL");
    size_t bytes;
    hl_status s = hli_check_dims("data", rows, cols, width, &bytes);
    if (s != HL_OK)
        return s;
    char header[256];
    char *dict = header + 10;
    size_t cap = sizeof header - 10;
    int len;
    if (ndim == 1)
        len = snprintf(dict, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }", descr,
                       (long long)rows);
    else
        len = snprintf(dict, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }", descr,
                       (long long)rows, (long long)cols);
    if (len < 0 || (size_t)len + 64 >= cap)
        return hli_error(HL_EINTERNAL, "npy header does not fit its buffer");
    /* Preamble: magic, version 1.0, little-endian uint16 header_len.  The dict
     * is padded with spaces so that the data starts on a 64-byte boundary and
     * the header ends with '\n'. */
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    memset(dict + len, ' ', padded - total);
    header[padded - 1] = '\n';
    size_t header_len = padded - 10;
    memcpy(header, NPY_MAGIC, NPY_MAGIC_LEN);
    header[6] = 1;
    header[7] = 0;
    header[8] = (char)(header_len & 0xff);
    header[9] = (char)(header_len >> 8);
    hli_atomic_file af;
    s = hli_atomic_open(&af, path);
    if (s != HL_OK)
        return s;
    s = hli_atomic_write(&af, header, padded);
    if (s == HL_OK)
        s = hli_atomic_write_le(&af, data, bytes / width, width);
    if (s != HL_OK) {
        hli_atomic_abort(&af);
        return s;
    }
    return hli_atomic_commit(&af);
}

HL_API hl_status hl_npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols)
{
    return npy_write(path, data, "<f4", sizeof(float), rows, cols, 2);
}

HL_API hl_status hl_npy_write_i64(const char *path, const int64_t *data, int64_t rows, int64_t cols)
{
    if (cols < 0)
        return hli_error(HL_EINVAL, "cols = %lld must be >= 0 (0 writes a 1-D vector)", (long long)cols);
    return npy_write(path, data, "<i8", sizeof(int64_t), rows, cols == 0 ? 1 : cols, cols == 0 ? 1 : 2);
}
