// Byte-level BPE internals shared by src/tokenizer's files (tokenizer.h is the interface).
#ifndef EMERGENT_BPE_IMPL_H
#define EMERGENT_BPE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "tokenizer/tokenizer.h"

// ---- character classes of GPT-2's pattern (unicode_tab.c, generated) ----------------
typedef struct { uint32_t lo, hi; unsigned char cls; } UniRange;
enum { UNI_OTHER = 0, UNI_LETTER = 1, UNI_NUMBER = 2, UNI_SPACE = 3 };
extern const int uni_n_ranges;
extern const UniRange uni_ranges[];        // sorted, disjoint; absent code points: UNI_OTHER
extern const unsigned char uni_latin1[256];

// ---- pretok.c -----------------------------------------------------------------
// The end of the piece of GPT-2's pattern that starts at s[i] (i < len): the pattern
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// matched at i, by hand. A byte that is not part of valid UTF-8 counts as one
// character of the "other" class, so every byte string splits into pieces.
size_t pretok_next(const unsigned char *s, size_t len, size_t i);
// GPT-2's byte-to-unicode map: the code point standing for byte b in vocabulary files
// (printable Latin-1 bytes stand for themselves, the rest for U+0100 up).
uint32_t bpe_byte_cp(int b);
int bpe_cp_byte(uint32_t cp);  // its inverse; -1 for a code point that stands for no byte

// ---- a map from byte strings to ints (bpe.c) ----------------------------------------
typedef struct {
    uint64_t *hash;   // 0: empty slot
    uint32_t *koff;   // key bytes at keys.p + koff
    uint32_t *klen;
    int *val;
    size_t cap, n;
    StrBuf keys;
} BMap;
void bmap_init(BMap *m, size_t cap_hint);
void bmap_free(BMap *m);
// The slot's value for key, inserting it with val when absent; *found tells which.
int *bmap_put(BMap *m, const void *key, size_t len, int val, int *found);
int bmap_get(const BMap *m, const void *key, size_t len);  // -1 when absent

// ---- the tokenizer --------------------------------------------------------------
struct Bpe {
    int n;                      // vocabulary size
    char *blob;                 // bytes of token i: blob[off[i] .. off[i + 1])
    uint32_t *off;
    unsigned char *added;       // 1: a token stored as its text, not GPT-2's byte symbols
    int byte_id[256];           // the token of each single byte
    int n_merges;
    int *left, *right, *merged; // merge of rank r: left[r] + right[r] -> merged[r]
    uint64_t *pair_key;         // (left + 1) << 32 | (right + 1), 0: empty slot
    int *pair_rank;
    size_t pair_cap;            // a power of two
    int eot;                    // <|endoftext|>, or -1
    // encoding state (makes encoding single-threaded per tokenizer): a cache of pieces
    BMap cache;
    int *cache_ids;             // the cached pieces' tokens; cache val = offset, count first
    size_t cache_n, cache_cap;
    int *w_id, *w_next, *w_prev, *w_done; // scratch for one piece
    uint64_t *heap;
    size_t w_cap, heap_cap;
};

// Builds t from a vocabulary (token strings in GPT-2's byte symbols, by id) and merges
// ("a b", by rank). Errors name the file and the entry: from files, lines[r] is merge
// r's line in merge_src and vocabulary entries are named by their key; from a
// checkpoint's JSON (lines NULL), "tokenizer.vocab[i]" and "tokenizer.merges[r]" of src.
int bpe_build(Tokenizer *t, char **vocab, int n, char **merges, const int *lines, int nm,
              const char *src, const char *merge_src);
int bpe_encode(const Tokenizer *t, const char *text, size_t len, int **ids, size_t *n);
int bpe_decode_one(const Tokenizer *t, int id, char *buf);
size_t bpe_token_len(const Tokenizer *t, int id);  // 0 outside the vocabulary
void bpe_release(Tokenizer *t);                   // frees t->bpe
char *bpe_to_json(const Tokenizer *t);
// Reads tok_to_json's BPE object (a cJSON object), naming src in errors.
int bpe_from_json(Tokenizer *t, const void *obj, const char *src);
// The string of token id in GPT-2's byte symbols (added tokens: their text), malloc'd.
char *bpe_token_string(const struct Bpe *b, int id);

#endif
