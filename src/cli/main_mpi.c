/* runexp-mpi: `mpirun -np N runexp-mpi [run options] SPEC...`: one run over
 * the ranks of an MPI job (src/run/run_mpi.h): rank 0 plans and is the one
 * writer of the database, ranks 1..N-1 train. Takes the options of
 * `runexp run` (cmd_run.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "cmd.h"
#include "run_mpi.h"
#include "runner.h"

int main(int argc, char **argv)
{
    int provided = MPI_THREAD_SINGLE;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
        fputs("runexp-mpi: MPI_Init_thread failed\n", stderr);
        return 2;
    }
    /* Errors are return codes, not an abort inside the library: rank 0
     * then says what happened and keeps what it committed. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    runner_options o;
    memset(&o, 0, sizeof o);
    char **specs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *specs);
    size_t n_specs = 0;
    if (!specs) {
        fputs("runexp-mpi: out of memory\n", stderr);
        MPI_Finalize();
        return 2;
    }
    /* Every rank reads the same command line; only rank 0 speaks about it. */
    int saved_err = -1;
    if (rank > 0) {
        fflush(stderr);
        saved_err = dup(2);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 2);
            close(devnull);
        }
    }
    int pc = cmd_run_parse(argc, argv, &o, specs, &n_specs);
    if (saved_err >= 0) {
        fflush(stderr);
        dup2(saved_err, 2);
        close(saved_err);
    }
    if (pc == 1 && rank == 0)
        fputs("runexp-mpi: run as `mpirun -np N runexp-mpi [run options] SPEC...` (N >= 2):\n"
              "rank 0 writes the database, ranks 1..N-1 train on -j threads each.\n",
              stdout);
    if (pc) {
        free(specs);
        MPI_Finalize();
        return pc == 1 ? 0 : pc;
    }
    if (size < 2) {
        fputs("runexp-mpi: needs at least 2 MPI ranks (mpirun -np 2 or more): rank 0 writes"
              " the database, the others train; on one machine `runexp run -j N` does the"
              " same\n", stderr);
        free(specs);
        MPI_Finalize();
        return 2;
    }
    cmd_signals saved;
    o.stop = cmd_signals_catch(&saved);
    int code, abort_job = 0;
    if (rank == 0)
        code = runner_mpi_lead(&o, n_specs, specs, stdout, stderr, &abort_job);
    else
        code = runner_mpi_work(&o, n_specs, specs, provided >= MPI_THREAD_MULTIPLE, stderr);
    cmd_signals_restore(&saved);
    free(specs);
    fflush(stdout);
    fflush(stderr);
    /* A lost rank never reaches MPI_Finalize: waiting for it would hang. */
    if (abort_job)
        MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    MPI_Finalize();
    return code;
}
