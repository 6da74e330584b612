// Loading a checkpoint and its tokenizer for a command.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "core/core.h"
#include "data/data.h"
#include "model/checkpoint.h"
#include "train/train.h"

void cli_model_path(const char *model, char *path, size_t np) {
    struct stat sb;
    if (stat(model, &sb) == 0 && S_ISDIR(sb.st_mode)) snprintf(path, np, "%s/model.safetensors", model);
    else snprintf(path, np, "%s", model);
}

// EMERGENT_ALLOW_NONFINITE=1 loads a model with NaN or Inf weights (with a warning).
int cli_load_model(const char *model, GPT *m, Tokenizer *tok, char *path, size_t np) {
    return cli_load_model_ex(model, m, tok, path, np, 0, 0);
}

// n_head: for a Hugging Face file without config.json; more: CKPT_ALLOW_NO_TOKENIZER.
int cli_load_model_ex(const char *model, GPT *m, Tokenizer *tok, char *path, size_t np,
                      int n_head, unsigned more) {
    char local[1200];
    if (!path) { path = local; np = sizeof local; }
    cli_model_path(model, path, np);
    const char *allow = getenv("EMERGENT_ALLOW_NONFINITE");
    unsigned flags = (allow && !strcmp(allow, "1") ? CKPT_ALLOW_NONFINITE : 0) | more;
    int rc = ckpt_load_ex(path, m, tok, NULL, flags, n_head);
    if (rc == CKPT_ERR_NONFINITE) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", em_errmsg());
        return em_error("%s (EMERGENT_ALLOW_NONFINITE=1 loads it anyway)", msg);
    }
    char name[64];
    if (!rc && (flags & CKPT_ALLOW_NONFINITE) && ckpt_first_nonfinite(m, name, sizeof name))
        fprintf(stderr, "warning: %s: tensor %s holds NaN or Inf weights (loaded because "
                "EMERGENT_ALLOW_NONFINITE=1)\n", path, name);
    return rc ? -1 : 0;
}

// The training data: a run directory's recorded source and seed, or --train with the flags
// train takes for it.
int cli_load_training(const char *run, const char *train, int task_n, int64_t seed,
                         float val_frac, int block, Tokenizer *tok, TokenData *d, char **src) {
    if (run) {
        GPT m;
        TrainState st;
        TrainConfig tc;
        char *tok_json = NULL, *data = NULL;
        int rc = train_open(run, &m, &tok_json, &st, &tc, &data);
        if (rc == 0) return em_error("%s: no run here (expected model.safetensors and "
                                     "state.safetensors)", run);
        if (rc < 0) return -1;
        gpt_free(&m);
        free(st.m);
        free(st.v);
        free(tok_json);
        rc = data_load_source(data, tc.seed, val_frac, tok, tc.seq_len, d, src);
        free(data);
        return rc;
    }
    size_t l = strlen(train);
    if (l > 4 && !strcmp(train + l - 4, ".txt") && !strchr(train, '@'))
        return data_load_source(train, (uint64_t)seed, val_frac, tok, block, d, src);
    return data_load_mixture(train, task_n, 1000, (uint64_t)seed, tok, block, d, src);
}

