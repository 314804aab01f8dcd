/* run_summary: what a run prints at its end: the lines that say what the
 * loop did, and the per-point table read back from the database. See
 * run_internal.h. */
#include "run_internal.h"

#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "checked.h"
#include "stats.h"
#include "text.h"

void runner_stats(const double *v, size_t n, size_t *count, double *mean, double *std,
                  double *min, double *max)
{
    size_t c = 0;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            c++;
            sum += v[i];
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    *count = c;
    *mean = c ? sum / (double)c : NAN;
    *min = c ? lo : NAN;
    *max = c ? hi : NAN;
    /* Two passes: deviations from the mean, like the sweep_summary view. */
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            ss += (v[i] - *mean) * (v[i] - *mean);
    *std = c > 1 ? sqrt(ss / (double)(c - 1)) : NAN;
}

void run_summary_counts(const run_counts *c, const char *shown, int stopped, int quiet,
                        FILE *err)
{
    /* Said even with --quiet: what is left to do is not progress. */
    if (stopped)
        fprintf(err,
                "%s: interrupted after %zu trials finished: %zu trials not started: run the"
                " same command again to run them; %zu interrupted: add --retry to rerun"
                " them\n",
                shown, c->n_done + c->n_failed + c->n_diverged, c->total - c->finished,
                c->n_interrupted);
    if (!quiet)
        fprintf(err, "%s: ran %zu trials in %.2f s: %zu done, %zu failed, %zu diverged\n",
                shown, c->finished, c->seconds, c->n_done, c->n_failed, c->n_diverged);
}

/* Width of the params column: the widest point as printed, at least 6. */
static size_t params_width(const sweep_plan *p)
{
    size_t w = 6;
    for (size_t i = 0; i < p->n_points; i++) {
        size_t l = text_escape(NULL, 0, p->points[i].params_json);
        w = l > w ? l : w;
    }
    return w;
}

typedef struct seed_value {
    uint64_t seed;
    double v;
} seed_value;

static int cmp_seed(const void *a, const void *b)
{
    const seed_value *x = a, *y = b;
    return (x->seed > y->seed) - (x->seed < y->seed);
}

/* x rounded to d places by the one rule (text_fmt_round), right-aligned in
 * width w; "-" for NaN. */
static void put_num(FILE *out, double x, int d, int w)
{
    char b[64];
    if (isnan(x))
        snprintf(b, sizeof b, "-");
    else
        text_fmt_round(b, sizeof b, x, d);
    fprintf(out, "%*s", w, b);
}

/* One row of the table: the done trials of point pi, figures read back
 * from the database; buf has room for 4 x the plan's trials. The median
 * and the CI are those of point_stats (analysis.h: the values in seed
 * order, the stats defaults: 10000 bootstrap resamples, seed 0). */
static void summary_row(store *db, const sweep_plan *p, const int64_t *ids, int64_t exp,
                        size_t pi, size_t w, double *buf, seed_value *sv, FILE *out)
{
    size_t nt = p->n_trials, n = 0, total = 0, pruned = 0;
    double *acc = buf, *val = buf + nt, *best = buf + 2 * nt, *gap = buf + 3 * nt;
    for (size_t i = 0; i < nt; i++) {
        if (p->trials[i].point != pi)
            continue;
        total++;
        store_trial_figures f;
        store_error err;
        if (store_trial_figures_get(db, ids[i], &f, &err) || f.status != STORE_DONE) {
            pruned += f.status == STORE_PRUNED;
            continue;
        }
        sv[n].seed = p->trials[i].seed;
        sv[n].v = f.test_accuracy;
        val[n] = f.val_accuracy;
        best[n] = f.best_epoch;
        gap[n] = f.overfit_gap;
        n++;
    }
    qsort(sv, n, sizeof *sv, cmp_seed);
    for (size_t i = 0; i < n; i++)
        acc[i] = sv[i].v;
    size_t c;
    double am, as, amin, amax, vm, bm, gm, d1, d2, d3;
    runner_stats(acc, n, &c, &am, &as, &amin, &amax);
    runner_stats(val, n, &c, &vm, &d1, &d2, &d3);
    runner_stats(best, n, &c, &bm, &d1, &d2, &d3);
    runner_stats(gap, n, &c, &gm, &d1, &d2, &d3);
    /* The median and CI the statistics phase stored (a bootstrap of 10000
     * resamples costs as much again as the rest of the row at 1000 seeds);
     * computed here only when they are not there or do not match. */
    stats_summary su;
    store_point_stat ps;
    store_error serr;
    if (store_point_stat_read(db, exp, analysis_metric_name(ANALYSIS_TEST_ACCURACY), pi, &ps,
                              &serr) == 1 &&
        ps.n == n) {
        su.median = ps.median;
        su.ci_lo = ps.ci_lo;
        su.ci_hi = ps.ci_hi;
    } else if (stats_summary_compute(acc, n, NULL, NULL, &su)) {
        su.median = su.ci_lo = su.ci_hi = NAN;
    }
    char seeds[32];
    snprintf(seeds, sizeof seeds, n == total ? "%zu" : "%zu/%zu", n, total);
    char *params = text_escape_dup(p->points[pi].params_json);
    fprintf(out, "%5zu  %-*s  %5s  ", pi, (int)w, params ? params : "?", seeds);
    free(params);
    if (n == 0) {
        fprintf(out, pruned == total ? "(pruned by the search)\n" : "(no finished trial)\n");
        return;
    }
    put_num(out, am, 4, 6);
    if (isnan(as)) {
        fputs("         ", out);
    } else {
        fputs(" ± ", out);
        put_num(out, as, 4, 6);
    }
    fputs("  ", out);
    put_num(out, su.median, 4, 6);
    fputs("  ", out);
    put_num(out, su.ci_lo, 4, 6);
    fputs(" – ", out);
    put_num(out, su.ci_hi, 4, 6);
    fputs("  ", out);
    put_num(out, amin, 4, 6);
    fputs(" – ", out);
    put_num(out, amax, 4, 6);
    fputs("  ", out);
    put_num(out, vm, 4, 7);
    fputs("  ", out);
    put_num(out, bm, 1, 8);
    fputs("  ", out);
    put_num(out, gm, 4, 11);
    fputc('\n', out);
}

void run_summary_print(store *db, const sweep_plan *p, const int64_t *ids, int64_t exp,
                       const char *shown, const char *db_path, FILE *out)
{
    size_t na;
    double *buf = checked_mul(p->n_trials ? p->n_trials : 1, 4, &na) ? calloc(na, sizeof *buf)
                                                                      : NULL;
    seed_value *sv = buf ? calloc(p->n_trials ? p->n_trials : 1, sizeof *sv) : NULL;
    if (!sv) {
        free(buf);
        return;
    }
    size_t w = params_width(p);
    /* The ± and – take two or three bytes but one column: the headers are
     * padded by hand. */
    fprintf(out, "\n%s\n%5s  %-*s  %5s  %s  %s  %s  %s  %7s  %8s  %11s\n", shown, "point",
            (int)w, "params", "seeds", "test acc ± std ", "median", "95% CI of mean ",
            "acc min – max  ", "val acc", "best ep.", "overfit gap");
    /* One read transaction for every trial's figures, not one each (each
     * would take and release the WAL's read lock). */
    int tx = store_exec(db, "BEGIN", NULL) == 0;
    for (size_t pi = 0; pi < p->n_points; pi++)
        summary_row(db, p, ids, exp, pi, w, buf, sv, out);
    if (tx)
        (void)store_exec(db, "COMMIT", NULL);
    free(sv);
    fprintf(out, "\nresults: %s (experiment %lld)\n", db_path, (long long)exp);
    fprintf(out,
            "  sqlite3 %s \"SELECT params, n, round(test_accuracy_mean, 4) AS acc_mean,"
            " round(test_accuracy_std, 4) AS acc_std FROM sweep_summary"
            " WHERE experiment_id = %lld\"\n",
            db_path, (long long)exp);
    free(buf);
}
