// libFuzzer target: the command-line flag parser (src/cli/args.c). The input is the argument
// list, one argument per line. An accepted list leaves every number inside its flag's range,
// and an int or a float that the C type cannot hold is refused, not wrapped or made infinite.
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cli/args.h"
#include "fuzz.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS];
    int argc = 0;
    for (char *save = NULL, *a = strtok_r(buf, "\n", &save); a && argc < MAX_ARGS;
         a = strtok_r(NULL, "\n", &save))
        argv[argc++] = a;

    int steps = 10, layer = 0, quiet = 0;
    int64_t seed = 1, big = 0;
    float lr = 1e-3f, temp = 1.0f, any = 0.0f;
    const char *out = NULL;
    ArgSpec specs[] = {
        {"--steps", ARG_INT, &steps, "steps", 1, 1 << 24},
        {"--layer", ARG_INT, &layer, "unchecked int", 0, 0},
        {"--seed", ARG_I64, &seed, "seed", 0, 9.2e18},
        {"--big", ARG_I64, &big, "unchecked int64", 0, 0},
        {"--lr", ARG_FLOAT, &lr, "learning rate", 0, 10},
        {"--temperature", ARG_FLOAT, &temp, "temperature", 1e-4, 0.999999},
        {"--any", ARG_FLOAT, &any, "unchecked float", 0, 0},
        {"--out", ARG_STR, &out, "a path", 0, 0},
        {"--quiet", ARG_FLAG, &quiet, "a flag", 0, 0},
        {0},
    };
    const char *pos[4];
    int np = -1;
    if (args_parse("fuzz", "[options]", specs, argc, argv, pos, 4, &np) == 0) {
        FUZZ_CHECK(np >= 0 && np <= 4);
        for (const ArgSpec *s = specs; s->name; s++) {
            if (!s->set) continue;
            double v;
            switch (s->type) {
            case ARG_INT: v = *(int *)s->dst; break;
            case ARG_I64: v = (double)*(int64_t *)s->dst; break;
            case ARG_FLOAT:
                FUZZ_CHECK(isfinite(*(float *)s->dst));
                v = *(float *)s->dst;
                break;
            default: continue;
            }
            // compared in the destination's precision: a float rounds to the nearest float
            if (s->min != s->max && s->type == ARG_FLOAT)
                FUZZ_CHECK(v >= (float)s->min && v <= (float)s->max);
            else if (s->min != s->max)
                FUZZ_CHECK(v >= s->min && v <= s->max);
        }
        // an int flag holds what was written: no silent wrap of a value past INT_MAX
        // (the value strings are found by walking the list as the parser does)
        const char *last = NULL;
        for (int i = 0; i < argc; i++) {
            const char *a = argv[i], *eq = strchr(a, '=');
            if (strncmp(a, "--", 2) || !strcmp(a, "-")) continue;
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            int flag = nl == 7 && !strncmp(a, "--quiet", 7);
            const char *val = eq ? eq + 1 : (!flag && i + 1 < argc) ? argv[++i] : NULL;
            if (val && nl == 7 && !strncmp(a, "--layer", 7)) last = val;
        }
        if (last) {
            long long w = strtoll(last, NULL, 10);
            FUZZ_CHECK(w >= INT_MIN && w <= INT_MAX && w == layer);
        }
    }
    free(buf);
    return 0;
}
