/* Model files (docs/MODEL_FORMAT.md): a little-endian binary with magic,
 * format version 1, an 80-byte header (configuration, clustering defaults,
 * whitening flag), named float32 tensors, the optional feature map and a
 * CRC-32 trailer.  Written atomically; read with every offset checked
 * against the real file size before use, so a truncated, corrupted or lying
 * file fails cleanly and never causes an absurd allocation. */
#include "io/io_internal.h"
#include "model/model_internal.h"
#include "model/whiten.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLI_MODEL_MAGIC "HLANDER\x1a"
#define HLI_MODEL_VERSION 1u

/* Byte offsets of the header fields (docs/MODEL_FORMAT.md, "Layout"); u32
 * unless noted. */
enum {
    OFF_VERSION = 8,
    OFF_FEATURE_DIM = 12, /* u64 */
    OFF_HIDDEN = 20,      /* u64 */
    OFF_NUM_CONV = 28,
    OFF_USE_CLUSTER_FEAT = 32,
    OFF_DROPOUT = 36, /* f32 */
    OFF_LAYER_TYPE = 40,
    OFF_LINK_HEAD = 44,
    OFF_EDGE_FEATURES = 48,
    OFF_TAU = 52, /* f32 */
    OFF_SCORE = 56,
    OFF_NUM_TENSORS = 60,
    OFF_REL_RANK = 64,
    OFF_CLUSTER_LEVELS = 68,
    OFF_CLUSTER_MERGE = 72, /* f32 */
    OFF_WHITENING = 76,
    HEADER_BYTES = 80 /* the first tensor starts here */
};

/* What the header holds besides the envelope (magic, version). */
typedef struct model_header {
    hl_model_config cfg;
    float tau;
    uint32_t score;
    uint32_t num_tensors;
    uint32_t cluster_levels;
    float cluster_merge;
    uint32_t whitening; /* 0 or 1: the feature map follows the tensors */
} model_header;

/* ---- little-endian encoding ------------------------------------------------ */
typedef struct wbuf {
    unsigned char *p;
    size_t len;
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

/* ---- sizes ------------------------------------------------------------------- */
static size_t tensor_desc_bytes(const hli_tensor *t) { return 4 + strlen(t->name) + 16; }

/* Floats of the feature map of a model with @p feature_dim (<= HLI_WHITEN_MAX_DIM). */
static uint64_t whitening_count(int64_t feature_dim, int whitening)
{
    return whitening ? (uint64_t)feature_dim * (uint64_t)feature_dim : 0;
}

/* The exact size of the file of a model with layout @p lay: header, tensors,
 * feature map, checksum.  The configuration limits keep it far below 2^63. */
static uint64_t file_bytes(const hl_model *lay, int whitening)
{
    uint64_t total = HEADER_BYTES + 4;
    for (int t = 0; t < lay->num_tensors; t++)
        total += tensor_desc_bytes(&lay->t[t]);
    return total + 4 * ((uint64_t)lay->num_params + whitening_count(lay->cfg.feature_dim, whitening));
}

/* ---- writing ----------------------------------------------------------------- */
static void put_header(wbuf *b, const hl_model *model)
{
    const hl_model_config *c = &model->cfg;
    put_bytes(b, HLI_MODEL_MAGIC, 8);
    put_u32(b, HLI_MODEL_VERSION);
    put_u64(b, (uint64_t)c->feature_dim);
    put_u64(b, (uint64_t)c->hidden);
    put_u32(b, (uint32_t)c->num_conv);
    put_u32(b, (uint32_t)c->use_cluster_feat);
    put_f32(b, c->dropout);
    put_u32(b, (uint32_t)c->layer_type);
    put_u32(b, (uint32_t)c->link_head);
    put_u32(b, c->edge_features);
    put_f32(b, model->tau);
    put_u32(b, (uint32_t)model->score);
    put_u32(b, (uint32_t)model->num_tensors);
    put_u32(b, (uint32_t)c->rel_rank);
    put_u32(b, (uint32_t)model->cluster_levels);
    put_f32(b, model->cluster_merge);
    put_u32(b, model->whiten != NULL);
}

static void put_tensors(wbuf *b, const hl_model *model)
{
    for (int t = 0; t < model->num_tensors; t++) {
        const hli_tensor *T = &model->t[t];
        const size_t nl = strlen(T->name);
        put_u32(b, (uint32_t)nl);
        put_bytes(b, T->name, nl);
        put_u64(b, (uint64_t)T->rows);
        put_u64(b, (uint64_t)T->cols);
        const float *p = hli_param(model, t);
        for (int64_t i = 0; i < T->rows * T->cols; i++)
            put_f32(b, p[i]);
    }
}

static hl_status write_atomically(const char *path, const unsigned char *bytes, size_t len)
{
    hli_atomic_file af;
    hl_status st = hli_atomic_open(&af, path);
    if (st != HL_OK)
        return st;
    st = hli_atomic_write(&af, bytes, len);
    if (st != HL_OK) {
        hli_atomic_abort(&af);
        return st;
    }
    return hli_atomic_commit(&af);
}

hl_status hl_model_save(const hl_model *model, const char *path)
{
    if (model == NULL || path == NULL)
        return hli_error(HL_EINVAL, "hl_model_save: %s is NULL", model == NULL ? "model" : "path");
    const uint64_t total = file_bytes(model, model->whiten != NULL);
    if (total > SIZE_MAX)
        return hli_error(HL_ERANGE, "hl_model_save: model too large (%llu bytes)", (unsigned long long)total);
    wbuf b = {hli_alloc((size_t)total, 1), 0};
    if (b.p == NULL)
        return hl_last_error_status();
    put_header(&b, model);
    put_tensors(&b, model);
    const uint64_t wcount = whitening_count(model->cfg.feature_dim, model->whiten != NULL);
    for (uint64_t i = 0; i < wcount; i++)
        put_f32(&b, model->whiten[i]);
    put_u32(&b, hli_crc32(0, b.p, b.len));
    hl_status st = write_atomically(path, b.p, b.len);
    free(b.p);
    return st;
}

/* ---- reading ----------------------------------------------------------------- */

/* Read a whole file; its real size bounds every later allocation. */
static hl_status read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *fp;
    uint64_t sz;
    hl_status st = hli_file_open_read(path, &fp, &sz); /* regular files only */
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

/* Magic, version, room for the header and the checksum, checksum.  The
 * version is checked before the checksum, so that a newer file is reported
 * as newer, not as corrupt. */
static hl_status check_envelope(const char *path, const unsigned char *buf, size_t len)
{
    if (len < OFF_VERSION + 4 || memcmp(buf, HLI_MODEL_MAGIC, 8) != 0)
        return hli_error(HL_EFORMAT, "'%s' is not a libhilander model file (bad magic at byte 0)", path);
    const uint32_t version = get_u32(buf + OFF_VERSION);
    if (version > HLI_MODEL_VERSION)
        return hli_error(HL_EVERSION, "'%s': model format version %u at byte %d is newer than this library's %u",
                         path, version, OFF_VERSION, HLI_MODEL_VERSION);
    if (version == 0)
        return hli_error(HL_EFORMAT, "'%s': model format version 0 at byte %d is invalid", path, OFF_VERSION);
    if (len < HEADER_BYTES + 4)
        return hli_error(HL_EFORMAT, "'%s': truncated (%zu bytes, the header and checksum alone need %d)", path,
                         len, HEADER_BYTES + 4);
    const uint32_t crc = get_u32(buf + len - 4), want = hli_crc32(0, buf, len - 4);
    if (crc != want)
        return hli_error(HL_EFORMAT, "'%s': checksum mismatch (stored 0x%08x, computed 0x%08x over %zu bytes): "
                                     "the file is truncated or corrupted", path, crc, want, len - 4);
    return HL_OK;
}

/* The byte offset of the configuration field that @p why (a message of
 * hl_model_config_check) names first, or -1. */
static int config_field_offset(const char *why)
{
    static const struct {
        const char *name;
        int offset;
    } fields[] = {{"feature_dim", OFF_FEATURE_DIM}, {"hidden", OFF_HIDDEN},
                  {"num_conv", OFF_NUM_CONV},       {"use_cluster_feat", OFF_USE_CLUSTER_FEAT},
                  {"dropout", OFF_DROPOUT},         {"layer_type", OFF_LAYER_TYPE},
                  {"link_head", OFF_LINK_HEAD},     {"edge_features", OFF_EDGE_FEATURES},
                  {"rel_rank", OFF_REL_RANK}};
    const char *first = NULL;
    int offset = -1;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *at = strstr(why, fields[i].name);
        if (at != NULL && (first == NULL || at < first)) {
            first = at;
            offset = fields[i].offset;
        }
    }
    return offset;
}

/* The configuration (bytes 12-51 and 64), checked as hl_model_create checks
 * it, plus what a saved model always has: rel_rank and edge_features 0 with
 * the reference head. */
static hl_status check_config(const char *path, const hl_model_config *cfg)
{
    if (hl_model_config_check(cfg) != HL_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", hl_last_error());
        const int at = config_field_offset(why);
        if (at < 0)
            return hli_error(HL_EFORMAT, "'%s': invalid configuration at bytes %d-%d: %s", path, OFF_FEATURE_DIM,
                             OFF_TAU - 1, why);
        return hli_error(HL_EFORMAT, "'%s': invalid configuration at byte %d: %s", path, at, why);
    }
    if (cfg->link_head == HL_LINK_HEAD_REFERENCE && cfg->edge_features != 0)
        return hli_error(HL_EFORMAT, "'%s': edge_features = 0x%x at byte %d must be 0 with the reference link head",
                         path, (unsigned)cfg->edge_features, OFF_EDGE_FEATURES);
    if (cfg->link_head == HL_LINK_HEAD_REFERENCE && cfg->rel_rank != 0)
        return hli_error(HL_EFORMAT, "'%s': rel_rank = %d at byte %d must be 0 with the reference link head", path,
                         (int)cfg->rel_rank, OFF_REL_RANK);
    return HL_OK;
}

/* The clustering defaults and the whitening flag (bytes 52-59 and 68-79). */
static hl_status check_stored_fields(const char *path, const model_header *h)
{
    if (!(h->tau >= 0.0f && h->tau <= 1.0f))
        return hli_error(HL_EFORMAT, "'%s': tau = %g at byte %d must be in [0, 1]", path, (double)h->tau, OFF_TAU);
    if (h->score > (uint32_t)HL_SCORE_SNN) /* HL_SCORE_PROB = 0 is the first */
        return hli_error(HL_EFORMAT, "'%s': score = %u at byte %d must be an hl_score in [%d, %d]", path, h->score,
                         OFF_SCORE, HL_SCORE_PROB, HL_SCORE_SNN);
    if (h->cluster_levels > HL_MAX_LEVELS)
        return hli_error(HL_EFORMAT, "'%s': cluster levels = %u at byte %d must be in [0, %d]", path,
                         h->cluster_levels, OFF_CLUSTER_LEVELS, HL_MAX_LEVELS);
    if (!(h->cluster_merge >= 0.0f) || !isfinite(h->cluster_merge))
        return hli_error(HL_EFORMAT, "'%s': cluster merge = %g at byte %d must be finite and >= 0", path,
                         (double)h->cluster_merge, OFF_CLUSTER_MERGE);
    if (h->whitening > 1)
        return hli_error(HL_EFORMAT, "'%s': whitening = %u at byte %d must be 0 or 1", path, h->whitening,
                         OFF_WHITENING);
    if (h->whitening == 1 && h->cfg.feature_dim > HLI_WHITEN_MAX_DIM)
        return hli_error(HL_EFORMAT, "'%s': whitening = 1 at byte %d needs feature_dim <= %d, not %lld", path,
                         OFF_WHITENING, HLI_WHITEN_MAX_DIM, (long long)h->cfg.feature_dim);
    return HL_OK;
}

/* The header of a file that passed check_envelope, every field checked. */
static hl_status parse_header(const char *path, const unsigned char *buf, model_header *h)
{
    /* integers beyond the signed range of their hl_model_config field */
    const uint64_t feature_dim = get_u64(buf + OFF_FEATURE_DIM), hidden = get_u64(buf + OFF_HIDDEN);
    const uint32_t rel_rank = get_u32(buf + OFF_REL_RANK);
    if (feature_dim > INT64_MAX)
        return hli_error(HL_EFORMAT, "'%s': feature_dim = %llu at byte %d must be <= 2^63 - 1", path,
                         (unsigned long long)feature_dim, OFF_FEATURE_DIM);
    if (hidden > INT64_MAX)
        return hli_error(HL_EFORMAT, "'%s': hidden = %llu at byte %d must be <= 2^63 - 1", path,
                         (unsigned long long)hidden, OFF_HIDDEN);
    if (rel_rank > INT32_MAX)
        return hli_error(HL_EFORMAT, "'%s': rel_rank = %u at byte %d must be <= 2^31 - 1", path, rel_rank,
                         OFF_REL_RANK);
    hl_model_config *cfg = &h->cfg;
    hl_model_config_init(cfg, sizeof *cfg);
    cfg->feature_dim = (int64_t)feature_dim;
    cfg->hidden = (int64_t)hidden;
    cfg->num_conv = (int32_t)get_u32(buf + OFF_NUM_CONV);
    cfg->use_cluster_feat = (int32_t)get_u32(buf + OFF_USE_CLUSTER_FEAT);
    cfg->dropout = get_f32(buf + OFF_DROPOUT);
    cfg->layer_type = (int32_t)get_u32(buf + OFF_LAYER_TYPE);
    cfg->link_head = (int32_t)get_u32(buf + OFF_LINK_HEAD);
    cfg->edge_features = get_u32(buf + OFF_EDGE_FEATURES);
    cfg->rel_rank = (int32_t)rel_rank;
    h->tau = get_f32(buf + OFF_TAU);
    h->score = get_u32(buf + OFF_SCORE);
    h->num_tensors = get_u32(buf + OFF_NUM_TENSORS);
    h->cluster_levels = get_u32(buf + OFF_CLUSTER_LEVELS);
    h->cluster_merge = get_f32(buf + OFF_CLUSTER_MERGE);
    h->whitening = get_u32(buf + OFF_WHITENING);
    hl_status st = check_config(path, cfg);
    return st != HL_OK ? st : check_stored_fields(path, h);
}

/* A model with the header's configuration and stored fields, its parameters
 * zero, after checking that the file has exactly the size that configuration
 * needs: a lying header cannot cause a large allocation. */
static hl_status model_for_header(const char *path, const model_header *h, size_t len, hl_model **out)
{
    hl_model lay;
    hl_status st = hli_model_layout(&h->cfg, &lay);
    if (st != HL_OK)
        return st; /* check_config passed: not reached */
    if ((int64_t)h->num_tensors != lay.num_tensors)
        return hli_error(HL_EFORMAT, "'%s': %u tensors at byte %d, the configuration needs %d", path,
                         h->num_tensors, OFF_NUM_TENSORS, lay.num_tensors);
    const uint64_t need = file_bytes(&lay, (int)h->whitening);
    if (need != (uint64_t)len)
        return hli_error(HL_EFORMAT, "'%s': the configuration needs %lld parameters%s, a file of %llu bytes; this "
                                     "one has %zu", path, (long long)lay.num_params,
                         h->whitening ? " and the feature map" : "", (unsigned long long)need, len);
    hl_model *m = NULL;
    if ((st = hli_model_alloc(&h->cfg, &m)) != HL_OK)
        return st;
    m->tau = h->tau;
    m->score = (int32_t)h->score;
    m->cluster_levels = (int32_t)h->cluster_levels;
    m->cluster_merge = h->cluster_merge;
    *out = m;
    return HL_OK;
}

/* @p n finite floats at byte *off into @p dst, advancing *off; @p what names
 * them in errors. */
static hl_status read_floats(const char *path, const unsigned char *buf, size_t end, size_t *off, float *dst,
                             size_t n, const char *what)
{
    if ((end - *off) / 4 < n)
        return hli_error(HL_EFORMAT, "'%s': %s at byte %zu runs past the end", path, what, *off);
    for (size_t i = 0; i < n; i++) {
        dst[i] = get_f32(buf + *off + 4 * i);
        if (!isfinite(dst[i]))
            return hli_error(HL_EFORMAT, "'%s': %s value %zu at byte %zu is not finite", path, what, i,
                             *off + 4 * i);
    }
    *off += 4 * n;
    return HL_OK;
}

/* The tensors of @p m, in its layout's order, from byte *off (< end). */
static hl_status read_tensors(const char *path, const unsigned char *buf, size_t end, size_t *off, hl_model *m)
{
    for (int t = 0; t < m->num_tensors; t++) {
        const hli_tensor *T = &m->t[t];
        const size_t nl = strlen(T->name);
        if (end - *off < 4 || get_u32(buf + *off) != nl || end - *off - 4 < nl + 16 ||
            memcmp(buf + *off + 4, T->name, nl) != 0)
            return hli_error(HL_EFORMAT, "'%s': tensor %d at byte %zu is not '%s'", path, t, *off, T->name);
        *off += 4 + nl;
        const uint64_t rows = get_u64(buf + *off), cols = get_u64(buf + *off + 8);
        if (rows != (uint64_t)T->rows || cols != (uint64_t)T->cols)
            return hli_error(HL_EFORMAT, "'%s': tensor '%s' at byte %zu has shape (%llu, %llu), expected (%lld, %lld)",
                             path, T->name, *off, (unsigned long long)rows, (unsigned long long)cols,
                             (long long)T->rows, (long long)T->cols);
        *off += 16;
        char what[HLI_TENSOR_NAME + 16];
        snprintf(what, sizeof what, "tensor '%s'", T->name);
        hl_status st = read_floats(path, buf, end, off, hli_param(m, t), (size_t)(T->rows * T->cols), what);
        if (st != HL_OK)
            return st;
    }
    return HL_OK;
}

/* The feature_dim^2 feature map of @p m from byte *off. */
static hl_status read_whitening(const char *path, const unsigned char *buf, size_t end, size_t *off, hl_model *m)
{
    const size_t count = (size_t)whitening_count(m->cfg.feature_dim, 1);
    if ((m->whiten = hli_alloc(count, sizeof(float))) == NULL)
        return hl_last_error_status();
    return read_floats(path, buf, end, off, m->whiten, count, "whitening matrix");
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
    model_header h;
    hl_model *m = NULL;
    size_t off = HEADER_BYTES;
    if ((st = check_envelope(path, buf, len)) == HL_OK && (st = parse_header(path, buf, &h)) == HL_OK &&
        (st = model_for_header(path, &h, len, &m)) == HL_OK &&
        (st = read_tensors(path, buf, len - 4, &off, m)) == HL_OK && h.whitening)
        st = read_whitening(path, buf, len - 4, &off, m);
    if (st == HL_OK && off != len - 4)
        st = hli_error(HL_EFORMAT, "'%s': %zu unexpected bytes after the last tensor at byte %zu", path,
                       len - 4 - off, off);
    free(buf);
    if (st != HL_OK) {
        hl_model_free(m);
        return st;
    }
    *out = m;
    return HL_OK;
}
