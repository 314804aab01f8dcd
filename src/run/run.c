/* run: `runexp run`, from spec files to a summary. Everything that can be
 * wrong with the input is found first (parse and plan every spec, load
 * every dataset), then the database's writer lock is taken and the
 * database opened, then each plan is recorded, run and summarised. See
 * runner.h. */
#include "run_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <omp.h>

#include "analysis.h"
#include "plan_memory.h"
#include "text.h"

/* ---- shared helpers ----------------------------------------------------- */

double run_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void run_now_iso(char buf[RUN_ISO_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    if (strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        base[0] = '\0';
    snprintf(buf, RUN_ISO_LEN, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000L));
}

void run_say(FILE *f, const char *prefix, const char *text)
{
    fputs(prefix, f);
    text_fputs(text, f);
    fputc('\n', f);
}

const char *run_db_path(const char *given)
{
    if (given && given[0])
        return given;
    const char *env = getenv("RUNEXP_DB");
    return env && env[0] ? env : RUNNER_DEFAULT_DB;
}

store_status run_store_status(trial_status s)
{
    switch (s) {
    case TRIAL_DONE: return STORE_DONE;
    case TRIAL_DIVERGED: return STORE_DIVERGED;
    case TRIAL_INTERRUPTED: return STORE_INTERRUPTED;
    case TRIAL_PRUNED: return STORE_PRUNED;
    default: return STORE_FAILED;
    }
}

/* The worse of two exit codes: a database error, then an interruption,
 * then a failed trial. */
static int worse(int a, int b)
{
    static const int rank[] = {RUNNER_EXIT_OK, RUNNER_EXIT_FAILED, RUNNER_EXIT_INTERRUPTED,
                               RUNNER_EXIT_USAGE};
    int ra = 0, rb = 0;
    for (int i = 0; i < 4; i++) {
        ra = rank[i] == a ? i : ra;
        rb = rank[i] == b ? i : rb;
    }
    return ra >= rb ? a : b;
}

/* ---- --timings: a few counters, taken around the phases ----------------- */

enum { PH_PARSE, PH_DATA, PH_RECORD, PH_LOOP, PH_STATS, PH_SUMMARY, PH_N };
static const char *const phase_names[PH_N] = {
    "parse + plan", "data load", "database open + plan insert", "trials", "statistics",
    "summary + close"};

typedef struct run_timings {
    double t0;
    double ph[PH_N]; /* ms, summed over the specs of the run */
    size_t commits, most_waiting; /* the writer's (run_counts) */
    size_t pipe_builds, pipe_in_place, pipe_evicted; /* the data splits' (run_counts) */
} run_timings;

static void timings_print(const run_timings *tm, FILE *err)
{
    fputs("runexp: timings (ms of wall time)\n", err);
    for (int i = 0; i < PH_N; i++)
        fprintf(err, "  %-28s %9.2f\n", phase_names[i], tm->ph[i]);
    fprintf(err, "  %-28s %9.2f\n", "total", run_mono_ms() - tm->t0);
    fprintf(err, "runexp: the writer made %zu commits, at most %zu results waited\n", tm->commits,
            tm->most_waiting);
    fprintf(err, "runexp: the trials' data splits were built %zu times (%zu in the dataset's own "
                 "memory), %zu evicted to be rebuilt\n",
            tm->pipe_builds, tm->pipe_in_place, tm->pipe_evicted);
}

/* ---- one plan ----------------------------------------------------------- */

/* A plan's run: its record, what the store decided for each trial, and the
 * trials to run in the order to start them. */
typedef struct plan_run {
    const sweep_plan *p;
    run_record rec;
    int64_t exp;
    int64_t *ids;
    store_plan_action *act;
    size_t *pending, n_pending;
    char *shown; /* the experiment's name as printed */
} plan_run;

static void plan_run_free(plan_run *r)
{
    run_record_free(&r->rec);
    free(r->ids);
    free(r->act);
    free(r->pending);
    free(r->shown);
}

/* Said even with --quiet: it is where the results go, not progress. */
static void say_new_record(const plan_run *r, const store_experiment_outcome *oc, FILE *err)
{
    if (!oc->previous || oc->resumed)
        return;
    fprintf(err, "runexp: the spec of '%s' changed since experiment %lld (", r->shown,
            (long long)oc->previous);
    if (oc->dims_changed) {
        fputs("its sweep dimensions were ", err);
        text_fputs(oc->previous_dims, err);
        fputs(", now ", err);
        text_fputs(r->p->dims_json, err);
    } else {
        fputs("e.g. point ", err);
        text_fputs(oc->differing_params, err);
        fputs(" differs", err);
    }
    fprintf(err, "); recording in a new experiment %lld \u2014 the old results stay\n",
            (long long)r->exp);
}

/* Records the experiment and the whole plan, in plan order, before any
 * trial starts: trial ids follow the plan, not which thread finishes first.
 * What the database already holds decides which trials run. */
static int plan_begin(plan_run *r, const runner_options *o, const spec_document *doc,
                      int threads, store *db, FILE *err)
{
    size_t nt = r->p->n_trials ? r->p->n_trials : 1;
    r->ids = calloc(nt, sizeof *r->ids);
    r->act = calloc(nt, sizeof *r->act);
    r->pending = calloc(nt, sizeof *r->pending);
    if (!r->ids || !r->act || !r->pending ||
        run_record_make(&r->rec, doc, r->p, sweep_plan_dataset(r->p, 0), threads) ||
        !(r->shown = text_escape_dup(r->rec.info.name))) {
        fputs("runexp: out of memory\n", err);
        return RUNNER_EXIT_USAGE;
    }
    /* --shard: only this shard's trials are recorded and run. */
    size_t *map = NULL;
    if (o->shard_n && run_shard_filter(r->p, o->shard_k, o->shard_n, &r->rec, &map)) {
        fputs("runexp: out of memory\n", err);
        return RUNNER_EXIT_USAGE;
    }
    store_error serr;
    store_experiment_outcome oc;
    memset(&oc, 0, sizeof oc);
    if (store_experiment_begin(db, &r->rec.info, o->fresh, &r->exp, &oc, &serr) ||
        store_trials_prepare(db, r->exp, r->rec.n_trials, r->rec.trials, o->retry, r->ids,
                             r->act, &serr)) {
        run_say(err, "runexp: ", serr.message);
        free(map);
        return RUNNER_EXIT_USAGE;
    }
    if (map)
        run_shard_scatter(map, r->rec.n_trials, r->p->n_trials, r->ids, r->act);
    free(map);
    say_new_record(r, &oc, err);
    return RUNNER_EXIT_OK;
}

/* The trials to run, costliest first, and the line that announces them.
 * *jobs is lowered to the number of trials. RUNNER_EXIT_FAILED when some
 * failed trials are left as they are (no --retry). */
static int plan_pending(plan_run *r, const runner_options *o, int *jobs, FILE *err)
{
    size_t nt = r->p->n_trials, skipped_done = 0, skipped_failed = 0;
    for (size_t i = 0; i < nt; i++) {
        if (!r->ids[i])
            continue; /* another shard's (--shard) */
        if (r->act[i] == STORE_PLAN_SKIP_DONE)
            skipped_done++;
        else if (r->act[i] == STORE_PLAN_SKIP_FAILED)
            skipped_failed++;
        else
            r->pending[r->n_pending++] = i;
    }
    if (run_order_by_cost(r->p, r->pending, r->n_pending)) {
        fputs("runexp: out of memory\n", err);
        return RUNNER_EXIT_USAGE;
    }
    if (*jobs > (int)r->n_pending)
        *jobs = r->n_pending ? (int)r->n_pending : 1;
    if (!o->quiet) {
        if (o->shard_n)
            fprintf(err, "%s: shard %zu/%zu: %zu of the plan's", r->shown, o->shard_k,
                    o->shard_n, r->rec.n_trials);
        else
            fputs(r->shown, err);
        fprintf(err, "%s %zu trials, %zu to run on %d thread%s", o->shard_n ? "" : ":", nt,
                r->n_pending,
                *jobs, *jobs == 1 ? "" : "s");
        if (skipped_done)
            fprintf(err, "; skipped %zu trials already done", skipped_done);
        fputc('\n', err);
        if (skipped_failed)
            fprintf(err,
                    "%s: %zu failed, diverged or interrupted trials not rerun (use --retry)\n",
                    r->shown, skipped_failed);
    }
    return skipped_failed ? RUNNER_EXIT_FAILED : RUNNER_EXIT_OK;
}

/* Runs the pending trials and says how it went; the exit code of the loop. */
static int plan_loop(const plan_run *r, sweep_plan *owner, const runner_options *o, int jobs,
                     store *db, FILE *err, run_timings *tm)
{
    run_loop_job job = {.plan = r->p, .pending = r->pending, .n_pending = r->n_pending,
                        .ids = r->ids, .db = db, .jobs = jobs, .quiet = o->quiet, .err = err,
                        .stop = o->stop, .owner = owner};
    run_counts c;
    if (o->loop ? o->loop(&job, &c, o->loop_ctx) : run_loop(&job, &c)) {
        fputs("runexp: out of memory\n", err);
        return RUNNER_EXIT_USAGE;
    }
    tm->commits += c.n_commits;
    tm->pipe_builds += c.pipelines.builds;
    tm->pipe_in_place += c.pipelines.in_place;
    tm->pipe_evicted += c.pipelines.evicted;
    tm->most_waiting = c.most_waiting > tm->most_waiting ? c.most_waiting : tm->most_waiting;
    int code = RUNNER_EXIT_OK;
    if (c.store_failed) {
        run_say(err, "runexp: ", c.store_err.message);
        code = RUNNER_EXIT_USAGE;
    }
    int stopped = o->stop && atomic_load(o->stop);
    run_summary_counts(&c, r->shown, stopped, o->quiet, err);
    if (stopped)
        code = worse(code, RUNNER_EXIT_INTERRUPTED);
    if (c.n_failed || c.n_diverged)
        code = worse(code, RUNNER_EXIT_FAILED);
    return code;
}

/* The per-point statistics of experiment exp (analysis.h), after the
 * plan's last commit, unless those stored are current: only ANALYSIS_RUN_METRICS (test accuracy; each
 * metric costs about as much as the rest of the summary), `runexp compare
 * --metric` computes the others. An exit code. */
static int plan_stats(int64_t exp, store *db, int jobs, FILE *err, run_timings *tm)
{
    double t0 = run_mono_ms();
    store_error serr;
    /* A rerun that committed nothing new (a resume with nothing to do)
     * keeps what is stored: the statistics depend only on the done trials. */
    int rc = store_point_stats_current(db, exp, analysis_metric_name(ANALYSIS_TEST_ACCURACY),
                                       &serr);
    if (rc == 0)
        rc = analysis_store_write_metrics(db, exp, ANALYSIS_RUN_METRICS, jobs, &serr);
    else if (rc > 0)
        rc = 0;
    tm->ph[PH_STATS] += run_mono_ms() - t0;
    if (rc < 0) {
        run_say(err, "runexp: the statistics were not written: ", serr.message);
        return RUNNER_EXIT_USAGE;
    }
    return RUNNER_EXIT_OK;
}

/* One planned spec against the open database: record, pending trials,
 * loop, statistics, summary. Returns an exit code. */
static int run_plan(const runner_options *o, const spec_document *doc, sweep_plan *p,
                    store *db, const char *db_path, FILE *out, FILE *err, run_timings *tm)
{
    plan_run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    /* omp_get_max_threads() is OMP_NUM_THREADS when set, else the cores. */
    int jobs = o->jobs > 0 ? o->jobs : omp_get_max_threads();
    double t0 = run_mono_ms();
    int code = plan_begin(&r, o, doc, jobs, db, err);
    if (code == RUNNER_EXIT_OK && p->search.prune.enabled) {
        /* a pruned search: rung by rung (run_search.c) */
        if (jobs > (int)p->n_trials)
            jobs = p->n_trials ? (int)p->n_trials : 1;
        tm->ph[PH_RECORD] += run_mono_ms() - t0;
        double ts = run_mono_ms();
        code = run_search(p, r.ids, r.act, r.exp, r.shown, o, jobs, db, err);
        tm->ph[PH_LOOP] += run_mono_ms() - ts;
        if (code != RUNNER_EXIT_USAGE)
            code = worse(code, plan_stats(r.exp, db, jobs, err, tm));
        double t2 = run_mono_ms();
        if (code != RUNNER_EXIT_USAGE)
            run_summary_print(db, p, r.ids, r.exp, r.shown, db_path, out);
        tm->ph[PH_SUMMARY] += run_mono_ms() - t2;
        goto out;
    }
    if (code == RUNNER_EXIT_OK)
        code = plan_pending(&r, o, &jobs, err);
    double t1 = run_mono_ms();
    tm->ph[PH_RECORD] += t1 - t0;
    if (code == RUNNER_EXIT_USAGE)
        goto out;
    /* The OpenMP loop is the plan's last use of its datasets (its record
     * is made, the summary reads the database): it may take them over.
     * A search reads them again rung after rung; another loop (MPI) may
     * read them any time. */
    code = worse(code, plan_loop(&r, o->loop ? NULL : p, o, jobs, db, err, tm));
    tm->ph[PH_LOOP] += run_mono_ms() - t1;
    if (code != RUNNER_EXIT_USAGE)
        code = worse(code, plan_stats(r.exp, db, jobs, err, tm));
    double t2 = run_mono_ms();
    run_summary_print(db, p, r.ids, r.exp, r.shown, db_path, out);
    tm->ph[PH_SUMMARY] += run_mono_ms() - t2;
out:
    plan_run_free(&r);
    return code;
}

/* ---- the run ------------------------------------------------------------ */

/* Creates the database's directory (one level) when it is missing, so the
 * default results/runexp.db works in a fresh checkout. */
static int ensure_parent_dir(const char *path, FILE *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    int rc = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(err, "runexp: cannot create directory %s: %s\n", dir, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

/* The specs of a run, parsed and planned; each plan holds its datasets. */
typedef struct run_specs {
    size_t n;
    spec_document **docs;
    sweep_plan *plans;
    int *planned;
} run_specs;

static void run_specs_free(run_specs *s)
{
    for (size_t i = 0; s->docs && i < s->n; i++) {
        if (s->planned && s->planned[i])
            sweep_plan_free(&s->plans[i]);
        if (s->docs[i])
            spec_document_free(s->docs[i]);
    }
    free(s->docs);
    free(s->plans);
    free(s->planned);
}

/* Parses and plans every spec, reporting every problem of every spec.
 * 0, or -1 when any is bad. */
static int specs_plan(run_specs *s, char *const *paths, FILE *err)
{
    size_t n = s->n ? s->n : 1;
    s->docs = calloc(n, sizeof *s->docs);
    s->plans = calloc(n, sizeof *s->plans);
    s->planned = calloc(n, sizeof *s->planned);
    if (!s->docs || !s->plans || !s->planned) {
        fputs("runexp: out of memory\n", err);
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i < s->n; i++) {
        spec_diagnostics d;
        spec_diagnostics_init(&d);
        s->docs[i] = spec_document_load(paths[i], &d);
        if (s->docs[i] && sweep_plan_build(s->docs[i], &s->plans[i], &d) == 0)
            s->planned[i] = 1;
        if (!s->planned[i]) {
            if (d.n == 0)
                spec_diagnostics_add(&d, paths[i], 0, 0, "invalid spec");
            spec_diagnostics_print(&d, err);
            bad = 1;
        }
        spec_diagnostics_free(&d);
    }
    return bad ? -1 : 0;
}

/* Loads the datasets of every plan (a plan without trials is an error). */
static int specs_load_data(run_specs *s, char *const *paths, FILE *err)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->plans[i].n_trials == 0 || s->plans[i].n_points == 0) {
            fprintf(err, "%s: error: the spec has no trials\n", paths[i]);
            return -1;
        }
        if (run_plan_load_data(&s->plans[i], err))
            return -1;
    }
    return 0;
}

int runner_run(const runner_options *o, size_t n_specs, char *const *spec_paths, FILE *out,
               FILE *err)
{
    int code = RUNNER_EXIT_USAGE;
    run_timings tm;
    memset(&tm, 0, sizeof tm);
    tm.t0 = run_mono_ms();
    run_specs s;
    memset(&s, 0, sizeof s);
    s.n = n_specs;
    store *db = NULL;
    int lock_fd = -1;
    /* Everything that can be wrong with the input is found before the
     * database is opened: a bad spec never creates or touches it. */
    if (specs_plan(&s, spec_paths, err))
        goto out;
    /* The memory budget, before any dataset is loaded or the database is
     * touched (see plan_memory.h). */
    if (plan_memory_guard(s.plans, n_specs, (size_t)(o->jobs > 0 ? o->jobs : omp_get_max_threads()),
                          o->max_memory, err))
        goto out;
    double t1 = run_mono_ms();
    tm.ph[PH_PARSE] = t1 - tm.t0;
    if (specs_load_data(&s, spec_paths, err))
        goto out;
    double t2 = run_mono_ms();
    tm.ph[PH_DATA] = t2 - t1;
    const char *path = run_db_path(o->db_path);
    if (ensure_parent_dir(path, err))
        goto out;
    store_error serr;
    /* One writer per database file: a second runexp on it fails here, at
     * once and before anything is written, instead of running the same
     * trials again (SQLite alone would serialise the commits, not the
     * work). Taken after the specs are known to be valid. */
    lock_fd = store_writer_lock(path, &serr);
    if (lock_fd < 0) {
        run_say(err, "runexp: ", serr.message);
        goto out;
    }
    db = store_open(path, &serr);
    if (!db) {
        run_say(err, "runexp: ", serr.message);
        goto out;
    }
    tm.ph[PH_RECORD] = run_mono_ms() - t2;
    code = RUNNER_EXIT_OK;
    for (size_t i = 0; i < n_specs; i++) {
        code = worse(code, run_plan(o, s.docs[i], &s.plans[i], db, path, out, err,
                                    &tm));
        if (code == RUNNER_EXIT_USAGE || code == RUNNER_EXIT_INTERRUPTED)
            break;
    }
out:;
    double tc = run_mono_ms();
    store_close(db);
    store_writer_unlock(lock_fd); /* after the last commit and the close */
    tm.ph[PH_SUMMARY] += run_mono_ms() - tc;
    if (o->timings && db) {
        fflush(out);
        timings_print(&tm, err);
    }
    run_specs_free(&s);
    return code;
}
