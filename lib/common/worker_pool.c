/* Blocking worker pool (see worker_pool.h). */
#define _POSIX_C_SOURCE 200809L
#include "common/worker_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HLI_POOL_MAX 64

int hli_pool_max_workers_test = -1;

struct hli_pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a new task (or stop) */
    pthread_cond_t done_cv; /* the last block of a task is done */
    pthread_t th[HLI_POOL_MAX];
    int nth; /* workers running */
    /* the current task, written under mu before gen is bumped */
    uint64_t gen;
    hli_pool_fn fn;
    void *arg;
    int64_t n, grain, nblk;
    int stop;
    /* (gen << 32) | next block: a worker that wakes up late for an old task
     * cannot take a block of a newer one */
    _Atomic uint64_t ticket;
    _Atomic int64_t done; /* blocks finished in the current task */
};

/* Takes the next block of task @p gen; 0 when there is none left. */
static int take_block(hli_pool *p, uint64_t gen, int64_t nblk, int64_t *blk)
{
    uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    for (;;) {
        if ((t >> 32) != (gen & 0xffffffffu) || (int64_t)(t & 0xffffffffu) >= nblk)
            return 0;
        if (atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *blk = (int64_t)(t & 0xffffffffu);
            return 1;
        }
    }
}

static void run_blocks(hli_pool *p, uint64_t gen, hli_pool_fn fn, void *arg, int64_t n, int64_t grain,
                       int64_t nblk, int worker)
{
    int64_t b;
    while (take_block(p, gen, nblk, &b)) {
        const int64_t r0 = b * grain, r1 = r0 + grain < n ? r0 + grain : n;
        fn(arg, r0, r1);
        if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == nblk && worker) {
            /* the caller may be asleep waiting for this last block */
            if (pthread_mutex_lock(&p->mu) == 0) {
                pthread_cond_signal(&p->done_cv);
                pthread_mutex_unlock(&p->mu);
            } else {
                pthread_cond_signal(&p->done_cv);
            }
        }
    }
}

static void *worker_main(void *vp)
{
    hli_pool *p = vp;
    uint64_t seen = 0;
    if (pthread_mutex_lock(&p->mu) != 0)
        return NULL; /* the caller does this worker's share */
    for (;;) {
        while (!p->stop && p->gen == seen)
            if (pthread_cond_wait(&p->work_cv, &p->mu) != 0) {
                pthread_mutex_unlock(&p->mu);
                return NULL;
            }
        if (p->stop)
            break;
        seen = p->gen;
        const hli_pool_fn fn = p->fn;
        void *const arg = p->arg;
        const int64_t n = p->n, grain = p->grain, nblk = p->nblk;
        pthread_mutex_unlock(&p->mu);
        run_blocks(p, seen, fn, arg, n, grain, nblk, 1);
        if (pthread_mutex_lock(&p->mu) != 0)
            return NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

hli_pool *hli_pool_create(int nt)
{
    if (nt <= 1)
        return NULL;
    hli_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->work_cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->done_cv, NULL) != 0) {
        pthread_cond_destroy(&p->work_cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    atomic_init(&p->ticket, 0);
    atomic_init(&p->done, 0);
    /* workers block every signal: the application's handlers stay on its
     * own threads */
    sigset_t all, old;
    sigfillset(&all);
    const int masked = pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
    const int want = nt - 1 < HLI_POOL_MAX ? nt - 1 : HLI_POOL_MAX;
    for (int i = 0; i < want; i++) {
        if (hli_pool_max_workers_test >= 0 && i >= hli_pool_max_workers_test)
            break;
        if (pthread_create(&p->th[i], NULL, worker_main, p) != 0)
            break;
        p->nth++;
    }
    if (masked)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->nth == 0) {
        hli_pool_destroy(p);
        return NULL;
    }
    return p;
}

int hli_pool_threads(const hli_pool *p) { return p ? p->nth + 1 : 1; }

void hli_pool_run(hli_pool *p, hli_pool_fn fn, void *arg, int64_t n, int64_t grain)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int64_t nblk = (n - 1) / grain + 1;
    if (nblk > 0x7fffffff) { /* the ticket holds 32 bits of block index */
        grain = (n - 1) / 0x7fffffff + 1;
        nblk = (n - 1) / grain + 1;
    }
    if (p == NULL || nblk == 1 || pthread_mutex_lock(&p->mu) != 0) {
        fn(arg, 0, n);
        return;
    }
    /* publish the task; the previous one is complete (every block done),
     * so no worker can still touch its blocks */
    const uint64_t gen = p->gen + 1;
    p->gen = gen;
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->grain = grain;
    p->nblk = nblk;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->ticket, (gen & 0xffffffffu) << 32, memory_order_release);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    run_blocks(p, gen, fn, arg, n, grain, nblk, 0);
    /* wait for blocks still running on workers: the remaining work is at
     * most one block per worker, so spin briefly before sleeping */
    for (int s = 0; s < 4000; s++) {
        if (atomic_load_explicit(&p->done, memory_order_acquire) >= nblk)
            return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    while (atomic_load_explicit(&p->done, memory_order_acquire) < nblk) {
        if (pthread_mutex_lock(&p->mu) != 0)
            continue; /* cannot sleep: poll */
        if (atomic_load_explicit(&p->done, memory_order_acquire) < nblk)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void hli_pool_destroy(hli_pool *p)
{
    if (p == NULL)
        return;
    const int locked = pthread_mutex_lock(&p->mu) == 0;
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    if (locked)
        pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
