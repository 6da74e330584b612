// libFuzzer target: a ladder spec; an accepted spec is expanded into its points (as the
// runner does once the vocabulary is known) and each point's evaluation steps.
#include "core/core.h"
#include "fuzz.h"
#include "ladder/spec.h"

static LadderPoint pts[LADDER_MAX * LADDER_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile ff;
    fuzz_file_open(&ff, data, size);
    LadderSpec s;
    if (!ladder_spec_load(ff.path, &s)) {
        FUZZ_CHECK(s.n_sizes >= 1 && s.n_sizes <= LADDER_MAX);
        FUZZ_CHECK(s.n_seeds >= 1 && s.n_seeds <= LADDER_MAX);
        FUZZ_CHECK(s.n_sweep >= 0 && s.n_sweep <= LADDER_MAX);
        s.vocab_size = 64;
        // a point's steps or learning rate can still fall outside its range once the
        // vocabulary fixes the sizes: then -1 with a message, never a point out of range
        int np = ladder_points(&s, pts, LADDER_MAX * LADDER_MAX);
        FUZZ_CHECK(np >= 1 || (np == -1 && em_errmsg()[0]));
        for (int i = 0; i < np; i++) {
            FUZZ_CHECK(pts[i].steps >= 1 && pts[i].lr >= 1e-8f && pts[i].lr <= 10.0f);
            int steps[64];
            int ns = ladder_eval_steps(pts[i].steps, s.eval_points, steps);
            FUZZ_CHECK(ns >= 1 && ns <= 64 && steps[ns - 1] == pts[i].steps);
        }
    }
    fuzz_file_close(&ff);
    return 0;
}
