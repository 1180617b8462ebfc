/* Four threads share one model (scripts/ci/tsan.sh runs this suite under
 * ThreadSanitizer): three cluster the same data and one other data, with
 * the shared model's learned score and 1 or 2 internal threads; each
 * thread also makes a call fail with a message naming its own value and
 * reads it back from its own hl_last_error.  Every result must equal the
 * single-threaded reference computed first. */
#define _POSIX_C_SOURCE 200809L
#include "test_helpers.h"

#include <pthread.h>
#include <string.h>

enum { NT = 4, NPTS = 120, DIM = 12, KNN = 6, ROUNDS = 3 };

static hl_model *g_model;
static float *g_x[2];
static int64_t g_ref[2][NPTS];

static hl_status cluster_labels(const float *x, int32_t threads, int64_t *labels)
{
    hl_cluster_options o;
    hl_cluster_options_init(&o, sizeof o);
    o.k = KNN;
    o.score = HL_SCORE_PROB;
    o.tau = 0.5f;
    o.num_threads = threads;
    hl_clustering *c = NULL;
    hl_status st = hl_cluster(g_model, x, NPTS, DIM, NULL, &o, &c);
    if (st != HL_OK)
        return st;
    st = hl_clustering_labels(c, -1, labels);
    hl_clustering_free(c);
    return st;
}

typedef struct worker {
    int id;
    int failures;
    char why[256];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    const int data = w->id < 2 ? 0 : w->id - 2; /* threads 0 and 1: data 0; threads 2 and 3: data 0 and 1 */
    int64_t labels[NPTS];
    for (int r = 0; r < ROUNDS; r++) {
        hl_status st = cluster_labels(g_x[data], 1 + (w->id + r) % 2, labels);
        if (st != HL_OK) {
            w->failures++;
            snprintf(w->why, sizeof w->why, "cluster: %s", hl_last_error());
            continue;
        }
        if (memcmp(labels, g_ref[data], sizeof labels) != 0) {
            w->failures++;
            snprintf(w->why, sizeof w->why, "round %d: labels differ from the reference", r);
        }
        /* a failure of this thread's own: k = 1000 + id is refused and named */
        hl_cluster_options o;
        hl_cluster_options_init(&o, sizeof o);
        o.k = 1000 + w->id;
        hl_clustering *c = NULL;
        st = hl_cluster(g_model, g_x[data], NPTS, DIM, NULL, &o, &c);
        char want[32];
        snprintf(want, sizeof want, "k = %d", 1000 + w->id);
        if (st != HL_EINVAL || c != NULL || hl_last_error_status() != HL_EINVAL ||
            strstr(hl_last_error(), want) == NULL) {
            w->failures++;
            snprintf(w->why, sizeof w->why, "thread %d read another error: '%s'", w->id, hl_last_error());
        }
    }
    return NULL;
}

START_TEST(test_four_threads_share_a_model)
{
    g_model = th_untrained_model(DIM, 16, 11);
    int64_t *lab0, *lab1;
    g_x[0] = th_blobs(8, NPTS / 8, DIM, 0.4, 1, &lab0);
    g_x[1] = th_blobs(6, NPTS / 6, DIM, 0.5, 2, &lab1);
    for (int s = 0; s < 2; s++)
        ck_assert_msg(cluster_labels(g_x[s], 1, g_ref[s]) == HL_OK, "%s", hl_last_error());
    ck_assert(memcmp(g_ref[0], g_ref[1], sizeof g_ref[0]) != 0);
    pthread_t th[NT];
    worker w[NT];
    for (int i = 0; i < NT; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < NT; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < NT; i++)
        ck_assert_msg(w[i].failures == 0, "thread %d: %d failures, last: %s", i, w[i].failures, w[i].why);
    free(lab0);
    free(lab1);
    free(g_x[0]);
    free(g_x[1]);
    hl_model_free(g_model);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("shared_model");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_four_threads_share_a_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
