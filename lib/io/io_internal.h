/*
 * Internal helpers shared by the file readers and writers (io_npy.c, io_lc.c).
 */
#ifndef HILANDER_IO_INTERNAL_H
#define HILANDER_IO_INTERNAL_H

#include "common/internal.h"

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
