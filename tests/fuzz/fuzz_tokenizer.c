// libFuzzer target: a tokenizer's JSON (as stored in a checkpoint's __metadata__). An accepted
// tokenizer survives a round trip through tok_to_json, and encodes and decodes its own symbols;
// a BPE one also gives back the input's bytes, whatever they are. And GPT-2's tokenizer gives
// back every input's bytes.
#include <string.h>

#include "fuzz.h"
#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *js = malloc(size + 1);
    memcpy(js, data, size);
    js[size] = 0;
    static Tokenizer gpt2;
    if (gpt2.kind == TOK_NONE) FUZZ_CHECK(tok_load_gpt2(&gpt2) == 0);
    Tokenizer t;
    for (int k = 0; k < 2; k++) {  // GPT-2's, then an accepted BPE from the input
        const Tokenizer *b = k ? &t : &gpt2;
        if (k && tok_from_json(&t, js, "fuzz")) break;
        if (k && t.kind != TOK_BPE) { tok_free(&t); break; }
        int *ids = NULL;
        size_t n = 0, m = 0;
        FUZZ_CHECK(tok_encode(b, (const char *)data, size, &ids, &n, "fuzz") == 0 && n <= size);
        char *back = malloc(n * TOK_MAX_BYTES + 1);
        for (size_t i = 0; i < n; i++) m += (size_t)tok_decode_one(b, ids[i], back + m);
        FUZZ_CHECK(m == size && !memcmp(back, data, size));
        free(back);
        free(ids);
        if (k) {
            char *out = tok_to_json(&t);
            Tokenizer u;
            FUZZ_CHECK(tok_from_json(&u, out, "fuzz (round trip)") == 0 && u.vocab_size == t.vocab_size);
            tok_free(&u);
            free(out);
            tok_free(&t);
            free(js);
            return 0;
        }
    }
    if (!tok_from_json(&t, js, "fuzz")) {
        FUZZ_CHECK(t.kind == TOK_CHAR && t.vocab_size >= 1);
        for (int i = 1; i < t.vocab_size; i++) FUZZ_CHECK(t.chars[i - 1] < t.chars[i]);
        int *all = malloc((size_t)t.vocab_size * sizeof *all);
        for (int i = 0; i < t.vocab_size; i++) all[i] = i;
        char *text = tok_decode(&t, all, (size_t)t.vocab_size);
        int *ids = NULL;
        size_t n = 0;
        FUZZ_CHECK(tok_encode(&t, text, strlen(text), &ids, &n, "fuzz") == 0);
        FUZZ_CHECK(n == (size_t)t.vocab_size && !memcmp(ids, all, n * sizeof *ids));
        free(ids);
        free(text);
        free(all);
        char *out = tok_to_json(&t);
        Tokenizer u;
        FUZZ_CHECK(tok_from_json(&u, out, "fuzz (round trip)") == 0);
        FUZZ_CHECK(u.vocab_size == t.vocab_size &&
                   !memcmp(u.chars, t.chars, (size_t)t.vocab_size * sizeof *t.chars));
        tok_free(&u);
        free(out);
        tok_free(&t);
    }
    free(js);
    return 0;
}
