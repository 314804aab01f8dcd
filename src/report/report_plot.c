/* report_plot: the figures of a report, drawn with PLplot's cairo driver.
 *
 * Every figure is one PLplot stream of its own (plmkstrm ... plend1), so no
 * state leaks from one figure to the next and nothing global is kept here.
 * Panels are laid out by hand (plvpor in normalised coordinates) rather than
 * with plssub, so a figure can have one title and one legend above all its
 * panels. Text given to PLplot passes through pl_text() because '#' is
 * PLplot's escape character.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot.h>

/* cmap0: 0 background, 1 text and axes, 2..11 the ten class / series colours
 * (matplotlib's tab10, the colours of the lab's plots), 12 grid lines,
 * 13/14 translucent bands of colours 2/3, 15 dark grey. */
enum { COL_BG = 0, COL_FG = 1, COL_SERIES = 2, COL_GRID = 12, COL_BAND0 = 13,
       COL_BAND1 = 14, COL_DARK = 15, COL_SEED0 = 16, COL_SEED1 = 17, N_COL0 = 18 };

static const int tab10[10][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
    {140, 86, 75}, {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

static void set_err(report_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(report_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    err->input = 0;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* Copies s into buf with PLplot's escape character '#' doubled. */
static const char *pl_text(char *buf, size_t size, const char *s)
{
    size_t j = 0;
    for (; *s && j + 2 < size; s++) {
        if (*s == '#')
            buf[j++] = '#';
        buf[j++] = *s;
    }
    buf[j] = '\0';
    return buf;
}

static int class_col(size_t c) { return COL_SERIES + (int)(c % 10); }

/* Character height relative to the cairo driver's default, which is made
 * for small pages: 0.8 of it reads well on a 1000 x 700 figure. */
#define FONT 0.8
static void chr(double scale) { plschr(0, FONT * scale); }

/* ---- one figure = one stream ----------------------------------------------- */

/* A figure being drawn. PLplot reports a failed operation ("plvpor: Invalid
 * limits", ...) through plabort, which by default prints to stderr and goes
 * on; plsError makes it write into this stream's errcode / errmsg instead
 * (per stream, nothing global), and fig_end turns it into an error. */
typedef struct fig {
    const char *path;
    double ts;          /* configured height / page height: header offsets
                           in NDC scale by it, so they stay put in pixels */
    PLINT errcode;
    char errmsg[2048];  /* plabort's messages are one short line */
} fig;

static int fig_begin(fig *g, const report_plot_cfg *c, int height, const char *path,
                     report_error *err)
{
    memset(g, 0, sizeof *g);
    g->path = path;
    g->ts = height > 0 ? (double)c->height / height : 1.0;
    /* PLplot ends the process when it cannot open its output file, so make
     * sure the path is writable first and report it the normal way. */
    FILE *probe = fopen(path, "wb");
    if (!probe) {
        set_err(err, "cannot write %s", path);
        return -1;
    }
    fclose(probe);
    PLINT strm = -1;
    plmkstrm(&strm);
    if (strm < 0) {
        set_err(err, "PLplot has no free stream for %s", path);
        return -1;
    }
    plsError(&g->errcode, g->errmsg);
    const char *dev = c->format == REPORT_FORMAT_SVG   ? "svgcairo"
                      : c->format == REPORT_FORMAT_PDF ? "pdfcairo"
                                                       : "pngcairo";
    plsdev(dev);
    plsfnam(path);
    /* For the vector devices the page is given in points; the same numbers
     * keep the proportions (and text sizes) of the PNG. */
    plspage(0., 0., c->width, height > 0 ? height : c->height, 0, 0);
    plscolbg(255, 255, 255);
    plinit();
    plscmap0n(N_COL0);
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    for (int i = 0; i < 10; i++)
        plscol0(COL_SERIES + i, tab10[i][0], tab10[i][1], tab10[i][2]);
    plscol0(COL_GRID, 225, 225, 225);
    plscol0a(COL_BAND0, tab10[0][0], tab10[0][1], tab10[0][2], 0.18);
    plscol0a(COL_BAND1, tab10[1][0], tab10[1][1], tab10[1][2], 0.18);
    plscol0(COL_DARK, 80, 80, 80);
    plscol0a(COL_SEED0, tab10[0][0], tab10[0][1], tab10[0][2], 0.45);
    plscol0a(COL_SEED1, tab10[1][0], tab10[1][1], tab10[1][2], 0.45);
    plfontld(1);
    plsmaj(0.0, 0.6);
    plsmin(0.0, 0.6);
    pladv(0);
    plcol0(COL_FG);
    return 0;
}

/* Ends the figure: -1 (err says what PLplot reported) when an operation
 * failed while drawing it. */
static int fig_end(fig *g, report_error *err)
{
    plend1();
    if (!g->errcode)
        return 0;
    char *m = g->errmsg;
    while (*m == '\n' || *m == ' ')
        m++;
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    set_err(err, "PLplot could not draw %s: %s", g->path, *m ? m : "unknown error");
    return -1;
}

/* Limits PLplot accepts: finite, hi > lo (a flat range is padded). */
static void pad_limits(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    if (*hi < *lo) {
        double t = *lo;
        *lo = *hi;
        *hi = t;
    }
    if (*hi - *lo <= 1e-12 * fmax(1.0, fabs(*lo))) {
        double pad = fabs(*lo) > 0 ? 0.05 * fabs(*lo) : 0.5;
        *lo -= pad;
        *hi += pad;
    }
}

static void window(double x0, double x1, double y0, double y1)
{
    pad_limits(&x0, &x1);
    pad_limits(&y0, &y1);
    plwind(x0, x1, y0, y1);
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most max_ticks
 * intervals on [lo, hi]; 0 (PLplot's choice) when nothing fits. */
static double tick_step(double lo, double hi, double max_ticks)
{
    double span = hi - lo;
    if (!(span > 0) || !(max_ticks >= 1))
        return 0;
    double raw = span / max_ticks;
    double p = pow(10.0, floor(log10(raw)));
    static const double m[4] = {1, 2, 5, 10};
    for (int i = 0; i < 4; i++)
        if (m[i] * p >= raw * (1 - 1e-9))
            return m[i] * p;
    return 10 * p;
}

/* Page and character size in mm: the current viewport's width and height,
 * and the current character height. */
static void vp_mm(double *w, double *h, double *ch)
{
    PLFLT xmin, xmax, ymin, ymax, def, ht;
    plgspa(&xmin, &xmax, &ymin, &ymax);
    PLFLT v0, v1, v2, v3;
    plgvpd(&v0, &v1, &v2, &v3);
    plgchr(&def, &ht);
    *w = (v1 - v0) * (xmax - xmin);
    *h = (v3 - v2) * (ymax - ymin);
    *ch = ht;
}

/* x tick step for numbers of up to `digits` characters on [lo, hi] in the
 * current viewport, so neighbouring labels never touch; y likewise (labels
 * stacked, one character height plus a gap each). */
static double x_step(double lo, double hi, int digits)
{
    double w, h, ch;
    vp_mm(&w, &h, &ch);
    /* a digit is at most ~0.8 character heights wide; 2.5 digits of gap */
    return tick_step(lo, hi, w / (ch * 0.8 * (digits + 2.5)));
}

static double y_step(double lo, double hi)
{
    double w, h, ch;
    vp_mm(&w, &h, &ch);
    return tick_step(lo, hi, h / (ch * 2.6));
}

/* Number of characters of the longest tick label of [lo, hi] at step. */
static int tick_digits(double lo, double hi, double step)
{
    char b[64];
    double m = fmax(fabs(lo), fabs(hi));
    int dec = step > 0 && step < 1 ? (int)ceil(-log10(step) - 1e-9) : 0;
    snprintf(b, sizeof b, "%.*f", dec, lo < 0 ? -m : m);
    return (int)strlen(b);
}

/* Splits label at ", " into at most max_lines lines of about width
 * characters (the last line takes what is left). Returns the number of
 * lines; out[i] are NUL-terminated. */
static int wrap_label(const char *label, double width, char out[][256], int max_lines)
{
    int n = 0;
    out[0][0] = '\0';
    const char *p = label;
    while (*p && n < max_lines) {
        const char *q = strstr(p, ", ");
        size_t part = q ? (size_t)(q - p) : strlen(p);
        size_t cur = strlen(out[n]);
        if (cur && (double)(cur + 2 + part) > width && n + 1 < max_lines) {
            n++;
            out[n][0] = '\0';
            cur = 0;
        }
        if (cur + part + 3 < 256) {
            if (cur)
                strcat(out[n], ", ");
            strncat(out[n], p, part);
        }
        p = q ? q + 2 : p + part;
    }
    return *out[0] ? n + 1 : 0;
}

/* Figure title across the top of the page. */
static void fig_title(const fig *g, const char *title, const char *subtitle)
{
    char buf[1024];
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(COL_FG);
    chr(1.25);
    plptex(0.5, 1.0 - (subtitle ? 0.038 : 0.045) * g->ts, 1.0, 0.0, 0.5,
           pl_text(buf, sizeof buf, title));
    if (subtitle) {
        chr(0.9);
        plcol0(COL_DARK);
        plptex(0.5, 1.0 - 0.075 * g->ts, 1.0, 0.0, 0.5, pl_text(buf, sizeof buf, subtitle));
    }
    chr(1.0);
    plcol0(COL_FG);
}

/* Panel layout: nrow x ncol cells below a header of `top` (NDC) and left of
 * a strip of `right` (NDC, the row labels of small multiples); margins in
 * multiples of the character height so labels never collide. */
typedef struct layout {
    int ncol, nrow;
    double top, right, left; /* NDC: header, row labels, shared y labels */
    double ml, mr, mb, mt;   /* in character heights */
} layout;

static void grid_shape(size_t n, int *ncol, int *nrow)
{
    int c = (int)ceil(sqrt((double)n));
    if (n <= 3)
        c = (int)n;
    if (c < 1)
        c = 1;
    *ncol = c;
    *nrow = (int)((n + (size_t)c - 1) / (size_t)c);
    if (*nrow < 1)
        *nrow = 1;
}

/* The layout's grid: the small-multiples grid of the shown points, or a
 * near-square one. */
static void shown_grid(const report_data *d, layout *l)
{
    if (d->facet) {
        l->ncol = (int)d->n_cols;
        l->nrow = (int)d->n_rows;
    } else {
        grid_shape(d->n_shown, &l->ncol, &l->nrow);
    }
}

/* Row and column of the i-th shown point; *bottom: no panel below it. */
static void shown_cell(const report_data *d, const layout *l, size_t i, int *row, int *col,
                       int *bottom)
{
    if (d->facet) {
        *row = (int)d->cell_row[i];
        *col = (int)d->cell_col[i];
        *bottom = 1;
        for (size_t j = 0; j < d->n_shown; j++)
            if (d->cell_col[j] == d->cell_col[i] && d->cell_row[j] > d->cell_row[i])
                *bottom = 0;
    } else {
        *row = (int)(i / (size_t)l->ncol);
        *col = (int)(i % (size_t)l->ncol);
        *bottom = i + (size_t)l->ncol >= d->n_shown;
    }
}

static void panel_viewport(const layout *l, int row, int col, double vp[4])
{
    PLFLT xmin, xmax, ymin, ymax, def, ht;
    plgspa(&xmin, &xmax, &ymin, &ymax); /* subpage in mm */
    plgchr(&def, &ht);                  /* character height in mm */
    double cx = ht / (xmax - xmin), cy = ht / (ymax - ymin);
    double w = (1.0 - l->right - l->left) / l->ncol, h = (1.0 - l->top) / l->nrow;
    double x0 = l->left + col * w, y1 = 1.0 - l->top - row * h;
    vp[0] = x0 + l->ml * cx;
    vp[1] = x0 + w - l->mr * cx;
    vp[2] = y1 - h + l->mb * cy;
    vp[3] = y1 - l->mt * cy;
}

/* Page height for nrow rows of panels of about row_px pixels each under a
 * header of header_px (at the configured width; never below its height). */
static int panels_height(const report_plot_cfg *c, int nrow, double header_px, double row_px)
{
    double scale = c->width / 1000.0;
    double h = (header_px + nrow * row_px) * scale;
    return h > c->height ? (int)ceil(h) : c->height;
}

/* Small multiples: each column's label (one line per further dimension)
 * above the top row, each row's label (the first dimension) right of the
 * last column, rotated. Lines of `header_lines` at most. */
static void facet_labels(const report_data *d, const layout *l, int header_lines, double base)
{
    char tb[512], lines[4][256];
    for (int col = 0; col < l->ncol; col++) {
        const char *lab = NULL;
        for (size_t i = 0; i < d->n_shown && !lab; i++)
            if ((int)d->cell_col[i] == col)
                lab = d->points[d->shown[i]].col_label;
        if (!lab)
            continue;
        double vp[4];
        panel_viewport(l, 0, col, vp);
        plvpor(vp[0], vp[1], vp[2], vp[3]);
        int n = wrap_label(lab, 1, lines, header_lines); /* one part per line */
        for (int k = 0; k < n; k++)
            plmtex("t", base + 1.35 * (n - 1 - k), 0.5, 0.5, pl_text(tb, sizeof tb, lines[k]));
    }
    for (int row = 0; row < l->nrow; row++) {
        const char *lab = NULL;
        for (size_t i = 0; i < d->n_shown && !lab; i++)
            if ((int)d->cell_row[i] == row)
                lab = d->points[d->shown[i]].row_label;
        if (!lab)
            continue;
        double vp[4];
        panel_viewport(l, row, l->ncol - 1, vp);
        plvpor(vp[0], vp[1], vp[2], vp[3]);
        plmtex("r", 1.6, 0.5, 0.5, pl_text(tb, sizeof tb, lab));
    }
}

/* The most column-label lines of the shown points (one per dimension). */
static int facet_header_lines(const report_data *d)
{
    int most = 0;
    for (size_t i = 0; i < d->n_shown; i++) {
        int n = 1;
        for (const char *p = d->points[d->shown[i]].col_label; (p = strstr(p, ", ")); p += 2)
            n++;
        most = n > most ? n : most;
    }
    return most > 4 ? 4 : most;
}

/* A legend in the top-right corner of the page (the figure header). */
static void header_legend(const fig *g, int ncolumn, int n, const char *const *text,
                          const int *opt,
                          const int *line_col, const int *line_sty,
                          const int *box_col, const int *sym_col,
                          const char *const *sym)
{
    PLINT opt_a[16], tcol[16], lcol[16], lsty[16], bcol[16], bpat[16], scol[16],
        snum[16];
    PLFLT lw[16], bsc[16], bw[16], ssc[16];
    if (n > 16)
        n = 16;
    if (ncolumn < 1 || ncolumn > n)
        ncolumn = n;
    for (int i = 0; i < n; i++) {
        opt_a[i] = opt[i];
        tcol[i] = COL_FG;
        lcol[i] = line_col ? line_col[i] : COL_FG;
        lsty[i] = line_sty ? line_sty[i] : 1;
        lw[i] = 2.0;
        bcol[i] = box_col ? box_col[i] : COL_BG;
        bpat[i] = 0;
        bsc[i] = 0.8;
        bw[i] = 1.0;
        scol[i] = sym_col ? sym_col[i] : COL_FG;
        ssc[i] = 1.0;
        snum[i] = 1;
    }
    PLFLT w, h;
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    chr(0.8);
    pllegend(&w, &h, PL_LEGEND_ROW_MAJOR,
             PL_POSITION_VIEWPORT | PL_POSITION_INSIDE | PL_POSITION_TOP,
             0.0, 0.088 * g->ts, 0.035, COL_BG, COL_FG, 1, (n + ncolumn - 1) / ncolumn,
             ncolumn, n, opt_a, 0.8, 0.7, 2.0,
             0.0, tcol, (const char *const *)text, bcol, bpat, bsc, bw, lcol, lsty,
             lw, scol, ssc, snum, (const char *const *)sym);
    chr(1.0);
}

/* Light grid lines then the black frame, ticks and numbers. */
static void panel_box(const char *xopt, const char *yopt)
{
    plcol0(COL_GRID);
    plwidth(1.0);
    plbox("g", 0, 0, "g", 0, 0);
    plcol0(COL_FG);
    plbox(xopt, 0, 0, yopt, 0, 0);
}

/* A polyline broken where y is NaN. */
static void line_nan(size_t n, const double *x, const double *y)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !isfinite(y[i]))
            i++;
        size_t j = i;
        while (j < n && isfinite(y[j]))
            j++;
        if (j - i >= 2)
            plline((PLINT)(j - i), x + i, y + i);
        else if (j - i == 1)
            plstring(1, x + i, y + i, "\xe2\x97\x8f");
        i = j;
    }
}

/* The band lo..hi as filled polygons over each finite stretch. */
static void band_nan(size_t n, const double *x, const double *lo,
                     const double *hi, double *scratch_x, double *scratch_y)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !(isfinite(lo[i]) && isfinite(hi[i])))
            i++;
        size_t j = i;
        while (j < n && isfinite(lo[j]) && isfinite(hi[j]))
            j++;
        if (j - i >= 2) {
            size_t m = 0;
            for (size_t k = i; k < j; k++) {
                scratch_x[m] = x[k];
                scratch_y[m++] = hi[k];
            }
            for (size_t k = j; k-- > i;) {
                scratch_x[m] = x[k];
                scratch_y[m++] = lo[k];
            }
            plfill((PLINT)m, scratch_x, scratch_y);
        }
        i = j;
    }
}

static double nice_floor(double v, double step) { return floor(v / step + 1e-9) * step; }
static double nice_ceil(double v, double step) { return ceil(v / step - 1e-9) * step; }

/* Accuracy axis: whole tenths around [lo, hi], inside [0, 1]. */
static void accuracy_range(double lo, double hi, double *a, double *b)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    *a = nice_floor(lo, 0.1);
    *b = nice_ceil(hi, 0.1);
    if (*a < 0)
        *a = 0;
    if (*b > 1)
        *b = 1;
    if (*b - *a < 0.2) {
        if (*b >= 1)
            *a = *b - 0.2;
        else
            *b = *a + 0.2;
    }
}

int report_plot_probe(const report_plot_cfg *c, const char *path, double x0, double x1,
                      report_error *err)
{
    fig g;
    if (fig_begin(&g, c, c->height, path, err))
        return -1;
    plvpor(x0, x1, 0.1, 0.9);
    plwind(0.0, 1.0, 0.0, 1.0);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    return fig_end(&g, err) ? -1 : 1;
}

/* ---- training curves ------------------------------------------------------- */

typedef struct series {
    double *mean, *lo, *hi;
} series;

/* mean and mean -/+ 1 sample standard deviation over the point's trials at
 * every epoch (NaN where no trial has a finite value). The band is the std
 * rather than min-max: with a 20-row validation set single seeds jump by
 * 0.05 steps and a min-max band would show only the outliers. */
static void aggregate(const report_data *d, const report_point *p, int loss,
                      int val, size_t n_epochs, series *s)
{
    /* Two passes (mean, then squared deviations from it), as the
     * sweep_summary view: sum(v^2) - sum(v)^2/n cancels catastrophically
     * when the spread is small next to the values (losses near 0.3 that
     * agree to 1e-9 across seeds). */
    for (size_t e = 0; e < n_epochs; e++) {
        double sum = 0, ss = 0;
        size_t n = 0;
        for (int pass = 0; pass < 2; pass++) {
            double mean0 = n ? sum / (double)n : 0;
            for (size_t j = 0; j < p->n_trials; j++) {
                const report_trial *t = &d->trials[p->trials[j]];
                if (e >= t->n_epochs)
                    continue;
                const double *a = loss ? (val ? t->val_loss : t->loss)
                                       : (val ? t->val_accuracy : t->accuracy);
                double v = a[e];
                if (!isfinite(v))
                    continue;
                if (pass == 0) {
                    sum += v;
                    n++;
                } else {
                    ss += (v - mean0) * (v - mean0);
                }
            }
        }
        double mean = n ? sum / (double)n : NAN;
        double sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
        s->mean[e] = mean;
        s->lo[e] = n ? mean - sd : NAN;
        s->hi[e] = n ? mean + sd : NAN;
    }
}

int report_plot_curves(const report_data *d, int loss, const report_plot_cfg *c,
                       const char *path, report_error *err)
{
    size_t E = 0, np = d->n_shown;
    for (size_t s = 0; s < np; s++) {
        const report_point *p = &d->points[d->shown[s]];
        for (size_t j = 0; j < p->n_trials; j++)
            if (d->trials[p->trials[j]].n_epochs > E)
                E = d->trials[p->trials[j]].n_epochs;
    }
    if (E == 0 || np == 0)
        return 0;
    if (np > SIZE_MAX / 6 / E)
        goto oom;
    /* per shown point: train mean/lo/hi, val mean/lo/hi; then x, two
     * scratches of 2E and one of E */
    double *buf = calloc(np * 6 * E + 6 * E, sizeof *buf);
    if (!buf)
        goto oom;
    double *xs = buf + np * 6 * E, *sx = xs + E, *sy = sx + 2 * E, *tmp = sy + 2 * E;
    for (size_t e = 0; e < E; e++)
        xs[e] = (double)(e + 1);
    double ylo = INFINITY, yhi = -INFINITY;
    int have_val = 0;
    size_t max_seeds = 0;
    for (size_t s = 0; s < np; s++) {
        const report_point *p = &d->points[d->shown[s]];
        for (int v = 0; v < 2; v++) {
            double *b = buf + (s * 6 + (size_t)v * 3) * E;
            series sr = {b, b + E, b + 2 * E};
            aggregate(d, p, loss, v, E, &sr);
            for (size_t e = 0; e < E; e++) {
                if (isfinite(sr.lo[e]) && sr.lo[e] < ylo)
                    ylo = sr.lo[e];
                if (isfinite(sr.hi[e]) && sr.hi[e] > yhi)
                    yhi = sr.hi[e];
                if (v && isfinite(sr.mean[e]))
                    have_val = 1;
            }
        }
        if (p->n_trials > max_seeds)
            max_seeds = p->n_trials;
    }
    if (!isfinite(ylo)) {
        free(buf);
        return 0;
    }
    /* The seed curves must fit too: a stuck seed is the point of them. */
    for (size_t s = 0; s < np; s++) {
        const report_point *p = &d->points[d->shown[s]];
        for (size_t j = 0; p->n_trials > 1 && j < p->n_trials; j++) {
            const report_trial *t = &d->trials[p->trials[j]];
            for (int v = 0; v < 2; v++) {
                const double *a = loss ? (v ? t->val_loss : t->loss)
                                       : (v ? t->val_accuracy : t->accuracy);
                for (size_t e = 0; e < t->n_epochs; e++)
                    if (isfinite(a[e])) {
                        ylo = a[e] < ylo ? a[e] : ylo;
                        yhi = a[e] > yhi ? a[e] : yhi;
                    }
            }
        }
    }
    double wy0, wy1;
    /* A loss that falls over more than a decade and a half (the digits
     * model starts near 15 on raw pixels and ends near 0.2) goes on a log
     * axis, else the end of training, where overfitting shows, is a flat
     * line on the floor. */
    double mmin = INFINITY, mmax = -INFINITY;
    for (size_t i = 0; i < np * 6 * E; i++) {
        size_t within = i % (3 * E);
        if (within >= E)
            continue; /* only the means */
        if (isfinite(buf[i]) && buf[i] > 0) {
            mmin = buf[i] < mmin ? buf[i] : mmin;
            mmax = buf[i] > mmax ? buf[i] : mmax;
        }
    }
    int logy = loss && isfinite(mmin) && mmax / mmin > 30;
    if (logy) {
        for (size_t i = 0; i < np * 6; i++) {
            double *mean = buf + i * E; /* every third block is a mean */
            if (i % 3)
                continue;
            for (size_t e = 0; e < E; e++) {
                double m = mean[e], lo = mean[E + e], hi = mean[2 * E + e];
                /* A std band can reach below 0; on a log axis it stops a
                 * factor 3 under the mean. */
                if (isfinite(lo) && lo < m / 3)
                    lo = m / 3;
                mean[e] = m > 0 ? log10(m) : NAN;
                mean[E + e] = lo > 0 ? log10(lo) : NAN;
                mean[2 * E + e] = hi > 0 ? log10(hi) : NAN;
            }
        }
        wy0 = floor(log10(mmin) + 1e-9);
        wy1 = log10(yhi > 0 ? yhi : mmax) + 0.05;
    } else if (loss) {
        wy0 = 0;
        wy1 = yhi > 0 ? yhi * 1.05 : 1.0;
    } else {
        accuracy_range(ylo, yhi, &wy0, &wy1);
    }
    pad_limits(&wy0, &wy1);
    double pad = (wy1 - wy0) * 0.02;

    layout l;
    shown_grid(d, &l);
    int hl = d->facet ? facet_header_lines(d) : 0;
    int height = panels_height(c, l.nrow, 100 + 19 * hl, l.nrow > 2 ? 215 : 290);
    fig g;
    if (fig_begin(&g, c, height, path, err)) {
        free(buf);
        return -1;
    }
    char title[512], sub[512], buf1[512], lines[3][256];
    snprintf(title, sizeof title, "%s: training %s", d->name, loss ? "loss" : "accuracy");
    if (d->single_trial && d->n_trials)
        snprintf(sub, sizeof sub, "trial %lld, seed %lld", d->trials[0].id,
                 d->trials[0].seed);
    else if (max_seeds > 1 && d->n_points > np)
        snprintf(sub, sizeof sub, "the %zu best of %zu sweep points by mean test accuracy; "
                 "thin: each seed, thick: mean, band: %s 1 std", np, d->n_points, "\xc2\xb1");
    else if (max_seeds > 1)
        snprintf(sub, sizeof sub, "thin lines: each seed; thick: their mean; band: mean %s 1 "
                 "standard deviation", "\xc2\xb1");
    else if (d->n_points > np)
        snprintf(sub, sizeof sub, "the %zu best of %zu sweep points by test accuracy", np,
                 d->n_points);
    else
        snprintf(sub, sizeof sub, "one seed per sweep point");
    fig_title(&g, title, sub);
    {
        const char *text[2] = {"train", "validation"};
        int opt[2] = {PL_LEGEND_LINE | (max_seeds > 1 ? PL_LEGEND_COLOR_BOX : 0),
                      PL_LEGEND_LINE | (max_seeds > 1 ? PL_LEGEND_COLOR_BOX : 0)};
        int lc[2] = {COL_SERIES, COL_SERIES + 1};
        int bc[2] = {COL_BAND0, COL_BAND1};
        header_legend(&g, 0, have_val ? 2 : 1, text, opt, lc, NULL, bc, NULL, NULL);
    }
    l.top = (0.14 + 0.027 * hl) * g.ts;
    l.right = d->facet ? 0.03 : 0.0;
    double chr_panel = l.nrow > 2 || l.ncol > 3 ? 0.8 : 1.0;
    chr(chr_panel);
    /* Small multiples share their y axis: its numbers and name once, left
     * of the first column. */
    l.left = 0;
    l.ml = 6.5;
    if (d->facet) {
        PLFLT sx0, sx1, sy0, sy1, cdef, cht;
        plgspa(&sx0, &sx1, &sy0, &sy1);
        plgchr(&cdef, &cht);
        l.left = 5.5 * cht / (sx1 - sx0);
        l.ml = 1.0;
    }
    l.mr = 1.5;
    l.mb = 3.8;
    /* Panel titles: wrapped to the panel's width (plain grid), or the
     * labels of the small multiples. */
    int title_lines = 1;
    double vp[4];
    l.mt = 1.0;
    panel_viewport(&l, 0, 0, vp);
    plvpor(vp[0], vp[1], vp[2], vp[3]);
    double pw, ph, pch;
    vp_mm(&pw, &ph, &pch);
    double width_chars = pw / (pch * 0.62);
    if (!d->facet)
        for (size_t s = 0; s < np; s++) {
            int n = wrap_label(d->points[d->shown[s]].label, width_chars - 8, lines, 3);
            title_lines = n > title_lines ? n : title_lines;
        }
    l.mt = d->facet ? 0.8 : 0.8 + 1.3 * title_lines;
    if (d->facet) {
        plcol0(COL_FG);
        facet_labels(d, &l, hl, 0.9);
    }
    for (size_t s = 0; s < np; s++) {
        const report_point *p = &d->points[d->shown[s]];
        int row, col, bottom;
        shown_cell(d, &l, s, &row, &col, &bottom);
        chr(chr_panel);
        panel_viewport(&l, row, col, vp);
        plvpor(vp[0], vp[1], vp[2], vp[3]);
        double x1 = E > 1 ? (double)E : 2.0;
        window(1.0, x1, wy0, wy1 + pad);
        double xt = x_step(0, x1, tick_digits(0, x1, 1));
        double yt = logy ? 0 : y_step(wy0, wy1);
        /* shared axes: numbers on the left column and under the bottom panels */
        plcol0(COL_GRID);
        plwidth(1.0);
        plbox("g", xt, 0, "g", yt, 0);
        plcol0(COL_FG);
        plbox(bottom ? "bcnst" : "bcst", xt, 0,
              col == 0 || !d->facet ? (logy ? "bcnstvl" : "bcnstv") : (logy ? "bcstl" : "bcst"),
              yt, 0);
        if (p->n_trials == 0) {
            plptex(0.5 * (1.0 + (double)E), 0.5 * (wy0 + wy1), 1.0, 0.0, 0.5,
                   "no finished trial");
        }
        for (int v = 1; v >= 0; v--) {
            double *b = buf + (s * 6 + (size_t)v * 3) * E;
            if (p->n_trials > 1) {
                plcol0(v ? COL_BAND1 : COL_BAND0);
                band_nan(E, xs, b + E, b + 2 * E, sx, sy);
            }
        }
        /* every seed, thin, under the means */
        plwidth(0.7);
        for (int v = 1; v >= 0 && p->n_trials > 1; v--) {
            plcol0(v ? COL_SEED1 : COL_SEED0);
            for (size_t j = 0; j < p->n_trials; j++) {
                const report_trial *t = &d->trials[p->trials[j]];
                const double *a = loss ? (v ? t->val_loss : t->loss)
                                       : (v ? t->val_accuracy : t->accuracy);
                for (size_t e = 0; e < E; e++)
                    tmp[e] = e >= t->n_epochs ? NAN
                             : logy           ? (a[e] > 0 ? log10(a[e]) : NAN)
                                              : a[e];
                line_nan(E, xs, tmp);
            }
        }
        for (int v = 1; v >= 0; v--) {
            double *b = buf + (s * 6 + (size_t)v * 3) * E;
            plcol0(COL_SERIES + v);
            plwidth(2.0);
            line_nan(E, xs, b);
        }
        plwidth(1.0);
        plcol0(COL_FG);
        char ptitle[512];
        if (d->facet)
            ptitle[0] = '\0';
        else if (*p->label)
            snprintf(ptitle, sizeof ptitle, "%s", p->label);
        else if (d->single_trial) {
            char a[32];
            snprintf(ptitle, sizeof ptitle, "test accuracy %s",
                     report_fmt_round(a, sizeof a,
                                      p->n_trials ? d->trials[p->trials[0]].test_accuracy : NAN,
                                      4));
        } else
            snprintf(ptitle, sizeof ptitle, "%zu seed%s", p->n_trials,
                     p->n_trials == 1 ? "" : "s");
        if (*ptitle) {
            int n = wrap_label(ptitle, width_chars - 8, lines, 3);
            for (int k = 0; k < n; k++)
                plmtex("t", 0.8 + 1.3 * (n - 1 - k), 0.5, 0.5,
                       pl_text(buf1, sizeof buf1, lines[k]));
        }
        if (bottom)
            plmtex("b", 2.6, 0.5, 0.5, "epoch");
        if (col == 0 || !d->facet)
            plmtex("l", 4.6, 0.5, 0.5, logy ? "loss (log scale)" : loss ? "loss" : "accuracy");
    }
    int rc = fig_end(&g, err);
    free(buf);
    return rc ? -1 : 1;
oom:
    set_err(err, "out of memory");
    return -1;
}

/* ---- sweep summary --------------------------------------------------------- */

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y);
}

/* The smallest gap between distinct values of x[0..n) (1 when none). */
static double min_gap(const double *x, size_t n)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return 1.0;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, dbl_cmp);
    double gap = INFINITY;
    for (size_t i = 1; i < n; i++)
        if (s[i] - s[i - 1] > 0 && s[i] - s[i - 1] < gap)
            gap = s[i] - s[i - 1];
    free(s);
    return isfinite(gap) ? gap : 1.0;
}

#define SWEEP_MAX_SERIES 10
#define SWEEP_MAX_GROUPED 60

/* Series: with two or more dimensions, x is the first one and each
 * combination of the others a colour, while they fit (report.h). */
size_t report_sweep_series(const report_data *d)
{
    if (d->single_trial || d->n_dims < 2 || d->n_points < 2 ||
        d->n_points > SWEEP_MAX_GROUPED)
        return 0;
    const char *seen[SWEEP_MAX_SERIES];
    size_t n = 0;
    for (size_t i = 0; i < d->n_points; i++) {
        const report_point *p = &d->points[i];
        if (!*p->row_label || !*p->col_label)
            return 0;
        size_t k = 0;
        while (k < n && strcmp(seen[k], p->col_label))
            k++;
        if (k == n) {
            if (n == SWEEP_MAX_SERIES)
                return 0;
            seen[n++] = p->col_label;
        }
    }
    return n;
}

int report_plot_sweep(const report_data *d, const report_plot_cfg *c,
                      const char *path, report_error *err)
{
    size_t np = d->n_points, n_done = 0;
    for (size_t i = 0; i < np; i++)
        n_done += d->points[i].n_trials;
    if (np == 0 || n_done == 0)
        return 0;
    double *x = calloc(np * 4 + n_done * 2, sizeof *x);
    size_t *ser = calloc(np, sizeof *ser);
    char **names = calloc(np, sizeof *names);
    if (!x || !ser || !names) {
        free(x);
        free(ser);
        free(names);
        set_err(err, "out of memory");
        return -1;
    }
    double *mean = x + np, *ylo = mean + np, *yhi = ylo + np;
    double *sx = yhi + np, *sy = sx + n_done;
    size_t ns = report_sweep_series(d);
    /* What the x axis is: the swept value (one dimension, or the first of a
     * grouped figure) when it is a number, else positions 0, 1, ... */
    int numeric = 1, all_int = 1, logx = 0;
    size_t n_groups = 0; /* grouped: distinct first-dimension values */
    const char *xname = d->n_dims >= 1 ? d->dim_names[0] : "sweep point";
    for (size_t i = 0; i < np; i++) {
        const report_point *p = &d->points[i];
        double v = NAN;
        if (ns) {
            char *end = NULL;
            v = strtod(p->dim_values[0], &end);
            if (!*p->dim_values[0] || *end)
                v = NAN;
        } else if (d->n_dims == 1 && p->numeric) {
            v = p->value;
        }
        if (!isfinite(v))
            numeric = 0;
        else if (v != floor(v))
            all_int = 0;
        x[i] = v;
    }
    if (ns) {
        /* ser by column label, groups by row label, in point order */
        for (size_t i = 0; i < np; i++) {
            const report_point *p = &d->points[i];
            size_t k = 0, g = 0;
            while (k < i && strcmp(d->points[k].col_label, p->col_label))
                k++;
            ser[i] = k < i ? ser[k] : 0;
            if (k == i) {
                size_t m = 0;
                for (size_t j = 0; j < i; j++)
                    if (ser[j] + 1 > m)
                        m = ser[j] + 1;
                ser[i] = m;
                names[m] = p->col_label;
            }
            while (g < i && strcmp(d->points[g].row_label, p->row_label))
                g++;
            if (g == i)
                n_groups++;
            if (!numeric)
                x[i] = g < i ? x[g] : (double)(n_groups - 1);
        }
    } else if (!numeric || np == 1) {
        numeric = 0;
        for (size_t i = 0; i < np; i++)
            x[i] = (double)i;
    }
    double vmin = INFINITY, vmax = -INFINITY;
    for (size_t i = 0; i < np && numeric; i++) {
        vmin = x[i] < vmin ? x[i] : vmin;
        vmax = x[i] > vmax ? x[i] : vmax;
    }
    if (numeric && vmin > 0 && vmax / vmin >= 50)
        logx = 1;
    if (logx)
        for (size_t i = 0; i < np; i++)
            x[i] = log10(x[i]);
    double gap = min_gap(x, np);
    /* grouped: the ser of a group side by side within 0.7 of the gap */
    double dodge = ns > 1 ? 0.7 * gap / (double)ns : 0;
    double *px = malloc(np * sizeof *px);
    if (!px) {
        free(x);
        free(ser);
        free(names);
        set_err(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < np; i++)
        px[i] = x[i] + (ns > 1 ? ((double)ser[i] - 0.5 * (double)(ns - 1)) * dodge : 0);
    int dense = np > 40; /* a band and no error bars or seed strips */
    double strip = ns > 1 ? 0.6 * dodge : gap;
    double lo = INFINITY, hi = -INFINITY;
    size_t m = 0;
    for (size_t i = 0; i < np; i++) {
        const report_point *p = &d->points[i];
        double s = 0;
        size_t n = 0;
        for (size_t j = 0; j < p->n_trials; j++) {
            double a = d->trials[p->trials[j]].test_accuracy;
            if (!isfinite(a))
                continue;
            /* Deterministic jitter: the seeds spread evenly, in seed order,
             * over a strip left of the error bar so none hides behind it. */
            double off = dense ? 0
                         : p->n_trials > 1
                             ? -(0.08 + 0.22 * (double)j / (double)(p->n_trials - 1)) * strip
                             : -0.1 * strip;
            sx[m] = px[i] + off;
            sy[m++] = a;
            s += a;
            n++;
            lo = a < lo ? a : lo;
            hi = a > hi ? a : hi;
        }
        mean[i] = n ? s / (double)n : NAN;
        /* Second pass: squared deviations from the mean (see aggregate). */
        double ss = 0;
        for (size_t j = 0; j < p->n_trials; j++) {
            double a = d->trials[p->trials[j]].test_accuracy;
            if (isfinite(a))
                ss += (a - mean[i]) * (a - mean[i]);
        }
        double sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
        ylo[i] = mean[i] - sd;
        yhi[i] = mean[i] + sd;
        /* the error bars must fit, not only the seeds */
        if (isfinite(ylo[i]))
            lo = ylo[i] < lo ? ylo[i] : lo;
        if (isfinite(yhi[i]))
            hi = yhi[i] > hi ? yhi[i] : hi;
    }
    if (!isfinite(lo)) {
        free(x);
        free(px);
        free(ser);
        free(names);
        return 0;
    }
    /* The Bayes limit of noisy XOR (keras-semantics.md): the best any model
     * can do with Gaussian noise sigma on the corners. */
    double bayes = NAN;
    if (d->dataset.ok && d->dataset.is_xor && d->dataset.noise > 0) {
        double q = 0.5 * erfc(-(0.5 / d->dataset.noise) / sqrt(2.0));
        bayes = q * q + (1 - q) * (1 - q);
        hi = bayes > hi ? bayes : hi;
    }
    double wy0, wy1;
    /* A margin so no seed sits on the frame. */
    accuracy_range(lo - 0.01, hi + 0.01, &wy0, &wy1);
    double wx0 = INFINITY, wx1 = -INFINITY;
    for (size_t i = 0; i < np; i++) {
        wx0 = px[i] < wx0 ? px[i] : wx0;
        wx1 = px[i] > wx1 ? px[i] : wx1;
    }
    double xpad = ns > 1 ? 0.5 * gap : dense ? 0.02 * (wx1 - wx0) : 0.5 * gap;
    wx0 -= xpad;
    wx1 += xpad;
    if (!numeric && !ns) {
        wx0 = -0.5;
        wx1 = (double)np - 0.5;
    }
    /* Category labels (one per point, or per group): their room below the
     * axis, in characters of the label font. */
    size_t longest = 0, n_labels = ns ? n_groups : np;
    int cat_labels = !numeric && n_labels <= 40;
    for (size_t i = 0; i < np && cat_labels; i++) {
        const char *lab = ns ? d->points[i].dim_values[0] : d->points[i].label;
        longest = strlen(lab) > longest ? strlen(lab) : longest;
    }
    int vertical = cat_labels && n_labels * (longest + 2) > 100;
    double label_chr = n_labels > 12 ? 0.7 : 0.9;
    double bottom_chars = !cat_labels ? 4.5 : vertical ? 2.0 + 0.62 * (double)longest * label_chr
                                                          + 2.5 : 4.5;
    /* Legend rows: ser names are long, so two per row. */
    int legend_cols = ns > 1 ? 2 : 0;
    int legend_rows = ns > 1 ? (int)((ns + 3) / 2) : 1;
    fig g;
    if (fig_begin(&g, c, c->height, path, err)) {
        free(x);
        free(px);
        free(ser);
        free(names);
        return -1;
    }
    char title[512], tb[512];
    if (np > 1)
        snprintf(title, sizeof title, "%s: test accuracy vs %s", d->name,
                 ns || d->n_dims == 1 ? xname : "sweep point");
    else
        snprintf(title, sizeof title, "%s: test accuracy over %zu seed%s", d->name, n_done,
                 n_done == 1 ? "" : "s");
    char sub[512];
    if (d->n_points > d->n_shown)
        snprintf(sub, sizeof sub, "all %zu sweep points; circled: the %zu best, drawn in the "
                 "panels of the other figures", np, d->n_shown);
    fig_title(&g, title, d->n_points > d->n_shown ? sub : NULL);
    double top = 0.16 * g.ts;
    if (ns > 1) {
        const char *text[SWEEP_MAX_SERIES + 2];
        char lab[SWEEP_MAX_SERIES][256];
        int opt[SWEEP_MAX_SERIES + 2], lc[SWEEP_MAX_SERIES + 2], sc[SWEEP_MAX_SERIES + 2];
        const char *sym[SWEEP_MAX_SERIES + 2];
        int k = 0;
        for (size_t i = 0; i < ns; i++, k++) {
            pl_text(lab[i], sizeof lab[i], names[i] ? names[i] : "");
            text[k] = lab[i];
            opt[k] = PL_LEGEND_SYMBOL | PL_LEGEND_LINE;
            lc[k] = sc[k] = COL_SERIES + (int)(i % 10);
            sym[k] = "\xe2\x97\x86";
        }
        if (isfinite(bayes)) {
            text[k] = "Bayes limit";
            opt[k] = PL_LEGEND_LINE;
            lc[k] = COL_SERIES + 3;
            sc[k] = COL_FG;
            sym[k++] = "";
        }
        int ls[SWEEP_MAX_SERIES + 2];
        for (int i = 0; i < k; i++)
            ls[i] = i < (int)ns ? 1 : 2;
        header_legend(&g, legend_cols, k, text, opt, lc, ls, NULL, sc, sym);
        top = (0.12 + 0.032 * legend_rows) * g.ts;
    } else {
        const char *text[3] = {"one seed", "mean \xc2\xb1 1 std", "Bayes limit"};
        const char *sym[3] = {"\xe2\x97\x8f", "\xe2\x97\x86", ""};
        int opt[3] = {PL_LEGEND_SYMBOL, PL_LEGEND_SYMBOL | PL_LEGEND_LINE, PL_LEGEND_LINE};
        int lc[3] = {COL_FG, COL_FG, COL_SERIES + 3};
        int sc[3] = {COL_SERIES, COL_FG, COL_FG};
        int ls[3] = {1, 1, 2};
        if (dense)
            text[1] = "mean, band \xc2\xb1 1 std";
        header_legend(&g, 0, isfinite(bayes) ? 3 : 2, text, opt, lc, ls, NULL, sc, sym);
    }
    PLFLT pxmin, pxmax, pymin, pymax, def, ht;
    plgspa(&pxmin, &pxmax, &pymin, &pymax);
    plgchr(&def, &ht);
    double vb = (bottom_chars * ht * label_chr + 2.0 * ht) / (pymax - pymin);
    if (vb < 0.10)
        vb = 0.10;
    plvpor(0.09, 0.97, vb, 1.0 - top);
    window(wx0, wx1, wy0, wy1 + (wy1 - wy0) * 0.02);
    double yt = y_step(wy0, wy1);
    if (numeric) {
        char xopt[16];
        snprintf(xopt, sizeof xopt, "bcnst%s", logx ? "l" : "");
        double xt = 0;
        if (!logx) {
            xt = x_step(wx0, wx1, tick_digits(wx0, wx1, all_int ? 1 : 0.1));
            if (all_int && xt < 1)
                xt = 1;
        }
        plcol0(COL_GRID);
        plbox("g", xt, 0, "g", yt, 0);
        plcol0(COL_FG);
        plbox(xopt, xt, all_int && !logx ? 1 : 0, "bcnstv", yt, 0);
    } else {
        plcol0(COL_GRID);
        plbox("", 0, 0, "g", yt, 0);
        plcol0(COL_FG);
        plbox(cat_labels ? "bc" : "bcnst", 0, 0, "bcnstv", yt, 0);
        /* One label per sweep point (or group): horizontal while they fit,
         * else vertical. */
        chr(label_chr);
        for (size_t i = 0; i < np && cat_labels; i++) {
            if (ns) {
                size_t g0 = 0;
                while (strcmp(d->points[g0].row_label, d->points[i].row_label))
                    g0++;
                if (g0 != i)
                    continue;
            }
            double pos = (x[i] - wx0) / (wx1 - wx0);
            const char *lab = ns ? d->points[i].dim_values[0]
                              : *d->points[i].label ? d->points[i].label : "all seeds";
            plmtex(vertical ? "bv" : "b", vertical ? 0.8 : 1.4, pos, vertical ? 1.0 : 0.5,
                   pl_text(tb, sizeof tb, lab));
        }
        chr(1.0);
    }
    if (isfinite(bayes)) {
        double bx[2] = {wx0, wx1}, by[2] = {bayes, bayes};
        plcol0(COL_SERIES + 3);
        pllsty(2);
        plwidth(1.5);
        plline(2, bx, by);
        pllsty(1);
        char bl[64], bv[32];
        snprintf(bl, sizeof bl, "Bayes limit %s (noise %.2g)",
                 report_fmt_round(bv, sizeof bv, bayes, 4), d->dataset.noise);
        chr(0.8);
        /* At the left end: the small models sit far below the limit there. */
        plptex(wx0 + 0.01 * (wx1 - wx0), bayes + 0.015 * (wy1 - wy0), 1.0, 0.0, 0.0, bl);
        chr(1.0);
    }
    if (dense) {
        double *bx = malloc(2 * np * sizeof *bx), *by = malloc(2 * np * sizeof *by);
        if (bx && by) {
            plcol0(COL_BAND0);
            band_nan(np, px, ylo, yhi, bx, by);
        }
        free(bx);
        free(by);
    }
    /* seeds */
    chr(dense ? 0.35 : 0.55);
    if (ns > 1) {
        size_t mm = 0;
        for (size_t i = 0; i < np; i++) {
            const report_point *p = &d->points[i];
            plcol0(COL_SERIES + (int)(ser[i] % 10));
            size_t k = 0;
            for (size_t j = 0; j < p->n_trials; j++)
                if (isfinite(d->trials[p->trials[j]].test_accuracy))
                    k++;
            plstring((PLINT)k, sx + mm, sy + mm, "\xe2\x97\x8f");
            mm += k;
        }
    } else {
        plcol0(COL_SERIES);
        plstring((PLINT)m, sx, sy, "\xe2\x97\x8f");
    }
    /* mean line, error bars, mean markers */
    plwidth(1.5);
    for (size_t k = 0; k < (ns > 1 ? ns : 1); k++) {
        double *lx = malloc(np * sizeof *lx), *lm = malloc(np * sizeof *lm);
        double *l0 = malloc(np * sizeof *l0), *l1 = malloc(np * sizeof *l1);
        size_t n = 0;
        for (size_t i = 0; lx && lm && l0 && l1 && i < np; i++)
            if (ns <= 1 || ser[i] == k) {
                lx[n] = px[i];
                lm[n] = mean[i];
                l0[n] = ylo[i];
                l1[n] = yhi[i];
                n++;
            }
        plcol0(ns > 1 ? COL_SERIES + (int)(k % 10) : COL_FG);
        if (numeric || ns > 1)
            line_nan(n, lx, lm);
        if (!dense)
            plerry((PLINT)n, lx, l0, l1);
        chr(dense ? 0.5 : 1.1);
        if (n)
            plstring((PLINT)n, lx, lm, "\xe2\x97\x86");
        free(lx);
        free(lm);
        free(l0);
        free(l1);
    }
    /* the points drawn as panels elsewhere */
    if (d->n_points > d->n_shown) {
        plcol0(COL_SERIES + 1);
        chr(1.3);
        for (size_t s = 0; s < d->n_shown; s++) {
            size_t i = d->shown[s];
            if (isfinite(mean[i]))
                plstring(1, px + i, mean + i, "\xe2\x97\x8b");
        }
    }
    chr(1.0);
    plcol0(COL_FG);
    plwidth(1.0);
    if (numeric) {
        plmtex("b", 3.0, 0.5, 0.5, pl_text(tb, sizeof tb, xname));
        if (logx)
            plmtex("b", 4.3, 0.5, 0.5, "(log scale)");
    } else if (!cat_labels) {
        plmtex("b", 3.0, 0.5, 0.5, "sweep point (in the order of the plan)");
    } else if (ns) {
        plmtex("b", vertical ? bottom_chars * label_chr : 3.0, 0.5, 0.5,
               pl_text(tb, sizeof tb, xname));
    }
    plmtex("l", 5.0, 0.5, 0.5, "test accuracy");
    int rc = fig_end(&g, err);
    free(x);
    free(px);
    free(ser);
    free(names);
    return rc ? -1 : 1;
}

/* ---- confusion matrix ------------------------------------------------------ */

/* One k x k matrix in the viewport [x0, x0 + wid] x [y0, y0 + hgt] (NDC):
 * cells coloured by row fraction; with fractions, "0.95" over "(39)", else
 * the count alone; the row totals at the right; class names on two sides. */
static void draw_matrix(const report_data *d, const uint64_t *cm, size_t k, int fractions,
                        double x0, double wid, double y0, double hgt, const char *heading)
{
    char tb[256];
    plvpor(x0, x0 + wid, y0, y0 + hgt);
    plwind(-0.5, (double)k - 0.5, -0.5, (double)k - 0.5);
    double cell_font = k <= 4 ? 1.2 : k <= 10 ? 0.7 : k <= 20 ? 0.45 : 0.3;
    for (size_t i = 0; i < k; i++) {
        uint64_t row = 0;
        for (size_t j = 0; j < k; j++)
            row += cm[i * k + j];
        for (size_t j = 0; j < k; j++) {
            uint64_t v = cm[i * k + j];
            double frac = row ? (double)v / (double)row : 0.0;
            double yc = (double)(k - 1 - i), xc = (double)j;
            PLFLT cx[4] = {xc - 0.5, xc + 0.5, xc + 0.5, xc - 0.5};
            PLFLT cy[4] = {yc - 0.5, yc - 0.5, yc + 0.5, yc + 0.5};
            plcol1(frac);
            plfill(4, cx, cy);
            plcol0(frac > 0.5 ? COL_BG : COL_FG);
            chr(cell_font);
            char s[64];
            if (k > 20)
                continue;
            if (v == 0) {
                /* Zero cells: one quiet "0" keeps the non-zero ones readable. */
                plcol0(COL_DARK);
                plptex(xc, yc - 0.1, 1.0, 0.0, 0.5, "0");
            } else if (fractions) {
                report_fmt_round(s, sizeof s, frac, 2);
                plptex(xc, yc + 0.08, 1.0, 0.0, 0.5, s);
                snprintf(s, sizeof s, "(%llu)", (unsigned long long)v);
                chr(cell_font * 0.8);
                plptex(xc, yc - (k <= 4 ? 0.18 : 0.28), 1.0, 0.0, 0.5, s);
            } else {
                snprintf(s, sizeof s, "%llu", (unsigned long long)v);
                plptex(xc, yc - 0.1, 1.0, 0.0, 0.5, s);
            }
        }
        /* row total at the right */
        plcol0(COL_DARK);
        chr(k <= 10 ? 0.75 : 0.55);
        char s[64];
        snprintf(s, sizeof s, "n = %llu", (unsigned long long)row);
        plmtex("rv", 0.6, ((double)(k - 1 - i) + 0.5) / (double)k, 0.0, s);
    }
    plcol0(COL_FG);
    chr(k <= 10 ? 0.9 : 0.55);
    for (size_t j = 0; j < k; j++) {
        double pp = ((double)j + 0.5) / (double)k;
        plmtex("b", 1.3, pp, 0.5, pl_text(tb, sizeof tb, d->class_names[j]));
        plmtex("lv", 0.8, ((double)(k - 1 - j) + 0.5) / (double)k, 1.0,
               pl_text(tb, sizeof tb, d->class_names[j]));
    }
    chr(1.0);
    plbox("bc", 0, 0, "bc", 0, 0);
    plmtex("b", 3.0, 0.5, 0.5, "predicted class");
    plmtex("l", 3.4, 0.5, 0.5, "true class");
    chr(0.95);
    plmtex("t", 1.0, 0.5, 0.5, pl_text(tb, sizeof tb, heading));
    chr(1.0);
}

int report_plot_confusion(const report_data *d, size_t point,
                          const report_plot_cfg *c, const char *path,
                          report_error *err)
{
    const report_point *p = &d->points[point];
    size_t k = d->n_classes;
    if (p->n_trials == 0 || k == 0)
        return 0;
    const report_trial *t = &d->trials[p->median];
    if (!t->cm)
        return 0;
    if (k > SIZE_MAX / k / sizeof(uint64_t))
        return 0;
    /* The median trial's matrix, and the sum over the point's seeds. */
    uint64_t *one = calloc(2 * k * k, sizeof *one);
    if (!one) {
        set_err(err, "out of memory");
        return -1;
    }
    uint64_t *sum = one + k * k;
    size_t n_sum = 0;
    for (size_t i = 0; i < k * k; i++)
        one[i] = t->cm[i];
    for (size_t j = 0; j < p->n_trials; j++) {
        const report_trial *u = &d->trials[p->trials[j]];
        if (!u->cm)
            continue;
        for (size_t i = 0; i < k * k; i++)
            sum[i] += u->cm[i];
        n_sum++;
    }
    int both = n_sum > 1;
    fig g;
    if (fig_begin(&g, c, c->height, path, err)) {
        free(one);
        return -1;
    }
    char title[512], sub[512], acc[32], h1[256], h2[256];
    if (*p->label)
        snprintf(title, sizeof title, "%s, %s: confusion matrix (test)", d->name, p->label);
    else
        snprintf(title, sizeof title, "%s: confusion matrix (test)", d->name);
    report_fmt_round(acc, sizeof acc, t->test_accuracy, 4);
    snprintf(sub, sizeof sub, "trial %lld, seed %lld, test accuracy %s%s", t->id, t->seed, acc,
             p->n_trials > 1 ? " (median of the seeds)" : "");
    fig_title(&g, title, both ? NULL : sub);

    /* cmap1: white -> dark blue, as matplotlib's Blues. */
    PLFLT pos[3] = {0.0, 0.5, 1.0};
    PLFLT r[3] = {0.97, 0.42, 0.03}, gg[3] = {0.98, 0.68, 0.19}, b[3] = {1.0, 0.84, 0.42};
    plscmap1n(256);
    plscmap1l(1, 3, pos, r, gg, b, NULL);

    double aspect = (double)c->width / (double)c->height;
    if (both) {
        /* Two squares side by side, room for labels on every side. */
        double hgt = 0.66, wid = hgt / aspect;
        if (wid > 0.35) {
            wid = 0.35;
            hgt = wid * aspect;
        }
        /* centred in the room below the title, the row totals of the right
         * one inside the page */
        double y0 = 0.11 + (0.75 - hgt) / 2;
        snprintf(h1, sizeof h1, "median trial %lld (seed %lld, accuracy %s)", t->id, t->seed,
                 acc);
        snprintf(h2, sizeof h2, "all %zu seeds added up (counts)", n_sum);
        draw_matrix(d, one, k, 1, 0.065, wid, y0, hgt, h1);
        draw_matrix(d, sum, k, 0, 0.065 + wid + 0.145, wid, y0, hgt, h2);
    } else {
        double hgt = 0.70, wid = hgt / aspect;
        double x0 = 0.5 - wid / 2 - 0.06;
        draw_matrix(d, one, k, 1, x0, wid, 0.12, hgt, "");
        /* colour bar */
        PLFLT cw, ch;
        PLINT label_opts[1] = {PL_COLORBAR_LABEL_RIGHT};
        const char *labels[1] = {"fraction of the true class"};
        const char *axis_opts[1] = {"bcvtm"};
        PLFLT ticks[1] = {0.2};
        PLINT sub_ticks[1] = {2};
        PLINT n_values[1] = {2};
        PLFLT vals[2] = {0.0, 1.0};
        const PLFLT *values[1] = {vals};
        chr(0.9);
        plcolorbar(&cw, &ch, PL_COLORBAR_GRADIENT | PL_COLORBAR_LABEL_RIGHT,
                   PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
                   0.17, 0.0, 0.03, 1.0, COL_BG, COL_FG, 1, 0.0, 0.0, COL_FG, 1.0, 1,
                   label_opts, labels, 1, axis_opts, ticks, sub_ticks, n_values, values);
        chr(1.0);
    }
    free(one);
    return fig_end(&g, err) ? -1 : 1;
}

/* ---- decision boundary ----------------------------------------------------- */

/* cmap1 of k light class colours for the regions. */
static void class_cmap1_light(size_t k)
{
    PLINT r[32], g[32], b[32];
    size_t n = k < 2 ? 2 : k > 32 ? 32 : k;
    for (size_t i = 0; i < n; i++) {
        const int *t = tab10[i % 10];
        r[i] = (PLINT)(255 - (255 - t[0]) * 0.35);
        g[i] = (PLINT)(255 - (255 - t[1]) * 0.35);
        b[i] = (PLINT)(255 - (255 - t[2]) * 0.35);
    }
    plscmap1n((PLINT)n);
    plscmap1(r, g, b, (PLINT)n);
}

static void scatter_classes(const data_set *s, size_t k, double size)
{
    if (!s->n_rows || s->n_features < 2)
        return;
    double *x = malloc(2 * s->n_rows * sizeof *x);
    if (!x)
        return;
    double *y = x + s->n_rows;
    chr(size);
    for (size_t cl = 0; cl < k; cl++) {
        PLINT m = 0;
        for (size_t i = 0; i < s->n_rows; i++)
            if ((size_t)s->y[i] == cl) {
                x[m] = s->x[i * s->n_features];
                y[m++] = s->x[i * s->n_features + 1];
            }
        if (!m)
            continue;
        plcol0(class_col(cl));
        plstring(m, x, y, "\xe2\x97\x8f");
    }
    chr(1.0);
    free(x);
}

static void class_legend(const fig *g, const report_data *d, const char *what)
{
    const char *text[16];
    char buf[16][96];
    int opt[16], sc[16];
    const char *sym[16];
    size_t n = d->n_classes > 16 ? 16 : d->n_classes;
    for (size_t i = 0; i < n; i++) {
        char tmp[64];
        snprintf(buf[i], sizeof buf[i], "%s %s", what, pl_text(tmp, sizeof tmp, d->class_names[i]));
        text[i] = buf[i];
        opt[i] = PL_LEGEND_SYMBOL;
        sc[i] = class_col(i);
        sym[i] = "\xe2\x97\x8f";
    }
    header_legend(g, 0, (int)n, text, opt, NULL, NULL, NULL, sc, sym);
}

int report_plot_boundary(const report_data *d, const report_plot_cfg *c,
                         const char *path, report_error *err)
{
    size_t np = 0, k = d->n_classes;
    for (size_t s = 0; s < d->n_shown; s++) {
        const report_point *p = &d->points[d->shown[s]];
        if (p->n_trials && d->trials[p->median].has_grid)
            np++;
    }
    if (np == 0 || k < 2)
        return 0;
    layout l;
    if (d->facet)
        shown_grid(d, &l);
    else
        grid_shape(np, &l.ncol, &l.nrow);
    int hl = d->facet ? facet_header_lines(d) : 0;
    int height = panels_height(c, l.nrow, 110 + 19 * hl, fmin(1000.0 / l.ncol * 0.72 + 70, 560));
    fig g;
    if (fig_begin(&g, c, height, path, err))
        return -1;
    char title[512], tb[512], lines[3][256];
    snprintf(title, sizeof title, "%s: decision boundary", d->name);
    fig_title(&g, title, np > 1 ? "median trial of each sweep point; dots: its test rows"
                                : "dots: the trial's test rows");
    class_legend(&g, d, "class");
    l.top = (0.14 + 0.027 * hl) * g.ts;
    l.right = d->facet ? 0.03 : 0.0;
    l.left = 0;
    l.ml = 5.0;
    l.mr = 1.0;
    l.mb = 3.8;
    double chr_panel = l.nrow > 2 || l.ncol > 3 ? 0.8 : 1.0;
    chr(chr_panel);
    /* Titles: in small multiples only the trial line (the grid labels say
     * the rest); else the point's label wrapped to the panel's width. */
    double vp[4];
    l.mt = 1.0;
    panel_viewport(&l, 0, 0, vp);
    plvpor(vp[0], vp[1], vp[2], vp[3]);
    double pw, ph, pch;
    vp_mm(&pw, &ph, &pch);
    double width_chars = pw / (pch * 0.62);
    int title_lines = 0;
    if (!d->facet)
        for (size_t s = 0; s < d->n_shown; s++) {
            int n = wrap_label(d->points[d->shown[s]].label, width_chars, lines, 3);
            title_lines = n > title_lines ? n : title_lines;
        }
    l.mt = 2.0 + 1.3 * title_lines;
    if (d->facet) {
        plcol0(COL_FG);
        facet_labels(d, &l, hl, 2.4);
    }
    size_t slot = 0;
    for (size_t s = 0; s < d->n_shown; s++) {
        const report_point *p = &d->points[d->shown[s]];
        if (!p->n_trials || !d->trials[p->median].has_grid)
            continue;
        const report_trial *t = &d->trials[p->median];
        size_t res = t->grid_res;
        int row, col, bottom;
        if (d->facet) {
            shown_cell(d, &l, s, &row, &col, &bottom);
        } else {
            row = (int)(slot / (size_t)l.ncol);
            col = (int)(slot % (size_t)l.ncol);
        }
        slot++;
        chr(chr_panel);
        panel_viewport(&l, row, col, vp);
        double gx0 = t->grid_x0[0], gx1 = t->grid_x0[1], gy0 = t->grid_x1[0], gy1 = t->grid_x1[1];
        pad_limits(&gx0, &gx1);
        pad_limits(&gy0, &gy1);
        plvpas(vp[0], vp[1], vp[2], vp[3], (gy1 - gy0) / (gx1 - gx0));
        plwind(gx0, gx1, gy0, gy1);
        /* Regions as filled shades between the levels c - 0.5 and c + 0.5:
         * vector polygons (small SVG/PDF) whose edges sit half-way between
         * grid points of different classes. */
        PLFLT **z = NULL;
        PLFLT *xg = malloc(res * sizeof *xg), *yg = malloc(res * sizeof *yg);
        PLFLT *clevel = malloc((k + 1) * sizeof *clevel);
        plAlloc2dGrid(&z, (PLINT)res, (PLINT)res);
        if (!z || !xg || !yg || !clevel) {
            free(xg);
            free(yg);
            free(clevel);
            if (z)
                plFree2dGrid(z, (PLINT)res, (PLINT)res);
            fig_end(&g, NULL);
            set_err(err, "out of memory");
            return -1;
        }
        for (size_t a = 0; a < res; a++) {
            xg[a] = t->grid_x0[0] + (t->grid_x0[1] - t->grid_x0[0]) * (double)a / (double)(res - 1);
            yg[a] = t->grid_x1[0] + (t->grid_x1[1] - t->grid_x1[0]) * (double)a / (double)(res - 1);
        }
        for (size_t iy = 0; iy < res; iy++)
            for (size_t ix = 0; ix < res; ix++)
                z[ix][iy] = (PLFLT)t->grid[iy * res + ix];
        for (size_t cl = 0; cl <= k; cl++)
            clevel[cl] = (double)cl - 0.5;
        PLcGrid cg;
        cg.xg = xg;
        cg.yg = yg;
        cg.zg = NULL;
        cg.nx = (PLINT)res;
        cg.ny = (PLINT)res;
        class_cmap1_light(k);
        plshades((const PLFLT *const *)z, (PLINT)res, (PLINT)res, NULL, t->grid_x0[0],
                 t->grid_x0[1], t->grid_x1[0], t->grid_x1[1], clevel, (PLINT)(k + 1), 1.0,
                 COL_FG, 0.0, plfill, 1, pltr1, &cg);
        /* The boundary itself as a thin dark contour. */
        plcol0(COL_DARK);
        plwidth(1.2);
        for (size_t cl = 1; cl < k; cl++) {
            PLFLT lev = (double)cl - 0.5;
            plcont((const PLFLT *const *)z, (PLINT)res, (PLINT)res, 1, (PLINT)res, 1,
                   (PLINT)res, &lev, 1, pltr1, &cg);
        }
        plwidth(1.0);
        plFree2dGrid(z, (PLINT)res, (PLINT)res);
        free(xg);
        free(yg);
        free(clevel);

        /* The test rows of this very trial, rebuilt from its data seed. */
        if (p->has_test_rows)
            scatter_classes(&p->test_rows, k, l.nrow > 1 ? 0.5 : 0.7);

        chr(chr_panel);
        double xt = x_step(gx0, gx1, tick_digits(gx0, gx1, 1) + 1);
        double yt = y_step(gy0, gy1);
        plcol0(COL_GRID);
        plbox("g", xt, 0, "g", yt, 0);
        plcol0(COL_FG);
        plbox("bcnst", xt, 0, "bcnstv", yt, 0);
        char ptitle[512], a[32];
        if (!d->facet && *p->label) {
            int n = wrap_label(p->label, width_chars, lines, 3);
            for (int j = 0; j < n; j++)
                plmtex("t", 2.3 + 1.3 * (n - 1 - j), 0.5, 0.5, pl_text(tb, sizeof tb, lines[j]));
        }
        snprintf(ptitle, sizeof ptitle, "seed %lld, %s %s", t->seed,
                 width_chars < 40 ? "test acc." : "test accuracy",
                 report_fmt_round(a, sizeof a, t->test_accuracy, 4));
        chr(chr_panel * 0.85);
        plmtex("t", 0.9, 0.5, 0.5, ptitle);
        chr(chr_panel);
        plmtex("b", 2.6, 0.5, 0.5, "x#d0#u");
        plmtex("l", 3.0, 0.5, 0.5, "x#d1#u");
    }
    return fig_end(&g, err) ? -1 : 1;
}

/* ---- dataset preview ------------------------------------------------------- */

/* Row `row` of the image data s in the current viewport, grey levels from
 * 0 (white) to vmax (black); z is a w x h scratch grid. */
static void draw_image(const data_set *s, size_t row, PLFLT **z, double vmax)
{
    size_t w = s->image_w, h = s->image_h;
    plwind(0, (double)w, 0, (double)h);
    for (size_t ix = 0; ix < w; ix++)
        for (size_t iy = 0; iy < h; iy++)
            z[ix][iy] = s->x[row * s->n_features + (h - 1 - iy) * w + ix];
    plimage((const PLFLT *const *)z, (PLINT)w, (PLINT)h, 0, (double)w, 0, (double)h, 0, vmax, 0,
            (double)w, 0, (double)h);
    plcol0(COL_FG);
    plbox("bc", 0, 0, "bc", 0, 0);
}

static int plot_images(const report_data *d, const report_plot_cfg *c,
                       const char *path, report_error *err)
{
    const data_set *s = &d->dataset.source;
    size_t w = s->image_w, h = s->image_h, n = s->n_rows < 10 ? s->n_rows : 10;
    if (!n || w * h != s->n_features)
        return 0;
    PLFLT **z = NULL;
    plAlloc2dGrid(&z, (PLINT)w, (PLINT)h);
    if (!z) {
        set_err(err, "out of memory");
        return -1;
    }
    fig g;
    if (fig_begin(&g, c, c->height, path, err)) {
        plFree2dGrid(z, (PLINT)w, (PLINT)h);
        return -1;
    }
    char title[512], tb[256];
    snprintf(title, sizeof title, "%s: the first %zu images of the data", d->name, n);
    fig_title(&g, title, NULL);
    double vmax = 0;
    for (size_t i = 0; i < n * s->n_features; i++)
        vmax = s->x[i] > vmax ? s->x[i] : vmax;
    if (vmax <= 0)
        vmax = 1;
    PLFLT pos[2] = {0, 1}, one[2] = {1, 0};
    plscmap1n(256);
    plscmap1l(1, 2, pos, one, one, one, NULL);
    layout l;
    l.ncol = 5;
    l.nrow = (int)((n + 4) / 5);
    l.top = 0.09;
    l.ml = 1.5;
    l.mr = 1.5;
    l.mb = 1.0;
    l.mt = 2.5;
    l.right = 0;
    l.left = 0;
    for (size_t i = 0; i < n; i++) {
        double vp[4];
        panel_viewport(&l, (int)(i / 5), (int)(i % 5), vp);
        plvpas(vp[0], vp[1], vp[2], vp[3], (double)h / (double)w);
        draw_image(s, i, z, vmax);
        char lab[128];
        snprintf(lab, sizeof lab, "label %s",
                 s->class_names && s->y[i] >= 0 && (size_t)s->y[i] < s->n_classes
                     ? s->class_names[s->y[i]] : "?");
        chr(1.1);
        plmtex("t", 0.9, 0.5, 0.5, pl_text(tb, sizeof tb, lab));
        chr(1.0);
    }
    int rc = fig_end(&g, err);
    plFree2dGrid(z, (PLINT)w, (PLINT)h);
    return rc ? -1 : 1;
}

int report_plot_dataset(const report_data *d, const report_plot_cfg *c,
                        const char *path, report_error *err)
{
    const report_dataset *ds = &d->dataset;
    if (!ds->ok)
        return 0;
    if (ds->source.image_w && ds->source.image_h)
        return plot_images(d, c, path, err);
    const data_set *parts[3] = {&ds->splits.train, &ds->splits.validation, &ds->splits.test};
    if (ds->splits.train.n_features != 2)
        return 0;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    size_t total = 0;
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < parts[s]->n_rows; i++) {
            double a = parts[s]->x[i * 2], b = parts[s]->x[i * 2 + 1];
            x0 = a < x0 ? a : x0;
            x1 = a > x1 ? a : x1;
            y0 = b < y0 ? b : y0;
            y1 = b > y1 ? b : y1;
            total++;
        }
    if (!total || !(x1 > x0) || !(y1 > y0))
        return 0;
    double px = (x1 - x0) * 0.05, py = (y1 - y0) * 0.05;
    fig g;
    if (fig_begin(&g, c, c->height, path, err))
        return -1;
    char title[512], sub[512];
    snprintf(title, sizeof title, "%s: the data (%zu rows)", d->name, total);
    snprintf(sub, sizeof sub, "data seed %lld: train %zu, validation %zu, test %zu%s",
             ds->seed, ds->splits.train.n_rows, ds->splits.validation.n_rows,
             ds->splits.test.n_rows, ds->noise > 0 ? ", with the augmentation noise" : "");
    fig_title(&g, title, sub);
    class_legend(&g, d, "class");
    plvpas(0.08, 0.98, 0.10, 0.84, (y1 - y0 + 2 * py) / (x1 - x0 + 2 * px));
    plwind(x0 - px, x1 + px, y0 - py, y1 + py);
    panel_box("bcnst", "bcnstv");
    for (int s = 0; s < 3; s++)
        scatter_classes(parts[s], d->n_classes, 0.6);
    plcol0(COL_FG);
    plmtex("b", 3.0, 0.5, 0.5, "x#d0#u");
    plmtex("l", 3.5, 0.5, 0.5, "x#d1#u");
    return fig_end(&g, err) ? -1 : 1;
}

/* ---- misclassified test images ---------------------------------------------- */

int report_plot_misclassified(const report_data *d, const report_trial *t,
                              const store_prediction_row *rows, size_t n, size_t n_wrong,
                              size_t n_test, const report_plot_cfg *c, const char *path,
                              report_error *err)
{
    const data_set *s = &d->dataset.source;
    size_t w = s->image_w, h = s->image_h;
    if (!d->dataset.ok || !n || !w || w * h != s->n_features)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].source_row >= s->n_rows)
            return 0; /* not this data: the rows name rows it does not have */
    PLFLT **z = NULL;
    plAlloc2dGrid(&z, (PLINT)w, (PLINT)h);
    if (!z) {
        set_err(err, "out of memory");
        return -1;
    }
    layout l;
    l.ncol = 10;
    l.nrow = (int)((n + 9) / 10);
    fig g;
    int height = panels_height(c, l.nrow, 110, 150);
    if (fig_begin(&g, c, height, path, err)) {
        plFree2dGrid(z, (PLINT)w, (PLINT)h);
        return -1;
    }
    char title[512], sub[512], tb[256], acc[32];
    snprintf(title, sizeof title, "%s: misclassified test images of trial %lld", d->name, t->id);
    snprintf(sub, sizeof sub, "seed %lld, test accuracy %s: %zu of %zu test rows wrong%s", t->seed,
             report_fmt_round(acc, sizeof acc, t->test_accuracy, 4), n_wrong, n_test,
             n < n_wrong ? "; the first ones in test-split order" : "");
    fig_title(&g, title, sub);
    double vmax = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < s->n_features; j++) {
            double v = s->x[rows[i].source_row * s->n_features + j];
            vmax = v > vmax ? v : vmax;
        }
    if (vmax <= 0)
        vmax = 1;
    PLFLT pos[2] = {0, 1}, one[2] = {1, 0};
    plscmap1n(256);
    plscmap1l(1, 2, pos, one, one, one, NULL);
    l.top = 110.0 * (c->width / 1000.0) / height;
    l.ml = 0.8;
    l.mr = 0.8;
    l.mb = 1.6;
    l.mt = 2.0;
    l.right = 0;
    l.left = 0;
    for (size_t i = 0; i < n; i++) {
        const store_prediction_row *r = &rows[i];
        double vp[4];
        panel_viewport(&l, (int)(i / 10), (int)(i % 10), vp);
        plvpas(vp[0], vp[1], vp[2], vp[3], (double)h / (double)w);
        draw_image(s, r->source_row, z, vmax);
        char lab[256];
        const char *tn = r->true_class < d->n_classes && d->class_names[r->true_class]
                             ? d->class_names[r->true_class] : "?";
        const char *pn = r->predicted_class < d->n_classes && d->class_names[r->predicted_class]
                             ? d->class_names[r->predicted_class] : "?";
        snprintf(lab, sizeof lab, "%s \xe2\x86\x92 %s", tn, pn);
        chr(1.1);
        plmtex("t", 0.7, 0.5, 0.5, pl_text(tb, sizeof tb, lab));
        snprintf(lab, sizeof lab, "row %zu", r->source_row);
        chr(0.75);
        plcol0(COL_DARK);
        plmtex("b", 1.2, 0.5, 0.5, lab);
        plcol0(COL_FG);
        chr(1.0);
    }
    int rc = fig_end(&g, err);
    plFree2dGrid(z, (PLINT)w, (PLINT)h);
    return rc ? -1 : 1;
}
