// The one progress line of the CLI: a label, done/total, a rate, elapsed time and an ETA,
// redrawn in place on a terminal (at most once a second; the last update always), one
// line per update otherwise. Library functions report progress through callbacks; the
// commands turn them into this line.
#ifndef EMERGENT_CLI_PROGRESS_H
#define EMERGENT_CLI_PROGRESS_H

#include <stdio.h>

typedef struct {
    FILE *out;
    int tty, drawn;
    double t0, t_print, min_interval;
} CliProgress;

void cli_progress_begin(CliProgress *p, FILE *out);
// done of total (any unit; rate is done per second, named unit); extra: text appended
// after the rate (may be NULL). Returns 1 when it printed.
int cli_progress(CliProgress *p, const char *label, double done, double total,
                 const char *unit, const char *extra);
// Ends a line left open on a terminal.
void cli_progress_end(CliProgress *p);

#endif
