// report/contam_report: the section of a ladder's report on items seen and unseen in
// training (ladder/contam_analysis.h): exact match against size over all, clean and dirty
// items per sweep value, and all - clean by size. Used by report_experiments.
#ifndef EMERGENT_REPORT_CONTAM_REPORT_H
#define EMERGENT_REPORT_CONTAM_REPORT_H

#include "ladder/contam_analysis.h"
#include "report/report.h"

// Draws the figures into fdir and appends the section to h; *rc |= a figure's failure.
void report_contam_section(ReportHtml *h, const char *fdir, const SweepContam *x, int *rc);

#endif
