/* hilander collection: a clustering kept in a file that grows batch by batch
 * (hilander/collection.h).
 *
 *   hilander collection create FEATURES.npy -o COLL [--model M.hlm] [cluster options]
 *   hilander collection add    COLL BATCH.npy [--model M.hlm] [--threads T]
 *   hilander collection remove COLL (--ids IDS.npy | --id N ...) [--model M.hlm]
 *   hilander collection info   COLL [--model M.hlm] [--top N]
 *   hilander collection export COLL -o L.npy [--confidence-out C.npy] [--clusters-out S.npy]
 *
 * Every action that changes the collection loads it, changes it in memory
 * and saves it back with hl_collection_save, which writes a temporary file
 * and renames it over COLL: a refused batch, a bad id or a failed write
 * leaves the file as it was. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The action names double as the command names in messages and help
 * ("hilander collection add: ..."). */
#define CMD_CREATE "collection create"
#define CMD_ADD "collection add"
#define CMD_REMOVE "collection remove"
#define CMD_INFO "collection info"
#define CMD_EXPORT "collection export"

/* --id may be repeated up to this many times (more ids: --ids IDS.npy). */
#define MAX_CLI_IDS 1024

/* ---- shared steps ------------------------------------------------------------ */

static int load_model(const char *cmd, const char *path, hl_model **model)
{
    *model = NULL;
    if (!path)
        return 0;
    hl_status st = hl_model_load(path, model);
    if (st != HL_OK) {
        fprintf(stderr, "hilander %s: cannot load model '%s': %s\n", cmd, path, hl_last_error());
        return cli_read_status(st);
    }
    return 0;
}

/* Load COLL; a file of another model (or made with/without one) is the
 * library's HL_EINVAL, which is a data error like a corrupt file. */
static int load_collection(const char *cmd, const char *path, const hl_model *model, hl_collection **c)
{
    hl_status st = hl_collection_load(path, model, c);
    if (st != HL_OK) {
        fprintf(stderr, "hilander %s: cannot load collection '%s': %s\n", cmd, path, hl_last_error());
        return cli_read_status(st);
    }
    return 0;
}

static int save_collection(const char *cmd, const hl_collection *c, const char *path)
{
    hl_status st = hl_collection_save(c, path);
    if (st != HL_OK) {
        fprintf(stderr, "hilander %s: cannot save collection '%s': %s\n", cmd, path, hl_last_error());
        return cli_read_status(st);
    }
    return 0;
}

static void *alloc_array(const char *cmd, int64_t n, size_t size)
{
    void *p = NULL;
    if (n >= 0 && (uint64_t)n <= SIZE_MAX / size)
        p = malloc(n > 0 ? (size_t)n * size : 1);
    if (!p)
        fprintf(stderr, "hilander %s: out of memory for %lld entries\n", cmd, (long long)n);
    return p;
}

static void print_totals(const hl_collection *c, double secs)
{
    printf("total:    %lld points in %lld clusters (dimension %lld, id bound %lld), %.2f s\n",
           (long long)hl_collection_num_points(c), (long long)hl_collection_num_clusters(c),
           (long long)hl_collection_dimension(c), (long long)hl_collection_id_bound(c), secs);
}

/* Add the rows of @p feat to @p c and print what changed.  The split of the
 * batch (joined a cluster that held points before / in a cluster started
 * now) is counted from the labels after the call, against the clusters that
 * held points before it, and printed beside the library's own counts, so
 * each checks the other. */
static int add_batch(const char *cmd, hl_collection *c, const char *feat, const float *x, int64_t n, int64_t d)
{
    const int64_t dim = hl_collection_dimension(c);
    if (d != dim)
        return cli_data_error(cmd, "'%s' has %lld columns but the collection holds %lld-dimensional points", feat,
                              (long long)d, (long long)dim);
    /* the clusters that hold points before the call (merged_into[a] == a) */
    const int64_t old_clusters = hl_collection_cluster_bound(c);
    int64_t *held = alloc_array(cmd, old_clusters > 0 ? old_clusters : 1, sizeof *held);
    if (!held)
        return CLI_EXIT_RUNTIME;
    hl_status hst = hl_collection_clusters(c, NULL, NULL, held);
    if (hst != HL_OK) {
        free(held);
        return cli_lib_error(cmd, "clusters", hst);
    }
    hl_collection_stats stats;
    hl_collection_stats_init(&stats, sizeof stats);
    int64_t first = -1;
    hl_status st = hl_collection_add(c, x, n, d, &first, &stats);
    if (st != HL_OK) {
        free(held);
        return cli_lib_error(cmd, feat, st);
    }
    const int64_t bound = hl_collection_id_bound(c);
    int64_t *labels = alloc_array(cmd, bound, sizeof *labels);
    if (!labels) {
        free(held);
        return CLI_EXIT_RUNTIME;
    }
    if ((st = hl_collection_labels(c, labels, NULL)) != HL_OK) {
        free(labels);
        free(held);
        return cli_lib_error(cmd, "labels", st);
    }
    int64_t in_old = 0, in_new = 0;
    for (int64_t p = first; p >= 0 && p < first + n && p < bound; p++) {
        if (labels[p] >= 0 && labels[p] < old_clusters && held[labels[p]] == labels[p])
            in_old++;
        else if (labels[p] >= 0)
            in_new++;
    }
    free(labels);
    free(held);
    printf("added:    %lld points, ids %lld..%lld\n", (long long)stats.added, (long long)first,
           (long long)(first + n - 1));
    printf("joined:   %lld points joined existing clusters\n", (long long)stats.joined);
    printf("started:  %lld clusters (%lld points)\n", (long long)stats.started, (long long)in_new);
    printf("merged:   %lld clusters (%lld existing points moved)\n", (long long)stats.merged,
           (long long)stats.moved);
    printf("relinked: %lld existing points\n", (long long)stats.relinked);
    if (in_old != stats.joined || in_old + in_new != n)
        fprintf(stderr,
                "hilander %s: warning: the labels put %lld new points in existing clusters and %lld in new "
                "ones; the library reports %lld joined of %lld\n",
                cmd, (long long)in_old, (long long)in_new, (long long)stats.joined, (long long)n);
    return 0;
}

/* ---- create -------------------------------------------------------------------- */

static int collection_create(int argc, char **argv)
{
    const char *const CMD = CMD_CREATE;
    const char *mpath = NULL, *out = NULL;
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    int score = o.score, method = o.knn_method; /* choices in enum order */
    int64_t threads = o.num_threads;
    double tau = o.tau, merge = o.merge;
    char h_method[112];
    snprintf(h_method, sizeof h_method, "kNN search (default auto: exact up to %lld points, IVF above)",
             (long long)o.knn_auto_threshold);
    const cli_opt opts[] = {
        {.name = "out", .short_name = 'o', .kind = CLI_STR, .dst = &out, .metavar = "COLL",
         .help = "output: the collection file (required)", .error = "--out needs a file name"},
        {.name = "model", .kind = CLI_STR, .dst = &mpath, .metavar = "M.hlm",
         .help = "a trained model (default: the unsupervised scores)", .error = "--model needs a file name"},
        {.name = "k", .short_name = 'k', .kind = CLI_INT, .dst = &o.k, .metavar = "K", .ilo = 2, .ihi = INT64_MAX,
         .help = "neighbours per point, self included (default 10)", .error = "--k needs an integer >= 2"},
        {.name = "tau", .kind = CLI_REAL, .dst = &tau, .metavar = "T", .lo = 0, .hi = 1,
         .help = "edge score threshold (default: the model's, snn 0.45, sim 0.875)",
         .error = "--tau must be a number in [0, 1]"},
        {.name = "score", .kind = CLI_CHOICE, .dst = &score, .metavar = "prob|sim|snn", .choices = "prob|sim|snn",
         .help = "edge score (default: the model's, else snn)", .error = "--score must be prob, sim or snn"},
        {.name = "merge", .kind = CLI_REAL, .dst = &merge, .metavar = "M", .lo = 0, .hi = 1e30,
         .help = "linkage merge threshold, 0 = off (default: the model's, snn 1.2)",
         .error = "--merge must be a number >= 0 (0 = off)"},
        {.name = "method", .kind = CLI_CHOICE, .dst = &method, .metavar = "exact|approx|auto",
         .choices = "auto|exact|approx", .help = h_method, .error = "--method must be exact, approx or auto"},
        {.name = "nlist", .kind = CLI_INT, .dst = &o.knn_nlist, .metavar = "N", .ilo = 0, .ihi = INT64_MAX,
         .help = "IVF cells, 0 = automatic (default 0)", .error = "--nlist needs an integer >= 0 (0 = automatic)"},
        {.name = "nprobe", .kind = CLI_INT, .dst = &o.knn_nprobe, .metavar = "P", .ilo = 0, .ihi = INT64_MAX,
         .help = "IVF cells scanned per query, 0 = calibrated (default 0)",
         .error = "--nprobe needs an integer >= 0 (0 = calibrated)"},
        {.name = "threads", .kind = CLI_INT, .dst = &threads, .metavar = "T", .ilo = 0, .ihi = 4096,
         .help = "threads, 0 = all cores (default 0); never changes results",
         .error = "--threads needs an integer in [0, 4096]"},
        {0}};
    const cli_command cmd = {
        CMD, "FEATURES.npy -o COLL [--model M.hlm] [--k 10] [--tau T]\n"
             "                                  [--score prob|sim|snn] [--merge M]\n"
             "                                  [--method exact|approx|auto] [--nlist N] [--nprobe P]\n"
             "                                  [--threads T]",
        "Create the collection file COLL from the rows of FEATURES.npy (float32,\n"
        "N x D): they become points 0..N-1, clustered as 'hilander cluster' clusters\n"
        "them with one level and the linkage merge.  The options are those of\n"
        "'hilander cluster'; they are stored in COLL and used for every later batch.\n"
        "A collection made with --model must be given the same model afterwards.\n",
        opts, 1};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos < 1)
        return cli_usage_error(CMD, "missing FEATURES.npy");
    if (!out)
        return cli_usage_error(CMD, "-o COLL is required");
    o.tau = (float)tau;
    o.merge = (float)merge;
    o.score = score;
    o.knn_method = method;
    o.num_threads = (int32_t)threads;
    if (o.score == HL_SCORE_PROB && !mpath)
        return cli_usage_error(CMD, "--score prob needs --model (without a model use sim or snn)");

    const char *feat = pos[0];
    float *x = NULL;
    int64_t n, d;
    hl_model *model = NULL;
    hl_collection *c = NULL;
    hl_status st;
    if ((rc = load_model(CMD, mpath, &model)) != 0)
        return rc;
    if ((rc = cli_read_features(CMD, feat, &x, &n, &d)) != 0)
        goto done;
    if (model) {
        hl_model_config cfg;
        hl_model_config_init(&cfg, sizeof cfg);
        if ((st = hl_model_get_config(model, &cfg)) != HL_OK) {
            rc = cli_lib_error(CMD, mpath, st);
            goto done;
        }
        if (cfg.feature_dim != d) {
            rc = cli_data_error(CMD, "the model '%s' expects %lld-dimensional features but '%s' has %lld columns",
                                mpath, (long long)cfg.feature_dim, feat, (long long)d);
            goto done;
        }
    }
    double t0 = cli_now();
    if ((st = hl_collection_create(model, d, &o, &c)) != HL_OK) {
        rc = cli_lib_error(CMD, "cannot create the collection", st);
        goto done;
    }
    if ((rc = add_batch(CMD, c, feat, x, n, d)) != 0 || (rc = save_collection(CMD, c, out)) != 0)
        goto done;
    print_totals(c, cli_now() - t0);
done:
    hl_collection_free(c);
    hl_model_free(model);
    hl_free(x);
    return rc;
}

/* ---- add ------------------------------------------------------------------------- */

static int collection_add(int argc, char **argv)
{
    const char *const CMD = CMD_ADD;
    const char *mpath = NULL;
    int64_t threads = 0;
    const cli_opt opts[] = {
        {.name = "model", .kind = CLI_STR, .dst = &mpath, .metavar = "M.hlm",
         .help = "the model the collection was created with", .error = "--model needs a file name"},
        {.name = "threads", .kind = CLI_INT, .dst = &threads, .metavar = "T", .ilo = 0, .ihi = 4096,
         .help = "threads, 0 = all cores (default 0); never changes results",
         .error = "--threads needs an integer in [0, 4096]"},
        {0}};
    const cli_command cmd = {
        CMD, "COLL BATCH.npy [--model M.hlm] [--threads T]",
        "Add the rows of BATCH.npy (float32, N x D) to the collection COLL and save\n"
        "it back over COLL.  The new points get the next N point ids.  Prints how\n"
        "many joined existing clusters, the clusters they started, the existing\n"
        "clusters the batch merged and the existing points that moved with them.\n"
        "A refused batch (another dimension, a NaN or zero row) leaves COLL as it was.\n",
        opts, 2};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos < 2)
        return cli_usage_error(CMD, "needs COLL and BATCH.npy");
    const char *coll = pos[0], *feat = pos[1];
    hl_model *model = NULL;
    hl_collection *c = NULL;
    float *x = NULL;
    int64_t n, d;
    if ((rc = load_model(CMD, mpath, &model)) != 0)
        return rc;
    if ((rc = load_collection(CMD, coll, model, &c)) != 0 || (rc = cli_read_features(CMD, feat, &x, &n, &d)) != 0)
        goto done;
    hl_status st = hl_collection_set_num_threads(c, (int32_t)threads);
    if (st != HL_OK) {
        rc = cli_lib_error(CMD, "threads", st);
        goto done;
    }
    double t0 = cli_now();
    if ((rc = add_batch(CMD, c, feat, x, n, d)) != 0 || (rc = save_collection(CMD, c, coll)) != 0)
        goto done;
    print_totals(c, cli_now() - t0);
done:
    hl_collection_free(c);
    hl_model_free(model);
    hl_free(x);
    return rc;
}

/* ---- remove ---------------------------------------------------------------------- */

static int collection_remove(int argc, char **argv)
{
    const char *const CMD = CMD_REMOVE;
    const char *mpath = NULL, *ids_path = NULL;
    int64_t cli_ids[MAX_CLI_IDS];
    int num_cli_ids = 0;
    const cli_opt opts[] = {
        {.name = "ids", .kind = CLI_STR, .dst = &ids_path, .metavar = "IDS.npy",
         .help = "point ids to remove, int32 or int64 vector", .error = "--ids needs a file name"},
        {.name = "id", .kind = CLI_LIST, .dst = cli_ids, .metavar = "N[,N...]", .ilo = 0, .ihi = INT64_MAX,
         .max_count = MAX_CLI_IDS, .count = &num_cli_ids, .append = 1,
         .help = "a point id to remove; may be repeated", .error = "--id needs point ids >= 0 (at most 1024)"},
        {.name = "model", .kind = CLI_STR, .dst = &mpath, .metavar = "M.hlm",
         .help = "the model the collection was created with", .error = "--model needs a file name"},
        {0}};
    const cli_command cmd = {
        CMD, "COLL (--ids IDS.npy | --id N [--id N ...]) [--model M.hlm]",
        "Remove points by id from the collection COLL and save it back over COLL.\n"
        "The other points keep their ids and clusters; ids are never reused.  An id\n"
        "that was never issued, is already removed or is listed twice refuses the\n"
        "whole call and leaves COLL as it was.\n",
        opts, 1};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos < 1)
        return cli_usage_error(CMD, "missing COLL");
    if (!ids_path && num_cli_ids == 0)
        return cli_usage_error(CMD, "--ids IDS.npy or --id N is required");
    if (ids_path && num_cli_ids > 0)
        return cli_usage_error(CMD, "give --ids or --id, not both");
    const char *coll = pos[0];
    hl_model *model = NULL;
    hl_collection *c = NULL;
    int64_t *file_ids = NULL, n = num_cli_ids;
    const int64_t *ids = cli_ids;
    if (ids_path) {
        if ((rc = cli_read_labels(CMD, ids_path, &file_ids, &n)) != 0)
            return rc;
        if (n < 1) {
            hl_free(file_ids);
            return cli_data_error(CMD, "'%s' holds no ids", ids_path);
        }
        ids = file_ids;
    }
    if ((rc = load_model(CMD, mpath, &model)) != 0 || (rc = load_collection(CMD, coll, model, &c)) != 0)
        goto done;
    const int64_t clusters_before = hl_collection_num_clusters(c);
    hl_collection_stats stats;
    hl_collection_stats_init(&stats, sizeof stats);
    double t0 = cli_now();
    hl_status st = hl_collection_remove(c, ids, n, &stats);
    if (st != HL_OK) {
        rc = cli_lib_error(CMD, "cannot remove", st);
        goto done;
    }
    if ((rc = save_collection(CMD, c, coll)) != 0)
        goto done;
    /* clusters stop holding points by losing all of them or by a merge (the
     * refilled neighbour lists may tie clusters together); a cluster whose
     * tree lost its peak may also split, starting a new id */
    const int64_t emptied = clusters_before + stats.started - stats.merged - hl_collection_num_clusters(c);
    printf("removed:  %lld points\n", (long long)stats.removed);
    printf("emptied:  %lld clusters\n", (long long)emptied);
    printf("merged:   %lld clusters (%lld points moved)\n", (long long)stats.merged, (long long)stats.moved);
    printf("started:  %lld clusters (split off)\n", (long long)stats.started);
    printf("relinked: %lld points\n", (long long)stats.relinked);
    print_totals(c, cli_now() - t0);
done:
    hl_collection_free(c);
    hl_model_free(model);
    hl_free(file_ids);
    return rc;
}

/* ---- info ------------------------------------------------------------------------ */

/* Cluster ids by decreasing size, ties to the smaller id. */
static const int64_t *sort_sizes;
static int by_size_desc(const void *a, const void *b)
{
    int64_t ia = *(const int64_t *)a, ib = *(const int64_t *)b;
    if (sort_sizes[ia] != sort_sizes[ib])
        return sort_sizes[ia] > sort_sizes[ib] ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

static int collection_info(int argc, char **argv)
{
    const char *const CMD = CMD_INFO;
    const char *mpath = NULL;
    int64_t top = 10;
    const cli_opt opts[] = {
        {.name = "model", .kind = CLI_STR, .dst = &mpath, .metavar = "M.hlm",
         .help = "the model the collection was created with", .error = "--model needs a file name"},
        {.name = "top", .kind = CLI_INT, .dst = &top, .metavar = "N", .ilo = 0, .ihi = INT64_MAX,
         .help = "list the N largest clusters, 0 = all (default 10)", .error = "--top needs an integer >= 0"},
        {0}};
    const cli_command cmd = {
        CMD, "COLL [--model M.hlm] [--top N]",
        "Print the dimension, points, point id bound and clusters of the collection\n"
        "COLL, and its largest clusters with their size and representative (the\n"
        "point id of their densest point).\n",
        opts, 1};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos < 1)
        return cli_usage_error(CMD, "missing COLL");
    const char *coll = pos[0];
    hl_model *model = NULL;
    hl_collection *c = NULL;
    int64_t *sizes = NULL, *reps = NULL, *into = NULL, *order = NULL;
    if ((rc = load_model(CMD, mpath, &model)) != 0 || (rc = load_collection(CMD, coll, model, &c)) != 0)
        goto done;
    const int64_t nc = hl_collection_cluster_bound(c), np = hl_collection_num_points(c);
    const int64_t bound = hl_collection_id_bound(c), live = hl_collection_num_clusters(c);
    if (!(sizes = alloc_array(CMD, nc, sizeof *sizes)) || !(reps = alloc_array(CMD, nc, sizeof *reps)) ||
        !(into = alloc_array(CMD, nc, sizeof *into)) || !(order = alloc_array(CMD, nc, sizeof *order))) {
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    hl_status st = hl_collection_clusters(c, sizes, reps, into);
    if (st != HL_OK) {
        rc = cli_lib_error(CMD, "clusters", st);
        goto done;
    }
    int64_t merged = 0, emptied = 0, listed = 0;
    for (int64_t i = 0; i < nc; i++) {
        if (into[i] == -1)
            emptied++;
        else if (into[i] != i)
            merged++;
        else
            order[listed++] = i;
    }
    printf("collection:  %s\n", coll);
    printf("dimension:   %lld\n", (long long)hl_collection_dimension(c));
    printf("points:      %lld\n", (long long)np);
    printf("id bound:    %lld (%lld removed)\n", (long long)bound, (long long)(bound - np));
    printf("clusters:    %lld\n", (long long)live);
    printf("cluster ids: %lld issued, %lld merged into others, %lld emptied by removals\n", (long long)nc,
           (long long)merged, (long long)emptied);
    sort_sizes = sizes;
    qsort(order, (size_t)listed, sizeof *order, by_size_desc);
    if (top == 0 || top > listed)
        top = listed;
    if (top > 0)
        printf("%s %lld clusters:\n%10s %10s %15s\n", top == listed ? "all" : "largest", (long long)top, "cluster",
               "size", "representative");
    for (int64_t i = 0; i < top; i++)
        printf("%10lld %10lld %15lld\n", (long long)order[i], (long long)sizes[order[i]],
               (long long)reps[order[i]]);
done:
    hl_collection_free(c);
    hl_model_free(model);
    free(sizes);
    free(reps);
    free(into);
    free(order);
    return rc;
}

/* ---- export ---------------------------------------------------------------------- */

static int collection_export(int argc, char **argv)
{
    const char *const CMD = CMD_EXPORT;
    const char *mpath = NULL, *out = NULL, *cout = NULL, *sout = NULL;
    const cli_opt opts[] = {
        {.name = "labels-out", .short_name = 'o', .kind = CLI_STR, .dst = &out, .metavar = "L.npy",
         .help = "output: per point id its cluster id, -1 if removed, int64 (required)",
         .error = "--labels-out needs a file name"},
        {.name = "confidence-out", .kind = CLI_STR, .dst = &cout, .metavar = "C.npy",
         .help = "output: per point id the score of the link that attached it, float32 N x 1",
         .error = "--confidence-out needs a file name"},
        {.name = "clusters-out", .kind = CLI_STR, .dst = &sout, .metavar = "S.npy",
         .help = "output: per cluster id size, representative, merged into, int64 C x 3",
         .error = "--clusters-out needs a file name"},
        {.name = "model", .kind = CLI_STR, .dst = &mpath, .metavar = "M.hlm",
         .help = "the model the collection was created with", .error = "--model needs a file name"},
        {0}};
    const cli_command cmd = {
        CMD, "COLL -o L.npy [--confidence-out C.npy] [--clusters-out S.npy]\n"
             "                                  [--model M.hlm]",
        "Write the labels of the collection COLL, indexed by point id (N = the id\n"
        "bound): L.npy int64 (N,), the cluster id of every point (merges followed),\n"
        "-1 for a removed point; C.npy float32 (N, 1), the confidence in [0, 1]\n"
        "(0 for a removed point); S.npy int64 (C, 3), for every cluster id ever\n"
        "issued its size, representative point id (-1 when empty) and the cluster\n"
        "now holding its points (itself; another after a merge; -1 when emptied).\n",
        opts, 1};
    char **pos;
    int npos;
    int rc = cli_parse(&cmd, argc, argv, &pos, &npos);
    if (rc >= 0)
        return rc;
    if (npos < 1)
        return cli_usage_error(CMD, "missing COLL");
    if (!out)
        return cli_usage_error(CMD, "-o L.npy is required");
    const char *coll = pos[0];
    hl_model *model = NULL;
    hl_collection *c = NULL;
    int64_t *labels = NULL, *table = NULL, *sizes = NULL, *reps = NULL, *into = NULL;
    float *conf = NULL;
    hl_status st;
    if ((rc = load_model(CMD, mpath, &model)) != 0 || (rc = load_collection(CMD, coll, model, &c)) != 0)
        goto done;
    const int64_t bound = hl_collection_id_bound(c), nc = hl_collection_cluster_bound(c);
    if (bound < 1) {
        rc = cli_data_error(CMD, "the collection '%s' holds no point ids", coll);
        goto done;
    }
    if (!(labels = alloc_array(CMD, bound, sizeof *labels)) ||
        (cout && !(conf = alloc_array(CMD, bound, sizeof *conf)))) {
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    if ((st = hl_collection_labels(c, labels, conf)) != HL_OK) {
        rc = cli_lib_error(CMD, "labels", st);
        goto done;
    }
    if (sout) {
        if (nc < 1 || (uint64_t)nc > INT64_MAX / 3) {
            rc = cli_data_error(CMD, "the collection '%s' has no cluster ids to write", coll);
            goto done;
        }
        if (!(table = alloc_array(CMD, 3 * nc, sizeof *table)) || !(sizes = alloc_array(CMD, nc, sizeof *sizes)) ||
            !(reps = alloc_array(CMD, nc, sizeof *reps)) || !(into = alloc_array(CMD, nc, sizeof *into))) {
            rc = CLI_EXIT_RUNTIME;
            goto done;
        }
        if ((st = hl_collection_clusters(c, sizes, reps, into)) != HL_OK) {
            rc = cli_lib_error(CMD, "clusters", st);
            goto done;
        }
        for (int64_t i = 0; i < nc; i++) {
            table[3 * i] = sizes[i];
            table[3 * i + 1] = reps[i];
            table[3 * i + 2] = into[i];
        }
    }
    if ((st = hl_npy_write_i64(out, labels, bound, 0)) != HL_OK)
        rc = cli_lib_error(CMD, out, st);
    else if (cout && (st = hl_npy_write_f32(cout, conf, bound, 1)) != HL_OK)
        rc = cli_lib_error(CMD, cout, st);
    else if (sout && (st = hl_npy_write_i64(sout, table, nc, 3)) != HL_OK)
        rc = cli_lib_error(CMD, sout, st);
    else
        fprintf(stderr, "export: %lld point ids (%lld points), %lld cluster ids (%lld clusters)\n", (long long)bound,
                (long long)hl_collection_num_points(c), (long long)nc, (long long)hl_collection_num_clusters(c));
done:
    hl_collection_free(c);
    hl_model_free(model);
    free(labels);
    free(conf);
    free(table);
    free(sizes);
    free(reps);
    free(into);
    return rc;
}

/* ---- dispatch -------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} ACTIONS[] = {{"create", collection_create},
               {"add", collection_add},
               {"remove", collection_remove},
               {"info", collection_info},
               {"export", collection_export}};

static const char *COLLECTION_HELP =
    "usage: hilander collection <action> [options]    (hilander collection <action> --help)\n"
    "\n"
    "A collection is a clustering kept in a file that grows batch by batch: points\n"
    "get stable ids, join existing clusters or start new ones; cluster ids never\n"
    "change (a merged cluster reports the one it joined).  Every change is saved\n"
    "atomically: a refused batch or a failed write leaves the file as it was.\n"
    "\n"
    "actions:\n"
    "  create   create a collection from a first batch of features\n"
    "  add      add a batch of features\n"
    "  remove   remove points by id\n"
    "  info     print sizes and the largest clusters\n"
    "  export   write the labels (and confidences, clusters) per point id\n";

int cmd_collection(int argc, char **argv)
{
    if (argc < 2) {
        fputs(COLLECTION_HELP, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
        fputs(COLLECTION_HELP, stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
        if (strcmp(a, ACTIONS[i].name) == 0)
            return ACTIONS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hilander collection: unknown action '%s'\n\n%s", a, COLLECTION_HELP);
    return CLI_EXIT_USAGE;
}
