/* run_loop: the one parallel loop. OpenMP workers take the pending trials
 * one at a time and call trial_run; a trial's running mark and then its
 * result go into a bounded queue that whichever thread holds the writer lock
 * drains, everything it finds queued in one transaction (a batch), on the
 * one store connection, so no thread waits for the database while another
 * writes. See run_internal.h. */
#include "run_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "checked.h"
#include "plan_memory.h"
#include "text.h"

/* Results waiting for the writer, at most: enough for batches that amortise
 * a transaction, and for the other workers to go on training while the
 * writer's commit runs an SQLite checkpoint (10-40 ms, 60-250 results of
 * 5-epoch XOR trials at -j 2: with 64, a worker waited for the writer lock
 * about 50 times in a 50 000-trial run, 0.3-0.4 s in all); few enough that
 * memory stays flat (see push). */
#define RUN_QUEUE_RESULTS 256
#define RUN_QUEUE_BYTES ((size_t)32 << 20)
/* When results of short trials are written (see write_now). 64 5-epoch XOR
 * results are about 11 ms of training; a 50 000-trial run made 3 100 commits
 * with 16 (1.4 s of commits at -j 1), 800 with 64 (0.8 s). */
#define RUN_BATCH_RESULTS 64
#define RUN_BATCH_WAIT_MS 100.0
#define RUN_BATCH_TRIAL_MS 10.0

/* Work for the writer: a trial that starts (mark it running, so sqlite3
 * observers see it) or one that finished (record it). */
typedef struct queue_item {
    int finished; /* 0: running mark only */
    size_t ti;    /* plan trial index */
    trial_result t;
    double wall_ms;
    size_t bytes; /* what the result holds (finished items) */
    double queued_ms; /* run_mono_ms() when it was queued */
    char started[RUN_ISO_LEN];
} queue_item;

/* State shared by the threads. qlock guards the queue (a ring of cap slots:
 * q_n items from q_first, of which q_results are results holding q_bytes;
 * the batch the writer is writing stays counted until it is done), next
 * and give_up; wlock makes its holder the single writer: only the holder
 * touches the store connection, the counts and the progress line. */
typedef struct loop_shared {
    omp_lock_t qlock, wlock;
    queue_item *q;
    size_t cap, q_first, q_n, q_results, q_bytes;
    size_t max_results, max_bytes;
    int flush;   /* an item queued since the last batch must be written now */
    size_t next; /* the next of the pending trials to start */
    int give_up; /* a write failed: start no more trials */
    const run_loop_job *job;
    run_counts *c;
    run_pipelines *pipes; /* the trials' data splits, shared */
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

/* Writes one item; the caller is the writer. */
static int write_item(loop_shared *sh, const queue_item *it)
{
    const run_loop_job *j = sh->job;
    const sweep_trial *tr = &j->plan->trials[it->ti];
    int64_t id = j->ids[it->ti];
    run_counts *c = sh->c;
    if (it->finished && it->t.status == TRIAL_PRUNED && j->rung_result)
        return 0; /* a search rung's: the search records it (write_batch) */
    return it->finished ? run_record_trial(j->db, id, &j->plan->points[tr->point].spec, &it->t,
                                           it->started, it->wall_ms, &c->store_err)
                        : store_trial_start(j->db, id, it->started, &c->store_err);
}

/* Writes the n items from ring slot `first` (the caller is the writer):
 * one item in its own transaction, several in one batch. Only a committed
 * trial is counted and shown, so the summary says what the database holds
 * (a full disk fails the commit, and a failed batch keeps none of its
 * trials). After a failed write nothing more is written (the run ends with
 * that error) and no trial starts. The results are freed either way. */
static void write_batch(loop_shared *sh, size_t first, size_t n)
{
    const run_loop_job *j = sh->job;
    run_counts *c = sh->c;
    if (!c->store_failed) {
        int rc = n > 1 ? store_batch_begin(j->db, &c->store_err) : 0;
        /* A failed write inside a batch has rolled the batch back. */
        for (size_t k = 0; k < n && !rc; k++)
            rc = write_item(sh, &sh->q[(first + k) % sh->cap]);
        if (!rc && n > 1)
            rc = store_batch_commit(j->db, &c->store_err);
        c->n_commits += !rc;
        if (rc) {
            store_batch_rollback(j->db); /* when the failure was not the store's */
            c->store_failed = 1;
            omp_set_lock(&sh->qlock);
            sh->give_up = 1;
            omp_unset_lock(&sh->qlock);
        } else {
            for (size_t k = 0; k < n; k++) {
                queue_item *it = &sh->q[(first + k) % sh->cap];
                if (!it->finished)
                    continue;
                c->epochs += it->t.epochs_run;
                if (it->t.status == TRIAL_PRUNED && j->rung_result) {
                    /* stopped at its rung: the result is the search's now */
                    c->finished++;
                    progress(sh, &j->plan->trials[it->ti], j->ids[it->ti], it);
                    j->rung_result(j->rung_user, it->ti, &it->t, it->started, it->wall_ms);
                    memset(&it->t, 0, sizeof it->t);
                    continue;
                }
                count(c, it->t.status);
                progress(sh, &j->plan->trials[it->ti], j->ids[it->ti], it);
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        queue_item *it = &sh->q[(first + k) % sh->cap];
        if (it->finished)
            trial_result_free(&it->t);
    }
}

/* Whether the queue is due for a batch (the caller holds qlock): an item
 * in it must be written now (flush), or enough results wait, or the oldest
 * item has waited long enough (see write_now). */
static int due(const loop_shared *sh)
{
    return sh->q_n && (sh->flush || sh->q_results >= RUN_BATCH_RESULTS ||
                       run_mono_ms() - sh->q[sh->q_first].queued_ms >= RUN_BATCH_WAIT_MS);
}

/* Writes queued items while this thread can be the writer: everything
 * queued as one batch, again while the queue is due (block = 0) or not
 * empty (block = 1). Non-blocking (block = 0) from a worker: when another
 * thread holds the writer lock, that thread will find our items in the
 * queue, so this one goes back to training at once instead of waiting for
 * the database. Blocking at the end and when results wait at their bound
 * (push). */
static void drain(loop_shared *sh, int block)
{
    for (;;) {
        if (block)
            omp_set_lock(&sh->wlock);
        else if (!omp_test_lock(&sh->wlock))
            return;
        for (;;) {
            omp_set_lock(&sh->qlock);
            int go = block ? sh->q_n > 0 : due(sh);
            size_t first = sh->q_first, n = sh->q_n;
            if (go)
                sh->flush = 0; /* the batch holds everything queued */
            omp_unset_lock(&sh->qlock);
            if (!go)
                break;
            size_t results = 0, bytes = 0;
            for (size_t k = 0; k < n; k++) {
                const queue_item *it = &sh->q[(first + k) % sh->cap];
                results += it->finished != 0;
                bytes += it->bytes;
            }
            write_batch(sh, first, n);
            omp_set_lock(&sh->qlock);
            sh->q_first = (first + n) % sh->cap;
            sh->q_n -= n;
            sh->q_results -= results;
            sh->q_bytes -= bytes;
            omp_unset_lock(&sh->qlock);
        }
        omp_unset_lock(&sh->wlock);
        /* An item pushed between our last look and the unlock would have
         * found the lock taken: look once more. */
        omp_set_lock(&sh->qlock);
        int more = block ? sh->q_n > 0 : due(sh);
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

/* What a finished result holds in memory (an estimate of its allocations). */
static size_t result_bytes(const trial_result *t)
{
    size_t k = t->n_classes, b = sizeof *t;
    b += t->n_params * sizeof *t->params + t->n_history * sizeof *t->history;
    if (t->grid)
        b += t->grid_res * t->grid_res;
    for (int s = 0; s < 3; s++)
        if (t->confusion[s])
            b += k * k * sizeof(uint32_t);
    return b + k * (3 * sizeof(double) + sizeof(uint32_t));
}

/* Appends item a, then b (may be NULL), copied, in one step: a trial's
 * result and the running mark of the next trial the same worker starts go
 * into the same batch; urgent: they must be written now (see write_now).
 * Back-pressure: while the queue already holds its
 * bound of results (a count and a size), a worker with a result to queue
 * does not go on to its next trial but waits for the writer lock and writes
 * what is queued itself, so finished results never pile up in memory when
 * the writer falls behind. The ring has room for the bound of results plus
 * one running mark per result and per worker (see run_loop). */
static void push(loop_shared *sh, queue_item *a, const queue_item *b, int urgent)
{
    if (a->finished)
        a->bytes = result_bytes(&a->t);
    a->queued_ms = run_mono_ms();
    for (;;) {
        omp_set_lock(&sh->qlock);
        int room = !a->finished || sh->q_results == 0 ||
                   (sh->q_results < sh->max_results && sh->q_bytes + a->bytes <= sh->max_bytes);
        if (room) {
            sh->q[(sh->q_first + sh->q_n++) % sh->cap] = *a;
            sh->q_results += a->finished != 0;
            sh->q_bytes += a->bytes;
            if (sh->q_results > sh->c->most_waiting)
                sh->c->most_waiting = sh->q_results;
            if (b)
                sh->q[(sh->q_first + sh->q_n++) % sh->cap] = *b;
            sh->flush |= urgent;
            omp_unset_lock(&sh->qlock);
            return;
        }
        omp_unset_lock(&sh->qlock);
        drain(sh, 1);
    }
}

/* A running mark for plan trial ti, timed now. */
static void mark(queue_item *it, size_t ti)
{
    memset(it, 0, sizeof *it);
    it->ti = ti;
    run_now_iso(it->started);
}

/* Whether the result `it` a worker has just finished (and the running mark
 * of its next trial, when there is one) must be written at once, or may
 * wait for a batch. Writing every small result at once would cost the
 * writer as much as the training (each commit appends the same table roots
 * and last leaves to the WAL again), so the results of short trials are
 * gathered into batches, but never for long: the queue is written as soon
 * as it holds RUN_BATCH_RESULTS results or its oldest item has waited
 * RUN_BATCH_WAIT_MS (due), and at once after any trial that took
 * RUN_BATCH_TRIAL_MS or more (a long trial's result is committed when it
 * ends), after a trial that stopped before its last epoch (it may have been
 * short where the next one, of the same or a lower estimated cost since the
 * costliest start first, is not), and when the worker has no next trial or
 * a stop was asked. A crash (kill -9) loses the trials in flight and at
 * most the results still waiting; the summary counts only what was
 * committed. */
static int write_now(const loop_shared *sh, const queue_item *it, int has_next)
{
    const run_loop_job *j = sh->job;
    const spec_experiment *e = &j->plan->points[j->plan->trials[it->ti].point].spec;
    return !has_next || (j->stop && atomic_load(j->stop)) || it->wall_ms >= RUN_BATCH_TRIAL_MS ||
           it->t.status != TRIAL_DONE || it->t.epochs_run < e->training.epochs;
}

/* One worker: start trials until none is left. Each result is queued with
 * the running mark of the worker's next trial, so that mark costs no
 * transaction of its own (the first mark goes alone, at once). */
static void work(loop_shared *sh)
{
    const run_loop_job *j = sh->job;
    long i = take_next(sh);
    if (i < 0)
        return;
    queue_item it, next;
    mark(&next, j->pending[i]);
    push(sh, &next, NULL, 1);
    drain(sh, 0);
    while (i >= 0) {
        size_t ti = j->pending[i];
        const sweep_trial *tr = &j->plan->trials[ti];
        memset(&it, 0, sizeof it);
        it.ti = ti;
        memcpy(it.started, next.started, sizeof it.started); /* its running mark's */
        double t0 = run_mono_ms();
        /* Out of memory is a failed trial, recorded like any other. */
        const spec_experiment *e = &j->plan->points[tr->point].spec;
        run_pipeline_use u;
        run_pipelines_acquire(sh->pipes, (size_t)i, &u);
        if (u.failed)
            (void)trial_data_failed(e, u.n_classes, u.error, &it.t);
        else
            (void)trial_run_splits(e, tr->seed, u.splits, j->stop, j->until, &it.t);
        run_pipelines_release(sh->pipes, (size_t)i);
        it.wall_ms = run_mono_ms() - t0;
        it.finished = 1;
        i = take_next(sh);
        if (i >= 0)
            mark(&next, j->pending[i]);
        push(sh, &it, i >= 0 ? &next : NULL, write_now(sh, &it, i >= 0));
        drain(sh, 0);
    }
}


int run_loop(const run_loop_job *job, run_counts *c)
{
    memset(c, 0, sizeof *c);
    c->total = job->n_pending;
    loop_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.max_results = job->max_waiting ? job->max_waiting : RUN_QUEUE_RESULTS;
    sh.max_bytes = RUN_QUEUE_BYTES;
    /* The bound of results, a running mark after each, and each worker's
     * first mark or one left behind by a batch that took its result. */
    sh.cap = 2 * sh.max_results + 2 * (size_t)(job->jobs > 0 ? job->jobs : 1) + 2;
    sh.q = calloc(sh.cap, sizeof *sh.q);
    /* One copy of the splits per worker at once (as when each trial built
     * its own), fewer when trials share them, more while they are small. */
    sh.pipes = run_pipelines_new(job->plan, job->owner, job->pending, job->n_pending,
                                 (size_t)(job->jobs > 0 ? job->jobs : 1),
                                 PLAN_MEMORY_SPLITS_KEPT);
    if (!sh.q || !sh.pipes) {
        free(sh.q);
        run_pipelines_free(sh.pipes);
        return -1;
    }
    sh.job = job;
    sh.c = c;
    sh.tty = isatty(fileno(job->err));
    omp_init_lock(&sh.qlock);
    omp_init_lock(&sh.wlock);
    sh.t_start = run_mono_ms();
    /* Threads share nothing but sh; a trial's data splits are shared
     * read-only (built the same whoever builds them), its model and RNG
     * streams are its own, so its bits do not depend on the thread. */
#pragma omp parallel num_threads(job->jobs)
    work(&sh);
    drain(&sh, 1); /* whatever is still queued */
    c->seconds = (run_mono_ms() - sh.t_start) / 1e3;
    omp_destroy_lock(&sh.qlock);
    omp_destroy_lock(&sh.wlock);
    run_pipelines_get_stats(sh.pipes, &c->pipelines);
    run_pipelines_free(sh.pipes);
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
