// report/figure: a Figure (or a grid of them) -> NAME.dat + NAME.gp -> gnuplot -> PNG, SVG.
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "report/report_impl.h"

#define SINGLE_W 1000
#define SINGLE_H 650
#define PANEL_W 520
#define PANEL_H 440
#define MAX_PANELS 16
#define KEY_MAX_INSIDE 8   // more legend entries than this go outside, on the right

static const char *style_name(int s) {
    static const char *names[] = {"seed", "mean", "fit", "points"};
    return s >= 0 && s <= 3 ? names[s] : "?";
}

static int validate(const Figure *f, const char *where) {
    if (!f) return em_error("report: %s: no figure given", where);
    if (f->n_series < 0 || (f->n_series > 0 && !f->series))
        return em_error("report: %s: n_series is %d with %s series array", where, f->n_series,
                        f->series ? "a" : "a NULL");
    for (int i = 0; i < f->n_series; i++) {
        const Series *s = &f->series[i];
        const char *lab = s->label ? s->label : "";
        if (s->n < 0)
            return em_error("report: %s: series %d ('%s'): n is %d, expected >= 0", where, i,
                            lab, s->n);
        if (s->n > 0 && (!s->x || !s->y))
            return em_error("report: %s: series %d ('%s'): x or y is NULL with n = %d", where,
                            i, lab, s->n);
        if (s->style < 0 || s->style > 3)
            return em_error("report: %s: series %d ('%s'): style %d is not one of 0 (seed), "
                            "1 (mean), 2 (fit), 3 (points)", where, i, lab, s->style);
        if (!s->ylo != !s->yhi)
            return em_error("report: %s: series %d ('%s'): a band needs both ylo and yhi",
                            where, i, lab);
        if (s->color && (s->color & ~0x1FFFFFFu))
            return em_error("report: %s: series %d ('%s'): color 0x%X is not REPORT_RGB(0xRRGGBB)",
                            where, i, lab, (unsigned)s->color);
    }
    return 0;
}

// Automatic colours (see report.h): seeds take the colour of the next mean after them.
static void resolve_colors(const Figure *f, uint32_t *col) {
    int next = 0;
    for (int i = 0; i < f->n_series; i++) {
        const Series *s = &f->series[i];
        col[i] = s->color ? s->color : s->style == SERIES_SEED ? 0 : report_color(next++);
    }
    for (int i = 0; i < f->n_series; i++) {
        if (col[i]) continue;
        for (int j = i + 1; j < f->n_series && !col[i]; j++)
            if (f->series[j].style == SERIES_MEAN) col[i] = col[j];
        if (!col[i]) col[i] = report_color(next++);
    }
}

// A gnuplot string expression for literal text: single-quoted, where gnuplot does no
// escapes, no backquote command substitution (double quotes would run `...` as a command)
// and no @macro expansion. A ' becomes '.sq.' (sq = "'" is set at the top of the script):
// gnuplot 5.4 mis-parses a doubled '' at the start of a string, and a "'" in the middle of
// a line confuses its macro scanner. Control characters (a newline would end the command)
// become spaces.
static void gp_str(FILE *o, const char *s) {
    fputc('\'', o);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\'') fputs("'.sq.'", o);
        else if (*p < 0x20 || *p == 0x7f) fputc(' ', o);
        else fputc(*p, o);
    }
    fputc('\'', o);
}

// Text in a data-file comment: control characters become spaces.
static void gp_comment(FILE *o, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, o);
}

// Writes the drawable rows of every series of f as data blocks numbered from *nblock on;
// block[i] = the block of series i, or -1 when it has no drawable point.
static void write_blocks(FILE *d, const Figure *f, int *block, int *nblock) {
    for (int i = 0; i < f->n_series; i++) {
        const Series *s = &f->series[i];
        block[i] = -1;
        int first = 1;
        for (int k = 0; k < s->n; k++) {
            double x = s->x[k], y = s->y[k];
            if (!rp_ok(x, f->logx) || !rp_ok(y, f->logy)) continue;
            if (first) {
                fprintf(d, "# block %d: ", *nblock);
                if (f->title) { gp_comment(d, f->title); fputs(" / ", d); }
                fprintf(d, "series %d (%s) ", i, style_name(s->style));
                gp_comment(d, s->label ? s->label : "");
                fprintf(d, "\n# x y%s\n", s->ylo ? " ylo yhi" : "");
                block[i] = (*nblock)++;
                first = 0;
            }
            fprintf(d, "%.10g %.10g", x, y);
            if (s->ylo) {
                double lo = s->ylo[k], hi = s->yhi[k];
                fprintf(d, " %.10g %.10g", rp_ok(lo, f->logy) ? lo : y,
                        rp_ok(hi, f->logy) ? hi : y);
            }
            fputc('\n', d);
        }
        if (!first) fputs("\n\n", d);
    }
}

static int legend_entries(const Figure *f, const int *block) {
    int n = 0;
    for (int i = 0; i < f->n_series; i++)
        if (block[i] >= 0 && f->series[i].label && f->series[i].label[0]) n++;
    return n;
}

// 1 if a and b have the same legend entries in the same order.
static int same_legend(const Figure *a, const int *ba, const Figure *b, const int *bb) {
    int i = 0, j = 0;
    for (;;) {
        while (i < a->n_series && !(ba[i] >= 0 && a->series[i].label && a->series[i].label[0])) i++;
        while (j < b->n_series && !(bb[j] >= 0 && b->series[j].label && b->series[j].label[0])) j++;
        if (i == a->n_series || j == b->n_series) return i == a->n_series && j == b->n_series;
        if (strcmp(a->series[i].label, b->series[j].label) != 0) return 0;
        i++, j++;
    }
}

static void emit_rgb(FILE *o, uint32_t col, unsigned alpha_transparency) {
    fprintf(o, "lc rgb '#%02X%06X'", alpha_transparency, (unsigned)(col & 0xFFFFFF));
}

// The settings and the plot command of one panel; ind = indentation inside the do-for loop.
static void emit_plot(FILE *o, const char *ind, const char *dat, const Figure *f,
                      const RpRange *xr, const RpRange *yr, const int *block,
                      const uint32_t *col, int key) {
    fprintf(o, "%sset title ", ind);
    gp_str(o, f->title);
    fprintf(o, " noenhanced\n%sset xlabel ", ind);
    gp_str(o, f->xlabel);
    fprintf(o, " noenhanced\n%sset ylabel ", ind);
    gp_str(o, f->ylabel);
    fprintf(o, " noenhanced\n");
    rp_axis(o, ind, 'x', xr);
    rp_axis(o, ind, 'y', yr);
    static const char *corners[] = {"top left", "top right", "bottom left", "bottom right"};
    if (key < 0) fprintf(o, "%sunset key\n", ind);
    else if (key >= 4) fprintf(o, "%sset key outside right top vertical Left reverse\n", ind);
    else fprintf(o, "%sset key inside %s vertical Left reverse\n", ind, corners[key]);

    int drawn = 0;
    for (int i = 0; i < f->n_series; i++) drawn += block[i] >= 0;
    if (!drawn) {
        fprintf(o, "%sset label 1 'no data' at graph 0.5, graph 0.5 center tc rgb '#888888' "
                   "font ',16'\n%splot NaN notitle\n%sunset label 1\n", ind, ind, ind);
        return;
    }
    fprintf(o, "%splot \\\n", ind);
    int first = 1;
    // Bands first, beneath every line.
    for (int i = 0; i < f->n_series; i++) {
        if (block[i] < 0 || !f->series[i].ylo) continue;
        fprintf(o, "%s%s  '%s' index %d using 1:3:4 with filledcurves ", first ? "" : ", \\\n",
                ind, dat, block[i]);
        emit_rgb(o, col[i], 0);
        fputs(" fs transparent solid 0.16 noborder notitle", o);
        first = 0;
    }
    for (int i = 0; i < f->n_series; i++) {
        if (block[i] < 0) continue;
        const Series *s = &f->series[i];
        fprintf(o, "%s%s  '%s' index %d using 1:2 ", first ? "" : ", \\\n", ind, dat, block[i]);
        switch (s->style) {
        case SERIES_SEED: fputs("with linespoints lw 1.2 pt 7 ps 0.45 ", o);
                          emit_rgb(o, col[i], 0x70); break;
        case SERIES_MEAN: fputs("with linespoints lw 3 pt 7 ps 0.95 ", o);
                          emit_rgb(o, col[i], 0); break;
        case SERIES_FIT:  fputs("with lines lw 2 dt (9, 6) ", o);
                          emit_rgb(o, col[i], 0); break;
        default:          fputs("with points pt 7 ps 1.25 ", o);
                          emit_rgb(o, col[i], 0); break;
        }
        if (s->label && s->label[0]) {
            fputs(" title ", o);
            gp_str(o, s->label);
            fputs(" noenhanced", o);
        } else {
            fputs(" notitle", o);
        }
        first = 0;
    }
    fputc('\n', o);
}

static void emit_head(FILE *o, const char *name, int w, int h) {
    fprintf(o, "# %s.gp: written by emergent (src/report). Re-run it in this folder with\n"
               "#   gnuplot %s.gp\n"
               "# to remake %s.png and %s.svg from %s.dat (one block per series: x y [ylo yhi]).\n"
               "if (!exists(\"out\")) out = '%s'\n"
               "sq = \"'\"   # a single quote, for the texts that have one\n"
               "set encoding utf8\n"
               "do for [fmt in \"png svg\"] {\n"
               "  if (fmt eq \"png\") {\n"
               "    set terminal pngcairo size %d,%d enhanced font 'DejaVu Sans,12' "
               "background '#ffffff'\n"
               "  } else {\n"
               "    set terminal svg size %d,%d enhanced font 'DejaVu Sans,12' "
               "background '#ffffff'\n"
               "  }\n"
               "  set output out.'.'.fmt\n"
               "  set border 3 lw 1.2 lc rgb '#333333'\n"
               "  set tics nomirror out scale 0.7\n"
               "  set grid xtics ytics mxtics mytics lt 1 lw 1 lc rgb '#e4e4e4', "
               "lt 1 lw 0.6 lc rgb '#f2f2f2'\n"
               "  set key samplen 2.5 spacing 1.15 box lc rgb '#cccccc' opaque\n"
               "  set title font ',14'\n",
            name, name, name, name, name, name, w, h, w, h);
}

static void emit_tail(FILE *o) { fputs("  unset output\n}\n", o); }

// gnuplot's output on disk before it is renamed into place, as write_file_atomic does.
static int sync_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

// Everything both entry points share: figs[0..n) drawn as rows of cols panels (n == 1 and
// title == NULL for a single figure).
// Runs dir/NAME.gp, which draws NAME.tmp.png and NAME.tmp.svg, then syncs and renames
// them to NAME.png and NAME.svg: a figure is replaced whole or not at all.
int rp_render(const char *dir, const char *name) {
    char script[256], tmp[256], from[PATH_MAX], to[PATH_MAX];
    static const char *const ext[2] = {"png", "svg"};
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    if (report_gnuplot_run(dir, script, tmp)) {
        for (int e = 0; e < 2; e++) {
            snprintf(from, sizeof from, "%s/%s.%s", dir, tmp, ext[e]);
            remove(from);
        }
        return -1;
    }
    for (int e = 0; e < 2; e++) {
        snprintf(from, sizeof from, "%s/%s.%s", dir, tmp, ext[e]);
        snprintf(to, sizeof to, "%s/%s.%s", dir, name, ext[e]);
        if (!file_exists(from)) return em_error("report: gnuplot wrote no %s", from);
        if (sync_file(from) || rename(from, to) != 0) {
            remove(from);
            return em_error("report: cannot sync and rename %s to %s", from, to);
        }
    }
    return 0;
}

static int render(const char *dir, const char *name, const char *title, const Figure *figs,
                  int n, int cols) {
    if (!dir || !*dir) return em_error("report: %s: no directory given", name);
    if (rp_gnuplot_check()) return -1;   // before writing anything
    char dat[256], script[256], tmp[256];
    snprintf(dat, sizeof dat, "%s.dat", name);
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(tmp, sizeof tmp, "%s.tmp", name);

    int total = 0;
    for (int p = 0; p < n; p++) total += figs[p].n_series;
    int *block = xcalloc((size_t)total + 1, sizeof *block);
    uint32_t *col = xcalloc((size_t)total + 1, sizeof *col);
    RpRange *xr = xcalloc((size_t)n, sizeof *xr), *yr = xcalloc((size_t)n, sizeof *yr);
    int *key = xcalloc((size_t)n, sizeof *key);
    char *dbuf = NULL, *sbuf = NULL;
    size_t dlen = 0, slen = 0;
    int rc = -1;

    FILE *d = open_memstream(&dbuf, &dlen);
    if (!d) { em_error("report: %s: out of memory", name); goto out; }
    fprintf(d, "# %s.dat: written by emergent (src/report); read by %s.gp\n", name, name);
    int nblock = 0;
    for (int p = 0, off = 0; p < n; off += figs[p].n_series, p++) {
        write_blocks(d, &figs[p], block + off, &nblock);
        resolve_colors(&figs[p], col + off);
    }
    fclose(d);

    // Ranges: panels with the same x axis (log or not, and its label) share one x range.
    int same_x = 1;
    for (int p = 1; p < n; p++) {
        const char *a = figs[0].xlabel ? figs[0].xlabel : "";
        const char *b = figs[p].xlabel ? figs[p].xlabel : "";
        same_x &= !figs[p].logx == !figs[0].logx && strcmp(a, b) == 0;
    }
    for (int p = 0; p < n; p++) {
        xr[p] = same_x ? rp_range_x(figs, n) : rp_range_x(&figs[p], 1);
        yr[p] = rp_range_y(&figs[p]);
    }

    // One legend for all panels when they all list the same entries.
    int shared = n > 1;
    for (int p = 1, off = figs[0].n_series; p < n && shared; off += figs[p].n_series, p++)
        shared = same_legend(&figs[0], block, &figs[p], block + off);

    FILE *o = open_memstream(&sbuf, &slen);
    if (!o) { em_error("report: %s: out of memory", name); goto out; }
    int rows = (n + cols - 1) / cols;
    if (n == 1 && !title) emit_head(o, name, SINGLE_W, SINGLE_H);
    else emit_head(o, name, cols * PANEL_W, rows * PANEL_H + 40);
    if (n > 1 || title) {
        fprintf(o, "  set multiplot layout %d,%d title ", rows, cols);
        gp_str(o, title);
        fputs(" noenhanced font ',16'\n", o);
    }
    // Legends: -1 none, 0..3 an inside corner, 4 outside on the right.
    int single = n == 1 && !title, best_p = -1, best_c = 0, best_h = 0;
    double pw = single ? SINGLE_W - 140 : PANEL_W - 110;
    double ph = single ? SINGLE_H - 130 : PANEL_H - 110;
    for (int p = 0, off = 0; p < n; off += figs[p].n_series, p++) {
        int hits, c, entries = legend_entries(&figs[p], block + off);
        key[p] = -1;
        if (!entries) continue;
        c = rp_best_corner(&figs[p], block + off, &xr[p], &yr[p], pw, ph, &hits);
        if (shared) {
            if (best_p < 0 || hits < best_h) best_p = p, best_c = c, best_h = hits;
        } else {
            key[p] = single && (entries > KEY_MAX_INSIDE || hits > 0) ? 4 : c;
        }
    }
    if (shared && best_p >= 0) key[best_p] = best_c;
    for (int p = 0, off = 0; p < n; off += figs[p].n_series, p++) {
        if (n > 1) fprintf(o, "  # panel %d\n", p + 1);
        emit_plot(o, "  ", dat, &figs[p], &xr[p], &yr[p], block + off, col + off, key[p]);
    }
    if (n > 1 || title) fputs("  unset multiplot\n", o);
    emit_tail(o);
    fclose(o);

    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, dat) >= (int)sizeof path) {
        em_error("report: %s: directory path too long", dir);
        goto out;
    }
    if (write_file_atomic(path, dbuf, dlen)) goto out;
    snprintf(path, sizeof path, "%s/%s", dir, script);
    if (write_file_atomic(path, sbuf, slen)) goto out;
    if (rp_render(dir, name)) goto out;
    rc = 0;
out:
    free(dbuf);
    free(sbuf);
    free(block);
    free(col);
    free(xr);
    free(yr);
    free(key);
    return rc;
}

int report_figure(const char *dir, const Figure *f) {
    if (!f) return em_error("report: report_figure: no figure given");
    if (!report_valid_stem(f->name))
        return em_error("report: figure name '%s' is not a plain file stem ([A-Za-z0-9_.-], "
                        "at most 200 bytes, not starting with '.' or '-')",
                        f->name ? f->name : "(null)");
    char where[256];
    snprintf(where, sizeof where, "figure '%s'", f->name);
    if (validate(f, where)) return -1;
    return render(dir, f->name, NULL, f, 1, 1);
}

int report_panels(const char *dir, const char *name, const char *title, const Figure *panels,
                  int n_panels, int cols, const char *note) {
    (void)note;
    if (!report_valid_stem(name))
        return em_error("report: panels name '%s' is not a plain file stem ([A-Za-z0-9_.-], "
                        "at most 200 bytes, not starting with '.' or '-')", name ? name : "(null)");
    if (!panels || n_panels < 1 || n_panels > MAX_PANELS)
        return em_error("report: panels '%s': n_panels is %d, expected 1..%d", name, n_panels,
                        MAX_PANELS);
    if (cols < 1 || cols > n_panels)
        return em_error("report: panels '%s': cols is %d, expected 1..%d", name, cols, n_panels);
    for (int p = 0; p < n_panels; p++) {
        char where[300];
        snprintf(where, sizeof where, "panels '%s', panel %d", name, p);
        if (validate(&panels[p], where)) return -1;
    }
    return render(dir, name, title ? title : "", panels, n_panels, cols);
}
