/* run_loop: the one parallel loop. OpenMP workers take the pending trials
 * one at a time and call trial_run; a trial's running mark and then its
 * result go into a queue that whichever thread holds the writer lock
 * drains, one transaction each on the one store connection, so no thread
 * waits for the database while another writes. See run_internal.h. */
#include "run_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "checked.h"
#include "text.h"

/* Work for the writer: a trial that starts (mark it running, so sqlite3
 * observers see it) or one that finished (record it). */
typedef struct queue_item {
    int finished; /* 0: running mark only */
    size_t ti;    /* plan trial index */
    trial_result t;
    double wall_ms;
    char started[RUN_ISO_LEN];
} queue_item;

/* State shared by the threads. qlock guards the queue (q, q_head, q_tail:
 * each trial's running mark, then its result), next and give_up; wlock
 * makes its holder the single writer: only the holder touches the store
 * connection, the counts and the progress line. */
typedef struct loop_shared {
    omp_lock_t qlock, wlock;
    queue_item *q;
    size_t q_head, q_tail;
    size_t next; /* the next of the pending trials to start */
    int give_up; /* a write failed: start no more trials */
    const run_loop_job *job;
    run_counts *c;
    double t_start;
    int tty;
} loop_shared;

static void progress(loop_shared *sh, const sweep_trial *tr, int64_t id, const queue_item *it)
{
    const run_loop_job *j = sh->job;
    const run_counts *c = sh->c;
    if (j->quiet)
        return;
    FILE *err = j->err;
    if (sh->tty) {
        double el = (run_mono_ms() - sh->t_start) / 1e3;
        double eta = c->finished ? el / (double)c->finished * (double)(c->total - c->finished)
                                 : 0;
        char bar[31];
        size_t fill = c->total ? 30 * c->finished / c->total : 30;
        for (size_t i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(err, "\r[%s] %zu/%zu  elapsed %.1fs  ETA %.1fs ", bar, c->finished, c->total,
                el, eta);
        if (c->finished == c->total)
            fputc('\n', err);
    } else {
        const trial_result *t = &it->t;
        fprintf(err, "trial %zu/%zu (id %lld, ", c->finished, c->total, (long long)id);
        text_fputs(j->plan->points[tr->point].params_json, err);
        fprintf(err, " seed %llu): %s", (unsigned long long)tr->seed,
                t->status == TRIAL_PRUNED ? "reached its rung" : trial_status_name(t->status));
        if (t->status == TRIAL_PRUNED) {
            fprintf(err, ", epoch %zu", t->epochs_run);
        } else if (t->status == TRIAL_DONE) {
            fprintf(err, ", test accuracy %.4f", t->accuracy[2]);
        } else if (t->error[0]) {
            fputs(": ", err);
            text_fputs(t->error, err);
        }
        fprintf(err, " (%.0f ms)\n", it->wall_ms);
    }
    fflush(err);
}

static void count(run_counts *c, trial_status s)
{
    c->finished++;
    switch (s) {
    case TRIAL_DONE: c->n_done++; break;
    case TRIAL_DIVERGED: c->n_diverged++; break;
    case TRIAL_INTERRUPTED: c->n_interrupted++; break;
    default: c->n_failed++; break;
    }
}

/* Writes one item; the caller is the writer. After a failed write nothing
 * more is written (the run ends with that error) and no trial starts. */
static void write_item(loop_shared *sh, queue_item *it)
{
    const run_loop_job *j = sh->job;
    run_counts *c = sh->c;
    const sweep_trial *tr = &j->plan->trials[it->ti];
    int64_t id = j->ids[it->ti];
    if (it->finished)
        c->epochs += it->t.epochs_run;
    if (!c->store_failed && it->finished && it->t.status == TRIAL_PRUNED && j->rung_result) {
        c->finished++;
        progress(sh, tr, id, it);
        j->rung_result(j->rung_user, it->ti, &it->t, it->started, it->wall_ms);
        return; /* the result is the search's now */
    }
    if (!c->store_failed) {
        int rc = it->finished
                     ? run_record_trial(j->db, id, &j->plan->points[tr->point].spec, &it->t,
                                        it->started, it->wall_ms, &c->store_err)
                     : store_trial_start(j->db, id, it->started, &c->store_err);
        if (rc) {
            c->store_failed = 1;
            omp_set_lock(&sh->qlock);
            sh->give_up = 1;
            omp_unset_lock(&sh->qlock);
        } else if (it->finished) {
            /* Only a committed trial is counted: the summary says what the
             * database holds (a full disk fails the commit). */
            count(c, it->t.status);
            progress(sh, tr, id, it);
        }
    }
    if (it->finished)
        trial_result_free(&it->t);
}

/* Writes queued items while this thread can be the writer. Non-blocking
 * (block = 0) from a worker: when another thread holds the writer lock, that
 * thread will find our item in the queue, so this one goes back to training
 * at once instead of waiting for the database. */
static void drain(loop_shared *sh, int block)
{
    for (;;) {
        if (block)
            omp_set_lock(&sh->wlock);
        else if (!omp_test_lock(&sh->wlock))
            return;
        for (;;) {
            queue_item *it = NULL;
            omp_set_lock(&sh->qlock);
            if (sh->q_head < sh->q_tail)
                it = &sh->q[sh->q_head++];
            omp_unset_lock(&sh->qlock);
            if (!it)
                break;
            write_item(sh, it);
        }
        omp_unset_lock(&sh->wlock);
        /* An item pushed between our last look and the unlock would have
         * found the lock taken: look once more. */
        omp_set_lock(&sh->qlock);
        int more = sh->q_head < sh->q_tail;
        omp_unset_lock(&sh->qlock);
        if (!more)
            return;
    }
}

/* The next pending trial to start, or -1: none left, a write failed or a
 * signal asked to stop (a trial not started stays queued for the next run). */
static long take_next(loop_shared *sh)
{
    const atomic_int *stop = sh->job->stop;
    omp_set_lock(&sh->qlock);
    long i = sh->next < sh->job->n_pending && !sh->give_up && !(stop && atomic_load(stop))
                 ? (long)sh->next++
                 : -1;
    omp_unset_lock(&sh->qlock);
    return i;
}

/* Appends an item (the slot is copied from *it). */
static void enqueue(loop_shared *sh, const queue_item *it)
{
    omp_set_lock(&sh->qlock);
    sh->q[sh->q_tail++] = *it;
    omp_unset_lock(&sh->qlock);
}

/* One worker: start trials until none is left. */
static void work(loop_shared *sh)
{
    const run_loop_job *j = sh->job;
    long i;
    while ((i = take_next(sh)) >= 0) {
        size_t ti = j->pending[i];
        const sweep_trial *tr = &j->plan->trials[ti];
        queue_item it;
        memset(&it, 0, sizeof it);
        it.ti = ti;
        run_now_iso(it.started);
        enqueue(sh, &it);
        drain(sh, 0);
        double t0 = run_mono_ms();
        /* Out of memory is a failed trial, recorded like any other. */
        (void)trial_run_until(&j->plan->points[tr->point].spec, tr->seed,
                              sweep_plan_dataset(j->plan, tr->point), j->stop, j->until, &it.t);
        it.wall_ms = run_mono_ms() - t0;
        it.finished = 1;
        enqueue(sh, &it);
        drain(sh, 0);
    }
}

int run_loop(const run_loop_job *job, run_counts *c)
{
    memset(c, 0, sizeof *c);
    c->total = job->n_pending;
    loop_shared sh;
    memset(&sh, 0, sizeof sh);
    /* Two items per trial: its running mark and its result. */
    size_t nq;
    sh.q = checked_mul(job->n_pending ? job->n_pending : 1, 2, &nq) ? calloc(nq, sizeof *sh.q)
                                                                     : NULL;
    if (!sh.q)
        return -1;
    sh.job = job;
    sh.c = c;
    sh.tty = isatty(fileno(job->err));
    omp_init_lock(&sh.qlock);
    omp_init_lock(&sh.wlock);
    sh.t_start = run_mono_ms();
    /* Threads share nothing but sh; each trial's data splits, model and RNG
     * streams are its own, so its bits do not depend on the thread. */
#pragma omp parallel num_threads(job->jobs)
    work(&sh);
    drain(&sh, 1); /* whatever is still queued */
    c->seconds = (run_mono_ms() - sh.t_start) / 1e3;
    omp_destroy_lock(&sh.qlock);
    omp_destroy_lock(&sh.wlock);
    free(sh.q);
    if (sh.tty && !job->quiet && c->finished < c->total)
        fputc('\n', job->err);
    return 0;
}

/* ---- the order of the pending trials ----------------------------------- */

typedef struct cost_idx {
    double cost;
    size_t idx;
} cost_idx;

static int cost_cmp(const void *a, const void *b)
{
    const cost_idx *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Starts the most expensive trials first (longest-processing-time-first):
 * with one trial per thread, a big trial started last would leave the
 * other threads idle at the end. The estimate is epochs x multiply-adds
 * per row. Only the order of execution changes; trial ids and results do
 * not depend on it. */
double run_trial_cost(const sweep_plan *p, size_t ti)
{
    const spec_experiment *e = &p->points[p->trials[ti].point].spec;
    double macs = 0, in = (double)e->model.n_inputs;
    for (size_t l = 0; l < e->model.n_layers; l++) {
        macs += in * (double)e->model.layers[l].units;
        in = (double)e->model.layers[l].units;
    }
    return (double)e->training.epochs * macs;
}

int run_order_by_cost(const sweep_plan *p, size_t *pending, size_t n)
{
    cost_idx *c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < n; i++) {
        c[i].cost = run_trial_cost(p, pending[i]);
        c[i].idx = pending[i];
    }
    qsort(c, n, sizeof *c, cost_cmp);
    for (size_t i = 0; i < n; i++)
        pending[i] = c[i].idx;
    free(c);
    return 0;
}
