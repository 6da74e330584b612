// report: figures (gnuplot, PNG and SVG) and the HTML report. Data-driven: the caller gathers
// the numbers and describes each figure as series of points; only report_ladder (at the end)
// knows a ladder, and it reads the registry through src/ladder's grid and analysis.
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

// ---- heatmaps (matrix figures) ---------------------------------------------------------
// A layer x column heatmap (ablation, patching): v (rows, cols) row-major, row 0 = layer 0
// at the bottom, NaN cells left blank; colours blue-white-red, symmetric around 0 (cbrange
// +-max |v|). xtics: cols labels, or NULL for the column numbers.
typedef struct {
    const char *name;                   // file stem
    const char *title, *xlabel, *ylabel;
    const double *v;
    int rows, cols;
    const char *const *xtics;
} Heatmap;
// Writes dir/NAME.{dat,gp} and renders NAME.{png,svg} (dir is created). Returns 0; 1 when
// gnuplot cannot be found (NAME.dat and NAME.gp are written, the figure is skipped: remake it
// with `gnuplot NAME.gp` later); -1 with an em_error() message.
int report_heatmap(const char *dir, const Heatmap *h);
// The logit lens: dir/lens.{dat,gp,png,svg}, the probability p (L, T) per (layer, position),
// 0..1 in viridis; labels: the T input tokens as they should read (one line each); target:
// the token followed (its text), or NULL when p is the top-1 probability. Needs gnuplot
// (checked before anything is written). Returns 0 or -1 with em_error().
int report_lens_figure(const char *dir, const float *p, int L, int T, const char *const *labels,
                       const char *target);
// Attention patterns: dir/attention.{dat,gp,png,svg}, a grid of L x NH heatmaps of att
// (L, NH, T, T) (rows: query, columns: key); labels (T, may be NULL) name the tokens on
// both axes while T <= 24. Needs gnuplot. Returns 0 or -1 with em_error().
int report_attention_figure(const char *dir, const float *att, int L, int NH, int T,
                            const char *const *labels);

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

// ---- the ladder's report ------------------------------------------------------------
// Analyses the ladder in DIR (ladder_analyze: DIR/analysis.json) and draws its figures into
// DIR/report/ (exact match against size and compute, the four-metric "mirage", the loss power
// law, exact match and per-token accuracy over training, Schaeffer's prediction against the
// observation; with a second axis, exact match for each of its values) and DIR/report.html
// (what came out, the figures, the numbers per size, the machines the runs were made on).
// Returns 0, or -1 with an em_error() message (gnuplot missing: nothing is written).
int report_ladder(const char *dir);
// The section on emergence over training time (overtime_report.c), when the ladder has dense
// measurements: ladder_overtime (DIR/overtime.json), figures over steps into fdir, and the
// section in h. Returns 0 (also when there is nothing to show) or -1 with em_error().
int report_overtime(ReportHtml *h, const char *dir, const char *fdir);

#endif
