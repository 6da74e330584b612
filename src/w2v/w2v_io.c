// w2v vectors on disk: word2vec's text and binary formats (as gensim reads them).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "w2v/w2v.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "w2v binary vectors are written as little-endian floats: this host is big-endian"
#endif

int w2v_path_is_binary(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".bin");
}

int w2v_save(const W2VModel *m, const char *path, int binary) {
    for (int i = 0; i < m->V; i++)
        if (!m->words[i][0] || strpbrk(m->words[i], " \t\n\r"))
            return em_error("%s: word %d ('%s') is empty or holds whitespace: not writable", path, i, m->words[i]);
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    StrBuf b = {0};
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%d %d\n", m->V, m->dim);
    sb_put(&b, tmp, n);
    int rc = 0;
    for (int i = 0; i < m->V && !rc; i++) {
        sb_put(&b, m->words[i], strlen(m->words[i]));
        const float *v = m->vec + (size_t)i * m->dim;
        if (binary) {
            sb_put(&b, " ", 1);
            sb_put(&b, v, (size_t)m->dim * sizeof(float));
        } else {
            for (int k = 0; k < m->dim; k++) {
                n = snprintf(tmp, sizeof tmp, " %.9g", v[k]);
                sb_put(&b, tmp, n);
            }
        }
        sb_put(&b, "\n", 1);
        if (b.n > (1 << 22)) { rc = atomic_write(&af, b.p, b.n); b.n = 0; }
    }
    if (!rc && b.n) rc = atomic_write(&af, b.p, b.n);
    free(b.p);
    if (rc) { atomic_abort(&af); return -1; }
    return atomic_commit(&af);
}

// "V dim\n": both positive. Returns the offset after the newline, or -1.
static long parse_header(const char *path, const char *t, size_t len, int *V, int *dim) {
    const char *nl = memchr(t, '\n', len);
    if (!nl) return em_error("%s:1: expected a header line 'VOCAB_SIZE DIM'", path);
    char line[128];
    size_t n = (size_t)(nl - t) < sizeof line - 1 ? (size_t)(nl - t) : sizeof line - 1;
    memcpy(line, t, n);
    line[n] = 0;
    long long a, b;
    char extra;
    if (sscanf(line, "%lld %lld %c", &a, &b, &extra) != 2 || a < 1 || b < 1 || a > 1000000000LL || b > 100000)
        return em_error("%s:1: expected a header line 'VOCAB_SIZE DIM' (two positive integers), got '%s'", path, line);
    *V = (int)a;
    *dim = (int)b;
    return (long)(nl - t) + 1;
}

static int load_text(const char *path, const char *t, size_t len, size_t off, W2VModel *m) {
    size_t p = off;
    int line = 1;
    for (int i = 0; i < m->V; i++) {
        line++;
        while (p < len && (t[p] == '\n' || t[p] == '\r')) { if (t[p] == '\n') line++; p++; }
        if (p >= len) return em_error("%s:%d: the header announces %d words, the file ends after %d", path, line, m->V, i);
        const char *nl = memchr(t + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - t) : len;
        if (memchr(t + p, 0, e - p))
            return em_error("%s:%d: a NUL byte in the line of word %d: not a text vector file?", path, line, i + 1);
        char *s = strndup(t + p, e - p);
        p = e + 1;
        char *save = NULL, *w = strtok_r(s, " \t\r", &save);
        if (!w) { free(s); return em_error("%s:%d: empty line where word %d was expected", path, line, i); }
        m->words[i] = strdup(w);
        float *v = m->vec + (size_t)i * m->dim;
        int k = 0;
        for (char *x = strtok_r(NULL, " \t\r", &save); x; x = strtok_r(NULL, " \t\r", &save), k++) {
            if (k >= m->dim) { k++; break; }
            char *end;
            errno = 0;
            float f = strtof(x, &end);
            if (*end || end == x || !isfinite(f)) {
                em_error("%s:%d: value %d of '%s' is not a finite number: '%s'", path, line, k + 1, w, x);
                free(s);
                return -1;
            }
            v[k] = f;
        }
        free(s);
        if (k > m->dim)
            return em_error("%s:%d: '%s' has more than %d values, the header says %d", path, line,
                            m->words[i], m->dim, m->dim);
        if (k < m->dim)
            return em_error("%s:%d: '%s' has %d values, the header says %d", path, line, m->words[i], k, m->dim);
    }
    while (p < len && (t[p] == '\n' || t[p] == '\r' || t[p] == ' ')) p++;
    if (p < len) return em_error("%s:%d: more lines than the %d words the header announces", path, line + 1, m->V);
    return 0;
}

static int load_binary(const char *path, const char *t, size_t len, size_t off, W2VModel *m) {
    size_t p = off;
    for (int i = 0; i < m->V; i++) {
        while (p < len && (t[p] == '\n' || t[p] == ' ')) p++;
        size_t s = p;
        while (p < len && t[p] != ' ' && p - s <= 4096) p++;
        if (p >= len)
            return em_error("%s: truncated at word %d of %d (byte %zu): expected 'word ' and %d floats",
                            path, i + 1, m->V, s, m->dim);
        if (t[p] != ' ') return em_error("%s: word %d (byte %zu) is longer than 4096 bytes: not a binary vector file?", path, i + 1, s);
        if (p == s) return em_error("%s: word %d (byte %zu) is empty", path, i + 1, s);
        if (memchr(t + s, 0, p - s)) return em_error("%s: word %d (byte %zu) holds a NUL byte", path, i + 1, s);
        m->words[i] = strndup(t + s, p - s);
        p++;
        size_t nb = (size_t)m->dim * sizeof(float);
        if (len - p < nb)
            return em_error("%s: truncated in the vector of '%s' (word %d of %d): %zu bytes left, %zu needed",
                            path, m->words[i], i + 1, m->V, len - p, nb);
        memcpy(m->vec + (size_t)i * m->dim, t + p, nb);
        p += nb;
        for (int k = 0; k < m->dim; k++)
            if (!isfinite(m->vec[(size_t)i * m->dim + k]))
                return em_error("%s: the vector of '%s' (word %d) holds a non-finite value", path, m->words[i], i + 1);
    }
    return 0;
}

int w2v_load(const char *path, int binary, W2VModel *m) {
    memset(m, 0, sizeof *m);
    size_t len;
    char *t = read_file(path, &len);
    if (!t) return -1;
    int V = 0, dim = 0;
    long off = parse_header(path, t, len, &V, &dim);
    if (off < 0) { free(t); return -1; }
    // a cheap bound before allocating: each word needs at least dim values
    size_t min_bytes = binary ? (size_t)V * ((size_t)dim * 4 + 2) : (size_t)V * ((size_t)dim * 2 + 1);
    if (len - off + 1 < min_bytes) {
        free(t);
        return em_error("%s: the header announces %d words of %d values but the file has only %zu bytes%s",
                        path, V, dim, len, binary ? "" : " (a binary file? name it .bin)");
    }
    m->V = V;
    m->dim = dim;
    m->words = xcalloc(V, sizeof(char *));
    m->counts = xcalloc(V, sizeof(int64_t));
    m->vec = xmalloc((size_t)V * dim * sizeof(float));
    int rc = binary ? load_binary(path, t, len, off, m) : load_text(path, t, len, off, m);
    free(t);
    if (rc) { w2v_free(m); return -1; }
    w2v_build_hash(m);
    return 0;
}
