// ladder/spec: a ladder of model sizes (and seeds, and optionally a second axis) trained
// on data the lab controls and evaluated under several metrics, read from a JSON file.
//
// {
//   "name": "addition-3",
//   "task": "add:3:pad",            training data: a generator or a mixture, as train --task
//   "task_n": 0,                    generated training items (0: the whole train split)
//   "budget": {"steps": 1500}       or {"tokens": 2.3e6} or {"tokens_per_param": 20}
//                                   (at most 2^30 steps per point)
//   "batch_size": 128, "block_size": 64,
//   "sizes": [{"n_layer": 2, "n_head": 4, "n_embd": 48}, ...]
//        or {"min_params": 1e3, "max_params": 3e5, "count": 6, "n_layer": 2, "head_size": 8},
//   "seeds": [1, 2, 3],             distinct integers in [0, 2^31 - 1]
//   "optimizer": {"lr": 1e-2, "min_lr_ratio": 0.1, "warmup": 100, "beta2": 0.99,
//                 "weight_decay": 0.1, "grad_clip": 1.0},
//   "lr_rule": {"type": "constant"} or {"type": "power", "ref_params": 1e5, "exponent": -0.5}
//                                   lr = lr * (params / ref_params)^exponent,
//   "sweep": {"name": "lr", "values": [1e-3, 1e-2]},   optional second axis: lr, task,
//                                   weight_decay (values in [0, 10]) or leak (values in [0, 1])
//                                   (distinct values; learning rates in [1e-8, 10])
//   "eval": {"tasks": ["add:3:pad"], "shots": 0, "n": 1000, "points": 6, "seed": 12345,
//            "contamination_n": 13}
//                                   points: evaluations at log-spaced steps (the last at the end)
//                                   contamination_n: every evaluation also split over the items
//                                   seen and unseen in the point's training data (n-gram
//                                   overlap, data.h overlap_*; n in characters, shorter items
//                                   matched whole); 0: not split. Default 13 in a leak sweep,
//                                   0 otherwise (the index costs up to 16 bytes per training
//                                   character and short item length, per worker)
//   "memorization": {"n": 200, "span": 50, "prefix": 32}
//                                   optional: at each evaluation, the fraction of n training
//                                   spans of `span` tokens that greedy decoding reproduces
//                                   from their first `prefix` tokens (eval_memorized; span <=
//                                   block_size), as metric "memorized" of task "memorization"
//   "leak_weight": 0.05             a leak sweep's share of the training items planted
//                                   (in (0, 1); see below)
//   "dense": {"every": 50, "n": 0, "fourier_k": 5}
//                                   optional: the training task's train and test splits scored
//                                   every `every` steps (n items per split, 0: all), with the
//                                   weight norm and the Fourier share (train.h, DenseEval)
// }
// Eval tasks may name the point's training task: "{task}" stands for the whole training task
// spec (the point's sweep value in a task sweep) and "{format}" for its last ':' field, so
// that "add:4:{format}" evaluates a point trained on add:3:scratch on add:4:scratch and one
// trained on add:3:direct on add:4:direct (each sweep value in its own format). "eval.tasks"
// may be empty ([]), as for a ladder trained on text: it then records losses only (train and
// held-out validation loss at each evaluation step).
// A leak sweep (the contamination experiment) trains each point on
// "TASK@(1-w),leak:FRAC:N:SEED:EVAL@w": the spec's task, plus test items of eval.tasks[0]
// (EVAL, its placeholders read against TASK) that an evaluation with eval.n and eval.seed
// draws, those with keyed hash < FRAC (mixture.c), repeated to fill the share w =
// leak_weight of the items. FRAC 0 plants nothing (the clean baseline, its task otherwise the
// same). It needs task_n > 0 (a mixture of generators is split by item count) and at least
// one eval task; the items actually dirty are counted by the overlap index, not assumed.
#ifndef EMERGENT_LADDER_SPEC_H
#define EMERGENT_LADDER_SPEC_H

#include <stdint.h>

#include "data/data.h"
#include "model/gpt.h"

#define LADDER_MAX 64
#define LADDER_MAX_STEPS (1 << 30)  // the most optimizer steps of one point, whatever the budget

typedef struct {
    int n_layer, n_head, n_embd;
} LadderSize;

typedef struct {
    char path[1024];                // the spec file, named in errors
    char name[96];
    char task[512];
    int task_n, task_val_n;
    int steps;                      // budget.steps, or 0
    double tokens, tokens_per_param;  // the other budgets, or 0
    int batch_size, block_size;
    LadderSize sizes[LADDER_MAX];
    int n_sizes;
    int seeds[LADDER_MAX];
    int n_seeds;
    float lr, min_lr_ratio, beta1, beta2, weight_decay, grad_clip;
    int warmup;
    char lr_rule[16];               // "constant" or "power"
    double lr_ref_params, lr_exponent;
    char sweep_name[16];            // "" (none), "lr", "task", "weight_decay" or "leak"
    double sweep_values[LADDER_MAX];
    char sweep_tasks[LADDER_MAX][128];
    int n_sweep;
    double leak_weight;             // a leak sweep's planted share of the training items
    char leak_tasks[LADDER_MAX][768];  // a leak sweep's training mixture per value (built by
                                    // ladder_spec_load and again by ladder_spec_quick)
    int contam_n;                   // eval.contamination_n (0: no split)
    int mem_n, mem_span, mem_prefix;  // memorization (n 0: none)
    char eval_tasks[8][128];        // as written: may hold "{task}" and "{format}"
    int n_eval_tasks, eval_shots, eval_n, eval_points;
    uint64_t eval_seed;
    int dense_every, dense_n, dense_k;  // dense evaluation (every 0: none)
    int vocab_size;                 // filled by the runner from the data
} LadderSpec;

// One (size, sweep value, seed) point of the ladder.
typedef struct {
    char key[64];                   // e.g. "s03-seed2" or "s03-lr0.01-seed2"
    int size_idx, sweep_idx, seed;
    GPTConfig cfg;
    size_t params;
    int steps;
    float lr, weight_decay;
    const char *task;               // training data of this point
    const char *eval_base;          // what eval tasks' placeholders read: the task, or in a
                                    // leak sweep the spec's task (not its mixture)
    double flops;                   // training FLOPs: (6 N + 12 L C T) per token x tokens
} LadderPoint;

// Reads and validates a spec; every error names the file and the field.
int ladder_spec_load(const char *path, LadderSpec *s);
// Expands the points (sizes x sweep x seeds) once vocab_size is known. Returns the count,
// or -1 (em_error naming the spec and the field) when a point's step count or learning
// rate falls outside its range: more than LADDER_MAX_STEPS steps, an lr outside [1e-8, 10].
int ladder_points(const LadderSpec *s, LadderPoint *pts, int cap);
// Before any training: every training task (the task, or each task of a task sweep) loads
// with the spec's block size, and every eval task's items fit it (eval_check_fit). Errors
// name the spec and the field.
int ladder_check_tasks(const LadderSpec *s);
// The same, handing back the data it loaded for the first training task (seed 1: what a
// point of that task and seed loads) in *keep_tok, *keep_d: returns 1 when it did (the
// caller owns them), 0 when there was none to keep (a leak sweep), -1 on an error.
int ladder_check_tasks_keep(const LadderSpec *s, Tokenizer *keep_tok, TokenData *keep_d);
// Eval task t of the points trained on `task` (the placeholders replaced) into out. Returns
// 0, or -1 (em_error naming the spec and the field) when the result does not fit in cap.
int ladder_eval_task(const LadderSpec *s, int t, const char *task, char *out, size_t cap);
// A leak sweep's training mixtures (leak_tasks) from the spec's task, eval.n and eval.seed
// (nothing for another sweep): 0, or -1 (em_error naming the spec) when one does not fit.
int ladder_leak_tasks(LadderSpec *s);
// The quick variant of a spec, for smoke tests of the whole pipeline: the 3 smallest sizes
// (all when fewer), the first 2 seeds, LADDER_QUICK_STEPS steps (whatever the budget),
// batches of at most 16, at most 2000 generated training items, 40 eval items and 100
// validation items, 2 evaluation points, at most 20 memorization spans.
// The sweep and the tasks stay as they are.
#define LADDER_QUICK_STEPS 30
void ladder_spec_quick(LadderSpec *s);
// The evaluation steps of a run of `steps` steps: `points` log-spaced, the last = steps.
int ladder_eval_steps(int steps, int points, int *out);

#endif
