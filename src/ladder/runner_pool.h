// ladder/runner_pool: the ladder's pool of worker processes, one point each, largest first;
// over MPI ranks (mpirun), rank 0 schedules the points of every rank and alone writes the
// registry (ladder/regproxy carries the other ranks' registry calls to it).
#ifndef EMERGENT_RUNNER_POOL_H
#define EMERGENT_RUNNER_POOL_H

#include "ladder/regproxy.h"

// A point's progress, in memory shared by a rank's process and its workers: the step it
// started from in this run (-1: not started) and the step it has reached.
typedef struct { int base, step; } PointProgress;

// The work of one point (pts index i) in a worker process, its attempt-th try (0: the first;
// a retry resumes from the point's last checkpoint): 0, or -1 after reporting the failure
// through sink (the point is then marked failed, not retried).
typedef int (*PoolWork)(void *arg, int i, int attempt, RegSink *sink, PointProgress *prog);

#define POOL_RETRIES 2  // a point whose worker died runs again at most this many times

typedef struct {
    const char *name;             // the ladder's
    const char *const *keys;      // each point's key (np)
    const double *flops;          // each point's training FLOPs (np)
    const int *steps;             // each point's training steps (np)
    int np;                       // points in all
    const int *todo;              // rank 0: the points to run, largest first (nt)
    int nt, jobs, threads;
    const char *reg_path;
    LadderReport report;          // rank 0 only
    void *ctx;
    PoolWork work;
    void *arg;
    // NULL, or called in this rank's process before it forks the worker of point i (what it
    // holds there, the worker inherits)
    void (*prefork)(void *arg, int i);
    // NULL, or called by rank 0 for the next queued point while every slot is busy: loading
    // what its worker will inherit then overlaps training instead of holding a core idle
    void (*prefetch)(void *arg, int i);
} Pool;

// Runs the pool on this rank (every rank calls it, with the same nt). Returns the number of
// points that failed (on every rank), or -1 with em_error() (a fork or a message failed).
int ladder_pool_run(const Pool *P, PointProgress *prog);

// The ladder's ETA in seconds, from n points: point k trains f[k] FLOPs a step, has done[k]
// steps in sec[k] seconds (sec < 0: not timed yet) and left[k] steps to go, and running[k] is
// nonzero while it runs; slots points run at a time. A point's seconds a step are fitted as
// a + b f[k] (least squares over the timed points, weighted by their steps; a running point
// once a quarter of its steps are done, unless no point is that far), so that the
// per-step overhead that makes small models slower per FLOP counts; in proportion to f alone
// while the timed points share one f. The ETA is the work left over the slots, or the rest of
// the longest running point where that is longer. -1: no point timed yet.
double pool_eta(int n, const double *f, const int *done, const double *sec, const int *left,
                const int *running, int slots);

#endif
