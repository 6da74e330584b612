// A run directory's checkpoint: the model and the optimizer state as one unit.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "train.h"

typedef struct {
    char model[1100], state[1100];          // the checkpoint
    char model_tmp[1110], state_tmp[1110];  // a save's whole, staged files
    char model_part[1120], state_part[1120], log_part[1120];  // files being written
} RunPaths;

static int run_paths(RunPaths *p, const char *dir) {
    if (strlen(dir) > 1000) return em_error("%s: path too long", dir);
    snprintf(p->model, sizeof p->model, "%s/%s", dir, TRAIN_MODEL_FILE);
    snprintf(p->state, sizeof p->state, "%s/%s", dir, TRAIN_STATE_FILE);
    snprintf(p->model_tmp, sizeof p->model_tmp, "%s.tmp", p->model);
    snprintf(p->state_tmp, sizeof p->state_tmp, "%s.tmp", p->state);
    // st_write and write_file_atomic write NAME.tmp before renaming it to NAME
    snprintf(p->model_part, sizeof p->model_part, "%s.tmp", p->model_tmp);
    snprintf(p->state_part, sizeof p->state_part, "%s.tmp", p->state_tmp);
    snprintf(p->log_part, sizeof p->log_part, "%s/%s.tmp", dir, TRAIN_LOG_FILE);
    return 0;
}

// Makes the renames done in dir durable, and ordered: the state's before the model's.
static int sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return em_error("%s: cannot open the directory to sync it: %s", dir, strerror(errno));
    int rc = fsync(fd) != 0 && errno != EINVAL;  // EINVAL: a file system without directory sync
    int e = errno;
    close(fd);
    return rc ? em_error("%s: cannot sync the directory: %s", dir, strerror(e)) : 0;
}

static int rename_in(const char *dir, const char *from, const char *to) {
    if (rename(from, to) != 0) return em_error("%s: cannot rename to %s: %s", from, to, strerror(errno));
    return sync_dir(dir);
}

// A checkpoint is the pair DIR/model.safetensors + DIR/state.safetensors, tied by the
// state's metadata: the step and a digest of the model's parameters (the model records the
// step too). model.safetensors stays a plain model file that generate, eval and info read.
// A save:
//   1. writes state.safetensors.tmp, then model.safetensors.tmp, each whole (st_write writes
//      NAME.tmp.tmp, fsyncs it and renames it to NAME.tmp, so a staged file is never partial);
//   2. renames the state's over state.safetensors and syncs the directory;
//   3. renames the model's over model.safetensors and syncs the directory.
// A kill (or a failed write: a full disk) before 2 leaves the previous pair as it was; the
// staged files are removed (on failure at once, after a kill by the next train_open). A kill
// between 2 and 3 leaves the new state beside the previous model, whose digest then differs
// from the state's: train_open finds the new model whole in model.safetensors.tmp with the
// state's digest and finishes the rename. After 3 the new pair is complete. So a kill at any
// instant leaves a pair train_open loads, the previous one or the new one. The model is
// renamed last so that model.safetensors is never newer than its optimizer state.
int train_save(const char *dir, const GPT *m, const char *tok_json, const TrainState *st,
               const TrainConfig *tc, const char *data_path) {
    RunPaths p;
    if (run_paths(&p, dir)) return -1;
    char step[32];
    snprintf(step, sizeof step, "%d", st->step);
    const char *k[] = {"step"}, *v[] = {step};
    if (train_state_save(p.state_tmp, m, st, tc, data_path) ||
        ckpt_save_model(p.model_tmp, m, tok_json, k, v, 1)) {
        remove(p.state_tmp);
        remove(p.model_tmp);
        return -1;
    }
    if (rename(p.state_tmp, p.state) != 0) {
        int e = errno;
        remove(p.state_tmp);
        remove(p.model_tmp);
        return em_error("%s: cannot rename to %s: %s", p.state_tmp, p.state, strerror(e));
    }
    // from here on model.safetensors.tmp is the model of the new state: it is kept on failure
    if (sync_dir(dir)) return -1;
    return rename_in(dir, p.model_tmp, p.model);
}

// Loads the model at path with its tokenizer, its recorded step (-1: none) and digest.
static int load_model(const char *path, GPT *m, char **tok_json, int *step, uint64_t *digest) {
    StFile f;
    if (st_open(&f, path)) return -1;
    const char *s = st_meta(&f, "step");
    char *end;
    *step = s && *s ? (int)strtol(s, &end, 10) : -1;
    if (s && *s && *end) *step = -1;
    st_close(&f);
    Tokenizer tok;  // parsed here only to refuse a tokenizer larger than the vocabulary
    if (ckpt_load(path, m, &tok, tok_json, 0)) return -1;
    tok_free(&tok);
    *digest = train_model_digest(m);
    return 0;
}

int train_open(const char *dir, GPT *m, char **tok_json, TrainState *st, TrainConfig *tc,
               char **data_path) {
    memset(m, 0, sizeof *m);
    *tok_json = NULL;
    if (data_path) *data_path = NULL;
    RunPaths p;
    if (run_paths(&p, dir)) return -1;
    // files an unfinished write left: never part of a checkpoint
    remove(p.model_part);
    remove(p.state_part);
    remove(p.log_part);
    int has_model = file_exists(p.model);
    if (!file_exists(p.state)) {
        if (has_model)
            return em_error("%s: missing: the optimizer state of %s, needed to resume", p.state,
                            p.model);
        remove(p.model_tmp);  // a first save, killed before its renames
        remove(p.state_tmp);
        return 0;
    }
    int sstep, has_digest, mstep = -1, matched = 0;
    uint64_t sdig = 0, mdig = 0;
    if (train_state_peek(p.state, &sstep, &sdig, &has_digest)) return -1;
    if (has_model) {
        if (load_model(p.model, m, tok_json, &mstep, &mdig)) return -1;
        matched = mstep == sstep && (!has_digest || mdig == sdig);
    }
    if (!matched && has_digest && file_exists(p.model_tmp)) {
        // a save killed between its renames: its model is whole in model.safetensors.tmp
        GPT m2;
        char *tj2 = NULL;
        int step2;
        uint64_t dig2;
        if (load_model(p.model_tmp, &m2, &tj2, &step2, &dig2) == 0) {
            if (step2 == sstep && dig2 == sdig) {
                if (rename_in(dir, p.model_tmp, p.model)) {
                    gpt_free(&m2);
                    free(tj2);
                    goto fail;
                }
                gpt_free(m);
                free(*tok_json);
                *m = m2;
                *tok_json = tj2;
                mstep = step2;
                matched = has_model = 1;
            } else {
                gpt_free(&m2);
                free(tj2);
            }
        }
    }
    if (!matched) {
        if (!has_model)
            em_error("%s: missing: the model of %s (step %d), needed to resume", p.model, p.state,
                     sstep);
        else if (mstep != sstep)
            em_error("%s: at step %d, but %s is at step %d: not one checkpoint", p.model, mstep,
                     p.state, sstep);
        else
            em_error("%s: __metadata__.model_digest: %016llx, but %s has digest %016llx: the "
                     "state belongs to another model (same step %d)", p.state,
                     (unsigned long long)sdig, p.model, (unsigned long long)mdig, sstep);
        goto fail;
    }
    remove(p.model_tmp);  // a save killed before its renames
    remove(p.state_tmp);
    st->m = xcalloc_big(m->num_params, sizeof(float));
    st->v = xcalloc_big(m->num_params, sizeof(float));
    if (train_state_load(p.state, m, st, tc, data_path)) {
        free(st->m);
        free(st->v);
        st->m = st->v = NULL;
        goto fail;
    }
    return 1;
fail:
    gpt_free(m);
    memset(m, 0, sizeof *m);
    free(*tok_json);
    *tok_json = NULL;
    return -1;
}

int train_check_resume(const char *dir, const GPT *m, const TrainState *st,
                       const TrainConfig *stored, const GPTConfig *cfg, const TrainConfig *want) {
    const char *state = TRAIN_STATE_FILE, *model = TRAIN_MODEL_FILE;
#define SAME(f, fmt, cast)                                                                     \
    if (stored->f != want->f)                                                                  \
        return em_error("%s/%s: train_config." #f ": " fmt ", expected " fmt " (the run was "   \
                        "made with another recipe)", dir, state, (cast)stored->f, (cast)want->f);
    SAME(batch_size, "%d", int) SAME(seq_len, "%d", int) SAME(steps, "%d", int)
    SAME(grad_accum, "%d", int) SAME(warmup, "%d", int) SAME(decay_steps, "%d", int)
    SAME(lr, "%.9g", double) SAME(min_lr, "%.9g", double) SAME(beta1, "%.9g", double)
    SAME(beta2, "%.9g", double) SAME(eps, "%.9g", double) SAME(weight_decay, "%.9g", double)
    SAME(grad_clip, "%.9g", double) SAME(seed, "%llu", unsigned long long)
#undef SAME
    const GPTConfig *c = &m->cfg;
    if (c->n_layer != cfg->n_layer || c->n_head != cfg->n_head || c->n_embd != cfg->n_embd ||
        c->block_size != cfg->block_size)
        return em_error("%s/%s: a model of %d layers, %d heads, width %d, block %d; expected %d, "
                        "%d, %d, %d", dir, model, c->n_layer, c->n_head, c->n_embd,
                        c->block_size, cfg->n_layer, cfg->n_head, cfg->n_embd, cfg->block_size);
    if (st->step > want->steps)
        return em_error("%s/%s: at step %d, past the %d steps of the run", dir, state, st->step,
                        want->steps);
    return 0;
}
