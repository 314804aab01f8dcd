/* run_internal: what the files of the run layer share. Not a public header:
 * only run.c, run_data.c, run_record.c, run_loop.c, run_summary.c,
 * reproduce.c (and their unit test) include it; everyone else uses runner.h.
 *
 * The run layer's data flow, one file per step:
 *   run.c          specs -> plans -> datasets -> writer lock -> database ->
 *                  per plan: record -> pending trials -> loop -> summary
 *   run_data.c     the datasets a plan trains on, each loaded once
 *   run_record.c   the experiment record (provenance) and the plan rows;
 *                  a trial_result handed to the store
 *   run_loop.c     the OpenMP workers calling trial_run, the single writer
 *   run_pipelines.c the loop's data splits, each distinct pipeline built once
 *   run_search.c   a pruned search: rung by rung, decisions, then the survivors
 *   run_summary.c  the per-point table and the end-of-run lines
 *   run_shard.c    --shard K/N: which trials of a plan are shard K's
 *   reproduce.c    `runexp reproduce`
 */
#ifndef RUNEXP_RUN_INTERNAL_H
#define RUNEXP_RUN_INTERNAL_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "runner.h"
#include "spec.h"
#include "store.h"
#include "sweep.h"
#include "trial.h"

/* ---- small shared helpers (run.c) -------------------------------------- */

#define RUN_ISO_LEN 48

/* Milliseconds of CLOCK_MONOTONIC. */
double run_mono_ms(void);
/* Now, as ISO-8601 UTC with milliseconds: "2024-01-01T00:00:00.000Z". */
void run_now_iso(char buf[RUN_ISO_LEN]);
/* Prints prefix, then text with what a terminal would act on escaped
 * (text.h), then a newline: for messages that quote a name, a value or a
 * label from the spec, the data or the database. */
void run_say(FILE *f, const char *prefix, const char *text);
/* The database path: given, else $RUNEXP_DB, else RUNNER_DEFAULT_DB. */
const char *run_db_path(const char *given);
/* The store's status for a trial's. */
store_status run_store_status(trial_status s);

/* ---- datasets (run_data.c) --------------------------------------------- */

/* Loads what plan p still needs of its datasets (the plan already holds
 * each CSV, read and hashed once while planning; the built-in sources are
 * loaded here, once per plan): afterwards sweep_plan_dataset gives every
 * point's. 0, or -1 with the diagnostic printed on err. */
int run_plan_load_data(sweep_plan *p, FILE *err);

/* ---- shared data pipelines (run_pipelines.c) ---------------------------- */

/* The splits of a trial loop's pending trials: each distinct (source,
 * pipeline, data seed, where the pipeline uses one) built once, by the
 * first worker that needs it, shared read-only by the trials that use it
 * and freed when the last of them is done; at most max_resident copies at
 * once, or more while they hold keep_bytes at most (plan_memory_pipeline's
 * figure for each): an idle one is evicted, and rebuilt later, when a new
 * one is needed beyond both bounds. With owner (the plan itself, which this loop is the last user
 * of) the sources are taken from the plan: a source read by one pipeline
 * only becomes that pipeline's memory (data_pipeline_build_in_place), the
 * others are freed once every trial reading them has its splits. Safe to
 * call from many threads. */
typedef struct run_pipelines run_pipelines;

typedef struct run_pipelines_stats {
    size_t slots;          /* distinct pipelines of the loop */
    size_t builds;         /* builds (a slot evicted and needed again builds again) */
    size_t in_place;       /* of which in the source's memory */
    size_t evicted;
    size_t most_resident;  /* copies held at once, at most */
    size_t resident, held, sources_held; /* now: copies, slots holding splits, sources */
} run_pipelines_stats;

/* What a trial gets: its splits, or why they could not be built. */
typedef struct run_pipeline_use {
    const data_splits *splits; /* NULL when failed */
    int failed;
    char error[512];
    size_t n_classes;          /* the source's */
} run_pipeline_use;

/* The table for pending[0..n) of plan p (datasets loaded), trial i of the
 * loop being position i. NULL when out of memory (or a source is not
 * loaded). */
run_pipelines *run_pipelines_new(const sweep_plan *p, sweep_plan *owner, const size_t *pending,
                                 size_t n_pending, size_t max_resident, uint64_t keep_bytes);
/* The splits of the trial at position pos, built now if needed (or waited
 * for, while another worker builds them); valid until its release. */
void run_pipelines_acquire(run_pipelines *c, size_t pos, run_pipeline_use *u);
/* The trial at pos is done with them (call once per acquire). */
void run_pipelines_release(run_pipelines *c, size_t pos);
void run_pipelines_get_stats(run_pipelines *c, run_pipelines_stats *st);
void run_pipelines_free(run_pipelines *c);

/* ---- the record of a run (run_record.c) -------------------------------- */

/* What store_experiment_begin and store_trials_prepare are given for one
 * plan: the experiment's provenance and one row per trial. Owns its arrays
 * and strings; points into doc and plan, which must outlive it. */
typedef struct run_record {
    store_experiment_info info;
    size_t n_trials;
    store_trial_plan *trials;
    size_t n_points;
    store_param **params;       /* per point: its sweep values */
    const char **point_params, **point_canonical;
    char created_at[RUN_ISO_LEN];
    char host[600], cpu_model[256];
    char base_dir[2 * PATH_MAX + 2]; /* a working directory and a relative one */
    char spec_hash[65];
} run_record;

/* Fills r for plan p of doc, run on `threads` threads; src0 gives the class
 * names. 0, or -1 when out of memory (r freed). */
int run_record_make(run_record *r, const spec_document *doc, const sweep_plan *p,
                    const data_set *src0, int threads);
void run_record_free(run_record *r);

/* Writes trial t (trial id, run from experiment e, started at started_at,
 * wall_ms long) to the store in one transaction. 0 or -1 with err. */
int run_record_trial(store *db, int64_t id, const spec_experiment *e, const trial_result *t,
                     const char *started_at, double wall_ms, store_error *err);

/* ---- the trial loop (run_loop.c) --------------------------------------- */

typedef struct run_loop_job {
    const sweep_plan *plan;  /* its datasets loaded (run_plan_load_data) */
    const size_t *pending;   /* plan trial indices, in the order to start them */
    size_t n_pending;
    const int64_t *ids;      /* trial id of each plan trial */
    store *db;               /* open; used by one thread at a time */
    int jobs;                /* threads, >= 1 */
    int quiet;
    FILE *err;               /* progress */
    const atomic_int *stop;  /* may be NULL */
    /* A search rung (run_search.c): train each trial for at most `until`
     * epochs (0: all) and hand each result that stopped there (status
     * TRIAL_PRUNED) to rung_result, called by the writer, which takes it
     * over, instead of recording it; every other result is recorded. */
    size_t until;
    void (*rung_result)(void *user, size_t trial, trial_result *t, const char *started_at,
                        double wall_ms);
    void *rung_user;
    size_t max_waiting;      /* results that may wait for the writer at once;
                              * 0 = the default (run_loop.c; their size is bounded too) */
    /* The plan itself (mutable) when this loop is the last use of its
     * datasets: the loop may take them over (run_pipelines). NULL: the
     * datasets are only read. */
    sweep_plan *owner;
} run_loop_job;

/* What the loop did: only trials committed to the database are counted. */
typedef struct run_counts {
    size_t total;            /* trials it was given */
    size_t finished, n_done, n_failed, n_diverged, n_interrupted;
    size_t epochs;           /* epochs trained by the trials it ran */
    double seconds;          /* wall time of the loop */
    int store_failed;        /* a write failed: no more trials were started */
    store_error store_err;
    size_t n_commits;        /* transactions the writer committed */
    size_t most_waiting;     /* the most results that waited for the writer at once */
    run_pipelines_stats pipelines; /* the loop's data splits */
} run_counts;

/* Reorders pending[0..n) of plan p, costliest first (see run_loop.c).
 * 0, or -1 when out of memory (order unchanged). */
int run_order_by_cost(const sweep_plan *p, size_t *pending, size_t n);
/* The expected cost of plan trial ti: epochs x multiply-adds per row. */
double run_trial_cost(const sweep_plan *p, size_t ti);

/* ---- shards (run_shard.c) ---------------------------------------------- */

/* shard[ti] (0-based, < n_shards) for every trial of plan p: a greedy
 * longest-processing-time-first split of the whole plan by run_trial_cost
 * (costliest first, each to the least loaded shard, ties to the lower
 * shard and the lower trial index). Depends on the plan only, never on a
 * database: every shard of a job array computes the same split. 0, or -1
 * when out of memory. */
int run_shard_assign(const sweep_plan *p, size_t n_shards, size_t *shard);

/* Keeps in r only the trials of shard k (1-based) of n_shards, in plan
 * order; *map (the caller frees it) gets the plan index of each kept row.
 * 0, or -1 when out of memory (r unchanged). */
int run_shard_filter(const sweep_plan *p, size_t k, size_t n_shards, run_record *r,
                     size_t **map);

/* Spreads ids[0..n_kept) and act[0..n_kept), filled for the kept rows, to
 * their plan positions map[i] in arrays of n_trials; the other trials get
 * id 0 (not in this shard). */
void run_shard_scatter(const size_t *map, size_t n_kept, size_t n_trials, int64_t *ids,
                       store_plan_action *act);

/* Trains job->pending on job->jobs threads and records each trial (its
 * running mark, then its result) through one writer, which commits what is
 * queued in batches; at most job->max_waiting results wait for it (a worker
 * that finds them waiting writes them before it starts another trial). 0,
 * or -1 when out of memory before any trial started. */
int run_loop(const run_loop_job *job, run_counts *c);

/* ---- a pruned search (run_search.c) ------------------------------------ */

/* Runs plan p's search (p->search.prune): the rungs, each a run_loop of the
 * trials that reached it, then the decisions, then the survivors' full
 * trials; see run_search.c and README "Search". act are store_trials_prepare's
 * actions, ids the trial ids of experiment exp. Says what it did on err and
 * returns an exit code (RUNNER_EXIT_*). */
int run_search(const sweep_plan *p, const int64_t *ids, const store_plan_action *act,
               int64_t exp, const char *shown, const runner_options *o, int jobs, store *db,
               FILE *err);

/* ---- the summary (run_summary.c) --------------------------------------- */

/* mean, sample standard deviation (n - 1; NaN for n < 2), min and max of
 * v[0..n), NaN entries skipped; *count = finite values used. */
void runner_stats(const double *v, size_t n, size_t *count, double *mean, double *std,
                  double *min, double *max);

/* The end-of-loop lines on err for the experiment shown as `shown`: what an
 * interruption left (always), and "ran N trials in S s" (unless quiet). */
void run_summary_counts(const run_counts *c, const char *shown, int stopped, int quiet,
                        FILE *err);

/* The per-point table of experiment exp on out (read back from db), then
 * where the results are and an example query. */
void run_summary_print(store *db, const sweep_plan *p, const int64_t *ids, int64_t exp,
                       const char *shown, const char *db_path, FILE *out);

#endif
