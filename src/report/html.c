// report/html: a self-contained HTML page built piece by piece; every text is escaped.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "report/report.h"

struct ReportHtml {
    StrBuf body;     // everything after the table of contents
    StrBuf toc;      // <li> entries, one per h2
    char *title;
    int nsec, nfig;
};

// Text and attribute values: & < > " ' as entities; control characters other than tab and
// newline (not allowed in HTML) dropped; everything else, UTF-8 included, as is.
static void esc(StrBuf *s, const char *t) {
    for (const unsigned char *p = (const unsigned char *)(t ? t : ""); *p; p++) {
        switch (*p) {
        case '&': sb_puts(s, "&amp;"); break;
        case '<': sb_puts(s, "&lt;"); break;
        case '>': sb_puts(s, "&gt;"); break;
        case '"': sb_puts(s, "&quot;"); break;
        case '\'': sb_puts(s, "&#39;"); break;
        default:
            if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f) break;
            sb_put(s, (const char *)p, 1);
        }
    }
}

static const char *CSS =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Helvetica,"
    "Arial,sans-serif;max-width:1120px;margin:2em auto;padding:0 1.2em;color:#222;"
    "background:#fff;line-height:1.55}\n"
    "h1{font-size:1.9em;margin-bottom:.2em;border-bottom:2px solid #333;padding-bottom:.25em}\n"
    "h2{font-size:1.4em;margin-top:2.2em;border-bottom:1px solid #ccc;padding-bottom:.15em}\n"
    "nav{background:#f6f6f6;border:1px solid #e2e2e2;border-radius:4px;padding:.5em 1.2em;"
    "margin:1.2em 0}\n"
    "nav ol{margin:.3em 0;padding-left:1.4em}\n"
    "a{color:#0059a0}\n"
    "figure{margin:1.8em 0}\n"
    "figure img{max-width:100%;height:auto;display:block;border:1px solid #e6e6e6}\n"
    "figcaption{font-size:.95em;color:#444;margin-top:.5em}\n"
    "figcaption .files{font-size:.85em;color:#777;margin-left:.4em}\n"
    ".tbl{overflow-x:auto;margin:1.2em 0}\n"
    "table{border-collapse:collapse;font-size:.92em;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:.32em .75em;border-bottom:1px solid #e0e0e0;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f2f2f2;border-bottom:2px solid #bbb;white-space:nowrap}\n"
    "td.num{text-align:right;white-space:nowrap}\n"
    "tbody tr:nth-child(even){background:#fafafa}\n"
    "tbody tr:hover{background:#eef5fb}\n"
    "footer{margin-top:3em;font-size:.85em;color:#888;border-top:1px solid #e0e0e0;"
    "padding-top:.6em}\n"
    "@media print{nav{display:none}figure{break-inside:avoid}}\n";

ReportHtml *html_begin(const char *title) {
    ReportHtml *h = xcalloc(1, sizeof *h);
    const char *t = title ? title : "";
    h->title = xmalloc(strlen(t) + 1);
    strcpy(h->title, t);
    return h;
}

void html_h2(ReportHtml *h, const char *title) {
    if (!h) return;
    h->nsec++;
    sb_printf(&h->body, "<h2 id=\"s%d\">", h->nsec);
    esc(&h->body, title);
    sb_puts(&h->body, "</h2>\n");
    sb_printf(&h->toc, "<li><a href=\"#s%d\">", h->nsec);
    esc(&h->toc, title);
    sb_puts(&h->toc, "</a></li>\n");
}

void html_p(ReportHtml *h, const char *fmt, ...) {
    if (!h || !fmt) return;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { va_end(ap2); return; }
    char *buf = xmalloc((size_t)n + 1);
    vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    sb_puts(&h->body, "<p>");
    esc(&h->body, buf);
    sb_puts(&h->body, "</p>\n");
    free(buf);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

void html_figure(ReportHtml *h, const char *png_name, const char *caption) {
    if (!h || !png_name) return;
    h->nfig++;
    StrBuf *b = &h->body;
    sb_puts(b, "<figure>\n<a href=\"");
    esc(b, png_name);
    sb_puts(b, "\"><img src=\"");
    esc(b, png_name);
    sb_puts(b, "\" alt=\"");
    esc(b, caption && *caption ? caption : png_name);
    sb_printf(b, "\"></a>\n<figcaption><b>Figure %d.</b> ", h->nfig);
    esc(b, caption);
    if (ends_with(png_name, ".png")) {
        size_t stem = strlen(png_name) - 4;
        char *s = xmalloc(stem + 1);
        memcpy(s, png_name, stem);
        s[stem] = 0;
        static const char *ext[3][2] = {{".svg", "SVG"}, {".gp", "gnuplot script"},
                                        {".dat", "data"}};
        sb_puts(b, " <span class=\"files\">[");
        for (int i = 0; i < 3; i++) {
            sb_puts(b, i ? " · <a href=\"" : "<a href=\"");
            esc(b, s);
            sb_printf(b, "%s\">%s</a>", ext[i][0], ext[i][1]);
        }
        sb_puts(b, "]</span>");
        free(s);
    }
    sb_puts(b, "</figcaption>\n</figure>\n");
}

void html_figure_of(ReportHtml *h, const Figure *f) {
    if (!h || !f || !f->name) return;
    size_t n = strlen(f->name) + 5;
    char *png = xmalloc(n);
    snprintf(png, n, "%s.png", f->name);
    const char *t = f->title ? f->title : "", *note = f->note ? f->note : "";
    size_t m = strlen(t) + strlen(note) + 4;
    char *cap = xmalloc(m);
    snprintf(cap, m, "%s%s%s", t, *t && *note ? (ends_with(t, ".") ? " " : ". ") : "", note);
    html_figure(h, png, cap);
    free(png);
    free(cap);
}

// "0.93", "-1.2e6", "+3", ".5", "12 ± 3", "85%", "1,234": a sign, then a digit (or a point
// and a digit) first.
static int numeric(const char *c) {
    if (!c) return 0;
    while (*c == ' ') c++;
    if (*c == '-' || *c == '+') c++;
    else if (strncmp(c, "\xe2\x88\x92", 3) == 0) c += 3;   // U+2212 minus sign
    if (*c == '.') c++;
    return *c >= '0' && *c <= '9';
}

void html_table(ReportHtml *h, const char *const *header, int ncols, const char *const *cells,
                int nrows) {
    if (!h || ncols <= 0 || nrows < 0) return;
    StrBuf *b = &h->body;
    sb_puts(b, "<div class=\"tbl\"><table>\n");
    if (header) {
        sb_puts(b, "<thead><tr>");
        for (int j = 0; j < ncols; j++) {
            sb_puts(b, "<th>");
            esc(b, header[j]);
            sb_puts(b, "</th>");
        }
        sb_puts(b, "</tr></thead>\n");
    }
    sb_puts(b, "<tbody>\n");
    for (int i = 0; i < nrows && cells; i++) {
        sb_puts(b, "<tr>");
        for (int j = 0; j < ncols; j++) {
            const char *c = cells[(size_t)i * ncols + j];
            sb_puts(b, numeric(c) ? "<td class=\"num\">" : "<td>");
            esc(b, c);
            sb_puts(b, "</td>");
        }
        sb_puts(b, "</tr>\n");
    }
    sb_puts(b, "</tbody></table></div>\n");
}

int html_end(ReportHtml *h, const char *path) {
    if (!h) return em_error("report: html_end: no report (html_begin not called?)");
    StrBuf page = {0};
    sb_puts(&page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"emergent " EMERGENT_VERSION "\">\n<title>");
    esc(&page, h->title);
    sb_puts(&page, "</title>\n<style>\n");
    sb_puts(&page, CSS);
    sb_puts(&page, "</style>\n</head>\n<body>\n<h1>");
    esc(&page, h->title);
    sb_puts(&page, "</h1>\n");
    if (h->nsec > 1) {
        sb_puts(&page, "<nav><b>Contents</b>\n<ol>\n");
        if (h->toc.p) sb_puts(&page, h->toc.p);
        sb_puts(&page, "</ol></nav>\n");
    }
    if (h->body.p) sb_puts(&page, h->body.p);
    sb_puts(&page, "<footer>Made by emergent " EMERGENT_VERSION ". Click a figure to open it at full "
                 "size.</footer>\n</body>\n</html>\n");
    int rc = path ? write_file_atomic(path, page.p, page.n)
                  : em_error("report: html_end: no output path");
    free(page.p);
    free(h->body.p);
    free(h->toc.p);
    free(h->title);
    free(h);
    return rc;
}
