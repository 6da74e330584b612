// The ladder runner: a pool of worker processes, one point each, resumable.
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "data/data.h"
#include "data/tasks.h"
#include "eval/eval.h"
#include "kernels/kernels.h"
#include "ladder/ladder.h"
#include "ladder/registry.h"
#include "ladder/runner_pool.h"
#include "model/checkpoint.h"
#include "train/train.h"

// ---- task data shared by the points of one seed --------------------------------------
// The points of a seed train on the same data (the task, its sizes and the seed decide it).
// The runner process loads it once, before it forks a worker for such a point, and the
// workers inherit it (copy-on-write); at most DATA_CACHE entries, DATA_CACHE_BYTES in all,
// the least recently used one dropped first.
#define DATA_CACHE 4
#define DATA_CACHE_BYTES ((size_t)1 << 30)
typedef struct {
    char task[512];
    uint64_t seed;
    int n, val_n, T;
    TokenData d;
    Tokenizer tok;
    char *tok_json;
    size_t bytes;
    long used;  // the clock of its last use; 0: empty
} DataEntry;
static DataEntry data_cache[DATA_CACHE];
static long data_clock;

static DataEntry *data_find(const LadderSpec *s, const LadderPoint *p) {
    for (int k = 0; k < DATA_CACHE; k++) {
        DataEntry *e = &data_cache[k];
        if (e->used && e->seed == (uint64_t)p->seed && e->n == s->task_n &&
            e->val_n == s->task_val_n && e->T == s->block_size && !strcmp(e->task, p->task))
            return e;
    }
    return NULL;
}

static void data_drop(DataEntry *e) {
    data_free(&e->d);
    tok_free(&e->tok);
    free(e->tok_json);
    memset(e, 0, sizeof *e);
}

// tests: every worker loads its own data (EMERGENT_TEST_NO_DATA_CACHE=1)
static int data_cache_off(void) {
    const char *off = getenv("EMERGENT_TEST_NO_DATA_CACHE");
    return off && *off == '1';
}

// x (loaded: its key, tok and d) into the cache, which owns it from here (dropped when it
// does not fit).
static void data_cache_put(DataEntry x) {
    x.tok_json = tok_to_json(&x.tok);
    x.bytes = x.d.n * (sizeof(int) + (x.d.mask ? 1 : 0)) + x.d.n_starts * sizeof(size_t);
    if (!x.tok_json || x.bytes > DATA_CACHE_BYTES) { data_drop(&x); return; }
    // room: a free slot within the bytes, dropping the least recently used entries
    for (;;) {
        size_t total = x.bytes;
        DataEntry *free_slot = NULL, *old = NULL;
        for (int k = 0; k < DATA_CACHE; k++) {
            DataEntry *c = &data_cache[k];
            total += c->bytes;
            if (!c->used) free_slot = c;
            else if (!old || c->used < old->used) old = c;
        }
        if (free_slot && total <= DATA_CACHE_BYTES) {
            x.used = ++data_clock;
            *free_slot = x;
            return;
        }
        data_drop(old);
    }
}

// In the runner, while the slots are busy, ahead of point p's worker: its data into the
// cache. Nothing cached on an error: the worker loads the data itself and reports it.
static void data_prefetch(const LadderSpec *s, const LadderPoint *p) {
    DataEntry *e = data_find(s, p);
    if (e) { e->used = ++data_clock; return; }
    if (strlen(p->task) >= sizeof e->task) return;
    DataEntry x = {.seed = (uint64_t)p->seed, .n = s->task_n, .val_n = s->task_val_n,
                   .T = s->block_size};
    snprintf(x.task, sizeof x.task, "%s", p->task);
    char *src = NULL;
    if (data_load_mixture(p->task, s->task_n, s->task_val_n, (uint64_t)p->seed, &x.tok,
                          s->block_size, &x.d, &src)) {
        em_clear_error();
        tok_free(&x.tok);
        return;
    }
    free(src);
    data_cache_put(x);
}

// ---- one point, in a worker process -------------------------------------------------
// Loads or creates the point's model, tokenizer and optimizer state.
static int point_setup(const LadderSpec *s, const LadderPoint *p, const char *dir, GPT *m,
                       Tokenizer *tok, char **tok_json, TrainState *st, TrainConfig *tc,
                       TokenData *d) {
    char path[1400];
    train_config_default(tc);
    tc->batch_size = s->batch_size;
    tc->seq_len = s->block_size;
    tc->steps = p->steps;
    tc->lr = p->lr;
    tc->min_lr = p->lr * s->min_lr_ratio;
    tc->warmup = s->warmup < p->steps ? s->warmup : p->steps / 10;
    tc->beta1 = s->beta1;
    tc->beta2 = s->beta2;
    tc->weight_decay = p->weight_decay;
    tc->grad_clip = s->grad_clip;
    tc->eval_every = 0;
    tc->eval_iters = 10;
    tc->seed = (uint64_t)p->seed;
    char *src = NULL;
    TrainConfig stored;
    int resumed = train_open(dir, m, tok_json, st, &stored, NULL);
    if (resumed < 0) return -1;
    if (resumed) {
        snprintf(path, sizeof path, "%s/%s", dir, TRAIN_MODEL_FILE);
        if (!*tok_json || tok_from_json(tok, *tok_json, path)) return em_error("%s: no tokenizer", path);
        if (train_check_resume(dir, m, st, &stored, &p->cfg, tc)) return -1;
    } else {
        memset(tok, 0, sizeof *tok);
    }
    // the runner's copy (inherited), when it was encoded with this tokenizer
    const DataEntry *e = data_find(s, p);
    if (e && (!resumed || (*tok_json && !strcmp(e->tok_json, *tok_json)))) {
        *d = e->d;  // this worker's own copy of the runner's memory: it frees it
        if (!resumed) *tok = e->tok;
    } else {
        if (data_load_mixture(p->task, s->task_n, s->task_val_n, (uint64_t)p->seed, tok,
                              s->block_size, d, &src))
            return -1;
        free(src);
    }
    if (!m->params) {
        GPTConfig c = p->cfg;
        c.vocab_size = tok->vocab_size;
        if (gpt_create(m, &c)) return -1;
        gpt_init_weights(m, (uint64_t)p->seed);
        train_state_new(st, m, (uint64_t)p->seed);
        *tok_json = tok_to_json(tok);
    }
    return 0;
}

// The contamination flags of the point's eval items (spec contam_n > 0): one overlap index
// over the train part of d (its characters), built once per point with the short lengths of
// every eval task, and each task's test items checked against it; dirty[t] (malloc'd, one
// byte per item) for each eval task, NULL throughout when the spec asks for no split.
static int point_flags(const LadderSpec *s, const LadderPoint *p, const TokenData *d,
                       const Tokenizer *tok, unsigned char **dirty) {
    for (int t = 0; t < 8; t++) dirty[t] = NULL;
    if (s->contam_n <= 0 || s->n_eval_tasks == 0) return 0;
    TaskSet test[8];
    const TaskSet *sets[8];
    int nt = 0, rc = 0;
    for (; nt < s->n_eval_tasks && !rc; nt++) {
        char spec[512];
        rc = ladder_eval_task(s, nt, p->eval_base, spec, sizeof spec) ||
             task_generate(spec, TASK_TEST, s->eval_n, s->eval_seed, &test[nt]);
        if (rc) break;
        sets[nt] = &test[nt];
    }
    int lens[OVERLAP_MAX_SHORT], nl = 0;
    size_t len = 0;
    uint32_t *sym = rc ? NULL : overlap_train_symbols(d, tok, &len);
    OverlapIndex ix = {0};
    if (!rc) rc = overlap_short_lengths(sets, nt, s->contam_n, lens, OVERLAP_MAX_SHORT, &nl) ||
                  overlap_build(&ix, sym, len, s->contam_n, lens, nl);
    for (int t = 0; t < nt && !rc; t++) {
        OverlapReport r;
        if ((rc = overlap_check_set(&ix, &test[t], &r))) break;
        dirty[t] = xmalloc((size_t)(r.n_items ? r.n_items : 1));
        memcpy(dirty[t], r.dirty, (size_t)r.n_items);
        overlap_report_free(&r);
    }
    if (sym) overlap_free(&ix);
    free(sym);
    for (int t = 0; t < nt; t++) taskset_free(&test[t]);
    return rc ? -1 : 0;
}

// The split of an evaluation (eval_split_by) as registry metrics: each metric over the clean
// items as "NAME@clean" and over the dirty ones as "NAME@dirty" (with its interval; none
// where a part has no item), and the counts as "items@clean" and "items@dirty" (value only).
static int split_metrics(const EvalResult *r, MetricValue *mv) {
    static const char *const part[2] = {"clean", "dirty"};
    static char names[2][MET_NUM][96];  // one worker process, one evaluation at a time
    int n = 0;
    for (int q = 0; q < 2; q++) {
        for (int k = 0; k < MET_NUM; k++) {
            const MetricSummary *x = &r->split[q][k];
            if (x->n <= 0) continue;
            snprintf(names[q][k], sizeof names[q][k], "%s@%s", eval_metric_names[k], part[q]);
            mv[n++] = (MetricValue){names[q][k], x->mean, x->se, x->lo, x->hi};
        }
        mv[n++] = (MetricValue){q ? "items@dirty" : "items@clean", r->n_split[q], NAN, NAN, NAN};
    }
    return n;
}

// Each eval task's test items and exemplar pool, generated once per point (the same at
// every evaluation step).
typedef struct { TaskSet test[8], pool[8]; int n; } EvalSets;

static int eval_sets(EvalSets *es, const LadderSpec *s, const LadderPoint *p) {
    if (es->n == s->n_eval_tasks) return 0;
    for (int t = es->n; t < s->n_eval_tasks; t++) {
        char spec[512];
        if (ladder_eval_task(s, t, p->eval_base, spec, sizeof spec)) return -1;
        if (task_generate(spec, TASK_TEST, s->eval_n, s->eval_seed, &es->test[t])) return -1;
        if (task_generate(spec, TASK_TRAIN, 256, s->eval_seed + 1, &es->pool[t])) {
            taskset_free(&es->test[t]);
            return -1;
        }
        es->n = t + 1;
    }
    return 0;
}

static void eval_sets_free(EvalSets *es) {
    for (int t = 0; t < es->n; t++) {
        taskset_free(&es->test[t]);
        taskset_free(&es->pool[t]);
    }
    es->n = 0;
}

// Evaluates the point's model on every eval task at this step, into the registry; dirty
// (point_flags) splits each task's metrics over clean and dirty items.
static int point_eval(RegSink *reg, const LadderSpec *s, const LadderPoint *p, GPT *m,
                      const Tokenizer *tok, int step, unsigned char *const *dirty, EvalSets *es) {
    if (eval_sets(es, s, p)) return -1;
    for (int t = 0; t < s->n_eval_tasks; t++) {
        const TaskSet *test = &es->test[t], *pool = &es->pool[t];
        EvalConfig ec = {.shots = s->eval_shots, .seed = s->eval_seed, .n_boot = 1000};
        EvalResult r;
        int rc = eval_task(m, tok, test, pool, &ec, &r);
        if (!rc && dirty[t]) rc = eval_split_by(&r, dirty[t], ec.n_boot, ec.seed);
        if (!rc) {
            MetricValue mv[3 * MET_NUM + EST_NUM + 2];
            int n = 0;
            for (int k = 0; k < MET_NUM; k++)
                if (r.sum[k].n > 0)
                    mv[n++] = (MetricValue){eval_metric_names[k], r.sum[k].mean, r.sum[k].se,
                                            r.sum[k].lo, r.sum[k].hi};
            for (int k = 0; k < EST_NUM; k++)
                if (r.stat[k].n > 0)
                    mv[n++] = (MetricValue){eval_stat_names[k], r.stat[k].mean, r.stat[k].se,
                                            r.stat[k].lo, r.stat[k].hi};
            if (r.has_split) n += split_metrics(&r, mv + n);
            rc = sink_add_eval(reg, p->key, step, test->name, r.n, mv, n, r.pos_acc, r.pos_acc_tf,
                              r.n_pos);
            eval_result_free(&r);
        }
        if (rc) return -1;
    }
    return 0;
}

// Memorisation as extraction (spec memorization.n > 0): spans of the point's training
// tokens, drawn from the eval seed, into the registry.
static int point_memorized(RegSink *reg, const LadderSpec *s, const LadderPoint *p,
                           const GPT *m, const TokenData *d, int step) {
    if (s->mem_n <= 0) return 0;
    MemorizeConfig mc = {.n = s->mem_n, .span = s->mem_span, .prefix = s->mem_prefix,
                         .seed = s->eval_seed};
    MetricSummary x;
    if (eval_memorized(m, d->tokens, d->split, &mc, &x))
        return em_error("%s: memorization: %s", s->path, em_errmsg());
    MetricValue mv = {EVAL_MEMO_METRIC, x.mean, x.se, x.lo, x.hi};
    return sink_add_eval(reg, p->key, step, EVAL_MEMO_TASK, x.n, &mv, 1, NULL, NULL, 0);
}

// What train_run's callbacks of a point see: its progress, and where dense measurements go.
typedef struct { PointProgress *prog; RegSink *reg; const char *point; int k; } PointCtx;
static void point_on_step(void *ctx, int step, int steps) {
    ((volatile PointProgress *)((PointCtx *)ctx)->prog)->step = step;
}
static int point_dense(void *ctx, const DenseRecord *r) {
    const PointCtx *c = ctx;
    RegDense d = {.step = r->step, .train_acc = r->acc[0], .test_acc = r->acc[1],
                  .train_loss = r->loss[0], .test_loss = r->loss[1], .weight_sq = r->weight_sq,
                  .fourier_share = r->fourier, .fourier_k = c->k};
    return sink_add_dense(c->reg, c->point, &d);
}

// A test of the pool's recovery (EMERGENT_TEST_KILL_POINT=KEY:STEP[:N]): the worker of point
// KEY kills itself once the registry holds its checkpoint at STEP, in its first N tries
// (default 1), as a crash at the worst moment would.
static void test_kill(const char *key, int step, int attempt) {
    const char *v = getenv("EMERGENT_TEST_KILL_POINT");
    char k[REG_NAME_MAX];
    int at = -1, n = 1;
    if (!v || sscanf(v, "%127[^:]:%d:%d", k, &at, &n) < 2) return;
    if (!strcmp(k, key) && at == step && attempt < n) kill(getpid(), SIGKILL);
}

// The machine a point runs on: the kernels' line, and over MPI ranks the host and rank.
static void machine_line(const RegSink *k, char *buf, size_t cap) {
    MachineInfo mi;
    kernels_machine(&mi);
    kernels_machine_line(&mi, buf, cap);
    if (k->ranks > 1) {
        char host[256] = "?";
        gethostname(host, sizeof host - 1);
        str_catf(buf, cap, " | host %s, rank %d of %d", host, k->rank, k->ranks);
    }
}

// One point, start to finish (or from its last checkpoint), in a worker process, its
// attempt-th try; every registry call through reg.
static int run_point(const LadderSpec *s, const LadderPoint *p, const char *out_dir,
                     RegSink *reg, PointProgress *prog, int attempt) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/points/%s", out_dir, p->key);
    if (make_dir(dir)) { sink_point_failed(reg, p->key, em_errmsg()); return -1; }
    sink_set_status(reg, p->key, "running");
    char machine[800];
    machine_line(reg, machine, sizeof machine);
    sink_set_machine(reg, p->key, machine);
    GPT m = {0};
    Tokenizer tok = {0};
    TokenData d = {0};
    TrainState st = {0};
    TrainConfig tc;
    char *tok_json = NULL;
    double t0 = now_sec();
    int rc = point_setup(s, p, dir, &m, &tok, &tok_json, &st, &tc, &d);
    // the registry's results came from checkpoints of this directory: never from a later one
    int reg_step;
    char reg_ck[1300];
    if (!rc && (rc = sink_last_checkpoint(reg, p->key, &reg_step, reg_ck, sizeof reg_ck)) == 1)
        rc = reg_step > st.step ? em_error("%s: at step %d, but the registry recorded a checkpoint "
                                           "at step %d (%s)", dir, st.step, reg_step, reg_ck) : 0;
    unsigned char *dirty[8] = {0};
    EvalSets es = {0};
    if (!rc) rc = point_flags(s, p, &d, &tok, dirty);
    DenseEval dense = {0};
    PointCtx pctx = {prog, reg, p->key, s->dense_k};
    if (!rc && s->dense_every > 0)
        rc = dense_setup(&dense, p->task, &tok, s->dense_n, s->dense_k, s->block_size,
                         s->eval_seed);
    int steps[64], ns = rc ? 0 : ladder_eval_steps(p->steps, s->eval_points, steps);
    if (!rc) { prog->step = st.step; prog->base = st.step; }
    for (int i = 0; i < ns && !rc; i++) {
        if (steps[i] < st.step) continue;  // done before an interruption (the step reached is redone: idempotent)
        TrainRun run = {.out_dir = dir, .data_path = p->task, .tok_json = tok_json,
                        .stop_after = steps[i] < p->steps ? steps[i] : 0,
                        .on_step = point_on_step, .ctx = &pctx,
                        .dense = s->dense_every > 0 ? &dense : NULL, .dense_every = s->dense_every,
                        .on_dense = point_dense};
        // a checkpoint exactly at this step (killed before its evaluation): evaluate only
        if (st.step < steps[i] && (rc = train_run(&m, &st, &tc, &d, &run))) break;
        float tl = train_eval_loss(&m, &tc, &d, 0, tc.seed ^ 0x5eedf00dULL);
        float vl = train_eval_loss(&m, &tc, &d, 1, tc.seed ^ 0x5eedf00dULL);
        rc = sink_add_loss(reg, p->key, st.step, tl, vl) || point_eval(reg, s, p, &m, &tok, st.step, dirty, &es) ||
             point_memorized(reg, s, p, &m, &d, st.step);
        if (!rc) {
            char ck[1300];
            snprintf(ck, sizeof ck, "%s/%s", dir, TRAIN_MODEL_FILE);
            rc = sink_add_checkpoint(reg, p->key, st.step, ck);
        }
        if (!rc) test_kill(p->key, st.step, attempt);
        if (!rc && st.step == p->steps) rc = sink_finish_run(reg, p->key, tl, vl, now_sec() - t0);
    }
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", em_errmsg());
        sink_point_failed(reg, p->key, msg);
        sink_set_status(reg, p->key, "failed");
    }
    dense_free(&dense);
    eval_sets_free(&es);
    for (int t = 0; t < 8; t++) free(dirty[t]);
    free(st.m);
    free(st.v);
    free(tok_json);
    data_free(&d);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

// The pool's work: point i of Work's points.
typedef struct { const LadderSpec *s; const LadderPoint *pts; const char *out_dir; } Work;
// Before the fork: a point whose data is not cached yet loads it in its own worker, on its
// own core, rather than holding the fork (and that core) back.
static void point_prefork(void *arg, int i) {
    const Work *w = arg;
    DataEntry *e = data_find(w->s, &w->pts[i]);
    if (e) e->used = ++data_clock;
}
static void point_prefetch(void *arg, int i) {
    const Work *w = arg;
    if (data_cache_off()) return;
    data_prefetch(w->s, &w->pts[i]);
}
static int point_work(void *arg, int i, int attempt, RegSink *sink, PointProgress *prog) {
    const Work *w = arg;
    return run_point(w->s, &w->pts[i], w->out_dir, sink, prog, attempt);
}

// ---- the run: directories, registry rows, a pool of worker processes ----------------
// out_dir/points, out_dir/spec.json (the spec travels with its results), and the quick mark.
static int prepare(const char *spec_path, const char *out_dir, int quick) {
    char path[1200];
    if (make_dir(out_dir)) return -1;
    snprintf(path, sizeof path, "%s/points", out_dir);
    if (make_dir(path)) return -1;
    size_t len;
    char *text = read_file(spec_path, &len);
    snprintf(path, sizeof path, "%s/spec.json", out_dir);
    if (!text || write_file_atomic(path, text, len)) { free(text); return -1; }
    free(text);
    snprintf(path, sizeof path, "%s/quick", out_dir);  // marks a quick variant's results
    return quick && write_file_atomic(path, "quick\n", 6) ? -1 : 0;
}

// The tasks checked (ladder_check_tasks) and the vocabulary size from the first task's
// training data of seed 1. That data, loaded as a point of that task and seed loads it,
// goes into the data cache for those points' workers.
static int check_and_vocab(LadderSpec *s) {
    const char *task = s->n_sweep && !strcmp(s->sweep_name, "task") ? s->sweep_tasks[0] : s->task;
    DataEntry x = {.seed = 1, .n = s->task_n, .val_n = s->task_val_n, .T = s->block_size};
    int kept = ladder_check_tasks_keep(s, &x.tok, &x.d);
    if (kept < 0) return -1;
    char *src = NULL;
    if (!kept && data_load_mixture(task, s->task_n > 0 ? s->task_n : 0, s->task_val_n, 1,
                                   &x.tok, s->block_size, &x.d, &src))
        return -1;
    free(src);
    s->vocab_size = x.tok.vocab_size;
    if (kept && !data_cache_off() && strlen(task) < sizeof x.task) {
        snprintf(x.task, sizeof x.task, "%s", task);
        data_cache_put(x);
    } else {
        data_drop(&x);
    }
    return 0;
}

// Every point into the registry (queued, or kept as it is); the unfinished ones into
// todo[*nt], the largest first (longest-processing-time order: the pool finishes sooner).
static int register_points(const LadderSpec *s, const LadderPoint *pts, int np,
                           const char *reg_path, int *todo, int *nt, double *flops_todo) {
    Registry *reg;
    if (reg_open(&reg, reg_path)) return -1;
    *nt = 0;
    *flops_todo = 0.0;
    for (int i = 0; i < np; i++) {
        const LadderPoint *p = &pts[i];
        RunInfo ri = {.point = p->key, .size_idx = p->size_idx, .n_layer = p->cfg.n_layer,
                      .n_head = p->cfg.n_head, .n_embd = p->cfg.n_embd,
                      .params = (long long)p->params, .seed = p->seed,
                      .sweep_name = s->sweep_name,
                      .sweep_value = p->sweep_idx >= 0 ? s->sweep_values[p->sweep_idx] : NAN,
                      .lr = p->lr, .steps = p->steps,
                      .tokens = (long long)p->steps * s->batch_size * s->block_size,
                      .flops = p->flops};
        char status[32] = "";
        if (reg_upsert_run(reg, &ri) || reg_get_status(reg, p->key, status, sizeof status) < 0) {
            reg_close(reg);
            return -1;
        }
        if (strcmp(status, "done")) { todo[(*nt)++] = i; *flops_todo += p->flops; }
    }
    reg_close(reg);  // workers open their own connections; none crosses a fork
    for (int a = 1; a < *nt; a++)
        for (int b = a; b > 0 && pts[todo[b]].flops > pts[todo[b - 1]].flops; b--) {
            int t = todo[b]; todo[b] = todo[b - 1]; todo[b - 1] = t;
        }
    return 0;
}

// Every result also as CSV and JSON beside the registry.
static int export_registry(const char *out_dir, const char *reg_path) {
    Registry *reg;
    char path[1200];
    if (reg_open(&reg, reg_path)) return -1;
    int rc = reg_export_csv(reg, out_dir);
    snprintf(path, sizeof path, "%s/registry.json", out_dir);
    if (!rc) rc = reg_export_json(reg, path);
    reg_close(reg);
    return rc;
}

int ladder_run(const char *spec_path, const char *out_dir, int jobs,
               void (*report)(void *ctx, const LadderProgress *p), void *ctx) {
    return ladder_run_opts(spec_path, out_dir, jobs, 0, report, ctx);
}

// Over MPI ranks, whether every rank got through a step (rc: this rank's result): 0 when all
// did; rank 0's failure is reported by rank 0 (the others return LADDER_PEER_FAILED), another
// rank's by that rank ("rank R: ..."; rank 0 returns LADDER_PEER_FAILED).
static int agree(int rc) {
    if (dist_size() == 1) return rc;
    double f[2] = {rc && dist_rank() == 0, rc ? dist_rank() + 1 : 0};
    dist_allreduce_max_d(f, 2);
    if (f[0] != 0) return dist_rank() == 0 ? -1 : LADDER_PEER_FAILED;
    if (f[1] == 0) return 0;
    if (!rc) return LADDER_PEER_FAILED;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", em_errmsg());
    return em_error("rank %d: %s", dist_rank(), msg);
}

// Over MPI ranks: out_dir must be one directory that every rank sees (the ranks resume each
// other's checkpoints there). Rank 0 creates it and writes a random token into it; every
// rank must read the same token.
static int check_shared_dir(const char *out_dir) {
    char path[1300], token[64] = "";
    snprintf(path, sizeof path, "%s/shared-fs-check", out_dir);
    int rc = 0;
    if (dist_rank() == 0) {
        unsigned long long r[2] = {(unsigned long long)now_sec() * 1000003ULL ^ (unsigned)getpid(), 0};
        FILE *f = fopen("/dev/urandom", "rb");
        if (f) { if (fread(r, sizeof r, 1, f) != 1) r[1] = 0; fclose(f); }
        snprintf(token, sizeof token, "%016llx%016llx", r[0], r[1]);
        rc = make_dir(out_dir) || write_file_atomic(path, token, strlen(token));
    }
    if ((rc = agree(rc))) return rc;
    dist_bcast_bytes(token, sizeof token, 0);
    size_t len = 0;
    char *text = dist_rank() == 0 ? NULL : read_file(path, &len);
    double bad = dist_rank() > 0 && !(text && len == strlen(token) && !memcmp(text, token, len))
                     ? dist_rank() : 0;
    free(text);
    dist_allreduce_max_d(&bad, 1);
    if (dist_rank() == 0) unlink(path);
    if (bad == 0) return 0;
    if (dist_rank() > 0) return LADDER_PEER_FAILED;
    return em_error("%s: rank %d does not see the files rank 0 writes there: a ladder over MPI "
                    "ranks needs its output directory on a file system every rank shares (NFS, "
                    "Lustre, ...)", out_dir, (int)bad);
}

int ladder_run_opts(const char *spec_path, const char *out_dir, int jobs, int quick,
                    void (*report)(void *ctx, const LadderProgress *p), void *ctx) {
    int rank = dist_rank(), size = dist_size(), rc;
    if (rank > 0) report = NULL;  // rank 0 alone reports
    if (size > 1 && (rc = check_shared_dir(out_dir))) return rc;
    LadderSpec s;
    static LadderPoint pts[LADDER_MAX * LADDER_MAX];
    int np = 0;
    rc = ladder_spec_load(spec_path, &s);
    if (!rc && quick) ladder_spec_quick(&s);
    if (!rc) rc = check_and_vocab(&s) || (rank == 0 && prepare(spec_path, out_dir, quick));
    if (!rc && (np = ladder_points(&s, pts, LADDER_MAX * LADDER_MAX)) < 0) rc = -1;
    char reg_path[1200];
    snprintf(reg_path, sizeof reg_path, "%s/registry.sqlite", out_dir);
    int *todo = xmalloc((size_t)(np > 0 ? np : 1) * sizeof(int)), nt = 0;
    double flops_todo = 0.0;
    if (!rc && rank == 0) rc = register_points(&s, pts, np, reg_path, todo, &nt, &flops_todo);
    if ((rc = agree(rc))) { free(todo); return rc; }
    double x[2] = {nt, 0};  // rank 0's count of points to run, on every rank
    dist_allreduce_max_d(x, 1);
    nt = (int)x[0];
    int cores = omp_get_num_procs();
    if (jobs < 1) jobs = cores;
    if (jobs > nt) jobs = nt > 0 ? nt : 1;
    int threads = cores / jobs > 0 ? cores / jobs : 1;
    const char *omp = getenv("OMP_NUM_THREADS");  // a cap on each worker's threads, when set
    if (omp && atoi(omp) > 0 && atoi(omp) < threads) threads = atoi(omp);
    x[0] = jobs;
    dist_allreduce_sum_d(x, 1);  // the workers of every rank
    if (report) {
        LadderProgress lp = {.stage = LADDER_START, .name = s.name, .points = np,
                             .sizes = s.n_sizes, .seeds = s.n_seeds, .swept = s.n_sweep > 0,
                             .to_run = nt, .jobs = (int)x[0], .threads = threads,
                             .ranks = size, .flops_todo = flops_todo};
        report(ctx, &lp);
    }
    // The ETA: the FLOPs of every point are known before it starts; the rate is measured
    // from the steps the workers report (other ranks send theirs to rank 0), so an estimate
    // stands after the first second.
    PointProgress *prog = mmap(NULL, (size_t)np * sizeof *prog + 1, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (prog == MAP_FAILED) { free(todo); return em_error("mmap: %s", strerror(errno)); }
    const char **keys = xcalloc((size_t)np + 1, sizeof *keys);
    double *flops = xcalloc((size_t)np + 1, sizeof *flops);
    int *steps = xcalloc((size_t)np + 1, sizeof *steps);
    for (int i = 0; i < np; i++) {
        prog[i] = (PointProgress){-1, 0};
        keys[i] = pts[i].key, flops[i] = pts[i].flops, steps[i] = pts[i].steps;
    }
    Work w = {&s, pts, out_dir};
    Pool pool = {.name = s.name, .keys = keys, .flops = flops, .steps = steps, .np = np,
                 .todo = todo, .nt = nt, .jobs = jobs, .threads = threads, .reg_path = reg_path,
                 .report = report, .ctx = ctx, .work = point_work, .arg = &w,
                 .prefork = point_prefork, .prefetch = point_prefetch};
    int failed = ladder_pool_run(&pool, prog);
    for (int k = 0; k < DATA_CACHE; k++)
        if (data_cache[k].used) data_drop(&data_cache[k]);
    munmap(prog, (size_t)np * sizeof *prog + 1);
    free(todo);
    free(keys);
    free(flops);
    free(steps);
    if (failed < 0) return size > 1 ? LADDER_ABORT : -1;
    if (rank > 0) return failed ? LADDER_PEER_FAILED : 0;
    if (export_registry(out_dir, reg_path)) return -1;
    if (report) {
        LadderProgress lp = {.stage = LADDER_END, .name = s.name, .registry = reg_path};
        report(ctx, &lp);
    }
    if (failed)
        return em_error("%d of %d points failed (see the messages above); run again to retry them",
                        failed, nt);
    return 0;
}
