// The extraction measure of memorisation: a span counts when greedy decoding reproduces its
// continuation verbatim; bad spans are refused.
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "eval/eval.h"
#include "model/gpt.h"
#include "test.h"

// A model with every weight zero: all logits equal, so greedy decoding (the lowest id on a
// tie) always says token 0. A stream of zeros is memorised through and through; a stream
// of ones not at all; a stream of zeros with a one in every span's continuation neither.
static void test_zero_model(void) {
    GPT m = {0};
    GPTConfig c = {.vocab_size = 5, .block_size = 16, .n_layer = 1, .n_head = 1, .n_embd = 8};
    CHECK(gpt_create(&m, &c) == 0, "%s", em_errmsg());
    int tok[64];
    MetricSummary x;
    MemorizeConfig mc = {.n = 30, .span = 10, .prefix = 6, .seed = 7};
    memset(tok, 0, sizeof tok);
    CHECK(eval_memorized(&m, tok, 64, &mc, &x) == 0 && x.mean == 1.0 && x.n == 30, "zeros: %g",
          x.mean);
    for (int i = 0; i < 64; i++) tok[i] = 1;
    CHECK(eval_memorized(&m, tok, 64, &mc, &x) == 0 && x.mean == 0.0, "ones: %g", x.mean);
    for (int i = 0; i < 64; i++) tok[i] = i % 4 == 3;  // a one in every 4 consecutive tokens
    CHECK(eval_memorized(&m, tok, 64, &mc, &x) == 0 && x.mean == 0.0, "a one in each: %g", x.mean);
    // a span longer than the block, a prefix as long as the span, data shorter than a span
    mc.span = 17;
    CHECK(eval_memorized(&m, tok, 64, &mc, &x) == -1 && strstr(em_errmsg(), "span 17"), "%s",
          em_errmsg());
    mc.span = 6;
    CHECK(eval_memorized(&m, tok, 64, &mc, &x) == -1, "prefix = span accepted");
    mc.span = 10;
    CHECK(eval_memorized(&m, tok, 9, &mc, &x) == -1 && strstr(em_errmsg(), "9 tokens"), "%s",
          em_errmsg());
    gpt_free(&m);
}

int main(void) {
    RUN(test_zero_model);
    return test_summary();
}
