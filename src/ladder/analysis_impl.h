// ladder/analysis internals shared by its files (analysis.c, analysis_boot.c,
// analysis_extrap.c): not part of the module's interface.
#ifndef EMERGENT_LADDER_ANALYSIS_IMPL_H
#define EMERGENT_LADDER_ANALYSIS_IMPL_H

// idx[0..n-1] = the order that sorts x ascending. Fails, naming fn, on a non-finite or (if
// positive) non-positive x, or a repeated size.
int ladder_order_by_x(const char *fn, const double *x, int n, int positive, int *idx);
// Fails, naming fn and the array, on a non-finite v[i].
int ladder_check_finite(const char *fn, const char *name, const double *v, int n);
// The crossing of `level` (level <= 0: half the maximum) by y along sorted sizes lx (ln x
// ascending), in the units of x; NaN if it is not inside the ladder.
double ladder_crossing(const double *lx, const double *y, int n, double level);

#endif
