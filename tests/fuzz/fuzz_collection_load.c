/* libFuzzer target: hl_collection_load.
 *
 * Built twice.  fuzz_collection_load feeds the bytes as they are, so it
 * mostly exercises the magic, version, size and checksum checks.  With
 * HL_FUZZ_FIX_CRC (fuzz_collection_load_crc) the input is a collection file
 * WITHOUT its 4-byte CRC trailer and the harness appends the right CRC-32,
 * so that mutations reach the header and content checks behind the checksum.
 *
 * Each input is loaded without a model and, when that is refused as a file
 * made with one, with the model of the seeds (fuzz_collection_model.h).  A
 * collection it accepts must be consistent (every label an issued cluster id
 * or -1 exactly for the removed points, confidences in [0, 1], cluster sizes
 * that count the labels and sum to the points, representatives inside their
 * cluster), survive a save/load round trip unchanged, and then take a batch
 * of three points and the removal of one point as a collection made through
 * the API would, each result again consistent and again round-tripping: the
 * loader must not accept a state that later calls trip over, nor the
 * writer save one that the loader refuses. */
#include "fuzz_common.h"
#include "fuzz_collection_model.h"
#ifdef HL_FUZZ_FIX_CRC
#include "fuzz_crc32.h"
static uint8_t *fix_buf;
#endif

static hl_model *seed_model;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    seed_model = fz_collection_model();
    if (seed_model == NULL) {
        fprintf(stderr, "fuzz: cannot create the seeds' model: %s\n", hl_last_error());
        abort();
    }
#ifdef HL_FUZZ_FIX_CRC
    fix_buf = malloc(HL_FUZZ_MAX_INPUT + 4);
    if (fix_buf == NULL)
        abort();
    fz_init("collection-crc");
#else
    fz_init("collection");
#endif
    return 0;
}

/* Collections larger than this are checked only through their counts
 * (keeps each input fast; the loader accepted the sizes already). */
#define FZ_MAX_IDS 4096

/* Everything a collection reports, by id and by cluster id. */
typedef struct snapshot {
    int64_t d, n, bound, clusters, cbound;
    int64_t *label, *size, *rep, *into;
    float *conf;
} snapshot;

static void snap_free(snapshot *s)
{
    free(s->label);
    free(s->conf);
    free(s->size);
    free(s->rep);
    free(s->into);
    memset(s, 0, sizeof *s);
}

/* Take the snapshot and check the invariants of hilander/collection.h;
 * @return 0, or -1 when the collection is too large to list. */
static int snap_take(const hl_collection *c, snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->d = hl_collection_dimension(c);
    s->n = hl_collection_num_points(c);
    s->bound = hl_collection_id_bound(c);
    s->clusters = hl_collection_num_clusters(c);
    s->cbound = hl_collection_cluster_bound(c);
    FZ_REQUIRE(s->d >= 1);
    FZ_REQUIRE(s->n >= 0 && s->n <= s->bound);
    FZ_REQUIRE(s->clusters >= 0 && s->clusters <= s->cbound && s->clusters <= s->n);
    FZ_REQUIRE((s->n == 0) == (s->clusters == 0));
    if (s->bound > FZ_MAX_IDS || s->cbound > FZ_MAX_IDS)
        return -1;
    const size_t nb = (size_t)s->bound + 1, nc = (size_t)s->cbound + 1;
    s->label = malloc(nb * sizeof *s->label);
    s->conf = malloc(nb * sizeof *s->conf);
    s->size = malloc(nc * sizeof *s->size);
    s->rep = malloc(nc * sizeof *s->rep);
    s->into = malloc(nc * sizeof *s->into);
    FZ_REQUIRE(s->label && s->conf && s->size && s->rep && s->into);
    FZ_REQUIRE(hl_collection_labels(c, s->label, s->conf) == HL_OK);
    FZ_REQUIRE(hl_collection_clusters(c, s->size, s->rep, s->into) == HL_OK);

    int64_t removed = 0, live = 0, sum = 0;
    int64_t *count = calloc(nc, sizeof *count);
    FZ_REQUIRE(count != NULL);
    for (int64_t p = 0; p < s->bound; p++) {
        const int64_t l = s->label[p];
        FZ_REQUIRE(l >= -1 && l < s->cbound);
        FZ_REQUIRE(s->conf[p] >= 0.0f && s->conf[p] <= 1.0f); /* also refuses NaN */
        if (l == -1) {
            removed++;
            FZ_REQUIRE(s->conf[p] == 0.0f);
            FZ_REQUIRE(hl_collection_point(c, p, NULL, NULL) == HL_EINVAL);
        } else {
            count[l]++;
            int64_t pc = -2;
            float pf = -1.0f;
            FZ_REQUIRE(hl_collection_point(c, p, &pc, &pf) == HL_OK);
            FZ_REQUIRE(pc == l && pf == s->conf[p]);
        }
    }
    FZ_REQUIRE(hl_collection_point(c, s->bound, NULL, NULL) == HL_EINVAL);
    FZ_REQUIRE(hl_collection_point(c, -1, NULL, NULL) == HL_EINVAL);
    FZ_REQUIRE(removed == s->bound - s->n);
    for (int64_t k = 0; k < s->cbound; k++) {
        FZ_REQUIRE(s->size[k] == count[k]);
        sum += s->size[k];
        if (s->size[k] > 0) {
            live++;
            FZ_REQUIRE(s->into[k] == k);
            FZ_REQUIRE(s->rep[k] >= 0 && s->rep[k] < s->bound && s->label[s->rep[k]] == k);
        } else {
            FZ_REQUIRE(s->rep[k] == -1);
            FZ_REQUIRE(s->into[k] != k && s->into[k] >= -1 && s->into[k] < s->cbound);
        }
    }
    free(count);
    FZ_REQUIRE(sum == s->n);
    FZ_REQUIRE(live == s->clusters);
    return 0;
}

static void snap_same(const snapshot *a, const snapshot *b)
{
    FZ_REQUIRE(a->d == b->d && a->n == b->n && a->bound == b->bound && a->clusters == b->clusters &&
               a->cbound == b->cbound);
    if (a->label == NULL || b->label == NULL)
        return;
    const size_t nb = (size_t)a->bound, nc = (size_t)a->cbound;
    FZ_REQUIRE(memcmp(a->label, b->label, nb * sizeof *a->label) == 0);
    FZ_REQUIRE(memcmp(a->conf, b->conf, nb * sizeof *a->conf) == 0);
    FZ_REQUIRE(memcmp(a->size, b->size, nc * sizeof *a->size) == 0);
    FZ_REQUIRE(memcmp(a->rep, b->rep, nc * sizeof *a->rep) == 0);
    FZ_REQUIRE(memcmp(a->into, b->into, nc * sizeof *a->into) == 0);
}

/* Load fz_path without a model and, if refused as made with one, with the seeds' model. */
static hl_collection *load(const char *path, const hl_model **model)
{
    hl_collection *c = NULL;
    *model = NULL;
    hl_status st = hl_collection_load(path, NULL, &c);
    fz_check_error(st);
    if (st == HL_EINVAL) {
        FZ_REQUIRE(c == NULL);
        st = hl_collection_load(path, seed_model, &c);
        fz_check_error(st);
        *model = seed_model;
    }
    if (st != HL_OK) {
        FZ_REQUIRE(c == NULL);
        return NULL;
    }
    FZ_REQUIRE(c != NULL);
    return c;
}

/* Save @p c, load the file again: it must load, and report exactly @p s. */
static void round_trip(const hl_collection *c, const hl_model *model, const snapshot *s)
{
    FZ_REQUIRE(hl_collection_save(c, fz_path2) == HL_OK);
    hl_collection *c2 = NULL;
    hl_status st = hl_collection_load(fz_path2, model, &c2);
    if (st != HL_OK)
        fprintf(stderr, "fuzz: reload failed: %s\n", hl_last_error());
    FZ_REQUIRE(st == HL_OK && c2 != NULL);
    snapshot s2;
    snap_take(c2, &s2);
    snap_same(s, &s2);
    snap_free(&s2);
    hl_collection_free(c2);
}

/* Add three points and remove one, as an application would next; each
 * result must again save and load. */
static void exercise(hl_collection *c, const hl_model *model, const snapshot *before)
{
    const int64_t d = before->d;
    if (d > 4096)
        return;
    enum { N = 3 };
    float *x = calloc((size_t)(N * d), sizeof(float));
    FZ_REQUIRE(x != NULL);
    for (int64_t i = 0; i < N; i++) {
        x[i * d + (i % d)] = 1.0f;
        x[i * d + ((i + 1) % d)] += 0.25f;
    }
    hl_collection_stats stats;
    FZ_REQUIRE(hl_collection_stats_init(&stats, sizeof stats) == HL_OK);
    int64_t first = -1;
    hl_status st = hl_collection_add(c, x, N, d, &first, &stats);
    free(x);
    fz_check_error(st);
    snapshot after;
    if (st != HL_OK) {
        /* refused: nothing changed; a loaded collection must take valid rows */
        FZ_REQUIRE(st == HL_ENOMEM || st == HL_ERANGE);
        if (snap_take(c, &after) == 0)
            snap_same(before, &after);
        snap_free(&after);
        return;
    }
    FZ_REQUIRE(first == before->bound);
    FZ_REQUIRE(stats.added == N && stats.removed == 0);
    FZ_REQUIRE(stats.joined >= 0 && stats.joined <= N && stats.started >= 0 && stats.started <= N);
    FZ_REQUIRE(stats.merged >= 0 && stats.merged <= before->clusters && stats.moved >= 0 &&
               stats.moved <= before->n);
    if (snap_take(c, &after) == 0) {
        FZ_REQUIRE(after.bound == before->bound + N && after.n == before->n + N);
        int64_t in_old = 0;
        for (int64_t p = first; p < first + N; p++) {
            FZ_REQUIRE(after.label[p] >= 0);
            in_old += after.label[p] < before->cbound;
        }
        FZ_REQUIRE(in_old == stats.joined);
        round_trip(c, model, &after);
        /* the removal of the first point still present */
        int64_t victim = 0;
        while (after.label[victim] < 0)
            victim++;
        FZ_REQUIRE(hl_collection_stats_init(&stats, sizeof stats) == HL_OK);
        st = hl_collection_remove(c, &victim, 1, &stats);
        fz_check_error(st);
        FZ_REQUIRE(st == HL_OK || st == HL_ENOMEM);
        if (st == HL_OK) {
            FZ_REQUIRE(stats.removed == 1);
            snapshot gone;
            FZ_REQUIRE(snap_take(c, &gone) == 0);
            FZ_REQUIRE(gone.n == after.n - 1 && gone.label[victim] == -1);
            round_trip(c, model, &gone);
            snap_free(&gone);
        }
    }
    snap_free(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HL_FUZZ_MAX_INPUT)
        return 0;
#ifdef HL_FUZZ_FIX_CRC
    memcpy(fix_buf, data, size);
    fz_write(fix_buf, fz_append_crc32(fix_buf, size));
#else
    fz_write(data, size);
#endif
    const hl_model *model;
    hl_collection *c = load(fz_path, &model);
    if (c == NULL)
        return 0;
    FZ_REQUIRE(hl_collection_set_num_threads(c, 1) == HL_OK);
    snapshot s;
    const int listed = snap_take(c, &s) == 0;
    round_trip(c, model, &s);
    if (listed)
        exercise(c, model, &s);
    snap_free(&s);
    hl_collection_free(c);
    return 0;
}
