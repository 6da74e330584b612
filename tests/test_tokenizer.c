// The char-level tokenizer: vocabulary, round trips, UTF-8, JSON, errors; byte-level BPE:
// GPT-2's pieces and ids, round trips of any bytes, training, files and their errors.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "test.h"
#include "tokenizer/bpe_impl.h"
#include "tokenizer/tokenizer.h"

static void test_build_and_round_trip(void) {
    const char *text = "hello, world\nÀ bientôt — 東京!";
    Tokenizer t;
    CHECK(tok_build_char(&t, text, strlen(text), "text") == 0, "%s", em_errmsg());
    // distinct code points: h e l o , space w r d \n À b i n t ô — 東 京 !
    CHECK(t.vocab_size == 20, "vocab %d", t.vocab_size);
    for (int i = 1; i < t.vocab_size; i++) CHECK(t.chars[i - 1] < t.chars[i], "not sorted at %d", i);
    int *ids;
    size_t n;
    CHECK(tok_encode(&t, text, strlen(text), &ids, &n, "text") == 0, "%s", em_errmsg());
    char *back = tok_decode(&t, ids, n);
    CHECK(strcmp(back, text) == 0, "round trip: %s", back);
    CHECK(n == 28, "token count %zu", n);
    free(back);
    free(ids);
    char *json = tok_to_json(&t);
    Tokenizer u;
    CHECK(tok_from_json(&u, json, "json") == 0, "%s", em_errmsg());
    CHECK(u.vocab_size == t.vocab_size && memcmp(u.chars, t.chars, t.vocab_size * 4) == 0,
          "JSON round trip changed the vocabulary");
    free(json);
    tok_free(&u);
    tok_free(&t);
}

static void test_bad_input(void) {
    Tokenizer t;
    tok_build_char(&t, "abc", 3, "text");
    int *ids;
    size_t n;
    CHECK(tok_encode(&t, "abz", 3, &ids, &n, "prompt") != 0, "unknown char accepted");
    CHECK(strstr(em_errmsg(), "'z'") && strstr(em_errmsg(), "byte 2") && strstr(em_errmsg(), "prompt"),
          "message: %s", em_errmsg());
    Tokenizer bad;
    CHECK(tok_build_char(&bad, "a\xff" "b", 3, "bad.txt") != 0, "invalid UTF-8 accepted");
    CHECK(strstr(em_errmsg(), "bad.txt") && strstr(em_errmsg(), "byte 1"), "message: %s", em_errmsg());
    Tokenizer u;
    CHECK(tok_build_char(&u, "", 0, "empty.txt") != 0, "empty text accepted");
    CHECK(tok_from_json(&u, "{\"type\":\"bpe\"}", "m.st") != 0, "wrong type accepted");
    CHECK(tok_from_json(&u, "{\"type\":\"char\",\"chars\":\"aab\"}", "m.st") != 0, "repeats accepted");
    CHECK(tok_from_json(&u, "not json", "m.st") != 0, "garbage accepted");
    CHECK(strstr(em_errmsg(), "m.st"), "message: %s", em_errmsg());
    tok_free(&t);
}

// U+0000 cannot be stored (the vocabulary is a JSON string, which cJSON ends at a NUL):
// refused when the vocabulary is built, naming the character and where it is, instead
// of a tokenizer that saves and then does not load.
static void test_nul_refused(void) {
    Tokenizer t;
    em_clear_error();
    int rc = tok_build_char(&t, "ab\0c", 4, "corpus.txt");
    CHECK(rc == -1, "a NUL character was accepted");
    if (rc == 0) {  // what used to happen: the saved tokenizer does not load back
        char *json = tok_to_json(&t);
        Tokenizer u;
        CHECK(tok_from_json(&u, json, "m.st") == 0 && u.vocab_size == t.vocab_size,
              "saved tokenizer does not load back: %s", em_errmsg());
        tok_free(&u);
        free(json);
        tok_free(&t);
        return;
    }
    CHECK(strstr(em_errmsg(), "corpus.txt") && strstr(em_errmsg(), "U+0000") &&
          strstr(em_errmsg(), "byte 2"), "message: %s", em_errmsg());
    CHECK(t.chars == NULL && t.vocab_size == 0, "output not cleared");
    // other control characters round trip through JSON
    CHECK(tok_build_char(&t, "a\x01\x1f\x7f", 4, "corpus.txt") == 0, "%s", em_errmsg());
    char *json = tok_to_json(&t);
    Tokenizer u;
    CHECK(tok_from_json(&u, json, "m.st") == 0 && u.vocab_size == 4 &&
          !memcmp(u.chars, t.chars, 16), "control characters: %s", em_errmsg());
    free(json);
    tok_free(&u);
    tok_free(&t);
}

// ids are positions in the stored string: a string out of order would give every id
// another character than the one the model was trained on.
static void test_stored_order(void) {
    Tokenizer u;
    em_clear_error();
    CHECK(tok_from_json(&u, "{\"type\":\"char\",\"vocab_size\":3,\"chars\":\"acb\"}", "m.st") == -1,
          "characters out of order accepted");
    CHECK(strstr(em_errmsg(), "m.st") && strstr(em_errmsg(), "tokenizer.chars") &&
          strstr(em_errmsg(), "'b' (U+0062) at position 2 after 'c' (U+0063)") &&
          strstr(em_errmsg(), "ascending"), "message: %s", em_errmsg());
    CHECK(u.chars == NULL && u.vocab_size == 0, "output not cleared");
    CHECK(tok_from_json(&u, "{\"type\":\"char\",\"chars\":\"\u00e9a\"}", "m.st") == -1,
          "characters out of order accepted");
    CHECK(tok_from_json(&u, "{\"type\":\"char\",\"chars\":\"abbc\"}", "m.st") == -1 &&
          strstr(em_errmsg(), "repeated character 'b' (U+0062) at position 2"), "repeat: %s", em_errmsg());
    CHECK(tok_from_json(&u, "{\"type\":\"char\",\"vocab_size\":3,\"chars\":\"\\nA\u00e9\"}",
                        "m.st") == 0 && u.vocab_size == 3 && u.chars[0] == '\n' &&
          u.chars[2] == 0xE9, "ascending refused: %s", em_errmsg());
    tok_free(&u);
}

static void test_utf8(void) {
    uint32_t cp;
    CHECK(utf8_decode((const unsigned char *)"\xc0\x80", 2, &cp) == 0, "overlong accepted");
    CHECK(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 0, "surrogate accepted");
    CHECK(utf8_decode((const unsigned char *)"\xe6\x9d", 2, &cp) == 0, "truncated accepted");
    CHECK(utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1F600, "emoji");
    char b[8];
    CHECK(utf8_encode(0x1F600, b) == 4 && !memcmp(b, "\xf0\x9f\x98\x80", 4), "encode emoji");
}


// ---- byte-level BPE -------------------------------------------------------------

// The pieces of GPT-2's pattern, joined by '|', into out.
static void pieces(const char *s, char *out) {
    size_t len = strlen(s), o = 0;
    for (size_t i = 0; i < len;) {
        size_t j = pretok_next((const unsigned char *)s, len, i);
        if (i) out[o++] = '|';
        memcpy(out + o, s + i, j - i);
        o += j - i;
        i = j;
    }
    out[o] = 0;
}

// Each alternative of 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// as Python's regex module (GPT-2's encoder.py) splits these strings.
static void test_gpt2_pieces(void) {
    static const char *cases[][2] = {
        {"Hello world", "Hello| world"},
        {"I'm don't we'll they've she'd it's you're", "I|'m| don|'t| we|'ll| they|'ve| she|'d| it|'s| you|'re"},
        {"DON'T 'S ''s", "DON|'|T| '|S| ''|s"},  // case-sensitive; a run of others takes both quotes
        {"a  b   c", "a| | b|  | c"},             // \s+(?!\S) leaves the last space to the word
        {"x \n\n y", "x| \n\n| y"},
        {"x\t\ny", "x|\t|\n|y"},                  // one space before a word: \s+ takes it alone
        {"end   ", "end|   "},                     // trailing white space: one piece
        {"abc123def 99", "abc|123|def| 99"},
        {"3.14 -42", "3|.|14| -|42"},
        {"caf\xc3\xa9 na\xc3\xafve e\xcc\x81", "caf\xc3\xa9| na\xc3\xafve| e|\xcc\x81"},  // U+0301 is a mark
        {"\xe6\x9d\xb1\xe4\xba\xac\xe3\x80\x82", "\xe6\x9d\xb1\xe4\xba\xac|\xe3\x80\x82"},
        {"hi \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!", "hi| \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!"},
        {"\xc2\xbd\xe2\x85\xab x", "\xc2\xbd\xe2\x85\xab| x"},  // No and Nl are numbers
        {"a\xc2\xa0\xc2\xa0" "b", "a|\xc2\xa0|\xc2\xa0|b"},  // white space, but only U+0020 leads a word
        // GPT-2's \s is White_Space: U+0085 is space, U+FEFF is not (JavaScript's \s differs)
        {"\xc2\x85\xc2\x85" "a", "\xc2\x85|\xc2\x85|a"},
        {"\xef\xbb\xbf\xef\xbb\xbf" "a", "\xef\xbb\xbf\xef\xbb\xbf|a"},
        // invalid UTF-8: each bad byte is one "other" character
        {"a\xff\xfe b\xc3", "a|\xff\xfe| b|\xc3"},
        {"' '", "'| '"},
    };
    char out[256];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pieces(cases[k][0], out);
        CHECK(!strcmp(out, cases[k][1]), "case %zu: \"%s\" -> \"%s\", expected \"%s\"", k,
              cases[k][0], out, cases[k][1]);
    }
}

static int ids_equal(const int *a, size_t n, const int *b, size_t m) {
    return n == m && (n == 0 || !memcmp(a, b, n * sizeof(int)));
}

// Ids that gpt-3-encoder (GPT-2's encoder in JavaScript) gives for the same strings.
static void test_gpt2_ids(void) {
    Tokenizer t;
    CHECK(tok_load_gpt2(&t) == 0, "%s", em_errmsg());
    if (t.kind != TOK_BPE) return;
    CHECK(t.vocab_size == 50257 && tok_eot(&t) == 50256, "vocab %d, eot %d", t.vocab_size, tok_eot(&t));
    static const struct { const char *s; int n, ids[16]; } cases[] = {
        {"Hello world", 2, {15496, 995}},
        {" the", 1, {262}},
        {"I'm don't", 4, {40, 1101, 836, 470}},
        {"   x", 3, {220, 220, 2124}},
        {"1234567", 3, {10163, 2231, 3134}},
        {"\xe6\x9d\xb1\xe4\xba\xac", 4, {30266, 109, 12859, 105}},
        {"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 5, {41840, 235, 8582, 237, 121}},
        {"<|endoftext|>", 7, {27, 91, 437, 1659, 5239, 91, 29}},  // text, not the special token
        {"Hello world, it's 2024!  \n\n  x", 12, {15496, 995, 11, 340, 338, 48609, 0, 220, 220, 628, 220, 2124}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int pass = 0; pass < 2; pass++) {  // the second from the cache
            int *ids;
            size_t n;
            CHECK(tok_encode(&t, cases[k].s, strlen(cases[k].s), &ids, &n, "s") == 0, "%s", em_errmsg());
            CHECK(ids_equal(ids, n, cases[k].ids, (size_t)cases[k].n), "case %zu pass %d: %zu ids, "
                  "first %d", k, pass, n, n ? ids[0] : -1);
            free(ids);
        }
    }
    char b[TOK_MAX_BYTES];
    CHECK(tok_decode_one(&t, 50256, b) == 13 && !memcmp(b, "<|endoftext|>", 13), "eot text");
    CHECK(tok_decode_one(&t, 50257, b) == 0 && tok_decode_one(&t, -1, b) == 0, "out of range");
    tok_free(&t);
}

// Bytes of ids decoded one by one, into a malloc'd buffer of *len bytes.
static char *decode_bytes(const Tokenizer *t, const int *ids, size_t n, size_t *len) {
    char *out = xmalloc(n * TOK_MAX_BYTES + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += tok_decode_one(t, ids[i], out + m);
    *len = m;
    return out;
}

// decode(encode(x)) == x for random byte strings: raw bytes, UTF-8 pieces, invalid and cut
// sequences, long runs (a long piece bypasses the cache).
static void test_bpe_round_trip(void) {
    Tokenizer t;
    CHECK(tok_load_gpt2(&t) == 0, "%s", em_errmsg());
    if (t.kind != TOK_BPE) return;
    static const char *bits[] = {"a", "e", " ", "  ", "\n", "'", "'s", "1", ",", "\xc3\xa9", "\xcc\x81",
                                 "\xe6\x9d\xb1", "\xf0\x9f\x91\x8d", "\xc2\x85", "\xff", "\xc3",
                                 "\xed\xa0\x80", "\0", "\xe2\x82"};
    Rng r;
    rng_seed(&r, 42);
    int bad = 0;
    for (int it = 0; it < 400; it++) {
        size_t len = 0, want = rng_below(&r, it % 50 == 0 ? 5000 : 300);
        char *x = xmalloc(want + 8);
        while (len < want) {
            if (rng_below(&r, 3) == 0) { x[len++] = (char)rng_below(&r, 256); continue; }
            const char *bit = bits[rng_below(&r, sizeof bits / sizeof bits[0])];
            size_t k = bit[0] ? strlen(bit) : 1;
            if (it % 50 == 1) bit = "z", k = 1;  // one long run of one letter
            memcpy(x + len, bit, k);
            len += k;
        }
        int *ids;
        size_t n, m;
        CHECK(tok_encode(&t, x, len, &ids, &n, "x") == 0, "%s", em_errmsg());
        char *back = decode_bytes(&t, ids, n, &m);
        if (m != len || memcmp(back, x, len)) bad++;
        for (size_t i = 0; i < n; i++) if (ids[i] < 0 || ids[i] >= 50256) bad++;
        char *joined = tok_decode(&t, ids, n);  // the NUL-terminated form holds the same bytes
        if (memcmp(joined, x, len) || joined[len]) bad++;
        free(joined);
        free(back);
        free(ids);
        free(x);
    }
    CHECK(bad == 0, "%d of 400 random byte strings did not round-trip", bad);
    tok_free(&t);
}

// Training: GPT-2's byte order, the merges by count with ties to the smaller ids, the files
// written and read back, the JSON of checkpoints, determinism.
static void test_bpe_train(void) {
    const char *text = "ab ab cd cd";
    Tokenizer t;
    CHECK(tok_train_bpe(&t, text, strlen(text), 260, "t.txt", NULL, NULL) == 0, "%s", em_errmsg());
    if (t.kind != TOK_BPE) return;
    // pairs seen twice: (a b) ids (64, 65), (c d) (66, 67), (space c) (220, 66): the smallest
    // ids first; then (space, cd) twice beats (space, ab) once
    CHECK(t.vocab_size == 260 && tok_eot(&t) == 259, "vocab %d eot %d", t.vocab_size, tok_eot(&t));
    CHECK(t.bpe->n_merges == 3, "merges %d", t.bpe->n_merges);
    char *m0 = bpe_token_string(t.bpe, t.bpe->merged[0]), *m1 = bpe_token_string(t.bpe, t.bpe->merged[1]),
         *m2 = bpe_token_string(t.bpe, t.bpe->merged[2]);
    CHECK(!strcmp(m0, "ab") && !strcmp(m1, "cd") && !strcmp(m2, "\xc4\xa0" "cd"), "merges %s, %s, %s",
          m0, m1, m2);
    free(m0); free(m1); free(m2);
    char b[TOK_MAX_BYTES];
    CHECK(tok_decode_one(&t, 0, b) == 1 && b[0] == '!' && tok_decode_one(&t, 188, b) == 1 && b[0] == 0,
          "byte ids are not GPT-2's order");
    tok_free(&t);

    // a larger text: files written, read back, equal to the tokenizer in memory and to the
    // one that went through a checkpoint's JSON; the same text trains the same tokenizer
    size_t len;
    char *shake = read_file("data/tinyshakespeare.txt", &len);
    CHECK(shake != NULL, "%s", em_errmsg());
    if (!shake) return;
    len = 200000;
    Tokenizer a, c, f, j;
    CHECK(tok_train_bpe(&a, shake, len, 600, "s", NULL, NULL) == 0, "%s", em_errmsg());
    CHECK(tok_train_bpe(&c, shake, len, 600, "s", NULL, NULL) == 0, "%s", em_errmsg());
    char *ja = tok_to_json(&a), *jc = tok_to_json(&c);
    CHECK(a.vocab_size == 600 && !strcmp(ja, jc), "training is not deterministic");
    char dir[] = "/tmp/test_tokenizer_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(tok_save_bpe(&a, dir) == 0, "%s", em_errmsg());
    CHECK(tok_open(&f, dir) == 0, "%s", em_errmsg());
    CHECK(tok_from_json(&j, ja, "m.st") == 0, "%s", em_errmsg());
    int *ia, *iff, *ij;
    size_t na, nf, nj;
    tok_encode(&a, shake, len, &ia, &na, "s");
    tok_encode(&f, shake, len, &iff, &nf, "s");
    tok_encode(&j, shake, len, &ij, &nj, "s");
    CHECK(f.vocab_size == 600 && ids_equal(ia, na, iff, nf), "read back from files: %zu vs %zu ids", na, nf);
    CHECK(ids_equal(ia, na, ij, nj), "read back from JSON: %zu vs %zu ids", na, nj);
    CHECK(na < len / 2, "600 tokens should halve the bytes: %zu tokens", na);
    size_t m;
    char *back = decode_bytes(&f, iff, nf, &m);
    CHECK(m == len && !memcmp(back, shake, len), "trained tokenizer: no round trip");
    char path[300];
    snprintf(path, sizeof path, "%s/vocab.json", dir); remove(path);
    snprintf(path, sizeof path, "%s/merges.txt", dir); remove(path);
    rmdir(dir);
    free(back); free(ia); free(iff); free(ij); free(ja); free(jc); free(shake);
    tok_free(&a); tok_free(&c); tok_free(&f); tok_free(&j);
    CHECK(tok_train_bpe(&a, "x", 1, 256, "s", NULL, NULL) == -1 && strstr(em_errmsg(), "257"),
          "vocab 256 accepted: %s", em_errmsg());
}

// Writes a file in dir; returns 0.
static int put(const char *dir, const char *name, const char *text) {
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return write_file_atomic(p, text, strlen(text));
}

// A minimal byte-level vocabulary (the 256 byte symbols) plus extra tokens, as vocab.json.
static char *vocab_json(const char *extra) {
    StrBuf s = {0};
    sb_puts(&s, "{");
    for (int b = 0; b < 256; b++) {
        char sym[8] = {0};
        utf8_encode(bpe_byte_cp(b), sym);
        sb_puts(&s, b ? "," : "");
        sb_json_string(&s, sym);
        sb_printf(&s, ":%d", b);
    }
    sb_puts(&s, extra);
    sb_puts(&s, "}");
    return s.p;
}

// Files that do not make a tokenizer: one error naming the file and the entry.
static void test_bpe_file_errors(void) {
    char dir[] = "/tmp/test_tokenizer_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    Tokenizer t;
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), dir) && strstr(em_errmsg(), "vocab.json"),
          "empty dir: %s", em_errmsg());
    char *v = vocab_json(",\"ab\":256");
    put(dir, "vocab.json", v);
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "merges.txt") && strstr(em_errmsg(), "missing"),
          "no merges: %s", em_errmsg());
    put(dir, "merges.txt", "#version: 0.2\na b\n");
    CHECK(tok_load_bpe(&t, dir) == 0 && t.vocab_size == 257, "good files: %s", em_errmsg());
    int *ids;
    size_t n;
    tok_encode(&t, "abc", 3, &ids, &n, "s");
    CHECK(n == 2 && ids[0] == 256 && ids[1] == 'c', "tiny tokenizer: %zu ids: %d %d", n,
          ids[0], n > 1 ? ids[1] : -1);
    free(ids);
    tok_free(&t);
    put(dir, "merges.txt", "#version: 0.2\na b\nab zz\n");
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "merges.txt: line 3") &&
          strstr(em_errmsg(), "\"zz\" is not in the vocabulary"), "unknown symbol: %s", em_errmsg());
    put(dir, "merges.txt", "#version: 0.2\na b\nb c\n");
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "line 3") &&
          strstr(em_errmsg(), "merged token is not in the vocabulary"), "bad result: %s", em_errmsg());
    put(dir, "merges.txt", "#version: 0.2\na b\na b\n");
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "line 3") && strstr(em_errmsg(), "repeats"),
          "repeat: %s", em_errmsg());
    put(dir, "merges.txt", "a  b\n");
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "line 1") && strstr(em_errmsg(), "one space"),
          "two spaces: %s", em_errmsg());
    free(v);
    v = vocab_json(",\"ab\":3");
    put(dir, "vocab.json", v);
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "vocab.json") && strstr(em_errmsg(), "\"ab\"")
          && strstr(em_errmsg(), "id 3"), "duplicate id: %s", em_errmsg());
    free(v);
    v = vocab_json(",\"ab\":\"x\"");
    put(dir, "vocab.json", v);
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "\"ab\"") && strstr(em_errmsg(), "integer id"),
          "string id: %s", em_errmsg());
    free(v);
    put(dir, "vocab.json", "{\"a\":0,\"b\":1}");
    CHECK(tok_load_bpe(&t, dir) == -1 && strstr(em_errmsg(), "vocab.json") && strstr(em_errmsg(), "256"),
          "no byte tokens: %s", em_errmsg());
    CHECK(tok_from_json(&t, "{\"type\":\"bpe\",\"pattern\":\"gpt2\",\"merges\":[]}", "m.st") == -1 &&
          strstr(em_errmsg(), "m.st: tokenizer.vocab"), "json without vocab: %s", em_errmsg());
    CHECK(tok_from_json(&t, "{\"type\":\"bpe\",\"pattern\":\"llama\"}", "m.st") == -1 &&
          strstr(em_errmsg(), "tokenizer.pattern"), "json pattern: %s", em_errmsg());
    char p[300];
    snprintf(p, sizeof p, "%s/vocab.json", dir); remove(p);
    snprintf(p, sizeof p, "%s/merges.txt", dir); remove(p);
    rmdir(dir);
}

// Encoding speed on Shakespeare (the bench measures it; here a floor far below it).
static void test_bpe_speed(void) {
    size_t len;
    char *text = read_file("data/tinyshakespeare.txt", &len);
    Tokenizer t;
    if (!text || tok_load_gpt2(&t)) { CHECK(0, "%s", em_errmsg()); free(text); return; }
    double t0 = now_sec();
    int *ids;
    size_t n;
    tok_encode(&t, text, len, &ids, &n, "s");
    double dt = now_sec() - t0;
    CHECK(n == 338025, "Shakespeare in GPT-2 tokens: %zu", n);
    CHECK(len / dt > 0.5e6, "%.2f MB/s", len / dt / 1e6);
    free(ids);
    free(text);
    tok_free(&t);
}

int main(void) {
    RUN(test_build_and_round_trip);
    RUN(test_bad_input);
    RUN(test_utf8);
    RUN(test_nul_refused);
    RUN(test_stored_order);
    RUN(test_gpt2_pieces);
    RUN(test_gpt2_ids);
    RUN(test_bpe_round_trip);
    RUN(test_bpe_train);
    RUN(test_bpe_file_errors);
    RUN(test_bpe_speed);
    return test_summary();
}
