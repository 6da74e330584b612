// Reading and validating a ladder spec, and expanding it into points.
#include "spec.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/data.h"
#include "data/tasks.h"
#include "eval/eval.h"

#define LR_MIN 1e-8
#define LR_MAX 10.0

// Field readers: each error names the file and the JSON path.
static int get_num(const cJSON *o, const char *key, double *out, int required, double lo,
                   double hi, const char *path, const char *where) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x) return required ? em_error("%s: %s%s: missing", path, where, key) : 0;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return em_error("%s: %s%s: expected a number", path, where, key);
    if (x->valuedouble < lo || x->valuedouble > hi)
        return em_error("%s: %s%s: must be in [%g, %g], got %g", path, where, key, lo, hi, x->valuedouble);
    *out = x->valuedouble;
    return 0;
}

static int get_int(const cJSON *o, const char *key, int *out, int required, int lo, int hi,
                   const char *path, const char *where) {
    double v = *out;
    if (get_num(o, key, &v, required, lo, hi, path, where)) return -1;
    if (v != floor(v)) return em_error("%s: %s%s: expected an integer, got %g", path, where, key, v);
    *out = (int)v;
    return 0;
}

static int get_str(const cJSON *o, const char *key, char *out, size_t cap, int required,
                   const char *path, const char *where) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x) return required ? em_error("%s: %s%s: missing", path, where, key) : 0;
    if (!cJSON_IsString(x)) return em_error("%s: %s%s: expected a string", path, where, key);
    if (strlen(x->valuestring) >= cap) return em_error("%s: %s%s: longer than %zu characters", path, where, key, cap - 1);
    strcpy(out, x->valuestring);
    return 0;
}

static const cJSON *get_obj(const cJSON *o, const char *key, int required, const char *path,
                            int *rc) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x) { if (required) *rc = em_error("%s: %s: missing", path, key); return NULL; }
    if (!cJSON_IsObject(x)) { *rc = em_error("%s: %s: expected an object", path, key); return NULL; }
    return x;
}

// Sizes of a geometric range: n_layer fixed, widths (multiples of the head size) chosen so
// the parameter counts are as close as possible to `count` log-spaced targets.
static int geometric_sizes(const cJSON *g, LadderSpec *s, const char *path) {
    double lo = 0, hi = 0;
    int count = 0, L = 2, hs = 8;
    if (get_num(g, "min_params", &lo, 1, 10, 1e12, path, "sizes.") ||
        get_num(g, "max_params", &hi, 1, 10, 1e12, path, "sizes.") ||
        get_int(g, "count", &count, 1, 2, LADDER_MAX, path, "sizes.") ||
        get_int(g, "n_layer", &L, 0, 1, 256, path, "sizes.") ||
        get_int(g, "head_size", &hs, 0, 1, 1024, path, "sizes."))
        return -1;
    if (hi <= lo) return em_error("%s: sizes.max_params must exceed sizes.min_params", path);
    for (int i = 0; i < count; i++) {
        double target = lo * pow(hi / lo, (double)i / (count - 1));
        int best_nh = 1;
        double best = INFINITY;
        for (int nh = 1; nh <= 64; nh++) {
            GPTConfig c = {.vocab_size = s->vocab_size > 0 ? s->vocab_size : 16,
                           .block_size = s->block_size, .n_layer = L, .n_head = nh, .n_embd = nh * hs};
            double d = fabs(log((double)gpt_num_params(&c) / target));
            if (d < best) { best = d; best_nh = nh; }
        }
        s->sizes[i] = (LadderSize){.n_layer = L, .n_head = best_nh, .n_embd = best_nh * hs};
    }
    s->n_sizes = count;
    return 0;
}

static int parse(const cJSON *root, LadderSpec *s, const char *path) {
    int rc = 0;
    if (!cJSON_IsObject(root)) return em_error("%s: expected a JSON object", path);
    if (get_str(root, "name", s->name, sizeof s->name, 1, path, "") ||
        get_str(root, "task", s->task, sizeof s->task, 1, path, "") ||
        get_int(root, "task_n", &s->task_n, 0, 0, 1 << 30, path, "") ||
        get_int(root, "task_val_n", &s->task_val_n, 0, 1, 1 << 24, path, "") ||
        get_int(root, "batch_size", &s->batch_size, 1, 1, 1 << 16, path, "") ||
        get_int(root, "block_size", &s->block_size, 1, 2, 1 << 16, path, ""))
        return -1;
    const cJSON *b = get_obj(root, "budget", 1, path, &rc);
    if (rc) return -1;
    int nb = 0;
    if (cJSON_GetObjectItemCaseSensitive(b, "steps")) { nb++; if (get_int(b, "steps", &s->steps, 1, 1, LADDER_MAX_STEPS, path, "budget.")) return -1; }
    if (cJSON_GetObjectItemCaseSensitive(b, "tokens")) { nb++; if (get_num(b, "tokens", &s->tokens, 1, 1, 1e15, path, "budget.")) return -1; }
    if (cJSON_GetObjectItemCaseSensitive(b, "tokens_per_param")) { nb++; if (get_num(b, "tokens_per_param", &s->tokens_per_param, 1, 1e-3, 1e6, path, "budget.")) return -1; }
    if (nb != 1) return em_error("%s: budget: expected exactly one of steps, tokens, tokens_per_param", path);
    double tok_per_step = (double)s->batch_size * s->block_size;
    if (s->tokens > 0 && ceil(s->tokens / tok_per_step) > LADDER_MAX_STEPS)
        return em_error("%s: budget.tokens: %g tokens is %.0f steps of batch_size x block_size = "
                        "%.0f tokens; expected at most %d steps (%.0f tokens)", path, s->tokens,
                        ceil(s->tokens / tok_per_step), tok_per_step, LADDER_MAX_STEPS,
                        LADDER_MAX_STEPS * tok_per_step);

    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(root, "sizes");
    if (!sz) return em_error("%s: sizes: missing", path);
    if (cJSON_IsArray(sz)) {
        int n = cJSON_GetArraySize(sz);
        if (n < 1 || n > LADDER_MAX) return em_error("%s: sizes: expected 1 to %d sizes, got %d", path, LADDER_MAX, n);
        for (int i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetArrayItem(sz, i);
            char where[32];
            snprintf(where, sizeof where, "sizes[%d].", i);
            if (!cJSON_IsObject(e)) return em_error("%s: sizes[%d]: expected an object", path, i);
            LadderSize *z = &s->sizes[i];
            if (get_int(e, "n_layer", &z->n_layer, 1, 1, 1024, path, where) ||
                get_int(e, "n_head", &z->n_head, 1, 1, 1024, path, where) ||
                get_int(e, "n_embd", &z->n_embd, 1, 1, 65536, path, where))
                return -1;
            if (z->n_embd % z->n_head)
                return em_error("%s: sizes[%d]: n_embd %d is not divisible by n_head %d", path, i, z->n_embd, z->n_head);
        }
        s->n_sizes = n;
    } else if (cJSON_IsObject(sz)) {
        if (geometric_sizes(sz, s, path)) return -1;
    } else {
        return em_error("%s: sizes: expected a list of sizes or a geometric range object", path);
    }

    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    if (!cJSON_IsArray(sd) || cJSON_GetArraySize(sd) < 1 || cJSON_GetArraySize(sd) > LADDER_MAX)
        return em_error("%s: seeds: expected a list of 1 to %d integers", path, LADDER_MAX);
    s->n_seeds = cJSON_GetArraySize(sd);
    for (int i = 0; i < s->n_seeds; i++) {
        const cJSON *e = cJSON_GetArrayItem(sd, i);
        // tested as a double before the conversion: (int)3e9 is undefined
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= INT_MAX) ||
            e->valuedouble != floor(e->valuedouble))
            return em_error("%s: seeds[%d]: expected an integer in [0, %d]", path, i, INT_MAX);
        s->seeds[i] = (int)e->valuedouble;
        for (int j = 0; j < i; j++)  // a seed names a point's directory: two would share it
            if (s->seeds[j] == s->seeds[i])
                return em_error("%s: seeds[%d]: %d repeats seeds[%d]; each seed must be given "
                                "once", path, i, s->seeds[i], j);
    }

    const cJSON *o = get_obj(root, "optimizer", 0, path, &rc);
    if (rc) return -1;
    double v;
    if (o) {
#define F(key, field, lo, hi) v = s->field; if (get_num(o, key, &v, 0, lo, hi, path, "optimizer.")) return -1; s->field = (float)v
        F("lr", lr, LR_MIN, LR_MAX); F("min_lr_ratio", min_lr_ratio, 0, 1); F("beta1", beta1, 0, 0.999999);
        F("beta2", beta2, 0, 0.999999);
        F("weight_decay", weight_decay, 0, 10); F("grad_clip", grad_clip, 0, 1e9);
#undef F
        if (get_int(o, "warmup", &s->warmup, 0, 0, 1 << 30, path, "optimizer.")) return -1;
    }
    const cJSON *lr = get_obj(root, "lr_rule", 0, path, &rc);
    if (rc) return -1;
    if (lr) {
        if (get_str(lr, "type", s->lr_rule, sizeof s->lr_rule, 1, path, "lr_rule.")) return -1;
        if (strcmp(s->lr_rule, "constant") && strcmp(s->lr_rule, "power"))
            return em_error("%s: lr_rule.type: expected \"constant\" or \"power\", got \"%s\"", path, s->lr_rule);
        if (!strcmp(s->lr_rule, "power") &&
            (get_num(lr, "ref_params", &s->lr_ref_params, 1, 1, 1e15, path, "lr_rule.") ||
             get_num(lr, "exponent", &s->lr_exponent, 1, -4, 4, path, "lr_rule.")))
            return -1;
    }
    const cJSON *sw = get_obj(root, "sweep", 0, path, &rc);
    if (rc) return -1;
    if (sw) {
        if (get_str(sw, "name", s->sweep_name, sizeof s->sweep_name, 1, path, "sweep.")) return -1;
        int is_wd = !strcmp(s->sweep_name, "weight_decay"), is_leak = !strcmp(s->sweep_name, "leak");
        int is_lr = !strcmp(s->sweep_name, "lr") || is_wd || is_leak;
        int is_task = !strcmp(s->sweep_name, "task");
        if (!is_lr && !is_task)
            return em_error("%s: sweep.name: expected \"lr\", \"task\", \"weight_decay\" or "
                            "\"leak\", got \"%s\"", path, s->sweep_name);
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(sw, "values");
        if (!cJSON_IsArray(vals) || cJSON_GetArraySize(vals) < 1 || cJSON_GetArraySize(vals) > LADDER_MAX)
            return em_error("%s: sweep.values: expected a list of 1 to %d values", path, LADDER_MAX);
        s->n_sweep = cJSON_GetArraySize(vals);
        for (int i = 0; i < s->n_sweep; i++) {
            const cJSON *e = cJSON_GetArrayItem(vals, i);
            if (is_wd && (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 10)))
                return em_error("%s: sweep.values[%d]: expected a weight decay in [0, 10]", path, i);
            if (is_leak && (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 1)))
                return em_error("%s: sweep.values[%d]: expected a leaked fraction of the test "
                                "items in [0, 1]", path, i);
            if (is_lr && !is_wd && !is_leak &&
                (!cJSON_IsNumber(e) || !(e->valuedouble >= LR_MIN && e->valuedouble <= LR_MAX)))
                return em_error("%s: sweep.values[%d]: expected a learning rate in [%g, %g]", path,
                                i, LR_MIN, LR_MAX);
            if (is_task && (!cJSON_IsString(e) || strlen(e->valuestring) >= sizeof s->sweep_tasks[0]))
                return em_error("%s: sweep.values[%d]: expected a task spec string", path, i);
            if (is_lr) s->sweep_values[i] = e->valuedouble;
            else { strcpy(s->sweep_tasks[i], e->valuestring); s->sweep_values[i] = i; }
            // a value names its points' directories (lr as the float "%g" prints it)
            for (int j = 0; j < i; j++) {
                char a[32], b[32];
                if (is_lr) {
                    snprintf(a, sizeof a, "%g", (float)s->sweep_values[j]);
                    snprintf(b, sizeof b, "%g", (float)s->sweep_values[i]);
                }
                if (is_lr ? !strcmp(a, b) : !strcmp(s->sweep_tasks[j], s->sweep_tasks[i]))
                    return em_error("%s: sweep.values[%d]: %s repeats sweep.values[%d]; each value "
                                    "must be given once", path, i, is_lr ? b : s->sweep_tasks[i], j);
            }
        }
    }
    const cJSON *ev = get_obj(root, "eval", 1, path, &rc);
    if (rc) return -1;
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(ev, "tasks");
    if (!cJSON_IsArray(tasks) || cJSON_GetArraySize(tasks) > 8)
        return em_error("%s: eval.tasks: expected a list of 0 to 8 task specs", path);
    s->n_eval_tasks = cJSON_GetArraySize(tasks);
    for (int i = 0; i < s->n_eval_tasks; i++) {
        const cJSON *e = cJSON_GetArrayItem(tasks, i);
        if (!cJSON_IsString(e) || strlen(e->valuestring) >= sizeof s->eval_tasks[0])
            return em_error("%s: eval.tasks[%d]: expected a task spec string", path, i);
        strcpy(s->eval_tasks[i], e->valuestring);
    }
    double es = (double)s->eval_seed;
    if (get_int(ev, "shots", &s->eval_shots, 0, 0, 64, path, "eval.") ||
        get_int(ev, "n", &s->eval_n, 0, 1, 1 << 20, path, "eval.") ||
        get_int(ev, "points", &s->eval_points, 0, 1, 64, path, "eval.") ||
        get_num(ev, "seed", &es, 0, 0, 9e15, path, "eval."))
        return -1;
    if (es != floor(es)) return em_error("%s: eval.seed: expected an integer, got %g", path, es);
    s->eval_seed = (uint64_t)es;
    int leak = !strcmp(s->sweep_name, "leak");
    s->contam_n = leak ? 13 : 0;
    if (get_int(ev, "contamination_n", &s->contam_n, 0, 0, OVERLAP_MAX_N, path, "eval.") ||
        get_num(root, "leak_weight", &s->leak_weight, 0, 1e-6, 1 - 1e-6, path, ""))
        return -1;
    const cJSON *mz = get_obj(root, "memorization", 0, path, &rc);
    if (rc) return -1;
    if (mz && (get_int(mz, "n", &s->mem_n, 1, 0, 1 << 20, path, "memorization.") ||
               get_int(mz, "span", &s->mem_span, 0, 2, s->block_size, path, "memorization.") ||
               get_int(mz, "prefix", &s->mem_prefix, 0, 1, s->mem_span - 1, path, "memorization.")))
        return -1;
    if (s->mem_n > 0 && (s->mem_span > s->block_size || s->mem_prefix >= s->mem_span))
        return em_error("%s: memorization: expected 1 <= prefix < span <= block_size %d, got "
                        "prefix %d and span %d (defaults 32 and 50)", path, s->block_size,
                        s->mem_prefix, s->mem_span);
    if (leak && s->task_n <= 0)
        return em_error("%s: task_n: a leak sweep mixes the planted items into task's items by "
                        "count; expected task_n > 0, got %d", path, s->task_n);
    if (leak && s->n_eval_tasks < 1)
        return em_error("%s: eval.tasks: a leak sweep plants items of eval.tasks[0]; expected at "
                        "least one eval task", path);
    if (leak && strchr(s->task, ','))
        return em_error("%s: task: a leak sweep adds its own component to task; expected one "
                        "generator, got the mixture \"%s\"", path, s->task);
    const cJSON *dn = get_obj(root, "dense", 0, path, &rc);
    if (rc) return -1;
    if (dn && (get_int(dn, "every", &s->dense_every, 1, 1, 1 << 30, path, "dense.") ||
               get_int(dn, "n", &s->dense_n, 0, 0, 1 << 24, path, "dense.") ||
               get_int(dn, "fourier_k", &s->dense_k, 0, 1, 1 << 20, path, "dense.")))
        return -1;
    return 0;
}

int ladder_spec_load(const char *path, LadderSpec *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    // defaults
    s->task_val_n = 1000;
    s->lr = 1e-3f; s->min_lr_ratio = 0.1f; s->beta1 = 0.9f; s->beta2 = 0.99f; s->weight_decay = 0.1f;
    s->grad_clip = 1.0f; s->warmup = 100;
    strcpy(s->lr_rule, "constant");
    s->eval_n = 1000; s->eval_points = 6; s->eval_seed = 12345;
    s->dense_k = 5;
    s->leak_weight = 0.05;
    s->mem_span = 50; s->mem_prefix = 32;
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        long off = end ? (long)(end - text) : -1;
        free(text);
        return em_error("%s: not valid JSON (near byte %ld)", path, off);
    }
    int rc = parse(root, s, path);
    cJSON_Delete(root);
    free(text);
    return rc ? rc : ladder_leak_tasks(s);
}

// A leak sweep's training mixture per value, from the spec's current task_n, eval.n, eval.seed.
int ladder_leak_tasks(LadderSpec *s) {
    if (strcmp(s->sweep_name, "leak")) return 0;
    char ev[512];
    if (ladder_eval_task(s, 0, s->task, ev, sizeof ev)) return -1;
    for (int i = 0; i < s->n_sweep; i++) {
        size_t cap = sizeof s->leak_tasks[i];
        if ((size_t)snprintf(s->leak_tasks[i], cap, "%s@%g,leak:%.17g:%d:%llu:%s@%g", s->task,
                             1 - s->leak_weight, s->sweep_values[i], s->eval_n,
                             (unsigned long long)s->eval_seed, ev, s->leak_weight) >= cap)
            return em_error("%s: task: the leak mixture of %s and %s is longer than %zu "
                            "characters", s->path, s->task, ev, cap - 1);
    }
    return 0;
}

int ladder_eval_task(const LadderSpec *s, int t, const char *task, char *out, size_t cap) {
    const char *fmt = strrchr(task, ':');
    fmt = fmt ? fmt + 1 : task;
    size_t n = 0;
    for (const char *c = s->eval_tasks[t]; *c;) {
        const char *put = c;  // what this step appends: a placeholder's value or one byte
        size_t len = 1;
        if (!strncmp(c, "{task}", 6)) { put = task; len = strlen(task); c += 6; }
        else if (!strncmp(c, "{format}", 8)) { put = fmt; len = strlen(fmt); c += 8; }
        else c++;
        if (n + len >= cap)
            return em_error("%s: eval.tasks[%d]: \"%s\" for task %s is longer than %zu "
                            "characters", s->path, t, s->eval_tasks[t], task, cap - 1);
        memcpy(out + n, put, len);
        n += len;
    }
    out[n] = 0;
    return 0;
}

void ladder_spec_quick(LadderSpec *s) {
    if (s->n_sizes > 3) s->n_sizes = 3;
    if (s->n_seeds > 2) s->n_seeds = 2;
    s->steps = LADDER_QUICK_STEPS;
    s->tokens = s->tokens_per_param = 0;
    if (s->batch_size > 16) s->batch_size = 16;
    if (s->eval_n > 40) s->eval_n = 40;
    if (s->task_val_n > 100) s->task_val_n = 100;
    if (s->task_n == 0 || s->task_n > 2000) s->task_n = 2000;
    s->eval_points = 2;
    if (s->warmup > LADDER_QUICK_STEPS / 3) s->warmup = LADDER_QUICK_STEPS / 3;
    if (s->mem_n > 20) s->mem_n = 20;
    ladder_leak_tasks(s);  // eval.n changed (fits: the numbers only got shorter)
}

int ladder_eval_steps(int steps, int points, int *out) {
    int n = 0;
    for (int i = 0; i < points; i++) {
        // log-spaced from steps/100 to steps
        double lo = steps / 100.0 < 1.0 ? 1.0 : steps / 100.0;
        double f = points == 1 ? steps : lo * pow(steps / lo, (double)i / (points - 1));
        int s = (int)(f + 0.5);
        if (i == points - 1) s = steps;
        if (s < 1) s = 1;
        if (n == 0 || s > out[n - 1]) out[n++] = s;
    }
    return n;
}

int ladder_points(const LadderSpec *s, LadderPoint *pts, int cap) {
    int n = 0, nsw = s->n_sweep > 0 ? s->n_sweep : 1;
    for (int i = 0; i < s->n_sizes; i++)
        for (int w = 0; w < nsw; w++)
            for (int k = 0; k < s->n_seeds; k++) {
                if (n == cap) return n;
                LadderPoint *p = &pts[n++];
                memset(p, 0, sizeof *p);
                p->size_idx = i;
                p->sweep_idx = s->n_sweep ? w : -1;
                p->seed = s->seeds[k];
                p->cfg = (GPTConfig){.vocab_size = s->vocab_size, .block_size = s->block_size,
                                     .n_layer = s->sizes[i].n_layer, .n_head = s->sizes[i].n_head,
                                     .n_embd = s->sizes[i].n_embd};
                p->params = gpt_num_params(&p->cfg);
                double tok_per_step = (double)s->batch_size * s->block_size;
                // in doubles, range-checked before the conversion to int
                double steps = s->steps ? s->steps
                             : s->tokens ? ceil(s->tokens / tok_per_step)
                                         : ceil(s->tokens_per_param * p->params / tok_per_step);
                if (!(steps <= LADDER_MAX_STEPS))
                    return em_error("%s: budget.tokens_per_param: sizes[%d] (%zu parameters) "
                                    "would train for %.4g steps; expected at most %d", s->path,
                                    i, p->params, steps, LADDER_MAX_STEPS);
                p->steps = steps < 1 ? 1 : (int)steps;
                p->lr = s->lr;
                if (!strcmp(s->lr_rule, "power")) {
                    double lr = s->lr * pow(p->params / s->lr_ref_params, s->lr_exponent);
                    if (!(lr >= LR_MIN && lr <= LR_MAX))
                        return em_error("%s: lr_rule: sizes[%d] (%zu parameters) gets a learning "
                                        "rate of %.4g; expected one in [%g, %g]", s->path, i,
                                        p->params, lr, LR_MIN, LR_MAX);
                    p->lr = (float)lr;
                }
                p->task = p->eval_base = s->task;
                p->weight_decay = s->weight_decay;
                if (!strcmp(s->sweep_name, "lr")) p->lr = (float)s->sweep_values[w];
                if (!strcmp(s->sweep_name, "weight_decay"))
                    p->weight_decay = (float)s->sweep_values[w];
                if (!strcmp(s->sweep_name, "task")) p->task = p->eval_base = s->sweep_tasks[w];
                if (!strcmp(s->sweep_name, "leak")) p->task = s->leak_tasks[w];
                if (!s->n_sweep) snprintf(p->key, sizeof p->key, "s%02d-seed%d", i, p->seed);
                else if (!strcmp(s->sweep_name, "lr"))
                    snprintf(p->key, sizeof p->key, "s%02d-lr%g-seed%d", i, p->lr, p->seed);
                else if (!strcmp(s->sweep_name, "leak"))
                    snprintf(p->key, sizeof p->key, "s%02d-leak%g-seed%d", i, s->sweep_values[w], p->seed);
                else if (!strcmp(s->sweep_name, "weight_decay"))
                    snprintf(p->key, sizeof p->key, "s%02d-wd%g-seed%d", i, p->weight_decay, p->seed);
                else snprintf(p->key, sizeof p->key, "s%02d-task%d-seed%d", i, w, p->seed);
                double per_tok = gpt_train_flops_per_token(&p->cfg, s->block_size, NULL, NULL);
                p->flops = per_tok * tok_per_step * p->steps;
            }
    return n;
}

// Loads each training task as a point would (refusing a block shorter than an item) and
// checks that every eval task's prompts and answers fit the block, before any training.
static int check_tasks(const LadderSpec *s, Tokenizer *keep_tok, TokenData *keep_d, int *kept);

int ladder_check_tasks(const LadderSpec *s) { return ladder_check_tasks_keep(s, NULL, NULL) < 0 ? -1 : 0; }

int ladder_check_tasks_keep(const LadderSpec *s, Tokenizer *keep_tok, TokenData *keep_d) {
    int kept = 0, rc = check_tasks(s, keep_tok, keep_d, &kept);
    if (rc && kept) {
        data_free(keep_d);
        tok_free(keep_tok);
    }
    return rc ? -1 : kept;
}

static int check_tasks(const LadderSpec *s, Tokenizer *keep_tok, TokenData *keep_d, int *kept) {
    int sweep = s->n_sweep > 0 && !strcmp(s->sweep_name, "task"), nt = sweep ? s->n_sweep : 1;
    int leak = s->n_sweep > 0 && !strcmp(s->sweep_name, "leak");
    for (int k = 0; k < (leak ? s->n_sweep : nt); k++) {
        const char *task = sweep ? s->sweep_tasks[k] : leak ? s->leak_tasks[k] : s->task;
        Tokenizer tok = {0};
        TokenData d;
        char *src = NULL;
        if (data_load_mixture(task, s->task_n, s->task_val_n, 1, &tok, s->block_size, &d, &src)) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", em_errmsg());
            if (sweep || leak)
                return em_error("%s: sweep.values[%d]: %s", s->path, k, msg);
            return em_error("%s: task: %s", s->path, msg);
        }
        free(src);
        if (k == 0 && !leak && keep_tok && keep_d) {
            *keep_tok = tok;
            *keep_d = d;
            *kept = 1;
            continue;
        }
        data_free(&d);
        tok_free(&tok);
    }
    for (int k = 0; k < nt; k++) {
        for (int t = 0; t < s->n_eval_tasks; t++) {
            TaskSet test;
            char spec[512];
            if (ladder_eval_task(s, t, sweep ? s->sweep_tasks[k] : s->task, spec, sizeof spec))
                return -1;
            if (k > 0 && !strstr(s->eval_tasks[t], "{")) continue;  // the same task again
            if (task_generate(spec, TASK_TEST, s->eval_n, s->eval_seed, &test)) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", em_errmsg());
                return em_error("%s: eval.tasks[%d]: %s", s->path, t, msg);
            }
            int rc = eval_check_fit(NULL, &test, s->block_size);
            taskset_free(&test);
            if (rc) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", em_errmsg());
                return em_error("%s: block_size: eval.tasks[%d]: %s", s->path, t, msg);
            }
        }
    }
    return 0;
}
