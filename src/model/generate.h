// generate: autoregressive decoding with a KV cache, and sampling.
#ifndef EMERGENT_GENERATE_H
#define EMERGENT_GENERATE_H

#include "core/core.h"
#include "model/gpt.h"

// A prefill runs its tokens through the layers this many at a time (GEMMs, not GEMVs).
#define KV_PREFILL_ROWS 64

// Keys and values of every layer for up to block_size positions, for B independent
// sequences ("slots"), plus the buffers of a forward over one new position per row.
// With B = 1 it is the plain single-sequence cache (kv_init, kv_step, len, logits).
typedef struct {
    const GPT *m;
    int B;            // slots
    int *lens;        // (B) positions in each slot's cache
    int len;          // lens[0]: positions of the single-sequence cache
    int rows;         // R = max(B, KV_PREFILL_ROWS): the rows of one forward
    int *pos;         // (R) position of each row of the forward under way
    float *k, *v;     // (B, L, maxT, C)
    float *x, *ln, *qkv, *atty, *fch, *fchg;  // (R rows) activations of the new positions
    float *att;       // (R, NH, maxT) attention weights of the new positions
    float *logits;    // (B, V): row r holds the logits after the r-th token of the last step
    float *part;      // (threads, 6C) a one-row forward's partial sums and LayerNorms
    int part_threads; // the threads part was sized for
} KVCache;

void kv_init(KVCache *kv, const GPT *m);               // one slot
void kv_init_batch(KVCache *kv, const GPT *m, int B);  // B slots
void kv_free(KVCache *kv);
void kv_reset(KVCache *kv);                            // every slot empty
// Feeds one token at position kv->len (< block_size); fills kv->logits.
void kv_step(KVCache *kv, int token);
// Feeds n tokens, one per slot: row r puts tokens[r] at position lens[slots[r]] of slot
// slots[r] (distinct slots, each below block_size). The weights are read once for all
// rows: the products are GEMMs, not n GEMVs. Fills logits rows 0..n-1.
void kv_step_batch(KVCache *kv, const int *slots, const int *tokens, int n);
// Feeds n tokens to the single-sequence cache at positions len..len+n-1 (len + n <=
// block_size), KV_PREFILL_ROWS at a time; fills kv->logits row 0 with the logits after
// the last one (the same, up to rounding, as n kv_steps).
void kv_prefill(KVCache *kv, const int *tokens, int n);

// What generation does when the sequence outgrows block_size.
enum {
    CTX_SLIDE = 0,  // exact (default): each step sees exactly the last block_size tokens, as
                    // nanoGPT and Hugging Face condition; with absolute positions every
                    // cached key moves, so the cache is recomputed over the window: one
                    // block_size-token prefill per new token
    CTX_HALVE = 1,  // faster, not exact: rebuild the cache from the last block_size/2
                    // tokens, then grow it again to block_size one token at a time
};

typedef struct {
    float temperature;  // 0: greedy (argmax)
    int top_k;          // 0: off
    float top_p;        // 1: off
    int context;        // CTX_SLIDE (0) or CTX_HALVE: past block_size
} SampleConfig;

// Draws a token from logits (V) under cfg; scratch holds 2V floats.
int gpt_sample_token(const float *logits, int V, const SampleConfig *cfg, Rng *r, float *scratch);

// Continues `prompt` by max_new tokens into out (n_prompt + max_new ids); calls emit
// for each new token (may be NULL). Past block_size, cfg->context says what the model
// sees (CTX_SLIDE: the last block_size tokens, exactly). Returns the number of ids in out.
int gpt_generate(const GPT *m, const int *prompt, int n_prompt, int max_new,
             const SampleConfig *cfg, Rng *r, int *out, void (*emit)(int, void *), void *ctx);

#endif
