/* analysis: per-point statistics, comparisons with the best point and the
 * lab's answers, over plain arrays. The rules are in analysis.h. */
#include "analysis.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

void analysis_options_init(analysis_options *o)
{
    o->alpha = ANALYSIS_ALPHA;
    o->converge_rel = ANALYSIS_CONVERGE_REL;
    stats_bootstrap_init(&o->bootstrap);
    o->threads = 1;
}

void analysis_result_free(analysis_result *r)
{
    if (!r)
        return;
    free(r->points);
    memset(r, 0, sizeof *r);
}

size_t analysis_converged_epoch(const double *m, size_t e, double rel)
{
    if (e == 0)
        return 0;
    for (size_t i = 0; i < e; i++)
        if (isnan(m[i]))
            return 0;
    /* One pass from the end: after[i] = min of m[i+1 .. e). The first i
     * (from the start) whose later minimum is within rel of m[i] wins. */
    double after = INFINITY;
    size_t best = e; /* N = E always qualifies */
    for (size_t i = e; i-- > 0;) {
        if (m[i] - after <= rel * fabs(m[i]))
            best = i + 1;
        if (m[i] < after)
            after = m[i];
    }
    return best;
}

/* Trials of point p, done, with a finite value: their (seed, value), sorted
 * by seed, duplicates of a seed dropped after the first. */
typedef struct seed_value {
    uint64_t seed;
    size_t order; /* position in the trial list, so the first one wins */
    double value;
} seed_value;

static int seed_value_cmp(const void *pa, const void *pb)
{
    const seed_value *a = pa, *b = pb;
    if (a->seed != b->seed)
        return a->seed < b->seed ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* The done trials of point p with a finite value as (seed, value), sorted by
 * seed; of a seed seen twice only the first trial (in list order) counts,
 * whatever its value. */
static seed_value *point_values(const analysis_trial *t, size_t nt, size_t p, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < nt; i++)
        if (t[i].point == p && t[i].done)
            k++;
    *n = 0;
    seed_value *v = malloc((k ? k : 1) * sizeof *v);
    if (!v)
        return NULL;
    k = 0;
    for (size_t i = 0; i < nt; i++)
        if (t[i].point == p && t[i].done)
            v[k++] = (seed_value){t[i].seed, i, t[i].value};
    qsort(v, k, sizeof *v, seed_value_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || v[i - 1].seed != v[i].seed)
            if (!isnan(v[i].value))
                v[u++] = v[i];
    *n = u;
    return v;
}

/* keep[i] = 1 for the done trials that count: the first of each (point,
 * seed) in list order. */
typedef struct trial_ref {
    size_t point;
    uint64_t seed;
    size_t index;
} trial_ref;

static int trial_ref_cmp(const void *pa, const void *pb)
{
    const trial_ref *a = pa, *b = pb;
    if (a->point != b->point)
        return a->point < b->point ? -1 : 1;
    if (a->seed != b->seed)
        return a->seed < b->seed ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static unsigned char *kept_trials(const analysis_trial *t, size_t nt)
{
    unsigned char *keep = calloc(nt ? nt : 1, 1);
    trial_ref *r = malloc((nt ? nt : 1) * sizeof *r);
    if (!keep || !r) {
        free(keep);
        free(r);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < nt; i++)
        if (t[i].done)
            r[k++] = (trial_ref){t[i].point, t[i].seed, i};
    qsort(r, k, sizeof *r, trial_ref_cmp);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || r[i - 1].point != r[i].point || r[i - 1].seed != r[i].seed)
            keep[r[i].index] = 1;
    free(r);
    return keep;
}

int analysis_seed_pairs(const analysis_trial *a, size_t na, size_t pa,
                        const analysis_trial *b, size_t nb, size_t pb,
                        double **xa, double **xb, size_t *n)
{
    size_t ka, kb;
    *xa = *xb = NULL;
    *n = 0;
    seed_value *va = point_values(a, na, pa, &ka);
    seed_value *vb = point_values(b, nb, pb, &kb);
    if (!va || !vb)
        goto fail;
    size_t m = ka < kb ? ka : kb;
    if (m == 0) {
        free(va);
        free(vb);
        return 0;
    }
    *xa = malloc(m * sizeof **xa);
    *xb = malloc(m * sizeof **xb);
    if (!*xa || !*xb)
        goto fail;
    /* merge of two seed-sorted lists */
    size_t i = 0, j = 0, k = 0;
    while (i < ka && j < kb) {
        if (va[i].seed < vb[j].seed) {
            i++;
        } else if (va[i].seed > vb[j].seed) {
            j++;
        } else {
            (*xa)[k] = va[i++].value;
            (*xb)[k++] = vb[j++].value;
        }
    }
    *n = k;
    if (k == 0) {
        free(*xa);
        free(*xb);
        *xa = *xb = NULL;
    }
    free(va);
    free(vb);
    return 0;
fail:
    free(va);
    free(vb);
    free(*xa);
    free(*xb);
    *xa = *xb = NULL;
    return -1;
}

/* ---- bootstrap CIs, many at once ----------------------------------------- */

/* One bootstrap CI to compute: of the sample v[0..n) (finite values, in the
 * order the bootstrap indexes them), into *lo and *hi. */
typedef struct ci_job {
    const double *v;
    size_t n;
    double *lo, *hi;
} ci_job;

/* Samples of one length bootstrapped together, at most: wide enough that
 * the generator's pass (the cost of one sample alone) is shared, narrow
 * enough that a task's matrix and resample means stay a few MB. */
#define CI_COLUMNS 64
#define CI_MATRIX_DOUBLES ((size_t)1 << 20)

typedef struct ci_order {
    size_t n, job;
} ci_order;

static int ci_order_cmp(const void *pa, const void *pb)
{
    const ci_order *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return (a->job > b->job) - (a->job < b->job);
}

/* Samples sorted[first .. first + w) (one length n) as stats_bootstrap_
 * mean_ci_many's n x w matrix; their CIs into their jobs. */
static int ci_task(const ci_job *jobs, const ci_order *sorted, size_t first, size_t w,
                   const stats_bootstrap *b)
{
    size_t n = sorted[first].n;
    if (n == 0) {
        for (size_t j = 0; j < w; j++)
            *jobs[sorted[first + j].job].lo = *jobs[sorted[first + j].job].hi = NAN;
        return 0;
    }
    size_t need = stats_bootstrap_many_scratch(w, b);
    double *x = malloc(n * w * sizeof *x), *scratch = malloc(need * sizeof *scratch);
    double lo[CI_COLUMNS], hi[CI_COLUMNS];
    int rc = -1;
    if (x && scratch && need) {
        for (size_t j = 0; j < w; j++) {
            const double *v = jobs[sorted[first + j].job].v;
            for (size_t i = 0; i < n; i++)
                x[i * w + j] = v[i];
        }
        rc = stats_bootstrap_mean_ci_many(x, n, w, b, scratch, lo, hi);
        for (size_t j = 0; j < w && rc == 0; j++) {
            *jobs[sorted[first + j].job].lo = lo[j];
            *jobs[sorted[first + j].job].hi = hi[j];
        }
    }
    free(x);
    free(scratch);
    return rc;
}

/* Every job's CI: the samples of one length bootstrapped together
 * (stats_bootstrap_mean_ci_many, whose columns get what each would alone),
 * in tasks shared by o->threads threads. The same bits as one by one, for
 * any number of threads. */
static int bootstrap_cis(const ci_job *jobs, size_t k, const analysis_options *o)
{
    if (k == 0)
        return 0;
    ci_order *sorted = malloc(k * sizeof *sorted);
    size_t *task_first = malloc(k * sizeof *task_first), *task_w = malloc(k * sizeof *task_w);
    size_t nt = o->threads > 1 ? (size_t)o->threads : 1, n_tasks = 0;
    int failed = 0;
    if (!sorted || !task_first || !task_w) {
        free(sorted);
        free(task_first);
        free(task_w);
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        sorted[i].n = jobs[i].n;
        sorted[i].job = i;
    }
    qsort(sorted, k, sizeof *sorted, ci_order_cmp);
    for (size_t g = 0; g < k;) {
        size_t e = g;
        while (e < k && sorted[e].n == sorted[g].n)
            e++;
        /* this length's samples in about equal tasks, one per thread at
         * least, each no wider than the bounds */
        size_t cnt = e - g, w = (cnt + nt - 1) / nt, cap = CI_MATRIX_DOUBLES / (sorted[g].n + 1);
        w = w < CI_COLUMNS ? w : CI_COLUMNS;
        w = w < cap ? w : cap;
        w = w ? w : 1;
        for (size_t f = g; f < e; f += w) {
            task_first[n_tasks] = f;
            task_w[n_tasks++] = e - f < w ? e - f : w;
        }
        g = e;
    }
    int nth = nt > 1 && n_tasks > 1 ? (int)nt : 1;
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(dynamic, 1)
    for (size_t t = 0; t < n_tasks; t++)
        if (ci_task(jobs, sorted, task_first[t], task_w[t], &o->bootstrap)) {
#pragma omp atomic write
            failed = 1;
        }
    free(sorted);
    free(task_first);
    free(task_w);
    return failed ? -1 : 0;
}

static void comparison_clear(analysis_comparison *c)
{
    memset(c, 0, sizeof *c);
    c->paired.mean_diff = c->paired.ci_lo = c->paired.ci_hi = NAN;
    c->paired.t.mean = c->paired.t.sd = c->paired.t.t = c->paired.t.df = NAN;
    c->paired.t.p = NAN;
    c->paired.w.w_plus = c->paired.w.w_minus = c->paired.w.statistic = NAN;
    c->paired.w.p = c->paired.w.min_p = c->paired.w.z = c->paired.w.p_normal = NAN;
    c->p_t_holm = c->p_w_holm = NAN;
}

int analysis_compare_family(size_t m, const double *const *xa, const double *const *xb,
                            const size_t *n, const analysis_options *o,
                            analysis_comparison *out)
{
    analysis_options def;
    if (!o) {
        analysis_options_init(&def);
        o = &def;
    }
    double *pt = malloc((m ? m : 1) * sizeof *pt);
    double *pw = malloc((m ? m : 1) * sizeof *pw);
    size_t *order = malloc((m ? m : 1) * sizeof *order);
    /* One scratch per thread for its comparisons, sized for the largest;
     * the differences of every comparison for their CIs. */
    size_t ns = 1, nd = 0;
    for (size_t k = 0; k < m; k++) {
        size_t need = n[k] + stats_wilcoxon_scratch(n[k]);
        ns = need > ns ? need : ns;
        nd += n[k];
    }
    double *d = malloc((nd ? nd : 1) * sizeof *d);
    ci_job *ci = malloc((m ? m : 1) * sizeof *ci);
    int rc = -1, failed = 0;
    if (!pt || !pw || !order || !d || !ci)
        goto done;
    int nt = o->threads > 1 && m > 1 ? o->threads : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        double *scratch = malloc(ns * sizeof *scratch);
        if (!scratch) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t k = 0; k < m; k++) {
            comparison_clear(&out[k]);
            pt[k] = pw[k] = NAN;
            if (n[k] == 0 || !scratch)
                continue;
            if (stats_paired_describe(xa[k], xb[k], n[k], scratch, &out[k].paired)) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            out[k].compared = out[k].paired.n > 0;
            if (!out[k].compared)
                continue;
            pt[k] = out[k].paired.t.p;
            pw[k] = out[k].paired.w.p;
            out[k].underpowered = out[k].paired.w.min_p >= o->alpha;
        }
        free(scratch);
    }
    if (failed)
        goto done;
    /* the CIs of the mean differences, all at once (bootstrap_cis) */
    size_t nci = 0;
    for (size_t k = 0, at = 0; k < m; k++) {
        if (!out[k].compared)
            continue;
        ci[nci].v = d + at;
        ci[nci].n = stats_paired_diff(xa[k], xb[k], n[k], d + at);
        ci[nci].lo = &out[k].paired.ci_lo;
        ci[nci++].hi = &out[k].paired.ci_hi;
        at += n[k];
    }
    if (bootstrap_cis(ci, nci, o))
        goto done;
    if (stats_holm(pt, m, pt, order) || stats_holm(pw, m, pw, order))
        goto done;
    for (size_t k = 0; k < m; k++) {
        out[k].p_t_holm = pt[k];
        out[k].p_w_holm = pw[k];
    }
    rc = 0;
done:
    free(pt);
    free(pw);
    free(order);
    free(d);
    free(ci);
    return rc;
}

/* The mean curve of point p over its done trials (see "converged"). */
static int point_curve(const analysis_input *in, const unsigned char *keep, size_t p,
                       const analysis_options *o, analysis_point *pt)
{
    const analysis_trial *t = in->trials;
    size_t e = SIZE_MAX, k = 0;
    int val = 1;
    pt->curve_epochs = pt->converged_epoch = 0;
    pt->converged = 0;
    pt->curve_is_val = 0;
    pt->curve_at_converged = NAN;
    for (size_t i = 0; i < in->n_trials; i++) {
        if (t[i].point != p || !keep[i])
            continue;
        k++;
        if (t[i].n_epochs < e)
            e = t[i].n_epochs;
    }
    if (k == 0 || e == 0 || e == SIZE_MAX)
        return 0;
    for (size_t i = 0; i < in->n_trials && val; i++) {
        if (t[i].point != p || !keep[i])
            continue;
        if (!t[i].val_loss)
            val = 0;
        for (size_t j = 0; val && j < e; j++)
            if (!isfinite(t[i].val_loss[j]))
                val = 0;
    }
    double *m = calloc(e, sizeof *m);
    if (!m)
        return -1;
    for (size_t i = 0; i < in->n_trials; i++) {
        if (t[i].point != p || !keep[i])
            continue;
        const double *h = val ? t[i].val_loss : t[i].loss;
        for (size_t j = 0; j < e; j++)
            m[j] += h ? h[j] : NAN;
    }
    for (size_t j = 0; j < e; j++)
        m[j] /= (double)k;
    size_t n = analysis_converged_epoch(m, e, o->converge_rel);
    if (n > 0) {
        pt->curve_epochs = e;
        pt->curve_is_val = val;
        pt->converged_epoch = n;
        pt->converged = n < e;
        pt->curve_at_converged = m[n - 1];
    }
    free(m);
    return 0;
}

/* The finite values of the done trials of point p (the metric, or the
 * overfit gap) into v in the trials' order; returns how many. */
static size_t point_values_of(const analysis_input *in, const unsigned char *keep, size_t p,
                              int gap, double *v)
{
    size_t k = 0;
    for (size_t i = 0; i < in->n_trials; i++)
        if (in->trials[i].point == p && keep[i]) {
            double x = gap ? in->trials[i].overfit_gap : in->trials[i].value;
            if (!isnan(x))
                v[k++] = x;
        }
    return k;
}

/* Summary of the done trials of point p but its CI (bootstrap_cis): the
 * metric, or the overfit gap. */
static int point_summary(const analysis_input *in, const unsigned char *keep, size_t p,
                         int gap, double *buf, double *scratch, stats_summary *out)
{
    size_t k = point_values_of(in, keep, p, gap, buf);
    return stats_summary_describe(buf, k, scratch, out);
}

/* The CIs of every point's summary and gap (bootstrap_cis), over the same
 * values point_summary describes. */
static int points_cis(const analysis_input *in, const unsigned char *keep,
                      const analysis_options *o, analysis_result *out)
{
    size_t np = out->n_points, nv = 2 * in->n_trials;
    double *v = malloc((nv ? nv : 1) * sizeof *v);
    ci_job *ci = malloc((np ? 2 * np : 1) * sizeof *ci);
    int rc = -1;
    if (v && ci) {
        size_t at = 0;
        for (size_t p = 0; p < np; p++)
            for (int gap = 0; gap < 2; gap++) {
                stats_summary *su = gap ? &out->points[p].gap : &out->points[p].summary;
                ci_job *j = &ci[2 * p + (size_t)gap];
                j->v = v + at;
                j->n = point_values_of(in, keep, p, gap, v + at);
                j->lo = &su->ci_lo;
                j->hi = &su->ci_hi;
                at += j->n;
            }
        rc = bootstrap_cis(ci, 2 * np, o);
    }
    free(v);
    free(ci);
    return rc;
}

int analysis_run(const analysis_input *in, analysis_result *out)
{
    analysis_options def;
    const analysis_options *o = in->options;
    memset(out, 0, sizeof *out);
    out->best = out->smallest_sufficient = out->sufficient_from = ANALYSIS_NONE;
    if (!o) {
        analysis_options_init(&def);
        o = &def;
    }
    size_t np = in->n_points;
    for (size_t i = 0; i < in->n_trials; i++)
        if (in->trials[i].point >= np)
            return -1;
    size_t *rank = NULL;
    unsigned char *keep = kept_trials(in->trials, in->n_trials);
    double **xa = NULL, **xb = NULL;
    size_t *npairs = NULL;
    analysis_comparison *cmp = NULL;
    out->points = calloc(np ? np : 1, sizeof *out->points);
    rank = malloc((np ? np : 1) * sizeof *rank);
    xa = calloc(np ? np : 1, sizeof *xa);
    xb = calloc(np ? np : 1, sizeof *xb);
    npairs = calloc(np ? np : 1, sizeof *npairs);
    cmp = calloc(np ? np : 1, sizeof *cmp);
    if (!keep || !out->points || !rank || !xa || !xb || !npairs || !cmp)
        goto fail;
    out->n_points = np;
    /* rank[p]: position of p in the order; the order must be a permutation */
    for (size_t p = 0; p < np; p++)
        rank[p] = SIZE_MAX;
    for (size_t r = 0; r < np; r++) {
        size_t p = in->order ? in->order[r] : r;
        if (p >= np || rank[p] != SIZE_MAX)
            goto fail;
        rank[p] = r;
    }

    /* Each point on its own (threads share nothing but the input), its
     * CIs after (points_cis: bootstrap_cis gives each what it would alone),
     * so the results are the same for any number of threads. */
    int nt = o->threads > 1 && np > 1 ? o->threads : 1, failed = 0;
    size_t nbuf = in->n_trials ? in->n_trials : 1, nscr = nbuf;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        double *tbuf = malloc(nbuf * sizeof *tbuf), *tscr = malloc(nscr * sizeof *tscr);
        if (!tbuf || !tscr) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t p = 0; p < np; p++) {
            analysis_point *pt = &out->points[p];
            pt->rank = rank[p];
            comparison_clear(&pt->vs_best);
            if (!tbuf || !tscr || point_summary(in, keep, p, 0, tbuf, tscr, &pt->summary) ||
                point_summary(in, keep, p, 1, tbuf, tscr, &pt->gap) ||
                point_curve(in, keep, p, o, pt)) {
#pragma omp atomic write
                failed = 1;
            }
        }
        free(tbuf);
        free(tscr);
    }
    if (failed || points_cis(in, keep, o, out))
        goto fail;
    for (size_t p = 0; p < np; p++) {
        analysis_point *pt = &out->points[p];
        /* best: strictly better mean wins, so a tie keeps the lower index */
        if (pt->summary.n == 0)
            continue;
        if (out->best == ANALYSIS_NONE) {
            out->best = p;
        } else {
            double bm = out->points[out->best].summary.mean, m = pt->summary.mean;
            if (in->higher_is_better ? m > bm : m < bm)
                out->best = p;
        }
    }
    if (out->best == ANALYSIS_NONE)
        goto finish;
    size_t b = out->best;
    out->points[b].is_best = 1;
    /* Family: every other point, each paired with the best by seed. */
    for (size_t p = 0; p < np; p++) {
        if (p == b)
            continue;
        if (analysis_seed_pairs(in->trials, in->n_trials, p, in->trials, in->n_trials, b,
                                &xa[p], &xb[p], &npairs[p]))
            goto fail;
        if (npairs[p] > 0)
            out->n_compared++;
        if (npairs[p] > out->max_pairs)
            out->max_pairs = npairs[p];
    }
    if (analysis_compare_family(np, (const double *const *)xa, (const double *const *)xb,
                                npairs, o, cmp))
        goto fail;
    for (size_t p = 0; p < np; p++) {
        analysis_point *pt = &out->points[p];
        if (p != b)
            pt->vs_best = cmp[p];
        pt->sufficient = p == b || (pt->vs_best.compared && pt->vs_best.p_w_holm >= o->alpha);
    }
    for (size_t r = 0; r < np; r++) {
        size_t p = in->order ? in->order[r] : r;
        if (out->points[p].sufficient) {
            out->smallest_sufficient = p;
            break;
        }
    }
    for (size_t r = np; r-- > 0;) {
        size_t p = in->order ? in->order[r] : r;
        if (out->points[p].summary.n == 0)
            continue;
        if (!out->points[p].sufficient)
            break;
        out->sufficient_from = p;
    }
finish:
    for (size_t p = 0; p < np; p++) {
        free(xa[p]);
        free(xb[p]);
    }
    free(xa);
    free(xb);
    free(npairs);
    free(cmp);
    free(rank);
    free(keep);
    return 0;
fail:
    if (xa && xb)
        for (size_t p = 0; p < np; p++) {
            free(xa[p]);
            free(xb[p]);
        }
    free(xa);
    free(xb);
    free(npairs);
    free(cmp);
    free(rank);
    free(keep);
    analysis_result_free(out);
    out->best = out->smallest_sufficient = out->sufficient_from = ANALYSIS_NONE;
    return -1;
}
