/*
 * core/parallel.h — run a loop body on a few threads.
 *
 * tcat_parallel(T, fn, ctx) calls fn(ctx, t) for t = 0..T-1, each on its
 * own thread (t = 0 on the caller's), and returns when all are done.
 * Threads are POSIX threads made for the call and joined at its end: no
 * pool spins between calls, so a process that parallelises only its big
 * steps leaves the cores alone in between (OpenMP's spinning workers cost
 * a pipeline of small predict batches most of its time on a busy
 * machine). Work is split by the caller in a fixed way, so results do not
 * depend on timing.
 */
#ifndef TCAT_CORE_PARALLEL_H
#define TCAT_CORE_PARALLEL_H

/* Runs fn on T threads (T < 1 counts as 1). When a thread cannot be
 * created, its share runs on the caller's thread instead. */
void tcat_parallel(int T, void (*fn)(void *ctx, int t), void *ctx);

#endif
