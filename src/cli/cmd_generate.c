// emergent generate: sample from a checkpoint with the KV cache.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "tokenizer/tokenizer.h"

typedef struct { const Tokenizer *tok; int ids, n; } Emit;

static void emit(int id, void *ctx) {
    Emit *e = ctx;
    if (e->ids) {
        printf("%s%d", e->n++ ? "," : "", id);
    } else {
        char b[TOK_MAX_BYTES];
        fwrite(b, 1, tok_decode_one(e->tok, id, b), stdout);
    }
    fflush(stdout);
}

// "1,2,3" -> ids (malloc'd), each below V.
static int parse_ids(const char *s, int V, int **ids, size_t *n) {
    size_t cap = 16;
    *ids = xmalloc(cap * sizeof(int));
    *n = 0;
    for (const char *p = s;;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v >= V) {
            free(*ids);
            return em_error("--prompt-ids: item %zu: expected a token id in 0..%d (comma-separated)",
                            *n, V - 1);
        }
        if (*n == cap) *ids = xrealloc(*ids, (cap *= 2) * sizeof(int));
        (*ids)[(*n)++] = (int)v;
        if (!*end) return 0;
        if (*end != ',') {
            free(*ids);
            return em_error("--prompt-ids: unexpected '%c' after item %zu", *end, *n - 1);
        }
        p = end + 1;
    }
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *prompt = "\n", *prompt_ids = NULL, *context = "slide";
    int max_new = 200, top_k = 0, print_ids = 0, n_head = 0;
    float temperature = 1.0f, top_p = 1.0f;
    int64_t seed = 1337;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors), run directory or Hugging Face folder"},
        {"--prompt", ARG_STR, &prompt, "text to continue"},
        {"--prompt-ids", ARG_STR, &prompt_ids, "the prompt as token ids, comma-separated (1,2,3)"},
        {"--ids", ARG_FLAG, &print_ids, "print the token ids (comma-separated), not text", 0, 0, 0},
        {"--max-new", ARG_INT, &max_new, "tokens to generate", 0, 1 << 24},
        {"--temperature", ARG_FLOAT, &temperature, "sampling temperature (0: greedy)", 0, 100},
        {"--top-k", ARG_INT, &top_k, "sample among the k most likely tokens (0: all)", 0, 1 << 24},
        {"--top-p", ARG_FLOAT, &top_p, "nucleus: smallest set with this probability mass (1: off)", 0.0001, 1},
        {"--seed", ARG_I64, &seed, "sampling seed", 0, 9.2e18},
        {"--context", ARG_STR, &context, "past the block size: slide (exact: the last block_size "
                                         "tokens) or halve (faster: restart from the last half)"},
        {"--n-head", ARG_INT, &n_head, "heads, for a Hugging Face file with no config.json", 0, 1 << 20},
        {NULL},
    };
    int rc = args_parse("generate", "--model CKPT [--prompt TEXT | --prompt-ids 1,2,3] [flags]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    if (strcmp(context, "slide") && strcmp(context, "halve")) {
        em_error("--context: expected slide or halve, found \"%s\"", context);
        return 1;
    }
    GPT m;
    Tokenizer tok;
    // with ids in and out, a checkpoint without a tokenizer will do
    unsigned more = prompt_ids && print_ids ? CKPT_ALLOW_NO_TOKENIZER : 0;
    if (cli_load_model_ex(model, &m, &tok, NULL, 0, n_head, more)) return 1;
    int *ids = NULL;
    size_t n = 0;
    if (prompt_ids ? parse_ids(prompt_ids, m.cfg.vocab_size, &ids, &n)
                   : tok_encode(&tok, prompt, strlen(prompt), &ids, &n, "--prompt")) {
        tok_free(&tok); gpt_free(&m); return 1;
    }
    if (n == 0) {
        em_error("--prompt: empty; give at least one character");
        free(ids); tok_free(&tok); gpt_free(&m); return 1;
    }
    SampleConfig sc = {.temperature = temperature, .top_k = top_k, .top_p = top_p,
                       .context = strcmp(context, "halve") ? CTX_SLIDE : CTX_HALVE};
    Rng r;
    rng_seed(&r, (uint64_t)seed);
    int *out = xmalloc((n + max_new) * sizeof(int));
    Emit e = {.tok = &tok, .ids = print_ids};
    if (print_ids) for (size_t i = 0; i < n; i++) emit(ids[i], &e);
    else if (prompt_ids) { char *t = tok_decode(&tok, ids, n); fputs(t, stdout); free(t); }
    else fputs(prompt, stdout);
    double t0 = now_sec();
    gpt_generate(&m, ids, (int)n, max_new, &sc, &r, out, emit, &e);
    double dt = now_sec() - t0;
    printf("\n");
    fprintf(stderr, "[%d tokens in %.2fs: %.1f tok/s]\n", max_new, dt, dt > 0 ? max_new / dt : 0);
    free(out);
    free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return 0;
}
