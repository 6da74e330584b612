// checkpoint: safetensors files (Hugging Face GPT-2 names and layouts).
//
// Format: 8-byte little-endian header length N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "string value", ...}}, then the raw data
// (offsets relative to the first byte after the header).
//
// Reading is hardened the way the reference reader is: a header of at most
// ST_MAX_HEADER bytes of UTF-8 JSON with no key twice in any object, at most
// ST_MAX_TENSORS tensors, whose byte ranges tile the data section exactly (no overlap,
// no gap, nothing after the last). A model is checked against its config (every tensor
// present, F32, with its shape, and no other) before any of its memory is allocated,
// so what a file can make us allocate is bounded by its size; NaN and Inf weights are
// refused unless the caller passes CKPT_ALLOW_NONFINITE.
#ifndef EMERGENT_CHECKPOINT_H
#define EMERGENT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

#define ST_MAX_HEADER 100000000  // bytes of JSON header, as the reference reader allows
#define ST_MAX_TENSORS 100000

// ---- generic safetensors ---------------------------------------------------
typedef struct {
    char name[160];
    char dtype[8];        // "F32", "F16", "BF16", "F64", "I32", "I64", "U8", ...
    int ndim;
    int64_t shape[8];
    size_t begin, end;    // byte offsets into the data section
} StEntry;

typedef struct {
    char path[1024];
    unsigned char *data;  // the whole file (mmap'd or read)
    size_t size;
    size_t data_start;    // 8 + header length
    StEntry *entries;
    int n;
    char **meta_keys, **meta_vals;  // __metadata__ (string values)
    int n_meta;
    int mapped;
    int *index;           // hash table of entry index + 1 (0: empty slot), by name
    size_t index_cap;     // a power of two, at least 2 n
} StFile;

// Opens and validates: file length, header length in (0, ST_MAX_HEADER] and within the
// file, UTF-8 JSON that parses with no duplicate key in any object, every entry with a
// known dtype, a shape whose byte size matches its offsets, offsets within the data
// section, ranges that tile the data section. Errors name the file and the field.
int st_open(StFile *f, const char *path);
void st_close(StFile *f);
const StEntry *st_find(const StFile *f, const char *name);
// "(a, b, c)" into buf: a shape for messages.
const char *st_fmt_shape(char *buf, size_t n, int ndim, const int64_t *shape);  // by hash; NULL when absent
const char *st_meta(const StFile *f, const char *key);   // NULL when absent
// Copies a F32 tensor into dst after checking its dtype and shape equal (ndim, shape).
int st_read_f32(const StFile *f, const char *name, float *dst, int ndim, const int64_t *shape);

typedef struct {
    const char *name;
    const char *dtype;    // "F32" (default when NULL), or "I32", "U8", "I64", "F64"
    const void *data;
    int ndim;
    int64_t shape[8];
} StTensor;
// Writes tensors (in the given order) and string metadata, to path.tmp, then renames.
int st_write(const char *path, const StTensor *t, int n,
             const char *const *meta_keys, const char *const *meta_vals, int n_meta);

// ---- the model -------------------------------------------------------------
// Metadata: format=pt, vocab_size, n_positions, n_layer, n_head, n_embd (as decimal
// strings), tokenizer (a JSON string, may be NULL), and any extra pairs given.
int ckpt_save_model(const char *path, const GPT *m, const char *tokenizer_json,
                    const char *const *extra_keys, const char *const *extra_vals, int n_extra);
// Reads the config from __metadata__ (errors name the missing or bad key).
int ckpt_read_config(const StFile *f, GPTConfig *cfg);

// Load flags.
enum {
    CKPT_ALLOW_NONFINITE = 1,  // load NaN and Inf weights instead of refusing the file
    CKPT_ALLOW_NO_TOKENIZER = 2,  // a Hugging Face file with no tokenizer: tok is TOK_NONE
};
// ckpt_load_model refuses a weight that is NaN or Inf (naming the tensor and element)
// with this code instead of -1, so a caller can say how to load it anyway.
#define CKPT_ERR_NONFINITE (-2)

// Creates m (gpt_create) from the file's config and fills every parameter, after
// checking that each tensor is present with dtype F32 and its shape and that no other
// tensor is there; then refuses non-finite weights unless flags allow them.
// *tokenizer_json (malloc'd) may be NULL. On failure m is freed and zeroed.
int ckpt_load_model_flags(const char *path, GPT *m, char **tokenizer_json, unsigned flags);
int ckpt_load_model(const char *path, GPT *m, char **tokenizer_json);  // flags 0
// A model and its tokenizer, as every command that runs a model needs them. A file that
// ckpt_save_model did not write (no __metadata__.n_positions) is read by hf_load. Ours: the model
// (ckpt_load_model_flags), then __metadata__.tokenizer, which must be present, parse,
// and have at most vocab_size symbols (one per row of the embedding). *tokenizer_json
// (malloc'd; pass NULL if unwanted) is the stored text. On failure all outputs are freed.
int ckpt_load(const char *path, GPT *m, Tokenizer *tok, char **tokenizer_json, unsigned flags);
// Every check ckpt_load makes, on an open file, without allocating the model: the
// config, the tensors, the tokenizer and (unless flags allow them) finite weights, which
// reads every weight. The error is the one ckpt_load would give.
int ckpt_check(const StFile *f, unsigned flags);
// ckpt_load with n_head for a Hugging Face file with no config.json beside it (0: none
// given), and CKPT_ALLOW_NO_TOKENIZER among the flags.
int ckpt_load_ex(const char *path, GPT *m, Tokenizer *tok, char **tokenizer_json,
                 unsigned flags, int n_head);
// The name of the first parameter tensor of m holding a NaN or Inf, or NULL if none
// (for a warning after loading with CKPT_ALLOW_NONFINITE). Copied into buf.
const char *ckpt_first_nonfinite(const GPT *m, char *buf, size_t n);

// ---- Hugging Face GPT-2 checkpoints written by others ----------------------------------
// Whether f is a file ckpt_save_model wrote (its __metadata__ has n_positions).
int ckpt_is_ours(const StFile *f);
// The config of a Hugging Face GPT-2 checkpoint: config.json beside the file (n_layer,
// n_head, n_embd, n_positions, vocab_size; layer_norm_epsilon 1e-5, activation_function
// gelu_new, n_inner null or 4 n_embd, or refused), else from the tensor shapes (wte
// (V, C), wpe (maxT, C), h.0..h.{L-1}) with n_head (> 0) given.
int hf_read_config(const StFile *f, int n_head, GPTConfig *cfg);
// Loads model.safetensors as Hugging Face writes GPT-2: names with or without the
// "transformer." prefix; the h.{i}.attn.bias / masked_bias buffers ignored; F32, F16,
// BF16 or F64 tensors (converted to F32); wte (and lm_head) may have rows beyond
// vocab_size (a padded vocabulary, as llm.c writes it), which are dropped; lm_head.weight
// is accepted only when it equals wte (the engine ties the head), else refused. The
// tokenizer from the files beside it: vocab.json + merges.txt (or encoder.json +
// vocab.bpe), tokenizer.json, emergent_tokenizer.json, else GPT-2's built-in one when
// vocab_size is 50257, else none (tok->kind TOK_NONE). On failure all outputs are freed.
int hf_load(const char *path, int n_head, GPT *m, Tokenizer *tok, unsigned flags);
// Writes dir/config.json, the tokenizer (BPE: vocab.json + merges.txt; char:
// emergent_tokenizer.json, our JSON, since Hugging Face has no char-level GPT-2
// tokenizer; none when tok is NULL or TOK_NONE) and dir/model.safetensors (F32,
// GPT2LMHeadModel names, (in, out) weights, head tied so lm_head.weight is not stored,
// __metadata__ {"format": "pt"} only), each atomically.
int hf_export(const char *dir, const GPT *m, const Tokenizer *tok);

#endif
