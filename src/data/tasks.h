// tasks: evaluation and training tasks. Generators for arithmetic, modular arithmetic,
// synthetic facts and multiple-choice templates, and loaders for BIG-bench task.json and
// JSON lines. Every set is a list of items (prompt, answer) plus the few strings that say
// how items are put together into a few-shot prompt or a training text.
//
// Spec grammar (task_generate; also printed by task_specs_help):
//
//   add:N[:FMT]   N-digit addition, N = 1..10. Operands uniform N-digit numbers (first digit
//   sub:N[:FMT]   non-zero; N = 1 includes 0). sub orders the pair so that a >= b: answers are
//   mul:N[:FMT]   never negative. mul is N digits by N digits.
//     FMT plain    (default) "123+456="           -> "579"     ("-" and "*" for sub, mul)
//         bigbench "\nQ: What is 123 plus 456?\nA: " -> "579" ("minus", "times"; BIG-bench's
//                  arithmetic input under its default example_input/output prefixes)
//         gpt3     "\n\nQ: What is 123 plus 456?\n\nA:" -> " 579"  (byte for byte the "context"
//                  and "completion" of openai/gpt-3's data files, e.g. two_digit_addition.jsonl;
//                  shot_sep "": each prompt starts with its separator, so k shots read
//                  "\n\nQ: ...?\n\nA: 579\n\nQ: ...?\n\nA:" as GPT-3's contexts do)
//         pad      "007+045="                     -> "0052"    (operands padded to N digits,
//                  the answer to the widest answer of the op: N+1 add, N sub, 2N mul)
//         rev      "123+456="                     -> "975"     (answer least significant first)
//         padrev   "007+045="                     -> "2500"    (pad, answer reversed)
//         scratch  (add only) Nye et al. 2021, digits space-separated, columns right to left:
//                  prompt  "Input:\n2 9 + 5 7\nTarget:\n"
//                  scratch "<scratch>\n2 9 + 5 7 , C: 0\n2 + 5 , 6 C: 1\n, 8 6 C: 0\n"
//                          "0 8 6\n</scratch>\n"
//                  target  "8 6"              stop "\n\n" (the scratchpad holds "\n")
//                  Each scratch line is: the digits still to add, ",", the answer digits
//                  so far, "C:" the carry; the last line is the final carry and the digits.
//         direct   (add only) the same prompt, no scratch, target "8 6", stop "\n\n".
//     Stop "\n" except scratch/direct. numeric = 1 for plain, bigbench, gpt3, pad (the target
//     is a decimal number whose value is the answer); 0 for rev, padrev, scratch, direct.
//     Test split: the pairs whose keyed hash of (op, N, a, b) falls in the lowest 1/8 (fixed,
//     the same for every format and seed; (a,b) and (b,a) are separate pairs).
//
//   mod:P:OP[:FRAC]  a OP b = c (mod P), P = 2..431 (97 is the usual), OP one of + - * /
//     ("/" multiplies by the modular inverse: P must be prime, b = 0 is left out). Each
//     element is ONE character: x in 0..P-1 is code point U+0100 + x (Latin Extended-A/B and
//     IPA letters, none combining; 2 UTF-8 bytes, so a char-level tokenizer gives one token
//     per element). Prompt "<a>+<b>=" (the operator as
//     ASCII + - * /), target "<c>", stop "\n". FRAC (default 0.5) is the TRAINING fraction: a
//     pair is train when its keyed hash of (P, OP, a, b) < FRAC, else test (the grokking setup).
//
//   facts[:N]  N invented countries (default 200), each with an invented capital; the world is
//     fixed (same N, same names, whatever the seed). One entity in 4 (by a keyed hash of its
//     index) is held out. Train: every fact stated as a sentence (prompt "", target
//     "The capital of Vorlan is Tesk.", so all of it is trained on) AND the question form for
//     the entities not held out. Test: the question form for held-out entities only:
//     prompt "Q: What is the capital of Vorlan?\nA: " -> "Tesk". So test asks facts the model
//     has read as statements but never seen asked (knowledge extraction).
//
//   ioi         multiple choice, indirect-object identification (4 templates, 20 names):
//               "When Mary and John went to the store, John gave a drink to" -> " Mary" | " John"
//   falsebelief multiple choice, the unexpected-contents test (Kosinski 2023): "Here is a bag
//               filled with popcorn. There is no chocolate in the bag. Yet, the label on the bag
//               says "chocolate" and not "popcorn". Sam finds the bag. She has never seen it
//               before and cannot see what is inside. She reads the label." then either " She
//               believes that the bag is full of" -> " chocolate" or " She opens the bag and
//               looks inside. She can clearly see that it is full of" -> " popcorn"
//   evtrap      multiple choice, the expected-value trap (hindsight neglect): "Sam can play a
//               game with a 95% chance to lose 50 dollars and a 5% chance to win 5 dollars. Sam
//               plays and wins 5 dollars. Was it a good bet? Answer:" -> " no" | " yes"; the
//               outcome always disagrees with the expected value, which decides the answer
//     For these three the names, objects and numbers come from small fixed lists; an item's
//     split is a keyed hash of its full content (1/8 test).
//
// Determinism: the items of a (spec, split, n, seed) are always the same. The seed only picks
// which items and their order; which split an item belongs to is a function of its content,
// never of the draw, so train and test are disjoint for any seeds.
// Listed families (arithmetic with up to 3 digits, mod, facts): n <= 0 gives every item of the
// split in a seed-shuffled order; n larger than the split repeats it in fresh shuffles (for
// training streams). Sampled families (arithmetic with 4+ digits, ioi, falsebelief, evtrap):
// n must be > 0, and the n items are distinct.
#ifndef EMERGENT_TASKS_H
#define EMERGENT_TASKS_H

#include <stddef.h>
#include <stdint.h>

enum { TASK_TRAIN = 0, TASK_TEST = 1 };

typedef struct {
    char *prompt;   // the text the model is given, everything up to the answer (no few-shot)
    char *target;   // the expected answer text, e.g. "579" (no stop string)
    char **alt_targets;  // other accepted answers (BIG-bench target lists), NULL if none
    int n_alt;
    char **choices;      // multiple choice: candidate continuations of prompt (NULL: generative)
    double *choice_scores;  // BIG-bench target_scores per choice (1/0 for generated sets)
    int n_choices, correct; // correct: index of the (first) best choice; target == its text
    char *scratch;  // text between prompt and target in training text (NULL if none)
} TaskItem;

typedef struct {
    char name[96];          // canonical spec, e.g. "add:3:plain", or the file name for loaders
    TaskItem *items;
    int n;
    char stop[32];          // ends an answer (e.g. "\n"); generation stops at it
    char answer_prefix[32]; // put after prompt before the answer: "" for every set made here
                            // (prefixes are already in prompt); kept for the evaluator's use
    char *task_prefix;      // instruction text before the shots (BIG-bench task_prefix), or NULL
    char shot_sep[32];      // between few-shot exemplars (e.g. "\n" or "\n\n")
    char *output_regex;     // BIG-bench output_regex (stored, not applied here), or NULL
    int numeric;            // targets are decimal numbers: abs/rel error applies
    int multiple_choice;    // every item has choices
    int has_scratch;        // items carry a scratchpad (answer follows "</scratch>\n")
} TaskSet;

// Generates n items of spec for split (TASK_TRAIN or TASK_TEST) from seed; see above.
int task_generate(const char *spec, int split, int n, uint64_t seed, TaskSet *out);

// The training text: every item as prompt + answer_prefix + [scratch] + target + stop, in
// order; between items, what shot_sep adds after the stop (shot_sep minus a leading stop:
// "" for most sets, "\n" for scratch), so items sit as in a few-shot prompt. With shot_sep ""
// and a prompt that starts with the stop (gpt3's "\n\n"), the stop is not written twice: the
// next prompt's first bytes are the stop, trained on (gpt3: "A: 579\n\nQ: ..."). mask[i] = 1 for
// the bytes the loss trains on (scratch, target and stop), 0 for prompt and separator bytes;
// text is NUL-terminated, len excludes the NUL. Multiple-choice items use the correct choice
// as target. Caller frees text and mask.
int task_training_text(const TaskSet *ts, char **text, unsigned char **mask, size_t *len);

// An item as it stands in the training text (prompt, answer prefix, scratchpad, target, stop),
// as Unicode code points, for the contamination check (data.h, overlap_*); malloc'd, *len.
uint32_t *overlap_item_symbols(const TaskSet *ts, const TaskItem *it, int *len);
// The distinct item lengths below n over the sets (for overlap_build's whole-item tables).
int overlap_short_lengths(const TaskSet *const *sets, int n_sets, int n, int *lens, int cap,
                          int *n_lens);
// Every item of ts checked against an index (an OverlapIndex of data.h, passed opaquely so
// that this header needs not data.h): dirty flags and the overlapping spans of each item,
// as [start, end) offsets in code points of overlap_item_symbols' text.
typedef struct {
    int n_items, n_dirty, n_whole;  // items, dirty items, items matched whole (shorter than n)
    unsigned char *dirty;           // per item
    int **spans, *n_spans;          // per item: n_spans pairs (start, end)
} OverlapReport;
struct OverlapIndex;
int overlap_check_set(const struct OverlapIndex *ix, const TaskSet *ts, OverlapReport *r);
void overlap_report_free(OverlapReport *r);
// The whole check for one set: an index of train[0..len) at n with ts's short lengths, and
// dirty[i] (ts->n bytes) for each item; *n_dirty (may be NULL) counts them.
int overlap_flags(const uint32_t *train, size_t len, int n, const TaskSet *ts,
                  unsigned char *dirty, int *n_dirty);

// The few-shot prompt: task_prefix, then each shot as prompt + answer_prefix + [scratch] +
// target + shot_sep, then query's prompt + answer_prefix (BIG-bench's construction).
// Returns a malloc'd string.
char *task_fewshot_prompt(const TaskSet *ts, const TaskItem *shots, int k,
                          const TaskItem *query);

// The answer inside a generation: cut at the first stop; for scratchpad sets, the text after
// the last "</scratch>\n" (the whole cut text if none). Returns a malloc'd string.
char *task_extract_answer(const TaskSet *ts, const char *gen);

// BIG-bench task.json: generative (target: string or list) and multiple choice
// (target_scores). Honours task_prefix, example_input_prefix ("\nQ: "), example_output_prefix
// ("\nA: "), choice_prefix ("\n  choice: "), few_shot_example_separator ("\n"), stop_string,
// output_regex, append_choices_to_input (true), with BIG-bench's defaults. prompt =
// input_prefix + input [+ choice_prefix + choice ...] + output_prefix, choices in the file's
// order (BIG-bench shuffles the appended ones at random). stop: stop_string, else "\n"
// (BIG-bench has none; every answer is followed by a newline under its default prefixes).
// name: the file's "name", else the path. multiple_choice when every example has
// target_scores; numeric when every target is a decimal number ([sign]digits[.digits],
// surrounding white space allowed). Errors name the file and the
// field, e.g. "task.json: examples[3].target: expected a string or a list of strings".
int task_load_bigbench(const char *path, TaskSet *out);
// JSON lines: {"context","completion"} or {"input","target"} objects, one per line (blank
// lines skipped). prompt = context/input, target = completion/target; stop "\n"; shot_sep "\n",
// or "" when every line is {"context","completion"} (OpenAI's layout: a context carries its
// own separator, "\n\nQ: ...", and k shots are the contexts and completions concatenated).
// numeric when every target is a decimal number, surrounding white space allowed (" 143").
int task_load_jsonl(const char *path, TaskSet *out);

void taskset_free(TaskSet *ts);
const char *task_specs_help(void);  // the spec grammar, for --help

#endif
