/*
 * libhilander - reading and writing the formats users already have.
 *
 * NumPy .npy (format versions 1.0, 2.0 and 3.0; C order; little-endian):
 *   float32 matrices, int32 or int64 label vectors.  Anything else (float64,
 *   Fortran order, big-endian, object arrays, 3-D shapes) is HL_EFORMAT with
 *   a message that says what was found.
 * learn-to-cluster pairs: a raw little-endian float32 `.bin` with a known
 *   dimension, and a `.meta` text file with one integer label per line.
 *
 * Arrays returned by these functions are allocated by the library and must be
 * released with hl_free().  Writers are atomic: they write a temporary file in
 * the destination directory, fsync it, rename it over the target and fsync
 * the directory, so a failure never leaves a half-written file behind.  A new
 * file gets mode 0666 less the process umask (as with fopen); a regular file
 * that is replaced keeps its mode; a symbolic link at the target is replaced
 * by a regular file and the file it pointed to is left unchanged.  These
 * rules apply to every file the library writes (hl_model_save too).
 * On failure, readers set their output pointer to NULL and their counts to 0.
 *
 * Thread safety: every function may run concurrently on any threads (on
 * different files; two writers of the same path race like any two renames).
 */
#ifndef HILANDER_IO_H
#define HILANDER_IO_H

#include "common.h"
#include "error.h"

HL_EXTERN_C_BEGIN

/**
 * Read a 2-D float32 .npy file (a 1-D file is read as one column).
 * @param path  file to read
 * @param data  receives a rows*cols array (row-major); free with hl_free()
 * @param rows  receives the number of rows
 * @param cols  receives the number of columns
 * @return HL_OK, HL_EIO, HL_EFORMAT (wrong dtype/order/shape, truncated), HL_ERANGE, HL_ENOMEM
 */
HL_API hl_status hl_npy_read_f32(const char *path, float **data, int64_t *rows, int64_t *cols);

/**
 * Read a 1-D int32 or int64 .npy label vector (also accepts shape (n, 1)).
 * @param labels receives n labels widened to int64; free with hl_free()
 * @return HL_OK, HL_EIO, HL_EFORMAT, HL_ERANGE, HL_ENOMEM
 */
HL_API hl_status hl_npy_read_labels(const char *path, int64_t **labels, int64_t *n);

/**
 * Write a float32 matrix as .npy ('<f4', C order), atomically.
 * @return HL_OK, HL_EINVAL, HL_EIO
 */
HL_API hl_status hl_npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols);

/**
 * Write an int64 array as .npy ('<i8', C order), atomically.
 * @param cols 0 writes a 1-D vector of @p rows values; otherwise a (rows, cols) matrix
 * @return HL_OK, HL_EINVAL, HL_EIO
 */
HL_API hl_status hl_npy_write_i64(const char *path, const int64_t *data, int64_t rows, int64_t cols);

/**
 * Read a learn-to-cluster .bin file: raw little-endian float32, @p dim values per row.
 * The file size must be a multiple of 4*dim bytes.
 * @return HL_OK, HL_EINVAL, HL_EIO, HL_EFORMAT, HL_ENOMEM
 */
HL_API hl_status hl_lc_read_bin(const char *path, int64_t dim, float **data, int64_t *rows);

/**
 * Read a learn-to-cluster .meta file: one integer label per line.
 * @return HL_OK, HL_EIO, HL_EFORMAT (names the line at fault), HL_ENOMEM
 */
HL_API hl_status hl_lc_read_meta(const char *path, int64_t **labels, int64_t *n);

/** Write a learn-to-cluster .bin file atomically. @return HL_OK, HL_EINVAL, HL_EIO */
HL_API hl_status hl_lc_write_bin(const char *path, const float *data, int64_t rows, int64_t dim);

/** Write a learn-to-cluster .meta file atomically. @return HL_OK, HL_EINVAL, HL_EIO */
HL_API hl_status hl_lc_write_meta(const char *path, const int64_t *labels, int64_t n);

HL_EXTERN_C_END

#endif
