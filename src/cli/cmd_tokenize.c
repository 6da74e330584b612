// emergent tokenize: text -> token ids with a BPE tokenizer (GPT-2's or one from a directory),
// ids -> text, and text files -> token shards (llm.c's format) for train --data DIR.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/core.h"
#include "data/data.h"
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

static void shard_progress(void *ctx, size_t done, size_t total, size_t tokens) {
    char extra[64];
    snprintf(extra, sizeof extra, "%zu tokens", tokens);
    cli_progress(ctx, "tokenize", done / 1e6, total / 1e6, "MB", extra);
}

// --data FILES... --out DIR: the shards, and a summary line.
static int write_shards(const Tokenizer *tok, const char **files, int n, const char *out,
                        int64_t shard_size, float val_frac) {
    CliProgress bar;
    cli_progress_begin(&bar, stderr);
    ShardWriteConfig c = {.out_dir = out, .shard_tokens = (size_t)shard_size,
                          .val_frac = val_frac, .progress = shard_progress, .ctx = &bar};
    ShardWriteStats st;
    int rc = shards_write(&c, files, n, tok, &st);
    cli_progress_end(&bar);
    if (rc) return 1;
    printf("%s: %d shards (version %d, %s tokens), %zu tokens (%zu validation, in %s_val_000000.bin),"
           " %zu bytes in %.2f s: %.1f MB/s\n", out, st.n_shards, st.version,
           st.version == 1 ? "uint16" : "uint32", st.n_tokens, st.val_tokens, SHARD_PREFIX,
           st.bytes, st.seconds, st.seconds > 0 ? st.bytes / st.seconds / 1e6 : 0.0);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *spec = "gpt2", *input = NULL, *data = NULL, *out = NULL;
    int print = 0, decode = 0;
    int64_t shard_size = 100000000;
    float val_frac = 0.1f;
    const char *pos[4096];
    int n_pos = 0;
    ArgSpec specs[] = {
        {"--data", ARG_STR, &data, "text files to write as token shards (--data A.txt B.txt ...; each file is a document, after <|endoftext|>)"},
        {"--out", ARG_STR, &out, "directory for the shards of --data (llm.c's format: shard_val_000000.bin, shard_train_000001.bin, ...)"},
        {"--shard-size", ARG_I64, &shard_size, "tokens per shard", 1, 2147483647},
        {"--val-frac", ARG_FLOAT, &val_frac, "the first shard (validation, as llm.c's): the tokens of this fraction of the corpus's first bytes", 0, 0.9},
        {"--tokenizer", ARG_STR, &spec, "gpt2, or a directory with vocab.json + merges.txt (or encoder.json + vocab.bpe)"},
        {"--input", ARG_STR, &input, "file to read (default: standard input)"},
        {"--print", ARG_FLAG, &print, "print the ids, comma-separated (else a summary: bytes, tokens, speed)"},
        {"--decode", ARG_FLAG, &decode, "read ids (comma-separated) and write their bytes"},
        {NULL},
    };
    int rc = args_parse("tokenize", "--tokenizer gpt2|DIR [--print | --decode] < FILE  |  "
                        "--data FILES... --out DIR", specs, argc, argv, pos,
                        (int)(sizeof pos / sizeof pos[0]), &n_pos);
    if (rc) return rc > 0 ? 0 : 1;
    if (n_pos && !data) {
        em_error("%s: unexpected argument (text files go after --data)", pos[0]);
        return 1;
    }
    if (!data != !out) {
        em_error(data ? "--data: needs --out DIR for the shards" : "--out: needs --data FILES...");
        return 1;
    }
    if (!strcmp(spec, "char")) {
        em_error("--tokenizer char: the char tokenizer is built from a training text; give gpt2 "
                 "or a directory with vocab.json and merges.txt");
        return 1;
    }
    Tokenizer tok;
    if (tok_open(&tok, spec)) return 1;
    if (data) {
        const char *files[4097];
        files[0] = data;
        for (int i = 0; i < n_pos; i++) files[i + 1] = pos[i];
        rc = write_shards(&tok, files, n_pos + 1, out, shard_size, val_frac);
        tok_free(&tok);
        return rc;
    }
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
