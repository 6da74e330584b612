// GPT-2's pre-tokenisation pattern, matched by hand, and its byte-to-unicode map.
#include "tokenizer/bpe_impl.h"

static int uni_class(uint32_t cp) {
    if (cp < 256) return uni_latin1[cp];
    int a = 0, b = uni_n_ranges;
    while (a < b) {
        int m = (a + b) / 2;
        if (uni_ranges[m].hi < cp) a = m + 1;
        else b = m;
    }
    return a < uni_n_ranges && uni_ranges[a].lo <= cp ? uni_ranges[a].cls : UNI_OTHER;
}

// The class of the character at s[i] and its length in bytes (an invalid byte: one
// byte of class "other").
static int class_at(const unsigned char *s, size_t len, size_t i, int *n) {
    if (s[i] < 0x80) { *n = 1; return uni_latin1[s[i]]; }
    uint32_t cp;
    int k = utf8_decode(s + i, len - i, &cp);
    if (!k) { *n = 1; return UNI_OTHER; }
    *n = k;
    return uni_class(cp);
}

// The end of the run of characters of class c starting at i.
static size_t run_of(const unsigned char *s, size_t len, size_t i, int c) {
    while (i < len) {
        int n;
        if (class_at(s, len, i, &n) != c) break;
        i += n;
    }
    return i;
}

size_t pretok_next(const unsigned char *s, size_t len, size_t i) {
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, as GPT-2's pattern is)
    if (s[i] == '\'' && i + 1 < len) {
        unsigned char a = s[i + 1], b = i + 2 < len ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return i + 3;
    }
    int n, c = class_at(s, len, i, &n);
    //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ : an optional space, then a run of one class
    if (s[i] == ' ' && i + 1 < len) {
        int m, d = class_at(s, len, i + 1, &m);
        if (d != UNI_SPACE) return run_of(s, len, i + 1 + m, d);
    }
    if (c != UNI_SPACE) return run_of(s, len, i + n, c);
    // \s+(?!\S) | \s+ : a run of white space, less its last character when a non-space
    // follows and the run is longer than one
    size_t j = i + n, last = i;
    while (j < len) {
        int m;
        if (class_at(s, len, j, &m) != UNI_SPACE) break;
        last = j;
        j += m;
    }
    return j < len && last > i ? last : j;
}

static int printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// The 68 other bytes (0x00-0x20, 0x7F-0xA0, 0xAD) stand for U+0100.. in byte order.
uint32_t bpe_byte_cp(int b) {
    if (printable(b)) return (uint32_t)b;
    return 0x100 + (uint32_t)(b <= 0x20 ? b : b <= 0xA0 ? 33 + (b - 0x7F) : 67);
}

int bpe_cp_byte(uint32_t cp) {
    if (cp < 256) return printable((int)cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68) return -1;
    int k = (int)(cp - 0x100);
    return k < 33 ? k : k < 67 ? 0x7F + (k - 33) : 0xAD;
}
