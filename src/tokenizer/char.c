// The char-level tokenizer: one id per Unicode code point seen in the corpus.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tokenizer/bpe_impl.h"

int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp) {
    if (len == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)n > len) return 0;
    uint32_t v = c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

int utf8_encode(uint32_t cp, char *b) {
    if (cp < 0x80) { b[0] = (char)cp; return 1; }
    if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}


int tok_build_char(Tokenizer *t, const char *text, size_t len, const char *src) {
    memset(t, 0, sizeof *t);
    // code points seen: a bitmap over the Unicode range (136 KiB)
    uint8_t *seen = xcalloc(0x110000 / 8, 1);
    const unsigned char *s = (const unsigned char *)text;
    int n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = utf8_decode(s + i, len - i, &cp);
        if (!k) { free(seen); return em_error("%s: invalid UTF-8 at byte %zu", src, i); }
        if (cp == 0) {  // the vocabulary is stored as a JSON string, which cannot hold one
            free(seen);
            return em_error("%s: character U+0000 (NUL) at byte %zu: not supported in text, "
                            "expected none (a binary file?)", src, i);
        }
        if (!(seen[cp >> 3] & (1u << (cp & 7)))) { seen[cp >> 3] |= 1u << (cp & 7); n++; }
        i += k;
    }
    if (n == 0) { free(seen); return em_error("%s: the text is empty", src); }
    t->chars = xmalloc(n * sizeof(uint32_t));
    int j = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        if (seen[cp >> 3] & (1u << (cp & 7))) t->chars[j++] = cp;
    free(seen);
    t->kind = TOK_CHAR;
    t->vocab_size = n;
    return 0;
}

// the id of cp: a binary search of the ascending code points, inline (encoding calls it
// once per character)
static int char_id(const Tokenizer *t, uint32_t cp) {
    int lo = 0, hi = t->vocab_size;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->chars[mid] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->vocab_size && t->chars[lo] == cp ? lo : -1;
}

int tok_encode(const Tokenizer *t, const char *text, size_t len, int **ids, size_t *n,
               const char *src) {
    if (t->kind == TOK_BPE) return bpe_encode(t, text, len, ids, n);
    if (t->kind != TOK_CHAR) return em_error("%s: no tokenizer loaded", src);
    int *out = xmalloc((len + 1) * sizeof(int));
    size_t m = 0;
    const unsigned char *s = (const unsigned char *)text;
    // a long text: the ASCII characters' ids in a table first (a search per character
    // mispredicts its branches on text like digits)
    int ascii[128];
    for (uint32_t c = 0; c < 128; c++) ascii[c] = len >= 1024 ? char_id(t, c) : -1;
    for (size_t i = 0; i < len;) {
        if (s[i] < 128 && ascii[s[i]] >= 0) {
            out[m++] = ascii[s[i++]];
            continue;
        }
        uint32_t cp;
        int k = utf8_decode(s + i, len - i, &cp);
        if (!k) { free(out); return em_error("%s: invalid UTF-8 at byte %zu", src, i); }
        int id = char_id(t, cp);
        if (id < 0) {
            char b[8] = {0};
            utf8_encode(cp, b);
            free(out);
            return em_error("%s: character '%s' (U+%04X) at byte %zu is not in the model's "
                            "%d-character vocabulary", src, cp >= 32 ? b : "?", cp, i,
                            t->vocab_size);
        }
        out[m++] = id;
        i += k;
    }
    *ids = out;
    *n = m;
    return 0;
}

int tok_decode_one(const Tokenizer *t, int id, char *buf) {
    if (t->kind == TOK_BPE) return bpe_decode_one(t, id, buf);
    if (id < 0 || id >= t->vocab_size) return 0;
    return utf8_encode(t->chars[id], buf);
}

char *tok_decode(const Tokenizer *t, const int *ids, size_t n) {
    size_t cap = n * 4 + 1;
    if (t->kind == TOK_BPE) {
        cap = 1;
        for (size_t i = 0; i < n; i++) cap += bpe_token_len(t, ids[i]);
    }
    char *out = xmalloc(cap);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += tok_decode_one(t, ids[i], out + m);
    out[m] = 0;
    return out;
}

char *tok_to_json(const Tokenizer *t) {
    if (t->kind == TOK_BPE) return bpe_to_json(t);
    char *chars = xmalloc((size_t)t->vocab_size * 4 + 1);
    size_t m = 0;
    for (int i = 0; i < t->vocab_size; i++) m += utf8_encode(t->chars[i], chars + m);
    chars[m] = 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "char");
    cJSON_AddNumberToObject(o, "vocab_size", t->vocab_size);
    cJSON_AddStringToObject(o, "chars", chars);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(chars);
    return s;
}

int tok_from_json(Tokenizer *t, const char *json, const char *src) {
    memset(t, 0, sizeof *t);
    cJSON *o = cJSON_Parse(json);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return em_error("%s: tokenizer: expected a JSON object", src);
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    const cJSON *chars = cJSON_GetObjectItemCaseSensitive(o, "chars");
    int rc = 0;
    if (cJSON_IsString(type) && !strcmp(type->valuestring, "bpe")) {
        rc = bpe_from_json(t, o, src);
        cJSON_Delete(o);
        return rc;
    }
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "char"))
        rc = em_error("%s: tokenizer.type: expected \"char\" or \"bpe\"", src);
    else if (!cJSON_IsString(chars))
        rc = em_error("%s: tokenizer.chars: expected a string", src);
    if (!rc) {
        size_t len = strlen(chars->valuestring);
        rc = tok_build_char(t, chars->valuestring, len, src);
        // the stored string must list each character once, in order: ids are positions
        const unsigned char *s = (const unsigned char *)chars->valuestring;
        uint32_t prev = 0;
        for (size_t i = 0, count = 0; !rc && i < len; count++) {
            uint32_t cp;
            i += utf8_decode(s + i, len - i, &cp);  // valid: tok_build_char decoded it
            if (count && cp <= prev) {
                char a[8] = "?", b[8] = "?";  // control characters print as '?'
                if (cp >= 32) a[utf8_encode(cp, a)] = 0;
                if (prev >= 32) b[utf8_encode(prev, b)] = 0;
                tok_free(t);
                rc = cp == prev ? em_error("%s: tokenizer.chars: repeated character '%s' (U+%04X) "
                                           "at position %zu", src, a, cp, count)
                                : em_error("%s: tokenizer.chars: '%s' (U+%04X) at position %zu "
                                           "after '%s' (U+%04X), expected ascending code points",
                                           src, a, cp, count, b, prev);
            }
            prev = cp;
        }
        const cJSON *vs = cJSON_GetObjectItemCaseSensitive(o, "vocab_size");
        if (!rc && cJSON_IsNumber(vs) && vs->valueint != t->vocab_size) {
            int n = t->vocab_size;
            tok_free(t);
            rc = em_error("%s: tokenizer.vocab_size is %d but chars holds %d", src, vs->valueint, n);
        }
    }
    cJSON_Delete(o);
    return rc;
}

void tok_free(Tokenizer *t) {
    if (t->kind == TOK_BPE) bpe_release(t);
    free(t->chars);
    memset(t, 0, sizeof *t);
}
