// report/sweep_report: the figures and sections of a ladder's report that its experiments
// add (ladder/sweep_analysis.h): the threshold against the learning rate, two training tasks
// by size and out of distribution, the loss power law on text, multiple-choice scores.
// Used by report_ladder; not for other callers.
#ifndef EMERGENT_REPORT_SWEEP_REPORT_H
#define EMERGENT_REPORT_SWEEP_REPORT_H

#include "ladder/sweep_analysis.h"
#include "report/report.h"

// Computes the experiments of the ladder in dir (ladder_experiments: DIR/experiments.json),
// draws their figures into fdir and appends their sections to h. Returns 0, or -1 with
// em_error().
int report_experiments(const char *dir, const char *fdir, const LadderAnalysis *a,
                       ReportHtml *h);

#endif
