/* Collection files (docs/COLLECTIONS.md, "File format").
 *
 * Little-endian: an 8-byte magic, a format version, a fixed header (sizes,
 * the resolved clustering plan, the search settings, the model's
 * fingerprint), the per-point and per-cluster arrays, and a CRC-32 of every
 * byte before it.  Written as a stream (a collection may be gigabytes) to a
 * temporary file renamed over the destination when complete; read as a
 * stream straight into the collection's arrays, the size checked against
 * the header before anything is allocated and every value checked after the
 * checksum, so a truncated, corrupted or foreign file is refused and never
 * half loaded.  Derived data (reverse lists, cluster sizes and members, the
 * index's cells) is rebuilt on load. */
#include "collection/collection_internal.h"
#include "io/io_internal.h"
#include "model/model_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HLI_COLL_MAGIC "HLCOLL\r\n"
#define HLI_COLL_VERSION 1u
#define HLI_COLL_HEADER_BYTES 136u
/* Sanity bounds of a file's header: far above any real collection. */
#define HLI_COLL_MAX_DIM ((int64_t)1 << 20)
#define HLI_COLL_MAX_K ((int64_t)1 << 16)
#define HLI_COLL_CHUNK ((size_t)1 << 20)

/* The fixed header, in file order. */
typedef struct coll_header {
    int64_t d, k, n, live, nc;
    int32_t score;
    float tau, merge;
    uint32_t has_model, model_crc;
    int32_t knn_method;
    int64_t knn_auto_threshold, knn_nlist, knn_nprobe;
    double knn_target_recall;
    uint64_t knn_seed;
    int64_t index_nlist, index_nprobe;
    int32_t early_stop;
} coll_header;

/* ---- little-endian encoding ------------------------------------------------- */

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int b = 0; b < bytes; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int b = 0; b < bytes; b++)
        v |= (uint64_t)p[b] << (8 * b);
    return v;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The header's fields in file order: one writer and one reader, mirrored. */
typedef struct cursor {
    unsigned char *p;
    size_t off;
} cursor;

static void c_u(cursor *c, uint64_t v, int w)
{
    put_le(c->p + c->off, v, w);
    c->off += (size_t)w;
}

static uint64_t c_get(cursor *c, int w)
{
    uint64_t v = get_le(c->p + c->off, w);
    c->off += (size_t)w;
    return v;
}

static void encode_header(const coll_header *h, unsigned char *p)
{
    cursor c = {p, 0};
    uint64_t r;
    memset(p, 0, HLI_COLL_HEADER_BYTES);
    c_u(&c, (uint64_t)h->d, 8);
    c_u(&c, (uint64_t)h->k, 8);
    c_u(&c, (uint64_t)h->n, 8);
    c_u(&c, (uint64_t)h->live, 8);
    c_u(&c, (uint64_t)h->nc, 8);
    c_u(&c, (uint32_t)h->score, 4);
    c_u(&c, f32_bits(h->tau), 4);
    c_u(&c, f32_bits(h->merge), 4);
    c_u(&c, h->has_model, 4);
    c_u(&c, h->model_crc, 4);
    c_u(&c, (uint32_t)h->knn_method, 4);
    c_u(&c, (uint64_t)h->knn_auto_threshold, 8);
    c_u(&c, (uint64_t)h->knn_nlist, 8);
    c_u(&c, (uint64_t)h->knn_nprobe, 8);
    memcpy(&r, &h->knn_target_recall, 8);
    c_u(&c, r, 8);
    c_u(&c, h->knn_seed, 8);
    c_u(&c, (uint64_t)h->index_nlist, 8);
    c_u(&c, (uint64_t)h->index_nprobe, 8);
    c_u(&c, (uint32_t)h->early_stop, 4);
}

static void decode_header(unsigned char *p, coll_header *h)
{
    cursor c = {p, 0};
    uint64_t r;
    h->d = (int64_t)c_get(&c, 8);
    h->k = (int64_t)c_get(&c, 8);
    h->n = (int64_t)c_get(&c, 8);
    h->live = (int64_t)c_get(&c, 8);
    h->nc = (int64_t)c_get(&c, 8);
    h->score = (int32_t)(uint32_t)c_get(&c, 4);
    h->tau = bits_f32((uint32_t)c_get(&c, 4));
    h->merge = bits_f32((uint32_t)c_get(&c, 4));
    h->has_model = (uint32_t)c_get(&c, 4);
    h->model_crc = (uint32_t)c_get(&c, 4);
    h->knn_method = (int32_t)(uint32_t)c_get(&c, 4);
    h->knn_auto_threshold = (int64_t)c_get(&c, 8);
    h->knn_nlist = (int64_t)c_get(&c, 8);
    h->knn_nprobe = (int64_t)c_get(&c, 8);
    r = c_get(&c, 8);
    memcpy(&h->knn_target_recall, &r, 8);
    h->knn_seed = c_get(&c, 8);
    h->index_nlist = (int64_t)c_get(&c, 8);
    h->index_nprobe = (int64_t)c_get(&c, 8);
    h->early_stop = (int32_t)(uint32_t)c_get(&c, 4);
}

/* ---- streams with a running CRC --------------------------------------------- */

typedef struct crc_writer {
    hli_atomic_file af;
    uint32_t crc;
    unsigned char *buf; /* byte-order conversion */
} crc_writer;

static hl_status w_bytes(crc_writer *w, const void *p, size_t len)
{
    w->crc = hli_crc32(w->crc, p, len);
    return hli_atomic_write(&w->af, p, len);
}

/* Write @p count elements of @p width bytes as little-endian. */
static hl_status w_array(crc_writer *w, const void *data, size_t count, size_t width)
{
    if (hli_host_little_endian())
        return count > 0 ? w_bytes(w, data, count * width) : HL_OK;
    const unsigned char *p = data;
    const size_t per = HLI_COLL_CHUNK / width;
    hl_status st = HL_OK;
    for (size_t a = 0; a < count && st == HL_OK; a += per) {
        const size_t m = count - a < per ? count - a : per;
        memcpy(w->buf, p + a * width, m * width);
        hli_bswap_array(w->buf, m, width);
        st = w_bytes(w, w->buf, m * width);
    }
    return st;
}

typedef struct crc_reader {
    FILE *fp;
    const char *path;
    uint32_t crc;
} crc_reader;

static hl_status r_array(crc_reader *r, void *data, size_t count, size_t width)
{
    unsigned char *p = data;
    const size_t total = count * width;
    for (size_t a = 0; a < total; a += HLI_COLL_CHUNK) {
        const size_t m = total - a < HLI_COLL_CHUNK ? total - a : HLI_COLL_CHUNK;
        if (fread(p + a, 1, m, r->fp) != m)
            return hli_error(HL_EFORMAT, "collection file '%s' is truncated", r->path);
        r->crc = hli_crc32(r->crc, p + a, m);
    }
    if (!hli_host_little_endian() && width > 1)
        hli_bswap_array(data, count, width);
    return HL_OK;
}

/* ---- save ------------------------------------------------------------------- */

static void header_of(const hl_collection *c, coll_header *h)
{
    memset(h, 0, sizeof *h);
    h->d = c->d;
    h->k = c->k;
    h->n = c->n;
    h->live = c->live;
    h->nc = c->nc;
    h->score = c->plan.score;
    h->tau = c->plan.tau;
    h->merge = c->plan.merge;
    h->has_model = (uint32_t)c->has_model;
    h->model_crc = c->model_crc;
    h->knn_method = c->opts.knn_method;
    h->knn_auto_threshold = c->opts.knn_auto_threshold;
    h->knn_nlist = c->opts.knn_nlist;
    h->knn_nprobe = c->opts.knn_nprobe;
    h->knn_target_recall = c->opts.knn_target_recall;
    h->knn_seed = c->opts.knn_seed;
    h->index_nlist = c->index.nlist;
    h->index_nprobe = c->index.nprobe;
    h->early_stop = c->opts.early_stop;
}

hl_status hl_collection_save(const hl_collection *c, const char *path)
{
    if (c == NULL || path == NULL)
        return hli_error(HL_EINVAL, "hl_collection_save: %s is NULL", c == NULL ? "collection" : "path");
    crc_writer w;
    memset(&w, 0, sizeof w);
    if (!hli_host_little_endian() && (w.buf = hli_alloc(HLI_COLL_CHUNK, 1)) == NULL)
        return hl_last_error_status();
    hl_status st = hli_atomic_open(&w.af, path);
    if (st != HL_OK) {
        free(w.buf);
        return st;
    }
    unsigned char head[16 + HLI_COLL_HEADER_BYTES];
    memcpy(head, HLI_COLL_MAGIC, 8);
    put_le(head + 8, HLI_COLL_VERSION, 4);
    put_le(head + 12, HLI_COLL_HEADER_BYTES, 4);
    coll_header h;
    header_of(c, &h);
    encode_header(&h, head + 16);
    const size_t n = (size_t)c->n, nk = n * (size_t)c->k;
    st = w_bytes(&w, head, sizeof head);
    if (st == HL_OK)
        st = w_array(&w, c->alive, n, 1);
    if (st == HL_OK)
        st = w_array(&w, c->x, n * (size_t)c->d, 4);
    if (st == HL_OK)
        st = w_array(&w, c->knn, nk, 8);
    if (st == HL_OK)
        st = w_array(&w, c->knn_sim, nk, 4);
    if (st == HL_OK)
        st = w_array(&w, c->dens, n, 4);
    if (st == HL_OK)
        st = w_array(&w, c->parent, n, 8);
    if (st == HL_OK)
        st = w_array(&w, c->conf, n, 4);
    if (st == HL_OK)
        st = w_array(&w, c->tree_id, n, 8);
    if (st == HL_OK)
        st = w_array(&w, c->c_parent, (size_t)c->nc, 8);
    if (st == HL_OK && c->index.nlist > 0)
        st = w_array(&w, c->index.cent, (size_t)c->index.nlist * (size_t)c->d, 4);
    if (st == HL_OK && c->index.nlist > 0)
        st = w_array(&w, c->index.cell_of, n, 4);
    if (st == HL_OK) {
        unsigned char tail[4];
        put_le(tail, w.crc, 4);
        st = hli_atomic_write(&w.af, tail, 4);
    }
    free(w.buf);
    if (st != HL_OK) {
        hli_atomic_abort(&w.af);
        return st;
    }
    return hli_atomic_commit(&w.af);
}

/* ---- load ------------------------------------------------------------------- */

/* Bytes a file with header @p h has; 0 when the sizes overflow. */
static uint64_t expected_bytes(const coll_header *h)
{
    const uint64_t n = (uint64_t)h->n, d = (uint64_t)h->d, k = (uint64_t)h->k, nc = (uint64_t)h->nc;
    const uint64_t L = (uint64_t)h->index_nlist;
    /* bounds checked by the caller keep every product below 2^63 */
    uint64_t per_point = 1 + 4 * d + 12 * k + 4 + 8 + 4 + 8 + (L > 0 ? 4 : 0);
    return 16 + HLI_COLL_HEADER_BYTES + n * per_point + 8 * nc + 4 * L * d + 4;
}

static hl_status check_header(const char *path, const coll_header *h, const hl_model *model, uint64_t size)
{
    if (h->d < 1 || h->d > HLI_COLL_MAX_DIM || h->k < 2 || h->k > HLI_COLL_MAX_K || h->n < 0 ||
        h->n > ((int64_t)1 << 40) || h->live < 0 || h->live > h->n || h->nc < 0 || h->nc > ((int64_t)1 << 40) ||
        h->index_nlist < 0 || h->index_nlist > ((int64_t)1 << 24) || (h->index_nlist > 0 && h->index_nprobe < 1) ||
        h->index_nprobe > h->index_nlist)
        return hli_error(HL_ERANGE, "collection file '%s': sizes out of range (d %lld, k %lld, n %lld, clusters "
                         "%lld, cells %lld)", path, (long long)h->d, (long long)h->k, (long long)h->n,
                         (long long)h->nc, (long long)h->index_nlist);
    if (h->score != HL_SCORE_SIM && h->score != HL_SCORE_SNN && h->score != HL_SCORE_PROB)
        return hli_error(HL_EFORMAT, "collection file '%s': unknown score %d", path, (int)h->score);
    if (!(h->tau >= 0.0f && h->tau <= 1.0f) || !(h->merge >= 0.0f) || !isfinite(h->merge) ||
        h->has_model > 1 || h->knn_method < HL_KNN_AUTO || h->knn_method > HL_KNN_APPROX ||
        h->knn_auto_threshold < 0 || h->knn_nlist < 0 || h->knn_nprobe < 0 ||
        !(h->knn_target_recall > 0.0 && h->knn_target_recall <= 1.0) || h->early_stop < 0 || h->early_stop > 1)
        return hli_error(HL_EFORMAT, "collection file '%s': a setting is out of range", path);
    if (h->score == HL_SCORE_PROB && !h->has_model)
        return hli_error(HL_EFORMAT, "collection file '%s': score prob without a model", path);
    if (size != expected_bytes(h))
        return hli_error(HL_EFORMAT, "collection file '%s' has %llu bytes, its header says %llu (truncated or "
                         "extended)", path, (unsigned long long)size, (unsigned long long)expected_bytes(h));
    if ((model != NULL) != (h->has_model != 0))
        return hli_error(HL_EINVAL, "collection file '%s' was made %s a model but is loaded %s one", path,
                         h->has_model ? "with" : "without", model != NULL ? "with" : "without");
    if (model != NULL) {
        if (model->cfg.feature_dim != h->d)
            return hli_error(HL_EINVAL, "collection file '%s' holds d = %lld features but the model expects %lld",
                             path, (long long)h->d, (long long)model->cfg.feature_dim);
        if (hli_coll_model_crc(model) != h->model_crc)
            return hli_error(HL_EINVAL, "collection file '%s' was made with another model (fingerprint %08x, "
                             "this model %08x)", path, (unsigned)h->model_crc, (unsigned)hli_coll_model_crc(model));
    }
    return HL_OK;
}

/* Every stored value in range and consistent; HL_EFORMAT naming the first
 * that is not. */
static hl_status check_content(const char *path, const hl_collection *c)
{
    const int64_t n = c->n, k = c->k, d = c->d;
    int64_t live = 0;
    for (int64_t i = 0; i < n; i++) {
        if (c->alive[i] > 1)
            return hli_error(HL_EFORMAT, "collection file '%s': point %lld has a bad state", path, (long long)i);
        live += c->alive[i];
    }
    if (live != c->live)
        return hli_error(HL_EFORMAT, "collection file '%s': %lld live points, header says %lld", path,
                         (long long)live, (long long)c->live);
    /* merge targets: in range and resolved (every id points at a live one,
     * which points at itself, or is -1), as every update leaves them */
    for (int64_t a = 0; a < c->nc; a++) {
        const int64_t t = c->c_parent[a];
        if (t < -1 || t >= c->nc || (t >= 0 && c->c_parent[t] != t))
            return hli_error(HL_EFORMAT, "collection file '%s': cluster %lld has a bad merge target", path,
                             (long long)a);
    }
    for (int64_t i = 0; i < n; i++) {
        const int64_t *row = c->knn + i * k;
        const float *rs = c->knn_sim + i * k;
        if (!c->alive[i]) {
            for (int64_t t = 0; t < k; t++)
                if (row[t] != -1)
                    return hli_error(HL_EFORMAT, "collection file '%s': removed point %lld has neighbours", path,
                                     (long long)i);
            if (c->tree_id[i] != -1)
                return hli_error(HL_EFORMAT, "collection file '%s': removed point %lld has a cluster", path,
                                 (long long)i);
            continue;
        }
        if (row[0] != i)
            return hli_error(HL_EFORMAT, "collection file '%s': point %lld's list does not start with itself", path,
                             (long long)i);
        for (int64_t t = 0; t < k; t++) {
            if (row[t] < -1 || row[t] >= n || (row[t] >= 0 && !c->alive[row[t]]) || !(rs[t] >= -1.01f) ||
                !(rs[t] <= 1.01f))
                return hli_error(HL_EFORMAT, "collection file '%s': point %lld has a bad neighbour entry %lld", path,
                                 (long long)i, (long long)t);
            for (int64_t u = 0; u < t; u++)
                if (row[t] >= 0 && row[u] == row[t])
                    return hli_error(HL_EFORMAT, "collection file '%s': point %lld lists %lld twice", path,
                                     (long long)i, (long long)row[t]);
        }
        double ss = 0.0; /* stored rows are unit vectors (normalised, and again after the model's map) */
        for (int64_t q = 0; q < d; q++)
            ss += (double)c->x[i * d + q] * c->x[i * d + q];
        if (!(fabs(ss - 1.0) <= 1e-3))
            return hli_error(HL_EFORMAT, "collection file '%s': point %lld's stored features are not a unit "
                             "vector (squared norm %g)", path, (long long)i, ss);
        if (!isfinite(c->dens[i]) || !(c->conf[i] >= 0.0f && c->conf[i] <= 1.0f) || c->parent[i] < -1 ||
            c->parent[i] >= n || (c->parent[i] >= 0 && !c->alive[c->parent[i]]))
            return hli_error(HL_EFORMAT, "collection file '%s': point %lld has a bad density, confidence or parent",
                             path, (long long)i);
        if ((c->parent[i] < 0) != (c->tree_id[i] >= 0) || c->tree_id[i] < -1 || c->tree_id[i] >= c->nc)
            return hli_error(HL_EFORMAT, "collection file '%s': point %lld has a bad cluster", path, (long long)i);
        /* a parent is one of the point's in-neighbours and comes first in the
         * decode's order (density descending, then id), as every update
         * leaves it: so the parents form a forest */
        const int64_t p = c->parent[i];
        if (p >= 0) {
            int listed = 0;
            for (int64_t t = 1; t < k; t++)
                listed |= row[t] == p && rs[t] >= 0.0f;
            const float dp = c->dens[p], di = c->dens[i];
            if (!listed || !(dp > di || (dp == di && p < i)))
                return hli_error(HL_EFORMAT, "collection file '%s': point %lld's parent %lld is not a denser "
                                 "in-neighbour", path, (long long)i, (long long)p);
        }
        if (c->index.nlist > 0 && (c->index.cell_of[i] < 0 || c->index.cell_of[i] >= c->index.nlist))
            return hli_error(HL_EFORMAT, "collection file '%s': point %lld has a bad cell", path, (long long)i);
    }
    for (int64_t t = 0; t < c->index.nlist * d; t++)
        if (!isfinite(c->index.cent[t]))
            return hli_error(HL_EFORMAT, "collection file '%s': a cell centre is not finite", path);
    return HL_OK;
}

/* Rebuild what is not stored: reverse lists, cluster sizes and members, cells. */
static hl_status rebuild(hl_collection *c)
{
    const int64_t n = c->n, k = c->k;
    hl_status st = HL_OK;
    /* reverse lists: count, reserve each once, fill (one allocation per point) */
    int64_t *count = hli_calloc((size_t)(n > 0 ? n : 1), sizeof *count);
    if (count == NULL)
        return hl_last_error_status();
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < k; t++) {
            const int64_t e = c->knn[i * k + t];
            if (e >= 0 && e != i)
                count[e]++;
        }
    for (int64_t e = 0; e < n && st == HL_OK; e++)
        st = hli_idlist_reserve(&c->rev[e], count[e]);
    free(count);
    if (st != HL_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < k; t++) {
            const int64_t e = c->knn[i * k + t];
            if (e >= 0 && e != i)
                hli_idlist_push(&c->rev[e], i);
        }
    int64_t *path = hli_alloc((size_t)(n > 0 ? n : 1), sizeof *path);
    if (path == NULL)
        return hl_last_error_status();
    const int acyclic = hli_coll_roots(c, c->root, path);
    free(path);
    if (!acyclic)
        return hli_error(HL_EFORMAT, "collection file: the decode parents form a cycle");
    for (int64_t a = 0; a < c->nc; a++)
        c->c_root[a] = -1;
    for (int64_t i = 0; i < n; i++) {
        if (!c->alive[i] || c->parent[i] >= 0)
            continue;
        const int64_t t = c->tree_id[i];
        if (c->c_root[t] >= 0 || c->c_parent[t] < 0)
            return hli_error(HL_EFORMAT, "collection file: tree id %lld is carried twice or emptied", (long long)t);
        c->c_root[t] = i;
    }
    for (int64_t a = 0; a < c->nc; a++)
        c->c_size[a] = c->t_size[a] = 0;
    for (int64_t i = 0; i < n; i++) {
        c->cl[i] = -1;
        if (!c->alive[i])
            continue;
        c->t_size[c->tree_id[c->root[i]]]++;
        c->cl[i] = c->c_parent[c->tree_id[c->root[i]]];
        if (c->cl[i] < 0)
            return hli_error(HL_EFORMAT, "collection file: point %lld is in an emptied cluster", (long long)i);
        c->c_size[c->cl[i]]++;
    }
    for (int64_t a = 0; a < c->nc; a++)
        if (c->c_parent[a] == a && c->c_size[a] == 0)
            return hli_error(HL_EFORMAT, "collection file: cluster %lld is live but has no points", (long long)a);
    if (c->index.nlist > 0) {
        if ((c->index.cell = hli_calloc((size_t)c->index.nlist, sizeof *c->index.cell)) == NULL)
            return hl_last_error_status();
        for (int64_t i = 0; i < n && st == HL_OK; i++)
            if (c->alive[i] && (st = hli_idlist_reserve(&c->index.cell[c->index.cell_of[i]], 1)) == HL_OK)
                hli_idlist_push(&c->index.cell[c->index.cell_of[i]], i);
    }
    return st;
}

static hl_status load_arrays(crc_reader *r, hl_collection *c)
{
    const size_t n = (size_t)c->n, nk = n * (size_t)c->k;
    hl_status st = r_array(r, c->alive, n, 1);
    if (st == HL_OK)
        st = r_array(r, c->x, n * (size_t)c->d, 4);
    if (st == HL_OK)
        st = r_array(r, c->knn, nk, 8);
    if (st == HL_OK)
        st = r_array(r, c->knn_sim, nk, 4);
    if (st == HL_OK)
        st = r_array(r, c->dens, n, 4);
    if (st == HL_OK)
        st = r_array(r, c->parent, n, 8);
    if (st == HL_OK)
        st = r_array(r, c->conf, n, 4);
    if (st == HL_OK)
        st = r_array(r, c->tree_id, n, 8);
    if (st == HL_OK)
        st = r_array(r, c->c_parent, (size_t)c->nc, 8);
    if (st == HL_OK && c->index.nlist > 0)
        st = r_array(r, c->index.cent, (size_t)c->index.nlist * (size_t)c->d, 4);
    if (st == HL_OK && c->index.nlist > 0)
        st = r_array(r, c->index.cell_of, n, 4);
    if (st != HL_OK)
        return st;
    unsigned char tail[4];
    if (fread(tail, 1, 4, r->fp) != 4)
        return hli_error(HL_EFORMAT, "collection file '%s' is truncated", r->path);
    if ((uint32_t)get_le(tail, 4) != r->crc)
        return hli_error(HL_EFORMAT, "collection file '%s': checksum mismatch (stored %08x, computed %08x): the "
                         "file is corrupted", r->path, (unsigned)get_le(tail, 4), (unsigned)r->crc);
    return HL_OK;
}

/* A collection from a checked header: options, plan, empty arrays of the
 * right size. */
static hl_status collection_for_header(const coll_header *h, const hl_model *model, hl_collection **out)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = h->k;
    o.score = h->score;
    o.tau = h->tau;
    o.merge = h->merge;
    o.max_levels = 1;
    o.early_stop = h->early_stop;
    o.knn_method = h->knn_method;
    o.knn_auto_threshold = h->knn_auto_threshold;
    o.knn_nlist = h->knn_nlist;
    o.knn_nprobe = h->knn_nprobe;
    o.knn_target_recall = h->knn_target_recall;
    o.knn_seed = h->knn_seed;
    hl_collection *c = NULL;
    hl_status st = hl_collection_create(model, h->d, &o, &c);
    if (st != HL_OK)
        return st;
    c->plan.merge = h->merge; /* 0 = off, kept as stored */
    /* room for an eighth more points: a loaded collection is there to grow,
     * and room that is never written costs address space, not memory */
    if ((st = hli_coll_reserve(c, h->n > 0 ? h->n + h->n / 8 + 1 : 1)) != HL_OK ||
        (st = hli_coll_reserve_clusters(c, h->nc > 0 ? h->nc : 1)) != HL_OK)
        goto fail;
    c->n = h->n;
    c->live = h->live;
    c->nc = h->nc;
    if (h->index_nlist > 0) {
        c->index.nlist = h->index_nlist;
        c->index.nprobe = h->index_nprobe;
        c->index.cent = hli_alloc((size_t)h->index_nlist * (size_t)h->d, sizeof(float));
        c->index.cell_of = hli_alloc((size_t)c->cap, sizeof(int32_t));
        if (c->index.cent == NULL || c->index.cell_of == NULL) {
            st = hl_last_error_status();
            goto fail;
        }
    }
    *out = c;
    return HL_OK;
fail:
    hl_collection_free(c);
    return st;
}

hl_status hl_collection_load(const char *path, const hl_model *model, hl_collection **out)
{
    if (out == NULL)
        return hli_error(HL_EINVAL, "hl_collection_load: out is NULL");
    *out = NULL;
    FILE *fp = NULL;
    uint64_t size = 0;
    hl_status st = hli_file_open_read(path, &fp, &size);
    if (st != HL_OK)
        return st;
    crc_reader r = {fp, path, 0};
    unsigned char head[16 + HLI_COLL_HEADER_BYTES];
    hl_collection *c = NULL;
    if (size < sizeof head + 4 || fread(head, 1, sizeof head, fp) != sizeof head) {
        st = hli_error(HL_EFORMAT, "collection file '%s' is truncated (%llu bytes)", path, (unsigned long long)size);
        goto done;
    }
    if (memcmp(head, HLI_COLL_MAGIC, 8) != 0) {
        st = hli_error(HL_EFORMAT, "'%s' is not a collection file (bad magic)", path);
        goto done;
    }
    const uint32_t version = (uint32_t)get_le(head + 8, 4);
    if (version > HLI_COLL_VERSION) {
        st = hli_error(HL_EVERSION, "collection file '%s' has format version %u; this library reads up to %u", path,
                       (unsigned)version, HLI_COLL_VERSION);
        goto done;
    }
    if (version < 1 || get_le(head + 12, 4) != HLI_COLL_HEADER_BYTES) {
        st = hli_error(HL_EFORMAT, "collection file '%s': bad version %u or header size", path, (unsigned)version);
        goto done;
    }
    r.crc = hli_crc32(0, head, sizeof head);
    coll_header h;
    decode_header(head + 16, &h);
    for (size_t b = 124; b < HLI_COLL_HEADER_BYTES; b++)
        if (head[16 + b] != 0) {
            st = hli_error(HL_EFORMAT, "collection file '%s': reserved header bytes are not zero", path);
            goto done;
        }
    if ((st = check_header(path, &h, model, size)) != HL_OK)
        goto done;
    if ((st = collection_for_header(&h, model, &c)) != HL_OK)
        goto done;
    if ((st = load_arrays(&r, c)) != HL_OK || (st = check_content(path, c)) != HL_OK || (st = rebuild(c)) != HL_OK)
        goto done;
done:
    fclose(fp);
    if (st != HL_OK) {
        hl_collection_free(c);
        return st;
    }
    *out = c;
    return HL_OK;
}
