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


// ---- data parallelism (dist.c: the only file that calls MPI) ---------------------------
// Under a launcher (mpirun -np N), N ranks train one model: each runs forward and backward
// on its share of every global batch, the gradients are summed over the ranks, and the
// optimizer runs identically on each. Built without MPI, or started alone: one rank, and
// the collectives do nothing.
//
// Starts MPI when the process was started by a launcher (-1 with a message when it was,
// but the build has no MPI). Called once, before anything else.
int dist_init(int *argc, char ***argv);
void dist_finalize(void);
int dist_rank(void);               // 0 .. dist_size() - 1
int dist_size(void);
const char *dist_describe(void);   // the MPI library, or how to build with one
// In-place sums (and maxima) over the ranks; the same result on every rank.
void dist_allreduce_sum_f(float *x, size_t n);
void dist_allreduce_sum_d(double *x, int n);
void dist_allreduce_max_d(double *x, int n);
// 1 when every rank passed the same v.
int dist_same_u64(uint64_t v);
// Nonblocking sums of the gradients, in buckets (see GradBuckets): dist_bucket_start starts
// the in-place sum of x over the ranks, dist_bucket_progress lets the started sums advance
// (MPI progresses them only inside its calls, on the calling thread) and dist_bucket_wait
// finishes them all. exposed: 1 when called once backward has no layer left to compute.
// Every rank starts the same buckets in the same order.
void dist_bucket_start(float *x, size_t n, int exposed);
void dist_bucket_progress(int exposed);
void dist_bucket_wait(void);
// Seconds spent in the gradient sums' MPI calls so far (dist_allreduce_sum_f, dist_bucket_*),
// and the exposed part of them: all of dist_allreduce_sum_f's, the buckets' calls made once
// backward had no layer left to compute. 1 - exposed / total: the share of that time spent
// between layers. It still runs on the rank's thread, so what the overlap gains is shown by
// the exposed time against the single allreduce's, and by the tokens per second.
double dist_comm_seconds(void);
double dist_comm_exposed_seconds(void);
// Point-to-point byte messages in MPI_COMM_WORLD (the ladder's scheduler and its ranks),
// from the process that started MPI only. src < 0: any rank. dist_poll: 1 when a message of
// tag from src waits (*from: its rank). dist_recv_bytes waits for one: *buf malloc'd (NUL
// after its *n bytes). Without MPI running, send and receive fail and poll says 0.
int dist_send_bytes(int dest, int tag, const void *buf, int n);
int dist_poll(int src, int tag, int *from);
int dist_recv_bytes(int src, int tag, char **buf, int *n, int *from);
void dist_bcast_bytes(void *buf, int n, int root);  // root's n bytes to every rank
// Ends every rank of the job (MPI_Abort) with code; returns when MPI is not running.
void dist_abort(int code);
// In a process forked after dist_init: from now on it is one rank alone and never calls MPI
// (training in it is not data-parallel).
void dist_detach(void);

// ---- gradient buckets (buckets.c; no MPI) ----------------------------------------------
// gpt_backward completes the gradients layer by layer from the last layer down, then the
// embeddings in the encoder (wte's gradient, which the tied head starts, completes only
// there; ln_f's is complete before the layers but is summed with them). A plan groups these
// units in that order (layer L-1, ..., layer 0, then wte, wpe, ln_f) into buckets of at least
// cap bytes each (the last may be smaller; cap 0: one unit per bucket). Bucket k is a list of
// slices of the gradient buffer, sorted and with neighbours merged; a bucket of one slice
// is summed in place, the others are packed into a buffer of packed_floats floats at pos[k].
// Every parameter is in exactly one slice of one bucket.
typedef struct { size_t off, n; } GradSlice;  // floats into the gradient buffer
typedef struct {
    int n_buckets, n_slices;
    GradSlice *slices;     // (n_slices) bucket k's are first[k] .. first[k + 1] - 1
    int *first;            // (n_buckets + 1)
    size_t *pos;           // (n_buckets + 1) bucket k's place in the packed buffer (floats)
    int *ready_after;      // (n_buckets) complete once layer ready_after is (-1: the encoder)
    size_t packed_floats;  // the packed buffer's size (0: every bucket is one slice)
} GradBuckets;
void grad_buckets_plan(GradBuckets *b, const GPTConfig *c, size_t cap_bytes);
void grad_buckets_free(GradBuckets *b);
size_t grad_bucket_floats(const GradBuckets *b, int k);
// Copies bucket k's slices of grads to buf + pos[k], one after the other, and back.
void grad_bucket_pack(const GradBuckets *b, int k, const float *grads, float *buf);
void grad_bucket_unpack(const GradBuckets *b, int k, const float *buf, float *grads);

// ---- dense evaluation during training (progress measures over steps) ------------------
// A task's train and test items, tokenized once, scored under teacher forcing at a fixed
// interval: exact match of the answer (every target token the argmax; the stop is not
// scored) and the answer's cross-entropy (nats, summed over its target tokens, averaged over
// items), plus two continuous measures of the weights: the total squared norm and, for a
// modular task (mod:P:...), the share of the residues' embedding Fourier power in its top-k
// frequencies. The model's head is tied, so that embedding is also the unembedding.
typedef struct {
    char task[128];
    int n[2];              // items of the train (0) and test (1) split
    int T;                 // positions per item (the longest prompt + answer, minus one)
    int *inp[2], *tgt[2];  // (n, T) input ids, and target ids (-1 outside the answer)
    int P;                 // the modulus of a mod:P task, else 0 (no Fourier share)
    int *residue_tok;      // (P) the token id of each residue 0..P-1
    int topk;              // frequencies in the Fourier share
} DenseEval;

typedef struct {
    int step;
    double acc[2], loss[2];  // exact match and answer cross-entropy: train, test split
    double weight_sq;        // sum of squares of every parameter
    double fourier;          // top-k Fourier share of the residue embedding (NaN: no mod:P)
    double seconds;          // what this measurement took
} DenseRecord;

// Items of task (one generator spec) from both splits: n per split (0: every item of a
// listed family), drawn from seed, tokenized with tok; each must fit block_size + 1 tokens.
// topk in 1..P/2 (used only for mod:P). Errors name the task.
int dense_setup(DenseEval *de, const char *task, const Tokenizer *tok, int n, int topk,
                int block_size, uint64_t seed);
void dense_free(DenseEval *de);
// Measures m at step, in batches of at most B items (B <= the arena's batch when it fits).
int dense_measure(GPT *m, const DenseEval *de, int B, int step, DenseRecord *r);
// Sum of squares of every parameter (in double).
double dense_weight_sq(const GPT *m);
// x: P rows (residues 0..P-1) of C values, row stride ld. Per column, the DFT over the
// residues; the power of frequency f (1 <= f <= P/2) is |X_f|^2 + |X_{P-f}|^2 (one term at
// f = P/2), summed over the columns; the constant (f = 0) is left out. Returns the share of
// that power in the k largest frequencies (1 when k >= P/2), NaN when it is zero (below
// 1e-20 of the power with the constant: rounding, as for constant columns).
double dense_fourier_share(const float *x, int P, int C, int ld, int k);
// One dense record as a JSON line (no newline) into buf.
void dense_record_json(const DenseRecord *r, int topk, char *buf, size_t cap);
#define TRAIN_DENSE_FILE "dense.jsonl"

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
    // Dense evaluation (NULL: none): at step 0 of a fresh run, every dense_every steps and at
    // the end, into out_dir/dense.jsonl and to on_dense (NULL: none; nonzero stops the run).
    const DenseEval *dense;
    int dense_every;
    int (*on_dense)(void *ctx, const DenseRecord *r);
} TrainRun;
#define TRAIN_STOPPED 1
#define TRAIN_PEER_FAILED 2  // another rank failed (rank 0 holds the message); not rank 0

// Trains m (weights initialised or loaded, st initialised) on d until tc->steps, or
// until stop_after or *stop. Returns 0 (the end or stop_after reached), TRAIN_STOPPED
// (stopped on request, the checkpoint saved at st->step), or -1 with a message (e.g. a
// NaN loss naming the step). Over several ranks (dist_size() > 1) every rank calls it with
// the same arguments; each draws the whole global batch (grad_accum x batch_size sequences,
// the draws of one process) and trains on its contiguous share, so the run is the one
// process's up to the order of the gradient sums. Only rank 0 writes (log, checkpoints,
// dense log) and reports; the ranks agree on every stop, and a rank other than 0 returns
// TRAIN_PEER_FAILED when rank 0 failed. A stop on any rank stops them all.
int train_run(GPT *m, TrainState *st, const TrainConfig *tc, const TokenData *d,
              const TrainRun *run);
// Mean loss over eval_iters batches of part 0 (train) or 1 (validation) of d, drawn
// from a fixed seed (the same batches at every evaluation).
float train_eval_loss(GPT *m, const TrainConfig *tc, const TokenData *d, int part,
                      uint64_t seed);

#endif
