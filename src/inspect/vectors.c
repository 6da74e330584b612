// vectors: hidden-state similarity through hooks; embedding neighbours and analogies.
#include "inspect/vectors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

float vec_cosine(const float *a, const float *b, int n) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (aa == 0 || bb == 0) return 0.0f;
    return (float)(ab / (sqrt(aa) * sqrt(bb)));
}

int vec_token_id(const Tokenizer *tok, const char *word) {
    int *ids = NULL;
    size_t n = 0;
    if (tok_encode(tok, word, strlen(word), &ids, &n, "word")) { em_clear_error(); return -1; }
    int id = n == 1 ? ids[0] : -1;
    free(ids);
    return id;
}

long vec_find_last(const int *ids, size_t n, const int *word, size_t nw) {
    if (nw == 0 || nw > n) return -1;
    for (size_t s = n - nw + 1; s-- > 0;)
        if (!memcmp(ids + s, word, nw * sizeof(int))) return (long)(s + nw - 1);
    return -1;
}

typedef struct { int T, C; float *out; } HsCtx;

// Copies the last position's residual stream: embedding as row 0, block l's output as l+1.
static int hs_hook(int hook, int layer, float *act, int B, int T, void *vctx) {
    HsCtx *x = vctx;
    int row;
    if (hook == HOOK_RESID_PRE && layer == 0) row = 0;
    else if (hook == HOOK_RESID_POST) row = layer + 1;
    else return 0;
    memcpy(x->out + (size_t)row * x->C, act + (size_t)(T - 1) * x->C, x->C * sizeof(float));
    return 0;
}

int vec_hidden_states(GPT *m, const int *ids, size_t n, size_t pos, float *out) {
    if (pos >= n) return em_error("position %zu is outside the %zu tokens", pos, n);
    size_t T = pos + 1, bs = (size_t)m->cfg.block_size;
    size_t start = T > bs ? T - bs : 0;
    T -= start;
    if (gpt_alloc_acts(m, 1, (int)T)) return -1;
    HsCtx x = {.T = (int)T, .C = m->cfg.n_embd, .out = out};
    gpt_forward_hooked(m, hs_hook, &x, ids + start, NULL, 1, (int)T);
    return 0;
}

// 1 when (c1, i1) ranks before (c2, i2): larger cosine, then smaller id; NaN last.
static int ranks_before(float c1, int i1, float c2, int i2) {
    int n1 = isnan(c1), n2 = isnan(c2);
    if (n1 != n2) return n2;
    if (!n1 && c1 != c2) return c1 > c2;
    return i1 < i2;
}

int vec_nearest(const float *E, int V, int C, const float *q, const int *exclude, int n_ex,
                int k, int *ids, float *cos) {
    int n = 0;  // ids/cos kept sorted: insertion (k is small)
    for (int v = 0; v < V; v++) {
        int skip = 0;
        for (int e = 0; e < n_ex; e++) skip |= exclude[e] == v;
        if (skip) continue;
        float c = vec_cosine(E + (size_t)v * C, q, C);
        if (n == k && !ranks_before(c, v, cos[n - 1], ids[n - 1])) continue;
        int i = n < k ? n++ : n - 1;
        while (i > 0 && ranks_before(c, v, cos[i - 1], ids[i - 1])) {
            cos[i] = cos[i - 1];
            ids[i] = ids[i - 1];
            i--;
        }
        cos[i] = c;
        ids[i] = v;
    }
    return n;
}

int vec_analogy(const float *E, int V, int C, int a, int b, int c, int k, int *ids, float *cos) {
    float *q = xmalloc((size_t)C * sizeof(float));
    for (int i = 0; i < C; i++)
        q[i] = E[(size_t)b * C + i] - E[(size_t)a * C + i] + E[(size_t)c * C + i];
    int ex[3] = {a, b, c};
    int n = vec_nearest(E, V, C, q, ex, 3, k, ids, cos);
    free(q);
    return n;
}

static AnalogySection *cur_section(AnalogyScore *s, const char *name) {
    s->sec = xrealloc(s->sec, (s->n_sec + 1) * sizeof *s->sec);
    AnalogySection *x = &s->sec[s->n_sec++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    return x;
}

int vec_score_questions(const float *E, int V, int C, const Tokenizer *tok, const char *text,
                        size_t len, const char *src, AnalogyScore *s) {
    memset(s, 0, sizeof *s);
    char *buf = xmalloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = 0;
    AnalogySection *sec = NULL;
    int lineno = 0, rc = 0;
    for (char *line = buf, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[--ll] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        if (*p == ':') {
            p++;
            while (*p == ' ' || *p == '\t') p++;
            sec = cur_section(s, p);
            continue;
        }
        char *w[4];
        int nw = 0;
        for (char *sv = NULL, *t = strtok_r(p, " \t", &sv); t; t = strtok_r(NULL, " \t", &sv))
            if (nw++ < 4) w[nw - 1] = t;
        if (nw != 4) {
            rc = em_error("%s:%d: expected 4 words \"a b c d\", got %d", src, lineno, nw);
            break;
        }
        if (!sec) sec = cur_section(s, "");
        int id[4], oov = 0;
        for (int i = 0; i < 4; i++) oov |= (id[i] = vec_token_id(tok, w[i])) < 0;
        if (oov) { s->skipped++; sec->skipped++; continue; }
        int best;
        float bc;
        int got = vec_analogy(E, V, C, id[0], id[1], id[2], 1, &best, &bc);
        int ok = got == 1 && best == id[3];
        s->n++; sec->n++;
        s->correct += ok; sec->correct += ok;
    }
    free(buf);
    if (rc) analogy_score_free(s);
    return rc;
}

void analogy_score_free(AnalogyScore *s) {
    free(s->sec);
    s->sec = NULL;
    s->n_sec = 0;
}

int inspect_word_states(GPT *m, const int *w, size_t nw, const int *i1, size_t n1, const int *i2,
                        size_t n2, InspectWordStates *r) {
    int L = m->cfg.n_layer, C = m->cfg.n_embd, rc = -1;
    memset(r, 0, sizeof *r);
    r->L = L;
    r->p1 = vec_find_last(i1, n1, w, nw);
    r->p2 = vec_find_last(i2, n2, w, nw);
    if (r->p1 < 0 || r->p2 < 0) return 0;
    float *h1 = xmalloc((size_t)(L + 1) * C * sizeof(float)), *h2 = xmalloc((size_t)(L + 1) * C * sizeof(float));
    if (vec_hidden_states(m, i1, n1, (size_t)r->p1, h1) || vec_hidden_states(m, i2, n2, (size_t)r->p2, h2))
        goto done;
    // causal: the states depend only on the tokens up to the word
    r->same_prefix = r->p1 == r->p2 && !memcmp(i1, i2, (size_t)(r->p1 + 1) * sizeof(int));
    r->cos = xmalloc((size_t)(L + 1) * sizeof(float));
    for (int l = 0; l <= L; l++) r->cos[l] = vec_cosine(h1 + (size_t)l * C, h2 + (size_t)l * C, C);
    rc = 0;
done:
    free(h1); free(h2);
    return rc;
}

void inspect_word_states_free(InspectWordStates *r) {
    free(r->cos);
    memset(r, 0, sizeof *r);
}
