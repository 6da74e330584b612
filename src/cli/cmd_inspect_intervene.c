// emergent inspect ablate / patch: flag parsing and printing around src/inspect/intervene.h.
// Tables on stdout, JSON on stdout with --json, heatmaps (gnuplot) with --out DIR.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "eval/eval.h"
#include "inspect/intervene.h"
#include "model/checkpoint.h"
#include "report/report.h"


static int encode(const Tokenizer *tok, const char *text, int **ids, size_t *n, const char *flag) {
    return tok_encode(tok, text, strlen(text), ids, n, flag);
}

static void print_json(cJSON *o) {
    char *s = cJSON_Print(o);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

static cJSON *json_grid(const double *g, int rows, int cols) {
    cJSON *a = cJSON_CreateArray();
    for (int r = 0; r < rows; r++) {
        cJSON *row = cJSON_CreateArray();
        for (int c = 0; c < cols; c++) cJSON_AddItemToArray(row, cJSON_CreateNumber(g[r * cols + c]));
        cJSON_AddItemToArray(a, row);
    }
    return a;
}

static void gp_quote(FILE *o, const char *s) {  // a gnuplot single-quoted string
    fputc('\'', o);
    for (; *s; s++) { if (*s == '\'') fputc('\'', o); fputc(*s, o); }
    fputc('\'', o);
}

// Closes a stream opened with open_memstream and writes what it holds to path atomically.
static int commit_stream(FILE *o, char **buf, size_t *len, const char *path) {
    int rc = fclose(o) != 0 ? em_error("%s: out of memory", path) : write_file_atomic(path, *buf, *len);
    free(*buf);
    return rc;
}

// A heatmap of grid (rows x cols, row 0 = layer 0 at the bottom), colours symmetric around 0.
// Writes DIR/STEM.dat and DIR/STEM.gp and renders STEM.png/.svg; without gnuplot the figure
// is skipped with a note (the .dat and .gp stay, for later).
static int heatmap(const char *dir, const char *stem, const char *title, const char *xlabel,
                   const double *g, int rows, int cols, char *const *xt) {
    if (make_dir(dir)) return -1;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.dat", dir, stem);
    char *buf;
    size_t blen;
    FILE *o = open_memstream(&buf, &blen);
    if (!o) return em_error("%s: out of memory", path);
    double mx = 0.0;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            double v = g[r * cols + c];
            if (isfinite(v)) { fprintf(o, "%s%.6g", c ? " " : "", v); if (fabs(v) > mx) mx = fabs(v); }
            else fprintf(o, "%sNaN", c ? " " : "");
        }
        fputc('\n', o);
    }
    if (commit_stream(o, &buf, &blen, path)) return -1;
    if (mx == 0.0) mx = 1.0;
    snprintf(path, sizeof path, "%s/%s.gp", dir, stem);
    o = open_memstream(&buf, &blen);
    if (!o) return em_error("%s: out of memory", path);
    fprintf(o, "# gnuplot %s.gp  remakes %s.png and %s.svg from %s.dat (rows: layers)\n"
               "if (!exists(\"out\")) out = '%s'\nset encoding utf8\n"
               "do for [fmt in \"png svg\"] {\n"
               "  if (fmt eq \"png\") {\n"
               "    set terminal pngcairo size %d,%d noenhanced font 'DejaVu Sans,12' background '#ffffff'\n"
               "  } else {\n"
               "    set terminal svg size %d,%d noenhanced font 'DejaVu Sans,12' background '#ffffff'\n"
               "  }\n  set output out.'.'.fmt\n  set title ",
            stem, stem, stem, stem, stem, 260 + 60 * cols, 200 + 60 * rows, 260 + 60 * cols, 200 + 60 * rows);
    gp_quote(o, title);
    fputs("\n  set xlabel ", o);
    gp_quote(o, xlabel);
    fprintf(o, "\n  set ylabel 'layer'\n  set tics out nomirror\n"
               "  set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
               "  set cbrange [%g:%g]\n  set xrange [-0.5:%d.5]\n  set yrange [-0.5:%d.5]\n"
               "  set ytics 1\n", -mx, mx, cols - 1, rows - 1);
    if (xt) {
        fputs("  set xtics (", o);
        for (int c = 0; c < cols; c++) { if (c) fputs(", ", o); gp_quote(o, xt[c]); fprintf(o, " %d", c); }
        fputs(")\n", o);
    } else {
        fputs("  set xtics 1\n", o);
    }
    fprintf(o, "  plot '%s.dat' matrix with image notitle\n  unset output\n}\n", stem);
    if (commit_stream(o, &buf, &blen, path)) return -1;
    if (!report_gnuplot_available()) {
        fprintf(stderr, "note: gnuplot not found: %s/%s.png skipped (install gnuplot-nox; "
                        "%s.gp stays)\n", dir, stem, stem);
        return 0;
    }
    char script[300];
    snprintf(script, sizeof script, "%s.gp", stem);
    if (report_gnuplot_render(dir, script, stem)) return -1;
    fprintf(stderr, "figure: %s/%s.png\n", dir, stem);
    return 0;
}

// ---- ablate ------------------------------------------------------------------------------
typedef struct { double exact_tf, tok_acc_tf, logprob, mc; } TaskScore;

// eval_task with the hook m has installed. The KV-cache decoder that eval_task uses for
// generation does not run the forward hooks, so the scores kept are the teacher-forced
// ones, which do: exact match = every target token is the argmax (what greedy decoding
// would produce), per-token accuracy, target log-probability, multiple-choice grade.
static int task_score(GPT *m, const Tokenizer *tok, const TaskSet *test, const TaskSet *pool,
                      int shots, uint64_t seed, TaskScore *s) {
    EvalConfig ec = {.shots = shots, .seed = seed, .max_new = 1, .n_boot = 0, .quiet = 1};
    EvalResult r;
    if (eval_task(m, tok, test, pool, &ec, &r)) return -1;
    int n = 0, hit = 0;
    for (int i = 0; i < r.n; i++)
        if (isfinite(r.items[i].m[EM_TOKEN_ACC_TF])) { n++; hit += r.items[i].m[EM_TOKEN_ACC_TF] == 1.0; }
    s->exact_tf = n ? (double)hit / n : NAN;
    s->tok_acc_tf = r.sum[EM_TOKEN_ACC_TF].n ? r.sum[EM_TOKEN_ACC_TF].mean : NAN;
    s->logprob = r.sum[EM_LOGPROB].n ? r.sum[EM_LOGPROB].mean : NAN;
    s->mc = r.sum[EM_MC_GRADE].n ? r.sum[EM_MC_GRADE].mean : NAN;
    eval_result_free(&r);
    return 0;
}

static cJSON *json_score(const TaskScore *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exact_match_tf", s->exact_tf);
    cJSON_AddNumberToObject(o, "token_accuracy_tf", s->tok_acc_tf);
    cJSON_AddNumberToObject(o, "target_logprob", s->logprob);
    if (isfinite(s->mc)) cJSON_AddNumberToObject(o, "mc_grade", s->mc);
    return o;
}

int inspect_ablate_main(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *target = NULL, *abl_s = NULL, *mode_s = "zero";
    const char *task = NULL, *out = NULL;
    int sweep = 0, json = 0, n = 200, shots = 0;
    int64_t seed = 1;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--prompt", ARG_STR, &prompt, "prompt text"},
        {"--target", ARG_STR, &target, "target text: the change of log p(target | prompt) is reported"},
        {"--ablate", ARG_STR, &abl_s, "what to ablate, comma-separated: head:L.H, attn:L, mlp:L"},
        {"--mode", ARG_STR, &mode_s, "zero, or mean (over the positions of the same forward call)"},
        {"--sweep", ARG_FLAG, &sweep, "ablate every head and every MLP in turn (a layer x head table)"},
        {"--task", ARG_STR, &task, "also score a generated task (e.g. add:2) baseline vs ablated"},
        {"--n", ARG_INT, &n, "task items", 1, 1 << 20},
        {"--shots", ARG_INT, &shots, "exemplars in each task prompt", 0, 256},
        {"--seed", ARG_I64, &seed, "seed of the task items and exemplars", 0, 9.2e18},
        {"--out", ARG_STR, &out, "directory for the sweep heatmap (gnuplot: PNG and SVG)"},
        {"--json", ARG_FLAG, &json, "JSON on stdout instead of the table"},
        {NULL},
    };
    int rc = args_parse("inspect ablate", "--model CKPT --prompt TEXT --target TEXT (--ablate SPEC | --sweep) [flags]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!model) return em_error("--model CKPT is required"), 1;
    if (!prompt || !target) return em_error("--prompt TEXT and --target TEXT are required"), 1;
    if (!sweep && !abl_s) return em_error("give --ablate SPEC (head:L.H, attn:L, mlp:L) or --sweep"), 1;
    if (sweep && abl_s) return em_error("--ablate and --sweep exclude each other"), 1;
    int mode;
    if (!strcmp(mode_s, "zero")) mode = ABL_ZERO;
    else if (!strcmp(mode_s, "mean")) mode = ABL_MEAN;
    else return em_error("--mode: '%s': expected zero or mean", mode_s), 1;

    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    Ablation abl[64];
    int na = 0;
    int *ip = NULL, *it = NULL, *ids = NULL;
    size_t np = 0, nt = 0;
    TaskSet test = {0}, pool = {0};
    int have_task = 0;
    rc = 1;
    if (abl_s && ((na = intervene_parse_ablations(abl_s, mode, abl, 64)) < 0 ||
                  intervene_ablation_check(&m, abl, na)))
        goto done;
    if (encode(&tok, prompt, &ip, &np, "--prompt") || encode(&tok, target, &it, &nt, "--target")) goto done;
    if (np < 1 || nt < 1) { em_error("--prompt and --target must not be empty"); goto done; }
    if ((int)(np + nt) > m.cfg.block_size) {
        em_error("--prompt + --target: %zu tokens, more than the model's context (%d)", np + nt, m.cfg.block_size);
        goto done;
    }
    ids = xmalloc((np + nt) * sizeof(int));
    memcpy(ids, ip, np * sizeof(int));
    memcpy(ids + np, it, nt * sizeof(int));
    if (gpt_alloc_acts(&m, 1, m.cfg.block_size)) goto done;
    if (task) {
        if (task_generate(task, TASK_TEST, n, (uint64_t)seed, &test)) goto done;
        if (task_generate(task, TASK_TRAIN, 256, (uint64_t)seed + 1, &pool)) { taskset_free(&test); goto done; }
        have_task = 1;
    }
    int L = m.cfg.n_layer, NH = m.cfg.n_head;
    TaskScore tbase = {NAN, NAN, NAN, NAN};
    if (have_task && task_score(&m, &tok, &test, &pool, shots, (uint64_t)seed, &tbase)) goto done;
    AblateCtx ctx;
    if (!sweep) {
        double base = intervene_logprob(&m, ids, (int)np, (int)nt);
        intervene_ablate_install(&m, &ctx, abl, na);
        double ab = intervene_logprob(&m, ids, (int)np, (int)nt);
        TaskScore tab = {NAN, NAN, NAN, NAN};
        if (have_task && task_score(&m, &tok, &test, &pool, shots, (uint64_t)seed, &tab)) goto done;
        intervene_clear(&m);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "prompt", prompt);
            cJSON_AddStringToObject(o, "target", target);
            cJSON_AddStringToObject(o, "ablate", abl_s);
            cJSON_AddStringToObject(o, "mode", mode_s);
            cJSON_AddNumberToObject(o, "logprob_base", base);
            cJSON_AddNumberToObject(o, "logprob_ablated", ab);
            cJSON_AddNumberToObject(o, "delta_logprob", ab - base);
            if (have_task) {
                cJSON *t = cJSON_AddObjectToObject(o, "task");
                cJSON_AddStringToObject(t, "name", test.name);
                cJSON_AddNumberToObject(t, "n", test.n);
                cJSON_AddItemToObject(t, "base", json_score(&tbase));
                cJSON_AddItemToObject(t, "ablated", json_score(&tab));
            }
            print_json(o);
        } else {
            printf("ablate %s (%s)\n  log p(target | prompt)  base %.4f  ablated %.4f  delta %+.4f\n",
                   abl_s, mode_s, base, ab, ab - base);
            if (have_task)
                printf("  %s, %d items (teacher forced)   base -> ablated\n"
                       "    exact match      %.4f -> %.4f\n    token accuracy   %.4f -> %.4f\n"
                       "    target logprob   %.4f -> %.4f\n", test.name, test.n, tbase.exact_tf,
                       tab.exact_tf, tbase.tok_acc_tf, tab.tok_acc_tf, tbase.logprob, tab.logprob);
        }
        rc = 0;
        goto done;
    }
    // the sweep: every head, then every MLP, alone
    double base, *dh = xmalloc((size_t)L * NH * sizeof(double)), *dm = xmalloc(L * sizeof(double));
    double *eh = NULL, *em = NULL;  // change of task exact match (teacher forced)
    intervene_sweep_logprob(&m, ids, (int)np, (int)nt, mode, &base, dh, dm);
    if (have_task) {
        eh = xmalloc((size_t)L * NH * sizeof(double));
        em = xmalloc(L * sizeof(double));
        int err = 0;
        for (int l = 0; l < L && !err; l++) {
            for (int h = 0; h <= NH; h++) {
                Ablation a = {h < NH ? ABL_HEAD : ABL_MLP, l, h < NH ? h : 0, mode};
                TaskScore s;
                intervene_ablate_install(&m, &ctx, &a, 1);
                int e = task_score(&m, &tok, &test, &pool, shots, (uint64_t)seed, &s);
                intervene_clear(&m);
                if (e) { err = 1; break; }
                (h < NH ? eh : em)[h < NH ? l * NH + h : l] = s.exact_tf - tbase.exact_tf;
            }
        }
        if (err) { free(dh); free(dm); free(eh); free(em); goto done; }
    }
    // heatmap: layer x (heads, then the MLP)
    int cols = NH + 1;
    double *g = xmalloc((size_t)L * cols * sizeof(double));
    char **xt = xmalloc(cols * sizeof(char *));
    for (int h = 0; h < cols; h++) { xt[h] = xmalloc(16); snprintf(xt[h], 16, h < NH ? "h%d" : "mlp", h); }
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < NH; h++) g[l * cols + h] = dh[l * NH + h];
        g[l * cols + NH] = dm[l];
    }
    rc = 0;
    if (out) {
        char title[300];
        snprintf(title, sizeof title, "%s-ablation: change of log p(target | prompt), nats", mode_s);
        if (heatmap(out, "ablate_logprob", title, "head", g, L, cols, xt)) rc = 1;
        if (!rc && have_task) {
            for (int l = 0; l < L; l++) {
                for (int h = 0; h < NH; h++) g[l * cols + h] = eh[l * NH + h];
                g[l * cols + NH] = em[l];
            }
            snprintf(title, sizeof title, "%s-ablation: change of exact match on %s", mode_s, test.name);
            if (heatmap(out, "ablate_task", title, "head", g, L, cols, xt)) rc = 1;
        }
    }
    if (!rc && json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "prompt", prompt);
        cJSON_AddStringToObject(o, "target", target);
        cJSON_AddStringToObject(o, "mode", mode_s);
        cJSON_AddNumberToObject(o, "n_layer", L);
        cJSON_AddNumberToObject(o, "n_head", NH);
        cJSON_AddNumberToObject(o, "logprob_base", base);
        cJSON_AddItemToObject(o, "delta_logprob_head", json_grid(dh, L, NH));
        cJSON *mr = cJSON_CreateArray();
        for (int l = 0; l < L; l++) cJSON_AddItemToArray(mr, cJSON_CreateNumber(dm[l]));
        cJSON_AddItemToObject(o, "delta_logprob_mlp", mr);
        if (have_task) {
            cJSON *t = cJSON_AddObjectToObject(o, "task");
            cJSON_AddStringToObject(t, "name", test.name);
            cJSON_AddNumberToObject(t, "n", test.n);
            cJSON_AddItemToObject(t, "base", json_score(&tbase));
            cJSON_AddItemToObject(t, "delta_exact_match_head", json_grid(eh, L, NH));
            cJSON *row = cJSON_CreateArray();
            for (int l = 0; l < L; l++) cJSON_AddItemToArray(row, cJSON_CreateNumber(em[l]));
            cJSON_AddItemToObject(t, "delta_exact_match_mlp", row);
        }
        print_json(o);
    } else if (!rc) {
        printf("%s-ablation sweep: change of log p(target | prompt) (base %.4f nats)\n", mode_s, base);
        printf("layer");
        for (int h = 0; h < NH; h++) printf("  %8s", xt[h]);
        printf("  %8s\n", "mlp");
        for (int l = 0; l < L; l++) {
            printf("%5d", l);
            for (int h = 0; h <= NH; h++) printf("  %+8.4f", h < NH ? dh[l * NH + h] : dm[l]);
            printf("\n");
        }
        if (have_task) {
            printf("\nchange of exact match (teacher forced) on %s, %d items (base %.4f)\nlayer", test.name,
                   test.n, tbase.exact_tf);
            for (int h = 0; h < NH; h++) printf("  %8s", xt[h]);
            printf("  %8s\n", "mlp");
            for (int l = 0; l < L; l++) {
                printf("%5d", l);
                for (int h = 0; h < NH; h++) printf("  %+8.4f", eh[l * NH + h]);
                printf("  %+8.4f\n", em[l]);
            }
        }
    }
    for (int h = 0; h < cols; h++) free(xt[h]);
    free(xt); free(g); free(dh); free(dm); free(eh); free(em);
done:
    if (have_task) { taskset_free(&test); taskset_free(&pool); }
    free(ip); free(it); free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

// ---- patch -------------------------------------------------------------------------------
int inspect_patch_main(int argc, char **argv) {
    const char *model = NULL, *clean = NULL, *corrupt = NULL, *answer = NULL, *wrong = NULL;
    const char *sites_s = "resid,attn,mlp,head", *out = NULL;
    int json = 0;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--clean", ARG_STR, &clean, "the clean prompt"},
        {"--corrupt", ARG_STR, &corrupt, "the corrupted prompt (the same length in tokens)"},
        {"--answer", ARG_STR, &answer, "the right next token (its first token is scored)"},
        {"--wrong", ARG_STR, &wrong, "the wrong next token (its first token is scored)"},
        {"--site", ARG_STR, &sites_s, "sites, comma-separated: resid, attn, mlp, head"},
        {"--out", ARG_STR, &out, "directory for the heatmaps (gnuplot: PNG and SVG)"},
        {"--json", ARG_FLAG, &json, "JSON on stdout instead of the tables"},
        {NULL},
    };
    int rc = args_parse("inspect patch", "--model CKPT --clean TEXT --corrupt TEXT --answer TOK --wrong TOK [flags]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!model) return em_error("--model CKPT is required"), 1;
    if (!clean || !corrupt) return em_error("--clean TEXT and --corrupt TEXT are required"), 1;
    if (!answer || !wrong) return em_error("--answer TOK and --wrong TOK are required"), 1;
    int want[PATCH_NUM] = {0};
    {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", sites_s);
        for (char *sv = NULL, *s = strtok_r(buf, ",", &sv); s; s = strtok_r(NULL, ",", &sv)) {
            int k = 0;
            while (k < PATCH_NUM && strcmp(s, patch_site_names[k])) k++;
            if (k == PATCH_NUM) return em_error("--site: '%s': expected resid, attn, mlp or head", s), 1;
            want[k] = 1;
        }
    }
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    int *ic = NULL, *ix = NULL, *ia = NULL, *iw = NULL;
    size_t nc = 0, nx = 0, na = 0, nw = 0;
    double *grid[PATCH_NUM] = {0};
    Patcher p = {0};
    rc = 1;
    if (encode(&tok, clean, &ic, &nc, "--clean") || encode(&tok, corrupt, &ix, &nx, "--corrupt") ||
        encode(&tok, answer, &ia, &na, "--answer") || encode(&tok, wrong, &iw, &nw, "--wrong"))
        goto done;
    if (nc != nx) {
        em_error("--clean has %zu tokens and --corrupt %zu: patching needs prompts of equal token length",
                 nc, nx);
        goto done;
    }
    if (nc < 1) { em_error("--clean: empty prompt"); goto done; }
    if (na < 1 || nw < 1) { em_error("--answer and --wrong must not be empty"); goto done; }
    if (ia[0] == iw[0]) { em_error("--answer and --wrong start with the same token: nothing to compare"); goto done; }
    int T = (int)nc, L = m.cfg.n_layer, NH = m.cfg.n_head;
    if (patch_init(&p, &m, ic, ix, T, ia[0], iw[0])) goto done;
    for (int s = 0; s < PATCH_NUM; s++) {
        if (!want[s]) continue;
        int cols = s == PATCH_HEAD ? NH : T;
        grid[s] = xmalloc((size_t)L * cols * sizeof(double));
        patch_grid(&p, ix, s, ia[0], iw[0], grid[s]);
    }
    // column labels: the tokens of the corrupted prompt, or the heads
    char **xt = xmalloc((size_t)(T > NH ? T : NH) * sizeof(char *));
    char **ht = xmalloc(NH * sizeof(char *));
    for (int t = 0; t < T; t++) {
        char b[16] = {0};
        tok_decode_one(&tok, ix[t], b);
        char *q = xmalloc(40);
        snprintf(q, 40, "%d %s", t, b[0] == '\n' ? "\\n" : b);
        xt[t] = q;
    }
    for (int h = 0; h < NH; h++) { ht[h] = xmalloc(16); snprintf(ht[h], 16, "h%d", h); }
    static const char *const what[PATCH_NUM] = {
        "residual stream (hook_resid_pre) per (layer, position)",
        "attention output (attn.hook_z, all heads) per (layer, position)",
        "MLP output (mlp.hook_post) per (layer, position)",
        "one head (attn.hook_z slice, all positions) per (layer, head)"};
    rc = 0;
    if (out) {
        for (int s = 0; s < PATCH_NUM && !rc; s++) {
            if (!want[s]) continue;
            char stem[64], title[200];
            snprintf(stem, sizeof stem, "patch_%s", patch_site_names[s]);
            snprintf(title, sizeof title, "recovered logit difference: %s", what[s]);
            if (heatmap(out, stem, title, s == PATCH_HEAD ? "head" : "position",
                        grid[s], L, s == PATCH_HEAD ? NH : T, s == PATCH_HEAD ? ht : xt)) rc = 1;
        }
    }
    if (!rc && json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "clean", clean);
        cJSON_AddStringToObject(o, "corrupt", corrupt);
        cJSON_AddStringToObject(o, "answer", answer);
        cJSON_AddStringToObject(o, "wrong", wrong);
        cJSON_AddNumberToObject(o, "n_tokens", T);
        cJSON_AddNumberToObject(o, "n_layer", L);
        cJSON_AddNumberToObject(o, "n_head", NH);
        cJSON_AddNumberToObject(o, "clean_logit_diff", p.clean_diff);
        cJSON_AddNumberToObject(o, "corrupt_logit_diff", p.corrupt_diff);
        cJSON *g = cJSON_AddObjectToObject(o, "recovered");
        for (int s = 0; s < PATCH_NUM; s++)
            if (want[s]) cJSON_AddItemToObject(g, patch_site_names[s], json_grid(grid[s], L, s == PATCH_HEAD ? NH : T));
        print_json(o);
    } else if (!rc) {
        printf("logit difference %s - %s at the last position: clean %.4f, corrupted %.4f\n"
               "recovered = (patched - corrupted) / (clean - corrupted)\n", answer, wrong,
               p.clean_diff, p.corrupt_diff);
        for (int s = 0; s < PATCH_NUM; s++) {
            if (!want[s]) continue;
            int cols = s == PATCH_HEAD ? NH : T;
            printf("\n%s\nlayer", what[s]);
            for (int c = 0; c < cols; c++) printf(" %7.7s", s == PATCH_HEAD ? ht[c] : xt[c]);
            printf("\n");
            for (int l = 0; l < L; l++) {
                printf("%5d", l);
                for (int c = 0; c < cols; c++) printf(" %7.3f", grid[s][l * cols + c]);
                printf("\n");
            }
        }
    }
    for (int t = 0; t < T; t++) free(xt[t]);
    for (int h = 0; h < NH; h++) free(ht[h]);
    free(xt); free(ht);
done:
    patch_free(&p);
    for (int s = 0; s < PATCH_NUM; s++) free(grid[s]);
    free(ic); free(ix); free(ia); free(iw);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}
