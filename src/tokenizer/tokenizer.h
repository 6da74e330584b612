// tokenizer: one interface over the char-level tokenizer and byte-level BPE (GPT-2's).
#ifndef EMERGENT_TOKENIZER_H
#define EMERGENT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef enum { TOK_NONE = 0, TOK_CHAR = 1, TOK_BPE = 2 } TokKind;

typedef struct {
    TokKind kind;
    int vocab_size;
    uint32_t *chars;  // TOK_CHAR: the Unicode code point of each id, ascending
    struct Bpe *bpe;  // TOK_BPE: vocabulary, merges and an encoding cache (bpe.c)
} Tokenizer;

// The most bytes one token decodes to: the size of tok_decode_one's buffer. (GPT-2's
// longest token has 128.) A BPE vocabulary with a longer token is refused.
#define TOK_MAX_BYTES 256

// Builds a char-level vocabulary from UTF-8 text: every distinct code point, sorted.
// `src` names the text in errors (e.g. the file path).
int tok_build_char(Tokenizer *t, const char *text, size_t len, const char *src);
// Encodes text. Char: UTF-8, and a character outside the vocabulary is an error naming
// it and its byte offset in `src`. BPE: any bytes (invalid UTF-8 included) encode, and
// decoding gives them back; "<|endoftext|>" in the text is text, not the special token.
// A BPE tokenizer caches pieces as it encodes: one thread at a time per tokenizer.
// *ids is malloc'd.
int tok_encode(const Tokenizer *t, const char *text, size_t len, int **ids, size_t *n,
               const char *src);
// Writes the bytes of one token to buf (TOK_MAX_BYTES at least; a BPE token may be a
// part of a UTF-8 character); returns the count, 0 for an id outside the vocabulary.
int tok_decode_one(const Tokenizer *t, int id, char *buf);
// Decodes ids into a malloc'd NUL-terminated string.
char *tok_decode(const Tokenizer *t, const int *ids, size_t n);
// Serialises as JSON: {"type": "char", "vocab_size": V, "chars": "..."}, or
// {"type": "bpe", "pattern": "gpt2", "vocab_size": V, "vocab": [token strings by id],
// "merges": ["a b" by rank]} (strings in GPT-2's byte symbols, as vocab.json and
// merges.txt hold them); malloc'd.
char *tok_to_json(const Tokenizer *t);
// Parses tok_to_json's output; `src` names the file in errors.
int tok_from_json(Tokenizer *t, const char *json, const char *src);
void tok_free(Tokenizer *t);

// ---- byte-level BPE (GPT-2's) ------------------------------------------------------
// Pieces by GPT-2's pattern ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, Unicode 17.0 classes, \s = White_Space), each
// piece's bytes merged by rank exactly as GPT-2's encoder.py does.

// GPT-2's tokenizer: its encoder.json and vocab.bpe (data/gpt2/), built into the library.
int tok_load_gpt2(Tokenizer *t);
// A directory with vocab.json + merges.txt (Hugging Face), else encoder.json + vocab.bpe
// (OpenAI). Errors name the file and the entry.
int tok_load_bpe(Tokenizer *t, const char *dir);
// "char" (t stays TOK_NONE: the vocabulary is built from the text), "gpt2", or a
// directory as tok_load_bpe reads it.
int tok_open(Tokenizer *t, const char *spec);
// The id of <|endoftext|>, or -1 when the vocabulary has none.
int tok_eot(const Tokenizer *t);

// Trains a byte-level BPE on text: the 256 byte tokens (ids in GPT-2's order), then
// vocab_size - 257 merges, then <|endoftext|> as the last id. Each merge joins the
// adjacent pair that occurs most often within GPT-2's pieces; ties go to the pair
// whose (left id, right id) is smallest, so the result depends on the text alone.
// A pair whose token would pass TOK_MAX_BYTES is not merged. Stops early (fewer
// tokens) when no pair occurs twice. progress (may be NULL) sees merges done of total.
typedef void (*TokProgress)(void *ctx, int done, int total);
int tok_train_bpe(Tokenizer *t, const char *text, size_t len, int vocab_size,
                  const char *src, TokProgress progress, void *ctx);
// Writes dir/vocab.json and dir/merges.txt (each atomically), as Hugging Face's GPT-2
// tokenizer files are laid out; creates dir.
int tok_save_bpe(const Tokenizer *t, const char *dir);

// UTF-8 helpers: decode one code point at s[0..len), returning its byte length,
// or 0 for an invalid sequence; encode one code point into buf, returning its length.
int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
int utf8_encode(uint32_t cp, char *buf);

#endif
