// w2v: planted analogies found after training (skip-gram and CBOW, one thread, fixed seed),
// reproducibility, text and binary round trips, the questions-words score and the errors
// malformed files get.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "w2v/w2v.h"
#include "test.h"

static char tmpdir[256];
static char *tpath(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

// Two families of words built as id + type: countryI / capitalI (I = 0..11) and maleJ /
// femaleJ (J = 0..9). A sentence holds one such word, two words private to its id and two
// private to its type, in random order. "countryA capitalA countryB capitalB" is then an
// analogy the vectors can only solve by the planted structure.
#define NC 12
#define NG 10
static const char *types[4] = {"country", "capital", "male", "female"};

static char *planted_corpus(size_t *len, int reps, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    size_t cap = 1 << 20, n = 0;
    char *t = xmalloc(cap);
    for (int rep = 0; rep < reps; rep++)
        for (int ty = 0; ty < 4; ty++) {
            int fam = ty / 2, N = fam ? NG : NC;
            for (int i = 0; i < N; i++) {
                char w[5][32];
                snprintf(w[0], 32, "%s%d", types[ty], i);
                snprintf(w[1], 32, "id%c%d_%d", 'a' + fam, i, rng_below(&r, 3));
                snprintf(w[2], 32, "id%c%d_%d", 'a' + fam, i, rng_below(&r, 3));
                snprintf(w[3], 32, "ty%s_%d", types[ty], rng_below(&r, 3));
                snprintf(w[4], 32, "ty%s_%d", types[ty], rng_below(&r, 3));
                for (int k = 4; k > 0; k--) {   // shuffle
                    int j = rng_below(&r, k + 1);
                    char x[32];
                    memcpy(x, w[k], 32); memcpy(w[k], w[j], 32); memcpy(w[j], x, 32);
                }
                if (n + 200 > cap) t = realloc(t, cap *= 2);
                n += snprintf(t + n, cap - n, "%s %s %s %s %s\n", w[0], w[1], w[2], w[3], w[4]);
            }
        }
    *len = n;
    return t;
}

static void write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "w");
    fputs(s, f);
    fclose(f);
}

// Every ordered pair within a family, in sections named like questions-words.txt's.
static int write_questions(const char *path) {
    FILE *f = fopen(path, "w");
    int n = 0;
    fprintf(f, ": capital-common-countries\n");
    for (int a = 0; a < NC; a++)
        for (int b = 0; b < NC; b++)
            if (a != b) { fprintf(f, "Country%d capital%d country%d Capital%d\n", a, a, b, b); n++; }
    fprintf(f, ": gram-planted-gender\n");
    for (int a = 0; a < NG; a++)
        for (int b = 0; b < NG; b++)
            if (a != b) { fprintf(f, "male%d female%d male%d female%d\n", a, a, b, b); n++; }
    fprintf(f, ": absent\nfoo bar baz qux\n");
    fclose(f);
    return n;
}

static W2VConfig small_config(int cbow) {
    W2VConfig c;
    w2v_config_default(&c);
    c.size = 32; c.window = 5; c.negative = 5; c.sample = 0; c.min_count = 1; c.iter = 10;
    c.cbow = cbow; c.threads = 1; c.seed = 42;
    return c;
}

static void check_planted(int cbow) {
    size_t len;
    char *text = planted_corpus(&len, 150, 7);
    W2VConfig c = small_config(cbow);
    W2VModel m;
    W2VStats st;
    double t0 = now_sec();
    CHECK(w2v_train_text(text, len, "planted", &c, &m, &st) == 0, "%s", em_errmsg());
    double sec = now_sec() - t0;
    CHECK(!strcmp(m.words[0], W2V_EOS), "first word %s", m.words[0]);
    for (int i = 2; i < m.V; i++) CHECK(m.counts[i - 1] >= m.counts[i], "not sorted at %d", i);
    int nq = write_questions(tpath("q.txt"));
    W2VEvalResult r;
    CHECK(w2v_eval_questions(&m, tpath("q.txt"), 0, 1, &r) == 0, "%s", em_errmsg());
    printf("   %s: %d words, %.2fs, %.0f words/s; planted analogies %d / %d (semantic %d / %d, "
           "syntactic %d / %d), seen %d / %d\n", cbow ? "cbow" : "skip-gram", m.V, sec,
           st.words_per_sec_thread, r.correct, r.seen, r.sem_correct, r.sem_seen, r.syn_correct,
           r.syn_seen, r.seen, r.total);
    CHECK(r.n_sec == 3 && r.total == nq + 1 && r.seen == nq, "%d sections, %d / %d seen", r.n_sec, r.seen, r.total);
    CHECK(r.sec[0].semantic && !r.sec[1].semantic, "semantic flags");
    CHECK(r.sem_seen == NC * (NC - 1) && r.syn_seen == NG * (NG - 1), "%d %d", r.sem_seen, r.syn_seen);
    CHECK(r.correct * 10 >= r.seen * 7, "planted analogies found top-1: %d / %d", r.correct, r.seen);
    CHECK(r.sec[0].correct * 2 > r.sec[0].seen && r.sec[1].correct * 2 > r.sec[1].seen, "per family: %d, %d",
          r.sec[0].correct, r.sec[1].correct);
    // case sensitive: the capitalised words are not found
    W2VEvalResult r2;
    CHECK(w2v_eval_questions(&m, tpath("q.txt"), 0, 0, &r2) == 0, "%s", em_errmsg());
    CHECK(r2.sec[0].seen == 0 && r2.sec[1].seen == NG * (NG - 1), "case sensitive: %d %d", r2.sec[0].seen, r2.sec[1].seen);
    w2v_eval_free(&r2);
    // restricted to the 10 most frequent words: nothing planted is among them
    CHECK(w2v_eval_questions(&m, tpath("q.txt"), 10, 1, &r2) == 0, "%s", em_errmsg());
    CHECK(r2.seen == 0, "restricted: %d seen", r2.seen);
    w2v_eval_free(&r2);
    w2v_eval_free(&r);
    // one direct analogy and a neighbour
    float *N = w2v_normalized(&m);
    int a = w2v_find(&m, "country0"), b = w2v_find(&m, "capital0"), cc = w2v_find(&m, "country1");
    int id[3];
    float sim[3];
    CHECK(w2v_analogy(&m, N, 0, a, b, cc, 3, id, sim) == 3, "analogy");
    CHECK(id[0] != a && id[0] != b && id[0] != cc && sim[0] >= sim[1] && sim[1] >= sim[2], "order");
    free(N);
    w2v_free(&m);
    free(text);
}

static void test_planted_skipgram(void) { check_planted(0); }
static void test_planted_cbow(void) { check_planted(1); }

static void test_reproducible(void) {
    size_t len;
    char *text = planted_corpus(&len, 20, 3);
    W2VConfig c = small_config(0);
    c.sample = 1e-2f;
    W2VModel a, b;
    CHECK(w2v_train_text(text, len, "t", &c, &a, NULL) == 0, "%s", em_errmsg());
    CHECK(w2v_train_text(text, len, "t", &c, &b, NULL) == 0, "%s", em_errmsg());
    CHECK(a.V == b.V && !memcmp(a.vec, b.vec, (size_t)a.V * a.dim * sizeof(float)), "same seed, 1 thread: identical");
    w2v_free(&b);
    c.seed = 43;
    CHECK(w2v_train_text(text, len, "t", &c, &b, NULL) == 0, "%s", em_errmsg());
    CHECK(memcmp(a.vec, b.vec, (size_t)a.V * a.dim * sizeof(float)), "another seed: different");
    w2v_free(&b);
    c.threads = 2;   // runs; not bit-reproducible, so only sanity
    W2VStats st;
    CHECK(w2v_train_text(text, len, "t", &c, &b, &st) == 0, "%s", em_errmsg());
    CHECK(st.threads == 2 && st.words_done == st.corpus_words * c.iter, "%d threads, %lld of %lld", st.threads,
          (long long)st.words_done, (long long)(st.corpus_words * c.iter));
    for (size_t i = 0; i < (size_t)b.V * b.dim; i++)
        if (!isfinite(b.vec[i])) { CHECK(0, "non-finite"); break; }
    w2v_free(&a); w2v_free(&b);
    free(text);
}

static void test_vocab(void) {
    const char *t = "a b a c a b\r\nd a\n\n  b\ta";
    W2VConfig c = small_config(0);
    c.min_count = 2; c.iter = 1;
    W2VModel m;
    CHECK(w2v_train_text(t, strlen(t), "v", &c, &m, NULL) == 0, "%s", em_errmsg());
    // </s> first (3 newlines), then a (5), b (3); c and d dropped
    CHECK(m.V == 3, "V=%d", m.V);
    if (m.V == 3) {
        CHECK(!strcmp(m.words[0], "</s>") && m.counts[0] == 3, "%s %lld", m.words[0], (long long)m.counts[0]);
        CHECK(!strcmp(m.words[1], "a") && m.counts[1] == 5, "%s %lld", m.words[1], (long long)m.counts[1]);
        CHECK(!strcmp(m.words[2], "b") && m.counts[2] == 3, "%s", m.words[2]);
    }
    CHECK(w2v_find(&m, "c") == -1 && w2v_find(&m, "b") == 2, "find");
    w2v_free(&m);
    c.min_count = 100;
    CHECK(w2v_train_text(t, strlen(t), "tiny.txt", &c, &m, NULL) == -1 && strstr(em_errmsg(), "tiny.txt")
          && strstr(em_errmsg(), "min-count"), "%s", em_errmsg());
    c.min_count = 1; c.negative = 0;
    CHECK(w2v_train_text(t, strlen(t), "x", &c, &m, NULL) == -1 && strstr(em_errmsg(), "negative"), "%s", em_errmsg());
    CHECK(w2v_train_file(tpath("missing.txt"), &c, &m, NULL) == -1, "missing file");
}

static void test_save_load_round_trip(void) {
    size_t len;
    char *text = planted_corpus(&len, 5, 1);
    W2VConfig c = small_config(0);
    c.iter = 1;
    W2VModel m, t, b;
    CHECK(w2v_train_text(text, len, "t", &c, &m, NULL) == 0, "%s", em_errmsg());
    CHECK(w2v_save(&m, tpath("v.txt"), 0) == 0, "%s", em_errmsg());
    CHECK(w2v_save(&m, tpath("v.bin"), 1) == 0, "%s", em_errmsg());
    CHECK(w2v_path_is_binary(tpath("v.bin")) && !w2v_path_is_binary(tpath("v.txt")), "by name");
    CHECK(w2v_load(tpath("v.txt"), 0, &t) == 0, "%s", em_errmsg());
    CHECK(w2v_load(tpath("v.bin"), 1, &b) == 0, "%s", em_errmsg());
    CHECK(t.V == m.V && t.dim == m.dim && b.V == m.V && b.dim == m.dim, "shape");
    int same_w = 1;
    for (int i = 0; i < m.V && t.V == m.V && b.V == m.V; i++)
        same_w &= !strcmp(m.words[i], t.words[i]) && !strcmp(m.words[i], b.words[i]);
    CHECK(same_w, "words");
    size_t n = (size_t)m.V * m.dim;
    CHECK(t.V == m.V && !memcmp(m.vec, t.vec, n * sizeof(float)), "text round trip exact (%%.9g)");
    CHECK(b.V == m.V && !memcmp(m.vec, b.vec, n * sizeof(float)), "binary round trip exact");
    CHECK(w2v_find(&b, "capital3") == w2v_find(&m, "capital3"), "lookup after load");
    // the binary layout: header, then "word " + dim floats + "\n"
    size_t bl;
    char *raw = read_file(tpath("v.bin"), &bl);
    char hdr[32];
    int hn = snprintf(hdr, sizeof hdr, "%d %d\n", m.V, m.dim);
    size_t expect = hn;
    for (int i = 0; i < m.V; i++) expect += strlen(m.words[i]) + 1 + m.dim * 4 + 1;
    CHECK(raw && !memcmp(raw, hdr, hn) && bl == expect, "binary size %zu, expected %zu", bl, expect);
    CHECK(raw && !memcmp(raw + hn, "</s> ", 5) && !memcmp(raw + hn + 5, m.vec, m.dim * 4)
          && raw[hn + 5 + m.dim * 4] == '\n', "first entry layout");
    free(raw);
    w2v_free(&m); w2v_free(&t); w2v_free(&b);
    free(text);
}

static void expect_load_error(const char *name, const char *content, int binary, const char *want) {
    write_text(tpath(name), content);
    W2VModel m;
    int rc = w2v_load(tpath(name), binary, &m);
    CHECK(rc == -1 && strstr(em_errmsg(), want), "%s: rc %d, '%s' (wanted '%s')", name, rc, rc ? em_errmsg() : "", want);
    if (!rc) w2v_free(&m);
}

static void test_malformed_vectors(void) {
    expect_load_error("h1.txt", "hello world\na 1 2\n", 0, "h1.txt:1: expected a header");
    expect_load_error("h2.txt", "2\na 1 2\n", 0, "h2.txt:1:");
    expect_load_error("h3.txt", "0 2\n", 0, "h3.txt:1:");
    expect_load_error("short.txt", "2 2\na 1 2\nb 3\n", 0, "short.txt:3: 'b' has 1 values, the header says 2");
    expect_load_error("long.txt", "2 2\na 1 2\nb 3 4 5\n", 0, "long.txt:3: 'b' has more than");
    expect_load_error("nan.txt", "2 2\na 1 2\nb 3 x4\n", 0, "nan.txt:3: value 2 of 'b' is not a finite number");
    expect_load_error("few.txt", "3 2\na 1 2\nb 3 4\n            \n", 0, "few.txt:");
    expect_load_error("more.txt", "1 2\na 1 2\nb 3 4\n", 0, "more.txt:3: more lines");
    char bin[64];
    int n = snprintf(bin, sizeof bin, "2 2\nab ");
    float v[2] = {1, 2};
    memcpy(bin + n, v, 8);
    n += 8;
    bin[n++] = '\n';
    memcpy(bin + n, "cd ", 3);
    n += 3;
    memcpy(bin + n, v, 4);   // half a vector
    n += 4;
    FILE *f = fopen(tpath("trunc.bin"), "wb");
    fwrite(bin, 1, n, f);
    fclose(f);
    W2VModel m;
    CHECK(w2v_load(tpath("trunc.bin"), 1, &m) == -1 && strstr(em_errmsg(), "trunc.bin: truncated in the vector of 'cd'"),
          "%s", em_errmsg());
    CHECK(w2v_load(tpath("nonexistent.txt"), 0, &m) == -1, "missing");
    // the well-formed prefix loads
    f = fopen(tpath("ok.bin"), "wb");
    fwrite(bin, 1, n - 7, f);
    fclose(f);
    FILE *g = fopen(tpath("ok.bin"), "r+b");
    fprintf(g, "1 2\n");
    fclose(g);
    CHECK(w2v_load(tpath("ok.bin"), 1, &m) == 0 && m.V == 1 && !strcmp(m.words[0], "ab") && m.vec[1] == 2.0f,
          "%s", em_errmsg());
    w2v_free(&m);
}

static void test_malformed_questions(void) {
    const char *t = "a b a c\nb c a b\n";
    W2VConfig c = small_config(0);
    c.iter = 1; c.size = 4;
    W2VModel m;
    CHECK(w2v_train_text(t, strlen(t), "v", &c, &m, NULL) == 0, "%s", em_errmsg());
    W2VEvalResult r;
    write_text(tpath("bad1.txt"), ": sec\na b c a\na b c\n");
    CHECK(w2v_eval_questions(&m, tpath("bad1.txt"), 0, 1, &r) == -1
          && strstr(em_errmsg(), "bad1.txt:3: expected a question of 4 words") && strstr(em_errmsg(), "got 3"),
          "%s", em_errmsg());
    write_text(tpath("bad2.txt"), ": sec one\n");
    CHECK(w2v_eval_questions(&m, tpath("bad2.txt"), 0, 1, &r) == -1 && strstr(em_errmsg(), "bad2.txt:1:"),
          "%s", em_errmsg());
    write_text(tpath("bad3.txt"), "\n\n: sec\na b c a x\n");
    CHECK(w2v_eval_questions(&m, tpath("bad3.txt"), 0, 1, &r) == -1 && strstr(em_errmsg(), "bad3.txt:4:"),
          "%s", em_errmsg());
    CHECK(w2v_eval_questions(&m, tpath("none.txt"), 0, 1, &r) == -1, "missing file");
    write_text(tpath("good.txt"), "a b c a\n: s2\nA B C A\nb c a zz\n");
    CHECK(w2v_eval_questions(&m, tpath("good.txt"), 0, 1, &r) == 0, "%s", em_errmsg());
    CHECK(r.n_sec == 2 && r.total == 3 && r.seen == 2 && !strcmp(r.sec[0].name, "(no section)")
          && !strcmp(r.sec[1].name, "s2"), "%d %d %d", r.n_sec, r.total, r.seen);
    w2v_eval_free(&r);
    w2v_free(&m);
}

// questions-words.txt from ../shared, when there: parses, 19544 questions in 14 sections.
static void test_questions_words_file(void) {
    const char *p = "../shared/data/word2vec/questions-words.txt";
    if (access(p, R_OK) != 0) p = "/work/shared/data/word2vec/questions-words.txt";
    if (access(p, R_OK) != 0) { printf("   (skipped: no questions-words.txt)\n"); return; }
    W2VModel m = {.V = 4, .dim = 2};
    const char *w[4] = {"athens", "greece", "baghdad", "iraq"};
    m.words = xmalloc(4 * sizeof(char *));
    for (int i = 0; i < 4; i++) m.words[i] = strdup(w[i]);
    m.vec = xcalloc(8, sizeof(float));
    float v[8] = {1, 0, 1, 1, 0, 1, 0, 2};   // greece - athens + baghdad = (0, 2) = iraq
    memcpy(m.vec, v, sizeof v);
    w2v_build_hash(&m);
    W2VEvalResult r;
    CHECK(w2v_eval_questions(&m, p, 30000, 1, &r) == 0, "%s", em_errmsg());
    CHECK(r.total == 19544 && r.n_sec == 14, "%d questions, %d sections", r.total, r.n_sec);
    int sem = 0;
    for (int i = 0; i < r.n_sec; i++) sem += r.sec[i].semantic;
    CHECK(sem == 5 && r.sec[0].semantic && !r.sec[5].semantic, "5 semantic sections, got %d", sem);
    CHECK(r.seen >= 1 && r.correct >= 1 && r.syn_seen == 0, "seen %d correct %d", r.seen, r.correct);
    w2v_eval_free(&r);
    w2v_free(&m);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/test_w2v.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    RUN(test_vocab);
    RUN(test_save_load_round_trip);
    RUN(test_malformed_vectors);
    RUN(test_malformed_questions);
    RUN(test_reproducible);
    RUN(test_planted_skipgram);
    RUN(test_planted_cbow);
    RUN(test_questions_words_file);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return test_summary();
}
