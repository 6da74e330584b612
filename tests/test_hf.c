// Hugging Face GPT-2 checkpoints: folders written here in the layouts others write
// (prefix or none, F16/BF16, mask buffers, padded vocabulary, lm_head, config.json or
// none, tokenizer files), loaded bit for bit; every refusal names the file and the field;
// hf_export's folder read back.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <math.h>

#include "core/core.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

static char g_dir[64];
static int g_sub;

// A fresh folder under the test's directory.
static const char *new_dir(void) {
    static char buf[4][256];
    char *p = buf[g_sub % 4];
    snprintf(p, 256, "%s/d%d", g_dir, g_sub++);
    make_dir(p);
    return p;
}

static const char *in(const char *dir, const char *name) {
    static char buf[8][300];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 300, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(s, f);
    fclose(f);
}

static const GPTConfig CFG = {.vocab_size = 23, .block_size = 12, .n_layer = 2, .n_head = 2,
                              .n_embd = 16};

static void config_json(const char *dir, const GPTConfig *c, const char *extra) {
    char s[600];
    snprintf(s, sizeof s, "{\"model_type\": \"gpt2\", \"vocab_size\": %d, \"n_positions\": %d, "
             "\"n_ctx\": %d, \"n_layer\": %d, \"n_head\": %d, \"n_embd\": %d, "
             "%s\"n_inner\": null%s}", c->vocab_size, c->block_size, c->block_size,
             c->n_layer, c->n_head, c->n_embd,
             strstr(extra, "activation") ? "" : "\"activation_function\": \"gelu_new\", ", extra);
    write_text(in(dir, "config.json"), s);
}

static void make_model(GPT *m, uint64_t seed) {
    gpt_create(m, &CFG);
    gpt_init_weights(m, seed);
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < m->num_params; i++) m->params[i] = 0.3f * rng_normal(&r);
}

static uint16_t to_bf16(float x) {  // truncation: exact for values already bf16
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)(u >> 16);
}

// Options of a hand-written foreign file.
typedef struct {
    const char *prefix;   // "transformer." or ""
    const char *dtype;    // "F32", "F16" or "BF16"
    int pad;              // extra rows of wte (and lm_head)
    int buffers;          // h.{i}.attn.bias (U8) and masked_bias (F32 scalar)
    int head;             // 0: no lm_head.weight; 1: equal to wte; 2: one element differs
    const char *extra;    // an extra tensor name, or NULL
    const char *bad_dtype_tensor;  // this table tensor stored as I32, or NULL
} Foreign;

// Writes m as others write GPT-2 into dir/model.safetensors. The model's weights are
// first rounded to the dtype, so the load must give them back bit for bit.
static void write_foreign(const char *dir, GPT *m, const Foreign *o) {
    const GPTConfig *c = &m->cfg;
    int n = gpt_param_table(c, NULL);
    ParamInfo *pi = calloc((size_t)n, sizeof *pi);
    gpt_param_table(c, pi);
    int half = strcmp(o->dtype, "F32") != 0, f16 = !strcmp(o->dtype, "F16");
    for (size_t i = 0; i < m->num_params; i++) {
        if (f16) m->params[i] = (float)(_Float16)m->params[i];
        else if (half) {
            uint32_t u = (uint32_t)to_bf16(m->params[i]) << 16;
            memcpy(&m->params[i], &u, 4);
        }
    }
    StTensor t[64];
    char names[64][96];
    void *bufs[64];
    int k = 0, nb = 0;
    size_t wte_n = (size_t)(c->vocab_size + o->pad) * c->n_embd;
    for (int i = 0; i < n + 1; i++) {
        const ParamInfo *p = &pi[i < n ? i : 0];
        if (i == n && !o->head) break;
        size_t cnt = p->kind == P_WTE ? wte_n : p->numel;
        if (i < n) snprintf(names[k], 96, "%s%s", o->prefix, p->name + strlen("transformer."));
        else snprintf(names[k], 96, "lm_head.weight");
        int bad = i < n && o->bad_dtype_tensor && !strcmp(p->name, o->bad_dtype_tensor);
        size_t es = bad ? 4 : half ? 2 : 4;
        unsigned char *b = calloc(cnt, es);
        for (size_t j = 0; j < cnt; j++) {
            float x = j < p->numel ? m->params[p->offset + j] : 7.0f;  // padding rows: junk
            if (i == n && o->head == 2 && j == 5) x += 1.0f;
            if (bad) { int32_t v = (int32_t)x; memcpy(b + 4 * j, &v, 4); }
            else if (f16) { _Float16 h = (_Float16)x; memcpy(b + 2 * j, &h, 2); }
            else if (half) { uint16_t h = to_bf16(x); memcpy(b + 2 * j, &h, 2); }
            else memcpy(b + 4 * j, &x, 4);
        }
        bufs[nb++] = b;
        t[k] = (StTensor){.name = names[k], .dtype = bad ? "I32" : o->dtype, .data = b,
                          .ndim = p->ndim, .shape = {p->shape[0], p->shape[1]}};
        if (p->kind == P_WTE) t[k].shape[0] = c->vocab_size + o->pad;
        k++;
    }
    unsigned char *mask = NULL;
    float mb = -1e4f;
    if (o->buffers) {
        int T = c->block_size;
        mask = calloc((size_t)T * T, 1);
        for (int i = 0; i < T; i++) for (int j = 0; j <= i; j++) mask[i * T + j] = 1;
        for (int l = 0; l < c->n_layer; l++) {
            snprintf(names[k], 96, "%sh.%d.attn.bias", o->prefix, l);
            t[k++] = (StTensor){.name = names[k - 1], .dtype = "U8", .data = mask, .ndim = 4,
                                .shape = {1, 1, T, T}};
            snprintf(names[k], 96, "%sh.%d.attn.masked_bias", o->prefix, l);
            t[k++] = (StTensor){.name = names[k - 1], .dtype = "F32", .data = &mb, .ndim = 0};
        }
    }
    if (o->extra) t[k++] = (StTensor){.name = o->extra, .dtype = "F32", .data = &mb, .ndim = 1,
                                      .shape = {1}};
    const char *mk[1] = {"format"}, *mv[1] = {"pt"};
    if (st_write(in(dir, "model.safetensors"), t, k, mk, mv, 1)) {
        fprintf(stderr, "write_foreign: %s\n", em_errmsg());
        exit(2);
    }
    for (int i = 0; i < nb; i++) free(bufs[i]);
    free(mask);
    free(pi);
}

static int same_params(const GPT *a, const GPT *b) {
    return a->num_params == b->num_params &&
           !memcmp(a->params, b->params, a->num_params * sizeof(float)) &&
           !memcmp(&a->cfg, &b->cfg, sizeof a->cfg);
}

// Every layout others write loads bit for bit (weights rounded to the dtype first).
static void test_foreign_layouts(void) {
    const Foreign cases[] = {
        {"transformer.", "F32", 0, 1, 1, NULL, NULL},
        {"", "F32", 0, 0, 0, NULL, NULL},
        {"transformer.", "F16", 0, 1, 0, NULL, NULL},
        {"transformer.", "BF16", 0, 0, 1, NULL, NULL},
        {"transformer.", "F32", 9, 0, 1, NULL, NULL},  // llm.c's padded vocabulary
        {"", "BF16", 3, 1, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        GPT m, g;
        Tokenizer tok;
        make_model(&m, 30 + i);
        const char *d = new_dir();
        write_foreign(d, &m, &cases[i]);
        config_json(d, &CFG, ", \"layer_norm_epsilon\": 1e-05");
        int rc = ckpt_load_ex(in(d, "model.safetensors"), &g, &tok, NULL,
                              CKPT_ALLOW_NO_TOKENIZER, 0);
        CHECK(rc == 0, "case %zu (%s%s pad %d): %s", i, cases[i].prefix, cases[i].dtype,
              cases[i].pad, em_errmsg());
        if (rc) { gpt_free(&m); continue; }
        CHECK(same_params(&m, &g), "case %zu: weights differ after loading", i);
        CHECK(tok.kind == TOK_NONE, "case %zu: a tokenizer from nowhere", i);
        gpt_free(&g);
        // without config.json: the config from the shapes, with n_head given
        if (!cases[i].pad) {
            unlink(in(d, "config.json"));
            rc = hf_load(in(d, "model.safetensors"), 2, &g, &tok, 0);
            CHECK(rc == 0 && same_params(&m, &g), "case %zu: inferred config: %s", i,
                  rc ? em_errmsg() : "weights differ");
            if (!rc) gpt_free(&g);
            rc = hf_load(in(d, "model.safetensors"), 0, &g, &tok, 0);
            CHECK(rc && strstr(em_errmsg(), "config.json") && strstr(em_errmsg(), "n_head"),
                  "no config.json and no n_head: %s", rc ? em_errmsg() : "loaded");
        }
        gpt_free(&m);
    }
}

// A refusal of ckpt_load_ex whose message holds both strings.
static void refused(const char *d, const char *a, const char *b, const char *what) {
    GPT g;
    Tokenizer tok;
    int rc = ckpt_load_ex(in(d, "model.safetensors"), &g, &tok, NULL, CKPT_ALLOW_NO_TOKENIZER, 0);
    CHECK(rc != 0 && strstr(em_errmsg(), a) && strstr(em_errmsg(), b), "%s: %s", what,
          rc ? em_errmsg() : "loaded");
    if (!rc) gpt_free(&g);
}

static void test_foreign_refusals(void) {
    GPT m;
    make_model(&m, 5);
    Foreign ok = {"transformer.", "F32", 0, 0, 0, NULL, NULL};
    const char *d = new_dir();
    write_foreign(d, &m, &ok);
    config_json(d, &CFG, ", \"layer_norm_epsilon\": 1e-06");
    refused(d, "config.json: layer_norm_epsilon", "1e-06", "epsilon 1e-6");
    config_json(d, &CFG, ", \"activation_function\": \"relu\"");
    refused(d, "config.json: activation_function", "relu", "relu");
    write_text(in(d, "config.json"), "{\"vocab_size\": 23, \"n_positions\": 12, \"n_layer\": 2, "
               "\"n_embd\": 16}");
    refused(d, "config.json: n_head", "missing", "no n_head");
    GPTConfig big = CFG;
    big.n_layer = 3;
    config_json(d, &big, "");
    refused(d, "model.safetensors: tensor transformer.h.2.ln_1.weight", "missing", "n_layer 3");
    GPTConfig wide = CFG;
    wide.vocab_size = 30;
    config_json(d, &wide, "");
    refused(d, "tensor transformer.wte.weight", "(30, 16)", "vocab_size beyond the rows");

    Foreign untied = {"transformer.", "F32", 0, 0, 2, NULL, NULL};
    write_foreign(d, &m, &untied);
    config_json(d, &CFG, "");
    refused(d, "tensor lm_head.weight", "untied", "untied head");
    Foreign extra = {"transformer.", "F32", 0, 0, 0, "transformer.h.0.attn.rotary", NULL};
    write_foreign(d, &m, &extra);
    refused(d, "tensor transformer.h.0.attn.rotary", "not part of", "unknown tensor");
    Foreign bad = {"transformer.", "F32", 0, 0, 0, NULL, "transformer.h.1.mlp.c_fc.bias"};
    write_foreign(d, &m, &bad);
    refused(d, "tensor transformer.h.1.mlp.c_fc.bias", "dtype I32", "integer dtype");
    // NaN: refused as our own files are, and loaded when allowed
    Foreign f32 = ok;
    m.params[m.num_params - 1] = NAN;
    write_foreign(d, &m, &f32);
    GPT g;
    Tokenizer tok;
    int rc = ckpt_load_ex(in(d, "model.safetensors"), &g, &tok, NULL, CKPT_ALLOW_NO_TOKENIZER, 0);
    CHECK(rc == CKPT_ERR_NONFINITE && strstr(em_errmsg(), "ln_f.bias"), "NaN: %d %s", rc,
          em_errmsg());
    // no tokenizer and not GPT-2's vocabulary: refused unless allowed
    m.params[m.num_params - 1] = 0.0f;
    write_foreign(d, &m, &f32);
    rc = ckpt_load(in(d, "model.safetensors"), &g, &tok, NULL, 0);
    CHECK(rc && strstr(em_errmsg(), "no tokenizer"), "no tokenizer: %s", rc ? em_errmsg() : "loaded");
    if (!rc) gpt_free(&g);
    gpt_free(&m);
}

// Tokenizer files beside the model: vocab.json + merges.txt, and tokenizer.json (both
// spellings of its merges) give the tokenizer they were written from.
static void test_foreign_tokenizers(void) {
    const char *text = "the cat sat on the mat; the cat ate the rat. that hat, that bat!";
    Tokenizer bpe;
    int rc = tok_train_bpe(&bpe, text, strlen(text), 270, "text", NULL, NULL);
    CHECK(rc == 0, "train: %s", em_errmsg());
    GPTConfig c = CFG;
    c.vocab_size = bpe.vocab_size;
    GPT m;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 8);
    int *want, *got;
    size_t nw, ng;
    tok_encode(&bpe, text, strlen(text), &want, &nw, "text");
    for (int form = 0; form < 3; form++) {
        const char *d = new_dir();
        Foreign o = {"transformer.", "F32", 0, 0, 0, NULL, NULL};
        write_foreign(d, &m, &o);
        config_json(d, &c, "");
        if (form == 0) {
            tok_save_bpe(&bpe, d);
        } else {  // tokenizer.json from our JSON: vocab as {token: id}, merges as given
            char *js = tok_to_json(&bpe);
            cJSON *o2 = cJSON_Parse(js), *v = cJSON_CreateObject();
            const cJSON *e;
            int id = 0;
            cJSON_ArrayForEach(e, cJSON_GetObjectItem(o2, "vocab"))
                cJSON_AddNumberToObject(v, e->valuestring, id++);
            cJSON *merges = cJSON_CreateArray();
            cJSON_ArrayForEach(e, cJSON_GetObjectItem(o2, "merges")) {
                if (form == 1) { cJSON_AddItemToArray(merges, cJSON_CreateString(e->valuestring)); continue; }
                char *s = strdup(e->valuestring), *sp = strchr(s + 1, ' ');
                *sp = 0;
                cJSON *pair = cJSON_CreateArray();
                cJSON_AddItemToArray(pair, cJSON_CreateString(s));
                cJSON_AddItemToArray(pair, cJSON_CreateString(sp + 1));
                cJSON_AddItemToArray(merges, pair);
                free(s);
            }
            cJSON *model = cJSON_CreateObject(), *root = cJSON_CreateObject();
            cJSON_AddStringToObject(model, "type", "BPE");
            cJSON_AddItemToObject(model, "vocab", v);
            cJSON_AddItemToObject(model, "merges", merges);
            cJSON_AddItemToObject(root, "model", model);
            char *out = cJSON_Print(root);
            write_text(in(d, "tokenizer.json"), out);
            free(out);
            free(js);
            cJSON_Delete(root);
            cJSON_Delete(o2);
        }
        GPT g;
        Tokenizer tok;
        rc = ckpt_load(in(d, "model.safetensors"), &g, &tok, NULL, 0);
        CHECK(rc == 0, "form %d: %s", form, em_errmsg());
        if (rc) continue;
        tok_encode(&tok, text, strlen(text), &got, &ng, "text");
        CHECK(tok.kind == TOK_BPE && ng == nw && !memcmp(got, want, nw * sizeof(int)),
              "form %d: %zu ids, expected %zu", form, ng, nw);
        free(got);
        tok_free(&tok);
        gpt_free(&g);
    }
    free(want);
    tok_free(&bpe);
    gpt_free(&m);
}

// GPT-2's vocabulary (50257) with no tokenizer file: GPT-2's own tokenizer.
static void test_gpt2_vocab_builtin_tokenizer(void) {
    GPTConfig c = {.vocab_size = 50257, .block_size = 4, .n_layer = 1, .n_head = 1, .n_embd = 4};
    GPT m, g;
    gpt_create(&m, &c);
    gpt_init_weights(&m, 3);
    const char *d = new_dir();
    Foreign o = {"transformer.", "BF16", 47, 0, 0, NULL, NULL};  // padded to 50304, as llm.c
    write_foreign(d, &m, &o);
    config_json(d, &c, "");
    Tokenizer tok;
    int rc = ckpt_load(in(d, "model.safetensors"), &g, &tok, NULL, 0);
    CHECK(rc == 0 && tok.kind == TOK_BPE && tok.vocab_size == 50257, "gpt2 vocab: %s",
          rc ? em_errmsg() : "wrong tokenizer");
    if (!rc) {
        CHECK(same_params(&m, &g), "padded BF16 weights differ");
        int *ids;
        size_t n;
        tok_encode(&tok, "Hello world", 11, &ids, &n, "t");
        CHECK(n == 2 && ids[0] == 15496 && ids[1] == 995, "Hello world -> %zu ids", n);
        free(ids);
        tok_free(&tok);
        gpt_free(&g);
    }
    gpt_free(&m);
}

// hf_export's folder: config.json, tokenizer files, {"format": "pt"} alone, the names
// GPT2LMHeadModel has, and back through the foreign reader bit for bit.
static void test_export_roundtrip(void) {
    const char *text = "to be or not to be, that is the question";
    for (int kind = 0; kind < 2; kind++) {
        Tokenizer tok;
        if (kind == 0) tok_build_char(&tok, text, strlen(text), "text");
        else tok_train_bpe(&tok, text, strlen(text), 262, "text", NULL, NULL);
        GPTConfig c = CFG;
        c.vocab_size = tok.vocab_size;
        GPT m, g;
        gpt_create(&m, &c);
        gpt_init_weights(&m, 13);
        const char *d = new_dir();
        int rc = hf_export(d, &m, &tok);
        CHECK(rc == 0, "export: %s", em_errmsg());
        CHECK(file_exists(in(d, "config.json")) && file_exists(in(d, "model.safetensors")),
              "files missing");
        CHECK(kind ? file_exists(in(d, "vocab.json")) && file_exists(in(d, "merges.txt"))
                   : file_exists(in(d, "emergent_tokenizer.json")), "tokenizer files missing");
        CHECK(!file_exists(in(d, "model.safetensors.tmp")), "temporary file left");
        StFile f;
        rc = st_open(&f, in(d, "model.safetensors"));
        CHECK(rc == 0 && f.n_meta == 1 && !strcmp(st_meta(&f, "format"), "pt"),
              "metadata: %d keys", f.n_meta);
        const StEntry *e = st_find(&f, "transformer.h.1.attn.c_attn.weight");
        CHECK(e && e->ndim == 2 && e->shape[0] == 16 && e->shape[1] == 48,
              "c_attn.weight not (in, out) = (16, 48)");
        CHECK(!st_find(&f, "lm_head.weight") && f.n == gpt_param_table(&c, NULL),
              "%d tensors", f.n);
        st_close(&f);
        Tokenizer t2;
        rc = ckpt_load(in(d, "model.safetensors"), &g, &t2, NULL, 0);
        CHECK(rc == 0 && same_params(&m, &g) && t2.kind == tok.kind &&
              t2.vocab_size == tok.vocab_size, "read back: %s", rc ? em_errmsg() : "differs");
        if (!rc) { tok_free(&t2); gpt_free(&g); }
        tok_free(&tok);
        gpt_free(&m);
    }
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/emergent_test_hf.XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 2; }
    RUN(test_foreign_layouts);
    RUN(test_foreign_refusals);
    RUN(test_foreign_tokenizers);
    RUN(test_gpt2_vocab_builtin_tokenizer);
    RUN(test_export_roundtrip);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return test_summary();
}
