// bench_w2v: word2vec training speed in words per second per thread (the figure word2vec.c
// prints as "Words/thread/sec"), skip-gram and CBOW, on a generated Zipf corpus.
// usage: bench_w2v [MILLION_WORDS (1)] [THREADS (all cores)] [SIZE (100)]
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "w2v/w2v.h"

// Words w0..w{V-1} drawn with probability ~ 1/(rank+1), 20-word sentences.
static char *zipf_corpus(size_t n_words, int V, size_t *len) {
    double *cdf = xmalloc(V * sizeof(double)), s = 0;
    for (int i = 0; i < V; i++) cdf[i] = (s += 1.0 / (i + 1));
    Rng r;
    rng_seed(&r, 1);
    size_t cap = n_words * 8 + 64, n = 0;
    char *t = xmalloc(cap);
    for (size_t w = 0; w < n_words; w++) {
        double u = rng_uniform(&r) * s;
        int lo = 0, hi = V - 1;
        while (lo < hi) { int mid = (lo + hi) / 2; if (cdf[mid] < u) lo = mid + 1; else hi = mid; }
        n += snprintf(t + n, cap - n, "w%d%c", lo, w % 20 == 19 ? '\n' : ' ');
    }
    free(cdf);
    *len = n;
    return t;
}

int main(int argc, char **argv) {
    double mw = argc > 1 ? atof(argv[1]) : 1;
    int threads = argc > 2 ? atoi(argv[2]) : omp_get_max_threads();
    int size = argc > 3 ? atoi(argv[3]) : 100;
    size_t len;
    char *text = zipf_corpus((size_t)(mw * 1e6), 30000, &len);
    printf("bench_w2v: %.1fM words (Zipf over 30000 types), size %d, window 5, negative 5, "
           "sample 1e-3, 1 iteration\n", mw, size);
    int tl[2] = {1, threads};
    for (int cbow = 0; cbow <= 1; cbow++)
        for (int k = 0; k < (threads > 1 ? 2 : 1); k++) {
            W2VConfig c;
            w2v_config_default(&c);
            c.size = size; c.iter = 1; c.cbow = cbow; c.threads = tl[k]; c.min_count = 1;
            W2VModel m;
            W2VStats st;
            if (w2v_train_text(text, len, "bench", &c, &m, &st)) {
                fprintf(stderr, "error: %s\n", em_errmsg());
                return 1;
            }
            printf("  %-9s threads %2d: %7.1fk words/s/thread  (%.0fk words/s total, %.2fs)\n",
                   cbow ? "cbow" : "skip-gram", st.threads, st.words_per_sec_thread / 1000,
                   st.words_per_sec_thread * st.threads / 1000, st.seconds);
            w2v_free(&m);
        }
    free(text);
    return 0;
}
