// Subcommands: each parses its flags (args.h) and calls the modules. No logic here.
// Each returns the process exit code; on error it leaves a message in em_errmsg().
#ifndef EMERGENT_COMMANDS_H
#define EMERGENT_COMMANDS_H

#include <stddef.h>

#include "data/data.h"
#include "data/tasks.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

// A checkpoint file or a run directory -> the model and its tokenizer; the file's path goes
// to path (may be NULL). -1 with a message naming the file.
int cli_load_model(const char *model, GPT *m, Tokenizer *tok, char *path, size_t np);
// With n_head for a Hugging Face file that has no config.json (0: none), and extra load
// flags (CKPT_ALLOW_NO_TOKENIZER).
int cli_load_model_ex(const char *model, GPT *m, Tokenizer *tok, char *path, size_t np,
                      int n_head, unsigned more);
// Only the path: a run directory's model.safetensors, else the argument itself.
void cli_model_path(const char *model, char *path, size_t np);
// A task: a file (BIG-bench task.json, JSON lines) or a generator spec, with format added to
// arithmetic specs that name none (format may be NULL). The pool of exemplars is the train
// split (for files: the set itself, the query excluded: *pool_is_test = 1, pool untouched).
int cli_load_task(const char *spec, const char *format, int n, uint64_t seed, int split,
                  TaskSet *test, TaskSet *pool, int *pool_is_test);
// The training data of a run directory (its recorded source and seed), or of train (a text
// file, or a mixture with task_n items from seed, at block size block). -1 naming the file.
int cli_load_training(const char *run, const char *train, int task_n, int64_t seed,
                      float val_frac, int block, Tokenizer *tok, TokenData *d, char **src);
// The exit code of a rank other than 0 that failed because rank 0 did (main prints nothing).
#define CMD_REPORTED 3
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_w2v(int argc, char **argv);
int cmd_contamination(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bpe(int argc, char **argv);
int cmd_export(int argc, char **argv);
// the microscope's tools (src/cli/cmd_inspect_*.c)
int inspect_lens_main(int argc, char **argv);
int inspect_attention_main(int argc, char **argv);
int inspect_ablate_main(int argc, char **argv);
int inspect_patch_main(int argc, char **argv);
int inspect_neurons_main(int argc, char **argv);
int inspect_vectors_main(int argc, char **argv);
#endif
