// emergent inspect ablate / patch: flags, then src/inspect/intervene.h computes; tables on
// stdout, JSON on stdout with --json, heatmaps (report_heatmap) with --out DIR.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/inspect_cli.h"
#include "core/core.h"
#include "inspect/intervene.h"

// ---- ablate ------------------------------------------------------------------------------
static cJSON *json_score(const InspectTaskScore *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exact_match_tf", s->exact_tf);
    cJSON_AddNumberToObject(o, "token_accuracy_tf", s->tok_acc_tf);
    cJSON_AddNumberToObject(o, "target_logprob", s->logprob);
    if (isfinite(s->mc)) cJSON_AddNumberToObject(o, "mc_grade", s->mc);
    return o;
}

static cJSON *json_column(const double *g, int rows, int stride) {
    cJSON *a = cJSON_CreateArray();
    for (int l = 0; l < rows; l++) cJSON_AddItemToArray(a, cJSON_CreateNumber(g[l * stride]));
    return a;
}

static cJSON *json_task(cJSON *o, const InspectAblation *r) {
    cJSON *t = cJSON_AddObjectToObject(o, "task");
    cJSON_AddStringToObject(t, "name", r->task_name);
    cJSON_AddNumberToObject(t, "n", r->task_n);
    cJSON_AddItemToObject(t, "base", json_score(&r->task_base));
    return t;
}

static void print_ablation(const InspectAblation *r, const char *abl_s, const char *mode_s,
                           const char *prompt, const char *target, int json) {
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "prompt", prompt);
        cJSON_AddStringToObject(o, "target", target);
        cJSON_AddStringToObject(o, "ablate", abl_s);
        cJSON_AddStringToObject(o, "mode", mode_s);
        cJSON_AddNumberToObject(o, "logprob_base", r->base);
        cJSON_AddNumberToObject(o, "logprob_ablated", r->ablated);
        cJSON_AddNumberToObject(o, "delta_logprob", r->ablated - r->base);
        if (r->has_task) cJSON_AddItemToObject(json_task(o, r), "ablated", json_score(&r->task_ablated));
        cli_json_print(o, 1);
        return;
    }
    printf("ablate %s (%s)\n  log p(target | prompt)  base %.4f  ablated %.4f  delta %+.4f\n",
           abl_s, mode_s, r->base, r->ablated, r->ablated - r->base);
    const InspectTaskScore *b = &r->task_base, *a = &r->task_ablated;
    if (r->has_task)
        printf("  %s, %d items (teacher forced)   base -> ablated\n"
               "    exact match      %.4f -> %.4f\n    token accuracy   %.4f -> %.4f\n"
               "    target logprob   %.4f -> %.4f\n", r->task_name, r->task_n, b->exact_tf,
               a->exact_tf, b->tok_acc_tf, a->tok_acc_tf, b->logprob, a->logprob);
}

// g (L, NH + 1): one row per layer, the heads then the MLP
static void sweep_table(const double *g, int L, int NH) {
    char b[16];
    printf("layer");
    for (int h = 0; h < NH; h++) { snprintf(b, sizeof b, "h%d", h); printf("  %8s", b); }
    printf("  %8s\n", "mlp");
    for (int l = 0; l < L; l++) {
        printf("%5d", l);
        for (int h = 0; h <= NH; h++) printf("  %+8.4f", g[l * (NH + 1) + h]);
        printf("\n");
    }
}

static void print_sweep(const InspectAblation *r, const char *mode_s, const char *prompt,
                        const char *target, int json) {
    int L = r->L, NH = r->NH;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "prompt", prompt);
        cJSON_AddStringToObject(o, "target", target);
        cJSON_AddStringToObject(o, "mode", mode_s);
        cJSON_AddNumberToObject(o, "n_layer", L);
        cJSON_AddNumberToObject(o, "n_head", NH);
        cJSON_AddNumberToObject(o, "logprob_base", r->base);
        cJSON_AddItemToObject(o, "delta_logprob_head", cli_json_grid(r->dlogprob, L, NH, NH + 1));
        cJSON_AddItemToObject(o, "delta_logprob_mlp", json_column(r->dlogprob + NH, L, NH + 1));
        if (r->has_task) {
            cJSON *t = json_task(o, r);
            cJSON_AddItemToObject(t, "delta_exact_match_head", cli_json_grid(r->dexact, L, NH, NH + 1));
            cJSON_AddItemToObject(t, "delta_exact_match_mlp", json_column(r->dexact + NH, L, NH + 1));
        }
        cli_json_print(o, 1);
        return;
    }
    printf("%s-ablation sweep: change of log p(target | prompt) (base %.4f nats)\n", mode_s, r->base);
    sweep_table(r->dlogprob, L, NH);
    if (r->has_task) {
        printf("\nchange of exact match (teacher forced) on %s, %d items (base %.4f)\n", r->task_name,
               r->task_n, r->task_base.exact_tf);
        sweep_table(r->dexact, L, NH);
    }
}

// The sweep's heatmaps: layer x (heads, then the MLP).
static int sweep_figures(const char *dir, const InspectAblation *r, const char *mode_s) {
    int NH = r->NH;
    char title[300], **xt = xmalloc((NH + 1) * sizeof(char *));
    for (int h = 0; h <= NH; h++) { xt[h] = xmalloc(16); snprintf(xt[h], 16, h < NH ? "h%d" : "mlp", h); }
    snprintf(title, sizeof title, "%s-ablation: change of log p(target | prompt), nats", mode_s);
    Heatmap hm = {"ablate_logprob", title, "head", "layer", r->dlogprob, r->L, NH + 1, (const char *const *)xt};
    int rc = cli_heatmap(dir, &hm);
    if (!rc && r->has_task) {
        snprintf(title, sizeof title, "%s-ablation: change of exact match on %s", mode_s, r->task_name);
        hm.name = "ablate_task";
        hm.v = r->dexact;
        rc = cli_heatmap(dir, &hm);
    }
    for (int h = 0; h <= NH; h++) free(xt[h]);
    free(xt);
    return rc;
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
    int mode = !strcmp(mode_s, "zero") ? ABL_ZERO : !strcmp(mode_s, "mean") ? ABL_MEAN : -1;
    if (mode < 0) return em_error("--mode: '%s': expected zero or mean", mode_s), 1;
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    Ablation abl[64];
    int *ip = NULL, *it = NULL, *ids = NULL, na = 0;
    size_t np = 0, nt = 0;
    InspectAblation r = {0};
    rc = 1;
    if (abl_s && ((na = intervene_parse_ablations(abl_s, mode, abl, 64)) < 0 ||
                  intervene_ablation_check(&m, abl, na)))
        goto done;
    if (cli_encode(&tok, prompt, &ip, &np, "--prompt") || cli_encode(&tok, target, &it, &nt, "--target")) goto done;
    if (np < 1 || nt < 1) { em_error("--prompt and --target must not be empty"); goto done; }
    if ((int)(np + nt) > m.cfg.block_size) {
        em_error("--prompt + --target: %zu tokens, more than the model's context (%d)", np + nt, m.cfg.block_size);
        goto done;
    }
    ids = xmalloc((np + nt) * sizeof(int));
    memcpy(ids, ip, np * sizeof(int));
    memcpy(ids + np, it, nt * sizeof(int));
    InspectAblateSpec s = {ids, (int)np, (int)nt, abl, na, mode, task, n, shots, (uint64_t)seed};
    if (inspect_ablate(&m, &tok, &s, &r)) goto done;
    if (sweep && out && sweep_figures(out, &r, mode_s)) goto done;
    if (sweep) print_sweep(&r, mode_s, prompt, target, json);
    else print_ablation(&r, abl_s, mode_s, prompt, target, json);
    rc = 0;
done:
    inspect_ablation_free(&r);
    free(ip); free(it); free(ids);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

// ---- patch -------------------------------------------------------------------------------
static const char *const what[PATCH_NUM] = {
    "residual stream (hook_resid_pre) per (layer, position)",
    "attention output (attn.hook_z, all heads) per (layer, position)",
    "MLP output (mlp.hook_post) per (layer, position)",
    "one head (attn.hook_z slice, all positions) per (layer, head)"};

static void print_patch(const InspectPatch *r, char **labels[2], const char *const flags[4],
                        int json) {
    int L = r->L, NH = r->NH, T = r->T;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "clean", flags[0]);
        cJSON_AddStringToObject(o, "corrupt", flags[1]);
        cJSON_AddStringToObject(o, "answer", flags[2]);
        cJSON_AddStringToObject(o, "wrong", flags[3]);
        cJSON_AddNumberToObject(o, "n_tokens", T);
        cJSON_AddNumberToObject(o, "n_layer", L);
        cJSON_AddNumberToObject(o, "n_head", NH);
        cJSON_AddNumberToObject(o, "clean_logit_diff", r->clean_diff);
        cJSON_AddNumberToObject(o, "corrupt_logit_diff", r->corrupt_diff);
        cJSON *g = cJSON_AddObjectToObject(o, "recovered");
        for (int s = 0; s < PATCH_NUM; s++) {
            int cols = s == PATCH_HEAD ? NH : T;
            if (r->grid[s]) cJSON_AddItemToObject(g, patch_site_names[s], cli_json_grid(r->grid[s], L, cols, cols));
        }
        cli_json_print(o, 1);
        return;
    }
    printf("logit difference %s - %s at the last position: clean %.4f, corrupted %.4f\n"
           "recovered = (patched - corrupted) / (clean - corrupted)\n", flags[2], flags[3],
           r->clean_diff, r->corrupt_diff);
    for (int s = 0; s < PATCH_NUM; s++) {
        if (!r->grid[s]) continue;
        int cols = s == PATCH_HEAD ? NH : T;
        printf("\n%s\nlayer", what[s]);
        for (int c = 0; c < cols; c++) printf(" %7.7s", labels[s == PATCH_HEAD][c]);
        printf("\n");
        for (int l = 0; l < L; l++) {
            printf("%5d", l);
            for (int c = 0; c < cols; c++) printf(" %7.3f", r->grid[s][l * cols + c]);
            printf("\n");
        }
    }
}

static int patch_figures(const char *dir, const InspectPatch *r, char **labels[2]) {
    for (int s = 0; s < PATCH_NUM; s++) {
        if (!r->grid[s]) continue;
        char stem[64], title[200];
        snprintf(stem, sizeof stem, "patch_%s", patch_site_names[s]);
        snprintf(title, sizeof title, "recovered logit difference: %s", what[s]);
        int head = s == PATCH_HEAD;
        Heatmap hm = {stem, title, head ? "head" : "position", "layer", r->grid[s], r->L,
                      head ? r->NH : r->T, (const char *const *)labels[head]};
        if (cli_heatmap(dir, &hm)) return -1;
    }
    return 0;
}

// The sites of a --site list into want[]; -1 with a message on an unknown one.
static int parse_sites(const char *sites_s, int want[PATCH_NUM]) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", sites_s);
    for (char *sv = NULL, *s = strtok_r(buf, ",", &sv); s; s = strtok_r(NULL, ",", &sv)) {
        int k = 0;
        while (k < PATCH_NUM && strcmp(s, patch_site_names[k])) k++;
        if (k == PATCH_NUM) return em_error("--site: '%s': expected resid, attn, mlp or head", s);
        want[k] = 1;
    }
    return 0;
}

// Column labels: [0] the tokens of the corrupted prompt ("t tok"), [1] the heads ("hN").
static void patch_labels(const Tokenizer *tok, const int *ix, int T, int NH, char **lab[2]) {
    lab[0] = xmalloc((size_t)T * sizeof(char *));
    lab[1] = xmalloc((size_t)NH * sizeof(char *));
    for (int t = 0; t < T; t++) {
        char b[TOK_MAX_BYTES + 1] = {0};
        tok_decode_one(tok, ix[t], b);
        lab[0][t] = xmalloc(40);
        snprintf(lab[0][t], 40, "%d %s", t, b[0] == '\n' ? "\\n" : b);
    }
    for (int h = 0; h < NH; h++) { lab[1][h] = xmalloc(16); snprintf(lab[1][h], 16, "h%d", h); }
}

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
    if (parse_sites(sites_s, want)) return 1;
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    int *ic = NULL, *ix = NULL, *ia = NULL, *iw = NULL;
    size_t nc = 0, nx = 0, na = 0, nw = 0;
    InspectPatch r = {0};
    char **lab[2] = {NULL, NULL};
    rc = 1;
    if (cli_encode(&tok, clean, &ic, &nc, "--clean") || cli_encode(&tok, corrupt, &ix, &nx, "--corrupt") ||
        cli_encode(&tok, answer, &ia, &na, "--answer") || cli_encode(&tok, wrong, &iw, &nw, "--wrong"))
        goto done;
    if (nc != nx) {
        em_error("--clean has %zu tokens and --corrupt %zu: patching needs prompts of equal token length", nc, nx);
        goto done;
    }
    if (nc < 1) { em_error("--clean: empty prompt"); goto done; }
    if (na < 1 || nw < 1) { em_error("--answer and --wrong must not be empty"); goto done; }
    if (ia[0] == iw[0]) { em_error("--answer and --wrong start with the same token: nothing to compare"); goto done; }
    if (inspect_patch(&m, ic, ix, (int)nc, ia[0], iw[0], want, &r)) goto done;
    patch_labels(&tok, ix, r.T, r.NH, lab);
    if (out && patch_figures(out, &r, lab)) goto done;
    print_patch(&r, lab, (const char *const[4]){clean, corrupt, answer, wrong}, json);
    rc = 0;
done:
    for (int t = 0; lab[0] && t < r.T; t++) free(lab[0][t]);
    for (int h = 0; lab[1] && h < r.NH; h++) free(lab[1][h]);
    free(lab[0]); free(lab[1]);
    inspect_patch_free(&r);
    free(ic); free(ix); free(ia); free(iw);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}
