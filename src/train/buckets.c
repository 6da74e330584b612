// Gradient buckets: which slices of the gradient buffer are summed over the ranks together,
// in the order gpt_backward completes them. Pure layout arithmetic (no MPI).
#include <stdlib.h>
#include <string.h>

#include "train.h"

static int slice_cmp(const void *a, const void *b) {
    const GradSlice *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

void grad_buckets_plan(GradBuckets *b, const GPTConfig *c, size_t cap_bytes) {
    memset(b, 0, sizeof *b);
    size_t sizes[NUM_PARAM_KINDS], kind_off[NUM_PARAM_KINDS], off = 0;
    gpt_param_sizes(c, sizes);
    for (int k = 0; k < NUM_PARAM_KINDS; k++) { kind_off[k] = off; off += sizes[k]; }
    int L = c->n_layer;
    // units in completion order: layers L-1 .. 0 (12 slices each), then the rest (4)
    int max_slices = 12 * L + 4, n_units = L + 1;
    b->slices = xmalloc(sizeof(GradSlice) * (size_t)max_slices);
    b->first = xmalloc(sizeof(int) * (size_t)(n_units + 1));
    b->pos = xmalloc(sizeof(size_t) * (size_t)(n_units + 1));
    b->ready_after = xmalloc(sizeof(int) * (size_t)n_units);
    int ns = 0, bucket_start = 0;
    size_t bucket_floats = 0;
    for (int u = 0; u < n_units; u++) {
        int l = L - 1 - u;  // -1: the non-layer unit
        for (int k = 0; k < NUM_PARAM_KINDS; k++) {
            int per_layer = k != P_WTE && k != P_WPE && k != P_LNFW && k != P_LNFB;
            if (per_layer != (l >= 0)) continue;
            size_t n = per_layer ? sizes[k] / (size_t)L : sizes[k];
            b->slices[ns++] = (GradSlice){kind_off[k] + (per_layer ? (size_t)l * n : 0), n};
            bucket_floats += n;
        }
        if (bucket_floats * sizeof(float) < cap_bytes && u < n_units - 1) continue;
        // close the bucket: its slices in buffer order, neighbours merged into one
        int k = b->n_buckets++;
        GradSlice *s = b->slices + bucket_start;
        int n = ns - bucket_start, m = 0;
        qsort(s, (size_t)n, sizeof *s, slice_cmp);
        for (int i = 1; i < n; i++) {
            if (s[m].off + s[m].n == s[i].off) s[m].n += s[i].n;
            else s[++m] = s[i];
        }
        ns = bucket_start + m + 1;
        b->first[k] = bucket_start;
        b->ready_after[k] = l;
        b->pos[k] = b->packed_floats;
        if (ns - bucket_start > 1) b->packed_floats += bucket_floats;  // else summed in place
        bucket_start = ns;
        bucket_floats = 0;
    }
    b->first[b->n_buckets] = ns;
    b->pos[b->n_buckets] = b->packed_floats;
    b->n_slices = ns;
}

void grad_buckets_free(GradBuckets *b) {
    free(b->slices);
    free(b->first);
    free(b->pos);
    free(b->ready_after);
    memset(b, 0, sizeof *b);
}

size_t grad_bucket_floats(const GradBuckets *b, int k) {
    size_t n = 0;
    for (int i = b->first[k]; i < b->first[k + 1]; i++) n += b->slices[i].n;
    return n;
}

void grad_bucket_pack(const GradBuckets *b, int k, const float *grads, float *buf) {
    float *dst = buf + b->pos[k];
    for (int i = b->first[k]; i < b->first[k + 1]; i++) {
        memcpy(dst, grads + b->slices[i].off, b->slices[i].n * sizeof(float));
        dst += b->slices[i].n;
    }
}

void grad_bucket_unpack(const GradBuckets *b, int k, const float *buf, float *grads) {
    const float *src = buf + b->pos[k];
    for (int i = b->first[k]; i < b->first[k + 1]; i++) {
        memcpy(grads + b->slices[i].off, src, b->slices[i].n * sizeof(float));
        src += b->slices[i].n;
    }
}
