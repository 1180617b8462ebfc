/* hilander-mpi: hl_mpi_cluster from the command line.
 *
 *   mpirun -np P hilander-mpi cluster --features X.npy --labels-out L.npy [options]
 *
 * Each rank reads its row range of X.npy (MPI-IO), the ranks cluster all the
 * rows together, and L.npy (int64 N: the smallest row index of each row's
 * cluster) is written as one file.  `--synthetic N,D,C` clusters generated
 * blobs instead of a file (measurements, docs/DISTRIBUTED.md); `synth` writes
 * such blobs to a .npy file. */
#include "hilander/io.h"
#include "hilander/mpi.h"
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank_, nranks_;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpirun -np P hilander-mpi cluster (--features X.npy | --synthetic N,D,C) [--labels-out L.npy]\n"
            "              [--model M.hlm] [--k 10] [--tau T] [--levels L] [--score prob|sim|snn] [--merge M]\n"
            "              [--no-early-stop] [--method auto|exact|approx] [--nlist N] [--nprobe P]\n"
            "              [--threads T] [--seed S] [--noise X] [--stats] [--verbose]\n"
            "       hilander-mpi synth --n N --d D --classes C [--noise X] [--seed S] --out X.npy\n"
            "\n"
            "cluster: each rank reads its row range of X.npy (float32 N x D) and the ranks\n"
            "cluster all rows as `hilander cluster` would; L.npy (int64 N) holds for every\n"
            "row the smallest row index of its cluster.  --synthetic N,D,C makes N rows of\n"
            "C blobs in D dimensions instead (noise --noise, default 1.0).  --stats prints\n"
            "the bytes each phase sent (all ranks) and its seconds (slowest rank).\n");
}

static void print_log(hl_log_level level, const char *msg, void *user)
{
    (void)user;
    (void)level;
    fprintf(stderr, "[%d] %s\n", rank_, msg);
}

static int fail(const char *what, hl_status st)
{
    if (rank_ == 0)
        fprintf(stderr, "hilander-mpi: %s: %s: %s\n", what, hl_status_str(st), hl_mpi_last_error());
    return st == HL_EIO ? 3 : st == HL_EFORMAT ? 4 : 2;
}

static int parse_i64(const char *s, int64_t *v)
{
    char *end = NULL;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return -1;
    *v = x;
    return 0;
}

static int parse_real(const char *s, double *v)
{
    char *end = NULL;
    *v = strtod(s, &end);
    return end == s || *end != '\0' ? -1 : 0;
}

static int cmd_synth(int argc, char **argv)
{
    synth_spec s = {0, 0, 0, 1.0, 1};
    const char *out = NULL;
    int64_t seed = 1;
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = v == NULL;
        if (!bad && strcmp(a, "--n") == 0)
            bad = parse_i64(v, &s.n);
        else if (!bad && strcmp(a, "--d") == 0)
            bad = parse_i64(v, &s.d);
        else if (!bad && strcmp(a, "--classes") == 0)
            bad = parse_i64(v, &s.classes);
        else if (!bad && strcmp(a, "--noise") == 0)
            bad = parse_real(v, &s.noise);
        else if (!bad && strcmp(a, "--seed") == 0)
            bad = parse_i64(v, &seed);
        else if (!bad && strcmp(a, "--out") == 0)
            out = v;
        else
            bad = 1;
        if (bad) {
            if (rank_ == 0)
                usage(stderr);
            return 1;
        }
    }
    s.seed = (uint64_t)seed;
    if (out == NULL || s.n < 1 || s.d < 1 || s.classes < 1) {
        if (rank_ == 0)
            usage(stderr);
        return 1;
    }
    if (rank_ != 0)
        return 0;
    float *x = malloc((size_t)(s.n * s.d) * sizeof(float));
    if (x == NULL) {
        fprintf(stderr, "hilander-mpi synth: out of memory\n");
        return 2;
    }
    synth_rows(&s, 0, s.n, x);
    /* the library's writer: atomic, and the same .npy format its readers take */
    const hl_status st = hl_npy_write_f32(out, x, s.n, s.d);
    free(x);
    if (st != HL_OK) {
        fprintf(stderr, "hilander-mpi synth: cannot write '%s': %s\n", out, hl_last_error());
        return 3;
    }
    return 0;
}

static void print_stats(double wall)
{
    static const char *names[6] = {"knn", "scores", "decode", "components", "merge", "other"};
    hl_mpi_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    hl_mpi_last_stats(&s);
    int64_t bytes[6];
    double secs[6];
    MPI_Reduce(s.bytes_sent, bytes, 6, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(s.seconds, secs, 6, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank_ != 0)
        return;
    int64_t tb = 0;
    fprintf(stderr, "%-12s %14s %10s\n", "phase", "bytes sent", "seconds");
    for (int p = 0; p < 6; p++) {
        fprintf(stderr, "%-12s %14lld %10.3f\n", names[p], (long long)bytes[p], secs[p]);
        tb += bytes[p];
    }
    fprintf(stderr, "%-12s %14lld %10.3f  (%d ranks, wall)\n", "total", (long long)tb, wall, nranks_);
}

static int cmd_cluster(int argc, char **argv)
{
    const char *feat = NULL, *out = NULL, *mpath = NULL, *syn = NULL;
    int stats = 0, verbose = 0;
    double noise = 1.0, real = 0.0;
    int64_t iv = 0, seed = 1;
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    for (int i = 0; i < argc;) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0, flag = 1;
        if (strcmp(a, "--stats") == 0)
            stats = 1;
        else if (strcmp(a, "--verbose") == 0)
            verbose = 1;
        else if (strcmp(a, "--no-early-stop") == 0)
            o.early_stop = 0;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            if (rank_ == 0)
                usage(stdout);
            return 0;
        } else {
            flag = 0;
            bad = v == NULL;
        }
        if (flag) {
            i++;
            continue;
        }
        if (bad)
            ;
        else if (strcmp(a, "--features") == 0)
            feat = v;
        else if (strcmp(a, "--synthetic") == 0)
            syn = v;
        else if (strcmp(a, "--labels-out") == 0)
            out = v;
        else if (strcmp(a, "--model") == 0)
            mpath = v;
        else if (strcmp(a, "--k") == 0 || strcmp(a, "-k") == 0)
            bad = parse_i64(v, &o.k);
        else if (strcmp(a, "--tau") == 0)
            bad = parse_real(v, &real) || (o.tau = (float)real, 0);
        else if (strcmp(a, "--merge") == 0)
            bad = parse_real(v, &real) || (o.merge = (float)real, 0);
        else if (strcmp(a, "--noise") == 0)
            bad = parse_real(v, &noise);
        else if (strcmp(a, "--levels") == 0)
            bad = parse_i64(v, &iv) || (o.max_levels = (int32_t)iv, 0);
        else if (strcmp(a, "--threads") == 0)
            bad = parse_i64(v, &iv) || (o.num_threads = (int32_t)iv, 0);
        else if (strcmp(a, "--nlist") == 0)
            bad = parse_i64(v, &o.knn_nlist);
        else if (strcmp(a, "--nprobe") == 0)
            bad = parse_i64(v, &o.knn_nprobe);
        else if (strcmp(a, "--seed") == 0)
            bad = parse_i64(v, &seed);
        else if (strcmp(a, "--score") == 0) {
            o.score = strcmp(v, "prob") == 0 ? HL_SCORE_PROB : strcmp(v, "sim") == 0 ? HL_SCORE_SIM
                      : strcmp(v, "snn") == 0 ? HL_SCORE_SNN : -2;
            bad = o.score == -2;
        } else if (strcmp(a, "--method") == 0) {
            o.knn_method = strcmp(v, "auto") == 0 ? HL_KNN_AUTO : strcmp(v, "exact") == 0 ? HL_KNN_EXACT
                           : strcmp(v, "approx") == 0 ? HL_KNN_APPROX : -2;
            bad = o.knn_method == -2;
        } else
            bad = 1;
        if (bad) {
            if (rank_ == 0) {
                fprintf(stderr, "hilander-mpi cluster: bad option or value: %s\n", a);
                usage(stderr);
            }
            return 1;
        }
        i += 2;
    }
    if ((feat == NULL) == (syn == NULL)) {
        if (rank_ == 0)
            fprintf(stderr, "hilander-mpi cluster: give one of --features and --synthetic\n");
        return 1;
    }
    if (verbose)
        hl_mpi_set_log_callback(print_log, NULL, HL_LOG_INFO);
    float *x = NULL;
    int64_t n = 0, d = 0, row0 = 0;
    hl_status st;
    if (feat != NULL) {
        if ((st = hl_mpi_npy_read_rows(MPI_COMM_WORLD, feat, &x, &n, &d, &row0)) != HL_OK)
            return fail(feat, st);
    } else {
        synth_spec s = {0, 0, 0, noise, (uint64_t)seed};
        if (sscanf(syn, "%lld,%lld,%lld", (long long *)&s.n, (long long *)&s.d, (long long *)&s.classes) != 3 ||
            s.n < 1 || s.d < 1 || s.classes < 1) {
            if (rank_ == 0)
                fprintf(stderr, "hilander-mpi cluster: --synthetic needs N,D,C (positive integers)\n");
            return 1;
        }
        row0 = s.n * rank_ / nranks_;
        n = s.n * (rank_ + 1) / nranks_ - row0;
        d = s.d;
        x = malloc((size_t)(n > 0 ? n * d : 1) * sizeof(float));
        if (x == NULL) {
            fprintf(stderr, "hilander-mpi: out of memory\n");
            MPI_Abort(MPI_COMM_WORLD, 2); /* the program, not the library: nothing else to agree on */
        }
        synth_rows(&s, row0, n, x);
    }
    hl_model *model = NULL;
    int bad_model = 0, any_bad = 0;
    if (mpath != NULL && (st = hl_mpi_model_load(mpath, &model)) != HL_OK) {
        fprintf(stderr, "hilander-mpi: rank %d: cannot load model '%s': %s\n", rank_, mpath, hl_mpi_last_error());
        bad_model = 1;
    }
    MPI_Allreduce(&bad_model, &any_bad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any_bad) { /* every rank stops: no rank is left in a collective */
        hl_mpi_model_free(model);
        free(x);
        return 3;
    }
    int64_t *labels = malloc((size_t)(n > 0 ? n : 1) * sizeof *labels);
    if (labels == NULL) {
        fprintf(stderr, "hilander-mpi: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    st = hl_mpi_cluster(MPI_COMM_WORLD, model, x, n, d, &o, labels);
    const double wall = MPI_Wtime() - t0;
    int rc = 0;
    if (st != HL_OK)
        rc = fail("clustering", st);
    else {
        int64_t mine = 0, all = 0;
        for (int64_t q = 0; q < n; q++)
            mine += labels[q] == row0 + q;
        MPI_Reduce(&mine, &all, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank_ == 0)
            fprintf(stderr, "hilander-mpi: %lld clusters, %.2f s on %d ranks\n", (long long)all, wall, nranks_);
        if (stats)
            print_stats(wall);
        if (out != NULL && (st = hl_mpi_npy_write_i64(MPI_COMM_WORLD, out, labels, n)) != HL_OK)
            rc = fail(out, st);
    }
    hl_mpi_model_free(model);
    free(x);
    free(labels);
    return rc;
}

int main(int argc, char **argv)
{
    int provided = 0; /* the library's threads make no MPI call: FUNNELED suffices */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks_);
    int rc = 1;
    if (argc >= 2 && strcmp(argv[1], "cluster") == 0)
        rc = cmd_cluster(argc - 2, argv + 2);
    else if (argc >= 2 && strcmp(argv[1], "synth") == 0)
        rc = cmd_synth(argc - 2, argv + 2);
    else if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        if (rank_ == 0)
            usage(stdout);
        rc = 0;
    } else if (rank_ == 0)
        usage(stderr);
    MPI_Finalize();
    return rc;
}
