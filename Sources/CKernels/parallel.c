// Tandem's kernels on threads (see ckernels.h, tandem_parallel_for). libgomp's team is entered
// through GOMP_parallel, the entry point `#pragma omp parallel` compiles to, so the package needs
// no -fopenmp flag (SwiftPM calls such flags unsafe); oneDNN already links libgomp.
#define _GNU_SOURCE
#include <sched.h>

#include "ckernels.h"

#include <stdlib.h>

void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);

static int threads_setting = 1;

// TANDEM_THREADS=N starts the process with N kernel threads (launch/test runs the op and parity
// tests so, besides one thread); train.threads still overrides it.
__attribute__((constructor)) static void threads_from_environment(void) {
    const char *v = getenv("TANDEM_THREADS");
    if (!v) return;
    const long n = strtol(v, NULL, 10);
    if (n >= 1 && n <= 1024) threads_setting = (int)n;
}

static int product_threads_setting = 0;

void tandem_set_product_threads(int threads) {
    __atomic_store_n(&product_threads_setting, threads < 0 ? 0 : threads, __ATOMIC_RELAXED);
}
int tandem_get_product_threads(void) { return __atomic_load_n(&product_threads_setting, __ATOMIC_RELAXED); }

void tandem_set_threads(int threads) {
    __atomic_store_n(&threads_setting, threads < 1 ? 1 : threads, __ATOMIC_RELAXED);
}
int tandem_get_threads(void) { return __atomic_load_n(&threads_setting, __ATOMIC_RELAXED); }

struct job {
    long count, block, blocks;
    tandem_block_fn fn;
    void *context;
};

// Blocks first, first + step, ... of the job.
static void run_blocks_from(const struct job *j, long first, long step) {
    for (long b = first; b < j->blocks; b += step) {
        const long begin = b * j->block, end = begin + j->block < j->count ? begin + j->block : j->count;
        j->fn(j->context, begin, end);
    }
}

// A team member's share, dealt round-robin: thread t takes blocks t, t + T, ...
static void run_blocks(void *data) { run_blocks_from(data, omp_get_thread_num(), omp_get_num_threads()); }

void tandem_parallel_for(long count, long block, tandem_block_fn fn, void *context) {
    if (count <= 0) return;
    if (block < 1) block = 1;
    struct job j = {count, block, (count + block - 1) / block, fn, context};
    const long setting = tandem_get_threads(), team = setting < j.blocks ? setting : j.blocks;
    if (team <= 1) {
        run_blocks_from(&j, 0, 1);  // no team for one thread: the same blocks, in order
    } else {
        GOMP_parallel(run_blocks, &j, (unsigned)team, 0);
    }
}

int tandem_allowed_cores(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    const int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}
