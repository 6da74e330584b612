// emergent params: parameter count, FLOPs per token and training memory of a config.
// The counts come from the model's own layout (gpt_param_sizes, gpt_act_floats), so
// what is printed is what `train` would allocate.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "model/gpt.h"

typedef struct { const char *name; GPTConfig cfg; } Preset;
static const Preset presets[] = {
    {"gpt2",        {50257, 1024, 12, 12, 768}},
    {"gpt2-medium", {50257, 1024, 24, 16, 1024}},
    {"gpt2-large",  {50257, 1024, 36, 20, 1280}},
    {"gpt2-xl",     {50257, 1024, 48, 25, 1600}},
    {"gpt3-175b",   {50257, 2048, 96, 96, 12288}},
    {NULL, {0}},
};

// Every number the report shows, in doubles (exact below 2^53) and size_t.
typedef struct {
    GPTConfig c;
    int B, T;
    size_t wte, wpe, emb;
    size_t c_attn, a_proj, attn, c_fc, m_proj, mlp, lns, layer;  // one layer
    size_t layers, lnf, total;
    double fl_6n, fl_att, fl_train, fl_fwd;
    double m_params, m_acts, m_total;
    size_t act_floats, gact_floats;
} Report;

// 1234567 -> "1,234,567"
static const char *commas(char *buf, size_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", v), j = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = 0;
    return buf;
}

// 124439808 -> "124.44M" (decimal units, for counts and FLOPs)
static const char *human(char *buf, double v) {
    static const char *u[] = {"", "K", "M", "B", "T", "P", "E"};
    int i = 0;
    while (v >= 1000.0 && i < 6) { v /= 1000.0; i++; }
    if (v >= 1000.0) snprintf(buf, 16, "%.3gE", v);  // beyond the units: 1.23e+03E
    else if (i == 0) snprintf(buf, 16, "%.0f", v);
    else snprintf(buf, 16, "%.2f%s", v, u[i]);
    return buf;
}

// bytes -> "474.70 MiB" (binary units)
static const char *human_bytes(char *buf, double v) {
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int i = 0;
    while (v >= 1024.0 && i < 6) { v /= 1024.0; i++; }
    if (i == 0) snprintf(buf, 16, "%.0f B", v);
    else snprintf(buf, 16, "%.2f %s", v, u[i]);
    return buf;
}

static void compute(Report *r, const GPTConfig *c, int B, int T) {
    size_t s[NUM_PARAM_KINDS], L = c->n_layer;
    gpt_param_sizes(c, s);
    r->c = *c; r->B = B; r->T = T;
    r->wte = s[P_WTE]; r->wpe = s[P_WPE]; r->emb = r->wte + r->wpe;
    r->c_attn = (s[P_QKVW] + s[P_QKVB]) / L;
    r->a_proj = (s[P_ATTPROJW] + s[P_ATTPROJB]) / L;
    r->c_fc = (s[P_FCW] + s[P_FCB]) / L;
    r->m_proj = (s[P_FCPROJW] + s[P_FCPROJB]) / L;
    r->lns = (s[P_LN1W] + s[P_LN1B] + s[P_LN2W] + s[P_LN2B]) / L;
    r->attn = r->c_attn + r->a_proj;
    r->mlp = r->c_fc + r->m_proj;
    r->layer = r->attn + r->mlp + r->lns;
    r->layers = r->layer * L;
    r->lnf = s[P_LNFW] + s[P_LNFB];
    r->total = r->emb + r->layers + r->lnf;
    r->fl_train = gpt_train_flops_per_token(c, T, &r->fl_6n, &r->fl_att);
    r->fl_fwd = r->fl_train / 3.0;
    r->act_floats = gpt_act_floats(c, B, T);
    r->gact_floats = gpt_grad_act_floats(c, B, T);
    r->m_params = 4.0 * (double)r->total;  // fp32; gradients, AdamW m and v: the same again
    r->m_acts = 4.0 * ((double)r->act_floats + (double)r->gact_floats);
    r->m_total = 4.0 * r->m_params + r->m_acts;
}

static double pct(size_t part, size_t total) { return 100.0 * (double)part / (double)total; }

static void print_text(const Report *r, const char *label) {
    const GPTConfig *c = &r->c;
    char a[48], h[32];
    printf("config %s: vocab_size %d, block_size %d, n_layer %d, n_head %d, n_embd %d "
           "(head size %d)\n", label, c->vocab_size, c->block_size, c->n_layer, c->n_head,
           c->n_embd, c->n_embd / c->n_head);
    printf("batch %d x seq_len %d\n\n", r->B, r->T);

    printf("%-36s %16s %10s %8s\n", "parameters", "count", "", "share");
#define ROW(NAME, V)                                                                         \
    printf("%-36s %16s %10s %7.2f%%\n", NAME, commas(a, V), human(h, (double)(V)),          \
           pct(V, r->total))
    ROW("  embeddings", r->emb);
    ROW("    wte (V x C, tied with the head)", r->wte);
    ROW("    wpe (block_size x C)", r->wpe);
    ROW("  one layer", r->layer);
    ROW("    attention", r->attn);
    ROW("      c_attn (C x 3C + 3C)", r->c_attn);
    ROW("      c_proj (C x C + C)", r->a_proj);
    ROW("    mlp", r->mlp);
    ROW("      c_fc (C x 4C + 4C)", r->c_fc);
    ROW("      c_proj (4C x C + C)", r->m_proj);
    ROW("    layernorms (ln_1, ln_2)", r->lns);
    char name[64];
    snprintf(name, sizeof name, "  all %d layers", c->n_layer);
    ROW(name, r->layers);
    ROW("    attention", r->attn * c->n_layer);
    ROW("    mlp", r->mlp * c->n_layer);
    ROW("    layernorms", r->lns * c->n_layer);
    ROW("  final layernorm (ln_f)", r->lnf);
    ROW("  total", r->total);
#undef ROW

    char b1[32], b2[32], b3[32];
    printf("\nFLOPs per token (seq_len %d)\n", r->T);
    printf("  training  6N + 12*L*C*T = %s + %s = %s  (%.1f%% attention)\n",
           human(b1, r->fl_6n), human(b2, r->fl_att), human(b3, r->fl_train),
           100.0 * r->fl_att / r->fl_train);
    printf("  forward   2N + 4*L*C*T  = %s\n", human(b1, r->fl_fwd));
    printf("  training, one batch of %d x %d tokens: %s FLOPs\n", r->B, r->T,
           human(b1, r->fl_train * r->B * r->T));

    printf("\ntraining memory (fp32, batch %d x seq_len %d)\n", r->B, r->T);
    printf("%-36s %20s %12s %8s\n", "", "bytes", "", "share");
#define MROW(NAME, V)                                                                        \
    printf("%-36s %20s %12s %7.2f%%\n", NAME, commas(a, (size_t)(V)), human_bytes(h, V),             \
           100.0 * (V) / r->m_total)
    MROW("  parameters", r->m_params);
    MROW("  gradients", r->m_params);
    MROW("  AdamW m", r->m_params);
    MROW("  AdamW v", r->m_params);
    MROW("  activations", r->m_acts);
    printf("    (%s forward + %s backward floats)\n", commas(b1, r->act_floats),
           commas(b2, r->gact_floats));
    MROW("  total", r->m_total);
#undef MROW
}

static int print_json(const Report *r, const char *preset) {
    const GPTConfig *c = &r->c;
    cJSON *o = cJSON_CreateObject();
    if (preset) cJSON_AddStringToObject(o, "preset", preset);
    else cJSON_AddNullToObject(o, "preset");
    cJSON *cf = cJSON_AddObjectToObject(o, "config");
    cJSON_AddNumberToObject(cf, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(cf, "block_size", c->block_size);
    cJSON_AddNumberToObject(cf, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(cf, "n_head", c->n_head);
    cJSON_AddNumberToObject(cf, "n_embd", c->n_embd);
    cJSON_AddNumberToObject(o, "n_params", (double)r->total);
    cJSON_AddNumberToObject(o, "batch_size", r->B);
    cJSON_AddNumberToObject(o, "seq_len", r->T);

    cJSON *p = cJSON_AddObjectToObject(o, "params");
    cJSON_AddNumberToObject(p, "wte", (double)r->wte);
    cJSON_AddNumberToObject(p, "wpe", (double)r->wpe);
    cJSON_AddNumberToObject(p, "embeddings", (double)r->emb);
    cJSON *pl = cJSON_AddObjectToObject(p, "per_layer");
    cJSON_AddNumberToObject(pl, "attn_c_attn", (double)r->c_attn);
    cJSON_AddNumberToObject(pl, "attn_c_proj", (double)r->a_proj);
    cJSON_AddNumberToObject(pl, "attention", (double)r->attn);
    cJSON_AddNumberToObject(pl, "mlp_c_fc", (double)r->c_fc);
    cJSON_AddNumberToObject(pl, "mlp_c_proj", (double)r->m_proj);
    cJSON_AddNumberToObject(pl, "mlp", (double)r->mlp);
    cJSON_AddNumberToObject(pl, "layernorms", (double)r->lns);
    cJSON_AddNumberToObject(pl, "total", (double)r->layer);
    cJSON *al = cJSON_AddObjectToObject(p, "layers");
    cJSON_AddNumberToObject(al, "attention", (double)(r->attn * c->n_layer));
    cJSON_AddNumberToObject(al, "mlp", (double)(r->mlp * c->n_layer));
    cJSON_AddNumberToObject(al, "layernorms", (double)(r->lns * c->n_layer));
    cJSON_AddNumberToObject(al, "total", (double)r->layers);
    cJSON_AddNumberToObject(p, "ln_f", (double)r->lnf);
    cJSON_AddNumberToObject(p, "total", (double)r->total);

    cJSON *sh = cJSON_AddObjectToObject(o, "share");
    cJSON_AddNumberToObject(sh, "embeddings", pct(r->emb, r->total) / 100);
    cJSON_AddNumberToObject(sh, "attention", pct(r->attn * c->n_layer, r->total) / 100);
    cJSON_AddNumberToObject(sh, "mlp", pct(r->mlp * c->n_layer, r->total) / 100);
    cJSON_AddNumberToObject(sh, "layernorms", pct(r->lns * c->n_layer + r->lnf, r->total) / 100);

    cJSON *fl = cJSON_AddObjectToObject(o, "flops_per_token");
    cJSON_AddNumberToObject(fl, "train", r->fl_train);
    cJSON_AddNumberToObject(fl, "train_6n", r->fl_6n);
    cJSON_AddNumberToObject(fl, "train_attention", r->fl_att);
    cJSON_AddNumberToObject(fl, "forward", r->fl_fwd);
    cJSON_AddNumberToObject(o, "train_flops_per_batch", r->fl_train * r->B * r->T);

    cJSON *mem = cJSON_AddObjectToObject(o, "memory_bytes");
    cJSON_AddNumberToObject(mem, "params", r->m_params);
    cJSON_AddNumberToObject(mem, "grads", r->m_params);
    cJSON_AddNumberToObject(mem, "adamw_m", r->m_params);
    cJSON_AddNumberToObject(mem, "adamw_v", r->m_params);
    cJSON_AddNumberToObject(mem, "activations", r->m_acts);
    cJSON_AddNumberToObject(mem, "activation_floats_forward", (double)r->act_floats);
    cJSON_AddNumberToObject(mem, "activation_floats_backward", (double)r->gact_floats);
    cJSON_AddNumberToObject(mem, "total", r->m_total);

    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return em_error("params: out of memory printing JSON");
    printf("%s\n", s);
    free(s);
    return 0;
}

int cmd_params(int argc, char **argv) {
    const char *preset = NULL;
    GPTConfig f = presets[0].cfg;  // the field flags' defaults (shown by --help): gpt2's
    int B = 1, T = 0, json = 0;
    ArgSpec specs[] = {
        {"--preset", ARG_STR, &preset, "gpt2, gpt2-medium, gpt2-large, gpt2-xl or gpt3-175b "
                                       "(gpt2 when no field is given)"},
        {"--vocab-size", ARG_INT, &f.vocab_size, "vocabulary size V (overrides the preset's)", 1, 1 << 24},
        {"--block-size", ARG_INT, &f.block_size, "context length (overrides the preset's)", 1, 1 << 20},
        {"--n-layer", ARG_INT, &f.n_layer, "transformer blocks (overrides the preset's)", 1, 4096},
        {"--n-head", ARG_INT, &f.n_head, "attention heads (overrides the preset's)", 1, 4096},
        {"--n-embd", ARG_INT, &f.n_embd, "embedding width (overrides the preset's)", 1, 1 << 20},
        {"--batch-size", ARG_INT, &B, "sequences per batch, for memory", 1, 1 << 20},
        {"--seq-len", ARG_INT, &T, "tokens per sequence, for FLOPs and memory (0: block size)", 0, 1 << 20},
        {"--json", ARG_FLAG, &json, "print a JSON object instead of tables"},
        {NULL},
    };
    int rc = args_parse("params", "[--preset NAME] [--vocab-size N --block-size N --n-layer N "
                        "--n-head N --n-embd N] [--batch-size B] [--seq-len T] [--json]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;

    const char *fields[] = {"--vocab-size", "--block-size", "--n-layer", "--n-head", "--n-embd"};
    int *vals[] = {&f.vocab_size, &f.block_size, &f.n_layer, &f.n_head, &f.n_embd};
    int n_given = 0;
    for (int i = 0; i < 5; i++) n_given += args_given(specs, fields[i]);

    // Base: the named preset; with no preset, gpt2 when no field is given, else all five.
    GPTConfig c = presets[0].cfg;
    const char *label = "gpt2";
    if (preset) {
        const Preset *p = presets;
        while (p->name && strcmp(p->name, preset)) p++;
        if (!p->name)
            return em_error("--preset: unknown preset '%s' (known: gpt2, gpt2-medium, gpt2-large, "
                            "gpt2-xl, gpt3-175b)", preset), 1;
        c = p->cfg;
        label = p->name;
    } else if (n_given) {
        for (int i = 0; i < 5; i++)
            if (!args_given(specs, fields[i]))
                return em_error("%s: missing (without --preset give all of --vocab-size, "
                                "--block-size, --n-layer, --n-head, --n-embd)", fields[i]), 1;
    }
    int *dst[] = {&c.vocab_size, &c.block_size, &c.n_layer, &c.n_head, &c.n_embd};
    for (int i = 0; i < 5; i++)
        if (args_given(specs, fields[i])) *dst[i] = *vals[i];
    char lbuf[96];
    if (n_given) {
        if (preset) snprintf(lbuf, sizeof lbuf, "%s with overrides", preset);
        else snprintf(lbuf, sizeof lbuf, "custom");
        label = lbuf;
    }
    if (gpt_config_check(&c, "params")) return 1;
    if (T == 0) T = c.block_size;
    if (T > c.block_size)
        return em_error("--seq-len: %d exceeds the block size %d", T, c.block_size), 1;
    // size_t holds the activation count unless the shape is absurd; refuse rather than wrap.
    double est = (double)c.n_layer * B * T * (16.0 * c.n_embd + (double)c.n_head * T + 8) +
                 (double)B * T * (c.vocab_size + 16.0 * c.n_embd + (double)c.n_head * T + 8);
    if (est > 1e18)
        return em_error("--batch-size/--seq-len: about %.3g activation floats, too large to count",
                        est), 1;

    Report r;
    compute(&r, &c, B, T);
    if (json) return print_json(&r, preset ? preset : (n_given ? NULL : "gpt2")) ? 1 : 0;
    print_text(&r, label);
    return 0;
}
