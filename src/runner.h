/* runner: trains the trials of a plan in parallel and records them.
 *
 * One OpenMP loop over the pending trials (schedule(dynamic, 1), one trial
 * per thread, most expensive first); each trial owns its data splits, model
 * and RNG streams, so its bits do not depend on the thread that runs it or on
 * -j. Exactly one store connection and one writer at a time: a trial's
 * running mark and its result go into a queue that whichever thread holds the
 * writer lock drains, one transaction each, so no thread waits for the
 * database while another writes. The whole plan is recorded (status queued,
 * plan order) before the first trial starts, so trial ids do not depend on -j
 * either. One runexp per database: the run holds store_writer_lock from
 * before the database is opened until it is closed. See README "Running" and
 * "The database".
 */
#ifndef RUNEXP_RUNNER_H
#define RUNEXP_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "nn.h"
#include "spec.h"
#include "store.h"

/* Exit codes of runner_run / runner_reproduce (and of the CLI). */
#define RUNNER_EXIT_OK 0
#define RUNNER_EXIT_FAILED 1      /* some trial failed/diverged; reproduce: mismatch */
#define RUNNER_EXIT_USAGE 2       /* usage, spec, data or database errors */
#define RUNNER_EXIT_INTERRUPTED 130 /* SIGINT/SIGTERM: 128 + SIGINT, as shells do */

#define RUNNER_DEFAULT_DB "results/runexp.db"

typedef struct runner_options {
    int jobs;          /* trials in parallel; 0 = OMP_NUM_THREADS or all cores */
    int fresh;         /* new experiment record instead of resuming */
    int retry;         /* rerun failed, diverged and interrupted trials */
    int quiet;         /* no progress on stderr */
    int timings;       /* print where the time went (phases) on stderr at the end */
    const char *db_path;
    uint64_t max_memory; /* memory budget in bytes; 0 = the memory available */
    /* Set (by a signal handler) to stop: trials in flight end after their
     * current epoch and are recorded as interrupted. May be NULL. Read by
     * every worker thread, hence an atomic (lock-free, so a signal handler
     * may store to it: C11 7.14.1.1) rather than volatile sig_atomic_t,
     * which is safe only within one thread. */
    const atomic_int *stop;
} runner_options;

/* One trial's complete result, computed in memory by runner_trial_exec. */
typedef struct runner_trial {
    store_status status;     /* done, failed, diverged or interrupted */
    char error[512];
    size_t n_classes, n_layers;
    size_t layer_in[NN_MAX_LAYERS], layer_out[NN_MAX_LAYERS];
    size_t n_params;
    float *params;           /* final flat parameters (nn.h order) */
    size_t epochs_run, diverged_epoch;
    size_t n_history;
    nn_epoch_log *history;   /* preallocated for all epochs */
    size_t best_epoch;       /* 1-based, 0 = no validation */
    double overfit_gap;      /* NaN without validation */
    double loss[3], accuracy[3]; /* train, validation, test; NaN when empty */
    uint32_t *confusion[3];  /* k x k per split, NULL when not recorded */
    double *precision, *recall, *f1; /* test, per class */
    uint32_t *support;
    size_t grid_res;
    double grid_x0[2], grid_x1[2];
    uint8_t *grid;           /* res x res predicted classes, NULL when none */
    char hash[65];           /* result hash (see runner_trial_hash) */
    double wall_ms;
} runner_trial;

extern const char *const runner_split_names[3]; /* "train", "validation", "test" */

/* Runs one trial of experiment e with seed on the dataset source: data
 * pipeline (data seed = e->data.seed when given, else seed), initialisation
 * from rng_stream(seed, RNG_PURPOSE_INIT), fit with the shuffle stream
 * rng_stream(seed, RNG_PURPOSE_SHUFFLE), then evaluation, confusion matrices,
 * per-class figures, grid and hash. stop (may be NULL) is polled after each
 * epoch. Returns 0 with t->status set (failures are a status, not an error),
 * -1 only when out of memory before anything ran. Free with
 * runner_trial_free. */
int runner_trial_exec(const spec_experiment *e, uint64_t seed, const data_set *source,
                      const atomic_int *stop, runner_trial *t);
void runner_trial_free(runner_trial *t);

/* The result hash: hex SHA-256 over, in this order and all little-endian,
 *   1. the n_params float32 final parameters (per layer: kernel row-major
 *      (in x out), then bias), 4 bytes each;
 *   2. loss and accuracy on train, validation and test, 6 doubles
 *      (NaN, e.g. no validation set, hashed as the quiet NaN 0x7ff8000000000000);
 *   3. for each test class k = 0..K-1: precision, recall, F1, support, as doubles;
 *   4. for each epoch: loss, accuracy, val_loss, val_accuracy, as doubles.
 * Only done trials have one. */
void runner_trial_hash(const runner_trial *t, char hex[65]);

/* mean, sample standard deviation (n - 1; NaN for n < 2), min and max of
 * v[0..n), NaN entries skipped; *count = finite values used. */
void runner_stats(const double *v, size_t n, size_t *count, double *mean, double *std,
                  double *min, double *max);

/* `runexp run`: parses and plans every spec (any problem: diagnostics on
 * err, exit 2, database not opened), refuses a plan whose memory estimate
 * exceeds the budget (plan_memory_guard: exit 2, database not opened),
 * loads each dataset once, takes the
 * database's writer lock (held by another runexp: exit 2 at once), opens or
 * creates the database, records the experiment and the plan, runs the
 * pending trials, prints the summary on out, and with o->timings the phase
 * timings on err. Returns an exit code above. */
int runner_run(const runner_options *o, size_t n_specs, char *const *spec_paths,
               FILE *out, FILE *err);

/* `runexp reproduce`: re-runs stored trial id from the spec text it ran
 * from and compares result hashes. Opens the database read-only (never
 * writes, migrates or locks it; another schema version is refused). 0 match,
 * 1 mismatch (first difference printed), 2 error. */
int runner_reproduce(const char *db_path, int64_t trial_id, FILE *out, FILE *err);

#endif
