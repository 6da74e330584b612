// Tests for the gradient buckets of data parallelism (src/train/buckets.c): every parameter
// in exactly one bucket for odd configs and bucket sizes, pack then unpack gives the buffer
// back, and a bucket's gradients are final when gpt_backward says its layers are done.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "train/train.h"

static const GPTConfig configs[] = {
    {7, 5, 1, 1, 4},     // one layer: the layer's slabs are contiguous
    {11, 3, 2, 3, 6},
    {5, 9, 5, 2, 10},
    {65, 16, 3, 2, 16},
};
static const size_t caps[] = {0, 1, 300, 4000, 100000, (size_t)1 << 40};

static void test_plan_covers_every_parameter_once(void) {
    for (size_t ci = 0; ci < sizeof configs / sizeof configs[0]; ci++)
        for (size_t ki = 0; ki < sizeof caps / sizeof caps[0]; ki++) {
            const GPTConfig *c = &configs[ci];
            size_t N = gpt_num_params(c), packed = 0, total = 0;
            GradBuckets b;
            grad_buckets_plan(&b, c, caps[ki]);
            unsigned char *seen = calloc(N, 1);
            int over = 0, order = 1, units_ok = 1, sizes_ok = 1;
            for (int k = 0; k < b.n_buckets; k++) {
                size_t n = grad_bucket_floats(&b, k);
                total += n;
                if (k > 0 && b.ready_after[k] >= b.ready_after[k - 1]) order = 0;
                // every bucket but the last reaches the cap
                if (k < b.n_buckets - 1 && n * sizeof(float) < caps[ki]) sizes_ok = 0;
                if (b.first[k + 1] - b.first[k] > 1) {
                    if (b.pos[k] != packed) units_ok = 0;
                    packed += n;
                }
                for (int i = b.first[k]; i < b.first[k + 1]; i++)
                    for (size_t j = 0; j < b.slices[i].n; j++) {
                        size_t x = b.slices[i].off + j;
                        if (x >= N || seen[x]++) over = 1;
                    }
            }
            size_t missing = 0;
            for (size_t x = 0; x < N; x++) missing += !seen[x];
            CHECK(!over && missing == 0 && total == N,
                  "config %zu cap %zu: %zu of %zu floats missing, overlap %d", ci, caps[ki],
                  missing, N, over);
            CHECK(order && b.ready_after[b.n_buckets - 1] == -1,
                  "config %zu cap %zu: buckets not in backward's order", ci, caps[ki]);
            CHECK(sizes_ok, "config %zu cap %zu: a bucket before the last is under the cap", ci,
                  caps[ki]);
            CHECK(units_ok && packed == b.packed_floats, "config %zu cap %zu: packed %zu vs %zu",
                  ci, caps[ki], packed, b.packed_floats);
            if (caps[ki] == 0)  // a bucket per layer, and one for the rest
                CHECK(b.n_buckets == c->n_layer + 1, "config %zu: %d buckets", ci, b.n_buckets);
            if (caps[ki] == (size_t)1 << 40)  // one bucket: the whole buffer, in place
                CHECK(b.n_buckets == 1 && b.n_slices == 1 && b.packed_floats == 0,
                      "config %zu: %d buckets, %d slices", ci, b.n_buckets, b.n_slices);
            if (c->n_layer == 1 && caps[ki] == 0)  // the one layer's 12 slabs are one slice
                CHECK(b.first[1] - b.first[0] == 1, "one layer: %d slices", b.first[1] - b.first[0]);
            free(seen);
            grad_buckets_free(&b);
        }
}

static void test_pack_unpack_round_trip(void) {
    const GPTConfig *c = &configs[2];
    size_t N = gpt_num_params(c);
    GradBuckets b;
    grad_buckets_plan(&b, c, 300);
    float *g = malloc(N * sizeof(float)), *h = malloc(N * sizeof(float));
    float *buf = malloc((b.packed_floats + 1) * sizeof(float));
    for (size_t i = 0; i < N; i++) g[i] = (float)i;
    for (size_t i = 0; i < N; i++) h[i] = -1.0f;
    int in_order = 1;
    for (int k = 0; k < b.n_buckets; k++) {
        if (b.first[k + 1] - b.first[k] == 1) {  // summed in place
            const GradSlice *s = &b.slices[b.first[k]];
            memcpy(h + s->off, g + s->off, s->n * sizeof(float));
            continue;
        }
        grad_bucket_pack(&b, k, g, buf);
        // packed: the slices' values one after the other
        const float *p = buf + b.pos[k];
        for (int i = b.first[k]; i < b.first[k + 1]; i++)
            for (size_t j = 0; j < b.slices[i].n; j++)
                if (*p++ != (float)(b.slices[i].off + j)) in_order = 0;
        grad_bucket_unpack(&b, k, buf, h);
    }
    CHECK(in_order, "packed values out of place");
    CHECK(memcmp(g, h, N * sizeof(float)) == 0, "unpacked buffer differs");
    free(g); free(h); free(buf);
    grad_buckets_free(&b);
}

// Snapshots each bucket's gradients when gpt_backward completes its last layer; after
// backward they must equal the final gradients (nothing wrote there later) and cover all.
typedef struct {
    GPT *m;
    GradBuckets b;
    float *snap;  // (num_params) bucket values as they were at their start
    int next, calls, last_l, order_ok;
} Watch;

static void on_done(void *ctx, int l) {
    Watch *w = ctx;
    if (w->calls++ > 0 && l != w->last_l - 1) w->order_ok = 0;
    w->last_l = l;
    while (w->next < w->b.n_buckets && w->b.ready_after[w->next] >= l) {
        int k = w->next++;
        for (int i = w->b.first[k]; i < w->b.first[k + 1]; i++)
            memcpy(w->snap + w->b.slices[i].off, w->m->grads + w->b.slices[i].off,
                   w->b.slices[i].n * sizeof(float));
    }
}

static void test_bucket_final_when_ready(void) {
    GPTConfig c = {13, 8, 3, 2, 8};
    int B = 2, T = 8;
    GPT m;
    CHECK(gpt_create(&m, &c) == 0, "%s", em_errmsg());
    gpt_init_weights(&m, 5);
    gpt_alloc_acts(&m, B, T);
    gpt_alloc_grads(&m);
    int inp[16], tgt[16];
    for (int i = 0; i < B * T; i++) { inp[i] = (i * 7 + 3) % 13; tgt[i] = (i * 5 + 1) % 13; }
    for (size_t cap = 0; cap <= 2000; cap += 2000) {
        Watch w = {.m = &m, .order_ok = 1};
        grad_buckets_plan(&w.b, &c, cap);
        w.snap = calloc(m.num_params, sizeof(float));
        gpt_zero_grad(&m);
        gpt_forward(&m, inp, tgt, B, T);  // an earlier micro-batch: accumulated, unwatched
        gpt_backward(&m, inp, 0.5f);
        gpt_forward(&m, inp, tgt, B, T);
        m.grads_done = on_done;
        m.grads_ctx = &w;
        gpt_backward(&m, inp, 0.5f);
        m.grads_done = NULL;
        m.grads_ctx = NULL;
        CHECK(w.calls == c.n_layer + 1 && w.order_ok && w.last_l == -1,
              "cap %zu: %d calls, order %d, last %d", cap, w.calls, w.order_ok, w.last_l);
        CHECK(w.next == w.b.n_buckets, "cap %zu: %d of %d buckets ready", cap, w.next,
              w.b.n_buckets);
        size_t diff = 0;
        for (size_t i = 0; i < m.num_params; i++) diff += w.snap[i] != m.grads[i];
        CHECK(diff == 0, "cap %zu: %zu gradients changed after their bucket was ready", cap, diff);
        free(w.snap);
        grad_buckets_free(&w.b);
    }
    gpt_free(&m);
}

int main(void) {
    RUN(test_plan_covers_every_parameter_once);
    RUN(test_pack_unpack_round_trip);
    RUN(test_bucket_final_when_ready);
    return test_summary();
}
