// The CLI's progress line (progress.h).
#include "cli/progress.h"

#include <unistd.h>

#include "core/core.h"

void cli_progress_begin(CliProgress *p, FILE *out) {
    double now = now_sec();
    // t_print = t0: the first line after a second, as a rate from less means nothing
    *p = (CliProgress){.out = out, .tty = isatty(fileno(out)), .t0 = now, .t_print = now,
                       .min_interval = 1.0};
}

int cli_progress(CliProgress *p, const char *label, double done, double total,
                 const char *unit, const char *extra) {
    double now = now_sec(), t = now - p->t0;
    int last = done >= total;
    if (!last && now - p->t_print < p->min_interval) return 0;
    char el[32], eta[32] = "?";
    fmt_duration(el, sizeof el, t);
    if (done > 0 && t > 0) fmt_duration(eta, sizeof eta, t / done * (total - done));
    fprintf(p->out, "%s%s [%.0f/%.0f] | %.1f %s/s%s%s | %s | ETA %s%s", p->tty ? "\r" : "",
            label, done, total, t > 0 ? done / t : 0.0, unit, extra ? " | " : "",
            extra ? extra : "", el, eta, p->tty ? "   " : "\n");
    fflush(p->out);
    p->t_print = now;
    p->drawn = 1;
    return 1;
}

void cli_progress_end(CliProgress *p) {
    if (p->tty && p->drawn) fputc('\n', p->out);
    p->drawn = 0;
}
