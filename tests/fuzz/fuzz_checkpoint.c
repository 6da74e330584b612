// libFuzzer target: a safetensors file, opened generically (st_open, every entry looked up
// and read) and loaded as a model with its tokenizer, as every command that takes --model does,
// and read as a Hugging Face file (config from the tensor shapes, F16/BF16 conversion).
#include <string.h>

#include "fuzz.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"

static void read_generic(const char *path) {
    StFile f;
    if (st_open(&f, path)) return;
    for (int i = 0; i < f.n; i++) {
        const StEntry *e = st_find(&f, f.entries[i].name);
        FUZZ_CHECK(e && !strcmp(e->name, f.entries[i].name));
        FUZZ_CHECK(e->begin <= e->end && e->end <= f.size - f.data_start);
        if (strcmp(e->dtype, "F32") || e->end - e->begin > (1u << 20)) continue;
        float *dst = malloc(e->end - e->begin + 1);
        FUZZ_CHECK(st_read_f32(&f, e->name, dst, e->ndim, e->shape) == 0);
        free(dst);
    }
    for (int i = 0; i < f.n_meta; i++) FUZZ_CHECK(st_meta(&f, f.meta_keys[i]) != NULL);
    GPTConfig cfg;
    ckpt_read_config(&f, &cfg);
    st_close(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile ff;
    fuzz_file_open(&ff, data, size);
    read_generic(ff.path);
    GPT m;
    char *js = NULL;
    if (!ckpt_load_model(ff.path, &m, &js)) {
        Tokenizer tok;
        if (js && !tok_from_json(&tok, js, ff.path)) tok_free(&tok);
        gpt_free(&m);
    }
    free(js);
    Tokenizer tok;
    if (!hf_load(ff.path, 2, &m, &tok, 0)) {
        FUZZ_CHECK(m.cfg.n_head == 2 && m.params);
        tok_free(&tok);
        gpt_free(&m);
    }
    fuzz_file_close(&ff);
    return 0;
}
