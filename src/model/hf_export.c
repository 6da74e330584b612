// hf_export: a model as a Hugging Face GPT-2 folder (config.json, tokenizer files,
// model.safetensors with {"format": "pt"}), as GPT2LMHeadModel.from_pretrained reads it.
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tokenizer/tokenizer.h"

// GPT2Config's fields, with the values our engine computes with.
static char *config_json(const GPTConfig *c, int eot) {
    StrBuf b = {0};
    sb_puts(&b, "{\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"model_type\": \"gpt2\",\n");
    sb_printf(&b, "  \"vocab_size\": %d,\n  \"n_positions\": %d,\n  \"n_ctx\": %d,\n",
              c->vocab_size, c->block_size, c->block_size);
    sb_printf(&b, "  \"n_embd\": %d,\n  \"n_layer\": %d,\n  \"n_head\": %d,\n", c->n_embd,
              c->n_layer, c->n_head);
    sb_puts(&b, "  \"n_inner\": null,\n  \"activation_function\": \"gelu_new\",\n"
                "  \"layer_norm_epsilon\": 1e-05,\n  \"resid_pdrop\": 0.0,\n"
                "  \"embd_pdrop\": 0.0,\n  \"attn_pdrop\": 0.0,\n"
                "  \"initializer_range\": 0.02,\n  \"scale_attn_weights\": true,\n"
                "  \"scale_attn_by_inverse_layer_idx\": false,\n"
                "  \"reorder_and_upcast_attn\": false,\n  \"tie_word_embeddings\": true,\n"
                "  \"use_cache\": true");
    if (eot >= 0) sb_printf(&b, ",\n  \"bos_token_id\": %d,\n  \"eos_token_id\": %d", eot, eot);
    sb_puts(&b, "\n}\n");
    return b.p;
}

int hf_export(const char *dir, const GPT *m, const Tokenizer *tok) {
    if (!m->params) return em_error("%s: no parameters to export (model not created)", dir);
    if (make_dir(dir)) return -1;
    char path[1200];
    // tokenizer first: a folder whose model.safetensors exists is complete
    int eot = -1;
    if (tok && tok->kind == TOK_BPE) {
        if (tok_save_bpe(tok, dir)) return -1;
        eot = tok_eot(tok);
    } else if (tok && tok->kind == TOK_CHAR) {
        // Hugging Face has no char-level GPT-2 tokenizer: ours, as our checkpoints keep it
        char *js = tok_to_json(tok);
        snprintf(path, sizeof path, "%s/emergent_tokenizer.json", dir);
        int rc = write_file_atomic(path, js, strlen(js));
        free(js);
        if (rc) return -1;
    }
    char *cfg = config_json(&m->cfg, eot);
    snprintf(path, sizeof path, "%s/config.json", dir);
    int rc = write_file_atomic(path, cfg, strlen(cfg));
    free(cfg);
    if (rc) return -1;
    // tensors as GPT2LMHeadModel names them, (in, out) Conv1D weights; the head is tied,
    // so lm_head.weight is not stored (from_pretrained ties it to wte)
    int n = gpt_param_table(&m->cfg, NULL);
    ParamInfo *pi = xcalloc((size_t)n, sizeof *pi);
    StTensor *t = xcalloc((size_t)n, sizeof *t);
    gpt_param_table(&m->cfg, pi);
    for (int i = 0; i < n; i++)
        t[i] = (StTensor){.name = pi[i].name, .dtype = "F32", .data = m->params + pi[i].offset,
                          .ndim = pi[i].ndim, .shape = {pi[i].shape[0], pi[i].shape[1]}};
    const char *k[1] = {"format"}, *v[1] = {"pt"};
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rc = st_write(path, t, n, k, v, 1);
    free(t);
    free(pi);
    return rc;
}
