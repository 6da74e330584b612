// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): the input as a file, for parsers
// that take a path, and a check that crashes (a finding) when a property does not hold.
#ifndef EMERGENT_FUZZ_H
#define EMERGENT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

// An in-memory file (memfd) named by /proc/self/fd/N: nothing touches the disk, and
// parallel fuzzers do not share a path.
typedef struct { int fd; char path[64]; } FuzzFile;

static inline int fuzz_file_open(FuzzFile *ff, const uint8_t *data, size_t size) {
    ff->fd = memfd_create("emergent-fuzz", MFD_CLOEXEC);
    if (ff->fd < 0) { perror("memfd_create"); abort(); }
    for (size_t off = 0; off < size;) {
        ssize_t w = write(ff->fd, data + off, size - off);
        if (w <= 0) { perror("write"); abort(); }
        off += (size_t)w;
    }
    snprintf(ff->path, sizeof ff->path, "/proc/self/fd/%d", ff->fd);
    return 0;
}

static inline void fuzz_file_close(FuzzFile *ff) {
    close(ff->fd);
    ff->fd = -1;
}

// A property of the parser's output that must hold for every accepted input.
#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#endif
