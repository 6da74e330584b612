// emergent train: flags -> config, then the data, model and training modules.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "model/checkpoint.h"
#include "train/train.h"

// Ctrl-C asks the run to save and stop at the end of its step.
static volatile sig_atomic_t g_stop;
static void on_sigint(int sig) { (void)sig; g_stop = 1; }

// The run's progress lines and evaluations, as the library reports them.
static void show(void *ctx, const TrainReport *r) {
    if (r->kind == TRAIN_REPORT_EVAL) {
        printf("step %d: train loss %.4f, val loss %.4f%s\n", r->step, r->train_loss, r->val_loss,
               r->best ? " (best)" : "");
    } else {
        char el[32], eta[32];
        fmt_duration(el, sizeof el, r->elapsed);
        fmt_duration(eta, sizeof eta, r->eta);
        printf("step %*d/%d | loss %.4f | lr %.2e | norm %.2f | %.0f tok/s | %s | ETA %s\n",
               (int)snprintf(NULL, 0, "%d", r->steps), r->step, r->steps, r->loss, r->lr,
               r->grad_norm, r->tok_per_s, el, eta);
    }
    fflush(stdout);
}

// A dense measurement (--eval-task-every), as one line.
static int show_dense(void *ctx, const DenseRecord *r) {
    printf("step %d: task train acc %.4f, test acc %.4f | answer loss train %.4f, test %.4f | "
           "sum w^2 %.1f", r->step, r->acc[0], r->acc[1], r->loss[0], r->loss[1], r->weight_sq);
    if (isfinite(r->fourier)) printf(" | Fourier top-k share %.3f", r->fourier);
    printf("\n");
    fflush(stdout);
    return 0;
}

// What a run trains: the model and its tokenizer, the state, the data, the recipe.
typedef struct {
    GPT m;
    Tokenizer tok;
    TokenData d;
    TrainState st;
    TrainConfig tc;
    char *tok_json, *data_stored, *source;
    DenseEval dense;
    const char *data;  // what the data was loaded from
} Run;

static void run_free(Run *r) {
    free(r->st.m);
    free(r->st.v);
    free(r->tok_json);
    free(r->data_stored);
    free(r->source);
    dense_free(&r->dense);
    data_free(&r->d);
    tok_free(&r->tok);
    gpt_free(&r->m);
}

// A new run: the data (text or task mixture) first, its tokenizer sizes the model.
static int open_new(Run *r, GPTConfig *mc, const char *data, const char *task, int task_n,
                    int task_val_n, float val_frac, const char *tokenizer) {
    if (!data && !task) return em_error("--data FILE or --task SPEC is required (or --resume DIR)");
    if (data && task) return em_error("give --data or --task, not both");
    if (task && strcmp(tokenizer, "char"))
        return em_error("--tokenizer %s: --task trains on the char tokenizer only; give --data "
                        "FILE for a BPE tokenizer", tokenizer);
    if (tok_open(&r->tok, tokenizer)) return -1;  // "char": built from the text below
    if (r->tc.warmup >= r->tc.steps && r->tc.warmup > 0)
        printf("note: --warmup %d covers all %d steps\n", r->tc.warmup, r->tc.steps);
    if (task) {
        if (data_load_mixture(task, task_n, task_val_n, r->tc.seed, &r->tok, mc->block_size,
                              &r->d, &r->source))
            return -1;
        r->data = r->source;
    } else {
        if (data_is_shard_dir(data)) {
            if (r->tok.kind != TOK_BPE)
                return em_error("--data %s: token shards need the tokenizer they were written "
                                "with: give --tokenizer gpt2 or DIR", data);
            if (data_load_shards(data, &r->tok, mc->block_size, &r->d)) return -1;
        } else if (data_load_text(data, &r->tok, val_frac, mc->block_size, &r->d)) {
            return -1;
        }
        r->data = data;
    }
    mc->vocab_size = r->tok.vocab_size;
    if (gpt_create(&r->m, mc)) return -1;
    gpt_init_weights(&r->m, r->tc.seed);
    r->tc.seq_len = mc->block_size;
    train_state_new(&r->st, &r->m, r->tc.seed);
    r->tok_json = tok_to_json(&r->tok);
    return 0;
}

// A resumed run: the checkpoint (model, tokenizer, state, recipe) and its data again; the
// flags given now override the stored recipe's schedule and evaluation settings.
static int open_resumed(Run *r, const char *dir, const char *data, float val_frac,
                        const ArgSpec *specs) {
    TrainConfig stored;
    int found = train_open(dir, &r->m, &r->tok_json, &r->st, &stored, &r->data_stored);
    if (found == 0)
        return em_error("%s/%s: no checkpoint to resume (expected %s and %s)", dir,
                        TRAIN_MODEL_FILE, TRAIN_MODEL_FILE, TRAIN_STATE_FILE);
    if (found < 0) return -1;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, TRAIN_MODEL_FILE);
    if (!r->tok_json) return em_error("%s: __metadata__.tokenizer: missing", path);
    if (tok_from_json(&r->tok, r->tok_json, path)) return -1;
    TrainConfig given = r->tc;
    r->tc = stored;
#define KEEP(flag, field) if (args_given(specs, flag)) r->tc.field = given.field
    KEEP("--steps", steps); KEEP("--eval-every", eval_every); KEEP("--eval-iters", eval_iters);
    KEEP("--log-every", log_every); KEEP("--save-every", save_every);
    KEEP("--decay-steps", decay_steps); KEEP("--min-lr", min_lr);
#undef KEEP
    if (data_load_source(data ? data : r->data_stored, r->tc.seed, val_frac, &r->tok,
                         r->tc.seq_len, &r->d, &r->source))
        return -1;
    r->data = r->source;
    printf("resuming %s at step %d of %d\n", dir, r->st.step, r->tc.steps);
    return 0;
}

static void print_plan(const Run *r) {
    printf("data: %s, %zu tokens (%zu train, %zu val), vocab %d\n", r->data, r->d.n, r->d.split,
           r->d.n - r->d.split, r->tok.vocab_size);
    printf("model: %d layers, %d heads, %d wide, block %d: %.2fM parameters\n", r->m.cfg.n_layer,
           r->m.cfg.n_head, r->m.cfg.n_embd, r->m.cfg.block_size, r->m.num_params / 1e6);
    printf("train: %d steps x %d x %d tokens, lr %g -> %g (warmup %d), %d threads",
           r->tc.steps, r->tc.batch_size * r->tc.grad_accum, r->tc.seq_len, r->tc.lr,
           r->tc.min_lr, r->tc.warmup, em_threads());
    if (dist_size() > 1) printf(" x %d ranks (%s)", dist_size(), dist_describe());
    printf("\n");
    if (r->st.step > 0 && r->st.step >= r->tc.steps)
        printf("already at step %d of %d: nothing to do\n", r->st.step, r->tc.steps);
}

// Over ranks, whether each opened its run: a failure on rank 0 is printed there alone (the
// ranks read the same files, so they fail alike), one on another rank by that rank.
static int agree_setup(int rc) {
    if (dist_size() == 1) return rc;
    double f[2] = {rc && dist_rank() == 0, rc != 0};
    dist_allreduce_max_d(f, 2);
    if (f[0] && dist_rank() > 0) return CMD_REPORTED;
    if (rc && dist_rank() > 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", em_errmsg());
        em_error("rank %d: %s", dist_rank(), msg);
    }
    return f[1] ? (rc ? rc : CMD_REPORTED) : 0;
}

// Trains with Ctrl-C wired to a save and stop; the exit code, and the line that ends it.
static int train_and_report(Run *r, const char *out, int stop_after, int quiet, int dense_every) {
    g_stop = 0;
    void (*old_handler)(int) = signal(SIGINT, on_sigint);
    TrainRun run = {.out_dir = out, .data_path = r->data, .tok_json = r->tok_json,
                    .stop_after = stop_after, .stop = &g_stop, .on_report = quiet ? NULL : show,
                    .dense = dense_every > 0 ? &r->dense : NULL, .dense_every = dense_every,
                    .on_dense = quiet ? NULL : show_dense};
    double t0 = now_sec();
    int rc = train_run(&r->m, &r->st, &r->tc, &r->d, &run);
    signal(SIGINT, old_handler);
    if (rc == TRAIN_PEER_FAILED) return CMD_REPORTED;
    if (rc == TRAIN_STOPPED) {
        fprintf(stderr, "interrupted at step %d; checkpoint saved in %s (continue with "
                        "--resume %s)\n", r->st.step, out, out);
        return 130;
    }
    if (rc) return 1;
    char el[32];
    fmt_duration(el, sizeof el, now_sec() - t0);
    if (dist_size() > 1) {
        uint64_t dig = train_model_digest(&r->m);
        if (!dist_same_u64(dig)) {
            em_error("the parameters differ between the %d ranks at step %d", dist_size(),
                     r->st.step);
            return 1;
        }
        double comm = dist_comm_seconds(), exposed = dist_comm_exposed_seconds();
        printf("ranks: %d, the same parameters on every rank (digest %016llx); %.2f s of %.2f s "
               "in the gradient allreduce, %.2f s of it after backward (%.0f%% overlapped)\n",
               dist_size(), (unsigned long long)dig, comm, now_sec() - t0, exposed,
               comm > exposed ? 100.0 * (1.0 - exposed / comm) : 0.0);
    }
    if (r->st.step < r->tc.steps)
        printf("stopped at step %d of %d after %s (continue with --resume %s)\n", r->st.step,
               r->tc.steps, el, out);
    else
        printf("done in %s: %s/%s\n", el, out, TRAIN_MODEL_FILE);
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *data = NULL, *out = "runs/default", *resume = NULL, *task = NULL;
    const char *tokenizer = "char";
    int task_n = 0, task_val_n = 1000;
    GPTConfig mc = {.vocab_size = 0, .block_size = 64, .n_layer = 4, .n_head = 4, .n_embd = 128};
    Run r = {0};
    TrainConfig *tc = &r.tc;
    train_config_default(tc);
    int64_t seed = 1337;
    int quiet = 0, stop_after = 0, dense_every = 0, dense_n = 0, fourier_k = 5;
    float val_frac = 0.1f;
    ArgSpec specs[] = {
        {"--data", ARG_STR, &data, "text file to train on, or a directory of token shards (emergent tokenize --out, or llm.c's)"},
        {"--tokenizer", ARG_STR, &tokenizer, "char (built from --data), gpt2, or a directory with vocab.json + merges.txt"},
        {"--task", ARG_STR, &task, "train on generators and texts: add:2, or a mix such as add:2@0.7,file:x.txt@0.3"},
        {"--task-n", ARG_INT, &task_n, "training items of --task (0: the whole train split)", 0, 1 << 30},
        {"--task-val-n", ARG_INT, &task_val_n, "test items of --task for the validation loss", 1, 1 << 30},
        {"--out", ARG_STR, &out, "output directory: model, optimizer state, log.jsonl"},
        {"--resume", ARG_STR, &resume, "continue the run in this directory, bit-identically"},
        {"--n-layer", ARG_INT, &mc.n_layer, "transformer blocks", 1, 1024},
        {"--n-head", ARG_INT, &mc.n_head, "attention heads", 1, 1024},
        {"--n-embd", ARG_INT, &mc.n_embd, "embedding width", 1, 65536},
        {"--block-size", ARG_INT, &mc.block_size, "context length (tokens)", 1, 65536},
        {"--batch-size", ARG_INT, &tc->batch_size, "sequences per micro-batch", 1, 1 << 20},
        {"--grad-accum", ARG_INT, &tc->grad_accum, "micro-batches per optimizer step", 1, 1 << 20},
        {"--steps", ARG_INT, &tc->steps, "optimizer steps", 1, 1 << 30},
        {"--lr", ARG_FLOAT, &tc->lr, "peak learning rate", 0, 10},
        {"--min-lr", ARG_FLOAT, &tc->min_lr, "learning rate at the end of the cosine decay", 0, 10},
        {"--warmup", ARG_INT, &tc->warmup, "linear warmup steps", 0, 1 << 30},
        {"--decay-steps", ARG_INT, &tc->decay_steps, "step where the decay reaches --min-lr (0: --steps)", 0, 1 << 30},
        {"--beta1", ARG_FLOAT, &tc->beta1, "AdamW beta1", 0, 0.999999},
        {"--beta2", ARG_FLOAT, &tc->beta2, "AdamW beta2", 0, 0.999999},
        {"--weight-decay", ARG_FLOAT, &tc->weight_decay, "decoupled weight decay on 2-D weights", 0, 10},
        {"--grad-clip", ARG_FLOAT, &tc->grad_clip, "clip the global gradient norm (0: off)", 0, 1e9},
        {"--eval-every", ARG_INT, &tc->eval_every, "steps between train/val loss estimates (0: end only)", 0, 1 << 30},
        {"--eval-iters", ARG_INT, &tc->eval_iters, "batches per loss estimate", 1, 1 << 20},
        {"--eval-task-every", ARG_INT, &dense_every, "steps between task evaluations on the train and test splits (accuracy, answer loss, weight norm, Fourier share; 0: off), logged to DIR/dense.jsonl", 0, 1 << 30},
        {"--eval-task-n", ARG_INT, &dense_n, "items per split for --eval-task-every (0: every item of the split)", 0, 1 << 24},
        {"--fourier-k", ARG_INT, &fourier_k, "top frequencies in the Fourier share of a mod:P task's residue embedding", 1, 1 << 20},
        {"--val-frac", ARG_FLOAT, &val_frac, "fraction of the text held out for validation", 0, 0.9},
        {"--log-every", ARG_INT, &tc->log_every, "steps between progress lines (0: automatic)", 0, 1 << 30},
        {"--save-every", ARG_INT, &tc->save_every, "steps between checkpoints (0: at evaluations)", 0, 1 << 30},
        {"--seed", ARG_I64, &seed, "seed of every random choice (init, batches)", 0, 9.2e18},
        {"--stop-after", ARG_INT, &stop_after, "save and stop at this step (continue with --resume)", 0, 1 << 30},
        {"--quiet", ARG_FLAG, &quiet, "no progress lines"},
        {NULL},
    };
    int rc = args_parse("train", "--data FILE.txt [--out DIR] [flags]  |  --resume DIR [--steps N]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : dist_rank() > 0 ? CMD_REPORTED : 1;  // the same on every rank
    tc->seed = (uint64_t)seed;
    // over ranks, rank 0 alone prints (errors aside)
    if (dist_rank() > 0 && !freopen("/dev/null", "w", stdout)) {
        em_error("rank %d: cannot silence standard output", dist_rank());
        return 1;
    }
    if (resume) out = resume;
    if (resume && args_given(specs, "--tokenizer")) {
        em_error("--tokenizer: a resumed run keeps the tokenizer stored in %s/%s", resume,
                 TRAIN_MODEL_FILE);
        return 1;
    }
    // Over ranks, rank 0 opens a run to resume first (it may finish an interrupted save
    // there); the others then read the same directory (a shared file system).
    int first = resume && dist_size() > 1;
    if (first && dist_rank() == 0) rc = open_resumed(&r, resume, data, val_frac, specs);
    double root_failed = 0;
    if (first) {
        root_failed = dist_rank() == 0 && rc;
        dist_allreduce_max_d(&root_failed, 1);
        if (root_failed && dist_rank() > 0) return CMD_REPORTED;
    }
    if (!first || dist_rank() > 0)
        rc = resume ? open_resumed(&r, resume, data, val_frac, specs)
                    : open_new(&r, &mc, data, task, task_n, task_val_n, val_frac, tokenizer);
    if (!rc && dense_every > 0) {
        // one generator: the source of a task run is "task=SPEC;n=N;val=M"
        char t[256] = "";
        const char *src = r.source ? r.source : "", *semi = strchr(src, ';');
        if (!strncmp(src, "task=", 5) && semi && (size_t)(semi - src - 5) < sizeof t)
            memcpy(t, src + 5, (size_t)(semi - src - 5));
        if (!*t || strchr(t, ',') || strchr(t, '@') || !strncmp(t, "file:", 5))
            rc = em_error("--eval-task-every: needs a run on --task with one generator (such as "
                          "mod:97:-:0.3), got %s", *t ? t : src);
        else
            rc = dense_setup(&r.dense, t, &r.tok, dense_n, fourier_k, r.m.cfg.block_size, 12345);
        if (rc) rc = -1;
    }
    if (!root_failed) rc = agree_setup(rc);
    if (rc == CMD_REPORTED) {
        run_free(&r);
        return rc;
    }
    if (!rc) {
        print_plan(&r);
        if (dense_every > 0)
            printf("task evaluation every %d steps: %s, %d train and %d test items%s\n", dense_every,
                   r.dense.task, r.dense.n[0], r.dense.n[1],
                   r.dense.P ? "; Fourier share of the residues' embedding (tied head: "
                               "embedding = unembedding)" : "");
        rc = train_and_report(&r, out, stop_after, quiet, dense_every);
    } else {
        rc = 1;
    }
    run_free(&r);
    return rc;
}
