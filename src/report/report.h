// report: figures (gnuplot, PNG and SVG) and the HTML report. Data-driven: the caller gathers
// the numbers (from the registry and the analysis) and describes each figure as series of
// points; nothing here reads the registry.
//
// Files. report_figure(dir, f) writes, in dir:
//   NAME.dat   the data, one gnuplot block per series (columns x y [ylo yhi]), with a comment
//              naming the series;
//   NAME.gp    the gnuplot script, kept so that a user can tweak it and re-run it with
//              `cd dir && gnuplot NAME.gp` (it reads NAME.dat by relative path);
//   NAME.png   pngcairo, 1000x650 (panels: 520x440 per panel), DejaVu Sans;
//   NAME.svg   the same figure as SVG.
// Outputs are atomic: the .dat and .gp go through write_file_atomic, gnuplot renders into
// NAME.tmp.png / NAME.tmp.svg, which are renamed on success and removed on failure.
// gnuplot runs as a child process in dir (fork/exec, no shell: paths never pass through a
// command line interpreter); NAME must be a plain file stem ([A-Za-z0-9_.-], not starting
// with '.' or '-'), which is what makes the relative references in the script safe.
//
// Look. Titles, axis labels and legend entries are drawn literally (gnuplot's enhanced-text
// markup is off for them: "per_digit" stays as written; UTF-8 is fine). Ranges are computed
// from the data (padded a little, so points never sit on the frame) unless fixed by
// ymin/ymax; log axes get ticks at powers of ten (10^4, 10^5, ... or 1, 10, 100 near 1), or
// within less than a decade at 1-2-5 multiples or even steps. Points that cannot be drawn (NaN,
// infinities, values <= 0 on a log axis) are left out. A figure without a single drawable
// point still renders, with "no data" in the middle, so that one missing metric does not
// fail a whole report.
#ifndef EMERGENT_REPORT_H
#define EMERGENT_REPORT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

// ---- colours ------------------------------------------------------------------
// A colour is REPORT_RGB(0xRRGGBB); 0 means "automatic" (so a zero-initialised Series gets
// one). Automatic colours: a seed series (style 0) takes the colour of the next mean series
// (style 1) after it in the array, so "seeds, then their mean" come out as one hue; every
// other automatic series takes the next colour of the categorical palette (report_color).
#define REPORT_RGB(hex) (0x1000000u | (uint32_t)(hex))
// The categorical palette (Okabe-Ito, colour-blind safe, without its yellow), i-th entry,
// cycling: for unrelated lines.
uint32_t report_color(int i);
// A sequential palette for ordered things (model sizes): size i of n, dark blue-purple for
// the smallest to orange for the largest (matplotlib's plasma, 0 .. 0.82). Use it for every
// figure that shows sizes, so that a size has one colour across the whole report.
uint32_t report_size_color(int i, int n);

// ---- figures --------------------------------------------------------------------
enum {
    SERIES_SEED = 0,    // thin, semi-transparent line with small points (one seed)
    SERIES_MEAN = 1,    // bold line with points (the mean over seeds)
    SERIES_FIT = 2,     // dashed line (a fit or a prediction)
    SERIES_POINTS = 3,  // points only
};

typedef struct {
    const char *label;          // legend entry; NULL or "" = not in the legend
    const double *x, *y;        // n points, drawn in the given order
    int n;
    int style;                  // SERIES_*
    const double *ylo, *yhi;    // optional band (both or neither): a filled, translucent
                                // area in the series' colour, drawn beneath every line
    uint32_t color;             // REPORT_RGB(0xRRGGBB), or 0 = automatic (see above)
} Series;

typedef struct {
    const char *name;           // file stem, e.g. "exact_match_vs_params" (ignored in panels)
    const char *title, *xlabel, *ylabel;   // NULL = none; say the units in the labels
    int logx, logy;
    double ymin, ymax;          // NAN = from the data; either may be fixed alone. A range
                                // with ymin >= ymax (e.g. both 0 in a zero-initialised
                                // Figure) or ymin <= 0 on a log axis counts as not fixed.
    const Series *series;
    int n_series;
    const char *note;           // caption for the HTML (html_figure_of uses it)
} Figure;

// Writes dir/NAME.{dat,gp,png,svg} (see the top of this file). The legend goes inside, in a
// corner where it covers no data, else (or with more than 8 entries) outside on the right.
// Returns 0, or -1 with an em_error() message: invalid input (which series, which field), a
// file that cannot be written, gnuplot missing (checked first, so that nothing is written;
// the message names the package to install, gnuplot-nox) or failing (with its own message).
int report_figure(const char *dir, const Figure *f);

// A multi-panel figure (gnuplot multiplot), rows of cols panels under one title, written as
// dir/name.{dat,gp,png,svg}; each panel is drawn from a Figure (its name is ignored). When
// every panel has the same logx and the same xlabel, they share one x range (the union of
// their data), so that panels side by side read on the same axis, as the "mirage" figure
// needs: exact match | per-digit accuracy | edit distance | target log-probability against
// size. When every panel
// has the same legend entries the legend is drawn once, in the panel and corner where it
// covers the fewest points; else each panel has its own, in its emptiest corner.
// 1 <= n_panels <= 16, 1 <= cols <= n_panels. note is for the caller's HTML caption (may be
// NULL). A title (NULL = none) is drawn above the grid.
int report_panels(const char *dir, const char *name, const char *title, const Figure *panels,
                  int n_panels, int cols, const char *note);

// ---- gnuplot ----------------------------------------------------------------------
// Which gnuplot to run: report_set_gnuplot(path) if set (NULL restores the default), else the
// environment variable GNUPLOT, else "gnuplot" on PATH. A path with a '/' is used as is.
void report_set_gnuplot(const char *path);
// 1 if that gnuplot can be found and is executable, else 0 (for tests and --help texts).
int report_gnuplot_available(void);
// Runs `gnuplot -d SCRIPT` in dir (-d: the user's ~/.gnuplot is not read, so figures do not
// depend on who made them), stdin from /dev/null; with out_stem set, also defines the
// gnuplot variable out = 'OUT_STEM' first (the scripts report_figure writes name their
// outputs out.'.png' and out.'.svg'). script and out_stem are plain file names as for NAME.
// Returns 0, or -1 with an em_error() message that includes the end of gnuplot's output.
int report_gnuplot_run(const char *dir, const char *script, const char *out_stem);
// report_gnuplot_run for a script that writes out.'.png' and out.'.svg': rendered as
// OUT_STEM.tmp.png/.svg, then renamed to OUT_STEM.png/.svg, so a figure is whole or absent.
int report_gnuplot_render(const char *dir, const char *script, const char *out_stem);
// 1 if s is a plain file name as NAME must be: [A-Za-z0-9_.-], 1..200 bytes, not starting
// with '.' or '-'.
int report_valid_stem(const char *s);

// ---- the HTML report ------------------------------------------------------------------
// A self-contained page: inline CSS, no scripts, no external resources, images by relative
// path (put report.html next to the PNGs), so it opens offline in any browser. Every text
// argument is HTML-escaped (text, captions, cells, file names). Sections (html_h2) are
// listed in a table of contents at the top; figures are numbered.
typedef struct ReportHtml ReportHtml;
ReportHtml *html_begin(const char *title);
void html_h2(ReportHtml *h, const char *title);
void html_p(ReportHtml *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// <img src=png_name> linking to the full-size image, with a numbered caption (caption may be
// NULL). A name ending in ".png" also gets links to the .svg, .gp and .dat of the same stem,
// as report_figure and report_panels write them.
void html_figure(ReportHtml *h, const char *png_name, const char *caption);
// html_figure for a Figure written by report_figure: NAME.png, captioned "title. note".
void html_figure_of(ReportHtml *h, const Figure *f);
// A table: header has ncols entries, cells has nrows*ncols, row-major; NULL cells are empty.
// Cells that read as numbers ("0.93", "-1.2e6", "12 ± 3", "85%") are right-aligned.
void html_table(ReportHtml *h, const char *const *header, int ncols, const char *const *cells,
                int nrows);
// Writes the page to path atomically and frees h (also on failure). Returns 0 or -1.
int html_end(ReportHtml *h, const char *path);

// ---- internal to src/report (shared by its files; not for callers) ---------------------
typedef struct { double lo, hi; int log; } RpRange;
int rp_gnuplot_check(void);   // 0 if gnuplot can be found, else -1 with em_error()
int rp_ok(double v, int log);                      // finite, and > 0 on a log axis
RpRange rp_range_x(const Figure *figs, int n);     // the union of the x of n figures, padded
RpRange rp_range_y(const Figure *f);               // from ymin/ymax and the data, padded
// "set logscale/xrange/xtics" lines for axis ax ('x' or 'y'), each line indented by ind.
void rp_axis(FILE *o, const char *ind, char ax, const RpRange *r);
// The inside corner for the legend with the fewest drawn points under it: 0 top left, 1 top
// right, 2 bottom left, 3 bottom right; *hits (may be NULL) = that number. plot_w, plot_h:
// the plot area in pixels. block[i] < 0 marks a series with nothing drawn.
int rp_best_corner(const Figure *f, const int *block, const RpRange *xr, const RpRange *yr,
                   double plot_w, double plot_h, int *hits);

#endif
