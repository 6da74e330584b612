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
    struct ShardSet *shards;  // NULL, or token shards (mmap'd; tokens is NULL): n counts
                              // their tokens, split the train shards' (see data_load_shards)
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
// (see data_load_mixture: generated again from the seed), a directory of token shards
// (data_load_shards), or a text file's path (split by val_frac). *source_out (may be NULL) receives a malloc'd copy of what was loaded.
int data_load_source(const char *source, uint64_t seed, float val_frac, Tokenizer *tok, int T,
                     TokenData *d, char **source_out);

// ---- token shards: llm.c's format (karpathy/llm.c, dev/data/data_common.py) ---------------
// Each file: a header of 256 little-endian int32 (header[0] magic 20240520, header[1] version:
// 1 for uint16 tokens, 2 for uint32 when the vocabulary passes 65,536; header[2] the token
// count; header[3] the vocabulary size, which llm.c ignores and the reader checks when > 0),
// then the tokens, little-endian. Named as llm.c's fineweb.py names them: the validation shard
// first, DIR/shard_val_000000.bin, then DIR/shard_train_000001.bin, ...
#define SHARD_MAGIC 20240520
#define SHARD_PREFIX "shard"
#define SHARD_MAX_TOKENS 2147483647  // header[2] is an int32
typedef struct {
    const char *out_dir;  // created; refused when it holds *.bin files already
    size_t shard_tokens;  // tokens per shard (the last of each part may hold fewer)
    double val_frac;      // the validation shard: the tokens of the corpus's first val_frac
                          // of bytes (cut at a line start), at most one shard; 0: none
    size_t chunk_bytes;   // text encoded at a time (0: 8 MiB); memory is O(chunk), not O(corpus)
    void (*progress)(void *ctx, size_t bytes_done, size_t bytes_total, size_t tokens);
    void *ctx;
} ShardWriteConfig;
typedef struct {
    size_t n_tokens, val_tokens, bytes;
    int n_shards, version;
    double seconds;
} ShardWriteStats;
// Encodes the files with tok (BPE with <|endoftext|>) into shards. Each file is one document
// and starts with <|endoftext|> (llm.c's layout: documents separated, and the first one
// marked, by the end-of-text token). Text is encoded in chunks cut at "x\n|y" (x, y printable
// ASCII, not space), where no GPT-2 piece spans the cut: the ids equal those of encoding
// each file whole. Each shard is written to a temporary name, fsync'd and renamed;
// on failure the shards written are removed.
int shards_write(const ShardWriteConfig *c, const char *const *files, int n_files,
                 const Tokenizer *tok, ShardWriteStats *st);
// The *.bin shards in dir, in name order, mapped (never read whole): names with "val" are
// validation, the others train. Refuses, naming the file and the field: a bad magic or
// version, a size that disagrees with header[2] (truncated), header[3] != tok's vocabulary,
// a token id >= the vocabulary (checked in one pass at open, the pages handed back as it
// goes), and a part without a shard of T + 1 tokens. Windows never cross shards.
int data_load_shards(const char *dir, const Tokenizer *tok, int T, TokenData *d);
int data_is_shard_dir(const char *path);  // 1 when path is a directory
// One shard's ids, read whole (tests and tools); checked as data_load_shards checks them.
int shard_read(const char *path, int vocab, int **ids, size_t *n);
// Every id of a part (0 train, 1 validation) of shard data, in shard order; malloc'd.
int *shards_part_ids(const struct ShardSet *ss, int part, size_t *n);
void shards_sample(const struct ShardSet *ss, int part, int B, int T, Rng *r, int *inp,
                   int *tgt);
void shards_free(struct ShardSet *ss);

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
