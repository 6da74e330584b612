// emergent inspect neurons / inspect vectors: flags, loading, printing (tables or --json).
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/inspect_cli.h"
#include "core/core.h"
#include "inspect/neurons.h"
#include "inspect/vectors.h"
#include "model/checkpoint.h"


// Appends the text of ids[a..b) to a malloc'd string; escape: control characters as \n, \t, \r.
static char *text_of(const Tokenizer *tok, const int *ids, size_t a, size_t b, int escape) {
    StrBuf s = {0};
    sb_put(&s, "", 0);
    for (size_t i = a; i < b; i++) {
        char buf[TOK_MAX_BYTES];
        int k = tok_decode_one(tok, ids[i], buf);
        if (escape && k == 1 && (buf[0] == '\n' || buf[0] == '\t' || buf[0] == '\r')) {
            char e[2] = {'\\', buf[0] == '\n' ? 'n' : buf[0] == '\t' ? 't' : 'r'};
            sb_put(&s, e, 2);
        } else {
            sb_put(&s, buf, (size_t)k);
        }
    }
    return s.p;
}

static void hit_json(cJSON *o, const Tokenizer *tok, const int *ids, size_t n, const NeuronHit *h,
                     int window) {
    size_t lo = h->pos > h->win_start + window ? h->pos - window : h->win_start;
    size_t hi = h->pos + 1 + window / 4 < n ? h->pos + 1 + window / 4 : n;
    char *b = text_of(tok, ids, lo, h->pos, 0), *t = text_of(tok, ids, h->pos, h->pos + 1, 0);
    char *a = text_of(tok, ids, h->pos + 1, hi, 0);
    cJSON_AddNumberToObject(o, "activation", h->act);
    cJSON_AddNumberToObject(o, "position", (double)h->pos);
    cJSON_AddNumberToObject(o, "window_start", (double)h->win_start);
    cJSON_AddStringToObject(o, "context_before", b);
    cJSON_AddStringToObject(o, "token", t);
    cJSON_AddStringToObject(o, "context_after", a);
    free(b); free(t); free(a);
}

// The context the model saw (up to `window` tokens back, within its window), the token in
// [brackets], and window/4 tokens after it.
static void print_context(const Tokenizer *tok, const int *ids, size_t n, const NeuronHit *h,
                          int window) {
    size_t lo = h->pos > h->win_start + window ? h->pos - window : h->win_start;
    size_t hi = h->pos + 1 + window / 4 < n ? h->pos + 1 + window / 4 : n;
    char *b = text_of(tok, ids, lo, h->pos, 1), *t = text_of(tok, ids, h->pos, h->pos + 1, 1);
    char *a = text_of(tok, ids, h->pos + 1, hi, 1);
    printf("%s%s[%s]%s", lo > h->win_start ? "…" : "", b, t, a);
    free(b); free(t); free(a);
}


static void print_neurons(const GPT *m, const Tokenizer *tok, const int *ids, size_t n,
                          const NeuronHit *hits, int nh, int layer, int neuron, int window,
                          int top_neurons, double secs, int json) {
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "hook", "mlp.hook_post");
        cJSON_AddNumberToObject(root, "layer", layer);
        if (!top_neurons) cJSON_AddNumberToObject(root, "neuron", neuron);
        cJSON_AddNumberToObject(root, "tokens", (double)n);
        cJSON_AddNumberToObject(root, "block_size", m->cfg.block_size);
        cJSON *arr = cJSON_AddArrayToObject(root, top_neurons ? "neurons" : "top");
        for (int i = 0; i < nh; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "rank", i + 1);
            if (top_neurons) cJSON_AddNumberToObject(o, "neuron", hits[i].neuron);
            hit_json(o, tok, ids, n, &hits[i], window);
            cJSON_AddItemToArray(arr, o);
        }
        cli_json_print(root, 1);
        return;
    }
    printf("blocks.%d.mlp.hook_post: %zu tokens in windows of %d, %.1fs\n", layer, n,
           m->cfg.block_size, secs);
    if (top_neurons) printf("%4s  %6s  %10s  %9s  %s\n", "rank", "neuron", "max act", "position", "context of the max");
    else printf("neuron %d\n%4s  %10s  %9s  %s\n", neuron, "rank", "activation", "position", "context");
    for (int i = 0; i < nh; i++) {
        if (top_neurons) printf("%4d  %6d  %10.4f  %9zu  ", i + 1, hits[i].neuron, hits[i].act, hits[i].pos);
        else printf("%4d  %10.4f  %9zu  ", i + 1, hits[i].act, hits[i].pos);
        print_context(tok, ids, n, &hits[i], window);
        printf("\n");
    }
}

int inspect_neurons_main(int argc, char **argv) {
    const char *model = NULL, *data = NULL;
    int layer = -1, neuron = -1, top = 10, window = 32, batch = 8, top_neurons = 0, json = 0;
    int64_t max_tokens = 0;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--data", ARG_STR, &data, "UTF-8 text corpus to scan"},
        {"--layer", ARG_INT, &layer, "block (0-based), as blocks.{layer}.mlp.hook_post", -1, 1 << 20},
        {"--neuron", ARG_INT, &neuron, "MLP neuron (0..4*n_embd-1)", -1, 1 << 24},
        {"--top", ARG_INT, &top, "how many contexts (or neurons) to list", 1, 1 << 20},
        {"--window", ARG_INT, &window, "tokens of context shown before the token", 0, 1 << 20},
        {"--max-tokens", ARG_I64, &max_tokens, "scan only the first N tokens (0: all)", 0, 9e18},
        {"--batch", ARG_INT, &batch, "windows of block_size per forward", 1, 4096},
        {"--top-neurons", ARG_FLAG, &top_neurons, "list the layer's neurons with the largest maximum activation"},
        {"--json", ARG_FLAG, &json, "JSON on stdout instead of a table"},
        {NULL},
    };
    int rc = args_parse("inspect neurons", "--model CKPT --data FILE --layer L (--neuron J | --top-neurons) [flags]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    if (!data) { em_error("--data FILE is required"); return 1; }
    if (!args_given(specs, "--layer")) { em_error("--layer L is required"); return 1; }
    if (!top_neurons && !args_given(specs, "--neuron")) { em_error("--neuron J is required (or --top-neurons)"); return 1; }
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    int L = m.cfg.n_layer, F = 4 * m.cfg.n_embd, *ids = NULL, nh = 0;
    size_t n = 0, len = 0;
    char *text = NULL;
    NeuronHit *hits = NULL;
    rc = 1;
    if (layer < 0 || layer >= L) {
        em_error("--layer %d is out of range: the model has %d layers (0..%d)", layer, L, L - 1);
        goto done;
    }
    if (!top_neurons && (neuron < 0 || neuron >= F)) {
        em_error("--neuron %d is out of range: layer %d has %d MLP neurons (0..%d)", neuron, layer, F, F - 1);
        goto done;
    }
    if (!(text = read_file(data, &len)) || tok_encode(&tok, text, len, &ids, &n, data)) goto done;
    if (max_tokens > 0 && (size_t)max_tokens < n) n = (size_t)max_tokens;
    if (n == 0) { em_error("%s: no tokens to scan", data); goto done; }
    hits = xcalloc(top, sizeof *hits);
    double t0 = now_sec();
    if (top_neurons ? neuron_top_neurons(&m, ids, n, layer, top, batch, hits, &nh)
                    : neuron_top_contexts(&m, ids, n, layer, neuron, top, batch, hits, &nh))
        goto done;
    print_neurons(&m, &tok, ids, n, hits, nh, layer, neuron, window, top_neurons, now_sec() - t0, json);
    rc = 0;
done:
    free(hits); free(ids); free(text);
    tok_free(&tok);
    gpt_free(&m);
    return rc;
}

// ---- vectors ----------------------------------------------------------------

static int encode_arg(const Tokenizer *tok, const char *flag, const char *s, int **ids, size_t *n) {
    char src[64];
    snprintf(src, sizeof src, "%s", flag);
    if (tok_encode(tok, s, strlen(s), ids, n, src)) return -1;
    if (*n == 0) { free(*ids); *ids = NULL; return em_error("%s: empty", flag); }
    return 0;
}

static int token_arg(const Tokenizer *tok, const char *flag, const char *w) {
    int id = vec_token_id(tok, w);
    if (id < 0) em_error("%s: '%s' is not one token of the model's %d-token vocabulary", flag, w, tok->vocab_size);
    return id;
}

static void add_list(cJSON *arr, const Tokenizer *tok, const int *ids, const float *cos, int n) {
    for (int i = 0; i < n; i++) {
        char buf[TOK_MAX_BYTES + 1] = {0};
        tok_decode_one(tok, ids[i], buf);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "token", buf);
        cJSON_AddNumberToObject(o, "id", ids[i]);
        cJSON_AddNumberToObject(o, "cosine", cos[i]);
        cJSON_AddItemToArray(arr, o);
    }
}

static void print_list(const Tokenizer *tok, const int *ids, const float *cos, int n) {
    printf("%4s  %-8s  %6s  %8s\n", "rank", "token", "id", "cosine");
    for (int i = 0; i < n; i++) {
        int one = ids[i];
        char *t = text_of(tok, &one, 0, 1, 1);
        char q[24];
        snprintf(q, sizeof q, "'%s'", t);
        printf("%4d  %-8s  %6d  %8.4f\n", i + 1, q, ids[i], cos[i]);
        free(t);
    }
}

static void hook_name(int l, char *hook, size_t n) {
    if (l == 0) snprintf(hook, n, "blocks.0.hook_resid_pre");
    else snprintf(hook, n, "blocks.%d.hook_resid_post", l - 1);
}

static int vectors_word(GPT *m, const Tokenizer *tok, const char *word, const char *c1,
                        const char *c2, int json) {
    int *w = NULL, *i1 = NULL, *i2 = NULL, rc = -1;
    size_t nw, n1, n2;
    char hook[48];
    InspectWordStates r = {0};
    if (encode_arg(tok, "--word", word, &w, &nw) || encode_arg(tok, "--context1", c1, &i1, &n1) ||
        encode_arg(tok, "--context2", c2, &i2, &n2) || inspect_word_states(m, w, nw, i1, n1, i2, n2, &r))
        goto done;
    if (r.p1 < 0) { em_error("--word '%s' does not occur in --context1 '%s'", word, c1); goto done; }
    if (r.p2 < 0) { em_error("--word '%s' does not occur in --context2 '%s'", word, c2); goto done; }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "word", word);
        cJSON_AddStringToObject(root, "context1", c1);
        cJSON_AddStringToObject(root, "context2", c2);
        cJSON_AddNumberToObject(root, "position1", r.p1);
        cJSON_AddNumberToObject(root, "position2", r.p2);
        cJSON_AddBoolToObject(root, "same_prefix", r.same_prefix);
        cJSON *arr = cJSON_AddArrayToObject(root, "layers");
        for (int l = 0; l <= r.L; l++) {
            cJSON *o = cJSON_CreateObject();
            hook_name(l, hook, sizeof hook);
            cJSON_AddNumberToObject(o, "layer", l);
            cJSON_AddStringToObject(o, "hook", hook);
            cJSON_AddNumberToObject(o, "cosine", r.cos[l]);
            cJSON_AddItemToArray(arr, o);
        }
        cli_json_print(root, 1);
    } else {
        printf("'%s': the last token at position %ld of context 1 and %ld of context 2\n", word, r.p1, r.p2);
        if (r.same_prefix)
            printf("(the contexts agree up to the word: a causal model sees no difference; put the "
                   "disambiguating text before it)\n");
        printf("%5s  %-26s  %8s\n", "layer", "hook", "cosine");
        for (int l = 0; l <= r.L; l++) {
            hook_name(l, hook, sizeof hook);
            printf("%5d  %-26s  %8.4f\n", l, hook, r.cos[l]);
        }
    }
    rc = 0;
done:
    inspect_word_states_free(&r);
    free(w); free(i1); free(i2);
    return rc;
}

static int vectors_neighbours(const GPT *m, const Tokenizer *tok, const char *nb, int k, int json) {
    int V = m->cfg.vocab_size, C = m->cfg.n_embd, id = token_arg(tok, "--neighbours", nb);
    if (id < 0) return -1;
    int *ids = xcalloc(k, sizeof(int));
    float *cos = xcalloc(k, sizeof(float));
    int n = vec_nearest(m->p.wte, V, C, m->p.wte + (size_t)id * C, &id, 1, k, ids, cos);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "token", nb);
        cJSON_AddNumberToObject(root, "id", id);
        add_list(cJSON_AddArrayToObject(root, "neighbours"), tok, ids, cos, n);
        cli_json_print(root, 1);
    } else {
        printf("nearest tokens to '%s' (id %d) by cosine in wte:\n", nb, id);
        print_list(tok, ids, cos, n);
    }
    free(ids); free(cos);
    return 0;
}

static int vectors_analogy(const GPT *m, const Tokenizer *tok, const char *analogy, int k, int json) {
    char *s = strdup(analogy), *w[3];
    int nwd = 0, a = -1, b = -1, c = -1;
    for (char *sv = NULL, *t = strtok_r(s, " \t", &sv); t; t = strtok_r(NULL, " \t", &sv))
        if (nwd++ < 3) w[nwd - 1] = t;
    if (nwd != 3) em_error("--analogy: expected three tokens \"a b c\", got %d", nwd);
    else if ((a = token_arg(tok, "--analogy", w[0])) >= 0 && (b = token_arg(tok, "--analogy", w[1])) >= 0)
        c = token_arg(tok, "--analogy", w[2]);
    if (c < 0) { free(s); return -1; }
    int *ids = xcalloc(k, sizeof(int));
    float *cos = xcalloc(k, sizeof(float));
    int n = vec_analogy(m->p.wte, m->cfg.vocab_size, m->cfg.n_embd, a, b, c, k, ids, cos);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "a", w[0]);
        cJSON_AddStringToObject(root, "b", w[1]);
        cJSON_AddStringToObject(root, "c", w[2]);
        cJSON_AddStringToObject(root, "method", "3CosAdd");
        add_list(cJSON_AddArrayToObject(root, "results"), tok, ids, cos, n);
        cli_json_print(root, 1);
    } else {
        printf("%s - %s + %s (3CosAdd; %s, %s, %s excluded):\n", w[1], w[0], w[2], w[0], w[1], w[2]);
        print_list(tok, ids, cos, n);
    }
    free(ids); free(cos); free(s);
    return 0;
}

static int vectors_questions(const GPT *m, const Tokenizer *tok, const char *questions, int json) {
    size_t len;
    char *text = read_file(questions, &len);
    if (!text) return -1;
    AnalogyScore sc;
    int e = vec_score_questions(m->p.wte, m->cfg.vocab_size, m->cfg.n_embd, tok, text, len, questions, &sc);
    free(text);
    if (e) return -1;
    double acc = sc.n ? (double)sc.correct / sc.n : NAN;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "file", questions);
        cJSON_AddStringToObject(root, "method", "3CosAdd");
        cJSON_AddNumberToObject(root, "questions", sc.n);
        cJSON_AddNumberToObject(root, "correct", sc.correct);
        if (sc.n) cJSON_AddNumberToObject(root, "accuracy", acc);
        else cJSON_AddNullToObject(root, "accuracy");
        cJSON_AddNumberToObject(root, "skipped", sc.skipped);
        cJSON *arr = cJSON_AddArrayToObject(root, "sections");
        for (int i = 0; i < sc.n_sec; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "section", sc.sec[i].name);
            cJSON_AddNumberToObject(o, "questions", sc.sec[i].n);
            cJSON_AddNumberToObject(o, "correct", sc.sec[i].correct);
            cJSON_AddNumberToObject(o, "skipped", sc.sec[i].skipped);
            cJSON_AddItemToArray(arr, o);
        }
        cli_json_print(root, 1);
    } else {
        printf("%-24s  %9s  %7s  %8s  %7s\n", "section", "questions", "correct", "accuracy", "skipped");
        for (int i = 0; i < sc.n_sec; i++) {
            const AnalogySection *x = &sc.sec[i];
            printf("%-24s  %9d  %7d  %8.4f  %7d\n", x->name[0] ? x->name : "(none)", x->n,
                   x->correct, x->n ? (double)x->correct / x->n : NAN, x->skipped);
        }
        printf("%-24s  %9d  %7d  %8.4f  %7d\n", "total", sc.n, sc.correct, acc, sc.skipped);
        if (sc.skipped) printf("%d questions skipped: a word that is not one token of the vocabulary\n", sc.skipped);
    }
    analogy_score_free(&sc);
    return 0;
}

int inspect_vectors_main(int argc, char **argv) {
    const char *model = NULL, *word = NULL, *c1 = NULL, *c2 = NULL, *nb = NULL, *analogy = NULL,
               *questions = NULL;
    int k = 10, json = 0;
    ArgSpec specs[] = {
        {"--model", ARG_STR, &model, "checkpoint (.safetensors) or run directory"},
        {"--word", ARG_STR, &word, "text whose last token's hidden states are compared (with --context1/2)"},
        {"--context1", ARG_STR, &c1, "first context containing --word"},
        {"--context2", ARG_STR, &c2, "second context containing --word"},
        {"--neighbours", ARG_STR, &nb, "a token: its nearest tokens by cosine in the embeddings (wte)"},
        {"--analogy", ARG_STR, &analogy, "\"a b c\" (tokens): the nearest tokens to b - a + c (3CosAdd)"},
        {"--questions", ARG_STR, &questions, "word2vec analogy file (\"a b c d\" lines): 3CosAdd accuracy"},
        {"--k", ARG_INT, &k, "how many neighbours to list", 1, 1 << 20},
        {"--json", ARG_FLAG, &json, "JSON on stdout instead of a table"},
        {NULL},
    };
    int rc = args_parse("inspect vectors",
                        "--model CKPT (--word W --context1 TEXT --context2 TEXT | --neighbours TOKEN | "
                        "--analogy \"a b c\" | --questions FILE) [flags]",
                        specs, argc, argv, NULL, 0, NULL);
    if (rc > 0) return 0;
    if (rc) return 1;
    if (!model) { em_error("--model CKPT is required"); return 1; }
    if ((word || c1 || c2) + !!nb + !!analogy + !!questions != 1) {
        em_error("give exactly one of --word (with --context1, --context2), --neighbours, --analogy, --questions");
        return 1;
    }
    if ((word || c1 || c2) && !(word && c1 && c2)) {
        em_error("--word, --context1 and --context2 go together");
        return 1;
    }
    GPT m;
    Tokenizer tok;
    if (cli_load_model(model, &m, &tok, NULL, 0)) return 1;
    if (k > m.cfg.vocab_size) k = m.cfg.vocab_size;
    rc = word ? vectors_word(&m, &tok, word, c1, c2, json)
       : nb ? vectors_neighbours(&m, &tok, nb, k, json)
       : analogy ? vectors_analogy(&m, &tok, analogy, k, json)
       : vectors_questions(&m, &tok, questions, json);
    tok_free(&tok);
    gpt_free(&m);
    return rc ? 1 : 0;
}
