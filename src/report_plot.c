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
       COL_BAND1 = 14, COL_DARK = 15, N_COL0 = 16 };

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

static int fig_begin(const report_plot_cfg *c, const char *path, report_error *err)
{
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
    const char *dev = c->format == REPORT_FORMAT_SVG   ? "svgcairo"
                      : c->format == REPORT_FORMAT_PDF ? "pdfcairo"
                                                       : "pngcairo";
    plsdev(dev);
    plsfnam(path);
    /* For the vector devices the page is given in points; the same numbers
     * keep the proportions (and text sizes) of the PNG. */
    plspage(0., 0., c->width, c->height, 0, 0);
    plscolbg(255, 255, 255);
    plinit();
    plscmap0n(N_COL0);
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    for (int i = 0; i < 10; i++)
        plscol0(COL_SERIES + i, tab10[i][0], tab10[i][1], tab10[i][2]);
    plscol0(COL_GRID, 225, 225, 225);
    plscol0a(COL_BAND0, tab10[0][0], tab10[0][1], tab10[0][2], 0.22);
    plscol0a(COL_BAND1, tab10[1][0], tab10[1][1], tab10[1][2], 0.22);
    plscol0(COL_DARK, 80, 80, 80);
    plfontld(1);
    plsmaj(0.0, 0.6);
    plsmin(0.0, 0.6);
    pladv(0);
    plcol0(COL_FG);
    return 0;
}

static void fig_end(void) { plend1(); }

/* Figure title across the top of the page. */
static void fig_title(const char *title, const char *subtitle)
{
    char buf[1024];
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(COL_FG);
    chr(1.25);
    plptex(0.5, subtitle ? 0.962 : 0.955, 1.0, 0.0, 0.5, pl_text(buf, sizeof buf, title));
    if (subtitle) {
        chr(0.9);
        plcol0(COL_DARK);
        plptex(0.5, 0.925, 1.0, 0.0, 0.5, pl_text(buf, sizeof buf, subtitle));
    }
    chr(1.0);
    plcol0(COL_FG);
}

/* Panel layout: ncol x nrow cells below a header of `top` (NDC); margins in
 * multiples of the character height so labels never collide. */
typedef struct layout {
    int ncol, nrow;
    double top;
    double ml, mr, mb, mt; /* in character heights */
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

/* Columns x rows for n square panels in a region of the given aspect
 * (width / height): the shape that makes the panels largest. */
static void square_grid_shape(size_t n, double aspect, int *ncol, int *nrow)
{
    double best = -1;
    *ncol = 1;
    *nrow = (int)n;
    for (size_t c = 1; c <= n; c++) {
        size_t r = (n + c - 1) / c;
        double side = fmin(aspect / (double)c, 1.0 / (double)r);
        if (side > best + 1e-12) {
            best = side;
            *ncol = (int)c;
            *nrow = (int)r;
        }
    }
}

static void panel_viewport(const layout *l, size_t i, double vp[4])
{
    PLFLT xmin, xmax, ymin, ymax, def, ht;
    plgspa(&xmin, &xmax, &ymin, &ymax); /* subpage in mm */
    plgchr(&def, &ht);                  /* character height in mm */
    double cx = ht / (xmax - xmin), cy = ht / (ymax - ymin);
    int col = (int)(i % (size_t)l->ncol), row = (int)(i / (size_t)l->ncol);
    double w = 1.0 / l->ncol, h = (1.0 - l->top) / l->nrow;
    double x0 = col * w, y1 = 1.0 - l->top - row * h;
    vp[0] = x0 + l->ml * cx;
    vp[1] = x0 + w - l->mr * cx;
    vp[2] = y1 - h + l->mb * cy;
    vp[3] = y1 - l->mt * cy;
}

/* A legend in the top-right corner of the page (the figure header). */
static void header_legend(int n, const char *const *text, const int *opt,
                          const int *line_col, const int *line_sty,
                          const int *box_col, const int *sym_col,
                          const char *const *sym)
{
    PLINT opt_a[16], tcol[16], lcol[16], lsty[16], bcol[16], bpat[16], scol[16],
        snum[16];
    PLFLT lw[16], bsc[16], bw[16], ssc[16];
    if (n > 16)
        n = 16;
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
             0.0, 0.088, 0.035, COL_BG, COL_FG, 1, 1, n, n, opt_a, 0.8, 0.7, 2.0,
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
    size_t E = 0, np = d->n_points;
    for (size_t i = 0; i < d->n_trials; i++)
        if (d->trials[i].n_epochs > E)
            E = d->trials[i].n_epochs;
    if (E == 0 || np == 0)
        return 0;
    if (np > SIZE_MAX / 6 / E)
        goto oom;
    /* per point: train mean/lo/hi, val mean/lo/hi; then x and two scratches */
    double *buf = calloc(np * 6 * E + 5 * E, sizeof *buf);
    if (!buf)
        goto oom;
    double *xs = buf + np * 6 * E, *sx = xs + E, *sy = sx + 2 * E;
    for (size_t e = 0; e < E; e++)
        xs[e] = (double)(e + 1);
    double ylo = INFINITY, yhi = -INFINITY;
    int have_val = 0;
    size_t max_seeds = 0;
    for (size_t i = 0; i < np; i++) {
        for (int v = 0; v < 2; v++) {
            double *b = buf + (i * 6 + (size_t)v * 3) * E;
            series s = {b, b + E, b + 2 * E};
            aggregate(d, &d->points[i], loss, v, E, &s);
            for (size_t e = 0; e < E; e++) {
                if (isfinite(s.lo[e]) && s.lo[e] < ylo)
                    ylo = s.lo[e];
                if (isfinite(s.hi[e]) && s.hi[e] > yhi)
                    yhi = s.hi[e];
                if (v && isfinite(s.mean[e]))
                    have_val = 1;
            }
        }
        if (d->points[i].n_trials > max_seeds)
            max_seeds = d->points[i].n_trials;
    }
    if (!isfinite(ylo)) {
        free(buf);
        return 0;
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
        wy1 = log10(yhi) + 0.05;
    } else if (loss) {
        wy0 = 0;
        wy1 = yhi > 0 ? yhi * 1.05 : 1.0;
    } else {
        accuracy_range(ylo, yhi, &wy0, &wy1);
    }
    double pad = (wy1 - wy0) * 0.02;

    if (fig_begin(c, path, err)) {
        free(buf);
        return -1;
    }
    char title[512], sub[512], buf1[512];
    snprintf(title, sizeof title, "%s: training %s", d->name, loss ? "loss" : "accuracy");
    if (d->single_trial && d->n_trials)
        snprintf(sub, sizeof sub, "trial %lld, seed %lld", d->trials[0].id,
                 d->trials[0].seed);
    else if (max_seeds > 1)
        snprintf(sub, sizeof sub, "line: mean over seeds, band: mean %s 1 standard deviation",
                 "\xc2\xb1");
    else
        snprintf(sub, sizeof sub, "one seed per sweep point");
    fig_title(title, sub);
    {
        const char *text[2] = {"train", "validation"};
        int opt[2] = {PL_LEGEND_LINE | (max_seeds > 1 ? PL_LEGEND_COLOR_BOX : 0),
                      PL_LEGEND_LINE | (max_seeds > 1 ? PL_LEGEND_COLOR_BOX : 0)};
        int lc[2] = {COL_SERIES, COL_SERIES + 1};
        int bc[2] = {COL_BAND0, COL_BAND1};
        header_legend(have_val ? 2 : 1, text, opt, lc, NULL, bc, NULL, NULL);
    }
    layout l;
    grid_shape(np, &l.ncol, &l.nrow);
    l.top = 0.14;
    l.ml = 7.0;
    l.mr = 1.5;
    l.mb = 4.6;
    l.mt = 2.2;
    double chr_panel = l.nrow > 2 ? 0.8 : 1.0;
    for (size_t i = 0; i < np; i++) {
        const report_point *p = &d->points[i];
        double vp[4];
        chr(chr_panel);
        panel_viewport(&l, i, vp);
        plvpor(vp[0], vp[1], vp[2], vp[3]);
        plwind(1.0, E > 1 ? (double)E : 2.0, wy0, wy1 + pad);
        panel_box("bcnst", logy ? "bcnstvl" : "bcnstv");
        if (p->n_trials == 0) {
            plptex(0.5 * (1.0 + (double)E), 0.5 * (wy0 + wy1), 1.0, 0.0, 0.5,
                   "no finished trial");
        }
        for (int v = 1; v >= 0; v--) {
            double *b = buf + (i * 6 + (size_t)v * 3) * E;
            if (p->n_trials > 1) {
                plcol0(v ? COL_BAND1 : COL_BAND0);
                band_nan(E, xs, b + E, b + 2 * E, sx, sy);
            }
        }
        for (int v = 1; v >= 0; v--) {
            double *b = buf + (i * 6 + (size_t)v * 3) * E;
            plcol0(COL_SERIES + v);
            plwidth(2.0);
            line_nan(E, xs, b);
        }
        plwidth(1.0);
        plcol0(COL_FG);
        char ptitle[512];
        if (*p->label)
            snprintf(ptitle, sizeof ptitle, "%s (%zu seed%s)", p->label, p->n_trials,
                     p->n_trials == 1 ? "" : "s");
        else if (d->single_trial)
            snprintf(ptitle, sizeof ptitle, "test accuracy %.4f",
                     p->n_trials ? d->trials[p->trials[0]].test_accuracy : NAN);
        else
            snprintf(ptitle, sizeof ptitle, "%zu seed%s", p->n_trials,
                     p->n_trials == 1 ? "" : "s");
        plmtex("t", 0.8, 0.5, 0.5, pl_text(buf1, sizeof buf1, ptitle));
        plmtex("b", 3.0, 0.5, 0.5, "epoch");
        plmtex("l", 4.2, 0.5, 0.5, logy ? "loss (log scale)" : loss ? "loss" : "accuracy");
    }
    fig_end();
    free(buf);
    return 1;
oom:
    set_err(err, "out of memory");
    return -1;
}

/* ---- sweep summary --------------------------------------------------------- */

int report_plot_sweep(const report_data *d, const report_plot_cfg *c,
                      const char *path, report_error *err)
{
    size_t np = d->n_points, n_done = 0;
    for (size_t i = 0; i < np; i++)
        n_done += d->points[i].n_trials;
    if (np == 0 || n_done == 0)
        return 0;
    double *x = calloc(np * 4 + n_done * 2, sizeof *x);
    if (!x) {
        set_err(err, "out of memory");
        return -1;
    }
    double *mean = x + np, *ylo = mean + np, *yhi = ylo + np;
    double *sx = yhi + np, *sy = sx + n_done;
    int numeric = d->n_dims <= 1, all_int = 1, logx = 0;
    for (size_t i = 0; i < np; i++) {
        if (!d->points[i].numeric || !isfinite(d->points[i].value))
            numeric = 0;
        else if (d->points[i].value != floor(d->points[i].value))
            all_int = 0;
    }
    if (np == 1)
        numeric = 0;
    double vmin = INFINITY, vmax = -INFINITY;
    for (size_t i = 0; i < np && numeric; i++) {
        double v = d->points[i].value;
        vmin = v < vmin ? v : vmin;
        vmax = v > vmax ? v : vmax;
    }
    if (numeric && vmin > 0 && vmax / vmin >= 50)
        logx = 1;
    for (size_t i = 0; i < np; i++)
        x[i] = !numeric ? (double)i
                        : logx ? log10(d->points[i].value) : d->points[i].value;
    /* spacing: the smallest gap between neighbouring positions */
    double gap = INFINITY;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++)
            if (i != j && fabs(x[i] - x[j]) > 0 && fabs(x[i] - x[j]) < gap)
                gap = fabs(x[i] - x[j]);
    if (!isfinite(gap))
        gap = 1.0;
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
            double off = p->n_trials > 1
                             ? -(0.08 + 0.22 * (double)j / (double)(p->n_trials - 1)) * gap
                             : -0.1 * gap;
            sx[m] = x[i] + off;
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
    }
    if (!isfinite(lo)) {
        free(x);
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
    double xpad = 0.5 * gap;
    double wx0, wx1;
    if (numeric) {
        wx0 = x[0];
        wx1 = x[0];
        for (size_t i = 0; i < np; i++) {
            wx0 = x[i] < wx0 ? x[i] : wx0;
            wx1 = x[i] > wx1 ? x[i] : wx1;
        }
        wx0 -= xpad;
        wx1 += xpad;
    } else {
        wx0 = -0.5;
        wx1 = (double)np - 0.5;
    }
    if (fig_begin(c, path, err)) {
        free(x);
        return -1;
    }
    char title[512], tb[512];
    const char *dim = d->n_dims == 1 ? d->dim_names[0] : "sweep point";
    if (np > 1)
        snprintf(title, sizeof title, "%s: test accuracy vs %s", d->name, dim);
    else
        snprintf(title, sizeof title, "%s: test accuracy over %zu seeds", d->name, n_done);
    fig_title(title, NULL);
    {
        const char *text[3] = {"one seed", "mean \xc2\xb1 1 std", "Bayes limit"};
        const char *sym[3] = {"\xe2\x97\x8f", "\xe2\x97\x86", ""};
        int opt[3] = {PL_LEGEND_SYMBOL, PL_LEGEND_SYMBOL | PL_LEGEND_LINE, PL_LEGEND_LINE};
        int lc[3] = {COL_FG, COL_FG, COL_SERIES + 3};
        int sc[3] = {COL_SERIES, COL_FG, COL_FG};
        int ls[3] = {1, 1, 2};
        header_legend(isfinite(bayes) ? 3 : 2, text, opt, lc, ls, NULL, sc, sym);
    }
    plvpor(0.09, 0.97, 0.14, 0.84);
    plwind(wx0, wx1, wy0, wy1 + (wy1 - wy0) * 0.02);
    char xopt[16];
    if (numeric) {
        snprintf(xopt, sizeof xopt, "bcnst%s", logx ? "l" : "");
        plcol0(COL_GRID);
        plbox("g", all_int && !logx ? (wx1 - wx0 > 20 ? 5.0 : 1.0) : 0, 0, "g", 0, 0);
        plcol0(COL_FG);
        plbox(xopt, all_int && !logx ? (wx1 - wx0 > 20 ? 5.0 : 1.0) : 0,
              all_int && !logx ? 1 : 0, "bcnstv", 0, 0);
    } else {
        plcol0(COL_GRID);
        plbox("", 0, 0, "g", 0, 0);
        plcol0(COL_FG);
        plbox("bc", 0, 0, "bcnstv", 0, 0);
        /* One label per sweep point: horizontal while they fit, else vertical. */
        size_t longest = 0;
        for (size_t i = 0; i < np; i++)
            if (strlen(d->points[i].label) > longest)
                longest = strlen(d->points[i].label);
        int vertical = np * (longest + 2) > 110;
        chr(np > 12 ? 0.7 : 0.9);
        for (size_t i = 0; i < np; i++) {
            double pos = (x[i] - wx0) / (wx1 - wx0);
            const char *lab = *d->points[i].label ? d->points[i].label : "all seeds";
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
        char bl[64];
        snprintf(bl, sizeof bl, "Bayes limit %.3f (noise %.2g)", bayes, d->dataset.noise);
        chr(0.8);
        /* At the left end: the small models sit far below the limit there. */
        plptex(wx0 + 0.01 * (wx1 - wx0), bayes + 0.015 * (wy1 - wy0), 1.0, 0.0, 0.0, bl);
        chr(1.0);
    }
    /* seeds */
    plcol0(COL_SERIES);
    chr(0.55);
    plstring((PLINT)m, sx, sy, "\xe2\x97\x8f");
    /* mean line, error bars, mean markers */
    plcol0(COL_FG);
    plwidth(1.5);
    if (numeric)
        line_nan(np, x, mean);
    plerry((PLINT)np, x, ylo, yhi);
    chr(1.1);
    plstring((PLINT)np, x, mean, "\xe2\x97\x86");
    chr(1.0);
    plwidth(1.0);
    if (numeric) {
        plmtex("b", 3.0, 0.5, 0.5, pl_text(tb, sizeof tb, dim));
        if (logx)
            plmtex("b", 4.3, 0.5, 0.5, "(log scale)");
    }
    plmtex("l", 5.0, 0.5, 0.5, "test accuracy");
    fig_end();
    free(x);
    return 1;
}

/* ---- confusion matrix ------------------------------------------------------ */

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
    if (fig_begin(c, path, err))
        return -1;
    char title[512], sub[512], tb[256];
    if (*p->label)
        snprintf(title, sizeof title, "%s, %s: confusion matrix (test)", d->name, p->label);
    else
        snprintf(title, sizeof title, "%s: confusion matrix (test)", d->name);
    snprintf(sub, sizeof sub, "trial %lld, seed %lld, test accuracy %.4f%s", t->id, t->seed,
             t->test_accuracy,
             p->n_trials > 1 ? " (median of the seeds)" : "");
    fig_title(title, sub);

    /* cmap1: white -> dark blue, as matplotlib's Blues. */
    PLFLT pos[3] = {0.0, 0.5, 1.0};
    PLFLT r[3] = {0.97, 0.42, 0.03}, g[3] = {0.98, 0.68, 0.19}, b[3] = {1.0, 0.84, 0.42};
    plscmap1n(256);
    plscmap1l(1, 3, pos, r, g, b, NULL);

    /* A square matrix centred in the page, room for labels on every side. */
    double aspect = (double)c->width / (double)c->height;
    double hgt = 0.70, wid = hgt / aspect;
    double x0 = 0.5 - wid / 2 - 0.06, y0 = 0.12;
    plvpor(x0, x0 + wid, y0, y0 + hgt);
    plwind(-0.5, (double)k - 0.5, -0.5, (double)k - 0.5);
    double cell_font = k <= 4 ? 1.3 : k <= 10 ? 0.8 : k <= 20 ? 0.5 : 0.3;
    for (size_t i = 0; i < k; i++) {
        uint64_t row = 0;
        for (size_t j = 0; j < k; j++)
            row += t->cm[i * k + j];
        for (size_t j = 0; j < k; j++) {
            double frac = row ? (double)t->cm[i * k + j] / (double)row : 0.0;
            double yc = (double)(k - 1 - i), xc = (double)j;
            PLFLT cx[4] = {xc - 0.5, xc + 0.5, xc + 0.5, xc - 0.5};
            PLFLT cy[4] = {yc - 0.5, yc - 0.5, yc + 0.5, yc + 0.5};
            plcol1(frac);
            plfill(4, cx, cy);
            plcol0(frac > 0.5 ? COL_BG : COL_FG);
            chr(cell_font);
            char v[64];
            if (k <= 20 && t->cm[i * k + j] == 0) {
                /* Zero cells: one quiet "0" keeps the non-zero ones readable. */
                plcol0(COL_DARK);
                plptex(xc, yc - 0.1, 1.0, 0.0, 0.5, "0");
            } else if (k <= 20) {
                snprintf(v, sizeof v, "%.2f", frac);
                plptex(xc, yc + 0.08, 1.0, 0.0, 0.5, v);
                snprintf(v, sizeof v, "(%u)", t->cm[i * k + j]);
                chr(cell_font * 0.8);
                plptex(xc, yc - (k <= 4 ? 0.18 : 0.28), 1.0, 0.0, 0.5, v);
            }
        }
        /* row total at the right */
        plcol0(COL_DARK);
        chr(k <= 10 ? 0.85 : 0.6);
        char v[64];
        snprintf(v, sizeof v, "n = %llu", (unsigned long long)row);
        plmtex("rv", 0.8, ((double)(k - 1 - i) + 0.5) / (double)k, 0.0, v);
    }
    plcol0(COL_FG);
    chr(k <= 10 ? 0.95 : 0.6);
    for (size_t j = 0; j < k; j++) {
        double pp = ((double)j + 0.5) / (double)k;
        plmtex("b", 1.3, pp, 0.5, pl_text(tb, sizeof tb, d->class_names[j]));
        plmtex("lv", 0.8, ((double)(k - 1 - j) + 0.5) / (double)k, 1.0,
               pl_text(tb, sizeof tb, d->class_names[j]));
    }
    chr(1.0);
    plbox("bc", 0, 0, "bc", 0, 0);
    plmtex("b", 3.2, 0.5, 0.5, "predicted class");
    plmtex("l", 3.6, 0.5, 0.5, "true class");

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
    fig_end();
    return 1;
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

static void class_legend(const report_data *d, const char *what)
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
    header_legend((int)n, text, opt, NULL, NULL, NULL, sc, sym);
}

int report_plot_boundary(const report_data *d, const report_plot_cfg *c,
                         const char *path, report_error *err)
{
    size_t np = 0, k = d->n_classes;
    for (size_t i = 0; i < d->n_points; i++)
        if (d->points[i].n_trials && d->trials[d->points[i].median].has_grid)
            np++;
    if (np == 0 || k < 2)
        return 0;
    if (fig_begin(c, path, err))
        return -1;
    char title[512], tb[512];
    snprintf(title, sizeof title, "%s: decision boundary", d->name);
    fig_title(title, np > 1 ? "median trial of each sweep point; dots: its test rows"
                            : "dots: the trial's test rows");
    class_legend(d, "class");
    layout l;
    square_grid_shape(np, (double)c->width / (c->height * 0.86), &l.ncol, &l.nrow);
    l.top = 0.14;
    l.ml = 5.5;
    l.mr = 1.0;
    l.mb = 4.8;
    l.mt = 4.4;
    double chr_panel = l.nrow > 2 ? 0.8 : 1.0;
    size_t slot = 0;
    for (size_t i = 0; i < d->n_points; i++) {
        const report_point *p = &d->points[i];
        if (!p->n_trials || !d->trials[p->median].has_grid)
            continue;
        const report_trial *t = &d->trials[p->median];
        size_t res = t->grid_res;
        double vp[4];
        chr(chr_panel);
        panel_viewport(&l, slot++, vp);
        plvpas(vp[0], vp[1], vp[2], vp[3],
               (t->grid_x1[1] - t->grid_x1[0]) / (t->grid_x0[1] - t->grid_x0[0]));
        plwind(t->grid_x0[0], t->grid_x0[1], t->grid_x1[0], t->grid_x1[1]);
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
            fig_end();
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
        panel_box("bcnst", "bcnstv");
        char ptitle[512];
        if (*p->label)
            plmtex("t", 2.5, 0.5, 0.5, pl_text(tb, sizeof tb, p->label));
        snprintf(ptitle, sizeof ptitle, "seed %lld, test accuracy %.3f", t->seed,
                 t->test_accuracy);
        chr(chr_panel * 0.85);
        plmtex("t", 1.3, 0.5, 0.5, ptitle);
        chr(chr_panel);
        plmtex("b", 2.8, 0.5, 0.5, "x#d0#u");
        plmtex("l", 3.2, 0.5, 0.5, "x#d1#u");
    }
    fig_end();
    return 1;
}

/* ---- dataset preview ------------------------------------------------------- */

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
    if (fig_begin(c, path, err)) {
        plFree2dGrid(z, (PLINT)w, (PLINT)h);
        return -1;
    }
    char title[512], tb[256];
    snprintf(title, sizeof title, "%s: the first %zu images of the data", d->name, n);
    fig_title(title, NULL);
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
    for (size_t i = 0; i < n; i++) {
        double vp[4];
        panel_viewport(&l, i, vp);
        plvpas(vp[0], vp[1], vp[2], vp[3], (double)h / (double)w);
        plwind(0, (double)w, 0, (double)h);
        for (size_t ix = 0; ix < w; ix++)
            for (size_t iy = 0; iy < h; iy++)
                z[ix][iy] = s->x[i * s->n_features + (h - 1 - iy) * w + ix];
        plimage((const PLFLT *const *)z, (PLINT)w, (PLINT)h, 0, (double)w, 0, (double)h, 0,
                vmax, 0, (double)w, 0, (double)h);
        plcol0(COL_FG);
        plbox("bc", 0, 0, "bc", 0, 0);
        char lab[128];
        snprintf(lab, sizeof lab, "label %s",
                 s->class_names && s->y[i] >= 0 && (size_t)s->y[i] < s->n_classes
                     ? s->class_names[s->y[i]] : "?");
        chr(1.1);
        plmtex("t", 0.9, 0.5, 0.5, pl_text(tb, sizeof tb, lab));
        chr(1.0);
    }
    fig_end();
    plFree2dGrid(z, (PLINT)w, (PLINT)h);
    return 1;
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
    if (fig_begin(c, path, err))
        return -1;
    char title[512], sub[512];
    snprintf(title, sizeof title, "%s: the data (%zu rows)", d->name, total);
    snprintf(sub, sizeof sub, "data seed %lld: train %zu, validation %zu, test %zu%s",
             ds->seed, ds->splits.train.n_rows, ds->splits.validation.n_rows,
             ds->splits.test.n_rows, ds->noise > 0 ? ", with the augmentation noise" : "");
    fig_title(title, sub);
    class_legend(d, "class");
    plvpas(0.08, 0.98, 0.10, 0.84, (y1 - y0 + 2 * py) / (x1 - x0 + 2 * px));
    plwind(x0 - px, x1 + px, y0 - py, y1 + py);
    panel_box("bcnst", "bcnstv");
    for (int s = 0; s < 3; s++)
        scatter_classes(parts[s], d->n_classes, 0.6);
    plcol0(COL_FG);
    plmtex("b", 3.0, 0.5, 0.5, "x#d0#u");
    plmtex("l", 3.5, 0.5, 0.5, "x#d1#u");
    fig_end();
    return 1;
}
