// Subcommands: each parses its flags (args.h) and calls the modules. No logic here.
// Each returns the process exit code; on error it leaves a message in em_errmsg().
#ifndef EMERGENT_COMMANDS_H
#define EMERGENT_COMMANDS_H

#include <stddef.h>

#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

// A checkpoint file or a run directory -> the model and its tokenizer; the file's path goes
// to path (may be NULL). -1 with a message naming the file.
int cli_load_model(const char *model, GPT *m, Tokenizer *tok, char *path, size_t np);
// Only the path: a run directory's model.safetensors, else the argument itself.
void cli_model_path(const char *model, char *path, size_t np);
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_w2v(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bpe(int argc, char **argv);
// the microscope's tools (src/cli/cmd_inspect_*.c)
int inspect_lens_main(int argc, char **argv);
int inspect_attention_main(int argc, char **argv);
int inspect_ablate_main(int argc, char **argv);
int inspect_patch_main(int argc, char **argv);
int inspect_neurons_main(int argc, char **argv);
int inspect_vectors_main(int argc, char **argv);
#endif
