// checkpoint: the GPT-2 model in safetensors files (Hugging Face GPT2LMHeadModel names
// and layouts), on the reader and writer of safetensors.c.
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "tokenizer/tokenizer.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this file copies it as is"
#endif

// ---- the model ----------------------------------------------------------------
int ckpt_save_model(const char *path, const GPT *m, const char *tokenizer_json,
                    const char *const *extra_keys, const char *const *extra_vals, int n_extra) {
    const GPTConfig *c = &m->cfg;
    if (!m->params) return em_error("%s: no parameters to save (model not created)", path);
    int n = gpt_param_table(c, NULL);
    ParamInfo *pi = xcalloc((size_t)n, sizeof *pi);
    StTensor *t = xcalloc((size_t)n, sizeof *t);
    gpt_param_table(c, pi);
    for (int i = 0; i < n; i++) {
        t[i] = (StTensor){.name = pi[i].name, .dtype = "F32", .data = m->params + pi[i].offset,
                          .ndim = pi[i].ndim, .shape = {pi[i].shape[0], pi[i].shape[1]}};
    }
    char num[5][16];
    int vals[5] = {c->vocab_size, c->block_size, c->n_layer, c->n_head, c->n_embd};
    for (int i = 0; i < 5; i++) snprintf(num[i], sizeof num[i], "%d", vals[i]);
    int nm = 0, cap = 7 + (n_extra > 0 ? n_extra : 0);
    const char **k = xcalloc((size_t)cap, sizeof *k), **v = xcalloc((size_t)cap, sizeof *v);
    const char *names[6] = {"format", "vocab_size", "n_positions", "n_layer", "n_head", "n_embd"};
    for (int i = 0; i < 6; i++) { k[nm] = names[i]; v[nm++] = i ? num[i - 1] : "pt"; }
    if (tokenizer_json) { k[nm] = "tokenizer"; v[nm++] = tokenizer_json; }
    for (int i = 0; i < n_extra; i++) { k[nm] = extra_keys[i]; v[nm++] = extra_vals[i]; }
    int rc = st_write(path, t, n, k, v, nm);
    free(k);
    free(v);
    free(t);
    free(pi);
    return rc;
}

// A strict decimal integer in [0, INT_MAX] from __metadata__.
static int meta_int(const StFile *f, const char *key, int *out) {
    const char *s = st_meta(f, key);
    if (!s) return em_error("%s: __metadata__.%s: missing (expected a decimal integer)", f->path, key);
    size_t len = strlen(s);
    long long v = 0;
    int ok = len > 0 && len <= 10;
    for (size_t i = 0; ok && i < len; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        v = v * 10 + (s[i] - '0');
    }
    if (!ok || v > INT_MAX)
        return em_error("%s: __metadata__.%s: expected a decimal integer, found \"%.40s\"",
                        f->path, key, s);
    *out = (int)v;
    return 0;
}

int ckpt_read_config(const StFile *f, GPTConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    if (meta_int(f, "vocab_size", &cfg->vocab_size) || meta_int(f, "n_positions", &cfg->block_size) ||
        meta_int(f, "n_layer", &cfg->n_layer) || meta_int(f, "n_head", &cfg->n_head) ||
        meta_int(f, "n_embd", &cfg->n_embd))
        return -1;
    return gpt_config_check(cfg, f->path);
}

// " (a GPT-2 with __metadata__ vocab_size 11, ...)": where an expected shape comes from
static const char *cfg_note(char *buf, size_t n, const GPTConfig *c) {
    snprintf(buf, n, " (a GPT-2 with __metadata__ vocab_size %d, n_positions %d, n_layer %d, "
             "n_head %d, n_embd %d)", c->vocab_size, c->block_size, c->n_layer, c->n_head,
             c->n_embd);
    return buf;
}

// Every tensor of the config's parameter table pi[0..n) is in f, F32, with its shape, and
// f holds no other. Reads only the header, so it runs before the model is allocated:
// what passes is backed by as many bytes of the file as the model will take.
static int check_tensors_match(const StFile *f, const GPTConfig *c, const ParamInfo *pi, int n) {
    char note[200];
    unsigned char *seen = xcalloc((size_t)f->n + 1, 1);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const StEntry *e = st_find(f, pi[i].name);
        int64_t shape[2] = {pi[i].shape[0], pi[i].shape[1]};
        int same = e && e->ndim == pi[i].ndim;
        for (int k = 0; same && k < e->ndim; k++) same = e->shape[k] == shape[k];
        char want[160], got[160];
        if (!e)
            rc = em_error("%s: tensor %s: missing, expected shape %s%s", f->path, pi[i].name,
                          st_fmt_shape(want, sizeof want, pi[i].ndim, shape),
                          cfg_note(note, sizeof note, c));
        else if (strcmp(e->dtype, "F32"))
            rc = em_error("%s: tensor %s: expected dtype F32, found %s", f->path, pi[i].name,
                          e->dtype);
        else if (!same)
            rc = em_error("%s: tensor %s: expected shape %s, found %s%s", f->path, pi[i].name,
                          st_fmt_shape(want, sizeof want, pi[i].ndim, shape),
                          st_fmt_shape(got, sizeof got, e->ndim, e->shape),
                          cfg_note(note, sizeof note, c));
        else
            seen[e - f->entries] = 1;
    }
    // a tensor the config does not explain means the header and the tensors disagree
    for (int i = 0; i < f->n && !rc; i++)
        if (!seen[i])
            rc = em_error("%s: tensor %s: not part of a GPT-2 with this config (n_layer %d)",
                          f->path, f->entries[i].name, c->n_layer);
    free(seen);
    return rc;
}

// The index of the first NaN or Inf among the n floats at p (any alignment), or n.
static size_t first_nonfinite(const unsigned char *p, size_t n) {
    const size_t chunk = 4096;
    for (size_t o = 0; o < n; o += chunk) {
        size_t k = n - o < chunk ? n - o : chunk;
        uint32_t bad = 0;
        for (size_t i = 0; i < k; i++) {  // all exponent bits set: Inf or NaN
            uint32_t u;
            memcpy(&u, p + 4 * (o + i), 4);
            bad |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (!bad) continue;
        for (size_t i = o; i < o + k; i++) {
            float x;
            memcpy(&x, p + 4 * i, 4);
            if (!isfinite(x)) return i;
        }
    }
    return n;
}

static int nonfinite_error(const char *path, const char *name, const unsigned char *p, size_t i) {
    float x;
    memcpy(&x, p + 4 * i, 4);
    em_error("%s: tensor %s: element %zu is %s, expected finite weights (a diverged run?)",
             path, name, i, isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf");
    return CKPT_ERR_NONFINITE;
}

// Copies tensor e into dst in cache-sized pieces, checking each piece while it is hot.
static int copy_tensor(const StFile *f, const StEntry *e, float *dst, int check) {
    const unsigned char *src = f->data + f->data_start + e->begin;
    size_t n = (e->end - e->begin) / 4;
    const size_t piece = 16384;  // floats: 64 KiB
    for (size_t o = 0; o < n; o += piece) {
        size_t k = n - o < piece ? n - o : piece;
        // the data may sit at any byte offset: memcpy, never a float* cast
        memcpy(dst + o, src + 4 * o, 4 * k);
        if (!check) continue;
        size_t bad = first_nonfinite((const unsigned char *)(dst + o), k);
        if (bad < k) return nonfinite_error(f->path, e->name, (const unsigned char *)dst, o + bad);
    }
    return 0;
}

static ParamInfo *param_table(const GPTConfig *c, int *n) {
    *n = gpt_param_table(c, NULL);
    ParamInfo *pi = xcalloc((size_t)*n, sizeof *pi);
    gpt_param_table(c, pi);
    return pi;
}

int ckpt_load_model_flags(const char *path, GPT *m, char **tokenizer_json, unsigned flags) {
    memset(m, 0, sizeof *m);
    if (tokenizer_json) *tokenizer_json = NULL;
    StFile f;
    if (st_open(&f, path)) return -1;
    GPTConfig cfg;
    if (ckpt_read_config(&f, &cfg)) { st_close(&f); return -1; }
    int n, rc;
    ParamInfo *pi = param_table(&cfg, &n);
    rc = check_tensors_match(&f, &cfg, pi, n);
    if (!rc && gpt_create(m, &cfg)) rc = -1;
    int check = !(flags & CKPT_ALLOW_NONFINITE);
    for (int i = 0; i < n && !rc; i++)
        rc = copy_tensor(&f, st_find(&f, pi[i].name), m->params + pi[i].offset, check);
    const char *tok = st_meta(&f, "tokenizer");
    if (!rc && tokenizer_json && tok) *tokenizer_json = strdup(tok);
    free(pi);
    st_close(&f);
    if (rc) gpt_free(m);
    return rc;
}

int ckpt_load_model(const char *path, GPT *m, char **tokenizer_json) {
    return ckpt_load_model_flags(path, m, tokenizer_json, 0);
}

// The stored tokenizer: present, parses, one symbol at most per row of the embedding.
static int tokenizer_fits(const char *path, const char *json, int vocab_size, Tokenizer *tok) {
    memset(tok, 0, sizeof *tok);
    if (!json) return em_error("%s: __metadata__.tokenizer: missing", path);
    if (tok_from_json(tok, json, path)) return -1;
    if (tok->vocab_size > vocab_size) {
        int n = tok->vocab_size;
        tok_free(tok);
        return em_error("%s: __metadata__.tokenizer: %d symbols, expected at most vocab_size %d "
                        "(the rows of transformer.wte.weight)", path, n, vocab_size);
    }
    return 0;
}

// A file we did not write: Hugging Face's layout, its tokenizer from the files beside it.
static int load_foreign(const char *path, GPT *m, Tokenizer *tok, char **tokenizer_json,
                        unsigned flags, int n_head) {
    int rc = hf_load(path, n_head, m, tok, flags);
    if (rc) return rc;
    if (tok->kind == TOK_NONE && !(flags & CKPT_ALLOW_NO_TOKENIZER)) {
        int V = m->cfg.vocab_size;
        gpt_free(m);
        return em_error("%s: no tokenizer: expected vocab.json and merges.txt, or "
                        "tokenizer.json, beside it (vocab_size %d is not GPT-2's 50257)", path, V);
    }
    if (tokenizer_json && tok->kind != TOK_NONE) *tokenizer_json = tok_to_json(tok);
    return 0;
}

int ckpt_load(const char *path, GPT *m, Tokenizer *tok, char **tokenizer_json, unsigned flags) {
    return ckpt_load_ex(path, m, tok, tokenizer_json, flags, 0);
}

int ckpt_load_ex(const char *path, GPT *m, Tokenizer *tok, char **tokenizer_json,
                 unsigned flags, int n_head) {
    memset(tok, 0, sizeof *tok);
    memset(m, 0, sizeof *m);
    if (tokenizer_json) *tokenizer_json = NULL;
    StFile f;
    if (st_open(&f, path)) return -1;
    int ours = ckpt_is_ours(&f);
    st_close(&f);
    if (!ours) return load_foreign(path, m, tok, tokenizer_json, flags, n_head);
    char *js = NULL;
    int rc = ckpt_load_model_flags(path, m, &js, flags);
    if (rc) return rc;
    if (tokenizer_fits(path, js, m->cfg.vocab_size, tok)) {
        gpt_free(m);
        free(js);
        return -1;
    }
    if (tokenizer_json) *tokenizer_json = js;
    else free(js);
    return 0;
}

int ckpt_check(const StFile *f, unsigned flags) {
    GPTConfig cfg;
    if (ckpt_read_config(f, &cfg)) return -1;
    int n, rc;
    ParamInfo *pi = param_table(&cfg, &n);
    rc = check_tensors_match(f, &cfg, pi, n);
    for (int i = 0; i < n && !rc && !(flags & CKPT_ALLOW_NONFINITE); i++) {
        const StEntry *e = st_find(f, pi[i].name);
        const unsigned char *p = f->data + f->data_start + e->begin;
        size_t bad = first_nonfinite(p, pi[i].numel);
        if (bad < pi[i].numel) rc = nonfinite_error(f->path, e->name, p, bad);
    }
    free(pi);
    if (rc) return rc;
    Tokenizer tok;
    if (tokenizer_fits(f->path, st_meta(f, "tokenizer"), cfg.vocab_size, &tok)) return -1;
    tok_free(&tok);
    return 0;
}

const char *ckpt_first_nonfinite(const GPT *m, char *buf, size_t nb) {
    int n;
    ParamInfo *pi = param_table(&m->cfg, &n);
    const char *hit = NULL;
    for (int i = 0; i < n && !hit; i++)
        if (first_nonfinite((const unsigned char *)(m->params + pi[i].offset), pi[i].numel) <
            pi[i].numel) {
            snprintf(buf, nb, "%s", pi[i].name);
            hit = buf;
        }
    free(pi);
    return hit;
}
