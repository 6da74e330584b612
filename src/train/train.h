// train: the training loop: schedule, accumulation, clipping, AdamW, evaluation,
// checkpoints and bit-identical resume.
#ifndef EMERGENT_TRAIN_H
#define EMERGENT_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "core/core.h"
#include "data/data.h"
#include "model/gpt.h"

typedef struct {
    int batch_size;      // sequences per micro-batch
    int seq_len;         // T (<= block_size)
    int steps;           // optimizer steps in total
    int grad_accum;      // micro-batches per step
    float lr, min_lr;    // peak and floor of the schedule
    int warmup;          // linear warmup steps (from lr/warmup up to lr)
    int decay_steps;     // cosine from lr (at warmup) to min_lr (at decay_steps); 0: = steps
    float beta1, beta2, eps, weight_decay, grad_clip;  // grad_clip 0: off
    int eval_every, eval_iters;  // 0: no periodic evaluation
    int log_every;       // 0: automatic
    int save_every;      // 0: at evaluations and at the end
    uint64_t seed;
} TrainConfig;

void train_config_default(TrainConfig *tc);
// Learning rate at step (0-based): warmup, cosine decay, then the floor.
float train_lr(const TrainConfig *tc, int step);
// Global L2 norm of a gradient buffer (deterministic order, in double).
double train_grad_norm(const float *g, size_t n);

// The optimizer's state: AdamW moments, the step reached, the batch RNG.
typedef struct {
    float *m, *v;
    int step;        // steps completed
    Rng rng;         // draws training batches
} TrainState;

// Files in an output directory.
#define TRAIN_MODEL_FILE "model.safetensors"
#define TRAIN_STATE_FILE "state.safetensors"
#define TRAIN_LOG_FILE "log.jsonl"

// Saves the optimizer state (moments, step, RNG, the train config and data path) and
// the digest of m's parameters, which names the model the state belongs to.
int train_state_save(const char *path, const GPT *m, const TrainState *st,
                     const TrainConfig *tc, const char *data_path);
// Loads it; checks the moments match the model's parameter count. The stored
// config and data path are returned (data_path malloc'd).
int train_state_load(const char *path, const GPT *m, TrainState *st, TrainConfig *tc,
                     char **data_path);
// The step and model digest recorded in a state file, without reading its moments.
// *has_digest is 0 for a state written before digests were recorded.
int train_state_peek(const char *path, int *step, uint64_t *digest, int *has_digest);
// A 64-bit digest of the parameter bytes (not cryptographic: it tells pairs apart).
uint64_t train_model_digest(const GPT *m);
// Moments zeroed and the batch RNG seeded from seed, for a run that starts at step 0.
void train_state_new(TrainState *st, const GPT *m, uint64_t seed);

// ---- a run directory: DIR/model.safetensors + DIR/state.safetensors (+ DIR/log.jsonl) ----
// The model and the state are one checkpoint (see train_save in rundir.c for how a save
// survives a kill or a full disk at any instant).
//
// Saves m (with tok_json and its step) and st as the checkpoint of dir.
int train_save(const char *dir, const GPT *m, const char *tok_json, const TrainState *st,
               const TrainConfig *tc, const char *data_path);
// Opens dir's checkpoint for resuming: finishes a save interrupted between its renames,
// removes the temporaries of an unfinished one, then loads the model (m created,
// *tok_json malloc'd or NULL), the state (st's moments allocated, step, RNG), the stored
// recipe (*tc) and data path (*data_path malloc'd), and checks they are one checkpoint:
// the state's step and model digest equal the model's. Returns 1 when resumed, 0 when
// dir holds no checkpoint (nothing loaded or allocated), -1 with an error naming the file.
int train_open(const char *dir, GPT *m, char **tok_json, TrainState *st, TrainConfig *tc,
               char **data_path);
// Checks that a run opened by train_open is the one asked for: its stored recipe equals
// want in every field that shapes the weights (batch, sequence, steps, schedule, optimizer,
// seed), its model has cfg's layers, heads and width, and its step is within want->steps.
int train_check_resume(const char *dir, const GPT *m, const TrainState *st,
                       const TrainConfig *stored, const GPTConfig *cfg, const TrainConfig *want);

// One optimizer step on m->grads: the global norm, clipping to tc->grad_clip (folded
// into the update), AdamW with weight decay on 2-D weights only, t = st->step + 1.
// Returns the norm before clipping (not finite: nothing was updated).
double train_optimizer_step(GPT *m, TrainState *st, const TrainConfig *tc, float lr);

// What train_run reports at each progress line (kind TRAIN_REPORT_STEP) and at each
// evaluation (TRAIN_REPORT_EVAL); the caller prints it as it likes.
enum { TRAIN_REPORT_STEP, TRAIN_REPORT_EVAL };
typedef struct {
    int kind, step, steps;
    double loss, lr, grad_norm, tok_per_s;  // TRAIN_REPORT_STEP
    double elapsed, eta;                    // seconds; eta from the steps done in this call
    double train_loss, val_loss;            // TRAIN_REPORT_EVAL (val NaN without a split)
    int best;                               // the lowest validation loss so far
} TrainReport;

typedef struct {
    const char *out_dir;     // where checkpoints and the log go (created)
    const char *data_path;   // recorded in the state for --resume
    const char *tok_json;    // the tokenizer, stored with the model
    int stop_after;          // > 0: save and return once this step is reached
    // Set (from a signal handler, say) to stop: the run saves and returns TRAIN_STOPPED.
    volatile sig_atomic_t *stop;
    // Called after every optimizer step (NULL: none), e.g. for a caller's ETA.
    void (*on_step)(void *ctx, int step, int steps);
    // Called at each progress line and each evaluation (NULL: silent).
    void (*on_report)(void *ctx, const TrainReport *r);
    void *ctx;
} TrainRun;
#define TRAIN_STOPPED 1

// Trains m (weights initialised or loaded, st initialised) on d until tc->steps, or
// until stop_after or *stop. Returns 0 (the end or stop_after reached), TRAIN_STOPPED
// (stopped on request, the checkpoint saved at st->step), or -1 with a message (e.g. a
// NaN loss naming the step).
int train_run(GPT *m, TrainState *st, const TrainConfig *tc, const TokenData *d,
              const TrainRun *run);
// Mean loss over eval_iters batches of part 0 (train) or 1 (validation) of d, drawn
// from a fixed seed (the same batches at every evaluation).
float train_eval_loss(GPT *m, const TrainConfig *tc, const TokenData *d, int part,
                      uint64_t seed);

#endif
