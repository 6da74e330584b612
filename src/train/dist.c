// Data parallelism over MPI: every call into MPI lives in this file. Built without MPI
// (no -DEMERGENT_MPI), the same functions describe one rank and do nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef EMERGENT_MPI
#include <mpi.h>
#endif

#include "train.h"

static int g_rank = 0, g_size = 1;
static double g_comm_s = 0.0, g_exposed_s = 0.0;
#ifdef EMERGENT_MPI
static int g_mpi = 0;  // MPI started (under a launcher)
#endif

// The number of ranks a launcher (mpirun, mpiexec, srun) started, from the variables it
// sets; 1 when the process was started on its own.
static int launched_ranks(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return getenv("PMIX_RANK") ? 2 : 1;  // PMIx without its size: under a launcher all the same
}

int dist_init(int *argc, char ***argv) {
    int n = launched_ranks();
#ifdef EMERGENT_MPI
    // Only under a launcher: a plain run never starts MPI (no daemon, no network probe).
    if (n <= 1) return 0;
    int provided;
    // MPI is called from the main thread only, between OpenMP regions
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return em_error("MPI_Init_thread failed");
    g_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return 0;
#else
    (void)argc, (void)argv;
    if (n > 1)
        return em_error("started as one of %d ranks, but this emergent was built without MPI: "
                        "install libopenmpi-dev (Debian) and rebuild to train over ranks", n);
    return 0;
#endif
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
double dist_comm_seconds(void) { return g_comm_s; }
double dist_comm_exposed_seconds(void) { return g_exposed_s; }

const char *dist_describe(void) {
#ifdef EMERGENT_MPI
    static char s[MPI_MAX_LIBRARY_VERSION_STRING + 32];
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0, major = 0, minor = 0;
    MPI_Get_library_version(lib, &len);
    MPI_Get_version(&major, &minor);
    lib[strcspn(lib, ",\n")] = 0;  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
    snprintf(s, sizeof s, "%s (MPI %d.%d)", lib, major, minor);
    return s;
#else
    return "off (built without MPI; install libopenmpi-dev and rebuild)";
#endif
}

void dist_allreduce_sum_f(float *x, size_t n) {
#ifdef EMERGENT_MPI
    if (!g_mpi || g_size == 1) return;
    double t = now_sec();
    for (size_t off = 0; off < n;) {  // counts are int: pieces of at most 2^30 floats
        int k = n - off > ((size_t)1 << 30) ? 1 << 30 : (int)(n - off);
        MPI_Allreduce(MPI_IN_PLACE, x + off, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        off += (size_t)k;
    }
    g_comm_s += now_sec() - t;
    g_exposed_s += now_sec() - t;
#else
    (void)x, (void)n;
#endif
}

#ifdef EMERGENT_MPI
// The buckets' requests in flight.
static MPI_Request *g_req;
static int g_nreq, g_capreq;

static void count_call(double t, int exposed) {
    double dt = now_sec() - t;
    g_comm_s += dt;
    if (exposed) g_exposed_s += dt;
}
#endif

void dist_bucket_start(float *x, size_t n, int exposed) {
#ifdef EMERGENT_MPI
    if (!g_mpi || g_size == 1) return;
    double t = now_sec();
    for (size_t off = 0; off < n;) {
        int k = n - off > ((size_t)1 << 30) ? 1 << 30 : (int)(n - off);
        if (g_nreq == g_capreq) {
            g_capreq = g_capreq ? 2 * g_capreq : 64;
            g_req = xrealloc(g_req, sizeof(MPI_Request) * (size_t)g_capreq);
        }
        MPI_Iallreduce(MPI_IN_PLACE, x + off, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                       &g_req[g_nreq++]);
        off += (size_t)k;
    }
    count_call(t, exposed);
#else
    (void)x, (void)n, (void)exposed;
#endif
}

void dist_bucket_progress(int exposed) {
#ifdef EMERGENT_MPI
    if (g_nreq == 0) return;
    double t = now_sec();
    int flag = 0;
    MPI_Testall(g_nreq, g_req, &flag, MPI_STATUSES_IGNORE);
    if (flag) g_nreq = 0;
    count_call(t, exposed);
#else
    (void)exposed;
#endif
}

void dist_bucket_wait(void) {
#ifdef EMERGENT_MPI
    if (g_nreq == 0) return;
    double t = now_sec();
    MPI_Waitall(g_nreq, g_req, MPI_STATUSES_IGNORE);
    g_nreq = 0;
    count_call(t, 1);
#endif
}

static void allreduce_d(double *x, int n, int max) {
#ifdef EMERGENT_MPI
    if (!g_mpi || g_size == 1) return;
    MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, max ? MPI_MAX : MPI_SUM, MPI_COMM_WORLD);
#else
    (void)x, (void)n, (void)max;
#endif
}
void dist_allreduce_sum_d(double *x, int n) { allreduce_d(x, n, 0); }
void dist_allreduce_max_d(double *x, int n) { allreduce_d(x, n, 1); }

int dist_same_u64(uint64_t v) {
    // four 16-bit pieces (exact in a double), each with its maximum and minimum over the ranks
    double x[8];
    for (int i = 0; i < 4; i++) {
        x[i] = (double)((v >> (16 * i)) & 0xffff);
        x[4 + i] = -x[i];
    }
    dist_allreduce_max_d(x, 8);
    for (int i = 0; i < 4; i++)
        if (x[i] != -x[4 + i]) return 0;
    return 1;
}

void dist_finalize(void) {
#ifdef EMERGENT_MPI
    if (g_mpi) MPI_Finalize();
    g_mpi = 0;
    free(g_req);
    g_req = NULL;
    g_capreq = 0;
#endif
}

// ---- point-to-point messages (the ladder's scheduler and its ranks) -------------------
// Only the process that started MPI calls these (never a child forked after dist_init).
int dist_send_bytes(int dest, int tag, const void *buf, int n) {
#ifdef EMERGENT_MPI
    if (!g_mpi) return em_error("MPI send: MPI is not running");
    if (MPI_Send(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD) != MPI_SUCCESS)
        return em_error("MPI send of %d bytes to rank %d failed", n, dest);
    return 0;
#else
    (void)dest, (void)tag, (void)buf, (void)n;
    return em_error("MPI send: built without MPI");
#endif
}

int dist_poll(int src, int tag, int *from) {
#ifdef EMERGENT_MPI
    if (!g_mpi) return 0;
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(src < 0 ? MPI_ANY_SOURCE : src, tag, MPI_COMM_WORLD, &flag, &st);
    if (flag && from) *from = st.MPI_SOURCE;
    return flag;
#else
    (void)src, (void)tag, (void)from;
    return 0;
#endif
}

int dist_recv_bytes(int src, int tag, char **buf, int *n, int *from) {
#ifdef EMERGENT_MPI
    if (!g_mpi) return em_error("MPI receive: MPI is not running");
    MPI_Status st;
    if (MPI_Probe(src < 0 ? MPI_ANY_SOURCE : src, tag, MPI_COMM_WORLD, &st) != MPI_SUCCESS)
        return em_error("MPI probe failed");
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    *buf = xmalloc((size_t)count + 1);
    if (MPI_Recv(*buf, count, MPI_BYTE, st.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        free(*buf);
        *buf = NULL;
        return em_error("MPI receive of %d bytes from rank %d failed", count, st.MPI_SOURCE);
    }
    (*buf)[count] = 0;
    *n = count;
    if (from) *from = st.MPI_SOURCE;
    return 0;
#else
    (void)src, (void)tag, (void)n, (void)from;
    *buf = NULL;
    return em_error("MPI receive: built without MPI");
#endif
}

void dist_bcast_bytes(void *buf, int n, int root) {
#ifdef EMERGENT_MPI
    if (!g_mpi || g_size == 1) return;
    MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
#else
    (void)buf, (void)n, (void)root;
#endif
}

void dist_abort(int code) {
#ifdef EMERGENT_MPI
    if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)code;
}

void dist_detach(void) {
    g_rank = 0, g_size = 1;
#ifdef EMERGENT_MPI
    g_mpi = 0;
#endif
}
