// emergent w2v train|neighbors|analogy|eval: word2vec after the original word2vec.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/core.h"
#include "w2v/w2v.h"


static void show_progress(void *ctx, double done, double total, float alpha, double wps) {
    char extra[64];
    snprintf(extra, sizeof extra, "alpha %.6f, %.1fk words/s/thread", alpha, wps / 1000);
    cli_progress(ctx, "w2v train", done, total, "words", extra);
}

static int w2v_cmd_train(int argc, char **argv) {
    W2VConfig c;
    w2v_config_default(&c);
    const char *data = NULL, *out = NULL;
    int binary = 0, quiet = 0;
    int64_t seed = 1;
    ArgSpec specs[] = {
        {"--data", ARG_STR, &data, "training text: words split on spaces, a newline ends a sentence"},
        {"--out", ARG_STR, &out, "vectors file: word2vec text, or binary when it ends in .bin"},
        {"--binary", ARG_FLAG, &binary, "write the binary format whatever the name"},
        {"--size", ARG_INT, &c.size, "vector dimension", 1, 100000},
        {"--window", ARG_INT, &c.window, "max context distance (shrunk at random per word)", 1, 1000},
        {"--negative", ARG_INT, &c.negative, "negative samples per pair", 1, 1000},
        {"--sample", ARG_FLOAT, &c.sample, "subsampling threshold t (0: off)", 0, 1},
        {"--min-count", ARG_INT, &c.min_count, "drop words seen fewer times", 1, 1 << 30},
        {"--iter", ARG_INT, &c.iter, "passes over the corpus", 1, 100000},
        {"--alpha", ARG_FLOAT, &c.alpha, "starting learning rate (0: 0.025 skip-gram, 0.05 CBOW)", 0, 10},
        {"--cbow", ARG_FLAG, &c.cbow, "CBOW (mean of the context) instead of skip-gram"},
        {"--threads", ARG_INT, &c.threads, "hogwild threads (1 is reproducible; more are not)", 1, 1024},
        {"--seed", ARG_I64, &seed, "seed of the initial vectors and every sampling", 0, 9.2e18},
        {"--quiet", ARG_FLAG, &quiet, "no progress line"},
        {NULL},
    };
    int rc = args_parse("w2v train", "--data FILE --out VECTORS[.bin] [flags]", specs, argc, argv, NULL, 0, NULL);
    if (rc) return rc > 0 ? 0 : 1;
    if (!data) { em_error("w2v train: --data FILE is required"); return 1; }
    if (!out) { em_error("w2v train: --out VECTORS is required (.txt text, .bin binary)"); return 1; }
    c.seed = (uint64_t)seed;
    W2VModel m;
    W2VStats st;
    CliProgress bar;
    cli_progress_begin(&bar, stderr);
    if (!quiet) { c.progress = show_progress; c.progress_ctx = &bar; }
    rc = w2v_train_file(data, &c, &m, &st);
    cli_progress_end(&bar);
    if (rc) return 1;
    printf("vocabulary %d words, %lld corpus words, %s, %d threads, %.1fs, %.0f words/s/thread\n", m.V,
           (long long)st.corpus_words, c.cbow ? "cbow" : "skip-gram", st.threads, st.seconds,
           st.words_per_sec_thread);
    rc = w2v_save(&m, out, binary || w2v_path_is_binary(out));
    if (!rc) printf("vectors: %s\n", out);
    w2v_free(&m);
    return rc ? 1 : 0;
}

// The query commands share --vectors, --binary and the row limit.
typedef struct { const char *vectors; int binary, k, restrict_n, case_sensitive; } QueryOpts;

static int load_vectors(const QueryOpts *o, W2VModel *m) {
    if (!o->vectors) return em_error("--vectors FILE is required");
    return w2v_load(o->vectors, o->binary || w2v_path_is_binary(o->vectors), m);
}

static int word_index(const W2VModel *m, const char *w, const char *vec_path) {
    int i = w2v_find(m, w);
    if (i < 0) em_error("'%s' is not in the vocabulary of %s", w, vec_path);
    return i;
}

static int w2v_cmd_query(const char *name, int argc, char **argv) {
    int analogy = !strcmp(name, "analogy");
    QueryOpts o = {.k = 10};
    ArgSpec specs[] = {
        {"--vectors", ARG_STR, &o.vectors, "vectors file (word2vec text, or binary when .bin)"},
        {"--binary", ARG_FLAG, &o.binary, "read the binary format whatever the name"},
        {"--k", ARG_INT, &o.k, "results", 1, 100000},
        {"--restrict", ARG_INT, &o.restrict_n, "search the most frequent N words only (0: all)", 0, 1 << 30},
        {NULL},
    };
    const char *pos[3];
    int np = 0;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "w2v %s", name);
    int rc = args_parse(cmd, analogy ? "A B C --vectors FILE  (A is to B as C is to ?)" : "WORD --vectors FILE",
                        specs, argc, argv, pos, analogy ? 3 : 1, &np);
    if (rc) return rc > 0 ? 0 : 1;
    if (np != (analogy ? 3 : 1)) {
        em_error("%s: give %s", cmd, analogy ? "three words A B C" : "one word");
        return 1;
    }
    W2VModel m;
    if (load_vectors(&o, &m)) return 1;
    int w[3];
    for (int i = 0; i < np; i++)
        if ((w[i] = word_index(&m, pos[i], o.vectors)) < 0) { w2v_free(&m); return 1; }
    float *N = w2v_normalized(&m);
    int *ids = xmalloc(o.k * sizeof(int));
    float *sims = xmalloc(o.k * sizeof(float));
    int n = analogy ? w2v_analogy(&m, N, o.restrict_n, w[0], w[1], w[2], o.k, ids, sims)
                    : w2v_nearest(&m, N, o.restrict_n, N + (size_t)w[0] * m.dim, w, 1, o.k, ids, sims);
    if (analogy) printf("%s : %s :: %s : ?\n", pos[0], pos[1], pos[2]);
    else printf("nearest to %s\n", pos[0]);
    for (int i = 0; i < n; i++) printf("  %-24s %.4f\n", m.words[ids[i]], sims[i]);
    free(ids); free(sims); free(N);
    w2v_free(&m);
    return 0;
}

static double pct(int a, int b) { return b ? 100.0 * a / b : 0; }

static int w2v_cmd_eval(int argc, char **argv) {
    QueryOpts o = {.restrict_n = 30000};
    ArgSpec specs[] = {
        {"--vectors", ARG_STR, &o.vectors, "vectors file (word2vec text, or binary when .bin)"},
        {"--binary", ARG_FLAG, &o.binary, "read the binary format whatever the name"},
        {"--restrict", ARG_INT, &o.restrict_n, "answer among the most frequent N words (0: all)", 0, 1 << 30},
        {"--case-sensitive", ARG_FLAG, &o.case_sensitive, "match words as written (default: case folded, as compute-accuracy)"},
        {NULL},
    };
    const char *pos[1];
    int np = 0;
    int rc = args_parse("w2v eval", "questions-words.txt --vectors FILE", specs, argc, argv, pos, 1, &np);
    if (rc) return rc > 0 ? 0 : 1;
    if (np != 1) { em_error("w2v eval: give one questions file (questions-words.txt format)"); return 1; }
    W2VModel m;
    if (load_vectors(&o, &m)) return 1;
    W2VEvalResult r;
    double t0 = now_sec();
    if (w2v_eval_questions(&m, pos[0], o.restrict_n, !o.case_sensitive, &r)) { w2v_free(&m); return 1; }
    printf("%-28s %9s %9s %8s\n", "section", "correct", "seen", "top-1");
    for (int i = 0; i < r.n_sec; i++) {
        const W2VSection *s = &r.sec[i];
        printf("%-28s %9d %9d %7.2f%%\n", s->name, s->correct, s->seen, pct(s->correct, s->seen));
    }
    printf("%-28s %9d %9d %7.2f%%\n", "semantic", r.sem_correct, r.sem_seen, pct(r.sem_correct, r.sem_seen));
    printf("%-28s %9d %9d %7.2f%%\n", "syntactic", r.syn_correct, r.syn_seen, pct(r.syn_correct, r.syn_seen));
    printf("%-28s %9d %9d %7.2f%%\n", "total", r.correct, r.seen, pct(r.correct, r.seen));
    printf("questions seen / total: %d / %d  %.2f%%  (vocabulary restricted to %d words, %.1fs)\n", r.seen,
           r.total, pct(r.seen, r.total), o.restrict_n > 0 && o.restrict_n < m.V ? o.restrict_n : m.V,
           now_sec() - t0);
    w2v_eval_free(&r);
    w2v_free(&m);
    return 0;
}

int cmd_w2v(int argc, char **argv) {
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        printf("usage: emergent w2v <train|neighbors|analogy|eval> ...\n\n"
               "  train --data FILE --out VECTORS[.bin]   skip-gram (or --cbow) with negative sampling\n"
               "  neighbors WORD --vectors FILE           nearest words by cosine\n"
               "  analogy A B C --vectors FILE            A is to B as C is to ? (3CosAdd)\n"
               "  eval questions-words.txt --vectors FILE top-1 accuracy per section, semantic,\n"
               "                                          syntactic, total (as compute-accuracy)\n"
               "\nWith --threads 1 and a --seed training is reproducible; several threads update\n"
               "the vectors without locks (hogwild, as word2vec.c) and are not.\n");
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "train")) return w2v_cmd_train(argc - 1, argv + 1);
    if (!strcmp(argv[0], "neighbors") || !strcmp(argv[0], "neighbours"))
        return w2v_cmd_query("neighbors", argc - 1, argv + 1);
    if (!strcmp(argv[0], "analogy")) return w2v_cmd_query("analogy", argc - 1, argv + 1);
    if (!strcmp(argv[0], "eval")) return w2v_cmd_eval(argc - 1, argv + 1);
    em_error("w2v: unknown subcommand '%s' (see emergent w2v --help)", argv[0]);
    return 1;
}
