// emergent generate: sample from a checkpoint with the KV cache.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "tokenizer/tokenizer.h"

static void emit(int id, void *ctx) {
    char b[TOK_MAX_BYTES];
    int n = tok_decode_one((const Tokenizer *)ctx, id, b);
    fwrite(b, 1, n, stdout);
    fflush(stdout);
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *prompt = "\n";
    int max_new = 200, top_k = 0;
    float temperature = 1.0f, top_p = 1.0f;
    int64_t seed = 1337;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--prompt", ARG_STR, &prompt, "text to continue"},
        {"--max-new", ARG_INT, &max_new, "tokens to generate", 0, 1 << 24},
        {"--temperature", ARG_FLOAT, &temperature, "sampling temperature (0: greedy)", 0, 100},
        {"--top-k", ARG_INT, &top_k, "sample among the k most likely tokens (0: all)", 0, 1 << 24},
        {"--top-p", ARG_FLOAT, &top_p, "nucleus: smallest set with this probability mass (1: off)", 0.0001, 1},
        {"--seed", ARG_I64, &seed, "sampling seed", 0, 9.2e18},
        {NULL},
    };
    int rc = args_parse("generate", "--model CKPT [--prompt TEXT] [flags]", specs, argc, argv,
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    int *ids = NULL;
    size_t n = 0;
    if (tok_encode(&tok, prompt, strlen(prompt), &ids, &n, "--prompt")) {
        tok_free(&tok); gpt_free(&m); return 1;
    }
    if (n == 0) {
        em_error("--prompt: empty; give at least one character");
        free(ids); tok_free(&tok); gpt_free(&m); return 1;
    }
    SampleConfig sc = {.temperature = temperature, .top_k = top_k, .top_p = top_p};
    Rng r;
    rng_seed(&r, (uint64_t)seed);
    int *out = xmalloc((n + max_new) * sizeof(int));
    fputs(prompt, stdout);
    double t0 = now_sec();
    gpt_generate(&m, ids, (int)n, max_new, &sc, &r, out, emit, &tok);
    double dt = now_sec() - t0;
    printf("\n");
    fprintf(stderr, "[%d tokens in %.2fs: %.1f tok/s]\n", max_new, dt, dt > 0 ? max_new / dt : 0);
    free(out);
    free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return 0;
}
