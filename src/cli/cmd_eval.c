// emergent eval: score a checkpoint on tasks; results JSON, samples JSON lines, a table.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/core.h"
#include "eval/eval.h"
#include "model/checkpoint.h"

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int cli_load_task(const char *spec, const char *format, int n, uint64_t seed, int split,
                     TaskSet *test, TaskSet *pool, int *pool_is_test) {
    *pool_is_test = 0;
    if (ends_with(spec, ".json")) { *pool_is_test = 1; return task_load_bigbench(spec, test); }
    if (ends_with(spec, ".jsonl")) { *pool_is_test = 1; return task_load_jsonl(spec, test); }
    char full[160];
    int colons = 0;
    for (const char *c = spec; *c; c++) colons += *c == ':';
    int arith = !strncmp(spec, "add:", 4) || !strncmp(spec, "sub:", 4) || !strncmp(spec, "mul:", 4);
    if (format && arith && colons == 1) snprintf(full, sizeof full, "%s:%s", spec, format);
    else snprintf(full, sizeof full, "%s", spec);
    if (task_generate(full, split, n, seed, test)) return -1;
    if (split == TASK_TRAIN) { *pool_is_test = 1; return 0; }  // recall: exemplars from the same items
    if (task_generate(full, TASK_TRAIN, 256, seed + 1, pool)) { taskset_free(test); return -1; }
    return 0;
}

static void print_table(const EvalResult *r, int block_size) {
    printf("\n%s: %d items, %.1fs\n", r->ts->name, r->n, r->seconds);
    if (r->truncated)
        printf("  %d of %d prompts cut on the left to fit the block size %d\n", r->truncated,
               r->n, block_size);
    for (int k = 0; k < MET_NUM; k++) {
        const MetricSummary *s = &r->sum[k];
        if (s->n == 0) continue;
        printf("  %-20s %9.4f  ± %.4f  [%.4f, %.4f]%s\n", eval_metric_names[k], s->mean, s->se,
               s->lo, s->hi, s->n < r->n ? "  (some items not numbers)" : "");
    }
    if (!r->ts->multiple_choice && r->n_pos > 0) {
        printf("  %-20s", "per position");
        for (int p = 0; p < r->n_pos; p++) printf(" %.3f", r->pos_acc[p]);
        printf("\n  %-20s", "  teacher forced");
        for (int p = 0; p < r->n_pos; p++) printf(" %.3f", r->pos_acc_tf[p]);
        printf("\n");
    }
    for (int k = 0; k < EST_NUM; k++) {
        const MetricSummary *s = &r->stat[k];
        if (s->n > 0 && isfinite(s->mean))
            printf("  %-22s %7.4f  ± %.4f  [%.4f, %.4f]\n", eval_stat_names[k], s->mean, s->se,
                   s->lo, s->hi);
    }
}

// The library's progress as the CLI's progress line on stderr, one line per phase.
typedef struct { CliProgress bar; char phase[16]; } EvalShow;
static void show_progress(void *ctx, const char *task, const char *phase, int done, int total,
                          double exact_match) {
    EvalShow *s = ctx;
    if (strcmp(s->phase, phase)) {
        cli_progress_end(&s->bar);
        cli_progress_begin(&s->bar, stderr);
        snprintf(s->phase, sizeof s->phase, "%s", phase);
    }
    char label[160], extra[48];
    snprintf(label, sizeof label, "eval %s: %s", task, phase);
    if (!isnan(exact_match)) snprintf(extra, sizeof extra, "exact match %.3f", exact_match);
    cli_progress(&s->bar, label, done, total, "items", isnan(exact_match) ? NULL : extra);
    if (done == total) { cli_progress_end(&s->bar); s->phase[0] = 0; }
}

// Seen or unseen: the run's training data as code points (loaded once), then each task's
// items flagged by the overlap check and every metric split over clean and dirty items.
typedef struct { uint32_t *sym; size_t len; int n; char *src; } Seen;

static int seen_load(Seen *s, const char *model, int n) {
    Tokenizer tok = {0};
    TokenData d;
    s->n = n;
    if (cli_load_training(model, NULL, 0, 0, 0.1f, 0, &tok, &d, &s->src)) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", em_errmsg());
        return em_error("--contamination needs --model to be a run directory (its recorded "
                        "training data): %s", msg);
    }
    s->sym = overlap_train_symbols(&d, &tok, &s->len);
    data_free(&d);
    tok_free(&tok);
    return 0;
}

static int seen_split(const Seen *s, EvalResult *r, const EvalConfig *ec) {
    unsigned char *dirty = xmalloc((size_t)(r->n ? r->n : 1));
    int nd = 0, rc = overlap_flags(s->sym, s->len, s->n, r->ts, dirty, &nd);
    if (!rc) rc = eval_split_by(r, dirty, ec->n_boot, ec->seed);
    free(dirty);
    if (rc) return -1;
    printf("  seen in training (%d-grams of %s): %d of %d items dirty\n", s->n, s->src, nd, r->n);
    printf("  %-20s %24s %24s\n", "", "clean", "dirty");
    for (int k = 0; k < MET_NUM; k++) {
        const MetricSummary *c = &r->split[0][k], *d = &r->split[1][k];
        if (c->n == 0 && d->n == 0) continue;
        char a[48] = "-", b[48] = "-";
        if (c->n) snprintf(a, sizeof a, "%.4f [%.4f, %.4f]", c->mean, c->lo, c->hi);
        if (d->n) snprintf(b, sizeof b, "%.4f [%.4f, %.4f]", d->mean, d->lo, d->hi);
        printf("  %-20s %24s %24s\n", eval_metric_names[k], a, b);
    }
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *tasks = NULL, *format = NULL, *out = NULL, *samples = NULL;
    const char *split_name = "test";
    int shots = 0, n = 1000, max_new = 0, n_boot = 1000, quiet = 0, truncate = 0;
    int contamination = 0, contam_n = 13;
    int64_t seed = 1;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--task", ARG_STR, &tasks, "tasks, comma-separated: generator specs or task files (.json BIG-bench, .jsonl)"},
        {"--format", ARG_STR, &format, "surface format for add/sub/mul specs without one: plain, bigbench, gpt3, pad, rev, ..."},
        {"--shots", ARG_INT, &shots, "exemplars in each prompt", 0, 256},
        {"--n", ARG_INT, &n, "items per generated task (0: the whole split)", 0, 1 << 24},
        {"--split", ARG_STR, &split_name, "test (held out) or train (memorised items: recall)"},
        {"--seed", ARG_I64, &seed, "seed of the items, the exemplars and the bootstrap", 0, 9.2e18},
        {"--max-new", ARG_INT, &max_new, "generation limit in tokens (0: from the longest target)", 0, 1 << 20},
        {"--bootstrap", ARG_INT, &n_boot, "bootstrap resamples for the 95% intervals", 0, 1 << 20},
        {"--out", ARG_STR, &out, "results JSON (lm-evaluation-harness layout)"},
        {"--samples", ARG_STR, &samples, "per-item JSON lines"},
        {"--truncate", ARG_FLAG, &truncate, "cut prompts longer than the model's block size on the left (default: refuse them)"},
        {"--contamination", ARG_FLAG, &contamination, "split every metric over items seen and unseen in the run's training data (n-gram overlap)"},
        {"--contamination-n", ARG_INT, &contam_n, "n-gram length of that check in characters (shorter items match whole)", 1, OVERLAP_MAX_N},
        {"--quiet", ARG_FLAG, &quiet, "no progress line"},
        {NULL},
    };
    int rc = args_parse("eval", "--model CKPT --task SPEC[,SPEC...] [flags]", specs, argc, argv,
                        NULL, 0, NULL);
    if (rc > 0) { printf("\n%s", task_specs_help()); return 0; }
    if (rc) return 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    if (!tasks) { em_error("--task SPEC is required (e.g. add:3)"); return 1; }
    int split = !strcmp(split_name, "train") ? TASK_TRAIN : !strcmp(split_name, "test") ? TASK_TEST : -1;
    if (split < 0) { em_error("--split: expected test or train, got '%s'", split_name); return 1; }
    char path[1200];
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, path, sizeof path)) return 1;

    Seen seen = {0};
    if (contamination && seen_load(&seen, model, contam_n)) { gpt_free(&m); tok_free(&tok); return 1; }
    char *list = strdup(tasks);
    int cap = 1;
    for (char *c = list; *c; c++) cap += *c == ',';
    TaskSet *test = xcalloc(cap, sizeof(TaskSet)), *pool = xcalloc(cap, sizeof(TaskSet));
    EvalResult *res = xcalloc(cap, sizeof(EvalResult));
    int nt = 0;
    EvalShow show = {0};
    EvalConfig ec = {.shots = shots, .seed = (uint64_t)seed, .max_new = max_new, .n_boot = n_boot,
                     .truncate = truncate, .progress = quiet ? NULL : show_progress,
                     .progress_ctx = &show};
    rc = 0;
    for (char *save = NULL, *spec = strtok_r(list, ",", &save); spec; spec = strtok_r(NULL, ",", &save)) {
        int same;
        if (cli_load_task(spec, format, n, (uint64_t)seed, split, &test[nt], &pool[nt], &same)) { rc = 1; break; }
        nt++;
        int erc = eval_task(&m, &tok, &test[nt - 1], same ? &test[nt - 1] : &pool[nt - 1], &ec, &res[nt - 1]);
        if (erc == EVAL_UNFIT) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", em_errmsg());
            em_error("%s (--truncate cuts prompts on the left)", msg);
        }
        if (erc) {
            rc = 1;
            break;
        }
        print_table(&res[nt - 1], m.cfg.block_size);
        if (contamination && seen_split(&seen, &res[nt - 1], &ec)) { rc = 1; break; }
    }
    if (!rc && out) {
        if (eval_write_results(out, res, nt, path, &m, &ec)) rc = 1;
        else printf("\nresults: %s\n", out);
    }
    if (!rc && samples) {
        if (eval_write_samples(samples, res, nt)) rc = 1;
        else printf("samples: %s\n", samples);
    }
    for (int i = 0; i < nt; i++) {
        eval_result_free(&res[i]);
        taskset_free(&test[i]);
        taskset_free(&pool[i]);
    }
    free(res); free(test); free(pool); free(list);
    free(seen.sym); free(seen.src);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}
