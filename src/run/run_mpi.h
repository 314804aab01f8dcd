/* run_mpi: `mpirun -np N runexp-mpi [run options] SPEC...`: one run over
 * the ranks of an MPI job, with one writer.
 *
 * Rank 0 (runner_mpi_lead) is `runexp run` with another trial loop plugged
 * in (runner_options.loop): it plans, takes the writer lock, records the
 * experiment and the plan, decides what resumes, and is the only process
 * that opens the database. Its loop hands the pending trials out one at a
 * time, costliest first, to whichever training thread asks, marks each
 * running when it is handed out and commits each result as it arrives.
 * The other ranks (runner_mpi_work) plan the same specs themselves (the
 * spec and data files must be readable there too), train on -j OpenMP
 * threads each, calling trial_run, and send each result back packed
 * (trial_pack.h). A task names its trial by key, so a rank whose files
 * differ fails the trial instead of training another one.
 *
 * Messages per trial: one task, one result. A stopped rank (SIGINT/SIGTERM)
 * sends back what its trials reached (recorded as interrupted) and asks
 * for nothing more. Whatever was committed stays when a rank dies; trials
 * in flight stay running in the database, and the next run redoes them.
 * See README "Running on a cluster".
 */
#ifndef RUNEXP_RUN_MPI_H
#define RUNEXP_RUN_MPI_H

#include <stddef.h>
#include <stdio.h>

#include "runner.h"

/* Rank 0: the run, with the training on the other ranks. Returns an exit
 * code of runner.h; *abort_job = 1 when the MPI job must be aborted
 * (a rank is lost: MPI_Finalize would wait for it). */
int runner_mpi_lead(const runner_options *o, size_t n_specs, char *const *spec_paths,
                    FILE *out, FILE *err, int *abort_job);

/* Ranks 1..N-1: plan the specs, then train what rank 0 hands out on
 * o->jobs threads (0 = OMP_NUM_THREADS or all cores; 1 when the MPI
 * library cannot take calls from several threads: thread_multiple = 0)
 * until rank 0 says stop. Returns an exit code. */
int runner_mpi_work(const runner_options *o, size_t n_specs, char *const *spec_paths,
                    int thread_multiple, FILE *err);

#endif
