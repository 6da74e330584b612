// report/gnuplot: the palettes, and finding and running gnuplot as a child process.
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"

// ---- colours ------------------------------------------------------------------
uint32_t report_color(int i) {
    // Okabe & Ito (2008), less its yellow, which vanishes on white.
    static const uint32_t pal[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7,
                                   0xE69F00, 0x56B4E9, 0x000000, 0x8C564B};
    int n = (int)(sizeof pal / sizeof pal[0]);
    return REPORT_RGB(pal[((i % n) + n) % n]);
}

uint32_t report_size_color(int i, int n) {
    // matplotlib's plasma at t = 0, 0.1, ..., 1; we use t in [0, 0.82] (its last stretch is
    // a yellow too pale for white paper), interpolated in RGB.
    static const uint8_t plasma[11][3] = {
        {13, 8, 135},   {65, 4, 157},   {106, 0, 168},  {143, 13, 164}, {177, 42, 144},
        {204, 71, 120}, {225, 100, 98}, {242, 132, 75}, {252, 166, 54}, {252, 206, 37},
        {240, 249, 33}};
    double t = n > 1 && i >= 0 ? 0.82 * (i < n ? i : n - 1) / (n - 1) : 0.0;
    double u = t * 10;
    int k = (int)u;
    if (k > 9) k = 9;
    double w = u - k;
    uint32_t rgb = 0;
    for (int c = 0; c < 3; c++) {
        double v = plasma[k][c] + w * (plasma[k + 1][c] - plasma[k][c]);
        rgb = (rgb << 8) | (uint32_t)(v + 0.5);
    }
    return REPORT_RGB(rgb);
}

// ---- finding gnuplot --------------------------------------------------------------
static char g_gnuplot[PATH_MAX];

void report_set_gnuplot(const char *path) {
    if (!path) g_gnuplot[0] = 0;
    else snprintf(g_gnuplot, sizeof g_gnuplot, "%s", path);
}

static const char *gnuplot_wanted(void) {
    if (g_gnuplot[0]) return g_gnuplot;
    const char *e = getenv("GNUPLOT");
    return e && *e ? e : "gnuplot";
}

// Resolves the gnuplot to run into an absolute path (the child changes directory first, so a
// relative one would break). Returns 0, or -1 with an em_error() saying what to install.
static int gnuplot_resolve(char *out, size_t n) {
    const char *want = gnuplot_wanted();
    if (strchr(want, '/')) {
        char real[PATH_MAX];
        if (realpath(want, real) && access(real, X_OK) == 0 && strlen(real) < n) {
            strcpy(out, real);
            return 0;
        }
    } else {
        const char *path = getenv("PATH");
        if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
        while (*path) {
            const char *end = strchr(path, ':');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            char cand[PATH_MAX];
            // An empty PATH entry means the current directory.
            int w = len ? snprintf(cand, sizeof cand, "%.*s/%s", (int)len, path, want)
                        : snprintf(cand, sizeof cand, "./%s", want);
            char real[PATH_MAX];
            if (w > 0 && (size_t)w < sizeof cand && access(cand, X_OK) == 0 &&
                realpath(cand, real) && strlen(real) < n) {
                strcpy(out, real);
                return 0;
            }
            path += len + (end ? 1 : 0);
        }
    }
    return em_error("report: gnuplot not found ('%s'): the figures need it; install it with "
                    "`apt-get install gnuplot-nox` (Debian/Ubuntu), or point the GNUPLOT "
                    "environment variable at a gnuplot binary", want);
}

int rp_gnuplot_check(void) {
    char path[PATH_MAX];
    return gnuplot_resolve(path, sizeof path);
}

int report_gnuplot_available(void) {
    char path[PATH_MAX];
    int ok = gnuplot_resolve(path, sizeof path) == 0;
    if (!ok) em_clear_error();
    return ok;
}

int report_valid_stem(const char *s) {
    if (!s || !*s || s[0] == '.' || s[0] == '-' || strlen(s) > 200) return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

// ---- running it ---------------------------------------------------------------------
int report_gnuplot_run(const char *dir, const char *script, const char *out_stem) {
    if (!dir || !*dir) return em_error("report: gnuplot: no directory given");
    if (!report_valid_stem(script))
        return em_error("report: gnuplot: script name '%s' is not a plain file name "
                        "([A-Za-z0-9_.-], not starting with '.' or '-')", script ? script : "");
    if (out_stem && !report_valid_stem(out_stem))
        return em_error("report: gnuplot: output stem '%s' is not a plain file name", out_stem);
    char exe[PATH_MAX];
    if (gnuplot_resolve(exe, sizeof exe)) return -1;

    char outdef[256];
    const char *argv[6];
    int argc = 0;
    argv[argc++] = "gnuplot";
    argv[argc++] = "-d";
    if (out_stem) {
        snprintf(outdef, sizeof outdef, "out='%s'", out_stem);
        argv[argc++] = "-e";
        argv[argc++] = outdef;
    }
    argv[argc++] = script;
    argv[argc] = NULL;

    int outp[2], errp[2];   // gnuplot's stdout+stderr; the child's chdir/exec failure
    if (pipe(outp) != 0) return em_error("report: gnuplot: pipe: %s", strerror(errno));
    if (pipe2(errp, O_CLOEXEC) != 0) {
        int e = errno; close(outp[0]); close(outp[1]);
        return em_error("report: gnuplot: pipe: %s", strerror(e));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
        return em_error("report: gnuplot: fork: %s", strerror(e));
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        int fail[2] = {0, 0};
        close(outp[0]);
        close(errp[0]);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) { dup2(nul, 0); close(nul); }
        dup2(outp[1], 1);
        dup2(outp[1], 2);
        close(outp[1]);
        if (chdir(dir) != 0) fail[0] = 1, fail[1] = errno;
        else { execv(exe, (char *const *)argv); fail[0] = 2, fail[1] = errno; }
        ssize_t w = write(errp[1], fail, sizeof fail);
        (void)w;
        _exit(127);
    }
    close(outp[1]);
    close(errp[1]);
    // Keep the last part of gnuplot's output for the error message.
    char tail[1536];
    size_t nt = 0;
    char buf[4096];
    for (;;) {
        ssize_t r = read(outp[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; i++) {
            if (nt == sizeof tail - 1) { memmove(tail, tail + 512, nt - 512); nt -= 512; }
            tail[nt++] = buf[i];
        }
    }
    tail[nt] = 0;
    close(outp[0]);
    int fail[2] = {0, 0};
    ssize_t got;
    do got = read(errp[0], fail, sizeof fail); while (got < 0 && errno == EINTR);
    close(errp[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return em_error("report: gnuplot: waitpid: %s", strerror(errno));
    }
    if (got == (ssize_t)sizeof fail && fail[0] == 1)
        return em_error("report: %s: cannot enter directory: %s", dir, strerror(fail[1]));
    if (got == (ssize_t)sizeof fail && fail[0] == 2)
        return em_error("report: cannot run gnuplot (%s): %s; install it with `apt-get install "
                        "gnuplot-nox`", exe, strerror(fail[1]));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    while (nt && (tail[nt - 1] == '\n' || tail[nt - 1] == ' ')) tail[--nt] = 0;
    if (WIFSIGNALED(status))
        return em_error("report: gnuplot (%s/%s) was killed by signal %d: %s", dir, script,
                        WTERMSIG(status), tail);
    return em_error("report: gnuplot failed on %s/%s (exit %d): %s", dir, script,
                    WEXITSTATUS(status), nt ? tail : "(no output)");
}

int report_gnuplot_render(const char *dir, const char *script, const char *out_stem) {
    char tmp[300], from[PATH_MAX], to[PATH_MAX];
    if (!out_stem || strlen(out_stem) > 200)
        return em_error("report: gnuplot: output stem '%s' is not a plain file name", out_stem ? out_stem : "");
    snprintf(tmp, sizeof tmp, "%s.tmp", out_stem);
    int rc = report_gnuplot_run(dir, script, tmp);
    for (int e = 0; e < 2; e++) {
        const char *ext = e ? "svg" : "png";
        snprintf(from, sizeof from, "%s/%s.%s", dir, tmp, ext);
        snprintf(to, sizeof to, "%s/%s.%s", dir, out_stem, ext);
        if (!rc && rename(from, to) != 0)
            rc = em_error("report: cannot rename %s to %s: %s", from, to, strerror(errno));
        remove(from);
    }
    return rc;
}
