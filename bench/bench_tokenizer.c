// bench_tokenizer: GPT-2's tokenizer encoding speed on one core (the tokenizer is
// single-threaded): Shakespeare with an empty piece cache (cold), then again (warm), and a
// Unicode-heavy corpus cold. Goal: >= 5 MB/s cold.
//   bench_tokenizer [--text FILE] [--unicode FILE] [--reps N] [--json FILE]
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "tokenizer/tokenizer.h"

#define GOAL_MBS 5.0

// Seconds to encode text with t; *n tokens.
static double encode_s(Tokenizer *t, const char *text, size_t len, size_t *n) {
    int *ids;
    double t0 = now_sec();
    tok_encode(t, text, len, &ids, n, "bench");
    double dt = now_sec() - t0;
    free(ids);
    return dt;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *path = "data/tinyshakespeare.txt", *upath = "tests/data/bpe_corpus.txt", *json = NULL;
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--text") && v) path = v, i++;
        else if (!strcmp(argv[i], "--unicode") && v) upath = v, i++;
        else if (!strcmp(argv[i], "--reps") && v) reps = atoi(v), i++;
        else if (!strcmp(argv[i], "--json") && v) json = v, i++;
        else {
            fprintf(stderr, "usage: bench_tokenizer [--text FILE] [--unicode FILE] [--reps N] [--json FILE]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    size_t len, ulen;
    char *text = read_file(path, &len), *uni = read_file(upath, &ulen);
    if (!text || !uni) { fprintf(stderr, "bench_tokenizer: %s\n", em_errmsg()); return 1; }
    MachineInfo mi;
    char line[512];
    kernels_machine(&mi);
    kernels_machine_line(&mi, line, sizeof line);
    double *cold = xmalloc(reps * sizeof(double)), *ucold = xmalloc(reps * sizeof(double));
    double warm = 1e30, load = 1e30;
    size_t n = 0, un = 0;
    for (int r = 0; r < reps; r++) {
        Tokenizer t;
        double t0 = now_sec();
        if (tok_load_gpt2(&t)) { fprintf(stderr, "bench_tokenizer: %s\n", em_errmsg()); return 1; }
        if (now_sec() - t0 < load) load = now_sec() - t0;
        cold[r] = encode_s(&t, text, len, &n);
        double w = encode_s(&t, text, len, &n);
        if (w < warm) warm = w;
        tok_free(&t);
        if (tok_load_gpt2(&t)) return 1;
        ucold[r] = encode_s(&t, uni, ulen, &un);
        tok_free(&t);
    }
    qsort(cold, reps, sizeof(double), cmp_d);
    qsort(ucold, reps, sizeof(double), cmp_d);
    double mbs = len / cold[reps / 2] / 1e6, wmbs = len / warm / 1e6, umbs = ulen / ucold[reps / 2] / 1e6;
    printf("bench_tokenizer: machine: %s\n", line);
    printf("  gpt2 encode, 1 core: %s %.2f MB, %zu tokens: %.1f MB/s cold (median of %d), "
           "%.1f MB/s warm cache; %s %.0f KB: %.1f MB/s cold; goal >= %.0f MB/s: %s; "
           "loading the tokenizer %.0f ms\n",
           path, len / 1e6, n, mbs, reps, wmbs, upath, ulen / 1e3, umbs, GOAL_MBS,
           mbs >= GOAL_MBS ? "met" : "NOT met", 1e3 * load);
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "machine", line);
        cJSON_AddStringToObject(j, "tokenizer", "gpt2");
        cJSON_AddStringToObject(j, "text", path);
        cJSON_AddNumberToObject(j, "bytes", (double)len);
        cJSON_AddNumberToObject(j, "tokens", (double)n);
        cJSON_AddNumberToObject(j, "mb_per_s_cold", mbs);
        cJSON_AddNumberToObject(j, "mb_per_s_warm", wmbs);
        cJSON_AddStringToObject(j, "unicode_text", upath);
        cJSON_AddNumberToObject(j, "unicode_mb_per_s_cold", umbs);
        cJSON_AddNumberToObject(j, "reps", reps);
        cJSON_AddNumberToObject(j, "load_ms", 1e3 * load);
        cJSON_AddNumberToObject(j, "goal_mb_per_s", GOAL_MBS);
        cJSON_AddBoolToObject(j, "met", mbs >= GOAL_MBS);
        char *s = cJSON_Print(j);
        int rc = write_file_atomic(json, s, strlen(s));
        free(s);
        cJSON_Delete(j);
        if (rc) { fprintf(stderr, "bench_tokenizer: %s\n", em_errmsg()); return 1; }
    }
    free(cold); free(ucold); free(text); free(uni);
    return 0;
}
