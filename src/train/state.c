// The optimizer state file: AdamW moments, step, RNG, the recipe and the data path.
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"
#include "train.h"

static cJSON *config_to_json(const TrainConfig *tc) {
    cJSON *o = cJSON_CreateObject();
#define I(f) cJSON_AddNumberToObject(o, #f, tc->f)
    I(batch_size); I(seq_len); I(steps); I(grad_accum); I(warmup); I(decay_steps);
    I(eval_every); I(eval_iters); I(log_every); I(save_every);
#undef I
    // floats as exact decimal strings, so a resumed run uses the very same bits
    char b[64];
#define F(f) snprintf(b, sizeof b, "%.9g", (double)tc->f); cJSON_AddStringToObject(o, #f, b)
    F(lr); F(min_lr); F(beta1); F(beta2); F(eps); F(weight_decay); F(grad_clip);
#undef F
    snprintf(b, sizeof b, "%" PRIu64, tc->seed);
    cJSON_AddStringToObject(o, "seed", b);
    return o;
}

static int config_from_json(const char *json, TrainConfig *tc, const char *path) {
    cJSON *o = cJSON_Parse(json);
    if (!cJSON_IsObject(o)) { cJSON_Delete(o); return em_error("%s: train_config: expected a JSON object", path); }
    int rc = 0;
#define I(f)                                                                                  \
    if (!rc) {                                                                                \
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, #f);                            \
        if (!cJSON_IsNumber(x)) rc = em_error("%s: train_config." #f ": expected a number", path); \
        else tc->f = x->valueint;                                                             \
    }
    I(batch_size); I(seq_len); I(steps); I(grad_accum); I(warmup); I(decay_steps);
    I(eval_every); I(eval_iters); I(log_every); I(save_every);
#undef I
#define F(f)                                                                                  \
    if (!rc) {                                                                                \
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, #f);                            \
        if (!cJSON_IsString(x)) rc = em_error("%s: train_config." #f ": expected a string", path); \
        else tc->f = strtof(x->valuestring, NULL);                                            \
    }
    F(lr); F(min_lr); F(beta1); F(beta2); F(eps); F(weight_decay); F(grad_clip);
#undef F
    if (!rc) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "seed");
        if (!cJSON_IsString(x)) rc = em_error("%s: train_config.seed: expected a string", path);
        else tc->seed = strtoull(x->valuestring, NULL, 10);
    }
    cJSON_Delete(o);
    return rc;
}

uint64_t train_model_digest(const GPT *m) {
    // FNV-1a over 8-byte words (then the tail): fast enough to run at every save and open
    const unsigned char *p = (const unsigned char *)m->params;
    size_t n = m->num_params * sizeof(float), i = 0;
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

void train_state_new(TrainState *st, const GPT *m, uint64_t seed) {
    st->m = xcalloc_big(m->num_params, sizeof(float));
    st->v = xcalloc_big(m->num_params, sizeof(float));
    st->step = 0;
    rng_seed(&st->rng, seed + 1);
}

int train_state_save(const char *path, const GPT *m, const TrainState *st,
                     const TrainConfig *tc, const char *data_path) {
    char step[32], rng[80], nparams[32], digest[24];
    snprintf(digest, sizeof digest, "%016" PRIx64, train_model_digest(m));
    snprintf(step, sizeof step, "%d", st->step);
    snprintf(rng, sizeof rng, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64,
             st->rng.s[0], st->rng.s[1], st->rng.s[2], st->rng.s[3]);
    snprintf(nparams, sizeof nparams, "%zu", m->num_params);
    cJSON *cj = config_to_json(tc);
    char *cfg = cJSON_PrintUnformatted(cj);
    cJSON_Delete(cj);
    const char *keys[] = {"format", "step", "rng", "num_params", "train_config", "data_path",
                          "model_digest"};
    const char *vals[] = {"emergent-train-state", step, rng, nparams, cfg, data_path ? data_path : "",
                          digest};
    StTensor t[2] = {
        {.name = "adam.m", .data = st->m, .ndim = 1, .shape = {(int64_t)m->num_params}},
        {.name = "adam.v", .data = st->v, .ndim = 1, .shape = {(int64_t)m->num_params}},
    };
    int rc = st_write(path, t, 2, keys, vals, 7);
    free(cfg);
    return rc;
}

int train_state_load(const char *path, const GPT *m, TrainState *st, TrainConfig *tc,
                     char **data_path) {
    StFile f;
    if (st_open(&f, path)) return -1;
    int rc = 0;
    const char *fmt = st_meta(&f, "format"), *step = st_meta(&f, "step"), *rng = st_meta(&f, "rng");
    const char *cfg = st_meta(&f, "train_config"), *dp = st_meta(&f, "data_path");
    char *end;
    if (!fmt || strcmp(fmt, "emergent-train-state"))
        rc = em_error("%s: __metadata__.format: expected \"emergent-train-state\"", path);
    else if (!step || (st->step = (int)strtol(step, &end, 10), *end) || st->step < 0)
        rc = em_error("%s: __metadata__.step: expected a non-negative integer", path);
    else if (!rng || strlen(rng) != 64)
        rc = em_error("%s: __metadata__.rng: expected 64 hex digits", path);
    else if (!cfg)
        rc = em_error("%s: __metadata__.train_config: missing", path);
    if (!rc) {
        for (int i = 0; i < 4 && !rc; i++) {
            char part[17];
            memcpy(part, rng + 16 * i, 16);
            part[16] = 0;
            st->rng.s[i] = strtoull(part, &end, 16);
            if (*end) rc = em_error("%s: __metadata__.rng: expected 64 hex digits", path);
        }
    }
    if (!rc) rc = config_from_json(cfg, tc, path);
    int64_t shape[1] = {(int64_t)m->num_params};
    if (!rc) rc = st_read_f32(&f, "adam.m", st->m, 1, shape);
    if (!rc) rc = st_read_f32(&f, "adam.v", st->v, 1, shape);
    if (!rc && data_path) *data_path = strdup(dp ? dp : "");
    st_close(&f);
    return rc;
}

int train_state_peek(const char *path, int *step, uint64_t *digest, int *has_digest) {
    StFile f;
    if (st_open(&f, path)) return -1;
    const char *fmt = st_meta(&f, "format"), *s = st_meta(&f, "step");
    const char *d = st_meta(&f, "model_digest");
    char *end;
    int rc = 0;
    if (!fmt || strcmp(fmt, "emergent-train-state"))
        rc = em_error("%s: __metadata__.format: expected \"emergent-train-state\"", path);
    else if (!s || !*s || (*step = (int)strtol(s, &end, 10), *end) || *step < 0)
        rc = em_error("%s: __metadata__.step: expected a non-negative integer", path);
    else if ((*has_digest = d != NULL) && (strlen(d) != 16 || (*digest = strtoull(d, &end, 16), *end)))
        rc = em_error("%s: __metadata__.model_digest: expected 16 hex digits", path);
    st_close(&f);
    return rc;
}
