// emergent inspect lens | attention: the logit lens and attention patterns with head scores.
// Tables on stdout, JSON with --json, figures (gnuplot) with --out DIR.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "inspect/heads.h"
#include "inspect/lens.h"
#include "model/checkpoint.h"
#include "cli/inspect_cli.h"
#include "report/report.h"
#include "tokenizer/tokenizer.h"


static int encode_prompt(const Tokenizer *tok, const GPT *m, const char *prompt, int **ids, int *T) {
    size_t n;
    if (tok_encode(tok, prompt, strlen(prompt), ids, &n, "--prompt")) return -1;
    if (n < 1 || (int)n > m->cfg.block_size) {
        free(*ids);
        *ids = NULL;
        return em_error("--prompt: %zu tokens; the model takes 1 to %d", n, m->cfg.block_size);
    }
    *T = (int)n;
    return 0;
}

// The figure labels of ids[0..T) (cli_tok_show without quoting), malloc'd.
static char **labels_of(const Tokenizer *tok, const int *ids, int T) {
    char **lab = xmalloc(sizeof(char *) * (size_t)T);
    for (int t = 0; t < T; t++) { lab[t] = xmalloc(64); cli_tok_show(tok, ids[t], lab[t], 0); }
    return lab;
}
static void labels_free(char **lab, int T) {
    for (int t = 0; t < T; t++) free(lab[t]);
    free(lab);
}

// ---- lens -------------------------------------------------------------------------
static int lens_figure(const char *dir, const LensResult *r, const Tokenizer *tok, const int *ids) {
    float *p = xmalloc(sizeof(float) * (size_t)r->L * r->T);
    for (size_t lt = 0; lt < (size_t)r->L * r->T; lt++) p[lt] = r->target >= 0 ? r->target_p[lt] : r->top_p[lt * r->k];
    char **lab = labels_of(tok, ids, r->T), tgt[64];
    if (r->target >= 0) cli_tok_show(tok, r->target, tgt, 0);
    int rc = report_lens_figure(dir, p, r->L, r->T, (const char *const *)lab, r->target >= 0 ? tgt : NULL);
    if (!rc) fprintf(stderr, "figure: %s/lens.png (and .svg)\n", dir);
    labels_free(lab, r->T);
    free(p);
    return rc;
}

static void lens_table(const LensResult *r, const Tokenizer *tok, const int *ids, int pos) {
    char a[64], b[64];
    for (int t = 0; t < r->T; t++) {
        if (pos >= 0 && t != pos) continue;
        cli_tok_show(tok, ids[t], a, 1);
        printf("position %d (input '%s')%s\n", t, a, t + 1 < r->T ? "" : ", the last");
        for (int l = 0; l < r->L; l++) {
            size_t lt = (size_t)l * r->T + t;
            printf("  L%-3d", l);
            for (int i = 0; i < r->k; i++) {
                cli_tok_show(tok, r->top_id[lt * r->k + i], b, 1);
                printf("  ");
                cli_print_padded(b, 4);
                printf(" %.3f", r->top_p[lt * r->k + i]);
            }
            if (r->target >= 0) printf("  | target rank %d p %.4f", r->target_rank[lt], r->target_p[lt]);
            printf("\n");
        }
    }
}

static cJSON *lens_json(const LensResult *r, const Tokenizer *tok, const int *ids, int pos,
                        const char *path) {
    char b[16];
    cJSON *o = cJSON_CreateObject(), *pl = cJSON_AddArrayToObject(o, "positions");
    cJSON_AddStringToObject(o, "model", path);
    cJSON_AddNumberToObject(o, "n_layer", r->L);
    cJSON_AddNumberToObject(o, "top_k", r->k);
    if (r->target >= 0) {
        cli_tok_raw(tok, r->target, b);
        cJSON_AddStringToObject(o, "target", b);
        cJSON_AddNumberToObject(o, "target_id", r->target);
    }
    for (int t = 0; t < r->T; t++) {
        if (pos >= 0 && t != pos) continue;
        cJSON *po = cJSON_CreateObject(), *la = cJSON_AddArrayToObject(po, "layers");
        cJSON_AddNumberToObject(po, "position", t);
        cli_tok_raw(tok, ids[t], b);
        cJSON_AddStringToObject(po, "input", b);
        for (int l = 0; l < r->L; l++) {
            size_t lt = (size_t)l * r->T + t;
            cJSON *lo = cJSON_CreateObject(), *top = cJSON_AddArrayToObject(lo, "top");
            cJSON_AddNumberToObject(lo, "layer", l);
            for (int i = 0; i < r->k; i++) {
                cJSON *e = cJSON_CreateObject();
                cli_tok_raw(tok, r->top_id[lt * r->k + i], b);
                cJSON_AddStringToObject(e, "token", b);
                cJSON_AddNumberToObject(e, "id", r->top_id[lt * r->k + i]);
                cJSON_AddNumberToObject(e, "p", r->top_p[lt * r->k + i]);
                cJSON_AddItemToArray(top, e);
            }
            if (r->target >= 0) {
                cJSON_AddNumberToObject(lo, "target_rank", r->target_rank[lt]);
                cJSON_AddNumberToObject(lo, "target_p", r->target_p[lt]);
            }
            cJSON_AddItemToArray(la, lo);
        }
        cJSON_AddItemToArray(pl, po);
    }
    return o;
}

int inspect_lens_main(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *target = NULL, *out = NULL;
    int k = 5, pos = -1, json = 0;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--prompt", ARG_STR, &prompt, "the input text"},
        {"--target", ARG_STR, &target, "a token (one) whose rank and probability to follow"},
        {"--top-k", ARG_INT, &k, "most probable tokens shown per layer and position", 1, 1 << 20},
        {"--pos", ARG_INT, &pos, "one position (0-based), or -1 for all", -1, 1 << 20},
        {"--json", ARG_FLAG, &json, "JSON on stdout instead of the tables"},
        {"--out", ARG_STR, &out, "directory for the layer x position heatmap (lens.png/.svg)"},
        {NULL},
    };
    int rc = args_parse("inspect lens", "--model CKPT --prompt TEXT [flags]", specs, argc, argv,
                        NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    if (!prompt) { em_error("--prompt TEXT is required"); return 1; }
    if (out && !report_gnuplot_available()) {
        em_error("--out: gnuplot not found (install gnuplot-nox, or set GNUPLOT)");
        return 1;
    }
    GPT m;
    Tokenizer tok;
    char path[1200];
    if (cli_load_model(model, &m, &tok, path, sizeof path)) return 1;
    int *ids = NULL, T = 0, tid = -1, *tids = NULL;
    rc = 1;
    LensResult r = {0};
    if (encode_prompt(&tok, &m, prompt, &ids, &T)) goto done;
    if (pos >= T) { em_error("--pos %d: the prompt has %d tokens (0..%d)", pos, T, T - 1); goto done; }
    if (k > m.cfg.vocab_size) { em_error("--top-k %d: the vocabulary has %d tokens", k, m.cfg.vocab_size); goto done; }
    if (target) {
        size_t nt;
        if (tok_encode(&tok, target, strlen(target), &tids, &nt, "--target")) goto done;
        if (nt != 1) { em_error("--target '%s': %zu tokens; give exactly one", target, nt); goto done; }
        tid = tids[0];
    }
    if (lens_run(&m, ids, T, k, tid, &r, NULL)) goto done;
    if (json) { if (cli_json_print(lens_json(&r, &tok, ids, pos, path), 0)) goto done; }
    else lens_table(&r, &tok, ids, pos);
    if (out && lens_figure(out, &r, &tok, ids)) goto done;
    rc = 0;
done:
    lens_free(&r);
    free(tids); free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

// ---- attention --------------------------------------------------------------------
static int attention_figure(const char *dir, const InspectAttention *r, const Tokenizer *tok,
                            const int *ids) {
    char **lab = labels_of(tok, ids, r->T);
    int rc = report_attention_figure(dir, r->att, r->L, r->NH, r->T, (const char *const *)lab);
    if (!rc) fprintf(stderr, "figure: %s/attention.png (and .svg)\n", dir);
    labels_free(lab, r->T);
    return rc;
}

static void score_table(const char *title, const double *sc, int L, int NH) {
    for (int k = 0; k < HS_NUM; k++) {
        const double *v = sc + (size_t)k * L * NH;
        int any = 0;
        for (int i = 0; i < L * NH; i++) any |= !isnan(v[i]);
        if (!any) continue;
        printf("\n%s: %s (layer x head)\n      ", title, heads_score_names[k]);
        for (int h = 0; h < NH; h++) printf("    H%-3d", h);
        printf("\n");
        for (int l = 0; l < L; l++) {
            printf("  L%-3d", l);
            for (int h = 0; h < NH; h++) printf("  %6.3f", v[l * NH + h]);
            printf("\n");
        }
    }
}

static cJSON *scores_json(const double *sc, int L, int NH) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < HS_NUM; k++) {
        cJSON *a = cJSON_AddArrayToObject(o, heads_score_names[k]);
        for (int l = 0; l < L; l++) {
            cJSON *row = cJSON_CreateArray();
            for (int h = 0; h < NH; h++) {
                double v = sc[((size_t)k * L + l) * NH + h];
                cJSON_AddItemToArray(row, isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v));
            }
            cJSON_AddItemToArray(a, row);
        }
    }
    return o;
}

static void attention_json(const InspectAttention *r, const Tokenizer *tok, const int *ids,
                           const char *path, int n_rep, int samples, int64_t seed) {
    int L = r->L, NH = r->NH, T = r->T;
    char a[64];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", path);
    cJSON_AddNumberToObject(o, "n_layer", L);
    cJSON_AddNumberToObject(o, "n_head", NH);
    cJSON *ro = scores_json(r->scores, L, NH);
    cJSON_AddNumberToObject(ro, "n_rep", n_rep);
    cJSON_AddNumberToObject(ro, "samples", samples);
    cJSON_AddNumberToObject(ro, "seed", (double)seed);
    cJSON_AddItemToObject(o, "scores", ro);
    if (ids) {
        cJSON *tl = cJSON_AddArrayToObject(o, "tokens");
        for (int t = 0; t < T; t++) {
            cli_tok_raw(tok, ids[t], a);
            cJSON_AddItemToArray(tl, cJSON_CreateString(a));
        }
        cJSON_AddItemToObject(o, "prompt_scores", scores_json(r->prompt_scores, L, NH));
        cJSON *pa = cJSON_AddArrayToObject(o, "patterns");   // [layer][head][query][key]
        for (int l = 0; l < L; l++) {
            cJSON *la = cJSON_CreateArray();
            for (int h = 0; h < NH; h++) {
                cJSON *ha = cJSON_CreateArray();
                for (int t = 0; t < T; t++) {
                    const float *row = r->att + (((size_t)l * NH + h) * T + t) * T;
                    cJSON *ra = cJSON_CreateArray();
                    for (int u = 0; u <= t; u++) cJSON_AddItemToArray(ra, cJSON_CreateNumber(row[u]));
                    cJSON_AddItemToArray(ha, ra);
                }
                cJSON_AddItemToArray(la, ha);
            }
            cJSON_AddItemToArray(pa, la);
        }
    }
    cli_json_print(o, 0);
}

static void attention_tables(const InspectAttention *r, const Tokenizer *tok, const int *ids,
                             int patterns, int n_rep, int samples) {
    int L = r->L, NH = r->NH, T = r->T;
    char a[64];
    for (int l = 0; ids && patterns && l < L; l++)
        for (int h = 0; h < NH; h++) {
            printf("L%d H%d (rows: query, columns: key)\n        ", l, h);
            for (int u = 0; u < T; u++) { cli_tok_show(tok, ids[u], a, 1); putchar(' '); cli_print_padded(a, 5); }
            printf("\n");
            for (int t = 0; t < T; t++) {
                cli_tok_show(tok, ids[t], a, 1);
                printf("  ");
                cli_print_padded(a, 5);
                putchar(' ');
                for (int u = 0; u <= t; u++) printf(" %5.2f", r->att[(((size_t)l * NH + h) * T + t) * T + u]);
                printf("\n");
            }
            printf("\n");
        }
    char title[96];
    snprintf(title, sizeof title, "random tokens repeated (n = %d, %d samples)", n_rep, samples);
    score_table(title, r->scores, L, NH);
    if (ids) score_table("the prompt", r->prompt_scores, L, NH);
}

int inspect_attention_main(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *out = NULL;
    int n_rep = 0, samples = 4, json = 0, no_patterns = 0;
    int64_t seed = 1;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--prompt", ARG_STR, &prompt, "text whose patterns to show (none: the scores only)"},
        {"--n-rep", ARG_INT, &n_rep, "length of the random sequence repeated twice for the scores (0: min(20, block/2))", 0, 1 << 20},
        {"--samples", ARG_INT, &samples, "random repeated sequences averaged over", 1, 1 << 16},
        {"--seed", ARG_I64, &seed, "seed of the random sequences", 0, 9.2e18},
        {"--no-patterns", ARG_FLAG, &no_patterns, "leave the pattern matrices out of the tables"},
        {"--json", ARG_FLAG, &json, "JSON on stdout instead of the tables"},
        {"--out", ARG_STR, &out, "directory for the grid of heatmaps (attention.png/.svg; needs --prompt)"},
        {NULL},
    };
    int rc = args_parse("inspect attention", "--model CKPT [--prompt TEXT] [flags]", specs, argc,
                        argv, NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    if (out && !prompt) { em_error("--out needs --prompt (the patterns drawn are the prompt's)"); return 1; }
    if (out && !report_gnuplot_available()) {
        em_error("--out: gnuplot not found (install gnuplot-nox, or set GNUPLOT)");
        return 1;
    }
    GPT m;
    Tokenizer tok;
    char path[1200];
    if (cli_load_model(model, &m, &tok, path, sizeof path)) return 1;
    int *ids = NULL, T = 0;
    InspectAttention r = {0};
    rc = 1;
    if (n_rep == 0) n_rep = m.cfg.block_size / 2 < 20 ? m.cfg.block_size / 2 : 20;
    if (n_rep < 1 || 2 * n_rep > m.cfg.block_size) {
        em_error("--n-rep %d: 2 x %d tokens must fit the context (%d)", n_rep, n_rep, m.cfg.block_size);
        goto done;
    }
    if (prompt && encode_prompt(&tok, &m, prompt, &ids, &T)) goto done;
    if (inspect_attention(&m, ids, T, n_rep, samples, (uint64_t)seed, &r)) goto done;
    if (json) attention_json(&r, &tok, ids, path, n_rep, samples, seed);
    else attention_tables(&r, &tok, ids, !no_patterns, n_rep, samples);
    if (out && attention_figure(out, &r, &tok, ids)) goto done;
    rc = 0;
done:
    inspect_attention_free(&r);
    free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}
