/* runexp compare EXPERIMENT [EXPERIMENT_B] [--metric NAME] [--db FILE] [--json]
 *
 * One experiment: per sweep point the summary of a metric over its done
 * trials and the paired comparison with the best point (analysis.h), the
 * best and the smallest sufficient point, "converged by epoch N" and the
 * overfitting gap. Two experiments: per common point (same params JSON) the
 * paired difference A - B over their common seeds, with Holm across points.
 *
 * Computed afresh from the trials (so it works on databases written before
 * the statistics were stored); the database is opened read-only and never
 * created. Exit 0, or 2 for usage errors, a missing or unreadable database,
 * an unknown experiment or metric, a metric without values and two
 * experiments without common points or seeds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "analysis.h"
#include "cmd.h"
#include "store.h"
#include "text.h"

static void compare_usage(FILE *f)
{
    fputs("usage: runexp compare EXPERIMENT [EXPERIMENT_B] [options]\n"
          "  EXPERIMENT            name or id; with EXPERIMENT_B: A - B per common point\n"
          "  --metric NAME         test_accuracy (default), test_loss, val_accuracy, val_loss,\n"
          "                        train_accuracy or train_loss\n"
          "  --db FILE             results database (default: $RUNEXP_DB or results/runexp.db)\n"
          "  --json                machine-readable output\n",
          f);
}

/* ---- output helpers -------------------------------------------------------- */

/* A double for JSON: null when not finite; %.17g round-trips. */
static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

/* The typed sweep values of point p's first trial as a JSON object. */
static void json_params(FILE *f, const analysis_experiment *e, size_t p)
{
    const store_trial_row *t = NULL;
    for (size_t i = 0; i < e->trials.n && !t; i++)
        if (e->trial_point[i] == p)
            t = &e->trials.rows[i];
    fputc('{', f);
    for (size_t k = 0; t && k < t->n_params; k++) {
        const store_param_value *v = &t->params[k];
        if (k)
            fputs(", ", f);
        text_json_fputs(v->name, f);
        fputs(": ", f);
        if (v->type == 0)
            fprintf(f, "%lld", v->i);
        else if (v->type == 1)
            json_num(f, v->r);
        else
            text_json_fputs(v->s, f);
    }
    fputc('}', f);
}

/* "0.1234"; "-" for NaN. */
static const char *fmt4(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.4f", v);
    return buf;
}

/* A p-value: 4 decimals, "<0.0001" below that, "-" for NaN. */
static const char *fmtp(char *buf, size_t n, double p)
{
    if (isnan(p))
        snprintf(buf, n, "-");
    else if (p < 0.0001)
        snprintf(buf, n, "<0.0001");
    else
        snprintf(buf, n, "%.4f", p);
    return buf;
}

static const char *fmt_ci(char *buf, size_t n, double lo, double hi)
{
    if (isnan(lo) || isnan(hi))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "[%.4f, %.4f]", lo, hi);
    return buf;
}

/* Escaped labels of every point, and the width of the widest. */
static char **escaped_labels(const analysis_experiment *e, int *width)
{
    char **l = calloc(e->n_points ? e->n_points : 1, sizeof *l);
    *width = 5;
    if (!l)
        return NULL;
    for (size_t p = 0; p < e->n_points; p++) {
        l[p] = text_escape_dup(e->points[p].label);
        if (!l[p]) {
            for (size_t q = 0; q < p; q++)
                free(l[q]);
            free(l);
            return NULL;
        }
        if ((int)strlen(l[p]) > *width)
            *width = (int)strlen(l[p]);
    }
    return l;
}

static void free_labels(char **l, size_t n)
{
    if (!l)
        return;
    for (size_t p = 0; p < n; p++)
        free(l[p]);
    free(l);
}

static void print_bootstrap_json(FILE *f, const analysis_options *o)
{
    fprintf(f, "\"bootstrap\": {\"resamples\": %zu, \"level\": ", o->bootstrap.resamples);
    json_num(f, o->bootstrap.level);
    fprintf(f, ", \"seed\": %llu}", (unsigned long long)o->bootstrap.seed);
}

static void json_comparison(FILE *f, const analysis_comparison *c)
{
    const stats_paired *d = &c->paired;
    fprintf(f, "{\"n_pairs\": %zu, \"mean_diff\": ", d->n);
    json_num(f, d->mean_diff);
    fputs(", \"ci_lo\": ", f);
    json_num(f, d->ci_lo);
    fputs(", \"ci_hi\": ", f);
    json_num(f, d->ci_hi);
    fputs(", \"t\": ", f);
    json_num(f, d->t.t);
    fputs(", \"df\": ", f);
    json_num(f, d->t.df);
    fputs(", \"p_t\": ", f);
    json_num(f, d->t.p);
    fputs(", \"p_t_holm\": ", f);
    json_num(f, c->p_t_holm);
    fputs(", \"w\": ", f);
    json_num(f, d->w.statistic);
    fputs(", \"p_w\": ", f);
    json_num(f, d->w.p);
    fputs(", \"p_w_holm\": ", f);
    json_num(f, c->p_w_holm);
    fprintf(f, ", \"w_nonzero\": %zu, \"w_min_p\": ", d->w.n);
    json_num(f, d->w.min_p);
    fprintf(f, ", \"underpowered\": %s}", c->underpowered ? "true" : "false");
}

static void json_summary(FILE *f, const stats_summary *u)
{
    fprintf(f, "\"n\": %zu, \"mean\": ", u->n);
    json_num(f, u->mean);
    fputs(", \"std\": ", f);
    json_num(f, u->std);
    fputs(", \"min\": ", f);
    json_num(f, u->min);
    fputs(", \"max\": ", f);
    json_num(f, u->max);
    fputs(", \"median\": ", f);
    json_num(f, u->median);
    fputs(", \"iqm\": ", f);
    json_num(f, u->iqm);
    fputs(", \"ci_lo\": ", f);
    json_num(f, u->ci_lo);
    fputs(", \"ci_hi\": ", f);
    json_num(f, u->ci_hi);
}

/* ---- one experiment -------------------------------------------------------- */

static void print_one_json(const analysis_experiment *e, analysis_metric m,
                           const analysis_options *o, const analysis_result *r)
{
    FILE *f = stdout;
    fputs("{\"experiment\": ", f);
    text_json_fputs(e->name, f);
    fprintf(f, ", \"experiment_id\": %lld, \"metric\": ", (long long)e->id);
    text_json_fputs(analysis_metric_name(m), f);
    fprintf(f, ", \"higher_is_better\": %s, ", analysis_metric_higher_is_better(m) ? "true"
                                                                                   : "false");
    print_bootstrap_json(f, o);
    fputs(", \"alpha\": ", f);
    json_num(f, o->alpha);
    fputs(", \"converge_rel\": ", f);
    json_num(f, o->converge_rel);
    fprintf(f, ", \"order\": \"%s\", \"n_compared\": %zu", e->numeric_order ? "value" : "point_index",
            r->n_compared);
    fputs(", \"best_point\": ", f);
    if (r->best == ANALYSIS_NONE)
        fputs("null", f);
    else
        fprintf(f, "%zu", e->points[r->best].point_index);
    fputs(", \"smallest_sufficient_point\": ", f);
    if (r->smallest_sufficient == ANALYSIS_NONE)
        fputs("null", f);
    else
        fprintf(f, "%zu", e->points[r->smallest_sufficient].point_index);
    fputs(", \"sufficient_from_point\": ", f);
    if (r->sufficient_from == ANALYSIS_NONE)
        fputs("null", f);
    else
        fprintf(f, "%zu", e->points[r->sufficient_from].point_index);
    fputs(", \"points\": [", f);
    for (size_t p = 0; p < r->n_points; p++) {
        const analysis_point *pt = &r->points[p];
        fputs(p ? ",\n  {" : "\n  {", f);
        fprintf(f, "\"point_index\": %zu, \"params\": ", e->points[p].point_index);
        json_params(f, e, p);
        fputs(", \"label\": ", f);
        text_json_fputs(e->points[p].label, f);
        fprintf(f, ", \"rank\": %zu, ", pt->rank);
        json_summary(f, &pt->summary);
        fprintf(f, ", \"is_best\": %s, \"sufficient\": %s, \"vs_best\": ",
                pt->is_best ? "true" : "false", pt->sufficient ? "true" : "false");
        if (pt->vs_best.compared)
            json_comparison(f, &pt->vs_best);
        else
            fputs("null", f);
        fputs(", \"curve\": ", f);
        if (pt->curve_epochs)
            text_json_fputs(pt->curve_is_val ? "val_loss" : "loss", f);
        else
            fputs("null", f);
        fprintf(f, ", \"curve_epochs\": %zu, \"converged_epoch\": %zu, \"converged\": %s",
                pt->curve_epochs, pt->converged_epoch, pt->converged ? "true" : "false");
        fprintf(f, ", \"overfit_gap\": {\"n\": %zu, \"mean\": ", pt->gap.n);
        json_num(f, pt->gap.mean);
        fputs(", \"ci_lo\": ", f);
        json_num(f, pt->gap.ci_lo);
        fputs(", \"ci_hi\": ", f);
        json_num(f, pt->gap.ci_hi);
        fputs("}}", f);
    }
    fputs("\n]}\n", f);
}

/* How the Wilcoxon p-values of the points' comparisons were computed, as
 * the words before "Wilcoxon": exact, unless some comparison had more than
 * STATS_WILCOXON_EXACT_MAX nonzero differences. */
static const char *wilcoxon_words(int exact)
{
    return exact ? "exact " : "normal-approximation (above " STATS_WILCOXON_EXACT_MAX_TEXT
                              " pairs) ";
}

static int all_exact(const analysis_comparison *c, size_t n)
{
    for (size_t p = 0; p < n; p++)
        if (c[p].compared && !c[p].paired.w.exact)
            return 0;
    return 1;
}

static const char *wilcoxon_kind(const analysis_point *pts, size_t n)
{
    for (size_t p = 0; p < n; p++)
        if (pts[p].vs_best.compared && !pts[p].vs_best.paired.w.exact)
            return wilcoxon_words(0);
    return wilcoxon_words(1);
}

static int print_one_text(const analysis_experiment *e, analysis_metric m,
                          const analysis_options *o, const analysis_result *r)
{
    FILE *f = stdout;
    int w;
    char **lab = escaped_labels(e, &w);
    if (!lab)
        return -1;
    size_t done = 0;
    for (size_t i = 0; i < e->trials.n; i++)
        done += e->trials.rows[i].status == STORE_DONE;
    text_fputs(e->name, f);
    fprintf(f, " (experiment %lld): %s, %s is better; %zu point%s, %zu done trial%s\n",
            (long long)e->id, analysis_metric_name(m),
            analysis_metric_higher_is_better(m) ? "higher" : "lower", e->n_points,
            e->n_points == 1 ? "" : "s", done, done == 1 ? "" : "s");
    fprintf(f, "mean, median, IQM (interquartile mean) and %.0f %% CI of the mean (percentile "
               "bootstrap,\n%zu resamples, seed %llu) over each point's done trials; diff = "
               "point - best over\ntheir common seeds; two-sided p of the paired t-test and "
               "the %sWilcoxon\nsigned-rank test, Holm-adjusted across the %zu "
               "comparison%s.\n\n",
            100 * o->bootstrap.level, o->bootstrap.resamples,
            (unsigned long long)o->bootstrap.seed, wilcoxon_kind(r->points, e->n_points),
            r->n_compared, r->n_compared == 1 ? "" : "s");
    fprintf(f, "%-*s  %3s  %7s  %7s  %7s  %-18s  %8s  %-20s  %7s  %7s  %7s  %7s  %s\n", w,
            "point", "n", "mean", "median", "IQM", "95% CI", "diff", "diff 95% CI", "p(t)",
            "Holm", "p(W)", "Holm", "verdict");
    char b[10][48];
    for (size_t k = 0; k < e->n_points; k++) {
        size_t p = e->order[k];
        const analysis_point *pt = &r->points[p];
        const analysis_comparison *c = &pt->vs_best;
        const char *verdict = pt->is_best                          ? "best"
                              : pt->summary.n == 0                 ? "no value"
                              : !c->compared                       ? "no common seed"
                              : pt->sufficient && c->underpowered  ? "not worse (few pairs)"
                              : pt->sufficient                     ? "not worse"
                                                                   : "worse";
        fprintf(f, "%-*s  %3zu  %7s  %7s  %7s  %-18s  %8s  %-20s  %7s  %7s  %7s  %7s  %s%s\n",
                w, lab[p], pt->summary.n, fmt4(b[0], 48, pt->summary.mean),
                fmt4(b[1], 48, pt->summary.median), fmt4(b[2], 48, pt->summary.iqm),
                fmt_ci(b[3], 48, pt->summary.ci_lo, pt->summary.ci_hi),
                c->compared ? fmt4(b[4], 48, c->paired.mean_diff) : "",
                c->compared ? fmt_ci(b[5], 48, c->paired.ci_lo, c->paired.ci_hi) : "",
                c->compared ? fmtp(b[6], 48, c->paired.t.p) : "",
                c->compared ? fmtp(b[7], 48, c->p_t_holm) : "",
                c->compared ? fmtp(b[8], 48, c->paired.w.p) : "",
                c->compared ? fmtp(b[9], 48, c->p_w_holm) : "", verdict,
                p == r->smallest_sufficient ? ", smallest sufficient" : "");
    }
    fprintf(f, "\n%-*s  %-17s  %-8s  %-8s  %s\n", w, "point", "converged by", "curve",
            "gap", "gap 95% CI");
    for (size_t k = 0; k < e->n_points; k++) {
        size_t p = e->order[k];
        const analysis_point *pt = &r->points[p];
        char conv[48];
        if (!pt->curve_epochs)
            snprintf(conv, sizeof conv, "-");
        else if (pt->converged)
            snprintf(conv, sizeof conv, "epoch %zu of %zu", pt->converged_epoch,
                     pt->curve_epochs);
        else
            snprintf(conv, sizeof conv, "not (%zu epochs)", pt->curve_epochs);
        fprintf(f, "%-*s  %-17s  %-8s  %-8s  %s\n", w, lab[p], conv,
                pt->curve_epochs ? (pt->curve_is_val ? "val_loss" : "loss") : "-",
                fmt4(b[0], 48, pt->gap.mean), fmt_ci(b[1], 48, pt->gap.ci_lo, pt->gap.ci_hi));
    }
    fprintf(f, "converged by epoch N: after epoch N the mean (over seeds) loss never again "
               "falls more\nthan %.0f %% below its value at N; gap: final val_loss - "
               "minimum val_loss, mean and 95 %% CI.\n\n",
            100 * o->converge_rel);
    const analysis_point *bp = &r->points[r->best];
    fprintf(f, "best: %s (mean %s %.4f)\n", lab[r->best], analysis_metric_name(m),
            bp->summary.mean);
    if (r->smallest_sufficient == ANALYSIS_NONE) {
        fputs("smallest point not significantly worse than the best: none\n", f);
    } else {
        size_t s = r->smallest_sufficient;
        const analysis_point *sp = &r->points[s];
        fprintf(f, "smallest point not significantly worse than the best: %s\n", lab[s]);
        if (s == r->best && sp->rank == 0)
            fputs("  (the best itself, and the smallest point)\n", f);
        else if (s == r->best)
            fprintf(f, "  (the best itself: every point before it by %s is significantly "
                       "worse, Holm-adjusted %sWilcoxon p < %.2f)\n",
                    e->numeric_order ? "sweep value" : "point index",
                    wilcoxon_kind(r->points, e->n_points), o->alpha);
        else
            fprintf(f, "  (smallest by %s; Holm-adjusted %sWilcoxon p = %.4f >= %.2f over "
                       "%zu common seeds;\n  mean %.4f, diff %.4f)\n",
                    e->numeric_order ? "sweep value" : "point index",
                    wilcoxon_kind(r->points, e->n_points), sp->vs_best.p_w_holm,
                    o->alpha, sp->vs_best.paired.n, sp->summary.mean,
                    sp->vs_best.paired.mean_diff);
    }
    if (r->sufficient_from != ANALYSIS_NONE && r->sufficient_from != r->smallest_sufficient) {
        fputs("but not every larger point is: ", f);
        size_t bad = 0;
        for (size_t k = 0; k < e->n_points; k++) {
            size_t p = e->order[k];
            const analysis_point *pt = &r->points[p];
            if (pt->rank > r->points[r->smallest_sufficient].rank && pt->summary.n > 0 &&
                !pt->sufficient)
                fprintf(f, "%s%s", bad++ ? ", " : "", lab[p]);
        }
        fprintf(f, " %s significantly worse;\nevery point from %s on is not significantly "
                   "worse than the best\n",
                bad == 1 ? "is" : "are", lab[r->sufficient_from]);
    }
    free_labels(lab, e->n_points);
    return 0;
}

/* Warnings on stderr for the comparisons the Wilcoxon test cannot decide. */
static void warn_underpowered(const analysis_experiment *e, const analysis_result *r,
                              const analysis_options *o)
{
    size_t k = 0, least = SIZE_MAX;
    for (size_t p = 0; p < r->n_points; p++)
        if (r->points[p].vs_best.compared && r->points[p].vs_best.underpowered) {
            k++;
            if (r->points[p].vs_best.paired.w.n < least)
                least = r->points[p].vs_best.paired.w.n;
        }
    (void)e;
    if (k)
        fprintf(stderr,
                "runexp compare: warning: %zu comparison%s with fewer than 6 nonzero paired "
                "differences (fewest: %zu); the exact Wilcoxon test cannot reach p < %.2f "
                "there, so those points count as not significantly worse; run more seeds\n",
                k, k == 1 ? "" : "s", least, o->alpha);
}

/* ---- two experiments ------------------------------------------------------- */

static int compare_two(const analysis_experiment *a, const analysis_experiment *b,
                       analysis_metric m, const analysis_options *o, int json)
{
    int rc = 2;
    size_t np = a->n_points;
    size_t *pb = malloc((np ? np : 1) * sizeof *pb);
    double **xa = calloc(np ? np : 1, sizeof *xa), **xb = calloc(np ? np : 1, sizeof *xb);
    size_t *n = calloc(np ? np : 1, sizeof *n);
    analysis_comparison *c = calloc(np ? np : 1, sizeof *c);
    analysis_trial *ta = analysis_experiment_trials(a, m);
    analysis_trial *tb = analysis_experiment_trials(b, m);
    analysis_result ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    char **lab = NULL;
    if (!pb || !xa || !xb || !n || !c || (a->trials.n && !ta) || (b->trials.n && !tb))
        goto oom;
    size_t common = 0, pairs = 0;
    for (size_t p = 0; p < np; p++) {
        pb[p] = ANALYSIS_NONE;
        for (size_t q = 0; q < b->n_points; q++)
            if (!strcmp(a->points[p].params, b->points[q].params)) {
                pb[p] = q;
                break;
            }
        if (pb[p] == ANALYSIS_NONE)
            continue;
        common++;
        if (analysis_seed_pairs(ta, a->trials.n, p, tb, b->trials.n, pb[p], &xa[p], &xb[p],
                                &n[p]))
            goto oom;
        pairs += n[p];
    }
    if (common == 0) {
        fputs("runexp compare: experiments '", stderr);
        text_fputs(a->name, stderr);
        fputs("' and '", stderr);
        text_fputs(b->name, stderr);
        fputs("' have no sweep point in common (points are matched by their sweep values, "
              "the params JSON)\n", stderr);
        goto done;
    }
    if (pairs == 0) {
        fputs("runexp compare: experiments '", stderr);
        text_fputs(a->name, stderr);
        fputs("' and '", stderr);
        text_fputs(b->name, stderr);
        fprintf(stderr, "' have no common seeds: no seed is done with a value of %s at the "
                        "same point in both\n", analysis_metric_name(m));
        goto done;
    }
    analysis_input ia = {a->n_points, a->order, analysis_metric_higher_is_better(m),
                         a->trials.n, ta, o};
    analysis_input ib = {b->n_points, b->order, analysis_metric_higher_is_better(m),
                         b->trials.n, tb, o};
    if (analysis_compare_family(np, (const double *const *)xa, (const double *const *)xb, n,
                                o, c) ||
        analysis_run(&ia, &ra) || analysis_run(&ib, &rb))
        goto oom;
    size_t family = 0;
    for (size_t p = 0; p < np; p++)
        family += c[p].compared;
    if (json) {
        FILE *f = stdout;
        fputs("{\"a\": {\"experiment\": ", f);
        text_json_fputs(a->name, f);
        fprintf(f, ", \"experiment_id\": %lld}, \"b\": {\"experiment\": ", (long long)a->id);
        text_json_fputs(b->name, f);
        fprintf(f, ", \"experiment_id\": %lld}, \"metric\": ", (long long)b->id);
        text_json_fputs(analysis_metric_name(m), f);
        fprintf(f, ", \"higher_is_better\": %s, ",
                analysis_metric_higher_is_better(m) ? "true" : "false");
        print_bootstrap_json(f, o);
        fprintf(f, ", \"n_compared\": %zu, \"points\": [", family);
        size_t k = 0;
        for (size_t i = 0; i < np; i++) {
            size_t p = a->order[i];
            if (pb[p] == ANALYSIS_NONE)
                continue;
            fputs(k++ ? ",\n  {" : "\n  {", f);
            fputs("\"params\": ", f);
            json_params(f, a, p);
            fputs(", \"label\": ", f);
            text_json_fputs(a->points[p].label, f);
            fprintf(f, ", \"point_index_a\": %zu, \"point_index_b\": %zu, \"n_a\": %zu, "
                       "\"mean_a\": ",
                    a->points[p].point_index, b->points[pb[p]].point_index,
                    ra.points[p].summary.n);
            json_num(f, ra.points[p].summary.mean);
            fprintf(f, ", \"n_b\": %zu, \"mean_b\": ", rb.points[pb[p]].summary.n);
            json_num(f, rb.points[pb[p]].summary.mean);
            fputs(", \"a_minus_b\": ", f);
            if (c[p].compared)
                json_comparison(f, &c[p]);
            else
                fputs("null", f);
            fputc('}', f);
        }
        fputs("\n]}\n", f);
    } else {
        FILE *f = stdout;
        int w;
        lab = escaped_labels(a, &w);
        if (!lab)
            goto oom;
        fputs("A = ", f);
        text_fputs(a->name, f);
        fprintf(f, " (experiment %lld), B = ", (long long)a->id);
        text_fputs(b->name, f);
        fprintf(f, " (experiment %lld): %s, %s is better\n", (long long)b->id,
                analysis_metric_name(m), analysis_metric_higher_is_better(m) ? "higher"
                                                                             : "lower");
        fprintf(f, "%zu common points (same sweep values); diff = A - B over each point's "
                   "common seeds (done in both),\n%.0f %% CI by percentile bootstrap (%zu "
                   "resamples, seed %llu); two-sided p of the paired t-test\nand the %s"
                   "Wilcoxon signed-rank test, Holm-adjusted across the %zu comparison%s.\n\n",
                common, 100 * o->bootstrap.level, o->bootstrap.resamples,
                (unsigned long long)o->bootstrap.seed, wilcoxon_words(all_exact(c, a->n_points)),
                family, family == 1 ? "" : "s");
        fprintf(f, "%-*s  %5s  %7s  %7s  %8s  %-20s  %7s  %7s  %7s  %7s\n", w, "point",
                "pairs", "mean A", "mean B", "diff", "diff 95% CI", "p(t)", "Holm", "p(W)",
                "Holm");
        char s[8][48];
        for (size_t i = 0; i < np; i++) {
            size_t p = a->order[i];
            if (pb[p] == ANALYSIS_NONE)
                continue;
            const analysis_comparison *x = &c[p];
            fprintf(f, "%-*s  %5zu  %7s  %7s  %8s  %-20s  %7s  %7s  %7s  %7s\n", w, lab[p],
                    x->compared ? x->paired.n : 0, fmt4(s[0], 48, ra.points[p].summary.mean),
                    fmt4(s[1], 48, rb.points[pb[p]].summary.mean),
                    x->compared ? fmt4(s[2], 48, x->paired.mean_diff) : "-",
                    x->compared ? fmt_ci(s[3], 48, x->paired.ci_lo, x->paired.ci_hi) : "-",
                    x->compared ? fmtp(s[4], 48, x->paired.t.p) : "-",
                    x->compared ? fmtp(s[5], 48, x->p_t_holm) : "-",
                    x->compared ? fmtp(s[6], 48, x->paired.w.p) : "-",
                    x->compared ? fmtp(s[7], 48, x->p_w_holm) : "-");
        }
        if (common < np || common < b->n_points)
            fprintf(f, "\npoints only in A: %zu, only in B: %zu (not compared)\n",
                    np - common, b->n_points - common);
    }
    size_t under = 0;
    for (size_t p = 0; p < np; p++)
        under += c[p].compared && c[p].underpowered;
    if (under)
        fprintf(stderr,
                "runexp compare: warning: %zu comparison%s with fewer than 6 nonzero paired "
                "differences; the exact Wilcoxon test cannot reach p < %.2f there\n",
                under, under == 1 ? "" : "s", o->alpha);
    rc = 0;
    goto done;
oom:
    fputs("runexp compare: out of memory\n", stderr);
    rc = 1;
done:
    for (size_t p = 0; xa && xb && p < np; p++) {
        free(xa[p]);
        free(xb[p]);
    }
    free(xa);
    free(xb);
    free(n);
    free(c);
    free(pb);
    free(ta);
    free(tb);
    free_labels(lab, np);
    analysis_result_free(&ra);
    analysis_result_free(&rb);
    return rc;
}

/* ---- the command ------------------------------------------------------------ */

static int load(store *s, const char *name, analysis_experiment *e)
{
    store_error err;
    int64_t id;
    int rc = store_experiment_find(s, name, &id, &err);
    if (rc == 0)
        rc = analysis_experiment_load(s, id, e, &err);
    if (rc) {
        fputs("runexp compare: ", stderr);
        text_fputs(err.message, stderr);
        fputc('\n', stderr);
        return 2;
    }
    return 0;
}

int cmd_compare(int argc, char **argv)
{
    const char *env = getenv("RUNEXP_DB");
    const char *db = env && *env ? env : "results/runexp.db";
    const char *names[2] = {NULL, NULL};
    int json = 0, metric = ANALYSIS_TEST_ACCURACY;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            compare_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) {
            json = 1;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--db"))) {
            if (!*v) {
                fputs("runexp compare: --db needs a file name\n", stderr);
                return 2;
            }
            db = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--metric"))) {
            metric = analysis_metric_parse(v);
            if (metric < 0) {
                fputs("runexp compare: unknown metric '", stderr);
                text_fputs(v, stderr);
                fputs("'; valid: test_accuracy, test_loss, val_accuracy, val_loss, "
                      "train_accuracy, train_loss\n", stderr);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fputs("runexp compare: unknown option '", stderr);
            text_fputs(a, stderr);
            fputs("'\n", stderr);
            compare_usage(stderr);
            return 2;
        } else if (!names[0]) {
            names[0] = a;
        } else if (!names[1]) {
            names[1] = a;
        } else {
            fputs("runexp compare: at most two experiments (got a third: '", stderr);
            text_fputs(a, stderr);
            fputs("')\n", stderr);
            return 2;
        }
    }
    if (!names[0]) {
        fputs("runexp compare: which experiment? (a name or an id)\n", stderr);
        compare_usage(stderr);
        return 2;
    }
    store_error err;
    store *s = store_open_readonly(db, &err);
    if (!s) {
        fputs("runexp compare: ", stderr);
        text_fputs(err.message, stderr);
        fputc('\n', stderr);
        return 2;
    }
    analysis_experiment e[2];
    memset(e, 0, sizeof e);
    analysis_result r;
    memset(&r, 0, sizeof r);
    analysis_options o;
    analysis_options_init(&o);
    o.threads = omp_get_max_threads(); /* OMP_NUM_THREADS, else the cores */
    analysis_metric m = (analysis_metric)metric;
    int rc = load(s, names[0], &e[0]);
    if (!rc && names[1])
        rc = load(s, names[1], &e[1]);
    store_close(s);
    if (rc)
        goto done;
    if (names[1]) {
        rc = compare_two(&e[0], &e[1], m, &o, json);
        goto done;
    }
    if (analysis_experiment_run(&e[0], m, &o, &r)) {
        fputs("runexp compare: out of memory\n", stderr);
        rc = 1;
        goto done;
    }
    if (r.best == ANALYSIS_NONE) {
        fputs("runexp compare: experiment '", stderr);
        text_fputs(e[0].name, stderr);
        fprintf(stderr, "' has no done trial with a value of %s%s\n", analysis_metric_name(m),
                m == ANALYSIS_VAL_ACCURACY || m == ANALYSIS_VAL_LOSS
                    ? " (no validation split?)" : "");
        rc = 2;
        goto done;
    }
    if (json)
        print_one_json(&e[0], m, &o, &r);
    else if (print_one_text(&e[0], m, &o, &r)) {
        fputs("runexp compare: out of memory\n", stderr);
        rc = 1;
        goto done;
    }
    warn_underpowered(&e[0], &r, &o);
    rc = 0;
done:
    analysis_result_free(&r);
    analysis_experiment_free(&e[0]);
    analysis_experiment_free(&e[1]);
    if (!rc && (fflush(stdout) || ferror(stdout))) {
        fputs("runexp compare: error writing the output\n", stderr);
        rc = 1;
    }
    return rc;
}
