// report/contam_report: exact match over all, clean and dirty items (contam_report.h).
#include "report/contam_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *const part_name[LC_NUM] = {"all items", "clean items", "dirty items"};
static const uint32_t part_color[LC_NUM] = {REPORT_RGB(0x000000), REPORT_RGB(0x0072B2),
                                            REPORT_RGB(0xD55E00)};

static void value_title(const SweepContam *x, const ContamPart *p, char *b, size_t n) {
    if (isfinite(p->value)) snprintf(b, n, "%s = %g", x->sweep_name, p->value);
    else snprintf(b, n, "%.120s", x->task);
}

// One panel per sweep value: exact match against size over all, clean and dirty items.
static int fig_parts(const char *fdir, const SweepContam *x) {
    Figure *pan = xcalloc((size_t)x->n, sizeof *pan);
    Series (*ss)[LC_NUM] = xcalloc((size_t)x->n, sizeof *ss);
    char (*title)[160] = xcalloc((size_t)x->n, sizeof *title);
    for (int v = 0; v < x->n; v++) {
        const ContamPart *p = &x->p[v];
        for (int l = 0; l < LC_NUM; l++)
            ss[v][l] = (Series){.label = part_name[l], .x = p->params, .y = p->em[l],
                                .n = p->n_sizes, .style = SERIES_MEAN, .ylo = p->lo[l],
                                .yhi = p->hi[l], .color = part_color[l]};
        value_title(x, p, title[v], sizeof title[v]);
        pan[v] = (Figure){.title = title[v], .xlabel = "parameters", .ylabel = "exact match",
                          .logx = 1, .ymin = 0, .ymax = 1, .series = ss[v], .n_series = LC_NUM};
    }
    int rc = report_panels(fdir, "exact_match_clean_dirty", "Exact match against size, clean "
                           "vs dirty", pan, x->n, x->n > 1 ? (x->n > 2 ? 3 : 2) : 1, NULL);
    free(pan);
    free(ss);
    free(title);
    return rc;
}

// all - clean against size, one line per sweep value, with its interval as a band.
static int fig_diff(const char *fdir, const SweepContam *x) {
    Series *s = xcalloc((size_t)x->n, sizeof *s);
    char (*lab)[160] = xcalloc((size_t)x->n, sizeof *lab);
    for (int v = 0; v < x->n; v++) {
        const ContamPart *p = &x->p[v];
        value_title(x, p, lab[v], sizeof lab[v]);
        s[v] = (Series){.label = lab[v], .x = p->params, .y = p->diff, .n = p->n_sizes,
                        .style = SERIES_MEAN, .ylo = p->diff_lo, .yhi = p->diff_hi,
                        .color = report_color(v)};
    }
    Figure f = {.name = "exact_match_all_minus_clean",
                .title = "What the dirty items add: exact match over all items minus clean items",
                .xlabel = "parameters", .ylabel = "exact match, all - clean", .logx = 1,
                .ymin = NAN, .ymax = NAN, .series = s, .n_series = x->n};
    int rc = report_figure(fdir, &f);
    free(s);
    free(lab);
    return rc;
}

// The memorisation probe against size, one line per sweep value, with its interval.
static int fig_memo(const char *fdir, const SweepContam *x) {
    Series *s = xcalloc((size_t)x->n, sizeof *s);
    char (*lab)[160] = xcalloc((size_t)x->n, sizeof *lab);
    for (int v = 0; v < x->n; v++) {
        const ContamPart *p = &x->p[v];
        if (isfinite(p->value)) snprintf(lab[v], sizeof lab[v], "%s = %g", x->sweep_name, p->value);
        else snprintf(lab[v], sizeof lab[v], "memorised");
        s[v] = (Series){.label = lab[v], .x = p->params, .y = p->memo, .n = p->n_sizes,
                        .style = SERIES_MEAN, .ylo = p->memo_lo, .yhi = p->memo_hi,
                        .color = report_color(v)};
    }
    Figure f = {.name = "memorized_vs_size", .title = "Training spans reproduced verbatim "
                "(extraction) against size", .xlabel = "parameters",
                .ylabel = "fraction of spans memorised", .logx = 1, .ymin = 0, .ymax = NAN,
                .series = s, .n_series = x->n};
    int rc = report_figure(fdir, &f);
    free(s);
    free(lab);
    return rc;
}

void report_contam_section(ReportHtml *h, const char *fdir, const SweepContam *x, int *rc) {
    html_h2(h, x->split ? "Seen and unseen items" : "Memorisation");
    html_p(h, "%s", x->text);
    if (x->has_memo) {
        *rc |= fig_memo(fdir, x);
        html_figure(h, "report/memorized_vs_size.png",
                    "The fraction of sampled training spans whose continuation greedy decoding "
                    "reproduces verbatim from their prefix, against size: seed means, bands: "
                    "the union of the runs' 95% bootstrap intervals and the seed values.");
    }
    if (!x->split) return;
    *rc |= fig_parts(fdir, x);
    html_figure(h, "report/exact_match_clean_dirty.png",
                "Exact match against size over all items, the clean items (not found in the "
                "point's training data by the n-gram overlap index) and the dirty ones, one "
                "panel per sweep value: seed means, bands: the union of the runs' 95% item "
                "intervals and the seed values.");
    *rc |= fig_diff(fdir, x);
    html_figure(h, "report/exact_match_all_minus_clean.png",
                "Exact match over all items minus over clean items against size (the dirty "
                "items' contribution), seed mean with a 95% interval over seeds and items.");
}
