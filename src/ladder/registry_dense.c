// The registry's dense table: progress measures of each run at many training steps.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/registry_impl.h"

static void bind_real(sqlite3_stmt *st, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(st, i); else sqlite3_bind_double(st, i, v);
}
static double col_real(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int reg_add_dense(Registry *r, const char *point, const RegDense *d) {
    if (!point || !*point) return em_error("%s: dense row: empty point", r->path);
    if (d->step < 0) return em_error("%s: run '%s': step %d is negative", r->path, point, d->step);
    sqlite3_stmt *st = reg_prep(r,
        "INSERT OR REPLACE INTO dense(point, step, train_acc, test_acc, train_loss, test_loss,"
        " weight_sq, fourier_share, fourier_k) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, point, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, d->step);
    bind_real(st, 3, d->train_acc);
    bind_real(st, 4, d->test_acc);
    bind_real(st, 5, d->train_loss);
    bind_real(st, 6, d->test_loss);
    bind_real(st, 7, d->weight_sq);
    bind_real(st, 8, d->fourier_share);
    sqlite3_bind_int(st, 9, d->fourier_k);
    int rc = sqlite3_step(st);
    int fk = sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_FOREIGNKEY;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    if (fk) return em_error("%s: add dense row: no run '%s' (add it with reg_upsert_run first)",
                            r->path, point);
    return reg_fail(r, "add dense row");
}

int reg_query_dense(Registry *r, RegDense **rows, int *n) {
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st = reg_prep(r,
        "SELECT d.point, r.sweep_value, r.seed, d.step, d.train_acc, d.test_acc, d.train_loss,"
        " d.test_loss, d.weight_sq, d.fourier_share, d.fourier_k FROM dense d JOIN runs r"
        " ON r.point = d.point ORDER BY " RUN_ORDER ", d.step");
    if (!st) return -1;
    int cap = 0, rc;
    RegDense *out = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            out = xrealloc(out, (size_t)cap * sizeof *out);
        }
        RegDense *d = &out[(*n)++];
        memset(d, 0, sizeof *d);
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(d->point, sizeof d->point, "%s", t ? (const char *)t : "");
        d->sweep_value = col_real(st, 1);
        d->seed = sqlite3_column_int(st, 2);
        d->step = sqlite3_column_int(st, 3);
        d->train_acc = col_real(st, 4);
        d->test_acc = col_real(st, 5);
        d->train_loss = col_real(st, 6);
        d->test_loss = col_real(st, 7);
        d->weight_sq = col_real(st, 8);
        d->fourier_share = col_real(st, 9);
        d->fourier_k = sqlite3_column_int(st, 10);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(out);
        *rows = NULL;
        *n = 0;
        return reg_fail(r, "query dense rows");
    }
    *rows = out;
    return 0;
}
