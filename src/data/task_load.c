// tasks: loaders for BIG-bench task.json and JSON-lines files.
#include "data/tasks_impl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

// A decimal number, [sign]digits[.digits], with white space around it allowed (GPT-3's
// completions are " 143"): what the evaluator's numeric metrics parse.
static int is_number_text(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (*s == '+' || *s == '-') s++;
    const char *d = s;
    while (*s >= '0' && *s <= '9') s++;
    if (s == d) return 0;
    if (*s == '.') {
        d = ++s;
        while (*s >= '0' && *s <= '9') s++;
        if (s == d) return 0;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return *s == 0;
}

// An optional string field of the task; *out = NULL when absent.
static int opt_string(const cJSON *root, const char *key, const char *path, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = NULL;
    if (!v) return 0;
    if (!cJSON_IsString(v)) return em_error("%s: %s: expected a string", path, key);
    *out = v->valuestring;
    return 0;
}

static char **string_list(const cJSON *arr, int *n) {
    *n = cJSON_GetArraySize(arr);
    char **v = xcalloc((size_t)*n, sizeof *v);
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next) v[i++] = task_strdup(e->valuestring);
    return v;
}

// One example: prompt = input_prefix + input [+ choice_prefix + choice ...] + output_prefix.
static int bb_example(const cJSON *ex, int i, const char *path, const char *in_pre,
                      const char *out_pre, const char *ch_pre, int append, TaskItem *it) {
    if (!cJSON_IsObject(ex)) return em_error("%s: examples[%d]: expected an object", path, i);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(ex, "input");
    const cJSON *tg = cJSON_GetObjectItemCaseSensitive(ex, "target");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(ex, "target_scores");
    if (!cJSON_IsString(in))
        return em_error("%s: examples[%d].input: expected a string", path, i);
    if (!tg && !sc)
        return em_error("%s: examples[%d]: expected \"target\" or \"target_scores\"", path, i);
    if (tg && !cJSON_IsString(tg)) {
        int ok = cJSON_IsArray(tg) && cJSON_GetArraySize(tg) > 0;
        for (const cJSON *e = ok ? tg->child : NULL; e; e = e->next) ok &= cJSON_IsString(e);
        if (!ok)
            return em_error("%s: examples[%d].target: expected a string or a list of strings",
                            path, i);
    }
    if (sc) {
        int ok = cJSON_IsObject(sc) && sc->child;
        // 1e999 parses as inf: a score must be a finite number
        for (const cJSON *e = ok ? sc->child : NULL; e; e = e->next)
            ok &= cJSON_IsNumber(e) && isfinite(e->valuedouble);
        if (!ok)
            return em_error("%s: examples[%d].target_scores: expected an object of choices "
                            "and finite numbers", path, i);
    }
    size_t plen = strlen(in_pre) + strlen(in->valuestring) + strlen(out_pre) + 1;
    if (sc) {
        it->n_choices = cJSON_GetArraySize(sc);
        it->choices = xcalloc((size_t)it->n_choices, sizeof *it->choices);
        it->choice_scores = xcalloc((size_t)it->n_choices, sizeof *it->choice_scores);
        int j = 0;
        for (const cJSON *e = sc->child; e; e = e->next, j++) {
            it->choices[j] = task_strdup(e->string);
            it->choice_scores[j] = e->valuedouble;
            if (e->valuedouble > it->choice_scores[it->correct]) it->correct = j;
            if (append) plen += strlen(ch_pre) + strlen(e->string);
        }
    }
    it->prompt = xmalloc(plen);
    strcpy(it->prompt, in_pre);
    strcat(it->prompt, in->valuestring);
    for (int j = 0; append && j < it->n_choices; j++) {
        strcat(it->prompt, ch_pre);
        strcat(it->prompt, it->choices[j]);
    }
    strcat(it->prompt, out_pre);
    if (cJSON_IsString(tg)) {
        it->target = task_strdup(tg->valuestring);
    } else if (tg) {
        int n;
        char **v = string_list(tg, &n);
        it->target = v[0];
        if (n > 1) {
            it->n_alt = n - 1;
            it->alt_targets = xmalloc((size_t)(n - 1) * sizeof *v);
            memcpy(it->alt_targets, v + 1, (size_t)(n - 1) * sizeof *v);
        }
        free(v);
    } else {
        it->target = task_strdup(it->choices[it->correct]);
    }
    return 0;
}

static int bb_parse(const cJSON *root, const char *path, TaskSet *ts) {
    if (!cJSON_IsObject(root)) return em_error("%s: expected a JSON object", path);
    const cJSON *exs = cJSON_GetObjectItemCaseSensitive(root, "examples");
    if (!cJSON_IsArray(exs) || cJSON_GetArraySize(exs) == 0)
        return em_error("%s: examples: expected a non-empty list", path);
    const char *name, *tp, *in_pre, *out_pre, *ch_pre, *sep, *stop, *re;
    if (opt_string(root, "name", path, &name) || opt_string(root, "task_prefix", path, &tp) ||
        opt_string(root, "example_input_prefix", path, &in_pre) ||
        opt_string(root, "example_output_prefix", path, &out_pre) ||
        opt_string(root, "choice_prefix", path, &ch_pre) ||
        opt_string(root, "few_shot_example_separator", path, &sep) ||
        opt_string(root, "stop_string", path, &stop) ||
        opt_string(root, "output_regex", path, &re))
        return -1;
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(root, "append_choices_to_input");
    if (ap && !cJSON_IsBool(ap))
        return em_error("%s: append_choices_to_input: expected true or false", path);
    int append = !ap || cJSON_IsTrue(ap);
    snprintf(ts->name, sizeof ts->name, "%s", name ? name : path);
    if (task_copy_field(ts->shot_sep, sizeof ts->shot_sep, sep ? sep : "\n", path,
                        "few_shot_example_separator") ||
        task_copy_field(ts->stop, sizeof ts->stop, stop ? stop : "\n", path, "stop_string"))
        return -1;
    if (tp) ts->task_prefix = task_strdup(tp);
    if (re) ts->output_regex = task_strdup(re);
    int n = cJSON_GetArraySize(exs), i = 0;
    ts->items = xcalloc((size_t)n, sizeof *ts->items);
    ts->numeric = ts->multiple_choice = 1;
    for (const cJSON *ex = exs->child; ex; ex = ex->next, i++, ts->n++) {
        TaskItem *it = &ts->items[i];
        if (bb_example(ex, i, path, in_pre ? in_pre : "\nQ: ", out_pre ? out_pre : "\nA: ",
                       ch_pre ? ch_pre : "\n  choice: ", append, it)) {
            ts->n++;
            return -1;
        }
        ts->multiple_choice &= it->choices != NULL;
        ts->numeric &= is_number_text(it->target);
    }
    return 0;
}

static int parse_file(const char *path, cJSON **root) {
    size_t len;
    char *buf = read_file(path, &len);
    if (!buf) return -1;
    const char *end = NULL;
    *root = cJSON_ParseWithOpts(buf, &end, 1);  // 1: nothing but space after the value
    long at = end ? (long)(end - buf) : -1;
    free(buf);
    if (!*root) return em_error("%s: not valid JSON (near byte %ld)", path, at);
    return 0;
}

int task_load_bigbench(const char *path, TaskSet *out) {
    cJSON *root;
    taskset_init(out, base_name(path));
    if (parse_file(path, &root)) return -1;
    int rc = bb_parse(root, path, out);
    cJSON_Delete(root);
    if (rc) taskset_free(out);
    return rc;
}

// ---- JSON lines -----------------------------------------------------------

static int jsonl_line(const char *line, size_t len, const char *path, int lineno,
                      TaskItem *it, int *openai) {
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (o && end != line + len) {  // something after the value (the line is trimmed)
        cJSON_Delete(o);
        o = NULL;
    }
    if (!o) return em_error("%s:%d: not valid JSON", path, lineno);
    int rc = 0;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "context");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "completion");
    if (!p && !t) {
        *openai = 0;
        p = cJSON_GetObjectItemCaseSensitive(o, "input");
        t = cJSON_GetObjectItemCaseSensitive(o, "target");
    }
    if (!cJSON_IsObject(o) || !cJSON_IsString(p) || !cJSON_IsString(t)) {
        rc = em_error("%s:%d: expected an object with string fields \"context\" and "
                      "\"completion\" (or \"input\" and \"target\")", path, lineno);
    } else {
        it->prompt = task_strdup(p->valuestring);
        it->target = task_strdup(t->valuestring);
    }
    cJSON_Delete(o);
    return rc;
}

int task_load_jsonl(const char *path, TaskSet *out) {
    taskset_init(out, base_name(path));
    size_t len;
    char *buf = read_file(path, &len);
    if (!buf) return -1;
    int cap = 0, lineno = 0, rc = 0, openai = 1;
    out->numeric = 1;
    for (size_t p = 0; p < len && rc == 0;) {
        size_t e = p;
        while (e < len && buf[e] != '\n') e++;
        lineno++;
        size_t l = e - p;
        while (l && (buf[p + l - 1] == '\r' || buf[p + l - 1] == ' ' || buf[p + l - 1] == '\t'))
            l--;
        size_t s = 0;
        while (s < l && (buf[p + s] == ' ' || buf[p + s] == '\t')) s++;
        if (s < l) {
            if (out->n == cap) {
                cap = cap ? 2 * cap : 64;
                out->items = xrealloc(out->items, (size_t)cap * sizeof *out->items);
            }
            TaskItem *it = &out->items[out->n];
            memset(it, 0, sizeof *it);
            rc = jsonl_line(buf + p + s, l - s, path, lineno, it, &openai);
            out->n++;
            if (rc == 0) out->numeric &= is_number_text(it->target);
        }
        p = e + 1;
    }
    free(buf);
    if (rc == 0 && out->n == 0) rc = em_error("%s: expected at least one JSON line", path);
    if (openai) out->shot_sep[0] = 0;  // {"context","completion"}: contexts carry the separator
    if (rc) taskset_free(out);
    return rc;
}
