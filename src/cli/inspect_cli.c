// Printing shared by the inspect subcommands (see inspect_cli.h).
#include "cli/inspect_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int cli_json_print(cJSON *o, int pretty) {
    char *s = pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return em_error("json: out of memory");
    printf("%s\n", s);
    free(s);
    return 0;
}

cJSON *cli_json_grid(const double *g, int rows, int cols, int stride) {
    cJSON *a = cJSON_CreateArray();
    for (int r = 0; r < rows; r++) {
        cJSON *row = cJSON_CreateArray();
        for (int c = 0; c < cols; c++) cJSON_AddItemToArray(row, cJSON_CreateNumber(g[r * stride + c]));
        cJSON_AddItemToArray(a, row);
    }
    return a;
}

int cli_encode(const Tokenizer *tok, const char *text, int **ids, size_t *n, const char *flag) {
    return tok_encode(tok, text, strlen(text), ids, n, flag);
}

void cli_tok_raw(const Tokenizer *tok, int id, char *buf) {
    char t[TOK_MAX_BYTES];
    int n = tok_decode_one(tok, id, t);
    if (n == 0) n = sprintf(t, "<%d>", id);
    if (n > 15) {  // a long BPE token: its first 12 bytes (whole characters), then an ellipsis
        n = 12;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
        memcpy(t + n, "\xe2\x80\xa6", 3);
        n += 3;
    }
    memcpy(buf, t, (size_t)n);
    buf[n] = 0;
}

void cli_tok_show(const Tokenizer *tok, int id, char *buf, int quote) {
    char raw[16], *o = buf;
    cli_tok_raw(tok, id, raw);
    for (const unsigned char *c = (const unsigned char *)raw; *c; c++) {
        if (*c == '\n') o += sprintf(o, "\\n");
        else if (*c == '\t') o += sprintf(o, "\\t");
        else if (*c == ' ') o += sprintf(o, "\xe2\x90\xa3");   // U+2423 open box
        else if (*c < 0x20 || *c == 0x7f) o += sprintf(o, "\\x%02x", *c);
        else if (*c == '\'' && quote) o += sprintf(o, "''");
        else *o++ = (char)*c;
    }
    *o = 0;
}

void cli_print_padded(const char *s, int w) {
    int n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) n += (*c & 0xc0) != 0x80;
    for (; n < w; n++) putchar(' ');
    fputs(s, stdout);
}

int cli_heatmap(const char *dir, const Heatmap *h) {
    int rc = report_heatmap(dir, h);
    if (rc < 0) return -1;
    if (rc == 1)
        fprintf(stderr, "note: gnuplot not found: %s/%s.png skipped (install gnuplot-nox; "
                        "%s.gp stays)\n", dir, h->name, h->name);
    else
        fprintf(stderr, "figure: %s/%s.png\n", dir, h->name);
    return 0;
}
