// The training loop.
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "model/checkpoint.h"
#include "train.h"


float train_eval_loss(GPT *m, const TrainConfig *tc, const TokenData *d, int part,
                      uint64_t seed) {
    int B = tc->batch_size, T = tc->seq_len;
    if (gpt_alloc_acts(m, B, T)) return NAN;
    int *inp = xmalloc((size_t)B * T * sizeof(int)), *tgt = xmalloc((size_t)B * T * sizeof(int));
    Rng r;
    rng_seed(&r, seed);
    double s = 0.0;
    int n = 0;
    for (int i = 0; i < tc->eval_iters; i++) {
        data_sample(d, part, B, T, &r, inp, tgt);
        gpt_forward(m, inp, tgt, B, T);
        if (m->n_valid > 0) { s += m->loss; n++; }  // a batch may hold no trained token
    }
    free(inp);
    free(tgt);
    return n ? (float)(s / n) : NAN;
}

double train_optimizer_step(GPT *m, TrainState *st, const TrainConfig *tc, float lr) {
    double norm = train_grad_norm(m->grads, m->num_params);
    if (!isfinite(norm)) return norm;
    float scale = tc->grad_clip > 0 && norm > tc->grad_clip ? (float)(tc->grad_clip / norm) : 1.0f;
    size_t sizes[NUM_PARAM_KINDS], off = 0;
    gpt_param_sizes(&m->cfg, sizes);
    for (int k = 0; k < NUM_PARAM_KINDS; k++) {
        int decay = gpt_kind_decays(k);
        adamw_update(m->params + off, m->grads + off, st->m + off, st->v + off, sizes[k], lr,
                     tc->beta1, tc->beta2, tc->eps, decay ? tc->weight_decay : 0.0f,
                     st->step + 1, scale);
        off += sizes[k];
    }
    return norm;
}

// The log first (fsync'd, so it holds every record up to the checkpoint's step), then the
// checkpoint (train_save).
static int save_all(const GPT *m, const TrainState *st, const TrainConfig *tc,
                    const TrainRun *run, FILE *log, const char *log_path) {
    if (fflush(log) != 0 || fsync(fileno(log)) != 0)
        return em_error("%s: write failed: %s", log_path, strerror(errno));
    return train_save(run->out_dir, m, run->tok_json, st, tc, run->data_path);
}

// On resume, keep the log's complete lines up to the resumed step: a line past it, or one
// cut short by a kill, is dropped, so the log reads as one uninterrupted run.
static int trim_log(const char *path, int step) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) { em_clear_error(); return 0; }  // no log yet
    char *out = xmalloc(len + 1);
    size_t m = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) break;  // the unterminated end of a write cut short
        size_t n = (size_t)(nl - line + 1);
        int s = -1;
        if (sscanf(line, "{\"step\":%d", &s) == 1 && s <= step) { memcpy(out + m, line, n); m += n; }
        line += n;
    }
    int rc = write_file_atomic(path, out, m);
    free(out);
    free(text);
    return rc;
}

// One dense measurement at st->step: a line of the dense log (flushed) and the caller's
// on_dense.
static int dense_step(GPT *m, const TrainState *st, const TrainConfig *tc, const TrainRun *run,
                      FILE *f, const char *path) {
    DenseRecord r;
    if (dense_measure(m, run->dense, tc->batch_size, st->step, &r)) return -1;
    char line[1024];
    dense_record_json(&r, run->dense->topk, line, sizeof line);
    if (fprintf(f, "%s\n", line) < 0 || fflush(f) != 0)
        return em_error("%s: write failed: %s", path, strerror(errno));
    return run->on_dense ? run->on_dense(run->ctx, &r) : 0;
}

static int auto_log_every(int steps) {
    int target = steps / 40;
    static const int nice[] = {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000};
    int best = 1;
    for (size_t i = 0; i < sizeof nice / sizeof nice[0]; i++) if (nice[i] <= target) best = nice[i];
    return best;
}

// ---- the gradient sum over the ranks -----------------------------------------------------
// Single (the default): one sum of the whole buffer after backward. Bucketed
// (EMERGENT_ALLREDUCE=bucketed): each bucket's sum starts as soon as this rank's last
// backward of the step has completed the bucket's layers, and runs while backward goes on
// with the layers below; the sums are waited for after backward. The default is the one
// bench/mpi.sh measured faster with Open MPI (which moves a nonblocking sum forward only
// inside MPI calls on the rank's thread). Over 2 ranks both give the same
// bits (a + b either way); over more, MPI may order each element's sum differently.
typedef struct {
    GPT *m;
    GradBuckets plan;
    float *buf;  // (plan.packed_floats) the buckets of several slices
    int next;    // the first bucket not started in this step
} GradSync;

// EMERGENT_ALLREDUCE (bucketed | single) and EMERGENT_BUCKET_MB (the bucket size, MB: >= 0;
// 25 as PyTorch DDP's bucket_cap_mb by default). *bucketed, *cap_bytes on success.
static int grad_sync_options(int *bucketed, size_t *cap_bytes) {
    const char *mode = getenv("EMERGENT_ALLREDUCE"), *mb = getenv("EMERGENT_BUCKET_MB");
    *bucketed = 0;
    *cap_bytes = (size_t)25 << 20;
    if (mode && *mode && strcmp(mode, "bucketed") && strcmp(mode, "single"))
        return em_error("EMERGENT_ALLREDUCE: expected bucketed or single, got '%s'", mode);
    if (mode && !strcmp(mode, "bucketed")) *bucketed = 1;
    if (mb && *mb) {
        char *end;
        double v = strtod(mb, &end);
        if (*end || !(v >= 0) || v > 1e6)
            return em_error("EMERGENT_BUCKET_MB: expected a size in MB from 0 to 1e6, got '%s'", mb);
        *cap_bytes = (size_t)(v * (1 << 20));
    }
    return 0;
}

static void grad_sync_start(GradSync *s, int k, int exposed) {
    const GradBuckets *b = &s->plan;
    const GradSlice *sl = b->slices + b->first[k];
    if (b->first[k + 1] - b->first[k] == 1) {
        dist_bucket_start(s->m->grads + sl->off, sl->n, exposed);
    } else {
        grad_bucket_pack(b, k, s->m->grads, s->buf);
        dist_bucket_start(s->buf + b->pos[k], grad_bucket_floats(b, k), exposed);
    }
}

// gpt_backward's grads_done: starts the buckets layer l completes, lets the others advance.
static void grad_sync_layer_done(void *ctx, int l) {
    GradSync *s = ctx;
    while (s->next < s->plan.n_buckets && s->plan.ready_after[s->next] >= l)
        grad_sync_start(s, s->next++, l < 0);
    dist_bucket_progress(l < 0);
}

// After backward: starts what is left (all of it on a rank whose last piece ran no backward),
// waits for every sum and copies the packed buckets back.
static void grad_sync_finish(GradSync *s) {
    while (s->next < s->plan.n_buckets) grad_sync_start(s, s->next++, 1);
    dist_bucket_wait();
    for (int k = 0; k < s->plan.n_buckets; k++)
        if (s->plan.first[k + 1] - s->plan.first[k] > 1)
            grad_bucket_unpack(&s->plan, k, s->buf, s->m->grads);
    s->next = 0;
}

// This rank's share of one step. The step's global batch, A micro-batches of B sequences,
// is drawn whole from st->rng (as one process draws it, so the RNG advances the same) and
// cut into dist_size() contiguous ranges of sequences; this rank runs forward and backward on
// its range, in pieces that stay inside one micro-batch. A piece holding n of its
// micro-batch's n_all trained tokens is weighted n / n_all, so that the sum over the ranks is
// one process's gradient and loss (a whole micro-batch: weight 1, the same arithmetic).
// *loss: this rank's part of the sum of micro-batch losses; *bad: the first micro-batch
// with a non-finite loss (-1: none), after which nothing more is computed. gs (NULL: none)
// watches the backward of this rank's last piece, which completes the step's gradients.
static void step_share(GPT *m, TrainState *st, const TrainConfig *tc, const TokenData *d,
                       int *inp, int *tgt, double *loss, int *bad, GradSync *gs) {
    int B = tc->batch_size, T = tc->seq_len, A = tc->grad_accum, R = dist_size();
    long G = (long)A * B, lo = G * dist_rank() / R, hi = G * (dist_rank() + 1) / R;
    long a_last = hi > lo ? (hi - 1) / B : -1;
    *loss = 0.0;
    *bad = -1;
    for (int a = 0; a < A; a++) {
        data_sample(d, 0, B, T, &st->rng, inp, tgt);
        long first = (long)a * B;
        int s0 = lo > first ? (int)(lo - first) : 0;
        int s1 = hi < first + B ? (int)(hi - first) : B;
        if (s0 >= s1 || *bad >= 0) continue;  // not this rank's (the draw still advances)
        int nb = s1 - s0, n_all = 0;
        if (nb < B)
            for (long i = 0; i < (long)B * T; i++) n_all += tgt[i] >= 0;
        gpt_forward(m, inp + (size_t)s0 * T, tgt + (size_t)s0 * T, nb, T);
        if (m->n_valid == 0) continue;  // no answer token in this piece
        if (!isfinite(m->loss)) { *bad = a; continue; }
        m->grads_done = gs && a == a_last ? grad_sync_layer_done : NULL;
        m->grads_ctx = gs;
        if (nb == B || m->n_valid == n_all) {
            *loss += m->loss;
            gpt_backward(m, inp + (size_t)s0 * T, 1.0f / A);
        } else {
            double w = (double)m->n_valid / n_all;
            *loss += m->loss * w;
            gpt_backward(m, inp + (size_t)s0 * T, (float)(w / A));
        }
        m->grads_done = NULL;
        m->grads_ctx = NULL;
    }
}

int train_run(GPT *m, TrainState *st, const TrainConfig *tc, const TokenData *d,
              const TrainRun *run) {
    int B = tc->batch_size, T = tc->seq_len, A = tc->grad_accum;
    int R = dist_size(), root = dist_rank() == 0;
    if (gpt_alloc_acts(m, B, T)) return -1;
    gpt_alloc_grads(m);
    // Only rank 0 touches the run directory. A failure before the loop is its alone; the
    // other ranks learn of it from the first agreement below.
    int rc = 0;
    FILE *log = NULL, *dense = NULL;
    char log_path[1200], dense_path[1200];
    snprintf(log_path, sizeof log_path, "%s/%s", run->out_dir, TRAIN_LOG_FILE);
    snprintf(dense_path, sizeof dense_path, "%s/%s", run->out_dir, TRAIN_DENSE_FILE);
    if (root) {
        if (make_dir(run->out_dir) ||
            (st->step > 0 ? trim_log(log_path, st->step) : (remove(log_path), 0)))
            rc = -1;
        else if (!(log = fopen(log_path, "a")))
            rc = em_error("%s: cannot open for writing: %s", log_path, strerror(errno));
        else if (run->dense) {
            if (st->step > 0 ? trim_log(dense_path, st->step) : (remove(dense_path), 0))
                rc = -1;
            else if (!(dense = fopen(dense_path, "a")))
                rc = em_error("%s: cannot open for writing: %s", dense_path, strerror(errno));
            else if (st->step == 0)
                rc = dense_step(m, st, tc, run, dense, dense_path);
        }
    }
    // every rank reads the same environment: rank 0 reports a bad value for all
    int bucketed;
    size_t cap_bytes;
    if (grad_sync_options(&bucketed, &cap_bytes) && root && !rc) rc = -1;
    GradSync sync = {.m = m}, *gs = NULL;
    if (R > 1 && bucketed) {
        grad_buckets_plan(&sync.plan, &m->cfg, cap_bytes);
        sync.buf = sync.plan.packed_floats ? xmalloc(sync.plan.packed_floats * sizeof(float)) : NULL;
        gs = &sync;
    }
    if (R > 1) {
        double f = rc != 0;
        dist_allreduce_max_d(&f, 1);
        if (f != 0 && !root) rc = TRAIN_PEER_FAILED;
    }
    int *inp = xmalloc((size_t)B * T * sizeof(int)), *tgt = xmalloc((size_t)B * T * sizeof(int));
    int log_every = tc->log_every > 0 ? tc->log_every : auto_log_every(tc->steps);
    uint64_t eval_seed = tc->seed ^ 0x5eedf00dULL;
    int start = st->step;
    double t0 = now_sec(), t_log = t0, t_eval_total = 0.0;
    long tok_since = 0;
    float best_val = INFINITY;
    if (rc) goto done;

    for (int step = st->step; step < tc->steps; step++) {
        float lr = train_lr(tc, step);
        gpt_zero_grad(m);
        double loss;
        int bad;
        step_share(m, st, tc, d, inp, tgt, &loss, &bad, gs);
        gpt_grads_materialize(m);  // zeros where no micro-batch reached a backward
        // the gradient sums first: every rank has started the same buckets, in one order,
        // before any other collective
        if (gs) grad_sync_finish(gs);
        else dist_allreduce_sum_f(m->grads, m->num_params);
        // the ranks agree on the loss, a non-finite one (the first micro-batch) and a stop
        double sum = loss, mx[3] = {bad >= 0 ? (double)(A - bad) : 0.0,
                                    bad >= 0 ? (isnan(m->loss) ? 2.0 : 1.0) : 0.0,
                                    run->stop && *run->stop ? 1.0 : 0.0};
        dist_allreduce_sum_d(&sum, 1);
        dist_allreduce_max_d(mx, 3);
        if (mx[0] > 0) {
            rc = em_error("step %d: the training loss is %s (micro-batch %d); stopping. The "
                          "last good checkpoint is in %s; try a lower learning rate", step + 1,
                          mx[1] == 2 ? "NaN" : "infinite", A - (int)mx[0], run->out_dir);
            goto done;
        }
        loss = sum / A;
        double norm = train_optimizer_step(m, st, tc, lr);
        if (!isfinite(norm)) {
            rc = em_error("step %d: the gradient norm is %s; stopping", step + 1,
                          isnan(norm) ? "NaN" : "infinite");
            goto done;
        }
        st->step = step + 1;
        tok_since += (long)B * T * A;
        if (run->on_step) run->on_step(run->ctx, st->step, tc->steps);

        // what this step does besides training, the same on every rank
        int last = st->step == tc->steps;
        // the log holds the same records whether or not the run was resumed; the first
        // step after a resume is only shown
        int logged = st->step % log_every == 0 || last || st->step == 1;
        int shown = logged || st->step == start + 1;
        int do_eval = tc->eval_every > 0 && (st->step % tc->eval_every == 0 || last);
        int do_dense = run->dense &&
                       (st->step % (run->dense_every > 0 ? run->dense_every : tc->steps) == 0 || last);
        int stop = run->stop_after > 0 && st->step == run->stop_after;
        int stop_asked = mx[2] > 0;
        int do_save = last || stop_asked || stop ||
                      (tc->save_every > 0 ? st->step % tc->save_every == 0 : do_eval);
        if (do_save && R > 1 && !dist_same_u64(train_model_digest(m))) {
            rc = em_error("step %d: the ranks' parameters differ (the gradient sums disagree); "
                          "nothing saved", st->step);
            goto done;
        }
        if (!root) goto agree;
        if (shown) {
            double t = now_sec(), dt = t - t_log;
            double per_step = (t - t0 - t_eval_total) / (st->step - start);
            double tps = dt > 0 ? tok_since / dt : 0;
            if (run->on_report) {
                TrainReport r = {.kind = TRAIN_REPORT_STEP, .step = st->step, .steps = tc->steps,
                                 .loss = loss, .lr = lr, .grad_norm = norm, .tok_per_s = tps,
                                 .elapsed = t - t0, .eta = per_step * (tc->steps - st->step)};
                run->on_report(run->ctx, &r);
            }
            if (logged) {
                fprintf(log, "{\"step\":%d,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.6g,\"tok_per_s\":%.1f}\n",
                        st->step, loss, lr, norm, tps);
                if (fflush(log) != 0) {  // one line at a time: a kill cuts at most the last
                    rc = em_error("%s: write failed: %s", log_path, strerror(errno));
                    goto agree;
                }
            }
            t_log = now_sec();
            tok_since = 0;
        }
        if (do_eval) {
            double te = now_sec();
            float tl = train_eval_loss(m, tc, d, 0, eval_seed);
            float vl = d->n > d->split ? train_eval_loss(m, tc, d, 1, eval_seed) : NAN;
            if (run->on_report) {
                TrainReport r = {.kind = TRAIN_REPORT_EVAL, .step = st->step, .steps = tc->steps,
                                 .train_loss = tl, .val_loss = vl, .best = vl < best_val,
                                 .elapsed = now_sec() - t0};
                run->on_report(run->ctx, &r);
            }
            if (vl < best_val) best_val = vl;
            fprintf(log, "{\"step\":%d,\"train_loss\":%.6f,\"val_loss\":%.6f}\n", st->step, tl, vl);
            if (fflush(log) != 0) {
                rc = em_error("%s: write failed: %s", log_path, strerror(errno));
                goto agree;
            }
            t_eval_total += now_sec() - te;
        }
        if (do_dense) {
            double te = now_sec();
            if ((rc = dense_step(m, st, tc, run, dense, dense_path))) goto agree;
            t_eval_total += now_sec() - te;
        }
        if (do_save) {
            double ts = now_sec();
            if (dense && fsync(fileno(dense)) != 0) {
                rc = em_error("%s: write failed: %s", dense_path, strerror(errno));
                goto agree;
            }
            if (save_all(m, st, tc, run, log, log_path)) { rc = -1; goto agree; }
            t_eval_total += now_sec() - ts;
        }
    agree:
        // rank 0's writes and evaluations may fail (or a dense measure stop the run): the
        // others wait for its outcome at each step that has any
        if (R > 1 && (logged || do_eval || do_dense || do_save)) {
            double f = rc != 0 ? 1.0 : 0.0;
            dist_allreduce_max_d(&f, 1);
            if (f != 0 && !root) rc = TRAIN_PEER_FAILED;
        }
        if (rc) goto done;
        if (stop) break;
        if (stop_asked) {
            rc = TRAIN_STOPPED;
            goto done;
        }
    }
done:
    if (dense && fclose(dense) != 0 && !rc)
        rc = em_error("%s: write failed: %s", dense_path, strerror(errno));
    if (log) fclose(log);
    free(inp);
    free(tgt);
    if (gs) grad_buckets_free(&sync.plan);
    free(sync.buf);
    return rc;
}
