/* run_search: a pruned search (search.prune), rung by rung.
 *
 * Rungs: epochs r_0 < r_1 < ... < r_K, r_k = min_epochs * eta^k while below
 * training.epochs, r_K = training.epochs (sweep_plan_rungs). Successive
 * halving is one bracket that starts at rung 0 with every point; Hyperband
 * has brackets b = 0..K, bracket b starting at rung b, the points split
 * among them in consecutive blocks of point order in proportion to
 * Hyperband's n_s = ceil((K + 1) / (s + 1) * eta^s), s = K - b (floors
 * first, then one more point to the brackets with the largest remainders,
 * ties to the lower bracket).
 *
 * At rung k < K every trial of every point still in a bracket (started at
 * or before k) is trained to r_k epochs, all of them in one run_loop (in
 * parallel, as the plain run), and only then decided: a point's score is
 * the mean over its seeds of the metric at epoch r_k (a trial that early
 * stopping ended sooner: its last epoch); a seed without a value (diverged
 * or failed before r_k) makes the score NaN. Per bracket, the points are
 * ranked by score (losses ascending, accuracies descending; NaN last;
 * ties to the lower point index) and the first max(1, ceil(n / eta)) of
 * the bracket's n points at that rung go on; the other points' trials are
 * stored as pruned (status 'pruned', pruned_rung, history and weights up
 * to r_k). A bracket down to one point decides nothing more: that point
 * goes straight to the last rung (no training to the rungs between). Every decision depends on the completed rung alone, never on
 * which trial finished first, so it is the same for any -j. At rung K the
 * survivors' trials run in full, exactly as a plain run would run them.
 *
 * Continuing to the next rung retrains the trial from its start to the next
 * rung's epochs: a trial is a pure function of (spec, seed), and stopping
 * at an epoch does not change the epochs before it, so the survivors end
 * with the very bits of a plain run. The cost: a survivor trains r_0 + r_1
 * + ... + r_K epochs instead of r_K (at most), at most eta / (eta - 1)
 * times as many (1.5x for eta 3), and nothing (weights, optimizer moments, RNG streams)
 * is held between rungs. The summary line counts every epoch trained.
 *
 * Resume: what the database knows is not trained again: a trial's
 * trial_rungs row, or the history of a trial that is done, diverged,
 * failed or pruned at a later epoch (store_rung_value). An interrupted
 * trial is trained again (a search cannot decide without it).
 */
#include "run_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static const char *const metric_cols[] = {"val_loss", "loss", "accuracy", "val_accuracy"};

/* The search's state: per trial its value at the current rung, what the
 * database says of it and the rung result it holds; per point its bracket
 * and whether it is still in. */
typedef struct search_state {
    const sweep_plan *p;
    const int64_t *ids;
    size_t nt, n_seeds;
    size_t rungs[SWEEP_MAX_RUNGS], nr;
    const char *metric;
    int higher;                 /* accuracies: higher is better */
    double *value;              /* per trial */
    int *known;
    store_status *status;
    trial_result **held;        /* rung results (TRIAL_PRUNED) not recorded yet */
    char (*started)[RUN_ISO_LEN];
    double *wall;
    size_t *bracket;            /* per point */
    unsigned char *in;          /* per point: still in its bracket */
    unsigned char *again;       /* per trial: to train to its rung again and record */
    size_t epochs;              /* epochs trained in this run */
    size_t n_recorded;          /* trials the loops recorded (done, failed, ...) */
    size_t n_done, n_failed, n_diverged, n_interrupted;
    int store_failed;
    store_error store_err;
} search_state;

static void hold(void *user, size_t ti, trial_result *t, const char *started, double wall_ms)
{
    search_state *s = user;
    trial_result *h = malloc(sizeof *h);
    if (!h) { /* kept nowhere: the trial is trained again when recorded */
        trial_result_free(t);
        return;
    }
    *h = *t;
    memset(t, 0, sizeof *t);
    if (s->held[ti]) {
        trial_result_free(s->held[ti]);
        free(s->held[ti]);
    }
    s->held[ti] = h;
    snprintf(s->started[ti], RUN_ISO_LEN, "%s", started);
    s->wall[ti] = wall_ms;
}

static void drop_held(search_state *s, size_t ti)
{
    if (!s->held[ti])
        return;
    trial_result_free(s->held[ti]);
    free(s->held[ti]);
    s->held[ti] = NULL;
}

/* The metric of history entry e of t (NaN when out of range). */
static double history_value(const trial_result *t, size_t epoch, int metric)
{
    if (!t->n_history)
        return NAN;
    const nn_epoch_log *l = &t->history[(epoch < t->n_history ? epoch : t->n_history) - 1];
    switch (metric) {
    case NN_MONITOR_VAL_LOSS: return l->val_loss;
    case NN_MONITOR_LOSS: return l->loss;
    case NN_MONITOR_ACCURACY: return l->accuracy;
    default: return l->val_accuracy;
    }
}

/* Trains trials[0..n) to `until` epochs (0: in full), in parallel; their
 * rung results are held. 0, or -1 when the loop could not start. */
static int train(search_state *s, size_t *trials, size_t n, size_t until, int jobs,
                 const runner_options *o, store *db, FILE *err)
{
    if (!n)
        return 0;
    if (run_order_by_cost(s->p, trials, n))
        return -1;
    run_loop_job job = {.plan = s->p, .pending = trials, .n_pending = n, .ids = s->ids,
                        .db = db, .jobs = jobs > (int)n ? (int)n : jobs, .quiet = o->quiet,
                        .err = err, .stop = o->stop, .until = until, .rung_result = hold,
                        .rung_user = s};
    run_counts c;
    if (run_loop(&job, &c))
        return -1;
    s->epochs += c.epochs;
    s->n_done += c.n_done;
    s->n_failed += c.n_failed;
    s->n_diverged += c.n_diverged;
    s->n_interrupted += c.n_interrupted;
    if (c.store_failed && !s->store_failed) {
        s->store_failed = 1;
        s->store_err = c.store_err;
    }
    return 0;
}

/* Reads what the database knows of trial ti at rung k. */
static int look_up(search_state *s, store *db, size_t ti, size_t k)
{
    store_error e;
    if (store_rung_value(db, s->ids[ti], k, s->rungs[k], s->metric, &s->value[ti],
                         &s->known[ti], &s->status[ti], &e)) {
        s->store_failed = 1;
        s->store_err = e;
        return -1;
    }
    return 0;
}

static int final_status(store_status st)
{
    return st == STORE_DONE || st == STORE_DIVERGED || st == STORE_FAILED;
}

typedef struct ranked {
    size_t point;
    double score;
    size_t n;
} ranked;

static int cmp_rank(const ranked *x, const ranked *y, int higher)
{
    int xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->score != y->score)
        return (higher ? x->score > y->score : x->score < y->score) ? -1 : 1;
    return (x->point > y->point) - (x->point < y->point);
}

static int cmp_ranked_low(const void *a, const void *b) { return cmp_rank(a, b, 0); }
static int cmp_ranked_high(const void *a, const void *b) { return cmp_rank(a, b, 1); }

/* Hyperband's split of n_points among the K + 1 brackets (see the top). */
static void hyperband_split(size_t n_points, size_t K, size_t eta, size_t *count)
{
    double want[SWEEP_MAX_RUNGS], total = 0;
    for (size_t b = 0; b <= K; b++) {
        size_t sidx = K - b;
        want[b] = ceil((double)(K + 1) / (double)(sidx + 1) * pow((double)eta, (double)sidx));
        total += want[b];
    }
    size_t used = 0;
    double frac[SWEEP_MAX_RUNGS];
    for (size_t b = 0; b <= K; b++) {
        double x = (double)n_points * want[b] / total;
        count[b] = (size_t)floor(x);
        frac[b] = x - floor(x);
        used += count[b];
    }
    while (used < n_points) {
        size_t best = 0;
        for (size_t b = 1; b <= K; b++)
            if (frac[b] > frac[best])
                best = b;
        count[best]++;
        frac[best] = -1;
        used++;
    }
}

/* Decides bracket b at rung k and records it: pruned trials, rung rows,
 * decisions. 0 or -1 (store error or out of memory). */
static int decide(search_state *s, size_t b, size_t k, int64_t exp, store *db)
{
    const sweep_plan *p = s->p;
    size_t np = 0;
    for (size_t pi = 0; pi < p->n_points; pi++)
        np += s->in[pi] && s->bracket[pi] == b;
    if (!np)
        return 0;
    ranked *r = calloc(np, sizeof *r);
    store_prune_decision *d = calloc(np, sizeof *d);
    store_rung_row *rows = calloc(np * s->n_seeds + 1, sizeof *rows);
    if (!r || !d || !rows) {
        free(r);
        free(d);
        free(rows);
        return -1;
    }
    size_t m = 0;
    for (size_t pi = 0; pi < p->n_points; pi++) {
        if (!s->in[pi] || s->bracket[pi] != b)
            continue;
        double sum = 0;
        size_t n = 0, nan = 0;
        for (size_t j = 0; j < s->n_seeds; j++) {
            double v = s->value[pi * s->n_seeds + j];
            if (isnan(v))
                nan++;
            else {
                sum += v;
                n++;
            }
        }
        r[m++] = (ranked){pi, nan || !n ? NAN : sum / (double)n, n};
    }
    qsort(r, np, sizeof *r, s->higher ? cmp_ranked_high : cmp_ranked_low);
    size_t eta = p->search.prune.eta, keep = (np + eta - 1) / eta;
    keep = keep ? keep : 1;
    size_t nrows = 0;
    int rc = 0;
    for (size_t q = 0; q < np; q++) {
        size_t pi = r[q].point;
        int promoted = q < keep;
        d[q] = (store_prune_decision){b, k, s->rungs[k], pi, p->points[pi].params_json,
                                      r[q].n, r[q].score, q + 1, promoted};
        for (size_t j = 0; j < s->n_seeds; j++) {
            size_t ti = pi * s->n_seeds + j;
            int pruned = 0;
            if (!promoted && s->held[ti]) {
                /* stopped at this rung for good: recorded as pruned */
                store_error e;
                trial_result *t = s->held[ti];
                if (run_record_trial(db, s->ids[ti], &p->points[pi].spec, t, s->started[ti],
                                     s->wall[ti], &e)) {
                    s->store_failed = 1;
                    s->store_err = e;
                    rc = -1;
                }
                pruned = 1;
            } else if (!promoted && s->status[ti] == STORE_PRUNED) {
                pruned = 1;
            } else if (!promoted && !final_status(s->status[ti])) {
                /* known from a rung row only (an earlier run promoted it
                 * under other settings): trained to r_k again and recorded
                 * as pruned by the caller */
                s->again[ti] = 1;
            }
            drop_held(s, ti);
            rows[nrows++] = (store_rung_row){s->ids[ti], k, s->rungs[k], s->value[ti], pruned};
        }
        if (!promoted)
            s->in[pi] = 0;
    }
    store_error e;
    if (!rc && store_prune_write(db, exp, s->metric, nrows, rows, np, d, &e)) {
        s->store_failed = 1;
        s->store_err = e;
        rc = -1;
    }
    free(r);
    free(d);
    free(rows);
    return rc;
}

static void state_free(search_state *s)
{
    for (size_t i = 0; s->held && i < s->nt; i++)
        drop_held(s, i);
    free(s->value);
    free(s->known);
    free(s->status);
    free(s->held);
    free(s->started);
    free(s->wall);
    free(s->bracket);
    free(s->in);
    free(s->again);
}

int run_search(const sweep_plan *p, const int64_t *ids, const store_plan_action *act,
               int64_t exp, const char *shown, const runner_options *o, int jobs, store *db,
               FILE *err)
{
    search_state s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.ids = ids;
    s.nt = p->n_trials;
    s.n_seeds = p->n_points ? p->n_trials / p->n_points : 0;
    s.nr = sweep_plan_rungs(p, s.rungs);
    int metric = p->search.prune.metric;
    s.metric = metric_cols[metric & 3];
    s.higher = metric == NN_MONITOR_ACCURACY || metric == NN_MONITOR_VAL_ACCURACY;
    size_t nt = s.nt ? s.nt : 1, npt = p->n_points ? p->n_points : 1;
    s.value = calloc(nt, sizeof *s.value);
    s.known = calloc(nt, sizeof *s.known);
    s.status = calloc(nt, sizeof *s.status);
    s.held = calloc(nt, sizeof *s.held);
    s.started = calloc(nt, sizeof *s.started);
    s.wall = calloc(nt, sizeof *s.wall);
    s.bracket = calloc(npt, sizeof *s.bracket);
    s.in = calloc(npt, 1);
    s.again = calloc(nt, 1);
    size_t *todo = calloc(nt, sizeof *todo);
    int code = RUNNER_EXIT_OK;
    if (!s.value || !s.known || !s.status || !s.held || !s.started || !s.wall || !s.bracket ||
        !s.in || !s.again || !todo || s.nr == 0) {
        fputs("runexp: out of memory\n", err);
        code = RUNNER_EXIT_USAGE;
        goto out;
    }
    const size_t K = s.nr - 1;
    /* the brackets */
    size_t n_brackets = 1;
    if (p->search.prune.method == SPEC_PRUNE_HYPERBAND) {
        size_t count[SWEEP_MAX_RUNGS];
        hyperband_split(p->n_points, K, p->search.prune.eta, count);
        for (size_t b = 0, pi = 0; b <= K; b++)
            for (size_t c = 0; c < count[b]; c++)
                s.bracket[pi++] = b;
        n_brackets = K + 1;
    }
    memset(s.in, 1, p->n_points);
    store_error e;
    if (store_prune_clear(db, exp, &e)) {
        s.store_failed = 1;
        s.store_err = e;
        goto end;
    }
    size_t done_before = 0;
    for (size_t i = 0; i < p->n_trials; i++)
        done_before += act[i] == STORE_PLAN_SKIP_DONE;
    if (!o->quiet) {
        fprintf(err, "%s: %zu trials; search: %s on %s, rungs at", shown, p->n_trials,
                n_brackets > 1 ? "hyperband" : "successive halving", s.metric);
        for (size_t k = 0; k < s.nr; k++)
            fprintf(err, "%s %zu", k ? "," : "", s.rungs[k]);
        fprintf(err, " epochs, eta %zu, %d thread%s", p->search.prune.eta, jobs,
                jobs == 1 ? "" : "s");
        if (done_before)
            fprintf(err, "; %zu trials already done", done_before);
        fputc('\n', err);
    }
    for (size_t k = 0; k < K; k++) {
        /* Every trial of a point still in a bracket started by rung k:
         * what the database knows, and the rest trained to r_k. */
        /* A bracket down to one point has nothing left to decide: its
         * point goes straight to the last rung. */
        size_t alive[SWEEP_MAX_RUNGS] = {0};
        for (size_t pi = 0; pi < p->n_points; pi++)
            alive[s.bracket[pi]] += s.in[pi];
        size_t n = 0;
        for (size_t ti = 0; ti < p->n_trials; ti++) {
            size_t pi = p->trials[ti].point;
            if (!s.in[pi] || s.bracket[pi] > k || alive[s.bracket[pi]] < 2)
                continue;
            if (look_up(&s, db, ti, k))
                goto end;
            if (!s.known[ti])
                todo[n++] = ti;
        }
        if (train(&s, todo, n, s.rungs[k], jobs, o, db, err)) {
            fputs("runexp: out of memory\n", err);
            code = RUNNER_EXIT_USAGE;
            goto out;
        }
        if (s.store_failed || (o->stop && atomic_load(o->stop)))
            goto end;
        /* The trials just trained: held at the rung, or recorded (early
         * stopping ended them, they diverged or failed). */
        for (size_t i = 0; i < n; i++) {
            size_t ti = todo[i];
            if (s.held[ti]) {
                s.value[ti] = history_value(s.held[ti], s.rungs[k], metric);
                s.known[ti] = 1;
                s.status[ti] = STORE_RUNNING;
            } else if (look_up(&s, db, ti, k)) {
                goto end;
            }
        }
        /* Each bracket started by rung k decides. */
        for (size_t b = 0; b <= k && b < n_brackets; b++)
            if (alive[b] >= 2 && decide(&s, b, k, exp, db))
                goto end;
        size_t m = 0;
        for (size_t ti = 0; ti < p->n_trials; ti++)
            if (s.again[ti]) {
                s.again[ti] = 0;
                todo[m++] = ti;
            }
        if (train(&s, todo, m, s.rungs[k], jobs, o, db, err)) {
            fputs("runexp: out of memory\n", err);
            code = RUNNER_EXIT_USAGE;
            goto out;
        }
        for (size_t i = 0; i < m && !s.store_failed; i++) {
            size_t ti = todo[i];
            trial_result *t = s.held[ti];
            if (!t)
                continue;
            if (run_record_trial(db, s.ids[ti], &p->points[p->trials[ti].point].spec, t,
                                 s.started[ti], s.wall[ti], &e) ||
                store_prune_write(db, exp, s.metric, 1,
                                  &(store_rung_row){s.ids[ti], k, s.rungs[k], s.value[ti], 1},
                                  0, NULL, &e)) {
                s.store_failed = 1;
                s.store_err = e;
            }
            drop_held(&s, ti);
        }
        if (s.store_failed || (o->stop && atomic_load(o->stop)))
            goto end;
    }
    /* The last rung: the survivors in full, as a plain run trains them;
     * not the trials whose training is over (done before, or ended by
     * early stopping, divergence or failure on the way; --retry has
     * queued the failed ones again). */
    {
        size_t n = 0;
        for (size_t ti = 0; ti < p->n_trials; ti++) {
            if (!s.in[p->trials[ti].point])
                continue;
            if (look_up(&s, db, ti, K))
                goto end;
            if (!final_status(s.status[ti]))
                todo[n++] = ti;
        }
        if (train(&s, todo, n, 0, jobs, o, db, err)) {
            fputs("runexp: out of memory\n", err);
            code = RUNNER_EXIT_USAGE;
            goto out;
        }
    }
end:;
    int stopped = o->stop && atomic_load(o->stop);
    if (s.store_failed) {
        run_say(err, "runexp: ", s.store_err.message);
        code = RUNNER_EXIT_USAGE;
    } else if (stopped) {
        fprintf(err, "%s: interrupted during the search: run the same command again to go on\n",
                shown);
        code = RUNNER_EXIT_INTERRUPTED;
    } else if (s.n_failed || s.n_diverged) {
        code = RUNNER_EXIT_FAILED;
    }
    if (!o->quiet) {
        size_t full = 0;
        for (size_t ti = 0; ti < p->n_trials; ti++)
            full += p->points[p->trials[ti].point].spec.training.epochs;
        size_t pruned = 0;
        for (size_t pi = 0; pi < p->n_points; pi++)
            pruned += !s.in[pi];
        fprintf(err,
                "%s: search trained %zu epochs in all (every trial to the end: %zu); %zu of %zu "
                "points pruned; %zu trials done, %zu failed, %zu diverged\n",
                shown, s.epochs, full, pruned, p->n_points, s.n_done, s.n_failed, s.n_diverged);
    }
out:
    free(todo);
    state_free(&s);
    return code;
}
