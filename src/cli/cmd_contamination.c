// emergent contamination: which evaluation items a run's training data contains. Builds the
// n-gram index of the training stream (data.h, overlap_*), checks every item of every task,
// prints a table and the index's cost, and writes the dirty items with their spans as JSON.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "data/data.h"

static cJSON *task_json(const TaskSet *ts, const OverlapReport *r, int show) {
    cJSON *o = cJSON_CreateObject(), *items = NULL;
    cJSON_AddStringToObject(o, "task", ts->name);
    cJSON_AddNumberToObject(o, "items", r->n_items);
    cJSON_AddNumberToObject(o, "dirty", r->n_dirty);
    cJSON_AddNumberToObject(o, "clean", r->n_items - r->n_dirty);
    cJSON_AddNumberToObject(o, "dirty_share", r->n_items ? (double)r->n_dirty / r->n_items : 0);
    cJSON_AddNumberToObject(o, "matched_whole", r->n_whole);
    cJSON *flags = cJSON_AddArrayToObject(o, "dirty_flags");
    for (int i = 0; i < r->n_items; i++) cJSON_AddItemToArray(flags, cJSON_CreateNumber(r->dirty[i]));
    items = cJSON_AddArrayToObject(o, "dirty_items");
    for (int i = 0, k = 0; i < r->n_items && k < show; i++) {
        if (!r->dirty[i]) continue;
        k++;
        cJSON *it = cJSON_CreateObject(), *sp = cJSON_AddArrayToObject(it, "spans");
        cJSON_AddNumberToObject(it, "index", i);
        cJSON_AddStringToObject(it, "prompt", ts->items[i].prompt);
        cJSON_AddStringToObject(it, "target", ts->items[i].target);
        for (int j = 0; j < r->n_spans[i]; j++) {
            int pair[2] = {r->spans[i][2 * j], r->spans[i][2 * j + 1]};
            cJSON_AddItemToArray(sp, cJSON_CreateIntArray(pair, 2));
        }
        cJSON_AddItemToArray(items, it);
    }
    return o;
}

int cmd_contamination(int argc, char **argv) {
    const char *run = NULL, *train = NULL, *tasks = NULL, *format = NULL, *out = NULL;
    int n = 13, task_n = 0, eval_n = 1000, block = 64, show = 20;
    int64_t seed = 1337, eval_seed = 1;
    float val_frac = 0.1f;
    ArgSpec specs[] = {
        {"--run", ARG_STR, &run, "a run directory: its recorded training data and seed"},
        {"--train", ARG_STR, &train, "or the training data: a text file or a mixture, as train --task/--data take"},
        {"--task-n", ARG_INT, &task_n, "training items of --train's generators (0: the whole train split)", 0, 1 << 30},
        {"--seed", ARG_I64, &seed, "seed of --train's generated items (train's --seed)", 0, 9.2e18},
        {"--block-size", ARG_INT, &block, "block size --train was trained with (items must fit)", 1, 1 << 20},
        {"--val-frac", ARG_FLOAT, &val_frac, "held-out tail of a text file (not indexed)", 0, 0.9},
        {"--eval", ARG_STR, &tasks, "evaluation tasks, comma-separated: generator specs or task files"},
        {"--format", ARG_STR, &format, "surface format for add/sub/mul specs without one"},
        {"--eval-n", ARG_INT, &eval_n, "items per generated task (0: the whole test split)", 0, 1 << 24},
        {"--eval-seed", ARG_I64, &eval_seed, "seed of the evaluation items (eval's --seed)", 0, 9.2e18},
        {"--n", ARG_INT, &n, "n-gram length in characters (GPT-3: 13); shorter items match whole", 1, OVERLAP_MAX_N},
        {"--show", ARG_INT, &show, "dirty items per task listed with their spans", 0, 1 << 30},
        {"--out", ARG_STR, &out, "JSON: per task the counts, every item's flag, the dirty items' spans"},
        {0},
    };
    int rc = args_parse("contamination", "(--run DIR | --train DATA) --eval TASK[,TASK...] [flags]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!run == !train) { em_error("give one of --run DIR or --train DATA"); return 1; }
    if (!tasks) { em_error("--eval TASK is required (e.g. add:3:pad)"); return 1; }

    Tokenizer tok = {0};
    TokenData d;
    char *src = NULL;
    double t0 = now_sec();
    if (cli_load_training(run, train, task_n, seed, val_frac, block, &tok, &d, &src)) return 1;
    int cap = 1, nt = 0;
    for (const char *c = tasks; *c; c++) cap += *c == ',';
    TaskSet *sets = xcalloc((size_t)cap, sizeof *sets);
    const TaskSet **ptr = xcalloc((size_t)cap, sizeof *ptr);
    char *list = xstrdup(tasks);
    rc = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        TaskSet pool = {0};
        int same;
        if (cli_load_task(t, format, eval_n, (uint64_t)eval_seed, TASK_TEST, &sets[nt], &pool, &same)) rc = 1;
        else { ptr[nt] = &sets[nt]; nt++; }
        if (!same && !rc) taskset_free(&pool);
    }
    int lens[OVERLAP_MAX_SHORT], n_lens = 0;
    OverlapIndex ix = {0};
    size_t len = 0;
    uint32_t *sym = NULL;
    double t1 = now_sec(), t2 = t1;
    if (!rc && overlap_short_lengths(ptr, nt, n, lens, OVERLAP_MAX_SHORT, &n_lens)) rc = 1;
    if (!rc) {
        sym = overlap_train_symbols(&d, &tok, &len);
        t1 = now_sec();
        if (overlap_build(&ix, sym, len, n, lens, n_lens)) rc = 1;
        t2 = now_sec();
    }
    cJSON *root = cJSON_CreateObject();
    if (!rc) {
        printf("training data: %s, %zu characters indexed (the train part), loaded in %.1fs\n",
               src, len, t1 - t0);
        size_t distinct = 0;
        for (int k = 0; k <= ix.n_short; k++) distinct += ix.count[k];
        printf("index: %d-grams + whole items of %d shorter lengths, %zu distinct, %.1f MB "
               "(%.1f bytes per training character), built in %.2fs (%.2f M characters/s)\n",
               n, ix.n_short, distinct, overlap_bytes(&ix) / 1e6,
               len ? (double)overlap_bytes(&ix) / (double)len : 0.0, t2 - t1,
               t2 > t1 ? len / (t2 - t1) / 1e6 : 0.0);
        cJSON *ij = cJSON_AddObjectToObject(root, "index");
        cJSON_AddStringToObject(ij, "training_data", src);
        cJSON_AddNumberToObject(ij, "n", n);
        cJSON_AddNumberToObject(ij, "characters", (double)len);
        cJSON_AddNumberToObject(ij, "bytes", (double)overlap_bytes(&ix));
        cJSON_AddNumberToObject(ij, "build_s", t2 - t1);
        printf("\n%-28s %8s %8s %8s %8s\n", "task", "items", "dirty", "clean", "dirty %");
    }
    cJSON *tj = cJSON_AddArrayToObject(root, "tasks");
    for (int t = 0; t < nt && !rc; t++) {
        OverlapReport r;
        double a = now_sec();
        if (overlap_check_set(&ix, &sets[t], &r)) { rc = 1; break; }
        double b = now_sec();
        printf("%-28s %8d %8d %8d %7.2f%%   (%.0f items/s)\n", sets[t].name, r.n_items, r.n_dirty,
               r.n_items - r.n_dirty, r.n_items ? 100.0 * r.n_dirty / r.n_items : 0.0,
               b > a ? r.n_items / (b - a) : 0.0);
        cJSON_AddItemToArray(tj, task_json(&sets[t], &r, show));
        overlap_report_free(&r);
    }
    if (!rc && out) {
        char *js = cJSON_Print(root);
        if (write_file_atomic(out, js, strlen(js))) rc = 1;
        else printf("\nwrote %s\n", out);
        free(js);
    }
    cJSON_Delete(root);
    overlap_free(&ix);
    free(sym);
    for (int t = 0; t < nt; t++) taskset_free(&sets[t]);
    free(sets); free(ptr); free(list); free(src);
    data_free(&d);
    tok_free(&tok);
    return rc;
}
