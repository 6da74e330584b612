// libFuzzer target: word2vec vector files, read in the text and in the binary format; in an
// accepted file every word is found by its own lookup and every value is finite.
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "w2v/w2v.h"

static void check(const W2VModel *m) {
    FUZZ_CHECK(m->V >= 1 && m->dim >= 1);
    for (int i = 0; i < m->V; i++) {
        FUZZ_CHECK(m->words[i] && m->words[i][0]);
        int j = w2v_find(m, m->words[i]);
        FUZZ_CHECK(j >= 0 && !strcmp(m->words[j], m->words[i]));
        for (int k = 0; k < m->dim; k++) FUZZ_CHECK(isfinite(m->vec[(size_t)i * m->dim + k]));
    }
    float *N = w2v_normalized(m);
    int ids[3];
    float sims[3];
    w2v_nearest(m, N, m->V, N, NULL, 0, 3, ids, sims);
    free(N);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile ff;
    fuzz_file_open(&ff, data, size);
    for (int binary = 0; binary < 2; binary++) {
        W2VModel m;
        if (!w2v_load(ff.path, binary, &m)) {
            check(&m);
            w2v_free(&m);
        }
    }
    fuzz_file_close(&ff);
    return 0;
}
