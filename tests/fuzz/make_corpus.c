// Writes the seed corpora of the fuzz targets with the project's own writers (a tiny model
// checkpoint, safetensors of every dtype, word2vec files, a tokenizer) plus hand-written task
// files, ladder specs and argument lists, each also in a near-valid variant that a parser must
// refuse. Usage, from the repository root after `make`:
//   cc -Isrc tests/fuzz/make_corpus.c build/libemergent.a -fopenmp -lcjson -lsqlite3 -lgsl \
//      -lgslcblas -lm -ldl -lpthread -o make_corpus && ./make_corpus tests/fuzz/corpus
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "w2v/w2v.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"

static const char *dir;

static const char *path_of(const char *target, const char *name) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, target);
    make_dir(p);
    snprintf(p, sizeof p, "%s/%s/%s", dir, target, name);
    return p;
}

static void put(const char *target, const char *name, const void *data, size_t len) {
    if (write_file_atomic(path_of(target, name), data, len)) {
        fprintf(stderr, "%s\n", em_errmsg());
        exit(1);
    }
}
static void put_s(const char *target, const char *name, const char *s) { put(target, name, s, strlen(s)); }

static void must(int rc) {
    if (rc) { fprintf(stderr, "%s\n", em_errmsg()); exit(1); }
}

// A copy of an existing seed, cut to its first `keep` bytes.
static void truncated(const char *target, const char *from, const char *name, size_t keep) {
    size_t len;
    char *t = read_file(path_of(target, from), &len);
    if (!t) must(-1);
    put(target, name, t, keep < len ? keep : len);
    free(t);
}

static void checkpoint(void) {
    Tokenizer tok;
    const char *text = "ab c\n";
    must(tok_build_char(&tok, text, strlen(text), "seed"));
    char *tj = tok_to_json(&tok);
    GPTConfig cfg = {.vocab_size = tok.vocab_size, .block_size = 4, .n_layer = 1, .n_head = 2, .n_embd = 4};
    GPT m;
    must(gpt_create(&m, &cfg));
    gpt_init_weights(&m, 1);
    const char *k[] = {"step"}, *v[] = {"7"};
    must(ckpt_save_model(path_of("checkpoint", "tiny.safetensors"), &m, tj, k, v, 1));
    must(ckpt_save_model(path_of("checkpoint", "tiny-no-tokenizer.safetensors"), &m, NULL, NULL, NULL, 0));
    gpt_free(&m);
    cfg.n_layer = 2; cfg.n_head = 1; cfg.n_embd = 2; cfg.block_size = 2;
    must(gpt_create(&m, &cfg));
    gpt_init_weights(&m, 2);
    must(ckpt_save_model(path_of("checkpoint", "two-layers.safetensors"), &m, tj, NULL, NULL, 0));
    gpt_free(&m);
    free(tj);
    tok_free(&tok);
    truncated("checkpoint", "tiny.safetensors", "tiny-truncated.safetensors", 900);

    float f[6] = {1, -2, 0.5f, 3, 0, 1e-3f};
    int32_t i32[3] = {1, -1, 7};
    int64_t i64[2] = {-5, 1LL << 40};
    double f64[1] = {0.25};
    unsigned char u8[4] = {0, 1, 2, 255};
    StTensor t[] = {
        {.name = "a", .data = f, .ndim = 2, .shape = {2, 3}},
        {.name = "scalar", .data = f + 5, .ndim = 0},
        {.name = "i", .dtype = "I32", .data = i32, .ndim = 1, .shape = {3}},
        {.name = "l", .dtype = "I64", .data = i64, .ndim = 1, .shape = {2}},
        {.name = "d", .dtype = "F64", .data = f64, .ndim = 1, .shape = {1}},
        {.name = "b", .dtype = "U8", .data = u8, .ndim = 2, .shape = {2, 2}},
        {.name = "empty", .data = f, .ndim = 2, .shape = {0, 3}},
    };
    const char *mk[] = {"format", "note"}, *mv[] = {"pt", "x\"y\\u00e9"};
    must(st_write(path_of("checkpoint", "dtypes.safetensors"), t, 7, mk, mv, 2));
    must(st_write(path_of("checkpoint", "no-meta.safetensors"), t, 1, NULL, NULL, 0));
    put("checkpoint", "empty-header.safetensors", "\x02\0\0\0\0\0\0\0{}", 10);
    put("checkpoint", "header-past-end.safetensors", "\xff\0\0\0\0\0\0\0{}", 10);
}

static void tokenizer(void) {
    const char *texts[] = {"hello world\n", "a", "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\t"};
    const char *names[] = {"ascii.json", "one.json", "unicode.json"};
    for (int i = 0; i < 3; i++) {
        Tokenizer tok;
        must(tok_build_char(&tok, texts[i], strlen(texts[i]), "seed"));
        char *js = tok_to_json(&tok);
        put_s("tokenizer", names[i], js);
        free(js);
        tok_free(&tok);
    }
    put_s("tokenizer", "no-size.json", "{\"type\": \"char\", \"chars\": \"abc\"}");
    put_s("tokenizer", "repeated.json", "{\"type\": \"char\", \"vocab_size\": 3, \"chars\": \"aab\"}");
    put_s("tokenizer", "unordered.json", "{\"type\": \"char\", \"vocab_size\": 3, \"chars\": \"cba\"}");
    put_s("tokenizer", "escapes.json", "{\"type\": \"char\", \"vocab_size\": 3, \"chars\": \"\\n\\u00e9\\ud83d\\ude00\"}");
    put_s("tokenizer", "bpe.json", "{\"type\": \"bpe\", \"vocab_size\": 1, \"chars\": \"a\"}");
}

static void w2v(void) {
    const char *words[] = {"</s>", "king", "queen", "x\xc3\xa9"};
    float vec[4 * 3] = {0, 0, 0, 1, 0.5f, -0.25f, 0.9f, 0.4f, -0.3f, 1e-7f, 3e4f, -1};
    W2VModel m = {.V = 4, .dim = 3, .words = (char **)words, .vec = vec};
    must(w2v_save(&m, path_of("w2v", "vectors.txt"), 0));
    must(w2v_save(&m, path_of("w2v", "vectors.bin"), 1));
    m.V = 1;
    must(w2v_save(&m, path_of("w2v", "one.bin"), 1));
    truncated("w2v", "vectors.bin", "vectors-truncated.bin", 40);
    put_s("w2v", "too-few.txt", "3 2\na 1 2\nb 3\n");
    put_s("w2v", "crlf.txt", "2 2\r\na 1 2\r\nb 3 -4e-2\r\n\r\n");
}

static void task(void) {
    put_s("task", "mc.json",
          "{\"name\": \"tiny\", \"task_prefix\": \"Answer.\\n\", \"output_regex\": \"[0-9]+\","
          " \"stop_string\": \".\", \"few_shot_example_separator\": \"\\n\\n\","
          " \"examples\": [{\"input\": \"2+2?\", \"target_scores\": {\"5\": 0, \"4\": 1}},"
          " {\"input\": \"1+1?\", \"target_scores\": {\"2\": 1, \"3\": 0.5},"
          "  \"target\": [\"2\", \"two\"]}]}");
    put_s("task", "gen.json",
          "{\"example_input_prefix\": \"In: \", \"example_output_prefix\": \" Out: \","
          " \"append_choices_to_input\": false, \"choice_prefix\": \"\\n- \","
          " \"examples\": [{\"input\": \"a\", \"target\": \"b\"},"
          " {\"input\": \"c\", \"target_scores\": {\"x\": 1, \"y\": 0}}]}");
    put_s("task", "bad-target.json", "{\"examples\": [{\"input\": \"a\", \"target\": 3}]}");
    put_s("task", "context.jsonl",
          "{\"context\": \"2+3=\", \"completion\": \"5\"}\n\n"
          "  {\"context\": \"10+1=\", \"completion\": \"11\"}  \r\n");
    put_s("task", "input.jsonl",
          "{\"input\": \"Q: capital of France?\\nA:\", \"target\": \" Paris\"}\n"
          "{\"input\": \"\\u00e9\", \"target\": \"\"}\n");
    put_s("task", "bad-line.jsonl", "{\"context\": \"a\", \"completion\": \"b\"}\n{\"context\": 1}\n");
}

static void spec(void) {
    size_t len;
    char *t = read_file("ladders/addition-3.json", &len);
    if (!t) must(-1);
    put("spec", "addition-3.json", t, len);
    free(t);
    put_s("spec", "range-power.json",
          "{\"name\": \"r\", \"task\": \"add:2:plain\", \"budget\": {\"tokens_per_param\": 20},"
          " \"batch_size\": 8, \"block_size\": 16,"
          " \"sizes\": {\"min_params\": 1e3, \"max_params\": 3e5, \"count\": 4, \"n_layer\": 2, \"head_size\": 8},"
          " \"seeds\": [1, 2], \"lr_rule\": {\"type\": \"power\", \"ref_params\": 1e5, \"exponent\": -0.5},"
          " \"eval\": {\"tasks\": [\"add:2:plain\", \"mod:97\"], \"shots\": 2, \"n\": 50, \"points\": 1, \"seed\": 3}}");
    put_s("spec", "sweep-lr.json",
          "{\"name\": \"s\", \"task\": \"mul:2:pad\", \"budget\": {\"tokens\": 2.3e4},"
          " \"batch_size\": 4, \"block_size\": 8, \"sizes\": [{\"n_layer\": 1, \"n_head\": 1, \"n_embd\": 8}],"
          " \"seeds\": [5], \"sweep\": {\"name\": \"lr\", \"values\": [1e-3, 1e-2]},"
          " \"optimizer\": {\"lr\": 1e-3, \"min_lr_ratio\": 0, \"warmup\": 0, \"beta2\": 0.95,"
          " \"weight_decay\": 0, \"grad_clip\": 0}}");
    put_s("spec", "sweep-task.json",
          "{\"name\": \"t\", \"task\": \"add:1:plain\", \"task_n\": 100, \"budget\": {\"steps\": 10},"
          " \"batch_size\": 2, \"block_size\": 8, \"sizes\": [{\"n_layer\": 1, \"n_head\": 2, \"n_embd\": 4}],"
          " \"seeds\": [1], \"sweep\": {\"name\": \"task\", \"values\": [\"add:1:plain\", \"sub:1:plain\"]}}");
    put_s("spec", "bad-budget.json",
          "{\"name\": \"b\", \"task\": \"add:1:plain\", \"budget\": {\"steps\": 1, \"tokens\": 5},"
          " \"batch_size\": 2, \"block_size\": 8, \"sizes\": [], \"seeds\": [1]}");
}

static void args(void) {
    put_s("args", "all.txt", "--steps\n100\n--seed=42\n--lr\n3e-4\n--out\nruns/x\n--quiet\nfile.txt\n");
    put_s("args", "range.txt", "--temperature=0.5\n--big\n-9000000000\n--layer\n-7\n--any\n1e30\n");
    put_s("args", "bad.txt", "--steps\n1e3\n");
    put_s("args", "help.txt", "pos\n--help\n");
    put_s("args", "unknown.txt", "--stepz=1\n-\n--quiet=1\n");
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_corpus DIR\n"); return 2; }
    dir = argv[1];
    make_dir(dir);
    checkpoint();
    tokenizer();
    w2v();
    task();
    spec();
    args();
    return 0;
}
