#include "core/parallel.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct job {
    void (*fn)(void *ctx, int t);
    void *ctx;
    int t;
} job;

static void *trampoline(void *arg)
{
    job *j = arg;
    j->fn(j->ctx, j->t);
    return NULL;
}

void tcat_parallel(int T, void (*fn)(void *ctx, int t), void *ctx)
{
    if (T <= 1) {
        fn(ctx, 0);
        return;
    }
    pthread_t *th = malloc((size_t)T * sizeof *th);
    job *jobs = malloc((size_t)T * sizeof *jobs);
    bool *started = calloc((size_t)T, sizeof *started);
    if (!th || !jobs || !started) {
        free(th);
        free(jobs);
        free(started);
        for (int t = 0; t < T; t++)
            fn(ctx, t);
        return;
    }
    for (int t = 1; t < T; t++) {
        jobs[t] = (job){fn, ctx, t};
        started[t] = pthread_create(&th[t], NULL, trampoline, &jobs[t]) == 0;
    }
    fn(ctx, 0);
    for (int t = 1; t < T; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn(ctx, t);
    }
    free(th);
    free(jobs);
    free(started);
}
