#include "args.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *type_meta(ArgType t) {
    switch (t) {
    case ARG_INT: case ARG_I64: return "N";
    case ARG_FLOAT: return "X";
    case ARG_STR: return "S";
    default: return "";
    }
}

// A string default as the user would type it: control characters escaped (a newline
// prints as \n), quoted when it has any or is empty.
static void print_str_default(const char *v) {
    int plain = *v != 0;
    for (const char *c = v; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\' || *c == ' ') plain = 0;
    if (plain) { printf(" (default %s)", v); return; }
    printf(" (default \"");
    for (const char *c = v; *c; c++) {
        switch (*c) {
        case '\n': printf("\\n"); break;
        case '\t': printf("\\t"); break;
        case '"': printf("\\\""); break;
        case '\\': printf("\\\\"); break;
        default:
            if ((unsigned char)*c < 0x20) printf("\\x%02x", (unsigned char)*c);
            else putchar(*c);
        }
    }
    printf("\")");
}

void args_print_help(const char *cmd, const char *usage, const ArgSpec *specs) {
    printf("usage: emergent %s %s\n\n", cmd, usage);
    for (const ArgSpec *s = specs; s->name; s++) {
        char left[64];
        snprintf(left, sizeof left, "%s %s", s->name, type_meta(s->type));
        printf("  %-22s %s", left, s->help);
        switch (s->type) {
        case ARG_INT: printf(" (default %d)", *(int *)s->dst); break;
        case ARG_I64: printf(" (default %lld)", (long long)*(int64_t *)s->dst); break;
        case ARG_FLOAT: printf(" (default %g)", *(float *)s->dst); break;
        case ARG_STR:
            if (*(const char **)s->dst) print_str_default(*(const char **)s->dst);
            break;
        default: break;
        }
        printf("\n");
    }
    printf("  %-22s %s\n", "--help", "print this help");
}

// The accepted range of a number flag: its own, else what its type holds.
static void range_of(const ArgSpec *s, double *lo, double *hi) {
    if (s->min != s->max) { *lo = s->min; *hi = s->max; return; }
    switch (s->type) {
    case ARG_INT: *lo = INT_MIN; *hi = INT_MAX; break;
    case ARG_FLOAT: *lo = -FLT_MAX; *hi = FLT_MAX; break;
    default: *lo = -9.2e18; *hi = 9.2e18; break;  // inside int64_t's range as a double
    }
}

// "1073741824", not "1.07374e+09": a bound printed as the integer it is.
static void fmt_bound(char *buf, size_t n, double v) {
    if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%g", v);
}

static int range_error(const char *cmd, const char *name, double lo, double hi, const char *val) {
    char a[32], b[32];
    fmt_bound(a, sizeof a, lo);
    fmt_bound(b, sizeof b, hi);
    return em_error("%s: %s must be in [%s, %s], got %s", cmd, name, a, b, val);
}

int args_parse(const char *cmd, const char *usage, ArgSpec *specs, int argc, char **argv,
               const char **pos, int max_pos, int *n_pos) {
    int np = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args_print_help(cmd, usage, specs);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || !strcmp(a, "-")) {
            if (np >= max_pos)
                return em_error("%s: unexpected argument '%s' (see emergent %s --help)", cmd, a, cmd);
            pos[np++] = a;
            continue;
        }
        // --name=value or --name value
        char name[128];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name) nl = sizeof name - 1;
        memcpy(name, a, nl);
        name[nl] = 0;
        ArgSpec *s = specs;
        while (s->name && strcmp(s->name, name)) s++;
        if (!s->name)
            return em_error("%s: unknown flag '%s' (see emergent %s --help)", cmd, name, cmd);
        if (s->type == ARG_FLAG) {
            if (eq) return em_error("%s: flag %s takes no value", cmd, name);
            *(int *)s->dst = 1;
            s->set = 1;
            continue;
        }
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else return em_error("%s: flag %s needs a value", cmd, name);
        char *end = NULL;
        double lo, hi;
        range_of(s, &lo, &hi);
        errno = 0;
        switch (s->type) {
        case ARG_INT: case ARG_I64: {
            long long v = strtoll(val, &end, 10);
            if (end == val || *end)
                return em_error("%s: %s expects an integer, got '%s'", cmd, name, val);
            // tested before the conversion: (int) of a value outside int is not that value
            if (errno == ERANGE || !((double)v >= lo && (double)v <= hi))
                return range_error(cmd, name, lo, hi, val);
            if (s->type == ARG_INT) *(int *)s->dst = (int)v;
            else *(int64_t *)s->dst = v;
            break;
        }
        case ARG_FLOAT: {
            double v = strtod(val, &end);
            if (end == val || *end || isnan(v))
                return em_error("%s: %s expects a number, got '%s'", cmd, name, val);
            if (!(v >= lo && v <= hi))  // inf and 1e400 too: (float) of them is undefined
                return range_error(cmd, name, lo, hi, val);
            *(float *)s->dst = (float)v;
            break;
        }
        case ARG_STR:
            *(const char **)s->dst = val;
            break;
        default: break;
        }
        s->set = 1;
    }
    if (n_pos) *n_pos = np;
    return 0;
}

int args_given(const ArgSpec *specs, const char *name) {
    for (const ArgSpec *s = specs; s->name; s++)
        if (!strcmp(s->name, name)) return s->set;
    return 0;
}
