// Emergence over training time: the Fourier share of the dense evaluation against an fp64
// reference, and the step definitions of ladder/overtime.
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "ladder/overtime.h"
#include "ladder/registry.h"
#include "test.h"
#include "train/train.h"

// The share computed another way: a long double DFT with unreduced angles, the total power
// from Parseval (P * sum of squares minus the constant), the top k by selection.
static double ref_share(const float *x, int P, int C, int k) {
    int F = P / 2;
    long double pw[256] = {0}, total = 0;
    for (int c = 0; c < C; c++) {
        long double s = 0, s2 = 0;
        for (int r = 0; r < P; r++) { s += x[r * C + c]; s2 += (long double)x[r * C + c] * x[r * C + c]; }
        total += P * s2 - s * s;
        for (int f = 1; f <= F; f++) {
            long double re = 0, im = 0;
            for (int r = 0; r < P; r++) {
                long double a = 2.0L * 3.14159265358979323846264338327950288L * f * r / P;
                re += x[r * C + c] * cosl(a);
                im += x[r * C + c] * sinl(a);
            }
            pw[f - 1] += (2 * f == P ? 1 : 2) * (re * re + im * im);
        }
    }
    long double top = 0;
    for (int j = 0; j < k && j < F; j++) {  // selection: the j-th largest
        int b = -1;
        for (int f = 0; f < F; f++) if (pw[f] >= 0 && (b < 0 || pw[f] > pw[b])) b = f;
        top += pw[b];
        pw[b] = -1;
    }
    return (double)(top / total);
}

static void test_fourier_reference(void) {
    Rng r;
    rng_seed(&r, 7);
    int P = 97, C = 16;
    float *x = xmalloc((size_t)P * C * sizeof(float));
    for (int t = 0; t < 2; t++) {
        if (t == 1) P = 96;  // an even modulus has a self-conjugate frequency P/2
        for (int i = 0; i < P; i++)
            for (int c = 0; c < C; c++)
                x[i * C + c] = (float)(0.7 * cos(2 * M_PI * 5 * i / P + c) +
                                       0.3 * sin(2 * M_PI * 11 * i / P - c) +
                                       0.2 * cos(2 * M_PI * (P / 2) * i / P) + 0.5 * rng_normal(&r) + 3.0);
        for (int k = 1; k <= 6; k++) {
            double a = dense_fourier_share(x, P, C, C, k), b = ref_share(x, P, C, k);
            CHECK(fabs(a - b) < 1e-9, "P %d k %d: %.12f, reference %.12f", P, k, a, b);
        }
        CHECK(fabs(dense_fourier_share(x, P, C, C, P / 2) - 1.0) < 1e-12, "k = P/2: all of it");
    }
    free(x);
}

static void test_fourier_sinusoid(void) {
    int P = 97, C = 32;
    float *x = xmalloc((size_t)P * (C + 3) * sizeof(float));
    for (int i = 0; i < P; i++)
        for (int c = 0; c < C; c++)  // one frequency, any phase and amplitude, plus a constant
            x[i * (C + 3) + c] = (float)((1 + c) * cos(2 * M_PI * 7 * i / P + 0.3 * c) + 2.0 - c);
    for (int k = 1; k <= 5; k++) {
        double s = dense_fourier_share(x, P, C, C + 3, k);  // row stride wider than C
        CHECK(fabs(s - 1.0) < 1e-6, "sinusoid, k %d: share %.9f, expected 1", k, s);
    }
    for (int i = 0; i < P; i++)
        for (int c = 0; c < C; c++) x[i * (C + 3) + c] = 4.0f;
    CHECK(isnan(dense_fourier_share(x, P, C, C + 3, 1)), "a constant has no power: NaN");
    free(x);
}

static void test_fourier_noise(void) {
    Rng r;
    rng_seed(&r, 11);
    int P = 97, C = 512, F = 48;
    float *x = xmalloc((size_t)P * C * sizeof(float));
    for (int i = 0; i < P * C; i++) x[i] = rng_normal(&r);
    for (int k = 1; k <= 10; k += 4) {
        double s = dense_fourier_share(x, P, C, C, k), flat = (double)k / F;
        // the top k of F nearly equal powers: a little above k/F, far below a structured share
        CHECK(s >= flat && s < flat * 1.25, "white noise, k %d: share %.4f, expected ~%.4f", k, s, flat);
    }
    free(x);
}

static void test_steps(void) {
    int st[] = {0, 50, 100, 150, 200, 250, 300};
    double acc[] = {0, .2, .6, .99, .995, 1, 1};
    CHECK(ot_reach(st, acc, 7, 0.5) == 100, "reach 0.5");
    CHECK(ot_reach(st, acc, 7, 0.99) == 150, "reach 0.99");
    CHECK(ot_reach(st, acc, 3, 0.99) == -1, "never");
    // a test loss that rises (memorisation) then falls: 10% of the fall from the peak (8)
    // to the minimum (0.1) is 7.21, first crossed at step 200
    double loss[] = {4.6, 6, 8, 7.5, 5, 1, 0.1};
    CHECK(ot_move(st, loss, 7, -1, OT_LOSS_FLOOR) == 200, "loss: %d", ot_move(st, loss, 7, -1, OT_LOSS_FLOOR));
    double rising[] = {4.6, 6, 8, 9, 10, 11, 12};  // never falls: no move
    CHECK(ot_move(st, rising, 7, -1, OT_LOSS_FLOOR) == -1, "a loss that only rises");
    double fs[] = {0.12, 0.11, 0.12, 0.3, 0.6, 0.9, 0.9};  // low 0.11 at 50, high 0.9: 0.189
    CHECK(ot_move(st, fs, 7, 1, OT_FOURIER_FLOOR) == 150, "rise: %d", ot_move(st, fs, 7, 1, OT_FOURIER_FLOOR));
    double flat[] = {0.12, 0.125, 0.121, 0.124, 0.12, 0.13, 0.12};
    CHECK(ot_move(st, flat, 7, 1, OT_FOURIER_FLOOR) == -1, "noise under the floor is no move");
    double w[] = {450, 400, 300, 320, 350, 360, 380};
    CHECK(ot_min_step(st, w, 7, OT_WEIGHT_FLOOR) == 100, "weight minimum");
    double wf[] = {450, 400, 300, 250, 240, 230, 220};
    CHECK(ot_min_step(st, wf, 7, OT_WEIGHT_FLOOR) == -1, "still falling at the end: no minimum");
}

static void test_stat(void) {
    double v[] = {100, 200, NAN, 300};
    OtStat s = ot_stat(v, 4);
    double h = 4.302652729911275 * 100 / sqrt(3.0);
    CHECK(s.n == 3 && fabs(s.mean - 200) < 1e-9, "mean over the finite values");
    CHECK(fabs(s.lo - (200 - h)) < 1e-6 && fabs(s.hi - (200 + h)) < 1e-6, "t interval %g %g", s.lo, s.hi);
    CHECK(s.min == 100 && s.max == 300, "range");
    OtStat one = ot_stat(v, 1);
    CHECK(one.n == 1 && one.mean == 100 && isnan(one.lo) && isnan(one.hi), "one seed: no interval");
}

// Dense rows round-trip (NaN as NULL, replaced when written again); a version-2 registry
// (no dense table) opens as version 3 with the table.
static void test_registry_dense(void) {
    char path[] = "/tmp/test_overtime_regXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    remove(path);
    Registry *r;
    CHECK(reg_open(&r, path) == 0, "open: %s", em_errmsg());
    RunInfo ri = {.point = "s00-wd1-seed1", .params = 10, .seed = 1, .sweep_name = "weight_decay",
                  .sweep_value = 1.0, .lr = 1e-3, .steps = 100};
    CHECK(reg_upsert_run(r, &ri) == 0, "run");
    RegDense d = {.step = 50, .train_acc = 0.5, .test_acc = 0.25, .train_loss = 1, .test_loss = 2,
                  .weight_sq = 400, .fourier_share = NAN, .fourier_k = 5};
    CHECK(reg_add_dense(r, "s00-wd1-seed1", &d) == 0, "add");
    d.test_acc = 0.75;
    CHECK(reg_add_dense(r, "s00-wd1-seed1", &d) == 0, "replace");
    CHECK(reg_add_dense(r, "nope", &d) != 0 && strstr(em_errmsg(), "no run 'nope'"), "unknown run");
    RegDense *rows;
    int n;
    CHECK(reg_query_dense(r, &rows, &n) == 0 && n == 1, "one row, got %d", n);
    if (n == 1)
        CHECK(rows[0].step == 50 && rows[0].test_acc == 0.75 && isnan(rows[0].fourier_share) &&
              rows[0].sweep_value == 1.0 && rows[0].seed == 1 && rows[0].fourier_k == 5, "row");
    free(rows);
    reg_close(r);
    sqlite3 *db;
    sqlite3_open(path, &db);
    CHECK(sqlite3_exec(db, "DROP TABLE dense; UPDATE meta SET value = '2' WHERE key = "
                           "'schema_version'", NULL, NULL, NULL) == SQLITE_OK, "make a v2 file");
    sqlite3_close(db);
    CHECK(reg_open(&r, path) == 0, "reopen v2: %s", em_errmsg());
    CHECK(reg_query_dense(r, &rows, &n) == 0 && n == 0, "the dense table exists again");
    free(rows);
    reg_close(r);
    sqlite3_open(path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 3, "migrated to 3");
    sqlite3_finalize(st);
    sqlite3_close(db);
    char aux[1100];
    remove(path);
    snprintf(aux, sizeof aux, "%s-wal", path); remove(aux);
    snprintf(aux, sizeof aux, "%s-shm", path); remove(aux);
}

int main(void) {
    RUN(test_fourier_reference);
    RUN(test_fourier_sinusoid);
    RUN(test_fourier_noise);
    RUN(test_steps);
    RUN(test_stat);
    RUN(test_registry_dense);
    return test_summary();
}
