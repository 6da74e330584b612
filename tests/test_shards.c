// Token shards (llm.c's format): written and read back equal to the tokenizer's ids, uint16
// and uint32 versions, refusals that name the file and the field, windows drawn from the
// mapping, and memory that does not grow with the shard.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "data/data.h"
#include "test.h"

static char dir[64];

static const char *tmp_path(const char *name) {
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void rm_rf(const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd)) {}
}

// [eot] + ids(file 1) + [eot] + ids(file 2) ...: what the shards must hold, in order.
static int *expected_ids(const Tokenizer *tok, const char *const *files, int n, size_t *len) {
    size_t cap = 1, m = 0;
    int *all = xmalloc(sizeof(int));
    for (int i = 0; i < n; i++) {
        size_t l, k;
        char *text = read_file(files[i], &l);
        int *ids;
        tok_encode(tok, text, l, &ids, &k, files[i]);
        cap += k + 1;
        all = xrealloc(all, cap * sizeof(int));
        all[m++] = tok_eot(tok);
        memcpy(all + m, ids, k * sizeof(int));
        m += k;
        free(ids);
        free(text);
    }
    *len = m;
    return all;
}

// The shards of out, in llm.c's order (val first), concatenated.
static int *read_back(const char *out, int vocab, int n_shards, size_t *len) {
    int *all = NULL;
    size_t m = 0;
    for (int s = 0; s < n_shards; s++) {
        char p[256];
        snprintf(p, sizeof p, "%s/shard_%s_%06d.bin", out, s == 0 ? "val" : "train", s);
        int *ids;
        size_t k;
        if (shard_read(p, vocab, &ids, &k)) { printf("  %s\n", em_errmsg()); free(all); return NULL; }
        all = xrealloc(all, (m + k + 1) * sizeof(int));
        memcpy(all + m, ids, k * sizeof(int));
        m += k;
        free(ids);
    }
    *len = m;
    return all;
}

static void test_roundtrip_gpt2(void) {
    Tokenizer tok;
    CHECK(tok_load_gpt2(&tok) == 0, "%s", em_errmsg());
    // runs of spaces and newlines, a "\n" before a non-ASCII letter, digits, contractions:
    // cut into chunks of 40 bytes, the ids must equal those of each file encoded whole
    const char *a = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
                    "All:\nSpeak, speak.\n   \n\n\tthey'll 12345 don't\n\xc3\xa9t\xc3\xa9\n"
                    "x\n\n\n\nend \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\n";
    const char *b = "Second file, one line without a newline at the end";
    const char *fa = tmp_path("a.txt"), *fb = tmp_path("b.txt");
    write_file_atomic(fa, a, strlen(a));
    write_file_atomic(fb, b, strlen(b));
    const char *files[2] = {fa, fb};
    size_t n_exp;
    int *exp = expected_ids(&tok, files, 2, &n_exp);
    const char *out = tmp_path("sh");
    ShardWriteConfig c = {.out_dir = out, .shard_tokens = 16, .val_frac = 0.2, .chunk_bytes = 40};
    ShardWriteStats st;
    CHECK(shards_write(&c, files, 2, &tok, &st) == 0, "%s", em_errmsg());
    CHECK(st.version == 1 && st.n_tokens == n_exp && st.val_tokens > 0 &&
          st.val_tokens < n_exp / 2 && st.n_shards >= 4, "stats: version %d, %zu tokens "
          "(want %zu), %zu val, %d shards", st.version, st.n_tokens, n_exp, st.val_tokens,
          st.n_shards);
    size_t n_got = 0;
    int *got = read_back(out, tok.vocab_size, st.n_shards, &n_got);
    CHECK(got && n_got == n_exp && !memcmp(got, exp, n_exp * sizeof(int)),
          "read back %zu tokens, want %zu (or the ids differ)", n_got, n_exp);
    CHECK(exp[0] == 50256 && got && got[0] == 50256, "a document starts with <|endoftext|>");
    // the bytes: llm.c's header, then uint16 little-endian
    size_t flen;
    unsigned char *raw = (unsigned char *)read_file(tmp_path("sh/shard_val_000000.bin"), &flen);
    int32_t h[4];
    memcpy(h, raw, sizeof h);
    CHECK(h[0] == 20240520 && h[1] == 1 && (size_t)h[2] == st.val_tokens && h[3] == 50257 &&
          flen == 1024 + 2 * st.val_tokens && raw[1024] == (50256 & 0xff) &&
          raw[1025] == (50256 >> 8), "header %d %d %d %d, %zu bytes", h[0], h[1], h[2], h[3],
          flen);
    free(raw);
    // a directory that holds shards already is refused, and nothing in it changes
    ShardWriteStats st2;
    CHECK(shards_write(&c, files, 2, &tok, &st2) == -1 && strstr(em_errmsg(), out) &&
          strstr(em_errmsg(), "holds token shards already"), "%s", em_errmsg());

    // reading: windows of T+1 consecutive ids of one shard, train from the train shards
    TokenData d;
    CHECK(data_load_shards(out, &tok, 8, &d) == 0, "%s", em_errmsg());
    CHECK(d.shards && !d.tokens && d.n == n_exp && d.n - d.split == st.val_tokens,
          "n %zu split %zu, val %zu", d.n, d.split, st.val_tokens);
    Rng r;
    rng_seed(&r, 7);
    int inp[4 * 8], tgt[4 * 8], ok = 1;
    for (int it = 0; it < 50 && ok; it++) {
        int part = it % 2;
        data_sample(&d, part, 4, 8, &r, inp, tgt);
        for (int b = 0; b < 4; b++) {
            // the window is somewhere in the expected stream, inside the part's range
            int found = 0;
            size_t lo = part ? 0 : st.val_tokens, hi = part ? st.val_tokens : n_exp;
            for (size_t s = lo; s + 9 <= hi && !found; s++)
                found = !memcmp(exp + s, inp + b * 8, 8 * sizeof(int)) && exp[s + 8] == tgt[b * 8 + 7] &&
                        !memcmp(exp + s + 1, tgt + b * 8, 7 * sizeof(int));
            ok &= found;
        }
    }
    CHECK(ok, "a window that is not a run of the part's ids");
    data_free(&d);
    // a block longer than every validation shard: refused
    CHECK(data_load_shards(out, &tok, 100, &d) == -1 && strstr(em_errmsg(), "block size 100"),
          "%s", em_errmsg());
    free(got);
    free(exp);
    rm_rf(out);
    tok_free(&tok);
}

// GPT-2's byte symbols (encoder.py's bytes_to_unicode), as UTF-8.
static void byte_symbol(int b, char *s) {
    int n = 0, cp = -1;
    for (int x = 0; x < 256; x++) {
        int printable = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174);
        if (x == b) { cp = printable ? x : 256 + n; break; }
        if (!printable) n++;
    }
    s[utf8_encode((uint32_t)cp, s)] = 0;
}

// A made-up vocabulary of 65,857 tokens whose byte tokens and <|endoftext|> have ids over
// 65,535: shards of version 2 (uint32), and a uint16 reader would lose every id.
static void test_roundtrip_uint32(void) {
    cJSON *o = cJSON_CreateObject(), *v = cJSON_CreateArray();
    const int fill = 65600;
    char s[16];
    for (int i = 0; i < fill; i++) {
        snprintf(s, sizeof s, "f%d", i);
        cJSON_AddItemToArray(v, cJSON_CreateString(s));
    }
    for (int b = 0; b < 256; b++) {
        byte_symbol(b, s);
        cJSON_AddItemToArray(v, cJSON_CreateString(s));
    }
    cJSON_AddItemToArray(v, cJSON_CreateString("<|endoftext|>"));
    cJSON_AddStringToObject(o, "type", "bpe");
    cJSON_AddStringToObject(o, "pattern", "gpt2");
    cJSON_AddNumberToObject(o, "vocab_size", fill + 257);
    cJSON_AddItemToObject(o, "vocab", v);
    cJSON_AddItemToObject(o, "merges", cJSON_CreateArray());
    char *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    Tokenizer tok;
    CHECK(tok_from_json(&tok, json, "made-up") == 0, "%s", em_errmsg());
    free(json);
    CHECK(tok.vocab_size == fill + 257 && tok_eot(&tok) == fill + 256, "vocab %d", tok.vocab_size);
    const char *text = "uint32 ids\nfor a vocabulary past 65,536\nok";
    const char *f = tmp_path("big.txt");
    write_file_atomic(f, text, strlen(text));
    size_t n_exp;
    int *exp = expected_ids(&tok, &f, 1, &n_exp);
    CHECK(exp[1] >= 65536, "id %d", exp[1]);
    const char *out = tmp_path("sh32");
    ShardWriteConfig c = {.out_dir = out, .shard_tokens = 20, .val_frac = 0.3, .chunk_bytes = 8};
    ShardWriteStats st;
    CHECK(shards_write(&c, &f, 1, &tok, &st) == 0, "%s", em_errmsg());
    CHECK(st.version == 2, "version %d", st.version);
    size_t n_got;
    int *got = read_back(out, tok.vocab_size, st.n_shards, &n_got);
    CHECK(got && n_got == n_exp && !memcmp(got, exp, n_exp * sizeof(int)), "uint32 read back");
    size_t flen;
    unsigned char *raw = (unsigned char *)read_file(tmp_path("sh32/shard_val_000000.bin"), &flen);
    int32_t h[3];
    memcpy(h, raw, sizeof h);
    CHECK(h[1] == 2 && flen == 1024 + 4 * (size_t)h[2], "version %d, %zu bytes", h[1], flen);
    free(raw);
    // the uint32 shards checked against a smaller vocabulary: header[3] disagrees
    char p[256];
    snprintf(p, sizeof p, "%s/shard_train_000001.bin", out);
    int *ids;
    size_t k;
    CHECK(shard_read(p, 50257, &ids, &k) == -1 && strstr(em_errmsg(), p) &&
          strstr(em_errmsg(), "header[3]"), "%s", em_errmsg());
    free(got);
    free(exp);
    rm_rf(out);
    tok_free(&tok);
}

// A shard file with the given header and count tokens of width bytes, all `id`.
static const char *make_shard(const char *name, int32_t magic, int32_t version, int32_t count,
                              int32_t vocab, int width, size_t tokens, uint32_t id) {
    size_t len = 1024 + tokens * (size_t)width;
    unsigned char *b = xcalloc(len, 1);
    int32_t h[4] = {magic, version, count, vocab};
    memcpy(b, h, sizeof h);
    for (size_t i = 0; i < tokens; i++) memcpy(b + 1024 + i * width, &id, (size_t)width);
    const char *p = tmp_path(name);
    write_file_atomic(p, b, len);
    free(b);
    return p;
}

static void test_refusals(void) {
    struct { const char *name, *field; int32_t magic, version, count, vocab; int width;
             size_t tokens; uint32_t id; } bad[] = {
        {"magic.bin", "header[0] (magic)", 20240521, 1, 10, 0, 2, 10, 5},
        {"version.bin", "header[1] (version)", 20240520, 3, 10, 0, 2, 10, 5},
        {"trunc.bin", "truncated", 20240520, 1, 10, 0, 2, 9, 5},
        {"long.bin", "truncated", 20240520, 1, 10, 0, 2, 11, 5},
        {"width.bin", "truncated", 20240520, 2, 10, 0, 2, 10, 5},  // uint16 data, version 2
        {"count.bin", "header[2]", 20240520, 1, -1, 0, 2, 0, 5},
        {"vocab.bin", "header[3]", 20240520, 1, 10, 300, 2, 10, 5},
        {"id.bin", "token 0: id 257", 20240520, 1, 10, 0, 2, 10, 257},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *p = make_shard(bad[i].name, bad[i].magic, bad[i].version, bad[i].count,
                                   bad[i].vocab, bad[i].width, bad[i].tokens, bad[i].id);
        int *ids = NULL;
        size_t n;
        CHECK(shard_read(p, 257, &ids, &n) == -1 && strstr(em_errmsg(), p) &&
              strstr(em_errmsg(), bad[i].field), "%s: %s", bad[i].name, em_errmsg());
        unlink(p);
    }
    // a header cut short
    const char *p = tmp_path("short.bin");
    write_file_atomic(p, "\x68\x4b\x34\x01", 4);
    int *ids;
    size_t n;
    CHECK(shard_read(p, 257, &ids, &n) == -1 && strstr(em_errmsg(), p) &&
          strstr(em_errmsg(), "header"), "%s", em_errmsg());
    unlink(p);
    // llm.c's own uint32 layout (magic 20240801, version 7) reads
    p = make_shard("llama.bin", 20240801, 7, 3, 0, 4, 3, 100);
    CHECK(shard_read(p, 257, &ids, &n) == 0 && n == 3 && ids[2] == 100, "%s", em_errmsg());
    free(ids);
    unlink(p);
    // an empty directory, and a text file as the data of a shard reader
    const char *e = tmp_path("empty");
    make_dir(e);
    Tokenizer tok = {.kind = TOK_BPE, .vocab_size = 257};
    TokenData d;
    CHECK(data_load_shards(e, &tok, 4, &d) == -1 && strstr(em_errmsg(), "no token shards"),
          "%s", em_errmsg());
    rm_rf(e);
}

// A field of /proc/self/status (VmRSS, RssAnon), in kB.
static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t l = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, l) && line[l] == ':') kb = atol(line + l + 1);
    if (f) fclose(f);
    return kb;
}

// 48M tokens (96 MB of uint16; as ints 192 MB): opening and checking leaves no page of the
// shard resident, and drawing windows copies none of it (its pages are the page cache's,
// which a corpus larger than memory cycles through): the process's own memory stays far
// below one copy of the shard.
static void test_memory(void) {
    const char *out = tmp_path("big");
    make_dir(out);
    size_t n = 48u << 20;
    char p[256];
    const int32_t h[4] = {20240520, 1, (int32_t)n, 0};
    uint16_t *buf = xmalloc(1 << 20);
    for (int part = 0; part < 2; part++) {
        snprintf(p, sizeof p, "%s/shard_%s_%06d.bin", out, part ? "train" : "val", part);
        FILE *f = fopen(p, "wb");
        fwrite(h, 4, 4, f);
        static const int32_t zero[252];
        fwrite(zero, 4, 252, f);
        size_t tokens = part ? n : 4096;
        if (!part) { int32_t hv[4] = {20240520, 1, 4096, 0}; fseek(f, 0, SEEK_SET); fwrite(hv, 4, 4, f); fseek(f, 1024, SEEK_SET); }
        for (size_t i = 0; i < tokens;) {
            size_t k = tokens - i < (1 << 19) ? tokens - i : (1 << 19);
            for (size_t j = 0; j < k; j++) buf[j] = (uint16_t)((i + j) % 50000);
            fwrite(buf, 2, k, f);
            i += k;
        }
        fclose(f);
    }
    free(buf);
    Tokenizer tok = {.kind = TOK_BPE, .vocab_size = 50257};
    long before = status_kb("VmRSS"), anon = status_kb("RssAnon");
    TokenData d;
    double t0 = now_sec();
    CHECK(data_load_shards(out, &tok, 64, &d) == 0, "%s", em_errmsg());
    double t_open = now_sec() - t0;
    long opened = status_kb("VmRSS");
    CHECK(before > 0 && opened - before < 16 * 1024, "resident memory grew %ld kB at open",
          opened - before);
    Rng r;
    rng_seed(&r, 1);
    int inp[8 * 64], tgt[8 * 64], ok = 1;
    t0 = now_sec();
    int batches = 20000;
    for (int i = 0; i < batches; i++) {
        data_sample(&d, 0, 8, 64, &r, inp, tgt);
        ok &= (inp[1] == (inp[0] + 1) % 50000) && tgt[0] == inp[1];
    }
    double t_draw = now_sec() - t0;
    long after = status_kb("RssAnon");
    CHECK(ok, "windows are not runs of the shard");
    CHECK(anon > 0 && after - anon < 16 * 1024, "anonymous memory grew %ld kB for a 96 MB shard",
          after - anon);
    printf("  open + check %.0f M tokens/s; windows %.1f M tokens/s; resident +%ld kB at open, "
           "anonymous +%ld kB after %d batches\n", n / t_open / 1e6,
           (double)batches * 8 * 64 / t_draw / 1e6, opened - before, after - anon, batches);
    data_free(&d);
    rm_rf(out);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/emergent-shards-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_roundtrip_gpt2);
    RUN(test_roundtrip_uint32);
    RUN(test_refusals);
    RUN(test_memory);
    rm_rf(dir);
    return test_summary();
}
