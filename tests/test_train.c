// The trainer: schedule, clipping norm, NaN stop, bit-identical resume, and checkpoints
// that survive a kill or a full disk at any write, flush, sync or rename.
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "test.h"
#include "train/train.h"

// ---- fault injection ------------------------------------------------------------
// This binary defines fopen, fwrite, fflush, fsync, fclose and rename itself, so every call
// the library makes goes through them (then on to the C library). Armed, they count the
// calls that write (fopen for writing, fwrite, fflush and fclose of a file, fsync, rename):
// at call fi_kill_at the process stops at once (_exit; a fwrite writes half its bytes
// first), as SIGKILL would stop it; call fi_fail_at fails with ENOSPC, as on a full disk.
static int fi_armed;
static long fi_count, fi_kill_at, fi_fail_at;

static void *fi_real(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) abort();
    return f;
}
// 1: fail this call; stops the process when it is the one to stop at.
static int fi_hit(void) {
    if (!fi_armed) return 0;
    fi_count++;
    if (fi_count == fi_kill_at) _exit(77);
    if (fi_count == fi_fail_at) { errno = ENOSPC; return 1; }
    return 0;
}
static int fi_std(FILE *f) { return f == NULL || f == stdout || f == stderr; }

FILE *fopen(const char *restrict path, const char *restrict mode) {
    static FILE *(*real)(const char *, const char *);
    if (!real) real = (FILE * (*)(const char *, const char *)) fi_real("fopen");
    if (strpbrk(mode, "wa+") && fi_hit()) return NULL;
    return real(path, mode);
}
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f) {
    static size_t (*real)(const void *, size_t, size_t, FILE *);
    static int (*flush)(FILE *);
    if (!real) real = (size_t(*)(const void *, size_t, size_t, FILE *))fi_real("fwrite");
    if (!flush) flush = (int (*)(FILE *))fi_real("fflush");
    if (!fi_std(f) && fi_armed && fi_count + 1 == fi_kill_at) {
        real(p, 1, size * n / 2, f);  // cut short in the middle
        flush(f);
    }
    if (!fi_std(f) && fi_hit()) return 0;
    return real(p, size, n, f);
}
int fflush(FILE *f) {
    static int (*real)(FILE *);
    if (!real) real = (int (*)(FILE *))fi_real("fflush");
    if (!fi_std(f) && fi_hit()) return EOF;
    return real(f);
}
int fclose(FILE *f) {
    static int (*real)(FILE *);
    if (!real) real = (int (*)(FILE *))fi_real("fclose");
    if (!fi_std(f) && fi_hit()) { real(f); errno = ENOSPC; return EOF; }
    return real(f);
}
int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))fi_real("fsync");
    if (fi_hit()) return -1;
    return real(fd);
}
int rename(const char *from, const char *to) {
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))fi_real("rename");
    if (fi_hit()) return -1;
    return real(from, to);
}

static void test_schedule(void) {
    TrainConfig tc;
    train_config_default(&tc);
    tc.lr = 1e-3f; tc.min_lr = 1e-4f; tc.warmup = 100; tc.steps = 2000;
    CHECK(fabsf(train_lr(&tc, 0) - 1e-5f) < 1e-9f, "first warmup step %g", train_lr(&tc, 0));
    CHECK(fabsf(train_lr(&tc, 99) - 1e-3f) < 1e-9f, "end of warmup %g", train_lr(&tc, 99));
    CHECK(fabsf(train_lr(&tc, 100) - 1e-3f) < 1e-9f, "start of decay %g", train_lr(&tc, 100));
    CHECK(fabsf(train_lr(&tc, 1050) - 5.5e-4f) < 1e-7f, "midpoint %g", train_lr(&tc, 1050));
    CHECK(fabsf(train_lr(&tc, 2000) - 1e-4f) < 1e-9f, "floor %g", train_lr(&tc, 2000));
    int mono = 1;
    for (int s = 101; s < 2000; s++) mono &= train_lr(&tc, s) <= train_lr(&tc, s - 1);
    CHECK(mono, "cosine decay is not monotone");
    float g[5] = {3, 4, 0, 0, 0};
    CHECK(fabs(train_grad_norm(g, 5) - 5.0) < 1e-12, "norm %g", train_grad_norm(g, 5));
}

// A small corpus on disk for the trainer.
static const char *write_corpus(char *dir) {
    static char path[256];
    snprintf(path, sizeof path, "%s/corpus.txt", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 400; i++) fprintf(f, "the cat sat on the mat %d times. ", i % 17);
    fclose(f);
    return path;
}

typedef struct { GPT m; TrainState st; TrainConfig tc; Tokenizer tok; TokenData d; char *tj; } Run;

static void run_new(Run *r, const char *corpus, int steps) {
    memset(r, 0, sizeof *r);
    data_load_text(corpus, &r->tok, 0.1, 16, &r->d);
    GPTConfig c = {.vocab_size = r->tok.vocab_size, .block_size = 16, .n_layer = 2, .n_head = 2, .n_embd = 16};
    gpt_create(&r->m, &c);
    gpt_init_weights(&r->m, 3);
    train_config_default(&r->tc);
    r->tc.batch_size = 4; r->tc.seq_len = 16; r->tc.steps = steps; r->tc.warmup = 2;
    r->tc.grad_accum = 2; r->tc.eval_every = 3; r->tc.eval_iters = 2; r->tc.lr = 3e-3f;
    r->st.m = xcalloc(r->m.num_params, 4);
    r->st.v = xcalloc(r->m.num_params, 4);
    rng_seed(&r->st.rng, 4);
    r->tj = tok_to_json(&r->tok);
}

static void run_free(Run *r) {
    free(r->st.m); free(r->st.v); free(r->tj);
    tok_free(&r->tok); data_free(&r->d); gpt_free(&r->m);
}

static char *read_losses(const char *dir) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, TRAIN_LOG_FILE);
    return read_file(path, NULL);
}

// A step whose micro-batches hold no answer token runs no backward: its gradient is zero,
// not the previous step's (gpt_zero_grad only marks the gradients; the trainer zeroes them).
static void test_step_without_targets(void) {
    char tmpl[] = "/tmp/emergent-train-XXXXXX", *dir = mkdtemp(tmpl);
    const char *corpus = write_corpus(dir);
    Run r;
    run_new(&r, corpus, 2);
    r.tc.log_every = 1;
    r.tc.eval_every = 0;
    TrainRun tr = {.out_dir = dir, .data_path = corpus, .tok_json = r.tj};
    CHECK(train_run(&r.m, &r.st, &r.tc, &r.d, &tr) == 0, "%s", em_errmsg());
    double g2 = NAN, g3 = NAN;
    r.d.mask = xcalloc(r.d.n, 1);  // from here on no token is a target
    r.tc.steps = 3;
    CHECK(train_run(&r.m, &r.st, &r.tc, &r.d, &tr) == 0, "%s", em_errmsg());
    char *log = read_losses(dir);
    const char *p2 = log ? strstr(log, "{\"step\":2,") : NULL, *p3 = log ? strstr(log, "{\"step\":3,") : NULL;
    if (p2 && strstr(p2, "\"grad_norm\":")) g2 = atof(strstr(p2, "\"grad_norm\":") + 12);
    if (p3 && strstr(p3, "\"grad_norm\":")) g3 = atof(strstr(p3, "\"grad_norm\":") + 12);
    CHECK(g2 > 0.0, "step 2 gradient norm %g", g2);
    CHECK(g3 == 0.0, "step 3 had no target, yet its gradient norm is %g (step 2's: %g)", g3, g2);
    free(log);
    run_free(&r);
}

static void test_resume_bit_identical(void) {
    char tmpl[] = "/tmp/emergent-train-XXXXXX", *dir = mkdtemp(tmpl);
    const char *corpus = write_corpus(dir);
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    // uninterrupted: 8 steps
    Run r1;
    run_new(&r1, corpus, 8);
    r1.tc.log_every = 1;
    TrainRun tr = {.out_dir = a, .data_path = corpus, .tok_json = r1.tj};
    CHECK(train_run(&r1.m, &r1.st, &r1.tc, &r1.d, &tr) == 0, "%s", em_errmsg());
    // interrupted: 4 steps, then everything reloaded from the files and on to 8
    Run r2;
    run_new(&r2, corpus, 8);
    r2.tc.log_every = 1;
    tr.out_dir = b;
    tr.stop_after = 4;
    tr.tok_json = r2.tj;
    CHECK(train_run(&r2.m, &r2.st, &r2.tc, &r2.d, &tr) == 0, "%s", em_errmsg());
    GPT m3;
    TrainState st3 = {0};
    TrainConfig tc3;
    char *dp = NULL, *tj3 = NULL;
    CHECK(train_open(b, &m3, &tj3, &st3, &tc3, &dp) == 1, "%s", em_errmsg());
    CHECK(tj3 && strcmp(tj3, r2.tj) == 0, "tokenizer not restored");
    free(tj3);
    CHECK(st3.step == 4, "state step %d", st3.step);
    CHECK(dp && strcmp(dp, corpus) == 0, "data path %s", dp ? dp : "(null)");
    CHECK(tc3.batch_size == r2.tc.batch_size && tc3.seq_len == r2.tc.seq_len &&
          tc3.grad_accum == r2.tc.grad_accum && tc3.warmup == r2.tc.warmup &&
          tc3.lr == r2.tc.lr && tc3.min_lr == r2.tc.min_lr && tc3.beta2 == r2.tc.beta2 &&
          tc3.eps == r2.tc.eps && tc3.weight_decay == r2.tc.weight_decay &&
          tc3.grad_clip == r2.tc.grad_clip && tc3.seed == r2.tc.seed &&
          tc3.eval_every == r2.tc.eval_every, "train config changed in the round trip");
    tr.stop_after = 0;
    CHECK(train_run(&m3, &st3, &tc3, &r2.d, &tr) == 0, "%s", em_errmsg());
    CHECK(memcmp(m3.params, r1.m.params, m3.num_params * 4) == 0, "parameters differ after resume");
    CHECK(memcmp(st3.m, r1.st.m, m3.num_params * 4) == 0, "Adam moments differ after resume");
    char *la = read_losses(a), *lb = read_losses(b);
    // the logs match line for line, except tokens/s
    int same = la && lb;
    for (char *x = la, *y = lb; same && *x && *y;) {
        char *nx = strstr(x, "\"tok_per_s\""), *ny = strstr(y, "\"tok_per_s\"");
        char *ex = strchr(x, '\n'), *ey = strchr(y, '\n');
        if (!ex || !ey) { same = *x == *y; break; }
        size_t cx = (nx && nx < ex) ? (size_t)(nx - x) : (size_t)(ex - x);
        size_t cy = (ny && ny < ey) ? (size_t)(ny - y) : (size_t)(ey - y);
        same = cx == cy && memcmp(x, y, cx) == 0;
        x = ex + 1; y = ey + 1;
        if (!*x || !*y) same &= !*x && !*y;
    }
    CHECK(same, "logs differ:\n%s\nvs\n%s", la ? la : "", lb ? lb : "");
    free(la); free(lb); free(dp);
    free(st3.m); free(st3.v);
    gpt_free(&m3);
    run_free(&r1);
    run_free(&r2);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

// The same as read_losses, without the tokens/s that differ between runs.
static char *read_log_no_speed(const char *dir) {
    char *t = read_losses(dir);
    if (!t) { em_clear_error(); return NULL; }
    char *o = t;
    for (char *i = t; *i;) {
        if (!strncmp(i, ",\"tok_per_s\":", 13)) { i += 13; while (*i && *i != '}') i++; }
        else *o++ = *i++;
    }
    *o = 0;
    return t;
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = read_file(a, &na), *y = read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    if (!x || !y) em_clear_error();
    free(x);
    free(y);
    return same;
}

// Files in dir other than the checkpoint and the log (a temporary left behind).
static int stray_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.' && strcmp(e->d_name, TRAIN_MODEL_FILE) &&
             strcmp(e->d_name, TRAIN_STATE_FILE) && strcmp(e->d_name, TRAIN_LOG_FILE);
    if (d) closedir(d);
    return n;
}

// A child: a new run of 8 steps into dir (saves at 5, 8 and at stop), stopped after stop (0: none). Exit 0: done.
static int child_new(const char *dir, const char *corpus, int stop) {
    Run r;
    run_new(&r, corpus, 8);
    r.tc.log_every = 2;   // the first step after a resume (5) is shown, not logged
    r.tc.save_every = 5;  // a save between two evaluations (at 3 and 6), then one at the end
    TrainRun tr = {.out_dir = dir, .data_path = corpus, .tok_json = r.tj,
                   .stop_after = stop};
    int rc = train_run(&r.m, &r.st, &r.tc, &r.d, &tr) ? 3 : 0;
    run_free(&r);
    return rc;
}

// A child: resumes dir (as `train --resume` does) and trains to the end. Exit 0: done,
// 2: train_open failed, 3: training failed, 4: it failed without naming ENOSPC and a file.
static int child_resume(const char *dir) {
    GPT m;
    TrainState st = {0};
    TrainConfig tc;
    char *tj = NULL, *dp = NULL;
    if (train_open(dir, &m, &tj, &st, &tc, &dp) != 1) return 2;
    Tokenizer tok = {0};
    TokenData d = {0};
    int rc = 0;
    if (tok_from_json(&tok, tj, dir) || data_load_text(dp, &tok, 0.1, 16, &d)) rc = 2;
    TrainRun tr = {.out_dir = dir, .data_path = dp, .tok_json = tj};
    if (!rc && train_run(&m, &st, &tc, &d, &tr) != 0) {
        rc = strstr(em_errmsg(), strerror(ENOSPC)) && strstr(em_errmsg(), dir) ? 3 : 4;
        if (rc == 4) fprintf(stderr, "  unclear: %s\n", em_errmsg());
    }
    free(st.m); free(st.v); free(tj); free(dp);
    tok_free(&tok); data_free(&d); gpt_free(&m);
    return rc;
}

// Runs a child (child_new or child_resume) in a fresh process: this binary again, with
// "--child" arguments (a fork alone would inherit OpenMP's threads in a state the child
// cannot use). Returns its exit status, or 100 + signal.
typedef struct { const char *dir, *corpus; int stop; long kill_at, fail_at; } ChildArg;
static const char *g_self;
static int in_child(const char *kind, const ChildArg *a) {
    char stop[32], kill_at[32], fail_at[32];
    snprintf(stop, sizeof stop, "%d", a->stop);
    snprintf(kill_at, sizeof kill_at, "%ld", a->kill_at);
    snprintf(fail_at, sizeof fail_at, "%ld", a->fail_at);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("OMP_NUM_THREADS", "1", 1);  // a tiny model: threads would only wait on each other
        execl(g_self, g_self, "--child", kind, a->dir, a->corpus ? a->corpus : "", stop, kill_at,
              fail_at, (char *)NULL);
        _exit(126);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

// The child's side: "--child new|resume DIR CORPUS STOP KILL_AT FAIL_AT". Resuming with
// STOP < 0 counts the writing calls and leaves their number in DIR.count.
static int child_main(char **argv) {
    const char *kind = argv[2], *dir = argv[3], *corpus = argv[4];
    int stop = atoi(argv[5]);
    if (!strcmp(kind, "new")) return child_new(dir, corpus, stop);
    fi_count = 0;
    fi_kill_at = atol(argv[6]);
    fi_fail_at = atol(argv[7]);
    fi_armed = fi_kill_at > 0 || fi_fail_at > 0 || stop < 0;
    int rc = child_resume(dir);
    if (stop < 0) {  // through a file descriptor: calls the hooks do not count
        char path[400], num[32];
        snprintf(path, sizeof path, "%s.count", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int n = snprintf(num, sizeof num, "%ld", fi_count);
        if (fd < 0 || write(fd, num, (size_t)n) != n) rc = 5;
        if (fd >= 0) close(fd);
    }
    return rc;
}

static int sh(const char *fmt, const char *a, const char *b) {
    char cmd[1000];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

// A run stopped at step 4 is resumed to step 8 (saves at 5 and 8) with the process stopped
// at every writing call in turn, then resumed again to the end: the checkpoint, the optimizer
// state and the log equal an uninterrupted run's, byte for byte. Then the same with each call
// failing as on a full disk: a clear error, and a resume that still ends bit-identical.
static void test_kill_and_full_disk_at_every_write(void) {
    // in memory where there is a tmpfs: hundreds of runs, each syncing its files
    char tmpl[] = "/dev/shm/emergent-train-XXXXXX", tmpl2[] = "/tmp/emergent-train-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) dir = mkdtemp(tmpl2);
    const char *corpus = write_corpus(dir);
    char ref[300], base[300], work[300], a[400], b[400];
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(base, sizeof base, "%s/base", dir);
    snprintf(work, sizeof work, "%s/work", dir);
    ChildArg ca = {.dir = ref, .corpus = corpus};
    CHECK(in_child("new", &ca) == 0, "uninterrupted run failed");
    ca = (ChildArg){.dir = base, .corpus = corpus, .stop = 4};
    CHECK(in_child("new", &ca) == 0, "run stopped at 4 failed");
    char *ref_log = read_log_no_speed(ref);
    CHECK(ref_log && strstr(ref_log, "\"step\":8,\"loss\""), "reference log: %s", ref_log ? ref_log : "");
    // how many writing calls the resumed run makes
    sh("rm -rf %s%s", work, "");
    sh("cp -r %s %s", base, work);
    ca = (ChildArg){.dir = work, .stop = -1};
    CHECK(in_child("resume", &ca) == 0, "counting run failed");
    snprintf(a, sizeof a, "%s.count", work);
    char *cnt = read_file(a, NULL);
    long n = cnt ? atol(cnt) : 0;
    free(cnt);
    CHECK(n > 50, "only %ld writing calls counted: the hooks are not reached", n);
    printf("  %ld injection points (kill), %ld (full disk)\n", n, n);
    int bad_kill = 0, bad_fail = 0, unclear = 0, failed = 0;
    for (int mode = 0; mode < 2; mode++) {
        for (long k = 1; k <= n; k++) {
            sh("rm -rf %s%s", work, "");
            sh("cp -r %s %s", base, work);
            ca = (ChildArg){.dir = work, .kill_at = mode == 0 ? k : 0, .fail_at = mode == 1 ? k : 0};
            int rc = in_child("resume", &ca);
            if (mode == 0 && rc != 77) { bad_kill++; fprintf(stderr, "  kill at %ld: exit %d\n", k, rc); continue; }
            if (mode == 1) {
                failed += rc == 3;
                if (rc == 4) { unclear++; fprintf(stderr, "  full disk at %ld: an unclear error\n", k); }
                else if (rc != 0 && rc != 3) { bad_fail++; fprintf(stderr, "  full disk at %ld: exit %d\n", k, rc); continue; }
            }
            ca = (ChildArg){.dir = work};
            rc = in_child("resume", &ca);
            snprintf(a, sizeof a, "%s/%s", ref, TRAIN_MODEL_FILE);
            snprintf(b, sizeof b, "%s/%s", work, TRAIN_MODEL_FILE);
            int ok = rc == 0 && same_file(a, b);
            snprintf(a, sizeof a, "%s/%s", ref, TRAIN_STATE_FILE);
            snprintf(b, sizeof b, "%s/%s", work, TRAIN_STATE_FILE);
            ok = ok && same_file(a, b);
            char *log = read_log_no_speed(work);
            int log_ok = log && ref_log && strcmp(log, ref_log) == 0;
            int stray = stray_files(work);
            if (!ok || !log_ok || stray) {
                *(mode ? &bad_fail : &bad_kill) += 1;
                fprintf(stderr, "  %s at call %ld: resume exit %d, %s%s%s\n", mode ? "full disk" : "kill",
                        k, rc, ok ? "" : "checkpoint differs ", log_ok ? "" : "log differs ",
                        stray ? "temporary files left" : "");
                if (!log_ok && log) fprintf(stderr, "%s", log);
            }
            free(log);
        }
    }
    CHECK(bad_kill == 0, "%d of %ld kills did not resume bit-identically", bad_kill, n);
    CHECK(bad_fail == 0 && unclear == 0, "%d of %ld full-disk failures did not resume bit-identically, "
          "%d gave an unclear error", bad_fail, n, unclear);
    CHECK(failed > n / 2, "only %d of %ld full-disk failures were reported", failed, n);
    free(ref_log);
    snprintf(a, sizeof a, "rm -rf %s", dir);
    CHECK(system(a) == 0, "cleanup");
}

// A log that ends in a line cut short (a kill while a line of step 1x was being written,
// the checkpoint at step 4) is trimmed to its complete lines: no merged line after resume.
static void test_log_cut_short_is_trimmed(void) {
    char tmpl[] = "/tmp/emergent-train-XXXXXX", *dir = mkdtemp(tmpl);
    const char *corpus = write_corpus(dir);
    char ref[300], b[300], path[400];
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    ChildArg ca = {.dir = ref, .corpus = corpus};
    CHECK(in_child("new", &ca) == 0, "uninterrupted run failed");
    ca.dir = b;
    ca.stop = 4;
    CHECK(in_child("new", &ca) == 0, "run stopped at 4 failed");
    snprintf(path, sizeof path, "%s/%s", b, TRAIN_LOG_FILE);
    FILE *f = fopen(path, "a");
    CHECK(f && fputs("{\"step\":1", f) >= 0 && fclose(f) == 0, "cannot append to %s", path);
    ca = (ChildArg){.dir = b};
    CHECK(in_child("resume", &ca) == 0, "resume failed");
    char *la = read_log_no_speed(ref), *lb = read_log_no_speed(b);
    CHECK(la && lb && strcmp(la, lb) == 0, "logs differ:\n%s\nvs\n%s", la ? la : "", lb ? lb : "");
    free(la);
    free(lb);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CHECK(system(path) == 0, "cleanup");
}

// A pair that is not one checkpoint is refused, naming both files: a state older than its
// model (the two files of a save renamed one after the other, killed in between, before
// checkpoints were one unit), and a state of another model at the same step.
static void test_open_refuses_a_mixed_pair(void) {
    char tmpl[] = "/tmp/emergent-train-XXXXXX", *dir = mkdtemp(tmpl);
    const char *corpus = write_corpus(dir);
    char b[300], path[400], old[400], cmd[1000];
    snprintf(b, sizeof b, "%s/b", dir);
    ChildArg ca = {.dir = b, .corpus = corpus, .stop = 4};
    CHECK(in_child("new", &ca) == 0, "run stopped at 4 failed");
    snprintf(path, sizeof path, "%s/%s", b, TRAIN_STATE_FILE);
    snprintf(old, sizeof old, "%s/state4", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s", path, old);
    CHECK(system(cmd) == 0, "copy");
    ca = (ChildArg){.dir = b};
    CHECK(in_child("resume", &ca) == 0, "resume failed");
    GPT m;
    TrainState st = {0};
    TrainConfig tc;
    char *tj = NULL, *dp = NULL;
    CHECK(train_open(b, &m, &tj, &st, &tc, &dp) == 1, "%s", em_errmsg());
    CHECK(st.step == 8, "resumed at step %d", st.step);
    free(st.m); free(st.v); free(tj); free(dp); gpt_free(&m);
    st = (TrainState){0};
    snprintf(cmd, sizeof cmd, "cp %s %s", old, path);
    CHECK(system(cmd) == 0, "copy");
    CHECK(train_open(b, &m, &tj, &st, &tc, &dp) == -1, "a model at 8 and a state at 4 accepted");
    CHECK(strstr(em_errmsg(), "step 8") && strstr(em_errmsg(), "step 4") &&
          strstr(em_errmsg(), TRAIN_MODEL_FILE) && strstr(em_errmsg(), TRAIN_STATE_FILE),
          "message: %s", em_errmsg());
    CHECK(m.params == NULL && st.m == NULL && tj == NULL, "memory left after a refusal");
    // the model of step 4 with one weight changed: the same step, another model
    snprintf(path, sizeof path, "%s/%s", b, TRAIN_MODEL_FILE);
    snprintf(cmd, sizeof cmd, "rm -rf %s", b);
    ca = (ChildArg){.dir = b, .corpus = corpus, .stop = 4};
    CHECK(system(cmd) == 0 && in_child("new", &ca) == 0, "run stopped at 4 failed");
    size_t len;
    char *bytes = read_file(path, &len);
    CHECK(bytes && len > 100, "%s", em_errmsg());
    if (bytes) {
        bytes[len - 1] ^= 1;
        CHECK(write_file_atomic(path, bytes, len) == 0, "%s", em_errmsg());
    }
    free(bytes);
    CHECK(train_open(b, &m, &tj, &st, &tc, &dp) == -1, "a state of another model accepted");
    CHECK(strstr(em_errmsg(), "model_digest") && strstr(em_errmsg(), "another model"),
          "message: %s", em_errmsg());
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

static void test_nan_stops_with_step(void) {
    char tmpl[] = "/tmp/emergent-train-XXXXXX", *dir = mkdtemp(tmpl);
    const char *corpus = write_corpus(dir);
    Run r;
    run_new(&r, corpus, 5);
    r.m.p.lnfw[0] = NAN;  // poisons every logit
    char out[300];
    snprintf(out, sizeof out, "%s/out", dir);
    TrainRun tr = {.out_dir = out, .data_path = corpus, .tok_json = r.tj};
    CHECK(train_run(&r.m, &r.st, &r.tc, &r.d, &tr) != 0, "NaN loss not detected");
    CHECK(strstr(em_errmsg(), "step 1") && strstr(em_errmsg(), "NaN"), "message: %s", em_errmsg());
    run_free(&r);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

int main(int argc, char **argv) {
    if (argc == 8 && !strcmp(argv[1], "--child")) return child_main(argv);
    g_self = argv[0];
    RUN(test_schedule);
    RUN(test_kill_and_full_disk_at_every_write);
    RUN(test_log_cut_short_is_trimmed);
    RUN(test_open_refuses_a_mixed_pair);
    RUN(test_resume_bit_identical);
    RUN(test_step_without_targets);
    RUN(test_nan_stops_with_step);
    return test_summary();
}
