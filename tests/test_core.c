// core: the growable string buffer and its JSON string escaping (read back by cJSON), and
// the spinning barrier.
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "test.h"

static void test_strbuf_grows(void) {
    StrBuf b = {0};
    CHECK(b.n == 0 && b.p == NULL, "empty");
    for (int i = 0; i < 10000; i++) sb_printf(&b, "%d,", i % 10);
    CHECK(b.n == 20000 && strlen(b.p) == 20000, "length %zu", b.n);
    CHECK(!strncmp(b.p, "0,1,2,", 6) && !strcmp(b.p + 19994, "7,8,9,"), "content");
    sb_put(&b, "x\0y", 3);  // bytes, a NUL among them
    CHECK(b.n == 20003 && b.p[20001] == 0 && b.p[20002] == 'y' && b.p[20003] == 0, "bytes");
    size_t big = 5000;
    char *s = malloc(big + 1);
    memset(s, 'a', big);
    s[big] = 0;
    sb_printf(&b, "%s", s);  // one write past the doubled capacity
    CHECK(b.n == 20003 + big && b.p[b.n] == 0 && b.p[b.n - 1] == 'a', "long printf");
    free(s);
    sb_free(&b);
    CHECK(b.p == NULL && b.n == 0 && b.cap == 0, "freed");
}

static void test_json_string(void) {
    const char *cases[] = {"plain", "", "quote \" and \\ backslash", "tab\tnl\ncr\r",
                           "\x01\x1f ctrl", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        StrBuf b = {0};
        sb_json_string(&b, cases[i]);
        cJSON *j = cJSON_Parse(b.p);
        CHECK(cJSON_IsString(j) && !strcmp(j->valuestring, cases[i]), "case %zu: %s", i, b.p);
        for (size_t k = 0; k < b.n; k++)
            CHECK((unsigned char)b.p[k] >= 0x20, "case %zu: raw control byte at %zu", i, k);
        cJSON_Delete(j);
        sb_free(&b);
    }
}

// Rounds of: every thread writes the round number, meets, checks that all wrote it, meets.
// Now and then one thread arrives 300 µs late, so the others run out of spin and sleep.
static void test_spin_barrier(void) {
    for (int nt = 2; nt <= 4; nt++) {
        int vals[4] = {0}, rounds = 400;
        atomic_int bad = 0;
        SpinBarrier bar = {0};
#pragma omp parallel num_threads(nt)
        {
            int t = omp_get_thread_num(), n = omp_get_num_threads();
            for (int r = 1; r <= rounds; r++) {
                if (r % 50 == 0 && t == r / 50 % n) {
                    struct timespec ts = {0, 300000};
                    nanosleep(&ts, NULL);
                }
                __atomic_store_n(&vals[t], r, __ATOMIC_RELAXED);
                spin_barrier_wait(&bar, n);
                for (int k = 0; k < n; k++)
                    if (__atomic_load_n(&vals[k], __ATOMIC_RELAXED) != r) atomic_fetch_add(&bad, 1);
                spin_barrier_wait(&bar, n);
            }
        }
        CHECK(bad == 0, "%d threads: %d reads saw another round", nt, (int)bad);
        CHECK(bar.arrived == 0 && bar.sleepers == 0 && bar.gen == 2 * rounds,
              "%d threads: state %d %d %d after %d meetings", nt, (int)bar.arrived,
              (int)bar.sleepers, (int)bar.gen, 2 * rounds);
    }
}

int main(void) {
    RUN(test_strbuf_grows);
    RUN(test_json_string);
    RUN(test_spin_barrier);
    return test_summary();
}
