// emergent tokenize: text -> token ids with a BPE tokenizer (GPT-2's or one from a directory),
// and ids -> text.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/core.h"
#include "tokenizer/tokenizer.h"

// All of a stream, malloc'd (NUL-terminated after len bytes).
static char *read_stream(FILE *f, const char *name, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) { cap *= 2; buf = xrealloc(buf, cap + 1); }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (ferror(f)) { free(buf); em_error("%s: read error", name); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

// "1,2,3" (commas, spaces or newlines between) -> ids, each checked against the vocabulary.
static int parse_ids(const char *s, const char *name, int vocab, int **ids, size_t *n) {
    size_t cap = 1024, m = 0;
    int *v = xmalloc(cap * sizeof(int));
    for (const char *p = s; *p;) {
        if (*p == ',' || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') { p++; continue; }
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x >= vocab) {
            free(v);
            return em_error("%s: id %zu (\"%.12s\"): expected an integer in [0, %d)", name, m, p,
                            vocab);
        }
        if (m == cap) { cap *= 2; v = xrealloc(v, cap * sizeof(int)); }
        v[m++] = (int)x;
        p = end;
    }
    *ids = v;
    *n = m;
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *spec = "gpt2", *input = NULL;
    int print = 0, decode = 0;
    ArgSpec specs[] = {
        {"--tokenizer", ARG_STR, &spec, "gpt2, or a directory with vocab.json + merges.txt (or encoder.json + vocab.bpe)"},
        {"--input", ARG_STR, &input, "file to read (default: standard input)"},
        {"--print", ARG_FLAG, &print, "print the ids, comma-separated (else a summary: bytes, tokens, speed)"},
        {"--decode", ARG_FLAG, &decode, "read ids (comma-separated) and write their bytes"},
        {NULL},
    };
    int rc = args_parse("tokenize", "--tokenizer gpt2|DIR [--print | --decode] < FILE", specs, argc,
                        argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    if (!strcmp(spec, "char")) {
        em_error("--tokenizer char: the char tokenizer is built from a training text; give gpt2 "
                 "or a directory with vocab.json and merges.txt");
        return 1;
    }
    Tokenizer tok;
    if (tok_open(&tok, spec)) return 1;
    const char *name = input ? input : "stdin";
    size_t len;
    char *text = input ? read_file(input, &len) : read_stream(stdin, name, &len);
    if (!text) { tok_free(&tok); return 1; }
    int *ids = NULL;
    size_t n = 0;
    if (decode) {
        rc = parse_ids(text, name, tok.vocab_size, &ids, &n);
        for (size_t i = 0; !rc && i < n; i++) {
            char b[TOK_MAX_BYTES];
            fwrite(b, 1, (size_t)tok_decode_one(&tok, ids[i], b), stdout);
        }
    } else {
        double t0 = now_sec();
        rc = tok_encode(&tok, text, len, &ids, &n, name);
        double dt = now_sec() - t0;
        if (!rc && print) {
            for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
            printf("\n");
        } else if (!rc) {
            printf("%zu bytes, %zu tokens (%.3f bytes/token), %.1f MB/s\n", len, n,
                   n ? (double)len / n : 0.0, dt > 0 ? len / dt / 1e6 : 0.0);
        }
    }
    free(ids);
    free(text);
    tok_free(&tok);
    return rc ? 1 : 0;
}
