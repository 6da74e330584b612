// report/heatmap: matrix figures (gnuplot `matrix with image`): the layer x column heatmap of
// ablation and patching, the logit lens (layer x position) and the grid of attention patterns.
// Each builder writes NAME.dat and NAME.gp atomically and renders NAME.png and NAME.svg through
// NAME.tmp.{png,svg}, renamed on success (see report.h).
#include "report/report.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report_impl.h"

// A gnuplot single-quoted string: a ' is doubled.
static void gp_quote(FILE *o, const char *s) {
    fputc('\'', o);
    for (; *s; s++) { if (*s == '\'') fputc('\'', o); fputc(*s, o); }
    fputc('\'', o);
}

// Writes dir/name.dat and dir/name.gp (atomically), from the memstream buffers d and s.
static int write_pair(const char *dir, const char *name, const char *d, size_t dn, const char *s,
                      size_t sn) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s.dat", dir, name) >= (int)sizeof path)
        return em_error("report: %s: directory path too long", dir);
    if (write_file_atomic(path, d, dn)) return -1;
    snprintf(path, sizeof path, "%s/%s.gp", dir, name);
    return write_file_atomic(path, s, sn);
}

static int check_name(const char *dir, const char *name) {
    if (!dir || !*dir) return em_error("report: %s: no directory given", name ? name : "heatmap");
    if (!report_valid_stem(name))
        return em_error("report: heatmap name '%s' is not a plain file stem ([A-Za-z0-9_.-], "
                        "at most 200 bytes, not starting with '.' or '-')", name ? name : "(null)");
    return make_dir(dir);
}

// ---- layer x column heatmap ----------------------------------------------------------------
int report_heatmap(const char *dir, const Heatmap *h) {
    if (check_name(dir, h->name)) return -1;
    if (h->rows < 1 || h->cols < 1)
        return em_error("report: heatmap '%s': %d x %d cells, expected at least 1 x 1", h->name,
                        h->rows, h->cols);
    const char *stem = h->name;
    int rows = h->rows, cols = h->cols;
    char *d = NULL, *s = NULL;
    size_t dn = 0, sn = 0;
    FILE *o = open_memstream(&d, &dn);
    if (!o) return em_error("report: %s: out of memory", stem);
    double mx = 0.0;
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            double v = h->v[r * cols + c];
            if (isfinite(v)) { fprintf(o, "%s%.6g", c ? " " : "", v); if (fabs(v) > mx) mx = fabs(v); }
            else fprintf(o, "%sNaN", c ? " " : "");
        }
        fputc('\n', o);
    }
    fclose(o);
    if (mx == 0.0) mx = 1.0;   // colours symmetric around 0
    o = open_memstream(&s, &sn);
    if (!o) { free(d); return em_error("report: %s: out of memory", stem); }
    fprintf(o, "# gnuplot %s.gp  remakes %s.png and %s.svg from %s.dat (rows: layers)\n"
               "if (!exists(\"out\")) out = '%s'\nset encoding utf8\n"
               "do for [fmt in \"png svg\"] {\n"
               "  if (fmt eq \"png\") {\n"
               "    set terminal pngcairo size %d,%d noenhanced font 'DejaVu Sans,12' background '#ffffff'\n"
               "  } else {\n"
               "    set terminal svg size %d,%d noenhanced font 'DejaVu Sans,12' background '#ffffff'\n"
               "  }\n  set output out.'.'.fmt\n  set title ",
            stem, stem, stem, stem, stem, 260 + 60 * cols, 200 + 60 * rows, 260 + 60 * cols, 200 + 60 * rows);
    gp_quote(o, h->title ? h->title : "");
    fputs("\n  set xlabel ", o);
    gp_quote(o, h->xlabel ? h->xlabel : "");
    fputs("\n  set ylabel ", o);
    gp_quote(o, h->ylabel ? h->ylabel : "");
    fprintf(o, "\n  set tics out nomirror\n"
               "  set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
               "  set cbrange [%g:%g]\n  set xrange [-0.5:%d.5]\n  set yrange [-0.5:%d.5]\n"
               "  set ytics 1\n", -mx, mx, cols - 1, rows - 1);
    if (h->xtics) {
        fputs("  set xtics (", o);
        for (int c = 0; c < cols; c++) { if (c) fputs(", ", o); gp_quote(o, h->xtics[c]); fprintf(o, " %d", c); }
        fputs(")\n", o);
    } else {
        fputs("  set xtics 1\n", o);
    }
    fprintf(o, "  plot '%s.dat' matrix with image notitle\n  unset output\n}\n", stem);
    fclose(o);
    int rc = write_pair(dir, stem, d, dn, s, sn);
    free(d);
    free(s);
    if (rc) return -1;
    if (!report_gnuplot_available()) return 1;   // the .dat and .gp stay, for later
    return rp_render(dir, stem);
}

// ---- logit lens and attention patterns -----------------------------------------------------
static const char *const TERMS =
    "do for [k=1:2] {\n"
    "  if (k == 1) { set terminal pngcairo size W,H font 'DejaVu Sans,10'; set output out.'.png' }\n"
    "  else { set terminal svg size W,H font 'DejaVu Sans,10'; set output out.'.svg' }\n";
static const char *const VIRIDIS =
    "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')";

// "set <ax>tics ('a' 0, 'b' 1, ...)" without the closing part
static void tics(FILE *o, char ax, const char *const *labels, int n) {
    fprintf(o, "set %ctics (", ax);
    for (int t = 0; t < n; t++) {
        fputs(t ? ", " : "", o);
        gp_quote(o, labels[t]);
        fprintf(o, " %d", t);
    }
}

int report_lens_figure(const char *dir, const float *p, int L, int T, const char *const *labels,
                       const char *target) {
    if (check_name(dir, "lens")) return -1;
    if (rp_gnuplot_check()) return -1;   // before writing anything
    char *d = NULL, *s = NULL;
    size_t dn = 0, sn = 0;
    FILE *o = open_memstream(&d, &dn);
    if (!o) return em_error("report: lens: out of memory");
    for (int l = 0; l < L; l++) {   // one matrix row per layer, one column per position
        for (int t = 0; t < T; t++) fprintf(o, "%s%.6f", t ? " " : "", p[(size_t)l * T + t]);
        fputc('\n', o);
    }
    fclose(o);
    int W = 240 + 28 * T, H = 160 + 36 * L;
    if (W < 640) W = 640;
    if (H < 400) H = 400;
    o = open_memstream(&s, &sn);
    if (!o) { free(d); return em_error("report: lens: out of memory"); }
    fprintf(o, "W = %d; H = %d\nset termoption noenhanced\n", W, H);
    tics(o, 'x', labels, T);
    fputs(")\nset ytics 1\nset xlabel 'position (input token)'\nset ylabel 'layer (block output)'\n"
          "set title ", o);
    if (target) {
        char *title = NULL;
        size_t tn = 0;
        FILE *t = open_memstream(&title, &tn);
        if (t) { fprintf(t, "logit lens: p('%s')", target); fclose(t); }
        gp_quote(o, title ? title : "logit lens");
        free(title);
    } else {
        gp_quote(o, "logit lens: probability of the top-1 token");
    }
    fprintf(o, "\nset cbrange [0:1]\nset cblabel 'probability'\n%s\n"
               "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset tics out\n", VIRIDIS, T - 1, L - 1);
    fprintf(o, "%s  plot 'lens.dat' matrix with image notitle\n  unset output\n}\n", TERMS);
    fclose(o);
    int rc = write_pair(dir, "lens", d, dn, s, sn);
    free(d);
    free(s);
    return rc ? -1 : rp_render(dir, "lens");
}

int report_attention_figure(const char *dir, const float *att, int L, int NH, int T,
                            const char *const *labels) {
    if (check_name(dir, "attention")) return -1;
    if (rp_gnuplot_check()) return -1;
    char *d = NULL, *s = NULL;
    size_t dn = 0, sn = 0;
    FILE *o = open_memstream(&d, &dn);
    if (!o) return em_error("report: attention: out of memory");
    for (int lh = 0; lh < L * NH; lh++) {   // one block per head, two blank lines between
        for (int t = 0; t < T; t++) {
            for (int u = 0; u < T; u++)
                fprintf(o, "%s%.5f", u ? " " : "", att[((size_t)lh * T + t) * T + u]);
            fputc('\n', o);
        }
        fputs("\n\n", o);
    }
    fclose(o);
    o = open_memstream(&s, &sn);
    if (!o) { free(d); return em_error("report: attention: out of memory"); }
    fprintf(o, "W = %d; H = %d\nset termoption noenhanced\n", 60 + NH * 260, 80 + L * 240);
    if (labels && T <= 24) {   // token labels only while they stay readable
        for (int ax = 0; ax < 2; ax++) {
            tics(o, ax ? 'y' : 'x', labels, T);
            fputs(") font ',8'\n", o);
        }
    }
    fprintf(o, "set cbrange [0:1]\n%s\nunset colorbox\nset tics out\nset size ratio -1\n"
               "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n%s"
               "  set multiplot layout %d,%d title 'attention patterns (rows: query, columns: key)'\n"
               "  do for [l=0:%d] { do for [h=0:%d] {\n"
               "    set title sprintf('L%%d H%%d', l, h)\n"
               "    plot 'attention.dat' index (l*%d+h) matrix with image notitle\n"
               "  } }\n  unset multiplot\n  unset output\n}\n",
            VIRIDIS, T - 1, T - 1, TERMS, L, NH, L - 1, NH - 1, NH);
    fclose(o);
    int rc = write_pair(dir, "attention", d, dn, s, sn);
    free(d);
    free(s);
    return rc ? -1 : rp_render(dir, "attention");
}
