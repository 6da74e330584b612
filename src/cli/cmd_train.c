// emergent train: flags -> config, then the data, model and training modules.
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

int cmd_train(int argc, char **argv) {
    const char *data = NULL, *out = "runs/default", *resume = NULL, *task = NULL;
    int task_n = 0, task_val_n = 1000;
    char *source = NULL;
    GPTConfig mc = {.vocab_size = 0, .block_size = 64, .n_layer = 4, .n_head = 4, .n_embd = 128};
    TrainConfig tc;
    train_config_default(&tc);
    int64_t seed = 1337;
    int quiet = 0, stop_after = 0;
    float val_frac = 0.1f;
    ArgSpec specs[] = {
        {"--data", ARG_STR, &data, "UTF-8 text file to train on (char-level tokenizer)"},
        {"--task", ARG_STR, &task, "train on generators and texts: add:2, or a mix such as add:2@0.7,file:x.txt@0.3"},
        {"--task-n", ARG_INT, &task_n, "training items of --task (0: the whole train split)", 0, 1 << 30},
        {"--task-val-n", ARG_INT, &task_val_n, "test items of --task for the validation loss", 1, 1 << 30},
        {"--out", ARG_STR, &out, "output directory: model, optimizer state, log.jsonl"},
        {"--resume", ARG_STR, &resume, "continue the run in this directory, bit-identically"},
        {"--n-layer", ARG_INT, &mc.n_layer, "transformer blocks", 1, 1024},
        {"--n-head", ARG_INT, &mc.n_head, "attention heads", 1, 1024},
        {"--n-embd", ARG_INT, &mc.n_embd, "embedding width", 1, 65536},
        {"--block-size", ARG_INT, &mc.block_size, "context length (tokens)", 1, 65536},
        {"--batch-size", ARG_INT, &tc.batch_size, "sequences per micro-batch", 1, 1 << 20},
        {"--grad-accum", ARG_INT, &tc.grad_accum, "micro-batches per optimizer step", 1, 1 << 20},
        {"--steps", ARG_INT, &tc.steps, "optimizer steps", 1, 1 << 30},
        {"--lr", ARG_FLOAT, &tc.lr, "peak learning rate", 0, 10},
        {"--min-lr", ARG_FLOAT, &tc.min_lr, "learning rate at the end of the cosine decay", 0, 10},
        {"--warmup", ARG_INT, &tc.warmup, "linear warmup steps", 0, 1 << 30},
        {"--decay-steps", ARG_INT, &tc.decay_steps, "step where the decay reaches --min-lr (0: --steps)", 0, 1 << 30},
        {"--beta1", ARG_FLOAT, &tc.beta1, "AdamW beta1", 0, 0.999999},
        {"--beta2", ARG_FLOAT, &tc.beta2, "AdamW beta2", 0, 0.999999},
        {"--weight-decay", ARG_FLOAT, &tc.weight_decay, "decoupled weight decay on 2-D weights", 0, 10},
        {"--grad-clip", ARG_FLOAT, &tc.grad_clip, "clip the global gradient norm (0: off)", 0, 1e9},
        {"--eval-every", ARG_INT, &tc.eval_every, "steps between train/val loss estimates (0: end only)", 0, 1 << 30},
        {"--eval-iters", ARG_INT, &tc.eval_iters, "batches per loss estimate", 1, 1 << 20},
        {"--val-frac", ARG_FLOAT, &val_frac, "fraction of the text held out for validation", 0, 0.9},
        {"--log-every", ARG_INT, &tc.log_every, "steps between progress lines (0: automatic)", 0, 1 << 30},
        {"--save-every", ARG_INT, &tc.save_every, "steps between checkpoints (0: at evaluations)", 0, 1 << 30},
        {"--seed", ARG_I64, &seed, "seed of every random choice (init, batches)", 0, 9.2e18},
        {"--stop-after", ARG_INT, &stop_after, "save and stop at this step (continue with --resume)", 0, 1 << 30},
        {"--quiet", ARG_FLAG, &quiet, "no progress lines"},
        {NULL},
    };
    int rc = args_parse("train", "--data FILE.txt [--out DIR] [flags]  |  --resume DIR [--steps N]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    tc.seed = (uint64_t)seed;

    GPT m;
    Tokenizer tok = {0};
    TokenData d;
    TrainState st = {0};
    char *tok_json = NULL, *data_stored = NULL;
    char path[1200];
    if (resume) {
        // the model and its tokenizer, then the state; flags given now override the recipe
        out = resume;
        TrainConfig stored;
        int found = train_open(resume, &m, &tok_json, &st, &stored, &data_stored);
        if (found <= 0) {
            if (found == 0)
                em_error("%s/%s: no checkpoint to resume (expected %s and %s)", resume,
                         TRAIN_MODEL_FILE, TRAIN_MODEL_FILE, TRAIN_STATE_FILE);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s", resume, TRAIN_MODEL_FILE);
        if (!tok_json || tok_from_json(&tok, tok_json, path)) {
            if (!tok_json) em_error("%s: __metadata__.tokenizer: missing", path);
            rc = 1;
            goto out;
        }
        TrainConfig given = tc;
        tc = stored;
#define KEEP(flag, field) if (args_given(specs, flag)) tc.field = given.field
        KEEP("--steps", steps); KEEP("--eval-every", eval_every); KEEP("--eval-iters", eval_iters);
        KEEP("--log-every", log_every); KEEP("--save-every", save_every);
        KEEP("--decay-steps", decay_steps); KEEP("--min-lr", min_lr);
#undef KEEP
        if (!data) data = data_stored;
        if (data_load_source(data, tc.seed, val_frac, &tok, tc.seq_len, &d, &source)) { rc = 1; goto out; }
        data = source;
        printf("resuming %s at step %d of %d\n", resume, st.step, tc.steps);
    } else {
        if (!data && !task) { em_error("--data FILE or --task SPEC is required (or --resume DIR)"); return 1; }
        if (data && task) { em_error("give --data or --task, not both"); return 1; }
        if (tc.warmup >= tc.steps && tc.warmup > 0)
            printf("note: --warmup %d covers all %d steps\n", tc.warmup, tc.steps);
        if (task) {
            if (data_load_mixture(task, task_n, task_val_n, (uint64_t)seed, &tok, mc.block_size, &d, &source))
                return 1;
            data = source;
        } else if (data_load_text(data, &tok, val_frac, mc.block_size, &d)) {
            return 1;
        }
        mc.vocab_size = tok.vocab_size;
        if (gpt_create(&m, &mc)) { data_free(&d); tok_free(&tok); return 1; }
        gpt_init_weights(&m, tc.seed);
        tc.seq_len = mc.block_size;
        train_state_new(&st, &m, tc.seed);
        tok_json = tok_to_json(&tok);
    }
    printf("data: %s, %zu tokens (%zu train, %zu val), vocab %d\n", data, d.n, d.split,
           d.n - d.split, tok.vocab_size);
    printf("model: %d layers, %d heads, %d wide, block %d: %.2fM parameters\n", m.cfg.n_layer,
           m.cfg.n_head, m.cfg.n_embd, m.cfg.block_size, m.num_params / 1e6);
    printf("train: %d steps x %d x %d tokens, lr %g -> %g (warmup %d), %d threads\n", tc.steps,
           tc.batch_size * tc.grad_accum, tc.seq_len, tc.lr, tc.min_lr, tc.warmup, em_threads());
    if (resume && st.step >= tc.steps)
        printf("already at step %d of %d: nothing to do\n", st.step, tc.steps);
    g_stop = 0;
    void (*old_handler)(int) = signal(SIGINT, on_sigint);
    TrainRun run = {.out_dir = out, .data_path = data, .tok_json = tok_json,
                    .stop_after = stop_after, .stop = &g_stop, .on_report = quiet ? NULL : show};
    double t0 = now_sec();
    rc = train_run(&m, &st, &tc, &d, &run);
    signal(SIGINT, old_handler);
    if (rc == TRAIN_STOPPED) {
        fprintf(stderr, "interrupted at step %d; checkpoint saved in %s (continue with "
                        "--resume %s)\n", st.step, out, out);
        rc = 130;
    } else if (rc == 0) {
        char el[32];
        fmt_duration(el, sizeof el, now_sec() - t0);
        if (st.step < tc.steps)
            printf("stopped at step %d of %d after %s (continue with --resume %s)\n", st.step,
                   tc.steps, el, out);
        else
            printf("done in %s: %s/%s\n", el, out, TRAIN_MODEL_FILE);
    } else {
        rc = 1;
    }
    data_free(&d);
out:
    free(st.m);
    free(st.v);
    free(tok_json);
    free(data_stored);
    free(source);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}
