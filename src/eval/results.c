// Results in the shape of lm-evaluation-harness's JSON, and per-item samples as JSON lines.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "eval.h"
#include "kernels/kernels.h"


static int write_json(const char *path, cJSON *root) {
    char *s = cJSON_Print(root);
    if (!s) return em_error("%s: cannot format the results (out of memory)", path);
    size_t n = strlen(s);
    s = xrealloc(s, n + 2);
    s[n] = '\n';
    s[n + 1] = 0;
    int rc = write_file_atomic(path, s, n + 1);
    free(s);
    return rc;
}

// One summary in the harness's keys: "NAME,none", "NAME_stderr,none", "NAME_ci95,none", and
// whether higher is better.
static void add_summary(cJSON *o, cJSON *h, const char *name, const MetricSummary *s,
                        int higher_is_better) {
    char key[96];
    snprintf(key, sizeof key, "%s,none", name);
    cJSON_AddItemToObject(o, key, json_num(s->mean));
    snprintf(key, sizeof key, "%s_stderr,none", name);
    cJSON_AddItemToObject(o, key, json_num(s->se));
    snprintf(key, sizeof key, "%s_ci95,none", name);
    double ci[2] = {s->lo, s->hi};
    cJSON_AddItemToObject(o, key, json_num_array(ci, 2));
    cJSON_AddBoolToObject(h, name, higher_is_better);
}

int eval_write_results(const char *path, const EvalResult *r, int n_tasks, const char *model_path,
                       const GPT *m, const EvalConfig *ec) {
    cJSON *root = cJSON_CreateObject(), *res = cJSON_AddObjectToObject(root, "results");
    cJSON *shots = cJSON_AddObjectToObject(root, "n-shot");
    cJSON *ns = cJSON_AddObjectToObject(root, "n-samples");
    cJSON *hib = cJSON_AddObjectToObject(root, "higher_is_better");
    cJSON *ver = cJSON_AddObjectToObject(root, "versions");
    for (int t = 0; t < n_tasks; t++) {
        const EvalResult *e = &r[t];
        const char *name = e->ts->name;
        cJSON *o = cJSON_AddObjectToObject(res, name), *h = cJSON_AddObjectToObject(hib, name);
        cJSON_AddStringToObject(o, "alias", name);
        for (int k = 0; k < MET_NUM; k++)  // (n == 0: the metric does not apply to this task)
            if (e->sum[k].n > 0)
                add_summary(o, h, eval_metric_names[k], &e->sum[k], eval_higher_is_better[k]);
        for (int k = 0; k < EST_NUM; k++)  // ECE and the predictions of exact match
            if (e->stat[k].n > 0 && !isnan(e->stat[k].mean))
                add_summary(o, h, eval_stat_names[k], &e->stat[k], eval_stat_higher_is_better[k]);
        if (!e->ts->multiple_choice && e->n_pos > 0) {
            cJSON_AddItemToObject(o, "per_position_accuracy,none", json_num_array(e->pos_acc, e->n_pos));
            cJSON_AddItemToObject(o, "per_position_accuracy_tf,none", json_num_array(e->pos_acc_tf, e->n_pos));
        }
        if (e->has_split) {  // seen or unseen: every metric over the clean and the dirty items
            cJSON *c = cJSON_AddObjectToObject(o, "contamination");
            cJSON_AddNumberToObject(c, "n_clean", e->n_split[0]);
            cJSON_AddNumberToObject(c, "n_dirty", e->n_split[1]);
            for (int part = 0; part < 2; part++) {
                cJSON *pj = cJSON_AddObjectToObject(c, part ? "dirty" : "clean");
                for (int k = 0; k < MET_NUM; k++) {
                    const MetricSummary *s = &e->split[part][k];
                    if (s->n == 0) continue;
                    cJSON *mj = cJSON_AddObjectToObject(pj, eval_metric_names[k]);
                    cJSON_AddItemToObject(mj, "value", json_num(s->mean));
                    cJSON_AddItemToObject(mj, "stderr", json_num(s->se));
                    double ci[2] = {s->lo, s->hi};
                    cJSON_AddItemToObject(mj, "ci95", json_num_array(ci, 2));
                }
            }
        }
        cJSON_AddNumberToObject(o, "truncated_prompts", e->truncated);
        cJSON_AddNumberToObject(o, "seconds", e->seconds);
        cJSON_AddNumberToObject(shots, name, ec->shots);
        cJSON *c = cJSON_AddObjectToObject(ns, name);
        cJSON_AddNumberToObject(c, "original", e->n);
        cJSON_AddNumberToObject(c, "effective", e->n);
        cJSON_AddNumberToObject(ver, name, 1);
    }
    cJSON *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cfg, "model", model_path);
    cJSON_AddNumberToObject(cfg, "model_num_parameters", (double)m->num_params);
    cJSON_AddNumberToObject(cfg, "n_layer", m->cfg.n_layer);
    cJSON_AddNumberToObject(cfg, "n_head", m->cfg.n_head);
    cJSON_AddNumberToObject(cfg, "n_embd", m->cfg.n_embd);
    cJSON_AddNumberToObject(cfg, "block_size", m->cfg.block_size);
    cJSON_AddNumberToObject(cfg, "vocab_size", m->cfg.vocab_size);
    cJSON_AddNumberToObject(cfg, "seed", (double)ec->seed);
    cJSON_AddNumberToObject(cfg, "num_fewshot", ec->shots);
    cJSON_AddNumberToObject(cfg, "bootstrap_iters", ec->n_boot);
    cJSON_AddStringToObject(cfg, "decoding", "greedy");
    cJSON_AddStringToObject(root, "emergent_version", EMERGENT_VERSION);
    MachineInfo mi;
    char line[512];
    kernels_machine(&mi);
    kernels_machine_line(&mi, line, sizeof line);
    cJSON *mach = cJSON_AddObjectToObject(root, "machine");
    cJSON_AddStringToObject(mach, "cpu", mi.cpu);
    cJSON_AddStringToObject(mach, "cpu_isa", mi.cpu_isa);
    cJSON_AddStringToObject(mach, "build_isa", mi.build_isa);
    cJSON_AddStringToObject(mach, "blas", mi.blas);
    cJSON_AddStringToObject(mach, "blas_kernel", mi.blas_core);
    cJSON_AddNumberToObject(mach, "threads", mi.threads);
    cJSON_AddStringToObject(mach, "summary", line);
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(root, "date", date);
    int rc = write_json(path, root);
    cJSON_Delete(root);
    return rc;
}

int eval_write_samples(const char *path, const EvalResult *r, int n_tasks) {
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    for (int t = 0; t < n_tasks; t++)
        for (int i = 0; i < r[t].n; i++) {
            const EvalItem *it = &r[t].items[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "task", r[t].ts->name);
            cJSON_AddNumberToObject(o, "doc_id", i);
            cJSON_AddStringToObject(o, "prompt", it->prompt ? it->prompt : "");
            cJSON_AddStringToObject(o, "target", it->item->target ? it->item->target : "");
            cJSON_AddStringToObject(o, "response", it->response ? it->response : "");
            cJSON_AddStringToObject(o, "answer", it->answer ? it->answer : "");
            if (r[t].has_split) cJSON_AddBoolToObject(o, "dirty", r[t].dirty[i]);
            cJSON *mm = cJSON_AddObjectToObject(o, "metrics");
            for (int k = 0; k < MET_NUM; k++)
                if (!isnan(it->m[k])) cJSON_AddNumberToObject(mm, eval_metric_names[k], it->m[k]);
            char *s = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            int rc = atomic_write(&af, s, strlen(s)) || atomic_write(&af, "\n", 1);
            free(s);
            if (rc) { atomic_abort(&af); return -1; }
        }
    return atomic_commit(&af);
}
