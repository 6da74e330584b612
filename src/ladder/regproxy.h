// ladder/regproxy: the registry calls a point's worker makes, either to the registry itself
// (a worker of rank 0, or of a ladder on one machine) or as records down a pipe to its
// rank's process, which forwards each to rank 0 over MPI; rank 0 applies it to the registry
// (regproxy_apply) and the reply comes back the same way. A worker waits for every reply, so
// its calls are applied in order and each returns what the registry call returned.
//
// A record is bytes: a type, then 32-bit integers, doubles and NUL-terminated strings in the
// machine's own layout (the ranks of one ladder run on machines of one architecture). Over
// a pipe each record is framed by its length (a 32-bit integer).
#ifndef EMERGENT_REGPROXY_H
#define EMERGENT_REGPROXY_H

#include <stddef.h>

#include "ladder/ladder.h"
#include "ladder/registry.h"

typedef void (*LadderReport)(void *ctx, const LadderProgress *p);

typedef struct {
    Registry *reg;            // non-NULL: the calls go to this registry
    int wfd, rfd;             // otherwise: requests written to wfd, replies read from rfd
    LadderReport report;      // a failed point's message (local sinks)
    void *ctx;
    const char *name;         // the ladder's name, for the report
    int rank, ranks;          // the MPI rank the worker runs on, of how many
} RegSink;

int sink_set_status(RegSink *k, const char *point, const char *status);
int sink_set_machine(RegSink *k, const char *point, const char *machine);
int sink_last_checkpoint(RegSink *k, const char *point, int *step, char *path, size_t cap);
int sink_add_loss(RegSink *k, const char *point, int step, double train_loss, double val_loss);
int sink_add_eval(RegSink *k, const char *point, int step, const char *task, int n_items,
                  const MetricValue *m, int n_metrics, const double *pos_acc,
                  const double *pos_acc_tf, int n_pos);
int sink_add_checkpoint(RegSink *k, const char *point, int step, const char *path);
int sink_finish_run(RegSink *k, const char *point, double train_loss, double val_loss,
                    double wall_s);
int sink_add_dense(RegSink *k, const char *point, const RegDense *row);
// A point failed with message: reported (LADDER_POINT_FAILED) where the report is printed.
void sink_point_failed(RegSink *k, const char *point, const char *message);

// Rank 0: applies one request record (req, n bytes) to reg, or reports it (a failed point's
// message) through report; reg NULL: the registry could not be opened (em_errmsg says why).
// The reply record into *out (malloc'd, *nout bytes). Never fails: an error (a malformed
// record included) travels in the reply.
void regproxy_apply(Registry *reg, const char *req, int n, LadderReport report, void *ctx,
                    const char *name, char **out, int *nout);

// One framed record over a pipe: 0, or -1 with em_error(). regproxy_read_frame: 1 with the
// record in *buf (malloc'd, *n bytes), 0 at the end of the pipe (or a record cut short by
// the writer's death), -1 with em_error().
int regproxy_write_frame(int fd, const void *buf, int n);
int regproxy_read_frame(int fd, char **buf, int *n);

#endif
