/* stats: per-sample statistics and paired comparisons of sweep points.
 *
 * A sample is one sweep point's values of a metric over its seeds; NaN values
 * (a trial without that metric) are skipped. Two points are compared over
 * their common seeds: the caller aligns the arrays by seed (a[i], b[i] from
 * the same seed) and pairs where either value is NaN are dropped.
 *
 * Pure numeric code: no globals, no I/O. Every bootstrap draws from its own
 * stream rng_stream(seed, RNG_PURPOSE_BOOTSTRAP) started afresh in each call,
 * so a confidence interval is a function of (values, options) alone, whatever
 * order the points are summarised in and on whichever thread.
 *
 * Scratch: functions that need working memory take a `double *scratch` of the
 * size their *_scratch function returns (in doubles). Pass NULL to have the
 * function allocate and free it itself; only then can it fail for memory.
 * Functions returning int give 0 on success and -1 on a bad argument (a
 * bootstrap with 0 resamples or a level outside (0, 1)), an allocation
 * failure or a size overflow; the outputs are then unspecified.
 *
 * Definitions (x sorted ascending, n values, m = mean):
 *   mean    m = sum x / n, refined once by m += sum (x - m) / n (so n equal
 *           values give exactly that value and std exactly 0)
 *   std     sqrt(sum (x - m)^2 / (n - 1)), the sample std (numpy ddof=1);
 *           NaN for n < 2
 *   median  x[n/2] for odd n, (x[n/2-1] + x[n/2]) / 2 for even n (numpy)
 *   iqm     interquartile mean = mean of x[k .. n-k), k = floor(n / 4)
 *           (scipy.stats.trim_mean(x, 0.25), as rliable's IQM); n < 4 cuts
 *           nothing
 *   quantile(v, q) of B sorted values: numpy's default 'linear' rule (Hyndman
 *           & Fan type 7): h = (B-1) q, j = floor(h), g = h - j,
 *           v[j] + g (v[j+1] - v[j]) (numpy's lerp: v[j+1] - (1-g)(v[j+1]-v[j])
 *           when g >= 0.5)
 *   bootstrap percentile CI of the mean at level L: B resamples, each n
 *           indices drawn in order with rng_below(r, n) (resample by resample,
 *           index by index), mean_b = sum x[idx] / n; the CI is
 *           [quantile(means, (1-L)/2), quantile(means, 1 - (1-L)/2)]
 *           with alpha = 1 - L computed in double.
 */
#ifndef RUNEXP_STATS_H
#define RUNEXP_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Defaults of the bootstrap; whoever shows a CI should say B and the level. */
#define STATS_BOOTSTRAP_RESAMPLES 10000
#define STATS_BOOTSTRAP_LEVEL 0.95
#define STATS_BOOTSTRAP_SEED 0

typedef struct stats_bootstrap {
    size_t resamples; /* B >= 1 */
    double level;     /* confidence level, 0 < level < 1 */
    uint64_t seed;    /* stream rng_stream(seed, RNG_PURPOSE_BOOTSTRAP) */
} stats_bootstrap;

/* b = {STATS_BOOTSTRAP_RESAMPLES, STATS_BOOTSTRAP_LEVEL, STATS_BOOTSTRAP_SEED}. */
void stats_bootstrap_init(stats_bootstrap *b);

/* ---- one sample ----------------------------------------------------------- */

typedef struct stats_summary {
    size_t n;            /* finite values used (NaN skipped) */
    double mean, std;    /* std: sample std, NaN for n < 2 */
    double min, max, median, iqm;
    double ci_lo, ci_hi; /* bootstrap percentile CI of the mean */
} stats_summary;

/* Doubles of scratch stats_summary_compute needs: n + B (0 on overflow). */
size_t stats_summary_scratch(size_t n, const stats_bootstrap *b);

/* Every figure of stats_summary for x[0..n) with NaN skipped. With no finite
 * value every figure is NaN and n = 0; with one, std is NaN and the CI is
 * [x, x]. b NULL means the defaults. */
int stats_summary_compute(const double *x, size_t n, const stats_bootstrap *b,
                          double *scratch, stats_summary *out);
/* The same without the bootstrap: ci_lo = ci_hi = NaN, for a caller that
 * bootstraps many samples at once (stats_bootstrap_mean_ci_many over the
 * finite values in their given order). scratch holds n doubles (NULL:
 * allocated). */
int stats_summary_describe(const double *x, size_t n, double *scratch, stats_summary *out);

/* Building blocks (on finite values; the *_sorted ones want them sorted). */

/* Copies the non-NaN values of x[0..n) to out in order; returns how many. */
size_t stats_finite(const double *x, size_t n, double *out);

/* Mean as defined above; NaN for n = 0. */
double stats_mean(const double *x, size_t n);

/* Sample standard deviation (n - 1 in the denominator) about mean; NaN for n < 2. */
double stats_std(const double *x, size_t n, double mean);

/* Sorts x[0..n) ascending in place (no NaN allowed). */
void stats_sort(double *x, size_t n);

/* Median and interquartile mean of sorted v[0..n); NaN for n = 0. */
double stats_median_sorted(const double *v, size_t n);
double stats_iqm_sorted(const double *v, size_t n);

/* numpy.quantile(v, q) (method 'linear') of sorted v[0..n), 0 <= q <= 1. */
double stats_quantile_sorted(const double *v, size_t n, double q);

/* Bootstrap percentile CI of the mean of x[0..n) (finite values), see above.
 * scratch holds B doubles (NULL: allocated). n = 0 gives NaN, NaN. */
int stats_bootstrap_mean_ci(const double *x, size_t n, const stats_bootstrap *b,
                            double *scratch, double *lo, double *hi);

/* The CIs of m samples of one length n at once: column j of the n x m
 * matrix x (value i of sample j at x[i * m + j]) gets into lo[j], hi[j]
 * what stats_bootstrap_mean_ci gives it alone, bit for bit: the same
 * stream, so every column reads the same index draws, and each column's
 * sums in the same order. One pass of the generator instead of m, and the
 * columns' sums overlap. scratch holds stats_bootstrap_many_scratch(m, b)
 * doubles (NULL: allocated); n = 0 gives NaN, NaN for every column. */
size_t stats_bootstrap_many_scratch(size_t m, const stats_bootstrap *b);
int stats_bootstrap_mean_ci_many(const double *x, size_t n, size_t m, const stats_bootstrap *b,
                                 double *scratch, double *lo, double *hi);

/* ---- paired comparisons --------------------------------------------------- */

/* d[k] = a[i] - b[i] for the pairs whose difference is not NaN (neither
 * value NaN, not inf - inf), in order; returns the number of pairs. */
size_t stats_paired_diff(const double *a, const double *b, size_t n, double *d);

/* Paired t-test on differences d[0..n):
 *   t = mean(d) / (sd(d) / sqrt(n)), df = n - 1,
 *   p = 2 P(T_df > |t|) = I_{df/(df+t^2)}(df/2, 1/2)   (scipy.stats.ttest_rel)
 * n < 2: t, p NaN (df = n - 1, NaN for n = 0). sd = 0: t = +-inf and p = 0
 * when mean != 0; when every difference is 0, t = NaN and p = 1 (no evidence
 * of a difference; scipy gives NaN there). */
typedef struct stats_ttest {
    size_t n;
    double mean, sd; /* of the differences */
    double t, df, p; /* two-sided p */
} stats_ttest;
void stats_ttest_diff(const double *d, size_t n, stats_ttest *out);

/* Above this many nonzero differences the Wilcoxon p is the normal
 * approximation (p = p_normal, exact = 0): the exact distribution costs
 * O(n'^3) (400: about 2 ms; 1000 seeds: 30 ms per comparison), and at this
 * size the two agree to within 1e-3 of p. scipy's method='auto' switches at
 * 50. */
#define STATS_WILCOXON_EXACT_MAX 400
#define STATS_WILCOXON_EXACT_MAX_TEXT "400"

/* Wilcoxon signed-rank test, two-sided, on differences d[0..n):
 *   zeros (d == 0) are dropped first (scipy's zero_method='wilcox');
 *   the n' others are ranked by |d|, ties (equal |d|, compared exactly) get
 *   their midrank; W+ = sum of ranks of d > 0, W- = n'(n'+1)/2 - W+,
 *   statistic = min(W+, W-).
 *   p: exact, from the distribution of W+ over the 2^n' equally likely sign
 *   assignments of the observed ranks, by dynamic programming over doubled
 *   ranks (integers even with midranks): p = min(1, 2 min(P(W+ <= w),
 *   P(W+ >= w))). Without ties this is scipy.stats.wilcoxon(method='exact');
 *   with ties it is the exact permutation test on the midranks (scipy 1.10
 *   truncates a midrank sum to an integer there, so it is not followed).
 *   Only for n' <= STATS_WILCOXON_EXACT_MAX; above it p = p_normal.
 *   z, p_normal: scipy's normal approximation (method='approx', no continuity
 *   correction): z = (statistic - n'(n'+1)/4) / se,
 *   se^2 = (n'(n'+1)(2n'+1) - sum_ties t(t^2-1)/2) / 24, p_normal = erfc(|z|/sqrt 2).
 *   With n' = 0: statistic 0, p = p_normal = 1, z = 0.
 * Cost O(n'^3) time up to STATS_WILCOXON_EXACT_MAX, O(n' log n') above. */
typedef struct stats_wilcoxon {
    size_t n;        /* nonzero differences ranked (n') */
    size_t n_zero;   /* zero differences dropped */
    int ties;        /* 1 when some |d| are equal (midranks used) */
    double w_plus, w_minus, statistic;
    double p;        /* two-sided p: exact when exact, else p_normal */
    int exact;       /* 1: n' <= STATS_WILCOXON_EXACT_MAX, p from the exact distribution */
    double min_p;    /* stats_wilcoxon_min_p(n'): the smallest p reachable */
    double z, p_normal;
} stats_wilcoxon;

/* Doubles of scratch stats_wilcoxon_diff needs: n + m(m+1) + 1 with
 * m = min(n, STATS_WILCOXON_EXACT_MAX) (0 on overflow). */
size_t stats_wilcoxon_scratch(size_t n);
int stats_wilcoxon_diff(const double *d, size_t n, double *scratch, stats_wilcoxon *out);

/* Smallest two-sided exact p of the signed-rank test with n nonzero pairs:
 * min(1, 2 / 2^n) (all signs equal), with or without ties. n = 5 gives
 * 0.0625, so fewer than 6 seeds can never reach p < 0.05. */
double stats_wilcoxon_min_p(size_t n);

/* Everything about a (paired, "a minus b") comparison. */
typedef struct stats_paired {
    size_t n;            /* pairs with both values non-NaN */
    double mean_diff;    /* mean of d = a - b */
    double ci_lo, ci_hi; /* bootstrap percentile CI of mean_diff (pairs resampled) */
    stats_ttest t;
    stats_wilcoxon w;
} stats_paired;

/* Doubles of scratch stats_paired_compute needs (0 on overflow):
 * n + max(B, stats_wilcoxon_scratch(n)). */
size_t stats_paired_scratch(size_t n, const stats_bootstrap *b);

/* Compares a[i] with b[i], i in [0, n) (aligned by seed): differences
 * stats_paired_diff, their mean and bootstrap CI, stats_ttest_diff and
 * stats_wilcoxon_diff. bs NULL means the defaults. */
int stats_paired_compute(const double *a, const double *b, size_t n,
                         const stats_bootstrap *bs, double *scratch,
                         stats_paired *out);
/* The same without the bootstrap (ci_lo = ci_hi = NaN; see
 * stats_summary_describe); scratch holds n + stats_wilcoxon_scratch(n)
 * doubles (NULL: allocated). */
int stats_paired_describe(const double *a, const double *b, size_t n, double *scratch,
                          stats_paired *out);

/* ---- multiple comparisons ------------------------------------------------- */

/* Holm's step-down adjustment of p[0..m): with the k finite p-values sorted
 * ascending, p_(1) <= ... <= p_(k), adj_(j) = min(1, max_{i<=j} (k-i+1) p_(i)).
 * NaN entries stay NaN and do not count in k; ties get equal adjusted values
 * whatever their order. order is scratch for m indices (NULL: allocated).
 * adj may alias p. */
int stats_holm(const double *p, size_t m, double *adj, size_t *order);

/* ---- distributions -------------------------------------------------------- */

/* ln Gamma(x) for x > 0 (Lanczos; own code, no global signgam as lgamma has). */
double stats_lgamma(double x);

/* Regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1 (continued
 * fraction by the modified Lentz method, Numerical Recipes 6.4); NaN outside. */
double stats_beta_inc(double a, double b, double x);

/* Student t survival function P(T_df > t), df > 0. */
double stats_t_sf(double t, double df);

/* Two-sided p = 2 P(T_df > |t|) = I_{df/(df+t^2)}(df/2, 1/2); NaN t gives NaN. */
double stats_t_p_two_sided(double t, double df);

#endif
