// emergent export: a checkpoint as a Hugging Face GPT-2 folder.
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "model/checkpoint.h"

int cmd_export(int argc, char **argv) {
    const char *model = NULL, *out = NULL;
    int n_head = 0;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors), run directory or Hugging Face folder"},
        {"--out", ARG_STR, &out, "folder to write: config.json, tokenizer files, model.safetensors"},
        {"--n-head", ARG_INT, &n_head, "heads, for a Hugging Face file with no config.json", 0, 1 << 20},
        {NULL},
    };
    int rc = args_parse("export", "--model CKPT --out DIR", specs, argc, argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    if (!model || !out) { em_error("export: --model CKPT and --out DIR are required"); return 1; }
    GPT m;
    Tokenizer tok;
    if (cli_load_model_ex(model, &m, &tok, NULL, 0, n_head, CKPT_ALLOW_NO_TOKENIZER)) return 1;
    rc = hf_export(out, &m, &tok);
    if (!rc)
        fprintf(stderr, "wrote %s: config.json, %s, model.safetensors (%zu parameters)\n", out,
                tok.kind == TOK_BPE ? "vocab.json + merges.txt"
                : tok.kind == TOK_CHAR ? "emergent_tokenizer.json (a char tokenizer)"
                                       : "no tokenizer", m.num_params);
    tok_free(&tok);
    gpt_free(&m);
    return rc ? 1 : 0;
}
