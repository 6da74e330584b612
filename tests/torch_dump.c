// torch_dump OUTDIR: the C side of the PyTorch cross-check (tests/torch_check.sh).
//
// For each case below, writes OUTDIR/<case>/model.safetensors (ckpt_save_model) and
// OUTDIR/<case>/dump.safetensors with what our engine computes on one fixed batch:
//   inputs, targets  I32 (B, T)      targets < 0 are ignored
//   logits           F32 (B, T, V)   copied before backward (which overwrites them)
//   loss             F32 (1)
//   grad.<name>      F32, the shape of every tensor of gpt_param_table, for backward(scale 1)
// tests/torch_check.py rebuilds GPT-2 in PyTorch from model.safetensors and compares.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    const char *name;
    GPTConfig cfg;
    int B, T;
    float w_scale;    // multiplies the GPT-2 init of 2-D weights: peakier attention, more GELU curvature
    int n_ignored;    // targets set to -1
    uint64_t seed;
} Case;

static const Case cases[] = {
    // T == block_size, every target valid
    {"full", {37, 16, 2, 4, 32}, 3, 16, 5.0f, 0, 11},
    // T < block_size (wpe rows past T get no gradient), some targets ignored, head size 12
    {"short", {50, 24, 3, 2, 24}, 3, 11, 1.0f, 7, 23},
};

static int run_case(const Case *k, const char *outdir) {
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/%s", outdir, k->name);
    if (make_dir(dir)) return -1;

    GPT m;
    if (gpt_create(&m, &k->cfg)) return -1;
    gpt_init_weights(&m, k->seed);
    int n = gpt_param_table(&k->cfg, NULL);
    ParamInfo *pi = xcalloc((size_t)n, sizeof *pi);
    gpt_param_table(&k->cfg, pi);

    // Biases and LayerNorm parameters away from their trivial 0 / 1.
    Rng r;
    rng_seed(&r, k->seed * 7919 + 1);
    for (int i = 0; i < n; i++) {
        float *p = m.params + pi[i].offset;
        int kd = pi[i].kind;
        int gain = kd == P_LN1W || kd == P_LN2W || kd == P_LNFW;
        for (size_t j = 0; j < pi[i].numel; j++) {
            if (pi[i].ndim == 2) p[j] *= k->w_scale;
            else if (gain) p[j] = 1.0f + 0.2f * rng_normal(&r);
            else p[j] = 0.1f * rng_normal(&r);
        }
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (ckpt_save_model(path, &m, NULL, NULL, NULL, 0)) { free(pi); gpt_free(&m); return -1; }

    int B = k->B, T = k->T, V = k->cfg.vocab_size, N = B * T;
    int *inputs = xmalloc((size_t)N * sizeof(int)), *targets = xmalloc((size_t)N * sizeof(int));
    for (int i = 0; i < N; i++) {
        inputs[i] = (int)rng_below(&r, (uint32_t)V);
        targets[i] = (int)rng_below(&r, (uint32_t)V);
    }
    for (int i = 0; i < k->n_ignored; i++) targets[rng_below(&r, (uint32_t)N)] = -1;

    if (gpt_alloc_acts(&m, B, T)) { free(pi); gpt_free(&m); return -1; }
    gpt_alloc_grads(&m);
    gpt_zero_grad(&m);
    gpt_forward(&m, inputs, targets, B, T);
    float *logits = xmalloc((size_t)N * V * sizeof(float));
    memcpy(logits, m.a.logits, (size_t)N * V * sizeof(float));
    float loss = m.loss;
    gpt_backward(&m, inputs, 1.0f);

    StTensor *t = xcalloc((size_t)n + 4, sizeof *t);
    char (*names)[80] = xcalloc((size_t)n, sizeof *names);
    t[0] = (StTensor){.name = "inputs", .dtype = "I32", .data = inputs, .ndim = 2, .shape = {B, T}};
    t[1] = (StTensor){.name = "targets", .dtype = "I32", .data = targets, .ndim = 2, .shape = {B, T}};
    t[2] = (StTensor){.name = "logits", .dtype = "F32", .data = logits, .ndim = 3, .shape = {B, T, V}};
    t[3] = (StTensor){.name = "loss", .dtype = "F32", .data = &loss, .ndim = 1, .shape = {1}};
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "grad.%s", pi[i].name);
        t[4 + i] = (StTensor){.name = names[i], .dtype = "F32", .data = m.grads + pi[i].offset,
                              .ndim = pi[i].ndim, .shape = {pi[i].shape[0], pi[i].shape[1]}};
    }
    const char *mk[] = {"case"}, *mv[] = {k->name};
    snprintf(path, sizeof path, "%s/dump.safetensors", dir);
    int rc = st_write(path, t, n + 4, mk, mv, 1);
    if (!rc)
        printf("torch_dump: %-6s V=%d block=%d L=%d NH=%d C=%d B=%d T=%d valid targets %d/%d "
               "loss %.6f -> %s\n", k->name, V, k->cfg.block_size, k->cfg.n_layer, k->cfg.n_head,
               k->cfg.n_embd, B, T, m.n_valid, N, loss, dir);
    free(names); free(t); free(logits); free(inputs); free(targets); free(pi);
    gpt_free(&m);
    return rc;
}

// --hf DIR: DIR/model.safetensors written by PyTorch in the Hugging Face layout, loaded by
// our foreign reader; one block of random ids through it -> DIR/ours.safetensors (inputs
// I32 (1, T), logits F32 (1, T, V)).
static int run_hf(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    GPT m;
    Tokenizer tok;
    if (ckpt_load_ex(path, &m, &tok, NULL, CKPT_ALLOW_NO_TOKENIZER, 0)) return -1;
    int T = m.cfg.block_size, V = m.cfg.vocab_size;
    int *inputs = xmalloc((size_t)T * sizeof(int));
    Rng r;
    rng_seed(&r, 99);
    for (int i = 0; i < T; i++) inputs[i] = (int)rng_below(&r, (uint32_t)V);
    int rc = gpt_alloc_acts(&m, 1, T);
    if (!rc) {
        gpt_forward(&m, inputs, NULL, 1, T);
        StTensor t[2] = {
            {.name = "inputs", .dtype = "I32", .data = inputs, .ndim = 2, .shape = {1, T}},
            {.name = "logits", .dtype = "F32", .data = m.a.logits, .ndim = 3, .shape = {1, T, V}},
        };
        snprintf(path, sizeof path, "%s/ours.safetensors", dir);
        rc = st_write(path, t, 2, NULL, NULL, 0);
    }
    if (!rc) printf("torch_dump: hf V=%d block=%d L=%d NH=%d C=%d -> %s\n", V, T, m.cfg.n_layer,
                    m.cfg.n_head, m.cfg.n_embd, path);
    free(inputs);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--hf")) {
        if (!run_hf(argv[2])) return 0;
        fprintf(stderr, "torch_dump: error: %s\n", em_errmsg());
        return 1;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: torch_dump OUTDIR | torch_dump --hf DIR\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (run_case(&cases[i], argv[1])) {
            fprintf(stderr, "torch_dump: error: %s\n", em_errmsg());
            return 1;
        }
    return 0;
}
