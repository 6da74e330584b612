// hf: reading GPT-2 checkpoints written by others in the Hugging Face layout
// (model.safetensors with config.json and tokenizer files beside it).
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tokenizer/tokenizer.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this file reads it as is"
#endif

int ckpt_is_ours(const StFile *f) { return st_meta(f, "n_positions") != NULL; }

// The folder of path ("." when it has none) and a file in it.
static void beside(const char *path, const char *name, char *out, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, n, "%s", name);
    else snprintf(out, n, "%.*s/%s", (int)(slash - path), path, name);
}

// ---- config.json ---------------------------------------------------------------------
static int json_int(const cJSON *o, const char *src, const char *key, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return em_error("%s: %s: missing (expected a positive integer)", src, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > INT_MAX)
        return em_error("%s: %s: expected a positive integer", src, key);
    *out = (int)v->valuedouble;
    return 0;
}

// The fields of GPT2Config that change the function the model computes: each is what
// our kernels compute, or the file is refused.
static int check_config_json(const cJSON *o, const char *src, const GPTConfig *c) {
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(o, "layer_norm_epsilon");
    if (eps && (!cJSON_IsNumber(eps) || fabs(eps->valuedouble - 1e-5) > 1e-12))
        return em_error("%s: layer_norm_epsilon: %s%g, expected 1e-05 (the LayerNorm epsilon of "
                        "GPT-2 and of our kernels)", src, cJSON_IsNumber(eps) ? "" : "not a number ",
                        cJSON_IsNumber(eps) ? eps->valuedouble : 0.0);
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "activation_function");
    if (act && (!cJSON_IsString(act) || (strcmp(act->valuestring, "gelu_new") &&
                                         strcmp(act->valuestring, "gelu_pytorch_tanh") &&
                                         strcmp(act->valuestring, "gelu_fast"))))
        return em_error("%s: activation_function: \"%.40s\", expected \"gelu_new\" (GPT-2's "
                        "tanh GELU)", src, cJSON_IsString(act) ? act->valuestring : "?");
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(o, "n_inner");
    if (inner && !cJSON_IsNull(inner) &&
        (!cJSON_IsNumber(inner) || inner->valuedouble != 4.0 * c->n_embd))
        return em_error("%s: n_inner: expected null or 4 * n_embd = %d", src, 4 * c->n_embd);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "scale_attn_weights");
    if (sc && !cJSON_IsTrue(sc))
        return em_error("%s: scale_attn_weights: expected true (scores divided by sqrt(head "
                        "size))", src);
    const cJSON *li = cJSON_GetObjectItemCaseSensitive(o, "scale_attn_by_inverse_layer_idx");
    if (li && cJSON_IsTrue(li))
        return em_error("%s: scale_attn_by_inverse_layer_idx: expected false", src);
    return 0;
}

static int read_config_json(const char *src, GPTConfig *c) {
    size_t len;
    char *text = read_file(src, &len);
    if (!text) return -1;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    int rc = 0;
    if (!cJSON_IsObject(o)) rc = em_error("%s: not a JSON object", src);
    if (!rc && (json_int(o, src, "vocab_size", &c->vocab_size) ||
                json_int(o, src, "n_positions", &c->block_size) ||
                json_int(o, src, "n_layer", &c->n_layer) || json_int(o, src, "n_head", &c->n_head) ||
                json_int(o, src, "n_embd", &c->n_embd) || check_config_json(o, src, c)))
        rc = -1;
    cJSON_Delete(o);
    return rc;
}

// ---- names ---------------------------------------------------------------------------
// "transformer." when the file's names carry it (GPT2LMHeadModel), "" otherwise (GPT2Model).
static const char *name_prefix(const StFile *f) {
    return st_find(f, "transformer.wte.weight") ? "transformer." : "";
}

// Our name (always "transformer....") as the file spells it.
static void file_name(const char *prefix, const char *ours, char *out, size_t n) {
    snprintf(out, n, "%s%s", prefix, ours + strlen("transformer."));
}

static const StEntry *find2(const StFile *f, const char *prefix, const char *what) {
    char nm[160];
    snprintf(nm, sizeof nm, "%s%s", prefix, what);
    return st_find(f, nm);
}

// Config from the tensor shapes: wte (V, C), wpe (maxT, C), h.0 ... h.{L-1}.
static int infer_config(const StFile *f, const char *cfg_path, int n_head, GPTConfig *c) {
    const char *px = name_prefix(f);
    if (n_head <= 0)
        return em_error("%s: missing; n_head cannot be read from the tensor shapes of %s "
                        "(expected config.json beside it, or n_head given)", cfg_path, f->path);
    const StEntry *wte = find2(f, px, "wte.weight"), *wpe = find2(f, px, "wpe.weight");
    if (!wte || wte->ndim != 2)
        return em_error("%s: tensor %swte.weight: missing or not 2-D (a GPT-2's token "
                        "embedding (vocab_size, n_embd))", f->path, px);
    if (!wpe || wpe->ndim != 2)
        return em_error("%s: tensor %swpe.weight: missing or not 2-D (a GPT-2's position "
                        "embedding (n_positions, n_embd))", f->path, px);
    if (wte->shape[0] > INT_MAX || wte->shape[1] > INT_MAX || wpe->shape[0] > INT_MAX)
        return em_error("%s: tensor %swte.weight: too large", f->path, px);
    int L = 0;
    char nm[64];
    for (;; L++) {
        snprintf(nm, sizeof nm, "h.%d.ln_1.weight", L);
        if (!find2(f, px, nm)) break;
    }
    *c = (GPTConfig){.vocab_size = (int)wte->shape[0], .block_size = (int)wpe->shape[0],
                     .n_layer = L, .n_head = n_head, .n_embd = (int)wte->shape[1]};
    return 0;
}

int hf_read_config(const StFile *f, int n_head, GPTConfig *cfg) {
    char cp[1100];
    beside(f->path, "config.json", cp, sizeof cp);
    memset(cfg, 0, sizeof *cfg);
    if (file_exists(cp)) {
        if (read_config_json(cp, cfg)) return -1;
        if (n_head > 0 && n_head != cfg->n_head)
            return em_error("%s: n_head: %d, but n_head %d was given", cp, cfg->n_head, n_head);
        return gpt_config_check(cfg, cp);
    }
    if (infer_config(f, cp, n_head, cfg)) return -1;
    char where[1200];
    snprintf(where, sizeof where, "%s (config inferred from the tensor shapes)", f->path);
    return gpt_config_check(cfg, where);
}

// ---- tensors -------------------------------------------------------------------------
static float half_to_float(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
    if (e == 0) {  // zero or subnormal: mant * 2^-24
        float x = ldexpf((float)mant, -24);
        return s ? -x : x;
    }
    u = e == 31 ? s | 0x7f800000u | (mant << 13) : s | ((e + 112) << 23) | (mant << 13);
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static int float_dtype(const char *dt) {
    return !strcmp(dt, "F32") || !strcmp(dt, "F16") || !strcmp(dt, "BF16") || !strcmp(dt, "F64");
}

// The first n elements of e, converted to F32 into dst; NaN and Inf refused when check.
static int read_converted(const StFile *f, const StEntry *e, float *dst, size_t n, int check) {
    const unsigned char *src = f->data + f->data_start + e->begin;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(e->dtype, "F32")) {
            memcpy(&dst[i], src + 4 * i, 4);
        } else if (!strcmp(e->dtype, "F64")) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            dst[i] = (float)d;
        } else {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            if (!strcmp(e->dtype, "F16")) {
                dst[i] = half_to_float(h);
            } else {
                uint32_t u = (uint32_t)h << 16;
                memcpy(&dst[i], &u, 4);
            }
        }
        if (check && !isfinite(dst[i])) {
            em_error("%s: tensor %s: element %zu is %s, expected finite weights (a diverged "
                     "run?)", f->path, e->name, i, isnan(dst[i]) ? "NaN" : dst[i] > 0 ? "+Inf"
                                                                                : "-Inf");
            return CKPT_ERR_NONFINITE;
        }
    }
    return 0;
}

// "h.3.attn.bias" or "h.3.attn.masked_bias" (with the prefix): GPT-2's causal-mask
// buffers, which hold no weights.
static int is_mask_buffer(const char *name, const char *px) {
    size_t pl = strlen(px);
    if (strncmp(name, px, pl) || strncmp(name + pl, "h.", 2)) return 0;
    const char *s = name + pl + 2;
    if (*s < '0' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') s++;
    return !strcmp(s, ".attn.bias") || !strcmp(s, ".attn.masked_bias");
}

// Every tensor of the table, with its shape (wte and lm_head may have more rows: a
// padded vocabulary) and a float dtype; nothing else but the mask buffers and lm_head.
static int check_hf_tensors(const StFile *f, const GPTConfig *c, const ParamInfo *pi, int n,
                            const char *px, const char *cfg_src) {
    unsigned char *seen = xcalloc((size_t)f->n + 1, 1);
    int rc = 0;
    char nm[160], want[160], got[160];
    for (int i = 0; i < n && !rc; i++) {
        file_name(px, pi[i].name, nm, sizeof nm);
        const StEntry *e = st_find(f, nm);
        int64_t shape[2] = {pi[i].shape[0], pi[i].shape[1]};
        int padded = pi[i].kind == P_WTE;
        int same = e && e->ndim == pi[i].ndim;
        for (int k = 0; same && k < e->ndim; k++)
            same = e->shape[k] == shape[k] || (padded && k == 0 && e->shape[0] > shape[0]);
        if (!e)
            rc = em_error("%s: tensor %s: missing, expected shape %s (from %s)", f->path, nm,
                          st_fmt_shape(want, sizeof want, pi[i].ndim, shape), cfg_src);
        else if (!float_dtype(e->dtype))
            rc = em_error("%s: tensor %s: dtype %s, expected F32, F16, BF16 or F64", f->path, nm,
                          e->dtype);
        else if (!same)
            rc = em_error("%s: tensor %s: expected shape %s%s, found %s (from %s)", f->path, nm,
                          st_fmt_shape(want, sizeof want, pi[i].ndim, shape),
                          padded ? " or more rows (a padded vocabulary)" : "",
                          st_fmt_shape(got, sizeof got, e->ndim, e->shape), cfg_src);
        else
            seen[e - f->entries] = 1;
    }
    const StEntry *head = st_find(f, "lm_head.weight");
    if (!rc && head) {
        if (!float_dtype(head->dtype))
            rc = em_error("%s: tensor lm_head.weight: dtype %s, expected F32, F16, BF16 or F64",
                          f->path, head->dtype);
        else if (head->ndim != 2 || head->shape[0] < c->vocab_size || head->shape[1] != c->n_embd)
            rc = em_error("%s: tensor lm_head.weight: expected shape (%d, %d) (or more rows), "
                          "found %s", f->path, c->vocab_size, c->n_embd,
                          st_fmt_shape(got, sizeof got, head->ndim, head->shape));
        else
            seen[head - f->entries] = 1;
    }
    for (int i = 0; i < f->n && !rc; i++)
        if (!seen[i] && !is_mask_buffer(f->entries[i].name, px))
            rc = em_error("%s: tensor %s: not part of a GPT-2 with n_layer %d (from %s)", f->path,
                          f->entries[i].name, c->n_layer, cfg_src);
    free(seen);
    return rc;
}

// An untied head is refused: the engine ties the head to wte (GPT-2's tying).
static int check_head_tied(const StFile *f, const GPT *m, const char *px) {
    const StEntry *head = st_find(f, "lm_head.weight");
    if (!head) return 0;
    size_t n = (size_t)m->cfg.vocab_size * m->cfg.n_embd;
    float *h = xmalloc(n * sizeof(float));
    int rc = read_converted(f, head, h, n, 0);
    if (!rc && memcmp(h, m->p.wte, n * sizeof(float))) {
        size_t i = 0;
        while (i < n && h[i] == m->p.wte[i]) i++;
        rc = em_error("%s: tensor lm_head.weight: differs from %swte.weight (element %zu: %g vs "
                      "%g), expected the head tied to the token embedding as in GPT-2 (untied "
                      "heads are not supported)", f->path, px, i, h[i], m->p.wte[i]);
    }
    free(h);
    return rc;
}

// ---- tokenizer files -----------------------------------------------------------------
// tokenizer.json (Hugging Face tokenizers): model.vocab {token: id} and model.merges
// ("a b" or ["a", "b"]) of a byte-level BPE, turned into tok_from_json's form.
static int load_tokenizer_json(Tokenizer *t, const char *src) {
    size_t len;
    char *text = read_file(src, &len);
    if (!text) return -1;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    int rc = 0;
    if (!cJSON_IsObject(o)) rc = em_error("%s: not a JSON object", src);
    else if (!cJSON_IsObject(model)) rc = em_error("%s: model: missing (expected an object)", src);
    else if (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE"))
        rc = em_error("%s: model.type: expected \"BPE\"", src);
    else if (!cJSON_IsObject(vocab)) rc = em_error("%s: model.vocab: expected an object", src);
    else if (!cJSON_IsArray(merges)) rc = em_error("%s: model.merges: expected an array", src);
    int n = rc ? 0 : cJSON_GetArraySize(vocab);
    const char **by_id = xcalloc((size_t)n + 1, sizeof *by_id);
    for (const cJSON *e = rc ? NULL : vocab->child; e && !rc; e = e->next) {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (d < 0 || d >= n || d != floor(d) || by_id[(int)d])
            rc = em_error("%s: model.vocab.\"%.40s\": expected a distinct id in 0..%d", src,
                          e->string, n - 1);
        else
            by_id[(int)d] = e->string;
    }
    cJSON *out = cJSON_CreateObject(), *v = cJSON_CreateArray(), *m = cJSON_CreateArray();
    cJSON_AddStringToObject(out, "type", "bpe");
    cJSON_AddStringToObject(out, "pattern", "gpt2");
    for (int i = 0; i < n && !rc; i++) cJSON_AddItemToArray(v, cJSON_CreateString(by_id[i]));
    int r = 0;
    for (const cJSON *e = rc ? NULL : merges->child; e && !rc; e = e->next, r++) {
        if (cJSON_IsString(e)) {
            cJSON_AddItemToArray(m, cJSON_CreateString(e->valuestring));
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                   cJSON_IsString(e->child->next)) {
            StrBuf b = {0};
            sb_printf(&b, "%s %s", e->child->valuestring, e->child->next->valuestring);
            cJSON_AddItemToArray(m, cJSON_CreateString(b.p));
            sb_free(&b);
        } else {
            rc = em_error("%s: model.merges[%d]: expected \"a b\" or [\"a\", \"b\"]", src, r);
        }
    }
    cJSON_AddItemToObject(out, "vocab", v);
    cJSON_AddItemToObject(out, "merges", m);
    if (!rc) {
        char *js = cJSON_PrintUnformatted(out);
        rc = tok_from_json(t, js, src);
        free(js);
    }
    cJSON_Delete(out);
    free(by_id);
    cJSON_Delete(o);
    return rc;
}

// The tokenizer beside path: vocab.json + merges.txt (or encoder.json + vocab.bpe),
// tokenizer.json, emergent_tokenizer.json (what hf_export writes for a char tokenizer),
// else GPT-2's own when the vocabulary is GPT-2's 50257, else none (TOK_NONE).
static int load_tokenizer_beside(const char *path, int vocab_size, Tokenizer *t, char *src,
                                 size_t ns) {
    memset(t, 0, sizeof *t);
    char p1[1100], p2[1100], dir[1100];
    beside(path, "", dir, sizeof dir);
    if (dir[0]) dir[strlen(dir) - 1] = 0;  // no trailing slash
    else snprintf(dir, sizeof dir, ".");
    int rc = 0;
    beside(path, "vocab.json", p1, sizeof p1);
    beside(path, "merges.txt", p2, sizeof p2);
    char p3[1100], p4[1100], p5[1100], p6[1100];
    beside(path, "encoder.json", p3, sizeof p3);
    beside(path, "vocab.bpe", p4, sizeof p4);
    beside(path, "tokenizer.json", p5, sizeof p5);
    beside(path, "emergent_tokenizer.json", p6, sizeof p6);
    if (file_exists(p1) || file_exists(p2) || file_exists(p3) || file_exists(p4)) {
        snprintf(src, ns, "%s", file_exists(p1) || file_exists(p2) ? p1 : p3);
        rc = tok_load_bpe(t, dir);
    } else if (file_exists(p5)) {
        snprintf(src, ns, "%s", p5);
        rc = load_tokenizer_json(t, p5);
    } else if (file_exists(p6)) {
        snprintf(src, ns, "%s", p6);
        size_t len;
        char *js = read_file(p6, &len);
        rc = js ? tok_from_json(t, js, p6) : -1;
        free(js);
    } else if (vocab_size == 50257) {
        snprintf(src, ns, "GPT-2's built-in tokenizer");
        rc = tok_load_gpt2(t);
    } else {
        snprintf(src, ns, "none");
    }
    if (!rc && t->kind != TOK_NONE && t->vocab_size > vocab_size) {
        int n = t->vocab_size;
        tok_free(t);
        rc = em_error("%s: %d tokens, expected at most vocab_size %d (the rows of the token "
                      "embedding)", src, n, vocab_size);
    }
    return rc;
}

// ---- the model -----------------------------------------------------------------------
int hf_load(const char *path, int n_head, GPT *m, Tokenizer *tok, unsigned flags) {
    memset(m, 0, sizeof *m);
    memset(tok, 0, sizeof *tok);
    StFile f;
    if (st_open(&f, path)) return -1;
    GPTConfig cfg;
    char cfg_src[1200];
    beside(path, "config.json", cfg_src, sizeof cfg_src);
    if (!file_exists(cfg_src)) snprintf(cfg_src, sizeof cfg_src, "the tensor shapes");
    int rc = hf_read_config(&f, n_head, &cfg);
    const char *px = name_prefix(&f);
    int n = rc ? 0 : gpt_param_table(&cfg, NULL);
    ParamInfo *pi = xcalloc((size_t)n + 1, sizeof *pi);
    if (!rc) {
        gpt_param_table(&cfg, pi);
        rc = check_hf_tensors(&f, &cfg, pi, n, px, cfg_src);
    }
    if (!rc && gpt_create(m, &cfg)) rc = -1;
    int check = !(flags & CKPT_ALLOW_NONFINITE);
    char nm[160];
    for (int i = 0; i < n && !rc; i++) {  // wte: its first vocab_size rows
        file_name(px, pi[i].name, nm, sizeof nm);
        rc = read_converted(&f, st_find(&f, nm), m->params + pi[i].offset, pi[i].numel, check);
    }
    if (!rc) rc = check_head_tied(&f, m, px);
    char src[1200];
    if (!rc) rc = load_tokenizer_beside(path, cfg.vocab_size, tok, src, sizeof src);
    free(pi);
    st_close(&f);
    if (rc) gpt_free(m);
    return rc;
}
