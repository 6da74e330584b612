// Token shards in llm.c's format (karpathy/llm.c, dev/data/data_common.py): a header of 256
// little-endian int32 (magic, version, token count, ...), then the tokens. Written as a
// stream (memory: one chunk of text and its ids, never the corpus), read through mmap.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"

#define HDR_INTS 256
#define HDR_BYTES (HDR_INTS * 4)
#define MAGIC_LLAMA3 20240801  // llm.c's uint32 shards (version 7): read too
#define CHUNK_DEFAULT (8u << 20)

// ---- writing ---------------------------------------------------------------------------

typedef struct {
    const ShardWriteConfig *c;
    int width, version, vocab;
    int index;              // the shard being written
    int val;                // it is the validation shard
    FILE *f;
    char tmp[1210], path[1200];
    size_t count;           // tokens in it
    unsigned char buf[1 << 16];
    size_t used;
    char **written;         // final paths, removed again on failure
    int n_written;
    ShardWriteStats *st;
} Writer;

static void put_i32(unsigned char *p, int32_t v) {
    uint32_t u = (uint32_t)v;
    p[0] = (unsigned char)u; p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16); p[3] = (unsigned char)(u >> 24);
}

static int32_t get_i32(const unsigned char *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static int w_flush(Writer *w) {
    if (w->used && fwrite(w->buf, 1, w->used, w->f) != w->used)
        return em_error("%s: write failed: %s", w->tmp, strerror(errno));
    w->used = 0;
    return 0;
}

static int w_open(Writer *w, int val) {
    w->val = val;
    snprintf(w->path, sizeof w->path, "%s/%s_%s_%06d.bin", w->c->out_dir, SHARD_PREFIX,
             val ? "val" : "train", w->index);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", w->path);
    w->f = fopen(w->tmp, "wb");
    if (!w->f) return em_error("%s: cannot open for writing: %s", w->tmp, strerror(errno));
    unsigned char hdr[HDR_BYTES] = {0};
    if (fwrite(hdr, 1, HDR_BYTES, w->f) != HDR_BYTES)
        return em_error("%s: write failed: %s", w->tmp, strerror(errno));
    w->count = 0;
    return 0;
}

// The header (now that the count is known), fsync, rename.
static int w_close(Writer *w) {
    if (!w->f) return 0;
    unsigned char hdr[HDR_BYTES] = {0};
    put_i32(hdr, SHARD_MAGIC);
    put_i32(hdr + 4, w->version);
    put_i32(hdr + 8, (int32_t)w->count);
    put_i32(hdr + 12, w->vocab);  // not read by llm.c: checked against the tokenizer here
    int rc = w_flush(w);
    if (!rc && (fseek(w->f, 0, SEEK_SET) || fwrite(hdr, 1, HDR_BYTES, w->f) != HDR_BYTES ||
                fflush(w->f) || fsync(fileno(w->f))))
        rc = em_error("%s: write failed: %s", w->tmp, strerror(errno));
    if (fclose(w->f) && !rc) rc = em_error("%s: write failed: %s", w->tmp, strerror(errno));
    w->f = NULL;
    if (!rc && rename(w->tmp, w->path))
        rc = em_error("%s: cannot rename to %s: %s", w->tmp, w->path, strerror(errno));
    if (rc) { unlink(w->tmp); return -1; }
    w->written = xrealloc(w->written, (size_t)(w->n_written + 1) * sizeof *w->written);
    w->written[w->n_written++] = xstrdup(w->path);
    w->st->n_shards++;
    if (w->val) w->st->val_tokens = w->count;
    w->index++;
    return 0;
}

static int w_put(Writer *w, const int *ids, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!w->f && w_open(w, 0)) return -1;
        uint32_t v = (uint32_t)ids[i];
        unsigned char *p = w->buf + w->used;
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
        if (w->width == 4) { p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24); }
        w->used += (size_t)w->width;
        if (w->used + 4 > sizeof w->buf && w_flush(w)) return -1;
        w->st->n_tokens++;
        if (++w->count == w->c->shard_tokens && w_close(w)) return -1;
    }
    return 0;
}

// A place to cut text so that encoding the parts gives the ids of the whole: "x\n|y", x and y
// printable ASCII, not space. No GPT-2 piece spans it: a lone "\n" between two non-spaces is
// a piece of its own (a longer whitespace run would give its last character to the next
// piece, so a run is never cut), and y starts a piece. The cut nearest below `want`, else
// above it; len at the end of the input; 0: none in buf (read more).
static int cut_at(const char *b, size_t p) {
    return p >= 2 && b[p - 1] == '\n' && b[p - 2] > ' ' && b[p - 2] < 0x7f && b[p] > ' ' &&
           b[p] < 0x7f;
}

static size_t find_cut(const char *b, size_t len, size_t want, int eof) {
    if (want >= len) return eof ? len : find_cut(b, len, len - 1, 0);
    for (size_t p = want; p >= 2; p--) if (cut_at(b, p)) return p;
    for (size_t p = want + 1; p < len; p++) if (cut_at(b, p)) return p;
    return eof ? len : 0;
}

static void remove_written(Writer *w) {
    if (w->f) { fclose(w->f); w->f = NULL; unlink(w->tmp); }
    for (int i = 0; i < w->n_written; i++) unlink(w->written[i]);
}

// Refuses a directory that already holds shards: they would be read with the new ones.
static int check_out_dir(const char *dir) {
    if (make_dir(dir)) return -1;
    DIR *d = opendir(dir);
    if (!d) return em_error("%s: cannot open: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".bin")) {
            rc = em_error("%s: holds token shards already (%s); expected a new or empty "
                          "directory", dir, e->d_name);
            break;
        }
    }
    closedir(d);
    return rc;
}

int shards_write(const ShardWriteConfig *c, const char *const *files, int n_files,
                 const Tokenizer *tok, ShardWriteStats *st) {
    memset(st, 0, sizeof *st);
    int eot = tok_eot(tok);
    if (tok->kind != TOK_BPE || eot < 0)
        return em_error("shards: expected a BPE tokenizer with <|endoftext|> (it separates "
                        "the documents)");
    if (c->shard_tokens < 1 || c->shard_tokens > SHARD_MAX_TOKENS)
        return em_error("shards: shard size %zu: expected 1 .. %d tokens", c->shard_tokens,
                        SHARD_MAX_TOKENS);
    if (!(c->val_frac >= 0 && c->val_frac < 1))
        return em_error("shards: validation fraction %g: expected [0, 1)", c->val_frac);
    size_t total = 0;
    for (int i = 0; i < n_files; i++) {
        struct stat sb;
        if (stat(files[i], &sb) || !S_ISREG(sb.st_mode))
            return em_error("%s: cannot read: %s", files[i],
                            errno && !S_ISREG(sb.st_mode) ? strerror(errno) : "not a file");
        total += (size_t)sb.st_size;
    }
    if (check_out_dir(c->out_dir)) return -1;
    Writer w = {.c = c, .vocab = tok->vocab_size, .st = st};
    w.width = tok->vocab_size > 65536 ? 4 : 2;
    w.version = w.width == 4 ? 2 : 1;
    st->version = w.version;
    double t0 = now_sec();
    size_t val_bytes = (size_t)(c->val_frac * (double)total), done = 0;
    size_t chunk = c->chunk_bytes ? c->chunk_bytes : CHUNK_DEFAULT;
    int rc = val_bytes > 0 ? w_open(&w, 1) : 0;
    char *buf = xmalloc(chunk + 1);
    size_t cap = chunk, len = 0;
    for (int i = 0; i < n_files && !rc; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) { rc = em_error("%s: cannot open: %s", files[i], strerror(errno)); break; }
        rc = w_put(&w, &eot, 1);  // llm.c's layout: every document starts with <|endoftext|>
        int eof = 0;
        len = 0;
        while (!rc && (!eof || len > 0)) {
            if (!eof && len < chunk) {
                if (cap < len + chunk) { cap = len + chunk; buf = xrealloc(buf, cap + 1); }
                size_t k = fread(buf + len, 1, chunk - (len < chunk ? len : 0), f);
                if (ferror(f)) { rc = em_error("%s: read error: %s", files[i], strerror(errno)); break; }
                len += k;
                eof = feof(f) || k == 0;
            }
            // the validation shard ends at val_bytes: cut there (as near as a safe cut allows)
            int in_val = w.val && w.f;
            size_t want = in_val && val_bytes > done && val_bytes - done < len ? val_bytes - done
                                                                                 : len;
            size_t cut = find_cut(buf, len, want, eof);
            if (cut == 0) {  // no safe cut in this much text: read more before encoding
                if (eof) cut = len;
                else { chunk = len + chunk; continue; }
            }
            int *ids = NULL;
            size_t n = 0;
            rc = tok_encode(tok, buf, cut, &ids, &n, files[i]);
            if (!rc) rc = w_put(&w, ids, n);
            free(ids);
            done += cut;
            memmove(buf, buf + cut, len - cut);
            len -= cut;
            if (!rc && in_val && w.f && w.val && done >= val_bytes) rc = w_close(&w);
            if (c->progress) c->progress(c->ctx, done, total, st->n_tokens);
        }
        fclose(f);
    }
    free(buf);
    if (!rc) rc = w_close(&w);
    if (!rc && st->n_tokens == st->val_tokens)
        rc = em_error("%s: all %zu tokens went to the validation shard; expected some for "
                      "training (lower the validation fraction, or give more text)",
                      c->out_dir, st->n_tokens);
    if (rc) remove_written(&w);
    for (int i = 0; i < w.n_written; i++) free(w.written[i]);
    free(w.written);
    st->bytes = done;
    st->seconds = now_sec() - t0;
    return rc ? -1 : 0;
}

// ---- reading ---------------------------------------------------------------------------

typedef struct {
    char *path;
    unsigned char *map;
    size_t map_len, n;
    int width, part;  // part: 0 train, 1 validation
} Shard;

struct ShardSet {
    Shard *s;
    int n;
    size_t *fit[2];  // per part: cumulative window starts of its shards (n_fit[part] + 1)
    int *idx[2], n_fit[2];
};

static void shard_close(Shard *s) {
    if (s->map) munmap(s->map, s->map_len);
    free(s->path);
    memset(s, 0, sizeof *s);
}

// Maps one shard and checks its header, length and (a pass over the mapping, handed back to
// the kernel as it goes: no shard stays resident) every token against vocab.
static int shard_open(const char *path, int vocab, Shard *s) {
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) return em_error("%s: cannot open: %s", path, strerror(errno));
    unsigned char hdr[HDR_BYTES];
    size_t got = fread(hdr, 1, HDR_BYTES, f);
    struct stat sb;
    int ok = fstat(fileno(f), &sb) == 0;
    if (got < HDR_BYTES) { fclose(f); return em_error("%s: header: %zu bytes, expected %d (256 int32)", path, got, HDR_BYTES); }
    int32_t magic = get_i32(hdr), version = get_i32(hdr + 4), count = get_i32(hdr + 8);
    int32_t hv = get_i32(hdr + 12);
    int width = 0;
    if (magic == SHARD_MAGIC && version == 1) width = 2;
    else if (magic == SHARD_MAGIC && version == 2) width = 4;
    else if (magic == MAGIC_LLAMA3 && version == 7) width = 4;
    int rc = 0;
    if (magic != SHARD_MAGIC && magic != MAGIC_LLAMA3)
        rc = em_error("%s: header[0] (magic): %d, expected %d (llm.c's token shards)", path,
                      magic, SHARD_MAGIC);
    else if (!width)
        rc = em_error("%s: header[1] (version): %d, expected 1 (uint16 tokens) or 2 (uint32)",
                      path, version);
    else if (count < 0)
        rc = em_error("%s: header[2] (token count): %d, expected >= 0", path, count);
    else if (!ok || (uint64_t)sb.st_size != HDR_BYTES + (uint64_t)count * width)
        rc = em_error("%s: %lld bytes, expected %llu (header[2] says %d tokens of %d bytes): "
                      "truncated or not a shard", path, ok ? (long long)sb.st_size : -1LL,
                      (unsigned long long)(HDR_BYTES + (uint64_t)count * width), count, width);
    else if (hv > 0 && hv != vocab)
        rc = em_error("%s: header[3] (vocabulary size): %d, but the tokenizer has %d: written "
                      "with another tokenizer", path, hv, vocab);
    if (!rc) {
        s->map_len = (size_t)sb.st_size;
        void *m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, fileno(f), 0);
        if (m == MAP_FAILED) rc = em_error("%s: cannot map: %s", path, strerror(errno));
        else s->map = m;
    }
    fclose(f);
    if (rc) return rc;
    s->path = xstrdup(path);
    s->n = (size_t)count;
    s->width = width;
    const size_t step = (size_t)1 << 22;  // tokens checked per pass
    for (size_t a = 0; a < s->n; a += step) {
        size_t b = a + step < s->n ? a + step : s->n;
        const unsigned char *p = s->map + HDR_BYTES;
        for (size_t i = a; i < b; i++) {
            uint32_t v = width == 2 ? (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8
                                    : (uint32_t)get_i32(p + 4 * i);
            if (v >= (uint32_t)vocab) {
                em_error("%s: token %zu: id %u, expected < %d (the tokenizer's vocabulary)",
                         path, i, v, vocab);
                shard_close(s);
                return -1;
            }
        }
        // hand the pages checked back: the page cache keeps or drops them, we hold none
        size_t lo = (HDR_BYTES + a * width) & ~(size_t)4095, hi = HDR_BYTES + b * width;
        madvise(s->map + lo, hi - lo, MADV_DONTNEED);
    }
    madvise(s->map, s->map_len, MADV_RANDOM);
    return 0;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void shards_free(struct ShardSet *ss) {
    if (!ss) return;
    for (int i = 0; i < ss->n; i++) shard_close(&ss->s[i]);
    free(ss->s);
    for (int p = 0; p < 2; p++) { free(ss->fit[p]); free(ss->idx[p]); }
    free(ss);
}

int data_is_shard_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int data_load_shards(const char *dir, const Tokenizer *tok, int T, TokenData *d) {
    memset(d, 0, sizeof *d);
    DIR *dd = opendir(dir);
    if (!dd) return em_error("%s: cannot open: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".bin")) {
            names = xrealloc(names, (size_t)(n + 1) * sizeof *names);
            names[n++] = xstrdup(e->d_name);
        }
    }
    closedir(dd);
    if (n == 0) { free(names); return em_error("%s: no token shards (*.bin) in it", dir); }
    qsort(names, (size_t)n, sizeof *names, name_cmp);
    struct ShardSet *ss = xcalloc(1, sizeof *ss);
    ss->s = xcalloc((size_t)n, sizeof *ss->s);
    int rc = 0;
    size_t need = (size_t)T + 1;
    for (int i = 0; i < n && !rc; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = shard_open(path, tok->vocab_size, &ss->s[i]);
        if (rc) break;
        ss->n = i + 1;
        int part = strstr(names[i], "val") != NULL;  // llm.c's names: *_val_*.bin, *_train_*
        ss->s[i].part = part;
        d->n += ss->s[i].n;
        if (!part) d->split += ss->s[i].n;
        if (ss->s[i].n < need) continue;  // too short for a window: not drawn from
        int k = ss->n_fit[part]++;
        ss->fit[part] = xrealloc(ss->fit[part], (size_t)(k + 2) * sizeof(size_t));
        ss->idx[part] = xrealloc(ss->idx[part], (size_t)(k + 1) * sizeof(int));
        if (k == 0) ss->fit[part][0] = 0;
        ss->fit[part][k + 1] = ss->fit[part][k] + (ss->s[i].n - need + 1);
        ss->idx[part][k] = i;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!rc && (!ss->n_fit[0] || !ss->n_fit[1]))
        rc = em_error("%s: expected a train and a validation shard (names with \"train\" and "
                      "\"val\") of at least %zu tokens each (block size %d + 1); %s", dir, need,
                      T, ss->n_fit[0] ? "no validation shard fits" : "no train shard fits");
    if (rc) { shards_free(ss); memset(d, 0, sizeof *d); return -1; }
    d->shards = ss;
    // validation is shard 0 in llm.c's order, but the split index counts train first
    // (d->split train tokens, d->n - d->split validation tokens)
    return 0;
}

static inline int shard_at(const Shard *s, size_t i) {
    const unsigned char *p = s->map + HDR_BYTES;
    return s->width == 2 ? (int)((uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8)
                         : (int)(uint32_t)get_i32(p + 4 * i);
}

void shards_sample(const struct ShardSet *ss, int part, int B, int T, Rng *r, int *inp,
                   int *tgt) {
    int nf = ss->n_fit[part];
    size_t span = ss->fit[part][nf];
    for (int b = 0; b < B; b++) {
        size_t x = span > 0xFFFFFFFFu ? rng_u64(r) % span : rng_below(r, (uint32_t)span);
        int lo = 0, hi = nf;  // the shard k with fit[k] <= x < fit[k + 1]
        while (hi - lo > 1) { int m = (lo + hi) / 2; if (ss->fit[part][m] <= x) lo = m; else hi = m; }
        const Shard *s = &ss->s[ss->idx[part][lo]];
        size_t at = x - ss->fit[part][lo];
        int *in = inp + (size_t)b * T, *tg = tgt + (size_t)b * T;
        for (int i = 0; i < T; i++) in[i] = shard_at(s, at + i);
        for (int i = 0; i < T; i++) tg[i] = shard_at(s, at + i + 1);
    }
}

int *shards_part_ids(const struct ShardSet *ss, int part, size_t *n) {
    size_t total = 0, k = 0;
    for (int i = 0; i < ss->n; i++) if (ss->s[i].part == part) total += ss->s[i].n;
    int *ids = xmalloc((total ? total : 1) * sizeof(int));
    for (int i = 0; i < ss->n; i++)
        if (ss->s[i].part == part)
            for (size_t j = 0; j < ss->s[i].n; j++) ids[k++] = shard_at(&ss->s[i], j);
    *n = k;
    return ids;
}

int shard_read(const char *path, int vocab, int **ids, size_t *n) {
    Shard s;
    if (shard_open(path, vocab, &s)) return -1;
    *ids = xmalloc((s.n ? s.n : 1) * sizeof(int));
    for (size_t j = 0; j < s.n; j++) (*ids)[j] = shard_at(&s, j);
    *n = s.n;
    shard_close(&s);
    return 0;
}
