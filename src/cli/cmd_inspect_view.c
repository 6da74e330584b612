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
#include "report/report.h"
#include "tokenizer/tokenizer.h"


// The text of a token (raw: for JSON), or NULL-safe "<id>" outside the tokenizer.
static void tok_raw(const Tokenizer *tok, int id, char *buf) {
    int n = tok_decode_one(tok, id, buf);
    if (n == 0) n = sprintf(buf, "<%d>", id);
    buf[n] = 0;
}
// For tables and figure labels: control characters and quotes escaped, printable otherwise.
static void tok_show(const Tokenizer *tok, int id, char *buf) {
    char raw[16], *o = buf;
    tok_raw(tok, id, raw);
    for (const unsigned char *c = (const unsigned char *)raw; *c; c++) {
        if (*c == '\n') o += sprintf(o, "\\n");
        else if (*c == '\t') o += sprintf(o, "\\t");
        else if (*c == ' ') o += sprintf(o, "\xe2\x90\xa3");   // U+2423 open box
        else if (*c < 0x20 || *c == 0x7f) o += sprintf(o, "\\x%02x", *c);
        else if (*c == '\'') o += sprintf(o, "''");           // gnuplot single quotes
        else *o++ = (char)*c;
    }
    *o = 0;
}

// Prints s right-aligned in w columns (counting code points, not bytes).
static void print_padded(const char *s, int w) {
    int n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) n += (*c & 0xc0) != 0x80;
    for (; n < w; n++) putchar(' ');
    fputs(s, stdout);
}

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

static int print_json(cJSON *o) {
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return em_error("json: out of memory");
    printf("%s\n", s);
    free(s);
    return 0;
}

// Writes dir/stem.gp (and the data written by the caller) and runs gnuplot on it.
static int run_script(const char *dir, const char *stem, const char *script) {
    char p[1200], name[256];
    snprintf(name, sizeof name, "%s.gp", stem);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (write_file_atomic(p, script, strlen(script))) return -1;
    if (report_gnuplot_render(dir, name, stem)) return -1;
    fprintf(stderr, "figure: %s/%s.png (and .svg)\n", dir, stem);
    return 0;
}

static const char *const TERMS =
    "do for [k=1:2] {\n"
    "  if (k == 1) { set terminal pngcairo size W,H font 'DejaVu Sans,10'; set output out.'.png' }\n"
    "  else { set terminal svg size W,H font 'DejaVu Sans,10'; set output out.'.svg' }\n";

// ---- lens -------------------------------------------------------------------------
static int lens_figure(const char *dir, const LensResult *r, const Tokenizer *tok, const int *ids,
                       const char *target_str) {
    if (make_dir(dir)) return -1;
    // the data: one matrix row per layer, one column per position
    size_t cap = (size_t)r->L * r->T * 16 + 64;
    char *d = xmalloc(cap), *s = xmalloc(16384 + (size_t)r->T * 48);
    size_t n = 0;
    for (int l = 0; l < r->L; l++) {
        for (int t = 0; t < r->T; t++) {
            size_t lt = (size_t)l * r->T + t;
            n += snprintf(d + n, cap - n, "%s%.6f", t ? " " : "", r->target >= 0 ? r->target_p[lt] : r->top_p[lt * r->k]);
        }
        n += snprintf(d + n, cap - n, "\n");
    }
    char p[1200];
    snprintf(p, sizeof p, "%s/lens.dat", dir);
    int rc = write_file_atomic(p, d, n);
    free(d);
    if (rc) { free(s); return -1; }
    char lab[64], tgt[64];
    int W = 240 + 28 * r->T, H = 160 + 36 * r->L;
    if (W < 640) W = 640;
    if (H < 400) H = 400;
    size_t m = 0;
    m += sprintf(s + m, "W = %d; H = %d\nset termoption noenhanced\nset xtics (", W, H);
    for (int t = 0; t < r->T; t++) {
        tok_show(tok, ids[t], lab);
        m += sprintf(s + m, "%s'%s' %d", t ? ", " : "", lab, t);
    }
    m += sprintf(s + m, ")\nset ytics 1\nset xlabel 'position (input token)'\nset ylabel 'layer (block output)'\n");
    if (target_str) {
        tok_show(tok, r->target, tgt);
        m += sprintf(s + m, "set title 'logit lens: p(''%s'')'\n", tgt);
    } else {
        m += sprintf(s + m, "set title 'logit lens: probability of the top-1 token'\n");
    }
    m += sprintf(s + m, "set cbrange [0:1]\nset cblabel 'probability'\nset palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\n"
                        "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset tics out\n",
                 r->T - 1, r->L - 1);
    m += sprintf(s + m, "%s  plot 'lens.dat' matrix with image notitle\n  unset output\n}\n", TERMS);
    rc = run_script(dir, "lens", s);
    free(s);
    return rc;
}

static void lens_table(const LensResult *r, const Tokenizer *tok, const int *ids, int pos) {
    char a[64], b[64];
    for (int t = 0; t < r->T; t++) {
        if (pos >= 0 && t != pos) continue;
        tok_show(tok, ids[t], a);
        printf("position %d (input '%s')%s\n", t, a, t + 1 < r->T ? "" : ", the last");
        for (int l = 0; l < r->L; l++) {
            size_t lt = (size_t)l * r->T + t;
            printf("  L%-3d", l);
            for (int i = 0; i < r->k; i++) {
                tok_show(tok, r->top_id[lt * r->k + i], b);
                printf("  ");
                print_padded(b, 4);
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
        tok_raw(tok, r->target, b);
        cJSON_AddStringToObject(o, "target", b);
        cJSON_AddNumberToObject(o, "target_id", r->target);
    }
    for (int t = 0; t < r->T; t++) {
        if (pos >= 0 && t != pos) continue;
        cJSON *po = cJSON_CreateObject(), *la = cJSON_AddArrayToObject(po, "layers");
        cJSON_AddNumberToObject(po, "position", t);
        tok_raw(tok, ids[t], b);
        cJSON_AddStringToObject(po, "input", b);
        for (int l = 0; l < r->L; l++) {
            size_t lt = (size_t)l * r->T + t;
            cJSON *lo = cJSON_CreateObject(), *top = cJSON_AddArrayToObject(lo, "top");
            cJSON_AddNumberToObject(lo, "layer", l);
            for (int i = 0; i < r->k; i++) {
                cJSON *e = cJSON_CreateObject();
                tok_raw(tok, r->top_id[lt * r->k + i], b);
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
    if (json) { if (print_json(lens_json(&r, &tok, ids, pos, path))) goto done; }
    else lens_table(&r, &tok, ids, pos);
    if (out && lens_figure(out, &r, &tok, ids, target)) goto done;
    rc = 0;
done:
    lens_free(&r);
    free(tids); free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

// ---- attention --------------------------------------------------------------------
static int attention_figure(const char *dir, const float *att, int L, int NH, int T,
                            const Tokenizer *tok, const int *ids) {
    if (make_dir(dir)) return -1;
    size_t cap = (size_t)L * NH * (T * T * 10 + T + 4) + 64, n = 0;
    char *d = xmalloc(cap);
    for (int lh = 0; lh < L * NH; lh++) {   // one block per head, two blank lines between
        for (int t = 0; t < T; t++) {
            for (int u = 0; u < T; u++)
                n += snprintf(d + n, cap - n, "%s%.5f", u ? " " : "", att[((size_t)lh * T + t) * T + u]);
            n += snprintf(d + n, cap - n, "\n");
        }
        n += snprintf(d + n, cap - n, "\n\n");
    }
    char p[1200];
    snprintf(p, sizeof p, "%s/attention.dat", dir);
    int rc = write_file_atomic(p, d, n);
    free(d);
    if (rc) return -1;
    int show = T <= 24;   // token labels only while they stay readable
    size_t scap = 8192 + (size_t)T * 96, m = 0;
    char *s = xmalloc(scap), lab[64];
    int W = 60 + NH * 260, H = 80 + L * 240;
    m += snprintf(s + m, scap - m, "W = %d; H = %d\nset termoption noenhanced\n", W, H);
    if (show) {
        for (int ax = 0; ax < 2; ax++) {
            m += snprintf(s + m, scap - m, "set %ctics (", ax ? 'y' : 'x');
            for (int t = 0; t < T; t++) {
                tok_show(tok, ids[t], lab);
                m += snprintf(s + m, scap - m, "%s'%s' %d", t ? ", " : "", lab, t);
            }
            m += snprintf(s + m, scap - m, ") font ',8'\n");
        }
    }
    m += snprintf(s + m, scap - m,
                  "set cbrange [0:1]\nset palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\nunset colorbox\nset tics out\nset size ratio -1\n"
                  "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n%s"
                  "  set multiplot layout %d,%d title 'attention patterns (rows: query, columns: key)'\n"
                  "  do for [l=0:%d] { do for [h=0:%d] {\n"
                  "    set title sprintf('L%%d H%%d', l, h)\n"
                  "    plot 'attention.dat' index (l*%d+h) matrix with image notitle\n"
                  "  } }\n  unset multiplot\n  unset output\n}\n",
                  T - 1, T - 1, TERMS, L, NH, L - 1, NH - 1, NH);
    rc = run_script(dir, "attention", s);
    free(s);
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
    char path[1200], a[64];
    if (cli_load_model(model, &m, &tok, path, sizeof path)) return 1;
    const int L = m.cfg.n_layer, NH = m.cfg.n_head;
    int *ids = NULL, T = 0;
    float *att = NULL;
    size_t LH = (size_t)L * NH;
    double *rnd = xmalloc(sizeof(double) * HS_NUM * LH), *psc = xmalloc(sizeof(double) * HS_NUM * LH);
    rc = 1;
    if (n_rep == 0) n_rep = m.cfg.block_size / 2 < 20 ? m.cfg.block_size / 2 : 20;
    if (n_rep < 1 || 2 * n_rep > m.cfg.block_size) {
        em_error("--n-rep %d: 2 x %d tokens must fit the context (%d)", n_rep, n_rep, m.cfg.block_size);
        goto done;
    }
    if (prompt) {
        if (encode_prompt(&tok, &m, prompt, &ids, &T)) goto done;
        att = xmalloc(sizeof(float) * LH * T * T);
        if (heads_patterns(&m, ids, T, att) || heads_scores_prompt(&m, ids, T, psc)) goto done;
    }
    if (heads_scores_random(&m, n_rep, samples, (uint64_t)seed, rnd)) goto done;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", path);
        cJSON_AddNumberToObject(o, "n_layer", L);
        cJSON_AddNumberToObject(o, "n_head", NH);
        cJSON *ro = scores_json(rnd, L, NH);
        cJSON_AddNumberToObject(ro, "n_rep", n_rep);
        cJSON_AddNumberToObject(ro, "samples", samples);
        cJSON_AddNumberToObject(ro, "seed", (double)seed);
        cJSON_AddItemToObject(o, "scores", ro);
        if (prompt) {
            cJSON *tl = cJSON_AddArrayToObject(o, "tokens");
            for (int t = 0; t < T; t++) {
                tok_raw(&tok, ids[t], a);
                cJSON_AddItemToArray(tl, cJSON_CreateString(a));
            }
            cJSON_AddItemToObject(o, "prompt_scores", scores_json(psc, L, NH));
            cJSON *pa = cJSON_AddArrayToObject(o, "patterns");   // [layer][head][query][key]
            for (int l = 0; l < L; l++) {
                cJSON *la = cJSON_CreateArray();
                for (int h = 0; h < NH; h++) {
                    cJSON *ha = cJSON_CreateArray();
                    for (int t = 0; t < T; t++) {
                        const float *row = att + (((size_t)l * NH + h) * T + t) * T;
                        cJSON *ra = cJSON_CreateArray();
                        for (int u = 0; u <= t; u++) cJSON_AddItemToArray(ra, cJSON_CreateNumber(row[u]));
                        cJSON_AddItemToArray(ha, ra);
                    }
                    cJSON_AddItemToArray(la, ha);
                }
                cJSON_AddItemToArray(pa, la);
            }
        }
        if (print_json(o)) goto done;
    } else {
        if (prompt && !no_patterns) {
            for (int l = 0; l < L; l++)
                for (int h = 0; h < NH; h++) {
                    printf("L%d H%d (rows: query, columns: key)\n        ", l, h);
                    for (int u = 0; u < T; u++) { tok_show(&tok, ids[u], a); putchar(' '); print_padded(a, 5); }
                    printf("\n");
                    for (int t = 0; t < T; t++) {
                        tok_show(&tok, ids[t], a);
                        printf("  ");
                        print_padded(a, 5);
                        putchar(' ');
                        for (int u = 0; u <= t; u++) printf(" %5.2f", att[(((size_t)l * NH + h) * T + t) * T + u]);
                        printf("\n");
                    }
                    printf("\n");
                }
        }
        char title[96];
        snprintf(title, sizeof title, "random tokens repeated (n = %d, %d samples)", n_rep, samples);
        score_table(title, rnd, L, NH);
        if (prompt) score_table("the prompt", psc, L, NH);
    }
    if (out && attention_figure(out, att, L, NH, T, &tok, ids)) goto done;
    rc = 0;
done:
    free(rnd); free(psc); free(att); free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}
