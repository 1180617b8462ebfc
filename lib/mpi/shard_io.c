/* .npy shards over MPI-IO: each rank reads its contiguous row range of one
 * float32 N x D file, and the ranks write one int64 N file of labels, each
 * its own range.  Rank 0 reads and checks the header and broadcasts it (or
 * its error), so every rank fails the same way. */
#include "mpi/mpi_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define HLM_NPY_HEAD 4096
#define HLM_IO_CHUNK ((int64_t)1 << 30)

typedef struct npy_meta {
    int64_t rows, cols, data_offset;
} npy_meta;

/* Parse a v1/v2/v3 header of a little-endian float32, C-order, 2-D (or 1-D) array. */
static hl_status parse_header(const char *path, const unsigned char *b, int64_t got, npy_meta *m)
{
    if (got < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return hli_error(HL_EFORMAT, "'%s': not a .npy file", path);
    const int major = b[6];
    if (major < 1 || major > 3)
        return hli_error(HL_EFORMAT, "'%s': .npy version %d is not supported", path, major);
    const int64_t lb = major == 1 ? 2 : 4;
    int64_t hl = b[8] | (int64_t)b[9] << 8;
    if (lb == 4)
        hl |= (int64_t)b[10] << 16 | (int64_t)b[11] << 24;
    if (8 + lb + hl > got)
        return hli_error(HL_EFORMAT, "'%s': .npy header longer than %d bytes", path, HLM_NPY_HEAD);
    char text[HLM_NPY_HEAD + 1];
    memcpy(text, b + 8 + lb, (size_t)hl);
    text[hl] = '\0';
    const char *p = strstr(text, "'descr'");
    if (p == NULL || strstr(p, "'<f4'") == NULL)
        return hli_error(HL_EFORMAT, "'%s': the rows must be little-endian float32 ('<f4')", path);
    p = strstr(text, "'fortran_order'");
    if (p == NULL || strncmp(p + strlen("'fortran_order'"), ": False", 7) != 0)
        return hli_error(HL_EFORMAT, "'%s': a Fortran-order array is not supported", path);
    p = strstr(text, "'shape'");
    long long r = 0, c = 1;
    if (p == NULL || (sscanf(p, "'shape': (%lld, %lld)", &r, &c) != 2 && sscanf(p, "'shape': (%lld,)", &r) != 1) ||
        r < 0 || c < 1)
        return hli_error(HL_EFORMAT, "'%s': the shape must be (rows, columns)", path);
    m->rows = r;
    m->cols = c;
    m->data_offset = 8 + lb + hl;
    return HL_OK;
}

static hl_status read_range(MPI_File fh, int64_t offset, unsigned char *dst, int64_t bytes, const char *path)
{
    for (int64_t done = 0; done < bytes;) {
        const int64_t now = bytes - done < HLM_IO_CHUNK ? bytes - done : HLM_IO_CHUNK;
        MPI_Status ms;
        int got = 0;
        if (MPI_File_read_at(fh, (MPI_Offset)(offset + done), dst + done, (int)now, MPI_BYTE, &ms) != MPI_SUCCESS ||
            MPI_Get_count(&ms, MPI_BYTE, &got) != MPI_SUCCESS || got != (int)now)
            return hli_error(HL_EIO, "'%s': short read at byte %lld", path, (long long)(offset + done));
        done += now;
    }
    return HL_OK;
}

static hl_status npy_read_rows(hlm_ctx *ctx, const char *path, float **x, int64_t *n_local, int64_t *d,
                               int64_t *row0)
{
    hl_status st = HL_OK;
    MPI_File fh = MPI_FILE_NULL;
    if (path == NULL || x == NULL || n_local == NULL || d == NULL)
        st = hli_error(HL_EINVAL, "mpi npy read: NULL argument");
    /* MPI_File_open is collective: every rank must reach it */
    if ((st = hlm_agree(ctx, st)) != HL_OK)
        return st;
    if (MPI_File_open(ctx->comm, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh) != MPI_SUCCESS)
        st = hli_error(HL_EIO, "'%s': cannot open for reading", path);
    if ((st = hlm_agree(ctx, st)) != HL_OK) {
        if (fh != MPI_FILE_NULL)
            MPI_File_close(&fh);
        return st;
    }
    npy_meta m = {0, 0, 0};
    if (ctx->rank == 0) {
        unsigned char head[HLM_NPY_HEAD];
        MPI_Offset size = 0;
        MPI_File_get_size(fh, &size);
        const int64_t want = size < HLM_NPY_HEAD ? (int64_t)size : HLM_NPY_HEAD;
        st = read_range(fh, 0, head, want, path);
        if (st == HL_OK)
            st = parse_header(path, head, want, &m);
        if (st == HL_OK && (m.rows > (INT64_MAX - m.data_offset) / 4 / m.cols ||
                            m.data_offset + m.rows * m.cols * 4 > (int64_t)size))
            st = hli_error(HL_EFORMAT, "'%s': %lld x %lld floats do not fit the file's %lld bytes", path,
                           (long long)m.rows, (long long)m.cols, (long long)size);
    }
    if ((st = hlm_agree(ctx, st)) == HL_OK) {
        MPI_Bcast(&m, 3, MPI_INT64_T, 0, ctx->comm);
        const int64_t lo = m.rows * ctx->rank / ctx->P, hi = m.rows * (ctx->rank + 1) / ctx->P;
        *n_local = hi - lo;
        *d = m.cols;
        if (row0 != NULL)
            *row0 = lo;
        *x = hli_alloc((size_t)(hi > lo ? hi - lo : 1), (size_t)m.cols * sizeof(float));
        if (*x == NULL)
            st = hl_last_error_status();
        else
            st = read_range(fh, m.data_offset + lo * m.cols * 4, (unsigned char *)*x, (hi - lo) * m.cols * 4, path);
        if ((st = hlm_agree(ctx, st)) != HL_OK) {
            free(*x);
            *x = NULL;
        }
    }
    MPI_File_close(&fh);
    return st;
}

static hl_status npy_write_i64(hlm_ctx *ctx, const char *path, const int64_t *v, int64_t n_local)
{
    hl_status st = HL_OK;
    if (path == NULL || (v == NULL && n_local > 0) || n_local < 0)
        st = hli_error(HL_EINVAL, "mpi npy write: NULL argument or n_local < 0");
    int64_t dummy[2] = {0, 0}, *off = hli_alloc((size_t)ctx->P + 1, sizeof *off);
    if (off == NULL && st == HL_OK)
        st = hl_last_error_status();
    if ((st = hlm_offsets(ctx, st, n_local, off != NULL ? off : dummy)) != HL_OK) {
        free(off);
        return st;
    }
    MPI_File fh = MPI_FILE_NULL;
    if (MPI_File_open(ctx->comm, path, MPI_MODE_WRONLY | MPI_MODE_CREATE, MPI_INFO_NULL, &fh) != MPI_SUCCESS)
        st = hli_error(HL_EIO, "'%s': cannot open for writing", path);
    if ((st = hlm_agree(ctx, st)) != HL_OK) {
        if (fh != MPI_FILE_NULL)
            MPI_File_close(&fh);
        free(off);
        return st;
    }
    /* a v1.0 header padded to 128 bytes */
    char head[128];
    memset(head, ' ', sizeof head);
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = 118;
    head[9] = 0;
    char dict[120];
    const int dl = snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%lld,), }",
                            (long long)off[ctx->P]);
    memcpy(head + 10, dict, (size_t)dl);
    head[127] = '\n';
    MPI_File_set_size(fh, (MPI_Offset)(128 + off[ctx->P] * 8));
    if (ctx->rank == 0 && MPI_File_write_at(fh, 0, head, 128, MPI_BYTE, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        st = hli_error(HL_EIO, "'%s': cannot write the header", path);
    const unsigned char *src = (const unsigned char *)v;
    const int64_t bytes = n_local * 8, at = 128 + off[ctx->rank] * 8;
    for (int64_t done = 0; st == HL_OK && done < bytes;) {
        const int64_t now = bytes - done < HLM_IO_CHUNK ? bytes - done : HLM_IO_CHUNK;
        if (MPI_File_write_at(fh, (MPI_Offset)(at + done), src + done, (int)now, MPI_BYTE, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS)
            st = hli_error(HL_EIO, "'%s': cannot write at byte %lld", path, (long long)(at + done));
        done += now;
    }
    MPI_File_close(&fh);
    free(off);
    return hlm_agree(ctx, st);
}

static void ctx_init(hlm_ctx *ctx, MPI_Comm comm)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->comm = comm;
    ctx->phase = HL_MPI_PHASE_OTHER;
    MPI_Comm_rank(comm, &ctx->rank);
    MPI_Comm_size(comm, &ctx->P);
}

hl_status hl_mpi_npy_read_rows(MPI_Comm comm, const char *path, float **x_local, int64_t *n_local, int64_t *d,
                               int64_t *row_offset)
{
    hlm_ctx ctx;
    ctx_init(&ctx, comm);
    return npy_read_rows(&ctx, path, x_local, n_local, d, row_offset);
}

hl_status hl_mpi_npy_write_i64(MPI_Comm comm, const char *path, const int64_t *values_local, int64_t n_local)
{
    hlm_ctx ctx;
    ctx_init(&ctx, comm);
    return npy_write_i64(&ctx, path, values_local, n_local);
}
