// w2v: word2vec (Mikolov et al. 2013) as the original word2vec.c does it: skip-gram or CBOW
// with negative sampling, frequent-word subsampling, a linear learning-rate decay and hogwild
// threads; vectors in word2vec's text and binary formats; nearest neighbours, analogies and
// the questions-words.txt evaluation of compute-accuracy.c.
//
// Determinism: one seed drives the initial vectors and every thread's random stream. With one
// thread the result is bit-reproducible; with several, threads update shared vectors without
// locks (hogwild, as the original does), so results vary from run to run.
#ifndef EMERGENT_W2V_H
#define EMERGENT_W2V_H
#include <stddef.h>
#include <stdint.h>

#define W2V_MAX_WORD 100        // longer words are cut, as in word2vec.c
#define W2V_EOS "</s>"          // a newline is this word, index 0 of the vocabulary

typedef struct {
    int size;          // vector dimension (100)
    int window;        // max context distance (5); shrunk at random per word by b in [0, window)
    int negative;      // negative samples per pair (5); must be > 0
    float sample;      // subsampling threshold t (1e-3); 0 disables
    int min_count;     // words seen fewer times are dropped (5)
    int iter;          // passes over the corpus (5)
    float alpha;       // starting learning rate; <= 0: 0.025 skip-gram, 0.05 CBOW
    int cbow;          // 1: CBOW (context mean predicts the word); 0: skip-gram
    int threads;       // hogwild threads over corpus chunks (1)
    uint64_t seed;     // (1)
    // Called by one training thread about every 10,000 words (NULL: silent): the words
    // trained so far of the total, the current learning rate, words/s per thread.
    void (*progress)(void *ctx, double done, double total, float alpha, double words_per_sec);
    void *progress_ctx;
} W2VConfig;
void w2v_config_default(W2VConfig *c);

// A vocabulary with vectors: words sorted by count (training) or as in the file (loaded).
typedef struct {
    int V, dim;
    char **words;
    int64_t *counts;   // counts in the training corpus (0 when loaded from a file)
    float *vec;        // V x dim, row-major
    int *hash;         // open addressing, -1 empty; hash_size a power of two
    size_t hash_size;
} W2VModel;
void w2v_free(W2VModel *m);
int w2v_find(const W2VModel *m, const char *word);      // index or -1
// Builds (or rebuilds) the lookup table; used after words are set.
void w2v_build_hash(W2VModel *m);

typedef struct {
    int64_t corpus_words;   // in-vocabulary words in one pass (</s> included)
    int64_t words_done;     // words processed over every pass (before subsampling)
    double seconds;
    double words_per_sec_thread;
    int threads;
} W2VStats;

// Trains on a text file (words split on space, tab, newline; a newline ends a sentence).
int w2v_train_file(const char *path, const W2VConfig *cfg, W2VModel *m, W2VStats *st);
// The same on text in memory; `name` names it in messages.
int w2v_train_text(const char *text, size_t len, const char *name, const W2VConfig *cfg,
                   W2VModel *m, W2VStats *st);

// word2vec's formats. Text: "V dim\n" then "word v1 ... vdim\n". Binary: "V dim\n" then for
// each word "word " followed by dim little-endian float32, then "\n". Both load in gensim's
// KeyedVectors.load_word2vec_format (binary=True for the second).
int w2v_save(const W2VModel *m, const char *path, int binary);
int w2v_load(const char *path, int binary, W2VModel *m);
int w2v_path_is_binary(const char *path);   // ends in ".bin"

// Unit-length copy of the vectors (V x dim); zero rows stay zero. Caller frees.
float *w2v_normalized(const W2VModel *m);
// The k rows of N (normalized, first `limit` rows) most similar in cosine to q (any length),
// skipping the indices in ex[0..n_ex). Returns how many were written (<= k); ties by index.
int w2v_nearest(const W2VModel *m, const float *N, int limit, const float *q, const int *ex,
                int n_ex, int k, int *ids, float *sims);
// a : b :: c : ?  by 3CosAdd, the unit vectors of b - a + c, the three excluded.
int w2v_analogy(const W2VModel *m, const float *N, int limit, int a, int b, int c, int k,
                int *ids, float *sims);

// questions-words.txt: ": section" lines, then "A B C D" lines (A:B :: C:D).
typedef struct {
    char name[64];
    int correct, seen, total;
    int semantic;      // 0 for sections whose name starts with "gram"
} W2VSection;
typedef struct {
    W2VSection *sec;
    int n_sec;
    int correct, seen, total;                // over every section
    int sem_correct, sem_seen, syn_correct, syn_seen;
} W2VEvalResult;
// Scores every question whose four words are among the first `restrict_n` words (0: all),
// top-1 by 3CosAdd over those words, the three question words excluded. fold_case: words are
// compared case-insensitively (as compute-accuracy.c does by upper-casing both sides); the
// most frequent spelling of a folded word stands for it. Malformed lines: "FILE:LINE: ...".
int w2v_eval_questions(const W2VModel *m, const char *path, int restrict_n, int fold_case,
                       W2VEvalResult *r);
void w2v_eval_free(W2VEvalResult *r);

#endif
