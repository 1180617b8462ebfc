/* Uses an installed libhilander_mpi as a user would: options from
 * libhilander, clustering over MPI_COMM_WORLD, one label per local row. */
#include <hilander.h>
#include <hilander/mpi.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int provided = 0; /* the library's threads make no MPI call: FUNNELED suffices */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    enum { N = 40, D = 4 };
    float x[N * D];
    int64_t labels[N];
    for (int i = 0; i < N; i++) /* two groups of rows, 20 per rank */
        for (int t = 0; t < D; t++)
            x[i * D + t] = (float)((i % 2 == 0) == (t < 2)) + 0.01f * (float)((i * 7 + t * 3 + rank) % 5);
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = 5;
    hl_status st = hl_mpi_cluster(MPI_COMM_WORLD, NULL, x, N, D, &o, labels);
    if (st != HL_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, hl_mpi_last_error());
        MPI_Finalize();
        return 1;
    }
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad |= labels[i] < 0 || labels[i] > (int64_t)rank * N + i;
    if (rank == 0)
        printf("mpi_consumer: %d ranks, row 0 in cluster %lld, row 1 in cluster %lld\n", size, (long long)labels[0],
               (long long)labels[1]);
    MPI_Finalize();
    return bad;
}
