/* analysis: what a sweep's trials say, point by point, with error bars.
 *
 * From one experiment's trials (sweep point, seed, status, one metric per
 * trial, per-epoch loss histories) it computes, for every sweep point:
 *   - the summary of the metric over its done trials (stats.h: n, mean,
 *     sample std, min, max, median, interquartile mean, 95 % percentile
 *     bootstrap CI of the mean with B = 10000 resamples from stream
 *     rng_stream(0, RNG_PURPOSE_BOOTSTRAP), the stats defaults);
 *   - the paired comparison "point minus best" over their common seeds (the
 *     seeds done, with a finite metric, in both): mean difference with its
 *     bootstrap CI, paired t-test, exact Wilcoxon signed-rank test, each
 *     p Holm-adjusted across the comparisons (one family per test: the
 *     points other than the best that have at least one common seed);
 *   - "converged by epoch N" and the overfitting gap (below);
 * and two answers for the experiment: the best point and the smallest point
 * not significantly worse than it.
 *
 * Rules (the README's "Comparing points" says the same):
 *   best point    the highest mean of the metric for accuracies, the lowest
 *                 for losses, among points with n >= 1; exact ties go to the
 *                 lower point index.
 *   sufficient    a point is "not significantly worse than the best" when it
 *                 is the best, or when its Holm-adjusted two-sided exact
 *                 Wilcoxon p is >= alpha (ANALYSIS_ALPHA = 0.05). Wilcoxon,
 *                 not t, because accuracies over seeds are not normal (a
 *                 stuck seed is an outlier). A point without common seeds is
 *                 never sufficient. With fewer than 6 nonzero differences
 *                 the test cannot reach p < 0.05 (stats_wilcoxon_min_p), so
 *                 every such point counts as sufficient: the comparison's
 *                 `underpowered` flag says so.
 *   smallest      the first sufficient point in the caller's order (order[]
 *                 in analysis_input): for one numeric sweep dimension the
 *                 ascending sweep value, otherwise plan (point index) order;
 *                 analysis_experiment_load builds that order. "Not
 *                 significantly worse" is absence of evidence: a noisy small
 *                 point can pass while a larger one fails. sufficient_from is
 *                 the stricter reading: the first point from which on every
 *                 point (with a value) is sufficient.
 *   converged     per point, m[e] = mean over its done trials of the
 *                 validation loss of epoch e (the training loss when some
 *                 done trial has no validation loss), for e = 1..E, E the
 *                 fewest epochs any of those trials ran. The converged epoch
 *                 is the first N with m[N] - min_{e > N} m[e] <= rel * |m[N]|
 *                 (rel = ANALYSIS_CONVERGE_REL = 0.01): after epoch N the
 *                 mean loss never again improves on m[N] by more than 1 %.
 *                 N = E always qualifies; then `converged` is 0 (the loss
 *                 still fell by more than 1 % in the last epoch).
 *   overfitting   the trials' overfit_gap (final validation loss minus its
 *                 minimum), summarised like the metric (mean and CI).
 *
 * analysis.c is pure numeric code over arrays (no SQLite, no globals, no
 * I/O). The functions at the end (analysis_store.c) read an experiment
 * through the store API and write the statistics back with
 * store_point_stats_write.
 */
#ifndef RUNEXP_ANALYSIS_H
#define RUNEXP_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "store.h"

#define ANALYSIS_ALPHA 0.05
#define ANALYSIS_CONVERGE_REL 0.01
/* "no such point" in analysis_result.best / .smallest_sufficient */
#define ANALYSIS_NONE ((size_t)-1)

/* One trial as the analysis sees it. */
typedef struct analysis_trial {
    size_t point;          /* 0 .. n_points-1 */
    uint64_t seed;
    int done;              /* status done: only done trials count */
    double value;          /* the metric (NaN: missing) */
    double overfit_gap;    /* NaN: missing */
    size_t n_epochs;       /* length of the histories below */
    const double *val_loss; /* per epoch (epoch e at e - 1), NaN where missing; may be NULL */
    const double *loss;     /* training loss per epoch; may be NULL */
} analysis_trial;

typedef struct analysis_options {
    double alpha;          /* the level of "significantly worse" */
    double converge_rel;   /* the relative improvement threshold */
    stats_bootstrap bootstrap;
    int threads;           /* points computed in parallel (OpenMP) by this many
                              threads; <= 1: serially. The results do not
                              depend on it. Never call with threads > 1 from
                              inside a parallel region (one OpenMP level). */
} analysis_options;

/* {ANALYSIS_ALPHA, ANALYSIS_CONVERGE_REL, stats_bootstrap_init, 1 thread}. */
void analysis_options_init(analysis_options *o);

typedef struct analysis_input {
    size_t n_points;
    const size_t *order;   /* the points from "smallest" to "largest" (a
                              permutation of 0..n_points-1); NULL = index order */
    int higher_is_better;  /* 1 accuracies, 0 losses */
    size_t n_trials;
    const analysis_trial *trials; /* any order; a (point, seed) seen twice
                                     counts once, the first one */
    const analysis_options *options; /* NULL = analysis_options_init */
} analysis_input;

/* A paired comparison a - b over common seeds, Holm-adjusted in its family. */
typedef struct analysis_comparison {
    int compared;          /* 0: no common seed (everything below NaN / 0) */
    stats_paired paired;   /* n pairs, mean_diff, its CI, t-test, Wilcoxon */
    double p_t_holm, p_w_holm;
    int underpowered;      /* the Wilcoxon test cannot reach p < alpha with
                              so few nonzero differences (w.min_p >= alpha) */
} analysis_comparison;

typedef struct analysis_point {
    stats_summary summary; /* of the metric over its done trials */
    size_t rank;           /* position in the input's order */
    int is_best;
    int sufficient;        /* best, or p_w_holm >= alpha */
    analysis_comparison vs_best; /* this point minus the best (compared = 0
                                    for the best itself) */
    /* training curve (see "converged" above) */
    size_t curve_epochs;   /* E; 0 when the point has no history */
    int curve_is_val;      /* 1 validation loss, 0 training loss */
    size_t converged_epoch; /* N (1-based), 0 without a curve */
    int converged;         /* N < E */
    double curve_at_converged; /* m[N] */
    stats_summary gap;     /* overfit_gap over its done trials */
} analysis_point;

typedef struct analysis_result {
    size_t n_points;
    analysis_point *points;
    size_t best;                /* ANALYSIS_NONE when no point has a value */
    size_t smallest_sufficient; /* ANALYSIS_NONE when none */
    size_t sufficient_from;     /* the first point in order from which every
                                   later point with a value is sufficient
                                   (the best qualifies when the point right
                                   before it in order is not); ANALYSIS_NONE
                                   when no point has a value */
    size_t n_compared;          /* size of the Holm families */
    size_t max_pairs;           /* most common seeds of any comparison */
} analysis_result;

/* Everything above for in. 0 on success, -1 on a bad argument (a trial's
 * point out of range, a bad order) or out of memory. Free the result with
 * analysis_result_free (safe on a zeroed or failed one). */
int analysis_run(const analysis_input *in, analysis_result *out);
void analysis_result_free(analysis_result *r);

/* The first N of the rule "converged" for the curve m[0..e) (m[N-1] is epoch
 * N); 0 for e = 0 or a NaN in m. */
size_t analysis_converged_epoch(const double *m, size_t e, double rel);

/* The values of trials of point pa in a and of point pb in b (two trial
 * lists, possibly the same) paired by seed: the seeds where both are done
 * with a finite value, in ascending seed order. *xa and *xb get n values
 * each (malloc'ed; the caller frees them; NULL when n = 0). 0 or -1 when
 * out of memory. */
int analysis_seed_pairs(const analysis_trial *a, size_t na, size_t pa,
                        const analysis_trial *b, size_t nb, size_t pb,
                        double **xa, double **xb, size_t *n);

/* Paired comparisons of m samples (xa[k][i] with xb[k][i], i < n[k]) with
 * Holm across the ones with n[k] >= 1 (separately for t and Wilcoxon p).
 * 0 or -1 (bad options, out of memory). */
int analysis_compare_family(size_t m, const double *const *xa, const double *const *xb,
                            const size_t *n, const analysis_options *o,
                            analysis_comparison *out);

/* ==== from and to the store (analysis_store.c) ==========================
 *
 * The metrics trials carry, as `runexp compare --metric` names them. */
typedef enum {
    ANALYSIS_TEST_ACCURACY = 0,
    ANALYSIS_TEST_LOSS,
    ANALYSIS_VAL_ACCURACY,
    ANALYSIS_VAL_LOSS,
    ANALYSIS_TRAIN_ACCURACY,
    ANALYSIS_TRAIN_LOSS,
    ANALYSIS_N_METRICS
} analysis_metric;

/* "test_accuracy", ...; analysis_metric_parse gives -1 for another name. */
const char *analysis_metric_name(analysis_metric m);
int analysis_metric_parse(const char *name);
/* 1 for the accuracies, 0 for the losses. */
int analysis_metric_higher_is_better(analysis_metric m);

/* One sweep point of a loaded experiment: trials with the same params JSON
 * (as the sweep_summary view groups them). */
typedef struct analysis_point_info {
    char *params;          /* params JSON as stored */
    char *label;           /* "hidden=4, lr=0.1" ("-" for no sweep); raw
                              text from the database: escape before printing */
    size_t point_index;    /* smallest stored point_index of its trials */
} analysis_point_info;

typedef struct analysis_experiment {
    int64_t id;
    char *name;
    size_t n_points;
    analysis_point_info *points;  /* by point_index, then params */
    size_t *order;                /* "smallest" first (see the rules) */
    int numeric_order;            /* 1: order is by the one sweep value */
    store_trial_list trials;      /* with history and params */
    size_t *trial_point;          /* the point of each trial */
} analysis_experiment;

/* Loads experiment id (every trial, with histories). 0, 1 when there is no
 * such experiment, -1 on errors (err filled). Free with
 * analysis_experiment_free (safe on a zeroed or failed one). */
int analysis_experiment_load(store *s, int64_t id, analysis_experiment *out,
                             store_error *err);
void analysis_experiment_free(analysis_experiment *e);

/* The trials of e as analysis_trial rows for metric m (pointing into e). The
 * caller frees the array with free(). NULL when out of memory (or no trial). */
analysis_trial *analysis_experiment_trials(const analysis_experiment *e, analysis_metric m);

/* analysis_run over e for metric m with options o (NULL: defaults). */
int analysis_experiment_run(const analysis_experiment *e, analysis_metric m,
                            const analysis_options *o, analysis_result *out);

/* What the run calls when it has finished: the statistics of every metric
 * that has values (defaults of analysis_options), written with
 * store_point_stats_write in one transaction replacing the experiment's
 * earlier rows. s must be open for writing. 0, 1 for no such experiment, -1
 * on errors (err filled). */
int analysis_store_write(store *s, int64_t experiment_id, store_error *err);

/* The same for the metrics whose bit (1u << analysis_metric) is set in
 * `metrics` only (the curves and gaps come with the first of them): what
 * `runexp run` writes, test_accuracy (ANALYSIS_RUN_METRICS: the summary's and
 * the lab's metric; each metric costs about a tenth of a 60-trial XOR sweep);
 * `runexp compare --metric` computes any other one when asked. */
#define ANALYSIS_RUN_METRICS (1u << ANALYSIS_TEST_ACCURACY)
int analysis_store_write_metrics(store *s, int64_t experiment_id, unsigned metrics, int threads,
                                 store_error *err);

#endif
