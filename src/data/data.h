// data: text corpora as token streams, the train/val split, random batches.
#ifndef EMERGENT_DATA_H
#define EMERGENT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    int *tokens;
    size_t n;
    size_t split;          // tokens [0, split) train, [split, n) validation
    unsigned char *mask;   // NULL, or per token: 1 if the loss predicts it (task answers)
    size_t *starts;        // NULL, or the sorted positions where windows may begin
    size_t n_starts;       // (the start of each task example)
} TokenData;

// Reads a UTF-8 text file. If tok->kind is TOK_NONE, builds a char vocabulary from it;
// otherwise encodes with tok. val_frac of the tail is validation (0.1: 90/10).
// Each part must hold at least min_len + 1 tokens.
int data_load_text(const char *path, Tokenizer *tok, double val_frac, int min_len,
                   TokenData *d);
void data_free(TokenData *d);

// Builds token data from a text with a per-byte training mask (task_training_text):
// the char tokenizer is built from train_text + val_text when tok->kind is TOK_NONE.
// Windows start at example starts (the byte after each `stop` string, and 0).
int data_from_texts(const char *train_text, const unsigned char *train_mask, size_t train_len,
                    const char *val_text, const unsigned char *val_mask, size_t val_len,
                    const char *stop, const char *name, Tokenizer *tok, int min_len,
                    TokenData *d);

// Task generators and text files mixed by weight: "add:2@0.7,file:notes.txt@0.3" (see
// mixture.c). n: generated training items (0: whole train splits; a mixture of generators
// alone needs n); val_n: test items for the validation part. *source (malloc'd) is the
// string to store for --resume. Refuses weights outside [1e-6, 1e6], a weight that gives
// one generator more than 2^30 items, and a block size T shorter than a generator's
// item (prompt, answer and stop must fit in T + 1 tokens), naming the task.
int data_load_mixture(const char *mixture, int n, int val_n, uint64_t seed, Tokenizer *tok,
                      int T, TokenData *d, char **source);
// The data a run was trained on, again, from the source it recorded: a mixture's *source
// (see data_load_mixture: generated again from the seed) or a text file's path (split by
// val_frac). *source_out (may be NULL) receives a malloc'd copy of what was loaded.
int data_load_source(const char *source, uint64_t seed, float val_frac, Tokenizer *tok, int T,
                     TokenData *d, char **source_out);

// B random windows of T+1 tokens from part 0 (train) or 1 (validation): inp (B,T), and
// tgt (B,T) shifted by one, -1 where the mask says the token is not trained on.
// Windows start anywhere, or at example starts when d->starts is set.
void data_sample(const TokenData *d, int part, int B, int T, Rng *r, int *inp, int *tgt);

// ---- overlap: the evaluation items a training stream contains (contamination) ----------
// GPT-3's check (Brown et al. 2020, appendix C): an item is dirty when any n-gram of its
// symbols (13 by default) occurs in the training data; an item shorter than n symbols is
// dirty when the whole item occurs (whole-item matching: short arithmetic items). Symbols are
// what the caller chooses: Unicode code points (characters) or a tokenizer's ids.
// The index holds a 64-bit hash of every distinct n-gram of the training stream (and of every
// m-gram for each short item length m asked for) in open-addressing tables at load <= 1/2:
// at most 16 bytes per training symbol and length. A polynomial hash mod 2^64 (odd base,
// splitmix64-finalised): two different n-grams collide with probability about 2^-64 per pair,
// so a false "dirty" is negligible below ~1e8 distinct n-grams; a true match is never missed.
#define OVERLAP_MAX_N 1024
#define OVERLAP_MAX_SHORT 16
typedef struct OverlapIndex {
    int n, n_short;
    int lens[OVERLAP_MAX_SHORT];          // the short lengths indexed (table 1 + i)
    uint64_t *tab[1 + OVERLAP_MAX_SHORT];  // table 0: the n-grams
    size_t cap[1 + OVERLAP_MAX_SHORT], count[1 + OVERLAP_MAX_SHORT];  // slots, distinct grams
    size_t n_tokens;                       // training symbols indexed
} OverlapIndex;
// Indexes train[0..len) for n and for each length in short_lens (each in [1, n]).
int overlap_build(OverlapIndex *ix, const uint32_t *train, size_t len, int n,
                  const int *short_lens, int n_short);
// 1 dirty, 0 clean, -1 (em_error) when len < n and that length was not indexed. covered
// (len bytes, may be NULL) marks the item's symbols inside a matching n-gram (or all of
// them for a whole-item match): the overlapping spans.
int overlap_check(const OverlapIndex *ix, const uint32_t *s, int len, unsigned char *covered);
size_t overlap_bytes(const OverlapIndex *ix);
// The train part of d as code points (tok is d's char tokenizer); malloc'd, *len symbols.
uint32_t *overlap_train_symbols(const TokenData *d, const Tokenizer *tok, size_t *len);
void overlap_free(OverlapIndex *ix);

#endif
