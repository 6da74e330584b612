// emergent bpe train: a byte-level BPE (GPT-2's pattern) trained on a text, written as
// vocab.json + merges.txt.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/core.h"
#include "tokenizer/tokenizer.h"

static void show_progress(void *ctx, int done, int total) {
    cli_progress(ctx, "bpe train", done, total, "tokens", NULL);
}

static int bpe_cmd_train(int argc, char **argv) {
    const char *data = NULL, *out = NULL;
    int vocab = 4096, quiet = 0;
    ArgSpec specs[] = {
        {"--data", ARG_STR, &data, "training text (any bytes)"},
        {"--vocab-size", ARG_INT, &vocab, "tokens: 256 bytes, the merges, <|endoftext|>", 257, 1 << 24},
        {"--out", ARG_STR, &out, "directory for vocab.json and merges.txt"},
        {"--quiet", ARG_FLAG, &quiet, "no progress line"},
        {NULL},
    };
    int rc = args_parse("bpe train", "--data FILE --vocab-size N --out DIR", specs, argc, argv,
                        NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    if (!data) { em_error("--data FILE is required"); return 1; }
    if (!out) { em_error("--out DIR is required"); return 1; }
    size_t len;
    char *text = read_file(data, &len);
    if (!text) return 1;
    Tokenizer tok;
    CliProgress bar;
    cli_progress_begin(&bar, stderr);
    double t0 = now_sec();
    rc = tok_train_bpe(&tok, text, len, vocab, data, quiet ? NULL : show_progress, &bar);
    cli_progress_end(&bar);
    double dt = now_sec() - t0;
    if (!rc) rc = tok_save_bpe(&tok, out);
    if (!rc) {
        int *ids;
        size_t n;
        tok_encode(&tok, text, len, &ids, &n, data);
        printf("%d tokens in %.1fs: %s/vocab.json, %s/merges.txt; %s: %zu bytes -> %zu tokens "
               "(%.2f bytes/token)\n", tok.vocab_size, dt, out, out, data, len, n,
               n ? (double)len / n : 0.0);
        if (tok.vocab_size < vocab)
            printf("note: %d of %d tokens: no pair left to merge\n", tok.vocab_size, vocab);
        free(ids);
    }
    tok_free(&tok);
    free(text);
    return rc ? 1 : 0;
}

int cmd_bpe(int argc, char **argv) {
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        printf("usage: emergent bpe train --data FILE --vocab-size N --out DIR\n\n"
               "  train   a byte-level BPE with GPT-2's pre-tokenisation: merges by pair\n"
               "          frequency (ties: the smaller left id, then right id), written as\n"
               "          vocab.json + merges.txt (train --tokenizer DIR reads them)\n");
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "train")) return bpe_cmd_train(argc - 1, argv + 1);
    em_error("bpe: unknown subcommand '%s' (see emergent bpe --help)", argv[0]);
    return 1;
}
