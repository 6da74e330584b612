// vectors: hidden states of a token in two contexts (read through the forward's hooks),
// nearest neighbours and a - b + c analogies in the token embeddings (wte, (V, C)).
#ifndef EMERGENT_VECTORS_H
#define EMERGENT_VECTORS_H

#include <stddef.h>

#include "model/gpt.h"
#include "tokenizer/tokenizer.h"

// cos(a, b) over n floats, accumulated in double; 0 when either vector is zero.
float vec_cosine(const float *a, const float *b, int n);

// The token id of `word` when it is exactly one token of the vocabulary, else -1
// (no error recorded).
int vec_token_id(const Tokenizer *tok, const char *word);

// The index in ids[0..n) of the last token of the last occurrence of word[0..nw), or -1.
long vec_find_last(const int *ids, size_t n, const int *word, size_t nw);

// The residual stream at position `pos` of ids[0..n): row 0 the embedding
// (blocks.0.hook_resid_pre), row l+1 blocks.{l}.hook_resid_post. out: (L+1, C).
// The model sees the block_size tokens ending at pos (later ones cannot matter: causal).
int vec_hidden_states(GPT *m, const int *ids, size_t n, size_t pos, float *out);

// The k rows of E (V, C) nearest to q by cosine, rows in exclude[0..n_ex) left out;
// sorted by cosine (descending), ties by id. Returns the count written (<= k).
int vec_nearest(const float *E, int V, int C, const float *q, const int *exclude, int n_ex,
                int k, int *ids, float *cos);

// 3CosAdd: q = E[b] - E[a] + E[c]; the k nearest rows to q, a, b and c excluded.
int vec_analogy(const float *E, int V, int C, int a, int b, int c, int k, int *ids, float *cos);

// Scores a word2vec-style analogy file ("a b c d" per line, ": section" headers, '#'
// comments and blank lines ignored): d predicted by 3CosAdd over the whole vocabulary.
// Questions with a word that is not one token are skipped and counted.
typedef struct { char name[64]; int n, correct, skipped; } AnalogySection;
typedef struct {
    int n;            // questions scored
    int correct;
    int skipped;      // a word not in the vocabulary (not exactly one token)
    AnalogySection *sec;  // malloc'd; sections in file order (one "" for questions before any)
    int n_sec;
} AnalogyScore;
int vec_score_questions(const float *E, int V, int C, const Tokenizer *tok, const char *text,
                        size_t len, const char *src, AnalogyScore *s);
void analogy_score_free(AnalogyScore *s);

// The same token sequence w (nw tokens) in two contexts i1 (n1) and i2 (n2): p1, p2 = the
// position of its last token in each (-1 where it does not occur; then nothing else is
// computed), and cos (L+1) = the cosine of the two hidden states at every depth, as
// vec_hidden_states numbers them. same_prefix: the contexts agree up to the word, so a causal
// model sees no difference. Returns 0, or -1 with em_error().
typedef struct {
    int L;
    long p1, p2;
    int same_prefix;
    float *cos;   // (L+1), NULL unless both positions were found
} InspectWordStates;
int inspect_word_states(GPT *m, const int *w, size_t nw, const int *i1, size_t n1, const int *i2,
                        size_t n2, InspectWordStates *r);
void inspect_word_states_free(InspectWordStates *r);

#endif
