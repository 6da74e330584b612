// Checkpoint tests: bit-exact round trip, Hugging Face names and shapes, and refusal
// (with a message naming the file and the field) of every kind of broken file.
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "model/checkpoint.h"
#include "model/gpt.h"
#include "test.h"

static char g_dir[64];

static const char *tmp_path(const char *name) {
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "%s/%s", g_dir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (len) fwrite(data, 1, len, f);
    fclose(f);
}

// A safetensors file with the given header text (padded) and `data_len` zero bytes.
static void write_raw(const char *path, const char *header, size_t data_len) {
    size_t h = strlen(header), hp = (h + 7) / 8 * 8, n = 8 + hp + data_len;
    unsigned char *b = calloc(n, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hp >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    write_bytes(path, b, n);
    free(b);
}

static const GPTConfig small = {.vocab_size = 11, .block_size = 8, .n_layer = 2, .n_head = 2,
                                 .n_embd = 8};
static const char *tok11 = "{\"type\":\"char\",\"vocab_size\":11,\"chars\":\"abcdefghijk\"}";
static const char *tok_json = "{\"type\": \"char\", \"vocab_size\": 11, \"chars\": \"ab\\\"\\\\\\n\xc3\xa9\"}";

// A model with distinct random values, plus -0, a denormal and an infinity.
static void make_model(GPT *m, const GPTConfig *c) {
    if (gpt_create(m, c)) { fprintf(stderr, "gpt_create: %s\n", em_errmsg()); exit(2); }
    Rng r;
    rng_seed(&r, 42);
    for (size_t i = 0; i < m->num_params; i++) m->params[i] = rng_normal(&r);
    m->params[0] = -0.0f;
    m->params[1] = 1e-40f;
    m->params[m->num_params - 1] = 1.0f / 0.0f;
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

// Expects st_open to refuse `path` with a message naming the file and every needle.
static void expect_open_fails(const char *path, const char *n1, const char *n2, int line) {
    StFile f;
    em_clear_error();
    int rc = st_open(&f, path);
    CHECK(rc == -1, "line %d: st_open accepted a broken file", line);
    if (rc == 0) { st_close(&f); return; }
    const char *e = em_errmsg();
    CHECK(contains(e, path), "line %d: error does not name the file: %s", line, e);
    CHECK(!n1 || contains(e, n1), "line %d: error lacks '%s': %s", line, n1, e);
    CHECK(!n2 || contains(e, n2), "line %d: error lacks '%s': %s", line, n2, e);
}
#define OPEN_FAILS(path, n1, n2) expect_open_fails(path, n1, n2, __LINE__)

static void expect_load_fails(const char *path, const char *n1, const char *n2, int line) {
    GPT m;
    char *tok = (char *)1;
    em_clear_error();
    int rc = ckpt_load_model(path, &m, &tok);
    CHECK(rc == -1, "line %d: ckpt_load_model accepted a broken file", line);
    if (rc == 0) { gpt_free(&m); free(tok); return; }
    CHECK(tok == NULL && m.params == NULL, "line %d: outputs not cleared on failure", line);
    const char *e = em_errmsg();
    CHECK(contains(e, path), "line %d: error does not name the file: %s", line, e);
    CHECK(!n1 || contains(e, n1), "line %d: error lacks '%s': %s", line, n1, e);
    CHECK(!n2 || contains(e, n2), "line %d: error lacks '%s': %s", line, n2, e);
}
#define LOAD_FAILS(path, n1, n2) expect_load_fails(path, n1, n2, __LINE__)

// ---- round trip and layout ------------------------------------------------------
static void test_save_load_round_trip(void) {
    GPT m, m2;
    make_model(&m, &small);
    const char *path = tmp_path("rt.safetensors");
    const char *k[] = {"step"}, *v[] = {"42"};
    CHECK(ckpt_save_model(path, &m, tok_json, k, v, 1) == 0, "%s", em_errmsg());
    CHECK(!file_exists(tmp_path("rt.safetensors.tmp")), "temporary file left behind");
    char *tok = NULL;
    // the Inf is refused by default, naming the tensor, and loads bit-exact when allowed
    CHECK(ckpt_load_model(path, &m2, &tok) == CKPT_ERR_NONFINITE && !tok && !m2.params &&
          contains(em_errmsg(), path) &&
          contains(em_errmsg(), "tensor transformer.ln_f.bias: element 7 is +Inf"),
          "%s", em_errmsg());
    CHECK(ckpt_load_model_flags(path, &m2, &tok, CKPT_ALLOW_NONFINITE) == 0, "%s", em_errmsg());
    if (!m2.params) { gpt_free(&m); free(tok); return; }
    CHECK(!memcmp(&m.cfg, &m2.cfg, sizeof m.cfg), "config differs: V %d T %d L %d NH %d C %d",
          m2.cfg.vocab_size, m2.cfg.block_size, m2.cfg.n_layer, m2.cfg.n_head, m2.cfg.n_embd);
    CHECK(m2.num_params == m.num_params, "%zu vs %zu params", m2.num_params, m.num_params);
    CHECK(!memcmp(m.params, m2.params, m.num_params * sizeof(float)), "parameters differ");
    CHECK(tok && !strcmp(tok, tok_json), "tokenizer differs: %s", tok ? tok : "(null)");
    StFile f;
    CHECK(st_open(&f, path) == 0, "%s", em_errmsg());
    const char *want[][2] = {{"format", "pt"}, {"vocab_size", "11"}, {"n_positions", "8"},
                             {"n_layer", "2"}, {"n_head", "2"}, {"n_embd", "8"}, {"step", "42"}};
    for (int i = 0; i < 7; i++) {
        const char *got = st_meta(&f, want[i][0]);
        CHECK(got && !strcmp(got, want[i][1]), "%s: '%s'", want[i][0], got ? got : "(null)");
    }
    CHECK(st_meta(&f, "absent") == NULL, "absent key found");
    st_close(&f);
    // loading without asking for the tokenizer, and saving without one
    gpt_free(&m2);
    CHECK(ckpt_load_model_flags(path, &m2, NULL, CKPT_ALLOW_NONFINITE) == 0, "%s", em_errmsg());
    gpt_free(&m2);
    CHECK(ckpt_save_model(path, &m, NULL, NULL, NULL, 0) == 0, "%s", em_errmsg());
    free(tok);
    tok = (char *)1;
    CHECK(ckpt_load_model_flags(path, &m2, &tok, CKPT_ALLOW_NONFINITE) == 0 && tok == NULL,
          "tokenizer should be NULL");
    gpt_free(&m2);
    gpt_free(&m);
}

static void test_header_layout(void) {
    GPT m;
    make_model(&m, &small);
    const char *path = tmp_path("layout.safetensors");
    CHECK(ckpt_save_model(path, &m, NULL, NULL, NULL, 0) == 0, "%s", em_errmsg());
    StFile f;
    if (st_open(&f, path)) { CHECK(0, "%s", em_errmsg()); gpt_free(&m); return; }
    int C = small.n_embd;
    struct { const char *name; int ndim; int64_t d0, d1; } want[] = {
        {"transformer.wte.weight", 2, 11, C},        {"transformer.wpe.weight", 2, 8, C},
        {"transformer.h.0.attn.c_attn.weight", 2, C, 3 * C},
        {"transformer.h.1.attn.c_attn.bias", 1, 3 * C, 0},
        {"transformer.h.1.mlp.c_fc.weight", 2, C, 4 * C},
        {"transformer.h.1.mlp.c_proj.weight", 2, 4 * C, C},
        {"transformer.h.0.ln_1.weight", 1, C, 0},     {"transformer.ln_f.bias", 1, C, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const StEntry *e = st_find(&f, want[i].name);
        CHECK(e != NULL, "%s missing", want[i].name);
        if (!e) continue;
        CHECK(!strcmp(e->dtype, "F32"), "%s: dtype %s", e->name, e->dtype);
        CHECK(e->ndim == want[i].ndim && e->shape[0] == want[i].d0 &&
              (e->ndim == 1 || e->shape[1] == want[i].d1),
              "%s: shape ndim %d (%lld, %lld)", e->name, e->ndim, (long long)e->shape[0],
              (long long)e->shape[1]);
    }
    CHECK(f.n == 2 + 12 * small.n_layer + 2, "%d tensors", f.n);
    CHECK(f.data_start % 8 == 0, "data starts at %zu, not 8-aligned", f.data_start);
    // the tensors tile the data section in table order, and each is the parameter slice
    ParamInfo pi[64];
    int n = gpt_param_table(&small, pi);
    size_t off = 0;
    for (int i = 0; i < n && i < f.n; i++) {
        const StEntry *e = &f.entries[i];
        CHECK(!strcmp(e->name, pi[i].name), "entry %d is %s, expected %s", i, e->name, pi[i].name);
        CHECK(e->begin == off, "%s begins at %zu, expected %zu", e->name, e->begin, off);
        CHECK(!memcmp(f.data + f.data_start + e->begin, m.params + pi[i].offset,
                      pi[i].numel * 4), "%s: bytes differ from the parameter slice", e->name);
        off = e->end;
    }
    CHECK(off == f.size - f.data_start, "data ends at %zu of %zu", off, f.size - f.data_start);
    // the header names appear verbatim, with shapes as JSON
    char *hdr = strndup((const char *)f.data + 8, f.data_start - 8);
    CHECK(contains(hdr, "\"transformer.h.1.mlp.c_proj.weight\":{\"dtype\":\"F32\",\"shape\":[32,8]"),
          "header: %.200s", hdr);
    CHECK(contains(hdr, "\"__metadata__\""), "no __metadata__");
    free(hdr);
    st_close(&f);
    gpt_free(&m);
}

// F32 data at an odd byte offset (after a 3-byte U8 tensor) reads back exactly.
static void test_unaligned_and_dtypes(void) {
    const char *path = tmp_path("mixed.safetensors");
    unsigned char u8[3] = {1, 2, 3};
    float x[5] = {1.5f, -2.25f, 3e-38f, 0.0f, 7.0f}, y[5] = {0};
    int32_t i32[2] = {-7, 1 << 30};
    StTensor t[3] = {
        {.name = "bytes", .dtype = "U8", .data = u8, .ndim = 1, .shape = {3}},
        {.name = "x", .data = x, .ndim = 2, .shape = {1, 5}},
        {.name = "ids", .dtype = "I32", .data = i32, .ndim = 1, .shape = {2}},
    };
    const char *k[] = {"note"}, *v[] = {"tab\there \"quoted\" \x01"};
    CHECK(st_write(path, t, 3, k, v, 1) == 0, "%s", em_errmsg());
    StFile f;
    if (st_open(&f, path)) { CHECK(0, "%s", em_errmsg()); return; }
    const StEntry *e = st_find(&f, "x");
    CHECK(e && (f.data_start + e->begin) % 4 != 0, "x should sit unaligned");
    int64_t s[2] = {1, 5};
    CHECK(st_read_f32(&f, "x", y, 2, s) == 0, "%s", em_errmsg());
    CHECK(!memcmp(x, y, sizeof x), "x differs");
    CHECK(st_meta(&f, "note") && !strcmp(st_meta(&f, "note"), v[0]), "metadata escaping");
    int64_t s2[1] = {2};
    CHECK(st_read_f32(&f, "ids", y, 1, s2) == -1 &&
          contains(em_errmsg(), "tensor ids: expected dtype F32, found I32"), "%s", em_errmsg());
    int64_t s3[1] = {5};
    CHECK(st_read_f32(&f, "x", y, 1, s3) == -1 &&
          contains(em_errmsg(), "tensor x: expected shape (5,), found (1, 5)"), "%s", em_errmsg());
    CHECK(st_read_f32(&f, "nope", y, 1, s3) == -1 && contains(em_errmsg(), "nope"), "%s",
          em_errmsg());
    st_close(&f);
    // whatever the header's length, it is padded with spaces so the data starts 8-aligned
    for (int pad = 0; pad < 8; pad++) {
        char val[9] = "xxxxxxxx";
        val[pad] = 0;
        const char *vp[] = {val};
        CHECK(st_write(path, t, 3, k, vp, 1) == 0, "%s", em_errmsg());
        if (st_open(&f, path)) { CHECK(0, "%s", em_errmsg()); continue; }
        CHECK(f.data_start % 8 == 0, "value of %d bytes: data starts at %zu", pad, f.data_start);
        CHECK(!strcmp(st_meta(&f, "note"), val), "note '%s'", st_meta(&f, "note"));
        st_close(&f);
    }
}

// ---- broken files ----------------------------------------------------------------
static unsigned char *saved_model_bytes(size_t *len) {
    GPT m;
    make_model(&m, &small);
    const char *path = tmp_path("src.safetensors");
    if (ckpt_save_model(path, &m, tok_json, NULL, NULL, 0)) { fprintf(stderr, "%s\n", em_errmsg()); exit(2); }
    gpt_free(&m);
    return (unsigned char *)read_file(path, len);
}

static void test_truncated(void) {
    size_t len;
    unsigned char *b = saved_model_bytes(&len);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | b[i];
    const char *path = tmp_path("cut.safetensors");
    // named cuts, with the message each should give
    struct { size_t at; const char *n1, *n2; } cuts[] = {
        {0, "at least 8", NULL}, {5, "at least 8", NULL}, {8, "header length", NULL},
        {8 + hlen / 2, "header length", "larger than the file"},
        {8 + hlen, "data_offsets", "truncated"}, {8 + hlen + 1, "data_offsets", "truncated"},
        {len - 1, "transformer.ln_f.bias", "truncated"},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(path, b, cuts[i].at);
        OPEN_FAILS(path, cuts[i].n1, cuts[i].n2);
        LOAD_FAILS(path, cuts[i].n1, cuts[i].n2);
    }
    // every other cut is refused too (under ASan: without reading out of bounds)
    int accepted = 0;
    for (size_t at = 0; at < len; at += (at < 8 + hlen + 64 ? 1 : 37)) {
        write_bytes(path, b, at);
        StFile f;
        if (st_open(&f, path) == 0) { accepted++; st_close(&f); }
    }
    CHECK(accepted == 0, "%d truncated files accepted", accepted);
    free(b);
}

static void test_oversized_header(void) {
    const char *path = tmp_path("big.safetensors");
    unsigned char b[16] = {0};
    b[7] = 0x10;  // 2^60
    memcpy(b + 8, "{}      ", 8);
    write_bytes(path, b, 16);
    OPEN_FAILS(path, "header length 1152921504606846976", "larger than the file");
    LOAD_FAILS(path, "header length", NULL);
    b[7] = 0;
    b[0] = 9;  // one byte more than the file holds
    write_bytes(path, b, 16);
    OPEN_FAILS(path, "header length 9", "larger than the file");
    b[0] = 0xff; b[1] = 0xff; b[2] = 0xff; b[3] = 0xff; b[4] = 0xff; b[5] = 0xff; b[6] = 0xff; b[7] = 0xff;
    write_bytes(path, b, 16);
    OPEN_FAILS(path, "header length 18446744073709551615", NULL);
}

static void test_garbage_header(void) {
    const char *path = tmp_path("garbage.safetensors");
    write_raw(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], ", 4);
    OPEN_FAILS(path, "header", "not valid JSON");
    write_raw(path, "\x89PNG\r\n\x1a\n garbage", 0);
    OPEN_FAILS(path, "header", "not valid JSON");
    write_raw(path, "[1, 2, 3]", 0);
    OPEN_FAILS(path, "header", "expected a JSON object");
    write_raw(path, "{} {}", 0);
    OPEN_FAILS(path, "header", "after the JSON object");
    // a NUL inside the header is not whitespace
    unsigned char b[24] = {16, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, ' ', ' ', ' ', ' ', ' ',
                           ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    write_bytes(path, b, 24);
    OPEN_FAILS(path, "header", NULL);
    write_raw(path, "{}", 0);  // empty but valid
    StFile f;
    CHECK(st_open(&f, path) == 0 && f.n == 0, "%s", em_errmsg());
    st_close(&f);
    LOAD_FAILS(path, "__metadata__.vocab_size", "missing");
}

static void test_bad_entries(void) {
    const char *path = tmp_path("entries.safetensors");
    struct { const char *hdr; size_t data; const char *n1, *n2; } c[] = {
        {"{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "tensor w: dtype", "missing"},
        {"{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", 8, "tensor w: shape", "missing"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, "tensor w: data_offsets", "missing"},
        {"{\"w\": {\"dtype\": \"F33\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8,
         "tensor w: dtype", "F33"},
        {"{\"w\": {\"dtype\": 4, \"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "tensor w: dtype", NULL},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8,
         "tensor w: shape (3,) of F32 is 12 bytes", "span 8"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8,
         "tensor w: data_offsets", "begin 8 > end 0"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 8,
         "tensor w: data_offsets", "beyond the data section"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 1e300]}}", 8,
         "tensor w: data_offsets", NULL},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8,
         "tensor w: data_offsets", "[begin, end]"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}", 8,
         "tensor w: data_offsets", NULL},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [-2, -4], \"data_offsets\": [0, 32]}}", 32,
         "tensor w: shape[0]", "negative"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8,
         "tensor w: shape[0]", "integer"},
        {"{\"w\": {\"dtype\": \"F32\", \"shape\": 2, \"data_offsets\": [0, 8]}}", 8,
         "tensor w: shape", "array"},
        {"{\"w\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 1]}}", 1,
         "tensor w: shape", "at most 8"},
        {"{\"w\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296, 4294967296], "
         "\"data_offsets\": [0, 1]}}", 1, "tensor w: shape", "overflows"},
        {"{\"w\": 7}", 0, "tensor w", "expected an object"},
        {"{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
         " \"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1,
         "tensor w", "twice"},
        {"{\"__metadata__\": {\"a\": \"x\", \"n_layer\": 2}}", 0, "__metadata__.n_layer",
         "expected a string"},
        {"{\"__metadata__\": [\"a\"]}", 0, "__metadata__", "expected an object"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        write_raw(path, c[i].hdr, c[i].data);
        OPEN_FAILS(path, c[i].n1, c[i].n2);
    }
    // a 9-dim shape is refused but 8 is fine, and a zero-size tensor is fine
    write_raw(path, "{\"w\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1], \"data_offsets\": [0, 1]},"
                    " \"z\": {\"dtype\": \"F32\", \"shape\": [0, 3], \"data_offsets\": [1, 1]}}", 1);
    StFile f;
    CHECK(st_open(&f, path) == 0 && f.n == 2 && f.entries[0].ndim == 8, "%s", em_errmsg());
    st_close(&f);
}

// A model file written by st_write, with one change: `what` applied to tensor `name`.
enum { SAME, RESHAPE, AS_F16, AS_I32, DROP, EXTRA };
static void write_variant(const char *path, const GPT *m, const char *name, int what,
                          const char *drop_key, const char *key, const char *val) {
    ParamInfo pi[64];
    StTensor t[65];
    int n = gpt_param_table(&m->cfg, pi), k = 0;
    for (int i = 0; i < n; i++) {
        StTensor x = {.name = pi[i].name, .data = m->params + pi[i].offset, .ndim = pi[i].ndim,
                      .shape = {pi[i].shape[0], pi[i].shape[1]}};
        if (name && !strcmp(name, pi[i].name)) {
            if (what == DROP) continue;
            if (what == RESHAPE) x.shape[1] -= 8;           // (C, 3C) -> (C, 3C - 8)
            if (what == AS_F16) x.dtype = "F16", x.shape[1] *= 2;  // same bytes
            if (what == AS_I32) x.dtype = "I32";
        }
        t[k++] = x;
    }
    if (what == EXTRA) t[k++] = (StTensor){.name = name, .data = m->params, .ndim = 1, .shape = {4}};
    char V[16], T[16], L[16], NH[16], C[16];
    snprintf(V, 16, "%d", m->cfg.vocab_size); snprintf(T, 16, "%d", m->cfg.block_size);
    snprintf(L, 16, "%d", m->cfg.n_layer); snprintf(NH, 16, "%d", m->cfg.n_head);
    snprintf(C, 16, "%d", m->cfg.n_embd);
    const char *keys[] = {"format", "vocab_size", "n_positions", "n_layer", "n_head", "n_embd"};
    const char *vals[] = {"pt", V, T, L, NH, C};
    const char *mk[7], *mv[7];
    int nm = 0;
    for (int i = 0; i < 6; i++) {
        if (drop_key && !strcmp(keys[i], drop_key)) continue;
        mk[nm] = keys[i];
        mv[nm++] = key && !strcmp(keys[i], key) ? val : vals[i];
    }
    if (st_write(path, t, k, mk, mv, nm)) { fprintf(stderr, "%s\n", em_errmsg()); exit(2); }
}

static void test_wrong_tensors(void) {
    GPT m, m2;
    make_model(&m, &small);
    const char *path = tmp_path("variant.safetensors");
    write_variant(path, &m, NULL, SAME, NULL, NULL, NULL);  // the control: this one loads
    CHECK(ckpt_load_model_flags(path, &m2, NULL, CKPT_ALLOW_NONFINITE) == 0, "%s", em_errmsg());
    CHECK(m2.params && !memcmp(m.params, m2.params, m.num_params * 4), "variant round trip");
    gpt_free(&m2);

    const char *qkv = "transformer.h.0.attn.c_attn.weight";
    write_variant(path, &m, qkv, RESHAPE, NULL, NULL, NULL);
    LOAD_FAILS(path, "tensor transformer.h.0.attn.c_attn.weight: expected shape (8, 24), found (8, 16)", NULL);
    write_variant(path, &m, "transformer.h.1.mlp.c_proj.weight", AS_F16, NULL, NULL, NULL);
    LOAD_FAILS(path, "tensor transformer.h.1.mlp.c_proj.weight: expected dtype F32, found F16", NULL);
    write_variant(path, &m, "transformer.wpe.weight", AS_I32, NULL, NULL, NULL);
    LOAD_FAILS(path, "tensor transformer.wpe.weight: expected dtype F32, found I32", NULL);
    write_variant(path, &m, "transformer.h.1.ln_2.bias", DROP, NULL, NULL, NULL);
    LOAD_FAILS(path, "tensor transformer.h.1.ln_2.bias: missing", NULL);
    write_variant(path, &m, "transformer.h.2.ln_1.weight", EXTRA, NULL, NULL, NULL);
    LOAD_FAILS(path, "tensor transformer.h.2.ln_1.weight", "not part of");
    gpt_free(&m);
}

static void test_bad_metadata(void) {
    GPT m;
    make_model(&m, &small);
    const char *path = tmp_path("meta.safetensors");
    const char *keys[] = {"vocab_size", "n_positions", "n_layer", "n_head", "n_embd"};
    for (int i = 0; i < 5; i++) {
        write_variant(path, &m, NULL, SAME, keys[i], NULL, NULL);
        char want[64];
        snprintf(want, sizeof want, "__metadata__.%s: missing", keys[i]);
        LOAD_FAILS(path, want, NULL);
    }
    const char *bad[] = {"", "12a", "-3", " 8", "8 ", "0x10", "99999999999", "1e3", "8.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_variant(path, &m, NULL, SAME, NULL, "n_embd", bad[i]);
        LOAD_FAILS(path, "__metadata__.n_embd: expected a decimal integer", NULL);
    }
    // parses but fails the config check: n_embd 8 is not divisible by n_head 5
    write_variant(path, &m, NULL, SAME, NULL, "n_head", "5");
    LOAD_FAILS(path, "n_embd", "n_head");
    write_variant(path, &m, NULL, SAME, NULL, "n_layer", "0");
    LOAD_FAILS(path, "n_layer", NULL);
    // a config that parses but does not match the tensors
    write_variant(path, &m, NULL, SAME, NULL, "vocab_size", "12");
    LOAD_FAILS(path, "transformer.wte.weight", "expected shape (12, 8), found (11, 8)");
    gpt_free(&m);
}

// ---- failed writes leave nothing behind ------------------------------------------
static void test_failed_save(void) {
    GPT m;
    make_model(&m, &small);
    const char *path = tmp_path("no-such-dir/model.safetensors");
    em_clear_error();
    CHECK(ckpt_save_model(path, &m, NULL, NULL, NULL, 0) == -1, "saved into a missing directory");
    CHECK(contains(em_errmsg(), "no-such-dir/model.safetensors"), "%s", em_errmsg());
    CHECK(!file_exists(path) && !file_exists(tmp_path("no-such-dir/model.safetensors.tmp")),
          "files left behind");
    // the final path is a directory: the rename fails and the .tmp is removed
    const char *d = tmp_path("isdir");
    mkdir(d, 0755);
    CHECK(ckpt_save_model(d, &m, NULL, NULL, NULL, 0) == -1, "saved over a directory");
    CHECK(!file_exists(tmp_path("isdir.tmp")), "isdir.tmp left behind");
    rmdir(d);
    // a write that fails midway (file size limit: EFBIG) removes the .tmp
    const char *lim = tmp_path("limited.safetensors");
    struct rlimit old, small_lim;
    getrlimit(RLIMIT_FSIZE, &old);
    small_lim = old;
    small_lim.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &small_lim);
    int rc = ckpt_save_model(lim, &m, NULL, NULL, NULL, 0);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK(rc == -1 && contains(em_errmsg(), "limited.safetensors"), "rc %d: %s", rc, em_errmsg());
    CHECK(!file_exists(lim) && !file_exists(tmp_path("limited.safetensors.tmp")), "files left");
    // a bad extra key (duplicate of a reserved one) writes nothing
    const char *good = tmp_path("dup.safetensors");
    const char *k[] = {"n_layer"}, *v[] = {"3"};
    CHECK(ckpt_save_model(good, &m, NULL, k, v, 1) == -1 && contains(em_errmsg(), "n_layer"),
          "%s", em_errmsg());
    CHECK(!file_exists(good) && !file_exists(tmp_path("dup.safetensors.tmp")), "files left");
    // st_write refusals
    float x[4] = {0};
    StTensor t[2] = {{.name = "a", .data = x, .ndim = 1, .shape = {4}},
                     {.name = "a", .data = x, .ndim = 1, .shape = {4}}};
    CHECK(st_write(good, t, 2, NULL, NULL, 0) == -1 && contains(em_errmsg(), "tensor a"), "dup");
    t[1].name = "b";
    t[1].shape[0] = -1;
    CHECK(st_write(good, t, 2, NULL, NULL, 0) == -1 && contains(em_errmsg(), "tensor b"), "neg");
    t[1].shape[0] = 4;
    t[1].dtype = "F12";
    CHECK(st_write(good, t, 2, NULL, NULL, 0) == -1 && contains(em_errmsg(), "F12"), "dtype");
    t[1].dtype = NULL;
    t[1].data = NULL;
    CHECK(st_write(good, t, 2, NULL, NULL, 0) == -1 && contains(em_errmsg(), "no data"), "data");
    CHECK(!file_exists(good), "file left behind by a refused st_write");
    gpt_free(&m);
}

// ---- hardened reading -------------------------------------------------------------
static void make_finite_model(GPT *m, const GPTConfig *c) {
    make_model(m, c);
    m->params[m->num_params - 1] = 0.5f;
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

// A stored tokenizer with more symbols than the embedding has rows is refused by every
// loader of a model with its tokenizer (it would index past transformer.wte.weight).
static void test_tokenizer_larger_than_vocab(void) {
    GPT m, m2;
    make_finite_model(&m, &small);  // vocab_size 11
    const char *path = tmp_path("bigtok.safetensors");
    const char *tok12 = "{\"type\":\"char\",\"vocab_size\":12,\"chars\":\"abcdefghijkl\"}";
    CHECK(ckpt_save_model(path, &m, tok12, NULL, NULL, 0) == 0, "%s", em_errmsg());
    Tokenizer tok = {.vocab_size = 99};
    char *js = (char *)1;
    em_clear_error();
    CHECK(ckpt_load(path, &m2, &tok, &js, 0) == -1, "a 12-symbol tokenizer loaded for vocab 11");
    CHECK(!m2.params && !js && !tok.chars && tok.vocab_size == 0, "outputs not cleared");
    const char *e = em_errmsg();
    CHECK(contains(e, path) && contains(e, "__metadata__.tokenizer") &&
          contains(e, "12 symbols, expected at most vocab_size 11"), "%s", e);
    StFile f;
    if (st_open(&f, path) == 0) {  // what info checks: the same refusal
        CHECK(ckpt_check(&f, 0) == -1 && contains(em_errmsg(), "at most vocab_size 11"), "%s",
              em_errmsg());
        st_close(&f);
    }
    // as many symbols as rows loads, with the stored text; fewer is fine too
    CHECK(ckpt_save_model(path, &m, tok11, NULL, NULL, 0) == 0, "%s", em_errmsg());
    CHECK(ckpt_load(path, &m2, &tok, &js, 0) == 0, "%s", em_errmsg());
    CHECK(tok.vocab_size == 11 && js && !strcmp(js, tok11), "tokenizer %d", tok.vocab_size);
    if (m2.params) gpt_free(&m2);
    tok_free(&tok);
    free(js);
    CHECK(st_open(&f, path) == 0 && ckpt_check(&f, 0) == 0, "%s", em_errmsg());
    st_close(&f);
    CHECK(ckpt_load(path, &m2, &tok, NULL, 0) == 0 && tok.vocab_size == 11, "%s", em_errmsg());
    gpt_free(&m2);
    tok_free(&tok);
    // no tokenizer at all: refused by ckpt_load, fine for ckpt_load_model
    CHECK(ckpt_save_model(path, &m, NULL, NULL, NULL, 0) == 0, "%s", em_errmsg());
    CHECK(ckpt_load(path, &m2, &tok, NULL, 0) == -1 &&
          contains(em_errmsg(), "__metadata__.tokenizer: missing"), "%s", em_errmsg());
    gpt_free(&m);
}

// A tiny file whose config asks for hundreds of megabytes is refused before any of it is
// allocated, and one asking for 200 GB gets an error naming the file, not "out of memory".
static void test_config_without_tensors(void) {
    const char *path = tmp_path("hollow.safetensors");
    write_raw(path, "{\"__metadata__\": {\"format\": \"pt\", \"vocab_size\": \"65536\", "
                    "\"n_positions\": \"1024\", \"n_layer\": \"1\", \"n_head\": \"8\", "
                    "\"n_embd\": \"1024\"}}", 0);
    long before = max_rss_kb();
    LOAD_FAILS(path, "tensor transformer.wte.weight: missing", "__metadata__ vocab_size 65536");
    long grew = max_rss_kb() - before;
    CHECK(grew < 64 * 1024, "a header-only file made the loader grow by %ld KB", grew);
    write_raw(path, "{\"__metadata__\": {\"format\": \"pt\", \"vocab_size\": \"16777216\", "
                    "\"n_positions\": \"1024\", \"n_layer\": \"8\", \"n_head\": \"16\", "
                    "\"n_embd\": \"3072\"}}", 0);
    LOAD_FAILS(path, "tensor transformer.wte.weight: missing", "vocab_size 16777216");
    // a tensor present with the right name but a small shape does not help
    write_raw(path, "{\"__metadata__\": {\"format\": \"pt\", \"vocab_size\": \"16777216\", "
                    "\"n_positions\": \"1024\", \"n_layer\": \"8\", \"n_head\": \"16\", "
                    "\"n_embd\": \"3072\"}, \"transformer.wte.weight\": {\"dtype\": \"F32\", "
                    "\"shape\": [1, 1], \"data_offsets\": [0, 4]}}", 4);
    LOAD_FAILS(path, "tensor transformer.wte.weight: expected shape (16777216, 3072), found (1, 1)",
               "n_embd 3072");
}

static void write_header_bytes(const char *path, const char *hdr, size_t hlen, size_t data) {
    size_t n = 8 + hlen + data;
    unsigned char *b = calloc(n, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, hdr, hlen);
    write_bytes(path, b, n);
    free(b);
}

// The header length is in (0, ST_MAX_HEADER]; a longer one is refused before it is read.
static void test_header_caps(void) {
    const char *path = tmp_path("cap.safetensors");
    write_header_bytes(path, "", 0, 8);
    OPEN_FAILS(path, "header length 0", "expected 1 to 100000000");
    // a sparse file just over the cap: 8 bytes of length, then the header
    FILE *fp = fopen(path, "wb");
    unsigned char len8[8];
    uint64_t h = (uint64_t)ST_MAX_HEADER + 1;
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(h >> (8 * i));
    fwrite(len8, 1, 8, fp);
    fwrite("{}", 1, 2, fp);
    fclose(fp);
    CHECK(truncate(path, (off_t)(8 + h)) == 0, "truncate");
    OPEN_FAILS(path, "header length 100000001", "expected 1 to 100000000");
    remove(path);
}

// A header with n empty U8 tensors t0..t{n-1}, all at offset 0.
static void write_many(const char *path, int n) {
    size_t cap = (size_t)n * 64 + 64, k = 0;
    char *h = malloc(cap);
    h[k++] = '{';
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(h + k, cap - k, "%s\"t%d\":{\"dtype\":\"U8\",\"shape\":[0],"
                              "\"data_offsets\":[0,0]}", i ? "," : "", i);
    h[k++] = '}';
    h[k] = 0;
    write_raw(path, h, 0);
    free(h);
}

// 80,000 entries open in linear time (the duplicate check and st_find are hashed), and
// more than ST_MAX_TENSORS are refused.
static void test_many_tensors(void) {
    const char *path = tmp_path("many.safetensors");
    write_many(path, 80000);
    double t0 = now_sec();
    StFile f;
    int rc = st_open(&f, path);
    CHECK(rc == 0 && f.n == 80000, "%s", em_errmsg());
    int found = 0;
    for (int i = 0; rc == 0 && i < 80000; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "t%d", i);
        const StEntry *e = st_find(&f, nm);
        found += e && !strcmp(e->name, nm);
    }
    double dt = now_sec() - t0;
    CHECK(found == 80000, "st_find found %d of 80000", found);
    CHECK(st_find(&f, "t80000") == NULL && st_find(&f, "") == NULL, "found an absent name");
    CHECK(dt < 5.0, "80,000 entries took %.1f s to open and look up", dt);
    if (rc == 0) st_close(&f);
    write_many(path, ST_MAX_TENSORS + 1);
    OPEN_FAILS(path, "100001 tensors", "at most 100000");
    remove(path);
}

static void test_duplicate_keys_and_utf8(void) {
    const char *path = tmp_path("dups.safetensors");
    struct { const char *hdr; size_t data; const char *n1, *n2; } c[] = {
        {"{\"__metadata__\": {\"step\": \"1\", \"step\": \"2\"}}", 0, "__metadata__.step",
         "appears twice"},
        {"{\"w\": {\"dtype\": \"U8\", \"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 1]}}",
         1, "tensor w: key \"dtype\"", "appears twice"},
        {"{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1], "
         "\"data_offsets\": [0, 1]}}", 1, "tensor w: key \"data_offsets\"", "appears twice"},
        {"{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1], "
         "\"extra\": [{\"a\": 1, \"a\": 2}]}}", 1, "tensor w: key \"a\"", "appears twice"},
        {"{\"__metadata__\": {}, \"__metadata__\": {}}", 0, "__metadata__", "appears twice"},
        {"{\"__metadata__\": {\"note\": \"caf\xe9\"}}", 0, "header: not valid UTF-8", "byte 30"},
        {"{\"__metadata__\": {\"note\": \"\xc0\xaf\"}}", 0, "not valid UTF-8", NULL},
        {"{\"w\xff\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1,
         "not valid UTF-8", "byte 3"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        write_raw(path, c[i].hdr, c[i].data);
        OPEN_FAILS(path, c[i].n1, c[i].n2);
    }
    // the same keys in different objects, and UTF-8 (escaped or not), are fine
    write_raw(path, "{\"__metadata__\": {\"dtype\": \"caf\xc3\xa9 \\u00e9 \xf0\x9f\x98\x80\"}, "
                    "\"dtype\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1);
    StFile f;
    CHECK(st_open(&f, path) == 0 && st_find(&f, "dtype") &&
          !strcmp(st_meta(&f, "dtype"), "caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80"), "%s", em_errmsg());
    st_close(&f);
}

// The tensors tile the data section: no overlap, no gap, nothing after the last,
// whatever the order of the entries in the header.
static void test_ranges(void) {
    const char *path = tmp_path("ranges.safetensors");
    struct { const char *hdr; size_t data; const char *n1, *n2; } c[] = {
        {"{\"b\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [1, 3]},"
         " \"a\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2]}}", 3,
         "tensor b: data_offsets [1, 3] overlap tensor a's [0, 2]", NULL},
        {"{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]},"
         " \"z\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [2, 2]}}", 4,
         "tensor z", "overlap tensor a"},
        {"{\"a\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2]},"
         " \"b\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2]}}", 2,
         "tensor b", "overlap tensor a"},
        {"{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
         " \"b\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [2, 3]}}", 3,
         "tensor b", "gap: bytes [1, 2)"},
        {"{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2,
         "tensor a", "gap: bytes [0, 1)"},
        {"{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 3,
         "data section: 2 bytes after the last tensor", NULL},
        {"{\"__metadata__\": {\"a\": \"b\"}}", 5, "data section: 5 bytes", NULL},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        write_raw(path, c[i].hdr, c[i].data);
        OPEN_FAILS(path, c[i].n1, c[i].n2);
    }
    // listed out of order, with empty tensors anywhere on the seams: fine
    write_raw(path, "{\"c\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [3, 5]},"
                    " \"e\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [5, 5]},"
                    " \"a\": {\"dtype\": \"U8\", \"shape\": [3], \"data_offsets\": [0, 3]},"
                    " \"z\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [3, 3]},"
                    " \"y\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}", 5);
    StFile f;
    CHECK(st_open(&f, path) == 0 && f.n == 5, "%s", em_errmsg());
    st_close(&f);
}

// A NaN or Inf weight is refused, naming the tensor and element, unless the caller asks.
static void test_nonfinite_weights(void) {
    GPT m, m2;
    make_finite_model(&m, &small);
    const char *path = tmp_path("nan.safetensors");
    ParamInfo pi[64];
    int n = gpt_param_table(&small, pi), qkv = -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(pi[i].name, "transformer.h.1.attn.c_attn.weight")) qkv = i;
    float *w = m.params + pi[qkv].offset;
    const float bad[] = {NAN, -INFINITY};
    const char *what[] = {"element 37 is NaN", "element 37 is -Inf"};
    for (int k = 0; k < 2; k++) {
        w[37] = bad[k];
        CHECK(ckpt_save_model(path, &m, tok11, NULL, NULL, 0) == 0, "%s", em_errmsg());
        em_clear_error();
        CHECK(ckpt_load_model(path, &m2, NULL) == CKPT_ERR_NONFINITE && !m2.params,
              "non-finite weight loaded");
        CHECK(contains(em_errmsg(), path) &&
              contains(em_errmsg(), "tensor transformer.h.1.attn.c_attn.weight") &&
              contains(em_errmsg(), what[k]), "%s", em_errmsg());
        StFile f;
        if (st_open(&f, path) == 0) {
            CHECK(ckpt_check(&f, 0) == CKPT_ERR_NONFINITE && contains(em_errmsg(), what[k]), "%s",
                  em_errmsg());
            CHECK(ckpt_check(&f, CKPT_ALLOW_NONFINITE) == 0, "%s", em_errmsg());
            st_close(&f);
        }
        // asked for: loaded as stored, and the tensor can be named for a warning
        CHECK(ckpt_load_model_flags(path, &m2, NULL, CKPT_ALLOW_NONFINITE) == 0, "%s", em_errmsg());
        if (!m2.params) continue;
        CHECK(!memcmp(m.params, m2.params, m.num_params * 4), "allowed load differs");
        char name[64];
        const char *hit = ckpt_first_nonfinite(&m2, name, sizeof name);
        CHECK(hit && !strcmp(hit, "transformer.h.1.attn.c_attn.weight"), "%s", hit ? hit : "none");
        gpt_free(&m2);
    }
    w[37] = 0.25f;
    CHECK(ckpt_save_model(path, &m, tok11, NULL, NULL, 0) == 0, "%s", em_errmsg());
    CHECK(ckpt_load_model(path, &m2, NULL) == 0, "%s", em_errmsg());
    char name[64];
    CHECK(m2.params && !ckpt_first_nonfinite(&m2, name, sizeof name), "finite model flagged");
    gpt_free(&m2);
    gpt_free(&m);
}

// What info checks before exiting 0: everything a load checks (F16 weights and a
// tokenizer larger than the embedding are refused; see also the tokenizer test).
static void test_check_like_load(void) {
    GPT m;
    make_finite_model(&m, &small);
    const char *path = tmp_path("check.safetensors");
    struct { int what; const char *name, *n1; } c[] = {
        {AS_F16, "transformer.h.1.mlp.c_proj.weight", "expected dtype F32, found F16"},
        {DROP, "transformer.wpe.weight", "transformer.wpe.weight: missing"},
        {EXTRA, "transformer.h.2.ln_1.weight", "not part of"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        write_variant(path, &m, c[i].name, c[i].what, NULL, NULL, NULL);
        StFile f;
        if (st_open(&f, path)) { CHECK(0, "%s", em_errmsg()); continue; }
        em_clear_error();
        CHECK(ckpt_check(&f, 0) == -1 && contains(em_errmsg(), path) &&
              contains(em_errmsg(), c[i].n1), "%zu: %s", i, em_errmsg());
        st_close(&f);
    }
    gpt_free(&m);
}

// ---- temp directory ---------------------------------------------------------------
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (remove(p) != 0) fprintf(stderr, "cannot remove %s\n", p);
    }
    closedir(d);
    rmdir(dir);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/emergent-ckpt-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 2; }
    RUN(test_save_load_round_trip);
    RUN(test_header_layout);
    RUN(test_unaligned_and_dtypes);
    RUN(test_truncated);
    RUN(test_oversized_header);
    RUN(test_garbage_header);
    RUN(test_bad_entries);
    RUN(test_wrong_tensors);
    RUN(test_bad_metadata);
    RUN(test_failed_save);
    RUN(test_tokenizer_larger_than_vocab);
    RUN(test_config_without_tensors);
    RUN(test_header_caps);
    RUN(test_many_tensors);
    RUN(test_duplicate_keys_and_utf8);
    RUN(test_ranges);
    RUN(test_nonfinite_weights);
    RUN(test_check_like_load);
    remove_dir(g_dir);
    return test_summary();
}
