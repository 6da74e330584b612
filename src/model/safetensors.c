// safetensors: reading (mmap, validated before use) and writing (atomic). The GPT-2
// model on top of it is in checkpoint.c.
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
const char *st_fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape) {
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
    st_fmt_shape(sbuf, sizeof sbuf, e->ndim, e->shape);
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
                        st_fmt_shape(want, sizeof want, ndim, shape),
                        st_fmt_shape(got, sizeof got, e->ndim, e->shape));
    }
    // the data may sit at any byte offset: memcpy, never a float* cast
    if (e->end > e->begin) memcpy(dst, f->data + f->data_start + e->begin, e->end - e->begin);
    return 0;
}

// ---- writing ------------------------------------------------------------------
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
    StrBuf h = {0};
    sb_puts(&h, "{");
    if (n_meta) {
        sb_puts(&h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) sb_puts(&h, ",");
            sb_json_string(&h, meta_keys[i]);
            sb_puts(&h, ":");
            sb_json_string(&h, meta_vals[i]);
        }
        sb_puts(&h, "}");
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        char num[64];
        if (n_meta || i) sb_puts(&h, ",");
        sb_json_string(&h, t[i].name);
        sb_puts(&h, ":{\"dtype\":");
        sb_json_string(&h, t[i].dtype ? t[i].dtype : "F32");
        sb_puts(&h, ",\"shape\":[");
        for (int k = 0; k < t[i].ndim; k++) {
            snprintf(num, sizeof num, "%s%" PRId64, k ? "," : "", t[i].shape[k]);
            sb_puts(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + nbytes[i]);
        sb_puts(&h, num);
        off += nbytes[i];
    }
    sb_puts(&h, "}");
    while (h.n % 8) sb_puts(&h, " ");  // the data starts 8-byte aligned, as the reference pads

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
