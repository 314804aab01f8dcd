/* test_stats: sample statistics, bootstrap CIs, paired t and Wilcoxon tests,
 * Holm and the t distribution against independent references.
 *
 * tests/fixtures/stats_*.txt were written by tests/fixtures/gen_stats_fixtures.py
 * from numpy 1.24 and SciPy 1.10 (scipy.stats.ttest_rel, wilcoxon exact and
 * approx, t.sf, special.betainc, trim_mean; numpy.quantile over bootstrap
 * means whose resample indices come from an independent Python xoshiro256**);
 * regenerate with /usr/bin/python3 tests/fixtures/gen_stats_fixtures.py. The
 * test itself never runs Python. A few values are also worked out by hand
 * below. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rng.h"
#include "stats.h"

/* Expected values: NaN must be NaN, equal values (inf included) pass, else
 * |got - want| <= tol * max(|want|, scale). */
#define assert_rel(got, want, tol, scale, ctx) \
    check_rel((double)(got), (double)(want), (tol), (scale), #got, (ctx), __FILE__, __LINE__)
static void check_rel(double got, double want, double tol, double scale, const char *what,
                      const char *ctx, const char *file, int line)
{
    double lim = tol * (fabs(want) > scale ? fabs(want) : scale);
    if (isnan(want) ? isnan(got) : (got == want || fabs(got - want) <= lim))
        return;
    print_error("%s: %s = %.17g, expected %.17g (tolerance %g)\n", ctx, what, got, want, lim);
    _fail(file, line);
}

#define MAXV 1024

/* One fixture line: its keyword and up to MAXV numbers after it. */
typedef struct fline {
    char key[32];
    char word[64]; /* the second token (a case name) */
    double v[MAXV];
    size_t n;
} fline;

static FILE *open_fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", RUNEXP_FIXTURES, name);
    FILE *f = fopen(path, "r");
    if (!f)
        print_error("cannot open %s\n", path);
    assert_non_null(f);
    return f;
}

/* Next non-comment line; 0 at the end of the file. For "case" lines the
 * name goes to word and the numbers after it to v. */
static int next_line(FILE *f, fline *l)
{
    char buf[32768];
    while (fgets(buf, sizeof buf, f)) {
        char *p = buf, *end;
        int used = 0;
        if (buf[0] == '#' || buf[0] == '\n')
            continue;
        assert_non_null(strchr(buf, '\n')); /* the line fit */
        assert_int_equal(sscanf(p, "%31s%n", l->key, &used), 1);
        p += used;
        l->word[0] = 0;
        if (strcmp(l->key, "case") == 0) {
            assert_int_equal(sscanf(p, "%63s%n", l->word, &used), 1);
            p += used;
        }
        l->n = 0;
        for (;;) {
            double v = strtod(p, &end);
            if (end == p)
                break;
            assert_true(l->n < MAXV);
            l->v[l->n++] = v;
            p = end;
        }
        while (*p == ' ' || *p == '\n')
            p++;
        assert_int_equal(*p, 0); /* every token was read */
        return 1;
    }
    return 0;
}

static void expect_line(FILE *f, fline *l, const char *key)
{
    assert_int_equal(next_line(f, l), 1);
    if (strcmp(l->key, key) != 0)
        print_error("fixture: expected a '%s' line, got '%s'\n", key, l->key);
    assert_string_equal(l->key, key);
}

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && fabs(x[i]) > m)
            m = fabs(x[i]);
    return m;
}

static void bootstrap_of(const fline *c, stats_bootstrap *b)
{
    assert_int_equal(c->n, 3);
    b->resamples = (size_t)c->v[0];
    b->level = c->v[1];
    b->seed = (uint64_t)c->v[2];
}

/* ---- the RNG the bootstrap draws from equals the Python reference ------- */

static void test_bootstrap_stream(void **state)
{
    (void)state;
    FILE *f = open_fixture("stats_rng.txt");
    char buf[2048];
    int lines = 0;
    while (fgets(buf, sizeof buf, f)) {
        unsigned long long seed, n, want;
        char *p = buf, *end;
        rng_state r;
        if (strncmp(buf, "below ", 6) != 0)
            continue;
        p += 6;
        seed = strtoull(p, &end, 10);
        p = end;
        n = strtoull(p, &end, 10);
        p = end;
        rng_stream(&r, seed, RNG_PURPOSE_BOOTSTRAP);
        for (int i = 0; i < 16; i++) {
            want = strtoull(p, &end, 10);
            assert_true(end != p);
            p = end;
            assert_true(rng_below(&r, n) == want);
        }
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 6);
}

/* ---- one sample ----------------------------------------------------------- */

static void test_summary_fixtures(void **state)
{
    (void)state;
    FILE *f = open_fixture("stats_summary.txt");
    fline c, x, e;
    int cases = 0;
    while (next_line(f, &c)) {
        stats_bootstrap b;
        stats_summary s, s2;
        assert_string_equal(c.key, "case");
        bootstrap_of(&c, &b);
        expect_line(f, &x, "x");
        expect_line(f, &e, "expect");
        assert_int_equal(e.n, 9);
        size_t need = stats_summary_scratch(x.n, &b);
        double *scratch = malloc(need * sizeof *scratch);
        assert_non_null(scratch);
        assert_int_equal(stats_summary_compute(x.v, x.n, &b, scratch, &s), 0);
        free(scratch);
        const double sc = max_abs(x.v, x.n), tol = 1e-12;
        assert_int_equal(s.n, (size_t)e.v[0]);
        assert_rel(s.mean, e.v[1], tol, sc, c.word);
        assert_rel(s.std, e.v[2], tol, sc, c.word);
        assert_rel(s.min, e.v[3], 0.0, 0.0, c.word);
        assert_rel(s.max, e.v[4], 0.0, 0.0, c.word);
        assert_rel(s.median, e.v[5], tol, sc, c.word);
        assert_rel(s.iqm, e.v[6], tol, sc, c.word);
        assert_rel(s.ci_lo, e.v[7], tol, sc, c.word);
        assert_rel(s.ci_hi, e.v[8], tol, sc, c.word);
        /* the same without caller scratch, and again: a pure function */
        assert_int_equal(stats_summary_compute(x.v, x.n, &b, NULL, &s2), 0);
        assert_memory_equal(&s, &s2, sizeof s);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 50);
}

static void test_summary_by_hand(void **state)
{
    (void)state;
    /* sorted 1 2 3 4 100 200 300 400: median (4 + 100) / 2, IQM mean of
     * x[2..6) = (3 + 4 + 100 + 200) / 4 */
    double x[] = {300, 1, 4, 200, NAN, 3, 100, 2, 400};
    stats_summary s;
    assert_int_equal(stats_summary_compute(x, 9, NULL, NULL, &s), 0);
    assert_int_equal(s.n, 8);
    assert_rel(s.mean, 1010.0 / 8.0, 1e-15, 0, "hand");
    assert_rel(s.median, 52.0, 0, 0, "hand");
    assert_rel(s.iqm, 307.0 / 4.0, 1e-15, 0, "hand");
    assert_rel(s.min, 1.0, 0, 0, "hand");
    assert_rel(s.max, 400.0, 0, 0, "hand");
    assert_true(s.ci_lo < s.mean && s.mean < s.ci_hi);
    /* n = 1: std NaN, the CI is the value itself */
    double one = 0.25;
    assert_int_equal(stats_summary_compute(&one, 1, NULL, NULL, &s), 0);
    assert_true(isnan(s.std));
    assert_rel(s.ci_lo, 0.25, 0, 0, "n1");
    assert_rel(s.ci_hi, 0.25, 0, 0, "n1");
    /* quantile, numpy 'linear': of 0 10 20 30, q = 0.5 -> 15, q = 0.1 -> 3 */
    double v[] = {0, 10, 20, 30};
    assert_rel(stats_quantile_sorted(v, 4, 0.5), 15.0, 1e-15, 0, "q");
    assert_rel(stats_quantile_sorted(v, 4, 0.1), 3.0, 1e-15, 0, "q");
    assert_rel(stats_quantile_sorted(v, 4, 1.0), 30.0, 0, 0, "q");
    assert_rel(stats_quantile_sorted(v, 4, 0.0), 0.0, 0, 0, "q");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    double x[] = {1, 2, 3}, lo, hi;
    stats_summary s;
    stats_paired pr;
    stats_bootstrap b;
    stats_bootstrap_init(&b);
    assert_int_equal(b.resamples, 10000);
    assert_true(b.level == 0.95);
    assert_true(b.seed == 0);
    b.resamples = 0;
    assert_int_equal(stats_summary_compute(x, 3, &b, NULL, &s), -1);
    assert_int_equal(stats_bootstrap_mean_ci(x, 3, &b, NULL, &lo, &hi), -1);
    stats_bootstrap_init(&b);
    b.level = 1.0;
    assert_int_equal(stats_paired_compute(x, x, 3, &b, NULL, &pr), -1);
    b.level = NAN;
    assert_int_equal(stats_summary_compute(x, 3, &b, NULL, &s), -1);
    assert_int_equal(stats_wilcoxon_scratch(SIZE_MAX - 1000), 0);
    /* n + m(m + 1) + 1 with m = min(n, 400): the exact table stops growing */
    assert_int_equal(stats_wilcoxon_scratch(400), 400 + 400 * 401 + 1);
    assert_int_equal(stats_wilcoxon_scratch(1000), 1000 + 400 * 401 + 1);
}

/* ---- many bootstraps at once ---------------------------------------------- */

/* The bootstrap written out plainly: resample k sums the next n draws of
 * rng_below, one at a time, in draw order; the bounds are numpy's linear
 * quantiles of the sorted means (stats_quantile_sorted). */
static void naive_ci(const double *x, size_t n, const stats_bootstrap *b, double *lo,
                     double *hi)
{
    double *means = malloc(b->resamples * sizeof *means);
    rng_state r;
    assert_non_null(means);
    rng_stream(&r, b->seed, RNG_PURPOSE_BOOTSTRAP);
    for (size_t k = 0; k < b->resamples; k++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += x[rng_below(&r, n)];
        means[k] = s / (double)n;
    }
    stats_sort(means, b->resamples);
    double alpha = 1.0 - b->level;
    *lo = stats_quantile_sorted(means, b->resamples, alpha / 2.0);
    *hi = stats_quantile_sorted(means, b->resamples, 1.0 - alpha / 2.0);
    free(means);
}

static void test_bootstrap_many(void **state)
{
    (void)state;
    /* lengths around the 512-draw blocks and column counts around the
     * eight-wide groups, B small and odd so resamples straddle blocks */
    const size_t ns[] = {1, 2, 3, 7, 100, 511, 512, 513, 1000};
    const size_t ms[] = {1, 2, 7, 8, 9, 16, 17, 33, 40, 64};
    rng_state g;
    rng_seed(&g, 12345);
    int cases = 0;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t c = 0; c < sizeof ms / sizeof ms[0]; c++) {
            size_t n = ns[a], m = ms[c];
            stats_bootstrap b;
            stats_bootstrap_init(&b);
            b.resamples = 37 + 10 * c;
            b.level = 0.9;
            b.seed = 7 + a;
            double *x = malloc(n * m * sizeof *x), *col = malloc(n * sizeof *col);
            double *lo = malloc(m * sizeof *lo), *hi = malloc(m * sizeof *hi);
            size_t need = stats_bootstrap_many_scratch(m, &b);
            assert_int_equal(need, m * b.resamples);
            double *scratch = malloc(need * sizeof *scratch);
            assert_true(x && col && lo && hi && scratch);
            /* values with many significant bits, so any other order of a
             * column's sums would round differently */
            for (size_t i = 0; i < n * m; i++)
                x[i] = rng_normal(&g) * 1e3 + rng_uniform(&g);
            assert_int_equal(stats_bootstrap_mean_ci_many(x, n, m, &b, scratch, lo, hi), 0);
            for (size_t j = 0; j < m; j++) {
                double nlo, nhi, slo, shi;
                for (size_t i = 0; i < n; i++)
                    col[i] = x[i * m + j];
                naive_ci(col, n, &b, &nlo, &nhi);
                assert_true(lo[j] == nlo && hi[j] == nhi);
                assert_int_equal(stats_bootstrap_mean_ci(col, n, &b, NULL, &slo, &shi), 0);
                assert_true(slo == nlo && shi == nhi);
            }
            /* allocated scratch: the same */
            double lo2[64], hi2[64];
            assert_int_equal(stats_bootstrap_mean_ci_many(x, n, m, &b, NULL, lo2, hi2), 0);
            assert_memory_equal(lo, lo2, m * sizeof *lo);
            assert_memory_equal(hi, hi2, m * sizeof *hi);
            free(x);
            free(col);
            free(lo);
            free(hi);
            free(scratch);
            cases++;
        }
    assert_int_equal(cases, 90);
    /* n = 0: NaN for every column; bad B */
    double lo[3], hi[3], x[3] = {1, 2, 3};
    assert_int_equal(stats_bootstrap_mean_ci_many(x, 0, 3, NULL, NULL, lo, hi), 0);
    assert_true(isnan(lo[0]) && isnan(hi[2]));
    stats_bootstrap b;
    stats_bootstrap_init(&b);
    b.resamples = 0;
    assert_int_equal(stats_bootstrap_mean_ci_many(x, 3, 1, &b, NULL, lo, hi), -1);
    assert_int_equal(stats_bootstrap_many_scratch(0, NULL), 0);
}

/* describe = compute without the CI; the paired one likewise */
static void test_describe(void **state)
{
    (void)state;
    double x[] = {0.5, NAN, 0.25, 0.875, 0.125, 0.75, NAN, 0.5};
    double y[] = {0.25, 0.5, NAN, 0.5, 0.25, 0.125, 0.5, 0.625};
    stats_summary a, d;
    stats_paired pa, pd;
    assert_int_equal(stats_summary_compute(x, 8, NULL, NULL, &a), 0);
    assert_int_equal(stats_summary_describe(x, 8, NULL, &d), 0);
    assert_true(isnan(d.ci_lo) && isnan(d.ci_hi));
    d.ci_lo = a.ci_lo;
    d.ci_hi = a.ci_hi;
    assert_memory_equal(&a, &d, sizeof a);
    assert_int_equal(stats_paired_compute(x, y, 8, NULL, NULL, &pa), 0);
    assert_int_equal(stats_paired_describe(x, y, 8, NULL, &pd), 0);
    assert_true(isnan(pd.ci_lo) && isnan(pd.ci_hi));
    assert_int_equal(pd.n, 5);
    pd.ci_lo = pa.ci_lo;
    pd.ci_hi = pa.ci_hi;
    assert_memory_equal(&pa, &pd, sizeof pa);
}

/* ---- paired comparisons --------------------------------------------------- */

static void test_paired_fixtures(void **state)
{
    (void)state;
    FILE *f = open_fixture("stats_paired.txt");
    fline c, a, b, df, tt, w;
    int cases = 0, ties = 0, zeros = 0;
    while (next_line(f, &c)) {
        stats_bootstrap bs;
        stats_paired p, p2;
        assert_string_equal(c.key, "case");
        bootstrap_of(&c, &bs);
        expect_line(f, &a, "a");
        expect_line(f, &b, "b");
        expect_line(f, &df, "diff");
        expect_line(f, &tt, "ttest");
        expect_line(f, &w, "wilcoxon");
        assert_int_equal(a.n, b.n);
        size_t need = stats_paired_scratch(a.n, &bs);
        double *scratch = malloc(need * sizeof *scratch);
        assert_non_null(scratch);
        assert_int_equal(stats_paired_compute(a.v, b.v, a.n, &bs, scratch, &p), 0);
        free(scratch);
        double sc = max_abs(a.v, a.n), sb = max_abs(b.v, b.n);
        if (sb > sc)
            sc = sb;
        const double tol = 1e-12;
        const char *cw = c.word;
        assert_int_equal(p.n, (size_t)df.v[0]);
        assert_int_equal(p.t.n, p.n);
        assert_rel(p.mean_diff, df.v[1], tol, sc, cw);
        assert_rel(p.t.sd, df.v[2], tol, sc, cw);
        assert_rel(p.ci_lo, df.v[3], tol, sc, cw);
        assert_rel(p.ci_hi, df.v[4], tol, sc, cw);
        assert_rel(p.t.t, tt.v[0], 1e-10, 0.0, cw);
        assert_rel(p.t.df, tt.v[1], 0.0, 0.0, cw);
        assert_rel(p.t.p, tt.v[2], 1e-9, 0.0, cw);
        assert_int_equal(p.w.n, (size_t)w.v[0]);
        assert_int_equal(p.w.n_zero, (size_t)w.v[1]);
        assert_int_equal(p.w.ties, (int)w.v[2]);
        assert_rel(p.w.w_plus, w.v[3], 0.0, 0.0, cw);
        assert_rel(p.w.w_minus, w.v[4], 0.0, 0.0, cw);
        assert_rel(p.w.statistic, w.v[5], 0.0, 0.0, cw);
        assert_rel(p.w.p, w.v[6], 1e-12, 0.0, cw);
        assert_rel(p.w.min_p, w.v[7], 0.0, 0.0, cw);
        assert_rel(p.w.z, w.v[8], 1e-12, 0.0, cw);
        assert_rel(p.w.p_normal, w.v[9], 1e-10, 0.0, cw);
        ties += p.w.ties;
        zeros += p.w.n_zero > 0;
        assert_int_equal(stats_paired_compute(a.v, b.v, a.n, &bs, NULL, &p2), 0);
        assert_memory_equal(&p, &p2, sizeof p);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 45);
    assert_true(ties >= 5);  /* the tie and zero branches were exercised */
    assert_true(zeros >= 5);
}

static void test_paired_by_hand(void **state)
{
    (void)state;
    /* d = 1 2 3 4 5: W+ = 15, W- = 0, exact p = 2 / 2^5 = 0.0625, the
     * smallest reachable with 5 pairs. mean 3, sd sqrt(2.5): t = 3 sqrt 2,
     * df 4, and for df 4 P(|T| > t) = 1 - t (t^2 + 6) / (t^2 + 4)^(3/2). */
    double a[] = {1, 2, 3, 4, 5}, b[] = {0, 0, 0, 0, 0};
    stats_paired p;
    assert_int_equal(stats_paired_compute(a, b, 5, NULL, NULL, &p), 0);
    assert_rel(p.w.w_plus, 15.0, 0, 0, "hand");
    assert_rel(p.w.statistic, 0.0, 0, 0, "hand");
    assert_rel(p.w.p, 0.0625, 1e-15, 0, "hand");
    assert_rel(p.t.t, 3.0 * sqrt(2.0), 1e-14, 0, "hand");
    assert_rel(p.t.p, 1.0 - sqrt(18.0) * 24.0 / pow(22.0, 1.5), 1e-12, 0, "hand");
    /* a tie: d = 1 -2 2 3: ranks 1, 2.5, 2.5, 4; W+ = 7.5, W- = 2.5. Exact
     * over the 16 sign vectors of {1, 2.5, 2.5, 4}: W+ <= 2.5 for {},
     * {1}, {2.5}, {2.5'}: 4 of 16 -> p = 2 * 4/16 = 0.5. */
    double d[] = {1, -2, 2, 3}, scratch[32];
    stats_wilcoxon w;
    assert_int_equal(stats_wilcoxon_diff(d, 4, scratch, &w), 0);
    assert_int_equal(w.ties, 1);
    assert_rel(w.w_plus, 7.5, 0, 0, "tie");
    assert_rel(w.w_minus, 2.5, 0, 0, "tie");
    assert_rel(w.p, 0.5, 1e-15, 0, "tie");
}

/* At STATS_WILCOXON_EXACT_MAX nonzero differences p is still exact; above
 * it, and with ties and zeros, scipy's normal approximation. */
static void test_wilcoxon_large(void **state)
{
    (void)state;
    FILE *f = open_fixture("stats_wilcoxon_large.txt");
    fline c, d, w;
    int cases = 0;
    while (next_line(f, &c)) {
        stats_wilcoxon r;
        const char *cw = c.word;
        expect_line(f, &d, "d");
        expect_line(f, &w, "wilcoxon");
        size_t need = stats_wilcoxon_scratch(d.n);
        double *scratch = malloc(need * sizeof *scratch);
        assert_non_null(scratch);
        assert_int_equal(stats_wilcoxon_diff(d.v, d.n, scratch, &r), 0);
        free(scratch);
        assert_int_equal(r.n, (size_t)w.v[0]);
        assert_int_equal(r.n_zero, (size_t)w.v[1]);
        assert_int_equal(r.ties, (int)w.v[2]);
        assert_rel(r.w_plus, w.v[3], 0.0, 0.0, cw);
        assert_rel(r.w_minus, w.v[4], 0.0, 0.0, cw);
        assert_rel(r.statistic, w.v[5], 0.0, 0.0, cw);
        assert_rel(r.p, w.v[6], 1e-10, 0.0, cw);
        assert_rel(r.min_p, w.v[7], 0.0, 0.0, cw);
        assert_rel(r.z, w.v[8], 1e-12, 0.0, cw);
        assert_rel(r.p_normal, w.v[9], 1e-10, 0.0, cw);
        assert_int_equal(r.exact, (int)w.v[10]);
        cases++;
    }
    fclose(f);
    assert_int_equal(cases, 3);
}

static void test_min_p(void **state)
{
    (void)state;
    assert_rel(stats_wilcoxon_min_p(0), 1.0, 0, 0, "minp");
    assert_rel(stats_wilcoxon_min_p(1), 1.0, 0, 0, "minp");
    assert_rel(stats_wilcoxon_min_p(2), 0.5, 0, 0, "minp");
    assert_rel(stats_wilcoxon_min_p(5), 0.0625, 0, 0, "minp");
    assert_rel(stats_wilcoxon_min_p(6), 0.03125, 0, 0, "minp");
    assert_true(stats_wilcoxon_min_p(5) >= 0.05 && stats_wilcoxon_min_p(6) < 0.05);
    assert_true(stats_wilcoxon_min_p(100000) == 0.0);
}

/* ---- Holm ----------------------------------------------------------------- */

static void test_holm_fixtures(void **state)
{
    (void)state;
    FILE *f = open_fixture("stats_holm.txt");
    fline h, p, e;
    int sets = 0;
    while (next_line(f, &h)) {
        size_t order[MAXV];
        double adj[MAXV];
        assert_string_equal(h.key, "holm");
        expect_line(f, &p, "p");
        expect_line(f, &e, "adj");
        assert_int_equal(p.n, (size_t)h.v[0]);
        assert_int_equal(e.n, p.n);
        assert_int_equal(stats_holm(p.v, p.n, adj, order), 0);
        for (size_t i = 0; i < p.n; i++)
            assert_rel(adj[i], e.v[i], 1e-15, 0.0, "holm");
        /* in place, allocating its own order */
        assert_int_equal(stats_holm(p.v, p.n, p.v, NULL), 0);
        for (size_t i = 0; i < p.n; i++)
            assert_rel(p.v[i], e.v[i], 1e-15, 0.0, "holm in place");
        sets++;
    }
    fclose(f);
    assert_true(sets >= 12);
    /* by hand: 0.01 0.04 0.03 0.005 -> 4(.005) = .02, 3(.01) = .03,
     * 2(.03) = .06, max(.06, 1(.04)) = .06 */
    double q[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    assert_int_equal(stats_holm(q, 4, adj, NULL), 0);
    assert_rel(adj[0], 0.03, 1e-15, 0, "hand");
    assert_rel(adj[1], 0.06, 1e-15, 0, "hand");
    assert_rel(adj[2], 0.06, 1e-15, 0, "hand");
    assert_rel(adj[3], 0.02, 1e-15, 0, "hand");
}

/* ---- distributions -------------------------------------------------------- */

static void test_distributions(void **state)
{
    (void)state;
    FILE *f = open_fixture("stats_tdist.txt");
    fline l;
    int nt = 0, nb = 0, ng = 0;
    char ctx[128];
    while (next_line(f, &l)) {
        if (strcmp(l.key, "t") == 0) {
            snprintf(ctx, sizeof ctx, "t=%g df=%g", l.v[0], l.v[1]);
            assert_rel(stats_t_sf(l.v[0], l.v[1]), l.v[2], 1e-9, 0.0, ctx);
            assert_rel(stats_t_p_two_sided(l.v[0], l.v[1]), l.v[3], 1e-9, 0.0, ctx);
            nt++;
        } else if (strcmp(l.key, "beta") == 0) {
            snprintf(ctx, sizeof ctx, "a=%g b=%g x=%g", l.v[0], l.v[1], l.v[2]);
            assert_rel(stats_beta_inc(l.v[0], l.v[1], l.v[2]), l.v[3], 1e-9, 0.0, ctx);
            nb++;
        } else {
            assert_string_equal(l.key, "lgamma");
            snprintf(ctx, sizeof ctx, "x=%g", l.v[0]);
            assert_rel(stats_lgamma(l.v[0]), l.v[1], 1e-13, 1.0, ctx);
            ng++;
        }
    }
    fclose(f);
    assert_true(nt >= 400 && nb >= 300 && ng >= 10);
    /* df = 1 is Cauchy: P(T > 1) = 1/4; df = 2: P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2 */
    assert_rel(stats_t_sf(1.0, 1.0), 0.25, 1e-14, 0, "cauchy");
    assert_rel(stats_t_sf(2.0, 2.0), (1.0 - 2.0 / sqrt(6.0)) / 2.0, 1e-14, 0, "df2");
    assert_true(isnan(stats_t_p_two_sided(NAN, 3.0)));
    assert_true(stats_t_p_two_sided(INFINITY, 3.0) == 0.0);
    assert_true(stats_t_p_two_sided(0.0, 3.0) == 1.0);
    assert_true(isnan(stats_beta_inc(1.0, 1.0, 1.5)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap_stream),
        cmocka_unit_test(test_summary_fixtures),
        cmocka_unit_test(test_summary_by_hand),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_bootstrap_many),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_paired_fixtures),
        cmocka_unit_test(test_paired_by_hand),
        cmocka_unit_test(test_wilcoxon_large),
        cmocka_unit_test(test_min_p),
        cmocka_unit_test(test_holm_fixtures),
        cmocka_unit_test(test_distributions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
