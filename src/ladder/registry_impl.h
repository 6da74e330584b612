// ladder/registry_impl.h: what registry.c and registry_export.c share; not part of the
// registry's interface (registry.h).
#ifndef EMERGENT_REGISTRY_IMPL_H
#define EMERGENT_REGISTRY_IMPL_H

#include <sqlite3.h>

#include "ladder/registry.h"

struct Registry { sqlite3 *db; char path[1024]; };

// -1 with a message naming the file, what was being done and SQLite's reason.
int reg_fail(Registry *r, const char *what);
int reg_exec(Registry *r, const char *sql, const char *what);
sqlite3_stmt *reg_prep(Registry *r, const char *sql);  // NULL (message set) on failure
// The order of runs in every query and export.
#define RUN_ORDER "r.params, r.sweep_value, r.seed, r.point"

#endif
