// The registry's exports: CSV files and one JSON document, from one snapshot.
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ladder/registry.h"
#include "ladder/registry_impl.h"

// ---- exports ----------------------------------------------------------------------
// Shortest of %.15g and %.17g that reads back as v; non-finite as JSON null, CSV inf.
static void put_real(StrBuf *b, double v, int json) {
    char s[40];
    if (!isfinite(v)) {
        sb_puts(b, json ? "null" : isnan(v) ? "" : v > 0 ? "inf" : "-inf");
        return;
    }
    snprintf(s, sizeof s, "%.15g", v);
    if (strtod(s, NULL) != v) snprintf(s, sizeof s, "%.17g", v);
    sb_puts(b, s);
}
static void put_csv_text(StrBuf *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) { sb_puts(b, s); return; }
    sb_put(b, "\"", 1);
    for (const char *c = s; *c; c++) {
        sb_put(b, c, 1);
        if (*c == '"') sb_put(b, "\"", 1);  // a quote is doubled
    }
    sb_put(b, "\"", 1);
}
static void put_cell(StrBuf *b, sqlite3_stmt *st, int i, int json) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: sb_puts(b, json ? "null" : ""); break;
    case SQLITE_INTEGER: {
        char s[32];
        snprintf(s, sizeof s, "%lld", (long long)sqlite3_column_int64(st, i));
        sb_puts(b, s);
        break;
    }
    case SQLITE_FLOAT: put_real(b, sqlite3_column_double(st, i), json); break;
    default: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        if (json) sb_json_string(b, t ? t : ""); else put_csv_text(b, t ? t : "");
    }
    }
}

// Appends every row of sql as CSV (json = 0) or as a JSON array of objects (json = 1).
static int put_table(Registry *r, StrBuf *b, const char *sql, int json) {
    sqlite3_stmt *st = reg_prep(r, sql);
    if (!st) return -1;
    int nc = sqlite3_column_count(st), rc, rows = 0;
    if (!json) {
        for (int i = 0; i < nc; i++) {
            if (i) sb_put(b, ",", 1);
            put_csv_text(b, sqlite3_column_name(st, i));
        }
        sb_put(b, "\n", 1);
    } else {
        sb_put(b, "[", 1);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json) sb_puts(b, rows ? ",\n    {" : "\n    {");
        for (int i = 0; i < nc; i++) {
            if (i) sb_put(b, ",", 1);
            if (json) { sb_json_string(b, sqlite3_column_name(st, i)); sb_put(b, ":", 1); }
            put_cell(b, st, i, json);
        }
        sb_puts(b, json ? "}" : "\n");
        rows++;
    }
    if (json) sb_puts(b, rows ? "\n  ]" : "]");
    if (rc != SQLITE_DONE) { reg_fail(r, "export"); sqlite3_finalize(st); return -1; }
    sqlite3_finalize(st);
    return 0;
}

static const char *SQL_RUNS =
    "SELECT r.point AS point, r.size_idx AS size_idx, r.n_layer AS n_layer, r.n_head AS n_head,"
    " r.n_embd AS n_embd, r.params AS params, r.seed AS seed, r.sweep_name AS sweep_name,"
    " r.sweep_value AS sweep_value, r.lr AS lr, r.steps AS steps, r.tokens AS tokens,"
    " r.flops AS flops, r.status AS status, r.train_loss AS train_loss, r.val_loss AS val_loss,"
    " r.wall_s AS wall_s, r.updated AS updated, r.machine AS machine FROM runs r ORDER BY "
    RUN_ORDER;
static const char *SQL_CKPT =
    "SELECT c.point AS point, c.step AS step, c.path AS path FROM checkpoints c"
    " JOIN runs r ON r.point = c.point ORDER BY " RUN_ORDER ", c.step";
static const char *SQL_LOSS =
    "SELECT l.point AS point, l.step AS step, l.train_loss AS train_loss, l.val_loss AS val_loss"
    " FROM losses l JOIN runs r ON r.point = l.point ORDER BY " RUN_ORDER ", l.step";
static const char *SQL_EVAL =
    "SELECT e.point AS point, r.params AS params, r.flops AS flops, r.seed AS seed,"
    " r.sweep_value AS sweep_value, e.step AS step, e.task AS task, e.n_items AS n_items,"
    " m.metric AS metric, m.value AS value, m.stderr AS stderr, m.lo AS lo, m.hi AS hi"
    " FROM evaluations e JOIN runs r ON r.point = e.point JOIN metric_values m"
    " ON m.eval_id = e.id ORDER BY " RUN_ORDER ", e.step, e.task, m.metric";
static const char *SQL_POS =
    "SELECT e.point AS point, e.step AS step, e.task AS task, p.pos AS pos, p.acc AS acc,"
    " p.acc_tf AS acc_tf FROM evaluations e JOIN runs r ON r.point = e.point JOIN positions p"
    " ON p.eval_id = e.id ORDER BY " RUN_ORDER ", e.step, e.task, p.pos";

int reg_export_csv(Registry *r, const char *dir) {
    static const char *names[] = {"runs.csv", "checkpoints.csv", "losses.csv",
                                  "evaluations.csv", "positions.csv"};
    const char *sqls[] = {SQL_RUNS, SQL_CKPT, SQL_LOSS, SQL_EVAL, SQL_POS};
    if (make_dir(dir)) return -1;
    StrBuf b[5] = {{0}};
    int rc = reg_exec(r, "BEGIN", "begin read");  // one snapshot for every file
    for (int i = 0; i < 5 && !rc; i++) rc = put_table(r, &b[i], sqls[i], 0);
    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    for (int i = 0; i < 5 && !rc; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = write_file_atomic(path, b[i].p, b[i].n);
    }
    for (int i = 0; i < 5; i++) free(b[i].p);
    return rc;
}

// Each evaluation with its metrics keyed by name and its per-position accuracies.
static int put_evals(Registry *r, StrBuf *b) {
    sqlite3_stmt *ev = reg_prep(r, "SELECT e.id, e.point, e.step, e.task, e.n_items FROM evaluations e"
                               " JOIN runs r ON r.point = e.point ORDER BY " RUN_ORDER
                               ", e.step, e.task");
    sqlite3_stmt *mv = ev ? reg_prep(r, "SELECT metric, value, stderr, lo, hi FROM metric_values"
                                    " WHERE eval_id = ?1 ORDER BY metric") : NULL;
    sqlite3_stmt *ps = mv ? reg_prep(r, "SELECT acc, acc_tf FROM positions WHERE eval_id = ?1"
                                    " ORDER BY pos") : NULL;
    int rc = ps ? 0 : -1, erc = SQLITE_DONE, rows = 0;
    sb_puts(b, "[");
    while (!rc && (erc = sqlite3_step(ev)) == SQLITE_ROW) {
        sb_puts(b, rows++ ? ",\n    {\"point\":" : "\n    {\"point\":");
        put_cell(b, ev, 1, 1);
        sb_puts(b, ",\"step\":");
        put_cell(b, ev, 2, 1);
        sb_puts(b, ",\"task\":");
        put_cell(b, ev, 3, 1);
        sb_puts(b, ",\"n_items\":");
        put_cell(b, ev, 4, 1);
        sb_puts(b, ",\"metrics\":{");
        sqlite3_bind_int64(mv, 1, sqlite3_column_int64(ev, 0));
        int k = 0, src;
        while ((src = sqlite3_step(mv)) == SQLITE_ROW) {
            if (k++) sb_put(b, ",", 1);
            put_cell(b, mv, 0, 1);
            static const char *keys[] = {":{\"value\":", ",\"stderr\":", ",\"lo\":", ",\"hi\":"};
            for (int j = 0; j < 4; j++) { sb_puts(b, keys[j]); put_cell(b, mv, j + 1, 1); }
            sb_put(b, "}", 1);
        }
        sqlite3_reset(mv);
        if (src != SQLITE_DONE) { rc = reg_fail(r, "export metric values"); break; }
        StrBuf acc = {0}, tf = {0};
        sqlite3_bind_int64(ps, 1, sqlite3_column_int64(ev, 0));
        for (k = 0; (src = sqlite3_step(ps)) == SQLITE_ROW; k++) {
            if (k) { sb_put(&acc, ",", 1); sb_put(&tf, ",", 1); }
            put_cell(&acc, ps, 0, 1);
            put_cell(&tf, ps, 1, 1);
        }
        sqlite3_reset(ps);
        sb_puts(b, "},\"pos_acc\":[");
        if (acc.n) sb_put(b, acc.p, acc.n);
        sb_puts(b, "],\"pos_acc_tf\":[");
        if (tf.n) sb_put(b, tf.p, tf.n);
        sb_puts(b, "]}");
        free(acc.p);
        free(tf.p);
        if (src != SQLITE_DONE) rc = reg_fail(r, "export positions");
    }
    if (!rc && erc != SQLITE_DONE) rc = reg_fail(r, "export evaluations");
    sb_puts(b, rows ? "\n  ]" : "]");
    sqlite3_finalize(ev);
    sqlite3_finalize(mv);
    sqlite3_finalize(ps);
    return rc;
}

int reg_export_json(Registry *r, const char *path) {
    StrBuf b = {0};
    char head[64];
    snprintf(head, sizeof head, "{\n  \"schema_version\": %d,\n  \"runs\": ", REG_SCHEMA_VERSION);
    sb_puts(&b, head);
    int rc = reg_exec(r, "BEGIN", "begin read");
    if (!rc) rc = put_table(r, &b, SQL_RUNS, 1);
    if (!rc) { sb_puts(&b, ",\n  \"checkpoints\": "); rc = put_table(r, &b, SQL_CKPT, 1); }
    if (!rc) { sb_puts(&b, ",\n  \"losses\": "); rc = put_table(r, &b, SQL_LOSS, 1); }
    if (!rc) { sb_puts(&b, ",\n  \"evaluations\": "); rc = put_evals(r, &b); }
    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    sb_puts(&b, "\n}\n");
    if (!rc) rc = write_file_atomic(path, b.p, b.n);
    free(b.p);
    return rc;
}
