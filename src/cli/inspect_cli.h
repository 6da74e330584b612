// Printing shared by the inspect subcommands (src/cli/cmd_inspect_*.c): JSON on stdout, token
// texts for tables and figure labels, prompts encoded with the flag named in errors, heatmaps
// with their note on stderr.
#ifndef EMERGENT_INSPECT_CLI_H
#define EMERGENT_INSPECT_CLI_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "report/report.h"
#include "tokenizer/tokenizer.h"

// Prints o (pretty: indented) and a newline on stdout, and frees it. Returns 0 or -1.
int cli_json_print(cJSON *o, int pretty);
// rows x cols of g (row stride `stride`) as a JSON array of rows.
cJSON *cli_json_grid(const double *g, int rows, int cols, int stride);
// text -> ids, errors naming `flag`.
int cli_encode(const Tokenizer *tok, const char *text, int **ids, size_t *n, const char *flag);
// The text of a token (raw, for JSON), "<id>" outside the tokenizer; buf: 16 bytes (a
// longer BPE token is cut to 12 bytes and an ellipsis).
void cli_tok_raw(const Tokenizer *tok, int id, char *buf);
// For tables and figure labels: control characters escaped (\n, \t, \xNN), a space as U+2423;
// quote = 1 doubles a ' (as the tables print it). buf: 64 bytes.
void cli_tok_show(const Tokenizer *tok, int id, char *buf, int quote);
// Prints s right-aligned in w columns (counting code points, not bytes).
void cli_print_padded(const char *s, int w);
// report_heatmap, then "figure: DIR/NAME.png" (or a note that gnuplot is missing) on stderr.
int cli_heatmap(const char *dir, const Heatmap *h);

#endif
