// emergent info: a checkpoint's config, parameter counts, tokenizer and metadata,
// as aligned text or as JSON. Exits non-zero, after listing, on a file the other commands
// refuse (wrong tensors, a tokenizer that does not fit, NaN or Inf weights).
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "model/checkpoint.h"

// Parameter counts by part of the model (Kaplan et al.'s N excludes the embeddings).
typedef struct { size_t wte, wpe, attn, mlp, ln, total; } Counts;

static Counts count_params(const GPTConfig *c) {
    size_t s[NUM_PARAM_KINDS];
    gpt_param_sizes(c, s);
    Counts n = {.wte = s[P_WTE], .wpe = s[P_WPE],
                .attn = s[P_QKVW] + s[P_QKVB] + s[P_ATTPROJW] + s[P_ATTPROJB],
                .mlp = s[P_FCW] + s[P_FCB] + s[P_FCPROJW] + s[P_FCPROJB],
                .ln = s[P_LN1W] + s[P_LN1B] + s[P_LN2W] + s[P_LN2B] + s[P_LNFW] + s[P_LNFB]};
    n.total = gpt_num_params(c);
    return n;
}

static int is_config_key(const char *k) {
    static const char *keys[] = {"vocab_size", "n_positions", "n_layer", "n_head", "n_embd",
                                 "tokenizer"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(k, keys[i])) return 1;
    return 0;
}

// "1,234,567"
static const char *commas(char *buf, size_t n, size_t v) {
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%zu", v), k = 0;
    for (int i = 0; i < len && (size_t)k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = 0;
    return buf;
}

static const char *human_bytes(char *buf, size_t n, double b) {
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) { b /= 1000; i++; }
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
    return buf;
}

// The first tensor that the config does not explain, or that is missing; NULL if none.
static const char *tensor_mismatch(const StFile *f, const GPTConfig *c, char *why, size_t n) {
    int np = gpt_param_table(c, NULL);
    ParamInfo *pi = xcalloc((size_t)np, sizeof *pi);
    gpt_param_table(c, pi);
    why[0] = 0;
    for (int i = 0; i < np && !why[0]; i++) {
        const StEntry *e = st_find(f, pi[i].name);
        if (!e) snprintf(why, n, "%s missing", pi[i].name);
        else if (strcmp(e->dtype, "F32") || e->ndim != pi[i].ndim || e->shape[0] != pi[i].shape[0] ||
                 (e->ndim == 2 && e->shape[1] != pi[i].shape[1]))
            snprintf(why, n, "%s has the wrong dtype or shape", pi[i].name);
    }
    if (!why[0] && f->n != np) snprintf(why, n, "%d tensors, expected %d", f->n, np);
    free(pi);
    return why[0] ? why : NULL;
}

static cJSON *tokenizer_info(const char *json) {  // {"type": ..., "vocab_size": ...} or NULL
    if (!json) return NULL;
    cJSON *t = cJSON_Parse(json), *out = cJSON_CreateObject();
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(t, "vocab_size");
    cJSON_AddStringToObject(out, "type", !t ? "unreadable (not JSON)"
                                         : cJSON_IsString(type) ? type->valuestring : "unknown");
    if (cJSON_IsNumber(vs)) cJSON_AddNumberToObject(out, "vocab_size", vs->valuedouble);
    cJSON_Delete(t);
    return out;
}

static void print_json(const StFile *f, const GPTConfig *c, const Counts *n, int tensors,
                       const char *mismatch) {
    cJSON *o = cJSON_CreateObject(), *cfg = cJSON_CreateObject(), *p = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", f->path);
    cJSON_AddNumberToObject(o, "file_size", (double)f->size);
    cJSON_AddNumberToObject(cfg, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(cfg, "block_size", c->block_size);
    cJSON_AddNumberToObject(cfg, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(cfg, "n_head", c->n_head);
    cJSON_AddNumberToObject(cfg, "n_embd", c->n_embd);
    cJSON_AddNumberToObject(cfg, "head_size", c->n_embd / c->n_head);
    cJSON_AddItemToObject(o, "config", cfg);
    cJSON_AddNumberToObject(p, "total", (double)n->total);
    cJSON_AddNumberToObject(p, "non_embedding", (double)(n->total - n->wte - n->wpe));
    cJSON_AddNumberToObject(p, "wte", (double)n->wte);
    cJSON_AddNumberToObject(p, "wpe", (double)n->wpe);
    cJSON_AddNumberToObject(p, "attention", (double)n->attn);
    cJSON_AddNumberToObject(p, "mlp", (double)n->mlp);
    cJSON_AddNumberToObject(p, "layernorm", (double)n->ln);
    cJSON_AddItemToObject(o, "params", p);
    cJSON *tok = tokenizer_info(st_meta(f, "tokenizer"));
    cJSON_AddItemToObject(o, "tokenizer", tok ? tok : cJSON_CreateNull());
    cJSON *meta = cJSON_CreateObject();
    for (int i = 0; i < f->n_meta; i++)
        if (!is_config_key(f->meta_keys[i]))
            cJSON_AddStringToObject(meta, f->meta_keys[i], f->meta_vals[i]);
    cJSON_AddItemToObject(o, "metadata", meta);
    cJSON_AddNumberToObject(o, "n_tensors", f->n);
    cJSON_AddBoolToObject(o, "tensors_match_config", mismatch == NULL);
    if (mismatch) cJSON_AddStringToObject(o, "tensors_mismatch", mismatch);
    if (tensors) {
        cJSON *arr = cJSON_AddArrayToObject(o, "tensors");
        for (int i = 0; i < f->n; i++) {
            const StEntry *e = &f->entries[i];
            cJSON *t = cJSON_CreateObject(), *s = cJSON_AddArrayToObject(t, "shape");
            cJSON_AddStringToObject(t, "name", e->name);
            cJSON_AddStringToObject(t, "dtype", e->dtype);
            for (int k = 0; k < e->ndim; k++)
                cJSON_AddItemToArray(s, cJSON_CreateNumber((double)e->shape[k]));
            cJSON_AddItemToArray(arr, t);
        }
    }
    char *txt = cJSON_Print(o);
    printf("%s\n", txt);
    free(txt);
    cJSON_Delete(o);
}

static void print_text(const StFile *f, const GPTConfig *c, const Counts *n, int tensors,
                       const char *mismatch) {
    char a[32], b[32], d[32];
    printf("%-12s %s\n", "path", f->path);
    printf("%-12s %s (%s bytes)\n", "file size", human_bytes(a, sizeof a, (double)f->size),
           commas(b, sizeof b, f->size));
    printf("%-12s vocab_size %d, block_size %d, n_layer %d, n_head %d, n_embd %d, head size %d\n",
           "config", c->vocab_size, c->block_size, c->n_layer, c->n_head, c->n_embd,
           c->n_embd / c->n_head);
    size_t emb = n->wte + n->wpe;
    printf("%-12s %s total, %s without embeddings\n", "parameters",
           commas(a, sizeof a, n->total), commas(b, sizeof b, n->total - emb));
    struct { const char *name; size_t v; } part[] = {
        {"embeddings", emb}, {"attention", n->attn}, {"mlp", n->mlp}, {"layernorms", n->ln}};
    for (int i = 0; i < 4; i++) {
        printf("  %-12s %11s  %5.1f%%", part[i].name, commas(a, sizeof a, part[i].v),
               100.0 * part[i].v / (double)n->total);
        if (i == 0)
            printf("  (wte %s, wpe %s)", commas(b, sizeof b, n->wte), commas(d, sizeof d, n->wpe));
        printf("\n");
    }
    cJSON *tok = tokenizer_info(st_meta(f, "tokenizer"));
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(tok, "type");
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(tok, "vocab_size");
    printf("%-12s %s", "tokenizer", tok ? tt->valuestring : "none");
    if (cJSON_IsNumber(tv)) printf(" (%d symbols)", tv->valueint);
    printf("\n");
    cJSON_Delete(tok);
    int shown = 0;
    for (int i = 0; i < f->n_meta; i++) {
        if (is_config_key(f->meta_keys[i])) continue;
        const char *v = f->meta_vals[i];
        size_t len = strlen(v);
        printf("%-12s %-14s %.*s%s\n", shown++ ? "" : "metadata", f->meta_keys[i],
               len > 60 ? 57 : (int)len, v, len > 60 ? "..." : "");
    }
    printf("%-12s %d, %s of data, %s\n", "tensors", f->n,
           human_bytes(a, sizeof a, (double)(f->size - f->data_start)),
           mismatch ? "do NOT match the config:" : "match the config");
    if (mismatch) printf("%-12s %s\n", "", mismatch);
    if (!tensors) return;
    int w = 0;
    for (int i = 0; i < f->n; i++) {
        int l = (int)strlen(f->entries[i].name);
        if (l > w) w = l;
    }
    for (int i = 0; i < f->n; i++) {
        const StEntry *e = &f->entries[i];
        printf("  %-*s  %-5s (", w, e->name, e->dtype);
        for (int k = 0; k < e->ndim; k++) printf("%s%" PRId64, k ? ", " : "", e->shape[k]);
        printf(e->ndim == 1 ? ",)\n" : ")\n");
    }
}

int cmd_info(int argc, char **argv) {
    int json = 0, tensors = 0, n_head = 0;
    ArgSpec specs[] = {
        {"--n-head", ARG_INT, &n_head, "heads, for a Hugging Face file with no config.json", 0, 1 << 20},
        {"--json", ARG_FLAG, &json, "print JSON instead of text", 0, 0, 0},
        {"--tensors", ARG_FLAG, &tensors, "also list every tensor (name, dtype, shape)", 0, 0, 0},
        {NULL},
    };
    const char *pos[1];
    int npos = 0;
    int rc = args_parse("info", "CKPT [--json] [--tensors]   (CKPT: a .safetensors file or a run "
                        "directory)", specs, argc, argv, pos, 1, &npos);
    if (rc) return rc > 0 ? 0 : 1;
    if (npos != 1) { em_error("info: expected one checkpoint path (see emergent info --help)"); return 1; }
    char path[1200];
    cli_model_path(pos[0], path, sizeof path);

    StFile f;
    if (st_open(&f, path)) return 1;
    GPTConfig c;
    int ours = ckpt_is_ours(&f);  // else a Hugging Face file: config.json or the shapes
    if (ours ? ckpt_read_config(&f, &c) : hf_read_config(&f, n_head, &c)) { st_close(&f); return 1; }
    Counts n = count_params(&c);
    char why[256];
    const char *mismatch = ours ? tensor_mismatch(&f, &c, why, sizeof why) : NULL;
    if (json) print_json(&f, &c, &n, tensors, mismatch);
    else print_text(&f, &c, &n, tensors, mismatch);
    fflush(stdout);
    // what is listed may still be a file no other command loads: say why, exit non-zero
    const char *allow = getenv("EMERGENT_ALLOW_NONFINITE");
    unsigned flags = allow && !strcmp(allow, "1") ? CKPT_ALLOW_NONFINITE : 0;
    if (ours) {
        rc = ckpt_check(&f, flags);
    } else {  // every check of loading it
        GPT m;
        Tokenizer tok;
        rc = hf_load(path, n_head, &m, &tok, flags);
        if (!rc) {
            if (!json) printf("%-12s Hugging Face layout; tokenizer %s\n", "format",
                   tok.kind == TOK_BPE ? "BPE (beside the file, or GPT-2's built-in)"
                   : tok.kind == TOK_CHAR ? "char" : "none");
            tok_free(&tok);
            gpt_free(&m);
        }
    }
    st_close(&f);
    if (rc == CKPT_ERR_NONFINITE) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", em_errmsg());
        em_error("%s (EMERGENT_ALLOW_NONFINITE=1 accepts it)", msg);
    }
    return rc ? 1 : 0;
}
