/* runner: the run layer's public header: `runexp run` and `runexp reproduce`.
 *
 * A run: parse and plan every spec -> load the datasets -> take the
 * database's writer lock -> open the database -> for each plan: record the
 * experiment and the whole plan (status queued, plan order, so trial ids do
 * not depend on -j) -> run the pending trials -> print the summary.
 *
 * The trials run in one OpenMP loop (one trial per thread at a time, most
 * expensive first), each a call of the pure trial function (trial.h), so its
 * bits do not depend on the thread that runs it or on -j. Exactly one store
 * connection and one writer at a time: a trial's running mark and its result
 * go into a bounded queue that whichever thread holds the writer lock
 * drains, what it finds queued in one transaction (short trials' results
 * wait briefly for a batch; see run_loop.c). One runexp per database: the run holds store_writer_lock
 * from before the database is opened until it is closed. The files of the
 * layer are listed in run_internal.h. See README "Running" and "The
 * database".
 */
#ifndef RUNEXP_RUNNER_H
#define RUNEXP_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of runner_run / runner_reproduce (and of the CLI). */
#define RUNNER_EXIT_OK 0
#define RUNNER_EXIT_FAILED 1      /* some trial failed/diverged; reproduce: mismatch */
#define RUNNER_EXIT_USAGE 2       /* usage, spec, data or database errors */
#define RUNNER_EXIT_INTERRUPTED 130 /* SIGINT/SIGTERM: 128 + SIGINT, as shells do */

#define RUNNER_DEFAULT_DB "results/runexp.db"

struct run_loop_job;
struct run_counts;
/* A trial loop: trains job's pending trials and records each through the
 * job's store (run_internal.h); 0, or -1 when out of memory before any
 * trial started. */
typedef int (*runner_loop_fn)(const struct run_loop_job *job, struct run_counts *c,
                              void *ctx);

typedef struct runner_options {
    int jobs;          /* trials in parallel; 0 = OMP_NUM_THREADS or all cores */
    int fresh;         /* new experiment record instead of resuming */
    int retry;         /* rerun failed, diverged and interrupted trials */
    int quiet;         /* no progress on stderr */
    int timings;       /* print the phases' wall times on stderr at the end */
    const char *db_path;
    uint64_t max_memory; /* memory budget in bytes; 0 = the memory available */
    /* Set (by a signal handler) to stop: trials in flight end after their
     * current epoch and are recorded as interrupted. May be NULL. Read by
     * every worker thread, hence an atomic (lock-free, so a signal handler
     * may store to it: C11 7.14.1.1) rather than volatile sig_atomic_t,
     * which is safe only within one thread. */
    const atomic_int *stop;
    /* --shard K/N: run only shard K (1-based) of N of every plan (see
     * run_shard.c); shard_n = 0 runs the whole plan. */
    size_t shard_k, shard_n;
    /* The trial loop; NULL = the OpenMP loop (run_loop). Another runner
     * (the MPI one, run_mpi.c) plugs in here and reuses everything around
     * it: planning, the writer lock, the plan's record, resume, summary. */
    runner_loop_fn loop;
    void *loop_ctx;
} runner_options;

/* `runexp run`: parses and plans every spec (any problem: diagnostics on
 * err, exit 2, database not opened), refuses a plan whose memory estimate
 * exceeds the budget (plan_memory_guard: exit 2, database not opened),
 * loads each dataset once, takes the
 * database's writer lock (held by another runexp: exit 2 at once), opens or
 * creates the database, records the experiment and the plan, runs the
 * pending trials, prints the summary on out, and with o->timings the phase
 * times on err. Returns an exit code above. */
int runner_run(const runner_options *o, size_t n_specs, char *const *spec_paths,
               FILE *out, FILE *err);

/* `runexp reproduce`: re-runs stored trial id from the spec text it ran
 * from and compares result hashes. Opens the database read-only (never
 * writes, migrates or locks it; another schema version is refused). 0 match,
 * 1 mismatch (first difference printed), 2 error. */
int runner_reproduce(const char *db_path, int64_t trial_id, FILE *out, FILE *err);

#endif
