// checkpoint: safetensors reading (mmap, validated before use) and writing (atomic),
// and the GPT-2 model on top of it (Hugging Face GPT2LMHeadModel names and layouts).
#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "tokenizer/tokenizer.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this file copies it as is"
#endif

// ---- dtypes -------------------------------------------------------------------
static const struct { const char *name; size_t size; } dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U64", 8},     {"U32", 4},
    {"U16", 2}, {"U8", 1},  {"BOOL", 1},
};
static size_t dtype_size(const char *name) {  // 0: unknown
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dtypes[i].name, name)) return dtypes[i].size;
    return 0;
}

// "(128, 384)" into buf
static const char *fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
    return buf;
}

// numel * elem_size without overflow; -1 on overflow
static int byte_size(int ndim, const int64_t *shape, size_t elem, size_t *out) {
    size_t n = elem;
    for (int i = 0; i < ndim; i++) {
        size_t d = (size_t)shape[i];
        if (d && n > SIZE_MAX / d) return -1;
        n *= d;
    }
    *out = n;
    return 0;
}

// ---- reading ------------------------------------------------------------------
// A JSON number that is an exact integer in [0, 2^53].
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_entry(StFile *f, const cJSON *it, size_t data_len) {
    const char *p = f->path, *nm = it->string;
    if (strlen(nm) >= sizeof f->entries[0].name)
        return em_error("%s: tensor %.60s...: name longer than %zu bytes", p, nm,
                        sizeof f->entries[0].name - 1);
    if (!cJSON_IsObject(it))
        return em_error("%s: tensor %s: expected an object with dtype, shape, data_offsets", p, nm);
    StEntry *e = &f->entries[f->n];
    memset(e, 0, sizeof *e);
    strcpy(e->name, nm);

    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    if (!dt) return em_error("%s: tensor %s: dtype: missing", p, nm);
    if (!cJSON_IsString(dt) || strlen(dt->valuestring) >= sizeof e->dtype ||
        !dtype_size(dt->valuestring))
        return em_error("%s: tensor %s: dtype: expected one of F64, F32, F16, BF16, I64, I32, "
                        "I16, I8, U8, BOOL, ..., found %.32s", p, nm,
                        cJSON_IsString(dt) ? dt->valuestring : "a non-string");
    strcpy(e->dtype, dt->valuestring);

    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    if (!sh) return em_error("%s: tensor %s: shape: missing", p, nm);
    if (!cJSON_IsArray(sh)) return em_error("%s: tensor %s: shape: expected an array", p, nm);
    int nd = cJSON_GetArraySize(sh);
    if (nd > 8) return em_error("%s: tensor %s: shape: %d dims, expected at most 8", p, nm, nd);
    const cJSON *d;
    cJSON_ArrayForEach(d, sh) {
        uint64_t v;
        if (cJSON_IsNumber(d) && d->valuedouble < 0)
            return em_error("%s: tensor %s: shape[%d]: negative dim %g", p, nm, e->ndim,
                            d->valuedouble);
        if (json_uint(d, &v) || v > INT64_MAX)
            return em_error("%s: tensor %s: shape[%d]: expected a non-negative integer", p, nm,
                            e->ndim);
        e->shape[e->ndim++] = (int64_t)v;
    }

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!off) return em_error("%s: tensor %s: data_offsets: missing", p, nm);
    uint64_t b, en;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
        json_uint(cJSON_GetArrayItem(off, 0), &b) || json_uint(cJSON_GetArrayItem(off, 1), &en))
        return em_error("%s: tensor %s: data_offsets: expected [begin, end], two non-negative "
                        "integers", p, nm);
    if (b > en)
        return em_error("%s: tensor %s: data_offsets: begin %" PRIu64 " > end %" PRIu64, p, nm,
                        b, en);
    if (en > data_len)
        return em_error("%s: tensor %s: data_offsets: end %" PRIu64 " beyond the data section "
                        "(%zu bytes; truncated file?)", p, nm, en, data_len);
    e->begin = (size_t)b;
    e->end = (size_t)en;

    size_t nbytes;
    char sbuf[160];
    fmt_shape(sbuf, sizeof sbuf, e->ndim, e->shape);
    if (byte_size(e->ndim, e->shape, dtype_size(e->dtype), &nbytes))
        return em_error("%s: tensor %s: shape %s of %s: size overflows", p, nm, sbuf, e->dtype);
    if (nbytes != e->end - e->begin)
        return em_error("%s: tensor %s: shape %s of %s is %zu bytes, but data_offsets [%zu, %zu] "
                        "span %zu", p, nm, sbuf, e->dtype, nbytes, e->begin, e->end,
                        e->end - e->begin);
    f->n++;
    return 0;
}

static int parse_meta(StFile *f, const cJSON *meta) {
    if (!cJSON_IsObject(meta))
        return em_error("%s: __metadata__: expected an object of string values", f->path);
    int n = cJSON_GetArraySize(meta);
    f->meta_keys = xcalloc((size_t)n, sizeof(char *));
    f->meta_vals = xcalloc((size_t)n, sizeof(char *));
    const cJSON *it;
    cJSON_ArrayForEach(it, meta) {
        if (!cJSON_IsString(it))
            return em_error("%s: __metadata__.%s: expected a string value", f->path, it->string);
        f->meta_keys[f->n_meta] = strdup(it->string);
        f->meta_vals[f->n_meta] = strdup(it->valuestring);
        f->n_meta++;
    }
    return 0;
}

// ---- hashing: duplicate keys and lookup by name, linear in the header ------------
static uint64_t hash_str(const char *s) {  // FNV-1a
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

// The first member name of obj that an earlier member already has, or NULL.
static const char *dup_key(const cJSON *obj) {
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj) n++;
    if (n < 2) return NULL;
    size_t cap = pow2_at_least(2 * n);
    const char **set = xcalloc(cap, sizeof *set), *dup = NULL;
    cJSON_ArrayForEach(c, obj) {
        size_t h = (size_t)hash_str(c->string) & (cap - 1);
        while (set[h] && strcmp(set[h], c->string)) h = (h + 1) & (cap - 1);
        if (set[h]) { dup = c->string; break; }
        set[h] = c->string;
    }
    free(set);
    return dup;
}

// No object anywhere in the header has a key twice (a reader that keeps the first and
// one that keeps the last would see different files). `top`: the tensor or __metadata__
// that node sits in, NULL at the root.
static int check_dups(const StFile *f, const cJSON *node, const char *top) {
    if (cJSON_IsObject(node)) {
        const char *d = dup_key(node);
        if (d && !top)
            return !strcmp(d, "__metadata__")
                       ? em_error("%s: __metadata__: appears twice in the header", f->path)
                       : em_error("%s: tensor %s: appears twice in the header", f->path, d);
        if (d && !strcmp(top, "__metadata__"))
            return em_error("%s: __metadata__.%s: appears twice", f->path, d);
        if (d) return em_error("%s: tensor %s: key \"%s\" appears twice", f->path, top, d);
    }
    const cJSON *c;
    if (cJSON_IsObject(node) || cJSON_IsArray(node))
        cJSON_ArrayForEach(c, node)
            if (check_dups(f, c, top ? top : c->string)) return -1;
    return 0;
}

static void build_index(StFile *f) {
    f->index_cap = pow2_at_least(2 * (size_t)f->n);
    f->index = xcalloc(f->index_cap, sizeof *f->index);
    for (int i = 0; i < f->n; i++) {
        size_t h = (size_t)hash_str(f->entries[i].name) & (f->index_cap - 1);
        while (f->index[h]) h = (h + 1) & (f->index_cap - 1);
        f->index[h] = i + 1;
    }
}

// The tensors tile the data section: sorted by offset, each begins where the one
// before ended (empty tensors may share an offset), and the last ends at its end.
typedef struct { size_t begin, end; int i; } Range;
static int cmp_range(const void *a, const void *b) {
    const Range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

static int check_ranges(const StFile *f, size_t data_len) {
    Range *r = xmalloc(((size_t)f->n + 1) * sizeof *r);
    for (int i = 0; i < f->n; i++) r[i] = (Range){f->entries[i].begin, f->entries[i].end, i};
    qsort(r, (size_t)f->n, sizeof *r, cmp_range);
    size_t pos = 0;
    int last = -1, rc = 0;  // last: the tensor that ends at pos
    for (int k = 0; k < f->n && !rc; k++) {
        const StEntry *e = &f->entries[r[k].i];
        if (e->begin < pos)
            rc = em_error("%s: tensor %s: data_offsets [%zu, %zu] overlap tensor %s's [%zu, %zu]",
                          f->path, e->name, e->begin, e->end, f->entries[last].name,
                          f->entries[last].begin, f->entries[last].end);
        else if (e->begin > pos)
            rc = em_error("%s: tensor %s: data_offsets [%zu, %zu] leave a gap: bytes [%zu, %zu) "
                          "of the data section belong to no tensor", f->path, e->name, e->begin,
                          e->end, pos, e->begin);
        if (e->end > e->begin || last < 0) last = r[k].i;
        pos = e->end;
    }
    if (!rc && pos != data_len)
        rc = em_error("%s: data section: %zu bytes after the last tensor (ends at byte %zu of "
                      "%zu), expected none", f->path, data_len - pos, pos, data_len);
    free(r);
    return rc;
}

// The header: a JSON object in UTF-8, nothing but whitespace after it.
static int parse_header(StFile *f, size_t hlen) {
    const unsigned char *h = f->data + 8;
    char *text = xmalloc(hlen + 1);  // NUL-terminated copy: cJSON never reads past it
    memcpy(text, h, hlen);
    text[hlen] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    int rc = 0;
    if (root) {
        while (end < text + hlen && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end != text + hlen)
            rc = em_error("%s: header: unexpected bytes after the JSON object at byte %td of %zu",
                          f->path, end - text, hlen);
    } else {
        rc = em_error("%s: header: not valid JSON (error near byte %td of %zu)", f->path,
                      end ? end - text : (ptrdiff_t)0, hlen);
    }
    if (!rc && !cJSON_IsObject(root))
        rc = em_error("%s: header: expected a JSON object", f->path);
    for (size_t i = 0; !rc && i < hlen;) {  // cJSON takes any bytes inside strings
        uint32_t cp;
        int k = h[i] < 0x80 ? 1 : utf8_decode(h + i, hlen - i, &cp);
        if (!k) rc = em_error("%s: header: not valid UTF-8 at byte %zu", f->path, i);
        i += (size_t)k;
    }
    size_t n = 0;
    if (!rc) {
        const cJSON *it;
        cJSON_ArrayForEach(it, root) n += strcmp(it->string, "__metadata__") != 0;
        if (n > ST_MAX_TENSORS)
            rc = em_error("%s: header: %zu tensors, expected at most %d", f->path, n,
                          ST_MAX_TENSORS);
    }
    if (!rc) rc = check_dups(f, root, NULL);
    size_t data_len = f->size - f->data_start;
    if (!rc) {
        f->entries = xcalloc(n ? n : 1, sizeof(StEntry));
        const cJSON *it;
        cJSON_ArrayForEach(it, root) {
            rc = !strcmp(it->string, "__metadata__") ? parse_meta(f, it)
                                                      : parse_entry(f, it, data_len);
            if (rc) break;
        }
    }
    if (!rc) rc = check_ranges(f, data_len);
    if (!rc) build_index(f);
    cJSON_Delete(root);
    free(text);
    return rc;
}

int st_open(StFile *f, const char *path) {
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path) return em_error("%.200s...: path too long", path);
    strcpy(f->path, path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return em_error("%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return em_error("%s: not a regular file, expected a .safetensors file", path);
    }
    f->size = (size_t)sb.st_size;
    if (f->size < 8) {
        close(fd);
        return em_error("%s: file is %zu bytes, expected at least 8 (the header length)", path,
                        f->size);
    }
    void *map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return em_error("%s: cannot map %zu bytes: %s", path, f->size, strerror(e));
    f->data = map;
    f->mapped = 1;

    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | f->data[i];
    if (hlen > f->size - 8) {
        em_error("%s: header length %" PRIu64 " is larger than the file (%zu bytes after the "
                 "8-byte length; truncated, or not a safetensors file?)", path, hlen, f->size - 8);
        st_close(f);
        return -1;
    }
    if (hlen == 0 || hlen > ST_MAX_HEADER) {
        em_error("%s: header length %" PRIu64 ", expected 1 to %d bytes", path, hlen,
                 ST_MAX_HEADER);
        st_close(f);
        return -1;
    }
    f->data_start = 8 + (size_t)hlen;
    if (parse_header(f, (size_t)hlen)) { st_close(f); return -1; }
    return 0;
}

void st_close(StFile *f) {
    if (f->data) {
        if (f->mapped) munmap(f->data, f->size);
        else free(f->data);
    }
    for (int i = 0; i < f->n_meta; i++) { free(f->meta_keys[i]); free(f->meta_vals[i]); }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->entries);
    free(f->index);
    memset(f, 0, sizeof *f);
}

const StEntry *st_find(const StFile *f, const char *name) {
    if (!f->index_cap) return NULL;
    size_t h = (size_t)hash_str(name) & (f->index_cap - 1);
    for (; f->index[h]; h = (h + 1) & (f->index_cap - 1))
        if (!strcmp(f->entries[f->index[h] - 1].name, name)) return &f->entries[f->index[h] - 1];
    return NULL;
}

const char *st_meta(const StFile *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key)) return f->meta_vals[i];
    return NULL;
}

int st_read_f32(const StFile *f, const char *name, float *dst, int ndim, const int64_t *shape) {
    const StEntry *e = st_find(f, name);
    if (!e) return em_error("%s: tensor %s: missing", f->path, name);
    if (strcmp(e->dtype, "F32"))
        return em_error("%s: tensor %s: expected dtype F32, found %s", f->path, name, e->dtype);
    int same = e->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = e->shape[i] == shape[i];
    if (!same) {
        char want[160], got[160];
        return em_error("%s: tensor %s: expected shape %s, found %s", f->path, name,
                        fmt_shape(want, sizeof want, ndim, shape),
                        fmt_shape(got, sizeof got, e->ndim, e->shape));
    }
    // the data may sit at any byte offset: memcpy, never a float* cast
    if (e->end > e->begin) memcpy(dst, f->data + f->data_start + e->begin, e->end - e->begin);
    return 0;
}

// ---- writing ------------------------------------------------------------------
typedef struct { char *p; size_t n, cap; } Buf;

static void buf_put(Buf *b, const char *s, size_t len) {
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + len + 1 > cap) cap *= 2;
        char *p = xmalloc(cap);
        if (b->n) memcpy(p, b->p, b->n);
        free(b->p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}
static void buf_str(Buf *b, const char *s) { buf_put(b, s, strlen(s)); }

// A JSON string literal: quotes, backslashes and control bytes escaped; UTF-8 as is.
static void buf_json_str(Buf *b, const char *s) {
    buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; buf_put(b, esc, 2); }
        else if (c == '\n') buf_put(b, "\\n", 2);
        else if (c == '\t') buf_put(b, "\\t", 2);
        else if (c == '\r') buf_put(b, "\\r", 2);
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); buf_put(b, esc, 6); }
        else buf_put(b, (const char *)&c, 1);
    }
    buf_put(b, "\"", 1);
}

static int check_tensors(const char *path, const StTensor *t, int n, size_t *nbytes) {
    for (int i = 0; i < n; i++) {
        const char *nm = t[i].name ? t[i].name : "(null)";
        if (!t[i].name || !t[i].name[0] || strlen(nm) >= sizeof((StEntry *)0)->name ||
            !strcmp(nm, "__metadata__"))
            return em_error("%s: tensor %d: name '%s' is empty, too long or reserved", path, i, nm);
        for (int j = 0; j < i; j++)
            if (!strcmp(t[j].name, nm)) return em_error("%s: tensor %s: given twice", path, nm);
        const char *dt = t[i].dtype ? t[i].dtype : "F32";
        if (!dtype_size(dt)) return em_error("%s: tensor %s: unknown dtype %s", path, nm, dt);
        if (t[i].ndim < 0 || t[i].ndim > 8)
            return em_error("%s: tensor %s: ndim %d, expected 0..8", path, nm, t[i].ndim);
        for (int k = 0; k < t[i].ndim; k++)
            if (t[i].shape[k] < 0)
                return em_error("%s: tensor %s: shape[%d] is negative", path, nm, k);
        if (byte_size(t[i].ndim, t[i].shape, dtype_size(dt), &nbytes[i]))
            return em_error("%s: tensor %s: size overflows", path, nm);
        if (nbytes[i] && !t[i].data) return em_error("%s: tensor %s: no data", path, nm);
    }
    return 0;
}

int st_write(const char *path, const StTensor *t, int n,
             const char *const *meta_keys, const char *const *meta_vals, int n_meta) {
    size_t *nbytes = xcalloc((size_t)n, sizeof(size_t));
    if (check_tensors(path, t, n, nbytes)) { free(nbytes); return -1; }
    for (int i = 0; i < n_meta; i++) {
        if (!meta_keys[i] || !meta_vals[i]) {
            free(nbytes);
            return em_error("%s: __metadata__: key %d or its value is NULL", path, i);
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(meta_keys[j], meta_keys[i])) {
                free(nbytes);
                return em_error("%s: __metadata__.%s: given twice", path, meta_keys[i]);
            }
    }
    // {"__metadata__":{...},"name":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}
    Buf h = {0};
    buf_str(&h, "{");
    if (n_meta) {
        buf_str(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) buf_str(&h, ",");
            buf_json_str(&h, meta_keys[i]);
            buf_str(&h, ":");
            buf_json_str(&h, meta_vals[i]);
        }
        buf_str(&h, "}");
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        char num[64];
        if (n_meta || i) buf_str(&h, ",");
        buf_json_str(&h, t[i].name);
        buf_str(&h, ":{\"dtype\":");
        buf_json_str(&h, t[i].dtype ? t[i].dtype : "F32");
        buf_str(&h, ",\"shape\":[");
        for (int k = 0; k < t[i].ndim; k++) {
            snprintf(num, sizeof num, "%s%" PRId64, k ? "," : "", t[i].shape[k]);
            buf_str(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + nbytes[i]);
        buf_str(&h, num);
        off += nbytes[i];
    }
    buf_str(&h, "}");
    while (h.n % 8) buf_str(&h, " ");  // the data starts 8-byte aligned, as the reference pads

    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    AtomicFile af;
    int rc = atomic_open(&af, path);
    if (!rc) {
        rc = atomic_write(&af, len8, 8);
        if (!rc) rc = atomic_write(&af, h.p, h.n);
        for (int i = 0; i < n && !rc; i++) rc = atomic_write(&af, t[i].data, nbytes[i]);
        if (rc) atomic_abort(&af);
        else rc = atomic_commit(&af);
    }
    free(h.p);
    free(nbytes);
    return rc;
}

// ---- the model ----------------------------------------------------------------
int ckpt_save_model(const char *path, const GPT *m, const char *tokenizer_json,
                    const char *const *extra_keys, const char *const *extra_vals, int n_extra) {
    const GPTConfig *c = &m->cfg;
    if (!m->params) return em_error("%s: no parameters to save (model not created)", path);
    int n = gpt_param_table(c, NULL);
    ParamInfo *pi = xcalloc((size_t)n, sizeof *pi);
    StTensor *t = xcalloc((size_t)n, sizeof *t);
    gpt_param_table(c, pi);
    for (int i = 0; i < n; i++) {
        t[i] = (StTensor){.name = pi[i].name, .dtype = "F32", .data = m->params + pi[i].offset,
                          .ndim = pi[i].ndim, .shape = {pi[i].shape[0], pi[i].shape[1]}};
    }
    char num[5][16];
    int vals[5] = {c->vocab_size, c->block_size, c->n_layer, c->n_head, c->n_embd};
    for (int i = 0; i < 5; i++) snprintf(num[i], sizeof num[i], "%d", vals[i]);
    int nm = 0, cap = 7 + (n_extra > 0 ? n_extra : 0);
    const char **k = xcalloc((size_t)cap, sizeof *k), **v = xcalloc((size_t)cap, sizeof *v);
    const char *names[6] = {"format", "vocab_size", "n_positions", "n_layer", "n_head", "n_embd"};
    for (int i = 0; i < 6; i++) { k[nm] = names[i]; v[nm++] = i ? num[i - 1] : "pt"; }
    if (tokenizer_json) { k[nm] = "tokenizer"; v[nm++] = tokenizer_json; }
    for (int i = 0; i < n_extra; i++) { k[nm] = extra_keys[i]; v[nm++] = extra_vals[i]; }
    int rc = st_write(path, t, n, k, v, nm);
    free(k);
    free(v);
    free(t);
    free(pi);
    return rc;
}

// A strict decimal integer in [0, INT_MAX] from __metadata__.
static int meta_int(const StFile *f, const char *key, int *out) {
    const char *s = st_meta(f, key);
    if (!s) return em_error("%s: __metadata__.%s: missing (expected a decimal integer)", f->path, key);
    size_t len = strlen(s);
    long long v = 0;
    int ok = len > 0 && len <= 10;
    for (size_t i = 0; ok && i < len; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        v = v * 10 + (s[i] - '0');
    }
    if (!ok || v > INT_MAX)
        return em_error("%s: __metadata__.%s: expected a decimal integer, found \"%.40s\"",
                        f->path, key, s);
    *out = (int)v;
    return 0;
}

int ckpt_read_config(const StFile *f, GPTConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    if (meta_int(f, "vocab_size", &cfg->vocab_size) || meta_int(f, "n_positions", &cfg->block_size) ||
        meta_int(f, "n_layer", &cfg->n_layer) || meta_int(f, "n_head", &cfg->n_head) ||
        meta_int(f, "n_embd", &cfg->n_embd))
        return -1;
    return gpt_config_check(cfg, f->path);
}

// " (a GPT-2 with __metadata__ vocab_size 11, ...)": where an expected shape comes from
static const char *cfg_note(char *buf, size_t n, const GPTConfig *c) {
    snprintf(buf, n, " (a GPT-2 with __metadata__ vocab_size %d, n_positions %d, n_layer %d, "
             "n_head %d, n_embd %d)", c->vocab_size, c->block_size, c->n_layer, c->n_head,
             c->n_embd);
    return buf;
}

// Every tensor of the config's parameter table pi[0..n) is in f, F32, with its shape, and
// f holds no other. Reads only the header, so it runs before the model is allocated:
// what passes is backed by as many bytes of the file as the model will take.
static int check_tensors_match(const StFile *f, const GPTConfig *c, const ParamInfo *pi, int n) {
    char note[200];
    unsigned char *seen = xcalloc((size_t)f->n + 1, 1);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const StEntry *e = st_find(f, pi[i].name);
        int64_t shape[2] = {pi[i].shape[0], pi[i].shape[1]};
        int same = e && e->ndim == pi[i].ndim;
        for (int k = 0; same && k < e->ndim; k++) same = e->shape[k] == shape[k];
        char want[160], got[160];
        if (!e)
            rc = em_error("%s: tensor %s: missing, expected shape %s%s", f->path, pi[i].name,
                          fmt_shape(want, sizeof want, pi[i].ndim, shape),
                          cfg_note(note, sizeof note, c));
        else if (strcmp(e->dtype, "F32"))
            rc = em_error("%s: tensor %s: expected dtype F32, found %s", f->path, pi[i].name,
                          e->dtype);
        else if (!same)
            rc = em_error("%s: tensor %s: expected shape %s, found %s%s", f->path, pi[i].name,
                          fmt_shape(want, sizeof want, pi[i].ndim, shape),
                          fmt_shape(got, sizeof got, e->ndim, e->shape),
                          cfg_note(note, sizeof note, c));
        else
            seen[e - f->entries] = 1;
    }
    // a tensor the config does not explain means the header and the tensors disagree
    for (int i = 0; i < f->n && !rc; i++)
        if (!seen[i])
            rc = em_error("%s: tensor %s: not part of a GPT-2 with this config (n_layer %d)",
                          f->path, f->entries[i].name, c->n_layer);
    free(seen);
    return rc;
}

// The index of the first NaN or Inf among the n floats at p (any alignment), or n.
static size_t first_nonfinite(const unsigned char *p, size_t n) {
    const size_t chunk = 4096;
    for (size_t o = 0; o < n; o += chunk) {
        size_t k = n - o < chunk ? n - o : chunk;
        uint32_t bad = 0;
        for (size_t i = 0; i < k; i++) {  // all exponent bits set: Inf or NaN
            uint32_t u;
            memcpy(&u, p + 4 * (o + i), 4);
            bad |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (!bad) continue;
        for (size_t i = o; i < o + k; i++) {
            float x;
            memcpy(&x, p + 4 * i, 4);
            if (!isfinite(x)) return i;
        }
    }
    return n;
}

static int nonfinite_error(const char *path, const char *name, const unsigned char *p, size_t i) {
    float x;
    memcpy(&x, p + 4 * i, 4);
    em_error("%s: tensor %s: element %zu is %s, expected finite weights (a diverged run?)",
             path, name, i, isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf");
    return CKPT_ERR_NONFINITE;
}

// Copies tensor e into dst in cache-sized pieces, checking each piece while it is hot.
static int copy_tensor(const StFile *f, const StEntry *e, float *dst, int check) {
    const unsigned char *src = f->data + f->data_start + e->begin;
    size_t n = (e->end - e->begin) / 4;
    const size_t piece = 16384;  // floats: 64 KiB
    for (size_t o = 0; o < n; o += piece) {
        size_t k = n - o < piece ? n - o : piece;
        // the data may sit at any byte offset: memcpy, never a float* cast
        memcpy(dst + o, src + 4 * o, 4 * k);
        if (!check) continue;
        size_t bad = first_nonfinite((const unsigned char *)(dst + o), k);
        if (bad < k) return nonfinite_error(f->path, e->name, (const unsigned char *)dst, o + bad);
    }
    return 0;
}

static ParamInfo *param_table(const GPTConfig *c, int *n) {
    *n = gpt_param_table(c, NULL);
    ParamInfo *pi = xcalloc((size_t)*n, sizeof *pi);
    gpt_param_table(c, pi);
    return pi;
}

int ckpt_load_model_flags(const char *path, GPT *m, char **tokenizer_json, unsigned flags) {
    memset(m, 0, sizeof *m);
    if (tokenizer_json) *tokenizer_json = NULL;
    StFile f;
    if (st_open(&f, path)) return -1;
    GPTConfig cfg;
    if (ckpt_read_config(&f, &cfg)) { st_close(&f); return -1; }
    int n, rc;
    ParamInfo *pi = param_table(&cfg, &n);
    rc = check_tensors_match(&f, &cfg, pi, n);
    if (!rc && gpt_create(m, &cfg)) rc = -1;
    int check = !(flags & CKPT_ALLOW_NONFINITE);
    for (int i = 0; i < n && !rc; i++)
        rc = copy_tensor(&f, st_find(&f, pi[i].name), m->params + pi[i].offset, check);
    const char *tok = st_meta(&f, "tokenizer");
    if (!rc && tokenizer_json && tok) *tokenizer_json = strdup(tok);
    free(pi);
    st_close(&f);
    if (rc) gpt_free(m);
    return rc;
}

int ckpt_load_model(const char *path, GPT *m, char **tokenizer_json) {
    return ckpt_load_model_flags(path, m, tokenizer_json, 0);
}

// The stored tokenizer: present, parses, one symbol at most per row of the embedding.
static int tokenizer_fits(const char *path, const char *json, int vocab_size, Tokenizer *tok) {
    memset(tok, 0, sizeof *tok);
    if (!json) return em_error("%s: __metadata__.tokenizer: missing", path);
    if (tok_from_json(tok, json, path)) return -1;
    if (tok->vocab_size > vocab_size) {
        int n = tok->vocab_size;
        tok_free(tok);
        return em_error("%s: __metadata__.tokenizer: %d symbols, expected at most vocab_size %d "
                        "(the rows of transformer.wte.weight)", path, n, vocab_size);
    }
    return 0;
}

int ckpt_load(const char *path, GPT *m, Tokenizer *tok, char **tokenizer_json, unsigned flags) {
    memset(tok, 0, sizeof *tok);
    if (tokenizer_json) *tokenizer_json = NULL;
    char *js = NULL;
    int rc = ckpt_load_model_flags(path, m, &js, flags);
    if (rc) return rc;
    if (tokenizer_fits(path, js, m->cfg.vocab_size, tok)) {
        gpt_free(m);
        free(js);
        return -1;
    }
    if (tokenizer_json) *tokenizer_json = js;
    else free(js);
    return 0;
}

int ckpt_check(const StFile *f, unsigned flags) {
    GPTConfig cfg;
    if (ckpt_read_config(f, &cfg)) return -1;
    int n, rc;
    ParamInfo *pi = param_table(&cfg, &n);
    rc = check_tensors_match(f, &cfg, pi, n);
    for (int i = 0; i < n && !rc && !(flags & CKPT_ALLOW_NONFINITE); i++) {
        const StEntry *e = st_find(f, pi[i].name);
        const unsigned char *p = f->data + f->data_start + e->begin;
        size_t bad = first_nonfinite(p, pi[i].numel);
        if (bad < pi[i].numel) rc = nonfinite_error(f->path, e->name, p, bad);
    }
    free(pi);
    if (rc) return rc;
    Tokenizer tok;
    if (tokenizer_fits(f->path, st_meta(f, "tokenizer"), cfg.vocab_size, &tok)) return -1;
    tok_free(&tok);
    return 0;
}

const char *ckpt_first_nonfinite(const GPT *m, char *buf, size_t nb) {
    int n;
    ParamInfo *pi = param_table(&m->cfg, &n);
    const char *hit = NULL;
    for (int i = 0; i < n && !hit; i++)
        if (first_nonfinite((const unsigned char *)(m->params + pi[i].offset), pi[i].numel) <
            pi[i].numel) {
            snprintf(buf, nb, "%s", pi[i].name);
            hit = buf;
        }
    free(pi);
    return hit;
}
