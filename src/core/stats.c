/* stats: sample summaries, bootstrap CIs, paired t and Wilcoxon tests, Holm.
 * See stats.h for the definitions; the fixtures in tests/fixtures/stats_*.txt
 * (tests/fixtures/gen_stats_fixtures.py) check them against numpy and SciPy. */
#include "stats.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

void stats_bootstrap_init(stats_bootstrap *b)
{
    b->resamples = STATS_BOOTSTRAP_RESAMPLES;
    b->level = STATS_BOOTSTRAP_LEVEL;
    b->seed = STATS_BOOTSTRAP_SEED;
}

static int bootstrap_ok(const stats_bootstrap *b)
{
    return b->resamples >= 1 && b->level > 0.0 && b->level < 1.0;
}

/* a + b without wrapping; 0 on overflow (no scratch size is 0 otherwise,
 * every caller adds at least one element). */
static size_t add_size(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? 0 : a + b;
}

/* ---- one sample ----------------------------------------------------------- */

size_t stats_finite(const double *x, size_t n, double *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            out[k++] = x[i];
    return k;
}

double stats_mean(const double *x, size_t n)
{
    double s = 0.0, c = 0.0, m;
    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    m = s / (double)n;
    /* One correction pass: the residual sum is small and nearly exact, so
     * the mean is within an ulp or so of the true one; n equal values give
     * that value exactly (the plain sum / n may not). */
    if (isfinite(m)) {
        for (size_t i = 0; i < n; i++)
            c += x[i] - m;
        m += c / (double)n;
    }
    return m;
}

double stats_std(const double *x, size_t n, double mean)
{
    double s = 0.0;
    if (n < 2)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        double e = x[i] - mean;
        s += e * e;
    }
    return sqrt(s / (double)(n - 1));
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

void stats_sort(double *x, size_t n)
{
    if (n > 1)
        qsort(x, n, sizeof *x, cmp_double);
}

double stats_median_sorted(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    if (n % 2)
        return v[n / 2];
    return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double stats_iqm_sorted(const double *v, size_t n)
{
    size_t k = n / 4;
    if (n == 0)
        return NAN;
    return stats_mean(v + k, n - 2 * k);
}

double stats_quantile_sorted(const double *v, size_t n, double q)
{
    double h, g, a, diff;
    size_t j;
    if (n == 0 || isnan(q))
        return NAN;
    h = (double)(n - 1) * q;
    if (h <= 0.0)
        return v[0];
    j = (size_t)floor(h);
    if (j >= n - 1)
        return v[n - 1];
    g = h - (double)j;
    a = v[j];
    diff = v[j + 1] - a;
    /* numpy's _lerp: from the nearer end, so g = 1 gives v[j+1] exactly */
    return g >= 0.5 ? v[j + 1] - diff * (1.0 - g) : a + diff * g;
}

/* Moves the k-th smallest of v[0..n) to v[k], with nothing larger before it
 * and nothing smaller after it (quickselect, median-of-three pivot, no NaN
 * in v). Deterministic: the same input gives the same arrangement. */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo]) { double t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        if (v[hi] < v[lo]) { double t = v[hi]; v[hi] = v[lo]; v[lo] = t; }
        if (v[hi] < v[mid]) { double t = v[hi]; v[hi] = v[mid]; v[mid] = t; }
        double pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* now v[lo..j] <= pivot <= v[i..hi], and i > j */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break; /* v[j+1..i-1] all equal the pivot */
    }
    return v[k];
}

/* stats_quantile_sorted's value for an unsorted v, reordering v: the two
 * order statistics it needs are found by selection instead of a sort. */
static double quantile_select(double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q, g, a, b;
    size_t j;
    if (h <= 0.0)
        return select_kth(v, n, 0);
    j = (size_t)floor(h);
    if (j >= n - 1)
        return select_kth(v, n, n - 1);
    g = h - (double)j;
    a = select_kth(v, n, j);
    b = v[j + 1]; /* the next order statistic: the least of v[j+1..n) */
    for (size_t i = j + 2; i < n; i++)
        if (v[i] < b)
            b = v[i];
    double diff = b - a;
    return g >= 0.5 ? b - diff * (1.0 - g) : a + diff * g;
}

int stats_bootstrap_mean_ci(const double *x, size_t n, const stats_bootstrap *b,
                            double *scratch, double *lo, double *hi)
{
    /* one column; the many-sample version's scratch is m * B doubles */
    return stats_bootstrap_mean_ci_many(x, n, 1, b, scratch, lo, hi);
}

size_t stats_bootstrap_many_scratch(size_t m, const stats_bootstrap *b)
{
    size_t B = b ? b->resamples : STATS_BOOTSTRAP_RESAMPLES;
    if (m == 0 || B > SIZE_MAX / m)
        return 0;
    return m * B;
}

/* Columns add_rows keeps in AVX-512 registers at once: each column's sum
 * is one chain of dependent adds, so several chains side by side keep the
 * adder busy (32 doubles: four registers). */
#define ADD_ROWS_WIDE 32

/* s[j * stride] += x[idx[t] * m + j] for t = 0..c-1, every column j < m:
 * each column's sum in the order of the draws, as one sample alone adds
 * them. Without AVX-512, eight columns at a time as the compiler
 * vectorises them, then one by one. */
static void add_rows(const double *x, size_t m, const uint64_t *idx, size_t c, double *s,
                     size_t stride)
{
    size_t j0 = 0;
#if defined(__AVX512F__)
    /* The same adds, lane by lane, in four registers (compilers tend to
     * keep the array below in memory, putting a store and a load into
     * every chain). */
    for (; j0 + ADD_ROWS_WIDE <= m; j0 += ADD_ROWS_WIDE) {
        double a[ADD_ROWS_WIDE];
        for (size_t q = 0; q < ADD_ROWS_WIDE; q++)
            a[q] = s[(j0 + q) * stride];
        __m512d a0 = _mm512_loadu_pd(a), a1 = _mm512_loadu_pd(a + 8);
        __m512d a2 = _mm512_loadu_pd(a + 16), a3 = _mm512_loadu_pd(a + 24);
        for (size_t t = 0; t < c; t++) {
            const double *row = x + idx[t] * m + j0;
            a0 = _mm512_add_pd(a0, _mm512_loadu_pd(row));
            a1 = _mm512_add_pd(a1, _mm512_loadu_pd(row + 8));
            a2 = _mm512_add_pd(a2, _mm512_loadu_pd(row + 16));
            a3 = _mm512_add_pd(a3, _mm512_loadu_pd(row + 24));
        }
        _mm512_storeu_pd(a, a0);
        _mm512_storeu_pd(a + 8, a1);
        _mm512_storeu_pd(a + 16, a2);
        _mm512_storeu_pd(a + 24, a3);
        for (size_t q = 0; q < ADD_ROWS_WIDE; q++)
            s[(j0 + q) * stride] = a[q];
    }
    for (; j0 + 8 <= m; j0 += 8) {
        double a[8];
        for (size_t q = 0; q < 8; q++)
            a[q] = s[(j0 + q) * stride];
        __m512d a0 = _mm512_loadu_pd(a);
        for (size_t t = 0; t < c; t++)
            a0 = _mm512_add_pd(a0, _mm512_loadu_pd(x + idx[t] * m + j0));
        _mm512_storeu_pd(a, a0);
        for (size_t q = 0; q < 8; q++)
            s[(j0 + q) * stride] = a[q];
    }
#endif
    for (; j0 + 8 <= m; j0 += 8) {
        double a[8];
        for (size_t q = 0; q < 8; q++)
            a[q] = s[(j0 + q) * stride];
        for (size_t t = 0; t < c; t++) {
            const double *row = x + idx[t] * m + j0;
            for (size_t q = 0; q < 8; q++)
                a[q] += row[q];
        }
        for (size_t q = 0; q < 8; q++)
            s[(j0 + q) * stride] = a[q];
    }
    for (; j0 < m; j0++) {
        double a = s[j0 * stride];
        for (size_t t = 0; t < c; t++)
            a += x[idx[t] * m + j0];
        s[j0 * stride] = a;
    }
}

int stats_bootstrap_mean_ci_many(const double *x, size_t n, size_t m, const stats_bootstrap *b,
                                 double *scratch, double *lo, double *hi)
{
    stats_bootstrap def;
    double *means = scratch, alpha;
    rng_state r;
    if (!b) {
        stats_bootstrap_init(&def);
        b = &def;
    }
    if (!bootstrap_ok(b))
        return -1;
    if (n == 0) {
        for (size_t j = 0; j < m; j++)
            lo[j] = hi[j] = NAN;
        return 0;
    }
    if (m == 0)
        return 0;
    size_t need = stats_bootstrap_many_scratch(m, b);
    if (need == 0 || n > SIZE_MAX / m)
        return -1;
    if (!means) {
        if (need > SIZE_MAX / sizeof *means)
            return -1;
        means = malloc(need * sizeof *means);
        if (!means)
            return -1;
    }
    const size_t B = b->resamples;
    rng_stream(&r, b->seed, RNG_PURPOSE_BOOTSTRAP);
    /* The indices, resample after resample, drawn a block at a time; every
     * column reads the same ones. */
    uint64_t idx[512];
    size_t have = 0, used = 0;
    for (size_t k = 0; k < B; k++) {
        /* resample k's sums build up in means[j * B + k] */
        double *s = means + k;
        for (size_t j = 0; j < m; j++)
            s[j * B] = 0.0;
        for (size_t i = 0; i < n;) {
            if (used == have) {
                have = sizeof idx / sizeof idx[0];
                rng_below_fill(&r, (uint64_t)n, idx, have);
                used = 0;
            }
            size_t c = have - used < n - i ? have - used : n - i;
            add_rows(x, m, idx + used, c, s, B);
            used += c;
            i += c;
        }
        for (size_t j = 0; j < m; j++)
            s[j * B] /= (double)n;
    }
    alpha = 1.0 - b->level;
    for (size_t j = 0; j < m; j++) {
        lo[j] = quantile_select(means + j * B, B, alpha / 2.0);
        hi[j] = quantile_select(means + j * B, B, 1.0 - alpha / 2.0);
    }
    if (means != scratch)
        free(means);
    return 0;
}

size_t stats_summary_scratch(size_t n, const stats_bootstrap *b)
{
    return add_size(n, b ? b->resamples : STATS_BOOTSTRAP_RESAMPLES);
}

/* The figures of out but the CI for the n finite values v, sorting v. */
static void describe_finite(double *v, size_t n, stats_summary *out)
{
    out->n = n;
    out->mean = stats_mean(v, n);
    out->std = stats_std(v, n, out->mean);
    stats_sort(v, n);
    out->min = n ? v[0] : NAN;
    out->max = n ? v[n - 1] : NAN;
    out->median = stats_median_sorted(v, n);
    out->iqm = stats_iqm_sorted(v, n);
}

int stats_summary_compute(const double *x, size_t n, const stats_bootstrap *b,
                          double *scratch, stats_summary *out)
{
    stats_bootstrap def;
    double *v = scratch;
    size_t need, k;
    int rc;
    if (!b) {
        stats_bootstrap_init(&def);
        b = &def;
    }
    if (!bootstrap_ok(b))
        return -1;
    need = stats_summary_scratch(n, b);
    if (need == 0)
        return -1;
    if (!v) {
        if (need > SIZE_MAX / sizeof *v)
            return -1;
        v = malloc(need * sizeof *v);
        if (!v)
            return -1;
    }
    k = stats_finite(x, n, v);
    /* the bootstrap indexes the values in their given (seed) order */
    out->ci_lo = out->ci_hi = NAN;
    rc = k ? stats_bootstrap_mean_ci(v, k, b, v + n, &out->ci_lo, &out->ci_hi) : 0;
    describe_finite(v, k, out);
    if (v != scratch)
        free(v);
    return rc;
}

int stats_summary_describe(const double *x, size_t n, double *scratch, stats_summary *out)
{
    double *v = scratch;
    if (!v) {
        if (n > SIZE_MAX / sizeof *v - 1)
            return -1;
        v = malloc((n ? n : 1) * sizeof *v);
        if (!v)
            return -1;
    }
    describe_finite(v, stats_finite(x, n, v), out);
    out->ci_lo = out->ci_hi = NAN;
    if (v != scratch)
        free(v);
    return 0;
}

/* ---- paired comparisons --------------------------------------------------- */

size_t stats_paired_diff(const double *a, const double *b, size_t n, double *d)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double e = a[i] - b[i]; /* NaN when either is NaN (or inf - inf) */
        if (!isnan(e))
            d[k++] = e;
    }
    return k;
}

void stats_ttest_diff(const double *d, size_t n, stats_ttest *out)
{
    out->n = n;
    out->mean = stats_mean(d, n);
    out->sd = stats_std(d, n, out->mean);
    out->df = n == 0 ? NAN : (double)n - 1.0;
    if (n < 2) {
        out->t = out->p = NAN;
        return;
    }
    if (out->sd == 0.0 && out->mean == 0.0) {
        out->t = NAN;
        out->p = 1.0;
        return;
    }
    /* sd = 0 with mean != 0 gives +-inf and p = 0 */
    out->t = out->mean / (out->sd / sqrt((double)n));
    out->p = stats_t_p_two_sided(out->t, out->df);
}

size_t stats_wilcoxon_scratch(size_t n)
{
    /* the exact distribution is only built for at most
     * STATS_WILCOXON_EXACT_MAX nonzero differences */
    if (n > STATS_WILCOXON_EXACT_MAX)
        return add_size(n, (size_t)STATS_WILCOXON_EXACT_MAX * (STATS_WILCOXON_EXACT_MAX + 1) + 1);
    if (n > 0 && n + 1 > SIZE_MAX / n)
        return 0;
    return add_size(n, add_size(n * (n + 1), 1));
}

static int cmp_abs(const void *pa, const void *pb)
{
    double a = fabs(*(const double *)pa), b = fabs(*(const double *)pb);
    return (a > b) - (a < b);
}

double stats_wilcoxon_min_p(size_t n)
{
    /* all n signs equal: P(W+ = max) = P(W+ = 0) = 2^-n, two-sided 2^(1-n) */
    if (n <= 1)
        return 1.0;
    return ldexp(1.0, 1 - (int)(n > 2000 ? 2000 : n));
}

int stats_wilcoxon_diff(const double *d, size_t n, double *scratch, stats_wilcoxon *out)
{
    double *v = scratch, *f, lower = 0.0, upper = 0.0, ties_term = 0.0, mn, se2;
    size_t need = stats_wilcoxon_scratch(n), m = 0, total, top, w2 = 0;
    memset(out, 0, sizeof *out);
    if (need == 0)
        return -1;
    if (!v) {
        if (need > SIZE_MAX / sizeof *v)
            return -1;
        v = malloc(need * sizeof *v);
        if (!v)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 0.0)
            out->n_zero++;
        else if (!isnan(d[i]))
            v[m++] = d[i];
    }
    out->n = m;
    out->min_p = stats_wilcoxon_min_p(m);
    if (m == 0) {
        out->exact = 1;
        out->p = out->p_normal = 1.0;
        if (v != scratch)
            free(v);
        return 0;
    }
    qsort(v, m, sizeof *v, cmp_abs);
    out->exact = m <= STATS_WILCOXON_EXACT_MAX;
    if (!out->exact) {
        /* The ranks' sum, the ties' term and W+ without the distribution. */
        total = m * (m + 1);
        for (size_t j = 0; j < m;) {
            size_t k = j + 1;
            while (k < m && fabs(v[k]) == fabs(v[j]))
                k++;
            if (k - j > 1) {
                double t = (double)(k - j);
                out->ties = 1;
                ties_term += t * (t * t - 1.0);
            }
            for (size_t i = j; i < k; i++)
                if (v[i] > 0.0)
                    w2 += j + 1 + k;
            j = k;
        }
        goto statistic;
    }
    /* Doubled midranks: a tie group at 1-based positions j+1 .. k has midrank
     * (j+1+k)/2, doubled j+1+k, an integer. The DP adds one weight at a time:
     * f[s] = P(sum of doubled ranks of positive signs = s) over the items so
     * far, f'(s) = (f(s) + f(s - w)) / 2. */
    total = m * (m + 1);
    f = v + m;
    memset(f, 0, (total + 1) * sizeof *f);
    f[0] = 1.0;
    top = 0;
    for (size_t j = 0; j < m;) {
        size_t k = j + 1, w;
        while (k < m && fabs(v[k]) == fabs(v[j]))
            k++;
        w = j + 1 + k;
        if (k - j > 1) {
            double t = (double)(k - j);
            out->ties = 1;
            ties_term += t * (t * t - 1.0);
        }
        for (size_t i = j; i < k; i++) {
            if (v[i] > 0.0)
                w2 += w;
            for (size_t s = top + w; s >= w; s--)
                f[s] = 0.5 * (f[s] + f[s - w]);
            for (size_t s = 0; s < w; s++)
                f[s] *= 0.5;
            top += w;
        }
        j = k;
    }
    /* tails summed from their small end */
    for (size_t s = 0; s <= w2; s++)
        lower += f[s];
    for (size_t s = total; s >= w2; s--) {
        upper += f[s];
        if (s == 0)
            break;
    }
    out->p = 2.0 * (lower < upper ? lower : upper);
    if (out->p > 1.0)
        out->p = 1.0;
statistic:
    out->w_plus = (double)w2 / 2.0;
    out->w_minus = (double)total / 2.0 - out->w_plus;
    out->statistic = out->w_plus < out->w_minus ? out->w_plus : out->w_minus;
    mn = (double)total * 0.25;
    se2 = (double)total * (2.0 * (double)m + 1.0) - 0.5 * ties_term;
    out->z = (out->statistic - mn) / sqrt(se2 / 24.0);
    out->p_normal = erfc(fabs(out->z) / sqrt(2.0));
    if (!out->exact)
        out->p = out->p_normal;
    if (v != scratch)
        free(v);
    return 0;
}

size_t stats_paired_scratch(size_t n, const stats_bootstrap *b)
{
    size_t B = b ? b->resamples : STATS_BOOTSTRAP_RESAMPLES;
    size_t w = stats_wilcoxon_scratch(n);
    if (w == 0)
        return 0;
    return add_size(n, B > w ? B : w);
}

/* stats_paired_compute's figures into out, with d (n doubles) for the
 * differences and what follows it as the bootstrap's and the Wilcoxon
 * test's scratch; bs NULL: no bootstrap, the CI is NaN. */
static int paired_fill(const double *a, const double *b, size_t n, const stats_bootstrap *bs,
                       double *d, stats_paired *out)
{
    int rc = 0;
    out->n = stats_paired_diff(a, b, n, d);
    stats_ttest_diff(d, out->n, &out->t);
    out->mean_diff = out->t.mean;
    out->ci_lo = out->ci_hi = NAN;
    if (bs)
        rc = stats_bootstrap_mean_ci(d, out->n, bs, d + n, &out->ci_lo, &out->ci_hi);
    if (rc == 0)
        rc = stats_wilcoxon_diff(d, out->n, d + n, &out->w);
    return rc;
}

/* paired_fill with d the caller's scratch, or need doubles allocated. */
static int paired_in(const double *a, const double *b, size_t n, const stats_bootstrap *bs,
                     size_t need, double *scratch, stats_paired *out)
{
    double *d = scratch;
    int rc;
    if (need == 0)
        return -1;
    if (!d) {
        if (need > SIZE_MAX / sizeof *d)
            return -1;
        d = malloc(need * sizeof *d);
        if (!d)
            return -1;
    }
    rc = paired_fill(a, b, n, bs, d, out);
    if (d != scratch)
        free(d);
    return rc;
}

int stats_paired_compute(const double *a, const double *b, size_t n,
                         const stats_bootstrap *bs, double *scratch,
                         stats_paired *out)
{
    stats_bootstrap def;
    if (!bs) {
        stats_bootstrap_init(&def);
        bs = &def;
    }
    if (!bootstrap_ok(bs))
        return -1;
    return paired_in(a, b, n, bs, stats_paired_scratch(n, bs), scratch, out);
}

int stats_paired_describe(const double *a, const double *b, size_t n, double *scratch,
                          stats_paired *out)
{
    size_t w = stats_wilcoxon_scratch(n);
    return paired_in(a, b, n, NULL, w ? add_size(n, w) : 0, scratch, out);
}

/* ---- Holm ----------------------------------------------------------------- */

/* total order on indices: by p, then by index */
static int before(const double *p, size_t i, size_t j)
{
    return p[i] < p[j] || (p[i] == p[j] && i < j);
}

static void sift_down(const double *p, size_t *h, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && before(p, h[c], h[c + 1]))
            c++;
        if (!before(p, h[root], h[c]))
            return;
        size_t t = h[root];
        h[root] = h[c];
        h[c] = t;
        root = c;
    }
}

int stats_holm(const double *p, size_t m, double *adj, size_t *order)
{
    size_t *o = order, k = 0;
    double run = 0.0;
    if (!o && m) {
        if (m > SIZE_MAX / sizeof *o)
            return -1;
        o = malloc(m * sizeof *o);
        if (!o)
            return -1;
    }
    for (size_t i = 0; i < m; i++)
        if (!isnan(p[i]))
            o[k++] = i;
    /* heap sort of the finite p-values' indices, ascending */
    for (size_t i = k / 2; i-- > 0;)
        sift_down(p, o, i, k);
    for (size_t e = k; e > 1; e--) {
        size_t t = o[0];
        o[0] = o[e - 1];
        o[e - 1] = t;
        sift_down(p, o, 0, e - 1);
    }
    for (size_t i = 0; i < m; i++)
        if (isnan(p[i]))
            adj[i] = NAN;
    for (size_t j = 0; j < k; j++) {
        double v = (double)(k - j) * p[o[j]];
        if (v > run)
            run = v;
        adj[o[j]] = run < 1.0 ? run : 1.0;
    }
    if (o != order)
        free(o);
    return 0;
}

/* ---- distributions -------------------------------------------------------- */

double stats_lgamma(double x)
{
    /* Lanczos, g = 7, nine coefficients (Godfrey): relative error of Gamma
     * about 1e-15 for x >= 1/2; below, ln Gamma(x) = ln Gamma(x+1) - ln x. */
    static const double c[9] = {
        0.99999999999980993, 676.5203681218851, -1259.1392167224028,
        771.32342877765313, -176.61502916214059, 12.507343278686905,
        -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
    const double half_log_2pi = 0.91893853320467274178032973640562;
    double z, a, t;
    if (!(x > 0.0))
        return NAN;
    if (isinf(x))
        return x;
    if (x < 0.5)
        return stats_lgamma(x + 1.0) - log(x);
    z = x - 1.0;
    a = c[0];
    for (int i = 1; i < 9; i++)
        a += c[i] / (z + (double)i);
    t = z + 7.5;
    return half_log_2pi + (z + 0.5) * log(t) - t + log(a);
}

/* Continued fraction of I_x(a, b) (Numerical Recipes 6.4, modified Lentz);
 * converges fast for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = DBL_EPSILON;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0, c = 1.0, d, h;
    d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m, aa, del;
        aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) <= eps)
            break;
    }
    return h;
}

/* I_x(a, b) with y = 1 - x given separately (accurate when x is near 1). */
static double beta_inc_xy(double a, double b, double x, double y)
{
    double front;
    if (x <= 0.0)
        return 0.0;
    if (y <= 0.0)
        return 1.0;
    front = exp(stats_lgamma(a + b) - stats_lgamma(a) - stats_lgamma(b) + a * log(x) +
                b * log(y));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, y) / b;
}

double stats_beta_inc(double a, double b, double x)
{
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0) || !(x <= 1.0))
        return NAN;
    return beta_inc_xy(a, b, x, 1.0 - x);
}

double stats_t_p_two_sided(double t, double df)
{
    double t2, x, y;
    if (isnan(t) || !(df > 0.0))
        return NAN;
    t2 = t * t;
    if (isinf(t2))
        return 0.0;
    x = df / (df + t2);
    y = t2 / (df + t2);
    return beta_inc_xy(df / 2.0, 0.5, x, y);
}

double stats_t_sf(double t, double df)
{
    double p = stats_t_p_two_sided(t, df);
    if (isnan(p))
        return NAN;
    return t >= 0.0 ? 0.5 * p : 1.0 - 0.5 * p;
}
