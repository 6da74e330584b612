// report internals: the axis ranges and legend placement shared by the files of src/report;
// not for callers.
#ifndef EMERGENT_REPORT_IMPL_H
#define EMERGENT_REPORT_IMPL_H

#include <stdio.h>

#include "ladder/ladder.h"
#include "report/report.h"

typedef struct { double lo, hi; int log; } RpRange;
// Renders dir/NAME.gp to NAME.png and NAME.svg (temporary names, synced, renamed).
int rp_render(const char *dir, const char *name);
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

// The ladder report's section on Schaeffer et al.'s predictions: per size, the observed exact
// match and each prediction with its interval, and the calibration error (ladder_schaeffer.c).
void rp_ladder_schaeffer(ReportHtml *h, const LadderPart *p);

#endif
