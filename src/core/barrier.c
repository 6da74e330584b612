// A barrier for the threads of one parallel region that meet every few tens of µs.
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

#define SPIN_S 50e-6  // longer than a token's usual imbalance, short beside a time slice

static void futex(atomic_int *addr, int op, int val) {
    syscall(SYS_futex, (int *)addr, op, val, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void spin_barrier_wait(SpinBarrier *b, int nt) {
    if (nt <= 1) return;
    int gen = atomic_load_explicit(&b->gen, memory_order_acquire);
    if (atomic_fetch_add(&b->arrived, 1) == nt - 1) {  // the last one opens it
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add(&b->gen, 1);
        if (atomic_load(&b->sleepers) > 0) futex(&b->gen, FUTEX_WAKE_PRIVATE, INT_MAX);
        return;
    }
    double t0 = 0.0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&b->gen, memory_order_acquire) != gen) return;
        cpu_relax();
        if (i % 256 == 0) {  // the clock is read now and then, not at every spin
            double t = now_sec();
            if (t0 == 0.0) t0 = t;
            else if (t - t0 > SPIN_S) break;
        }
    }
    // Either the opener sees this sleeper and wakes it, or the kernel's check of gen sees
    // the opened barrier (both sides are sequentially consistent).
    atomic_fetch_add(&b->sleepers, 1);
    while (atomic_load_explicit(&b->gen, memory_order_acquire) == gen)
        futex(&b->gen, FUTEX_WAIT_PRIVATE, gen);
    atomic_fetch_sub(&b->sleepers, 1);
}
