// The char-level tokenizer: vocabulary, round trips, UTF-8, JSON, errors.
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "test.h"
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

int main(void) {
    RUN(test_build_and_round_trip);
    RUN(test_bad_input);
    RUN(test_utf8);
    RUN(test_nul_refused);
    RUN(test_stored_order);
    return test_summary();
}
