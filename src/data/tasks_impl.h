// data/tasks_impl.h: what the task generators and loaders (src/data/task*.c) share, and
// what their tests reach; not part of the module's interface (tasks.h).
#ifndef EMERGENT_TASKS_IMPL_H
#define EMERGENT_TASKS_IMPL_H

#include "data/tasks.h"
#include <stdarg.h>
#include "core/core.h"
// An item of a generated space, named by two words (operands, or packed template choices).
typedef struct { uint64_t a, b; } TaskId;
// A family of items: listed (size > 0: ids from nth(0..size-1), invalid ones skipped) or
// sampled (size == 0: ids from draw). split_of must depend on the id only.
typedef struct {
    uint64_t size;
    int (*nth)(void *ctx, uint64_t i, TaskId *id);
    TaskId (*draw)(void *ctx, Rng *r);
    int (*split_of)(void *ctx, TaskId id);
    int (*make)(void *ctx, TaskId id, TaskItem *it);
    void (*free_ctx)(void *ctx);
    void *ctx;
} TaskSpace;
#define TASK_LIST_MAX (1u << 20)
uint64_t task_hash(uint64_t key, uint64_t a, uint64_t b);   // keyed 64-bit hash
double task_hash_unit(uint64_t key, uint64_t a, uint64_t b); // the same in [0, 1)
uint64_t task_below64(Rng *r, uint64_t n);                    // uniform in [0, n), n > 0
char *task_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *task_strdup(const char *s);
int task_copy_field(char *dst, size_t cap, const char *src, const char *file, const char *field);
void taskset_init(TaskSet *ts, const char *name);
// Family set-up: parse the fields after "family:", fill sp and the set's strings.
int task_space_arith(const char *spec, char op, const char *args, TaskSpace *sp, TaskSet *ts);
int task_space_mod(const char *spec, const char *args, TaskSpace *sp, TaskSet *ts);
int task_space_facts(const char *spec, const char *args, TaskSpace *sp, TaskSet *ts);
int task_space_mc(const char *spec, const char *family, const char *args, TaskSpace *sp,
                  TaskSet *ts);

#endif
