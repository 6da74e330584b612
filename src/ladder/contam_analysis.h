// ladder/contam_analysis: what a ladder's evaluations split by contamination say (the runner
// records every metric over the items seen and unseen in each point's training data as
// "NAME@clean" / "NAME@dirty", with the counts "items@clean" / "items@dirty"; runner.c).
// Per value of the second axis (the planted fraction in a leak sweep, or the one ladder),
// exact match against size over all, clean and dirty items with intervals; the part of the
// rise that the dirty items make (all - clean per size, with an interval); and the
// threshold at LADDER_ABS_LEVEL over all and over clean items, compared across the values;
// and the memorisation probe by size where the spec asked for it (eval.h, eval_memorized).
#ifndef EMERGENT_LADDER_CONTAM_ANALYSIS_H
#define EMERGENT_LADDER_CONTAM_ANALYSIS_H

#include "ladder/ladder.h"

enum { LC_ALL, LC_CLEAN, LC_DIRTY, LC_NUM };

typedef struct {
    double value;                       // the sweep value (NaN: no second axis)
    int n_sizes, seeds;                 // seeds: the most runs at one size
    double params[LADDER_MAX];
    // exact match per size over all, clean, dirty items: the seed mean and an interval, the
    // union over seeds of each run's 95% item-bootstrap interval and of the seed values
    // (NaN where no run has such items)
    double em[LC_NUM][LADDER_MAX], lo[LC_NUM][LADDER_MAX], hi[LC_NUM][LADDER_MAX];
    double dirty_items[LADDER_MAX], items[LADDER_MAX];  // mean counted dirty items, all items
    // all - clean per size (the dirty items' share of exact match): the seed mean d and
    // d -+ 1.96 sqrt(s^2 / K + sum_k se_k^2 / K^2), s^2 the seeds' sample variance (0 with one
    // seed), se_k = (n_dirty / n) sqrt(se_clean^2 + se_dirty^2) of run k (all - clean =
    // (n_dirty / n)(dirty - clean), its item standard errors treated as independent)
    double diff[LADDER_MAX], diff_lo[LADDER_MAX], diff_hi[LADDER_MAX];
    double memo[LADDER_MAX], memo_lo[LADDER_MAX], memo_hi[LADDER_MAX];  // the memorisation
                                        // probe per size (seed mean, union interval; NaN: none)
    ThresholdCI thr[2];                 // at LADDER_ABS_LEVEL over all [0] and clean [1] items
                                        // (ladder_threshold_bootstrap_items; NaN: not inside)
} ContamPart;

typedef struct {
    int present;                        // split evaluations or the memorisation probe
    int split, has_memo;                // which of the two the registry holds
    int memo_n, memo_span, memo_prefix; // the probe's spans (the spec's)
    char task[128];                     // the eval task split (the first)
    char sweep_name[16];
    int n;
    ContamPart p[LADDER_MAX];
    char text[6144];
} SweepContam;

// Reads the split exact match of the first eval task from the registry in dir (spec s, the
// spec the ladder ran, quick variant applied) into x; x->present = 0 when nothing was split.
int ladder_contam_analysis(const char *dir, const LadderSpec *s, SweepContam *x);
// x as the "contamination" object of root (nothing when x->present is 0).
struct cJSON;
void ladder_contam_json(const SweepContam *x, struct cJSON *root);

#endif
