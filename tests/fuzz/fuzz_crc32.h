/* CRC-32 (IEEE 802.3, the library's file checksum) for the fuzz targets
 * that append a valid checksum to the input (HL_FUZZ_FIX_CRC), so that
 * mutations reach the parsing behind the file's checksum. */
#ifndef HILANDER_FUZZ_CRC32_H
#define HILANDER_FUZZ_CRC32_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t fz_crc32(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    if (table[1] == 0)
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* @p buf holds @p size input bytes and room for 4 more: append their CRC-32
 * (little-endian, as the library's files end); @return the new size. */
static inline size_t fz_append_crc32(uint8_t *buf, size_t size)
{
    uint32_t c = fz_crc32(buf, size);
    for (int i = 0; i < 4; i++)
        buf[size + (size_t)i] = (uint8_t)(c >> (8 * i));
    return size + 4;
}

#endif
