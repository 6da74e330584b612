// The extraction measure of memorisation (Carlini et al.): see eval.h, eval_memorized.
#include <stdlib.h>

#include "core/core.h"
#include "eval/eval.h"
#include "model/generate.h"

int eval_memorized(const GPT *m, const int *tokens, size_t len, const MemorizeConfig *c,
                   MetricSummary *out) {
    int T = m->cfg.block_size;
    if (c->n < 1 || c->prefix < 1 || c->span <= c->prefix || c->span > T)
        return em_error("memorization: expected n >= 1 and 1 <= prefix < span <= block size "
                        "%d, got n %d, prefix %d, span %d", T, c->n, c->prefix, c->span);
    if (len < (size_t)c->span)
        return em_error("memorization: the training data hold %zu tokens, fewer than one span "
                        "of %d", len, c->span);
    Rng r;
    rng_seed(&r, c->seed);
    KVCache kv;
    kv_init(&kv, m);
    int V = m->cfg.vocab_size;
    double *hit = xmalloc((size_t)c->n * sizeof *hit);
    size_t starts = len - (size_t)c->span + 1;
    for (int j = 0; j < c->n; j++) {
        // a uniform start in [0, starts), from two draws (the data may exceed 2^32 tokens)
        size_t at = (size_t)(((unsigned __int128)rng_u64(&r) * starts) >> 64);
        const int *s = tokens + at;
        kv_reset(&kv);
        for (int t = 0; t < c->prefix; t++) kv_step(&kv, s[t]);
        int ok = 1;
        for (int t = c->prefix; t < c->span && ok; t++) {
            int best = 0;  // greedy: the argmax, the lowest id on a tie
            for (int v = 1; v < V; v++) if (kv.logits[v] > kv.logits[best]) best = v;
            ok = best == s[t];
            if (ok && t + 1 < c->span) kv_step(&kv, best);
        }
        hit[j] = ok;
    }
    kv_free(&kv);
    int rc = metric_summarize(hit, c->n, 1000, c->seed, out);
    free(hit);
    return rc;
}
