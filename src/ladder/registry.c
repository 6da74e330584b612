// The results registry: one SQLite file in WAL mode, written by many worker processes.
#include "registry.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/core.h"

#include "ladder/registry_impl.h"

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs(point TEXT PRIMARY KEY, size_idx INTEGER,"
    " n_layer INTEGER, n_head INTEGER, n_embd INTEGER, params INTEGER, seed INTEGER,"
    " sweep_name TEXT, sweep_value REAL, lr REAL, steps INTEGER, tokens INTEGER, flops REAL,"
    " status TEXT NOT NULL DEFAULT 'queued'"
    "  CHECK(status IN ('queued','running','done','failed')),"
    " train_loss REAL, val_loss REAL, wall_s REAL, updated TEXT, machine TEXT);"
    "CREATE TABLE IF NOT EXISTS checkpoints(point TEXT NOT NULL REFERENCES runs(point)"
    " ON DELETE CASCADE, step INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY(point, step));"
    "CREATE TABLE IF NOT EXISTS losses(point TEXT NOT NULL REFERENCES runs(point)"
    " ON DELETE CASCADE, step INTEGER NOT NULL, train_loss REAL, val_loss REAL,"
    " PRIMARY KEY(point, step));"
    "CREATE TABLE IF NOT EXISTS evaluations(id INTEGER PRIMARY KEY, point TEXT NOT NULL"
    " REFERENCES runs(point) ON DELETE CASCADE, step INTEGER NOT NULL, task TEXT NOT NULL,"
    " n_items INTEGER, UNIQUE(point, step, task));"
    "CREATE TABLE IF NOT EXISTS metric_values(eval_id INTEGER NOT NULL REFERENCES"
    " evaluations(id) ON DELETE CASCADE, metric TEXT NOT NULL, value REAL, stderr REAL,"
    " lo REAL, hi REAL, PRIMARY KEY(eval_id, metric));"
    "CREATE TABLE IF NOT EXISTS positions(eval_id INTEGER NOT NULL REFERENCES"
    " evaluations(id) ON DELETE CASCADE, pos INTEGER NOT NULL, acc REAL, acc_tf REAL,"
    " PRIMARY KEY(eval_id, pos));"
    "CREATE INDEX IF NOT EXISTS evaluations_task ON evaluations(task, point, step);"
    "CREATE TABLE IF NOT EXISTS dense(point TEXT NOT NULL REFERENCES runs(point)"
    " ON DELETE CASCADE, step INTEGER NOT NULL, train_acc REAL, test_acc REAL,"
    " train_loss REAL, test_loss REAL, weight_sq REAL, fourier_share REAL, fourier_k INTEGER,"
    " PRIMARY KEY(point, step));";

#define APP_NAME "emergent registry"

// ---- small helpers -------------------------------------------------------
int reg_fail(Registry *r, const char *what) {
    int code = sqlite3_errcode(r->db);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return em_error("%s: not a usable registry (%s): the file is corrupt or not an SQLite "
                        "database", r->path, sqlite3_errmsg(r->db));
    return em_error("%s: %s: %s", r->path, what, sqlite3_errmsg(r->db));
}
int reg_exec(Registry *r, const char *sql, const char *what) {
    return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : reg_fail(r, what);
}
sqlite3_stmt *reg_prep(Registry *r, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        reg_fail(r, "prepare statement");
        return NULL;
    }
    return st;
}
static int begin(Registry *r) { return reg_exec(r, "BEGIN IMMEDIATE", "begin transaction"); }
static void rollback(Registry *r) { sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL); }
static int commit(Registry *r) {
    if (reg_exec(r, "COMMIT", "commit")) { rollback(r); return -1; }
    return 0;
}
// Steps a write statement to completion; a missing run gets a message naming the point.
static int step_done(Registry *r, sqlite3_stmt *st, const char *what, const char *point) {
    if (sqlite3_step(st) == SQLITE_DONE) { sqlite3_reset(st); return 0; }
    int rc;
    if (point && sqlite3_extended_errcode(r->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = em_error("%s: %s: no run '%s' (add it with reg_upsert_run first)", r->path, what,
                      point);
    else
        rc = reg_fail(r, what);
    sqlite3_reset(st);
    return rc;
}
static int pidx(sqlite3_stmt *st, const char *name) {
    return sqlite3_bind_parameter_index(st, name);
}
static void bind_real(sqlite3_stmt *st, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(st, i); else sqlite3_bind_double(st, i, v);
}
static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    if (!s) sqlite3_bind_null(st, i); else sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}
static double col_real(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}
static void col_text(sqlite3_stmt *st, int i, char *dst, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}
static int check_name(Registry *r, const char *field, const char *s) {
    if (!s || !*s) return em_error("%s: %s is empty", r->path, field);
    if (strlen(s) >= REG_NAME_MAX)
        return em_error("%s: %s '%.40s...' is longer than %d bytes", r->path, field, s,
                        REG_NAME_MAX - 1);
    return 0;
}
static int check_step(Registry *r, const char *point, int step) {
    if (step < 0) return em_error("%s: run '%s': step %d is negative", r->path, point, step);
    return 0;
}
static int check_query_step(Registry *r, int step) {
    if (step < REG_STEP_ALL)
        return em_error("%s: query step %d: expected >= 0, REG_STEP_FINAL or REG_STEP_ALL",
                        r->path, step);
    return 0;
}
// Reads every row of st into a malloc'd array of sz-byte rows filled by fill().
static int query_rows(Registry *r, sqlite3_stmt *st, size_t sz,
                      void (*fill)(sqlite3_stmt *, void *), void **rows, int *n) {
    char *buf = NULL;
    int cnt = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            char *nb = xmalloc((size_t)cap * sz);
            if (cnt) memcpy(nb, buf, (size_t)cnt * sz);
            free(buf);
            buf = nb;
        }
        memset(buf + (size_t)cnt * sz, 0, sz);
        fill(st, buf + (size_t)cnt * sz);
        cnt++;
    }
    if (rc != SQLITE_DONE) {
        reg_fail(r, "query");
        sqlite3_finalize(st);
        free(buf);
        return -1;
    }
    sqlite3_finalize(st);
    *rows = buf;
    *n = cnt;
    return 0;
}

// ---- open and schema ------------------------------------------------------
// WAL persists in the file; switching needs a moment of exclusive access, so retry while
// another process holds it (the busy handler does not cover every case of this pragma).
static int set_wal(Registry *r) {
    double t0 = now_sec();
    for (;;) {
        sqlite3_stmt *st = reg_prep(r, "PRAGMA journal_mode=WAL");
        int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
        if (rc == SQLITE_ROW) {
            char mode[16];
            col_text(st, 0, mode, sizeof mode);
            sqlite3_finalize(st);
            if (strcasecmp(mode, "wal") != 0)
                return em_error("%s: cannot use WAL mode (journal mode stays '%s'); put the "
                                "registry on a local file system", r->path, mode);
            return 0;
        }
        int c = sqlite3_errcode(r->db);
        if (st) reg_fail(r, "set WAL mode");
        sqlite3_finalize(st);
        if ((c != SQLITE_BUSY && c != SQLITE_LOCKED) || now_sec() - t0 > REG_BUSY_MS / 1e3)
            return -1;
        nanosleep(&(struct timespec){0, 20000000}, NULL);  // 20 ms
    }
}

// One integer from a one-row query (-1 with em_error on failure).
static int query_int(Registry *r, const char *sql, long long *out) {
    sqlite3_stmt *st = reg_prep(r, sql);
    if (!st) return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) { reg_fail(r, "read schema"); sqlite3_finalize(st); return -1; }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int meta_get(Registry *r, const char *key, char *val, size_t cap) {
    sqlite3_stmt *st = reg_prep(r, "SELECT value FROM meta WHERE key = ?1");
    if (!st) return -1;
    bind_text(st, 1, key);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) { col_text(st, 0, val, cap); found = 1; }
    else if (rc != SQLITE_DONE) { reg_fail(r, "read meta"); sqlite3_finalize(st); return -1; }
    sqlite3_finalize(st);
    return found;
}

static int meta_set(Registry *r, const char *key, const char *val) {
    sqlite3_stmt *st = reg_prep(r, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)");
    if (!st) return -1;
    bind_text(st, 1, key);
    bind_text(st, 2, val);
    int rc = step_done(r, st, "write meta", NULL);
    sqlite3_finalize(st);
    return rc;
}

// Creates the schema in an empty file, or checks an existing registry's version.
static int schema_locked(Registry *r) {
    long long has_meta, n_obj;
    if (query_int(r, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                  &has_meta) ||
        query_int(r, "SELECT count(*) FROM sqlite_master", &n_obj))
        return -1;
    char v[64];
    if (!has_meta) {
        if (n_obj > 0)
            return em_error("%s: an SQLite database but not a registry (no meta table)", r->path);
        char ver[16];
        snprintf(ver, sizeof ver, "%d", REG_SCHEMA_VERSION);
        if (reg_exec(r, SCHEMA, "create schema") || meta_set(r, "application", APP_NAME) ||
            meta_set(r, "schema_version", ver) || meta_set(r, "emergent_version", EMERGENT_VERSION))
            return -1;
        return 0;
    }
    int f = meta_get(r, "application", v, sizeof v);
    if (f < 0) return -1;
    if (!f || strcmp(v, APP_NAME) != 0)
        return em_error("%s: an SQLite database but not a registry (meta.application is not "
                        "'%s')", r->path, APP_NAME);
    if ((f = meta_get(r, "schema_version", v, sizeof v)) < 0) return -1;
    char *end;
    long ver = f ? strtol(v, &end, 10) : 0;
    if (!f || *end || ver < 1)
        return em_error("%s: meta.schema_version: expected a positive integer, got '%s'",
                        r->path, f ? v : "(missing)");
    if (ver > REG_SCHEMA_VERSION)
        return em_error("%s: schema_version %ld is newer than this build supports (%d); use a "
                        "newer emergent", r->path, ver, REG_SCHEMA_VERSION);
    if (reg_exec(r, SCHEMA, "check schema")) return -1;
    if (ver < 2)  // version 2 records the machine of each run
        if (reg_exec(r, "ALTER TABLE runs ADD COLUMN machine TEXT", "add runs.machine")) return -1;
    // version 3 adds the dense table (created by SCHEMA above)
    if (ver < REG_SCHEMA_VERSION) {
        snprintf(v, sizeof v, "%d", REG_SCHEMA_VERSION);
        if (meta_set(r, "schema_version", v)) return -1;
    }
    return 0;
}

int reg_open(Registry **out, const char *path) {
    *out = NULL;
    if (!path || !*path) return em_error("registry: empty path");
    Registry *r = xcalloc(1, sizeof *r);
    if (strlen(path) >= sizeof r->path) { free(r); return em_error("%s: path too long", path); }
    strcpy(r->path, path);
    int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        em_error("%s: cannot open registry: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
        reg_close(r);
        return -1;
    }
    sqlite3_busy_timeout(r->db, REG_BUSY_MS);
    if (set_wal(r) || reg_exec(r, "PRAGMA foreign_keys = ON", "enable foreign keys") ||
        reg_exec(r, "PRAGMA synchronous = NORMAL", "set synchronous") || begin(r)) {
        reg_close(r);
        return -1;
    }
    if (schema_locked(r)) { rollback(r); reg_close(r); return -1; }
    if (commit(r)) { reg_close(r); return -1; }
    *out = r;
    return 0;
}

void reg_close(Registry *r) {
    if (!r) return;
    if (r->db) sqlite3_close_v2(r->db);
    free(r);
}

const char *reg_path(const Registry *r) { return r->path; }

// ---- runs -----------------------------------------------------------------
int reg_upsert_run(Registry *r, const RunInfo *ri) {
    if (check_name(r, "run point", ri->point)) return -1;
    const char *sw = ri->sweep_name && *ri->sweep_name ? ri->sweep_name : NULL;
    if (sw && check_name(r, "run sweep_name", sw)) return -1;
    sqlite3_stmt *st = reg_prep(r,
        "INSERT INTO runs(point, size_idx, n_layer, n_head, n_embd, params, seed, sweep_name,"
        " sweep_value, lr, steps, tokens, flops, status, updated)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'queued', datetime('now'))"
        " ON CONFLICT(point) DO UPDATE SET size_idx = excluded.size_idx,"
        " n_layer = excluded.n_layer, n_head = excluded.n_head, n_embd = excluded.n_embd,"
        " params = excluded.params, seed = excluded.seed, sweep_name = excluded.sweep_name,"
        " sweep_value = excluded.sweep_value, lr = excluded.lr, steps = excluded.steps,"
        " tokens = excluded.tokens, flops = excluded.flops, updated = excluded.updated");
    if (!st) return -1;
    bind_text(st, 1, ri->point);
    sqlite3_bind_int(st, 2, ri->size_idx);
    sqlite3_bind_int(st, 3, ri->n_layer);
    sqlite3_bind_int(st, 4, ri->n_head);
    sqlite3_bind_int(st, 5, ri->n_embd);
    sqlite3_bind_int64(st, 6, ri->params);
    sqlite3_bind_int(st, 7, ri->seed);
    bind_text(st, 8, sw);
    bind_real(st, 9, ri->sweep_value);
    bind_real(st, 10, ri->lr);
    sqlite3_bind_int(st, 11, ri->steps);
    sqlite3_bind_int64(st, 12, ri->tokens);
    bind_real(st, 13, ri->flops);
    int rc = step_done(r, st, "upsert run", NULL);
    sqlite3_finalize(st);
    return rc;
}

// Steps a bound one-row UPDATE of runs; a point with no run is an error.
static int update_run(Registry *r, sqlite3_stmt *st, const char *point, const char *what) {
    int rc = step_done(r, st, what, point);
    sqlite3_finalize(st);
    if (rc) return -1;
    if (sqlite3_changes(r->db) == 0) return em_error("%s: %s: no run '%s'", r->path, what, point);
    return 0;
}

int reg_set_status(Registry *r, const char *point, const char *status) {
    static const char *ok[] = {"queued", "running", "done", "failed"};
    if (check_name(r, "run point", point)) return -1;
    int valid = 0;
    for (int i = 0; i < 4; i++) valid |= status && strcmp(status, ok[i]) == 0;
    if (!valid)
        return em_error("%s: run '%s': status '%s': expected queued, running, done or failed",
                        r->path, point, status ? status : "(null)");
    sqlite3_stmt *st = reg_prep(r, "UPDATE runs SET status = ?2, updated = datetime('now')"
                               " WHERE point = ?1");
    if (!st) return -1;
    bind_text(st, 1, point);
    bind_text(st, 2, status);
    return update_run(r, st, point, "set status");
}

int reg_set_machine(Registry *r, const char *point, const char *machine) {
    sqlite3_stmt *st = reg_prep(r, "UPDATE runs SET machine = ?2 WHERE point = ?1");
    if (!st) return -1;
    bind_text(st, 1, point);
    bind_text(st, 2, machine);
    return update_run(r, st, point, "set machine");
}

static void fill_machine(sqlite3_stmt *st, void *p) {
    RegMachine *o = p;
    col_text(st, 0, o->machine, sizeof o->machine);
    o->runs = sqlite3_column_int(st, 1);
}

int reg_list_machines(Registry *r, RegMachine **rows, int *n) {
    *rows = NULL; *n = 0;
    sqlite3_stmt *st = reg_prep(r, "SELECT machine, count(*) FROM runs WHERE machine IS NOT NULL"
                                   " GROUP BY machine ORDER BY count(*) DESC, machine");
    return st ? query_rows(r, st, sizeof **rows, fill_machine, (void **)rows, n) : -1;
}

int reg_finish_run(Registry *r, const char *point, double train_loss, double val_loss,
                   double wall_s) {
    if (check_name(r, "run point", point)) return -1;
    sqlite3_stmt *st = reg_prep(r, "UPDATE runs SET status = 'done', train_loss = ?2, val_loss = ?3,"
                               " wall_s = ?4, updated = datetime('now') WHERE point = ?1");
    if (!st) return -1;
    bind_text(st, 1, point);
    bind_real(st, 2, train_loss);
    bind_real(st, 3, val_loss);
    bind_real(st, 4, wall_s);
    return update_run(r, st, point, "finish run");
}

#define RUN_COLS "r.point, r.size_idx, r.n_layer, r.n_head, r.n_embd, r.params, r.seed," \
    " r.sweep_name, r.sweep_value, r.lr, r.steps, r.tokens, r.flops, r.status, r.train_loss," \
    " r.val_loss, r.wall_s"

static void fill_run(sqlite3_stmt *st, void *p) {
    RegRun *o = p;
    col_text(st, 0, o->point, sizeof o->point);
    o->size_idx = sqlite3_column_int(st, 1);
    o->n_layer = sqlite3_column_int(st, 2);
    o->n_head = sqlite3_column_int(st, 3);
    o->n_embd = sqlite3_column_int(st, 4);
    o->params = sqlite3_column_int64(st, 5);
    o->seed = sqlite3_column_int(st, 6);
    col_text(st, 7, o->sweep_name, sizeof o->sweep_name);
    o->sweep_value = col_real(st, 8);
    o->lr = col_real(st, 9);
    o->steps = sqlite3_column_int(st, 10);
    o->tokens = sqlite3_column_int64(st, 11);
    o->flops = col_real(st, 12);
    col_text(st, 13, o->status, sizeof o->status);
    o->train_loss = col_real(st, 14);
    o->val_loss = col_real(st, 15);
    o->wall_s = col_real(st, 16);
}

int reg_query_runs(Registry *r, RegRun **rows, int *n) {
    *rows = NULL; *n = 0;
    sqlite3_stmt *st = reg_prep(r, "SELECT " RUN_COLS " FROM runs r ORDER BY " RUN_ORDER);
    return st ? query_rows(r, st, sizeof **rows, fill_run, (void **)rows, n) : -1;
}

int reg_get_run(Registry *r, const char *point, RegRun *out) {
    if (check_name(r, "run point", point)) return -1;
    sqlite3_stmt *st = reg_prep(r, "SELECT " RUN_COLS " FROM runs r WHERE r.point = ?1");
    if (!st) return -1;
    bind_text(st, 1, point);
    RegRun *rows;
    int n;
    if (query_rows(r, st, sizeof *rows, fill_run, (void **)&rows, &n)) return -1;
    if (n) *out = rows[0];
    free(rows);
    return n > 0;
}

int reg_get_status(Registry *r, const char *point, char *status, size_t cap) {
    if (cap) status[0] = 0;
    RegRun run;
    int f = reg_get_run(r, point, &run);
    if (f == 1 && cap) snprintf(status, cap, "%s", run.status);
    return f;
}

// ---- checkpoints and losses -------------------------------------------------
int reg_add_checkpoint(Registry *r, const char *point, int step, const char *path) {
    if (check_name(r, "checkpoint point", point) || check_step(r, point, step)) return -1;
    if (!path || !*path) return em_error("%s: run '%s': checkpoint path is empty", r->path, point);
    sqlite3_stmt *st = reg_prep(r, "INSERT INTO checkpoints(point, step, path) VALUES(?1, ?2, ?3)"
                               " ON CONFLICT(point, step) DO UPDATE SET path = excluded.path");
    if (!st) return -1;
    bind_text(st, 1, point);
    sqlite3_bind_int(st, 2, step);
    bind_text(st, 3, path);
    int rc = step_done(r, st, "add checkpoint", point);
    sqlite3_finalize(st);
    return rc;
}

int reg_last_checkpoint(Registry *r, const char *point, int *step, char *path, size_t cap) {
    if (check_name(r, "checkpoint point", point)) return -1;
    sqlite3_stmt *st = reg_prep(r, "SELECT step, path FROM checkpoints WHERE point = ?1"
                               " ORDER BY step DESC LIMIT 1");
    if (!st) return -1;
    bind_text(st, 1, point);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 1);
        *step = sqlite3_column_int(st, 0);
        if (!p || strlen(p) >= cap) {
            found = em_error("%s: run '%s': checkpoint path longer than %zu bytes", r->path, point,
                             cap ? cap - 1 : 0);
        } else {
            strcpy(path, p);
            found = 1;
        }
    } else if (rc != SQLITE_DONE) {
        found = reg_fail(r, "read checkpoint");
    }
    sqlite3_finalize(st);
    return found;
}

int reg_add_losses(Registry *r, const char *point, int n, const int *steps,
                   const double *train_loss, const double *val_loss) {
    if (check_name(r, "loss point", point)) return -1;
    if (n < 0 || (n > 0 && !steps))
        return em_error("%s: run '%s': %d losses without steps", r->path, point, n);
    for (int i = 0; i < n; i++)
        if (check_step(r, point, steps[i])) return -1;
    sqlite3_stmt *st = reg_prep(r, "INSERT INTO losses(point, step, train_loss, val_loss)"
                               " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(point, step) DO UPDATE SET"
                               " train_loss = excluded.train_loss, val_loss = excluded.val_loss");
    if (!st) return -1;
    if (begin(r)) { sqlite3_finalize(st); return -1; }
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        bind_text(st, 1, point);
        sqlite3_bind_int(st, 2, steps[i]);
        bind_real(st, 3, train_loss ? train_loss[i] : NAN);
        bind_real(st, 4, val_loss ? val_loss[i] : NAN);
        rc = step_done(r, st, "add loss", point);
    }
    sqlite3_finalize(st);
    if (rc) { rollback(r); return -1; }
    return commit(r);
}

int reg_add_loss(Registry *r, const char *point, int step, double train_loss, double val_loss) {
    return reg_add_losses(r, point, 1, &step, &train_loss, &val_loss);
}

int reg_trim_losses(Registry *r, const char *point, int after_step) {
    if (check_name(r, "loss point", point)) return -1;
    sqlite3_stmt *st = reg_prep(r, "DELETE FROM losses WHERE point = ?1 AND step > ?2");
    if (!st) return -1;
    bind_text(st, 1, point);
    sqlite3_bind_int(st, 2, after_step);
    int rc = step_done(r, st, "trim losses", point);
    sqlite3_finalize(st);
    return rc;
}

// ---- evaluations --------------------------------------------------------------
static int eval_rows(Registry *r, const char *point, int step, const char *task, int n_items,
                     const MetricValue *m, int n_metrics, const double *pa, const double *pt,
                     int n_pos) {
    sqlite3_stmt *st = reg_prep(r, "DELETE FROM evaluations WHERE point = ?1 AND step = ?2"
                               " AND task = ?3");
    if (!st) return -1;
    bind_text(st, 1, point);
    sqlite3_bind_int(st, 2, step);
    bind_text(st, 3, task);
    int rc = step_done(r, st, "replace evaluation", point);
    sqlite3_finalize(st);
    if (rc || !(st = reg_prep(r, "INSERT INTO evaluations(point, step, task, n_items)"
                             " VALUES(?1, ?2, ?3, ?4)")))
        return -1;
    bind_text(st, 1, point);
    sqlite3_bind_int(st, 2, step);
    bind_text(st, 3, task);
    sqlite3_bind_int(st, 4, n_items);
    rc = step_done(r, st, "add evaluation", point);
    sqlite3_finalize(st);
    if (rc) return -1;
    sqlite3_int64 id = sqlite3_last_insert_rowid(r->db);

    if (!(st = reg_prep(r, "INSERT INTO metric_values(eval_id, metric, value, stderr, lo, hi)"
                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6)")))
        return -1;
    for (int i = 0; i < n_metrics && !rc; i++) {
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, m[i].name);
        bind_real(st, 3, m[i].value);
        bind_real(st, 4, m[i].stderr_);
        bind_real(st, 5, m[i].lo);
        bind_real(st, 6, m[i].hi);
        char what[REG_NAME_MAX * 3 + 64];
        snprintf(what, sizeof what, "run '%s' step %d task '%s' metric '%s'", point, step, task,
                 m[i].name);
        rc = step_done(r, st, what, point);
    }
    sqlite3_finalize(st);
    if (rc || !(st = reg_prep(r, "INSERT INTO positions(eval_id, pos, acc, acc_tf)"
                             " VALUES(?1, ?2, ?3, ?4)")))
        return -1;
    for (int i = 0; i < n_pos && !rc; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        bind_real(st, 3, pa ? pa[i] : NAN);
        bind_real(st, 4, pt ? pt[i] : NAN);
        rc = step_done(r, st, "add position accuracy", point);
    }
    sqlite3_finalize(st);
    return rc;
}

int reg_add_eval(Registry *r, const char *point, int step, const char *task, int n_items,
                 const MetricValue *m, int n_metrics, const double *pos_acc,
                 const double *pos_acc_tf, int n_pos) {
    if (check_name(r, "evaluation point", point) || check_name(r, "evaluation task", task) ||
        check_step(r, point, step))
        return -1;
    if (n_metrics < 0 || n_pos < 0 || (n_metrics > 0 && !m))
        return em_error("%s: run '%s' task '%s': bad counts (%d metrics, %d positions)", r->path,
                        point, task, n_metrics, n_pos);
    for (int i = 0; i < n_metrics; i++)
        if (check_name(r, "metric name", m[i].name)) return -1;
    if (begin(r)) return -1;
    if (eval_rows(r, point, step, task, n_items, m, n_metrics, pos_acc, pos_acc_tf, n_pos)) {
        rollback(r);
        return -1;
    }
    return commit(r);
}

// ---- analysis queries -------------------------------------------------------------
// Selects evaluations e of task :task at :step (>= 0, REG_STEP_FINAL, REG_STEP_ALL).
#define STEP_FILTER "e.task = :task AND (:step = -2 OR e.step = :step OR (:step = -1 AND" \
    " e.step = (SELECT MAX(x.step) FROM evaluations x WHERE x.point = e.point" \
    " AND x.task = e.task)))"

static void fill_metric(sqlite3_stmt *st, void *p) {
    RegRow *o = p;
    col_text(st, 0, o->point, sizeof o->point);
    o->size_idx = sqlite3_column_int(st, 1);
    o->params = sqlite3_column_int64(st, 2);
    o->flops = col_real(st, 3);
    o->seed = sqlite3_column_int(st, 4);
    o->sweep_value = col_real(st, 5);
    o->steps = sqlite3_column_int(st, 6);
    o->step = sqlite3_column_int(st, 7);
    o->n_items = sqlite3_column_int(st, 8);
    o->value = col_real(st, 9);
    o->stderr_ = col_real(st, 10);
    o->lo = col_real(st, 11);
    o->hi = col_real(st, 12);
}

int reg_query_metric(Registry *r, const char *task, const char *metric, int step,
                     RegRow **rows, int *n) {
    *rows = NULL; *n = 0;
    if (check_name(r, "query task", task) || check_name(r, "query metric", metric) ||
        check_query_step(r, step))
        return -1;
    sqlite3_stmt *st = reg_prep(r,
        "SELECT r.point, r.size_idx, r.params, r.flops, r.seed, r.sweep_value, r.steps, e.step,"
        " e.n_items, m.value, m.stderr, m.lo, m.hi FROM evaluations e"
        " JOIN runs r ON r.point = e.point JOIN metric_values m ON m.eval_id = e.id"
        " WHERE m.metric = :metric AND " STEP_FILTER " ORDER BY " RUN_ORDER ", e.step");
    if (!st) return -1;
    bind_text(st, pidx(st, ":task"), task);
    bind_text(st, pidx(st, ":metric"), metric);
    sqlite3_bind_int(st, pidx(st, ":step"), step);
    return query_rows(r, st, sizeof **rows, fill_metric, (void **)rows, n);
}

static void fill_pos(sqlite3_stmt *st, void *p) {
    RegPosRow *o = p;
    col_text(st, 0, o->point, sizeof o->point);
    o->params = sqlite3_column_int64(st, 1);
    o->seed = sqlite3_column_int(st, 2);
    o->sweep_value = col_real(st, 3);
    o->step = sqlite3_column_int(st, 4);
    o->pos = sqlite3_column_int(st, 5);
    o->acc = col_real(st, 6);
    o->acc_tf = col_real(st, 7);
}

int reg_query_positions(Registry *r, const char *task, int step, RegPosRow **rows, int *n) {
    *rows = NULL; *n = 0;
    if (check_name(r, "query task", task) || check_query_step(r, step)) return -1;
    sqlite3_stmt *st = reg_prep(r,
        "SELECT r.point, r.params, r.seed, r.sweep_value, e.step, p.pos, p.acc, p.acc_tf"
        " FROM evaluations e JOIN runs r ON r.point = e.point JOIN positions p"
        " ON p.eval_id = e.id WHERE " STEP_FILTER " ORDER BY " RUN_ORDER ", e.step, p.pos");
    if (!st) return -1;
    bind_text(st, pidx(st, ":task"), task);
    sqlite3_bind_int(st, pidx(st, ":step"), step);
    return query_rows(r, st, sizeof **rows, fill_pos, (void **)rows, n);
}

static void fill_loss(sqlite3_stmt *st, void *p) {
    RegLoss *o = p;
    col_text(st, 0, o->point, sizeof o->point);
    o->step = sqlite3_column_int(st, 1);
    o->train_loss = col_real(st, 2);
    o->val_loss = col_real(st, 3);
}

int reg_query_losses(Registry *r, const char *point, RegLoss **rows, int *n) {
    *rows = NULL; *n = 0;
    sqlite3_stmt *st = reg_prep(r,
        "SELECT l.point, l.step, l.train_loss, l.val_loss FROM losses l JOIN runs r"
        " ON r.point = l.point WHERE ?1 IS NULL OR l.point = ?1 ORDER BY " RUN_ORDER ", l.step");
    if (!st) return -1;
    bind_text(st, 1, point);
    return query_rows(r, st, sizeof **rows, fill_loss, (void **)rows, n);
}

static void fill_name(sqlite3_stmt *st, void *p) {
    RegName *o = p;
    col_text(st, 0, o->s, sizeof o->s);
}

int reg_list_tasks(Registry *r, RegName **names, int *n) {
    *names = NULL; *n = 0;
    sqlite3_stmt *st = reg_prep(r, "SELECT DISTINCT task FROM evaluations ORDER BY task");
    return st ? query_rows(r, st, sizeof **names, fill_name, (void **)names, n) : -1;
}

int reg_list_metrics(Registry *r, const char *task, RegName **names, int *n) {
    *names = NULL; *n = 0;
    if (check_name(r, "query task", task)) return -1;
    sqlite3_stmt *st = reg_prep(r, "SELECT DISTINCT m.metric FROM metric_values m JOIN evaluations e"
                               " ON e.id = m.eval_id WHERE e.task = ?1 ORDER BY m.metric");
    if (!st) return -1;
    bind_text(st, 1, task);
    return query_rows(r, st, sizeof **names, fill_name, (void **)names, n);
}
