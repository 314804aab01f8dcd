/* test_analysis: per-point statistics, the best point, Holm across the
 * comparisons, the smallest sufficient point, the convergence epoch and the
 * store round trip (analysis_store_write, the smallest_sufficient_point
 * view), on hand-made arrays whose answers are worked out by hand in the
 * comments. The exact Wilcoxon p-values used: n nonzero differences all of
 * one sign give p = 2 / 2^n (6: 0.03125, 8: 0.0078125); with 8 differences
 * of which only the smallest |d| has the other sign, W = 1 and
 * p = 2 * 2 / 256 = 0.015625. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "analysis.h"

#define MAXT 64

/* |got - want| <= tol (NaN never passes); cmocka 1.1 has no double assert. */
static void near(double got, double want, double tol, int line)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("line %d: got %.17g, want %.17g (tolerance %g)\n", line, got, want, tol);
        _fail(__FILE__, line);
    }
}
#define assert_double_equal(a, b, e) near((a), (b), (e), __LINE__)

/* A trial list under construction. */
typedef struct trials {
    size_t n;
    analysis_trial t[MAXT];
} trials;

static void add(trials *l, size_t point, uint64_t seed, double value)
{
    assert_true(l->n < MAXT);
    l->t[l->n++] = (analysis_trial){.point = point, .seed = seed, .done = 1, .value = value,
                                    .overfit_gap = NAN};
}

static void run(const trials *l, size_t np, const size_t *order, int higher,
                analysis_result *r)
{
    analysis_input in = {np, order, higher, l->n, l->t, NULL};
    assert_int_equal(analysis_run(&in, r), 0);
}

/* Summaries by hand; a trial that is not done does not count. */
static void test_summary(void **state)
{
    (void)state;
    trials l = {0};
    add(&l, 0, 0, 0.6);
    add(&l, 0, 1, 0.8);
    add(&l, 0, 2, 0.7);
    add(&l, 0, 3, 0.1);
    l.t[3].done = 0;
    analysis_result r;
    run(&l, 1, NULL, 1, &r);
    const stats_summary *u = &r.points[0].summary;
    assert_int_equal(u->n, 3);
    assert_double_equal(u->mean, 0.7, 1e-15);
    assert_double_equal(u->median, 0.7, 0);
    assert_double_equal(u->min, 0.6, 0);
    assert_double_equal(u->max, 0.8, 0);
    assert_double_equal(u->std, 0.1, 1e-15); /* sqrt((0.01 + 0 + 0.01) / 2) */
    assert_true(u->ci_lo >= 0.6 - 1e-12 && u->ci_hi <= 0.8 + 1e-12 && u->ci_lo < u->ci_hi);
    assert_int_equal(r.best, 0);
    assert_int_equal(r.smallest_sufficient, 0);
    assert_int_equal(r.n_compared, 0);
    analysis_result_free(&r);
}

/* The best mean wins; exact ties go to the lower index, for both
 * directions; a point without values is never best. */
static void test_best_and_ties(void **state)
{
    (void)state;
    trials l = {0};
    double v[4][2] = {{0.5, 0.5}, {0.8, 0.8}, {0.8, 0.8}, {NAN, NAN}};
    for (size_t p = 0; p < 4; p++)
        for (uint64_t s = 0; s < 2; s++)
            add(&l, p, s, v[p][s]);
    analysis_result r;
    run(&l, 4, NULL, 1, &r);
    assert_int_equal(r.best, 1);
    assert_true(r.points[1].is_best && !r.points[2].is_best);
    assert_int_equal(r.points[3].summary.n, 0);
    assert_false(r.points[3].sufficient);
    analysis_result_free(&r);
    /* Lower is better: 0.5 is the best; reversed order of the ties. */
    run(&l, 4, NULL, 0, &r);
    assert_int_equal(r.best, 0);
    analysis_result_free(&r);
    for (size_t i = 0; i < l.n; i++)
        if (l.t[i].point == 0)
            l.t[i].value = 0.9;
    run(&l, 4, NULL, 0, &r);
    assert_int_equal(r.best, 1); /* 0.8 at points 1 and 2: the lower index */
    analysis_result_free(&r);
    /* Nothing has a value: no best, no answer. */
    trials e = {0};
    add(&e, 0, 0, NAN);
    run(&e, 2, NULL, 1, &r);
    assert_int_equal(r.best, ANALYSIS_NONE);
    assert_int_equal(r.smallest_sufficient, ANALYSIS_NONE);
    assert_int_equal(r.sufficient_from, ANALYSIS_NONE);
    analysis_result_free(&r);
}

/* Pairs are the common seeds done in both, in seed order. */
static void test_seed_pairs(void **state)
{
    (void)state;
    trials l = {0};
    add(&l, 0, 5, 0.5);
    add(&l, 0, 1, 0.6);
    add(&l, 0, 2, 0.7); /* seed 2 not done at point 1 */
    add(&l, 0, 9, NAN); /* no value */
    add(&l, 1, 1, 0.9);
    add(&l, 1, 5, 0.8);
    add(&l, 1, 2, 1.0);
    l.t[6].done = 0;
    add(&l, 1, 9, 0.9);
    add(&l, 1, 3, 1.0); /* seed 3 only at point 1 */
    add(&l, 1, 1, 0.1); /* a second seed 1: the first one counts */
    double *a, *b;
    size_t n;
    assert_int_equal(analysis_seed_pairs(l.t, l.n, 0, l.t, l.n, 1, &a, &b, &n), 0);
    assert_int_equal(n, 2);
    assert_double_equal(a[0], 0.6, 0); /* seed 1 */
    assert_double_equal(b[0], 0.9, 0);
    assert_double_equal(a[1], 0.5, 0); /* seed 5 */
    assert_double_equal(b[1], 0.8, 0);
    free(a);
    free(b);
    /* In the analysis: point 1 is best (0.9, 0.8, 0.9, 1.0: the second seed
     * 1 does not count; mean 0.9 > 0.6), point 0 minus it over seeds 1 and
     * 5: (-0.3 + -0.3) / 2. */
    analysis_result r;
    run(&l, 2, NULL, 1, &r);
    assert_int_equal(r.best, 1);
    assert_int_equal(r.points[1].summary.n, 4);
    assert_double_equal(r.points[1].summary.mean, 0.9, 1e-15);
    assert_int_equal(r.points[0].vs_best.paired.n, 2);
    assert_double_equal(r.points[0].vs_best.paired.mean_diff, -0.3, 1e-15);
    assert_false(r.points[1].vs_best.compared);
    /* two pairs: the Wilcoxon test cannot reach 0.05 (min p = 2 / 4 = 0.5) */
    assert_true(r.points[0].vs_best.underpowered);
    assert_double_equal(r.points[0].vs_best.paired.w.min_p, 0.5, 0);
    assert_true(r.points[0].sufficient);
    analysis_result_free(&r);
}

/* Holm across the points, the smallest sufficient point in the caller's
 * order, and sufficient_from.
 *   best, point 3: 1.0 at seeds 0..7
 *   point 0: 6 seeds, all below (d = -0.1 .. -0.6): p = 0.03125
 *   point 1: the same shape: p = 0.03125
 *   point 2: 8 seeds, all below: p = 0.0078125
 * Holm (k = 3): p sorted 0.0078125 (point 2), 0.03125, 0.03125:
 *   point 2: 3 * 0.0078125 = 0.0234375; points 0, 1: max(0.0234375,
 *   2 * 0.03125) = 0.0625 (ties get the same value). So point 2 is
 *   significantly worse (0.0234 < 0.05), points 0 and 1 are not, although
 *   their raw p (0.03125) is below 0.05. */
static void test_holm_and_smallest(void **state)
{
    (void)state;
    trials l = {0};
    for (uint64_t s = 0; s < 8; s++)
        add(&l, 3, s, 1.0);
    for (uint64_t s = 0; s < 6; s++) {
        add(&l, 0, s, 1.0 - 0.1 * (double)(s + 1));
        add(&l, 1, s, 0.95 - 0.05 * (double)(s + 1));
    }
    for (uint64_t s = 0; s < 8; s++)
        add(&l, 2, s, 0.9 - 0.01 * (double)s);
    analysis_result r;
    run(&l, 4, NULL, 1, &r);
    assert_int_equal(r.best, 3);
    assert_int_equal(r.n_compared, 3);
    assert_int_equal(r.max_pairs, 8);
    assert_double_equal(r.points[0].vs_best.paired.w.p, 0.03125, 1e-15);
    assert_double_equal(r.points[1].vs_best.paired.w.p, 0.03125, 1e-15);
    assert_double_equal(r.points[2].vs_best.paired.w.p, 0.0078125, 1e-15);
    assert_double_equal(r.points[0].vs_best.p_w_holm, 0.0625, 1e-15);
    assert_double_equal(r.points[1].vs_best.p_w_holm, 0.0625, 1e-15);
    assert_double_equal(r.points[2].vs_best.p_w_holm, 0.0234375, 1e-15);
    assert_false(r.points[0].vs_best.underpowered); /* 6 pairs: min p 0.03125 */
    /* The t-test's family: Holm of the three raw p by the same rule. */
    double pt[3], adj[3];
    for (int p = 0; p < 3; p++)
        pt[p] = r.points[p].vs_best.paired.t.p;
    assert_int_equal(stats_holm(pt, 3, adj, NULL), 0);
    for (int p = 0; p < 3; p++)
        assert_double_equal(r.points[p].vs_best.p_t_holm, adj[p], 0);
    assert_true(r.points[0].sufficient && r.points[1].sufficient);
    assert_false(r.points[2].sufficient);
    assert_true(r.points[3].sufficient);
    /* index order 0, 1, 2, 3: point 0; from 3 on every point is */
    assert_int_equal(r.smallest_sufficient, 0);
    assert_int_equal(r.sufficient_from, 3);
    analysis_result_free(&r);

    size_t o1[] = {2, 1, 0, 3}; /* 2 is worse, then 1 */
    run(&l, 4, o1, 1, &r);
    assert_int_equal(r.smallest_sufficient, 1);
    assert_int_equal(r.sufficient_from, 1);
    assert_int_equal(r.points[2].rank, 0);
    analysis_result_free(&r);
    size_t o2[] = {2, 3, 0, 1}; /* the best comes right after the worse point */
    run(&l, 4, o2, 1, &r);
    assert_int_equal(r.smallest_sufficient, 3);
    assert_int_equal(r.sufficient_from, 3);
    analysis_result_free(&r);
    /* Not a permutation: refused. */
    size_t bad[] = {0, 0, 1, 2};
    analysis_input in = {4, bad, 1, l.n, l.t, NULL};
    assert_int_equal(analysis_run(&in, &r), -1);
    /* A trial outside the points: refused. */
    analysis_input in2 = {3, NULL, 1, l.n, l.t, NULL};
    assert_int_equal(analysis_run(&in2, &r), -1);
}

/* A point with no common seed with the best is not compared and not
 * sufficient, and leaves the Holm family. W = 1 case (one positive
 * difference, the smallest): p = 0.015625, alone in its family. */
/* The points computed by 3 threads are the points computed by one: every
 * figure equal bit for bit (each point's bootstrap has its own stream). */
static void test_threads(void **state)
{
    (void)state;
    trials l = {0};
    for (size_t p = 0; p < 6; p++)
        for (uint64_t s = 0; s < 10; s++) {
            add(&l, p, s, 0.5 + 0.04 * (double)p + 0.013 * (double)((s * 7 + p * 3) % 10));
            l.t[l.n - 1].overfit_gap = 0.01 * (double)((s + p) % 4);
        }
    analysis_options o1, o3;
    analysis_options_init(&o1);
    analysis_options_init(&o3);
    assert_int_equal(o1.threads, 1);
    o3.threads = 3;
    analysis_input in1 = {6, NULL, 1, l.n, l.t, &o1}, in3 = {6, NULL, 1, l.n, l.t, &o3};
    analysis_result a, b;
    assert_int_equal(analysis_run(&in1, &a), 0);
    assert_int_equal(analysis_run(&in3, &b), 0);
    assert_int_equal(a.best, b.best);
    assert_int_equal(a.smallest_sufficient, b.smallest_sufficient);
    assert_int_equal(a.n_compared, 5);
    for (size_t p = 0; p < 6; p++) {
        const analysis_point *x = &a.points[p], *y = &b.points[p];
        const double vx[] = {x->summary.mean, x->summary.median, x->summary.iqm,
                             x->summary.ci_lo, x->summary.ci_hi, x->gap.mean, x->gap.ci_lo,
                             x->gap.ci_hi, x->vs_best.paired.ci_lo, x->vs_best.paired.ci_hi,
                             x->vs_best.paired.w.p, x->vs_best.p_w_holm, x->vs_best.p_t_holm};
        const double vy[] = {y->summary.mean, y->summary.median, y->summary.iqm,
                             y->summary.ci_lo, y->summary.ci_hi, y->gap.mean, y->gap.ci_lo,
                             y->gap.ci_hi, y->vs_best.paired.ci_lo, y->vs_best.paired.ci_hi,
                             y->vs_best.paired.w.p, y->vs_best.p_w_holm, y->vs_best.p_t_holm};
        assert_memory_equal(vx, vy, sizeof vx);
        assert_int_equal(x->vs_best.compared, p != a.best);
        assert_true(isfinite(x->summary.ci_lo) && x->summary.ci_lo <= x->summary.mean);
    }
    analysis_result_free(&a);
    analysis_result_free(&b);
}

static void test_no_common_seed(void **state)
{
    (void)state;
    trials l = {0};
    for (uint64_t s = 0; s < 8; s++) {
        add(&l, 1, s, 1.0);
        add(&l, 0, s, s == 0 ? 1.001 : 0.9 - 0.01 * (double)s);
    }
    add(&l, 2, 100, 0.2); /* seed 100: only here */
    analysis_result r;
    run(&l, 3, NULL, 1, &r);
    assert_int_equal(r.best, 1);
    assert_int_equal(r.n_compared, 1);
    assert_double_equal(r.points[0].vs_best.paired.w.p, 0.015625, 1e-15);
    assert_double_equal(r.points[0].vs_best.p_w_holm, 0.015625, 1e-15);
    assert_false(r.points[2].vs_best.compared);
    assert_true(isnan(r.points[2].vs_best.p_w_holm));
    assert_false(r.points[2].sufficient);
    assert_int_equal(r.smallest_sufficient, 1);
    analysis_result_free(&r);
}

/* m = 1.0, 0.5, 0.3, 0.29, 0.295, 0.288, 0.2885 with rel 0.01:
 *   N=1: 1.0 - 0.288 > 0.01; N=2: 0.5 - 0.288 > 0.005;
 *   N=3: 0.3 - 0.288 = 0.012 > 0.003; N=4: 0.29 - 0.288 = 0.002 <= 0.0029. */
static const double curve[7] = {1.0, 0.5, 0.3, 0.29, 0.295, 0.288, 0.2885};

static void test_converged_epoch(void **state)
{
    (void)state;
    assert_int_equal(analysis_converged_epoch(curve, 7, 0.01), 4);
    /* A threshold of 5 %: N=3 (0.012 <= 0.015). */
    assert_int_equal(analysis_converged_epoch(curve, 7, 0.05), 3);
    /* Still falling by 10 % an epoch: N = E. */
    double fall[5] = {1.0, 0.9, 0.81, 0.729, 0.6561};
    assert_int_equal(analysis_converged_epoch(fall, 5, 0.01), 5);
    assert_int_equal(analysis_converged_epoch(fall, 0, 0.01), 0);
    double hole[3] = {1.0, NAN, 0.5};
    assert_int_equal(analysis_converged_epoch(hole, 3, 0.01), 0);
    /* A rising curve has converged at epoch 1. */
    double up[3] = {0.1, 0.2, 0.3};
    assert_int_equal(analysis_converged_epoch(up, 3, 0.01), 1);
}

/* Through analysis_run: the mean over seeds is the curve above (trials at
 * curve + 0.1 and curve - 0.1, and a longer one cut to the common length);
 * without validation loss the training loss is used. Overfit gap summary:
 * 0.1 and 0.3 give mean 0.2. */
static void test_curve_in_run(void **state)
{
    (void)state;
    double up[8], down[8], none[8], train[8];
    for (int e = 0; e < 7; e++) {
        up[e] = curve[e] + 0.1;
        down[e] = curve[e] - 0.1;
        none[e] = NAN;
        train[e] = 2 * curve[e];
    }
    up[7] = down[7] = 0.0; /* an 8th epoch of a longer trial */
    none[7] = NAN;
    train[7] = 0.0;
    trials l = {0};
    add(&l, 0, 0, 0.5);
    add(&l, 0, 1, 0.5);
    l.t[0].n_epochs = 7;
    l.t[0].val_loss = up;
    l.t[0].overfit_gap = 0.1;
    l.t[1].n_epochs = 8;
    l.t[1].val_loss = down;
    l.t[1].overfit_gap = 0.3;
    add(&l, 1, 0, 0.6);
    l.t[2].n_epochs = 7;
    l.t[2].val_loss = none;
    l.t[2].loss = train;
    analysis_result r;
    run(&l, 2, NULL, 1, &r);
    const analysis_point *p0 = &r.points[0], *p1 = &r.points[1];
    assert_int_equal(p0->curve_epochs, 7);
    assert_true(p0->curve_is_val);
    assert_int_equal(p0->converged_epoch, 4);
    assert_true(p0->converged);
    assert_double_equal(p0->curve_at_converged, 0.29, 1e-15);
    assert_int_equal(p0->gap.n, 2);
    assert_double_equal(p0->gap.mean, 0.2, 1e-15);
    /* training loss 2 * curve: the same epoch (the rule is relative) */
    assert_false(p1->curve_is_val);
    assert_int_equal(p1->converged_epoch, 4);
    assert_int_equal(p1->gap.n, 0);
    analysis_result_free(&r);
}

/* ---- the store round trip --------------------------------------------------- */

static char tmpdir[256];
static char dbpath[300];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_analysis.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/t.db", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char p[340];
        snprintf(p, sizeof p, "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

static double query_num(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    double v = NAN;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Experiment 1: points {"h": 3} (point_index 0), {"h": 1} (1), {"h": 2} (2),
 * seeds 0..5. h=3 is best at 0.9; h=1 at 0.40..0.45 and h=2 at 0.80..0.85
 * are below it at every seed: raw p 0.03125 each, Holm 0.0625 >= 0.05, so
 * both are "not significantly worse", and the smallest by value is h=1
 * (point_index 1), not point_index 0. test_loss = 1 - accuracy gives the
 * same answer (lower is better). h=3's trials have the curve above as
 * val_loss: converged by epoch 4. No validation metrics: val_* have no
 * point_stats rows. */
static void fill(store *s)
{
    store_error err;
    assert_int_equal(store_exec(s,
        "INSERT INTO experiments(id, name, spec, spec_hash, created_at, sweep_dims) VALUES"
        " (1, 'lab', 'x', 'h', 't', '[\"h\"]'), (2, 'other', 'x', 'h', 't', '[]')", &err), 0);
    int h[3] = {3, 1, 2};
    int64_t id = 1;
    char sql[512];
    for (int p = 0; p < 3; p++)
        for (int seed = 0; seed < 6; seed++, id++) {
            double acc = h[p] == 3 ? 0.9 : (h[p] == 1 ? 0.40 : 0.80) + 0.01 * seed;
            snprintf(sql, sizeof sql,
                     "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index,"
                     " seed, params, status, test_accuracy, test_loss, overfit_gap) VALUES"
                     " (%lld, 1, 'k%lld', %lld, %d, %d, '{\"h\": %d}', 'done', %.17g, %.17g,"
                     " %s);"
                     "INSERT INTO trial_params VALUES (%lld, 'h', %d)",
                     (long long)id, (long long)id, (long long)id - 1, p, seed, h[p], acc,
                     1 - acc, h[p] == 3 ? "0.0005" : "NULL", (long long)id, h[p]);
            assert_int_equal(store_exec(s, sql, &err), 0);
            for (int e = 0; h[p] == 3 && e < 7; e++) {
                snprintf(sql, sizeof sql,
                         "INSERT INTO epochs(trial_id, epoch, loss, accuracy, val_loss, val_accuracy) VALUES (%lld, %d, 1.0, 0.5, %.17g, 0.5)",
                         (long long)id, e + 1, curve[e]);
                assert_int_equal(store_exec(s, sql, &err), 0);
            }
        }
    /* A failed trial does not count. */
    assert_int_equal(store_exec(s,
        "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
        " params, status, test_accuracy) VALUES (99, 1, 'f', 99, 1, 6, '{\"h\": 1}',"
        " 'failed', 0.99);"
        "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
        " params, status, test_accuracy, test_loss) VALUES (100, 2, 'o', 0, 0, 0, '{}', 'done',"
        " 0.5, 0.7)",
        &err), 0);
}

static void test_store_write(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    fill(s);
    analysis_experiment e;
    assert_int_equal(analysis_experiment_load(s, 1, &e, &err), 0);
    assert_int_equal(e.n_points, 3);
    assert_true(e.numeric_order);
    assert_int_equal(e.order[0], 1); /* h=1 is point 1 (point_index 1) */
    assert_string_equal(e.points[0].label, "h=3");
    analysis_result r;
    assert_int_equal(analysis_experiment_run(&e, ANALYSIS_TEST_ACCURACY, NULL, &r), 0);
    assert_int_equal(r.best, 0);
    assert_int_equal(r.smallest_sufficient, 1);
    assert_int_equal(r.points[1].summary.n, 6); /* the failed trial left out */
    analysis_result_free(&r);
    analysis_experiment_free(&e);
    assert_int_equal(analysis_experiment_load(s, 7, &e, &err), 1);

    /* Twice: the second write replaces the first. */
    assert_int_equal(analysis_store_write(s, 1, &err), 0);
    assert_int_equal(analysis_store_write(s, 2, &err), 0);
    assert_int_equal(analysis_store_write(s, 1, &err), 0);
    store_close(s);
    /* test_accuracy and test_loss (and train_*: NULL everywhere, so none),
     * 3 points each; 2 comparisons each. */
    assert_int_equal((int)query_num("SELECT COUNT(*) FROM point_stats WHERE experiment_id = 1"),
                     6);
    assert_int_equal(
        (int)query_num("SELECT COUNT(*) FROM point_comparisons WHERE experiment_id = 1"), 4);
    assert_int_equal((int)query_num("SELECT COUNT(*) FROM point_stats WHERE experiment_id = 2"),
                     2);
    assert_double_equal(query_num("SELECT mean FROM point_stats WHERE experiment_id = 1 AND"
                                  " metric = 'test_accuracy' AND point_index = 1"),
                        0.425, 1e-15);
    assert_double_equal(query_num("SELECT n_pairs FROM point_comparisons WHERE metric ="
                                  " 'test_accuracy' AND point_index = 2"), 6, 0);
    assert_double_equal(query_num("SELECT mean_diff FROM point_comparisons WHERE metric ="
                                  " 'test_accuracy' AND point_index = 2"), -0.075, 1e-14);
    assert_double_equal(query_num("SELECT p_w FROM point_comparisons WHERE metric ="
                                  " 'test_loss' AND point_index = 1"), 0.03125, 1e-15);
    assert_double_equal(query_num("SELECT p_w_holm FROM point_comparisons WHERE metric ="
                                  " 'test_loss' AND point_index = 1"), 0.0625, 1e-15);
    assert_double_equal(query_num("SELECT best_point_index FROM point_comparisons WHERE"
                                  " metric = 'test_loss' AND point_index = 1"), 0, 0);
    /* The view: h=1 for both metrics, the other experiment's only point. */
    assert_double_equal(query_num("SELECT point_index FROM smallest_sufficient_point WHERE"
                                  " experiment_id = 1 AND metric = 'test_accuracy'"), 1, 0);
    assert_double_equal(query_num("SELECT json_extract(params, '$.h') FROM"
                                  " smallest_sufficient_point WHERE experiment_id = 1 AND"
                                  " metric = 'test_loss'"), 1, 0);
    assert_double_equal(query_num("SELECT best_mean FROM smallest_sufficient_point WHERE"
                                  " experiment_id = 1 AND metric = 'test_loss'"), 0.1, 1e-15);
    assert_double_equal(query_num("SELECT COUNT(*) FROM smallest_sufficient_point"), 4, 0);
    /* Training rows: h=3 converged by epoch 4 of 7; the others no curve. */
    assert_double_equal(query_num("SELECT converged_epoch FROM point_training WHERE"
                                  " experiment_id = 1 AND point_index = 0"), 4, 0);
    assert_double_equal(query_num("SELECT curve_epochs FROM point_training WHERE"
                                  " experiment_id = 1 AND point_index = 0 AND curve ="
                                  " 'val_loss'"), 7, 0);
    assert_true(isnan(query_num("SELECT curve FROM point_training WHERE experiment_id = 1"
                                " AND point_index = 1")));
    assert_double_equal(query_num("SELECT gap_mean FROM point_training WHERE"
                                  " experiment_id = 1 AND point_index = 0"), 0.0005, 1e-15);
    /* Deleting the experiment deletes its statistics. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM experiments"
                                      " WHERE id = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_double_equal(query_num("SELECT COUNT(*) FROM point_stats"), 2, 0);
    assert_double_equal(query_num("SELECT COUNT(*) FROM point_training"), 1, 0);
}

/* A failed write changes nothing: a read-only store refuses and keeps the
 * old rows. */
static void test_store_write_readonly(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    fill(s);
    assert_int_equal(analysis_store_write(s, 1, &err), 0);
    store_close(s);
    s = store_open_readonly(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(analysis_store_write(s, 1, &err), -1);
    assert_true(strlen(err.message) > 0);
    store_close(s);
    assert_int_equal((int)query_num("SELECT COUNT(*) FROM point_stats WHERE experiment_id = 1"),
                     6);
}

static void test_metric_names(void **state)
{
    (void)state;
    for (int m = 0; m < ANALYSIS_N_METRICS; m++)
        assert_int_equal(analysis_metric_parse(analysis_metric_name((analysis_metric)m)), m);
    assert_int_equal(analysis_metric_parse("accuracy"), -1);
    assert_true(analysis_metric_higher_is_better(ANALYSIS_VAL_ACCURACY));
    assert_false(analysis_metric_higher_is_better(ANALYSIS_TRAIN_LOSS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_best_and_ties),
        cmocka_unit_test(test_seed_pairs),
        cmocka_unit_test(test_holm_and_smallest),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_no_common_seed),
        cmocka_unit_test(test_converged_epoch),
        cmocka_unit_test(test_curve_in_run),
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test_setup_teardown(test_store_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_write_readonly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
