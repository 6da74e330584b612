// Loading a checkpoint and its tokenizer for a command.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "core/core.h"
#include "model/checkpoint.h"

void cli_model_path(const char *model, char *path, size_t np) {
    struct stat sb;
    if (stat(model, &sb) == 0 && S_ISDIR(sb.st_mode)) snprintf(path, np, "%s/model.safetensors", model);
    else snprintf(path, np, "%s", model);
}

// EMERGENT_ALLOW_NONFINITE=1 loads a model with NaN or Inf weights (with a warning).
int cli_load_model(const char *model, GPT *m, Tokenizer *tok, char *path, size_t np) {
    char local[1200];
    if (!path) { path = local; np = sizeof local; }
    cli_model_path(model, path, np);
    const char *allow = getenv("EMERGENT_ALLOW_NONFINITE");
    unsigned flags = allow && !strcmp(allow, "1") ? CKPT_ALLOW_NONFINITE : 0;
    int rc = ckpt_load(path, m, tok, NULL, flags);
    if (rc == CKPT_ERR_NONFINITE) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", em_errmsg());
        return em_error("%s (EMERGENT_ALLOW_NONFINITE=1 loads it anyway)", msg);
    }
    char name[64];
    if (!rc && flags && ckpt_first_nonfinite(m, name, sizeof name))
        fprintf(stderr, "warning: %s: tensor %s holds NaN or Inf weights (loaded because "
                "EMERGENT_ALLOW_NONFINITE=1)\n", path, name);
    return rc ? -1 : 0;
}
