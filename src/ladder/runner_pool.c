// The ladder's pool: worker processes on every rank, scheduled by rank 0, largest first.
#include <errno.h>
#include <omp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "ladder/runner_pool.h"
#include "train/train.h"

// Messages: a rank's to rank 0 (TAG_REQ, first integer M_*), rank 0's replies to registry
// calls (TAG_REPLY) and its assignments (TAG_ASSIGN: point, attempt, failed; point -1: stop).
enum { TAG_REQ = 7301, TAG_REPLY, TAG_ASSIGN };
enum { M_NEXT = 1, M_EXIT, M_PROGRESS, M_REG, M_BYE };
enum { END_OK, END_FAILED, END_DIED };  // how a worker ended: done, failed and said why, died

static int exit_class(int st) {
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return END_OK;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 1) return END_FAILED;
    return END_DIED;
}
static void exit_text(int st, char *buf, size_t n) {
    if (WIFSIGNALED(st)) snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(buf, n, "exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int send_ints(int dest, int tag, const int32_t *v, int n) {
    return dist_send_bytes(dest, tag, v, n * (int)sizeof *v);
}

// A worker for point i: its registry calls go to the registry (local) or down a pipe to
// this process (*req_fd to read them, *rep_fd to answer). -1 when the fork failed.
static pid_t spawn(const Pool *P, PointProgress *prog, int i, int attempt, int remote,
                   int *req_fd, int *rep_fd) {
    int a[2] = {-1, -1}, b[2] = {-1, -1};  // a: worker -> rank, b: rank -> worker
    if (remote && (pipe(a) || pipe(b))) return em_error("pipe: %s", strerror(errno));
    if (P->prefork) P->prefork(P->arg, i);
    fflush(stdout);
    fflush(stderr);
    pid_t c = fork();
    if (c < 0) return em_error("fork: %s", strerror(errno));
    if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed runner takes its workers along
        if (getppid() == 1) _exit(1);
        signal(SIGPIPE, SIG_DFL);
        omp_set_num_threads(P->threads);
        RegSink k = {.wfd = -1, .rfd = -1, .report = P->report, .ctx = P->ctx, .name = P->name,
                     .rank = dist_rank(), .ranks = dist_size()};
        dist_detach();  // a child of an MPI process: it trains alone, never calls MPI
        int rc;
        if (remote) {
            close(a[0]), close(b[1]);
            k.wfd = a[1], k.rfd = b[0];
            rc = P->work(P->arg, i, attempt, &k, &prog[i]);
        } else if ((rc = reg_open(&k.reg, P->reg_path))) {
            sink_point_failed(&k, P->keys[i], em_errmsg());
        } else {
            rc = P->work(P->arg, i, attempt, &k, &prog[i]);
            reg_close(k.reg);
        }
        fflush(stdout);
        fflush(stderr);
        _exit(rc ? 1 : 0);
    }
    if (remote) {
        close(a[1]), close(b[0]);
        *req_fd = a[0], *rep_fd = b[1];
    }
    return c;
}

// ---- rank 0: the scheduler ---------------------------------------------------------------
typedef struct {
    const Pool *P;
    PointProgress *prog;
    int *queue, nq;          // points to hand out, largest first
    int *attempt;            // per point: tries so far after the first
    int done, failed, running;
    int *pending;            // per rank: slots free, waiting for a point
    int byes;
    Registry *reg;           // rank 0's own connection for the other ranks' calls
    double t0;
    double *start, *took;    // per point: when it was handed out (-1: not yet); its seconds
                             // when it ended well (-1: running or not started, -2: failed)
    double *eta_f, *eta_sec; // pool_eta's inputs, per point to run (nt each; eta_i: 3 nt)
    int *eta_i;
} Sched;

static void requeue(Sched *S, int i) {
    int k = S->nq;
    while (k > 0 && S->P->flops[S->queue[k - 1]] < S->P->flops[i]) {
        S->queue[k] = S->queue[k - 1];
        k--;
    }
    S->queue[k] = i;
    S->nq++;
}
static int pop(Sched *S) {
    int i = S->queue[0];
    memmove(S->queue, S->queue + 1, (size_t)(--S->nq) * sizeof *S->queue);
    return i;
}

static void say(const Sched *S, int i, const char *msg) {
    if (!S->P->report) return;
    LadderProgress lp = {.stage = LADDER_POINT_FAILED, .name = S->P->name, .point = S->P->keys[i],
                         .message = msg};
    S->P->report(S->P->ctx, &lp);
}

// Point i's worker (on rank) ended with wait status st: done, failed, or re-queued.
static void ended(Sched *S, int i, int st, int rank) {
    const Pool *P = S->P;
    PointProgress *pp = &S->prog[i];
    int how = exit_class(st);
    S->running--;
    if (how == END_DIED && S->attempt[i] < POOL_RETRIES) {
        char why[128], where[32] = "", msg[512];
        exit_text(st, why, sizeof why);
        if (dist_size() > 1) snprintf(where, sizeof where, " on rank %d", rank);
        S->attempt[i]++;
        snprintf(msg, sizeof msg, "its worker%s %s; queued again (retry %d of %d), it "
                 "resumes from its last checkpoint", where, why, S->attempt[i], POOL_RETRIES);
        say(S, i, msg);
        requeue(S, i);
        return;
    }
    if (how == END_OK) S->done++;
    else S->failed++;
    if (how == END_DIED) {
        char why[128], msg[512];
        exit_text(st, why, sizeof why);
        snprintf(msg, sizeof msg, "its worker %s, after %d retries: the point failed", why,
                 POOL_RETRIES);
        say(S, i, msg);
        if (S->reg || !reg_open(&S->reg, P->reg_path)) reg_set_status(S->reg, P->keys[i], "failed");
        reg_close(S->reg);
        S->reg = NULL;
    }
    if (pp->base < 0) pp->base = 0;
    pp->step = P->steps[i];  // nothing left to do for it either way
    S->took[i] = how == END_OK ? now_sec() - S->start[i] : -2.0;
}

// Point k fitted: timed, with steps done, and not one that started moments ago (a quarter of
// its steps not yet done: its set-up, data and first evaluation, spread over a few steps).
static int pool_eta_settled(int k, const int *done, const double *sec, const int *left,
                            const int *running) {
    return sec[k] >= 0.0 && done[k] > 0 && (!running[k] || 4L * done[k] >= done[k] + left[k]);
}

double pool_eta(int n, const double *f, const int *done, const double *sec, const int *left,
                const int *running, int slots) {
    int distinct = 0, settled = 0;
    for (int k = 0; k < n; k++) settled |= pool_eta_settled(k, done, sec, left, running);
    // weighted sums of y = seconds a step against f, over the settled points (or, while none
    // is, over every timed one)
    double sw = 0.0, sf = 0.0, sy = 0.0, sff = 0.0, sfy = 0.0, f0 = -1.0;
    for (int k = 0; k < n; k++) {
        if (sec[k] < 0.0 || done[k] <= 0) continue;
        if (settled && !pool_eta_settled(k, done, sec, left, running)) continue;
        double w = done[k], y = sec[k] / done[k];
        sw += w, sf += w * f[k], sy += w * y, sff += w * f[k] * f[k], sfy += w * f[k] * y;
        distinct |= f0 >= 0.0 && f[k] != f0;
        f0 = f[k];
    }
    if (sw <= 0.0) return -1.0;
    double a = 0.0, b = sff > 0.0 ? sfy / sff : 0.0;  // one size: in proportion to its FLOPs
    if (distinct) {
        b = (sw * sfy - sf * sy) / (sw * sff - sf * sf);
        a = (sy - b * sf) / sw;
        if (a < 0.0) a = 0.0, b = sfy / sff;  // no overhead shows: in proportion again
        else if (b < 0.0) b = 0.0, a = sy / sw;  // no FLOPs show: a flat time a step
    }
    double work = 0.0, tail = 0.0;
    for (int k = 0; k < n; k++) {
        double r = left[k] * (a + b * f[k]);
        work += r;
        if (running[k] && r > tail) tail = r;
    }
    work /= slots > 0 ? slots : 1;
    return work > tail ? work : tail;
}

// Seconds to go (-1 while unknown: the first second, or no step trained yet): pool_eta over
// the points to run, timed from when rank 0 handed each out to its end, or to now.
static double eta_seconds(const Sched *S, double t) {
    const Pool *P = S->P;
    if (t < 1.0) return -1.0;
    double *f = S->eta_f, *sec = S->eta_sec;
    int *done = S->eta_i, *left = done + P->nt, *run = left + P->nt;
    for (int k = 0; k < P->nt; k++) {
        int i = P->todo[k], st = P->steps[i] > 0 ? P->steps[i] : 1;
        const PointProgress *pp = &S->prog[i];
        f[k] = P->flops[i] / st;
        done[k] = pp->base >= 0 ? pp->step - pp->base : 0;
        left[k] = P->steps[i] - (pp->base >= 0 ? pp->step : 0);
        run[k] = S->start[i] >= 0.0 && S->took[i] == -1.0;
        sec[k] = S->took[i] >= 0.0 ? S->took[i] : run[k] ? S->t0 + t - S->start[i] : -1.0;
    }
    return pool_eta(P->nt, f, done, sec, left, run, P->jobs * dist_size());
}

static void progress(const Sched *S) {
    if (!S->P->report) return;
    double t = now_sec() - S->t0;
    LadderProgress lp = {.stage = LADDER_PROGRESS, .name = S->P->name, .to_run = S->P->nt,
                         .done = S->done, .running = S->running, .queued = S->nq,
                         .failed = S->failed, .elapsed = t, .eta = eta_seconds(S, t)};
    S->P->report(S->P->ctx, &lp);
}

// One message of another rank.
static int handle(Sched *S, const char *buf, int n, int from) {
    int32_t v[4] = {0};
    memcpy(v, buf, (size_t)(n < 16 ? n : 16));
    switch (n >= 4 ? v[0] : 0) {
    case M_NEXT: S->pending[from]++; return 0;
    case M_BYE: S->byes++; return 0;
    case M_EXIT:
        if (n < 12 || v[1] < 0 || v[1] >= S->P->np) break;
        ended(S, v[1], v[2], from);
        return 0;
    case M_PROGRESS:
        for (int k = 4; k + 12 <= n; k += 12) {
            memcpy(v, buf + k, 12);
            if (v[0] >= 0 && v[0] < S->P->np) S->prog[v[0]] = (PointProgress){v[1], v[2]};
        }
        return 0;
    case M_REG: {
        if (!S->reg && reg_open(&S->reg, S->P->reg_path)) S->reg = NULL;
        char *out;
        int nout;
        regproxy_apply(S->reg, buf + 4, n - 4, S->P->report, S->P->ctx, S->P->name, &out, &nout);
        int rc = dist_send_bytes(from, TAG_REPLY, out, nout);
        free(out);
        return rc;
    }
    }
    return em_error("a malformed message of %d bytes from rank %d", n, from);
}

// Receives and handles every message waiting; 1 when there was one, -1 on an error.
static int serve(Sched *S) {
    int from, any = 0;
    while (dist_poll(-1, TAG_REQ, &from)) {
        char *buf;
        int n;
        if (dist_recv_bytes(from, TAG_REQ, &buf, &n, &from)) return -1;
        int rc = handle(S, buf, n, from);
        free(buf);
        if (rc) return -1;
        any = 1;
    }
    return any;
}

static int schedule(const Pool *P, PointProgress *prog) {
    int size = dist_size();
    Sched S = {.P = P, .prog = prog, .queue = xcalloc((size_t)P->nt + 1, sizeof(int)),
               .attempt = xcalloc((size_t)P->np + 1, sizeof(int)),
               .pending = xcalloc((size_t)size, sizeof(int)), .t0 = now_sec(),
               .start = xcalloc((size_t)P->np + 1, sizeof(double)),
               .took = xcalloc((size_t)P->np + 1, sizeof(double)),
               .eta_f = xcalloc((size_t)P->nt + 1, sizeof(double)),
               .eta_sec = xcalloc((size_t)P->nt + 1, sizeof(double)),
               .eta_i = xcalloc(3 * (size_t)P->nt + 1, sizeof(int))};
    for (int i = 0; i < P->np; i++) S.start[i] = S.took[i] = -1.0;
    for (int k = 0; k < P->nt; k++) S.queue[S.nq++] = P->todo[k];
    pid_t *pid = xcalloc((size_t)P->jobs, sizeof(pid_t));
    int *slot_pt = xcalloc((size_t)P->jobs, sizeof(int));
    int local = 0, rc = 0;
    double t_rep = -1.0;
    while (S.done + S.failed < P->nt) {
        int event = 0;
        while (local < P->jobs && S.nq > 0) {
            int j = 0;
            while (pid[j]) j++;
            int i = pop(&S);
            reg_close(S.reg);  // no connection crosses a fork
            S.reg = NULL;
            pid_t c = spawn(P, prog, i, S.attempt[i], 0, NULL, NULL);
            if (c < 0) { rc = -1; goto out; }
            pid[j] = c, slot_pt[j] = i;
            S.start[i] = now_sec(), S.took[i] = -1.0;
            local++, S.running++;
        }
        // the next point's data while the slots train (a no-op once it is loaded)
        if (P->prefetch && local == P->jobs && S.nq > 0) P->prefetch(P->arg, S.queue[0]);
        for (int r = 1; r < size; r++)
            for (; S.pending[r] > 0 && S.nq > 0; S.pending[r]--) {
                int i = pop(&S);
                int32_t m[3] = {i, S.attempt[i], 0};
                if (send_ints(r, TAG_ASSIGN, m, 3)) { rc = -1; goto out; }
                S.start[i] = now_sec(), S.took[i] = -1.0;
                S.running++;
            }
        int got = serve(&S);
        if (got < 0) { rc = -1; goto out; }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            for (int j = 0; j < P->jobs; j++)
                if (pid[j] == w) {
                    pid[j] = 0;
                    local--;
                    ended(&S, slot_pt[j], st, 0);
                    event = 1;
                }
        double t = now_sec();
        if (event || t - t_rep >= 0.2 || S.done + S.failed == P->nt) {
            progress(&S);
            t_rep = t;
        }
        if (!event && !got) usleep(size > 1 ? 1000 : 10000);  // a freed slot waits <= 10 ms
    }
    // the end: every rank stops (with the count of failed points) and says goodbye
    for (int r = 1; r < size; r++) {
        int32_t m[3] = {-1, 0, S.failed};
        if (send_ints(r, TAG_ASSIGN, m, 3)) { rc = -1; goto out; }
    }
    while (S.byes < size - 1) {
        int got = serve(&S);
        if (got < 0) { rc = -1; goto out; }
        if (!got) usleep(1000);
    }
    rc = S.failed;
out:
    reg_close(S.reg);
    free(S.queue);
    free(S.attempt);
    free(S.pending);
    free(S.start);
    free(S.took);
    free(S.eta_f);
    free(S.eta_sec);
    free(S.eta_i);
    free(pid);
    free(slot_pt);
    return rc;
}

// ---- ranks 1 ..: workers of points rank 0 hands out ---------------------------------------
typedef struct { pid_t pid; int pt, req, rep; } Slot;

// A registry call of a worker to rank 0 and back.
static int forward(Slot *sl) {
    char *rec, *reply;
    int n, nr;
    int rc = regproxy_read_frame(sl->req, &rec, &n);
    if (rc <= 0) {  // the worker is gone (its end is reaped below)
        close(sl->req);
        sl->req = -1;
        return rc;
    }
    char *msg = xmalloc((size_t)n + 4);
    int32_t kind = M_REG;
    memcpy(msg, &kind, 4);
    memcpy(msg + 4, rec, (size_t)n);
    free(rec);
    rc = dist_send_bytes(0, TAG_REQ, msg, n + 4) || dist_recv_bytes(0, TAG_REPLY, &reply, &nr, NULL);
    free(msg);
    if (rc) return -1;
    regproxy_write_frame(sl->rep, reply, nr);  // a worker that died meanwhile: no matter
    free(reply);
    return 0;
}

static int serve_rank(const Pool *P, PointProgress *prog) {
    Slot *sl = xcalloc((size_t)P->jobs, sizeof *sl);
    struct pollfd *fds = xcalloc((size_t)P->jobs, sizeof *fds);
    int *fd_slot = xcalloc((size_t)P->jobs, sizeof(int));
    int running = 0, stopped = 0, failed = 0, rc = 0;
    double t_prog = now_sec();
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);  // a worker's death shows in waitpid
    int32_t next = M_NEXT;
    for (int j = 0; j < P->jobs && !rc; j++) rc = send_ints(0, TAG_REQ, &next, 1);
    while (!rc && (!stopped || running > 0)) {
        int from;
        while (!rc && dist_poll(0, TAG_ASSIGN, &from)) {
            char *buf;
            int n;
            int32_t m[3];
            if ((rc = dist_recv_bytes(0, TAG_ASSIGN, &buf, &n, NULL))) break;
            memcpy(m, buf, sizeof m);
            free(buf);
            if (m[0] < 0) { stopped = 1; failed = m[2]; continue; }
            int j = 0;
            while (j < P->jobs && sl[j].pid) j++;
            if (j == P->jobs || m[0] >= P->np) { rc = em_error("rank 0 handed out a point with no free slot"); break; }
            pid_t c = spawn(P, prog, m[0], m[1], 1, &sl[j].req, &sl[j].rep);
            if (c < 0) { rc = -1; break; }
            sl[j].pid = c, sl[j].pt = m[0];
            running++;
        }
        int nf = 0;
        for (int j = 0; j < P->jobs; j++)
            if (sl[j].pid && sl[j].req >= 0) {
                fds[nf] = (struct pollfd){.fd = sl[j].req, .events = POLLIN};
                fd_slot[nf++] = j;
            }
        if (nf == 0) usleep(1000);
        else if (poll(fds, (nfds_t)nf, 1) > 0)
            for (int f = 0; f < nf && !rc; f++)
                if (fds[f].revents) rc = forward(&sl[fd_slot[f]]) < 0;
        int st;
        pid_t w;
        while (!rc && (w = waitpid(-1, &st, WNOHANG)) > 0)
            for (int j = 0; j < P->jobs; j++)
                if (sl[j].pid == w) {
                    if (sl[j].req >= 0) close(sl[j].req);
                    close(sl[j].rep);
                    sl[j].pid = 0;
                    running--;
                    int32_t m[3] = {M_EXIT, sl[j].pt, st};
                    rc = send_ints(0, TAG_REQ, m, 3) || (!stopped && send_ints(0, TAG_REQ, &next, 1));
                }
        if (!rc && running > 0 && now_sec() - t_prog >= 0.5) {  // for rank 0's ETA
            int32_t m[1 + 3 * 64] = {M_PROGRESS}, n = 1;
            for (int j = 0; j < P->jobs && n + 3 <= 1 + 3 * 64; j++)
                if (sl[j].pid) {
                    m[n++] = sl[j].pt;
                    m[n++] = ((volatile PointProgress *)&prog[sl[j].pt])->base;
                    m[n++] = ((volatile PointProgress *)&prog[sl[j].pt])->step;
                }
            rc = send_ints(0, TAG_REQ, m, n);
            t_prog = now_sec();
        }
    }
    int32_t bye = M_BYE;
    if (!rc) rc = send_ints(0, TAG_REQ, &bye, 1);
    signal(SIGPIPE, old_pipe);
    free(sl);
    free(fds);
    free(fd_slot);
    return rc ? -1 : failed;
}

int ladder_pool_run(const Pool *P, PointProgress *prog) {
    return dist_rank() == 0 ? schedule(P, prog) : serve_rank(P, prog);
}
