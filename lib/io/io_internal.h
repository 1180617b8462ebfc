/* Internal helpers shared by the file readers and writers of the library
 * (npy.c, learn_to_cluster.c, and the model file in model/model_file.c). */
#ifndef HILANDER_IO_INTERNAL_H
#define HILANDER_IO_INTERNAL_H

#include "common/internal.h"

/* ---- checksums (crc32.c) ------------------------------------------------- */

/* CRC-32 (IEEE 802.3, as zlib's crc32); start with crc = 0. */
uint32_t hli_crc32(uint32_t crc, const void *data, size_t len);

/* ---- atomic file writing (atomic_file.c) --------------------------------- */

/* A file being written to a temporary name beside its destination. */
typedef struct hli_atomic_file {
    FILE *fp;
    char *tmp_path;
    char *final_path;
    bool failed;
} hli_atomic_file;

/* Open "<path>.tmp.XXXXXX" for writing.  HL_EIO/HL_ENOMEM on failure. */
hl_status hli_atomic_open(hli_atomic_file *af, const char *path);
/* Write bytes; remembers a failure so that commit refuses. */
hl_status hli_atomic_write(hli_atomic_file *af, const void *data, size_t len);
/* Flush, fsync, close and rename over the destination.  On any failure the
 * temporary file is removed and the destination is untouched. */
hl_status hli_atomic_commit(hli_atomic_file *af);
/* Abandon: close and remove the temporary file. */
void hli_atomic_abort(hli_atomic_file *af);

/* True when the host stores integers little-endian (a constant the compiler folds). */
bool hli_host_little_endian(void);

/* Reverse the bytes of each of @p count elements of @p width (2, 4 or 8) bytes. */
void hli_bswap_array(void *data, size_t count, size_t width);

/* Open @p path for reading and return its size in bytes (a regular file only).
 * HL_EINVAL for a NULL/empty path, HL_EIO naming the path otherwise. */
hl_status hli_file_open_read(const char *path, FILE **fp, uint64_t *size);

/* Read exactly @p len bytes at the current position; HL_EFORMAT naming the
 * byte @p offset if the file ends early, HL_EIO on a read error. */
hl_status hli_file_read_exact(FILE *fp, const char *path, void *buf, size_t len, uint64_t offset);

/* Write @p count elements of @p width bytes as little-endian through @p af
 * (byte-swapping through a bounded buffer on big-endian hosts). */
hl_status hli_atomic_write_le(hli_atomic_file *af, const void *data, size_t count, size_t width);

#endif
