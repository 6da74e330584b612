// The registry calls of a point's worker: to the registry, or as records to rank 0.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "ladder/regproxy.h"

enum { RQ_STATUS = 1, RQ_MACHINE, RQ_LAST_CK, RQ_LOSS, RQ_EVAL, RQ_CK, RQ_FINISH, RQ_DENSE,
       RQ_FAILED };

// ---- records: writing and reading -------------------------------------------------------
static void put_i(StrBuf *b, int v) { int32_t x = v; sb_put(b, &x, sizeof x); }
static void put_d(StrBuf *b, double v) { sb_put(b, &v, sizeof v); }
static void put_s(StrBuf *b, const char *s) { sb_put(b, s ? s : "", strlen(s ? s : "") + 1); }

typedef struct { const char *p; int n, off, bad; } Rd;
// n bytes into x, or r->bad (x untouched) when the record is shorter
static void get_raw(Rd *r, void *x, int n) {
    if (r->off + n > r->n) { r->bad = 1; return; }
    memcpy(x, r->p + r->off, (size_t)n);
    r->off += n;
}
static int get_i(Rd *r) { int32_t x = 0; get_raw(r, &x, sizeof x); return x; }
static double get_d(Rd *r) { double x = 0.0; get_raw(r, &x, sizeof x); return x; }
static const char *get_s(Rd *r) {
    const char *s = r->p + r->off;
    const char *end = r->off < r->n ? memchr(s, 0, (size_t)(r->n - r->off)) : NULL;
    if (!end) { r->bad = 1; return ""; }
    r->off += (int)(end - s) + 1;
    return s;
}

// ---- frames over a pipe --------------------------------------------------------------
static int write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return em_error("pipe write: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
// 1: n bytes read; 0: the end came first; -1: error.
static int read_all(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return em_error("pipe read: %s", strerror(errno));
        if (r == 0) return 0;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

int regproxy_write_frame(int fd, const void *buf, int n) {
    int32_t len = n;
    return write_all(fd, &len, sizeof len) || write_all(fd, buf, (size_t)n) ? -1 : 0;
}

int regproxy_read_frame(int fd, char **buf, int *n) {
    int32_t len;
    *buf = NULL;
    int rc = read_all(fd, &len, sizeof len);
    if (rc <= 0) return rc;
    if (len < 0 || len > (1 << 28)) return em_error("pipe read: a record of %d bytes", (int)len);
    *buf = xmalloc((size_t)len + 1);
    if ((rc = read_all(fd, *buf, (size_t)len)) <= 0) {
        free(*buf);
        *buf = NULL;
        return rc;
    }
    (*buf)[len] = 0;
    *n = len;
    return 1;
}

// ---- the worker's side ------------------------------------------------------------------
// Sends the request, waits for the reply: its rc (the registry call's), and its message as
// em_error when rc < 0; *reply (malloc'd) and r positioned after rc and the message.
static int call(RegSink *k, StrBuf *req, Rd *r, char **reply) {
    int rc = regproxy_write_frame(k->wfd, req->p, (int)req->n);
    sb_free(req);
    *reply = NULL;
    if (rc) return -1;
    int n = 0;
    if ((rc = regproxy_read_frame(k->rfd, reply, &n)) <= 0)
        return rc < 0 ? -1 : em_error("the ladder's rank process closed the pipe");
    *r = (Rd){*reply, n, 0, 0};
    rc = get_i(r);
    const char *msg = get_s(r);
    if (r->bad) return em_error("a malformed reply from rank 0");
    if (rc < 0) em_error("%s", msg);
    return rc;
}
static int call_simple(RegSink *k, StrBuf *req) {
    Rd r;
    char *reply;
    int rc = call(k, req, &r, &reply);
    free(reply);
    return rc;
}

int sink_set_status(RegSink *k, const char *point, const char *status) {
    if (k->reg) return reg_set_status(k->reg, point, status);
    StrBuf b = {0};
    put_i(&b, RQ_STATUS), put_s(&b, point), put_s(&b, status);
    return call_simple(k, &b);
}

int sink_set_machine(RegSink *k, const char *point, const char *machine) {
    if (k->reg) return reg_set_machine(k->reg, point, machine);
    StrBuf b = {0};
    put_i(&b, RQ_MACHINE), put_s(&b, point), put_s(&b, machine);
    return call_simple(k, &b);
}

int sink_last_checkpoint(RegSink *k, const char *point, int *step, char *path, size_t cap) {
    if (k->reg) return reg_last_checkpoint(k->reg, point, step, path, cap);
    StrBuf b = {0};
    put_i(&b, RQ_LAST_CK), put_s(&b, point);
    Rd r;
    char *reply;
    int rc = call(k, &b, &r, &reply);
    if (rc == 1) {
        *step = get_i(&r);
        snprintf(path, cap, "%s", get_s(&r));
        if (r.bad) rc = em_error("a malformed reply from rank 0");
    }
    free(reply);
    return rc;
}

int sink_add_loss(RegSink *k, const char *point, int step, double train_loss, double val_loss) {
    if (k->reg) return reg_add_loss(k->reg, point, step, train_loss, val_loss);
    StrBuf b = {0};
    put_i(&b, RQ_LOSS), put_s(&b, point), put_i(&b, step), put_d(&b, train_loss),
        put_d(&b, val_loss);
    return call_simple(k, &b);
}

int sink_add_eval(RegSink *k, const char *point, int step, const char *task, int n_items,
                  const MetricValue *m, int n_metrics, const double *pos_acc,
                  const double *pos_acc_tf, int n_pos) {
    if (k->reg)
        return reg_add_eval(k->reg, point, step, task, n_items, m, n_metrics, pos_acc,
                            pos_acc_tf, n_pos);
    StrBuf b = {0};
    put_i(&b, RQ_EVAL), put_s(&b, point), put_i(&b, step), put_s(&b, task), put_i(&b, n_items);
    put_i(&b, n_metrics);
    for (int i = 0; i < n_metrics; i++)
        put_s(&b, m[i].name), put_d(&b, m[i].value), put_d(&b, m[i].stderr_), put_d(&b, m[i].lo),
            put_d(&b, m[i].hi);
    put_i(&b, n_pos), put_i(&b, pos_acc != NULL), put_i(&b, pos_acc_tf != NULL);
    for (int i = 0; i < n_pos; i++) {
        if (pos_acc) put_d(&b, pos_acc[i]);
        if (pos_acc_tf) put_d(&b, pos_acc_tf[i]);
    }
    return call_simple(k, &b);
}

int sink_add_checkpoint(RegSink *k, const char *point, int step, const char *path) {
    if (k->reg) return reg_add_checkpoint(k->reg, point, step, path);
    StrBuf b = {0};
    put_i(&b, RQ_CK), put_s(&b, point), put_i(&b, step), put_s(&b, path);
    return call_simple(k, &b);
}

int sink_finish_run(RegSink *k, const char *point, double train_loss, double val_loss,
                    double wall_s) {
    if (k->reg) return reg_finish_run(k->reg, point, train_loss, val_loss, wall_s);
    StrBuf b = {0};
    put_i(&b, RQ_FINISH), put_s(&b, point), put_d(&b, train_loss), put_d(&b, val_loss),
        put_d(&b, wall_s);
    return call_simple(k, &b);
}

int sink_add_dense(RegSink *k, const char *point, const RegDense *d) {
    if (k->reg) return reg_add_dense(k->reg, point, d);
    StrBuf b = {0};
    put_i(&b, RQ_DENSE), put_s(&b, point), put_i(&b, d->step), put_d(&b, d->train_acc),
        put_d(&b, d->test_acc), put_d(&b, d->train_loss), put_d(&b, d->test_loss),
        put_d(&b, d->weight_sq), put_d(&b, d->fourier_share), put_i(&b, d->fourier_k);
    return call_simple(k, &b);
}

static void report_failed(LadderReport report, void *ctx, const char *name, const char *point,
                          const char *message) {
    if (!report) return;
    LadderProgress lp = {.stage = LADDER_POINT_FAILED, .name = name, .point = point,
                         .message = message};
    report(ctx, &lp);
}

void sink_point_failed(RegSink *k, const char *point, const char *message) {
    if (k->reg || k->wfd < 0) { report_failed(k->report, k->ctx, k->name, point, message); return; }
    StrBuf b = {0};
    put_i(&b, RQ_FAILED), put_s(&b, point), put_s(&b, message);
    call_simple(k, &b);
}

// ---- rank 0's side ----------------------------------------------------------------------
static int apply(Registry *reg, Rd *r, LadderReport report, void *ctx, const char *name,
                 StrBuf *extra) {
    int type = get_i(r);
    const char *point = get_s(r);
    if (r->bad) return em_error("a malformed registry request");
    if (!reg && type != RQ_FAILED) return -1;  // the registry could not be opened: em_error says why
    switch (type) {
    case RQ_STATUS: case RQ_MACHINE: {
        const char *v = get_s(r);
        if (r->bad) break;
        return type == RQ_STATUS ? reg_set_status(reg, point, v) : reg_set_machine(reg, point, v);
    }
    case RQ_LAST_CK: {
        int step = 0;
        char path[1400] = "";
        int rc = reg_last_checkpoint(reg, point, &step, path, sizeof path);
        if (rc == 1) put_i(extra, step), put_s(extra, path);
        return rc;
    }
    case RQ_LOSS: {
        int step = get_i(r);
        double tl = get_d(r), vl = get_d(r);
        if (r->bad) break;
        return reg_add_loss(reg, point, step, tl, vl);
    }
    case RQ_EVAL: {
        int step = get_i(r);
        const char *task = get_s(r);
        int n_items = get_i(r), nm = get_i(r);
        if (r->bad || nm < 0 || nm > r->n) break;
        MetricValue *m = xcalloc((size_t)(nm ? nm : 1), sizeof *m);
        for (int i = 0; i < nm; i++) {
            m[i].name = get_s(r);
            m[i].value = get_d(r), m[i].stderr_ = get_d(r), m[i].lo = get_d(r), m[i].hi = get_d(r);
        }
        int np = get_i(r), has_a = get_i(r), has_tf = get_i(r);
        int rc = -2;
        if (!r->bad && np >= 0 && np <= r->n) {
            double *a = xcalloc((size_t)(np ? np : 1), sizeof *a);
            double *tf = xcalloc((size_t)(np ? np : 1), sizeof *tf);
            for (int i = 0; i < np; i++) {
                if (has_a) a[i] = get_d(r);
                if (has_tf) tf[i] = get_d(r);
            }
            if (!r->bad)
                rc = reg_add_eval(reg, point, step, task, n_items, m, nm, has_a ? a : NULL,
                                  has_tf ? tf : NULL, np);
            free(a);
            free(tf);
        }
        free(m);
        if (rc == -2) break;
        return rc;
    }
    case RQ_CK: {
        int step = get_i(r);
        const char *path = get_s(r);
        if (r->bad) break;
        return reg_add_checkpoint(reg, point, step, path);
    }
    case RQ_FINISH: {
        double tl = get_d(r), vl = get_d(r), wall = get_d(r);
        if (r->bad) break;
        return reg_finish_run(reg, point, tl, vl, wall);
    }
    case RQ_DENSE: {
        RegDense d = {.step = get_i(r)};
        d.train_acc = get_d(r), d.test_acc = get_d(r), d.train_loss = get_d(r);
        d.test_loss = get_d(r), d.weight_sq = get_d(r), d.fourier_share = get_d(r);
        d.fourier_k = get_i(r);
        if (r->bad) break;
        return reg_add_dense(reg, point, &d);
    }
    case RQ_FAILED: {
        const char *msg = get_s(r);
        if (r->bad) break;
        report_failed(report, ctx, name, point, msg);
        return 0;
    }
    }
    return em_error("a malformed registry request (type %d) for point '%s'", type, point);
}

void regproxy_apply(Registry *reg, const char *req, int n, LadderReport report, void *ctx,
                    const char *name, char **out, int *nout) {
    Rd r = {req, n, 0, 0};
    StrBuf extra = {0}, b = {0};
    int rc = apply(reg, &r, report, ctx, name, &extra);
    put_i(&b, rc);
    put_s(&b, rc < 0 ? em_errmsg() : "");
    if (extra.n) sb_put(&b, extra.p, extra.n);
    sb_free(&extra);
    *out = b.p;
    *nout = (int)b.n;
}
