/* Model files (docs/MODEL_FORMAT.md): a little-endian binary with magic,
 * format version, configuration, clustering defaults, named float32 tensors
 * and a CRC-32 trailer.  Written atomically; read with every offset checked
 * against the real file size before use, so a truncated, corrupted or lying
 * file fails cleanly and never causes an absurd allocation. */
#include "io_internal.h"
#include "model_internal.h"
#include "whiten.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLI_MODEL_MAGIC "HLANDER\x1a"
#define HLI_MODEL_VERSION 5u
#define HLI_MODEL_HEADER 64 /* magic 8, version 4, config 48, num_tensors 4 */
/* Version 2 appends u32 rel_rank after the version-1 header.  A model with
 * rel_rank = 0 is written as version 1 (byte for byte what version-1
 * libraries write and read); version-1 files load with rel_rank = 0. */
#define HLI_MODEL_HEADER_V2 (HLI_MODEL_HEADER + 4)
/* Version 3 appends u32 cluster_levels (1..HL_MAX_LEVELS) after rel_rank,
 * which may then be 0.  Written only when a level limit is stored, so models
 * without one keep their version-1/2 bytes. */
#define HLI_MODEL_HEADER_V3 (HLI_MODEL_HEADER + 8)
/* Version 4 appends f32 cluster_merge (finite, > 0) after cluster_levels,
 * which may then be 0.  Written only when a merge threshold is stored. */
#define HLI_MODEL_HEADER_V4 (HLI_MODEL_HEADER + 12)
/* Version 5 appends u32 whitening = 1 after cluster_merge, which may then be
 * 0, and feature_dim^2 f32 of the feature map (row-major) after the last
 * tensor.  Written only when the model has a feature map. */
#define HLI_MODEL_HEADER_V5 (HLI_MODEL_HEADER + 16)
static size_t header_bytes(uint32_t version)
{
    return version >= 5   ? HLI_MODEL_HEADER_V5
           : version >= 4 ? HLI_MODEL_HEADER_V4
           : version >= 3 ? HLI_MODEL_HEADER_V3
           : version >= 2 ? HLI_MODEL_HEADER_V2
                          : HLI_MODEL_HEADER;
}

/* ---- little-endian buffer writer ------------------------------------------ */
typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
} wbuf;

static void put_bytes(wbuf *b, const void *src, size_t n)
{
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void put_u32(wbuf *b, uint32_t v)
{
    unsigned char t[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put_bytes(b, t, 4);
}
static void put_u64(wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}
static void put_f32(wbuf *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char *p) { return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }
static float get_f32(const unsigned char *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static size_t tensor_desc_bytes(const hli_tensor *t) { return 4 + strlen(t->name) + 16; }

hl_status hl_model_save(const hl_model *model, const char *path)
{
    if (model == NULL || path == NULL)
        return hli_error(HL_EINVAL, "hl_model_save: %s is NULL", model == NULL ? "model" : "path");
    const uint32_t version = model->whiten != NULL          ? 5u
                             : model->cluster_merge > 0.0f ? 4u
                             : model->cluster_levels > 0   ? 3u
                             : model->cfg.rel_rank > 0     ? 2u
                                                           : 1u;
    size_t total = header_bytes(version) + 4, data;
    for (int t = 0; t < model->num_tensors; t++)
        total += tensor_desc_bytes(&model->t[t]);
    const size_t wcount = model->whiten != NULL ? (size_t)(model->cfg.feature_dim * model->cfg.feature_dim) : 0;
    if (!hli_mul_size((size_t)model->num_params + wcount, 4, &data) || total + data < total)
        return hli_error(HL_ERANGE, "hl_model_save: model too large");
    total += data;
    wbuf b = {hli_alloc(total, 1), 0, total};
    if (b.p == NULL)
        return hl_last_error_status();
    const hl_model_config *c = &model->cfg;
    put_bytes(&b, HLI_MODEL_MAGIC, 8);
    put_u32(&b, version);
    put_u64(&b, (uint64_t)c->feature_dim);
    put_u64(&b, (uint64_t)c->hidden);
    put_u32(&b, (uint32_t)c->num_conv);
    put_u32(&b, (uint32_t)c->use_cluster_feat);
    put_f32(&b, c->dropout);
    put_u32(&b, (uint32_t)c->layer_type);
    put_u32(&b, (uint32_t)c->link_head);
    put_u32(&b, c->edge_features);
    put_f32(&b, model->tau);
    put_u32(&b, (uint32_t)model->score);
    put_u32(&b, (uint32_t)model->num_tensors);
    if (version >= 2)
        put_u32(&b, (uint32_t)c->rel_rank);
    if (version >= 3)
        put_u32(&b, (uint32_t)model->cluster_levels);
    if (version >= 4)
        put_f32(&b, model->cluster_merge);
    if (version >= 5)
        put_u32(&b, model->whiten != NULL);
    for (int t = 0; t < model->num_tensors; t++) {
        const hli_tensor *T = &model->t[t];
        const size_t nl = strlen(T->name);
        put_u32(&b, (uint32_t)nl);
        put_bytes(&b, T->name, nl);
        put_u64(&b, (uint64_t)T->rows);
        put_u64(&b, (uint64_t)T->cols);
        const float *p = hli_param(model, t);
        for (int64_t i = 0; i < T->rows * T->cols; i++)
            put_f32(&b, p[i]);
    }
    for (size_t i = 0; i < wcount; i++)
        put_f32(&b, model->whiten[i]);
    put_u32(&b, hli_crc32(0, b.p, b.len));
    hli_atomic_file af;
    hl_status st = hli_atomic_open(&af, path);
    if (st == HL_OK) {
        st = hli_atomic_write(&af, b.p, b.len);
        if (st == HL_OK)
            st = hli_atomic_commit(&af);
        else
            hli_atomic_abort(&af);
    }
    free(b.p);
    return st;
}

/* Read a whole file; its real size bounds every later allocation.  Only a
 * regular file is read (a directory's "size" is no size). */
static hl_status read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *fp;
    uint64_t sz;
    hl_status st = hli_file_open_read(path, &fp, &sz);
    if (st != HL_OK)
        return st;
    if (sz > SIZE_MAX - 1) {
        fclose(fp);
        return hli_error(HL_ERANGE, "model file '%s' of %llu bytes does not fit in memory", path,
                         (unsigned long long)sz);
    }
    unsigned char *buf = hli_alloc((size_t)sz + 1, 1);
    if (buf == NULL) {
        fclose(fp);
        return hl_last_error_status();
    }
    st = hli_file_read_exact(fp, path, buf, (size_t)sz, 0);
    fclose(fp);
    if (st != HL_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *len = (size_t)sz;
    return HL_OK;
}

hl_status hl_model_load(const char *path, hl_model **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_model_load: out is NULL");
    *out = NULL;
    if (path == NULL)
        return hli_error(HL_EINVAL, "hl_model_load: path is NULL");
    unsigned char *buf = NULL;
    size_t len = 0;
    hl_status st = read_file(path, &buf, &len);
    if (st != HL_OK)
        return st;
    hl_model *m = NULL;
    if (len < 12 || memcmp(buf, HLI_MODEL_MAGIC, 8) != 0) {
        st = hli_error(HL_EFORMAT, "'%s' is not a libhilander model file (bad magic at byte 0)", path);
        goto done;
    }
    const uint32_t version = get_u32(buf + 8);
    if (version > HLI_MODEL_VERSION) {
        st = hli_error(HL_EVERSION, "'%s': model format version %u is newer than this library's %u", path, version,
                       HLI_MODEL_VERSION);
        goto done;
    }
    if (version == 0) {
        st = hli_error(HL_EFORMAT, "'%s': model format version 0 at byte 8 is invalid", path);
        goto done;
    }
    const size_t header = header_bytes(version);
    if (len < header + 4) {
        st = hli_error(HL_EFORMAT, "'%s': truncated (%zu bytes, the header alone needs %zu)", path, len,
                       header + 4);
        goto done;
    }
    const uint32_t crc = get_u32(buf + len - 4), want = hli_crc32(0, buf, len - 4);
    if (crc != want) {
        st = hli_error(HL_EFORMAT, "'%s': checksum mismatch (stored 0x%08x, computed 0x%08x over %zu bytes): "
                                   "the file is truncated or corrupted", path, crc, want, len - 4);
        goto done;
    }
    hl_model_config cfg;
    hl_model_config_init(&cfg, sizeof cfg);
    const unsigned char *p = buf + 12;
    cfg.feature_dim = (int64_t)get_u64(p);
    cfg.hidden = (int64_t)get_u64(p + 8);
    cfg.num_conv = (int32_t)get_u32(p + 16);
    cfg.use_cluster_feat = (int32_t)get_u32(p + 20);
    cfg.dropout = get_f32(p + 24);
    cfg.layer_type = (int32_t)get_u32(p + 28);
    cfg.link_head = (int32_t)get_u32(p + 32);
    cfg.edge_features = get_u32(p + 36);
    const float tau = get_f32(p + 40);
    const int32_t score = (int32_t)get_u32(p + 44);
    const uint32_t ntens = get_u32(p + 48);
    cfg.rel_rank = 0; /* version 1: full rank, whatever the current default */
    uint32_t levels = 0;
    if (version >= 2) {
        const uint32_t rank = get_u32(p + 52);
        if ((version == 2 && rank == 0) || rank > INT32_MAX) {
            st = hli_error(HL_EFORMAT, "'%s': rel_rank = %u at byte 64 must be %s", path, rank,
                           version == 2 ? "> 0 in a version-2 file" : "<= 2^31 - 1");
            goto done;
        }
        cfg.rel_rank = (int32_t)rank;
    }
    if (version >= 3) {
        levels = get_u32(p + 56);
        if ((version == 3 && levels == 0) || levels > HL_MAX_LEVELS) {
            st = hli_error(HL_EFORMAT, "'%s': cluster levels = %u at byte 68 must be in [%d, %d]", path, levels,
                           version == 3 ? 1 : 0, HL_MAX_LEVELS);
            goto done;
        }
    }
    float merge = 0.0f;
    if (version >= 4) {
        merge = get_f32(p + 60);
        if ((version == 4 && merge == 0.0f) || !(merge >= 0.0f) || !isfinite(merge)) {
            st = hli_error(HL_EFORMAT, "'%s': cluster merge = %g at byte 72 must be finite and %s", path,
                           (double)merge, version == 4 ? "> 0" : ">= 0");
            goto done;
        }
    }
    uint32_t whiten = 0;
    if (version >= 5) {
        whiten = get_u32(p + 64);
        if (whiten != 1 || cfg.feature_dim < 1 || cfg.feature_dim > HLI_WHITEN_MAX_DIM) {
            st = hli_error(HL_EFORMAT, "'%s': whitening = %u at byte 76 with feature_dim %lld: version 5 needs 1 and "
                                       "feature_dim <= %d", path, whiten, (long long)cfg.feature_dim,
                           HLI_WHITEN_MAX_DIM);
            goto done;
        }
    }
    const size_t wcount = whiten ? (size_t)(cfg.feature_dim * cfg.feature_dim) : 0;
    hl_model lay;
    if (hli_model_layout(&cfg, &lay) != HL_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", hl_last_error());
        st = hli_error(HL_EFORMAT, "'%s': invalid configuration at bytes 12-59%s: %s", path,
                       version >= 2 ? " and 64-67" : "", why);
        goto done;
    }
    if ((int64_t)ntens != lay.num_tensors) {
        st = hli_error(HL_EFORMAT, "'%s': %u tensors at byte 60, the configuration needs %d", path, ntens,
                       lay.num_tensors);
        goto done;
    }
    /* the parameters alone need 4*num_params bytes: refuse before allocating */
    if ((uint64_t)lay.num_params + wcount > (uint64_t)(len / 4)) {
        st = hli_error(HL_EFORMAT, "'%s': the configuration needs %lld parameters but the file has %zu bytes",
                       path, (long long)lay.num_params, len);
        goto done;
    }
    if ((st = hli_model_alloc(&cfg, &m)) != HL_OK)
        goto done;
    if (!(tau >= 0.0f && tau <= 1.0f) || score < HL_SCORE_PROB || score > HL_SCORE_SNN) {
        st = hli_error(HL_EFORMAT, "'%s': invalid clustering defaults tau = %g, score = %d at bytes 52-59", path,
                       (double)tau, (int)score);
        goto done;
    }
    m->tau = tau;
    m->score = score;
    m->cluster_levels = (int32_t)levels;
    m->cluster_merge = merge;
    size_t off = header;
    const size_t end = len - 4;
    for (int t = 0; t < m->num_tensors; t++) {
        const hli_tensor *T = &m->t[t];
        const size_t nl = strlen(T->name);
        if (end - off < 4 || get_u32(buf + off) != nl || end - off - 4 < nl + 16 ||
            memcmp(buf + off + 4, T->name, nl) != 0) {
            st = hli_error(HL_EFORMAT, "'%s': tensor %d at byte %zu is not '%s'", path, t, off, T->name);
            goto done;
        }
        off += 4 + nl;
        const uint64_t rows = get_u64(buf + off), cols = get_u64(buf + off + 8);
        if (rows != (uint64_t)T->rows || cols != (uint64_t)T->cols) {
            st = hli_error(HL_EFORMAT, "'%s': tensor '%s' at byte %zu has shape (%llu, %llu), expected (%lld, %lld)",
                           path, T->name, off, (unsigned long long)rows, (unsigned long long)cols,
                           (long long)T->rows, (long long)T->cols);
            goto done;
        }
        off += 16;
        const size_t cnt = (size_t)(T->rows * T->cols);
        if ((end - off) / 4 < cnt) {
            st = hli_error(HL_EFORMAT, "'%s': tensor '%s' data at byte %zu runs past the end", path, T->name, off);
            goto done;
        }
        float *dst = hli_param(m, t);
        for (size_t i = 0; i < cnt; i++) {
            dst[i] = get_f32(buf + off + 4 * i);
            if (!isfinite(dst[i])) {
                st = hli_error(HL_EFORMAT, "'%s': tensor '%s' value %zu at byte %zu is not finite", path, T->name,
                               i, off + 4 * i);
                goto done;
            }
        }
        off += 4 * cnt;
    }
    if (wcount > 0) {
        if ((end - off) / 4 < wcount) {
            st = hli_error(HL_EFORMAT, "'%s': whitening matrix at byte %zu runs past the end", path, off);
            goto done;
        }
        if ((m->whiten = hli_alloc(wcount, sizeof(float))) == NULL) {
            st = hl_last_error_status();
            goto done;
        }
        for (size_t i = 0; i < wcount; i++) {
            m->whiten[i] = get_f32(buf + off + 4 * i);
            if (!isfinite(m->whiten[i])) {
                st = hli_error(HL_EFORMAT, "'%s': whitening value %zu at byte %zu is not finite", path, i, off + 4 * i);
                goto done;
            }
        }
        off += 4 * wcount;
    }
    if (off != end) {
        st = hli_error(HL_EFORMAT, "'%s': %zu unexpected bytes after the last tensor at byte %zu", path, end - off,
                       off);
        goto done;
    }
    *out = m;
    m = NULL;
    st = HL_OK;
done:
    hl_model_free(m);
    free(buf);
    return st;
}
