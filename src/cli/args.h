// A table-driven flag parser shared by every subcommand: --help from the table,
// unknown flags and bad values refused with a message that names them.
#ifndef EMERGENT_ARGS_H
#define EMERGENT_ARGS_H
#include <stdint.h>

typedef enum { ARG_INT, ARG_I64, ARG_FLOAT, ARG_STR, ARG_FLAG } ArgType;
typedef struct {
    const char *name;   // "--steps"
    ArgType type;
    void *dst;          // int*, int64_t*, float*, const char**, int* (flag -> 1)
    const char *help;   // one line; the default is printed after it
    double min, max;    // accepted range for numbers (min == max: the type's range)
    int set;            // filled by args_parse: 1 if given on the command line
} ArgSpec;

// Parses argv[0..argc) (argv[0] is the first flag, not the command name).
// Positional arguments (not starting with "--") go to pos[] (at most max_pos).
// Returns 0 on success, 1 if --help was printed, -1 on error (em_error set).
int args_parse(const char *cmd, const char *usage, ArgSpec *specs, int argc, char **argv,
               const char **pos, int max_pos, int *n_pos);
void args_print_help(const char *cmd, const char *usage, const ArgSpec *specs);
int args_given(const ArgSpec *specs, const char *name);

#endif
