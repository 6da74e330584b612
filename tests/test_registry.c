// ladder/registry: schema and reopen, status upserts, evaluation replacement, ordered queries,
// two processes writing at once, CSV/JSON exports, and refusing corrupt or foreign files.
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "ladder/registry.h"
#include "test.h"

static char g_dir[64];

static const char *tpath(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static RunInfo run_info(const char *point, int size_idx, long long params, int seed) {
    return (RunInfo){.point = point, .size_idx = size_idx, .n_layer = size_idx + 1, .n_head = 2,
                     .n_embd = 32 * (size_idx + 1), .params = params, .seed = seed,
                     .sweep_name = NULL, .sweep_value = NAN, .lr = 1e-3, .steps = 200,
                     .tokens = 200 * 4096LL, .flops = 6.0 * params * 200 * 4096};
}

// One integer from a raw SQLite query on path (-1 on failure).
static long long raw_int(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK) { sqlite3_close(db); return -1; }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}
static int raw_exec(const char *path, const char *sql) {
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) { sqlite3_close(db); return -1; }
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}
static char *raw_text(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) { sqlite3_close(db); return NULL; }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            v = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static void test_schema(void) {
    const char *p = tpath("schema.sqlite");
    Registry *r = NULL;
    CHECK(reg_open(&r, p) == 0, "open: %s", em_errmsg());
    CHECK(r && strcmp(reg_path(r), p) == 0, "path");
    RunInfo ri = run_info("s00-seed0", 0, 1000, 0);
    CHECK(reg_upsert_run(r, &ri) == 0, "upsert: %s", em_errmsg());
    reg_close(r);
    CHECK(file_exists(p), "no file");
    CHECK(raw_int(p, "SELECT value FROM meta WHERE key = 'schema_version'") == REG_SCHEMA_VERSION,
          "schema_version");
    char *jm = raw_text(p, "PRAGMA journal_mode");
    CHECK(jm && strcmp(jm, "wal") == 0, "journal mode %s", jm ? jm : "(null)");
    free(jm);
    CHECK(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                     " ('meta','runs','checkpoints','losses','evaluations','metric_values',"
                     "'positions')") == 7, "tables");

    // reopen keeps the data
    r = NULL;
    CHECK(reg_open(&r, p) == 0, "reopen: %s", em_errmsg());
    char status[16] = "x";
    CHECK(r && reg_get_status(r, "s00-seed0", status, sizeof status) == 1, "get after reopen");
    CHECK(strcmp(status, "queued") == 0, "status %s", status);
    reg_close(r);

    // a newer schema is refused, naming the file and the version
    CHECK(raw_exec(p, "UPDATE meta SET value = '99' WHERE key = 'schema_version'") == 0, "tamper");
    r = NULL;
    CHECK(reg_open(&r, p) == -1 && r == NULL, "newer schema accepted");
    CHECK(strstr(em_errmsg(), p) && strstr(em_errmsg(), "99") && strstr(em_errmsg(), "newer"),
          "message: %s", em_errmsg());
    CHECK(raw_int(p, "SELECT value FROM meta WHERE key = 'schema_version'") == 99,
          "refusal rewrote the version");

    // an SQLite database of something else is refused
    const char *q = tpath("other.sqlite");
    CHECK(raw_exec(q, "CREATE TABLE foo(x)") == 0, "create other db");
    r = NULL;
    CHECK(reg_open(&r, q) == -1 && r == NULL, "foreign database accepted");
    CHECK(strstr(em_errmsg(), q) && strstr(em_errmsg(), "not a registry"), "message: %s",
          em_errmsg());
    CHECK(raw_int(q, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'") == 0,
          "schema added to a foreign database");
}

// The machine of each run: recorded, exported, listed; a version-1 file (no column for
// it) is migrated in place and keeps its rows.
static void test_machine(void) {
    const char *p = tpath("v1.sqlite");
    CHECK(raw_exec(p,
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES('application','emergent registry'),('schema_version','1');"
        "CREATE TABLE runs(point TEXT PRIMARY KEY, size_idx INTEGER, n_layer INTEGER,"
        " n_head INTEGER, n_embd INTEGER, params INTEGER, seed INTEGER, sweep_name TEXT,"
        " sweep_value REAL, lr REAL, steps INTEGER, tokens INTEGER, flops REAL,"
        " status TEXT NOT NULL DEFAULT 'queued', train_loss REAL, val_loss REAL, wall_s REAL,"
        " updated TEXT);"
        "INSERT INTO runs(point, params, seed, status) VALUES('old', 10, 1, 'done');") == 0,
          "write a version-1 registry");
    Registry *r = NULL;
    CHECK(reg_open(&r, p) == 0, "open v1: %s", em_errmsg());
    if (!r) return;
    CHECK(raw_int(p, "SELECT value FROM meta WHERE key = 'schema_version'") == REG_SCHEMA_VERSION,
          "not migrated");
    char status[16] = "";
    CHECK(reg_get_status(r, "old", status, sizeof status) == 1 && !strcmp(status, "done"),
          "old row lost: %s", status);
    RunInfo a = run_info("a", 0, 100, 1), b = run_info("b", 1, 200, 1), c = run_info("c", 2, 300, 1);
    CHECK(!reg_upsert_run(r, &a) && !reg_upsert_run(r, &b) && !reg_upsert_run(r, &c), "upsert");
    CHECK(reg_set_machine(r, "a", "cpu X | AVX2") == 0, "set: %s", em_errmsg());
    CHECK(reg_set_machine(r, "b", "cpu Y | AVX-512") == 0, "set: %s", em_errmsg());
    CHECK(reg_set_machine(r, "c", "cpu Y | AVX-512") == 0, "set: %s", em_errmsg());
    CHECK(reg_set_machine(r, "nope", "cpu Z") == -1 && strstr(em_errmsg(), "nope"),
          "a missing run accepted: %s", em_errmsg());
    RegMachine *m = NULL;
    int n = 0;
    CHECK(reg_list_machines(r, &m, &n) == 0 && n == 2, "list: %d", n);
    if (n == 2) {
        CHECK(!strcmp(m[0].machine, "cpu Y | AVX-512") && m[0].runs == 2, "first %s %d", m[0].machine, m[0].runs);
        CHECK(!strcmp(m[1].machine, "cpu X | AVX2") && m[1].runs == 1, "second %s %d", m[1].machine, m[1].runs);
    }
    free(m);
    CHECK(reg_export_csv(r, g_dir) == 0, "export: %s", em_errmsg());
    reg_close(r);
    char *csv = NULL;
    FILE *f = fopen(tpath("runs.csv"), "r");
    if (f) {
        csv = calloc(1, 1 << 16);
        if (fread(csv, 1, (1 << 16) - 1, f) == 0) csv[0] = 0;
        fclose(f);
    }
    CHECK(csv && strstr(csv, ",machine") && strstr(csv, "cpu X | AVX2"), "runs.csv: %s",
          csv ? csv : "(none)");
    free(csv);
}

static void test_status(void) {
    Registry *r = NULL;
    CHECK(reg_open(&r, tpath("status.sqlite")) == 0, "open: %s", em_errmsg());
    if (!r) return;
    RunInfo ri = run_info("s01-seed3", 1, 5000, 3);
    char st[16];
    CHECK(reg_get_status(r, "s01-seed3", st, sizeof st) == 0 && st[0] == 0, "absent run found");
    CHECK(reg_upsert_run(r, &ri) == 0, "upsert: %s", em_errmsg());
    CHECK(reg_get_status(r, "s01-seed3", st, sizeof st) == 1 && !strcmp(st, "queued"), "%s", st);
    CHECK(reg_set_status(r, "s01-seed3", "running") == 0, "set: %s", em_errmsg());
    ri.lr = 3e-3;
    ri.sweep_name = "lr";
    ri.sweep_value = 3e-3;
    CHECK(reg_upsert_run(r, &ri) == 0, "re-upsert: %s", em_errmsg());
    RegRun run;
    CHECK(reg_get_run(r, "s01-seed3", &run) == 1, "get_run");
    CHECK(!strcmp(run.status, "running"), "upsert changed status to %s", run.status);
    CHECK(run.lr == 3e-3 && !strcmp(run.sweep_name, "lr") && run.sweep_value == 3e-3,
          "config not updated: lr %g sweep %s %g", run.lr, run.sweep_name, run.sweep_value);
    CHECK(isnan(run.val_loss) && isnan(run.wall_s), "results before finish");

    CHECK(reg_set_status(r, "s01-seed3", "exploded") == -1, "bad status accepted");
    CHECK(strstr(em_errmsg(), "exploded") && strstr(em_errmsg(), "s01-seed3"), "%s", em_errmsg());
    CHECK(reg_set_status(r, "nope", "done") == -1, "status of an absent run");
    CHECK(strstr(em_errmsg(), "nope"), "%s", em_errmsg());
    CHECK(reg_finish_run(r, "nope", 1, 2, 3) == -1, "finish of an absent run");

    CHECK(reg_finish_run(r, "s01-seed3", 1.25, NAN, 12.5) == 0, "finish: %s", em_errmsg());
    CHECK(reg_upsert_run(r, &ri) == 0, "upsert after finish: %s", em_errmsg());
    CHECK(reg_get_run(r, "s01-seed3", &run) == 1, "get_run");
    CHECK(!strcmp(run.status, "done") && run.train_loss == 1.25 && isnan(run.val_loss) &&
          run.wall_s == 12.5, "finish lost: %s %g %g %g", run.status, run.train_loss,
          run.val_loss, run.wall_s);
    CHECK(run.params == 5000 && run.seed == 3 && run.size_idx == 1 && run.n_embd == 64 &&
          run.tokens == 200 * 4096LL, "config fields");

    RunInfo bad = ri;
    bad.point = "";
    CHECK(reg_upsert_run(r, &bad) == -1 && strstr(em_errmsg(), "point"), "empty point");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    bad.point = longname;
    CHECK(reg_upsert_run(r, &bad) == -1 && strstr(em_errmsg(), "longer"), "long point");

    // checkpoints: upsert per step, the last one found
    int step = -5;
    char path[64];
    CHECK(reg_last_checkpoint(r, "s01-seed3", &step, path, sizeof path) == 0, "none yet");
    CHECK(reg_add_checkpoint(r, "s01-seed3", 100, "a/100.st") == 0, "%s", em_errmsg());
    CHECK(reg_add_checkpoint(r, "s01-seed3", 200, "a/200.st") == 0, "%s", em_errmsg());
    CHECK(reg_add_checkpoint(r, "s01-seed3", 100, "b/100.st") == 0, "%s", em_errmsg());
    CHECK(reg_last_checkpoint(r, "s01-seed3", &step, path, sizeof path) == 1 && step == 200 &&
          !strcmp(path, "a/200.st"), "last %d %s", step, path);
    CHECK(reg_last_checkpoint(r, "s01-seed3", &step, path, 4) == -1, "path truncated silently");
    CHECK(reg_add_checkpoint(r, "ghost", 1, "x") == -1 && strstr(em_errmsg(), "ghost") &&
          strstr(em_errmsg(), "no run"), "checkpoint of an absent run: %s", em_errmsg());
    CHECK(reg_add_checkpoint(r, "s01-seed3", -1, "x") == -1, "negative step");
    reg_close(r);
    CHECK(raw_int(tpath("status.sqlite"), "SELECT count(*) FROM checkpoints") == 2, "checkpoints");
}

static int count(const char *p, const char *sql) { return (int)raw_int(p, sql); }

static void test_eval_replace(void) {
    const char *p = tpath("eval.sqlite");
    Registry *r = NULL;
    CHECK(reg_open(&r, p) == 0, "open: %s", em_errmsg());
    if (!r) return;
    RunInfo ri = run_info("s00-seed1", 0, 1000, 1);
    CHECK(reg_upsert_run(r, &ri) == 0, "%s", em_errmsg());
    MetricValue m1[3] = {{"exact_match", 0.25, 0.01, 0.2, 0.3},
                         {"token_acc", 0.5, 0.02, 0.45, 0.55},
                         {"brier", 0.1, NAN, NAN, NAN}};
    double pa[4] = {0.9, 0.8, 0.7, 0.6}, pt[4] = {0.95, 0.85, 0.75, 0.65};
    CHECK(reg_add_eval(r, "s00-seed1", 200, "add:2", 1000, m1, 3, pa, pt, 4) == 0, "%s",
          em_errmsg());
    MetricValue m2[2] = {{"exact_match", 0.75, 0.02, 0.7, 0.8}, {"token_acc", 0.9, 0.01, 0.88, 0.92}};
    CHECK(reg_add_eval(r, "s00-seed1", 200, "add:2", 500, m2, 2, pa, NULL, 3) == 0, "%s",
          em_errmsg());
    CHECK(count(p, "SELECT count(*) FROM evaluations") == 1, "evaluations duplicated");
    CHECK(count(p, "SELECT count(*) FROM metric_values") == 2, "old metric values remain");
    CHECK(count(p, "SELECT count(*) FROM positions") == 3, "old positions remain");
    CHECK(count(p, "SELECT n_items FROM evaluations") == 500, "n_items not replaced");
    CHECK(count(p, "SELECT count(*) FROM positions WHERE acc_tf IS NULL") == 3, "NULL acc_tf");

    // a failing evaluation (duplicate metric name) leaves the previous one whole
    MetricValue dup[2] = {{"exact_match", 0.1, 0, 0, 0}, {"exact_match", 0.2, 0, 0, 0}};
    CHECK(reg_add_eval(r, "s00-seed1", 200, "add:2", 7, dup, 2, NULL, NULL, 0) == -1,
          "duplicate metric accepted");
    CHECK(strstr(em_errmsg(), "exact_match") && strstr(em_errmsg(), p), "%s", em_errmsg());
    CHECK(count(p, "SELECT count(*) FROM metric_values") == 2 &&
          count(p, "SELECT n_items FROM evaluations") == 500, "failed evaluation not rolled back");

    // other steps and tasks are separate evaluations
    CHECK(reg_add_eval(r, "s00-seed1", 100, "add:2", 500, m1, 3, pa, pt, 4) == 0, "%s", em_errmsg());
    CHECK(reg_add_eval(r, "s00-seed1", 200, "mul:2", 500, m1, 1, NULL, NULL, 0) == 0, "%s",
          em_errmsg());
    CHECK(count(p, "SELECT count(*) FROM evaluations") == 3, "evaluations");
    CHECK(reg_add_eval(r, "ghost", 1, "add:2", 1, m1, 1, NULL, NULL, 0) == -1 &&
          strstr(em_errmsg(), "ghost"), "evaluation of an absent run: %s", em_errmsg());
    CHECK(reg_add_eval(r, "s00-seed1", 1, "", 1, m1, 1, NULL, NULL, 0) == -1 &&
          strstr(em_errmsg(), "task"), "empty task");
    CHECK(count(p, "SELECT count(*) FROM evaluations") == 3, "failed calls left rows");

    // losses: idempotent per (point, step), trimmed after a step
    CHECK(reg_add_loss(r, "s00-seed1", 10, 3.0, NAN) == 0, "%s", em_errmsg());
    CHECK(reg_add_loss(r, "s00-seed1", 10, 2.5, 2.75) == 0, "%s", em_errmsg());
    int steps[3] = {20, 30, 40};
    double tl[3] = {2.0, 1.5, 1.25};
    CHECK(reg_add_losses(r, "s00-seed1", 3, steps, tl, NULL) == 0, "%s", em_errmsg());
    CHECK(reg_add_loss(r, "ghost", 10, 1, 1) == -1, "loss of an absent run");
    RegLoss *ls;
    int n;
    CHECK(reg_query_losses(r, "s00-seed1", &ls, &n) == 0 && n == 4, "losses %d", n);
    if (n == 4)
        CHECK(ls[0].step == 10 && ls[0].train_loss == 2.5 && ls[0].val_loss == 2.75 &&
              ls[3].step == 40 && isnan(ls[3].val_loss), "loss rows");
    free(ls);
    CHECK(reg_trim_losses(r, "s00-seed1", 20) == 0, "%s", em_errmsg());
    CHECK(reg_query_losses(r, NULL, &ls, &n) == 0 && n == 2, "after trim %d", n);
    free(ls);
    reg_close(r);
}

static void test_queries(void) {
    Registry *r = NULL;
    CHECK(reg_open(&r, tpath("query.sqlite")) == 0, "open: %s", em_errmsg());
    if (!r) return;
    // Names sort against the order by (params, seed): z-small (1000) < m-mid (4000) < a-big (9000).
    struct { const char *pt; int si; long long params; int seed; } pts[] = {
        {"a-big-x", 2, 9000, 1}, {"z-small-w", 0, 1000, 2}, {"a-big-z", 2, 9000, 0},
        {"z-small-y", 0, 1000, 0}, {"m-mid", 1, 4000, 0}};
    const char *order[] = {"z-small-y", "z-small-w", "m-mid", "a-big-z", "a-big-x"};
    for (int i = 0; i < 5; i++) {
        RunInfo ri = run_info(pts[i].pt, pts[i].si, pts[i].params, pts[i].seed);
        CHECK(reg_upsert_run(r, &ri) == 0, "%s", em_errmsg());
        double v = pts[i].params / 10000.0 + pts[i].seed / 100.0;
        MetricValue mid = {"exact_match", v / 2, 0.01, v / 2 - 0.02, v / 2 + 0.02};
        MetricValue fin = {"exact_match", v, i == 0 ? NAN : 0.01, v - 0.02, v + 0.02};
        double pa[2] = {v, v / 2};
        CHECK(reg_add_eval(r, pts[i].pt, 100, "add:3", 200, &mid, 1, pa, pa, 2) == 0, "%s",
              em_errmsg());
        if (i != 1)  // z-small-w stopped after step 100: its final evaluation is step 100
            CHECK(reg_add_eval(r, pts[i].pt, 200, "add:3", 200, &fin, 1, pa, NULL, 2) == 0, "%s",
                  em_errmsg());
    }
    // another task evaluated later does not move add:3's final step
    MetricValue other = {"exact_match", 0.5, 0.1, 0.4, 0.6};
    CHECK(reg_add_eval(r, "z-small-w", 300, "mul:1", 10, &other, 1, NULL, NULL, 0) == 0, "%s",
          em_errmsg());
    RegRow *rows;
    int n;
    CHECK(reg_query_metric(r, "add:3", "exact_match", REG_STEP_FINAL, &rows, &n) == 0 && n == 5,
          "final rows %d: %s", n, em_errmsg());
    for (int i = 0; i < n && n == 5; i++) {
        CHECK(!strcmp(rows[i].point, order[i]), "row %d is %s, expected %s", i, rows[i].point,
              order[i]);
        double v = rows[i].params / 10000.0 + rows[i].seed / 100.0;
        int stopped = !strcmp(rows[i].point, "z-small-w");
        CHECK(rows[i].step == (stopped ? 100 : 200), "%s step %d", rows[i].point, rows[i].step);
        CHECK(fabs(rows[i].value - (stopped ? v / 2 : v)) < 1e-15, "%s value %g", rows[i].point,
              rows[i].value);
        CHECK(rows[i].n_items == 200 && rows[i].steps == 200, "n_items/steps");
    }
    if (n == 5) {
        CHECK(rows[0].params == 1000 && rows[4].params == 9000 && rows[4].seed == 1, "coords");
        CHECK(rows[3].flops == 6.0 * 9000 * 200 * 4096, "flops %g", rows[3].flops);
        CHECK(isnan(rows[4].stderr_), "NaN stderr read back as %g", rows[4].stderr_);
    }
    free(rows);
    CHECK(reg_query_metric(r, "add:3", "exact_match", 100, &rows, &n) == 0 && n == 5, "step 100");
    free(rows);
    CHECK(reg_query_metric(r, "add:3", "exact_match", REG_STEP_ALL, &rows, &n) == 0 && n == 9,
          "all steps %d", n);
    if (n == 9)
        CHECK(!strcmp(rows[0].point, "z-small-y") && rows[0].step == 100 && rows[1].step == 200,
              "all-step order");
    free(rows);
    CHECK(reg_query_metric(r, "add:3", "nonexistent", REG_STEP_FINAL, &rows, &n) == 0 && n == 0 &&
          rows == NULL, "unknown metric");
    CHECK(reg_query_metric(r, "add:3", "exact_match", -3, &rows, &n) == -1, "step -3 accepted");

    RegPosRow *pr;
    CHECK(reg_query_positions(r, "add:3", REG_STEP_FINAL, &pr, &n) == 0 && n == 10, "pos %d", n);
    if (n == 10) {
        CHECK(!strcmp(pr[0].point, "z-small-y") && pr[0].pos == 0 && pr[1].pos == 1, "pos order");
        CHECK(pr[1].acc == pr[0].acc / 2 && isnan(pr[1].acc_tf), "pos values");
        CHECK(pr[2].step == 100 && !isnan(pr[2].acc_tf), "stopped run's positions at step 100");
    }
    free(pr);

    RegRun *runs;
    CHECK(reg_query_runs(r, &runs, &n) == 0 && n == 5, "runs %d", n);
    for (int i = 0; i < n && n == 5; i++)
        CHECK(!strcmp(runs[i].point, order[i]), "run %d is %s", i, runs[i].point);
    free(runs);

    RegName *names;
    MetricValue mm[2] = {{"zeta", 1, 0, 0, 0}, {"alpha", 1, 0, 0, 0}};
    CHECK(reg_add_eval(r, "m-mid", 50, "facts", 10, mm, 2, NULL, NULL, 0) == 0, "%s",
          em_errmsg());
    CHECK(reg_list_tasks(r, &names, &n) == 0 && n == 3 && !strcmp(names[0].s, "add:3") &&
          !strcmp(names[1].s, "facts") && !strcmp(names[2].s, "mul:1"), "tasks");
    free(names);
    CHECK(reg_list_metrics(r, "facts", &names, &n) == 0 && n == 2 && !strcmp(names[0].s, "alpha")
          && !strcmp(names[1].s, "zeta"), "metrics");
    free(names);
    reg_close(r);
}

// Two processes open one fresh registry at once and write K runs each, with evaluations,
// losses, checkpoints and status changes.
#define K 150
static int child(const char *p, int who, int go_fd) {
    char c;
    if (read(go_fd, &c, 1) != 1) return 10;
    Registry *r;
    if (reg_open(&r, p)) { fprintf(stderr, "child %d: %s\n", who, em_errmsg()); return 11; }
    for (int i = 0; i < K; i++) {
        char pt[32];
        snprintf(pt, sizeof pt, "w%d-s%02d", who, i);
        RunInfo ri = run_info(pt, i % 4, 1000 + i, who);
        MetricValue m[2] = {{"exact_match", i / 100.0, 0.01, 0, 1}, {"token_acc", 0.5, 0.1, 0, 1}};
        double pa[3] = {0.1, 0.2, 0.3};
        int steps[5] = {1, 2, 3, 4, 5};
        double tl[5] = {5, 4, 3, 2, 1};
        if (reg_upsert_run(r, &ri) || reg_set_status(r, pt, "running") ||
            reg_add_losses(r, pt, 5, steps, tl, tl) || reg_add_checkpoint(r, pt, 5, pt) ||
            reg_add_eval(r, pt, 5, "add:2", 100, m, 2, pa, pa, 3) ||
            reg_finish_run(r, pt, 1.0, 1.1, 0.5)) {
            fprintf(stderr, "child %d: %s\n", who, em_errmsg());
            reg_close(r);
            return 12;
        }
    }
    reg_close(r);
    return 0;
}

static void test_concurrent(void) {
    const char *p = tpath("conc.sqlite");
    int go[2];
    CHECK(pipe(go) == 0, "pipe");
    pid_t pid[2];
    fflush(stdout);
    fflush(stderr);
    for (int w = 0; w < 2; w++) {
        pid[w] = fork();
        if (pid[w] == 0) {
            close(go[1]);
            _exit(child(p, w, go[0]));
        }
    }
    close(go[0]);
    CHECK(write(go[1], "gg", 2) == 2, "start");  // both start together
    close(go[1]);
    for (int w = 0; w < 2; w++) {
        int status = -1;
        CHECK(pid[w] > 0 && waitpid(pid[w], &status, 0) == pid[w], "wait");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d status %d", w, status);
    }
    CHECK(count(p, "SELECT count(*) FROM runs WHERE status = 'done'") == 2 * K, "runs");
    CHECK(count(p, "SELECT count(*) FROM losses") == 2 * K * 5, "losses");
    CHECK(count(p, "SELECT count(*) FROM checkpoints") == 2 * K, "checkpoints");
    CHECK(count(p, "SELECT count(*) FROM evaluations") == 2 * K, "evaluations");
    CHECK(count(p, "SELECT count(*) FROM metric_values") == 2 * K * 2, "metric values");
    CHECK(count(p, "SELECT count(*) FROM positions") == 2 * K * 3, "positions");
    CHECK(count(p, "SELECT count(*) FROM meta WHERE key = 'schema_version'") == 1, "meta");
}

// A writer killed with SIGKILL mid-transaction leaves whole evaluations only, and the
// registry opens and takes the same evaluation again without duplicating rows.
#define NM 40  // as in the SQL below
#define NP 20
static void kill_writer(const char *p, int ready_fd) {
    Registry *r;
    if (reg_open(&r, p)) _exit(11);
    RunInfo ri = run_info("victim", 0, 1000, 0);
    if (reg_upsert_run(r, &ri)) _exit(12);
    MetricValue m[NM];
    char names[NM][16];
    double pa[NP];
    for (int i = 0; i < NP; i++) pa[i] = i / (double)NP;
    for (int step = 0;; step++) {
        for (int i = 0; i < NM; i++) {
            snprintf(names[i], sizeof names[i], "m%02d", i);
            m[i] = (MetricValue){names[i], step + i, 0.1, 0, 1};
        }
        if (reg_add_eval(r, "victim", step % 7, "add:2", 100, m, NM, pa, pa, NP)) _exit(13);
        if (step == 3 && write(ready_fd, "r", 1) != 1) _exit(14);
    }
}

static void test_kill(void) {
    const char *p = tpath("kill.sqlite");
    int ready[2];
    CHECK(pipe(ready) == 0, "pipe");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) { close(ready[0]); kill_writer(p, ready[1]); }
    close(ready[1]);
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "writer did not start");
    close(ready[0]);
    usleep(30000);
    int status = 0;
    CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, &status, 0) == pid, "kill");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer ended by itself: %d", status);

    Registry *r = NULL;
    CHECK(reg_open(&r, p) == 0, "reopen after kill: %s", em_errmsg());
    char *ok = raw_text(p, "PRAGMA integrity_check");
    CHECK(ok && !strcmp(ok, "ok"), "integrity: %s", ok ? ok : "(null)");
    free(ok);
    int ne = count(p, "SELECT count(*) FROM evaluations");
    CHECK(ne >= 4 && ne <= 7, "evaluations %d", ne);
    CHECK(count(p, "SELECT count(*) FROM evaluations e WHERE (SELECT count(*) FROM metric_values"
                   " WHERE eval_id = e.id) != 40 OR (SELECT count(*) FROM positions"
                   " WHERE eval_id = e.id) != 20") == 0, "a partial evaluation survived");
    CHECK(count(p, "SELECT count(*) FROM metric_values") == ne * NM, "orphan metric values");
    MetricValue one = {"m00", 1, 0, 0, 0};
    CHECK(r && reg_add_eval(r, "victim", 0, "add:2", 1, &one, 1, NULL, NULL, 0) == 0, "%s",
          em_errmsg());
    CHECK(count(p, "SELECT count(*) FROM evaluations") == ne, "re-run duplicated an evaluation");
    reg_close(r);
}

static int contains(const char *path, const char *needle) {
    char *s = read_file(path, NULL);
    int f = s && strstr(s, needle) != NULL;
    free(s);
    return f;
}
static int lines(const char *path) {
    char *s = read_file(path, NULL);
    int n = 0;
    for (char *c = s; c && *c; c++) n += *c == '\n';
    free(s);
    return s ? n : -1;
}

static void test_export(void) {
    Registry *r = NULL;
    CHECK(reg_open(&r, tpath("export.sqlite")) == 0, "open: %s", em_errmsg());
    if (!r) return;
    RunInfo a = run_info("s01-seed0", 1, 4000, 0), b = run_info("s00-seed0", 0, 1000, 0);
    a.sweep_name = "lr, \"warm\"";
    a.sweep_value = 0.1;
    CHECK(reg_upsert_run(r, &a) == 0 && reg_upsert_run(r, &b) == 0, "%s", em_errmsg());
    CHECK(reg_finish_run(r, "s00-seed0", 2.5, NAN, 1.0) == 0, "%s", em_errmsg());
    CHECK(reg_add_checkpoint(r, "s01-seed0", 100, "runs/x,y/\"q\".safetensors") == 0, "%s",
          em_errmsg());
    CHECK(reg_add_loss(r, "s00-seed0", 1, 3.25, NAN) == 0, "%s", em_errmsg());
    MetricValue m[2] = {{"exact_match", 0.1, 0.01, 0.08, 0.12}, {"brier", 0.3, NAN, NAN, NAN}};
    double pa[2] = {0.5, 0.25}, pt[2] = {0.75, NAN};
    CHECK(reg_add_eval(r, "s01-seed0", 100, "bb:a,b", 10, m, 2, pa, pt, 2) == 0, "%s", em_errmsg());
    CHECK(reg_add_eval(r, "s00-seed0", 100, "add:2", 10, m, 1, NULL, NULL, 0) == 0, "%s",
          em_errmsg());

    char dir[128];
    snprintf(dir, sizeof dir, "%s/csv", g_dir);
    CHECK(reg_export_csv(r, dir) == 0, "export csv: %s", em_errmsg());
    char f[256];
    snprintf(f, sizeof f, "%s/runs.csv", dir);
    CHECK(lines(f) == 3, "runs.csv lines %d", lines(f));
    CHECK(contains(f, "point,size_idx,n_layer,n_head,n_embd,params,seed,sweep_name,sweep_value,"
                      "lr,steps,tokens,flops,status,train_loss,val_loss,wall_s,updated,machine\n"),
          "runs.csv header");
    CHECK(contains(f, "\ns00-seed0,0,1,2,32,1000,0,,,0.001,200,819200,4915200000,done,2.5,,1,"),
          "runs.csv row (NULL empty, order by params)");
    CHECK(contains(f, ",\"lr, \"\"warm\"\"\",0.1,"), "quoted sweep name");
    snprintf(f, sizeof f, "%s/checkpoints.csv", dir);
    CHECK(contains(f, "s01-seed0,100,\"runs/x,y/\"\"q\"\".safetensors\"\n"), "quoted path");
    snprintf(f, sizeof f, "%s/evaluations.csv", dir);
    CHECK(lines(f) == 4, "evaluations.csv lines %d", lines(f));
    CHECK(contains(f, "s01-seed0,4000,"), "evaluation row");
    CHECK(contains(f, ",100,\"bb:a,b\",10,brier,0.3,,,\n"), "NULL metric fields");
    CHECK(contains(f, ",100,\"bb:a,b\",10,exact_match,0.1,0.01,0.08,0.12\n"), "metric row");
    snprintf(f, sizeof f, "%s/losses.csv", dir);
    CHECK(contains(f, "point,step,train_loss,val_loss\ns00-seed0,1,3.25,\n"), "losses.csv");
    snprintf(f, sizeof f, "%s/positions.csv", dir);
    CHECK(contains(f, "s01-seed0,100,\"bb:a,b\",1,0.25,\n"), "positions.csv");
    snprintf(f, sizeof f, "%s/runs.csv.tmp", dir);
    CHECK(!file_exists(f), "temporary file left");

    const char *jp = tpath("export.json");
    CHECK(reg_export_json(r, jp) == 0, "export json: %s", em_errmsg());
    char *txt = read_file(jp, NULL);
    cJSON *j = txt ? cJSON_Parse(txt) : NULL;
    CHECK(j != NULL, "JSON does not parse");
    cJSON *runs = cJSON_GetObjectItem(j, "runs"), *ev = cJSON_GetObjectItem(j, "evaluations");
    CHECK(cJSON_GetObjectItem(j, "schema_version") &&
          cJSON_GetObjectItem(j, "schema_version")->valueint == REG_SCHEMA_VERSION, "version");
    CHECK(cJSON_GetArraySize(runs) == 2 && cJSON_GetArraySize(ev) == 2, "sizes");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "checkpoints")) == 1 &&
          cJSON_GetArraySize(cJSON_GetObjectItem(j, "losses")) == 1, "checkpoints, losses");
    cJSON *r1 = cJSON_GetArrayItem(runs, 1);
    cJSON *sw = cJSON_GetObjectItem(r1, "sweep_name");
    CHECK(cJSON_IsString(sw) && !strcmp(sw->valuestring, "lr, \"warm\""), "sweep name");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(runs, 0), "val_loss")), "null");
    cJSON *e1 = cJSON_GetArrayItem(ev, 1);  // s01-seed0 comes second (more params)
    cJSON *t = cJSON_GetObjectItem(e1, "task");
    CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, "bb:a,b"), "task");
    cJSON *em = cJSON_GetObjectItem(cJSON_GetObjectItem(e1, "metrics"), "exact_match");
    CHECK(em && cJSON_GetObjectItem(em, "value") &&
          cJSON_GetObjectItem(em, "value")->valuedouble == 0.1 &&
          cJSON_GetObjectItem(em, "hi")->valuedouble == 0.12, "metric values");
    cJSON *br = cJSON_GetObjectItem(cJSON_GetObjectItem(e1, "metrics"), "brier");
    CHECK(br && cJSON_IsNull(cJSON_GetObjectItem(br, "stderr")), "null stderr");
    cJSON *ptf = cJSON_GetObjectItem(e1, "pos_acc_tf");
    CHECK(cJSON_GetArraySize(ptf) == 2 && cJSON_GetArrayItem(ptf, 0)->valuedouble == 0.75 &&
          cJSON_IsNull(cJSON_GetArrayItem(ptf, 1)), "pos_acc_tf");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 0), "pos_acc")) == 0,
          "empty pos_acc");
    cJSON_Delete(j);
    free(txt);

    // an empty registry exports headers and empty arrays
    Registry *e = NULL;
    CHECK(reg_open(&e, tpath("empty.sqlite")) == 0, "%s", em_errmsg());
    CHECK(e && reg_export_json(e, tpath("empty.json")) == 0, "%s", em_errmsg());
    txt = read_file(tpath("empty.json"), NULL);
    j = txt ? cJSON_Parse(txt) : NULL;
    CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "runs")) == 0 &&
          cJSON_IsArray(cJSON_GetObjectItem(j, "evaluations")), "empty JSON");
    cJSON_Delete(j);
    free(txt);
    reg_close(e);
    reg_close(r);
}

static void test_corrupt(void) {
    const char *p = tpath("garbage.sqlite");
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 131 + 7);
    CHECK(write_file_atomic(p, junk, sizeof junk) == 0, "write junk");
    Registry *r = NULL;
    CHECK(reg_open(&r, p) == -1 && r == NULL, "garbage accepted");
    CHECK(strstr(em_errmsg(), p) && strstr(em_errmsg(), "not"), "message: %s", em_errmsg());
    size_t n = 0;
    unsigned char *back = (unsigned char *)read_file(p, &n);
    CHECK(back && n == sizeof junk && !memcmp(back, junk, n), "garbage file modified");
    free(back);

    const char *q = tpath("short.sqlite");
    CHECK(write_file_atomic(q, "hello, world\n", 13) == 0, "write text");
    CHECK(reg_open(&r, q) == -1 && strstr(em_errmsg(), q), "text file accepted: %s", em_errmsg());

    const char *d = tpath("no/such/dir/reg.sqlite");
    CHECK(reg_open(&r, d) == -1 && strstr(em_errmsg(), d), "missing dir: %s", em_errmsg());
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    return remove(p);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/emergent-registry-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 2; }
    RUN(test_schema);
    RUN(test_machine);
    RUN(test_status);
    RUN(test_eval_replace);
    RUN(test_queries);
    RUN(test_concurrent);
    RUN(test_kill);
    RUN(test_export);
    RUN(test_corrupt);
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return test_summary();
}
